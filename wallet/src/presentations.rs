//! Presenting credentials over OpenID4VP 1.0: the holder pastes or scans a request; the wallet
//! reads it (by value, or fetching the request object), finds the credentials answering each
//! DCQL credential query, and shows exactly which claims are required and which optional. The
//! holder picks a credential per query and the optional claims to share; the wallet builds each
//! presentation with key binding (`aud` = the verifier's client identifier, its `nonce`), posts
//! the `vp_token` to the `response_uri` (`direct_post`) with a consent receipt signed by the
//! holder's key, and logs what it shared, with whom and when, in the holder's store. Declining
//! sends nothing.

use crate::WalletState;
use crate::credentials::{self, CredentialView};
use crate::details::Declared;
use crate::vault::Holder;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_core::keys::{Algorithm, Jwk, SigningKey};
use carnet_core::oid4vp::{
    self, AuthorizationRequest, ConsentReceipt, RequestSource, SharedClaims,
};
use carnet_core::path::ClaimPath;
use carnet_core::sd_jwt::{KeyBindingInput, SdJwt};
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::remote;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A pending request is answered within this time, or forgotten.
const PENDING_MS: i64 = 15 * 60 * 1000;

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new()
        .routes(routes!(open_request))
        .routes(routes!(respond))
        .routes(routes!(decline))
        .routes(routes!(log))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// The `openid4vp://` link, as pasted or scanned.
    pub request: String,
}

/// A request as the holder sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingRequest {
    pub id: String,
    /// Who asks: the verifier's client identifier.
    pub client_id: String,
    /// Where the answer goes.
    pub response_uri: String,
    pub queries: Vec<QueryView>,
    /// Whether the holder has what it takes to answer.
    pub answerable: bool,
    pub expires_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueryView {
    pub query_id: String,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Candidate {
    pub credential_id: String,
    pub issuer: String,
    pub issuer_name: Option<String>,
    /// The wallet's own attestation (of the account's confirmed e-mail address).
    pub own: bool,
    pub vct: String,
    /// Claim paths that will be shared.
    #[schema(value_type = Vec<Object>)]
    pub required: Vec<ClaimPath>,
    /// Claim paths the holder may add.
    #[schema(value_type = Vec<Object>)]
    pub optional: Vec<ClaimPath>,
}

/// What the wallet keeps of a pending request (sealed).
#[derive(Serialize, Deserialize)]
struct Pending {
    request: Map<String, Value>,
}

fn candidates(request: &AuthorizationRequest, held: &[CredentialView]) -> Vec<QueryView> {
    request
        .dcql_query
        .credentials
        .iter()
        .map(|query| QueryView {
            query_id: query.id.clone(),
            candidates: held
                .iter()
                .filter(|v| v.credential.status == "valid" || v.credential.status == "unknown")
                .filter_map(|v| {
                    let requested = query.requested(&v.credential.vct, &v.credential.claims)?;
                    Some(Candidate {
                        credential_id: v.id.clone(),
                        issuer: v.credential.issuer.clone(),
                        issuer_name: v.credential.issuer_name.clone(),
                        own: v.own,
                        vct: v.credential.vct.clone(),
                        required: requested.required,
                        optional: requested.optional,
                    })
                })
                .collect(),
        })
        .collect()
}

fn view(
    id: &str,
    request: &AuthorizationRequest,
    held: &[CredentialView],
    expires_at: i64,
) -> PendingRequest {
    let queries = candidates(request, held);
    let answerable_ids: Vec<&str> = queries
        .iter()
        .filter(|q| !q.candidates.is_empty())
        .map(|q| q.query_id.as_str())
        .collect();
    PendingRequest {
        id: id.to_owned(),
        client_id: request.client_id.clone(),
        response_uri: request.response_uri.clone(),
        answerable: request.dcql_query.satisfied_by(&answerable_ids),
        queries,
        expires_at,
    }
}

/// Reads a presentation request and shows what it asks, with the credentials that answer it.
#[utoipa::path(post, path = "/api/v1/presentations/requests", tag = "presentations", request_body = OpenRequest,
    responses((status = 201, body = PendingRequest), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn open_request(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<OpenRequest>,
) -> ApiResult<(StatusCode, Json<PendingRequest>)> {
    if input.request.len() > 16 * 1024 {
        return Err(ApiError::invalid_field("request", "too long"));
    }
    let invalid = |e: oid4vp::RequestError| ApiError::invalid_field("request", e.to_string());
    let request = match oid4vp::parse_request_link(&input.request).map_err(invalid)? {
        RequestSource::ByValue(request) => request,
        RequestSource::ByReference {
            client_id,
            request_uri,
            method,
        } => {
            if method != "get" {
                return Err(ApiError::invalid_field(
                    "request",
                    "request_uri_method post is not supported",
                ));
            }
            let jwt = state
                .remote
                .get_text(
                    &request_uri,
                    oid4vp::REQUEST_OBJECT_MEDIA_TYPE,
                    "the request object",
                )
                .await?;
            oid4vp::parse_request_object(&jwt, &client_id)
                .map_err(|e| remote::invalid("the request object", e))?
        }
    };
    state.remote.check(&request.response_uri, "request")?;
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let id = format!("vpr_{}", random_token(16));
    // Requests left unanswered are forgotten when the next one comes.
    sqlx::query("DELETE FROM presentation_requests WHERE account_id = $1 AND expires_at <= $2")
        .bind(holder.account().as_str())
        .bind(now)
        .execute(&mut *ctx.db.writer().await?)
        .await?;
    let sealed = holder.seal(
        &id,
        &serde_json::to_vec(&Pending {
            request: request.to_object(),
        })?,
    )?;
    sqlx::query(
        "INSERT INTO presentation_requests (id, account_id, sealed, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(holder.account().as_str())
    .bind(sealed)
    .bind(now)
    .bind(now + PENDING_MS)
    .execute(&mut *ctx.db.writer().await?)
    .await?;
    let held = credentials::all(&state, &holder).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&id, &request, &held, now + PENDING_MS)),
    ))
}

async fn pending(
    state: &WalletState,
    holder: &Holder,
    id: &str,
) -> ApiResult<AuthorizationRequest> {
    if !looks_like_id(id) {
        return Err(ApiError::NotFound);
    }
    let (sealed,): (Vec<u8>,) = sqlx::query_as(
        "SELECT sealed FROM presentation_requests WHERE id = $1 AND account_id = $2 AND expires_at > $3",
    )
    .bind(id)
    .bind(holder.account().as_str())
    .bind(state.ctx.now_ms())
    .fetch_optional(state.ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let pending: Pending = serde_json::from_slice(&holder.open(id, &sealed)?)?;
    AuthorizationRequest::from_object(&pending.request).map_err(ApiError::internal)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// One choice per credential query answered (several for a query that allows `multiple`).
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// What the holder declares of themselves (to a Carnet recruiter accepting an offer):
    /// sent in the consent receipt, signed by the holder, shown as declared.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub declared: Option<Declared>,
    /// Who the holder is answering, as they know them (a company's name from the inbox):
    /// kept in the share history, never sent.
    #[serde(default)]
    pub audience: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub query_id: String,
    pub credential_id: String,
    /// The optional claims the holder agrees to share.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub optional: Vec<ClaimPath>,
}

/// An entry of the presentation log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Shared {
    pub id: String,
    pub client_id: String,
    pub response_uri: String,
    pub at: i64,
    /// Who it was shared with, in the holder's words (see [`Response::audience`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub credentials: Vec<SharedCredential>,
    /// The consent receipt sent with the presentations, signed by the holder.
    pub consent_receipt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SharedCredential {
    pub credential_id: String,
    /// The query answered, the credential's issuer and type, the claims shared: as the
    /// consent receipt says them.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub shared: SharedClaims,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sent {
    pub shared: Shared,
    /// Where the verifier asks the holder to go next, if it said.
    pub redirect_uri: Option<String>,
}

/// Answers a request with the holder's choices: builds the presentations, posts them to the
/// verifier and logs what was shared.
#[utoipa::path(post, path = "/api/v1/presentations/requests/{id}/response", tag = "presentations", request_body = Response,
    params(("id" = String, Path)),
    responses((status = 200, body = Sent), (status = 404, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn respond(
    State(state): State<WalletState>,
    holder: Holder,
    Path(id): Path<String>,
    Json(input): Json<Response>,
) -> ApiResult<Json<Sent>> {
    let request = pending(&state, &holder, &id).await?;
    let declared = input
        .declared
        .map(|d| {
            d.normalise()
                .map_err(|e| ApiError::invalid_field(e.field, e.reason))
        })
        .transpose()?
        .filter(|d| !d.is_empty())
        .map(|d| serde_json::to_value(d).expect("details serialise"));
    let (shared, answer) = answer(
        &state,
        &holder,
        &request,
        &input.choices,
        declared,
        Some(&id),
        input.audience,
    )
    .await?;
    Ok(Json(Sent {
        redirect_uri: answer["redirect_uri"].as_str().map(str::to_owned),
        shared,
    }))
}

fn verifier_key_id(holder: &Holder, client_id: &str) -> String {
    format!("vk_{}", holder.tag(&format!("verifier:{client_id}")))
}

/// The holder's key for one verifier, if there is one yet.
pub async fn existing_verifier_key(
    state: &WalletState,
    holder: &Holder,
    client_id: &str,
) -> ApiResult<Option<SigningKey>> {
    let id = verifier_key_id(holder, client_id);
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT sealed FROM holder_keys WHERE id = $1 AND account_id = $2")
            .bind(&id)
            .bind(holder.account().as_str())
            .fetch_optional(state.ctx.db.pool())
            .await?;
    row.map(|(sealed,)| {
        let jwk: Jwk = serde_json::from_slice(&holder.open(&id, &sealed)?)?;
        SigningKey::from_jwk(&jwk).map_err(ApiError::internal)
    })
    .transpose()
}

/// Stores the holder's key for one verifier unless it has one; whether it was stored.
pub async fn store_verifier_key(
    conn: &mut sqlx::AnyConnection,
    holder: &Holder,
    client_id: &str,
    key: &Jwk,
    now_ms: i64,
) -> ApiResult<bool> {
    let id = verifier_key_id(holder, client_id);
    let done = sqlx::query(
        "INSERT INTO holder_keys (id, account_id, sealed, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(holder.account().as_str())
    .bind(holder.seal(&id, &serde_json::to_vec(key)?)?)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The holder's key for one verifier (by client identifier), made on first use: it signs the
/// consent receipts and holder proofs sent there, so that verifier recognises the holder
/// (and no other verifier can link them by it).
pub async fn verifier_key(
    state: &WalletState,
    holder: &Holder,
    client_id: &str,
) -> ApiResult<SigningKey> {
    if let Some(key) = existing_verifier_key(state, holder, client_id).await? {
        return Ok(key);
    }
    let key = SigningKey::generate(Algorithm::ES256, &mut rand::rngs::OsRng);
    let mut writer = state.ctx.db.writer().await?;
    store_verifier_key(
        &mut writer,
        holder,
        client_id,
        &key.private_jwk(),
        state.ctx.now_ms(),
    )
    .await?;
    drop(writer);
    // Another request may have made it first: use the one stored.
    existing_verifier_key(state, holder, client_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Presents the chosen credentials to the verifier of `request` with a consent receipt (and
/// what the holder declares, for a directory profile), logs what was shared, and forgets the
/// pending request `pending` if any; `audience` names the verifier in the log, as the holder
/// knows it. Returns the log entry and the verifier's answer.
pub async fn answer(
    state: &WalletState,
    holder: &Holder,
    request: &AuthorizationRequest,
    choices: &[Choice],
    declared: Option<Value>,
    pending: Option<&str>,
    audience: Option<String>,
) -> ApiResult<(Shared, Value)> {
    let ctx = &state.ctx;
    let now_secs = ctx.clock.now_secs();
    let mut vp_token = Map::new();
    let mut shared = Vec::new();
    for choice in choices {
        let query = request
            .dcql_query
            .credential(&choice.query_id)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "choices",
                    format!("no credential query {}", choice.query_id),
                )
            })?;
        if !query.multiple && vp_token.contains_key(&query.id) {
            return Err(ApiError::invalid_field(
                "choices",
                format!("one credential for {}", query.id),
            ));
        }
        let (view, key) = credential_and_key(state, holder, &choice.credential_id).await?;
        let paths = query
            .choose(
                &view.credential.vct,
                &view.credential.claims,
                &choice.optional,
            )
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "choices",
                    format!("credential {} does not answer {}", view.id, query.id),
                )
            })?;
        let binding = query
            .require_cryptographic_holder_binding
            .then_some(KeyBindingInput {
                key: &key,
                audience: &request.client_id,
                nonce: &request.nonce,
                issued_at: now_secs,
            });
        let presentation = SdJwt::parse(&view.credential.sd_jwt)
            .and_then(|sd| sd.present(Some(&paths), binding))
            .map_err(ApiError::internal)?;
        shared.push(SharedCredential {
            credential_id: view.id.clone(),
            shared: SharedClaims {
                query_id: query.id.clone(),
                issuer: view.credential.issuer.clone(),
                vct: view.credential.vct.clone(),
                claims: paths,
                presentation: Some(oid4vp::presentation_digest(&presentation)),
            },
        });
        vp_token
            .entry(query.id.clone())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("an array")
            .push(presentation.into());
    }
    // Nothing to present is an answer only where no credential is required and the holder
    // says something of their own.
    if vp_token.is_empty() && declared.is_none() {
        return Err(ApiError::invalid_field(
            "choices",
            "choose at least one credential",
        ));
    }
    let answered: Vec<&str> = vp_token.keys().map(String::as_str).collect();
    if !request.dcql_query.satisfied_by(&answered) {
        return Err(ApiError::invalid_field(
            "choices",
            "the request needs more credentials than those chosen",
        ));
    }
    // The holder's consent receipt, signed by their key for this verifier.
    let receipt = ConsentReceipt {
        aud: request.client_id.clone(),
        nonce: request.nonce.clone(),
        state: request.state.clone(),
        iat: now_secs,
        shared: shared.iter().map(|s| s.shared.clone()).collect(),
        declared,
    }
    .sign(&verifier_key(state, holder, &request.client_id).await?)
    .map_err(ApiError::internal)?;
    let form = oid4vp::response_form(request, &vp_token, &[("consent_receipt", &receipt)])
        .map_err(|e| ApiError::invalid_field("request", e.to_string()))?;
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let answer = state
        .remote
        .post_form(
            &request.response_uri,
            &form,
            "the verifier's response endpoint",
        )
        .await?;
    let entry = Shared {
        id: format!("vpl_{}", random_token(16)),
        client_id: request.client_id.clone(),
        response_uri: request.response_uri.clone(),
        at: ctx.now_ms(),
        audience: audience
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().chars().take(200).collect()),
        credentials: shared,
        consent_receipt: receipt,
    };
    let mut tx = ctx.db.begin().await?;
    if let Some(id) = pending {
        sqlx::query("DELETE FROM presentation_requests WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO presentation_log (id, account_id, sealed, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&entry.id)
    .bind(holder.account().as_str())
    .bind(holder.seal(&entry.id, &serde_json::to_vec(&entry)?)?)
    .bind(entry.at)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        entry.at,
        &(&holder.principal).into(),
        "presentation.sent",
        Some(&entry.id),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((entry, answer))
}

async fn credential_and_key(
    state: &WalletState,
    holder: &Holder,
    credential_id: &str,
) -> ApiResult<(CredentialView, SigningKey)> {
    let view = credentials::find(state, holder, credential_id)
        .await
        .map_err(|_| {
            ApiError::invalid_field("choices", format!("no credential {credential_id}"))
        })?;
    let (key_id, sealed): (String, Vec<u8>) = sqlx::query_as(
        "SELECT k.id, k.sealed FROM holder_keys k JOIN wallet_credentials c ON c.key_id = k.id WHERE c.id = $1 AND c.account_id = $2",
    )
    .bind(credential_id)
    .bind(holder.account().as_str())
    .fetch_one(state.ctx.db.pool())
    .await?;
    let jwk: Jwk = serde_json::from_slice(&holder.open(&key_id, &sealed)?)?;
    Ok((
        view,
        SigningKey::from_jwk(&jwk).map_err(ApiError::internal)?,
    ))
}

/// Declines a request: nothing is sent, and the request is forgotten.
#[utoipa::path(delete, path = "/api/v1/presentations/requests/{id}", tag = "presentations",
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn decline(
    State(state): State<WalletState>,
    holder: Holder,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !looks_like_id(&id) {
        return Err(ApiError::NotFound);
    }
    let done = sqlx::query("DELETE FROM presentation_requests WHERE id = $1 AND account_id = $2")
        .bind(&id)
        .bind(holder.account().as_str())
        .execute(&mut *state.ctx.db.writer().await?)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What the holder has shared, with whom and when, newest first.
#[utoipa::path(get, path = "/api/v1/presentations", tag = "presentations",
    responses((status = 200, body = Vec<Shared>), (status = 401, body = Problem)))]
async fn log(State(state): State<WalletState>, holder: Holder) -> ApiResult<Json<Vec<Shared>>> {
    shared_log(&state, &holder).await.map(Json)
}

/// The log of what the holder shared, newest first (at most 1,000 entries).
pub async fn shared_log(state: &WalletState, holder: &Holder) -> ApiResult<Vec<Shared>> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, sealed FROM presentation_log WHERE account_id = $1 ORDER BY at DESC, id LIMIT 1000",
    )
    .bind(holder.account().as_str())
    .fetch_all(state.ctx.db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, sealed)| Ok(serde_json::from_slice(&holder.open(&id, &sealed)?)?))
        .collect()
}
