//! The centre's competency model: level scales and competencies (with framework codes such as
//! ROME, RNCP/RS or an ESCO URI).

use crate::{IssuerState, Organisations};
use axum::extract::State;
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
        .routes(routes!(create_competency, list_competencies))
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

#[derive(Debug, Serialize, ToSchema)]
pub struct Scale {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub scale: LevelScale,
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
    let (kind, levels, max, pass) = match &input.scale {
        LevelScale::Levels { labels } => ("levels", json!(labels), None, None),
        LevelScale::Score { max, pass } => {
            ("score", json!([]), Some(*max as i64), Some(*pass as i64))
        }
    };
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
        }),
    ))
}

type ScaleRow = (String, String, String, String, Option<i64>, Option<i64>);

fn scale_of(row: ScaleRow) -> ApiResult<Scale> {
    let (id, name, kind, levels, max, pass) = row;
    let scale = match kind.as_str() {
        "levels" => LevelScale::Levels {
            labels: serde_json::from_str(&levels)?,
        },
        _ => LevelScale::Score {
            max: max.unwrap_or(100) as u32,
            pass: pass.unwrap_or(50) as u32,
        },
    };
    Ok(Scale { id, name, scale })
}

/// One scale of an organisation.
pub async fn scale(ctx: &Ctx, org: &str, id: &str) -> ApiResult<Scale> {
    let row: ScaleRow = sqlx::query_as(
        "SELECT id, name, kind, levels, max_score, pass_score FROM level_scales WHERE organisation_id = $1 AND id = $2",
    )
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
    let rows: Vec<ScaleRow> = sqlx::query_as(
        "SELECT id, name, kind, levels, max_score, pass_score FROM level_scales WHERE organisation_id = $1 ORDER BY name LIMIT 1000",
    )
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
    let description = if input.description.trim().is_empty() {
        String::new()
    } else {
        text("description", &input.description, 4000)?
    };
    for (framework, value) in &input.framework_codes {
        if !FRAMEWORKS.contains(&framework.as_str()) {
            return Err(ApiError::invalid_field(
                "framework_codes",
                format!("frameworks are {}", FRAMEWORKS.join(", ")),
            ));
        }
        text("framework_codes", value, 300)?;
    }
    scale(&ctx, org, &input.scale_id)
        .await
        .map_err(|_| ApiError::invalid_field("scale_id", "no such scale in this organisation"))?;
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
    .bind(serde_json::to_string(&input.framework_codes)?)
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
            framework_codes: input.framework_codes,
            scale_id: input.scale_id,
        }),
    ))
}

type CompetencyRow = (String, String, String, String, String, String);

fn competency_of(row: CompetencyRow) -> ApiResult<Competency> {
    let (id, code, name, description, framework_codes, scale_id) = row;
    Ok(Competency {
        id,
        code,
        name,
        description,
        framework_codes: serde_json::from_str(&framework_codes)?,
        scale_id,
    })
}

pub async fn competency(ctx: &Ctx, org: &str, id: &str) -> ApiResult<Competency> {
    let row: CompetencyRow = sqlx::query_as(
        "SELECT id, code, name, description, framework_codes, scale_id FROM competencies WHERE organisation_id = $1 AND id = $2",
    )
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
    let rows: Vec<CompetencyRow> = sqlx::query_as(
        "SELECT id, code, name, description, framework_codes, scale_id FROM competencies WHERE organisation_id = $1 ORDER BY code LIMIT 5000",
    )
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
