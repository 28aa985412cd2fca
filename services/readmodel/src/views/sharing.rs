//! A State's consents: each grant, and for one no longer in force, who keeps seeing its needs
//! through running work (consent runs with the work) and why.

use std::collections::BTreeMap;

use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::{GrantView, KeptBy};
use tatrack_domain::need::NeedState;
use tatrack_domain::project::ProjectState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::sharing::SharingGrantState;
use uuid::Uuid;

use super::{Answer, Query, to_value};
use crate::cache::Views;

/// `sharing_grant_list`: staff, auditors and the State concerned; never donors.
pub(crate) fn grants(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    // A grant no longer in force says who still sees its needs through running work
    // (consent runs with the work), from the live referrals and projects.
    let mut work = None;
    let mut out = Vec::new();
    for g in q
        .views
        .scan::<SharingGrantState>("assessments", "sharing_grant")?
        .iter()
        .filter(|g| {
            p.may_see_member_state(&g.member_state) && q.state_ok(&g.member_state) && q.id_ok(&g.id)
        })
    {
        let kept_by = if tatrack_domain::sharing::is_active(g, q.today) {
            Vec::new()
        } else {
            if work.is_none() {
                work = Some(kept_by_work(q.live)?);
            }
            kept_through_work(g, work.as_ref().unwrap_or(&BTreeMap::new()))
        };
        out.push(GrantView {
            state: g.clone(),
            kept_by,
        });
    }
    to_value(q.page(out))
}

/// Need -> member state -> organisation -> why, from the live referrals, projects and needs.
type Work = BTreeMap<Uuid, (String, BTreeMap<String, String>)>;

fn kept_by_work(live: &Views) -> Result<Work, ErrorBody> {
    let referrals = live.scan::<ReferralState>("projects", "referral")?.to_vec();
    let projects = live.scan::<ProjectState>("projects", "project")?.to_vec();
    let needs = live.scan::<NeedState>("assessments", "need")?;
    let states: BTreeMap<Uuid, String> = needs
        .iter()
        .map(|n| (n.id, n.member_state.clone()))
        .collect();
    Ok(tatrack_domain::sharing::kept_by_work(&referrals, &projects)
        .into_iter()
        .filter_map(|(need, orgs)| states.get(&need).map(|s| (need, (s.clone(), orgs))))
        .collect())
}

/// Who keeps seeing the needs `grant` covered: organisations of its audience doing work that
/// serves one of them.
fn kept_through_work(grant: &SharingGrantState, work: &Work) -> Vec<KeptBy> {
    use tatrack_domain::sharing::{Audience, Scope};
    let mut out = Vec::new();
    for (need, (member_state, orgs)) in work {
        let covered = *member_state == grant.member_state
            && match &grant.scope {
                Some(Scope::Need { need_id }) => need_id == need,
                Some(Scope::AllNeeds) => true,
                _ => false,
            };
        if !covered {
            continue;
        }
        for (organisation, because) in orgs {
            let in_audience = match &grant.audience {
                Some(Audience::AllDonors) => true,
                Some(Audience::Organisations { ids }) => ids.contains(organisation),
                None => false,
            };
            if in_audience {
                out.push(KeptBy {
                    need_id: *need,
                    organisation: organisation.clone(),
                    because: because.clone(),
                });
            }
        }
    }
    out
}
