//! Training sessions — a group of trainees with their trainers and manager over given dates —
//! and who holds which role in each. `SessionStaff` is the extractor for what a session's
//! trainers and managers may do (evaluate).

use crate::catalog::text;
use crate::roles::{self, Granter};
use crate::{IssuerState, Managers, Organisations};
use axum::extract::{FromRef, FromRequestParts, Path, RawPathParams, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use carnet_core::calendar::Zone;
use carnet_service::Ctx;
use carnet_service::audit;
use carnet_service::auth::normalise_email;
use carnet_service::error::{ApiError, ApiResult, Problem};
use carnet_service::extract::Json;
use carnet_service::id::{looks_like_id, random_token};
use carnet_service::tenants::{Access, InRoles, Member, RoleSet, Staff};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const ROLES: [&str; 3] = ["manager", "trainer", "trainee"];

pub fn router() -> OpenApiRouter<IssuerState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, list_sessions))
        .routes(routes!(change_session))
        .routes(routes!(add_session_member, list_session_members))
        .routes(routes!(remove_session_member))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub title: String,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    pub ends_on: String,
    /// Hours of training planned (for the completion certificate).
    #[serde(default)]
    pub planned_hours: u32,
    /// The formation this session is an instance of.
    #[serde(default)]
    pub formation_id: Option<String>,
    /// The time zone of its calendar (IANA name; `Europe/Paris` by default).
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow, Clone)]
pub struct TrainingSession {
    pub id: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub planned_hours: i64,
    pub formation_id: Option<String>,
    pub timezone: String,
}

pub use carnet_service::clock::check_date as date;

/// Creates a session; organisation administrators and managers.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions", tag = "sessions", request_body = NewSession,
    params(("id" = String, Path)), responses((status = 201, body = TrainingSession), (status = 403, body = Problem)))]
async fn create_session(
    State(ctx): State<Ctx>,
    InRoles(access, _): InRoles<Organisations, Managers>,
    Json(input): Json<NewSession>,
) -> ApiResult<(StatusCode, Json<TrainingSession>)> {
    let title = text("title", &input.title, 200)?;
    let starts_on = date("starts_on", &input.starts_on)?;
    let ends_on = date("ends_on", &input.ends_on)?;
    if ends_on < starts_on {
        return Err(ApiError::invalid_field(
            "ends_on",
            "the session ends before it starts",
        ));
    }
    if let Some(formation) = &input.formation_id {
        let known: Option<(String,)> =
            sqlx::query_as("SELECT id FROM formations WHERE id = $1 AND organisation_id = $2 AND archived_at IS NULL")
                .bind(formation)
                .bind(&access.tenant.id)
                .fetch_optional(ctx.db.pool())
                .await?;
        if known.is_none() {
            return Err(ApiError::invalid_field(
                "formation_id",
                "no such formation in this organisation (or it is archived)",
            ));
        }
    }
    let timezone = match input.timezone.as_deref() {
        None => Zone::Paris,
        Some(name) => Zone::parse(name).ok_or_else(|| {
            ApiError::invalid_field("timezone", "a time zone of France, such as Europe/Paris")
        })?,
    }
    .name()
    .to_owned();
    let id = format!("ses_{}", random_token(16));
    let now = ctx.now_ms();
    let org = &access.tenant.id;
    let mut tx = ctx.db.begin().await?;
    if input.planned_hours > 10_000 {
        return Err(ApiError::invalid_field("planned_hours", "at most 10000"));
    }
    sqlx::query(
        "INSERT INTO training_sessions (id, organisation_id, title, starts_on, ends_on, planned_hours, formation_id, timezone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
        .bind(&id)
        .bind(org)
        .bind(&title)
        .bind(&starts_on)
        .bind(&ends_on)
        .bind(i64::from(input.planned_hours))
        .bind(&input.formation_id)
        .bind(&timezone)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // Its creator manages it.
    sqlx::query("INSERT INTO session_members (session_id, account_id, role, created_at) VALUES ($1, $2, 'manager', $3)")
        .bind(&id)
        .bind(access.principal.account_id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &access.actor(),
        "session.created",
        Some(&id),
        Some(org),
        json!({ "title": title }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(TrainingSession {
            id,
            title,
            starts_on,
            ends_on,
            planned_hours: i64::from(input.planned_hours),
            formation_id: input.formation_id,
            timezone,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionChange {
    pub title: Option<String>,
    /// `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub planned_hours: Option<u32>,
}

/// Changes a session's title, dates or planned hours; those who run it. Its calendar,
/// attendance and credentials already issued stay as they are.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}/sessions/{sid}", tag = "sessions", request_body = SessionChange,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 200, body = TrainingSession), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn change_session(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Json(input): Json<SessionChange>,
) -> ApiResult<Json<TrainingSession>> {
    let mut session = access.session.clone();
    if let Some(title) = &input.title {
        session.title = text("title", title, 200)?;
    }
    if let Some(starts_on) = &input.starts_on {
        session.starts_on = date("starts_on", starts_on)?;
    }
    if let Some(ends_on) = &input.ends_on {
        session.ends_on = date("ends_on", ends_on)?;
    }
    if session.ends_on < session.starts_on {
        return Err(ApiError::invalid_field(
            "ends_on",
            "the session ends before it starts",
        ));
    }
    if let Some(hours) = input.planned_hours {
        if hours > 10_000 {
            return Err(ApiError::invalid_field("planned_hours", "at most 10000"));
        }
        session.planned_hours = i64::from(hours);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "UPDATE training_sessions SET title = $1, starts_on = $2, ends_on = $3, planned_hours = $4 WHERE id = $5",
    )
    .bind(&session.title)
    .bind(&session.starts_on)
    .bind(&session.ends_on)
    .bind(session.planned_hours)
    .bind(&session.id)
    .execute(&mut *tx)
    .await?;
    let before = &access.session;
    access
        .audit(
            &mut tx,
            now,
            "session.changed",
            Some(&session.id),
            json!({
                "before": { "title": before.title, "starts_on": before.starts_on, "ends_on": before.ends_on, "planned_hours": before.planned_hours },
                "after": { "title": session.title, "starts_on": session.starts_on, "ends_on": session.ends_on, "planned_hours": session.planned_hours },
            }),
        )
        .await?;
    tx.commit().await?;
    Ok(Json(session))
}

/// The organisation's sessions: all of them for its administrators and managers, the ones they
/// take part in for everybody else (a session listed is a session they may open).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions", tag = "sessions",
    params(("id" = String, Path)), responses((status = 200, body = Vec<TrainingSession>)))]
async fn list_sessions(
    State(ctx): State<Ctx>,
    Member(access): Member<Organisations>,
) -> ApiResult<Json<Vec<TrainingSession>>> {
    let whole = runs_every_session(&access);
    let rows = sqlx::query_as(
        "SELECT id, title, starts_on, ends_on, planned_hours, formation_id, timezone FROM training_sessions \
         WHERE organisation_id = $1 AND ($2 = 1 OR id IN (SELECT session_id FROM session_members WHERE account_id = $3)) \
         ORDER BY starts_on DESC LIMIT 1000",
    )
    .bind(&access.tenant.id)
    .bind(i64::from(whole))
    .bind(access.principal.account_id.as_str())
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSessionMember {
    /// An account of this issuer; it must belong to the organisation.
    pub email: String,
    /// manager, trainer or trainee.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SessionMember {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

/// The caller's access to the session `{sid}` of the organisation `{id}`.
pub struct SessionAccess {
    pub org: Access<Organisations>,
    pub session: TrainingSession,
    pub roles: Vec<String>,
}

/// Whether the caller runs every session of the organisation: its administrators and managers
/// (and the platform's administrators). `docs/ROLES.md` has the whole table.
pub fn runs_every_session(org: &Access<Organisations>) -> bool {
    org.principal.platform_admin
        || org
            .tenant
            .my_roles
            .iter()
            .any(|r| Managers::ROLES.contains(&r.as_str()))
}

impl SessionAccess {
    /// Whether the caller is of the session's staff: a trainer or manager of it, or an
    /// administrator or manager of its organisation (who moderate, mark and see everyone's
    /// results).
    pub fn is_staff(&self) -> bool {
        runs_every_session(&self.org) || self.roles.iter().any(|r| r == "trainer" || r == "manager")
    }

    /// The caller as one who gives roles in this session.
    pub fn granter(&self) -> Granter<'_> {
        Granter {
            platform_admin: self.org.principal.platform_admin,
            org_roles: &self.org.tenant.my_roles,
            session_roles: &self.roles,
        }
    }

    /// Records the caller's action in this session in the audit log (in the caller's
    /// transaction), with the session named in the details.
    pub async fn audit(
        &self,
        conn: &mut sqlx::AnyConnection,
        at: i64,
        action: &str,
        target: Option<&str>,
        mut details: serde_json::Value,
    ) -> Result<(), sqlx::Error> {
        if let Some(object) = details.as_object_mut() {
            object.insert("session".into(), json!(self.session.id));
        }
        audit::record(
            conn,
            at,
            &self.org.actor(),
            action,
            target,
            Some(&self.org.tenant.id),
            details,
        )
        .await
    }
}

/// Loads the session `{sid}` of the organisation `{id}` and the caller's roles in it; allowed
/// when the caller holds one of `roles` there, one of `org_roles` in the organisation, or
/// runs every session of the organisation.
async fn session_access<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    roles: &[&str],
    org_roles: &[&str],
) -> Result<SessionAccess, ApiError>
where
    Ctx: FromRef<S>,
{
    let Member(org) = Member::<Organisations>::from_request_parts(parts, state).await?;
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound)?;
    let sid = params
        .iter()
        .find(|(k, _)| *k == "sid")
        .map(|(_, v)| v.to_owned())
        .filter(|s| looks_like_id(s))
        .ok_or(ApiError::NotFound)?;
    let ctx = Ctx::from_ref(state);
    let session: TrainingSession =
        sqlx::query_as("SELECT id, title, starts_on, ends_on, planned_hours, formation_id, timezone FROM training_sessions WHERE id = $1 AND organisation_id = $2")
            .bind(&sid)
            .bind(&org.tenant.id)
            .fetch_optional(ctx.db.pool())
            .await?
            .ok_or(ApiError::NotFound)?;
    let held: Vec<(String,)> = sqlx::query_as(
        "SELECT role FROM session_members WHERE session_id = $1 AND account_id = $2",
    )
    .bind(&sid)
    .bind(org.principal.account_id.as_str())
    .fetch_all(ctx.db.pool())
    .await?;
    let held: Vec<String> = held.into_iter().map(|(r,)| r).collect();
    if runs_every_session(&org)
        || held.iter().any(|r| roles.contains(&r.as_str()))
        || org
            .tenant
            .my_roles
            .iter()
            .any(|r| org_roles.contains(&r.as_str()))
    {
        Ok(SessionAccess {
            org,
            session,
            roles: held,
        })
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A trainer or manager of the session in the path (organisation administrators and managers too).
pub struct SessionStaff(pub SessionAccess);

impl<S: Send + Sync> FromRequestParts<S> for SessionStaff
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        session_access(parts, state, &["trainer", "manager"], &[])
            .await
            .map(SessionStaff)
    }
}

/// Any member of the session in the path (organisation administrators and managers too).
pub struct SessionParticipant(pub SessionAccess);

impl<S: Send + Sync> FromRequestParts<S> for SessionParticipant
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        session_access(parts, state, &ROLES, &[])
            .await
            .map(SessionParticipant)
    }
}

/// A trainee of the session in the path (a trainee only: administrators are not trainees).
pub struct SessionTrainee(pub SessionAccess);

impl<S: Send + Sync> FromRequestParts<S> for SessionTrainee
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let access = session_access(parts, state, &["trainee"], &[]).await?;
        if access.roles.iter().any(|r| r == "trainee") {
            Ok(SessionTrainee(access))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Who reads what belongs to the session in the path: its members, and the organisation's
/// administrators and managers.
pub struct SessionReader(pub SessionAccess);

impl<S: Send + Sync> FromRequestParts<S> for SessionReader
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        session_access(parts, state, &ROLES, Managers::ROLES)
            .await
            .map(SessionReader)
    }
}

/// A member of the organisation's staff, with what of it they may read: all of it for its
/// administrators and managers (and platform administrators); for a trainer, what concerns
/// the sessions they are staff of (trainer or manager there) and the people taking part in
/// them. The one scoping of the staff's reads: each query adds [`StaffReach::sessions`] or
/// [`StaffReach::accounts`] and binds [`StaffReach::binds`].
pub struct StaffReach(pub Access<Organisations>);

impl<S: Send + Sync> FromRequestParts<S> for StaffReach
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Staff(access) = Staff::<Organisations>::from_request_parts(parts, state).await?;
        Ok(StaffReach(access))
    }
}

/// The sessions the account bound at `$account` is staff of, as SQL.
fn staffed_by(account: usize) -> String {
    format!(
        "SELECT session_id FROM session_members WHERE account_id = ${account} AND role IN ('trainer', 'manager')"
    )
}

impl StaffReach {
    /// Whether the caller reads the whole organisation.
    pub fn whole(&self) -> bool {
        runs_every_session(&self.0)
    }

    /// The two values to bind, in order, at the placeholders `$n` and `$n + 1` of the
    /// conditions below.
    pub fn binds(&self) -> (i64, &str) {
        (
            i64::from(self.whole()),
            self.0.principal.account_id.as_str(),
        )
    }

    /// An SQL condition keeping the rows whose `column` (a session id) is within reach.
    pub fn sessions(column: &str, n: usize) -> String {
        format!("(${n} = 1 OR {column} IN ({}))", staffed_by(n + 1))
    }

    /// An SQL condition keeping the rows whose `column` (an account id) is the caller or takes
    /// part in a session within reach.
    pub fn accounts(column: &str, n: usize) -> String {
        format!(
            "(${n} = 1 OR {column} = ${a} OR {column} IN (SELECT account_id FROM session_members WHERE session_id IN ({})))",
            staffed_by(n + 1),
            a = n + 1
        )
    }
}

/// Refuses an act on oneself that another must do (evaluating, certifying, marking present):
/// 422 on `field`, whatever the caller's roles.
pub fn not_oneself(access: &Access<Organisations>, account: &str, field: &str) -> ApiResult<()> {
    if access.principal.account_id.as_str() == account {
        Err(ApiError::invalid_field(
            field,
            "nobody does this for themselves: another member of the staff does",
        ))
    } else {
        Ok(())
    }
}

/// A manager of the session in the path (organisation administrators and managers too).
pub struct SessionManager(pub SessionAccess);

impl<S: Send + Sync> FromRequestParts<S> for SessionManager
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        session_access(parts, state, &["manager"], &[])
            .await
            .map(SessionManager)
    }
}

/// Gives a member of the organisation a role in the session; its managers and the
/// organisation's administrators, within the rule of [`crate::roles`] (none above their own,
/// none above the member's role in the organisation).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/sessions/{sid}/members", tag = "sessions", request_body = NewSessionMember,
    params(("id" = String, Path), ("sid" = String, Path)),
    responses((status = 201, body = SessionMember), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_session_member(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Json(input): Json<NewSessionMember>,
) -> ApiResult<(StatusCode, Json<SessionMember>)> {
    let member = enrol(&ctx, &access, &input.email, &input.role).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Gives the member of the organisation with address `email` the session role `role`, within
/// the rule of [`crate::roles`], audited; a conflict if they hold it already.
pub(crate) async fn enrol(
    ctx: &Ctx,
    access: &SessionAccess,
    email: &str,
    role_name: &str,
) -> ApiResult<SessionMember> {
    let role = roles::session_role(role_name)?;
    let email = normalise_email(email)?;
    let org = &access.org.tenant.id;
    let held: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT a.id, a.display_name, m.role FROM accounts a JOIN tenant_members m ON m.account_id = a.id \
         WHERE a.email = $1 AND m.tenant_id = $2",
    )
    .bind(&email)
    .bind(org)
    .fetch_all(ctx.db.pool())
    .await?;
    let grantee_roles: Vec<&str> = held.iter().map(|(_, _, r)| r.as_str()).collect();
    roles::check_session_grant(&access.granter(), &grantee_roles, role)?;
    let (account_id, display_name, _) = held.into_iter().next().ok_or_else(|| {
        ApiError::invalid_field(
            "email",
            "no member of this organisation has this e-mail address",
        )
    })?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO session_members (session_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&access.session.id)
    .bind(&account_id)
    .bind(role_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict(
            "this account already has this role in the session".into(),
        ));
    }
    audit::record(
        &mut tx,
        now,
        &access.org.actor(),
        "session.member_added",
        Some(&account_id),
        Some(org),
        json!({ "session": access.session.id, "role": role_name }),
    )
    .await?;
    if role_name == "trainee" {
        crate::notices::enrolled(&mut tx, ctx, access, &account_id).await?;
    }
    tx.commit().await?;
    Ok(SessionMember {
        account_id,
        email,
        display_name,
        role: role_name.to_owned(),
    })
}

/// Takes a role in the session away from a member (a trainee enrolled by mistake); those who
/// run it, within the rule of [`crate::roles`], never for themselves. What they did or received
/// in the session (evaluations, credentials, attendance) stays.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}/sessions/{sid}/members/{account}/{role}", tag = "sessions",
    params(("id" = String, Path), ("sid" = String, Path), ("account" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_session_member(
    State(ctx): State<Ctx>,
    SessionManager(access): SessionManager,
    Path(path): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let (_, _, account, role) = path;
    let role = roles::session_role(&role)?;
    roles::check_session_removal(&access.granter(), role)?;
    not_oneself(&access.org, &account, "account")?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let removed = sqlx::query(
        "DELETE FROM session_members WHERE session_id = $1 AND account_id = $2 AND role = $3",
    )
    .bind(&access.session.id)
    .bind(&account)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    if removed.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    access
        .audit(
            &mut tx,
            now,
            "session.member_removed",
            Some(&account),
            json!({ "role": role.as_str() }),
        )
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session's members: everyone for its staff; for a trainee, the people who teach and run
/// the session (whom they may write to), never the other trainees.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/sessions/{sid}/members", tag = "sessions",
    params(("id" = String, Path), ("sid" = String, Path)), responses((status = 200, body = Vec<SessionMember>)))]
async fn list_session_members(
    State(ctx): State<Ctx>,
    SessionParticipant(access): SessionParticipant,
) -> ApiResult<Json<Vec<SessionMember>>> {
    let rows = sqlx::query_as(
        "SELECT m.account_id, a.email, a.display_name, m.role FROM session_members m JOIN accounts a ON a.id = m.account_id \
         WHERE m.session_id = $1 AND ($2 = 1 OR m.role <> 'trainee') ORDER BY m.role, a.email LIMIT 10000",
    )
    .bind(&access.session.id)
    .bind(i64::from(access.is_staff()))
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(rows))
}

/// Whether `account` is a trainee of the session.
pub async fn is_trainee(ctx: &Ctx, session: &str, account: &str) -> ApiResult<bool> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT role FROM session_members WHERE session_id = $1 AND account_id = $2 AND role = 'trainee'")
            .bind(session)
            .bind(account)
            .fetch_optional(ctx.db.pool())
            .await?;
    Ok(row.is_some())
}
