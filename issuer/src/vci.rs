//! The OpenID4VCI protocol endpoints of each organisation (`/orgs/{org}/…`): token (pre-authorized
//! code, optional transaction code), nonce, and credential (proofs of possession, one
//! credential per proof). Errors follow OAuth's `{"error": …}` form, as wallets expect.

use crate::offers::{self, tx_code_matches};
use crate::{IssuerState, keys, status};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::keys::Algorithm;
use carnet_core::oid4vci::{PRE_AUTHORIZED_GRANT, verify_proof};
use carnet_core::sd_jwt::{self, Credential, Disclose, StatusReference};
use carnet_service::audit::{self, Actor};
use carnet_service::crypto::SecretKey;
use carnet_service::error::ApiError;
use carnet_service::id::{hash_secret, looks_like_id, random_token};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Access tokens and nonces live five minutes; proofs may be five minutes off.
const SHORT_LIVED_MS: i64 = 5 * 60 * 1000;
/// How long after an issuance the same request gets the same credentials again.
pub const REPLAY_GRACE_MS: i64 = 10 * 60 * 1000;
/// Copies per request (distinct holder keys, for unlinkability).
pub const BATCH_SIZE: usize = 5;
/// Wrong transaction codes before an offer is locked.
const MAX_TX_CODE_FAILURES: i64 = 5;
/// Competency credentials are valid five years; their status says whether they still hold.
const CREDENTIAL_VALIDITY_SECS: i64 = 5 * 365 * 24 * 3600;

/// An OAuth / OpenID4VCI error response.
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.into(),
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(e: sqlx::Error) -> OAuthError {
        tracing::error!(error = %e, "database error in OpenID4VCI endpoint");
        oauth(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        )
    }
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> OAuthError {
        if e.status().is_server_error() {
            tracing::error!(error = %e, "error in OpenID4VCI endpoint");
        }
        oauth(e.status(), "server_error", e.to_string())
    }
}

type VciResult<T> = Result<T, OAuthError>;

fn org_ok(org: &str) -> VciResult<()> {
    if looks_like_id(org) {
        Ok(())
    } else {
        Err(oauth(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "unknown issuer",
        ))
    }
}

/// `POST /orgs/{org}/token`: exchanges a pre-authorized code (and its transaction code) for an
/// access token. A code works once.
pub async fn token(
    State(state): State<IssuerState>,
    Path(org): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    token_inner(&state, &org, &form)
        .await
        .map_or_else(IntoResponse::into_response, IntoResponse::into_response)
}

async fn token_inner(
    state: &IssuerState,
    org: &str,
    form: &HashMap<String, String>,
) -> VciResult<Response> {
    org_ok(org)?;
    let ctx = &state.ctx;
    if form.get("grant_type").map(String::as_str) != Some(PRE_AUTHORIZED_GRANT) {
        return Err(oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only the pre-authorized code grant",
        ));
    }
    let code = form
        .get("pre-authorized_code")
        .filter(|c| looks_like_id(c))
        .ok_or_else(|| {
            oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "pre-authorized_code is required",
            )
        })?;
    let now = ctx.now_ms();
    let offer = offers::find_by_code(ctx, org, code).await?;
    let invalid = |why: &str| oauth(StatusCode::BAD_REQUEST, "invalid_grant", why.to_owned());
    let offers::OfferState {
        id: offer_id,
        tx_code_hash: tx_hash,
        tx_code_failures: failures,
        expires_at,
        redeemed_at,
        ..
    } = offer.ok_or_else(|| invalid("unknown pre-authorized code"))?;
    match redeemed_at {
        // A wallet that lost the answer asks again: it gets the same token while it lives.
        Some(at) if at + SHORT_LIVED_MS <= now => {
            return Err(invalid("this pre-authorized code was already used"));
        }
        Some(_) => {}
        None if expires_at <= now => return Err(invalid("the offer expired")),
        None => {}
    }
    let locked = || invalid("too many wrong transaction codes; ask for a new offer");
    let pin_asked = tx_hash.is_some();
    if let Some(tx_hash) = tx_hash {
        if failures >= MAX_TX_CODE_FAILURES {
            return Err(locked());
        }
        // An attempt is taken before the code is compared, by one conditional statement: guesses
        // sent in parallel queue on the row, and at most MAX_TX_CODE_FAILURES are ever compared.
        // The right code gives its attempt back below.
        let taken = sqlx::query(
            "UPDATE credential_offers SET tx_code_failures = tx_code_failures + 1 \
             WHERE id = $1 AND tx_code_failures < $2",
        )
        .bind(&offer_id)
        .bind(MAX_TX_CODE_FAILURES)
        .execute(&mut *ctx.db.writer().await?)
        .await?;
        if taken.rows_affected() != 1 {
            return Err(locked());
        }
        let given = form.get("tx_code").map(String::as_str).unwrap_or_default();
        if !tx_code_matches(&offer_id, given, &tx_hash) {
            return Err(invalid("wrong transaction code"));
        }
    }
    let give_back = async {
        if pin_asked {
            sqlx::query(
                "UPDATE credential_offers SET tx_code_failures = tx_code_failures - 1 WHERE id = $1",
            )
            .bind(&offer_id)
            .execute(&mut *ctx.db.writer().await?)
            .await?;
        }
        Ok::<_, OAuthError>(())
    };
    if let Some(at) = redeemed_at {
        give_back.await?;
        return Ok(token_response(state, &offer_id, at, now));
    }
    let mut tx = ctx.db.begin().await?;
    let redeemed = sqlx::query(
        "UPDATE credential_offers SET redeemed_at = $1, tx_code_failures = tx_code_failures - $3 WHERE id = $2 AND redeemed_at IS NULL",
    )
    .bind(now)
    .bind(&offer_id)
    .bind(i64::from(pin_asked))
    .execute(&mut *tx)
    .await?;
    if redeemed.rows_affected() != 1 {
        // The same code, sent twice at once: the other request redeemed it; same answer.
        drop(tx);
        let at: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT redeemed_at FROM credential_offers WHERE id = $1")
                .bind(&offer_id)
                .fetch_optional(&mut *ctx.db.writer().await?)
                .await?;
        let at = at
            .and_then(|(at,)| at)
            .filter(|at| at + SHORT_LIVED_MS > now)
            .ok_or_else(|| invalid("this pre-authorized code was already used"))?;
        give_back.await?;
        return Ok(token_response(state, &offer_id, at, now));
    }
    sqlx::query(
        "INSERT INTO vci_access_tokens (token_hash, offer_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(hash_secret(&access_token(state, &offer_id, now)))
    .bind(&offer_id)
    .bind(now + SHORT_LIVED_MS)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "credential_offer.redeemed",
        Some(&offer_id),
        Some(org),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(token_response(state, &offer_id, now, now))
}

/// The access token of an offer redeemed at `redeemed_at`: derived from the offer under the
/// process's secret key, so that asking again with the same code gives the same token (only its
/// hash is stored).
fn access_token(state: &IssuerState, offer_id: &str, redeemed_at: i64) -> String {
    let input = format!("{offer_id}\0{redeemed_at}");
    carnet_core::b64::encode(
        state
            .ctx
            .config
            .secret_key
            .derive("openid4vci access token", input.as_bytes()),
    )
}

fn token_response(state: &IssuerState, offer_id: &str, redeemed_at: i64, now: i64) -> Response {
    let token = access_token(state, offer_id, redeemed_at);
    let expires_in = (redeemed_at + SHORT_LIVED_MS - now).div_euclid(1000).max(1);
    let body = json!({ "access_token": token, "token_type": "Bearer", "expires_in": expires_in });
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// `POST /orgs/{org}/nonce`: a fresh `c_nonce` for proofs (single use).
pub async fn nonce(State(state): State<IssuerState>, Path(org): Path<String>) -> Response {
    let run = async {
        org_ok(&org)?;
        let nonce = random_token(24);
        sqlx::query("INSERT INTO vci_nonces (nonce_hash, expires_at) VALUES ($1, $2)")
            .bind(hash_secret(&nonce))
            .bind(state.ctx.now_ms() + SHORT_LIVED_MS)
            .execute(&mut *state.ctx.db.writer().await?)
            .await?;
        Ok::<_, OAuthError>(
            (
                StatusCode::OK,
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(json!({ "c_nonce": nonce })),
            )
                .into_response(),
        )
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRequest {
    credential_configuration_id: Option<String>,
    credential_identifier: Option<String>,
    proofs: Option<Proofs>,
    /// The draft-era singular form, refused with a clear error.
    proof: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proofs {
    jwt: Vec<String>,
}

/// `POST /orgs/{org}/credential`: one credential per proof of possession, each bound to the
/// proven key and given its own status list entry.
pub async fn credential(
    State(state): State<IssuerState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    credential_inner(&state, &org, &headers, &body)
        .await
        .map_or_else(IntoResponse::into_response, IntoResponse::into_response)
}

async fn credential_inner(
    state: &IssuerState,
    org: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> VciResult<Response> {
    org_ok(org)?;
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let bad =
        |error: &'static str, why: &str| oauth(StatusCode::BAD_REQUEST, error, why.to_owned());
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            oauth(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "a Bearer access token is required",
            )
        })?;
    let token = token.trim();
    let grant = find_grant(ctx, token, org).await?.ok_or_else(|| {
        oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "unknown access token",
        )
    })?;
    let request: CredentialRequest = serde_json::from_slice(body)
        .map_err(|e| bad("invalid_credential_request", &e.to_string()))?;
    if request.proof.is_some() {
        return Err(bad(
            "invalid_credential_request",
            "use `proofs` (OpenID4VCI 1.0), not `proof`",
        ));
    }
    let configuration = &grant.configuration_id;
    match (
        &request.credential_configuration_id,
        &request.credential_identifier,
    ) {
        (Some(c), None) if c == configuration => {}
        (Some(_), None) => {
            return Err(bad(
                "unknown_credential_configuration",
                "not the configuration of this offer",
            ));
        }
        _ => {
            return Err(bad(
                "invalid_credential_request",
                "give credential_configuration_id (only)",
            ));
        }
    }
    let jwts = request.proofs.map(|p| p.jwt).unwrap_or_default();
    if jwts.is_empty() || jwts.len() > BATCH_SIZE {
        return Err(bad(
            "invalid_proof",
            &format!("1 to {BATCH_SIZE} proofs in `proofs.jwt`"),
        ));
    }
    let digest = request_digest(configuration, &jwts);
    if grant.used_at.is_some() {
        return replay(state, token, &grant, &digest, now);
    }
    if grant.expires_at <= now {
        return Err(oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token expired",
        ));
    }
    let issuer = offers::issuer_id(state, org);
    let now_secs = now.div_euclid(1000);
    let mut holders = Vec::with_capacity(jwts.len());
    let mut nonce = None;
    for jwt in &jwts {
        let proof = verify_proof(
            jwt,
            &issuer,
            now_secs,
            SHORT_LIVED_MS / 1000,
            &Algorithm::ALL,
        )
        .map_err(|e| bad("invalid_proof", &e.to_string()))?;
        let n = proof.nonce.ok_or_else(|| {
            bad(
                "invalid_nonce",
                "the proof has no nonce; get one from the nonce endpoint",
            )
        })?;
        if nonce.get_or_insert_with(|| n.clone()) != &n {
            return Err(bad(
                "invalid_proof",
                "all proofs of a request carry the same nonce",
            ));
        }
        holders.push(proof.jwk);
    }
    let key = keys::active_key(state, org).await?;
    let claims: Map<String, Value> =
        serde_json::from_str(&grant.claims).map_err(|e| ApiError::internal(e.to_string()))?;
    let vct = format!("{}/vct/{configuration}", ctx.config.public_url);

    let list = status::open_list(state, org, holders.len()).await?;
    let mut tx = ctx.db.begin().await?;
    // The token is spent with the issuance, and the request remembered so that the same
    // request, sent again by a wallet that lost the answer, gets the same answer.
    let used = sqlx::query(
        "UPDATE vci_access_tokens SET used_at = $1, request_digest = $3 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(hash_secret(token))
    .bind(&digest)
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        // The same request twice at once: the other one issued; its answer, once committed.
        drop(tx);
        return match find_grant(ctx, token, org).await? {
            Some(grant) => replay(state, token, &grant, &digest, now),
            None => Err(used_token()),
        };
    }
    // The nonce is consumed with the issuance: a replayed proof finds it used.
    let consumed = sqlx::query("UPDATE vci_nonces SET used_at = $1 WHERE nonce_hash = $2 AND used_at IS NULL AND expires_at > $1")
        .bind(now)
        .bind(hash_secret(nonce.as_deref().unwrap_or_default()))
        .execute(&mut *tx)
        .await?;
    if consumed.rows_affected() != 1 {
        return Err(bad(
            "invalid_nonce",
            "unknown, expired or already used nonce; get a fresh one",
        ));
    }
    let mut credentials = Vec::with_capacity(holders.len());
    for holder in holders {
        let row = status::NewCredential {
            id: format!("crd_{}", random_token(16)),
            account: grant.account_id.clone(),
            offer: grant.offer_id.clone(),
            configuration: configuration.clone(),
            vct: vct.clone(),
            kid: key.kid().to_owned(),
            holder_thumbprint: holder.thumbprint(),
            issued_at: now,
            expires_at: Some(now + CREDENTIAL_VALIDITY_SECS * 1000),
        };
        let entry = status::insert_with_index(&mut tx, ctx, &list, org, &row).await?;
        let credential = Credential {
            issuer: issuer.clone(),
            vct: vct.clone(),
            issued_at: now_secs,
            not_before: None,
            expires_at: Some(now_secs + CREDENTIAL_VALIDITY_SECS),
            holder: Some(holder),
            status: Some(StatusReference {
                idx: entry.idx,
                uri: entry.uri.clone(),
            }),
            claims: claims.clone(),
            disclose: Disclose::All,
            max_decoys: 2,
        };
        let sd_jwt = sd_jwt::issue(&credential, &key, &mut rand::rngs::OsRng)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        audit::record(&mut tx, now, &Actor::system(), "credential.issued", Some(&row.id), Some(org),
            json!({ "offer": grant.offer_id, "account": grant.account_id, "status_list": entry.list_id, "idx": entry.idx })).await?;
        credentials.push(json!({ "credential": sd_jwt }));
    }
    let body = serde_json::to_vec(&json!({ "credentials": credentials }))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let sealed = response_key(state, token)
        .seal(&hash_secret(token), &body)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    sqlx::query("UPDATE vci_access_tokens SET response_sealed = $1 WHERE token_hash = $2")
        .bind(sealed)
        .bind(hash_secret(token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(credential_response(body))
}

/// An access token and its offer, as the credential endpoint reads them.
#[derive(sqlx::FromRow)]
struct Grant {
    offer_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    request_digest: Option<String>,
    response_sealed: Option<Vec<u8>>,
    account_id: String,
    configuration_id: String,
    claims: String,
}

async fn find_grant(
    ctx: &carnet_service::Ctx,
    token: &str,
    org: &str,
) -> Result<Option<Grant>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.offer_id, t.expires_at, t.used_at, t.request_digest, t.response_sealed, o.account_id, o.configuration_id, o.claims \
         FROM vci_access_tokens t JOIN credential_offers o ON o.id = t.offer_id \
         WHERE t.token_hash = $1 AND o.organisation_id = $2",
    )
    .bind(hash_secret(token))
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await
}

/// What identifies a credential request: its configuration and its proofs, in order.
fn request_digest(configuration: &str, proofs: &[String]) -> String {
    let mut text = configuration.to_owned();
    for proof in proofs {
        text.push('\n');
        text.push_str(proof);
    }
    hash_secret(&text)
}

/// The key the response to an access token is sealed under: derived from the token itself,
/// which the database holds only as a hash.
fn response_key(state: &IssuerState, token: &str) -> SecretKey {
    SecretKey::from_bytes(
        state
            .ctx
            .config
            .secret_key
            .derive("openid4vci credential response", token.as_bytes()),
    )
}

fn used_token() -> OAuthError {
    oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "the access token expired or was used",
    )
}

/// The answer already given to this access token, when the same request comes again within
/// [`REPLAY_GRACE_MS`] of the issuance: the wallet lost it (a crash, a dropped connection).
fn replay(
    state: &IssuerState,
    token: &str,
    grant: &Grant,
    digest: &str,
    now: i64,
) -> VciResult<Response> {
    let (Some(used_at), Some(stored), Some(sealed)) = (
        grant.used_at,
        grant.request_digest.as_deref(),
        grant.response_sealed.as_deref(),
    ) else {
        return Err(used_token());
    };
    if used_at + REPLAY_GRACE_MS <= now || stored != digest {
        return Err(used_token());
    }
    let body = response_key(state, token)
        .open(&hash_secret(token), sealed)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    tracing::info!(offer = %grant.offer_id, "credential response given again");
    Ok(credential_response(body))
}

fn credential_response(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        body,
    )
        .into_response()
}
