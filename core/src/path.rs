//! Claim paths: where a claim sits in a credential, in the OpenID4VP claims path pointer form
//! (`["address", "locality"]`, `["nationalities", 0]`, `["nationalities", null]`), also read
//! from JSON pointers (`/address/locality`) on the command line.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// One step of a [`ClaimPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// An object member.
    Key(String),
    /// An array element (position after undisclosed elements are removed).
    Index(usize),
    /// Every element of an array (`null`).
    All,
}

/// A non-empty path to a claim.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPath(Vec<PathElement>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("a claim path has at least one element")]
    Empty,
    #[error("a claim path element is a string, a non-negative integer or null")]
    Element,
    #[error("a JSON pointer starts with `/`")]
    Pointer,
    #[error("bad `~` escape in a JSON pointer")]
    Escape,
}

impl ClaimPath {
    pub fn new(elements: Vec<PathElement>) -> Result<ClaimPath, PathError> {
        if elements.is_empty() {
            return Err(PathError::Empty);
        }
        Ok(ClaimPath(elements))
    }

    /// For paths built while walking a token, which are never empty.
    pub(crate) fn from_walk(elements: &[PathElement]) -> ClaimPath {
        debug_assert!(!elements.is_empty());
        ClaimPath(elements.to_vec())
    }

    /// A top-level claim.
    pub fn key(name: impl Into<String>) -> ClaimPath {
        ClaimPath(vec![PathElement::Key(name.into())])
    }

    /// Parses a JSON pointer (RFC 6901). Tokens made only of digits become indices; an index
    /// also matches an object member of that name, so `/0` works on either.
    pub fn from_pointer(pointer: &str) -> Result<ClaimPath, PathError> {
        let rest = pointer.strip_prefix('/').ok_or(PathError::Pointer)?;
        let elements = rest
            .split('/')
            .map(|token| {
                let token = unescape(token)?;
                Ok(match token.parse::<usize>() {
                    Ok(i)
                        if token.bytes().all(|b| b.is_ascii_digit())
                            && (token == "0" || !token.starts_with('0')) =>
                    {
                        PathElement::Index(i)
                    }
                    _ => PathElement::Key(token),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        ClaimPath::new(elements)
    }

    /// Parses the JSON array form.
    pub fn from_json(value: &Value) -> Result<ClaimPath, PathError> {
        let items = value.as_array().ok_or(PathError::Element)?;
        let elements = items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(PathElement::Key(s.clone())),
                Value::Null => Ok(PathElement::All),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(PathElement::Index)
                    .ok_or(PathError::Element),
                _ => Err(PathError::Element),
            })
            .collect::<Result<Vec<_>, _>>()?;
        ClaimPath::new(elements)
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|e| match e {
                    PathElement::Key(k) => Value::from(k.as_str()),
                    PathElement::Index(i) => Value::from(*i),
                    PathElement::All => Value::Null,
                })
                .collect(),
        )
    }

    pub fn elements(&self) -> &[PathElement] {
        &self.0
    }

    /// This path with one more element.
    pub fn child(&self, element: PathElement) -> ClaimPath {
        let mut elements = self.0.clone();
        elements.push(element);
        ClaimPath(elements)
    }

    /// Whether `self` is `other` or lies under it (`All` matches any index).
    pub fn starts_with(&self, other: &ClaimPath) -> bool {
        other.0.len() <= self.0.len()
            && other.0.iter().zip(&self.0).all(|(o, s)| match (o, s) {
                (PathElement::All, PathElement::Index(_)) => true,
                (o, s) => o == s,
            })
    }
}

fn unescape(token: &str) -> Result<String, PathError> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return Err(PathError::Escape),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

impl FromStr for ClaimPath {
    type Err = PathError;
    /// A JSON pointer (`/a/0`) or the JSON array form (`["a",0]`).
    fn from_str(s: &str) -> Result<ClaimPath, PathError> {
        if s.starts_with('[') {
            let value: Value = serde_json::from_str(s).map_err(|_| PathError::Element)?;
            ClaimPath::from_json(&value)
        } else {
            ClaimPath::from_pointer(s)
        }
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl Serialize for ClaimPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClaimPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ClaimPath, D::Error> {
        let value = Value::deserialize(d)?;
        ClaimPath::from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_and_json_forms_agree() {
        let p: ClaimPath = "/address/locality".parse().unwrap();
        assert_eq!(
            p,
            ClaimPath::from_json(&json!(["address", "locality"])).unwrap()
        );
        let q: ClaimPath = "/nationalities/0".parse().unwrap();
        assert_eq!(q.to_json(), json!(["nationalities", 0]));
        assert_eq!(
            "/a~1b/~0c/01".parse::<ClaimPath>().unwrap().to_json(),
            json!(["a/b", "~c", "01"])
        );
        let all: ClaimPath = r#"["nationalities",null]"#.parse().unwrap();
        assert!(q.starts_with(&all));
        assert!(!all.starts_with(&q));
    }

    #[test]
    fn rejects_bad_paths() {
        assert_eq!("".parse::<ClaimPath>().unwrap_err(), PathError::Pointer);
        assert_eq!("[]".parse::<ClaimPath>().unwrap_err(), PathError::Empty);
        assert_eq!("[-1]".parse::<ClaimPath>().unwrap_err(), PathError::Element);
        assert_eq!(
            "[true]".parse::<ClaimPath>().unwrap_err(),
            PathError::Element
        );
        assert_eq!("/a~2".parse::<ClaimPath>().unwrap_err(), PathError::Escape);
    }
}
