//! The holder's encrypted store. Every account has a random data key that the database only
//! holds wrapped: by a key derived with argon2id from the password, by one derived from the
//! recovery code (shown once, at registration), and for each session by a key derived from the
//! session cookie's secret, which only the browser holds. A request opens the store with
//! [`Holder`]; an API bearer token cannot (it carries no key).

use crate::WalletState;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use carnet_service::Ctx;
use carnet_service::accounts::{self, AccountHooks, Prepared, SignedIn};
use carnet_service::audit::{self, Actor};
use carnet_service::auth::{self, Attempt, AuthMethod, Principal};
use carnet_service::crypto::SecretKey;
use carnet_service::error::Problem;
use carnet_service::error::{ApiError, ApiResult};
use carnet_service::extract::Json;
use carnet_service::id::{AccountId, hash_secret};
use carnet_service::limits::ClientIp;
use carnet_service::web::PageSession;
use futures_util::future::BoxFuture;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The recovery code's alphabet (Crockford's base32: no I, L, O, U) and length: 100 bits.
const RECOVERY_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RECOVERY_CHARS: usize = 20;

/// A key derived from a secret a person knows (password, recovery code, backup passphrase):
/// argon2id, 19 MiB, two passes, as for password hashes, on the bounded hashing pool
/// (`carnet_service::auth::hashing`), off the async threads.
pub async fn derive(secret: &str, salt: &[u8]) -> ApiResult<SecretKey> {
    let (secret, salt) = (secret.to_owned(), salt.to_owned());
    auth::hashing(move || derive_blocking(&secret, &salt)).await?
}

/// [`derive`], on the calling thread.
pub fn derive_blocking(secret: &str, salt: &[u8]) -> ApiResult<SecretKey> {
    let mut out = [0u8; 32];
    auth::argon2id_into(argon2::Params::default(), secret.as_bytes(), salt, &mut out)
        .map_err(ApiError::internal)?;
    Ok(SecretKey::from_bytes(out))
}

/// The key wrapping the data key for one session: the cookie secret has 256 random bits, so a
/// hash is enough.
fn session_key(secret: &str) -> SecretKey {
    let digest = Sha256::new()
        .chain_update(b"carnet wallet session key\0")
        .chain_update(secret.as_bytes())
        .finalize();
    SecretKey::from_bytes(digest.into())
}

fn salt() -> Vec<u8> {
    let mut salt = vec![0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// A new recovery code, grouped by five for reading (`XXXXX-XXXXX-XXXXX-XXXXX`).
fn recovery_code() -> String {
    let mut bytes = [0u8; RECOVERY_CHARS];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[usize::from(b & 31)] as char)
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A recovery code as typed: case, spaces and dashes do not matter.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn aad(purpose: &str, account: &AccountId) -> String {
    format!("wallet.{purpose}:{}", account.as_str())
}

/// Binds `data_key` to the session whose cookie secret is `session_secret`.
async fn bind_session(
    conn: &mut AnyConnection,
    data_key: &SecretKey,
    session_secret: &str,
) -> ApiResult<()> {
    let token_hash = hash_secret(session_secret);
    let sealed = session_key(session_secret)
        .seal(&token_hash, data_key.as_bytes())
        .map_err(ApiError::internal)?;
    sqlx::query("INSERT INTO session_keys (token_hash, sealed_data_key) VALUES ($1, $2)")
        .bind(&token_hash)
        .bind(sealed)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn open_data_key(key: &SecretKey, aad: &str, sealed: &[u8]) -> ApiResult<SecretKey> {
    let bytes = key.open(aad, sealed).map_err(ApiError::internal)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ApiError::internal("a data key is not 32 bytes"))?;
    Ok(SecretKey::from_bytes(bytes))
}

/// The account's data key, unwrapped with its password.
async fn data_key_by_password(
    conn: &mut AnyConnection,
    account: &AccountId,
    password: &str,
) -> ApiResult<SecretKey> {
    let (salt, wrapped): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT password_salt, by_password FROM holder_keyrings WHERE account_id = $1",
    )
    .bind(account.as_str())
    .fetch_one(&mut *conn)
    .await?;
    open_data_key(
        &derive(password, &salt).await?,
        &aad("password", account),
        &wrapped,
    )
}

/// Wraps `data_key` under `password` (a new salt) and stores it.
async fn wrap_with_password(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
    data_key: &SecretKey,
    password: &str,
) -> ApiResult<()> {
    let salt = salt();
    let wrapped = derive(password, &salt)
        .await?
        .seal(&aad("password", account), data_key.as_bytes())
        .map_err(ApiError::internal)?;
    sqlx::query(
        "UPDATE holder_keyrings SET password_salt = $1, by_password = $2, updated_at = $3 WHERE account_id = $4",
    )
    .bind(salt)
    .bind(wrapped)
    .bind(ctx.now_ms())
    .bind(account.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account's data key, unwrapped with its recovery code, if the code is right.
async fn data_key_by_recovery(
    conn: &mut AnyConnection,
    account: &AccountId,
    code: &str,
) -> ApiResult<Option<SecretKey>> {
    let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT recovery_salt, by_recovery FROM holder_keyrings WHERE account_id = $1",
    )
    .bind(account.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((salt, wrapped)) = row else {
        return Ok(None);
    };
    let key = derive(&normalise_recovery_code(code), &salt).await?;
    Ok(key
        .open(&aad("recovery", account), &wrapped)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(SecretKey::from_bytes))
}

/// A new data key for `account`, wrapped by its password and a new recovery code (returned,
/// to show once), and bound to the session.
async fn create_keyring(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
    password: &str,
    session_secret: &str,
) -> ApiResult<Option<String>> {
    let data_key = SecretKey::generate();
    let code = recovery_code();
    let (password_salt, recovery_salt) = (salt(), salt());
    let by_password = derive(password, &password_salt)
        .await?
        .seal(&aad("password", account), data_key.as_bytes())
        .map_err(ApiError::internal)?;
    let by_recovery = derive(&normalise_recovery_code(&code), &recovery_salt)
        .await?
        .seal(&aad("recovery", account), data_key.as_bytes())
        .map_err(ApiError::internal)?;
    let now = ctx.now_ms();
    sqlx::query(
                "INSERT INTO holder_keyrings (account_id, password_salt, by_password, recovery_salt, by_recovery, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(account.as_str())
            .bind(password_salt)
            .bind(by_password)
            .bind(recovery_salt)
            .bind(by_recovery)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    bind_session(conn, &data_key, session_secret).await?;
    Ok(Some(code))
}

/// The wallet's steps in registration, sign-in and password change.
pub struct Keyring;

impl AccountHooks for Keyring {
    fn registered<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        ctx: &'a Ctx,
        account: &'a AccountId,
        password: &'a str,
        session_secret: &'a str,
    ) -> BoxFuture<'a, ApiResult<Option<String>>> {
        Box::pin(async move { create_keyring(conn, ctx, account, password, session_secret).await })
    }

    /// Unwraps the data key with the password (argon2id) before the sign-in transaction.
    fn prepare_sign_in<'a>(
        &'a self,
        ctx: &'a Ctx,
        account: &'a AccountId,
        password: &'a str,
    ) -> BoxFuture<'a, ApiResult<Prepared>> {
        Box::pin(async move {
            let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
                "SELECT password_salt, by_password FROM holder_keyrings WHERE account_id = $1",
            )
            .bind(account.as_str())
            .fetch_optional(ctx.db.pool())
            .await?;
            let Some((salt, wrapped)) = row else {
                return Ok(None);
            };
            let data_key = open_data_key(
                &derive(password, &salt).await?,
                &aad("password", account),
                &wrapped,
            )?;
            Ok(Some(Box::new(data_key) as Box<dyn std::any::Any + Send>))
        })
    }

    fn signed_in<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        ctx: &'a Ctx,
        account: &'a AccountId,
        password: &'a str,
        prepared: Prepared,
        session_secret: &'a str,
    ) -> BoxFuture<'a, ApiResult<Option<String>>> {
        Box::pin(async move {
            match prepared.and_then(|p| p.downcast::<SecretKey>().ok()) {
                Some(data_key) => {
                    bind_session(conn, &data_key, session_secret).await?;
                    Ok(None)
                }
                // An account made by the command line, not by registration: its store starts
                // here, and its recovery code is shown now.
                None => create_keyring(conn, ctx, account, password, session_secret).await,
            }
        })
    }

    fn password_changed<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        ctx: &'a Ctx,
        account: &'a AccountId,
        current: &'a str,
        new: &'a str,
    ) -> BoxFuture<'a, ApiResult<()>> {
        Box::pin(async move {
            let data_key = data_key_by_password(conn, account, current).await?;
            wrap_with_password(conn, ctx, account, &data_key, new).await
        })
    }
}

/// A holder with their store open: a signed-in session whose cookie unwraps the data key.
pub struct Holder {
    pub principal: Principal,
    data_key: SecretKey,
}

impl Holder {
    pub fn account(&self) -> &AccountId {
        &self.principal.account_id
    }

    /// Seals an item of this holder's store; `id` binds the ciphertext to its row.
    /// A stable identifier for `label`, derived from the data key: the database can find a row
    /// by it without learning the label.
    pub fn tag(&self, label: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(b"carnet-wallet-tag\0");
        hash.update(self.data_key.as_bytes());
        hash.update(label.as_bytes());
        carnet_core::b64::encode(&hash.finalize()[..18])
    }

    pub fn seal(&self, id: &str, plaintext: &[u8]) -> ApiResult<Vec<u8>> {
        self.data_key
            .seal(&format!("{}:{id}", self.account().as_str()), plaintext)
            .map_err(ApiError::internal)
    }

    pub fn open(&self, id: &str, sealed: &[u8]) -> ApiResult<Vec<u8>> {
        self.data_key
            .open(&format!("{}:{id}", self.account().as_str()), sealed)
            .map_err(ApiError::internal)
    }
}

impl<S> FromRequestParts<S> for Holder
where
    S: Send + Sync,
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Holder, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        Holder::unlock(&Ctx::from_ref(state), &parts.headers, principal).await
    }
}

/// The holder of a page's form: the store, opened by the session cookie, once the form's CSRF
/// token is checked ([`PageHolder::check`]).
pub struct PageHolder {
    holder: Holder,
    session: PageSession,
}

impl PageHolder {
    /// The page's session (its CSRF token not checked yet).
    pub fn session(&self) -> &PageSession {
        &self.session
    }

    /// The holder, if `csrf` is the form's token.
    pub fn check(self, csrf: &str) -> Result<Holder, ApiError> {
        self.session.check(csrf)?;
        Ok(self.holder)
    }
}

impl<S> FromRequestParts<S> for PageHolder
where
    S: Send + Sync,
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PageHolder, ApiError> {
        let session = PageSession::from_request_parts(parts, state).await?;
        let holder =
            Holder::unlock(&Ctx::from_ref(state), &parts.headers, session.0.clone()).await?;
        Ok(PageHolder { holder, session })
    }
}

impl Holder {
    /// Opens the store of a session's principal with the session cookie's secret.
    async fn unlock(
        ctx: &Ctx,
        headers: &HeaderMap,
        principal: Principal,
    ) -> Result<Holder, ApiError> {
        let AuthMethod::Session { token_hash, .. } = &principal.method else {
            return Err(ApiError::BadRequest {
                kind: "store-locked",
                detail:
                    "the credential store opens only with a signed-in session, not an API token"
                        .into(),
            });
        };
        let secret = auth::cookie_value(headers, &auth::cookie_name(&ctx.config))
            .ok_or(ApiError::Unauthenticated)?;
        let sealed: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT sealed_data_key FROM session_keys WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(ctx.db.pool())
                .await?;
        // A session opened before the store existed has no key: sign in again.
        let (sealed,) = sealed.ok_or(ApiError::Unauthenticated)?;
        let data_key = open_data_key(&session_key(secret), token_hash, &sealed)?;
        Ok(Holder {
            principal,
            data_key,
        })
    }
}

pub fn router() -> OpenApiRouter<WalletState> {
    OpenApiRouter::new()
        .routes(routes!(recover))
        .routes(routes!(delete_account))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDeletion {
    /// The password again, to confirm.
    pub password: String,
}

/// Deletes the account and everything the wallet holds for it: credentials, holder keys, the
/// keyring, sessions and tokens. Only the audit row saying so remains.
#[utoipa::path(delete, path = "/api/v1/account", tag = "accounts", request_body = AccountDeletion,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn delete_account(
    State(state): State<WalletState>,
    holder: Holder,
    Json(input): Json<AccountDeletion>,
) -> ApiResult<Response> {
    let ctx = &state.ctx;
    let account = holder.account().clone();
    let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM accounts WHERE id = $1")
        .bind(account.as_str())
        .fetch_one(ctx.db.pool())
        .await?;
    if input.password.len() > 1024 || !auth::verify_password(&input.password, &hash).await? {
        return Err(ApiError::invalid_field("password", "the password is wrong"));
    }
    // Profiles published at verifiers go first, while the holder's keys still exist.
    crate::directory::withdraw_all(&state, &holder).await;
    let mut tx = ctx.db.begin().await?;
    // Every table of the wallet refers to the account with ON DELETE CASCADE.
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(account.as_str())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        ctx.now_ms(),
        &(&holder.principal).into(),
        "account.deleted",
        Some(account.as_str()),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    let cookie = auth::session_cookie(&ctx.config, None);
    Ok((
        StatusCode::NO_CONTENT,
        [(axum::http::header::SET_COOKIE, cookie)],
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    pub email: String,
    /// The code shown at registration (case, spaces and dashes do not matter).
    pub recovery_code: String,
    pub new_password: String,
}

/// A lost password: the recovery code opens the store, a new password wraps it, and every
/// other session ends. Throttled like sign-in.
#[utoipa::path(post, path = "/api/v1/recovery", tag = "accounts", request_body = Recovery,
    responses((status = 200, body = SignedIn), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn recover(
    State(ctx): State<Ctx>,
    client: ClientIp,
    Json(input): Json<Recovery>,
) -> ApiResult<Response> {
    auth::check_new_password(&input.new_password)?;
    let email = input.email.trim().to_lowercase();
    if input.recovery_code.len() > 64 || email.len() > 254 {
        return Err(ApiError::InvalidCredentials);
    }
    auth::check_login_allowed(&ctx, &email, &client, Attempt::Recovery).await?;
    let Some(account) = accounts::find_by_email(&ctx, &email).await? else {
        auth::burn_password_check(&input.recovery_code).await?;
        auth::record_login_failure(&ctx, &email, &client, Attempt::Recovery).await?;
        return Err(ApiError::InvalidCredentials);
    };
    let id = AccountId(account.id.clone());
    let mut tx = ctx.db.begin().await?;
    let Some(data_key) = data_key_by_recovery(&mut tx, &id, &input.recovery_code).await? else {
        drop(tx);
        auth::record_login_failure(&ctx, &email, &client, Attempt::Recovery).await?;
        return Err(ApiError::InvalidCredentials);
    };
    accounts::set_password(&mut tx, &ctx, &id, &input.new_password, "").await?;
    let session = auth::create_session(&mut tx, &ctx, &id).await?;
    wrap_with_password(&mut tx, &ctx, &id, &data_key, &input.new_password).await?;
    bind_session(&mut tx, &data_key, &session.secret).await?;
    let actor = Actor {
        account_id: Some(id.clone()),
        request_id: None,
    };
    audit::record(
        &mut tx,
        ctx.now_ms(),
        &actor,
        "account.recovered",
        Some(id.as_str()),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(accounts::signed_in(
        &ctx,
        StatusCode::OK,
        account,
        session,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_readable_and_forgiving() {
        let code = recovery_code();
        assert_eq!(code.len(), RECOVERY_CHARS + 3);
        assert_eq!(code.matches('-').count(), 3);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(
            normalise_recovery_code(&typed),
            normalise_recovery_code(&code)
        );
        assert_ne!(recovery_code(), code);
    }

    #[test]
    fn wrapped_keys_open_only_with_their_secret() {
        let account = AccountId("acc_1".into());
        let data_key = SecretKey::generate();
        let salt = salt();
        let wrapped = derive_blocking("correct horse battery", &salt)
            .unwrap()
            .seal(&aad("password", &account), data_key.as_bytes())
            .unwrap();
        let opened = open_data_key(
            &derive_blocking("correct horse battery", &salt).unwrap(),
            &aad("password", &account),
            &wrapped,
        )
        .unwrap();
        assert_eq!(opened.as_bytes(), data_key.as_bytes());
        assert!(
            open_data_key(
                &derive_blocking("wrong horse battery", &salt).unwrap(),
                &aad("password", &account),
                &wrapped
            )
            .is_err()
        );
        let other = AccountId("acc_2".into());
        assert!(
            open_data_key(
                &derive_blocking("correct horse battery", &salt).unwrap(),
                &aad("password", &other),
                &wrapped
            )
            .is_err(),
            "a wrapped key moved to another account does not open"
        );
    }
}
