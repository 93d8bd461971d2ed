//! `carnet-issuer`: the training centre's service — organisations and their members' roles
//! (administrator, manager, trainer, trainee), level scales and competencies, training
//! sessions, evaluations, and competency credentials issued over OpenID4VCI (pre-authorized
//! code flow) with Token Status Lists for revocation and suspension.

mod attendance;
mod calendar;
mod catalog;
mod certificates;
mod courses;
mod enrolments;
mod evaluations;
mod invitations;
mod keys;
mod metadata;
mod notices;
mod offers;
mod organisations;
mod pages;
mod qr;
mod quizzes;
mod roles;
mod rooms;
mod sessions;
mod status;
mod vci;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use carnet_service::db::EmbeddedMigration;
use carnet_service::jobs::{self, Worker};
use carnet_service::{Ctx, http};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

pub use offers::{COMPETENCY, COMPLETION, IDENTITY, OFFER_TTL_MS};
pub use organisations::{Managers, Organisations};
pub use pages::CATALOG as PAGE_TEXTS;
pub use vci::REPLAY_GRACE_MS;

/// The issuer's own migrations (versions 100 and up), applied after the common ones.
pub const MIGRATIONS: &[EmbeddedMigration] = &[
    (
        100,
        "issuance",
        include_str!("../../migrations/issuer/0100_issuance.sql"),
    ),
    (
        101,
        "identity and completion",
        include_str!("../../migrations/issuer/0101_identity_completion.sql"),
    ),
    (
        102,
        "courses",
        include_str!("../../migrations/issuer/0102_courses.sql"),
    ),
    (
        103,
        "invitations",
        include_str!("../../migrations/issuer/0103_invitations.sql"),
    ),
    (
        104,
        "course competencies",
        include_str!("../../migrations/issuer/0104_course_competencies.sql"),
    ),
    (
        105,
        "status lists without a counter",
        include_str!("../../migrations/issuer/0105_status_list_counter.sql"),
    ),
    (
        106,
        "calendar and attendance",
        include_str!("../../migrations/issuer/0106_calendar_attendance.sql"),
    ),
    (
        107,
        "rooms",
        include_str!("../../migrations/issuer/0107_rooms.sql"),
    ),
    (
        108,
        "session quizzes",
        include_str!("../../migrations/issuer/0108_quizzes.sql"),
    ),
    (
        109,
        "check-in attempts",
        include_str!("../../migrations/issuer/0109_check_in_attempts.sql"),
    ),
    (
        110,
        "room positions",
        include_str!("../../migrations/issuer/0110_room_positions.sql"),
    ),
    (
        111,
        "issuance replay",
        include_str!("../../migrations/issuer/0111_issuance_replay.sql"),
    ),
    (
        112,
        "status list numbers",
        include_str!("../../migrations/issuer/0112_status_list_sequence.sql"),
    ),
    (
        113,
        "archiving",
        include_str!("../../migrations/issuer/0113_archiving.sql"),
    ),
    (
        114,
        "identity requests",
        include_str!("../../migrations/issuer/0114_identity_requests.sql"),
    ),
];

#[derive(Clone)]
pub struct IssuerState {
    pub ctx: Ctx,
    keys: Arc<keys::KeyCache>,
    lists: Arc<status::OpenLists>,
}

impl FromRef<IssuerState> for Ctx {
    fn from_ref(state: &IssuerState) -> Ctx {
        state.ctx.clone()
    }
}

impl IssuerState {
    pub fn new(ctx: Ctx) -> IssuerState {
        IssuerState {
            ctx,
            keys: Arc::default(),
            lists: Arc::default(),
        }
    }
}

/// The issuer's HTTP service, to mount at its path prefix, and the routes to mount at the
/// host root (the well-known metadata documents).
pub fn app(ctx: Ctx) -> (Router, Router) {
    let state = IssuerState::new(ctx.clone());
    let api = OpenApiRouter::new()
        .merge(organisations::router())
        .merge(keys::router())
        .merge(catalog::router())
        .merge(sessions::router())
        .merge(evaluations::router())
        .merge(offers::router())
        .merge(status::router())
        .merge(certificates::router())
        .merge(courses::router())
        .merge(invitations::router())
        .merge(enrolments::router())
        .merge(calendar::router())
        .merge(attendance::router())
        .merge(rooms::router())
        .merge(quizzes::router());
    // OpenID4VCI and status lists speak their own protocols, outside the JSON API.
    let protocol = pages::router()
        .route(
            "/orgs/{org}/offers/{secret}",
            get(offers::offer_by_reference),
        )
        .route("/orgs/{org}/token", post(vci::token))
        .route("/orgs/{org}/nonce", post(vci::nonce))
        .route("/orgs/{org}/credential", post(vci::credential))
        .route("/status/{list}", get(status::status_list_token))
        .route("/calendar/{token}", get(calendar::feed))
        .route("/vct/{configuration}", get(metadata::type_metadata));
    let root = metadata::well_known(state.clone());
    (
        http::service_router(ctx, state, "Carnet issuer", api, protocol),
        root,
    )
}

/// The issuer's background jobs.
pub fn worker(ctx: Ctx) -> Worker {
    Worker::new(ctx)
        .handle(jobs::PURGE, jobs::purge)
        .handle(PURGE_PROTOCOL, purge_protocol)
}

/// Hourly: forget used or expired OpenID4VCI nonces and access tokens.
pub const PURGE_PROTOCOL: &str = "issuer.purge_protocol";

/// Schedules the issuer's periodic jobs (once per database).
pub async fn schedule_jobs(ctx: &Ctx) -> Result<(), sqlx::Error> {
    jobs::schedule(ctx, PURGE_PROTOCOL).await
}

async fn purge_protocol(ctx: Ctx, _: serde_json::Value) -> Result<jobs::Outcome, String> {
    let now = ctx.now_ms();
    let pool = ctx.db.pool();
    let run = async {
        sqlx::query("DELETE FROM vci_nonces WHERE expires_at < $1")
            .bind(now)
            .execute(pool)
            .await?;
        // A used token is kept while its answer may be asked for again.
        sqlx::query("DELETE FROM vci_access_tokens WHERE expires_at < $1 AND (used_at IS NULL OR used_at < $2)")
            .bind(now)
            .bind(now - vci::REPLAY_GRACE_MS)
            .execute(pool)
            .await?;
        Ok::<_, sqlx::Error>(())
    };
    run.await.map_err(|e| e.to_string())?;
    Ok(jobs::Outcome::RunAgainAt(now + 3600 * 1000))
}
