use super::verify::VerifyError;
use crate::{b64, json};
use rand_core::CryptoRngCore;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The digest algorithm of an SD-JWT (`_sd_alg`), named as in the IANA "Named Information Hash
/// Algorithm" registry (case-sensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SdAlg {
    #[default]
    Sha256,
    Sha384,
    Sha512,
}

impl SdAlg {
    pub fn name(self) -> &'static str {
        match self {
            SdAlg::Sha256 => "sha-256",
            SdAlg::Sha384 => "sha-384",
            SdAlg::Sha512 => "sha-512",
        }
    }

    pub fn from_name(name: &str) -> Option<SdAlg> {
        [SdAlg::Sha256, SdAlg::Sha384, SdAlg::Sha512]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// base64url(hash(ASCII bytes of `text`)).
    pub fn digest(self, text: &str) -> String {
        match self {
            SdAlg::Sha256 => b64::encode(Sha256::digest(text.as_bytes())),
            SdAlg::Sha384 => b64::encode(Sha384::digest(text.as_bytes())),
            SdAlg::Sha512 => b64::encode(Sha512::digest(text.as_bytes())),
        }
    }
}

/// One disclosure: `[salt, name, value]` for an object property, `[salt, value]` for an array
/// element, as the base64url string that was issued (digests are over that exact string).
#[derive(Clone, Debug, PartialEq)]
pub struct Disclosure {
    pub encoded: String,
    pub digest: String,
    pub salt: String,
    /// `None` for an array element.
    pub name: Option<String>,
    pub value: Value,
}

/// A fresh salt: 128 random bits, base64url.
pub(crate) fn new_salt(rng: &mut impl CryptoRngCore) -> String {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    b64::encode(salt)
}

impl Disclosure {
    pub fn new(salt: String, name: Option<String>, value: Value, alg: SdAlg) -> Disclosure {
        // Serialising a tuple of references writes the JSON array without copying the value.
        let json = match &name {
            Some(n) => serde_json::to_string(&(&salt, n, &value)),
            None => serde_json::to_string(&(&salt, &value)),
        };
        let encoded = b64::encode(json.unwrap_or_default()); // strings and a Value always serialise
        Disclosure {
            digest: alg.digest(&encoded),
            encoded,
            salt,
            name,
            value,
        }
    }

    /// Decodes a disclosure strictly: base64url, JSON, a 2- or 3-element array, string salt and
    /// name, and no reserved name.
    pub fn parse(encoded: &str, alg: SdAlg) -> Result<Disclosure, VerifyError> {
        if encoded.is_empty() {
            return Err(VerifyError::EmptyDisclosure);
        }
        let bytes = b64::decode(encoded).ok_or(VerifyError::DisclosureEncoding)?;
        let value = json::from_slice(&bytes).map_err(|_| VerifyError::DisclosureJson)?;
        let Value::Array(mut items) = value else {
            return Err(VerifyError::DisclosureNotArray);
        };
        let (salt, name, value) = match items.len() {
            2 => {
                let value = items.pop().unwrap_or_default();
                (items.pop().unwrap_or_default(), None, value)
            }
            3 => {
                let value = items.pop().unwrap_or_default();
                let Value::String(name) = items.pop().unwrap_or_default() else {
                    return Err(VerifyError::DisclosureNameNotString);
                };
                if name == "_sd" || name == "..." {
                    return Err(VerifyError::DisclosureReservedName(name));
                }
                (items.pop().unwrap_or_default(), Some(name), value)
            }
            n => return Err(VerifyError::DisclosureLength(n)),
        };
        let Value::String(salt) = salt else {
            return Err(VerifyError::DisclosureSaltNotString);
        };
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            digest: alg.digest(encoded),
            salt,
            name,
            value,
        })
    }
}

/// A decoy digest: the hash of random bytes, indistinguishable from a real one.
pub(crate) fn decoy(alg: SdAlg, rng: &mut impl CryptoRngCore) -> String {
    alg.digest(&new_salt(rng))
}
