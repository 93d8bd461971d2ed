//! What every page of the portals shares: the stylesheet and the little script (served from
//! the service's own `assets/`, as the Content-Security-Policy allows no inline style or
//! script), and the document around a page's content, in the language asked.

use crate::i18n::{Lang, escape};
use axum::Router;
use axum::http::header;
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
    }
}
