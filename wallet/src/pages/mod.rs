//! The wallet's pages for people (the start of its portal): signing in or creating an account
//! (with the recovery code shown once), the carnet — one history per competency across
//! centres — and signing out. Server-rendered (askama), French by default, English on request;
//! forms carry the session's CSRF token.
//!
//! One module per part of the portal (`home`, `cards`, `shared`, `profile`, `inbox`, `chat`,
//! `quizzes`, `account`), the texts in `catalog`; here the router and what they share.

use crate::WalletState;
use crate::carnet::{self, Carnet, claim_text as text};
use crate::credentials;
use crate::details::Declared;
use crate::vault::{Holder, PageHolder};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{
    Backend, Chrome, Page, PageSession, Problem, QuestionToAnswer, SignedIn, date, date_of, day,
    field, multipart_form, render, see_other, show, sign_in_page,
};
use serde::Deserialize;
use serde_json::{Value, json};

mod account;
mod cards;
mod catalog;
mod chat;
mod home;
mod inbox;
mod profile;
mod quizzes;
mod shared;
use account::*;
use cards::*;
pub use catalog::CATALOG;
use chat::*;
use home::*;
use inbox::*;
use profile::*;
use quizzes::*;
use shared::*;

pub fn router() -> Router<WalletState> {
    carnet_service::web::sign_in_routes(CATALOG)
        .route("/", get(home))
        .route("/receive", post(receive))
        .route(
            "/receive/photo",
            post(receive_photo).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/shared", get(shared))
        .route("/profile", get(profile))
        .route("/profile/publish", get(publish_page).post(publish_submit))
        .route("/inbox", get(inbox))
        .route("/inbox/{publication}/{offer}/accept", post(accept))
        .route("/answer/{request}", post(answer))
        .route("/inbox/{publication}/chats/{chat}", get(chat))
        .route("/quizzes", get(quizzes))
        .route("/account", get(account))
        .route("/credentials", get(credentials_page))
        .route("/credentials/{id}", get(credential_page))
        .route("/backup", post(backup))
        .route(
            "/restore",
            post(restore).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/recover", get(recover))
}

/// The claims a credential carries for its protocol, not about its holder: never shown.
const REGISTERED: [&str; 11] = [
    "iss",
    "sub",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "status",
    "vct",
    "vct#integrity",
    "jti",
    "_sd_alg",
];

/// The leaves of a credential's claims about its holder, as JSON pointers and values (a
/// list's items each), without the protocol's claims and the issuer's record ids.
fn leaves(value: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let internal = key == "id" || key.ends_with("_id");
                if internal || (at.is_empty() && REGISTERED.contains(&key.as_str())) {
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(key);
                leaves(v, at, out);
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = at.len();
            at.push_str("/*");
            for item in items {
                leaves(item, at, out);
            }
            at.truncate(len);
        }
        Value::Null => {}
        Value::String(s) if s.is_empty() => {}
        other => out.push((at.clone(), text(other))),
    }
}

/// A detail's name, short (« Niveau »): the catalog's `detail:` key, a framework's code by
/// its framework's name, else the last word of its path (`*`: each item of a list).
fn detail_label(lang: Lang, pointer: &str) -> String {
    if let Some(framework) = pointer.strip_prefix("/competency/framework_codes/") {
        return format!(
            "{} {}",
            lang.t(CATALOG, "detail.framework"),
            framework.to_uppercase()
        );
    }
    match lang.t(CATALOG, &format!("detail:{pointer}")) {
        "" => pointer
            .trim_end_matches("/*")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace('_', " "),
        known => known.to_owned(),
    }
}

/// A detail's value as people read it: dates in words, roles by their names.
fn detail_value(chrome: &Chrome, pointer: &str, value: String) -> String {
    if pointer.ends_with("_on") || pointer == "/birthdate" {
        return date(chrome.lang, &value);
    }
    match chrome.t(&format!("detail.value.{value}")) {
        "" => value,
        known => known.to_owned(),
    }
}

/// One sharing in people's words: with whom, when, and for each credential what it attests
/// and which of its details went (« Souder à l'arc TIG, niveau Argent : le niveau obtenu, … »).
fn shared_entry(chrome: &Chrome, e: &crate::presentations::Shared, held: &[&Value]) -> SharedEntry {
    SharedEntry {
        verifier: e.audience.clone().unwrap_or_else(|| {
            format!(
                "{} {}",
                chrome.t("shared.recruiters_of"),
                verifier_host(&e.response_uri)
            )
        }),
        when: carnet_service::web::moment(chrome.lang, e.at),
        credentials: e
            .credentials
            .iter()
            .map(|c| {
                let what = held
                    .iter()
                    .find(|v| v["id"].as_str() == Some(c.credential_id.as_str()))
                    .map(|v| CredentialCard::of(chrome.lang, v).said(chrome))
                    .unwrap_or_else(|| chrome.t("shared.deleted").to_owned());
                let fields: Vec<String> = c
                    .shared
                    .claims
                    .iter()
                    .map(|p| lowercase_first(&detail_label(chrome.lang, &pointer(p))))
                    .collect();
                match fields.is_empty() {
                    true => what,
                    false => format!(
                        "{what} — {} {}",
                        chrome.t("shared.fields"),
                        fields.join(", ")
                    ),
                }
            })
            .collect(),
    }
}

/// The host a verifier answers at, when nobody named it.
fn verifier_host(response_uri: &str) -> String {
    response_uri
        .split_once("://")
        .map_or(response_uri, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// « Niveau » as said within a sentence (« niveau »); an acronym (« SIRET ») stays.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    let acronym = text.chars().nth(1).is_some_and(char::is_uppercase);
    match chars.next() {
        Some(first) if !acronym => first.to_lowercase().chain(chars).collect(),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }
}
