//! Recommendations of an assessment and how far the State has implemented them.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::recommendation::{RecommendationCommand, RecommendationStatus, StatusSource};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the recommendation, `adopted` (recommendations come from an adopted report).
    #[schemars(rename = "RecommendationRecord")]
    pub struct Record {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub assessment_id: Uuid,
        /// Copied by the service from the assessment.
        /// Filled in by the service (from what the command names); may be left out.
        #[serde(default)]
        pub member_state: String,
        pub theme: String,
        /// Confidential.
        pub text: String,
        /// 1 (high) .. 3 (low).
        pub priority: u8,
    }
}

/// Moves the status; `on` may not be before the previous update's (or the recording).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RecommendationUpdateStatus")]
pub struct UpdateStatus {
    pub to: RecommendationStatus,
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    pub source: StatusSource,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The `recommendation_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<RecommendationCommand, ErrorBody> {
    let body = Body::new(body, today);
    Ok(match action {
        "record" => {
            let body: Record = body.whole()?;
            from_body!(new RecommendationCommand::Record on today from body: assessment_id,
                member_state, theme, text, priority)
        }
        "update_status" => {
            let (id, body): (_, UpdateStatus) = body.item()?;
            from_body!(RecommendationCommand::UpdateStatus { id, on: body.on.unwrap_or(today) }
                from body: to, source, reason)
        }
        _ => return Err(unknown(action)),
    })
}
