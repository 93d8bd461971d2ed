//! The landing page of the all-in-one process: French by default, English on request
//! (`?lang=en` or `Accept-Language`). Its strings live in [`CATALOG`], not in the markup.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use carnet_service::ServiceKind;
use carnet_service::i18n::{Catalog, Lang, escape};

/// Every string of the page, per language: (key, French, English).
/// The landing page's texts, French and English.
pub const CATALOG: Catalog = &[
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
    ("wordmark", "Carnet", "Carnet"),
    ("issuer", "Centres de formation", "Training centres"),
    (
        "issuer.who",
        "Pour les formateurs, gestionnaires et directions de centre.",
        "For trainers, managers and heads of centres.",
    ),
    (
        "issuer.desc",
        "Sessions et calendrier, émargement par demi-journée, quiz, salons, évaluations par compétence ; chaque compétence validée devient une attestation signée remise au stagiaire.",
        "Sessions and calendar, attendance by half-day, quizzes, rooms, evaluations by competency; each validated competency becomes a signed credential handed to the trainee.",
    ),
    ("wallet", "Mon carnet", "My carnet"),
    (
        "wallet.who",
        "Pour les stagiaires, sur leur téléphone.",
        "For trainees, on their phone.",
    ),
    (
        "wallet.desc",
        "Toutes vos attestations, de centre en centre, chez vous ; vous choisissez ce que vous montrez aux recruteurs, offre par offre.",
        "All your credentials, from centre to centre, kept by you; you choose what recruiters see, offer by offer.",
    ),
    ("verifier", "Recruteurs", "Recruiters"),
    (
        "verifier.who",
        "Pour les entreprises, identifiées par leur SIRET.",
        "For companies, identified by their SIRET.",
    ),
    (
        "verifier.desc",
        "Cherchez des candidats par compétence vérifiée, envoyez offres et questionnaires ; leurs coordonnées arrivent quand ils acceptent.",
        "Search candidates by verified competency, send offers and quizzes; their details come when they accept.",
    ),
    ("api", "Documentation de l'API", "API documentation"),
    ("developers", "Développeurs :", "Developers:"),
    ("open", "Ouvrir", "Open"),
    ("switch", "English", "Français"),
    ("switch.other", "en", "fr"),
    ("switch.href", "?lang=en", "?lang=fr"),
];

fn t(lang: Lang, key: &str) -> &'static str {
    lang.t(CATALOG, key)
}

/// The icon of each portal on the landing page.
fn icon_of(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Issuer => "graduation",
        ServiceKind::Wallet => "wallet",
        ServiceKind::Verifier => "briefcase",
    }
}

/// `GET /`: the three portals presented to a visitor (with the shared stylesheet, served at
/// `/assets/` too), and the developers' links.
pub fn landing(links: Vec<(ServiceKind, String)>) -> Router {
    Router::new().merge(carnet_service::web::assets()).route(
        "/",
        get(move |lang: Lang| {
            let links = links.clone();
            async move {
                let icon = |name| carnet_service::web::icons::icon("", name);
                let cards: String = links
                    .iter()
                    .map(|(kind, url)| {
                        let name = kind.name();
                        format!(
                            "<article class=\"card portal\"><h2>{icon}{title}</h2><p class=\"muted\">{who}</p><p>{desc}</p>\
                             <p><a class=\"button\" href=\"{url}\">{open}</a></p></article>",
                            icon = icon(icon_of(*kind)),
                            url = escape(url),
                            title = t(lang, name),
                            who = t(lang, &format!("{name}.who")),
                            desc = t(lang, &format!("{name}.desc")),
                            open = t(lang, "open"),
                        )
                    })
                    .collect();
                let docs: Vec<String> = links
                    .iter()
                    .map(|(kind, url)| {
                        format!(
                            "<a href=\"{}/api/docs/\">{}</a>",
                            escape(url),
                            t(lang, kind.name())
                        )
                    })
                    .collect();
                let page = format!(
                    "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
                     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
                     <link rel=\"stylesheet\" href=\"/assets/carnet.css\"></head>\
                     <body><header class=\"top\"><a class=\"brand\" href=\"/\"><span class=\"mark\">{mark}</span><span class=\"word\">{wordmark}</span></a>\
                     <nav><a href=\"{switch_href}\" hreflang=\"{other}\" lang=\"{other}\">{switch}</a></nav></header>\
                     <main id=\"main\"><section class=\"hero\"><h1>{title}</h1><p>{tagline}</p></section>\
                     <div class=\"grid\">{cards}</div>\
                     <p class=\"muted gap\">{developers} {api} — {docs}</p></main></body></html>",
                    lang = t(lang, "lang"),
                    title = t(lang, "title"),
                    tagline = t(lang, "tagline"),
                    mark = icon("book"),
                    wordmark = t(lang, "wordmark"),
                    switch_href = t(lang, "switch.href"),
                    other = t(lang, "switch.other"),
                    switch = t(lang, "switch"),
                    developers = t(lang, "developers"),
                    api = t(lang, "api"),
                    docs = docs.join(" · "),
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
