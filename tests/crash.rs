//! Issuance through crashes: the `carnet` binary serves concurrent wallets and is killed
//! (`SIGKILL`) and restarted three times mid-issuance, on SQLite and on PostgreSQL. The
//! wallets are written against the protocol only, and do what a wallet does when an answer never
//! comes: send the same request again. At the end every offer has been redeemed, every
//! credential a wallet received is stored once, no status index is used twice, and nothing is
//! stored that no wallet could get.

#[path = "common/mail.rs"]
mod mail;

use carnet_core::keys::{Algorithm, SigningKey};
use carnet_core::oid4vci::make_proof;
use carnet_service::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const OFFERS: usize = 60;
const COPIES: usize = 2;
const WALLETS: usize = 8;
const PASSWORD: &str = "correct horse battery staple";
const OPERATOR: &str = "exploitation@carnet.example";

/// The running binary, restarted on the same port, data directory and databases.
struct Server {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    issuer_db: Option<String>,
    starts: usize,
    /// More arguments for `carnet serve`.
    extra: Vec<String>,
}

impl Server {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("server-{}.log", self.starts)))
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_carnet"));
        command
            .args(["serve", "--addr", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["--rate-limit", "0"])
            .args(&self.extra)
            .env_remove("CARNET_SECRET_KEY")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(url) = &self.issuer_db {
            command.args(["--issuer-database-url", url]);
        }
        self.child = Some(command.spawn().expect("the carnet binary starts"));
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = http
                .get(format!("{}/issuer/ready", self.base()))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start: see {:?}",
                self.dir
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The platform's administrator, made by the operator (`carnet admin create`) before
    /// the server starts: who reads the outbox, where the new accounts' verification links
    /// wait (no SMTP here).
    fn operator(&self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_carnet"));
        command
            .args(["admin", "create", "issuer", "--email", OPERATOR])
            .args(["--name", "Exploitation"])
            .arg("--data-dir")
            .arg(&self.dir)
            .env("CARNET_ADMIN_PASSWORD", PASSWORD)
            .env_remove("CARNET_SECRET_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = &self.issuer_db {
            command.args(["--issuer-database-url", url]);
        }
        assert!(command.status().expect("carnet admin").success());
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A signed-in account of the issuer's API (session cookie and CSRF token).
#[derive(Clone)]
struct Account {
    cookie: String,
    csrf: String,
}

async fn register(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    name: &str,
) -> (Account, String) {
    let r = http
        .post(format!("{base}/issuer/api/v1/accounts"))
        .json(&json!({"email": email, "password": PASSWORD, "display_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = r.json().await.unwrap();
    let account = Account {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    };
    (account, body["account"]["id"].as_str().unwrap().to_owned())
}

/// Each new account follows the verification link it was mailed (read in the outbox).
async fn confirm_addresses(http: &reqwest::Client, base: &str) {
    let r = http
        .post(format!("{base}/issuer/api/v1/session"))
        .json(&json!({"email": OPERATOR, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let outbox: Value = http
        .get(format!("{base}/issuer/api/v1/outbox"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for mail in outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "verification")
    {
        let text = mail["text_body"].as_str().unwrap();
        let token: String = text[text.find("/verify/").unwrap() + 8..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let r = http
            .post(format!("{base}/issuer/api/v1/verifications/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", mail["recipient"]);
    }
}

async fn post(http: &reqwest::Client, url: String, who: &Account, body: Value) -> Value {
    let r = http
        .post(&url)
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// A centre, a trainee and `OFFERS` validated competencies: the offer links and their PINs.
async fn offers(base: &str) -> Vec<(String, String)> {
    let http = reqwest::Client::new();
    let (admin, _) = register(&http, base, "direction@centre.example", "Nathalie Girard").await;
    let (trainer, _) = register(&http, base, "formateur@centre.example", "Julien Martin").await;
    let (_, trainee_id) = register(&http, base, "camille@example.org", "Camille Durand").await;
    confirm_addresses(&http, base).await;
    let api = format!("{base}/issuer/api/v1");
    let org = post(
        &http,
        format!("{api}/organisations"),
        &admin,
        json!({"name": "Centre Lyon Métallerie", "siret": "45218903800014"}),
    )
    .await;
    let org = format!("{api}/organisations/{}", org["id"].as_str().unwrap());
    for (email, role) in [
        ("formateur@centre.example", "trainer"),
        ("camille@example.org", "trainee"),
    ] {
        post(
            &http,
            format!("{org}/members"),
            &admin,
            json!({"email": email, "role": role}),
        )
        .await;
    }
    let scale = post(
        &http,
        format!("{org}/scales"),
        &admin,
        json!({"name": "Acquis", "scale": {"kind": "levels", "labels": ["acquis"]}}),
    )
    .await;
    let session = post(
        &http,
        format!("{org}/sessions"),
        &admin,
        json!({"title": "Soudeur 2026", "starts_on": "2026-01-05", "ends_on": "2026-06-26"}),
    )
    .await;
    let session = format!("{org}/sessions/{}", session["id"].as_str().unwrap());
    for (email, role) in [
        ("formateur@centre.example", "trainer"),
        ("camille@example.org", "trainee"),
    ] {
        post(
            &http,
            format!("{session}/members"),
            &admin,
            json!({"email": email, "role": role}),
        )
        .await;
    }
    let mut out = Vec::new();
    for n in 0..OFFERS {
        let competency = post(
            &http,
            format!("{org}/competencies"),
            &admin,
            json!({"code": format!("C{n:03}"), "name": format!("Compétence {n}"), "description": "—", "scale_id": scale["id"]}),
        )
        .await;
        let evaluated = post(
            &http,
            format!("{session}/evaluations"),
            &trainer,
            json!({"trainee_id": trainee_id, "competency_id": competency["id"], "assessment": "acquis"}),
        )
        .await;
        out.push((
            evaluated["offer"]["offer_link"]
                .as_str()
                .unwrap()
                .to_owned(),
            evaluated["offer"]["tx_code"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

/// Sends a request until an answer comes (the server may be down or restarting): the same
/// request each time.
async fn until_answered(
    request: reqwest::RequestBuilder,
    retries: &AtomicUsize,
) -> (StatusCode, Value) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            retries.fetch_add(1, Ordering::Relaxed);
        }
        let answer = request.try_clone().unwrap().send().await;
        if let Ok(response) = answer {
            let status = response.status();
            if let Ok(body) = response.json::<Value>().await
                && !status.is_server_error()
            {
                return (status, body);
            }
        }
        assert!(Instant::now() < deadline, "no answer for two minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One offer through a wallet that knows only the protocol; the credentials it received.
async fn redeem(
    http: &reqwest::Client,
    base: &str,
    (link, pin): (String, String),
    retries: &AtomicUsize,
) -> Vec<String> {
    let pin = pin.as_str();
    let uri = carnet_core::oid4vci::percent_decode(
        link.strip_prefix("openid-credential-offer://?credential_offer_uri=")
            .unwrap(),
    )
    .unwrap();
    let (status, offer) = until_answered(http.get(&uri), retries).await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    let issuer = offer["credential_issuer"].as_str().unwrap().to_owned();
    assert!(issuer.starts_with(base));
    let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap();
    let (status, token) = until_answered(
        http.post(format!("{issuer}/token")).form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code),
            ("tx_code", pin),
        ]),
        retries,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the token, asked again: {token}");
    let access = token["access_token"].as_str().unwrap();
    let (status, nonce) = until_answered(http.post(format!("{issuer}/nonce")), retries).await;
    assert_eq!(status, StatusCode::OK, "{nonce}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let proofs: Vec<String> = (0..COPIES)
        .map(|_| {
            let key = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng);
            make_proof(&key, &issuer, nonce["c_nonce"].as_str(), now).unwrap()
        })
        .collect();
    let (status, issued) = until_answered(
        http.post(format!("{issuer}/credential"))
            .bearer_auth(access)
            .json(&json!({"credential_configuration_id": offer["credential_configuration_ids"][0], "proofs": {"jwt": proofs}})),
        retries,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the credentials, asked again: {issued}"
    );
    issued["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"].as_str().unwrap().to_owned())
        .collect()
}

/// The status list and index a credential names.
fn status_of(sd_jwt: &str) -> (String, i64) {
    let jwt = sd_jwt.split('~').next().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&carnet_core::b64::decode(payload).unwrap()).unwrap();
    let list = &claims["status"]["status_list"];
    (
        list["uri"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned(),
        list["idx"].as_i64().unwrap(),
    )
}

async fn issuance_survives_kills(dir: &Path, issuer_db: Option<String>) {
    let mut server = Server {
        child: None,
        port: free_port(),
        dir: dir.to_owned(),
        issuer_db: issuer_db.clone(),
        starts: 0,
        extra: Vec::new(),
    };
    server.operator();
    server.start().await;
    let base = server.base();
    let queue = Arc::new(Mutex::new(offers(&base).await));
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let wallets: Vec<_> = (0..WALLETS)
        .map(|_| {
            let (queue, received, done, retries, base) = (
                queue.clone(),
                received.clone(),
                done.clone(),
                retries.clone(),
                base.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                loop {
                    let Some(offer) = queue.lock().await.pop() else {
                        return;
                    };
                    let credentials = redeem(&http, &base, offer, &retries).await;
                    assert_eq!(credentials.len(), COPIES);
                    received.lock().await.extend(credentials);
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Three kills while the wallets are at work, each once a further part is redeemed.
    for part in 1..=3 {
        while done.load(Ordering::SeqCst) < OFFERS * part / 5 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill();
        server.start().await;
    }
    for wallet in wallets {
        wallet
            .await
            .expect("every offer redeemed, through the restarts");
    }
    server.kill();

    let received = received.lock().await;
    assert_eq!(received.len(), OFFERS * COPIES);
    let places: Vec<(String, i64)> = received.iter().map(|c| status_of(c)).collect();
    let distinct: HashSet<&(String, i64)> = places.iter().collect();
    assert_eq!(distinct.len(), places.len(), "no status index given twice");
    // What the issuer stored: exactly the credentials the wallets hold.
    let url = match &issuer_db {
        Some(url) => url.clone(),
        None => carnet_service::db::sqlite_url(dir, "issuer"),
    };
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT status_list_id, status_idx, offer_id FROM credentials")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let stored: HashSet<(String, i64)> = rows.iter().map(|(l, i, _)| (l.clone(), *i)).collect();
    assert_eq!(
        rows.len(),
        received.len(),
        "each received credential stored once, no other"
    );
    assert_eq!(stored, distinct.into_iter().cloned().collect());
    let mut per_offer: HashMap<&str, usize> = HashMap::new();
    for (_, _, offer) in &rows {
        *per_offer.entry(offer).or_default() += 1;
    }
    assert_eq!(per_offer.len(), OFFERS);
    assert!(
        per_offer.values().all(|n| *n == COPIES),
        "one issuance per offer"
    );
    let (open,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM credential_offers WHERE redeemed_at IS NULL")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(open, 0);
    let _ = db.close().await;
    assert_eq!(server.starts, 4);
    eprintln!(
        "{OFFERS} offers redeemed by {WALLETS} wallets through 3 kills; {} requests sent again",
        retries.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuance_survives_three_kills_on_sqlite() {
    let data = TestDatabase::sqlite();
    issuance_survives_kills(&data.dir(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuance_survives_three_kills_on_postgres() {
    let Some(issuer) = TestDatabase::postgres().await else {
        return;
    };
    let data = TestDatabase::sqlite();
    issuance_survives_kills(&data.dir(), Some(issuer.url.clone())).await;
}

/// Mail survives kills: people register while the server is killed (SIGKILL) and started
/// again, three times, with a short job lease so that a send cut short is taken over soon;
/// every account whose registration was answered gets its verification mail — nothing lost —
/// and under one `Message-ID` only — nothing doubled (a send cut between the SMTP server's
/// answer and its record goes again with the same id, which mail clients show once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_neither_lost_nor_doubled_across_kills() {
    let dir = std::env::temp_dir().join(format!(
        "carnet-crash-mail-{}",
        carnet_service::id::random_token(6).replace(['-', '_'], "x")
    ));
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let smtp_port = free_port();
    let Some(mut sink) = mail::smtp_sink(smtp_port, &inbox) else {
        return;
    };
    let mut server = Server {
        child: None,
        port: free_port(),
        dir: dir.clone(),
        issuer_db: None,
        starts: 0,
        extra: vec![
            "--smtp-url".into(),
            format!("smtp://127.0.0.1:{smtp_port}"),
            "--job-lease-secs".into(),
            "2".into(),
        ],
    };
    server.start().await;
    let http = reqwest::Client::new();
    let mut registered = Vec::new();
    for round in 0..3u64 {
        for i in 0..6 {
            let email = format!("personne{round}{i}@example.org");
            let answered = http
                .post(format!("{}/issuer/api/v1/accounts", server.base()))
                .json(&json!({"email": email, "password": PASSWORD, "display_name": "Personne"}))
                .send()
                .await;
            if answered.is_ok_and(|r| r.status() == StatusCode::CREATED) {
                registered.push(email);
            }
        }
        // Killed at a different moment of the worker's five-second round each time.
        tokio::time::sleep(Duration::from_millis(2500 * round + 300)).await;
        server.kill();
        server.start().await;
    }
    assert_eq!(registered.len(), 18, "every registration was answered");
    let deadline = Instant::now() + Duration::from_secs(90);
    let by_recipient = loop {
        let mut by_recipient: HashMap<String, HashSet<String>> = HashMap::new();
        for m in mail::received(&inbox) {
            let to = m["to"][0].as_str().unwrap_or_default().to_owned();
            by_recipient
                .entry(to)
                .or_default()
                .insert(m["message_id"].as_str().unwrap_or_default().to_owned());
        }
        if registered.iter().all(|e| by_recipient.contains_key(e)) || Instant::now() > deadline {
            break by_recipient;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for email in &registered {
        let ids = by_recipient.get(email);
        assert_eq!(
            ids.map(HashSet::len),
            Some(1),
            "{email}: {ids:?} (see {dir:?})"
        );
    }
    server.kill();
    sink.kill().unwrap();
    let _ = sink.wait();
    let _ = std::fs::remove_dir_all(dir);
}
