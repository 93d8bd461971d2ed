//! Credential offers (OpenID4VCI pre-authorized code flow). The offer URI carries a random
//! secret that is also the pre-authorized code: stored as its hash for lookup and sealed so the
//! trainee and the staff can show it again (link and QR code). Single use; expires after
//! [`OFFER_TTL_MS`]. An optional 6-digit transaction code (PIN) travels separately.

use crate::IssuerState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::oid4vci::{CredentialOffer, offer_link};
use carnet_service::audit::{self, Actor};
use carnet_service::auth::Principal;
use carnet_service::error::{ApiError, ApiResult};
use carnet_service::extract::Json;
use carnet_service::id::{hash_secret, looks_like_id, random_token};
use carnet_service::mail::fill;
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The credential configurations (see `metadata::CONFIGURATIONS`).
pub const COMPETENCY: &str = "competency";
pub const IDENTITY: &str = "identity";
pub const COMPLETION: &str = "completion";
/// Offers are valid for 14 days.
pub const OFFER_TTL_MS: i64 = 14 * 24 * 3600 * 1000;
pub const TX_CODE_LENGTH: usize = 6;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(my_offers))
        .routes(routes!(offer_qr))
}

/// What to show the trainee: the link (as a QR code too) and the PIN, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferLink {
    pub id: String,
    pub organisation_id: String,
    pub configuration_id: String,
    /// Where a wallet fetches the offer.
    pub credential_offer_uri: String,
    /// `openid-credential-offer://?credential_offer_uri=…`
    pub offer_link: String,
    /// The transaction code to type in the wallet.
    pub tx_code: Option<String>,
    pub expires_at: i64,
    pub redeemed: bool,
}

/// The credential issuer identifier of an organisation.
pub fn issuer_id(state: &IssuerState, org: &str) -> String {
    format!("{}/orgs/{org}", state.ctx.config.public_url)
}

fn uri(state: &IssuerState, org: &str, secret: &str) -> String {
    format!("{}/offers/{secret}", issuer_id(state, org))
}

/// The mail telling a trainee a credential waits (never its PIN).
const MAIL: carnet_service::i18n::Catalog = &[
    (
        "offer.subject",
        "Une attestation vous attend — {centre}",
        "A credential is waiting for you — {centre}",
    ),
    (
        "offer.competency",
        "la compétence « {name} »",
        "the competency « {name} »",
    ),
    ("offer.identity", "votre identité", "your identity"),
    (
        "offer.certificate",
        "votre certificat de réalisation",
        "your certificate of completion",
    ),
    (
        "offer.what",
        "{centre} vous délivre une attestation pour {what}.",
        "{centre} issues you a credential for {what}.",
    ),
    (
        "offer.where",
        "Retrouvez-la dans votre espace du centre, d'où vous l'ajoutez à votre carnet en un geste :",
        "Find it in your space at the centre, from where you add it to your carnet in one tap:",
    ),
    (
        "offer.pin",
        "Le code PIN s'affiche dans votre espace ; il n'est jamais envoyé par e-mail. L'offre expire le {date}.",
        "The PIN shows in your space; it is never sent by e-mail. The offer expires on {date}.",
    ),
];

/// Creates an offer in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    state: &IssuerState,
    org: &str,
    account: &str,
    configuration: &str,
    claims: &Value,
    evaluation: Option<&str>,
    pin: bool,
    actor: &Actor,
) -> ApiResult<OfferLink> {
    let ctx = &state.ctx;
    let id = format!("ofr_{}", random_token(16));
    let secret = random_token(32);
    let tx_code = pin.then(|| {
        let mut rng = rand::rngs::OsRng;
        (0..TX_CODE_LENGTH)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect::<String>()
    });
    let seal = |what: &str, value: &str| {
        ctx.config
            .secret_key
            .seal(&format!("{id}:{what}"), value.as_bytes())
            .map_err(ApiError::internal)
    };
    let now = ctx.now_ms();
    let expires_at = now + OFFER_TTL_MS;
    sqlx::query(
        "INSERT INTO credential_offers (id, organisation_id, account_id, configuration_id, claims, evaluation_id, code_hash, \
         sealed_code, tx_code_hash, sealed_tx_code, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(org)
    .bind(account)
    .bind(configuration)
    .bind(claims.to_string())
    .bind(evaluation)
    .bind(hash_secret(&secret))
    .bind(seal("code", &secret)?)
    .bind(tx_code.as_ref().map(|c| hash_secret(&format!("{id}:{c}"))))
    .bind(tx_code.as_ref().map(|c| seal("tx_code", c)).transpose()?)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        now,
        actor,
        "credential_offer.created",
        Some(&id),
        Some(org),
        json!({ "account": account, "configuration": configuration, "pin": pin }),
    )
    .await?;
    // The trainee is told by e-mail where to find it: their page at the centre, never the
    // offer nor its PIN in the message.
    let (email, name, verified): (String, String, Option<i64>) =
        sqlx::query_as("SELECT email, display_name, email_verified_at FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_one(&mut *conn)
            .await?;
    let (centre,): (String,) = sqlx::query_as("SELECT name FROM tenants WHERE id = $1")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    // Not to an address nobody confirmed: its owner may not be who registered it.
    if verified.is_some() {
        let lang = carnet_service::addresses::language_of(conn, account).await?;
        let t = |key: &str| lang.t(MAIL, key);
        let what = match claims["competency"]["name"].as_str() {
            Some(competency) => fill(t("offer.competency"), &[("name", competency)]),
            None if configuration == crate::offers::IDENTITY => t("offer.identity").to_owned(),
            None => t("offer.certificate").to_owned(),
        };
        carnet_service::mail::queue(
            conn,
            ctx,
            &carnet_service::mail::Outgoing {
                kind: "credential_offer",
                to: email,
                to_name: name.clone(),
                subject: fill(t("offer.subject"), &[("centre", &centre)]),
                paragraphs: vec![
                    fill(
                        lang.t(carnet_service::addresses::CATALOG, "mail.hello"),
                        &[("name", &name)],
                    ),
                    fill(t("offer.what"), &[("centre", &centre), ("what", &what)]),
                    t("offer.where").to_owned(),
                    ctx.config.public_url.clone(),
                    fill(
                        t("offer.pin"),
                        &[("date", &carnet_service::web::date_of(lang, expires_at))],
                    ),
                ],
                attachment: None,
            },
        )
        .await?;
    }
    let credential_offer_uri = uri(state, org, &secret);
    Ok(OfferLink {
        id,
        organisation_id: org.to_owned(),
        configuration_id: configuration.to_owned(),
        offer_link: offer_link(&credential_offer_uri),
        credential_offer_uri,
        tx_code,
        expires_at,
        redeemed: false,
    })
}

/// Whether `tx_code` is the offer's transaction code.
pub fn tx_code_matches(offer_id: &str, tx_code: &str, stored_hash: &str) -> bool {
    hash_secret(&format!("{offer_id}:{tx_code}")) == stored_hash
}

#[derive(sqlx::FromRow)]
struct OfferRow {
    id: String,
    organisation_id: String,
    configuration_id: String,
    sealed_code: Vec<u8>,
    sealed_tx_code: Option<Vec<u8>>,
    expires_at: i64,
    redeemed_at: Option<i64>,
}

/// The caller's credential offers (newest first), with their links and PINs.
#[utoipa::path(get, path = "/api/v1/me/credential-offers", tag = "credentials", responses((status = 200, body = Vec<OfferLink>)))]
async fn my_offers(
    State(state): State<IssuerState>,
    principal: Principal,
) -> ApiResult<Json<Vec<OfferLink>>> {
    // Whoever registered the address before its owner gets none of the owner's credentials.
    if !principal.email_verified {
        return Err(ApiError::AddressUnverified);
    }
    let rows: Vec<OfferRow> = sqlx::query_as(
        "SELECT id, organisation_id, configuration_id, sealed_code, sealed_tx_code, expires_at, redeemed_at FROM credential_offers \
         WHERE account_id = $1 ORDER BY created_at DESC LIMIT 500",
    )
    .bind(principal.account_id.as_str())
    .fetch_all(state.ctx.db.pool())
    .await?;
    let key = &state.ctx.config.secret_key;
    let open = |id: &str, what: &str, sealed: &[u8]| {
        key.open(&format!("{id}:{what}"), sealed)
            .map_err(ApiError::internal)
            .and_then(|b| String::from_utf8(b).map_err(ApiError::internal))
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let secret = open(&row.id, "code", &row.sealed_code)?;
        let credential_offer_uri = uri(&state, &row.organisation_id, &secret);
        out.push(OfferLink {
            tx_code: row
                .sealed_tx_code
                .as_deref()
                .map(|s| open(&row.id, "tx_code", s))
                .transpose()?,
            offer_link: offer_link(&credential_offer_uri),
            credential_offer_uri,
            id: row.id,
            organisation_id: row.organisation_id,
            configuration_id: row.configuration_id,
            expires_at: row.expires_at,
            redeemed: row.redeemed_at.is_some(),
        });
    }
    Ok(Json(out))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct QrQuery {
    /// `svg` (default) or `png`.
    format: Option<String>,
}

/// The offer link as a QR code, for the trainee it is for and the organisation's staff.
#[utoipa::path(get, path = "/api/v1/credential-offers/{oid}/qr", tag = "credentials",
    params(("oid" = String, Path), QrQuery),
    responses((status = 200, description = "image/svg+xml or image/png"), (status = 404, body = carnet_service::error::Problem)))]
async fn offer_qr(
    State(state): State<IssuerState>,
    principal: Principal,
    Path(oid): Path<String>,
    carnet_service::extract::Query(q): carnet_service::extract::Query<QrQuery>,
) -> ApiResult<Response> {
    if !looks_like_id(&oid) {
        return Err(ApiError::NotFound);
    }
    // The trainee, or staff of the offer's organisation; anyone else gets 404.
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT o.organisation_id, o.sealed_code FROM credential_offers o WHERE o.id = $1 AND (o.account_id = $2 \
         OR EXISTS (SELECT 1 FROM tenant_members m WHERE m.tenant_id = o.organisation_id AND m.account_id = $2 \
                    AND m.role IN ('admin', 'manager', 'trainer')))",
    )
    .bind(&oid)
    .bind(principal.account_id.as_str())
    .fetch_optional(state.ctx.db.pool())
    .await?;
    let (org, sealed) = row.ok_or(ApiError::NotFound)?;
    let secret = state
        .ctx
        .config
        .secret_key
        .open(&format!("{oid}:code"), &sealed)
        .map_err(ApiError::internal)?;
    let link = offer_link(&uri(
        &state,
        &org,
        &String::from_utf8(secret).map_err(ApiError::internal)?,
    ));
    let render_error = || ApiError::internal("QR code rendering failed");
    Ok(match q.format.as_deref() {
        None | Some("svg") => (
            [(header::CONTENT_TYPE, "image/svg+xml")],
            crate::qr::svg(&link).ok_or_else(render_error)?,
        )
            .into_response(),
        Some("png") => (
            [(header::CONTENT_TYPE, "image/png")],
            crate::qr::png(&link, 6).ok_or_else(render_error)?,
        )
            .into_response(),
        Some(_) => return Err(ApiError::invalid_field("format", "svg or png")),
    })
}

/// `GET /orgs/{org}/offers/{secret}`: the credential offer by reference (OpenID4VCI §4.1.3),
/// while it is neither expired nor used.
pub async fn offer_by_reference(
    State(state): State<IssuerState>,
    Path((org, secret)): Path<(String, String)>,
) -> Response {
    if !looks_like_id(&org) || !looks_like_id(&secret) {
        return ApiError::NotFound.into_response();
    }
    match find_by_code(&state.ctx, &org, &secret).await {
        Ok(Some(offer)) if offer.redeemed_at.is_none() && offer.expires_at > state.ctx.now_ms() => {
            let tx_code_length = offer.tx_code_hash.map(|_| TX_CODE_LENGTH);
            let offer = CredentialOffer::pre_authorized(
                &issuer_id(&state, &org),
                &offer.configuration_id,
                &secret,
                tx_code_length,
            );
            (
                StatusCode::OK,
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(offer),
            )
                .into_response()
        }
        Ok(_) => ApiError::NotFound.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Where an offer stands, found by its secret code.
#[derive(sqlx::FromRow)]
pub struct OfferState {
    pub id: String,
    pub configuration_id: String,
    pub tx_code_hash: Option<String>,
    pub tx_code_failures: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
}

pub async fn find_by_code(
    ctx: &carnet_service::Ctx,
    org: &str,
    code: &str,
) -> Result<Option<OfferState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, configuration_id, tx_code_hash, tx_code_failures, expires_at, redeemed_at FROM credential_offers \
         WHERE code_hash = $1 AND organisation_id = $2",
    )
    .bind(hash_secret(code))
    .bind(org)
    .fetch_optional(ctx.db.pool())
    .await
}
