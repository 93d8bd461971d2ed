//! Typed identifiers: random, URL-safe, prefixed by what they name (`acc_…`), so an account id
//! can never be passed where a token id is expected.

use rand::RngCore;

/// 128 random bits, base64url.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    carnet_core::b64::encode(buf)
}

/// SHA-256 of a secret, base64url: what is stored for session cookies and bearer tokens.
pub fn hash_secret(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    carnet_core::b64::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `text` could be an id this service made (`prefix_base64url`): anything else is
/// not found without asking the database.
pub fn looks_like_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Declares a typed identifier with a prefix.
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                $name(format!("{}_{}", $prefix, $crate::id::random_token(16)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
    };
}

typed_id!(
    /// An account of one service.
    AccountId, "acc"
);
typed_id!(
    /// An API bearer token (its id, not its secret).
    TokenId, "tok"
);
