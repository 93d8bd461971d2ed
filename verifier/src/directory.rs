//! The talent directory: trainees' wallets publish profiles here over OpenID4VP — their name
//! and competency credentials with the competency facts disclosed, nothing personal — plus the
//! availability they declare. A profile is stored only from a verified answer (see `vp`), keyed
//! by the holder's key for this verifier; publishing again replaces it, and the holder
//! withdraws it with a proof of that key. A job re-reads the status lists: a revoked or
//! suspended credential leaves the profile's visible competencies, and so does one whose status
//! list could not be read for `STATUS_GRACE_MS` (its status becomes `unknown` until a list is
//! read again): a status nobody can check is not shown as valid.

use crate::VerifierState;
use crate::search::{self, Scope};
use crate::vp::{self, Answer, Refused};
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use carnet_core::availability::Availability;
use carnet_core::dcql::{CredentialQuery, CredentialSet, DcqlQuery};
use carnet_core::oid4vp::{HOLDER_PROOF_HEADER, verify_holder_proof};
use carnet_core::path::ClaimPath;
use carnet_service::audit::{self, Actor};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::random_token;
use carnet_service::jobs::Outcome;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The purpose of a publication request.
pub const PURPOSE: &str = "publication";
/// A publication request is answered within this time.
pub(crate) const REQUEST_TTL_MS: i64 = 10 * 60 * 1000;
/// Holder proofs are accepted this many seconds either side of now.
const PROOF_WINDOW_SECS: i64 = 120;
/// The status re-check job, and how often it runs.
pub const RECHECK_STATUS: &str = "verifier.recheck_status";
const RECHECK_EVERY_MS: i64 = 3600 * 1000;
const RECHECK_PER_RUN: i64 = 20_000;
/// How long the last status read stands when the status list cannot be read (an issuer down
/// for a moment); past it, the competency's status is `unknown` and it leaves search.
pub const STATUS_GRACE_MS: i64 = 24 * 3600 * 1000;

/// The competency facts a profile discloses: required, then those a holder may add.
const COMPETENCY_REQUIRED: [&str; 4] = [
    "/name",
    "/competency/code",
    "/competency/name",
    "/level/label",
];
const COMPETENCY_MORE: [&str; 6] = [
    "/competency/framework_codes",
    "/level/value",
    "/validated_on",
    "/establishment/name",
    "/evaluator/name",
    "/session/title",
];

fn paths(pointers: &[&str]) -> Vec<ClaimPath> {
    pointers
        .iter()
        .map(|p| ClaimPath::from_pointer(p).expect("a valid pointer"))
        .collect()
}

/// The DCQL query of a publication: competency credentials (several), and optionally the
/// given and family names from an identity credential.
pub fn query() -> DcqlQuery {
    let mut competencies = CredentialQuery::sd_jwt(
        "competencies",
        None,
        &paths(&COMPETENCY_REQUIRED),
        &paths(&COMPETENCY_MORE),
    )
    .expect("a valid query");
    competencies.multiple = true;
    let identity = CredentialQuery::sd_jwt(
        "identity",
        None,
        &paths(&["/given_name", "/family_name"]),
        &[],
    )
    .expect("a valid query");
    DcqlQuery {
        credentials: vec![competencies, identity],
        credential_sets: Some(vec![
            CredentialSet {
                options: vec![vec!["competencies".into()]],
                required: true,
            },
            CredentialSet {
                options: vec![vec!["identity".into()]],
                required: false,
            },
        ]),
    }
}

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new()
        .routes(routes!(publication_request))
        .routes(routes!(withdraw))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationRequest {
    /// The `openid4vp://` request to answer with a wallet.
    pub request: String,
    pub expires_at: i64,
}

/// A fresh request to publish a profile, for any wallet.
#[utoipa::path(post, path = "/api/v1/directory/requests", tag = "directory",
    responses((status = 201, body = PublicationRequest)))]
async fn publication_request(
    State(state): State<VerifierState>,
) -> ApiResult<(StatusCode, Json<PublicationRequest>)> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let id = format!("pub_{}", random_token(16));
    let expires_at = now + REQUEST_TTL_MS;
    let nonce = vp::create(&mut *ctx.db.writer().await?, &id, PURPOSE, now, expires_at).await?;
    let key = vp::response_key(ctx, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(PublicationRequest {
            request: vp::link(ctx, &id, &nonce, query(), key),
            expires_at,
        }),
    ))
}

/// The name a profile shows: the identity credential's, else the competency credentials'.
fn name_of(answer: &Answer) -> Option<String> {
    let identity = answer.presented.iter().find(|p| p.query_id == "identity");
    let from_identity = identity.and_then(|p| {
        let given = p.claims.get("given_name")?.as_str()?.trim();
        let family = p.claims.get("family_name")?.as_str()?.trim();
        Some(format!("{given} {family}"))
    });
    from_identity
        .or_else(|| {
            answer
                .presented
                .iter()
                .find_map(|p| p.claims.get("name")?.as_str().map(|n| n.trim().to_owned()))
        })
        .filter(|n| !n.is_empty() && n.chars().count() <= 200)
}

/// Stores (or replaces) the profile of a verified publication.
pub async fn published(state: &VerifierState, id: &str, answer: Answer) -> Result<Value, Refused> {
    let ctx = &state.ctx;
    let name = name_of(&answer).ok_or_else(|| Refused::invalid("no name was disclosed"))?;
    let declared = answer
        .receipt
        .as_ref()
        .and_then(|(r, _)| r.declared.as_ref());
    // Beside the availability, where the holder's wallet takes notices for them (an offer, a
    // message): an address this verifier may call, or nothing.
    let mut declared = declared.cloned();
    let notify_url = match declared
        .as_mut()
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove("notify"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) if url.len() <= 500 => {
            state
                .remote
                .check(&url, "notify")
                .map_err(|e| Refused::invalid(format!("the notify address: {e}")))?;
            Some(url)
        }
        Some(_) => return Err(Refused::invalid("notify: an https address")),
    };
    let declared: Availability = match declared {
        None => Availability::default(),
        Some(value) => serde_json::from_value::<Availability>(value)
            .map_err(|e| Refused::invalid(format!("the declared availability: {e}")))?
            .normalise()
            .map_err(|e| Refused::invalid(format!("the declared availability: {e}")))?,
    };
    let kid = answer.holder.kid().to_owned();
    let jwk = serde_json::to_string(answer.holder.jwk()).map_err(ApiError::from)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !vp::consume(&mut tx, id).await? {
        return Err(Refused::invalid("the request was answered already"));
    }
    let existing: Option<(String,)> =
        sqlx::query_as("SELECT id FROM profiles WHERE holder_kid = $1")
            .bind(&kid)
            .fetch_optional(&mut *tx)
            .await?;
    let profile_id = match existing {
        Some((profile_id,)) => {
            sqlx::query("DELETE FROM profile_competencies WHERE profile_id = $1")
                .bind(&profile_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM profile_tags WHERE profile_id = $1")
                .bind(&profile_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE profiles SET name = $1, situation = $2, available_from = $3, updated_at = $4, last_contact_at = $4, notify_url = $6 WHERE id = $5",
            )
            .bind(&name)
            .bind(declared.situation.map(|s| s.as_str()))
            .bind(&declared.available_from)
            .bind(now)
            .bind(&profile_id)
            .bind(&notify_url)
            .execute(&mut *tx)
            .await?;
            profile_id
        }
        None => {
            let profile_id = format!("prf_{}", random_token(16));
            sqlx::query(
                "INSERT INTO profiles (id, holder_kid, holder_jwk, name, situation, available_from, published_at, updated_at, last_contact_at, notify_url) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8)",
            )
            .bind(&profile_id)
            .bind(&kid)
            .bind(&jwk)
            .bind(&name)
            .bind(declared.situation.map(|s| s.as_str()))
            .bind(&declared.available_from)
            .bind(now)
            .bind(&notify_url)
            .execute(&mut *tx)
            .await?;
            profile_id
        }
    };
    let tags = declared
        .regions
        .iter()
        .map(|r| ("region", r.as_str()))
        .chain(declared.contracts.iter().map(|c| ("contract", c.as_str())));
    for (kind, value) in tags {
        sqlx::query("INSERT INTO profile_tags (profile_id, kind, value) VALUES ($1, $2, $3)")
            .bind(&profile_id)
            .bind(kind)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    let mut stored = 0;
    for presented in answer
        .presented
        .iter()
        .filter(|p| p.query_id == "competencies")
    {
        // As a `Value`: a claim the holder did not disclose reads as null (indexing the map
        // itself would panic on it).
        let claims = &Value::Object(presented.claims.clone());
        let competency = &claims["competency"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let (Some(code), Some(competency_name)) =
            (text(&competency["code"]), text(&competency["name"]))
        else {
            continue;
        };
        let competency_id = format!("pco_{}", random_token(16));
        let status = presented.verified.status.as_ref();
        sqlx::query(
            "INSERT INTO profile_competencies (id, profile_id, issuer, code, name, name_folded, level_label, level_value, validated_on, claims, status_uri, status_idx, status, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'valid', $13)",
        )
        .bind(&competency_id)
        .bind(&profile_id)
        .bind(&presented.verified.issuer)
        .bind(&code)
        .bind(&competency_name)
        .bind(fold(&competency_name))
        .bind(text(&claims["level"]["label"]))
        .bind(claims["level"]["value"].as_f64())
        .bind(text(&claims["validated_on"]))
        .bind(claims.to_string())
        .bind(status.map(|s| s.uri.clone()))
        .bind(status.map(|s| i64::try_from(s.idx).unwrap_or(i64::MAX)))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO competency_names (code, name_folded, name) VALUES ($1, $2, $3) ON CONFLICT (code, name_folded) DO NOTHING",
        )
        .bind(&code)
        .bind(fold(&competency_name))
        .bind(&competency_name)
        .execute(&mut *tx)
        .await?;
        if let Some(codes) = competency["framework_codes"].as_object() {
            for framework_code in codes.values().take(20) {
                let Some(framework_code) = framework_code
                    .as_str()
                    .map(str::trim)
                    .filter(|c| !c.is_empty() && c.len() <= 500)
                else {
                    continue;
                };
                sqlx::query(
                    "INSERT INTO framework_codes (framework_code, code) VALUES ($1, $2) ON CONFLICT (framework_code, code) DO NOTHING",
                )
                .bind(framework_code)
                .bind(&code)
                .execute(&mut *tx)
                .await?;
            }
        }
        stored += 1;
    }
    search::reindex(&mut tx, Scope::Profile(&profile_id)).await?;
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "profile.published",
        Some(&profile_id),
        None,
        json!({ "competencies": stored, "discarded": answer.discarded.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(json!({
        "profile_id": profile_id,
        "competencies": stored,
        "discarded": answer.discarded,
    }))
}

/// Lower case without accents, for free-text search.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' | 'õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            'œ' => 'o',
            c => c,
        })
        .collect()
}

/// The holder of a published profile, proven by a holder proof (`carnet-holder-proof`
/// header) signed with the key the profile was published with. No account is involved.
#[derive(Debug, Clone)]
pub struct ProvenHolder {
    pub profile_id: String,
}

impl FromRequestParts<VerifierState> for ProvenHolder {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &VerifierState,
    ) -> Result<ProvenHolder, ApiError> {
        let ctx = &state.ctx;
        let proof = parts
            .headers
            .get(HOLDER_PROOF_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let url = format!("{}{}", ctx.config.public_url, parts.uri.path());
        let (key, jti) = verify_holder_proof(
            proof,
            parts.method.as_str(),
            &url,
            ctx.clock.now_secs(),
            PROOF_WINDOW_SECS,
        )
        .map_err(|_| ApiError::Unauthenticated)?;
        let now = ctx.now_ms();
        let fresh = sqlx::query(
            "INSERT INTO holder_proofs (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(format!("{}:{jti}", key.kid()))
        .bind(now + 2 * PROOF_WINDOW_SECS * 1000)
        .execute(&mut *ctx.db.writer().await?)
        .await?;
        if fresh.rows_affected() == 0 {
            return Err(ApiError::Unauthenticated);
        }
        let (profile_id,): (String,) =
            sqlx::query_as("SELECT id FROM profiles WHERE holder_kid = $1")
                .bind(key.kid())
                .fetch_optional(ctx.db.pool())
                .await?
                .ok_or(ApiError::NotFound)?;
        Ok(ProvenHolder { profile_id })
    }
}

/// Withdraws the caller's profile, with everything this verifier holds about them: offers
/// received, what they disclosed, chats.
#[utoipa::path(delete, path = "/api/v1/directory/profile", tag = "directory",
    params(("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn withdraw(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
) -> ApiResult<StatusCode> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM profiles WHERE id = $1")
        .bind(&holder.profile_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "profile.withdrawn",
        Some(&holder.profile_id),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One re-check pass over the competencies not checked for an hour; returns how many profiles
/// changed. A list that cannot be read leaves the last status for `STATUS_GRACE_MS`, then
/// makes it `unknown` (out of search and profiles); the next read sets it again.
pub async fn recheck(state: &VerifierState) -> ApiResult<usize> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    type Row = (String, String, String, String, i64, String, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, profile_id, issuer, status_uri, status_idx, status, checked_at FROM profile_competencies \
         WHERE status_uri IS NOT NULL AND status <> 'revoked' AND checked_at < $1 ORDER BY checked_at LIMIT $2",
    )
    .bind(now - RECHECK_EVERY_MS + 60_000)
    .bind(RECHECK_PER_RUN)
    .fetch_all(ctx.db.pool())
    .await?;
    state.status.clear().await;
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    let mut changed = std::collections::BTreeSet::new();
    for (id, profile_id, issuer, uri, idx, previous, checked_at) in rows {
        let Ok(idx) = u64::try_from(idx) else {
            continue;
        };
        match state.status.status(state, &issuer, &uri, idx).await {
            Ok(status) => {
                let name = carnet_service::remote::status_name(status);
                if name != previous {
                    changed.insert(profile_id);
                }
                found.push((id, name));
            }
            Err(e) => {
                tracing::warn!(list = %uri, error = %e, "status list unavailable");
                // `checked_at` is the last status read: past the grace period, nobody knows.
                if previous != "unknown" && now - checked_at > STATUS_GRACE_MS {
                    changed.insert(profile_id);
                    unknown.push(id);
                }
            }
        }
    }
    if !found.is_empty() || !unknown.is_empty() {
        let mut tx = ctx.db.begin().await?;
        for (id, status) in &found {
            sqlx::query(
                "UPDATE profile_competencies SET status = $1, checked_at = $2 WHERE id = $3",
            )
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for id in &unknown {
            sqlx::query("UPDATE profile_competencies SET status = 'unknown' WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for profile_id in &changed {
            search::reindex(&mut tx, Scope::Profile(profile_id)).await?;
        }
        tx.commit().await?;
    }
    Ok(changed.len())
}

/// The job around [`recheck`].
pub async fn recheck_job(state: VerifierState) -> Result<Outcome, String> {
    recheck(&state).await.map_err(|e| e.to_string())?;
    Ok(Outcome::RunAgainAt(state.ctx.now_ms() + RECHECK_EVERY_MS))
}
