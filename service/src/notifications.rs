//! A person's notifications, on every portal: the mail written to them (`mail::queue` keeps
//! whose account it is), newest first with what is still unread, and how each kind reaches
//! them — at once, in one summary a day, or only in the list. The mail that keeps an account
//! safe (verification, a new password) always goes at once.

use crate::Ctx;
use crate::ServiceKind;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::i18n::{Catalog, Lang};
use crate::jobs::{self, Outcome};
use crate::mail::{self, Outgoing, fill};
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The job that mails one person the day's summary.
pub const DIGEST: &str = "mail.digest";
/// The hour (UTC) of the day's summary: 17:00, 18:00 in Paris in winter.
const DIGEST_HOUR_MS: i64 = 17 * 3600 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// How a kind of notification reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Immediate,
    Daily,
    Never,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Immediate => "immediate",
            Mode::Daily => "daily",
            Mode::Never => "never",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        match s {
            "immediate" => Some(Mode::Immediate),
            "daily" => Some(Mode::Daily),
            "never" => Some(Mode::Never),
            _ => None,
        }
    }
}

/// The kinds of notification a service sends that people choose for (the others, keeping
/// accounts safe, always go at once).
pub fn kinds(service: ServiceKind) -> &'static [&'static str] {
    match service {
        ServiceKind::Issuer => &[
            "invitation",
            "credential_offer",
            "convocation",
            "calendar_changed",
            "calendar_cancelled",
            "quiz_opened",
            "identity_requested",
        ],
        ServiceKind::Verifier => &[
            "offer_accepted",
            "offer_declined",
            "chat_messages",
            "chat_deletion_notice",
            "chat_deleted",
        ],
        ServiceKind::Wallet => &[
            "recruiter_offer",
            "recruiter_quiz",
            "chat_messages",
            "chat_deletion_notice",
            "chat_deleted",
        ],
    }
}

/// How `account` wants `kind`: immediate unless they chose otherwise (and always for a kind
/// they do not choose for).
pub async fn mode(ctx: &Ctx, account: &str, kind: &str) -> ApiResult<Mode> {
    if !kinds(ctx.config.kind).contains(&kind) {
        return Ok(Mode::Immediate);
    }
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT mode FROM notification_preferences WHERE account_id = $1 AND kind = $2",
    )
    .bind(account)
    .bind(kind)
    .fetch_optional(ctx.db.pool())
    .await?;
    Ok(row
        .and_then(|(m,)| Mode::parse(&m))
        .unwrap_or(Mode::Immediate))
}

/// Keeps message `id` out of the mail: in the list only, or for the day's summary (whose job
/// is queued, once per person and day).
pub async fn hold(ctx: &Ctx, id: &str, account: &str, mode: Mode) -> ApiResult<()> {
    let now = ctx.now_ms();
    let mut conn = ctx.db.writer().await?;
    sqlx::query("UPDATE outbox SET held = $1 WHERE id = $2")
        .bind(mode.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if mode == Mode::Daily {
        let today = now.div_euclid(DAY_MS) * DAY_MS + DIGEST_HOUR_MS;
        let at = if today > now { today } else { today + DAY_MS };
        jobs::enqueue(
            &mut conn,
            now,
            DIGEST,
            &json!({ "account": account }),
            at,
            Some(&format!("digest:{account}:{at}")),
        )
        .await?;
    }
    Ok(())
}

const MAIL: Catalog = &[
    (
        "digest.subject",
        "Votre résumé du jour : {count} notification·s",
        "Your daily summary: {count} notification·s",
    ),
    ("digest.hello", "Bonjour {name},", "Hello {name},"),
    (
        "digest.intro",
        "Voici ce qui vous est arrivé aujourd'hui. Vous choisissez ce qui vous est écrit dans « Mes notifications ».",
        "Here is what came for you today. You choose what you are written in « My notifications ».",
    ),
];

/// The `mail.digest` job: one mail with the subjects (and first link) of the messages the
/// person chose to have in a summary, which are then marked summarised.
pub async fn digest(ctx: Ctx, payload: Value) -> Result<Outcome, String> {
    let run = async {
        let account = payload["account"].as_str().unwrap_or_default();
        let mut tx = ctx.db.begin().await?;
        let held: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, subject, text_body FROM outbox WHERE account_id = $1 AND held = 'daily' ORDER BY created_at, id",
        )
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
        let who: Option<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT email, display_name, email_verified_at FROM accounts WHERE id = $1",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?;
        let (Some((email, name, Some(_))), false) = (who, held.is_empty()) else {
            return Ok(());
        };
        let lang = crate::addresses::language_of(&mut tx, account).await?;
        let t = |k: &str| lang.t(MAIL, k);
        let mut paragraphs = vec![
            fill(t("digest.hello"), &[("name", &name)]),
            t("digest.intro").to_owned(),
        ];
        for (id, subject, sealed) in &held {
            let text = mail::open_text(&ctx, id, sealed).unwrap_or_default();
            let link = text
                .split("\n\n")
                .map(str::trim)
                .find(|p| p.starts_with("http") && !p.contains(' '))
                .unwrap_or_default();
            paragraphs.push(format!("• {subject}\n{link}").trim_end().to_owned());
        }
        for (id, ..) in &held {
            sqlx::query("UPDATE outbox SET held = 'summarised' WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let count = held.len().to_string();
        mail::queue(
            &mut tx,
            &ctx,
            &Outgoing {
                kind: "daily_summary",
                to: email,
                to_name: name,
                subject: fill(t("digest.subject"), &[("count", &count)]),
                paragraphs,
                attachment: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    };
    run.await.map_err(|e| e.to_string())?;
    Ok(Outcome::Done)
}

// --- API ------------------------------------------------------------------------------------

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(read_all))
        .routes(routes!(preferences, set_preferences))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub created_at: i64,
    pub read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notifications {
    pub unread: i64,
    /// The last 100, newest first.
    pub items: Vec<Notification>,
}

/// id, kind, subject, sealed text, written, read.
type NotificationRow = (String, String, String, Vec<u8>, i64, Option<i64>);

/// The signed-in person's notifications, newest first.
pub async fn of(ctx: &Ctx, account: &str) -> ApiResult<Notifications> {
    let rows: Vec<NotificationRow> = sqlx::query_as(
        "SELECT id, kind, subject, text_body, created_at, read_at FROM outbox WHERE account_id = $1 \
         ORDER BY created_at DESC, id LIMIT 100",
    )
    .bind(account)
    .fetch_all(ctx.db.pool())
    .await?;
    let items: Vec<Notification> = rows
        .into_iter()
        .map(
            |(id, kind, subject, sealed, created_at, read_at)| Notification {
                text: mail::open_text(ctx, &id, &sealed).unwrap_or_default(),
                id,
                kind,
                subject,
                created_at,
                read: read_at.is_some(),
            },
        )
        .collect();
    Ok(Notifications {
        unread: unread(ctx, account).await?,
        items,
    })
}

/// How many of the person's notifications are unread.
pub async fn unread(ctx: &Ctx, account: &str) -> ApiResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE account_id = $1 AND read_at IS NULL")
            .bind(account)
            .fetch_one(ctx.db.pool())
            .await?;
    Ok(n)
}

/// Marks every notification of the person read.
pub async fn mark_read(ctx: &Ctx, account: &str) -> ApiResult<()> {
    sqlx::query("UPDATE outbox SET read_at = $1 WHERE account_id = $2 AND read_at IS NULL")
        .bind(ctx.now_ms())
        .bind(account)
        .execute(&mut *ctx.db.writer().await?)
        .await?;
    Ok(())
}

/// The person's notifications.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "accounts",
    responses((status = 200, body = Notifications), (status = 401, body = Problem)))]
async fn list(State(ctx): State<Ctx>, principal: Principal) -> ApiResult<Json<Notifications>> {
    of(&ctx, principal.account_id.as_str()).await.map(Json)
}

/// Marks them all read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "accounts",
    responses((status = 204), (status = 401, body = Problem)))]
async fn read_all(State(ctx): State<Ctx>, principal: Principal) -> ApiResult<StatusCode> {
    mark_read(&ctx, principal.account_id.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How each kind this service sends reaches the person, as they chose.
pub async fn chosen(ctx: &Ctx, account: &str) -> ApiResult<BTreeMap<String, Mode>> {
    let mut out = BTreeMap::new();
    for kind in kinds(ctx.config.kind) {
        out.insert((*kind).to_owned(), mode(ctx, account, kind).await?);
    }
    Ok(out)
}

/// Chooses how kinds reach the person (the others keep their choice).
pub async fn choose(
    ctx: &Ctx,
    principal: &Principal,
    choices: &BTreeMap<String, Mode>,
) -> ApiResult<()> {
    let known = kinds(ctx.config.kind);
    if let Some(kind) = choices.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::invalid_field(
            kind,
            format!(
                "not a kind of notification here; one of {}",
                known.join(", ")
            ),
        ));
    }
    let mut tx = ctx.db.begin().await?;
    for (kind, mode) in choices {
        sqlx::query("DELETE FROM notification_preferences WHERE account_id = $1 AND kind = $2")
            .bind(principal.account_id.as_str())
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO notification_preferences (account_id, kind, mode) VALUES ($1, $2, $3)",
        )
        .bind(principal.account_id.as_str())
        .bind(kind)
        .bind(mode.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How each kind of notification reaches the person.
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "accounts",
    responses((status = 200, body = Object), (status = 401, body = Problem)))]
async fn preferences(
    State(ctx): State<Ctx>,
    principal: Principal,
) -> ApiResult<Json<BTreeMap<String, Mode>>> {
    chosen(&ctx, principal.account_id.as_str()).await.map(Json)
}

/// Chooses, per kind: `immediate`, `daily` (one summary a day) or `never` (the list only).
#[utoipa::path(put, path = "/api/v1/me/notification-preferences", tag = "accounts", request_body = Object,
    responses((status = 200, body = Object), (status = 422, body = Problem)))]
async fn set_preferences(
    State(ctx): State<Ctx>,
    principal: Principal,
    Json(asked): Json<BTreeMap<String, Value>>,
) -> ApiResult<Json<BTreeMap<String, Mode>>> {
    let mut choices = BTreeMap::new();
    for (kind, mode) in asked {
        let mode = mode
            .as_str()
            .and_then(Mode::parse)
            .ok_or_else(|| ApiError::invalid_field(&kind, "immediate, daily or never"))?;
        choices.insert(kind, mode);
    }
    choose(&ctx, &principal, &choices).await?;
    chosen(&ctx, principal.account_id.as_str()).await.map(Json)
}

/// The name of a kind of notification, for the preferences.
pub fn label(lang: Lang, kind: &str) -> &'static str {
    lang.t(LABELS, kind)
}

const LABELS: Catalog = &[
    ("invitation", "Invitations", "Invitations"),
    (
        "credential_offer",
        "Attestations qui vous attendent",
        "Credentials waiting for you",
    ),
    (
        "convocation",
        "Convocations",
        "Invitations to a session's events",
    ),
    (
        "calendar_changed",
        "Changements d'horaire",
        "Changes of schedule",
    ),
    ("calendar_cancelled", "Annulations", "Cancellations"),
    ("quiz_opened", "Questionnaires ouverts", "Quizzes opened"),
    (
        "identity_requested",
        "Demandes d'attestation d'identité",
        "Requests for an identity credential",
    ),
    ("offer_accepted", "Offres acceptées", "Offers accepted"),
    ("offer_declined", "Offres déclinées", "Offers declined"),
    ("chat_messages", "Nouveaux messages", "New messages"),
    (
        "chat_deletion_notice",
        "Conversations bientôt supprimées",
        "Conversations about to be deleted",
    ),
    (
        "chat_deleted",
        "Conversations supprimées",
        "Conversations deleted",
    ),
    (
        "recruiter_offer",
        "Offres des recruteurs",
        "Offers from recruiters",
    ),
    (
        "recruiter_quiz",
        "Questionnaires des recruteurs",
        "Quizzes from recruiters",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_has_a_label_and_the_catalogs_are_complete() {
        crate::i18n::assert_complete(super::MAIL);
        crate::i18n::assert_complete(super::LABELS);
        for service in crate::ServiceKind::ALL {
            for kind in super::kinds(service) {
                assert!(
                    !super::label(crate::i18n::Lang::Fr, kind).is_empty(),
                    "{kind}"
                );
            }
        }
    }
}
