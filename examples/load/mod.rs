//! What the load tests share: `carnet serve` started on a loopback port in a temporary data
//! directory, with one service on PostgreSQL when `CARNET_BENCH_POSTGRES_URL` is set.

use carnet::config::ServerArgs;
use carnet::server;
use carnet_service::{Ctx, ServiceKind};
use std::path::PathBuf;
use std::time::Duration;

pub struct Running {
    pub base: String,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    /// The context of the service under test (not every load test reads it).
    #[allow(dead_code)]
    pub ctx: Ctx,
}

/// Serves the three services on `port`, `kind`'s database on PostgreSQL if asked; returns
/// once `kind` is ready, with an HTTP client keeping `concurrency` connections.
pub async fn start(port: u16, kind: ServiceKind, concurrency: usize) -> Running {
    let data_dir = std::env::temp_dir().join(format!("carnet-bench-{}", std::process::id()));
    let postgres = std::env::var("CARNET_BENCH_POSTGRES_URL").ok();
    let mut args = ServerArgs {
        addr: Some(([127, 0, 0, 1], port).into()),
        data_dir: Some(data_dir.clone()),
        log: Some("warn".into()),
        // Every simulated client comes from one loopback address.
        rate_limit: Some(0),
        ..ServerArgs::default()
    };
    match kind {
        ServiceKind::Issuer => args.issuer_database_url = postgres.clone(),
        ServiceKind::Wallet => args.wallet_database_url = postgres.clone(),
        ServiceKind::Verifier => args.verifier_database_url = postgres.clone(),
    }
    let settings = args.resolve().unwrap();
    carnet::cli::init_logging(&settings);
    let base = format!("http://127.0.0.1:{port}");
    let mut services = Vec::new();
    for k in ServiceKind::ALL {
        services.push(server::service(&settings, k).await.unwrap());
    }
    let ctx = services
        .iter()
        .find(|s| s.kind == kind)
        .unwrap()
        .ctx
        .clone();
    tokio::spawn(async move { server::serve(services, &settings).await.unwrap() });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    while http
        .get(format!("{base}/{}/ready", kind.name()))
        .send()
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "engine: {}",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    Running {
        base,
        http,
        data_dir,
        ctx,
    }
}

/// The latency at percentile `p` of sorted latencies, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
