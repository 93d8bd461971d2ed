//! Requests to other parties (issuers, verifiers), bounded: HTTPS only (plain HTTP too when the
//! wallet itself is served over HTTP, for a local set-up), ten-second timeouts, no redirects,
//! 1 MiB bodies. Every failure is an `Upstream` problem naming what went wrong.

use carnet_service::error::{ApiError, ApiResult};
use serde_json::Value;
use std::time::Duration;

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
            .user_agent(concat!("carnet-wallet/", env!("CARGO_PKG_VERSION")))
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

    async fn read(response: reqwest::Response, what: &str) -> ApiResult<(u16, Vec<u8>)> {
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
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
            if body.len() + chunk.len() > MAX_BODY {
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
        Remote::read(response, what).await
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
