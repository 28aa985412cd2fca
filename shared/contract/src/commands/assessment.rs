//! Assessments: plan a visit or desk review and move it through its clocks.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::assessment::{AssessmentCommand, AssessmentKind, Classification};
use uuid::Uuid;

use super::{Dated, Move, item, unknown, whole};
use crate::error::ErrorBody;

/// Creates the assessment, `planned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// The `assessment_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<AssessmentCommand, ErrorBody> {
    Ok(match action {
        "plan" => {
            let body: Plan = whole(&body)?;
            AssessmentCommand::Plan {
                id: body.id.unwrap_or_else(Uuid::now_v7),
                member_state: body.member_state,
                kind: body.kind,
                resolutions: body.resolutions,
                title: body.title,
                visit_start: body.visit_start,
                visit_end: body.visit_end,
                classification: body.classification,
                on: body.on.unwrap_or(today),
            }
        }
        "mark_conducted" => {
            let (id, body): (_, Move) = item(body)?;
            AssessmentCommand::MarkConducted {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "send_draft" => {
            let (id, body): (_, Move) = item(body)?;
            AssessmentCommand::SendDraft {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "record_observations" => {
            let (id, body): (_, Dated) = item(body)?;
            AssessmentCommand::RecordObservations {
                id,
                on: body.on.unwrap_or(today),
            }
        }
        "adopt" => {
            let (id, body): (_, Move) = item(body)?;
            AssessmentCommand::Adopt {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "record_response" => {
            let (id, body): (_, Move) = item(body)?;
            AssessmentCommand::RecordResponse {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "close" => {
            let (id, body): (_, Move) = item(body)?;
            AssessmentCommand::Close {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        "cancel" => {
            let (id, body): (_, Move) = item(body)?;
            AssessmentCommand::Cancel {
                id,
                on: body.on.unwrap_or(today),
                reason: body.reason,
            }
        }
        _ => return Err(unknown(action)),
    })
}
