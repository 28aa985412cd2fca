//! What each principal may see (DESIGN §1, §6): staff and auditors see everything (auditors
//! without confidential text), a State focal point sees its own country, a donor sees only the
//! needs a State has shared with it (active, unexpired grants), and nothing else of this stream.

use std::collections::BTreeMap;

use jiff::civil::Date;
use tatrack_bus::rpc::ErrorBody;
use tatrack_domain::need::NeedState;
use tatrack_domain::project::ProjectState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::sharing::{
    SharingGrantState, kept_by_work, need_is_shared, shares_assessment, shares_need,
};
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::cache::Views;

/// What a State has consented to, as it stands today: the grants in force on the clock's
/// today, read from the live views, plus the needs that running work keeps visible to the
/// organisations doing it (`sharing::kept_by_work`). An answer about a past day is filtered
/// by this, never by the grants of that day: a caller's date picks which state to show, not
/// who may see it, and consent withdrawn hides the past too.
pub(crate) struct Consent {
    grants: Vec<SharingGrantState>,
    today: Date,
    /// Need -> organisation -> why (filled for donors only, the one role it changes).
    work: BTreeMap<Uuid, BTreeMap<String, String>>,
}

impl Consent {
    pub(crate) fn new(live: &Views, today: Date, principal: &Principal) -> Result<Self, ErrorBody> {
        let grants = live
            .scan::<SharingGrantState>("assessments", "sharing_grant")?
            .to_vec();
        let work = if principal.role == Role::Donor {
            let referrals = live.scan::<ReferralState>("projects", "referral")?.to_vec();
            let projects = live.scan::<ProjectState>("projects", "project")?.to_vec();
            kept_by_work(&referrals, &projects)
        } else {
            BTreeMap::new()
        };
        Ok(Self {
            grants,
            today,
            work,
        })
    }

    pub(crate) fn sees_need(&self, principal: &Principal, need: &NeedState) -> bool {
        if principal.role != Role::Donor {
            return principal.may_see_member_state(&need.member_state);
        }
        let Some(organisation) = principal.organisation.as_deref() else {
            return false;
        };
        self.is_shared_with(need, organisation)
            || self
                .work
                .get(&need.id)
                .is_some_and(|orgs| orgs.contains_key(organisation))
    }

    /// An assessment (and its recommendations): as for its country, and for a donor whose
    /// organisation the State has shared the assessment's report with.
    pub(crate) fn sees_assessment(
        &self,
        principal: &Principal,
        member_state: &str,
        assessment_id: Uuid,
    ) -> bool {
        self.shared_report(principal, member_state, assessment_id)
            || principal.may_see_member_state(member_state)
    }

    /// A donor reading a report the State shared with its organisation.
    pub(crate) fn shared_report(
        &self,
        principal: &Principal,
        member_state: &str,
        assessment_id: Uuid,
    ) -> bool {
        principal.role == Role::Donor
            && principal
                .organisation
                .as_deref()
                .is_some_and(|organisation| {
                    shares_assessment(
                        &self.grants,
                        member_state,
                        assessment_id,
                        organisation,
                        self.today,
                    )
                })
    }

    /// The coordinators' consent filter: shared with anyone today.
    pub(crate) fn is_shared(&self, need: &NeedState) -> bool {
        need_is_shared(&self.grants, &need.member_state, need.id, self.today)
    }

    /// The coordinators' consent filter: shared with `organisation` today.
    pub(crate) fn is_shared_with(&self, need: &NeedState, organisation: &str) -> bool {
        shares_need(
            &self.grants,
            &need.member_state,
            need.id,
            organisation,
            self.today,
        )
    }
}

/// Referrals: a donor those made to its organisation, a State focal point its country's.
pub(crate) fn sees_referral(principal: &Principal, referral: &ReferralState) -> bool {
    principal.acts_for(&referral.organisation)
        || principal.may_see_member_state(&referral.member_state)
}

/// Projects: a donor those its organisation takes part in, a State focal point its country's.
pub(crate) fn sees_project(principal: &Principal, project: &ProjectState) -> bool {
    principal.takes_part_in(project) || principal.may_see_member_state(&project.recipient_country)
}
