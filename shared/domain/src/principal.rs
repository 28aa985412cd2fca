//! `Principal`: who issues a command or query. Services check it; deciders never see it.

use serde::{Deserialize, Serialize};

string_enum! {
    /// What a principal may do, broadly; the services' access rules refine it by organisation and
    /// member state.
    pub enum Role ("role") {
        Admin => "admin",
        Coordinator => "coordinator",
        /// A donor or implementing partner, scoped to `organisation`.
        Donor => "donor",
        /// A member-state focal point, scoped to `member_state`.
        StateFocalPoint => "state_focal_point",
        /// Read-only reporting.
        Auditor => "auditor",
        /// The services themselves (replication, projections, derived commands).
        System => "system",
    }
}

/// The authenticated caller, as the gateway asserts it and the event envelope records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Principal {
    pub id: String,
    pub role: Role,
    pub organisation: Option<String>,
    /// ISO 3166-1 alpha-2, for state focal points.
    pub member_state: Option<String>,
}

impl Principal {
    /// The services acting on their own (e.g. projects recording coverage on a need).
    pub fn system() -> Principal {
        Principal {
            id: "system".to_owned(),
            role: Role::System,
            organisation: None,
            member_state: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let p = Principal {
            id: "u1".into(),
            role: Role::StateFocalPoint,
            organisation: None,
            member_state: Some("KE".into()),
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "u1", "role": "state_focal_point", "organisation": null, "member_state": "KE"})
        );
        assert_eq!(serde_json::from_value::<Principal>(json).unwrap(), p);
        assert_eq!(Principal::system().role, Role::System);
        assert_eq!("auditor".parse::<Role>(), Ok(Role::Auditor));
        assert!("root".parse::<Role>().is_err());
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.to_string());
        }
    }
}
