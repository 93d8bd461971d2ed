//! Availability ("disponibilités"): what the holder declares of their situation — in training,
//! seeking a job, employed — from when they are available, where (French regions) and for which
//! contracts. Sealed in the store like everything else; shared only when the holder publishes
//! a profile.

use crate::WalletState;
use crate::vault::Holder;
use axum::extract::State;
pub use carnet_core::availability::{Availability, Contract, REGIONS, Situation};
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new().routes(routes!(get_availability, set_availability))
}

const ITEM: &str = "availability";

/// The holder's availability as declared (empty until they say).
#[utoipa::path(get, path = "/api/v1/availability", tag = "carnet",
    responses((status = 200, body = Object), (status = 401, body = Problem)))]
async fn get_availability(
    State(state): State<WalletState>,
    holder: Holder,
) -> ApiResult<Json<Availability>> {
    Ok(Json(load(&state, &holder).await?))
}

pub async fn load(state: &WalletState, holder: &Holder) -> ApiResult<Availability> {
    load_sealed(state, holder, "holder_profiles", ITEM).await
}

/// One item the holder declares, kept sealed in `table` (one row per account), or its default
/// until they say.
pub(crate) async fn load_sealed<T: DeserializeOwned + Default>(
    state: &WalletState,
    holder: &Holder,
    table: &'static str,
    item: &str,
) -> ApiResult<T> {
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as(&format!("SELECT sealed FROM {table} WHERE account_id = $1"))
            .bind(holder.account().as_str())
            .fetch_optional(state.ctx.db.pool())
            .await?;
    match row {
        Some((sealed,)) => Ok(serde_json::from_slice(&holder.open(item, &sealed)?)?),
        None => Ok(T::default()),
    }
}

/// Replaces the item in `table`, audited as `action`.
pub(crate) async fn store_sealed<T: Serialize>(
    state: &WalletState,
    holder: &Holder,
    table: &'static str,
    item: &str,
    value: &T,
    action: &str,
) -> ApiResult<()> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let sealed = holder.seal(item, &serde_json::to_vec(value)?)?;
    let mut tx = ctx.db.begin().await?;
    sqlx::query(&format!(
        "INSERT INTO {table} (account_id, sealed, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) DO UPDATE SET sealed = $2, updated_at = $3"
    ))
    .bind(holder.account().as_str())
    .bind(sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &(&holder.principal).into(),
        action,
        None,
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Declares the holder's availability (replacing what was there).
#[utoipa::path(put, path = "/api/v1/availability", tag = "carnet", request_body = Object,
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn set_availability(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<Availability>,
) -> ApiResult<Json<Availability>> {
    let input = input
        .normalise()
        .map_err(|e| ApiError::invalid_field(e.field(), e.to_string()))?;
    store_sealed(
        &state,
        &holder,
        "holder_profiles",
        ITEM,
        &input,
        "availability.updated",
    )
    .await?;
    Ok(Json(input))
}
