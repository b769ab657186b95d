//! The `otpauth://` URI and base32 secret parser: never panics, and a parsed TOTP or HOTP
//! computes a code of its digits at any time or counter (huge periods and counters
//! included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_core::totp::{Hotp, Totp};

fuzz_target!(|input: (u64, &str)| {
    let (moment, text) = input;
    if let Ok(totp) = Totp::parse(text) {
        let code = totp.code_at(moment);
        assert_eq!(code.code().len(), usize::from(totp.digits()));
        assert!(code.valid_from() <= moment);
    }
    if let Ok(hotp) = Hotp::from_uri(text) {
        assert_eq!(hotp.code(moment).len(), usize::from(hotp.digits()));
    }
});
