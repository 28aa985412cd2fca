//! What a query asks: its parameters (`Filters`, refused by name when unknown or naming nothing)
//! and the point in time it is about (`point_in_time`: live, or as of a business date and as
//! known at a time or positions).

use jiff::civil::Date;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use tatrack_bus::rpc::ErrorBody;
use tatrack_eventlog::Clock;
use uuid::Uuid;

use crate::asof::{self, AsOf, Point};
use crate::cache::Views;

/// Every parameter any view takes (the gateway maps its query strings and cursors onto these).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filters {
    pub(crate) min_position: Option<u64>,
    pub(crate) min_positions: Option<BTreeMap<String, u64>>,
    pub(crate) id: Option<String>,
    pub(crate) member_state: Option<String>,
    pub(crate) assessment_id: Option<Uuid>,
    pub(crate) need_id: Option<Uuid>,
    pub(crate) offer_id: Option<Uuid>,
    pub(crate) project_id: Option<Uuid>,
    pub(crate) organisation: Option<String>,
    pub(crate) theme: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) priority: Option<u8>,
    /// A DAC region code: needs of the countries in it (`codes::regions_of`).
    pub(crate) region: Option<String>,
    /// Needs by consent: `shared` (an active grant shares it with someone), `not_shared`, or an
    /// organisation's code (shared with that organisation).
    pub(crate) consent: Option<String>,
    /// Case-insensitive words that must appear in the description or beneficiary.
    pub(crate) text: Option<String>,
    /// The business date the answer is for: the state of affairs on that day, as known now
    /// (or as known at `known_at`). Clocks, late milestones and matching count from it.
    /// Dates are read as text and parsed here, so a bad one is refused by its own name.
    pub(crate) as_of: Option<String>,
    /// As the system knew it then: a time (RFC 3339), a day (its end, UTC) or log positions
    /// (`assessments:120,partners:45,projects:300,reporter:7`).
    pub(crate) known_at: Option<String>,
    /// `change_list`: the report whose figures the changes are about.
    pub(crate) report_id: Option<Uuid>,
    /// Paging of list answers (the gateway turns its cursor into these).
    pub(crate) offset: Option<usize>,
    pub(crate) limit: Option<usize>,
    /// Matching: also list the offers (or needs) left out, with their reasons (true/false).
    pub(crate) include_ineligible: Option<serde_json::Value>,
    /// Matching: the ISO 639-1 language the work should be done in.
    pub(crate) language: Option<String>,
}

/// Filter values that name nothing are refused by name, not answered with an empty list: a
/// typo in a status or a code would otherwise look like "there is none".
pub(crate) fn check_filters(verb: &str, f: &Filters) -> Result<(), ErrorBody> {
    let invalid =
        |field: &str, e: tatrack_domain::DomainError| ErrorBody::invalid(field, &e.to_string());
    if let Some(m) = &f.member_state {
        tatrack_domain::codes::check_country("member_state", m)
            .map_err(|e| invalid("member_state", e))?;
    }
    if let Some(t) = &f.theme {
        tatrack_domain::codes::check_theme("theme", t).map_err(|e| invalid("theme", e))?;
    }
    if let Some(r) = &f.region {
        tatrack_domain::codes::check_region("region", r).map_err(|e| invalid("region", e))?;
    }
    if let Some(p) = f.priority
        && !(1..=3).contains(&p)
    {
        return Err(ErrorBody::invalid(
            "priority",
            "must be 1 (high), 2 or 3 (low)",
        ));
    }
    if let Some(status) = &f.status {
        fn known<T: DeserializeOwned>(status: &str) -> bool {
            serde_json::from_value::<T>(serde_json::Value::String(status.to_owned())).is_ok()
        }
        use tatrack_domain::{
            account::AccountStatus, assessment::AssessmentStatus, need::NeedStatus,
            offer::OfferStatus, organisation::OrganisationStatus, progress::ProgressReportStatus,
            project::ActivityStatus, recommendation::RecommendationStatus,
            referral::ReferralStatus, sharing::SharingGrantStatus, token::TokenStatus,
        };
        let ok = match verb.split('_').next() {
            Some("assessment") => known::<AssessmentStatus>(status),
            Some("need" | "unmet") => known::<NeedStatus>(status),
            Some("recommendation") => known::<RecommendationStatus>(status),
            Some("offer") => known::<OfferStatus>(status),
            Some("organisation") => known::<OrganisationStatus>(status),
            Some("referral") => known::<ReferralStatus>(status),
            Some("project") => known::<ActivityStatus>(status),
            Some("progress") => known::<ProgressReportStatus>(status),
            Some("token") => known::<TokenStatus>(status),
            Some("account") => known::<AccountStatus>(status),
            Some("sharing") => known::<SharingGrantStatus>(status),
            _ => true,
        };
        if !ok {
            return Err(ErrorBody::invalid(
                "status",
                &format!("{status:?} is not a status of {verb}"),
            ));
        }
    }
    Ok(())
}

/// Which point in time a query is about, and the day its clocks count from: `None` for the
/// live views (no `known_at`, and no event is dated after `as_of`), else the point to fold.
/// A date after today, a time after now or positions not yet applied are refused by name.
pub(crate) fn point_in_time(
    live: &Views,
    as_of: &AsOf,
    clock: &Clock,
    f: &Filters,
) -> Result<(Option<Point>, Date), ErrorBody> {
    let today = clock.today();
    let day = parse_date("as_of", f.as_of.as_deref())?;
    if let Some(day) = day.filter(|d| *d > today) {
        return Err(ErrorBody::invalid(
            "as_of",
            &format!("{day} is in the future (today is {today})"),
        ));
    }
    let applied = live.applied();
    let Some(text) = f.known_at.as_deref() else {
        return Ok(match day {
            // Nothing recorded is dated after the day: the live views are the answer.
            Some(d) if as_of.max_on().is_some_and(|max| max > d) => (
                Some(Point {
                    as_of: Some(d),
                    known: applied,
                }),
                d,
            ),
            Some(d) => (None, d),
            None => (None, today),
        });
    };
    let (known, known_day) = if text.contains(':') && !text.contains('T') {
        let known = asof::parse_positions("known_at", text)?;
        for (service, position) in &known {
            let have = applied.get(service).copied().unwrap_or(0);
            if *position > have {
                return Err(ErrorBody::invalid(
                    "known_at",
                    &format!(
                        "{service} position {position} is not recorded yet (the latest is {have})"
                    ),
                ));
            }
        }
        (known, today)
    } else {
        let at: jiff::Timestamp = match text.parse::<Date>() {
            // A day: as known at its end.
            Ok(d) => d
                .tomorrow()
                .and_then(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp() - jiff::SignedDuration::from_nanos(1))
                .map_err(|_| ErrorBody::invalid("known_at", "out of range"))?,
            Err(_) => text.parse().map_err(|_| {
                ErrorBody::invalid(
                    "known_at",
                    &format!(
                        "{text:?} is not a time like 2026-07-01T12:00:00Z, a day like 2026-07-01, or positions like assessments:120,partners:45,projects:300,reporter:7"
                    ),
                )
            })?,
        };
        let now = clock.now();
        if at > now {
            return Err(ErrorBody::invalid(
                "known_at",
                &format!("{at} is in the future (now is {now})"),
            ));
        }
        (as_of.positions_at(at), tatrack_eventlog::utc_date(at))
    };
    let day = day.unwrap_or(known_day);
    Ok((
        Some(Point {
            as_of: Some(day),
            known,
        }),
        day,
    ))
}

fn parse_date(field: &str, text: Option<&str>) -> Result<Option<Date>, ErrorBody> {
    text.map(|t| {
        t.parse::<Date>().map_err(|e| {
            ErrorBody::invalid(field, &format!("{t:?} is not a date like 2026-06-30: {e}"))
        })
    })
    .transpose()
}
