//! Availability ("disponibilités"): what the holder declares of their situation — in training,
//! seeking a job, employed — from when they are available, where (French regions) and for which
//! contracts. Sealed in the store like everything else; shared only when the holder publishes
//! a profile.

use crate::WalletState;
use crate::vault::Holder;
use axum::extract::State;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new().routes(routes!(get_availability, set_availability))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    InTraining,
    Seeking,
    Employed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    Cdi,
    Cdd,
    Interim,
    Alternance,
    Stage,
    Freelance,
}

/// The regions of France by INSEE code (2016 boundaries), overseas included.
pub const REGIONS: [(&str, &str); 18] = [
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Île-de-France"),
    ("24", "Centre-Val de Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// Not declared yet when absent.
    #[serde(default)]
    pub situation: Option<Situation>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub available_from: Option<String>,
    /// INSEE region codes (`84` Auvergne-Rhône-Alpes, `11` Île-de-France…).
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub contracts: Vec<Contract>,
}

impl Availability {
    fn check(&self) -> ApiResult<()> {
        if let Some(date) = &self.available_from {
            carnet_service::clock::check_date("available_from", date)?;
        }
        if let Some(unknown) = self
            .regions
            .iter()
            .find(|r| !REGIONS.iter().any(|(code, _)| code == r))
        {
            return Err(ApiError::invalid_field(
                "regions",
                format!("{unknown} is not a region code (INSEE: 84, 11…)"),
            ));
        }
        Ok(())
    }
}

const ITEM: &str = "availability";

/// The holder's availability as declared (empty until they say).
#[utoipa::path(get, path = "/api/v1/availability", tag = "carnet",
    responses((status = 200, body = Availability), (status = 401, body = Problem)))]
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
        None => Ok(Availability {
            situation: None,
            available_from: None,
            regions: Vec::new(),
            contracts: Vec::new(),
        }),
    }
}

/// Declares the holder's availability (replacing what was there).
#[utoipa::path(put, path = "/api/v1/availability", tag = "carnet", request_body = Availability,
    responses((status = 200, body = Availability), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn set_availability(
    State(state): State<WalletState>,
    holder: Holder,
    Json(mut input): Json<Availability>,
) -> ApiResult<Json<Availability>> {
    input.check()?;
    input.regions.sort();
    input.regions.dedup();
    input.contracts.dedup();
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
