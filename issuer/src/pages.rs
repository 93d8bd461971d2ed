//! The training centre's portal: its organisations, their members, level scales and
//! competencies, sessions (members, calendar, attendance), evaluations and the credential
//! offers they make (link, PIN and QR code to hand the trainee), and revocation. Each page is a
//! view of what the issuer's API answers the person signed in; each form is an API call
//! (`carnet_service::web`), so the pages check nothing the API does not.

use crate::IssuerState;
use crate::qr;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use carnet_core::calendar::{day_number, day_text};
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{
    Backend, Chrome, PageSession, Problem, QuestionToAnswer, QuizQuestion, SignedIn,
    awaiting_grades, failed, field, form_json, multipart_form, quiz_questions, render, show,
    sign_in_page,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn router() -> Router<IssuerState> {
    carnet_service::web::sign_in_routes(CATALOG)
        .route("/", get(home))
        .route("/orgs/{org}", get(organisation))
        .route("/orgs/{org}/sessions/{sid}", get(session))
        .route("/orgs/{org}/courses", get(courses))
        .route("/orgs/{org}/audit", get(audit))
        .route("/orgs/{org}/invite", post(invite))
        .route("/orgs/{org}/sessions/{sid}/feed", post(feed))
        .route("/orgs/{org}/sessions/{sid}/completion", post(completion))
        .route("/invitations/{token}", get(invitation))
        .route(
            "/orgs/{org}/resources/upload",
            post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/orgs/{org}/sessions/{sid}/evaluate", post(evaluate))
        .route(
            "/orgs/{org}/sessions/{sid}/grades",
            get(grade_sheet).post(grade_all),
        )
        .route(
            "/orgs/{org}/sessions/{sid}/enrolments",
            post(enrolment_preview).layer(axum::extract::DefaultBodyLimit::max(MAX_ROSTER)),
        )
        .route(
            "/orgs/{org}/sessions/{sid}/enrolments/confirm",
            post(enrolment_confirm),
        )
        .route("/orgs/{org}/sessions/{sid}/attendance", get(attendance))
        .route("/orgs/{org}/sessions/{sid}/attendance/{slot}", get(slot))
        .route("/orgs/{org}/sessions/{sid}/quizzes", get(session_quizzes))
        .route(
            "/orgs/{org}/sessions/{sid}/quizzes/{opening}",
            get(quiz_results),
        )
        .route("/orgs/{org}/sessions/{sid}/rooms/{room}", get(room))
        .route("/orgs/{org}/trainees/{account}/identity", post(identity))
}

/// The portal's texts, French and English.
pub const CATALOG: Catalog = &[
    ("brand", "Carnet · Centre", "Carnet · Centre"),
    ("portal", "Centre", "Centre"),
    (
        "sign_in.title",
        "Espace des centres de formation",
        "Training centre portal",
    ),
    (
        "sign_in.intro",
        "Sessions, évaluations et attestations signées de vos stagiaires.",
        "Sessions, evaluations and signed credentials for your trainees.",
    ),
    ("home.title", "Tableau de bord", "Dashboard"),
    (
        "home.organisations",
        "Mes organisations",
        "My organisations",
    ),
    ("home.today", "Aujourd'hui", "Today"),
    (
        "home.today.none",
        "Aucun créneau aujourd'hui dans vos sessions.",
        "No slot today in your sessions.",
    ),
    (
        "home.current",
        "Sessions en cours et à venir",
        "Sessions under way and to come",
    ),
    (
        "home.current.none",
        "Aucune session en cours ni à venir.",
        "No session under way or to come.",
    ),
    ("home.past", "Sessions terminées", "Sessions ended"),
    ("home.running", "En cours", "Under way"),
    ("home.attendance", "Émargement", "Attendance"),
    ("home.open", "Ouvrir la session", "Open the session"),
    (
        "home.none",
        "Vous n'appartenez encore à aucune organisation.",
        "You do not belong to any organisation yet.",
    ),
    (
        "home.create",
        "Créer une organisation",
        "Create an organisation",
    ),
    (
        "home.offers",
        "Mes attestations à recevoir",
        "Credentials waiting for me",
    ),
    ("org.name", "Nom", "Name"),
    ("org.siret", "SIRET", "SIRET"),
    ("org.roles", "Mes rôles", "My roles"),
    ("org.members", "Membres", "Members"),
    ("org.add_member", "Ajouter un membre", "Add a member"),
    ("org.role", "Rôle", "Role"),
    ("org.scales", "Échelles de niveaux", "Level scales"),
    (
        "org.scale_levels",
        "Nouvelle échelle à niveaux",
        "New scale of levels",
    ),
    (
        "org.scale_labels",
        "Niveaux, du plus bas au plus haut (séparés par des virgules)",
        "Levels, lowest first (separated by commas)",
    ),
    (
        "org.scale_score",
        "Nouvelle échelle à score",
        "New score scale",
    ),
    ("org.scale_max", "Score maximal", "Highest score"),
    ("org.scale_pass", "Validé à partir de", "Validated from"),
    ("org.competencies", "Compétences", "Competencies"),
    (
        "org.new_competency",
        "Nouvelle compétence",
        "New competency",
    ),
    ("org.code", "Code", "Code"),
    ("org.description", "Description", "Description"),
    ("org.rome", "Code ROME (facultatif)", "ROME code (optional)"),
    (
        "org.rncp",
        "Fiche RNCP (facultatif), ex. RNCP35192",
        "RNCP record (optional), e.g. RNCP35192",
    ),
    (
        "org.rs",
        "Fiche RS (facultatif), ex. RS5678",
        "RS record (optional), e.g. RS5678",
    ),
    (
        "org.esco",
        "Compétence ESCO (facultatif, adresse)",
        "ESCO skill (optional, address)",
    ),
    (
        "org.frameworks_hint",
        "Ces codes relient la compétence à celle d'autres centres : le carnet du stagiaire réunit leurs validations en un seul historique.",
        "These codes tie the competency to other centres' own: the trainee's carnet gathers their validations into one history.",
    ),
    ("org.edit", "Modifier", "Edit"),
    ("org.save", "Enregistrer", "Save"),
    ("org.archive", "Archiver", "Archive"),
    ("org.restore", "Réactiver", "Restore"),
    ("org.archived", "Archivées", "Archived"),
    (
        "org.edit_hint",
        "Les attestations déjà signées gardent ce qu'elles disent ; les prochaines porteront la modification. Le code et l'échelle ne changent plus une fois une évaluation enregistrée.",
        "Credentials already signed keep what they say; the next ones carry the change. The code and scale no longer change once an evaluation is recorded.",
    ),
    (
        "org.archive_hint",
        "Une compétence archivée reste dans l'historique et les attestations, mais n'est plus proposée à l'évaluation.",
        "An archived competency stays in the history and the credentials, but is no longer offered for evaluation.",
    ),
    ("org.frameworks", "Référentiels", "Frameworks"),
    (
        "org.scale_example",
        "bronze, argent, or",
        "bronze, silver, gold",
    ),
    ("org.scale", "Échelle", "Scale"),
    ("org.sessions", "Sessions", "Sessions"),
    ("org.new_session", "Nouvelle session", "New session"),
    ("org.title", "Intitulé", "Title"),
    ("org.starts", "Début", "Start"),
    ("org.ends", "Fin", "End"),
    ("org.hours", "Heures prévues", "Planned hours"),
    (
        "org.credentials",
        "Attestations émises",
        "Issued credentials",
    ),
    ("org.holder", "Titulaire", "Issued to"),
    ("zone.times", "Heures locales :", "Local times:"),
    ("credential.competency", "compétence", "competency"),
    ("credential.identity", "identité", "identity"),
    (
        "credential.completion",
        "fin de formation",
        "course completion",
    ),
    ("record.acc", "compte", "account"),
    ("record.tok", "jeton d'accès", "access token"),
    ("record.org", "organisation", "organisation"),
    ("record.ses", "session", "session"),
    ("record.evl", "évaluation", "evaluation"),
    ("record.crd", "attestation", "credential"),
    ("record.ofr", "remise d'attestation", "credential hand-over"),
    ("record.cmp", "compétence", "competency"),
    ("record.scl", "échelle", "scale"),
    ("record.crs", "cours", "course"),
    ("record.frm", "formation", "course programme"),
    ("record.res", "ressource", "resource"),
    ("record.qui", "questionnaire", "quiz"),
    ("record.qop", "questionnaire ouvert", "quiz opened"),
    ("record.inv", "invitation", "invitation"),
    ("record.idr", "demande d'identité", "identity request"),
    ("record.evt", "événement", "event"),
    ("record.slt", "demi-journée", "half-day"),
    ("record.rom", "salon", "room"),
    ("record.rmg", "message", "message"),
    ("record.stl", "liste de statuts", "status list"),
    ("record.key", "clé", "key"),
    ("org.type", "Type", "Type"),
    ("org.issued", "Émise le", "Issued on"),
    ("org.status", "Statut", "Status"),
    ("org.change", "Suspendre ou révoquer…", "Suspend or revoke…"),
    (
        "org.change.what",
        "Une attestation suspendue n'est plus reconnue jusqu'à ce que vous la rétablissiez ; une attestation révoquée ne l'est plus jamais. Les recruteurs qui la vérifient le verront, et son titulaire aussi.",
        "A suspended credential is not recognised until you restore it; a revoked one never is again. Recruiters who check it will see it, and so will the person it was issued to.",
    ),
    (
        "org.change.confirm",
        "Confirmer le changement",
        "Confirm the change",
    ),
    ("org.reason", "Motif", "Reason"),
    ("keys.title", "Clés de signature", "Signing keys"),
    (
        "keys.intro",
        "Elles signent les attestations du centre. Après un changement, les attestations déjà délivrées restent vérifiables : l'ancienne clé reste publiée.",
        "They sign the centre's credentials. After a change, credentials already issued still verify: the old key stays published.",
    ),
    ("keys.alg", "Algorithme", "Algorithm"),
    ("keys.since", "Depuis le", "Since"),
    ("keys.until", "Retirée le", "Retired on"),
    ("keys.active", "en service", "in use"),
    ("keys.rotate", "Changer de clé", "Change key"),
    (
        "keys.es256",
        "ES256 (recommandé, attendu par les portefeuilles européens)",
        "ES256 (recommended, expected by European wallets)",
    ),
    ("keys.eddsa", "Ed25519", "Ed25519"),
    ("org.audit", "Journal d'audit", "Audit log"),
    ("create", "Créer", "Create"),
    ("add", "Ajouter", "Add"),
    ("none", "Aucun pour l'instant.", "None yet."),
    ("admin", "administration", "administrator"),
    ("manager", "responsable", "manager"),
    ("trainer", "formateur", "trainer"),
    ("trainee", "stagiaire", "trainee"),
    ("valid", "valide", "valid"),
    ("revoked", "révoquée", "revoked"),
    ("suspended", "suspendue", "suspended"),
    ("session.members", "Participants", "Participants"),
    ("session.add_member", "Inscrire", "Enrol"),
    ("session.edit", "Modifier la session", "Edit the session"),
    ("session.save", "Enregistrer", "Save"),
    ("session.remove", "Retirer", "Remove"),
    ("session.former", "ancien participant", "former participant"),
    (
        "session.remove_confirm",
        "Retirer de la session (ses évaluations et attestations restent)",
        "Remove from the session (their evaluations and credentials stay)",
    ),
    (
        "session.evaluate",
        "Valider une compétence",
        "Validate a competency",
    ),
    ("session.trainee", "Stagiaire", "Trainee"),
    ("session.competency", "Compétence", "Competency"),
    (
        "session.assessment",
        "Niveau (intitulé de l'échelle ou score)",
        "Level (a label of the scale, or a score)",
    ),
    ("session.comment", "Commentaire", "Comment"),
    (
        "session.submit",
        "Valider et créer l'attestation",
        "Validate and make the credential",
    ),
    (
        "idreq.title",
        "Mon attestation d'identité",
        "My identity credential",
    ),
    (
        "idreq.intro",
        "Le centre vérifie votre identité sur une pièce et vous remet une attestation : vous pourrez alors partager des coordonnées vérifiées avec les recruteurs.",
        "The centre checks your identity on a document and gives you a credential: you can then share verified details with recruiters.",
    ),
    (
        "idreq.message",
        "Un mot pour le centre (facultatif)",
        "A word for the centre (optional)",
    ),
    (
        "idreq.submit",
        "Demander une attestation d'identité",
        "Ask for an identity credential",
    ),
    ("idreq.sent", "Demande envoyée le", "Request sent on"),
    (
        "idreq.waiting",
        "Le centre vous proposera votre attestation dans votre espace.",
        "The centre will offer you the credential in your space.",
    ),
    (
        "idreq.staff",
        "Demandes d'attestation d'identité",
        "Identity credential requests",
    ),
    ("audit.title", "Journal des actions", "Activity log"),
    (
        "audit.intro",
        "Chaque changement qui touche aux droits, aux attestations ou aux données, avec son auteur.",
        "Every change to rights, credentials or data, with who made it.",
    ),
    ("audit.when", "Quand", "When"),
    ("audit.who", "Qui", "Who"),
    ("audit.what", "Action", "Action"),
    ("audit.target", "Objet", "Subject"),
    ("audit.details", "Détails", "Details"),
    ("audit.system", "Carnet (automatique)", "Carnet (automatic)"),
    ("audit.more", "Plus ancien", "Older"),
    (
        "grades.title",
        "Évaluer toute la session",
        "Evaluate the whole session",
    ),
    (
        "grades.intro",
        "Une compétence, tous les stagiaires : choisissez un niveau pour chacun (laissez vide pour ne pas l'évaluer). Un niveau validé propose l'attestation au stagiaire, qui la retrouve dans son espace.",
        "One competency, every trainee: pick a level for each (leave it empty not to evaluate them). A validated level offers the credential to the trainee, who finds it in their space.",
    ),
    ("grades.competency", "Compétence", "Competency"),
    ("grades.choose", "Afficher la feuille", "Show the sheet"),
    ("grades.level", "Niveau", "Level"),
    ("grades.score", "Note sur", "Score out of"),
    ("grades.not_assessed", "— non évalué —", "— not assessed —"),
    (
        "grades.submit",
        "Enregistrer les évaluations",
        "Save the evaluations",
    ),
    (
        "grades.none",
        "Aucun niveau choisi : rien n'a été enregistré.",
        "No level chosen: nothing was saved.",
    ),
    (
        "grades.no_trainee",
        "Aucun stagiaire dans cette session.",
        "No trainee in this session.",
    ),
    (
        "grades.validated",
        "Validée : attestation proposée",
        "Validated: credential offered",
    ),
    (
        "grades.recorded",
        "Enregistrée (non validée)",
        "Saved (not validated)",
    ),
    ("grades.failed", "Non enregistrée", "Not saved"),
    ("grades.summary_validated", "validée(s)", "validated"),
    (
        "grades.summary_recorded",
        "enregistrée(s) sans validation",
        "saved without validation",
    ),
    ("grades.summary_failed", "en erreur", "failed"),
    ("enrol.title", "Inscrire des stagiaires", "Enrol trainees"),
    ("enrol.back", "Retour à la session", "Back to the session"),
    (
        "enrol.file",
        "Liste des stagiaires (fichier CSV exporté d'un tableur)",
        "List of trainees (a CSV file exported from a spreadsheet)",
    ),
    (
        "enrol.file_help",
        "Une ligne par personne, avec une colonne « E-mail » et leur nom (« Nom » et « Prénom », ou « Nom complet »). Rien n'est fait avant votre confirmation.",
        "One row per person, with an « E-mail » column and their name (« Nom » and « Prénom », or « Nom complet »). Nothing is done before you confirm.",
    ),
    ("enrol.read", "Lire la liste", "Read the list"),
    (
        "enrol.unreadable",
        "Ce fichier ne se lit pas comme une liste :",
        "This file does not read as a list:",
    ),
    ("enrol.preview", "Avant d'inscrire", "Before enrolling"),
    ("enrol.done", "Inscriptions faites", "Enrolments done"),
    ("enrol.row", "Ligne", "Row"),
    ("enrol.what", "Ce qui sera fait", "What will be done"),
    ("enrol.what_done", "Ce qui a été fait", "What was done"),
    (
        "enrol.will_enrol",
        "Inscription à la session",
        "Enrolment in the session",
    ),
    (
        "enrol.will_invite",
        "Invitation au centre et à la session",
        "Invitation to the centre and the session",
    ),
    (
        "enrol.enrolled",
        "Inscrit dans la session",
        "Enrolled in the session",
    ),
    ("enrol.invited", "Invité", "Invited"),
    (
        "enrol.already",
        "Déjà dans la session",
        "Already in the session",
    ),
    ("enrol.refused", "Non inscrit", "Not enrolled"),
    (
        "enrol.invalid_email",
        "adresse e-mail invalide",
        "not an e-mail address",
    ),
    (
        "enrol.staff",
        "membre de l'équipe : son rôle se donne un par un",
        "a staff member: their role is given one by one",
    ),
    (
        "enrol.not_member",
        "pas encore au centre : un administrateur ou un gestionnaire l'invite",
        "not at the centre yet: an administrator or manager invites them",
    ),
    (
        "enrol.confirm",
        "Inscrire et inviter ces personnes",
        "Enrol and invite these people",
    ),
    (
        "enrol.links",
        "Les liens d'invitation ne s'affichent qu'une fois : transmettez-les maintenant.",
        "Invitation links are shown only once: pass them on now.",
    ),
    (
        "enrol.nothing",
        "Personne à inscrire dans cette liste.",
        "Nobody to enrol in this list.",
    ),
    ("enrol.summary_enrolled", "inscription(s)", "enrolment(s)"),
    ("enrol.summary_invited", "invitation(s)", "invitation(s)"),
    ("enrol.summary_already", "déjà là", "already there"),
    ("enrol.summary_refused", "refus", "refused"),
    ("session.correct", "Corriger…", "Correct…"),
    (
        "session.correct_hint",
        "La correction remplace cette évaluation dans l'historique du stagiaire ; l'ancienne reste consultable.",
        "The correction replaces this evaluation in the trainee's history; the old one stays on record.",
    ),
    ("session.corrected", "corrigée", "corrected"),
    ("session.correction", "correction", "correction"),
    (
        "session.correct_submit",
        "Enregistrer la correction",
        "Save the correction",
    ),
    ("session.evaluations", "Évaluations", "Evaluations"),
    ("session.level", "Niveau", "Level"),
    ("session.date", "Date", "Date"),
    ("session.validated", "Validée", "Validated"),
    ("yes", "oui", "yes"),
    ("no", "non", "no"),
    (
        "session.identity",
        "Attester l'identité",
        "Certify an identity",
    ),
    (
        "session.identity_intro",
        "Après vérification d'une pièce d'identité : le stagiaire reçoit une attestation d'identité dont il ne partagera que ce qu'il choisit.",
        "Once an identity document has been checked: the trainee receives an identity credential and will share only what they choose of it.",
    ),
    ("id.given", "Prénom", "Given name"),
    ("id.family", "Nom", "Family name"),
    ("id.birthdate", "Date de naissance", "Date of birth"),
    ("id.phone", "Téléphone", "Phone"),
    ("id.street", "Adresse", "Street address"),
    ("id.postal", "Code postal", "Postal code"),
    ("id.locality", "Ville", "City"),
    (
        "id.submit",
        "Créer l'attestation d'identité",
        "Make the identity credential",
    ),
    ("session.calendar", "Calendrier", "Calendar"),
    ("session.attendance", "Émargement", "Attendance"),
    (
        "session.back",
        "Retour à l'organisation",
        "Back to the organisation",
    ),
    ("event.edit", "Modifier", "Edit"),
    (
        "event.save",
        "Enregistrer la modification",
        "Save the change",
    ),
    ("event.cancel", "Annuler l'événement…", "Cancel the event…"),
    (
        "event.cancel_confirm",
        "Confirmer l'annulation (elle reste visible, barrée, dans le calendrier)",
        "Confirm the cancellation (it stays in the calendar, struck through)",
    ),
    ("event.new", "Nouvel événement", "New event"),
    ("event.kind", "Type", "Kind"),
    ("event.course", "cours", "course"),
    ("event.exam", "examen", "exam"),
    ("event.other", "autre", "other"),
    ("event.start", "Début", "Start"),
    ("event.end", "Fin", "End"),
    ("event.when", "Quand", "When"),
    ("event.place", "Lieu", "Place"),
    ("event.cancelled", "annulé", "cancelled"),
    ("att.title", "Émargement", "Attendance"),
    ("att.table", "Tableau", "Table"),
    ("att.rate", "Taux de présence", "Attendance rate"),
    ("att.hours", "Heures suivies", "Hours attended"),
    (
        "att.none",
        "Aucun créneau : créez-les depuis le calendrier, ou un par un.",
        "No slot: make them from the calendar, or one by one.",
    ),
    (
        "att.from_calendar",
        "Créer les créneaux depuis le calendrier",
        "Make the slots from the calendar",
    ),
    ("att.new_slot", "Ajouter une demi-journée", "Add a half-day"),
    ("att.day", "Jour", "Day"),
    ("att.half", "Demi-journée", "Half-day"),
    ("am", "matin", "morning"),
    ("pm", "après-midi", "afternoon"),
    ("present", "présent", "present"),
    ("absent", "absent", "absent"),
    ("late", "en retard", "late"),
    ("excused", "excusé", "excused"),
    ("att.unmarked", "non émargé", "not marked"),
    ("att.mark", "Émarger", "Take attendance"),
    (
        "att.save",
        "Enregistrer l'émargement",
        "Save the attendance",
    ),
    ("att.note", "Remarque", "Note"),
    ("att.countersign", "Contresigner", "Countersign"),
    ("att.countersigned", "Contresigné par", "Countersigned by"),
    (
        "att.code",
        "Code d'émargement à afficher",
        "Check-in code to show",
    ),
    ("att.code_valid", "valable jusqu'à", "valid until"),
    (
        "att.sheet",
        "Feuille d'émargement imprimable",
        "Printable attendance sheet",
    ),
    ("att.csv", "Export CSV", "CSV export"),
    ("att.mine", "Mes présences", "My attendance"),
    ("att.of", "Présences de", "Attendance of"),
    ("att.all", "Toute la feuille", "The whole sheet"),
    (
        "att.check_in",
        "Émarger avec le code affiché",
        "Check in with the code shown",
    ),
    ("att.code_input", "Code à 6 chiffres", "6-digit code"),
    (
        "att.wrong_codes",
        "code(s) d'émargement faux",
        "wrong check-in code(s)",
    ),
    (
        "att.locked",
        "Émargement par code bloqué après trop de codes faux : à marquer à la main",
        "Check-in by code locked after too many wrong codes: mark by hand",
    ),
    (
        "att.back",
        "Retour à l'émargement",
        "Back to the attendance",
    ),
    ("session.quizzes", "Questionnaires", "Quizzes"),
    ("session.rooms", "Salons", "Rooms"),
    ("quiz.edit", "Modifier", "Edit"),
    (
        "quiz.edit_hint",
        "Modifiable jusqu'à son ouverture à une session.",
        "Can be changed until it opens to a session.",
    ),
    ("quiz.save", "Enregistrer", "Save"),
    (
        "quiz.library",
        "Questionnaires de l'organisation",
        "The organisation's quizzes",
    ),
    ("quiz.new", "Nouveau questionnaire", "New quiz"),
    ("quiz.name", "Titre", "Title"),
    ("quiz.questions", "Questions", "Questions"),
    (
        "quiz.help",
        "Une question par paragraphe (une ligne vide entre deux). Première ligne : la question, ses points entre crochets à la fin ([2], sinon 1). Puis « * » devant chaque bonne réponse, « - » devant chaque mauvaise ; ou « = » devant chaque réponse libre acceptée ; sans proposition, la réponse libre est notée à la main.",
        "One question per paragraph (a blank line between two). First line: the question, its points in brackets at the end ([2], else 1). Then \"* \" before each right option and \"- \" before each wrong one; or \"= \" before each free answer accepted; without options, the free answer is graded by hand.",
    ),
    ("quiz.open_to", "Ouvrir à la session", "Open to the session"),
    ("quiz.opens", "Ouvert du", "Opens"),
    ("quiz.closes", "au", "Closes"),
    (
        "quiz.opened",
        "Questionnaires de la session",
        "The session's quizzes",
    ),
    ("quiz.open", "ouvert", "open"),
    ("quiz.closed", "fermé", "closed"),
    ("quiz.upcoming", "à venir", "upcoming"),
    ("quiz.submissions", "réponses", "answers"),
    ("quiz.results", "Résultats", "Results"),
    ("quiz.submit", "Envoyer mes réponses", "Send my answers"),
    (
        "quiz.once",
        "Une seule réponse par personne.",
        "One answer per person.",
    ),
    ("quiz.my_score", "Mon résultat", "My result"),
    ("quiz.pending", "à noter", "to grade"),
    ("quiz.not_yet", "pas encore répondu", "not answered yet"),
    ("quiz.grade", "Noter", "Grade"),
    ("quiz.none", "Aucun.", "None."),
    (
        "quiz.back",
        "Retour aux questionnaires",
        "Back to the quizzes",
    ),
    (
        "room.information",
        "Salon d'information",
        "Information room",
    ),
    ("room.others", "Autres salons", "Other rooms"),
    (
        "room.private",
        "Discuter en privé avec",
        "Chat privately with",
    ),
    ("room.open", "Ouvrir", "Open"),
    ("room.write", "Votre message", "Your message"),
    ("room.send", "Envoyer", "Send"),
    ("room.remove", "Retirer", "Remove"),
    (
        "room.remove.what",
        "Le message disparaît pour tous ; la salle indique qu'il a été retiré par la modération.",
        "The message disappears for everyone; the room says a moderator removed it.",
    ),
    (
        "room.remove.confirm",
        "Oui, retirer ce message",
        "Yes, remove this message",
    ),
    (
        "course.detach.what",
        "La ressource reste dans la bibliothèque du centre ; elle n'apparaît plus dans ce cours.",
        "The resource stays in the centre's library; it no longer appears in this course.",
    ),
    (
        "course.detach.confirm",
        "Oui, retirer du cours",
        "Yes, take it out of the course",
    ),
    (
        "room.removed",
        "message retiré par la modération",
        "message removed by a moderator",
    ),
    ("room.mute", "Rendre muet", "Mute"),
    ("room.minutes", "Durée (minutes)", "For (minutes)"),
    ("room.messages", "Messages", "Messages"),
    (
        "room.read_only",
        "Seule l'équipe écrit dans ce salon.",
        "Only the staff write in this room.",
    ),
    (
        "org.courses",
        "Cours, ressources et formations",
        "Courses, resources and formations",
    ),
    ("course.courses", "Cours", "Courses"),
    ("course.new", "Nouveau cours", "New course"),
    ("course.resources", "Ressources", "Resources"),
    (
        "course.text",
        "Nouvelle ressource texte",
        "New text resource",
    ),
    ("course.link", "Nouveau lien", "New link"),
    ("course.file", "Déposer un fichier", "Upload a file"),
    (
        "course.file_help",
        "PDF, image, vidéo ou document bureautique.",
        "PDF, image, video or office document.",
    ),
    ("course.no_file", "Choisissez un fichier.", "Choose a file."),
    ("course.body", "Texte", "Text"),
    ("course.url", "Adresse (https://…)", "Address (https://…)"),
    ("course.attach", "Ajouter au cours", "Add to the course"),
    (
        "course.competencies",
        "Compétences travaillées",
        "Competencies taught",
    ),
    ("course.save", "Enregistrer", "Save"),
    ("course.edit", "Modifier", "Edit"),
    ("course.archive", "Archiver", "Archive"),
    ("course.restore", "Réactiver", "Restore"),
    ("course.archived", "archivé", "archived"),
    (
        "course.detach",
        "Retirer du cours",
        "Take out of the course",
    ),
    ("course.copy", "Dupliquer", "Duplicate"),
    ("course.up", "Monter", "Move up"),
    (
        "course.archive_hint",
        "Archivé, il reste là où il sert mais n'est plus proposé.",
        "Archived, it stays where it is used but is no longer offered.",
    ),
    (
        "course.shared_hint",
        "Modifier une ressource la change dans tous les cours qui la partagent ; dupliquez-la pour une version à part.",
        "Changing a resource changes it in every course that shares it; duplicate it for a separate version.",
    ),
    ("course.formations", "Formations", "Formations"),
    (
        "course.new_formation",
        "Nouvelle formation",
        "New formation",
    ),
    (
        "course.formation_courses",
        "Cours de la formation",
        "The formation's courses",
    ),
    ("course.none", "Aucun pour l'instant.", "None yet."),
    ("course.kind_text", "texte", "text"),
    ("course.kind_link", "lien", "link"),
    ("course.kind_file", "fichier", "file"),
    (
        "session.resources",
        "Ressources de la session",
        "The session's resources",
    ),
    ("session.formation", "Formation", "Formation"),
    ("invite.title", "Inviter quelqu'un", "Invite someone"),
    (
        "invite.session",
        "Et l'inscrire à la session",
        "And enrol them in the session",
    ),
    ("invite.submit", "Créer l'invitation", "Make the invitation"),
    ("invite.done", "Invitation prête", "Invitation ready"),
    (
        "invite.give",
        "Envoyez ce lien à la personne invitée : il n'est montré qu'une fois et expire dans 14 jours. Elle crée son compte ou se connecte, puis accepte.",
        "Send this link to the person invited: it is shown only once and expires in 14 days. They create an account or sign in, then accept.",
    ),
    (
        "invite.sign_in",
        "Vous êtes invité : connectez-vous ou créez votre compte, puis acceptez l'invitation.",
        "You are invited: sign in or create your account, then accept the invitation.",
    ),
    (
        "invite.accept_title",
        "Rejoindre l'organisation",
        "Join the organisation",
    ),
    (
        "invite.accept",
        "Accepter l'invitation",
        "Accept the invitation",
    ),
    (
        "invite.verify_first",
        "L'invitation vous attend : confirmez d'abord votre adresse e-mail, celle à laquelle elle a été envoyée. Vous reviendrez ici ensuite.",
        "The invitation is waiting for you: first confirm your e-mail address, the one it was sent to. You will come back here afterwards.",
    ),
    (
        "invite.verify_go",
        "Confirmer mon adresse",
        "Confirm my address",
    ),
    (
        "feed.get",
        "S'abonner au calendrier",
        "Subscribe to the calendar",
    ),
    (
        "feed.title",
        "Abonnement au calendrier",
        "Calendar subscription",
    ),
    (
        "feed.intro",
        "Ajoutez cette adresse secrète à votre agenda (Thunderbird, Outlook, téléphone) : il suivra les changements. Ne la partagez pas ; en demander une nouvelle remplace celle-ci.",
        "Add this secret address to your calendar application (Thunderbird, Outlook, phone): it follows the changes. Do not share it; asking for a new one replaces it.",
    ),
    (
        "completion.title",
        "Attestation de fin de formation",
        "Completion certificate",
    ),
    (
        "completion.submit",
        "Délivrer l'attestation",
        "Issue the certificate",
    ),
    ("secret.copy", "Lien", "Link"),
    ("att.view_table", "Tableau", "Table"),
    ("att.view_calendar", "Mois", "Month"),
    ("att.view_week", "Semaine", "Week"),
    ("att.week_of", "Semaine du", "Week of"),
    ("att.previous", "← Précédent", "← Previous"),
    ("att.next", "Suivant →", "Next →"),
    ("att.no_slot", "—", "—"),
    ("att.view_list", "Liste", "List"),
    ("day.1", "lun.", "Mon"),
    ("day.2", "mar.", "Tue"),
    ("day.3", "mer.", "Wed"),
    ("day.4", "jeu.", "Thu"),
    ("day.5", "ven.", "Fri"),
    ("day.6", "sam.", "Sat"),
    ("day.7", "dim.", "Sun"),
    (
        "offer.title",
        "Attestation prête à remettre",
        "Credential ready to hand over",
    ),
    (
        "offer.intro",
        "Le stagiaire scanne ce QR code avec son carnet, ou y colle le lien, puis saisit le code PIN. Il la retrouve aussi dans son espace du centre, d'où il l'ajoute à son carnet en un geste.",
        "The trainee scans this QR code with their carnet, or pastes the link there, then types the PIN. They also find it in their space at the centre, where one tap adds it to their carnet.",
    ),
    ("offer.link", "Lien de l'offre", "Offer link"),
    ("offer.pin", "Code PIN", "PIN"),
    ("offer.qr", "QR code de l'offre", "QR code of the offer"),
    (
        "offer.not_validated",
        "Évaluation enregistrée ; ce niveau ne valide pas la compétence, aucune attestation n'est créée.",
        "Evaluation saved; this level does not validate the competency, so no credential is made.",
    ),
    ("offer.back", "Retour à la session", "Back to the session"),
    ("offer.for", "Pour", "For"),
    ("offer.level", "niveau", "level"),
    (
        "offer.to_wallet",
        "Ajouter à mon carnet",
        "Add to my carnet",
    ),
    ("offer.expires", "Expire le", "Expires on"),
    ("offer.redeemed", "déjà reçue", "already received"),
];

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Tenant {
    id: String,
    name: String,
    siret: String,
    #[serde(default)]
    my_roles: Vec<String>,
}

#[derive(Deserialize)]
struct Member {
    account_id: String,
    email: String,
    display_name: String,
    role: String,
}

#[derive(Deserialize)]
struct Scale {
    id: String,
    name: String,
    scale: Value,
    #[serde(default)]
    archived_at: Option<i64>,
}

impl Scale {
    fn levels(&self) -> String {
        match self.scale["kind"].as_str() {
            Some("levels") => self.scale["labels"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" < ")
                })
                .unwrap_or_default(),
            _ => format!("{} / {}", self.scale["pass"], self.scale["max"]),
        }
    }
}

#[derive(Deserialize, Clone)]
struct Competency {
    id: String,
    code: String,
    name: String,
    #[serde(default)]
    scale_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    framework_codes: BTreeMap<String, String>,
    #[serde(default)]
    archived_at: Option<i64>,
}

/// The frameworks whose codes identify a competency across centres, as the forms ask them.
const FRAMEWORKS: [&str; 4] = ["rome", "rncp", "rs", "esco"];

impl Competency {
    fn framework(&self, name: &str) -> &str {
        self.framework_codes.get(name).map_or("", String::as_str)
    }

    fn frameworks(&self) -> String {
        self.framework_codes
            .iter()
            .map(|(k, v)| format!("{} {v}", k.to_uppercase()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Deserialize)]
struct TrainingSession {
    id: String,
    title: String,
    starts_on: String,
    ends_on: String,
    planned_hours: i64,
    timezone: String,
}

impl TrainingSession {
    /// Where the session's clock is, as its forms say it next to their times: the city of
    /// its time zone (« Paris », « Martinique »).
    fn clock_city(&self) -> String {
        self.timezone
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('_', " ")
    }
}

#[derive(Deserialize)]
struct Evaluation {
    id: String,
    #[serde(default)]
    supersedes: Option<String>,
    session_id: String,
    trainee_id: String,
    competency_id: String,
    validated: i64,
    level_label: String,
    assessed_on: String,
    comment: String,
}

#[derive(Deserialize)]
struct Issued {
    id: String,
    account_id: String,
    vct: String,
    status: i64,
    issued_at: i64,
}

#[derive(Deserialize)]
struct OfferLink {
    offer_link: String,
    tx_code: Option<String>,
    expires_at: i64,
    #[serde(default)]
    redeemed: bool,
}

#[derive(Deserialize)]
struct Event {
    id: String,
    title: String,
    kind: String,
    starts_at: String,
    ends_at: String,
    #[serde(default)]
    place: Option<String>,
    #[serde(default)]
    cancelled: bool,
}

impl Event {
    fn kind_key(&self) -> &'static str {
        event_key(&self.kind)
    }

    /// « 2 mars 2026, 09:00 – 12:30 » (or to another day), in the page's language.
    fn when(&self, chrome: &Chrome) -> String {
        let (day, start) = self
            .starts_at
            .split_once('T')
            .unwrap_or((&self.starts_at, ""));
        let end = match self.ends_at.split_once('T') {
            Some((d, t)) if d == day => t.to_owned(),
            Some((d, t)) => format!("{}, {t}", chrome.date(d)),
            None => self.ends_at.clone(),
        };
        format!("{}, {start} – {end}", chrome.date(day))
    }
}

fn event_key(kind: &str) -> &'static str {
    match kind {
        "course" => "event.course",
        "exam" => "event.exam",
        _ => "event.other",
    }
}

impl Issued {
    fn status_name(&self) -> &'static str {
        match self.status {
            0 => "valid",
            1 => "revoked",
            _ => "suspended",
        }
    }
}

/// An offer as shown to hand it over: link, PIN and QR code (SVG, inline).
struct Offer {
    link: String,
    pin: String,
    qr: String,
    expires: String,
    redeemed: bool,
    /// The offer opened in the deployment's wallet, its PIN in the fragment (never sent to a
    /// server): the trainee's one tap. Empty without a wallet.
    wallet: String,
}

fn offer(lang: Lang, link: OfferLink, wallet_url: &str) -> Offer {
    Offer {
        wallet: if wallet_url.is_empty() {
            String::new()
        } else {
            format!(
                "{wallet_url}?offer={}{}",
                carnet_core::oid4vci::percent_encode(&link.offer_link),
                link.tx_code
                    .as_deref()
                    .map(|pin| format!("#tx_code={pin}"))
                    .unwrap_or_default()
            )
        },
        qr: qr::svg(&link.offer_link).unwrap_or_default(),
        pin: link.tx_code.unwrap_or_default(),
        expires: carnet_service::web::moment(lang, link.expires_at),
        redeemed: link.redeemed,
        link: link.offer_link,
    }
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn chrome(state: &IssuerState, lang: Lang, session: &PageSession) -> Chrome {
    Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0)
}

#[derive(Template)]
#[template(path = "issuer_home.html")]
struct HomePage {
    chrome: Chrome,
    organisations: Vec<Tenant>,
    offers: Vec<Offer>,
    /// Today's slots in the visitor's sessions, in order.
    today: Vec<TodaySlot>,
    /// Sessions under way or to come, soonest first; then those ended, latest first.
    current: Vec<SessionCard>,
    past: Vec<SessionCard>,
}

/// A session as the dashboard shows it.
struct SessionCard {
    page: String,
    title: String,
    organisation: String,
    /// « du 5 janvier au 26 juin 2026 ».
    dates: String,
    /// Under way today.
    running: bool,
}

/// A slot of today in one of the visitor's sessions.
struct TodaySlot {
    session: String,
    title: String,
    /// « 08:30 – 12:00 ».
    hours: String,
    place: String,
    /// The session's page.
    page: String,
    /// Where its attendance is taken: the slot's own page for the session's staff, else the
    /// session's attendance.
    attendance: String,
}

/// The dashboard's sessions and today's slots, across the visitor's organisations.
async fn dashboard(
    api: &Backend,
    lang: Lang,
    base: &str,
    now: i64,
    organisations: &[Tenant],
) -> Result<(Vec<TodaySlot>, Vec<SessionCard>, Vec<SessionCard>), Problem> {
    let (mut today, mut current, mut past) = (Vec::new(), Vec::new(), Vec::new());
    for org in organisations {
        let sessions: Vec<crate::sessions::TrainingSession> = api
            .get(&format!("/api/v1/organisations/{}/sessions", org.id))
            .await?;
        for s in sessions {
            let local = carnet_service::web::local_time(now, &s.timezone);
            let day = &local[..10];
            let page = format!("{base}/orgs/{}/sessions/{}", org.id, s.id);
            let card = SessionCard {
                page: page.clone(),
                title: s.title.clone(),
                organisation: org.name.clone(),
                dates: carnet_service::web::period(lang, &s.starts_on, &s.ends_on),
                running: s.starts_on.as_str() <= day && day <= s.ends_on.as_str(),
            };
            if card.running {
                // The slots made from the calendar, for the staff (others are refused them).
                let slots: Vec<Value> = api
                    .get::<Value>(&format!(
                        "/api/v1/organisations/{}/sessions/{}/attendance",
                        org.id, s.id
                    ))
                    .await
                    .map(|table| table["slots"].as_array().cloned().unwrap_or_default())
                    .unwrap_or_default();
                let events: Vec<crate::calendar::Event> = api
                    .get(&format!(
                        "/api/v1/organisations/{}/sessions/{}/events?from={day}&to={day}",
                        org.id, s.id
                    ))
                    .await?;
                for e in events.into_iter().filter(|e| !e.cancelled) {
                    let clock = |at: &str| at.get(11..16).unwrap_or_default().to_owned();
                    let attendance = slots
                        .iter()
                        .find(|slot| slot["event_id"].as_str() == Some(e.id.as_str()))
                        .and_then(|slot| slot["id"].as_str())
                        .map_or_else(
                            || format!("{page}/attendance"),
                            |slot| format!("{page}/attendance/{slot}"),
                        );
                    today.push(TodaySlot {
                        attendance,
                        session: s.title.clone(),
                        title: e.title,
                        hours: format!("{} – {}", clock(&e.starts_at), clock(&e.ends_at)),
                        place: e.place.unwrap_or_default(),
                        page: page.clone(),
                    });
                }
            }
            if s.ends_on.as_str() < day {
                past.push((s.ends_on.clone(), card));
            } else {
                current.push((s.starts_on.clone(), card));
            }
        }
    }
    today.sort_by(|a, b| a.hours.cmp(&b.hours));
    current.sort_by(|a, b| a.0.cmp(&b.0));
    past.sort_by(|a, b| b.0.cmp(&a.0));
    let cards = |v: Vec<(String, SessionCard)>| v.into_iter().map(|(_, c)| c).collect();
    Ok((today, cards(current), cards(past)))
}

async fn home(
    State(state): State<IssuerState>,
    lang: Lang,
    session: Result<PageSession, ApiError>,
    api: Backend,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    // Signed out, the portal's home is where one signs in (and then goes on to `next`).
    let Ok(session) = session else {
        let next = query.get("next").map_or("", String::as_str);
        return sign_in_page(
            &state.ctx,
            lang,
            CATALOG,
            StatusCode::OK,
            String::new(),
            next,
        );
    };
    let view = async {
        let organisations = api
            .get::<Items<Tenant>>("/api/v1/organisations?limit=100")
            .await?
            .items;
        // Until the address is confirmed (the banner of every page says so), none.
        let offers = if session.0.email_verified {
            api.get::<Vec<OfferLink>>("/api/v1/me/credential-offers")
                .await?
        } else {
            Vec::new()
        };
        let offers = offers
            .into_iter()
            .filter(|o| !o.redeemed)
            .map(|o| offer(lang, o, &state.ctx.config.wallet_url))
            .collect();
        let (today, current, past) = dashboard(
            &api,
            lang,
            state.ctx.config.path_prefix(),
            state.ctx.now_ms(),
            &organisations,
        )
        .await?;
        Ok(HomePage {
            chrome: chrome(&state, lang, &session),
            organisations,
            offers,
            today,
            current,
            past,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "issuer_organisation.html")]
struct OrganisationPage {
    chrome: Chrome,
    org: Tenant,
    staff: bool,
    members: Vec<Member>,
    scales: Vec<Scale>,
    competencies: Vec<Competency>,
    sessions: Vec<TrainingSession>,
    credentials: Vec<(Issued, String)>,
    formations: Vec<Formation>,
    /// The roles the visitor may give by invitation (`roles::OrgRole::can_grant`), lowest first.
    grantable: Vec<&'static str>,
    /// Whether the visitor adds members directly (administrators).
    adds_members: bool,
    /// The signing keys, for an administrator (who rotates them).
    keys: Vec<KeyInfo>,
    /// Identity requests waiting: all, for those who attest; a trainee's own.
    identity_requests: Vec<IdentityRequest>,
    /// The visitor is a trainee here (asks for their identity credential).
    trainee: bool,
    /// The visitor attests identities (administrators and managers).
    attests: bool,
}

#[derive(Deserialize)]
struct IdentityRequest {
    account_id: String,
    display_name: String,
    email: String,
    #[serde(default)]
    message: String,
    created_at: i64,
}

#[derive(Deserialize)]
struct KeyInfo {
    alg: String,
    active: bool,
    created_at: i64,
    #[serde(default)]
    retired_at: Option<i64>,
}

impl OrganisationPage {
    /// The catalog key of a credential's kind, from its type.
    fn credential_kind(&self, vct: &str) -> &'static str {
        match vct.rsplit('/').next() {
            Some("identity") => "credential.identity",
            Some("completion") => "credential.completion",
            _ => "credential.competency",
        }
    }

    fn archived_competencies(&self) -> usize {
        self.competencies
            .iter()
            .filter(|c| c.archived_at.is_some())
            .count()
    }
}

async fn organisation(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(org): Path<String>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let org: Tenant = api.get(&base).await?;
        let staff = org.my_roles.iter().any(|r| r != "trainee");
        let highest = crate::roles::OrgRole::highest(&org.my_roles);
        let grantable = crate::roles::OrgRole::ALL
            .into_iter()
            .rev()
            .filter(|r| highest.is_some_and(|h| h.can_grant(*r)))
            .map(crate::roles::OrgRole::as_str)
            .collect();
        let adds_members = highest == Some(crate::roles::OrgRole::Admin);
        let keys = if adds_members {
            api.get(&format!("{base}/keys")).await?
        } else {
            Vec::new()
        };
        let trainee = org.my_roles.iter().any(|r| r == "trainee");
        let attests = org.my_roles.iter().any(|r| r == "admin" || r == "manager");
        let identity_requests = if trainee || attests {
            api.get(&format!("{base}/identity-requests")).await?
        } else {
            Vec::new()
        };
        let sessions = api.get(&format!("{base}/sessions")).await?;
        let formations = if staff {
            api.get(&format!("{base}/formations")).await?
        } else {
            Vec::new()
        };
        let (members, scales, competencies, credentials) = if staff {
            let members: Vec<Member> = api.get(&format!("{base}/members")).await?;
            let names: BTreeMap<&str, &str> = members
                .iter()
                .map(|m| (m.account_id.as_str(), m.display_name.as_str()))
                .collect();
            let credentials = api
                .get::<Vec<Issued>>(&format!("{base}/credentials"))
                .await?
                .into_iter()
                .map(|c| {
                    let name = names.get(c.account_id.as_str()).copied().unwrap_or("");
                    let name = name.to_owned();
                    (c, name)
                })
                .collect();
            (
                members,
                api.get(&format!("{base}/scales")).await?,
                api.get(&format!("{base}/competencies")).await?,
                credentials,
            )
        } else {
            Default::default()
        };
        Ok(OrganisationPage {
            chrome: chrome(&state, lang, &session),
            org,
            staff,
            members,
            scales,
            competencies,
            sessions,
            credentials,
            formations,
            grantable,
            adds_members,
            keys,
            identity_requests,
            trainee,
            attests,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

struct EvaluationRow {
    id: String,
    trainee_id: String,
    competency_id: String,
    /// Another evaluation corrects this one (it stays in the history).
    corrected: bool,
    /// This one corrects another.
    correction: bool,
    /// The trainee is in the session still (an evaluation is corrected only then).
    in_session: bool,
    /// `None` for someone no longer in the session whom the visitor cannot name.
    trainee: Option<String>,
    competency: String,
    level: String,
    date: String,
    validated: bool,
    comment: String,
}

#[derive(Template)]
#[template(path = "issuer_session.html")]
struct SessionPage {
    chrome: Chrome,
    org: Tenant,
    session: TrainingSession,
    /// Teaches or runs the session: evaluates, takes attendance, opens quizzes.
    staff: bool,
    /// Runs the session (docs/ROLES.md): its members, calendar and completion.
    runs: bool,
    /// Attests trainees' identity: the organisation's administrators and managers.
    attests: bool,
    /// The visitor's account (nobody removes themselves).
    me: String,
    members: Vec<Member>,
    org_members: Vec<Member>,
    competencies: Vec<Competency>,
    evaluations: Vec<EvaluationRow>,
    events: Vec<Event>,
    resources: Vec<CourseWithResources>,
}

impl SessionPage {
    fn event_key(&self, kind: &str) -> &'static str {
        event_key(kind)
    }

    fn trainees(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role == "trainee")
    }
}

async fn session(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let org: Tenant = api.get(&base).await?;
        let session = api
            .get::<Vec<TrainingSession>>(&format!("{base}/sessions"))
            .await?
            .into_iter()
            .find(|s| s.id == sid)
            .ok_or(Problem::not_found())?;
        // A trainee lists only the session's staff.
        let members: Vec<Member> = api
            .get(&format!("{base}/sessions/{sid}/members"))
            .await
            .unwrap_or_default();
        let me = page_session.0.account_id.as_str();
        // What the visitor may do here, as docs/ROLES.md says (the API decides; the page only
        // shows the forms the API will take from them).
        let attests = org.my_roles.iter().any(|r| r == "admin" || r == "manager");
        let holds = |role: &str| members.iter().any(|m| m.account_id == me && m.role == role);
        let runs = attests || holds("manager");
        let staff = runs || holds("trainer");
        let events = api.get(&format!("{base}/sessions/{sid}/events")).await?;
        let resources = api
            .get(&format!("{base}/sessions/{sid}/resources"))
            .await
            .unwrap_or_default();
        let (org_members, competencies, evaluations) = if staff {
            let org_members: Vec<Member> = if runs {
                api.get(&format!("{base}/members")).await?
            } else {
                Vec::new()
            };
            let competencies: Vec<Competency> = api.get(&format!("{base}/competencies")).await?;
            let evaluations = api
                .get::<Vec<Evaluation>>(&format!("{base}/evaluations"))
                .await
                .unwrap_or_default();
            let corrected: Vec<String> = evaluations
                .iter()
                .filter_map(|e| e.supersedes.clone())
                .collect();
            let evaluations = evaluations
                .into_iter()
                .filter(|e| e.session_id == sid)
                .map(|e| EvaluationRow {
                    corrected: corrected.contains(&e.id),
                    in_session: members.iter().any(|m| m.account_id == e.trainee_id),
                    correction: e.supersedes.is_some(),
                    id: e.id.clone(),
                    trainee_id: e.trainee_id.clone(),
                    competency_id: e.competency_id.clone(),
                    // Someone taken out of the session keeps their evaluations: named from
                    // the organisation's members when the visitor reads them.
                    trainee: members
                        .iter()
                        .chain(&org_members)
                        .find(|m| m.account_id == e.trainee_id)
                        .map(|m| m.display_name.clone()),
                    competency: competencies
                        .iter()
                        .find(|c| c.id == e.competency_id)
                        .map_or(e.competency_id.clone(), |c| c.name.clone()),
                    level: e.level_label,
                    date: e.assessed_on,
                    validated: e.validated != 0,
                    comment: e.comment,
                })
                .collect();
            // Only what is not archived is offered for a new evaluation.
            let competencies = competencies
                .into_iter()
                .filter(|c| c.archived_at.is_none())
                .collect();
            (org_members, competencies, evaluations)
        } else {
            Default::default()
        };
        Ok(SessionPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session,
            staff,
            runs,
            attests,
            me: me.to_owned(),
            members,
            org_members,
            competencies,
            evaluations,
            events,
            resources,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Template)]
#[template(path = "issuer_offer.html")]
struct OfferPage {
    chrome: Chrome,
    offer: Option<Offer>,
    /// For an evaluation: the trainee, the competency and the level it is for.
    evaluated: Option<(String, String, String)>,
    back: String,
}

#[derive(Deserialize)]
struct EvaluateForm {
    csrf: String,
    trainee_id: String,
    competency_id: String,
    assessment: String,
    #[serde(default)]
    comment: String,
    /// The evaluation this one corrects.
    #[serde(default)]
    supersedes: Option<String>,
}

/// Validates a competency, and shows the credential offer to hand over.
async fn evaluate(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(form): Form<EvaluateForm>,
) -> Response {
    let assessment = form.assessment.trim();
    // A score is a number; anything else is a label of the scale.
    let assessment = assessment
        .parse::<u32>()
        .map_or_else(|_| json!(assessment), |n| json!(n));
    let mut body = json!({"trainee_id": form.trainee_id, "competency_id": form.competency_id,
        "assessment": assessment, "comment": form.comment});
    if let Some(old) = form.supersedes.filter(|s| !s.is_empty()) {
        body["supersedes"] = json!(old);
    }
    let path = format!("/api/v1/organisations/{org}/sessions/{sid}/evaluations");
    let back = format!(
        "{}/orgs/{org}/sessions/{sid}",
        state.ctx.config.path_prefix()
    );
    offer_page(
        &state,
        lang,
        &session,
        &api,
        Method::POST,
        &path,
        &form.csrf,
        body,
        back,
        "offer",
    )
    .await
}

/// Certifies a trainee's identity, and shows the credential offer to hand over.
async fn identity(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, account)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let body = match form_json(&fields) {
        Ok(body) => body,
        Err(detail) => return failed(&state.ctx, lang, CATALOG, Problem::from(detail)),
    };
    // Back to the session the form was on, else to the organisation (its identity requests).
    let back = match field(&fields, "_session") {
        "" => format!("{}/orgs/{org}", state.ctx.config.path_prefix()),
        session => format!(
            "{}/orgs/{org}/sessions/{session}",
            state.ctx.config.path_prefix()
        ),
    };
    let path = format!("/api/v1/organisations/{org}/trainees/{account}/identity");
    offer_page(
        &state,
        lang,
        &session,
        &api,
        Method::PUT,
        &path,
        field(&fields, "csrf"),
        body,
        back,
        "",
    )
    .await
}

/// Calls the API to make a credential offer (found at `pointer` in the answer, or the answer
/// itself) and shows it.
#[allow(clippy::too_many_arguments)]
async fn offer_page(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    method: Method,
    path: &str,
    csrf: &str,
    body: Value,
    back: String,
    pointer: &str,
) -> Response {
    match api.call(method, path, csrf, Some(body)).await {
        Ok(answer) => {
            let link = if pointer.is_empty() {
                answer.clone()
            } else {
                answer[pointer].clone()
            };
            // On the staff's page the trainee takes the offer with their phone (the QR code);
            // the wallet's link is for the trainee's own pages.
            let page = OfferPage {
                chrome: chrome(state, lang, session),
                offer: serde_json::from_value::<OfferLink>(link)
                    .ok()
                    .map(|o| offer(lang, o, "")),
                evaluated: answer["evaluation"].is_object().then(|| {
                    (
                        text_of(&answer["trainee_name"]),
                        text_of(&answer["competency_name"]),
                        text_of(&answer["evaluation"]["level_label"]),
                    )
                }),
                back,
            };
            (StatusCode::CREATED, render(lang, page.render())).into_response()
        }
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

#[derive(Deserialize)]
struct Slot {
    id: String,
    day: String,
    half: String,
    starts: String,
    ends: String,
    title: String,
    #[serde(default)]
    countersigned_by_name: Option<String>,
}

/// The catalog key of a half-day as the API names it (`morning`, `afternoon`).
fn half_key(half: &str) -> &'static str {
    if half == "afternoon" { "pm" } else { "am" }
}

impl Slot {
    fn half_key(&self) -> &'static str {
        half_key(&self.half)
    }
}

#[derive(Deserialize)]
struct Mark {
    slot_id: String,
    trainee_id: String,
    status: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize, Clone)]
struct TraineeSummary {
    account_id: String,
    display_name: String,
    #[serde(default)]
    rate: Option<f64>,
    attended_minutes: i64,
}

#[derive(Deserialize)]
struct Table {
    slots: Vec<Slot>,
    trainees: Vec<TraineeSummary>,
    marks: Vec<Mark>,
    #[serde(default)]
    check_in_failures: Vec<CheckInFailures>,
}

/// Wrong check-in codes a trainee gave in a slot.
#[derive(Deserialize, Clone)]
struct CheckInFailures {
    slot_id: String,
    trainee_id: String,
    failures: i64,
    locked: bool,
}

impl Table {
    fn mark(&self, slot: &str, trainee: &str) -> Option<&Mark> {
        self.marks
            .iter()
            .find(|m| m.slot_id == slot && m.trainee_id == trainee)
    }
}

/// The catalog key of an attendance status.
fn status_key(status: &str) -> &'static str {
    match status {
        "present" => "present",
        "absent" => "absent",
        "late" => "late",
        "excused" => "excused",
        _ => "att.unmarked",
    }
}

#[derive(Deserialize)]
struct TraineeSlot {
    id: String,
    day: String,
    half: String,
    starts: String,
    ends: String,
    #[serde(default)]
    status: Option<String>,
}

impl TraineeSlot {
    fn half_key(&self) -> &'static str {
        half_key(&self.half)
    }
}

#[derive(Deserialize)]
struct TraineeAttendance {
    summary: TraineeSummary,
    slots: Vec<TraineeSlot>,
}

#[derive(Template)]
#[template(path = "issuer_attendance.html")]
struct AttendancePage {
    chrome: Chrome,
    org: String,
    session: String,
    title: String,
    /// The whole table for staff; a trainee's own list otherwise.
    table: Option<Table>,
    mine: Option<TraineeAttendance>,
    /// The month shown, when the calendar view is asked (`?view=calendar&month=YYYY-MM`),
    /// with the months before and after it that have half-days.
    calendar: Option<Month>,
    /// The week shown (`?view=week&week=YYYY-MM-DD`, its Monday): its days with their
    /// half-days, and the weeks before and after.
    week: Option<Week>,
    /// The links to the previous and next month or week, when there are.
    previous: String,
    next: String,
}

/// A week of the week view: each day's date in words and its half-days.
struct Week {
    /// « semaine du 2 novembre 2026 ».
    title: String,
    days: Vec<(String, Vec<CalendarEntry>)>,
}

/// A half-day in the calendar view: its catalog keys (half, status), a count for staff, and the
/// page to mark it (staff).
struct CalendarEntry {
    half: &'static str,
    status: &'static str,
    count: String,
    link: String,
    /// « 09:00 – 12:30 », and what is taught (staff).
    hours: String,
    title: String,
}

/// A day of the calendar view (its number and half-days), or none before the first.
type Day = Option<(u32, Vec<CalendarEntry>)>;

/// A month of the calendar view, Monday first.
struct Month {
    year: i64,
    month: u32,
    weeks: Vec<Vec<Day>>,
}

/// Entries by day (days since 1970-01-01).
fn by_day(entries: Vec<(String, CalendarEntry)>) -> BTreeMap<i64, Vec<CalendarEntry>> {
    let mut by_day: BTreeMap<i64, Vec<CalendarEntry>> = BTreeMap::new();
    for (day, entry) in entries {
        if let Some(n) = day_number(&day) {
            by_day.entry(n).or_default().push(entry);
        }
    }
    by_day
}

/// The week starting on the Monday `monday` (days since 1970-01-01), with the previous and
/// next weeks' Mondays when half-days lie before or after it.
fn week_of(
    lang: Lang,
    mut by_day: BTreeMap<i64, Vec<CalendarEntry>>,
    monday: i64,
) -> (Week, Option<String>, Option<String>) {
    let first = by_day.keys().next().copied();
    let last = by_day.keys().last().copied();
    let days = (monday..monday + 7)
        .map(|n| {
            let name = lang.t(CATALOG, &format!("day.{}", n - monday + 1));
            let date = carnet_service::web::short_date(lang, &day_text(n));
            (
                format!("{name} {date}"),
                by_day.remove(&n).unwrap_or_default(),
            )
        })
        .collect();
    let week = Week {
        title: format!(
            "{} {}",
            lang.t(CATALOG, "att.week_of"),
            carnet_service::web::date(lang, &day_text(monday))
        ),
        days,
    };
    let previous = first.filter(|f| *f < monday).map(|_| day_text(monday - 7));
    let next = last
        .filter(|l| *l >= monday + 7)
        .map(|_| day_text(monday + 7));
    (week, previous, next)
}

/// The months spanning `entries` (by `YYYY-MM-DD`), as weeks of days.
fn months(entries: Vec<(String, CalendarEntry)>) -> Vec<Month> {
    use carnet_core::calendar::{civil, days_from_civil};
    let mut by_day = by_day(entries);
    let (Some(first), Some(last)) = (by_day.keys().next().copied(), by_day.keys().last().copied())
    else {
        return Vec::new();
    };
    let mut months = Vec::new();
    let (mut y, mut m, _) = civil(first);
    let (last_y, last_m, _) = civil(last);
    // At most two years of months, whatever the data says.
    while (y, m) <= (last_y, last_m) && months.len() < 24 {
        let start = days_from_civil(y, m, 1);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let end = days_from_civil(ny, nm, 1);
        // 1970-01-01 was a Thursday: Monday is 0.
        let lead = (start + 3).rem_euclid(7);
        let mut cells: Vec<Day> = (0..lead).map(|_| None).collect();
        for day in start..end {
            cells.push(Some((
                civil(day).2,
                by_day.remove(&day).unwrap_or_default(),
            )));
        }
        while cells.len() % 7 != 0 {
            cells.push(None);
        }
        let mut weeks = Vec::new();
        let mut cells = cells.into_iter().peekable();
        while cells.peek().is_some() {
            weeks.push(cells.by_ref().take(7).collect());
        }
        months.push(Month {
            year: y,
            month: m,
            weeks,
        });
        (y, m) = (ny, nm);
    }
    months
}

impl AttendancePage {
    fn status_key(&self, status: &str) -> &'static str {
        status_key(status)
    }

    fn percent(&self, rate: &Option<f64>) -> String {
        rate.map_or_else(|| "—".to_owned(), |r| format!("{:.0} %", r * 100.0))
    }

    fn hours(&self, minutes: &i64) -> String {
        format!("{}h{:02}", minutes / 60, minutes % 60)
    }

    fn month_key(&self, month: &u32) -> String {
        format!("month.{month}")
    }

    fn day_key(&self, n: &usize) -> String {
        format!("day.{n}")
    }

    fn class_of(&self, key: &str) -> String {
        key.replace('.', "-")
    }

    fn cell(&self, slot: &str, trainee: &str) -> &'static str {
        self.table
            .as_ref()
            .and_then(|t| t.mark(slot, trainee))
            .map_or("att.unmarked", |m| status_key(&m.status))
    }
}

/// Attendance: the table for the session's staff; one's own list and check-in for a trainee.
async fn attendance(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let view_name = query.get("view").map_or("", String::as_str);
    let as_calendar = matches!(view_name, "calendar" | "week");
    let view = async {
        let base = format!("/api/v1/organisations/{org}/sessions/{sid}");
        let (title, zone) = api
            .get::<Vec<TrainingSession>>(&format!("/api/v1/organisations/{org}/sessions"))
            .await?
            .into_iter()
            .find(|s| s.id == sid)
            .map(|s| (s.title, s.timezone))
            .unwrap_or_default();
        let (table, mine) = match api.get::<Table>(&format!("{base}/attendance")).await {
            // Staff: the table, or one trainee's own list (`?trainee=`).
            Ok(table) => {
                let one = match query.get("trainee") {
                    Some(t) if table.trainees.iter().any(|x| &x.account_id == t) => {
                        Some(api.get(&format!("{base}/attendance/trainees/{t}")).await?)
                    }
                    _ => None,
                };
                (Some(table), one)
            }
            Err(p) if p.status == StatusCode::FORBIDDEN => {
                let me = page_session.0.account_id.as_str();
                let mine: TraineeAttendance =
                    api.get(&format!("{base}/attendance/trainees/{me}")).await?;
                (None, Some(mine))
            }
            Err(p) => return Err(p),
        };
        let entries: Vec<(String, CalendarEntry)> = match (&table, &mine) {
            _ if !as_calendar => Vec::new(),
            (Some(table), None) => table
                .slots
                .iter()
                .map(|slot| {
                    let marks: Vec<&Mark> = table
                        .marks
                        .iter()
                        .filter(|m| m.slot_id == slot.id)
                        .collect();
                    let attended = marks
                        .iter()
                        .filter(|m| m.status == "present" || m.status == "late")
                        .count();
                    let entry = CalendarEntry {
                        half: half_key(&slot.half),
                        status: if marks.is_empty() {
                            "att.unmarked"
                        } else {
                            "present"
                        },
                        count: format!("{attended}/{}", table.trainees.len()),
                        link: format!(
                            "{}/orgs/{org}/sessions/{sid}/attendance/{}",
                            state.ctx.config.path_prefix(),
                            slot.id
                        ),
                        hours: format!("{} – {}", slot.starts, slot.ends),
                        title: slot.title.clone(),
                    };
                    (slot.day.clone(), entry)
                })
                .collect(),
            (_, Some(mine)) => mine
                .slots
                .iter()
                .map(|slot| {
                    let entry = CalendarEntry {
                        half: half_key(&slot.half),
                        status: status_key(slot.status.as_deref().unwrap_or_default()),
                        count: String::new(),
                        link: String::new(),
                        hours: format!("{} – {}", slot.starts, slot.ends),
                        title: String::new(),
                    };
                    (slot.day.clone(), entry)
                })
                .collect(),
            _ => Vec::new(),
        };
        // Today on the session's clock: the month or week shown unless another is asked.
        let today = carnet_service::web::local_time(state.ctx.now_ms(), &zone)[..10].to_owned();
        let (mut calendar, mut week, mut previous, mut next) =
            (None, None, String::new(), String::new());
        let link = |key: &str, value: Option<String>| {
            value.map_or_else(String::new, |v| format!("?view={view_name}&{key}={v}"))
        };
        if view_name == "week" {
            let asked = query.get("week").and_then(|w: &String| day_number(w));
            let days = by_day(entries);
            // The week asked, else this week when the session has half-days then, else the
            // first week with any.
            let around = asked
                .or_else(|| {
                    day_number(&today).filter(|t| {
                        days.keys().next().is_some_and(|f| f <= t)
                            && days.keys().last().is_some_and(|l| l >= t)
                    })
                })
                .or_else(|| days.keys().next().copied())
                .unwrap_or_default();
            let monday = around - (around + 3).rem_euclid(7);
            let (shown, before, after) = week_of(lang, days, monday);
            (week, previous, next) = (Some(shown), link("week", before), link("week", after));
        } else if as_calendar {
            let all = months(entries);
            let key = |m: &Month| format!("{:04}-{:02}", m.year, m.month);
            let wanted = query
                .get("month")
                .cloned()
                .unwrap_or_else(|| today[..7].to_owned());
            let at = all.iter().position(|m| key(m) == wanted).unwrap_or(0);
            previous = link("month", at.checked_sub(1).and_then(|i| all.get(i)).map(key));
            next = link("month", all.get(at + 1).map(key));
            calendar = all.into_iter().nth(at);
        }
        Ok(AttendancePage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session: sid,
            title,
            calendar,
            week,
            previous,
            next,
            table,
            mine,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A trainee in a half-day: their mark (present by default), its note, and the wrong check-in
/// codes they gave there with whether their check-in is locked.
type SlotRow = (TraineeSummary, String, String, Option<(i64, bool)>);

#[derive(Template)]
#[template(path = "issuer_slot.html")]
struct SlotPage {
    chrome: Chrome,
    org: String,
    session: String,
    slot: Slot,
    rows: Vec<SlotRow>,
    code: String,
    code_until: String,
}

impl SlotPage {
    fn status_key(&self, status: &str) -> &'static str {
        status_key(status)
    }
}

/// One half-day: the marks to take or change, the check-in code, the countersignature.
async fn slot(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid, slot)): Path<(String, String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}/sessions/{sid}/attendance");
        let table: Table = api.get(&base).await?;
        let code: Value = api.get(&format!("{base}/slots/{slot}/code")).await?;
        let rows = table
            .trainees
            .iter()
            .map(|t| {
                let mark = table.mark(&slot, &t.account_id);
                let failures = table
                    .check_in_failures
                    .iter()
                    .find(|f| f.slot_id == slot && f.trainee_id == t.account_id)
                    .map(|f| (f.failures, f.locked));
                (
                    t.clone(),
                    mark.map_or_else(|| "present".to_owned(), |m| m.status.clone()),
                    mark.and_then(|m| m.note.clone()).unwrap_or_default(),
                    failures,
                )
            })
            .collect();
        let slot = table
            .slots
            .into_iter()
            .find(|s| s.id == slot)
            .ok_or(Problem::not_found())?;
        // The code's end on the session's wall clock, to the second (it turns every minute).
        let zone = find_session(&api, &org, &sid).await?.timezone;
        let until = code["valid_until"].as_i64().unwrap_or(0);
        let local = carnet_core::calendar::Zone::parse(&zone)
            .unwrap_or(carnet_core::calendar::Zone::Paris)
            .local(until.div_euclid(1000));
        Ok(SlotPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session: sid,
            slot,
            rows,
            code: code["code"].as_str().unwrap_or_default().to_owned(),
            code_until: format!(
                "{}:{:02}",
                local.time(),
                until.div_euclid(1000).rem_euclid(60)
            ),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Deserialize)]
struct QuizSummary {
    id: String,
    title: String,
    questions: usize,
    max: u32,
    #[serde(default)]
    editable: bool,
    /// Its questions in the editor, to rewrite them (while it is editable).
    #[serde(skip)]
    editor: Option<carnet_service::web::QuizEditor>,
}

#[derive(Deserialize)]
struct SessionQuiz {
    id: String,
    title: String,
    opens_at: String,
    closes_at: String,
    state: String,
    max: u32,
    /// The quiz as a trainee answers it, while it is open and they have not.
    #[serde(default)]
    questions: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    submissions: Option<i64>,
}

impl SessionQuiz {
    fn state_key(&self) -> &'static str {
        match self.state.as_str() {
            "open" => "quiz.open",
            "closed" => "quiz.closed",
            _ => "quiz.upcoming",
        }
    }

    fn to_answer(&self) -> Vec<QuestionToAnswer> {
        self.questions
            .as_ref()
            .and_then(|q| serde_json::from_value(q["questions"].clone()).ok())
            .unwrap_or_default()
    }

    fn score(&self) -> Option<String> {
        let r = self.result.as_ref()?;
        Some(format!("{} / {}", r["score"], r["max"]))
    }
}

#[derive(Template)]
#[template(path = "issuer_quizzes.html")]
struct QuizzesPage {
    chrome: Chrome,
    org: String,
    session: TrainingSession,
    staff: bool,
    library: Vec<QuizSummary>,
    openings: Vec<SessionQuiz>,
    /// The new quiz's questions.
    editor: carnet_service::web::QuizEditor,
}

/// A session's quizzes: for staff, the organisation's quizzes to write and open to the session;
/// for a trainee, those open to answer and their results.
async fn session_quizzes(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let session = find_session(&api, &org, &sid).await?;
        let openings: Vec<SessionQuiz> = api.get(&format!("{base}/sessions/{sid}/quizzes")).await?;
        // The library is the staff's; a trainee is refused it.
        let library: Result<Vec<QuizSummary>, _> = api.get(&format!("{base}/quizzes")).await;
        let staff = library.is_ok();
        let mut library = library.unwrap_or_default();
        for q in library.iter_mut().filter(|q| q.editable) {
            let quiz: Value = api.get(&format!("{base}/quizzes/{}", q.id)).await?;
            q.editor = Some(carnet_service::web::QuizEditor::of(&quiz));
        }
        Ok(QuizzesPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session,
            staff,
            library,
            openings,
            editor: carnet_service::web::QuizEditor::blank(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Deserialize)]
struct TraineeResult {
    trainee_id: String,
    display_name: String,
    #[serde(default)]
    submitted_at: Option<i64>,
    #[serde(default)]
    answers: Option<Value>,
    #[serde(default)]
    grade: Option<Value>,
}

struct ResultRow {
    trainee: String,
    name: String,
    submitted: bool,
    score: String,
    pending: bool,
    to_grade: Vec<(String, String, String, u32)>,
}

#[derive(Template)]
#[template(path = "issuer_quiz_results.html")]
struct ResultsPage {
    chrome: Chrome,
    org: String,
    session: String,
    opening: String,
    title: String,
    questions: Vec<QuizQuestion>,
    results: Vec<ResultRow>,
}

/// An opened quiz's results, with hand grading of short answers.
async fn quiz_results(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid, opening)): Path<(String, String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let openings: Vec<Value> = api.get(&format!("{base}/sessions/{sid}/quizzes")).await?;
        let this = openings
            .iter()
            .find(|o| o["id"] == opening.as_str())
            .ok_or(Problem::not_found())?;
        let quiz: Value = api
            .get(&format!(
                "{base}/quizzes/{}",
                this["quiz_id"].as_str().unwrap_or_default()
            ))
            .await?;
        let questions = quiz_questions(&quiz);
        let results = api
            .get::<Vec<TraineeResult>>(&format!("{base}/sessions/{sid}/quizzes/{opening}/results"))
            .await?
            .into_iter()
            .map(|r| {
                let grade = r.grade.unwrap_or_default();
                let answers = r.answers.unwrap_or_default();
                ResultRow {
                    to_grade: awaiting_grades(&questions, &grade, &answers),
                    trainee: r.trainee_id,
                    name: r.display_name,
                    submitted: r.submitted_at.is_some(),
                    score: format!("{} / {}", grade["score"], grade["max"]),
                    pending: grade["pending"].as_bool().unwrap_or(false),
                }
            })
            .collect();
        Ok(ResultsPage {
            chrome: chrome(&state, lang, &page_session),
            title: this["title"].as_str().unwrap_or_default().to_owned(),
            org,
            session: sid,
            opening,
            questions,
            results,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

#[derive(Deserialize)]
struct Participant {
    display_name: String,
}

#[derive(Deserialize)]
struct Room {
    id: String,
    kind: String,
    members: Vec<Participant>,
    can_post: bool,
    #[serde(default)]
    notice: String,
}

impl Room {
    /// The information room, or the names in a private chat.
    fn name(&self, chrome: &Chrome) -> String {
        if self.kind == "information" {
            chrome.t("room.information").to_owned()
        } else {
            self.members
                .iter()
                .map(|m| m.display_name.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        }
    }
}

#[derive(Deserialize)]
struct RoomMessage {
    id: String,
    author_id: String,
    author_name: String,
    #[serde(default)]
    body: Option<String>,
    at: i64,
    removed: bool,
    #[serde(default)]
    position: Option<i64>,
}

#[derive(Template)]
#[template(path = "issuer_room.html")]
struct RoomPage {
    chrome: Chrome,
    org: String,
    session: TrainingSession,
    me: String,
    staff: bool,
    rooms: Vec<Room>,
    room: Room,
    messages: Vec<RoomMessage>,
    /// The live stream starts after the last message shown: what is written between the
    /// page and its stream comes too.
    after: i64,
    contacts: Vec<Member>,
}

impl RoomPage {
    /// When a message was written, on the session's wall clock.
    fn time(&self, m: &RoomMessage) -> String {
        carnet_service::web::local_moment(self.chrome.lang, m.at, &self.session.timezone)
    }
}

/// The session's rooms: the information room (staff post, everyone reads) and private chats,
/// with moderation (remove a message, mute someone) for staff; new messages arrive live.
async fn room(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path((org, sid, room)): Path<(String, String, String)>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}/sessions/{sid}");
        let session = find_session(&api, &org, &sid).await?;
        let rooms: Vec<Room> = api.get(&format!("{base}/rooms")).await?;
        // A trainee lists only the session's staff.
        let members: Vec<Member> = api
            .get(&format!("{base}/members"))
            .await
            .unwrap_or_default();
        let me = page_session.0.account_id.as_str().to_owned();
        let me_id = me.clone();
        let staff = members
            .iter()
            .any(|m| m.account_id == me && m.role != "trainee")
            || rooms.iter().any(|r| r.kind == "information" && r.can_post);
        let (mut current, others): (Vec<Room>, Vec<Room>) = rooms
            .into_iter()
            .partition(|r| r.id == room || (room == "information" && r.kind == "information"));
        let current = current.pop().ok_or(Problem::not_found())?;
        let mut messages: Vec<RoomMessage> = api
            .get(&format!("{base}/rooms/{}/messages", current.id))
            .await?;
        messages.sort_by_key(|m| m.at);
        let after = messages
            .iter()
            .filter_map(|m| m.position)
            .max()
            .unwrap_or(0);
        Ok(RoomPage {
            chrome: chrome(&state, lang, &page_session),
            org,
            session,
            me,
            staff,
            rooms: others,
            room: current,
            messages,
            after,
            // Whom the visitor may write to in private: staff write to trainees, a trainee to
            // the session's staff (the only members a trainee is shown).
            contacts: members
                .into_iter()
                .filter(|m| m.account_id != me_id && (m.role == "trainee") == staff)
                .collect(),
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A session of the organisation, by id.
async fn find_session(api: &Backend, org: &str, sid: &str) -> Result<TrainingSession, Problem> {
    api.get::<Vec<TrainingSession>>(&format!("/api/v1/organisations/{org}/sessions"))
        .await?
        .into_iter()
        .find(|s| s.id == sid)
        .ok_or(Problem::not_found())
}

#[derive(Deserialize)]
struct Course {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    archived_at: Option<i64>,
}

#[derive(Deserialize)]
struct Resource {
    id: String,
    kind: String,
    title: String,
    /// A text resource's text, shown in place (only files are served as content).
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    archived_at: Option<i64>,
}

impl Resource {
    fn kind_key(&self) -> &'static str {
        match self.kind.as_str() {
            "text" => "course.kind_text",
            "link" => "course.kind_link",
            _ => "course.kind_file",
        }
    }
}

#[derive(Deserialize)]
struct Formation {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    course_ids: Vec<String>,
    #[serde(default)]
    archived_at: Option<i64>,
}

#[derive(Deserialize)]
struct CourseWithResources {
    course: Course,
    resources: Vec<Resource>,
}

struct CourseView {
    course: Course,
    resources: Vec<Resource>,
    competency_ids: Vec<String>,
}

#[derive(Template)]
#[template(path = "issuer_courses.html")]
struct CoursesPage {
    chrome: Chrome,
    org: Tenant,
    courses: Vec<CourseView>,
    resources: Vec<Resource>,
    formations: Vec<Formation>,
    competencies: Vec<Competency>,
}

impl CoursesPage {
    fn in_formation(&self, formation: &Formation, course: &str) -> bool {
        formation.course_ids.iter().any(|c| c == course)
    }

    /// The courses a formation may have, its own first in their order (so that saving the
    /// choice keeps it), then the others not archived, with whether each is in it.
    fn choices(&self, formation: &Formation) -> Vec<(&CourseView, bool)> {
        let own = formation
            .course_ids
            .iter()
            .filter_map(|id| self.courses.iter().find(|c| &c.course.id == id))
            .map(|c| (c, true));
        let others = self
            .courses
            .iter()
            .filter(|c| {
                c.course.archived_at.is_none() && !self.in_formation(formation, &c.course.id)
            })
            .map(|c| (c, false));
        own.chain(others).collect()
    }

    /// A formation's courses in order, each with the order that moves it up one place.
    fn ordered(&self, formation: &Formation) -> Vec<(String, Vec<String>)> {
        formation
            .course_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let title = self
                    .courses
                    .iter()
                    .find(|c| &c.course.id == id)
                    .map_or_else(|| id.clone(), |c| c.course.title.clone());
                let mut up = formation.course_ids.clone();
                if i > 0 {
                    up.swap(i - 1, i);
                }
                (title, up)
            })
            .collect()
    }

    fn teaches(&self, course: &CourseView, competency: &str) -> bool {
        course.competency_ids.iter().any(|c| c == competency)
    }
}

/// The organisation's courses, their resources and competencies, and its formations.
async fn courses(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(page_session): SignedIn,
    api: Backend,
    Path(org): Path<String>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let org: Tenant = api.get(&base).await?;
        let mut courses = Vec::new();
        for course in api.get::<Vec<Course>>(&format!("{base}/courses")).await? {
            let resources = api
                .get(&format!("{base}/courses/{}/resources", course.id))
                .await?;
            let competency_ids = api
                .get(&format!("{base}/courses/{}/competencies", course.id))
                .await?;
            courses.push(CourseView {
                course,
                resources,
                competency_ids,
            });
        }
        Ok(CoursesPage {
            chrome: chrome(&state, lang, &page_session),
            resources: api.get(&format!("{base}/resources")).await?,
            formations: api.get(&format!("{base}/formations")).await?,
            competencies: api.get(&format!("{base}/competencies")).await?,
            org,
            courses,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A file uploaded as a resource of the organisation: the page's multipart form, the file
/// sent to the API as it came (the API checks its type and size).
async fn upload(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(org): Path<String>,
    form: axum::extract::Multipart,
) -> Response {
    let back = format!("{}/orgs/{org}/courses", state.ctx.config.path_prefix());
    let sent = async {
        let (fields, file) = multipart_form(&session, form, "file", MAX_UPLOAD).await?;
        let file =
            file.ok_or_else(|| Problem::invalid(lang.t(CATALOG, "course.no_file").into()))?;
        let path = format!(
            "/api/v1/organisations/{org}/resources/files?title={}",
            carnet_core::oid4vci::percent_encode(field(&fields, "title").trim())
        );
        let body = Some((file.media.as_str(), file.bytes));
        api.send(Method::POST, &path, field(&fields, "csrf"), body)
            .await
    };
    match sent.await {
        Ok(_) => carnet_service::web::see_other(&back, None),
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

#[derive(Template)]
#[template(path = "issuer_grades.html")]
struct GradesPage {
    chrome: Chrome,
    org: String,
    session: TrainingSession,
    competencies: Vec<Competency>,
    /// The competency being assessed, its scale, and the session's trainees.
    chosen: Option<(Competency, Scale)>,
    trainees: Vec<Member>,
    /// After sending: the report, row by row (trainee, level, outcome key, error).
    report: Vec<(String, String, &'static str, String)>,
    counts: (usize, usize, usize),
}

impl GradesPage {
    /// A levels scale's labels (empty for a score out of a maximum).
    fn labels(&self) -> Vec<String> {
        self.chosen
            .as_ref()
            .and_then(|(_, s)| s.scale["labels"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect()
    }

    fn max(&self) -> String {
        self.chosen
            .as_ref()
            .map(|(_, s)| s.scale["max"].to_string())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct GradesQuery {
    #[serde(default)]
    competency: Option<String>,
}

/// The session's grade sheet: one competency, every trainee of the session on one page, a level
/// each (or a score) and a comment.
async fn grade_sheet(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<GradesQuery>,
) -> Response {
    let view = grades_view(&state, lang, &session, &api, (&org, &sid), query.competency);
    show(&state.ctx, lang, CATALOG, view).await
}

async fn grades_view(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    (org, sid): (&str, &str),
    competency: Option<String>,
) -> Result<GradesPage, Problem> {
    let base = format!("/api/v1/organisations/{org}");
    let training = find_session(api, org, sid).await?;
    // The sheet is for those who evaluate (docs/ROLES.md): the session's staff.
    let tenant: Tenant = api.get(&base).await?;
    let members: Vec<Member> = api.get(&format!("{base}/sessions/{sid}/members")).await?;
    let me = session.0.account_id.as_str();
    let evaluates = tenant
        .my_roles
        .iter()
        .any(|r| r == "admin" || r == "manager")
        || members
            .iter()
            .any(|m| m.account_id == me && (m.role == "trainer" || m.role == "manager"));
    if !evaluates {
        return Err(ApiError::Forbidden.into());
    }
    let competencies: Vec<Competency> = api
        .get::<Vec<Competency>>(&format!("{base}/competencies"))
        .await?
        .into_iter()
        .filter(|c| c.archived_at.is_none())
        .collect();
    let trainees: Vec<Member> = members
        .into_iter()
        .filter(|m| m.role == "trainee")
        .collect();
    let chosen = match competency.and_then(|id| competencies.iter().find(|c| c.id == id).cloned()) {
        Some(c) => {
            let scales: Vec<Scale> = api.get(&format!("{base}/scales")).await?;
            scales
                .into_iter()
                .find(|s| s.id == c.scale_id)
                .map(|s| (c, s))
        }
        None => None,
    };
    Ok(GradesPage {
        chrome: chrome(state, lang, session),
        org: org.to_owned(),
        session: training,
        competencies,
        chosen,
        trainees,
        report: Vec::new(),
        counts: (0, 0, 0),
    })
}

/// The grade sheet sent: every trainee given a level evaluated at once (the bulk API), and
/// the sheet again with what happened to each.
async fn grade_all(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let view = async {
        let competency = field(&fields, "competency_id").to_owned();
        let mut page = grades_view(
            &state,
            lang,
            &session,
            &api,
            (&org, &sid),
            Some(competency.clone()),
        )
        .await?;
        let mut body = form_json(&fields).map_err(Problem::from)?;
        // Only the trainees given a level.
        let rows: Vec<Value> = body["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| !r["assessment"].is_null())
            .cloned()
            .collect();
        if rows.is_empty() {
            return Err(Problem::invalid(lang.t(CATALOG, "grades.none").into()));
        }
        body["rows"] = json!(rows);
        let path = format!("/api/v1/organisations/{org}/sessions/{sid}/evaluations/bulk");
        let report = api
            .call(Method::POST, &path, field(&fields, "csrf"), Some(body))
            .await?;
        let name_of = |email: &str| {
            page.trainees
                .iter()
                .find(|m| m.email == email)
                .map_or_else(|| email.to_owned(), |m| m.display_name.clone())
        };
        let level_of = |email: &str| {
            rows.iter()
                .find(|r| r["email"] == email)
                .map(|r| match &r["assessment"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        let mut counts = (0, 0, 0);
        page.report = report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let email = r["email"].as_str().unwrap_or_default();
                let outcome = match (r["outcome"].as_str(), r["offer"].is_object()) {
                    (Some("created"), true) => {
                        counts.0 += 1;
                        "grades.validated"
                    }
                    (Some("created"), false) => {
                        counts.1 += 1;
                        "grades.recorded"
                    }
                    _ => {
                        counts.2 += 1;
                        "grades.failed"
                    }
                };
                (
                    name_of(email),
                    level_of(email),
                    outcome,
                    r["error"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        page.counts = counts;
        Ok(page)
    };
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => {
            let back = format!(
                "{}/orgs/{org}/sessions/{sid}/grades",
                state.ctx.config.path_prefix()
            );
            carnet_service::web::problem_page(&state.ctx, lang, p, &back)
        }
    }
}

#[derive(Deserialize)]
struct AuditEntry {
    at: i64,
    #[serde(default)]
    actor_id: Option<String>,
    action: String,
    #[serde(default)]
    target: Option<String>,
    details: String,
}

#[derive(Deserialize)]
struct AuditPage {
    items: Vec<AuditEntry>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "issuer_audit.html")]
struct AuditView {
    chrome: Chrome,
    org: Tenant,
    /// When, who, what, on what, the details.
    rows: Vec<(String, String, String, String, String)>,
    next: Option<String>,
}

/// The organisation's audit log, as a page for its administrators: newest first, a page at a
/// time, who by name.
async fn audit(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path(org): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let view = async {
        let base = format!("/api/v1/organisations/{org}");
        let tenant: Tenant = api.get(&base).await?;
        let cursor = query
            .get("cursor")
            .map(|c| format!("&cursor={}", carnet_core::oid4vci::percent_encode(c)))
            .unwrap_or_default();
        let page: AuditPage = api.get(&format!("{base}/audit?limit=100{cursor}")).await?;
        let members: Vec<Member> = api.get(&format!("{base}/members")).await?;
        let chrome = chrome(&state, lang, &session);
        let rows = page
            .items
            .into_iter()
            .map(|e| {
                let who = match &e.actor_id {
                    None => chrome.t("audit.system").to_owned(),
                    Some(id) => members
                        .iter()
                        .find(|m| &m.account_id == id)
                        .map_or_else(|| id.clone(), |m| m.display_name.clone()),
                };
                let details = e
                    .details
                    .split('"')
                    .map(|piece| match carnet_service::id::looks_like_id(piece) {
                        true => record(&chrome, piece),
                        false => piece.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("\"");
                (
                    carnet_service::web::moment(lang, e.at),
                    who,
                    e.action,
                    e.target.map(|t| record(&chrome, &t)).unwrap_or_default(),
                    details,
                )
            })
            .collect();
        Ok(AuditView {
            chrome,
            org: tenant,
            rows,
            next: page.next_cursor,
        })
    };
    show(&state.ctx, lang, CATALOG, view).await
}

/// A record as the audit log names it: its kind in words and the end of its id, enough to tell
/// two apart (« évaluation …TAk9hN »); anything else as it is.
fn record(chrome: &Chrome, id: &str) -> String {
    let Some((prefix, rest)) = id.split_once('_') else {
        return id.to_owned();
    };
    match chrome.t(&format!("record.{prefix}")) {
        "" => id.to_owned(),
        kind => {
            let tail: String = rest
                .chars()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{kind} …{tail}")
        }
    }
}

/// The largest list of trainees a page reads (a thousand rows of a spreadsheet, with room).
const MAX_ROSTER: usize = 1024 * 1024;

#[derive(Deserialize)]
struct EnrolmentRow {
    row: usize,
    name: String,
    email: String,
    outcome: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    link: Option<String>,
}

#[derive(Deserialize)]
struct EnrolmentReport {
    dry_run: bool,
    rows: Vec<EnrolmentRow>,
    counts: BTreeMap<String, usize>,
}

#[derive(Template)]
#[template(path = "issuer_enrolment.html")]
struct EnrolmentPage {
    chrome: Chrome,
    org: String,
    session: TrainingSession,
    report: EnrolmentReport,
}

impl EnrolmentPage {
    /// What happens (in a preview) or happened to a row, in words.
    fn outcome(&self, r: &EnrolmentRow) -> &str {
        let key = match (self.report.dry_run, r.outcome.as_str()) {
            (true, "enrolled") => "enrol.will_enrol",
            (true, "invited") => "enrol.will_invite",
            (false, "enrolled") => "enrol.enrolled",
            (false, "invited") => "enrol.invited",
            (_, "already") => "enrol.already",
            _ => "enrol.refused",
        };
        self.chrome.t(key)
    }

    fn reason(&self, r: &EnrolmentRow) -> String {
        match r.reason.as_deref() {
            Some("invalid_email") => self.chrome.t("enrol.invalid_email").to_owned(),
            Some("staff") => self.chrome.t("enrol.staff").to_owned(),
            Some("not_member") => self.chrome.t("enrol.not_member").to_owned(),
            _ => r.detail.clone().unwrap_or_default(),
        }
    }

    fn count(&self, outcome: &str) -> usize {
        self.report.counts.get(outcome).copied().unwrap_or(0)
    }

    /// The rows a confirmation sends: those that will be enrolled or invited.
    fn to_send(&self) -> Vec<&EnrolmentRow> {
        self.report
            .rows
            .iter()
            .filter(|r| matches!(r.outcome.as_str(), "enrolled" | "invited"))
            .collect()
    }
}

/// Sends a list of trainees (`body`, or why the form could not be read) to the enrolment API
/// and shows its report, or the problem with a way back to the session.
async fn enrolment_report(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    (org, sid): (&str, &str),
    csrf: &str,
    body: Result<Value, Problem>,
) -> Response {
    let view = async {
        let body = body?;
        let training = find_session(api, org, sid).await?;
        let path = format!("/api/v1/organisations/{org}/sessions/{sid}/enrolments");
        let answer = api.call(Method::POST, &path, csrf, Some(body)).await?;
        let report: EnrolmentReport = serde_json::from_value(answer).map_err(|e| Problem {
            kind: String::new(),
            status: StatusCode::BAD_GATEWAY,
            detail: e.to_string(),
            field: None,
        })?;
        Ok::<_, Problem>(EnrolmentPage {
            chrome: chrome(state, lang, session),
            org: org.to_owned(),
            session: training,
            report,
        })
    };
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => {
            let back = format!(
                "{}/orgs/{org}/sessions/{sid}",
                state.ctx.config.path_prefix()
            );
            carnet_service::web::problem_page(&state.ctx, lang, p, &back)
        }
    }
}

/// A spreadsheet of trainees, read and previewed: what enrolling them would do, row by row,
/// before anything is done.
async fn enrolment_preview(
    State(state): State<IssuerState>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    form: axum::extract::Multipart,
) -> Response {
    let read = async {
        let (fields, file) = multipart_form(&session, form, "file", MAX_ROSTER).await?;
        let file =
            file.ok_or_else(|| Problem::invalid(lang.t(CATALOG, "course.no_file").into()))?;
        let rows = crate::enrolments::read_roster(&file.bytes).map_err(|e| {
            Problem::invalid(format!("{} {e}", lang.t(CATALOG, "enrol.unreadable")))
        })?;
        Ok::<_, Problem>((field(&fields, "csrf").to_owned(), rows))
    };
    let (csrf, body) = match read.await {
        Ok((csrf, rows)) => (csrf, Ok(json!({ "rows": rows, "dry_run": true }))),
        Err(p) => (String::new(), Err(p)),
    };
    enrolment_report(&state, lang, &session, &api, (&org, &sid), &csrf, body).await
}

/// The previewed list confirmed: the trainees enrolled or invited, and the report (each
/// invitation's link shown once).
async fn enrolment_confirm(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let body = form_json(&fields).map_err(Problem::from).map(|mut body| {
        body["dry_run"] = json!(false);
        body
    });
    let csrf = field(&fields, "csrf");
    enrolment_report(&state, lang, &session, &api, (&org, &sid), csrf, body).await
}

/// The largest file a page sends on (the API holds its own limit too).
const MAX_UPLOAD: usize = 20 * 1024 * 1024;

#[derive(Template)]
#[template(path = "issuer_secret.html")]
struct SecretPage {
    chrome: Chrome,
    /// Catalog keys of the title and the explanation.
    title: &'static str,
    intro: &'static str,
    value: String,
    qr: String,
    back: String,
}

/// Calls the API for a secret link shown once (an invitation, a calendar feed), found at
/// `field` in the answer, and shows it with its QR code.
#[allow(clippy::too_many_arguments)]
async fn secret_page(
    state: &IssuerState,
    lang: Lang,
    session: &PageSession,
    api: &Backend,
    path: &str,
    csrf: &str,
    body: Value,
    field: &str,
    (title, intro): (&'static str, &'static str),
    back: String,
) -> Response {
    match api.call(Method::POST, path, csrf, Some(body)).await {
        Ok(answer) => {
            let value = answer[field].as_str().unwrap_or_default().to_owned();
            let page = SecretPage {
                chrome: chrome(state, lang, session),
                title,
                intro,
                qr: qr::svg(&value).unwrap_or_default(),
                value,
                back,
            };
            (StatusCode::CREATED, render(lang, page.render())).into_response()
        }
        Err(p) => carnet_service::web::problem_page(&state.ctx, lang, p, &back),
    }
}

/// Invites someone by e-mail into the organisation (and a session): the link to give them.
async fn invite(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path(org): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("{}/orgs/{org}", state.ctx.config.path_prefix());
    let csrf = field(&fields, "csrf");
    let body = match form_json(&fields) {
        Ok(body) => body,
        Err(detail) => {
            let p = Problem::from(detail);
            return carnet_service::web::problem_page(&state.ctx, lang, p, &back);
        }
    };
    let path = format!("/api/v1/organisations/{org}/invitations");
    let keys = ("invite.done", "invite.give");
    secret_page(
        &state, lang, &session, &api, &path, csrf, body, "link", keys, back,
    )
    .await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// A secret link to subscribe to the session's calendar.
async fn feed(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back = format!(
        "{}/orgs/{org}/sessions/{sid}",
        state.ctx.config.path_prefix()
    );
    let path = format!("/api/v1/organisations/{org}/sessions/{sid}/calendar-feed");
    let keys = ("feed.title", "feed.intro");
    secret_page(
        &state,
        lang,
        &session,
        &api,
        &path,
        &form.csrf,
        json!({}),
        "url",
        keys,
        back,
    )
    .await
}

#[derive(Deserialize)]
struct CompletionForm {
    csrf: String,
    trainee_id: String,
}

/// Certifies that a trainee completed the session: the credential offer to hand over.
async fn completion(
    State(state): State<IssuerState>,
    lang: Lang,
    session: PageSession,
    api: Backend,
    Path((org, sid)): Path<(String, String)>,
    Form(form): Form<CompletionForm>,
) -> Response {
    let back = format!(
        "{}/orgs/{org}/sessions/{sid}",
        state.ctx.config.path_prefix()
    );
    let path = format!("/api/v1/organisations/{org}/sessions/{sid}/completions");
    let body = json!({ "trainee_id": form.trainee_id });
    offer_page(
        &state,
        lang,
        &session,
        &api,
        Method::POST,
        &path,
        &form.csrf,
        body,
        back,
        "",
    )
    .await
}

#[derive(Template)]
#[template(path = "issuer_invitation.html")]
struct InvitationPage {
    chrome: Chrome,
    token: String,
    /// Until the address is confirmed the invitation waits: the page leads there, and back.
    verify: Option<String>,
}

/// The page an invitation link opens: accept it once signed in.
async fn invitation(
    State(state): State<IssuerState>,
    lang: Lang,
    session: Result<PageSession, ApiError>,
    Path(token): Path<String>,
) -> Response {
    let Ok(session) = session else {
        let note = lang.t(CATALOG, "invite.sign_in").to_owned();
        let here = format!("{}/invitations/{token}", state.ctx.config.path_prefix());
        return sign_in_page(&state.ctx, lang, CATALOG, StatusCode::OK, note, &here);
    };
    let here = format!("{}/invitations/{token}", state.ctx.config.path_prefix());
    let page = InvitationPage {
        chrome: chrome(&state, lang, &session),
        verify: (!session.0.email_verified).then(|| {
            format!(
                "{}/verify?next={}",
                state.ctx.config.path_prefix(),
                carnet_core::oid4vci::percent_encode(&here)
            )
        }),
        token,
    };
    render(lang, page.render())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(super::CATALOG);
    }

    use carnet_service::i18n::Lang;

    fn entry() -> super::CalendarEntry {
        super::CalendarEntry {
            half: "am",
            status: "present",
            count: String::new(),
            link: String::new(),
            hours: "09:00 – 12:30".into(),
            title: String::new(),
        }
    }

    #[test]
    fn a_week_from_its_monday_with_the_weeks_around_it() {
        let days = super::by_day(vec![
            ("2026-01-05".into(), entry()),
            ("2026-01-07".into(), entry()),
            ("2026-01-20".into(), entry()),
        ]);
        let monday = super::day_number("2026-01-12").unwrap();
        let (week, previous, next) = super::week_of(Lang::Fr, days, monday);
        assert_eq!(week.title, "Semaine du 12 janvier 2026");
        assert_eq!(week.days.len(), 7);
        assert_eq!(week.days[0].0, "lun. 12 janv.");
        assert!(week.days.iter().all(|(_, e)| e.is_empty()));
        assert_eq!(previous.as_deref(), Some("2026-01-05"));
        assert_eq!(next.as_deref(), Some("2026-01-19"));
        let days = super::by_day(vec![("2026-01-13".into(), entry())]);
        let (week, previous, next) = super::week_of(Lang::Fr, days, monday);
        assert_eq!(week.days[1].1.len(), 1);
        assert_eq!((previous, next), (None, None));
    }

    #[test]
    fn months_of_weeks_from_monday() {
        let months = super::months(vec![
            ("2026-02-02".into(), entry()),
            ("2026-01-05".into(), entry()),
            ("2026-01-05".into(), entry()),
            ("not a day".into(), entry()),
        ]);
        assert_eq!(months.len(), 2);
        let january = &months[0];
        assert_eq!((january.year, january.month), (2026, 1));
        // 2026-01-01 is a Thursday: three empty days first, five weeks in all.
        assert!(january.weeks[0][..3].iter().all(Option::is_none));
        assert_eq!(january.weeks[0][3].as_ref().map(|d| d.0), Some(1));
        assert_eq!(january.weeks.len(), 5);
        assert_eq!(
            january.weeks[1][0].as_ref().map(|d| (d.0, d.1.len())),
            Some((5, 2))
        );
        // 2026-02-01 is a Sunday, the last day of its first week.
        assert_eq!(months[1].weeks[0][6].as_ref().map(|d| d.0), Some(1));
        assert_eq!(
            months[1].weeks[1][0].as_ref().map(|d| (d.0, d.1.len())),
            Some((2, 1))
        );
        assert!(super::months(Vec::new()).is_empty());
    }
}
