//! What every page of the portals shares: the stylesheet and the little script (served from
//! the service's own `assets/`, as the Content-Security-Policy allows no inline style or
//! script), and the document around a page's content, in the language asked.

use crate::Ctx;
use crate::accounts::{self, Hooks};
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::i18n::{Catalog, Lang, escape};
use axum::Router;
use axum::extract::{Form, FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use tower::ServiceExt;

mod addresses;
pub mod icons;
mod notifications;
pub mod refusals;

pub const STYLESHEET: &str = include_str!("../assets/carnet.css");
pub const SCRIPT: &str = include_str!("../assets/carnet.js");

/// `GET /assets/carnet.css`, `/assets/carnet.js` and `/assets/icons.svg`, for a service's
/// router.
pub fn assets<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let asset = |media: &'static str, body: &'static str| {
        get(move || async move {
            (
                [
                    (header::CONTENT_TYPE, media),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                body,
            )
        })
    };
    Router::new()
        .route(
            "/assets/carnet.css",
            asset("text/css; charset=utf-8", STYLESHEET),
        )
        .route(
            "/assets/carnet.js",
            asset("text/javascript; charset=utf-8", SCRIPT),
        )
        .route(
            "/assets/icons.svg",
            asset("image/svg+xml", icons::SPRITE.as_str()),
        )
}

/// A whole page: `content` (HTML, already escaped) in the shared document, linking the
/// stylesheet and script of the service at `base` (its path prefix).
pub fn document(lang: Lang, base: &str, title: &str, content: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"{base}/assets/carnet.css\">\
         <script src=\"{base}/assets/carnet.js\" defer></script></head>\
         <body><main id=\"main\">{content}</main></body></html>",
        lang = lang.code(),
        title = escape(title),
        base = escape(base),
    )
}

/// [`document`] as a response, with its language, not to be stored by caches.
pub fn page(lang: Lang, base: &str, title: &str, content: &str) -> Response {
    (
        [
            (header::CONTENT_LANGUAGE, lang.code()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(document(lang, base, title, content)),
    )
        .into_response()
}

/// The strings of the layout every portal shares (`templates/layout.html`).
const COMMON: Catalog = &[
    ("editor.question", "Question", "Question"),
    ("editor.prompt", "Énoncé", "Question text"),
    ("editor.points", "Points", "Points"),
    (
        "editor.options",
        "Réponses proposées : cochez la ou les bonnes. Sans proposition, la réponse est libre.",
        "Options: tick the right one or ones. Without options, the answer is free.",
    ),
    ("editor.right", "bonne réponse", "right answer"),
    ("editor.option", "Réponse proposée", "Option"),
    ("editor.add_option", "Ajouter une réponse", "Add an option"),
    (
        "editor.accepted",
        "Réponse libre : réponses acceptées d'office, une par ligne (aucune : notée à la main)",
        "Free answer: answers accepted at once, one per line (none: graded by hand)",
    ),
    (
        "editor.add_question",
        "Ajouter une question",
        "Add a question",
    ),
    (
        "editor.import",
        "Ou importer des questions écrites en texte",
        "Or import questions written as text",
    ),
    ("skip", "Aller au contenu", "Skip to content"),
    ("flash.done", "C'est fait.", "Done."),
    ("flash.created", "C'est enregistré.", "Saved."),
    ("flash.saved", "Modification enregistrée.", "Change saved."),
    ("flash.deleted", "C'est supprimé.", "Deleted."),
    (
        "unverified",
        "Votre adresse e-mail n'est pas encore confirmée : vos invitations et vos attestations attendent.",
        "Your e-mail address is not confirmed yet: your invitations and credentials are waiting.",
    ),
    ("unverified.go", "La confirmer", "Confirm it"),
    ("outbox.title", "Courriers envoyés", "Mail sent"),
    (
        "outbox.kept",
        "gardé ici (pas de serveur d'envoi)",
        "kept here (no mail server)",
    ),
    ("outbox.sent", "envoyé", "sent"),
    ("outbox.waiting", "en attente d'envoi", "waiting to be sent"),
    ("outbox.failed", "nouvel essai prévu", "to be tried again"),
    (
        "outbox.intro_kept",
        "Aucun serveur d'envoi n'est configuré (CARNET_SMTP_URL) : les courriers restent ici, où vous pouvez les lire.",
        "No mail server is configured (CARNET_SMTP_URL): messages stay here, where you can read them.",
    ),
    (
        "outbox.intro_smtp",
        "Les 200 derniers courriers de ce service et leur envoi.",
        "This service's last 200 messages and their sending.",
    ),
    (
        "outbox.none",
        "Aucun courrier pour l'instant.",
        "No message yet.",
    ),
    ("outbox.to", "À", "To"),
    ("month.1", "janvier", "January"),
    ("month.2", "février", "February"),
    ("month.3", "mars", "March"),
    ("month.4", "avril", "April"),
    ("month.5", "mai", "May"),
    ("month.6", "juin", "June"),
    ("month.7", "juillet", "July"),
    ("month.8", "août", "August"),
    ("month.9", "septembre", "September"),
    ("month.10", "octobre", "October"),
    ("month.11", "novembre", "November"),
    ("month.12", "décembre", "December"),
    ("month.short.1", "janv.", "Jan"),
    ("month.short.2", "févr.", "Feb"),
    ("month.short.3", "mars", "Mar"),
    ("month.short.4", "avr.", "Apr"),
    ("month.short.5", "mai", "May"),
    ("month.short.6", "juin", "Jun"),
    ("month.short.7", "juil.", "Jul"),
    ("month.short.8", "août", "Aug"),
    ("month.short.9", "sept.", "Sep"),
    ("month.short.10", "oct.", "Oct"),
    ("month.short.11", "nov.", "Nov"),
    ("month.short.12", "déc.", "Dec"),
    ("available", "disponible", "available"),
    ("available_from", "à partir du", "from"),
    ("nav", "Navigation", "Navigation"),
    ("sign_out", "Se déconnecter", "Sign out"),
    ("switch", "English", "Français"),
    ("switch.lang", "en", "fr"),
    ("brand", "Carnet", "Carnet"),
    ("wordmark", "Carnet", "Carnet"),
    ("at", "à", "at"),
    (
        "problem.words",
        "Les mots exacts du service (en anglais)",
        "The service's exact words",
    ),
    (
        "failure.title",
        "Rien n'a été enregistré :",
        "Nothing was saved:",
    ),
    (
        "failure.generic",
        "une information n'est pas acceptée ; corrigez le champ signalé, puis renvoyez le formulaire.",
        "a detail is not accepted; correct the field shown, then send the form again.",
    ),
    ("period.from", "du", "from"),
    ("period.to", "au", "to"),
    ("contract.cdi", "CDI", "Permanent (CDI)"),
    ("contract.cdd", "CDD", "Fixed-term (CDD)"),
    ("contract.alternance", "Alternance", "Work-study"),
    ("contract.stage", "Stage", "Internship"),
    ("contract.interim", "Intérim", "Temporary work"),
    ("contract.freelance", "Indépendant", "Freelance"),
    (
        "problem.title",
        "Votre demande n'a pas abouti",
        "Your request did not go through",
    ),
    (
        "problem.internal",
        "Une erreur inattendue s'est produite ; réessayez dans un instant.",
        "Something unexpected went wrong; try again in a moment.",
    ),
    (
        "problem.invalid",
        "Une information du formulaire n'est pas acceptée :",
        "A detail of the form is not accepted:",
    ),
    (
        "problem.conflict",
        "Cela contredit ce qui existe déjà :",
        "This conflicts with what exists already:",
    ),
    (
        "problem.upstream",
        "Le service distant (centre ou plateforme) a répondu :",
        "The other service (centre or platform) answered:",
    ),
    (
        "problem.unsupported-media-type",
        "Ce type de fichier n'est pas accepté :",
        "This kind of file is not accepted:",
    ),
    (
        "problem.explained",
        "Le service a répondu :",
        "The service answered:",
    ),
    (
        "problem.forbidden",
        "Vous n'avez pas le droit de faire cela ici.",
        "You may not do this here.",
    ),
    (
        "problem.not-found",
        "Cette page ou cet élément n'existe pas (ou plus), ou ne vous est pas accessible.",
        "This page or item does not exist (any more), or is not yours to see.",
    ),
    (
        "problem.csrf",
        "La page a expiré : rechargez-la, puis recommencez.",
        "The page has expired: reload it, then try again.",
    ),
    (
        "problem.payload-too-large",
        "C'est trop volumineux.",
        "This is too large.",
    ),
    (
        "problem.rate-limited",
        "Trop de tentatives : patientez un peu avant de réessayer.",
        "Too many attempts: wait a while before trying again.",
    ),
    (
        "problem.unavailable",
        "Le service est momentanément indisponible.",
        "The service is unavailable for a moment.",
    ),
    (
        "problem.method-not-allowed",
        "Cette action n'existe pas ici.",
        "There is no such action here.",
    ),
    (
        "problem.idempotency-key-reused",
        "Cette demande a déjà été envoyée autrement.",
        "This request was already sent differently.",
    ),
    (
        "problem.idempotency-in-progress",
        "Cette demande est encore en cours.",
        "This request is still being processed.",
    ),
    (
        "problem.invalid-credentials",
        "Adresse ou mot de passe incorrect.",
        "Wrong address or password.",
    ),
    (
        "problem.unauthenticated",
        "Connectez-vous d'abord.",
        "Sign in first.",
    ),
    ("problem.back", "Revenir à la page", "Back to the page"),
    ("sign_in.title", "Se connecter", "Sign in"),
    (
        "sign_in.existing",
        "J'ai déjà un compte",
        "I have an account",
    ),
    ("sign_in.submit", "Se connecter", "Sign in"),
    (
        "sign_in.failed",
        "Adresse ou mot de passe incorrect.",
        "Wrong address or password.",
    ),
    (
        "sign_in.expired",
        "Ce formulaire a expiré ou ne vient pas de ce site. Merci de réessayer.",
        "This form has expired or does not come from this site. Please try again.",
    ),
    (
        "sign_in.throttled",
        "Trop d'essais pour cette adresse. Patientez un peu avant de réessayer.",
        "Too many attempts for this address. Please wait a little before trying again.",
    ),
    (
        "sign_in.busy",
        "Le service est très sollicité en ce moment. Réessayez dans quelques secondes.",
        "The service is very busy right now. Please try again in a few seconds.",
    ),
    ("sign_up.title", "Créer un compte", "Create an account"),
    (
        "sign_up.rule",
        "Au moins 10 caractères.",
        "At least 10 characters.",
    ),
    ("sign_up.submit", "Créer mon compte", "Create my account"),
    (
        "sign_up.failed",
        "Impossible de créer ce compte :",
        "This account cannot be created:",
    ),
    ("email", "Adresse e-mail", "E-mail address"),
    ("password", "Mot de passe", "Password"),
    ("name", "Nom et prénom", "Full name"),
    ("quizzes.answer", "Votre réponse", "Your answer"),
    ("quiz.right", "bonne réponse", "right answer"),
    ("quiz.accepted", "Réponses acceptées :", "Accepted answers:"),
    ("quiz.by_hand", "noté à la main", "graded by hand"),
    ("quiz.pt", "pt", "pt"),
    ("quiz.score", "Score", "Score"),
    ("quiz.answer", "Réponse", "Answer"),
    ("quiz.q", "questions", "questions"),
    (
        "quiz.example",
        "Gaz de protection du TIG ? [2]\n* Argon\n- CO2\n\nPourquoi ce poste ? [3]",
        "Shielding gas for TIG? [2]\n* Argon\n- CO2\n\nWhy this job? [3]",
    ),
    ("welcome.title", "Bienvenue", "Welcome"),
    (
        "welcome.recovery",
        "Voici votre code de secours : notez-le et gardez-le en lieu sûr.",
        "Here is your recovery code: write it down and keep it safe.",
    ),
    ("welcome.code", "Code de secours", "Recovery code"),
    (
        "welcome.once",
        "Il ne sera plus affiché.",
        "It will not be shown again.",
    ),
    ("welcome.continue", "Continuer", "Continue"),
];

/// The texts every portal shares (the layout's, the address and notification pages'), for
/// checks across catalogs.
pub fn shared_catalogs() -> [Catalog; 4] {
    [
        COMMON,
        addresses::CATALOG,
        notifications::CATALOG,
        refusals::CATALOG,
    ]
}

/// A form the API refused, said on the page it was sent from (the `/do/` bridge leads back
/// there): the refusal beside its field in the page's words, and what was typed, put back by
/// the script (every value but passwords).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// The form's action, `<prefix>/do/api/v1/…`: how the script finds the form.
    pub action: String,
    /// The input refused, as the API names it, when it says.
    #[serde(default)]
    pub field: Option<String>,
    /// The service's words, read through `refusals` (never shown as such on a French page).
    pub detail: String,
    #[serde(default)]
    pub values: Vec<(String, String)>,
}

impl Failure {
    /// The values as JSON, for the script.
    pub fn values_json(&self) -> String {
        serde_json::to_string(&self.values).unwrap_or_default()
    }
}

/// What the layout shows around a page: the language and the service's texts (its own
/// catalog, then the common one), where the service is, and who is signed in.
pub struct Chrome {
    pub lang: Lang,
    catalog: Catalog,
    /// The strings of a page every portal has (`addresses`), after the service's own.
    shared: Catalog,
    /// The service's path prefix (`/wallet`), and its home page (`/wallet`, or `/`).
    pub base: String,
    pub home: String,
    /// The signed-in person's name; empty when nobody is.
    pub user: String,
    /// Their session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// Whether they have yet to confirm their address: every page says so, with the way.
    pub unverified: bool,
    /// Their notifications not read yet, beside the link to them.
    pub unread: i64,
    /// A platform administrator: the link to the mail sent.
    pub platform_admin: bool,
    /// The catalog key of what the visitor's last action did, said once.
    pub flash: Option<String>,
    /// The form of this page the API just refused, said once.
    pub failure: Option<Failure>,
}

impl Chrome {
    /// For a page nobody is signed in on (yet).
    pub fn new(ctx: &Ctx, lang: Lang, catalog: Catalog) -> Chrome {
        Chrome {
            lang,
            catalog,
            shared: &[],
            base: ctx.config.path_prefix().to_owned(),
            home: home(ctx),
            user: String::new(),
            // Forms of a page nobody is signed in on carry the visitor's form token.
            csrf: FORM_TOKEN.try_with(Clone::clone).unwrap_or_default(),
            unverified: false,
            unread: 0,
            platform_admin: false,
            flash: FLASH.try_with(Clone::clone).ok().flatten(),
            failure: FAILED.try_with(Clone::clone).ok().flatten(),
        }
    }

    /// Signed in as `name`, whose session has this CSRF token.
    pub fn signed_in(mut self, name: &str, csrf: &str) -> Chrome {
        self.user = name.to_owned();
        self.csrf = csrf.to_owned();
        self
    }

    /// Signed in as `principal` (by a session cookie).
    pub fn signed_in_as(self, principal: &Principal) -> Chrome {
        match &principal.method {
            auth::AuthMethod::Session { csrf_token, .. } => {
                let csrf = csrf_token.clone();
                let mut chrome = self.signed_in(&principal.display_name, &csrf);
                chrome.unverified = !principal.email_verified;
                chrome.unread = principal.unread;
                chrome.platform_admin = principal.platform_admin;
                chrome
            }
            _ => self,
        }
    }

    /// What the last action did, in the page's language (its form's words, or the generic
    /// ones).
    pub fn flash_text(&self) -> &'static str {
        match self.flash.as_deref().map(|k| self.t(k)) {
            Some("") => self.t("flash.done"),
            Some(text) => text,
            None => "",
        }
    }

    /// Why the form was refused, in the page's language: the service's words when the
    /// refusals catalog has them, else in general terms.
    pub fn failure_text(&self) -> String {
        let said = self
            .failure
            .as_ref()
            .and_then(|f| refusals::say(self.lang, &f.detail));
        said.unwrap_or_else(|| self.t("failure.generic").to_owned())
    }

    /// With the strings of a page every portal has, after the service's own.
    pub fn sharing(mut self, shared: Catalog) -> Chrome {
        self.shared = shared;
        self
    }

    /// A date (`YYYY-MM-DD`) as people write it (« 1er décembre 2026 »).
    pub fn date(&self, iso: &str) -> String {
        date(self.lang, iso)
    }

    /// The day of a time in milliseconds, as people write it.
    pub fn date_of(&self, ms: i64) -> String {
        date_of(self.lang, ms)
    }

    /// « 5 janv. ».
    pub fn short_date(&self, iso: &str) -> String {
        short_date(self.lang, iso)
    }

    /// A wall-clock moment (`YYYY-MM-DDTHH:MM`) as people read it: « 15 janvier 2027 à 08:00 ».
    pub fn wall_clock(&self, local: &str) -> String {
        wall_clock(self.lang, local)
    }

    /// « du 5 janvier au 26 juin 2026 ».
    pub fn period(&self, from: &str, to: &str) -> String {
        period(self.lang, from, to)
    }

    /// The contract types people pick from, by code, in the order they are offered.
    pub fn contracts(&self) -> [&'static str; 6] {
        carnet_core::availability::Contract::ALL.map(|c| c.as_str())
    }

    /// A contract type's name (« Alternance »), its code when the catalog has none.
    pub fn contract(&self, code: &str) -> String {
        match self.t(&format!("contract.{code}")) {
            "" => code.to_uppercase(),
            name => name.to_owned(),
        }
    }

    /// Contract types' names, separated by commas.
    pub fn contract_list(&self, codes: &[String]) -> String {
        codes
            .iter()
            .map(|c| self.contract(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The regions of France people pick from: INSEE code and name.
    pub fn regions(&self) -> &'static [(&'static str, &'static str)] {
        &carnet_core::availability::REGIONS
    }

    /// Regions' names, separated by commas (a code Carnet does not know, as given).
    pub fn region_list(&self, codes: &[String]) -> String {
        let name = |code: &String| {
            self.regions()
                .iter()
                .find(|(c, _)| c == code)
                .map_or(code.clone(), |(_, n)| (*n).to_owned())
        };
        codes.iter().map(name).collect::<Vec<_>>().join(", ")
    }

    /// The icon `name` (see `web/icons.rs`), as markup for the template (`|safe`).
    pub fn icon(&self, name: &str) -> String {
        icons::icon(&self.base, name)
    }

    /// The text of `key` in the page's language: the service's, the shared page's, the
    /// layout's.
    pub fn t(&self, key: &str) -> &'static str {
        [self.catalog, self.shared, COMMON, notifications::CATALOG]
            .into_iter()
            .map(|c| self.lang.t(c, key))
            .find(|t| !t.is_empty())
            .unwrap_or("")
    }
}

/// A service's home page: its path prefix (a nested router's `/` answers there), or `/`.
pub fn home(ctx: &Ctx) -> String {
    match ctx.config.path_prefix() {
        "" => "/".to_owned(),
        prefix => prefix.to_owned(),
    }
}

/// A rendered template as a page response, in its language, not to be stored by caches.
pub fn render(lang: Lang, rendered: Result<String, impl std::fmt::Display>) -> Response {
    match rendered {
        Ok(html) => (
            [
                (header::CONTENT_LANGUAGE, lang.code()),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// `303 See Other` to `location`, optionally setting a cookie (after a form).
pub fn see_other(location: &str, cookie: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The service's own JSON API, as its pages call it: a page is a view of what the API answers
/// the person signed in (same authorisation, validation and audit), and a form is an API call
/// carrying the session cookie and the form's CSRF token. Installed by `http::service_router`.
#[derive(Clone)]
pub struct ApiRouter(pub Router);

/// What the API answered instead of a success: its status and its problem's text.
#[derive(Debug)]
pub struct Problem {
    /// The problem's kind (`invalid`, `forbidden`… of `urn:carnet:problem:<kind>`), if known.
    pub kind: String,
    pub status: StatusCode,
    pub detail: String,
    /// The input it is about, as the API names it (`ends_on`), when it says.
    pub field: Option<String>,
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Problem {
        Problem {
            kind: e.kind().to_owned(),
            status: e.status(),
            detail: e.to_string(),
            field: None,
        }
    }
}

impl Problem {
    pub fn not_found() -> Problem {
        Problem {
            kind: "not-found".to_owned(),
            status: StatusCode::NOT_FOUND,
            detail: ApiError::NotFound.to_string(),
            field: None,
        }
    }

    /// A form that cannot be what the API takes, and why.
    pub fn invalid(detail: String) -> Problem {
        Problem {
            kind: "invalid".to_owned(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail,
            field: None,
        }
    }
}

/// A form's field that cannot be what the API takes, and why.
impl From<FormError> for Problem {
    fn from(e: FormError) -> Problem {
        Problem {
            field: Some(e.field),
            ..Problem::invalid(e.detail)
        }
    }
}

/// The file of a page's multipart form.
pub struct Upload {
    pub filename: String,
    /// Its media type as the browser declared it (`application/octet-stream` without one).
    pub media: String,
    pub bytes: Vec<u8>,
}

/// A page's multipart form (one with a file): its text fields, and field `file` when it holds
/// a file, of at most `max` bytes. Only for someone signed in (`_reader`: the caller has
/// extracted the session before the body), so nobody uploads megabytes to be turned away after.
pub async fn multipart_form(
    _reader: &PageSession,
    mut form: axum::extract::Multipart,
    file: &str,
    max: usize,
) -> Result<(Vec<(String, String)>, Option<Upload>), Problem> {
    let broken = |e: axum::extract::multipart::MultipartError| Problem {
        kind: String::new(),
        status: e.status(),
        detail: e.body_text(),
        field: None,
    };
    let (mut fields, mut upload) = (Vec::new(), None);
    while let Some(field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().unwrap_or_default().to_owned();
        let media = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = field.bytes().await.map_err(broken)?;
        if name != file {
            fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        } else if bytes.len() > max {
            return Err(Problem {
                kind: "payload-too-large".to_owned(),
                status: StatusCode::PAYLOAD_TOO_LARGE,
                detail: ApiError::PayloadTooLarge.to_string(),
                field: None,
            });
        } else if !bytes.is_empty() {
            upload = Some(Upload {
                filename,
                media,
                bytes: bytes.to_vec(),
            });
        }
    }
    Ok((fields, upload))
}

/// The value of field `name` of a form, or empty.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `YYYY-MM-DD` of a time in milliseconds, as pages show dates.
pub fn day(ms: i64) -> String {
    let (y, m, d, ..) = crate::clock::utc(ms.div_euclid(1000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A date (`YYYY-MM-DD`) as people say it: « 3 mars » (« 1er mars »), the year only when it is
/// not `today`'s; in English « 3 March ». The text itself when it is not such a date.
pub fn spoken_date(lang: Lang, date: &str, today: &str) -> String {
    let parts: Vec<u32> = date.split('-').filter_map(|p| p.parse().ok()).collect();
    let [year, month, day] = parts[..] else {
        return date.to_owned();
    };
    let name = lang.t(COMMON, &format!("month.{month}"));
    if name.is_empty() || !(1..=31).contains(&day) {
        return date.to_owned();
    }
    let day = match (lang, day) {
        (Lang::Fr, 1) => "1er".to_owned(),
        (_, d) => d.to_string(),
    };
    let same_year = today.get(..4) == date.get(..4);
    match same_year {
        true => format!("{day} {name}"),
        false => format!("{day} {name} {year}"),
    }
}

/// A date (`YYYY-MM-DD`) as people write it, with its year: « 1er décembre 2026 ».
pub fn date(lang: Lang, iso: &str) -> String {
    spoken_date(lang, iso, "")
}

/// The day of a time in milliseconds (UTC), as people write it: « 1er décembre 2026 ».
pub fn date_of(lang: Lang, ms: i64) -> String {
    date(lang, &day(ms))
}

/// A date (`YYYY-MM-DD`) in few letters, without its year: « 5 janv. », « 5 Jan ».
pub fn short_date(lang: Lang, iso: &str) -> String {
    let parts: Vec<u32> = iso.split('-').filter_map(|p| p.parse().ok()).collect();
    match parts[..] {
        [_, month, day] if (1..=12).contains(&month) => {
            format!("{day} {}", lang.t(COMMON, &format!("month.short.{month}")))
        }
        _ => iso.to_owned(),
    }
}

/// « du 5 janvier au 26 juin 2026 » (the first year said only when it differs).
pub fn period(lang: Lang, from: &str, to: &str) -> String {
    let start = spoken_date(lang, from, to);
    let end = date(lang, to);
    let word = |key| lang.t(COMMON, key);
    format!(
        "{} {start} {} {end}",
        word("period.from"),
        word("period.to")
    )
}

/// When someone is available, as they would say it: « disponible » (from a date past, or none
/// given), else « à partir du 3 mars ».
pub fn availability(lang: Lang, available_from: Option<&str>, today: &str) -> String {
    match available_from {
        Some(date) if date > today => format!(
            "{} {}",
            lang.t(COMMON, "available_from"),
            spoken_date(lang, date, today)
        ),
        _ => lang.t(COMMON, "available").to_owned(),
    }
}

/// A moment as people read it, on Paris's clock: « 3 décembre 2026 à 09:37 », « 3 December
/// 2026 at 09:37 ».
pub fn moment(lang: Lang, ms: i64) -> String {
    wall_clock(lang, &time(ms))
}

/// A wall-clock moment (`YYYY-MM-DDTHH:MM`, or with a space) as people read it: « 15 janvier
/// 2027 à 08:00 ».
pub fn wall_clock(lang: Lang, local: &str) -> String {
    let (day, clock) = local.split_once(['T', ' ']).unwrap_or((local, ""));
    match clock {
        "" => date(lang, day),
        clock => format!("{} {} {clock}", date(lang, day), lang.t(COMMON, "at")),
    }
}

/// [`moment`] on the wall clock of `zone` (a session's).
pub fn local_moment(lang: Lang, ms: i64, zone: &str) -> String {
    wall_clock(lang, &local_time(ms, zone))
}

/// `YYYY-MM-DD HH:MM` of a time in milliseconds on the wall clock of metropolitan France, as
/// pages outside a session compute moments (a session's pages use its own zone, [`local_time`]).
pub fn time(ms: i64) -> String {
    local_time(ms, "Europe/Paris")
}

/// `YYYY-MM-DD HH:MM` of a time in milliseconds on the wall clock of `zone` (an IANA name Carnet
/// knows; Paris otherwise), as a session's pages show moments.
pub fn local_time(ms: i64, zone: &str) -> String {
    use carnet_core::calendar::Zone;
    let local = Zone::parse(zone)
        .unwrap_or(Zone::Paris)
        .local(ms.div_euclid(1000));
    format!("{} {}", local.date(), local.time())
}

/// The API on behalf of the request's caller (their session cookie).
pub struct Backend {
    api: Router,
    /// The caller's headers the API reads ([`CARRIED_HEADERS`]).
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// What the layers around the service put on the request for the API ([`carried`]).
    extensions: axum::http::Extensions,
}

/// The headers of the page's request the API call carries: the caller's cookies (their
/// session), language, request id (audit rows name the page's request) and the addresses a
/// proxy says it forwarded for (per-address limits).
const CARRIED_HEADERS: &[&str] = &[
    "cookie",
    "accept-language",
    "x-request-id",
    "x-forwarded-for",
    "forwarded",
];

/// The request extensions an in-process API call carries: those the layers around a
/// service's router insert for its API (the service's account hooks, [`Hooks`], by which the
/// wallet wraps its store with the password; the request id; the peer's address), and
/// nothing else. Not the authorisation extractors cache on a request (`Principal`, a
/// tenant's `Access`): the API decides again for its own call.
fn carried(from: &axum::http::Extensions) -> axum::http::Extensions {
    let mut to = axum::http::Extensions::new();
    if let Some(hooks) = from.get::<Hooks>() {
        to.insert(hooks.clone());
    }
    if let Some(id) = from.get::<tower_http::request_id::RequestId>() {
        to.insert(id.clone());
    }
    if let Some(peer) = from.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() {
        to.insert(*peer);
    }
    // The client address the outer layer found (sign-in throttling counts by it).
    if let Some(client) = from.get::<crate::limits::ClientIp>() {
        to.insert(*client);
    }
    if let Some(no_replay) = from.get::<crate::http::NoReplay>() {
        to.insert(*no_replay);
    }
    to
}

impl<S: Send + Sync> FromRequestParts<S> for Backend {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let api = parts
            .extensions
            .get::<ApiRouter>()
            .ok_or_else(|| ApiError::internal("pages without their API"))?
            .0
            .clone();
        let headers = CARRIED_HEADERS
            .iter()
            .flat_map(|name| {
                parts
                    .headers
                    .get_all(*name)
                    .iter()
                    .map(|v| (header::HeaderName::from_static(name), v.clone()))
            })
            .collect();
        Ok(Backend {
            api,
            headers,
            extensions: carried(&parts.extensions),
        })
    }
}

impl Backend {
    /// `GET path` (`/api/v1/…`), read as `T`.
    pub async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, Problem> {
        let value = self.send(Method::GET, path, "", None).await?;
        serde_json::from_value(value).map_err(|e| Problem {
            kind: String::new(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: e.to_string(),
            field: None,
        })
    }

    /// `method path` with a JSON body (or none), the form's CSRF token as the header.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        csrf: &str,
        body: Option<Value>,
    ) -> Result<Value, Problem> {
        let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
        self.send(method, path, csrf, body).await
    }

    /// `method path` with a body of its media type; the answer as JSON (`null` when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        csrf: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Value, Problem> {
        Ok(self.exchange(method, path, csrf, body).await?.0)
    }

    /// [`Backend::send`], with the cookies the API set (a session begun or ended), for the
    /// page to pass on.
    pub async fn exchange(
        &self,
        method: Method,
        path: &str,
        csrf: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(Value, Vec<HeaderValue>), Problem> {
        let mut request = axum::http::Request::builder().method(method).uri(path);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(extensions) = request.extensions_mut() {
            extensions.extend(self.extensions.clone());
        }
        if !csrf.is_empty() {
            request = request.header(auth::CSRF_HEADER, csrf);
        }
        let request = match body {
            Some((media, bytes)) => request
                .header(header::CONTENT_TYPE, media)
                .body(axum::body::Body::from(bytes)),
            None => request.body(axum::body::Body::empty()),
        };
        let internal = |e: String| Problem {
            kind: String::new(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: e,
            field: None,
        };
        let request = request.map_err(|e| internal(e.to_string()))?;
        let response = self
            .api
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| internal(e.to_string()))?;
        let status = response.status();
        let cookies: Vec<HeaderValue> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| internal(e.to_string()))?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok((value, cookies));
        }
        let text = |k: &str| value[k].as_str().unwrap_or_default().to_owned();
        let detail = match (text("detail"), text("title")) {
            (d, _) if !d.is_empty() => d,
            (_, t) if !t.is_empty() => t,
            _ => status.to_string(),
        };
        let kind = text("type")
            .strip_prefix("urn:carnet:problem:")
            .unwrap_or_default()
            .to_owned();
        Err(Problem {
            kind,
            status,
            detail,
            field: value["field"].as_str().map(str::to_owned),
        })
    }
}

/// A field of a form that cannot become the API's JSON: which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: String,
    pub detail: String,
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

/// A form as the JSON body of an API call. Field names say where a value goes: `a.b` nests,
/// `a.0.b` goes in the first row of list `a`, a trailing `[]` appends to a list, `:int`, `:num`, `:bool`, `:json`, `:list` (items
/// between commas or on lines) and `:quiz` (questions as text) convert; an empty
/// value is left out (an optional field not filled). `csrf` and names starting with `_` are
/// the form's own and not sent. Fields `editor.…` are a quiz's questions in the form editor
/// (`templates/quiz_editor.html`, [`quiz_editor`]): they make `questions` unless the text
/// import gave them.
pub fn form_json(fields: &[(String, String)]) -> Result<Value, FormError> {
    let mut body = Value::Object(Default::default());
    for (name, raw) in fields {
        if name == "csrf"
            || name.starts_with('_')
            || name.starts_with("editor.")
            || raw.trim().is_empty()
        {
            continue;
        }
        let (name, kind) = name.split_once(':').unwrap_or((name, ""));
        let err = |detail: String| FormError {
            field: name.split('.').next().unwrap_or(name).to_owned(),
            detail,
        };
        let value = match kind {
            "" => Value::String(raw.clone()),
            "int" => raw
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| err(format!("{raw:?} is not a whole number")))?,
            "num" => raw
                .trim()
                .replace(',', ".")
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| err(format!("{raw:?} is not a number")))?,
            "bool" => Value::Bool(matches!(raw.as_str(), "on" | "true" | "1")),
            "json" => serde_json::from_str(raw).map_err(|e| err(e.to_string()))?,
            // A quiz's questions as a trainer types them (`carnet_core::quiz`).
            "quiz" => carnet_core::quiz::Quiz::questions_from_text(raw)
                .map_err(|e| err(e.to_string()))
                .and_then(|q| serde_json::to_value(q).map_err(|e| err(e.to_string())))?,
            // One item per line or between commas.
            "list" => Value::Array(
                raw.split([',', '\n'])
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(|i| Value::String(i.to_owned()))
                    .collect(),
            ),
            other => return Err(err(format!("unknown conversion {other}"))),
        };
        let (name, list) = match name.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (name, false),
        };
        let parts: Vec<&str> = name.split('.').collect();
        let mut at = &mut body;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            // What a missing step holds: a list before an index, else an object; the leaf
            // itself, at the end.
            let fresh = || match parts.get(i + 1) {
                _ if last && list => Value::Array(Vec::new()),
                _ if last => Value::Null,
                Some(next) if next.parse::<usize>().is_ok() => Value::Array(Vec::new()),
                _ => Value::Object(Default::default()),
            };
            at = match (at, part.parse::<usize>()) {
                (Value::Object(map), _) => map.entry(*part).or_insert_with(fresh),
                // Rows of a table (`marks.0.status`), at most a thousand.
                (Value::Array(items), Ok(index)) if index < 1000 => {
                    while items.len() <= index {
                        items.push(fresh());
                    }
                    &mut items[index]
                }
                _ => return Err(err("does not fit the other fields".to_owned())),
            };
        }
        match (at, list) {
            (Value::Array(items), true) => items.push(value),
            (slot @ Value::Null, false) => *slot = value,
            _ => {
                return Err(err(
                    "given twice, or does not fit the other fields".to_owned()
                ));
            }
        }
    }
    if let Some(questions) = quiz_editor(fields)?
        && let Value::Object(map) = &mut body
    {
        map.entry("questions").or_insert(questions);
    }
    Ok(body)
}

/// A quiz's questions from the form editor (`templates/quiz_editor.html`): per question `N`,
/// `editor.N.prompt`, `editor.N.points`, options `editor.N.option.M` each right when
/// `editor.N.right.M` is ticked, or `editor.N.accepted` (one accepted answer per line) for a
/// short answer; questions in the order of `N`, blank ones left out; `None` without such
/// fields. A question is read as [`carnet_core::quiz::Quiz::question`] reads it.
pub fn quiz_editor(fields: &[(String, String)]) -> Result<Option<Value>, FormError> {
    use std::collections::BTreeMap;
    #[derive(Default)]
    struct Draft {
        prompt: String,
        points: String,
        options: BTreeMap<usize, (String, bool)>,
        accepted: String,
    }
    let mut drafts: BTreeMap<usize, Draft> = BTreeMap::new();
    let err = |detail: String| FormError {
        field: "questions".to_owned(),
        detail,
    };
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix("editor.") else {
            continue;
        };
        let mut parts = rest.split('.');
        let (Some(Ok(n)), Some(what)) = (parts.next().map(str::parse::<usize>), parts.next())
        else {
            return Err(err(format!("{name}: not a field of the editor")));
        };
        let index = parts.next().map(str::parse::<usize>);
        if drafts.len() >= carnet_core::quiz::MAX_QUESTIONS && !drafts.contains_key(&n) {
            return Err(err(format!(
                "at most {} questions",
                carnet_core::quiz::MAX_QUESTIONS
            )));
        }
        let draft = drafts.entry(n).or_default();
        match (what, index) {
            ("prompt", None) => draft.prompt = value.trim().to_owned(),
            ("points", None) => draft.points = value.trim().to_owned(),
            ("accepted", None) => draft.accepted = value.clone(),
            ("option", Some(Ok(m))) if m < 1000 => {
                draft.options.entry(m).or_default().0 = value.trim().to_owned()
            }
            ("right", Some(Ok(m))) if m < 1000 => draft.options.entry(m).or_default().1 = true,
            _ => return Err(err(format!("{name}: not a field of the editor"))),
        }
    }
    if drafts.is_empty() {
        return Ok(None);
    }
    let mut questions = Vec::new();
    for (index, draft) in drafts {
        // The refusal goes beside the question's text.
        let err = |detail: String| FormError {
            field: format!("editor.{index}.prompt"),
            detail,
        };
        let options: Vec<(String, bool)> = draft
            .options
            .into_values()
            .filter(|(text, _)| !text.is_empty())
            .collect();
        let accepted: Vec<String> = draft
            .accepted
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        if draft.prompt.is_empty() && options.is_empty() && accepted.is_empty() {
            continue;
        }
        let n = questions.len() + 1;
        if draft.prompt.is_empty() {
            return Err(err(format!("question {n}: the question is missing")));
        }
        let points = match draft.points.as_str() {
            "" => 1,
            p => p
                .parse::<u32>()
                .map_err(|_| err(format!("question {n}: points as a whole number")))?,
        };
        let question =
            carnet_core::quiz::Quiz::question(n, &draft.prompt, points, options, accepted)
                .map_err(|e| err(e.to_string()))?;
        questions.push(question);
    }
    serde_json::to_value(questions)
        .map(Some)
        .map_err(|e| err(e.to_string()))
}

/// `POST /do/{*path}`: a form of a page as a call of the service's API at `/{path}`
/// (`api/v1/…`), its fields turned into JSON by [`form_json`], `_method` choosing PUT, PATCH or
/// DELETE, the action's query string passed on (`?issuer=…`). On success it leads to `_next`
/// (a path under the service; `{id}` is replaced by the id the API answered) or back to the
/// page; otherwise it shows the API's problem.
pub async fn act(
    State(ctx): State<Ctx>,
    lang: Lang,
    backend: Backend,
    Path(path): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| field(&fields, name);
    let base = ctx.config.path_prefix();
    // Back to the page of the form (a path under this service), or to the service's home.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .and_then(|path| local_page(&ctx, path));
    let from_page = back.is_some();
    let back = back.unwrap_or_else(|| home(&ctx));
    let problem = |p: Problem| problem_page(&ctx, lang, p, &back);
    if !path.starts_with("api/v1/") {
        return problem(Problem::not_found());
    }
    // The form's token: the session's CSRF token, or for a visitor not signed in (a lost
    // password, an account to create) their form token, so no other site can post it.
    let token_ok = match auth::cookie_session(&ctx, &headers, None).await {
        Ok(principal) => auth::check_csrf(&principal, field("csrf")),
        Err(_) => form_token_ok(&ctx, &headers, field("csrf")),
    };
    if !token_ok {
        return problem(ApiError::Csrf.into());
    }
    let method = match field("_method") {
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => Method::POST,
    };
    let target = match &query {
        Some(q) if !q.is_empty() => format!("/{path}?{q}"),
        _ => format!("/{path}"),
    };
    // A form that cannot become the API's JSON is refused as the API refuses.
    let outcome = match form_json(&fields) {
        Ok(body) => {
            // A DELETE carries a body only when the form has fields (a password to confirm).
            let empty = body.as_object().is_some_and(|m| m.is_empty());
            let body = (method != Method::DELETE || !empty)
                .then(|| ("application/json", body.to_string().into_bytes()));
            backend
                .exchange(method.clone(), &target, field("csrf"), body)
                .await
        }
        Err(e) => Err(Problem::from(e)),
    };
    match outcome {
        Ok((answer, cookies)) => {
            // `_next` is a path of the service, without its prefix.
            let id = answer["id"].as_str().unwrap_or_default();
            let location = match field("_next").replace("{id}", id).as_str() {
                "/" => Some(home(&ctx)),
                next if next.starts_with('/') => local_page(&ctx, &format!("{base}{next}")),
                _ => None,
            }
            .unwrap_or(back);
            // A recovery code (a wallet's account made or first opened through a form) is
            // shown, once, before going on.
            let mut flash = None;
            let mut response = match answer["recovery_code"].as_str() {
                Some(code) => {
                    let page = WelcomePage {
                        chrome: Chrome::new(&ctx, lang, COMMON).signed_in(
                            answer["account"]["display_name"]
                                .as_str()
                                .unwrap_or_default(),
                            answer["csrf_token"].as_str().unwrap_or_default(),
                        ),
                        recovery_code: code.to_owned(),
                        next: location,
                    };
                    render(lang, askama::Template::render(&page))
                }
                None => {
                    // Said on the page it leads to: the form's own words (`_done`, a key of
                    // the catalogs), else what the method did.
                    let said = flash_key(field("_done")).unwrap_or(match method {
                        Method::DELETE => "flash.deleted",
                        Method::POST => "flash.created",
                        _ => "flash.saved",
                    });
                    flash = flash_cookie(&ctx, Some(said));
                    see_other(&location, None)
                }
            };
            // The API's cookies (a session) first, then what the action did.
            for cookie in cookies.into_iter().chain(flash) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        // Signed out meanwhile: to the sign-in. (A wrong password or code is shown.)
        Err(p) if p.kind == "unauthenticated" => see_other(&home(&ctx), None),
        // Refused input, from a page of ours: back to it, the refusal beside its field and
        // what was typed kept.
        Err(p) if refused_input(&p) && from_page => {
            let failure = Failure {
                action: match &query {
                    Some(q) if !q.is_empty() => format!("{base}/do/{path}?{q}"),
                    _ => format!("{base}/do/{path}"),
                },
                field: p.field,
                detail: p.detail.chars().take(300).collect(),
                values: fields
                    .iter()
                    .filter(|(k, _)| {
                        k != "csrf"
                            && !k.starts_with('_')
                            && !["password", "passphrase", "recovery", "secret"]
                                .iter()
                                .any(|secret| k.contains(secret))
                    })
                    .cloned()
                    .collect(),
            };
            let mut response = see_other(&back, None);
            if let Some(cookie) = failure_cookie(&ctx, &failure) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(p) => problem(p),
    }
}

/// A page whose API call failed: signed out, the sign-in page; otherwise the problem.
pub fn failed(ctx: &Ctx, lang: Lang, catalog: Catalog, problem: Problem) -> Response {
    if problem.status == StatusCode::UNAUTHORIZED {
        return sign_in_page(ctx, lang, catalog, StatusCode::OK, String::new(), "");
    }
    problem_page(ctx, lang, problem, &home(ctx))
}

#[derive(serde::Deserialize)]
struct OutboxEntry {
    kind: String,
    recipient: String,
    subject: String,
    text_body: String,
    created_at: i64,
    #[serde(default)]
    sent_at: Option<i64>,
    #[serde(default)]
    last_error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    /// When, to whom, what, its state, its text.
    mails: Vec<(String, String, String, &'static str, String, String)>,
    smtp: bool,
}

/// « Courriers envoyés »: the service's outbox, for the platform's administrators — where
/// the e-mail of a deployment without SMTP (the demo) is read.
async fn outbox_page(
    State(ctx): State<Ctx>,
    lang: Lang,
    SignedIn(session): SignedIn,
    api: Backend,
) -> Response {
    let view = async {
        let entries: Vec<OutboxEntry> = api.get("/api/v1/outbox").await?;
        let smtp = ctx.config.mail.smtp_url.is_some();
        let mails = entries
            .into_iter()
            .map(|m| {
                let state = match (&m.sent_at, &m.last_error, smtp) {
                    (Some(_), _, _) => "outbox.sent",
                    (None, Some(_), _) => "outbox.failed",
                    (None, None, true) => "outbox.waiting",
                    (None, None, false) => "outbox.kept",
                };
                (
                    moment(lang, m.created_at),
                    m.recipient,
                    m.subject,
                    state,
                    m.text_body,
                    format!("{} {}", m.kind, m.last_error.unwrap_or_default()),
                )
            })
            .collect();
        Ok(OutboxPage {
            chrome: Chrome::new(&ctx, lang, COMMON).signed_in_as(&session.0),
            mails,
            smtp,
        })
    };
    show(&ctx, lang, COMMON, view).await
}

#[derive(askama::Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    chrome: Chrome,
    /// What happened, in the page's language.
    intro: &'static str,
    /// The service's own words in the page's language, when they say more than `intro`.
    detail: String,
    /// Its words in English, when no French is known for them (folded, for whoever asks).
    original: String,
    back: String,
}

/// Problems whose catalog text says it all; the others add the service's words.
const SAID_ALL: &[&str] = &[
    "forbidden",
    "not-found",
    "csrf",
    "payload-too-large",
    "rate-limited",
    "unavailable",
    "method-not-allowed",
    "idempotency-key-reused",
    "idempotency-in-progress",
    "invalid-credentials",
    "unauthenticated",
    "internal",
];

/// The page saying a request did not go through, and why, with the way back.
pub fn problem_page(ctx: &Ctx, lang: Lang, problem: Problem, back: &str) -> Response {
    // A failed upstream (an issuer, a verifier) is the other party's answer, worth showing.
    let internal = problem.status.is_server_error() && problem.status != StatusCode::BAD_GATEWAY;
    let status = if internal {
        tracing::error!(detail = %problem.detail, "a page's API call failed");
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        problem.status
    };
    let kind = match (internal, problem.kind.as_str(), status) {
        (true, ..) => "internal",
        (_, "", StatusCode::NOT_FOUND) => "not-found",
        (_, "", StatusCode::FORBIDDEN) => "forbidden",
        (_, "", StatusCode::PAYLOAD_TOO_LARGE) => "payload-too-large",
        (_, "", StatusCode::UNSUPPORTED_MEDIA_TYPE) => "unsupported-media-type",
        (_, "", StatusCode::BAD_GATEWAY) => "upstream",
        (_, "", _) => "invalid",
        (_, kind, _) => kind,
    };
    let intro = match lang.t(COMMON, &format!("problem.{kind}")) {
        "" if status == StatusCode::BAD_GATEWAY => lang.t(COMMON, "problem.upstream"),
        "" => lang.t(COMMON, "problem.explained"),
        text => text,
    };
    let page = ProblemPage {
        chrome: Chrome::new(ctx, lang, COMMON),
        intro,
        detail: match SAID_ALL.contains(&kind) {
            true => String::new(),
            false => refusals::say(lang, &problem.detail).unwrap_or_default(),
        },
        original: match SAID_ALL.contains(&kind) || refusals::say(lang, &problem.detail).is_some() {
            true => String::new(),
            false => problem.detail,
        },
        back: back.to_owned(),
    };
    (status, render(lang, askama::Template::render(&page))).into_response()
}

#[derive(askama::Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    error: String,
    /// The page to go back to once signed in (a path under the service), or empty.
    next: String,
}

#[derive(askama::Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    chrome: Chrome,
    recovery_code: String,
    /// Where to go on from it.
    next: String,
}

/// A portal's page to sign in or create an account, in the texts of its catalog; once signed
/// in, the person goes on to `next` (a page of the service) or the portal's home.
pub fn sign_in_page(
    ctx: &Ctx,
    lang: Lang,
    catalog: Catalog,
    status: StatusCode,
    error: String,
    next: &str,
) -> Response {
    let page = SignInPage {
        chrome: Chrome::new(ctx, lang, catalog).sharing(addresses::CATALOG),
        error,
        next: local_page(ctx, next).unwrap_or_default(),
    };
    (status, render(lang, askama::Template::render(&page))).into_response()
}

/// The one check of every redirect target (`next` after signing in, a form's `_next`, the
/// page a form came from): `next` when it is a page of this service, a path under its
/// prefix, and nothing a browser could read as elsewhere: it starts with one `/` (not `//`
/// nor `/\`, another host; no empty segment anywhere in its path), has no backslash
/// (browsers read it as `/`) and no control character (browsers drop tabs and line breaks
/// from a URL, so `/\t/evil.example` would become `//evil.example`).
pub fn local_page(ctx: &Ctx, next: &str) -> Option<String> {
    let base = ctx.config.path_prefix();
    let rest = next.strip_prefix(base)?;
    let path = next.split_once('?').map_or(next, |(path, _)| path);
    let ours = (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        && next.starts_with('/')
        && !path.contains("//")
        && !next.contains('\\')
        && next.len() <= 2000
        && !next.chars().any(char::is_control);
    ours.then(|| next.to_owned())
}

/// The path (and query) of the page asked, prefix included (the router the service is nested
/// in keeps the original address), to come back to after signing in.
pub fn asked_page(parts: &Parts) -> String {
    let uri = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    uri.path_and_query()
        .map_or_else(String::new, |p| p.as_str().to_owned())
}

/// `POST /sign-in`, `/sign-up` and `/sign-out` of a portal, whose pages speak `catalog`. A
/// new account of a service whose hooks make a recovery code (the wallet) sees it once.
pub fn sign_in_routes<S>(catalog: Catalog) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    #[derive(serde::Deserialize)]
    struct SignIn {
        email: String,
        password: String,
        #[serde(default)]
        next: String,
        #[serde(default)]
        csrf: String,
    }
    #[derive(serde::Deserialize)]
    struct SignUp {
        display_name: String,
        email: String,
        password: String,
        #[serde(default)]
        next: String,
        #[serde(default)]
        csrf: String,
    }
    // What a refused sign-in or sign-up shows: the form again, saying why.
    let refused = move |ctx: &Ctx, lang: Lang, e: ApiError, next: &str| {
        let key = match &e {
            ApiError::InvalidCredentials => "sign_in.failed",
            ApiError::Csrf => "sign_in.expired",
            ApiError::TooManyRequests { .. } => "sign_in.throttled",
            ApiError::Unavailable => "sign_in.busy",
            _ => return problem_page(ctx, lang, e.into(), &home(ctx)),
        };
        let mut response = sign_in_page(
            ctx,
            lang,
            catalog,
            e.status(),
            lang.t(COMMON, key).to_owned(),
            next,
        );
        if let ApiError::TooManyRequests { retry_after_secs } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    };
    #[derive(serde::Deserialize)]
    struct SignOut {
        csrf: String,
    }
    let signed_in = |ctx: &Ctx, secret: &str, next: &str| {
        see_other(
            &local_page(ctx, next).unwrap_or_else(|| home(ctx)),
            Some(auth::session_cookie(&ctx.config, Some(secret))),
        )
    };
    Router::new()
        .merge(addresses::routes(catalog))
        .merge(notifications::routes(catalog))
        .route("/outbox", axum::routing::get(outbox_page))
        .route(
            "/sign-in",
            axum::routing::post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      hooks: Option<axum::Extension<Hooks>>,
                      client: crate::limits::ClientIp,
                      headers: HeaderMap,
                      Form(form): Form<SignIn>| async move {
                    if !form_token_ok(&ctx, &headers, &form.csrf) {
                        return refused(&ctx, lang, ApiError::Csrf, &form.next);
                    }
                    let hooks = hooks.map(|axum::Extension(h)| h);
                    let done = accounts::sign_in(
                        &ctx,
                        hooks.as_ref(),
                        &client,
                        &form.email,
                        &form.password,
                    )
                    .await;
                    match done {
                        Ok(done) => signed_in(&ctx, &done.session.secret, &form.next),
                        Err(e) => refused(&ctx, lang, e, &form.next),
                    }
                },
            ),
        )
        .route(
            "/sign-up",
            axum::routing::post(
                move |State(ctx): State<Ctx>,
                      lang: Lang,
                      hooks: Option<axum::Extension<Hooks>>,
                      headers: HeaderMap,
                      Form(form): Form<SignUp>| async move {
                    if !form_token_ok(&ctx, &headers, &form.csrf) {
                        return refused(&ctx, lang, ApiError::Csrf, &form.next);
                    }
                    let hooks = hooks.map(|axum::Extension(h)| h);
                    let done = accounts::sign_up(
                        &ctx,
                        hooks.as_ref(),
                        lang,
                        &form.email,
                        &form.password,
                        &form.display_name,
                    )
                    .await;
                    match done {
                        Ok(done) => match done.recovery_code {
                            // First, the page saying where the verification went (the
                            // code is typed there), which then leads on.
                            None => {
                                let next =
                                    local_page(&ctx, &form.next).unwrap_or_else(|| home(&ctx));
                                let verify = format!(
                                    "{}/verify?next={}",
                                    ctx.config.path_prefix(),
                                    carnet_core::oid4vci::percent_encode(&next)
                                );
                                signed_in(&ctx, &done.session.secret, &verify)
                            }
                            Some(recovery_code) => {
                                let page = WelcomePage {
                                    chrome: Chrome::new(&ctx, lang, catalog).signed_in(
                                        &done.account.display_name,
                                        &done.session.csrf_token,
                                    ),
                                    recovery_code,
                                    next: local_page(&ctx, &form.next)
                                        .unwrap_or_else(|| home(&ctx)),
                                };
                                let mut response =
                                    render(lang, askama::Template::render(&page));
                                response.headers_mut().insert(
                                    header::SET_COOKIE,
                                    auth::session_cookie(&ctx.config, Some(&done.session.secret)),
                                );
                                (StatusCode::CREATED, response).into_response()
                            }
                        },
                        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(_))) => {
                            sign_in_page(
                                &ctx,
                                lang,
                                catalog,
                                e.status(),
                                format!("{} {e}", lang.t(COMMON, "sign_up.failed")),
                                &form.next,
                            )
                        }
                        Err(e) => refused(&ctx, lang, e, &form.next),
                    }
                },
            ),
        )
        .route(
            "/sign-out",
            axum::routing::post(
                |State(ctx): State<Ctx>, session: PageSession, Form(form): Form<SignOut>| async move {
                    session.check(&form.csrf)?;
                    accounts::sign_out(&ctx, &session.0).await?;
                    Ok::<_, ApiError>(see_other(
                        &home(&ctx),
                        Some(auth::session_cookie(&ctx.config, None)),
                    ))
                },
            ),
        )
}

/// A quiz's question as its author reads it (`templates/quiz_questions.html`): the options
/// with the right ones marked, or the answers accepted.
pub struct QuizQuestion {
    pub id: String,
    pub prompt: String,
    pub points: u32,
    pub options: Vec<(String, bool)>,
    pub accepted: Vec<String>,
}

/// A quiz's questions as the form editor shows them (`templates/quiz_editor.html`, read back
/// by [`quiz_editor`]): each question with a blank option more, and a blank question at the
/// end, to fill without the script.
pub struct QuizEditor {
    pub questions: Vec<EditorQuestion>,
}

pub struct EditorQuestion {
    pub prompt: String,
    pub points: u32,
    /// Each option, and whether it is right.
    pub options: Vec<(String, bool)>,
    /// The answers accepted for a free answer, one per line.
    pub accepted: String,
}

impl EditorQuestion {
    fn blank() -> EditorQuestion {
        EditorQuestion {
            prompt: String::new(),
            points: 1,
            options: vec![(String::new(), false); 4],
            accepted: String::new(),
        }
    }
}

impl QuizEditor {
    /// A new quiz: one question to write.
    pub fn blank() -> QuizEditor {
        QuizEditor {
            questions: vec![EditorQuestion::blank()],
        }
    }

    /// A quiz's questions to change (a quiz as `carnet_core::quiz` writes it).
    pub fn of(quiz: &Value) -> QuizEditor {
        let mut questions: Vec<EditorQuestion> = quiz_questions(quiz)
            .into_iter()
            .map(|q| {
                let mut options = q.options;
                options.push((String::new(), false));
                EditorQuestion {
                    prompt: q.prompt,
                    points: q.points,
                    options,
                    accepted: q.accepted.join("\n"),
                }
            })
            .collect();
        questions.push(EditorQuestion::blank());
        QuizEditor { questions }
    }
}

/// The questions of a quiz (as `carnet_core::quiz` writes it), for [`QuizQuestion`].
pub fn quiz_questions(quiz: &Value) -> Vec<QuizQuestion> {
    let quiz: carnet_core::quiz::Quiz = match serde_json::from_value(quiz.clone()) {
        Ok(q) => q,
        Err(_) => return Vec::new(),
    };
    quiz.questions
        .into_iter()
        .map(|q| {
            use carnet_core::quiz::Kind;
            let (options, accepted) = match q.kind {
                Kind::SingleChoice { options, correct } => (
                    options
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| (o, i == correct))
                        .collect(),
                    Vec::new(),
                ),
                Kind::MultipleChoice { options, correct } => (
                    options
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| (o, correct.contains(&i)))
                        .collect(),
                    Vec::new(),
                ),
                Kind::ShortAnswer { accepted } => (Vec::new(), accepted),
            };
            QuizQuestion {
                id: q.id,
                prompt: q.prompt,
                points: q.points,
                options,
                accepted,
            }
        })
        .collect()
}

/// The short answers of a graded quiz that wait for a person, with what they grade them on:
/// (question id, prompt, the answer, the points it may get); for
/// `templates/quiz_grade_fields.html`.
pub fn awaiting_grades(
    questions: &[QuizQuestion],
    grade: &Value,
    answers: &Value,
) -> Vec<(String, String, String, u32)> {
    questions
        .iter()
        .filter(|q| grade["questions"][&q.id]["grade"] == "pending")
        .map(|q| {
            let answer = answers[&q.id].as_str().unwrap_or_default().to_owned();
            (q.id.clone(), q.prompt.clone(), answer, q.points)
        })
        .collect()
}

/// A quiz's question as a candidate answers it (`carnet_core::quiz::Quiz::for_candidates`),
/// for `templates/quiz_answer.html`: its fields are named as [`form_json`] makes the
/// API's `answers`.
#[derive(serde::Deserialize)]
pub struct QuestionToAnswer {
    pub id: String,
    pub prompt: String,
    pub points: u32,
    pub kind: String,
    #[serde(default)]
    pub options: Option<Vec<String>>,
}

/// The session of a page only for the signed-in: anyone else goes to the portal's home, which
/// asks them to sign in and then brings them back.
pub struct SignedIn(pub PageSession);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn
where
    Ctx: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match PageSession::from_request_parts(parts, state).await {
            Ok(session) => Ok(SignedIn(session)),
            Err(_) => {
                let home = home(&Ctx::from_ref(state));
                let next = carnet_core::oid4vci::percent_encode(&asked_page(parts));
                Err(see_other(&format!("{home}?next={next}"), None))
            }
        }
    }
}

/// What the page of a signed-in person works with, in one extractor: the service, the
/// visitor's language, their session (the sign-in page first, as [`SignedIn`], if they have
/// none), the API called as them, and the chrome of the portal's pages for them.
pub struct Page {
    pub ctx: Ctx,
    pub lang: Lang,
    pub session: PageSession,
    pub api: Backend,
}

impl Page {
    /// The chrome of a page of the portal whose texts are `catalog`, for the person signed in.
    pub fn chrome(&self, catalog: Catalog) -> Chrome {
        Chrome::new(&self.ctx, self.lang, catalog).signed_in_as(&self.session.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page
where
    Ctx: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Ok(lang) = Lang::from_request_parts(parts, state).await;
        let SignedIn(session) = SignedIn::from_request_parts(parts, state).await?;
        let api = Backend::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Page {
            ctx: Ctx::from_ref(state),
            lang,
            session,
            api,
        })
    }
}

/// A page built by `view` from the API, or, when the API refused, the sign-in page (signed
/// out meanwhile) or the problem.
pub async fn show<T: askama::Template>(
    ctx: &Ctx,
    lang: Lang,
    catalog: Catalog,
    view: impl Future<Output = Result<T, Problem>>,
) -> Response {
    match view.await {
        Ok(page) => render(lang, page.render()),
        Err(p) => failed(ctx, lang, catalog, p),
    }
}

// --- Forms come from our own pages --------------------------------------------------------------

tokio::task_local! {
    /// The visitor's form token, while a page request is handled ([`form_guard`]).
    static FORM_TOKEN: String;
    /// What the visitor's last action did, said once on the page they land on ([`act`]).
    static FLASH: Option<String>;
    /// The form the visitor's last action sent and the API refused ([`act`]).
    static FAILED: Option<Failure>;
}

/// The cookie carrying what an action did to the page it leads to.
fn flash_cookie_name(ctx: &Ctx) -> String {
    format!("carnet_{}_flash", ctx.config.kind.name())
}

/// A refusal of what was typed (as opposed to a right, a missing thing or a fault).
fn refused_input(p: &Problem) -> bool {
    matches!(
        p.status,
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::BAD_REQUEST
    ) && p.kind != "csrf"
}

/// The flash cookie carrying a [`Failure`]: `!` then its JSON, base64url; without the values
/// when they would make it too large for a cookie.
fn failure_cookie(ctx: &Ctx, failure: &Failure) -> Option<HeaderValue> {
    let encode = |f: &Failure| {
        serde_json::to_vec(f)
            .ok()
            .map(|json| format!("!{}", carnet_core::b64::encode(json)))
    };
    let value = encode(failure).filter(|v| v.len() <= 3_000).or_else(|| {
        encode(&Failure {
            values: Vec::new(),
            ..failure.clone()
        })
    })?;
    flash_cookie(ctx, Some(&value))
}

/// The [`Failure`] a flash cookie carries, if it is one made by [`failure_cookie`] for a form
/// of this service.
fn failure_of(ctx: &Ctx, value: &str) -> Option<Failure> {
    let json = carnet_core::b64::decode(value.strip_prefix('!')?)?;
    let failure: Failure = serde_json::from_slice(&json).ok()?;
    let ours = failure
        .action
        .strip_prefix(ctx.config.path_prefix())
        .is_some_and(|rest| rest.starts_with("/do/api/v1/"));
    ours.then_some(failure)
}

/// A catalog key, as a flash cookie may carry: `flash.saved`, `invite.done`…
fn flash_key(value: &str) -> Option<&str> {
    (value.len() <= 60
        && !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_'))
    .then_some(value)
}

fn flash_cookie(ctx: &Ctx, value: Option<&str>) -> Option<HeaderValue> {
    let path = match ctx.config.path_prefix() {
        "" => "/",
        p => p,
    };
    let cookie = match value {
        Some(v) => format!(
            "{}={v}; Path={path}; Max-Age=120; HttpOnly; SameSite=Lax",
            flash_cookie_name(ctx)
        ),
        None => format!(
            "{}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax",
            flash_cookie_name(ctx)
        ),
    };
    HeaderValue::from_str(&cookie).ok()
}

/// The cookie with a visitor's form token: what the forms of a page nobody is signed in on
/// carry (sign-in, sign-up, a lost password), so that another site cannot post them.
fn form_cookie_name(ctx: &Ctx) -> String {
    format!("carnet_{}_form", ctx.config.kind.name())
}

/// Whether the browser says the request comes from a page of this service: `Sec-Fetch-Site`
/// and `Origin`, when sent (browsers send them with every cross-site form), must name it.
fn same_origin(ctx: &Ctx, headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let ours = reqwest::Url::parse(&ctx.config.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    origin.to_str().is_ok_and(|o| o == ours)
}

/// Whether `sent` (a form's `csrf` field) is the visitor's form token.
pub fn form_token_ok(ctx: &Ctx, headers: &HeaderMap, sent: &str) -> bool {
    auth::cookie_value(headers, &form_cookie_name(ctx)).is_some_and(|token| {
        !token.is_empty() && auth::constant_time_eq(token.as_bytes(), sent.as_bytes())
    })
}

/// The layer of every page: refuses a state-changing request that a browser says comes from
/// another site (403 page), and gives each visitor a form token (a cookie, and the `csrf`
/// field of the forms of pages nobody is signed in on: [`Chrome::new`]).
pub async fn form_guard(
    State(ctx): State<Ctx>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes && !same_origin(&ctx, request.headers()) {
        let lang = crate::i18n::negotiate(None, request.headers());
        return problem_page(&ctx, lang, ApiError::Csrf.into(), &home(&ctx));
    }
    let existing = auth::cookie_value(request.headers(), &form_cookie_name(&ctx))
        .filter(|t| {
            t.len() == 32
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    let token = existing
        .clone()
        .unwrap_or_else(|| crate::id::random_token(24));
    let cookie = auth::cookie_value(request.headers(), &flash_cookie_name(&ctx));
    let flash = cookie.and_then(flash_key).map(str::to_owned);
    let failed = cookie.and_then(|v| failure_of(&ctx, v));
    let said = flash.is_some() || failed.is_some();
    let mut response = FORM_TOKEN
        .scope(
            token.clone(),
            FLASH.scope(flash, FAILED.scope(failed, next.run(request))),
        )
        .await;
    // Said once: the page that showed it forgets it.
    let shown = response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if said
        && shown
        && let Some(v) = flash_cookie(&ctx, None)
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    if existing.is_none() {
        let path = match ctx.config.path_prefix() {
            "" => "/",
            p => p,
        };
        let secure = if ctx.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{}={token}; Path={path}; HttpOnly; SameSite=Lax; Max-Age=86400{secure}",
            form_cookie_name(&ctx)
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Who is signed in on a page, by the session cookie. Forms carry the session's CSRF token in
/// a `csrf` field: a handler that changes anything calls [`PageSession::check`] first.
pub struct PageSession(pub Principal);

impl PageSession {
    pub fn check(&self, csrf: &str) -> Result<(), ApiError> {
        if auth::check_csrf(&self.0, csrf) {
            Ok(())
        } else {
            Err(ApiError::Csrf)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageSession
where
    Ctx: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ctx = Ctx::from_ref(state);
        auth::cookie_session(&ctx, &parts.headers, None)
            .await
            .map(PageSession)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn dates_and_availability_as_people_say_them() {
        assert_eq!(spoken_date(Lang::Fr, "2026-03-03", "2026-01-10"), "3 mars");
        assert_eq!(
            spoken_date(Lang::Fr, "2027-03-01", "2026-12-02"),
            "1er mars 2027"
        );
        assert_eq!(spoken_date(Lang::En, "2026-03-03", "2026-01-10"), "3 March");
        assert_eq!(spoken_date(Lang::Fr, "bientôt", "2026-01-10"), "bientôt");
        let today = "2026-12-02";
        assert_eq!(availability(Lang::Fr, None, today), "disponible");
        assert_eq!(
            availability(Lang::Fr, Some("2026-09-01"), today),
            "disponible"
        );
        assert_eq!(
            availability(Lang::Fr, Some("2027-03-03"), today),
            "à partir du 3 mars 2027"
        );
        assert_eq!(
            availability(Lang::Fr, Some("2026-12-24"), today),
            "à partir du 24 décembre"
        );
    }
    use super::*;

    #[test]
    fn moments_on_the_sessions_wall_clock() {
        // 2027-01-15 08:00 UTC: 09:00 in Paris (winter), 04:00 in Guadeloupe.
        let winter = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000 + 8 * 3_600_000;
        assert_eq!(
            time(winter).get(11..),
            Some("09:00"),
            "Paris outside a session"
        );
        assert_eq!(local_time(winter, "Europe/Paris").get(11..), Some("09:00"));
        assert_eq!(
            local_time(winter, "America/Guadeloupe").get(11..),
            Some("04:00")
        );
        assert_eq!(
            local_time(winter, "Mars/Olympus"),
            local_time(winter, "Europe/Paris")
        );
        // Summer time: two hours ahead of UTC in Paris.
        let summer = winter + 180 * 86_400_000;
        assert_eq!(local_time(summer, "Europe/Paris").get(11..), Some("10:00"));
    }

    #[test]
    fn forms_become_json() {
        let fields: Vec<(String, String)> = [
            ("csrf", "t"),
            ("_next", "/x"),
            ("title", "Soudeur"),
            ("hours:int", "35"),
            ("scale.kind", "levels"),
            ("scale.labels:list", "bronze, argent,\nor"),
            ("claims[]", "email"),
            ("claims[]", "phone_number"),
            ("optional", ""),
            ("pin:bool", "on"),
            ("level:num", "0,5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            form_json(&fields).unwrap(),
            serde_json::json!({"title": "Soudeur", "hours": 35, "pin": true, "level": 0.5,
                "scale": {"kind": "levels", "labels": ["bronze", "argent", "or"]},
                "claims": ["email", "phone_number"]})
        );
        for bad in [("n:int", "x"), ("a:json", "{"), ("a:zzz", "1")] {
            assert!(form_json(&[(bad.0.into(), bad.1.into())]).is_err());
        }
        let clash = [("a".into(), "1".into()), ("a.b".into(), "2".into())];
        assert!(form_json(&clash).is_err());
        let twice = [("a".into(), "1".into()), ("a".into(), "2".into())];
        assert!(form_json(&twice).is_err());
        let rows: Vec<(String, String)> = [
            ("marks.1.trainee_id", "b"),
            ("marks.0.trainee_id", "a"),
            ("marks.0.status", "present"),
            ("marks.1.status", "late"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            form_json(&rows).unwrap(),
            serde_json::json!({"marks": [{"trainee_id": "a", "status": "present"},
                {"trainee_id": "b", "status": "late"}]})
        );
        assert!(form_json(&[("m.5000.x".into(), "1".into())]).is_err());
    }

    #[test]
    fn the_quiz_editor_becomes_questions() {
        let form = |fields: &[(&str, &str)]| -> Vec<(String, String)> {
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let fields = form(&[
            ("title", "Sécurité"),
            ("editor.0.prompt", "Que porter ?"),
            ("editor.0.points", "2"),
            ("editor.0.option.0", "Un masque"),
            ("editor.0.right.0", "on"),
            ("editor.0.option.1", "Une cravate"),
            ("editor.0.option.2", ""),
            // A blank question the page offered: left out.
            ("editor.1.prompt", ""),
            ("editor.1.points", "1"),
            ("editor.1.option.0", ""),
            // Numbered as the script added it, read in order.
            ("editor.7.prompt", "Un risque ?"),
            ("editor.7.accepted", "brûlure\r\nUV\r\n"),
        ]);
        assert_eq!(
            form_json(&fields).unwrap(),
            serde_json::json!({"title": "Sécurité", "questions": [
                {"id": "q1", "prompt": "Que porter ?", "points": 2, "kind": "single_choice",
                 "options": ["Un masque", "Une cravate"], "correct": 0},
                {"id": "q2", "prompt": "Un risque ?", "points": 1, "kind": "short_answer",
                 "accepted": ["brûlure", "UV"]},
            ]})
        );
        // The refusal names the question's text field, in the service's words.
        let unmarked = form(&[
            ("editor.3.prompt", "Que porter ?"),
            ("editor.3.option.0", "Un masque"),
        ]);
        assert_eq!(
            form_json(&unmarked).unwrap_err(),
            FormError {
                field: "editor.3.prompt".into(),
                detail: "question 1: mark the right option".into()
            }
        );
        // The text import, when filled, is what is sent.
        let both = form(&[
            ("questions:quiz", "Oui ?\n* oui\n- non"),
            ("editor.0.prompt", "Autre ?"),
        ]);
        assert_eq!(form_json(&both).unwrap()["questions"][0]["prompt"], "Oui ?");
        assert!(quiz_editor(&form(&[("title", "x")])).unwrap().is_none());
    }

    #[test]
    fn pages_link_their_assets_and_inline_nothing() {
        let html = document(Lang::En, "/wallet", "A <title>", "<p>x</p>");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("href=\"/wallet/assets/carnet.css\""));
        assert!(html.contains("src=\"/wallet/assets/carnet.js\""));
        assert!(html.contains("<title>A &lt;title&gt;</title>"));
        assert!(!html.contains("<style") && !html.contains("onclick"));
        assert!(!STYLESHEET.is_empty() && SCRIPT.contains("data-print"));
        crate::i18n::assert_complete(COMMON);
    }
}
