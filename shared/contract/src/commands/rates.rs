//! The exchange-rate table: record the rates of a day.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::rates::{self, Rate, RateTableCommand};
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

/// Records the rates as of a date. The first one creates the table; later ones add dates. A date
/// already recorded may not be changed (recording the very same rates again is a no-op).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RateTableRecord")]
pub struct Record {
    /// The table's id (default: the one table every conversion uses, `rates::TABLE_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    /// Each currency once; USD is implied at 1 and may not be listed.
    #[serde(default)]
    pub rates: Vec<Rate>,
}

/// The `rate_table_<action>` command a body stands for, with `on` defaulted to `today`.
#[allow(
    clippy::needless_pass_by_value,
    reason = "every aggregate's decode takes its body the same way"
)]
pub fn decode(action: &str, body: Value, today: Date) -> Result<RateTableCommand, ErrorBody> {
    let body = Body::new(body, today);
    Ok(match action {
        "record" => {
            let body: Record = body.whole()?;
            from_body!(RateTableCommand::Record {
                id: body.id.unwrap_or(rates::TABLE_ID),
                on: body.on.unwrap_or(today),
            } from body: rates)
        }
        _ => return Err(unknown(action)),
    })
}
