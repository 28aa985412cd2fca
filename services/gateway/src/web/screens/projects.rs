//! Projects: a donor's portfolio (pledged, committed, disbursed and spent per currency; late
//! milestones; its offers and referrals), the list every other role sees, and one project with
//! its transactions, milestones, results against targets and progress reports, which its
//! partner drafts and submits and a coordinator validates or returns.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, json};
use tatrack_contract::answers::{Portfolio, ProjectView};
use tatrack_contract::bus::View;
use tatrack_domain::Role;
use tatrack_domain::progress::{ProgressReportState, ProgressReportStatus};
use uuid::Uuid;

use super::FormKeys;
use super::overview::{AsOf, with_as_of};
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render, render_with, see_other};

pub(crate) struct ProjectRow {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) country: String,
    pub(crate) status: String,
    pub(crate) budget: String,
    pub(crate) pledged: String,
    pub(crate) committed: String,
    pub(crate) disbursed: String,
    pub(crate) expended: String,
    pub(crate) late: usize,
}

pub(crate) struct PortfolioSummary {
    pub(crate) organisation: String,
    pub(crate) pledged: String,
    pub(crate) committed: String,
    pub(crate) disbursed: String,
    pub(crate) expended: String,
    pub(crate) offers: usize,
    pub(crate) referrals: Vec<PortfolioReferral>,
}

/// A referral of the donor's: the link names the need by the end of its id, since several
/// needs of one country would otherwise read alike.
pub(crate) struct PortfolioReferral {
    pub(crate) need_id: String,
    pub(crate) need_short: String,
    pub(crate) country: String,
    pub(crate) share: String,
    pub(crate) proposed_on: String,
    pub(crate) status: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    chrome: Option<Chrome>,
    as_of: String,
    portfolio: Option<PortfolioSummary>,
    rows: Vec<ProjectRow>,
    page: usize,
    previous: Option<String>,
    next: Option<String>,
}

/// Projects per page of the list.
const PAGE_SIZE: usize = 50;

/// The list's address: the business date and the page (the first page is 1, as shown).
#[derive(serde::Deserialize, Default)]
pub(crate) struct ListQuery {
    as_of: Option<String>,
    page: Option<usize>,
}

fn totals(t: &tatrack_domain::money::Totals) -> String {
    format::totals(t.as_map())
}

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<ListQuery>,
) -> Response {
    let chrome = viewer.chrome("/projects");
    match projects_page(&app, &viewer, &asked).await {
        Ok(mut page) => {
            page.chrome = Some(chrome);
            render(&page)
        }
        Err(p) => error_page(&p, Some(chrome)),
    }
}

async fn projects_page(
    app: &App,
    viewer: &Viewer,
    asked: &ListQuery,
) -> Result<ProjectsPage, Problem> {
    let as_of = AsOf {
        as_of: asked.as_of.clone(),
    }
    .date()?;
    let page = asked.page.unwrap_or(1).max(1);
    // One more than a page, to know whether another follows.
    let mut projects: Vec<ProjectView> = viewer
        .view(
            app,
            View::ProjectList,
            with_as_of(
                json!({"offset": (page - 1) * PAGE_SIZE, "limit": PAGE_SIZE + 1}),
                as_of,
            ),
        )
        .await?;
    let more = projects.len() > PAGE_SIZE;
    projects.truncate(PAGE_SIZE);
    let at_page = |p: usize| match as_of {
        Some(day) => format!("/projects?as_of={day}&page={p}"),
        None => format!("/projects?page={p}"),
    };
    let portfolio = match (&viewer.principal.role, &viewer.principal.organisation) {
        (Role::Donor, Some(organisation)) => {
            let p: Portfolio = viewer
                .view(
                    app,
                    View::PortfolioShow,
                    with_as_of(json!({"organisation": organisation}), as_of),
                )
                .await?;
            Some(PortfolioSummary {
                organisation: p.organisation.clone(),
                pledged: format::totals(&p.money.pledged),
                committed: format::totals(&p.money.committed),
                disbursed: format::totals(&p.money.disbursed),
                expended: format::totals(&p.money.expended),
                offers: p.offers.len(),
                referrals: p
                    .referrals
                    .iter()
                    .map(|r| PortfolioReferral {
                        need_id: r.need_id.to_string(),
                        // The random end of the id: a v7 id begins with its time, alike for needs made together.
                        need_short: r.need_id.simple().to_string()[24..].to_owned(),
                        country: format::country(&r.member_state),
                        share: [
                            r.share_money.as_ref().map(format::money),
                            r.share_units
                                .map(|u| format!("{} units", format::grouped(u))),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", "),
                        proposed_on: format::date(r.proposed_on),
                        status: format::status(r.status),
                    })
                    .collect(),
            })
        }
        _ => None,
    };
    Ok(ProjectsPage {
        chrome: None,
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        page,
        previous: (page > 1).then(|| at_page(page - 1)),
        next: more.then(|| at_page(page + 1)),
        portfolio,
        rows: projects
            .iter()
            .map(|p| ProjectRow {
                id: p.state.id.to_string(),
                title: p.state.title.clone(),
                country: format::country(&p.state.recipient_country),
                status: activity_status(p.state.status.map(|s| s.to_string()).as_deref()),
                budget: p.state.budget.as_ref().map_or("—".into(), format::money),
                pledged: totals(&p.state.pledged),
                committed: totals(&p.state.committed),
                disbursed: totals(&p.state.disbursed),
                expended: totals(&p.state.expended),
                late: p.late_milestones.len(),
            })
            .collect(),
    })
}

/// IATI OrganisationRole in words.
fn organisation_role(code: &str) -> String {
    match code {
        "1" => "funding".to_owned(),
        "2" => "accountable".to_owned(),
        "3" => "extending".to_owned(),
        "4" => "implementing".to_owned(),
        other => format!("role {other}"),
    }
}

/// IATI ActivityStatus in words.
fn activity_status(code: Option<&str>) -> String {
    match code {
        Some("1") => "pipeline",
        Some("2") => "implementation",
        Some("3") => "finalisation",
        Some("4") => "closed",
        Some("5") => "cancelled",
        Some("6") => "suspended",
        _ => "—",
    }
    .to_owned()
}

pub(crate) struct ReportRow {
    pub(crate) id: String,
    pub(crate) period: String,
    pub(crate) status: String,
    pub(crate) narrative: String,
    pub(crate) returned_reason: String,
    pub(crate) moves: Vec<(&'static str, &'static str, bool)>,
    /// The report's version as shown, sent back with a move (a stale move is refused).
    pub(crate) version: Option<u64>,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Option<Chrome>,
    id: String,
    title: String,
    description: String,
    facts: Vec<(&'static str, String)>,
    money: Vec<(&'static str, String)>,
    transactions: Vec<(String, String, String, String)>,
    milestones: Vec<(String, String, String, bool)>,
    results: Vec<(String, String, String, String, String)>,
    reports: Vec<ReportRow>,
    may_draft: bool,
    keys: FormKeys,
    problem: Option<Problem>,
    typed: FormData,
}

impl ProjectPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }
}

/// The moves a role makes on a progress report in a status (action, label, reason required).
fn report_moves(
    role: Role,
    status: Option<ProgressReportStatus>,
) -> Vec<(&'static str, &'static str, bool)> {
    use ProgressReportStatus as S;
    match (role, status) {
        (Role::Donor, Some(S::Draft | S::Returned)) => vec![("submit", "Submit", false)],
        (Role::Coordinator | Role::Admin, Some(S::Submitted)) => vec![
            ("validate", "Validate", false),
            ("return", "Return to the partner", true),
        ],
        _ => Vec::new(),
    }
}

pub(crate) async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    project_response(&app, &viewer, &id, None).await
}

async fn project_response(
    app: &App,
    viewer: &Viewer,
    id: &str,
    refused: Option<(Problem, FormData)>,
) -> Response {
    let chrome = viewer.chrome("/projects");
    let id = match id.parse::<Uuid>() {
        Ok(id) => id,
        Err(_) => return error_page(&Problem::invalid("id", "must be a UUID"), Some(chrome)),
    };
    match project_page(app, viewer, id).await {
        Ok(mut page) => {
            page.chrome = Some(chrome);
            let status = match refused {
                Some((problem, typed)) => {
                    let status = problem.status;
                    page.problem = Some(problem);
                    page.typed = typed;
                    status
                }
                None => StatusCode::OK,
            };
            render_with(status, &page)
        }
        Err(p) => error_page(&p, Some(chrome)),
    }
}

async fn project_page(app: &App, viewer: &Viewer, id: Uuid) -> Result<ProjectPage, Problem> {
    // The same "not found" as the API for a project the caller may not see.
    let project: ProjectView = viewer
        .view(app, View::ProjectShow, json!({"id": id}))
        .await?;
    let reports: Vec<ProgressReportState> = viewer
        .view(app, View::ProgressReportList, json!({"project_id": id}))
        .await?;
    let versions = viewer
        .versions(
            app,
            reports
                .iter()
                .map(|r| tatrack_bus::subjects::log_stream("progress_report", &r.id)),
        )
        .await;
    let p = &project.state;
    let role = viewer.principal.role;
    let may_draft = role == Role::Donor
        && viewer
            .principal
            .organisation
            .as_deref()
            .is_some_and(|o| p.participating.iter().any(|x| x.organisation == o));
    let late: Vec<Uuid> = project
        .late_milestones
        .iter()
        .map(|m| m.milestone_id)
        .collect();
    Ok(ProjectPage {
        chrome: None,
        id: p.id.to_string(),
        title: p.title.clone(),
        description: p.description.clone(),
        facts: vec![
            ("IATI identifier", p.iati_identifier.clone()),
            ("Country", format::country(&p.recipient_country)),
            ("Theme", format::theme(&p.theme)),
            (
                "Status",
                activity_status(p.status.map(|s| s.to_string()).as_deref()),
            ),
            (
                "Planned",
                format!(
                    "{} to {}",
                    format::date(p.planned_start),
                    format::date(p.planned_end)
                ),
            ),
            (
                "Organisations",
                p.participating
                    .iter()
                    .map(|x| format!("{} ({})", x.organisation, organisation_role(&x.role)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ],
        money: vec![
            (
                "Budget",
                p.budget.as_ref().map_or("—".into(), format::money),
            ),
            ("Pledged", totals(&p.pledged)),
            ("Committed", totals(&p.committed)),
            ("Disbursed", totals(&p.disbursed)),
            ("Spent", totals(&p.expended)),
        ],
        transactions: p
            .transactions
            .iter()
            .map(|t| {
                (
                    t.date.to_string(),
                    format::words(&t.kind.to_string()),
                    format::money(&t.value),
                    format!(
                        "{} → {}",
                        t.provider.as_deref().unwrap_or("—"),
                        t.receiver.as_deref().unwrap_or("—")
                    ),
                )
            })
            .collect(),
        milestones: p
            .milestones
            .iter()
            .map(|m| {
                (
                    m.title.clone(),
                    m.due.to_string(),
                    format::date(m.done_on),
                    late.contains(&m.milestone_id),
                )
            })
            .collect(),
        results: p
            .results
            .iter()
            .flat_map(|r| {
                r.indicators.iter().map(move |i| {
                    (
                        r.title.clone(),
                        i.def.title.clone(),
                        i.def.baseline.map_or("—".to_owned(), |b| b.to_string()),
                        i.def.target.to_string(),
                        i.actuals
                            .last()
                            .map_or("—".to_owned(), |a| format!("{} on {}", a.value, a.on)),
                    )
                })
            })
            .collect(),
        reports: reports
            .iter()
            .map(|r| ReportRow {
                id: r.id.to_string(),
                period: format!(
                    "{} to {}",
                    format::date(r.period_start),
                    format::date(r.period_end)
                ),
                status: format::status(r.status),
                narrative: r.narrative.clone(),
                returned_reason: r.returned_reason.clone().unwrap_or_default(),
                moves: report_moves(role, r.status),
                version: versions
                    .get(&tatrack_bus::subjects::log_stream("progress_report", &r.id))
                    .copied(),
            })
            .collect(),
        may_draft,
        keys: FormKeys::new(&viewer.session.csrf),
        problem: None,
        typed: FormData::default(),
    })
}

/// A partner drafts a progress report for a period (no indicator actuals from this form: the
/// API takes them).
pub(crate) async fn draft_progress(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> Response {
    let mut command = Map::new();
    command.insert("project_id".into(), json!(id));
    for field in ["period_start", "period_end", "narrative"] {
        if let Some(value) = form.get(field) {
            command.insert(field.into(), json!(value));
        }
    }
    command.insert("actuals".into(), json!([]));
    match viewer
        .submit(&app, "draft_progress_report", Vec::new(), command, &form)
        .await
    {
        Ok(_) => see_other(&format!("/projects/{id}")),
        Err(p) if p.status.is_client_error() => {
            project_response(&app, &viewer, &id, Some((p, form))).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/projects"))),
    }
}

/// Submit, validate or return a progress report; back to its project's page.
pub(crate) async fn move_progress(
    State(app): State<App>,
    Path((id, action)): Path<(String, String)>,
    Posted { viewer, form }: Posted,
) -> Response {
    let operation = match action.as_str() {
        "submit" => "submit_progress_report",
        "validate" => "validate_progress_report",
        "return" => "return_progress_report",
        _ => {
            return error_page(
                &Problem::not_found(format!("no action {action}")),
                Some(viewer.chrome("/projects")),
            );
        }
    };
    let project = form.get("project_id").unwrap_or_default().to_owned();
    let mut command = Map::new();
    if let Some(reason) = form.get("reason") {
        command.insert("reason".into(), json!(reason));
    }
    match viewer
        .submit(&app, operation, vec![("id".into(), id)], command, &form)
        .await
    {
        Ok(_) => see_other(&format!("/projects/{project}")),
        Err(p) if p.status.is_client_error() => {
            project_response(&app, &viewer, &project, Some((p, form))).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/projects"))),
    }
}
