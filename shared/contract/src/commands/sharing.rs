//! A State's consent to share needs or a report: grant and revoke.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::sharing::{Audience, Scope, SharingGrantCommand};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the grant, `active`.
    #[schemars(rename = "SharingGrantGrant")]
    pub struct Grant {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub member_state: String,
        pub scope: Scope,
        pub audience: Audience,
        /// Last day of visibility (inclusive); `None` until revoked.
        #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
        #[serde(default)]
        pub until: Option<Date>,
    }
}

/// The `sharing_grant_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<SharingGrantCommand, ErrorBody> {
    use SharingGrantCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "grant" => {
            let body: Grant = body.whole()?;
            from_body!(new C::Grant on today from body: member_state, scope, audience, until)
        }
        "revoke" => body.moved(|id, on, reason| C::Revoke { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}

/// The answer to `sharing_grant_revoke`: where the revocation went, and who keeps seeing the
/// grant's needs through work under way (consent runs with the work), as the read model lists
/// them once it has the revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "SharingGrantRevoked")]
pub struct Revoked {
    #[serde(flatten)]
    pub reply: crate::reply::CommandReply,
    /// Absent when the command id was seen before (the first answer's positions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeps_access: Option<KeepsAccess>,
}

/// Who keeps access after a revocation, or why the read model could not say (the revocation
/// stands either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum KeepsAccess {
    Known(Vec<crate::answers::KeptBy>),
    Unknown { unknown: String },
}
