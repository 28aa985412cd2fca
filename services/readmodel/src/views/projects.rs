//! Referrals, projects with their late milestones, progress reports and the exchange-rate tables.

use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::ProjectView;
use tatrack_domain::progress::ProgressReportState;
use tatrack_domain::project::{ProjectState, late_milestones};
use tatrack_domain::rates::RateTableState;
use tatrack_domain::referral::ReferralState;
use uuid::Uuid;

use super::{Answer, Query, to_value};
use crate::visibility;

/// `referral_list`, `referral_show`: a donor those made to its organisation, a State focal
/// point its country's.
pub(crate) fn referrals(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    let out: Vec<ReferralState> = q
        .pick::<ReferralState>("projects", "referral")?
        .iter()
        .filter(|r| {
            visibility::sees_referral(p, r)
                && q.id_ok(&r.id)
                && f.need_id.is_none_or(|id| id == r.need_id)
                && f.offer_id.is_none_or(|id| id == r.offer_id)
                && f.organisation.as_ref().is_none_or(|o| *o == r.organisation)
                && q.state_ok(&r.member_state)
                && q.status_ok(r.status)
        })
        .cloned()
        .collect();
    q.one_or_all(out)
}

/// `project_list`, `project_show`: with the milestones late on the day.
pub(crate) fn projects(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    let mut out = Vec::new();
    for state in q.pick::<ProjectState>("projects", "project")?.iter() {
        if visibility::sees_project(p, state)
            && q.id_ok(&state.id)
            && q.state_ok(&state.recipient_country)
            && f.theme.as_ref().is_none_or(|t| *t == state.theme)
            && f.organisation
                .as_ref()
                .is_none_or(|o| state.participating.iter().any(|x| x.organisation == *o))
            && f.need_id.is_none_or(|id| state.needs.contains(&id))
            && q.status_ok(state.status.map(|s| s.as_str().to_owned()))
        {
            let late_milestones = late_milestones(state, q.day).into_iter().cloned().collect();
            out.push(ProjectView {
                state: state.clone(),
                late_milestones,
            });
        }
    }
    q.one_or_all(out)
}

/// `progress_report_list`: the reports on the projects the caller may see.
pub(crate) fn progress_reports(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    let projects = q.views.scan::<ProjectState>("projects", "project")?;
    let visible = |project_id: Uuid| {
        projects
            .iter()
            .any(|pr| pr.id == project_id && visibility::sees_project(p, pr))
    };
    let out: Vec<ProgressReportState> = q
        .views
        .scan::<ProgressReportState>("projects", "progress_report")?
        .iter()
        .filter(|r| {
            visible(r.project_id)
                && q.id_ok(&r.id)
                && f.project_id.is_none_or(|id| id == r.project_id)
                && q.status_ok(r.status)
        })
        .cloned()
        .collect();
    to_value(q.page(out))
}

/// `rate_table_show`: every rate table recorded, by date (the one table, if recorded).
pub(crate) fn rate_tables(q: &Query) -> Result<Answer, ErrorBody> {
    let tables = q.views.scan::<RateTableState>("projects", "rate_table")?;
    to_value(tables.iter().collect::<Vec<_>>())
}
