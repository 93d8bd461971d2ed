//! Attacks of the outside security review on the shared mechanisms, each performed over HTTP
//! against the running services: outbound requests to private addresses (SSRF), login CSRF,
//! sign-in throttling that a stranger cannot turn into a lock-out, rate limits on
//! state-changing requests, uploads read before the sign-in check.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;

/// A server on another loopback port that counts the requests it gets: what an attacker
/// would like the services to reach (an internal admin page, a cloud metadata service).
async fn internal_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({"secret": "internal"}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("127.0.0.1:{port}"), hits)
}

fn offer_by_reference(uri: &str) -> String {
    format!(
        "openid-credential-offer://?credential_offer_uri={}",
        carnet_core::oid4vci::percent_encode(uri)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_requests_never_reach_private_addresses() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        let (internal, hits) = internal_server().await;
        let port = internal.rsplit_once(':').unwrap().1.to_owned();
        let (holder, _) = app
            .register("wallet", "camille@example.org", "Camille")
            .await;
        let receive = |offer: String| {
            let holder = holder.clone();
            let app = &app;
            async move {
                app.call(
                    Method::POST,
                    "/wallet/api/v1/credentials/receive",
                    &holder,
                    Some(json!({"offer": offer, "tx_code": "123456"})),
                )
                .await
            }
        };
        // Loopback, by address and by name (a name is judged when it is resolved, so a DNS
        // answer that changes after a check changes nothing), IPv6 loopback, link-local (cloud
        // metadata), private, unique-local and mapped addresses: refused before any connection.
        let targets = [
            format!("http://{internal}/offer"),
            format!("http://localhost:{port}/offer"),
            format!("http://LocalHost:{port}/offer"),
            format!("http://[::1]:{port}/offer"),
            format!("http://[::ffff:127.0.0.1]:{port}/offer"),
            format!("http://0.0.0.0:{port}/offer"),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://10.1.2.3/offer".to_owned(),
            "http://192.168.1.1/offer".to_owned(),
            "http://[fd00::1]/offer".to_owned(),
            "http://2130706433/offer".to_owned(),
        ];
        for target in &targets {
            let r = receive(offer_by_reference(target)).await;
            assert!(
                r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_GATEWAY,
                "{target}: {} {}",
                r.status,
                r.body
            );
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("may not be reached"), "{target}: {detail}");
        }
        // The platform's own URL is reachable (the wallet fetching the issuer beside it): the
        // issuer answers that this offer does not exist, in our words, without its status.
        let own = app
            .ctx(carnet_service::ServiceKind::Issuer)
            .config
            .public_url
            .clone();
        let r = receive(offer_by_reference(&format!("{own}/offers/nothing-here"))).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            !detail.contains("404") && !detail.contains("status"),
            "{detail}"
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the internal server was reached"
        );

        // The verifier's platform administrator cannot make it fetch an internal address as
        // an issuer's metadata either.
        let (admin, admin_id) = app
            .register("verifier", "admin@plateforme.example", "Admin")
            .await;
        app.make_platform_admin(carnet_service::ServiceKind::Verifier, &admin_id)
            .await;
        let r = app
            .call(
                Method::POST,
                "/verifier/api/v1/trusted-issuers",
                &admin,
                Some(json!({"issuer": format!("http://localhost:{port}/orgs/x"), "name": "X"})),
            )
            .await;
        assert!(
            r.status.is_client_error() || r.status == StatusCode::BAD_GATEWAY,
            "{}",
            r.body
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the internal server was reached"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_operator_allows_is_reached() {
    let (internal, hits) = internal_server().await;
    let app = TestApp::listening_allowing(engines()[0], Some(&internal)).await;
    let (holder, _) = app
        .register("wallet", "camille@example.org", "Camille")
        .await;
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            &holder,
            Some(json!({"offer": offer_by_reference(&format!("http://{internal}/offer"))})),
        )
        .await;
    // Reached: what it answered is not an offer.
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // The same host at another port is not.
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            &holder,
            Some(json!({"offer": offer_by_reference("http://127.0.0.1:9/offer")})),
        )
        .await;
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("may not be reached"),
        "{}",
        r.body
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A request as a browser sends a form: urlencoded, with cookies and headers.
async fn form(app: &TestApp, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    app.send(
        Method::POST,
        path,
        &Auth::None,
        Some(body.as_bytes()),
        Some("application/x-www-form-urlencoded"),
        headers,
    )
    .await
}

fn session_set(reply: &Reply) -> bool {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.contains("_session=") && !c.contains("Max-Age=0"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_site_cannot_sign_a_visitor_in() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        app.register("wallet", "mallory@example.org", "Mallory")
            .await;
        let credentials = format!(
            "email=mallory%40example.org&password={}",
            PASSWORD.replace(' ', "+")
        );
        let (visitor, token) = app.visitor("wallet").await;
        let with_token = format!("{credentials}&csrf={token}");
        let cookie = [("cookie", visitor.as_str())];

        // A cross-site form (the attacker's page posting the attacker's credentials): refused
        // by its Origin, by Sec-Fetch-Site, or for want of the visitor's form token.
        for (body, headers) in [
            (
                with_token.as_str(),
                vec![
                    ("cookie", visitor.as_str()),
                    ("origin", "https://evil.example"),
                ],
            ),
            (
                with_token.as_str(),
                vec![
                    ("cookie", visitor.as_str()),
                    ("sec-fetch-site", "cross-site"),
                ],
            ),
            (with_token.as_str(), vec![("origin", "null")]),
            (credentials.as_str(), vec![]),
            (credentials.as_str(), cookie.to_vec()),
            (with_token.as_str(), vec![]),
        ] {
            for path in ["/wallet/sign-in", "/wallet/do/api/v1/session"] {
                let r = form(&app, path, body, &headers).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {headers:?}");
                assert!(!session_set(&r), "{path} {headers:?}: signed in");
                let page = String::from_utf8_lossy(&r.raw);
                assert!(page.contains("<html"), "a page, not JSON: {page}");
            }
        }
        let r = form(
            &app,
            "/wallet/sign-up",
            "display_name=X&email=x%40example.org&password=correct+horse+battery",
            &[("origin", "https://evil.example")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!session_set(&r));
        let r = form(
            &app,
            "/wallet/do/api/v1/recovery",
            "email=mallory%40example.org&recovery_code=X&new_password=correct+horse+battery",
            &cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The visitor's own page signs in, from the same origin.
        let r = form(
            &app,
            "/wallet/sign-in",
            &with_token,
            &[
                ("cookie", visitor.as_str()),
                ("origin", "http://carnet.test"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}",
            String::from_utf8_lossy(&r.raw)
        );
        assert!(session_set(&r));
    }
}

/// A request from a client address, as the server sees it over TCP.
async fn from(app: &TestApp, client: &str, method: Method, path: &str, body: Value) -> Reply {
    let peer: SocketAddr = format!("{client}:40000").parse().unwrap();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(peer))
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let raw = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_slows_an_account_down_but_cannot_lock_it() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        app.register("issuer", "alice@centre.example", "Alice")
            .await;
        let attempt = |client: &'static str, password: &'static str| {
            let app = &app;
            async move {
                from(
                    app,
                    client,
                    Method::POST,
                    "/issuer/api/v1/session",
                    json!({"email": "alice@centre.example", "password": password}),
                )
                .await
            }
        };
        // Five wrong guesses from the attacker's address: that address must wait.
        for _ in 0..5 {
            assert_eq!(
                attempt("198.51.100.66", "wrong guess!").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let r = attempt("198.51.100.66", PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        // Alice, from her own address, is not locked out.
        assert_eq!(
            attempt("203.0.113.5", PASSWORD).await.status,
            StatusCode::OK
        );

        // Guesses spread over many addresses (five so far, fifteen more): from twenty on,
        // every attempt on the account waits a few seconds after the last failure (a delay,
        // never a lock).
        const SPREAD: [&str; 15] = [
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.4",
            "198.51.100.5",
            "198.51.100.6",
            "198.51.100.7",
            "198.51.100.8",
            "198.51.100.9",
            "198.51.100.10",
            "198.51.100.11",
            "198.51.100.12",
            "198.51.100.13",
            "198.51.100.14",
            "198.51.100.15",
        ];
        for client in SPREAD {
            assert_eq!(
                attempt(client, "wrong guess!").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let r = attempt("198.51.100.99", "wrong guess!").await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "a new address waits too"
        );
        let r = attempt("203.0.113.5", PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        let wait: i64 = r.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        app.clock.advance_secs(wait);
        assert_eq!(
            attempt("203.0.113.5", PASSWORD).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_recovery_codes_do_not_hold_sign_in_back() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        app.register("wallet", "camille@example.org", "Camille")
            .await;
        for _ in 0..6 {
            let r = from(
                &app,
                "198.51.100.66",
                Method::POST,
                "/wallet/api/v1/recovery",
                json!({"email": "camille@example.org", "recovery_code": "AAAA-BBBB-CCCC-DDDD-EEEE",
                       "new_password": "a brand new password"}),
            )
            .await;
            assert!(
                r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::TOO_MANY_REQUESTS,
                "{}",
                r.body
            );
        }
        let r = from(
            &app,
            "198.51.100.66",
            Method::POST,
            "/wallet/api/v1/session",
            json!({"email": "camille@example.org", "password": PASSWORD}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_writes_are_rate_limited_per_address() {
    // 60 writes a minute: bursts of 20, then one a second.
    let args = carnet::config::ServerArgs {
        rate_limit: Some(60),
        ..Default::default()
    };
    let app = TestApp::listening_with(engines()[0], args).await;
    let started = std::time::Instant::now();
    let url = format!(
        "{}/api/v1/directory/requests",
        app.ctx(carnet_service::ServiceKind::Verifier)
            .config
            .public_url
    );
    let http = reqwest::Client::new();
    let mut created = 0;
    let mut limited = None;
    for _ in 0..100 {
        let r = http.post(&url).json(&json!({})).send().await.unwrap();
        match r.status().as_u16() {
            429 => {
                limited = Some(r);
                break;
            }
            s if s < 300 => created += 1,
            s => panic!("{s}: {}", r.text().await.unwrap()),
        }
    }
    let limited = limited.expect("100 anonymous writes from one address in a row all passed");
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        limited.headers()["content-type"],
        "application/problem+json"
    );
    // The burst, and one a second after it.
    let allowed = 20 + started.elapsed().as_secs() as i64 + 1;
    assert!(
        created <= allowed,
        "{created} rows before the limit ({allowed} allowed)"
    );
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM vp_requests")
        .fetch_one(app.ctx(carnet_service::ServiceKind::Verifier).db.pool())
        .await
        .unwrap();
    assert_eq!(rows, created);
    // Reads are not limited.
    let ready = format!(
        "{}/ready",
        app.ctx(carnet_service::ServiceKind::Verifier)
            .config
            .public_url
    );
    assert_eq!(http.get(&ready).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_not_read_before_the_sign_in_check() {
    let app = TestApp::new(engines()[0]).await;
    // A body that never ends: a handler that read it before checking the session would wait
    // for ever (and in real life hold 20 MiB per request).
    for path in [
        "/issuer/orgs/org_x/resources/upload",
        "/verifier/companies/cmp_x/offers",
        "/wallet/receive/photo",
        "/wallet/restore",
    ] {
        let endless = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"--x\r\n"))
        })
        .chain(futures_util::stream::pending());
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
            .body(Body::from_stream(endless))
            .unwrap();
        let response =
            tokio::time::timeout(Duration::from_secs(5), app.router.clone().oneshot(request))
                .await
                .unwrap_or_else(|_| panic!("{path}: the body was read before the sign-in check"))
                .unwrap();
        assert!(
            response.status().is_redirection() || response.status().is_client_error(),
            "{path}: {}",
            response.status()
        );
    }
}
