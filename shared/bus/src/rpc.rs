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
use tatrack_domain::principal::Principal;
use tracing::Instrument as _;
use uuid::Uuid;

pub use tatrack_contract::error::{ErrorBody, ErrorCode, blame_field, from_value};

use crate::subjects::headers;

/// Largest request body a service accepts (DESIGN: a payload over 1 MiB is refused by name).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Who asks, under which command and correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub principal: Principal,
    pub command_id: Option<Uuid>,
    /// The request's correlation id (the HTTP `X-Request-Id`): every service that serves the
    /// request, and every request it makes on the request's behalf, logs it.
    pub correlation_id: String,
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
            correlation_id: current_request_id().unwrap_or_else(|| Uuid::now_v7().to_string()),
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
        map.insert(headers::CORRELATION_ID, self.correlation_id.as_str());
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
            correlation_id: get(headers::CORRELATION_ID)
                .filter(|id| is_request_id(id))
                .unwrap_or_else(|| Uuid::now_v7().to_string()),
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

tokio::task_local! {
    /// The correlation id of the request being served: a request a handler makes on its behalf
    /// (`RequestMeta::new`) carries it on.
    static REQUEST_ID: String;
}

/// The correlation id of the request this task is serving, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `future` as serving the request `id`: requests it makes carry `id`.
pub async fn with_request_id<F: Future>(id: String, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// Whether `id` may serve as a correlation id: 1 to 128 characters of `A-Za-z0-9._:-`, so it can
/// be logged and sent as a header as it is.
pub fn is_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
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
    /// The body as JSON; malformed JSON is refused as `body`.
    pub fn json(&self) -> Result<serde_json::Value, ErrorBody> {
        serde_json::from_slice(&self.payload)
            .map_err(|e| ErrorBody::invalid("body", &format!("malformed JSON: {e}")))
    }

    /// Decodes the body, naming the place where the JSON is wrong.
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, ErrorBody> {
        from_value(&self.json()?)
    }
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
                    let meta = RequestMeta::from_headers(request.message.headers.as_ref());
                    // Every line logged while serving the request carries its correlation id.
                    let request_id = meta.as_ref().map_or_else(|_| String::new(), |m| m.correlation_id.clone());
                    let span = tracing::info_span!("request", service = %service_name, verb = %verb, request_id = %request_id);
                    let result = with_request_id(request_id.clone(), async {
                        if request.message.payload.len() > MAX_REQUEST_BYTES {
                            return Err(ErrorBody::invalid("payload", "the request body is over 1 MiB"));
                        }
                        handler(Incoming { verb: verb.clone(), meta: meta?, payload: request.message.payload.clone() }).await
                    })
                    .instrument(span.clone())
                    .await;
                    let outcome = match &result {
                        Ok(_) => "ok",
                        Err(e) => e.code.as_str(),
                    };
                    span.in_scope(|| tracing::info!(outcome, ms = started.elapsed().as_millis() as u64, "answered"));
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
