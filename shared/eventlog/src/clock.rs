//! `Clock`: the one source of "now" and "today" (UTC). The binary builds it once at start-up and
//! hands it to everything that needs the time (the log's `recorded_at`, the services' default
//! business date, expiry passes, overdue clocks, matching); nothing else reads the wall clock, so
//! tests and demos can run the whole system on a date of their choosing.

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use jiff::civil::Date;

/// Where the time comes from. Cheap to clone.
#[derive(Clone)]
pub struct Clock {
    source: Arc<Source>,
}

enum Source {
    /// The operating system's clock.
    System,
    /// Starts at a given instant and runs at real speed from there (like `faketime`): recorded
    /// times still rise, so "known at" questions keep their meaning on a shifted clock.
    Shifted { start: Timestamp, since: Instant },
    /// Never moves (unit tests of code that only needs "today").
    Fixed(Timestamp),
}

impl Clock {
    /// The operating system's clock. Only the binary's start-up should call this.
    pub fn system() -> Self {
        Self {
            source: Arc::new(Source::System),
        }
    }

    /// A clock that reads `start` now and runs on from there at real speed.
    pub fn starting_at(start: Timestamp) -> Self {
        Self {
            source: Arc::new(Source::Shifted {
                start,
                since: Instant::now(),
            }),
        }
    }

    /// A clock stopped at `at`.
    pub fn fixed(at: Timestamp) -> Self {
        Self {
            source: Arc::new(Source::Fixed(at)),
        }
    }

    /// A clock stopped at noon (UTC) of `day`.
    pub fn fixed_on(day: Date) -> Self {
        let at = day
            .at(12, 0, 0, 0)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp());
        Self::fixed(at)
    }

    /// The instant now.
    pub fn now(&self) -> Timestamp {
        match &*self.source {
            Source::System => Timestamp::now(),
            Source::Shifted { start, since } => {
                let elapsed = jiff::SignedDuration::try_from(since.elapsed())
                    .unwrap_or(jiff::SignedDuration::MAX);
                start.checked_add(elapsed).unwrap_or(*start)
            }
            Source::Fixed(at) => *at,
        }
    }

    /// Today's date in UTC: the default business date of a fact and the day rules compare with.
    pub fn today(&self) -> Date {
        utc_date(self.now())
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.source {
            Source::System => f.write_str("Clock::system"),
            Source::Shifted { start, .. } => write!(f, "Clock::starting_at({start})"),
            Source::Fixed(at) => write!(f, "Clock::fixed({at})"),
        }
    }
}

/// The UTC date of an instant (what a recorded time counts as when a business date is missing).
pub fn utc_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_told_and_runs_on() {
        let start: Timestamp = "2031-03-14T09:00:00Z".parse().unwrap();
        let clock = Clock::starting_at(start);
        let first = clock.now();
        assert!(first >= start);
        assert!(
            first
                < start
                    .checked_add(jiff::SignedDuration::from_secs(60))
                    .unwrap()
        );
        assert_eq!(clock.today(), jiff::civil::date(2031, 3, 14));
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(clock.now() > first);
    }

    #[test]
    fn a_fixed_clock_never_moves() {
        let clock = Clock::fixed_on(jiff::civil::date(2031, 1, 2));
        assert_eq!(clock.now(), clock.now());
        assert_eq!(clock.today(), jiff::civil::date(2031, 1, 2));
    }
}
