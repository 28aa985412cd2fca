//! Report: one summary report the reporter made (issue 5), recorded with the SHA-256 of its bytes
//! so anyone holding a copy can prove it is the one made, for whom, and as of which day. The
//! content itself is not stored: made again as of the same day, it is byte-identical.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, check_new};
use crate::codes;
use crate::error::DomainError;
use crate::organisation::check_organisation_id;
use crate::principal::Principal;
use crate::token::check_hash;

string_enum! {
    /// The forms a report is made in.
    pub enum ReportFormat ("format") {
        Markdown => "markdown",
        Html => "html",
        /// With an HXL hashtag row under the header.
        Csv => "csv",
        Json => "json",
    }
}

impl ReportFormat {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Html => "html",
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    /// The media type (HTTP `Content-Type`).
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

string_enum! {
    pub enum ReportStatus ("status") {
        Made => "made",
    }
}

/// What a report covers; every filter absent is the system-wide summary. Filters combine (a
/// State's needs in one theme funded by one donor).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct ReportScope {
    /// ISO 3166-1 alpha-2.
    pub member_state: Option<String>,
    /// A theme code (`themes.csv`).
    pub theme: Option<String>,
    /// An IATI Region code (its countries from `codes::regions_of`).
    pub region: Option<String>,
    /// An organisation id: the donor's projects, offers and the needs they serve.
    pub donor: Option<String>,
}

impl ReportScope {
    /// Every filter must name a known code (the error names the filter).
    pub fn check(&self) -> Result<(), DomainError> {
        if let Some(c) = &self.member_state {
            codes::check_country("member_state", c)?;
        }
        if let Some(t) = &self.theme {
            codes::check_theme("theme", t)?;
        }
        if let Some(r) = &self.region {
            codes::check_region("region", r)?;
        }
        if let Some(d) = &self.donor {
            check_organisation_id("donor", d)?;
        }
        Ok(())
    }

    /// `all`, or the filters as `member_state=KE theme=BOR`, for titles and file names.
    pub fn label(&self) -> String {
        let parts: Vec<String> = [
            ("member_state", &self.member_state),
            ("theme", &self.theme),
            ("region", &self.region),
            ("donor", &self.donor),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() {
            "all".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReportCommand {
    /// Records a report the reporter made. `today` is the day it is made on: a report as of a
    /// finished day never changes; one as of today is provisional; the future is refused.
    Record {
        id: Uuid,
        scope: ReportScope,
        format: ReportFormat,
        as_of: Date,
        /// The day it was made (business date): `as_of` may not be after it.
        on: Date,
        /// The log positions it was made from, per service stream ("known at"): made again
        /// from the same positions as of the same day, it is byte-identical.
        known_at: std::collections::BTreeMap<String, u64>,
        requested_by: Principal,
        /// Lower-case hex SHA-256 of the report's bytes.
        checksum: String,
        size: u64,
    },
}

command_fields!(ReportCommand: Record);

event_enum! {
    pub enum ReportEvent {
        ReportMade {
            id: Uuid,
            scope: ReportScope,
            format: ReportFormat,
            as_of: Date,
            requested_by: Principal,
            checksum: String,
            size: u64,
            on: Date,
            #[serde(default)]
            known_at: std::collections::BTreeMap<String, u64>,
        },
    }
}

event_fields!(ReportEvent: ReportMade);

/// A report as its event left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportState {
    pub id: Uuid,
    pub status: Option<ReportStatus>,
    pub scope: ReportScope,
    pub format: Option<ReportFormat>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub as_of: Option<Date>,
    pub requested_by: Option<Principal>,
    pub checksum: String,
    pub size: u64,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub made_on: Option<Date>,
    pub known_at: std::collections::BTreeMap<String, u64>,
}

/// `as_of` may not be in the future.
pub fn check_as_of(as_of: Date, today: Date) -> Result<(), DomainError> {
    if as_of > today {
        return Err(DomainError::invalid(
            "as_of",
            format!("{as_of} is in the future (today is {today})"),
        ));
    }
    Ok(())
}

/// A report as of a finished day is final (made again, it is byte-identical); one as of today
/// is provisional, since more may be recorded before the day ends.
pub fn is_final(as_of: Date, today: Date) -> bool {
    as_of < today
}

/// The decider.
pub struct Report;

impl Aggregate for Report {
    const NAME: &'static str = "report";
    type State = ReportState;
    type Command = ReportCommand;
    type Event = ReportEvent;

    fn decide(
        state: &ReportState,
        command: &ReportCommand,
    ) -> Result<Vec<ReportEvent>, DomainError> {
        let ReportCommand::Record {
            id,
            scope,
            format,
            as_of,
            on: today,
            known_at,
            requested_by,
            checksum,
            size,
        } = command;
        check_new(Self::NAME, state.status.is_some(), *id)?;
        scope.check()?;
        check_as_of(*as_of, *today)?;
        check_hash("checksum", checksum)?;
        if *size == 0 {
            return Err(DomainError::invalid(
                "size",
                "a report has at least one byte",
            ));
        }
        Ok(vec![ReportEvent::ReportMade {
            id: *id,
            scope: scope.clone(),
            format: *format,
            as_of: *as_of,
            requested_by: requested_by.clone(),
            checksum: checksum.clone(),
            size: *size,
            on: *today,
            known_at: known_at.clone(),
        }])
    }

    fn evolve(_state: ReportState, event: &ReportEvent) -> ReportState {
        let ReportEvent::ReportMade {
            id,
            scope,
            format,
            as_of,
            requested_by,
            checksum,
            size,
            on,
            known_at,
        } = event;
        ReportState {
            id: *id,
            status: Some(ReportStatus::Made),
            scope: scope.clone(),
            format: Some(*format),
            as_of: Some(*as_of),
            requested_by: Some(requested_by.clone()),
            checksum: checksum.clone(),
            size: *size,
            made_on: Some(*on),
            known_at: known_at.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{assert_kinds_round_trip, given};
    use crate::principal::Role;
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0f01);
    const SUM: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn auditor() -> Principal {
        Principal {
            id: "a1".into(),
            role: Role::Auditor,
            organisation: None,
            member_state: None,
        }
    }

    fn record(scope: ReportScope, as_of: Date) -> ReportCommand {
        ReportCommand::Record {
            id: ID,
            scope,
            format: ReportFormat::Csv,
            as_of,
            on: date(2026, 11, 28),
            known_at: std::collections::BTreeMap::new(),
            requested_by: auditor(),
            checksum: SUM.into(),
            size: 120,
        }
    }

    fn made(scope: ReportScope, as_of: Date) -> ReportEvent {
        ReportEvent::ReportMade {
            id: ID,
            scope,
            format: ReportFormat::Csv,
            as_of,
            requested_by: auditor(),
            checksum: SUM.into(),
            size: 120,
            on: date(2026, 11, 28),
            known_at: std::collections::BTreeMap::new(),
        }
    }

    #[test]
    fn a_report_of_a_finished_day_is_recorded_once() {
        let scope = ReportScope {
            member_state: Some("KE".into()),
            theme: Some("BOR".into()),
            region: Some("289".into()),
            donor: Some("DEMO-DONOR".into()),
        };
        let state = given::<Report>(&[])
            .when(record(scope.clone(), date(2026, 11, 27)))
            .then(&[made(scope.clone(), date(2026, 11, 27))]);
        assert_eq!(state.status, Some(ReportStatus::Made));
        assert_eq!(state.checksum, SUM);
        given::<Report>(&[made(scope.clone(), date(2026, 11, 27))])
            .when(record(scope, date(2026, 11, 27)))
            .then_error(DomainError::already_exists("report", ID.to_string()));
    }

    #[test]
    fn bad_scope_day_checksum_and_size_are_refused_by_name() {
        let day = date(2026, 11, 1);
        for (scope, field) in [
            (
                ReportScope {
                    member_state: Some("XX".into()),
                    ..ReportScope::default()
                },
                "member_state",
            ),
            (
                ReportScope {
                    theme: Some("NOPE".into()),
                    ..ReportScope::default()
                },
                "theme",
            ),
            (
                ReportScope {
                    region: Some("0".into()),
                    ..ReportScope::default()
                },
                "region",
            ),
            (
                ReportScope {
                    donor: Some("no spaces".into()),
                    ..ReportScope::default()
                },
                "donor",
            ),
        ] {
            given::<Report>(&[])
                .when(record(scope, day))
                .then_invalid(field);
        }
        for as_of in [date(2026, 11, 29), date(2027, 1, 1)] {
            given::<Report>(&[])
                .when(record(ReportScope::default(), as_of))
                .then_invalid("as_of");
        }
        let mut bad = record(ReportScope::default(), day);
        let ReportCommand::Record { checksum, .. } = &mut bad;
        *checksum = "abc".into();
        given::<Report>(&[]).when(bad).then_invalid("checksum");
        let mut empty = record(ReportScope::default(), day);
        let ReportCommand::Record { size, .. } = &mut empty;
        *size = 0;
        given::<Report>(&[]).when(empty).then_invalid("size");
    }

    #[test]
    fn formats_and_labels() {
        assert_eq!("html".parse::<ReportFormat>(), Ok(ReportFormat::Html));
        assert!(matches!(
            "pdf".parse::<ReportFormat>(),
            Err(DomainError::Invalid { field, .. }) if field == "format"
        ));
        assert_eq!(ReportScope::default().label(), "all");
        let scope = ReportScope {
            member_state: Some("KE".into()),
            donor: Some("D".into()),
            ..ReportScope::default()
        };
        assert_eq!(scope.label(), "member_state=KE donor=D");
    }

    #[test]
    fn kinds_match_serde_tags() {
        let events = [made(ReportScope::default(), date(2026, 11, 27))];
        assert_kinds_round_trip(&events, ReportEvent::KINDS);
    }
}
