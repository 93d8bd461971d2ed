//! Quizzes at the centre: written by the organisation's staff with the model recruiters use
//! too (`carnet_core::quiz`: single choice, multiple choice, short answer, with points), opened
//! to a session for a time window, answered once by each trainee within it, graded
//! automatically where possible and by hand for short answers; results per trainee. A result
//! can be the evidence of an evaluation (`evaluations`). A quiz is changed until it opens to a
//! session.

use crate::sessions::{SessionAccess, SessionParticipant, SessionStaff, SessionTrainee};
use crate::{IssuerState, Organisations};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_core::calendar::{LocalTime, Zone};
use carnet_core::quiz::{Answer, Grade, Quiz};
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::random_token;
use carnet_service::tenants::Staff;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_quiz, replace_quiz))
        .routes(routes!(open, session_quizzes))
        .routes(routes!(answer))
        .routes(routes!(results))
        .routes(routes!(grade_by_hand))
}

fn invalid(e: carnet_core::quiz::QuizError) -> ApiError {
    ApiError::invalid_field("quiz", e.to_string())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuizSummary {
    pub id: String,
    pub title: String,
    pub questions: usize,
    pub max: u32,
    pub created_at: i64,
    /// Whether it can still be rewritten: no session has had it open.
    pub editable: bool,
}

/// Writes a quiz; the organisation's administrators, managers and trainers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/quizzes", tag = "quizzes", request_body = Object,
    params(("id" = String, Path)),
    responses((status = 201, body = QuizSummary), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Json(quiz): Json<Quiz>,
) -> ApiResult<(StatusCode, Json<QuizSummary>)> {
    quiz.check().map_err(invalid)?;
    let now = ctx.now_ms();
    let id = format!("qui_{}", random_token(16));
    let title = quiz.title.trim().to_owned();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO quizzes (id, organisation_id, title, quiz, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&access.tenant.id)
    .bind(&title)
    .bind(serde_json::to_string(&quiz)?)
    .bind(access.principal.account_id.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "quiz.created",
        Some(&id),
        Some(&access.tenant.id),
        json!({ "questions": quiz.questions.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(QuizSummary {
            id,
            title,
            questions: quiz.questions.len(),
            max: quiz.max(),
            created_at: now,
            editable: true,
        }),
    ))
}

async fn load(ctx: &Ctx, org: &str, quiz: &str) -> ApiResult<Quiz> {
    let (text,): (String,) =
        sqlx::query_as("SELECT quiz FROM quizzes WHERE id = $1 AND organisation_id = $2")
            .bind(quiz)
            .bind(org)
            .fetch_optional(ctx.db.pool())
            .await?
            .ok_or(ApiError::NotFound)?;
    Ok(serde_json::from_str(&text)?)
}

/// Rewrites a quiz, while no session has it open yet (its openings are all to come);
/// the organisation's administrators, managers and trainers.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/quizzes/{quiz}", tag = "quizzes", request_body = Object,
    params(("id" = String, Path), ("quiz" = String, Path)),
    responses((status = 200, body = QuizSummary), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn replace_quiz(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(quiz): Json<Quiz>,
) -> ApiResult<Json<QuizSummary>> {
    let org = &access.tenant.id;
    let before = load(&ctx, org, &path.1).await?;
    quiz.check().map_err(invalid)?;
    let now = ctx.now_ms();
    let openings: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT o.opens_at, o.closes_at, s.timezone FROM quiz_openings o \
         JOIN training_sessions s ON s.id = o.session_id WHERE o.quiz_id = $1",
    )
    .bind(&path.1)
    .fetch_all(ctx.db.pool())
    .await?;
    if openings.iter().any(|(opens, closes, zone)| {
        window(Zone::parse(zone).unwrap_or(Zone::Paris), opens, closes, now) != "upcoming"
    }) {
        return Err(ApiError::Conflict(
            "this quiz is open or was already: write a new one".into(),
        ));
    }
    let title = quiz.title.trim().to_owned();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("UPDATE quizzes SET title = $1, quiz = $2 WHERE id = $3 AND organisation_id = $4")
        .bind(&title)
        .bind(serde_json::to_string(&quiz)?)
        .bind(&path.1)
        .bind(org)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "quiz.updated",
        Some(&path.1),
        Some(org),
        json!({ "before": before, "after": quiz }),
    )
    .await?;
    tx.commit().await?;
    let created_at = sqlx::query_as::<_, (i64,)>("SELECT created_at FROM quizzes WHERE id = $1")
        .bind(&path.1)
        .fetch_one(ctx.db.pool())
        .await?
        .0;
    Ok(Json(QuizSummary {
        id: path.1,
        title,
        questions: quiz.questions.len(),
        max: quiz.max(),
        created_at,
        editable: true,
    }))
}

/// The organisation's quizzes; its staff.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/quizzes", tag = "quizzes",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<QuizSummary>), (status = 403, body = Problem)))]
async fn list(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
) -> ApiResult<Json<Vec<QuizSummary>>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, title, quiz, created_at FROM quizzes WHERE organisation_id = $1 ORDER BY created_at DESC LIMIT 1000",
    )
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    let openings: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT o.quiz_id, o.opens_at, o.closes_at, s.timezone FROM quiz_openings o \
         JOIN training_sessions s ON s.id = o.session_id WHERE s.organisation_id = $1",
    )
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    let now = ctx.now_ms();
    let mut out = Vec::new();
    for (id, title, quiz, created_at) in rows {
        let quiz: Quiz = serde_json::from_str(&quiz)?;
        let editable = !openings.iter().any(|(q, opens, closes, zone)| {
            q == &id
                && window(Zone::parse(zone).unwrap_or(Zone::Paris), opens, closes, now)
                    != "upcoming"
        });
        out.push(QuizSummary {
            id,
            title,
            questions: quiz.questions.len(),
            max: quiz.max(),
            created_at,
            editable,
        });
    }
    Ok(Json(out))
}

/// A quiz with its answers; the organisation's staff.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/quizzes/{quiz}", tag = "quizzes",
    params(("id" = String, Path), ("quiz" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_quiz(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<Quiz>> {
    Ok(Json(load(&ctx, &access.tenant.id, &path.1).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    pub quiz_id: String,
    /// Wall-clock times in the session's time zone, `YYYY-MM-DDTHH:MM`.
    pub opens_at: String,
    pub closes_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionQuiz {
    /// The opening's id.
    pub id: String,
    pub quiz_id: String,
    pub title: String,
    pub opens_at: String,
    pub closes_at: String,
    /// `upcoming`, `open` or `closed`.
    pub state: String,
    pub max: u32,
    /// For a trainee: the questions without their answers while it is open.
    #[schema(value_type = Option<Object>)]
    pub questions: Option<Value>,
    /// For a trainee: their result, once submitted.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Grade>,
    /// For staff: how many trainees answered.
    pub submissions: Option<i64>,
}

fn window(zone: Zone, opens: &str, closes: &str, now: i64) -> &'static str {
    let at = |t: &str| LocalTime::parse(t).map(|t| zone.instant(t) * 1000);
    match (at(opens), at(closes)) {
        (Some(o), _) if now < o => "upcoming",
        (_, Some(c)) if now < c => "open",
        _ => "closed",
    }
}

fn zone_of(access: &SessionAccess) -> Zone {
    Zone::parse(&access.session.timezone).unwrap_or(Zone::Paris)
}

/// Opens a quiz of the organisation to the session for a time window; its trainers and
/// managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/quizzes", tag = "quizzes", request_body = Opening,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = SessionQuiz), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn open(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Json(input): Json<Opening>,
) -> ApiResult<(StatusCode, Json<SessionQuiz>)> {
    let org = &access.org.tenant.id;
    let quiz = load(&ctx, org, &input.quiz_id)
        .await
        .map_err(|_| ApiError::invalid_field("quiz_id", "no such quiz in this organisation"))?;
    let time = |field: &str, value: &str| {
        LocalTime::parse(value)
            .ok_or_else(|| ApiError::invalid_field(field, "a date and time, YYYY-MM-DDTHH:MM"))
    };
    let (opens, closes) = (
        time("opens_at", &input.opens_at)?,
        time("closes_at", &input.closes_at)?,
    );
    if opens.minutes_until(&closes) <= 0 {
        return Err(ApiError::invalid_field("closes_at", "after the opening"));
    }
    let id = format!("qop_{}", random_token(16));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO quiz_openings (id, quiz_id, session_id, opens_at, closes_at, opened_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&input.quiz_id)
    .bind(&access.session.id)
    .bind(opens.to_string())
    .bind(closes.to_string())
    .bind(access.org.principal.account_id.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    access
        .audit(&mut tx, now, "quiz.opened", Some(&id), json!({ "quiz": input.quiz_id, "opens_at": opens.to_string(), "closes_at": closes.to_string() }))
        .await?;
    // Its trainees hear of it.
    let trainees: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT a.id, a.email, a.display_name FROM session_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.session_id = $1 AND m.role = 'trainee' AND a.email_verified_at IS NOT NULL",
    )
    .bind(&access.session.id)
    .fetch_all(&mut *tx)
    .await?;
    let spoken = |t: &LocalTime| {
        let t = t.to_string();
        format!("{} {}", &t[..10], t.get(11..16).unwrap_or_default())
    };
    crate::notices::mail_people(
        &mut tx,
        &ctx,
        trainees,
        ("quiz_opened", "quiz"),
        &[
            ("title", quiz.title.trim()),
            ("session", &access.session.title),
            ("opens", &spoken(&opens)),
            ("closes", &spoken(&closes)),
        ],
        &format!(
            "{}/orgs/{org}/sessions/{}/quizzes",
            ctx.config.public_url, access.session.id
        ),
    )
    .await?;
    tx.commit().await?;
    let (opens_at, closes_at) = (opens.to_string(), closes.to_string());
    Ok((
        StatusCode::CREATED,
        Json(SessionQuiz {
            state: window(zone_of(&access), &opens_at, &closes_at, now).to_owned(),
            id,
            quiz_id: input.quiz_id,
            title: quiz.title.trim().to_owned(),
            opens_at,
            closes_at,
            max: quiz.max(),
            questions: None,
            result: None,
            submissions: Some(0),
        }),
    ))
}

type OpeningRow = (String, String, String, String, String);

/// The quizzes opened to a session, or the one opening `only`.
async fn openings(
    ctx: &Ctx,
    session: &str,
    only: Option<&str>,
) -> ApiResult<Vec<(OpeningRow, Quiz)>> {
    let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT o.id, o.quiz_id, q.title, o.opens_at, o.closes_at, q.quiz FROM quiz_openings o JOIN quizzes q ON q.id = o.quiz_id \
         WHERE o.session_id = $1 AND ($2 IS NULL OR o.id = $2) ORDER BY o.opens_at, o.id LIMIT 1000",
    )
    .bind(session)
    .bind(only)
    .fetch_all(ctx.db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, quiz_id, title, opens, closes, quiz)| {
            Ok((
                (id, quiz_id, title, opens, closes),
                serde_json::from_str(&quiz)?,
            ))
        })
        .collect()
}

/// The session's quizzes: for staff with the number of answers, for a trainee with the
/// questions while open (without their answers) and their own result.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/quizzes", tag = "quizzes",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = Vec<SessionQuiz>), (status = 403, body = Problem)))]
async fn session_quizzes(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
) -> ApiResult<Json<Vec<SessionQuiz>>> {
    let staff = access.is_staff();
    let now = ctx.now_ms();
    let me = access.org.principal.account_id.as_str();
    let mut out = Vec::new();
    for ((id, quiz_id, title, opens_at, closes_at), quiz) in
        openings(&ctx, &access.session.id, None).await?
    {
        let state = window(zone_of(&access), &opens_at, &closes_at, now);
        let (questions, result, submissions) = if staff {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM quiz_submissions WHERE opening_id = $1")
                    .bind(&id)
                    .fetch_one(ctx.db.pool())
                    .await?;
            (None, None, Some(n))
        } else {
            let mine: Option<(String,)> = sqlx::query_as(
                "SELECT grade FROM quiz_submissions WHERE opening_id = $1 AND trainee_id = $2",
            )
            .bind(&id)
            .bind(me)
            .fetch_optional(ctx.db.pool())
            .await?;
            let result = mine.map(|(g,)| serde_json::from_str(&g)).transpose()?;
            let questions = (state == "open" && result.is_none()).then(|| quiz.for_candidates());
            (questions, result, None)
        };
        out.push(SessionQuiz {
            max: quiz.max(),
            state: state.to_owned(),
            id,
            quiz_id,
            title,
            opens_at,
            closes_at,
            questions,
            result,
            submissions,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// By question id: an option index, a set of indexes, or a text.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Answer>,
}

async fn opening(ctx: &Ctx, session: &str, id: &str) -> ApiResult<(OpeningRow, Quiz)> {
    openings(ctx, session, Some(id))
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// A trainee answers a quiz, once, while it is open; the result comes back (short answers may
/// wait for a trainer).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/quizzes/{opening}/answers", tag = "quizzes", request_body = Answers,
    params(("id" = String, Path), ("sid" = String, Path), ("opening" = String, Path)),
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn answer(
    State(ctx): State<Ctx>,
    SessionTrainee(access): SessionTrainee,
    Path(path): Path<(String, String, String)>,
    Json(input): Json<Answers>,
) -> ApiResult<(StatusCode, Json<Grade>)> {
    let ((id, _, _, opens_at, closes_at), quiz) =
        opening(&ctx, &access.session.id, &path.2).await?;
    let now = ctx.now_ms();
    match window(zone_of(&access), &opens_at, &closes_at, now) {
        "open" => {}
        "upcoming" => return Err(ApiError::Conflict("this quiz is not open yet".into())),
        _ => return Err(ApiError::Conflict("this quiz is closed".into())),
    }
    let grade = quiz
        .grade(&input.answers)
        .map_err(|e| ApiError::invalid_field("answers", e.to_string()))?;
    let me = access.org.principal.account_id.as_str();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO quiz_submissions (opening_id, trainee_id, answers, grade, score, submitted_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (opening_id, trainee_id) DO NOTHING",
    )
    .bind(&id)
    .bind(me)
    .bind(serde_json::to_string(&input.answers)?)
    .bind(serde_json::to_string(&grade)?)
    .bind(i64::from(grade.score))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict("this quiz was answered already".into()));
    }
    access
        .audit(
            &mut tx,
            now,
            "quiz.answered",
            Some(&id),
            json!({ "score": grade.score, "pending": grade.pending }),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(grade)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraineeResult {
    pub trainee_id: String,
    pub display_name: String,
    pub submitted_at: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub grade: Option<Grade>,
}

/// Every trainee's result (those who did not answer too); the session's trainers and managers.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/quizzes/{opening}/results", tag = "quizzes",
    params(("id" = String, Path), ("sid" = String, Path), ("opening" = String, Path)),
    responses((status = 200, body = Vec<TraineeResult>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn results(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<Json<Vec<TraineeResult>>> {
    let ((id, ..), _) = opening(&ctx, &access.session.id, &path.2).await?;
    type Row = (String, String, Option<i64>, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.display_name, s.submitted_at, s.answers, s.grade FROM session_members m \
         JOIN accounts a ON a.id = m.account_id \
         LEFT JOIN quiz_submissions s ON s.opening_id = $1 AND s.trainee_id = m.account_id \
         WHERE m.session_id = $2 AND m.role = 'trainee' ORDER BY a.display_name, a.id LIMIT 10000",
    )
    .bind(&id)
    .bind(&access.session.id)
    .fetch_all(ctx.db.pool())
    .await?;
    let mut out = Vec::new();
    for (trainee_id, display_name, submitted_at, answers, grade) in rows {
        out.push(TraineeResult {
            trainee_id,
            display_name,
            submitted_at,
            answers: answers.map(|a| serde_json::from_str(&a)).transpose()?,
            grade: grade.map(|g| serde_json::from_str(&g)).transpose()?,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandGrades {
    /// Points by question id (short answers only).
    pub points: BTreeMap<String, u32>,
}

/// Grades a trainee's short answers by hand; the session's trainers and managers, never their
/// own answers. Audited.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/quizzes/{opening}/results/{trainee}/grades", tag = "quizzes", request_body = HandGrades,
    params(("id" = String, Path), ("sid" = String, Path), ("opening" = String, Path), ("trainee" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn grade_by_hand(
    State(ctx): State<Ctx>,
    SessionStaff(access): SessionStaff,
    Path(path): Path<(String, String, String, String)>,
    Json(input): Json<HandGrades>,
) -> ApiResult<Json<Grade>> {
    let trainee = path.3;
    crate::sessions::not_oneself(&access.org, &trainee, "trainee")?;
    let ((id, ..), quiz) = opening(&ctx, &access.session.id, &path.2).await?;
    let (grade,): (String,) = sqlx::query_as(
        "SELECT grade FROM quiz_submissions WHERE opening_id = $1 AND trainee_id = $2",
    )
    .bind(&id)
    .bind(&trainee)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let grade: Grade = serde_json::from_str(&grade)?;
    let graded = quiz.grade_by_hand(&grade, &input.points).map_err(invalid)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE quiz_submissions SET grade = $1, score = $2, graded_by = $3, graded_at = $4 WHERE opening_id = $5 AND trainee_id = $6",
    )
    .bind(serde_json::to_string(&graded)?)
    .bind(i64::from(graded.score))
    .bind(access.org.principal.account_id.as_str())
    .bind(now)
    .bind(&id)
    .bind(&trainee)
    .execute(&mut *tx)
    .await?;
    access
        .audit(
            &mut tx,
            now,
            "quiz.graded",
            Some(&id),
            json!({ "trainee": trainee, "score": graded.score, "points": input.points }),
        )
        .await?;
    tx.commit().await?;
    Ok(Json(graded))
}

/// A trainee's result of a quiz opened to a session, as an evaluation's evidence: the claim
/// `{"quiz": {"title", "score", "max"}}`. `None` when there is no such submission.
pub async fn evidence(
    ctx: &Ctx,
    session: &str,
    opening: &str,
    trainee: &str,
) -> ApiResult<Option<Value>> {
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT q.title, s.grade FROM quiz_submissions s JOIN quiz_openings o ON o.id = s.opening_id \
         JOIN quizzes q ON q.id = o.quiz_id WHERE s.opening_id = $1 AND o.session_id = $2 AND s.trainee_id = $3",
    )
    .bind(opening)
    .bind(session)
    .bind(trainee)
    .fetch_optional(ctx.db.pool())
    .await?;
    let Some((title, grade)) = found else {
        return Ok(None);
    };
    let grade: Grade = serde_json::from_str(&grade)?;
    Ok(Some(json!({
        "quiz": { "title": title, "score": grade.score, "max": grade.max, "pending": grade.pending }
    })))
}
