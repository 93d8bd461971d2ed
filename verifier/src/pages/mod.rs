//! The recruiters' portal: the company (created with its SIRET, approved by the platform),
//! the search of trainees by verified competency with its filters and facets, profiles,
//! offers (a text or a PDF, to one trainee or to a whole search, asking which personal details),
//! their states, the candidates who accepted with what they chose to disclose, and the chats.
//! Platform administrators approve companies and trust issuers here. Each page is a view of
//! what the verifier's API answers the person signed in; each form is an API call.
//!
//! One module per resource (`home`, `search`, `offers`, `candidates`, `team`, `chat`,
//! `quizzes`), the texts in `catalog`; here the router and the API's answers they share.

use crate::VerifierState;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use carnet_core::oid4vci::percent_encode;
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{
    Backend, Chrome, Page, PageSession, Problem, QuizQuestion, awaiting_grades, date_of, field,
    multipart_form, problem_page, quiz_questions, see_other, show, sign_in_page,
};
use serde::Deserialize;
use serde_json::{Value, json};

mod candidates;
mod catalog;
mod chat;
mod home;
mod offers;
mod quizzes;
mod search;
mod team;
use candidates::*;
pub use catalog::CATALOG;
use chat::*;
use home::*;
use offers::*;
use quizzes::*;
use search::*;
use team::*;

pub fn router() -> Router<VerifierState> {
    carnet_service::web::sign_in_routes(CATALOG)
        .route("/", get(home))
        .route("/companies/{id}", get(search))
        .route("/companies/{id}/profiles/{profile}", get(profile))
        // A PDF may exceed the bodies of other forms; the server's upload limit still holds.
        .route(
            "/companies/{id}/offers",
            get(offers)
                .post(send_offer)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/companies/{id}/offers/{offer}", get(offer))
        .route("/companies/{id}/candidates", get(candidates))
        .route("/companies/{id}/team", get(team))
        .route("/companies/{id}/chats/{chat}", get(chat))
        .route("/companies/{id}/quizzes", get(quizzes))
        .route("/companies/{id}/quizzes/{quiz}", get(quiz))
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Company {
    id: String,
    name: String,
    siret: String,
    #[serde(default)]
    approved: bool,
    #[serde(default)]
    my_roles: Vec<String>,
}

#[derive(Deserialize)]
struct TrustedIssuer {
    issuer: String,
    name: String,
}

#[derive(Deserialize)]
struct Competency {
    code: String,
    name: String,
    #[serde(default)]
    issuer_name: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    validated_on: Option<String>,
    #[serde(default)]
    facts: Value,
}

impl Competency {
    fn evaluator(&self) -> String {
        self.facts["evaluator"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Deserialize)]
struct Profile {
    id: String,
    name: String,
    #[serde(default)]
    situation: Option<String>,
    #[serde(default)]
    available_from: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    contracts: Vec<String>,
    competencies: Vec<Competency>,
    /// When they are available, as people say it (made by the page).
    #[serde(skip)]
    available: String,
}

impl Profile {
    /// Says when the profile is available, on the day `today` (only for someone who said
    /// they were looking, or gave a date).
    fn spoken(mut self, lang: Lang, today: &str) -> Profile {
        if self.situation.as_deref() != Some("employed") || self.available_from.is_some() {
            self.available =
                carnet_service::web::availability(lang, self.available_from.as_deref(), today);
        }
        self
    }
}

#[derive(Clone, Deserialize)]
struct Facet {
    value: String,
    #[serde(default)]
    label: Option<String>,
    count: i64,
}

#[derive(Deserialize)]
struct SearchResult {
    total: i64,
    items: Vec<Profile>,
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(default)]
    facets: std::collections::HashMap<String, Vec<Facet>>,
}

#[derive(Deserialize)]
struct Quiz {
    id: String,
    title: String,
}

#[derive(Deserialize)]
struct OfferSummary {
    id: String,
    title: String,
    created_at: i64,
    expires_at: i64,
    #[serde(default)]
    statuses: Value,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(default)]
    offer_id: String,
    #[serde(default)]
    offer_title: String,
    #[serde(default)]
    profile_id: String,
    name: String,
    status: String,
    #[serde(default)]
    sent_at: i64,
    #[serde(default)]
    viewed_at: Option<i64>,
    #[serde(default)]
    answered_at: Option<i64>,
    #[serde(default)]
    disclosed: Option<Value>,
    #[serde(default)]
    verified_by: Option<String>,
    #[serde(default)]
    declared: Option<Value>,
    #[serde(default)]
    consent_receipt: Option<String>,
    #[serde(default)]
    chat_id: Option<String>,
}

#[derive(Deserialize)]
struct OfferDetail {
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    document_id: Option<String>,
    expires_at: i64,
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    sender: String,
    body: String,
    at: i64,
    #[serde(default)]
    position: Option<i64>,
}

#[derive(Deserialize)]
struct Chat {
    id: String,
    candidate: String,
    offer_title: String,
}

/// The claims an offer may ask of an identity credential.
const CLAIMS: [&str; 6] = [
    "email",
    "phone_number",
    "given_name",
    "family_name",
    "birthdate",
    "address",
];

const FACETS: [&str; 5] = ["competency", "issuer", "region", "contract", "situation"];

/// The search filters a page passes on to the API (and an offer to a whole result).
const FILTERS: [&str; 8] = [
    "competency",
    "q",
    "min_level",
    "issuer",
    "situation",
    "region",
    "contract",
    "available_by",
];

/// A disclosed value as text (an address object as its lines).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(map) => map.values().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn claim_key(name: &str) -> &'static str {
    CLAIMS
        .iter()
        .chain(&["presentation", "links"])
        .find(|c| **c == name)
        .copied()
        .unwrap_or("")
}

/// Disclosed claims as (label key, text).
fn disclosed(v: &Option<Value>) -> Vec<(&'static str, String, String)> {
    v.as_ref()
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (claim_key(k), k.clone(), value_text(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The page's frame: the company's navigation around a page.
struct Frame {
    company: Company,
}

async fn frame(api: &Backend, company: &str) -> Result<Frame, Problem> {
    Ok(Frame {
        company: api.get(&format!("/api/v1/companies/{company}")).await?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(super::CATALOG);
    }
}
