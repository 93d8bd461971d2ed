//! Strict verification of an SD-JWT VC presentation (RFC 9901 §7.1 and §7.3, SD-JWT VC §2.4).

use super::process::process;
use super::{Disclosure, SdAlg, StatusReference, TYP_KB_JWT, TYP_SD_JWT_VC};
use crate::jws::{Jws, JwsError};
use crate::keys::{Algorithm, Jwk, VerifyingKey};
use crate::path::ClaimPath;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Every reason a presentation is rejected. Each has its own variant and a stable
/// [`code`](VerifyError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the presentation is larger than {0} bytes")]
    TooLarge(usize),
    #[error("more than {0} disclosures")]
    TooManyDisclosures(usize),
    #[error("claims nested too deeply")]
    TooDeep,
    #[error("not an SD-JWT: no `~` separator")]
    NotAnSdJwt,
    #[error("issuer-signed JWT: {0}")]
    MalformedIssuerJwt(JwsError),
    #[error("issuer-signed JWT `typ` is {}, expected dc+sd-jwt", .0.as_deref().unwrap_or("missing"))]
    WrongType(Option<String>),
    #[error("algorithm {0} is not allowed by this verifier")]
    AlgorithmNotAllowed(Algorithm),
    #[error("the issuer-signed JWT has no `iss`")]
    MissingIssuer,
    #[error("no trusted key for issuer {iss} (kid {kid:?})")]
    UnknownIssuerKey { iss: String, kid: Option<String> },
    #[error("the issuer key cannot be used with {0}")]
    KeyAlgorithmMismatch(Algorithm),
    #[error("the issuer signature is invalid")]
    InvalidSignature,
    #[error("`_sd_alg` must be a string")]
    SdAlgNotString,
    #[error("unsupported `_sd_alg` {0:?}")]
    UnsupportedSdAlg(String),
    #[error("`_sd_alg` may only appear at the top level")]
    NestedSdAlg,
    #[error("empty disclosure (`~~`)")]
    EmptyDisclosure,
    #[error("a disclosure is not strict base64url")]
    DisclosureEncoding,
    #[error("a disclosure is not valid JSON")]
    DisclosureJson,
    #[error("a disclosure is not a JSON array")]
    DisclosureNotArray,
    #[error("a disclosure has {0} elements (2 or 3 expected)")]
    DisclosureLength(usize),
    #[error("a disclosure's salt is not a string")]
    DisclosureSaltNotString,
    #[error("a disclosure's claim name is not a string")]
    DisclosureNameNotString,
    #[error("a disclosure uses the reserved claim name {0:?}")]
    DisclosureReservedName(String),
    #[error("the same disclosure is sent twice")]
    DuplicateDisclosure,
    #[error("`_sd` is not an array")]
    SdNotArray,
    #[error("an `_sd` digest is not a string")]
    SdDigestNotString,
    #[error("an array element digest (`...`) is not a string")]
    EllipsisNotString,
    #[error("an array element digest object has members besides `...`")]
    EllipsisExtraMembers,
    #[error("`...` is only allowed in array elements")]
    MisplacedEllipsis,
    #[error("a digest appears more than once in the SD-JWT")]
    DuplicateDigest,
    #[error("an array element disclosure is referenced from an `_sd` array")]
    ArrayDisclosureInObject,
    #[error("an object property disclosure is referenced as an array element")]
    ObjectDisclosureInArray,
    #[error("disclosed claim {0:?} already exists")]
    ClaimCollision(String),
    #[error("a disclosure is not referenced by any digest")]
    UnreferencedDisclosure,
    #[error("claim {0:?} must not be selectively disclosed")]
    ForbiddenDisclosure(String),
    #[error("the credential has no `vct` string")]
    MissingVct,
    #[error("`{0}` is not a NumericDate")]
    InvalidTimeClaim(&'static str),
    #[error("the credential expired")]
    Expired,
    #[error("the credential is not valid yet")]
    NotYetValid,
    #[error("the credential was issued in the future")]
    IssuedInFuture,
    #[error("`status` is malformed")]
    InvalidStatus,
    #[error("`cnf` is malformed or its key unusable")]
    InvalidHolderKey,
    #[error("key binding is required but the credential has no `cnf.jwk`")]
    MissingHolderKey,
    #[error("a key binding JWT was sent but this verifier expects a plain SD-JWT")]
    UnexpectedKeyBinding,
    #[error("key binding is required but the presentation has no key binding JWT")]
    MissingKeyBinding,
    #[error("key binding JWT: {0}")]
    MalformedKbJwt(JwsError),
    #[error("key binding JWT `typ` must be kb+jwt")]
    KbWrongType,
    #[error("key binding algorithm {0} is not allowed or does not fit the holder key")]
    KbAlgorithmNotAllowed(Algorithm),
    #[error("the key binding signature is invalid")]
    KbInvalidSignature,
    #[error("the key binding JWT has no valid `{0}`")]
    KbMissingClaim(&'static str),
    #[error("key binding `aud` must be a single string")]
    KbAudienceNotString,
    #[error("key binding `aud` does not match")]
    KbAudienceMismatch,
    #[error("key binding `nonce` does not match")]
    KbNonceMismatch,
    #[error("the key binding JWT is too old")]
    KbTooOld,
    #[error("the key binding JWT was issued in the future")]
    KbIssuedInFuture,
    #[error("key binding `sd_hash` does not match the presented SD-JWT")]
    KbSdHashMismatch,
}

impl VerifyError {
    /// A stable identifier (kebab-case) for logs and problem+json `type`s.
    pub fn code(&self) -> String {
        let debug = format!("{self:?}");
        let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
        let mut code = String::with_capacity(name.len() + 4);
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    code.push('-');
                }
                code.push(c.to_ascii_lowercase());
            } else {
                code.push(c);
            }
        }
        code
    }
}

/// Whether the verifier requires key binding. Decided by policy, never by whether a KB-JWT
/// happens to be present (RFC 9901 §7.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KbPolicy {
    /// Expect an SD-JWT+KB for this audience and nonce, issued at most `max_age` seconds ago.
    Required {
        audience: String,
        nonce: String,
        max_age: u64,
    },
    /// Expect a plain SD-JWT (ending in `~`).
    NotRequired,
}

/// Bounds on untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_disclosures: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 512 * 1024,
            max_disclosures: 1024,
            max_depth: 32,
        }
    }
}

/// How to verify.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Current time, Unix seconds.
    pub now: i64,
    /// Tolerated clock skew for `iat`, `nbf`, `exp` and the KB-JWT `iat`, in seconds.
    pub leeway: u64,
    /// Algorithms accepted for the issuer signature and key binding.
    pub algorithms: Vec<Algorithm>,
    /// Accepted `typ` values of the issuer-signed JWT.
    pub types: Vec<String>,
    pub key_binding: KbPolicy,
    pub limits: Limits,
    /// Apply the SD-JWT VC profile (on by default): `iss` and `vct` required, registered claims
    /// (`iss`, `nbf`, `exp`, `cnf`, `vct`, `vct#integrity`, `aka_vcts`, `status`) never taken
    /// from disclosures. Off, the rules of plain RFC 9901 SD-JWTs.
    pub sd_jwt_vc: bool,
}

impl VerifyOptions {
    /// Key binding required for `audience` and `nonce`, five minutes of KB freshness, one
    /// minute of leeway, every algorithm, `typ: dc+sd-jwt`.
    pub fn with_key_binding(now: i64, audience: &str, nonce: &str) -> VerifyOptions {
        VerifyOptions {
            key_binding: KbPolicy::Required {
                audience: audience.to_owned(),
                nonce: nonce.to_owned(),
                max_age: 300,
            },
            ..VerifyOptions::without_key_binding(now)
        }
    }

    /// A plain SD-JWT, as a holder checks what it receives.
    pub fn without_key_binding(now: i64) -> VerifyOptions {
        VerifyOptions {
            now,
            leeway: 60,
            algorithms: Algorithm::ALL.to_vec(),
            types: vec![TYP_SD_JWT_VC.to_owned()],
            key_binding: KbPolicy::NotRequired,
            limits: Limits::default(),
            sd_jwt_vc: true,
        }
    }
}

/// Where the verifier finds issuer keys: a trust list, a JWKS cache, or one key.
pub trait IssuerKeys {
    /// The key of issuer `iss` with key id `kid` (when the header has one), if trusted.
    fn issuer_key(&self, iss: &str, kid: Option<&str>) -> Option<&VerifyingKey>;
}

/// One key, trusted for any `iss` (the command line's `--issuer-jwk`).
impl IssuerKeys for VerifyingKey {
    fn issuer_key(&self, _iss: &str, kid: Option<&str>) -> Option<&VerifyingKey> {
        match kid {
            Some(kid) if kid != self.kid() => None,
            _ => Some(self),
        }
    }
}

/// A verified presentation: only what was disclosed, and what the caller must still check.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub issuer: String,
    pub vct: String,
    pub alg: Algorithm,
    pub kid: Option<String>,
    /// Plaintext claims and disclosed claims, digests and `_sd_alg` removed.
    pub claims: Map<String, Value>,
    /// The path of every disclosed claim, in processing order.
    pub disclosed: Vec<ClaimPath>,
    /// The credential's status list entry, for the caller to look up.
    pub status: Option<StatusReference>,
    /// The holder key (`cnf.jwk`), when the credential is bound.
    pub holder: Option<Jwk>,
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Verifies one presentation.
pub fn verify(
    presentation: &str,
    keys: &impl IssuerKeys,
    options: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let mut signatures = Vec::with_capacity(2);
    let result = prepare(presentation, keys, options, &mut signatures);
    // Signature errors come first, as if each signature had been checked where it was met.
    check_signatures(&signatures)?;
    result
}

/// Verifies many presentations, checking all their Ed25519 signatures (issuer and key binding)
/// in one batch. A batch that fails is re-checked one by one, so each result is the same as
/// [`verify`]'s.
pub fn verify_batch(
    items: &[(&str, &VerifyOptions)],
    keys: &impl IssuerKeys,
) -> Vec<Result<Verified, VerifyError>> {
    let prepared: Vec<_> = items
        .iter()
        .map(|(p, o)| {
            let mut signatures = Vec::with_capacity(2);
            let result = prepare(p, keys, o, &mut signatures);
            (result, signatures)
        })
        .collect();
    let batched: Vec<&SignatureCheck> = prepared
        .iter()
        .filter(|(result, _)| result.is_ok())
        .flat_map(|(_, signatures)| signatures.iter().filter(|s| s.key.as_ed25519().is_some()))
        .collect();
    let batch_ok = batch_verify(&batched);
    prepared
        .into_iter()
        .map(|(result, signatures)| {
            for s in &signatures {
                if !(batch_ok && result.is_ok() && s.key.as_ed25519().is_some()) {
                    s.run()?;
                }
            }
            result
        })
        .collect()
}

/// A signature met while verifying, checked once everything is parsed so that the Ed25519
/// signatures of a presentation (issuer and key binding) go through one batch: about a third
/// cheaper than two single checks.
struct SignatureCheck<'a> {
    key: Cow<'a, VerifyingKey>,
    alg: Algorithm,
    message: &'a str,
    signature: Vec<u8>,
    error: VerifyError,
}

impl SignatureCheck<'_> {
    fn run(&self) -> Result<(), VerifyError> {
        if self
            .key
            .verify(self.alg, self.message.as_bytes(), &self.signature)
        {
            Ok(())
        } else {
            Err(self.error.clone())
        }
    }
}

/// Checks signatures in order; two or more Ed25519 ones are tried as a batch first.
fn check_signatures(signatures: &[SignatureCheck]) -> Result<(), VerifyError> {
    let all_ed25519 = signatures.iter().all(|s| s.key.as_ed25519().is_some());
    if signatures.len() >= 2 && all_ed25519 && batch_verify(&signatures.iter().collect::<Vec<_>>())
    {
        return Ok(());
    }
    signatures.iter().try_for_each(SignatureCheck::run)
}

/// Whether every (Ed25519) signature verifies. Batches are cofactored: a signature only a
/// cofactorless check would refuse can pass here, which no honest signer produces and which
/// gives its maker nothing (it could sign validly). Small-order keys are refused when parsed.
fn batch_verify(checks: &[&SignatureCheck]) -> bool {
    if checks.is_empty() {
        return true;
    }
    let mut messages = Vec::with_capacity(checks.len());
    let mut signatures = Vec::with_capacity(checks.len());
    let mut keys = Vec::with_capacity(checks.len());
    for c in checks {
        let (Some(key), Ok(sig)) = (
            c.key.as_ed25519(),
            ed25519_dalek::Signature::from_slice(&c.signature),
        ) else {
            return false;
        };
        if !c.key.accepts(c.alg) {
            return false;
        }
        messages.push(c.message.as_bytes());
        signatures.push(sig);
        keys.push(*key);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// Every check but the signatures, which are pushed to `signatures` as they are met.
fn prepare<'a>(
    presentation: &'a str,
    keys: &'a impl IssuerKeys,
    options: &VerifyOptions,
    signatures: &mut Vec<SignatureCheck<'a>>,
) -> Result<Verified, VerifyError> {
    let limits = options.limits;
    if presentation.len() > limits.max_bytes {
        return Err(VerifyError::TooLarge(limits.max_bytes));
    }

    // 1. Split: JWT ~ disclosures ~ (KB-JWT or nothing).
    let last_tilde = presentation.rfind('~').ok_or(VerifyError::NotAnSdJwt)?;
    let sd_jwt = &presentation[..=last_tilde];
    let kb_jwt = &presentation[last_tilde + 1..];
    let mut parts = sd_jwt[..last_tilde].split('~');
    let issuer_jwt = parts.next().unwrap_or_default();
    let encoded_disclosures: Vec<&str> = parts.collect();
    if encoded_disclosures.len() > limits.max_disclosures {
        return Err(VerifyError::TooManyDisclosures(limits.max_disclosures));
    }

    // 2. The issuer-signed JWT.
    let jws = Jws::parse(issuer_jwt).map_err(VerifyError::MalformedIssuerJwt)?;
    let typ = jws.header_str("typ");
    if !typ.is_some_and(|t| options.types.iter().any(|a| a == t)) {
        return Err(VerifyError::WrongType(typ.map(str::to_owned)));
    }
    if !options.algorithms.contains(&jws.alg) {
        return Err(VerifyError::AlgorithmNotAllowed(jws.alg));
    }
    let iss = match jws.payload.get("iss") {
        Some(Value::String(iss)) => iss.clone(),
        None if !options.sd_jwt_vc => String::new(),
        _ => return Err(VerifyError::MissingIssuer),
    };
    let kid = jws.header_str("kid").map(str::to_owned);
    let issuer_key =
        keys.issuer_key(&iss, kid.as_deref())
            .ok_or_else(|| VerifyError::UnknownIssuerKey {
                iss: iss.clone(),
                kid: kid.clone(),
            })?;
    if !issuer_key.accepts(jws.alg) {
        return Err(VerifyError::KeyAlgorithmMismatch(jws.alg));
    }
    signatures.push(SignatureCheck {
        key: Cow::Borrowed(issuer_key),
        alg: jws.alg,
        message: jws.signing_input(),
        signature: jws.signature().to_vec(),
        error: VerifyError::InvalidSignature,
    });
    let alg = jws.alg;
    let mut payload = jws.payload;
    let sd_alg = match payload.remove("_sd_alg") {
        None => SdAlg::Sha256,
        Some(Value::String(name)) => {
            SdAlg::from_name(&name).ok_or(VerifyError::UnsupportedSdAlg(name))?
        }
        Some(_) => return Err(VerifyError::SdAlgNotString),
    };

    // 3–5. Disclosures and digests.
    let mut disclosures = encoded_disclosures
        .iter()
        .map(|d| Disclosure::parse(d, sd_alg))
        .collect::<Result<Vec<_>, _>>()?;
    let processed = process(
        payload,
        &mut disclosures,
        limits.max_depth,
        options.sd_jwt_vc,
    )?;
    let claims = processed.claims;

    // 6. The SD-JWT VC claims.
    let vct = match claims.get("vct") {
        Some(Value::String(vct)) => vct.clone(),
        None if !options.sd_jwt_vc => String::new(),
        _ => return Err(VerifyError::MissingVct),
    };
    let time = |name: &'static str| match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|t| t.is_finite())
            .map(|t| Some(t.floor() as i64))
            .ok_or(VerifyError::InvalidTimeClaim(name)),
    };
    let (iat, nbf, exp) = (time("iat")?, time("nbf")?, time("exp")?);
    let leeway = i64::try_from(options.leeway).unwrap_or(i64::MAX);
    let now = options.now;
    if exp.is_some_and(|exp| now.saturating_sub(leeway) >= exp) {
        return Err(VerifyError::Expired);
    }
    if nbf.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
        return Err(VerifyError::NotYetValid);
    }
    if iat.is_some_and(|iat| now.saturating_add(leeway) < iat) {
        return Err(VerifyError::IssuedInFuture);
    }
    let status = match claims.get("status") {
        None => None,
        Some(Value::Object(status)) => match status.get("status_list") {
            None => None,
            Some(list) => Some(
                serde_json::from_value::<StatusReference>(list.clone())
                    .map_err(|_| VerifyError::InvalidStatus)?,
            ),
        },
        Some(_) => return Err(VerifyError::InvalidStatus),
    };
    let holder = match claims.get("cnf") {
        None => None,
        Some(cnf) => {
            let jwk = cnf.get("jwk").ok_or(VerifyError::InvalidHolderKey)?;
            let jwk: Jwk =
                serde_json::from_value(jwk.clone()).map_err(|_| VerifyError::InvalidHolderKey)?;
            if jwk.d.is_some() {
                return Err(VerifyError::InvalidHolderKey);
            }
            Some(jwk)
        }
    };

    // Key binding (RFC 9901 §7.3).
    match &options.key_binding {
        KbPolicy::NotRequired if !kb_jwt.is_empty() => {
            return Err(VerifyError::UnexpectedKeyBinding);
        }
        KbPolicy::NotRequired => {}
        KbPolicy::Required { .. } if kb_jwt.is_empty() => {
            return Err(VerifyError::MissingKeyBinding);
        }
        KbPolicy::Required {
            audience,
            nonce,
            max_age,
        } => {
            let holder_jwk = holder.as_ref().ok_or(VerifyError::MissingHolderKey)?;
            let holder_key =
                VerifyingKey::from_jwk(holder_jwk).map_err(|_| VerifyError::InvalidHolderKey)?;
            let kb = Jws::parse(kb_jwt).map_err(VerifyError::MalformedKbJwt)?;
            if kb.header_str("typ") != Some(TYP_KB_JWT) {
                return Err(VerifyError::KbWrongType);
            }
            if !options.algorithms.contains(&kb.alg) || !holder_key.accepts(kb.alg) {
                return Err(VerifyError::KbAlgorithmNotAllowed(kb.alg));
            }
            signatures.push(SignatureCheck {
                key: Cow::Owned(holder_key),
                alg: kb.alg,
                message: kb.signing_input(),
                signature: kb.signature().to_vec(),
                error: VerifyError::KbInvalidSignature,
            });
            let kb_iat = kb
                .payload
                .get("iat")
                .and_then(Value::as_i64)
                .ok_or(VerifyError::KbMissingClaim("iat"))?;
            match kb.payload.get("aud") {
                None => return Err(VerifyError::KbMissingClaim("aud")),
                Some(Value::String(aud)) if aud == audience => {}
                Some(Value::String(_)) => return Err(VerifyError::KbAudienceMismatch),
                Some(_) => return Err(VerifyError::KbAudienceNotString),
            }
            match kb.payload.get("nonce") {
                Some(Value::String(n)) if n == nonce => {}
                Some(Value::String(_)) => return Err(VerifyError::KbNonceMismatch),
                _ => return Err(VerifyError::KbMissingClaim("nonce")),
            }
            let max_age = i64::try_from(*max_age).unwrap_or(i64::MAX);
            if kb_iat < now.saturating_sub(max_age).saturating_sub(leeway) {
                return Err(VerifyError::KbTooOld);
            }
            if kb_iat > now.saturating_add(leeway) {
                return Err(VerifyError::KbIssuedInFuture);
            }
            match kb.payload.get("sd_hash") {
                Some(Value::String(h)) if *h == sd_alg.digest(sd_jwt) => {}
                Some(Value::String(_)) => return Err(VerifyError::KbSdHashMismatch),
                _ => return Err(VerifyError::KbMissingClaim("sd_hash")),
            }
        }
    }

    Ok(Verified {
        issuer: iss,
        vct,
        alg,
        kid,
        claims,
        disclosed: processed.disclosed,
        status,
        holder,
        issued_at: iat,
        expires_at: exp,
    })
}
