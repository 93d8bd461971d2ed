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
    (
        "enrolled.subject",
        "Convocation : {session}",
        "Invitation: {session}",
    ),
    (
        "enrolled.body",
        "{centre} vous inscrit à la session « {session} », du {starts} au {ends}{hours}. Son calendrier, ses ressources et ses questionnaires sont sur sa page :",
        "{centre} enrols you in the session « {session} », from {starts} to {ends}{hours}. Its calendar, resources and quizzes are on its page:",
    ),
    (
        "enrolled.hours",
        " ({hours} heures prévues)",
        " ({hours} hours planned)",
    ),
    (
        "enrolled.calendar",
        "Les créneaux prévus sont joints, à ajouter à votre agenda ; chaque changement vous sera écrit.",
        "The planned events are attached, to add to your calendar; every change will be written to you.",
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
        // A moment (`YYYY-MM-DD HH:MM`, on the session's clock) in the recipient's words.
        let said: Vec<(&str, String)> = values
            .iter()
            .map(|(k, v)| {
                let moment = v.len() == 16
                    && v.as_bytes()[10] == b' '
                    && v.get(..10).is_some_and(carnet_core::availability::is_date);
                match moment {
                    true => (*k, carnet_service::web::wall_clock(lang, v)),
                    false => (*k, (*v).to_owned()),
                }
            })
            .collect();
        let said: Vec<(&str, &str)> = said.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let values = &said[..];
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

/// Mails a trainee just enrolled their convocation to the session: its dates and page, with
/// the events planned so far as a calendar to add, in `conn`.
pub async fn enrolled(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    access: &crate::sessions::SessionAccess,
    account: &str,
) -> ApiResult<()> {
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT email, display_name, email_verified_at FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((email, name, Some(_))) = row else {
        return Ok(());
    };
    let lang = carnet_service::addresses::language_of(conn, account).await?;
    let t = |k: &str| lang.t(MAIL, k);
    let s = &access.session;
    let today = carnet_service::web::day(ctx.now_ms());
    let hours = s.planned_hours.to_string();
    let hours = if s.planned_hours > 0 {
        fill(t("enrolled.hours"), &[("hours", &hours)])
    } else {
        String::new()
    };
    let (starts, ends) = (
        carnet_service::web::spoken_date(lang, &s.starts_on, &today),
        carnet_service::web::spoken_date(lang, &s.ends_on, &today),
    );
    let values = [
        ("centre", access.org.tenant.name.as_str()),
        ("session", s.title.as_str()),
        ("starts", starts.as_str()),
        ("ends", ends.as_str()),
        ("hours", hours.as_str()),
    ];
    let planned = crate::calendar::upcoming(ctx, s).await?;
    let mut paragraphs = vec![
        fill(t("hello"), &[("name", &name)]),
        fill(t("enrolled.body"), &values),
        format!(
            "{}/orgs/{}/sessions/{}",
            ctx.config.public_url, access.org.tenant.id, s.id
        ),
    ];
    if planned.is_some() {
        paragraphs.push(t("enrolled.calendar").to_owned());
    }
    mail::queue(
        conn,
        ctx,
        &Outgoing {
            kind: "convocation",
            to: email,
            to_name: name.clone(),
            subject: fill(t("enrolled.subject"), &values),
            paragraphs,
            attachment: planned.map(|body| mail::Attachment {
                filename: "session.ics".into(),
                content_type: "text/calendar; method=PUBLISH; charset=UTF-8".into(),
                body,
            }),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_complete() {
        carnet_service::i18n::assert_complete(super::MAIL);
    }
}
