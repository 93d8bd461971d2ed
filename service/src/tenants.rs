//! Tenants — a training centre's organisation on the issuer, a recruiting company on the
//! verifier — and the roles accounts hold in them. One mechanism for both: a [`Policy`] says
//! what the tenant is called, which roles exist, which are staff, and whether a platform
//! administrator must approve the tenant before it acts. Authorisation is the extractors
//! [`Member`], [`Staff`] and [`Admin`], which read the tenant id from the path (`{id}`).
//! Someone outside a tenant gets 404, as if it did not exist; a member without the role, 403.

use crate::Ctx;
use crate::audit::{self, Actor};
use crate::auth::{Principal, normalise_email};
use crate::error::{ApiError, ApiResult};
use crate::extract::text;
use crate::id::random_token;
use crate::pagination::{Cursor, Page, PageQuery, page};
use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use carnet_core::siret::Siret;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::marker::PhantomData;
use utoipa::ToSchema;

/// What a service's tenants are.
pub trait Policy: Send + Sync + 'static {
    /// For audit actions and messages: `organisation`, `company`.
    const NAME: &'static str;
    /// Every role, the first being the administrator's.
    const ROLES: &'static [&'static str];
    /// Roles that see the member list.
    const STAFF: &'static [&'static str];
    /// Whether a platform administrator must approve a new tenant.
    const NEEDS_APPROVAL: bool;

    fn admin_role() -> &'static str {
        Self::ROLES[0]
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub siret: String,
    pub address: String,
    pub approved: bool,
    pub created_at: i64,
    /// The caller's roles in it.
    pub my_roles: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    /// 14 digits (spaces allowed), checked by Luhn (La Poste's rule for its establishments).
    pub siret: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The e-mail address of an existing account of this service.
    pub email: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Membership {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    name: String,
    siret: String,
    address: String,
    approved_at: Option<i64>,
    created_at: i64,
}

/// Creates a tenant; its creator becomes its administrator.
pub async fn create<P: Policy>(
    ctx: &Ctx,
    principal: &Principal,
    input: NewTenant,
) -> ApiResult<Tenant> {
    let name = text("name", &input.name, 200)?;
    let siret: Siret = input
        .siret
        .parse()
        .map_err(|e: carnet_core::siret::SiretError| {
            ApiError::invalid_field("siret", e.to_string())
        })?;
    let address = if input.address.trim().is_empty() {
        String::new()
    } else {
        text("address", &input.address, 500)?
    };
    let id = format!("{}_{}", &P::NAME[..3], random_token(16));
    let now = ctx.now_ms();
    // Without approval, a tenant is approved at creation.
    let approved_at = (!P::NEEDS_APPROVAL).then_some(now);
    let mut tx = ctx.db.begin().await?;
    sqlx::query("INSERT INTO tenants (id, name, siret, address, approved_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(&name)
        .bind(siret.as_str())
        .bind(&address)
        .bind(approved_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO tenant_members (tenant_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(principal.account_id.as_str())
        .bind(P::admin_role())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &principal.into(),
        &format!("{}.created", P::NAME),
        Some(&id),
        Some(&id),
        json!({ "name": name, "siret": siret.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Tenant {
        id,
        name,
        siret: siret.to_string(),
        address,
        approved: approved_at.is_some(),
        created_at: now,
        my_roles: vec![P::admin_role().to_owned()],
    })
}

/// The tenants the caller belongs to (every tenant for a platform administrator), newest
/// first; with `pending`, only those awaiting approval.
pub async fn list(
    ctx: &Ctx,
    principal: &Principal,
    paging: &PageQuery,
    pending: bool,
) -> ApiResult<Page<Tenant>> {
    let limit = paging.limit()?;
    let cursor = paging.cursor()?;
    let rows: Vec<TenantRow> = sqlx::query_as(
        "SELECT id, name, siret, address, approved_at, created_at FROM tenants t \
         WHERE ($1 = 1 OR EXISTS (SELECT 1 FROM tenant_members m WHERE m.tenant_id = t.id AND m.account_id = $2)) \
           AND ($3 = 0 OR approved_at IS NULL) \
           AND ($4 IS NULL OR created_at < $4 OR (created_at = $4 AND id < $5)) \
         ORDER BY created_at DESC, id DESC LIMIT $6",
    )
    .bind(principal.platform_admin as i64)
    .bind(principal.account_id.as_str())
    .bind(pending as i64)
    .bind(cursor.as_ref().map(|c| c.at))
    .bind(cursor.as_ref().map(|c| c.id.clone()))
    .bind(limit + 1)
    .fetch_all(ctx.db.pool())
    .await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for row in rows {
        let roles = roles_of(ctx, &row.id, principal).await?;
        tenants.push(tenant(row, roles));
    }
    Ok(page(tenants, limit, |t| Cursor {
        at: t.created_at,
        id: t.id.clone(),
    }))
}

fn tenant(row: TenantRow, my_roles: Vec<String>) -> Tenant {
    Tenant {
        id: row.id,
        name: row.name,
        siret: row.siret,
        address: row.address,
        approved: row.approved_at.is_some(),
        created_at: row.created_at,
        my_roles,
    }
}

async fn roles_of(ctx: &Ctx, tenant_id: &str, principal: &Principal) -> ApiResult<Vec<String>> {
    let roles: Vec<(String,)> = sqlx::query_as(
        "SELECT role FROM tenant_members WHERE tenant_id = $1 AND account_id = $2 ORDER BY role",
    )
    .bind(tenant_id)
    .bind(principal.account_id.as_str())
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(roles.into_iter().map(|(r,)| r).collect())
}

/// The caller's access to the tenant named by the path: loaded once per request.
#[derive(Debug)]
pub struct Access<P> {
    pub principal: Principal,
    pub tenant: Tenant,
    _policy: PhantomData<fn() -> P>,
}

impl<P> Clone for Access<P> {
    fn clone(&self) -> Self {
        Access {
            principal: self.principal.clone(),
            tenant: self.tenant.clone(),
            _policy: PhantomData,
        }
    }
}

impl<P: Policy> Access<P> {
    /// Access granted by trusted code (seeding, jobs) rather than by an extractor.
    pub fn trusted(principal: Principal, tenant: Tenant) -> Access<P> {
        Access {
            principal,
            tenant,
            _policy: PhantomData,
        }
    }

    fn has_any(&self, roles: &[&str]) -> bool {
        self.principal.platform_admin
            || self
                .tenant
                .my_roles
                .iter()
                .any(|r| roles.contains(&r.as_str()))
    }

    pub fn actor(&self) -> Actor {
        (&self.principal).into()
    }
}

async fn access<P: Policy, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Access<P>, ApiError>
where
    Ctx: FromRef<S>,
{
    if let Some(a) = parts.extensions.get::<Access<P>>() {
        return Ok(a.clone());
    }
    let principal = Principal::from_request_parts(parts, state).await?;
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound)?;
    let id = params
        .iter()
        .find(|(k, _)| *k == "id")
        .map(|(_, v)| v.to_owned())
        .ok_or(ApiError::NotFound)?;
    let ctx = Ctx::from_ref(state);
    let row: TenantRow = sqlx::query_as(
        "SELECT id, name, siret, address, approved_at, created_at FROM tenants WHERE id = $1",
    )
    .bind(&id)
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::NotFound)?;
    let roles = roles_of(&ctx, &id, &principal).await?;
    if roles.is_empty() && !principal.platform_admin {
        return Err(ApiError::NotFound);
    }
    let access = Access {
        principal,
        tenant: tenant(row, roles),
        _policy: PhantomData,
    };
    parts.extensions.insert(access.clone());
    Ok(access)
}

macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident, $roles:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name<P>(pub Access<P>);

        impl<P: Policy, S: Send + Sync> FromRequestParts<S> for $name<P>
        where
            Ctx: FromRef<S>,
        {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                let access = access::<P, S>(parts, state).await?;
                let roles: &[&str] = $roles;
                if access.has_any(roles) { Ok($name(access)) } else { Err(ApiError::Forbidden) }
            }
        }
    };
}

role_extractor!(
    /// Any member of the tenant in the path.
    Member, P::ROLES
);
role_extractor!(
    /// A staff member of the tenant in the path.
    Staff, P::STAFF
);
role_extractor!(
    /// An administrator of the tenant in the path (or a platform administrator).
    Admin, &P::ROLES[..1]
);

/// A set of roles a service names, for [`InRoles`].
pub trait RoleSet: Send + Sync + 'static {
    const ROLES: &'static [&'static str];
}

/// A member of the tenant in the path holding one of `R`'s roles (or a platform administrator).
#[derive(Debug)]
pub struct InRoles<P, R>(pub Access<P>, pub PhantomData<fn() -> R>);

impl<P: Policy, R: RoleSet, S: Send + Sync> FromRequestParts<S> for InRoles<P, R>
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let access = access::<P, S>(parts, state).await?;
        if access.has_any(R::ROLES) {
            Ok(InRoles(access, PhantomData))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// The members of a tenant.
pub async fn members(ctx: &Ctx, tenant_id: &str) -> ApiResult<Vec<Membership>> {
    Ok(sqlx::query_as(
        "SELECT m.account_id, a.email, a.display_name, m.role, m.created_at FROM tenant_members m \
         JOIN accounts a ON a.id = m.account_id WHERE m.tenant_id = $1 ORDER BY a.email, m.role LIMIT 10000",
    )
    .bind(tenant_id)
    .fetch_all(ctx.db.pool())
    .await?)
}

/// Gives an existing account a role in the tenant.
pub async fn add_member<P: Policy>(
    ctx: &Ctx,
    access: &Access<P>,
    input: NewMember,
) -> ApiResult<Membership> {
    if !P::ROLES.contains(&input.role.as_str()) {
        return Err(ApiError::invalid_field(
            "role",
            format!("one of {}", P::ROLES.join(", ")),
        ));
    }
    let email = normalise_email(&input.email)?;
    let account: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, display_name, email_verified_at FROM accounts WHERE email = $1")
            .bind(&email)
            .fetch_optional(ctx.db.pool())
            .await?;
    let (account_id, display_name, verified) = account
        .ok_or_else(|| ApiError::invalid_field("email", "no account has this e-mail address"))?;
    // Whoever registered the address first gets nothing until they prove it is theirs.
    if verified.is_none() {
        return Err(ApiError::invalid_field(
            "email",
            "this person has not confirmed their e-mail address yet: once they follow the link mailed to them, add them again",
        ));
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO tenant_members (tenant_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&access.tenant.id)
    .bind(&account_id)
    .bind(&input.role)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::Conflict(
            "this account already has this role".into(),
        ));
    }
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        &format!("{}.member_added", P::NAME),
        Some(&account_id),
        Some(&access.tenant.id),
        json!({ "role": input.role }),
    )
    .await?;
    tx.commit().await?;
    Ok(Membership {
        account_id,
        email,
        display_name,
        role: input.role,
        created_at: now,
    })
}

/// Takes a role away; the last administrator stays.
pub async fn remove_member<P: Policy>(
    ctx: &Ctx,
    access: &Access<P>,
    account_id: &str,
    role: &str,
) -> ApiResult<()> {
    if !crate::id::looks_like_id(account_id) || !P::ROLES.contains(&role) {
        return Err(ApiError::NotFound);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if role == P::admin_role() {
        let (admins,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM tenant_members WHERE tenant_id = $1 AND role = $2",
        )
        .bind(&access.tenant.id)
        .bind(role)
        .fetch_one(&mut *tx)
        .await?;
        if admins <= 1 {
            return Err(ApiError::Conflict(format!(
                "a {} keeps at least one administrator",
                P::NAME
            )));
        }
    }
    let done = sqlx::query(
        "DELETE FROM tenant_members WHERE tenant_id = $1 AND account_id = $2 AND role = $3",
    )
    .bind(&access.tenant.id)
    .bind(account_id)
    .bind(role)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        &format!("{}.member_removed", P::NAME),
        Some(account_id),
        Some(&access.tenant.id),
        json!({ "role": role }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Approves a tenant (platform administrators, for policies that need it).
pub async fn approve<P: Policy>(ctx: &Ctx, admin: &Principal, tenant_id: &str) -> ApiResult<()> {
    if !crate::id::looks_like_id(tenant_id) {
        return Err(ApiError::NotFound);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query("UPDATE tenants SET approved_at = $1, approved_by = $2 WHERE id = $3 AND approved_at IS NULL")
        .bind(now)
        .bind(admin.account_id.as_str())
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await?;
        return Err(if exists.is_some() {
            ApiError::Conflict("already approved".into())
        } else {
            ApiError::NotFound
        });
    }
    audit::record(
        &mut tx,
        now,
        &admin.into(),
        &format!("{}.approved", P::NAME),
        Some(tenant_id),
        Some(tenant_id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
