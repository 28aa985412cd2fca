//! Projects shaped like IATI activities: status, money, milestones, results.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::Money;
use tatrack_domain::project::{
    ActivityStatus, IndicatorDef, Participant, ProjectCommand, TransactionKind,
};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the project, status 1 (pipeline).
    #[schemars(rename = "ProjectCreate")]
    pub struct Create {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub iati_identifier: String,
        pub title: String,
        pub description: String,
        pub recipient_country: String,
        pub theme: String,
        /// DAC 5-digit purpose code.
        pub dac_sector: String,
        /// At least one funding ("1") and one implementing ("4") organisation.
        #[serde(default)]
        pub participating: Vec<Participant>,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub planned_start: Date,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub planned_end: Date,
        #[serde(default)]
        pub budget: Option<Money>,
        #[serde(default)]
        pub needs: Vec<Uuid>,
        #[serde(default)]
        pub referrals: Vec<Uuid>,
    }
}

/// Moves the ActivityStatus along an allowed move (1->2->3->4, {1,2,6}->5, 2<->6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProjectChangeStatus")]
pub struct ChangeStatus {
    pub to: ActivityStatus,
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    #[serde(default)]
    pub reason: Option<String>,
}

request! {
    /// An active referral joins the project (a no-op when it already has).
    #[schemars(rename = "ProjectJoinReferral")]
    pub struct JoinReferral {
        pub referral_id: Uuid,
        pub need_id: Uuid,
        /// The referral's activation date.
    }
}

request! {
    /// `project_set_budget`.
    #[schemars(rename = "ProjectSetBudget")]
    pub struct SetBudget {
        pub budget: Money,
    }
}

/// `project_add_transaction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ProjectAddTransaction")]
pub struct AddTransaction {
    /// Its id within the project (default: minted; the reply of the HTTP API names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<Uuid>,
    pub kind: TransactionKind,
    /// Not zero; negative reverses an earlier transaction of the same kind (IATI allows it),
    /// never taking a total below zero.
    pub value: Money,
    /// The transaction date: its business date. Not before the project was created; a
    /// disbursement or expenditure not before a commitment in its currency.
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub receiver: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

request! {
    /// `project_add_milestone`.
    #[schemars(rename = "ProjectAddMilestone")]
    pub struct AddMilestone {
        /// Its id within the project (default: minted; the reply of the HTTP API names it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub milestone_id: Option<Uuid>,
        pub title: String,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub due: Date,
    }
}

request! {
    /// `project_complete_milestone`.
    #[schemars(rename = "ProjectCompleteMilestone")]
    pub struct CompleteMilestone {
        pub milestone_id: Uuid,
    }
}

request! {
    /// `project_add_result`.
    #[schemars(rename = "ProjectAddResult")]
    pub struct AddResult {
        /// Its id within the project (default: minted; the reply of the HTTP API names it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub result_id: Option<Uuid>,
        pub title: String,
        /// At least one.
        #[serde(default)]
        pub indicators: Vec<IndicatorDef>,
    }
}

request! {
    /// Only for an indicator with a baseline.
    #[schemars(rename = "ProjectRecordIndicatorActual")]
    pub struct RecordIndicatorActual {
        pub result_id: Uuid,
        pub indicator_id: Uuid,
        pub value: i64,
    }
}

request! {
    /// `project_add_document`.
    #[schemars(rename = "ProjectAddDocument")]
    pub struct AddDocument {
        pub url: String,
        pub title: String,
        pub category: String,
    }
}

/// The `project_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<ProjectCommand, ErrorBody> {
    let body = Body::new(body, today);
    Ok(match action {
        "create" => {
            let body: Create = body.whole()?;
            from_body!(new ProjectCommand::Create on today from body: iati_identifier, title,
                description, recipient_country, theme, dac_sector, participating, planned_start,
                planned_end, budget, needs, referrals)
        }
        "change_status" => {
            let (id, body): (_, ChangeStatus) = body.item()?;
            from_body!(ProjectCommand::ChangeStatus { id, on: body.on.unwrap_or(today) }
                from body: to, reason)
        }
        "join_referral" => {
            let (id, body): (_, JoinReferral) = body.item()?;
            from_body!(ProjectCommand::JoinReferral { id, on: body.on.unwrap_or(today) }
                from body: referral_id, need_id)
        }
        "set_budget" => {
            let (id, body): (_, SetBudget) = body.item()?;
            from_body!(ProjectCommand::SetBudget { id, on: body.on.unwrap_or(today) }
                from body: budget)
        }
        "add_transaction" => {
            let (id, body): (_, AddTransaction) = body.item()?;
            from_body!(ProjectCommand::AddTransaction {
                id,
                transaction_id: body.transaction_id.unwrap_or_else(Uuid::now_v7),
                on: body.on.unwrap_or(today),
            } from body: kind, value, provider, receiver, description)
        }
        "add_milestone" => {
            let (id, body): (_, AddMilestone) = body.item()?;
            from_body!(ProjectCommand::AddMilestone {
                id,
                milestone_id: body.milestone_id.unwrap_or_else(Uuid::now_v7),
                on: body.on.unwrap_or(today),
            } from body: title, due)
        }
        "complete_milestone" => {
            let (id, body): (_, CompleteMilestone) = body.item()?;
            from_body!(ProjectCommand::CompleteMilestone { id, on: body.on.unwrap_or(today) }
                from body: milestone_id)
        }
        "add_result" => {
            let (id, body): (_, AddResult) = body.item()?;
            from_body!(ProjectCommand::AddResult {
                id,
                result_id: body.result_id.unwrap_or_else(Uuid::now_v7),
                on: body.on.unwrap_or(today),
            } from body: title, indicators)
        }
        "record_indicator_actual" => {
            let (id, body): (_, RecordIndicatorActual) = body.item()?;
            from_body!(ProjectCommand::RecordIndicatorActual { id, on: body.on.unwrap_or(today) }
                from body: result_id, indicator_id, value)
        }
        "add_document" => {
            let (id, body): (_, AddDocument) = body.item()?;
            from_body!(ProjectCommand::AddDocument { id, on: body.on.unwrap_or(today) }
                from body: url, title, category)
        }
        _ => return Err(unknown(action)),
    })
}
