//! What an operator on call sees: `tatrack serve <service>` (the real binary, as a child
//! process) answers `/healthz`, `/readyz` and `/metrics` on `TATRACK_OPS_ADDR`, with requests
//! counted by verb and outcome and each service's positions.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_tests::*;
use uuid::Uuid;

/// A child `tatrack serve <service>` with its ops address; killed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    fn start(h: &Harness, service: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"))
            .args(["serve", service])
            .env("NATS_URL", h.nats.url())
            .env("TATRACK_NATS_CREDENTIALS", h.credentials_dir())
            .env("TATRACK_DATA_DIR", h.data_dir())
            // The binary runs on the tests' clock, as the in-process services do.
            .env("TATRACK_NOW", test_now().to_string())
            .env("TATRACK_OPS_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tatrack serve");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = reqwest::get(format!("{}{path}", self.base)).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Waits until `/metrics` holds `line`, and returns the whole text.
    async fn metrics_with(&self, line: &str) -> String {
        eventually(
            &format!("metrics with {line}"),
            Duration::from_secs(20),
            || async {
                self.get("/metrics")
                    .await
                    .filter(|(_, text)| text.lines().any(|l| l == line))
                    .map(|(_, text)| text)
            },
        )
        .await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_answers_health_readiness_and_metrics() {
    let h = Harness::start();
    let client = h.client().await;
    let assessments = Served::start(&h, "assessments");
    let readmodel = Served::start(&h, "readmodel");

    for served in [&assessments, &readmodel] {
        eventually("ready", Duration::from_secs(20), || async {
            served.get("/readyz").await.filter(|(s, _)| *s == 200)
        })
        .await;
        assert_eq!(served.get("/healthz").await.map(|(s, _)| s), Some(200));
    }

    // One command accepted and one refused by name: both counted, by outcome.
    let meta = RequestMeta::new(coordinator());
    let subject = subjects::command_subject("assessments", "assessment_plan");
    let _: Value = rpc::request(
        &client,
        &subject,
        &meta,
        &plan_body(Uuid::now_v7(), "KE"),
        Duration::from_secs(10),
    )
    .await
    .expect("plan");
    let refused = rpc::request::<_, Value>(
        &client,
        &subject,
        &RequestMeta::new(coordinator()),
        &plan_body(Uuid::now_v7(), "XX"),
        Duration::from_secs(10),
    )
    .await;
    assert!(refused.is_err(), "an unknown country is refused");

    let text = assessments
        .metrics_with(
            "tatrack_requests_total{service=\"assessments\",verb=\"assessment_plan\",outcome=\"ok\"} 1",
        )
        .await;
    assert!(
        text.lines().any(|l| l
            == "tatrack_requests_total{service=\"assessments\",verb=\"assessment_plan\",outcome=\"invalid\"} 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "tatrack_log_durable_position{service=\"assessments\"} 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "tatrack_service_ready{service=\"assessments\"} 1"),
        "{text}"
    );
    // The read model reports how far it has applied each stream.
    readmodel
        .metrics_with("tatrack_applied_position{service=\"readmodel/assessments\"} 1")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tatrack_up_stops_everything_and_names_the_service_that_died() {
    let h = Harness::start();
    // The partners service cannot open its log: where its directory should be is a file.
    std::fs::write(h.data_dir().join("partners"), b"not a directory").unwrap();
    let up = tokio::process::Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"))
        .arg("up")
        .env("NATS_URL", h.nats.url())
        .env("TATRACK_NATS_CREDENTIALS", h.credentials_dir())
        .env("TATRACK_DATA_DIR", h.data_dir())
        .env("TATRACK_NOW", test_now().to_string())
        .env("TATRACK_HTTP_ADDR", "127.0.0.1:0")
        .kill_on_drop(true)
        .output();
    // It exits by itself (it used to wait for Ctrl-C with one service dead).
    let output = tokio::time::timeout(Duration::from_secs(60), up)
        .await
        .expect("tatrack up exits when a service dies")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the partners service stopped: opening the partners log"),
        "{stderr}"
    );
    assert!(stderr.contains("stopped every other service"), "{stderr}");
}
