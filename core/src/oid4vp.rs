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
/// A form POST of the `vp_token` to `response_uri`.
pub const DIRECT_POST: &str = "direct_post";
/// The same, encrypted to the verifier's key for this request (`response=<JWE>`; §8.3).
pub const DIRECT_POST_JWT: &str = "direct_post.jwt";
/// Content encryptions of encrypted responses (HAIP: ECDH-ES on P-256 with these).
pub const RESPONSE_ENCS: [&str; 2] = ["A128GCM", "A256GCM"];
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
    #[error("response_mode {0:?} is not supported (direct_post or direct_post.jwt)")]
    ResponseMode(String),
    #[error("direct_post.jwt needs an ECDH-ES P-256 key in client_metadata.jwks")]
    NoEncryptionKey,
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
    /// `direct_post`, or `direct_post.jwt` (then `client_metadata` carries the key).
    pub response_mode: String,
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
        let response_mode = required("response_mode")?;
        if response_mode != DIRECT_POST && response_mode != DIRECT_POST_JWT {
            return Err(RequestError::ResponseMode(response_mode));
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
        let request = AuthorizationRequest {
            nonce: required("nonce")?,
            state: text("state")?,
            client_metadata: object.get("client_metadata").cloned(),
            client_id,
            response_mode,
            response_uri,
            dcql_query,
        };
        if request.response_mode == DIRECT_POST_JWT && request.encryption().is_none() {
            return Err(RequestError::NoEncryptionKey);
        }
        Ok(request)
    }

    /// The request as its parameters (JSON), for a request object or a link.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut object = json!({
            "response_type": "vp_token",
            "response_mode": self.response_mode,
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

    /// For `direct_post.jwt`: the verifier's key to encrypt the response to (the first EC P-256
    /// key of `client_metadata.jwks` meant for encryption) and the content encryption to use
    /// (the first of `encrypted_response_enc_values_supported` HAIP allows; A128GCM when absent).
    pub fn encryption(&self) -> Option<(Value, &'static str)> {
        let metadata = self.client_metadata.as_ref()?;
        let key = metadata["jwks"]["keys"].as_array()?.iter().find(|k| {
            k["kty"] == "EC"
                && k["crv"] == "P-256"
                && k.get("d").is_none()
                && k.get("use").is_none_or(|u| u == "enc")
                && k.get("alg").is_none_or(|a| a == "ECDH-ES")
        })?;
        let enc = match metadata.get("encrypted_response_enc_values_supported") {
            None => RESPONSE_ENCS[0],
            Some(values) => *RESPONSE_ENCS.iter().find(|e| {
                values
                    .as_array()
                    .is_some_and(|v| v.iter().any(|x| x == **e))
            })?,
        };
        Some((key.clone(), enc))
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

/// The form answering `request`: `vp_token` (a JSON object from credential query id to the
/// presentations answering it), `state` and any `extra` parameters — as they are for
/// `direct_post`, or encrypted to the verifier's key as `response=<JWE>` for
/// `direct_post.jwt` (where `vp_token` is a JSON object inside).
pub fn response_form(
    request: &AuthorizationRequest,
    vp_token: &Map<String, Value>,
    extra: &[(&str, &str)],
) -> Result<Vec<(String, String)>, ResponseEncryptionError> {
    let mut parameters = Map::new();
    parameters.insert("vp_token".into(), Value::Object(vp_token.clone()));
    if let Some(state) = &request.state {
        parameters.insert("state".into(), json!(state));
    }
    for (name, value) in extra {
        parameters.insert((*name).into(), json!(value));
    }
    if request.response_mode == DIRECT_POST_JWT {
        let (key, enc) = request
            .encryption()
            .ok_or_else(|| ResponseEncryptionError::Key("no encryption key".into()))?;
        return Ok(vec![(
            "response".into(),
            encrypt_response(&parameters, &key, enc)?,
        )]);
    }
    Ok(parameters
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (name, text)
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseEncryptionError {
    #[error("the key cannot encrypt: {0}")]
    Key(String),
    #[error("the response cannot be decrypted: {0}")]
    Decrypt(String),
    #[error("the decrypted response is not a JSON object")]
    NotAnObject,
}

/// Encrypts a response's parameters (`vp_token` as a JSON object, `state`, …) to the
/// verifier's public key: a compact JWE, ECDH-ES on P-256, with the key's `kid` in the header.
/// (The ephemeral key and IV come from OpenSSL's generator.)
pub fn encrypt_response(
    parameters: &Map<String, Value>,
    key: &Value,
    enc: &str,
) -> Result<String, ResponseEncryptionError> {
    use josekit::jwe::{ECDH_ES, JweHeader};
    let bad = |e: josekit::JoseError| ResponseEncryptionError::Key(e.to_string());
    let object = key.as_object().cloned().unwrap_or_default();
    let jwk = josekit::jwk::Jwk::from_map(object.clone()).map_err(bad)?;
    let encrypter = ECDH_ES.encrypter_from_jwk(&jwk).map_err(bad)?;
    let mut header = JweHeader::new();
    header.set_content_encryption(enc);
    if let Some(kid) = object.get("kid").and_then(Value::as_str) {
        header.set_key_id(kid);
    }
    josekit::jwe::serialize_compact(
        Value::Object(parameters.clone()).to_string().as_bytes(),
        &header,
        &encrypter,
    )
    .map_err(bad)
}

/// The `kid` in an encrypted response's header (unauthenticated: it only says which key to
/// try).
pub fn encrypted_response_kid(jwe: &str) -> Option<String> {
    let header = jwe.split('.').next()?;
    let header = crate::json::object_from_slice(&b64::decode(header)?)?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// Decrypts an encrypted response with the verifier's private key for the request; only
/// ECDH-ES with A128GCM or A256GCM.
pub fn decrypt_response(
    jwe: &str,
    private_key: &Value,
) -> Result<Map<String, Value>, ResponseEncryptionError> {
    use josekit::jwe::ECDH_ES;
    let key = |e: josekit::JoseError| ResponseEncryptionError::Key(e.to_string());
    let jwk = josekit::jwk::Jwk::from_map(private_key.as_object().cloned().unwrap_or_default())
        .map_err(key)?;
    let decrypter = ECDH_ES.decrypter_from_jwk(&jwk).map_err(key)?;
    let (payload, header) = josekit::jwe::deserialize_compact(jwe, &decrypter)
        .map_err(|e| ResponseEncryptionError::Decrypt(e.to_string()))?;
    if !header
        .content_encryption()
        .is_some_and(|e| RESPONSE_ENCS.contains(&e))
    {
        return Err(ResponseEncryptionError::Decrypt(
            "content encryption other than A128GCM or A256GCM".into(),
        ));
    }
    crate::json::object_from_slice(&payload).ok_or(ResponseEncryptionError::NotAnObject)
}

/// A fresh key pair for one request's encrypted response: (private JWK, public JWK), ECDH-ES on
/// P-256, the public one with `kid`, `use: enc` and `alg: ECDH-ES`.
pub fn response_key_pair(kid: &str) -> Result<(Value, Value), ResponseEncryptionError> {
    use josekit::jwe::ECDH_ES;
    let bad = |e: josekit::JoseError| ResponseEncryptionError::Key(e.to_string());
    let pair = ECDH_ES
        .generate_ec_key_pair(josekit::jwk::alg::ec::EcCurve::P256)
        .map_err(bad)?;
    let mut private = pair.to_jwk_private_key();
    private.set_key_id(kid);
    let mut public = pair.to_jwk_public_key();
    public.set_key_id(kid);
    public.set_key_use("enc");
    public.set_algorithm("ECDH-ES");
    let value = |jwk: josekit::jwk::Jwk| Value::Object(jwk.as_ref().clone());
    Ok((value(private), value(public)))
}

/// The media type of a consent receipt (a Carnet extension, sent beside the `vp_token`).
pub const CONSENT_RECEIPT_TYP: &str = "carnet-consent-receipt+jwt";

/// What a holder consented to share with a verifier, signed by the holder's key for that
/// verifier (carried in the header as `jwk`). It lists the digest of every presentation it
/// covers, and each presentation's key binding signs the same fresh nonce, so the verifier
/// knows one holder made them all and can recognise that holder again by the receipt's key.
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
    /// What the holder declares of themselves beside the credentials (a directory profile's
    /// availability); not verified by any issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Value>,
}

/// The claims shared from one credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedClaims {
    pub query_id: String,
    pub issuer: String,
    pub vct: String,
    pub claims: Vec<crate::path::ClaimPath>,
    /// [`presentation_digest`] of the presentation sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<String>,
}

/// The digest a receipt names a presentation by: SHA-256 of its compact form, base64url.
pub fn presentation_digest(presentation: &str) -> String {
    use sha2::Digest;
    b64::encode(sha2::Sha256::digest(presentation.as_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("the consent receipt is not a signed JWT of its type with the holder's key")]
    Format,
    #[error("the consent receipt's signature does not verify with the holder's key")]
    Signature,
    #[error("the consent receipt is for another request")]
    Request,
}

impl ConsentReceipt {
    pub fn sign(&self, key: &SigningKey) -> Result<String, KeyError> {
        let payload = serde_json::to_value(self).unwrap_or(Value::Null);
        let header = json!({
            "alg": key.algorithm().name(),
            "typ": CONSENT_RECEIPT_TYP,
            "jwk": key.public_jwk(),
        });
        crate::jws::sign_with_header(&header, &payload, key)
    }

    /// Checks a receipt's signature by the key in its header and the request it answers;
    /// returns the receipt and that key, the holder's key for this verifier.
    pub fn verify(
        jwt: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<(ConsentReceipt, VerifyingKey), ReceiptError> {
        let (jws, key) =
            signed_with_header_key(jwt, CONSENT_RECEIPT_TYP).ok_or(ReceiptError::Format)?;
        if !jws.verify(&key) {
            return Err(ReceiptError::Signature);
        }
        let receipt: ConsentReceipt = serde_json::from_value(Value::Object(jws.payload.clone()))
            .map_err(|_| ReceiptError::Format)?;
        if receipt.aud != client_id || receipt.nonce != nonce {
            return Err(ReceiptError::Request);
        }
        Ok((receipt, key))
    }
}

/// A JWS of type `typ` with its public key in the `jwk` header, and that key (unverified).
fn signed_with_header_key<'a>(
    jwt: &'a str,
    typ: &str,
) -> Option<(crate::jws::Jws<'a>, VerifyingKey)> {
    let jws = crate::jws::Jws::parse(jwt).ok()?;
    if jws.header_str("typ") != Some(typ) {
        return None;
    }
    let jwk: crate::keys::Jwk = serde_json::from_value(jws.header.get("jwk")?.clone()).ok()?;
    if jwk.d.is_some() {
        return None;
    }
    let key = VerifyingKey::from_jwk(&jwk).ok()?;
    key.accepts(jws.alg).then_some((jws, key))
}

/// The media type of a holder proof: a request to a verifier made by the holder of a key, in
/// the manner of a DPoP proof (RFC 9449) — method, URL, time and a unique id, signed by the key
/// in the header. It lets a wallet read its offers at a verifier without an account there.
pub const HOLDER_PROOF_TYP: &str = "carnet-holder-proof+jwt";

/// The HTTP header a holder proof travels in.
pub const HOLDER_PROOF_HEADER: &str = "carnet-holder-proof";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolderProofError {
    #[error("the holder proof is not a signed JWT of its type with the holder's key")]
    Format,
    #[error("the holder proof's signature does not verify")]
    Signature,
    #[error("the holder proof is for another request")]
    Request,
    #[error("the holder proof is too old or from the future")]
    Time,
}

/// Signs a holder proof for `method` on `url`.
pub fn holder_proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    iat: i64,
    jti: &str,
) -> Result<String, KeyError> {
    let header = json!({
        "alg": key.algorithm().name(),
        "typ": HOLDER_PROOF_TYP,
        "jwk": key.public_jwk(),
    });
    let payload = json!({"htm": method, "htu": url, "iat": iat, "jti": jti});
    crate::jws::sign_with_header(&header, &payload, key)
}

/// Checks a holder proof for `method` on `url` at `now` (seconds), accepting `window` seconds
/// either way; returns the holder's key and the proof's unique id (for replay checks).
pub fn verify_holder_proof(
    jwt: &str,
    method: &str,
    url: &str,
    now: i64,
    window: i64,
) -> Result<(VerifyingKey, String), HolderProofError> {
    let (jws, key) =
        signed_with_header_key(jwt, HOLDER_PROOF_TYP).ok_or(HolderProofError::Format)?;
    if !jws.verify(&key) {
        return Err(HolderProofError::Signature);
    }
    let text = |name: &str| jws.payload.get(name).and_then(Value::as_str);
    if !text("htm").is_some_and(|m| m.eq_ignore_ascii_case(method)) || text("htu") != Some(url) {
        return Err(HolderProofError::Request);
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= 128)
        .ok_or(HolderProofError::Format)?
        .to_owned();
    let iat = jws
        .payload
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(HolderProofError::Format)?;
    // `abs_diff`: an `iat` at either end of `i64` must not overflow (a panic in debug builds).
    if iat.abs_diff(now) > u64::try_from(window).unwrap_or(0) {
        return Err(HolderProofError::Time);
    }
    Ok((key, jti))
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
            response_mode: DIRECT_POST.into(),
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
        let other = SigningKey::generate(Algorithm::ES256, &mut rng);
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
                presentation: Some(presentation_digest("eyJ...~")),
            }],
            declared: Some(json!({"situation": "seeking"})),
        };
        let jwt = receipt.sign(&key).unwrap();
        let (read, holder) = ConsentReceipt::verify(&jwt, &r.client_id, &r.nonce).unwrap();
        assert_eq!(read, receipt);
        assert_eq!(holder.kid(), key.kid());
        assert_eq!(
            ConsentReceipt::verify(&jwt, &r.client_id, "replayed").err(),
            Some(ReceiptError::Request)
        );
        assert_eq!(
            ConsentReceipt::verify("a.b.c", &r.client_id, &r.nonce).err(),
            Some(ReceiptError::Format)
        );
        // Another key in the header does not make the signature its own.
        let parts: Vec<&str> = jwt.split('.').collect();
        let forged_header =
            json!({"alg": "ES256", "typ": CONSENT_RECEIPT_TYP, "jwk": other.public_jwk()});
        let forged = format!(
            "{}.{}.{}",
            b64::encode(forged_header.to_string()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            ConsentReceipt::verify(&forged, &r.client_id, &r.nonce).err(),
            Some(ReceiptError::Signature)
        );
        // A key whose type does not match the algorithm is refused outright.
        let mixed = json!({"alg": "ES256", "typ": CONSENT_RECEIPT_TYP, "jwk": key.public_jwk()});
        let mixed = format!(
            "{}.{}.{}",
            b64::encode(mixed.to_string()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            ConsentReceipt::verify(&mixed, &r.client_id, &r.nonce).err(),
            Some(ReceiptError::Format)
        );
    }

    #[test]
    fn holder_proofs() {
        use crate::keys::Algorithm;
        use rand::SeedableRng;
        let key = SigningKey::generate(Algorithm::ES256, &mut rand::rngs::StdRng::seed_from_u64(9));
        let url = "https://verifier.example/api/v1/inbox";
        let proof = holder_proof(&key, "GET", url, 1_000, "j-1").unwrap();
        let (holder, jti) = verify_holder_proof(&proof, "GET", url, 1_030, 60).unwrap();
        assert_eq!((holder.kid(), jti.as_str()), (key.kid(), "j-1"));
        assert_eq!(
            verify_holder_proof(&proof, "POST", url, 1_000, 60).unwrap_err(),
            HolderProofError::Request
        );
        assert_eq!(
            verify_holder_proof(&proof, "GET", "https://verifier.example/other", 1_000, 60)
                .unwrap_err(),
            HolderProofError::Request
        );
        assert_eq!(
            verify_holder_proof(&proof, "GET", url, 1_100, 60).unwrap_err(),
            HolderProofError::Time
        );
        let receipt_typed = proof.replace(
            &proof[..proof.find('.').unwrap()],
            &b64::encode(
                json!({"alg": "ES256", "typ": CONSENT_RECEIPT_TYP, "jwk": key.public_jwk()})
                    .to_string(),
            ),
        );
        assert_eq!(
            verify_holder_proof(&receipt_typed, "GET", url, 1_000, 60).unwrap_err(),
            HolderProofError::Format
        );
    }

    fn request_with(response_mode: &str, client_metadata: Option<Value>) -> AuthorizationRequest {
        AuthorizationRequest {
            response_mode: response_mode.into(),
            client_metadata,
            ..request()
        }
    }

    #[test]
    fn the_answer_is_a_form() {
        let mut token = Map::new();
        token.insert("identity".into(), json!(["eyJ...~"]));
        let form = response_form(
            &request_with(DIRECT_POST, None),
            &token,
            &[("consent_receipt", "r")],
        )
        .unwrap();
        assert_eq!(
            form,
            [
                ("vp_token".into(), r#"{"identity":["eyJ...~"]}"#.into()),
                ("state".into(), "offer-42".into()),
                ("consent_receipt".into(), "r".into()),
            ]
        );
    }

    #[test]
    fn an_encrypted_answer_opens_only_with_the_request_key() {
        let (private, public) = response_key_pair("req-1").unwrap();
        assert!(public.get("d").is_none() && private.get("d").is_some());
        let metadata = json!({"jwks": {"keys": [public]}, "encrypted_response_enc_values_supported": ["A256GCM", "A128GCM"]});
        let encrypted = request_with(DIRECT_POST_JWT, Some(metadata.clone()));
        // Through a link, as a wallet reads it.
        let RequestSource::ByValue(read) = parse_request_link(&encrypted.to_link()).unwrap() else {
            panic!("by value");
        };
        assert_eq!(read, encrypted);
        assert_eq!(read.encryption().unwrap().1, "A128GCM");
        let mut token = Map::new();
        token.insert("identity".into(), json!(["eyJ...~"]));
        let form = response_form(&read, &token, &[("consent_receipt", "r")]).unwrap();
        assert_eq!(form.len(), 1);
        assert_eq!(form[0].0, "response");
        let jwe = &form[0].1;
        assert_eq!(encrypted_response_kid(jwe).as_deref(), Some("req-1"));
        let opened = decrypt_response(jwe, &private).unwrap();
        assert_eq!(opened["vp_token"], json!({"identity": ["eyJ...~"]}));
        assert_eq!(opened["state"], "offer-42");
        assert_eq!(opened["consent_receipt"], "r");
        let (other, _) = response_key_pair("req-2").unwrap();
        assert!(decrypt_response(jwe, &other).is_err());
        let mut tampered = jwe.clone();
        tampered.pop();
        tampered.push(if jwe.ends_with('A') { 'B' } else { 'A' });
        assert!(decrypt_response(&tampered, &private).is_err());
        // direct_post.jwt without a key to encrypt to is refused.
        let mut object = encrypted.to_object();
        object.remove("client_metadata");
        assert_eq!(
            AuthorizationRequest::from_object(&object).unwrap_err(),
            RequestError::NoEncryptionKey
        );
        object.insert(
            "client_metadata".into(),
            json!({"jwks": {"keys": [{"kty": "OKP", "crv": "X25519", "x": "AA"}]}}),
        );
        assert_eq!(
            AuthorizationRequest::from_object(&object).unwrap_err(),
            RequestError::NoEncryptionKey
        );
        // Only the encodings HAIP allows.
        let only_cbc = request_with(
            DIRECT_POST_JWT,
            Some(
                json!({"jwks": metadata["jwks"], "encrypted_response_enc_values_supported": ["A128CBC-HS256"]}),
            ),
        );
        assert!(only_cbc.encryption().is_none());
    }
}
