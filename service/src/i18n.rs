//! Languages of the pages: French by default, English on request (`?lang=en` or
//! `Accept-Language`). Each page's strings live in a catalog of `(key, French, English)`, never
//! in the markup.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use std::convert::Infallible;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Fr,
    En,
}

/// Strings per language: (key, French, English).
pub type Catalog = &'static [(&'static str, &'static str, &'static str)];

impl Lang {
    /// `fr` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The string of `key` in this language; empty when the catalog lacks it (a test per
    /// catalog checks that none is missing).
    pub fn t(self, catalog: Catalog, key: &str) -> &'static str {
        catalog
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, fr, en)| if self == Lang::En { *en } else { *fr })
            .unwrap_or("")
    }
}

fn pick(s: &str) -> Option<Lang> {
    match s.trim().get(..2) {
        Some("en") => Some(Lang::En),
        Some("fr") => Some(Lang::Fr),
        _ => None,
    }
}

/// The cookie keeping the language chosen with the switch, for every page after.
pub const COOKIE: &str = "carnet_lang";

/// `?lang=` first, then the language chosen before (the cookie), then the first of `fr`/`en`
/// in `Accept-Language`, then French.
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = query
        .and_then(pick)
        .or_else(|| crate::auth::cookie_value(headers, COOKIE).and_then(pick))
    {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|part| pick(part.split(';').next().unwrap_or("")))
        })
        .unwrap_or(Lang::Fr)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Infallible> {
        let query = asked(parts.uri.query()).map(Lang::code);
        Ok(negotiate(query, &parts.headers))
    }
}

fn asked(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(pick)
}

/// A layer remembering the language asked with `?lang=` (the switch of every page) in a
/// cookie, so that the pages after speak it too.
pub async fn remember(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let lang = asked(request.uri().query());
    let mut response = next.run(request).await;
    if let Some(lang) = lang {
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Panics unless every entry of `catalog` has both languages and its keys are unique: each
/// catalog's test calls it.
pub fn assert_complete(catalog: Catalog) {
    for (i, (key, fr, en)) in catalog.iter().enumerate() {
        assert!(!fr.is_empty() && !en.is_empty(), "{key} lacks a language");
        assert!(
            !catalog[..i].iter().any(|(k, _, _)| k == key),
            "{key} is there twice"
        );
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_unless_english_is_asked() {
        let mut headers = HeaderMap::new();
        assert_eq!(negotiate(None, &headers), Lang::Fr);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "de-DE, en-GB;q=0.8, fr;q=0.5".parse().unwrap(),
        );
        assert_eq!(negotiate(None, &headers), Lang::En);
        assert_eq!(negotiate(Some("fr"), &headers), Lang::Fr);
        headers.insert(header::COOKIE, "a=b; carnet_lang=fr".parse().unwrap());
        assert_eq!(negotiate(None, &headers), Lang::Fr, "chosen before");
        assert_eq!(negotiate(Some("en"), &headers), Lang::En);
        const C: Catalog = &[("hello", "bonjour", "hello")];
        assert_eq!(Lang::Fr.t(C, "hello"), "bonjour");
        assert_eq!(Lang::En.t(C, "missing"), "");
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
