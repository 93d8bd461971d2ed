//! Recruiters' quizzes: written with carnet-core's quiz model, sent with an offer or alone to
//! chosen profiles, answered once by each candidate through their wallet (holder proof),
//! graded deterministically (short answers without an accepted answer wait for a recruiter),
//! and shown with the answers to the company's recruiters. No one is rejected automatically.

use crate::VerifierState;
use crate::directory::ProvenHolder;
use crate::search::Recruiter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_core::quiz::{Answer, Grade, Quiz};
use carnet_service::audit::{self, Actor};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::{looks_like_id, random_token};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_quiz))
        .routes(routes!(send))
        .routes(routes!(grade_by_hand))
        .routes(routes!(holder_quizzes))
        .routes(routes!(holder_answer))
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
    pub sent: i64,
    pub answered: i64,
    pub created_at: i64,
}

/// Writes a quiz (single choice, multiple choice, short answer questions with points).
#[utoipa::path(post, path = "/api/v1/companies/{id}/quizzes", tag = "quizzes", request_body = Object,
    params(("id" = String, Path)),
    responses((status = 201, body = QuizSummary), (status = 422, body = Problem)))]
async fn create(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Json(quiz): Json<Quiz>,
) -> ApiResult<(StatusCode, Json<QuizSummary>)> {
    quiz.check().map_err(invalid)?;
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let id = format!("qui_{}", random_token(16));
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO quizzes (id, company_id, title, quiz, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&access.tenant.id)
    .bind(quiz.title.trim())
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
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(QuizSummary {
            id,
            title: quiz.title.trim().to_owned(),
            questions: quiz.questions.len(),
            max: quiz.max(),
            sent: 0,
            answered: 0,
            created_at: now,
        }),
    ))
}

async fn load(state: &VerifierState, company: &str, quiz: &str) -> ApiResult<Quiz> {
    let (text,): (String,) =
        sqlx::query_as("SELECT quiz FROM quizzes WHERE id = $1 AND company_id = $2")
            .bind(quiz)
            .bind(company)
            .fetch_optional(state.ctx.db.pool())
            .await?
            .ok_or(ApiError::NotFound)?;
    Ok(serde_json::from_str(&text)?)
}

/// The company's quizzes.
#[utoipa::path(get, path = "/api/v1/companies/{id}/quizzes", tag = "quizzes",
    params(("id" = String, Path)), responses((status = 200, body = Vec<QuizSummary>)))]
async fn list(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
) -> ApiResult<Json<Vec<QuizSummary>>> {
    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT q.id, q.title, q.quiz, q.created_at, \
         (SELECT COUNT(*) FROM quiz_assignments a WHERE a.quiz_id = q.id), \
         (SELECT COUNT(*) FROM quiz_assignments a WHERE a.quiz_id = q.id AND a.answered_at IS NOT NULL) \
         FROM quizzes q WHERE q.company_id = $1 ORDER BY q.created_at DESC, q.id LIMIT 500",
    )
    .bind(&access.tenant.id)
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, title, quiz, created_at, sent, answered)| {
                let quiz: Option<Quiz> = serde_json::from_str(&quiz).ok();
                QuizSummary {
                    id,
                    title,
                    questions: quiz.as_ref().map_or(0, |q| q.questions.len()),
                    max: quiz.as_ref().map_or(0, Quiz::max),
                    sent,
                    answered,
                    created_at,
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuizResult {
    pub assignment_id: String,
    pub profile_id: String,
    pub name: String,
    pub offer_id: Option<String>,
    pub sent_at: i64,
    pub answered_at: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub grade: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuizResults {
    pub id: String,
    #[schema(value_type = Object)]
    pub quiz: Value,
    pub results: Vec<QuizResult>,
}

/// A quiz with every candidate's answers and grade.
#[utoipa::path(get, path = "/api/v1/companies/{id}/quizzes/{quiz}", tag = "quizzes",
    params(("id" = String, Path), ("quiz" = String, Path)),
    responses((status = 200, body = QuizResults), (status = 404, body = Problem)))]
async fn get_quiz(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<QuizResults>> {
    let quiz = load(&state, &access.tenant.id, &path.1).await?;
    type Row = (
        String,
        String,
        String,
        Option<String>,
        i64,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.profile_id, p.name, a.offer_id, a.sent_at, a.answered_at, a.answers, a.grade FROM quiz_assignments a \
         JOIN profiles p ON p.id = a.profile_id WHERE a.quiz_id = $1 ORDER BY a.score DESC, p.name, a.id LIMIT 10000",
    )
    .bind(&path.1)
    .fetch_all(state.ctx.db.pool())
    .await?;
    let parse = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok());
    Ok(Json(QuizResults {
        id: path.1.clone(),
        quiz: serde_json::to_value(&quiz)?,
        results: rows
            .into_iter()
            .map(|r| QuizResult {
                assignment_id: r.0,
                profile_id: r.1,
                name: r.2,
                offer_id: r.3,
                sent_at: r.4,
                answered_at: r.5,
                answers: parse(r.6),
                grade: parse(r.7),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendQuiz {
    pub profiles: Vec<String>,
}

/// Sends the quiz to these profiles (again to the same profile: nothing new).
pub async fn assign(
    conn: &mut sqlx::AnyConnection,
    quiz: &str,
    company: &str,
    profiles: &[String],
    offer: Option<&str>,
    now: i64,
) -> ApiResult<u64> {
    let mut sent = 0;
    for profile in profiles {
        let added = sqlx::query(
            "INSERT INTO quiz_assignments (id, quiz_id, company_id, profile_id, offer_id, sent_at) \
             SELECT $1, $2, $3, p.id, $4, $5 FROM profiles p WHERE p.id = $6 ON CONFLICT (quiz_id, profile_id) DO NOTHING",
        )
        .bind(format!("qas_{}", random_token(16)))
        .bind(quiz)
        .bind(company)
        .bind(offer)
        .bind(now)
        .bind(profile)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        // With an offer, its notice says it all; alone, the quiz is news of its own.
        if added > 0 && offer.is_none() {
            let (title,): (String,) = sqlx::query_as("SELECT title FROM quizzes WHERE id = $1")
                .bind(quiz)
                .fetch_one(&mut *conn)
                .await?;
            crate::notices::to_candidate(
                conn,
                now,
                profile,
                company,
                json!({ "kind": "quiz", "title": title }),
            )
            .await?;
        }
        sent += added;
    }
    Ok(sent)
}

/// Sends a quiz alone to chosen profiles.
#[utoipa::path(post, path = "/api/v1/companies/{id}/quizzes/{quiz}/send", tag = "quizzes", request_body = SendQuiz,
    params(("id" = String, Path), ("quiz" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn send(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String)>,
    Json(input): Json<SendQuiz>,
) -> ApiResult<Json<Value>> {
    load(&state, &access.tenant.id, &path.1).await?;
    if input.profiles.is_empty() || input.profiles.len() > crate::offers::MAX_RECIPIENTS {
        return Err(ApiError::invalid_field("profiles", "1 to 10000 profiles"));
    }
    if input.profiles.iter().any(|p| !looks_like_id(p)) {
        return Err(ApiError::invalid_field("profiles", "not a profile id"));
    }
    let now = state.ctx.now_ms();
    let mut tx = state.ctx.db.begin().await?;
    let sent = assign(
        &mut tx,
        &path.1,
        &access.tenant.id,
        &input.profiles,
        None,
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "quiz.sent",
        Some(&path.1),
        Some(&access.tenant.id),
        json!({ "profiles": sent }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({ "sent": sent })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandGrades {
    /// Points per short-answer question.
    #[schema(value_type = Object)]
    pub points: BTreeMap<String, u32>,
}

/// Grades short answers by hand.
#[utoipa::path(post, path = "/api/v1/companies/{id}/quizzes/{quiz}/assignments/{assignment}/grades", tag = "quizzes", request_body = HandGrades,
    params(("id" = String, Path), ("quiz" = String, Path), ("assignment" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn grade_by_hand(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String, String)>,
    Json(input): Json<HandGrades>,
) -> ApiResult<Json<Grade>> {
    let (_, quiz_id, assignment) = path;
    let quiz = load(&state, &access.tenant.id, &quiz_id).await?;
    let (grade,): (Option<String>,) =
        sqlx::query_as("SELECT grade FROM quiz_assignments WHERE id = $1 AND quiz_id = $2")
            .bind(&assignment)
            .bind(&quiz_id)
            .fetch_optional(state.ctx.db.pool())
            .await?
            .ok_or(ApiError::NotFound)?;
    let grade: Grade =
        serde_json::from_str(&grade.ok_or_else(|| ApiError::Conflict("not answered yet".into()))?)?;
    let graded = quiz.grade_by_hand(&grade, &input.points).map_err(invalid)?;
    let now = state.ctx.now_ms();
    let mut tx = state.ctx.db.begin().await?;
    sqlx::query("UPDATE quiz_assignments SET grade = $1, score = $2 WHERE id = $3")
        .bind(serde_json::to_string(&graded)?)
        .bind(i64::from(graded.score))
        .bind(&assignment)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "quiz.graded",
        Some(&assignment),
        Some(&access.tenant.id),
        json!({ "score": graded.score }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(graded))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolderQuiz {
    pub id: String,
    pub company: String,
    pub offer_id: Option<String>,
    /// The questions, without their answers.
    #[schema(value_type = Object)]
    pub quiz: Value,
    pub sent_at: i64,
    pub answered_at: Option<i64>,
}

/// The quizzes sent to the holder (holder proof).
#[utoipa::path(get, path = "/api/v1/directory/quizzes", tag = "directory",
    params(("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 200, body = Vec<HolderQuiz>), (status = 401, body = Problem)))]
async fn holder_quizzes(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
) -> ApiResult<Json<Vec<HolderQuiz>>> {
    type Row = (String, String, Option<String>, String, i64, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, t.name, a.offer_id, q.quiz, a.sent_at, a.answered_at FROM quiz_assignments a \
         JOIN quizzes q ON q.id = a.quiz_id JOIN tenants t ON t.id = a.company_id \
         WHERE a.profile_id = $1 ORDER BY a.sent_at DESC, a.id LIMIT 1000",
    )
    .bind(&holder.profile_id)
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(|(id, company, offer_id, quiz, sent_at, answered_at)| {
                let quiz: Quiz = serde_json::from_str(&quiz).ok()?;
                Some(HolderQuiz {
                    id,
                    company,
                    offer_id,
                    quiz: quiz.for_candidates(),
                    sent_at,
                    answered_at,
                })
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// By question id: an option number, a list of option numbers, or a text.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Answer>,
}

/// Answers a quiz, once (holder proof).
#[utoipa::path(post, path = "/api/v1/directory/quizzes/{assignment}/answers", tag = "directory", request_body = Answers,
    params(("assignment" = String, Path), ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn holder_answer(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(assignment): Path<String>,
    Json(input): Json<Answers>,
) -> ApiResult<StatusCode> {
    let ctx = &state.ctx;
    let (quiz, answered): (String, Option<i64>) = sqlx::query_as(
        "SELECT q.quiz, a.answered_at FROM quiz_assignments a JOIN quizzes q ON q.id = a.quiz_id WHERE a.id = $1 AND a.profile_id = $2",
    )
    .bind(&assignment)
    .bind(&holder.profile_id)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    if answered.is_some() {
        return Err(ApiError::Conflict("this quiz was answered already".into()));
    }
    let quiz: Quiz = serde_json::from_str(&quiz)?;
    let grade = quiz
        .grade(&input.answers)
        .map_err(|e| ApiError::invalid_field("answers", e.to_string()))?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query(
        "UPDATE quiz_assignments SET answered_at = $1, answers = $2, grade = $3, score = $4 WHERE id = $5 AND answered_at IS NULL",
    )
    .bind(now)
    .bind(serde_json::to_string(&input.answers)?)
    .bind(serde_json::to_string(&grade)?)
    .bind(i64::from(grade.score))
    .bind(&assignment)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict("this quiz was answered already".into()));
    }
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "quiz.answered",
        Some(&assignment),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
