//! A soak run against running Carnet instances (`carnet demo`, one or several on one
//! database): clients of every portal's people, for minutes, over HTTP, as `docs/RELIABILITY.md`
//! describes.
//!
//! - **trainees** open their wallet (home, credentials page, credentials API) and the centre's
//!   home;
//! - **staff** (trainers, managers) open the centre's pages (home, organisation, session, room) and the room's
//!   messages, and post a message every fifth round;
//! - **recruiters** open their home and search page and search the directory;
//! - **sign-ins** sign in again and again to the centre and the recruiter portal (argon2, the
//!   memory the review saw grow).
//!
//! Each client waits `think` milliseconds between requests and goes to the instances in turn.
//! With `--abusers N`, N more connections send bogus sign-ins without pause, and a probe asks
//! `/ready` every 100 ms: what one attacker costs everybody else.
//! Every minute: requests, 5xx, transport errors, p50/p99 of reads (pages and API), of writes
//! and of sign-ins, and the resident memory of the server processes given with `--pid`.
//! Exits with failure if any 5xx or transport error was seen.
//!
//! ```sh
//! cargo run --release --example soak -- [--minutes 5] [--clients 32] [--think 100] [--abusers 0] [--pid PID]... http://127.0.0.1:8080 [http://127.0.0.1:8081]
//! ```

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "carnet-demo-2026";
const TRAINEES: &[&str] = &[
    "sarah.nguyen@exemple.fr",
    "lucas.petit@exemple.fr",
    "jade.bertrand@exemple.fr",
    "nolan.mercier@exemple.fr",
];
/// Staff who work in a session: a trainer and the manager of each centre.
const TRAINERS: &[&str] = &[
    "j.martin@lyon-metallerie.demo",
    "gestion@lyon-metallerie.demo",
    "a.rousseau@ibn.demo",
    "gestion@ibn.demo",
];
const RECRUITERS: &[&str] = &[
    "recrutement@chaudronnerie-ra.demo",
    "talents@atelier-aquitaine.demo",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Read,
    Write,
    SignIn,
    /// `/ready`, asked every 100 ms while abusers send bogus sign-ins.
    Probe,
    /// A bogus sign-in (refused, throttled or rate-limited: any 4xx is expected).
    Abuse,
}

#[derive(Default)]
struct Minute {
    reads: Vec<Duration>,
    writes: Vec<Duration>,
    sign_ins: Vec<Duration>,
    probes: Vec<Duration>,
    abuses: usize,
    server_errors: usize,
    transport_errors: usize,
    other: usize,
}

struct Stats {
    start: Instant,
    minutes: Mutex<Vec<Minute>>,
}

impl Stats {
    fn record(&self, kind: Kind, took: Duration, status: Result<StatusCode, String>, what: &str) {
        let index = self.start.elapsed().as_secs() as usize / 60;
        let mut minutes = self.minutes.lock().unwrap();
        while minutes.len() <= index {
            minutes.push(Minute::default());
        }
        let m = &mut minutes[index];
        match status {
            Err(e) => {
                m.transport_errors += 1;
                eprintln!("no answer: {what}: {e}");
            }
            Ok(s) if s.is_server_error() => {
                m.server_errors += 1;
                eprintln!("{s}: {what}");
            }
            Ok(_) if kind == Kind::Abuse => m.abuses += 1,
            Ok(s) if !s.is_success() && !s.is_redirection() => {
                m.other += 1;
                if m.other <= 3 {
                    eprintln!("{s}: {what}");
                }
            }
            Ok(_) => match kind {
                Kind::Read => m.reads.push(took),
                Kind::Write => m.writes.push(took),
                Kind::SignIn => m.sign_ins.push(took),
                Kind::Probe => m.probes.push(took),
                Kind::Abuse => m.abuses += 1,
            },
        }
    }
}

/// One signed-in person on one service, going to the instances in turn.
struct Person {
    http: Client,
    bases: Vec<String>,
    turn: usize,
    service: &'static str,
    cookie: String,
    csrf: String,
    stats: Arc<Stats>,
}

impl Person {
    async fn sign_in(
        http: &Client,
        bases: &[String],
        service: &'static str,
        email: &str,
        stats: &Arc<Stats>,
    ) -> Option<Person> {
        let mut person = Person {
            http: http.clone(),
            bases: bases.to_vec(),
            turn: email.len(),
            service,
            cookie: String::new(),
            csrf: String::new(),
            stats: stats.clone(),
        };
        person.renew(email).await.then_some(person)
    }

    /// Signs in (again); whether it worked.
    async fn renew(&mut self, email: &str) -> bool {
        let url = format!("{}/{}/api/v1/session", self.base(), self.service);
        let started = Instant::now();
        let answer = self
            .http
            .post(&url)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        let took = started.elapsed();
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                self.stats
                    .record(Kind::SignIn, took, Err(error_chain(&e)), &url);
                return false;
            }
        };
        let status = answer.status();
        let cookie = answer
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        self.stats.record(Kind::SignIn, took, Ok(status), &url);
        match (cookie, body["csrf_token"].as_str()) {
            (Some(cookie), Some(csrf)) if status.is_success() => {
                self.cookie = cookie;
                self.csrf = csrf.to_owned();
                true
            }
            _ => {
                eprintln!(
                    "{email} could not sign in to {}: {status} {body}",
                    self.service
                );
                false
            }
        }
    }

    fn base(&mut self) -> String {
        self.turn += 1;
        self.bases[self.turn % self.bases.len()].clone()
    }

    /// A request to this person's service (`path` after the service's prefix); the JSON answer.
    async fn send(&mut self, kind: Kind, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/{}{path}", self.base(), self.service);
        let page = !path.starts_with("/api/");
        let mut request = self
            .http
            .request(method, &url)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("accept-language", "fr");
        if page {
            request = request.header("accept", "text/html");
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let started = Instant::now();
        let answer = request.send().await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                self.stats
                    .record(kind, started.elapsed(), Err(error_chain(&e)), &url);
                return Value::Null;
            }
        };
        let status = answer.status();
        let bytes = answer.bytes().await.unwrap_or_default();
        self.stats.record(kind, started.elapsed(), Ok(status), &url);
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    async fn get(&mut self, path: &str) -> Value {
        self.send(Kind::Read, Method::GET, path, None).await
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The id of the first item of a list answer (a JSON array, or a page with `items`).
fn first_id(list: &Value) -> Option<String> {
    let items = list.as_array().or_else(|| list["items"].as_array())?;
    items.first()?["id"].as_str().map(str::to_owned)
}

async fn think(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn trainee(mut wallet: Person, mut centre: Person, until: Instant, pause: u64) {
    while Instant::now() < until {
        wallet.get("").await;
        think(pause).await;
        wallet.get("/credentials").await;
        think(pause).await;
        wallet.get("/api/v1/credentials").await;
        think(pause).await;
        centre.get("").await;
        think(pause).await;
    }
}

async fn trainer(mut centre: Person, until: Instant, pause: u64) {
    let Some(org) = first_id(&centre.get("/api/v1/organisations").await) else {
        eprintln!("a trainer sees no organisation");
        return;
    };
    let orgs = format!("/api/v1/organisations/{org}");
    let Some(session) = first_id(&centre.get(&format!("{orgs}/sessions")).await) else {
        eprintln!("a trainer sees no session");
        return;
    };
    let sessions = format!("{orgs}/sessions/{session}");
    let room = first_id(&centre.get(&format!("{sessions}/rooms")).await);
    let mut round = 0;
    while Instant::now() < until {
        round += 1;
        centre.get("").await;
        think(pause).await;
        centre.get(&format!("/orgs/{org}")).await;
        think(pause).await;
        centre.get(&format!("/orgs/{org}/sessions/{session}")).await;
        think(pause).await;
        if let Some(room) = &room {
            centre
                .get(&format!("/orgs/{org}/sessions/{session}/rooms/{room}"))
                .await;
            think(pause).await;
            centre
                .get(&format!("{sessions}/rooms/{room}/messages"))
                .await;
            think(pause).await;
            if round % 5 == 0 {
                centre
                    .send(
                        Kind::Write,
                        Method::POST,
                        &format!("{sessions}/rooms/{room}/messages"),
                        Some(json!({"body": format!("Point d'étape n° {round}")})),
                    )
                    .await;
                think(pause).await;
            }
        }
    }
}

async fn recruiter(mut verifier: Person, until: Instant, pause: u64) {
    let Some(company) = first_id(&verifier.get("/api/v1/companies").await) else {
        eprintln!("a recruiter sees no company");
        return;
    };
    let queries = [
        "",
        "?q=soudure",
        "?competency=H2913",
        "?sort=recent&limit=20",
    ];
    let mut round = 0;
    while Instant::now() < until {
        round += 1;
        verifier.get("").await;
        think(pause).await;
        verifier.get(&format!("/companies/{company}")).await;
        think(pause).await;
        let query = queries[round % queries.len()];
        verifier
            .get(&format!("/api/v1/companies/{company}/search{query}"))
            .await;
        think(pause).await;
    }
}

async fn signing_in(mut centre: Person, mut verifier: Person, until: Instant, pause: u64) {
    let (trainer, recruiter) = (TRAINERS[0], RECRUITERS[0]);
    while Instant::now() < until {
        centre.renew(trainer).await;
        think(pause * 10).await;
        verifier.renew(recruiter).await;
        think(pause * 10).await;
    }
}

/// Bogus sign-ins without pause, on a connection of its own (one of `--abusers`).
async fn abuser(http: Client, base: String, stats: Arc<Stats>, until: Instant, n: usize) {
    let url = format!("{base}/issuer/api/v1/session");
    let mut attempt = 0;
    while Instant::now() < until {
        // A new address each time, as an attacker would to dodge the per-account throttle:
        // every attempt costs a password check.
        attempt += 1;
        let started = Instant::now();
        let answer = http
            .post(&url)
            .json(&json!({"email": format!("intrus{n}-{attempt}@exemple.fr"), "password": "wrong password"}))
            .send()
            .await;
        let status = answer
            .as_ref()
            .map(|a| a.status())
            .map_err(|e| error_chain(e));
        stats.record(Kind::Abuse, started.elapsed(), status, &url);
        if let Ok(answer) = answer {
            let _ = answer.bytes().await;
        }
    }
}

/// `/ready` every 100 ms: how long the process takes to answer anybody.
async fn probe(http: Client, base: String, stats: Arc<Stats>, until: Instant) {
    let url = format!("{base}/issuer/ready");
    while Instant::now() < until {
        let started = Instant::now();
        let answer = http.get(&url).send().await;
        let status = answer
            .as_ref()
            .map(|a| a.status())
            .map_err(|e| error_chain(e));
        stats.record(Kind::Probe, started.elapsed(), status, &url);
        think(100).await;
    }
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentiles(latencies: &mut [Duration]) -> String {
    if latencies.is_empty() {
        return "—".into();
    }
    latencies.sort();
    let at = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    format!("{:.1} / {:.1}", at(0.5), at(0.99))
}

fn memory(pids: &[u32]) -> String {
    pids.iter()
        .map(|pid| rss_mib(*pid).map_or("?".into(), |m| format!("{m:.0}")))
        .collect::<Vec<_>>()
        .join(" + ")
}

#[tokio::main]
async fn main() {
    let mut minutes = 5u64;
    let mut clients = 32usize;
    let mut pause = 100u64;
    let mut abusers = 0usize;
    let mut pids = Vec::new();
    let mut bases = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match arg.as_str() {
            "--minutes" => minutes = value().parse().expect("minutes"),
            "--clients" => clients = value().parse().expect("clients"),
            "--think" => pause = value().parse().expect("milliseconds"),
            "--abusers" => abusers = value().parse().expect("abusers"),
            "--pid" => pids.push(value().parse().expect("a process id")),
            url => bases.push(url.trim_end_matches('/').to_owned()),
        }
    }
    if bases.is_empty() {
        bases.push("http://127.0.0.1:8080".into());
    }
    let http = Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stats = Arc::new(Stats {
        start: Instant::now(),
        minutes: Mutex::new(Vec::new()),
    });
    println!(
        "soak: {clients} clients, {minutes} min, {pause} ms between requests, instances {}",
        bases.join(", ")
    );
    println!("memory at start (MiB): {}", memory(&pids));
    let until = Instant::now() + Duration::from_secs(minutes * 60);
    let mut tasks = Vec::new();
    for n in 0..clients {
        let (http, bases, stats) = (http.clone(), bases.clone(), stats.clone());
        // Of every eight clients: three trainees, two trainers, two recruiters, one signing in.
        let task = async move {
            let sign_in = |service, email: &'static str| {
                let (http, bases, stats) = (http.clone(), bases.clone(), stats.clone());
                async move { Person::sign_in(&http, &bases, service, email, &stats).await }
            };
            match n % 8 {
                0..=2 => {
                    let email = TRAINEES[n % TRAINEES.len()];
                    if let (Some(w), Some(c)) = (
                        sign_in("wallet", email).await,
                        sign_in("issuer", email).await,
                    ) {
                        trainee(w, c, until, pause).await;
                    }
                }
                3 | 4 => {
                    if let Some(c) = sign_in("issuer", TRAINERS[n % TRAINERS.len()]).await {
                        trainer(c, until, pause).await;
                    }
                }
                5 | 6 => {
                    if let Some(v) = sign_in("verifier", RECRUITERS[n % RECRUITERS.len()]).await {
                        recruiter(v, until, pause).await;
                    }
                }
                _ => {
                    if let (Some(c), Some(v)) = (
                        sign_in("issuer", TRAINERS[0]).await,
                        sign_in("verifier", RECRUITERS[0]).await,
                    ) {
                        signing_in(c, v, until, pause).await;
                    }
                }
            }
        };
        tasks.push(tokio::spawn(task));
    }
    for n in 0..abusers {
        // Each on a connection of its own, as many attackers would be.
        let http = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        tasks.push(tokio::spawn(abuser(
            http,
            bases[n % bases.len()].clone(),
            stats.clone(),
            until,
            n,
        )));
    }
    tasks.push(tokio::spawn(probe(
        http.clone(),
        bases[0].clone(),
        stats.clone(),
        until,
    )));
    let reporter = {
        let (stats, pids) = (stats.clone(), pids.clone());
        tokio::spawn(async move {
            println!(
                "minute | requests | 5xx | no answer | reads p50 / p99 ms | writes p50 / p99 ms | sign-ins p50 / p99 ms | /ready p50 / p99 ms | bogus sign-ins | RSS MiB"
            );
            for minute in 0..minutes as usize {
                tokio::time::sleep_until(
                    (stats.start + Duration::from_secs(60 * (minute as u64 + 1))).into(),
                )
                .await;
                let mut all = stats.minutes.lock().unwrap();
                let Some(m) = all.get_mut(minute) else {
                    continue;
                };
                let requests = m.reads.len()
                    + m.writes.len()
                    + m.sign_ins.len()
                    + m.probes.len()
                    + m.abuses
                    + m.server_errors
                    + m.transport_errors
                    + m.other;
                println!(
                    "{} | {requests} | {} | {} | {} | {} | {} | {} | {} | {}",
                    minute + 1,
                    m.server_errors,
                    m.transport_errors,
                    percentiles(&mut m.reads),
                    percentiles(&mut m.writes),
                    percentiles(&mut m.sign_ins),
                    percentiles(&mut m.probes),
                    m.abuses,
                    memory(&pids)
                );
            }
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    reporter.await.unwrap();
    let all = stats.minutes.lock().unwrap();
    let failures: usize = all
        .iter()
        .map(|m| m.server_errors + m.transport_errors)
        .sum();
    let refused: usize = all.iter().map(|m| m.other).sum();
    println!("memory at end (MiB): {}", memory(&pids));
    println!("4xx answers: {refused}; 5xx or no answer: {failures}");
    if failures > 0 {
        std::process::exit(1);
    }
}
