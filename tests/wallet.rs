//! The wallet end to end, over real HTTP between the services: a holder signs up (recovery code
//! shown once), receives a competency credential from the Carnet issuer through OpenID4VCI
//! (with the PIN, several copies on distinct keys), reads it back; the raw database holds none
//! of it in clear; a password change and a recovery keep the store open; an API token cannot
//! open it; deleting a credential deletes its key.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use carnet_service::db::Engine;
use common::*;
use serde_json::json;

const HOLDER: &str = "camille@example.org";

async fn wallet_account(app: &TestApp) -> (Auth, String) {
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/accounts",
            &Auth::None,
            Some(json!({"email": HOLDER, "password": PASSWORD, "display_name": "Camille Durand"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let code = r.body["recovery_code"].as_str().unwrap().to_owned();
    (session_of(&r), code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_store_and_reopen() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        scenario(&app).await;
    }
}

async fn scenario(app: &TestApp) {
    let c = centre(app).await;
    let evaluated = c.evaluate(app, json!("argent")).await;
    let link = evaluated["offer"]["offer_link"]
        .as_str()
        .unwrap()
        .to_owned();
    let pin = evaluated["offer"]["tx_code"].as_str().unwrap().to_owned();
    let (holder, recovery_code) = wallet_account(app).await;
    assert_eq!(recovery_code.len(), 23);

    // The PIN is asked before anything is spent; a wrong one is the issuer's refusal.
    let receive = |body| {
        app.call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            &holder,
            Some(body),
        )
    };
    let r = receive(json!({"offer": link})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = receive(json!({"offer": link, "tx_code": "000000"})).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
    assert_eq!(r.problem(), "upstream-error");
    let r = receive(json!({"offer": "https://nowhere.invalid/offer"})).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
    assert_eq!(r.problem(), "upstream-unreachable");
    for bad in [
        "not a link",
        "file:///etc/passwd",
        "openid-credential-offer://?credential_offer_uri=ftp%3A%2F%2Fh%2Fo",
    ] {
        let r = receive(json!({"offer": bad})).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
        assert_eq!(r.problem(), "invalid");
    }

    let r = receive(json!({"offer": link, "tx_code": pin, "copies": 3})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let copies = r.body.as_array().unwrap();
    assert_eq!(copies.len(), 3);
    let first = &copies[0];
    assert_eq!(first["status"], "valid");
    assert_eq!(first["configuration_id"], "competency");
    assert_eq!(first["issuer_name"], "Centre Lyon Métallerie");
    assert!(
        first["issuer"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/orgs/{}", c.org))
    );
    let claims = &first["claims"];
    assert_eq!(claims["competency"]["code"], "SOUD-TIG", "{claims}");
    // Distinct copies: distinct holder keys, distinct status entries.
    let idx: std::collections::HashSet<_> =
        copies.iter().map(|c| c["status_idx"].as_u64()).collect();
    assert_eq!(idx.len(), 3);
    // A code works once.
    let r = receive(json!({"offer": link, "tx_code": pin})).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);

    let listed = app
        .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 3);
    let id = first["id"].as_str().unwrap();
    let one = app
        .call(
            Method::GET,
            &format!("/wallet/api/v1/credentials/{id}"),
            &holder,
            None,
        )
        .await;
    assert_eq!(one.body["sd_jwt"], first["sd_jwt"]);

    // The raw database: no claim value, no issuer, no credential.
    let raw = app
        .raw_contents(
            ServiceKind::Wallet,
            &[
                "holder_keyrings",
                "session_keys",
                "holder_keys",
                "wallet_credentials",
                "credential_status",
                "audit_log",
            ],
        )
        .await;
    if app.engine == Engine::Sqlite {
        assert!(
            raw.contains(HOLDER),
            "the file is read: the account's e-mail is there"
        );
    }
    assert!(raw.contains("credential.received"), "the rows are read");
    let sd_jwt_header = first["sd_jwt"].as_str().unwrap().split('.').next().unwrap();
    for secret in [
        "SOUD-TIG",
        "Soudure TIG",
        "argent",
        "Métallerie",
        &c.org,
        &recovery_code,
        sd_jwt_header,
    ] {
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(
            !raw.contains(secret) && !raw.contains(&hex),
            "{secret} is stored in clear"
        );
    }

    // An API token is an identity, not a key to the store.
    let token = app
        .call(
            Method::POST,
            "/wallet/api/v1/tokens",
            &holder,
            Some(json!({"name": "script"})),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);
    let bearer = Auth::Bearer(token.body["token"].as_str().unwrap().to_owned());
    let r = app
        .call(Method::GET, "/wallet/api/v1/credentials", &bearer, None)
        .await;
    assert_eq!(r.problem(), "store-locked");

    // A new sign-in opens it; a password change re-wraps the key.
    let again = session_of(&app.login("wallet", HOLDER, PASSWORD).await);
    let r = app
        .call(Method::GET, "/wallet/api/v1/credentials", &again, None)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    let r = app
        .call(
            Method::PUT,
            "/wallet/api/v1/me/password",
            &again,
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let renewed = session_of(&app.login("wallet", HOLDER, "a brand new passphrase").await);
    let r = app
        .call(Method::GET, "/wallet/api/v1/credentials", &renewed, None)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 3, "{}", r.body);

    // Lost password: the recovery code opens the store and sets a new password.
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/recovery",
            &Auth::None,
            Some(json!({"email": HOLDER, "recovery_code": "AAAAA-AAAAA-AAAAA-AAAAA", "new_password": "another long passphrase"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/recovery",
            &Auth::None,
            Some(json!({"email": HOLDER, "recovery_code": recovery_code.to_lowercase(), "new_password": "another long passphrase"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let recovered = session_of(&r);
    let r = app
        .call(Method::GET, "/wallet/api/v1/credentials", &recovered, None)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    let r = app.login("wallet", HOLDER, "another long passphrase").await;
    assert_eq!(r.status, StatusCode::OK);

    // Deleting a credential deletes its key.
    let r = app
        .call(
            Method::DELETE,
            &format!("/wallet/api/v1/credentials/{id}"),
            &recovered,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .call(Method::GET, "/wallet/api/v1/credentials", &recovered, None)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM holder_keys")
        .fetch_one(app.ctx(ServiceKind::Wallet).db.pool())
        .await
        .unwrap();
    assert_eq!(keys, 2);

    // The centre revokes the second copy; the wallet's job sees it within the hour.
    let issued = app
        .call(
            Method::GET,
            &format!("/issuer/api/v1/organisations/{}/credentials", c.org),
            &c.admin,
            None,
        )
        .await;
    let second_idx = copies[1]["status_idx"].as_i64().unwrap();
    let target = issued
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["status_idx"].as_i64() == Some(second_idx))
        .unwrap();
    let r = app
        .call(
            Method::POST,
            &format!(
                "/issuer/api/v1/organisations/{}/credentials/{}/status",
                c.org,
                target["id"].as_str().unwrap()
            ),
            &c.admin,
            Some(json!({"status": "revoked", "reason": "erreur de saisie"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let wallet_ctx = app.ctx(ServiceKind::Wallet);
    assert_eq!(
        carnet_wallet::status::refresh_now(wallet_ctx)
            .await
            .unwrap(),
        0,
        "checked less than an hour ago"
    );
    app.clock.advance_secs(3700);
    assert_eq!(
        carnet_wallet::status::refresh_now(wallet_ctx)
            .await
            .unwrap(),
        1
    );
    let id2 = copies[1]["id"].as_str().unwrap();
    let r = app
        .call(
            Method::GET,
            &format!("/wallet/api/v1/credentials/{id2}"),
            &recovered,
            None,
        )
        .await;
    assert_eq!(r.body["status"], "revoked", "{}", r.body);
    // The other copy, on the same list, keeps its own status.
    let id3 = copies[2]["id"].as_str().unwrap();
    let r = app
        .call(
            Method::GET,
            &format!("/wallet/api/v1/credentials/{id3}"),
            &recovered,
            None,
        )
        .await;
    assert_eq!(r.body["status"], "valid", "{}", r.body);

    // Availability, declared and read back; bad values refused.
    let r = app
        .call(Method::GET, "/wallet/api/v1/availability", &recovered, None)
        .await;
    assert_eq!(r.body["situation"], serde_json::Value::Null, "{}", r.body);
    let declared = json!({"situation": "seeking", "available_from": "2027-02-01", "regions": ["84", "11", "84"], "contracts": ["cdi", "alternance"]});
    let r = app
        .call(
            Method::PUT,
            "/wallet/api/v1/availability",
            &recovered,
            Some(declared),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["regions"], json!(["11", "84"]));
    for bad in [
        json!({"situation": "retired"}),
        json!({"regions": ["99"]}),
        json!({"available_from": "demain"}),
    ] {
        let r = app
            .call(
                Method::PUT,
                "/wallet/api/v1/availability",
                &recovered,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
    let r = app
        .call(Method::GET, "/wallet/api/v1/availability", &recovered, None)
        .await;
    assert_eq!(r.body["situation"], "seeking");

    // The carnet: one competency, its history counting the copies once.
    let carnet = app
        .call(Method::GET, "/wallet/api/v1/carnet", &recovered, None)
        .await;
    assert_eq!(carnet.status, StatusCode::OK, "{}", carnet.body);
    let competencies = carnet.body["competencies"].as_array().unwrap();
    assert_eq!(competencies.len(), 1, "{}", carnet.body);
    assert_eq!(competencies[0]["code"], "SOUD-TIG");
    assert_eq!(
        competencies[0]["history"].as_array().unwrap().len(),
        1,
        "{}",
        carnet.body
    );
    assert_eq!(
        competencies[0]["current"]["claims"]["level"]["label"],
        "argent"
    );
    let export = app
        .call(Method::GET, "/wallet/api/v1/export", &recovered, None)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    assert_eq!(export.body["credentials"].as_array().unwrap().len(), 2);
    // The printable carnet, French by default, English on request.
    let page = app
        .send(
            Method::GET,
            "/wallet/api/v1/export/print",
            &recovered,
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.raw).unwrap();
    assert!(
        html.contains("Carnet de compétences") && html.contains("Soudure TIG"),
        "{html}"
    );
    assert!(
        html.contains("Centre Lyon Métallerie") && html.contains("valide"),
        "{html}"
    );
    let page = app
        .send(
            Method::GET,
            "/wallet/api/v1/export/print?lang=en",
            &recovered,
            None,
            None,
            &[],
        )
        .await;
    assert!(
        String::from_utf8(page.raw)
            .unwrap()
            .contains("Competency logbook")
    );

    // An encrypted backup restores into a fresh wallet, once.
    let backup = app
        .call(
            Method::POST,
            "/wallet/api/v1/backup",
            &recovered,
            Some(json!({"passphrase": "backup passphrase 2026"})),
        )
        .await;
    assert_eq!(backup.status, StatusCode::OK, "{}", backup.body);
    assert!(!String::from_utf8_lossy(&backup.raw).contains("SOUD-TIG"));
    // Another wallet, elsewhere: its operator lets it reach the issuer (on loopback here), which
    // a restore asks again for the keys of every credential.
    let issuer_url = app.ctx(ServiceKind::Issuer).config.public_url.clone();
    let issuer_host = issuer_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let fresh = TestApp::listening_allowing(app.engine, Some(issuer_host)).await;
    let (elsewhere, _) = wallet_account(&fresh).await;
    let restore = |passphrase: &str| {
        fresh.call(
            Method::POST,
            "/wallet/api/v1/backup/restore",
            &elsewhere,
            Some(json!({"backup": backup.body, "passphrase": passphrase})),
        )
    };
    let r = restore("not the passphrase").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = restore("backup passphrase 2026").await;
    assert_eq!(
        r.body,
        json!({"restored": 2, "skipped": 0, "refused": 0, "publications": 0})
    );
    let r = restore("backup passphrase 2026").await;
    assert_eq!(
        r.body,
        json!({"restored": 0, "skipped": 2, "refused": 0, "publications": 0})
    );
    let r = fresh
        .call(Method::GET, "/wallet/api/v1/carnet", &elsewhere, None)
        .await;
    assert_eq!(r.body["competencies"][0]["code"], "SOUD-TIG");

    // Deleting the account leaves nothing of the holder.
    let r = app
        .call(
            Method::DELETE,
            "/wallet/api/v1/account",
            &recovered,
            Some(json!({"password": "wrong password!"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .call(
            Method::DELETE,
            "/wallet/api/v1/account",
            &recovered,
            Some(json!({"password": "another long passphrase"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    for table in [
        "accounts",
        "holder_keyrings",
        "session_keys",
        "holder_keys",
        "wallet_credentials",
        "holder_profiles",
        "credential_status",
    ] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(app.ctx(ServiceKind::Wallet).db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(
        app.login("wallet", HOLDER, "another long passphrase")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// An account made by the command line (no registration) gets its store, and its recovery
/// code, at its first sign-in.
#[tokio::test]
async fn an_account_made_by_the_command_line_gets_its_store_at_sign_in() {
    each_engine(|app| async move {
        let ctx = app.ctx(ServiceKind::Wallet);
        let mut tx = ctx.db.begin().await.unwrap();
        carnet_service::accounts::create_account(
            &mut tx,
            ctx,
            &carnet_service::audit::Actor::system(),
            "admin@wallet.example",
            PASSWORD,
            "Admin",
            true,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let first = app.login("wallet", "admin@wallet.example", PASSWORD).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.body["recovery_code"].as_str().map(str::len), Some(23));
        let r = app
            .call(
                Method::GET,
                "/wallet/api/v1/credentials",
                &session_of(&first),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let second = app.login("wallet", "admin@wallet.example", PASSWORD).await;
        assert_eq!(second.status, StatusCode::OK);
        assert!(second.body.get("recovery_code").is_none(), "shown once");
    })
    .await;
}

/// A verifier the test stands up: it asks with a DCQL query and keeps what it is sent.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

async fn fake_verifier() -> (String, Received) {
    use axum::routing::post;
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = received.clone();
    let router = axum::Router::new().route(
        "/response",
        post(
            move |form: axum::Form<std::collections::HashMap<String, String>>| {
                let store = store.clone();
                async move {
                    store.lock().unwrap().push((
                        form.0["vp_token"].clone(),
                        form.0["consent_receipt"].clone(),
                    ));
                    axum::Json(
                        json!({"redirect_uri": "https://verifier.example/done#response_code=abc"}),
                    )
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/response", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

/// The holder answers an OpenID4VP request choosing what to share; the verifier's side checks
/// the presentation and finds only the chosen claims; declining sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presenting_only_the_chosen_claims() {
    use carnet_core::dcql::DcqlQuery;
    use carnet_core::metadata::{Jwks, TrustedIssuers};
    use carnet_core::oid4vp::AuthorizationRequest;
    use carnet_core::sd_jwt::{self, VerifyOptions};

    // The test's verifier stands on another loopback port, which the operator would list.
    let app = TestApp::listening_allowing(Engine::Sqlite, Some("127.0.0.1")).await;
    let c = centre(&app).await;
    let evaluated = c.evaluate(&app, json!("or")).await;
    let (holder, _) = wallet_account(&app).await;
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            &holder,
            Some(json!({"offer": evaluated["offer"]["offer_link"], "tx_code": evaluated["offer"]["tx_code"], "copies": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let credential = r.body[0].clone();
    let (response_uri, received) = fake_verifier().await;
    let request = AuthorizationRequest {
        client_id: format!("redirect_uri:{response_uri}"),
        response_uri: response_uri.clone(),
        nonce: "nonce-4f1c2d".into(),
        state: Some("offre-1".into()),
        dcql_query: DcqlQuery::from_value(&json!({"credentials": [{"id": "soudure", "format": "dc+sd-jwt",
            "meta": {"vct_values": [credential["vct"]]},
            "claims": [{"id": "code", "path": ["competency", "code"]}, {"id": "level", "path": ["level", "label"]},
                       {"id": "name", "path": ["name"]}, {"id": "evaluator", "path": ["evaluator", "name"]}],
            "claim_sets": [["code", "level", "name", "evaluator"], ["code", "level", "name"]]}]}))
        .unwrap(),
        client_metadata: None,
        response_mode: carnet_core::oid4vp::DIRECT_POST.into(),
    };
    let open = |link: String| {
        app.call(
            Method::POST,
            "/wallet/api/v1/presentations/requests",
            &holder,
            Some(json!({"request": link})),
        )
    };

    // Declining sends nothing.
    let pending = open(request.to_link()).await;
    assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.body);
    let id = pending.body["id"].as_str().unwrap();
    let r = app
        .call(
            Method::DELETE,
            &format!("/wallet/api/v1/presentations/requests/{id}"),
            &holder,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(received.lock().unwrap().is_empty());

    // What is asked: three claims required, the evaluator optional.
    let pending = open(request.to_link()).await;
    assert_eq!(pending.body["answerable"], true, "{}", pending.body);
    let candidate = &pending.body["queries"][0]["candidates"][0];
    assert_eq!(candidate["credential_id"], credential["id"]);
    assert_eq!(
        candidate["required"],
        json!([["competency", "code"], ["level", "label"], ["name"]])
    );
    assert_eq!(candidate["optional"], json!([["evaluator", "name"]]));
    // A bad link is refused before anything happens.
    let r = open("openid4vp://?client_id=x509_hash:abc&response_type=vp_token".into()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    let id = pending.body["id"].as_str().unwrap();
    let r = app
        .call(
            Method::POST,
            &format!("/wallet/api/v1/presentations/requests/{id}/response"),
            &holder,
            Some(json!({"choices": [{"query_id": "soudure", "credential_id": credential["id"], "optional": []}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["redirect_uri"],
        "https://verifier.example/done#response_code=abc"
    );
    // Answered once: the request is gone.
    let again = app
        .call(
            Method::POST,
            &format!("/wallet/api/v1/presentations/requests/{id}/response"),
            &holder,
            Some(json!({"choices": [{"query_id": "soudure", "credential_id": credential["id"]}]})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // The verifier's side: the presentation verifies, bound to its nonce and client id, and
    // carries the chosen claims only.
    let (vp_token, receipt) = received.lock().unwrap()[0].clone();
    let vp_token: serde_json::Value = serde_json::from_str(&vp_token).unwrap();
    let presentation = vp_token["soudure"][0].as_str().unwrap();
    let issuer = credential["issuer"].as_str().unwrap();
    let well_known = format!("/.well-known/jwt-vc-issuer/issuer/orgs/{}", c.org);
    let metadata = app.call(Method::GET, &well_known, &Auth::None, None).await;
    let jwks: Jwks = serde_json::from_value(metadata.body["jwks"].clone()).unwrap();
    let mut trusted = TrustedIssuers::default();
    trusted.insert(issuer, &jwks).unwrap();
    let now = START_MS / 1000;
    let verified = sd_jwt::verify(
        presentation,
        &trusted,
        &VerifyOptions::with_key_binding(now, &request.client_id, &request.nonce),
    )
    .unwrap();
    assert_eq!(verified.claims["competency"]["code"], "SOUD-TIG");
    assert_eq!(verified.claims["level"]["label"], "or");
    assert_eq!(verified.claims["name"], "Camille Durand");
    for withheld in ["evaluator", "session", "establishment", "validated_on"] {
        assert!(
            verified.claims.get(withheld).is_none(),
            "{withheld} was disclosed"
        );
    }
    assert!(
        verified.claims["level"].get("rank").is_none(),
        "only the label of the level"
    );
    assert!(
        sd_jwt::verify(
            presentation,
            &trusted,
            &VerifyOptions::with_key_binding(now, &request.client_id, "another nonce")
        )
        .is_err()
    );
    // The consent receipt: signed by the holder's key for this verifier (not the credential's,
    // so verifiers cannot link the holder by it), naming the presentation it covers and exactly
    // what was shared.
    let (receipt, receipt_key) =
        carnet_core::oid4vp::ConsentReceipt::verify(&receipt, &request.client_id, &request.nonce)
            .unwrap();
    assert_ne!(
        Some(receipt_key.jwk().thumbprint()),
        verified.holder.as_ref().map(|k| k.thumbprint())
    );
    assert_eq!(
        receipt.shared[0].presentation.as_deref(),
        Some(carnet_core::oid4vp::presentation_digest(presentation).as_str())
    );
    assert_eq!(receipt.state.as_deref(), Some("offre-1"));
    assert_eq!(
        serde_json::to_value(&receipt.shared[0].claims).unwrap(),
        json!([["competency", "code"], ["level", "label"], ["name"]])
    );

    // The holder's log says what went where.
    let log = app
        .call(Method::GET, "/wallet/api/v1/presentations", &holder, None)
        .await;
    let entry = &log.body[0];
    assert_eq!(entry["client_id"], request.client_id.as_str());
    assert_eq!(
        entry["credentials"][0]["claims"],
        json!([["competency", "code"], ["level", "label"], ["name"]])
    );
    // The same, as a page.
    let page = app.call(Method::GET, "/wallet/shared", &holder, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.raw).unwrap();
    assert!(html.contains("Ce que j&#39;ai partagé"), "{html}");
    // In words: what was shared, and which of its details.
    assert!(
        html.contains("informations transmises : code de la compétence, niveau, nom"),
        "{html}"
    );
    // With whom: the verifier's host, as nobody named it.
    let host = response_uri
        .split("://")
        .nth(1)
        .unwrap()
        .split(['/', ':'])
        .next()
        .unwrap();
    assert!(
        html.contains(&format!(
            "Partagé avec <strong>les recruteurs de {host}</strong>"
        )),
        "{html}"
    );
    let raw = app
        .raw_contents(
            ServiceKind::Wallet,
            &["presentation_log", "presentation_requests"],
        )
        .await;
    assert!(!raw.contains(&response_uri), "the log is sealed");
}

/// The carnet attests the account's e-mail address once its owner confirmed it: an SD-JWT VC
/// of its own in the carnet, verifiable under the key the wallet publishes at its well-known
/// issuer metadata, kept while it is sound and replaced a week before it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_carnet_attests_the_confirmed_address() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let (holder, _) = app
            .register_unverified("wallet", HOLDER, "Camille Durand")
            .await;
        let own = |r: &Reply| -> Vec<serde_json::Value> {
            r.body
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["own"] == true)
                .cloned()
                .collect()
        };
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            own(&r).is_empty(),
            "nothing attested before the address is confirmed"
        );

        app.follow_verification(ServiceKind::Wallet, HOLDER).await;
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let attested = own(&r);
        assert_eq!(attested.len(), 1, "{}", r.body);
        let issuer = app.ctx(ServiceKind::Wallet).config.public_url.clone();
        assert_eq!(attested[0]["issuer"], issuer.as_str());
        assert_eq!(attested[0]["vct"], format!("{issuer}/vct/email"));
        assert_eq!(attested[0]["claims"]["email"], HOLDER);
        assert_eq!(attested[0]["status"], "valid");

        // Anyone verifies it with the keys the wallet publishes.
        let metadata = app
            .call(
                Method::GET,
                "/.well-known/jwt-vc-issuer/wallet",
                &Auth::None,
                None,
            )
            .await;
        assert_eq!(metadata.status, StatusCode::OK, "{}", metadata.body);
        assert_eq!(metadata.body["issuer"], issuer.as_str());
        let jwks: carnet_core::metadata::Jwks =
            serde_json::from_value(metadata.body["jwks"].clone()).unwrap();
        let mut trust = carnet_core::metadata::TrustedIssuers::default();
        trust.insert(&issuer, &jwks).unwrap();
        let now = app.ctx(ServiceKind::Wallet).clock.now_secs();
        let verified = carnet_core::sd_jwt::verify(
            attested[0]["sd_jwt"].as_str().unwrap(),
            &trust,
            &carnet_core::sd_jwt::VerifyOptions::without_key_binding(now),
        )
        .unwrap();
        assert_eq!(verified.claims["email"], HOLDER);
        assert!(verified.holder.is_some(), "bound to a holder key");
        assert!(
            verified
                .disclosed
                .iter()
                .any(|p| p.to_json() == json!(["email"])),
            "the address is selectively disclosable"
        );

        // Read again: the same one.
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        assert_eq!(own(&r)[0]["id"], attested[0]["id"]);
        // Three weeks and more later, a new one replaces it.
        app.clock.advance_secs(24 * 24 * 3600);
        let holder = session_of(&app.login("wallet", HOLDER, PASSWORD).await);
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        let renewed = own(&r);
        assert_eq!(renewed.len(), 1, "{}", r.body);
        assert_ne!(renewed[0]["id"], attested[0]["id"]);
        // A new address: the old one stays attested until the new one is confirmed, then the
        // attestation follows it.
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/me/verification",
                &holder,
                Some(json!({"email": "camille.durand@example.net"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        assert_eq!(own(&r)[0]["claims"]["email"], HOLDER);
        app.follow_verification(ServiceKind::Wallet, "camille.durand@example.net")
            .await;
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        let moved = own(&r);
        assert_eq!(moved.len(), 1, "{}", r.body);
        assert_eq!(moved[0]["claims"]["email"], "camille.durand@example.net");
    }
}

/// Copies of one credential (each bound to its own key) are one card on the holder's page,
/// and deleting it there deletes them all; the API still deletes one copy when asked so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_are_one_credential_to_their_holder() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        let c = centre(&app).await;
        let evaluated = c.evaluate(&app, json!("argent")).await;
        let (holder, _) = wallet_account(&app).await;
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/credentials/receive",
                &holder,
                Some(json!({"offer": evaluated["offer"]["offer_link"], "tx_code": evaluated["offer"]["tx_code"], "copies": 3})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let copies: Vec<&str> = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["copies"].as_str().unwrap())
            .collect();
        assert_eq!(copies.len(), 3);
        assert!(copies.iter().all(|c| *c == copies[0]), "{copies:?}");
        let one = r.body[0]["id"].as_str().unwrap().to_owned();
        let page = html(&open_page(&app, "/wallet/credentials", &holder).await);
        assert_eq!(
            page.matches("class=\"credential competency").count(),
            1,
            "{page}"
        );

        // One copy, through the API.
        let r = app
            .call(
                Method::DELETE,
                &format!("/wallet/api/v1/credentials/{one}"),
                &holder,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        let left: Vec<String> = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(left.len(), 2, "{}", r.body);

        // The rest, from the credential's page.
        let page =
            html(&open_page(&app, &format!("/wallet/credentials/{}", left[0]), &holder).await);
        let action = attribute_of(&page[page.find("?copies=all").unwrap() - 200..], "action");
        assert!(action.ends_with("?copies=all"), "{action}");
        let r = post_form(
            &app,
            &action,
            &format!("csrf={}&_method=DELETE", csrf_of(&page)),
            cookie(&holder),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        assert_eq!(r.body, json!([]), "every copy deleted");
        let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM holder_keys")
            .fetch_one(app.ctx(ServiceKind::Wallet).db.pool())
            .await
            .unwrap();
        assert_eq!(keys, 0, "and their keys");
    }
}
