//! Progress reports on a project: draft, revise, submit, validate, return.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::progress::{ProgressReportCommand, ReportedActual};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the report, `draft`.
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
    }
}

request! {
    /// Changes the given parts (`None` keeps them) of a draft, or of a returned report, which goes back
    /// to draft.
    #[schemars(rename = "ProgressReportRevise")]
    pub struct Revise {
        #[serde(default)]
        pub narrative: Option<String>,
        #[serde(default)]
        pub actuals: Option<Vec<ReportedActual>>,
    }
}

/// The `progress_report_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<ProgressReportCommand, ErrorBody> {
    use ProgressReportCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "draft" => {
            let body: Draft = body.whole()?;
            from_body!(new C::Draft on today from body: project_id, period_start, period_end,
                narrative, actuals)
        }
        "revise" => {
            let (id, body): (_, Revise) = body.item()?;
            from_body!(C::Revise { id, on: body.on.unwrap_or(today) } from body: narrative, actuals)
        }
        "submit" => body.moved(|id, on, reason| C::Submit { id, on, reason })?,
        "validate" => body.moved(|id, on, reason| C::Validate { id, on, reason })?,
        "return" => body.ended(|id, on, reason| C::Return { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}
