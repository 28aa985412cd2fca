//! What each principal may see (DESIGN §1, §6): staff and auditors see everything (auditors
//! without confidential text), a State focal point sees its own country, a donor sees only the
//! needs a State has shared with it (active, unexpired grants), and nothing else of this stream.

use jiff::civil::Date;
use tatrack_domain::need::NeedState;
use tatrack_domain::project::ProjectState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::sharing::{SharingGrantState, shares_assessment, shares_need};
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

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
    shares_need(grants, &need.member_state, need.id, organisation, today)
}

/// An assessment (and its recommendations): as for its country, and for a donor whose
/// organisation the State has shared the assessment's report with.
pub(crate) fn sees_assessment(
    principal: &Principal,
    member_state: &str,
    assessment_id: Uuid,
    grants: &[SharingGrantState],
    today: Date,
) -> bool {
    shared_report(principal, member_state, assessment_id, grants, today)
        || sees_country(principal, member_state)
}

/// A donor reading a report the State shared with its organisation.
pub(crate) fn shared_report(
    principal: &Principal,
    member_state: &str,
    assessment_id: Uuid,
    grants: &[SharingGrantState],
    today: Date,
) -> bool {
    principal.role == Role::Donor
        && principal
            .organisation
            .as_deref()
            .is_some_and(|organisation| {
                shares_assessment(grants, member_state, assessment_id, organisation, today)
            })
}

/// Consent records: staff, auditors and the State concerned; not donors.
pub(crate) fn sees_grants(principal: &Principal, member_state: &str) -> bool {
    principal.role != Role::Donor && sees_country(principal, member_state)
}

/// Offers: staff and auditors see all; a donor its own organisation's; a State focal point none.
pub(crate) fn sees_organisation_items(principal: &Principal, organisation: &str) -> bool {
    match principal.role {
        Role::Admin | Role::Coordinator | Role::System | Role::Auditor => true,
        Role::Donor => principal.organisation.as_deref() == Some(organisation),
        Role::StateFocalPoint => false,
    }
}

/// Referrals: a donor those made to its organisation, a State focal point its country's.
pub(crate) fn sees_referral(principal: &Principal, referral: &ReferralState) -> bool {
    match principal.role {
        Role::Donor => principal.organisation.as_deref() == Some(referral.organisation.as_str()),
        _ => sees_country(principal, &referral.member_state),
    }
}

/// Projects: a donor those its organisation takes part in, a State focal point its country's.
pub(crate) fn sees_project(principal: &Principal, project: &ProjectState) -> bool {
    match principal.role {
        Role::Donor => project
            .participating
            .iter()
            .any(|p| principal.organisation.as_deref() == Some(p.organisation.as_str())),
        _ => sees_country(principal, &project.recipient_country),
    }
}
