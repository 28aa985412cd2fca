//! One correlation id, end to end, the way an operator reads it: `tatrack up --log-format json`
//! (the real binary) serves two HTTP requests that name their `X-Request-Id`; every service each
//! request reaches writes log lines that carry that id (the gateway's `http` span, each service's
//! `request` span), and the answer returns it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::rpc::RequestMeta;
use tatrack_domain::{Principal, Role};
use tatrack_gateway::token;
use tatrack_tests::*;

use crate::business_dates::{Fact, philippine_history};

/// A child `tatrack up` with JSON logs in a file; killed when dropped.
struct Up {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Up {
    fn start(h: &Harness, log_dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = log_dir.join("up.log");
        let child = Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"))
            .args(["--log-format", "json", "up"])
            .env("NATS_URL", h.nats.url())
            .env("TATRACK_NATS_CREDENTIALS", h.credentials_dir())
            .env("TATRACK_DATA_DIR", h.data_dir())
            .env("TATRACK_NOW", test_now().to_string())
            .env("TATRACK_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("start tatrack up");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The services each JSON log line naming `request_id` was written for (`gateway` for the
    /// HTTP span).
    fn services_logging(&self, request_id: &str) -> std::collections::BTreeSet<String> {
        let text = std::fs::read_to_string(&self.log).expect("the log");
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|line| {
                let spans = line["spans"].as_array()?.clone();
                let innermost = spans
                    .iter()
                    .rev()
                    .find(|s| s["request_id"].as_str() == Some(request_id))?;
                match innermost["name"].as_str() {
                    Some("http") => Some("gateway".to_owned()),
                    _ => innermost["service"].as_str().map(str::to_owned),
                }
            })
            .collect()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issues a token over NATS (as the system, the way `tatrack admin bootstrap` does) and returns
/// its secret.
async fn token_for(h: &Harness, role: Role, member_state: Option<&str>) -> String {
    let secret = token::new_secret();
    let body = json!({
        "role": role, "member_state": member_state, "label": format!("correlation {role}"),
        "hash": token::hash(&secret), "on": "2026-01-05",
    });
    command_to(
        &h.admin().await,
        &RequestMeta::new(Principal::system()),
        "partners",
        "token_issue",
        &body,
    )
    .await
    .expect("a token");
    secret
}

async fn post(
    http: &reqwest::Client,
    up: &Up,
    token: &str,
    path: &str,
    request_id: &str,
    body: Value,
) -> reqwest::Response {
    eventually(
        &format!("POST {path} to be answered"),
        Duration::from_secs(20),
        || async {
            let response = http
                .post(format!("{}/api/v1{path}", up.base))
                .bearer_auth(token)
                .header("x-request-id", request_id)
                .json(&body)
                .send()
                .await
                .ok()?;
            // The gateway knows a new token once its fold has the event: retry until then.
            (response.status() != reqwest::StatusCode::UNAUTHORIZED).then_some(response)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_id_in_the_logs_of_every_service_it_reaches() {
    let h = Harness::start();
    let logs = tempfile::tempdir().expect("a temp dir");
    let up = Up::start(&h, logs.path());
    let http = reqwest::Client::new();
    eventually("tatrack up ready", Duration::from_secs(60), || async {
        let r = http.get(format!("{}/readyz", up.base)).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;

    // The Philippine history up to the State's acceptance, over NATS as its actors.
    let client = h.client().await;
    let history = philippine_history();
    let accept = history
        .iter()
        .position(|f| f.verb == "referral_accept_by_state")
        .expect("the State accepts");
    for Fact {
        on,
        service,
        verb,
        body,
        by,
    } in &history[..accept]
    {
        let mut body = body.clone();
        body["on"] = json!(on);
        command_to(&client, &RequestMeta::new(by.clone()), service, verb, &body)
            .await
            .unwrap_or_else(|e| panic!("{verb}: {e}"));
    }

    // The State accepts over HTTP: the projects service records it and sends the need's coverage
    // to the assessments service and the offer's commitment to the partners service.
    let state = token_for(&h, Role::StateFocalPoint, Some("PH")).await;
    let fact = &history[accept];
    let referral = fact.body["id"].as_str().expect("the referral").to_owned();
    let accepted = post(
        &http,
        &up,
        &state,
        &format!("/referrals/{referral}/accept-by-state"),
        "accept-ph-referral-1",
        json!({ "on": fact.on }),
    )
    .await;
    assert_eq!(accepted.status(), 200, "{:?}", accepted.text().await);
    assert_eq!(
        accepted.headers()["x-request-id"],
        "accept-ph-referral-1",
        "the answer returns the id"
    );

    // A report: the reporter asks the read model for its figures.
    let staff = token_for(&h, Role::Coordinator, None).await;
    let reported = post(
        &http,
        &up,
        &staff,
        "/reports",
        "report-ph-1",
        json!({ "format": "json", "as_of": "2026-06-30" }),
    )
    .await;
    assert_eq!(reported.status(), 201, "{:?}", reported.text().await);

    let expect = [
        (
            "accept-ph-referral-1",
            &["gateway", "projects", "assessments", "partners"][..],
        ),
        ("report-ph-1", &["gateway", "reporter", "readmodel"][..]),
    ];
    for (request_id, services) in expect {
        let seen = eventually(
            &format!("log lines of {services:?} for {request_id}"),
            Duration::from_secs(10),
            || async {
                let seen = up.services_logging(request_id);
                services.iter().all(|s| seen.contains(*s)).then_some(seen)
            },
        )
        .await;
        assert!(!seen.is_empty(), "{request_id}");
    }
}
