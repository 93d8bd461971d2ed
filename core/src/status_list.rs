//! Token Status List (draft-ietf-oauth-status-list): a compressed array of 1, 2, 4 or 8-bit
//! statuses, least-significant bits first, zlib-compressed, carried in a `statuslist+jwt`.

use crate::jws::{self, Jws, JwsError};
use crate::keys::{KeyError, SigningKey, VerifyingKey};
use crate::{b64, sd_jwt::StatusReference};
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use serde_json::{Value, json};
use std::io::{Read, Write};

/// `typ` of a status list token.
pub const TYP_STATUS_LIST: &str = "statuslist+jwt";
/// Media type of a status list token.
pub const MEDIA_TYPE: &str = "application/statuslist+jwt";

/// A credential's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Valid,
    Invalid,
    Suspended,
    /// 0x03 and 0x0C–0x0F are application-specific; the rest is reserved.
    Other(u8),
}

impl Status {
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(v) => v,
        }
    }

    pub fn from_value(v: u8) -> Status {
        match v {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            v => Status::Other(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    #[error("bits must be 1, 2, 4 or 8")]
    Bits,
    #[error("index {0} is outside the list")]
    OutOfBounds(u64),
    #[error("status {0} does not fit in the list's bits")]
    ValueTooLarge(u8),
    #[error("the compressed list is not valid base64url zlib data")]
    Encoding,
    #[error("the list inflates beyond {0} bytes")]
    TooLarge(usize),
    #[error("status list token: {0}")]
    Jws(JwsError),
    #[error("status list token `typ` must be statuslist+jwt")]
    WrongType,
    #[error("the status list token signature is invalid")]
    InvalidSignature,
    #[error("status list token `sub` does not match the credential's status uri")]
    SubjectMismatch,
    #[error("status list token claim `{0}` is missing or malformed")]
    Claim(&'static str),
    #[error("the status list token expired")]
    Expired,
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// An uncompressed status list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `len` entries, all valid.
    pub fn new(bits: u8, len: usize) -> Result<StatusList, StatusListError> {
        check_bits(bits)?;
        Ok(StatusList {
            bits,
            bytes: vec![0; (len * bits as usize).div_ceil(8)],
        })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / self.bits as usize
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn get(&self, idx: u64) -> Result<Status, StatusListError> {
        let (byte, shift) = self.position(idx)?;
        let mask = (1u16 << self.bits) - 1;
        Ok(Status::from_value(
            ((self.bytes[byte] >> shift) as u16 & mask) as u8,
        ))
    }

    pub fn set(&mut self, idx: u64, status: Status) -> Result<(), StatusListError> {
        let value = status.value();
        let mask = ((1u16 << self.bits) - 1) as u8;
        if value > mask {
            return Err(StatusListError::ValueTooLarge(value));
        }
        let (byte, shift) = self.position(idx)?;
        self.bytes[byte] = (self.bytes[byte] & !(mask << shift)) | (value << shift);
        Ok(())
    }

    fn position(&self, idx: u64) -> Result<(usize, u32), StatusListError> {
        let bit = usize::try_from(idx)
            .ok()
            .and_then(|i| i.checked_mul(self.bits as usize))
            .filter(|bit| bit / 8 < self.bytes.len())
            .ok_or(StatusListError::OutOfBounds(idx))?;
        Ok((bit / 8, (bit % 8) as u32))
    }

    /// `lst`: base64url of the zlib-compressed (level 9) bytes.
    pub fn encode(&self) -> String {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        let compressed = encoder
            .write_all(&self.bytes)
            .and_then(|()| encoder.finish())
            .unwrap_or_default(); // writing to a Vec cannot fail
        b64::encode(compressed)
    }

    /// Decodes `lst`, refusing to inflate more than `max_bytes` (a zlib bomb).
    pub fn decode(bits: u8, lst: &str, max_bytes: usize) -> Result<StatusList, StatusListError> {
        check_bits(bits)?;
        let compressed = b64::decode(lst).ok_or(StatusListError::Encoding)?;
        let mut bytes = Vec::new();
        ZlibDecoder::new(compressed.as_slice())
            .take(max_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Encoding)?;
        if bytes.len() > max_bytes {
            return Err(StatusListError::TooLarge(max_bytes));
        }
        Ok(StatusList { bits, bytes })
    }
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(()),
        _ => Err(StatusListError::Bits),
    }
}

/// The claims of a status list token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusListToken {
    /// The URI the token is served from (`sub`).
    pub subject: String,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    /// How long, in seconds, a client may cache the token.
    pub ttl: Option<u64>,
    pub list: StatusList,
}

impl StatusListToken {
    /// Signs the token (`typ: statuslist+jwt`, `kid`).
    pub fn sign(&self, key: &SigningKey) -> Result<String, StatusListError> {
        let mut payload = json!({
            "sub": self.subject,
            "iat": self.issued_at,
            "status_list": { "bits": self.list.bits, "lst": self.list.encode() },
        });
        if let Some(exp) = self.expires_at {
            payload["exp"] = exp.into();
        }
        if let Some(ttl) = self.ttl {
            payload["ttl"] = ttl.into();
        }
        Ok(jws::sign(TYP_STATUS_LIST, Some(key.kid()), &payload, key)?)
    }

    /// Parses and checks a token fetched from `expected_uri`: `typ`, signature, `sub`, `iat`,
    /// `exp` (with `leeway`), and the list's inflated size.
    pub fn verify(
        token: &str,
        key: &VerifyingKey,
        expected_uri: &str,
        now: i64,
        leeway: u64,
        max_bytes: usize,
    ) -> Result<StatusListToken, StatusListError> {
        let jws = Jws::parse(token).map_err(StatusListError::Jws)?;
        if jws.header_str("typ") != Some(TYP_STATUS_LIST) {
            return Err(StatusListError::WrongType);
        }
        if !jws.verify(key) {
            return Err(StatusListError::InvalidSignature);
        }
        let claims = &jws.payload;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(StatusListError::Claim("sub"))?;
        if subject != expected_uri {
            return Err(StatusListError::SubjectMismatch);
        }
        let issued_at = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(StatusListError::Claim("iat"))?;
        let expires_at = match claims.get("exp") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or(StatusListError::Claim("exp"))?),
        };
        if expires_at.is_some_and(|exp| now.saturating_sub(leeway as i64) >= exp) {
            return Err(StatusListError::Expired);
        }
        let ttl = match claims.get("ttl") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or(StatusListError::Claim("ttl"))?),
        };
        let list = claims
            .get("status_list")
            .ok_or(StatusListError::Claim("status_list"))?;
        let bits = list
            .get("bits")
            .and_then(Value::as_u64)
            .and_then(|b| u8::try_from(b).ok())
            .ok_or(StatusListError::Claim("status_list.bits"))?;
        let lst = list
            .get("lst")
            .and_then(Value::as_str)
            .ok_or(StatusListError::Claim("status_list.lst"))?;
        Ok(StatusListToken {
            subject: subject.to_owned(),
            issued_at,
            expires_at,
            ttl,
            list: StatusList::decode(bits, lst, max_bytes)?,
        })
    }

    /// The status of a credential that points into this list.
    pub fn status_of(&self, reference: &StatusReference) -> Result<Status, StatusListError> {
        if reference.uri != self.subject {
            return Err(StatusListError::SubjectMismatch);
        }
        self.list.get(reference.idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(bits: u8, values: &[u8]) -> StatusList {
        let mut l = StatusList::new(bits, values.len()).unwrap();
        for (i, v) in values.iter().enumerate() {
            l.set(i as u64, Status::from_value(*v)).unwrap();
        }
        l
    }

    #[test]
    fn draft_examples() {
        // draft-ietf-oauth-status-list §4.1: compare decoded arrays, not compressed strings.
        let one = list(1, &[1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
        assert_eq!(one.bytes, [0xb9, 0xa3]);
        assert_eq!(StatusList::decode(1, "eNrbuRgAAhcBXQ", 1024).unwrap(), one);
        let two = list(2, &[1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
        assert_eq!(two.bytes, [0xc9, 0x44, 0xf9]);
        assert_eq!(StatusList::decode(2, "eNo76fITAAPfAgc", 1024).unwrap(), two);
        assert_eq!(StatusList::decode(2, &two.encode(), 1024).unwrap(), two);
    }

    #[test]
    fn every_width_round_trips() {
        for bits in [1u8, 2, 4, 8] {
            let values: Vec<u8> = (0..300u16).map(|i| (i % (1 << bits)) as u8).collect();
            let l = list(bits, &values);
            let back = StatusList::decode(bits, &l.encode(), 1 << 20).unwrap();
            for (i, v) in values.iter().enumerate() {
                assert_eq!(back.get(i as u64).unwrap().value(), *v);
            }
            assert!(matches!(
                back.get(back.len() as u64),
                Err(StatusListError::OutOfBounds(_))
            ));
        }
        assert_eq!(StatusList::new(3, 8).unwrap_err(), StatusListError::Bits);
        let mut one = StatusList::new(1, 8).unwrap();
        assert_eq!(
            one.set(0, Status::Suspended).unwrap_err(),
            StatusListError::ValueTooLarge(2)
        );
    }

    #[test]
    fn zlib_bomb_is_bounded() {
        let big = StatusList::new(1, 8 << 20).unwrap(); // 1 MiB of zeros compresses to ~1 KiB
        let lst = big.encode();
        assert!(lst.len() < 4096);
        assert_eq!(
            StatusList::decode(1, &lst, 128 * 1024).unwrap_err(),
            StatusListError::TooLarge(128 * 1024)
        );
        assert_eq!(
            StatusList::decode(1, "eNo", 10).unwrap_err(),
            StatusListError::Encoding
        );
    }
}
