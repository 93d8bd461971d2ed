//! The findings of the security review of the wallet and the verifier, each performed as an
//! attack over HTTP against the running services:
//!
//! - a verifier's publication request asking more than the trainee ticked (identity claims, the
//!   evaluator's name marked required) gets nothing more, at publication and at republication;
//! - a tiny PNG announcing a huge picture is refused at once, without decoding;
//! - a backup carrying a tampered, forged or re-keyed credential restores none of them;
//! - a status list nobody can read stops a competency from showing as valid after a grace;
//! - a key a trusted issuer withdrew from its metadata stops verifying;
//! - a holder proof with an extreme `iat` is a clean 401, not a panic.

mod common;

use axum::http::{Method, StatusCode, header};
use axum::routing::{get, post};
use carnet_core::dcql::{CredentialQuery, CredentialSet, DcqlQuery};
use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::metadata::Jwks;
use carnet_core::oid4vp::{AuthorizationRequest, DIRECT_POST};
use carnet_core::path::ClaimPath;
use carnet_core::sd_jwt;
use carnet_service::ServiceKind;
use carnet_service::clock::Clock;
use carnet_verifier::VerifierState;
use common::*;
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIRTHDATE: &str = "1999-12-31";
const EMAIL: &str = "kamilla.q7zx@exemple.fr";
const EVALUATOR: &str = "Julien Martin";

/// The path of a URL of the app under test.
fn local(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/", |i| &rest[i..])
}

fn paths(pointers: &[&str]) -> Vec<ClaimPath> {
    pointers
        .iter()
        .map(|p| ClaimPath::from_pointer(p).unwrap())
        .collect()
}

/// A trainee's wallet holding a competency credential and an identity credential.
async fn trainee(app: &TestApp) -> (Centre, Auth) {
    let c = centre(app).await;
    let evaluated = c.evaluate(app, json!("or")).await;
    let identity = json!({
        "given_name": "Kamillavna", "family_name": "Durandeau", "birthdate": BIRTHDATE,
        "email": EMAIL, "phone_number": "+33 6 31 41 59 26",
        "address": {"street_address": "17 impasse Quetzalcoatl", "postal_code": "69002", "locality": "Lyon", "country": "FR"},
    });
    let offered = app
        .call(
            Method::PUT,
            &format!(
                "/issuer/api/v1/organisations/{}/trainees/{}/identity",
                c.org, c.trainee_id
            ),
            &c.admin,
            Some(identity),
        )
        .await;
    assert_eq!(offered.status, StatusCode::CREATED, "{}", offered.body);
    let (holder, _) = app
        .register("wallet", "camille@example.org", "Camille Durand")
        .await;
    for (offer, pin) in [
        (
            &evaluated["offer"]["offer_link"],
            &evaluated["offer"]["tx_code"],
        ),
        (&offered.body["offer_link"], &offered.body["tx_code"]),
    ] {
        receive(app, &holder, offer, pin).await;
    }
    (c, holder)
}

async fn receive(app: &TestApp, holder: &Auth, offer: &Value, pin: &Value) -> Value {
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            holder,
            Some(json!({"offer": offer, "tx_code": pin, "copies": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

/// A verifier that asks too much: the publication request it hands out depends on `greedy`,
/// and it keeps every answer it gets.
#[derive(Default)]
struct Evil {
    base: String,
    greedy: bool,
    answers: Vec<Vec<(String, String)>>,
}

type EvilState = Arc<Mutex<Evil>>;

fn evil_query(greedy: bool) -> DcqlQuery {
    let standard = [
        "/name",
        "/competency/code",
        "/competency/name",
        "/level/label",
    ];
    let (competencies, identity) = if greedy {
        // The evaluator's name and the birth date marked required.
        let mut required = standard.to_vec();
        required.push("/evaluator/name");
        (
            CredentialQuery::sd_jwt(
                "competencies",
                None,
                &paths(&required),
                &paths(&["/establishment/name"]),
            ),
            CredentialQuery::sd_jwt(
                "identity",
                None,
                &paths(&["/given_name", "/family_name", "/birthdate"]),
                &paths(&["/email"]),
            ),
        )
    } else {
        (
            CredentialQuery::sd_jwt(
                "competencies",
                None,
                &paths(&standard),
                &paths(&["/evaluator/name", "/establishment/name"]),
            ),
            CredentialQuery::sd_jwt(
                "identity",
                None,
                &paths(&["/given_name", "/family_name"]),
                &paths(&["/birthdate", "/email"]),
            ),
        )
    };
    let mut competencies = competencies.unwrap();
    competencies.multiple = true;
    DcqlQuery {
        credentials: vec![competencies, identity.unwrap()],
        credential_sets: Some(vec![
            CredentialSet {
                options: vec![vec!["competencies".into()]],
                required: true,
            },
            CredentialSet {
                options: vec![vec!["identity".into()]],
                required: false,
            },
        ]),
    }
}

async fn evil_verifier() -> EvilState {
    let state: EvilState = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    state.lock().unwrap().base = format!("http://{}", listener.local_addr().unwrap());
    let requests = |axum::extract::State(state): axum::extract::State<EvilState>| async move {
        let evil = state.lock().unwrap();
        let response_uri = format!("{}/response", evil.base);
        let link = AuthorizationRequest {
            client_id: format!("redirect_uri:{response_uri}"),
            response_uri,
            nonce: carnet_service::id::random_token(16),
            state: Some("evil".into()),
            dcql_query: evil_query(evil.greedy),
            client_metadata: None,
            response_mode: DIRECT_POST.into(),
        }
        .to_link();
        (StatusCode::CREATED, axum::Json(json!({"request": link})))
    };
    let response = |axum::extract::State(state): axum::extract::State<EvilState>,
                    axum::Form(form): axum::Form<Vec<(String, String)>>| async move {
        state.lock().unwrap().answers.push(form);
        axum::Json(json!({"profile_id": "prf_evil", "competencies": 1, "discarded": []}))
    };
    let router = axum::Router::new()
        .route("/api/v1/directory/requests", post(requests))
        .route("/response", post(response))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    state
}

/// Everything a presentation reveals: the issuer-signed payload and each disclosure.
fn revealed(presentation: &str) -> (Vec<String>, String) {
    let parts: Vec<&str> = presentation.split('~').collect();
    let payload = parts[0].split('.').nth(1).unwrap();
    let mut text = String::from_utf8(carnet_core::b64::decode(payload).unwrap()).unwrap();
    let mut names = Vec::new();
    for disclosure in &parts[1..parts.len() - 1] {
        let bytes = carnet_core::b64::decode(disclosure).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(name) = value
            .get(1)
            .and_then(Value::as_str)
            .filter(|_| value.as_array().unwrap().len() == 3)
        {
            names.push(name.to_owned());
        }
        text.push_str(&value.to_string());
    }
    (names, text)
}

/// What the evil verifier got in answer `i`: per query, the claim names disclosed and all the
/// text revealed.
fn answer(evil: &EvilState, i: usize) -> Map<String, Value> {
    let evil = evil.lock().unwrap();
    let form = &evil.answers[i];
    let token = &form.iter().find(|(k, _)| k == "vp_token").unwrap().1;
    let token: Map<String, Value> = serde_json::from_str(token).unwrap();
    token
        .into_iter()
        .map(|(query, presentations)| {
            let mut names = Vec::new();
            let mut text = String::new();
            for p in presentations.as_array().unwrap() {
                let (n, t) = revealed(p.as_str().unwrap());
                names.extend(n);
                text.push_str(&t);
            }
            (query, json!({"names": names, "text": text}))
        })
        .collect()
}

fn standard_claims() -> Vec<Value> {
    vec![
        json!(["name"]),
        json!(["competency", "code"]),
        json!(["competency", "name"]),
        json!(["level", "label"]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_gets_only_the_claims_ticked() {
    for engine in engines() {
        // The test's own issuers and verifiers stand on other loopback ports: listed, as an
        // operator lists peers on a private network.
        let app = TestApp::listening_allowing(engine, Some("127.0.0.1")).await;
        let (c, holder) = trainee(&app).await;
        let evil = evil_verifier().await;
        let verifier = evil.lock().unwrap().base.clone();
        evil.lock().unwrap().greedy = true;

        // The preview says what the verifier asks, required or not.
        let r = app
            .call(
                Method::GET,
                &format!("/wallet/api/v1/directory/preview?verifier={verifier}"),
                &holder,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let asked = r.body["claims"].as_array().unwrap();
        let is = |path: Value, required: bool| {
            asked
                .iter()
                .any(|a| a["path"] == path && a["required"] == required)
        };
        assert!(is(json!(["evaluator", "name"]), true), "{}", r.body);
        assert!(is(json!(["birthdate"]), true), "{}", r.body);
        assert!(is(json!(["email"]), false), "{}", r.body);

        // The consent page lists it in words, the unusual claims flagged and not ticked.
        let Auth::Session { cookie, .. } = &holder else {
            panic!("a session")
        };
        let page = app
            .send(
                Method::GET,
                &format!("/wallet/profile/publish?verifier={verifier}"),
                &Auth::None,
                None,
                None,
                &[("cookie", cookie)],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let html = String::from_utf8_lossy(&page.raw).into_owned();
        for words in [
            "Ce que vous partagez avec cette plateforme",
            "Votre date de naissance",
            "Le nom de la personne qui vous a évalué",
            "exigé par la plateforme",
            "inhabituel pour un profil",
        ] {
            assert!(html.contains(words), "{words}: {html}");
        }
        let input_of = |needle: &str| {
            let at = html
                .find(needle)
                .unwrap_or_else(|| panic!("{needle}: {html}"));
            let start = html[..at].rfind("<input").unwrap();
            let end = start + html[start..].find('>').unwrap();
            html[start..=end].to_owned()
        };
        assert!(!input_of("birthdate").contains("checked"), "{html}");
        assert!(!input_of("evaluator").contains("checked"), "{html}");
        assert!(
            input_of("level").contains("checked"),
            "{}",
            input_of("level")
        );
        // In English too.
        let page = app
            .send(
                Method::GET,
                &format!("/wallet/profile/publish?verifier={verifier}&lang=en"),
                &Auth::None,
                None,
                None,
                &[("cookie", cookie)],
            )
            .await;
        assert!(String::from_utf8_lossy(&page.raw).contains("Your date of birth"));

        let publish = |body: Value| {
            app.call(
                Method::POST,
                "/wallet/api/v1/directory/publications",
                &holder,
                Some(body),
            )
        };
        // The API takes the holder's choice, and nothing without it.
        let r = publish(json!({"verifier": verifier})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        // Names ticked, the birth date not: the verifier requires it, so nothing is sent.
        let mut names = standard_claims();
        names.extend([json!(["given_name"]), json!(["family_name"])]);
        let r =
            publish(json!({"verifier": verifier, "identity_name": true, "claims": names})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("nothing was sent")
        );
        // Without the names, the evaluator's name is still required: nothing is sent.
        let r = publish(json!({"verifier": verifier, "claims": standard_claims()})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(evil.lock().unwrap().answers.is_empty());

        // The verifier asks the same as optional: only what was ticked goes.
        evil.lock().unwrap().greedy = false;
        let mut ticked = names.clone();
        ticked.push(json!(["establishment", "name"]));
        let r = publish(json!({"verifier": verifier, "identity_name": true, "republish": true, "claims": ticked})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let check = |i: usize| {
            let got = answer(&evil, i);
            let competency = &got["competencies"];
            let names: Vec<&str> = competency["names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            assert!(names.contains(&"establishment"), "{names:?}");
            assert!(!names.contains(&"evaluator"), "{names:?}");
            let identity = got["identity"]["names"].as_array().unwrap();
            assert!(identity.contains(&json!("given_name")), "{identity:?}");
            for secret in [BIRTHDATE, EMAIL, EVALUATOR] {
                for (query, revealed) in &got {
                    assert!(
                        !revealed["text"].as_str().unwrap().contains(secret),
                        "{secret} revealed in {query}"
                    );
                }
            }
        };
        assert_eq!(evil.lock().unwrap().answers.len(), 1);
        check(0);

        // Republication when a credential arrives: never more than the last consent. The
        // verifier now requires the evaluator's name: it gets nothing.
        evil.lock().unwrap().greedy = true;
        let evaluated = c.evaluate(&app, json!("argent")).await;
        receive(
            &app,
            &holder,
            &evaluated["offer"]["offer_link"],
            &evaluated["offer"]["tx_code"],
        )
        .await;
        assert_eq!(evil.lock().unwrap().answers.len(), 1);
        // Asking politely again, it gets what was ticked, no more.
        evil.lock().unwrap().greedy = false;
        let evaluated = c.evaluate(&app, json!("or")).await;
        receive(
            &app,
            &holder,
            &evaluated["offer"]["offer_link"],
            &evaluated["offer"]["tx_code"],
        )
        .await;
        assert_eq!(evil.lock().unwrap().answers.len(), 2);
        check(1);
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG of a few dozen bytes announcing `width` × `height` RGBA pixels, with no image data.
fn announcing(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let chunk = |png: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        png.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn a_photo_announcing_a_huge_picture_is_refused_at_once() {
    each_engine(|app| async move {
        let (holder, _) = app
            .register("wallet", "camille@example.org", "Camille Durand")
            .await;
        let Auth::Session { cookie, csrf } = &holder else {
            panic!("a session")
        };
        // 48 megapixels (192 MB decoded as RGBA), and 50,000 × 50,000.
        for (width, height) in [(8000, 6000), (50_000, 50_000), (20_000, 100)] {
            let photo = announcing(width, height);
            assert!(photo.len() < 100);
            let mut body = format!(
                "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --B\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"photo.png\"\r\n\
                 Content-Type: image/png\r\n\r\n"
            )
            .into_bytes();
            body.extend(&photo);
            body.extend(b"\r\n--B--\r\n");
            let started = Instant::now();
            let r = app
                .send(
                    Method::POST,
                    "/wallet/receive/photo",
                    &Auth::None,
                    Some(&body),
                    Some("multipart/form-data; boundary=B"),
                    &[("cookie", cookie)],
                )
                .await;
            assert!(
                started.elapsed() < Duration::from_millis(500),
                "{:?}",
                started.elapsed()
            );
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
            let html = String::from_utf8_lossy(&r.raw);
            assert!(
                html.contains("Cette photo est trop grande"),
                "{width}×{height}: {html}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_no_credential_that_fails_the_checks() {
    for engine in engines() {
        // The test's own issuers and verifiers stand on other loopback ports: listed, as an
        // operator lists peers on a private network.
        let app = TestApp::listening_allowing(engine, Some("127.0.0.1")).await;
        let (_, holder) = trainee(&app).await;
        let passphrase = "une phrase de sauvegarde";
        // Too short a passphrase is refused.
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/backup",
                &holder,
                Some(json!({"passphrase": "10 signes!"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/backup",
                &holder,
                Some(json!({"passphrase": passphrase})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["format"], "carnet-wallet-backup/3");
        assert_eq!(
            r.body["kdf"],
            json!({"alg": "argon2id", "m_cost": 65536, "t_cost": 3, "p_cost": 1})
        );
        let backup: carnet_wallet::backup::Backup = serde_json::from_value(r.body).unwrap();
        let mut contents: Value = serde_json::from_slice(
            &carnet_wallet::backup::open(&backup, passphrase)
                .await
                .unwrap(),
        )
        .unwrap();
        let items = contents["credentials"].as_array().unwrap().clone();
        let genuine = items
            .iter()
            .find(|i| i["credential"]["claims"]["competency"].is_object())
            .unwrap()
            .clone();
        let sd = genuine["credential"]["sd_jwt"].as_str().unwrap().to_owned();
        let iss = genuine["credential"]["issuer"].as_str().unwrap().to_owned();

        // Tampered: the signature changed, the stored level raised.
        let mut tampered = genuine.clone();
        let (jwt, rest) = sd.split_once('~').unwrap();
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let mut signature = signature.to_owned().into_bytes();
        signature[5] = if signature[5] == b'A' { b'B' } else { b'A' };
        tampered["credential"]["sd_jwt"] = json!(format!(
            "{signed}.{}~{rest}",
            String::from_utf8(signature).unwrap()
        ));
        tampered["credential"]["claims"]["level"]["label"] = json!("expert");
        // Forged: the centre's name, an attacker's key.
        let holder_key =
            SigningKey::from_jwk(&serde_json::from_value(genuine["key"].clone()).unwrap()).unwrap();
        let attacker = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
        let forged_sd = sd_jwt::issue(
            &sd_jwt::Credential {
                issuer: iss.clone(),
                vct: genuine["credential"]["vct"].as_str().unwrap().to_owned(),
                issued_at: app.clock.now_secs(),
                holder: Some(holder_key.public_jwk()),
                claims: genuine["credential"]["claims"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| {
                        !["iss", "vct", "iat", "nbf", "exp", "cnf", "status"].contains(&k.as_str())
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                disclose: sd_jwt::Disclose::All,
                ..Default::default()
            },
            &attacker,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        let mut forged = genuine.clone();
        forged["credential"]["sd_jwt"] = json!(forged_sd);
        // Re-keyed: the genuine credential with someone else's key.
        let mut rekeyed = genuine.clone();
        rekeyed["key"] = serde_json::to_value(attacker.private_jwk()).unwrap();
        // A planted status list address that the signed credential does not name.
        let mut planted = genuine.clone();
        planted["credential"]["status_list"] = json!("http://127.0.0.1:9/planted");
        contents["credentials"] = json!([tampered, forged, rekeyed, planted]);
        let sealed = carnet_wallet::backup::seal(passphrase, contents.to_string().as_bytes())
            .await
            .unwrap();

        let (elsewhere, _) = app
            .register("wallet", "camille.ailleurs@example.org", "Camille Durand")
            .await;
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/backup/restore",
                &elsewhere,
                Some(json!({"backup": sealed, "passphrase": passphrase})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["refused"], 3, "{}", r.body);
        assert_eq!(r.body["restored"], 1, "{}", r.body);
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &elsewhere, None)
            .await;
        // (Beside the carnet's own attestation of the confirmed address.)
        let kept: Vec<&serde_json::Value> = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["own"] != true)
            .collect();
        assert_eq!(kept.len(), 1, "{}", r.body);
        // What is kept is what was verified, not what the file said.
        assert_eq!(kept[0]["claims"]["level"]["label"], "or");
        assert_eq!(kept[0]["status"], "valid");
        assert_ne!(kept[0]["status_list"], "http://127.0.0.1:9/planted");
        assert_eq!(kept[0]["sd_jwt"], sd.as_str());
    }
}

async fn company(app: &TestApp, admin: &Auth) -> (Auth, String) {
    let (auth, _) = app
        .register("verifier", "rh@acier.example", "Recruteur")
        .await;
    let r = app
        .call(
            Method::POST,
            "/verifier/api/v1/companies",
            &auth,
            Some(json!({"name": "Aciéries du Rhône", "siret": "73282932000074"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let company = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::POST,
            &format!("/verifier/api/v1/companies/{company}/approval"),
            admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    (auth, company)
}

async fn platform_admin(app: &TestApp) -> Auth {
    let (admin, admin_id) = app
        .register("verifier", "admin@plateforme.example", "Admin")
        .await;
    app.make_platform_admin(ServiceKind::Verifier, &admin_id)
        .await;
    admin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_nobody_can_read_is_not_shown_as_valid_for_long() {
    for engine in engines() {
        // The test's own issuers and verifiers stand on other loopback ports: listed, as an
        // operator lists peers on a private network.
        let app = TestApp::listening_allowing(engine, Some("127.0.0.1")).await;
        let (_, holder) = trainee(&app).await;
        let admin = platform_admin(&app).await;
        let (recruiter, company) = company(&app, &admin).await;
        let r = app
            .call(Method::GET, "/wallet/api/v1/credentials", &holder, None)
            .await;
        let issuer = r.body[0]["issuer"].as_str().unwrap().to_owned();
        let r = app
            .call(
                Method::POST,
                "/verifier/api/v1/trusted-issuers",
                &admin,
                Some(json!({"issuer": issuer, "name": "Centre"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let verifier_url = app.ctx(ServiceKind::Verifier).config.public_url.clone();
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/directory/publications",
                &holder,
                Some(json!({"verifier": verifier_url, "claims": standard_claims()})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["competencies"], 1, "{}", r.body);
        let found = || async {
            let r = app
                .call(
                    Method::GET,
                    &format!("/verifier/api/v1/companies/{company}/search?competency=SOUD-TIG"),
                    &recruiter,
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body["total"].as_i64().unwrap()
        };
        assert_eq!(found().await, 1);

        // The status list cannot be read any more (the issuer answers 404 there).
        let ctx = app.ctx(ServiceKind::Verifier);
        let (uri,): (String,) = sqlx::query_as("SELECT status_uri FROM profile_competencies")
            .fetch_one(ctx.db.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE profile_competencies SET status_uri = $1")
            .bind(format!("{issuer}/no-such-list"))
            .execute(ctx.db.pool())
            .await
            .unwrap();
        let state = VerifierState::new(ctx.clone());
        let status = || async {
            let (s,): (String,) = sqlx::query_as("SELECT status FROM profile_competencies")
                .fetch_one(ctx.db.pool())
                .await
                .unwrap();
            s
        };
        // A moment: the last status read stands.
        app.clock.advance_secs(2 * 3600);
        carnet_verifier::directory::recheck(&state).await.unwrap();
        assert_eq!(status().await, "valid");
        assert_eq!(found().await, 1);
        // Past the grace period: unknown, and out of search.
        app.clock.advance_secs(23 * 3600);
        assert_eq!(
            carnet_verifier::directory::recheck(&state).await.unwrap(),
            1
        );
        assert_eq!(status().await, "unknown");
        assert_eq!(found().await, 0);
        // Readable again: valid again.
        sqlx::query("UPDATE profile_competencies SET status_uri = $1")
            .bind(&uri)
            .execute(ctx.db.pool())
            .await
            .unwrap();
        app.clock.advance_secs(3600);
        carnet_verifier::directory::recheck(&state).await.unwrap();
        assert_eq!(status().await, "valid");
        assert_eq!(found().await, 1);
    }
}

/// An issuer the test controls: its JWT VC Issuer Metadata publishes `keys`.
async fn test_issuer(keys: Arc<Mutex<Jwks>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = format!("{base}/centre");
    let iss = issuer.clone();
    let router = axum::Router::new().route(
        "/.well-known/jwt-vc-issuer/centre",
        get(move || {
            let jwks = keys.lock().unwrap().clone();
            let iss = iss.clone();
            async move { axum::Json(json!({"issuer": iss, "jwks": jwks})) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    issuer
}

/// Publishes at the verifier, as a plain OpenID4VP wallet, a competency credential of `issuer`
/// signed with `key`; the verifier's answer.
async fn publish_signed(app: &TestApp, issuer: &str, key: &SigningKey) -> Reply {
    publish_with_status(app, issuer, key, None).await
}

/// [`publish_signed`], the credential pointing into status list `status` if given.
async fn publish_with_status(
    app: &TestApp,
    issuer: &str,
    key: &SigningKey,
    status: Option<&str>,
) -> Reply {
    use carnet_core::oid4vci::percent_encode;
    use carnet_core::oid4vp::{RequestSource, parse_request_link};
    let holder = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
    let credential = sd_jwt::issue(
        &sd_jwt::Credential {
            issuer: issuer.to_owned(),
            vct: format!("{issuer}/vct/competency"),
            issued_at: app.clock.now_secs(),
            holder: Some(holder.public_jwk()),
            status: status.map(|uri| sd_jwt::StatusReference {
                uri: uri.to_owned(),
                idx: 0,
            }),
            claims: json!({"name": "Camille Durand", "competency": {"code": "SOUD-TIG", "name": "Soudure TIG"}, "level": {"label": "or"}})
                .as_object()
                .unwrap()
                .clone(),
            disclose: sd_jwt::Disclose::All,
            ..Default::default()
        },
        key,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let r = app
        .call(
            Method::POST,
            "/verifier/api/v1/directory/requests",
            &Auth::None,
            None,
        )
        .await;
    let Ok(RequestSource::ByValue(request)) =
        parse_request_link(r.body["request"].as_str().unwrap())
    else {
        panic!("a request by value")
    };
    let kb = sd_jwt::KeyBindingInput {
        key: &holder,
        audience: &request.client_id,
        nonce: &request.nonce,
        issued_at: app.clock.now_secs(),
    };
    let presentation = sd_jwt::SdJwt::parse(&credential)
        .unwrap()
        .present(None, Some(kb))
        .unwrap();
    let token = json!({"competencies": [presentation]});
    let form: Vec<String> =
        carnet_core::oid4vp::response_form(&request, token.as_object().unwrap(), &[])
            .unwrap()
            .into_iter()
            .map(|(name, value)| format!("{name}={}", percent_encode(&value)))
            .collect();
    app.send(
        Method::POST,
        local(&request.response_uri),
        &Auth::None,
        Some(form.join("&").as_bytes()),
        Some("application/x-www-form-urlencoded"),
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_issuer_withdrew_stops_verifying() {
    for engine in engines() {
        // The test's own issuers and verifiers stand on other loopback ports: listed, as an
        // operator lists peers on a private network.
        let app = TestApp::listening_allowing(engine, Some("127.0.0.1")).await;
        let rng = &mut rand::rngs::OsRng;
        let (old, new) = (
            SigningKey::generate(Algorithm::EdDSA, rng),
            SigningKey::generate(Algorithm::EdDSA, rng),
        );
        let keys = Arc::new(Mutex::new(Jwks {
            keys: vec![old.public_jwk(), new.public_jwk()],
        }));
        let issuer = test_issuer(keys.clone()).await;
        let admin = platform_admin(&app).await;
        let r = app
            .call(
                Method::POST,
                "/verifier/api/v1/trusted-issuers",
                &admin,
                Some(json!({"issuer": issuer, "name": "Centre"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["keys"], 2);
        let r = publish_signed(&app, &issuer, &old).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["competencies"], 1, "{}", r.body);
        // Where the review is wrong: at publication (and acceptance), a status list that cannot
        // be read already discards the credential; only the hourly re-check failed open.
        let r = publish_with_status(&app, &issuer, &old, Some(&format!("{issuer}/status/1"))).await;
        assert_ne!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.to_string().contains("status could not be read"),
            "{}",
            r.body
        );

        // The issuer withdraws the old key (compromised, say). The hourly job sees it.
        keys.lock().unwrap().keys.remove(0);
        app.clock.advance_secs(3600);
        let ctx = app.ctx(ServiceKind::Verifier);
        let state = VerifierState::new(ctx.clone());
        assert_eq!(carnet_verifier::trust::refresh(&state).await.unwrap(), 1);
        let r = app
            .call(
                Method::GET,
                "/verifier/api/v1/trusted-issuers",
                &admin,
                None,
            )
            .await;
        assert_eq!(r.body[0]["keys"], 1, "{}", r.body);
        // Once the service's cached keys are read again, the old key verifies nothing.
        app.clock.advance_secs(60);
        let r = publish_signed(&app, &issuer, &old).await;
        assert_ne!(r.status, StatusCode::OK, "{}", r.body);
        let r = publish_signed(&app, &issuer, &new).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["competencies"], 1, "{}", r.body);
        // The change is audited.
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'trusted_issuer.keys_changed'",
        )
        .fetch_one(ctx.db.pool())
        .await
        .unwrap();
        assert_eq!(n, 1);

        // An issuer nobody can reach for more than a week: its stored keys are not used.
        keys.lock().unwrap().keys.clear();
        app.clock.advance_secs(8 * 24 * 3600);
        let r = publish_signed(&app, &issuer, &new).await;
        assert_ne!(r.status, StatusCode::OK, "{}", r.body);
    }
}

#[tokio::test]
async fn an_extreme_iat_in_a_holder_proof_is_a_clean_401() {
    each_engine(|app| async move {
        let key = SigningKey::generate(Algorithm::ES256, &mut rand::rngs::OsRng);
        let url = format!(
            "{}/api/v1/directory/profile",
            app.ctx(ServiceKind::Verifier).config.public_url
        );
        for iat in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let proof =
                carnet_core::oid4vp::holder_proof(&key, "DELETE", &url, iat, "jti-1").unwrap();
            let r = app
                .send(
                    Method::DELETE,
                    "/verifier/api/v1/directory/profile",
                    &Auth::None,
                    None,
                    None,
                    &[(carnet_core::oid4vp::HOLDER_PROOF_HEADER, &proof)],
                )
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{iat}");
            assert_eq!(r.problem(), "unauthenticated", "{iat}");
            assert!(r.headers.get(header::CONTENT_TYPE).is_some());
        }
        // The same proof with a current time reaches the profile lookup (no profile: 404),
        // so the refusal above was the time's.
        let proof =
            carnet_core::oid4vp::holder_proof(&key, "DELETE", &url, app.clock.now_secs(), "jti-2")
                .unwrap();
        let r = app
            .send(
                Method::DELETE,
                "/verifier/api/v1/directory/profile",
                &Auth::None,
                None,
                None,
                &[(carnet_core::oid4vp::HOLDER_PROOF_HEADER, &proof)],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    })
    .await;
}
