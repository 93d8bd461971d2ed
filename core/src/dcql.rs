//! DCQL, the Digital Credentials Query Language of OpenID4VP 1.0 (§6), for SD-JWT VCs: parsing
//! and checking a query, matching a credential's claims against a credential query (claims,
//! `values`, `claim_sets` in order of preference), what a holder must and may share, and
//! whether the credentials presented satisfy the `credential_sets`. Shared by the wallet (which
//! answers queries) and the verifier (which writes them and checks the answers).

use crate::oid4vci::FORMAT_SD_JWT_VC;
use crate::path::{ClaimPath, PathElement};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcqlError {
    #[error("the query is not a DCQL object: {0}")]
    Shape(String),
    #[error("a DCQL query asks for at least one credential")]
    NoCredentials,
    #[error("identifier {0:?} is not made of A-Z a-z 0-9 _ -")]
    Identifier(String),
    #[error("identifier {0:?} is used twice")]
    Duplicate(String),
    #[error("credential query {0}: only the dc+sd-jwt format is supported")]
    Format(String),
    #[error("credential query {0}: claim_sets need every claim to have an id, and name only those")]
    ClaimSets(String),
    #[error("credential_sets name an unknown credential query {0:?}")]
    UnknownCredential(String),
    #[error("an option of a set is empty")]
    EmptyOption,
}

/// A DCQL query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    pub credentials: Vec<CredentialQuery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSet>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    pub id: String,
    pub format: String,
    #[serde(default)]
    pub meta: Meta,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default = "yes")]
    pub require_cryptographic_holder_binding: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimQuery>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Accepted `vct` values; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub path: ClaimPath,
    /// Accepted values (strings, numbers, booleans); any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSet {
    /// Alternatives, each a list of credential query ids.
    pub options: Vec<Vec<String>>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn identifier(id: &str) -> Result<(), DcqlError> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(())
    } else {
        Err(DcqlError::Identifier(id.to_owned()))
    }
}

impl DcqlQuery {
    /// Parses and checks a query (identifiers, formats, references between sets and queries).
    pub fn from_value(value: &Value) -> Result<DcqlQuery, DcqlError> {
        let query: DcqlQuery =
            serde_json::from_value(value.clone()).map_err(|e| DcqlError::Shape(e.to_string()))?;
        query.check()?;
        Ok(query)
    }

    pub fn check(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() {
            return Err(DcqlError::NoCredentials);
        }
        let mut ids = HashSet::new();
        for c in &self.credentials {
            identifier(&c.id)?;
            if !ids.insert(c.id.as_str()) {
                return Err(DcqlError::Duplicate(c.id.clone()));
            }
            if c.format != FORMAT_SD_JWT_VC {
                return Err(DcqlError::Format(c.id.clone()));
            }
            let claim_ids: Vec<&str> = c
                .claims
                .iter()
                .flatten()
                .filter_map(|q| q.id.as_deref())
                .collect();
            let mut seen = HashSet::new();
            for id in &claim_ids {
                identifier(id)?;
                if !seen.insert(*id) {
                    return Err(DcqlError::Duplicate((*id).to_owned()));
                }
            }
            if let Some(sets) = &c.claim_sets {
                let all_named = c.claims.as_ref().is_some_and(|claims| {
                    !claims.is_empty() && claims.iter().all(|q| q.id.is_some())
                });
                if !all_named
                    || sets.is_empty()
                    || sets.iter().flatten().any(|id| !seen.contains(id.as_str()))
                {
                    return Err(DcqlError::ClaimSets(c.id.clone()));
                }
                if sets.iter().any(Vec::is_empty) {
                    return Err(DcqlError::EmptyOption);
                }
            }
        }
        for set in self.credential_sets.iter().flatten() {
            if set.options.is_empty() || set.options.iter().any(Vec::is_empty) {
                return Err(DcqlError::EmptyOption);
            }
            if let Some(unknown) = set
                .options
                .iter()
                .flatten()
                .find(|id| !ids.contains(id.as_str()))
            {
                return Err(DcqlError::UnknownCredential(unknown.clone()));
            }
        }
        Ok(())
    }

    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }

    /// Whether presenting credentials for the queries `present` answers the query: every
    /// required credential set has an option fully present; without sets, every query is.
    pub fn satisfied_by(&self, present: &[&str]) -> bool {
        match &self.credential_sets {
            None => self
                .credentials
                .iter()
                .all(|c| present.contains(&c.id.as_str())),
            Some(sets) => sets.iter().filter(|s| s.required).all(|s| {
                s.options
                    .iter()
                    .any(|option| option.iter().all(|id| present.contains(&id.as_str())))
            }),
        }
    }
}

/// The values `path` selects in `claims` (`null` selects every array element).
pub fn resolve<'a>(claims: &'a Value, path: &ClaimPath) -> Vec<&'a Value> {
    let mut current = vec![claims];
    for element in path.elements() {
        let mut next = Vec::new();
        for value in current {
            match (element, value) {
                (PathElement::Key(k), Value::Object(map)) => next.extend(map.get(k)),
                (PathElement::Index(i), Value::Array(items)) => next.extend(items.get(*i)),
                (PathElement::All, Value::Array(items)) => next.extend(items.iter()),
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// What a holder is asked for one credential: the claims they must share and those they may.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Requested {
    pub required: Vec<ClaimPath>,
    pub optional: Vec<ClaimPath>,
}

impl CredentialQuery {
    /// The most optional claims [`CredentialQuery::sd_jwt`] takes: every subset of them is one
    /// claim set.
    pub const MAX_OPTIONAL: usize = 6;

    /// A query for an SD-JWT VC asking for the `required` claims and letting the holder add any
    /// of the `optional` ones. DCQL has no optional claim, so each subset of them is a claim
    /// set, most claims first: a wallet presents the first set its holder agrees to.
    pub fn sd_jwt(
        id: &str,
        vct_values: Option<Vec<String>>,
        required: &[ClaimPath],
        optional: &[ClaimPath],
    ) -> Result<CredentialQuery, DcqlError> {
        identifier(id)?;
        if optional.len() > Self::MAX_OPTIONAL {
            return Err(DcqlError::Shape(format!(
                "at most {} optional claims",
                Self::MAX_OPTIONAL
            )));
        }
        let all: Vec<&ClaimPath> = required.iter().chain(optional).collect();
        if all.iter().enumerate().any(|(i, p)| all[..i].contains(p)) {
            return Err(DcqlError::Shape("a claim is asked twice".into()));
        }
        let claims: Vec<ClaimQuery> = all
            .iter()
            .enumerate()
            .map(|(i, path)| ClaimQuery {
                id: Some(format!("c{i}")),
                path: (*path).clone(),
                values: None,
            })
            .collect();
        let claim_sets = (!optional.is_empty()).then(|| {
            let mut subsets: Vec<u32> = (0..1u32 << optional.len()).collect();
            subsets.sort_by_key(|bits| std::cmp::Reverse(bits.count_ones()));
            subsets
                .into_iter()
                .map(|bits| {
                    (0..all.len())
                        .filter(|&i| i < required.len() || bits & (1 << (i - required.len())) != 0)
                        .map(|i| format!("c{i}"))
                        .collect()
                })
                .filter(|set: &Vec<String>| !set.is_empty())
                .collect()
        });
        let query = CredentialQuery {
            id: id.to_owned(),
            format: FORMAT_SD_JWT_VC.to_owned(),
            meta: Meta { vct_values },
            multiple: false,
            require_cryptographic_holder_binding: true,
            claims: (!claims.is_empty()).then_some(claims),
            claim_sets,
        };
        Ok(query)
    }

    fn vct_ok(&self, vct: &str) -> bool {
        self.meta
            .vct_values
            .as_ref()
            .is_none_or(|values| values.iter().any(|v| v == vct))
    }

    fn claim_ok(query: &ClaimQuery, claims: &Value) -> bool {
        let found = resolve(claims, &query.path);
        match &query.values {
            None => !found.is_empty(),
            Some(values) => found.iter().any(|f| values.contains(f)),
        }
    }

    /// The options this credential can satisfy, in the verifier's order of preference, each as
    /// the claim paths it reveals. Empty when the credential does not match at all.
    pub fn options(&self, vct: &str, claims: &Map<String, Value>) -> Vec<Vec<ClaimPath>> {
        if self.format != FORMAT_SD_JWT_VC || !self.vct_ok(vct) {
            return Vec::new();
        }
        let root = Value::Object(claims.clone());
        let Some(queries) = &self.claims else {
            // No claims asked: the credential with nothing selectively disclosed.
            return vec![Vec::new()];
        };
        let ok: Vec<bool> = queries.iter().map(|q| Self::claim_ok(q, &root)).collect();
        match &self.claim_sets {
            None => {
                if ok.iter().all(|o| *o) {
                    vec![queries.iter().map(|q| q.path.clone()).collect()]
                } else {
                    Vec::new()
                }
            }
            Some(sets) => sets
                .iter()
                .filter_map(|set| {
                    set.iter()
                        .map(|id| {
                            let i = queries.iter().position(|q| q.id.as_deref() == Some(id))?;
                            ok[i].then(|| queries[i].path.clone())
                        })
                        .collect::<Option<Vec<_>>>()
                })
                .collect(),
        }
    }

    /// What the holder must share (in every satisfiable option) and may share (in some).
    pub fn requested(&self, vct: &str, claims: &Map<String, Value>) -> Option<Requested> {
        let options = self.options(vct, claims);
        let first = options.first()?;
        let required: Vec<ClaimPath> = first
            .iter()
            .filter(|p| options.iter().all(|o| o.contains(p)))
            .cloned()
            .collect();
        let mut optional: Vec<ClaimPath> = Vec::new();
        for path in options.iter().flatten() {
            if !required.contains(path) && !optional.contains(path) {
                optional.push(path.clone());
            }
        }
        Some(Requested { required, optional })
    }

    /// The claims to reveal given the optional ones the holder agreed to: the verifier's most
    /// preferred option that reveals nothing else. `None` if no option fits.
    pub fn choose(
        &self,
        vct: &str,
        claims: &Map<String, Value>,
        agreed: &[ClaimPath],
    ) -> Option<Vec<ClaimPath>> {
        let requested = self.requested(vct, claims)?;
        self.options(vct, claims).into_iter().find(|option| {
            option
                .iter()
                .all(|p| requested.required.contains(p) || agreed.contains(p))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        json!({
            "name": "Camille Durand",
            "competency": {"code": "SOUD-TIG", "framework_codes": {"rs": "RS5678"}},
            "level": {"label": "argent", "value": 0.66},
            "email": "camille@example.org",
            "phone_number": "+33 6 12 34 56 78",
            "nationalities": ["FR", "DE"],
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn query(value: Value) -> Result<DcqlQuery, DcqlError> {
        DcqlQuery::from_value(&value)
    }

    #[test]
    fn queries_are_checked() {
        let ok = json!({"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}}]});
        let q = query(ok).unwrap();
        assert!(q.credentials[0].require_cryptographic_holder_binding);
        assert!(!q.credentials[0].multiple);
        for (bad, error) in [
            (json!({"credentials": []}), DcqlError::NoCredentials),
            (
                json!({"credentials": [{"id": "a b", "format": "dc+sd-jwt"}]}),
                DcqlError::Identifier("a b".into()),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}, {"id": "a", "format": "dc+sd-jwt"}]}),
                DcqlError::Duplicate("a".into()),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "mso_mdoc"}]}),
                DcqlError::Format("a".into()),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": ["x"]}], "claim_sets": [["x"]]}]}),
                DcqlError::ClaimSets("a".into()),
            ),
            (
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}], "credential_sets": [{"options": [["b"]]}]}),
                DcqlError::UnknownCredential("b".into()),
            ),
        ] {
            assert_eq!(query(bad.clone()).unwrap_err(), error, "{bad}");
        }
        assert!(matches!(
            query(
                json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": []}]}]})
            ),
            Err(DcqlError::Shape(_))
        ));
    }

    #[test]
    fn claims_and_values_match() {
        let q = query(json!({"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://i/vct/competency"]},
            "claims": [{"path": ["competency", "code"], "values": ["SOUD-TIG", "SOUD-MIG"]}, {"path": ["name"]}, {"path": ["nationalities", null]}]}]}))
        .unwrap();
        let c = &q.credentials[0];
        assert_eq!(c.options("https://i/vct/competency", &claims()).len(), 1);
        assert!(
            c.options("https://i/vct/identity", &claims()).is_empty(),
            "vct"
        );
        let mut other = claims();
        other["competency"]["code"] = json!("ELEC");
        assert!(
            c.options("https://i/vct/competency", &other).is_empty(),
            "values"
        );
        other.remove("name");
        assert!(
            c.options("https://i/vct/competency", &other).is_empty(),
            "missing claim"
        );
        assert_eq!(
            resolve(
                &Value::Object(claims()),
                &ClaimPath::from_json(&json!(["nationalities", null])).unwrap()
            )
            .len(),
            2
        );
    }

    #[test]
    fn claim_sets_give_required_and_optional_claims() {
        // E-mail required, phone optional: preferred with the phone, accepted without.
        let q = query(json!({"credentials": [{"id": "id", "format": "dc+sd-jwt",
            "claims": [{"id": "email", "path": ["email"]}, {"id": "phone", "path": ["phone_number"]}, {"id": "address", "path": ["address"]}],
            "claim_sets": [["email", "phone", "address"], ["email", "phone"], ["email"]]}]}))
        .unwrap();
        let c = &q.credentials[0];
        let requested = c.requested("v", &claims()).unwrap();
        let path = |k: &str| ClaimPath::key(k);
        assert_eq!(requested.required, vec![path("email")]);
        assert_eq!(
            requested.optional,
            vec![path("phone_number")],
            "no address in this credential"
        );
        assert_eq!(c.choose("v", &claims(), &[]).unwrap(), vec![path("email")]);
        assert_eq!(
            c.choose("v", &claims(), &[path("phone_number")]).unwrap(),
            vec![path("email"), path("phone_number")]
        );
        let mut no_email = claims();
        no_email.remove("email");
        assert!(c.requested("v", &no_email).is_none());
    }

    #[test]
    fn optional_claims_become_claim_sets() {
        let p = |s: &str| ClaimPath::key(s);
        let q = CredentialQuery::sd_jwt(
            "identity",
            None,
            &[p("given_name")],
            &[p("email"), p("phone_number")],
        )
        .unwrap();
        let query = DcqlQuery {
            credentials: vec![q.clone()],
            credential_sets: None,
        };
        query.check().unwrap();
        let held = json!({"given_name": "A", "email": "a@b", "phone_number": "0102", "birthdate": "2000-01-01"});
        let held = held.as_object().unwrap();
        let asked = q.requested("any", held).unwrap();
        assert_eq!(asked.required, vec![p("given_name")]);
        assert_eq!(asked.optional, vec![p("email"), p("phone_number")]);
        // Whatever the holder agrees to is exactly what goes.
        assert_eq!(q.choose("any", held, &[]).unwrap(), vec![p("given_name")]);
        assert_eq!(
            q.choose("any", held, &[p("phone_number")]).unwrap(),
            vec![p("given_name"), p("phone_number")]
        );
        assert_eq!(
            q.choose("any", held, &[p("email"), p("phone_number")])
                .unwrap(),
            vec![p("given_name"), p("email"), p("phone_number")]
        );
        // A holder without a phone number can still answer.
        let no_phone = json!({"given_name": "A", "email": "a@b"});
        assert_eq!(
            q.choose(
                "any",
                no_phone.as_object().unwrap(),
                &[p("email"), p("phone_number")]
            )
            .unwrap(),
            vec![p("given_name"), p("email")]
        );
        // Only optional claims: the empty set is no claim set.
        let only = CredentialQuery::sd_jwt("x", None, &[], &[p("email")]).unwrap();
        assert_eq!(only.claim_sets, Some(vec![vec!["c0".to_owned()]]));
        let too_many: Vec<ClaimPath> = (0..7).map(|i| p(&format!("k{i}"))).collect();
        assert!(CredentialQuery::sd_jwt("x", None, &[], &too_many).is_err());
        assert!(CredentialQuery::sd_jwt("x", None, &[p("a")], &[p("a")]).is_err());
    }

    #[test]
    fn credential_sets() {
        let q = query(json!({"credentials": [{"id": "name", "format": "dc+sd-jwt"}, {"id": "tig", "format": "dc+sd-jwt"}, {"id": "mig", "format": "dc+sd-jwt"}],
            "credential_sets": [{"options": [["name"]]}, {"options": [["tig"], ["mig"]]}, {"options": [["name", "mig"]], "required": false}]}))
        .unwrap();
        assert!(q.satisfied_by(&["name", "tig"]));
        assert!(q.satisfied_by(&["name", "mig"]));
        assert!(!q.satisfied_by(&["tig", "mig"]));
        let all = query(json!({"credentials": [{"id": "a", "format": "dc+sd-jwt"}, {"id": "b", "format": "dc+sd-jwt"}]})).unwrap();
        assert!(!all.satisfied_by(&["a"]));
        assert!(all.satisfied_by(&["b", "a"]));
    }
}
