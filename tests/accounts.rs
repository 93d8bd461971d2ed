//! Accounts, sessions, CSRF, API tokens, login throttling and audit, on every service and
//! every engine.

mod common;

use axum::http::{Method, StatusCode, header};
use carnet_service::ServiceKind;
use common::*;
use serde_json::json;

#[tokio::test]
async fn register_sign_in_change_password_sign_out() {
    each_engine(|app| async move {
        for service in ["issuer", "wallet", "verifier"] {
            let (session, id) = app.register(service, "Ada@Example.org", "Ada Lovelace").await;
            let me = app.call(Method::GET, &format!("/{service}/api/v1/me"), &session, None).await;
            assert_eq!(me.status, StatusCode::OK);
            assert_eq!(me.body["account"]["email"], "ada@example.org", "e-mail addresses are normalised");
            assert_eq!(me.body["account"]["id"], id.as_str());

            // The cookie is HttpOnly, SameSite=Lax, scoped to the service.
            let login = app.login(service, "ada@example.org", PASSWORD).await;
            assert_eq!(login.status, StatusCode::OK);
            let cookie = login.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
            assert!(cookie.contains(&format!("Path=/{service}")), "{cookie}");
            let second = session_of(&login);

            // Password change ends the other sessions, and the old password stops working.
            let change = app
                .call(
                    Method::PUT,
                    &format!("/{service}/api/v1/me/password"),
                    &second,
                    Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
                )
                .await;
            assert_eq!(change.status, StatusCode::NO_CONTENT, "{}", change.body);
            let old = app.call(Method::GET, &format!("/{service}/api/v1/me"), &session, None).await;
            assert_eq!(old.problem(), "unauthenticated");
            assert_eq!(app.login(service, "ada@example.org", PASSWORD).await.problem(), "invalid-credentials");
            assert_eq!(app.login(service, "ada@example.org", "a brand new passphrase").await.status, StatusCode::OK);

            let out = app.call(Method::DELETE, &format!("/{service}/api/v1/session"), &second, None).await;
            assert_eq!(out.status, StatusCode::NO_CONTENT);
            let after = app.call(Method::GET, &format!("/{service}/api/v1/me"), &second, None).await;
            assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        }
    })
    .await;
}

#[tokio::test]
async fn accounts_are_per_service() {
    each_engine(|app| async move {
        let (issuer_session, _) = app.register("issuer", "bob@example.org", "Bob").await;
        assert_eq!(
            app.login("wallet", "bob@example.org", PASSWORD)
                .await
                .problem(),
            "invalid-credentials"
        );
        // The issuer's cookie means nothing to the verifier.
        let r = app
            .call(Method::GET, "/verifier/api/v1/me", &issuer_session, None)
            .await;
        assert_eq!(r.problem(), "unauthenticated");
    })
    .await;
}

#[tokio::test]
async fn registration_is_validated() {
    each_engine(|app| async move {
        let reg = |email: &str, password: &str, name: &str| {
            json!({"email": email, "password": password, "display_name": name})
        };
        for (body, field) in [
            (reg("not-an-email", PASSWORD, "X"), "email"),
            (reg("a@b.c", "short", "X"), "password"),
            (reg("a@b.c", PASSWORD, "   "), "display_name"),
            (reg("a@b.c", PASSWORD, &"x".repeat(200)), "display_name"),
        ] {
            let r = app.call(Method::POST, "/issuer/api/v1/accounts", &Auth::None, Some(body)).await;
            assert_eq!(r.problem(), "invalid");
            assert_eq!(r.body["field"], field);
        }
        app.register("issuer", "dup@example.org", "One").await;
        let again = app
            .call(Method::POST, "/issuer/api/v1/accounts", &Auth::None, Some(reg("DUP@example.org", PASSWORD, "Two")))
            .await;
        assert_eq!(again.problem(), "conflict");
    })
    .await;
}

#[tokio::test]
async fn cookie_requests_need_the_csrf_token_to_change_anything() {
    each_engine(|app| async move {
        let (session, _) = app.register("issuer", "carol@example.org", "Carol").await;
        let Auth::Session { cookie, .. } = session.clone() else {
            unreachable!()
        };
        let forged = Auth::Session {
            cookie,
            csrf: "guess".into(),
        };
        // Reading works without it; changing does not.
        assert_eq!(
            app.call(Method::GET, "/issuer/api/v1/me", &forged, None)
                .await
                .status,
            StatusCode::OK
        );
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/tokens",
                &forged,
                Some(json!({"name": "ci"})),
            )
            .await;
        assert_eq!(r.problem(), "csrf");
        let ok = app
            .call(
                Method::POST,
                "/issuer/api/v1/tokens",
                &session,
                Some(json!({"name": "ci"})),
            )
            .await;
        assert_eq!(ok.status, StatusCode::CREATED);
    })
    .await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    each_engine(|app| async move {
        let (session, _) = app.register("verifier", "dan@example.org", "Dan").await;
        let created = app
            .call(
                Method::POST,
                "/verifier/api/v1/tokens",
                &session,
                Some(json!({"name": "ATS sync"})),
            )
            .await;
        let token = created.body["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("carnet_verifier_"));
        let bearer = Auth::Bearer(token.clone());
        // Bearer tokens need no CSRF token.
        let me = app
            .call(Method::GET, "/verifier/api/v1/me", &bearer, None)
            .await;
        assert_eq!(me.body["account"]["email"], "dan@example.org");
        // A token makes no tokens: only a signed-in session does.
        let refused = app
            .call(
                Method::POST,
                "/verifier/api/v1/tokens",
                &bearer,
                Some(json!({"name": "other"})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let second = app
            .call(
                Method::POST,
                "/verifier/api/v1/tokens",
                &session,
                Some(json!({"name": "other"})),
            )
            .await;
        assert_eq!(second.status, StatusCode::CREATED);

        // The list never shows secrets; the database holds only a hash.
        let list = app
            .call(Method::GET, "/verifier/api/v1/tokens", &session, None)
            .await;
        assert_eq!(list.body.as_array().unwrap().len(), 2);
        assert!(!list.body.to_string().contains(&token));
        let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
            .fetch_all(app.ctx(ServiceKind::Verifier).db.pool())
            .await
            .unwrap();
        assert!(stored.iter().all(|(h,)| !h.contains(&token[16..])));

        let id = created.body["id"].as_str().unwrap();
        let revoked = app
            .call(
                Method::DELETE,
                &format!("/verifier/api/v1/tokens/{id}"),
                &session,
                None,
            )
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        assert_eq!(
            app.call(Method::GET, "/verifier/api/v1/me", &bearer, None)
                .await
                .problem(),
            "unauthenticated"
        );
        assert_eq!(
            app.call(
                Method::DELETE,
                &format!("/verifier/api/v1/tokens/{id}"),
                &session,
                None
            )
            .await
            .problem(),
            "not-found"
        );
        // Someone else's token cannot be revoked.
        let (other, _) = app.register("verifier", "eve@example.org", "Eve").await;
        let second_id = second.body["id"].as_str().unwrap();
        let r = app
            .call(
                Method::DELETE,
                &format!("/verifier/api/v1/tokens/{second_id}"),
                &other,
                None,
            )
            .await;
        assert_eq!(r.problem(), "not-found");
    })
    .await;
}

#[tokio::test]
async fn logins_are_throttled_per_address_then_released() {
    each_engine(|app| async move {
        app.register("wallet", "fay@example.org", "Fay").await;
        for _ in 0..5 {
            assert_eq!(
                app.login("wallet", "fay@example.org", "wrong password")
                    .await
                    .problem(),
                "invalid-credentials"
            );
        }
        let blocked = app.login("wallet", "fay@example.org", PASSWORD).await;
        assert_eq!(blocked.problem(), "rate-limited");
        let retry: i64 = blocked
            .headers
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        // Another address is not affected; unknown addresses are throttled the same way.
        app.register("wallet", "gus@example.org", "Gus").await;
        assert_eq!(
            app.login("wallet", "gus@example.org", PASSWORD)
                .await
                .status,
            StatusCode::OK
        );
        for _ in 0..5 {
            assert_eq!(
                app.login("wallet", "nobody@example.org", PASSWORD)
                    .await
                    .problem(),
                "invalid-credentials"
            );
        }
        assert_eq!(
            app.login("wallet", "nobody@example.org", PASSWORD)
                .await
                .problem(),
            "rate-limited"
        );
        app.clock.advance_secs(15 * 60 + 1);
        assert_eq!(
            app.login("wallet", "fay@example.org", PASSWORD)
                .await
                .status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_expire() {
    each_engine(|app| async move {
        let (session, _) = app.register("issuer", "hal@example.org", "Hal").await;
        app.clock.advance_secs(7 * 24 * 3600 - 10);
        assert_eq!(
            app.call(Method::GET, "/issuer/api/v1/me", &session, None)
                .await
                .status,
            StatusCode::OK
        );
        app.clock.advance_secs(20);
        assert_eq!(
            app.call(Method::GET, "/issuer/api/v1/me", &session, None)
                .await
                .problem(),
            "unauthenticated"
        );
    })
    .await;
}

#[tokio::test]
async fn security_changes_are_audited_and_readable_by_platform_admins_only() {
    each_engine(|app| async move {
        // Unconfirmed addresses: the log holds their creation and nothing else of theirs.
        let (admin, admin_id) = app
            .register_unverified("issuer", "root@example.org", "Root")
            .await;
        app.clock.advance_secs(1);
        let (user, _) = app
            .register_unverified("issuer", "ivy@example.org", "Ivy")
            .await;
        app.clock.advance_secs(1);
        app.call(
            Method::POST,
            "/issuer/api/v1/tokens",
            &user,
            Some(json!({"name": "t"})),
        )
        .await;
        assert_eq!(
            app.call(Method::GET, "/issuer/api/v1/audit", &user, None)
                .await
                .problem(),
            "forbidden"
        );
        app.make_platform_admin(ServiceKind::Issuer, &admin_id)
            .await;
        let log = app
            .call(Method::GET, "/issuer/api/v1/audit?limit=2", &admin, None)
            .await;
        assert_eq!(log.status, StatusCode::OK, "{}", log.body);
        let actions: Vec<&str> = log.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["token.created", "account.created"]);
        let next = log.body["next_cursor"].as_str().unwrap();
        let rest = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/audit?limit=2&cursor={next}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
        assert!(rest.body["next_cursor"].is_null());
        let filtered = app
            .call(
                Method::GET,
                "/issuer/api/v1/audit?action=account.created",
                &admin,
                None,
            )
            .await;
        assert_eq!(filtered.body["items"].as_array().unwrap().len(), 2);
        let bad = app
            .call(Method::GET, "/issuer/api/v1/audit?cursor=!!", &admin, None)
            .await;
        assert_eq!(bad.problem(), "invalid-cursor");
    })
    .await;
}
