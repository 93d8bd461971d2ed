//! The service foundation under attack, over HTTP through the whole stack: what the
//! `Idempotency-Key` cache keeps (nothing in clear, nothing for another caller), the pages'
//! bridge to the API (`/do/`) carrying the service's hooks (a wallet's store rewrapped when the
//! password changes through a page), API tokens ending with the password, redirect targets
//! that stay on the service (with a prefix and at the host root), and HSTS over https.

mod common;

use axum::http::{Method, StatusCode, header};
use carnet::config::ServerArgs;
use carnet_service::ServiceKind;
use common::*;
use serde_json::{Value, json};

/// `text` as PostgreSQL shows it in a byte column (hex).
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Whether the raw database of `kind` holds `secret`, in clear or as the hex of a byte column.
async fn stored(app: &TestApp, kind: ServiceKind, tables: &[&str], secret: &str) -> bool {
    let raw = app.raw_contents(kind, tables).await;
    raw.contains(secret) || raw.contains(&hex(secret))
}

/// The bodies kept in the idempotency cache of `kind`, as bytes.
async fn cached_bodies(app: &TestApp, kind: ServiceKind) -> Vec<Vec<u8>> {
    let rows: Vec<(Option<Vec<u8>>,)> = sqlx::query_as("SELECT body FROM idempotency_keys")
        .fetch_all(app.ctx(kind).db.pool())
        .await
        .unwrap();
    rows.into_iter().filter_map(|(b,)| b).collect()
}

fn holds(bodies: &[Vec<u8>], secret: &str) -> bool {
    bodies
        .iter()
        .any(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
}

async fn post_keyed(app: &TestApp, path: &str, auth: &Auth, body: Value, key: &str) -> Reply {
    app.send(
        Method::POST,
        path,
        auth,
        Some(body.to_string().as_bytes()),
        Some("application/json"),
        &[("idempotency-key", key)],
    )
    .await
}

fn location(reply: &Reply) -> String {
    reply
        .headers
        .get(header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

fn cookie_and_csrf(auth: &Auth) -> (String, String) {
    match auth {
        Auth::Session { cookie, csrf } => (cookie.clone(), csrf.clone()),
        _ => panic!("a session"),
    }
}

// --- 1. The idempotency cache ------------------------------------------------------------------

#[tokio::test]
async fn the_idempotency_cache_keeps_no_secret_in_clear() {
    each_engine(|app| async move {
        // A wallet's registration: its recovery code and CSRF token are not kept.
        let r = post_keyed(
            &app,
            "/wallet/api/v1/accounts",
            &Auth::None,
            json!({"email": "camille@example.org", "password": PASSWORD, "display_name": "Camille"}),
            "reg-1",
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let code = r.body["recovery_code"].as_str().unwrap().to_owned();
        let csrf = r.body["csrf_token"].as_str().unwrap().to_owned();
        assert!(!stored(&app, ServiceKind::Wallet, &["idempotency_keys"], &code).await);
        // (The CSRF token is a session's column; the cache holds nothing of this.)
        assert!(!holds(&cached_bodies(&app, ServiceKind::Wallet).await, &csrf));

        // An API token's secret is in its one response only: not kept, not replayed.
        let (admin, _) = app
            .register("issuer", "direction@centre.example", "Nathalie")
            .await;
        let r = post_keyed(
            &app,
            "/issuer/api/v1/tokens",
            &admin,
            json!({"name": "ci"}),
            "tok-1",
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let token = r.body["token"].as_str().unwrap().to_owned();
        let tables = ["idempotency_keys", "api_tokens", "audit_log"];
        assert!(!stored(&app, ServiceKind::Issuer, &tables, &token).await);
        let again = post_keyed(
            &app,
            "/issuer/api/v1/tokens",
            &admin,
            json!({"name": "ci"}),
            "tok-1",
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(!html(&again).contains(&token));
        let listed = app
            .call(Method::GET, "/issuer/api/v1/tokens", &admin, None)
            .await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1, "not made twice");

        // An invitation's token and a calendar feed's are kept sealed, and replayed to their
        // caller only.
        let org = app
            .call(
                Method::POST,
                "/issuer/api/v1/organisations",
                &admin,
                Some(json!({"name": "Centre A", "siret": "45218903800014"})),
            )
            .await;
        let org = org.body["id"].as_str().unwrap().to_owned();
        let invite = |key: &'static str| {
            let path = format!("/issuer/api/v1/organisations/{org}/invitations");
            let admin = admin.clone();
            let app = &app;
            async move {
                post_keyed(
                    app,
                    &path,
                    &admin,
                    json!({"email": "julien@centre.example", "role": "trainer"}),
                    key,
                )
                .await
            }
        };
        let first = invite("inv-1").await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let invitation = first.body["token"].as_str().unwrap().to_owned();
        let feed = post_keyed(
            &app,
            "/issuer/api/v1/calendar-feed",
            &admin,
            json!(null),
            "feed-1",
        )
        .await;
        assert_eq!(feed.status, StatusCode::CREATED, "{}", feed.body);
        let feed_token = feed.body["url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let bodies = cached_bodies(&app, ServiceKind::Issuer).await;
        assert!(!bodies.is_empty(), "kept, sealed");
        for secret in [&invitation, &feed_token] {
            assert!(!holds(&bodies, secret), "{secret} kept in clear");
            assert!(!stored(&app, ServiceKind::Issuer, &tables, secret).await);
        }
        let replayed = invite("inv-1").await;
        assert_eq!(replayed.status, StatusCode::CREATED);
        assert_eq!(replayed.headers["idempotent-replayed"], "true");
        assert_eq!(replayed.body, first.body);
        // The caller's other cookies do not change whose key it is.
        let (cookie, csrf) = cookie_and_csrf(&admin);
        let with_lang = app
            .send(
                Method::POST,
                &format!("/issuer/api/v1/organisations/{org}/invitations"),
                &Auth::None,
                Some(
                    json!({"email": "julien@centre.example", "role": "trainer"})
                        .to_string()
                        .as_bytes(),
                ),
                Some("application/json"),
                &[
                    ("cookie", &format!("carnet_lang=en; {cookie}")),
                    ("x-csrf-token", &csrf),
                    ("idempotency-key", "inv-1"),
                ],
            )
            .await;
        assert_eq!(with_lang.body, first.body);
    })
    .await;
}

#[tokio::test]
async fn callers_without_credentials_share_no_idempotency_scope() {
    each_engine(|app| async move {
        // Any wallet may ask the verifier for a publication request, without an account: the
        // same key from someone else is not the first caller's request (its nonce) again.
        let ask = || {
            post_keyed(
                &app,
                "/verifier/api/v1/directory/requests",
                &Auth::None,
                json!(null),
                "pub-1",
            )
        };
        let first = ask().await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let second = ask().await;
        assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
        assert!(second.headers.get("idempotent-replayed").is_none());
        assert_ne!(second.body["request"], first.body["request"]);
        // A session's key is not another session's.
        let (ida, _) = app.register("issuer", "ida@example.org", "Ida").await;
        let (eve, _) = app.register("issuer", "eve@example.org", "Eve").await;
        let body = json!({"name": "Centre A", "siret": "45218903800014"});
        let a = post_keyed(
            &app,
            "/issuer/api/v1/organisations",
            &ida,
            body.clone(),
            "k",
        )
        .await;
        let e = post_keyed(&app, "/issuer/api/v1/organisations", &eve, body, "k").await;
        assert_eq!(e.status, StatusCode::CREATED, "{}", e.body);
        assert_ne!(a.body["id"], e.body["id"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_keeps_no_credential_for_replay() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        let c = centre(&app).await;
        let evaluated = c.evaluate(&app, json!("argent")).await;
        let link = evaluated["offer"]["offer_link"].as_str().unwrap();
        let pin = evaluated["offer"]["tx_code"].as_str().unwrap();
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/accounts",
                &Auth::None,
                Some(json!({"email": "camille@example.org", "password": PASSWORD, "display_name": "Camille"})),
            )
            .await;
        let holder = session_of(&r);
        let receive = json!({"offer": link, "tx_code": pin});
        let r = post_keyed(
            &app,
            "/wallet/api/v1/credentials/receive",
            &holder,
            receive.clone(),
            "rcv-1",
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let sd_jwt = r.body[0]["sd_jwt"].as_str().unwrap().to_owned();
        // The issuer-signed JWT, and a disclosure.
        let parts: Vec<&str> = sd_jwt.split('~').collect();
        for part in [parts[0], parts[1]] {
            assert!(
                !stored(&app, ServiceKind::Wallet, &["idempotency_keys"], part).await,
                "{part} kept"
            );
        }
        assert!(cached_bodies(&app, ServiceKind::Wallet).await.is_empty());
        let again = post_keyed(
            &app,
            "/wallet/api/v1/credentials/receive",
            &holder,
            receive,
            "rcv-1",
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(!html(&again).contains(parts[0]));
    }
}

// --- 2. The pages' bridge to the API ---------------------------------------------------------

#[tokio::test]
async fn signing_up_through_the_bridge_shows_the_recovery_code() {
    each_engine(|app| async move {
        // Signing up through the bridge makes the store, and shows its recovery code once.
        let (visitor, token) = app.visitor("wallet").await;
        let r = post_form(
            &app,
            "/wallet/do/api/v1/accounts",
            &format!("_next=%2F&email=camille%40example.org&password=correct+horse+battery&display_name=Camille&csrf={token}"),
            &visitor,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        let page = html(&r);
        assert!(page.contains("Code de secours"), "{page}");
        let cookie = cookie_of(&r);
        let opened = app
            .send(
                Method::GET,
                "/wallet/api/v1/credentials",
                &Auth::None,
                None,
                None,
                &[("cookie", &cookie)],
            )
            .await;
        assert_eq!(opened.status, StatusCode::OK, "the store opens: {}", opened.body);
    })
    .await;
}

#[tokio::test]
async fn a_password_changed_through_a_page_rewraps_the_wallet() {
    each_engine(|app| async move {
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/accounts",
                &Auth::None,
                Some(json!({"email": "camille@example.org", "password": PASSWORD, "display_name": "Camille"})),
            )
            .await;
        let (cookie, _) = cookie_and_csrf(&session_of(&r));
        // The password changed through the page's form rewraps the store.
        let home = app
            .send(Method::GET, "/wallet", &Auth::None, None, None, &[("cookie", &cookie)])
            .await;
        let csrf = csrf_of(&html(&home));
        let r = post_form(
            &app,
            "/wallet/do/api/v1/me/password",
            &format!(
                "csrf={csrf}&_method=PUT&_next=%2Faccount&current_password=correct+horse+battery&new_password=un+nouveau+mot+de+passe"
            ),
            &cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        assert_eq!(location(&r), "/wallet/account");
        let r = app
            .login("wallet", "camille@example.org", "un nouveau mot de passe")
            .await;
        assert_eq!(r.status, StatusCode::OK, "the new password: {}", r.body);
        let session = session_of(&r);
        let listed = app
            .call(Method::GET, "/wallet/api/v1/credentials", &session, None)
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let r = app
            .login("wallet", "camille@example.org", "correct horse battery")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the old password: {}", r.body);
    })
    .await;
}

// --- 3. API tokens ---------------------------------------------------------------------------

#[tokio::test]
async fn a_new_password_revokes_tokens_and_tokens_make_no_tokens() {
    each_engine(|app| async move {
        let (first, id) = app.register("issuer", "ida@example.org", "Ida").await;
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/tokens",
                &first,
                Some(json!({"name": "ci"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let bearer = Auth::Bearer(r.body["token"].as_str().unwrap().to_owned());
        // A token cannot mint another.
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/tokens",
                &bearer,
                Some(json!({"name": "more"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let second = session_of(&app.login("issuer", "ida@example.org", PASSWORD).await);
        // The password changes: the token and the other session end, this one stays.
        let r = app
            .call(
                Method::PUT,
                "/issuer/api/v1/me/password",
                &first,
                Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        for (who, auth, status) in [
            ("token", &bearer, StatusCode::UNAUTHORIZED),
            ("other session", &second, StatusCode::UNAUTHORIZED),
            ("this session", &first, StatusCode::OK),
        ] {
            let r = app.call(Method::GET, "/issuer/api/v1/me", auth, None).await;
            assert_eq!(r.status, status, "{who}");
        }
        let audited: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM audit_log WHERE action = 'account.credentials_revoked' AND target = $1",
        )
        .bind(&id)
        .fetch_all(app.ctx(ServiceKind::Issuer).db.pool())
        .await
        .unwrap();
        assert_eq!(audited.len(), 1);
        let details: Value = serde_json::from_str(&audited[0].0).unwrap();
        assert_eq!(details, json!({"sessions": 1, "tokens": 1}));

        // A wallet's recovery revokes them too.
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/accounts",
                &Auth::None,
                Some(json!({"email": "camille@example.org", "password": PASSWORD, "display_name": "Camille"})),
            )
            .await;
        let code = r.body["recovery_code"].as_str().unwrap().to_owned();
        let holder = session_of(&r);
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/tokens",
                &holder,
                Some(json!({"name": "script"})),
            )
            .await;
        let bearer = Auth::Bearer(r.body["token"].as_str().unwrap().to_owned());
        let r = app.call(Method::GET, "/wallet/api/v1/me", &bearer, None).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/recovery",
                &Auth::None,
                Some(json!({"email": "camille@example.org", "recovery_code": code, "new_password": "un nouveau mot de passe"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app.call(Method::GET, "/wallet/api/v1/me", &bearer, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the token after recovery");
    })
    .await;
}

// --- 4. Redirects ------------------------------------------------------------------------------

/// `_next` values that a browser would read as another host, or that are not a path.
const ELSEWHERE: &[&str] = &[
    "%2F%09%2Fevil.example",
    "%2F%0A%2Fevil.example",
    "%2F%0D%2Fevil.example",
    "%2F%2Fevil.example",
    "%2F%5Cevil.example",
    "%2F%5C%2Fevil.example",
    "%09%2F%2Fevil.example",
    "https%3A%2F%2Fevil.example",
];

/// A form's API call (an API token made) with these `_next` and `Referer`, and where it leads.
async fn lands(app: &TestApp, base: &str, session: &Auth, next: &str, referer: &str) -> String {
    let (cookie, csrf) = cookie_and_csrf(session);
    let mut extra = vec![("cookie", cookie.as_str())];
    if !referer.is_empty() {
        extra.push(("referer", referer));
    }
    let body = format!("csrf={csrf}&name=t&_next={next}");
    let r = app
        .send(
            Method::POST,
            &format!("{base}/do/api/v1/tokens"),
            &Auth::None,
            Some(body.as_bytes()),
            Some("application/x-www-form-urlencoded"),
            &extra,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    location(&r)
}

#[tokio::test]
async fn redirects_stay_on_a_prefixed_service() {
    each_engine(|app| async move {
        let (session, _) = app.register("issuer", "ida@example.org", "Ida").await;
        assert_eq!(
            lands(&app, "/issuer", &session, "%2Forgs", "").await,
            "/issuer/orgs"
        );
        for next in ELSEWHERE {
            assert_eq!(
                lands(&app, "/issuer", &session, next, "").await,
                "/issuer",
                "{next}"
            );
        }
        // The page a form came from, when it is one of the service's.
        let from = "http://carnet.test/issuer/orgs/x";
        assert_eq!(
            lands(&app, "/issuer", &session, "", from).await,
            "/issuer/orgs/x"
        );
        for referer in [
            "http://evil.example/",
            "http://carnet.test/wallet/",
            "http://carnet.test/issuerevil",
        ] {
            assert_eq!(
                lands(&app, "/issuer", &session, "", referer).await,
                "/issuer"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn redirects_stay_on_a_service_at_the_root() {
    for engine in engines() {
        let app = TestApp::with_settings(
            engine,
            ServerArgs {
                public_url: Some("http://carnet.test".into()),
                issuer_url: Some("http://carnet.test".into()),
                ..ServerArgs::default()
            },
        )
        .await;
        let r = app
            .call(
                Method::POST,
                "/api/v1/accounts",
                &Auth::None,
                Some(json!({"email": "ida@example.org", "password": PASSWORD, "display_name": "Ida"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let session = session_of(&r);
        assert_eq!(lands(&app, "", &session, "%2Forgs", "").await, "/orgs");
        for next in ELSEWHERE {
            assert_eq!(lands(&app, "", &session, next, "").await, "/", "{next}");
        }
        for referer in [
            "http://carnet.test/\\evil.example",
            "http://carnet.test//evil.example",
        ] {
            assert_eq!(
                lands(&app, "", &session, "", referer).await,
                "/",
                "{referer}"
            );
        }
        // The sign-in page keeps `next` (where signing in leads) only when it is a page here.
        for (next, kept) in [
            ("%2Forgs", Some("/orgs")),
            ("%2F%09%2Fevil.example", None),
            ("%2F%5Cevil.example", None),
            ("%2F%2Fevil.example", None),
        ] {
            let r = app
                .call(Method::GET, &format!("/?next={next}"), &Auth::None, None)
                .await;
            assert_eq!(r.status, StatusCode::OK);
            let page = html(&r);
            match kept {
                Some(path) => assert!(
                    page.contains(&format!("name=\"next\" value=\"{path}\"")),
                    "{page}"
                ),
                None => assert!(
                    !page.contains("name=\"next\"") && !page.contains("evil"),
                    "{page}"
                ),
            }
        }
    }
}

// --- 5. Headers ------------------------------------------------------------------------------

#[tokio::test]
async fn https_services_ask_for_https_only() {
    let engine = engines()[0];
    let app = TestApp::with_settings(
        engine,
        ServerArgs {
            public_url: Some("https://carnet.test".into()),
            ..ServerArgs::default()
        },
    )
    .await;
    for path in ["/issuer/ready", "/wallet", "/verifier/api/v1/me"] {
        let r = app.call(Method::GET, path, &Auth::None, None).await;
        assert_eq!(
            r.headers
                .get(header::STRICT_TRANSPORT_SECURITY)
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    // Not on plain HTTP (a local set-up).
    let app = TestApp::new(engine).await;
    let r = app
        .call(Method::GET, "/issuer/ready", &Auth::None, None)
        .await;
    assert!(r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
}
