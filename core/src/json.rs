//! Strict JSON parsing for untrusted tokens: UTF-8, a bounded nesting depth (serde_json's
//! recursion limit) and **no duplicate member names** — a JSON object with a repeated name would
//! let two parsers see two different claims (RFC 7515 §5.2, RFC 8259 §4).

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Parses `bytes` as JSON, rejecting duplicate object member names anywhere.
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Parses `bytes` as a JSON object (strictly, see [`from_slice`]).
pub fn object_from_slice(bytes: &[u8]) -> Option<Map<String, Value>> {
    match from_slice(bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(StrictValue)?;
            if map.insert(key, value).is_some() {
                return Err(A::Error::custom("duplicate member name"));
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(from_slice(br#"{"a":1,"a":2}"#).is_err());
        assert!(from_slice(br#"{"a":[{"b":1,"b":1}]}"#).is_err());
        assert_eq!(
            from_slice(br#"{"a":[1,{"b":"c"}]}"#).unwrap()["a"][1]["b"],
            "c"
        );
    }

    #[test]
    fn rejects_trailing_data_and_bad_utf8() {
        assert!(from_slice(br#"{"a":1} x"#).is_err());
        assert!(from_slice(b"\"\xff\"").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(
            from_slice(deep.as_bytes()).is_err(),
            "recursion limit, no stack overflow"
        );
    }
}
