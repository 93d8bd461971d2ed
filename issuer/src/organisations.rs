//! Organisations (training centres) and their members.

use crate::IssuerState;
use crate::roles::{self, Granter};
use crate::sessions::StaffReach;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_service::Ctx;
use carnet_service::audit::{self, AuditEntry, AuditQuery};
use carnet_service::auth::Principal;
use carnet_service::error::{ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::pagination::{Page, PageQuery};
use carnet_service::tenants::{
    self, Admin, Member, Membership, NewMember, NewTenant, Policy, Tenant,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A training centre.
pub struct Organisations;

/// Those who run the centre's sessions and credentials: administrators and managers.
pub struct Managers;

impl carnet_service::tenants::RoleSet for Managers {
    const ROLES: &'static [&'static str] = &["admin", "manager"];
}

impl Policy for Organisations {
    const NAME: &'static str = "organisation";
    const ROLES: &'static [&'static str] = &["admin", "manager", "trainer", "trainee"];
    const STAFF: &'static [&'static str] = &["admin", "manager", "trainer"];
    const NEEDS_APPROVAL: bool = false;
}

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(audit_log))
}

/// Creates an organisation; its creator becomes its administrator.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 422, body = Problem)))]
async fn create(
    State(state): State<IssuerState>,
    principal: Principal,
    Json(input): Json<NewTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    let organisation = tenants::create::<Organisations>(&state.ctx, &principal, input).await?;
    // Its first signing key, so that its metadata is complete from the start.
    crate::keys::active_key(&state, &organisation.id).await?;
    Ok((StatusCode::CREATED, Json(organisation)))
}

/// The organisations the caller belongs to (all of them for a platform administrator).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(PageQuery),
    responses((status = 200, body = inline(Page<Tenant>))))]
async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Query(paging): Query<PageQuery>,
) -> ApiResult<Json<Page<Tenant>>> {
    Ok(Json(tenants::list(&ctx, &principal, &paging, false).await?))
}

/// One organisation, for its members.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = String, Path)), responses((status = 200, body = Tenant), (status = 404, body = Problem)))]
async fn get(Member(access): Member<Organisations>) -> Json<Tenant> {
    Json(access.tenant)
}

/// The members and their roles, for staff; a trainer sees the people taking part in the
/// sessions they are staff of.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/members", tag = "organisations",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Membership>), (status = 403, body = Problem)))]
async fn members(State(ctx): State<Ctx>, reach: StaffReach) -> ApiResult<Json<Vec<Membership>>> {
    let (whole, me) = reach.binds();
    Ok(Json(
        sqlx::query_as(&format!(
            "SELECT m.account_id, a.email, a.display_name, m.role, m.created_at FROM tenant_members m \
             JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 AND {} ORDER BY a.email, m.role LIMIT 10000",
            StaffReach::accounts("m.account_id", 2)
        ))
        .bind(&reach.0.tenant.id)
        .bind(whole)
        .bind(me)
        .fetch_all(ctx.db.pool())
        .await?,
    ))
}

/// Gives an account a role (admin, manager, trainer, trainee); administrators only, and none
/// above the caller's own ([`crate::roles`]).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/members", tag = "organisations", request_body = NewMember,
    params(("id" = String, Path)), responses((status = 201, body = Membership), (status = 403, body = Problem)))]
async fn add_member(
    State(ctx): State<Ctx>,
    Admin(access): Admin<Organisations>,
    Json(input): Json<NewMember>,
) -> ApiResult<(StatusCode, Json<Membership>)> {
    let role = roles::org_role(&input.role)?;
    roles::check_org_grant(&granter(&access), role)?;
    Ok((
        StatusCode::CREATED,
        Json(tenants::add_member(&ctx, &access, input).await?),
    ))
}

/// The caller as one who gives roles in the organisation (no session).
pub fn granter(access: &tenants::Access<Organisations>) -> Granter<'_> {
    Granter {
        platform_admin: access.principal.platform_admin,
        org_roles: &access.tenant.my_roles,
        session_roles: &[],
    }
}

/// Takes a role away; administrators only.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/members/{account_id}/{role}", tag = "organisations",
    params(("id" = String, Path), ("account_id" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn remove_member(
    State(ctx): State<Ctx>,
    Admin(access): Admin<Organisations>,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (_, account_id, role) = path;
    tenants::remove_member(&ctx, &access, &account_id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organisation's audit log, for its administrators.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/audit", tag = "organisations",
    params(("id" = String, Path), PageQuery), responses((status = 200, body = inline(Page<AuditEntry>)), (status = 403, body = Problem)))]
async fn audit_log(
    State(ctx): State<Ctx>,
    Admin(access): Admin<Organisations>,
    Query(paging): Query<PageQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let query = AuditQuery {
        limit: paging.limit,
        cursor: paging.cursor,
        action: None,
        tenant: Some(access.tenant.id),
    };
    Ok(Json(audit::list(&ctx, &query).await?))
}
