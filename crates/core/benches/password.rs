#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // criterion_group! makes an undocumented pub fn
//! Password generation per recipe. Target: a 32-character random password under 5 µs.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::RngCore;
use sesame_core::password::{
    generate_password, PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};

fn recipes() -> Vec<(&'static str, PasswordRecipe)> {
    let random = |length, include_digits, include_symbols| {
        PasswordRecipe::Random(PasswordRecipeRandomInner {
            include_digits,
            include_symbols,
            length,
        })
    };
    let memorable = |word_list_type, separator_type, word_count| {
        PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
            separator_type,
            capitalize: true,
            word_list_type,
            word_count,
        })
    };
    vec![
        (
            "pin/6",
            PasswordRecipe::Pin(PasswordRecipePinInner { length: 6 }),
        ),
        ("random/32/digits+symbols", random(32, true, true)),
        ("random/8/digits+symbols", random(8, true, true)),
        ("random/100/digits+symbols", random(100, true, true)),
        ("random/32/letters", random(32, false, false)),
        (
            "memorable/fullWords/5/hyphens",
            memorable(WordListType::FullWords, SeparatorType::Hyphens, 5),
        ),
        (
            "memorable/fullWords/15/digitsAndSymbols",
            memorable(WordListType::FullWords, SeparatorType::DigitsAndSymbols, 15),
        ),
        (
            "memorable/syllables/5/digits",
            memorable(WordListType::Syllables, SeparatorType::Digits, 5),
        ),
        (
            "memorable/threeLetters/5/periods",
            memorable(WordListType::ThreeLetters, SeparatorType::Periods, 5),
        ),
    ]
}

fn generate(c: &mut Criterion) {
    // The floor: the one OS random-number call a password costs (64 bytes).
    c.bench_function("password/baseline/os_random_64_bytes", |b| {
        b.iter(|| {
            let mut bytes = [0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            black_box(bytes)
        })
    });
    for (name, recipe) in recipes() {
        // First call loads the word lists, outside the measurement.
        generate_password(&recipe).unwrap();
        c.bench_function(&format!("password/{name}"), |b| {
            b.iter(|| generate_password(black_box(&recipe)).unwrap())
        });
    }
}

criterion_group!(benches, generate);
criterion_main!(benches);
