//! What the wallet attests itself: the account's e-mail address, once its owner confirmed it
//! by the mailed code (`carnet_service::addresses`). The wallet issues the holder an SD-JWT VC
//! of its own (`vct` `<wallet>/vct/email`, the address selectively disclosable, bound to a
//! fresh holder key, valid 30 days), signed by a key derived from the service's secret key and
//! published as JWT VC Issuer Metadata at `/.well-known/jwt-vc-issuer<prefix>`. It sits in the
//! carnet like any credential and answers a verifier's query for an e-mail address; a
//! verifier that trusts this wallet as an issuer shows the address as verified. The
//! attestation follows the account: a changed or unconfirmed address, an expiring
//! attestation or a new signing key replaces or removes it the next time the carnet is read.

use crate::WalletState;
use crate::credentials::{self, CredentialView};
use crate::vault::Holder;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::metadata::{Jwks, JwtVcIssuerMetadata, TrustedIssuers};
use carnet_core::sd_jwt::{self, Credential, Disclose, VerifyOptions};
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult};
use rand::SeedableRng;
use serde_json::{Map, json};

/// How long an attestation is valid, and how long before its end it is replaced.
const VALIDITY_SECS: i64 = 30 * 24 * 3600;
const RENEW_BEFORE_SECS: i64 = 7 * 24 * 3600;
/// The configuration name the carnet keeps it under.
pub const CONFIGURATION: &str = "email";

/// The wallet's signing key for its attestations: derived from the service's secret key, so
/// every instance of a deployment signs with the same key and nothing more is stored.
pub fn signing_key(ctx: &Ctx) -> SigningKey {
    let seed = ctx
        .config
        .secret_key
        .derive("wallet.attestation-key", b"ES256");
    SigningKey::generate(Algorithm::ES256, &mut rand::rngs::StdRng::from_seed(seed))
}

/// The wallet as an issuer: its public URL.
pub fn issuer(ctx: &Ctx) -> &str {
    &ctx.config.public_url
}

/// The type of the e-mail attestation.
pub fn vct(ctx: &Ctx) -> String {
    format!("{}/vct/email", issuer(ctx))
}

/// Whether a credential of the carnet is the wallet's own attestation.
pub fn is_own(ctx: &Ctx, credential: &credentials::StoredCredential) -> bool {
    credential.issuer == issuer(ctx) && credential.vct == vct(ctx)
}

fn jwks(state: &WalletState) -> Jwks {
    Jwks {
        keys: vec![state.attestation.public_jwk()],
    }
}

/// The well-known route, to mount at the host root.
pub fn well_known(state: WalletState) -> Router {
    let prefix = state.ctx.config.path_prefix().to_owned();
    Router::new()
        .route(
            &format!("/.well-known/jwt-vc-issuer{prefix}"),
            get(jwt_vc_issuer),
        )
        .with_state(state)
}

async fn jwt_vc_issuer(State(state): State<WalletState>) -> impl IntoResponse {
    let metadata = JwtVcIssuerMetadata {
        issuer: issuer(&state.ctx).to_owned(),
        jwks: Some(jwks(&state)),
        jwks_uri: None,
    };
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(metadata),
    )
}

/// Brings the holder's e-mail attestation in line with the account, given the credentials
/// just read: keeps one that attests the confirmed address, verifies under the current key
/// and is not near its end; removes any other; issues one if none is kept and the address is
/// confirmed. Whether anything changed.
pub async fn refresh(
    state: &WalletState,
    holder: &Holder,
    held: &[CredentialView],
) -> ApiResult<bool> {
    let ctx = &state.ctx;
    let now = ctx.clock.now_secs();
    let principal = &holder.principal;
    let address = principal.email_verified.then_some(principal.email.as_str());
    let mut trust = TrustedIssuers::default();
    trust
        .insert(issuer(ctx), &jwks(state))
        .map_err(ApiError::internal)?;
    let sound = |v: &CredentialView| {
        address.is_some()
            && v.credential.claims.get("email").and_then(|e| e.as_str()) == address
            && v.credential
                .expires_at
                .is_some_and(|end| end > now + RENEW_BEFORE_SECS)
            && sd_jwt::verify(
                &v.credential.sd_jwt,
                &trust,
                &VerifyOptions::without_key_binding(now),
            )
            .is_ok()
    };
    let own: Vec<&CredentialView> = held.iter().filter(|v| is_own(ctx, &v.credential)).collect();
    let kept = own.iter().position(|v| sound(v));
    let stale: Vec<&str> = own
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != kept)
        .map(|(_, v)| v.id.as_str())
        .collect();
    let issue = match (kept, address) {
        (None, Some(address)) => Some(address),
        _ => None,
    };
    if stale.is_empty() && issue.is_none() {
        return Ok(false);
    }
    let now_ms = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    for id in &stale {
        // The key goes, and its credential with it (ON DELETE CASCADE).
        sqlx::query(
            "DELETE FROM holder_keys WHERE id = (SELECT key_id FROM wallet_credentials WHERE id = $1 AND account_id = $2)",
        )
        .bind(id)
        .bind(holder.account().as_str())
        .execute(&mut *tx)
        .await?;
    }
    let mut issued = None;
    if let Some(address) = issue {
        let key = SigningKey::generate(Algorithm::ES256, &mut rand::rngs::OsRng);
        let mut claims = Map::new();
        claims.insert("email".into(), address.into());
        let credential = Credential {
            issuer: issuer(ctx).to_owned(),
            vct: vct(ctx),
            issued_at: now,
            not_before: None,
            expires_at: Some(now + VALIDITY_SECS),
            holder: Some(key.public_jwk()),
            status: None,
            claims,
            disclose: Disclose::All,
            max_decoys: 2,
        };
        let sd_jwt = sd_jwt::issue(&credential, &state.attestation, &mut rand::rngs::OsRng)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let verified = sd_jwt::verify(&sd_jwt, &trust, &VerifyOptions::without_key_binding(now))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let mut stored = credentials::stored(
            &sd_jwt,
            &verified,
            None,
            None,
            CONFIGURATION.to_owned(),
            now_ms,
        );
        // No status list: valid until it ends, and replaced before.
        stored.status = "valid".to_owned();
        stored.status_checked_at = Some(now);
        let id =
            credentials::insert(&mut tx, ctx, holder, &key.private_jwk(), &stored, now_ms).await?;
        issued = Some(id);
    }
    audit::record(
        &mut tx,
        now_ms,
        &principal.into(),
        "attestation.email",
        issued.as_deref(),
        None,
        json!({ "issued": issued.is_some(), "removed": stale.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
