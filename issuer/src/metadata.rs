//! What the issuer publishes about each organisation: JWT VC Issuer Metadata (its keys), the
//! OpenID4VCI credential issuer metadata, the OAuth authorization server metadata (the token
//! endpoint), and SD-JWT VC type metadata for each `vct`. The well-known documents sit at the
//! host's root (`/.well-known/<name><issuer path>`), so the binary mounts [`well_known`] there.

use crate::offers::{COMPETENCY, COMPLETION, IDENTITY, issuer_id};
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
            "credential_configurations_supported": CONFIGURATIONS.iter().map(|c| (c.id.to_owned(), json!({
                "format": FORMAT_SD_JWT_VC,
                "scope": c.id,
                "vct": format!("{base}/vct/{}", c.id),
                "credential_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"],
                "cryptographic_binding_methods_supported": ["jwk"],
                "proof_types_supported": { "jwt": { "proof_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"] } },
                "credential_metadata": {
                    "display": [{ "name": c.name.0, "locale": "fr" }, { "name": c.name.1, "locale": "en" }],
                    "claims": c.claims_json(false),
                },
            }))).collect::<serde_json::Map<_, _>>(),
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

/// A credential type the issuer offers.
pub struct Configuration {
    pub id: &'static str,
    /// (French, English)
    pub name: (&'static str, &'static str),
    pub description: (&'static str, &'static str),
    /// Claim paths with their French and English display names.
    pub claims: &'static [(&'static [&'static str], &'static str, &'static str)],
}

pub const CONFIGURATIONS: [Configuration; 3] = [
    Configuration {
        id: COMPETENCY,
        name: ("Compétence validée", "Validated competency"),
        description: (
            "Compétence validée par un centre de formation, à un niveau de son échelle",
            "A competency validated by a training centre, at a level of its scale",
        ),
        claims: &[
            (&["name"], "Nom", "Name"),
            (&["competency", "name"], "Compétence", "Competency"),
            (&["competency", "code"], "Code", "Code"),
            (
                &["competency", "framework_codes"],
                "Référentiels",
                "Frameworks",
            ),
            (&["level", "label"], "Niveau", "Level"),
            (&["level", "value"], "Niveau normalisé", "Normalised level"),
            (&["validated_on"], "Validée le", "Validated on"),
            (&["evaluator", "name"], "Évaluateur", "Evaluator"),
            (&["establishment", "name"], "Établissement", "Establishment"),
            (&["establishment", "siret"], "SIRET", "SIRET"),
            (&["session", "title"], "Session", "Session"),
        ],
    },
    Configuration {
        id: IDENTITY,
        name: ("Identité", "Identity"),
        description: (
            "Identité vérifiée par le centre à l'inscription",
            "Identity checked by the centre at enrolment",
        ),
        claims: &[
            (&["given_name"], "Prénom", "Given name"),
            (&["family_name"], "Nom", "Family name"),
            (&["birthdate"], "Date de naissance", "Birth date"),
            (&["email"], "Courriel", "E-mail"),
            (&["phone_number"], "Téléphone", "Phone number"),
            (&["address", "street_address"], "Adresse", "Street address"),
            (&["address", "postal_code"], "Code postal", "Postal code"),
            (&["address", "locality"], "Ville", "Town"),
            (&["address", "country"], "Pays", "Country"),
        ],
    },
    Configuration {
        id: COMPLETION,
        name: ("Certificat de réalisation", "Completion certificate"),
        description: (
            "Certificat de réalisation d'une action de formation",
            "Certificate of completion of a training course",
        ),
        claims: &[
            (&["name"], "Nom", "Name"),
            (&["formation", "title"], "Formation", "Course"),
            (&["formation", "starts_on"], "Début", "Start"),
            (&["formation", "ends_on"], "Fin", "End"),
            (&["hours", "planned"], "Heures prévues", "Planned hours"),
            (&["hours", "attended"], "Heures réalisées", "Hours attended"),
            (&["establishment", "name"], "Établissement", "Establishment"),
            (&["establishment", "siret"], "SIRET", "SIRET"),
        ],
    },
];

impl Configuration {
    pub fn find(id: &str) -> Option<&'static Configuration> {
        CONFIGURATIONS.iter().find(|c| c.id == id)
    }

    /// Claim metadata: OpenID4VCI's form, or SD-JWT VC type metadata's (with `sd`).
    fn claims_json(&self, type_metadata: bool) -> Value {
        Value::Array(
            self.claims
                .iter()
                .map(|(path, fr, en)| {
                    let mut claim = json!({ "path": path, "display": [{ "name": fr, "locale": "fr" }, { "name": en, "locale": "en" }] });
                    if type_metadata {
                        claim["sd"] = json!("allowed");
                    }
                    claim
                })
                .collect(),
        )
    }
}

/// `GET /vct/{configuration}`: SD-JWT VC type metadata.
pub async fn type_metadata(
    State(state): State<IssuerState>,
    Path(configuration): Path<String>,
) -> Response {
    let Some(c) = Configuration::find(&configuration) else {
        return ApiError::NotFound.into_response();
    };
    json_response(json!({
        "vct": format!("{}/vct/{}", state.ctx.config.public_url, c.id),
        "name": c.name.1,
        "description": c.description.1,
        "display": [
            { "locale": "fr", "name": c.name.0, "description": c.description.0 },
            { "locale": "en", "name": c.name.1, "description": c.description.1 },
        ],
        "claims": c.claims_json(true),
    }))
}
