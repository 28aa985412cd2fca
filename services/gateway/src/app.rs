//! Wiring: the contract's route table (`tatrack_contract::routes`) served as it stands, every
//! route checked against its types before anything reaches a service, and the plumbing around
//! it (`/healthz`, `/readyz`, `/metrics`, the OpenAPI document, correlation ids).
//!
//! A command route: authenticate, read the headers (`Idempotency-Key`, `If-Match`), take the
//! path parameters into the body, check the body against its contract type (400 naming the
//! field, nothing sent), send it to the owning service, answer its reply (201 and `Location`
//! for a creation, `ETag` always). A view route: authenticate, parse the query string into the
//! view's typed parameters, page lists with signed cursors.

use std::sync::LazyLock;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, on};
use axum::{Json, Router};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_contract::CommandReply;
use tatrack_contract::bus::Verb;
use tatrack_contract::commands::token::{Issue, IssueRequest, Issued};
use tatrack_contract::routes::{self, CommandRoute, Method, Route, Target, ViewRoute};
use uuid::Uuid;

use crate::auth::Tokens;
use crate::cursor::Cursors;
use crate::metrics::{self, Metrics};
use crate::problem::Problem;
use crate::token;

/// Page size when the caller names none, and the largest it may ask for.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// Largest request body taken (a service refuses more too).
const MAX_BODY_BYTES: usize = rpc::MAX_REQUEST_BYTES;

/// How long a service may take to answer one request.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The route table, made once: handlers hold `&'static` references into it.
static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes::routes);

/// The OpenAPI document, written once.
static OPENAPI: LazyLock<String> =
    LazyLock::new(|| tatrack_contract::openapi::document().to_string());

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) nats: async_nats::Client,
    /// The one clock, injected at start-up (ARCHITECTURE.md, "Two times").
    pub(crate) clock: tatrack_eventlog::Clock,
    pub(crate) console: crate::web::Console,
    pub(crate) tokens: Tokens,
    pub(crate) cursors: Cursors,
    pub(crate) metrics: Metrics,
    /// Random per process: the secret of a token issued over HTTP (or in the console), and of an
    /// invitation link made in the console, is derived from it and the command id, so a retry
    /// with the same `Idempotency-Key` (or form) gets the same secret back.
    pub(crate) token_seed: [u8; 32],
    pub(crate) limiter: crate::limits::Limiter,
}

impl App {
    /// Today by the injected clock.
    pub(crate) fn today(&self) -> jiff::civil::Date {
        self.clock.today()
    }
}

pub(crate) fn router(app: App) -> Router {
    let metrics = app.metrics.clone();
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .route("/api/v1/openapi.json", get(openapi_document))
        .merge(crate::web::router());
    // One method router per path: `GET /needs` and `POST /needs` share theirs.
    let mut paths: Vec<(&'static str, MethodRouter<App>)> = Vec::new();
    for route in ROUTES.iter() {
        let method = match route.method {
            Method::Get => axum::routing::MethodFilter::GET,
            Method::Post => axum::routing::MethodFilter::POST,
        };
        let handler = on(method, move |State(app): State<App>, request: Request| {
            handle(app, route, request)
        });
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => paths.push((route.path, handler)),
        }
    }
    for (path, methods) in paths {
        router = router.route(&format!("{}{path}", routes::PREFIX), methods);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(correlate))
        .layer(axum::middleware::from_fn(harden))
}

/// Headers every answer carries: answers hold confidential data and must not be cached by a
/// browser or a proxy, nor sniffed into another content type, nor framed; a page may load
/// nothing from elsewhere and run no inline script or style.
async fn harden(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Static files say how long they may be kept; everything else holds confidential data.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::web::CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Takes the caller's `X-Request-Id` (or makes one), serves the request in a span that carries
/// it (so every line logged for it names it, and every NATS request made for it carries it) and
/// returns it in the answer.
async fn correlate(request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let (id, refused) = match given {
        Some(id) if rpc::is_request_id(&id) => (id, false),
        Some(_) => (Uuid::now_v7().to_string(), true),
        None => (Uuid::now_v7().to_string(), false),
    };
    let span = tracing::info_span!("http", request_id = %id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let serve = async {
        let response = if refused {
            Problem::invalid(
                "X-Request-Id",
                "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -",
            )
            .into_response()
        } else {
            next.run(request).await
        };
        tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "answered");
        response
    };
    let mut response =
        tracing::Instrument::instrument(rpc::with_request_id(id.clone(), serve), span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The one `Authorization` header. Two are refused: which one a proxy or a framework honours
/// differs, so a second one could smuggle another identity past whatever checked the first.
fn authorization(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Problem::unauthorized(
            "send one Authorization header, not several",
        ));
    }
    Ok(first.and_then(|v| v.to_str().ok()))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<App>) -> Response {
    let nats = app.nats.connection_state() == async_nats::connection::State::Connected;
    let tokens = app.tokens.caught_up();
    // Services running in this process (`tatrack up`) must be serving too; a gateway alone
    // (`tatrack serve gateway`) has none registered.
    let (_, services) = tatrack_bus::ops::readiness();
    let services_ready = services.iter().all(|(_, ready)| *ready);
    let status = if nats && tokens && services_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let services: Map<String, Value> = services
        .into_iter()
        .map(|(service, ready)| (service, Value::Bool(ready)))
        .collect();
    (
        status,
        Json(json!({ "nats": nats, "tokens_caught_up": tokens, "services": services })),
    )
        .into_response()
}

/// The figures name routes, services and volumes: an operator's, so an admin token is asked
/// (Prometheus sends it with `authorization: { credentials_file: ... }`).
async fn render_metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    let principal = match authorization(&headers).and_then(|h| app.tokens.authenticate(h)) {
        Ok(principal) => principal,
        Err(problem) => return problem.into_response(),
    };
    if principal.role != tatrack_domain::Role::Admin {
        return Problem::forbidden("the metrics are for admins").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        // The gateway's HTTP figures, then those of every service in this process.
        app.metrics.render() + &tatrack_bus::ops::render(),
    )
        .into_response()
}

async fn openapi_document() -> Response {
    json_text(OPENAPI.clone())
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(format!("no route {}", uri.path()))
}

async fn method_not_allowed(request: Request) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not served on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn handle(app: App, route: &'static Route, request: Request) -> Result<Response, Problem> {
    // A place among the requests in flight first (held until the answer is written), then the
    // caller's own rates: nothing over a limit reaches a service.
    let _in_flight = app.limiter.admit()?;
    let (mut parts, body) = request.into_parts();
    let principal = app.tokens.authenticate(authorization(&parts.headers)?)?;
    let report = matches!(&route.target, Target::Command(c) if c.verb == Verb::ReportSummary);
    app.limiter.check(&principal.id, report)?;
    let path = path_parameters(&mut parts, &app, route).await?;
    match &route.target {
        Target::Command(command) => {
            let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
                .await
                .map_err(|_| {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "the request body is over 1 MiB",
                    )
                })?;
            run_command(&app, command, principal, &parts.headers, path, &body).await
        }
        Target::View(view) => run_view(&app, view, principal, path, parts.uri.query()).await,
    }
}

/// The route's path parameters, each checked: `{id}` of an organisation is its code, every
/// other one a UUID.
async fn path_parameters(
    parts: &mut Parts,
    app: &App,
    route: &Route,
) -> Result<Vec<(String, String)>, Problem> {
    let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, app)
        .await
        .map_err(|e| Problem::invalid("path", e.body_text()))?;
    let organisation = route.path.starts_with("/organisations/");
    let stream = route.path.starts_with("/streams/");
    for (name, value) in &params {
        if stream && name == "id" {
            let named = value.split_once('-').is_some_and(|(aggregate, id)| {
                (2..=32).contains(&aggregate.len())
                    && aggregate
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_')
                    && is_organisation_code(id)
            });
            if !named {
                return Err(Problem::invalid(
                    name,
                    "must be an object's stream, like offer-<id>",
                ));
            }
        } else if organisation && name == "id" {
            if !is_organisation_code(value) {
                return Err(Problem::invalid(
                    name,
                    "must be an organisation's code (2 to 64 of A-Z a-z 0-9 _ -)",
                ));
            }
        } else if value.parse::<Uuid>().is_err() {
            return Err(Problem::invalid(name, "must be a UUID"));
        }
    }
    Ok(params)
}

fn is_organisation_code(code: &str) -> bool {
    (2..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `If-Match: "N"` (or weak `W/"N"`, the ETags this API gives) -> the stream version the caller
/// last saw. Anything else is refused naming the header.
fn expected_version(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .map(|v| v.strip_prefix("W/").unwrap_or(v))
        .and_then(|v| v.strip_prefix('"')?.strip_suffix('"'))
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| Problem::invalid("If-Match", "must be an ETag this API gave, like \"3\""))
}

/// `Idempotency-Key: <UUID>` -> the command id (a new one when absent). The key is scoped to the
/// caller: the command id is derived from the principal and the key, so another token that sends
/// the same key neither gets this caller's first answer nor blocks its command.
fn command_id(headers: &HeaderMap, principal_id: &str) -> Result<Uuid, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(Uuid::now_v7());
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<Uuid>().ok())
        .filter(|id| !id.is_nil())
        .ok_or_else(|| Problem::invalid("Idempotency-Key", "must be a UUID"))?;
    Ok(scoped_command_id(principal_id, key))
}

/// The command id of a caller's idempotency key: scoped to the caller, so two callers' keys
/// never meet (the console's forms carry such a key, so a form sent twice is one command).
pub(crate) fn scoped_command_id(principal_id: &str, key: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(principal_id.as_bytes())
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // A well-formed UUID (version 8, "custom"; RFC 4122 variant).
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// The body as a JSON object; an empty body is an empty object (a move with nothing to say).
fn body_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::invalid("body", "must be a JSON object")),
        Err(e) => Err(Problem::invalid("body", format!("malformed JSON: {e}"))),
    }
}

/// The bus body of a command: the caller's body checked against its contract type, the path's
/// parameters in it, and the ids the server mints. A new aggregate's id and a new part's id
/// (`transaction_id`...) are the command id, so a retry with the same `Idempotency-Key` sends
/// exactly the same command and gets the first answer.
pub(crate) fn command_body(
    command: &CommandRoute,
    path: Vec<(String, String)>,
    mut body: Map<String, Value>,
    command_id: Uuid,
) -> Result<Map<String, Value>, Problem> {
    let mut id = None;
    for (name, value) in path {
        if name == "id" {
            id = Some(value);
            continue;
        }
        if body.get(&name).is_some_and(|given| *given != value) {
            return Err(Problem::invalid(
                &name,
                "is given by the path; leave it out of the body",
            ));
        }
        body.insert(name, Value::String(value));
    }
    if id.is_some() && body.contains_key("id") {
        return Err(Problem::invalid(
            "id",
            "is given by the path; leave it out of the body",
        ));
    }
    (command.check)(&Value::Object(body.clone())).map_err(Problem::from_error_body)?;
    if let Some(id) = id {
        body.insert("id".into(), Value::String(id));
    } else if command.creates.is_some() && body.get("id").is_none_or(Value::is_null) {
        body.insert("id".into(), Value::String(command_id.to_string()));
    }
    if let Some(part) = command.part
        && body.get(part).is_none_or(Value::is_null)
    {
        body.insert(part.into(), Value::String(command_id.to_string()));
    }
    Ok(body)
}

async fn run_command(
    app: &App,
    command: &CommandRoute,
    principal: tatrack_domain::Principal,
    headers: &HeaderMap,
    path: Vec<(String, String)>,
    body: &Bytes,
) -> Result<Response, Problem> {
    let command_id = command_id(headers, &principal.id)?;
    let expected_version = expected_version(headers)?;
    let body = body_object(body)?;
    // Issuing a token over HTTP: the gateway makes the secret and sends only its hash.
    let issued_secret;
    let body = if command.verb == Verb::TokenIssue {
        let (body, secret) = token_issue_body(app, body, command_id)?;
        issued_secret = Some(secret);
        body
    } else {
        issued_secret = None;
        command_body(command, path, body, command_id)?
    };
    let mut reply = send_command(app, command, principal, command_id, expected_version, &body)
        .await
        .map_err(|mut problem| {
            // The command id is the caller's Idempotency-Key (without one the id is new): a key
            // reused for a different command is named as the caller sent it.
            if problem.field.as_deref() == Some("command_id")
                && headers.contains_key("idempotency-key")
            {
                problem.field = Some("Idempotency-Key".to_owned());
            }
            problem
        })?;
    if let Some(secret) = issued_secret {
        let recorded: CommandReply =
            serde_json::from_value(reply).map_err(|_| Problem::internal())?;
        reply = serde_json::to_value(Issued {
            reply: recorded,
            token: secret,
        })
        .map_err(|_| Problem::internal())?;
    }
    let status = if command.creates.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(&reply)).into_response();
    if let Some(version) = reply["stream_version"].as_u64()
        && let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\""))
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if let (Some(collection), Some(id)) = (command.creates, reply["id"].as_str())
        && let Ok(location) = HeaderValue::from_str(&format!("{}{collection}/{id}", routes::PREFIX))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The bus body of `issue_token` from what an admin asked for (`IssueRequest`), and the token's
/// secret: made here from the process's seed and the command id (so the same idempotency key
/// gets the same token back), of which the partners service gets only the SHA-256. For the API
/// and the console alike.
pub(crate) fn token_issue_body(
    app: &App,
    body: Map<String, Value>,
    command_id: Uuid,
) -> Result<(Map<String, Value>, String), Problem> {
    let asked: IssueRequest = tatrack_contract::error::from_value(&Value::Object(body))
        .map_err(Problem::from_error_body)?;
    let secret = token::derived_secret(&app.token_seed, command_id);
    let issue = Issue {
        id: Some(command_id),
        role: asked.role,
        organisation: asked.organisation,
        member_state: asked.member_state,
        label: asked.label,
        hash: token::hash(&secret),
        expires_on: asked.expires_on,
        on: asked.on,
    };
    match serde_json::to_value(issue) {
        Ok(Value::Object(map)) => Ok((map, secret)),
        _ => Err(Problem::internal()),
    }
}

/// Sends a checked command body to the service that owns it and returns its reply: the one way
/// to a service for the API and the console alike.
pub(crate) async fn send_command(
    app: &App,
    command: &CommandRoute,
    principal: tatrack_domain::Principal,
    command_id: Uuid,
    expected_version: Option<u64>,
    body: &Map<String, Value>,
) -> Result<Value, Problem> {
    let meta = RequestMeta {
        command_id: Some(command_id),
        expected_version,
        ..RequestMeta::new(principal)
    };
    let payload = serde_json::to_vec(body).map_err(|_| Problem::internal())?;
    rpc::request_raw(
        &app.nats,
        &subjects::command_subject(command.verb.service().name(), command.verb.as_str()),
        &meta,
        payload.into(),
        TIMEOUT,
    )
    .await
    .map_err(|e| Problem::from_rpc(e, expected_version.is_some()))
}

/// The command route of an operation (`identify_need`...), for the console's forms.
pub(crate) fn command_route(operation: &str) -> Option<&'static CommandRoute> {
    ROUTES
        .iter()
        .filter(|r| r.operation == operation)
        .find_map(|r| match &r.target {
            Target::Command(c) => Some(c),
            Target::View(_) => None,
        })
}

/// Asks the read model one view with typed parameters (already checked) and returns its JSON
/// answer: the one way to the read model for the API and the console alike.
pub(crate) async fn ask_view(
    app: &App,
    view: tatrack_contract::bus::View,
    principal: tatrack_domain::Principal,
    params: &Value,
) -> Result<Box<RawValue>, Problem> {
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(principal)
    };
    rpc::request(
        &app.nats,
        &subjects::query_subject(view.as_str()),
        &meta,
        params,
        TIMEOUT,
    )
    .await
    .map_err(|e| Problem::from_rpc(e, false))
}

async fn run_view(
    app: &App,
    view: &ViewRoute,
    principal: tatrack_domain::Principal,
    path: Vec<(String, String)>,
    query: Option<&str>,
) -> Result<Response, Problem> {
    let mut params = (view.params)(query.unwrap_or_default()).map_err(Problem::from_error_body)?;
    if let (Some(name), Some((_, id))) = (view.id_param, path.into_iter().find(|(n, _)| n == "id"))
    {
        params.insert(name.to_owned(), Value::String(id));
    }
    let limit = match params.remove("limit") {
        None => DEFAULT_LIMIT,
        Some(limit) => limit
            .as_u64()
            .and_then(|l| usize::try_from(l).ok())
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| Problem::invalid("limit", format!("must be 1 to {MAX_LIMIT}")))?,
    };
    let cursor = params
        .remove("cursor")
        .and_then(|c| c.as_str().map(str::to_owned));
    // serde_json's map is ordered by key, so the same filters always give the same text.
    let canonical = Value::Object(params.clone()).to_string();
    let offset = match &cursor {
        Some(c) => usize::try_from(app.cursors.decode(c, view.view.as_str(), &canonical)?)
            .map_err(|_| Problem::invalid("cursor", "out of range"))?,
        None => 0,
    };
    // The read model pages a list itself (one item more than the page, to know whether another
    // follows), so a long list never travels whole over NATS.
    if view.paged {
        params.insert("offset".into(), json!(offset));
        params.insert("limit".into(), json!(limit.saturating_add(1)));
    }
    // The answer stays JSON text: a list is split into its items (each kept as text), never
    // parsed into a tree and written again.
    let answer = ask_view(app, view.view, principal, &Value::Object(params)).await?;
    if !view.paged {
        return Ok(json_text(answer.get().to_owned()));
    }
    let mut items: Vec<Box<RawValue>> =
        serde_json::from_str(answer.get()).map_err(|_| Problem::internal())?;
    let more = items.len() > limit;
    items.truncate(limit);
    let end = offset.saturating_add(items.len());
    let next_cursor = more.then(|| {
        app.cursors
            .encode(end as u64, view.view.as_str(), &canonical)
    });
    let page =
        serde_json::to_string(&Page { items, next_cursor }).map_err(|_| Problem::internal())?;
    Ok(json_text(page))
}

/// One page of a list view (`tatrack_contract::answers::Page`, its items kept as text).
#[derive(serde::Serialize)]
struct Page {
    items: Vec<Box<RawValue>>,
    next_cursor: Option<String>,
}

/// A JSON body that is already text.
fn json_text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(operation: &str) -> &'static CommandRoute {
        ROUTES
            .iter()
            .find(|r| r.operation == operation)
            .and_then(|r| match &r.target {
                Target::Command(c) => Some(c),
                Target::View(_) => None,
            })
            .expect("a command route")
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    #[test]
    fn headers_become_request_metadata() {
        let mut h = HeaderMap::new();
        assert_eq!(expected_version(&h), Ok(None));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"3\""));
        assert_eq!(expected_version(&h), Ok(Some(3)));
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"4\""));
        assert_eq!(expected_version(&h), Ok(Some(4)));
        for bad in ["*", "", "3", "\"\"", "\"-1\"", "W/3"] {
            h.insert(header::IF_MATCH, HeaderValue::from_static(bad));
            assert_eq!(
                expected_version(&h).unwrap_err().field.as_deref(),
                Some("If-Match"),
                "{bad:?}"
            );
        }
        h.insert("idempotency-key", HeaderValue::from_static("nope"));
        assert_eq!(
            command_id(&h, "token:a").unwrap_err().field.as_deref(),
            Some("Idempotency-Key")
        );
        let id = Uuid::now_v7();
        h.insert(
            "idempotency-key",
            HeaderValue::from_str(&id.to_string()).unwrap(),
        );
        // The same key is the same command for one caller, another command for another caller.
        let mine = command_id(&h, "token:a").unwrap();
        assert_eq!(command_id(&h, "token:a"), Ok(mine));
        assert_ne!(command_id(&h, "token:b"), Ok(mine));
    }

    #[test]
    fn bodies_are_checked_and_take_the_path_and_the_minted_ids() {
        let command_id = Uuid::now_v7();
        let need = Uuid::now_v7().to_string();
        // An action: the path names the object.
        let body = command_body(
            route("agree_need"),
            vec![("id".into(), need.clone())],
            object(json!({"on": "2026-02-01"})),
            command_id,
        )
        .unwrap();
        assert_eq!(body["id"], need.as_str());
        // ...and the body may not name another one, nor carry what the type does not know.
        for (bad, field) in [
            (json!({"id": Uuid::now_v7()}), "id"),
            (json!({"colour": "red"}), "colour"),
            (json!({"on": "someday"}), "on"),
        ] {
            let e = command_body(
                route("agree_need"),
                vec![("id".into(), need.clone())],
                object(bad),
                command_id,
            )
            .unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
        }
        // A creation without an id gets the command id; a part likewise.
        let body = command_body(
            route("plan_assessment"),
            vec![],
            object(json!({"member_state": "KE", "kind": "desk_review", "title": "Desk review",
                "visit_start": "2026-03-01", "visit_end": "2026-03-02", "classification": "restricted"})),
            command_id,
        )
        .unwrap();
        assert_eq!(body["id"], command_id.to_string().as_str());
        let body = command_body(
            route("add_project_transaction"),
            vec![("id".into(), need.clone())],
            object(
                json!({"kind": "disbursement", "value": {"amount_minor": 100, "currency": "USD"},
                "provider": "DONOR-A", "receiver": "UNOCT"}),
            ),
            command_id,
        );
        assert_eq!(
            body.map(|b| b["transaction_id"].clone()),
            Ok(json!(command_id.to_string()))
        );
        let e = command_body(
            route("complete_project_milestone"),
            vec![
                ("id".into(), need.clone()),
                ("milestone_id".into(), Uuid::now_v7().to_string()),
            ],
            object(json!({"milestone_id": Uuid::now_v7()})),
            command_id,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("milestone_id"));
    }

    #[test]
    fn organisation_codes_are_checked() {
        assert!(is_organisation_code("GB-GOV-1"));
        assert!(!is_organisation_code("x"));
        assert!(!is_organisation_code("a b"));
    }
}
