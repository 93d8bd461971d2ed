//! The audit log: every security-relevant change writes a row **in the same transaction** as
//! the change (so neither exists without the other); admins read it through the API.

use crate::Ctx;
use crate::auth::{PlatformAdmin, Principal};
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::id::{AccountId, random_token};
use crate::pagination::{Cursor, Page, PageQuery, page};
use axum::extract::{FromRef, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AnyConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Who did it: the account (none for the system) and the request.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub account_id: Option<AccountId>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor::default()
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        Actor {
            account_id: Some(p.account_id.clone()),
            request_id: p.request_id.clone(),
        }
    }
}

/// Writes one audit row on `conn` (pass the transaction that makes the change).
pub async fn record(
    conn: &mut AnyConnection,
    now_ms: i64,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    tenant: Option<&str>,
    details: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, action, target, tenant_id, details, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(format!("aud_{}", random_token(16)))
    .bind(now_ms)
    .bind(actor.account_id.as_ref().map(|a| a.0.clone()))
    .bind(action)
    .bind(target)
    .bind(tenant)
    .bind(details.to_string())
    .bind(actor.request_id.clone())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub tenant_id: Option<String>,
    /// JSON text.
    pub details: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Only this action (e.g. `account.created`).
    pub action: Option<String>,
    /// Only entries of this tenant (organisation or company).
    pub tenant: Option<String>,
}

/// Lists audit entries, newest first, optionally for one tenant.
pub async fn list(ctx: &Ctx, query: &AuditQuery) -> ApiResult<Page<AuditEntry>> {
    let paging = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = paging.limit()?;
    let cursor = paging.cursor()?;
    let rows: Vec<AuditEntry> = sqlx::query_as(
        "SELECT id, at, actor_id, action, target, tenant_id, details, request_id FROM audit_log \
         WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR tenant_id = $2) \
           AND ($3 IS NULL OR at < $3 OR (at = $3 AND id < $4)) \
         ORDER BY at DESC, id DESC LIMIT $5",
    )
    .bind(query.action.clone())
    .bind(query.tenant.clone())
    .bind(cursor.as_ref().map(|c| c.at))
    .bind(cursor.as_ref().map(|c| c.id.clone()))
    .bind(limit + 1)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(page(rows, limit, |e| Cursor {
        at: e.at,
        id: e.id.clone(),
    }))
}

/// The audit log of the whole service, for platform administrators.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = inline(Page<AuditEntry>)), (status = 403, body = crate::error::Problem)))]
async fn read_audit(
    State(ctx): State<Ctx>,
    _admin: PlatformAdmin,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    Ok(Json(list(&ctx, &query).await?))
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(read_audit))
}
