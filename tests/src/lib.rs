//! The end-to-end test harness: a real `nats-server` on a free port with its own store (stopped
//! on drop) and the users and permissions of a deployment, the services started in-process
//! against it (each connected as its own NATS user), and small client helpers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tatrack_bus::auth::User;
use tatrack_bus::local::NatsServer;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::{Principal, Role};
use tatrack_eventlog::Clock;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use tatrack_bus::local;

pub mod fixtures;
pub mod gateway;
pub mod openapi;

pub use fixtures::*;

/// The instant the tests' clock starts at: every service and command under test takes "now"
/// and "today" from it, never from the machine (invariant 7 in ARCHITECTURE.md). Business dates
/// in the tests are before it. `TATRACK_TEST_NOW` (RFC 3339) runs the suite on another date.
pub const TEST_NOW: &str = "2031-03-14T09:00:00Z";

/// The tests' clock: it starts at `TATRACK_TEST_NOW` (default [`TEST_NOW`]) and runs on.
pub fn test_clock() -> Clock {
    Clock::starting_at(test_now())
}

/// When the tests' clock starts.
pub fn test_now() -> jiff::Timestamp {
    let text = std::env::var("TATRACK_TEST_NOW").unwrap_or_else(|_| TEST_NOW.to_owned());
    text.parse()
        .unwrap_or_else(|e| panic!("TATRACK_TEST_NOW={text:?} is not a time: {e}"))
}

/// The tests' today (UTC).
pub fn today() -> jiff::civil::Date {
    tatrack_eventlog::utc_date(test_now())
}

pub struct Harness {
    pub nats: NatsServer,
    pub data: tempfile::TempDir,
    /// The clock the services run on (see [`test_clock`]).
    pub clock: Clock,
}

impl Harness {
    pub fn start() -> Self {
        Self {
            nats: NatsServer::start().expect("start nats-server"),
            data: tempfile::tempdir().expect("temp dir"),
            clock: test_clock(),
        }
    }

    /// A harness with every service started and a connection as the gateway: where most tests
    /// start.
    pub async fn up() -> (Self, Services, async_nats::Client) {
        let h = Self::start();
        let services = h.services().await;
        let client = h.client().await;
        (h, services, client)
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// A connection as the gateway: what the tests do is what the gateway (and the CLI) does,
    /// send commands and queries on behalf of principals.
    pub async fn client(&self) -> async_nats::Client {
        self.client_as(User::Gateway).await
    }

    /// A connection as `user`: a service's own, or `User::Admin` for what no service may do
    /// (publishing foreign messages on purpose, deleting a stream, reading any stream).
    pub async fn client_as(&self, user: User) -> async_nats::Client {
        self.nats
            .connect_as(user, &format!("test-{user}"))
            .await
            .expect("connect")
    }

    /// A connection as `admin`.
    pub async fn admin(&self) -> async_nats::Client {
        self.client_as(User::Admin).await
    }

    /// The directory of every user's key: `TATRACK_NATS_CREDENTIALS` of a child `tatrack`.
    pub fn credentials_dir(&self) -> &Path {
        self.nats.credentials().dir()
    }

    /// The `tatrack` binary `bin` (a test's `env!("CARGO_BIN_EXE_tatrack-under-test")`) as an
    /// operator runs it on this harness's bus (`demo load`, `admin bootstrap`, `serve`): its NATS
    /// URL and credentials, on the tests' clock.
    pub fn tatrack(&self, bin: &str) -> std::process::Command {
        let mut command = std::process::Command::new(bin);
        command
            .env("NATS_URL", self.nats.url())
            .env("TATRACK_NATS_CREDENTIALS", self.credentials_dir())
            .env("TATRACK_NOW", test_now().to_string());
        command
    }

    /// Loads the demo data set with `bin demo load` (see [`Harness::tatrack`]); panics with what it
    /// printed if it fails.
    pub fn load_demo(&self, bin: &str) {
        let output = self
            .tatrack(bin)
            .args(["demo", "load"])
            .output()
            .expect("run tatrack demo load");
        assert!(output.status.success(), "tatrack demo load: {output:?}");
    }

    /// Every service in this process, each with its own NATS connection as its own user, as
    /// `tatrack up` runs them.
    pub async fn services(&self) -> Services {
        Services::start_on(
            &self.nats,
            self.data_dir().to_path_buf(),
            None,
            self.clock.clone(),
        )
        .await
    }
}

pub struct Services {
    stop: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
}

impl Services {
    /// Every service on the tests' clock.
    pub async fn start(nats: &NatsServer, data_dir: PathBuf) -> Self {
        Self::start_on(nats, data_dir, None, test_clock()).await
    }

    /// Like `start`, with the reporter on `report_schedule`.
    pub async fn start_with(
        nats: &NatsServer,
        data_dir: PathBuf,
        report_schedule: Option<tatrack_reporter::Schedule>,
    ) -> Self {
        Self::start_on(nats, data_dir, report_schedule, test_clock()).await
    }

    /// Every service on `clock`.
    pub async fn start_on(
        nats: &NatsServer,
        data_dir: PathBuf,
        report_schedule: Option<tatrack_reporter::Schedule>,
        clock: Clock,
    ) -> Self {
        let stop = CancellationToken::new();
        let stopped = || stop.child_token();
        let connect = |user: User| async move {
            nats.connect_as(user, &format!("test-{user}"))
                .await
                .expect("connect")
        };
        let config = |nats| tatrack_bus::service::Config {
            data_dir: data_dir.clone(),
            nats,
            clock: clock.clone(),
            cluster: None,
        };
        let tasks = vec![
            (
                "assessments",
                tokio::spawn(tatrack_assessments::run(
                    config(connect(User::Assessments).await),
                    stopped(),
                )),
            ),
            (
                "partners",
                tokio::spawn(tatrack_partners::run(
                    config(connect(User::Partners).await),
                    stopped(),
                )),
            ),
            (
                "projects",
                tokio::spawn(tatrack_projects::run(
                    config(connect(User::Projects).await),
                    stopped(),
                )),
            ),
            (
                "reporter",
                tokio::spawn(tatrack_reporter::run(
                    tatrack_reporter::Config {
                        data_dir: data_dir.clone(),
                        nats: connect(User::Reporter).await,
                        schedule: report_schedule,
                        clock: clock.clone(),
                        cluster: None,
                    },
                    stopped(),
                )),
            ),
            (
                "readmodel",
                tokio::spawn(tatrack_readmodel::run(
                    tatrack_readmodel::Config {
                        data_dir: data_dir.clone(),
                        nats: connect(User::Readmodel).await,
                        clock: clock.clone(),
                    },
                    stopped(),
                )),
            ),
        ];
        Self { stop, tasks }
    }

    /// Graceful stop; returns the services' own results.
    pub async fn stop(self) {
        self.stop.cancel();
        for (name, task) in self.tasks {
            task.await
                .expect("join")
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }
}

pub fn coordinator() -> Principal {
    Principal {
        id: "test-coordinator".into(),
        role: Role::Coordinator,
        organisation: None,
        member_state: None,
    }
}

pub fn principal(role: Role, organisation: Option<&str>, member_state: Option<&str>) -> Principal {
    Principal {
        id: format!("test-{role}"),
        role,
        organisation: organisation.map(str::to_owned),
        member_state: member_state.map(str::to_owned),
    }
}

/// Sends a command to the assessments service; waits (bounded) for the service to be there.
pub async fn command_as(
    client: &async_nats::Client,
    meta: &RequestMeta,
    verb: &str,
    body: &Value,
) -> Result<Value, rpc::Error> {
    command_to(client, meta, "assessments", verb, body).await
}

/// Sends a command to `service`; waits (bounded) for the service to be there.
pub async fn command_to(
    client: &async_nats::Client,
    meta: &RequestMeta,
    service: &str,
    verb: &str,
    body: &Value,
) -> Result<Value, rpc::Error> {
    let subject = subjects::command_subject(service, verb);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rpc::request(client, &subject, meta, body, Duration::from_secs(10)).await {
            Err(rpc::Error::NoResponders(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

pub async fn command(
    client: &async_nats::Client,
    verb: &str,
    body: &Value,
) -> Result<Value, rpc::Error> {
    command_as(client, &RequestMeta::new(coordinator()), verb, body).await
}

/// Asks the read model; waits (bounded) for it to be there.
pub async fn query_as(
    client: &async_nats::Client,
    principal: Principal,
    view: &str,
    body: &Value,
) -> Result<Value, rpc::Error> {
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(principal)
    };
    let subject = subjects::query_subject(view);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rpc::request(client, &subject, &meta, body, Duration::from_secs(10)).await {
            Err(rpc::Error::NoResponders(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

/// Every list view (and the positions), as a coordinator sees it.
pub async fn every_view(client: &async_nats::Client) -> Vec<(String, Value)> {
    every_view_as(client, coordinator()).await
}

/// Every list view (and the positions), as `principal` sees it.
pub async fn every_view_as(
    client: &async_nats::Client,
    principal: Principal,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for view in tatrack_readmodel::views()
        .iter()
        // (The matching lists are about one need or offer, and the changes about one report,
        // named in the query.)
        .filter(|v| {
            (v.ends_with("_list") && !v.ends_with("_match_list") && **v != "change_list")
                || **v == "rate_table_show"
                || **v == "position_show"
        })
    {
        let answer = query_as(client, principal.clone(), view, &json!({}))
            .await
            .unwrap_or_else(|e| panic!("{view} as {}: {e}", principal.id));
        out.push(((*view).to_owned(), answer));
    }
    out
}

/// Polls `check` until it returns `Some`, or panics after `limit` (no sleeps as waits).
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A valid `assessment_plan` body for a new assessment, planned on 2026-02-02.
pub fn plan_body(id: uuid::Uuid, member_state: &str) -> Value {
    serde_json::json!({
        "id": id, "member_state": member_state, "kind": "comprehensive_visit", "resolutions": [1373, 2178],
        "title": "Assessment visit", "visit_start": "2026-03-02", "visit_end": "2026-03-06",
        "classification": "restricted", "on": "2026-02-02",
    })
}

/// Issues an access token over NATS as an admin, recorded as an event like every token;
/// returns `(id, secret)`. A donor's organisation must be registered and active.
pub async fn issue_token(
    client: &async_nats::Client,
    role: Role,
    organisation: Option<&str>,
    member_state: Option<&str>,
) -> (uuid::Uuid, String) {
    let id = uuid::Uuid::now_v7();
    let secret = tatrack_gateway::token::new_secret();
    let body = serde_json::json!({
        "id": id, "role": role, "organisation": organisation, "member_state": member_state,
        "label": format!("test {role}"), "hash": tatrack_gateway::token::hash(&secret),
        "on": "2026-01-05",
    });
    let admin = RequestMeta::new(principal(Role::Admin, None, None));
    command_to(client, &admin, "partners", "token_issue", &body)
        .await
        .unwrap_or_else(|e| panic!("issuing a {role} token: {e}"));
    (id, secret)
}

/// The `tatrack` binary `bin` (a test's `env!("CARGO_BIN_EXE_tatrack-under-test")`) as a person
/// runs it: against the gateway at `url` with `token` (`TATRACK_URL`, `TATRACK_TOKEN`), on the
/// tests' clock, with a config directory that holds no saved credentials (never the user's).
pub fn cli(bin: &str, url: &str, token: Option<&str>) -> std::process::Command {
    let mut command = std::process::Command::new(bin);
    command
        .env("TATRACK_URL", url)
        .env("TATRACK_NOW", test_now().to_string())
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("tatrack-tests-no-config"),
        )
        .env_remove("TATRACK_TOKEN");
    if let Some(token) = token {
        command.env("TATRACK_TOKEN", token);
    }
    command
}

/// A child process that is killed (SIGKILL) and reaped when dropped, so a test that fails half
/// way leaves no `tatrack` running behind it (holding ports and temporary directories).
pub struct Reaped(pub std::process::Child);

impl std::ops::Deref for Reaped {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
