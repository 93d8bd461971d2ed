//! `carnet-verifier`: the recruiters' service. Today: accounts, companies identified by SIRET
//! (approved by a platform administrator before they act) and their members' roles —
//! administrator and recruiter. Trusted issuers, the directory, search, offers and chats come
//! next (see ARCHITECTURE.md).

mod companies;

use axum::Router;
use axum::extract::FromRef;
use carnet_service::db::EmbeddedMigration;
use carnet_service::jobs::{self, Worker};
use carnet_service::{Ctx, http};
use utoipa_axum::router::OpenApiRouter;

pub use companies::Companies;

/// The verifier's own migrations (versions 100 and up), applied after the common ones.
pub const MIGRATIONS: &[EmbeddedMigration] = &[];

#[derive(Clone)]
pub struct VerifierState {
    pub ctx: Ctx,
}

impl FromRef<VerifierState> for Ctx {
    fn from_ref(state: &VerifierState) -> Ctx {
        state.ctx.clone()
    }
}

/// The verifier's HTTP service, to mount at its path prefix.
pub fn app(ctx: Ctx) -> Router {
    let state = VerifierState { ctx: ctx.clone() };
    let api = OpenApiRouter::new().merge(companies::router());
    http::service_router(ctx, state, "Carnet verifier", api, Router::new())
}

/// The verifier's background jobs.
pub fn worker(ctx: Ctx) -> Worker {
    Worker::new(ctx).handle(jobs::PURGE, jobs::purge)
}
