//! The training centre's portal: its organisations, their members, level scales and
//! competencies, sessions (members, calendar, attendance), evaluations and the credential
//! offers they make (link, PIN and QR code to hand the trainee), and revocation. Each page is a
//! view of what the issuer's API answers the person signed in; each form is an API call
//! (`carnet_service::web`), so the pages check nothing the API does not.
//!
//! One module per resource, as the API has them (`home`, `organisation`, `sessions`,
//! `attendance`, `quizzes`, `rooms`, `courses`, `grades`, `enrolments`, `audit`,
//! `invitations`), the texts in `catalog`; here the router and the API's answers the pages
//! share.

use crate::IssuerState;
// The pages read the API's own answers where they can.
use crate::calendar::Event;
use crate::qr;
use crate::sessions::TrainingSession;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use carnet_core::calendar::{day_number, day_text};
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{
    Backend, Chrome, Page, PageSession, Problem, QuestionToAnswer, QuizQuestion, SignedIn,
    awaiting_grades, failed, field, form_json, multipart_form, quiz_questions, render, show,
    sign_in_page,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

mod attendance;
mod audit;
mod catalog;
mod courses;
mod enrolments;
mod grades;
mod home;
mod invitations;
mod organisation;
mod quizzes;
mod rooms;
mod sessions;
use attendance::*;
use audit::*;
pub use catalog::CATALOG;
use courses::*;
use enrolments::*;
use grades::*;
use home::*;
use invitations::*;
use organisation::*;
use quizzes::*;
use rooms::*;
use sessions::*;

pub fn router() -> Router<IssuerState> {
    carnet_service::web::sign_in_routes(CATALOG)
        .route("/", get(home))
        .route("/orgs/{org}", get(organisation))
        .route("/orgs/{org}/sessions/{sid}", get(session))
        .route("/orgs/{org}/courses", get(courses))
        .route("/orgs/{org}/audit", get(audit))
        .route("/orgs/{org}/invite", post(invite))
        .route("/orgs/{org}/sessions/{sid}/feed", post(feed))
        .route("/orgs/{org}/sessions/{sid}/completion", post(completion))
        .route("/invitations/{token}", get(invitation))
        .route(
            "/orgs/{org}/resources/upload",
            post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/orgs/{org}/sessions/{sid}/evaluate", post(evaluate))
        .route(
            "/orgs/{org}/sessions/{sid}/grades",
            get(grade_sheet).post(grade_all),
        )
        .route(
            "/orgs/{org}/sessions/{sid}/enrolments",
            post(enrolment_preview).layer(axum::extract::DefaultBodyLimit::max(MAX_ROSTER)),
        )
        .route(
            "/orgs/{org}/sessions/{sid}/enrolments/confirm",
            post(enrolment_confirm),
        )
        .route("/orgs/{org}/sessions/{sid}/attendance", get(attendance))
        .route("/orgs/{org}/sessions/{sid}/attendance/{slot}", get(slot))
        .route("/orgs/{org}/sessions/{sid}/quizzes", get(session_quizzes))
        .route(
            "/orgs/{org}/sessions/{sid}/quizzes/{opening}",
            get(quiz_results),
        )
        .route("/orgs/{org}/sessions/{sid}/rooms/{room}", get(room))
        .route("/orgs/{org}/trainees/{account}/identity", post(identity))
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Tenant {
    id: String,
    name: String,
    siret: String,
    #[serde(default)]
    my_roles: Vec<String>,
}

#[derive(Deserialize)]
struct Member {
    account_id: String,
    email: String,
    display_name: String,
    role: String,
}

#[derive(Deserialize)]
struct Scale {
    id: String,
    name: String,
    scale: Value,
    #[serde(default)]
    archived_at: Option<i64>,
}

impl Scale {
    fn levels(&self) -> String {
        match self.scale["kind"].as_str() {
            Some("levels") => self.scale["labels"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" < ")
                })
                .unwrap_or_default(),
            _ => format!("{} / {}", self.scale["pass"], self.scale["max"]),
        }
    }
}

#[derive(Deserialize, Clone)]
struct Competency {
    id: String,
    code: String,
    name: String,
    #[serde(default)]
    scale_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    framework_codes: BTreeMap<String, String>,
    #[serde(default)]
    archived_at: Option<i64>,
}

/// The frameworks whose codes identify a competency across centres, as the forms ask them.
const FRAMEWORKS: [&str; 4] = ["rome", "rncp", "rs", "esco"];

impl Competency {
    fn framework(&self, name: &str) -> &str {
        self.framework_codes.get(name).map_or("", String::as_str)
    }

    fn frameworks(&self) -> String {
        self.framework_codes
            .iter()
            .map(|(k, v)| format!("{} {v}", k.to_uppercase()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl TrainingSession {
    /// Where the session's clock is, as its forms say it next to their times: the city of
    /// its time zone (« Paris », « Martinique »).
    fn clock_city(&self) -> String {
        self.timezone
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('_', " ")
    }
}

#[derive(Deserialize)]
struct Evaluation {
    id: String,
    #[serde(default)]
    supersedes: Option<String>,
    session_id: String,
    trainee_id: String,
    competency_id: String,
    validated: i64,
    level_label: String,
    assessed_on: String,
    comment: String,
}

#[derive(Deserialize)]
struct Issued {
    id: String,
    account_id: String,
    vct: String,
    status: i64,
    issued_at: i64,
}

#[derive(Deserialize)]
struct OfferLink {
    offer_link: String,
    tx_code: Option<String>,
    expires_at: i64,
    #[serde(default)]
    redeemed: bool,
}

impl Event {
    fn kind_key(&self) -> &'static str {
        event_key(&self.kind)
    }

    /// « 2 mars 2026, 09:00 – 12:30 » (or to another day), in the page's language.
    fn when(&self, chrome: &Chrome) -> String {
        let (day, start) = self
            .starts_at
            .split_once('T')
            .unwrap_or((&self.starts_at, ""));
        let end = match self.ends_at.split_once('T') {
            Some((d, t)) if d == day => t.to_owned(),
            Some((d, t)) => format!("{}, {t}", chrome.date(d)),
            None => self.ends_at.clone(),
        };
        format!("{}, {start} – {end}", chrome.date(day))
    }
}

fn event_key(kind: &str) -> &'static str {
    match kind {
        "course" => "event.course",
        "exam" => "event.exam",
        _ => "event.other",
    }
}

impl Issued {
    fn status_name(&self) -> &'static str {
        match self.status {
            0 => "valid",
            1 => "revoked",
            _ => "suspended",
        }
    }
}

/// An offer as shown to hand it over: link, PIN and QR code (SVG, inline).
struct Offer {
    link: String,
    pin: String,
    qr: String,
    expires: String,
    redeemed: bool,
    /// The offer opened in the deployment's wallet, its PIN in the fragment (never sent to a
    /// server): the trainee's one tap. Empty without a wallet.
    wallet: String,
}

fn offer(lang: Lang, link: OfferLink, wallet_url: &str) -> Offer {
    Offer {
        wallet: if wallet_url.is_empty() {
            String::new()
        } else {
            format!(
                "{wallet_url}?offer={}{}",
                carnet_core::oid4vci::percent_encode(&link.offer_link),
                link.tx_code
                    .as_deref()
                    .map(|pin| format!("#tx_code={pin}"))
                    .unwrap_or_default()
            )
        },
        qr: qr::svg(&link.offer_link).unwrap_or_default(),
        pin: link.tx_code.unwrap_or_default(),
        expires: carnet_service::web::moment(lang, link.expires_at),
        redeemed: link.redeemed,
        link: link.offer_link,
    }
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn chrome(state: &IssuerState, lang: Lang, session: &PageSession) -> Chrome {
    Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&session.0)
}

/// A session of the organisation, by id.
async fn find_session(api: &Backend, org: &str, sid: &str) -> Result<TrainingSession, Problem> {
    api.get::<Vec<TrainingSession>>(&format!("/api/v1/organisations/{org}/sessions"))
        .await?
        .into_iter()
        .find(|s| s.id == sid)
        .ok_or(Problem::not_found())
}
