//! The wallet's pages for people (the start of its portal): signing in or creating an account
//! (with the recovery code shown once), the carnet — one history per competency across
//! centres — and signing out. Server-rendered (askama), French by default, English on request;
//! forms carry the session's CSRF token.

use crate::WalletState;
use crate::carnet::{self, Carnet, claim_text as text};
use crate::credentials;
use crate::vault::{Holder, PageHolder};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use carnet_service::accounts::{self, Hooks};
use carnet_service::auth::session_cookie;
use carnet_service::error::ApiError;
use carnet_service::i18n::{Catalog, Lang};
use carnet_service::web::{Chrome, PageSession, render, see_other};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<WalletState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", post(sign_in))
        .route("/sign-up", post(sign_up))
        .route("/sign-out", post(sign_out))
        .route("/receive", post(receive))
        .route("/shared", get(shared))
}

const CATALOG: Catalog = &[
    ("brand", "Mon carnet", "My carnet"),
    (
        "sign_in.title",
        "Mon carnet de compétences",
        "My competency logbook",
    ),
    (
        "sign_in.intro",
        "Vos compétences validées par les centres de formation, signées, chez vous : vous choisissez ce que vous partagez.",
        "Your competencies, validated and signed by training centres, kept by you: you choose what you share.",
    ),
    ("sign_in.existing", "J'ai déjà un carnet", "I have a carnet"),
    ("sign_in.submit", "Se connecter", "Sign in"),
    (
        "sign_in.failed",
        "Adresse ou mot de passe incorrect.",
        "Wrong address or password.",
    ),
    ("sign_up.title", "Créer mon carnet", "Create my carnet"),
    (
        "sign_up.rule",
        "Au moins 10 caractères. Il chiffre votre carnet : nous ne pouvons pas le retrouver.",
        "At least 10 characters. It encrypts your carnet: we cannot recover it.",
    ),
    ("sign_up.submit", "Créer mon carnet", "Create my carnet"),
    (
        "sign_up.failed",
        "Impossible de créer ce carnet :",
        "This carnet cannot be created:",
    ),
    ("email", "Adresse e-mail", "E-mail address"),
    ("password", "Mot de passe", "Password"),
    ("name", "Nom et prénom", "Full name"),
    (
        "welcome.title",
        "Votre carnet est prêt",
        "Your carnet is ready",
    ),
    (
        "welcome.recovery",
        "Voici votre code de secours. Il ouvre votre carnet si vous oubliez votre mot de passe : notez-le et gardez-le en lieu sûr.",
        "Here is your recovery code. It opens your carnet if you forget your password: write it down and keep it safe.",
    ),
    ("welcome.code", "Code de secours", "Recovery code"),
    (
        "welcome.once",
        "Il ne sera plus affiché.",
        "It will not be shown again.",
    ),
    ("welcome.continue", "Ouvrir mon carnet", "Open my carnet"),
    (
        "carnet.title",
        "Mon carnet de compétences",
        "My competency logbook",
    ),
    ("carnet.print", "Version imprimable", "Printable version"),
    (
        "carnet.export",
        "Tout exporter (JSON)",
        "Export everything (JSON)",
    ),
    ("carnet.competencies", "Compétences", "Competencies"),
    (
        "carnet.empty",
        "Aucune compétence pour l'instant : quand un centre valide une compétence, il vous donne un lien ou un QR code à ajouter ici.",
        "No competency yet: when a centre validates one, it gives you a link or a QR code to add here.",
    ),
    ("carnet.code", "Code", "Code"),
    ("carnet.current", "Niveau actuel :", "Current level:"),
    ("carnet.none", "aucun niveau valide", "no valid level"),
    ("carnet.history", "Historique", "History"),
    ("carnet.level", "Niveau", "Level"),
    ("carnet.date", "Date", "Date"),
    ("carnet.evaluator", "Évaluateur", "Evaluator"),
    ("carnet.establishment", "Établissement", "Establishment"),
    ("carnet.status", "Statut", "Status"),
    (
        "carnet.completions",
        "Attestations de fin de formation",
        "Completion certificates",
    ),
    (
        "receive.title",
        "Ajouter une attestation",
        "Add a credential",
    ),
    (
        "receive.intro",
        "Collez le lien (openid-credential-offer://…) ou l'adresse que le centre vous a donnés, avec le code PIN s'il y en a un.",
        "Paste the link (openid-credential-offer://…) or the address the centre gave you, with the PIN if there is one.",
    ),
    ("receive.offer", "Lien de l'offre", "Offer link"),
    ("receive.pin", "Code PIN (s'il y en a un)", "PIN (if any)"),
    ("receive.submit", "Ajouter à mon carnet", "Add to my carnet"),
    (
        "receive.failed",
        "Cette attestation n'a pas pu être ajoutée :",
        "This credential could not be added:",
    ),
    ("carnet.shared", "Ce que j'ai partagé", "What I shared"),
    ("shared.title", "Ce que j'ai partagé", "What I shared"),
    (
        "shared.intro",
        "Chaque partage, avec qui et quand, et les informations transmises : votre carnet le note, avec le reçu de consentement signé envoyé au destinataire.",
        "Every time you shared, with whom and when, and what was sent: your carnet notes it, with the signed consent receipt sent along.",
    ),
    ("shared.back", "Retour au carnet", "Back to the carnet"),
    (
        "shared.empty",
        "Vous n'avez encore rien partagé.",
        "You have not shared anything yet.",
    ),
    ("shared.fields", "informations :", "details:"),
    ("valid", "valide", "valid"),
    ("revoked", "révoquée", "revoked"),
    ("suspended", "suspendue", "suspended"),
    ("unknown", "non vérifié", "not checked"),
];

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    error: String,
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    chrome: Chrome,
    recovery_code: String,
}

struct CompetencyCard {
    name: String,
    code: String,
    frameworks: String,
    current: String,
    entries: Vec<EntryRow>,
}

struct EntryRow {
    level: String,
    date: String,
    evaluator: String,
    establishment: String,
    status: String,
}

struct SharedEntry {
    verifier: String,
    when: String,
    credentials: Vec<String>,
}

#[derive(Template)]
#[template(path = "shared.html")]
struct SharedPage {
    chrome: Chrome,
    entries: Vec<SharedEntry>,
}

/// A claim path as people read it: `address › locality`, `*` for every element of a list.
fn readable(path: &carnet_core::path::ClaimPath) -> String {
    match path.to_json() {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Null => "*".to_owned(),
                other => text(other),
            })
            .collect::<Vec<_>>()
            .join(" › "),
        other => text(&other),
    }
}

/// What the holder shared, with whom and when.
async fn shared(
    State(state): State<WalletState>,
    lang: Lang,
    holder: Result<Holder, ApiError>,
) -> Result<Response, ApiError> {
    // Signed out: the home page, to sign in.
    let Ok(holder) = holder else {
        return Ok(see_other(&carnet_service::web::home(&state.ctx), None));
    };
    let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&holder.principal);
    let entries = crate::presentations::shared_log(&state, &holder)
        .await?
        .into_iter()
        .map(|e| {
            let (y, mo, d, h, mi, _) = carnet_service::clock::utc(e.at.div_euclid(1000));
            SharedEntry {
                // The verifier's address, without the client identifier's prefix.
                verifier: e
                    .client_id
                    .split_once(':')
                    .map_or(e.client_id.as_str(), |(_, rest)| rest)
                    .to_owned(),
                when: format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC"),
                credentials: e
                    .credentials
                    .iter()
                    .map(|c| {
                        let fields: Vec<String> = c.shared.claims.iter().map(readable).collect();
                        format!(
                            "{} ({}) — {} {}",
                            c.shared.vct,
                            c.shared.issuer,
                            chrome.t("shared.fields"),
                            fields.join(", ")
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(render(lang, SharedPage { chrome, entries }.render()))
}

#[derive(Template)]
#[template(path = "carnet.html")]
struct CarnetPage {
    chrome: Chrome,
    competencies: Vec<CompetencyCard>,
    completions: Vec<String>,
    error: String,
}

fn cards(carnet: &Carnet, chrome: &Chrome) -> (Vec<CompetencyCard>, Vec<String>) {
    let competencies = carnet
        .competencies
        .iter()
        .map(|c| CompetencyCard {
            name: c.name.clone(),
            code: c.code.clone(),
            frameworks: c
                .framework_codes
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{} {}", k.to_uppercase(), text(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            current: c.current.as_ref().map_or_else(
                || chrome.t("carnet.none").to_owned(),
                |e| text(&e.claims["level"]["label"]),
            ),
            entries: c
                .history
                .iter()
                .rev()
                .map(|e| EntryRow {
                    level: text(&e.claims["level"]["label"]),
                    date: text(&e.claims["validated_on"]),
                    evaluator: text(&e.claims["evaluator"]["name"]),
                    establishment: text(&e.claims["establishment"]["name"]),
                    status: e.status.clone(),
                })
                .collect(),
        })
        .collect();
    let completions = carnet
        .completions
        .iter()
        .map(|e| {
            let c = &e.claims;
            format!(
                "{} — {} ({} – {})",
                text(&c["formation"]["title"]),
                text(&c["establishment"]["name"]),
                text(&c["formation"]["starts_on"]),
                text(&c["formation"]["ends_on"]),
            )
        })
        .collect();
    (competencies, completions)
}

/// The carnet of the signed-in holder, or the page to sign in or create an account.
async fn home(
    State(state): State<WalletState>,
    lang: Lang,
    holder: Result<Holder, ApiError>,
) -> Response {
    let Ok(holder) = holder else {
        let chrome = Chrome::new(&state.ctx, lang, CATALOG);
        let page = SignInPage {
            chrome,
            error: String::new(),
        };
        return render(lang, page.render());
    };
    carnet_page(&state, lang, &holder, String::new()).await
}

/// The carnet page of a holder, with a message about the last form if any.
async fn carnet_page(state: &WalletState, lang: Lang, holder: &Holder, error: String) -> Response {
    let chrome = Chrome::new(&state.ctx, lang, CATALOG).signed_in_as(&holder.principal);
    match credentials::all(state, holder).await {
        Ok(all) => {
            let (competencies, completions) = cards(&carnet::build(&all), &chrome);
            let status = if error.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = CarnetPage {
                chrome,
                competencies,
                completions,
                error,
            };
            (status, render(lang, page.render())).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ReceiveForm {
    csrf: String,
    offer: String,
    #[serde(default)]
    tx_code: String,
}

/// Adds the credentials of a pasted offer to the carnet.
async fn receive(
    State(state): State<WalletState>,
    lang: Lang,
    holder: PageHolder,
    Form(form): Form<ReceiveForm>,
) -> Result<Response, ApiError> {
    let holder = holder.check(&form.csrf)?;
    let input = credentials::Receive {
        offer: form.offer.trim().to_owned(),
        tx_code: Some(form.tx_code).filter(|c| !c.trim().is_empty()),
        copies: None,
    };
    Ok(
        match credentials::receive_offer(&state, &holder, input).await {
            Ok(_) => see_other(&carnet_service::web::home(&state.ctx), None),
            Err(e) if e.status().is_client_error() || e.status() == StatusCode::BAD_GATEWAY => {
                let message = format!("{} {e}", lang.t(CATALOG, "receive.failed"));
                carnet_page(&state, lang, &holder, message).await
            }
            Err(e) => e.into_response(),
        },
    )
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
}

fn sign_in_again(state: &WalletState, lang: Lang, status: StatusCode, error: String) -> Response {
    let page = SignInPage {
        chrome: Chrome::new(&state.ctx, lang, CATALOG),
        error,
    };
    (status, render(lang, page.render())).into_response()
}

async fn sign_in(
    State(state): State<WalletState>,
    lang: Lang,
    hooks: Option<Extension<Hooks>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let hooks = hooks.map(|Extension(h)| h);
    match accounts::sign_in(&state.ctx, hooks.as_ref(), &form.email, &form.password).await {
        Ok(done) => see_other(
            &carnet_service::web::home(&state.ctx),
            Some(session_cookie(
                &state.ctx.config,
                Some(&done.session.secret),
            )),
        ),
        Err(ApiError::InvalidCredentials) => sign_in_again(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            lang.t(CATALOG, "sign_in.failed").to_owned(),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct SignUpForm {
    display_name: String,
    email: String,
    password: String,
}

async fn sign_up(
    State(state): State<WalletState>,
    lang: Lang,
    hooks: Option<Extension<Hooks>>,
    Form(form): Form<SignUpForm>,
) -> Response {
    let hooks = hooks.map(|Extension(h)| h);
    let done = accounts::sign_up(
        &state.ctx,
        hooks.as_ref(),
        &form.email,
        &form.password,
        &form.display_name,
    )
    .await;
    match done {
        Ok(done) => {
            let page = WelcomePage {
                chrome: Chrome::new(&state.ctx, lang, CATALOG)
                    .signed_in(&done.account.display_name, &done.session.csrf_token),
                recovery_code: done.recovery_code.unwrap_or_default(),
            };
            let mut response = render(lang, page.render());
            response.headers_mut().insert(
                axum::http::header::SET_COOKIE,
                session_cookie(&state.ctx.config, Some(&done.session.secret)),
            );
            (StatusCode::CREATED, response).into_response()
        }
        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(_))) => sign_in_again(
            &state,
            lang,
            e.status(),
            format!("{} {e}", lang.t(CATALOG, "sign_up.failed")),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct SignOutForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<WalletState>,
    session: PageSession,
    Form(form): Form<SignOutForm>,
) -> Result<Response, ApiError> {
    session.check(&form.csrf)?;
    accounts::sign_out(&state.ctx, &session.0).await?;
    Ok(see_other(
        &carnet_service::web::home(&state.ctx),
        Some(session_cookie(&state.ctx.config, None)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        carnet_service::i18n::assert_complete(CATALOG);
    }
}
