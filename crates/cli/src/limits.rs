//! The one place command-line numbers and durations are parsed: every count, size and
//! duration flag goes through [`number`] or [`duration`] with its limits, so no input can
//! hand a command a value that overflows later (a panic, exit 101), and an out-of-range
//! value is a usage error (exit 2) that names the limit.
//!
//! `main`'s tests walk every argument of every command and fail on a numeric or duration
//! argument whose type's maximum is accepted: a new flag cannot skip its limits.

use std::fmt::Display;

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

/// Parses `90d`, `12h`, `30m` or `45s` (a whole number and one unit).
pub(crate) fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let not_one = || format!("{text:?} is not a duration such as 90d, 12h, 30m or 45s");
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(not_one)?;
    let (digits, unit) = text.split_at(split);
    let seconds_per_unit: i64 = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(not_one()),
    };
    if digits.is_empty() {
        return Err(not_one());
    }
    // Every digit string of a valid shape is a duration, if a huge one: saturate, and let
    // the caller's range say it is too long.
    let n: i64 = digits.parse().unwrap_or(i64::MAX);
    Ok(time::Duration::seconds(n.saturating_mul(seconds_per_unit)))
}

/// A parser of durations (see [`parse_duration`]) from `min` to `max`.
pub(crate) fn duration(
    min: time::Duration,
    max: time::Duration,
) -> impl Fn(&str) -> Result<time::Duration, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let d = parse_duration(text)?;
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

/// `d` in the largest unit that divides it: `3650d`, `12h`, `45s`.
pub(crate) fn duration_text(d: time::Duration) -> String {
    let s = d.whole_seconds();
    match s {
        _ if s % 86_400 == 0 && s != 0 => format!("{}d", s / 86_400),
        _ if s % 3_600 == 0 && s != 0 => format!("{}h", s / 3_600),
        _ if s % 60 == 0 && s != 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
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
        assert_eq!(parse_duration("90d"), Ok(time::Duration::days(90)));
        assert_eq!(parse_duration("30m"), Ok(time::Duration::minutes(30)));
        assert_eq!(parse_duration("45s"), Ok(time::Duration::seconds(45)));
        for bad in ["3w", "d", "", "-1d", "1.5h", "5é", "1dd", "h1"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let limit = duration(time::Duration::seconds(1), time::Duration::days(3650));
        assert_eq!(limit("3650d"), Ok(time::Duration::days(3650)));
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
