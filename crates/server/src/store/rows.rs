//! Conversions both backends store the same way: times as whole unix milliseconds, item
//! states as text.

use sesame_core::model::ItemState;
use time::OffsetDateTime;

/// Now, in whole unix milliseconds.
pub(super) fn now_ms() -> i64 {
    // Whole milliseconds, so every stored time round-trips exactly.
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored time (unix milliseconds); the epoch if it is out of range.
pub(super) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A time as stored (unix milliseconds).
pub(super) fn to_ms(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored item state (`active` or `archived`).
pub(super) fn state_of(text: &str) -> ItemState {
    if text == "archived" {
        ItemState::Archived
    } else {
        ItemState::Active
    }
}
