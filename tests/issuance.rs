//! End-to-end issuance: a centre evaluates a trainee; a test wallet written against the
//! protocols (OpenID4VCI, JWT VC Issuer Metadata, Token Status List) — not against the
//! issuer's internals — receives the competency credential and checks it. Then the failures a
//! wallet can meet: wrong PIN, reused code, expired offer, wrong or replayed nonce; revocation
//! and suspension seen in the status list; old credentials verifying after a key rotation.

mod common;

use axum::http::{Method, StatusCode};
use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::metadata::{JwtVcIssuerMetadata, TrustedIssuers, jwt_vc_issuer_metadata_url};
use carnet_core::oid4vci::{CredentialOffer, make_proof};
use carnet_core::sd_jwt::{self, Verified, VerifyOptions};
use carnet_core::status_list::{Status, StatusListToken};
use common::*;
use serde_json::{Value, json};

/// A wallet that knows only URLs and the protocols.
struct Wallet<'a> {
    app: &'a TestApp,
}

/// The path of a URL of the app under test (whatever its host: `carnet.test`, or a loopback port).
fn local(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/", |i| &rest[i..])
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

struct Endpoints {
    issuer: String,
    token: String,
    nonce: String,
    credential: String,
}

impl Wallet<'_> {
    async fn get(&self, url: &str) -> Reply {
        self.app
            .send(Method::GET, local(url), &Auth::None, None, None, &[])
            .await
    }

    /// Follows `openid-credential-offer://?credential_offer_uri=…`.
    async fn offer(&self, link: &str) -> Option<CredentialOffer> {
        let uri = percent_decode(
            link.strip_prefix("openid-credential-offer://?credential_offer_uri=")
                .unwrap(),
        );
        let r = self.get(&uri).await;
        (r.status == StatusCode::OK).then(|| serde_json::from_value(r.body).unwrap())
    }

    async fn endpoints(&self, issuer: &str) -> Endpoints {
        let (scheme_host, path) = issuer.split_at(issuer.len() - local(issuer).len());
        let meta = self
            .get(&format!(
                "{scheme_host}/.well-known/openid-credential-issuer{path}"
            ))
            .await;
        assert_eq!(meta.body["credential_issuer"], issuer);
        assert_eq!(
            meta.body["credential_configurations_supported"]["competency"]["format"],
            "dc+sd-jwt"
        );
        let auth = self
            .get(&format!(
                "{scheme_host}/.well-known/oauth-authorization-server{path}"
            ))
            .await;
        Endpoints {
            issuer: issuer.to_owned(),
            token: auth.body["token_endpoint"].as_str().unwrap().to_owned(),
            nonce: meta.body["nonce_endpoint"].as_str().unwrap().to_owned(),
            credential: meta.body["credential_endpoint"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    async fn token(&self, e: &Endpoints, code: &str, tx_code: Option<&str>) -> Reply {
        let mut form = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code={code}"
        );
        if let Some(tx) = tx_code {
            form.push_str(&format!("&tx_code={tx}"));
        }
        self.app
            .send(
                Method::POST,
                local(&e.token),
                &Auth::None,
                Some(form.as_bytes()),
                Some("application/x-www-form-urlencoded"),
                &[],
            )
            .await
    }

    async fn nonce(&self, e: &Endpoints) -> String {
        let r = self
            .app
            .send(Method::POST, local(&e.nonce), &Auth::None, None, None, &[])
            .await;
        assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
        r.body["c_nonce"].as_str().unwrap().to_owned()
    }

    async fn credential(&self, e: &Endpoints, access_token: &str, proofs: &[String]) -> Reply {
        self.credential_of("competency", e, access_token, proofs)
            .await
    }

    async fn credential_of(
        &self,
        configuration: &str,
        e: &Endpoints,
        access_token: &str,
        proofs: &[String],
    ) -> Reply {
        let body = json!({"credential_configuration_id": configuration, "proofs": {"jwt": proofs}});
        self.app
            .call(
                Method::POST,
                local(&e.credential),
                &Auth::Bearer(access_token.to_owned()),
                Some(body),
            )
            .await
    }

    /// The whole exchange for an offer link: one credential bound to `holder`.
    async fn receive(&self, link: &str, pin: Option<&str>, holder: &SigningKey) -> String {
        let offer = self.offer(link).await.unwrap();
        let configuration = offer.credential_configuration_ids[0].clone();
        let endpoints = self.endpoints(&offer.credential_issuer).await;
        let code = offer.pre_authorized_code().unwrap().0.to_owned();
        let token = self.token(&endpoints, &code, pin).await;
        let access = token.body["access_token"].as_str().unwrap().to_owned();
        let nonce = self.nonce(&endpoints).await;
        let proof =
            make_proof(holder, &endpoints.issuer, Some(&nonce), now_secs(self.app)).unwrap();
        let r = self
            .credential_of(&configuration, &endpoints, &access, &[proof])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["credentials"][0]["credential"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Trust the issuer's published keys and verify a received credential, then its status.
    async fn check(&self, credential: &str, now: i64) -> (Verified, Status) {
        let unverified = sd_jwt::SdJwt::parse(credential).unwrap();
        let iss = unverified.payload()["iss"].as_str().unwrap().to_owned();
        let metadata: JwtVcIssuerMetadata = serde_json::from_value(
            self.get(&jwt_vc_issuer_metadata_url(&iss).unwrap())
                .await
                .body,
        )
        .unwrap();
        metadata.check(&iss).unwrap();
        let mut trusted = TrustedIssuers::default();
        trusted
            .insert(&iss, metadata.jwks.as_ref().unwrap())
            .unwrap();
        let verified = sd_jwt::verify(
            credential,
            &trusted,
            &VerifyOptions::without_key_binding(now),
        )
        .unwrap();
        let reference = verified.status.clone().unwrap();
        let list = self.get(&reference.uri).await;
        assert_eq!(
            list.headers.get("content-type").unwrap(),
            "application/statuslist+jwt"
        );
        assert_eq!(
            list.headers.get("cache-control").unwrap(),
            "public, max-age=300"
        );
        let token = String::from_utf8(list.raw).unwrap();
        let kid = carnet_core::jws::Jws::parse(&token)
            .unwrap()
            .header_str("kid")
            .unwrap()
            .to_owned();
        let key = carnet_core::sd_jwt::IssuerKeys::issuer_key(&trusted, &iss, Some(&kid))
            .unwrap()
            .clone();
        let parsed =
            StatusListToken::verify(&token, &key, &reference.uri, now, 60, 1 << 20).unwrap();
        (verified.clone(), parsed.status_of(&reference).unwrap())
    }
}

fn now_secs(app: &TestApp) -> i64 {
    carnet_service::Clock::now_secs(&app.clock)
}

#[tokio::test]
async fn a_validated_evaluation_becomes_a_credential_in_the_wallet() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let evaluated = c.evaluate(&app, json!("argent")).await;
        assert_eq!(evaluated["evaluation"]["validated"], 1);
        let pin = evaluated["offer"]["tx_code"].as_str().unwrap().to_owned();
        assert_eq!(pin.len(), 6);

        // The trainee finds the offer in their account (link and PIN), the wallet follows it.
        let mine = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/credential-offers",
                &c.trainee,
                None,
            )
            .await;
        let link = mine.body[0]["offer_link"].as_str().unwrap().to_owned();
        assert_eq!(mine.body[0]["tx_code"], pin.as_str());
        // The link as a QR code, for the trainee and the staff; nobody else.
        let oid = mine.body[0]["id"].as_str().unwrap();
        let svg = app
            .send(
                Method::GET,
                &format!("/issuer/api/v1/credential-offers/{oid}/qr"),
                &c.trainee,
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(svg.headers.get("content-type").unwrap(), "image/svg+xml");
        let png = app
            .send(
                Method::GET,
                &format!("/issuer/api/v1/credential-offers/{oid}/qr?format=png"),
                &c.trainer,
                None,
                None,
                &[],
            )
            .await;
        assert!(png.raw.starts_with(b"\x89PNG"));
        let (stranger, _) = app
            .register("issuer", "curious@example.org", "Curious")
            .await;
        let denied = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/credential-offers/{oid}/qr"),
                &stranger,
                None,
            )
            .await;
        assert_eq!(denied.problem(), "not-found");
        let wallet = Wallet { app: &app };
        let offer = wallet.offer(&link).await.unwrap();
        let (code, needs_pin) = offer.pre_authorized_code().unwrap();
        assert!(needs_pin);
        let endpoints = wallet.endpoints(&offer.credential_issuer).await;

        let token = wallet.token(&endpoints, code, Some(&pin)).await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.body);
        let access = token.body["access_token"].as_str().unwrap().to_owned();
        let nonce = wallet.nonce(&endpoints).await;
        // Two copies bound to two holder keys (EdDSA and ES256), for unlinkability.
        let mut rng = rand::rngs::OsRng;
        let holders = [
            SigningKey::generate(Algorithm::EdDSA, &mut rng),
            SigningKey::generate(Algorithm::ES256, &mut rng),
        ];
        let now = now_secs(&app);
        let proofs: Vec<String> = holders
            .iter()
            .map(|h| make_proof(h, &endpoints.issuer, Some(&nonce), now).unwrap())
            .collect();
        let issued = wallet.credential(&endpoints, &access, &proofs).await;
        assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
        let credentials = issued.body["credentials"].as_array().unwrap();
        assert_eq!(credentials.len(), 2);

        let mut indices = Vec::new();
        for (credential, holder) in credentials.iter().zip(&holders) {
            let (verified, status) = wallet
                .check(credential["credential"].as_str().unwrap(), now)
                .await;
            assert_eq!(status, Status::Valid);
            assert_eq!(
                verified.holder.as_ref().unwrap().thumbprint(),
                holder.public_jwk().thumbprint(),
                "bound to the proven key"
            );
            let claims = &verified.claims;
            assert_eq!(claims["name"], "Camille Durand");
            assert_eq!(claims["competency"]["code"], "SOUD-TIG");
            assert_eq!(claims["competency"]["framework_codes"]["rome"], "H2913");
            assert_eq!(claims["level"]["label"], "argent");
            assert_eq!(claims["level"]["rank"], 2);
            assert_eq!(claims["establishment"]["siret"], "45218903800014");
            assert_eq!(claims["evaluator"]["name"], "Julien Martin");
            assert_eq!(claims["session"]["title"], "Soudeur 2026");
            assert!(
                verified.disclosed.len() > 10,
                "the competency facts are selectively disclosable"
            );
            indices.push(verified.status.unwrap().idx);
        }
        assert_ne!(indices[0], indices[1], "each copy has its own status entry");

        // The code works for one wallet; the access token for one issuance: another request
        // with it is refused (asking the same again is `a_wallet_that_lost_the_answer_asks_again`).
        let nonce = wallet.nonce(&endpoints).await;
        let other = make_proof(&holders[0], &endpoints.issuer, Some(&nonce), now).unwrap();
        let reuse = wallet.credential(&endpoints, &access, &[other]).await;
        assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
        assert!(wallet.offer(&link).await.is_none(), "a used offer is gone");

        // Every evaluation is in the history, for the trainee and for the staff.
        let history = app
            .call(
                Method::GET,
                "/issuer/api/v1/me/evaluations",
                &c.trainee,
                None,
            )
            .await;
        assert_eq!(history.body.as_array().unwrap().len(), 1);
        let staff = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/organisations/{}/evaluations", c.org),
                &c.admin,
                None,
            )
            .await;
        assert_eq!(staff.body[0]["level_label"], "argent");
    })
    .await;
}

/// A wallet whose connection dropped, or whose issuer restarted, before the answer came asks
/// again: the same code gives the same access token while it lives, and the same credential
/// request the same credentials (stored once), for a grace period; anything else is refused.
#[tokio::test]
async fn a_wallet_that_lost_the_answer_asks_again() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let wallet = Wallet { app: &app };
        let (offer, pin) = fresh_offer(&app, &c).await;
        let endpoints = wallet.endpoints(&offer.credential_issuer).await;
        let code = offer.pre_authorized_code().unwrap().0.to_owned();

        // The token, twice in a row and twice at once: one token.
        let first = wallet.token(&endpoints, &code, Some(&pin)).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let access = first.body["access_token"].as_str().unwrap().to_owned();
        let (a, b) = tokio::join!(
            wallet.token(&endpoints, &code, Some(&pin)),
            wallet.token(&endpoints, &code, Some(&pin))
        );
        for again in [a, b] {
            assert_eq!(again.status, StatusCode::OK, "{}", again.body);
            assert_eq!(again.body["access_token"], access.as_str());
        }
        // The PIN is still checked, and a retry spends no attempt of the right code.
        let wrong = if pin == "000000" { "111111" } else { "000000" };
        let refused = wallet.token(&endpoints, &code, Some(wrong)).await;
        assert_eq!(refused.body["error"], "invalid_grant");
        for _ in 0..6 {
            let again = wallet.token(&endpoints, &code, Some(&pin)).await;
            assert_eq!(
                again.body["access_token"],
                access.as_str(),
                "{}",
                again.body
            );
        }

        // The credential request, sent twice at once, then again: the same credentials.
        let holders: Vec<SigningKey> = (0..3)
            .map(|_| SigningKey::generate(Algorithm::ES256, &mut rand::rngs::OsRng))
            .collect();
        let nonce = wallet.nonce(&endpoints).await;
        let now = now_secs(&app);
        let proofs: Vec<String> = holders
            .iter()
            .map(|h| make_proof(h, &endpoints.issuer, Some(&nonce), now).unwrap())
            .collect();
        let (a, b) = tokio::join!(
            wallet.credential(&endpoints, &access, &proofs),
            wallet.credential(&endpoints, &access, &proofs)
        );
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(b.status, StatusCode::OK, "{}", b.body);
        assert_eq!(a.body, b.body);
        assert_eq!(a.body["credentials"].as_array().unwrap().len(), 3);
        app.clock.advance_secs(60);
        let later = wallet.credential(&endpoints, &access, &proofs).await;
        assert_eq!(later.status, StatusCode::OK, "{}", later.body);
        assert_eq!(later.body, a.body);
        for (credential, holder) in a.body["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&holders)
        {
            let (verified, status) = wallet
                .check(credential["credential"].as_str().unwrap(), now_secs(&app))
                .await;
            assert_eq!(status, Status::Valid);
            assert_eq!(
                verified.holder.unwrap().thumbprint(),
                holder.public_jwk().thumbprint()
            );
        }
        let pool = app.ctx(carnet_service::ServiceKind::Issuer).db.pool();
        let (stored,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM credentials c JOIN credential_offers o ON o.id = c.offer_id \
             WHERE o.code_hash = $1",
        )
        .bind(carnet_service::id::hash_secret(&code))
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(stored, 3, "issued once");
        // The database alone does not hold the credentials in clear.
        let raw = app
            .raw_contents(carnet_service::ServiceKind::Issuer, &["vci_access_tokens"])
            .await;
        let first = a.body["credentials"][0]["credential"].as_str().unwrap();
        assert!(!raw.contains(first.split('~').next().unwrap()));

        // Other proofs with the spent token, a truncated request, or the same past the grace
        // period: refused.
        let nonce = wallet.nonce(&endpoints).await;
        let other: Vec<String> = holders
            .iter()
            .map(|h| make_proof(h, &endpoints.issuer, Some(&nonce), now_secs(&app)).unwrap())
            .collect();
        let refused = wallet.credential(&endpoints, &access, &other).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
        let fewer = wallet.credential(&endpoints, &access, &proofs[..2]).await;
        assert_eq!(fewer.status, StatusCode::UNAUTHORIZED, "{}", fewer.body);
        app.clock
            .advance_secs(carnet_issuer::REPLAY_GRACE_MS / 1000);
        let late = wallet.credential(&endpoints, &access, &proofs).await;
        assert_eq!(late.status, StatusCode::UNAUTHORIZED, "{}", late.body);
        // And the code, once its token has expired.
        let late = wallet.token(&endpoints, &code, Some(&pin)).await;
        assert_eq!(late.body["error"], "invalid_grant", "{}", late.body);
    })
    .await;
}

async fn fresh_offer(app: &TestApp, c: &Centre) -> (CredentialOffer, String) {
    let evaluated = c.evaluate(app, json!("or")).await;
    let link = evaluated["offer"]["offer_link"]
        .as_str()
        .unwrap()
        .to_owned();
    let pin = evaluated["offer"]["tx_code"].as_str().unwrap().to_owned();
    (Wallet { app }.offer(&link).await.unwrap(), pin)
}

#[tokio::test]
async fn what_a_wallet_gets_wrong_is_refused() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let wallet = Wallet { app: &app };
        let holder = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);

        // Wrong PIN, five times: the offer locks.
        let (offer, pin) = fresh_offer(&app, &c).await;
        let endpoints = wallet.endpoints(&offer.credential_issuer).await;
        let code = offer.pre_authorized_code().unwrap().0.to_owned();
        let wrong = if pin == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            let r = wallet.token(&endpoints, &code, Some(wrong)).await;
            assert_eq!(r.body["error"], "invalid_grant");
        }
        assert_eq!(
            wallet.token(&endpoints, &code, Some(&pin)).await.body["error"],
            "invalid_grant",
            "locked"
        );
        assert_eq!(
            wallet.token(&endpoints, &code, None).await.body["error"],
            "invalid_grant"
        );

        // An unknown nonce, then a replayed proof.
        let (offer, pin) = fresh_offer(&app, &c).await;
        let code = offer.pre_authorized_code().unwrap().0.to_owned();
        let access = wallet.token(&endpoints, &code, Some(&pin)).await.body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let now = now_secs(&app);
        let made_up =
            make_proof(&holder, &endpoints.issuer, Some("not-a-nonce-we-gave"), now).unwrap();
        assert_eq!(
            wallet
                .credential(&endpoints, &access, &[made_up])
                .await
                .body["error"],
            "invalid_nonce"
        );
        let no_nonce = make_proof(&holder, &endpoints.issuer, None, now).unwrap();
        assert_eq!(
            wallet
                .credential(&endpoints, &access, &[no_nonce])
                .await
                .body["error"],
            "invalid_nonce"
        );
        let wrong_aud = make_proof(
            &holder,
            "https://elsewhere.example",
            Some(&wallet.nonce(&endpoints).await),
            now,
        )
        .unwrap();
        assert_eq!(
            wallet
                .credential(&endpoints, &access, &[wrong_aud])
                .await
                .body["error"],
            "invalid_proof"
        );
        let nonce = wallet.nonce(&endpoints).await;
        let proof = make_proof(&holder, &endpoints.issuer, Some(&nonce), now).unwrap();
        assert_eq!(
            wallet
                .credential(&endpoints, &access, std::slice::from_ref(&proof))
                .await
                .status,
            StatusCode::OK
        );
        let (offer, pin) = fresh_offer(&app, &c).await;
        let code = offer.pre_authorized_code().unwrap().0.to_owned();
        let access = wallet.token(&endpoints, &code, Some(&pin)).await.body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            wallet.credential(&endpoints, &access, &[proof]).await.body["error"],
            "invalid_nonce",
            "replayed proof"
        );
        // Too many proofs, or the old singular `proof`.
        let six: Vec<String> = (0..6)
            .map(|_| make_proof(&holder, &endpoints.issuer, Some(&nonce), now).unwrap())
            .collect();
        assert_eq!(
            wallet.credential(&endpoints, &access, &six).await.body["error"],
            "invalid_proof"
        );
        let singular = app
            .call(
                Method::POST,
                local(&endpoints.credential),
                &Auth::Bearer(access.clone()),
                Some(json!({"credential_configuration_id": "competency", "proof": {"jwt": "x"}})),
            )
            .await;
        assert_eq!(singular.body["error"], "invalid_credential_request");

        // An offer expires.
        let evaluated = c.evaluate(&app, json!("bronze")).await;
        let link = evaluated["offer"]["offer_link"]
            .as_str()
            .unwrap()
            .to_owned();
        let offer = wallet.offer(&link).await.unwrap();
        app.clock
            .advance_secs(carnet_issuer::OFFER_TTL_MS / 1000 + 1);
        assert!(wallet.offer(&link).await.is_none());
        let code = offer.pre_authorized_code().unwrap().0;
        let pin = evaluated["offer"]["tx_code"].as_str().unwrap();
        assert_eq!(
            wallet.token(&endpoints, code, Some(pin)).await.body["error"],
            "invalid_grant"
        );
    })
    .await;
}

#[tokio::test]
async fn failed_evaluations_offer_nothing_and_corrections_supersede() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let base = format!("/issuer/api/v1/organisations/{}/sessions/{}/evaluations", c.org, c.session);
        let evaluate = |body: Value| app.call(Method::POST, &base, &c.trainer, Some(body));
        let first = evaluate(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "bronze", "pin": false})).await;
        let id = first.body["evaluation"]["id"].as_str().unwrap().to_owned();
        assert!(first.body["offer"]["tx_code"].is_null(), "no PIN asked");
        let fix = evaluate(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "argent", "supersedes": id})).await;
        assert_eq!(fix.status, StatusCode::CREATED);
        let twice = evaluate(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "or", "supersedes": id})).await;
        assert_eq!(twice.problem(), "conflict");
        let no_evidence = evaluate(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "or", "evidence_resource_id": "res_nope"})).await;
        assert_eq!(no_evidence.body["field"], "evidence_resource_id");
        let bad_level = evaluate(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "platine"})).await;
        assert_eq!(bad_level.body["field"], "assessment");
        // The trainee cannot evaluate; a stranger cannot be evaluated.
        let selfie = app.call(Method::POST, &base, &c.trainee, Some(json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "or"}))).await;
        assert_eq!(selfie.problem(), "forbidden");
        let (_, stranger) = app.register("issuer", "stranger@example.org", "Stranger").await;
        let r = evaluate(json!({"trainee_id": stranger, "competency_id": c.competency, "assessment": "or"})).await;
        assert_eq!(r.body["field"], "trainee_id");
        let history = app.call(Method::GET, &format!("/issuer/api/v1/organisations/{}/evaluations?trainee_id={}", c.org, c.trainee_id), &c.admin, None).await;
        assert_eq!(history.body.as_array().unwrap().len(), 2, "both versions are kept");
    })
    .await;
}

async fn issue_one(app: &TestApp, c: &Centre) -> String {
    let wallet = Wallet { app };
    let (offer, pin) = fresh_offer(app, c).await;
    let endpoints = wallet.endpoints(&offer.credential_issuer).await;
    let code = offer.pre_authorized_code().unwrap().0.to_owned();
    let access = wallet.token(&endpoints, &code, Some(&pin)).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let nonce = wallet.nonce(&endpoints).await;
    let holder = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
    let proof = make_proof(&holder, &endpoints.issuer, Some(&nonce), now_secs(app)).unwrap();
    let r = wallet.credential(&endpoints, &access, &[proof]).await;
    r.body["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The first credentials of an organisation, asked for all at once (on PostgreSQL through two
/// instances, whose caches of the open list are their own), all go on one status list: the
/// list is created once, whoever comes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_issuances_open_one_status_list() {
    const AT_ONCE: usize = 12;
    for engine in engines() {
        let app = TestApp::new(engine).await;
        let instances = if engine == carnet_service::db::Engine::Postgres {
            vec![app.router.clone(), app.another_instance().await]
        } else {
            vec![app.router.clone()]
        };
        let c = centre(&app).await;
        let rows: Vec<Value> = (0..AT_ONCE)
            .map(|_| json!({"email": "camille@example.org", "assessment": "or"}))
            .collect();
        let bulk = app
            .call(
                Method::POST,
                &format!(
                    "/issuer/api/v1/organisations/{}/sessions/{}/evaluations/bulk",
                    c.org, c.session
                ),
                &c.trainer,
                Some(json!({"competency_id": c.competency, "pin": false, "rows": rows})),
            )
            .await;
        assert_eq!(bulk.body["offers"], AT_ONCE, "{}", bulk.body);
        // Every wallet gets its access token and proof first; then all ask at once.
        let wallet = Wallet { app: &app };
        let mut requests = Vec::new();
        for result in bulk.body["results"].as_array().unwrap() {
            let offer = wallet
                .offer(result["offer"]["offer_link"].as_str().unwrap())
                .await
                .unwrap();
            let endpoints = wallet.endpoints(&offer.credential_issuer).await;
            let code = offer.pre_authorized_code().unwrap().0.to_owned();
            let access = wallet.token(&endpoints, &code, None).await.body["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            let nonce = wallet.nonce(&endpoints).await;
            let holder = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
            let proof =
                make_proof(&holder, &endpoints.issuer, Some(&nonce), now_secs(&app)).unwrap();
            let body =
                json!({"credential_configuration_id": "competency", "proofs": {"jwt": [proof]}});
            requests.push((local(&endpoints.credential).to_owned(), access, body));
        }
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(AT_ONCE));
        let tasks: Vec<_> = requests
            .into_iter()
            .enumerate()
            .map(|(i, (path, access, body))| {
                let router = instances[i % instances.len()].clone();
                let start = start.clone();
                tokio::spawn(async move {
                    use tower::ServiceExt;
                    let request = axum::http::Request::builder()
                        .method(Method::POST)
                        .uri(path)
                        .header("authorization", format!("Bearer {access}"))
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(body.to_string()))
                        .unwrap();
                    start.wait().await;
                    router.oneshot(request).await.unwrap().status()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::OK);
        }
        let (lists,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM status_lists WHERE organisation_id = $1")
                .bind(&c.org)
                .fetch_one(app.ctx(carnet_service::ServiceKind::Issuer).db.pool())
                .await
                .unwrap();
        assert_eq!(
            lists, 1,
            "{engine:?}: the first issuances opened {lists} lists"
        );
        let issued = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/organisations/{}/credentials", c.org),
                &c.admin,
                None,
            )
            .await;
        assert_eq!(issued.body.as_array().unwrap().len(), AT_ONCE);
    }
}

/// The migration that numbers status lists numbers those already open by when they were
/// opened, per organisation, and the newest one (the list `open_list` took before) stays the
/// open one.
#[tokio::test]
async fn existing_status_lists_are_numbered_in_order() {
    use carnet_service::testing::TestDatabase;
    for engine in engines() {
        let test_db = match engine {
            carnet_service::db::Engine::Sqlite => TestDatabase::sqlite(),
            carnet_service::db::Engine::Postgres => TestDatabase::postgres().await.unwrap(),
        };
        let db = carnet_service::Db::connect(&test_db.url).await.unwrap();
        let before: Vec<_> = carnet_issuer::MIGRATIONS
            .iter()
            .copied()
            .filter(|m| m.0 < 112)
            .collect();
        db.migrate(&before).await.unwrap();
        for org in ["org_a", "org_b"] {
            sqlx::query("INSERT INTO tenants (id, name, siret, address, created_at) VALUES ($1, $1, '45218903800014', '', 0)")
                .bind(org)
                .execute(db.pool())
                .await
                .unwrap();
        }
        // org_a: opened at 10, then two in the same millisecond (20), then at 30; org_b: one.
        for (id, org, at) in [
            ("stl_d", "org_a", 30),
            ("stl_a", "org_a", 10),
            ("stl_c", "org_a", 20),
            ("stl_b", "org_a", 20),
            ("stl_e", "org_b", 20),
        ] {
            sqlx::query("INSERT INTO status_lists (id, organisation_id, size, created_at) VALUES ($1, $2, 65536, $3)")
                .bind(id)
                .bind(org)
                .bind(at as i64)
                .execute(db.pool())
                .await
                .unwrap();
        }
        db.migrate(carnet_issuer::MIGRATIONS).await.unwrap();
        let numbered: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT organisation_id, id, seq FROM status_lists ORDER BY organisation_id, seq",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let numbered: Vec<(&str, &str, i64)> = numbered
            .iter()
            .map(|(o, i, s)| (o.as_str(), i.as_str(), *s))
            .collect();
        assert_eq!(
            numbered,
            [
                ("org_a", "stl_a", 1),
                ("org_a", "stl_c", 2),
                ("org_a", "stl_b", 3),
                ("org_a", "stl_d", 4),
                ("org_b", "stl_e", 1)
            ],
            "{engine:?}"
        );
        let taken = sqlx::query("INSERT INTO status_lists (id, organisation_id, seq, size, created_at) VALUES ('stl_f', 'org_a', 4, 65536, 40)")
            .execute(db.pool())
            .await;
        assert!(taken.is_err(), "{engine:?}: a number is taken once");
        db.close().await;
    }
}

#[tokio::test]
async fn revocation_suspension_and_key_rotation() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let wallet = Wallet { app: &app };
        let old = issue_one(&app, &c).await;
        let list = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/organisations/{}/credentials", c.org),
                &c.admin,
                None,
            )
            .await;
        let cid = list.body[0]["id"].as_str().unwrap().to_owned();
        let path = format!(
            "/issuer/api/v1/organisations/{}/credentials/{cid}/status",
            c.org
        );
        let app = &app;
        let set = |status: &'static str, who: Auth| {
            let path = path.clone();
            async move {
                app.call(
                    Method::POST,
                    &path,
                    &who,
                    Some(json!({"status": status, "reason": "contrôle"})),
                )
                .await
            }
        };
        assert_eq!(
            set("suspended", c.trainer.clone()).await.problem(),
            "forbidden",
            "trainers do not revoke"
        );
        assert_eq!(
            set("suspended", c.admin.clone()).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(wallet.check(&old, now_secs(app)).await.1, Status::Suspended);
        assert_eq!(
            set("valid", c.admin.clone()).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(wallet.check(&old, now_secs(app)).await.1, Status::Valid);

        // Rotation: new credentials carry the new kid; the old one still verifies.
        let rotated = app
            .call(
                Method::POST,
                &format!("/issuer/api/v1/organisations/{}/keys", c.org),
                &c.admin,
                Some(json!({"alg": "ES256"})),
            )
            .await;
        assert_eq!(rotated.status, StatusCode::CREATED);
        let new = issue_one(app, &c).await;
        let (verified, _) = wallet.check(&new, now_secs(app)).await;
        assert_eq!(verified.kid.as_deref(), rotated.body["kid"].as_str());
        assert_eq!(verified.alg, Algorithm::ES256);
        let (old_verified, _) = wallet.check(&old, now_secs(app)).await;
        assert_ne!(old_verified.kid, verified.kid);

        assert_eq!(
            set("revoked", c.admin.clone()).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(wallet.check(&old, now_secs(app)).await.1, Status::Invalid);
        assert_eq!(
            set("valid", c.admin.clone()).await.problem(),
            "conflict",
            "revocation is final"
        );
        let audit = app
            .call(
                Method::GET,
                &format!("/issuer/api/v1/organisations/{}/audit?limit=200", c.org),
                &c.admin,
                None,
            )
            .await;
        let actions: Vec<&str> = audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for action in [
            "credential.revoked",
            "credential.suspended",
            "credential.valid",
            "organisation.key_rotated",
            "credential.issued",
            "credential_offer.created",
            "evaluation.created",
        ] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn bulk_evaluation_reports_each_row() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let base = format!("/issuer/api/v1/organisations/{}/sessions/{}/evaluations/bulk", c.org, c.session);
        let csv = "email,assessment,comment\ncamille@example.org,argent,\"soudure propre, régulière\"\nnobody@example.org,or,\ncamille@example.org,platine,\n";
        let r = app
            .send(Method::POST, &format!("{base}?competency_id={}", c.competency), &c.trainer, Some(csv.as_bytes()), Some("text/csv"), &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!((r.body["created"].as_u64(), r.body["failed"].as_u64(), r.body["offers"].as_u64()), (Some(1), Some(2), Some(1)));
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results[0]["outcome"], "created");
        assert!(results[0]["offer"]["offer_link"].as_str().unwrap().starts_with("openid-credential-offer://"));
        assert_eq!(results[1]["outcome"], "error");
        assert_eq!(results[2]["row"], 3);
        assert!(results[2]["error"].as_str().unwrap().contains("platine"));
        let json_body = json!({"competency_id": c.competency, "pin": false, "rows": [{"email": "camille@example.org", "assessment": "or"}]});
        let r = app.call(Method::POST, &base, &c.trainer, Some(json_body)).await;
        assert_eq!(r.body["created"], 1);
        assert!(r.body["results"][0]["offer"]["tx_code"].is_null());
        let none = app.call(Method::POST, &base, &c.trainer, Some(json!({"competency_id": c.competency, "rows": []}))).await;
        assert_eq!(none.body["field"], "rows");
        let trainee = app.call(Method::POST, &base, &c.trainee, Some(json!({"competency_id": c.competency, "rows": []}))).await;
        assert_eq!(trainee.problem(), "forbidden");
        let history = app.call(Method::GET, "/issuer/api/v1/me/evaluations", &c.trainee, None).await;
        assert_eq!(history.body.as_array().unwrap().len(), 2);
        // The whole session at once.
        let all = app
            .call(Method::POST, &base, &c.trainer, Some(json!({"competency_id": c.competency, "whole_session": {"assessment": "bronze"}, "pin": false})))
            .await;
        assert_eq!((all.body["created"].as_u64(), all.body["offers"].as_u64()), (Some(1), Some(1)), "{}", all.body);
        assert_eq!(all.body["results"][0]["email"], "camille@example.org");
        let both = app
            .call(Method::POST, &base, &c.trainer, Some(json!({"competency_id": c.competency, "whole_session": {"assessment": "or"}, "rows": [{"email": "camille@example.org", "assessment": "or"}]})))
            .await;
        assert_eq!(both.body["field"], "whole_session");
    })
    .await;
}

/// A row PostgreSQL cannot even look up (a NUL in the e-mail address: its text refuses NUL,
/// SQLite's does not) is that row's error on both engines, in JSON and in CSV, and the rows
/// around it are recorded.
#[tokio::test]
async fn a_bad_bulk_row_fails_alone_on_every_engine() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let base = format!("/issuer/api/v1/organisations/{}/sessions/{}/evaluations/bulk", c.org, c.session);
        let rows = json!([
            {"email": "camille@example.org", "assessment": "argent"},
            {"email": "cam\u{0}ille@example.org", "assessment": "or"},
            {"email": "camille@example.org", "assessment": "or"},
        ]);
        let r = app
            .call(Method::POST, &base, &c.trainer, Some(json!({"competency_id": c.competency, "pin": false, "rows": rows})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}: {}", app.engine, r.body);
        assert_eq!((r.body["created"].as_u64(), r.body["failed"].as_u64()), (Some(2), Some(1)), "{:?}: {}", app.engine, r.body);
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results.iter().map(|r| r["outcome"].as_str().unwrap()).collect::<Vec<_>>(), ["created", "error", "created"]);
        assert_eq!(results[1]["row"], 2);
        assert!(results[1]["error"].as_str().unwrap().contains("e-mail"), "{}", results[1]);

        let csv = "email,assessment\ncamille@example.org,bronze\ncam\u{0}ille@example.org,or\ncamille@example.org,argent\n";
        let r = app
            .send(Method::POST, &format!("{base}?competency_id={}&pin=false", c.competency), &c.trainer, Some(csv.as_bytes()), Some("text/csv"), &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}: {}", app.engine, r.body);
        assert_eq!((r.body["created"].as_u64(), r.body["failed"].as_u64()), (Some(2), Some(1)), "{:?}: {}", app.engine, r.body);
        assert_eq!(r.body["results"][1]["outcome"], "error");

        let history = app.call(Method::GET, "/issuer/api/v1/me/evaluations", &c.trainee, None).await;
        assert_eq!(history.body.as_array().unwrap().len(), 4);
    })
    .await;
}

#[tokio::test]
async fn session_roles_are_enforced() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let base = format!("/issuer/api/v1/organisations/{}", c.org);
        let new_session =
            json!({"title": "Autre", "starts_on": "2026-02-02", "ends_on": "2026-02-27"});
        assert_eq!(
            app.call(
                Method::POST,
                &format!("{base}/sessions"),
                &c.trainer,
                Some(new_session.clone())
            )
            .await
            .problem(),
            "forbidden"
        );
        let add = json!({"email": "camille@example.org", "role": "manager"});
        let members = format!("{base}/sessions/{}/members", c.session);
        assert_eq!(
            app.call(Method::POST, &members, &c.trainer, Some(add.clone()))
                .await
                .problem(),
            "forbidden",
            "trainers do not staff sessions"
        );
        assert_eq!(
            app.call(Method::GET, &members, &c.trainer, None)
                .await
                .status,
            StatusCode::OK
        );
        // A trainee sees the session's staff, not the other trainees.
        let roles: Vec<String> = app
            .call(Method::GET, &members, &c.trainee, None)
            .await
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(roles, ["manager", "trainer"]);
        assert_eq!(
            app.call(
                Method::GET,
                &format!("{base}/credentials"),
                &c.trainee,
                None
            )
            .await
            .problem(),
            "forbidden"
        );
        // A centre's admin made session manager elsewhere has no say here.
        let (other, _) = app
            .register("issuer", "other@centre.example", "Other")
            .await;
        let org2 = app
            .call(
                Method::POST,
                "/issuer/api/v1/organisations",
                &other,
                Some(json!({"name": "Autre centre", "siret": "81234567600017"})),
            )
            .await;
        let evaluations = format!("{base}/sessions/{}/evaluations", c.session);
        let body =
            json!({"trainee_id": c.trainee_id, "competency_id": c.competency, "assessment": "or"});
        assert_eq!(
            app.call(Method::POST, &evaluations, &other, Some(body))
                .await
                .problem(),
            "not-found"
        );
        let theirs = format!(
            "/issuer/api/v1/organisations/{}/sessions/{}/members",
            org2.body["id"].as_str().unwrap(),
            c.session
        );
        assert_eq!(
            app.call(Method::GET, &theirs, &other, None).await.problem(),
            "not-found",
            "a session of another organisation"
        );
        // Managers (and admins) create sessions and staff them.
        let created = app
            .call(
                Method::POST,
                &format!("{base}/sessions"),
                &c.admin,
                Some(new_session),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        // Nobody is staff of a session above their role in the organisation: a trainee of the
        // centre does not manage a session; a manager of the centre does.
        let refused = app.call(Method::POST, &members, &c.admin, Some(add)).await;
        assert_eq!(
            (refused.problem().as_str(), refused.body["field"].as_str()),
            ("invalid", Some("role"))
        );
        let r = app
            .call(
                Method::POST,
                &format!("{base}/members"),
                &c.admin,
                Some(json!({"email": "formateur@centre.example", "role": "manager"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(
            app.call(
                Method::POST,
                &members,
                &c.admin,
                Some(json!({"email": "formateur@centre.example", "role": "manager"}))
            )
            .await
            .status,
            StatusCode::CREATED
        );
    })
    .await;
}

#[tokio::test]
async fn identity_and_completion_credentials() {
    each_engine(|app| async move {
        let c = centre(&app).await;
        let wallet = Wallet { app: &app };
        let holder = SigningKey::generate(Algorithm::ES256, &mut rand::rngs::OsRng);
        let identity = json!({
            "given_name": "Camille", "family_name": "Durand", "birthdate": "2001-04-17",
            "email": "camille.durand@exemple.fr", "phone_number": "+33 6 12 34 56 78",
            "address": {"street_address": "3 rue Mercière", "postal_code": "69002", "locality": "Lyon", "country": "fr"},
        });
        let path = format!("/issuer/api/v1/organisations/{}/trainees/{}/identity", c.org, c.trainee_id);
        assert_eq!(app.call(Method::PUT, &path, &c.trainer, Some(identity.clone())).await.problem(), "forbidden");
        let mut bad = identity.clone();
        bad["birthdate"] = json!("17/04/2001");
        assert_eq!(app.call(Method::PUT, &path, &c.admin, Some(bad)).await.body["field"], "birthdate");
        let offered = app.call(Method::PUT, &path, &c.admin, Some(identity)).await;
        assert_eq!(offered.status, StatusCode::CREATED, "{}", offered.body);
        let credential = wallet
            .receive(offered.body["offer_link"].as_str().unwrap(), offered.body["tx_code"].as_str(), &holder)
            .await;
        let (verified, status) = wallet.check(&credential, now_secs(&app)).await;
        assert_eq!(status, Status::Valid);
        assert!(verified.vct.ends_with("/vct/identity"));
        assert_eq!(verified.claims["address"]["country"], "FR");

        // The holder shares the e-mail and the town only: nothing else reaches the verifier.
        let shared = ["/email", "/address/locality"].map(|p| p.parse().unwrap());
        let kb = carnet_core::sd_jwt::KeyBindingInput { key: &holder, audience: "x509_hash:recruteur", nonce: "n-42", issued_at: now_secs(&app) };
        let presentation = sd_jwt::SdJwt::parse(&credential).unwrap().present(Some(&shared), Some(kb)).unwrap();
        let metadata: JwtVcIssuerMetadata = serde_json::from_value(
            wallet.get(&jwt_vc_issuer_metadata_url(&verified.issuer).unwrap()).await.body,
        )
        .unwrap();
        let mut trusted = TrustedIssuers::default();
        trusted.insert(&verified.issuer, metadata.jwks.as_ref().unwrap()).unwrap();
        let seen = sd_jwt::verify(&presentation, &trusted, &VerifyOptions::with_key_binding(now_secs(&app), "x509_hash:recruteur", "n-42")).unwrap();
        assert_eq!(seen.claims["email"], "camille.durand@exemple.fr");
        assert_eq!(seen.claims["address"], json!({"locality": "Lyon"}));
        for hidden in ["given_name", "family_name", "birthdate", "phone_number"] {
            assert!(!seen.claims.contains_key(hidden), "{hidden}");
        }
        assert!(!presentation.contains("Mercière") && !presentation.contains("2001-04-17"));

        // The completion certificate, from the session's managers.
        let completions = format!("/issuer/api/v1/organisations/{}/sessions/{}/completions", c.org, c.session);
        assert_eq!(app.call(Method::POST, &completions, &c.trainer, Some(json!({"trainee_id": c.trainee_id}))).await.problem(), "forbidden");
        let offered = app.call(Method::POST, &completions, &c.admin, Some(json!({"trainee_id": c.trainee_id, "pin": false}))).await;
        assert_eq!(offered.status, StatusCode::CREATED, "{}", offered.body);
        let certificate = wallet.receive(offered.body["offer_link"].as_str().unwrap(), None, &holder).await;
        let (verified, _) = wallet.check(&certificate, now_secs(&app)).await;
        assert!(verified.vct.ends_with("/vct/completion"));
        assert_eq!(verified.claims["formation"]["title"], "Soudeur 2026");
        assert_eq!(verified.claims["hours"]["planned"], 0);
        let types = wallet.get("http://carnet.test/issuer/vct/completion").await;
        assert_eq!(types.body["display"][0]["name"], "Certificat de réalisation");
    })
    .await;
}

/// A wallet that speaks plain OpenID4VP — no Carnet consent receipt — publishes a directory
/// profile when its credentials are bound to one key, which the verifier then knows it by;
/// credentials bound to different keys, with nothing tying them together, are refused.
#[tokio::test]
async fn a_plain_openid4vp_wallet_publishes_to_the_directory() {
    use carnet_service::ServiceKind;
    // Listening: the verifier reads the credentials' status lists over HTTP.
    for engine in engines() {
        let app = TestApp::listening(engine).await;
        let c = centre(&app).await;
        let wallet = Wallet { app: &app };
        let rng = &mut rand::rngs::OsRng;
        let (one, other) = (
            SigningKey::generate(Algorithm::EdDSA, rng),
            SigningKey::generate(Algorithm::ES256, rng),
        );
        let mut credentials = Vec::new();
        for (level, key) in [("argent", &one), ("or", &one), ("bronze", &other)] {
            let evaluated = c.evaluate(&app, json!(level)).await;
            let link = evaluated["offer"]["offer_link"].as_str().unwrap();
            credentials.push(
                wallet
                    .receive(link, evaluated["offer"]["tx_code"].as_str(), key)
                    .await,
            );
        }
        // The verifier trusts the centre (its keys as published).
        let iss = sd_jwt::SdJwt::parse(&credentials[0]).unwrap().payload()["iss"]
            .as_str()
            .unwrap()
            .to_owned();
        let metadata = wallet
            .get(&jwt_vc_issuer_metadata_url(&iss).unwrap())
            .await
            .body;
        let verifier = app.ctx(ServiceKind::Verifier);
        // Fetched now: keys not fetched again for a week are not used.
        sqlx::query("INSERT INTO trusted_issuers (issuer, name, jwks, fetched_at, created_at) VALUES ($1, 'Centre', $2, $3, $3)")
            .bind(&iss)
            .bind(metadata["jwks"].to_string())
            .bind(verifier.now_ms())
            .execute(verifier.db.pool())
            .await
            .unwrap();
        let r = publish_plain(&app, &[(&credentials[0], &one), (&credentials[2], &other)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.body["error_description"]
                .as_str()
                .unwrap()
                .contains("same holder key"),
            "{}",
            r.body
        );
        let r = publish_plain(&app, &[(&credentials[0], &one), (&credentials[1], &one)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["competencies"], 2, "{}", r.body);
        let (holder_kid,): (String,) = sqlx::query_as("SELECT holder_kid FROM profiles")
            .fetch_one(verifier.db.pool())
            .await
            .unwrap();
        assert_eq!(holder_kid, one.kid());
    }
}

/// Answers a fresh publication request with these credentials, each presented whole with key
/// binding, and no consent receipt.
async fn publish_plain(app: &TestApp, presented: &[(&String, &SigningKey)]) -> Reply {
    use carnet_core::oid4vci::percent_encode;
    use carnet_core::oid4vp::{RequestSource, parse_request_link};
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
    let presentations: Vec<String> = presented
        .iter()
        .map(|(credential, key)| {
            let kb = sd_jwt::KeyBindingInput {
                key,
                audience: &request.client_id,
                nonce: &request.nonce,
                issued_at: now_secs(app),
            };
            sd_jwt::SdJwt::parse(credential)
                .unwrap()
                .present(None, Some(kb))
                .unwrap()
        })
        .collect();
    // The verifier asks for an encrypted response (direct_post.jwt) and takes no other.
    let token = json!({"competencies": presentations});
    let plain = format!(
        "vp_token={}&state={}",
        percent_encode(&token.to_string()),
        percent_encode(request.state.as_deref().unwrap())
    );
    let r = app
        .send(
            Method::POST,
            local(&request.response_uri),
            &Auth::None,
            Some(plain.as_bytes()),
            Some("application/x-www-form-urlencoded"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .contains("encrypted")
    );
    // A plain wallet encrypts the same parameters to the request's key.
    let form: Vec<String> =
        carnet_core::oid4vp::response_form(&request, token.as_object().unwrap(), &[])
            .unwrap()
            .into_iter()
            .map(|(name, value)| format!("{name}={}", percent_encode(&value)))
            .collect();
    let form = form.join("&");
    app.send(
        Method::POST,
        local(&request.response_uri),
        &Auth::None,
        Some(form.as_bytes()),
        Some("application/x-www-form-urlencoded"),
        &[],
    )
    .await
}
