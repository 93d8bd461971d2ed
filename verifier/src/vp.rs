//! This verifier's side of OpenID4VP 1.0: the requests it writes (one `redirect_uri:` client
//! whose identifier is its response URI, unsigned, `direct_post`), and the checking of every
//! answer, whether a directory publication or the acceptance of an offer:
//! each presentation verified (issuer signature by a trusted issuer's key, key binding to this
//! verifier and the request's nonce, the DCQL query met, status valid), a failed one discarded;
//! the holder's consent receipt verified and covering exactly the presentations kept, which
//! makes the receipt's key the holder's key here (a wallet that sends no receipt, as plain
//! OpenID4VP wallets do, must bind every credential to one key, which is then the holder's);
//! the credential sets satisfied. Only the
//! claims asked for are kept.

use crate::{VerifierState, directory, offers};
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use carnet_core::dcql::{CredentialQuery, DcqlQuery, resolve};
use carnet_core::keys::VerifyingKey;
use carnet_core::oid4vp::{self, AuthorizationRequest, ConsentReceipt, presentation_digest};
use carnet_core::path::{ClaimPath, PathElement};
use carnet_core::sd_jwt::{self, Verified, VerifyError, VerifyOptions};
use carnet_core::status_list::{Status, StatusListToken};
use carnet_service::Ctx;
use carnet_service::error::{ApiError, ApiResult};
use carnet_service::id::random_token;
use carnet_service::jobs::Outcome;
use carnet_service::remote::{fetch_list, status_in};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use tokio::sync::RwLock;

pub const RESPONSE_PATH: &str = "/api/v1/oid4vp/response";
/// Presentations in one answer, at most.
const MAX_PRESENTATIONS: usize = 100;
/// A status list is fetched again after this long.
const STATUS_CACHE_MS: i64 = 5 * 60 * 1000;

pub fn response_uri(ctx: &Ctx) -> String {
    format!("{}{RESPONSE_PATH}", ctx.config.public_url)
}

/// The verifier's client identifier: its response URI under the `redirect_uri:` prefix.
pub fn client_id(ctx: &Ctx) -> String {
    format!("redirect_uri:{}", response_uri(ctx))
}

/// Records a request to be answered once before `expires_at`; returns its nonce.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    purpose: &str,
    now: i64,
    expires_at: i64,
) -> Result<String, sqlx::Error> {
    let nonce = random_token(24);
    sqlx::query(
        "INSERT INTO vp_requests (id, nonce, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&nonce)
    .bind(purpose)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(nonce)
}

/// The public key request `id`'s response is to be encrypted to, made (and its private half
/// sealed) the first time the request is handed out; none for an expired request.
pub async fn response_key(ctx: &Ctx, id: &str) -> ApiResult<Value> {
    let now = ctx.now_ms();
    let find = || async {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT response_jwk FROM vp_requests WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(ctx.db.pool())
        .await?;
        let (jwk,) = row.ok_or(ApiError::NotFound)?;
        jwk.map(|j| serde_json::from_str::<Value>(&j))
            .transpose()
            .map_err(ApiError::from)
    };
    if let Some(jwk) = find().await? {
        return Ok(jwk);
    }
    let (private, public) = oid4vp::response_key_pair(id).map_err(ApiError::internal)?;
    let sealed = ctx
        .config
        .secret_key
        .seal(id, &serde_json::to_vec(&private)?)
        .map_err(ApiError::internal)?;
    sqlx::query(
        "UPDATE vp_requests SET response_key = $1, response_jwk = $2 WHERE id = $3 AND response_key IS NULL",
    )
    .bind(sealed)
    .bind(public.to_string())
    .bind(id)
    .execute(&mut *ctx.db.writer().await?)
    .await?;
    // Another request may have made it first: the one stored stands.
    find().await?.ok_or(ApiError::NotFound)
}

/// The `openid4vp://` link of request `id` (its `state`), by value, asking for a response
/// encrypted to `key` (`direct_post.jwt`).
pub fn link(ctx: &Ctx, id: &str, nonce: &str, query: DcqlQuery, key: Value) -> String {
    AuthorizationRequest {
        client_id: client_id(ctx),
        response_mode: oid4vp::DIRECT_POST_JWT.to_owned(),
        response_uri: response_uri(ctx),
        nonce: nonce.to_owned(),
        state: Some(id.to_owned()),
        dcql_query: query,
        client_metadata: Some(json!({
            "jwks": { "keys": [key] },
            "encrypted_response_enc_values_supported": oid4vp::RESPONSE_ENCS,
            "vp_formats_supported": { carnet_core::oid4vci::FORMAT_SD_JWT_VC: {
                "sd-jwt_alg_values": ["Ed25519", "EdDSA", "ES256"],
                "kb-jwt_alg_values": ["Ed25519", "EdDSA", "ES256"],
            }},
        })),
    }
    .to_link()
}

/// The periodic job deleting expired requests and holder proofs.
pub const PURGE_REQUESTS: &str = "verifier.purge_requests";
/// It runs as often as a publication request lives, so an expired request is gone at most
/// that long after its expiry (every read refuses it before: [`respond`], [`response_key`]).
const PURGE_EVERY_MS: i64 = directory::REQUEST_TTL_MS;

/// Deletes the requests and holder proofs that have expired; how many.
pub async fn purge(ctx: &Ctx) -> Result<u64, sqlx::Error> {
    let now = ctx.now_ms();
    let mut deleted = 0;
    for table in ["vp_requests", "holder_proofs"] {
        deleted += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
            .bind(now)
            .execute(&mut *ctx.db.writer().await?)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

pub async fn purge_job(ctx: Ctx, _: Value) -> Result<Outcome, String> {
    purge(&ctx).await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(ctx.now_ms() + PURGE_EVERY_MS))
}

/// Takes request `id` as answered, in the caller's transaction: `false` if it was already.
pub async fn consume(conn: &mut sqlx::AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM vp_requests WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Status lists read recently, by URL.
#[derive(Default)]
pub struct StatusCache {
    lists: RwLock<HashMap<String, (i64, StatusListToken)>>,
}

impl StatusCache {
    /// The status of entry `idx` of list `uri`, signed by `issuer`.
    pub async fn status(
        &self,
        state: &VerifierState,
        issuer: &str,
        uri: &str,
        idx: u64,
    ) -> Result<Status, ApiError> {
        let now = state.ctx.now_ms();
        let reference = carnet_core::sd_jwt::StatusReference {
            idx,
            uri: uri.to_owned(),
        };
        if let Some((at, list)) = self.lists.read().await.get(uri)
            && now - at < STATUS_CACHE_MS
        {
            return status_in(list, &reference);
        }
        let snapshot = state.trust.snapshot(state).await?;
        let jwks = snapshot
            .jwks
            .get(issuer)
            .ok_or_else(|| ApiError::invalid("the issuer is not trusted"))?;
        let list = fetch_list(&state.remote, jwks, uri, now.div_euclid(1000)).await?;
        let status = status_in(&list, &reference);
        let mut lists = self.lists.write().await;
        if lists.len() > 10_000 {
            lists.clear();
        }
        lists.insert(uri.to_owned(), (now, list));
        status
    }

    /// Forgets every list (a test's clock jumped, or a re-check must see the latest).
    pub async fn clear(&self) {
        self.lists.write().await.clear();
    }
}

/// A presentation kept: the credential query it answers and what it verifiably says.
#[derive(Debug)]
pub struct Presented {
    pub query_id: String,
    pub verified: Verified,
    /// Only the claims the query asked for, as disclosed.
    pub claims: Map<String, Value>,
}

/// A presentation discarded, and why (the holder is told).
#[derive(Debug, Clone, Serialize)]
pub struct Discarded {
    pub query_id: String,
    pub reason: String,
}

/// A verified answer.
#[derive(Debug)]
pub struct Answer {
    /// The holder's key for this verifier: the consent receipt's, or without a receipt the one
    /// key every presented credential is bound to.
    pub holder: VerifyingKey,
    /// The consent receipt and its compact form, when the wallet sent one.
    pub receipt: Option<(ConsentReceipt, String)>,
    pub presented: Vec<Presented>,
    pub discarded: Vec<Discarded>,
}

/// A refusal, answered as OAuth does (`error`, `error_description`), which wallets show.
#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl Refused {
    pub fn invalid(description: impl Into<String>) -> Refused {
        Refused {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        let status = e.status();
        let description = if status.is_server_error() && status != StatusCode::BAD_GATEWAY {
            tracing::error!(error = %e, "answering a presentation");
            "the verifier could not handle the answer".to_owned()
        } else {
            e.to_string()
        };
        Refused {
            status,
            error: if status.is_client_error() {
                "invalid_request"
            } else {
                "server_error"
            },
            description,
        }
    }
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Refused {
        Refused::from(ApiError::from(e))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (
            self.status,
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response()
    }
}

/// `POST /api/v1/oid4vp/response`: where wallets post their answers, encrypted
/// (`direct_post.jwt`: `response=<JWE>` to the request's key) when the request asked so. The
/// `state` names the request; it is answered once.
pub async fn respond(
    State(state): State<VerifierState>,
    Form(mut form): Form<HashMap<String, String>>,
) -> Result<axum::Json<Value>, Refused> {
    let encrypted = form.contains_key("response");
    if let Some(jwe) = form.get("response") {
        form = decrypt(&state.ctx, jwe).await?;
    }
    let id = form
        .get("state")
        .ok_or_else(|| Refused::invalid("the answer has no state"))?;
    let row: Option<(String, String, i64, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT nonce, purpose, expires_at, response_key FROM vp_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(state.ctx.db.pool())
    .await?;
    let Some((nonce, purpose, expires_at, key)) = row else {
        return Err(Refused::invalid(
            "no such request, or it was answered already",
        ));
    };
    // Expired, even if the purge has not run yet.
    if expires_at <= state.ctx.now_ms() {
        return Err(Refused::invalid("the request has expired"));
    }
    // A request that asked for an encrypted response takes no other.
    if key.is_some() && !encrypted {
        return Err(Refused::invalid(
            "this request asked for an encrypted response (direct_post.jwt)",
        ));
    }
    let result = match purpose.as_str() {
        directory::PURPOSE => {
            let answer = check(&state, &form, &directory::query(), &nonce).await?;
            directory::published(&state, id, answer).await?
        }
        offers::PURPOSE => {
            let query = offers::query_of(&state, id).await?;
            let answer = check(&state, &form, &query, &nonce).await?;
            offers::accepted(&state, id, answer).await?
        }
        _ => return Err(Refused::invalid("no such request")),
    };
    Ok(axum::Json(result))
}

/// The parameters of an encrypted response, decrypted with the key of the request its header
/// names; that request must be the one its `state` names.
async fn decrypt(ctx: &Ctx, jwe: &str) -> Result<HashMap<String, String>, Refused> {
    let kid = oid4vp::encrypted_response_kid(jwe)
        .ok_or_else(|| Refused::invalid("the encrypted response names no key"))?;
    let row: Option<(Option<Vec<u8>>, i64)> =
        sqlx::query_as("SELECT response_key, expires_at FROM vp_requests WHERE id = $1")
            .bind(&kid)
            .fetch_optional(ctx.db.pool())
            .await?;
    let Some((key, expires_at)) = row else {
        return Err(Refused::invalid(
            "no such request, or it was answered already",
        ));
    };
    // Expired, even if the purge has not run yet: nothing is decrypted for it.
    if expires_at <= ctx.now_ms() {
        return Err(Refused::invalid("the request has expired"));
    }
    let sealed =
        key.ok_or_else(|| Refused::invalid("no such request, or it was answered already"))?;
    let private: Value = ctx
        .config
        .secret_key
        .open(&kid, &sealed)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| Refused::from(ApiError::internal("a response key does not open")))?;
    let parameters =
        oid4vp::decrypt_response(jwe, &private).map_err(|e| Refused::invalid(e.to_string()))?;
    let mut form = HashMap::new();
    for (name, value) in parameters {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        form.insert(name, text);
    }
    if form.get("state") != Some(&kid) {
        return Err(Refused::invalid("the response is for another request"));
    }
    Ok(form)
}

/// Verifies an answer to `query` for `nonce`.
pub async fn check(
    state: &VerifierState,
    form: &HashMap<String, String>,
    query: &DcqlQuery,
    nonce: &str,
) -> Result<Answer, Refused> {
    let ctx = &state.ctx;
    let client_id = client_id(ctx);
    let vp_token = form
        .get("vp_token")
        .and_then(|t| carnet_core::json::object_from_slice(t.as_bytes()))
        .ok_or_else(|| Refused::invalid("vp_token is not a JSON object"))?;
    let receipt = form
        .get("consent_receipt")
        .map(|jwt| {
            ConsentReceipt::verify(jwt, &client_id, nonce)
                .map(|(receipt, key)| (receipt, key, jwt.clone()))
                .map_err(|e| Refused::invalid(e.to_string()))
        })
        .transpose()?;
    let mut items: Vec<(&CredentialQuery, &str)> = Vec::new();
    for (query_id, value) in &vp_token {
        let credential_query = query
            .credential(query_id)
            .ok_or_else(|| Refused::invalid(format!("no credential query {query_id}")))?;
        let presentations = value
            .as_array()
            .filter(|a| !a.is_empty() && (credential_query.multiple || a.len() == 1))
            .ok_or_else(|| {
                Refused::invalid(format!("{query_id}: not an array of the right size"))
            })?;
        for p in presentations {
            let p = p.as_str().ok_or_else(|| {
                Refused::invalid(format!("{query_id}: a presentation is not a string"))
            })?;
            items.push((credential_query, p));
        }
    }
    if items.len() > MAX_PRESENTATIONS {
        return Err(Refused::invalid("too many presentations"));
    }
    // The receipt covers exactly the presentations sent.
    if let Some((receipt, _, _)) = &receipt {
        let mut digests: Vec<String> = items.iter().map(|(_, p)| presentation_digest(p)).collect();
        let mut covered: Vec<String> = receipt
            .shared
            .iter()
            .filter_map(|s| s.presentation.clone())
            .collect();
        digests.sort();
        covered.sort();
        if digests != covered {
            return Err(Refused::invalid(
                "the consent receipt does not cover exactly the presentations sent",
            ));
        }
    }
    let now = ctx.clock.now_secs();
    let options = VerifyOptions::with_key_binding(now, &client_id, nonce);
    let mut snapshot = state.trust.snapshot(state).await?;
    let batch: Vec<(&str, &VerifyOptions)> = items.iter().map(|(_, p)| (*p, &options)).collect();
    let mut results = sd_jwt::verify_batch(&batch, &snapshot.keys);
    // A trusted issuer's key we do not know yet: fetch its keys again, then retry those.
    for (i, result) in results.iter_mut().enumerate() {
        if let Err(VerifyError::UnknownIssuerKey { iss, .. }) = result
            && snapshot.names.contains_key(iss.as_str())
        {
            let iss = iss.clone();
            if state.trust.refetch(state, &iss).await {
                snapshot = state.trust.snapshot(state).await?;
            }
            *result = sd_jwt::verify(items[i].1, &snapshot.keys, &options);
        }
    }
    let mut presented = Vec::new();
    let mut discarded = Vec::new();
    for ((credential_query, _), result) in items.into_iter().zip(results) {
        let discard = |reason: String| Discarded {
            query_id: credential_query.id.clone(),
            reason,
        };
        let verified = match result {
            Ok(v) => v,
            Err(VerifyError::UnknownIssuerKey { iss, .. })
                if !snapshot.names.contains_key(&iss) =>
            {
                discarded.push(discard(format!("{iss} is not a trusted issuer")));
                continue;
            }
            Err(e) => {
                discarded.push(discard(format!(
                    "the presentation does not verify: {}",
                    e.code()
                )));
                continue;
            }
        };
        if credential_query
            .options(&verified.vct, &verified.claims)
            .is_empty()
        {
            discarded.push(discard("it does not disclose what is asked".into()));
            continue;
        }
        if let Some(reference) = &verified.status {
            match state
                .status
                .status(state, &verified.issuer, &reference.uri, reference.idx)
                .await
            {
                Ok(Status::Valid) => {}
                Ok(other) => {
                    discarded.push(discard(format!(
                        "the credential is {}",
                        carnet_service::remote::status_name(other)
                    )));
                    continue;
                }
                Err(e) => {
                    discarded.push(discard(format!("its status could not be read: {e}")));
                    continue;
                }
            }
        }
        // Every claim asked for that was disclosed, and nothing else.
        let asked: Vec<&ClaimPath> = credential_query
            .claims
            .iter()
            .flatten()
            .map(|c| &c.path)
            .collect();
        let claims = only(&verified.claims, &asked);
        presented.push(Presented {
            query_id: credential_query.id.clone(),
            verified,
            claims,
        });
    }
    let answered: Vec<&str> = presented.iter().map(|p| p.query_id.as_str()).collect();
    if !query.satisfied_by(&answered) {
        let reasons: Vec<String> = discarded
            .iter()
            .map(|d| format!("{}: {}", d.query_id, d.reason))
            .collect();
        return Err(Refused::invalid(format!(
            "the answer does not meet the request{}{}",
            if reasons.is_empty() { "" } else { ": " },
            reasons.join("; ")
        )));
    }
    let (holder, receipt) = match receipt {
        Some((receipt, key, jwt)) => (key, Some((receipt, jwt))),
        None => (common_holder(&presented)?, None),
    };
    Ok(Answer {
        holder,
        receipt,
        presented,
        discarded,
    })
}

/// Without a consent receipt, the one key every presented credential is bound to.
fn common_holder(presented: &[Presented]) -> Result<VerifyingKey, Refused> {
    let refuse = || {
        Refused::invalid(
            "without a consent receipt, every credential must be bound to the same holder key",
        )
    };
    let mut keys = presented.iter().map(|p| p.verified.holder.as_ref());
    let first = keys.next().flatten().ok_or_else(refuse)?;
    if keys.any(|k| k.map(|k| k.thumbprint()) != Some(first.thumbprint())) {
        return Err(refuse());
    }
    VerifyingKey::from_jwk(first).map_err(|_| refuse())
}

/// The values of `claims` at `paths`, in an object of the same shape; a path with an index or
/// a wildcard keeps the whole member it starts with.
pub fn only(claims: &Map<String, Value>, paths: &[&ClaimPath]) -> Map<String, Value> {
    let root = Value::Object(claims.clone());
    let mut out = Map::new();
    for path in paths {
        if resolve(&root, path).is_empty() {
            continue;
        }
        let keys: Option<Vec<&str>> = path
            .elements()
            .iter()
            .map(|e| match e {
                PathElement::Key(k) => Some(k.as_str()),
                _ => None,
            })
            .collect();
        let keys = match keys {
            Some(keys) => keys,
            None => match path.elements().first() {
                Some(PathElement::Key(k)) => vec![k.as_str()],
                _ => continue,
            },
        };
        let mut source = &root;
        let mut target = &mut out;
        for (i, key) in keys.iter().enumerate() {
            source = &source[*key];
            if i + 1 == keys.len() {
                target.insert((*key).to_owned(), source.clone());
            } else {
                let next = target
                    .entry((*key).to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !next.is_object() {
                    break;
                }
                target = next.as_object_mut().expect("an object");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_asked() {
        let claims = json!({
            "name": "A", "given_name": "B",
            "competency": {"code": "X", "name": "Y", "description": "secret"},
            "framework": [1, 2],
        });
        let p = |s: &str| ClaimPath::from_pointer(s).unwrap();
        let asked = [
            p("/name"),
            p("/competency/code"),
            p("/competency/name"),
            p("/missing"),
        ];
        let refs: Vec<&ClaimPath> = asked.iter().collect();
        assert_eq!(
            Value::Object(only(claims.as_object().unwrap(), &refs)),
            json!({"name": "A", "competency": {"code": "X", "name": "Y"}})
        );
    }
}
