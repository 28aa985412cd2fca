//! Reports: the summaries made (scope, format, day, positions, SHA-256, by whom), a form that
//! makes one and answers with it as a download, and "download again", which makes it once more
//! from its recorded day and positions and checks the bytes against the recorded SHA-256.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_contract::bus::View;
use tatrack_contract::commands::report::MadeReport;
use tatrack_domain::Role;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::report::ReportState;
use uuid::Uuid;

use super::FormKeys;
use super::assessments::{country_options, options};
use super::needs::Choice;
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render_with};

pub(crate) struct ReportRow {
    pub(crate) id: String,
    pub(crate) scope: String,
    pub(crate) format: String,
    pub(crate) as_of: String,
    pub(crate) made_on: String,
    pub(crate) positions: String,
    pub(crate) checksum: String,
    pub(crate) by: String,
    /// Made by this person: made again it is byte-identical (the content is cut to its maker).
    pub(crate) again: bool,
    pub(crate) form_key: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Option<Chrome>,
    rows: Vec<ReportRow>,
    /// Whether older reports than those listed exist.
    older: bool,
    countries: Vec<Choice>,
    themes: Vec<Choice>,
    regions: Vec<Choice>,
    formats: Vec<Choice>,
    /// Staff choose any registered organisation as the donor filter.
    donors: Option<Vec<Choice>>,
    /// A donor may cut the report to its own organisation.
    own_organisation: Option<String>,
    /// The reporting organisation of an IATI export, chosen (a donor's is its own).
    iati_organisations: Vec<Choice>,
    may_import: bool,
    keys: FormKeys,
    problem: Option<Problem>,
    notice: Option<String>,
    typed: FormData,
}

/// How many reports the page lists (the newest; the API pages through them all).
const REPORTS_SHOWN: usize = 100;

impl ReportsPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }
}

/// `assessments:120,partners:45,...`: the positions as `known_at` takes them back.
fn positions(known: &std::collections::BTreeMap<String, u64>) -> String {
    known
        .iter()
        .map(|(service, position)| format!("{service}:{position}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    min_position: Option<u64>,
}

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<ListQuery>,
) -> Response {
    page_response(&app, &viewer, asked.min_position, None, None).await
}

pub(super) async fn page_response(
    app: &App,
    viewer: &Viewer,
    min_position: Option<u64>,
    refused: Option<(Problem, FormData)>,
    notice: Option<String>,
) -> Response {
    let chrome = viewer.chrome("/reports");
    let mut params = json!({});
    if let Some(p) = min_position {
        params["min_position"] = json!(p);
    }
    // The newest, one more to know whether older ones follow: a report is made every day in
    // every format, and the page must stay light.
    params["limit"] = json!(REPORTS_SHOWN + 1);
    let mut reports: Vec<ReportState> = match viewer.view(app, View::ReportList, params).await {
        Ok(r) => r,
        Err(p) => return error_page(&p, Some(chrome)),
    };
    let older = reports.len() > REPORTS_SHOWN;
    reports.truncate(REPORTS_SHOWN);
    let staff = viewer.principal.is_staff();
    // Staff filter by donor, and everyone but a donor (whose is its own) names the publisher of
    // an IATI export: both from the registry.
    let organisations: Vec<OrganisationState> = if viewer.principal.role != Role::Donor {
        match viewer.view(app, View::OrganisationList, json!({})).await {
            Ok(o) => o,
            Err(p) => return error_page(&p, Some(chrome)),
        }
    } else {
        Vec::new()
    };
    let (status, problem, typed) = match refused {
        Some((p, typed)) => (p.status, Some(p), typed),
        None => (StatusCode::OK, None, FormData::default()),
    };
    let org_choices = |selected: &str| {
        options(
            organisations
                .iter()
                .map(|o| (o.id.clone(), format!("{} ({})", o.name, o.id))),
            selected,
        )
    };
    let mut rows: Vec<ReportRow> = reports
        .iter()
        .map(|r| ReportRow {
            id: r.id.to_string(),
            scope: r.scope.label(),
            format: format::status(r.format),
            as_of: format::date(r.as_of),
            made_on: format::date(r.made_on),
            positions: positions(&r.known_at),
            checksum: r.checksum.clone(),
            by: r.requested_by.as_ref().map_or_else(
                || "—".to_owned(),
                |p| app.who(&format!("{}:{}", p.role, p.id)),
            ),
            again: r
                .requested_by
                .as_ref()
                .is_some_and(|p| p.id == viewer.principal.id),
            form_key: Uuid::now_v7().to_string(),
        })
        .collect();
    // Newest first: ids are UUIDv7, ordered by time.
    rows.sort_by(|a, b| b.id.cmp(&a.id));
    let page = ReportsPage {
        chrome: Some(chrome),
        rows,
        older,
        countries: country_options(&typed.raw("member_state")),
        themes: options(
            tatrack_domain::codes::themes()
                .iter()
                .map(|t| (t.code.clone(), t.name.clone())),
            &typed.raw("theme"),
        ),
        regions: options(
            tatrack_domain::codes::regions()
                .iter()
                .filter(|r| !r.withdrawn)
                .map(|r| (r.code.clone(), r.name.clone())),
            &typed.raw("region"),
        ),
        formats: options(
            [
                ("markdown", "Markdown"),
                ("html", "HTML"),
                ("csv", "CSV (with HXL hashtags)"),
                ("json", "JSON"),
            ]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            &typed.raw("format"),
        ),
        donors: staff.then(|| org_choices(&typed.raw("donor"))),
        own_organisation: match viewer.principal.role {
            Role::Donor => viewer.principal.organisation.clone(),
            _ => None,
        },
        iati_organisations: org_choices(""),
        may_import: staff,
        keys: FormKeys::new(&viewer.session.csrf),
        problem,
        notice,
        typed,
    };
    render_with(status, &page)
}

/// The report as a file to save.
fn download(made: &MadeReport) -> Response {
    let name = format!("tatrack-summary-{}.{}", made.as_of, made.format.extension());
    let kind = HeaderValue::from_str(&made.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-content-sha256"),
                HeaderValue::from_str(&made.checksum)
                    .unwrap_or_else(|_| HeaderValue::from_static("")),
            ),
        ],
        made.content.clone(),
    )
        .into_response()
}

/// Makes a summary from the form; the answer is the report itself, as a download.
pub(crate) async fn make(State(app): State<App>, Posted { viewer, form }: Posted) -> Response {
    let mut command = Map::new();
    for field in ["member_state", "theme", "region", "format", "as_of"] {
        if let Some(value) = form.get(field) {
            command.insert(field.into(), json!(value));
        }
    }
    // Staff name any donor; a donor may only cut the report to its own organisation.
    match viewer.principal.role {
        Role::Admin | Role::Coordinator | Role::System => {
            if let Some(donor) = form.get("donor") {
                command.insert("donor".into(), json!(donor));
            }
        }
        Role::Donor if form.get("own") == Some("yes") => {
            if let Some(own) = &viewer.principal.organisation {
                command.insert("donor".into(), json!(own));
            }
        }
        _ => {}
    }
    answer(&app, &viewer, command, &form, None).await
}

/// Sends `make_report` and answers with the file, or the page with the refusal.
async fn answer(
    app: &App,
    viewer: &Viewer,
    command: Map<String, Value>,
    form: &FormData,
    recorded: Option<&str>,
) -> Response {
    match viewer
        .submit(app, "make_report", Vec::new(), command, form)
        .await
    {
        Ok(value) => match serde_json::from_value::<MadeReport>(value.clone()) {
            Ok(made) => match recorded {
                Some(checksum) if checksum != made.checksum => {
                    let notice = format!(
                        "Made again, the report's SHA-256 is {}, not the recorded {checksum}: \
                         it is not the same report (nothing was downloaded).",
                        made.checksum
                    );
                    page_response(app, viewer, None, None, Some(notice)).await
                }
                _ => download(&made),
            },
            // The same form sent twice: the reporter answers where the first went, without
            // the content.
            Err(_) => {
                let notice = "This form was sent before; the report is in the list: download \
                              it again from there."
                    .to_owned();
                let position = value.get("last_position").and_then(Value::as_u64);
                page_response(app, viewer, position, None, Some(notice)).await
            }
        },
        Err(p) if p.status.is_client_error() => {
            page_response(app, viewer, None, Some((p, form.clone())), None).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/reports"))),
    }
}

/// Makes a report again from its recorded scope, format, day and positions, and answers with
/// it if its SHA-256 is the recorded one. The reporter records every report it makes, so this
/// records another `report_made` (with the same checksum).
pub(crate) async fn again(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> Response {
    let chrome = || viewer.chrome("/reports");
    let Ok(id) = id.parse::<Uuid>() else {
        return error_page(&Problem::invalid("id", "must be a UUID"), Some(chrome()));
    };
    let report: ReportState = match viewer.view(&app, View::ReportShow, json!({"id": id})).await {
        Ok(r) => r,
        Err(p) => return error_page(&p, Some(chrome())),
    };
    if report
        .requested_by
        .as_ref()
        .is_none_or(|p| p.id != viewer.principal.id)
    {
        // Another's report is cut to what they may see: made by this person it would differ.
        return error_page(
            &Problem::forbidden("only the person who made a report can make it again"),
            Some(chrome()),
        );
    }
    let (Some(format), Some(as_of)) = (report.format, report.as_of) else {
        return error_page(&Problem::internal(), Some(chrome()));
    };
    let s = &report.scope;
    let mut command = Map::new();
    for (name, value) in [
        ("member_state", &s.member_state),
        ("theme", &s.theme),
        ("region", &s.region),
        ("donor", &s.donor),
    ] {
        if let Some(v) = value {
            command.insert(name.into(), json!(v));
        }
    }
    command.insert("format".into(), json!(format.to_string()));
    command.insert("as_of".into(), json!(as_of.to_string()));
    command.insert("known_at".into(), json!(positions(&report.known_at)));
    answer(&app, &viewer, command, &form, Some(&report.checksum)).await
}
