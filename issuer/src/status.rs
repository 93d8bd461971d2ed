//! Token Status Lists: every credential gets an entry — an index drawn at random (unpredictable,
//! as HAIP asks) in one of its organisation's lists, reserved by the credential row itself (a
//! unique constraint), so no crash or race can put two credentials on one index, and entries
//! are never deleted, so an index is never reused. Revocation, suspension and reinstatement by
//! administrators and managers, with a reason, audited. The list token is served with a
//! `Cache-Control` derived from its `ttl`.

use crate::sessions::StaffReach;
use crate::{IssuerState, Managers, Organisations, keys};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::status_list::{MEDIA_TYPE, Status, StatusList, StatusListToken};
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::tenants::InRoles;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Entries per list (2 bits each: 16 KiB before compression).
const LIST_SIZE: i64 = 65_536;
/// A list takes new credentials until half full, so a random free index is found fast.
const FILL_LIMIT: i64 = LIST_SIZE / 2;
/// Seconds a client may cache a status list token.
pub const TTL_SECS: u64 = 300;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(list_credentials))
        .routes(routes!(set_status))
}

/// A credential row to insert.
pub struct NewCredential {
    pub id: String,
    pub account: String,
    pub offer: String,
    pub configuration: String,
    pub vct: String,
    pub kid: String,
    pub holder_thumbprint: String,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
}

/// Where a credential's status is.
pub struct Entry {
    pub list_id: String,
    pub idx: u64,
    pub uri: String,
}

pub fn list_uri(ctx: &Ctx, list_id: &str) -> String {
    format!("{}/status/{list_id}", ctx.config.public_url)
}

/// Each organisation's open list, and how many more entries this process may draw from it
/// before counting its entries again. The count is only a fill estimate: the unique
/// `(status_list_id, status_idx)` index is what keeps entries apart, so instances that fill one
/// list at once overshoot its fill limit a little, harmlessly. No row is updated per credential,
/// so concurrent issuances do not queue on a counter.
#[derive(Default)]
pub struct OpenLists(Mutex<HashMap<String, (String, i64)>>);

/// The list the next `count` credentials of `org` go on, created (and committed) if needed:
/// the organisation's newest list while it has room, else a new one numbered after it, which
/// concurrent callers, on every instance, agree on (`UNIQUE (organisation_id, seq)`). Call it
/// before the issuing transaction begins: a list must be visible to every transaction once it is
/// cached.
pub async fn open_list(state: &IssuerState, org: &str, count: usize) -> ApiResult<String> {
    let count = count as i64;
    if let Some((id, left)) = state
        .lists
        .0
        .lock()
        .map_err(ApiError::internal)?
        .get_mut(org)
        && *left >= count
    {
        *left -= count;
        return Ok(id.clone());
    }
    // Each round finds the newest list with room, or else opens the next one: lists are
    // numbered per organisation and a number is taken once, so when several callers (on any
    // instances) open the next list at once, one insert wins and the next round finds it for all.
    for _ in 0..3 {
        let newest: Option<(String, i64, i64)> = sqlx::query_as(
            "SELECT l.id, l.seq, (SELECT COUNT(*) FROM credentials c WHERE c.status_list_id = l.id) FROM status_lists l \
             WHERE l.organisation_id = $1 ORDER BY l.seq DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(state.ctx.db.pool())
        .await?;
        if let Some((id, _, used)) = &newest
            && *used < FILL_LIMIT
        {
            state
                .lists
                .0
                .lock()
                .map_err(ApiError::internal)?
                .insert(org.to_owned(), (id.clone(), FILL_LIMIT - used - count));
            return Ok(id.clone());
        }
        let next = newest.map_or(1, |(_, seq, _)| seq + 1);
        sqlx::query(
            "INSERT INTO status_lists (id, organisation_id, seq, size, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (organisation_id, seq) DO NOTHING",
        )
        .bind(format!("stl_{}", random_token(12)))
        .bind(org)
        .bind(next)
        .bind(LIST_SIZE)
        .bind(state.ctx.now_ms())
        .execute(&mut *state.ctx.db.writer().await?)
        .await?;
    }
    Err(ApiError::internal(
        "no status list with room after opening one",
    ))
}

/// Inserts the credential row with a fresh random index in `list_id` (from [`open_list`]), in
/// the caller's transaction.
pub async fn insert_with_index(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    list_id: &str,
    org: &str,
    row: &NewCredential,
) -> ApiResult<Entry> {
    for _ in 0..64 {
        let idx = rand::rngs::OsRng.gen_range(0..LIST_SIZE);
        let inserted = sqlx::query(
            "INSERT INTO credentials (id, organisation_id, account_id, offer_id, configuration_id, vct, kid, holder_thumbprint, \
             status_list_id, status_idx, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (status_list_id, status_idx) DO NOTHING",
        )
        .bind(&row.id)
        .bind(org)
        .bind(&row.account)
        .bind(&row.offer)
        .bind(&row.configuration)
        .bind(&row.vct)
        .bind(&row.kid)
        .bind(&row.holder_thumbprint)
        .bind(list_id)
        .bind(idx)
        .bind(row.issued_at)
        .bind(row.expires_at)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Entry {
                uri: list_uri(ctx, list_id),
                list_id: list_id.to_owned(),
                idx: idx as u64,
            });
        }
    }
    Err(ApiError::internal(
        "no free status list index after 64 draws",
    ))
}

/// `GET /status/{list}`: the signed status list token.
pub async fn status_list_token(
    State(state): State<IssuerState>,
    Path(list_id): Path<String>,
) -> Response {
    let run = async {
        if !looks_like_id(&list_id) {
            return Err(ApiError::NotFound);
        }
        let ctx = &state.ctx;
        let (org, size): (String, i64) =
            sqlx::query_as("SELECT organisation_id, size FROM status_lists WHERE id = $1")
                .bind(&list_id)
                .fetch_optional(ctx.db.pool())
                .await?
                .ok_or(ApiError::NotFound)?;
        let flagged: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT status_idx, status FROM credentials WHERE status_list_id = $1 AND status <> 0",
        )
        .bind(&list_id)
        .fetch_all(ctx.db.pool())
        .await?;
        let mut list = StatusList::new(2, size as usize).map_err(ApiError::internal)?;
        for (idx, status) in flagged {
            list.set(idx as u64, Status::from_value(status as u8))
                .map_err(ApiError::internal)?;
        }
        let now = ctx.clock.now_secs();
        let token = StatusListToken {
            subject: list_uri(ctx, &list_id),
            issued_at: now,
            expires_at: Some(now + 24 * 3600),
            ttl: Some(TTL_SECS),
            list,
        };
        let key = keys::active_key(&state, &org).await?;
        let jwt = token.sign(&key).map_err(ApiError::internal)?;
        Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, MEDIA_TYPE.to_owned()),
                (header::CACHE_CONTROL, format!("public, max-age={TTL_SECS}")),
            ],
            jwt,
        ))
    };
    run.await
        .map_or_else(IntoResponse::into_response, IntoResponse::into_response)
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct IssuedCredential {
    pub id: String,
    pub account_id: String,
    pub configuration_id: String,
    pub vct: String,
    pub kid: String,
    pub status_list_id: String,
    pub status_idx: i64,
    /// 0 valid, 1 revoked, 2 suspended.
    pub status: i64,
    pub status_reason: Option<String>,
    pub issued_at: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct CredentialsQuery {
    account_id: Option<String>,
}

/// Credentials the organisation issued, for its staff; a trainer reads those of the people
/// taking part in the sessions they are staff of.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/credentials", tag = "credentials",
    params(("id" = String, Path), CredentialsQuery), responses((status = 200, body = Vec<IssuedCredential>)))]
async fn list_credentials(
    State(ctx): State<Ctx>,
    reach: StaffReach,
    Query(q): Query<CredentialsQuery>,
) -> ApiResult<Json<Vec<IssuedCredential>>> {
    let (whole, me) = reach.binds();
    let rows = sqlx::query_as(&format!(
        "SELECT id, account_id, configuration_id, vct, kid, status_list_id, status_idx, status, status_reason, issued_at \
         FROM credentials WHERE organisation_id = $1 AND ($2 IS NULL OR account_id = $2) AND {} ORDER BY issued_at DESC, id LIMIT 10000",
        StaffReach::accounts("account_id", 3)
    ))
    .bind(&reach.0.tenant.id)
    .bind(q.account_id)
    .bind(whole)
    .bind(me)
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `revoked` (final), `suspended` or `valid` (reinstates a suspended credential).
    pub status: String,
    pub reason: String,
}

/// Revokes, suspends or reinstates a credential; organisation administrators and managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/credentials/{cid}/status", tag = "credentials",
    request_body = StatusChange, params(("id" = String, Path), ("cid" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn set_status(
    State(ctx): State<Ctx>,
    InRoles(access, _): InRoles<Organisations, Managers>,
    Path(path): Path<(String, String)>,
    Json(input): Json<StatusChange>,
) -> ApiResult<StatusCode> {
    let (_, cid) = path;
    let status = match input.status.as_str() {
        "valid" => Status::Valid,
        "revoked" => Status::Invalid,
        "suspended" => Status::Suspended,
        _ => {
            return Err(ApiError::invalid_field(
                "status",
                "revoked, suspended or valid",
            ));
        }
    };
    let reason = crate::catalog::text("reason", &input.reason, 500)?;
    if !looks_like_id(&cid) {
        return Err(ApiError::NotFound);
    }
    let org = &access.tenant.id;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let (current,): (i64,) =
        sqlx::query_as("SELECT status FROM credentials WHERE id = $1 AND organisation_id = $2")
            .bind(&cid)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ApiError::NotFound)?;
    if current == i64::from(Status::Invalid.value()) {
        return Err(ApiError::Conflict(
            "a revoked credential stays revoked".into(),
        ));
    }
    sqlx::query("UPDATE credentials SET status = $1, status_reason = $2 WHERE id = $3")
        .bind(i64::from(status.value()))
        .bind(&reason)
        .bind(&cid)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        &format!("credential.{}", input.status),
        Some(&cid),
        Some(org),
        json!({ "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
