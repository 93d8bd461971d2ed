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
    let mut engines = vec![Engine::Sqlite];
    if std::env::var(carnet_service::testing::POSTGRES_ENV).is_ok() {
        engines.push(Engine::Postgres);
    } else {
        eprintln!("PostgreSQL variant skipped: CARNET_TEST_POSTGRES_URL is not set");
    }
    for engine in engines {
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
    let fresh = TestApp::new(app.engine).await;
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
    assert_eq!(r.body, json!({"restored": 2, "skipped": 0}));
    let r = restore("backup passphrase 2026").await;
    assert_eq!(r.body, json!({"restored": 0, "skipped": 2}));
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
