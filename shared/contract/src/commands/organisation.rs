//! The registry of organisations: register, update, deactivate.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::organisation::{OrganisationCommand, OrganisationKind};

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the organisation, `active`.
    #[schemars(rename = "OrganisationRegister")]
    pub struct Register {
        /// Its code.
        pub id: String,
        pub name: String,
        pub kind: OrganisationKind,
        /// IATI OrganisationType code, e.g. `"40"` multilateral.
        pub iati_type: String,
        #[serde(default)]
        pub iati_identifier: Option<String>,
        /// ISO 3166-1 alpha-2 of its seat, when it has one.
        #[serde(default)]
        pub country: Option<String>,
    }
}

request! {
    /// Changes the given fields (`None` keeps the field; an identifier or country, once set, can be
    /// replaced but not removed). A no-op update records nothing.
    #[schemars(rename = "OrganisationUpdate")]
    pub struct Update {
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub kind: Option<OrganisationKind>,
        #[serde(default)]
        pub iati_type: Option<String>,
        #[serde(default)]
        pub iati_identifier: Option<String>,
        #[serde(default)]
        pub country: Option<String>,
    }
}

/// The `organisation_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<OrganisationCommand, ErrorBody> {
    use OrganisationCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "register" => {
            let body: Register = body.whole()?;
            from_body!(C::Register { on: body.on.unwrap_or(today) }
                from body: id, name, kind, iati_type, iati_identifier, country)
        }
        "update" => {
            let (id, body): (_, Update) = body.item()?;
            from_body!(C::Update { id, on: body.on.unwrap_or(today) }
                from body: name, kind, iati_type, iati_identifier, country)
        }
        "deactivate" => body.ended(|id, on, reason| C::Deactivate { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}
