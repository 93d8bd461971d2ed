//! Compact JWS (RFC 7515) signing and parsing, just what SD-JWTs, key binding JWTs and status
//! list tokens need. Parsing is strict and does not verify: the caller picks the key first.

use crate::keys::{Algorithm, KeyError, SigningKey, VerifyingKey};
use crate::{b64, json};
use serde_json::{Map, Value};

/// What can be wrong with the shape of a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS (three base64url parts separated by dots)")]
    Format,
    #[error("the header is not base64url-encoded JSON object")]
    Header,
    #[error("the payload is not base64url-encoded JSON object")]
    Payload,
    #[error("the signature is not base64url")]
    Signature,
    #[error("missing or unsupported `alg` `{0}`")]
    Algorithm(String),
    #[error("the header has a `crit` member, and no extension is understood here")]
    Critical,
}

/// A parsed compact JWS whose signature has not been checked yet.
#[derive(Debug)]
pub struct Jws<'a> {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    pub alg: Algorithm,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    pub fn parse(token: &'a str) -> Result<Jws<'a>, JwsError> {
        let mut parts = token.splitn(4, '.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Format);
        };
        let header = b64::decode(h)
            .and_then(|b| json::object_from_slice(&b))
            .ok_or(JwsError::Header)?;
        let payload = b64::decode(p)
            .and_then(|b| json::object_from_slice(&b))
            .ok_or(JwsError::Payload)?;
        let signature = b64::decode(s).ok_or(JwsError::Signature)?;
        if header.contains_key("crit") {
            return Err(JwsError::Critical);
        }
        let alg = match header.get("alg") {
            Some(Value::String(a)) => a.parse().map_err(|_| JwsError::Algorithm(a.clone()))?,
            _ => return Err(JwsError::Algorithm(String::new())),
        };
        Ok(Jws {
            header,
            payload,
            alg,
            signing_input: &token[..h.len() + 1 + p.len()],
            signature,
        })
    }

    /// A string member of the header.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// The signing input, `base64url(header) "." base64url(payload)`.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    pub fn verify(&self, key: &VerifyingKey) -> bool {
        key.verify(self.alg, self.signing_input.as_bytes(), &self.signature)
    }
}

/// Signs `payload` with a header made of `alg`, `typ` and `kid` (when given).
pub fn sign(
    typ: &str,
    kid: Option<&str>,
    payload: &Value,
    key: &SigningKey,
) -> Result<String, KeyError> {
    let mut header = Map::new();
    header.insert("alg".into(), key.algorithm().name().into());
    header.insert("typ".into(), typ.into());
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    sign_with_header(&Value::Object(header), payload, key)
}

/// Signs `payload` under a header the caller built (it must carry the key's `alg`).
pub fn sign_with_header(
    header: &Value,
    payload: &Value,
    key: &SigningKey,
) -> Result<String, KeyError> {
    let mut token = b64::encode(header.to_string());
    token.push('.');
    token.push_str(&b64::encode(payload.to_string()));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64::encode(signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;

    #[test]
    fn sign_parse_verify() {
        let key = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::StdRng::seed_from_u64(3));
        let token = sign("example+jwt", Some(key.kid()), &json!({"a": 1}), &key).unwrap();
        let jws = Jws::parse(&token).unwrap();
        assert_eq!(jws.header_str("typ"), Some("example+jwt"));
        assert_eq!(jws.payload["a"], 1);
        assert!(jws.verify(key.verifying_key()));
        assert_eq!(Jws::parse("a.b").unwrap_err(), JwsError::Format);
        assert_eq!(
            Jws::parse(&format!("{token}.x")).unwrap_err(),
            JwsError::Format
        );
    }

    #[test]
    fn rejects_none_and_crit() {
        let h = |v: Value| format!("{}.{}.", b64::encode(v.to_string()), b64::encode("{}"));
        assert_eq!(
            Jws::parse(&h(json!({"alg": "none"}))).unwrap_err(),
            JwsError::Algorithm("none".into())
        );
        assert_eq!(
            Jws::parse(&h(json!({"alg": "EdDSA", "crit": ["b64"]}))).unwrap_err(),
            JwsError::Critical
        );
    }
}
