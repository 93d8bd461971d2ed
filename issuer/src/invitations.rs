//! Invitations: a centre invites someone by e-mail address to a role in the organisation (and,
//! a session). The link is e-mailed to the address (`carnet_service::mail`, kept in the outbox
//! without a mail server) and shown once to the inviter (it is a secret, so it is not logged);
//! whoever signs up (or in) with that address accepts it. The role is
//! checked against the inviter's by the rule of [`crate::roles`] when the invitation is made
//! and again when it is accepted, so an invitation is worth no more than its inviter still is. One person can hold roles in
//! many sessions of many centres with one account.

use crate::roles::{self, Granter};
use crate::{IssuerState, Managers, Organisations};
use axum::extract::State;
use axum::http::StatusCode;
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::auth::{Principal, normalise_email};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::{hash_secret, looks_like_id, random_token};
use carnet_service::mail::fill;
use carnet_service::tenants::InRoles;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Invitations are valid 30 days.
const TTL_MS: i64 = 30 * 24 * 3600 * 1000;

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(invite, pending))
        .routes(routes!(accept))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    /// A role in the organisation: admin, manager, trainer or trainee.
    pub role: String,
    /// Also give this role in a session (manager, trainer or trainee).
    #[serde(default)]
    pub session_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: String,
    pub session_id: Option<String>,
    pub expires_at: i64,
    /// To give the invitee (shown once; never logged).
    pub link: Option<String>,
    /// The secret to send to `POST /api/v1/invitations/accept`.
    pub token: Option<String>,
}

/// Who made (or is making) an invitation.
struct Inviter<'a> {
    account: &'a str,
    platform_admin: bool,
    org_roles: &'a [String],
}

/// Whether `inviter` may give `role` in the organisation, and in `session` if named, to the
/// address `email`: the rule of [`crate::roles`], with the inviter's roles in that session read
/// now. The same check runs when the invitation is made and when it is accepted.
async fn check_grant(
    ctx: &Ctx,
    org: &str,
    inviter: Inviter<'_>,
    email: &str,
    role: &str,
    session: Option<&str>,
) -> ApiResult<()> {
    let org_role = roles::org_role(role)?;
    let mut granter = Granter {
        platform_admin: inviter.platform_admin,
        org_roles: inviter.org_roles,
        session_roles: &[],
    };
    roles::check_org_grant(&granter, org_role)?;
    let Some(session) = session else {
        return Ok(());
    };
    let session_role = roles::session_role(role)?;
    let known: Option<(String,)> =
        sqlx::query_as("SELECT id FROM training_sessions WHERE id = $1 AND organisation_id = $2")
            .bind(session)
            .bind(org)
            .fetch_optional(ctx.db.pool())
            .await?;
    known.ok_or_else(|| {
        ApiError::invalid_field("session_id", "no such session in this organisation")
    })?;
    let session_roles: Vec<String> = sqlx::query_as::<_, (String,)>(
        "SELECT role FROM session_members WHERE session_id = $1 AND account_id = $2",
    )
    .bind(session)
    .bind(inviter.account)
    .fetch_all(ctx.db.pool())
    .await?
    .into_iter()
    .map(|(r,)| r)
    .collect();
    granter.session_roles = &session_roles;
    // The invitee's roles in the organisation once this one is given.
    let mut grantee: Vec<String> = sqlx::query_as::<_, (String,)>(
        "SELECT m.role FROM tenant_members m JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 AND a.email = $2",
    )
    .bind(org)
    .bind(email)
    .fetch_all(ctx.db.pool())
    .await?
    .into_iter()
    .map(|(r,)| r)
    .collect();
    grantee.push(org_role.as_str().to_owned());
    roles::check_session_grant(&granter, &grantee, session_role)
}

/// The invitation's mail.
const MAIL: carnet_service::i18n::Catalog = &[
    (
        "invitation.subject",
        "Invitation : {centre}",
        "Invitation: {centre}",
    ),
    ("invitation.hello", "Bonjour,", "Hello,"),
    (
        "invitation.what",
        "{inviter} vous invite à rejoindre {centre} sur Carnet, en tant que {role}.",
        "{inviter} invites you to join {centre} on Carnet, as {role}.",
    ),
    (
        "invitation.what_session",
        "{inviter} vous invite à rejoindre {centre} sur Carnet, en tant que {role}, avec une session.",
        "{inviter} invites you to join {centre} on Carnet, as {role}, with a session.",
    ),
    (
        "invitation.role.admin",
        "administrateur ou administratrice",
        "administrator",
    ),
    ("invitation.role.manager", "gestionnaire", "manager"),
    (
        "invitation.role.trainer",
        "formateur ou formatrice",
        "trainer",
    ),
    ("invitation.role.trainee", "stagiaire", "trainee"),
    (
        "invitation.how",
        "Ouvrez ce lien, puis créez votre compte (ou connectez-vous) avec cette adresse :",
        "Open this link, then create your account (or sign in) with this address:",
    ),
    (
        "invitation.ignore",
        "Le lien est valable 30 jours. Si vous n'attendiez pas cette invitation, ignorez ce message.",
        "The link is good for 30 days. If you were not expecting this invitation, ignore this message.",
    ),
];

/// Invites an e-mail address; organisation administrators and managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/invitations", tag = "organisations", request_body = NewInvitation,
    params(("id" = String, Path)), responses((status = 201, body = Invitation), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn invite(
    State(ctx): State<Ctx>,
    InRoles(access, _): InRoles<Organisations, Managers>,
    Json(input): Json<NewInvitation>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    let invitation = invite_address(&ctx, &access, input).await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// Invites an address in the name of `access`'s caller (an administrator or manager of the
/// organisation, checked by the caller), within the rule of [`crate::roles`], audited; the
/// invitation with its link, shown once.
pub(crate) async fn invite_address(
    ctx: &Ctx,
    access: &carnet_service::tenants::Access<Organisations>,
    input: NewInvitation,
) -> ApiResult<Invitation> {
    let email = normalise_email(&input.email)?;
    let org = &access.tenant.id;
    check_grant(
        ctx,
        org,
        Inviter {
            account: access.principal.account_id.as_str(),
            platform_admin: access.principal.platform_admin,
            org_roles: &access.tenant.my_roles,
        },
        &email,
        &input.role,
        input.session_id.as_deref(),
    )
    .await?;
    let token = random_token(24);
    let id = format!("inv_{}", random_token(16));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO invitations (id, organisation_id, email, role, session_id, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(org)
    .bind(&email)
    .bind(&input.role)
    .bind(&input.session_id)
    .bind(hash_secret(&token))
    .bind(access.principal.account_id.as_str())
    .bind(now)
    .bind(now + TTL_MS)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "invitation.created",
        Some(&id),
        Some(org),
        json!({ "email": email, "role": input.role, "session": input.session_id }),
    )
    .await?;
    // The link is a secret: it goes to the invitee by e-mail and is shown once to the
    // inviter, never to the log.
    let link = format!("{}/invitations/{token}", ctx.config.public_url);
    // In the invitee's language when they have an account here, else the inviter's.
    let invitee: Option<(String,)> = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    let speaker = invitee.map_or_else(|| access.principal.account_id.0.clone(), |(id,)| id);
    let lang = carnet_service::addresses::language_of(&mut tx, &speaker).await?;
    let t = |key: &str| lang.t(MAIL, key);
    let role = t(&format!("invitation.role.{}", input.role));
    let centre = access.tenant.name.as_str();
    carnet_service::mail::queue(
        &mut tx,
        ctx,
        &carnet_service::mail::Outgoing {
            kind: "invitation",
            to: email.clone(),
            to_name: String::new(),
            subject: fill(t("invitation.subject"), &[("centre", centre)]),
            paragraphs: vec![
                t("invitation.hello").to_owned(),
                fill(
                    t(if input.session_id.is_some() {
                        "invitation.what_session"
                    } else {
                        "invitation.what"
                    }),
                    &[
                        ("inviter", &access.principal.display_name),
                        ("centre", centre),
                        ("role", role),
                    ],
                ),
                t("invitation.how").to_owned(),
                link.clone(),
                t("invitation.ignore").to_owned(),
            ],
            attachment: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(invitation = %id, "invitation created (its link is e-mailed and shown once to the inviter)");
    Ok(Invitation {
        id,
        email,
        role: input.role,
        session_id: input.session_id,
        expires_at: now + TTL_MS,
        link: Some(link),
        token: Some(token),
    })
}

/// Invitations not accepted yet; organisation administrators and managers.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/invitations", tag = "organisations",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Invitation>)))]
async fn pending(
    State(ctx): State<Ctx>,
    InRoles(access, _): InRoles<Organisations, Managers>,
) -> ApiResult<Json<Vec<Invitation>>> {
    let rows: Vec<(String, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT id, email, role, session_id, expires_at FROM invitations \
         WHERE organisation_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1000",
    )
    .bind(&access.tenant.id)
    .bind(ctx.now_ms())
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, email, role, session_id, expires_at)| Invitation {
                id,
                email,
                role,
                session_id,
                expires_at,
                link: None,
                token: None,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub organisation_id: String,
    pub role: String,
    pub session_id: Option<String>,
}

/// Accepts an invitation with the account of the invited address.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "organisations", request_body = Acceptance,
    responses((status = 200, body = Accepted), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn accept(
    State(ctx): State<Ctx>,
    principal: Principal,
    Json(input): Json<Acceptance>,
) -> ApiResult<Json<Accepted>> {
    if !looks_like_id(&input.token) {
        return Err(ApiError::NotFound);
    }
    let now = ctx.now_ms();
    let row: Option<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, organisation_id, email, role, session_id, invited_by FROM invitations \
         WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2",
    )
    .bind(hash_secret(&input.token))
    .bind(now)
    .fetch_optional(ctx.db.pool())
    .await?;
    let (id, org, email, role, session, invited_by) = row.ok_or(ApiError::NotFound)?;
    if email != principal.email {
        return Err(ApiError::Forbidden);
    }
    // The link proves less than a confirmed address (the inviter saw it too): the role waits
    // until the invitee confirms the address it was sent to.
    if !principal.email_verified {
        return Err(ApiError::AddressUnverified);
    }
    // The inviter's roles as they are now: one demoted (or gone) since cannot give them.
    let (platform_admin,): (i64,) =
        sqlx::query_as("SELECT platform_admin FROM accounts WHERE id = $1")
            .bind(&invited_by)
            .fetch_one(ctx.db.pool())
            .await?;
    let inviter_roles: Vec<String> = sqlx::query_as::<_, (String,)>(
        "SELECT role FROM tenant_members WHERE tenant_id = $1 AND account_id = $2",
    )
    .bind(&org)
    .bind(&invited_by)
    .fetch_all(ctx.db.pool())
    .await?
    .into_iter()
    .map(|(r,)| r)
    .collect();
    check_grant(
        &ctx,
        &org,
        Inviter {
            account: &invited_by,
            platform_admin: platform_admin != 0,
            org_roles: &inviter_roles,
        },
        &email,
        &role,
        session.as_deref(),
    )
    .await
    .map_err(|e| match e {
        ApiError::Forbidden => ApiError::Conflict(
            "whoever invited you may no longer give this role; ask the centre for a new invitation"
                .into(),
        ),
        other => other,
    })?;
    let account = principal.account_id.as_str();
    let mut tx = ctx.db.begin().await?;
    let taken = sqlx::query("UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3 AND accepted_at IS NULL")
        .bind(now)
        .bind(account)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    if taken.rows_affected() != 1 {
        return Err(ApiError::NotFound);
    }
    sqlx::query("INSERT INTO tenant_members (tenant_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(&org)
        .bind(account)
        .bind(&role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some(session) = &session {
        sqlx::query("INSERT INTO session_members (session_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(session)
            .bind(account)
            .bind(&role)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    audit::record(
        &mut tx,
        now,
        &(&principal).into(),
        "invitation.accepted",
        Some(&id),
        Some(&org),
        json!({ "role": role, "session": session }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(Accepted {
        organisation_id: org,
        role,
        session_id: session,
    }))
}
