//! What each principal may see (DESIGN §1, §6): staff and auditors see everything (auditors
//! without confidential text), a State focal point sees its own country, a donor sees only the
//! needs a State has shared with it (active, unexpired grants), and nothing else of this stream.

use jiff::civil::Date;
use tatrack_domain::need::NeedState;
use tatrack_domain::sharing::{Audience, Scope, SharingGrantState, is_active};
use tatrack_domain::{Principal, Role};

pub(crate) fn sees_country(principal: &Principal, member_state: &str) -> bool {
    match principal.role {
        Role::Admin | Role::Coordinator | Role::System | Role::Auditor => true,
        Role::StateFocalPoint => principal.member_state.as_deref() == Some(member_state),
        Role::Donor => false,
    }
}

/// Confidential recommendation text: staff and the State concerned only.
pub(crate) fn reads_confidential(principal: &Principal, member_state: &str) -> bool {
    match principal.role {
        Role::Admin | Role::Coordinator | Role::System => true,
        Role::StateFocalPoint => principal.member_state.as_deref() == Some(member_state),
        Role::Donor | Role::Auditor => false,
    }
}

pub(crate) fn sees_need(
    principal: &Principal,
    need: &NeedState,
    grants: &[SharingGrantState],
    today: Date,
) -> bool {
    if principal.role != Role::Donor {
        return sees_country(principal, &need.member_state);
    }
    let Some(organisation) = principal.organisation.as_deref() else {
        return false;
    };
    grants.iter().any(|grant| {
        grant.member_state == need.member_state
            && is_active(grant, today)
            && match &grant.scope {
                Some(Scope::Need { need_id }) => *need_id == need.id,
                Some(Scope::AllNeeds) => true,
                _ => false,
            }
            && match &grant.audience {
                Some(Audience::AllDonors) => true,
                Some(Audience::Organisations { ids }) => ids.iter().any(|id| id == organisation),
                None => false,
            }
    })
}
