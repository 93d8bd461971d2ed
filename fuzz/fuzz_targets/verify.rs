//! Fuzzes the presentation parser and verifier, the holder's parser and the status list decoder.
//! Inputs starting with 0x00 splice the rest into a valid presentation (so mutations reach deep
//! into disclosure processing and key binding); other inputs are taken as they are.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run verify -- -max_total_time=60` (from the repository root).
#![no_main]

use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::sd_jwt::{self, Credential, KeyBindingInput, SdJwt, VerifyOptions};
use carnet_core::status_list::StatusList;
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use serde_json::json;
use std::sync::LazyLock;

const NOW: i64 = 1_800_000_000;

struct Fixture {
    issuer: SigningKey,
    presentation: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let issuer = SigningKey::generate(Algorithm::EdDSA, &mut rng);
    let holder = SigningKey::generate(Algorithm::EdDSA, &mut rng);
    let claims = json!({
        "given_name": "Ada", "address": {"locality": "Lyon", "country": "FR"},
        "nationalities": ["FR", "DE"], "competency": {"code": "M1805", "level": {"rank": 2}},
    });
    let credential = Credential {
        issuer: "https://issuer.example".into(),
        vct: "https://vct.example".into(),
        issued_at: NOW - 10,
        holder: Some(holder.public_jwk()),
        claims: claims.as_object().cloned().unwrap_or_default(),
        max_decoys: 2,
        ..Credential::default()
    };
    let issued = sd_jwt::issue(&credential, &issuer, &mut rng).expect("issue");
    let kb = KeyBindingInput { key: &holder, audience: "aud", nonce: "nonce", issued_at: NOW };
    let presentation = SdJwt::parse(&issued).and_then(|s| s.present(None, Some(kb))).expect("present");
    Fixture { issuer, presentation }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let input = match data.split_first() {
        Some((0, rest)) if rest.len() >= 2 => {
            let p = fixture.presentation.as_bytes();
            let at = (u16::from_le_bytes([rest[0], rest[1]]) as usize) % (p.len() + 1);
            let cut = rest.get(2).map_or(0, |c| *c as usize % 8);
            let mut spliced = p[..at].to_vec();
            spliced.extend_from_slice(&rest[3.min(rest.len())..]);
            spliced.extend_from_slice(&p[(at + cut).min(p.len())..]);
            String::from_utf8_lossy(&spliced).into_owned()
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let options = VerifyOptions::with_key_binding(NOW, "aud", "nonce");
    let _ = sd_jwt::verify(&input, fixture.issuer.verifying_key(), &options);
    let _ = sd_jwt::verify_batch(&[(&input, &options), (&fixture.presentation, &options)], fixture.issuer.verifying_key());
    if let Ok(sd) = SdJwt::parse(&input) {
        let _ = sd.claims();
    }
    let _ = StatusList::decode(1 + (data.len() % 8) as u8, &input, 1 << 16);
});
