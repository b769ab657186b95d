//! Argument parsers more than one command uses: file modes, comma lists, permissions,
//! password recipes and share durations. (Numbers and durations with limits are in
//! [`crate::limits`].)

use sesame_core::model::{permissions, ItemShareDuration};
use sesame_core::password::{
    PasswordRecipe, PasswordRecipeMemorableInner, PasswordRecipePinInner,
    PasswordRecipeRandomInner, SeparatorType, WordListType,
};

/// Parses an octal file mode such as `0600` or `640`.
pub(crate) fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| {
            format!("{text:?} is not a file mode: give an octal mode from 0 to 7777, such as 0600")
        })
}

/// Splits `a, b,,c` into `["a", "b", "c"]`.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses `read,write,share` or permission names (`READ_ITEMS,…`) into permission bits.
///
/// `read` is READ_ITEMS and REVEAL_ITEM_PASSWORD; `write` is CREATE_ITEMS, UPDATE_ITEMS,
/// ARCHIVE_ITEMS and DELETE_ITEMS; `share` is SEND_ITEMS; `manage` is MANAGE_VAULT.
pub(crate) fn parse_permissions(text: &str) -> Result<u32, String> {
    let mut bits = 0;
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        bits |= match word.to_ascii_lowercase().as_str() {
            "read" => permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD,
            "write" => {
                permissions::CREATE_ITEMS
                    | permissions::UPDATE_ITEMS
                    | permissions::ARCHIVE_ITEMS
                    | permissions::DELETE_ITEMS
            }
            "share" => permissions::SEND_ITEMS,
            "manage" => permissions::MANAGE_VAULT,
            _ => permissions::by_name(word).ok_or_else(|| {
                format!(
                    "{word:?} is not a permission: use read, write, share, manage or names such \
                     as READ_ITEMS"
                )
            })?,
        };
    }
    if bits == 0 {
        return Err(format!(
            "{text:?} grants nothing; give e.g. read or read,write"
        ));
    }
    permissions::check_grantable(bits).map_err(|e| format!("{text:?}: {e}"))?;
    Ok(bits)
}

/// Parses a compact password recipe, as `item create --generate-password=RECIPE` and
/// `password generate RECIPE` take it: comma-separated words `pin`, `memorable` or
/// `random` (the default), `letters`, `digits`, `symbols` (random: which sets; letters
/// are always in), `capitalize` (memorable) and a number (the length, or the word count
/// of memorable). Empty: random, 32 characters, all sets.
pub(crate) fn parse_recipe(spec: &str) -> Result<PasswordRecipe, String> {
    #[derive(Clone, Copy)]
    enum Kind {
        Pin,
        Random,
        Memorable,
    }
    let mut kind = Kind::Random;
    let (mut digits, mut symbols, mut sets, mut capitalize) = (false, false, false, false);
    let mut number = None;
    for word in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word.to_ascii_lowercase().as_str() {
            "pin" => kind = Kind::Pin,
            "memorable" | "words" => kind = Kind::Memorable,
            "random" => kind = Kind::Random,
            "letters" => sets = true,
            "digits" => (digits, sets) = (true, true),
            "symbols" => (symbols, sets) = (true, true),
            "capitalize" => capitalize = true,
            other if other.bytes().all(|b| b.is_ascii_digit()) => {
                // The widest range of any recipe; generating checks the recipe's own.
                number = Some(
                    crate::limits::number::<u32>(3, 100)(other)
                        .map_err(|e| format!("{other} in recipe {spec:?} is out of range: {e}"))?,
                );
            }
            other => {
                return Err(format!(
                    "{other:?} in recipe {spec:?} is not one of pin, memorable, random, \
                     letters, digits, symbols, capitalize or a number"
                ))
            }
        }
    }
    Ok(match kind {
        Kind::Pin => PasswordRecipe::Pin(PasswordRecipePinInner {
            length: number.unwrap_or(6),
        }),
        Kind::Random => PasswordRecipe::Random(PasswordRecipeRandomInner {
            include_digits: digits || !sets,
            include_symbols: symbols || !sets,
            length: number.unwrap_or(32),
        }),
        Kind::Memorable => PasswordRecipe::Memorable(PasswordRecipeMemorableInner {
            separator_type: SeparatorType::Hyphens,
            capitalize,
            word_list_type: WordListType::FullWords,
            word_count: number.unwrap_or(4),
        }),
    })
}

/// How long a share link works, as `--expires-in` and `--max-expiry` spell it.
pub(crate) const SHARE_DURATIONS: [(&str, ItemShareDuration); 5] = [
    ("1h", ItemShareDuration::OneHour),
    ("1d", ItemShareDuration::OneDay),
    ("7d", ItemShareDuration::SevenDays),
    ("14d", ItemShareDuration::FourteenDays),
    ("30d", ItemShareDuration::ThirtyDays),
];

/// A share duration: one of [`SHARE_DURATIONS`] in any spelling the one duration parser
/// ([`sesame_core::encoding::parse_duration`]) reads (`24h` is `1d`), or its API name
/// (`OneHour`).
pub(crate) fn parse_share_duration(text: &str) -> Result<ItemShareDuration, String> {
    let length = sesame_core::encoding::parse_duration(text).ok();
    SHARE_DURATIONS
        .iter()
        .find(|(short, long)| {
            length.is_some_and(|d| sesame_core::encoding::parse_duration(short).ok() == Some(d))
                || text.eq_ignore_ascii_case(&format!("{long:?}"))
        })
        .map(|(_, duration)| *duration)
        .ok_or_else(|| {
            format!(
                "{text:?} is not a share duration; use one of {}",
                SHARE_DURATIONS.map(|(short, _)| short).join(", ")
            )
        })
}

/// A share duration as `--expires-in` spells it (`7d`).
pub(crate) fn share_duration_text(duration: ItemShareDuration) -> &'static str {
    SHARE_DURATIONS
        .iter()
        .find(|(_, d)| *d == duration)
        .map_or("?", |(short, _)| short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_lists() {
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("0o640"), Ok(0o640));
        assert!(parse_mode("0800").is_err());
        assert!(parse_mode("17777").is_err());
        assert_eq!(split_list(" a, b,,c "), ["a", "b", "c"]);
    }

    #[test]
    fn permissions_by_word_or_name() {
        let read = permissions::READ_ITEMS | permissions::REVEAL_ITEM_PASSWORD;
        assert_eq!(parse_permissions("read"), Ok(read));
        assert_eq!(
            parse_permissions("read, READ_ITEMS ,manage"),
            Ok(read | permissions::MANAGE_VAULT)
        );
        assert!(parse_permissions("write").unwrap() & permissions::DELETE_ITEMS != 0);
        assert!(parse_permissions("fly").unwrap_err().contains("fly"));
        assert!(parse_permissions("").is_err());
    }

    #[test]
    fn compact_recipes() {
        assert_eq!(
            parse_recipe("").unwrap(),
            PasswordRecipe::Random(PasswordRecipeRandomInner {
                include_digits: true,
                include_symbols: true,
                length: 32
            })
        );
        assert_eq!(
            parse_recipe("letters,digits,20").unwrap(),
            PasswordRecipe::Random(PasswordRecipeRandomInner {
                include_digits: true,
                include_symbols: false,
                length: 20
            })
        );
        assert_eq!(
            parse_recipe("pin,8").unwrap(),
            PasswordRecipe::Pin(PasswordRecipePinInner { length: 8 })
        );
        assert!(matches!(
            parse_recipe("memorable,5,capitalize").unwrap(),
            PasswordRecipe::Memorable(m) if m.word_count == 5 && m.capitalize
        ));
        assert!(parse_recipe("pin,long").unwrap_err().contains("\"long\""));
    }

    #[test]
    fn share_durations_parse_in_both_spellings() {
        assert_eq!(
            parse_share_duration("7d").unwrap(),
            ItemShareDuration::SevenDays
        );
        assert_eq!(
            parse_share_duration("24h").unwrap(),
            ItemShareDuration::OneDay
        );
        assert_eq!(
            parse_share_duration("onehour").unwrap(),
            ItemShareDuration::OneHour
        );
        let err = parse_share_duration("2d").unwrap_err();
        assert!(err.contains("1h, 1d, 7d, 14d, 30d"), "{err}");
        for (short, duration) in SHARE_DURATIONS {
            assert_eq!(share_duration_text(duration), short);
        }
    }
}
