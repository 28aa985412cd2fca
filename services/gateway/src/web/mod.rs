//! The web console: HTML written on the server from askama templates, over the same route table,
//! checks and views as the API (ARCHITECTURE.md, "The web console"). A screen asks the read model
//! as the signed-in person, so what a role may see is decided where the API decides it; a form
//! becomes the same command body the API would send, checked by the same contract types, and a
//! refusal comes back as the same problem, shown next to its field.
//!
//! Every page works without JavaScript; htmx (served from `/static`, never a CDN) only makes
//! forms and filters swap the page's main part in place. Every answer carries a Content Security
//! Policy that allows nothing but this origin: no inline script, no inline style.

pub(crate) mod chart;
mod format;
pub(crate) mod map;
mod screens;
pub(crate) mod session;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tatrack_contract::answers::StreamVersion;
use tatrack_contract::bus::View;
use tatrack_domain::Principal;
use uuid::Uuid;

use crate::app::{self, App};
use crate::problem::Problem;
use session::{Session, Sessions, Throttle};

/// What the console keeps beside the API's state.
#[derive(Clone, Default)]
pub(crate) struct Console {
    pub(crate) sessions: Sessions,
    pub(crate) throttle: Throttle,
    /// Served over TLS: cookies are marked `Secure`.
    pub(crate) secure_cookies: bool,
}

/// The policy every answer carries: this origin only, no framing, forms post only here.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The console's routes (merged into the gateway's router beside `/api/v1`).
pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/static/{file}", get(static_file))
        .merge(screens::router())
}

/// The files under `/static`, compiled in: the page never loads anything from elsewhere.
async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static [u8], &'static str) = match file.as_str() {
        // Pinned and vendored with its licence (static/htmx-LICENSE.txt).
        "htmx-2.0.11.min.js" => (
            include_bytes!("../../static/htmx-2.0.11.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "htmx-LICENSE.txt" => (
            include_bytes!("../../static/htmx-LICENSE.txt"),
            "text/plain; charset=utf-8",
        ),
        "console.css" => (
            include_bytes!("../../static/console.css"),
            "text/css; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            // Named by version or small: an hour in the browser's cache is safe.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The signed-in person a console request is for: from the session cookie, with the account
/// looked up again (a disabled account is signed out at once). Without a live session the
/// request goes to the sign-in page, which comes back here afterwards.
pub(crate) struct Viewer {
    pub(crate) principal: Principal,
    pub(crate) name: String,
    pub(crate) session: Session,
}

/// A form posted by a signed-in person, its CSRF token checked: the one way the screens' forms
/// arrive (extract it last, as it reads the body). No session: to sign-in, like any page; a
/// missing or forged token: the 403 page, before the handler runs and so before anything is sent.
pub(crate) struct Posted {
    pub(crate) viewer: Viewer,
    pub(crate) form: FormData,
}

impl axum::extract::FromRequest<App> for Posted {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, app: &App) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let body =
            axum::body::Bytes::from_request(axum::extract::Request::from_parts(parts, body), app)
                .await
                .map_err(IntoResponse::into_response)?;
        let form = FormData::parse(&body);
        viewer.check_csrf(&form).map_err(|refused| *refused)?;
        Ok(Self { viewer, form })
    }
}

impl FromRequestParts<App> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let back = local_path(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
        let to_sign_in = || {
            let next: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
            Redirect::to(&format!("/sign-in?next={next}")).into_response()
        };
        let Some(secret) = cookie(&parts.headers, session::COOKIE) else {
            return Err(to_sign_in());
        };
        let Some(session) = app.console.sessions.touch(secret) else {
            return Err(to_sign_in());
        };
        let account = app
            .tokens
            .account(session.account)
            .map_err(|p| error_page(&p, None))?;
        let Some((account, principal)) = account.and_then(|a| a.principal().map(|p| (a, p))) else {
            app.console.sessions.end(secret);
            return Err(to_sign_in());
        };
        Ok(Viewer {
            principal,
            name: account.name,
            session,
        })
    }
}

impl Viewer {
    /// The chrome of a page for this person: the navigation their role has.
    pub(crate) fn chrome(&self, current: &'static str) -> Chrome {
        Chrome {
            name: self.name.clone(),
            role: format::role(self.principal.role),
            scope: self
                .principal
                .organisation
                .clone()
                .or_else(|| self.principal.member_state.clone())
                .unwrap_or_default(),
            csrf: self.session.csrf.clone(),
            nav: screens::navigation(self.principal.role)
                .iter()
                .map(|&(href, label)| NavItem {
                    href,
                    label,
                    current: href == current,
                })
                .collect(),
        }
    }

    /// A form's CSRF token must be this session's: anything else is a 403 page.
    pub(crate) fn check_csrf(&self, form: &FormData) -> Result<(), Box<Response>> {
        match form.get("csrf") {
            Some(token) if session::same_secret(token, &self.session.csrf) => Ok(()),
            _ => Err(Box::new(csrf_refused())),
        }
    }

    /// Asks the read model one view as this person.
    pub(crate) async fn view<T: DeserializeOwned>(
        &self,
        app: &App,
        view: View,
        params: Value,
    ) -> Result<T, Problem> {
        let answer = app::ask_view(app, view, self.principal.clone(), &params).await?;
        serde_json::from_str(answer.get()).map_err(|e| {
            tracing::error!(error = %e, view = %view, "a view's answer did not decode");
            Problem::internal()
        })
    }

    /// Every item of a list view, asked page by page (one answer holding a whole list would not
    /// fit in a NATS message at scale). Projects are kept in id order and never removed, and a
    /// new one sorts last (UUID v7), so what is recorded between two pages only adds items at
    /// the end: none is skipped or read twice. (Organisations, by code, fit in one page.)
    pub(crate) async fn view_all<T: DeserializeOwned>(
        &self,
        app: &App,
        view: View,
        params: Value,
    ) -> Result<Vec<T>, Problem> {
        const PAGE: usize = 500;
        let mut all = Vec::new();
        loop {
            let mut asked = params.clone();
            if let Value::Object(map) = &mut asked {
                map.insert("offset".into(), json!(all.len()));
                map.insert("limit".into(), json!(PAGE));
            }
            let page: Vec<T> = self.view(app, view, asked).await?;
            let last = page.len() < PAGE;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    /// Sends the command of an API operation (`identify_need`...) with a form's values, checked
    /// exactly as the API checks its body. The form's `form_key` is its idempotency key, so a
    /// form sent twice records once.
    pub(crate) async fn submit(
        &self,
        app: &App,
        operation: &str,
        path: Vec<(String, String)>,
        body: Map<String, Value>,
        form: &FormData,
    ) -> Result<Value, Problem> {
        let route = app::command_route(operation).ok_or_else(Problem::internal)?;
        let key = form
            .get("form_key")
            .and_then(|k| k.parse::<Uuid>().ok())
            .unwrap_or_else(Uuid::now_v7);
        let command_id = app::scoped_command_id(&self.principal.id, key);
        let body = app::command_body(route, path, body, command_id)?;
        // A form that changes an object carries the version of it the page showed: the command
        // applies only if the object is still at that version (the API's If-Match).
        let seen = form.get("version").and_then(|v| v.parse::<u64>().ok());
        app::send_command(app, route, self.principal.clone(), command_id, seen, &body)
            .await
            .map_err(|problem| {
                if problem.status == StatusCode::PRECONDITION_FAILED {
                    Problem {
                        status: StatusCode::CONFLICT,
                        kind: "stale",
                        detail: STALE_FORM.to_owned(),
                        field: None,
                        ..problem
                    }
                } else {
                    problem
                }
            })
    }

    /// The version of the object in `stream` (`offer-<id>`...) as the read model shows it now,
    /// for the forms that change it; `None` when it cannot be read (the form then goes without
    /// and is checked by the command alone).
    pub(crate) async fn version(&self, app: &App, stream: &str) -> Option<u64> {
        self.view::<StreamVersion>(app, View::StreamVersionShow, json!({"id": stream}))
            .await
            .ok()
            .map(|v| v.version)
    }

    /// The versions of several objects, by stream, asked at once.
    pub(crate) async fn versions(
        &self,
        app: &App,
        streams: impl IntoIterator<Item = String>,
    ) -> std::collections::HashMap<String, u64> {
        let asked = streams.into_iter().map(|stream| async move {
            let version = self.version(app, &stream).await;
            version.map(|v| (stream, v))
        });
        futures::future::join_all(asked)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

/// What a form sent after someone else changed its object says; the page under it shows the
/// object as it is now.
pub(crate) const STALE_FORM: &str = "This changed while you were looking at it: the page now \
    shows it as it is; check it and send the form again if it still applies";

impl Viewer {}

/// What every signed-in page shows around its content.
pub(crate) struct Chrome {
    pub(crate) name: String,
    pub(crate) role: &'static str,
    pub(crate) scope: String,
    pub(crate) csrf: String,
    pub(crate) nav: Vec<NavItem>,
}

pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// A posted form's fields, in order (a name may repeat).
#[derive(Debug, Default, Clone)]
pub(crate) struct FormData(pub(crate) Vec<(String, String)>);

impl FormData {
    pub(crate) fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; an empty field counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The form of a second command sent for this one (refer after propose, activate after
    /// create): its own idempotency key, derived from this form's, so a form sent twice sends
    /// both commands once each.
    pub(crate) fn second_command(&self) -> FormData {
        let key = self
            .get("form_key")
            .and_then(|k| k.parse::<Uuid>().ok())
            .map(|k| Uuid::from_u128(k.as_u128() ^ 1).to_string())
            .unwrap_or_default();
        FormData(vec![("form_key".to_owned(), key)])
    }

    /// The value as the person typed it, for refilling the form.
    pub(crate) fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// The value of one cookie.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for the console: HttpOnly, SameSite=Strict, Secure over TLS.
pub(crate) fn set_cookie(
    console: &Console,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if console.secure_cookies {
        cookie.push_str("; Secure");
    }
    cookie
}

/// A path on this site to come back to (anything else, e.g. `//evil.example`, becomes `/`).
pub(crate) fn local_path(path: &str) -> &str {
    if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") {
        path
    } else {
        "/"
    }
}

/// Writes a template, or a 500 page if it cannot be written.
pub(crate) fn render(template: &impl Template) -> Response {
    render_with(StatusCode::OK, template)
}

pub(crate) fn render_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be written",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Option<Chrome>,
    title: &'a str,
    detail: &'a str,
    status: u16,
}

/// The page for a problem: the same status and words the API gives (a donor guessing another's
/// project gets the API's "not found").
pub(crate) fn error_page(problem: &Problem, chrome: Option<Chrome>) -> Response {
    let title = match problem.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::BAD_REQUEST => "Not understood",
        StatusCode::CONFLICT => "Changed meanwhile",
        s if s.is_server_error() => "Not available now",
        _ => "Something went wrong",
    };
    let detail = if problem.status.is_server_error() && problem.kind == "internal" {
        "The server could not answer. Try again; if it keeps happening, tell an administrator."
    } else {
        problem.detail.as_str()
    };
    render_with(
        problem.status,
        &ErrorPage {
            chrome,
            title,
            detail,
            status: problem.status.as_u16(),
        },
    )
}

/// A form without this session's CSRF token.
pub(crate) fn csrf_refused() -> Response {
    render_with(
        StatusCode::FORBIDDEN,
        &ErrorPage {
            chrome: None,
            title: "Form refused",
            detail: "This form did not come from your current session (it may be from an old page \
                     or another site). Nothing was recorded. Go back, reload the page and try again.",
            status: 403,
        },
    )
}

/// After a form that recorded something: see the page that shows it (Post/Redirect/Get).
pub(crate) fn see_other(path: &str) -> Response {
    Redirect::to(local_path(path)).into_response()
}

impl App {
    /// Who an event's principal (`<role>:<id>`, or only the role for those who may not know
    /// more) names, in words for the audit trail: a person's name and role, a script's role, or
    /// tatrack itself.
    pub(crate) fn who(&self, principal: &str) -> String {
        let (role, id) = principal.split_once(':').unwrap_or((principal, ""));
        let role = format::words(role);
        if let Some(account) = id
            .strip_prefix("account:")
            .and_then(|id| id.parse::<Uuid>().ok())
            .and_then(|id| self.tokens.account(id).ok().flatten())
        {
            return format!("{} ({role})", account.name);
        }
        match (role.as_str(), id) {
            ("system", _) => "tatrack (derived)".to_owned(),
            (_, id) if id.starts_with("token:") => format!("a script ({role} token)"),
            (_, "") => role,
            (_, id) => format!("{id} ({role})"),
        }
    }
}
