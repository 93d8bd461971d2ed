//! Attendance (émargement) per half-day: slots derived from the calendar or added by hand; each
//! trainee present, absent, late or excused, marked by the trainer or checked in by the trainee
//! with the short code the trainer shows during the slot (it changes every 30 seconds); the
//! trainer countersigns each slot. Seen as a table (trainees × slots), per trainee, exported as
//! CSV and as the printable sheet of a half-day French practice asks for. The hours attended go
//! into the completion certificate.

use crate::IssuerState;
use crate::calendar::session_events;
use crate::sessions::{SessionAccess, SessionParticipant, SessionStaff, SessionTrainee};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::calendar::{HalfDay, LocalTime, Zone};
use carnet_service::Ctx;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, optional_text, text};
use carnet_service::i18n::{Catalog, Lang, escape};
use carnet_service::id::random_token;
use carnet_service::web;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const STATUSES: [&str; 4] = ["present", "absent", "late", "excused"];
/// Seconds each check-in code lasts.
const CODE_WINDOW: i64 = 30;
/// Check-in opens this long before a slot starts; after as long past its start, it says late.
const MARGIN_MINUTES: i64 = 15;
/// Wrong check-in codes a trainee may give in one slot before their check-in there is locked.
const MAX_CHECK_IN_FAILURES: i64 = 5;
/// At most this many marks in one request.
const MAX_MARKS: usize = 1000;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(table))
        .routes(routes!(export))
        .routes(routes!(add_slot))
        .routes(routes!(slots_from_calendar))
        .routes(routes!(mark))
        .routes(routes!(code))
        .routes(routes!(check_in))
        .routes(routes!(countersign))
        .routes(routes!(sheet))
        .routes(routes!(trainee))
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Slot {
    pub id: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `morning` or `afternoon`.
    pub half: String,
    /// `HH:MM`, in the session's time zone.
    pub starts: String,
    pub ends: String,
    pub minutes: i64,
    pub title: String,
    pub event_id: Option<String>,
    pub countersigned_by: Option<String>,
    pub countersigned_by_name: Option<String>,
    pub countersigned_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Mark {
    pub slot_id: String,
    pub trainee_id: String,
    pub status: String,
    pub note: Option<String>,
    /// `trainer` or `check_in`.
    pub source: String,
    pub marked_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotSummary {
    #[serde(flatten)]
    pub slot: Slot,
    /// Trainees present or late, over the session's trainees; `null` before anyone is marked.
    pub rate: Option<f64>,
    pub counts: HashMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraineeSummary {
    pub account_id: String,
    pub display_name: String,
    pub email: String,
    /// Slots taken so far (any trainee marked).
    pub taken: i64,
    /// Of those, the ones this trainee attended (present or late).
    pub attended: i64,
    pub rate: Option<f64>,
    pub attended_minutes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Table {
    pub timezone: String,
    pub slots: Vec<SlotSummary>,
    pub trainees: Vec<TraineeSummary>,
    pub marks: Vec<Mark>,
    /// Wrong check-in codes given, per trainee and slot (those with any).
    pub check_in_failures: Vec<CheckInFailures>,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct CheckInFailures {
    pub slot_id: String,
    pub trainee_id: String,
    pub failures: i64,
    pub last_failed_at: i64,
    /// Whether the trainee's check-in in this slot is locked (the trainer marks them).
    pub locked: bool,
}

type SlotRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

const SLOT_COLUMNS: &str = "s.id, s.day, s.half, s.starts, s.ends, s.title, s.event_id, s.countersigned_by, a.display_name, s.countersigned_at";

fn slot(row: SlotRow) -> Slot {
    let (id, day, half, starts, ends, title, event_id, countersigned_by, name, countersigned_at) =
        row;
    let minutes = minutes_of(&starts, &ends);
    Slot {
        id,
        day,
        half,
        starts,
        ends,
        minutes,
        title,
        event_id,
        countersigned_by,
        countersigned_by_name: name,
        countersigned_at,
    }
}

fn clock(time: &str) -> Option<i64> {
    let (h, m) = time.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && time.len() == 5).then_some(h * 60 + m)
}

fn minutes_of(starts: &str, ends: &str) -> i64 {
    match (clock(starts), clock(ends)) {
        (Some(s), Some(e)) if e > s => e - s,
        _ => 0,
    }
}

async fn slots(ctx: &Ctx, session: &str) -> ApiResult<Vec<Slot>> {
    let rows: Vec<SlotRow> = sqlx::query_as(&format!(
        "SELECT {SLOT_COLUMNS} FROM attendance_slots s LEFT JOIN accounts a ON a.id = s.countersigned_by \
         WHERE s.session_id = $1 ORDER BY s.day, s.half DESC LIMIT 2000"
    ))
    .bind(session)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(rows.into_iter().map(slot).collect())
}

async fn load_slot(ctx: &Ctx, session: &str, id: &str) -> ApiResult<(Slot, String)> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT code_secret FROM attendance_slots WHERE id = $1 AND session_id = $2",
    )
    .bind(id)
    .bind(session)
    .fetch_optional(ctx.db.pool())
    .await?;
    let (secret,) = row.ok_or(ApiError::NotFound)?;
    let row: SlotRow = sqlx::query_as(&format!(
        "SELECT {SLOT_COLUMNS} FROM attendance_slots s LEFT JOIN accounts a ON a.id = s.countersigned_by WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_one(ctx.db.pool())
    .await?;
    Ok((slot(row), secret))
}

/// The marks of a session, or of one of its slots.
async fn marks(ctx: &Ctx, session: &str, slot: Option<&str>) -> ApiResult<Vec<Mark>> {
    type Row = (String, String, String, Option<String>, String, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT m.slot_id, m.trainee_id, m.status, m.note, m.source, m.marked_at FROM attendance_marks m \
         JOIN attendance_slots s ON s.id = m.slot_id WHERE s.session_id = $1 AND ($2 IS NULL OR s.id = $2) LIMIT 200000",
    )
    .bind(session)
    .bind(slot)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(slot_id, trainee_id, status, note, source, marked_at)| Mark {
                slot_id,
                trainee_id,
                status,
                note,
                source,
                marked_at,
            },
        )
        .collect())
}

/// The session's trainees: (account, name, e-mail).
async fn trainees(ctx: &Ctx, session: &str) -> ApiResult<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.display_name, a.email FROM session_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.session_id = $1 AND m.role = 'trainee' ORDER BY a.display_name, a.email LIMIT 10000",
    )
    .bind(session)
    .fetch_all(ctx.db.pool())
    .await?)
}

fn attended(status: &str) -> bool {
    status == "present" || status == "late"
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

/// The whole table of a session: slots, trainees, marks, and the rates.
pub async fn build_table(ctx: &Ctx, session: &SessionAccess) -> ApiResult<Table> {
    let id = &session.session.id;
    let (slots, marks, trainees) = (
        slots(ctx, id).await?,
        marks(ctx, id, None).await?,
        trainees(ctx, id).await?,
    );
    let taken: Vec<&Slot> = slots
        .iter()
        .filter(|s| marks.iter().any(|m| m.slot_id == s.id))
        .collect();
    let trainee_rows = trainees
        .into_iter()
        .map(|(account_id, display_name, email)| {
            let mine: Vec<&Mark> = marks
                .iter()
                .filter(|m| m.trainee_id == account_id)
                .collect();
            let present: Vec<&&Slot> = taken
                .iter()
                .filter(|s| {
                    mine.iter()
                        .any(|m| m.slot_id == s.id && attended(&m.status))
                })
                .collect();
            TraineeSummary {
                taken: taken.len() as i64,
                attended: present.len() as i64,
                rate: rate(present.len() as i64, taken.len() as i64),
                attended_minutes: present.iter().map(|s| s.minutes).sum(),
                account_id,
                display_name,
                email,
            }
        })
        .collect::<Vec<_>>();
    let slot_rows = slots
        .into_iter()
        .map(|slot| {
            let mut counts: HashMap<String, i64> = HashMap::new();
            for m in marks.iter().filter(|m| m.slot_id == slot.id) {
                *counts.entry(m.status.clone()).or_default() += 1;
            }
            let present = counts.get("present").unwrap_or(&0) + counts.get("late").unwrap_or(&0);
            SlotSummary {
                rate: (!counts.is_empty())
                    .then(|| rate(present, trainee_rows.len() as i64))
                    .flatten(),
                counts,
                slot,
            }
        })
        .collect();
    let failures: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT f.slot_id, f.trainee_id, f.failures, f.last_failed_at FROM attendance_check_in_attempts f \
         JOIN attendance_slots s ON s.id = f.slot_id WHERE s.session_id = $1 AND f.failures > 0 \
         ORDER BY f.slot_id, f.trainee_id LIMIT 10000",
    )
    .bind(id)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Table {
        timezone: session.session.timezone.clone(),
        slots: slot_rows,
        trainees: trainee_rows,
        marks,
        check_in_failures: failures
            .into_iter()
            .map(
                |(slot_id, trainee_id, failures, last_failed_at)| CheckInFailures {
                    slot_id,
                    trainee_id,
                    locked: failures >= MAX_CHECK_IN_FAILURES,
                    failures,
                    last_failed_at,
                },
            )
            .collect(),
    })
}

/// Minutes a trainee attended (present or late) in a session, for the completion certificate;
/// `None` while the session's attendance is not taken at all.
pub async fn attended_minutes(ctx: &Ctx, session: &str, trainee: &str) -> ApiResult<Option<i64>> {
    let taken: Option<(String,)> = sqlx::query_as(
        "SELECT m.slot_id FROM attendance_marks m JOIN attendance_slots s ON s.id = m.slot_id WHERE s.session_id = $1 LIMIT 1",
    )
    .bind(session)
    .fetch_optional(ctx.db.pool())
    .await?;
    if taken.is_none() {
        return Ok(None);
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.starts, s.ends FROM attendance_marks m JOIN attendance_slots s ON s.id = m.slot_id \
         WHERE s.session_id = $1 AND m.trainee_id = $2 AND m.status IN ('present', 'late')",
    )
    .bind(session)
    .bind(trainee)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Some(rows.iter().map(|(s, e)| minutes_of(s, e)).sum()))
}

/// The attendance table: slots × trainees, with rates; the session's trainers and managers.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = Table), (status = 403, body = Problem)))]
async fn table(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
) -> ApiResult<Json<Table>> {
    Ok(Json(build_table(&ctx, &access).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSlot {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `morning` or `afternoon`.
    pub half: String,
    /// `HH:MM`; by default 09:00–12:30 in the morning, 13:30–17:00 in the afternoon.
    #[serde(default)]
    pub starts: Option<String>,
    #[serde(default)]
    pub ends: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

async fn insert_slot(
    conn: &mut sqlx::AnyConnection,
    session: &str,
    slot: &Slot,
    now: i64,
) -> ApiResult<bool> {
    let done = sqlx::query(
        "INSERT INTO attendance_slots (id, session_id, day, half, starts, ends, title, event_id, code_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id, day, half) DO NOTHING",
    )
    .bind(&slot.id)
    .bind(session)
    .bind(&slot.day)
    .bind(&slot.half)
    .bind(&slot.starts)
    .bind(&slot.ends)
    .bind(&slot.title)
    .bind(&slot.event_id)
    .bind(random_token(24))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn new_slot(day: String, half: HalfDay, starts: i64, ends: i64, title: String) -> Slot {
    let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    Slot {
        id: format!("slt_{}", random_token(16)),
        day,
        half: half.as_str().to_owned(),
        starts: hhmm(starts),
        ends: hhmm(ends),
        minutes: ends - starts,
        title,
        event_id: None,
        countersigned_by: None,
        countersigned_by_name: None,
        countersigned_at: None,
    }
}

/// Adds a half-day slot by hand; the session's trainers and managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots", tag = "attendance", request_body = NewSlot,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = Slot), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_slot(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Json(input): Json<NewSlot>,
) -> ApiResult<(StatusCode, Json<Slot>)> {
    let day = carnet_service::clock::check_date("day", &input.day)?;
    let half = HalfDay::parse(&input.half)
        .ok_or_else(|| ApiError::invalid_field("half", "morning or afternoon"))?;
    let (default_start, default_end) = match half {
        HalfDay::Morning => (9 * 60, 12 * 60 + 30),
        HalfDay::Afternoon => (13 * 60 + 30, 17 * 60),
    };
    let time = |field: &str, value: &Option<String>, default: i64| match value {
        None => Ok(default),
        Some(v) => clock(v).ok_or_else(|| ApiError::invalid_field(field, "HH:MM")),
    };
    let starts = time("starts", &input.starts, default_start)?;
    let ends = time("ends", &input.ends, default_end)?;
    let (low, high) = half.bounds();
    if !(low <= starts && starts < ends && ends <= high) {
        return Err(ApiError::invalid_field(
            "ends",
            "a start before the end, within the half-day (the afternoon starts at 13:00)",
        ));
    }
    let title = match &input.title {
        Some(t) => text("title", t, 200)?,
        None => access.session.title.clone(),
    };
    let slot = new_slot(day, half, starts, ends, title);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !insert_slot(&mut tx, &access.session.id, &slot, now).await? {
        return Err(ApiError::Conflict(
            "this half-day already has its slot".into(),
        ));
    }
    access
        .audit(
            &mut tx,
            now,
            "attendance.slot_added",
            Some(&slot.id),
            json!({ "day": slot.day, "half": slot.half }),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(slot)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Derived {
    pub created: usize,
    /// Half-days that had their slot already.
    pub existing: usize,
}

/// Creates the slots of every half-day the calendar's courses and exams take (events over one
/// day; longer ones are added by hand); the session's trainers and managers. Idempotent.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots/from-calendar", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = Derived), (status = 403, body = Problem)))]
async fn slots_from_calendar(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
) -> ApiResult<Json<Derived>> {
    // Each half-day's span: the earliest start and the latest end of its events.
    let mut spans: std::collections::BTreeMap<(String, HalfDay), (i64, i64, String, String)> =
        Default::default();
    for e in session_events(&ctx, &access.session.id, "", "~").await? {
        if e.cancelled || e.kind == "other" {
            continue;
        }
        let (Some(start), Some(end)) =
            (LocalTime::parse(&e.starts_at), LocalTime::parse(&e.ends_at))
        else {
            continue;
        };
        if start.date() != end.date() {
            continue;
        }
        for half in [HalfDay::Morning, HalfDay::Afternoon] {
            let (low, high) = half.bounds();
            let (s, t) = (start.minutes().max(low), end.minutes().min(high));
            if s >= t {
                continue;
            }
            let span =
                spans
                    .entry((start.date(), half))
                    .or_insert((s, t, e.title.clone(), e.id.clone()));
            span.0 = span.0.min(s);
            span.1 = span.1.max(t);
        }
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut created = 0;
    for ((day, half), (s, t, title, event)) in &spans {
        let mut slot = new_slot(day.clone(), *half, *s, *t, title.clone());
        slot.event_id = Some(event.clone());
        if insert_slot(&mut tx, &access.session.id, &slot, now).await? {
            created += 1;
        }
    }
    access
        .audit(
            &mut tx,
            now,
            "attendance.slots_derived",
            Some(&access.session.id),
            json!({ "created": created }),
        )
        .await?;
    tx.commit().await?;
    Ok(Json(Derived {
        created,
        existing: spans.len() - created,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMark {
    pub trainee_id: String,
    /// `present`, `absent`, `late` or `excused`.
    pub status: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Marks {
    pub marks: Vec<NewMark>,
}

/// Marks trainees in a slot; the session's trainers and managers. Changing a countersigned
/// slot withdraws its countersignature (the trainer signs again).
#[utoipa::path(put, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots/{slot}/marks", tag = "attendance", request_body = Marks,
    params(("id" = String, Path), ("sid" = String, Path), ("slot" = String, Path)),
    responses((status = 200, body = Vec<Mark>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn mark(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String)>,
    Json(input): Json<Marks>,
) -> ApiResult<Json<Vec<Mark>>> {
    let (slot, _) = load_slot(&ctx, &access.session.id, &path.2).await?;
    if input.marks.is_empty() || input.marks.len() > MAX_MARKS {
        return Err(ApiError::invalid_field("marks", "1 to 1000 marks"));
    }
    let trainees: Vec<String> = trainees(&ctx, &access.session.id)
        .await?
        .into_iter()
        .map(|t| t.0)
        .collect();
    let mut checked = Vec::new();
    for (i, m) in input.marks.into_iter().enumerate() {
        if !STATUSES.contains(&m.status.as_str()) {
            return Err(ApiError::invalid_field(
                &format!("marks[{i}].status"),
                "present, absent, late or excused",
            ));
        }
        crate::sessions::not_oneself(
            &access.org,
            &m.trainee_id,
            &format!("marks[{i}].trainee_id"),
        )?;
        if !trainees.contains(&m.trainee_id) {
            return Err(ApiError::invalid_field(
                &format!("marks[{i}].trainee_id"),
                "not a trainee of this session",
            ));
        }
        let note = optional_text(&format!("marks[{i}].note"), m.note.as_deref(), 500)?;
        checked.push((m.trainee_id, m.status, note));
    }
    let now = ctx.now_ms();
    let me = access.org.principal.account_id.as_str();
    let mut tx = ctx.db.begin().await?;
    for (trainee, status, note) in &checked {
        sqlx::query(
            "INSERT INTO attendance_marks (slot_id, trainee_id, status, note, source, marked_by, marked_at) VALUES ($1, $2, $3, $4, 'trainer', $5, $6) \
             ON CONFLICT (slot_id, trainee_id) DO UPDATE SET status = excluded.status, note = excluded.note, source = 'trainer', \
             marked_by = excluded.marked_by, marked_at = excluded.marked_at",
        )
        .bind(&slot.id)
        .bind(trainee)
        .bind(status)
        .bind(note)
        .bind(me)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let withdrawn = slot.countersigned_at.is_some();
    if withdrawn {
        sqlx::query("UPDATE attendance_slots SET countersigned_by = NULL, countersigned_at = NULL WHERE id = $1")
            .bind(&slot.id)
            .execute(&mut *tx)
            .await?;
    }
    access
        .audit(&mut tx, now, "attendance.marked", Some(&slot.id), json!({
            "marks": checked.iter().map(|(t, s, _)| json!({"trainee": t, "status": s})).collect::<Vec<_>>(),
            "countersignature_withdrawn": withdrawn,
        }))
        .await?;
    tx.commit().await?;
    Ok(Json(marks(&ctx, &access.session.id, Some(&slot.id)).await?))
}

/// The check-in code of a slot for a 30-second window.
fn code_at(secret: &str, window: i64) -> String {
    let digest = Sha256::new()
        .chain_update(secret.as_bytes())
        .chain_update(b":")
        .chain_update(window.to_be_bytes())
        .finalize();
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("{:06}", n % 1_000_000)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInCode {
    /// Six digits, shown to the trainees in the room.
    pub code: String,
    /// Unix milliseconds when the next code replaces it.
    pub valid_until: i64,
}

/// The slot's current check-in code; the session's trainers and managers.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots/{slot}/code", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path), ("slot" = String, Path)),
    responses((status = 200, body = CheckInCode), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn code(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<Json<CheckInCode>> {
    let (_, secret) = load_slot(&ctx, &access.session.id, &path.2).await?;
    let window = ctx.now_ms().div_euclid(1000 * CODE_WINDOW);
    Ok(Json(CheckInCode {
        code: code_at(&secret, window),
        valid_until: (window + 1) * CODE_WINDOW * 1000,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    pub code: String,
}

/// A trainee checks in with the code shown in the room, during the slot (from 15 minutes
/// before; later than 15 minutes after the start counts as late). A mark the trainer made
/// stands. After five wrong codes in a slot the trainee's check-in there is locked (429; the
/// trainer marks them by hand and sees the attempts in the table and the audit log).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots/{slot}/check-in", tag = "attendance", request_body = CheckIn,
    params(("id" = String, Path), ("sid" = String, Path), ("slot" = String, Path)),
    responses((status = 200, body = Mark), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn check_in(
    State(ctx): State<Ctx>,
    SessionTrainee(access): SessionTrainee,
    Path(path): Path<(String, String, String)>,
    Json(input): Json<CheckIn>,
) -> ApiResult<Json<Mark>> {
    let (slot, secret) = load_slot(&ctx, &access.session.id, &path.2).await?;
    let zone = Zone::parse(&access.session.timezone).unwrap_or(Zone::Paris);
    let at = |hhmm: &str| {
        LocalTime::parse(&format!("{}T{hhmm}", slot.day)).map(|t| zone.instant(t) * 1000)
    };
    let (Some(starts), Some(ends)) = (at(&slot.starts), at(&slot.ends)) else {
        return Err(ApiError::NotFound);
    };
    let now = ctx.now_ms();
    let margin = MARGIN_MINUTES * 60_000;
    if now < starts - margin || now > ends {
        return Err(ApiError::Conflict(
            "check-in is open during the slot only".into(),
        ));
    }
    let window = now.div_euclid(1000 * CODE_WINDOW);
    let given = input.code.trim();
    let me = access.org.principal.account_id.as_str();
    let locked = || ApiError::TooManyRequests {
        retry_after_secs: (ends - now).div_euclid(1000).max(1),
    };
    let mut tx = ctx.db.begin().await?;
    // The attempt is counted before the code is compared, by one conditional statement: guesses
    // in parallel (or on other instances) queue on the row, and after MAX_CHECK_IN_FAILURES
    // none is compared any more in this slot.
    let taken = sqlx::query(
        "INSERT INTO attendance_check_in_attempts (slot_id, trainee_id, failures, last_failed_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (slot_id, trainee_id) DO UPDATE SET failures = attendance_check_in_attempts.failures + 1, \
         last_failed_at = excluded.last_failed_at WHERE attendance_check_in_attempts.failures < $4",
    )
    .bind(&slot.id)
    .bind(me)
    .bind(now)
    .bind(MAX_CHECK_IN_FAILURES)
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() != 1 {
        return Err(locked());
    }
    if ![window, window - 1]
        .iter()
        .any(|w| code_at(&secret, *w) == given)
    {
        let (failures,): (i64,) = sqlx::query_as(
            "SELECT failures FROM attendance_check_in_attempts WHERE slot_id = $1 AND trainee_id = $2",
        )
        .bind(&slot.id)
        .bind(me)
        .fetch_one(&mut *tx)
        .await?;
        let now_locked = failures >= MAX_CHECK_IN_FAILURES;
        access
            .audit(
                &mut tx,
                now,
                if now_locked {
                    "attendance.check_in_locked"
                } else {
                    "attendance.check_in_failed"
                },
                Some(&slot.id),
                json!({ "trainee": me, "failures": failures }),
            )
            .await?;
        tx.commit().await?;
        return Err(if now_locked {
            locked()
        } else {
            ApiError::invalid_field(
                "code",
                format!(
                    "not the code shown now ({} attempt(s) left)",
                    MAX_CHECK_IN_FAILURES - failures
                ),
            )
        });
    }
    // The right code: its attempt is given back.
    sqlx::query(
        "UPDATE attendance_check_in_attempts SET failures = failures - 1 WHERE slot_id = $1 AND trainee_id = $2",
    )
    .bind(&slot.id)
    .bind(me)
    .execute(&mut *tx)
    .await?;
    let status = if now > starts + margin {
        "late"
    } else {
        "present"
    };
    let done = sqlx::query(
        "INSERT INTO attendance_marks (slot_id, trainee_id, status, note, source, marked_by, marked_at) VALUES ($1, $2, $3, NULL, 'check_in', $2, $4) \
         ON CONFLICT (slot_id, trainee_id) DO NOTHING",
    )
    .bind(&slot.id)
    .bind(me)
    .bind(status)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict("already marked in this slot".into()));
    }
    access
        .audit(
            &mut tx,
            now,
            "attendance.checked_in",
            Some(&slot.id),
            json!({ "status": status }),
        )
        .await?;
    tx.commit().await?;
    Ok(Json(Mark {
        slot_id: slot.id,
        trainee_id: me.to_owned(),
        status: status.to_owned(),
        note: None,
        source: "check_in".into(),
        marked_at: now,
    }))
}

/// The trainer countersigns a slot once every trainee is marked; its trainers and managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots/{slot}/countersign", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path), ("slot" = String, Path)),
    responses((status = 200, body = Slot), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn countersign(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<Json<Slot>> {
    let (slot, _) = load_slot(&ctx, &access.session.id, &path.2).await?;
    let (unmarked,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM session_members m WHERE m.session_id = $1 AND m.role = 'trainee' \
         AND NOT EXISTS (SELECT 1 FROM attendance_marks a WHERE a.slot_id = $2 AND a.trainee_id = m.account_id)",
    )
    .bind(&access.session.id)
    .bind(&slot.id)
    .fetch_one(ctx.db.pool())
    .await?;
    if unmarked > 0 {
        return Err(ApiError::Conflict(format!(
            "{unmarked} trainee(s) not marked in this slot yet"
        )));
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE attendance_slots SET countersigned_by = $1, countersigned_at = $2 WHERE id = $3",
    )
    .bind(access.org.principal.account_id.as_str())
    .bind(now)
    .bind(&slot.id)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "attendance.countersigned",
            Some(&slot.id),
            json!({}),
        )
        .await?;
    tx.commit().await?;
    Ok(Json(load_slot(&ctx, &access.session.id, &slot.id).await?.0))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraineeAttendance {
    pub summary: TraineeSummary,
    /// Every slot with this trainee's mark, if any.
    pub slots: Vec<TraineeSlot>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraineeSlot {
    #[serde(flatten)]
    pub slot: Slot,
    pub status: Option<String>,
    pub note: Option<String>,
}

/// One trainee's attendance: the trainee, and the session's trainers and managers.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/trainees/{account}", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path), ("account" = String, Path)),
    responses((status = 200, body = TraineeAttendance), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn trainee(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<Json<TraineeAttendance>> {
    let account = path.2;
    let staff = access.is_staff();
    if !staff && access.org.principal.account_id.as_str() != account {
        return Err(ApiError::Forbidden);
    }
    let mut table = build_table(&ctx, &access).await?;
    let at = table
        .trainees
        .iter()
        .position(|t| t.account_id == account)
        .ok_or(ApiError::NotFound)?;
    let summary = table.trainees.swap_remove(at);
    let slots = table
        .slots
        .into_iter()
        .map(|s| {
            let mark = table
                .marks
                .iter()
                .find(|m| m.slot_id == s.slot.id && m.trainee_id == account);
            TraineeSlot {
                status: mark.map(|m| m.status.clone()),
                note: mark.and_then(|m| m.note.clone()),
                slot: s.slot,
            }
        })
        .collect();
    Ok(Json(TraineeAttendance { summary, slots }))
}

const CATALOG: Catalog = &[
    ("sheet", "Feuille d'émargement", "Attendance sheet"),
    ("session", "Session", "Session"),
    ("date", "Date", "Date"),
    ("morning", "Matin", "Morning"),
    ("afternoon", "Après-midi", "Afternoon"),
    ("hours", "Horaires", "Hours"),
    ("duration", "Durée", "Duration"),
    ("trainers", "Formateur(s)", "Trainer(s)"),
    ("trainee", "Stagiaire", "Trainee"),
    ("email", "E-mail", "E-mail"),
    ("status", "Statut", "Status"),
    ("signature", "Émargement", "Signature"),
    ("note", "Note", "Note"),
    ("present", "Présent", "Present"),
    ("absent", "Absent", "Absent"),
    ("late", "En retard", "Late"),
    ("excused", "Excusé", "Excused"),
    ("unmarked", "Non renseigné", "Not marked"),
    (
        "check_in",
        "Présence attestée par code le",
        "Checked in with the code at",
    ),
    (
        "trainer",
        "Marqué par le formateur le",
        "Marked by the trainer at",
    ),
    ("countersigned", "Contresigné par", "Countersigned by"),
    ("on", "le", "on"),
    (
        "not_countersigned",
        "Pas encore contresigné par le formateur.",
        "Not countersigned by the trainer yet.",
    ),
    ("print", "Imprimer", "Print"),
    ("slot", "Demi-journée", "Half-day"),
    ("start", "Début", "Start"),
    ("end", "Fin", "End"),
    ("title", "Intitulé", "Title"),
    ("source", "Source", "Source"),
    ("countersigned_at", "Contresigné le", "Countersigned at"),
];

/// `2026-09-01 09:12` in the session's zone.
fn local_stamp(zone: Zone, ms: i64) -> String {
    let t = zone.local(ms.div_euclid(1000));
    format!("{} {}", t.date(), t.time())
}

/// The printable attendance sheet of one half-day (French by default, `?lang=en`).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/slots/{slot}/sheet", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path), ("slot" = String, Path)),
    responses((status = 200, content_type = "text/html"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn sheet(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    lang: Lang,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let t = |key: &str| lang.t(CATALOG, key);
    let (slot, _) = load_slot(&ctx, &access.session.id, &path.2).await?;
    let zone = Zone::parse(&access.session.timezone).unwrap_or(Zone::Paris);
    let trainers: Vec<(String,)> = sqlx::query_as(
        "SELECT a.display_name FROM session_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.session_id = $1 AND m.role = 'trainer' ORDER BY a.display_name",
    )
    .bind(&access.session.id)
    .fetch_all(ctx.db.pool())
    .await?;
    let trainers: Vec<String> = trainers.into_iter().map(|(n,)| n).collect();
    let marks = marks(&ctx, &access.session.id, Some(&slot.id)).await?;
    let rows: String = trainees(&ctx, &access.session.id)
        .await?
        .iter()
        .map(|(id, name, _)| {
            let mark = marks
                .iter()
                .find(|m| m.slot_id == slot.id && &m.trainee_id == id);
            let (status, signed, note) = match mark {
                None => (t("unmarked").to_owned(), String::new(), String::new()),
                Some(m) => (
                    t(&m.status).to_owned(),
                    format!(
                        "{} {}",
                        t(&m.source),
                        carnet_service::web::wall_clock(lang, &local_stamp(zone, m.marked_at))
                    ),
                    m.note.clone().unwrap_or_default(),
                ),
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(name),
                escape(&status),
                escape(&signed),
                escape(&note)
            )
        })
        .collect();
    let countersigned = match (&slot.countersigned_by_name, slot.countersigned_at) {
        (Some(name), Some(at)) => format!(
            "{} {} {} {}",
            t("countersigned"),
            escape(name),
            t("on"),
            carnet_service::web::wall_clock(lang, &local_stamp(zone, at))
        ),
        _ => t("not_countersigned").to_owned(),
    };
    let content = format!(
        "<h1>{sheet}</h1><dl><dt>{session_l}</dt><dd>{session}</dd><dt>{title_l}</dt><dd>{title}</dd>\
         <dt>{date_l}</dt><dd>{day} — {half}</dd><dt>{hours_l}</dt><dd>{starts}–{ends} ({hours} h)</dd>\
         <dt>{trainers_l}</dt><dd>{trainers}</dd></dl>\
         <table><thead><tr><th>{trainee_l}</th><th>{status_l}</th><th>{signature_l}</th><th>{note_l}</th></tr></thead>\
         <tbody>{rows}</tbody></table><p>{countersigned}</p><button type=\"button\" data-print>{print}</button>",
        sheet = t("sheet"),
        session_l = t("session"),
        session = escape(&access.session.title),
        title_l = t("title"),
        title = escape(&slot.title),
        date_l = t("date"),
        day = carnet_service::web::date(lang, &slot.day),
        half = t(&slot.half),
        hours_l = t("hours"),
        starts = slot.starts,
        ends = slot.ends,
        hours = match lang {
            // « 3,5 h » in French.
            Lang::Fr => format_hours(slot.minutes).replace('.', ","),
            _ => format_hours(slot.minutes),
        },
        trainers_l = t("trainers"),
        trainers = escape(&trainers.join(", ")),
        trainee_l = t("trainee"),
        status_l = t("status"),
        signature_l = t("signature"),
        note_l = t("note"),
        print = t("print"),
    );
    let title = format!("{} — {}", t("sheet"), slot.title);
    Ok(web::page(lang, ctx.config.path_prefix(), &title, &content))
}

fn format_hours(minutes: i64) -> String {
    let hours = minutes as f64 / 60.0;
    let text = format!("{hours:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A CSV field: quoted when needed, and never read as a formula by a spreadsheet.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The whole attendance as CSV (UTF-8), one row per trainee and slot; the session's trainers
/// and managers. Column names in the language asked.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/attendance/export", tag = "attendance",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, content_type = "text/csv"), (status = 403, body = Problem)))]
async fn export(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    lang: Lang,
) -> ApiResult<Response> {
    let t = |key: &str| lang.t(CATALOG, key);
    let table = build_table(&ctx, &access).await?;
    let zone = Zone::parse(&table.timezone).unwrap_or(Zone::Paris);
    let mut out = String::from("\u{feff}");
    let header: Vec<&str> = [
        "date",
        "slot",
        "start",
        "end",
        "title",
        "trainee",
        "email",
        "status",
        "note",
        "source",
        "countersigned",
        "countersigned_at",
    ]
    .iter()
    .map(|k| t(k))
    .collect();
    out += &header.join(",");
    out += "\r\n";
    for s in &table.slots {
        for trainee in &table.trainees {
            let mark = table
                .marks
                .iter()
                .find(|m| m.slot_id == s.slot.id && m.trainee_id == trainee.account_id);
            let fields = [
                s.slot.day.clone(),
                t(&s.slot.half).to_owned(),
                s.slot.starts.clone(),
                s.slot.ends.clone(),
                s.slot.title.clone(),
                trainee.display_name.clone(),
                trainee.email.clone(),
                mark.map_or(String::new(), |m| m.status.clone()),
                mark.and_then(|m| m.note.clone()).unwrap_or_default(),
                mark.map_or(String::new(), |m| m.source.clone()),
                s.slot.countersigned_by_name.clone().unwrap_or_default(),
                s.slot
                    .countersigned_at
                    .map(|at| local_stamp(zone, at))
                    .unwrap_or_default(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out += &row.join(",");
            out += "\r\n";
        }
    }
    let name = format!("attendance-{}.csv", access.session.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_change_every_window_and_differ_per_slot() {
        let a = code_at("secret-a", 1000);
        assert_eq!(a.len(), 6);
        assert_eq!(a, code_at("secret-a", 1000));
        assert_ne!(a, code_at("secret-a", 1001));
        assert_ne!(a, code_at("secret-b", 1000));
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("Durand, Camille"), "\"Durand, Camille\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("présent"), "présent");
    }

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
        assert_eq!(format_hours(210), "3.5");
        assert_eq!(format_hours(180), "3");
        assert_eq!(clock("9:00"), None);
        assert_eq!(clock("09:05"), Some(545));
    }
}
