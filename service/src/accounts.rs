//! The account routes every service mounts under `/api/v1`: register, sign in and out, the
//! current account, password change, and API tokens.

use crate::Ctx;
use crate::audit::{self, Actor};
use crate::auth::{
    self, Attempt, AuthMethod, Principal, check_login_allowed, check_new_password, hash_password,
    normalise_email, record_login_failure, session_cookie, verify_password,
};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::i18n::Lang;
use crate::id::{AccountId, TokenId, hash_secret};
use crate::limits::ClientIp;
use axum::Extension;
use axum::extract::{FromRef, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What a service does besides the common account steps, in the same transaction: the wallet
/// wraps each holder's data key with the password and binds it to the session. A service adds
/// its hooks as a request extension ([`Hooks`]).
pub trait AccountHooks: Send + Sync + 'static {
    /// After the account and its first session are created. A returned recovery code is shown
    /// once, in the registration response.
    fn registered<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        ctx: &'a Ctx,
        account: &'a AccountId,
        password: &'a str,
        session_secret: &'a str,
    ) -> BoxFuture<'a, ApiResult<Option<String>>>;

    /// Before a sign-in's transaction, once the password is checked: slow work (deriving keys
    /// from the password) happens here, so the transaction stays short. What it returns is
    /// handed to [`AccountHooks::signed_in`].
    fn prepare_sign_in<'a>(
        &'a self,
        ctx: &'a Ctx,
        account: &'a AccountId,
        password: &'a str,
    ) -> BoxFuture<'a, ApiResult<Prepared>>;

    /// After a sign-in with the right password created a session. A returned recovery code is
    /// shown once, in the sign-in response (an account made without registration, by the
    /// command line, gets its first one there).
    fn signed_in<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        ctx: &'a Ctx,
        account: &'a AccountId,
        password: &'a str,
        prepared: Prepared,
        session_secret: &'a str,
    ) -> BoxFuture<'a, ApiResult<Option<String>>>;

    /// After the password changed (the current one was checked).
    fn password_changed<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        ctx: &'a Ctx,
        account: &'a AccountId,
        current: &'a str,
        new: &'a str,
    ) -> BoxFuture<'a, ApiResult<()>>;
}

/// What [`AccountHooks::prepare_sign_in`] hands over to [`AccountHooks::signed_in`].
pub type Prepared = Option<Box<dyn std::any::Any + Send>>;

/// A service's [`AccountHooks`], as a request extension.
#[derive(Clone)]
pub struct Hooks(pub Arc<dyn AccountHooks>);

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub platform_admin: bool,
    /// Whether its owner confirmed the address (`addresses`).
    pub email_verified: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub account: Account,
    /// Send it back in the `X-CSRF-Token` header with every unsafe request authenticated by
    /// the session cookie.
    pub csrf_token: String,
    /// The wallet's recovery code, shown once at registration: it opens the credential store
    /// if the password is lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, to recognise it in the list.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    /// The secret, shown this once: only its hash is kept.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn check_display_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "display_name",
            "a name of 1 to 120 characters",
        ));
    }
    Ok(name.to_owned())
}

/// Creates an account in the caller's transaction and audits it. Used by registration, by
/// services that create accounts for others, and by the demo.
pub async fn create_account(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    actor: &Actor,
    email: &str,
    password: &str,
    display_name: &str,
    platform_admin: bool,
) -> ApiResult<Account> {
    let email = normalise_email(email)?;
    let display_name = check_display_name(display_name)?;
    check_new_password(password)?;
    let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Err(ApiError::Conflict(
            "an account with this e-mail address exists".into(),
        ));
    }
    let id = AccountId::generate();
    let now = ctx.now_ms();
    sqlx::query(
        "INSERT INTO accounts (id, email, display_name, password_hash, platform_admin, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id.as_str())
    .bind(&email)
    .bind(&display_name)
    .bind(hash_password(password).await?)
    .bind(platform_admin as i64)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let actor = Actor {
        account_id: actor.account_id.clone().or(Some(id.clone())),
        request_id: actor.request_id.clone(),
    };
    audit::record(
        conn,
        now,
        &actor,
        "account.created",
        Some(id.as_str()),
        None,
        json!({ "email": email, "platform_admin": platform_admin }),
    )
    .await?;
    Ok(Account {
        id: id.0,
        email,
        display_name,
        platform_admin,
        email_verified: false,
    })
}

/// The account with this e-mail address, if any.
pub async fn find_by_email(ctx: &Ctx, email: &str) -> ApiResult<Option<Account>> {
    let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, email, display_name, platform_admin, email_verified_at FROM accounts WHERE email = $1",
    )
    .bind(email.trim().to_lowercase())
    .fetch_optional(ctx.db.pool())
    .await?;
    Ok(
        row.map(|(id, email, display_name, admin, verified)| Account {
            id,
            email,
            display_name,
            platform_admin: admin != 0,
            email_verified: verified.is_some(),
        }),
    )
}

/// The response to a successful sign-in: the session cookie, the account and the CSRF token.
pub fn signed_in(
    ctx: &Ctx,
    status: StatusCode,
    account: Account,
    session: auth::NewSession,
    recovery_code: Option<String>,
) -> Response {
    let cookie = session_cookie(&ctx.config, Some(&session.secret));
    let body = SignedIn {
        account,
        csrf_token: session.csrf_token,
        recovery_code,
    };
    // A session's CSRF token (and a recovery code) are not kept for idempotent replay.
    (
        status,
        [(header::SET_COOKIE, cookie)],
        Extension(crate::http::NoReplay),
        Json(body),
    )
        .into_response()
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = Registration,
    responses((status = 201, body = SignedIn), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn register(
    State(ctx): State<Ctx>,
    lang: Lang,
    hooks: Option<Extension<Hooks>>,
    Json(input): Json<Registration>,
) -> ApiResult<Response> {
    let hooks = hooks.map(|Extension(h)| h);
    let done = sign_up(
        &ctx,
        hooks.as_ref(),
        lang,
        &input.email,
        &input.password,
        &input.display_name,
    )
    .await?;
    Ok(signed_in(
        &ctx,
        StatusCode::CREATED,
        done.account,
        done.session,
        done.recovery_code,
    ))
}

/// A new session, and what the service's hooks had to say (a wallet's recovery code, shown
/// once).
pub struct SessionStart {
    pub account: Account,
    pub session: auth::NewSession,
    pub recovery_code: Option<String>,
}

/// Creates an account and a session for it, running the service's hooks in the same
/// transaction, and mails the address its verification link (what registration does, for the
/// API and the pages alike). The account's mail speaks `lang`.
pub async fn sign_up(
    ctx: &Ctx,
    hooks: Option<&Hooks>,
    lang: Lang,
    email: &str,
    password: &str,
    display_name: &str,
) -> ApiResult<SessionStart> {
    let mut tx = ctx.db.begin().await?;
    let account = create_account(
        &mut tx,
        ctx,
        &Actor::system(),
        email,
        password,
        display_name,
        false,
    )
    .await?;
    let id = AccountId(account.id.clone());
    crate::addresses::set_language(&mut tx, id.as_str(), lang).await?;
    crate::addresses::send_verification(&mut tx, ctx, &id, &account.email, false).await?;
    let session = auth::create_session(&mut tx, ctx, &id).await?;
    let recovery_code = match hooks {
        Some(Hooks(hooks)) => {
            hooks
                .registered(&mut tx, ctx, &id, password, &session.secret)
                .await?
        }
        None => None,
    };
    tx.commit().await?;
    Ok(SessionStart {
        account,
        session,
        recovery_code,
    })
}

/// Signs in: sets the session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = Credentials,
    responses((status = 200, body = SignedIn), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(ctx): State<Ctx>,
    hooks: Option<Extension<Hooks>>,
    client: ClientIp,
    Json(input): Json<Credentials>,
) -> ApiResult<Response> {
    let hooks = hooks.map(|Extension(h)| h);
    let done = sign_in(&ctx, hooks.as_ref(), &client, &input.email, &input.password).await?;
    Ok(signed_in(
        &ctx,
        StatusCode::OK,
        done.account,
        done.session,
        done.recovery_code,
    ))
}

/// Checks the password (throttled per client address and account: `auth::check_login_allowed`)
/// and opens a session, running the service's hooks (what signing in does, for the API and the
/// pages alike).
pub async fn sign_in(
    ctx: &Ctx,
    hooks: Option<&Hooks>,
    client: &ClientIp,
    email: &str,
    password: &str,
) -> ApiResult<SessionStart> {
    let email = email.trim().to_lowercase();
    if password.len() > 1024 || email.len() > 254 || email.chars().any(char::is_control) {
        return Err(ApiError::InvalidCredentials);
    }
    check_login_allowed(ctx, &email, client, Attempt::SignIn).await?;
    let row: Option<(String, String, String, i64, Option<i64>, String)> = sqlx::query_as(
        "SELECT id, email, display_name, platform_admin, email_verified_at, password_hash FROM accounts WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(ctx.db.pool())
    .await?;
    let verified = match &row {
        Some((.., hash)) => verify_password(password, hash).await?,
        None => {
            auth::burn_password_check(password).await?;
            false
        }
    };
    let account = match row {
        Some((id, email, display_name, admin, email_verified, _)) if verified => Account {
            id,
            email,
            display_name,
            platform_admin: admin != 0,
            email_verified: email_verified.is_some(),
        },
        _ => {
            record_login_failure(ctx, &email, client, Attempt::SignIn).await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    let id = AccountId(account.id.clone());
    let prepared = match hooks {
        Some(Hooks(hooks)) => hooks.prepare_sign_in(ctx, &id, password).await?,
        None => None,
    };
    let mut tx = ctx.db.begin().await?;
    let session = auth::create_session(&mut tx, ctx, &id).await?;
    let recovery_code = match hooks {
        Some(Hooks(hooks)) => {
            hooks
                .signed_in(&mut tx, ctx, &id, password, prepared, &session.secret)
                .await?
        }
        None => None,
    };
    let actor = Actor {
        account_id: Some(id.clone()),
        request_id: None,
    };
    audit::record(
        &mut tx,
        ctx.now_ms(),
        &actor,
        "session.created",
        Some(id.as_str()),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(SessionStart {
        account,
        session,
        recovery_code,
    })
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts",
    responses((status = 204), (status = 401, body = Problem)))]
async fn logout(State(ctx): State<Ctx>, principal: Principal) -> ApiResult<Response> {
    sign_out(&ctx, &principal).await?;
    let cookie = session_cookie(&ctx.config, None);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Ends the caller's session (audited); the caller clears the cookie.
pub async fn sign_out(ctx: &Ctx, principal: &Principal) -> ApiResult<()> {
    if let AuthMethod::Session { token_hash, .. } = &principal.method {
        let mut tx = ctx.db.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            ctx.now_ms(),
            &principal.into(),
            "session.ended",
            Some(principal.account_id.as_str()),
            None,
            json!({}),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub account: Account,
    /// For cookie sessions: the CSRF token to send with unsafe requests.
    pub csrf_token: Option<String>,
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(principal: Principal) -> Json<Me> {
    let csrf_token = match &principal.method {
        AuthMethod::Session { csrf_token, .. } => Some(csrf_token.clone()),
        AuthMethod::Token { .. } => None,
    };
    Json(Me {
        account: Account {
            id: principal.account_id.0,
            email: principal.email,
            display_name: principal.display_name,
            platform_admin: principal.platform_admin,
            email_verified: principal.email_verified,
        },
        csrf_token,
    })
}

/// Sets an account's password (checked), ends its sessions but `keep_session` (a token hash,
/// or empty) and revokes its API tokens ([`revoke_credentials_of`]), in the caller's
/// transaction.
pub async fn set_password(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
    password: &str,
    keep_session: &str,
) -> ApiResult<()> {
    check_new_password(password)?;
    sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash_password(password).await?)
        .bind(ctx.now_ms())
        .bind(account.as_str())
        .execute(&mut *conn)
        .await?;
    revoke_credentials_of(conn, ctx, account, keep_session).await
}

/// Ends every session of `account` but `keep_session` (a token hash, or empty) and revokes
/// all its API tokens, audited, in the caller's transaction: what a new password (changed or
/// recovered) does, so that whoever held the old one keeps nothing it opened.
pub async fn revoke_credentials_of(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
    keep_session: &str,
) -> ApiResult<()> {
    let now = ctx.now_ms();
    let sessions = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
        .bind(account.as_str())
        .bind(keep_session)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let tokens = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(account.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let actor = Actor {
        account_id: Some(account.clone()),
        request_id: None,
    };
    audit::record(
        conn,
        now,
        &actor,
        "account.credentials_revoked",
        Some(account.as_str()),
        None,
        json!({ "sessions": sessions, "tokens": tokens }),
    )
    .await?;
    Ok(())
}

/// Changes the password; every other session of the account ends and its API tokens are
/// revoked.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "accounts", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn change_password(
    State(ctx): State<Ctx>,
    hooks: Option<Extension<Hooks>>,
    principal: Principal,
    Json(input): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_new_password(&input.new_password)?;
    let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM accounts WHERE id = $1")
        .bind(principal.account_id.as_str())
        .fetch_one(ctx.db.pool())
        .await?;
    if input.current_password.len() > 1024
        || !verify_password(&input.current_password, &hash).await?
    {
        return Err(ApiError::invalid_field(
            "current_password",
            "the current password is wrong",
        ));
    }
    let keep = match &principal.method {
        AuthMethod::Session { token_hash, .. } => token_hash.clone(),
        AuthMethod::Token { .. } => String::new(),
    };
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    set_password(
        &mut tx,
        &ctx,
        &principal.account_id,
        &input.new_password,
        &keep,
    )
    .await?;
    if let Some(Extension(Hooks(hooks))) = &hooks {
        hooks
            .password_changed(
                &mut tx,
                &ctx,
                &principal.account_id,
                &input.current_password,
                &input.new_password,
            )
            .await?;
    }
    audit::record(
        &mut tx,
        now,
        &(&principal).into(),
        "account.password_changed",
        Some(principal.account_id.as_str()),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an API token, from a signed-in session (a token cannot make tokens); its secret is
/// in this response only (never kept for idempotent replay).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn create_token(
    State(ctx): State<Ctx>,
    principal: Principal,
    Json(input): Json<NewToken>,
) -> ApiResult<Response> {
    if !matches!(principal.method, AuthMethod::Session { .. }) {
        return Err(ApiError::Forbidden);
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "name",
            "a name of 1 to 100 characters",
        ));
    }
    let count: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM api_tokens WHERE account_id = $1 AND revoked_at IS NULL",
    )
    .bind(principal.account_id.as_str())
    .fetch_one(ctx.db.pool())
    .await?;
    if count.0 >= 50 {
        return Err(ApiError::Conflict(
            "at most 50 active tokens per account".into(),
        ));
    }
    let id = TokenId::generate();
    let secret = auth::new_token_secret(&ctx.config);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    sqlx::query("INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.as_str())
        .bind(principal.account_id.as_str())
        .bind(name)
        .bind(hash_secret(&secret))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        &(&principal).into(),
        "token.created",
        Some(id.as_str()),
        None,
        json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Extension(crate::http::NoReplay),
        Json(CreatedToken {
            id: id.0,
            name: name.to_owned(),
            token: secret,
        }),
    )
        .into_response())
}

/// The caller's active API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = Problem)))]
async fn list_tokens(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    let tokens = sqlx::query_as(
        "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE account_id = $1 AND revoked_at IS NULL \
         ORDER BY created_at DESC",
    )
    .bind(principal.account_id.as_str())
    .fetch_all(ctx.db.pool())
    .await?;
    Ok(Json(tokens))
}

/// Revokes one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn revoke_token(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(&id)
        .bind(principal.account_id.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &(&principal).into(),
        "token.revoked",
        Some(&id),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
