//! OpenID for Verifiable Credential Issuance 1.0, the parts both sides compute: the `jwt` proof
//! of possession (Appendix F.1) — made by wallets, checked by issuers (§F.4) — and the
//! credential offer object (§4.1).

use crate::jws::{self, Jws, JwsError};
use crate::keys::{Algorithm, Jwk, KeyError, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `typ` of a proof JWT.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The pre-authorized code grant type.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The credential format of SD-JWT VCs.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("proof: {0}")]
    Malformed(JwsError),
    #[error("proof `typ` must be openid4vci-proof+jwt")]
    WrongType,
    #[error("proof algorithm {0} is not accepted")]
    Algorithm(Algorithm),
    #[error("the proof header must carry exactly one key, as `jwk`")]
    KeyHeader,
    #[error("the proof key is malformed or private")]
    Key,
    #[error("the proof signature is invalid")]
    Signature,
    #[error("proof `aud` must be the credential issuer")]
    Audience,
    #[error("proof `iat` is missing or outside the accepted window")]
    IssuedAt,
    #[error("proof `nonce` is missing")]
    MissingNonce,
}

/// A checked proof: the key to bind the credential to, and the nonce to check and consume.
#[derive(Debug, Clone)]
pub struct Proof {
    pub jwk: Jwk,
    pub nonce: Option<String>,
}

/// Checks a proof JWT (§F.4): type, algorithm, a public `jwk` header key and the signature by
/// it, `aud` equal to `credential_issuer`, `iat` within `window` seconds of `now`. The nonce is
/// returned for the caller to match against the nonces it gave out.
pub fn verify_proof(
    jwt: &str,
    credential_issuer: &str,
    now: i64,
    window: i64,
    algorithms: &[Algorithm],
) -> Result<Proof, ProofError> {
    let jws = Jws::parse(jwt).map_err(ProofError::Malformed)?;
    if jws.header_str("typ") != Some(PROOF_TYP) {
        return Err(ProofError::WrongType);
    }
    if !algorithms.contains(&jws.alg) {
        return Err(ProofError::Algorithm(jws.alg));
    }
    let keys_in_header = ["jwk", "kid", "x5c"]
        .iter()
        .filter(|k| jws.header.contains_key(**k))
        .count();
    let jwk_value = jws
        .header
        .get("jwk")
        .filter(|_| keys_in_header == 1)
        .ok_or(ProofError::KeyHeader)?;
    let jwk: Jwk = serde_json::from_value(jwk_value.clone()).map_err(|_| ProofError::Key)?;
    if jwk.d.is_some() || jwk_value.get("d").is_some() {
        return Err(ProofError::Key);
    }
    let key = VerifyingKey::from_jwk(&jwk).map_err(|_| ProofError::Key)?;
    if !key.accepts(jws.alg) {
        return Err(ProofError::Algorithm(jws.alg));
    }
    if !jws.verify(&key) {
        return Err(ProofError::Signature);
    }
    match jws.payload.get("aud") {
        Some(Value::String(aud)) if aud == credential_issuer => {}
        Some(Value::Array(auds)) if auds.len() == 1 && auds[0] == credential_issuer => {}
        _ => return Err(ProofError::Audience),
    }
    let iat = jws
        .payload
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(ProofError::IssuedAt)?;
    // `abs_diff`: an `iat` at either end of `i64` must not overflow (a panic in debug builds).
    if iat.abs_diff(now) > u64::try_from(window).unwrap_or(0) {
        return Err(ProofError::IssuedAt);
    }
    let nonce = jws
        .payload
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Proof {
        jwk: key.jwk().clone(),
        nonce,
    })
}

/// A wallet's proof of possession of `key` for `credential_issuer` and `nonce`.
pub fn make_proof(
    key: &SigningKey,
    credential_issuer: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String, KeyError> {
    let header =
        json!({ "alg": key.algorithm().name(), "typ": PROOF_TYP, "jwk": key.public_jwk() });
    let mut payload = json!({ "aud": credential_issuer, "iat": iat });
    if let Some(nonce) = nonce {
        payload["nonce"] = nonce.into();
    }
    jws::sign_with_header(&header, &payload, key)
}

/// A credential offer (§4.1.1) with the pre-authorized code grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialOffer {
    pub credential_issuer: String,
    pub credential_configuration_ids: Vec<String>,
    #[serde(default)]
    pub grants: Value,
}

impl CredentialOffer {
    pub fn pre_authorized(
        issuer: &str,
        configuration: &str,
        code: &str,
        tx_code_length: Option<usize>,
    ) -> CredentialOffer {
        let mut grant = json!({ "pre-authorized_code": code });
        if let Some(length) = tx_code_length {
            grant["tx_code"] = json!({
                "input_mode": "numeric",
                "length": length,
                "description": "Code à 6 chiffres donné par votre centre de formation / 6-digit code from your training centre",
            });
        }
        CredentialOffer {
            credential_issuer: issuer.to_owned(),
            credential_configuration_ids: vec![configuration.to_owned()],
            grants: json!({ PRE_AUTHORIZED_GRANT: grant }),
        }
    }

    /// The pre-authorized code, and whether a transaction code is asked.
    pub fn pre_authorized_code(&self) -> Option<(&str, bool)> {
        let grant = self.grants.get(PRE_AUTHORIZED_GRANT)?;
        Some((
            grant.get("pre-authorized_code")?.as_str()?,
            grant.get("tx_code").is_some(),
        ))
    }
}

/// Percent-encodes a URI component (RFC 3986 unreserved characters kept).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `openid-credential-offer://?credential_offer_uri=…`, for a link or a QR code.
pub fn offer_link(credential_offer_uri: &str) -> String {
    format!(
        "openid-credential-offer://?credential_offer_uri={}",
        percent_encode(credential_offer_uri)
    )
}

/// Decodes a percent-encoded URI component (`+` stays a plus); `None` if the escapes or the
/// UTF-8 are broken.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where a credential offer is (§4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferSource {
    /// The offer itself (JSON).
    ByValue(String),
    /// A URL to fetch it from.
    ByReference(String),
}

/// Reads what a holder pastes or scans: an `openid-credential-offer://` link (or any scheme)
/// with `credential_offer` or `credential_offer_uri`, or an `https://` offer URL directly.
pub fn parse_offer_link(link: &str) -> Option<OfferSource> {
    let link = link.trim();
    let (scheme, rest) = link.split_once("://")?;
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "credential_offer" => return Some(OfferSource::ByValue(percent_decode(value)?)),
                "credential_offer_uri" => {
                    return Some(OfferSource::ByReference(percent_decode(value)?));
                }
                _ => {}
            }
        }
    }
    matches!(scheme, "https" | "http").then(|| OfferSource::ByReference(link.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn offer_links() {
        let uri = "https://centre.example/issuer/orgs/org_1/offers/abc";
        assert_eq!(
            parse_offer_link(&offer_link(uri)),
            Some(OfferSource::ByReference(uri.into()))
        );
        assert_eq!(
            parse_offer_link(uri),
            Some(OfferSource::ByReference(uri.into()))
        );
        assert_eq!(
            parse_offer_link("openid-credential-offer://?credential_offer=%7B%22a%22%3A1%7D"),
            Some(OfferSource::ByValue("{\"a\":1}".into()))
        );
        assert_eq!(parse_offer_link("openid-credential-offer://?x=1"), None);
        assert_eq!(
            parse_offer_link("openid-credential-offer://?credential_offer_uri=%ZZ"),
            None
        );
        assert_eq!(parse_offer_link("not a link"), None);
        assert_eq!(
            percent_decode("caf%C3%A9%20au%2Blait").as_deref(),
            Some("café au+lait")
        );
    }

    #[test]
    fn proofs_round_trip_and_are_checked() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let holder = SigningKey::generate(Algorithm::ES256, &mut rng);
        let algs = Algorithm::ALL;
        let proof = make_proof(&holder, "https://issuer/orgs/1", Some("n-1"), 1000).unwrap();
        let checked = verify_proof(&proof, "https://issuer/orgs/1", 1010, 300, &algs).unwrap();
        assert_eq!(checked.nonce.as_deref(), Some("n-1"));
        assert_eq!(checked.jwk.thumbprint(), holder.public_jwk().thumbprint());
        assert_eq!(
            verify_proof(&proof, "https://other", 1010, 300, &algs).unwrap_err(),
            ProofError::Audience
        );
        assert_eq!(
            verify_proof(&proof, "https://issuer/orgs/1", 5000, 300, &algs).unwrap_err(),
            ProofError::IssuedAt
        );
        assert_eq!(
            verify_proof(
                &proof,
                "https://issuer/orgs/1",
                1000,
                300,
                &[Algorithm::EdDSA]
            )
            .unwrap_err(),
            ProofError::Algorithm(Algorithm::ES256)
        );
        // A private key in the header is refused.
        let header = json!({ "alg": "ES256", "typ": PROOF_TYP, "jwk": holder.private_jwk() });
        let leaky =
            jws::sign_with_header(&header, &json!({"aud": "a", "iat": 1000}), &holder).unwrap();
        assert_eq!(
            verify_proof(&leaky, "a", 1000, 300, &algs).unwrap_err(),
            ProofError::Key
        );
        let typed = jws::sign_with_header(
            &json!({"alg": "ES256", "typ": "JWT", "jwk": holder.public_jwk()}),
            &json!({}),
            &holder,
        )
        .unwrap();
        assert_eq!(
            verify_proof(&typed, "a", 1000, 300, &algs).unwrap_err(),
            ProofError::WrongType
        );
        let two_keys =
            json!({ "alg": "ES256", "typ": PROOF_TYP, "jwk": holder.public_jwk(), "kid": "k" });
        let two =
            jws::sign_with_header(&two_keys, &json!({"aud": "a", "iat": 1000}), &holder).unwrap();
        assert_eq!(
            verify_proof(&two, "a", 1000, 300, &algs).unwrap_err(),
            ProofError::KeyHeader
        );
    }

    #[test]
    fn offers() {
        let offer =
            CredentialOffer::pre_authorized("https://i/orgs/1", "competency", "code-1", Some(6));
        assert_eq!(offer.pre_authorized_code(), Some(("code-1", true)));
        let link = offer_link("https://i/orgs/1/offers/abc");
        assert_eq!(
            link,
            "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi%2Forgs%2F1%2Foffers%2Fabc"
        );
    }
}
