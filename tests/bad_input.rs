//! Bad input on every endpoint (read from each service's OpenAPI document, so new endpoints
//! are covered as they land): malformed JSON, oversized bodies, wrong content types, unknown
//! fields, unknown query parameters, SQL and HTML injection strings. Each gets a problem+json
//! 4xx — never a 5xx — and a rejected request leaves the stored data unchanged.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use common::*;
use serde_json::{Value, json};

const INJECTIONS: &[&str] = &[
    "'; DROP TABLE accounts; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "x' UNION SELECT password_hash FROM accounts --",
    "\u{0}\u{202e}",
];

struct Endpoint {
    method: Method,
    path: String,
    has_body: bool,
    /// The request body's properties and their JSON types, from the schema.
    fields: Vec<(String, String)>,
    /// Authenticated by a holder proof (a wallet's key), which the test's account lacks: such
    /// endpoints answer 401 before they read a body.
    holder_proof: bool,
}

async fn endpoints(
    app: &TestApp,
    service: &str,
    tenant: &str,
    account: &str,
    session: &str,
) -> Vec<Endpoint> {
    let doc = app
        .call(
            Method::GET,
            &format!("/{service}/api/openapi.json"),
            &Auth::None,
            None,
        )
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut out = Vec::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let path = path
                .replace("{id}", tenant)
                .replace("{account_id}", account)
                .replace("{role}", "trainee")
                .replace("{sid}", session)
                .replace("{cid}", "crd_none");
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            let schema = match schema["$ref"].as_str() {
                Some(r) => &doc.body["components"]["schemas"][r.rsplit('/').next().unwrap()],
                None => schema,
            };
            let fields = schema["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(k, v)| {
                            (k.clone(), v["type"].as_str().unwrap_or("object").to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let holder_proof = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == carnet_core::oid4vp::HOLDER_PROOF_HEADER)
            });
            out.push(Endpoint {
                holder_proof,
                method,
                path: format!("/{service}{path}"),
                has_body: op["requestBody"]["content"]
                    .get("application/json")
                    .is_some(),
                fields,
            });
        }
    }
    assert!(out.len() >= 8, "{service}: {} endpoints", out.len());
    out
}

/// A body with exactly the endpoint's fields, every text one set to `value`.
fn body_with(e: &Endpoint, value: &str) -> Value {
    let mut body = serde_json::Map::new();
    for (name, kind) in &e.fields {
        let v = match (name.as_str(), kind.as_str()) {
            ("email", _) => json!(format!("{value}@example.org")),
            ("password" | "new_password", _) => json!(format!("{value} long enough")),
            ("scale", _) => json!({"kind": "levels", "labels": [value]}),
            ("framework_codes", _) => json!({"rome": value}),
            ("assessment", _) => json!(value),
            (_, "boolean") => json!(true),
            (_, "integer" | "number") => json!(1),
            _ => json!(value),
        };
        body.insert(name.clone(), v);
    }
    Value::Object(body)
}

#[tokio::test]
async fn every_endpoint_rejects_bad_input_cleanly() {
    each_engine(|app| async move {
        for (service, kind, tenant_path, siret) in [
            ("issuer", ServiceKind::Issuer, "organisations", "45218903800014"),
            ("verifier", ServiceKind::Verifier, "companies", "52876431900018"),
            ("wallet", ServiceKind::Wallet, "", ""),
        ] {
            let (session, account) = app.register(service, &format!("admin@{service}.example"), "Admin").await;
            app.make_platform_admin(kind, &account).await;
            let created = app.call(Method::POST, &format!("/{service}/api/v1/tokens"), &session, Some(json!({"name": "t"}))).await;
            // The wallet's store opens only with a session (the cookie unwraps its key).
            let admin = if service == "wallet" {
                session.clone()
            } else {
                Auth::Bearer(created.body["token"].as_str().unwrap().to_owned())
            };
            let tenant = if tenant_path.is_empty() {
                "none".to_owned()
            } else {
                let r = app
                    .call(Method::POST, &format!("/{service}/api/v1/{tenant_path}"), &admin, Some(json!({"name": "T", "siret": siret})))
                    .await;
                let id = r.body["id"].as_str().unwrap().to_owned();
                if service == "verifier" {
                    let approved = app.call(Method::POST, &format!("/verifier/api/v1/companies/{id}/approval"), &admin, None).await;
                    assert_eq!(approved.status, StatusCode::NO_CONTENT);
                }
                id
            };
            let session = if service == "issuer" {
                let r = app
                    .call(
                        Method::POST,
                        &format!("/issuer/api/v1/organisations/{tenant}/sessions"),
                        &admin,
                        Some(json!({"title": "S", "starts_on": "2026-01-05", "ends_on": "2026-03-27"})),
                    )
                    .await;
                let session = r.body["id"].as_str().unwrap().to_owned();
                // Also a trainee of it, for the endpoints only trainees reach (check-in).
                let r = app
                    .call(
                        Method::POST,
                        &format!("/issuer/api/v1/organisations/{tenant}/members"),
                        &admin,
                        Some(json!({"email": "admin@issuer.example", "role": "trainee"})),
                    )
                    .await;
                assert!(r.status.is_success(), "{}", r.body);
                let r = app
                    .call(
                        Method::POST,
                        &format!("/issuer/api/v1/organisations/{tenant}/sessions/{session}/members"),
                        &admin,
                        Some(json!({"email": "admin@issuer.example", "role": "trainee"})),
                    )
                    .await;
                assert!(r.status.is_success(), "{}", r.body);
                session
            } else {
                "none".to_owned()
            };
            let endpoints = endpoints(&app, service, &tenant, &account, &session).await;
            if service == "wallet" {
                // Reading the carnet first makes the wallet's attestation of the confirmed
                // address, which the reads below would otherwise make.
                let r = app.call(Method::GET, "/wallet/api/v1/credentials", &admin, None).await;
                assert!(r.status.is_success(), "{}", r.body);
            }
            let before = app.dump(kind).await;

            for e in endpoints.iter().filter(|e| e.has_body) {
                let huge = vec![b'a'; 2 * 1024 * 1024];
                let cases: [(&[u8], &str, &str); 4] = [
                    (b"{,}", "application/json", "invalid-json"),
                    (b"{", "application/json", "invalid-json"),
                    (&huge, "application/json", "payload-too-large"),
                    (b"email=a", "application/x-www-form-urlencoded", "unsupported-media-type"),
                ];
                let expect = |kind: &'static str| if e.holder_proof { "unauthenticated" } else { kind };
                for (body, content_type, kind_expected) in cases {
                    let r = app.send(e.method.clone(), &e.path, &admin, Some(body), Some(content_type), &[]).await;
                    assert_eq!(r.problem(), expect(kind_expected), "{} {}", e.method, e.path);
                }
                let mut unknown = body_with(e, "valid");
                unknown["unexpected_field"] = json!(true);
                let r = app.call(e.method.clone(), &e.path, &admin, Some(unknown)).await;
                assert_eq!(r.problem(), expect("invalid"), "{} {}: {}", e.method, e.path, r.body);
                let wrong_types = json!({"email": 1, "password": [], "name": {}, "display_name": null, "siret": 5, "role": 1, "current_password": 1, "new_password": 1, "title": 1, "code": 1, "scale": 1, "trainee_id": 1, "status": 1, "alg": 1});
                let r = app.call(e.method.clone(), &e.path, &admin, Some(wrong_types)).await;
                assert_eq!(r.problem(), expect("invalid"), "{} {}: {}", e.method, e.path, r.body);
            }
            for e in endpoints.iter().filter(|e| e.method == Method::GET) {
                let r = app.call(Method::GET, &format!("{}?surprise=1", e.path), &admin, None).await;
                let fine = if e.holder_proof { &["unauthenticated"][..] } else { &["invalid-query", "not-found"][..] };
                assert!(r.status.is_success() || fine.contains(&r.problem().as_str()), "{}: {}", e.path, r.body);
            }
            assert_eq!(app.dump(kind).await, before, "{service}: a rejected request changed stored data");

            // Injection strings in every field and in path parameters: never a 5xx, and when
            // accepted they are stored as the plain text they are.
            for value in INJECTIONS {
                for e in &endpoints {
                    if matches!(admin, Auth::Session { .. }) && e.method == Method::DELETE && e.path.ends_with("/session") {
                        continue; // signing out would end the session the test goes on with
                    }
                    let body = e.has_body.then(|| body_with(e, value));
                    let r = app.call(e.method.clone(), &e.path, &admin, body).await;
                    assert!(!r.status.is_server_error(), "{} {}: {}", e.method, e.path, r.body);
                    if !r.status.is_success() {
                        r.problem();
                    }
                    let encoded: String = value.bytes().map(|b| format!("%{b:02X}")).collect();
                    let injected = e.path.replace(&tenant, &encoded);
                    let r = app.call(e.method.clone(), &injected, &admin, e.has_body.then(|| body_with(e, "x"))).await;
                    assert!(!r.status.is_server_error(), "{} {injected}: {}", e.method, r.body);
                }
            }
            let (tables,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(app.ctx(kind).db.pool()).await.unwrap();
            assert!(tables >= 1, "the accounts table survived");
            let me = app.call(Method::GET, &format!("/{service}/api/v1/me"), &admin, None).await;
            assert_eq!(me.status, StatusCode::OK);
        }
    })
    .await;
}
