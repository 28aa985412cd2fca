//! What one caller, and all callers together, may ask of the gateway: requests per token (a
//! token bucket per principal, `governor`), reports per token per hour (each report folds the
//! read model and appends an event), and requests in flight at once (a semaphore; a request
//! waiting on `min_position` holds its place). Over a limit: 429 (or 503 when the gateway is
//! full) with `Retry-After`, before anything is sent to a service.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::http::StatusCode;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::Problem;

/// The limits, from `TATRACK_RATE_LIMIT`, `TATRACK_REPORTS_PER_HOUR` and `TATRACK_MAX_IN_FLIGHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second one token may send, sustained; twice as many in a burst.
    pub requests_per_second: u32,
    /// Reports one token may make per hour (a tenth of them at once).
    pub reports_per_hour: u32,
    /// Requests the gateway serves at once, over every caller.
    pub in_flight: u32,
}

impl Default for Limits {
    /// Enough for a person and for a script importing a file (the CLI waits `Retry-After`),
    /// not for one token to starve the others.
    fn default() -> Self {
        Self {
            requests_per_second: 100,
            reports_per_hour: 60,
            in_flight: 256,
        }
    }
}

impl Limits {
    /// The defaults, each replaced by its environment variable when set.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let read = |name: &str, default: u32| match lookup(name) {
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("{name}={text:?}: expected a whole number above 0")),
            None => Ok(default),
        };
        let default = Self::default();
        Ok(Self {
            requests_per_second: read("TATRACK_RATE_LIMIT", default.requests_per_second)?,
            reports_per_hour: read("TATRACK_REPORTS_PER_HOUR", default.reports_per_hour)?,
            in_flight: read("TATRACK_MAX_IN_FLIGHT", default.in_flight)?,
        })
    }
}

#[derive(Clone)]
pub(crate) struct Limiter {
    requests: Arc<DefaultKeyedRateLimiter<String>>,
    reports: Arc<DefaultKeyedRateLimiter<String>>,
    in_flight: Arc<Semaphore>,
    clock: DefaultClock,
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        let requests = Quota::per_second(at_least_one(limits.requests_per_second))
            .allow_burst(at_least_one(limits.requests_per_second.saturating_mul(2)));
        let reports =
            Quota::with_period(Duration::from_secs(3600) / limits.reports_per_hour.max(1))
                .unwrap_or_else(|| Quota::per_hour(NonZeroU32::MIN))
                .allow_burst(at_least_one(limits.reports_per_hour / 10));
        Self {
            requests: Arc::new(RateLimiter::hashmap(requests)),
            reports: Arc::new(RateLimiter::hashmap(reports)),
            in_flight: Arc::new(Semaphore::new(limits.in_flight as usize)),
            clock: DefaultClock::default(),
        }
    }

    /// A place among the requests in flight, held until the answer is written.
    pub(crate) fn admit(&self) -> Result<OwnedSemaphorePermit, Problem> {
        self.in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the gateway is serving as many requests as it may: try again shortly",
                )
            })
    }

    /// One more request from `principal` (and one more report, when it is one).
    pub(crate) fn check(&self, principal: &str, report: bool) -> Result<(), Problem> {
        let key = principal.to_owned();
        self.requests.check_key(&key).map_err(|not_until| {
            self.too_many(not_until.wait_time_from(self.clock.now()), "requests")
        })?;
        if report {
            self.reports.check_key(&key).map_err(|not_until| {
                self.too_many(not_until.wait_time_from(self.clock.now()), "reports")
            })?;
        }
        Ok(())
    }

    fn too_many(&self, wait: Duration, what: &str) -> Problem {
        Problem {
            retry_after: Some(wait.as_secs() + 1),
            ..Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!(
                    "too many {what} from this token: try again in {} s",
                    wait.as_secs() + 1
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_over_its_rate_waits_and_others_do_not() {
        let limiter = Limiter::new(Limits {
            requests_per_second: 2,
            reports_per_hour: 10,
            in_flight: 1,
        });
        // A burst of twice the rate, then 429 with a wait; another token is not held back.
        for _ in 0..4 {
            limiter.check("token:a", false).unwrap();
        }
        let refused = limiter.check("token:a", false).unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some_and(|s| s >= 1));
        limiter.check("token:b", false).unwrap();
        // One report at once out of ten an hour, then a wait of about six minutes.
        limiter.check("token:c", true).unwrap();
        let refused = limiter.check("token:c", true).unwrap_err();
        assert!(refused.detail.contains("reports"), "{}", refused.detail);
        assert!(refused.retry_after.is_some_and(|s| s > 300), "{refused:?}");
        // One place in flight: the second request is refused until the first is answered.
        let first = limiter.admit().unwrap();
        assert_eq!(
            limiter.admit().unwrap_err().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        drop(first);
        let _second = limiter.admit().unwrap();
    }

    #[test]
    fn a_setting_that_is_not_a_positive_number_is_refused_by_name() {
        let e =
            Limits::from_lookup(|name| (name == "TATRACK_MAX_IN_FLIGHT").then(|| "lots".into()))
                .unwrap_err()
                .to_string();
        assert!(e.contains("TATRACK_MAX_IN_FLIGHT"), "{e}");
        let set = Limits::from_lookup(|name| (name == "TATRACK_RATE_LIMIT").then(|| "7".into()));
        assert_eq!(set.unwrap().requests_per_second, 7);
    }
}
