//! The HTTP gateway in this process against the harness's NATS, and the one client the e2e suite
//! uses to call it: every answer is checked against the OpenAPI document (`openapi::check`)
//! before a test sees it, so a status, body or header the document does not promise fails the
//! test that met it.

use std::net::SocketAddr;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::Harness;
use crate::openapi;

pub struct Gateway {
    pub base: String,
    http: reqwest::Client,
    stop: tokio_util::sync::CancellationToken,
    /// The in-process gateway; `None` for one running elsewhere (`remote`).
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// An answer, checked against the document.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    /// The JSON body (a text body as a JSON string; an empty one as `null`).
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn request_id(&self) -> Option<&str> {
        self.header("x-request-id")
    }

    /// The problem's `field`, for assertions.
    pub fn field(&self) -> &Value {
        &self.body["field"]
    }
}

/// One request: what a test may set beyond the method and path.
#[derive(Default)]
pub struct Request<'a> {
    pub token: Option<&'a str>,
    pub body: Option<String>,
    pub headers: Vec<(&'a str, String)>,
}

impl Gateway {
    /// A gateway whose rate limits no test reaches (the fuzzer sends a thousand requests a
    /// second with one token); `start_with` sets them.
    pub async fn start(h: &Harness) -> Self {
        Self::start_with(
            h,
            tatrack_gateway::Limits {
                requests_per_second: 1_000_000,
                reports_per_hour: 1_000_000,
                in_flight: 10_000,
            },
        )
        .await
    }

    pub async fn start_with(h: &Harness, limits: tatrack_gateway::Limits) -> Self {
        let listener = tatrack_gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the gateway");
        let addr = listener.local_addr().expect("its address");
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(tatrack_gateway::serve_with(
            listener,
            h.client().await,
            crate::test_clock(),
            limits,
            None,
            stop.clone(),
        ));
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            stop,
            task: Some(task),
        }
    }

    /// A gateway running elsewhere (a `tatrack serve gateway` child) at `base`
    /// (`http://host:port`), its answers checked against the document all the same.
    pub fn remote(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            stop: tokio_util::sync::CancellationToken::new(),
            task: None,
        }
    }

    /// Waits until the gateway knows `secret` (its fold follows the partners stream).
    pub async fn until_known(&self, secret: &str) {
        crate::eventually(
            "the gateway to know the token",
            std::time::Duration::from_secs(20),
            || async {
                let answer = self.get(Some(secret), "/api/v1/organisations").await;
                (answer.status == StatusCode::OK).then_some(())
            },
        )
        .await;
    }

    pub async fn stop(self) {
        self.stop.cancel();
        if let Some(task) = self.task {
            task.await
                .expect("join the gateway")
                .expect("the gateway's result");
        }
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Answer {
        self.send(
            Method::GET,
            path,
            Request {
                token,
                ..Request::default()
            },
        )
        .await
    }

    /// POSTs `body` (JSON text, sent as it is) with `headers`.
    pub async fn post(
        &self,
        token: &str,
        path: &str,
        body: &str,
        headers: &[(&str, String)],
    ) -> Answer {
        self.send(
            Method::POST,
            path,
            Request {
                token: Some(token),
                body: Some(body.to_owned()),
                headers: headers.to_vec(),
            },
        )
        .await
    }

    /// Sends one request and checks its answer against the document; a mismatch panics, naming
    /// the operation, the status and what does not fit.
    pub async fn send(&self, method: Method, path: &str, request: Request<'_>) -> Answer {
        let mut builder = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = request.token {
            builder = builder.bearer_auth(token);
        }
        if let Some(body) = request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body);
        }
        let mut request_id = None;
        for (name, value) in &request.headers {
            if name.eq_ignore_ascii_case("x-request-id") {
                request_id = Some(value.as_str());
            }
            builder = builder.header(*name, value);
        }
        let response = builder
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        if let Err(e) = openapi::check(&openapi::Exchange {
            method: method.as_str(),
            path,
            request_id,
            status: status.as_u16(),
            headers: &headers,
            body: &text,
        }) {
            panic!("the answer does not fit the OpenAPI document: {e}");
        }
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            body,
            headers,
        }
    }
}
