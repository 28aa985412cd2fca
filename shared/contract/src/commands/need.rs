//! Technical-assistance needs: identify, agree with the State, amend, end.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::Money;
use tatrack_domain::need::{Modality, NeedCommand, Units};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the need, `identified`.
    #[schemars(rename = "NeedIdentify")]
    pub struct Identify {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub member_state: String,
        /// The recommendations it serves; may be empty.
        #[serde(default)]
        pub recommendation_ids: Vec<Uuid>,
        pub theme: String,
        pub modality: Modality,
        pub description: String,
        pub beneficiary_institution: String,
        /// Positive when given.
        #[serde(default)]
        pub estimated_cost: Option<Money>,
        #[serde(default)]
        pub size: Option<Units>,
        /// 1 (high) .. 3 (low).
        pub priority: u8,
    }
}

request! {
    /// The coverage as of `on`, as totals (not increments) over referrals accepted by then, sent
    /// by the projects service; a measure left `None` keeps its previous total. Derives
    /// agreed_with_state / partially_covered / covered. A derived fact: `on` is the date of the
    /// referral move that caused it and may go back before the need's last move (a late
    /// acceptance), though not before the State agreed to the need.
    #[schemars(rename = "NeedRecordCoverage")]
    pub struct RecordCoverage {
        #[serde(default)]
        pub covered_money: Option<Money>,
        #[serde(default)]
        pub covered_units: Option<u64>,
    }
}

request! {
    /// Changes the given fields (`None` keeps the field), until the need is met, withdrawn or declined.
    #[schemars(rename = "NeedAmend")]
    pub struct Amend {
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub beneficiary_institution: Option<String>,
        #[serde(default)]
        pub estimated_cost: Option<Money>,
        #[serde(default)]
        pub size: Option<Units>,
        #[serde(default)]
        pub priority: Option<u8>,
    }
}

/// The `need_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<NeedCommand, ErrorBody> {
    use NeedCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "identify" => {
            let body: Identify = body.whole()?;
            from_body!(new C::Identify on today from body: member_state, recommendation_ids, theme,
                modality, description, beneficiary_institution, estimated_cost, size, priority)
        }
        "agree_with_state" => body.moved(|id, on, reason| C::AgreeWithState { id, on, reason })?,
        "withdraw" => body.ended(|id, on, reason| C::Withdraw { id, on, reason })?,
        "decline" => body.ended(|id, on, reason| C::Decline { id, on, reason })?,
        "record_coverage" => {
            let (id, body): (_, RecordCoverage) = body.item()?;
            from_body!(C::RecordCoverage { id, on: body.on.unwrap_or(today) }
                from body: covered_money, covered_units)
        }
        "mark_met" => body.moved(|id, on, reason| C::MarkMet { id, on, reason })?,
        "amend" => {
            let (id, body): (_, Amend) = body.item()?;
            from_body!(C::Amend { id, on: body.on.unwrap_or(today) }
                from body: description, beneficiary_institution, estimated_cost, size, priority)
        }
        _ => return Err(unknown(action)),
    })
}
