//! People's accounts for the web console: invite, reinvite, set a password, disable. Only the
//! console inside the gateway sends these (no HTTP API route does): it makes the invitation
//! secret and hashes the password, so the services only ever see hashes.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::Role;
use tatrack_domain::account::AccountCommand;
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Records a new account, `invited`, with a one-time link to set its password.
    #[schemars(rename = "AccountInvite")]
    pub struct Invite {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        pub name: String,
        pub email: String,
        pub role: Role,
        /// Required for a donor, refused for every other role.
        #[serde(default)]
        pub organisation: Option<String>,
        /// ISO 3166-1 alpha-2; required for a State focal point, refused for every other role.
        #[serde(default)]
        pub member_state: Option<String>,
        /// Lower-case hex SHA-256 of the link's secret.
        pub invitation_hash: String,
        /// The last day the link may be used.
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub invitation_expires_on: Date,
    }
}

request! {
    /// A fresh one-time link for an invited or active account (a password reset).
    #[schemars(rename = "AccountReinvite")]
    pub struct Reinvite {
        pub invitation_hash: String,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub invitation_expires_on: Date,
    }
}

request! {
    /// Sets the password through the open link (the link's hash is the proof).
    #[schemars(rename = "AccountSetPassword")]
    pub struct SetPassword {
        pub invitation_hash: String,
        /// An argon2id PHC string.
        pub password_hash: String,
    }
}

/// The `account_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<AccountCommand, ErrorBody> {
    use AccountCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "invite" => {
            let body: Invite = body.whole()?;
            from_body!(new C::Invite on today from body:
                name, email, role, organisation, member_state, invitation_hash,
                invitation_expires_on)
        }
        "reinvite" => {
            let (id, body): (_, Reinvite) = body.item()?;
            from_body!(C::Reinvite { id, on: body.on.unwrap_or(today) }
                from body: invitation_hash, invitation_expires_on)
        }
        "set_password" => {
            let (id, body): (_, SetPassword) = body.item()?;
            from_body!(C::SetPassword { id, on: body.on.unwrap_or(today) }
                from body: invitation_hash, password_hash)
        }
        "disable" => body.ended(|id, on, reason| C::Disable { id, on, reason })?,
        _ => return Err(unknown(action)),
    })
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;
    use AccountCommand as C;

    #[test]
    fn bodies_decode_and_unknown_fields_are_refused() {
        let today = date(2026, 3, 1);
        let invite = json!({"name": "Ada", "email": "ada@example.org", "role": "auditor",
            "invitation_hash": "ab", "invitation_expires_on": "2026-03-08"});
        let C::Invite { on, .. } = decode("invite", invite.clone(), today).unwrap() else {
            panic!("an invite");
        };
        assert_eq!(on, today);
        let mut extra = invite;
        extra["password"] = json!("hunter2");
        assert_eq!(
            decode("invite", extra, today).unwrap_err().field.as_deref(),
            Some("password")
        );
        let id = Uuid::now_v7();
        let set = json!({"id": id, "invitation_hash": "ab", "password_hash": "$argon2id$x"});
        assert!(matches!(
            decode("set_password", set, today),
            Ok(C::SetPassword { id: i, .. }) if i == id
        ));
        assert!(matches!(
            decode("disable", json!({"id": id, "reason": "left"}), today),
            Ok(C::Disable { .. })
        ));
        assert_eq!(
            decode("delete", json!({}), today)
                .unwrap_err()
                .field
                .as_deref(),
            Some("verb")
        );
    }
}
