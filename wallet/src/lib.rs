//! `carnet-wallet`: the trainee's service. Today: holder accounts (registration, sign-in,
//! tokens). Holder keys, the encrypted credential store, the competency history and
//! OpenID4VCI/VP come next (see ARCHITECTURE.md).

use axum::Router;
use axum::extract::FromRef;
use carnet_service::db::EmbeddedMigration;
use carnet_service::jobs::{self, Worker};
use carnet_service::{Ctx, http};
use utoipa_axum::router::OpenApiRouter;

/// The wallet's own migrations (versions 100 and up), applied after the common ones.
pub const MIGRATIONS: &[EmbeddedMigration] = &[];

#[derive(Clone)]
pub struct WalletState {
    pub ctx: Ctx,
}

impl FromRef<WalletState> for Ctx {
    fn from_ref(state: &WalletState) -> Ctx {
        state.ctx.clone()
    }
}

/// The wallet's HTTP service, to mount at its path prefix.
pub fn app(ctx: Ctx) -> Router {
    let state = WalletState { ctx: ctx.clone() };
    http::service_router(
        ctx,
        state,
        "Carnet wallet",
        OpenApiRouter::new(),
        Router::new(),
    )
}

/// The wallet's background jobs.
pub fn worker(ctx: Ctx) -> Worker {
    Worker::new(ctx).handle(jobs::PURGE, jobs::purge)
}
