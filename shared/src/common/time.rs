//! Time: the one clock read (at a function's edge) and time as the contracts we speak write it.

/// Now, in seconds since the Unix epoch: read only at a function's edge (its `main`, or the
/// router's `Now` extractor), then passed in as `now` to everything below.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Now (seconds since the Unix epoch, as [`unix_now`]) and an invocation's deadline as an
/// `Instant`, read once at a function's edge. `deadline_ms` is Lambda's (milliseconds since the
/// Unix epoch); `margin` is kept back from it. A deadline already past is now.
pub fn invocation_clock(deadline_ms: u64, margin: std::time::Duration) -> (u64, std::time::Instant) {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let left = std::time::Duration::from_millis(deadline_ms).saturating_sub(since_epoch).saturating_sub(margin);
    (since_epoch.as_secs(), std::time::Instant::now() + left)
}

/// RFC 3339 UTC for a Unix time in seconds.
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocations_deadline_less_its_margin() {
        let (now, deadline) = invocation_clock((unix_now() + 10) * 1000, std::time::Duration::from_secs(2));
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(now <= unix_now() && left > std::time::Duration::from_secs(6) && left <= std::time::Duration::from_secs(8), "{left:?}");
        let (_, past) = invocation_clock(1, std::time::Duration::ZERO);
        assert!(past <= std::time::Instant::now());
    }

    #[test]
    fn rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
