//! The centre's competency model: level scales and competencies (with framework codes such as
//! ROME, RNCP/RS or an ESCO URI). Both can be renamed and described again at any time — a
//! change reaches the credentials signed afterwards, never those already signed — and archived
//! (kept for the history, offered no more); what defines an assessment (a competency's code and
//! scale, a scale's levels) changes only while nothing was assessed with it, and only what was
//! never used can be deleted.

use crate::{IssuerState, Organisations};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_core::levels::LevelScale;
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::random_token;
use carnet_service::tenants::{Member, Staff};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(create_scale, list_scales))
        .routes(routes!(update_scale, delete_scale))
        .routes(routes!(create_competency, list_competencies))
        .routes(routes!(update_competency, delete_competency))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScale {
    pub name: String,
    /// `{"kind": "levels", "labels": ["bronze", "argent", "or"]}` or
    /// `{"kind": "score", "max": 100, "pass": 50}`.
    #[schema(value_type = Object)]
    pub scale: LevelScale,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Scale {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub scale: LevelScale,
    /// When it was archived: kept for the history, no longer offered for new competencies.
    pub archived_at: Option<i64>,
}

pub(crate) use carnet_service::extract::text;

/// Defines a level scale; organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/scales", tag = "competencies", request_body = NewScale,
    params(("id" = String, Path)), responses((status = 201, body = Scale), (status = 422, body = Problem)))]
async fn create_scale(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Json(input): Json<NewScale>,
) -> ApiResult<(StatusCode, Json<Scale>)> {
    let name = text("name", &input.name, 100)?;
    input
        .scale
        .check()
        .map_err(|e| ApiError::invalid_field("scale", e.to_string()))?;
    let id = format!("scl_{}", random_token(16));
    let (kind, levels, max, pass) = scale_columns(&input.scale);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO level_scales (id, organisation_id, name, kind, levels, max_score, pass_score, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&access.tenant.id)
    .bind(&name)
    .bind(kind)
    .bind(levels.to_string())
    .bind(max)
    .bind(pass)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "scale.created",
        Some(&id),
        Some(&access.tenant.id),
        json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Scale {
            id,
            name,
            scale: input.scale,
            archived_at: None,
        }),
    ))
}

type ScaleRow = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);
const SCALE_COLUMNS: &str = "id, name, kind, levels, max_score, pass_score, archived_at";

fn scale_of(row: ScaleRow) -> ApiResult<Scale> {
    let (id, name, kind, levels, max, pass, archived_at) = row;
    let scale = match kind.as_str() {
        "levels" => LevelScale::Levels {
            labels: serde_json::from_str(&levels)?,
        },
        _ => LevelScale::Score {
            max: max.unwrap_or(100) as u32,
            pass: pass.unwrap_or(50) as u32,
        },
    };
    Ok(Scale {
        id,
        name,
        scale,
        archived_at,
    })
}

/// One scale of an organisation.
pub async fn scale(ctx: &Ctx, org: &str, id: &str) -> ApiResult<Scale> {
    let row: ScaleRow = sqlx::query_as(&format!(
        "SELECT {SCALE_COLUMNS} FROM level_scales WHERE organisation_id = $1 AND id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    scale_of(row)
}

/// The organisation's level scales.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/scales", tag = "competencies",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Scale>)))]
async fn list_scales(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<Scale>>> {
    let rows: Vec<ScaleRow> = sqlx::query_as(&format!(
        "SELECT {SCALE_COLUMNS} FROM level_scales WHERE organisation_id = $1 ORDER BY name LIMIT 1000"
    ))
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter().map(scale_of).collect::<ApiResult<_>>()?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompetency {
    /// The centre's own code, unique in the organisation.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Framework codes, e.g. `{"rome": "H2913", "rncp": "RNCP35192", "esco": "http://data.europa.eu/esco/skill/…"}`.
    #[serde(default)]
    pub framework_codes: BTreeMap<String, String>,
    pub scale_id: String,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Competency {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub framework_codes: BTreeMap<String, String>,
    pub scale_id: String,
    /// When it was archived: kept for the history and the credentials signed, no longer
    /// offered for evaluation.
    pub archived_at: Option<i64>,
}

const FRAMEWORKS: [&str; 4] = ["rome", "rncp", "rs", "esco"];

/// Defines a competency assessed on one of the organisation's scales; organisation staff.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/competencies", tag = "competencies", request_body = NewCompetency,
    params(("id" = String, Path)), responses((status = 201, body = Competency), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_competency(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Json(input): Json<NewCompetency>,
) -> ApiResult<(StatusCode, Json<Competency>)> {
    let org = &access.tenant.id;
    let code = text("code", &input.code, 60)?;
    let name = text("name", &input.name, 200)?;
    let description = description(&input.description)?;
    let framework_codes = framework_codes(input.framework_codes)?;
    usable_scale(&ctx, org, &input.scale_id).await?;
    let id = format!("cmp_{}", random_token(16));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO competencies (id, organisation_id, code, name, description, framework_codes, scale_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(org)
    .bind(&code)
    .bind(&name)
    .bind(&description)
    .bind(serde_json::to_string(&framework_codes)?)
    .bind(&input.scale_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "competency.created",
        Some(&id),
        Some(org),
        json!({ "code": code }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Competency {
            id,
            code,
            name,
            description,
            framework_codes,
            scale_id: input.scale_id,
            archived_at: None,
        }),
    ))
}

fn description(value: &str) -> ApiResult<String> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        text("description", value, 4000)
    }
}

/// Framework codes of known frameworks, trimmed; an empty one is dropped.
fn framework_codes(codes: BTreeMap<String, String>) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (framework, value) in codes {
        if !FRAMEWORKS.contains(&framework.as_str()) {
            return Err(ApiError::invalid_field(
                "framework_codes",
                format!("frameworks are {}", FRAMEWORKS.join(", ")),
            ));
        }
        if !value.trim().is_empty() {
            out.insert(framework, text("framework_codes", &value, 300)?);
        }
    }
    Ok(out)
}

/// A scale of the organisation that is not archived.
async fn usable_scale(ctx: &Ctx, org: &str, id: &str) -> ApiResult<Scale> {
    match scale(ctx, org, id).await {
        Ok(scale) if scale.archived_at.is_none() => Ok(scale),
        Ok(_) => Err(ApiError::invalid_field(
            "scale_id",
            "this scale is archived",
        )),
        Err(_) => Err(ApiError::invalid_field(
            "scale_id",
            "no such scale in this organisation",
        )),
    }
}

type CompetencyRow = (String, String, String, String, String, String, Option<i64>);
const COMPETENCY_COLUMNS: &str =
    "id, code, name, description, framework_codes, scale_id, archived_at";

fn competency_of(row: CompetencyRow) -> ApiResult<Competency> {
    let (id, code, name, description, framework_codes, scale_id, archived_at) = row;
    Ok(Competency {
        id,
        code,
        name,
        description,
        framework_codes: serde_json::from_str(&framework_codes)?,
        scale_id,
        archived_at,
    })
}

pub async fn competency(ctx: &Ctx, org: &str, id: &str) -> ApiResult<Competency> {
    let row: CompetencyRow = sqlx::query_as(&format!(
        "SELECT {COMPETENCY_COLUMNS} FROM competencies WHERE organisation_id = $1 AND id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    competency_of(row)
}

/// The organisation's competencies.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/competencies", tag = "competencies",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Competency>)))]
async fn list_competencies(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<Competency>>> {
    let rows: Vec<CompetencyRow> = sqlx::query_as(&format!(
        "SELECT {COMPETENCY_COLUMNS} FROM competencies WHERE organisation_id = $1 ORDER BY code LIMIT 5000"
    ))
    .bind(&access.tenant.id)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(competency_of)
            .collect::<ApiResult<_>>()?,
    ))
}

/// The JSON of a competency as it goes into a credential.
pub fn competency_claim(c: &Competency) -> Value {
    json!({ "id": c.id, "code": c.code, "name": c.name, "description": c.description, "framework_codes": c.framework_codes })
}

/// When something is archived after a change that may say `archived`: archiving keeps the
/// first date, bringing back clears it.
pub(crate) fn archived_at(archived: Option<bool>, before: Option<i64>, now: i64) -> Option<i64> {
    match archived {
        None => before,
        Some(false) => None,
        Some(true) => before.or(Some(now)),
    }
}

/// A change of a competency: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetencyChange {
    /// Only while no evaluation was recorded on it.
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Replaces every framework code; an empty value removes one.
    pub framework_codes: Option<BTreeMap<String, String>>,
    /// Only while no evaluation was recorded on it.
    pub scale_id: Option<String>,
    /// Archive (`true`) or bring back (`false`).
    pub archived: Option<bool>,
}

/// Evaluations recorded on competency `id`.
async fn evaluations_on(ctx: &Ctx, id: &str) -> ApiResult<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evaluations WHERE competency_id = $1")
        .bind(id)
        .fetch_one(ctx.db.pool())
        .await?;
    Ok(n)
}

/// Changes a competency; organisation staff. What it changes reaches the credentials issued
/// afterwards; those already signed keep what they say.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/competencies/{cid}", tag = "competencies", request_body = CompetencyChange,
    params(("id" = String, Path), ("cid" = String, Path)),
    responses((status = 200, body = Competency), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_competency(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<CompetencyChange>,
) -> ApiResult<Json<Competency>> {
    let cid = path.1;
    let org = &access.tenant.id;
    let before = competency(&ctx, org, &cid).await?;
    let mut after = before.clone();
    if let Some(name) = &input.name {
        after.name = text("name", name, 200)?;
    }
    if let Some(d) = &input.description {
        after.description = description(d)?;
    }
    if let Some(codes) = input.framework_codes {
        after.framework_codes = framework_codes(codes)?;
    }
    if let Some(code) = &input.code {
        after.code = text("code", code, 60)?;
    }
    if let Some(scale_id) = &input.scale_id
        && scale_id != &before.scale_id
    {
        usable_scale(&ctx, org, scale_id).await?;
        after.scale_id = scale_id.clone();
    }
    if (after.code != before.code || after.scale_id != before.scale_id)
        && evaluations_on(&ctx, &cid).await? > 0
    {
        return Err(ApiError::Conflict(
            "the code and scale of a competency already assessed stay as they are; archive it and create another"
                .into(),
        ));
    }
    let now = ctx.now_ms();
    after.archived_at = archived_at(input.archived, before.archived_at, now);
    let mut tx = ctx.db.begin().await?;
    let updated = sqlx::query(
        "UPDATE competencies SET code = $1, name = $2, description = $3, framework_codes = $4, scale_id = $5, \
         archived_at = $6 WHERE id = $7 AND organisation_id = $8",
    )
    .bind(&after.code)
    .bind(&after.name)
    .bind(&after.description)
    .bind(serde_json::to_string(&after.framework_codes)?)
    .bind(&after.scale_id)
    .bind(after.archived_at)
    .bind(&cid)
    .bind(org)
    .execute(&mut *tx)
    .await;
    match updated {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::Conflict(
                "another competency has this code".into(),
            ));
        }
        other => other?,
    };
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "competency.updated",
        Some(&cid),
        Some(org),
        json!({ "before": before, "after": after }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

/// Deletes a competency nothing was assessed on (it leaves the courses that worked on it);
/// one already assessed is archived instead.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/competencies/{cid}", tag = "competencies",
    params(("id" = String, Path), ("cid" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_competency(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let cid = path.1;
    let org = &access.tenant.id;
    let before = competency(&ctx, org, &cid).await?;
    if evaluations_on(&ctx, &cid).await? > 0 {
        return Err(ApiError::Conflict(
            "a competency already assessed is archived, not deleted".into(),
        ));
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM course_competencies WHERE competency_id = $1")
        .bind(&cid)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM competencies WHERE id = $1 AND organisation_id = $2")
        .bind(&cid)
        .bind(org)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "competency.deleted",
        Some(&cid),
        Some(org),
        json!({ "before": before }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A change of a level scale: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleChange {
    pub name: Option<String>,
    /// Only while nothing was assessed on it.
    #[schema(value_type = Option<Object>)]
    pub scale: Option<LevelScale>,
    /// Archive (`true`) or bring back (`false`).
    pub archived: Option<bool>,
}

/// Evaluations recorded on a competency of scale `id`, and the competencies on it.
async fn scale_use(ctx: &Ctx, id: &str) -> ApiResult<(i64, i64)> {
    let (evaluations,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM evaluations e JOIN competencies c ON c.id = e.competency_id WHERE c.scale_id = $1",
    )
    .bind(id)
    .fetch_one(ctx.db.pool())
    .await?;
    let (competencies,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM competencies WHERE scale_id = $1")
            .bind(id)
            .fetch_one(ctx.db.pool())
            .await?;
    Ok((evaluations, competencies))
}

fn scale_columns(scale: &LevelScale) -> (&'static str, Value, Option<i64>, Option<i64>) {
    match scale {
        LevelScale::Levels { labels } => ("levels", json!(labels), None, None),
        LevelScale::Score { max, pass } => (
            "score",
            json!([]),
            Some(i64::from(*max)),
            Some(i64::from(*pass)),
        ),
    }
}

/// Renames, redefines (while unused) or archives a level scale; organisation staff.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/scales/{sid}", tag = "competencies", request_body = ScaleChange,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = Scale), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_scale(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
    Json(input): Json<ScaleChange>,
) -> ApiResult<Json<Scale>> {
    let sid = path.1;
    let org = &access.tenant.id;
    let before = scale(&ctx, org, &sid).await?;
    let name = match &input.name {
        Some(name) => text("name", name, 100)?,
        None => before.name.clone(),
    };
    let definition = match input.scale {
        Some(new) if new != before.scale => {
            new.check()
                .map_err(|e| ApiError::invalid_field("scale", e.to_string()))?;
            if scale_use(&ctx, &sid).await?.0 > 0 {
                return Err(ApiError::Conflict(
                    "the levels of a scale already used in an assessment stay as they are; archive it and create another"
                        .into(),
                ));
            }
            new
        }
        _ => before.scale.clone(),
    };
    let now = ctx.now_ms();
    let archived_at = archived_at(input.archived, before.archived_at, now);
    let (kind, levels, max, pass) = scale_columns(&definition);
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE level_scales SET name = $1, kind = $2, levels = $3, max_score = $4, pass_score = $5, \
         archived_at = $6 WHERE id = $7 AND organisation_id = $8",
    )
    .bind(&name)
    .bind(kind)
    .bind(levels.to_string())
    .bind(max)
    .bind(pass)
    .bind(archived_at)
    .bind(&sid)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    let after = Scale {
        id: sid.clone(),
        name,
        scale: definition,
        archived_at,
    };
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "scale.updated",
        Some(&sid),
        Some(org),
        json!({ "before": before, "after": after }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}

/// Deletes a level scale no competency uses; organisation staff.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/scales/{sid}", tag = "competencies",
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_scale(
    State(ctx): State<Ctx>,
    Staff(access): Staff<Organisations>,
    Path(path): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let sid = path.1;
    let org = &access.tenant.id;
    let before = scale(&ctx, org, &sid).await?;
    if scale_use(&ctx, &sid).await?.1 > 0 {
        return Err(ApiError::Conflict(
            "a scale competencies use is archived, not deleted".into(),
        ));
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM level_scales WHERE id = $1 AND organisation_id = $2")
        .bind(&sid)
        .bind(org)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "scale.deleted",
        Some(&sid),
        Some(org),
        json!({ "before": before }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
