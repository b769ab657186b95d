//! The one place command-line numbers and durations are parsed: every count, size and
//! duration flag goes through [`number`] or [`duration`] with its limits, so no input can
//! hand a command a value that overflows later (a panic, exit 101), and an out-of-range
//! value is a usage error (exit 2) that names the limit.
//!
//! `main`'s tests walk every argument of every command and fail on a numeric or duration
//! argument whose type's maximum is accepted: a new flag cannot skip its limits.

use std::fmt::Display;

use sesame_core::encoding::{duration_text, parse_duration};

/// The largest number the server stores (SQLite integers are signed 64-bit).
pub(crate) const STORED_MAX: u64 = i64::MAX.unsigned_abs();

/// A parser of whole numbers from `min` to `max` for a clap `value_parser`.
pub(crate) fn number<T>(
    min: T,
    max: T,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64> + Into<u64> + Copy + Display + Send + Sync + 'static,
{
    move |text: &str| {
        let out_of_range = || format!("give a whole number from {min} to {max}");
        let digits = text.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text:?} is not a number: {}", out_of_range()));
        }
        // Too many digits for u64 is out of range too, not a different kind of mistake.
        let n = digits.parse::<u64>().map_err(|_| out_of_range())?;
        if n < min.into() || n > max.into() {
            return Err(out_of_range());
        }
        T::try_from(n).map_err(|_| out_of_range())
    }
}

/// A parser of durations (`90d`, `12h`, `30m`, `45s`: the one syntax of
/// [`parse_duration`]) from `min` to `max`.
pub(crate) fn duration(
    min: time::Duration,
    max: time::Duration,
) -> impl Fn(&str) -> Result<time::Duration, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let d = parse_duration(text).map_err(|e| e.to_string())?;
        if d < min || d > max {
            return Err(format!(
                "give a duration from {} to {}",
                duration_text(min),
                duration_text(max)
            ));
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_range_and_out() {
        let limit = number::<u32>(1, 1000);
        assert_eq!(limit("1"), Ok(1));
        assert_eq!(limit("1000"), Ok(1000));
        for bad in [
            "0",
            "1001",
            "-1",
            "",
            "1e3",
            "99999999999999999999",
            "18446744073709551616",
        ] {
            let err = limit(bad).unwrap_err();
            assert!(err.contains("from 1 to 1000"), "{bad}: {err}");
        }
        assert_eq!(
            number::<u64>(0, u64::MAX)("18446744073709551615"),
            Ok(u64::MAX)
        );
    }

    #[test]
    fn durations_in_range_and_out() {
        let limit = duration(time::Duration::seconds(1), time::Duration::days(3650));
        assert_eq!(limit("3650d"), Ok(time::Duration::days(3650)));
        assert_eq!(limit("12h"), Ok(time::Duration::hours(12)));
        for bad in ["3w", "d", "", "-1d", "1.5h", "5é", "1dd", "h1"] {
            let err = limit(bad).unwrap_err();
            assert!(
                err.contains("is not a duration such as 90d"),
                "{bad}: {err}"
            );
        }
        for bad in [
            "0s",
            "3651d",
            "99999999999999999999d",
            "9223372036854775807h",
        ] {
            let err = limit(bad).unwrap_err();
            assert!(err.contains("from 1s to 3650d"), "{bad}: {err}");
        }
    }
}
