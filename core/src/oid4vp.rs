//! OpenID for Verifiable Presentations 1.0, the parts a wallet reads and a verifier writes:
//! the authorization request (by value in a link, or by reference as a request object), its
//! checks (`response_type=vp_token`, `direct_post` to a `response_uri`, a nonce, a DCQL
//! query, the client identifier prefix), and the `vp_token` answer. Requests signed under an
//! X.509 or attestation prefix are refused for now: only `redirect_uri:` clients, whose
//! requests are unsigned, are accepted.

use crate::b64;
use crate::dcql::DcqlQuery;
use crate::keys::{KeyError, SigningKey, VerifyingKey};
use crate::oid4vci::{percent_decode, percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The request object's media type (RFC 9101).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The media type a request object is fetched as.
pub const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";
/// The only response mode supported: a form POST of the `vp_token` to `response_uri`.
pub const DIRECT_POST: &str = "direct_post";
/// The client identifier prefix of unsigned requests answered by `direct_post`.
pub const REDIRECT_URI_PREFIX: &str = "redirect_uri:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("not an OpenID4VP request link")]
    NotALink,
    #[error("the request lacks `{0}`")]
    Missing(&'static str),
    #[error("`{0}` is malformed")]
    Malformed(&'static str),
    #[error("response_type must be vp_token")]
    ResponseType,
    #[error("response_mode {0:?} is not supported (direct_post only)")]
    ResponseMode(String),
    #[error("redirect_uri must not come with direct_post")]
    RedirectUri,
    #[error("client identifiers of this kind are not supported: {0}")]
    ClientIdPrefix(String),
    #[error("the client identifier does not match the response_uri")]
    ClientIdMismatch,
    #[error("the request object is not an unsigned JWT of type oauth-authz-req+jwt")]
    RequestObject,
    #[error("the DCQL query is invalid: {0}")]
    Dcql(String),
}

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub response_uri: String,
    pub nonce: String,
    pub state: Option<String>,
    pub dcql_query: DcqlQuery,
    pub client_metadata: Option<Value>,
}

/// What a link gives: the request itself, or where to fetch it.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestSource {
    ByValue(AuthorizationRequest),
    ByReference {
        client_id: String,
        request_uri: String,
        /// `get` (default) or `post`.
        method: String,
    },
}

fn query_params(link: &str) -> Result<Map<String, Value>, RequestError> {
    let (_, query) = link.trim().split_once('?').ok_or(RequestError::NotALink)?;
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " ")).ok_or(RequestError::NotALink)?;
        params.insert(name.to_owned(), Value::String(value));
    }
    Ok(params)
}

/// Reads an `openid4vp://?…` link (any scheme): the request by value, or its `request_uri`.
pub fn parse_request_link(link: &str) -> Result<RequestSource, RequestError> {
    let params = query_params(link)?;
    let text = |name: &'static str| params.get(name).and_then(Value::as_str);
    let client_id = text("client_id").ok_or(RequestError::Missing("client_id"))?;
    if let Some(request_uri) = text("request_uri") {
        let method = text("request_uri_method").unwrap_or("get");
        if !matches!(method, "get" | "post") {
            return Err(RequestError::Malformed("request_uri_method"));
        }
        return Ok(RequestSource::ByReference {
            client_id: client_id.to_owned(),
            request_uri: request_uri.to_owned(),
            method: method.to_owned(),
        });
    }
    // By value, JSON-valued parameters are JSON text.
    let mut object = Map::new();
    for (name, value) in params {
        let value = match name.as_str() {
            "dcql_query" | "client_metadata" => {
                serde_json::from_str(value.as_str().unwrap_or_default()).map_err(|_| {
                    RequestError::Malformed(if name == "dcql_query" {
                        "dcql_query"
                    } else {
                        "client_metadata"
                    })
                })?
            }
            _ => value,
        };
        object.insert(name, value);
    }
    Ok(RequestSource::ByValue(AuthorizationRequest::from_object(
        &object,
    )?))
}

/// Reads the request object fetched from `request_uri`; its `client_id` must be the link's.
/// Only unsigned request objects (`alg: none`) are accepted, as `redirect_uri:` clients send.
pub fn parse_request_object(
    jwt: &str,
    client_id: &str,
) -> Result<AuthorizationRequest, RequestError> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(RequestError::RequestObject);
    };
    let decode = |part: &str| {
        b64::decode(part)
            .and_then(|bytes| crate::json::object_from_slice(&bytes))
            .ok_or(RequestError::RequestObject)
    };
    let header = decode(header)?;
    if !signature.is_empty()
        || header.get("alg").and_then(Value::as_str) != Some("none")
        || header.get("typ").and_then(Value::as_str) != Some(REQUEST_OBJECT_TYP)
    {
        return Err(RequestError::RequestObject);
    }
    let request = AuthorizationRequest::from_object(&decode(payload)?)?;
    if request.client_id != client_id {
        return Err(RequestError::ClientIdMismatch);
    }
    Ok(request)
}

impl AuthorizationRequest {
    /// Checks the request's parameters (as a JSON object: a request object's claims, or the
    /// link's parameters with the JSON ones parsed).
    pub fn from_object(object: &Map<String, Value>) -> Result<AuthorizationRequest, RequestError> {
        let text = |name: &'static str| -> Result<Option<String>, RequestError> {
            match object.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(RequestError::Malformed(name)),
            }
        };
        let required = |name: &'static str| {
            text(name)?
                .filter(|s| !s.is_empty())
                .ok_or(RequestError::Missing(name))
        };
        if required("response_type")? != "vp_token" {
            return Err(RequestError::ResponseType);
        }
        let mode = required("response_mode")?;
        if mode != DIRECT_POST {
            return Err(RequestError::ResponseMode(mode));
        }
        if object.contains_key("redirect_uri") {
            return Err(RequestError::RedirectUri);
        }
        let client_id = required("client_id")?;
        let response_uri = required("response_uri")?;
        match client_id.split_once(':') {
            Some(("redirect_uri", uri)) if uri == response_uri => {}
            Some(("redirect_uri", _)) => return Err(RequestError::ClientIdMismatch),
            _ => return Err(RequestError::ClientIdPrefix(client_id)),
        }
        let dcql = object
            .get("dcql_query")
            .ok_or(RequestError::Missing("dcql_query"))?;
        let dcql_query =
            DcqlQuery::from_value(dcql).map_err(|e| RequestError::Dcql(e.to_string()))?;
        Ok(AuthorizationRequest {
            nonce: required("nonce")?,
            state: text("state")?,
            client_metadata: object.get("client_metadata").cloned(),
            client_id,
            response_uri,
            dcql_query,
        })
    }

    /// The request as its parameters (JSON), for a request object or a link.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut object = json!({
            "response_type": "vp_token",
            "response_mode": DIRECT_POST,
            "client_id": self.client_id,
            "response_uri": self.response_uri,
            "nonce": self.nonce,
            "dcql_query": self.dcql_query,
        });
        if let Some(state) = &self.state {
            object["state"] = json!(state);
        }
        if let Some(metadata) = &self.client_metadata {
            object["client_metadata"] = metadata.clone();
        }
        object.as_object().cloned().unwrap_or_default()
    }

    /// The request as an unsigned request object (`alg: none`), to serve at a `request_uri`.
    pub fn to_request_object(&self) -> String {
        let header = json!({ "alg": "none", "typ": REQUEST_OBJECT_TYP });
        format!(
            "{}.{}.",
            b64::encode(header.to_string()),
            b64::encode(Value::Object(self.to_object()).to_string())
        )
    }

    /// An `openid4vp://` link carrying the request by value.
    pub fn to_link(&self) -> String {
        let params: Vec<String> = self
            .to_object()
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                format!("{name}={}", percent_encode(&text))
            })
            .collect();
        format!("openid4vp://?{}", params.join("&"))
    }
}

/// An `openid4vp://` link pointing at a request object.
pub fn request_link(client_id: &str, request_uri: &str) -> String {
    format!(
        "openid4vp://?client_id={}&request_uri={}",
        percent_encode(client_id),
        percent_encode(request_uri)
    )
}

/// The `direct_post` form: `vp_token` (a JSON object from credential query id to the
/// presentations answering it) and `state`.
pub fn direct_post_form(
    vp_token: &Map<String, Value>,
    state: Option<&str>,
) -> Vec<(String, String)> {
    let mut form = vec![(
        "vp_token".to_owned(),
        Value::Object(vp_token.clone()).to_string(),
    )];
    if let Some(state) = state {
        form.push(("state".to_owned(), state.to_owned()));
    }
    form
}

/// The media type of a consent receipt (a Carnet extension, sent beside the `vp_token`).
pub const CONSENT_RECEIPT_TYP: &str = "carnet-consent-receipt+jwt";

/// What a holder consented to share with a verifier, signed by the holder's key for one of the
/// presented credentials, so the verifier can tie it to the holder (`cnf.jwk`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentReceipt {
    /// The verifier's client identifier.
    pub aud: String,
    /// The request's nonce and state (an offer, for a recruiter).
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Unix seconds.
    pub iat: i64,
    pub shared: Vec<SharedClaims>,
}

/// The claims shared from one credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedClaims {
    pub query_id: String,
    pub issuer: String,
    pub vct: String,
    pub claims: Vec<crate::path::ClaimPath>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("the consent receipt is not a signed JWT of its type")]
    Format,
    #[error("the consent receipt's signature does not verify with the holder's key")]
    Signature,
    #[error("the consent receipt is for another request")]
    Request,
}

impl ConsentReceipt {
    pub fn sign(&self, key: &SigningKey) -> Result<String, KeyError> {
        let payload = serde_json::to_value(self).unwrap_or(Value::Null);
        crate::jws::sign(CONSENT_RECEIPT_TYP, None, &payload, key)
    }

    /// Checks a receipt against the holder key of a presented credential and the request it
    /// answers.
    pub fn verify(
        jwt: &str,
        holder: &VerifyingKey,
        client_id: &str,
        nonce: &str,
    ) -> Result<ConsentReceipt, ReceiptError> {
        let jws = crate::jws::Jws::parse(jwt).map_err(|_| ReceiptError::Format)?;
        if jws.header_str("typ") != Some(CONSENT_RECEIPT_TYP) {
            return Err(ReceiptError::Format);
        }
        if !jws.verify(holder) {
            return Err(ReceiptError::Signature);
        }
        let receipt: ConsentReceipt = serde_json::from_value(Value::Object(jws.payload.clone()))
            .map_err(|_| ReceiptError::Format)?;
        if receipt.aud != client_id || receipt.nonce != nonce {
            return Err(ReceiptError::Request);
        }
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "redirect_uri:https://recruteur.example/verifier/response".into(),
            response_uri: "https://recruteur.example/verifier/response".into(),
            nonce: "n-0S6_WzA2Mj".into(),
            state: Some("offer-42".into()),
            dcql_query: DcqlQuery::from_value(
                &json!({"credentials": [{"id": "identity", "format": "dc+sd-jwt",
                "claims": [{"id": "email", "path": ["email"]}]}]}),
            )
            .unwrap(),
            client_metadata: None,
        }
    }

    #[test]
    fn links_and_request_objects_round_trip() {
        let r = request();
        assert_eq!(
            parse_request_link(&r.to_link()).unwrap(),
            RequestSource::ByValue(r.clone())
        );
        let link = request_link(
            &r.client_id,
            "https://recruteur.example/verifier/requests/abc",
        );
        let RequestSource::ByReference {
            client_id,
            request_uri,
            method,
        } = parse_request_link(&link).unwrap()
        else {
            panic!("by reference")
        };
        assert_eq!(
            (request_uri.as_str(), method.as_str()),
            ("https://recruteur.example/verifier/requests/abc", "get")
        );
        assert_eq!(
            parse_request_object(&r.to_request_object(), &client_id).unwrap(),
            r
        );
        assert_eq!(
            parse_request_object(
                &r.to_request_object(),
                "redirect_uri:https://other.example/"
            ),
            Err(RequestError::ClientIdMismatch)
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let base = request().to_object();
        let with = |name: &str, value: Value| {
            let mut o = base.clone();
            o.insert(name.into(), value);
            AuthorizationRequest::from_object(&o)
        };
        let without = |name: &str| {
            let mut o = base.clone();
            o.remove(name);
            AuthorizationRequest::from_object(&o)
        };
        assert_eq!(
            with("response_type", json!("code")),
            Err(RequestError::ResponseType)
        );
        assert_eq!(
            with("response_mode", json!("fragment")),
            Err(RequestError::ResponseMode("fragment".into()))
        );
        assert_eq!(
            with("redirect_uri", json!("https://x")),
            Err(RequestError::RedirectUri)
        );
        assert_eq!(
            with("client_id", json!("redirect_uri:https://evil.example/")),
            Err(RequestError::ClientIdMismatch)
        );
        assert!(matches!(
            with("client_id", json!("x509_hash:abc")),
            Err(RequestError::ClientIdPrefix(_))
        ));
        assert!(matches!(
            with("client_id", json!("origin:https://x")),
            Err(RequestError::ClientIdPrefix(_))
        ));
        assert!(matches!(
            with("client_id", json!("registered-client")),
            Err(RequestError::ClientIdPrefix(_))
        ));
        assert!(matches!(
            with("dcql_query", json!({"credentials": []})),
            Err(RequestError::Dcql(_))
        ));
        assert_eq!(without("nonce"), Err(RequestError::Missing("nonce")));
        assert_eq!(
            with("nonce", json!("")),
            Err(RequestError::Missing("nonce"))
        );
        assert_eq!(
            with("nonce", json!(5)),
            Err(RequestError::Malformed("nonce"))
        );
        assert_eq!(
            parse_request_link("https://example.org/"),
            Err(RequestError::NotALink)
        );
        // A signed request object is not taken for an unsigned one.
        let r = request();
        let signed = r.to_request_object().replace(
            &b64::encode(json!({"alg": "none", "typ": REQUEST_OBJECT_TYP}).to_string()),
            &b64::encode(json!({"alg": "ES256", "typ": REQUEST_OBJECT_TYP}).to_string()),
        );
        assert_eq!(
            parse_request_object(&signed, &r.client_id),
            Err(RequestError::RequestObject)
        );
        assert_eq!(
            parse_request_object(&format!("{}sig", r.to_request_object()), &r.client_id),
            Err(RequestError::RequestObject)
        );
    }

    #[test]
    fn consent_receipts() {
        use crate::keys::Algorithm;
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let key = SigningKey::generate(Algorithm::EdDSA, &mut rng);
        let other = SigningKey::generate(Algorithm::EdDSA, &mut rng);
        let r = request();
        let receipt = ConsentReceipt {
            aud: r.client_id.clone(),
            nonce: r.nonce.clone(),
            state: r.state.clone(),
            iat: 1_800_000_000,
            shared: vec![SharedClaims {
                query_id: "identity".into(),
                issuer: "https://centre.example/issuer/orgs/o".into(),
                vct: "https://centre.example/issuer/vct/identity".into(),
                claims: vec![crate::path::ClaimPath::key("email")],
            }],
        };
        let jwt = receipt.sign(&key).unwrap();
        assert_eq!(
            ConsentReceipt::verify(&jwt, key.verifying_key(), &r.client_id, &r.nonce).unwrap(),
            receipt
        );
        assert_eq!(
            ConsentReceipt::verify(&jwt, other.verifying_key(), &r.client_id, &r.nonce),
            Err(ReceiptError::Signature)
        );
        assert_eq!(
            ConsentReceipt::verify(&jwt, key.verifying_key(), &r.client_id, "replayed"),
            Err(ReceiptError::Request)
        );
        assert_eq!(
            ConsentReceipt::verify("a.b.c", key.verifying_key(), &r.client_id, &r.nonce),
            Err(ReceiptError::Format)
        );
    }

    #[test]
    fn the_answer_is_a_form() {
        let mut token = Map::new();
        token.insert("identity".into(), json!(["eyJ...~"]));
        let form = direct_post_form(&token, Some("offer-42"));
        assert_eq!(
            form[0],
            ("vp_token".into(), r#"{"identity":["eyJ...~"]}"#.into())
        );
        assert_eq!(form[1], ("state".into(), "offer-42".into()));
    }
}
