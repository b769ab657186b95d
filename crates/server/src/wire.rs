//! The byte strings of requests, sent as unpadded base64url, decoded to the size each
//! must have, with a `400` that says which of the two it got wrong.

use sesame_core::encoding::base64url_decode;

use crate::error::ApiError;

/// The `N` bytes of the request field `what`.
pub(crate) fn decode<const N: usize>(what: &str, text: &str) -> Result<[u8; N], ApiError> {
    let bytes = base64url_decode(what, text).map_err(|e| ApiError::invalid_field(what, &e))?;
    let len = bytes.len();
    <[u8; N]>::try_from(bytes)
        .map_err(|_| ApiError::invalid(format!("{what} must be {N} bytes, got {len}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_and_what_is_wrong() {
        assert_eq!(decode::<3>("nonce", "AAAA").unwrap(), [0u8; 3]);
        let err = decode::<32>("accessHash", "AAAA").unwrap_err();
        assert_eq!(err.message(), "accessHash must be 32 bytes, got 3");
        let err = decode::<3>("accessHash", "AA+A").unwrap_err();
        assert!(
            err.message()
                .starts_with("accessHash is not unpadded base64url"),
            "{err}"
        );
        assert!(decode::<3>("nonce", "AAAA=").is_err());
    }
}
