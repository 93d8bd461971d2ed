//! « Mes notifications », on every portal: what was written to the person, newest first (the
//! unread marked, then read once shown), and how each kind reaches them.

use super::{Chrome, PageSession, SignedIn, home, problem_page, render, see_other};
use crate::Ctx;
use crate::error::ApiError;
use crate::i18n::{Catalog, Lang};
use crate::notifications::{self, Mode};
use axum::Router;
use axum::extract::{Form, FromRef, State};
use axum::response::Response;
use axum::routing::{get, post};
use std::collections::BTreeMap;

pub const CATALOG: Catalog = &[
    (
        "notifications.title",
        "Mes notifications",
        "My notifications",
    ),
    (
        "notifications.none",
        "Rien pour l'instant : ce qui vous sera écrit (invitations, attestations, offres, messages) arrivera ici aussi.",
        "Nothing yet: what is written to you (invitations, credentials, offers, messages) will arrive here too.",
    ),
    ("notifications.new", "nouveau", "new"),
    (
        "notifications.how",
        "Comment vous êtes prévenu",
        "How you are told",
    ),
    (
        "notifications.immediate",
        "Par e-mail, tout de suite",
        "By e-mail, at once",
    ),
    (
        "notifications.daily",
        "Dans un résumé par jour",
        "In one summary a day",
    ),
    ("notifications.never", "Ici seulement", "Here only"),
    ("notifications.save", "Enregistrer", "Save"),
    (
        "notifications.always",
        "Les courriels qui protègent votre compte (confirmation d'adresse, mot de passe) partent toujours.",
        "The mail that keeps your account safe (address confirmation, password) always goes.",
    ),
    ("notifications.saved", "C'est enregistré.", "Saved."),
    ("nav.notifications", "Notifications", "Notifications"),
    ("nav.outbox", "Courriers envoyés", "Mail sent"),
];

pub struct Item {
    pub subject: String,
    pub when: String,
    pub text: String,
    pub unread: bool,
}

#[derive(askama::Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<Item>,
    /// (kind, its name, its mode)
    choices: Vec<(String, &'static str, &'static str)>,
    saved: bool,
}

#[derive(serde::Deserialize, Default)]
struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub fn routes<S>(catalog: Catalog) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    Router::new()
        .route(
            "/notifications",
            get(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      SignedIn(session): SignedIn,
                      axum::extract::Query(q): axum::extract::Query<Saved>| async move {
                    page(&ctx, lang, catalog, &session, q.saved.is_some()).await
                },
            ),
        )
        .route(
            "/notifications/preferences",
            post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      session: PageSession,
                      Form(fields): Form<Vec<(String, String)>>| async move {
                    let csrf = super::field(&fields, "csrf");
                    if session.check(csrf).is_err() {
                        return problem_page(&ctx, lang, ApiError::Csrf.into(), &home(&ctx));
                    }
                    let mut choices = BTreeMap::new();
                    for (kind, mode) in fields.iter().filter(|(k, _)| k != "csrf") {
                        let mode = match mode.as_str() {
                            "daily" => Mode::Daily,
                            "never" => Mode::Never,
                            _ => Mode::Immediate,
                        };
                        choices.insert(kind.clone(), mode);
                    }
                    match notifications::choose(&ctx, &session.0, &choices).await {
                        Ok(()) => see_other(
                            &format!("{}/notifications?saved=1", ctx.config.path_prefix()),
                            None,
                        ),
                        Err(e) => problem_page(&ctx, lang, e.into(), &home(&ctx)),
                    }
                },
            ),
        )
}

async fn page(
    ctx: &Ctx,
    lang: Lang,
    catalog: Catalog,
    session: &PageSession,
    saved: bool,
) -> Response {
    let account = session.0.account_id.as_str();
    let shown = async {
        let list = notifications::of(ctx, account).await?;
        let chosen = notifications::chosen(ctx, account).await?;
        notifications::mark_read(ctx, account).await?;
        Ok::<_, ApiError>((list, chosen))
    };
    let (list, chosen) = match shown.await {
        Ok(shown) => shown,
        Err(e) => return problem_page(ctx, lang, e.into(), &home(ctx)),
    };
    let page = NotificationsPage {
        chrome: Chrome::new(ctx, lang, catalog)
            .sharing(CATALOG)
            .signed_in_as(&session.0),
        items: list
            .items
            .into_iter()
            .map(|n| Item {
                subject: n.subject,
                when: super::moment(lang, n.created_at),
                text: n
                    .text
                    .trim_end()
                    .trim_end_matches("-- \nCarnet")
                    .trim_end()
                    .to_owned(),
                unread: !n.read,
            })
            .collect(),
        // In the service's order of kinds, not the alphabet's.
        choices: notifications::kinds(ctx.config.kind)
            .iter()
            .map(|kind| {
                let label = notifications::label(lang, kind);
                let mode = match chosen.get(*kind).copied().unwrap_or(Mode::Immediate) {
                    Mode::Immediate => "immediate",
                    Mode::Daily => "daily",
                    Mode::Never => "never",
                };
                ((*kind).to_owned(), label, mode)
            })
            .collect(),
        saved,
    };
    render(lang, askama::Template::render(&page))
}
