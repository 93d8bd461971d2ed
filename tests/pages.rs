//! The pages for people, over HTTP (the browser tests drive the same pages in Chromium): the
//! wallet's sign-up with its recovery code shown once, sign-in, the carnet, sign-out with the
//! CSRF token of the form; French by default, English on request; bad forms answered with the
//! page and a message, never a 500.

mod common;

use axum::http::{Method, StatusCode, header};
use common::*;

const FORM: &str = "application/x-www-form-urlencoded";

fn html(reply: &Reply) -> String {
    String::from_utf8(reply.raw.clone()).unwrap()
}

fn cookie_of(reply: &Reply) -> String {
    reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The value of the hidden `csrf` field of a page's form.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_pages() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let form = |path: &'static str, body: String, cookie: Option<String>| {
            let app = &app;
            async move {
                let extra: Vec<(&str, &str)> = cookie
                    .as_deref()
                    .map(|c| vec![("cookie", c)])
                    .unwrap_or_default();
                app.send(
                    Method::POST,
                    path,
                    &Auth::None,
                    Some(body.as_bytes()),
                    Some(FORM),
                    &extra,
                )
                .await
            }
        };
        let get = |path: &'static str, cookie: Option<String>, lang: &'static str| {
            let app = &app;
            async move {
                let mut extra = vec![("accept-language", lang)];
                if let Some(c) = &cookie {
                    extra.push(("cookie", c.as_str()));
                }
                app.send(Method::GET, path, &Auth::None, None, None, &extra)
                    .await
            }
        };

        // Nobody signed in: the page to sign in or create a carnet, in French.
        let r = get("/wallet", None, "fr-FR,fr;q=0.9").await;
        assert_eq!(r.status, StatusCode::OK);
        let page = html(&r);
        assert!(
            page.contains("<html lang=\"fr\">") && page.contains("Créer mon carnet"),
            "{page}"
        );
        assert!(page.contains("/wallet/assets/carnet.css"));
        let r = get("/wallet", None, "en").await;
        assert!(html(&r).contains("Create my carnet"));

        // A password too short: the page again, with why.
        let r = form(
            "/wallet/sign-up",
            "display_name=Camille+Durand&email=camille%40example.org&password=court".into(),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html(&r).contains("10"), "{}", html(&r));

        // Created: the recovery code, once, and a session.
        let r = form(
            "/wallet/sign-up",
            format!(
                "display_name=Camille+Durand&email=camille%40example.org&password={}",
                PASSWORD.replace(' ', "+")
            ),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", html(&r));
        let page = html(&r);
        assert!(
            page.contains("Votre carnet est prêt") && page.contains("code de secours"),
            "{page}"
        );
        let cookie = cookie_of(&r);
        let r = get("/wallet", Some(cookie.clone()), "fr").await;
        let page = html(&r);
        assert!(
            page.contains("Mon carnet de compétences") && page.contains("Camille Durand"),
            "{page}"
        );
        assert!(page.contains("Aucune compétence pour"), "{page}");

        // Nothing shared yet.
        let r = get("/wallet/shared", Some(cookie.clone()), "fr").await;
        assert!(
            html(&r).contains("Vous n&#39;avez encore rien partagé"),
            "{}",
            html(&r)
        );
        let r = get("/wallet/shared", None, "fr").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "signed in only");

        // Adding a credential from a pasted offer: the form's token, and a link that is one.
        let r = form(
            "/wallet/receive",
            "csrf=forged&offer=x".into(),
            Some(cookie.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = form(
            "/wallet/receive",
            format!("csrf={}&offer=not+a+link&tx_code=", csrf_of(&page)),
            Some(cookie.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html(&r).contains("n&#39;a pas pu être ajoutée"),
            "{}",
            html(&r)
        );

        // Signing out needs the form's CSRF token.
        let r = form(
            "/wallet/sign-out",
            "csrf=forged".into(),
            Some(cookie.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = form(
            "/wallet/sign-out",
            format!("csrf={}", csrf_of(&page)),
            Some(cookie.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = get("/wallet", Some(cookie), "fr").await;
        assert!(html(&r).contains("Créer mon carnet"), "signed out");

        // Signing in: a wrong password says so; the right one opens the carnet.
        let r = form(
            "/wallet/sign-in",
            "email=camille%40example.org&password=wrong+password".into(),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(html(&r).contains("Adresse ou mot de passe incorrect"));
        let r = form(
            "/wallet/sign-in",
            "email=camille%40example.org".into(),
            None,
        )
        .await;
        assert!(r.status.is_client_error(), "a missing field: {}", r.status);
        let r = form(
            "/wallet/sign-in",
            format!(
                "email=camille%40example.org&password={}",
                PASSWORD.replace(' ', "+")
            ),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.headers[header::LOCATION], "/wallet");
        let r = get("/wallet", Some(cookie_of(&r)), "en").await;
        assert!(html(&r).contains("My competency logbook"));
    }
}
