//! Prometheus text metrics: requests by route, method and status, and their latency sums. A few
//! counters behind one lock are enough at this scale; no exporter crate is needed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// (route, method, status) -> (requests, seconds spent)
type Counters = BTreeMap<(String, String, u16), (u64, f64)>;

#[derive(Clone, Default)]
pub(crate) struct Metrics {
    inner: Arc<Mutex<Counters>>,
}

impl Metrics {
    fn record(&self, route: String, method: String, status: u16, seconds: f64) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry((route, method, status)).or_default();
        entry.0 += 1;
        entry.1 += seconds;
    }

    pub(crate) fn render(&self) -> String {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        out.push_str("# HELP tatrack_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE tatrack_http_requests_total counter\n");
        for ((route, method, status), (count, _)) in map.iter() {
            let _ = writeln!(
                out,
                "tatrack_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP tatrack_http_request_duration_seconds_sum Seconds spent answering.\n");
        out.push_str("# TYPE tatrack_http_request_duration_seconds_sum counter\n");
        for ((route, method, status), (_, seconds)) in map.iter() {
            let _ = writeln!(
                out,
                "tatrack_http_request_duration_seconds_sum{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {seconds}"
            );
        }
        out
    }
}

/// Counts every request under its route pattern (`/api/v1/needs/{id}`: the route table bounds
/// their number), or `unmatched`.
pub(crate) async fn track(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // Only the methods HTTP defines are labels; any other token a caller invents is `other`, so
    // nobody can grow the exposition without bound.
    let method = match *request.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::PATCH
        | Method::OPTIONS
        | Method::TRACE
        | Method::CONNECT => request.method().as_str().to_owned(),
        _ => "other".to_owned(),
    };
    let pattern = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let response = next.run(request).await;
    let route = pattern.unwrap_or_else(|| "unmatched".to_owned());
    metrics.record(
        route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
