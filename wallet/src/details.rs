//! The personal details the holder declares ("mes coordonnées"): a phone number, a town, a
//! short presentation, links — whatever an offer asks that no centre attested. Sealed like
//! everything else; kept to fill the next answer; sent only inside an acceptance, signed by the
//! holder in its consent receipt, where the recruiter sees them as declared.

use crate::WalletState;
use crate::availability::{load_sealed, store_sealed};
use crate::vault::Holder;
use axum::extract::State;
pub use carnet_core::declared::Declared;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new().routes(routes!(get_details, set_details))
}

const ITEM: &str = "declared-details";
const TABLE: &str = "holder_details";

/// The details the holder declared (empty until they say).
#[utoipa::path(get, path = "/api/v1/details", tag = "carnet",
    responses((status = 200, body = Object), (status = 401, body = Problem)))]
async fn get_details(
    State(state): State<WalletState>,
    holder: Holder,
) -> ApiResult<Json<Declared>> {
    Ok(Json(load(&state, &holder).await?))
}

pub async fn load(state: &WalletState, holder: &Holder) -> ApiResult<Declared> {
    load_sealed(state, holder, TABLE, ITEM).await
}

/// Checks and keeps the holder's declared details (replacing what was there).
pub async fn save(state: &WalletState, holder: &Holder, input: Declared) -> ApiResult<Declared> {
    let input = input
        .normalise()
        .map_err(|e| ApiError::invalid_field(e.field, e.reason))?;
    store_sealed(state, holder, TABLE, ITEM, &input, "details.updated").await?;
    Ok(input)
}

/// Declares the holder's personal details (replacing what was there).
#[utoipa::path(put, path = "/api/v1/details", tag = "carnet", request_body = Object,
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn set_details(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<Declared>,
) -> ApiResult<Json<Declared>> {
    Ok(Json(save(&state, &holder, input).await?))
}
