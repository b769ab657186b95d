#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // criterion_group! makes an undocumented pub fn
//! TOTP: parsing an otpauth URI or a bare secret, and computing a code.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use sesame_core::totp::{Hotp, Totp};
use sha1::Sha1;

const URI: &str = "otpauth://totp/ACME%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30";
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn parse(c: &mut Criterion) {
    c.bench_function("totp/parse_uri", |b| {
        b.iter(|| Totp::parse(black_box(URI)).unwrap())
    });
    c.bench_function("totp/parse_base32_secret", |b| {
        b.iter(|| Totp::parse(black_box(SECRET)).unwrap())
    });
}

fn codes(c: &mut Criterion) {
    // The floor: the single HMAC-SHA1 of an 8-byte counter that a code is built from.
    let key = [0x5au8; 20];
    c.bench_function("totp/baseline/hmac_sha1", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&key).unwrap();
            mac.update(&black_box(42u64).to_be_bytes());
            mac.finalize().into_bytes()
        })
    });
    for algorithm in ["SHA1", "SHA256", "SHA512"] {
        let totp = Totp::parse(&format!(
            "otpauth://totp/x?secret={SECRET}&algorithm={algorithm}"
        ))
        .unwrap();
        c.bench_function(&format!("totp/code_at/{algorithm}"), |b| {
            b.iter(|| totp.code_at(black_box(1_700_000_000)))
        });
    }
    let hotp = Hotp::from_uri(&format!("otpauth://hotp/x?secret={SECRET}&counter=0")).unwrap();
    c.bench_function("totp/hotp_code/SHA1", |b| {
        b.iter(|| hotp.code(black_box(42)))
    });
    c.bench_function("totp/parse_uri_and_code", |b| {
        b.iter(|| Totp::parse(black_box(URI)).unwrap().code_at(1_700_000_000))
    });
}

criterion_group!(benches, parse, codes);
criterion_main!(benches);
