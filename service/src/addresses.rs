//! Verified addresses and lost passwords, on every service.
//!
//! An account's e-mail address counts once its owner followed the link, or typed the code,
//! mailed to it at sign-up (or when they change it): roles, invitations and credential offers
//! attach to an account only then ([`Principal::email_verified`]), so that whoever registers
//! `alice@centre.fr` before Alice gets none of hers. The link only shows a confirmation
//! button: a mail scanner that opens every link confirms nothing. A changed address becomes
//! the account's once the new one is confirmed.
//!
//! A lost password is reset through a link mailed to the address (centre and recruiter
//! accounts), which also confirms it. In the wallet the password wraps the key of the
//! holder's credentials: nothing can bypass it, so the mail explains the recovery code.

use crate::audit::{self, Actor};
use crate::auth::{Attempt, Principal, check_login_allowed, normalise_email, record_login_failure};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::i18n::{Catalog, Lang};
use crate::id::{AccountId, hash_secret, looks_like_id, random_token};
use crate::limits::ClientIp;
use crate::mail::{self, Outgoing, fill};
use crate::{Ctx, ServiceKind};
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long a verification link (and its code) stays good.
pub const VERIFY_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// How long a password-reset link stays good.
pub const RESET_TTL_MS: i64 = 3600 * 1000;
/// Wrong codes after which a verification link is spent (a new one can be asked for).
const CODE_ATTEMPTS: i64 = 5;
/// Links one account may be sent per hour.
const LINKS_PER_HOUR: i64 = 5;

/// The mail of this module, in both languages; `{name}` is filled in.
pub const CATALOG: Catalog = &[
    (
        "verify.subject",
        "Confirmez votre adresse e-mail",
        "Confirm your e-mail address",
    ),
    ("mail.hello", "Bonjour {name},", "Hello {name},"),
    (
        "verify.why",
        "Vous avez créé un compte sur {service} avec cette adresse. Confirmez qu'elle est bien la vôtre : les invitations et les attestations qui vous sont destinées n'arrivent qu'à une adresse confirmée.",
        "You created an account on {service} with this address. Confirm that it is yours: invitations and credentials meant for you only reach a confirmed address.",
    ),
    (
        "verify.why_change",
        "Vous avez demandé que votre compte {service} utilise désormais cette adresse. Elle le sera dès que vous l'aurez confirmée.",
        "You asked for your {service} account to use this address from now on. It will as soon as you confirm it.",
    ),
    (
        "verify.link",
        "Ouvrez ce lien pour la confirmer :",
        "Open this link to confirm it:",
    ),
    (
        "verify.code",
        "Ou tapez ce code dans la page « Confirmer mon adresse » : {code}",
        "Or type this code in the « Confirm my address » page: {code}",
    ),
    (
        "verify.ignore",
        "Le lien est valable 7 jours. Si vous n'avez pas créé ce compte, ignorez ce message : rien ne sera fait avec votre adresse.",
        "The link is good for 7 days. If you did not create this account, ignore this message: nothing will be done with your address.",
    ),
    ("reset.subject", "Nouveau mot de passe", "A new password"),
    (
        "reset.why",
        "Quelqu'un (sans doute vous) a demandé un nouveau mot de passe pour votre compte {service}.",
        "Someone (probably you) asked for a new password for your {service} account.",
    ),
    (
        "reset.link",
        "Ouvrez ce lien pour en choisir un ; il est valable une heure :",
        "Open this link to choose one; it is good for an hour:",
    ),
    (
        "reset.ignore",
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.",
        "If you asked for nothing, ignore this message: your password does not change.",
    ),
    (
        "recovery.subject",
        "Mot de passe oublié : votre code de secours",
        "Forgotten password: your recovery code",
    ),
    (
        "recovery.why",
        "Quelqu'un (sans doute vous) a demandé un nouveau mot de passe pour votre carnet. Votre mot de passe protège vos attestations : personne, pas même Carnet, ne peut le remplacer sans votre code de secours, celui qui vous a été montré à la création du carnet.",
        "Someone (probably you) asked for a new password for your carnet. Your password protects your credentials: nobody, not even Carnet, can replace it without your recovery code, the one shown to you when the carnet was created.",
    ),
    (
        "recovery.link",
        "Avec ce code, choisissez un nouveau mot de passe ici :",
        "With that code, choose a new password here:",
    ),
    (
        "recovery.lost",
        "Sans ce code, vos attestations ne peuvent pas être ouvertes : créez un nouveau carnet et demandez à vos centres de vous les délivrer de nouveau. Si vous n'avez rien demandé, ignorez ce message.",
        "Without that code your credentials cannot be opened: create a new carnet and ask your centres to issue them again. If you asked for nothing, ignore this message.",
    ),
];

fn t(lang: Lang, key: &str) -> &'static str {
    lang.t(CATALOG, key)
}

/// The name people know the service by, in mail.
fn service_name(ctx: &Ctx, lang: Lang) -> &'static str {
    match (ctx.config.kind, lang) {
        (ServiceKind::Issuer, Lang::Fr) => "Carnet · Centre",
        (ServiceKind::Issuer, Lang::En) => "Carnet · Centre",
        (ServiceKind::Verifier, Lang::Fr) => "Carnet · Recrutement",
        (ServiceKind::Verifier, Lang::En) => "Carnet · Recruitment",
        (ServiceKind::Wallet, Lang::Fr) => "Mon carnet",
        (ServiceKind::Wallet, Lang::En) => "My carnet",
    }
}

/// The language an account's mail speaks.
pub async fn language_of(conn: &mut AnyConnection, account: &str) -> ApiResult<Lang> {
    let row: Option<(String,)> = sqlx::query_as("SELECT language FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row.as_ref().map(|(l,)| l.as_str()) {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    })
}

/// Sets the language an account's mail speaks.
pub async fn set_language(conn: &mut AnyConnection, account: &str, lang: Lang) -> ApiResult<()> {
    sqlx::query("UPDATE accounts SET language = $1 WHERE id = $2")
        .bind(lang.code())
        .bind(account)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn code_hash(token_hash: &str, code: &str) -> String {
    hash_secret(&format!("{token_hash}:{code}"))
}

/// Mails a verification link and code for `email` (the account's, or the new one it asks
/// for) to it, in `conn` (the sign-up's transaction, or the request's). Returns when the link
/// expires.
pub async fn send_verification(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
    email: &str,
    change: bool,
) -> ApiResult<i64> {
    let now = ctx.now_ms();
    let (sent,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM email_links WHERE account_id = $1 AND purpose = 'verify' AND created_at > $2",
    )
    .bind(account.as_str())
    .bind(now - 3600 * 1000)
    .fetch_one(&mut *conn)
    .await?;
    if sent >= LINKS_PER_HOUR {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: 3600,
        });
    }
    let (name,): (String,) = sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
        .bind(account.as_str())
        .fetch_one(&mut *conn)
        .await?;
    let lang = language_of(conn, account.as_str()).await?;
    let token = random_token(24);
    let token_hash = hash_secret(&token);
    let code: String = {
        let mut rng = rand::rngs::OsRng;
        (0..6)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    let expires_at = now + VERIFY_TTL_MS;
    sqlx::query(
        "INSERT INTO email_links (token_hash, purpose, account_id, email, code_hash, created_at, expires_at) \
         VALUES ($1, 'verify', $2, $3, $4, $5, $6)",
    )
    .bind(&token_hash)
    .bind(account.as_str())
    .bind(email)
    .bind(code_hash(&token_hash, &code))
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    let service = service_name(ctx, lang);
    mail::queue(
        conn,
        ctx,
        &Outgoing {
            kind: "verification",
            to: email.to_owned(),
            to_name: name.clone(),
            subject: t(lang, "verify.subject").to_owned(),
            paragraphs: vec![
                fill(t(lang, "mail.hello"), &[("name", &name)]),
                fill(
                    t(
                        lang,
                        if change {
                            "verify.why_change"
                        } else {
                            "verify.why"
                        },
                    ),
                    &[("service", service)],
                ),
                t(lang, "verify.link").to_owned(),
                format!("{}/verify/{token}", ctx.config.public_url),
                fill(t(lang, "verify.code"), &[("code", &code)]),
                t(lang, "verify.ignore").to_owned(),
            ],
            attachment: None,
        },
    )
    .await?;
    Ok(expires_at)
}

/// A link of `purpose` still good, by its secret: (token hash, account, e-mail).
async fn live_link(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    purpose: &str,
    token: &str,
) -> ApiResult<(String, String, String)> {
    if !looks_like_id(token) {
        return Err(ApiError::NotFound);
    }
    let token_hash = hash_secret(token);
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT account_id, email FROM email_links WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3 AND attempts < $4",
    )
    .bind(&token_hash)
    .bind(purpose)
    .bind(ctx.now_ms())
    .bind(CODE_ATTEMPTS)
    .fetch_optional(&mut *conn)
    .await?;
    let (account, email) = row.ok_or(ApiError::NotFound)?;
    Ok((token_hash, account, email))
}

/// Confirms `email` for `account` (its address becomes `email` if it was a change), spends
/// every verification link of the account, audited, in `conn`.
async fn confirm(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &str,
    email: &str,
    how: &str,
) -> ApiResult<()> {
    let now = ctx.now_ms();
    let (current,): (String,) = sqlx::query_as("SELECT email FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&mut *conn)
        .await?;
    if current != email {
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT id FROM accounts WHERE email = $1 AND id <> $2")
                .bind(email)
                .bind(account)
                .fetch_optional(&mut *conn)
                .await?;
        if taken.is_some() {
            return Err(ApiError::Conflict(
                "another account uses this e-mail address now".into(),
            ));
        }
    }
    sqlx::query(
        "UPDATE accounts SET email = $1, email_verified_at = $2, updated_at = $2 WHERE id = $3",
    )
    .bind(email)
    .bind(now)
    .bind(account)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE email_links SET used_at = $1 WHERE account_id = $2 AND purpose = 'verify' AND used_at IS NULL",
    )
    .bind(now)
    .bind(account)
    .execute(&mut *conn)
    .await?;
    let actor = Actor {
        account_id: Some(AccountId(account.to_owned())),
        request_id: None,
    };
    audit::record(
        conn,
        now,
        &actor,
        "account.email_verified",
        Some(account),
        None,
        json!({ "email": email, "previous": (current != email).then_some(current), "by": how }),
    )
    .await?;
    Ok(())
}

/// Marks an account's address confirmed without a link: an account the operator made (the
/// command line, the demo's people), audited as such, in `conn`.
pub async fn confirm_by_operator(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    account: &AccountId,
) -> ApiResult<()> {
    let (email,): (String,) = sqlx::query_as("SELECT email FROM accounts WHERE id = $1")
        .bind(account.as_str())
        .fetch_one(&mut *conn)
        .await?;
    confirm(conn, ctx, account.as_str(), &email, "operator").await
}

/// The secret of the verification link in a message's text (what following it opens).
pub fn link_in(text: &str, ctx: &Ctx) -> Option<String> {
    let start = format!("{}/verify/", ctx.config.public_url);
    let at = text.find(&start)? + start.len();
    let token: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// Whose link this is, before they confirm: the address and the account's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingAddress {
    pub email: String,
    pub display_name: String,
}

/// What a verification link is for (the page shows it before its owner confirms).
pub async fn verification_of(ctx: &Ctx, token: &str) -> ApiResult<PendingAddress> {
    let mut conn = ctx.db.pool().acquire().await?;
    let (_, account, email) = live_link(&mut conn, ctx, "verify", token).await?;
    let (display_name,): (String,) =
        sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
            .bind(&account)
            .fetch_one(&mut *conn)
            .await?;
    Ok(PendingAddress {
        email,
        display_name,
    })
}

/// Confirms the address of a verification link.
pub async fn verify_link(ctx: &Ctx, token: &str) -> ApiResult<PendingAddress> {
    let mut tx = ctx.db.begin().await?;
    let (_, account, email) = live_link(&mut tx, ctx, "verify", token).await?;
    confirm(&mut tx, ctx, &account, &email, "link").await?;
    let (display_name,): (String,) =
        sqlx::query_as("SELECT display_name FROM accounts WHERE id = $1")
            .bind(&account)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(PendingAddress {
        email,
        display_name,
    })
}

/// Confirms the signed-in account's pending address with the code of its latest link; a
/// wrong code counts, and the link is spent after [`CODE_ATTEMPTS`].
pub async fn verify_code(ctx: &Ctx, principal: &Principal, code: &str) -> ApiResult<String> {
    let mut tx = ctx.db.begin().await?;
    let now = ctx.now_ms();
    let row: Option<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT token_hash, email, code_hash, attempts FROM email_links WHERE account_id = $1 AND purpose = 'verify' \
         AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(principal.account_id.as_str())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((token_hash, email, expected, attempts)) = row.filter(|r| r.3 < CODE_ATTEMPTS) else {
        return Err(ApiError::invalid_field(
            "code",
            "no code is waiting for this account: ask for a new one",
        ));
    };
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let right = expected.is_some_and(|h| {
        crate::auth::constant_time_eq(h.as_bytes(), code_hash(&token_hash, &code).as_bytes())
    });
    if !right {
        sqlx::query("UPDATE email_links SET attempts = attempts + 1 WHERE token_hash = $1")
            .bind(&token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let left = CODE_ATTEMPTS - attempts - 1;
        return Err(ApiError::invalid_field(
            "code",
            if left > 0 {
                format!("this is not the code mailed to {email}; {left} attempts left")
            } else {
                "this is not the code; ask for a new one".to_owned()
            },
        ));
    }
    confirm(&mut tx, ctx, principal.account_id.as_str(), &email, "code").await?;
    tx.commit().await?;
    Ok(email)
}

/// Sends the signed-in account a new verification link, for its address or for `new_email`
/// (a change, which takes effect once confirmed). Returns the address written to and when
/// the link expires.
pub async fn resend(
    ctx: &Ctx,
    principal: &Principal,
    new_email: Option<&str>,
) -> ApiResult<(String, i64)> {
    let (email, change) = match new_email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => {
            let e = normalise_email(e)?;
            let change = e != principal.email;
            (e, change)
        }
        None => (principal.email.clone(), false),
    };
    if !change && principal.email_verified {
        return Err(ApiError::Conflict(
            "this address is already confirmed".into(),
        ));
    }
    if change {
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM accounts WHERE email = $1")
            .bind(&email)
            .fetch_optional(ctx.db.pool())
            .await?;
        if taken.is_some() {
            return Err(ApiError::invalid_field(
                "email",
                "another account uses this e-mail address",
            ));
        }
    }
    let mut tx = ctx.db.begin().await?;
    let expires_at = send_verification(&mut tx, ctx, &principal.account_id, &email, change).await?;
    if change {
        audit::record(
            &mut tx,
            ctx.now_ms(),
            &principal.into(),
            "account.email_change_asked",
            Some(principal.account_id.as_str()),
            None,
            json!({ "email": email }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok((email, expires_at))
}

/// Asks for a lost password: throttled like a sign-in (per address and client), and answered
/// the same whether an account has the address or not. Its owner gets a reset link, or in the
/// wallet the way to their recovery code.
pub async fn ask_reset(ctx: &Ctx, client: &ClientIp, email: &str) -> ApiResult<()> {
    let email = normalise_email(email)?;
    check_login_allowed(ctx, &email, client, Attempt::Reset).await?;
    record_login_failure(ctx, &email, client, Attempt::Reset).await?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, display_name FROM accounts WHERE email = $1")
            .bind(&email)
            .fetch_optional(ctx.db.pool())
            .await?;
    let Some((account, name)) = row else {
        return Ok(());
    };
    let mut tx = ctx.db.begin().await?;
    let lang = language_of(&mut tx, &account).await?;
    let service = service_name(ctx, lang);
    let hello = fill(t(lang, "mail.hello"), &[("name", &name)]);
    let mail = if ctx.config.kind == ServiceKind::Wallet {
        Outgoing {
            kind: "password_recovery",
            to: email,
            to_name: name,
            subject: t(lang, "recovery.subject").to_owned(),
            paragraphs: vec![
                hello,
                t(lang, "recovery.why").to_owned(),
                t(lang, "recovery.link").to_owned(),
                format!("{}/recover", ctx.config.public_url),
                t(lang, "recovery.lost").to_owned(),
            ],
            attachment: None,
        }
    } else {
        let token = random_token(24);
        let now = ctx.now_ms();
        sqlx::query(
            "INSERT INTO email_links (token_hash, purpose, account_id, email, created_at, expires_at) \
             VALUES ($1, 'reset', $2, $3, $4, $5)",
        )
        .bind(hash_secret(&token))
        .bind(&account)
        .bind(&email)
        .bind(now)
        .bind(now + RESET_TTL_MS)
        .execute(&mut *tx)
        .await?;
        Outgoing {
            kind: "password_reset",
            to: email,
            to_name: name,
            subject: t(lang, "reset.subject").to_owned(),
            paragraphs: vec![
                hello,
                fill(t(lang, "reset.why"), &[("service", service)]),
                t(lang, "reset.link").to_owned(),
                format!("{}/reset/{token}", ctx.config.public_url),
                t(lang, "reset.ignore").to_owned(),
            ],
            attachment: None,
        }
    };
    mail::queue(&mut tx, ctx, &mail).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a reset link is still good (the page asks before showing its form).
pub async fn reset_is_live(ctx: &Ctx, token: &str) -> ApiResult<String> {
    let mut conn = ctx.db.pool().acquire().await?;
    Ok(live_link(&mut conn, ctx, "reset", token).await?.2)
}

/// Sets a new password through a reset link: every session and token of the account ends,
/// the link is spent, and the address is confirmed (the link reached it); audited. Not in the
/// wallet, whose password only the recovery code replaces.
pub async fn reset_password(ctx: &Ctx, token: &str, password: &str) -> ApiResult<String> {
    if ctx.config.kind == ServiceKind::Wallet {
        return Err(ApiError::Conflict(
            "the wallet's password protects its credentials: only the recovery code replaces it"
                .into(),
        ));
    }
    crate::auth::check_new_password(password)?;
    let mut tx = ctx.db.begin().await?;
    let (token_hash, account, email) = live_link(&mut tx, ctx, "reset", token).await?;
    let now = ctx.now_ms();
    sqlx::query("UPDATE email_links SET used_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(&token_hash)
        .execute(&mut *tx)
        .await?;
    let id = AccountId(account.clone());
    crate::accounts::set_password(&mut tx, ctx, &id, password, "").await?;
    let (current, verified): (String, Option<i64>) =
        sqlx::query_as("SELECT email, email_verified_at FROM accounts WHERE id = $1")
            .bind(&account)
            .fetch_one(&mut *tx)
            .await?;
    if current == email && verified.is_none() {
        confirm(&mut tx, ctx, &account, &email, "reset").await?;
    }
    let actor = Actor {
        account_id: Some(id),
        request_id: None,
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        "account.password_reset",
        Some(&account),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(email)
}

// --- API ------------------------------------------------------------------------------------

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(ask_verification))
        .routes(routes!(enter_code))
        .routes(routes!(show_link, follow_link))
        .routes(routes!(ask_password_reset))
        .routes(routes!(new_password))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    /// A new address for the account (it becomes the account's once confirmed); none: the
    /// account's own, mailed again.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationSent {
    pub email: String,
    pub expires_at: i64,
}

/// Mails a verification link and code again, or to a new address.
#[utoipa::path(post, path = "/api/v1/me/verification", tag = "accounts", request_body = VerificationRequest,
    responses((status = 202, body = VerificationSent), (status = 409, body = Problem), (status = 429, body = Problem)))]
async fn ask_verification(
    State(ctx): State<Ctx>,
    principal: Principal,
    Json(input): Json<VerificationRequest>,
) -> ApiResult<(StatusCode, Json<VerificationSent>)> {
    let (email, expires_at) = resend(&ctx, &principal, input.email.as_deref()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(VerificationSent { email, expires_at }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verified {
    pub email: String,
}

/// Confirms the account's address with the mailed code.
#[utoipa::path(post, path = "/api/v1/me/verification/code", tag = "accounts", request_body = Code,
    responses((status = 200, body = Verified), (status = 422, body = Problem)))]
async fn enter_code(
    State(ctx): State<Ctx>,
    principal: Principal,
    Json(input): Json<Code>,
) -> ApiResult<Json<Verified>> {
    let email = verify_code(&ctx, &principal, &input.code).await?;
    Ok(Json(Verified { email }))
}

/// What a verification link is for.
#[utoipa::path(get, path = "/api/v1/verifications/{token}", tag = "accounts",
    params(("token" = String, Path)), responses((status = 200, body = PendingAddress), (status = 404, body = Problem)))]
async fn show_link(
    State(ctx): State<Ctx>,
    Path(token): Path<String>,
) -> ApiResult<Json<PendingAddress>> {
    verification_of(&ctx, &token).await.map(Json)
}

/// Confirms the address of a verification link.
#[utoipa::path(post, path = "/api/v1/verifications/{token}", tag = "accounts",
    params(("token" = String, Path)), responses((status = 200, body = PendingAddress), (status = 404, body = Problem)))]
async fn follow_link(
    State(ctx): State<Ctx>,
    Path(token): Path<String>,
) -> ApiResult<Json<PendingAddress>> {
    verify_link(&ctx, &token).await.map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

/// Asks for a lost password; answered the same whether the address has an account or not.
#[utoipa::path(post, path = "/api/v1/password-resets", tag = "accounts", request_body = ResetRequest,
    responses((status = 202), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn ask_password_reset(
    State(ctx): State<Ctx>,
    client: ClientIp,
    Json(input): Json<ResetRequest>,
) -> ApiResult<StatusCode> {
    ask_reset(&ctx, &client, &input.email).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub new_password: String,
}

/// Sets a new password with a reset link's secret; every session and token ends.
#[utoipa::path(post, path = "/api/v1/password-resets/{token}", tag = "accounts", request_body = NewPassword,
    params(("token" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn new_password(
    State(ctx): State<Ctx>,
    Path(token): Path<String>,
    Json(input): Json<NewPassword>,
) -> ApiResult<StatusCode> {
    reset_password(&ctx, &token, &input.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
