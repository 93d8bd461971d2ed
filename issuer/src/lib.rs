//! `carnet-issuer`: the training centre's service. Today: accounts, organisations (a centre
//! with its SIRET) and their members' roles — administrator, manager (gestionnaire), trainer
//! (formateur), trainee (stagiaire). Courses, sessions, evaluations and credential issuance
//! come next (see ARCHITECTURE.md).

mod organisations;

use axum::Router;
use axum::extract::FromRef;
use carnet_service::db::EmbeddedMigration;
use carnet_service::jobs::{self, Worker};
use carnet_service::{Ctx, http};
use utoipa_axum::router::OpenApiRouter;

pub use organisations::Organisations;

/// The issuer's own migrations (versions 100 and up), applied after the common ones.
pub const MIGRATIONS: &[EmbeddedMigration] = &[];

#[derive(Clone)]
pub struct IssuerState {
    pub ctx: Ctx,
}

impl FromRef<IssuerState> for Ctx {
    fn from_ref(state: &IssuerState) -> Ctx {
        state.ctx.clone()
    }
}

/// The issuer's HTTP service, to mount at its path prefix.
pub fn app(ctx: Ctx) -> Router {
    let state = IssuerState { ctx: ctx.clone() };
    let api = OpenApiRouter::new().merge(organisations::router());
    http::service_router(ctx, state, "Carnet issuer", api, Router::new())
}

/// The issuer's background jobs.
pub fn worker(ctx: Ctx) -> Worker {
    Worker::new(ctx).handle(jobs::PURGE, jobs::purge)
}
