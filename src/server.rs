//! Running the services: one process for all three (each under its path prefix, a landing page
//! at `/`), or one alone; migrations; graceful shutdown; background job workers.

use crate::config::Settings;
use crate::web;
use axum::Router;
use carnet_service::clock::SystemClock;
use carnet_service::db::EmbeddedMigration;
use carnet_service::files;
use carnet_service::jobs::{self, Worker};
use carnet_service::{Ctx, Db, ServiceConfig, ServiceKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A service ready to serve: its context, router and job worker.
pub struct Service {
    pub kind: ServiceKind,
    pub ctx: Ctx,
    pub router: Router,
    /// Routes at the host root (the issuer's and the wallet's well-known metadata).
    pub root: Router,
    pub worker: Worker,
}

/// Builds a service's routers and worker on a context.
pub fn build(kind: ServiceKind, ctx: Ctx) -> Service {
    let (router, root, worker) = match kind {
        ServiceKind::Issuer => {
            let (router, root) = carnet_issuer::app(ctx.clone());
            (router, root, carnet_issuer::worker(ctx.clone()))
        }
        ServiceKind::Wallet => {
            let (router, root) = carnet_wallet::app(ctx.clone());
            (router, root, carnet_wallet::worker(ctx.clone()))
        }
        ServiceKind::Verifier => (
            carnet_verifier::app(ctx.clone()),
            Router::new(),
            carnet_verifier::worker(ctx.clone()),
        ),
    };
    Service {
        kind,
        ctx,
        router,
        root,
        worker,
    }
}

pub fn migrations(kind: ServiceKind) -> &'static [EmbeddedMigration] {
    match kind {
        ServiceKind::Issuer => carnet_issuer::MIGRATIONS,
        ServiceKind::Wallet => carnet_wallet::MIGRATIONS,
        ServiceKind::Verifier => carnet_verifier::MIGRATIONS,
    }
}

/// Connects to `kind`'s database and applies its migrations.
pub async fn open(settings: &Settings, kind: ServiceKind) -> Result<Db, String> {
    if settings.database_url(kind).starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| format!("{}: {e}", settings.data_dir.display()))?;
    }
    let url = settings.database_url(kind);
    let db = Db::connect(&url)
        .await
        .map_err(|e| format!("{} database: {e}", kind.name()))?;
    db.migrate(migrations(kind))
        .await
        .map_err(|e| format!("{} migrations: {e}", kind.name()))?;
    Ok(db)
}

pub async fn service(settings: &Settings, kind: ServiceKind) -> Result<Service, String> {
    let db = open(settings, kind).await?;
    let ctx = Ctx {
        bus: carnet_service::bus::Bus::new(&db),
        db,
        clock: Arc::new(SystemClock),
        config: Arc::new(ServiceConfig {
            retention_days: i64::from(settings.retention_days),
            outbound: settings.outbound.clone(),
            wallet_url: settings.service_url(ServiceKind::Wallet),
            mail: settings.mail()?,
            ..ServiceConfig::new(kind, &settings.service_url(kind), settings.secret_key()?)
        }),
        files: files::open_store(&settings.files_location(kind)).map_err(|e| e.to_string())?,
    };
    jobs::schedule(&ctx, jobs::PURGE)
        .await
        .map_err(|e| e.to_string())?;
    match kind {
        ServiceKind::Issuer => carnet_issuer::schedule_jobs(&ctx).await,
        ServiceKind::Wallet => jobs::schedule(&ctx, carnet_wallet::status::REFRESH_STATUS).await,
        ServiceKind::Verifier => carnet_verifier::schedule_jobs(&ctx).await,
    }
    .map_err(|e| e.to_string())?;
    let mut service = build(kind, ctx);
    service.worker = service
        .worker
        .lease(i64::from(settings.job_lease_secs) * 1000);
    Ok(service)
}

/// Mounts services at their path prefixes (the landing page at `/` unless a service is there).
pub fn router(services: &[Service], settings: &Settings) -> Router {
    let mut app = Router::new();
    let mut root_taken = false;
    for s in services {
        app = app.merge(s.root.clone());
        match s.ctx.config.path_prefix() {
            "" => {
                root_taken = true;
                app = app.merge(s.router.clone());
            }
            prefix => app = app.nest(prefix, s.router.clone()),
        }
    }
    if !root_taken {
        let links = services
            .iter()
            .map(|s| (s.kind, settings.service_url(s.kind)))
            .collect();
        app = app.merge(web::landing(links));
    }
    let limits =
        carnet_service::limits::Limits::new(settings.rate_limit, settings.trusted_proxies.clone());
    carnet_service::http::outer_layers(app, Arc::new(limits))
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting, finishes requests and stops workers.
pub async fn serve(services: Vec<Service>, settings: &Settings) -> Result<(), String> {
    let app = router(&services, settings);
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = Vec::new();
    for s in services {
        let mut rx = stop_rx.clone();
        workers.push(tokio::spawn(s.worker.run(
            Duration::from_secs(5),
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            },
        )));
    }
    tracing::info!(addr = %settings.addr, url = %settings.public_url, "Carnet is listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| e.to_string())?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
