//! `carnet-core`: the engine every Carnet service uses — keys and JWKs, SD-JWT VC issuance,
//! presentation and strict verification, key binding, Token Status Lists, issuer metadata.
//!
//! It does no I/O: no network, no database, no clock (time is a parameter, Unix seconds), no
//! hidden randomness (an RNG is passed in; the one exception is the ECDSA nonce, drawn by
//! OpenSSL). Everything can be tested with fixed vectors.
//!
//! ```
//! use carnet_core::keys::{Algorithm, SigningKey};
//! use carnet_core::path::ClaimPath;
//! use carnet_core::sd_jwt::{self, Credential, KeyBindingInput, SdJwt, VerifyOptions};
//! use serde_json::json;
//!
//! let rng = &mut rand::rngs::OsRng;
//! let issuer = SigningKey::generate(Algorithm::EdDSA, rng);
//! let holder = SigningKey::generate(Algorithm::EdDSA, rng);
//! let credential = Credential {
//!     issuer: "https://centre.example".into(),
//!     vct: "https://carnet.example/competency".into(),
//!     issued_at: 1_700_000_000,
//!     holder: Some(holder.public_jwk()),
//!     claims: json!({"given_name": "Ada", "competency": {"code": "M1805"}})
//!         .as_object().unwrap().clone(),
//!     ..Credential::default()
//! };
//! let issued = sd_jwt::issue(&credential, &issuer, rng).unwrap();
//!
//! let shared = [ClaimPath::from_pointer("/competency/code").unwrap()];
//! let kb = KeyBindingInput { key: &holder, audience: "x509_hash:abc", nonce: "n-1", issued_at: 1_700_000_100 };
//! let presentation = SdJwt::parse(&issued).unwrap().present(Some(&shared), Some(kb)).unwrap();
//!
//! let options = VerifyOptions::with_key_binding(1_700_000_100, "x509_hash:abc", "n-1");
//! let verified = sd_jwt::verify(&presentation, issuer.verifying_key(), &options).unwrap();
//! assert_eq!(verified.claims["competency"]["code"], "M1805");
//! assert!(!verified.claims.contains_key("given_name"));
//! ```

pub mod availability;
pub mod b64;
pub mod calendar;
pub mod dcql;
pub mod declared;
pub mod json;
pub mod jws;
pub mod keys;
pub mod levels;
pub mod metadata;
pub mod oid4vci;
pub mod oid4vp;
pub mod path;
pub mod quiz;
pub mod sd_jwt;
pub mod siret;
pub mod status_list;
