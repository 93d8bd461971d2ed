//! Secrets at rest: AES-256-GCM under the process's secret key (`CARNET_SECRET_KEY`, or a key
//! file in the data directory). Used for issuer private keys and for offer codes that must be
//! shown again. The associated data binds a sealed value to the row it belongs to, so a
//! ciphertext copied to another row does not open.

use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use rand::RngCore;
use std::fmt;

/// 32 bytes of key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a secret key is 32 bytes, base64url-encoded")]
    BadKey,
    #[error("the sealed value does not open with this key (wrong key, or tampered)")]
    Open,
    #[error("sealing failed")]
    Seal,
}

impl SecretKey {
    pub fn generate() -> SecretKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretKey(key)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_base64(text: &str) -> Result<SecretKey, SealError> {
        let bytes = carnet_core::b64::decode(text.trim()).ok_or(SealError::BadKey)?;
        Ok(SecretKey(bytes.try_into().map_err(|_| SealError::BadKey)?))
    }

    pub fn to_base64(&self) -> String {
        carnet_core::b64::encode(self.0)
    }

    /// A value only this key can compute from `input`: HMAC-SHA256 under the key, with a
    /// `label` naming the use, so that values derived for one purpose never serve another.
    pub fn derive(&self, label: &str, input: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(input);
        mac.finalize().into_bytes().into()
    }

    /// `nonce (12) || ciphertext || tag (16)`.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut tag = [0u8; 16];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(&nonce),
            aad.as_bytes(),
            plaintext,
            &mut tag,
        )
        .map_err(|_| SealError::Seal)?;
        let mut out = Vec::with_capacity(12 + ciphertext.len() + 16);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 28 {
            return Err(SealError::Open);
        }
        let (nonce, rest) = sealed.split_at(12);
        let (ciphertext, tag) = rest.split_at(rest.len() - 16);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(nonce),
            aad.as_bytes(),
            ciphertext,
            tag,
        )
        .map_err(|_| SealError::Open)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_depend_on_key_label_and_input() {
        let key = SecretKey::generate();
        let a = key.derive("access token", b"offer-1");
        assert_eq!(a, key.derive("access token", b"offer-1"));
        assert_ne!(a, key.derive("response key", b"offer-1"));
        assert_ne!(a, key.derive("access token", b"offer-2"));
        assert_ne!(a, SecretKey::generate().derive("access token", b"offer-1"));
        // The label and the input are kept apart.
        assert_ne!(key.derive("ab", b"c"), key.derive("a", b"bc"));
    }

    #[test]
    fn seal_open_and_tamper() {
        let key = SecretKey::generate();
        let sealed = key.seal("row-1", b"private jwk").unwrap();
        assert_eq!(key.open("row-1", &sealed).unwrap(), b"private jwk");
        assert_eq!(
            key.open("row-2", &sealed),
            Err(SealError::Open),
            "bound to its row"
        );
        let mut flipped = sealed.clone();
        flipped[14] ^= 1;
        assert_eq!(key.open("row-1", &flipped), Err(SealError::Open));
        assert_eq!(
            SecretKey::generate().open("row-1", &sealed),
            Err(SealError::Open)
        );
        assert_eq!(
            SecretKey::from_base64(&key.to_base64())
                .unwrap()
                .open("row-1", &sealed)
                .unwrap(),
            b"private jwk"
        );
        assert!(SecretKey::from_base64("short").is_err());
        assert!(!format!("{key:?}").contains(&key.to_base64()));
    }
}
