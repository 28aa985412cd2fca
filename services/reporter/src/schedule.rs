//! The reporting schedule: a cron expression (UTC, `croner`'s POSIX syntax: five fields, or six
//! with seconds first) at which the reporter makes the system-wide summary as of yesterday in every
//! format, as `system`. Each run's command ids derive from the day and format, so a run repeated
//! for the same day (a restart, a second instance) records nothing twice.

use std::cmp::Ordering;
use std::str::FromStr;
use std::time::Duration;

use croner::errors::CronError;
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use jiff::civil::{Date, DateTime};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use tatrack_bus::rpc::RequestMeta;
use tatrack_domain::Principal;
use tatrack_domain::report::{ReportFormat, ReportScope};
use tatrack_eventlog::Store;
use uuid::Uuid;

use crate::commands::{self, Order};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    cron: Cron,
}

impl Schedule {
    /// Parses `expression`; the error names `setting` (the flag and variable it came from).
    pub fn parse(setting: &str, expression: &str) -> anyhow::Result<Schedule> {
        let cron = Cron::from_str(expression.trim()).map_err(|e| {
            anyhow::anyhow!("invalid {setting}: {expression:?} is not a cron expression: {e}")
        })?;
        Ok(Schedule {
            expression: expression.trim().to_owned(),
            cron,
        })
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first time the schedule fires strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let start = Utc(jiff::tz::TimeZone::UTC.to_datetime(after));
        self.cron
            .find_next_occurrence(&start, false)
            .ok()
            .and_then(|next| next.0.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    }
}

/// A UTC wall-clock time, the one time type croner needs here (its own jiff support is for
/// another major version of jiff than the project's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Utc(DateTime);

fn part(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(0)
}

impl CronDateTime for Utc {
    fn to_civil(&self) -> CivilDateTime {
        let d = self.0;
        CivilDateTime::new(
            CivilDate::from_parts_unchecked(i32::from(d.year()), part(d.month()), part(d.day())),
            CivilTime::from_parts_unchecked(part(d.hour()), part(d.minute()), part(d.second())),
        )
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(part(self.0.weekday().to_sunday_zero_offset()))
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        let year = i16::try_from(civil.year()).map_err(|_| CronError::InvalidDate)?;
        let small = |n: u32| i8::try_from(n).map_err(|_| CronError::InvalidDate);
        let datetime = DateTime::new(
            year,
            small(civil.month())?,
            small(civil.day())?,
            small(civil.hour())?,
            small(civil.minute())?,
            small(civil.second())?,
            0,
        )
        .map_err(|_| CronError::InvalidDate)?;
        // UTC has no gaps or folds.
        Ok(Resolution::Single(Utc(datetime)))
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(SignedDuration::from_secs(seconds))
            .ok()
            .map(Utc)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// A stable id for the scheduled report of `as_of` in `format`.
pub fn scheduled_id(as_of: Date, format: ReportFormat, purpose: &str) -> Uuid {
    let digest = Sha256::digest(format!(
        "tatrack scheduled report {purpose} {as_of} {format}"
    ));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Makes the system-wide summary as of the day before `today` in every format.
pub async fn run_once(
    store: &Store,
    nats: &async_nats::Client,
    today: Date,
) -> Result<usize, String> {
    let as_of = today.yesterday().map_err(|e| e.to_string())?;
    let mut made = 0;
    for format in ReportFormat::ALL.iter().copied() {
        let order = Order {
            id: scheduled_id(as_of, format, "report"),
            scope: ReportScope::default(),
            format,
            as_of,
            known_at: None,
            on: today,
        };
        let meta = RequestMeta {
            command_id: Some(scheduled_id(as_of, format, "command")),
            ..RequestMeta::new(Principal::system())
        };
        // A command id seen before: that day's report of this format is already recorded.
        if store
            .command_result(scheduled_id(as_of, format, "command"))
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            continue;
        }
        let report = commands::make(store, nats, &order, &meta, today)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(%format, %as_of, checksum = %report.checksum, size = report.size, "scheduled report made");
        made += 1;
    }
    Ok(made)
}

/// Runs `schedule` until `stop` is cancelled.
pub(crate) async fn run(
    schedule: Schedule,
    store: Store,
    nats: async_nats::Client,
    stop: tokio_util::sync::CancellationToken,
) {
    tracing::info!(schedule = schedule.expression(), "report schedule set");
    loop {
        let now = store.clock().now();
        let Some(next) = schedule.next_after(now) else {
            tracing::warn!(
                schedule = schedule.expression(),
                "the report schedule never fires again"
            );
            return;
        };
        let wait = Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let today = jiff::tz::TimeZone::UTC.to_datetime(next).date();
        // The read model may be restarting: try again a while rather than skip the day (a
        // report already recorded is not made twice).
        for attempt in 1..=RETRIES {
            match run_once(&store, &nats, today).await {
                Ok(made) => {
                    tracing::info!(made, "scheduled reports done");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "scheduled reports not made");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
            }
        }
    }
}

/// Attempts of one scheduled run, and the pause between them.
const RETRIES: u32 = 10;
const RETRY_AFTER: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_and_six_field_expressions_fire_in_utc() {
        let s = Schedule::parse("--report-schedule", "0 6 * * *").unwrap();
        let at: Timestamp = "2026-11-28T07:00:00Z".parse().unwrap();
        assert_eq!(
            s.next_after(at).unwrap().to_string(),
            "2026-11-29T06:00:00Z"
        );
        let before: Timestamp = "2026-11-28T05:59:59Z".parse().unwrap();
        assert_eq!(
            s.next_after(before).unwrap().to_string(),
            "2026-11-28T06:00:00Z"
        );
        let weekly = Schedule::parse("--report-schedule", "30 0 6 * * MON").unwrap();
        assert_eq!(
            weekly.next_after(at).unwrap().to_string(),
            "2026-11-30T06:00:30Z"
        );
    }

    #[test]
    fn a_bad_expression_names_the_setting() {
        for bad in ["every morning", "61 * * * *", "* * *", ""] {
            let e = Schedule::parse("--report-schedule / TATRACK_REPORT_SCHEDULE", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("--report-schedule"), "{e}");
        }
    }

    #[test]
    fn scheduled_ids_are_stable_per_day_and_format() {
        let day = jiff::civil::date(2026, 11, 27);
        assert_eq!(
            scheduled_id(day, ReportFormat::Csv, "report"),
            scheduled_id(day, ReportFormat::Csv, "report")
        );
        assert_ne!(
            scheduled_id(day, ReportFormat::Csv, "report"),
            scheduled_id(day, ReportFormat::Json, "report")
        );
        assert_ne!(
            scheduled_id(day, ReportFormat::Csv, "report"),
            scheduled_id(day, ReportFormat::Csv, "command")
        );
    }
}
