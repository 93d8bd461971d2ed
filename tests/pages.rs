//! The pages for people, over HTTP (the browser tests drive the same pages in Chromium): the
//! wallet's sign-up with its recovery code shown once, sign-in, the carnet, sign-out with the
//! CSRF token of the form; French by default, English on request; bad forms answered with the
//! page and a message, never a 500.

mod common;

use axum::http::{Method, StatusCode, header};
use common::*;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_pages() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        // Signed out, a form carries the visitor's form token, as the page gives it.
        let (visitor, token) = app.visitor("wallet").await;
        let form = |path: &'static str, body: String, cookie: Option<String>| {
            let app = &app;
            let (visitor, token) = (visitor.clone(), token.clone());
            async move {
                let (cookie, body) = match cookie {
                    Some(c) => (c, body),
                    None => (visitor, format!("{body}&csrf={token}")),
                };
                let extra = vec![("cookie", cookie.as_str())];
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

/// The centre's and the recruiters' portals over HTTP, on both engines: a form is the API call
/// it stands for — a bad SIRET comes back as a page saying why (with the way back), a form
/// without its CSRF token is refused, and nothing is created by either; a good form leads on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_are_api_calls() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let send = |method: Method, path: String, body: Option<String>, cookie: String| {
            let app = &app;
            async move {
                let extra = vec![
                    ("cookie", cookie.as_str()),
                    ("referer", "http://127.0.0.1:8080/verifier"),
                ];
                let body = body.map(String::into_bytes);
                let media = body.as_ref().map(|_| FORM);
                app.send(method, &path, &Auth::None, body.as_deref(), media, &extra)
                    .await
            }
        };
        for service in ["issuer", "verifier"] {
            // Signed out: the portal's sign-in page.
            let r = send(Method::GET, format!("/{service}"), None, String::new()).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(html(&r).contains("/sign-up"), "{}", html(&r));
        }
        // Any other page leads there, to come back once signed in; but never elsewhere.
        let r = send(
            Method::GET,
            "/verifier/companies/com_x/offers".into(),
            None,
            String::new(),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let location = r.headers[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(
            location,
            "/verifier?next=%2Fverifier%2Fcompanies%2Fcom_x%2Foffers"
        );
        let page = html(&send(Method::GET, location, None, String::new()).await);
        assert!(
            page.contains("name=\"next\" value=\"/verifier/companies/com_x/offers\""),
            "{page}"
        );
        for elsewhere in [
            "https%3A%2F%2Fevil.example%2F",
            "%2F%2Fevil.example",
            "%2Fwallet",
        ] {
            let page = html(
                &send(
                    Method::GET,
                    format!("/verifier?next={elsewhere}"),
                    None,
                    String::new(),
                )
                .await,
            );
            assert!(!page.contains("name=\"next\""), "{elsewhere}: {page}");
        }
        let r = form_sign_up(&app, "/verifier/sign-up", "rh@acier.example").await;
        let cookie = cookie_of(&r);
        let home = send(Method::GET, "/verifier".into(), None, cookie.clone()).await;
        let page = html(&home);
        assert!(page.contains("Déclarer mon entreprise"), "{page}");
        let csrf = csrf_of(&page);

        let create = |body: String| {
            send(
                Method::POST,
                "/verifier/do/api/v1/companies".into(),
                Some(body),
                cookie.clone(),
            )
        };
        let r = create(format!(
            "csrf={csrf}&name=Aci%C3%A9ries&siret=12345678901234"
        ))
        .await;
        // Refused, from its page: back to the page, which says why in French beside the form.
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        assert_eq!(r.headers[header::LOCATION], "/verifier");
        let failed = cookie_set(&r, "carnet_verifier_flash=!");
        let page = html(
            &send(
                Method::GET,
                "/verifier".into(),
                None,
                format!("{cookie}; {failed}"),
            )
            .await,
        );
        assert!(
            page.contains("Rien n&#39;a été enregistré")
                && page.contains("SIREN")
                && page.contains("data-field=\"siret\""),
            "{page}"
        );
        let r = create("name=Aci%C3%A9ries&siret=73282932000074".into()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", html(&r));
        // A field the form cannot turn into the API's JSON comes back the same way, beside it.
        let r = create(format!("csrf={csrf}&siret:int=x")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let failed = cookie_set(&r, "carnet_verifier_flash=!");
        let page = html(
            &send(
                Method::GET,
                "/verifier".into(),
                None,
                format!("{cookie}; {failed}"),
            )
            .await,
        );
        assert!(page.contains("data-field=\"siret\""), "{page}");
        let r = send(
            Method::POST,
            "/verifier/do/elsewhere".into(),
            Some(format!("csrf={csrf}")),
            cookie.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let page = html(&send(Method::GET, "/verifier".into(), None, cookie.clone()).await);
        assert!(!page.contains("Aciéries"), "nothing was created: {page}");

        let r = create(format!(
            "csrf={csrf}&_next=%2F&name=Aci%C3%A9ries+du+Rh%C3%B4ne&siret=73282932000074"
        ))
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        assert_eq!(r.headers[header::LOCATION], "/verifier");
        let page = html(&send(Method::GET, "/verifier".into(), None, cookie.clone()).await);
        assert!(
            page.contains("Aciéries du Rhône") && page.contains("en attente de validation"),
            "{page}"
        );
        // Not approved: its search is a page saying so, not a 500.
        let r = send(
            Method::GET,
            "/verifier/api/v1/companies".into(),
            None,
            cookie.clone(),
        )
        .await;
        let company = r.body["items"][0]["id"].as_str().unwrap().to_owned();
        let r = send(
            Method::GET,
            format!("/verifier/companies/{company}"),
            None,
            cookie.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", html(&r));
        assert!(html(&r).contains("Votre demande n&#39;a pas abouti"));

        // Approved, the company composes an offer with a PDF: the page's multipart form goes
        // to the API's documents, which checks the file is a PDF.
        let (admin, admin_id) = app
            .register("verifier", "admin@plateforme.example", "Admin")
            .await;
        app.make_platform_admin(carnet_service::ServiceKind::Verifier, &admin_id)
            .await;
        let r = app
            .call(
                Method::POST,
                &format!("/verifier/api/v1/companies/{company}/approval"),
                &admin,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let multipart = |document: &str| {
            format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nSoudeur TIG\r\n\
                 --XyZ\r\nContent-Disposition: form-data; name=\"claim.email\"\r\n\r\nrequired\r\n\
                 --XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"offre.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n{document}\r\n--XyZ--\r\n"
            )
        };
        let compose = |body: String| {
            let (app, cookie, company) = (&app, cookie.clone(), company.clone());
            async move {
                app.send(
                    Method::POST,
                    &format!("/verifier/companies/{company}/offers"),
                    &Auth::None,
                    Some(body.as_bytes()),
                    Some("multipart/form-data; boundary=XyZ"),
                    &[("cookie", cookie.as_str())],
                )
                .await
            }
        };
        let r = compose(multipart("not a pdf")).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", html(&r));
        assert!(html(&r).contains("Votre demande n&#39;a pas abouti"));
        // A PDF, to nobody the search finds: refused by the offer, after the document.
        let r = compose(multipart(
            "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF",
        ))
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", html(&r));
    }
}

async fn form_sign_up(app: &TestApp, path: &str, email: &str) -> Reply {
    let service = path.trim_start_matches('/').split('/').next().unwrap();
    let (visitor, token) = app.visitor(service).await;
    let body = format!(
        "display_name=In%C3%A8s+Morel&email={}&password=correct+horse+battery&csrf={token}",
        email.replace('@', "%40")
    );
    let r = app
        .send(
            Method::POST,
            path,
            &Auth::None,
            Some(body.as_bytes()),
            Some(FORM),
            &[("cookie", visitor.as_str())],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    r
}

/// The wallet's account pages over HTTP, on both engines: the backup downloaded as a file and
/// restored into another account from an uploaded file, a lost password replaced with the
/// recovery code (the new session handed on by the form), and the account deleted only with
/// the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_account_pages() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        // Signed out, a form carries the visitor's form token, as the page gives it.
        let (visitor, token) = app.visitor("wallet").await;
        let post = |path: &str, body: Vec<u8>, media: &'static str, cookie: &str| {
            let (app, path, cookie) = (&app, path.to_owned(), cookie.to_owned());
            let (visitor, token) = (visitor.clone(), token.clone());
            async move {
                let (cookie, body) = if cookie.is_empty() {
                    let mut body = body;
                    body.extend_from_slice(format!("&csrf={token}").as_bytes());
                    (visitor, body)
                } else {
                    (cookie, body)
                };
                let extra: Vec<(&str, &str)> = vec![("cookie", cookie.as_str())];
                app.send(
                    Method::POST,
                    &path,
                    &Auth::None,
                    Some(&body),
                    Some(media),
                    &extra,
                )
                .await
            }
        };
        let get = |path: &'static str, cookie: String| {
            let app = &app;
            async move {
                app.send(
                    Method::GET,
                    path,
                    &Auth::None,
                    None,
                    None,
                    &[("cookie", cookie.as_str())],
                )
                .await
            }
        };
        let sign_up = |email: &'static str| {
            let body = format!(
                "display_name=Camille+Durand&email={}&password=correct+horse+battery",
                email.replace('@', "%40")
            );
            post("/wallet/sign-up", body.into_bytes(), FORM, "")
        };
        let r = sign_up("camille@example.org").await;
        let welcome = html(&r);
        let at = welcome.find("class=\"code notice\"").unwrap();
        let code = welcome[at..]
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .trim()
            .to_owned();
        let cookie = cookie_of(&r);
        let account = html(&get("/wallet/account", cookie.clone()).await);
        assert!(account.contains("Sauvegarder mon carnet"), "{account}");
        let csrf = csrf_of(&account);

        // A photo that is none, or has no QR code: the carnet says so.
        let photo = |bytes: &[u8]| {
            let mut body = format!(
                "--P\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --P\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"qr.jpg\"\r\n\
                 Content-Type: image/jpeg\r\n\r\n"
            )
            .into_bytes();
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n--P--\r\n");
            post(
                "/wallet/receive/photo",
                body,
                "multipart/form-data; boundary=P",
                &cookie,
            )
        };
        let r = photo(b"GIF89a not a photo").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", html(&r));
        assert!(
            html(&r).contains("pas une photo JPEG ou PNG"),
            "{}",
            html(&r)
        );

        // The backup, a file to download.
        let r = post(
            "/wallet/backup",
            format!("csrf={csrf}&passphrase=une+phrase+longue").into_bytes(),
            FORM,
            &cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let file = r.raw.clone();
        let r = post(
            "/wallet/backup",
            format!("csrf={csrf}&passphrase=court").into_bytes(),
            FORM,
            &cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", html(&r));

        // Restored elsewhere from the uploaded file; a file that is not one is said so.
        let other = cookie_of(&sign_up("camille.ailleurs@example.org").await);
        let other_csrf = csrf_of(&html(&get("/wallet/account", other.clone()).await));
        let upload = |file: &[u8], passphrase: &str| {
            let mut body = format!(
                "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{other_csrf}\r\n\
                 --B\r\nContent-Disposition: form-data; name=\"passphrase\"\r\n\r\n{passphrase}\r\n\
                 --B\r\nContent-Disposition: form-data; name=\"backup\"; filename=\"carnet.json\"\r\n\
                 Content-Type: application/json\r\n\r\n"
            )
            .into_bytes();
            body.extend_from_slice(file);
            body.extend_from_slice(b"\r\n--B--\r\n");
            post(
                "/wallet/restore",
                body,
                "multipart/form-data; boundary=B",
                &other,
            )
        };
        let r = upload(&file, "une phrase longue").await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        assert!(
            html(&r).contains("Sauvegarde restaurée : 0 attestations ajoutées"),
            "{}",
            html(&r)
        );
        let r = upload(&file, "une autre phrase").await;
        assert!(r.status.is_client_error(), "{}", html(&r));
        let r = upload(b"<html>", "une phrase longue").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html(&r).contains("pas une sauvegarde de carnet"));

        // A lost password: a wrong code is said so; the right one opens the carnet.
        let recover = |code: &str| {
            let body = format!(
                "_next=%2F&email=camille%40example.org&recovery_code={}&new_password=un+nouveau+mot+de+passe",
                code.replace(' ', "+")
            );
            post("/wallet/do/api/v1/recovery", body.into_bytes(), FORM, "")
        };
        let r = recover("WRONG-CODE-0000").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", html(&r));
        assert!(html(&r).contains("Votre demande n&#39;a pas abouti"));
        let r = recover(&code).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let recovered = cookie_of(&r);
        let page = html(&get("/wallet", recovered.clone()).await);
        assert!(page.contains("Mon carnet de compétences"), "{page}");

        // Deleting the account needs the password.
        let csrf = csrf_of(&page);
        let delete = |password: &str| {
            let body = format!(
                "csrf={csrf}&_method=DELETE&_next=%2F&password={}",
                password.replace(' ', "+")
            );
            post(
                "/wallet/do/api/v1/account",
                body.into_bytes(),
                FORM,
                &recovered,
            )
        };
        let r = delete("correct horse battery").await;
        assert!(r.status.is_client_error(), "the old password: {}", html(&r));
        let r = delete("un nouveau mot de passe").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let page = html(&get("/wallet", recovered).await);
        assert!(page.contains("Créer mon carnet"), "{page}");
    }
}

/// A half-day added with the attendance page's own form is the half-day chosen, and reads as
/// such: the form's choices are the API's (the page sent `am`/`pm`, which the API refused).
#[tokio::test]
async fn a_half_day_added_from_the_page_reads_as_chosen() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let c = centre(&app).await;
        let cookie = cookie(&c.trainer);
        let page_path = format!("/issuer/orgs/{}/sessions/{}/attendance", c.org, c.session);
        let trainer = &c.trainer;
        let open = |path: String| {
            let app = &app;
            async move { open_page(app, &path, trainer).await }
        };
        let page = html(&open(page_path.clone()).await);
        let form_at = page.find("/attendance/slots\"").expect("the add form");
        let action_at = page[..form_at].rfind("action=\"").unwrap() + 8;
        let action = page[action_at..form_at + "/attendance/slots".len()].to_owned();
        let select = &page[page.find("<select name=\"half\"").unwrap()..];
        let select = &select[..select.find("</select>").unwrap()];
        let choices: Vec<&str> = select
            .split("value=\"")
            .skip(1)
            .map(|v| &v[..v.find('"').unwrap()])
            .collect();
        assert_eq!(choices.len(), 2, "{select}");
        for half in &choices {
            let body = format!("csrf={}&day=2026-03-02&half={half}", csrf_of(&page));
            let r = post_form(&app, &action, &body, cookie).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{half}: {}", html(&r));
        }
        let page = html(&open(page_path).await);
        assert!(page.contains("2 mars<br>matin"), "{page}");
        assert!(page.contains("2 mars<br>après-midi"), "{page}");
        // The slot page of the afternoon says so, with its hours.
        let at = page.find("2 mars<br>après-midi").unwrap();
        let href_at = page[..at].rfind("href=\"").unwrap() + 6;
        let slot = &page[href_at..href_at + page[href_at..].find('"').unwrap()];
        let slot_page = html(&open(slot.to_owned()).await);
        assert!(slot_page.contains("après-midi"), "{slot_page}");
    }
}

/// A session's page shows each visitor the forms the API takes from them, and no other
/// (docs/ROLES.md): the trainer evaluates; the centre's manager also adds members, plans the
/// calendar, certifies completion and attests identities; the trainee does none of it.
#[tokio::test]
async fn a_session_page_shows_only_the_forms_its_visitor_may_use() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let c = centre(&app).await;
        let manager = c.manager.clone();
        let path = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let page_of = |who: &Auth| {
            let (app, path, who) = (&app, &path, who.clone());
            async move {
                let r = open_page(app, path, &who).await;
                assert_eq!(r.status, StatusCode::OK);
                html(&r)
            }
        };
        let forms = [
            ("evaluate", "/evaluate\""),
            ("members", "/members\""),
            ("calendar", "/events\""),
            ("completion", "/completion\""),
            ("identity", "/identity\""),
        ];
        for (who, auth, allowed) in [
            ("trainee", &c.trainee, &[][..]),
            ("trainer", &c.trainer, &["evaluate"][..]),
            (
                "manager",
                &manager,
                &["evaluate", "members", "calendar", "completion", "identity"][..],
            ),
            (
                "admin",
                &c.admin,
                &["evaluate", "members", "calendar", "completion", "identity"][..],
            ),
        ] {
            let page = page_of(auth).await;
            for (form, action) in forms {
                assert_eq!(
                    page.contains(action),
                    allowed.contains(&form),
                    "the {who} and the {form} form"
                );
            }
        }
    }
}

/// The session's page edits the session and takes a trainee enrolled by mistake out of it,
/// with the forms it shows those who run it; the API refuses the same to a trainer, and
/// nobody removes themselves. Both are audited; the trainee's evaluations stay.
#[tokio::test]
async fn a_session_is_edited_and_a_member_removed_from_its_page() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let c = centre(&app).await;
        c.evaluate(&app, serde_json::json!("argent")).await;
        let cookie = cookie(&c.admin);
        let page_path = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let api = format!(
            "/issuer/api/v1/organisations/{}/sessions/{}",
            c.org, c.session
        );
        let open = || async {
            let r = open_page(&app, &page_path, &c.admin).await;
            assert_eq!(r.status, StatusCode::OK);
            html(&r)
        };
        let page = open().await;
        let edit = format!("/issuer/do{}", api.trim_start_matches("/issuer"));
        assert!(page.contains(&format!("action=\"{edit}\"")), "{page}");
        let body = format!(
            "csrf={}&_method=PATCH&_next=/orgs/{}/sessions/{}&title=Soudeur+TIG+2026&starts_on=2026-01-12&ends_on=2026-06-26&planned_hours:int=700",
            csrf_of(&page),
            c.org,
            c.session
        );
        let r = post_form(&app, &edit, &body, cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let page = open().await;
        assert!(
            page.contains("Soudeur TIG 2026") && page.contains("2026-01-12"),
            "{page}"
        );
        // Dates the wrong way round: the page says which field.
        let bad = body.replace("ends_on=2026-06-26", "ends_on=2025-06-26");
        let r = post_form(&app, &edit, &bad, cookie).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", html(&r));
        assert!(open().await.contains("2026-06-26"), "nothing changed");
        // Sent from its page (as a browser does, with the page as Referer): back to the page,
        // which says why in French and gives the script what was typed.
        let from = format!("http://localhost{page_path}");
        let r = app
            .send(
                Method::POST,
                &edit,
                &Auth::None,
                Some(bad.as_bytes()),
                Some("application/x-www-form-urlencoded"),
                &[("cookie", cookie), ("referer", from.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        assert_eq!(r.headers[header::LOCATION], page_path.as_str());
        let failed = cookie_set(&r, "carnet_issuer_flash=!");
        let both = format!("{cookie}; {failed}");
        let back = app
            .send(
                Method::GET,
                &page_path,
                &Auth::None,
                None,
                None,
                &[("cookie", both.as_str())],
            )
            .await;
        let said = html(&back);
        assert!(
            said.contains("id=\"failure\"")
                && said.contains("La session se termine avant de commencer."),
            "{said}"
        );
        assert!(
            said.contains(&format!("data-action=\"{edit}\""))
                && said.contains("data-field=\"ends_on\""),
            "{said}"
        );
        assert!(
            said.contains("2025-06-26") && !said.contains("the session ends before"),
            "{said}"
        );
        assert!(
            back.headers
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|v| v.to_str().unwrap().starts_with("carnet_issuer_flash=;")),
            "said once"
        );

        // The trainee out of the session.
        let remove = format!("{edit}/members/{}/trainee", c.trainee_id);
        assert!(page.contains(&format!("action=\"{remove}\"")), "{page}");
        let members = format!("{api}/members/{}/trainee", c.trainee_id);
        let refused = app.call(Method::DELETE, &members, &c.trainer, None).await;
        assert_eq!(refused.problem(), "forbidden");
        let changed = app
            .call(
                Method::PATCH,
                &api,
                &c.trainer,
                Some(serde_json::json!({"title": "x"})),
            )
            .await;
        assert_eq!(changed.problem(), "forbidden");
        let body = format!(
            "csrf={}&_method=DELETE&_next=/orgs/{}/sessions/{}",
            csrf_of(&page),
            c.org,
            c.session
        );
        let r = post_form(&app, &remove, &body, cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let listed = app
            .call(Method::GET, &format!("{api}/members"), &c.admin, None)
            .await;
        assert!(
            !listed.body.to_string().contains("camille@example.org"),
            "{}",
            listed.body
        );
        let again = app.call(Method::DELETE, &members, &c.admin, None).await;
        assert_eq!(again.problem(), "not-found");
        let history = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/evaluations",
                &c.trainee,
                None,
            )
            .await;
        assert_eq!(
            history.body.as_array().unwrap().len(),
            1,
            "what was done stays"
        );
        // And the session page still names the trainee beside it, never by an id.
        let page = open().await;
        let evaluations = &page[page.find("id=\"evaluations\"").expect("the evaluations")..];
        assert!(evaluations.contains("Camille Durand"), "{evaluations}");
        assert!(!page.contains(&c.trainee_id), "{page}");
        // Nobody takes themselves out (the admin created the session and manages it).
        let admin_id = listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == "direction@centre.example")
            .unwrap()["account_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let oneself = app
            .call(
                Method::DELETE,
                &format!("{api}/members/{admin_id}/manager"),
                &c.admin,
                None,
            )
            .await;
        assert_eq!(oneself.body["field"], "account", "{}", oneself.body);
        let audit = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/organisations/{}/audit", c.org),
                &c.admin,
                None,
            )
            .await;
        let audit = audit.body.to_string();
        assert!(
            audit.contains("session.changed") && audit.contains("session.member_removed"),
            "{audit}"
        );
    }
}

/// A trainee sees who teaches and runs the session (never the other trainees) and opens a
/// private chat with a trainer from the room page.
#[tokio::test]
async fn a_trainee_writes_to_a_trainer_from_the_room_page() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let c = centre(&app).await;
        app.register("issuer", "lea@example.org", "Léa Martin")
            .await;
        let base = format!("/issuer/api/v1/organisations/{}", c.org);
        for path in [
            format!("{base}/members"),
            format!("{base}/sessions/{}/members", c.session),
        ] {
            let r = app
                .call(
                    Method::POST,
                    &path,
                    &c.admin,
                    Some(serde_json::json!({"email": "lea@example.org", "role": "trainee"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let listed = app
            .call(
                Method::GET,
                &format!("{base}/sessions/{}/members", c.session),
                &c.trainee,
                None,
            )
            .await;
        let listed = listed.body.to_string();
        assert!(listed.contains("Julien Martin"), "{listed}");
        assert!(
            !listed.contains("lea@example.org") && !listed.contains("camille@example.org"),
            "{listed}"
        );
        let cookie = cookie(&c.trainee);
        let room = format!(
            "/issuer/orgs/{}/sessions/{}/rooms/information",
            c.org, c.session
        );
        let page = html(&open_page(&app, &room, &c.trainee).await);
        let select = &page[page
            .find("<select name=\"with\"")
            .expect("the private chat form")..];
        let select = &select[..select.find("</select>").unwrap()];
        assert!(
            select.contains("Julien Martin") && !select.contains("Léa"),
            "{select}"
        );
        let with = &select[select.find("value=\"").unwrap() + 7..];
        let with = &with[..with.find('"').unwrap()];
        let action = format!(
            "/issuer/do/api/v1/organisations/{}/sessions/{}/rooms",
            c.org, c.session
        );
        assert!(page.contains(&format!("action=\"{action}\"")));
        let body = format!(
            "csrf={}&_next=/orgs/{}/sessions/{}/rooms/{{id}}&with={with}",
            csrf_of(&page),
            c.org,
            c.session
        );
        let r = post_form(&app, &action, &body, cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let chat = r.headers[header::LOCATION].to_str().unwrap().to_owned();
        let page = html(&open_page(&app, &chat, &c.trainee).await);
        assert!(page.contains("Julien Martin"), "{page}");
    }
}

/// The first form `action` of a page holding `part`.
fn form_to(page: &str, part: &str) -> String {
    page.match_indices("action=\"")
        .map(|(at, m)| {
            let start = at + m.len();
            page[start..start + page[start..].find('"').unwrap()].to_owned()
        })
        .find(|a| a.contains(part))
        .unwrap_or_else(|| panic!("a form to {part} in {page}"))
}

/// Staff correct what they entered, from the pages: a calendar event moved then cancelled, an
/// evaluation corrected (the history keeps both), a quiz rewritten until it opens, the
/// centre's signing key changed by its administrator; each from the form the page shows, and
/// each form shown only to those it is for.
#[tokio::test]
async fn staff_correct_what_they_entered_from_the_pages() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let api = format!("/issuer/api/v1/organisations/{}", c.org);
        let session_page = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let r = app
            .call(Method::POST, &format!("{api}/sessions/{}/events", c.session), &c.admin,
                Some(serde_json::json!({"kind": "course", "title": "Soudure TIG, module 1", "starts_at": "2027-01-15T09:00", "ends_at": "2027-01-15T12:30"})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let event = r.body["id"].as_str().unwrap().to_owned();
        c.evaluate(&app, serde_json::json!("bronze")).await;

        // The trainer sees the correction form, not the calendar's.
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        assert!(!page.contains(&format!("/events/{event}\"")), "{page}");
        let correct = form_to(&page, "/evaluate");
        assert!(page.contains("name=\"supersedes\""), "{page}");
        let at = page.find("name=\"supersedes\" value=\"").unwrap() + 25;
        let old = &page[at..at + page[at..].find('"').unwrap()];
        let body = format!(
            "csrf={}&trainee_id={}&competency_id={}&supersedes={old}&assessment=argent&comment=Revu+sur+pi%C3%A8ce",
            csrf_of(&page), c.trainee_id, c.competency
        );
        let r = post_form(&app, &correct, &body, cookie(&c.trainer)).await;
        assert!(r.status.is_success(), "the hand-over page: {}", html(&r));
        let r = app.call(Method::GET, &format!("{api}/evaluations"), &c.admin, None).await;
        let all = r.body.as_array().unwrap();
        assert_eq!(all.len(), 2, "{}", r.body);
        assert!(all.iter().any(|e| e["supersedes"] == old && e["level_label"] == "argent"), "{}", r.body);
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        assert!(page.contains("corrigée"), "{page}");

        // The administrator moves the event, then cancels it.
        let page = html(&open_page(&app, &session_page, &c.admin).await);
        let csrf = csrf_of(&page);
        let action = form_to(&page, &format!("/events/{event}"));
        let r = post_form(&app, &action,
            &format!("csrf={csrf}&_method=PATCH&title=Soudure+TIG%2C+module+1&kind=course&starts_at=2027-01-15T13%3A30&ends_at=2027-01-15T17%3A00&place=Atelier+2"),
            cookie(&c.admin)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        // The page it leads to says what was done, once.
        let flash = cookie_set(&r, "carnet_issuer_flash=");
        assert_eq!(flash, "carnet_issuer_flash=flash.saved");
        let location = r.headers[header::LOCATION].to_str().unwrap().to_owned();
        let both = format!("{}; {flash}", cookie(&c.admin));
        let landed = app.send(Method::GET, &location, &Auth::None, None, None, &[("cookie", both.as_str())]).await;
        let said = html(&landed);
        assert!(said.contains("<p class=\"notice flash\" role=\"status\">") && said.contains("Modification enregistrée.</p>"), "{said}");
        assert!(landed.headers.get_all(header::SET_COOKIE).iter().any(|v| v.to_str().unwrap().starts_with("carnet_issuer_flash=;")), "forgotten once shown");
        assert!(!html(&open_page(&app, &location, &c.admin).await).contains("class=\"notice flash\""));
        let r = app.call(Method::GET, &format!("{api}/sessions/{}/events", c.session), &c.trainee, None).await;
        assert_eq!((r.body[0]["starts_at"].as_str(), r.body[0]["place"].as_str(), r.body[0]["sequence"].as_i64()),
            (Some("2027-01-15T13:30"), Some("Atelier 2"), Some(1)), "{}", r.body);
        let r = post_form(&app, &action, &format!("csrf={csrf}&_method=DELETE"), cookie(&c.admin)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let page = html(&open_page(&app, &session_page, &c.trainee).await);
        assert!(page.contains("class=\"cancelled\""), "{page}");

        // A quiz rewritten while it has not opened; once open, not any more.
        let quiz = app
            .call(Method::POST, &format!("{api}/quizzes"), &c.trainer,
                Some(serde_json::json!({"title": "TIG", "questions": [{"id": "q1", "prompt": "Gaz ?", "kind": "single_choice", "options": ["Argon", "CO2"], "correct": 0}]})))
            .await
            .body;
        let quiz_id = quiz["id"].as_str().unwrap().to_owned();
        let quizzes_page = format!("{session_page}/quizzes");
        let page = html(&open_page(&app, &quizzes_page, &c.trainer).await);
        assert!(page.contains("* Argon\n- CO2"), "the questions as typed: {page}");
        let action = form_to(&page, &format!("/quizzes/{quiz_id}"));
        let r = post_form(&app, &action,
            &format!("csrf={}&_method=PUT&title=TIG+%28bases%29&questions%3Aquiz=Gaz+de+protection+%3F+%5B2%5D%0A*+Argon%0A-+CO2", csrf_of(&page)),
            cookie(&c.trainer)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app.call(Method::GET, &format!("{api}/quizzes/{quiz_id}"), &c.trainer, None).await;
        assert_eq!(r.body["questions"][0]["points"], 2, "{}", r.body);
        let r = app
            .call(Method::POST, &format!("{api}/sessions/{}/quizzes", c.session), &c.trainer,
                Some(serde_json::json!({"quiz_id": quiz_id, "opens_at": "2020-01-01T08:00", "closes_at": "2040-01-01T08:00"})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        // The session's trainees hear of it by mail.
        let mail = app.mailbox(carnet_service::ServiceKind::Issuer, "camille@example.org").await;
        let (_, subject, text) = mail.iter().find(|(k, ..)| k == "quiz_opened").expect("the quiz's mail");
        assert_eq!(subject, "Questionnaire à faire : TIG (bases)");
        assert!(text.contains("du 1er janvier 2020 à 08:00 au 1er janvier 2040 à 08:00") && text.contains("/quizzes"), "{text}");
        let r = app
            .call(Method::PUT, &format!("{api}/quizzes/{quiz_id}"), &c.trainer,
                Some(serde_json::json!({"title": "x", "questions": [{"id": "q1", "prompt": "?", "kind": "short_answer"}]})))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let page = html(&open_page(&app, &quizzes_page, &c.trainer).await);
        assert!(!page.contains(&format!("/quizzes/{quiz_id}\"")), "no edit form once open: {page}");

        // The administrator changes the signing key to ES256; the trainer is not offered it.
        let org_page = format!("/issuer/orgs/{}", c.org);
        let page = html(&open_page(&app, &org_page, &c.trainer).await);
        assert!(!page.contains("Clés de signature"), "{page}");
        let page = html(&open_page(&app, &org_page, &c.admin).await);
        let action = form_to(&page, "/keys");
        let r = post_form(&app, &action, &format!("csrf={}&alg=ES256", csrf_of(&page)), cookie(&c.admin)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app.call(Method::GET, &format!("{api}/keys"), &c.admin, None).await;
        assert_eq!((r.body[0]["alg"].as_str(), r.body[0]["active"].as_bool()), (Some("ES256"), Some(true)), "{}", r.body);
        let page = html(&open_page(&app, &org_page, &c.admin).await);
        assert!(page.contains("ES256") && page.contains("en service"), "{page}");
    })
    .await;
}

/// A centre's spreadsheet enrols a session at once: read and previewed first (nothing done),
/// then confirmed; a member of the centre is enrolled, a newcomer invited (their link shown
/// once), someone already there and a bad address said so, a staff member left to be given
/// their role by hand; the whole counted and audited.
#[tokio::test]
async fn a_spreadsheet_of_trainees_enrols_a_session() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let api = format!("/issuer/api/v1/organisations/{}", c.org);
        app.register("issuer", "leo.petit@exemple.fr", "Léo Petit").await;
        let r = app
            .call(Method::POST, &format!("{api}/members"), &c.admin,
                Some(serde_json::json!({"email": "leo.petit@exemple.fr", "role": "trainee"})))
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        let session_page = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let page = html(&open_page(&app, &session_page, &c.admin).await);
        let action = form_to(&page, "/enrolments");
        let csrf = csrf_of(&page);
        // As a French spreadsheet saves it: semicolons, Windows-1252.
        let sheet = "Nom;Prénom;Adresse e-mail\r\nDurand;Camille;camille@example.org\r\nPetit;Léo;Leo.Petit@exemple.fr\r\nLefèvre;Anaïs;anais.lefevre@exemple.fr\r\nMartin;Julien;formateur@centre.example\r\nRoux;Zoé;zoe.roux@\r\n";
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(sheet);
        let mut body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stagiaires.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        ).into_bytes();
        body.extend_from_slice(&latin);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let r = app
            .send(Method::POST, &action, &Auth::None, Some(&body),
                Some("multipart/form-data; boundary=XyZ"), &[("cookie", cookie(&c.admin))])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        let preview = html(&r);
        assert!(preview.contains("<h1>Avant d&#39;inscrire</h1>"), "{preview}");
        for (name, what) in [
            ("Camille Durand", "Déjà dans la session"),
            ("Léo Petit", "Inscription à la session"),
            ("Anaïs Lefèvre", "Invitation au centre et à la session"),
            ("Julien Martin", "membre de l"),
            ("Zoé Roux", "adresse e-mail invalide"),
        ] {
            let at = preview.find(name).unwrap_or_else(|| panic!("{name}: {preview}"));
            let row = &preview[at..at + preview[at..].find("</tr>").unwrap()];
            assert!(row.contains(what), "{name}: {row}");
        }
        // Nothing done yet.
        let members_path = format!("{api}/sessions/{}/members", c.session);
        let members = || async {
            app.call(Method::GET, &members_path, &c.admin, None).await.body.to_string()
        };
        assert!(!members().await.contains("leo.petit"));
        let confirm = form_to(&preview, "/enrolments/confirm");
        let fields: Vec<(String, String)> = ["rows.0.name", "rows.0.email", "rows.1.name", "rows.1.email"]
            .iter()
            .map(|n| {
                let at = preview.find(&format!("name=\"{n}\" value=\"")).unwrap_or_else(|| panic!("{n}")) + n.len() + 15;
                (n.to_string(), preview[at..at + preview[at..].find('"').unwrap()].to_owned())
            })
            .collect();
        assert!(!preview.contains("name=\"rows.2.email\""), "only who will be enrolled or invited");
        let mut form = format!("csrf={csrf}");
        for (k, v) in &fields {
            form.push_str(&format!("&{k}={}", carnet_core::oid4vci::percent_encode(&v.replace("&#39;", "'"))));
        }
        let r = post_form(&app, &confirm, &form, cookie(&c.admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        let done = html(&r);
        assert!(done.contains("Inscriptions faites") && done.contains("/invitations/"), "{done}");
        assert!(members().await.contains("leo.petit@exemple.fr"));
        let r = app.call(Method::GET, &format!("{api}/invitations"), &c.admin, None).await;
        assert!(r.body.to_string().contains("anais.lefevre@exemple.fr"), "{}", r.body);
        let (counts,): (String,) = sqlx::query_as("SELECT details FROM audit_log WHERE action = 'session.bulk_enrolment'")
            .fetch_one(app.ctx(carnet_service::ServiceKind::Issuer).db.pool())
            .await
            .unwrap();
        assert!(counts.contains("\"enrolled\":1") && counts.contains("\"invited\":1"), "{counts}");
        // The trainer, who does not run the session, is not offered the form.
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        assert!(!page.contains("/enrolments\""), "{page}");
    })
    .await;
}

/// Hand-over in one tap: the staff's page says whom and what the credential is for; on the
/// trainee's own page at the centre, « Ajouter à mon carnet » opens the wallet with the offer
/// filled in (the PIN in the address's fragment, which no server sees), and one button adds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validated_competency_reaches_the_trainees_carnet_in_one_tap() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        let c = centre(&app).await;
        let session_page = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        let body = format!(
            "csrf={}&trainee_id={}&competency_id={}&assessment=or&comment=",
            csrf_of(&page),
            c.trainee_id,
            c.competency
        );
        let r = post_form(
            &app,
            &form_to(&page, "/evaluate"),
            &body,
            cookie(&c.trainer),
        )
        .await;
        let handed = html(&r);
        assert!(r.status.is_success(), "{:?} {handed}", r.status);
        assert!(
            handed.contains(
                "<strong>Camille Durand</strong> — Soudure TIG, niveau <strong>or</strong>"
            ),
            "{handed}"
        );
        assert_eq!(
            handed.matches("Expire").count(),
            1,
            "the expiry said once: {handed}"
        );
        assert!(
            !handed.contains("Ajouter à mon carnet"),
            "not on the staff's page"
        );

        // The trainee's page at the centre.
        let home = html(&open_page(&app, "/issuer", &c.trainee).await);
        let at = home
            .find("class=\"button\" href=\"")
            .expect("the wallet's button")
            + 21;
        let link = home[at..at + home[at..].find('"').unwrap()]
            .replace("&#x2f;", "/")
            .replace("&amp;", "&");
        assert!(home.contains("Ajouter à mon carnet"), "{home}");
        let (address, fragment) = link.split_once('#').unwrap();
        let pin = fragment.strip_prefix("tx_code=").unwrap();
        assert_eq!(pin.len(), 6, "{link}");
        let path = &address[address.find("/wallet").unwrap()..];

        // The wallet, signed in, shows the offer filled in; the script puts the PIN in.
        let (holder, _) = app
            .register("wallet", "camille@example.org", "Camille Durand")
            .await;
        let r = open_page(&app, path, &holder).await;
        let page = html(&r);
        assert!(
            page.contains("openid-credential-offer://"),
            "{path} {:?} {page}",
            r.status
        );
        let at = page.find("name=\"offer\" rows=\"3\" required>").unwrap() + 30;
        let offer = page[at..at + page[at..].find("</textarea>").unwrap()]
            .replace("&#x2f;", "/")
            .replace("&#x3d;", "=")
            .replace("&amp;", "&")
            .replace("&#x3a;", ":")
            .replace("&#x3f;", "?")
            .replace("&#x25;", "%");
        let form = format!(
            "csrf={}&offer={}&tx_code={pin}",
            csrf_of(&page),
            carnet_core::oid4vci::percent_encode(&offer)
        );
        let r = post_form(&app, "/wallet/receive", &form, cookie(&holder)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        // (in three copies, one key each, as the wallet asks by default)
        assert_eq!(r.body[0]["claims"]["level"]["label"], "or");
        assert_eq!(r.body[0]["claims"]["competency"]["name"], "Soudure TIG");
        // Signed out, the same link comes back to the offer after signing in.
        let r = open_page(&app, path, &Auth::None).await;
        let page = html(&r);
        assert!(
            page.contains("name=\"next\" value=\"/wallet?offer=openid-credential-offer"),
            "{page}"
        );
    }
}

/// The grade sheet: from the session page, one competency, every trainee on one page; those
/// given a level are evaluated at once (a validated one is offered their credential), those
/// left empty are not; the sheet says what happened to each.
#[tokio::test]
async fn a_trainer_evaluates_the_whole_session_on_one_sheet() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let session_page = format!("/issuer/orgs/{}/sessions/{}", c.org, c.session);
        let page = html(&open_page(&app, &session_page, &c.trainer).await);
        let at = page.find("Évaluer toute la session").expect("the sheet's link");
        let href = &page[page[..at].rfind("href=\"").unwrap() + 6..];
        let sheet = href[..href.find('"').unwrap()].to_owned();
        let page = html(&open_page(&app, &format!("{sheet}?competency={}", c.competency), &c.trainer).await);
        assert!(page.contains("name=\"rows.0.email\" value=\"camille@example.org\""), "{page}");
        assert!(page.contains("<option value=\"argent\">argent</option>"), "the scale's levels: {page}");
        let body = format!(
            "csrf={}&competency_id={}&rows.0.email=camille%40example.org&rows.0.assessment=or&rows.0.comment=Tr%C3%A8s+bien",
            csrf_of(&page), c.competency
        );
        let r = post_form(&app, &form_to(&page, "/grades"), &body, cookie(&c.trainer)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        let done = html(&r);
        assert!(done.contains("Validée : attestation proposée"), "{done}");
        assert!(done.contains("<strong>1</strong> validée(s)"), "{done}");
        let r = app.call(Method::GET, "/issuer/api/v1/me/credential-offers", &c.trainee, None).await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{}", r.body);
        // Nothing chosen: nothing saved, said in French.
        let body = format!("csrf={}&competency_id={}&rows.0.email=camille%40example.org&rows.0.assessment=", csrf_of(&page), c.competency);
        let r = post_form(&app, &form_to(&page, "/grades"), &body, cookie(&c.trainer)).await;
        assert!(html(&r).contains("Aucun niveau choisi"), "{}", html(&r));
        // A trainee has no sheet.
        let r = open_page(&app, &format!("{sheet}?competency={}", c.competency), &c.trainee).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!html(&r).contains("rows.0.email"), "{}", html(&r));
    })
    .await;
}

/// Attendance per trainee: staff follow a trainee's name in the sheet to their own list (their
/// rate, each half-day), without the check-in form that is the trainee's; the trainee sees
/// theirs with it.
#[tokio::test]
async fn staff_read_one_trainees_attendance() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let api = format!(
            "/issuer/api/v1/organisations/{}/sessions/{}",
            c.org, c.session
        );
        let r = app
            .call(
                Method::POST,
                &format!("{api}/attendance/slots"),
                &c.trainer,
                Some(serde_json::json!({"day": "2026-01-05", "half": "morning"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let sheet = format!("/issuer/orgs/{}/sessions/{}/attendance", c.org, c.session);
        let page = html(&open_page(&app, &sheet, &c.trainer).await);
        let link = format!("?view=table&amp;trainee={}", c.trainee_id);
        assert!(page.contains(&link), "{page}");
        let page = html(
            &open_page(
                &app,
                &format!("{sheet}?view=table&trainee={}", c.trainee_id),
                &c.trainer,
            )
            .await,
        );
        assert!(page.contains("Présences de Camille Durand"), "{page}");
        assert!(!page.contains("/check-in"), "{page}");
        let page = html(&open_page(&app, &sheet, &c.trainee).await);
        assert!(
            page.contains("Mes présences") && page.contains("/check-in"),
            "{page}"
        );
        // Someone else's list is not the trainee's to read.
        let page = html(
            &open_page(
                &app,
                &format!("{sheet}?trainee={}", c.trainee_id),
                &c.trainee,
            )
            .await,
        );
        assert!(page.contains("Mes présences"), "{page}");
    })
    .await;
}

/// A trainee asks their centre for an identity credential from the centre's page; the request
/// waits on the page of those who attest (not of the trainers), who attest it from there; the
/// request is then closed and the credential offered to the trainee.
#[tokio::test]
async fn a_trainee_asks_their_centre_for_an_identity_credential() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let org_page = format!("/issuer/orgs/{}", c.org);
        let page = html(&open_page(&app, &org_page, &c.trainee).await);
        assert!(page.contains("Mon attestation d&#39;identité") || page.contains("Mon attestation d'identité"), "{page}");
        let action = form_to(&page, "/identity-requests");
        let r = post_form(&app, &action, &format!("csrf={}&message=Je+passe+jeudi+avec+ma+carte", csrf_of(&page)), cookie(&c.trainee)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let page = html(&open_page(&app, &org_page, &c.trainee).await);
        assert!(page.contains("Demande envoyée le"), "{page}");
        // Those who attest hear of it by mail, with her words and the way to the page.
        for staff in ["direction@centre.example", "gestion@centre.example"] {
            let mail = app.mailbox(carnet_service::ServiceKind::Issuer, staff).await;
            let (_, subject, text) = mail.iter().find(|(k, ..)| k == "identity_requested").expect(staff);
            assert_eq!(subject, "Camille Durand demande une attestation d'identité");
            assert!(text.contains("« Je passe jeudi avec ma carte »") && text.contains(&format!("{org_page}#identity")), "{text}");
        }
        assert!(app.mailbox(carnet_service::ServiceKind::Issuer, "formateur@centre.example").await
            .iter().all(|(k, ..)| k != "identity_requested"));
        // Asking again answers the open request.
        let api = format!("/issuer/api/v1/organisations/{}/identity-requests", c.org);
        let r = app.call(Method::POST, &api, &c.trainee, Some(serde_json::json!({}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // The trainer is not the one who attests: no request on their page.
        let page = html(&open_page(&app, &org_page, &c.trainer).await);
        assert!(!page.contains("Je passe jeudi"), "{page}");
        let page = html(&open_page(&app, &org_page, &c.admin).await);
        assert!(page.contains("Je passe jeudi avec ma carte"), "{page}");
        let action = form_to(&page, &format!("/trainees/{}/identity", c.trainee_id));
        let body = format!(
            "csrf={}&given_name=Camille&family_name=Durand&birthdate=2001-04-17&email=camille%40example.org&address.country=FR",
            csrf_of(&page)
        );
        let r = post_form(&app, &action, &body, cookie(&c.admin)).await;
        assert!(r.status.is_success(), "{}", html(&r));
        let r = app.call(Method::GET, &api, &c.admin, None).await;
        assert_eq!(r.body, serde_json::json!([]), "handled");
        let r = app.call(Method::GET, "/issuer/api/v1/me/credential-offers", &c.trainee, None).await;
        assert_eq!(r.body.as_array().map(Vec::len), Some(1), "{}", r.body);
        let r = app.call(Method::POST, &api, &c.admin, Some(serde_json::json!({}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "only a trainee asks");
    })
    .await;
}

/// Every text a template asks for by its key (`chrome.t("…")`) is in a catalog: a missing key
/// reads as nothing on the page.
#[test]
fn every_key_the_templates_say_is_in_a_catalog() {
    let keys: std::collections::HashSet<&str> = common::words::catalogs()
        .into_iter()
        .flat_map(|c| c.iter().map(|(k, _, _)| *k))
        .collect();
    let mut missing = Vec::new();
    for dir in ["issuer", "verifier", "wallet", "service"] {
        let path = format!("{}/{dir}/templates", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(&path).unwrap() {
            let file = entry.unwrap().path();
            let text = std::fs::read_to_string(&file).unwrap();
            for piece in text.split("chrome.t(\"").skip(1) {
                let key = &piece[..piece.find('"').unwrap()];
                if !keys.contains(key) {
                    missing.push(format!("{}: {key}", file.display()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys in no catalog:\n{}",
        missing.join("\n")
    );
}
