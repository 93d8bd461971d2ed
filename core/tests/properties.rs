//! Property tests: for random claim sets and random choices of what to disclose, verification
//! succeeds and reveals exactly what was chosen; any single changed character is rejected.

use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::path::ClaimPath;
use carnet_core::sd_jwt::{self, Credential, Disclose, KeyBindingInput, SdJwt, VerifyOptions};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

const NOW: i64 = 1_800_000_000;

fn name() -> impl Strategy<Value = String> {
    // Claim names, including ones needing JSON escapes and non-ASCII.
    // Names SD-JWT reserves (`_sd`, `_sd_alg`, `...`) are refused at issuance, not claims.
    prop_oneof![
        "[a-z_]{1,8}".prop_filter("reserved by SD-JWT", |n| n != "_sd" && n != "_sd_alg"),
        Just("é\"\\/ \u{1F600}".to_owned()),
        Just("0".to_owned()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::Null),
    ]
}

/// Nested objects (no arrays): every claim has one stable path.
fn object_tree() -> impl Strategy<Value = Map<String, Value>> {
    let value = leaf().prop_recursive(3, 24, 4, |inner| {
        prop::collection::btree_map(name(), inner, 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    });
    prop::collection::btree_map(name(), value, 1..6).prop_map(|m| m.into_iter().collect())
}

/// Any JSON, arrays included.
fn any_tree() -> impl Strategy<Value = Map<String, Value>> {
    let value = leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(name(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map(name(), value, 1..6).prop_map(|m| m.into_iter().collect())
}

struct Setup {
    issuer: SigningKey,
    holder: SigningKey,
}

fn setup(seed: u64, alg: Algorithm) -> Setup {
    let mut rng = StdRng::seed_from_u64(seed);
    Setup {
        issuer: SigningKey::generate(alg, &mut rng),
        holder: SigningKey::generate(Algorithm::EdDSA, &mut rng),
    }
}

fn issue(s: &Setup, claims: Map<String, Value>, seed: u64) -> String {
    let credential = Credential {
        issuer: "https://issuer.example".into(),
        vct: "https://vct.example/t".into(),
        issued_at: NOW - 10,
        holder: Some(s.holder.public_jwk()),
        claims,
        disclose: Disclose::All,
        max_decoys: 3,
        ..Credential::default()
    };
    sd_jwt::issue(&credential, &s.issuer, &mut StdRng::seed_from_u64(seed)).unwrap()
}

fn present(s: &Setup, issued: &str, paths: Option<&[ClaimPath]>) -> String {
    let kb = KeyBindingInput {
        key: &s.holder,
        audience: "aud",
        nonce: "nonce",
        issued_at: NOW,
    };
    SdJwt::parse(issued)
        .unwrap()
        .present(paths, Some(kb))
        .unwrap()
}

fn options() -> VerifyOptions {
    VerifyOptions::with_key_binding(NOW, "aud", "nonce")
}

fn lookup<'a>(claims: &'a Map<String, Value>, path: &ClaimPath) -> Option<&'a Value> {
    let mut elements = path.elements().iter();
    let carnet_core::path::PathElement::Key(first) = elements.next()? else {
        return None;
    };
    let mut at = claims.get(first)?;
    for e in elements {
        let carnet_core::path::PathElement::Key(k) = e else {
            return None;
        };
        at = at.get(k)?;
    }
    Some(at)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn reveals_exactly_the_chosen_claims(claims in object_tree(), picks in prop::collection::vec(any::<prop::sample::Index>(), 0..4), seed in any::<u64>()) {
        let s = setup(seed, Algorithm::EdDSA);
        let issued = issue(&s, claims.clone(), seed);
        let all = SdJwt::parse(&issued).unwrap().disclosable_paths().unwrap();
        let chosen: Vec<ClaimPath> = picks.iter().map(|i| all[i.index(all.len())].clone()).collect();
        let presentation = present(&s, &issued, Some(&chosen));
        let verified = sd_jwt::verify(&presentation, s.issuer.verifying_key(), &options()).unwrap();

        // A chosen claim brings its parents and everything under it; nothing else.
        let expected: BTreeSet<&ClaimPath> = all
            .iter()
            .filter(|q| chosen.iter().any(|p| q.starts_with(p) || p.starts_with(q)))
            .collect();
        let got: BTreeSet<&ClaimPath> = verified.disclosed.iter().collect();
        prop_assert_eq!(got, expected);
        for p in &chosen {
            prop_assert_eq!(lookup(&verified.claims, p), lookup(&claims, p));
        }
        for (name, _) in &claims {
            let path = ClaimPath::key(name.clone());
            if !verified.disclosed.contains(&path) {
                prop_assert!(!verified.claims.contains_key(name));
            }
        }
    }

    #[test]
    fn full_disclosure_round_trips_any_json(claims in any_tree(), seed in any::<u64>(), es256 in any::<bool>()) {
        let s = setup(seed, if es256 { Algorithm::ES256 } else { Algorithm::EdDSA });
        let issued = issue(&s, claims.clone(), seed);
        prop_assert_eq!(&SdJwt::parse(&issued).unwrap().claims().unwrap().get("iss").cloned(), &Some(Value::from("https://issuer.example")));
        let verified = sd_jwt::verify(&present(&s, &issued, None), s.issuer.verifying_key(), &options()).unwrap();
        for (name, value) in &claims {
            prop_assert_eq!(verified.claims.get(name), Some(value));
        }
    }

    #[test]
    fn any_single_changed_character_is_rejected(claims in object_tree(), seed in any::<u64>(), at in any::<prop::sample::Index>(), replacement in prop::sample::select(b"AQgw-_~.xZ09=+/ ".to_vec())) {
        let s = setup(seed, Algorithm::EdDSA);
        let issued = issue(&s, claims, seed);
        let presentation = present(&s, &issued, None);
        let mut bytes = presentation.clone().into_bytes();
        let i = at.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let tampered = String::from_utf8(bytes).unwrap();
        prop_assert!(sd_jwt::verify(&tampered, s.issuer.verifying_key(), &options()).is_err(), "accepted after changing byte {}", i);
    }

    #[test]
    fn garbage_never_panics(input in ".{0,300}", tildes in 0usize..4) {
        let s = setup(1, Algorithm::EdDSA);
        let input = format!("{input}{}", "~".repeat(tildes));
        let _ = sd_jwt::verify(&input, s.issuer.verifying_key(), &options());
        let _ = SdJwt::parse(&input);
    }
}
