//! Who is calling: argon2id passwords, session cookies (HttpOnly, SameSite=Lax) with a CSRF
//! token for unsafe methods, API bearer tokens stored hashed, and login throttling.
//! Authorisation is an extractor: a handler that takes [`Principal`] needs a signed-in caller,
//! one that takes [`PlatformAdmin`] a platform administrator; services add their own roles.

use crate::error::ApiError;
use crate::id::{AccountId, hash_secret, random_token};
use crate::limits::ClientIp;
use crate::{Ctx, ServiceConfig};
use argon2::Argon2;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use rand::RngCore;
use std::sync::LazyLock;

/// The header carrying the CSRF token with cookie-authenticated unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Bearer tokens start with this, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "carnet_";

// --- Passwords ---------------------------------------------------------------------------------

/// Password hashing runs here: on the blocking threads, at most one hash per core at a time
/// (each takes 19 MiB and ~50 ms of a core), with a bounded queue. The async threads stay free
/// for every other request, memory stays bounded, and a flood of sign-ins waits its turn or is
/// told to come back (503) instead of stalling the process.
struct HashingPool {
    permits: tokio::sync::Semaphore,
    permits_total: usize,
    waiting: std::sync::atomic::AtomicUsize,
}

/// Requests queued for a hash beyond the running ones before new ones are refused.
const MAX_HASHES_WAITING: usize = 64;

static HASHING: LazyLock<HashingPool> = LazyLock::new(|| {
    let permits = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    HashingPool {
        permits: tokio::sync::Semaphore::new(permits),
        permits_total: permits,
        waiting: std::sync::atomic::AtomicUsize::new(0),
    }
});

/// Runs `work` (argon2: a password hash or a key derived from a secret a person knows) on the
/// bounded hashing pool.
pub async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    use std::sync::atomic::Ordering;
    let pool = &*HASHING;
    if pool.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_HASHES_WAITING {
        pool.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::Unavailable);
    }
    let permit = pool.permits.acquire().await;
    pool.waiting.fetch_sub(1, Ordering::SeqCst);
    let _permit = permit.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)
}

/// argon2's working memory (19 MiB for a password), kept for the next hash. Allocating it per
/// hash let the process grow with every allocator arena a hash had run in, and never shrink
/// (glibc keeps freed blocks of that size in the arena); the pool holds at most one buffer per
/// hashing permit, so memory stays at a few buffers. Larger ones (a backup's stronger KDF) are
/// allocated for the hash and given back.
static ARGON2_MEMORY: std::sync::Mutex<Vec<Vec<argon2::Block>>> = std::sync::Mutex::new(Vec::new());

/// The largest working memory kept for reuse (blocks of 1 KiB).
const KEPT_ARGON2_BLOCKS: usize = 32 * 1024;

/// Argon2id (version 0x13) of `secret` with `params` into `out`, in pooled working memory.
/// Call it on the hashing pool ([`hashing`]).
pub fn argon2id_into(
    params: argon2::Params,
    secret: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let kept = blocks <= KEPT_ARGON2_BLOCKS;
    let mut memory = if kept {
        ARGON2_MEMORY
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let result = argon.hash_password_into_with_memory(secret, salt, out, &mut memory[..blocks]);
    if kept {
        // What the next hash finds holds nothing of this secret.
        memory[..blocks].fill(argon2::Block::default());
        if let Ok(mut pool) = ARGON2_MEMORY.lock()
            && pool.len() < HASHING.permits_total
        {
            pool.push(memory);
        }
    }
    result
}

fn argon2_hash(password: &str) -> Result<String, ApiError> {
    use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let params = argon2::Params::default();
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    argon2id_into(params.clone(), password.as_bytes(), &salt, &mut out)
        .map_err(ApiError::internal)?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(ApiError::internal)?,
        salt: Some(Salt::new(&salt).map_err(ApiError::internal)?),
        hash: Some(Output::new(&out).map_err(ApiError::internal)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` gives the argon2id PHC string `hash` (our own hashes: argon2id, v0x13).
fn argon2_matches(password: &str, hash: &str) -> bool {
    use argon2::password_hash::phc::PasswordHash;
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    if parsed.algorithm != argon2::ARGON2ID_IDENT
        || parsed
            .version
            .is_some_and(|v| v != u32::from(argon2::Version::V0x13))
    {
        return false;
    }
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2id_into(params, password.as_bytes(), salt.as_ref(), &mut out).is_ok()
        // `Output`'s comparison takes the same time wherever the bytes differ.
        && argon2::password_hash::phc::Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// Hashes a password with argon2id (19 MiB, 2 passes: OWASP's recommendation), as a PHC
/// string, on the hashing pool.
pub async fn hash_password(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    hashing(move || argon2_hash(&password)).await?
}

/// Whether `password` matches the PHC string `hash`, checked on the hashing pool.
pub async fn verify_password(password: &str, hash: &str) -> Result<bool, ApiError> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    hashing(move || argon2_matches(&password, &hash)).await
}

/// A hash to verify against when the account does not exist, so that the answer takes as long
/// as for a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| argon2_hash("not a real password").unwrap_or_default());

pub async fn burn_password_check(password: &str) -> Result<(), ApiError> {
    let dummy = LazyLock::force(&DUMMY_HASH).clone();
    verify_password(password, &dummy).await.map(|_| ())
}

pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < 10 {
        return Err(ApiError::invalid_field(
            "password",
            "the password needs at least 10 characters",
        ));
    }
    if password.len() > 1024 {
        return Err(ApiError::invalid_field(
            "password",
            "the password is longer than 1024 bytes",
        ));
    }
    Ok(())
}

/// Normalises and checks an e-mail address (lower case, one `@`, no spaces, at most 254 bytes).
pub fn normalise_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid_field(
            "email",
            "not a valid e-mail address",
        ))
    }
}

// --- Sessions -----------------------------------------------------------------------------------

/// The cookie name of a service's session (the three services share a host in the all-in-one
/// process).
pub fn cookie_name(config: &ServiceConfig) -> String {
    format!("carnet_{}_session", config.kind.name())
}

/// A new session: the cookie secret (returned once) and its CSRF token.
pub struct NewSession {
    pub secret: String,
    pub csrf_token: String,
}

pub async fn create_session(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
) -> Result<NewSession, sqlx::Error> {
    let secret = random_token(32);
    let csrf_token = random_token(24);
    let now = ctx.now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&secret))
    .bind(account.as_str())
    .bind(&csrf_token)
    .bind(now)
    .bind(now + ctx.config.session_ttl_secs * 1000)
    .execute(conn)
    .await?;
    Ok(NewSession { secret, csrf_token })
}

/// `Set-Cookie` for a session secret (or, with `None`, one that deletes it).
pub fn session_cookie(config: &ServiceConfig, secret: Option<&str>) -> HeaderValue {
    let path = match config.path_prefix() {
        "" => "/",
        p => p,
    };
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let value = match secret {
        Some(s) => format!(
            "{}={s}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            cookie_name(config),
            config.session_ttl_secs
        ),
        None => format!(
            "{}=; Path={path}; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
            cookie_name(config)
        ),
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// The value of cookie `name`.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

// --- The caller -----------------------------------------------------------------------------------

/// How the caller authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// A session cookie; `token_hash` identifies the session row.
    Session {
        token_hash: String,
        csrf_token: String,
    },
    /// An API bearer token.
    Token { id: String },
}

/// A signed-in account of this service.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account_id: AccountId,
    pub email: String,
    pub display_name: String,
    pub platform_admin: bool,
    /// Whether the owner confirmed the address (`addresses`): roles, invitations and
    /// credential offers wait until then.
    pub email_verified: bool,
    /// Their notifications not read yet (signed in by a session; 0 by a token).
    pub unread: i64,
    pub method: AuthMethod,
    pub request_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    id: String,
    email: String,
    display_name: String,
    platform_admin: i64,
    email_verified_at: Option<i64>,
    csrf_token: String,
    unread: i64,
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Principal, ApiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let ctx = Ctx::from_ref(state);
        let now = ctx.now_ms();
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);

        let principal = if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthenticated)?;
            let row: Option<(String, String, String, i64, Option<i64>, String)> = sqlx::query_as(
                "SELECT a.id, a.email, a.display_name, a.platform_admin, a.email_verified_at, t.id FROM api_tokens t \
                 JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            )
            .bind(hash_secret(token.trim()))
            .fetch_optional(ctx.db.pool())
            .await?;
            let (id, email, display_name, platform_admin, verified_at, token_id) =
                row.ok_or(ApiError::Unauthenticated)?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&token_id)
                .execute(&mut *ctx.db.writer().await?)
                .await?;
            Principal {
                account_id: AccountId(id),
                email,
                display_name,
                platform_admin: platform_admin != 0,
                email_verified: verified_at.is_some(),
                unread: 0,
                method: AuthMethod::Token { id: token_id },
                request_id,
            }
        } else {
            let principal = cookie_session(&ctx, &parts.headers, request_id).await?;
            // Cookies ride along with cross-site requests; a state change also needs the CSRF
            // token, which only our own pages and API clients that signed in know.
            if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if !sent.is_some_and(|s| check_csrf(&principal, s)) {
                    return Err(ApiError::Csrf);
                }
            }
            principal
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// The principal of the session cookie in `headers`, without any CSRF check: the caller makes
/// it (the header for the API, a form field for pages).
pub async fn cookie_session(
    ctx: &Ctx,
    headers: &HeaderMap,
    request_id: Option<String>,
) -> Result<Principal, ApiError> {
    let secret =
        cookie_value(headers, &cookie_name(&ctx.config)).ok_or(ApiError::Unauthenticated)?;
    let token_hash = hash_secret(secret);
    let row: PrincipalRow = sqlx::query_as(
        "SELECT a.id, a.email, a.display_name, a.platform_admin, a.email_verified_at, s.csrf_token, \
         (SELECT COUNT(*) FROM outbox o WHERE o.account_id = a.id AND o.read_at IS NULL) AS unread FROM sessions s \
         JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(&token_hash)
    .bind(ctx.now_ms())
    .fetch_optional(ctx.db.pool())
    .await?
    .ok_or(ApiError::Unauthenticated)?;
    Ok(Principal {
        account_id: AccountId(row.id),
        email: row.email,
        display_name: row.display_name,
        platform_admin: row.platform_admin != 0,
        email_verified: row.email_verified_at.is_some(),
        unread: row.unread,
        method: AuthMethod::Session {
            token_hash,
            csrf_token: row.csrf_token,
        },
        request_id,
    })
}

/// Whether `sent` is the CSRF token of the principal's session (in constant time).
pub fn check_csrf(principal: &Principal, sent: &str) -> bool {
    match &principal.method {
        AuthMethod::Session { csrf_token, .. } => {
            constant_time_eq(sent.as_bytes(), csrf_token.as_bytes())
        }
        _ => false,
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A platform administrator of this service.
#[derive(Clone, Debug)]
pub struct PlatformAdmin(pub Principal);

impl<S> FromRequestParts<S> for PlatformAdmin
where
    S: Send + Sync,
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PlatformAdmin, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if principal.platform_admin {
            Ok(PlatformAdmin(principal))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

// --- Login throttling ------------------------------------------------------------------------------

/// What a throttled attempt is: signing in with a password, or recovering with a code. Each
/// has its own count, so a stranger's wrong recovery codes do not slow a sign-in down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    SignIn,
    Recovery,
    /// Asking for a lost password (each request counts, found or not).
    Reset,
}

impl Attempt {
    fn name(self) -> &'static str {
        match self {
            Attempt::SignIn => "sign-in",
            Attempt::Recovery => "recovery",
            Attempt::Reset => "reset",
        }
    }
}

/// Failures of one account from all addresses after which every attempt on it is slowed down
/// (one per few seconds, doubling up to [`MAX_ACCOUNT_DELAY_SECS`]) rather than refused: a
/// stranger spreading guesses over many addresses is held to a trickle, and cannot lock the
/// owner out.
const FAILURES_PER_ACCOUNT: i64 = 20;
const MAX_ACCOUNT_DELAY_SECS: i64 = 30;

/// Refuses an attempt on `email` (429 with `Retry-After`) after too many recent failures from
/// this client address (`login_max_failures` within `login_window_secs`), or too soon after the last failure once the account has many (counts
/// in the database, so they hold across instances).
pub async fn check_login_allowed(
    ctx: &Ctx,
    email: &str,
    client: &ClientIp,
    attempt: Attempt,
) -> Result<(), ApiError> {
    let now = ctx.now_ms();
    let window = ctx.config.login_window_secs * 1000;
    let window_start = now - window;
    let (from_client, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures \
         WHERE email = $1 AND purpose = $2 AND client = $3 AND at > $4",
    )
    .bind(email)
    .bind(attempt.name())
    .bind(client.key())
    .bind(window_start)
    .fetch_one(ctx.db.pool())
    .await?;
    let per_client = ctx.config.login_max_failures.max(1);
    if from_client >= per_client {
        let retry_at = oldest.unwrap_or(window_start) + window;
        return Err(ApiError::TooManyRequests {
            retry_after_secs: (retry_at - now + 999).div_euclid(1000).max(1),
        });
    }
    let (all, latest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MAX(at) FROM login_failures WHERE email = $1 AND purpose = $2 AND at > $3",
    )
    .bind(email)
    .bind(attempt.name())
    .bind(window_start)
    .fetch_one(ctx.db.pool())
    .await?;
    if all >= FAILURES_PER_ACCOUNT {
        let over = (all - FAILURES_PER_ACCOUNT).min(5) as u32;
        let delay_ms = (2i64.pow(over)).min(MAX_ACCOUNT_DELAY_SECS) * 1000;
        let wait = latest.unwrap_or(0) + delay_ms - now;
        if wait > 0 {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: (wait + 999).div_euclid(1000).max(1),
            });
        }
    }
    Ok(())
}

pub async fn record_login_failure(
    ctx: &Ctx,
    email: &str,
    client: &ClientIp,
    attempt: Attempt,
) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO login_failures (email, at, client, purpose) VALUES ($1, $2, $3, $4)")
        .bind(email)
        .bind(ctx.now_ms())
        .bind(client.key())
        .bind(attempt.name())
        .execute(&mut *ctx.db.writer().await?)
        .await?;
    Ok(())
}

/// A new API token secret: `carnet_<service>_<256 random bits>`.
pub fn new_token_secret(config: &ServiceConfig) -> String {
    format!("{TOKEN_PREFIX}{}_{}", config.kind.name(), random_token(32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn pooled_hashes_are_argon2s_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verify with the argon2 crate's verifier, and its hashes (every stored hash made
        // before the pool) verify with ours.
        let ours = hash_password("correct horse").await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", ours.as_str())
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password_with_salt(b"correct horse", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(verify_password("correct horse", &theirs).await.unwrap());
        assert!(!verify_password("correct horsf", &theirs).await.unwrap());
        assert!(
            !verify_password(
                "correct horse",
                "$argon2i$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$x"
            )
            .await
            .unwrap()
        );
        assert!(!verify_password("x", "not a hash").await.unwrap());
        // Raw derivations too (the wallet's keys).
        let mut ours = [0u8; 32];
        argon2id_into(argon2::Params::default(), b"secret", b"saltsalt", &mut ours).unwrap();
        let mut theirs = [0u8; 32];
        Argon2::default()
            .hash_password_into(b"secret", b"saltsalt", &mut theirs)
            .unwrap();
        assert_eq!(ours, theirs);
        // The pool keeps at most one buffer per permit.
        assert!(ARGON2_MEMORY.lock().unwrap().len() <= HASHING.permits_total);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_runs_off_the_async_threads_a_few_at_a_time() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(hashing(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        assert!(most.load(Ordering::SeqCst) <= cores);
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(
            verify_password("correct horse battery", &hash)
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse battery", &hash).await.unwrap());
    }
}
