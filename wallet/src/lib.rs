//! `carnet-wallet`: the trainee's service. Holder accounts whose credential store is encrypted
//! under a data key only the holder's password, recovery code or live session opens (`vault`);
//! credentials received over OpenID4VCI from any issuer and checked before they are stored
//! (`credentials`), through bounded outbound requests (`remote`); the carnet, one history per
//! competency across centres (`carnet`); statuses kept current by a job (`status`); export and
//! encrypted backup (`backup`); the holder's declared availability (`availability`) and personal
//! details (`details`); OpenID4VP
//! presentations with the holder's choice of claims, and their log (`presentations`); directory
//! publication and the offers inbox at verifiers (`directory`).

use axum::extract::FromRef;
use axum::{Extension, Router};
use carnet_service::accounts::Hooks;
use carnet_service::db::EmbeddedMigration;
use carnet_service::jobs::{self, Worker};
use carnet_service::{Ctx, http};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

pub mod attestation;
pub mod availability;
pub mod backup;
pub mod carnet;
pub mod credentials;
pub mod details;
pub mod directory;
pub mod notices;
pub mod pages;
pub use pages::CATALOG as PAGE_TEXTS;
pub mod presentations;
pub mod scan;
pub mod status;
pub mod vault;

/// The wallet's own migrations (versions 100 and up), applied after the common ones.
pub const MIGRATIONS: &[EmbeddedMigration] = &[
    (
        100,
        "encrypted store",
        include_str!("../../migrations/wallet/0100_store.sql"),
    ),
    (
        101,
        "credential status",
        include_str!("../../migrations/wallet/0101_credential_status.sql"),
    ),
    (
        102,
        "holder profiles",
        include_str!("../../migrations/wallet/0102_profiles.sql"),
    ),
    (
        103,
        "presentations",
        include_str!("../../migrations/wallet/0103_presentations.sql"),
    ),
    (
        104,
        "directory publications",
        include_str!("../../migrations/wallet/0104_directory.sql"),
    ),
    (
        105,
        "declared details",
        include_str!("../../migrations/wallet/0105_declared_details.sql"),
    ),
    (
        106,
        "notices",
        include_str!("../../migrations/wallet/0106_notices.sql"),
    ),
];

#[derive(Clone)]
pub struct WalletState {
    pub ctx: Ctx,
    pub remote: carnet_service::remote::Remote,
    /// Signs the wallet's own attestations (`attestation`), parsed once.
    pub attestation: Arc<carnet_core::keys::SigningKey>,
}

impl FromRef<WalletState> for Ctx {
    fn from_ref(state: &WalletState) -> Ctx {
        state.ctx.clone()
    }
}

/// The wallet's HTTP service, to mount at its path prefix, and the routes to mount at the
/// host root (the issuer metadata of its attestations).
pub fn app(ctx: Ctx) -> (Router, Router) {
    // Public addresses only (plain HTTP too for a wallet on plain HTTP, a local set-up).
    let state = WalletState {
        ctx: ctx.clone(),
        remote: carnet_service::remote::Remote::new(&ctx.config),
        attestation: Arc::new(attestation::signing_key(&ctx)),
    };
    let root = attestation::well_known(state.clone());
    let router = http::service_router(
        ctx,
        state,
        "Carnet wallet",
        OpenApiRouter::new()
            .merge(vault::router())
            .merge(credentials::router())
            .merge(carnet::router())
            .merge(backup::router())
            .merge(availability::router())
            .merge(details::router())
            .merge(presentations::router())
            .merge(directory::router())
            .merge(notices::router()),
        pages::router(),
    )
    .layer(Extension(Hooks(Arc::new(vault::Keyring))))
    // The holder's data is at rest only under the holder's key: no answer is kept for
    // Idempotency-Key replay under the service's.
    .layer(Extension(http::NoReplay));
    (router, root)
}

/// The wallet's background jobs.
pub fn worker(ctx: Ctx) -> Worker {
    Worker::new(ctx)
        .handle(jobs::PURGE, jobs::purge)
        .handle(status::REFRESH_STATUS, status::refresh)
}
