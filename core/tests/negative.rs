//! The negative corpus: presentations with exactly one defect each (everything else valid and
//! properly signed), each rejected with its own error variant.

mod common;

use carnet_core::b64;
use carnet_core::jws::JwsError;
use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::sd_jwt::{self, KbPolicy, VerifyError, VerifyOptions};
use common::*;
use rand::SeedableRng;
use serde_json::{Value, json};

fn d_given() -> String {
    disclosure(r#"["c2FsdC1naXZlbg","given_name","Ada"]"#)
}
fn d_locality() -> String {
    disclosure(r#"["c2FsdC1sb2NhbGl0eQ","locality","Lyon"]"#)
}
fn d_element() -> String {
    disclosure(r#"["c2FsdC1lbGVtZW50","FR"]"#)
}

/// A payload with a top-level disclosure, a nested one and an array element.
fn payload_with(keys: &Keys, extra: Value) -> Value {
    let mut p = base_payload(keys);
    p["_sd"] = json!([digest(&d_given())]);
    p["address"] = json!({"_sd": [digest(&d_locality())], "country": "FR"});
    p["nationalities"] = json!([{"...": digest(&d_element())}, "DE"]);
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            p.as_object_mut().unwrap().remove(k);
        } else {
            p[k] = v.clone();
        }
    }
    p
}

fn all_disclosures() -> Vec<String> {
    vec![d_given(), d_locality(), d_element()]
}

fn check(presentation: &str, options: &VerifyOptions, expected: VerifyError) {
    let keys = keys();
    let got = sd_jwt::verify(presentation, keys.issuer.verifying_key(), options);
    assert_eq!(got.err(), Some(expected));
}

/// A one-defect payload with the standard disclosures.
fn payload_case(extra: Value, expected: VerifyError) {
    let k = keys();
    check(
        &presentation(&k, &payload_with(&k, extra), &all_disclosures()),
        &options(),
        expected,
    );
}

/// The standard payload with these disclosures (and extra `_sd` digests for them).
fn disclosure_case(disclosures: Vec<String>, expected: VerifyError) {
    let k = keys();
    let mut p = payload_with(&k, json!({}));
    for d in &disclosures {
        if !all_disclosures().contains(d) {
            p["_sd"].as_array_mut().unwrap().push(digest(d).into());
        }
    }
    check(&presentation(&k, &p, &disclosures), &options(), expected);
}

/// The standard SD-JWT with a key binding JWT built from `header` and `overrides`.
fn kb_case(header: Value, overrides: Value, expected: VerifyError) {
    let k = keys();
    let sd = sd_jwt(
        &issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let kb = kb_jwt(&k, &sd, header, overrides);
    check(&format!("{sd}{kb}"), &options(), expected);
}

fn raw_jwt(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header),
        b64::encode(payload),
        signature
    )
}

#[test]
fn the_valid_baseline_verifies() {
    let k = keys();
    let p = presentation(&k, &payload_with(&k, json!({})), &all_disclosures());
    let v = sd_jwt::verify(&p, k.issuer.verifying_key(), &options()).unwrap();
    assert_eq!(v.claims["given_name"], "Ada");
    assert_eq!(
        v.claims["address"],
        json!({"country": "FR", "locality": "Lyon"})
    );
    assert_eq!(v.claims["nationalities"], json!(["FR", "DE"]));
    assert_eq!(v.disclosed.len(), 3);
}

// --- Size and shape ---------------------------------------------------------------------

#[test]
fn too_large() {
    let k = keys();
    let mut o = options();
    o.limits.max_bytes = 100;
    check(
        &presentation(&k, &payload_with(&k, json!({})), &all_disclosures()),
        &o,
        VerifyError::TooLarge(100),
    );
}

#[test]
fn too_many_disclosures() {
    let k = keys();
    let mut o = options();
    o.limits.max_disclosures = 2;
    let p = presentation(&k, &payload_with(&k, json!({})), &all_disclosures());
    check(&p, &o, VerifyError::TooManyDisclosures(2));
}

#[test]
fn too_deep() {
    let k = keys();
    let mut o = options();
    o.limits.max_depth = 3;
    let p = presentation(
        &k,
        &payload_with(&k, json!({"deep": {"a": {"b": {"c": 1}}}})),
        &all_disclosures(),
    );
    check(&p, &o, VerifyError::TooDeep);
}

#[test]
fn not_an_sd_jwt() {
    let k = keys();
    let jwt = issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({})));
    check(&jwt, &options(), VerifyError::NotAnSdJwt);
}

// --- The issuer-signed JWT ---------------------------------------------------------------

#[test]
fn jwt_not_three_parts() {
    check(
        "abc.def~",
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Format),
    );
}

#[test]
fn header_not_json() {
    let jwt = raw_jwt("{not json", "{}", "AAAA");
    check(
        &format!("{jwt}~"),
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Header),
    );
}

#[test]
fn alg_none() {
    let jwt = raw_jwt(r#"{"alg":"none","typ":"dc+sd-jwt"}"#, r#"{"iss":"x"}"#, "");
    check(
        &format!("{jwt}~"),
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Algorithm("none".into())),
    );
}

#[test]
fn alg_hmac() {
    let jwt = raw_jwt(
        r#"{"alg":"HS256","typ":"dc+sd-jwt"}"#,
        r#"{"iss":"x"}"#,
        "AAAA",
    );
    check(
        &format!("{jwt}~"),
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Algorithm("HS256".into())),
    );
}

#[test]
fn critical_header() {
    let k = keys();
    let mut h = vc_header(&k);
    h["crit"] = json!(["exp"]);
    let sd = sd_jwt(
        &issuer_jwt(&k, h, &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let kb = kb_jwt(&k, &sd, kb_header(), json!({}));
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Critical),
    );
}

#[test]
fn payload_not_an_object() {
    let jwt = raw_jwt(r#"{"alg":"EdDSA","typ":"dc+sd-jwt"}"#, "[1]", "AAAA");
    check(
        &format!("{jwt}~"),
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Payload),
    );
}

#[test]
fn payload_with_duplicate_member() {
    let jwt = raw_jwt(
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt"}"#,
        r#"{"iss":"a","iss":"b"}"#,
        "AAAA",
    );
    check(
        &format!("{jwt}~"),
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Payload),
    );
}

#[test]
fn signature_not_strict_base64url() {
    let k = keys();
    let p = presentation(&k, &payload_with(&k, json!({})), &all_disclosures());
    let first_tilde = p.find('~').unwrap();
    let padded = format!("{}={}", &p[..first_tilde], &p[first_tilde..]);
    check(
        &padded,
        &options(),
        VerifyError::MalformedIssuerJwt(JwsError::Signature),
    );
}

#[test]
fn wrong_typ() {
    let k = keys();
    let mut h = vc_header(&k);
    h["typ"] = json!("vc+sd-jwt");
    let sd = sd_jwt(
        &issuer_jwt(&k, h, &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let kb = kb_jwt(&k, &sd, kb_header(), json!({}));
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::WrongType(Some("vc+sd-jwt".into())),
    );
}

#[test]
fn missing_typ() {
    let k = keys();
    let mut h = vc_header(&k);
    h.as_object_mut().unwrap().remove("typ");
    let sd = sd_jwt(
        &issuer_jwt(&k, h, &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let kb = kb_jwt(&k, &sd, kb_header(), json!({}));
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::WrongType(None),
    );
}

#[test]
fn algorithm_not_allowed() {
    let k = keys();
    let mut o = options();
    o.algorithms = vec![Algorithm::ES256];
    check(
        &presentation(&k, &payload_with(&k, json!({})), &all_disclosures()),
        &o,
        VerifyError::AlgorithmNotAllowed(Algorithm::EdDSA),
    );
}

#[test]
fn missing_iss() {
    payload_case(json!({"iss": null}), VerifyError::MissingIssuer);
}

#[test]
fn unknown_kid() {
    let k = keys();
    let mut h = vc_header(&k);
    h["kid"] = json!("someone-else");
    let sd = sd_jwt(
        &issuer_jwt(&k, h, &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let kb = kb_jwt(&k, &sd, kb_header(), json!({}));
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::UnknownIssuerKey {
            iss: "https://issuer.example".into(),
            kid: Some("someone-else".into()),
        },
    );
}

#[test]
fn header_alg_does_not_fit_the_issuer_key() {
    let k = keys();
    let mut h = vc_header(&k);
    h["alg"] = json!("ES256");
    let sd = sd_jwt(
        &issuer_jwt(&k, h, &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let kb = kb_jwt(&k, &sd, kb_header(), json!({}));
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::KeyAlgorithmMismatch(Algorithm::ES256),
    );
}

#[test]
fn signed_by_another_key() {
    let k = keys();
    let other = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::StdRng::seed_from_u64(9));
    let payload = payload_with(&k, json!({}));
    let jwt = carnet_core::jws::sign_with_header(&vc_header(&k), &payload, &other).unwrap();
    let sd = sd_jwt(&jwt, &all_disclosures());
    let kb = kb_jwt(&k, &sd, kb_header(), json!({}));
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::InvalidSignature,
    );
}

// --- _sd_alg -------------------------------------------------------------------------------

#[test]
fn sd_alg_not_a_string() {
    payload_case(json!({"_sd_alg": 256}), VerifyError::SdAlgNotString);
}

#[test]
fn sd_alg_wrong_case() {
    payload_case(
        json!({"_sd_alg": "SHA-256"}),
        VerifyError::UnsupportedSdAlg("SHA-256".into()),
    );
}

#[test]
fn sd_alg_nested() {
    payload_case(
        json!({"extra": {"_sd_alg": "sha-256"}}),
        VerifyError::NestedSdAlg,
    );
}

// --- Disclosures ---------------------------------------------------------------------------

#[test]
fn empty_disclosure() {
    let k = keys();
    let mut ds = all_disclosures();
    ds.push(String::new());
    check(
        &presentation(&k, &payload_with(&k, json!({})), &ds),
        &options(),
        VerifyError::EmptyDisclosure,
    );
}

#[test]
fn disclosure_padded_base64() {
    disclosure_case(
        vec![format!("{}=", d_given())],
        VerifyError::DisclosureEncoding,
    );
}

#[test]
fn disclosure_standard_base64_alphabet() {
    // `["a+/","x",1]` in standard base64 has `+` or `/`; make one with them.
    let bad = "WyJhKy8iLCJ4IiwxXQ+/";
    disclosure_case(vec![bad.into()], VerifyError::DisclosureEncoding);
}

#[test]
fn disclosure_not_json() {
    disclosure_case(
        vec![disclosure("[\"salt\", \"x\", ")],
        VerifyError::DisclosureJson,
    );
}

#[test]
fn disclosure_not_an_array() {
    disclosure_case(
        vec![disclosure(r#"{"salt":"s","name":"x"}"#)],
        VerifyError::DisclosureNotArray,
    );
}

#[test]
fn disclosure_with_four_elements() {
    disclosure_case(
        vec![disclosure(r#"["s","x",1,2]"#)],
        VerifyError::DisclosureLength(4),
    );
}

#[test]
fn disclosure_with_one_element() {
    disclosure_case(
        vec![disclosure(r#"["s"]"#)],
        VerifyError::DisclosureLength(1),
    );
}

#[test]
fn disclosure_salt_not_a_string() {
    disclosure_case(
        vec![disclosure(r#"[42,"x",1]"#)],
        VerifyError::DisclosureSaltNotString,
    );
}

#[test]
fn disclosure_name_not_a_string() {
    disclosure_case(
        vec![disclosure(r#"["s",7,1]"#)],
        VerifyError::DisclosureNameNotString,
    );
}

#[test]
fn disclosure_named_sd() {
    disclosure_case(
        vec![disclosure(r#"["s","_sd",["x"]]"#)],
        VerifyError::DisclosureReservedName("_sd".into()),
    );
}

#[test]
fn disclosure_named_ellipsis() {
    disclosure_case(
        vec![disclosure(r#"["s","...","x"]"#)],
        VerifyError::DisclosureReservedName("...".into()),
    );
}

#[test]
fn disclosure_with_duplicate_json_member() {
    disclosure_case(
        vec![disclosure(r#"["s","x",{"a":1,"a":2}]"#)],
        VerifyError::DisclosureJson,
    );
}

#[test]
fn disclosure_sent_twice() {
    let mut ds = all_disclosures();
    ds.push(d_given());
    disclosure_case(ds, VerifyError::DuplicateDisclosure);
}

// --- Digests ---------------------------------------------------------------------------------

#[test]
fn sd_not_an_array() {
    payload_case(json!({"extra": {"_sd": "abc"}}), VerifyError::SdNotArray);
}

#[test]
fn sd_digest_not_a_string() {
    payload_case(
        json!({"extra": {"_sd": [1]}}),
        VerifyError::SdDigestNotString,
    );
}

#[test]
fn array_digest_not_a_string() {
    payload_case(
        json!({"extra": [{"...": 5}]}),
        VerifyError::EllipsisNotString,
    );
}

#[test]
fn array_digest_object_with_extra_member() {
    payload_case(
        json!({"extra": [{"...": digest("decoy"), "more": 1}]}),
        VerifyError::EllipsisExtraMembers,
    );
}

#[test]
fn ellipsis_as_object_member() {
    payload_case(
        json!({"extra": {"...": digest("decoy")}}),
        VerifyError::MisplacedEllipsis,
    );
}

#[test]
fn the_same_decoy_twice() {
    payload_case(
        json!({"extra": {"_sd": [digest("decoy"), digest("decoy")]}}),
        VerifyError::DuplicateDigest,
    );
}

#[test]
fn the_same_digest_in_sd_and_in_an_array() {
    let decoy = digest("decoy");
    payload_case(
        json!({"extra": [{"...": decoy}], "more": {"_sd": [decoy]}}),
        VerifyError::DuplicateDigest,
    );
}

#[test]
fn array_disclosure_referenced_from_sd() {
    payload_case(
        json!({"extra": {"_sd": [digest(&d_element())]}, "nationalities": ["DE"]}),
        VerifyError::ArrayDisclosureInObject,
    );
}

#[test]
fn object_disclosure_referenced_as_array_element() {
    payload_case(
        json!({"_sd": [], "extra": [{"...": digest(&d_given())}]}),
        VerifyError::ObjectDisclosureInArray,
    );
}

#[test]
fn disclosure_overwrites_a_plaintext_claim() {
    payload_case(
        json!({"given_name": "Eve"}),
        VerifyError::ClaimCollision("given_name".into()),
    );
}

#[test]
fn two_disclosures_with_the_same_name() {
    let twin = disclosure(r#"["c2FsdC10d2lu","given_name","Eve"]"#);
    disclosure_case(
        vec![d_given(), d_locality(), d_element(), twin],
        VerifyError::ClaimCollision("given_name".into()),
    );
}

#[test]
fn unreferenced_disclosure() {
    let k = keys();
    let mut ds = all_disclosures();
    ds.push(disclosure(r#"["c2FsdC1zdHJheQ","stray",1]"#));
    check(
        &presentation(&k, &payload_with(&k, json!({})), &ds),
        &options(),
        VerifyError::UnreferencedDisclosure,
    );
}

#[test]
fn child_disclosure_without_its_parent() {
    // `address` is itself disclosable here, holding the locality digest; only the child is sent.
    let k = keys();
    let parent = disclosure(&format!(
        r#"["c2FsdC1hZGRy","address",{{"_sd":["{}"]}}]"#,
        digest(&d_locality())
    ));
    let p = payload_with(
        &k,
        json!({"address": null, "_sd": [digest(&d_given()), digest(&parent)]}),
    );
    check(
        &presentation(&k, &p, &[d_given(), d_locality(), d_element()]),
        &options(),
        VerifyError::UnreferencedDisclosure,
    );
    // With the parent it verifies.
    let v = sd_jwt::verify(
        &presentation(&k, &p, &[d_given(), parent, d_locality(), d_element()]),
        k.issuer.verifying_key(),
        &options(),
    )
    .unwrap();
    assert_eq!(v.claims["address"]["locality"], "Lyon");
}

// --- SD-JWT VC claims --------------------------------------------------------------------------

#[test]
fn registered_claim_from_a_disclosure() {
    let exp = disclosure(r#"["c2FsdC1leHA","exp",1900000000]"#);
    let k = keys();
    let mut p = payload_with(&k, json!({"exp": null}));
    p["_sd"].as_array_mut().unwrap().push(digest(&exp).into());
    let mut ds = all_disclosures();
    ds.push(exp);
    check(
        &presentation(&k, &p, &ds),
        &options(),
        VerifyError::ForbiddenDisclosure("exp".into()),
    );
}

#[test]
fn disclosure_inside_status() {
    let idx = disclosure(r#"["c2FsdC1pZHg","idx",3]"#);
    let k = keys();
    let p = payload_with(
        &k,
        json!({"status": {"status_list": {"uri": "https://s", "_sd": [digest(&idx)]}}}),
    );
    let mut ds = all_disclosures();
    ds.push(idx);
    check(
        &presentation(&k, &p, &ds),
        &options(),
        VerifyError::ForbiddenDisclosure("status".into()),
    );
}

#[test]
fn missing_vct() {
    payload_case(json!({"vct": null}), VerifyError::MissingVct);
}

#[test]
fn vct_not_a_string() {
    payload_case(json!({"vct": ["a"]}), VerifyError::MissingVct);
}

#[test]
fn iat_not_a_number() {
    payload_case(
        json!({"iat": "yesterday"}),
        VerifyError::InvalidTimeClaim("iat"),
    );
}

#[test]
fn expired() {
    payload_case(json!({"exp": NOW - 61}), VerifyError::Expired);
}

#[test]
fn expired_within_leeway_is_accepted() {
    let k = keys();
    let p = presentation(
        &k,
        &payload_with(&k, json!({"exp": NOW - 30})),
        &all_disclosures(),
    );
    assert!(sd_jwt::verify(&p, k.issuer.verifying_key(), &options()).is_ok());
}

#[test]
fn not_yet_valid() {
    payload_case(json!({"nbf": NOW + 61}), VerifyError::NotYetValid);
}

#[test]
fn issued_in_the_future() {
    payload_case(json!({"iat": NOW + 3600}), VerifyError::IssuedInFuture);
}

#[test]
fn malformed_status() {
    payload_case(
        json!({"status": {"status_list": {"idx": "3", "uri": "https://s"}}}),
        VerifyError::InvalidStatus,
    );
}

#[test]
fn cnf_without_jwk() {
    payload_case(json!({"cnf": {"kid": "k1"}}), VerifyError::InvalidHolderKey);
}

#[test]
fn key_binding_required_but_credential_unbound() {
    payload_case(json!({"cnf": null}), VerifyError::MissingHolderKey);
}

// --- Key binding -------------------------------------------------------------------------------

#[test]
fn unexpected_key_binding() {
    let k = keys();
    let p = presentation(&k, &payload_with(&k, json!({})), &all_disclosures());
    check(
        &p,
        &VerifyOptions::without_key_binding(NOW),
        VerifyError::UnexpectedKeyBinding,
    );
}

#[test]
fn missing_key_binding() {
    let k = keys();
    let sd = sd_jwt(
        &issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    check(&sd, &options(), VerifyError::MissingKeyBinding);
    // The same SD-JWT passes when the policy does not require key binding.
    assert!(
        sd_jwt::verify(
            &sd,
            k.issuer.verifying_key(),
            &VerifyOptions::without_key_binding(NOW)
        )
        .is_ok()
    );
}

#[test]
fn kb_not_a_jwt() {
    let k = keys();
    let sd = sd_jwt(
        &issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    check(
        &format!("{sd}garbage"),
        &options(),
        VerifyError::MalformedKbJwt(JwsError::Format),
    );
}

#[test]
fn kb_wrong_typ() {
    kb_case(
        json!({"alg": "EdDSA", "typ": "JWT"}),
        json!({}),
        VerifyError::KbWrongType,
    );
}

#[test]
fn kb_alg_does_not_fit_holder_key() {
    kb_case(
        json!({"alg": "ES256", "typ": "kb+jwt"}),
        json!({}),
        VerifyError::KbAlgorithmNotAllowed(Algorithm::ES256),
    );
}

#[test]
fn kb_signed_by_another_key() {
    let k = keys();
    let other = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::StdRng::seed_from_u64(11));
    let sd = sd_jwt(
        &issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let payload = json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": digest(&sd)});
    let kb = carnet_core::jws::sign_with_header(&kb_header(), &payload, &other).unwrap();
    check(
        &format!("{sd}{kb}"),
        &options(),
        VerifyError::KbInvalidSignature,
    );
}

#[test]
fn kb_without_iat() {
    kb_case(
        kb_header(),
        json!({"iat": null}),
        VerifyError::KbMissingClaim("iat"),
    );
}

#[test]
fn kb_without_aud() {
    kb_case(
        kb_header(),
        json!({"aud": null}),
        VerifyError::KbMissingClaim("aud"),
    );
}

#[test]
fn kb_aud_as_array() {
    kb_case(
        kb_header(),
        json!({"aud": [AUD]}),
        VerifyError::KbAudienceNotString,
    );
}

#[test]
fn kb_wrong_aud() {
    kb_case(
        kb_header(),
        json!({"aud": "https://evil.example"}),
        VerifyError::KbAudienceMismatch,
    );
}

#[test]
fn kb_wrong_nonce() {
    kb_case(
        kb_header(),
        json!({"nonce": "replayed"}),
        VerifyError::KbNonceMismatch,
    );
}

#[test]
fn kb_without_nonce() {
    kb_case(
        kb_header(),
        json!({"nonce": null}),
        VerifyError::KbMissingClaim("nonce"),
    );
}

#[test]
fn kb_too_old() {
    kb_case(
        kb_header(),
        json!({"iat": NOW - 3600}),
        VerifyError::KbTooOld,
    );
}

#[test]
fn kb_from_the_future() {
    kb_case(
        kb_header(),
        json!({"iat": NOW + 3600}),
        VerifyError::KbIssuedInFuture,
    );
}

#[test]
fn kb_sd_hash_without_final_tilde() {
    let k = keys();
    let sd = sd_jwt(
        &issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    let wrong = digest(sd.trim_end_matches('~'));
    kb_case(
        kb_header(),
        json!({"sd_hash": wrong}),
        VerifyError::KbSdHashMismatch,
    );
}

#[test]
fn kb_old_draft_sd_hash_name() {
    let k = keys();
    let sd = sd_jwt(
        &issuer_jwt(&k, vc_header(&k), &payload_with(&k, json!({}))),
        &all_disclosures(),
    );
    kb_case(
        kb_header(),
        json!({"sd_hash": null, "_sd_hash": digest(&sd)}),
        VerifyError::KbMissingClaim("sd_hash"),
    );
}

#[test]
fn disclosure_removed_after_key_binding() {
    let k = keys();
    let p = presentation(&k, &payload_with(&k, json!({})), &all_disclosures());
    let stripped = p.replacen(&format!("~{}~", d_given()), "~", 1);
    check(&stripped, &options(), VerifyError::KbSdHashMismatch);
}

#[test]
fn kb_for_another_verifier_policy() {
    let k = keys();
    let p = presentation(&k, &payload_with(&k, json!({})), &all_disclosures());
    let mut o = options();
    o.key_binding = KbPolicy::Required {
        audience: AUD.into(),
        nonce: "fresh".into(),
        max_age: 60,
    };
    check(&p, &o, VerifyError::KbNonceMismatch);
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(VerifyError::KbSdHashMismatch.code(), "kb-sd-hash-mismatch");
    assert_eq!(
        VerifyError::MalformedIssuerJwt(JwsError::Format).code(),
        "malformed-issuer-jwt"
    );
    assert_eq!(
        VerifyError::UnknownIssuerKey {
            iss: String::new(),
            kid: None
        }
        .code(),
        "unknown-issuer-key"
    );
}
