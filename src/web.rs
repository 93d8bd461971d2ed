//! The landing page of the all-in-one process: French by default, English on request
//! (`?lang=en` or `Accept-Language`). Its strings live in [`CATALOG`], not in the markup.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use carnet_service::ServiceKind;
use carnet_service::i18n::{Catalog, Lang, escape};

/// Every string of the page, per language: (key, French, English).
const CATALOG: Catalog = &[
    ("lang", "fr", "en"),
    (
        "title",
        "Carnet — carnet de compétences vérifiables",
        "Carnet — verifiable competency logbook",
    ),
    (
        "tagline",
        "Des compétences validées par les centres de formation, signées, portées par chaque stagiaire, partagées avec son accord.",
        "Competencies validated by training centres, signed, carried by each trainee, shared with their consent.",
    ),
    (
        "issuer",
        "Espace centre de formation",
        "Training centre portal",
    ),
    (
        "issuer.desc",
        "Organisations, formations, sessions, évaluations et délivrance des attestations.",
        "Organisations, courses, sessions, evaluations and credential issuance.",
    ),
    ("wallet", "Mon carnet (stagiaire)", "My logbook (trainee)"),
    (
        "wallet.desc",
        "Vos attestations, votre historique de compétences et ce que vous partagez.",
        "Your credentials, your competency history and what you share.",
    ),
    ("verifier", "Espace recruteur", "Recruiter portal"),
    (
        "verifier.desc",
        "Recherche par compétence vérifiée, offres et échanges avec les candidats.",
        "Search by verified competency, offers and conversations with candidates.",
    ),
    ("api", "Documentation de l'API", "API documentation"),
    ("open", "Ouvrir", "Open"),
    ("switch", "English", "Français"),
    ("switch.href", "?lang=en", "?lang=fr"),
];

fn t(lang: Lang, key: &str) -> &'static str {
    lang.t(CATALOG, key)
}

pub fn landing(links: Vec<(ServiceKind, String)>) -> Router {
    Router::new().route(
        "/",
        get(move |lang: Lang| {
            let links = links.clone();
            async move {
                let cards: String = links
                    .iter()
                    .map(|(kind, url)| {
                        let name = kind.name();
                        let portal =
                            format!("<a href=\"{}\">{}</a> · ", escape(url), t(lang, "open"));
                        format!(
                            "<li><h2>{title}</h2><p>{desc}</p><p>{portal}<a href=\"{url}/api/docs/\">{api}</a></p></li>",
                            url = escape(url),
                            title = t(lang, name),
                            desc = t(lang, &format!("{name}.desc")),
                            api = t(lang, "api"),
                        )
                    })
                    .collect();
                let page = format!(
                    "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
                     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>\
                     <body><header><h1>{title}</h1><p>{tagline}</p><p><a href=\"{switch_href}\">{switch}</a></p></header>\
                     <main><ul>{cards}</ul></main></body></html>",
                    lang = t(lang, "lang"),
                    title = t(lang, "title"),
                    tagline = t(lang, "tagline"),
                    switch_href = t(lang, "switch.href"),
                    switch = t(lang, "switch"),
                );
                ([(header::CONTENT_LANGUAGE, t(lang, "lang"))], Html(page)).into_response()
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }
}
