//! The needs register: filters in the URL (so a filtered list can be bookmarked and shared),
//! pages, a CSV of the whole filtered list with its filters printed at the top, and "as of".

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_contract::bus::View;
use tatrack_domain::need::NeedState;

use crate::app::App;
use crate::problem::Problem;
use crate::web::{Chrome, Viewer, error_page, format, render_with};

/// Rows on one page of the register.
const PAGE_SIZE: usize = 50;

/// The register's filters, as the URL carries them (an empty field is no filter).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    member_state: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    page: Option<usize>,
}

impl Filters {
    /// The filters given, by the view's parameter names, in a fixed order.
    fn given(&self) -> Vec<(&'static str, &str)> {
        [
            ("member_state", self.member_state.as_str()),
            ("region", &self.region),
            ("theme", &self.theme),
            ("status", &self.status),
            ("priority", &self.priority),
            ("consent", &self.consent),
            ("text", &self.text),
            ("as_of", &self.as_of),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }

    /// The view's parameters. A priority that is not a number is named here; everything else
    /// is checked by the read model exactly as for the API.
    fn params(&self) -> Result<Map<String, Value>, Problem> {
        let mut params = Map::new();
        for (name, value) in self.given() {
            let value = if name == "priority" {
                json!(
                    value
                        .parse::<u8>()
                        .map_err(|_| Problem::invalid("priority", "must be 1, 2 or 3"))?
                )
            } else {
                json!(value)
            };
            params.insert(name.to_owned(), value);
        }
        Ok(params)
    }

    /// The query string of these filters (without the page), for links and the CSV.
    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.given() {
            q.append_pair(name, value);
        }
        q.finish()
    }
}

pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

fn choices(items: impl IntoIterator<Item = (String, String)>, selected: &str) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

pub(crate) struct NeedRow {
    pub(crate) id: String,
    pub(crate) description: String,
    pub(crate) country: String,
    pub(crate) theme: String,
    pub(crate) priority: u8,
    pub(crate) status: String,
    pub(crate) estimated: String,
    pub(crate) covered: String,
}

impl From<&NeedState> for NeedRow {
    fn from(n: &NeedState) -> Self {
        Self {
            id: n.id.to_string(),
            description: n.description.clone(),
            country: format::country(&n.member_state),
            theme: format::theme(&n.theme),
            priority: n.priority,
            status: format::status(n.status),
            estimated: n.estimated_cost.as_ref().map_or("—".into(), format::money),
            covered: n.covered_money.as_ref().map_or("—".into(), format::money),
        }
    }
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsPage {
    chrome: Option<Chrome>,
    countries: Vec<Choice>,
    regions: Vec<Choice>,
    themes: Vec<Choice>,
    statuses: Vec<Choice>,
    priorities: Vec<Choice>,
    consents: Vec<Choice>,
    text: String,
    as_of: String,
    problem: Option<Problem>,
    rows: Vec<NeedRow>,
    page: usize,
    previous: Option<String>,
    next: Option<String>,
    csv: String,
}

impl NeedsPage {
    /// The problem's message when it is about `field`.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }
}

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Response {
    let chrome = viewer.chrome("/needs");
    let page = filters.page.unwrap_or(0);
    let asked = match filters.params() {
        Ok(mut params) => {
            params.insert("offset".into(), json!(page * PAGE_SIZE));
            params.insert("limit".into(), json!(PAGE_SIZE + 1));
            viewer
                .view::<Vec<NeedState>>(&app, View::NeedList, Value::Object(params))
                .await
        }
        Err(problem) => Err(problem),
    };
    let (mut needs, problem) = match asked {
        Ok(needs) => (needs, None),
        // A bad filter is shown next to its field, with the form as typed; anything else is an
        // error page.
        Err(problem) if problem.field.is_some() && problem.status.is_client_error() => {
            (Vec::new(), Some(problem))
        }
        Err(problem) => return error_page(&problem, Some(chrome)),
    };
    let more = needs.len() > PAGE_SIZE;
    needs.truncate(PAGE_SIZE);
    let query = filters.query();
    let at_page = |p: usize| {
        if query.is_empty() {
            format!("/needs?page={p}")
        } else {
            format!("/needs?{query}&page={p}")
        }
    };
    let status = if problem.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let f = &filters;
    let page = NeedsPage {
        chrome: Some(chrome),
        countries: choices(
            tatrack_domain::codes::countries()
                .iter()
                .filter(|c| !c.withdrawn)
                .map(|c| (c.code.clone(), c.name.clone())),
            f.member_state.trim(),
        ),
        regions: choices(
            tatrack_domain::codes::regions()
                .iter()
                .filter(|r| !r.withdrawn)
                .map(|r| (r.code.clone(), r.name.clone())),
            f.region.trim(),
        ),
        themes: choices(
            tatrack_domain::codes::themes()
                .iter()
                .map(|t| (t.code.clone(), t.name.clone())),
            f.theme.trim(),
        ),
        statuses: choices(
            [
                "identified",
                "agreed_with_state",
                "partially_covered",
                "covered",
                "met",
                "withdrawn",
                "declined",
            ]
            .map(|s| (s.to_owned(), format::words(s))),
            f.status.trim(),
        ),
        priorities: choices(
            [("1", "1 (high)"), ("2", "2"), ("3", "3 (low)")]
                .map(|(v, l)| (v.to_owned(), l.to_owned())),
            f.priority.trim(),
        ),
        consents: choices(
            [
                ("shared", "shared with partners"),
                ("not_shared", "not shared"),
            ]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            f.consent.trim(),
        ),
        text: f.text.clone(),
        as_of: f.as_of.clone(),
        problem,
        rows: needs.iter().map(NeedRow::from).collect(),
        page: page + 1,
        previous: (page > 0).then(|| at_page(page - 1)),
        next: more.then(|| at_page(page + 1)),
        csv: if query.is_empty() {
            "/needs.csv".to_owned()
        } else {
            format!("/needs.csv?{query}")
        },
    };
    render_with(status, &page)
}

/// The whole filtered register as CSV: first the filters it was made with (and the day), then
/// one row per need.
pub(crate) async fn csv(
    State(app): State<App>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Response {
    let chrome = viewer.chrome("/needs");
    let needs = match filters.params() {
        Ok(params) => {
            viewer
                .view::<Vec<NeedState>>(&app, View::NeedList, Value::Object(params))
                .await
        }
        Err(problem) => Err(problem),
    };
    let needs = match needs {
        Ok(needs) => needs,
        Err(problem) => return error_page(&problem, Some(chrome)),
    };
    let given = filters.given();
    let described = if given.is_empty() {
        "none".to_owned()
    } else {
        given
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let day = if filters.as_of.trim().is_empty() {
        app.today().to_string()
    } else {
        filters.as_of.trim().to_owned()
    };
    let rows: Vec<Vec<String>> =
        std::iter::once(vec![format!("# tatrack needs register, as of {day}")])
            .chain(std::iter::once(vec![format!("# filters: {described}")]))
            .chain(std::iter::once(
                [
                    "id",
                    "member_state",
                    "theme",
                    "priority",
                    "status",
                    "description",
                    "beneficiary_institution",
                    "estimated_cost",
                    "currency",
                    "covered_money",
                    "size",
                    "measure",
                    "covered_units",
                    "agreed_on",
                ]
                .map(str::to_owned)
                .to_vec(),
            ))
            .chain(needs.iter().map(|n| {
                let minor = |m: &Option<tatrack_domain::money::Money>| {
                    m.as_ref()
                        .map(|m| m.amount_minor.to_string())
                        .unwrap_or_default()
                };
                vec![
                    n.id.to_string(),
                    n.member_state.clone(),
                    n.theme.clone(),
                    n.priority.to_string(),
                    n.status.map(|s| s.to_string()).unwrap_or_default(),
                    n.description.clone(),
                    n.beneficiary_institution.clone(),
                    minor(&n.estimated_cost),
                    n.estimated_cost
                        .as_ref()
                        .map(|m| m.currency.clone())
                        .unwrap_or_default(),
                    minor(&n.covered_money),
                    n.size
                        .as_ref()
                        .map(|s| s.quantity.to_string())
                        .unwrap_or_default(),
                    n.size
                        .as_ref()
                        .map(|s| s.measure.clone())
                        .unwrap_or_default(),
                    n.covered_units.map(|u| u.to_string()).unwrap_or_default(),
                    n.agreed_on.map(|d| d.to_string()).unwrap_or_default(),
                ]
            }))
            .collect();
    // The comment lines have one field; the writer must accept rows of different lengths.
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for row in &rows {
        if out.write_record(row).is_err() {
            return error_page(&Problem::internal(), None);
        }
    }
    let Ok(bytes) = out.into_inner() else {
        return error_page(&Problem::internal(), None);
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"tatrack-needs.csv\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
