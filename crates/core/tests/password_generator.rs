#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Behaviour of `generate_password` for every recipe: ranges, alphabets, rules, entropy.

use std::collections::HashMap;

use secrecy::ExposeSecret;
use sesame_core::password::{
    generate_password, PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType, RANDOM_DIGITS, RANDOM_LETTERS, SYMBOLS,
};
use sesame_core::ErrorCode;

fn pin(length: u32) -> PasswordRecipe {
    PasswordRecipe::Pin(PasswordRecipePinInner { length })
}

fn random(length: u32, include_digits: bool, include_symbols: bool) -> PasswordRecipe {
    PasswordRecipe::Random(PasswordRecipeRandomInner {
        include_digits,
        include_symbols,
        length,
    })
}

fn memorable(
    word_count: u32,
    separator_type: SeparatorType,
    capitalize: bool,
    word_list_type: WordListType,
) -> PasswordRecipe {
    PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
        separator_type,
        capitalize,
        word_list_type,
        word_count,
    })
}

fn generate(recipe: &PasswordRecipe) -> (String, f64) {
    let generated = generate_password(recipe).unwrap();
    (
        generated.password().expose_secret().to_owned(),
        generated.entropy_bits(),
    )
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "entropy {actual} != expected {expected}"
    );
}

const ALL_SEPARATORS: [SeparatorType; 7] = [
    SeparatorType::Digits,
    SeparatorType::DigitsAndSymbols,
    SeparatorType::Spaces,
    SeparatorType::Hyphens,
    SeparatorType::Underscores,
    SeparatorType::Periods,
    SeparatorType::Commas,
];
const ALL_LISTS: [WordListType; 3] = [
    WordListType::FullWords,
    WordListType::Syllables,
    WordListType::ThreeLetters,
];

// ---------- ranges ----------

fn assert_range_error(recipe: &PasswordRecipe, expected: &str) {
    let err = generate_password(recipe).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(err.to_string(), expected);
}

#[test]
fn pin_length_boundaries() {
    for length in [4, 12] {
        assert_eq!(generate(&pin(length)).0.len(), length as usize);
    }
    for length in [0, 3, 13, u32::MAX] {
        assert_range_error(
            &pin(length),
            &format!("invalid recipe.length: must be between 4 and 12, got {length}"),
        );
    }
}

#[test]
fn random_length_boundaries() {
    for length in [8, 100] {
        assert_eq!(
            generate(&random(length, true, true)).0.len(),
            length as usize
        );
    }
    for length in [0, 7, 101] {
        assert_range_error(
            &random(length, false, true),
            &format!("invalid recipe.length: must be between 8 and 100, got {length}"),
        );
    }
}

#[test]
fn memorable_word_count_boundaries() {
    for count in [3, 15] {
        let (password, _) = generate(&memorable(
            count,
            SeparatorType::Hyphens,
            false,
            WordListType::FullWords,
        ));
        assert_eq!(password.split('-').count(), count as usize);
    }
    for count in [0, 2, 16] {
        assert_range_error(
            &memorable(count, SeparatorType::Spaces, true, WordListType::Syllables),
            &format!("invalid recipe.wordCount: must be between 3 and 15, got {count}"),
        );
    }
}

// ---------- alphabets and rules ----------

#[test]
fn pin_is_digits_only() {
    for _ in 0..200 {
        let (password, _) = generate(&pin(12));
        assert!(password.bytes().all(|b| b.is_ascii_digit()), "{password}");
    }
}

#[test]
fn random_uses_only_its_alphabet_and_never_look_alikes() {
    const LOOK_ALIKES: &str = "0Oo1lI|";
    for (digits, symbols) in [(false, false), (true, false), (false, true), (true, true)] {
        for length in [8, 9, 32, 100] {
            for _ in 0..50 {
                let (password, _) = generate(&random(length, digits, symbols));
                assert_eq!(password.len(), length as usize);
                assert!(
                    !password.chars().any(|c| LOOK_ALIKES.contains(c)),
                    "look-alike in {password}"
                );
                let has_digit = password.chars().any(|c| RANDOM_DIGITS.contains(c));
                let has_symbol = password.chars().any(|c| SYMBOLS.contains(c));
                assert_eq!(has_digit, digits, "digits={digits}: {password}");
                assert_eq!(has_symbol, symbols, "symbols={symbols}: {password}");
                assert!(password.chars().all(|c| RANDOM_LETTERS.contains(c)
                    || (digits && RANDOM_DIGITS.contains(c))
                    || (symbols && SYMBOLS.contains(c))));
            }
        }
    }
}

#[test]
fn random_eventually_uses_every_character_of_its_alphabet() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..400 {
        seen.extend(generate(&random(100, true, true)).0.chars());
    }
    let alphabet: String = [RANDOM_LETTERS, RANDOM_DIGITS, SYMBOLS].concat();
    assert_eq!(seen.len(), alphabet.len());
    assert!(alphabet.chars().all(|c| seen.contains(&c)));
}

#[test]
fn memorable_words_and_separators() {
    let full_words = include_str!("../data/eff_large_wordlist.txt");
    let full_words: std::collections::HashSet<&str> = full_words.lines().collect();
    for separator in ALL_SEPARATORS {
        for list in ALL_LISTS {
            for capitalize in [false, true] {
                for count in [3, 7, 15] {
                    let (password, _) = generate(&memorable(count, separator, capitalize, list));
                    let words: Vec<&str> =
                        password.split(|c: char| !c.is_ascii_alphabetic()).collect();
                    assert_eq!(words.len(), count as usize, "{password}");
                    let gaps: Vec<char> = password
                        .chars()
                        .filter(|c| !c.is_ascii_alphabetic())
                        .collect();
                    assert_eq!(gaps.len(), count as usize - 1);
                    for gap in &gaps {
                        let ok = match separator {
                            SeparatorType::Digits => gap.is_ascii_digit(),
                            SeparatorType::DigitsAndSymbols => {
                                gap.is_ascii_digit() || SYMBOLS.contains(*gap)
                            }
                            SeparatorType::Spaces => *gap == ' ',
                            SeparatorType::Hyphens => *gap == '-',
                            SeparatorType::Underscores => *gap == '_',
                            SeparatorType::Periods => *gap == '.',
                            SeparatorType::Commas => *gap == ',',
                        };
                        assert!(ok, "{separator:?} gap {gap:?} in {password}");
                    }
                    // Capitalize: exactly one word in capitals, the others in lowercase.
                    let capitals = words
                        .iter()
                        .filter(|w| w.bytes().all(|b| b.is_ascii_uppercase()))
                        .count();
                    assert_eq!(capitals, usize::from(capitalize), "{password}");
                    for word in words {
                        let upper = word.bytes().all(|b| b.is_ascii_uppercase());
                        assert!(upper || word.bytes().all(|b| b.is_ascii_lowercase()));
                        let lower = word.to_ascii_lowercase();
                        let known = match list {
                            WordListType::FullWords => full_words.contains(lower.as_str()),
                            WordListType::ThreeLetters => lower.len() == 3,
                            WordListType::Syllables => {
                                (2..=3).contains(&lower.len())
                                    && "aeiou".contains(&lower[1..2])
                                    && !"aeiouqxy".contains(&lower[..1])
                            }
                        };
                        assert!(known, "{word} not in {list:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn random_separators_vary_per_gap() {
    // 200 passwords of 14 gaps each: with 10 equally likely digits, all gaps of every
    // password being equal would happen with probability 200 · 10^-13.
    let mut any_mixed = false;
    for _ in 0..200 {
        let (password, _) = generate(&memorable(
            15,
            SeparatorType::Digits,
            false,
            WordListType::ThreeLetters,
        ));
        let gaps: Vec<char> = password.chars().filter(char::is_ascii_digit).collect();
        any_mixed |= gaps.iter().any(|g| *g != gaps[0]);
    }
    assert!(any_mixed);
}

// ---------- entropy ----------

/// log2 of an exact integer count.
fn log2_u128(x: u128) -> f64 {
    let shift = 128 - x.leading_zeros();
    if shift <= 53 {
        (x as f64).log2()
    } else {
        let s = shift - 53;
        ((x >> s) as f64).log2() + f64::from(s)
    }
}

#[test]
fn pin_entropy_is_length_times_log2_10() {
    for length in 4..=12 {
        assert_close(generate(&pin(length)).1, log2_u128(10u128.pow(length)));
    }
}

#[test]
fn random_entropy_counts_exactly_the_allowed_strings() {
    // 48 letters, 8 digits, 27 symbols; counts by inclusion–exclusion, in exact integers.
    let p = |a: u128, n: u32| a.pow(n);
    for n in [8u32, 9, 12, 16, 20] {
        assert_close(generate(&random(n, false, false)).1, log2_u128(p(48, n)));
        assert_close(
            generate(&random(n, true, false)).1,
            log2_u128(p(56, n) - p(48, n)),
        );
        assert_close(
            generate(&random(n, false, true)).1,
            log2_u128(p(75, n) - p(48, n)),
        );
        assert_close(
            generate(&random(n, true, true)).1,
            log2_u128(p(83, n) - p(75, n) - p(56, n) + p(48, n)),
        );
    }
    // Long passwords: the constraint costs almost nothing ((75/83)^100 ≈ 4e-5).
    let (_, bits) = generate(&random(100, true, true));
    let unconstrained = 100.0 * 83f64.log2();
    assert!(
        bits < unconstrained && unconstrained - bits < 1e-3,
        "{bits}"
    );
    let (_, bits) = generate(&random(32, true, true));
    assert!((200.0..204.0).contains(&bits), "{bits}");
}

#[test]
fn memorable_entropy_follows_the_formula() {
    let cases = [
        (WordListType::FullWords, 7772.0),
        (WordListType::Syllables, 1710.0),
        (WordListType::ThreeLetters, 17_576.0),
    ];
    for (list, words) in cases {
        for separator in ALL_SEPARATORS {
            let separators: f64 = match separator {
                SeparatorType::Digits => 10.0,
                SeparatorType::DigitsAndSymbols => 37.0,
                _ => 1.0,
            };
            for count in [3u32, 4, 15] {
                for capitalize in [false, true] {
                    let (_, bits) = generate(&memorable(count, separator, capitalize, list));
                    let capital = if capitalize {
                        f64::from(count).log2()
                    } else {
                        0.0
                    };
                    let expected = f64::from(count) * f64::log2(words)
                        + f64::from(count - 1) * f64::log2(separators)
                        + capital;
                    assert_close(bits, expected);
                }
            }
        }
    }
    // Four EFF words with hyphens: the familiar 51.7 bits.
    let (_, bits) = generate(&memorable(
        4,
        SeparatorType::Hyphens,
        false,
        WordListType::FullWords,
    ));
    assert!((51.6..51.8).contains(&bits), "{bits}");
}

// ---------- uniformity ----------

#[test]
fn pin_digits_are_uniform_chi_square() {
    // 60,000 PINs of 12 digits = 720,000 digits. Chi-square with 9 degrees of freedom
    // has mean 9 and P(X > 60) ≈ 1.4e-9, so this cannot flake in practice, yet the
    // modulo bias of `byte % 10` (0–5 drawn 26 times in 256, 6–9 only 25) gives ≈ 260.
    let mut counts = [0u64; 10];
    for _ in 0..60_000 {
        for b in generate(&pin(12)).0.bytes() {
            counts[usize::from(b - b'0')] += 1;
        }
    }
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / 10.0;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 60.0, "chi-square {chi2} for {counts:?}");
}

#[test]
fn random_characters_are_uniform_chi_square() {
    // Letters-only, 48 symbols, 5,000 × 100 characters; 47 degrees of freedom (mean 47,
    // P(X > 130) < 1e-9).
    let mut counts: HashMap<char, u64> = HashMap::new();
    for _ in 0..5_000 {
        for c in generate(&random(100, false, false)).0.chars() {
            *counts.entry(c).or_default() += 1;
        }
    }
    assert_eq!(counts.len(), 48);
    let expected = 500_000.0 / 48.0;
    let chi2: f64 = counts
        .values()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 130.0, "chi-square {chi2}");
}

// ---------- serde and redaction ----------

#[test]
fn recipes_serialize_exactly_like_the_1password_sdk() {
    let cases = [
        (
            random(32, true, true),
            r#"{"type":"Random","parameters":{"includeDigits":true,"includeSymbols":true,"length":32}}"#,
        ),
        (pin(6), r#"{"type":"Pin","parameters":{"length":6}}"#),
        (
            memorable(
                5,
                SeparatorType::DigitsAndSymbols,
                true,
                WordListType::ThreeLetters,
            ),
            r#"{"type":"Memorable","parameters":{"separatorType":"digitsAndSymbols","capitalize":true,"wordListType":"threeLetters","wordCount":5}}"#,
        ),
    ];
    for (recipe, json) in cases {
        assert_eq!(serde_json::to_string(&recipe).unwrap(), json);
        assert_eq!(
            serde_json::from_str::<PasswordRecipe>(json).unwrap(),
            recipe
        );
    }
    for (separator, name) in ALL_SEPARATORS.iter().zip([
        "digits",
        "digitsAndSymbols",
        "spaces",
        "hyphens",
        "underscores",
        "periods",
        "commas",
    ]) {
        assert_eq!(
            serde_json::to_string(separator).unwrap(),
            format!("\"{name}\"")
        );
    }
    for (list, name) in ALL_LISTS
        .iter()
        .zip(["fullWords", "syllables", "threeLetters"])
    {
        assert_eq!(serde_json::to_string(list).unwrap(), format!("\"{name}\""));
    }
    // Wrong spellings are rejected, not guessed.
    assert!(serde_json::from_str::<PasswordRecipe>(
        r#"{"type":"random","parameters":{"length":6}}"#
    )
    .is_err());
    assert!(
        serde_json::from_str::<PasswordRecipe>(r#"{"type":"Pin","parameters":{"length":-1}}"#)
            .is_err()
    );
}

#[test]
fn debug_never_shows_the_password() {
    for recipe in [
        pin(12),
        random(40, true, true),
        memorable(6, SeparatorType::Spaces, true, WordListType::FullWords),
    ] {
        let generated = generate_password(&recipe).unwrap();
        let debug = format!("{generated:?}");
        assert!(debug.contains("REDACTED"), "{debug}");
        assert!(!debug.contains(generated.password().expose_secret()));
        assert!(debug.contains("entropy_bits"));
    }
}

#[test]
fn passwords_differ() {
    let recipe = random(16, true, true);
    let a = generate(&recipe).0;
    let b = generate(&recipe).0;
    assert_ne!(a, b);
}
