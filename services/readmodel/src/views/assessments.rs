//! Assessments with their two clocks, recommendations (text redacted where the caller may not
//! read it) and the implementation rate of recommendations per State and theme.

use std::collections::BTreeMap;

use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::{AssessmentView, RateRow};
use tatrack_domain::assessment::{AssessmentState, clocks};
use tatrack_domain::recommendation::RecommendationState;

use super::{Answer, Query, to_value};

/// `assessment_list`, `assessment_show`: what the caller may see, with the clocks as of the day.
pub(crate) fn assessments(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let mut out = Vec::new();
    for state in q
        .pick::<AssessmentState>("assessments", "assessment")?
        .iter()
    {
        if q.consent.sees_assessment(p, &state.member_state, state.id)
            && q.id_ok(&state.id)
            && q.state_ok(&state.member_state)
            && q.status_ok(state.status)
        {
            let clocks = clocks(state, q.day);
            out.push(AssessmentView {
                state: state.clone(),
                clocks,
            });
        }
    }
    q.one_or_all(out)
}

/// `recommendation_list`: a State's own, and a report's shared with the caller's organisation.
pub(crate) fn recommendations(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    let mut out = Vec::new();
    for state in q
        .views
        .scan::<RecommendationState>("assessments", "recommendation")?
        .iter()
    {
        let shared = || {
            q.consent
                .shared_report(p, &state.member_state, state.assessment_id)
        };
        if (p.may_see_member_state(&state.member_state) || shared())
            && f.assessment_id.is_none_or(|id| id == state.assessment_id)
            && q.state_ok(&state.member_state)
            && f.theme.as_ref().is_none_or(|t| *t == state.theme)
            && q.status_ok(state.status)
        {
            let mut state = state.clone();
            if !p.may_read_confidential(&state.member_state) && !shared() {
                state.text = "[confidential]".to_owned();
            }
            out.push(state);
        }
    }
    to_value(q.page(out))
}

/// `recommendation_rate_list`: implementation rate per State and theme (implemented counts 1,
/// partially 1/2).
pub(crate) fn rates(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    let mut rows: BTreeMap<(String, String), RateRow> = BTreeMap::new();
    for r in q
        .views
        .scan::<RecommendationState>("assessments", "recommendation")?
        .iter()
    {
        if !p.may_see_member_state(&r.member_state) || !q.state_ok(&r.member_state) {
            continue;
        }
        if f.theme.as_ref().is_some_and(|t| *t != r.theme) {
            continue;
        }
        let row = rows
            .entry((r.member_state.clone(), r.theme.clone()))
            .or_insert_with(|| RateRow {
                member_state: r.member_state.clone(),
                theme: r.theme.clone(),
                ..RateRow::default()
            });
        row.recommendations += 1;
        match r.status.map(|s| s.to_string()).as_deref() {
            Some("implemented") => row.implemented += 1,
            Some("partially_implemented") => row.partially_implemented += 1,
            Some("not_implemented") => row.not_implemented += 1,
            Some("superseded") => row.superseded += 1,
            _ => row.open += 1,
        }
    }
    let out: Vec<RateRow> = rows
        .into_values()
        .map(|mut row| {
            let counted = row.recommendations - row.superseded;
            row.implementation_rate_percent = (counted > 0)
                .then(|| (200 * row.implemented + 100 * row.partially_implemented) / (2 * counted));
            row
        })
        .collect();
    to_value(q.page(out))
}
