//! Signing and verifying keys, JWKs (RFC 7517, RFC 8037 for OKP) and thumbprints (RFC 7638).
//!
//! Two algorithms: Ed25519 through `ed25519-dalek` (fast, deterministic) and ES256 (ECDSA on
//! P-256 with SHA-256) through OpenSSL — `josekit` signs, and verification uses OpenSSL's EC key
//! directly because building a `josekit` verifier from a JWK costs about 0.45 ms, far more than
//! the verification itself, and holder keys (`cnf.jwk`) arrive with every presentation.
//!
//! A [`SigningKey`] or [`VerifyingKey`] is parsed once and reused; nothing here re-parses a key
//! per operation.

use crate::b64;
use ed25519_dalek::Signer as _;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Public;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// JWS algorithms Carnet signs and verifies with. `none`, HMAC and RSA do not exist here, so no
/// header can select them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// Ed25519 under the polymorphic name most peers still expect.
    EdDSA,
    /// Ed25519 under its fully-specified name (RFC 9864).
    Ed25519,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::Ed25519, Algorithm::ES256];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::ES256 => "ES256",
        }
    }

    /// The kind of key this algorithm needs.
    pub fn curve(self) -> Curve {
        match self {
            Algorithm::EdDSA | Algorithm::Ed25519 => Curve::Ed25519,
            Algorithm::ES256 => Curve::P256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| KeyError::UnsupportedAlgorithm(s.to_owned()))
    }
}

/// The two key types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    Ed25519,
    P256,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("unsupported algorithm `{0}` (EdDSA, Ed25519 or ES256)")]
    UnsupportedAlgorithm(String),
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    #[error("malformed JWK: {0}")]
    MalformedJwk(&'static str),
    #[error("the JWK has no private part (`d`)")]
    NotPrivate,
    #[error("the private and public parts of the JWK do not match")]
    Mismatch,
    #[error("signing failed")]
    SigningFailed,
}

/// A JSON Web Key for an OKP (Ed25519) or EC (P-256) key. Members Carnet does not use are
/// ignored on input and absent on output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

impl Jwk {
    /// The RFC 7638 thumbprint (SHA-256, base64url) over the required public members.
    pub fn thumbprint(&self) -> String {
        // Members in lexicographic order, no whitespace; the values are base64url or curve
        // names, so they never need JSON escaping — but escape anyway through serde_json.
        let canonical = match &self.y {
            None => format!(
                r#"{{"crv":{},"kty":{},"x":{}}}"#,
                json_str(&self.crv),
                json_str(&self.kty),
                json_str(&self.x)
            ),
            Some(y) => format!(
                r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#,
                json_str(&self.crv),
                json_str(&self.kty),
                json_str(&self.x),
                json_str(y)
            ),
        };
        b64::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The same key without its private part.
    pub fn to_public(&self) -> Jwk {
        Jwk {
            d: None,
            ..self.clone()
        }
    }

    fn curve(&self) -> Result<Curve, KeyError> {
        match (self.kty.as_str(), self.crv.as_str()) {
            ("OKP", "Ed25519") => Ok(Curve::Ed25519),
            ("EC", "P-256") => Ok(Curve::P256),
            (kty, crv) => Err(KeyError::UnsupportedKey(format!("kty {kty}, crv {crv}"))),
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn decode_fixed<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], KeyError> {
    b64::decode(text)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(KeyError::MalformedJwk(what))
}

/// A private key, parsed once, ready to sign.
pub struct SigningKey {
    inner: SigningInner,
    alg: Algorithm,
    public: VerifyingKey,
}

enum SigningInner {
    Ed25519(ed25519_dalek::SigningKey),
    /// The josekit signer does not give its scalar back, so the private `d` is kept beside it.
    Es256 {
        signer: Box<josekit::jws::alg::ecdsa::EcdsaJwsSigner>,
        d: String,
    },
}

impl SigningKey {
    /// Generates a key for `alg` from `rng`. For ES256 the private scalar comes from `rng`
    /// (rejection sampling below the group order); ECDSA's per-signature nonce is OpenSSL's.
    pub fn generate(alg: Algorithm, rng: &mut impl CryptoRngCore) -> SigningKey {
        match alg.curve() {
            Curve::Ed25519 => {
                let key = ed25519_dalek::SigningKey::generate(rng);
                SigningKey::from_ed25519(key, alg)
            }
            Curve::P256 => loop {
                let mut d = [0u8; 32];
                rng.fill_bytes(&mut d);
                if let Ok(key) = p256_private_jwk(&d).and_then(|jwk| SigningKey::from_jwk(&jwk)) {
                    return key;
                }
            },
        }
    }

    /// Imports a private JWK. An Ed25519 key signs with the header name `EdDSA` unless the
    /// JWK says `"alg": "Ed25519"`.
    pub fn from_jwk(jwk: &Jwk) -> Result<SigningKey, KeyError> {
        let d = jwk.d.as_deref().ok_or(KeyError::NotPrivate)?;
        match jwk.curve()? {
            Curve::Ed25519 => {
                let key = ed25519_dalek::SigningKey::from_bytes(&decode_fixed::<32>(d, "d")?);
                if b64::encode(key.verifying_key().as_bytes()) != jwk.x {
                    return Err(KeyError::Mismatch);
                }
                let alg = match jwk.alg.as_deref() {
                    Some("Ed25519") => Algorithm::Ed25519,
                    None | Some("EdDSA") => Algorithm::EdDSA,
                    Some(other) => return Err(KeyError::UnsupportedAlgorithm(other.into())),
                };
                Ok(SigningKey::from_ed25519(key, alg))
            }
            Curve::P256 => {
                if jwk.alg.as_deref().is_some_and(|a| a != "ES256") {
                    return Err(KeyError::UnsupportedAlgorithm(
                        jwk.alg.clone().unwrap_or_default(),
                    ));
                }
                let d = decode_fixed::<32>(d, "d")?;
                let derived = p256_private_jwk(&d)?;
                if Some(&derived.x) != Some(&jwk.x) || derived.y != jwk.y {
                    return Err(KeyError::Mismatch);
                }
                let public = VerifyingKey::from_jwk(&derived.to_public())?;
                let josekit_jwk = josekit::jwk::Jwk::from_bytes(
                    serde_json::to_vec(&derived).map_err(|_| KeyError::MalformedJwk("json"))?,
                )
                .map_err(|_| KeyError::MalformedJwk("EC key"))?;
                let signer = josekit::jws::ES256
                    .signer_from_jwk(&josekit_jwk)
                    .map_err(|_| KeyError::MalformedJwk("EC key"))?;
                Ok(SigningKey {
                    inner: SigningInner::Es256 {
                        signer: Box::new(signer),
                        d: b64::encode(d),
                    },
                    alg: Algorithm::ES256,
                    public,
                })
            }
        }
    }

    fn from_ed25519(key: ed25519_dalek::SigningKey, alg: Algorithm) -> SigningKey {
        let public = VerifyingKey::ed25519(key.verifying_key());
        SigningKey {
            inner: SigningInner::Ed25519(key),
            alg,
            public,
        }
    }

    /// The algorithm name this key writes in JWS headers.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Use `Ed25519` (RFC 9864) or `EdDSA` in headers; ignored for ES256.
    pub fn with_algorithm(mut self, alg: Algorithm) -> SigningKey {
        if alg.curve() == self.alg.curve() {
            self.alg = alg;
        }
        self
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The public JWK, with `kid` (the thumbprint) and `alg`.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.public.jwk.clone();
        jwk.alg = Some(self.alg.name().to_owned());
        jwk
    }

    /// The private JWK, with `kid` and `alg`.
    pub fn private_jwk(&self) -> Jwk {
        let d = match &self.inner {
            SigningInner::Ed25519(k) => b64::encode(k.to_bytes()),
            SigningInner::Es256 { d, .. } => d.clone(),
        };
        Jwk {
            d: Some(d),
            ..self.public_jwk()
        }
    }

    /// The key id: the JWK thumbprint.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    /// Signs `message`; the signature in JWS form (64 bytes for both algorithms).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            SigningInner::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
            SigningInner::Es256 { signer, .. } => {
                use josekit::jws::JwsSigner as _;
                signer.sign(message).map_err(|_| KeyError::SigningFailed)
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SigningKey({}, kid {})", self.alg, self.kid())
    }
}

/// The private JWK of the P-256 key whose scalar is `d` (big-endian), with `kid`.
fn p256_private_jwk(d: &[u8; 32]) -> Result<Jwk, KeyError> {
    let bad = |_| KeyError::MalformedJwk("P-256 private key");
    let group = p256()?;
    let mut ctx = BigNumContext::new().map_err(bad)?;
    let mut order = BigNum::new().map_err(bad)?;
    group.order(&mut order, &mut ctx).map_err(bad)?;
    let scalar = BigNum::from_slice(d).map_err(bad)?;
    if scalar.num_bits() == 0 || scalar >= order {
        return Err(KeyError::MalformedJwk("P-256 private scalar out of range"));
    }
    let mut point = EcPoint::new(group).map_err(bad)?;
    point
        .mul_generator2(group, &scalar, &mut ctx)
        .map_err(bad)?;
    let (mut x, mut y) = (BigNum::new().map_err(bad)?, BigNum::new().map_err(bad)?);
    point
        .affine_coordinates(group, &mut x, &mut y, &mut ctx)
        .map_err(bad)?;
    let coord = |n: &BigNum| n.to_vec_padded(32).map(b64::encode).map_err(bad);
    let mut jwk = Jwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: coord(&x)?,
        y: Some(coord(&y)?),
        d: Some(b64::encode(d)),
        kid: None,
        alg: Some("ES256".into()),
        key_use: None,
    };
    jwk.kid = Some(jwk.thumbprint());
    Ok(jwk)
}

/// A public key, parsed once, ready to verify.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: VerifyingInner,
    jwk: Jwk,
}

#[derive(Clone)]
enum VerifyingInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(EcKey<Public>),
}

impl VerifyingKey {
    /// Imports a public JWK (private members are ignored). `kid` is set to the thumbprint when
    /// the JWK has none.
    pub fn from_jwk(jwk: &Jwk) -> Result<VerifyingKey, KeyError> {
        let inner = match jwk.curve()? {
            Curve::Ed25519 => {
                if jwk.y.is_some() {
                    return Err(KeyError::MalformedJwk("an OKP key has no `y`"));
                }
                let x = decode_fixed::<32>(&jwk.x, "x")?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| KeyError::MalformedJwk("x is not an Ed25519 point"))?;
                if key.is_weak() {
                    return Err(KeyError::MalformedJwk("x is a small-order Ed25519 point"));
                }
                VerifyingInner::Ed25519(key)
            }
            Curve::P256 => {
                let x = decode_fixed::<32>(&jwk.x, "x")?;
                let y =
                    decode_fixed::<32>(jwk.y.as_deref().ok_or(KeyError::MalformedJwk("y"))?, "y")?;
                VerifyingInner::Es256(p256_public(&x, &y)?)
            }
        };
        let mut public = jwk.to_public();
        if public.kid.is_none() {
            public.kid = Some(public.thumbprint());
        }
        Ok(VerifyingKey { inner, jwk: public })
    }

    fn ed25519(key: ed25519_dalek::VerifyingKey) -> VerifyingKey {
        let mut jwk = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64::encode(key.as_bytes()),
            y: None,
            d: None,
            kid: None,
            alg: None,
            key_use: None,
        };
        jwk.kid = Some(jwk.thumbprint());
        VerifyingKey {
            inner: VerifyingInner::Ed25519(key),
            jwk,
        }
    }

    pub fn curve(&self) -> Curve {
        match self.inner {
            VerifyingInner::Ed25519(_) => Curve::Ed25519,
            VerifyingInner::Es256(_) => Curve::P256,
        }
    }

    /// The public JWK (with `kid`).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub fn kid(&self) -> &str {
        self.jwk.kid.as_deref().unwrap_or_default()
    }

    /// The Ed25519 key, for batch verification.
    pub fn as_ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.inner {
            VerifyingInner::Ed25519(k) => Some(k),
            VerifyingInner::Es256(_) => None,
        }
    }

    /// Whether this key can check signatures made with `alg`. The header's `alg` alone never
    /// chooses how a key is used (RFC 8725 §3.1).
    pub fn accepts(&self, alg: Algorithm) -> bool {
        alg.curve() == self.curve()
    }

    /// Verifies a JWS signature over `message`. `false` when the algorithm does not fit the key
    /// or the signature is wrong.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        match &self.inner {
            VerifyingInner::Ed25519(key) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify_strict(message, &sig).is_ok()
            }
            VerifyingInner::Es256(key) => es256_verify(key, message, signature),
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "VerifyingKey({:?}, kid {})", self.curve(), self.kid())
    }
}

/// The P-256 group, built once.
fn p256() -> Result<&'static EcGroup, KeyError> {
    static GROUP: OnceLock<Option<EcGroup>> = OnceLock::new();
    GROUP
        .get_or_init(|| EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).ok())
        .as_ref()
        .ok_or(KeyError::UnsupportedKey("OpenSSL lacks P-256".into()))
}

fn p256_public(x: &[u8; 32], y: &[u8; 32]) -> Result<EcKey<Public>, KeyError> {
    let bad = |_| KeyError::MalformedJwk("not a P-256 point");
    let group = p256()?;
    let mut uncompressed = [0u8; 65];
    uncompressed[0] = 4;
    uncompressed[1..33].copy_from_slice(x);
    uncompressed[33..].copy_from_slice(y);
    let mut ctx = BigNumContext::new().map_err(bad)?;
    // Decoding checks that the point is on the curve; an uncompressed encoding cannot be the
    // point at infinity, and P-256 has cofactor 1, so that is the whole public key check
    // (`EC_KEY_check_key` would add a scalar multiplication by the group order, ~0.1 ms).
    let point = EcPoint::from_bytes(group, &uncompressed, &mut ctx).map_err(bad)?;
    EcKey::from_public_key(group, &point).map_err(bad)
}

fn es256_verify(key: &EcKey<Public>, message: &[u8], signature: &[u8]) -> bool {
    if signature.len() != 64 {
        return false;
    }
    let (Ok(r), Ok(s)) = (
        BigNum::from_slice(&signature[..32]),
        BigNum::from_slice(&signature[32..]),
    ) else {
        return false;
    };
    let Ok(sig) = EcdsaSig::from_private_components(r, s) else {
        return false;
    };
    let digest = Sha256::digest(message);
    sig.verify(&digest, key).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn rfc8037_ed25519_vectors() {
        // RFC 8037 Appendix A.1–A.4.
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519",
                "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let key = SigningKey::from_jwk(&jwk).unwrap();
        let signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let sig = key.sign(signing_input).unwrap();
        assert_eq!(
            b64::encode(&sig),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
        assert!(
            key.verifying_key()
                .verify(Algorithm::EdDSA, signing_input, &sig)
        );
        assert!(
            key.verifying_key()
                .verify(Algorithm::Ed25519, signing_input, &sig)
        );
        assert!(
            !key.verifying_key()
                .verify(Algorithm::ES256, signing_input, &sig)
        );
    }

    #[test]
    fn es256_round_trip_and_mismatch() {
        let mut rng = StdRng::seed_from_u64(7);
        let key = SigningKey::generate(Algorithm::ES256, &mut rng);
        let private = key.private_jwk();
        assert_eq!(private.kid.as_deref(), Some(private.thumbprint().as_str()));
        let again = SigningKey::from_jwk(&private).unwrap();
        let sig = again.sign(b"hello").unwrap();
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert!(public.verify(Algorithm::ES256, b"hello", &sig));
        assert!(!public.verify(Algorithm::ES256, b"hellp", &sig));
        assert!(!public.verify(Algorithm::EdDSA, b"hello", &sig));

        let mut wrong = private.clone();
        wrong.x = key.public_jwk().y.unwrap();
        assert_eq!(
            SigningKey::from_jwk(&wrong).unwrap_err(),
            KeyError::Mismatch
        );
        let mut off_curve = key.public_jwk();
        off_curve.y = Some(off_curve.x.clone());
        assert!(VerifyingKey::from_jwk(&off_curve).is_err());
    }

    #[test]
    fn ed25519_generation_is_seeded_and_exports() {
        let a = SigningKey::generate(Algorithm::EdDSA, &mut StdRng::seed_from_u64(1));
        let b = SigningKey::generate(Algorithm::EdDSA, &mut StdRng::seed_from_u64(1));
        assert_eq!(a.private_jwk(), b.private_jwk());
        let back = SigningKey::from_jwk(&a.private_jwk()).unwrap();
        assert_eq!(back.kid(), a.kid());
        assert!(a.private_jwk().d.is_some() && a.public_jwk().d.is_none());
    }

    #[test]
    fn unsupported_keys_are_refused() {
        let rsa = Jwk {
            kty: "RSA".into(),
            crv: String::new(),
            x: String::new(),
            y: None,
            d: None,
            kid: None,
            alg: None,
            key_use: None,
        };
        assert!(matches!(
            VerifyingKey::from_jwk(&rsa),
            Err(KeyError::UnsupportedKey(_))
        ));
        assert!("none".parse::<Algorithm>().is_err());
        assert!("HS256".parse::<Algorithm>().is_err());
    }
}
