//! What every page of the portals shares: the stylesheet and the little script (served from
//! the service's own `assets/`, as the Content-Security-Policy allows no inline style or
//! script), and the document around a page's content, in the language asked.

use crate::Ctx;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::i18n::{Catalog, Lang, escape};
use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub const STYLESHEET: &str = include_str!("../assets/carnet.css");
pub const SCRIPT: &str = include_str!("../assets/carnet.js");

/// `GET /assets/carnet.css` and `GET /assets/carnet.js`, for a service's router.
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
    ("skip", "Aller au contenu", "Skip to content"),
    ("nav", "Navigation", "Navigation"),
    ("sign_out", "Se déconnecter", "Sign out"),
    ("switch", "English", "Français"),
    ("switch.lang", "en", "fr"),
];

/// What the layout shows around a page: the language and the service's texts (its own
/// catalog, then the common one), where the service is, and who is signed in.
pub struct Chrome {
    pub lang: Lang,
    catalog: Catalog,
    /// The service's path prefix (`/wallet`), and its home page (`/wallet`, or `/`).
    pub base: String,
    pub home: String,
    /// The signed-in person's name; empty when nobody is.
    pub user: String,
    /// Their session's CSRF token, for the forms of the page.
    pub csrf: String,
}

impl Chrome {
    /// For a page nobody is signed in on (yet).
    pub fn new(ctx: &Ctx, lang: Lang, catalog: Catalog) -> Chrome {
        Chrome {
            lang,
            catalog,
            base: ctx.config.path_prefix().to_owned(),
            home: home(ctx),
            user: String::new(),
            csrf: String::new(),
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
                self.signed_in(&principal.display_name, &csrf)
            }
            _ => self,
        }
    }

    /// The text of `key` in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        match self.lang.t(self.catalog, key) {
            "" => self.lang.t(COMMON, key),
            text => text,
        }
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
    use super::*;

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
