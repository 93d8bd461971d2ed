//! The wallet's pages for people (the start of its portal): signing in or creating an account
//! (with the recovery code shown once), the carnet — one history per competency across
//! centres — and signing out. Server-rendered (askama), French by default, English on request;
//! forms carry the session's CSRF token.

use crate::WalletState;
use crate::carnet::{self, Carnet, claim_text as text};
use crate::credentials;
use crate::details::Declared;
use crate::vault::{Holder, PageHolder};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{
    Backend, Chrome, PageSession, Problem, QuestionToAnswer, SignedIn, date, date_of, day, field,
    multipart_form, render, see_other, show, sign_in_page,
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<WalletState> {
    carnet_service::web::sign_in_routes(CATALOG)
        .route("/", get(home))
        .route("/receive", post(receive))
        .route(
            "/receive/photo",
            post(receive_photo).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/shared", get(shared))
        .route("/profile", get(profile))
        .route("/profile/publish", get(publish_page).post(publish_submit))
        .route("/inbox", get(inbox))
        .route("/inbox/{publication}/{offer}/accept", post(accept))
        .route("/answer/{request}", post(answer))
        .route("/inbox/{publication}/chats/{chat}", get(chat))
        .route("/quizzes", get(quizzes))
        .route("/account", get(account))
        .route("/credentials", get(credentials_page))
        .route("/credentials/{id}", get(credential_page))
        .route("/backup", post(backup))
        .route(
            "/restore",
            post(restore).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/recover", get(recover))
}

/// The portal's texts, French and English.
pub const CATALOG: Catalog = &[
    ("brand", "Mon carnet", "My carnet"),
    ("portal", "Mon carnet", "My carnet"),
    (
        "sign_in.title",
        "Mon carnet de compétences",
        "My competency logbook",
    ),
    (
        "sign_in.intro",
        "Vos compétences validées par les centres de formation, signées, chez vous : vous choisissez ce que vous partagez.",
        "Your competencies, validated and signed by training centres, kept by you: you choose what you share.",
    ),
    ("sign_up.title", "Créer mon carnet", "Create my carnet"),
    (
        "sign_up.rule",
        "Au moins 10 caractères. Il chiffre votre carnet : nous ne pouvons pas le retrouver.",
        "At least 10 characters. It encrypts your carnet: we cannot recover it.",
    ),
    ("sign_up.submit", "Créer mon carnet", "Create my carnet"),
    (
        "welcome.title",
        "Votre carnet est prêt",
        "Your carnet is ready",
    ),
    (
        "welcome.recovery",
        "Voici votre code de secours. Il ouvre votre carnet si vous oubliez votre mot de passe : notez-le et gardez-le en lieu sûr.",
        "Here is your recovery code. It opens your carnet if you forget your password: write it down and keep it safe.",
    ),
    ("welcome.code", "Code de secours", "Recovery code"),
    (
        "welcome.once",
        "Il ne sera plus affiché.",
        "It will not be shown again.",
    ),
    ("welcome.continue", "Ouvrir mon carnet", "Open my carnet"),
    (
        "carnet.title",
        "Mon carnet de compétences",
        "My competency logbook",
    ),
    ("carnet.print", "Version imprimable", "Printable version"),
    (
        "carnet.export",
        "Télécharger toutes mes données",
        "Download all my data",
    ),
    ("carnet.competencies", "Compétences", "Competencies"),
    (
        "carnet.empty",
        "Aucune compétence pour l'instant : quand un centre valide une compétence, il vous donne un lien ou un QR code à ajouter ici.",
        "No competency yet: when a centre validates one, it gives you a link or a QR code to add here.",
    ),
    ("carnet.code", "Code", "Code"),
    ("carnet.current", "Niveau actuel :", "Current level:"),
    ("carnet.none", "aucun niveau valide", "no valid level"),
    ("carnet.history", "Historique", "History"),
    ("carnet.level", "Niveau", "Level"),
    ("carnet.date", "Date", "Date"),
    ("carnet.evaluator", "Évaluateur", "Evaluator"),
    ("carnet.establishment", "Établissement", "Establishment"),
    ("carnet.status", "Statut", "Status"),
    (
        "carnet.completions",
        "Attestations de fin de formation",
        "Completion certificates",
    ),
    (
        "receive.title",
        "Ajouter une attestation",
        "Add a credential",
    ),
    (
        "receive.intro",
        "Photographiez le QR code que le centre vous montre, ou collez le lien qu'il vous a envoyé, avec le code PIN s'il y en a un.",
        "Take a photo of the QR code the centre shows you, or paste the link it sent you, with the PIN if there is one.",
    ),
    (
        "receive.offer",
        "Lien reçu du centre",
        "Link from the centre",
    ),
    (
        "receive.or_link",
        "Ou coller le lien reçu",
        "Or paste the link received",
    ),
    ("receive.pin", "Code PIN (s'il y en a un)", "PIN (if any)"),
    ("receive.scan", "Scanner le QR code", "Scan the QR code"),
    (
        "receive.photo",
        "Photographier le QR code",
        "Take a photo of the QR code",
    ),
    (
        "receive.photo_submit",
        "Lire la photo et ajouter",
        "Read the photo and add",
    ),
    (
        "receive.not_picture",
        "Ce fichier n'est pas une photo JPEG ou PNG lisible.",
        "This file is not a readable JPEG or PNG photo.",
    ),
    (
        "receive.too_large",
        "Cette photo est trop grande : 16 mégapixels au plus (4 000 × 3 000 pixels, par exemple).",
        "This photo is too large: 16 megapixels at most (4,000 × 3,000 pixels, say).",
    ),
    (
        "receive.busy",
        "Trop de photos sont en cours de lecture : réessayez dans un instant.",
        "Too many photos are being read: try again in a moment.",
    ),
    (
        "receive.no_code",
        "Aucun QR code n'a pu être lu sur cette photo : cadrez-le de plus près, bien net, puis recommencez.",
        "No QR code could be read in this photo: take it closer and sharp, then try again.",
    ),
    ("receive.submit", "Ajouter à mon carnet", "Add to my carnet"),
    (
        "receive.failed",
        "Cette attestation n'a pas pu être ajoutée :",
        "This credential could not be added:",
    ),
    ("carnet.shared", "Ce que j'ai partagé", "What I shared"),
    ("shared.title", "Ce que j'ai partagé", "What I shared"),
    (
        "shared.intro",
        "Chaque partage, avec qui et quand, et les informations transmises : votre carnet le note, avec le reçu de consentement signé envoyé au destinataire.",
        "Every time you shared, with whom and when, and what was sent: your carnet notes it, with the signed consent receipt sent along.",
    ),
    (
        "shared.empty",
        "Vous n'avez encore rien partagé.",
        "You have not shared anything yet.",
    ),
    (
        "shared.fields",
        "informations transmises :",
        "details sent:",
    ),
    ("shared.with", "Partagé avec", "Shared with"),
    ("shared.on", "le", "on"),
    (
        "shared.recruiters_of",
        "les recruteurs de",
        "the recruiters of",
    ),
    (
        "shared.deleted",
        "une attestation supprimée depuis",
        "a credential deleted since",
    ),
    ("card.level", "niveau", "level"),
    ("detail.framework", "Code", "Code"),
    ("detail.value.trainer", "formateur", "trainer"),
    ("detail.value.manager", "gestionnaire", "manager"),
    ("detail.value.admin", "administrateur", "administrator"),
    ("detail:/name", "Nom", "Name"),
    (
        "detail:/competency/code",
        "Code de la compétence",
        "Competency code",
    ),
    ("detail:/competency/name", "Compétence", "Competency"),
    (
        "detail:/competency/description",
        "Description",
        "Description",
    ),
    ("detail:/level/label", "Niveau", "Level"),
    ("detail:/level/scale", "Échelle de niveaux", "Level scale"),
    (
        "detail:/level/rank",
        "Rang dans l'échelle",
        "Rank in the scale",
    ),
    (
        "detail:/level/value",
        "Niveau sur l'échelle commune",
        "Level on the common scale",
    ),
    ("detail:/validated_on", "Validée le", "Validated on"),
    ("detail:/evaluator/name", "Évaluée par", "Assessed by"),
    (
        "detail:/evaluator/role",
        "Rôle de l'évaluateur",
        "Assessor's role",
    ),
    ("detail:/establishment/name", "Centre", "Centre"),
    (
        "detail:/establishment/siret",
        "SIRET du centre",
        "Centre's SIRET",
    ),
    ("detail:/session/title", "Session", "Session"),
    (
        "detail:/session/starts_on",
        "Début de la session",
        "Session starts",
    ),
    (
        "detail:/session/ends_on",
        "Fin de la session",
        "Session ends",
    ),
    ("detail:/formation/title", "Formation", "Training"),
    (
        "detail:/formation/starts_on",
        "Début de la formation",
        "Training starts",
    ),
    (
        "detail:/formation/ends_on",
        "Fin de la formation",
        "Training ends",
    ),
    ("detail:/hours/planned", "Heures prévues", "Hours planned"),
    ("detail:/hours/attended", "Heures suivies", "Hours attended"),
    ("detail:/address/country", "Pays", "Country"),
    ("card.verified", "Vérifiée", "Verified"),
    ("credential.back", "← Mes attestations", "← My credentials"),
    ("credential.state", "Son état", "Its state"),
    (
        "credential.valid",
        "Signée par son émetteur, et ni révoquée ni suspendue à la dernière vérification.",
        "Signed by its issuer, and neither revoked nor suspended when last checked.",
    ),
    (
        "credential.unknown",
        "Son état n'a pas encore pu être vérifié auprès de son émetteur.",
        "Its state could not be checked with its issuer yet.",
    ),
    (
        "credential.not_valid",
        "Son émetteur ne la garantit plus : les recruteurs la verront comme telle.",
        "Its issuer no longer vouches for it: recruiters will see it as such.",
    ),
    ("credential.kind", "Nature", "Kind"),
    ("credential.expires", "Valable jusqu'au", "Valid until"),
    (
        "credential.contents",
        "Ce qu'elle contient",
        "What it contains",
    ),
    (
        "credential.contents.intro",
        "Quand vous la partagez, vous choisissez lesquelles de ces informations partent.",
        "When you share it, you choose which of these details go.",
    ),
    (
        "credential.shared",
        "Où elle a été partagée",
        "Where it was shared",
    ),
    (
        "credential.never_shared",
        "Vous ne l'avez encore partagée avec personne.",
        "You have not shared it with anyone yet.",
    ),
    (
        "credential.delete.what",
        "Elle disparaîtra de ce carnet et de votre profil auprès des recruteurs à la prochaine publication. Le centre garde la trace de l'avoir délivrée : il pourra vous la délivrer à nouveau.",
        "It will disappear from this carnet, and from your profile with recruiters at the next publication. The centre keeps the record of issuing it: it can issue it to you again.",
    ),
    (
        "credential.delete.confirm",
        "Oui, supprimer cette attestation",
        "Yes, delete this credential",
    ),
    ("nav.carnet", "Carnet", "Carnet"),
    ("nav.profile", "Profil", "Profile"),
    ("nav.inbox", "Offres", "Offers"),
    (
        "profile.title",
        "Mon profil pour les recruteurs",
        "My profile for recruiters",
    ),
    (
        "profile.intro",
        "Publiez vos compétences dans l'annuaire d'une plateforme de recrutement : les recruteurs voient votre nom et vos compétences, rien d'autre. Vous choisissez, offre par offre, ce que vous leur transmettez.",
        "Publish your competencies in a recruitment platform's directory: recruiters see your name and competencies, nothing else. Offer by offer, you choose what you pass on.",
    ),
    ("availability.title", "Ma disponibilité", "My availability"),
    ("availability.situation", "Situation", "Situation"),
    (
        "availability.from",
        "Disponible à partir du",
        "Available from",
    ),
    (
        "availability.regions",
        "Régions où je cherche",
        "Regions where I am looking",
    ),
    (
        "availability.contracts",
        "Contrats recherchés",
        "Contracts sought",
    ),
    ("availability.save", "Enregistrer", "Save"),
    ("seeking", "en recherche", "seeking"),
    ("in_training", "en formation", "in training"),
    ("employed", "en poste", "employed"),
    ("publish.title", "Publier mon profil", "Publish my profile"),
    (
        "publish.verifier",
        "Adresse de la plateforme de recrutement",
        "Address of the recruitment platform",
    ),
    ("publish.current", "Mes publications", "My publications"),
    (
        "publish.none",
        "Vous n'avez rien publié.",
        "You have published nothing.",
    ),
    (
        "publish.kept",
        "compétences publiées",
        "competencies published",
    ),
    (
        "publish.done",
        "Profil publié. Seules les informations que vous avez cochées ont été transmises à la plateforme.",
        "Profile published. Only what you ticked was sent to the platform.",
    ),
    (
        "publish.withdraw",
        "Retirer ce profil",
        "Withdraw this profile",
    ),
    (
        "publish.next",
        "Voir ce qui sera partagé…",
        "See what will be shared…",
    ),
    ("publish.again", "Republier…", "Publish again…"),
    (
        "consent.title",
        "Ce que vous partagez avec cette plateforme",
        "What you share with this platform",
    ),
    (
        "consent.intro",
        "La plateforme demande les informations ci-dessous. Seules celles que vous cochez lui seront transmises ; si elle en exige une que vous ne cochez pas, rien n'est publié.",
        "The platform asks for the details below. Only those you tick are sent; if it requires one you leave unticked, nothing is published.",
    ),
    ("consent.platform", "Plateforme :", "Platform:"),
    (
        "consent.competencies",
        "De vos attestations de compétence",
        "From your competency credentials",
    ),
    (
        "consent.identity",
        "De votre attestation d'identité",
        "From your identity credential",
    ),
    (
        "consent.required",
        "exigé par la plateforme",
        "required by the platform",
    ),
    ("consent.optional", "facultatif", "optional"),
    (
        "consent.unusual",
        "inhabituel pour un profil : vérifiez avant de cocher",
        "unusual for a profile: check before ticking",
    ),
    ("consent.other", "Autre information :", "Other detail:"),
    (
        "consent.nothing",
        "Cette plateforme ne demande rien que votre carnet contienne.",
        "This platform asks nothing your carnet holds.",
    ),
    (
        "consent.availability",
        "Ma disponibilité (situation, date, régions, contrats)",
        "My availability (situation, date, regions, contracts)",
    ),
    (
        "consent.republish",
        "Republier de moi-même quand je reçois une nouvelle attestation, sans jamais partager plus que ce qui est coché ici",
        "Publish again by itself when I receive a new credential, never sharing more than what is ticked here",
    ),
    (
        "consent.submit",
        "Publier ce qui est coché",
        "Publish what is ticked",
    ),
    ("consent.cancel", "Annuler", "Cancel"),
    (
        "claim:/name",
        "Votre nom, tel qu'écrit sur l'attestation",
        "Your name, as written on the credential",
    ),
    (
        "claim:/competency/code",
        "Le code de la compétence",
        "The competency's code",
    ),
    (
        "claim:/competency/name",
        "L'intitulé de la compétence",
        "The competency's title",
    ),
    (
        "claim:/competency/framework_codes",
        "Ses codes dans les référentiels (RNCP, RS, ROME…)",
        "Its codes in the frameworks (RNCP, RS, ROME…)",
    ),
    (
        "claim:/level/label",
        "Le niveau obtenu",
        "The level reached",
    ),
    (
        "claim:/level/value",
        "Le niveau sur une échelle commune (pour comparer les centres)",
        "The level on a common scale (to compare centres)",
    ),
    (
        "claim:/validated_on",
        "La date de validation",
        "The date it was validated",
    ),
    (
        "claim:/establishment/name",
        "Le nom du centre de formation",
        "The training centre's name",
    ),
    (
        "claim:/evaluator/name",
        "Le nom de la personne qui vous a évalué",
        "The name of the person who assessed you",
    ),
    (
        "claim:/session/title",
        "L'intitulé de votre session de formation",
        "The title of your training session",
    ),
    ("claim:/given_name", "Votre prénom", "Your given name"),
    (
        "claim:/family_name",
        "Votre nom de famille",
        "Your family name",
    ),
    (
        "claim:/birthdate",
        "Votre date de naissance",
        "Your date of birth",
    ),
    (
        "claim:/email",
        "Votre adresse e-mail",
        "Your e-mail address",
    ),
    (
        "claim:/phone_number",
        "Votre numéro de téléphone",
        "Your phone number",
    ),
    (
        "claim:/address",
        "Votre adresse postale",
        "Your postal address",
    ),
    ("inbox.title", "Offres reçues", "Offers received"),
    (
        "inbox.empty",
        "Aucune offre pour l'instant. Publiez votre profil pour que les recruteurs vous trouvent.",
        "No offer yet. Publish your profile so that recruiters find you.",
    ),
    (
        "inbox.asks",
        "Demande, si vous acceptez :",
        "Asks, if you accept:",
    ),
    ("inbox.required", "obligatoire", "required"),
    ("inbox.optional", "facultatif", "optional"),
    ("inbox.pdf", "Lire l'offre (PDF)", "Read the offer (PDF)"),
    ("inbox.accept", "Accepter…", "Accept…"),
    ("inbox.decline", "Décliner", "Decline"),
    (
        "inbox.decline.what",
        "Le recruteur saura que vous déclinez cette offre ; vous ne pourrez plus l'accepter.",
        "The recruiter will know you decline this offer; you will not be able to accept it any more.",
    ),
    (
        "inbox.decline.confirm",
        "Oui, décliner cette offre",
        "Yes, decline this offer",
    ),
    ("inbox.declined", "Offre déclinée.", "Offer declined."),
    (
        "inbox.erase.what",
        "Le recruteur ne verra plus ce que vous lui avez transmis (adresse, téléphone…) ; la discussion s'arrête.",
        "The recruiter will no longer see what you passed on (address, phone…); the chat stops.",
    ),
    (
        "inbox.erase.confirm",
        "Oui, effacer ce que j'ai partagé",
        "Yes, erase what I shared",
    ),
    (
        "publish.withdraw.what",
        "Votre profil disparaît de l'annuaire : les recruteurs de cette plateforme ne vous trouveront plus.",
        "Your profile leaves the directory: this platform's recruiters will no longer find you.",
    ),
    (
        "publish.withdraw.confirm",
        "Oui, retirer ce profil",
        "Yes, withdraw this profile",
    ),
    (
        "inbox.decline_note",
        "Décliner ne transmet rien.",
        "Declining discloses nothing.",
    ),
    (
        "inbox.erase",
        "Effacer ce que j'ai partagé",
        "Erase what I shared",
    ),
    ("inbox.chat", "Discussion", "Chat"),
    ("inbox.expires", "Expire le", "Expires on"),
    (
        "inbox.quiz",
        "Un recruteur vous a envoyé un questionnaire.",
        "A recruiter sent you a quiz.",
    ),
    ("sent", "nouvelle", "new"),
    ("viewed", "vue", "viewed"),
    ("accepted", "acceptée", "accepted"),
    ("declined", "déclinée", "declined"),
    ("expired", "expirée", "expired"),
    ("withdrawn", "retirée", "withdrawn"),
    ("accept.title", "Que partager ?", "What to share?"),
    (
        "accept.intro",
        "Seules les informations cochées seront transmises, avec un reçu de consentement signé. Les informations obligatoires conditionnent l'acceptation.",
        "Only the details ticked are sent, with a signed consent receipt. The required ones are a condition of accepting.",
    ),
    ("accept.from", "Attestation", "Credential"),
    ("accept.will", "Sera transmis :", "Will be sent:"),
    (
        "accept.may",
        "Vous pouvez aussi transmettre :",
        "You may also send:",
    ),
    (
        "accept.submit",
        "Accepter et transmettre",
        "Accept and send",
    ),
    ("accept.offer", "Offre", "Offer"),
    ("accept.verified", "Attesté par", "Attested by"),
    ("accept.declare", "Ce que vous déclarez", "What you declare"),
    (
        "accept.declare.intro",
        "Transmis comme déclaré par vous, signé par votre carnet : aucun centre ne l'atteste. Conservé pour vos prochaines réponses.",
        "Sent as declared by you, signed by your carnet: no centre attests it. Kept for your next answers.",
    ),
    (
        "accept.no_identity",
        "Aucun centre n'a encore attesté votre identité : ce que vous écrivez ci-dessous part comme « déclaré ». Pour partager des coordonnées vérifiées, demandez une attestation d'identité à :",
        "No centre has attested your identity yet: what you write below goes as « declared ». To share verified details, ask for an identity credential at:",
    ),
    ("accept.required", "obligatoire", "required"),
    ("accept.optional", "facultatif", "optional"),
    (
        "accept.check",
        "Vérifiez ce champ :",
        "Please check this field:",
    ),
    ("detail:/given_name", "Prénom", "Given name"),
    ("detail:/family_name", "Nom", "Family name"),
    ("detail:/birthdate", "Date de naissance", "Date of birth"),
    ("detail:/email", "Adresse e-mail", "E-mail address"),
    ("detail:/phone_number", "Téléphone", "Phone"),
    (
        "detail:/address/street_address",
        "Adresse (numéro et rue)",
        "Street address",
    ),
    ("detail:/address/postal_code", "Code postal", "Postal code"),
    ("detail:/address/locality", "Ville", "Town"),
    (
        "detail:/presentation",
        "Quelques mots sur vous",
        "A few words about you",
    ),
    (
        "detail:/links",
        "Liens, un par ligne (portfolio, profil professionnel…)",
        "Links, one per line (portfolio, professional profile…)",
    ),
    ("accept.cancel", "Revenir aux offres", "Back to the offers"),
    ("nav.quizzes", "Questionnaires", "Quizzes"),
    ("nav.account", "Compte", "Account"),
    ("nav.credentials", "Attestations", "Credentials"),
    ("credentials.title", "Mes attestations", "My credentials"),
    (
        "credentials.intro",
        "Chaque attestation reçue, telle que son émetteur l'a signée. La supprimer l'efface de ce carnet ; l'émetteur garde la trace de l'avoir délivrée.",
        "Every credential received, as its issuer signed it. Deleting one erases it from this carnet; the issuer keeps the record of issuing it.",
    ),
    ("credentials.none", "Aucune attestation.", "No credential."),
    ("credentials.type", "Type", "Type"),
    ("credentials.about", "Contenu", "Content"),
    ("credentials.issuer", "Émetteur", "Issuer"),
    ("credentials.received", "Reçue le", "Received on"),
    ("credentials.delete", "Supprimer", "Delete"),
    ("competency", "compétence", "competency"),
    ("identity", "identité", "identity"),
    (
        "email",
        "adresse e-mail confirmée",
        "confirmed e-mail address",
    ),
    ("own.issuer", "votre carnet", "your carnet"),
    (
        "figures.competencies",
        "compétences validées",
        "competencies validated",
    ),
    (
        "figures.credentials",
        "attestations dans le carnet",
        "credentials in the carnet",
    ),
    (
        "figures.published",
        "profil visible des recruteurs",
        "profile seen by recruiters",
    ),
    (
        "figures.unpublished",
        "profil pas encore publié",
        "profile not published yet",
    ),
    ("completion", "fin de formation", "completion"),
    ("account.title", "Mon compte", "My account"),
    (
        "backup.title",
        "Sauvegarder mon carnet",
        "Back up my carnet",
    ),
    (
        "backup.intro",
        "Un fichier chiffré avec une phrase secrète de votre choix : toutes vos attestations, leurs clés et vos publications. Ce service utilise la phrase le temps de chiffrer, sans la garder. Gardez le fichier hors de ce service ; à la restauration, chaque attestation est vérifiée auprès de son émetteur.",
        "A file encrypted with a passphrase of your choice: every credential, its keys and your publications. This service uses the passphrase while encrypting, and does not keep it. Keep the file away from this service; when restoring, each credential is checked with its issuer.",
    ),
    (
        "backup.passphrase",
        "Phrase secrète (au moins 12 caractères)",
        "Passphrase (at least 12 characters)",
    ),
    (
        "backup.submit",
        "Télécharger la sauvegarde",
        "Download the backup",
    ),
    (
        "restore.title",
        "Restaurer une sauvegarde",
        "Restore a backup",
    ),
    ("restore.file", "Fichier de sauvegarde", "Backup file"),
    ("restore.submit", "Restaurer", "Restore"),
    ("restore.done", "Sauvegarde restaurée :", "Backup restored:"),
    (
        "restore.restored",
        "attestations ajoutées",
        "credentials added",
    ),
    ("restore.skipped", "déjà présentes", "already here"),
    (
        "restore.refused",
        "refusées (signature, clé ou émetteur invérifiables)",
        "refused (signature, key or issuer could not be verified)",
    ),
    ("restore.publications", "publications", "publications"),
    (
        "restore.not_json",
        "Ce fichier n'est pas une sauvegarde de carnet.",
        "This file is not a carnet backup.",
    ),
    ("delete.title", "Supprimer mon compte", "Delete my account"),
    (
        "delete.intro",
        "Tout ce que ce service garde pour vous est effacé : attestations, clés, sessions. Seule une ligne du journal d'audit dit que le compte a été supprimé. Pensez à retirer d'abord vos profils publiés.",
        "Everything this service keeps for you is erased: credentials, keys, sessions. Only an audit line says the account was deleted. Withdraw your published profiles first.",
    ),
    (
        "delete.password",
        "Votre mot de passe, pour confirmer",
        "Your password, to confirm",
    ),
    (
        "delete.submit",
        "Supprimer définitivement",
        "Delete for good",
    ),
    (
        "sign_in.recover",
        "Mot de passe oublié ? Votre code de secours",
        "Forgot your password? Your recovery code",
    ),
    ("recover.title", "Retrouver mon carnet", "Recover my carnet"),
    (
        "recover.intro",
        "Le code de secours donné à la création du carnet l'ouvre ; choisissez un nouveau mot de passe. Vos autres sessions sont fermées.",
        "The recovery code given when the carnet was created opens it; choose a new password. Your other sessions are closed.",
    ),
    ("recover.code", "Code de secours", "Recovery code"),
    (
        "recover.new_password",
        "Nouveau mot de passe",
        "New password",
    ),
    ("recover.submit", "Ouvrir mon carnet", "Open my carnet"),
    ("quizzes.title", "Questionnaires reçus", "Quizzes received"),
    (
        "quizzes.intro",
        "Un recruteur peut joindre un questionnaire à son offre, ou vous l'envoyer seul. Vous y répondez une fois ; il ne voit que vos réponses, et personne n'est écarté automatiquement.",
        "A recruiter may attach a quiz to an offer, or send it alone. You answer once; they see only your answers, and nobody is rejected automatically.",
    ),
    ("quizzes.none", "Aucun questionnaire.", "No quiz."),
    ("quizzes.from", "De", "From"),
    ("quizzes.answered", "Répondu le", "Answered on"),
    ("quizzes.submit", "Envoyer mes réponses", "Send my answers"),
    (
        "quizzes.once",
        "Vous ne pourrez pas les modifier.",
        "You cannot change them afterwards.",
    ),
    ("chat.title", "Discussion", "Chat"),
    ("chat.you", "Vous", "You"),
    ("chat.them", "Recruteur", "Recruiter"),
    ("chat.write", "Votre message", "Your message"),
    ("chat.send", "Envoyer", "Send"),
    (
        "chat.expiry",
        "Sans réponse pendant 30 jours, la discussion est supprimée.",
        "After 30 days without a reply, the chat is deleted.",
    ),
    ("chat.messages", "Messages", "Messages"),
    ("phone_number", "Téléphone", "Phone"),
    ("given_name", "Prénom", "Given name"),
    ("family_name", "Nom", "Family name"),
    ("birthdate", "Date de naissance", "Date of birth"),
    ("address", "Adresse postale", "Postal address"),
    ("valid", "valide", "valid"),
    ("revoked", "révoquée", "revoked"),
    ("suspended", "suspendue", "suspended"),
    ("unknown", "non vérifié", "not checked"),
];

struct CompetencyCard {
    name: String,
    code: String,
    frameworks: String,
    current: String,
    entries: Vec<EntryRow>,
}

struct EntryRow {
    level: String,
    date: String,
    evaluator: String,
    establishment: String,
    status: String,
}

struct SharedEntry {
    verifier: String,
    when: String,
    credentials: Vec<String>,
}

#[derive(Template)]
#[template(path = "shared.html")]
struct SharedPage {
    chrome: Chrome,
    entries: Vec<SharedEntry>,
}

/// What the holder shared, with whom and when.
async fn shared(
    State(state): State<WalletState>,
    lang: Lang,
    holder: Result<Holder, ApiError>,
) -> Result<Response, ApiError> {
    // Signed out: the home page, to sign in.
    let Ok(holder) = holder else {
        return Ok(see_other(&carnet_service::web::home(&state.ctx), None));
    };
    let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&holder.principal);
    let log = crate::presentations::shared_log(&state, &holder).await?;
    let held: Vec<Value> = credentials::all(&state, &holder)
        .await?
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or_default())
        .collect();
    let held: Vec<&Value> = held.iter().collect();
    let entries = log
        .iter()
        .map(|e| shared_entry(&chrome, e, &held))
        .collect();
    Ok(render(lang, SharedPage { chrome, entries }.render()))
}

#[derive(Template)]
#[template(path = "carnet.html")]
struct CarnetPage {
    chrome: Chrome,
    /// The carnet in figures: competencies, credentials (copies counted once), and whether a
    /// profile is published.
    figures: (usize, usize, bool),
    competencies: Vec<CompetencyCard>,
    completions: Vec<String>,
    error: String,
    /// An offer link to add, from the address (`?offer=`) or the form that failed.
    offer: String,
}

fn cards(carnet: &Carnet, chrome: &Chrome) -> (Vec<CompetencyCard>, Vec<String>) {
    let competencies = carnet
        .competencies
        .iter()
        .map(|c| CompetencyCard {
            name: c.name.clone(),
            code: c.code.clone(),
            frameworks: c
                .framework_codes
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{} {}", k.to_uppercase(), text(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            current: c.current.as_ref().map_or_else(
                || chrome.t("carnet.none").to_owned(),
                |e| text(&e.claims["level"]["label"]),
            ),
            entries: c
                .history
                .iter()
                .rev()
                .map(|e| EntryRow {
                    level: text(&e.claims["level"]["label"]),
                    date: date(chrome.lang, &text(&e.claims["validated_on"])),
                    evaluator: text(&e.claims["evaluator"]["name"]),
                    establishment: text(&e.claims["establishment"]["name"]),
                    status: e.status.clone(),
                })
                .collect(),
        })
        .collect();
    let completions = carnet
        .completions
        .iter()
        .map(|e| {
            let c = &e.claims;
            format!(
                "{} — {} ({} – {})",
                text(&c["formation"]["title"]),
                text(&c["establishment"]["name"]),
                date(chrome.lang, &text(&c["formation"]["starts_on"])),
                date(chrome.lang, &text(&c["formation"]["ends_on"])),
            )
        })
        .collect();
    (competencies, completions)
}

/// The carnet of the signed-in holder, or the page to sign in or create an account.
async fn home(
    State(state): State<WalletState>,
    lang: Lang,
    holder: Result<Holder, ApiError>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Ok(holder) = holder else {
        // An offer handed over from a centre's page comes back after signing in.
        let handed = query.get("offer").map(|offer| {
            format!(
                "{}?offer={}",
                state.ctx.config.path_prefix(),
                carnet_core::oid4vci::percent_encode(offer)
            )
        });
        let next = query
            .get("next")
            .or(handed.as_ref())
            .map_or("", String::as_str);
        return sign_in_page(
            &state.ctx,
            lang,
            CATALOG,
            StatusCode::OK,
            String::new(),
            next,
        );
    };
    let offer = query.get("offer").cloned().unwrap_or_default();
    carnet_page(&state, lang, &holder, String::new(), offer).await
}

/// The carnet page of a holder, with a message about the last form if any.
async fn carnet_page(
    state: &WalletState,
    lang: Lang,
    holder: &Holder,
    error: String,
    offer: String,
) -> Response {
    let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&holder.principal);
    let published = crate::directory::all(state, holder)
        .await
        .is_ok_and(|p| !p.is_empty());
    match credentials::all(state, holder).await {
        Ok(all) => {
            let built = carnet::build(&all);
            let held = built
                .competencies
                .iter()
                .map(|c| c.history.len())
                .sum::<usize>()
                + built.identities.len()
                + built.completions.len();
            let figures = (built.competencies.len(), held, published);
            let (competencies, completions) = cards(&built, &chrome);
            let status = if error.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = CarnetPage {
                chrome,
                figures,
                competencies,
                completions,
                error,
                offer,
            };
            (status, render(lang, page.render())).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ReceiveForm {
    csrf: String,
    offer: String,
    #[serde(default)]
    tx_code: String,
}

/// Adds the credentials of a pasted offer to the carnet.
async fn receive(
    State(state): State<WalletState>,
    lang: Lang,
    holder: PageHolder,
    Form(form): Form<ReceiveForm>,
) -> Result<Response, ApiError> {
    let holder = holder.check(&form.csrf)?;
    Ok(add_offer(&state, lang, &holder, form.offer, form.tx_code).await)
}

/// Adds the credentials of an offer (pasted, scanned or read from a photo) to the carnet, or
/// shows the carnet again saying why it could not.
async fn add_offer(
    state: &WalletState,
    lang: Lang,
    holder: &Holder,
    offer: String,
    tx_code: String,
) -> Response {
    let input = credentials::Receive {
        offer: offer.trim().to_owned(),
        tx_code: Some(tx_code).filter(|c| !c.trim().is_empty()),
        copies: None,
    };
    match credentials::receive_offer(state, holder, input).await {
        Ok(_) => see_other(&carnet_service::web::home(&state.ctx), None),
        Err(e) if e.status().is_client_error() || e.status() == StatusCode::BAD_GATEWAY => {
            let message = format!("{} {e}", lang.t(CATALOG, "receive.failed"));
            carnet_page(state, lang, holder, message, offer).await
        }
        Err(e) => e.into_response(),
    }
}

/// The largest backup restored through the page.
const MAX_BACKUP: usize = 20 * 1024 * 1024;

/// The largest photo taken (phones make them large; the scan brings them down).
const MAX_PHOTO: usize = 20 * 1024 * 1024;

/// Adds the credentials of an offer whose QR code is in a photo (the phone's camera, through
/// the form's file input).
async fn receive_photo(
    State(state): State<WalletState>,
    lang: Lang,
    holder: PageHolder,
    form: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let back = carnet_service::web::home(&state.ctx);
    let (fields, photo) = match multipart_form(holder.session(), form, "photo", MAX_PHOTO).await {
        Ok(read) => read,
        Err(p) => {
            return Ok(carnet_service::web::problem_page(
                &state.ctx, lang, p, &back,
            ));
        }
    };
    let (csrf, tx_code) = (field(&fields, "csrf"), field(&fields, "tx_code").to_owned());
    let photo = photo.map(|p| p.bytes).unwrap_or_default();
    let holder = holder.check(csrf)?;
    // Decoding takes a moment and memory: off the async threads, a few at a time.
    let read = crate::scan::read_bounded(photo).await;
    Ok(match read {
        Ok(offer) => add_offer(&state, lang, &holder, offer, tx_code).await,
        Err(why) => {
            let key = match why {
                crate::scan::ScanError::NotAPicture => "receive.not_picture",
                crate::scan::ScanError::TooLarge => "receive.too_large",
                crate::scan::ScanError::NoCode => "receive.no_code",
                crate::scan::ScanError::Busy => "receive.busy",
            };
            let message = lang.t(CATALOG, key).to_owned();
            carnet_page(&state, lang, &holder, message, String::new()).await
        }
    })
}

#[derive(Deserialize, Default)]
struct Availability {
    #[serde(default)]
    situation: Option<String>,
    #[serde(default)]
    available_from: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    contracts: Vec<String>,
}

#[derive(Deserialize)]
struct Publication {
    id: String,
    verifier: String,
    competencies: i64,
    published_at: i64,
}

/// A text as one component of a URL's query (RFC 3986 unreserved characters kept).
fn query_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    chrome: Chrome,
    availability: Availability,
    publications: Vec<Publication>,
    /// Just published (the consent page leads back here with `?published`).
    published: bool,
}

impl ProfilePage {
    fn situation_is(&self, s: &str) -> bool {
        self.availability.situation.as_deref() == Some(s)
    }

    fn contract_in(&self, c: &str) -> bool {
        self.availability.contracts.iter().any(|x| x == c)
    }

    fn region_in(&self, code: &str) -> bool {
        self.availability.regions.iter().any(|x| x == code)
    }

    fn published(&self, p: &Publication) -> String {
        date_of(self.chrome.lang, p.published_at)
    }

    /// The consent page to publish at the same verifier again.
    fn again(&self, p: &Publication) -> String {
        format!(
            "{}/profile/publish?verifier={}",
            self.chrome.base,
            query_component(&p.verifier)
        )
    }
}

/// The claims a profile at a verifier usually shows: anything else a publication request asks
/// is flagged on the consent page.
const USUAL: [&str; 12] = [
    "/name",
    "/competency/code",
    "/competency/name",
    "/competency/framework_codes",
    "/level/label",
    "/level/value",
    "/validated_on",
    "/establishment/name",
    "/evaluator/name",
    "/session/title",
    "/given_name",
    "/family_name",
];

/// What a profile cannot do without (the name, the competency and its level): ticked
/// beforehand on a first publication when the verifier requires it; nothing else is.
const MINIMAL: [&str; 6] = [
    "/name",
    "/competency/code",
    "/competency/name",
    "/level/label",
    "/given_name",
    "/family_name",
];

/// A claim path as a JSON pointer (`/level/label`), `*` for every element of a list.
fn pointer(path: &carnet_core::path::ClaimPath) -> String {
    match path.to_json() {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Null => "/*".to_owned(),
                other => format!("/{}", text(other)),
            })
            .collect(),
        _ => String::new(),
    }
}

struct ConsentRow {
    /// The path as JSON, the checkbox's value.
    value: String,
    label: String,
    required: bool,
    unusual: bool,
    ticked: bool,
}

#[derive(Template)]
#[template(path = "publish.html")]
struct PublishPage {
    chrome: Chrome,
    verifier: String,
    competencies: Vec<ConsentRow>,
    identity: Vec<ConsentRow>,
    availability: bool,
    republish: bool,
}

#[derive(Deserialize)]
struct PreviewView {
    verifier: String,
    claims: Vec<AskedView>,
    consented: Option<Vec<carnet_core::path::ClaimPath>>,
    republish: bool,
    availability: bool,
}

#[derive(Deserialize)]
struct AskedView {
    query_id: String,
    path: carnet_core::path::ClaimPath,
    required: bool,
}

#[derive(Deserialize)]
struct VerifierQuery {
    #[serde(default)]
    verifier: String,
}

/// Before every publication: what the verifier asks, claim by claim in words, for the holder
/// to tick what they agree to share. Ticked beforehand: what they agreed to last time there,
/// else the minimum of a profile when the verifier requires it (never anything else).
async fn publish_page(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    axum::extract::Query(query): axum::extract::Query<VerifierQuery>,
) -> Response {
    let view = async {
        let preview: PreviewView = api
            .get(&format!(
                "/api/v1/directory/preview?verifier={}",
                query_component(query.verifier.trim())
            ))
            .await?;
        let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0);
        let (mut competencies, mut identity) = (Vec::new(), Vec::new());
        for asked in preview.claims {
            let pointer = pointer(&asked.path);
            let unusual = !USUAL.contains(&pointer.as_str());
            let label = match chrome.t(&format!("claim:{pointer}")) {
                "" => format!(
                    "{} {}",
                    chrome.t("consent.other"),
                    detail_label(lang, &pointer)
                ),
                known => known.to_owned(),
            };
            let ticked = match &preview.consented {
                Some(agreed) => agreed.contains(&asked.path),
                None => asked.required && MINIMAL.contains(&pointer.as_str()),
            };
            let row = ConsentRow {
                value: asked.path.to_json().to_string(),
                label,
                required: asked.required,
                unusual,
                ticked,
            };
            if asked.query_id == "identity" {
                identity.push(row);
            } else {
                competencies.push(row);
            }
        }
        Ok(PublishPage {
            chrome,
            verifier: preview.verifier,
            competencies,
            identity,
            availability: preview.availability,
            republish: preview.republish || preview.consented.is_none(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// Publishes what the holder ticked on the consent page, and nothing else.
async fn publish_submit(
    State(state): State<WalletState>,
    lang: Lang,
    api: Backend,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("{}/profile", state.ctx.config.path_prefix());
    let ticked_in = |name: &str| -> Vec<Value> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| serde_json::from_str(v).ok())
            .collect()
    };
    let identity_claims = ticked_in("identity_claim");
    // The identity credential is shown only when something of it was ticked.
    let identity = !identity_claims.is_empty();
    let mut claims = ticked_in("claim");
    claims.extend(identity_claims);
    let ticked = |name: &str| fields.iter().any(|(k, _)| k == name);
    let body = json!({
        "verifier": field(&fields, "verifier"),
        "claims": claims,
        "identity_name": identity,
        "availability": ticked("availability"),
        "republish": ticked("republish"),
    });
    match api
        .call(
            Method::POST,
            "/api/v1/directory/publications",
            field(&fields, "csrf"),
            Some(body),
        )
        .await
    {
        Ok(_) => see_other(&format!("{back}?published"), None),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// Availability and the publications of the profile in recruiters' directories.
async fn profile(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let published = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "published"));
    let view = async {
        Ok(ProfilePage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            availability: api.get("/api/v1/availability").await?,
            publications: api.get("/api/v1/directory/publications").await?,
            published,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

struct InboxRow {
    publication: String,
    id: String,
    company: String,
    siret: String,
    title: String,
    body: String,
    document: bool,
    contract: String,
    place: String,
    asks: Vec<(String, bool)>,
    status: String,
    expires: String,
    chat: Option<String>,
    open: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    offers: Vec<InboxRow>,
    quizzes: usize,
}

#[derive(Deserialize)]
struct InboxEntry {
    publication_id: String,
    offer: Value,
}

/// The offers received, with what each asks, to accept, decline, or chat.
async fn inbox(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
) -> Response {
    let view = async {
        let entries: Vec<InboxEntry> = api.get("/api/v1/inbox").await?;
        let quizzes = api
            .get::<Vec<Value>>("/api/v1/quizzes")
            .await
            .map_or(0, |q| q.len());
        let offers = entries
            .into_iter()
            .map(|e| {
                let o = &e.offer;
                let s = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
                let status = s("status");
                InboxRow {
                    publication: e.publication_id.clone(),
                    id: s("id"),
                    company: s("company"),
                    siret: s("company_siret"),
                    title: s("title"),
                    body: s("body"),
                    document: o["has_document"].as_bool().unwrap_or(false),
                    contract: s("contract_type"),
                    place: s("place"),
                    asks: o["claims"]
                        .as_array()
                        .map(|claims| {
                            claims
                                .iter()
                                .map(|c| {
                                    let path = serde_json::from_value(c["path"].clone())
                                        .map(|p: carnet_core::path::ClaimPath| {
                                            detail_label(lang, &pointer(&p))
                                        })
                                        .unwrap_or_default();
                                    (path, c["required"].as_bool().unwrap_or(false))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    open: matches!(status.as_str(), "sent" | "viewed"),
                    status,
                    expires: o["expires_at"]
                        .as_i64()
                        .map(|ms| date_of(lang, ms))
                        .unwrap_or_default(),
                    chat: o["chat_id"].as_str().map(str::to_owned),
                }
            })
            .collect();
        Ok(InboxPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            offers,
            quizzes,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

impl InboxPage {
    /// A claim's name in words, when the catalog knows it.
    fn claim(&self, path: &str) -> String {
        match self.chrome.t(path) {
            "" => path.to_owned(),
            text => text.to_owned(),
        }
    }
}

struct CandidateView {
    query_id: String,
    credential_id: String,
    from: String,
    required: Vec<String>,
    optional: Vec<(String, String)>,
    /// Nothing of it is required by the offer: the holder ticks it to send it.
    optional_credential: bool,
    /// This carnet's own attestation of the account's address.
    own: bool,
}

/// A detail the holder declares in an answer: its field (a claim pointer), what it holds, and
/// whether the offer requires it.
struct DeclareField {
    pointer: &'static str,
    value: String,
    required: bool,
}

#[derive(Template)]
#[template(path = "accept.html")]
struct AcceptPage {
    chrome: Chrome,
    request: String,
    publication: String,
    offer: String,
    company: String,
    title: String,
    candidates: Vec<CandidateView>,
    declare: Vec<DeclareField>,
    error: Option<String>,
    /// Without an identity credential: the centres the holder has credentials from, to ask
    /// one for it (their page, name).
    centres: Vec<(String, String)>,
}

impl AcceptPage {
    fn claim(&self, path: &str) -> String {
        match self.chrome.t(path) {
            "" => path.to_owned(),
            text => text.to_owned(),
        }
    }

    fn field(&self, pointer: &str) -> &str {
        self.chrome.t(&format!("detail:{pointer}"))
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// Opens the offer's presentation request and asks the holder what to share.
async fn accept(
    State(state): State<WalletState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((publication, offer)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back = format!("{}/inbox", state.ctx.config.path_prefix());
    let view = accept_view(
        &state,
        lang,
        &session,
        &api,
        &publication,
        &offer,
        &form.csrf,
        None,
    );
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// What to share in answer to an offer: the claims an identity credential from a centre
/// attests, and a field for each other detail the offer asks (filled from what the holder
/// declared before, or `typed`), with a presentation and links of their own. Always
/// answerable: no centre's credential is needed to accept.
#[allow(clippy::too_many_arguments)]
async fn accept_view(
    state: &WalletState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    publication: &str,
    offer: &str,
    csrf: &str,
    typed: Option<(Declared, String)>,
) -> Result<AcceptPage, Problem> {
    let entries: Vec<InboxEntry> = api.get("/api/v1/inbox").await?;
    let entry = entries
        .iter()
        .find(|e| e.publication_id == publication && e.offer["id"] == offer)
        .ok_or(Problem::not_found())?;
    let request = entry.offer["request"]
        .as_str()
        .ok_or(Problem::not_found())?
        .to_owned();
    let asked: Vec<(String, bool)> = entry.offer["claims"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let path: carnet_core::path::ClaimPath =
                serde_json::from_value(c["path"].clone()).ok()?;
            Some((pointer(&path), c["required"].as_bool().unwrap_or(false)))
        })
        .collect();
    let pending = api
        .call(
            Method::POST,
            "/api/v1/presentations/requests",
            csrf,
            Some(json!({ "request": request })),
        )
        .await?;
    let mut candidates = Vec::new();
    let mut covered: Vec<String> = Vec::new();
    for query in pending["queries"].as_array().into_iter().flatten() {
        // The first credential that answers a query (the newest of its kind).
        if let Some(c) = query["candidates"].as_array().and_then(|c| c.first()) {
            let paths = |k: &str| -> Vec<carnet_core::path::ClaimPath> {
                serde_json::from_value(c[k].clone()).unwrap_or_default()
            };
            covered.extend(
                paths("required")
                    .iter()
                    .chain(&paths("optional"))
                    .map(pointer),
            );
            let optional_credential = paths("required").iter().all(|p| {
                let p = pointer(p);
                asked.iter().any(|(a, required)| *a == p && !required)
            });
            candidates.push(CandidateView {
                query_id: text(&query["query_id"]),
                credential_id: text(&c["credential_id"]),
                from: issuer_of(lang, c),
                optional_credential,
                own: c["own"] == true,
                required: paths("required")
                    .iter()
                    .map(|p| detail_label(lang, &pointer(p)))
                    .collect(),
                optional: paths("optional")
                    .iter()
                    .map(|p| (detail_label(lang, &pointer(p)), p.to_json().to_string()))
                    .collect(),
            });
        }
    }
    let (values, error) = match typed {
        Some((typed, error)) => (typed, Some(error)),
        None => {
            let mut saved: Declared = api.get("/api/v1/details").await.unwrap_or_default();
            if saved.email.is_none() {
                saved.email = Some(session.0.email.clone());
            }
            (saved, None)
        }
    };
    let mut declare: Vec<DeclareField> = asked
        .iter()
        .filter(|(p, _)| !covered.contains(p))
        .flat_map(|(p, required)| {
            carnet_core::declared::fields_of(p)
                .into_iter()
                .map(|f| (f, *required))
        })
        .chain([("/presentation", false), ("/links", false)])
        .map(|(pointer, required)| DeclareField {
            pointer,
            value: values.get(pointer),
            required,
        })
        .collect();
    declare.dedup_by(|a, b| a.pointer == b.pointer);
    // No identity credential: where to ask for one (the centres of the holder's credentials).
    let mut centres: Vec<(String, String)> = Vec::new();
    let held: Vec<Value> = api.get("/api/v1/credentials").await.unwrap_or_default();
    let identified = held.iter().any(|c| {
        c["configuration_id"] == "identity"
            || c["vct"].as_str().is_some_and(|v| v.ends_with("/identity"))
    });
    if !identified {
        for c in held {
            if let (Some(issuer), Some(name)) = (c["issuer"].as_str(), c["issuer_name"].as_str())
                && issuer.starts_with("http")
                && !centres.iter().any(|(i, _)| i == issuer)
            {
                centres.push((issuer.to_owned(), name.to_owned()));
            }
        }
    }
    Ok(AcceptPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
        request: text(&pending["id"]),
        publication: publication.to_owned(),
        offer: offer.to_owned(),
        company: text(&entry.offer["company"]),
        title: text(&entry.offer["title"]),
        candidates,
        declare,
        error,
        centres,
    })
}

/// Sends the holder's answer: for each query, the credential and the optional claims ticked,
/// and the details they declare (kept to fill the next answer). A detail that cannot be kept
/// shows the page again with what they typed.
async fn answer(
    State(state): State<WalletState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path(request): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("{}/inbox", state.ctx.config.path_prefix());
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let csrf = value("csrf");
    // A credential of which nothing is required goes only with a claim ticked.
    let ticked = |query: &str| {
        fields
            .iter()
            .any(|(k, _)| k.strip_prefix("optional.") == Some(query))
    };
    let choices: Vec<Value> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("credential.")
                .or_else(|| k.strip_prefix("if_ticked.").filter(|q| ticked(q)))
                .map(|q| (q, v))
        })
        .map(|(query, credential)| {
            let optional: Vec<Value> = fields
                .iter()
                .filter(|(k, _)| k.strip_prefix("optional.") == Some(query))
                .filter_map(|(_, path)| serde_json::from_str(path).ok())
                .collect();
            json!({"query_id": query, "credential_id": credential, "optional": optional})
        })
        .collect();
    let mut typed = Declared::default();
    // The address this carnet attests goes declared too: a recruiter who does not trust the
    // carnet's attestations still receives it, as declared (never where it is verified).
    for choice in &choices {
        let query = choice["query_id"].as_str().unwrap_or_default();
        if value(&format!("own.{query}")) == "1" && typed.email.is_none() {
            typed.email = Some(session.0.email.clone());
        }
    }
    let mut shown = Vec::new();
    for (name, v) in &fields {
        if let Some(pointer) = name.strip_prefix("declare.")
            && typed.set(pointer, v)
        {
            shown.push(pointer);
        }
    }
    let again = |typed: Declared, error: String| async {
        let page = accept_view(
            &state,
            lang,
            &session,
            &api,
            value("publication"),
            value("offer"),
            csrf,
            Some((typed, error)),
        )
        .await;
        match page {
            Ok(page) => render(lang, page.render()),
            Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
        }
    };
    let declared = match typed.clone().normalise() {
        Ok(declared) => declared,
        Err(e) => {
            let chrome = Chrome::new(&state.ctx, lang, CATALOG);
            let label = chrome.t(&format!("detail:/{}", e.field)).to_owned();
            let label = if label.is_empty() {
                e.field.to_owned()
            } else {
                label
            };
            let message = format!("{} {label}", chrome.t("accept.check"));
            return again(typed, message).await;
        }
    };
    // What the holder declared here replaces what they had declared; the rest stays.
    let mut saved: Declared = api.get("/api/v1/details").await.unwrap_or_default();
    for pointer in &shown {
        saved.set(pointer, &declared.get(pointer));
    }
    let kept = api
        .call(
            Method::PUT,
            "/api/v1/details",
            csrf,
            Some(serde_json::to_value(&saved).unwrap_or_default()),
        )
        .await;
    if let Err(p) = kept {
        return carnet_service::web::problem_page(&state.ctx, lang, p, &back);
    }
    let path = format!("/api/v1/presentations/requests/{request}/response");
    let body = json!({ "choices": choices, "declared": declared, "audience": value("company") });
    match api.call(Method::POST, &path, csrf, Some(body)).await {
        Ok(_) => see_other(&back, None),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

struct MessageRow {
    id: String,
    mine: bool,
    body: String,
    at: String,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    chrome: Chrome,
    publication: String,
    chat: String,
    messages: Vec<MessageRow>,
}

/// A chat with a recruiter whose offer the holder accepted.
async fn chat(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((publication, chat)): Path<(String, String)>,
) -> Response {
    let view = async {
        let messages = api
            .get::<Vec<Value>>(&format!(
                "/api/v1/inbox/{publication}/chats/{chat}/messages"
            ))
            .await?
            .into_iter()
            .map(|m| MessageRow {
                id: text(&m["id"]),
                mine: m["sender"] == "candidate",
                body: text(&m["body"]),
                at: carnet_service::web::moment(lang, m["at"].as_i64().unwrap_or(0)),
            })
            .collect();
        Ok(ChatPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            publication,
            chat,
            messages,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

struct QuizCard {
    publication: String,
    id: String,
    company: String,
    title: String,
    questions: Vec<QuestionToAnswer>,
    answered: Option<String>,
}

#[derive(Template)]
#[template(path = "quizzes.html")]
struct QuizzesPage {
    chrome: Chrome,
    quizzes: Vec<QuizCard>,
}

/// The quizzes recruiters sent, to answer once.
async fn quizzes(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
) -> Response {
    let view = async {
        let entries: Vec<InboxEntry> = api.get("/api/v1/quizzes").await?;
        let quizzes = entries
            .into_iter()
            .map(|e| {
                let o = e.offer;
                QuizCard {
                    publication: e.publication_id,
                    id: text(&o["id"]),
                    company: text(&o["company"]),
                    title: text(&o["quiz"]["title"]),
                    questions: serde_json::from_value(o["quiz"]["questions"].clone())
                        .unwrap_or_default(),
                    answered: o["answered_at"].as_i64().map(|ms| date_of(lang, ms)),
                }
            })
            .collect();
        Ok(QuizzesPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            quizzes,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    /// What a restore did, or why it could not.
    message: String,
}

fn account_page(
    state: &WalletState,
    lang: Lang,
    session: &PageSession,
    message: String,
) -> Response {
    let page = AccountPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
        message,
    };
    render(lang, page.render())
}

/// Backup, restore and deletion of the account.
async fn account(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
) -> Response {
    account_page(&state, lang, &session, String::new())
}

#[derive(Deserialize)]
struct BackupForm {
    csrf: String,
    passphrase: String,
}

/// The encrypted backup, as a file to download.
async fn backup(
    State(state): State<WalletState>,
    lang: Lang,
    api: Backend,
    Form(form): Form<BackupForm>,
) -> Response {
    let back = format!("{}/account", state.ctx.config.path_prefix());
    let body = json!({ "passphrase": form.passphrase });
    match api
        .call(Method::POST, "/api/v1/backup", &form.csrf, Some(body))
        .await
    {
        Ok(backup) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/json"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"carnet-sauvegarde.json\"",
                ),
                (axum::http::header::CACHE_CONTROL, "no-store"),
            ],
            backup.to_string(),
        )
            .into_response(),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// Restores an uploaded backup (a multipart form: the file and its passphrase).
async fn restore(
    State(state): State<WalletState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    form: axum::extract::Multipart,
) -> Response {
    let back = format!("{}/account", state.ctx.config.path_prefix());
    let problem = |p: Problem| carnet_service::web::problem_page(&state.ctx, lang, p, &back);
    let (fields, file) = match multipart_form(&session, form, "backup", MAX_BACKUP).await {
        Ok(read) => read,
        Err(p) => return problem(p),
    };
    let (csrf, passphrase) = (field(&fields, "csrf"), field(&fields, "passphrase"));
    let file = file.map(|f| f.bytes).unwrap_or_default();
    let Ok(backup) = serde_json::from_slice::<Value>(&file) else {
        return problem(Problem::invalid(
            lang.t(CATALOG, "restore.not_json").to_owned(),
        ));
    };
    let body = json!({ "backup": backup, "passphrase": passphrase });
    match api
        .call(Method::POST, "/api/v1/backup/restore", csrf, Some(body))
        .await
    {
        Ok(done) => {
            let t = |k| lang.t(CATALOG, k);
            let message = format!(
                "{} {} {}, {} {}, {} {}, {} {}.",
                t("restore.done"),
                done["restored"],
                t("restore.restored"),
                done["skipped"],
                t("restore.skipped"),
                done["refused"],
                t("restore.refused"),
                done["publications"],
                t("restore.publications"),
            );
            account_page(&state, lang, &session, message)
        }
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

#[derive(Template)]
#[template(path = "recover.html")]
struct RecoverPage {
    chrome: Chrome,
}

/// A lost password: the recovery code and a new password.
async fn recover(State(state): State<WalletState>, lang: Lang) -> Response {
    let page = RecoverPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG),
    };
    render(lang, page.render())
}

/// Who attests a credential (or a candidate to a request), as the holder knows them: the
/// issuer's name, or this carnet for its own attestation.
fn issuer_of(lang: Lang, c: &Value) -> String {
    if c["own"] == true {
        return lang.t(CATALOG, "own.issuer").to_owned();
    }
    c["issuer_name"]
        .as_str()
        .map_or_else(|| text(&c["issuer"]), str::to_owned)
}

/// A credential as its card says it: what it attests, at which level, from whom, when.
struct CredentialCard {
    id: String,
    /// `competency`, `completion` or `identity`.
    kind: &'static str,
    what: String,
    /// The level reached (a competency), else empty.
    level: String,
    issuer: String,
    /// The day it was validated (a competency) or received, as people write it.
    when: String,
    /// `valid`, `suspended`, `revoked` or `unknown`.
    status: String,
}

impl CredentialCard {
    fn of(lang: Lang, c: &Value) -> CredentialCard {
        let claims = &c["claims"];
        let received = c["received_at"].as_i64().map(day).unwrap_or_default();
        let (kind, what, level, on) = if claims["competency"].is_object() {
            (
                "competency",
                text(&claims["competency"]["name"]),
                text(&claims["level"]["label"]),
                claims["validated_on"]
                    .as_str()
                    .map_or(received, str::to_owned),
            )
        } else if claims["formation"].is_object() {
            (
                "completion",
                text(&claims["formation"]["title"]),
                String::new(),
                received,
            )
        } else if c["own"] == true {
            ("email", text(&claims["email"]), String::new(), received)
        } else {
            let name = format!(
                "{} {}",
                text(&claims["given_name"]),
                text(&claims["family_name"])
            );
            ("identity", name.trim().to_owned(), String::new(), received)
        };
        CredentialCard {
            id: text(&c["id"]),
            kind,
            what,
            level,
            issuer: issuer_of(lang, c),
            when: date(lang, &on),
            status: text(&c["status"]),
        }
    }

    /// « Souder à l'arc TIG, niveau Argent », as the share history says it.
    fn said(&self, chrome: &Chrome) -> String {
        match self.level.as_str() {
            "" => self.what.clone(),
            level => format!("{}, {} {level}", self.what, chrome.t("card.level")),
        }
    }
}

#[derive(Template)]
#[template(path = "credentials.html")]
struct CredentialsPage {
    chrome: Chrome,
    credentials: Vec<CredentialCard>,
}

/// Every credential in the carnet, a card each, opening its details.
async fn credentials_page(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
) -> Response {
    let view = async {
        let all: Vec<Value> = api.get("/api/v1/credentials").await?;
        Ok(CredentialsPage {
            chrome: Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0),
            credentials: all.iter().map(|c| CredentialCard::of(lang, c)).collect(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "credential.html")]
struct CredentialPage {
    chrome: Chrome,
    card: CredentialCard,
    /// What it contains, a line per detail: its name in words, its value.
    contents: Vec<(String, String)>,
    received: String,
    expires: String,
    /// Where and when it was shared, newest first: with whom, when, what.
    shared: Vec<SharedEntry>,
}

/// One credential: what it contains, its state, where and when it was shared.
async fn credential_page(
    State(state): State<WalletState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(id): Path<String>,
) -> Response {
    let view = async {
        let c: Value = api
            .get(&format!("/api/v1/credentials/{}", query_component(&id)))
            .await?;
        let log: Vec<crate::presentations::Shared> = api.get("/api/v1/presentations").await?;
        let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0);
        let card = CredentialCard::of(lang, &c);
        let mut contents = Vec::new();
        leaves(&c["claims"], &mut String::new(), &mut contents);
        let contents = contents
            .into_iter()
            .map(|(pointer, value)| {
                let label = detail_label(lang, &pointer);
                (label, detail_value(&chrome, &pointer, value))
            })
            .collect();
        let shared = log
            .iter()
            .filter(|e| e.credentials.iter().any(|s| s.credential_id == id))
            .map(|e| shared_entry(&chrome, e, &[&c]))
            .collect();
        let on = |field: &str| {
            c[field]
                .as_i64()
                .map(|ms| date_of(lang, ms))
                .unwrap_or_default()
        };
        Ok(CredentialPage {
            received: on("received_at"),
            expires: c["expires_at"]
                .as_i64()
                .map(|s| date_of(lang, s * 1000))
                .unwrap_or_default(),
            chrome,
            card,
            contents,
            shared,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// The claims a credential carries for its protocol, not about its holder: never shown.
const REGISTERED: [&str; 11] = [
    "iss",
    "sub",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "status",
    "vct",
    "vct#integrity",
    "jti",
    "_sd_alg",
];

/// The leaves of a credential's claims about its holder, as JSON pointers and values (a
/// list's items each), without the protocol's claims and the issuer's record ids.
fn leaves(value: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let internal = key == "id" || key.ends_with("_id");
                if internal || (at.is_empty() && REGISTERED.contains(&key.as_str())) {
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(key);
                leaves(v, at, out);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = at.len();
            at.push_str("/*");
            for item in items {
                leaves(item, at, out);
            }
            at.truncate(len);
        }
        Value::Null => {}
        Value::String(s) if s.is_empty() => {}
        other => out.push((at.clone(), text(other))),
    }
}

/// A detail's name, short (« Niveau »): the catalog's `detail:` key, a framework's code by
/// its framework's name, else the last word of its path (`*`: each item of a list).
fn detail_label(lang: Lang, pointer: &str) -> String {
    if let Some(framework) = pointer.strip_prefix("/competency/framework_codes/") {
        return format!(
            "{} {}",
            lang.t(CATALOG, "detail.framework"),
            framework.to_uppercase()
        );
    }
    match lang.t(CATALOG, &format!("detail:{pointer}")) {
        "" => pointer
            .trim_end_matches("/*")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('_', " "),
        known => known.to_owned(),
    }
}

/// A detail's value as people read it: dates in words, roles by their names.
fn detail_value(chrome: &Chrome, pointer: &str, value: String) -> String {
    if pointer.ends_with("_on") || pointer == "/birthdate" {
        return date(chrome.lang, &value);
    }
    match chrome.t(&format!("detail.value.{value}")) {
        "" => value,
        known => known.to_owned(),
    }
}

/// One sharing in people's words: with whom, when, and for each credential what it attests
/// and which of its details went (« Souder à l'arc TIG, niveau Argent : le niveau obtenu, … »).
fn shared_entry(chrome: &Chrome, e: &crate::presentations::Shared, held: &[&Value]) -> SharedEntry {
    SharedEntry {
        verifier: e.audience.clone().unwrap_or_else(|| {
            format!(
                "{} {}",
                chrome.t("shared.recruiters_of"),
                verifier_host(&e.response_uri)
            )
        }),
        when: carnet_service::web::moment(chrome.lang, e.at),
        credentials: e
            .credentials
            .iter()
            .map(|c| {
                let what = held
                    .iter()
                    .find(|v| v["id"].as_str() == Some(c.credential_id.as_str()))
                    .map(|v| CredentialCard::of(chrome.lang, v).said(chrome))
                    .unwrap_or_else(|| chrome.t("shared.deleted").to_owned());
                let fields: Vec<String> = c
                    .shared
                    .claims
                    .iter()
                    .map(|p| lowercase_first(&detail_label(chrome.lang, &pointer(p))))
                    .collect();
                match fields.is_empty() {
                    true => what,
                    false => format!(
                        "{what} — {} {}",
                        chrome.t("shared.fields"),
                        fields.join(", ")
                    ),
                }
            })
            .collect(),
    }
}

/// The host a verifier answers at, when nobody named it.
fn verifier_host(response_uri: &str) -> String {
    response_uri
        .split_once("://")
        .map_or(response_uri, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// « Niveau » as said within a sentence (« niveau »); an acronym (« SIRET ») stays.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    let acronym = text.chars().nth(1).is_some_and(char::is_uppercase);
    match chars.next() {
        Some(first) if !acronym => first.to_lowercase().chain(chars).collect(),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }
}
