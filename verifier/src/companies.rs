//! Recruiting companies, identified by SIRET, and their members.

use crate::VerifierState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carnet_service::Ctx;
use carnet_service::audit::{self, AuditEntry, AuditQuery};
use carnet_service::auth::{PlatformAdmin, Principal};
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::{Json, Query};
use carnet_service::pagination::{Page, PageQuery};
use carnet_service::tenants::{
    self, Admin, Member, Membership, NewMember, NewTenant, Policy, Tenant,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A recruiting company.
pub struct Companies;

impl Policy for Companies {
    const NAME: &'static str = "company";
    const ROLES: &'static [&'static str] = &["admin", "recruiter"];
    const STAFF: &'static [&'static str] = &["admin", "recruiter"];
    const NEEDS_APPROVAL: bool = true;
}

pub fn router() -> OpenApiRouter<VerifierState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(approve))
        .routes(routes!(members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(audit_log))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    /// Only companies awaiting approval.
    #[serde(default)]
    pending: bool,
}

/// Registers a company; it waits for a platform administrator's approval.
#[utoipa::path(post, path = "/api/v1/companies", tag = "companies", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 422, body = Problem)))]
async fn create(
    State(ctx): State<Ctx>,
    principal: Principal,
    Json(input): Json<NewTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    Ok((
        StatusCode::CREATED,
        Json(tenants::create::<Companies>(&ctx, &principal, input).await?),
    ))
}

/// The companies the caller belongs to (all of them for a platform administrator).
#[utoipa::path(get, path = "/api/v1/companies", tag = "companies", params(ListQuery),
    responses((status = 200, body = inline(Page<Tenant>))))]
async fn list(
    State(ctx): State<Ctx>,
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<Tenant>>> {
    let paging = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(Json(
        tenants::list(&ctx, &principal, &paging, q.pending).await?,
    ))
}

/// One company, for its members.
#[utoipa::path(get, path = "/api/v1/companies/{id}", tag = "companies",
    params(("id" = String, Path)), responses((status = 200, body = Tenant), (status = 404, body = Problem)))]
async fn get(Member(access): Member<Companies>) -> Json<Tenant> {
    Json(access.tenant)
}

/// Approves a company; platform administrators only.
#[utoipa::path(post, path = "/api/v1/companies/{id}/approval", tag = "companies",
    params(("id" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn approve(
    State(ctx): State<Ctx>,
    PlatformAdmin(admin): PlatformAdmin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    tenants::approve::<Companies>(&ctx, &admin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members and their roles.
#[utoipa::path(get, path = "/api/v1/companies/{id}/members", tag = "companies",
    params(("id" = String, Path)), responses((status = 200, body = Vec<Membership>), (status = 404, body = Problem)))]
async fn members(
    State(ctx): State<Ctx>,
    Member(access): Member<Companies>,
) -> ApiResult<Json<Vec<Membership>>> {
    Ok(Json(tenants::members(&ctx, &access.tenant.id).await?))
}

/// Gives an account a role (admin, recruiter); administrators only.
#[utoipa::path(post, path = "/api/v1/companies/{id}/members", tag = "companies", request_body = NewMember,
    params(("id" = String, Path)), responses((status = 201, body = Membership), (status = 403, body = Problem)))]
async fn add_member(
    State(ctx): State<Ctx>,
    Admin(access): Admin<Companies>,
    Json(input): Json<NewMember>,
) -> ApiResult<(StatusCode, Json<Membership>)> {
    Ok((
        StatusCode::CREATED,
        Json(tenants::add_member(&ctx, &access, input).await?),
    ))
}

/// Takes a role away; administrators only.
#[utoipa::path(delete, path = "/api/v1/companies/{id}/members/{account_id}/{role}", tag = "companies",
    params(("id" = String, Path), ("account_id" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn remove_member(
    State(ctx): State<Ctx>,
    Admin(access): Admin<Companies>,
    Path(path): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (_, account_id, role) = path;
    // Nobody takes themselves out (another administrator does).
    if account_id == access.principal.account_id.as_str() {
        return Err(ApiError::invalid_field(
            "account_id",
            "not yourself: another administrator takes you out",
        ));
    }
    tenants::remove_member(&ctx, &access, &account_id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The company's audit log, for its administrators.
#[utoipa::path(get, path = "/api/v1/companies/{id}/audit", tag = "companies",
    params(("id" = String, Path), PageQuery), responses((status = 200, body = inline(Page<AuditEntry>)), (status = 403, body = Problem)))]
async fn audit_log(
    State(ctx): State<Ctx>,
    Admin(access): Admin<Companies>,
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
