//! Issuer metadata that services publish and consume: JWT VC Issuer Metadata
//! (`/.well-known/jwt-vc-issuer`, SD-JWT VC §4) and JWK Sets.

use crate::keys::{Jwk, KeyError, VerifyingKey};
use crate::sd_jwt::IssuerKeys;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A JWK Set (RFC 7517 §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// JWT VC Issuer Metadata: `issuer` equals the credential's `iss`; exactly one of `jwks` and
/// `jwks_uri`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtVcIssuerMetadata {
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("issuer metadata names {found}, expected {expected}")]
    IssuerMismatch { expected: String, found: String },
    #[error("issuer metadata must have exactly one of `jwks` and `jwks_uri`")]
    KeysSource,
    #[error("the issuer identifier must be an https URL without query or fragment")]
    IssuerIdentifier,
    #[error("a published key is unusable: {0}")]
    Key(#[from] KeyError),
}

impl JwtVcIssuerMetadata {
    /// Checks the document fetched for `iss`.
    pub fn check(&self, iss: &str) -> Result<(), MetadataError> {
        if self.issuer != iss {
            return Err(MetadataError::IssuerMismatch {
                expected: iss.to_owned(),
                found: self.issuer.clone(),
            });
        }
        if self.jwks.is_some() == self.jwks_uri.is_some() {
            return Err(MetadataError::KeysSource);
        }
        Ok(())
    }
}

/// Where the metadata of issuer `iss` is published: the well-known segment goes between the
/// host and the path (`https://h/a/` → `https://h/.well-known/jwt-vc-issuer/a`). Plain `http` is
/// accepted for local development (`http://127.0.0.1…`) — callers decide whether to allow it.
pub fn jwt_vc_issuer_metadata_url(iss: &str) -> Result<String, MetadataError> {
    well_known_url(iss, "jwt-vc-issuer")
}

/// The well-known document `name` of the entity identified by `id` (RFC 8615 with the path
/// after the well-known segment, as OpenID4VCI and RFC 8414 place it).
pub fn well_known_url(iss: &str, name: &str) -> Result<String, MetadataError> {
    let (scheme, rest) = iss
        .split_once("://")
        .ok_or(MetadataError::IssuerIdentifier)?;
    if !matches!(scheme, "https" | "http") || iss.contains(['?', '#']) {
        return Err(MetadataError::IssuerIdentifier);
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return Err(MetadataError::IssuerIdentifier);
    }
    let path = path.trim_end_matches('/');
    let mut url = format!("{scheme}://{host}/.well-known/{name}");
    if !path.is_empty() {
        url.push('/');
        url.push_str(path);
    }
    Ok(url)
}

/// Parsed issuer keys by issuer and `kid`: a verifier's trust store.
#[derive(Clone, Debug, Default)]
pub struct TrustedIssuers {
    issuers: HashMap<String, Vec<VerifyingKey>>,
}

impl TrustedIssuers {
    /// Trusts `keys` for issuer `iss` (replacing what was there).
    pub fn insert(&mut self, iss: &str, keys: &Jwks) -> Result<(), MetadataError> {
        let parsed = keys
            .keys
            .iter()
            .map(VerifyingKey::from_jwk)
            .collect::<Result<Vec<_>, _>>()?;
        self.issuers.insert(iss.to_owned(), parsed);
        Ok(())
    }

    pub fn remove(&mut self, iss: &str) {
        self.issuers.remove(iss);
    }
}

impl IssuerKeys for TrustedIssuers {
    /// With a `kid`, the key with that id; without, the issuer's only key.
    fn issuer_key(&self, iss: &str, kid: Option<&str>) -> Option<&VerifyingKey> {
        let keys = self.issuers.get(iss)?;
        match kid {
            Some(kid) => keys.iter().find(|k| k.kid() == kid),
            None if keys.len() == 1 => keys.first(),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_url() {
        let url = |i| jwt_vc_issuer_metadata_url(i).unwrap();
        assert_eq!(
            url("https://example.com"),
            "https://example.com/.well-known/jwt-vc-issuer"
        );
        assert_eq!(
            url("https://example.com/"),
            "https://example.com/.well-known/jwt-vc-issuer"
        );
        assert_eq!(
            url("https://example.com/tenant/1234/"),
            "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"
        );
        assert!(jwt_vc_issuer_metadata_url("https://e.com/?a").is_err());
        assert!(jwt_vc_issuer_metadata_url("ftp://e.com").is_err());
    }

    #[test]
    fn exactly_one_key_source() {
        let m = JwtVcIssuerMetadata {
            issuer: "https://i".into(),
            jwks: None,
            jwks_uri: None,
        };
        assert_eq!(m.check("https://i"), Err(MetadataError::KeysSource));
        assert!(matches!(
            m.check("https://j"),
            Err(MetadataError::IssuerMismatch { .. })
        ));
    }
}
