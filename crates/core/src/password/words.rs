//! The word lists of memorable passwords (sources and licences: `crates/core/data/ATTRIBUTION.md`).

use std::sync::OnceLock;

use super::WordListType;

const EFF_LARGE: &str = include_str!("../../data/eff_large_wordlist.txt");

/// Consonants and vowels of generated syllables (no `q`, `x`, `y`: they read ambiguously).
const CONSONANTS: &[u8; 18] = b"bcdfghjklmnprstvwz";
const VOWELS: &[u8; 5] = b"aeiou";
/// Consonant–vowel syllables come first, then consonant–vowel–consonant ones.
const CV_COUNT: u32 = 18 * 5;
const SYLLABLE_COUNT: u32 = CV_COUNT + 18 * 5 * 18;
/// "Three letters" are any three of `a`–`z`, as in the 1Password SDK (`tnu-eth-wxg`).
const THREE_LETTER_COUNT: u32 = 26 * 26 * 26;

/// Longest entry of any list, in bytes (EFF words are at most 9 letters).
pub(crate) const MAX_WORD_LEN: usize = 9;

/// Words made only of `a`–`z`: separators are never letters, so a password splits back
/// into its words in exactly one way and its entropy is exactly what we report.
fn letters_only(list: &'static str) -> Vec<&'static str> {
    list.lines()
        .map(str::trim)
        .filter(|w| !w.is_empty() && w.len() <= MAX_WORD_LEN)
        .filter(|w| w.bytes().all(|b| b.is_ascii_lowercase()))
        .collect()
}

fn full_words() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| letters_only(EFF_LARGE))
}

/// How many distinct entries a list has.
pub(crate) fn count(list: WordListType) -> u32 {
    let len = match list {
        WordListType::FullWords => full_words().len(),
        WordListType::ThreeLetters => return THREE_LETTER_COUNT,
        WordListType::Syllables => return SYLLABLE_COUNT,
    };
    u32::try_from(len).unwrap_or(0)
}

/// Entry `index` (below [`count`]) as bytes, copied into `out`; returns its length.
pub(crate) fn entry(list: WordListType, index: u32, out: &mut [u8; MAX_WORD_LEN]) -> usize {
    let word: &[u8] = match list {
        WordListType::FullWords => full_words()
            .get(index as usize)
            .map_or(&[], |w| w.as_bytes()),
        WordListType::ThreeLetters => return three_letters(index, out),
        WordListType::Syllables => return syllable(index, out),
    };
    out[..word.len()].copy_from_slice(word);
    word.len()
}

fn three_letters(index: u32, out: &mut [u8; MAX_WORD_LEN]) -> usize {
    // `index % 26` is below 26, so the narrowing is exact.
    let letter = |i: u32| b'a' + (i % 26) as u8;
    out[0] = letter(index / (26 * 26));
    out[1] = letter(index / 26);
    out[2] = letter(index);
    3
}

fn syllable(index: u32, out: &mut [u8; MAX_WORD_LEN]) -> usize {
    let consonant = |i: u32| CONSONANTS[(i % 18) as usize];
    let vowel = |i: u32| VOWELS[(i % 5) as usize];
    if index < CV_COUNT {
        out[0] = consonant(index / 5);
        out[1] = vowel(index);
        2
    } else {
        let i = index - CV_COUNT;
        out[0] = consonant(i / (5 * 18));
        out[1] = vowel(i / 18);
        out[2] = consonant(i);
        3
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn all(list: WordListType) -> Vec<String> {
        let mut buf = [0u8; MAX_WORD_LEN];
        (0..count(list))
            .map(|i| {
                let n = entry(list, i, &mut buf);
                String::from_utf8(buf[..n].to_vec()).unwrap()
            })
            .collect()
    }

    #[test]
    fn lists_have_the_documented_sizes_and_no_duplicates() {
        for (list, expected) in [
            (WordListType::FullWords, 7772),
            (WordListType::ThreeLetters, 17_576),
            (WordListType::Syllables, 1710),
        ] {
            let words = all(list);
            assert_eq!(words.len(), expected, "{list:?}");
            let distinct: HashSet<&String> = words.iter().collect();
            assert_eq!(distinct.len(), expected, "{list:?} has duplicates");
            assert!(
                words
                    .iter()
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{list:?}"
            );
        }
    }

    #[test]
    fn eff_file_is_the_full_list_and_only_hyphenated_words_are_skipped() {
        assert_eq!(EFF_LARGE.lines().count(), 7776);
        let skipped: Vec<&str> = EFF_LARGE
            .lines()
            .filter(|w| !full_words().contains(w))
            .collect();
        assert_eq!(skipped, ["drop-down", "felt-tip", "t-shirt", "yo-yo"]);
        assert!(all(WordListType::ThreeLetters).iter().all(|w| w.len() == 3));
    }

    #[test]
    fn syllables_are_pronounceable_shapes() {
        let syllables = all(WordListType::Syllables);
        assert_eq!(syllables[0], "ba");
        assert_eq!(syllables[89], "zu");
        assert_eq!(syllables[90], "bab");
        assert_eq!(syllables[1709], "zuz");
        for s in &syllables {
            let b = s.as_bytes();
            assert!(CONSONANTS.contains(&b[0]) && VOWELS.contains(&b[1]), "{s}");
            assert!(b.len() == 2 || CONSONANTS.contains(&b[2]), "{s}");
        }
    }
}
