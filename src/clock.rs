//! The wall clock, read only at the edges (stamps in the state file and in snapshots).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The current time.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Milliseconds since the Unix epoch, as ClickUp writes its timestamps.
pub(crate) fn now_ms() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The current time in RFC 3339, to the second.
pub(crate) fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}

/// A time in milliseconds since the Unix epoch, in RFC 3339, to the second.
pub(crate) fn rfc3339(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// `at` moved by `days` (back when negative), held at the first or last moment of the
/// calendar rather than past it: a policy of four billion days means "always", not a panic.
pub(crate) fn add_days(at: OffsetDateTime, days: i64) -> OffsetDateTime {
    days.checked_mul(86_400)
        .and_then(|seconds| at.checked_add(time::Duration::seconds(seconds)))
        .unwrap_or(if days < 0 {
            time::PrimitiveDateTime::MIN.assume_utc()
        } else {
            time::PrimitiveDateTime::MAX.assume_utc()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_beyond_the_calendar_stop_at_its_ends() {
        let now = time::macros::datetime!(2026-12-01 0:00 UTC);
        assert_eq!(
            add_days(now, 14),
            time::macros::datetime!(2026-12-15 0:00 UTC)
        );
        assert_eq!(add_days(now, i64::from(u32::MAX)).year(), 9999);
        assert_eq!(add_days(now, -i64::from(u32::MAX)).year(), -9999);
        assert_eq!(add_days(now, i64::MIN).year(), -9999);
    }
}
