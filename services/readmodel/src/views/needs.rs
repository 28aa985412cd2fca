//! Needs: the list (highest priority first, then oldest), the unmet ones, one need with the
//! referrals and projects that serve it, and one need's audit trail.

use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_bus::subjects::log_stream;
use tatrack_contract::answers::{HistoryEntry, NeedDetail, NeedHistory};
use tatrack_domain::Aggregate as _;
use tatrack_domain::need::{Need, NeedState, NeedStatus};
use tatrack_domain::project::{Project, ProjectState};
use tatrack_domain::recommendation::{Recommendation, RecommendationState};
use tatrack_domain::referral::{Referral, ReferralState};

use super::{Answer, Query, to_value};
use crate::{history, visibility};

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

/// `need_history`: the audit trail of one need. Seen exactly when `need_show` would show the
/// need (else the same not found); the events of its recommendations, referrals and projects
/// only where the caller may see those. The history is read from the live projections (a
/// throwaway "as of" fold keeps none) and cut to the answer's point in time: nothing dated
/// after its day, nothing past its known positions.
pub(crate) fn history(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let Some(id) = q.filters.id.as_deref() else {
        return Err(ErrorBody::invalid("id", "is required"));
    };
    let need = q
        .views
        .pick::<NeedState>("assessments", "need", Some(id))?
        .iter()
        .find(|need| q.consent.sees_need(p, need))
        .cloned()
        .ok_or_else(|| ErrorBody::new(ErrorCode::NotFound, format!("need {id} not found")))?;
    let mut streams = vec![("assessments", log_stream(Need::NAME, &need.id))];
    for recommendation_id in &need.recommendation_ids {
        let recommendation = q.views.pick::<RecommendationState>(
            "assessments",
            "recommendation",
            Some(&recommendation_id.to_string()),
        )?;
        streams.extend(
            recommendation
                .iter()
                .filter(|r| {
                    q.consent
                        .sees_assessment(p, &r.member_state, r.assessment_id)
                })
                .map(|r| ("assessments", log_stream(Recommendation::NAME, &r.id))),
        );
    }
    for referral in q
        .views
        .select::<ReferralState>("projects", "referral", |r| {
            r.need_id == need.id && visibility::sees_referral(p, r)
        })?
    {
        streams.push(("projects", log_stream(Referral::NAME, &referral.id)));
    }
    for project in q
        .views
        .select::<ProjectState>("projects", "project", |pr| {
            pr.needs.contains(&need.id) && visibility::sees_project(p, pr)
        })?
    {
        streams.push(("projects", log_stream(Project::NAME, &project.id)));
    }
    // Staff and auditors see who exactly; everyone else the role only (as in `change_list`).
    let whole_principal = p.reads_all();
    let mut entries = Vec::new();
    for (service, stream) in streams {
        let (_, tree, ..) = q.live.entry(service)?;
        let known = q.point.map_or(u64::MAX, |point| {
            point.known.get(service).copied().unwrap_or(0)
        });
        let read = history::read(tree, &stream).map_err(|e| {
            tracing::error!(stream, error = %e, "read model holds an undecodable history");
            ErrorBody::internal()
        })?;
        entries.extend(
            read.into_iter()
                // `day` is the as-of date, or today, after which nothing is dated.
                .filter(|e| e.position <= known && e.on <= q.day)
                .map(|e| HistoryEntry {
                    service: service.to_owned(),
                    position: e.position,
                    stream: stream.clone(),
                    kind: e.kind,
                    on: e.on,
                    recorded_at: e.recorded_at,
                    principal: if whole_principal {
                        e.principal
                    } else {
                        e.principal
                            .split_once(':')
                            .map_or(e.principal.as_str(), |(role, _)| role)
                            .to_owned()
                    },
                }),
        );
    }
    entries.sort_by(|a, b| {
        (a.on, a.recorded_at, &a.service, a.position).cmp(&(
            b.on,
            b.recorded_at,
            &b.service,
            b.position,
        ))
    });
    to_value(NeedHistory {
        need_id: need.id,
        entries,
    })
}
