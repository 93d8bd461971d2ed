//! `carnet-verifier`: the recruiters' service. Companies identified by SIRET, approved by a
//! platform administrator before they act, and their recruiters (`companies`); the trusted
//! issuers and their keys (`trust`); the talent directory that wallets publish profiles to
//! over OpenID4VP (`directory`, answers checked in `vp`) and its search (`search`); offers
//! sent to one or many profiles, accepted with a verified presentation of only the claims the
//! candidate chose, or declined (`offers`); recruiters' quizzes (`quizzes`); the chats accepted
//! offers open (`chats`); the
//! deletion of disclosed data after the retention period (`retention`).

pub mod chats;
mod companies;
pub mod directory;
pub mod notices;
pub mod offers;
mod pages;
pub mod quizzes;
pub mod retention;
pub mod search;
pub mod trust;
pub mod vp;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::post;
use carnet_service::db::EmbeddedMigration;
use carnet_service::jobs::{self, Worker};
use carnet_service::remote::Remote;
use carnet_service::{Ctx, http};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

pub use companies::Companies;
pub use pages::CATALOG as PAGE_TEXTS;

/// The verifier's own migrations (versions 100 and up), applied after the common ones.
pub const MIGRATIONS: &[EmbeddedMigration] = &[
    (
        100,
        "directory",
        include_str!("../../migrations/verifier/0100_directory.sql"),
    ),
    (
        101,
        "offers and chats",
        include_str!("../../migrations/verifier/0101_offers.sql"),
    ),
    (
        102,
        "quizzes",
        include_str!("../../migrations/verifier/0102_quizzes.sql"),
    ),
    (
        103,
        "search index",
        include_str!("../../migrations/verifier/0103_search.sql"),
    ),
    (
        104,
        "response encryption keys",
        include_str!("../../migrations/verifier/0104_response_keys.sql"),
    ),
    (
        105,
        "chat positions",
        include_str!("../../migrations/verifier/0105_chat_positions.sql"),
    ),
    (
        106,
        "declared details",
        include_str!("../../migrations/verifier/0106_declared_details.sql"),
    ),
    (
        107,
        "notices",
        include_str!("../../migrations/verifier/0107_notices.sql"),
    ),
];

#[derive(Clone)]
pub struct VerifierState {
    pub ctx: Ctx,
    pub remote: Remote,
    pub trust: Arc<trust::Trust>,
    pub status: Arc<vp::StatusCache>,
}

impl VerifierState {
    pub fn new(ctx: Ctx) -> VerifierState {
        // Public addresses only (plain HTTP too for a verifier on plain HTTP, a local set-up).
        VerifierState {
            remote: Remote::new(&ctx.config),
            ctx,
            trust: Arc::default(),
            status: Arc::default(),
        }
    }
}

impl FromRef<VerifierState> for Ctx {
    fn from_ref(state: &VerifierState) -> Ctx {
        state.ctx.clone()
    }
}

/// The verifier's HTTP service, to mount at its path prefix.
pub fn app(ctx: Ctx) -> Router {
    let state = VerifierState::new(ctx.clone());
    let api = OpenApiRouter::new()
        .merge(companies::router())
        .merge(trust::router())
        .merge(directory::router())
        .merge(search::router())
        .merge(offers::router())
        .merge(quizzes::router())
        .merge(chats::router());
    // The OpenID4VP response endpoint takes a form, as the protocol says.
    let protocol = pages::router().route(vp::RESPONSE_PATH, post(vp::respond));
    http::service_router(ctx, state, "Carnet verifier", api, protocol)
}

/// Schedules the verifier's periodic jobs (once per database).
pub async fn schedule_jobs(ctx: &Ctx) -> Result<(), sqlx::Error> {
    for kind in [
        directory::RECHECK_STATUS,
        trust::REFRESH_KEYS,
        retention::RETENTION,
        chats::EXPIRE_CHATS,
        vp::PURGE_REQUESTS,
    ] {
        jobs::schedule(ctx, kind).await?;
    }
    Ok(())
}

/// The verifier's background jobs.
pub fn worker(ctx: Ctx) -> Worker {
    Worker::new(ctx)
        .handle(jobs::PURGE, jobs::purge)
        .handle(directory::RECHECK_STATUS, |ctx, _| {
            directory::recheck_job(VerifierState::new(ctx))
        })
        .handle(trust::REFRESH_KEYS, |ctx, _| {
            trust::refresh_job(VerifierState::new(ctx))
        })
        .handle(chats::EXPIRE_CHATS, chats::expire_job)
        .handle(notices::CHAT_DIGEST, notices::chat_digest)
        .handle(notices::TELL_CANDIDATE, |ctx, payload| {
            notices::tell_candidate(VerifierState::new(ctx), payload)
        })
        .handle(retention::RETENTION, retention::job)
        .handle(vp::PURGE_REQUESTS, vp::purge_job)
}
