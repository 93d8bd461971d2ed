//! `carnet-service`: the ground Carnet's three services (issuer, wallet, verifier) stand on.
//!
//! - [`db`]: one code path over SQLite (embedded default) and PostgreSQL, migrations.
//! - [`error`]: one error type answered as `application/problem+json` with a stable `type`.
//! - [`auth`] and [`accounts`]: argon2id passwords, session cookies with CSRF tokens, hashed
//!   bearer tokens, login throttling, and the account routes every service mounts.
//! - [`audit`]: audit rows written in the caller's transaction, read by admins.
//! - [`jobs`]: durable background jobs, retried with backoff, safe with several instances.
//! - [`http`]: request ids, tracing, size limits, security headers, idempotency keys,
//!   readiness, the OpenAPI document and its browsable page.
//! - [`clock`]: injected time, so expiry is tested without waiting.
//!
//! It does not know what a training centre or a recruiter is: each service crate adds its own
//! resources, roles and tables on top.

pub mod accounts;
pub mod addresses;
pub mod audit;
pub mod auth;
pub mod bus;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod error;
pub mod extract;
pub mod files;
pub mod http;
pub mod i18n;
pub mod id;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod notifications;
pub mod pagination;
pub mod remote;
pub mod tenants;
pub mod testing;
pub mod web;

pub use clock::Clock;
pub use db::Db;
pub use error::ApiError;

use std::sync::Arc;

/// Which service a process or database belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    Issuer,
    Wallet,
    Verifier,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 3] = [
        ServiceKind::Issuer,
        ServiceKind::Wallet,
        ServiceKind::Verifier,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Issuer => "issuer",
            ServiceKind::Wallet => "wallet",
            ServiceKind::Verifier => "verifier",
        }
    }
}

impl std::str::FromStr for ServiceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ServiceKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown service `{s}` (issuer, wallet or verifier)"))
    }
}

/// How one service runs.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub kind: ServiceKind,
    /// Where the service is reached from outside, with its path prefix
    /// (`http://127.0.0.1:8080/issuer`), without a trailing slash.
    pub public_url: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest upload (resources, PDFs), in bytes.
    pub max_upload_bytes: usize,
    /// Session lifetime in seconds.
    pub session_ttl_secs: i64,
    /// Failed logins allowed per e-mail address within `login_window_secs`.
    pub login_max_failures: i64,
    pub login_window_secs: i64,
    /// Seals secrets at rest (issuer keys, offer codes).
    pub secret_key: crypto::SecretKey,
    /// How long a verifier keeps what a candidate disclosed after the last contact, in days
    /// (two years by default, as the CNIL advises for candidates' data).
    pub retention_days: i64,
    /// Where outbound requests may go besides public addresses (the service's own URL at
    /// least; `carnet serve` adds the other services' and `--allow-outbound`).
    pub outbound: remote::OutboundPolicy,
    /// The wallet the portal hands credentials over to (the deployment's own), as its pages'
    /// base URL; empty when there is none.
    pub wallet_url: String,
    /// Where its e-mail goes (`mail`): an SMTP server, or the outbox alone.
    pub mail: mail::MailSettings,
}

impl ServiceConfig {
    pub fn new(
        kind: ServiceKind,
        public_url: &str,
        secret_key: crypto::SecretKey,
    ) -> ServiceConfig {
        let mut outbound = remote::OutboundPolicy::default();
        outbound.allow_url(public_url);
        ServiceConfig {
            kind,
            outbound,
            public_url: public_url.trim_end_matches('/').to_owned(),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            session_ttl_secs: 7 * 24 * 3600,
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            secret_key,
            retention_days: 730,
            wallet_url: String::new(),
            mail: mail::MailSettings {
                smtp_url: None,
                from: "Carnet <no-reply@carnet.invalid>".into(),
            },
        }
    }

    /// The URL path the service is mounted under (`/issuer`), or empty when at the root.
    pub fn path_prefix(&self) -> &str {
        let after_scheme = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, r)| r);
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    }

    /// Whether cookies must be `Secure` (the service is reached over https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// What every request handler of a service can reach: its database, its clock, its
/// configuration. Service states embed it and implement `FromRef` for it.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<ServiceConfig>,
    /// Uploaded files (course resources, offer PDFs).
    pub files: Arc<dyn files::FileStore>,
    /// Live updates (chats, rooms) across instances.
    pub bus: Arc<bus::Bus>,
}

impl Ctx {
    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
