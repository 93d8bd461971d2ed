//! A training centre with a session, a trainer and a trainee, made through the issuer's API.

use super::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// A training centre with a session, a trainer and a trainee.
pub struct Centre {
    pub admin: Auth,
    /// The centre's manager (gestionnaire): runs every session, in no session's member list.
    pub manager: Auth,
    pub trainer: Auth,
    pub trainee: Auth,
    pub org: String,
    pub session: String,
    pub trainee_id: String,
    pub competency: String,
}

pub async fn centre(app: &TestApp) -> Centre {
    let (admin, _) = app
        .register("issuer", "direction@centre.example", "Nathalie Girard")
        .await;
    let (trainer, _) = app
        .register("issuer", "formateur@centre.example", "Julien Martin")
        .await;
    let (trainee, trainee_id) = app
        .register("issuer", "camille@example.org", "Camille Durand")
        .await;
    let (manager, _) = app
        .register("issuer", "gestion@centre.example", "Karim Haddad")
        .await;
    let post = |path: String, auth: Auth, body: Value| async move {
        let r = app.call(Method::POST, &path, &auth, Some(body)).await;
        assert!(r.status.is_success(), "{path}: {}", r.body);
        r.body
    };
    let org = post(
        "/issuer/api/v1/organisations".into(),
        admin.clone(),
        json!({"name": "Centre Lyon Métallerie", "siret": "45218903800014"}),
    )
    .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let base = format!("/issuer/api/v1/organisations/{org}");
    post(
        format!("{base}/members"),
        admin.clone(),
        json!({"email": "formateur@centre.example", "role": "trainer"}),
    )
    .await;
    post(
        format!("{base}/members"),
        admin.clone(),
        json!({"email": "gestion@centre.example", "role": "manager"}),
    )
    .await;
    post(
        format!("{base}/members"),
        admin.clone(),
        json!({"email": "camille@example.org", "role": "trainee"}),
    )
    .await;
    let scale = post(format!("{base}/scales"), admin.clone(), json!({"name": "Médailles", "scale": {"kind": "levels", "labels": ["bronze", "argent", "or"]}})).await;
    let competency = post(
        format!("{base}/competencies"),
        admin.clone(),
        json!({"code": "SOUD-TIG", "name": "Soudure TIG", "description": "Souder à l'arc TIG", "framework_codes": {"rome": "H2913"}, "scale_id": scale["id"]}),
    )
    .await;
    let session = post(
        format!("{base}/sessions"),
        admin.clone(),
        json!({"title": "Soudeur 2026", "starts_on": "2026-01-05", "ends_on": "2026-06-26"}),
    )
    .await;
    let session = session["id"].as_str().unwrap().to_owned();
    post(
        format!("{base}/sessions/{session}/members"),
        admin.clone(),
        json!({"email": "formateur@centre.example", "role": "trainer"}),
    )
    .await;
    post(
        format!("{base}/sessions/{session}/members"),
        admin.clone(),
        json!({"email": "camille@example.org", "role": "trainee"}),
    )
    .await;
    Centre {
        admin,
        manager,
        trainer,
        trainee,
        org,
        session,
        trainee_id,
        competency: competency["id"].as_str().unwrap().to_owned(),
    }
}

impl Centre {
    pub async fn evaluate(&self, app: &TestApp, assessment: Value) -> Value {
        let r = app
            .call(
                Method::POST,
                &format!("/issuer/api/v1/organisations/{}/sessions/{}/evaluations", self.org, self.session),
                &self.trainer,
                Some(json!({"trainee_id": self.trainee_id, "competency_id": self.competency, "assessment": assessment, "comment": "Cordons réguliers"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}

/// What a wallet does with an offer link (and its PIN): follows it, redeems the code and asks
/// for one credential bound to a fresh key; the credential.
pub async fn receive_offer(app: &TestApp, link: &str, pin: Option<&str>) -> String {
    use carnet_core::keys::{Algorithm, SigningKey};
    let path = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        rest.find('/').map_or("/", |i| &rest[i..]).to_owned()
    };
    let uri = carnet_core::oid4vci::percent_decode(
        link.strip_prefix("openid-credential-offer://?credential_offer_uri=")
            .unwrap(),
    )
    .unwrap();
    let offer = app
        .send(Method::GET, &path(&uri), &Auth::None, None, None, &[])
        .await
        .body;
    let issuer = offer["credential_issuer"].as_str().unwrap();
    let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap();
    let mut form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}"
    );
    if let Some(pin) = pin {
        form.push_str(&format!("&tx_code={pin}"));
    }
    let base = path(issuer);
    let form_type = Some("application/x-www-form-urlencoded");
    let token = app
        .send(
            Method::POST,
            &format!("{base}/token"),
            &Auth::None,
            Some(form.as_bytes()),
            form_type,
            &[],
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let nonce = app
        .send(
            Method::POST,
            &format!("{base}/nonce"),
            &Auth::None,
            None,
            None,
            &[],
        )
        .await
        .body["c_nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let holder = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
    let now = carnet_service::Clock::now_secs(&app.clock);
    let proof = carnet_core::oid4vci::make_proof(&holder, issuer, Some(&nonce), now).unwrap();
    let r = app
        .call(
            Method::POST,
            &format!("{base}/credential"),
            &Auth::Bearer(token.body["access_token"].as_str().unwrap().to_owned()),
            Some(json!({"credential_configuration_id": offer["credential_configuration_ids"][0], "proofs": {"jwt": [proof]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned()
}
