//! A session's calendar: courses, exams and other events in the session's wall-clock time,
//! which its managers (and the organisation's administrators) create, change and cancel, and
//! every member reads — also as an iCalendar feed behind a secret link, one per session or one
//! per person for every session they are in.

use crate::IssuerState;
use crate::sessions::{SessionManager, SessionParticipant, TrainingSession};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::calendar::{self, LocalTime, Zone};
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::auth::Principal;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query, optional_text, text};
use carnet_service::id::{hash_secret, random_token};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const KINDS: [&str; 3] = ["course", "exam", "other"];

/// The mail of a calendar change, to each member of the session.
const MAIL: carnet_service::i18n::Catalog = &[
    ("hello", "Bonjour {name},", "Hello {name},"),
    (
        "new.subject",
        "Convocation : {title} — {when}",
        "Invitation: {title} — {when}",
    ),
    (
        "new.body",
        "{centre} vous convoque : « {title} », {when}{place}, pour la session « {session} ».",
        "{centre} invites you: « {title} », {when}{place}, for the session « {session} ».",
    ),
    (
        "changed.subject",
        "Modifié : {title} — {when}",
        "Changed: {title} — {when}",
    ),
    (
        "changed.body",
        "« {title} » (session « {session} ») a changé : c'est désormais {when}{place}.",
        "« {title} » (session « {session} ») changed: it is now {when}{place}.",
    ),
    (
        "cancelled.subject",
        "Annulé : {title} — {when}",
        "Cancelled: {title} — {when}",
    ),
    (
        "cancelled.body",
        "« {title} », prévu {when}{place} pour la session « {session} », est annulé.",
        "« {title} », planned {when}{place} for the session « {session} », is cancelled.",
    ),
    (
        "attached",
        "L'invitation jointe met votre agenda à jour. La session :",
        "The attached invitation updates your calendar. The session:",
    ),
    ("at", ", à {place}", ", at {place}"),
    (
        "from_to",
        "le {day} de {start} à {end}",
        "on {day} from {start} to {end}",
    ),
];

/// What happened to an event, for its mail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    New,
    Changed,
    Cancelled,
}

/// Mails every member of the session but the one who made the change (confirmed addresses,
/// each in their language) what happened to `e`, with the iCalendar message that puts it in,
/// moves it in or takes it out of their calendar (the feeds' `UID` and `SEQUENCE`), in `conn`.
async fn tell_members(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    access: &crate::sessions::SessionAccess,
    e: &Event,
    change: Change,
) -> ApiResult<()> {
    let members: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT a.id, a.email, a.display_name FROM session_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.session_id = $1 AND a.id <> $2 AND a.email_verified_at IS NOT NULL",
    )
    .bind(&access.session.id)
    .bind(access.org.principal.account_id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let (Some(start), Some(end)) = (LocalTime::parse(&e.starts_at), LocalTime::parse(&e.ends_at))
    else {
        return Ok(());
    };
    let zone = Zone::parse(&access.session.timezone).unwrap_or(Zone::Paris);
    let uid = format!("{}@{}", e.id, host(&ctx.config.public_url));
    let centre = access.org.tenant.name.as_str();
    let organizer = carnet_service::mail::sender_address(ctx);
    let today = carnet_service::web::day(ctx.now_ms());
    let link = format!(
        "{}/orgs/{}/sessions/{}",
        ctx.config.public_url, access.org.tenant.id, access.session.id
    );
    let key = match change {
        Change::New => "new",
        Change::Changed => "changed",
        Change::Cancelled => "cancelled",
    };
    for (account, email, name) in members {
        let lang = carnet_service::addresses::language_of(conn, &account).await?;
        let t = |k: &str| lang.t(MAIL, k);
        let when = carnet_service::mail::fill(
            t("from_to"),
            &[
                (
                    "day",
                    &carnet_service::web::spoken_date(
                        lang,
                        e.starts_at.get(..10).unwrap_or_default(),
                        &today,
                    ),
                ),
                ("start", e.starts_at.get(11..16).unwrap_or_default()),
                ("end", e.ends_at.get(11..16).unwrap_or_default()),
            ],
        );
        let place = e
            .place
            .as_deref()
            .map(|p| carnet_service::mail::fill(t("at"), &[("place", p)]))
            .unwrap_or_default();
        let values = [
            ("title", e.title.as_str()),
            ("when", when.as_str()),
            ("place", place.as_str()),
            ("centre", centre),
            ("session", access.session.title.as_str()),
        ];
        let ics = calendar::message(
            if change == Change::Cancelled {
                calendar::Method::Cancel
            } else {
                calendar::Method::Request
            },
            (centre, &organizer),
            &email,
            &calendar::Event {
                uid: &uid,
                zone,
                sequence: e.sequence,
                stamp: e.updated_at / 1000,
                start,
                end,
                summary: &e.title,
                location: e.place.as_deref(),
                description: Some(&access.session.title),
                cancelled: change == Change::Cancelled,
            },
        );
        carnet_service::mail::queue(
            conn,
            ctx,
            &carnet_service::mail::Outgoing {
                kind: match change {
                    Change::New => "convocation",
                    Change::Changed => "calendar_changed",
                    Change::Cancelled => "calendar_cancelled",
                },
                to: email,
                to_name: name.clone(),
                subject: carnet_service::mail::fill(t(&format!("{key}.subject")), &values),
                paragraphs: vec![
                    carnet_service::mail::fill(t("hello"), &[("name", &name)]),
                    carnet_service::mail::fill(t(&format!("{key}.body")), &values),
                    t("attached").to_owned(),
                    link.clone(),
                ],
                attachment: Some(carnet_service::mail::Attachment {
                    filename: "invitation.ics".into(),
                    content_type: format!(
                        "text/calendar; method={}; charset=UTF-8",
                        if change == Change::Cancelled {
                            "CANCEL"
                        } else {
                            "REQUEST"
                        }
                    ),
                    body: ics,
                }),
            },
        )
        .await?;
    }
    Ok(())
}
/// The longest event: two weeks.
const MAX_MINUTES: i64 = 14 * 24 * 60;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(create_event, list_events))
        .routes(routes!(change_event, cancel_event))
        .routes(routes!(session_feed))
        .routes(routes!(personal_feed))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// `course`, `exam` or `other`.
    pub kind: String,
    pub title: String,
    /// Wall-clock time in the session's time zone, `YYYY-MM-DDTHH:MM`.
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub place: Option<String>,
    /// A course of the organisation.
    #[serde(default)]
    pub course_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EventChange {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// An empty string clears it.
    pub place: Option<String>,
    /// An empty string clears it.
    pub course_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, Clone)]
pub struct Event {
    pub id: String,
    pub session_id: String,
    pub kind: String,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub place: Option<String>,
    pub course_id: Option<String>,
    pub cancelled: bool,
    /// Increases with each change (the iCalendar `SEQUENCE`).
    pub sequence: i64,
    pub updated_at: i64,
}

type EventRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
);

const EVENT_COLUMNS: &str = "id, session_id, kind, title, starts_at, ends_at, place, course_id, cancelled, sequence, updated_at";

fn event(row: EventRow) -> Event {
    let (
        id,
        session_id,
        kind,
        title,
        starts_at,
        ends_at,
        place,
        course_id,
        cancelled,
        sequence,
        updated_at,
    ) = row;
    Event {
        id,
        session_id,
        kind,
        title,
        starts_at,
        ends_at,
        place,
        course_id,
        cancelled: cancelled != 0,
        sequence,
        updated_at,
    }
}

/// A checked event: kind, title, times in order and at most two weeks apart, place, course.
async fn checked(ctx: &Ctx, org: &str, e: NewEvent) -> ApiResult<NewEvent> {
    if !KINDS.contains(&e.kind.as_str()) {
        return Err(ApiError::invalid_field("kind", "course, exam or other"));
    }
    let time = |field: &str, value: &str| {
        LocalTime::parse(value)
            .ok_or_else(|| ApiError::invalid_field(field, "a date and time, YYYY-MM-DDTHH:MM"))
    };
    let (starts, ends) = (
        time("starts_at", &e.starts_at)?,
        time("ends_at", &e.ends_at)?,
    );
    let minutes = starts.minutes_until(&ends);
    if minutes <= 0 {
        return Err(ApiError::invalid_field("ends_at", "after the start"));
    }
    if minutes > MAX_MINUTES {
        return Err(ApiError::invalid_field(
            "ends_at",
            "at most two weeks after the start",
        ));
    }
    let course_id = e.course_id.filter(|c| !c.is_empty());
    if let Some(course) = &course_id {
        let known: Option<(String,)> =
            sqlx::query_as("SELECT id FROM courses WHERE id = $1 AND organisation_id = $2")
                .bind(course)
                .bind(org)
                .fetch_optional(ctx.db.pool())
                .await?;
        if known.is_none() {
            return Err(ApiError::invalid_field(
                "course_id",
                "no such course in this organisation",
            ));
        }
    }
    Ok(NewEvent {
        title: text("title", &e.title, 200)?,
        place: optional_text("place", e.place.as_deref(), 200)?,
        starts_at: starts.to_string(),
        ends_at: ends.to_string(),
        kind: e.kind,
        course_id,
    })
}

/// Adds an event to the session's calendar; its managers and the organisation's
/// administrators.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/events", tag = "calendar", request_body = NewEvent,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = Event), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_event(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Json(input): Json<NewEvent>,
) -> ApiResult<(StatusCode, Json<Event>)> {
    let org = &access.org.tenant.id;
    let e = checked(&ctx, org, input).await?;
    let id = format!("evt_{}", random_token(16));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO calendar_events (id, session_id, kind, title, starts_at, ends_at, place, course_id, cancelled, sequence, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $9)",
    )
    .bind(&id)
    .bind(&access.session.id)
    .bind(&e.kind)
    .bind(&e.title)
    .bind(&e.starts_at)
    .bind(&e.ends_at)
    .bind(&e.place)
    .bind(&e.course_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "calendar.event_created",
            Some(&id),
            json!({ "kind": e.kind, "starts_at": e.starts_at }),
        )
        .await?;
    let created = Event {
        id,
        session_id: access.session.id.clone(),
        kind: e.kind,
        title: e.title,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        place: e.place,
        course_id: e.course_id,
        cancelled: false,
        sequence: 0,
        updated_at: now,
    };
    tell_members(&mut tx, &ctx, &access, &created, Change::New).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Events ending on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Events starting on or before this day.
    pub to: Option<String>,
}

/// The session's events in order, cancelled ones included (marked); every member.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/events", tag = "calendar",
    params(("id" = String, Path), ("sid" = String, Path), Range),
    responses((status = 200, body = Vec<Event>), (status = 403, body = Problem)))]
async fn list_events(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    Query(range): Query<Range>,
) -> ApiResult<Json<Vec<Event>>> {
    let from = range
        .from
        .as_deref()
        .map(|d| carnet_service::clock::check_date("from", d))
        .transpose()?
        .unwrap_or_default();
    // Compared as text: `YYYY-MM-DD` sorts before any time of that day; `~` after.
    let to = range
        .to
        .as_deref()
        .map(|d| carnet_service::clock::check_date("to", d))
        .transpose()?
        .map(|d| format!("{d}T~"))
        .unwrap_or_else(|| "~".into());
    Ok(Json(
        session_events(&ctx, &access.session.id, &from, &to).await?,
    ))
}

/// A session's events between two wall-clock bounds (compared as text).
pub async fn session_events(
    ctx: &Ctx,
    session: &str,
    from: &str,
    to: &str,
) -> ApiResult<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM calendar_events WHERE session_id = $1 AND ends_at >= $2 AND starts_at <= $3 \
         ORDER BY starts_at, id LIMIT 5000"
    ))
    .bind(session)
    .bind(from)
    .bind(to)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(rows.into_iter().map(event).collect())
}

async fn load(ctx: &Ctx, session: &str, id: &str) -> ApiResult<Event> {
    let row: Option<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM calendar_events WHERE id = $1 AND session_id = $2"
    ))
    .bind(id)
    .bind(session)
    .fetch_optional(ctx.db.pool())
    .await?;
    row.map(event).ok_or(ApiError::NotFound)
}

/// Changes an event; its managers and the organisation's administrators.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/sessions/{sid}/events/{event}", tag = "calendar", request_body = EventChange,
    params(("id" = String, Path), ("sid" = String, Path), ("event" = String, Path)),
    responses((status = 200, body = Event), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn change_event(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Path(path): Path<(String, String, String)>,
    Json(change): Json<EventChange>,
) -> ApiResult<Json<Event>> {
    let org = &access.org.tenant.id;
    let old = load(&ctx, &access.session.id, &path.2).await?;
    let e = checked(
        &ctx,
        org,
        NewEvent {
            kind: change.kind.unwrap_or(old.kind),
            title: change.title.unwrap_or(old.title),
            starts_at: change.starts_at.unwrap_or(old.starts_at),
            ends_at: change.ends_at.unwrap_or(old.ends_at),
            place: change.place.or(old.place),
            course_id: change.course_id.or(old.course_id),
        },
    )
    .await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE calendar_events SET kind = $1, title = $2, starts_at = $3, ends_at = $4, place = $5, course_id = $6, \
         sequence = sequence + 1, updated_at = $7 WHERE id = $8",
    )
    .bind(&e.kind)
    .bind(&e.title)
    .bind(&e.starts_at)
    .bind(&e.ends_at)
    .bind(&e.place)
    .bind(&e.course_id)
    .bind(now)
    .bind(&old.id)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "calendar.event_changed",
            Some(&old.id),
            json!({ "starts_at": e.starts_at, "ends_at": e.ends_at }),
        )
        .await?;
    let changed = Event {
        kind: e.kind,
        title: e.title,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        place: e.place,
        course_id: e.course_id,
        sequence: old.sequence + 1,
        updated_at: now,
        ..old
    };
    tell_members(&mut tx, &ctx, &access, &changed, Change::Changed).await?;
    tx.commit().await?;
    Ok(Json(changed))
}

/// Cancels an event: it stays in the calendar and its feeds, marked cancelled.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/sessions/{sid}/events/{event}", tag = "calendar",
    params(("id" = String, Path), ("sid" = String, Path), ("event" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn cancel_event(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let old = load(&ctx, &access.session.id, &path.2).await?;
    if old.cancelled {
        return Ok(StatusCode::NO_CONTENT);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE calendar_events SET cancelled = 1, sequence = sequence + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(&old.id)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "calendar.event_cancelled",
            Some(&old.id),
            json!({}),
        )
        .await?;
    let cancelled = Event {
        cancelled: true,
        sequence: old.sequence + 1,
        updated_at: now,
        ..old
    };
    tell_members(&mut tx, &ctx, &access, &cancelled, Change::Cancelled).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    /// The feed's secret address, shown once: calendar applications subscribe to it.
    pub url: String,
}

/// Makes a new secret link to the caller's feed (replacing the previous one).
async fn new_feed(ctx: &Ctx, principal: &Principal, session: Option<&str>) -> ApiResult<Feed> {
    let token = random_token(24);
    let now = ctx.now_ms();
    let account = principal.account_id.as_str();
    let mut tx = ctx.db.begin().await?;
    let old = match session {
        Some(s) => {
            sqlx::query("DELETE FROM calendar_feeds WHERE account_id = $1 AND session_id = $2")
                .bind(account)
                .bind(s)
        }
        None => {
            sqlx::query("DELETE FROM calendar_feeds WHERE account_id = $1 AND session_id IS NULL")
                .bind(account)
        }
    };
    old.execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO calendar_feeds (token_hash, account_id, session_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_secret(&token))
    .bind(account)
    .bind(session)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &principal.into(),
        "calendar.feed_created",
        session,
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Feed {
        url: format!("{}/calendar/{token}", ctx.config.public_url),
    })
}

/// A secret iCalendar link to this session's calendar, for the caller; every member. A new
/// link replaces the caller's previous one.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/calendar-feed", tag = "calendar",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = Feed), (status = 403, body = Problem)))]
async fn session_feed(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
) -> ApiResult<(StatusCode, Json<Feed>)> {
    let feed = new_feed(&ctx, &access.org.principal, Some(&access.session.id)).await?;
    Ok((StatusCode::CREATED, Json(feed)))
}

/// A secret iCalendar link to every session the caller takes part in.
#[utoipa::path(post, path = "/api/v1/calendar-feed", tag = "calendar",
    responses((status = 201, body = Feed), (status = 401, body = Problem)))]
async fn personal_feed(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> ApiResult<(StatusCode, Json<Feed>)> {
    let feed = new_feed(&ctx, &principal, None).await?;
    Ok((StatusCode::CREATED, Json(feed)))
}

/// `GET /calendar/{token}`: the iCalendar feed behind a secret link, as long as its owner still
/// takes part in the session (or administers its organisation).
pub async fn feed(State(state): State<IssuerState>, Path(token): Path<String>) -> Response {
    match render_feed(&state.ctx, &token).await {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn render_feed(ctx: &Ctx, token: &str) -> ApiResult<String> {
    if token.len() > 100 {
        return Err(ApiError::NotFound);
    }
    let owner: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT account_id, session_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(hash_secret(token))
            .fetch_optional(ctx.db.pool())
            .await?;
    let (account, session) = owner.ok_or(ApiError::NotFound)?;
    // The sessions the owner takes part in, or whose organisation they administer.
    let mut sql = "SELECT s.id, s.title, s.starts_on, s.ends_on, s.planned_hours, s.formation_id, s.timezone FROM training_sessions s \
         WHERE (EXISTS (SELECT 1 FROM session_members m WHERE m.session_id = s.id AND m.account_id = $1) \
         OR EXISTS (SELECT 1 FROM tenant_members t WHERE t.tenant_id = s.organisation_id AND t.account_id = $1 AND t.role = 'admin'))"
        .to_owned();
    if session.is_some() {
        sql += " AND s.id = $2";
    } else {
        sql += " AND EXISTS (SELECT 1 FROM session_members m WHERE m.session_id = s.id AND m.account_id = $1)";
    }
    sql += " ORDER BY s.starts_on DESC LIMIT 100";
    let mut query = sqlx::query_as::<_, TrainingSession>(&sql).bind(&account);
    if let Some(session) = &session {
        query = query.bind(session);
    }
    let sessions = query.fetch_all(ctx.db.pool()).await?;
    if session.is_some() && sessions.is_empty() {
        return Err(ApiError::NotFound);
    }
    let name = match (&session, sessions.first()) {
        (Some(_), Some(s)) => s.title.clone(),
        _ => "Carnet".to_owned(),
    };
    let mut events = Vec::new();
    for s in &sessions {
        for e in session_events(ctx, &s.id, "", "~").await? {
            events.push((
                s.title.clone(),
                Zone::parse(&s.timezone).unwrap_or(Zone::Paris),
                e,
            ));
        }
    }
    Ok(ical(ctx, &name, &events))
}

/// The events still to come of `session`, as a calendar to add (`METHOD:PUBLISH`, the feeds'
/// `UID`s); none when nothing is planned yet.
pub(crate) async fn upcoming(ctx: &Ctx, session: &TrainingSession) -> ApiResult<Option<String>> {
    let zone = Zone::parse(&session.timezone).unwrap_or(Zone::Paris);
    let now = zone.local(ctx.now_ms().div_euclid(1000)).to_string();
    let events: Vec<(String, Zone, Event)> = session_events(ctx, &session.id, &now, "~")
        .await?
        .into_iter()
        .filter(|e| !e.cancelled)
        .map(|e| (session.title.clone(), zone, e))
        .collect();
    Ok((!events.is_empty()).then(|| ical(ctx, &session.title, &events)))
}

/// A calendar named `name` of `events` (each with its session's title and zone).
fn ical(ctx: &Ctx, name: &str, events: &[(String, Zone, Event)]) -> String {
    let uids: Vec<String> = events
        .iter()
        .map(|(_, _, e)| format!("{}@{}", e.id, host(&ctx.config.public_url)))
        .collect();
    let items: Vec<calendar::Event> = events
        .iter()
        .zip(&uids)
        .filter_map(|((session_title, zone, e), uid)| {
            Some(calendar::Event {
                uid,
                zone: *zone,
                sequence: e.sequence,
                stamp: e.updated_at / 1000,
                start: LocalTime::parse(&e.starts_at)?,
                end: LocalTime::parse(&e.ends_at)?,
                summary: &e.title,
                location: e.place.as_deref(),
                description: Some(session_title),
                cancelled: e.cancelled,
            })
        })
        .collect();
    calendar::feed(name, &items)
}

fn host(url: &str) -> &str {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or("carnet")
}
