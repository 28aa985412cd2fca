//! Assessments: plan a visit or desk review and move it through its clocks.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::assessment::{AssessmentCommand, AssessmentKind, Classification};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the assessment, `planned`.
    #[schemars(rename = "AssessmentPlan")]
    pub struct Plan {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        /// ISO 3166-1 alpha-2.
        pub member_state: String,
        pub kind: AssessmentKind,
        /// Security Council resolutions covered, e.g. 1373, 2178; at least one.
        #[serde(default)]
        pub resolutions: Vec<u32>,
        pub title: String,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub visit_start: Date,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub visit_end: Date,
        pub classification: Classification,
    }
}

/// The `assessment_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<AssessmentCommand, ErrorBody> {
    use AssessmentCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "plan" => {
            let body: Plan = body.whole()?;
            from_body!(new C::Plan on today from body: member_state, kind, resolutions, title,
                visit_start, visit_end, classification)
        }
        "mark_conducted" => body.moved(|id, on, reason| C::MarkConducted { id, on, reason })?,
        "send_draft" => body.moved(|id, on, reason| C::SendDraft { id, on, reason })?,
        "record_observations" => body.dated(|id, on| C::RecordObservations { id, on })?,
        "adopt" => body.moved(|id, on, reason| C::Adopt { id, on, reason })?,
        "record_response" => body.moved(|id, on, reason| C::RecordResponse { id, on, reason })?,
        "close" => body.moved(|id, on, reason| C::Close { id, on, reason })?,
        "cancel" => body.moved(|id, on, reason| C::Cancel { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}
