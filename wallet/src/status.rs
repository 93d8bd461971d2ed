//! Keeping each credential's status current: a job reads every credential's status list entry
//! (revoked, suspended, valid again) while the holder is away. The job cannot open the
//! holders' stores, so each credential's status reference (issuer, list URL, index) is sealed
//! separately under the service's secret key — the database alone still reveals nothing — and
//! the job writes only the status it finds.

use carnet_core::metadata::Jwks;
use carnet_core::sd_jwt::StatusReference;
use carnet_core::status_list::StatusListToken;
use carnet_service::Ctx;
use carnet_service::error::{ApiError, ApiResult};
use carnet_service::jobs::Outcome;
use carnet_service::remote::{Remote, fetch_list, issuer_jwks, status_in};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The job's kind, and how often it runs.
pub const REFRESH_STATUS: &str = "wallet.refresh_status";
const EVERY_MS: i64 = 3600 * 1000;
/// Credentials checked per run, at most (the rest wait for the next run).
const PER_RUN: i64 = 5000;

#[derive(Serialize, Deserialize)]
struct SealedReference {
    issuer: String,
    uri: String,
    idx: u64,
}

/// Records where `credential`'s status is, in the caller's transaction.
pub async fn track(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    credential: &str,
    issuer: &str,
    reference: &StatusReference,
    status: &str,
    checked_at: Option<i64>,
) -> ApiResult<()> {
    let sealed = ctx
        .config
        .secret_key
        .seal(
            credential,
            &serde_json::to_vec(&SealedReference {
                issuer: issuer.to_owned(),
                uri: reference.uri.clone(),
                idx: reference.idx,
            })?,
        )
        .map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO credential_status (credential_id, sealed_reference, status, checked_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(credential)
    .bind(sealed)
    .bind(status)
    .bind(checked_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The job: every tracked credential not checked for an hour, grouped by status list (one
/// fetch per list, one key lookup per issuer).
pub async fn refresh(ctx: Ctx, _: serde_json::Value) -> Result<Outcome, String> {
    refresh_now(&ctx).await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(ctx.now_ms() + EVERY_MS))
}

/// One pass; returns how many credentials changed status.
pub async fn refresh_now(ctx: &Ctx) -> ApiResult<usize> {
    let now = ctx.now_ms();
    let rows: Vec<(String, Vec<u8>, String)> = sqlx::query_as(
        "SELECT credential_id, sealed_reference, status FROM credential_status \
         WHERE status <> 'revoked' AND (checked_at IS NULL OR checked_at < $1) ORDER BY checked_at LIMIT $2",
    )
    .bind(now - EVERY_MS + 60_000)
    .bind(PER_RUN)
    .fetch_all(ctx.db.pool())
    .await?;
    let remote = Remote::new(&ctx.config);
    let mut keys: HashMap<String, Option<Jwks>> = HashMap::new();
    // One fetch per status list per run; `None` when it could not be had this time.
    let mut lists: HashMap<String, Option<StatusListToken>> = HashMap::new();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut changed = 0;
    for (credential, sealed, previous) in rows {
        let Ok(reference) = ctx
            .config
            .secret_key
            .open(&credential, &sealed)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<SealedReference>(&b).map_err(|e| e.to_string()))
        else {
            tracing::warn!(%credential, "unreadable status reference");
            continue;
        };
        if !keys.contains_key(&reference.issuer) {
            keys.insert(
                reference.issuer.clone(),
                issuer_jwks(&remote, &reference.issuer).await.ok(),
            );
        }
        let Some(jwks) = keys[&reference.issuer].as_ref() else {
            continue; // the issuer is unreachable: try again next time
        };
        let status_ref = StatusReference {
            idx: reference.idx,
            uri: reference.uri.clone(),
        };
        if !lists.contains_key(&reference.uri) {
            let list = fetch_list(&remote, jwks, &reference.uri, now.div_euclid(1000)).await;
            if let Err(e) = &list {
                tracing::warn!(list = %reference.uri, error = %e, "status list unavailable");
            }
            lists.insert(reference.uri.clone(), list.ok());
        }
        let Some(list) = &lists[&reference.uri] else {
            continue; // try again next time
        };
        match status_in(list, &status_ref) {
            Ok(status) => {
                let name = carnet_service::remote::status_name(status).to_owned();
                if name != previous {
                    changed += 1;
                }
                found.push((credential, name));
            }
            Err(e) => tracing::warn!(%credential, error = %e, "no such status entry"),
        }
    }
    if !found.is_empty() {
        let mut tx = ctx.db.begin().await?;
        for (credential, status) in &found {
            sqlx::query("UPDATE credential_status SET status = $1, checked_at = $2 WHERE credential_id = $3")
                .bind(status)
                .bind(now)
                .bind(credential)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(changed)
}
