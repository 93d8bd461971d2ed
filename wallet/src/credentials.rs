//! The holder's credentials: receiving them over OpenID4VCI (pre-authorized code flow, one
//! fresh holder key per copy), checking what arrives before storing it (issuer signature
//! against the keys the issuer publishes, binding to our key, status), and reading and deleting
//! them. Everything about a credential is sealed under the holder's data key.

use crate::WalletState;
use crate::vault::Holder;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_core::keys::{Algorithm, Jwk, SigningKey};
use carnet_core::metadata::{TrustedIssuers, well_known_url};
use carnet_core::oid4vci::{
    CredentialOffer, OfferSource, PRE_AUTHORIZED_GRANT, make_proof, parse_offer_link,
};
use carnet_core::sd_jwt::{self, StatusReference, VerifyOptions};
use carnet_core::status_list::{Status, StatusListToken};
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::remote::{self, Remote, fetch_list, issuer_jwks, status_in, status_name};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Copies asked for when the holder does not say, if the issuer allows that many.
const DEFAULT_COPIES: usize = 3;
const MAX_COPIES: usize = 10;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new()
        .routes(routes!(receive))
        .routes(routes!(list))
        .routes(routes!(get_one, delete_one))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receive {
    /// The offer as pasted or scanned: an `openid-credential-offer://` link, or the offer's URL.
    pub offer: String,
    /// The transaction code (PIN) the issuer gave separately, when the offer asks for one.
    #[serde(default)]
    pub tx_code: Option<String>,
    /// Copies to ask for, each bound to its own key (default 3, capped by the issuer's batch
    /// size; at most 10).
    #[serde(default)]
    pub copies: Option<usize>,
}

/// What the wallet keeps of a credential (sealed as a whole).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoredCredential {
    /// `dc+sd-jwt`.
    pub format: String,
    /// The SD-JWT VC as issued, with all its disclosures.
    pub sd_jwt: String,
    pub issuer: String,
    /// The issuer's display name from its metadata, when it gave one.
    pub issuer_name: Option<String>,
    pub vct: String,
    pub configuration_id: String,
    /// Every claim, disclosable or not, as the holder can reveal them.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    pub status_list: Option<String>,
    pub status_idx: Option<u64>,
    /// `valid`, `revoked`, `suspended` or `unknown`, as last checked.
    pub status: String,
    pub status_checked_at: Option<i64>,
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    pub id: String,
    pub received_at: i64,
    /// The wallet's own attestation (of the account's confirmed e-mail address).
    #[serde(default)]
    pub own: bool,
    /// Shared by the copies of one credential (each bound to its own key), and by nothing
    /// else: the carnet shows them as one, and deleting one deletes them all.
    #[serde(default)]
    pub copies: String,
    #[serde(flatten)]
    pub credential: StoredCredential,
}

/// An issuer's keys, fetched once per request.
pub(crate) struct IssuerInfo {
    keys: TrustedIssuers,
    jwks: carnet_core::metadata::Jwks,
}

/// The keys `issuer` publishes (its JWT VC Issuer Metadata), its address checked first.
pub(crate) async fn issuer_keys(remote: &Remote, issuer: &str) -> ApiResult<IssuerInfo> {
    remote.check(issuer, "issuer")?;
    let jwks = issuer_jwks(remote, issuer).await?;
    let mut keys = TrustedIssuers::default();
    keys.insert(issuer, &jwks)
        .map_err(|e| remote::invalid("the issuer's keys", e))?;
    Ok(IssuerInfo { keys, jwks })
}

/// The checks every credential passes before the wallet keeps it, received or restored from a
/// backup: the issuer's signature against the keys it publishes, the binding to `key` (the
/// holder key kept with it), and its status from the list the signed credential names (one
/// fetch per list, kept in `lists`). Returns what was verified and the status found (`None`
/// when it has no status list). Nothing the caller was told about the credential is trusted:
/// issuer, claims and status list all come from the signed credential.
pub(crate) async fn check(
    remote: &Remote,
    info: &IssuerInfo,
    sd_jwt: &str,
    key: &Jwk,
    now: i64,
    lists: &mut HashMap<String, StatusListToken>,
) -> ApiResult<(sd_jwt::Verified, Option<Status>)> {
    let verified = sd_jwt::verify(sd_jwt, &info.keys, &VerifyOptions::without_key_binding(now))
        .map_err(|e| remote::rejected(e.code()))?;
    if verified.holder.as_ref().map(Jwk::thumbprint) != Some(key.thumbprint()) {
        return Err(remote::rejected("it is not bound to the key we proved"));
    }
    let status = match &verified.status {
        None => None,
        Some(reference) => {
            if !lists.contains_key(&reference.uri) {
                remote.check(&reference.uri, "status")?;
                let list = fetch_list(remote, &info.jwks, &reference.uri, now).await?;
                lists.insert(reference.uri.clone(), list);
            }
            Some(status_in(&lists[&reference.uri], reference)?)
        }
    };
    Ok((verified, status))
}

/// What the wallet keeps of a credential it checked.
pub(crate) fn stored(
    sd_jwt: &str,
    verified: &sd_jwt::Verified,
    status: Option<Status>,
    issuer_name: Option<String>,
    configuration_id: String,
    now: i64,
) -> StoredCredential {
    StoredCredential {
        format: carnet_core::oid4vci::FORMAT_SD_JWT_VC.to_owned(),
        sd_jwt: sd_jwt.to_owned(),
        issuer: verified.issuer.clone(),
        issuer_name,
        vct: verified.vct.clone(),
        configuration_id,
        claims: verified.claims.clone(),
        status_list: verified.status.as_ref().map(|s| s.uri.clone()),
        status_idx: verified.status.as_ref().map(|s| s.idx),
        status: status.map_or("unknown", status_name).to_owned(),
        status_checked_at: status.map(|_| now),
        issued_at: verified.issued_at,
        expires_at: verified.expires_at,
    }
}

/// Receives the credentials of an offer: fetches the offer and the issuer's metadata, redeems
/// the pre-authorized code, proves possession of one fresh key per copy, checks every
/// credential and stores them.
#[utoipa::path(post, path = "/api/v1/credentials/receive", tag = "credentials", request_body = Receive,
    responses((status = 201, body = Vec<CredentialView>), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn receive(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<Receive>,
) -> ApiResult<(StatusCode, Json<Vec<CredentialView>>)> {
    let views = receive_offer(&state, &holder, input).await?;
    Ok((StatusCode::CREATED, Json(views)))
}

/// Receives and stores the credentials of an offer (see [`receive`]), for the API and the
/// pages alike.
pub async fn receive_offer(
    state: &WalletState,
    holder: &Holder,
    input: Receive,
) -> ApiResult<Vec<CredentialView>> {
    let remote = &state.remote;
    let copies = input.copies.unwrap_or(DEFAULT_COPIES);
    if !(1..=MAX_COPIES).contains(&copies) {
        return Err(ApiError::invalid_field("copies", "1 to 10"));
    }
    if input.offer.len() > 8192 {
        return Err(ApiError::invalid_field("offer", "too long"));
    }
    let offer_value = match parse_offer_link(&input.offer) {
        Some(OfferSource::ByValue(json)) => carnet_core::json::from_slice(json.as_bytes())
            .map_err(|_| ApiError::invalid_field("offer", "the offer is not JSON"))?,
        Some(OfferSource::ByReference(url)) => {
            remote.check(&url, "offer")?;
            remote.get_json(&url, "the credential offer").await?
        }
        None => {
            return Err(ApiError::invalid_field(
                "offer",
                "not a credential offer link (openid-credential-offer://…) or URL",
            ));
        }
    };
    let offer: CredentialOffer = serde_json::from_value(offer_value)
        .map_err(|e| remote::invalid("the credential offer", e))?;
    let (code, needs_tx_code) = offer
        .pre_authorized_code()
        .ok_or_else(|| remote::invalid("the credential offer", "no pre-authorized code"))?;
    let tx_code = input
        .tx_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if needs_tx_code && tx_code.is_none() {
        return Err(ApiError::invalid_field(
            "tx_code",
            "this offer needs the code the training centre gave you",
        ));
    }
    let issuer = offer.credential_issuer.as_str();
    remote.check(issuer, "offer")?;

    // The issuer's metadata, then its authorization server's.
    let what = "the credential issuer metadata";
    let url =
        well_known_url(issuer, "openid-credential-issuer").map_err(|e| remote::invalid(what, e))?;
    let metadata = remote.get_json(&url, what).await?;
    if metadata["credential_issuer"].as_str() != Some(issuer) {
        return Err(remote::invalid(what, "it names another issuer"));
    }
    let endpoint = |name: &str| {
        metadata[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| remote::invalid(what, format!("no {name}")))
    };
    let credential_endpoint = endpoint("credential_endpoint")?;
    let nonce_endpoint = metadata["nonce_endpoint"].as_str().map(str::to_owned);
    let batch_size = metadata["batch_credential_issuance"]["batch_size"]
        .as_u64()
        .map_or(1, |n| n.max(1) as usize);
    let authorization_server = metadata["authorization_servers"][0]
        .as_str()
        .unwrap_or(issuer);
    let what_as = "the authorization server metadata";
    let url = well_known_url(authorization_server, "oauth-authorization-server")
        .map_err(|e| remote::invalid(what_as, e))?;
    let as_metadata = remote.get_json(&url, what_as).await?;
    let token_endpoint = as_metadata["token_endpoint"]
        .as_str()
        .ok_or_else(|| remote::invalid(what_as, "no token_endpoint"))?;
    let issuer_name = metadata["display"]
        .as_array()
        .and_then(|d| d.first())
        .and_then(|d| d["name"].as_str())
        .map(str::to_owned);

    // The pre-authorized code, once; the token, nonce and credential requests are sent again
    // if the issuer restarts meanwhile (an OpenID4VCI issuer answers the same request alike).
    let again = remote.retrying();
    let mut form = vec![
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code),
    ];
    if let Some(tx_code) = tx_code {
        form.push(("tx_code", tx_code));
    }
    let token = again
        .post_form(token_endpoint, &form, "the token request")
        .await?;
    let access_token = token["access_token"]
        .as_str()
        .ok_or_else(|| remote::invalid("the token response", "no access_token"))?
        .to_owned();
    let info = issuer_keys(remote, issuer).await?;
    let now = state.ctx.clock.now_secs();

    let mut received = Vec::new();
    for configuration in &offer.credential_configuration_ids {
        let supported = &metadata["credential_configurations_supported"][configuration];
        if supported["format"].as_str() != Some(carnet_core::oid4vci::FORMAT_SD_JWT_VC) {
            return Err(remote::invalid(
                what,
                format!("{configuration} is not an SD-JWT VC"),
            ));
        }
        let algs: Vec<&str> =
            supported["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
        let alg = if algs.is_empty() || algs.iter().any(|a| matches!(*a, "EdDSA" | "Ed25519")) {
            Algorithm::EdDSA
        } else if algs.contains(&"ES256") {
            Algorithm::ES256
        } else {
            return Err(remote::invalid(
                what,
                "no proof algorithm this wallet supports",
            ));
        };
        let nonce = match &nonce_endpoint {
            Some(url) => again.post_form(url, &[], "the nonce request").await?["c_nonce"]
                .as_str()
                .map(str::to_owned),
            None => None,
        };
        let keys: Vec<SigningKey> = (0..copies.min(batch_size))
            .map(|_| SigningKey::generate(alg, &mut rand::rngs::OsRng))
            .collect();
        let proofs = keys
            .iter()
            .map(|k| make_proof(k, issuer, nonce.as_deref(), now).map_err(ApiError::internal))
            .collect::<ApiResult<Vec<_>>>()?;
        let response = again
            .post_json(
                &credential_endpoint,
                &json!({ "credential_configuration_id": configuration, "proofs": { "jwt": proofs } }),
                Some(&access_token),
                "the credential request",
            )
            .await?;
        let issued = response["credentials"]
            .as_array()
            .filter(|c| c.len() == keys.len())
            .ok_or_else(|| {
                remote::invalid("the credential response", "not one credential per proof")
            })?;
        // One fetch per status list, however many copies point into it.
        let mut lists: HashMap<String, StatusListToken> = HashMap::new();
        for (key, item) in keys.into_iter().zip(issued) {
            let sd_jwt = item["credential"].as_str().ok_or_else(|| {
                remote::invalid("the credential response", "a credential is not a string")
            })?;
            let (verified, status) =
                check(remote, &info, sd_jwt, &key.public_jwk(), now, &mut lists).await?;
            if let Some(status) = status.filter(|s| *s != Status::Valid) {
                return Err(remote::rejected(format!(
                    "its status is {}",
                    status_name(status)
                )));
            }
            received.push((
                key,
                stored(
                    sd_jwt,
                    &verified,
                    status,
                    issuer_name.clone(),
                    configuration.clone(),
                    now,
                ),
            ));
        }
    }

    let ctx = &state.ctx;
    let now_ms = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut views = Vec::with_capacity(received.len());
    for (key, credential) in received {
        let id = insert(
            &mut tx,
            ctx,
            holder,
            &key.private_jwk(),
            &credential,
            now_ms,
        )
        .await?;
        views.push(CredentialView {
            id,
            received_at: now_ms,
            own: false,
            copies: crate::carnet::copies_of(&credential),
            credential,
        });
    }
    // The audit row says that something arrived, not what: the log is not encrypted.
    audit::record(
        &mut tx,
        now_ms,
        &(&holder.principal).into(),
        "credential.received",
        None,
        None,
        json!({ "credentials": views.iter().map(|v| v.id.clone()).collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    // Profiles the holder asked to keep current now show this credential too.
    crate::directory::republish(state, holder).await;
    Ok(views)
}

/// Seals and inserts a credential with its holder key, in the caller's transaction.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    ctx: &carnet_service::Ctx,
    holder: &Holder,
    key: &Jwk,
    credential: &StoredCredential,
    now_ms: i64,
) -> ApiResult<String> {
    let account = holder.account().as_str();
    let key_id = format!("hky_{}", random_token(16));
    sqlx::query(
        "INSERT INTO holder_keys (id, account_id, sealed, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key_id)
    .bind(account)
    .bind(holder.seal(&key_id, &serde_json::to_vec(key)?)?)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    let id = format!("wcr_{}", random_token(16));
    sqlx::query(
        "INSERT INTO wallet_credentials (id, account_id, key_id, sealed, received_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(account)
    .bind(&key_id)
    .bind(holder.seal(&id, &serde_json::to_vec(credential)?)?)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if let (Some(uri), Some(idx)) = (&credential.status_list, credential.status_idx) {
        let reference = StatusReference {
            uri: uri.clone(),
            idx,
        };
        crate::status::track(
            conn,
            ctx,
            &id,
            &credential.issuer,
            &reference,
            &credential.status,
            credential.status_checked_at.map(|s| s * 1000),
        )
        .await?;
    }
    Ok(id)
}

/// Every credential of the holder, newest first, opened.
/// The wallet's own attestation of the confirmed e-mail address is brought up to date first,
/// and comes last: it was not received from anyone.
pub async fn all(state: &WalletState, holder: &Holder) -> ApiResult<Vec<CredentialView>> {
    let mut held = load(state, holder, None).await?;
    if crate::attestation::refresh(state, holder, &held).await? {
        held = load(state, holder, None).await?;
    }
    held.sort_by_key(|v| v.own);
    Ok(held)
}

/// The holder's credentials (or one), opened, with the status the refresh job last found.
async fn load(
    state: &WalletState,
    holder: &Holder,
    id: Option<&str>,
) -> ApiResult<Vec<CredentialView>> {
    type Row = (String, Vec<u8>, i64, Option<String>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.sealed, c.received_at, s.status, s.checked_at FROM wallet_credentials c \
         LEFT JOIN credential_status s ON s.credential_id = c.id \
         WHERE c.account_id = $1 AND ($2 IS NULL OR c.id = $2) ORDER BY c.received_at DESC, c.id",
    )
    .bind(holder.account().as_str())
    .bind(id)
    .fetch_all(state.ctx.db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, sealed, received_at, status, checked_at)| {
            let mut credential: StoredCredential =
                serde_json::from_slice(&holder.open(&id, &sealed)?)?;
            if let (Some(status), Some(at)) = (status, checked_at) {
                credential.status = status;
                credential.status_checked_at = Some(at.div_euclid(1000));
            }
            Ok(CredentialView {
                id,
                received_at,
                own: crate::attestation::is_own(&state.ctx, &credential),
                copies: crate::carnet::copies_of(&credential),
                credential,
            })
        })
        .collect()
}

/// The holder's credentials.
#[utoipa::path(get, path = "/api/v1/credentials", tag = "credentials",
    responses((status = 200, body = Vec<CredentialView>), (status = 401, body = Problem)))]
async fn list(
    State(state): State<WalletState>,
    holder: Holder,
) -> ApiResult<Json<Vec<CredentialView>>> {
    Ok(Json(all(&state, &holder).await?))
}

pub async fn find(state: &WalletState, holder: &Holder, id: &str) -> ApiResult<CredentialView> {
    if !looks_like_id(id) {
        return Err(ApiError::NotFound);
    }
    load(state, holder, Some(id))
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// One credential.
#[utoipa::path(get, path = "/api/v1/credentials/{id}", tag = "credentials",
    params(("id" = String, Path)), responses((status = 200, body = CredentialView), (status = 404, body = Problem)))]
async fn get_one(
    State(state): State<WalletState>,
    holder: Holder,
    Path(id): Path<String>,
) -> ApiResult<Json<CredentialView>> {
    Ok(Json(find(&state, &holder, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// `all`: the credential's copies too (as the carnet shows them, one credential).
    #[serde(default)]
    pub copies: Option<String>,
}

/// Deletes a copy of a credential and its holder key, or with `copies=all` every copy.
#[utoipa::path(delete, path = "/api/v1/credentials/{id}", tag = "credentials",
    params(("id" = String, Path), DeleteQuery), responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn delete_one(
    State(state): State<WalletState>,
    holder: Holder,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<DeleteQuery>,
) -> ApiResult<StatusCode> {
    if !looks_like_id(&id) {
        return Err(ApiError::NotFound);
    }
    let ctx = &state.ctx;
    // The copy, or the credential with all its copies.
    let held = load(&state, &holder, None).await?;
    let target = held.iter().find(|v| v.id == id).ok_or(ApiError::NotFound)?;
    let all = match query.copies.as_deref() {
        None => false,
        Some("all") => true,
        Some(_) => return Err(ApiError::invalid_field("copies", "all, or none")),
    };
    let mut tx = ctx.db.begin().await?;
    for copy in held
        .iter()
        .filter(|v| v.id == target.id || (all && v.copies == target.copies))
    {
        // The key goes, and its credential with it (ON DELETE CASCADE).
        sqlx::query(
            "DELETE FROM holder_keys WHERE id = (SELECT key_id FROM wallet_credentials WHERE id = $1 AND account_id = $2)",
        )
        .bind(&copy.id)
        .bind(holder.account().as_str())
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        ctx.now_ms(),
        &(&holder.principal).into(),
        "credential.deleted",
        Some(&id),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
