//! Injected time. Services read the time only through a [`Clock`], so tests move it forward
//! (expiring sessions, offers, chats) without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + 'static {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;

    /// Unix time in seconds.
    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// A clock that moves only when told to.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(now_ms: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now_ms)))
    }

    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    pub fn set_ms(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The UTC calendar date and time of a Unix time in seconds: `(year, month, day, hour, minute,
/// second)` (Howard Hinnant's days-to-civil algorithm, proleptic Gregorian).
pub fn utc(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = rem as u32;
    (year, month, day, rem / 3600, rem / 60 % 60, rem % 60)
}

/// The date `YYYY-MM-DD` of a Unix time in milliseconds (UTC).
pub fn date_of(now_ms: i64) -> String {
    let (y, m, d, ..) = utc(now_ms.div_euclid(1000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Checks that `value` of input `field` is a calendar date `YYYY-MM-DD` (shape and plausible
/// ranges).
pub fn check_date(field: &str, value: &str) -> Result<String, crate::error::ApiError> {
    let ok = carnet_core::availability::is_date(value);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(crate::error::ApiError::invalid_field(
            field,
            "a date YYYY-MM-DD",
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(super::utc(1_369_353_600), (2013, 5, 24, 0, 0, 0));
        assert_eq!(super::utc(951_825_599), (2000, 2, 29, 11, 59, 59));
        assert_eq!(super::utc(-1), (1969, 12, 31, 23, 59, 59));
        assert_eq!(super::utc(1_795_608_000), (2026, 11, 25, 12, 0, 0));
        assert_eq!(super::date_of(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn dates_are_checked() {
        assert!(super::check_date("d", "2026-09-01").is_ok());
        for bad in [
            "2026-13-01",
            "2026-9-1",
            "01/09/2026",
            "2026-09-01T00:00",
            "",
        ] {
            assert!(super::check_date("d", bad).is_err(), "{bad}");
        }
    }
}
