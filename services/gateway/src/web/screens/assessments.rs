//! Assessments: the list with each assessment's two clocks (30 days for the State's observations
//! on the draft, 6 months for its response after adoption), one assessment with its
//! recommendations, and the forms that plan an assessment and move it along its lifecycle (staff
//! for every move; a State's focal point for its own State's observations and response).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_contract::answers::AssessmentView;
use tatrack_contract::bus::View;
use tatrack_domain::Principal;
use tatrack_domain::assessment::{AssessmentState, AssessmentStatus, Clocks};
use tatrack_domain::recommendation::RecommendationState;
use uuid::Uuid;

use super::FormKeys;
use super::needs::Choice;
use super::overview::with_as_of;
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render_with, see_other};

/// Options of a select, the one matching `selected` marked.
pub(super) fn options(
    items: impl IntoIterator<Item = (String, String)>,
    selected: &str,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// The countries a form may name (withdrawn codes are not offered).
pub(super) fn country_options(selected: &str) -> Vec<Choice> {
    options(
        tatrack_domain::codes::countries()
            .iter()
            .filter(|c| !c.withdrawn)
            .map(|c| (c.code.clone(), c.name.clone())),
        selected,
    )
}

/// One clock as people read it: its due day and where it stands on the page's day.
pub(crate) struct Clock {
    pub(crate) due: String,
    pub(crate) state: String,
    pub(crate) overdue: bool,
}

impl Clock {
    /// `stopped_on`: the day the awaited step came (the clock no longer runs).
    fn new(due: Option<Date>, overdue: bool, stopped_on: Option<Date>, today: Date) -> Self {
        let Some(due) = due else {
            return Self {
                due: "—".into(),
                state: "not started".into(),
                overdue: false,
            };
        };
        let state = if let Some(on) = stopped_on {
            format!("stopped on {on}")
        } else {
            let days = (due - today).get_days();
            if overdue || days < 0 {
                format!("overdue by {} days", -days)
            } else if days == 0 {
                "due today".into()
            } else {
                format!("{days} days left")
            }
        };
        Self {
            due: due.to_string(),
            state,
            overdue: overdue && stopped_on.is_none(),
        }
    }
}

/// The two clocks of an assessment on `today` (the observations clock also stops when the
/// report is adopted without observations).
fn two_clocks(s: &AssessmentState, c: &Clocks, today: Date) -> (Clock, Clock) {
    (
        Clock::new(
            c.observations_due,
            c.observations_overdue,
            s.observations_on.or(s.adopted_on),
            today,
        ),
        Clock::new(c.response_due, c.response_overdue, s.response_on, today),
    )
}

pub(crate) struct AssessmentRow {
    pub(crate) id: String,
    pub(crate) country: String,
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) status: String,
    pub(crate) visit: String,
    /// The latest step and its day.
    pub(crate) latest: String,
    pub(crate) observations: Clock,
    pub(crate) response: Clock,
}

fn row(a: &AssessmentView, today: Date) -> AssessmentRow {
    let s = &a.state;
    let (observations, response) = two_clocks(s, &a.clocks, today);
    AssessmentRow {
        id: s.id.to_string(),
        country: format::country(&s.member_state),
        kind: format::status(s.kind),
        title: s.title.clone(),
        status: format::status(s.status),
        visit: format!(
            "{} to {}",
            format::date(s.visit_start),
            format::date(s.visit_end)
        ),
        latest: timeline(s)
            .last()
            .map_or_else(|| "—".to_owned(), |(label, on)| format!("{label} {on}")),
        observations,
        response,
    }
}

/// The steps an assessment has taken, with their days, in lifecycle order.
fn timeline(s: &AssessmentState) -> Vec<(&'static str, String)> {
    [
        ("Planned", s.planned_on),
        ("Conducted", s.conducted_on),
        ("Draft sent to the State", s.draft_sent_on),
        ("Observations received", s.observations_on),
        ("Adopted", s.adopted_on),
        ("Response received", s.response_on),
        ("Closed", s.closed_on),
        ("Cancelled", s.cancelled_on),
    ]
    .into_iter()
    .filter_map(|(label, on)| on.map(|d| (label, d.to_string())))
    .collect()
}

/// The list's filters and point in time, as the URL carries them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    member_state: String,
    #[serde(default)]
    status: String,
    /// Read-your-writes after a form: the assessments position the list must include.
    #[serde(default)]
    min_position: Option<u64>,
}

#[derive(Template)]
#[template(path = "assessments.html")]
struct AssessmentsPage {
    chrome: Option<Chrome>,
    as_of: String,
    countries: Vec<Choice>,
    statuses: Vec<Choice>,
    rows: Vec<AssessmentRow>,
    may_plan: bool,
    kinds: Vec<Choice>,
    classifications: Vec<Choice>,
    plan_countries: Vec<Choice>,
    keys: FormKeys,
    problem: Option<Problem>,
    typed: FormData,
    /// A bad filter, named under the filters (the list is then empty).
    filter_problem: Option<Problem>,
}

impl AssessmentsPage {
    /// Whether the bad filter is `field`.
    fn filter_names(&self, field: &str) -> bool {
        self.filter_problem
            .as_ref()
            .is_some_and(|p| p.field.as_deref() == Some(field))
    }

    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }
}

const STATUSES: [&str; 7] = [
    "planned",
    "conducted",
    "draft_sent_to_state",
    "adopted",
    "response_received",
    "closed",
    "cancelled",
];

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<ListQuery>,
) -> Response {
    list_response(&app, &viewer, &asked, None).await
}

async fn list_response(
    app: &App,
    viewer: &Viewer,
    asked: &ListQuery,
    refused: Option<(Problem, FormData)>,
) -> Response {
    let chrome = viewer.chrome("/assessments");
    // A bad filter is named under the filters, with the list empty; anything else is an error
    // page.
    let mut filter_problem = None;
    let as_of = match (super::overview::AsOf {
        as_of: Some(asked.as_of.clone()),
    })
    .date()
    {
        Ok(d) => d,
        Err(p) => {
            filter_problem = Some(p);
            None
        }
    };
    let mut params = Map::new();
    for (name, value) in [
        ("member_state", asked.member_state.trim()),
        ("status", asked.status.trim()),
    ] {
        if !value.is_empty() {
            params.insert(name.into(), json!(value));
        }
    }
    if let Some(position) = asked.min_position {
        params.insert("min_position".into(), json!(position));
    }
    let assessments: Vec<AssessmentView> = if filter_problem.is_some() {
        Vec::new()
    } else {
        match viewer
            .view(
                app,
                View::AssessmentList,
                with_as_of(Value::Object(params), as_of),
            )
            .await
        {
            Ok(list) => list,
            Err(p) if p.field.is_some() && p.status.is_client_error() => {
                filter_problem = Some(p);
                Vec::new()
            }
            Err(p) => return error_page(&p, Some(chrome)),
        }
    };
    let today = as_of.unwrap_or_else(|| app.today());
    let (status, problem, typed) = match refused {
        Some((p, typed)) => (p.status, Some(p), typed),
        None => (
            filter_problem.as_ref().map_or(StatusCode::OK, |p| p.status),
            None,
            FormData::default(),
        ),
    };
    let page = AssessmentsPage {
        chrome: Some(chrome),
        filter_problem,
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        countries: country_options(asked.member_state.trim()),
        statuses: options(
            STATUSES.map(|s| (s.to_owned(), format::words(s))),
            asked.status.trim(),
        ),
        rows: assessments.iter().map(|a| row(a, today)).collect(),
        may_plan: viewer.principal.is_staff(),
        kinds: options(
            [
                "comprehensive_visit",
                "focused_visit",
                "follow_up_visit",
                "desk_review",
            ]
            .map(|s| (s.to_owned(), format::words(s))),
            &typed.raw("kind"),
        ),
        classifications: options(
            ["public", "restricted", "confidential"].map(|s| (s.to_owned(), s.to_owned())),
            &typed.raw("classification"),
        ),
        plan_countries: country_options(&typed.raw("member_state")),
        keys: FormKeys::new(&viewer.session.csrf),
        problem,
        typed,
    };
    render_with(status, &page)
}

/// Resolutions as typed ("1373, 2178"): numbers, checked here since a form has no JSON array.
fn resolutions(typed: Option<&str>) -> Result<Vec<u32>, Problem> {
    typed
        .unwrap_or_default()
        .split([',', ' ', ';'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<u32>().map_err(|_| {
                Problem::invalid(
                    "resolutions",
                    format!("{s:?} is not a resolution number (e.g. 1373, 2178)"),
                )
            })
        })
        .collect()
}

/// Staff plan an assessment; on success, its page.
pub(crate) async fn plan(State(app): State<App>, Posted { viewer, form }: Posted) -> Response {
    let mut command = Map::new();
    for field in [
        "member_state",
        "kind",
        "title",
        "visit_start",
        "visit_end",
        "classification",
    ] {
        if let Some(value) = form.get(field) {
            command.insert(field.into(), json!(value));
        }
    }
    let answer = match resolutions(form.get("resolutions")) {
        Ok(numbers) => {
            command.insert("resolutions".into(), json!(numbers));
            viewer
                .submit(&app, "plan_assessment", Vec::new(), command, &form)
                .await
        }
        Err(p) => Err(p),
    };
    match answer {
        Ok(reply) => see_other(&after(&reply, "/assessments")),
        Err(p) if p.status.is_client_error() => {
            list_response(&app, &viewer, &ListQuery::default(), Some((p, form))).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/assessments"))),
    }
}

/// Where to go after a command: the assessment's page (or `fallback`), asking the read model to
/// include what was just recorded.
fn after(reply: &Value, fallback: &str) -> String {
    let path = reply
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| fallback.to_owned(), |id| format!("/assessments/{id}"));
    match reply.get("last_position").and_then(Value::as_u64) {
        Some(p) if p > 0 => format!("{path}?min_position={p}"),
        _ => path,
    }
}

/// A move on an assessment: (action in the path, operation, label, takes a reason).
type MoveSpec = (&'static str, &'static str, &'static str, bool);

const CONDUCT: MoveSpec = ("conduct", "conduct_assessment", "Mark conducted", true);
const SEND_DRAFT: MoveSpec = (
    "send-draft",
    "send_assessment_draft",
    "Send the draft to the State",
    true,
);
const OBSERVATIONS: MoveSpec = (
    "observations",
    "record_assessment_observations",
    "Record the State's observations",
    false,
);
const ADOPT: MoveSpec = ("adopt", "adopt_assessment", "Adopt", true);
const RESPONSE: MoveSpec = (
    "response",
    "record_assessment_response",
    "Record the State's response",
    true,
);
const CLOSE: MoveSpec = ("close", "close_assessment", "Close", true);
const CANCEL: MoveSpec = ("cancel", "cancel_assessment", "Cancel", true);
const MOVES: [MoveSpec; 7] = [
    CONDUCT,
    SEND_DRAFT,
    OBSERVATIONS,
    ADOPT,
    RESPONSE,
    CLOSE,
    CANCEL,
];

/// The moves this person may make on an assessment as it stands (the assessments service's
/// rules: staff move everything; a focal point records its own State's observations and
/// response; donors and auditors nothing).
fn moves(principal: &Principal, s: &AssessmentState) -> Vec<MoveSpec> {
    use AssessmentStatus as S;
    let staff = principal.is_staff();
    let state = staff || principal.acts_for_state(&s.member_state);
    let mut out = Vec::new();
    match s.status {
        Some(S::Planned) if staff => out.extend([CONDUCT, CANCEL]),
        Some(S::Conducted) if staff => out.push(SEND_DRAFT),
        Some(S::DraftSentToState) => {
            if state && s.observations_on.is_none() {
                out.push(OBSERVATIONS);
            }
            if staff {
                out.push(ADOPT);
            }
        }
        Some(S::Adopted) if state => out.push(RESPONSE),
        Some(S::ResponseReceived) if staff => out.push(CLOSE),
        _ => {}
    }
    out
}

pub(crate) struct MoveForm {
    pub(crate) action: &'static str,
    pub(crate) label: &'static str,
    pub(crate) reason: bool,
    /// Its own idempotency key: two moves from one page are two commands.
    pub(crate) form_key: String,
}

pub(crate) struct RecommendationRow {
    pub(crate) theme: String,
    pub(crate) priority: u8,
    pub(crate) status: String,
    pub(crate) text: String,
    pub(crate) redacted: bool,
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    chrome: Option<Chrome>,
    id: String,
    title: String,
    facts: Vec<(&'static str, String)>,
    observations: Clock,
    response: Clock,
    timeline: Vec<(&'static str, String)>,
    recommendations: Vec<RecommendationRow>,
    moves: Vec<MoveForm>,
    /// The business date shown (empty: today), for the as-of picker.
    as_of: String,
    keys: FormKeys,
    problem: Option<Problem>,
    typed: FormData,
    /// The assessment's version as shown, sent back by its moves (a stale move is refused).
    version: Option<u64>,
}

impl AssessmentPage {
    /// The problem's message when it is about `field` of the form of `action`.
    fn error_for(&self, action: &str, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|_| self.typed.get("action") == Some(action))
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }

    /// What the person typed in the form of `action` (only that form is refilled).
    fn typed_in(&self, action: &str, field: &str) -> String {
        if self.typed.get("action") == Some(action) {
            self.typed.raw(field)
        } else {
            String::new()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    min_position: Option<u64>,
    /// The business date to show the assessment as of (empty: today).
    #[serde(default)]
    as_of: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(asked): Query<ShowQuery>,
) -> Response {
    let as_of = match (super::overview::AsOf {
        as_of: asked.as_of.clone(),
    })
    .date()
    {
        Ok(day) => day,
        Err(p) => return error_page(&p, Some(viewer.chrome("/assessments"))),
    };
    show_response(&app, &viewer, &id, asked.min_position, as_of, None).await
}

async fn show_response(
    app: &App,
    viewer: &Viewer,
    id: &str,
    min_position: Option<u64>,
    as_of: Option<Date>,
    refused: Option<(Problem, FormData)>,
) -> Response {
    let chrome = viewer.chrome("/assessments");
    let Ok(id) = id.parse::<Uuid>() else {
        return error_page(&Problem::invalid("id", "must be a UUID"), Some(chrome));
    };
    let mut params = with_as_of(json!({"id": id}), as_of);
    if let Some(p) = min_position {
        params["min_position"] = json!(p);
    }
    // The same "not found" as the API for an assessment the person may not see.
    let a: AssessmentView = match viewer.view(app, View::AssessmentShow, params).await {
        Ok(a) => a,
        Err(p) => return error_page(&p, Some(chrome)),
    };
    // Recommendations as the view gives them to this person (text redacted where it may not
    // be read); a role the view refuses them to sees none rather than no assessment.
    let recommendations: Vec<RecommendationState> = viewer
        .view(
            app,
            View::RecommendationList,
            with_as_of(json!({"assessment_id": id}), as_of),
        )
        .await
        .unwrap_or_default();
    let s = &a.state;
    let version = viewer
        .version(app, &tatrack_bus::subjects::log_stream("assessment", &s.id))
        .await;
    let (observations, response) = two_clocks(s, &a.clocks, as_of.unwrap_or_else(|| app.today()));
    let (status, problem, typed) = match refused {
        Some((p, typed)) => (p.status, Some(p), typed),
        None => (StatusCode::OK, None, FormData::default()),
    };
    let page = AssessmentPage {
        chrome: Some(chrome),
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        version,
        id: s.id.to_string(),
        title: s.title.clone(),
        facts: vec![
            ("Country", format::country(&s.member_state)),
            ("Kind", format::status(s.kind)),
            ("Status", format::status(s.status)),
            (
                "Resolutions",
                s.resolutions
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Visit",
                format!(
                    "{} to {}",
                    format::date(s.visit_start),
                    format::date(s.visit_end)
                ),
            ),
            ("Classification", format::status(s.classification)),
        ],
        observations,
        response,
        timeline: timeline(s),
        recommendations: recommendations
            .iter()
            .map(|r| RecommendationRow {
                theme: format::theme(&r.theme),
                priority: r.priority,
                status: format::status(r.status),
                text: r.text.clone(),
                // The view's stand-in for a text this person may not read.
                redacted: r.text == "[confidential]",
            })
            .collect(),
        // Moves are made today, on the assessment as it is now: none on a past day's page.
        moves: moves(&viewer.principal, s)
            .into_iter()
            .filter(|_| as_of.is_none())
            .map(|(action, _, label, reason)| MoveForm {
                action,
                label,
                reason,
                form_key: Uuid::now_v7().to_string(),
            })
            .collect(),
        keys: FormKeys::new(&viewer.session.csrf),
        problem,
        typed,
    };
    render_with(status, &page)
}

/// One move on an assessment; back to its page, or the page with the refusal next to its field.
pub(crate) async fn act(
    State(app): State<App>,
    Path((id, action)): Path<(String, String)>,
    Posted { viewer, mut form }: Posted,
) -> Response {
    let Some(&(_, operation, _, takes_reason)) = MOVES.iter().find(|m| m.0 == action) else {
        return error_page(
            &Problem::not_found(format!("no action {action}")),
            Some(viewer.chrome("/assessments")),
        );
    };
    // The refilled form is the one posted.
    form.0.retain(|(k, _)| k != "action");
    form.0.push(("action".into(), action.clone()));
    let mut command = Map::new();
    if let Some(on) = form.get("on") {
        command.insert("on".into(), json!(on));
    }
    if takes_reason && let Some(reason) = form.get("reason") {
        command.insert("reason".into(), json!(reason));
    }
    match viewer
        .submit(
            &app,
            operation,
            vec![("id".into(), id.clone())],
            command,
            &form,
        )
        .await
    {
        Ok(reply) => see_other(&after(&reply, &format!("/assessments/{id}"))),
        Err(p) if p.status.is_client_error() => {
            show_response(&app, &viewer, &id, None, None, Some((p, form))).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/assessments"))),
    }
}
