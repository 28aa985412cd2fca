//! Wiring: the route table (every command verb and every view, from the services' own tables),
//! the shared state, and the handlers that turn HTTP into NATS requests and back.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use uuid::Uuid;

use crate::auth::Tokens;
use crate::cursor::Cursors;
use crate::metrics::{self, Metrics};
use crate::openapi;
use crate::problem::Problem;

/// Every command service and the verbs it answers: `POST /api/v1/<service>/<verb>`.
pub const COMMANDS: &[(&str, &[&str])] = &[
    ("assessments", tatrack_assessments::VERBS),
    ("partners", tatrack_partners::VERBS),
    ("projects", tatrack_projects::VERBS),
    ("reporter", tatrack_reporter::VERBS),
];

/// Every view of the read model: `GET /api/v1/views/<view>`.
pub const VIEWS: &[&str] = tatrack_readmodel::VIEWS;

/// Query parameters the read model understands, and which of them are numbers.
pub const VIEW_PARAMETERS: &[(&str, bool)] = &[
    ("id", false),
    ("member_state", false),
    ("assessment_id", false),
    ("need_id", false),
    ("offer_id", false),
    ("project_id", false),
    ("organisation", false),
    ("theme", false),
    ("status", false),
    ("priority", true),
    ("region", false),
    ("consent", false),
    ("include_ineligible", false),
    ("language", false),
    ("text", false),
    ("as_of", false),
    ("known_at", false),
    ("report_id", false),
    ("min_position", true),
];

/// Page size when the caller names none, and the largest it may ask for.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// How long a service may take to answer one request.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn is_command(service: &str, verb: &str) -> bool {
    COMMANDS
        .iter()
        .any(|(s, verbs)| *s == service && verbs.contains(&verb))
}

/// Whether a concrete path is one of the tables' routes (so metrics may label it by itself).
pub(crate) fn is_known_route(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return false;
    };
    match rest.split_once('/') {
        Some(("views", view)) => VIEWS.contains(&view),
        Some((service, verb)) => is_command(service, verb),
        None => false,
    }
}

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) nats: async_nats::Client,
    pub(crate) tokens: Tokens,
    pub(crate) cursors: Cursors,
    pub(crate) metrics: Metrics,
}

pub(crate) fn router(app: App) -> Router {
    let metrics = app.metrics.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .route("/api/v1/openapi.json", get(openapi_document))
        .route("/api/v1/views/{view}", get(view))
        .route("/api/v1/{service}/{verb}", post(command))
        .fallback(not_found)
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
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
    let services: serde_json::Map<String, Value> = services
        .into_iter()
        .map(|(service, ready)| (service, Value::Bool(ready)))
        .collect();
    (
        status,
        Json(json!({ "nats": nats, "tokens_caught_up": tokens, "services": services })),
    )
        .into_response()
}

async fn render_metrics(State(app): State<App>) -> Response {
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

async fn openapi_document() -> Json<Value> {
    Json(openapi::document())
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(format!("no route {}", uri.path()))
}

/// `If-Match: "N"` (also `W/"N"` or a bare `N`) -> the stream version the caller last saw.
fn expected_version(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| Problem::invalid("If-Match", "must be an ETag this API gave, like \"3\""))
}

/// `Idempotency-Key: <UUID>` -> the command id (a new one when absent). The key is scoped to the
/// caller: the command id is derived from the principal and the key, so another token that sends
/// the same key neither gets this caller's first answer nor blocks its command.
fn command_id(headers: &HeaderMap, principal_id: &str) -> Result<Uuid, Problem> {
    use sha2::{Digest, Sha256};
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(Uuid::now_v7());
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<Uuid>().ok())
        .filter(|id| !id.is_nil())
        .ok_or_else(|| Problem::invalid("Idempotency-Key", "must be a UUID"))?;
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
    Ok(Uuid::from_bytes(bytes))
}

async fn command(
    State(app): State<App>,
    Path((service, verb)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let principal = app.tokens.authenticate(authorization(&headers))?;
    let command_id = command_id(&headers, &principal.id)?;
    if !is_command(&service, &verb) {
        return Err(Problem::not_found(format!("no command {service}/{verb}")));
    }
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::invalid("body", format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(Problem::invalid("body", "must be a JSON object"));
    }
    let expected_version = expected_version(&headers)?;
    let meta = RequestMeta {
        command_id: Some(command_id),
        expected_version,
        ..RequestMeta::new(principal)
    };
    let reply: Value = rpc::request_raw(
        &app.nats,
        &subjects::command_subject(&service, &verb),
        &meta,
        body,
        TIMEOUT,
    )
    .await
    .map_err(|e| {
        let mut problem = Problem::from_rpc(e, expected_version.is_some());
        // The command id is the caller's Idempotency-Key (without one the id is new): a key
        // reused for a different command is named as the caller sent it.
        if problem.field.as_deref() == Some("command_id") && headers.contains_key("idempotency-key")
        {
            problem.field = Some("Idempotency-Key".to_owned());
        }
        problem
    })?;
    let mut response = Json(&reply).into_response();
    if let Some(version) = reply["stream_version"].as_u64()
        && let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\""))
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// What a view's query string asks: the read model's filters, the page size and the cursor.
#[derive(Debug, PartialEq)]
pub(crate) struct ViewQuery {
    pub(crate) filters: Map<String, Value>,
    pub(crate) limit: usize,
    pub(crate) cursor: Option<String>,
}

pub(crate) fn view_query(pairs: Vec<(String, String)>) -> Result<ViewQuery, Problem> {
    let mut q = ViewQuery {
        filters: Map::new(),
        limit: DEFAULT_LIMIT,
        cursor: None,
    };
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in pairs {
        if !seen.insert(name.clone()) {
            return Err(Problem::invalid(&name, "may be given once"));
        }
        match name.as_str() {
            "limit" => {
                q.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        Problem::invalid("limit", format!("must be 1 to {MAX_LIMIT}"))
                    })?;
            }
            "cursor" => q.cursor = Some(value),
            _ if VIEW_PARAMETERS.contains(&(name.as_str(), true)) => {
                let n = value
                    .parse::<u64>()
                    .map_err(|_| Problem::invalid(&name, "must be a whole number"))?;
                q.filters.insert(name, Value::from(n));
            }
            // Unknown names go through too: the read model refuses them by name.
            _ => {
                q.filters.insert(name, Value::String(value));
            }
        }
    }
    Ok(q)
}

async fn view(
    State(app): State<App>,
    Path(view): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, Problem> {
    let principal = app.tokens.authenticate(authorization(&headers))?;
    if !VIEWS.contains(&view.as_str()) {
        return Err(Problem::not_found(format!("no view {view}")));
    }
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map_err(|e| Problem::invalid("query", format!("malformed query string: {e}")))?;
    let q = view_query(pairs)?;
    // serde_json's map is ordered by key, so the same filters always give the same text.
    let canonical = Value::Object(q.filters.clone()).to_string();
    let offset = match &q.cursor {
        Some(c) => usize::try_from(app.cursors.decode(c, &view, &canonical)?)
            .map_err(|_| Problem::invalid("cursor", "out of range"))?,
        None => 0,
    };
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(principal)
    };
    // The read model pages the list itself (one item more than the page, to know whether another
    // follows), so a long list never travels whole over NATS.
    let mut filters = q.filters;
    if !view.ends_with("_show") {
        filters.insert("offset".into(), json!(offset));
        filters.insert("limit".into(), json!(q.limit.saturating_add(1)));
    }
    // The answer stays JSON text: a list is split into its items (each kept as text), never
    // parsed into a tree and written again.
    let answer: Box<RawValue> = rpc::request(
        &app.nats,
        &subjects::query_subject(&view),
        &meta,
        &Value::Object(filters),
        TIMEOUT,
    )
    .await
    .map_err(|e| Problem::from_rpc(e, false))?;
    if !answer.get().starts_with('[') {
        return Ok(json_text(answer.get().to_owned()));
    }
    let mut items: Vec<Box<RawValue>> =
        serde_json::from_str(answer.get()).map_err(|_| Problem::internal())?;
    let more = items.len() > q.limit;
    items.truncate(q.limit);
    let end = offset.saturating_add(items.len());
    let next_cursor = more.then(|| app.cursors.encode(end as u64, &view, &canonical));
    let page =
        serde_json::to_string(&Page { items, next_cursor }).map_err(|_| Problem::internal())?;
    Ok(json_text(page))
}

/// One page of a list view.
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

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_strings_become_filters() {
        let q = view_query(pairs(&[
            ("member_state", "KE"),
            ("priority", "1"),
            ("limit", "5"),
            ("cursor", "abc"),
        ]))
        .unwrap();
        assert_eq!(
            Value::Object(q.filters),
            json!({"member_state": "KE", "priority": 1})
        );
        assert_eq!(q.limit, 5);
        assert_eq!(q.cursor.as_deref(), Some("abc"));
        for (bad, field) in [
            (pairs(&[("limit", "0")]), "limit"),
            (pairs(&[("limit", "1001")]), "limit"),
            (pairs(&[("priority", "high")]), "priority"),
            (pairs(&[("theme", "a"), ("theme", "b")]), "theme"),
        ] {
            assert_eq!(view_query(bad).unwrap_err().field.as_deref(), Some(field));
        }
    }

    #[test]
    fn route_tables_cover_every_service() {
        assert!(is_command("assessments", "assessment_plan"));
        assert!(is_command("partners", "token_issue"));
        assert!(!is_command("partners", "assessment_plan"));
        assert!(!is_command("partners", "admin_head"));
        assert!(is_known_route("/api/v1/views/need_list"));
        assert!(!is_known_route("/api/v1/views/nope"));
        let services: Vec<&str> = COMMANDS.iter().map(|(s, _)| *s).collect();
        assert_eq!(services, subjects::SERVICES);
    }

    #[test]
    fn headers_become_request_metadata() {
        let mut h = HeaderMap::new();
        assert_eq!(expected_version(&h), Ok(None));
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"3\""));
        assert_eq!(expected_version(&h), Ok(Some(3)));
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"4\""));
        assert_eq!(expected_version(&h), Ok(Some(4)));
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert!(expected_version(&h).is_err());
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
}
