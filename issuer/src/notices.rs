//! Short notices the centre mails its people: a quiz opened to a session (its trainees), an
//! identity credential asked for (the organisation's administrators and managers). Each to a
//! confirmed address, in its owner's language, with the link to act on it.

use carnet_service::Ctx;
use carnet_service::error::ApiResult;
use carnet_service::i18n::Catalog;
use carnet_service::mail::{self, Outgoing, fill};
use sqlx::AnyConnection;

const MAIL: Catalog = &[
    ("hello", "Bonjour {name},", "Hello {name},"),
    (
        "quiz.subject",
        "Questionnaire à faire : {title}",
        "A quiz to take: {title}",
    ),
    (
        "quiz.body",
        "Le questionnaire « {title} » de la session « {session} » est ouvert du {opens} au {closes}. Vous y répondez depuis la page de la session :",
        "The quiz « {title} » of the session « {session} » is open from {opens} to {closes}. You answer it from the session's page:",
    ),
    (
        "identity.subject",
        "{name} demande une attestation d'identité",
        "{name} asks for an identity credential",
    ),
    (
        "identity.body",
        "{name} demande à {centre} d'attester son identité, pour répondre aux offres qui la demandent. Vérifiez-la puis attestez-la depuis la page de l'organisation :",
        "{name} asks {centre} to attest their identity, to answer the offers that ask for it. Check it, then attest it from the organisation's page:",
    ),
    (
        "message",
        "Son message : « {message} »",
        "Their message: « {message} »",
    ),
];

/// Mails each of `people` (account, address, name) the notice `key` (`quiz`, `identity`)
/// with `values` filled in and `link`, in `conn`.
pub async fn mail_people(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    people: Vec<(String, String, String)>,
    (kind, key): (&'static str, &str),
    values: &[(&str, &str)],
    link: &str,
) -> ApiResult<()> {
    for (account, email, name) in people {
        let lang = carnet_service::addresses::language_of(conn, &account).await?;
        let t = |k: &str| lang.t(MAIL, k);
        let mut paragraphs = vec![
            fill(t("hello"), &[("name", &name)]),
            fill(t(&format!("{key}.body")), values),
        ];
        if let Some((_, message)) = values
            .iter()
            .find(|(k, v)| *k == "message" && !v.is_empty())
        {
            paragraphs.push(fill(t("message"), &[("message", message)]));
        }
        paragraphs.push(link.to_owned());
        mail::queue(
            conn,
            ctx,
            &Outgoing {
                kind,
                to: email,
                to_name: name.clone(),
                subject: fill(t(&format!("{key}.subject")), values),
                paragraphs,
                attachment: None,
            },
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_complete() {
        carnet_service::i18n::assert_complete(super::MAIL);
    }
}
