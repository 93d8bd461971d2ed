//! What the services say when they refuse an input (`Problem::detail`, in English for API
//! clients), as pages say it in French: each entry is the English text with its numbers set
//! aside as `{n}`, the French, and the English again (the catalog's shape). A refusal with no
//! entry is said in general terms on a French page (`problem.explained`), never in English.

use crate::i18n::{Catalog, Lang};

pub const CATALOG: Catalog = &[
    (
        "{n} minute to {n} days",
        "De {n} minute à {n} jours.",
        "{n} minute to {n} days",
    ),
    (
        "{n} to {n} marks",
        "De {n} à {n} émargements.",
        "{n} to {n} marks",
    ),
    (
        "{n} characters at least ({n},{n} bytes at most)",
        "Au moins {n} caractères (et pas plus de {n} {n} octets).",
        "{n} characters at least ({n},{n} bytes at most)",
    ),
    (
        "EdDSA, Ed25519 or ES256",
        "EdDSA, Ed25519 ou ES256.",
        "EdDSA, Ed25519 or ES256",
    ),
    (
        "a file is replaced by uploading another",
        "Pour changer le fichier, déposez-en un autre.",
        "a file is replaced by uploading another",
    ),
    (
        "a name of {n} to {n} characters",
        "Un nom de {n} à {n} caractères.",
        "a name of {n} to {n} characters",
    ),
    (
        "a phone number (digits, +, spaces)",
        "Un numéro de téléphone (chiffres, +, espaces).",
        "a phone number (digits, +, spaces)",
    ),
    (
        "a private chat has a trainee in it",
        "Une discussion privée réunit un stagiaire et l'équipe.",
        "a private chat has a trainee in it",
    ),
    (
        "a start before the end, within the half-day (the afternoon starts at {n}:{n})",
        "Un début avant la fin, dans la demi-journée (l'après-midi commence à {n}:{n}).",
        "a start before the end, within the half-day (the afternoon starts at {n}:{n})",
    ),
    (
        "admin, manager, trainer or trainee",
        "Administrateur, gestionnaire, formateur ou stagiaire.",
        "admin, manager, trainer or trainee",
    ),
    (
        "an ISO {n}-{n} alpha-{n} code such as FR",
        "Un code pays comme FR.",
        "an ISO {n}-{n} alpha-{n} code such as FR",
    ),
    (
        "an offer has a text, a PDF or both",
        "Une offre a un texte, un PDF, ou les deux.",
        "an offer has a text, a PDF or both",
    ),
    (
        "another account uses this e-mail address",
        "Un autre compte utilise cette adresse e-mail.",
        "another account uses this e-mail address",
    ),
    (
        "another member of this session",
        "Un autre membre de cette session.",
        "another member of this session",
    ),
    (
        "at most two weeks after the start",
        "Au plus deux semaines après le début.",
        "at most two weeks after the start",
    ),
    (
        "cdi, cdd, interim, alternance, stage or freelance",
        "CDI, CDD, intérim, alternance, stage ou indépendant.",
        "cdi, cdd, interim, alternance, stage or freelance",
    ),
    (
        "in a session: manager, trainer or trainee",
        "Dans une session : responsable, formateur ou stagiaire.",
        "in a session: manager, trainer or trainee",
    ),
    (
        "its key derivation parameters are not acceptable",
        "Ce fichier de sauvegarde n'est pas accepté : ses paramètres de chiffrement ne conviennent pas.",
        "its key derivation parameters are not acceptable",
    ),
    (
        "no code is waiting for this account: ask for a new one",
        "Aucun code n'attend pour ce compte : demandez-en un nouveau.",
        "no code is waiting for this account: ask for a new one",
    ),
    (
        "no evaluation of this trainee on this competency",
        "Ce stagiaire n'a pas d'évaluation sur cette compétence.",
        "no evaluation of this trainee on this competency",
    ),
    (
        "no member of this organisation has this e-mail address",
        "Aucun membre de l'organisation n'a cette adresse e-mail.",
        "no member of this organisation has this e-mail address",
    ),
    (
        "no such course in this organisation",
        "Ce cours n'existe pas dans l'organisation.",
        "no such course in this organisation",
    ),
    (
        "no such formation in this organisation (or it is archived)",
        "Cette formation n'existe pas dans l'organisation (ou elle est archivée).",
        "no such formation in this organisation (or it is archived)",
    ),
    (
        "no such quiz in this organisation",
        "Ce questionnaire n'existe pas dans l'organisation.",
        "no such quiz in this organisation",
    ),
    (
        "no such resource in this organisation",
        "Cette ressource n'existe pas dans l'organisation.",
        "no such resource in this organisation",
    ),
    (
        "no such scale in this organisation",
        "Cette échelle n'existe pas dans l'organisation.",
        "no such scale in this organisation",
    ),
    (
        "no trainee of this session has this e-mail address",
        "Aucun stagiaire de la session n'a cette adresse e-mail.",
        "no trainee of this session has this e-mail address",
    ),
    (
        "nobody is staff of a session above their role in the organisation: give them a staff role there first",
        "Personne n'a dans une session un rôle au-dessus du sien dans l'organisation : donnez-lui d'abord un rôle d'équipe dans l'organisation.",
        "nobody is staff of a session above their role in the organisation: give them a staff role there first",
    ),
    (
        "nobody to send the offer to",
        "Personne à qui envoyer l'offre.",
        "nobody to send the offer to",
    ),
    (
        "not a credential offer link (openid-credential-offer://…) or URL",
        "Ce n'est pas le lien d'une attestation à recevoir : photographiez le QR code, ou copiez le lien tel que le centre l'a donné.",
        "not a credential offer link (openid-credential-offer://…) or URL",
    ),
    (
        "not a trainee of this session",
        "Cette personne n'est pas stagiaire de la session.",
        "not a trainee of this session",
    ),
    (
        "not a valid e-mail address",
        "Ce n'est pas une adresse e-mail valide.",
        "not a valid e-mail address",
    ),
    (
        "not yourself: another administrator takes you out",
        "Pas vous-même : un autre administrateur peut vous retirer.",
        "not yourself: another administrator takes you out",
    ),
    (
        "say which claims you agree to share (see the preview)",
        "Cochez ce que vous acceptez de partager (voir l'aperçu).",
        "say which claims you agree to share (see the preview)",
    ),
    ("svg or png", "Une image SVG ou PNG.", "svg or png"),
    (
        "the current password is wrong",
        "Le mot de passe actuel est incorrect.",
        "the current password is wrong",
    ),
    (
        "the password is longer than {n} bytes",
        "Le mot de passe est trop long.",
        "the password is longer than {n} bytes",
    ),
    (
        "the password needs at least {n} characters",
        "Le mot de passe doit avoir au moins {n} caractères.",
        "the password needs at least {n} characters",
    ),
    (
        "this competency is archived",
        "Cette compétence est archivée.",
        "this competency is archived",
    ),
    (
        "this person has not confirmed their e-mail address yet: once they follow the link mailed to them, add them again",
        "Cette personne n'a pas encore confirmé son adresse e-mail : une fois le lien reçu suivi, ajoutez-la de nouveau.",
        "this person has not confirmed their e-mail address yet: once they follow the link mailed to them, add them again",
    ),
    (
        "this scale is archived",
        "Cette échelle est archivée.",
        "this scale is archived",
    ),
    (
        "revoked, suspended or valid",
        "Révoquée, suspendue ou valide.",
        "revoked, suspended or valid",
    ),
    // A quiz, from the editor or its text, and as the API checks it.
    (
        "question {n}: the question is missing",
        "Question {n} : l'énoncé manque.",
        "question {n}: the question is missing",
    ),
    (
        "question {n}: points as a whole number",
        "Question {n} : les points sont un nombre entier.",
        "question {n}: points as a whole number",
    ),
    (
        "question {n}: points as [{n}]",
        "Question {n} : les points s'écrivent entre crochets, comme [2].",
        "question {n}: points as [{n}]",
    ),
    (
        "question {n}: mark the right option",
        "Question {n} : cochez la bonne réponse (ou les bonnes).",
        "question {n}: mark the right option",
    ),
    (
        "question {n}: options or accepted answers, not both",
        "Question {n} : des réponses proposées ou des réponses libres acceptées, pas les deux.",
        "question {n}: options or accepted answers, not both",
    ),
    (
        "question q{n}: {n} to {n} options, the right one among them",
        "Question {n} : de {n} à {n} réponses proposées, dont la bonne.",
        "question q{n}: {n} to {n} options, the right one among them",
    ),
    (
        "question q{n}: {n} to {n} options, the right ones among them",
        "Question {n} : de {n} à {n} réponses proposées, dont les bonnes.",
        "question q{n}: {n} to {n} options, the right ones among them",
    ),
    (
        "question q{n}: at most {n} points",
        "Question {n} : au plus {n} points.",
        "question q{n}: at most {n} points",
    ),
    (
        "question q{n}: at most {n} accepted answers",
        "Question {n} : au plus {n} réponses acceptées.",
        "question q{n}: at most {n} accepted answers",
    ),
    (
        "question q{n}: a prompt",
        "Question {n} : l'énoncé manque.",
        "question q{n}: a prompt",
    ),
    (
        "questions: {n} to {n}",
        "De {n} à {n} questions.",
        "questions: {n} to {n}",
    ),
    ("required", "Ce champ est obligatoire.", "required"),
    ("too long", "C'est trop long.", "too long"),
    (
        "{n} to {n} characters",
        "Entre {n} et {n} caractères.",
        "{n} to {n} characters",
    ),
    ("{n} to {n}", "De {n} à {n}.", "{n} to {n}"),
    ("at most {n}", "Au plus {n}.", "at most {n}"),
    (
        "between {n} and {n}",
        "Entre {n} et {n}.",
        "between {n} and {n}",
    ),
    (
        "a date YYYY-MM-DD",
        "Une date est attendue.",
        "a date YYYY-MM-DD",
    ),
    (
        "after the start",
        "La fin doit venir après le début.",
        "after the start",
    ),
    (
        "the session ends before it starts",
        "La session se termine avant de commencer.",
        "the session ends before it starts",
    ),
    (
        "after the opening",
        "La fermeture doit venir après l'ouverture.",
        "after the opening",
    ),
    (
        "morning or afternoon",
        "Matin ou après-midi.",
        "morning or afternoon",
    ),
    (
        "course, exam or other",
        "Cours, examen ou autre.",
        "course, exam or other",
    ),
    (
        "the password is wrong",
        "Le mot de passe est incorrect.",
        "the password is wrong",
    ),
    (
        "no account has this e-mail address",
        "Aucun compte n'a cette adresse e-mail : la personne doit d'abord créer le sien.",
        "no account has this e-mail address",
    ),
    (
        "a SIRET has {n} digits",
        "Un numéro SIRET a {n} chiffres.",
        "a SIRET has {n} digits",
    ),
    (
        "a SIRET has only digits",
        "Un numéro SIRET ne contient que des chiffres.",
        "a SIRET has only digits",
    ),
    (
        "the SIREN (first {n} digits) fails its check digit",
        "Ce numéro n'est pas un SIRET valide : vérifiez ses {n} premiers chiffres (le SIREN).",
        "the SIREN (first {n} digits) fails its check digit",
    ),
    (
        "the SIRET fails its check digit",
        "Ce numéro SIRET n'est pas valide : vérifiez-le.",
        "the SIRET fails its check digit",
    ),
    (
        "a time zone of France, such as Europe/Paris",
        "Un fuseau horaire de France, par exemple Europe/Paris.",
        "a time zone of France, such as Europe/Paris",
    ),
    (
        "an http(s) URL",
        "Une adresse web (https://…) est attendue.",
        "an http(s) URL",
    ),
    (
        "an INSEE region code",
        "Choisissez une région dans la liste.",
        "an INSEE region code",
    ),
    (
        "this offer needs the code the training centre gave you",
        "Cette attestation demande le code PIN que le centre vous a donné.",
        "this offer needs the code the training centre gave you",
    ),
    (
        "wrong transaction code",
        "Ce code PIN n'est pas le bon.",
        "wrong transaction code",
    ),
    (
        "too many wrong transaction codes; ask for a new offer",
        "Trop de codes PIN erronés : demandez au centre un nouveau lien.",
        "too many wrong transaction codes; ask for a new offer",
    ),
    (
        "this pre-authorized code was already used",
        "Ce lien a déjà servi : l'attestation est sans doute déjà dans votre carnet.",
        "this pre-authorized code was already used",
    ),
    (
        "the offer expired",
        "Ce lien a expiré : demandez-en un nouveau au centre.",
        "the offer expired",
    ),
    (
        "the offer was answered already",
        "Vous avez déjà répondu à cette offre.",
        "the offer was answered already",
    ),
    (
        "the issuer is not trusted",
        "Ce centre n'est pas reconnu par la plateforme.",
        "the issuer is not trusted",
    ),
    (
        "wrong passphrase, or a damaged backup",
        "Phrase secrète incorrecte, ou sauvegarde abîmée.",
        "wrong passphrase, or a damaged backup",
    ),
    (
        "not a Carnet wallet backup",
        "Ce fichier n'est pas une sauvegarde de carnet.",
        "not a Carnet wallet backup",
    ),
    (
        "say which claims you agree to share",
        "Cochez ce que vous acceptez de partager.",
        "say which claims you agree to share",
    ),
    (
        "choose at least one credential",
        "Choisissez au moins une attestation.",
        "choose at least one credential",
    ),
    (
        "the request needs more credentials than those chosen",
        "Cette demande attend plus d'attestations que celles choisies.",
        "the request needs more credentials than those chosen",
    ),
    (
        "no valid competency credential to publish",
        "Aucune attestation de compétence valide à publier.",
        "no valid competency credential to publish",
    ),
    (
        "no such session in this organisation",
        "Cette session n'existe pas dans l'organisation.",
        "no such session in this organisation",
    ),
    (
        "no such competency in this organisation",
        "Cette compétence n'existe pas dans l'organisation.",
        "no such competency in this organisation",
    ),
    (
        "the CSV is empty",
        "Le fichier est vide.",
        "the CSV is empty",
    ),
    (
        "the file is empty",
        "Le fichier est vide.",
        "the file is empty",
    ),
    (
        "the CSV is not UTF-8",
        "Le fichier n'est pas enregistré en UTF-8 : enregistrez-le à nouveau en « CSV UTF-8 ».",
        "the CSV is not UTF-8",
    ),
    (
        "the request has expired",
        "Cette demande a expiré.",
        "the request has expired",
    ),
    (
        "the request was answered already",
        "Vous avez déjà répondu à cette demande.",
        "the request was answered already",
    ),
];

/// `detail` in `lang`: its entry, the numbers put back in order; `None` when there is none
/// (and in English, the text itself).
pub fn say(lang: Lang, detail: &str) -> Option<String> {
    if lang == Lang::En {
        return Some(detail.to_owned());
    }
    let (mut pattern, mut numbers, mut digits) = (String::new(), Vec::new(), String::new());
    for c in detail.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            pattern.push_str("{n}");
            numbers.push(std::mem::take(&mut digits));
        }
        if c != '\0' {
            pattern.push(c);
        }
    }
    let said = lang.t(CATALOG, pattern.trim());
    if said.is_empty() {
        return None;
    }
    let mut numbers = numbers.into_iter();
    let mut out = String::new();
    for (i, piece) in said.split("{n}").enumerate() {
        if i > 0 {
            out.push_str(&numbers.next().unwrap_or_default());
        }
        out.push_str(piece);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        crate::i18n::assert_complete(CATALOG);
    }

    #[test]
    fn refusals_in_french_with_their_numbers() {
        assert_eq!(
            say(Lang::Fr, "1 to 200 characters").as_deref(),
            Some("Entre 1 et 200 caractères.")
        );
        assert_eq!(
            say(Lang::Fr, "a SIRET has 14 digits").as_deref(),
            Some("Un numéro SIRET a 14 chiffres.")
        );
        assert_eq!(
            say(Lang::Fr, "question 2: mark the right option").as_deref(),
            Some("Question 2 : cochez la bonne réponse (ou les bonnes).")
        );
        assert_eq!(
            say(Lang::Fr, "the password needs at least 10 characters").as_deref(),
            Some("Le mot de passe doit avoir au moins 10 caractères.")
        );
        assert_eq!(say(Lang::Fr, "something new"), None);
        assert_eq!(
            say(Lang::En, "something new").as_deref(),
            Some("something new")
        );
    }
}
