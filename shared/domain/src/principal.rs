//! `Principal`: who issues a command or query. Services check it; deciders never see it.

use serde::{Deserialize, Serialize};

use crate::project::ProjectState;

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

    /// Coordinators, admins and the services themselves: they keep the records, and may do what
    /// a command's own rules allow except act as a State or a partner.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Coordinator | Role::System)
    }

    /// Admins and the services themselves (access tokens).
    pub fn is_admin(&self) -> bool {
        matches!(self.role, Role::Admin | Role::System)
    }

    /// Staff and auditors: they read every State's and every organisation's records.
    pub fn reads_all(&self) -> bool {
        self.is_staff() || self.role == Role::Auditor
    }

    /// A donor or implementing partner acting for `organisation`.
    pub fn acts_for(&self, organisation: &str) -> bool {
        self.role == Role::Donor && self.organisation.as_deref() == Some(organisation)
    }

    /// A focal point acting for the State `member_state`.
    pub fn acts_for_state(&self, member_state: &str) -> bool {
        self.role == Role::StateFocalPoint && self.member_state.as_deref() == Some(member_state)
    }

    /// A donor whose organisation takes part in `project`.
    pub fn takes_part_in(&self, project: &ProjectState) -> bool {
        project
            .participating
            .iter()
            .any(|p| self.acts_for(&p.organisation))
    }

    /// A State's own records (its assessments, needs, recommendations, consents): staff,
    /// auditors and the State's focal points. Not donors: they see what a State shares.
    pub fn may_see_member_state(&self, member_state: &str) -> bool {
        self.reads_all() || self.acts_for_state(member_state)
    }

    /// A State's confidential text (recommendations): staff and the State itself.
    pub fn may_read_confidential(&self, member_state: &str) -> bool {
        self.is_staff() || self.acts_for_state(member_state)
    }

    /// An organisation's own records (its offers, its portfolio): staff, auditors and the
    /// organisation itself.
    pub fn may_see_organisation(&self, organisation: &str) -> bool {
        self.reads_all() || self.acts_for(organisation)
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

    fn who(role: Role, organisation: Option<&str>, member_state: Option<&str>) -> Principal {
        Principal {
            id: "u".into(),
            role,
            organisation: organisation.map(Into::into),
            member_state: member_state.map(Into::into),
        }
    }

    #[test]
    fn each_role_acts_and_reads_for_whom_it_should() {
        let admin = who(Role::Admin, None, None);
        let coordinator = who(Role::Coordinator, None, None);
        let auditor = who(Role::Auditor, None, None);
        let donor = who(Role::Donor, Some("ORG-A"), None);
        let kenya = who(Role::StateFocalPoint, None, Some("KE"));
        let system = Principal::system();
        for p in [&admin, &coordinator, &system] {
            assert!(p.is_staff() && p.reads_all(), "{p:?}");
            assert!(p.may_read_confidential("KE") && p.may_see_organisation("ORG-A"));
            assert!(!p.acts_for("ORG-A") && !p.acts_for_state("KE"), "{p:?}");
        }
        assert!(admin.is_admin() && system.is_admin() && !coordinator.is_admin());
        assert!(!auditor.is_staff() && auditor.reads_all());
        assert!(auditor.may_see_member_state("KE") && !auditor.may_read_confidential("KE"));
        assert!(donor.acts_for("ORG-A") && !donor.acts_for("ORG-B"));
        assert!(donor.may_see_organisation("ORG-A") && !donor.may_see_organisation("ORG-B"));
        assert!(!donor.may_see_member_state("KE") && !donor.reads_all());
        assert!(kenya.acts_for_state("KE") && !kenya.acts_for_state("UG"));
        assert!(kenya.may_see_member_state("KE") && kenya.may_read_confidential("KE"));
        assert!(!kenya.may_see_member_state("UG") && !kenya.may_see_organisation("ORG-A"));
        // A principal without its organisation or State acts for none.
        assert!(!who(Role::Donor, None, None).acts_for(""));
        assert!(!who(Role::StateFocalPoint, None, None).acts_for_state(""));
        let project = ProjectState {
            participating: vec![crate::project::Participant {
                organisation: "ORG-A".into(),
                role: "1".into(),
            }],
            ..ProjectState::default()
        };
        assert!(donor.takes_part_in(&project));
        assert!(!who(Role::Donor, Some("ORG-B"), None).takes_part_in(&project));
        assert!(!coordinator.takes_part_in(&project));
    }
}
