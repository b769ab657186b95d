#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // criterion_group! makes an undocumented pub fn
//! Validating and parsing secret references. Target: validate under 1 µs (the official
//! Python SDK's validator takes about 55 µs per call, mostly crossing into its core).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sesame_core::reference::{validate, SecretReference};

const REFERENCES: [(&str, &str); 3] = [
    ("three_segments", "op://Infra/Postgres/password"),
    (
        "four_segments_query",
        "op://development/GitHub/Security/one-time password?attribute=totp",
    ),
    (
        "unicode_ids",
        "op://k3kyqkdvuq4sfhpa7cqbyc2vhq/Clé API 金庫/mot de passe",
    ),
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("reference");
    // The floor: one pass over the bytes of the longest reference, counting delimiters.
    let longest = REFERENCES[1].1;
    group.bench_function("baseline/scan_bytes", |b| {
        b.iter(|| black_box(longest).bytes().filter(|&b| b == b'/').count())
    });
    for (name, reference) in REFERENCES {
        assert!(validate(reference).is_ok());
        group.bench_function(format!("validate/{name}"), |b| {
            b.iter(|| validate(black_box(reference)))
        });
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| SecretReference::parse(black_box(reference)))
        });
    }
    let invalid = "op://Infra/Post$gres/password";
    group.bench_function("validate/invalid", |b| {
        b.iter(|| validate(black_box(invalid)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
