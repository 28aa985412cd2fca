//! Progress reports on a project: draft, revise, submit, validate, return.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::progress::{ProgressReportCommand, ReportedActual};
use uuid::Uuid;

use super::{Ending, Move, item, unknown, whole};
use crate::error::ErrorBody;

/// Creates the report, `draft`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProgressReportDraft")]
pub struct Draft {
    /// Its id (default: the service mints one and says which).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub project_id: Uuid,
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub period_start: Date,
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub period_end: Date,
    pub narrative: String,
    #[serde(default)]
    pub actuals: Vec<ReportedActual>,
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// Changes the given parts (`None` keeps them) of a draft, or of a returned report, which goes back
/// to draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProgressReportRevise")]
pub struct Revise {
    #[serde(default)]
    pub narrative: Option<String>,
    #[serde(default)]
    pub actuals: Option<Vec<ReportedActual>>,
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// The `progress_report_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<ProgressReportCommand, ErrorBody> {
    Ok(match action {
        "draft" => {
            let body: Draft = whole(&body)?;
            ProgressReportCommand::Draft {
                id: body.id.unwrap_or_else(Uuid::now_v7),
                project_id: body.project_id,
                period_start: body.period_start,
                period_end: body.period_end,
                narrative: body.narrative,
                actuals: body.actuals,
                on: body.on.unwrap_or(today),
            }
        }
        "revise" => {
            let (id, body): (_, Revise) = item(body)?;
            ProgressReportCommand::Revise {
                id,
                narrative: body.narrative,
                actuals: body.actuals,
                on: body.on.unwrap_or(today),
            }
        }
        "submit" => {
            let (id, body): (_, Move) = item(body)?;
            ProgressReportCommand::Submit {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "validate" => {
            let (id, body): (_, Move) = item(body)?;
            ProgressReportCommand::Validate {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "return" => {
            let (id, body): (_, Ending) = item(body)?;
            ProgressReportCommand::Return {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        _ => return Err(unknown(action)),
    })
}
