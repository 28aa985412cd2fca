//! IATI files in the console, as the CLI does them (`tatrack iati export|import`): the projects the
//! person may see as an IATI 2.03 activity file, and (staff) an activity file read and planned,
//! shown before anything is recorded, then recorded on confirmation under the plan's own command
//! ids, so recording the same file again records nothing new.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_contract::answers::ProjectView;
use tatrack_contract::bus::View;
use tatrack_contract::routes::{Route, Target};
use tatrack_domain::organisation::{Organisation, OrganisationCommand, OrganisationState};
use tatrack_domain::project::{Project, ProjectState};
use tatrack_domain::{Aggregate, Role};
use uuid::Uuid;

use super::overview::{AsOf, with_as_of};
use super::reports::page_response;
use crate::app::App;
use crate::problem::Problem;
use crate::web::{Chrome, FormData, Viewer, error_page, render_with};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExportQuery {
    #[serde(default)]
    reporting: String,
    #[serde(default)]
    as_of: String,
}

/// The organisations and the projects this person may see (as of `as_of`, else today).
async fn lists(
    app: &App,
    viewer: &Viewer,
    as_of: Option<jiff::civil::Date>,
) -> Result<(Vec<OrganisationState>, Vec<ProjectState>), Problem> {
    let organisations: Vec<OrganisationState> = viewer
        .view_all(app, View::OrganisationList, with_as_of(json!({}), as_of))
        .await?;
    let projects: Vec<ProjectView> = viewer
        .view_all(app, View::ProjectList, with_as_of(json!({}), as_of))
        .await?;
    Ok((
        organisations,
        projects.into_iter().map(|p| p.state).collect(),
    ))
}

/// `GET /reports/iati.xml`: the projects this person may see as an IATI 2.03 file, published
/// by the donor's own organisation or, for anyone else, the registered organisation chosen.
pub(crate) async fn export(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<ExportQuery>,
) -> Response {
    let refused = |problem: Problem| async {
        let form = FormData(vec![("reporting".into(), asked.reporting.clone())]);
        page_response(&app, &viewer, None, Some((problem, form)), None).await
    };
    let as_of = match (AsOf {
        as_of: Some(asked.as_of.clone()),
    })
    .date()
    {
        Ok(d) => d,
        // Named after the export form's own field (the make form has an `as_of` too).
        Err(p) => return refused(Problem::invalid("iati_as_of", p.detail)).await,
    };
    let (organisations, projects) = match lists(&app, &viewer, as_of).await {
        Ok(l) => l,
        Err(p) => return error_page(&p, Some(viewer.chrome("/reports"))),
    };
    let reporting = match (viewer.principal.role, &viewer.principal.organisation) {
        (Role::Donor, Some(own)) => own.clone(),
        _ => asked.reporting.trim().to_owned(),
    };
    let Some(org) = organisations.iter().find(|o| o.id == reporting) else {
        return refused(Problem::invalid(
            "reporting",
            if reporting.is_empty() {
                "choose the registered organisation that publishes the file".to_owned()
            } else {
                format!("organisation {reporting:?} is not registered")
            },
        ))
        .await;
    };
    // IATI needs at least one activity in a file: say so rather than answer an invalid one.
    if !projects.iter().any(|p| p.status.is_some()) {
        let mut page = page_response(
            &app,
            &viewer,
            None,
            None,
            Some(
                "Nothing to export: no project is visible to you (as of that day), and an IATI \
                 file must hold at least one activity."
                    .to_owned(),
            ),
        )
        .await;
        *page.status_mut() = StatusCode::NOT_FOUND;
        return page;
    }
    // As the CLI: generated at the end of the as-of day, so the same data gives the same bytes
    // all day.
    let day = as_of.unwrap_or_else(|| app.today());
    let xml = match tatrack_iati::export(
        &projects,
        &organisations,
        &tatrack_iati::ReportingOrg::from_organisation(org),
        &tatrack_iati::ExportOptions::at_end_of(day),
    ) {
        Ok(xml) => xml,
        Err(e) => {
            tracing::error!(error = %e, "the IATI export failed");
            return error_page(&Problem::internal(), Some(viewer.chrome("/reports")));
        }
    };
    let disposition = format!("attachment; filename=\"tatrack-iati-{day}.xml\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        xml,
    )
        .into_response()
}

/// The byte offset of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A `name="value"` parameter of a part's `Content-Disposition` line.
fn parameter(line: &str, key: &str) -> Option<String> {
    line.split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim_matches('"').to_owned())
}

/// The parts of a `multipart/form-data` body (name, bytes), as browsers send a form with a
/// file. The body is already bounded by the router's limit; anything malformed is `None`.
fn multipart(content_type: &str, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let next_part = [b"\r\n".as_slice(), &delimiter].concat();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    let mut parts = Vec::new();
    while !rest.starts_with(b"--") {
        rest = rest.strip_prefix(b"\r\n")?;
        let end_of_headers = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..end_of_headers]).ok()?;
        let content = &rest[end_of_headers + 4..];
        let length = find(content, &next_part)?;
        let name = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|l| parameter(l, "name"))?;
        parts.push((name, content[..length].to_vec()));
        rest = &content[length + next_part.len()..];
    }
    Some(parts)
}

/// What the import form sent: its fields, and the file (from the upload, or from the plan
/// page's hidden field on confirmation).
fn import_form(headers: &HeaderMap, body: &[u8]) -> Result<(FormData, Vec<u8>), Problem> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        let parts = multipart(content_type, body).ok_or_else(|| {
            Problem::invalid("file", "the form did not arrive whole; send it again")
        })?;
        let mut file = Vec::new();
        let mut fields = Vec::new();
        for (name, bytes) in parts {
            if name == "file" {
                file = bytes;
            } else {
                fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        let form = FormData(fields);
        // The confirmation carries the file in a field (sent as multipart too: not
        // percent-encoded, so not three times its size).
        if file.is_empty() {
            file = form.raw("xml").into_bytes();
        }
        Ok((form, file))
    } else {
        let form = FormData::parse(body);
        let file = form.raw("xml").into_bytes();
        Ok((form, file))
    }
}

pub(crate) struct OrganisationRow {
    pub(crate) id: String,
    pub(crate) name: String,
}

pub(crate) struct ActivityRow {
    pub(crate) iati_identifier: String,
    pub(crate) project_id: String,
    pub(crate) existing: bool,
    pub(crate) commands: usize,
    /// After recording: how many of its commands recorded something new.
    pub(crate) new: Option<usize>,
    pub(crate) notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "iati_plan.html")]
struct PlanPage {
    chrome: Option<Chrome>,
    csrf: String,
    /// The file, carried to the confirmation (read and planned again there).
    xml: String,
    default_theme: String,
    organisations: Vec<OrganisationRow>,
    activities: Vec<ActivityRow>,
    /// After recording: organisations newly registered.
    registered: Option<usize>,
}

/// The route table, to find a planned command's operation by its verb.
static ROUTES: std::sync::LazyLock<Vec<Route>> =
    std::sync::LazyLock::new(tatrack_contract::routes::routes);

/// A planned command sent as the console sends a form: its operation found by its verb, its
/// command id derived from the plan's (so the same file sent again is the same commands).
async fn send_planned<A: Aggregate>(
    app: &App,
    viewer: &Viewer,
    command: &A::Command,
    key: Uuid,
) -> Result<Value, Problem> {
    let Ok(Value::Object(mut body)) = serde_json::to_value(command) else {
        return Err(Problem::internal());
    };
    let Some(Value::String(action)) = body.remove("type") else {
        return Err(Problem::internal());
    };
    let verb = format!("{}_{action}", A::NAME);
    let route = ROUTES
        .iter()
        .find(|r| matches!(&r.target, Target::Command(c) if c.verb.as_str() == verb))
        .ok_or_else(Problem::internal)?;
    let mut path = Vec::new();
    if route.path.contains("{id}")
        && let Some(Value::String(id)) = body.remove("id")
    {
        path.push(("id".to_owned(), id));
    }
    let form = FormData(vec![("form_key".into(), key.to_string())]);
    viewer
        .submit(app, route.operation, path, Map::from_iter(body), &form)
        .await
}

/// Whether a reply wrote something new (not a repeat, not a no-op).
fn wrote(reply: &Value) -> bool {
    reply.get("idempotent").and_then(Value::as_bool) != Some(true)
        && reply.get("last_position").and_then(Value::as_u64) != Some(0)
}

/// `POST /reports/iati-import`: reads and plans the file and shows the plan; with `confirm`,
/// reads and plans it again (nothing from the browser is trusted but the file) and records it.
pub(crate) async fn import(
    State(app): State<App>,
    viewer: Viewer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let chrome = || viewer.chrome("/reports");
    let (form, file) = match import_form(&headers, &body) {
        Ok(f) => f,
        Err(p) => {
            return page_response(&app, &viewer, None, Some((p, FormData::default())), None).await;
        }
    };
    if let Err(refused) = viewer.check_csrf(&form) {
        return *refused;
    }
    if !viewer.principal.is_staff() {
        return error_page(
            &Problem::forbidden("only coordinators import IATI files"),
            Some(chrome()),
        );
    }
    let theme = form.get("default_theme").map(str::to_owned);
    let refused = |detail: String| async {
        let problem = Problem::invalid("file", detail);
        page_response(&app, &viewer, None, Some((problem, form.clone())), None).await
    };
    if let Some(t) = &theme
        && let Err(e) = tatrack_domain::codes::check_theme("default_theme", t)
    {
        return refused(e.to_string()).await;
    }
    if file.is_empty() {
        return refused("choose an IATI activity file".to_owned()).await;
    }
    let activities = match tatrack_iati::parse(&file) {
        Ok(a) => a,
        Err(e) => return refused(format!("refused: {e}")).await,
    };
    // As of now: the plan links to what is recorded today.
    let (organisations, projects) = match lists(&app, &viewer, None).await {
        Ok(l) => l,
        Err(p) => return error_page(&p, Some(chrome())),
    };
    let plan = match tatrack_iati::plan(
        &activities,
        &tatrack_iati::ImportContext {
            today: app.today(),
            organisations: &organisations,
            projects: &projects,
            default_theme: theme.as_deref(),
        },
    ) {
        Ok(p) => p,
        Err(e) => {
            let hint = if theme.is_none() && e.to_string().contains("theme") {
                " (choose a theme for activities without one)"
            } else {
                ""
            };
            return refused(format!("refused: {e}{hint}")).await;
        }
    };
    let mut page = PlanPage {
        chrome: Some(chrome()),
        csrf: viewer.session.csrf.clone(),
        xml: String::from_utf8_lossy(&file).into_owned(),
        default_theme: theme.clone().unwrap_or_default(),
        organisations: plan
            .organisations
            .iter()
            .map(|p| match &p.command {
                OrganisationCommand::Register { id, name, .. } => OrganisationRow {
                    id: id.clone(),
                    name: name.clone(),
                },
                _ => OrganisationRow {
                    id: String::new(),
                    name: String::new(),
                },
            })
            .collect(),
        activities: plan
            .activities
            .iter()
            .map(|a| ActivityRow {
                iati_identifier: a.iati_identifier.clone(),
                project_id: a.project_id.to_string(),
                existing: a.existing,
                commands: a.commands.len(),
                new: None,
                notes: a.notes.clone(),
            })
            .collect(),
        registered: None,
    };
    if form.get("confirm") != Some("yes") {
        return render_with(StatusCode::OK, &page);
    }
    // Organisations first: projects name them.
    let mut registered = 0;
    for p in &plan.organisations {
        match send_planned::<Organisation>(&app, &viewer, &p.command, p.command_id).await {
            Ok(reply) => registered += usize::from(wrote(&reply)),
            Err(e) => return error_page(&e, Some(chrome())),
        }
    }
    for (a, row) in plan.activities.iter().zip(page.activities.iter_mut()) {
        let mut new = 0;
        for p in &a.commands {
            match send_planned::<Project>(&app, &viewer, &p.command, p.command_id).await {
                Ok(reply) => new += usize::from(wrote(&reply)),
                Err(e) => return error_page(&e, Some(chrome())),
            }
        }
        row.new = Some(new);
    }
    page.registered = Some(registered);
    render_with(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::multipart;

    #[test]
    fn a_browsers_multipart_form_reads_as_its_parts() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xml\"\r\n\
                    Content-Type: text/xml\r\n\r\n<a>\r\n</a>\r\n--XyZ--\r\n";
        let parts = multipart("multipart/form-data; boundary=XyZ", body.as_bytes()).unwrap();
        assert_eq!(
            parts,
            vec![
                ("csrf".to_owned(), b"abc".to_vec()),
                ("file".to_owned(), b"<a>\r\n</a>".to_vec()),
            ]
        );
        assert_eq!(multipart("multipart/form-data", body.as_bytes()), None);
        assert_eq!(
            multipart("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbroken"),
            None
        );
    }
}
