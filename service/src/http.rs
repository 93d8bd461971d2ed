//! HTTP conventions shared by the services: how a service's router is assembled (API under
//! `/api/v1`, OpenAPI document and browsable page, readiness), request ids and tracing, body
//! limits, security headers, problem+json fallbacks, and `Idempotency-Key` on creating POSTs.

use crate::error::{ApiError, method_not_allowed, not_found};
use crate::id::{hash_secret, random_token};
use crate::{Ctx, accounts, audit};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa::openapi::server::Server;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
// Swagger UI sets inline styles.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; object-src 'none'; frame-ancestors 'none'";
/// Responses larger than this are not stored for idempotent replay.
const MAX_IDEMPOTENT_BODY: usize = 1024 * 1024;

/// Assembles one service: the shared account and audit routes plus `api` under `/api/v1`,
/// `pages` at the root, the OpenAPI document (`/api/openapi.json`) and its page (`/api/docs`),
/// `/ready`, and the layers every service has.
pub fn service_router<S>(
    ctx: Ctx,
    state: S,
    title: &str,
    api: OpenApiRouter<S>,
    pages: Router<S>,
) -> Router
where
    S: Clone + Send + Sync + 'static,
    Ctx: FromRef<S>,
{
    let (api, mut openapi) = OpenApiRouter::<S>::new()
        .merge(accounts::router())
        .merge(crate::addresses::router())
        .merge(crate::notifications::router())
        .merge(audit::router())
        .merge(crate::mail::router())
        .merge(api)
        .split_for_parts();
    document(&mut openapi, title, &ctx.config.public_url);
    let spec_url = format!("{}/api/openapi.json", ctx.config.path_prefix());
    let docs: Router =
        Router::from(SwaggerUi::new("/api/docs").config(utoipa_swagger_ui::Config::from(spec_url)))
            .layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_CSP),
            ));
    let openapi_json = serde_json::to_vec(&openapi).unwrap_or_default();

    let api = api
        .layer(middleware::from_fn_with_state(ctx.clone(), idempotency))
        .method_not_allowed_fallback(method_not_allowed);
    // The pages call the API as their visitors (crate::web::Backend).
    let pages = pages
        .route("/do/{*path}", axum::routing::post(crate::web::act))
        .layer(axum::Extension(crate::web::ApiRouter(
            api.clone().with_state(state.clone()),
        )))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            crate::web::form_guard,
        ));
    Router::new()
        .merge(api)
        .merge(pages)
        .merge(crate::web::assets())
        .route(
            "/api/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .route("/ready", get(ready))
        .fallback(not_found)
        .with_state(state)
        .merge(docs)
        .layer(axum::extract::DefaultBodyLimit::max(
            ctx.config.max_body_bytes,
        ))
        // Extractors stop at `max_body_bytes` (DefaultBodyLimit); upload routes raise their own
        // limit up to this one.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            ctx.config.max_upload_bytes,
        ))
        .layer(middleware::map_response(problem_for_bare_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts(&ctx.config),
        ))
}

/// `Strict-Transport-Security` for a service reached over https (its public URL): browsers
/// then refuse plain HTTP to the host for a year. Nothing on plain HTTP (a local set-up).
fn hsts(
    config: &crate::ServiceConfig,
) -> impl Fn(&Response) -> Option<HeaderValue> + Clone + use<> {
    let value = config
        .secure_cookies()
        .then(|| HeaderValue::from_static("max-age=31536000"));
    move |_: &Response| value.clone()
}

/// Routes whose last path segment is a secret (a link that is its own authorisation), as
/// the tail of the path after the service's prefix; `?` is any segment, `*` the secret. They
/// are all outside the JSON API (which takes secrets in bodies): the issuer's invitation
/// page `/invitations/{token}`, its iCalendar feeds `/calendar/{token}` and its credential
/// offers by reference `/orgs/{org}/offers/{secret}`.
const SECRET_LINKS: &[&[&str]] = &[
    &["invitations", "*"],
    &["calendar", "*"],
    &["orgs", "?", "offers", "*"],
];

/// The request path as the logs show it: the secret segment of a [`SECRET_LINKS`] route is
/// replaced by `{secret}`. Paths under an `api` segment are the JSON API's, left as they are.
pub fn redact_path(path: &str) -> std::borrow::Cow<'_, str> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.contains(&"api") {
        return path.into();
    }
    for pattern in SECRET_LINKS {
        let Some(start) = segments.len().checked_sub(pattern.len()) else {
            continue;
        };
        let tail = &segments[start..];
        let matches = pattern
            .iter()
            .zip(tail)
            .all(|(p, s)| !s.is_empty() && (*p == "?" || *p == "*" || p == s));
        if matches {
            let redacted: Vec<&str> = segments[..start]
                .iter()
                .copied()
                .chain(
                    pattern
                        .iter()
                        .zip(tail)
                        .map(|(p, s)| if *p == "*" { "{secret}" } else { *s }),
                )
                .collect();
            return redacted.join("/").into();
        }
    }
    path.into()
}

/// Request ids, tracing and security headers, for the whole process (all services, landing
/// page): the outermost layers.
pub fn outer_layers(router: Router, limits: std::sync::Arc<crate::limits::Limits>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    router
        .layer(middleware::from_fn_with_state(limits, crate::limits::limit))
        .layer(middleware::map_response(close_after_refused_body))
        .layer(middleware::from_fn(crate::i18n::remember))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %redact_path(req.uri().path()), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, RandomRequestId))
}

/// A body refused for its size is left unread: the connection cannot carry another request
/// after it, so the answer says it closes (`Connection: close`) and the client opens a new one
/// instead of losing its next request.
async fn close_after_refused_body(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Turns the few plain-text errors produced below the handlers (a body over the limit seen by
/// the limit layer) into problem+json.
async fn problem_for_bare_errors(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !is_problem => ApiError::PayloadTooLarge.into_response(),
        _ => response,
    }
}

fn document(openapi: &mut OpenApi, title: &str, public_url: &str) {
    openapi.info.title = title.to_owned();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    openapi.info.description = Some(
        "Errors are application/problem+json with a stable `type` (urn:carnet:problem:<kind>). \
         Authenticate with the session cookie (and the X-CSRF-Token header on unsafe methods) or \
         with `Authorization: Bearer <API token>`. Creating POSTs of an authenticated caller honour \
         `Idempotency-Key` (an answer holding a secret shown once is not replayed: 409)."
            .to_owned(),
    );
    openapi.servers = Some(vec![Server::new(public_url)]);
}

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&random_token(12))
            .ok()
            .map(RequestId::new)
    }
}

/// `GET /ready`: 200 once the database answers, 503 otherwise.
async fn ready(State(ctx): State<Ctx>) -> Response {
    if ctx.db.ping().await {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ready"}"#,
        )
            .into_response()
    } else {
        ApiError::Unavailable.into_response()
    }
}

/// Marks a response (a response extension) or a whole router (a request extension, as a layer
/// `Extension(NoReplay)` around it) whose answers are not kept for `Idempotency-Key` replay:
/// they hold a secret shown once (an API token, a session's CSRF token, a recovery code) or
/// data that is only ever at rest under someone else's key (a wallet's store). The key is still
/// spent: a retry is refused (409) instead of doing the work twice.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoReplay;

/// Who an `Idempotency-Key` belongs to: the hash of the credential that authenticates the
/// request (the bearer token, or this service's session cookie, not the other cookies), so
/// only that caller can reach what is stored under it. `None` without one.
fn idempotency_caller(ctx: &Ctx, headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let value = String::from_utf8_lossy(authorization.as_bytes());
        return Some(format!("bearer:{}", hash_secret(value.trim())));
    }
    crate::auth::cookie_value(headers, &crate::auth::cookie_name(&ctx.config))
        .map(|secret| format!("session:{}", hash_secret(secret)))
}

/// What a stored response's body is sealed to: its row.
fn idempotency_aad(scope: &str, key: &str) -> String {
    format!("idempotency:{scope}\0{key}")
}

/// `Idempotency-Key` on POST: the first response (below 500) is stored, sealed under the
/// service's secret key, and replayed for the same key and caller; the same key with a
/// different request is refused. Keys belong to an authenticated caller: without a bearer
/// token or a session cookie nothing is stored (callers would share one scope). Responses
/// marked [`NoReplay`] are not stored.
async fn idempotency(State(ctx): State<Ctx>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get("idempotency-key").cloned() else {
        return next.run(request).await;
    };
    match idempotent(&ctx, key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn idempotent(
    ctx: &Ctx,
    key: HeaderValue,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let err = |e: ApiError| e.into_response();
    let key = key
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            err(ApiError::BadRequest {
                kind: "invalid-idempotency-key",
                detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            })
        })?
        .to_owned();
    let Some(caller) = idempotency_caller(ctx, request.headers()) else {
        return Ok(next.run(request).await);
    };
    let scope = format!("{caller}:{}", request.uri().path());
    let aad = idempotency_aad(&scope, &key);
    let router_opted_out = request.extensions().get::<NoReplay>().is_some();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, ctx.config.max_body_bytes)
        .await
        .map_err(|_| err(ApiError::PayloadTooLarge))?;
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.to_string().as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = carnet_core::b64::encode(hasher.finalize());

    let pool = ctx.db.pool();
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, created_at) VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (scope, idem_key) DO NOTHING",
    )
    .bind(&scope)
    .bind(&key)
    .bind(&request_hash)
    .bind(ctx.now_ms())
    .execute(pool)
    .await
    .map_err(|e| err(e.into()))?;
    if claimed.rows_affected() == 0 {
        let (stored_hash, status, content_type, body): (String, i64, Option<String>, Option<Vec<u8>>) = sqlx::query_as(
            "SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
        )
        .bind(&scope)
        .bind(&key)
        .fetch_one(pool)
        .await
        .map_err(|e| err(e.into()))?;
        if stored_hash != request_hash {
            return Err(err(ApiError::IdempotencyKeyReused));
        }
        if status == 0 {
            return Err(err(ApiError::IdempotencyInProgress));
        }
        // Done, but not kept (NoReplay): the work is not done twice, and its secret is gone.
        let Some(sealed) = body else {
            return Err(err(ApiError::Conflict(
                "this request was done already with this Idempotency-Key, and its answer \
                 (a secret shown once) is not kept to be replayed"
                    .into(),
            )));
        };
        let body = ctx.config.secret_key.open(&aad, &sealed).map_err(|_| {
            err(ApiError::internal(
                "a stored idempotent response does not open",
            ))
        })?;
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
        if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let no_replay = router_opted_out || response.extensions().get::<NoReplay>().is_some();
    let (parts, body) = response.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, MAX_IDEMPOTENT_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let _ = forget(ctx, &scope, &key).await;
            return Err(err(ApiError::internal(
                "response too large to keep for idempotency",
            )));
        }
    };
    if parts.status.is_server_error() {
        let _ = forget(ctx, &scope, &key).await;
    } else {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let sealed = if no_replay {
            None
        } else {
            Some(
                ctx.config
                    .secret_key
                    .seal(&aad, &body)
                    .map_err(|e| err(ApiError::internal(e)))?,
            )
        };
        sqlx::query("UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE scope = $4 AND idem_key = $5")
            .bind(parts.status.as_u16() as i64)
            .bind(content_type)
            .bind(sealed)
            .bind(&scope)
            .bind(&key)
            .execute(pool)
            .await
            .map_err(|e| err(e.into()))?;
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

async fn forget(ctx: &Ctx, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2")
        .bind(scope)
        .bind(key)
        .execute(&mut *ctx.db.writer().await?)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::redact_path;

    #[test]
    fn secret_links_are_redacted_in_logs() {
        for (path, logged) in [
            ("/issuer/invitations/s3cr3t", "/issuer/invitations/{secret}"),
            ("/invitations/s3cr3t", "/invitations/{secret}"),
            ("/issuer/calendar/s3cr3t.ics", "/issuer/calendar/{secret}"),
            (
                "/centre/issuer/calendar/s3cr3t",
                "/centre/issuer/calendar/{secret}",
            ),
            (
                "/issuer/orgs/org_1/offers/s3cr3t",
                "/issuer/orgs/org_1/offers/{secret}",
            ),
            ("/orgs/org_1/offers/s3cr3t", "/orgs/org_1/offers/{secret}"),
        ] {
            assert_eq!(redact_path(path), logged, "{path}");
        }
        // Everything else as it is: the JSON API, ids, the routes around the secret ones.
        for path in [
            "/issuer/api/v1/invitations/accept",
            "/issuer/api/v1/organisations/org_1/invitations",
            "/issuer/api/v1/calendar-feed",
            "/issuer/orgs/org_1/sessions/ses_1",
            "/issuer/orgs/org_1/token",
            "/verifier/companies/co_1/offers",
            "/verifier/companies/co_1/offers/off_1",
            "/issuer/invitations/",
            "/issuer/calendar",
            "/",
            "",
        ] {
            assert_eq!(redact_path(path), path);
        }
    }
}
