//! Offers: a company writes an offer (title, text and/or a PDF, contract type, place) and the
//! personal claims it asks of a candidate who accepts (from the identity credential, each
//! required or optional), and sends it to one profile, a selection, or a whole search result
//! in one request (idempotent with `Idempotency-Key`). Each recipient gets an OpenID4VP request
//! of their own, with its own nonce. Candidates read their offers through their wallet with a
//! holder proof, decline (nothing is disclosed) or accept with a presentation, verified like a
//! publication and bound to the same holder as the profile; only the claims disclosed are
//! kept, with the consent receipt, for that company alone.

use crate::companies::Companies;
use crate::directory::ProvenHolder;
use crate::search::{Recruiter, SearchQuery, matching_ids};
use crate::vp::{self, Answer, Refused};
use crate::{VerifierState, chats};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::dcql::{CredentialQuery, CredentialSet, DcqlQuery};
use carnet_core::declared::Declared;
use carnet_core::path::ClaimPath;
use carnet_service::audit::{self, Actor};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query, optional_text as text};
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::tenants::Access;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// The purpose of an offer's presentation request.
pub const PURPOSE: &str = "offer";
const MAX_PDF: usize = 10 * 1024 * 1024;
/// Recipients of one offer, at most.
pub const MAX_RECIPIENTS: usize = 10_000;
const DEFAULT_DAYS: u32 = 30;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The personal claims an offer may ask for, from an identity credential.
const PERSONAL_CLAIMS: [&str; 9] = [
    "/given_name",
    "/family_name",
    "/birthdate",
    "/email",
    "/phone_number",
    "/address",
    "/address/street_address",
    "/address/postal_code",
    "/address/locality",
];

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new()
        .routes(routes!(upload_document).layer(DefaultBodyLimit::max(MAX_PDF + 1024)))
        .routes(routes!(create, list))
        .routes(routes!(get_offer))
        .routes(routes!(candidates))
        .routes(routes!(all_recipients))
        .routes(routes!(inbox))
        .routes(routes!(inbox_document))
        .routes(routes!(decline))
        .routes(routes!(erase))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    pub id: String,
    pub filename: String,
    pub size: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    filename: Option<String>,
}

/// Checks that `bytes` are a PDF: its header, and its end-of-file marker near the end.
fn is_pdf(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    bytes.starts_with(b"%PDF-") && tail.windows(5).any(|w| w == b"%%EOF")
}

/// Uploads an offer's PDF (at most 10 MiB), the body being the file.
#[utoipa::path(post, path = "/api/v1/companies/{id}/documents", tag = "offers",
    params(("id" = String, Path), UploadQuery), request_body(content = Vec<u8>, description = "the PDF", content_type = "application/pdf"),
    responses((status = 201, body = Document), (status = 413, body = Problem), (status = 415, body = Problem)))]
async fn upload_document(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Document>)> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if declared.split(';').next().map(str::trim) != Some("application/pdf") || !is_pdf(&body) {
        return Err(ApiError::UnsupportedMediaType(
            "application/pdf, a real PDF",
        ));
    }
    if body.len() > MAX_PDF {
        return Err(ApiError::PayloadTooLarge);
    }
    let filename: String = q
        .filename
        .as_deref()
        .unwrap_or("offre.pdf")
        .chars()
        .filter(|c| c.is_alphanumeric() || "-_. ".contains(*c))
        .take(100)
        .collect();
    let filename = if filename.trim().is_empty() {
        "offre.pdf".to_owned()
    } else {
        filename
    };
    let ctx = &state.ctx;
    let key = ctx.files.put(&body).await.map_err(ApiError::internal)?;
    let document = Document {
        id: format!("doc_{}", random_token(16)),
        filename,
        size: body.len() as i64,
    };
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO offer_documents (id, company_id, file_key, filename, size, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&document.id)
    .bind(&access.tenant.id)
    .bind(&key)
    .bind(&document.filename)
    .bind(document.size)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "offer.document_uploaded",
        Some(&document.id),
        Some(&access.tenant.id),
        json!({ "size": document.size }),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(document)))
}

/// A personal claim an offer asks for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskedClaim {
    #[schema(value_type = Vec<Object>)]
    pub path: ClaimPath,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// Profile ids.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Or every profile a search finds (its filters, as in `/search`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub search: Option<SearchFilters>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchFilters {
    pub competency: Option<String>,
    pub q: Option<String>,
    pub min_level: Option<f64>,
    pub issuer: Option<String>,
    pub situation: Option<String>,
    pub region: Option<String>,
    pub contract: Option<String>,
    pub available_by: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOffer {
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    /// An uploaded PDF.
    #[serde(default)]
    pub document_id: Option<String>,
    #[serde(default)]
    pub contract_type: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    /// What a candidate who accepts is asked to share from their identity credential.
    #[serde(default)]
    pub claims: Vec<AskedClaim>,
    /// A quiz of the company to send with the offer.
    #[serde(default)]
    pub quiz_id: Option<String>,
    /// Days the offer stays open (default 30, at most 180).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    pub recipients: Recipients,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Offer {
    pub id: String,
    pub title: String,
    pub body: Option<String>,
    pub document_id: Option<String>,
    pub contract_type: Option<String>,
    pub place: Option<String>,
    pub claims: Vec<AskedClaim>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sent {
    pub offer: Offer,
    /// Recipients the offer went to.
    pub recipients: usize,
}

/// The DCQL query of an offer: the identity credential with the claims asked, and apart from
/// it the e-mail address, which a centre's identity credential or the candidate's wallet
/// attests (the wallet confirmed it by a mailed code). The candidate may present either or
/// not: what nobody attested they declare, signed in the consent receipt, so that anyone can
/// always accept.
pub fn offer_query(claims: &[AskedClaim]) -> Result<DcqlQuery, String> {
    let email = ClaimPath::key("email");
    let query = |id: &str, asked: Vec<&AskedClaim>| {
        let (required, optional): (Vec<&AskedClaim>, Vec<&AskedClaim>) =
            asked.into_iter().partition(|c| c.required);
        let paths = |claims: Vec<&AskedClaim>| {
            claims
                .into_iter()
                .map(|c| c.path.clone())
                .collect::<Vec<_>>()
        };
        CredentialQuery::sd_jwt(id, None, &paths(required), &paths(optional))
            .map_err(|e| e.to_string())
    };
    let (addresses, others): (Vec<&AskedClaim>, Vec<&AskedClaim>) =
        claims.iter().partition(|c| c.path == email);
    let mut credentials = Vec::new();
    if !others.is_empty() || addresses.is_empty() {
        credentials.push(query(IDENTITY_QUERY, others)?);
    }
    if !addresses.is_empty() {
        credentials.push(query(EMAIL_QUERY, addresses)?);
    }
    let credential_sets = credentials
        .iter()
        .map(|c| CredentialSet {
            options: vec![vec![c.id.clone()]],
            required: false,
        })
        .collect();
    Ok(DcqlQuery {
        credentials,
        credential_sets: Some(credential_sets),
    })
}

/// The query for the identity credential's claims, and the one for the e-mail address.
const IDENTITY_QUERY: &str = "identity";
const EMAIL_QUERY: &str = "email";

/// Sends an offer to one or many profiles; recruiters of an approved company.
#[utoipa::path(post, path = "/api/v1/companies/{id}/offers", tag = "offers", request_body = NewOffer,
    params(("id" = String, Path)),
    responses((status = 201, body = Sent), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Json(input): Json<NewOffer>,
) -> ApiResult<(StatusCode, Json<Sent>)> {
    let ctx = &state.ctx;
    let title = text("title", Some(&input.title), 200)?
        .ok_or_else(|| ApiError::invalid_field("title", "required"))?;
    let body = text("body", input.body.as_deref(), 20_000)?;
    let place = text("place", input.place.as_deref(), 200)?;
    let contract_type = text("contract_type", input.contract_type.as_deref(), 50)?;
    if let Some(c) = &contract_type
        && serde_json::from_value::<carnet_core::availability::Contract>(json!(c)).is_err()
    {
        return Err(ApiError::invalid_field(
            "contract_type",
            "cdi, cdd, interim, alternance, stage or freelance",
        ));
    }
    if body.is_none() && input.document_id.is_none() {
        return Err(ApiError::invalid_field(
            "body",
            "an offer has a text, a PDF or both",
        ));
    }
    if let Some(quiz) = &input.quiz_id {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM quizzes WHERE id = $1 AND company_id = $2")
                .bind(quiz)
                .bind(&access.tenant.id)
                .fetch_optional(ctx.db.pool())
                .await?;
        if found.is_none() {
            return Err(ApiError::invalid_field("quiz_id", "no such quiz"));
        }
    }
    if let Some(document) = &input.document_id {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM offer_documents WHERE id = $1 AND company_id = $2")
                .bind(document)
                .bind(&access.tenant.id)
                .fetch_optional(ctx.db.pool())
                .await?;
        if found.is_none() {
            return Err(ApiError::invalid_field("document_id", "no such document"));
        }
    }
    let allowed: Vec<ClaimPath> = PERSONAL_CLAIMS
        .iter()
        .map(|p| ClaimPath::from_pointer(p).expect("a pointer"))
        .collect();
    if let Some(bad) = input.claims.iter().find(|c| !allowed.contains(&c.path)) {
        return Err(ApiError::invalid_field(
            "claims",
            format!(
                "{} is not a personal claim an offer may ask for",
                bad.path.to_json()
            ),
        ));
    }
    offer_query(&input.claims).map_err(|e| ApiError::invalid_field("claims", e))?;
    let days = input.expires_in_days.unwrap_or(DEFAULT_DAYS);
    if !(1..=180).contains(&days) {
        return Err(ApiError::invalid_field("expires_in_days", "1 to 180"));
    }
    let mut profiles = input.recipients.profiles.clone();
    if profiles.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid_field(
            "recipients",
            format!("at most {MAX_RECIPIENTS}"),
        ));
    }
    if let Some(f) = input.recipients.search {
        let q = SearchQuery {
            competency: f.competency,
            q: f.q,
            min_level: f.min_level,
            issuer: f.issuer,
            situation: f.situation,
            region: f.region,
            contract: f.contract,
            available_by: f.available_by,
            ..SearchQuery::default()
        };
        profiles.extend(matching_ids(&state, &q, MAX_RECIPIENTS as i64).await?);
    }
    profiles.sort();
    profiles.dedup();
    if profiles.is_empty() {
        return Err(ApiError::invalid_field(
            "recipients",
            "nobody to send the offer to",
        ));
    }
    if profiles.len() > MAX_RECIPIENTS {
        return Err(ApiError::invalid_field(
            "recipients",
            format!("at most {MAX_RECIPIENTS}"),
        ));
    }
    if profiles.iter().any(|p| !looks_like_id(p)) {
        return Err(ApiError::invalid_field("recipients", "not a profile id"));
    }
    let now = ctx.now_ms();
    let offer = Offer {
        id: format!("ofr_{}", random_token(16)),
        title,
        body,
        document_id: input.document_id,
        contract_type,
        place,
        claims: input.claims,
        created_at: now,
        expires_at: now + i64::from(days) * DAY_MS,
    };
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO offers (id, company_id, title, body, document_id, contract_type, place, claims, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&offer.id)
    .bind(&access.tenant.id)
    .bind(&offer.title)
    .bind(&offer.body)
    .bind(&offer.document_id)
    .bind(&offer.contract_type)
    .bind(&offer.place)
    .bind(serde_json::to_string(&offer.claims)?)
    .bind(access.principal.account_id.as_str())
    .bind(now)
    .bind(offer.expires_at)
    .execute(&mut *tx)
    .await?;
    // Only profiles that exist; in chunks, for large sends.
    let mut sent = 0;
    for chunk in profiles.chunks(400) {
        let sql = format!(
            "INSERT INTO offer_recipients (id, offer_id, company_id, profile_id, status, sent_at) \
             SELECT {}, $1, $2, p.id, 'sent', $3 FROM profiles p WHERE p.id IN ({})",
            "'rcp_' || p.id || '_' || $4",
            (0..chunk.len())
                .map(|i| format!("${}", i + 5))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(&offer.id)
            .bind(&access.tenant.id)
            .bind(now)
            .bind(&offer.id[4..]);
        for p in chunk {
            query = query.bind(p);
        }
        sent += query.execute(&mut *tx).await?.rows_affected() as usize;
    }
    if sent == 0 {
        return Err(ApiError::invalid_field("recipients", "no such profile"));
    }
    if let Some(quiz) = &input.quiz_id {
        crate::quizzes::assign(
            &mut tx,
            quiz,
            &access.tenant.id,
            &profiles,
            Some(&offer.id),
            now,
        )
        .await?;
    }
    // One presentation request per recipient, each with its own nonce.
    let recipients: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM offer_recipients WHERE offer_id = $1")
            .bind(&offer.id)
            .fetch_all(&mut *tx)
            .await?;
    for chunk in recipients.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, '{PURPOSE}', $1, $2)", 2 * i + 3, 2 * i + 4))
            .collect();
        let sql = format!(
            "INSERT INTO vp_requests (id, nonce, purpose, created_at, expires_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(now).bind(offer.expires_at);
        for (id,) in chunk {
            query = query.bind(id).bind(random_token(24));
        }
        query.execute(&mut *tx).await?;
    }
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "offer.sent",
        Some(&offer.id),
        Some(&access.tenant.id),
        json!({ "recipients": sent }),
    )
    .await?;
    crate::notices::offer_sent(&mut tx, now, &offer.id, &access.tenant.id, &offer.title).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Sent {
            offer,
            recipients: sent,
        }),
    ))
}

type OfferRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
);
const OFFER_COLUMNS: &str = "o.id, o.title, o.body, o.document_id, o.contract_type, o.place, o.claims, o.created_at, o.expires_at";

fn offer_of(row: OfferRow) -> Offer {
    Offer {
        id: row.0,
        title: row.1,
        body: row.2,
        document_id: row.3,
        contract_type: row.4,
        place: row.5,
        claims: serde_json::from_str(&row.6).unwrap_or_default(),
        created_at: row.7,
        expires_at: row.8,
    }
}

/// A recipient's status as seen now: an open offer past its date has expired.
fn status_now(status: &str, expires_at: i64, now: i64) -> String {
    if matches!(status, "sent" | "viewed") && expires_at <= now {
        "expired".to_owned()
    } else {
        status.to_owned()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferSummary {
    #[serde(flatten)]
    pub offer: Offer,
    /// Recipients by status (`sent`, `viewed`, `accepted`, `declined`, `expired`).
    #[schema(value_type = Object)]
    pub statuses: Value,
}

/// The company's offers, newest first.
#[utoipa::path(get, path = "/api/v1/companies/{id}/offers", tag = "offers",
    params(("id" = String, Path)), responses((status = 200, body = Vec<OfferSummary>), (status = 403, body = Problem)))]
async fn list(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
) -> ApiResult<Json<Vec<OfferSummary>>> {
    let pool = state.ctx.db.pool();
    let now = state.ctx.now_ms();
    let rows: Vec<OfferRow> = sqlx::query_as(&format!(
        "SELECT {OFFER_COLUMNS} FROM offers o WHERE o.company_id = $1 ORDER BY o.created_at DESC, o.id LIMIT 500"
    ))
    .bind(&access.tenant.id)
    .fetch_all(pool)
    .await?;
    let counts: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT r.offer_id, r.status, COUNT(*) FROM offer_recipients r WHERE r.company_id = $1 GROUP BY r.offer_id, r.status",
    )
    .bind(&access.tenant.id)
    .fetch_all(pool)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| {
                let offer = offer_of(row);
                let mut statuses = serde_json::Map::new();
                for (_, status, n) in counts.iter().filter(|c| c.0 == offer.id) {
                    let key = status_now(status, offer.expires_at, now);
                    let total = statuses.get(&key).and_then(Value::as_i64).unwrap_or(0) + n;
                    statuses.insert(key, total.into());
                }
                OfferSummary {
                    offer,
                    statuses: Value::Object(statuses),
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    pub id: String,
    /// The offer they received, and its title.
    pub offer_id: String,
    pub offer_title: String,
    pub profile_id: String,
    pub name: String,
    pub status: String,
    pub sent_at: i64,
    pub viewed_at: Option<i64>,
    pub answered_at: Option<i64>,
    /// What the candidate disclosed on accepting (only then), verified by `verified_by`.
    #[schema(value_type = Option<Object>)]
    pub disclosed: Option<Value>,
    /// The issuer of the identity credential the disclosed claims come from.
    pub verified_by: Option<String>,
    /// What the candidate declared of themselves (signed by them, attested by nobody).
    #[schema(value_type = Option<Object>)]
    pub declared: Option<Value>,
    /// The consent receipt they signed.
    pub consent_receipt: Option<String>,
    pub chat_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferDetail {
    #[serde(flatten)]
    pub offer: Offer,
    pub recipients: Vec<RecipientView>,
}

#[derive(sqlx::FromRow)]
struct RecipientRow {
    id: String,
    offer_id: String,
    offer_title: String,
    profile_id: String,
    name: String,
    status: String,
    sent_at: i64,
    viewed_at: Option<i64>,
    answered_at: Option<i64>,
    claims: Option<String>,
    consent_receipt: Option<String>,
    declared: Option<String>,
    verified_by: Option<String>,
    chat_id: Option<String>,
    expires_at: i64,
}

async fn recipients_of(
    state: &VerifierState,
    access: &Access<Companies>,
    condition: &str,
    bind: &str,
) -> ApiResult<Vec<RecipientView>> {
    let now = state.ctx.now_ms();
    let rows: Vec<RecipientRow> = sqlx::query_as(&format!(
        "SELECT r.id, r.offer_id, o.title AS offer_title, r.profile_id, p.name, r.status, r.sent_at, r.viewed_at, r.answered_at, d.claims, d.consent_receipt, \
         d.declared, d.verified_by, ch.id AS chat_id, o.expires_at \
         FROM offer_recipients r JOIN profiles p ON p.id = r.profile_id JOIN offers o ON o.id = r.offer_id \
         LEFT JOIN disclosures d ON d.recipient_id = r.id LEFT JOIN chats ch ON ch.recipient_id = r.id \
         WHERE r.company_id = $1 AND {condition} ORDER BY r.answered_at DESC, p.name, r.id LIMIT 10000"
    ))
    .bind(&access.tenant.id)
    .bind(bind)
    .fetch_all(state.ctx.db.pool())
    .await?;
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    Ok(rows
        .into_iter()
        .map(|r| RecipientView {
            status: status_now(&r.status, r.expires_at, now),
            disclosed: json(r.claims),
            declared: json(r.declared),
            verified_by: r.verified_by,
            consent_receipt: r.consent_receipt,
            chat_id: r.chat_id,
            id: r.id,
            offer_id: r.offer_id,
            offer_title: r.offer_title,
            profile_id: r.profile_id,
            name: r.name,
            sent_at: r.sent_at,
            viewed_at: r.viewed_at,
            answered_at: r.answered_at,
        })
        .collect())
}

/// An offer with its recipients, their status and, for those who accepted, what they disclosed.
#[utoipa::path(get, path = "/api/v1/companies/{id}/offers/{offer}", tag = "offers",
    params(("id" = String, Path), ("offer" = String, Path)),
    responses((status = 200, body = OfferDetail), (status = 404, body = Problem)))]
async fn get_offer(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
    Path(path): Path<(String, String)>,
) -> ApiResult<Json<OfferDetail>> {
    let offer_id = path.1;
    let row: OfferRow = sqlx::query_as(&format!(
        "SELECT {OFFER_COLUMNS} FROM offers o WHERE o.id = $1 AND o.company_id = $2"
    ))
    .bind(&offer_id)
    .bind(&access.tenant.id)
    .fetch_optional(state.ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let offer = offer_of(row);
    let recipients = recipients_of(&state, &access, "r.offer_id = $2", &offer.id).await?;
    Ok(Json(OfferDetail { offer, recipients }))
}

/// Everyone the company's offers reached, across its offers, newest answers first, with their
/// state (and what those who accepted disclosed): the recruiter's pipeline.
#[utoipa::path(get, path = "/api/v1/companies/{id}/recipients", tag = "offers",
    params(("id" = String, Path)), responses((status = 200, body = Vec<RecipientView>), (status = 403, body = Problem)))]
async fn all_recipients(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
) -> ApiResult<Json<Vec<RecipientView>>> {
    Ok(Json(recipients_of(&state, &access, "$2 = $2", "").await?))
}

/// The candidates who accepted one of the company's offers, with what they disclosed.
#[utoipa::path(get, path = "/api/v1/companies/{id}/candidates", tag = "offers",
    params(("id" = String, Path)), responses((status = 200, body = Vec<RecipientView>), (status = 403, body = Problem)))]
async fn candidates(
    State(state): State<VerifierState>,
    Recruiter(access): Recruiter,
) -> ApiResult<Json<Vec<RecipientView>>> {
    Ok(Json(
        recipients_of(&state, &access, "r.status = $2", "accepted").await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    /// The recipient id: this offer, to this holder.
    pub id: String,
    pub company: String,
    pub company_siret: Option<String>,
    pub title: String,
    pub body: Option<String>,
    pub has_document: bool,
    pub contract_type: Option<String>,
    pub place: Option<String>,
    pub claims: Vec<AskedClaim>,
    pub status: String,
    pub sent_at: i64,
    pub expires_at: i64,
    /// The OpenID4VP request to accept with, while the offer is open.
    pub request: Option<String>,
    pub chat_id: Option<String>,
}

/// The offers sent to the holder of the proof's key; opening the inbox marks them viewed.
#[utoipa::path(get, path = "/api/v1/directory/inbox", tag = "directory",
    params(("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 200, body = Vec<InboxItem>), (status = 401, body = Problem)))]
async fn inbox(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
) -> ApiResult<Json<Vec<InboxItem>>> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    type Row = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.id, t.name, t.siret, o.title, o.body, o.document_id, o.contract_type, o.place, o.claims, r.status, r.sent_at, o.expires_at, v.nonce, ch.id \
         FROM offer_recipients r JOIN offers o ON o.id = r.offer_id JOIN tenants t ON t.id = r.company_id \
         LEFT JOIN vp_requests v ON v.id = r.id LEFT JOIN chats ch ON ch.recipient_id = r.id \
         WHERE r.profile_id = $1 ORDER BY r.sent_at DESC, r.id LIMIT 1000",
    )
    .bind(&holder.profile_id)
    .fetch_all(ctx.db.pool())
    .await?;
    sqlx::query("UPDATE offer_recipients SET status = 'viewed', viewed_at = $1 WHERE profile_id = $2 AND status = 'sent'")
        .bind(now)
        .bind(&holder.profile_id)
        .execute(&mut *ctx.db.writer().await?)
        .await?;
    // The requests still to answer, each with its response key.
    let mut keys = HashMap::new();
    for r in &rows {
        let status = status_now(if r.9 == "sent" { "viewed" } else { &r.9 }, r.11, now);
        if r.12.is_some() && status == "viewed" {
            keys.insert(r.0.clone(), vp::response_key(ctx, &r.0).await?);
        }
    }
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let claims: Vec<AskedClaim> = serde_json::from_str(&r.8).unwrap_or_default();
                let status = status_now(if r.9 == "sent" { "viewed" } else { &r.9 }, r.11, now);
                let request = match (&r.12, keys.remove(&r.0)) {
                    (Some(nonce), Some(key)) => offer_query(&claims)
                        .ok()
                        .map(|q| vp::link(ctx, &r.0, nonce, q, key)),
                    _ => None,
                };
                InboxItem {
                    id: r.0,
                    company: r.1,
                    company_siret: r.2,
                    title: r.3,
                    body: r.4,
                    has_document: r.5.is_some(),
                    contract_type: r.6,
                    place: r.7,
                    claims,
                    status,
                    sent_at: r.10,
                    expires_at: r.11,
                    request,
                    chat_id: r.13,
                }
            })
            .collect(),
    ))
}

/// The PDF of an offer sent to the holder.
#[utoipa::path(get, path = "/api/v1/directory/inbox/{recipient}/document", tag = "directory",
    params(("recipient" = String, Path), ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 200, description = "the PDF"), (status = 404, body = Problem)))]
async fn inbox_document(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(recipient): Path<String>,
) -> ApiResult<Response> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT d.file_key, d.filename FROM offer_recipients r JOIN offers o ON o.id = r.offer_id \
         JOIN offer_documents d ON d.id = o.document_id WHERE r.id = $1 AND r.profile_id = $2",
    )
    .bind(&recipient)
    .bind(&holder.profile_id)
    .fetch_optional(state.ctx.db.pool())
    .await?;
    let (key, filename) = row.ok_or(ApiError::NotFound)?;
    let bytes = state
        .ctx
        .files
        .get(&key)
        .await
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Declines an offer: nothing is disclosed, and the offer's request can no longer be answered.
#[utoipa::path(post, path = "/api/v1/directory/inbox/{recipient}/decline", tag = "directory",
    params(("recipient" = String, Path), ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn decline(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(recipient): Path<String>,
) -> ApiResult<StatusCode> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query(
        "UPDATE offer_recipients SET status = 'declined', answered_at = $1 WHERE id = $2 AND profile_id = $3 AND status IN ('sent', 'viewed')",
    )
    .bind(now)
    .bind(&recipient)
    .bind(&holder.profile_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT status FROM offer_recipients WHERE id = $1 AND profile_id = $2")
                .bind(&recipient)
                .bind(&holder.profile_id)
                .fetch_optional(&mut *tx)
                .await?;
        return Err(match exists {
            None => ApiError::NotFound,
            Some((status,)) => ApiError::Conflict(format!("the offer is {status} already")),
        });
    }
    vp::consume(&mut tx, &recipient).await?;
    sqlx::query("UPDATE profiles SET last_contact_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&holder.profile_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "offer.declined",
        Some(&recipient),
        None,
        json!({}),
    )
    .await?;
    crate::notices::to_company(
        &mut tx,
        ctx,
        &recipient,
        crate::notices::CompanyNews::Declined,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases what the holder disclosed to the company of this offer, and their chat, at once.
#[utoipa::path(delete, path = "/api/v1/directory/inbox/{recipient}/disclosure", tag = "directory",
    params(("recipient" = String, Path), ("carnet-holder-proof" = String, Header, description = "A holder proof for this request")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn erase(
    State(state): State<VerifierState>,
    holder: ProvenHolder,
    Path(recipient): Path<String>,
) -> ApiResult<StatusCode> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let erased = sqlx::query("DELETE FROM disclosures WHERE recipient_id = $1 AND profile_id = $2")
        .bind(&recipient)
        .bind(&holder.profile_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if erased == 0 {
        return Err(ApiError::NotFound);
    }
    sqlx::query("DELETE FROM chats WHERE recipient_id = $1")
        .bind(&recipient)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "disclosure.erased",
        Some(&recipient),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query an offer's recipient answers.
pub async fn query_of(state: &VerifierState, recipient: &str) -> Result<DcqlQuery, Refused> {
    let (claims,): (String,) = sqlx::query_as(
        "SELECT o.claims FROM offer_recipients r JOIN offers o ON o.id = r.offer_id WHERE r.id = $1",
    )
    .bind(recipient)
    .fetch_optional(state.ctx.db.pool())
    .await?
    .ok_or_else(|| Refused::invalid("no such offer"))?;
    let claims: Vec<AskedClaim> = serde_json::from_str(&claims).map_err(ApiError::from)?;
    offer_query(&claims).map_err(|e| Refused::from(ApiError::internal(e)))
}

/// Records an acceptance: the holder is the profile's, the offer still open; the disclosed
/// claims and the receipt are kept for the company, and a chat opens.
pub async fn accepted(
    state: &VerifierState,
    recipient: &str,
    answer: Answer,
) -> Result<Value, Refused> {
    let ctx = &state.ctx;
    let now = ctx.now_ms();
    let (company, profile, holder_kid, status, expires_at, asked): (String, String, String, String, i64, String) = sqlx::query_as(
        "SELECT r.company_id, r.profile_id, p.holder_kid, r.status, o.expires_at, o.claims FROM offer_recipients r \
         JOIN offers o ON o.id = r.offer_id JOIN profiles p ON p.id = r.profile_id WHERE r.id = $1",
    )
    .bind(recipient)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or_else(|| Refused::invalid("no such offer"))?;
    if holder_kid != answer.holder.kid() {
        return Err(Refused::invalid(
            "the answer is not from the holder the offer was sent to",
        ));
    }
    if !matches!(status.as_str(), "sent" | "viewed") || expires_at <= now {
        return Err(Refused::invalid(format!(
            "the offer is {}",
            status_now(&status, expires_at, now)
        )));
    }
    let asked: Vec<AskedClaim> = serde_json::from_str(&asked).map_err(ApiError::from)?;
    // What was verified: the identity credential's claims and the e-mail address, each by
    // the issuer that attested it.
    let mut claims = Map::new();
    let mut issuers: Vec<String> = Vec::new();
    let names = state.trust.snapshot(state).await?;
    for query in [IDENTITY_QUERY, EMAIL_QUERY] {
        if let Some(p) = answer.presented.iter().find(|p| p.query_id == query) {
            for (name, value) in &p.claims {
                claims.entry(name.clone()).or_insert_with(|| value.clone());
            }
            let issuer = names
                .names
                .get(&p.verified.issuer)
                .cloned()
                .unwrap_or_else(|| p.verified.issuer.clone());
            if !issuers.contains(&issuer) {
                issuers.push(issuer);
            }
        }
    }
    let claims = Value::Object(claims);
    let verified_by = (!issuers.is_empty()).then(|| issuers.join(", "));
    // What the candidate declares, signed with the receipt: only what the offer asks (and a
    // presentation and links), never something an identity credential already verified.
    let declared = match answer
        .receipt
        .as_ref()
        .and_then(|(r, _)| r.declared.clone())
    {
        None => Declared::default(),
        Some(value) => serde_json::from_value::<Declared>(value)
            .map_err(|e| Refused::invalid(format!("the declared details: {e}")))?
            .normalise()
            .map_err(|e| Refused::invalid(format!("the declared details: {e}")))?,
    };
    let paths: Vec<&ClaimPath> = asked
        .iter()
        .map(|a| &a.path)
        .filter(|p| carnet_core::dcql::resolve(&claims, p).is_empty())
        .collect();
    let declared = declared.only(&paths);
    if let Some(missing) = asked.iter().find(|a| {
        a.required
            && carnet_core::dcql::resolve(&claims, &a.path).is_empty()
            && !declared.says(&a.path)
    }) {
        return Err(Refused::invalid(format!(
            "the offer requires {}, neither verified nor declared",
            missing.path.to_json()
        )));
    }
    let declared = (!declared.is_empty())
        .then(|| serde_json::to_string(&declared))
        .transpose()
        .map_err(ApiError::from)?;
    let mut tx = ctx.db.begin().await?;
    if !vp::consume(&mut tx, recipient).await? {
        return Err(Refused::invalid("the offer was answered already"));
    }
    sqlx::query("UPDATE offer_recipients SET status = 'accepted', answered_at = $1 WHERE id = $2")
        .bind(now)
        .bind(recipient)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO disclosures (recipient_id, company_id, profile_id, claims, consent_receipt, received_at, last_contact_at, declared, verified_by) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
    )
    .bind(recipient)
    .bind(&company)
    .bind(&profile)
    .bind(claims.to_string())
    .bind(answer.receipt.as_ref().map(|(_, jwt)| jwt.clone()))
    .bind(now)
    .bind(&declared)
    .bind(&verified_by)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE profiles SET last_contact_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&profile)
        .execute(&mut *tx)
        .await?;
    let chat_id = chats::open(&mut tx, recipient, &company, &profile, now).await?;
    let shared: Vec<Value> = claims
        .as_object()
        .map(|m| m.keys().map(|k| json!(k)).collect())
        .unwrap_or_default();
    audit::record(
        &mut tx,
        now,
        &Actor::system(),
        "offer.accepted",
        Some(recipient),
        Some(&company),
        json!({ "claims": shared, "declared": declared.is_some() }),
    )
    .await?;
    crate::notices::to_company(
        &mut tx,
        ctx,
        recipient,
        crate::notices::CompanyNews::Accepted,
    )
    .await?;
    tx.commit().await?;
    Ok(json!({ "status": "accepted", "chat_id": chat_id }))
}
