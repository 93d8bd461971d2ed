//! Issuance end to end over HTTP, with the database: the whole OpenID4VCI exchange a wallet
//! makes for each credential (offer by reference, token, nonce, credential with a proof), many
//! wallets at once against `carnet serve` on loopback. Reports credentials per second and
//! latency percentiles.
//!
//! ```sh
//! cargo run --release --example issuance_load -- [exchanges=2000] [concurrency=32] [copies=1]
//! CARNET_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/carnet_bench cargo run --release --example issuance_load
//! ```

mod load;

use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::oid4vci::{CredentialOffer, make_proof};
use carnet_service::ServiceKind;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

const PORT: u16 = 18_777;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("numbers"));
    let total = args.next().unwrap_or(2000);
    let concurrency = args.next().unwrap_or(32);
    // Copies per exchange: one credential request with that many proofs (batch issuance).
    let copies = args.next().unwrap_or(1);
    let load::Running {
        base,
        http,
        data_dir,
        ..
    } = load::start(PORT, ServiceKind::Issuer, concurrency).await;

    let links = seed(&http, &base, total).await;
    println!(
        "seeded {} offers; issuing with {concurrency} concurrent wallets",
        links.len()
    );

    let queue = Arc::new(std::sync::Mutex::new(links));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (queue, http) = (queue.clone(), http.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(link) = queue.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                issue(&http, &link, copies).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let issued = latencies.len() * copies;
    println!(
        "{issued} credentials ({} exchanges of 4 HTTP requests, {copies} per exchange) in {:.2} s: {:.0} credentials/s; \
         exchange latency p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        issued as f64 / elapsed.as_secs_f64(),
        load::percentile(&latencies, 0.5),
        load::percentile(&latencies, 0.99)
    );
    let _ = std::fs::remove_dir_all(data_dir);
}

/// A centre whose trainer has validated `total` evaluations (no PIN): `total` offer links.
async fn seed(http: &reqwest::Client, base: &str, total: usize) -> Vec<String> {
    let issuer = format!("{base}/issuer/api/v1");
    let register = |email: &str| {
        http.post(format!("{issuer}/accounts"))
            .json(&json!({"email": email, "password": "benchmark password", "display_name": email}))
            .send()
    };
    let admin = register("admin@bench.example").await.unwrap();
    assert!(
        admin.status().is_success(),
        "registration: {}",
        admin.status()
    );
    let cookie = admin.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = admin.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    register("trainee@bench.example").await.unwrap();
    let issuer = &issuer;
    let post = |path: String, body: Value| {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        async move {
            let r = http
                .post(format!("{issuer}{path}"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            r.json::<Value>().await.unwrap()
        }
    };
    let org = post(
        "/organisations".into(),
        json!({"name": "Bench", "siret": "45218903800014"}),
    )
    .await;
    let org = format!("/organisations/{}", org["id"].as_str().unwrap());
    post(
        format!("{org}/members"),
        json!({"email": "trainee@bench.example", "role": "trainee"}),
    )
    .await;
    let scale = post(
        format!("{org}/scales"),
        json!({"name": "m", "scale": {"kind": "levels", "labels": ["bronze", "argent", "or"]}}),
    )
    .await;
    let competency = post(
        format!("{org}/competencies"),
        json!({"code": "C1", "name": "Compétence", "scale_id": scale["id"]}),
    )
    .await;
    let session = post(
        format!("{org}/sessions"),
        json!({"title": "S", "starts_on": "2026-01-05", "ends_on": "2026-06-26"}),
    )
    .await;
    let session = format!("{org}/sessions/{}", session["id"].as_str().unwrap());
    post(
        format!("{session}/members"),
        json!({"email": "trainee@bench.example", "role": "trainee"}),
    )
    .await;
    let mut links = Vec::with_capacity(total);
    while links.len() < total {
        let n = (total - links.len()).min(1000);
        let rows: Vec<Value> = (0..n)
            .map(|_| json!({"email": "trainee@bench.example", "assessment": "or"}))
            .collect();
        let report = post(
            format!("{session}/evaluations/bulk"),
            json!({"competency_id": competency["id"], "rows": rows, "pin": false}),
        )
        .await;
        for r in report["results"].as_array().unwrap() {
            links.push(r["offer"]["offer_link"].as_str().unwrap().to_owned());
        }
    }
    links
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// What a wallet does with an offer link.
async fn issue(http: &reqwest::Client, link: &str, copies: usize) {
    let uri =
        percent_decode(link.trim_start_matches("openid-credential-offer://?credential_offer_uri="));
    let offer: CredentialOffer = http.get(&uri).send().await.unwrap().json().await.unwrap();
    let issuer = &offer.credential_issuer;
    let (code, _) = offer.pre_authorized_code().unwrap();
    let token: Value = http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", carnet_core::oid4vci::PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce: Value = http
        .post(format!("{issuer}/nonce"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let proofs: Vec<String> = (0..copies)
        .map(|_| {
            let holder = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
            make_proof(&holder, issuer, nonce["c_nonce"].as_str(), now).unwrap()
        })
        .collect();
    let response = http
        .post(format!("{issuer}/credential"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"credential_configuration_id": "competency", "proofs": {"jwt": proofs}}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["credentials"].as_array().map(Vec::len), Some(copies));
}
