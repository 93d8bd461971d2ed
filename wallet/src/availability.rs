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
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT sealed FROM holder_profiles WHERE account_id = $1")
            .bind(holder.account().as_str())
            .fetch_optional(state.ctx.db.pool())
            .await?;
    match row {
        Some((sealed,)) => Ok(serde_json::from_slice(&holder.open(ITEM, &sealed)?)?),
        None => Ok(Availability::default()),
    }
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
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let sealed = holder.seal(ITEM, &serde_json::to_vec(&input)?)?;
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO holder_profiles (account_id, sealed, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) DO UPDATE SET sealed = $2, updated_at = $3",
    )
    .bind(holder.account().as_str())
    .bind(sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &(&holder.principal).into(),
        "availability.updated",
        None,
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(input))
}
