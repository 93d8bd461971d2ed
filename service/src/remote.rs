//! Requests to other parties (issuers, wallets, verifiers), bounded: HTTPS only (plain HTTP too
//! when the service itself is served over HTTP, for a local set-up), ten-second timeouts, no
//! redirects, 1 MiB bodies. Every failure is an `Upstream` problem naming what went wrong. Also
//! the two fetches every relying party makes: an issuer's published keys (JWT VC Issuer
//! Metadata) and a verified status list token.

use crate::error::{ApiError, ApiResult};
use carnet_core::metadata::{JwtVcIssuerMetadata, well_known_url};
use carnet_core::sd_jwt::StatusReference;
use carnet_core::status_list::{MEDIA_TYPE, Status, StatusListToken};
use serde_json::Value;
use std::time::Duration;

/// The largest status list inflated (bytes).
const MAX_STATUS_LIST: usize = 4 * 1024 * 1024;

const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Remote {
    http: reqwest::Client,
    allow_http: bool,
}

fn upstream(kind: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Upstream {
        kind,
        detail: detail.into(),
    }
}

impl Remote {
    pub fn new(allow_http: bool) -> Remote {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("carnet/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Remote { http, allow_http }
    }

    /// A URL we may call, or a 422 naming `field`.
    pub fn check(&self, url: &str, field: &str) -> ApiResult<reqwest::Url> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| ApiError::invalid_field(field, "not a URL"))?;
        let scheme_ok =
            parsed.scheme() == "https" || (self.allow_http && parsed.scheme() == "http");
        if !scheme_ok || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ApiError::invalid_field(
                field,
                "only https URLs without credentials",
            ));
        }
        Ok(parsed)
    }

    async fn read(
        response: reqwest::Response,
        what: &str,
        max: usize,
    ) -> ApiResult<(u16, Vec<u8>)> {
        let status = response.status().as_u16();
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(upstream(
                "upstream-too-large",
                format!("{what}: the answer is too large"),
            ));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| upstream("upstream-unreachable", format!("{what}: {e}")))?
        {
            if body.len() + chunk.len() > max {
                return Err(upstream(
                    "upstream-too-large",
                    format!("{what}: the answer is too large"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> ApiResult<(u16, Vec<u8>)> {
        let response = request
            .send()
            .await
            .map_err(|e| upstream("upstream-unreachable", format!("{what}: {e}")))?;
        Remote::read(response, what, MAX_BODY).await
    }

    /// A JSON answer with a 2xx status; an error answer becomes `upstream-error` with the
    /// party's OAuth `error` and description when it gave them.
    async fn json(&self, request: reqwest::RequestBuilder, what: &str) -> ApiResult<Value> {
        let (status, body) = self.send(request, what).await?;
        // An empty success (a verifier acknowledging a direct_post) reads as `{}`.
        let value: Option<Value> = if body.is_empty() && (200..300).contains(&status) {
            Some(Value::Object(Default::default()))
        } else {
            carnet_core::json::from_slice(&body).ok()
        };
        if !(200..300).contains(&status) {
            let reason = value
                .as_ref()
                .map(|v| {
                    let error = v["error"].as_str().unwrap_or_default();
                    let description = v["error_description"].as_str().unwrap_or_default();
                    format!("{error} {description}").trim().to_owned()
                })
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| format!("status {status}"));
            return Err(upstream("upstream-error", format!("{what}: {reason}")));
        }
        value.ok_or_else(|| {
            upstream(
                "upstream-invalid",
                format!("{what}: the answer is not JSON"),
            )
        })
    }

    /// A JSON call with extra headers and an optional JSON body; an empty success reads `{}`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
        what: &str,
    ) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        let mut request = self
            .http
            .request(method, url)
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.json(request, what).await
    }

    /// A binary answer (a document) of at most `max` bytes, with its content type.
    pub async fn get_bytes(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        max: usize,
        what: &str,
    ) -> ApiResult<(String, Vec<u8>)> {
        let url = self.check(url, what)?;
        let mut request = self.http.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| upstream("upstream-unreachable", format!("{what}: {e}")))?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let (status, body) = Remote::read(response, what, max).await?;
        if !(200..300).contains(&status) {
            return Err(upstream(
                "upstream-error",
                format!("{what}: status {status}"),
            ));
        }
        Ok((content_type, body))
    }

    pub async fn get_json(&self, url: &str, what: &str) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        self.json(
            self.http.get(url).header("accept", "application/json"),
            what,
        )
        .await
    }

    pub async fn get_text(&self, url: &str, accept: &str, what: &str) -> ApiResult<String> {
        let url = self.check(url, what)?;
        let (status, body) = self
            .send(self.http.get(url).header("accept", accept), what)
            .await?;
        if !(200..300).contains(&status) {
            return Err(upstream(
                "upstream-error",
                format!("{what}: status {status}"),
            ));
        }
        String::from_utf8(body).map_err(|_| {
            upstream(
                "upstream-invalid",
                format!("{what}: the answer is not text"),
            )
        })
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        what: &str,
    ) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        self.json(self.http.post(url).form(form), what).await
    }

    pub async fn post_json(
        &self,
        url: &str,
        body: &Value,
        bearer: Option<&str>,
        what: &str,
    ) -> ApiResult<Value> {
        let url = self.check(url, what)?;
        let mut request = self.http.post(url).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.json(request, what).await
    }
}

pub fn invalid(what: &str, why: impl std::fmt::Display) -> ApiError {
    upstream("upstream-invalid", format!("{what}: {why}"))
}

pub fn rejected(why: impl std::fmt::Display) -> ApiError {
    upstream(
        "credential-rejected",
        format!("the issuer's credential was refused: {why}"),
    )
}

/// The keys `issuer` publishes (JWT VC Issuer Metadata, inline or at `jwks_uri`).
pub async fn issuer_jwks(remote: &Remote, issuer: &str) -> ApiResult<carnet_core::metadata::Jwks> {
    let what = "the issuer's JWT VC metadata";
    let url = well_known_url(issuer, "jwt-vc-issuer").map_err(|e| invalid(what, e))?;
    let metadata: JwtVcIssuerMetadata =
        serde_json::from_value(remote.get_json(&url, what).await?).map_err(|e| invalid(what, e))?;
    metadata.check(issuer).map_err(|e| invalid(what, e))?;
    let jwks = match (&metadata.jwks, &metadata.jwks_uri) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(uri)) => {
            serde_json::from_value(remote.get_json(uri, "the issuer's JWKS").await?)
                .map_err(|e| invalid("the issuer's JWKS", e))?
        }
        (None, None) => return Err(invalid(what, "no keys")),
    };
    Ok(jwks)
}

/// The status of `reference`, from its list token signed by one of `jwks`.
pub async fn fetch_list(
    remote: &Remote,
    jwks: &carnet_core::metadata::Jwks,
    uri: &str,
    now: i64,
) -> ApiResult<StatusListToken> {
    let what = "the credential's status list";
    let token = remote.get_text(uri, MEDIA_TYPE, what).await?;
    let kid = carnet_core::jws::Jws::parse(&token)
        .map_err(|e| invalid(what, format!("{e:?}")))?
        .header_str("kid")
        .map(str::to_owned);
    let key = jwks
        .keys
        .iter()
        .filter_map(|jwk| carnet_core::keys::VerifyingKey::from_jwk(jwk).ok())
        .find(|k| kid.as_deref().is_none_or(|kid| k.kid() == kid))
        .ok_or_else(|| invalid(what, "signed by a key the issuer does not publish"))?;
    StatusListToken::verify(&token, &key, uri, now, 60, MAX_STATUS_LIST)
        .map_err(|e| invalid(what, e))
}

/// The status of `reference` in its (verified) list.
pub fn status_in(list: &StatusListToken, reference: &StatusReference) -> ApiResult<Status> {
    list.status_of(reference)
        .map_err(|e| invalid("the credential's status list", e))
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Valid => "valid",
        Status::Invalid => "revoked",
        Status::Suspended => "suspended",
        _ => "unknown",
    }
}
