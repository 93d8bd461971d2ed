//! Retention (CNIL): what a candidate disclosed is deleted once `retention_days` (two years by
//! default) have passed since the last contact with that company — the acceptance or a chat
//! message — and a profile nobody has been in contact with for as long goes with everything
//! attached. The candidate can also erase a disclosure at once from the wallet (`offers`), or
//! everything by withdrawing the profile (`directory`). Expired presentation requests and
//! holder proofs go sooner, every ten minutes (`vp::PURGE_REQUESTS`).

use carnet_service::Ctx;
use carnet_service::audit::{self, Actor};
use carnet_service::error::ApiResult;
use carnet_service::jobs::Outcome;
use serde_json::{Value, json};

pub const RETENTION: &str = "verifier.retention";
const EVERY_MS: i64 = 24 * 3600 * 1000;

/// What one pass deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub disclosures: u64,
    pub profiles: u64,
}

pub async fn run(ctx: &Ctx) -> ApiResult<Deleted> {
    let now = ctx.now_ms();
    let before = now - ctx.config.retention_days * 24 * 3600 * 1000;
    let mut tx = ctx.db.begin().await?;
    let disclosures = sqlx::query("DELETE FROM disclosures WHERE last_contact_at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let profiles = sqlx::query("DELETE FROM profiles WHERE last_contact_at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if disclosures + profiles > 0 {
        audit::record(
            &mut tx,
            now,
            &Actor::system(),
            "retention.applied",
            None,
            None,
            json!({ "disclosures": disclosures, "profiles": profiles, "retention_days": ctx.config.retention_days }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Deleted {
        disclosures,
        profiles,
    })
}

pub async fn job(ctx: Ctx, _: Value) -> Result<Outcome, String> {
    run(&ctx).await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(ctx.now_ms() + EVERY_MS))
}
