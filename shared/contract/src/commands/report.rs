//! Reports: ask the reporter for a summary as of a business date and as known at log positions.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tatrack_domain::report::{ReportFormat, ReportScope};
use uuid::Uuid;

use crate::reply::CommandReply;

/// `report_summary`: a summary (needs, coverage, money, recommendations, clocks, milestones,
/// overlaps) cut to what the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// The report's id (default: a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Only this State (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_state: Option<String>,
    /// Only this theme code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Only the countries of this DAC region code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Only what this organisation funds or is referred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donor: Option<String>,
    /// `markdown` (or `md`), `html`, `csv` (with HXL hashtags) or `json`.
    #[schemars(extend("enum" = ["markdown", "md", "html", "csv", "json"]))]
    pub format: String,
    /// The business date the report is for (default: today, provisional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub as_of: Option<Date>,
    /// As the system knew it then: log positions as a report records them
    /// (`assessments:120,partners:45,projects:300,reporter:7`), a time or a day (its end).
    /// Default: everything recorded so far. Made again with the same `as_of` and the positions
    /// an earlier report recorded, a report is byte-identical to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_at: Option<String>,
    /// The day the report is made on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// The answer: where `report_made` went, what it says, and the report itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MadeReport {
    #[serde(flatten)]
    pub reply: CommandReply,
    pub scope: ReportScope,
    pub format: ReportFormat,
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub as_of: Date,
    /// The log positions it was made from (give them back as `known_at` to make it again).
    pub known_at: String,
    /// As of today: the day is not over, so a report made later as of today may count more.
    pub provisional: bool,
    /// Lower-case hex SHA-256 of the content.
    pub checksum: String,
    /// Bytes.
    pub size: u64,
    pub media_type: String,
    /// The report's text (every format is UTF-8 text).
    pub content: String,
}
