//! Issue, present and verify a credential with 10 disclosures and key binding, EdDSA and ES256,
//! beside the raw signature operations they are built from, and batch verification.
//!
//! `taskset -c 0 cargo bench -p carnet-core --bench sd_jwt` (figures in docs/BENCHMARKS.md).

use carnet_core::keys::{Algorithm, SigningKey, VerifyingKey};
use carnet_core::sd_jwt::{self, Credential, Disclose, KeyBindingInput, SdJwt, VerifyOptions};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use std::hint::black_box;
use std::time::Duration;

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://recruteur.example";
const NONCE: &str = "5e4a3c1b-nonce";

/// A competency credential with exactly 10 disclosable claims.
fn claims() -> Map<String, Value> {
    json!({
        "given_name": "Camille",
        "family_name": "Durand",
        "competency_id": "c-42",
        "competency_name": "Soudure TIG",
        "framework_code": "ROME:H2913",
        "level_label": "argent",
        "level_value": 0.66,
        "validated_at": "2026-11-20",
        "evaluator": "J. Martin",
        "establishment": "Centre de Lyon",
    })
    .as_object()
    .unwrap()
    .clone()
}

struct Fixture {
    issuer: SigningKey,
    holder: SigningKey,
    credential: Credential,
    issued: String,
    presentation: String,
}

fn fixture(issuer_alg: Algorithm, holder_alg: Algorithm) -> Fixture {
    let mut rng = StdRng::seed_from_u64(1);
    let issuer = SigningKey::generate(issuer_alg, &mut rng);
    let holder = SigningKey::generate(holder_alg, &mut rng);
    let credential = Credential {
        issuer: "https://centre.example".into(),
        vct: "https://carnet.example/vct/competency".into(),
        issued_at: NOW - 60,
        expires_at: Some(NOW + 86_400),
        holder: Some(holder.public_jwk()),
        claims: claims(),
        disclose: Disclose::All,
        max_decoys: 0,
        ..Credential::default()
    };
    let issued = sd_jwt::issue(&credential, &issuer, &mut rng).unwrap();
    let presentation = present(&issued, &holder);
    Fixture {
        issuer,
        holder,
        credential,
        issued,
        presentation,
    }
}

fn present(issued: &str, holder: &SigningKey) -> String {
    let kb = KeyBindingInput {
        key: holder,
        audience: AUD,
        nonce: NONCE,
        issued_at: NOW,
    };
    SdJwt::parse(issued)
        .unwrap()
        .present(None, Some(kb))
        .unwrap()
}

fn options() -> VerifyOptions {
    VerifyOptions::with_key_binding(NOW, AUD, NONCE)
}

fn raw(c: &mut Criterion) {
    let mut g = c.benchmark_group("raw");
    let message = [7u8; 300];
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let key = SigningKey::generate(alg, &mut StdRng::seed_from_u64(2));
        let sig = key.sign(&message).unwrap();
        let public = key.verifying_key().clone();
        g.bench_function(format!("sign/{alg}"), |b| {
            b.iter(|| key.sign(black_box(&message)).unwrap())
        });
        g.bench_function(format!("verify/{alg}"), |b| {
            b.iter(|| assert!(public.verify(alg, black_box(&message), black_box(&sig))))
        });
        let jwk = key.public_jwk();
        g.bench_function(format!("parse-public-jwk/{alg}"), |b| {
            b.iter(|| VerifyingKey::from_jwk(black_box(&jwk)).unwrap())
        });
    }
    // Why ES256 verification does not go through josekit: building its verifier from a JWK.
    let es = SigningKey::generate(Algorithm::ES256, &mut StdRng::seed_from_u64(3));
    let jwk = josekit::jwk::Jwk::from_bytes(serde_json::to_vec(&es.public_jwk()).unwrap()).unwrap();
    g.bench_function("josekit-verifier-from-jwk/ES256", |b| {
        b.iter(|| {
            josekit::jws::ES256
                .verifier_from_jwk(black_box(&jwk))
                .unwrap()
        })
    });
    g.finish();
}

fn credential(c: &mut Criterion) {
    let mut g = c.benchmark_group("credential");
    for (issuer_alg, holder_alg) in [
        (Algorithm::EdDSA, Algorithm::EdDSA),
        (Algorithm::ES256, Algorithm::ES256),
    ] {
        let f = fixture(issuer_alg, holder_alg);
        let name = format!("{issuer_alg}+kb-{holder_alg}");
        let mut rng = StdRng::seed_from_u64(4);
        g.bench_function(format!("issue/{issuer_alg}"), |b| {
            b.iter(|| sd_jwt::issue(black_box(&f.credential), &f.issuer, &mut rng).unwrap())
        });
        g.bench_function(format!("present/{name}"), |b| {
            b.iter(|| present(black_box(&f.issued), &f.holder))
        });
        let options = options();
        g.bench_function(format!("verify/{name}"), |b| {
            b.iter(|| {
                sd_jwt::verify(
                    black_box(&f.presentation),
                    f.issuer.verifying_key(),
                    &options,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("batch");
    let f = fixture(Algorithm::EdDSA, Algorithm::EdDSA);
    let holders: Vec<SigningKey> = (0..64)
        .map(|i| SigningKey::generate(Algorithm::EdDSA, &mut StdRng::seed_from_u64(100 + i)))
        .collect();
    let presentations: Vec<String> = holders
        .iter()
        .map(|h| {
            let mut credential = f.credential.clone();
            credential.holder = Some(h.public_jwk());
            let issued =
                sd_jwt::issue(&credential, &f.issuer, &mut StdRng::seed_from_u64(5)).unwrap();
            present(&issued, h)
        })
        .collect();
    let options = options();
    let items: Vec<(&str, &VerifyOptions)> = presentations
        .iter()
        .map(|p| (p.as_str(), &options))
        .collect();
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("verify-one-by-one/64", |b| {
        b.iter(|| {
            for (p, o) in &items {
                sd_jwt::verify(p, f.issuer.verifying_key(), o).unwrap();
            }
        })
    });
    g.bench_function("verify-batch/64", |b| {
        b.iter_batched(
            || items.clone(),
            |items| {
                let results = sd_jwt::verify_batch(&items, f.issuer.verifying_key());
                assert!(results.iter().all(Result::is_ok));
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
    targets = raw, credential, batch
}
criterion_main!(benches);
