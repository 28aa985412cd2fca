//! Access tokens for the HTTP gateway: issue and revoke.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::Role;
use tatrack_domain::token::TokenCommand;
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Records a new token, `active`. `hash` is the lower-case hex SHA-256 of the secret.
    #[schemars(rename = "TokenIssue")]
    pub struct Issue {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub role: Role,
        /// Required for a donor, refused for every other role.
        #[serde(default)]
        pub organisation: Option<String>,
        /// ISO 3166-1 alpha-2; required for a State focal point, refused for every other role.
        #[serde(default)]
        pub member_state: Option<String>,
        pub label: String,
        pub hash: String,
        /// The last day it is valid (default: 90 days from today; at most a year from today).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
        pub expires_on: Option<Date>,
    }
}

/// The last day a token asked for on `today` is valid: as asked (after today, at most
/// `MAX_VALIDITY_DAYS` later), else `DEFAULT_VALIDITY_DAYS` later. Counted from the service's
/// today, not from the business date, so a token recorded for a past day is not born expired.
pub fn expiry(expires_on: Option<Date>, today: Date) -> Result<Date, ErrorBody> {
    use tatrack_domain::token::{DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS};
    let days = |n: i16| {
        today
            .checked_add(jiff::Span::new().days(n))
            .map_err(|e| ErrorBody::invalid("expires_on", &e.to_string()))
    };
    let Some(asked) = expires_on else {
        return days(DEFAULT_VALIDITY_DAYS);
    };
    let latest = days(MAX_VALIDITY_DAYS)?;
    if asked <= today || asked > latest {
        return Err(ErrorBody::invalid(
            "expires_on",
            &format!("must be after today ({today}) and at most a year from it ({latest})"),
        ));
    }
    Ok(asked)
}

/// The `token_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<TokenCommand, ErrorBody> {
    use TokenCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "issue" => {
            let body: Issue = body.whole()?;
            let expires_on = expiry(body.expires_on, today)?;
            from_body!(C::Issue {
                id: body.id.unwrap_or_else(Uuid::now_v7),
                on: body.on.unwrap_or(today),
                expires_on,
            } from body: role, organisation, member_state, label, hash)
        }
        "revoke" => body.ended(|id, on, reason| C::Revoke { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}

/// `POST /tokens`: what an admin asks for. The gateway makes the secret and sends the partners
/// service only its SHA-256 (`Issue`), so the secret is never stored or logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TokenIssueRequest")]
pub struct IssueRequest {
    pub role: Role,
    /// Required for a donor (a registered, active organisation), refused for every other role.
    #[serde(default)]
    pub organisation: Option<String>,
    /// ISO 3166-1 alpha-2; required for a State focal point, refused for every other role.
    #[serde(default)]
    pub member_state: Option<String>,
    /// What it is for, e.g. "reporting script".
    pub label: String,
    /// The last day it is valid (default: 90 days from today; at most a year from today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub expires_on: Option<Date>,
    /// The business date it is issued on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// The answer to `POST /tokens`: the token itself, shown this once, and where it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "TokenIssued")]
pub struct Issued {
    #[serde(flatten)]
    pub reply: crate::reply::CommandReply,
    /// `tt_...`: send it as `Authorization: Bearer <token>`. It is not shown again.
    pub token: String,
}
