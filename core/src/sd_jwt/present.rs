//! The holder's side: read an issued SD-JWT, choose disclosures by claim path, add key binding.

use super::process::process;
use super::verify::{Limits, VerifyError};
use super::{Disclosure, SdAlg, TYP_KB_JWT};
use crate::jws::{self, Jws};
use crate::keys::{KeyError, SigningKey};
use crate::path::{ClaimPath, PathElement};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// An issued SD-JWT as its holder keeps it: the issuer-signed JWT and every disclosure.
#[derive(Clone, Debug)]
pub struct SdJwt {
    jwt: String,
    payload: Map<String, Value>,
    sd_alg: SdAlg,
    disclosures: Vec<Disclosure>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresentError {
    #[error("not an issued SD-JWT: {0}")]
    Malformed(#[from] VerifyError),
    #[error("an issued SD-JWT ends with `~` and carries no key binding JWT")]
    HasKeyBinding,
    #[error("the credential has no claim at {0}")]
    ClaimNotFound(ClaimPath),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// What the key binding JWT binds the presentation to.
pub struct KeyBindingInput<'a> {
    pub key: &'a SigningKey,
    /// The verifier's client identifier (OpenID4VP: with its prefix).
    pub audience: &'a str,
    pub nonce: &'a str,
    /// Unix seconds.
    pub issued_at: i64,
}

impl SdJwt {
    /// Parses an issued SD-JWT (`<JWT>~<D1>~…~<Dn>~`). The issuer signature is not checked
    /// here: a wallet verifies what it receives with [`verify`](super::verify) first.
    pub fn parse(issued: &str) -> Result<SdJwt, PresentError> {
        let limits = Limits::default();
        if issued.len() > limits.max_bytes {
            return Err(VerifyError::TooLarge(limits.max_bytes).into());
        }
        let body = issued.strip_suffix('~').ok_or_else(|| {
            if issued.contains('~') {
                PresentError::HasKeyBinding
            } else {
                VerifyError::NotAnSdJwt.into()
            }
        })?;
        let mut parts = body.split('~');
        let jwt = parts.next().unwrap_or_default();
        let jws = Jws::parse(jwt).map_err(VerifyError::MalformedIssuerJwt)?;
        let mut payload = jws.payload;
        let sd_alg = match payload.remove("_sd_alg") {
            None => SdAlg::Sha256,
            Some(Value::String(n)) => {
                SdAlg::from_name(&n).ok_or(VerifyError::UnsupportedSdAlg(n))?
            }
            Some(_) => return Err(VerifyError::SdAlgNotString.into()),
        };
        let disclosures = parts
            .take(limits.max_disclosures + 1)
            .map(|d| Disclosure::parse(d, sd_alg))
            .collect::<Result<Vec<_>, _>>()?;
        if disclosures.len() > limits.max_disclosures {
            return Err(VerifyError::TooManyDisclosures(limits.max_disclosures).into());
        }
        let sd_jwt = SdJwt {
            jwt: jwt.to_owned(),
            payload,
            sd_alg,
            disclosures,
        };
        sd_jwt.claims()?; // structural checks: every disclosure in place, no duplicates
        Ok(sd_jwt)
    }

    /// Every claim, with all disclosures applied.
    pub fn claims(&self) -> Result<Map<String, Value>, VerifyError> {
        let mut disclosures = self.disclosures.clone();
        Ok(process(
            self.payload.clone(),
            &mut disclosures,
            Limits::default().max_depth,
            true,
        )?
        .claims)
    }

    /// The paths of every selectively disclosable claim.
    pub fn disclosable_paths(&self) -> Result<Vec<ClaimPath>, VerifyError> {
        let mut disclosures = self.disclosures.clone();
        Ok(process(
            self.payload.clone(),
            &mut disclosures,
            Limits::default().max_depth,
            true,
        )?
        .disclosed)
    }

    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The issuer-signed JWT's payload, digests included.
    pub fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    /// Builds a presentation revealing the claims at `paths` (each with its parents'
    /// disclosures, and everything under it), or every disclosure when `paths` is `None`;
    /// with a key binding JWT when `binding` is given.
    pub fn present(
        &self,
        paths: Option<&[ClaimPath]>,
        binding: Option<KeyBindingInput>,
    ) -> Result<String, PresentError> {
        let chosen = match paths {
            None => vec![true; self.disclosures.len()],
            Some(paths) => self.select(paths)?,
        };
        let mut presentation = self.jwt.clone();
        presentation.push('~');
        for (d, _) in self.disclosures.iter().zip(&chosen).filter(|(_, c)| **c) {
            presentation.push_str(&d.encoded);
            presentation.push('~');
        }
        if let Some(kb) = binding {
            let payload = json!({
                "iat": kb.issued_at,
                "aud": kb.audience,
                "nonce": kb.nonce,
                "sd_hash": self.sd_alg.digest(&presentation),
            });
            presentation.push_str(&jws::sign(TYP_KB_JWT, None, &payload, kb.key)?);
        }
        Ok(presentation)
    }

    /// Which disclosures reveal `paths`.
    fn select(&self, paths: &[ClaimPath]) -> Result<Vec<bool>, PresentError> {
        let index: HashMap<&str, usize> = self
            .disclosures
            .iter()
            .enumerate()
            .map(|(i, d)| (d.digest.as_str(), i))
            .collect();
        let mut selector = Selector {
            disclosures: &self.disclosures,
            index,
            chosen: vec![false; self.disclosures.len()],
        };
        let root = Value::Object(self.payload.clone());
        for path in paths {
            if !selector.walk(&root, path.elements()) {
                return Err(PresentError::ClaimNotFound(path.clone()));
            }
        }
        Ok(selector.chosen)
    }
}

struct Selector<'a> {
    disclosures: &'a [Disclosure],
    index: HashMap<&'a str, usize>,
    chosen: Vec<bool>,
}

impl<'a> Selector<'a> {
    /// Marks what reveals `rest` under `value`; whether anything matched.
    fn walk(&mut self, value: &'a Value, rest: &[PathElement]) -> bool {
        let Some((head, tail)) = rest.split_first() else {
            self.everything(value);
            return true;
        };
        match (value, head) {
            (Value::Object(map), PathElement::Key(_) | PathElement::Index(_)) => {
                let name = match head {
                    PathElement::Key(k) => k.clone(),
                    PathElement::Index(i) => i.to_string(),
                    PathElement::All => unreachable!(),
                };
                if name != "_sd"
                    && let Some(v) = map.get(&name)
                {
                    return self.walk(v, tail);
                }
                for i in self.object_disclosures(map) {
                    if self.disclosures[i].name.as_deref() == Some(name.as_str()) {
                        let found = self.walk(&self.disclosures[i].value, tail);
                        self.chosen[i] |= found;
                        return found;
                    }
                }
                false
            }
            (Value::Array(items), PathElement::Index(_) | PathElement::All) => {
                let mut found = false;
                for (position, (element, disclosure)) in
                    self.array_elements(items).into_iter().enumerate()
                {
                    if matches!(head, PathElement::Index(i) if *i != position) {
                        continue;
                    }
                    let hit = self.walk(element, tail);
                    if let Some(i) = disclosure {
                        self.chosen[i] |= hit;
                    }
                    found |= hit;
                }
                found
            }
            _ => false,
        }
    }

    /// Marks every disclosure under `value`.
    fn everything(&mut self, value: &'a Value) {
        match value {
            Value::Object(map) => {
                for i in self.object_disclosures(map) {
                    self.chosen[i] = true;
                    self.everything(&self.disclosures[i].value);
                }
                for (k, v) in map {
                    if k != "_sd" {
                        self.everything(v);
                    }
                }
            }
            Value::Array(items) => {
                for (element, disclosure) in self.array_elements(items) {
                    if let Some(i) = disclosure {
                        self.chosen[i] = true;
                    }
                    self.everything(element);
                }
            }
            _ => {}
        }
    }

    fn object_disclosures(&self, map: &Map<String, Value>) -> Vec<usize> {
        map.get("_sd")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().and_then(|d| self.index.get(d).copied()))
            .collect()
    }

    /// The elements of an issued array as the holder sees them (decoys dropped), with the
    /// disclosure each came from.
    fn array_elements(&self, items: &'a [Value]) -> Vec<(&'a Value, Option<usize>)> {
        let disclosures = self.disclosures;
        items
            .iter()
            .filter_map(|item| match item.get("...").and_then(Value::as_str) {
                Some(digest) => self
                    .index
                    .get(digest)
                    .map(|&i| (&disclosures[i].value, Some(i))),
                None => Some((item, None)),
            })
            .collect()
    }
}
