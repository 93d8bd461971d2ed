//! Digest processing (RFC 9901 §7.1 step 3–5): puts the disclosed claims back in their place and
//! rejects every structural defect. Shared by the verifier and by holders reading their own
//! credentials.

use super::verify::VerifyError;
use super::{Disclosure, NEVER_DISCLOSABLE};
use crate::path::{ClaimPath, PathElement};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

pub(crate) struct Processed {
    pub claims: Map<String, Value>,
    pub disclosed: Vec<ClaimPath>,
}

/// Processes `payload` (without its top-level `_sd_alg`) against `disclosures`, whose digests
/// were computed with the token's `_sd_alg`. The disclosures' values are moved into the result.
pub(crate) fn process(
    payload: Map<String, Value>,
    disclosures: &mut [Disclosure],
    max_depth: usize,
    sd_jwt_vc: bool,
) -> Result<Processed, VerifyError> {
    let values: Vec<Value> = disclosures
        .iter_mut()
        .map(|d| std::mem::take(&mut d.value))
        .collect();
    let disclosures: &[Disclosure] = disclosures;
    let mut index = HashMap::with_capacity(disclosures.len());
    for (i, d) in disclosures.iter().enumerate() {
        if index.insert(d.digest.as_str(), i).is_some() {
            return Err(VerifyError::DuplicateDisclosure);
        }
    }
    let mut p = Processor {
        disclosures,
        index,
        values,
        used: vec![false; disclosures.len()],
        seen: HashSet::with_capacity(disclosures.len() * 2),
        disclosed: Vec::with_capacity(disclosures.len()),
        path: Vec::new(),
        protected: None,
        max_depth,
        sd_jwt_vc,
    };
    let Value::Object(claims) = p.object(payload, 1)? else {
        unreachable!("an object processes to an object")
    };
    if p.used.iter().any(|u| !u) {
        return Err(VerifyError::UnreferencedDisclosure);
    }
    Ok(Processed {
        claims,
        disclosed: p.disclosed,
    })
}

struct Processor<'a> {
    disclosures: &'a [Disclosure],
    index: HashMap<&'a str, usize>,
    values: Vec<Value>,
    used: Vec<bool>,
    seen: HashSet<String>,
    disclosed: Vec<ClaimPath>,
    path: Vec<PathElement>,
    /// Set while inside a top-level claim that may never be disclosed (`cnf`, `status`…).
    protected: Option<String>,
    max_depth: usize,
    /// Apply SD-JWT VC's rule that registered claims are never disclosed.
    sd_jwt_vc: bool,
}

impl Processor<'_> {
    fn value(&mut self, value: Value, depth: usize) -> Result<Value, VerifyError> {
        match value {
            Value::Object(map) => self.object(map, depth + 1),
            Value::Array(items) => self.array(items, depth + 1),
            other => Ok(other),
        }
    }

    fn object(&mut self, mut map: Map<String, Value>, depth: usize) -> Result<Value, VerifyError> {
        if depth > self.max_depth {
            return Err(VerifyError::TooDeep);
        }
        if map.contains_key("...") {
            return Err(VerifyError::MisplacedEllipsis);
        }
        if map.contains_key("_sd_alg") {
            return Err(VerifyError::NestedSdAlg);
        }
        let digests = match map.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(digests)) => digests,
            Some(_) => return Err(VerifyError::SdNotArray),
        };
        let mut out = Map::new();
        for (name, value) in map {
            let enters_protected =
                self.sd_jwt_vc && depth == 1 && NEVER_DISCLOSABLE.contains(&name.as_str());
            if enters_protected {
                self.protected = Some(name.clone());
            }
            self.path.push(PathElement::Key(name));
            let value = self.value(value, depth);
            let Some(PathElement::Key(name)) = self.path.pop() else {
                unreachable!("pushed above")
            };
            if enters_protected {
                self.protected = None;
            }
            out.insert(name, value?);
        }
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(VerifyError::SdDigestNotString);
            };
            let Some(i) = self.resolve(digest)? else {
                continue; // a decoy
            };
            let Some(name) = self.disclosures[i].name.clone() else {
                return Err(VerifyError::ArrayDisclosureInObject);
            };
            if let Some(protected) = &self.protected {
                return Err(VerifyError::ForbiddenDisclosure(protected.clone()));
            }
            if self.sd_jwt_vc && depth == 1 && NEVER_DISCLOSABLE.contains(&name.as_str()) {
                return Err(VerifyError::ForbiddenDisclosure(name));
            }
            if out.contains_key(&name) {
                return Err(VerifyError::ClaimCollision(name));
            }
            self.path.push(PathElement::Key(name.clone()));
            let value = std::mem::take(&mut self.values[i]);
            let value = self.value(value, depth);
            self.disclosed.push(ClaimPath::from_walk(&self.path));
            self.path.pop();
            out.insert(name, value?);
        }
        Ok(Value::Object(out))
    }

    fn array(&mut self, items: Vec<Value>, depth: usize) -> Result<Value, VerifyError> {
        if depth > self.max_depth {
            return Err(VerifyError::TooDeep);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let item = match item {
                Value::Object(mut element) if element.contains_key("...") => {
                    if element.len() != 1 {
                        return Err(VerifyError::EllipsisExtraMembers);
                    }
                    let Some(Value::String(digest)) = element.remove("...") else {
                        return Err(VerifyError::EllipsisNotString);
                    };
                    let Some(i) = self.resolve(digest)? else {
                        continue; // a decoy
                    };
                    if self.disclosures[i].name.is_some() {
                        return Err(VerifyError::ObjectDisclosureInArray);
                    }
                    if let Some(protected) = &self.protected {
                        return Err(VerifyError::ForbiddenDisclosure(protected.clone()));
                    }
                    self.path.push(PathElement::Index(out.len()));
                    let value = std::mem::take(&mut self.values[i]);
                    let value = self.value(value, depth);
                    self.disclosed.push(ClaimPath::from_walk(&self.path));
                    self.path.pop();
                    value?
                }
                plain => {
                    self.path.push(PathElement::Index(out.len()));
                    let value = self.value(plain, depth);
                    self.path.pop();
                    value?
                }
            };
            out.push(item);
        }
        Ok(Value::Array(out))
    }

    /// Records `digest` as seen (no digest may appear twice in a token) and finds its
    /// disclosure, marking it used.
    fn resolve(&mut self, digest: String) -> Result<Option<usize>, VerifyError> {
        let found = self.index.get(digest.as_str()).copied();
        if !self.seen.insert(digest) {
            return Err(VerifyError::DuplicateDigest);
        }
        if let Some(i) = found {
            self.used[i] = true;
        }
        Ok(found)
    }
}
