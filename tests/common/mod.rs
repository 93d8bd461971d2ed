//! The three services in one router, as `carnet serve` builds it, over fresh databases (SQLite,
//! and PostgreSQL when `CARNET_TEST_POSTGRES_URL` is set) with a manual clock. Requests go
//! through the whole HTTP stack (layers included) without a socket.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use carnet::config::ServerArgs;
use carnet::server::{self, Service};
use carnet_service::clock::ManualClock;
use carnet_service::db::Engine;
use carnet_service::testing::TestDatabase;
use carnet_service::{Ctx, Db, ServiceConfig, ServiceKind};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

mod centre;
pub mod mail;
pub mod words;
#[allow(unused_imports)]
pub use centre::*;

pub const PASSWORD: &str = "correct horse battery";
pub const START_MS: i64 = 1_800_000_000_000;

pub struct TestApp {
    pub router: Router,
    pub clock: ManualClock,
    pub services: Vec<Service>,
    pub engine: Engine,
    settings: carnet::config::Settings,
    _dbs: Vec<TestDatabase>,
}

/// How a request authenticates.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    #[default]
    None,
    Session {
        cookie: String,
        csrf: String,
    },
    Bearer(String),
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    /// The problem `type` kind (`urn:carnet:problem:<kind>`), checking the media type.
    pub fn problem(&self) -> String {
        assert_eq!(
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "status {} body {}",
            self.status,
            String::from_utf8_lossy(&self.raw)
        );
        self.body["type"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("urn:carnet:problem:")
            .to_owned()
    }
}

/// The engines a test runs on: SQLite, and PostgreSQL when it is configured.
pub fn engines() -> Vec<Engine> {
    if std::env::var(carnet_service::testing::POSTGRES_ENV).is_ok() {
        vec![Engine::Sqlite, Engine::Postgres]
    } else {
        eprintln!(
            "PostgreSQL variant skipped: {} is not set",
            carnet_service::testing::POSTGRES_ENV
        );
        vec![Engine::Sqlite]
    }
}

/// Runs `test` once per available engine.
pub async fn each_engine<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in engines() {
        test(TestApp::new(engine).await).await;
    }
}

impl TestApp {
    pub async fn new(engine: Engine) -> TestApp {
        TestApp::build(engine, "http://carnet.test", None).await
    }

    /// The same, also listening on a loopback port, for services that call each other over
    /// HTTP (the wallet fetching from the issuer). The public URL is that address.
    pub async fn listening(engine: Engine) -> TestApp {
        TestApp::listening_allowing(engine, None).await
    }

    /// The same, with outbound requests also allowed where `allow_outbound` says (as
    /// `--allow-outbound`: peers of the test on other loopback ports).
    pub async fn listening_allowing(engine: Engine, allow_outbound: Option<&str>) -> TestApp {
        let args = ServerArgs {
            allow_outbound: allow_outbound.map(str::to_owned),
            ..ServerArgs::default()
        };
        TestApp::listening_with(engine, args).await
    }

    /// Listening on a loopback port with `args` (its public URL is that address).
    pub async fn listening_with(engine: Engine, args: ServerArgs) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let args = ServerArgs {
            public_url: Some(url),
            ..args
        };
        let app = TestApp::from_args(engine, args).await;
        let router = app.router.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        });
        app
    }

    async fn build(engine: Engine, public_url: &str, allow_outbound: Option<&str>) -> TestApp {
        let args = ServerArgs {
            public_url: Some(public_url.into()),
            allow_outbound: allow_outbound.map(str::to_owned),
            ..ServerArgs::default()
        };
        TestApp::from_args(engine, args).await
    }

    async fn from_args(engine: Engine, args: ServerArgs) -> TestApp {
        let clock = ManualClock::new(START_MS);
        let settings = args.resolve().unwrap();
        let mut services = Vec::new();
        let mut dbs = Vec::new();
        let secret_key = carnet_service::crypto::SecretKey::generate();
        for kind in ServiceKind::ALL {
            let test_db = match engine {
                Engine::Sqlite => TestDatabase::sqlite(),
                Engine::Postgres => TestDatabase::postgres()
                    .await
                    .expect("PostgreSQL configured"),
            };
            let db = Db::connect(&test_db.url).await.unwrap();
            db.migrate(server::migrations(kind)).await.unwrap();
            let ctx = Ctx {
                bus: carnet_service::bus::Bus::new(&db),
                db,
                clock: Arc::new(clock.clone()),
                config: Arc::new(ServiceConfig {
                    outbound: settings.outbound.clone(),
                    wallet_url: settings.service_url(ServiceKind::Wallet),
                    mail: settings.mail().unwrap(),
                    ..ServiceConfig::new(kind, &settings.service_url(kind), secret_key.clone())
                }),
                // An S3-compatible bucket when CI provides one, so every upload test runs
                // against it too; a folder of the test's directory otherwise.
                files: match std::env::var("CARNET_TEST_S3_URL") {
                    Ok(url) => carnet_service::files::open_store(&format!(
                        "{url}/{}",
                        carnet_service::id::random_token(8)
                    ))
                    .unwrap(),
                    Err(_) => {
                        carnet_service::files::LocalFileStore::new(test_db.dir().join("files"))
                            .unwrap()
                    }
                },
            };
            services.push(server::build(kind, ctx));
            dbs.push(test_db);
        }
        let router = server::router(&services, &settings);
        TestApp {
            router,
            clock,
            services,
            engine,
            settings,
            _dbs: dbs,
        }
    }

    pub fn ctx(&self, kind: ServiceKind) -> &Ctx {
        &self.services.iter().find(|s| s.kind == kind).unwrap().ctx
    }

    /// Sends a request; `body` is JSON unless given as raw bytes through [`TestApp::send`].
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> Reply {
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.send(
            method,
            path,
            auth,
            bytes.as_deref(),
            Some("application/json"),
            &[],
        )
        .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<&[u8]>,
        content_type: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        match auth {
            Auth::None => {}
            Auth::Session { cookie, csrf } => {
                req = req
                    .header(header::COOKIE, cookie.as_str())
                    .header("x-csrf-token", csrf.as_str());
            }
            Auth::Bearer(token) => {
                req = req.header(header::AUTHORIZATION, format!("Bearer {token}"))
            }
        }
        if body.is_some()
            && let Some(ct) = content_type
        {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let req = req
            .body(body.map_or(Body::empty(), |b| Body::from(b.to_vec())))
            .unwrap();
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    /// Registers an account on `service` and returns its session.
    /// Registers an account that then confirms its address from the mail, as its owner would.
    pub async fn register(&self, service: &str, email: &str, name: &str) -> (Auth, String) {
        let registered = self.register_unverified(service, email, name).await;
        let kind = ServiceKind::ALL
            .into_iter()
            .find(|k| k.name() == service)
            .expect("a service");
        self.follow_verification(kind, &email.trim().to_lowercase())
            .await;
        registered
    }

    /// What `email` received from `kind`, newest first: (kind, subject, text).
    pub async fn mailbox(&self, kind: ServiceKind, email: &str) -> Vec<(String, String, String)> {
        carnet_service::mail::messages_to(self.ctx(kind), email)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.kind, m.subject, m.text_body))
            .collect()
    }

    /// The secret of the latest verification link mailed to `email` by `kind`.
    pub async fn verification_link(&self, kind: ServiceKind, email: &str) -> String {
        let mail = self.mailbox(kind, email).await;
        let (_, _, text) = mail
            .iter()
            .find(|(k, ..)| k == "verification")
            .expect("a verification mail");
        carnet_service::addresses::link_in(text, self.ctx(kind)).expect("a link in it")
    }

    /// The 6-digit code of the latest verification mail to `email` from `kind`.
    pub async fn verification_code(&self, kind: ServiceKind, email: &str) -> String {
        let mail = self.mailbox(kind, email).await;
        let (_, _, text) = mail
            .iter()
            .find(|(k, ..)| k == "verification")
            .expect("a verification mail");
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a code in it")
            .to_owned()
    }

    /// Follows the verification link mailed to `email`, as its owner would.
    pub async fn follow_verification(&self, kind: ServiceKind, email: &str) {
        let token = self.verification_link(kind, email).await;
        let r = self
            .call(
                Method::POST,
                &format!("/{}/api/v1/verifications/{token}", kind.name()),
                &Auth::None,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// Registers without confirming the address.
    pub async fn register_unverified(
        &self,
        service: &str,
        email: &str,
        name: &str,
    ) -> (Auth, String) {
        let r = self
            .call(
                Method::POST,
                &format!("/{service}/api/v1/accounts"),
                &Auth::None,
                Some(json!({"email": email, "password": PASSWORD, "display_name": name})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        (
            session_of(&r),
            r.body["account"]["id"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn login(&self, service: &str, email: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            &format!("/{service}/api/v1/session"),
            &Auth::None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Makes an existing account platform administrator (as `carnet admin` would).
    pub async fn make_platform_admin(&self, kind: ServiceKind, account_id: &str) {
        sqlx::query("UPDATE accounts SET platform_admin = 1 WHERE id = $1")
            .bind(account_id)
            .execute(self.ctx(kind).db.pool())
            .await
            .unwrap();
    }

    /// What is stored for `kind`, as an attacker with the database would read it: on SQLite
    /// the database file and its write-ahead log, byte for byte; on PostgreSQL every row of
    /// `tables` as text (byte columns in hex, so look for the hex of a value too).
    pub async fn raw_contents(&self, kind: ServiceKind, tables: &[&str]) -> String {
        let index = ServiceKind::ALL.iter().position(|k| *k == kind).unwrap();
        let db = &self._dbs[index];
        match self.engine {
            Engine::Sqlite => {
                let path = db.dir().join("test.db");
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Engine::Postgres => {
                let mut out = String::new();
                for table in tables {
                    let rows: Vec<(String,)> =
                        sqlx::query_as(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                            .fetch_all(self.ctx(kind).db.pool())
                            .await
                            .unwrap();
                    for (row,) in rows {
                        out.push_str(&row);
                        out.push('\n');
                    }
                }
                out
            }
        }
    }

    /// Every row of every table of a service's database, as text: to check nothing changed.
    pub async fn dump(&self, kind: ServiceKind) -> Vec<String> {
        let pool = self.ctx(kind).db.pool();
        let mut out = Vec::new();
        let mut tables = vec![
            "accounts",
            "sessions",
            "api_tokens",
            "tenants",
            "tenant_members",
            "audit_log",
            "jobs",
            "idempotency_keys",
        ];
        if kind == ServiceKind::Issuer {
            tables.extend([
                "issuer_keys",
                "level_scales",
                "competencies",
                "training_sessions",
                "session_members",
                "evaluations",
                "credential_offers",
                "credentials",
                "trainee_identities",
                "resources",
                "courses",
                "formations",
                "invitations",
            ]);
        }
        if kind == ServiceKind::Wallet {
            tables.extend([
                "holder_keyrings",
                "session_keys",
                "holder_keys",
                "wallet_credentials",
                "directory_publications",
            ]);
        }
        if kind == ServiceKind::Verifier {
            tables.extend([
                "trusted_issuers",
                "vp_requests",
                "profiles",
                "profile_competencies",
                "offer_documents",
                "offers",
                "offer_recipients",
                "disclosures",
                "chats",
                "chat_messages",
            ]);
        }
        for table in tables {
            let rows: Vec<(String,)> =
                sqlx::query_as(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            out.push(format!("{table}: {}", rows[0].0));
        }
        let accounts: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, email, display_name, password_hash FROM accounts ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        out.extend(accounts.into_iter().map(|a| format!("{a:?}")));
        let tenants: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT id, name, siret, address FROM tenants ORDER BY id")
                .fetch_all(pool)
                .await
                .unwrap();
        out.extend(tenants.into_iter().map(|t| format!("{t:?}")));
        out
    }
}

/// The session of a sign-in or registration reply.
pub fn session_of(reply: &Reply) -> Auth {
    let set_cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("Set-Cookie");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Auth::Session {
        cookie,
        csrf: reply.body["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_owned(),
    }
}

impl TestApp {
    /// A visitor's form token for `service`'s pages nobody is signed in on, as a browser gets
    /// it by opening the portal: the cookie (`name=value`) and the value of the forms' `csrf`
    /// field.
    pub async fn visitor(&self, service: &str) -> (String, String) {
        let r = self
            .send(
                Method::GET,
                &format!("/{service}"),
                &Auth::None,
                None,
                None,
                &[],
            )
            .await;
        let cookie = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("carnet_{service}_form=")))
            .and_then(|v| v.split(';').next())
            .expect("a form token cookie")
            .to_owned();
        let token = cookie.split_once('=').unwrap().1.to_owned();
        let page = String::from_utf8_lossy(&r.raw);
        assert!(
            page.contains(&format!("name=\"csrf\" value=\"{token}\"")),
            "{page}"
        );
        (cookie, token)
    }
}

impl TestApp {
    /// A second instance of the three services over the same databases (its own connections,
    /// its own live-update bus), as behind a load balancer: what one instance writes, the other
    /// reads and is woken by (LISTEN/NOTIFY on PostgreSQL).
    pub async fn another_instance(&self) -> Router {
        let mut services = Vec::new();
        for (service, test_db) in self.services.iter().zip(&self._dbs) {
            let db = Db::connect(&test_db.url).await.unwrap();
            let ctx = Ctx {
                bus: carnet_service::bus::Bus::new(&db),
                db,
                ..service.ctx.clone()
            };
            services.push(server::build(service.kind, ctx));
        }
        server::router(&services, &self.settings)
    }

    /// The three services as `settings` place them (a service at the host root, an https
    /// public URL…), over fresh databases.
    pub async fn with_settings(engine: Engine, settings: ServerArgs) -> TestApp {
        TestApp::from_args(engine, settings).await
    }
}

/// A form post (`application/x-www-form-urlencoded`) with the browser's cookie, as a page's
/// form sends it.
pub async fn post_form(app: &TestApp, path: &str, body: &str, cookie: &str) -> Reply {
    let mut extra = Vec::new();
    if !cookie.is_empty() {
        extra.push(("cookie", cookie));
    }
    app.send(
        Method::POST,
        path,
        &Auth::None,
        Some(body.as_bytes()),
        Some("application/x-www-form-urlencoded"),
        &extra,
    )
    .await
}

/// A page as a signed-in browser opens it: the session cookie only (no CSRF header, no API
/// media type).
pub async fn open_page(app: &TestApp, path: &str, who: &Auth) -> Reply {
    let mut extra = vec![("accept", "text/html")];
    if let Auth::Session { cookie, .. } = who {
        extra.push(("cookie", cookie.as_str()));
    }
    app.send(Method::GET, path, &Auth::None, None, None, &extra)
        .await
}

/// The session cookie of a signed-in test account (`name=value`).
pub fn cookie(who: &Auth) -> &str {
    match who {
        Auth::Session { cookie, .. } => cookie,
        _ => panic!("a signed-in account"),
    }
}

/// A reply's body as the page's text.
pub fn html(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.raw).into_owned()
}

/// The first cookie a reply sets (`name=value`).
pub fn cookie_of(reply: &Reply) -> String {
    reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The cookie a reply sets that starts with `start` (`carnet_issuer_flash=`), as `name=value`.
pub fn cookie_set(reply: &Reply, start: &str) -> String {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(start))
        .unwrap_or_else(|| panic!("no cookie {start}…"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The value of the hidden `csrf` field of a page's form.
pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

/// The value of the first `name="…"` attribute of a page, as a browser reads it (entities
/// decoded).
pub fn attribute_of(page: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[at..at + page[at..].find('"').unwrap()]
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x3d;", "=")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A server-sent event stream opened as a page's script opens it: a GET of `path` with the
/// session's cookie.
pub async fn open_stream(router: &Router, path: &str, auth: &Auth) -> Body {
    let mut request = Request::builder().uri(path);
    if let Auth::Session { cookie, .. } = auth {
        request = request.header(header::COOKIE, cookie.as_str());
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.into_body()
}

/// The next event of a stream that carries data (keep-alive comments skipped), as its text.
pub async fn next_event(body: &mut Body) -> String {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .expect("the stream goes on")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            let text = String::from_utf8(data.to_vec()).unwrap();
            if text.contains("data:") {
                return text;
            }
        }
    }
}
