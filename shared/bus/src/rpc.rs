//! Typed request-reply over NATS: request metadata in headers, JSON bodies, typed error replies,
//! and the server side on the NATS service API (`async_nats::service`), so `nats micro ls`,
//! `info` and `stats` see every command service.

use std::future::Future;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::service::ServiceExt;
use bytes::Bytes;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tatrack_domain::error::DomainError;
use tatrack_domain::principal::Principal;
use uuid::Uuid;

use crate::subjects::headers;

/// Largest request body a service accepts (DESIGN: a payload over 1 MiB is refused by name).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Who asks, under which command and correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub principal: Principal,
    pub command_id: Option<Uuid>,
    pub correlation_id: Uuid,
    /// For a command: the aggregate's stream version the caller last saw (optimistic lock).
    pub expected_version: Option<u64>,
    /// For a command: a digest of its verb and body as the caller sent them, stored with the
    /// command id (set by the command service itself, never read from the wire).
    pub fingerprint: Option<String>,
}

impl RequestMeta {
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            command_id: Some(Uuid::now_v7()),
            correlation_id: Uuid::now_v7(),
            expected_version: None,
            fingerprint: None,
        }
    }

    pub fn to_headers(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            headers::PRINCIPAL,
            serde_json::to_string(&self.principal)
                .unwrap_or_default()
                .as_str(),
        );
        if let Some(id) = self.command_id {
            map.insert(headers::COMMAND_ID, id.to_string().as_str());
        }
        map.insert(
            headers::CORRELATION_ID,
            self.correlation_id.to_string().as_str(),
        );
        if let Some(version) = self.expected_version {
            map.insert(headers::EXPECTED_VERSION, version.to_string().as_str());
        }
        map
    }

    /// Reads the metadata of a request; a missing principal is refused, missing ids are made.
    pub fn from_headers(map: Option<&HeaderMap>) -> Result<Self, ErrorBody> {
        let get = |name: &str| map.and_then(|m| m.get(name)).map(|v| v.as_str().to_owned());
        let principal = get(headers::PRINCIPAL)
            .ok_or_else(|| ErrorBody::invalid(headers::PRINCIPAL, "header is missing"))?;
        let principal: Principal = serde_json::from_str(&principal).map_err(|e| {
            ErrorBody::invalid(headers::PRINCIPAL, &format!("not a principal: {e}"))
        })?;
        let parse_id = |name: &str| -> Result<Option<Uuid>, ErrorBody> {
            get(name)
                .map(|v| {
                    v.parse::<Uuid>()
                        .map_err(|_| ErrorBody::invalid(name, "not a UUID"))
                })
                .transpose()
        };
        Ok(Self {
            principal,
            command_id: parse_id(headers::COMMAND_ID)?,
            correlation_id: parse_id(headers::CORRELATION_ID)?.unwrap_or_else(Uuid::now_v7),
            expected_version: get(headers::EXPECTED_VERSION)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        ErrorBody::invalid(headers::EXPECTED_VERSION, "not a stream version")
                    })
                })
                .transpose()?,
            fingerprint: None,
        })
    }
}

/// What a caller can act on, as carried in an error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    NotFound,
    AlreadyExists,
    Conflict,
    Forbidden,
    Timeout,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as it is written in replies and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Conflict => "conflict",
            Self::Forbidden => "forbidden",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// An error reply: a code, a message for people, and the field and reason when input was bad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On a conflict: the version the aggregate is actually at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            reason: None,
            actual_version: None,
        }
    }

    pub fn invalid(field: &str, reason: &str) -> Self {
        Self {
            field: Some(field.to_owned()),
            reason: Some(reason.to_owned()),
            ..Self::new(ErrorCode::Invalid, format!("invalid {field}: {reason}"))
        }
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<DomainError> for ErrorBody {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::Invalid { field, reason } => Self {
                field: Some(field),
                reason: Some(reason),
                ..Self::new(ErrorCode::Invalid, message)
            },
            DomainError::NotFound { .. } => Self::new(ErrorCode::NotFound, message),
            DomainError::AlreadyExists { .. } => Self::new(ErrorCode::AlreadyExists, message),
            DomainError::Forbidden { .. } => Self::new(ErrorCode::Forbidden, message),
        }
    }
}

/// The body of every reply: exactly one of `ok` or `error`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply<T> {
    Ok(T),
    Error(ErrorBody),
}

/// Why a request failed on the caller's side or the service's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Remote(ErrorBody),
    #[error("no service answers {0}: is it running?")]
    NoResponders(String),
    #[error("request to {0} timed out")]
    Timeout(String),
    #[error("transport: {0}")]
    Transport(String),
    #[error("reply is not understood: {0}")]
    Decode(String),
}

/// Sends a typed request and decodes a typed reply.
pub async fn request<Q: Serialize, R: DeserializeOwned>(
    client: &async_nats::Client,
    subject: &str,
    meta: &RequestMeta,
    body: &Q,
    timeout: Duration,
) -> Result<R, Error> {
    let payload = serde_json::to_vec(body).map_err(|e| Error::Decode(e.to_string()))?;
    request_raw(client, subject, meta, payload.into(), timeout).await
}

/// Like `request`, with a body that is already bytes (scripts and tests send malformed JSON).
pub async fn request_raw<R: DeserializeOwned>(
    client: &async_nats::Client,
    subject: &str,
    meta: &RequestMeta,
    payload: Bytes,
    timeout: Duration,
) -> Result<R, Error> {
    let request = async_nats::Request::new()
        .payload(payload)
        .headers(meta.to_headers())
        .timeout(Some(timeout));
    let message = client
        .send_request(subject.to_owned(), request)
        .await
        .map_err(|e| match e.kind() {
            async_nats::RequestErrorKind::NoResponders => Error::NoResponders(subject.to_owned()),
            async_nats::RequestErrorKind::TimedOut => Error::Timeout(subject.to_owned()),
            async_nats::RequestErrorKind::MaxPayloadExceeded => Error::Remote(ErrorBody::invalid(
                "payload",
                "the request body is larger than the server accepts (1 MiB)",
            )),
            _ => Error::Transport(e.to_string()),
        })?;
    match serde_json::from_slice::<Reply<R>>(&message.payload) {
        Ok(Reply::Ok(value)) => Ok(value),
        Ok(Reply::Error(body)) => Err(Error::Remote(body)),
        Err(e) => Err(Error::Decode(e.to_string())),
    }
}

/// One request as a handler sees it.
pub struct Incoming {
    pub verb: String,
    pub meta: RequestMeta,
    pub payload: Bytes,
}

impl Incoming {
    /// Decodes the body, naming the place where the JSON is wrong.
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, ErrorBody> {
        let value: serde_json::Value = serde_json::from_slice(&self.payload)
            .map_err(|e| ErrorBody::invalid("body", &format!("malformed JSON: {e}")))?;
        from_value(&value)
    }
}

/// Decodes a JSON value, naming the field that is wrong when it does not fit.
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ErrorBody> {
    T::deserialize(value).map_err(|e| {
        let message = e.to_string();
        ErrorBody::invalid(&blame_field(value, &message), &message)
    })
}

/// Which field of `body` a serde error is about. serde names missing and unknown fields itself;
/// for a bad value (internally tagged enums lose the path) the field whose value the message
/// quotes is blamed, one level deep, e.g. `estimated_cost.currency`; otherwise `body`.
pub fn blame_field(body: &serde_json::Value, message: &str) -> String {
    if let Some(rest) = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))
        && let Some((field, _)) = rest.split_once('`')
    {
        return field.to_owned();
    }
    // Fragments the message quotes: `...` and "...".
    let mut fragments: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    fragments.extend(message.split('"').skip(1).step_by(2));
    fragments.retain(|f| !f.is_empty());
    // Exact quotes first, then prefixes: a prefix match only for fragments long enough to mean
    // something ("2026-02" of a bad date), never for a value that is itself a valid date (the
    // business date `on` of "2026-02-02" is not what "2026-02-30" broke); a one-character
    // fragment ("9" of an unknown status) must match exactly.
    let quoted = |v: &serde_json::Value, prefix: bool| {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => return false,
            other => other.to_string(),
        };
        fragments.iter().any(|f| {
            if prefix {
                f.len() >= 2 && text.starts_with(f) && text.parse::<jiff::civil::Date>().is_err()
            } else {
                text == *f
            }
        })
    };
    let serde_json::Value::Object(map) = body else {
        return "body".to_owned();
    };
    for prefix in [false, true] {
        for (key, value) in map {
            if key == "type" {
                continue;
            }
            if quoted(value, prefix) {
                return key.clone();
            }
            if let serde_json::Value::Object(inner) = value
                && let Some((k, _)) = inner.iter().find(|(_, v)| quoted(v, prefix))
            {
                return format!("{key}.{k}");
            }
        }
    }
    // "invalid type: string, expected a sequence" quotes no value: blame the field that is not
    // a list.
    if message.contains("expected a sequence")
        && let Some((k, _)) = map
            .iter()
            .find(|(k, v)| *k != "type" && !v.is_array() && !v.is_null())
    {
        return k.clone();
    }
    "body".to_owned()
}

/// Serves `verbs` under `prefix` as one NATS micro service until `shutdown` is cancelled. Each
/// request runs in its own task; in-flight requests finish before this returns. A handler
/// answers any serialisable value (the read model answers JSON text it has already written).
pub async fn serve<H, F, R>(
    client: async_nats::Client,
    name: &str,
    description: &str,
    prefix: &str,
    verbs: &[&str],
    handler: H,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), async_nats::Error>
where
    H: Fn(Incoming) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<R, ErrorBody>> + Send + 'static,
    R: Serialize + Send + 'static,
{
    let service = client
        .service_builder()
        .description(description)
        .start(name, env!("CARGO_PKG_VERSION"))
        .await?;
    let group = service.group(prefix);
    let mut endpoints = Vec::new();
    for verb in verbs {
        let endpoint = group.endpoint(*verb).await?;
        let verb = (*verb).to_owned();
        endpoints.push(endpoint.map(move |request| (verb.clone(), request)).boxed());
    }
    let mut requests = futures::stream::select_all(endpoints);
    // Ready (for `/readyz`) from here until this function returns and drops the registration.
    let registration = crate::ops::register(name);
    registration.set_ready(true);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            next = requests.next() => {
                let Some((verb, request)) = next else { break };
                let handler = handler.clone();
                let service_name = name.to_owned();
                tasks.spawn(async move {
                    let started = std::time::Instant::now();
                    let result = if request.message.payload.len() > MAX_REQUEST_BYTES {
                        Err(ErrorBody::invalid("payload", "the request body is over 1 MiB"))
                    } else {
                        match RequestMeta::from_headers(request.message.headers.as_ref()) {
                            Ok(meta) => handler(Incoming { verb: verb.clone(), meta, payload: request.message.payload.clone() }).await,
                            Err(e) => Err(e),
                        }
                    };
                    let outcome = match &result {
                        Ok(_) => "ok",
                        Err(e) => e.code.as_str(),
                    };
                    crate::ops::record_request(&service_name, &verb, outcome, started.elapsed().as_secs_f64());
                    let (body, headers) = match result {
                        Ok(value) => (serde_json::to_vec(&Reply::Ok(value)), HeaderMap::new()),
                        Err(error) => {
                            // Also set the micro-service error headers, for `nats` tooling.
                            let mut headers = HeaderMap::new();
                            headers.insert(async_nats::service::NATS_SERVICE_ERROR, error.message.as_str());
                            headers.insert(async_nats::service::NATS_SERVICE_ERROR_CODE, status_of(error.code));
                            (serde_json::to_vec(&Reply::<R>::Error(error)), headers)
                        }
                    };
                    let body = body.unwrap_or_default();
                    if let Err(e) = request.respond_with_headers(Ok(body.into()), headers).await {
                        tracing::warn!(error = %e, "reply not sent");
                    }
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
    service.stop().await?;
    Ok(())
}

fn status_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Invalid => "400",
        ErrorCode::Forbidden => "403",
        ErrorCode::NotFound => "404",
        ErrorCode::Conflict | ErrorCode::AlreadyExists => "409",
        ErrorCode::Timeout => "504",
        ErrorCode::Unavailable => "503",
        ErrorCode::Internal => "500",
    }
}

#[cfg(test)]
mod blame_tests {
    use super::blame_field;
    use serde_json::json;

    #[test]
    fn names_the_field_a_serde_error_is_about() {
        let body = json!({"type": "plan", "kind": "nope", "visit_start": "2026-02-30",
                          "estimated_cost": {"amount_minor": 5, "currency": "ZZZ"}});
        assert_eq!(blame_field(&body, "missing field `title`"), "title");
        assert_eq!(
            blame_field(&body, "unknown field `colour`, expected one of `a`"),
            "colour"
        );
        assert_eq!(
            blame_field(
                &body,
                "unknown variant `nope`, expected one of `desk_review`"
            ),
            "kind"
        );
        assert_eq!(
            blame_field(
                &body,
                "parsed date is not valid: parameter 'day' for `2026-02` is invalid"
            ),
            "visit_start"
        );
        // A valid date sharing the bad one's year and month is not blamed (`on` sorts first).
        let dated = json!({"on": "2026-02-02", "visit_start": "2026-02-30"});
        assert_eq!(
            blame_field(
                &dated,
                "parsed date is not valid: parameter 'day' for `2026-02` is invalid"
            ),
            "visit_start"
        );
        assert_eq!(
            blame_field(&body, "unknown currency `ZZZ`"),
            "estimated_cost.currency"
        );
        assert_eq!(
            blame_field(
                &json!({"resolutions": "x"}),
                "invalid type: string \"x\", expected a sequence"
            ),
            "resolutions"
        );
        assert_eq!(blame_field(&body, "something else entirely"), "body");
        assert_eq!(
            blame_field(
                &json!({"id": "x1", "to": "9"}),
                "unknown variant `9`, expected one of `1`, `2`"
            ),
            "to"
        );
    }
}
