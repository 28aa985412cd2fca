//! Needs: the list (highest priority first, then oldest), the unmet ones, and one need with the
//! referrals and projects that serve it.

use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::NeedDetail;
use tatrack_domain::need::{NeedState, NeedStatus};
use tatrack_domain::project::ProjectState;
use tatrack_domain::referral::ReferralState;

use super::{Answer, Query, to_value};
use crate::visibility;

/// `need_list`, `unmet_need_list`, `need_show`: what the caller may see, filtered.
pub(crate) fn needs(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    let unmet_only = q.verb == "unmet_need_list";
    let words: Vec<String> = f
        .text
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    // The list is kept ordered: highest priority first (1 is high), then oldest first
    // (UUID v7 ids sort by time), so a page stops as soon as it is full.
    let needs = if q.verb == "need_show" {
        q.pick::<NeedState>("assessments", "need")?
    } else {
        q.views
            .scan_ordered::<NeedState>("assessments", "need", "priority", |a, b| {
                (a.priority, a.id).cmp(&(b.priority, b.id))
            })?
    };
    let matches = |state: &&NeedState| {
        q.consent.sees_need(p, state)
            && q.id_ok(&state.id)
            && q.state_ok(&state.member_state)
            && f.theme.as_ref().is_none_or(|t| *t == state.theme)
            && f.priority.is_none_or(|pr| pr == state.priority)
            && q.status_ok(state.status)
            && (!unmet_only || is_unmet(state))
            && f.region.as_ref().is_none_or(|r| {
                tatrack_domain::codes::regions_of(&state.member_state).contains(&r.as_str())
            })
            && f.consent.as_deref().is_none_or(|c| match c {
                "shared" => q.consent.is_shared(state),
                "not_shared" => !q.consent.is_shared(state),
                organisation => q.consent.is_shared_with(state, organisation),
            })
            && (words.is_empty() || {
                let haystack = format!("{} {}", state.description, state.beneficiary_institution)
                    .to_lowercase();
                words.iter().all(|w| haystack.contains(w.as_str()))
            })
    };
    let mut out: Vec<NeedState> = if q.verb == "need_show" {
        needs.iter().filter(matches).cloned().collect()
    } else {
        q.page_of(needs.iter().filter(matches))
    };
    if q.verb == "need_show" {
        // The detail: the need with its referral history and the projects serving it.
        let Some(need) = out.pop().filter(|_| f.id.is_some()) else {
            return q.one_or_all(Vec::<NeedState>::new());
        };
        let referrals = q
            .views
            .select::<ReferralState>("projects", "referral", |r| {
                r.need_id == need.id && visibility::sees_referral(p, r)
            })?;
        let projects = q
            .views
            .select::<ProjectState>("projects", "project", |pr| {
                pr.needs.contains(&need.id) && visibility::sees_project(p, pr)
            })?;
        return to_value(NeedDetail {
            need,
            referrals,
            projects,
        });
    }
    to_value(out)
}

/// Not yet met, withdrawn or declined, and not fully covered.
fn is_unmet(need: &NeedState) -> bool {
    matches!(
        need.status,
        Some(NeedStatus::Identified | NeedStatus::AgreedWithState | NeedStatus::PartiallyCovered)
    )
}
