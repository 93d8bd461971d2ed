//! Notices from verifiers: where the holder published a profile, the verifier is given an
//! address of this wallet (random, one per publication, kept hashed) to tell of news for the
//! holder — an offer, a quiz, new messages, a chat about to be deleted or deleted. The wallet
//! mails its holder (a confirmed address only, in their language), saying which company and
//! which offer, and leads them to their carnet, where they read it and choose what to share.
//! What a verifier says is only named, never trusted: a closed list of kinds, short texts.

use crate::WalletState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_service::Ctx;
use carnet_service::addresses::language_of;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::i18n::Catalog;
use carnet_service::id::{hash_secret, looks_like_id, random_token};
use carnet_service::mail::{self, Outgoing, fill};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::AnyConnection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const MAIL: Catalog = &[
    ("hello", "Bonjour {name},", "Hello {name},"),
    (
        "offer.subject",
        "Nouvelle offre : « {title} » — {company}",
        "New offer: « {title} » — {company}",
    ),
    (
        "offer.body",
        "{company} vous propose « {title} ». Ouvrez votre carnet pour la lire et y répondre : vous seul choisissez ce que vous partagez.",
        "{company} offers you « {title} ». Open your carnet to read it and answer: only you choose what you share.",
    ),
    (
        "quiz.subject",
        "Un questionnaire de {company}",
        "A quiz from {company}",
    ),
    (
        "quiz.body",
        "{company} vous envoie un questionnaire : « {title} ». Vous y répondez depuis votre carnet.",
        "{company} sends you a quiz: « {title} ». You answer it from your carnet.",
    ),
    (
        "messages.subject",
        "Nouveaux messages de {company}",
        "New messages from {company}",
    ),
    (
        "messages.body",
        "{company} vous a écrit ({count} message·s) à propos de « {title} ». Lisez et répondez depuis votre carnet.",
        "{company} wrote to you ({count} message·s) about « {title} ». Read and answer from your carnet.",
    ),
    (
        "deletion_notice.subject",
        "Conversation avec {company} : suppression le {date}",
        "Conversation with {company}: deleted on {date}",
    ),
    (
        "deletion_notice.body",
        "Sans nouveau message, votre conversation avec {company} (offre « {title} ») sera supprimée le {date}, comme toute conversation restée un mois sans réponse. Pour la garder, écrivez-y depuis votre carnet.",
        "Without a new message, your conversation with {company} (offer « {title} ») will be deleted on {date}, like every conversation left a month without an answer. To keep it, write in it from your carnet.",
    ),
    (
        "deleted.subject",
        "Conversation avec {company} supprimée",
        "Conversation with {company} deleted",
    ),
    (
        "deleted.body",
        "Votre conversation avec {company} (offre « {title} ») a été supprimée après un mois sans message.",
        "Your conversation with {company} (offer « {title} ») was deleted after a month without a message.",
    ),
    ("open", "Ouvrir mon carnet :", "Open my carnet:"),
];

const KINDS: &[&str] = &["offer", "quiz", "messages", "deletion_notice", "deleted"];

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// A new notice address: its secret, and the address the verifier is given.
pub fn new_address(ctx: &Ctx) -> (String, String) {
    let handle = random_token(24);
    let url = format!("{}/api/v1/notices/{handle}", ctx.config.public_url);
    (handle, url)
}

/// Keeps `handle` as the notice address of `publication` (replacing the one it had), in
/// `conn`, once the verifier took the publication.
pub async fn keep(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &str,
    publication: &str,
    handle: &str,
) -> ApiResult<()> {
    forget(conn, publication).await?;
    sqlx::query(
        "INSERT INTO notice_handles (handle_hash, account_id, publication_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_secret(handle))
    .bind(account)
    .bind(publication)
    .bind(ctx.now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the notice address of a publication (withdrawn, or published again).
pub async fn forget(conn: &mut AnyConnection, publication: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM notice_handles WHERE publication_id = $1")
        .bind(publication)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Notice {
    /// `offer`, `quiz`, `messages`, `deletion_notice` or `deleted`.
    pub kind: String,
    pub company: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    /// `YYYY-MM-DD`, for `deletion_notice`.
    #[serde(default)]
    pub date: Option<String>,
}

/// A verifier tells of news for the holder behind this address; the wallet mails them.
#[utoipa::path(post, path = "/api/v1/notices/{handle}", tag = "directory", request_body = Notice,
    params(("handle" = String, Path)),
    responses((status = 202, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn receive(
    State(state): State<WalletState>,
    Path(handle): Path<String>,
    Json(notice): Json<Notice>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let ctx = &state.ctx;
    if !looks_like_id(&handle) {
        return Err(ApiError::NotFound);
    }
    if !KINDS.contains(&notice.kind.as_str()) {
        return Err(ApiError::invalid_field("kind", KINDS.join(", ")));
    }
    let company = carnet_service::extract::text("company", &notice.company, 200)?;
    let title = match &notice.title {
        Some(t) => carnet_service::extract::text("title", t, 200)?,
        None => String::new(),
    };
    let date = notice
        .date
        .as_deref()
        .filter(|d| d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
        .unwrap_or_default();
    let mut tx = ctx.db.begin().await?;
    let row: Option<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT a.id, a.email, a.display_name, a.email_verified_at FROM notice_handles h \
         JOIN accounts a ON a.id = h.account_id WHERE h.handle_hash = $1",
    )
    .bind(hash_secret(&handle))
    .fetch_optional(&mut *tx)
    .await?;
    let (account, email, name, verified) = row.ok_or(ApiError::NotFound)?;
    // Only to an address its owner confirmed; the verifier is answered the same.
    if verified.is_some() {
        let lang = language_of(&mut tx, &account).await?;
        let t = |key: &str| lang.t(MAIL, key);
        let count = notice.count.unwrap_or(1).min(10_000).to_string();
        let date =
            carnet_service::web::spoken_date(lang, date, &carnet_service::web::day(ctx.now_ms()));
        let values = [
            ("company", company.as_str()),
            ("title", title.as_str()),
            ("count", count.as_str()),
            ("date", date.as_str()),
        ];
        let kind = notice.kind.as_str();
        mail::queue(
            &mut tx,
            ctx,
            &Outgoing {
                kind: match kind {
                    "offer" => "recruiter_offer",
                    "quiz" => "recruiter_quiz",
                    "messages" => "chat_messages",
                    "deletion_notice" => "chat_deletion_notice",
                    _ => "chat_deleted",
                },
                to: email,
                to_name: name.clone(),
                subject: fill(t(&format!("{kind}.subject")), &values),
                paragraphs: vec![
                    fill(t("hello"), &[("name", &name)]),
                    fill(t(&format!("{kind}.body")), &values),
                    t("open").to_owned(),
                    ctx.config.public_url.clone(),
                ],
                attachment: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "received": true }))))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_complete() {
        carnet_service::i18n::assert_complete(super::MAIL);
    }
}
