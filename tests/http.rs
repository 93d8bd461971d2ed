//! HTTP conventions: idempotency keys, cursor pagination, the OpenAPI document and its page,
//! security headers and request ids, readiness, problem+json fallbacks, the landing page.

mod common;

use axum::http::{Method, StatusCode, header};
use carnet_service::ServiceKind;
use common::*;
use serde_json::json;

#[tokio::test]
async fn idempotency_key_replays_the_first_response() {
    each_engine(|app| async move {
        let (session, _) = app.register("issuer", "ida@example.org", "Ida").await;
        let body = json!({"name": "Centre A", "siret": "45218903800014"}).to_string();
        let send = |key: &'static str, body: String| {
            let session = session.clone();
            let app = &app;
            async move {
                app.send(
                    Method::POST,
                    "/issuer/api/v1/organisations",
                    &session,
                    Some(body.as_bytes()),
                    Some("application/json"),
                    &[("idempotency-key", key)],
                )
                .await
            }
        };
        let first = send("k-1", body.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let again = send("k-1", body.clone()).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(
            again.body, first.body,
            "same organisation, not a second one"
        );
        assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
        let list = app
            .call(Method::GET, "/issuer/api/v1/organisations", &session, None)
            .await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
        // The same key with another request is refused; another key creates.
        let other = json!({"name": "Centre B", "siret": "81234567600017"}).to_string();
        assert_eq!(
            send("k-1", other.clone()).await.problem(),
            "idempotency-key-reused"
        );
        assert_eq!(send("k-2", other).await.status, StatusCode::CREATED);
        // Keys belong to their caller.
        let (eve, _) = app.register("issuer", "eve@example.org", "Eve").await;
        let r = app
            .send(
                Method::POST,
                "/issuer/api/v1/organisations",
                &eve,
                Some(body.as_bytes()),
                Some("application/json"),
                &[("idempotency-key", "k-1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_ne!(r.body["id"], first.body["id"]);
        let long = "x".repeat(300);
        let r = app
            .send(
                Method::POST,
                "/issuer/api/v1/organisations",
                &eve,
                Some(body.as_bytes()),
                Some("application/json"),
                &[("idempotency-key", &long)],
            )
            .await;
        assert_eq!(r.problem(), "invalid-idempotency-key");
    })
    .await;
}

#[tokio::test]
async fn lists_are_paginated_by_cursor() {
    each_engine(|app| async move {
        let (session, _) = app.register("issuer", "pat@example.org", "Pat").await;
        let sirets = [
            "45218903800014",
            "81234567600017",
            "52876431900018",
            "90345612700013",
            "73282932000074",
        ];
        for (i, siret) in sirets.iter().enumerate() {
            app.clock.advance_secs(1);
            let r = app
                .call(
                    Method::POST,
                    "/issuer/api/v1/organisations",
                    &session,
                    Some(json!({"name": format!("Centre {i}"), "siret": siret})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/issuer/api/v1/organisations?limit=2".to_owned(),
                Some(c) => format!("/issuer/api/v1/organisations?limit=2&cursor={c}"),
            };
            let page = app.call(Method::GET, &path, &session, None).await;
            for item in page.body["items"].as_array().unwrap() {
                seen.push(item["name"].as_str().unwrap().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(
            seen,
            ["Centre 4", "Centre 3", "Centre 2", "Centre 1", "Centre 0"]
        );
        let r = app
            .call(
                Method::GET,
                "/issuer/api/v1/organisations?limit=0",
                &session,
                None,
            )
            .await;
        assert_eq!(r.problem(), "invalid");
        let r = app
            .call(
                Method::GET,
                "/issuer/api/v1/organisations?limit=1000",
                &session,
                None,
            )
            .await;
        assert_eq!(r.problem(), "invalid");
    })
    .await;
}

#[tokio::test]
async fn openapi_documents_the_code_and_has_a_page() {
    let app = TestApp::new(carnet_service::db::Engine::Sqlite).await;
    for service in ["issuer", "wallet", "verifier"] {
        let doc = app
            .call(
                Method::GET,
                &format!("/{service}/api/openapi.json"),
                &Auth::None,
                None,
            )
            .await;
        assert_eq!(doc.body["openapi"], "3.1.0");
        assert_eq!(
            doc.body["servers"][0]["url"],
            format!("http://carnet.test/{service}")
        );
        let paths = doc.body["paths"].as_object().unwrap();
        for p in [
            "/api/v1/accounts",
            "/api/v1/session",
            "/api/v1/me",
            "/api/v1/tokens",
            "/api/v1/audit",
        ] {
            assert!(paths.contains_key(p), "{service} {p}");
        }
        let page = app
            .send(
                Method::GET,
                &format!("/{service}/api/docs/"),
                &Auth::None,
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(String::from_utf8_lossy(&page.raw).contains("swagger"));
        let init = app
            .send(
                Method::GET,
                &format!("/{service}/api/docs/swagger-initializer.js"),
                &Auth::None,
                None,
                None,
                &[],
            )
            .await;
        assert!(
            String::from_utf8_lossy(&init.raw).contains(&format!("/{service}/api/openapi.json"))
        );
    }
    let issuer = app
        .call(Method::GET, "/issuer/api/openapi.json", &Auth::None, None)
        .await;
    assert!(
        issuer.body["paths"]
            .as_object()
            .unwrap()
            .contains_key("/api/v1/organisations/{id}/members")
    );
    let verifier = app
        .call(Method::GET, "/verifier/api/openapi.json", &Auth::None, None)
        .await;
    assert!(
        verifier.body["paths"]
            .as_object()
            .unwrap()
            .contains_key("/api/v1/companies/{id}/approval")
    );
}

#[tokio::test]
async fn headers_request_ids_readiness_and_fallbacks() {
    let app = TestApp::new(carnet_service::db::Engine::Sqlite).await;
    for path in [
        "/",
        "/issuer/api/v1/me",
        "/wallet/ready",
        "/verifier/nowhere",
    ] {
        let r = app
            .send(Method::GET, path, &Auth::None, None, None, &[])
            .await;
        let h = &r.headers;
        assert!(
            h.get(header::CONTENT_SECURITY_POLICY)
                .unwrap()
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert_eq!(h.get(header::REFERRER_POLICY).unwrap(), "same-origin");
        assert!(h.get("x-request-id").is_some(), "{path}");
    }
    let given = app
        .send(
            Method::GET,
            "/issuer/ready",
            &Auth::None,
            None,
            None,
            &[("x-request-id", "trace-me-42")],
        )
        .await;
    assert_eq!(given.headers.get("x-request-id").unwrap(), "trace-me-42");
    for service in ["issuer", "wallet", "verifier"] {
        let r = app
            .call(Method::GET, &format!("/{service}/ready"), &Auth::None, None)
            .await;
        assert_eq!(r.body["status"], "ready");
    }
    assert_eq!(
        app.call(Method::GET, "/issuer/api/v1/nothing", &Auth::None, None)
            .await
            .problem(),
        "not-found"
    );
    assert_eq!(
        app.call(Method::PATCH, "/issuer/api/v1/me", &Auth::None, None)
            .await
            .problem(),
        "method-not-allowed"
    );
}

#[tokio::test]
async fn landing_page_speaks_french_then_english_on_request() {
    let app = TestApp::new(carnet_service::db::Engine::Sqlite).await;
    let fr = app
        .send(Method::GET, "/", &Auth::None, None, None, &[])
        .await;
    let html = String::from_utf8_lossy(&fr.raw);
    assert!(
        html.contains("lang=\"fr\"") && html.contains("Recruteurs"),
        "{html}"
    );
    assert!(html.contains("http://carnet.test/issuer/api/docs/"));
    let en = app
        .send(
            Method::GET,
            "/",
            &Auth::None,
            None,
            None,
            &[("accept-language", "en-US,en;q=0.8")],
        )
        .await;
    assert!(String::from_utf8_lossy(&en.raw).contains("Recruiters"));
    let forced = app
        .send(
            Method::GET,
            "/?lang=fr",
            &Auth::None,
            None,
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(forced.headers.get(header::CONTENT_LANGUAGE).unwrap(), "fr");
}

/// A body over the limit is answered 413 and the connection closed, so the client's next
/// request goes on a new connection instead of being lost on this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_too_large_closes_its_connection_and_the_next_request_goes_through() {
    let app = TestApp::listening(engines()[0]).await;
    let base = app.ctx(ServiceKind::Issuer).config.public_url.clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let huge = format!("{{\"email\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    for _ in 0..3 {
        let r = http
            .post(format!("{base}/api/v1/session"))
            .header("content-type", "application/json")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(r.headers()["connection"], "close");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let ready = http.get(format!("{base}/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
    }
}
