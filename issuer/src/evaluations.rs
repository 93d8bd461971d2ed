//! Evaluations: a trainer or manager of a session assesses a trainee on a competency, at a
//! level of the competency's scale. Never edited: a correction is a new evaluation that
//! supersedes the old one; the history keeps both. A validated evaluation creates the
//! trainee's competency credential offer in the same transaction.

use crate::IssuerState;
use crate::catalog::{self, competency_claim, text};
use crate::offers::{self, OfferLink};
use crate::quizzes;
use crate::sessions::{self, SessionAccess, SessionStaff, StaffReach, date};
use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::levels::{Assessment, Level};
use carnet_service::audit;
use carnet_service::auth::Principal;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::id::random_token;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(evaluate))
        .routes(routes!(evaluate_bulk))
        .routes(routes!(organisation_history))
        .routes(routes!(my_history))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    pub trainee_id: String,
    pub competency_id: String,
    /// A label of the scale (`"argent"`) or a score (`80`).
    #[schema(value_type = Object)]
    pub assessment: Assessment,
    #[serde(default)]
    pub comment: String,
    /// A link to the evidence (a quiz result, a video…).
    #[serde(default)]
    pub evidence_url: Option<String>,
    /// An uploaded file of the organisation as evidence (a photo of the weld, a report…).
    #[serde(default)]
    pub evidence_resource_id: Option<String>,
    /// A quiz opened to the session that the trainee answered: its result is the evidence, and
    /// the credential says so (`evidence.quiz`: title, score, out of).
    #[serde(default)]
    pub evidence_quiz_id: Option<String>,
    /// `YYYY-MM-DD`; today by default.
    #[serde(default)]
    pub assessed_on: Option<String>,
    /// The evaluation this one corrects.
    #[serde(default)]
    pub supersedes: Option<String>,
    /// Protect the credential offer with a 6-digit PIN (default true).
    #[serde(default)]
    pub pin: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Evaluation {
    pub id: String,
    pub organisation_id: String,
    pub session_id: String,
    pub trainee_id: String,
    pub competency_id: String,
    pub evaluator_id: String,
    pub evaluator_role: String,
    pub validated: i64,
    pub level_label: String,
    pub level_rank: i64,
    /// The normalised level in [0, 1], as text (portable storage of a decimal).
    pub level_value: String,
    pub comment: String,
    pub evidence_url: Option<String>,
    pub evidence_resource_id: Option<String>,
    pub evidence_quiz_id: Option<String>,
    pub assessed_on: String,
    pub supersedes: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluated {
    pub evaluation: Evaluation,
    /// Who was evaluated and on what, as the credential names them.
    pub trainee_name: String,
    pub competency_name: String,
    /// For a validated evaluation: the credential offer to show the trainee (QR code).
    pub offer: Option<OfferLink>,
}

/// Records an evaluation; trainers and managers of the session.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/evaluations", tag = "evaluations",
    request_body = NewEvaluation, params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = Evaluated), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn evaluate(
    State(state): State<IssuerState>,
    SessionStaff(access): SessionStaff,
    Json(input): Json<NewEvaluation>,
) -> ApiResult<(StatusCode, Json<Evaluated>)> {
    Ok((
        StatusCode::CREATED,
        Json(record(&state, &access, input).await?),
    ))
}

/// Records one evaluation (and its offer when validated) in its own transaction.
async fn record(
    state: &IssuerState,
    access: &SessionAccess,
    input: NewEvaluation,
) -> ApiResult<Evaluated> {
    let ctx = &state.ctx;
    let org = &access.org.tenant.id;
    let session = &access.session;
    sessions::not_oneself(&access.org, &input.trainee_id, "trainee_id")?;
    if !sessions::is_trainee(ctx, &session.id, &input.trainee_id).await? {
        return Err(ApiError::invalid_field(
            "trainee_id",
            "not a trainee of this session",
        ));
    }
    let competency = catalog::competency(ctx, org, &input.competency_id)
        .await
        .map_err(|_| {
            ApiError::invalid_field("competency_id", "no such competency in this organisation")
        })?;
    // An archived competency keeps its history, corrections included, and takes no new one.
    if competency.archived_at.is_some() && input.supersedes.is_none() {
        return Err(ApiError::invalid_field(
            "competency_id",
            "this competency is archived",
        ));
    }
    let scale = catalog::scale(ctx, org, &competency.scale_id).await?;
    let level: Level = scale
        .scale
        .assess(&input.assessment)
        .map_err(|e| ApiError::invalid_field("assessment", e.to_string()))?;
    let comment = if input.comment.trim().is_empty() {
        String::new()
    } else {
        text("comment", &input.comment, 4000)?
    };
    let evidence_url = match &input.evidence_url {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Some(text("evidence_url", url, 2000)?)
        }
        Some(_) => return Err(ApiError::invalid_field("evidence_url", "an http(s) URL")),
        None => None,
    };
    if let Some(resource) = &input.evidence_resource_id {
        let known: Option<(String,)> =
            sqlx::query_as("SELECT id FROM resources WHERE id = $1 AND organisation_id = $2")
                .bind(resource)
                .bind(org)
                .fetch_optional(ctx.db.pool())
                .await?;
        if known.is_none() {
            return Err(ApiError::invalid_field(
                "evidence_resource_id",
                "no such resource in this organisation",
            ));
        }
    }
    let quiz_evidence = match &input.evidence_quiz_id {
        None => None,
        Some(opening) => Some(
            quizzes::evidence(ctx, &session.id, opening, &input.trainee_id)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "evidence_quiz_id",
                        "no answer of this trainee to that quiz of the session",
                    )
                })?,
        ),
    };
    let now = ctx.now_ms();
    let assessed_on = match &input.assessed_on {
        Some(d) => date("assessed_on", d)?,
        None => carnet_service::clock::date_of(now),
    };
    if let Some(old) = &input.supersedes {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM evaluations WHERE id = $1 AND organisation_id = $2 AND trainee_id = $3 AND competency_id = $4",
        )
        .bind(old)
        .bind(org)
        .bind(&input.trainee_id)
        .bind(&competency.id)
        .fetch_optional(ctx.db.pool())
        .await?;
        if found.is_none() {
            return Err(ApiError::invalid_field(
                "supersedes",
                "no evaluation of this trainee on this competency",
            ));
        }
    }
    let role = if access.roles.iter().any(|r| r == "trainer") {
        "trainer"
    } else {
        "manager"
    };
    let evaluation = Evaluation {
        id: format!("evl_{}", random_token(16)),
        organisation_id: org.clone(),
        session_id: session.id.clone(),
        trainee_id: input.trainee_id.clone(),
        competency_id: competency.id.clone(),
        evaluator_id: access.org.principal.account_id.0.clone(),
        evaluator_role: role.to_owned(),
        validated: level.validated as i64,
        level_label: level.label.clone(),
        level_rank: i64::from(level.rank),
        level_value: format!("{:.4}", level.value),
        comment,
        evidence_url,
        evidence_resource_id: input.evidence_resource_id.clone(),
        evidence_quiz_id: input.evidence_quiz_id.clone(),
        assessed_on,
        supersedes: input.supersedes.clone(),
        created_at: now,
    };
    let (trainee_name,): (String,) =
        sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
            .bind(&input.trainee_id)
            .fetch_one(ctx.db.pool())
            .await?;

    let mut tx = ctx.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO evaluations (id, organisation_id, session_id, trainee_id, competency_id, evaluator_id, evaluator_role, \
         validated, level_label, level_rank, level_value, score, comment, evidence_url, assessed_on, supersedes, created_at, \
         evidence_resource_id, evidence_quiz_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&evaluation.id)
    .bind(org)
    .bind(&session.id)
    .bind(&evaluation.trainee_id)
    .bind(&competency.id)
    .bind(&evaluation.evaluator_id)
    .bind(role)
    .bind(evaluation.validated)
    .bind(&evaluation.level_label)
    .bind(evaluation.level_rank)
    .bind(&evaluation.level_value)
    .bind(match input.assessment { Assessment::Score(s) => Some(i64::from(s)), Assessment::Label(_) => None })
    .bind(&evaluation.comment)
    .bind(&evaluation.evidence_url)
    .bind(&evaluation.assessed_on)
    .bind(&evaluation.supersedes)
    .bind(now)
    .bind(&evaluation.evidence_resource_id)
    .bind(&evaluation.evidence_quiz_id)
    .execute(&mut *tx)
    .await;
    if let Err(sqlx::Error::Database(e)) = &inserted
        && e.is_unique_violation()
    {
        return Err(ApiError::Conflict(
            "that evaluation is already superseded".into(),
        ));
    }
    inserted?;
    audit::record(
        &mut tx,
        now,
        &access.org.actor(),
        "evaluation.created",
        Some(&evaluation.id),
        Some(org),
        json!({
            "trainee": evaluation.trainee_id, "competency": competency.code, "level": level.label,
            "validated": level.validated, "supersedes": evaluation.supersedes,
        }),
    )
    .await?;
    let offer = if level.validated {
        let mut claims = json!({
            "name": trainee_name,
            "competency": competency_claim(&competency),
            "level": { "scale": scale.name, "label": level.label, "rank": level.rank, "value": level.value },
            "validated_on": evaluation.assessed_on,
            "evaluator": { "name": access.org.principal.display_name, "role": role },
            "establishment": { "name": access.org.tenant.name, "siret": access.org.tenant.siret },
            "session": { "id": session.id, "title": session.title, "starts_on": session.starts_on, "ends_on": session.ends_on },
            "evaluation_id": evaluation.id,
        });
        if let Some(evidence) = quiz_evidence {
            claims["evidence"] = evidence;
        }
        let link = offers::create(
            &mut tx,
            state,
            org,
            &evaluation.trainee_id,
            offers::COMPETENCY,
            &claims,
            Some(&evaluation.id),
            input.pin.unwrap_or(true),
            &access.org.actor(),
        )
        .await?;
        Some(link)
    } else {
        None
    };
    tx.commit().await?;
    Ok(Evaluated {
        evaluation,
        trainee_name,
        competency_name: competency.name.clone(),
        offer,
    })
}

/// Rows of a bulk evaluation, at most this many.
const MAX_BULK_ROWS: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkEvaluation {
    pub competency_id: String,
    /// One row per trainee; or none, with `whole_session`.
    #[serde(default)]
    pub rows: Vec<BulkRow>,
    /// The same assessment for every trainee of the session (instead of `rows`).
    #[serde(default)]
    pub whole_session: Option<WholeSession>,
    /// Protect each offer with a PIN (default true).
    #[serde(default)]
    pub pin: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WholeSession {
    #[schema(value_type = Object)]
    pub assessment: Assessment,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRow {
    /// The trainee's e-mail address.
    pub email: String,
    #[schema(value_type = Object)]
    pub assessment: Assessment,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// 1-based, as in the upload (a CSV's header is row 0).
    pub row: usize,
    pub email: String,
    /// `created` or `error`.
    pub outcome: &'static str,
    pub evaluation_id: Option<String>,
    pub offer: Option<OfferLink>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReport {
    pub created: usize,
    pub failed: usize,
    pub offers: usize,
    pub results: Vec<BulkResult>,
}

/// Evaluates many trainees of the session on one competency at once — a JSON body, or a CSV
/// upload (`text/csv`, columns `email,assessment[,comment]`, `competency_id` in the query) —
/// with a result per row. Each row stands alone: one bad row does not stop the others.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/evaluations/bulk", tag = "evaluations",
    request_body(content = BulkEvaluation, description = "JSON, or text/csv with ?competency_id="),
    params(("id" = String, Path), ("sid" = String, Path), BulkQuery),
    responses((status = 200, body = BulkReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn evaluate_bulk(
    State(state): State<IssuerState>,
    SessionStaff(access): SessionStaff,
    Query(q): Query<BulkQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<BulkReport>> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let input = if content_type.starts_with("text/csv") {
        let competency_id = q.competency_id.ok_or_else(|| {
            ApiError::invalid_field("competency_id", "give it in the query for a CSV upload")
        })?;
        BulkEvaluation {
            competency_id,
            rows: parse_csv(&body)?,
            whole_session: None,
            pin: q.pin,
        }
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice(&body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                ApiError::BadRequest {
                    kind: "invalid-json",
                    detail: e.to_string(),
                }
            } else {
                ApiError::invalid(e.to_string())
            }
        })?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "application/json or text/csv",
        ));
    };
    let mut input = input;
    if let Some(all) = input.whole_session.take() {
        if !input.rows.is_empty() {
            return Err(ApiError::invalid_field(
                "whole_session",
                "give rows or whole_session, not both",
            ));
        }
        let trainees: Vec<(String,)> = sqlx::query_as(
            "SELECT a.email FROM session_members m JOIN accounts a ON a.id = m.account_id \
             WHERE m.session_id = $1 AND m.role = 'trainee' ORDER BY a.email",
        )
        .bind(&access.session.id)
        .fetch_all(state.ctx.db.pool())
        .await?;
        input.rows = trainees
            .into_iter()
            .map(|(email,)| BulkRow {
                email,
                assessment: all.assessment.clone(),
                comment: all.comment.clone(),
            })
            .collect();
    }
    if input.rows.is_empty() || input.rows.len() > MAX_BULK_ROWS {
        return Err(ApiError::invalid_field(
            "rows",
            format!("1 to {MAX_BULK_ROWS} rows"),
        ));
    }
    let mut report = BulkReport {
        created: 0,
        failed: 0,
        offers: 0,
        results: Vec::with_capacity(input.rows.len()),
    };
    for (i, row) in input.rows.into_iter().enumerate() {
        let email = row.email.trim().to_lowercase();
        let outcome = bulk_row(&state, &access, &input.competency_id, input.pin, row).await;
        let result = match outcome {
            Ok(done) => {
                report.created += 1;
                report.offers += usize::from(done.offer.is_some());
                BulkResult {
                    row: i + 1,
                    email,
                    outcome: "created",
                    evaluation_id: Some(done.evaluation.id),
                    offer: done.offer,
                    error: None,
                }
            }
            Err(e) if e.status().is_client_error() => {
                report.failed += 1;
                BulkResult {
                    row: i + 1,
                    email,
                    outcome: "error",
                    evaluation_id: None,
                    offer: None,
                    error: Some(e.to_string()),
                }
            }
            Err(e) => return Err(e),
        };
        report.results.push(result);
    }
    Ok(Json(report))
}

/// One row of a bulk evaluation: everything that can fail for this row alone happens here, so
/// the caller reports it as the row's error. The row is checked before it meets the database
/// (an e-mail address with a NUL is refused by PostgreSQL's text but found by nobody on
/// SQLite: checked here, it is the same row error on both), and each row is recorded in its own
/// transaction, so a failed row leaves nothing behind and no other row depends on it.
async fn bulk_row(
    state: &IssuerState,
    access: &SessionAccess,
    competency_id: &str,
    pin: Option<bool>,
    row: BulkRow,
) -> ApiResult<Evaluated> {
    let email = carnet_service::auth::normalise_email(&row.email)?;
    let trainee: Option<(String,)> = sqlx::query_as(
        "SELECT a.id FROM accounts a JOIN session_members m ON m.account_id = a.id \
         WHERE a.email = $1 AND m.session_id = $2 AND m.role = 'trainee'",
    )
    .bind(&email)
    .bind(&access.session.id)
    .fetch_optional(state.ctx.db.pool())
    .await?;
    let (trainee_id,) = trainee.ok_or_else(|| {
        ApiError::invalid_field(
            "email",
            "no trainee of this session has this e-mail address",
        )
    })?;
    let one = NewEvaluation {
        trainee_id,
        competency_id: competency_id.to_owned(),
        assessment: row.assessment,
        comment: row.comment,
        evidence_url: None,
        evidence_resource_id: None,
        evidence_quiz_id: None,
        assessed_on: None,
        supersedes: None,
        pin,
    };
    record(state, access, one).await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct BulkQuery {
    /// For a CSV upload: the competency evaluated.
    competency_id: Option<String>,
    pin: Option<bool>,
}

/// `email,assessment[,comment]` with a header row; an assessment made of digits is a score.
/// Fields may be quoted (`"…"`, with `""` for a quote).
fn parse_csv(body: &[u8]) -> ApiResult<Vec<BulkRow>> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::invalid("the CSV is not UTF-8"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .ok_or_else(|| ApiError::invalid("the CSV is empty"))?;
    let header: Vec<String> = split_csv_line(header.trim_start_matches('\u{feff}'))
        .into_iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (email, assessment) = match (column("email"), column("assessment")) {
        (Some(e), Some(a)) => (e, a),
        _ => {
            return Err(ApiError::invalid(
                "the CSV header must name the columns email and assessment",
            ));
        }
    };
    let comment = column("comment");
    Ok(lines
        .map(|line| {
            let fields = split_csv_line(line);
            let field = |i: usize| {
                fields
                    .get(i)
                    .map(|f| f.trim().to_owned())
                    .unwrap_or_default()
            };
            let level = field(assessment);
            BulkRow {
                email: field(email),
                assessment: match level.parse::<u32>() {
                    Ok(score) => Assessment::Score(score),
                    Err(_) => Assessment::Label(level),
                },
                comment: comment.map(field).unwrap_or_default(),
            }
        })
        .collect())
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',' | ';', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    trainee_id: Option<String>,
}

const SELECT: &str = "SELECT id, organisation_id, session_id, trainee_id, competency_id, evaluator_id, evaluator_role, validated, \
    level_label, level_rank, level_value, comment, evidence_url, evidence_resource_id, evidence_quiz_id, assessed_on, supersedes, created_at FROM evaluations";

/// The organisation's evaluations, for its staff, optionally of one trainee (every evaluation,
/// validated or not, superseded ones included); a trainer reads those of the sessions they are
/// staff of.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/evaluations", tag = "evaluations",
    params(("id" = String, Path), HistoryQuery), responses((status = 200, body = Vec<Evaluation>)))]
async fn organisation_history(
    State(state): State<IssuerState>,
    reach: StaffReach,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Evaluation>>> {
    let (whole, me) = reach.binds();
    let rows = sqlx::query_as(&format!(
        "{SELECT} WHERE organisation_id = $1 AND ($2 IS NULL OR trainee_id = $2) AND {} ORDER BY created_at DESC, id LIMIT 10000",
        StaffReach::sessions("session_id", 3)
    ))
    .bind(&reach.0.tenant.id)
    .bind(q.trainee_id)
    .bind(whole)
    .bind(me)
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

/// The caller's own evaluations, in every organisation.
#[utoipa::path(get, path = "/api/v1/me/evaluations", tag = "evaluations", responses((status = 200, body = Vec<Evaluation>)))]
async fn my_history(
    State(state): State<IssuerState>,
    principal: Principal,
) -> ApiResult<Json<Vec<Evaluation>>> {
    let rows = sqlx::query_as(&format!(
        "{SELECT} WHERE trainee_id = $1 ORDER BY created_at DESC, id LIMIT 10000"
    ))
    .bind(principal.account_id.as_str())
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_rows() {
        let rows = super::parse_csv(
            "\u{feff}Email;Assessment;Comment\na@x.fr;argent;\"bien, net\"\n\nb@x.fr;72;\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].comment, "bien, net");
        assert_eq!(
            rows[1].assessment,
            carnet_core::levels::Assessment::Score(72)
        );
        assert!(super::parse_csv(b"mail,level\n").is_err());
        assert_eq!(super::split_csv_line("\"a \"\"b\"\"\",c"), ["a \"b\"", "c"]);
    }
}
