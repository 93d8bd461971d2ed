//! Each organisation's signing keys: Ed25519 by default, ES256 on request. Private keys are
//! sealed at rest under the process secret key; a rotation retires the active key, which stays
//! published (JWKS) so credentials it signed keep verifying. Parsed keys are cached by `kid`.

use crate::{IssuerState, Organisations};
use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::keys::{Algorithm, Jwk, SigningKey};
use carnet_core::metadata::Jwks;
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::tenants::{Admin, Staff};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Parsed signing keys by `kid` (opening and parsing a key costs far more than signing), and
/// each organisation's active key for a few seconds (a rotation in this process takes effect at
/// once; one in another instance within [`ACTIVE_TTL`], the old key still being published).
#[derive(Default)]
pub struct KeyCache {
    by_kid: Mutex<HashMap<String, Arc<SigningKey>>>,
    active: Mutex<HashMap<String, (Arc<SigningKey>, Instant)>>,
}

/// How long an organisation's active key is used without asking the database again.
pub const ACTIVE_TTL: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new().routes(routes!(list_keys, rotate_key))
}

/// The organisation's active signing key, created (Ed25519) on first use.
pub async fn active_key(state: &IssuerState, org: &str) -> ApiResult<Arc<SigningKey>> {
    if let Some((key, at)) = state
        .keys
        .active
        .lock()
        .map_err(ApiError::internal)?
        .get(org)
        && at.elapsed() < ACTIVE_TTL
    {
        return Ok(key.clone());
    }
    let key = load_active_key(state, org).await?;
    state
        .keys
        .active
        .lock()
        .map_err(ApiError::internal)?
        .insert(org.to_owned(), (key.clone(), Instant::now()));
    Ok(key)
}

async fn load_active_key(state: &IssuerState, org: &str) -> ApiResult<Arc<SigningKey>> {
    let ctx = &state.ctx;
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, sealed_private_jwk FROM issuer_keys WHERE organisation_id = $1 AND active = 1",
    )
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await?;
    let (kid, sealed) = match row {
        Some(row) => row,
        None => {
            let key = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
            {
                // Two first uses at once: the unique index keeps one active key. The connection
                // goes back to the pool before the lookup below needs one.
                let mut conn = ctx.db.writer().await?;
                insert_key(&mut conn, ctx, org, &key).await?;
            }
            return Box::pin(load_active_key(state, org)).await;
        }
    };
    if let Some(key) = state
        .keys
        .by_kid
        .lock()
        .map_err(ApiError::internal)?
        .get(&kid)
    {
        return Ok(key.clone());
    }
    let opened = ctx
        .config
        .secret_key
        .open(&kid, &sealed)
        .map_err(ApiError::internal)?;
    let jwk: Jwk = serde_json::from_slice(&opened)?;
    let key = Arc::new(SigningKey::from_jwk(&jwk).map_err(ApiError::internal)?);
    state
        .keys
        .by_kid
        .lock()
        .map_err(ApiError::internal)?
        .insert(kid, key.clone());
    Ok(key)
}

async fn insert_key(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    org: &str,
    key: &SigningKey,
) -> ApiResult<u64> {
    let sealed = ctx
        .config
        .secret_key
        .seal(key.kid(), &serde_json::to_vec(&key.private_jwk())?)
        .map_err(ApiError::internal)?;
    let done = sqlx::query(
        "INSERT INTO issuer_keys (kid, organisation_id, alg, public_jwk, sealed_private_jwk, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT DO NOTHING",
    )
    .bind(key.kid())
    .bind(org)
    .bind(key.algorithm().name())
    .bind(serde_json::to_string(&key.public_jwk())?)
    .bind(sealed)
    .bind(ctx.now_ms())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Every key of the organisation, active and retired.
pub async fn jwks(ctx: &Ctx, org: &str) -> ApiResult<Jwks> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT public_jwk FROM issuer_keys WHERE organisation_id = $1 ORDER BY active DESC, created_at DESC, kid",
    )
    .bind(org)
    .fetch_all(ctx.db.pool())
    .await?;
    let keys = rows
        .iter()
        .map(|(j,)| serde_json::from_str(j))
        .collect::<Result<Vec<Jwk>, _>>()?;
    Ok(Jwks { keys })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub active: bool,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// The organisation's signing keys (public information).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/keys", tag = "credentials",
    params(("id" = String, Path)), responses((status = 200, body = Vec<KeyInfo>), (status = 403, body = Problem)))]
async fn list_keys(
    State(state): State<IssuerState>,
    Staff(access): Staff<Organisations>,
) -> ApiResult<Json<Vec<KeyInfo>>> {
    let rows: Vec<(String, String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT kid, alg, active, created_at, retired_at FROM issuer_keys WHERE organisation_id = $1 ORDER BY active DESC, created_at DESC, kid",
    )
    .bind(&access.tenant.id)
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(kid, alg, active, created_at, retired_at)| KeyInfo {
                kid,
                alg,
                active: active != 0,
                created_at,
                retired_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// `EdDSA` (default) or `ES256`.
    #[serde(default)]
    pub alg: Option<String>,
}

/// Rotates the signing key: a new key signs from now on; the old one stays published.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/keys", tag = "credentials", request_body = Rotation,
    params(("id" = String, Path)), responses((status = 201, body = KeyInfo), (status = 403, body = Problem)))]
async fn rotate_key(
    State(state): State<IssuerState>,
    Admin(access): Admin<Organisations>,
    Json(input): Json<Rotation>,
) -> ApiResult<(StatusCode, Json<KeyInfo>)> {
    let alg: Algorithm = match input.alg.as_deref() {
        None => Algorithm::EdDSA,
        Some(a) => a
            .parse()
            .map_err(|_| ApiError::invalid_field("alg", "EdDSA, Ed25519 or ES256"))?,
    };
    let ctx = &state.ctx;
    let key = SigningKey::generate(alg, &mut rand::rngs::OsRng);
    let now = ctx.now_ms();
    let org = &access.tenant.id;
    let mut tx = ctx.db.begin().await?;
    sqlx::query("UPDATE issuer_keys SET active = 0, retired_at = $1 WHERE organisation_id = $2 AND active = 1")
        .bind(now)
        .bind(org)
        .execute(&mut *tx)
        .await?;
    insert_key(&mut tx, ctx, org, &key).await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "organisation.key_rotated",
        Some(key.kid()),
        Some(org),
        json!({ "alg": alg.name() }),
    )
    .await?;
    tx.commit().await?;
    state
        .keys
        .active
        .lock()
        .map_err(ApiError::internal)?
        .remove(org);
    Ok((
        StatusCode::CREATED,
        Json(KeyInfo {
            kid: key.kid().to_owned(),
            alg: alg.name().to_owned(),
            active: true,
            created_at: now,
            retired_at: None,
        }),
    ))
}
