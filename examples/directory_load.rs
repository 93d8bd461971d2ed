//! The verifier's directory under load, over HTTP against `carnet serve` on loopback:
//!
//! 1. **publication**: wallets publish profiles (5 competency credentials each, EdDSA, key
//!    binding, consent receipt) at once; reports profiles and presentations verified and
//!    stored per second. The answers are built before the clock starts, so the figure is the
//!    verifier's.
//! 2. **directory**: `profiles` synthetic profiles (about 5 competencies each, framework codes,
//!    regions, contracts) written straight into the verifier's database, then searched by a
//!    recruiter with a mix of queries; latency p50/p99 per kind of query.
//! 3. **bulk offer**: one offer sent to 10,000 profiles in one request.
//!
//! ```sh
//! cargo run --release --example directory_load -- [profiles=1000000] [publications=1000] [concurrency=16] [searches per kind=100]
//! CARNET_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/carnet_bench cargo run --release --example directory_load
//! ```

mod load;

use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::metadata::Jwks;
use carnet_core::oid4vp::{self, ConsentReceipt, RequestSource, SharedClaims};
use carnet_core::path::ClaimPath;
use carnet_core::sd_jwt::{self, Credential, KeyBindingInput, SdJwt};
use carnet_service::ServiceKind;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

const PORT: u16 = 18_778;
const ISSUER: &str = "https://centre.bench/issuer/orgs/bench";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("numbers"));
    let profiles = args.next().unwrap_or(1_000_000);
    let publications = args.next().unwrap_or(1000);
    let concurrency = args.next().unwrap_or(16);
    let repeats = args.next().unwrap_or(100);
    let load::Running {
        base,
        http,
        data_dir,
        ctx,
    } = load::start(PORT, ServiceKind::Verifier, concurrency).await;

    // The trusted issuer, with its keys, as an administrator would have added it.
    let rng = &mut rand::rngs::OsRng;
    let issuer = SigningKey::generate(Algorithm::EdDSA, rng);
    let jwks = Jwks {
        keys: vec![issuer.public_jwk()],
    };
    // Fetched now: keys not fetched again for a week are not used.
    sqlx::query("INSERT INTO trusted_issuers (issuer, name, jwks, fetched_at, created_at) VALUES ($1, 'Bench', $2, $3, $3)")
        .bind(ISSUER)
        .bind(serde_json::to_string(&jwks).unwrap())
        .bind(ctx.now_ms())
        .execute(&mut *ctx.db.writer().await.unwrap())
        .await
        .unwrap();

    // 1. Publication.
    println!("preparing {publications} publications of 5 competency credentials");
    let mut answers = Vec::with_capacity(publications);
    for i in 0..publications {
        let link: Value = http
            .post(format!("{base}/verifier/api/v1/directory/requests"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let Ok(RequestSource::ByValue(request)) =
            oid4vp::parse_request_link(link["request"].as_str().unwrap())
        else {
            panic!("a request by value");
        };
        answers.push((request.response_uri.clone(), answer(&issuer, &request, i)));
    }
    let queue = Arc::new(std::sync::Mutex::new(answers));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (queue, http) = (queue.clone(), http.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some((uri, form)) = queue.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                let r = http.post(&uri).form(&form).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "publication: {} profiles ({} presentations) in {elapsed:.2} s: {:.0} profiles/s, {:.0} presentations/s; p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        latencies.len() * 5,
        latencies.len() as f64 / elapsed,
        (latencies.len() * 5) as f64 / elapsed,
        load::percentile(&latencies, 0.5),
        load::percentile(&latencies, 0.99),
    );

    // 2. The directory.
    let t = Instant::now();
    generate(&ctx, profiles).await;
    println!(
        "generated {profiles} profiles in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (cookie, csrf, company) = recruiter(&http, &base, &ctx).await;
    let get = |path: String| {
        let (http, cookie) = (http.clone(), cookie.clone());
        async move {
            let t = Instant::now();
            let r = http
                .get(path)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            let body: Value = r.json().await.unwrap();
            (t.elapsed(), body)
        }
    };
    let search = format!("{base}/verifier/api/v1/companies/{company}/search");
    type Kind = (&'static str, fn(usize) -> String);
    let kinds: [Kind; 7] = [
        ("rare competency", |i| {
            format!("competency=C{}", 400 + i % 100)
        }),
        ("common competency", |i| format!("competency=C{}", i % 5)),
        ("framework code", |i| {
            format!("competency=RNCP{}", 10_000 + (i * 37) % 500)
        }),
        ("words", |i| {
            ["q=fraisage", "q=soudure%20tig", "q=maintenance"][i % 3].to_owned()
        }),
        ("level, sorted by level", |i| {
            format!("competency=C{}&min_level=0.8&sort=level", i % 50)
        }),
        ("region and contract", |i| {
            format!("region={}&contract=cdi", ["84", "11", "93"][i % 3])
        }),
        ("no filter, recent first", |_| "sort=recent".to_owned()),
    ];
    let mut all = Vec::new();
    println!("| query | p50 ms | p99 ms | results (first) |\n|---|---|---|---|");
    for (name, query) in kinds {
        let mut latencies = Vec::new();
        let mut total = 0;
        for i in 0..repeats {
            let (elapsed, body) = get(format!("{search}?{}", query(i))).await;
            if i == 0 {
                total = body["total"].as_i64().unwrap_or(-1);
            }
            latencies.push(elapsed);
        }
        latencies.sort();
        println!(
            "| {name} | {:.1} | {:.1} | {total} |",
            load::percentile(&latencies, 0.5),
            load::percentile(&latencies, 0.99)
        );
        all.extend(latencies);
    }
    all.sort();
    println!(
        "| all | {:.1} | {:.1} | |",
        load::percentile(&all, 0.5),
        load::percentile(&all, 0.99)
    );

    // 3. A bulk offer to 10,000 profiles.
    let ids: Vec<String> = (0..10_000)
        .map(|n| format!("prb_{}", n * (profiles / 10_000).max(1)))
        .collect();
    let t = Instant::now();
    let r = http
        .post(format!("{base}/verifier/api/v1/companies/{company}/offers"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"title": "Soudeur", "body": "CDI", "claims": [{"path": ["email"], "required": true}], "recipients": {"profiles": ids}}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{body}");
    println!(
        "bulk offer: {} recipients in {:.2} s",
        body["recipients"],
        t.elapsed().as_secs_f64()
    );
    if std::env::var("CARNET_BENCH_KEEP").is_ok() {
        println!("kept {}", data_dir.display());
    } else {
        let _ = std::fs::remove_dir_all(data_dir);
    }
}

/// A wallet's answer to a publication request: five competency credentials presented with key
/// binding, and the consent receipt naming them.
fn answer(
    issuer: &SigningKey,
    request: &oid4vp::AuthorizationRequest,
    i: usize,
) -> Vec<(String, String)> {
    let rng = &mut rand::rngs::OsRng;
    let receipt_key = SigningKey::generate(Algorithm::ES256, rng);
    let query = request.dcql_query.credential("competencies").unwrap();
    let mut presentations = Vec::new();
    let mut shared = Vec::new();
    for k in 0..5 {
        let holder = SigningKey::generate(Algorithm::EdDSA, rng);
        let claims = json!({
            "name": format!("Candidat {i}"),
            "competency": {"id": format!("cmp_{k}"), "code": format!("C{}", (i + k * 7) % 500), "name": format!("Soudure {k}"), "framework_codes": {"rncp": format!("RNCP{}", 10_000 + ((i + k * 7) % 500) * 37 % 500)}},
            "level": {"label": "or", "value": 1.0, "rank": 3, "scale": "Médailles"},
            "validated_on": "2026-06-12", "evaluator": {"name": "Julien Martin"}, "establishment": {"name": "Centre", "siret": "45218903800014"},
            "session": {"title": "Soudeur 2026"},
        });
        let credential = Credential {
            issuer: ISSUER.into(),
            vct: "https://centre.bench/issuer/vct/competency".into(),
            issued_at: now_secs() - 60,
            holder: Some(holder.public_jwk()),
            claims: claims.as_object().unwrap().clone(),
            ..Credential::default()
        };
        let issued = sd_jwt::issue(&credential, issuer, rng).unwrap();
        let paths: Vec<ClaimPath> = query.options(&credential.vct, &credential.claims)[0].clone();
        let kb = KeyBindingInput {
            key: &holder,
            audience: &request.client_id,
            nonce: &request.nonce,
            issued_at: now_secs(),
        };
        let presentation = SdJwt::parse(&issued)
            .unwrap()
            .present(Some(&paths), Some(kb))
            .unwrap();
        shared.push(SharedClaims {
            query_id: "competencies".into(),
            issuer: ISSUER.into(),
            vct: credential.vct.clone(),
            claims: paths,
            presentation: Some(oid4vp::presentation_digest(&presentation)),
        });
        presentations.push(Value::from(presentation));
    }
    let receipt = ConsentReceipt {
        aud: request.client_id.clone(),
        nonce: request.nonce.clone(),
        state: request.state.clone(),
        iat: now_secs(),
        shared,
        declared: Some(json!({"situation": "seeking", "regions": ["84"], "contracts": ["cdi"]})),
    }
    .sign(&receipt_key)
    .unwrap();
    let mut token = serde_json::Map::new();
    token.insert("competencies".into(), Value::Array(presentations));
    oid4vp::response_form(request, &token, &[("consent_receipt", &receipt)]).unwrap()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Writes `n` profiles with about five competencies each, in the database itself.
async fn generate(ctx: &carnet_service::Ctx, n: usize) {
    let seq = format!(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {})",
        n - 1
    );
    // A skewed draw of one of 500 competencies for profile n, slot k.
    let draw = "((((n * 31 + k * 977) * 2654435761) % 1000000007) % 500)";
    let skewed = format!("({draw} * {draw} / 500)");
    let words = "CASE ({skewed}) % 10 WHEN 0 THEN 'soudure tig' WHEN 1 THEN 'usinage' WHEN 2 THEN 'fraisage' WHEN 3 THEN 'tournage' \
                 WHEN 4 THEN 'chaudronnerie' WHEN 5 THEN 'maintenance' WHEN 6 THEN 'electricite' WHEN 7 THEN 'plomberie' WHEN 8 THEN 'peinture' ELSE 'logistique' END"
        .replace("{skewed}", &skewed);
    let statements = [
        format!(
            "{seq} INSERT INTO profiles (id, holder_kid, holder_jwk, name, situation, available_from, published_at, updated_at, last_contact_at) \
             SELECT 'prb_' || n, 'kid_b' || n, '{{}}', 'Candidat ' || n, CASE n % 3 WHEN 0 THEN 'seeking' WHEN 1 THEN 'in_training' ELSE 'employed' END, \
             '2026-0' || (1 + n % 9) || '-01', 1800000000000, 1800000000000 + n, 1800000000000 FROM seq"
        ),
        format!(
            "{seq} INSERT INTO profile_tags (profile_id, kind, value) SELECT 'prb_' || n, 'region', substr('010203040611242728324452537576849394', (n % 18) * 2 + 1, 2) FROM seq"
        ),
        format!("{seq} INSERT INTO profile_tags (profile_id, kind, value) SELECT 'prb_' || n, 'contract', 'cdi' FROM seq WHERE n % 2 = 0"),
        format!("{seq} INSERT INTO profile_tags (profile_id, kind, value) SELECT 'prb_' || n, 'contract', 'alternance' FROM seq WHERE n % 3 = 0"),
        format!(
            "{seq}, slots(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM slots WHERE k < 4) \
             INSERT INTO profile_competencies (id, profile_id, issuer, code, name, name_folded, level_label, level_value, validated_on, claims, status, checked_at) \
             SELECT 'pcb_' || n || '_' || k, 'prb_' || n, '{ISSUER}', 'C' || {skewed}, 'Compétence ' || {skewed} || ' ' || {words}, 'competence ' || {skewed} || ' ' || {words}, \
             'niveau', ((n + k) % 101) / 100.0, '2026-06-12', '{{}}', 'valid', 1800000000000 FROM seq, slots"
        ),
        "INSERT INTO framework_codes (framework_code, code) SELECT DISTINCT 'RNCP' || (10000 + (CAST(substr(code, 2) AS INTEGER) * 37) % 500), code FROM profile_competencies WHERE substr(id, 1, 4) = 'pcb_' ON CONFLICT (framework_code, code) DO NOTHING".to_owned(),
        "INSERT INTO competency_names (code, name_folded, name) SELECT code, name_folded, MIN(name) FROM profile_competencies GROUP BY code, name_folded ON CONFLICT (code, name_folded) DO NOTHING".to_owned(),
    ];
    for sql in statements {
        let t = Instant::now();
        let mut tx = ctx.db.begin().await.unwrap();
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        println!(
            "  {:.1} s  {}",
            t.elapsed().as_secs_f64(),
            &sql[..sql.len().min(60)]
        );
    }
    let t = Instant::now();
    let mut tx = ctx.db.begin().await.unwrap();
    carnet_verifier::search::reindex(&mut tx, carnet_verifier::search::Scope::All)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    println!("  {:.1} s  search index", t.elapsed().as_secs_f64());
    // As an operator would after a bulk load: statistics, and on PostgreSQL the visibility map
    // too (autovacuum's work), so that index-only scans are possible.
    let t = Instant::now();
    let mut analyze = ctx.db.writer().await.unwrap();
    let sql = match ctx.db.engine() {
        carnet_service::db::Engine::Postgres => "VACUUM ANALYZE",
        carnet_service::db::Engine::Sqlite => "ANALYZE",
    };
    sqlx::query(sql).execute(&mut *analyze).await.unwrap();
    println!("  {:.1} s  {sql}", t.elapsed().as_secs_f64());
}

/// An approved company and its recruiter's session: (cookie, CSRF token, company id).
async fn recruiter(
    http: &reqwest::Client,
    base: &str,
    ctx: &carnet_service::Ctx,
) -> (String, String, String) {
    let r = http
        .post(format!("{base}/verifier/api/v1/accounts"))
        .json(&json!({"email": "rh@bench.example", "password": "benchmark password", "display_name": "RH"}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let company: Value = http
        .post(format!("{base}/verifier/api/v1/companies"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Bench", "siret": "73282932000074"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let company = company["id"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE tenants SET approved_at = 1 WHERE id = $1")
        .bind(&company)
        .execute(&mut *ctx.db.writer().await.unwrap())
        .await
        .unwrap();
    (cookie, csrf, company)
}
