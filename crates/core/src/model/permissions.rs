//! Vault permissions: bit flags with the values of the 1Password SDK constants.
//!
//! A principal's access to a vault is the bitwise OR of these flags.
//!
//! ```
//! use sesame_core::model::permissions::{self, READ_ITEMS, UPDATE_ITEMS};
//! let granted = READ_ITEMS | UPDATE_ITEMS;
//! assert!(permissions::has(granted, READ_ITEMS));
//! assert!(!permissions::has(granted, permissions::DELETE_ITEMS));
//! assert_eq!(permissions::names(granted), ["READ_ITEMS", "UPDATE_ITEMS"]);
//! ```

/// No access at all.
pub const NO_ACCESS: u32 = 0;
/// Recover the vault's key material.
pub const RECOVER_VAULT: u32 = 1;
/// Manage the vault: rename it, delete it, grant and revoke access.
pub const MANAGE_VAULT: u32 = 2;
/// Reveal concealed values (passwords) of items.
pub const REVEAL_ITEM_PASSWORD: u32 = 16;
/// Read items.
pub const READ_ITEMS: u32 = 32;
/// Update existing items.
pub const UPDATE_ITEMS: u32 = 64;
/// Create items.
pub const CREATE_ITEMS: u32 = 128;
/// Archive and restore items.
pub const ARCHIVE_ITEMS: u32 = 256;
/// Delete items.
pub const DELETE_ITEMS: u32 = 512;
/// Read and restore item history.
pub const UPDATE_ITEM_HISTORY: u32 = 1024;
/// Share items by link.
pub const SEND_ITEMS: u32 = 1_048_576;
/// Import items.
pub const IMPORT_ITEMS: u32 = 2_097_152;
/// Export items.
pub const EXPORT_ITEMS: u32 = 4_194_304;
/// Print items.
pub const PRINT_ITEMS: u32 = 8_388_608;

/// Every named permission with its value, in ascending order of value
/// (`NO_ACCESS` excluded: it is the absence of all of them).
pub const ALL: [(&str, u32); 13] = [
    ("RECOVER_VAULT", RECOVER_VAULT),
    ("MANAGE_VAULT", MANAGE_VAULT),
    ("REVEAL_ITEM_PASSWORD", REVEAL_ITEM_PASSWORD),
    ("READ_ITEMS", READ_ITEMS),
    ("UPDATE_ITEMS", UPDATE_ITEMS),
    ("CREATE_ITEMS", CREATE_ITEMS),
    ("ARCHIVE_ITEMS", ARCHIVE_ITEMS),
    ("DELETE_ITEMS", DELETE_ITEMS),
    ("UPDATE_ITEM_HISTORY", UPDATE_ITEM_HISTORY),
    ("SEND_ITEMS", SEND_ITEMS),
    ("IMPORT_ITEMS", IMPORT_ITEMS),
    ("EXPORT_ITEMS", EXPORT_ITEMS),
    ("PRINT_ITEMS", PRINT_ITEMS),
];

/// Whether `granted` includes every bit of `required`.
pub const fn has(granted: u32, required: u32) -> bool {
    granted & required == required
}

/// The names of the permissions set in `granted`, in ascending order of value.
/// Bits without a name are ignored.
pub fn names(granted: u32) -> Vec<&'static str> {
    ALL.iter()
        .filter(|(_, bit)| has(granted, *bit))
        .map(|(name, _)| *name)
        .collect()
}

/// Checks that a grant of `granted` means what it says, or says why not.
///
/// Sesame seals an item's concealed values (passwords) with the rest of its details, so a
/// principal that may read items can read them: it cannot withhold them. A grant with
/// `READ_ITEMS` must therefore include `REVEAL_ITEM_PASSWORD`, and `REVEAL_ITEM_PASSWORD`
/// needs `READ_ITEMS` (there is nothing to reveal without reading). The client checks
/// this before any request and the server checks it again. `NO_ACCESS` is not checked
/// here (a grant of nothing is refused where grants are made).
///
/// ```
/// use sesame_core::model::permissions::{self, READ_ITEMS, REVEAL_ITEM_PASSWORD, CREATE_ITEMS};
/// assert!(permissions::check_grantable(READ_ITEMS | REVEAL_ITEM_PASSWORD).is_ok());
/// assert!(permissions::check_grantable(CREATE_ITEMS).is_ok());
/// let refused = permissions::check_grantable(READ_ITEMS).unwrap_err();
/// assert!(refused.contains("REVEAL_ITEM_PASSWORD must be included with READ_ITEMS"));
/// assert!(permissions::check_grantable(REVEAL_ITEM_PASSWORD).is_err());
/// ```
///
/// # Errors
///
/// The message to show when the combination cannot be honoured.
pub fn check_grantable(granted: u32) -> Result<(), String> {
    let reads = has(granted, READ_ITEMS);
    let reveals = has(granted, REVEAL_ITEM_PASSWORD);
    if reads && !reveals {
        return Err(format!(
            "permissions {granted} grant READ_ITEMS without REVEAL_ITEM_PASSWORD: Sesame does \
             not support withholding concealed values (passwords) from a principal that can \
             read items, so REVEAL_ITEM_PASSWORD must be included with READ_ITEMS (e.g. {})",
            granted | REVEAL_ITEM_PASSWORD
        ));
    }
    if reveals && !reads {
        return Err(format!(
            "permissions {granted} grant REVEAL_ITEM_PASSWORD without READ_ITEMS: there is no \
             concealed value to reveal without reading items; add READ_ITEMS (e.g. {}) or \
             leave REVEAL_ITEM_PASSWORD out",
            granted | READ_ITEMS
        ));
    }
    Ok(())
}

/// The value of a permission by its name (`READ_ITEMS`), case-insensitively.
///
/// ```
/// use sesame_core::model::permissions;
/// assert_eq!(permissions::by_name("read_items"), Some(permissions::READ_ITEMS));
/// assert_eq!(permissions::by_name("READ"), None);
/// ```
pub fn by_name(name: &str) -> Option<u32> {
    if name.eq_ignore_ascii_case("NO_ACCESS") {
        return Some(NO_ACCESS);
    }
    ALL.iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, bit)| *bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_the_1password_sdk() {
        let expected = [
            1, 2, 16, 32, 64, 128, 256, 512, 1024, 1_048_576, 2_097_152, 4_194_304, 8_388_608,
        ];
        assert_eq!(ALL.map(|(_, v)| v), expected);
        assert_eq!(NO_ACCESS, 0);
    }

    #[test]
    fn flags_are_distinct_single_bits() {
        let mut union = 0;
        for (name, bit) in ALL {
            assert_eq!(bit.count_ones(), 1, "{name}");
            assert_eq!(union & bit, 0, "{name} overlaps");
            union |= bit;
        }
        assert_eq!(names(union).len(), ALL.len());
        assert!(names(NO_ACCESS).is_empty());
    }

    #[test]
    fn has_requires_every_bit() {
        assert!(has(READ_ITEMS | CREATE_ITEMS, READ_ITEMS | CREATE_ITEMS));
        assert!(!has(READ_ITEMS, READ_ITEMS | CREATE_ITEMS));
        assert!(has(READ_ITEMS, NO_ACCESS));
    }

    #[test]
    fn names_round_trip() {
        for (name, bit) in ALL {
            assert_eq!(by_name(name), Some(bit));
            assert_eq!(by_name(&name.to_lowercase()), Some(bit));
        }
        assert_eq!(by_name("no_access"), Some(NO_ACCESS));
        assert_eq!(by_name("WRITE_ITEMS"), None);
    }
}
