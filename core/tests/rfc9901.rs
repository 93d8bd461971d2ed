//! RFC 9901's own examples as fixed vectors (`vectors/rfc9901/README.md` says where each byte
//! comes from).

use carnet_core::keys::{Jwk, VerifyingKey};
use carnet_core::sd_jwt::{self, Disclosure, KbPolicy, SdAlg, SdJwt, VerifyOptions};
use serde_json::{Value, json};

fn vector(name: &str) -> String {
    let path = format!(
        "{}/tests/vectors/rfc9901/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim_end()
        .to_owned()
}

fn json_vector(name: &str) -> Value {
    serde_json::from_str(&vector(name)).unwrap()
}

fn issuer_key() -> VerifyingKey {
    let jwk: Jwk = serde_json::from_value(json_vector("issuer.jwk.json")).unwrap();
    VerifyingKey::from_jwk(&jwk).unwrap()
}

/// The RFC's examples are plain SD-JWTs typed `example+sd-jwt` (A.3 is an SD-JWT VC).
fn options(kb: Option<&str>, vc: bool) -> VerifyOptions {
    let mut options = VerifyOptions::without_key_binding(1_748_536_865);
    options.types = vec!["example+sd-jwt".into(), "dc+sd-jwt".into()];
    options.sd_jwt_vc = vc;
    if let Some(kb) = kb {
        let kb = json_vector(kb);
        options.now = kb["iat"].as_i64().unwrap();
        options.key_binding = KbPolicy::Required {
            audience: kb["aud"].as_str().unwrap().into(),
            nonce: kb["nonce"].as_str().unwrap().into(),
            max_age: 300,
        };
    }
    options
}

#[test]
fn disclosure_digests_match_the_specification() {
    let mut all = json_vector("disclosures.json").as_array().unwrap().clone();
    all.extend(
        json_vector("section4_disclosures.json")
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    for d in &all {
        let encoded = d["disclosure"].as_str().unwrap();
        let parsed = Disclosure::parse(encoded, SdAlg::Sha256).unwrap();
        if let Some(digest) = d["digest"].as_str() {
            assert_eq!(parsed.digest, digest, "{encoded}");
        }
        assert_eq!(parsed.salt, d["salt"].as_str().unwrap());
        assert_eq!(parsed.name.as_deref(), d["name"].as_str());
        assert_eq!(parsed.value, d["value"]);
    }
    assert_eq!(
        SdAlg::Sha256
            .digest("WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"),
        "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
    );
}

#[test]
fn main_example_presentation_verifies() {
    for (presentation, kb) in [
        ("presentation.txt", "kb.json"),
        (
            "draft22_ghpages_presentation.txt",
            "draft22_ghpages_kb.json",
        ),
    ] {
        let verified = sd_jwt::verify(
            &vector(presentation),
            &issuer_key(),
            &options(Some(kb), false),
        )
        .unwrap();
        assert_eq!(
            Value::Object(verified.claims),
            json_vector("expected_claims.json")
        );
    }
}

#[test]
fn appendix_examples_verify() {
    for (name, kb, vc) in [
        ("appendix_a1", None, false),
        ("appendix_a2", None, false),
        ("appendix_a3", Some("appendix_a3_kb.json"), true),
        ("appendix_a4", Some("appendix_a4_kb.json"), false),
    ] {
        let presentation = vector(&format!("{name}_presentation.txt"));
        let verified = sd_jwt::verify(&presentation, &issuer_key(), &options(kb, vc))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Value::Object(verified.claims),
            json_vector(&format!("{name}_expected_claims.json")),
            "{name}"
        );
    }
}

#[test]
fn holder_reproduces_the_example_disclosure_selection() {
    // Choosing the claims the RFC presents gives the RFC's presentation, byte for byte, up to
    // the key binding JWT (whose ES256 signature is randomised).
    let issued = SdJwt::parse(&vector("sd_jwt.txt")).unwrap();
    let expected = vector("presentation.txt");
    let sd_part = &expected[..=expected.rfind('~').unwrap()];
    let paths: Vec<_> = [
        "/given_name",
        "/family_name",
        "/address",
        "/nationalities/0",
    ]
    .iter()
    .map(|p| p.parse().unwrap())
    .collect();
    let presented = issued.present(Some(&paths), None).unwrap();
    let mut ours: Vec<&str> = presented.trim_end_matches('~').split('~').collect();
    let mut theirs: Vec<&str> = sd_part.trim_end_matches('~').split('~').collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    assert_eq!(
        json!(issued.claims().unwrap()["nationalities"]),
        json!(["US", "DE"])
    );
}

#[test]
fn a_vc_profile_verifier_refuses_the_plain_sd_jwt_examples() {
    let err = sd_jwt::verify(
        &vector("presentation.txt"),
        &issuer_key(),
        &options(Some("kb.json"), true),
    )
    .unwrap_err();
    assert_eq!(err, sd_jwt::VerifyError::MissingVct);
}
