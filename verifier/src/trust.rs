//! Trusted issuers: the credential issuers whose credentials this verifier accepts, managed by
//! the platform administrators. Their keys come from their JWT VC Issuer Metadata
//! (`/.well-known/jwt-vc-issuer`), are kept in the database and cached in memory; a key id the
//! cache does not know makes it fetch that issuer's keys again (at most once a minute), and a
//! job fetches every issuer's keys again every `REFRESH_EVERY_MS`, so a key the issuer withdrew
//! from its metadata stops verifying within the hour. Keys that could not be fetched again for
//! `KEYS_MAX_AGE_MS` are not used at all (an issuer nobody can reach for a week, or an attacker
//! keeping the verifier from seeing a withdrawal, does not keep old keys alive). A credential
//! from an issuer not on the list is never accepted, and search shows only competencies from
//! issuers still on it.

use crate::VerifierState;
use crate::search::{self, Scope};
use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::metadata::{Jwks, TrustedIssuers};
use carnet_service::audit;
use carnet_service::auth::{PlatformAdmin, Principal};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::jobs::Outcome;
use carnet_service::remote::issuer_jwks;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::RwLock;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long the in-memory list is trusted before it is read again (other instances may have
/// changed it).
const RELOAD_MS: i64 = 30_000;
/// An issuer's keys are fetched again for an unknown key id at most this often.
const REFETCH_MS: i64 = 60_000;
/// The job fetching every trusted issuer's keys again, and how often it runs.
pub const REFRESH_KEYS: &str = "verifier.refresh_issuer_keys";
pub const REFRESH_EVERY_MS: i64 = 3600 * 1000;
/// Keys last fetched longer ago than this are not used.
pub const KEYS_MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;

/// The trusted issuers and their parsed keys, as one snapshot.
#[derive(Default)]
pub struct Snapshot {
    pub keys: TrustedIssuers,
    pub jwks: HashMap<String, Jwks>,
    pub names: HashMap<String, String>,
}

#[derive(Default)]
pub struct Trust {
    current: RwLock<Option<(i64, Arc<Snapshot>)>>,
    refetched: RwLock<HashMap<String, i64>>,
}

impl Trust {
    /// The current snapshot, read from the database when stale.
    pub async fn snapshot(&self, state: &VerifierState) -> ApiResult<Arc<Snapshot>> {
        let now = state.ctx.now_ms();
        if let Some((at, snapshot)) = &*self.current.read().await
            && now - at < RELOAD_MS
        {
            return Ok(snapshot.clone());
        }
        let rows: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT issuer, name, jwks, fetched_at FROM trusted_issuers")
                .fetch_all(state.ctx.db.pool())
                .await?;
        let mut snapshot = Snapshot::default();
        for (issuer, name, jwks, fetched_at) in rows {
            if now - fetched_at > KEYS_MAX_AGE_MS {
                tracing::warn!(%issuer, "keys not fetched again for too long: not used");
                snapshot.names.insert(issuer, name);
                continue;
            }
            let Ok(jwks) = serde_json::from_str::<Jwks>(&jwks) else {
                tracing::warn!(%issuer, "unreadable stored keys");
                continue;
            };
            if let Err(e) = snapshot.keys.insert(&issuer, &jwks) {
                tracing::warn!(%issuer, error = %e, "unusable issuer keys");
            }
            snapshot.jwks.insert(issuer.clone(), jwks);
            snapshot.names.insert(issuer, name);
        }
        let snapshot = Arc::new(snapshot);
        *self.current.write().await = Some((now, snapshot.clone()));
        Ok(snapshot)
    }

    /// Forgets the snapshot, so the next read comes from the database.
    pub async fn invalidate(&self) {
        *self.current.write().await = None;
    }

    /// Fetches a trusted issuer's keys again, when a credential names a key id we do not know
    /// (a rotation); `true` when new keys were stored.
    pub async fn refetch(&self, state: &VerifierState, issuer: &str) -> bool {
        let now = state.ctx.now_ms();
        {
            let mut refetched = self.refetched.write().await;
            if refetched
                .get(issuer)
                .is_some_and(|at| now - at < REFETCH_MS)
            {
                return false;
            }
            refetched.insert(issuer.to_owned(), now);
        }
        let Ok(jwks) = issuer_jwks(&state.remote, issuer).await else {
            return false;
        };
        let stored = async {
            let mut conn = state.ctx.db.writer().await?;
            sqlx::query("UPDATE trusted_issuers SET jwks = $1, fetched_at = $2 WHERE issuer = $3")
                .bind(serde_json::to_string(&jwks)?)
                .bind(now)
                .bind(issuer)
                .execute(&mut *conn)
                .await?;
            ApiResult::Ok(())
        }
        .await;
        self.invalidate().await;
        stored.is_ok()
    }
}

/// Fetches every trusted issuer's keys again and stores those that changed (a key added, or
/// withdrawn: it stops verifying), with an audit row; an issuer that cannot be reached keeps
/// its keys (until `KEYS_MAX_AGE_MS`). Returns how many issuers' keys changed.
pub async fn refresh(state: &VerifierState) -> ApiResult<usize> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT issuer, jwks FROM trusted_issuers")
        .fetch_all(state.ctx.db.pool())
        .await?;
    let mut changed = 0;
    for (issuer, stored) in rows {
        let jwks = match issuer_jwks(&state.remote, &issuer).await {
            Ok(jwks) => jwks,
            Err(e) => {
                tracing::warn!(%issuer, error = %e, "the issuer's keys could not be fetched again");
                continue;
            }
        };
        if let Err(e) = TrustedIssuers::default().insert(&issuer, &jwks) {
            tracing::warn!(%issuer, error = %e, "the issuer now publishes unusable keys: kept the old ones");
            continue;
        }
        let fresh = serde_json::to_string(&jwks)?;
        let same = serde_json::from_str::<Jwks>(&stored).is_ok_and(|old| old == jwks);
        let now = state.ctx.now_ms();
        let mut tx = state.ctx.db.begin().await?;
        sqlx::query("UPDATE trusted_issuers SET jwks = $1, fetched_at = $2 WHERE issuer = $3")
            .bind(&fresh)
            .bind(now)
            .bind(&issuer)
            .execute(&mut *tx)
            .await?;
        if !same {
            audit::record(
                &mut tx,
                now,
                &audit::Actor::system(),
                "trusted_issuer.keys_changed",
                Some(&issuer),
                None,
                json!({ "keys": jwks.keys.len() }),
            )
            .await?;
            changed += 1;
        }
        tx.commit().await?;
    }
    state.trust.invalidate().await;
    Ok(changed)
}

/// The job around [`refresh`].
pub async fn refresh_job(state: VerifierState) -> Result<Outcome, String> {
    refresh(&state).await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(state.ctx.now_ms() + REFRESH_EVERY_MS))
}

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new().routes(routes!(list, add, remove))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTrustedIssuer {
    /// The issuer identifier (the `iss` of its credentials), an https URL.
    pub issuer: String,
    /// The name shown to recruiters.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub name: String,
    /// How many keys it publishes.
    pub keys: usize,
    pub fetched_at: i64,
}

/// The trusted issuers; for every signed-in user (recruiters filter by issuer).
#[utoipa::path(get, path = "/api/v1/trusted-issuers", tag = "trusted issuers",
    responses((status = 200, body = Vec<TrustedIssuer>), (status = 401, body = Problem)))]
async fn list(
    State(state): State<VerifierState>,
    _principal: Principal,
) -> ApiResult<Json<Vec<TrustedIssuer>>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT issuer, name, jwks, fetched_at FROM trusted_issuers ORDER BY name, issuer",
    )
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(issuer, name, jwks, fetched_at)| TrustedIssuer {
                keys: serde_json::from_str::<Jwks>(&jwks).map_or(0, |j| j.keys.len()),
                issuer,
                name,
                fetched_at,
            })
            .collect(),
    ))
}

/// Trusts an issuer, fetching its published keys; platform administrators only. Adding it
/// again refreshes its name and keys.
#[utoipa::path(post, path = "/api/v1/trusted-issuers", tag = "trusted issuers", request_body = NewTrustedIssuer,
    responses((status = 201, body = TrustedIssuer), (status = 403, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn add(
    State(state): State<VerifierState>,
    PlatformAdmin(admin): PlatformAdmin,
    Json(input): Json<NewTrustedIssuer>,
) -> ApiResult<(StatusCode, Json<TrustedIssuer>)> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field("name", "1 to 200 characters"));
    }
    if input.issuer.len() > 500 {
        return Err(ApiError::invalid_field("issuer", "too long"));
    }
    state.remote.check(&input.issuer, "issuer")?;
    let jwks = issuer_jwks(&state.remote, &input.issuer).await?;
    TrustedIssuers::default()
        .insert(&input.issuer, &jwks)
        .map_err(|e| ApiError::invalid_field("issuer", format!("its keys are unusable: {e}")))?;
    let now = state.ctx.now_ms();
    let mut tx = state.ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO trusted_issuers (issuer, name, jwks, fetched_at, created_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (issuer) DO UPDATE SET name = excluded.name, jwks = excluded.jwks, fetched_at = excluded.fetched_at",
    )
    .bind(&input.issuer)
    .bind(name)
    .bind(serde_json::to_string(&jwks)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &(&admin).into(),
        "trusted_issuer.added",
        Some(&input.issuer),
        None,
        json!({ "name": name, "keys": jwks.keys.len() }),
    )
    .await?;
    search::reindex(&mut tx, Scope::Issuer(&input.issuer)).await?;
    tx.commit().await?;
    state.trust.invalidate().await;
    Ok((
        StatusCode::CREATED,
        Json(TrustedIssuer {
            issuer: input.issuer,
            name: name.to_owned(),
            keys: jwks.keys.len(),
            fetched_at: now,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct Which {
    issuer: String,
}

/// Stops trusting an issuer; platform administrators only. Its credentials disappear from
/// search at once.
#[utoipa::path(delete, path = "/api/v1/trusted-issuers", tag = "trusted issuers", params(Which),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove(
    State(state): State<VerifierState>,
    PlatformAdmin(admin): PlatformAdmin,
    Query(which): Query<Which>,
) -> ApiResult<StatusCode> {
    let now = state.ctx.now_ms();
    let mut tx = state.ctx.db.begin().await?;
    let done = sqlx::query("DELETE FROM trusted_issuers WHERE issuer = $1")
        .bind(&which.issuer)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &(&admin).into(),
        "trusted_issuer.removed",
        Some(&which.issuer),
        None,
        json!({}),
    )
    .await?;
    search::reindex(&mut tx, Scope::Issuer(&which.issuer)).await?;
    tx.commit().await?;
    state.trust.invalidate().await;
    Ok(StatusCode::NO_CONTENT)
}
