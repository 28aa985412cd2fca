//! The body of every command, per aggregate: what a caller sends (over HTTP, the path names the
//! aggregate; over NATS, the body's `id` does), and how it becomes the domain's command. The
//! business date `on` may be left out: the service dates the fact today.
//!
//! Three shapes are shared by most moves (`Dated`, `Move`, `Ending`); the rest have a struct of
//! their own in their aggregate's module. Every struct refuses fields it does not know, by name.

pub mod assessment;
pub mod need;
pub mod offer;
pub mod organisation;
pub mod progress;
pub mod project;
pub mod rates;
pub mod recommendation;
pub mod referral;
pub mod report;
pub mod sharing;
pub mod token;

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ErrorBody;

/// A move with nothing but its date (e.g. the State's observations received, an offer expired).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dated {
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// A move along a lifecycle, with an optional "why".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The business date it happened on (default: today); not before the previous move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    /// Why, for the record.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A move that ends something (withdraw, decline, lapse, revoke...): the reason is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ending {
    /// The business date it happened on (default: today); not before the previous move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    /// Why it ends.
    pub reason: String,
}

/// Decodes a whole body, naming the field that does not fit. A body is an object (serde would
/// read a struct from an array too, and blame its first element).
pub(crate) fn whole<T: DeserializeOwned>(body: &Value) -> Result<T, ErrorBody> {
    if !body.is_object() {
        return Err(ErrorBody::invalid("body", "must be a JSON object"));
    }
    crate::error::from_value(body)
}

/// Takes the aggregate's `id` (a UUID) out of the body and decodes the rest.
pub(crate) fn item<T: DeserializeOwned>(body: Value) -> Result<(Uuid, T), ErrorBody> {
    let (id, rest) = take_id(body)?;
    let id = id
        .as_str()
        .and_then(|s| s.parse::<Uuid>().ok())
        .ok_or_else(|| ErrorBody::invalid("id", "must be a UUID"))?;
    Ok((id, whole(&rest)?))
}

/// Takes the aggregate's `id` (an organisation's code) out of the body and decodes the rest.
pub(crate) fn item_code<T: DeserializeOwned>(body: Value) -> Result<(String, T), ErrorBody> {
    let (id, rest) = take_id(body)?;
    let id = id
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ErrorBody::invalid("id", "must be an organisation's code"))?;
    Ok((id, whole(&rest)?))
}

fn take_id(body: Value) -> Result<(Value, Value), ErrorBody> {
    let Value::Object(mut map) = body else {
        return Err(ErrorBody::invalid("body", "must be a JSON object"));
    };
    let id = map
        .remove("id")
        .ok_or_else(|| ErrorBody::invalid("id", "is required"))?;
    Ok((id, Value::Object(map)))
}

pub(crate) fn unknown(action: &str) -> ErrorBody {
    ErrorBody::invalid("verb", &format!("unknown command {action:?}"))
}
