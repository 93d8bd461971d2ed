//! Strict base64url without padding (RFC 7515 §2, RFC 9901 §4.2): no `=`, no `+` or `/`,
//! no non-zero trailing bits. Every encoded part of a JWS or an SD-JWT goes through here.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes unpadded base64url, rejecting padding, the standard alphabet and trailing bits.
pub fn decode(text: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    ENGINE.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").unwrap(), b"\xfb\xff");
        assert!(decode("+/8").is_none(), "standard alphabet");
        assert!(decode("-_8=").is_none(), "padding");
        assert!(decode("-_9").is_none(), "non-zero trailing bits");
        assert!(decode("a").is_none(), "impossible length");
        assert!(decode("ab c").is_none(), "whitespace");
    }
}
