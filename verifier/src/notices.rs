//! What the verifier tells people, by mail: a company's recruiters when a candidate accepts or
//! declines their offer, writes in a chat (one mail per chat per quiet period, not one per
//! line), and before and when a silent chat is deleted. Candidates are told the same things
//! (and of a new offer or quiz) through their wallet: the verifier knows no candidate's
//! address, only where their wallet takes notices (`profiles.notify_url`, given with the
//! publication the holder signed), which it calls by a job (`TELL_CANDIDATE`) with the
//! company's name and the offer's title, and the wallet mails its holder.

use crate::VerifierState;
use carnet_service::Ctx;
use carnet_service::addresses::language_of;
use carnet_service::error::{ApiError, ApiResult};
use carnet_service::i18n::Catalog;
use carnet_service::jobs::{self, Outcome};
use carnet_service::mail::{self, Outgoing, fill};
use serde_json::{Value, json};
use sqlx::AnyConnection;

/// Mails a chat's news to one side once its quiet period is over.
pub const CHAT_DIGEST: &str = "verifier.chat_digest";
/// Posts a notice to a candidate's wallet.
pub const TELL_CANDIDATE: &str = "verifier.tell_candidate";
/// New messages of a chat are told at most once per this long.
pub const QUIET_MS: i64 = 10 * 60 * 1000;

const MAIL: Catalog = &[
    ("hello", "Bonjour {name},", "Hello {name},"),
    (
        "accepted.subject",
        "{candidate} a accepté votre offre « {title} »",
        "{candidate} accepted your offer « {title} »",
    ),
    (
        "accepted.body",
        "{candidate} a accepté votre offre « {title} » et vous a communiqué ce qu'elle demandait. La conversation est ouverte :",
        "{candidate} accepted your offer « {title} » and shared what it asked for. The conversation is open:",
    ),
    (
        "declined.subject",
        "{candidate} a décliné votre offre « {title} »",
        "{candidate} declined your offer « {title} »",
    ),
    (
        "declined.body",
        "{candidate} a décliné votre offre « {title} » ; rien ne vous a été communiqué. Vos candidats :",
        "{candidate} declined your offer « {title} »; nothing was shared with you. Your candidates:",
    ),
    (
        "messages.subject",
        "Nouveaux messages de {candidate}",
        "New messages from {candidate}",
    ),
    (
        "messages.body",
        "{candidate} vous a écrit ({count} message·s) à propos de « {title} » :",
        "{candidate} wrote to you ({count} message·s) about « {title} »:",
    ),
    (
        "notice.subject",
        "Conversation avec {candidate} : suppression le {date}",
        "Conversation with {candidate}: deleted on {date}",
    ),
    (
        "notice.body",
        "Sans nouveau message, la conversation avec {candidate} (offre « {title} ») sera supprimée le {date}, comme toute conversation restée un mois sans réponse. Pour la garder, écrivez-y :",
        "Without a new message, the conversation with {candidate} (offer « {title} ») will be deleted on {date}, like every conversation left a month without an answer. To keep it, write in it:",
    ),
    (
        "deleted.subject",
        "Conversation avec {candidate} supprimée",
        "Conversation with {candidate} deleted",
    ),
    (
        "deleted.body",
        "La conversation avec {candidate} (offre « {title} ») a été supprimée après un mois sans message.",
        "The conversation with {candidate} (offer « {title} ») was deleted after a month without a message.",
    ),
];

/// What a company is told about one of its offer's recipients.
pub enum CompanyNews {
    Accepted,
    Declined,
    Messages(i64),
    /// Deleted on this day if nobody writes.
    DeletionNotice(String),
    Deleted,
}

/// An offer's recipient, as the notices speak of them.
struct About {
    company: String,
    title: String,
    author: String,
    candidate: String,
    profile: String,
    chat: Option<String>,
}

async fn about(conn: &mut AnyConnection, recipient: &str) -> ApiResult<About> {
    let (company, title, author, candidate, profile, chat): (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT r.company_id, o.title, o.created_by, p.name, p.id, c.id FROM offer_recipients r \
         JOIN offers o ON o.id = r.offer_id JOIN profiles p ON p.id = r.profile_id LEFT JOIN chats c ON c.recipient_id = r.id WHERE r.id = $1",
    )
    .bind(recipient)
    .fetch_one(&mut *conn)
    .await?;
    Ok(About {
        company,
        title,
        author,
        candidate,
        profile,
        chat,
    })
}

/// Who hears of an offer: its author while a member of the company, else its administrators;
/// confirmed addresses only. (account, e-mail, name)
async fn listeners(
    conn: &mut AnyConnection,
    company: &str,
    author: &str,
) -> ApiResult<Vec<(String, String, String)>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT a.id, a.email, a.display_name, m.role FROM tenant_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.tenant_id = $1 AND (a.id = $2 OR m.role = 'admin') AND a.email_verified_at IS NOT NULL",
    )
    .bind(company)
    .bind(author)
    .fetch_all(&mut *conn)
    .await?;
    let (theirs, admins): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.0 == author);
    let chosen = if theirs.is_empty() { admins } else { theirs };
    let mut out: Vec<(String, String, String)> =
        chosen.into_iter().map(|(id, e, n, _)| (id, e, n)).collect();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

/// Mails the company's people `news` about an offer's recipient, in `conn` (the change's
/// transaction).
pub async fn to_company(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    recipient: &str,
    news: CompanyNews,
) -> ApiResult<()> {
    let a = about(conn, recipient).await?;
    let base = &ctx.config.public_url;
    let chat_link = a
        .chat
        .as_ref()
        .map(|c| format!("{base}/companies/{}/chats/{c}", a.company));
    let candidates = format!("{base}/companies/{}/candidates", a.company);
    for (account, email, name) in listeners(conn, &a.company, &a.author).await? {
        let lang = language_of(conn, &account).await?;
        let t = |key: &str| lang.t(MAIL, key);
        let (kind, key, link, date, count) = match &news {
            CompanyNews::Accepted => (
                "offer_accepted",
                "accepted",
                chat_link.clone().unwrap_or_else(|| candidates.clone()),
                String::new(),
                0,
            ),
            CompanyNews::Declined => (
                "offer_declined",
                "declined",
                candidates.clone(),
                String::new(),
                0,
            ),
            CompanyNews::Messages(n) => (
                "chat_messages",
                "messages",
                chat_link.clone().unwrap_or_else(|| candidates.clone()),
                String::new(),
                *n,
            ),
            CompanyNews::DeletionNotice(day) => (
                "chat_deletion_notice",
                "notice",
                chat_link.clone().unwrap_or_else(|| candidates.clone()),
                carnet_service::web::spoken_date(
                    lang,
                    day,
                    &carnet_service::web::day(ctx.now_ms()),
                ),
                0,
            ),
            CompanyNews::Deleted => (
                "chat_deleted",
                "deleted",
                candidates.clone(),
                String::new(),
                0,
            ),
        };
        let count = count.to_string();
        let values = [
            ("candidate", a.candidate.as_str()),
            ("title", a.title.as_str()),
            ("date", date.as_str()),
            ("count", count.as_str()),
        ];
        mail::queue(
            conn,
            ctx,
            &Outgoing {
                kind,
                to: email,
                to_name: name.clone(),
                subject: fill(t(&format!("{key}.subject")), &values),
                paragraphs: vec![
                    fill(t("hello"), &[("name", &name)]),
                    fill(t(&format!("{key}.body")), &values),
                    link,
                ],
                attachment: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Tells a candidate's wallet `notice` (`kind`: `offer`, `quiz`, `messages`,
/// `deletion_notice`, `deleted`), with the company's name, in `conn`; nothing when the
/// profile gave no address for notices.
pub async fn to_candidate(
    conn: &mut AnyConnection,
    now: i64,
    profile: &str,
    company: &str,
    mut notice: Value,
) -> ApiResult<()> {
    let row: Option<(Option<String>, String)> = sqlx::query_as(
        "SELECT p.notify_url, t.name FROM profiles p, tenants t WHERE p.id = $1 AND t.id = $2",
    )
    .bind(profile)
    .bind(company)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((Some(url), company_name)) = row else {
        return Ok(());
    };
    notice["company"] = json!(company_name);
    tell(conn, now, &url, &notice).await
}

/// Queues posting `notice` to the wallet at `url`.
async fn tell(conn: &mut AnyConnection, now: i64, url: &str, notice: &Value) -> ApiResult<()> {
    jobs::enqueue(
        conn,
        now,
        TELL_CANDIDATE,
        &json!({ "url": url, "notice": notice }),
        now,
        None,
    )
    .await?;
    Ok(())
}

/// Tells every recipient of a new offer whose wallet takes notices.
pub async fn offer_sent(
    conn: &mut AnyConnection,
    now: i64,
    offer: &str,
    company: &str,
    title: &str,
) -> ApiResult<()> {
    let (company_name,): (String,) = sqlx::query_as("SELECT name FROM tenants WHERE id = $1")
        .bind(company)
        .fetch_one(&mut *conn)
        .await?;
    let urls: Vec<(String,)> = sqlx::query_as(
        "SELECT p.notify_url FROM offer_recipients r JOIN profiles p ON p.id = r.profile_id \
         WHERE r.offer_id = $1 AND p.notify_url IS NOT NULL",
    )
    .bind(offer)
    .fetch_all(&mut *conn)
    .await?;
    let notice = json!({ "kind": "offer", "company": company_name, "title": title });
    for (url,) in urls {
        tell(conn, now, &url, &notice).await?;
    }
    Ok(())
}

/// Tells a candidate `kind` about an offer's recipient (its company and title).
pub async fn to_candidate_about(
    conn: &mut AnyConnection,
    now: i64,
    recipient: &str,
    mut notice: Value,
) -> ApiResult<()> {
    let a = about(conn, recipient).await?;
    notice["title"] = json!(a.title);
    to_candidate(conn, now, &a.profile, &a.company, notice).await
}

/// The `TELL_CANDIDATE` job: posts the notice to the wallet (retried with backoff).
pub async fn tell_candidate(state: VerifierState, payload: Value) -> Result<Outcome, String> {
    let url = payload["url"].as_str().unwrap_or_default();
    state
        .remote
        .post_json(url, &payload["notice"], None, "the candidate's wallet")
        .await
        .map_err(|e| e.to_string())?;
    Ok(Outcome::Done)
}

/// After a message from `sender` (`company` or `candidate`), the other side hears of it once
/// the quiet period it falls in is over: one job per chat, side and period.
pub async fn after_message(
    conn: &mut AnyConnection,
    now: i64,
    chat: &str,
    sender: &str,
) -> Result<(), sqlx::Error> {
    let side = if sender == "company" {
        "candidate"
    } else {
        "company"
    };
    let period = now.div_euclid(QUIET_MS);
    jobs::enqueue(
        conn,
        now,
        CHAT_DIGEST,
        &json!({ "chat": chat, "side": side }),
        (period + 1) * QUIET_MS,
        Some(&format!("digest:{chat}:{side}:{period}")),
    )
    .await
}

/// The `CHAT_DIGEST` job: the other side's messages since this side was last told or last
/// wrote (then they have seen them), told in one mail or notice.
pub async fn chat_digest(ctx: Ctx, payload: Value) -> Result<Outcome, String> {
    let run = async {
        let chat = payload["chat"].as_str().unwrap_or_default();
        let side = payload["side"].as_str().unwrap_or_default();
        let (other, told_column) = match side {
            "company" => ("candidate", "company_told_at"),
            "candidate" => ("company", "candidate_told_at"),
            _ => return Ok(()),
        };
        let now = ctx.now_ms();
        let mut tx = ctx.db.begin().await?;
        let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT recipient_id, company_id, profile_id, {told_column} FROM chats WHERE id = $1"
        ))
        .bind(chat)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((recipient, _company, _profile, told)) = row else {
            return Ok(());
        };
        let (wrote,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(at) FROM chat_messages WHERE chat_id = $1 AND sender = $2")
                .bind(chat)
                .bind(side)
                .fetch_one(&mut *tx)
                .await?;
        let since = told.unwrap_or(0).max(wrote.unwrap_or(0));
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM chat_messages WHERE chat_id = $1 AND sender = $2 AND at > $3",
        )
        .bind(chat)
        .bind(other)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        if count > 0 {
            if side == "company" {
                to_company(&mut tx, &ctx, &recipient, CompanyNews::Messages(count)).await?;
            } else {
                to_candidate_about(
                    &mut tx,
                    now,
                    &recipient,
                    json!({ "kind": "messages", "count": count }),
                )
                .await?;
            }
            sqlx::query(&format!(
                "UPDATE chats SET {told_column} = $1 WHERE id = $2"
            ))
            .bind(now)
            .bind(chat)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok::<_, ApiError>(())
    };
    run.await.map_err(|e| e.to_string())?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_complete() {
        carnet_service::i18n::assert_complete(super::MAIL);
    }
}
