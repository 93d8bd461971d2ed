//! Private chats between a company and a candidate, opened when the candidate accepts an offer.
//! Recruiters of the company write with their session; the candidate writes from their wallet
//! with a holder proof. New messages are pushed to open streams (server-sent events). A chat
//! with no message for 30 days is deleted with its messages by a job, which posts a notice to
//! both sides a week before.

use crate::VerifierState;
use crate::directory::ProvenHolder;
use crate::notices;
use crate::search::Recruiter;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use carnet_service::Ctx;
use carnet_service::bus;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::id::random_token;
use carnet_service::jobs::Outcome;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::convert::Infallible;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// A chat with no message for this long is deleted.
pub const SILENCE_MS: i64 = 30 * DAY_MS;
/// Both sides are told this long before.
pub const NOTICE_MS: i64 = 7 * DAY_MS;
pub const EXPIRE_CHATS: &str = "verifier.expire_chats";
const EXPIRE_EVERY_MS: i64 = 3600 * 1000;
const MAX_MESSAGE: usize = 4000;

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new()
        .routes(routes!(company_chats))
        .routes(routes!(company_messages, company_post))
        .routes(routes!(company_events))
        .routes(routes!(holder_messages, holder_post))
        .routes(routes!(holder_events))
}

/// Opens the chat of an accepted offer, in the caller's transaction.
pub async fn open(
    conn: &mut sqlx::AnyConnection,
    recipient: &str,
    company: &str,
    profile: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = format!("cht_{}", random_token(16));
    sqlx::query(
        "INSERT INTO chats (id, recipient_id, company_id, profile_id, created_at, last_message_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(recipient)
    .bind(company)
    .bind(profile)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub chat_id: String,
    /// `company`, `candidate`, or `system` (the deletion notice).
    pub sender: String,
    pub body: String,
    pub at: i64,
    /// Its position in the chat's live stream (the events' id, to give back as
    /// `Last-Event-ID`, or as `after` to the events); absent for messages older than positions.
    pub position: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Chat {
    pub id: String,
    pub recipient_id: String,
    pub candidate: String,
    pub offer_title: String,
    pub created_at: i64,
    pub last_message_at: i64,
    /// When it will be deleted if nobody writes.
    pub deleted_after: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Since {
    /// Only messages after this time (Unix ms).
    after: Option<i64>,
    limit: Option<u32>,
}

/// The company's chats, most recent first.
#[utoipa::path(get, path = "/api/v1/companies/{id}/chats", tag = "chats",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Chat>), (status = 403, body = Problem)))]
async fn company_chats(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
) -> ApiResult<Json<Vec<Chat>>> {
    let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.recipient_id, p.name, o.title, c.created_at, c.last_message_at FROM chats c \
         JOIN profiles p ON p.id = c.profile_id JOIN offer_recipients r ON r.id = c.recipient_id JOIN offers o ON o.id = r.offer_id \
         WHERE c.company_id = $1 ORDER BY c.last_message_at DESC, c.id LIMIT 1000",
    )
    .bind(&access.tenant.id)
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(
                |(id, recipient_id, candidate, offer_title, created_at, last_message_at)| Chat {
                    id,
                    recipient_id,
                    candidate,
                    offer_title,
                    created_at,
                    last_message_at,
                    deleted_after: last_message_at + SILENCE_MS,
                },
            )
            .collect(),
    ))
}

/// Which side may read or write a chat.
enum Side<'a> {
    Company(&'a str),
    Candidate(&'a str),
}

async fn check_side(ctx: &Ctx, chat: &str, side: &Side<'_>) -> ApiResult<()> {
    let (column, value) = match side {
        Side::Company(id) => ("company_id", *id),
        Side::Candidate(id) => ("profile_id", *id),
    };
    let found: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT id FROM chats WHERE id = $1 AND {column} = $2"
    ))
    .bind(chat)
    .bind(value)
    .fetch_optional(ctx.db.pool())
    .await?;
    found.map(|_| ()).ok_or(ApiError::NotFound)
}

async fn messages(ctx: &Ctx, chat: &str, since: &Since) -> ApiResult<Vec<Message>> {
    let limit = i64::from(since.limit.unwrap_or(100));
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "1 to 500"));
    }
    let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, sender, body, at, seq FROM chat_messages WHERE chat_id = $1 AND at > $2 ORDER BY at, id LIMIT $3",
    )
    .bind(chat)
    .bind(since.after.unwrap_or(-1))
    .bind(limit)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, sender, body, at, position)| Message {
            id,
            chat_id: chat.to_owned(),
            sender,
            body,
            at,
            position,
        })
        .collect())
}

async fn post(
    state: &VerifierState,
    chat: &str,
    sender: &str,
    author: Option<&str>,
    body: &str,
) -> ApiResult<Message> {
    let body = carnet_service::extract::text("body", body, MAX_MESSAGE)?;
    let ctx = &state.ctx;
    let mut message = Message {
        id: format!("msg_{}", random_token(16)),
        chat_id: chat.to_owned(),
        sender: sender.to_owned(),
        body,
        at: ctx.now_ms(),
        position: None,
    };
    let mut tx = ctx.db.begin().await?;
    insert(&mut tx, &mut message, author).await?;
    sqlx::query("UPDATE chats SET last_message_at = $1, warned_at = NULL WHERE id = $2")
        .bind(message.at)
        .bind(chat)
        .execute(&mut *tx)
        .await?;
    // A message is a contact: the retention period of what the candidate disclosed restarts.
    sqlx::query(
        "UPDATE disclosures SET last_contact_at = $1 WHERE recipient_id = (SELECT recipient_id FROM chats WHERE id = $2)",
    )
    .bind(message.at)
    .bind(chat)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE profiles SET last_contact_at = $1 WHERE id = (SELECT profile_id FROM chats WHERE id = $2)")
        .bind(message.at)
        .bind(chat)
        .execute(&mut *tx)
        .await?;
    crate::notices::after_message(&mut tx, message.at, chat, sender).await?;
    ctx.bus.commit(tx, &[topic(chat)]).await?;
    Ok(message)
}

/// Stores a message at the next position of its chat's live stream (`bus::sequence`).
async fn insert(
    conn: &mut sqlx::AnyConnection,
    m: &mut Message,
    author: Option<&str>,
) -> Result<(), sqlx::Error> {
    let position = bus::sequence(&mut *conn, &topic(&m.chat_id)).await?;
    m.position = Some(position);
    sqlx::query("INSERT INTO chat_messages (id, chat_id, sender, author_id, body, at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&m.id)
        .bind(&m.chat_id)
        .bind(&m.sender)
        .bind(author)
        .bind(&m.body)
        .bind(m.at)
        .bind(position)
        .execute(conn)
        .await?;
    Ok(())
}

fn topic(chat: &str) -> String {
    format!("chat:{chat}")
}

/// New messages of one chat as server-sent events (`message`, JSON, with the message's
/// position as the event id), after the client's `Last-Event-ID`, else after the position its
/// page showed (`?after=`), else from now, until the client leaves.
async fn events(
    ctx: &Ctx,
    chat: String,
    headers: &HeaderMap,
    resume: &bus::Resume,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>> {
    let start = bus::start(&ctx.db, &topic(&chat), headers, resume).await?;
    let reader = ctx.clone();
    Ok(bus::live(&ctx.bus, &topic(&chat), start, move |after| {
        let (ctx, chat) = (reader.clone(), chat.clone());
        async move {
            let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                "SELECT id, sender, body, at, seq FROM chat_messages WHERE chat_id = $1 AND seq > $2 \
                 ORDER BY seq LIMIT 100",
            )
            .bind(&chat)
            .bind(after)
            .fetch_all(ctx.db.pool())
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, sender, body, at, position)| {
                    let m = Message {
                        chat_id: chat.clone(),
                        id,
                        sender,
                        body,
                        at,
                        position: Some(position),
                    };
                    bus::Item {
                        position,
                        event: "message",
                        data: serde_json::to_string(&m).unwrap_or_default(),
                    }
                })
                .collect())
        }
    }))
}

/// A chat's messages, oldest first, for the company's recruiters.
#[utoipa::path(get, path = "/api/v1/companies/{id}/chats/{chat}/messages", tag = "chats",
    params(("id" = String, Path), ("chat" = String, Path), Since), responses((status = 200, body = Vec<Message>), (status = 404, body = Problem)))]
async fn company_messages(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String)>,
    Query(since): Query<Since>,
) -> ApiResult<Json<Vec<Message>>> {
    let chat = path.1;
    check_side(&state.ctx, &chat, &Side::Company(&access.tenant.id)).await?;
    Ok(Json(messages(&state.ctx, &chat, &since).await?))
}

/// Writes to a chat as the company.
#[utoipa::path(post, path = "/api/v1/companies/{id}/chats/{chat}/messages", tag = "chats", request_body = NewMessage,
    params(("id" = String, Path), ("chat" = String, Path)), responses((status = 201, body = Message), (status = 404, body = Problem)))]
async fn company_post(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String)>,
    Json(input): Json<NewMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let chat = path.1;
    check_side(&state.ctx, &chat, &Side::Company(&access.tenant.id)).await?;
    let m = post(
        &state,
        &chat,
        "company",
        Some(access.principal.account_id.as_str()),
        &input.body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// New messages as they come (server-sent events), for the company's recruiters.
#[utoipa::path(get, path = "/api/v1/companies/{id}/chats/{chat}/events", tag = "chats",
    params(("id" = String, Path), ("chat" = String, Path), bus::Resume), responses((status = 200, description = "text/event-stream"), (status = 404, body = Problem)))]
async fn company_events(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String)>,
    Query(resume): Query<bus::Resume>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let chat = path.1;
    check_side(&state.ctx, &chat, &Side::Company(&access.tenant.id)).await?;
    events(&state.ctx, chat, &headers, &resume).await
}

/// A chat's messages, for the candidate (holder proof).
#[utoipa::path(get, path = "/api/v1/directory/chats/{chat}/messages", tag = "chats",
    params(("chat" = String, Path), Since, ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 200, body = Vec<Message>), (status = 404, body = Problem)))]
async fn holder_messages(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(chat): Path<String>,
    Query(since): Query<Since>,
) -> ApiResult<Json<Vec<Message>>> {
    check_side(&state.ctx, &chat, &Side::Candidate(&holder.profile_id)).await?;
    Ok(Json(messages(&state.ctx, &chat, &since).await?))
}

/// Writes to a chat as the candidate (holder proof).
#[utoipa::path(post, path = "/api/v1/directory/chats/{chat}/messages", tag = "chats", request_body = NewMessage,
    params(("chat" = String, Path), ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 201, body = Message), (status = 404, body = Problem)))]
async fn holder_post(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(chat): Path<String>,
    Json(input): Json<NewMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    check_side(&state.ctx, &chat, &Side::Candidate(&holder.profile_id)).await?;
    let m = post(&state, &chat, "candidate", None, &input.body).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// New messages as they come (server-sent events), for the candidate (holder proof).
#[utoipa::path(get, path = "/api/v1/directory/chats/{chat}/events", tag = "chats",
    params(("chat" = String, Path), bus::Resume, ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 200, description = "text/event-stream"), (status = 404, body = Problem)))]
async fn holder_events(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(chat): Path<String>,
    Query(resume): Query<bus::Resume>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    check_side(&state.ctx, &chat, &Side::Candidate(&holder.profile_id)).await?;
    events(&state.ctx, chat, &headers, &resume).await
}

/// One pass: notices to chats silent for 23 days, deletion of those silent for 30. Returns
/// (noticed, deleted).
pub async fn expire(ctx: &Ctx) -> ApiResult<(usize, usize)> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let due: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT id, last_message_at, recipient_id FROM chats WHERE warned_at IS NULL AND last_message_at <= $1 AND last_message_at > $2 LIMIT 10000",
    )
    .bind(now - (SILENCE_MS - NOTICE_MS))
    .bind(now - SILENCE_MS)
    .fetch_all(&mut *tx)
    .await?;
    for (chat, last, recipient) in &due {
        let mut message = Message {
            id: format!("msg_{}", random_token(16)),
            chat_id: chat.clone(),
            sender: "system".into(),
            body: format!("deletion-notice:{}", last + SILENCE_MS),
            at: now,
            position: None,
        };
        insert(&mut tx, &mut message, None).await?;
        sqlx::query("UPDATE chats SET warned_at = $1 WHERE id = $2")
            .bind(now)
            .bind(chat)
            .execute(&mut *tx)
            .await?;
        // Both sides, by mail too: the day it goes unless someone writes.
        let day = carnet_service::web::day(last + SILENCE_MS);
        notices::to_company(
            &mut tx,
            ctx,
            recipient,
            notices::CompanyNews::DeletionNotice(day.clone()),
        )
        .await?;
        notices::to_candidate_about(
            &mut tx,
            now,
            recipient,
            serde_json::json!({ "kind": "deletion_notice", "date": day }),
        )
        .await?;
    }
    let going: Vec<(String,)> =
        sqlx::query_as("SELECT recipient_id FROM chats WHERE last_message_at <= $1")
            .bind(now - SILENCE_MS)
            .fetch_all(&mut *tx)
            .await?;
    for (recipient,) in &going {
        notices::to_company(&mut tx, ctx, recipient, notices::CompanyNews::Deleted).await?;
        notices::to_candidate_about(
            &mut tx,
            now,
            recipient,
            serde_json::json!({ "kind": "deleted" }),
        )
        .await?;
    }
    let deleted = sqlx::query("DELETE FROM chats WHERE last_message_at <= $1")
        .bind(now - SILENCE_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    if deleted > 0 {
        carnet_service::audit::record(
            &mut tx,
            now,
            &carnet_service::audit::Actor::system(),
            "chats.expired",
            None,
            None,
            serde_json::json!({ "deleted": deleted }),
        )
        .await?;
    }
    let noticed: Vec<String> = due.iter().map(|(chat, ..)| topic(chat)).collect();
    ctx.bus.commit(tx, &noticed).await?;
    Ok((due.len(), deleted))
}

pub async fn expire_job(ctx: Ctx, _: Value) -> Result<Outcome, String> {
    expire(&ctx).await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(ctx.now_ms() + EXPIRE_EVERY_MS))
}
