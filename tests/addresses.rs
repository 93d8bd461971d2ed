//! Verified addresses and lost passwords: whoever registers an address before its owner gets
//! no role, invitation or credential of theirs (security review, finding 5); the owner confirms
//! it from the mailed link or code, changes it, and resets a lost password by mail (in the
//! wallet, the mail explains the recovery code instead). Through the API and the pages.

mod common;

use axum::http::{Method, StatusCode, header};
use carnet_service::ServiceKind;
use common::*;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn an_unverified_account_gets_no_role_invitation_or_offer_until_it_confirms() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let (alice, _) = app
            .register_unverified("issuer", "alice@centre.example", "Alice Martin")
            .await;
        let members = format!("/issuer/api/v1/organisations/{}/members", c.org);
        let add = json!({"email": "alice@centre.example", "role": "trainer"});
        let r = app
            .call(Method::POST, &members, &c.admin, Some(add.clone()))
            .await;
        assert_eq!(r.problem(), "invalid", "{}", r.body);
        assert_eq!(r.body["field"], "email");
        let r = app
            .call(
                Method::POST,
                &format!("/issuer/api/v1/organisations/{}/invitations", c.org),
                &c.admin,
                Some(json!({"email": "alice@centre.example", "role": "trainee"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let token = r.body["token"].as_str().unwrap().to_owned();
        let accept = json!({"token": token});
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/invitations/accept",
                &alice,
                Some(accept.clone()),
            )
            .await;
        assert_eq!(r.problem(), "address-unverified", "{}", r.body);
        let r = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/credential-offers",
                &alice,
                None,
            )
            .await;
        assert_eq!(r.problem(), "address-unverified");
        // Every page says so, and the invitation's page leads to the confirmation first.
        let page = html(&open_page(&app, &format!("/issuer/invitations/{token}"), &alice).await);
        assert!(
            page.contains("confirmez d&#39;abord votre adresse"),
            "{page}"
        );
        assert!(page.contains("/issuer/verify?next="), "{page}");
        assert!(!page.contains("invitations/accept"), "{page}");

        // The link opens a page that names the account, and confirms only on the button.
        let link = app
            .verification_link(ServiceKind::Issuer, "alice@centre.example")
            .await;
        let shown = open_page(&app, &format!("/issuer/verify/{link}"), &Auth::None).await;
        let shown = html(&shown);
        assert!(shown.contains("Alice Martin") && shown.contains("alice@centre.example"));
        let me = app
            .call(Method::GET, "/issuer/api/v1/me", &alice, None)
            .await;
        assert_eq!(
            me.body["account"]["email_verified"], false,
            "opening is not confirming"
        );
        let (visitor, form_token) = app.visitor("issuer").await;
        let r = post_form(
            &app,
            &format!("/issuer/verify/{link}"),
            &format!("csrf={form_token}"),
            &visitor,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(html(&r).contains("l&#39;adresse est confirmée"));
        let me = app
            .call(Method::GET, "/issuer/api/v1/me", &alice, None)
            .await;
        assert_eq!(me.body["account"]["email_verified"], true);
        // A link works once.
        let again = post_form(
            &app,
            &format!("/issuer/verify/{link}"),
            &format!("csrf={form_token}"),
            &visitor,
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert!(html(&again).contains("n&#39;est plus valable"));

        // Now the invitation, the role and the offers reach her.
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/invitations/accept",
                &alice,
                Some(accept),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app.call(Method::POST, &members, &c.admin, Some(add)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/credential-offers",
                &alice,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let audit: Vec<(String,)> =
            sqlx::query_as("SELECT action FROM audit_log WHERE action = 'account.email_verified'")
                .fetch_all(app.ctx(ServiceKind::Issuer).db.pool())
                .await
                .unwrap();
        assert!(!audit.is_empty());

        // The same on the recruiters' side: a team takes only confirmed colleagues.
        let (rh, _) = app
            .register("verifier", "rh@acier.example", "Inès Morel")
            .await;
        let company = app
            .call(
                Method::POST,
                "/verifier/api/v1/companies",
                &rh,
                Some(json!({"name": "Aciéries du Rhône", "siret": "73282932000074"})),
            )
            .await;
        assert_eq!(company.status, StatusCode::CREATED, "{}", company.body);
        app.register_unverified("verifier", "paul@acier.example", "Paul")
            .await;
        let r = app
            .call(
                Method::POST,
                &format!(
                    "/verifier/api/v1/companies/{}/members",
                    company.body["id"].as_str().unwrap()
                ),
                &rh,
                Some(json!({"email": "paul@acier.example", "role": "recruiter"})),
            )
            .await;
        assert_eq!(r.body["field"], "email", "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn the_mailed_code_confirms_and_wrong_codes_run_out() {
    each_engine(|app| async move {
        let (lea, _) = app
            .register_unverified("issuer", "lea@example.org", "Léa Nouvelle")
            .await;
        let mail = app.mailbox(ServiceKind::Issuer, "lea@example.org").await;
        assert_eq!(mail.len(), 1);
        let (kind, subject, text) = &mail[0];
        assert_eq!(
            (kind.as_str(), subject.as_str()),
            ("verification", "Confirmez votre adresse e-mail")
        );
        assert!(text.starts_with("Bonjour Léa Nouvelle,"), "{text}");
        let code = app
            .verification_code(ServiceKind::Issuer, "lea@example.org")
            .await;
        let enter = |code: String| {
            let (app, lea) = (&app, lea.clone());
            async move {
                app.call(
                    Method::POST,
                    "/issuer/api/v1/me/verification/code",
                    &lea,
                    Some(json!({"code": code})),
                )
                .await
            }
        };
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let r = enter(wrong.to_owned()).await;
            assert_eq!(r.body["field"], "code", "{}", r.body);
        }
        // Five wrong codes spent the link: even the right one no longer works.
        let r = enter(code.clone()).await;
        assert_eq!(r.problem(), "invalid");
        // A new mail, a new code; spaces do not matter.
        app.clock.advance_secs(1);
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/me/verification",
                &lea,
                Some(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let code = app
            .verification_code(ServiceKind::Issuer, "lea@example.org")
            .await;
        let r = enter(format!("{} {}", &code[..3], &code[3..])).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let me = app.call(Method::GET, "/issuer/api/v1/me", &lea, None).await;
        assert_eq!(me.body["account"]["email_verified"], true);
        let r = app
            .call(
                Method::POST,
                "/issuer/api/v1/me/verification",
                &lea,
                Some(json!({})),
            )
            .await;
        assert_eq!(r.problem(), "conflict", "nothing left to confirm");

        // Asking again and again is held to a few mails an hour.
        let (max, _) = app
            .register_unverified("wallet", "max@example.org", "Max")
            .await;
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let r = app
                .call(
                    Method::POST,
                    "/wallet/api/v1/me/verification",
                    &max,
                    Some(json!({})),
                )
                .await;
            statuses.push(r.status.as_u16());
        }
        assert_eq!(statuses, [202, 202, 202, 202, 429]);
    })
    .await;
}

#[tokio::test]
async fn a_changed_address_replaces_the_old_one_once_confirmed() {
    each_engine(|app| async move {
        let (ines, _) = app
            .register("verifier", "ines@acier.example", "Inès Morel")
            .await;
        app.register("verifier", "autre@acier.example", "Autre")
            .await;
        let ask = |email: &'static str| {
            let (app, ines) = (&app, ines.clone());
            async move {
                app.call(
                    Method::POST,
                    "/verifier/api/v1/me/verification",
                    &ines,
                    Some(json!({"email": email})),
                )
                .await
            }
        };
        let r = ask("autre@acier.example").await;
        assert_eq!(r.body["field"], "email", "taken: {}", r.body);
        let r = ask("ines.morel@acier.example").await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let me = app
            .call(Method::GET, "/verifier/api/v1/me", &ines, None)
            .await;
        assert_eq!(
            me.body["account"]["email"], "ines@acier.example",
            "not before it is confirmed"
        );
        let mail = app
            .mailbox(ServiceKind::Verifier, "ines.morel@acier.example")
            .await;
        assert!(
            mail[0].2.contains("utilise désormais cette adresse"),
            "{}",
            mail[0].2
        );
        app.follow_verification(ServiceKind::Verifier, "ines.morel@acier.example")
            .await;
        let me = app
            .call(Method::GET, "/verifier/api/v1/me", &ines, None)
            .await;
        assert_eq!(me.body["account"]["email"], "ines.morel@acier.example");
        assert_eq!(me.body["account"]["email_verified"], true);
        assert_eq!(
            app.login("verifier", "ines.morel@acier.example", PASSWORD)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.login("verifier", "ines@acier.example", PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn a_lost_password_is_reset_by_mail_and_every_session_ends() {
    each_engine(|app| async move {
        let (old_session, _) = app
            .register("issuer", "nathalie@centre.example", "Nathalie")
            .await;
        let ask = |service: &'static str, email: &'static str| {
            let app = &app;
            async move {
                app.call(
                    Method::POST,
                    &format!("/{service}/api/v1/password-resets"),
                    &Auth::None,
                    Some(json!({"email": email})),
                )
                .await
            }
        };
        // The same answer whether an account has the address or not; only the owner gets mail.
        app.clock.advance_secs(1);
        assert_eq!(
            ask("issuer", "personne@centre.example").await.status,
            StatusCode::ACCEPTED
        );
        assert!(
            app.mailbox(ServiceKind::Issuer, "personne@centre.example")
                .await
                .is_empty()
        );
        assert_eq!(
            ask("issuer", "nathalie@centre.example").await.status,
            StatusCode::ACCEPTED
        );
        let mail = app
            .mailbox(ServiceKind::Issuer, "nathalie@centre.example")
            .await;
        let (kind, subject, text) = &mail[0];
        assert_eq!(
            (kind.as_str(), subject.as_str()),
            ("password_reset", "Nouveau mot de passe")
        );
        let token = text
            .split_once("/issuer/reset/")
            .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_owned())
            .expect("a reset link");
        let page = html(&open_page(&app, &format!("/issuer/reset/{token}"), &Auth::None).await);
        assert!(page.contains("nathalie@centre.example"), "{page}");
        let set = |password: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                app.call(
                    Method::POST,
                    &format!("/issuer/api/v1/password-resets/{token}"),
                    &Auth::None,
                    Some(json!({"new_password": password})),
                )
                .await
            }
        };
        assert_eq!(set("court").await.problem(), "invalid");
        assert_eq!(
            set("un tout nouveau mot de passe").await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            set("encore un autre mot de passe").await.status,
            StatusCode::NOT_FOUND,
            "once"
        );
        let me = app
            .call(Method::GET, "/issuer/api/v1/me", &old_session, None)
            .await;
        assert_eq!(me.problem(), "unauthenticated", "every session ended");
        assert_eq!(
            app.login(
                "issuer",
                "nathalie@centre.example",
                "un tout nouveau mot de passe"
            )
            .await
            .status,
            StatusCode::OK
        );
        // Too many requests for one address are refused for a while.
        let mut last = StatusCode::ACCEPTED;
        for _ in 0..10 {
            last = ask("issuer", "nathalie@centre.example").await.status;
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);

        // In the wallet nothing bypasses the password: the mail leads to the recovery code.
        app.register("wallet", "camille@example.org", "Camille")
            .await;
        app.clock.advance_secs(1);
        assert_eq!(
            ask("wallet", "camille@example.org").await.status,
            StatusCode::ACCEPTED
        );
        let mail = app
            .mailbox(ServiceKind::Wallet, "camille@example.org")
            .await;
        let (kind, _, text) = &mail[0];
        assert_eq!(kind, "password_recovery");
        assert!(
            text.contains("code de secours") && text.contains("/wallet/recover"),
            "{text}"
        );
        assert!(!text.contains("/reset/"));
    })
    .await;
}

/// The pages: sign-up leads to the confirmation page, the code typed there leads on to where
/// the person was going, and the banner of every page goes; a lost password through forms;
/// in English on request, mail included.
#[tokio::test]
async fn the_pages_confirm_an_address_and_reset_a_password() {
    each_engine(|app| async move {
        let (visitor, token) = app.visitor("verifier").await;
        let r = app
            .send(
                Method::POST,
                "/verifier/sign-up",
                &Auth::None,
                Some(
                    format!("display_name=In%C3%A8s+Morel&email=ines%40acier.example&password=correct+horse+battery&next=%2Fverifier%2Fcandidates&csrf={token}")
                        .as_bytes(),
                ),
                Some(FORM),
                &[("cookie", visitor.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers[header::LOCATION],
            "/verifier/verify?next=%2Fverifier%2Fcandidates"
        );
        let session = cookie_of(&r);
        let who = Auth::Session { cookie: session.clone(), csrf: String::new() };
        let home = html(&open_page(&app, "/verifier", &who).await);
        assert!(home.contains("pas encore confirmée") && home.contains("/verifier/verify\""), "{home}");
        let page = html(&open_page(&app, "/verifier/verify?next=%2Fverifier%2Fcandidates", &who).await);
        assert!(page.contains("ines@acier.example"), "{page}");
        let csrf = csrf_of(&page);
        let wrong = post_form(&app, "/verifier/verify", &format!("csrf={csrf}&code=123+45&next=%2Fverifier%2Fcandidates"), &session).await;
        let code = app.verification_code(ServiceKind::Verifier, "ines@acier.example").await;
        if code != "12345" {
            assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
            let again = html(&wrong);
            assert!(again.contains("value=\"123 45\""), "what was typed stays: {again}");
        }
        let r = post_form(&app, "/verifier/verify", &format!("csrf={csrf}&code={code}&next=%2Fverifier%2Fcandidates"), &session).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.headers[header::LOCATION], "/verifier/candidates");
        let home = html(&open_page(&app, "/verifier", &who).await);
        assert!(!home.contains("pas encore confirmée"), "{home}");

        // A lost password, in English: the sign-in page's link, the form, the mail, the new one.
        let sign_in = app
            .send(Method::GET, "/issuer?lang=en", &Auth::None, None, None, &[])
            .await;
        assert!(html(&sign_in).contains("/issuer/forgot"));
        app.register("issuer", "nathalie@centre.example", "Nathalie").await;
        sqlx::query("UPDATE accounts SET language = 'en'")
            .execute(app.ctx(ServiceKind::Issuer).db.pool())
            .await
            .unwrap();
        app.clock.advance_secs(1);
        let (visitor, token) = app.visitor("issuer").await;
        let bad = post_form(&app, "/issuer/forgot", &format!("csrf={token}&email=pas+une+adresse"), &visitor).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html(&bad).contains("value=\"pas une adresse\""));
        let r = post_form(&app, "/issuer/forgot", &format!("csrf={token}&email=nathalie%40centre.example"), &visitor).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(html(&r).contains("un courriel vient d&#39;y partir"));
        let mail = app.mailbox(ServiceKind::Issuer, "nathalie@centre.example").await;
        let (_, subject, text) = &mail[0];
        assert_eq!(subject, "A new password", "in the account's language");
        let link = text
            .split_once("/issuer/reset/")
            .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_owned())
            .unwrap();
        let short = post_form(&app, &format!("/issuer/reset/{link}"), &format!("csrf={token}&new_password=court"), &visitor).await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = post_form(&app, &format!("/issuer/reset/{link}"), &format!("csrf={token}&new_password=un+nouveau+mot+de+passe"), &visitor).await;
        assert!(html(&r).contains("Votre mot de passe est changé"), "{}", html(&r));
        assert_eq!(
            app.login("issuer", "nathalie@centre.example", "un nouveau mot de passe").await.status,
            StatusCode::OK
        );
        // Without the form token, nothing.
        let r = post_form(&app, "/issuer/forgot", "csrf=x&email=nathalie%40centre.example", &visitor).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// « Mes notifications » on every portal: the link in every page's bar with what is unread,
/// the list (new ones marked, read once shown), and the choice per kind from a form.
#[tokio::test]
async fn the_notifications_page_lists_marks_read_and_keeps_the_choices() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        c.evaluate(&app, json!("or")).await;
        let home = html(&open_page(&app, "/issuer", &c.trainee).await);
        assert!(
            home.contains("<span class=\"label\">Notifications</span> <span class=\"badge\""),
            "{home}"
        );
        let page = html(&open_page(&app, "/issuer/notifications", &c.trainee).await);
        assert!(
            page.contains("Une attestation vous attend — Centre Lyon Métallerie"),
            "{page}"
        );
        assert!(page.contains("nouveau"), "{page}");
        let r = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/notifications",
                &c.trainee,
                None,
            )
            .await;
        assert_eq!(r.body["unread"], 0, "read once shown: {}", r.body);
        let home = html(&open_page(&app, "/issuer", &c.trainee).await);
        assert!(!home.contains("class=\"badge\""), "{home}");
        // The choice, from the form.
        let csrf = csrf_of(&page);
        let r = post_form(
            &app,
            "/issuer/notifications/preferences",
            &format!("csrf={csrf}&credential_offer=daily&convocation=never"),
            cookie(&c.trainee),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = html(&open_page(&app, "/issuer/notifications?saved=1", &c.trainee).await);
        assert!(
            page.contains("C&#39;est enregistré.") || page.contains("C'est enregistré."),
            "{page}"
        );
        assert!(page.contains("<option value=\"daily\" selected>"), "{page}");
        let r = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/notification-preferences",
                &c.trainee,
                None,
            )
            .await;
        assert_eq!(r.body["credential_offer"], "daily");
        assert_eq!(r.body["convocation"], "never");
        // Without the page's token, nothing changes.
        let r = post_form(
            &app,
            "/issuer/notifications/preferences",
            "csrf=x&convocation=daily",
            cookie(&c.trainee),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The platform's administrator has the mail sent in their bar.
        let (admin, admin_id) = app
            .register("verifier", "admin@plateforme.example", "Admin")
            .await;
        app.make_platform_admin(ServiceKind::Verifier, &admin_id)
            .await;
        let home = html(&open_page(&app, "/verifier", &admin).await);
        assert!(
            home.contains("href=\"/verifier/outbox\"")
                && home.contains("<span class=\"label\">Courriers envoyés</span>"),
            "{home}"
        );
    })
    .await;
}
