//! The two other credentials a centre issues: the **identity** credential, from the identity the
//! centre checked at enrolment (every personal claim selectively disclosable, the address parts
//! too), and the **completion certificate** ("certificat de réalisation") of a session, with its
//! dates and hours — planned, and attended as the attendance records them. A trainee asks for
//! the identity credential (`identity-requests`); the request waits for the centre's
//! administrators and managers, and is closed when they attest it.

use crate::attendance;
use crate::catalog::text;
use crate::offers::{self, COMPLETION, IDENTITY, OfferLink};
use crate::sessions::{self, SessionManager, date};
use crate::{IssuerState, Managers, Organisations};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_service::audit;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::tenants::{InRoles, Member};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(check_identity))
        .routes(routes!(request_identity, identity_requests))
        .routes(routes!(certify_completion))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
    /// Protect the offer with a PIN (default true).
    #[serde(default)]
    pub pin: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default)]
    pub street_address: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub locality: String,
    /// ISO 3166-1 alpha-2, e.g. `FR` (the default).
    #[serde(default)]
    pub country: String,
}

fn identity_claims(input: &Identity) -> ApiResult<Map<String, Value>> {
    let mut claims = Map::new();
    claims.insert(
        "given_name".into(),
        text("given_name", &input.given_name, 100)?.into(),
    );
    claims.insert(
        "family_name".into(),
        text("family_name", &input.family_name, 100)?.into(),
    );
    claims.insert(
        "birthdate".into(),
        date("birthdate", &input.birthdate)?.into(),
    );
    if let Some(email) = &input.email {
        claims.insert(
            "email".into(),
            carnet_service::auth::normalise_email(email)?.into(),
        );
    }
    if let Some(phone) = &input.phone_number {
        let ok = (4..=20).contains(&phone.len())
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || "+ .-()".contains(c));
        if !ok {
            return Err(ApiError::invalid_field(
                "phone_number",
                "a phone number (digits, +, spaces)",
            ));
        }
        claims.insert("phone_number".into(), phone.trim().into());
    }
    // An address with the parts given (a form leaves some empty), none: no address.
    if let Some(a) = &input.address {
        let country = match a.country.trim() {
            "" => "FR".to_owned(),
            c => c.to_uppercase(),
        };
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::invalid_field(
                "address.country",
                "an ISO 3166-1 alpha-2 code such as FR",
            ));
        }
        let mut address = Map::new();
        for (name, value, max) in [
            ("street_address", &a.street_address, 200),
            ("postal_code", &a.postal_code, 20),
            ("locality", &a.locality, 100),
        ] {
            if !value.trim().is_empty() {
                address.insert(
                    name.into(),
                    text(&format!("address.{name}"), value, max)?.into(),
                );
            }
        }
        if !address.is_empty() {
            address.insert("country".into(), country.into());
            claims.insert("address".into(), Value::Object(address));
        }
    }
    Ok(claims)
}

/// Records the identity the centre checked for one of its trainees and offers them the
/// identity credential; organisation administrators and managers.
#[utoipa::path(put, path = "/api/v1/organisations/{id}/trainees/{account_id}/identity", tag = "credentials",
    request_body = Identity, params(("id" = String, Path), ("account_id" = String, Path)),
    responses((status = 201, body = OfferLink), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn check_identity(
    State(state): State<IssuerState>,
    InRoles(access, _): InRoles<Organisations, Managers>,
    Path(path): Path<(String, String)>,
    Json(input): Json<Identity>,
) -> ApiResult<(StatusCode, Json<OfferLink>)> {
    let (_, account) = path;
    let ctx = &state.ctx;
    let org = &access.tenant.id;
    if !looks_like_id(&account) {
        return Err(ApiError::NotFound);
    }
    sessions::not_oneself(&access, &account, "account_id")?;
    let trainee: Option<(String,)> =
        sqlx::query_as("SELECT account_id FROM tenant_members WHERE tenant_id = $1 AND account_id = $2 AND role = 'trainee'")
            .bind(org)
            .bind(&account)
            .fetch_optional(ctx.db.pool())
            .await?;
    if trainee.is_none() {
        return Err(ApiError::NotFound);
    }
    let claims = identity_claims(&input)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("DELETE FROM trainee_identities WHERE organisation_id = $1 AND account_id = $2")
        .bind(org)
        .bind(&account)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO trainee_identities (organisation_id, account_id, claims, checked_by, checked_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org)
    .bind(&account)
    .bind(Value::Object(claims.clone()).to_string())
    .bind(access.principal.account_id.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE identity_requests SET handled_at = $1 WHERE organisation_id = $2 AND account_id = $3 AND handled_at IS NULL",
    )
    .bind(now)
    .bind(org)
    .bind(&account)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "identity.checked",
        Some(&account),
        Some(org),
        json!({}),
    )
    .await?;
    let offer = offers::create(
        &mut tx,
        &state,
        org,
        &account,
        IDENTITY,
        &Value::Object(claims),
        None,
        input.pin.unwrap_or(true),
        &access.actor(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(offer)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIdentityRequest {
    /// A word for the centre (when to come with a document, say).
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct IdentityRequest {
    pub id: String,
    pub account_id: String,
    pub display_name: String,
    pub email: String,
    pub message: String,
    pub created_at: i64,
}

const REQUEST_COLUMNS: &str =
    "r.id, r.account_id, a.display_name, a.email, r.message, r.created_at";

/// A trainee asks the centre to attest their identity; one open request each (asking again
/// answers the open one).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/identity-requests", tag = "credentials",
    request_body = NewIdentityRequest, params(("id" = String, Path)),
    responses((status = 201, body = IdentityRequest), (status = 200, body = IdentityRequest), (status = 403, body = Problem)))]
async fn request_identity(
    State(state): State<IssuerState>,
    Member(access): Member<Organisations>,
    Json(input): Json<NewIdentityRequest>,
) -> ApiResult<(StatusCode, Json<IdentityRequest>)> {
    if !access.tenant.my_roles.iter().any(|r| r == "trainee") {
        return Err(ApiError::Forbidden);
    }
    let ctx = &state.ctx;
    let org = &access.tenant.id;
    let me = access.principal.account_id.as_str();
    let message = if input.message.trim().is_empty() {
        String::new()
    } else {
        text("message", &input.message, 1000)?
    };
    let open_sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM identity_requests r JOIN accounts a ON a.id = r.account_id \
         WHERE r.organisation_id = $1 AND r.account_id = $2 AND r.handled_at IS NULL"
    );
    let open = |conn| {
        sqlx::query_as::<_, IdentityRequest>(&open_sql)
            .bind(org)
            .bind(me)
            .fetch_optional(conn)
    };
    if let Some(existing) = open(ctx.db.pool()).await? {
        return Ok((StatusCode::OK, Json(existing)));
    }
    let now = ctx.now_ms();
    let id = format!("idr_{}", random_token(16));
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO identity_requests (id, organisation_id, account_id, message, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(org)
    .bind(me)
    .bind(&message)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "identity.requested",
        Some(&id),
        Some(org),
        json!({}),
    )
    .await?;
    // Those who attest it hear of it.
    let staff: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT a.id, a.email, a.display_name FROM tenant_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.tenant_id = $1 AND m.role IN ('admin', 'manager') AND a.email_verified_at IS NOT NULL",
    )
    .bind(org)
    .fetch_all(&mut *tx)
    .await?;
    crate::notices::mail_people(
        &mut tx,
        ctx,
        staff,
        ("identity_requested", "identity"),
        &[
            ("name", &access.principal.display_name),
            ("centre", &access.tenant.name),
            ("message", &message),
        ],
        &format!("{}/orgs/{org}#identity", ctx.config.public_url),
    )
    .await?;
    tx.commit().await?;
    let created = open(ctx.db.pool()).await?.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The identity requests waiting: all of them for the organisation's administrators and
/// managers, a trainee's own for them.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/identity-requests", tag = "credentials",
    params(("id" = String, Path)), responses((status = 200, body = Vec<IdentityRequest>)))]
async fn identity_requests(
    State(state): State<IssuerState>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<IdentityRequest>>> {
    let attests = access.principal.platform_admin
        || access
            .tenant
            .my_roles
            .iter()
            .any(|r| r == "admin" || r == "manager");
    let rows = sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM identity_requests r JOIN accounts a ON a.id = r.account_id \
         WHERE r.organisation_id = $1 AND r.handled_at IS NULL AND ($2 = 1 OR r.account_id = $3) \
         ORDER BY r.created_at LIMIT 1000"
    ))
    .bind(&access.tenant.id)
    .bind(i64::from(attests))
    .bind(access.principal.account_id.as_str())
    .fetch_all(state.ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub trainee_id: String,
    #[serde(default)]
    pub pin: Option<bool>,
}

/// Offers a trainee the completion certificate of the session; its managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/completions", tag = "credentials",
    request_body = Completion, params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = OfferLink), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn certify_completion(
    State(state): State<IssuerState>,
    SessionManager(access): SessionManager,
    Json(input): Json<Completion>,
) -> ApiResult<(StatusCode, Json<OfferLink>)> {
    let ctx = &state.ctx;
    let org = &access.org.tenant.id;
    let session = &access.session;
    sessions::not_oneself(&access.org, &input.trainee_id, "trainee_id")?;
    if !sessions::is_trainee(ctx, &session.id, &input.trainee_id).await? {
        return Err(ApiError::invalid_field(
            "trainee_id",
            "not a trainee of this session",
        ));
    }
    let (name,): (String,) = sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
        .bind(&input.trainee_id)
        .fetch_one(ctx.db.pool())
        .await?;
    // Hours attended, from the attendance (émargement); unknown while none is recorded.
    let attended = attendance::attended_minutes(ctx, &session.id, &input.trainee_id)
        .await?
        .map_or(Value::Null, |minutes| {
            json!((minutes as f64 / 60.0 * 100.0).round() / 100.0)
        });
    let claims = json!({
        "name": name,
        "formation": { "title": session.title, "starts_on": session.starts_on, "ends_on": session.ends_on },
        "hours": { "planned": session.planned_hours, "attended": attended },
        "establishment": { "name": access.org.tenant.name, "siret": access.org.tenant.siret },
        "session_id": session.id,
    });
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    audit::record(
        &mut tx,
        now,
        &access.org.actor(),
        "completion.certified",
        Some(&input.trainee_id),
        Some(org),
        json!({ "session": session.id }),
    )
    .await?;
    let offer = offers::create(
        &mut tx,
        &state,
        org,
        &input.trainee_id,
        COMPLETION,
        &claims,
        None,
        input.pin.unwrap_or(true),
        &access.org.actor(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(offer)))
}
