//! Referrals of a need to an offer, accepted by the partner and by the State.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::Money;
use tatrack_domain::referral::ReferralCommand;
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the referral, `proposed`.
    #[schemars(rename = "ReferralPropose")]
    pub struct Propose {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub need_id: Uuid,
        pub offer_id: Uuid,
        /// The need's Member State.
        /// Filled in by the service (from what the command names); may be left out.
        #[serde(default)]
        pub member_state: String,
        /// The offer's organisation.
        /// Filled in by the service (from what the command names); may be left out.
        #[serde(default)]
        pub organisation: String,
        /// The share of the need this referral covers; at least one of the two, each positive.
        #[serde(default)]
        pub share_money: Option<Money>,
        #[serde(default)]
        pub share_units: Option<u64>,
    }
}

/// accepted_by_state -> active: the work starts in (or joins) project `project_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ReferralActivate")]
pub struct Activate {
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    pub project_id: Uuid,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The `referral_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<ReferralCommand, ErrorBody> {
    use ReferralCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "propose" => {
            let body: Propose = body.whole()?;
            from_body!(new C::Propose on today from body: need_id, offer_id, member_state,
                organisation, share_money, share_units)
        }
        "refer" => body.moved(|id, on, reason| C::Refer { id, on, reason })?,
        "accept_by_partner" => {
            body.moved(|id, on, reason| C::AcceptByPartner { id, on, reason })?
        }
        "decline_by_partner" => {
            body.ended(|id, on, reason| C::DeclineByPartner { id, on, reason })?
        }
        "accept_by_state" => body.moved(|id, on, reason| C::AcceptByState { id, on, reason })?,
        "decline_by_state" => body.ended(|id, on, reason| C::DeclineByState { id, on, reason })?,
        "activate" => {
            let (id, body): (_, Activate) = body.item()?;
            from_body!(C::Activate { id, on: body.on.unwrap_or(today) }
                from body: project_id, reason)
        }
        "lapse" => body.ended(|id, on, reason| C::Lapse { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}
