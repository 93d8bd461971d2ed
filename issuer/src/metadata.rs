//! What the issuer publishes about each organisation: JWT VC Issuer Metadata (its keys), the
//! OpenID4VCI credential issuer metadata, the OAuth authorization server metadata (the token
//! endpoint), and SD-JWT VC type metadata for each `vct`. The well-known documents sit at the
//! host's root (`/.well-known/<name><issuer path>`), so the binary mounts [`well_known`] there.

use crate::offers::{COMPETENCY, issuer_id};
use crate::vci::BATCH_SIZE;
use crate::{IssuerState, keys};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carnet_core::metadata::JwtVcIssuerMetadata;
use carnet_core::oid4vci::FORMAT_SD_JWT_VC;
use carnet_service::error::ApiError;
use carnet_service::id::looks_like_id;
use serde_json::{Value, json};

/// The well-known routes, to mount at the host root.
pub fn well_known(state: IssuerState) -> Router {
    let prefix = state.ctx.config.path_prefix().to_owned();
    Router::new()
        .route(
            &format!("/.well-known/jwt-vc-issuer{prefix}/orgs/{{org}}"),
            get(jwt_vc_issuer),
        )
        .route(
            &format!("/.well-known/openid-credential-issuer{prefix}/orgs/{{org}}"),
            get(credential_issuer),
        )
        .route(
            &format!("/.well-known/oauth-authorization-server{prefix}/orgs/{{org}}"),
            get(authorization_server),
        )
        .with_state(state)
}

async fn known_org(state: &IssuerState, org: &str) -> Result<(), ApiError> {
    if !looks_like_id(org) {
        return Err(ApiError::NotFound);
    }
    let found: Option<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE id = $1")
        .bind(org)
        .fetch_optional(state.ctx.db.pool())
        .await?;
    found.map(|_| ()).ok_or(ApiError::NotFound)
}

fn json_response(value: Value) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(value),
    )
        .into_response()
}

async fn jwt_vc_issuer(State(state): State<IssuerState>, Path(org): Path<String>) -> Response {
    let run = async {
        known_org(&state, &org).await?;
        keys::active_key(&state, &org).await?;
        let metadata = JwtVcIssuerMetadata {
            issuer: issuer_id(&state, &org),
            jwks: Some(keys::jwks(&state.ctx, &org).await?),
            jwks_uri: None,
        };
        Ok::<_, ApiError>(json_response(serde_json::to_value(metadata)?))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn credential_issuer(State(state): State<IssuerState>, Path(org): Path<String>) -> Response {
    let run = async {
        known_org(&state, &org).await?;
        let (name,): (String,) = sqlx::query_as("SELECT name FROM tenants WHERE id = $1")
            .bind(&org)
            .fetch_one(state.ctx.db.pool())
            .await?;
        let issuer = issuer_id(&state, &org);
        let base = &state.ctx.config.public_url;
        Ok::<_, ApiError>(json_response(json!({
            "credential_issuer": issuer,
            "authorization_servers": [issuer],
            "credential_endpoint": format!("{issuer}/credential"),
            "nonce_endpoint": format!("{issuer}/nonce"),
            "batch_credential_issuance": { "batch_size": BATCH_SIZE },
            "display": [{ "name": name, "locale": "fr" }, { "name": name, "locale": "en" }],
            "credential_configurations_supported": {
                COMPETENCY: {
                    "format": FORMAT_SD_JWT_VC,
                    "scope": COMPETENCY,
                    "vct": format!("{base}/vct/{COMPETENCY}"),
                    "credential_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"],
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "proof_types_supported": { "jwt": { "proof_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"] } },
                    "credential_metadata": {
                        "display": [
                            { "name": "Compétence validée", "locale": "fr" },
                            { "name": "Validated competency", "locale": "en" },
                        ],
                        "claims": competency_claims(),
                    },
                }
            },
        })))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn authorization_server(
    State(state): State<IssuerState>,
    Path(org): Path<String>,
) -> Response {
    let run = async {
        known_org(&state, &org).await?;
        let issuer = issuer_id(&state, &org);
        Ok::<_, ApiError>(json_response(json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/token"),
            "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
            "pre-authorized_grant_anonymous_access_supported": true,
        })))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Claim display names, French and English, for wallets.
fn competency_claims() -> Value {
    let claim = |path: Value, fr: &str, en: &str| json!({ "path": path, "display": [{ "name": fr, "locale": "fr" }, { "name": en, "locale": "en" }] });
    json!([
        claim(json!(["name"]), "Nom", "Name"),
        claim(json!(["competency", "name"]), "Compétence", "Competency"),
        claim(json!(["competency", "code"]), "Code", "Code"),
        claim(
            json!(["competency", "framework_codes"]),
            "Référentiels",
            "Frameworks"
        ),
        claim(json!(["level", "label"]), "Niveau", "Level"),
        claim(
            json!(["level", "value"]),
            "Niveau normalisé",
            "Normalised level"
        ),
        claim(json!(["validated_on"]), "Validée le", "Validated on"),
        claim(json!(["evaluator", "name"]), "Évaluateur", "Evaluator"),
        claim(
            json!(["establishment", "name"]),
            "Établissement",
            "Establishment"
        ),
        claim(json!(["establishment", "siret"]), "SIRET", "SIRET"),
        claim(json!(["session", "title"]), "Session", "Session"),
    ])
}

/// `GET /vct/{configuration}`: SD-JWT VC type metadata.
pub async fn type_metadata(
    State(state): State<IssuerState>,
    Path(configuration): Path<String>,
) -> Response {
    if configuration != COMPETENCY {
        return ApiError::NotFound.into_response();
    }
    let claims: Vec<Value> = competency_claims()
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let mut c = c.clone();
            c["sd"] = json!("allowed");
            c
        })
        .collect();
    json_response(json!({
        "vct": format!("{}/vct/{COMPETENCY}", state.ctx.config.public_url),
        "name": "Carnet competency credential",
        "description": "A competency validated by a training centre, at a level of its scale.",
        "display": [
            { "locale": "fr", "name": "Compétence validée", "description": "Compétence validée par un centre de formation" },
            { "locale": "en", "name": "Validated competency", "description": "Competency validated by a training centre" },
        ],
        "claims": claims,
    }))
}
