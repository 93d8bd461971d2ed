//! Forging tokens for tests: any payload, any disclosures, signed properly, so that each negative
//! case has exactly one defect.
#![allow(dead_code)]

use carnet_core::b64;
use carnet_core::jws;
use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::sd_jwt::{SdAlg, VerifyOptions};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

pub const NOW: i64 = 1_800_000_000;
pub const AUD: &str = "https://verifier.example";
pub const NONCE: &str = "n-0S6_WzA2Mj";

pub struct Keys {
    pub issuer: SigningKey,
    pub holder: SigningKey,
}

pub fn keys() -> Keys {
    let mut rng = StdRng::seed_from_u64(42);
    Keys {
        issuer: SigningKey::generate(Algorithm::EdDSA, &mut rng),
        holder: SigningKey::generate(Algorithm::EdDSA, &mut rng),
    }
}

pub fn options() -> VerifyOptions {
    VerifyOptions::with_key_binding(NOW, AUD, NONCE)
}

/// A disclosure from raw JSON text.
pub fn disclosure(json_text: &str) -> String {
    b64::encode(json_text)
}

pub fn digest(disclosure: &str) -> String {
    SdAlg::Sha256.digest(disclosure)
}

/// A minimal valid SD-JWT VC payload bound to the holder.
pub fn base_payload(keys: &Keys) -> Value {
    json!({
        "iss": "https://issuer.example",
        "vct": "https://credentials.example/test",
        "iat": NOW - 100,
        "exp": NOW + 10_000,
        "cnf": { "jwk": keys.holder.public_jwk() },
        "_sd_alg": "sha-256",
    })
}

pub fn issuer_jwt(keys: &Keys, header: Value, payload: &Value) -> String {
    jws::sign_with_header(&header, payload, &keys.issuer).unwrap()
}

pub fn vc_header(keys: &Keys) -> Value {
    json!({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": keys.issuer.kid()})
}

/// `<jwt>~<d…>~`
pub fn sd_jwt(jwt: &str, disclosures: &[String]) -> String {
    let mut s = format!("{jwt}~");
    for d in disclosures {
        s.push_str(d);
        s.push('~');
    }
    s
}

/// A key binding JWT over `sd_jwt` with the given payload overrides.
pub fn kb_jwt(keys: &Keys, sd_jwt: &str, header: Value, overrides: Value) -> String {
    let mut payload = json!({
        "iat": NOW,
        "aud": AUD,
        "nonce": NONCE,
        "sd_hash": SdAlg::Sha256.digest(sd_jwt),
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            payload.as_object_mut().unwrap().remove(k);
        } else {
            payload[k] = v.clone();
        }
    }
    jws::sign_with_header(&header, &payload, &keys.holder).unwrap()
}

pub fn kb_header() -> Value {
    json!({"alg": "EdDSA", "typ": "kb+jwt"})
}

/// A full presentation: the payload signed by the issuer, the disclosures, a valid KB-JWT.
pub fn presentation(keys: &Keys, payload: &Value, disclosures: &[String]) -> String {
    let sd = sd_jwt(&issuer_jwt(keys, vc_header(keys), payload), disclosures);
    let kb = kb_jwt(keys, &sd, kb_header(), json!({}));
    format!("{sd}{kb}")
}
