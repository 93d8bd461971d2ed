//! A session's rooms: the information room, where only staff post and every member reads, and
//! private chats between two participants (one of them a trainee). Trainers, managers and the
//! organisation's administrators moderate: they read every room of their session, remove a
//! message (it stays, marked removed; audited) and mute a member for a while. Every member is
//! told that private chats are moderated. New messages stream as server-sent events that
//! resume after a reconnection; history is paginated.

use crate::IssuerState;
use crate::sessions::{SessionAccess, SessionParticipant, SessionStaff};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use carnet_service::Ctx;
use carnet_service::bus;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query, optional_text, text};
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::id::random_token;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::convert::Infallible;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const MAX_MESSAGE: usize = 4000;
/// The longest mute: thirty days.
const MAX_MUTE_MINUTES: i64 = 30 * 24 * 60;
const INFORMATION: &str = "information";

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(list_rooms, open_private))
        .routes(routes!(history, post_message))
        .routes(routes!(remove_message))
        .routes(routes!(room_events))
        .routes(routes!(mute, unmute))
}

const CATALOG: Catalog = &[
    (
        "moderated",
        "Les conversations privées de la session sont modérées : formateurs, responsables et administrateurs du centre peuvent les lire, retirer un message et suspendre un participant.",
        "Private chats in this session are moderated: trainers, managers and the centre's administrators can read them, remove a message and mute a participant.",
    ),
    (
        "information",
        "Salle d'information : seule l'équipe pédagogique y publie.",
        "Information room: only the teaching staff post here.",
    ),
];

#[derive(Debug, Serialize, ToSchema)]
pub struct Room {
    pub id: String,
    /// `information` or `private`.
    pub kind: String,
    /// The two participants of a private chat.
    pub members: Vec<Participant>,
    /// Whether the caller may post here now.
    pub can_post: bool,
    /// What every member is told about this room (its moderation), in the language asked.
    pub notice: String,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Participant {
    pub account_id: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub room_id: String,
    pub author_id: String,
    pub author_name: String,
    /// Absent once removed.
    pub body: Option<String>,
    pub at: i64,
    pub removed: bool,
    /// Where this message is in the room's history: give it as `before` for older pages.
    pub cursor: String,
    /// Its position in the room's live stream (the events' id, to give back as
    /// `Last-Event-ID`); absent for messages older than positions.
    pub position: Option<i64>,
}

/// The session's information room, made the first time it is needed.
async fn information_room(ctx: &Ctx, session: &str) -> ApiResult<String> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM rooms WHERE session_id = $1 AND pair = $2")
            .bind(session)
            .bind(INFORMATION)
            .fetch_optional(ctx.db.pool())
            .await?;
    if let Some((id,)) = found {
        return Ok(id);
    }
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO rooms (id, session_id, kind, pair, created_at) VALUES ($1, $2, 'information', $3, $4) \
         ON CONFLICT (session_id, pair) DO NOTHING",
    )
    .bind(format!("rom_{}", random_token(16)))
    .bind(session)
    .bind(INFORMATION)
    .bind(ctx.now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let (id,): (String,) =
        sqlx::query_as("SELECT id FROM rooms WHERE session_id = $1 AND pair = $2")
            .bind(session)
            .bind(INFORMATION)
            .fetch_one(ctx.db.pool())
            .await?;
    Ok(id)
}

/// Until when the caller is muted in the session, if they are.
async fn muted_until(ctx: &Ctx, session: &str, account: &str) -> ApiResult<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT until FROM room_mutes WHERE session_id = $1 AND account_id = $2 AND until > $3",
    )
    .bind(session)
    .bind(account)
    .bind(ctx.now_ms())
    .fetch_optional(ctx.db.pool())
    .await?;
    Ok(row.map(|(u,)| u))
}

async fn members(ctx: &Ctx, room: &str) -> ApiResult<Vec<Participant>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.id, a.display_name FROM room_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.room_id = $1 ORDER BY a.display_name",
    )
    .bind(room)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(account_id, display_name)| Participant {
            account_id,
            display_name,
        })
        .collect())
}

/// A room of the session the caller may read: (kind, whether they may post there).
async fn room_of(ctx: &Ctx, access: &SessionAccess, room: &str) -> ApiResult<(String, bool)> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT kind FROM rooms WHERE id = $1 AND session_id = $2")
            .bind(room)
            .bind(&access.session.id)
            .fetch_optional(ctx.db.pool())
            .await?;
    let (kind,) = found.ok_or(ApiError::NotFound)?;
    let me = access.org.principal.account_id.as_str();
    let member = members(ctx, room).await?.iter().any(|m| m.account_id == me);
    let (read, post) = match kind.as_str() {
        INFORMATION => (true, access.is_staff()),
        _ => (member || access.is_staff(), member),
    };
    if !read {
        return Err(ApiError::NotFound);
    }
    Ok((kind, post))
}

async fn view(ctx: &Ctx, access: &SessionAccess, lang: Lang, id: String) -> ApiResult<Room> {
    let (kind, post) = room_of(ctx, access, &id).await?;
    let muted = muted_until(
        ctx,
        &access.session.id,
        access.org.principal.account_id.as_str(),
    )
    .await?
    .is_some();
    Ok(Room {
        members: members(ctx, &id).await?,
        can_post: post && !muted,
        notice: lang
            .t(
                CATALOG,
                if kind == INFORMATION {
                    INFORMATION
                } else {
                    "moderated"
                },
            )
            .to_owned(),
        kind,
        id,
    })
}

/// The rooms the caller reads: the information room, their private chats (moderators: every
/// private chat of the session).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/rooms", tag = "rooms",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = Vec<Room>), (status = 403, body = Problem)))]
async fn list_rooms(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    lang: Lang,
) -> ApiResult<Json<Vec<Room>>> {
    let information = information_room(&ctx, &access.session.id).await?;
    let me = access.org.principal.account_id.as_str();
    let private: Vec<(String,)> = if access.is_staff() {
        sqlx::query_as("SELECT id FROM rooms WHERE session_id = $1 AND kind = 'private' ORDER BY created_at LIMIT 5000")
            .bind(&access.session.id)
            .fetch_all(ctx.db.pool())
            .await?
    } else {
        sqlx::query_as(
            "SELECT r.id FROM rooms r JOIN room_members m ON m.room_id = r.id \
             WHERE r.session_id = $1 AND r.kind = 'private' AND m.account_id = $2 ORDER BY r.created_at LIMIT 5000",
        )
        .bind(&access.session.id)
        .bind(me)
        .fetch_all(ctx.db.pool())
        .await?
    };
    let mut rooms = vec![view(&ctx, &access, lang, information).await?];
    for (id,) in private {
        rooms.push(view(&ctx, &access, lang, id).await?);
    }
    Ok(Json(rooms))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrivate {
    /// The other participant: a member of the session. One of the two must be a trainee.
    pub with: String,
}

/// Opens the private chat between the caller and another participant (or finds it).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/rooms", tag = "rooms", request_body = NewPrivate,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = Room), (status = 200, body = Room), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn open_private(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    lang: Lang,
    Json(input): Json<NewPrivate>,
) -> ApiResult<(StatusCode, Json<Room>)> {
    let me = access.org.principal.account_id.as_str().to_owned();
    let roles_of = |account: String| {
        let ctx = ctx.clone();
        let session = access.session.id.clone();
        async move {
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT role FROM session_members WHERE session_id = $1 AND account_id = $2",
            )
            .bind(&session)
            .bind(&account)
            .fetch_all(ctx.db.pool())
            .await?;
            Ok::<_, ApiError>(rows.into_iter().map(|(r,)| r).collect::<Vec<_>>())
        }
    };
    let theirs = roles_of(input.with.clone()).await?;
    if input.with == me || theirs.is_empty() {
        return Err(ApiError::invalid_field(
            "with",
            "another member of this session",
        ));
    }
    let mine = roles_of(me.clone()).await?;
    if mine.is_empty() {
        return Err(ApiError::Forbidden);
    }
    if !mine.iter().chain(&theirs).any(|r| r == "trainee") {
        return Err(ApiError::invalid_field(
            "with",
            "a private chat has a trainee in it",
        ));
    }
    let mut pair = [me.clone(), input.with.clone()];
    pair.sort();
    let pair = pair.join("|");
    let existing: Option<(String,)> =
        sqlx::query_as("SELECT id FROM rooms WHERE session_id = $1 AND pair = $2")
            .bind(&access.session.id)
            .bind(&pair)
            .fetch_optional(ctx.db.pool())
            .await?;
    if let Some((id,)) = existing {
        return Ok((StatusCode::OK, Json(view(&ctx, &access, lang, id).await?)));
    }
    let id = format!("rom_{}", random_token(16));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("INSERT INTO rooms (id, session_id, kind, pair, created_at) VALUES ($1, $2, 'private', $3, $4)")
        .bind(&id)
        .bind(&access.session.id)
        .bind(&pair)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    for account in [&me, &input.with] {
        sqlx::query("INSERT INTO room_members (room_id, account_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(account)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&ctx, &access, lang, id).await?),
    ))
}

type MessageRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);

const MESSAGE_COLUMNS: &str =
    "m.id, m.room_id, m.author_id, a.display_name, m.body, m.at, m.removed_at, m.seq";

fn message(row: MessageRow) -> Message {
    let (id, room_id, author_id, author_name, body, at, removed_at, position) = row;
    Message {
        cursor: bus::cursor(at, &id),
        position,
        removed: removed_at.is_some(),
        body: body.filter(|_| removed_at.is_none()),
        id,
        room_id,
        author_id,
        author_name,
        at,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// A message's `cursor`: the messages before it.
    pub before: Option<String>,
    /// 1 to 200; 50 by default.
    pub limit: Option<u32>,
}

/// A page of a room's history, newest first.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/rooms/{room}/messages", tag = "rooms",
    params(("id" = String, Path), ("sid" = String, Path), ("room" = String, Path), Page),
    responses((status = 200, body = Vec<Message>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn history(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    Path(path): Path<(String, String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<Message>>> {
    let room = path.2;
    room_of(&ctx, &access, &room).await?;
    let limit = i64::from(page.limit.unwrap_or(50));
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "1 to 200"));
    }
    let (at, id) = match page.before.as_deref() {
        None => (i64::MAX, String::new()),
        Some(c) => bus::parse_cursor(c)
            .ok_or_else(|| ApiError::invalid_field("before", "a message's cursor"))?,
    };
    let rows: Vec<MessageRow> = sqlx::query_as(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM room_messages m JOIN accounts a ON a.id = m.author_id \
         WHERE m.room_id = $1 AND (m.at < $2 OR (m.at = $2 AND m.id < $3)) ORDER BY m.at DESC, m.id DESC LIMIT $4"
    ))
    .bind(&room)
    .bind(at)
    .bind(&id)
    .bind(limit)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(rows.into_iter().map(message).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
}

/// Items read at once by a live stream.
const LIVE_PAGE: i64 = 100;

fn topic(room: &str) -> String {
    format!("room:{room}")
}

/// Posts to a room: staff in the information room, the two participants in a private chat;
/// not while muted.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/rooms/{room}/messages", tag = "rooms", request_body = NewMessage,
    params(("id" = String, Path), ("sid" = String, Path), ("room" = String, Path)),
    responses((status = 201, body = Message), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn post_message(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    Path(path): Path<(String, String, String)>,
    Json(input): Json<NewMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let room = path.2;
    let (_, may_post) = room_of(&ctx, &access, &room).await?;
    if !may_post {
        return Err(ApiError::Forbidden);
    }
    let me = access.org.principal.account_id.as_str();
    if let Some(until) = muted_until(&ctx, &access.session.id, me).await? {
        return Err(ApiError::Conflict(format!(
            "muted in this session until {}",
            carnet_service::clock::date_of(until)
        )));
    }
    let body = text("body", &input.body, MAX_MESSAGE)?;
    let id = format!("rmg_{}", random_token(16));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let position = bus::sequence(&mut tx, &topic(&room)).await?;
    sqlx::query(
        "INSERT INTO room_messages (id, room_id, author_id, body, at, seq) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&room)
    .bind(me)
    .bind(&body)
    .bind(now)
    .bind(position)
    .execute(&mut *tx)
    .await?;
    ctx.bus.commit(tx, &[topic(&room)]).await?;
    Ok((
        StatusCode::CREATED,
        Json(Message {
            cursor: bus::cursor(now, &id),
            position: Some(position),
            id,
            room_id: room,
            author_id: me.to_owned(),
            author_name: access.org.principal.display_name.clone(),
            body: Some(body),
            at: now,
            removed: false,
        }),
    ))
}

/// Removes a message (it stays in place, marked removed); moderators. Audited, with the text.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/sessions/{sid}/rooms/{room}/messages/{message}", tag = "rooms",
    params(("id" = String, Path), ("sid" = String, Path), ("room" = String, Path), ("message" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_message(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let (room, id) = (path.2, path.3);
    room_of(&ctx, &access, &room).await?;
    let found: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT author_id, body, removed_at FROM room_messages WHERE id = $1 AND room_id = $2",
    )
    .bind(&id)
    .bind(&room)
    .fetch_optional(ctx.db.pool())
    .await?;
    let (author, body, removed) = found.ok_or(ApiError::NotFound)?;
    if removed.is_some() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let position = bus::sequence(&mut tx, &topic(&room)).await?;
    sqlx::query(
        "UPDATE room_messages SET body = NULL, removed_at = $1, removed_by = $2, removed_seq = $3 WHERE id = $4",
    )
    .bind(now)
    .bind(access.org.principal.account_id.as_str())
    .bind(position)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "room.message_removed",
            Some(&id),
            json!({ "room": room, "author": author, "body": body }),
        )
        .await?;
    ctx.bus.commit(tx, &[topic(&room)]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New messages (`message`, JSON) and removals (`removed`, the message id) as server-sent
/// events; after a reconnection, from the `Last-Event-ID` sent; for a page, `?after=` the
/// position of the last message it shows.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/rooms/{room}/events", tag = "rooms",
    params(("id" = String, Path), ("sid" = String, Path), ("room" = String, Path), bus::Resume),
    responses((status = 200, description = "text/event-stream"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn room_events(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    Path(path): Path<(String, String, String)>,
    Query(resume): Query<bus::Resume>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let room = path.2;
    room_of(&ctx, &access, &room).await?;
    let topic = topic(&room);
    let start = bus::start(&ctx.db, &topic, &headers, &resume).await?;
    let reader = ctx.clone();
    Ok(bus::live(&ctx.bus, &topic, start, move |after| {
        let (ctx, room) = (reader.clone(), room.clone());
        async move {
            // New messages, and removals, after `after`, each at its position.
            let rows: Vec<MessageRow> = sqlx::query_as(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM room_messages m JOIN accounts a ON a.id = m.author_id \
                 WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT {LIVE_PAGE}"
            ))
            .bind(&room)
            .bind(after)
            .fetch_all(ctx.db.pool())
            .await?;
            let removed: Vec<(String, i64)> = sqlx::query_as(&format!(
                "SELECT id, removed_seq FROM room_messages WHERE room_id = $1 AND removed_seq > $2 \
                 ORDER BY removed_seq LIMIT {LIVE_PAGE}"
            ))
            .bind(&room)
            .bind(after)
            .fetch_all(ctx.db.pool())
            .await?;
            // A full page of either stops the other at its last position (the rest comes at
            // the next read).
            let full =
                |n: usize, last: Option<i64>| (n as i64 == LIVE_PAGE).then_some(last).flatten();
            let upto = [
                full(rows.len(), rows.last().and_then(|r| r.7)),
                full(removed.len(), removed.last().map(|r| r.1)),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(i64::MAX);
            let mut items: Vec<bus::Item> = removed
                .into_iter()
                .map(|(id, position)| bus::Item {
                    position,
                    event: "removed",
                    data: json!({ "id": id }).to_string(),
                })
                .collect();
            items.extend(rows.into_iter().map(|row| {
                let m = message(row);
                bus::Item {
                    position: m.position.unwrap_or_default(),
                    event: "message",
                    data: serde_json::to_string(&m).unwrap_or_default(),
                }
            }));
            items.retain(|i| i.position <= upto);
            items.sort_by_key(|i| i.position);
            Ok(items)
        }
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    pub account_id: String,
    /// 1 minute to 30 days.
    pub minutes: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Muted {
    pub account_id: String,
    pub until: i64,
}

/// Mutes a member in every room of the session for a while; moderators. Audited.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/mutes", tag = "rooms", request_body = Mute,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = Muted), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn mute(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Json(input): Json<Mute>,
) -> ApiResult<Json<Muted>> {
    if !(1..=MAX_MUTE_MINUTES).contains(&input.minutes) {
        return Err(ApiError::invalid_field("minutes", "1 minute to 30 days"));
    }
    let reason = optional_text("reason", input.reason.as_deref(), 500)?;
    let member: Option<(String,)> = sqlx::query_as(
        "SELECT role FROM session_members WHERE session_id = $1 AND account_id = $2 LIMIT 1",
    )
    .bind(&access.session.id)
    .bind(&input.account_id)
    .fetch_optional(ctx.db.pool())
    .await?;
    if member.is_none() || input.account_id == access.org.principal.account_id.as_str() {
        return Err(ApiError::invalid_field(
            "account_id",
            "another member of this session",
        ));
    }
    let now = ctx.now_ms();
    let until = now + input.minutes * 60_000;
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO room_mutes (session_id, account_id, until, muted_by, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (session_id, account_id) DO UPDATE SET until = excluded.until, muted_by = excluded.muted_by, \
         reason = excluded.reason, created_at = excluded.created_at",
    )
    .bind(&access.session.id)
    .bind(&input.account_id)
    .bind(until)
    .bind(access.org.principal.account_id.as_str())
    .bind(&reason)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "room.member_muted",
            Some(&input.account_id),
            json!({ "until": until, "reason": reason }),
        )
        .await?;
    tx.commit().await?;
    Ok(Json(Muted {
        account_id: input.account_id,
        until,
    }))
}

/// Lifts a member's mute; moderators. Audited.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/sessions/{sid}/mutes/{account}", tag = "rooms",
    params(("id" = String, Path), ("sid" = String, Path), ("account" = String, Path)),
    responses((status = 204), (status = 403, body = Problem)))]
async fn unmute(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query("DELETE FROM room_mutes WHERE session_id = $1 AND account_id = $2")
        .bind(&access.session.id)
        .bind(&path.2)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() > 0 {
        access
            .audit(
                &mut tx,
                now,
                "room.member_unmuted",
                Some(&path.2),
                json!({}),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }
}
