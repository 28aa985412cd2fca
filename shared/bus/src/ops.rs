//! What an operator on call asks a process (DESIGN §4): `/healthz` (the process answers),
//! `/readyz` (every service it runs is serving) and `/metrics` (Prometheus text: requests per
//! service, verb and outcome with their time, and each service's positions). One registry per
//! process, because `tatrack up` runs every service in one process and one port answers for all;
//! `tatrack serve <service>` serves the same router on its own address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Reads a service's positions when metrics are rendered: (metric name, value).
type Gauges = Box<dyn Fn() -> Vec<(&'static str, u64)> + Send + Sync>;

/// One running service (an instance: tests run several of the same name in one process).
struct Instance {
    service: String,
    /// `None` for an entry that only reports positions.
    ready: Option<bool>,
    gauges: Option<Gauges>,
}

#[derive(Default)]
struct Registry {
    instances: BTreeMap<u64, Instance>,
    /// (service, verb, outcome) -> (requests, seconds spent)
    requests: BTreeMap<(String, String, String), (u64, f64)>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    f(&mut registry().lock().unwrap_or_else(PoisonError::into_inner))
}

/// A service's entry in the process's registry; dropping it removes the entry, so a stopped
/// service neither holds `/readyz` down nor reports stale positions.
pub struct Registration {
    id: u64,
}

/// Registers a running service, not ready yet.
pub fn register(service: &str) -> Registration {
    insert(service, Some(false), None)
}

/// Registers positions of a service to report with every scrape (e.g. the log's durable head,
/// a projection's applied position), until the registration is dropped.
pub fn gauges(
    service: &str,
    read: impl Fn() -> Vec<(&'static str, u64)> + Send + Sync + 'static,
) -> Registration {
    insert(service, None, Some(Box::new(read)))
}

fn insert(service: &str, ready: Option<bool>, gauges: Option<Gauges>) -> Registration {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    with(|r| {
        r.instances.insert(
            id,
            Instance {
                service: service.to_owned(),
                ready,
                gauges,
            },
        )
    });
    Registration { id }
}

impl Registration {
    pub fn set_ready(&self, ready: bool) {
        with(|r| {
            if let Some(i) = r.instances.get_mut(&self.id) {
                i.ready = Some(ready);
            }
        });
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        with(|r| r.instances.remove(&self.id));
    }
}

/// Counts one answered request; `outcome` is `ok` or the error code.
pub fn record_request(service: &str, verb: &str, outcome: &str, seconds: f64) {
    with(|r| {
        let entry = r
            .requests
            .entry((service.to_owned(), verb.to_owned(), outcome.to_owned()))
            .or_default();
        entry.0 += 1;
        entry.1 += seconds;
    });
}

/// Whether every registered service is ready (and at least one is registered), with each one.
pub fn readiness() -> (bool, Vec<(String, bool)>) {
    with(|r| {
        let each: Vec<(String, bool)> = r
            .instances
            .values()
            .filter_map(|i| Some((i.service.clone(), i.ready?)))
            .collect();
        (
            !each.is_empty() && each.iter().all(|(_, ready)| *ready),
            each,
        )
    })
}

/// The registry as Prometheus text.
pub fn render() -> String {
    let mut out = String::new();
    with(|r| {
        out.push_str(
            "# HELP tatrack_service_ready Whether a service in this process is serving.\n",
        );
        out.push_str("# TYPE tatrack_service_ready gauge\n");
        for i in r.instances.values() {
            if let Some(ready) = i.ready {
                let _ = writeln!(
                    out,
                    "tatrack_service_ready{{service=\"{}\"}} {}",
                    i.service,
                    u8::from(ready)
                );
            }
        }
        for i in r.instances.values() {
            for (name, value) in i.gauges.as_ref().map(|g| g()).unwrap_or_default() {
                let _ = writeln!(out, "{name}{{service=\"{}\"}} {value}", i.service);
            }
        }
        out.push_str("# HELP tatrack_requests_total Commands and queries answered over NATS.\n");
        out.push_str("# TYPE tatrack_requests_total counter\n");
        for ((service, verb, outcome), (count, _)) in &r.requests {
            let _ = writeln!(
                out,
                "tatrack_requests_total{{service=\"{service}\",verb=\"{verb}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        out.push_str("# HELP tatrack_request_seconds_sum Seconds spent answering them.\n");
        out.push_str("# TYPE tatrack_request_seconds_sum counter\n");
        for ((service, verb, outcome), (_, seconds)) in &r.requests {
            let _ = writeln!(
                out,
                "tatrack_request_seconds_sum{{service=\"{service}\",verb=\"{verb}\",outcome=\"{outcome}\"}} {seconds}"
            );
        }
    });
    out
}

/// `/healthz`, `/readyz` and `/metrics` over this process's registry.
pub fn router() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz() -> Response {
    let (ready, each) = readiness();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let services: serde_json::Map<String, serde_json::Value> = each
        .into_iter()
        .map(|(service, ready)| (service, serde_json::Value::Bool(ready)))
        .collect();
    (
        status,
        axum::Json(serde_json::json!({ "services": services })),
    )
        .into_response()
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(),
    )
        .into_response()
}

/// Serves the router on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_registration_leaves_readiness_and_metrics() {
        let a = register("ops-test-a");
        let positions = gauges("ops-test-a", || vec![("tatrack_log_head", 7)]);
        assert!(readiness().1.contains(&("ops-test-a".to_owned(), false)));
        a.set_ready(true);
        record_request("ops-test-a", "thing_do", "ok", 0.5);
        let text = render();
        assert!(text.contains("tatrack_service_ready{service=\"ops-test-a\"} 1"));
        assert!(text.contains("tatrack_log_head{service=\"ops-test-a\"} 7"));
        assert!(text.contains(
            "tatrack_requests_total{service=\"ops-test-a\",verb=\"thing_do\",outcome=\"ok\"} 1"
        ));
        drop(a);
        drop(positions);
        assert!(!readiness().1.iter().any(|(s, _)| s == "ops-test-a"));
        assert!(!render().contains("tatrack_log_head{service=\"ops-test-a\"}"));
    }
}
