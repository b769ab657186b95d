//! The service account token parser: never panics on any string, and what it accepts
//! re-encodes to a token that parses to the same ids and URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret as _;
use sesame_core::token::ServiceAccountToken;

fuzz_target!(|text: &str| {
    if let Ok(token) = ServiceAccountToken::parse(text) {
        let encoded = token.to_secret_string();
        let again =
            ServiceAccountToken::parse(encoded.expose_secret()).expect("a re-encoded token parses");
        assert_eq!(again.server_url(), token.server_url());
        assert_eq!(again.account_id(), token.account_id());
        assert_eq!(again.principal_id(), token.principal_id());
    }
});
