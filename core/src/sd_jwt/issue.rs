use super::disclosure::{decoy, new_salt};
use super::{Disclosure, NEVER_DISCLOSABLE, SdAlg, StatusReference, TYP_SD_JWT_VC};
use crate::jws;
use crate::keys::{Jwk, KeyError, SigningKey};
use crate::path::{ClaimPath, PathElement};
use rand_core::CryptoRngCore;
use serde_json::{Map, Value, json};

/// Which claims become selectively disclosable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Disclose {
    /// Every claim that may be disclosable, recursively: object members and array elements at
    /// every depth (the parent's disclosure then holds its children's digests).
    #[default]
    All,
    /// Exactly these claims (an `All` element in a path means each element of that array).
    Paths(Vec<ClaimPath>),
}

/// What an issuer puts in an SD-JWT VC.
#[derive(Clone, Debug, Default)]
pub struct Credential {
    /// `iss`: the issuer identifier (an https URL for key resolution through metadata).
    pub issuer: String,
    /// `vct`: the credential type.
    pub vct: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    pub not_before: Option<i64>,
    pub expires_at: Option<i64>,
    /// The holder's public key, written as `cnf.jwk`.
    pub holder: Option<Jwk>,
    pub status: Option<StatusReference>,
    /// The subject claims. Names SD-JWT VC registers for the issuer (`iss`, `vct`, `iat`, `nbf`,
    /// `exp`, `cnf`, `status`) come from the fields above and may not appear here.
    pub claims: Map<String, Value>,
    pub disclose: Disclose,
    /// Each `_sd` array and each array with disclosable elements gets between 0 and this many
    /// decoy digests, so the number of hidden claims does not show.
    pub max_decoys: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    #[error("claim name `{0}` is reserved by SD-JWT")]
    ReservedName(String),
    #[error("claim `{0}` is set by the issuer, not by the claims")]
    RegisteredClaim(String),
    #[error("claim `{0}` may never be selectively disclosable (SD-JWT VC)")]
    NeverDisclosable(String),
    #[error("no claim at {0}")]
    PathNotFound(ClaimPath),
    #[error("the issuer and vct must not be empty")]
    MissingIssuerOrType,
    #[error("the holder key must be public")]
    PrivateHolderKey,
    #[error(transparent)]
    Key(#[from] KeyError),
}

const SET_BY_ISSUER: [&str; 7] = ["iss", "vct", "iat", "nbf", "exp", "cnf", "status"];

/// Issues an SD-JWT VC signed by `key` (header `typ: dc+sd-jwt`, `kid`), with fresh 128-bit
/// salts and decoys drawn from `rng`.
pub fn issue(
    credential: &Credential,
    key: &SigningKey,
    rng: &mut impl CryptoRngCore,
) -> Result<String, IssueError> {
    if credential.issuer.is_empty() || credential.vct.is_empty() {
        return Err(IssueError::MissingIssuerOrType);
    }
    if let Some(name) = SET_BY_ISSUER
        .iter()
        .find(|n| credential.claims.contains_key(**n))
    {
        return Err(IssueError::RegisteredClaim((*name).to_owned()));
    }
    let mut encoder = Encoder {
        alg: SdAlg::Sha256,
        disclose: &credential.disclose,
        matched: vec![false; paths_len(&credential.disclose)],
        disclosures: Vec::new(),
        max_decoys: credential.max_decoys,
        rng,
    };
    let mut path = Vec::new();
    let Value::Object(mut payload) = encoder.object(credential.claims.clone(), &mut path)? else {
        unreachable!("an object encodes to an object")
    };
    if let Disclose::Paths(paths) = &credential.disclose
        && let Some(i) = encoder.matched.iter().position(|m| !m)
    {
        return Err(IssueError::PathNotFound(paths[i].clone()));
    }

    payload.insert("iss".into(), credential.issuer.clone().into());
    payload.insert("vct".into(), credential.vct.clone().into());
    payload.insert("iat".into(), credential.issued_at.into());
    if let Some(nbf) = credential.not_before {
        payload.insert("nbf".into(), nbf.into());
    }
    if let Some(exp) = credential.expires_at {
        payload.insert("exp".into(), exp.into());
    }
    if let Some(holder) = &credential.holder {
        if holder.d.is_some() {
            return Err(IssueError::PrivateHolderKey);
        }
        payload.insert("cnf".into(), json!({ "jwk": holder }));
    }
    if let Some(status) = &credential.status {
        payload.insert("status".into(), json!({ "status_list": status }));
    }
    payload.insert("_sd_alg".into(), SdAlg::Sha256.name().into());

    let jwt = jws::sign(TYP_SD_JWT_VC, Some(key.kid()), &Value::Object(payload), key)?;
    let mut sd_jwt = String::with_capacity(
        jwt.len()
            + 1
            + encoder
                .disclosures
                .iter()
                .map(|d| d.encoded.len() + 1)
                .sum::<usize>(),
    );
    sd_jwt.push_str(&jwt);
    sd_jwt.push('~');
    for d in &encoder.disclosures {
        sd_jwt.push_str(&d.encoded);
        sd_jwt.push('~');
    }
    Ok(sd_jwt)
}

fn paths_len(disclose: &Disclose) -> usize {
    match disclose {
        Disclose::All => 0,
        Disclose::Paths(p) => p.len(),
    }
}

struct Encoder<'a, R> {
    alg: SdAlg,
    disclose: &'a Disclose,
    matched: Vec<bool>,
    disclosures: Vec<Disclosure>,
    max_decoys: usize,
    rng: &'a mut R,
}

impl<R: CryptoRngCore> Encoder<'_, R> {
    fn value(&mut self, value: Value, path: &mut Vec<PathElement>) -> Result<Value, IssueError> {
        match value {
            Value::Object(map) => self.object(map, path),
            Value::Array(items) => self.array(items, path),
            other => Ok(other),
        }
    }

    fn object(
        &mut self,
        map: Map<String, Value>,
        path: &mut Vec<PathElement>,
    ) -> Result<Value, IssueError> {
        let mut out = Map::new();
        let mut digests = Vec::new();
        for (name, value) in map {
            if name == "_sd" || name == "..." || name == "_sd_alg" {
                return Err(IssueError::ReservedName(name));
            }
            path.push(PathElement::Key(name.clone()));
            let value = self.value(value, path)?;
            let selected = self.selected(path)?;
            path.pop();
            if selected {
                let disclosure = Disclosure::new(new_salt(self.rng), Some(name), value, self.alg);
                digests.push(disclosure.digest.clone());
                self.disclosures.push(disclosure);
            } else {
                out.insert(name, value);
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoy_count() {
                digests.push(decoy(self.alg, self.rng));
            }
            digests.sort_unstable();
            out.insert(
                "_sd".into(),
                digests.into_iter().map(Value::String).collect(),
            );
        }
        Ok(Value::Object(out))
    }

    fn array(
        &mut self,
        items: Vec<Value>,
        path: &mut Vec<PathElement>,
    ) -> Result<Value, IssueError> {
        let mut out = Vec::with_capacity(items.len());
        let mut any = false;
        for (i, item) in items.into_iter().enumerate() {
            path.push(PathElement::Index(i));
            let item = self.value(item, path)?;
            let selected = self.selected(path)?;
            path.pop();
            if selected {
                let disclosure = Disclosure::new(new_salt(self.rng), None, item, self.alg);
                out.push(json!({ "...": disclosure.digest }));
                self.disclosures.push(disclosure);
                any = true;
            } else {
                out.push(item);
            }
        }
        if any {
            for _ in 0..self.decoy_count() {
                let at = self.uniform(out.len() + 1);
                out.insert(at, json!({ "...": decoy(self.alg, self.rng) }));
            }
        }
        Ok(Value::Array(out))
    }

    /// Whether the claim at `path` is made disclosable.
    fn selected(&mut self, path: &[PathElement]) -> Result<bool, IssueError> {
        let top_level_protected = match path {
            [PathElement::Key(name)] => NEVER_DISCLOSABLE.contains(&name.as_str()),
            _ => false,
        };
        match self.disclose {
            Disclose::All => Ok(!top_level_protected),
            Disclose::Paths(paths) => {
                let mut hit = false;
                for (i, wanted) in paths.iter().enumerate() {
                    if matches(wanted.elements(), path) {
                        self.matched[i] = true;
                        hit = true;
                    }
                }
                if hit && top_level_protected {
                    let PathElement::Key(name) = &path[0] else {
                        unreachable!()
                    };
                    return Err(IssueError::NeverDisclosable(name.clone()));
                }
                Ok(hit)
            }
        }
    }

    fn decoy_count(&mut self) -> usize {
        self.uniform(self.max_decoys + 1)
    }

    /// A uniform integer below `n` (n ≥ 1); the tiny modulo bias is irrelevant for decoys.
    fn uniform(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }
}

/// Whether a selection path names the claim at `at`. Digit keys in a selection also match
/// object members of that name (JSON pointer tokens are strings).
fn matches(wanted: &[PathElement], at: &[PathElement]) -> bool {
    wanted.len() == at.len()
        && wanted.iter().zip(at).all(|(w, a)| match (w, a) {
            (PathElement::All, PathElement::Index(_)) => true,
            (PathElement::Index(i), PathElement::Key(k)) => k == &i.to_string(),
            (w, a) => w == a,
        })
}
