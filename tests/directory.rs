//! The directory, offers and chats end to end over real HTTP between the three services: a
//! trainee publishes a profile from the wallet; recruiters of two approved companies find it;
//! both send offers; the trainee declines one and accepts the other sharing only the e-mail;
//! the recruiter sees the e-mail, they chat; a revoked credential leaves the profile; a silent
//! chat is deleted after a month; withdrawing the profile deletes everything about the trainee.
//!
//! The privacy check plants unique personal values in the trainee's identity credential and
//! then scans the verifier's whole database and every API response the companies got: only the
//! e-mail appears, and only to the company the trainee accepted.

mod common;

use axum::http::{Method, StatusCode};
use carnet_service::ServiceKind;
use carnet_verifier::VerifierState;
use common::*;
use serde_json::{Value, json};

const EMAIL: &str = "kamilla.q7zx@exemple.fr";
const PHONE: &str = "+33 6 31 41 59 26";
const STREET: &str = "17 impasse Quetzalcoatl";
const BIRTHDATE: &str = "1999-12-31";
const GIVEN: &str = "Kamillavna";
const FAMILY: &str = "Durandeau-Qwerty";

/// What the trainee agrees to share in a profile: every competency fact the verifier asks.
fn profile_claims() -> Value {
    json!([
        ["name"],
        ["competency", "code"],
        ["competency", "name"],
        ["level", "label"],
        ["competency", "framework_codes"],
        ["level", "value"],
        ["validated_on"],
        ["establishment", "name"],
        ["evaluator", "name"],
        ["session", "title"]
    ])
}

struct Recruiter {
    auth: Auth,
    company: String,
}

async fn company(app: &TestApp, email: &str, name: &str, siret: &str, admin: &Auth) -> Recruiter {
    let (auth, _) = app.register("verifier", email, "Recruteur").await;
    let r = app
        .call(
            Method::POST,
            "/verifier/api/v1/companies",
            &auth,
            Some(json!({"name": name, "siret": siret})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let company = r.body["id"].as_str().unwrap().to_owned();
    // Not approved yet: no search.
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{company}/search"),
            &auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .call(
            Method::POST,
            &format!("/verifier/api/v1/companies/{company}/approval"),
            admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    Recruiter { auth, company }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_search_offer_accept_chat() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        journey(&app).await;
    }
}

async fn journey(app: &TestApp) {
    // The centre validates a competency and checks the trainee's identity.
    let c = centre(app).await;
    let evaluated = c.evaluate(app, json!("or")).await;
    let identity = json!({
        "given_name": GIVEN, "family_name": FAMILY, "birthdate": BIRTHDATE,
        "email": EMAIL, "phone_number": PHONE,
        "address": {"street_address": STREET, "postal_code": "69002", "locality": "Lyon", "country": "FR"},
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

    // The trainee's wallet receives both.
    let (holder, _) = app
        .register("wallet", "camille@example.org", "Camille Durand")
        .await;
    let receive = |offer: &Value, pin: &Value| {
        app.call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            &holder,
            Some(json!({"offer": offer, "tx_code": pin, "copies": 1})),
        )
    };
    let r = receive(
        &evaluated["offer"]["offer_link"],
        &evaluated["offer"]["tx_code"],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let competency = r.body[0].clone();
    let r = receive(&offered.body["offer_link"], &offered.body["tx_code"]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let identity_id = r.body[0]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::PUT,
            "/wallet/api/v1/availability",
            &holder,
            Some(json!({"situation": "seeking", "available_from": "2026-07-01", "regions": ["84"], "contracts": ["cdi", "alternance"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The platform trusts the centre; two companies are approved.
    let (admin, admin_id) = app
        .register("verifier", "admin@plateforme.example", "Admin")
        .await;
    app.make_platform_admin(ServiceKind::Verifier, &admin_id)
        .await;
    let a = company(
        app,
        "rh@acier.example",
        "Aciéries du Rhône",
        "73282932000074",
        &admin,
    )
    .await;
    let b = company(
        app,
        "rh@poste.example",
        "La Poste Lyon",
        "35600000049837",
        &admin,
    )
    .await;
    let issuer = competency["issuer"].as_str().unwrap();
    let r = app
        .call(
            Method::POST,
            "/verifier/api/v1/trusted-issuers",
            &a.auth,
            Some(json!({"issuer": issuer, "name": "x"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only platform administrators"
    );
    let verifier_url = app.ctx(ServiceKind::Verifier).config.public_url.clone();

    // Before the issuer is trusted, a publication keeps nothing: the answer is refused.
    let publish = |body: Value| {
        app.call(
            Method::POST,
            "/wallet/api/v1/directory/publications",
            &holder,
            Some(body),
        )
    };
    // (The verifier's own description is not passed on: only its OAuth error code.)
    let r = publish(json!({"verifier": verifier_url, "claims": profile_claims()})).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
    assert_eq!(r.problem(), "upstream-error");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("(invalid_request)"),
        "{}",
        r.body
    );

    let r = app
        .call(
            Method::POST,
            "/verifier/api/v1/trusted-issuers",
            &admin,
            Some(json!({"issuer": issuer, "name": "Centre Lyon Métallerie"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["keys"], 1);

    // The trainee publishes: competencies and availability, no identity data.
    let r =
        publish(json!({"verifier": verifier_url, "republish": true, "claims": profile_claims()}))
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["competencies"], 1, "{}", r.body);
    let publication = r.body["id"].as_str().unwrap().to_owned();
    let profile_id = r.body["profile_id"].as_str().unwrap().to_owned();
    // Publishing again replaces the profile (same holder key for this verifier).
    let r =
        publish(json!({"verifier": verifier_url, "republish": true, "claims": profile_claims()}))
            .await;
    assert_eq!(r.body["profile_id"], profile_id.as_str(), "{}", r.body);

    // Recruiters search; every response a company gets is kept for the privacy scan.
    let mut seen_by_a = Vec::new();
    let mut seen_by_b = Vec::new();
    async fn search(app: &TestApp, r: &Recruiter, query: &str) -> Reply {
        app.call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/search?{query}", r.company),
            &r.auth,
            None,
        )
        .await
    }
    for query in [
        "competency=SOUD-TIG",
        "competency=H2913",
        "q=soudure",
        "q=SOUDURE%20tig&min_level=0.9",
        "region=84&contract=cdi&situation=seeking&available_by=2026-09-01",
        &format!("issuer={}", carnet_core::oid4vci::percent_encode(issuer)),
        "sort=level",
        "sort=recent",
    ] {
        let r = search(app, &a, query).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(r.body["total"], 1, "{query}: {}", r.body);
        seen_by_a.push(r.body.to_string());
    }
    for query in [
        "competency=OTHER",
        "min_level=1.0&q=fraisage",
        "region=11",
        "available_by=2026-06-01",
        "situation=employed",
    ] {
        let r = search(app, &a, query).await;
        assert_eq!(r.body["total"], 0, "{query}: {}", r.body);
    }
    for bad in [
        "min_level=2",
        "sort=salary",
        "available_by=demain",
        "cursor=x",
        "limit=0",
    ] {
        let r = search(app, &a, bad).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
    let r = search(app, &a, "competency=SOUD-TIG").await;
    let found = &r.body["items"][0];
    assert_eq!(found["id"], profile_id.as_str());
    assert_eq!(found["name"], "Camille Durand");
    assert_eq!(found["regions"], json!(["84"]));
    assert_eq!(found["competencies"][0]["code"], "SOUD-TIG");
    assert_eq!(found["competencies"][0]["level"], "or");
    assert_eq!(
        found["competencies"][0]["issuer_name"],
        "Centre Lyon Métallerie"
    );
    assert_eq!(
        found["competencies"][0]["facts"]["evaluator"]["name"],
        "Julien Martin"
    );
    assert_eq!(r.body["facets"]["competency"][0]["value"], "SOUD-TIG");
    assert_eq!(r.body["facets"]["contract"].as_array().unwrap().len(), 2);
    let r = app
        .call(
            Method::GET,
            &format!(
                "/verifier/api/v1/companies/{}/profiles/{profile_id}",
                b.company
            ),
            &b.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    seen_by_b.push(r.body.to_string());
    // Another company's member cannot use A's company.
    let r = search(
        app,
        &Recruiter {
            auth: b.auth.clone(),
            company: a.company.clone(),
        },
        "q=x",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A writes a quiz to send with its offer.
    let r = app
        .call(
            Method::POST,
            &format!("/verifier/api/v1/companies/{}/quizzes", a.company),
            &a.auth,
            Some(json!({"title": "Pré-requis soudure", "questions": [
                {"id": "gaz", "prompt": "Gaz de protection du TIG ?", "kind": "single_choice", "options": ["Argon", "CO2"], "correct": 0, "points": 2},
                {"id": "epi", "prompt": "Équipements obligatoires ?", "kind": "multiple_choice", "options": ["Masque", "Gants", "Cravate"], "correct": [0, 1]},
                {"id": "motivation", "prompt": "Pourquoi ce poste ?", "kind": "short_answer", "points": 3},
            ]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let quiz = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["max"], 6);

    // A: a text offer asking the e-mail (required) and the phone (optional), with the quiz.
    let r = app
        .call(
            Method::POST,
            &format!("/verifier/api/v1/companies/{}/offers", a.company),
            &a.auth,
            Some(json!({"title": "Soudeur TIG (H/F)", "body": "CDI à Vénissieux.", "contract_type": "cdi", "place": "Vénissieux",
                "claims": [{"path": ["email"], "required": true}, {"path": ["phone_number"]}],
                "quiz_id": quiz, "recipients": {"profiles": [profile_id]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let offer_a = r.body["offer"]["id"].as_str().unwrap().to_owned();
    // B: a PDF offer to a whole search result, asking more; sent twice with one key, made once.
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let r = app
        .send(
            Method::POST,
            &format!("/verifier/api/v1/companies/{}/documents", b.company),
            &b.auth,
            Some(b"not a pdf"),
            Some("text/plain"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let r = app
        .send(
            Method::POST,
            &format!("/verifier/api/v1/companies/{}/documents", b.company),
            &b.auth,
            Some(b"%PDF-1.4 truncated"),
            Some("application/pdf"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let r = app
        .send(
            Method::POST,
            &format!("/verifier/api/v1/companies/{}/documents", b.company),
            &b.auth,
            Some(&pdf),
            Some("application/pdf"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let document = r.body["id"].clone();
    let offer_b_body = json!({"title": "Agent de maintenance", "document_id": document,
        "claims": [{"path": ["email"], "required": true}, {"path": ["phone_number"], "required": true}, {"path": ["birthdate"]}],
        "recipients": {"search": {"competency": "SOUD-TIG"}}});
    let mut sent = Vec::new();
    for _ in 0..2 {
        let r = app
            .send(
                Method::POST,
                &format!("/verifier/api/v1/companies/{}/offers", b.company),
                &b.auth,
                Some(offer_b_body.to_string().as_bytes()),
                Some("application/json"),
                &[("idempotency-key", "offre-b-1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        sent.push(r.body["offer"]["id"].clone());
    }
    assert_eq!(sent[0], sent[1], "one offer for one idempotency key");
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/offers", b.company),
            &b.auth,
            None
        )
        .await
        .body
        .as_array()
        .unwrap()
        .len(),
        1
    );
    // A claim outside the identity credential's personal data is refused.
    let r = app
        .call(
            Method::POST,
            &format!("/verifier/api/v1/companies/{}/offers", a.company),
            &a.auth,
            Some(json!({"title": "x", "body": "y", "claims": [{"path": ["level"]}], "recipients": {"profiles": [profile_id]}})),
        )
        .await;
    assert_eq!(r.body["field"], "claims", "{}", r.body);

    // The wallet's inbox: both offers, each with its own request.
    let inbox = app
        .call(Method::GET, "/wallet/api/v1/inbox", &holder, None)
        .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    let items = inbox.body.as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", inbox.body);
    let item = |company: &str| {
        items
            .iter()
            .find(|i| i["offer"]["company"] == company)
            .unwrap()
            .clone()
    };
    let (item_a, item_b) = (item("Aciéries du Rhône"), item("La Poste Lyon"));
    assert_eq!(item_a["offer"]["status"], "viewed");
    // A backup carries the publication and the holder's key for that verifier: restored into
    // another wallet account, the inbox there reads the same offers.
    let backup = app
        .call(
            Method::POST,
            "/wallet/api/v1/backup",
            &holder,
            Some(json!({"passphrase": "backup passphrase 2026"})),
        )
        .await;
    assert_eq!(backup.status, StatusCode::OK, "{}", backup.body);
    let (elsewhere, _) = app
        .register("wallet", "camille.ailleurs@example.org", "Camille Durand")
        .await;
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/backup/restore",
            &elsewhere,
            Some(json!({"backup": backup.body, "passphrase": "backup passphrase 2026"})),
        )
        .await;
    assert_eq!(r.body["publications"], 1, "{}", r.body);
    let r = app
        .call(Method::GET, "/wallet/api/v1/inbox", &elsewhere, None)
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(2), "{}", r.body);
    assert_ne!(item_a["offer"]["request"], item_b["offer"]["request"]);
    assert_eq!(item_b["offer"]["has_document"], true);
    let r = app
        .call(
            Method::GET,
            &format!(
                "/wallet/api/v1/inbox/{publication}/{}/document",
                item_b["offer"]["id"].as_str().unwrap()
            ),
            &holder,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.raw, pdf);

    // The quiz, without its answers; answered once.
    let quizzes = app
        .call(Method::GET, "/wallet/api/v1/quizzes", &holder, None)
        .await;
    assert_eq!(quizzes.status, StatusCode::OK, "{}", quizzes.body);
    let assignment = quizzes.body[0]["offer"]["id"].as_str().unwrap().to_owned();
    assert!(
        !quizzes.body.to_string().contains("correct"),
        "{}",
        quizzes.body
    );
    let answer = json!({"answers": {"gaz": 0, "epi": [0], "motivation": "J'aime le métal."}});
    let path = format!("/wallet/api/v1/quizzes/{publication}/{assignment}/answers");
    let r = app
        .call(Method::POST, &path, &holder, Some(answer.clone()))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app.call(Method::POST, &path, &holder, Some(answer)).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_GATEWAY,
        "answered once: {}",
        r.body
    );
    let results = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/quizzes/{quiz}", a.company),
            &a.auth,
            None,
        )
        .await;
    let result = &results.body["results"][0];
    assert_eq!(
        (
            result["grade"]["score"].as_u64(),
            result["grade"]["pending"].as_bool()
        ),
        (Some(2), Some(true)),
        "{}",
        results.body
    );
    let r = app
        .call(
            Method::POST,
            &format!(
                "/verifier/api/v1/companies/{}/quizzes/{quiz}/assignments/{}/grades",
                a.company,
                result["assignment_id"].as_str().unwrap()
            ),
            &a.auth,
            Some(json!({"points": {"motivation": 3}})),
        )
        .await;
    assert_eq!(
        (r.body["score"].as_u64(), r.body["pending"].as_bool()),
        (Some(5), Some(false)),
        "{}",
        r.body
    );
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/quizzes/{quiz}", b.company),
            &b.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "B cannot read A's quiz");
    seen_by_a.push(results.body.to_string());

    // Declining B discloses nothing.
    let r = app
        .call(
            Method::POST,
            &format!(
                "/wallet/api/v1/inbox/{publication}/{}/decline",
                item_b["offer"]["id"].as_str().unwrap()
            ),
            &holder,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // Accepting A: the holder sees the e-mail required and the phone optional, shares the e-mail.
    let pending = app
        .call(
            Method::POST,
            "/wallet/api/v1/presentations/requests",
            &holder,
            Some(json!({"request": item_a["offer"]["request"]})),
        )
        .await;
    assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.body);
    // The e-mail address is asked apart: the centre's identity credential answers it (as the
    // carnet's own attestation would); the phone, optional, only the identity credential.
    let query = |id: &str| {
        pending.body["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["query_id"] == id)
            .cloned()
            .unwrap()
    };
    let email = query("email");
    let from_centre = email["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["credential_id"] == identity_id.as_str())
        .expect("the identity credential answers the address");
    assert_eq!(from_centre["required"], json!([["email"]]));
    let phone = &query("identity")["candidates"][0];
    assert_eq!(phone["credential_id"], identity_id.as_str());
    assert_eq!(phone["required"], json!([["phone_number"]]));
    let r = app
        .call(
            Method::POST,
            &format!("/wallet/api/v1/presentations/requests/{}/response", pending.body["id"].as_str().unwrap()),
            &holder,
            Some(json!({"choices": [{"query_id": "email", "credential_id": identity_id, "optional": []}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A sees the e-mail, the receipt, a chat; B sees a declined offer and nothing else.
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/candidates", a.company),
            &a.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let candidate = r.body[0].clone();
    assert_eq!(candidate["disclosed"], json!({"email": EMAIL}));
    assert!(candidate["consent_receipt"].is_string());
    let chat = candidate["chat_id"].as_str().unwrap().to_owned();
    seen_by_a.push(r.body.to_string());
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/offers/{offer_a}", a.company),
            &a.auth,
            None,
        )
        .await;
    assert_eq!(r.body["recipients"][0]["status"], "accepted");
    seen_by_a.push(r.body.to_string());
    let r = app
        .call(
            Method::GET,
            &format!(
                "/verifier/api/v1/companies/{}/offers/{}",
                b.company,
                sent[0].as_str().unwrap()
            ),
            &b.auth,
            None,
        )
        .await;
    assert_eq!(r.body["recipients"][0]["status"], "declined", "{}", r.body);
    assert!(r.body["recipients"][0]["disclosed"].is_null());
    seen_by_b.push(r.body.to_string());
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/candidates", b.company),
            &b.auth,
            None,
        )
        .await;
    assert_eq!(r.body, json!([]));
    seen_by_b.push(r.body.to_string());
    // The same request cannot be answered twice, nor the declined one at all.
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/presentations/requests",
            &holder,
            Some(json!({"request": item_b["offer"]["request"]})),
        )
        .await;
    let r = app
        .call(
            Method::POST,
            &format!("/wallet/api/v1/presentations/requests/{}/response", r.body["id"].as_str().unwrap()),
            &holder,
            Some(json!({"choices": [{"query_id": "identity", "credential_id": identity_id, "optional": []}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);

    // They chat.
    let r = app
        .call(
            Method::POST,
            &format!(
                "/verifier/api/v1/companies/{}/chats/{chat}/messages",
                a.company
            ),
            &a.auth,
            Some(json!({"body": "Bonjour, êtes-vous disponible jeudi ?"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .call(
            Method::POST,
            &format!("/wallet/api/v1/inbox/{publication}/chats/{chat}/messages"),
            &holder,
            Some(json!({"body": "Oui, à 10 h."})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .call(
            Method::GET,
            &format!("/wallet/api/v1/inbox/{publication}/chats/{chat}/messages"),
            &holder,
            None,
        )
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 2, "{}", r.body);
    let r = app
        .call(
            Method::GET,
            &format!(
                "/verifier/api/v1/companies/{}/chats/{chat}/messages",
                b.company
            ),
            &b.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "B cannot read A's chat");
    // The recruiter's chat page, then its live stream from the page's data-live URL: the
    // candidate's message written in between arrives, and nothing the page showed.
    let page = app
        .send(
            Method::GET,
            &format!("/verifier/companies/{}/chats/{chat}", a.company),
            &a.auth,
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let page = html(&page);
    assert!(page.contains("Oui, à 10 h."), "{page}");
    let live = attribute_of(&page, "data-live");
    let r = app
        .call(
            Method::POST,
            &format!("/wallet/api/v1/inbox/{publication}/chats/{chat}/messages"),
            &holder,
            Some(json!({"body": "Je serai là un peu avant."})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut stream = open_stream(&app.router, &live, &a.auth).await;
    let event = next_event(&mut stream).await;
    assert!(
        event.contains("un peu avant") && !event.contains("10 h"),
        "{live}: {event}"
    );

    // The privacy scan: the verifier's whole database, and what each company was shown.
    let tables = [
        "profiles",
        "profile_tags",
        "profile_competencies",
        "search_index",
        "offers",
        "offer_recipients",
        "disclosures",
        "chats",
        "chat_messages",
        "vp_requests",
        "audit_log",
        "jobs",
        "trusted_issuers",
    ];
    let raw = app.raw_contents(ServiceKind::Verifier, &tables).await;
    for planted in [PHONE, STREET, BIRTHDATE, GIVEN, FAMILY] {
        assert!(!raw.contains(planted), "{planted} reached the verifier");
        for seen in seen_by_a.iter().chain(&seen_by_b) {
            assert!(!seen.contains(planted), "{planted} was shown");
        }
    }
    assert!(raw.contains(EMAIL), "the e-mail shared is kept");
    assert!(seen_by_a.iter().any(|s| s.contains(EMAIL)));
    assert!(
        !seen_by_b.iter().any(|s| s.contains(EMAIL)),
        "B never sees the e-mail"
    );

    // The centre revokes the credential: at the next check it leaves the profile.
    let list = app
        .call(
            Method::GET,
            &format!("/issuer/api/v1/organisations/{}/credentials", c.org),
            &c.admin,
            None,
        )
        .await;
    let issued = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["configuration_id"] == "competency")
        .unwrap()
        .clone();
    let r = app
        .call(
            Method::POST,
            &format!(
                "/issuer/api/v1/organisations/{}/credentials/{}/status",
                c.org,
                issued["id"].as_str().unwrap()
            ),
            &c.admin,
            Some(json!({"status": "revoked", "reason": "erreur de saisie"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    app.clock.advance_secs(3600);
    let state = VerifierState::new(app.ctx(ServiceKind::Verifier).clone());
    assert_eq!(
        carnet_verifier::directory::recheck(&state).await.unwrap(),
        1
    );
    let r = search(app, &a, "competency=SOUD-TIG").await;
    assert_eq!(r.body["total"], 0, "{}", r.body);

    // A chat silent for 23 days gets a notice; at 30 days it is gone with its messages.
    let ctx = app.ctx(ServiceKind::Verifier);
    app.clock.advance_secs(23 * 24 * 3600);
    assert_eq!(carnet_verifier::chats::expire(ctx).await.unwrap(), (1, 0));
    // Weeks later, both sign in again.
    let holder = session_of(&app.login("wallet", "camille@example.org", PASSWORD).await);
    let a = Recruiter {
        auth: session_of(&app.login("verifier", "rh@acier.example", PASSWORD).await),
        company: a.company.clone(),
    };
    let r = app
        .call(
            Method::GET,
            &format!("/wallet/api/v1/inbox/{publication}/chats/{chat}/messages"),
            &holder,
            None,
        )
        .await;
    let last = r.body.as_array().unwrap().last().unwrap();
    assert_eq!(last["sender"], "system", "{}", r.body);
    app.clock.advance_secs(7 * 24 * 3600);
    assert_eq!(carnet_verifier::chats::expire(ctx).await.unwrap(), (0, 1));
    let holder = session_of(&app.login("wallet", "camille@example.org", PASSWORD).await);
    let a = Recruiter {
        auth: session_of(&app.login("verifier", "rh@acier.example", PASSWORD).await),
        company: a.company.clone(),
    };
    let r = app
        .call(
            Method::GET,
            &format!(
                "/verifier/api/v1/companies/{}/chats/{chat}/messages",
                a.company
            ),
            &a.auth,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let (messages,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM chat_messages")
        .fetch_one(ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(messages, 0);

    // The disclosure outlives the chat, within the retention period; the trainee erases it.
    assert_eq!(
        carnet_verifier::retention::run(ctx).await.unwrap(),
        Default::default()
    );
    let r = app
        .call(
            Method::DELETE,
            &format!(
                "/wallet/api/v1/inbox/{publication}/{}/disclosure",
                item_a["offer"]["id"].as_str().unwrap()
            ),
            &holder,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/candidates", a.company),
            &a.auth,
            None,
        )
        .await;
    assert!(r.body[0]["disclosed"].is_null(), "{}", r.body);
    let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM disclosures")
        .fetch_one(ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(kept, 0);

    // Two years without contact: the profile goes with everything attached.
    app.clock.advance_secs(731 * 24 * 3600);
    let deleted = carnet_verifier::retention::run(ctx).await.unwrap();
    assert_eq!((deleted.disclosures, deleted.profiles), (0, 1));
    let holder = session_of(&app.login("wallet", "camille@example.org", PASSWORD).await);

    // Withdrawing deletes what the verifier holds (nothing is left here: the wallet forgets it).
    let r = app
        .call(
            Method::DELETE,
            &format!("/wallet/api/v1/directory/publications/{publication}"),
            &holder,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    for table in [
        "profiles",
        "profile_competencies",
        "search_index",
        "offer_recipients",
        "disclosures",
    ] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(ctx.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    let r = app
        .call(
            Method::GET,
            "/wallet/api/v1/directory/publications",
            &holder,
            None,
        )
        .await;
    assert_eq!(r.body, json!([]));

    // Deleting the wallet account withdraws what it published: the centre validates the
    // competency again (the first credential is revoked), the trainee publishes it, then leaves.
    let trainer = session_of(
        &app.login("issuer", "formateur@centre.example", PASSWORD)
            .await,
    );
    let c = Centre { trainer, ..c };
    let evaluated = c.evaluate(app, json!("argent")).await;
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/credentials/receive",
            &holder,
            Some(json!({"offer": evaluated["offer"]["offer_link"], "tx_code": evaluated["offer"]["tx_code"], "copies": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .call(
            Method::POST,
            "/wallet/api/v1/directory/publications",
            &holder,
            Some(json!({"verifier": verifier_url, "claims": profile_claims()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let profiles = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM profiles")
            .fetch_one(ctx.db.pool())
            .await
            .unwrap();
        n
    };
    assert_eq!(profiles().await, 1);
    let r = app
        .call(
            Method::DELETE,
            "/wallet/api/v1/account",
            &holder,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(profiles().await, 0);
}

/// Search over many profiles written straight into the verifier's database (as the load test
/// does): a framework code standing for two competency codes finds each profile once, ranks by
/// best level across both, pages without gaps or repeats, counts facets, filters by issuer, and
/// forgets an issuer no longer trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_pages_and_counts_over_many_profiles() {
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let ctx = app.ctx(ServiceKind::Verifier);
        let (admin, admin_id) = app
            .register("verifier", "admin@plateforme.example", "Admin")
            .await;
        app.make_platform_admin(ServiceKind::Verifier, &admin_id)
            .await;
        let a = company(
            &app,
            "rh@acier.example",
            "Aciéries",
            "73282932000074",
            &admin,
        )
        .await;
        let mut tx = ctx.db.begin().await.unwrap();
        for (issuer, name) in [
            ("https://a.example", "Centre A"),
            ("https://b.example", "Centre B"),
        ] {
            sqlx::query("INSERT INTO trusted_issuers (issuer, name, jwks, fetched_at, created_at) VALUES ($1, $2, '{\"keys\":[]}', 0, 0)")
                .bind(issuer)
                .bind(name)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        // Profile n holds TIG (issuer A, level n/40) if n is even, MIG (issuer B, level n/50)
        // if n % 3 == 0, both under framework code RNCP1; and ELEC (issuer A) always.
        for n in 0..40i64 {
            let id = format!("prf_{n:02}");
            sqlx::query("INSERT INTO profiles (id, holder_kid, holder_jwk, name, situation, published_at, updated_at, last_contact_at) VALUES ($1, $2, '{}', $3, $4, 0, $5, 0)")
                .bind(&id)
                .bind(format!("kid{n}"))
                .bind(format!("Candidat {:02}", 39 - n))
                .bind(if n % 2 == 0 { "seeking" } else { "employed" })
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO profile_tags (profile_id, kind, value) VALUES ($1, 'region', $2)",
            )
            .bind(&id)
            .bind(if n < 10 { "84" } else { "11" })
            .execute(&mut *tx)
            .await
            .unwrap();
            let mut held = vec![("ELEC", "Électricité", "https://a.example", 0.5)];
            if n % 2 == 0 {
                held.push(("TIG", "Soudure TIG", "https://a.example", n as f64 / 40.0));
            }
            if n % 3 == 0 {
                held.push(("MIG", "Soudure MIG", "https://b.example", n as f64 / 50.0));
            }
            for (k, (code, name, issuer, level)) in held.into_iter().enumerate() {
                sqlx::query("INSERT INTO profile_competencies (id, profile_id, issuer, code, name, name_folded, level_value, claims, status, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', 'valid', 0)")
                    .bind(format!("pco_{n}_{k}"))
                    .bind(&id)
                    .bind(issuer)
                    .bind(code)
                    .bind(name)
                    .bind(carnet_verifier::directory::fold(name))
                    .bind(level)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
        }
        // A framework code seen with more codes than a search reads index by index.
        let mut seen: Vec<(String, String)> = (0..70)
            .map(|i| ("ESCO-BIG".to_owned(), format!("X{i}")))
            .collect();
        seen.extend(
            [
                ("RNCP1", "TIG"),
                ("RNCP1", "MIG"),
                ("ESCO-BIG", "TIG"),
                ("ESCO-BIG", "MIG"),
            ]
            .map(|(f, c)| (f.to_owned(), c.to_owned())),
        );
        for (framework_code, code) in seen {
            sqlx::query("INSERT INTO framework_codes (framework_code, code) VALUES ($1, $2)")
                .bind(framework_code)
                .bind(code)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        for (code, name) in [
            ("TIG", "Soudure TIG"),
            ("MIG", "Soudure MIG"),
            ("ELEC", "Électricité"),
        ] {
            sqlx::query(
                "INSERT INTO competency_names (code, name_folded, name) VALUES ($1, $2, $3)",
            )
            .bind(code)
            .bind(carnet_verifier::directory::fold(name))
            .bind(name)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        carnet_verifier::search::reindex(&mut tx, carnet_verifier::search::Scope::All)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let search = |query: String| {
            let (app, a) = (&app, &a);
            async move {
                let r = app
                    .call(
                        Method::GET,
                        &format!("/verifier/api/v1/companies/{}/search?{query}", a.company),
                        &a.auth,
                        None,
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
                r.body
            }
        };
        let ids = |body: &Value| -> Vec<String> {
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let welders: Vec<i64> = (0..40).filter(|n| n % 2 == 0 || n % 3 == 0).collect();
        let all = search("competency=RNCP1&limit=100&sort=level".into()).await;
        assert_eq!(all["total"], welders.len(), "{all}");
        assert_eq!(all["total_exact"], true);
        // By best level across TIG and MIG, then name.
        let best = |n: i64| {
            let tig = if n % 2 == 0 { n as f64 / 40.0 } else { -1.0 };
            let mig = if n % 3 == 0 { n as f64 / 50.0 } else { -1.0 };
            tig.max(mig)
        };
        let mut expected = welders.clone();
        expected.sort_by(|x, y| {
            best(*y)
                .partial_cmp(&best(*x))
                .unwrap()
                .then((39 - x).cmp(&(39 - y)))
        });
        let expected: Vec<String> = expected.iter().map(|n| format!("prf_{n:02}")).collect();
        assert_eq!(ids(&all), expected);
        // Pages of 7 give the same order, each profile once.
        for sort in ["level", "name", "recent"] {
            let whole = ids(&search(format!("competency=RNCP1&limit=100&sort={sort}")).await);
            let mut paged = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = search(format!("competency=RNCP1&limit=7&sort={sort}{cursor}")).await;
                paged.extend(ids(&page));
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => break,
                }
            }
            assert_eq!(paged, whole, "{sort}");
        }
        let recent = ids(&search("sort=recent&limit=3".into()).await);
        assert_eq!(recent, ["prf_39", "prf_38", "prf_37"]);
        let by_name = ids(&search("limit=2".into()).await);
        assert_eq!(by_name, ["prf_39", "prf_38"]);
        // Facets over the matches.
        let facets = &all["facets"];
        let count = |facet: &str, value: &str| {
            facets[facet]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["value"] == value)
                .map(|f| (f["count"].as_i64().unwrap(), f["label"].clone()))
        };
        assert_eq!(count("competency", "TIG"), Some((20, json!("Soudure TIG"))));
        assert_eq!(count("competency", "MIG"), Some((14, json!("Soudure MIG"))));
        assert_eq!(count("competency", "ELEC").unwrap().0, welders.len() as i64);
        assert_eq!(
            count("issuer", "https://b.example"),
            Some((14, json!("Centre B")))
        );
        assert_eq!(count("situation", "seeking").unwrap().0, 20);
        assert_eq!(
            count("region", "84").unwrap().0,
            welders.iter().filter(|n| **n < 10).count() as i64
        );
        // Words, minimum level, issuer, region, each as the profiles say.
        let total = |query: &str| {
            let query = query.to_owned();
            async { search(query).await["total"].as_i64().unwrap() }
        };
        assert_eq!(total("q=soudure").await, welders.len() as i64);
        assert_eq!(total("q=soudure%20mig").await, 14);
        assert_eq!(total("q=electricite&region=84").await, 10);
        assert_eq!(total("region=84").await, 10);
        assert_eq!(total("region=84&situation=seeking&sort=level").await, 5);
        assert_eq!(total("region=11&competency=RNCP1").await, 27 - 7);
        assert_eq!(total("competency=TIG&min_level=0.5").await, 10);
        assert_eq!(total("competency=RNCP1&q=mig&min_level=0.5").await, 5);
        assert_eq!(
            total("competency=RNCP1&issuer=https%3A%2F%2Fb.example").await,
            14
        );
        assert_eq!(
            total("issuer=https%3A%2F%2Fb.example&min_level=0.6").await,
            4
        );
        assert_eq!(total("competency=NONE").await, 0);
        assert_eq!(total("competency=ESCO-BIG").await, welders.len() as i64);
        assert_eq!(
            total("competency=ESCO-BIG&region=84&min_level=0.1").await,
            4
        );
        assert_eq!(total("q=plomberie").await, 0);
        let none = search("q=plomberie".into()).await;
        assert_eq!(none["facets"]["competency"], json!([]), "{none}");
        // An issuer no longer trusted leaves the search at once.
        let r = app
            .call(
                Method::DELETE,
                "/verifier/api/v1/trusted-issuers?issuer=https%3A%2F%2Fb.example",
                &admin,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(total("competency=MIG").await, 0);
        assert_eq!(total("competency=RNCP1").await, 20);
        assert_eq!(total("issuer=https%3A%2F%2Fb.example").await, 0);
        assert_eq!(total("").await, 40);
        assert_eq!(total("region=84&competency=MIG").await, 0);
        assert_eq!(total("region=84").await, 10);
    }
}

/// The first form `action` of a page holding `part`, as a browser reads it.
fn action_with(page: &str, part: &str) -> String {
    page.match_indices("action=\"")
        .map(|(at, m)| {
            let start = at + m.len();
            &page[start..start + page[start..].find('"').unwrap()]
        })
        .find(|a| a.contains(part))
        .unwrap_or_else(|| panic!("a form to {part} in {page}"))
        .replace("&#x2f;", "/")
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                carnet_core::oid4vci::percent_encode(k),
                carnet_core::oid4vci::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// No centre attested the trainee's identity: they still accept, from the wallet's pages,
/// declaring what the offer asks; the recruiter sees it as declared, signed in the receipt;
/// what they typed is kept when a value is wrong, and for the next answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainee_without_an_identity_credential_accepts_declaring_their_details() {
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        let c = centre(&app).await;
        let evaluated = c.evaluate(&app, json!("or")).await;
        let (holder, _) = app
            .register("wallet", "camille@example.org", "Camille Durand")
            .await;
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/credentials/receive",
                &holder,
                Some(json!({"offer": evaluated["offer"]["offer_link"], "tx_code": evaluated["offer"]["tx_code"], "copies": 1})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let issuer = r.body[0]["issuer"].as_str().unwrap().to_owned();
        let (admin, admin_id) = app
            .register("verifier", "admin@plateforme.example", "Admin")
            .await;
        app.make_platform_admin(ServiceKind::Verifier, &admin_id)
            .await;
        let a = company(
            &app,
            "rh@acier.example",
            "Aciéries du Rhône",
            "73282932000074",
            &admin,
        )
        .await;
        let r = app
            .call(
                Method::POST,
                "/verifier/api/v1/trusted-issuers",
                &admin,
                Some(json!({"issuer": issuer, "name": "Centre Lyon Métallerie"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let verifier_url = app.ctx(ServiceKind::Verifier).config.public_url.clone();
        // Available from a date to come (the test clock is on 15 January 2027).
        let r = app
            .call(
                Method::PUT,
                "/wallet/api/v1/availability",
                &holder,
                Some(json!({"situation": "seeking", "available_from": "2027-03-03"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .call(
                Method::POST,
                "/wallet/api/v1/directory/publications",
                &holder,
                Some(json!({"verifier": verifier_url, "claims": profile_claims()})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let profile_id = r.body["profile_id"].as_str().unwrap().to_owned();
        let page = html(
            &open_page(
                &app,
                &format!("/verifier/companies/{}?competency=SOUD-TIG", a.company),
                &a.auth,
            )
            .await,
        );
        assert!(
            page.contains("à partir du 3 mars"),
            "availability as people say it: {page}"
        );
        assert!(!page.contains("2027-03-03"), "{page}");
        let r = app
            .call(
                Method::POST,
                &format!("/verifier/api/v1/companies/{}/offers", a.company),
                &a.auth,
                Some(json!({"title": "Soudeur TIG (H/F)", "body": "CDI à Vénissieux.",
                    "claims": [{"path": ["email"], "required": true}, {"path": ["phone_number"], "required": true},
                               {"path": ["address", "locality"]}],
                    "recipients": {"profiles": [profile_id]}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        // Nothing declared, nothing presented: not an answer.
        let inbox = app
            .call(Method::GET, "/wallet/api/v1/inbox", &holder, None)
            .await;
        let request = inbox.body[0]["offer"]["request"].clone();
        let pending = app
            .call(
                Method::POST,
                "/wallet/api/v1/presentations/requests",
                &holder,
                Some(json!({ "request": request })),
            )
            .await;
        assert_eq!(pending.body["answerable"], true, "{}", pending.body);
        let respond = format!(
            "/wallet/api/v1/presentations/requests/{}/response",
            pending.body["id"].as_str().unwrap()
        );
        let r = app
            .call(
                Method::POST,
                &respond,
                &holder,
                Some(json!({"choices": []})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        // Declaring less than the offer requires is refused by the recruiter's side.
        let r = app
            .call(
                Method::POST,
                &respond,
                &holder,
                Some(json!({"declared": {"email": "camille@example.org"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);

        // From the inbox page: the accept form, then the details to declare.
        let page = html(&open_page(&app, "/wallet/inbox", &holder).await);
        let accept = action_with(&page, "/accept");
        let csrf = csrf_of(&page);
        let r = post_form(
            &app,
            &accept,
            &form_body(&[("csrf", &csrf)]),
            cookie(&holder),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        let page = html(&r);
        assert!(page.contains("Ce que vous déclarez"), "{page}");
        // Where to ask for an identity credential: the centre the carnet knows.
        assert!(
            page.contains(&format!("{issuer}#identity"))
                || page.contains(&format!("{}#identity", issuer.replace('/', "&#x2f;"))),
            "{page}"
        );
        // The address the carnet confirmed is attested by the carnet, not declared.
        assert!(
            page.contains("Attesté par votre carnet"),
            "the carnet attests the confirmed address: {page}"
        );
        assert!(!page.contains("name=\"declare./email\""), "{page}");
        for field in [
            "/phone_number",
            "/address/locality",
            "/presentation",
            "/links",
        ] {
            assert!(
                page.contains(&format!("name=\"declare.{field}\"")),
                "{field}: {page}"
            );
        }
        let answer = action_with(&page, "/answer/");
        let hidden = |name: &str| {
            attribute_of(
                &page[page.find(&format!("name=\"{name}\"")).unwrap()..],
                "value",
            )
        };
        let (publication, offer) = (hidden("publication"), hidden("offer"));
        let attestation = hidden("credential.email");
        assert_eq!(hidden("own.email"), "1");
        let typed = |phone: &str| {
            form_body(&[
                ("csrf", &csrf),
                ("publication", &publication),
                ("offer", &offer),
                ("credential.email", &attestation),
                ("own.email", "1"),
                ("declare./phone_number", phone),
                ("declare./address/locality", "Villeurbanne"),
                (
                    "declare./presentation",
                    "Soudeuse TIG, mobile sur la métropole.",
                ),
                ("declare./links", ""),
            ])
        };
        // A wrong number: the page again, in French, with what was typed.
        let r = post_form(&app, &answer, &typed("appelez-moi"), cookie(&holder)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
        let again = html(&r);
        assert!(again.contains("Vérifiez ce champ : Téléphone"), "{again}");
        assert!(again.contains("value=\"appelez-moi\""), "{again}");
        assert!(again.contains("value=\"Villeurbanne\""), "{again}");
        let answer = action_with(&again, "/answer/");
        let r = post_form(&app, &answer, &typed("06 31 41 59 26"), cookie(&holder)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));

        // The recruiter, who does not trust the carnet's attestations: declared, not verified;
        // signed by the receipt; a chat.
        let r = app
            .call(
                Method::GET,
                &format!("/verifier/api/v1/companies/{}/candidates", a.company),
                &a.auth,
                None,
            )
            .await;
        let candidate = &r.body[0];
        assert_eq!(candidate["disclosed"], json!({}), "{}", r.body);
        assert_eq!(candidate["verified_by"], Value::Null);
        assert_eq!(
            candidate["declared"],
            json!({"email": "camille@example.org", "phone_number": "06 31 41 59 26",
                   "address": {"locality": "Villeurbanne"},
                   "presentation": "Soudeuse TIG, mobile sur la métropole."})
        );
        assert!(candidate["consent_receipt"].is_string());
        assert!(candidate["chat_id"].is_string());
        let page = html(
            &open_page(
                &app,
                &format!("/verifier/companies/{}/candidates", a.company),
                &a.auth,
            )
            .await,
        );
        assert!(page.contains("Déclaré par la personne"), "{page}");
        assert!(page.contains("06 31 41 59 26"), "{page}");
        // The pipeline: the offer they answered, its state and date, their profile.
        let accepted = &page[page.find("Ont accepté").expect("the accepted stage")..];
        assert!(accepted.contains("Soudeur TIG (H/F)</a>"), "{accepted}");
        assert!(
            accepted.contains(&format!("/profiles/{profile_id}\">Camille Durand</a>")),
            "{accepted}"
        );
        assert!(
            accepted.contains("acceptée") && accepted.contains("depuis le"),
            "{accepted}"
        );
        // What was declared is kept for the next answer.
        let r = app
            .call(Method::GET, "/wallet/api/v1/details", &holder, None)
            .await;
        assert_eq!(r.body["phone_number"], "06 31 41 59 26", "{}", r.body);
        assert_eq!(r.body["address"]["locality"], "Villeurbanne");

        told_by_mail(&app, &a, &holder, &publication).await;

        // A month later (the chat's life): everyone signs in again.
        let admin = session_of(
            &app.login("verifier", "admin@plateforme.example", PASSWORD)
                .await,
        );
        let a = Recruiter {
            auth: session_of(&app.login("verifier", "rh@acier.example", PASSWORD).await),
            ..a
        };
        let holder = session_of(&app.login("wallet", "camille@example.org", PASSWORD).await);
        // Once the platform trusts the carnet's attestations, the address is verified by it.
        let wallet_url = app.ctx(ServiceKind::Wallet).config.public_url.clone();
        let r = app
            .call(
                Method::POST,
                "/verifier/api/v1/trusted-issuers",
                &admin,
                Some(json!({"issuer": wallet_url, "name": "Carnet"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app
            .call(
                Method::POST,
                &format!("/verifier/api/v1/companies/{}/offers", a.company),
                &a.auth,
                Some(
                    json!({"title": "Soudeuse TIG (intérim)", "body": "Mission de six mois.",
                    "claims": [{"path": ["email"], "required": true}, {"path": ["phone_number"]}],
                    "recipients": {"profiles": [profile_id]}}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let page = html(&open_page(&app, "/wallet/inbox", &holder).await);
        let accept = action_with(&page, "/accept");
        let r = post_form(
            &app,
            &accept,
            &form_body(&[("csrf", &csrf_of(&page))]),
            cookie(&holder),
        )
        .await;
        let page = html(&r);
        assert!(page.contains("Attesté par votre carnet"), "{page}");
        let field = |name: &str| {
            attribute_of(
                &page[page.find(&format!("name=\"{name}\"")).unwrap()..],
                "value",
            )
        };
        let r = post_form(
            &app,
            &action_with(&page, "/answer/"),
            &form_body(&[
                ("csrf", &csrf_of(&page)),
                ("publication", &field("publication")),
                ("offer", &field("offer")),
                ("company", &field("company")),
                ("credential.email", &field("credential.email")),
                ("own.email", "1"),
                ("declare./phone_number", "06 31 41 59 26"),
            ]),
            cookie(&holder),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app
            .call(
                Method::GET,
                &format!("/verifier/api/v1/companies/{}/candidates", a.company),
                &a.auth,
                None,
            )
            .await;
        let second = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["disclosed"] != json!({}))
            .expect("the second answer");
        assert_eq!(second["disclosed"], json!({"email": "camille@example.org"}));
        assert_eq!(second["verified_by"], "Carnet");
        assert_eq!(
            second["declared"],
            json!({"phone_number": "06 31 41 59 26"})
        );
    }
}

/// Each side hears by mail: the offer reached the candidate through their wallet (the
/// verifier knows no address), the acceptance the recruiter; messages in one mail per quiet
/// period, to whoever did not write; the notice a week before a silent chat is deleted, and
/// its deletion, to both.
async fn told_by_mail(app: &TestApp, a: &Recruiter, holder: &Auth, publication: &str) {
    let ctx = app.ctx(ServiceKind::Verifier).clone();
    carnet_verifier::schedule_jobs(&ctx).await.unwrap();
    let worker = carnet_verifier::worker(ctx);
    let run = || async {
        // A pass's jobs may queue more (a notice for the wallet): run until none is due.
        while worker.run_due().await.unwrap().ran > 0 {}
    };
    let of = |mail: &[(String, String, String)], kind: &str| {
        mail.iter()
            .filter(|(k, ..)| k == kind)
            .map(|(_, subject, text)| format!("{subject}\n{text}"))
            .collect::<Vec<_>>()
    };
    run().await;
    let camille = app
        .mailbox(ServiceKind::Wallet, "camille@example.org")
        .await;
    let offer = of(&camille, "recruiter_offer");
    assert_eq!(offer.len(), 1, "{camille:?}");
    assert!(
        offer[0].starts_with("Nouvelle offre : « Soudeur TIG (H/F) » — Aciéries du Rhône"),
        "{offer:?}"
    );
    let rh = app.mailbox(ServiceKind::Verifier, "rh@acier.example").await;
    let accepted = of(&rh, "offer_accepted");
    assert_eq!(accepted.len(), 1, "{rh:?}");
    assert!(
        accepted[0].starts_with("Camille Durand a accepté votre offre « Soudeur TIG (H/F) »")
            && accepted[0].contains("/verifier/companies/"),
        "{accepted:?}"
    );

    // Two messages from the candidate, one mail to the recruiter once the quiet period ends.
    let r = app
        .call(
            Method::GET,
            &format!("/verifier/api/v1/companies/{}/candidates", a.company),
            &a.auth,
            None,
        )
        .await;
    let chat = r.body[0]["chat_id"].as_str().unwrap().to_owned();
    for text in ["Bonjour !", "Je suis disponible mardi."] {
        let r = app
            .call(
                Method::POST,
                &format!("/wallet/api/v1/inbox/{publication}/chats/{chat}/messages"),
                holder,
                Some(json!({ "body": text })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    run().await;
    let rh = app.mailbox(ServiceKind::Verifier, "rh@acier.example").await;
    assert!(
        of(&rh, "chat_messages").is_empty(),
        "not before the quiet period ends"
    );
    app.clock
        .advance_secs(carnet_verifier::notices::QUIET_MS / 1000 + 1);
    run().await;
    let rh = app.mailbox(ServiceKind::Verifier, "rh@acier.example").await;
    let messages = of(&rh, "chat_messages");
    assert_eq!(messages.len(), 1, "{rh:?}");
    assert!(messages[0].contains("(2 message·s)"), "{messages:?}");
    // The recruiter answers: the candidate hears of it, through the wallet.
    let r = app
        .call(
            Method::POST,
            &format!(
                "/verifier/api/v1/companies/{}/chats/{chat}/messages",
                a.company
            ),
            &a.auth,
            Some(json!({ "body": "Parfait, à mardi." })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.clock
        .advance_secs(carnet_verifier::notices::QUIET_MS / 1000 + 1);
    run().await;
    let camille = app
        .mailbox(ServiceKind::Wallet, "camille@example.org")
        .await;
    let messages = of(&camille, "chat_messages");
    assert_eq!(messages.len(), 1, "{camille:?}");
    assert!(
        messages[0].starts_with("Nouveaux messages de Aciéries du Rhône"),
        "{messages:?}"
    );
    let rh = app.mailbox(ServiceKind::Verifier, "rh@acier.example").await;
    assert_eq!(
        of(&rh, "chat_messages").len(),
        1,
        "their own message is no news to them"
    );

    // Silent for 23 days: both told of the day it goes; 30: both told it went.
    app.clock.advance_secs(23 * 24 * 3600);
    run().await;
    let rh = app.mailbox(ServiceKind::Verifier, "rh@acier.example").await;
    let notice = of(&rh, "chat_deletion_notice");
    assert_eq!(notice.len(), 1, "{rh:?}");
    assert!(notice[0].contains("sera supprimée le"), "{notice:?}");
    let camille = app
        .mailbox(ServiceKind::Wallet, "camille@example.org")
        .await;
    assert_eq!(of(&camille, "chat_deletion_notice").len(), 1, "{camille:?}");
    app.clock.advance_secs(7 * 24 * 3600 + 3600);
    run().await;
    let rh = app.mailbox(ServiceKind::Verifier, "rh@acier.example").await;
    assert_eq!(of(&rh, "chat_deleted").len(), 1, "{rh:?}");
    let camille = app
        .mailbox(ServiceKind::Wallet, "camille@example.org")
        .await;
    assert_eq!(of(&camille, "chat_deleted").len(), 1, "{camille:?}");
}

/// A company's team from its page: its administrator adds a colleague (who then recruits) and
/// takes them out, behind a confirmation, never themselves; a recruiter sees the team but no
/// form, and the API refuses them; the platform's administrator stops trusting an issuer from
/// the home page. Each change is audited.
#[tokio::test]
async fn a_company_runs_its_team_and_the_platform_its_trust_from_the_pages() {
    each_engine(|app| async move {
        let (admin, admin_id) = app
            .register("verifier", "admin@plateforme.example", "Admin")
            .await;
        app.make_platform_admin(ServiceKind::Verifier, &admin_id)
            .await;
        let a = company(&app, "rh@acier.example", "Aciéries du Rhône", "73282932000074", &admin).await;
        let (colleague, colleague_id) = app
            .register("verifier", "marc@acier.example", "Marc Chevalier")
            .await;
        let team = format!("/verifier/companies/{}/team", a.company);
        let page = html(&open_page(&app, &format!("/verifier/companies/{}", a.company), &a.auth).await);
        assert!(page.contains(&format!("href=\"{team}\"")), "the team in the company's navigation: {page}");
        let page = html(&open_page(&app, &team, &a.auth).await);
        let add = action_with(&page, "/members");
        let r = post_form(&app, &add, &form_body(&[("csrf", &csrf_of(&page)), ("email", "marc@acier.example"), ("role", "recruiter")]), cookie(&a.auth)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        // The colleague recruits: the company is theirs to search; the team, without forms.
        let r = app
            .call(Method::GET, &format!("/verifier/api/v1/companies/{}/search", a.company), &colleague, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = html(&open_page(&app, &team, &colleague).await);
        assert!(page.contains("Marc Chevalier") && !page.contains("/do/api/v1/companies"), "{page}");
        let r = app
            .call(Method::POST, &format!("/verifier/api/v1/companies/{}/members", a.company), &colleague,
                Some(json!({"email": "marc@acier.example", "role": "admin"})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // The administrator takes them out; not themselves.
        let page = html(&open_page(&app, &team, &a.auth).await);
        let remove = action_with(&page, &format!("/members/{colleague_id}/recruiter"));
        assert!(!page.contains("/members/") || page.matches("_method\" value=\"DELETE").count() == 1, "only others have the removal: {page}");
        let r = post_form(&app, &remove, &form_body(&[("csrf", &csrf_of(&page)), ("_method", "DELETE")]), cookie(&a.auth)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app
            .call(Method::GET, &format!("/verifier/api/v1/companies/{}/search", a.company), &colleague, None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "no longer theirs: {}", r.body);
        let me: String = app
            .call(Method::GET, &format!("/verifier/api/v1/companies/{}/members", a.company), &a.auth, None)
            .await
            .body[0]["account_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app
            .call(Method::DELETE, &format!("/verifier/api/v1/companies/{}/members/{me}/admin", a.company), &a.auth, None)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'company.member%' OR action LIKE '%member_%'")
            .fetch_one(app.ctx(ServiceKind::Verifier).db.pool())
            .await
            .unwrap();
        assert!(audited >= 2, "{audited}");

        // The platform stops trusting an issuer from its home page.
        let issuer = "https://centre.example/issuer/orgs/org_x";
        sqlx::query("INSERT INTO trusted_issuers (issuer, name, jwks, fetched_at, created_at) VALUES ($1, 'Centre', '{\"keys\":[]}', 0, 0)")
            .bind(issuer)
            .execute(app.ctx(ServiceKind::Verifier).db.pool())
            .await
            .unwrap();
        let page = html(&open_page(&app, "/verifier", &admin).await);
        let untrust = action_with(&page, "/trusted-issuers?issuer=");
        let r = post_form(&app, &untrust, &form_body(&[("csrf", &csrf_of(&page)), ("_method", "DELETE")]), cookie(&admin)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
        let r = app.call(Method::GET, "/verifier/api/v1/trusted-issuers", &admin, None).await;
        assert_eq!(r.body, json!([]), "{}", r.body);
    })
    .await;
}
