//! Fault tests on a real three-server NATS cluster with two instances of every command service
//! and two read models, each a `tatrack serve` child process (ARCHITECTURE.md, "Past one
//! machine"): SIGKILL of NATS servers, SIGKILL of the active instance of each command service,
//! and a paused (SIGSTOP) active instance, all under a steady command load. After each: no
//! acknowledged command lost or doubled, each stream equal to its lease holder's log, and both
//! read models answering every view as a fresh rebuild does.
//!
//! The tests take turns (one deployment at a time: twelve processes and three servers are
//! plenty for a small machine). `TATRACK_FAULT_ROUNDS` sets how many kills each test makes
//! (default 2; CI keeps the default).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tatrack_bus::auth::User;
use tatrack_bus::local::NatsCluster;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_tests::gateway::Gateway;
use tatrack_tests::*;
use uuid::Uuid;

/// Short enough for a test, long enough that a NATS election (5-10 s here) rarely costs it.
const LEASE_TTL: u64 = 10;
const CLIENTS: usize = 6;
const COMMAND_SERVICES: [&str; 4] = ["assessments", "partners", "projects", "reporter"];

/// One deployment at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rounds() -> usize {
    std::env::var("TATRACK_FAULT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2)
}

/// A `tatrack serve` child and where its output goes.
struct Process {
    child: Option<Reaped>,
    log: PathBuf,
}

struct Deployment {
    nats: NatsCluster,
    dir: tempfile::TempDir,
    processes: BTreeMap<String, Process>,
    admin: async_nats::Client,
    gateway_user: async_nats::Client,
}

impl Deployment {
    /// The cluster, provisioned at three replicas, with the command services on nodes 1 and 2
    /// and read models on nodes 1 and 2; ready once every service answers.
    async fn start() -> Self {
        let nats = NatsCluster::start().await.expect("start the NATS cluster");
        let admin = nats.admin().await.expect("connect as admin");
        let gateway_user = nats.client_as(User::Gateway).await.expect("connect");
        let mut deployment = Self {
            nats,
            dir: tempfile::tempdir().unwrap(),
            processes: BTreeMap::new(),
            admin,
            gateway_user,
        };
        let provision = deployment
            .command()
            .args(["admin", "provision", "--replicas", "3"])
            .env("TATRACK_LEASE_TTL", LEASE_TTL.to_string())
            .output()
            .unwrap();
        assert!(
            provision.status.success(),
            "provision: {}",
            String::from_utf8_lossy(&provision.stderr)
        );
        for node in [1, 2] {
            for service in COMMAND_SERVICES {
                deployment.spawn(service, node);
            }
            deployment.spawn("readmodel", node);
        }
        deployment.until_serving().await;
        deployment
    }

    /// A deployment with the load running and acknowledged.
    async fn under_load() -> (Self, Load) {
        let deployment = Self::start().await;
        let load = Load::start(&deployment.gateway_user);
        load.flowing_again(Instant::now(), Duration::from_secs(60))
            .await
            .expect("the load gets acknowledgements");
        (deployment, load)
    }

    /// What every fault test ends with: each acknowledged command once, each stream equal to its
    /// holder's log, each read model answering as a fresh rebuild.
    async fn nothing_lost_or_doubled(&mut self, acked: &[Acked]) {
        self.acknowledged_exactly_once(acked).await;
        self.streams_equal_holders_logs().await;
        self.read_models_equal_a_fresh_rebuild().await;
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"));
        command
            .env("NATS_URL", self.nats.urls())
            .env("TATRACK_NATS_CREDENTIALS", self.nats.credentials().dir())
            .env("TATRACK_NOW", test_now().to_string());
        command
    }

    fn name(service: &str, node: usize) -> String {
        format!("{service}@node{node}")
    }

    /// Starts `service` on `node` (its data directory is the node's), as instance `node<n>`.
    fn spawn(&mut self, service: &'static str, node: usize) {
        let node_dir = self.dir.path().join(format!("node{node}"));
        std::fs::create_dir_all(&node_dir).unwrap();
        let name = Self::name(service, node);
        let log = node_dir.join(format!("{service}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = self
            .command()
            .args(["serve", service])
            .env("TATRACK_DATA_DIR", &node_dir)
            .env("TATRACK_INSTANCE", format!("node{node}"))
            .env("TATRACK_LEASE_TTL", LEASE_TTL.to_string())
            .env("TATRACK_HTTP_ADDR", "127.0.0.1:0")
            .env("TATRACK_OPS_ADDR", "127.0.0.1:0")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("start tatrack serve");
        self.processes.insert(
            name,
            Process {
                child: Some(Reaped(child)),
                log,
            },
        );
    }

    fn process(&mut self, service: &str, node: usize) -> &mut Process {
        self.processes
            .get_mut(&Self::name(service, node))
            .expect("a process of the deployment")
    }

    fn kill(&mut self, service: &str, node: usize) {
        if let Some(mut child) = self.process(service, node).child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM, and wait for it to stop (a read model finishes what it applies).
    fn stop(&mut self, service: &str, node: usize) {
        if let Some(mut child) = self.process(service, node).child.take() {
            signal(child.id(), "TERM");
            child.wait().unwrap();
        }
    }

    fn restart(&mut self, service: &'static str, node: usize) {
        self.kill(service, node);
        self.spawn(service, node);
    }

    fn log_of(&self, service: &str, node: usize) -> String {
        self.processes
            .get(&Self::name(service, node))
            .and_then(|p| std::fs::read_to_string(&p.log).ok())
            .unwrap_or_default()
    }

    /// The base URL the gateway on `node` printed (`gateway: http://addr/api/v1`).
    async fn gateway_url(&self, node: usize) -> String {
        eventually("the gateway's address", Duration::from_secs(60), || {
            let log = self.log_of("gateway", node);
            async move {
                log.lines()
                    .find_map(|l| l.strip_prefix("gateway: "))
                    .map(|url| url.trim().trim_end_matches("/api/v1").to_owned())
            }
        })
        .await
    }

    /// The node whose instance holds `service`'s lease.
    async fn holder(&self, service: &str) -> Option<usize> {
        let js = tatrack_bus::jetstream(self.admin.clone(), Duration::from_secs(2));
        let (holder, _) = tatrack_bus::lease::holder(&js, service).await.ok()??;
        holder.instance.strip_prefix("node")?.parse().ok()
    }

    /// Waits until every command service has an active instance that answers, and a read model
    /// answers.
    async fn until_serving(&self) {
        for service in COMMAND_SERVICES {
            eventually(
                &format!("{service} active"),
                Duration::from_secs(60),
                || async move { self.head(service).await },
            )
            .await;
        }
        eventually("a read model", Duration::from_secs(60), || async move {
            query_as(&self.admin, coordinator(), "position_show", &json!({}))
                .await
                .ok()
        })
        .await;
    }

    /// What the active instance of `service` has acknowledged (`admin_head`).
    async fn head(&self, service: &str) -> Option<u64> {
        let meta = RequestMeta::new(coordinator());
        let head = tokio::time::timeout(
            Duration::from_secs(3),
            command_to(&self.admin, &meta, service, "admin_head", &json!({})),
        )
        .await
        .ok()?
        .ok()?;
        head["head"].as_u64()
    }

    /// Each stream equals the log of the instance holding its lease (it compares them itself,
    /// message by message).
    async fn streams_equal_holders_logs(&self) {
        for service in COMMAND_SERVICES {
            eventually(
                &format!("{service}: stream == the holder's log"),
                Duration::from_secs(60),
                || async move {
                    let meta = RequestMeta::new(coordinator());
                    let c = command_to(
                        &self.admin,
                        &meta,
                        service,
                        "admin_stream_verify",
                        &json!({}),
                    )
                    .await
                    .ok()?;
                    (c["differences"] == json!([]) && c["stream_last"] == c["log_head"])
                        .then_some(())
                },
            )
            .await;
        }
    }

    /// Every acknowledged command is in the stream exactly once (retrying it answers its first
    /// answer), and no command id has two events in the assessments stream.
    async fn acknowledged_exactly_once(&self, acked: &[Acked]) {
        for a in acked {
            let reply: Value = eventually(
                "the retry of an acknowledged command",
                Duration::from_secs(30),
                || async move {
                    command_as(&self.gateway_user, &a.meta, "assessment_plan", &a.body)
                        .await
                        .ok()
                },
            )
            .await;
            assert_eq!(
                reply["idempotent"], true,
                "acknowledged command {} was lost",
                a.id
            );
            assert_eq!(
                reply["first_position"].as_u64(),
                Some(a.first_position),
                "acknowledged command {} moved",
                a.id
            );
        }
        let js = tatrack_bus::jetstream(self.admin.clone(), Duration::from_secs(5));
        let stream = js
            .get_stream(subjects::stream_name("assessments"))
            .await
            .unwrap();
        let last = stream.cached_info().state.last_sequence;
        let mut seen: HashMap<Uuid, u64> = HashMap::new();
        for sequence in 1..=last {
            let message = stream.get_raw_message(sequence).await.unwrap();
            let envelope: tatrack_eventlog::Envelope =
                serde_json::from_slice(&message.payload).unwrap();
            assert_eq!(envelope.position, sequence);
            if let Some(command_id) = envelope.command_id
                && let Some(earlier) = seen.insert(command_id, sequence)
            {
                panic!("command {command_id} recorded twice: at {earlier} and {sequence}");
            }
        }
        for a in acked {
            assert!(
                seen.contains_key(&a.command_id),
                "acknowledged command {} is not in the stream",
                a.id
            );
        }
        eprintln!(
            "{} acknowledged commands each once in the stream ({} events, {} command ids)",
            acked.len(),
            last,
            seen.len()
        );
    }

    /// Every view, once the read model answering holds everything up to `heads`.
    async fn every_view_at(&self, heads: &serde_json::Map<String, Value>) -> Vec<(String, Value)> {
        eventually(
            "the read model caught up",
            Duration::from_secs(60),
            || async move {
                query_as(
                    &self.admin,
                    coordinator(),
                    "need_list",
                    &json!({ "min_positions": heads }),
                )
                .await
                .ok()
            },
        )
        .await;
        every_view(&self.admin).await
    }

    /// Both read models answer every view as a read model rebuilt from nothing does: each is
    /// asked alone (the other stopped), then a fresh one on an empty directory.
    async fn read_models_equal_a_fresh_rebuild(&mut self) {
        let mut heads = serde_json::Map::new();
        let this = &*self;
        for service in COMMAND_SERVICES {
            let head = eventually("a head", Duration::from_secs(30), || async move {
                this.head(service).await
            })
            .await;
            heads.insert(service.to_owned(), json!(head));
        }
        let mut answers = Vec::new();
        // The one on node1 alone, then the one on node2 alone, then a fresh one on node3.
        self.stop("readmodel", 2);
        answers.push(self.every_view_at(&heads).await);
        self.spawn("readmodel", 2);
        self.stop("readmodel", 1);
        answers.push(self.every_view_at(&heads).await);
        self.spawn("readmodel", 3);
        self.stop("readmodel", 2);
        answers.push(self.every_view_at(&heads).await);
        // Back to two read models.
        self.spawn("readmodel", 1);
        self.spawn("readmodel", 2);
        self.stop("readmodel", 3);
        let fresh = answers.pop().unwrap();
        for (node, answer) in answers.iter().enumerate() {
            for ((view, live), (_, rebuilt)) in answer.iter().zip(&fresh) {
                assert_eq!(
                    live,
                    rebuilt,
                    "read model on node{}: {view} differs from a fresh rebuild",
                    node + 1
                );
            }
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

#[derive(Clone)]
struct Acked {
    meta: RequestMeta,
    command_id: Uuid,
    body: Value,
    id: Uuid,
    first_position: u64,
}

/// Clients planning assessments until stopped; each command is sent again with the same
/// command id until it is acknowledged (or 30 s pass: then it is abandoned, maybe recorded).
struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<Vec<Acked>>>,
    acks: Arc<std::sync::Mutex<Vec<Instant>>>,
}

impl Load {
    fn start(client: &async_nats::Client) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let subject = subjects::command_subject("assessments", "assessment_plan");
        let clients = (0..CLIENTS)
            .map(|_| {
                let (client, subject, stop, acks) =
                    (client.clone(), subject.clone(), stop.clone(), acks.clone());
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let id = Uuid::now_v7();
                        let command_id = Uuid::now_v7();
                        let meta = RequestMeta {
                            command_id: Some(command_id),
                            ..RequestMeta::new(coordinator())
                        };
                        let body = plan_body(id, "KE");
                        let given_up = Instant::now() + Duration::from_secs(30);
                        while Instant::now() < given_up && !stop.load(Ordering::Relaxed) {
                            match rpc::request::<_, Value>(
                                &client,
                                &subject,
                                &meta,
                                &body,
                                Duration::from_secs(3),
                            )
                            .await
                            {
                                Ok(reply) => {
                                    let at = Instant::now();
                                    acks.lock().unwrap().push(at);
                                    mine.push(Acked {
                                        meta: meta.clone(),
                                        command_id,
                                        body: body.clone(),
                                        id,
                                        first_position: reply["first_position"].as_u64().unwrap(),
                                    });
                                    break;
                                }
                                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    mine
                })
            })
            .collect();
        Self {
            stop,
            clients,
            acks,
        }
    }

    /// How long after `since` the first acknowledgement came (`None`: none within `limit`).
    async fn flowing_again(&self, since: Instant, limit: Duration) -> Option<Duration> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(first) = self.acks.lock().unwrap().iter().find(|at| **at > since) {
                return Some(*first - since);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    async fn finish(self) -> Vec<Acked> {
        self.stop.store(true, Ordering::Relaxed);
        let mut acked = Vec::new();
        for client in self.clients {
            acked.extend(client.await.unwrap());
        }
        acked
    }
}

/// p50 and max of recovery times, for the test's output.
fn summary(what: &str, times: &[Duration]) {
    let mut sorted = times.to_vec();
    sorted.sort();
    if let (Some(p50), Some(max)) = (sorted.get(sorted.len() / 2), sorted.last()) {
        eprintln!(
            "{what}: {} runs, recovery p50 {:.2} s, max {:.2} s",
            sorted.len(),
            p50.as_secs_f64(),
            max.as_secs_f64()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_any_nats_server_loses_no_acknowledged_command() {
    let _turn = TURN.lock().await;
    let (mut d, load) = Deployment::under_load().await;
    let mut recoveries = Vec::new();
    for round in 0..rounds().max(2) {
        // Alternately the assessments stream's leader and a server that leads nothing of it.
        let js = tatrack_bus::jetstream(d.admin.clone(), Duration::from_secs(5));
        let mut stream = js
            .get_stream(subjects::stream_name("assessments"))
            .await
            .unwrap();
        let leader = stream
            .info()
            .await
            .unwrap()
            .cluster
            .clone()
            .and_then(|c| c.leader)
            .and_then(|name| NatsCluster::index_of(&name))
            .unwrap_or(0);
        let victim = if round % 2 == 0 {
            leader
        } else {
            (leader + 1) % 3
        };
        let killed = Instant::now();
        d.nats.kill(victim);
        let recovered = load
            .flowing_again(killed, Duration::from_secs(60))
            .await
            .unwrap_or_else(|| {
                panic!(
                    "commands did not flow again after killing node{}",
                    victim + 1
                )
            });
        eprintln!(
            "round {round}: killed node{} ({}), commands flow again after {:.2} s",
            victim + 1,
            if victim == leader {
                "stream leader"
            } else {
                "follower"
            },
            recovered.as_secs_f64()
        );
        recoveries.push(recovered);
        // Let the load run on the two servers left, then bring the third back.
        tokio::time::sleep(Duration::from_secs(2)).await;
        d.nats.restart(victim).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let acked = load.finish().await;
    summary("NATS server SIGKILL", &recoveries);
    assert!(acked.len() >= 20, "only {} acknowledged", acked.len());
    d.nothing_lost_or_doubled(&acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_each_active_instance_hands_over_to_its_standby() {
    let _turn = TURN.lock().await;
    let (mut d, load) = Deployment::under_load().await;
    let mut takeovers = Vec::new();
    for round in 0..rounds() {
        // Every service's active instance at once (in a real machine loss they go together).
        let mut holders = HashMap::new();
        for service in COMMAND_SERVICES {
            holders.insert(service, d.holder(service).await.expect("a lease holder"));
        }
        let killed = Instant::now();
        for (service, node) in &holders {
            d.kill(service, *node);
        }
        for service in COMMAND_SERVICES {
            let old = holders[service];
            let d = &d;
            eventually(
                &format!("{service}: the standby takes over"),
                Duration::from_secs(LEASE_TTL + 30),
                || async move {
                    let new = d.holder(service).await?;
                    (new != old).then_some(())?;
                    d.head(service).await
                },
            )
            .await;
            let took = killed.elapsed();
            eprintln!(
                "round {round}: {service} taken over after {:.2} s",
                took.as_secs_f64()
            );
            takeovers.push(took);
        }
        // A real command goes through the new partners holder too.
        let org = format!("PROBE-{}", Uuid::now_v7().simple());
        command_to(
            &d.admin,
            &RequestMeta::new(coordinator()),
            "partners",
            "organisation_register",
            &json!({ "id": org, "name": "Probe", "kind": "civil_society", "iati_type": "22",
                     "iati_identifier": null, "country": null, "on": "2026-01-02" }),
        )
        .await
        .unwrap();
        // The killed instances come back as standbys.
        for (service, node) in holders {
            d.spawn(service, node);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let acked = load.finish().await;
    summary(
        &format!("active instance SIGKILL (lease TTL {LEASE_TTL} s)"),
        &takeovers,
    );
    d.nothing_lost_or_doubled(&acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_active_instance_steps_down_by_itself() {
    let _turn = TURN.lock().await;
    let (mut d, load) = Deployment::under_load().await;
    let paused = d.holder("assessments").await.expect("a holder");
    let pid = d
        .process("assessments", paused)
        .child
        .as_ref()
        .unwrap()
        .id();
    signal(pid, "STOP");
    let stopped_at = Instant::now();
    let d_ref = &d;
    eventually(
        "the standby takes over from the paused instance",
        Duration::from_secs(LEASE_TTL + 30),
        || async move { (d_ref.holder("assessments").await? != paused).then_some(()) },
    )
    .await;
    eprintln!(
        "paused instance replaced after {:.2} s",
        stopped_at.elapsed().as_secs_f64()
    );
    // Past the TTL for good measure, then let it run again: it must find itself deposed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    signal(pid, "CONT");
    eventually(
        "the paused instance steps down",
        Duration::from_secs(LEASE_TTL + 30),
        || {
            let log = d_ref.log_of("assessments", paused);
            async move { log.contains("stepped down").then_some(()) }
        },
    )
    .await;
    // The load goes on against the new holder alone for a while.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let acked = load.finish().await;
    assert_ne!(d.holder("assessments").await, Some(paused));
    d.acknowledged_exactly_once(&acked).await;
    d.streams_equal_holders_logs().await;
    // The deposed instance follows the stream again and could take over: kill the holder and
    // it does, with the whole stream.
    let holder = d.holder("assessments").await.unwrap();
    d.kill("assessments", holder);
    let d_ref = &d;
    eventually(
        "the once-paused instance takes over",
        Duration::from_secs(LEASE_TTL + 30),
        || async move {
            (d_ref.holder("assessments").await? == paused).then_some(())?;
            d_ref.head("assessments").await
        },
    )
    .await;
    d.restart("assessments", holder);
    d.nothing_lost_or_doubled(&acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_over_two_read_models_answer_alike_and_read_their_writes() {
    let _turn = TURN.lock().await;
    let mut d = Deployment::start().await;
    d.spawn("gateway", 1);
    d.spawn("gateway", 2);
    let gateways = [
        Gateway::remote(&d.gateway_url(1).await),
        Gateway::remote(&d.gateway_url(2).await),
    ];
    // The operator's first admin token, issued on the server host.
    let bootstrap = d.command().args(["admin", "bootstrap"]).output().unwrap();
    assert!(
        bootstrap.status.success(),
        "{}",
        String::from_utf8_lossy(&bootstrap.stderr)
    );
    let token = String::from_utf8(bootstrap.stdout)
        .unwrap()
        .trim()
        .to_owned();
    for gateway in &gateways {
        gateway.until_known(&token).await;
    }
    // Written through one gateway, read at once through the other: the read model answering
    // (either one) waits for the position the write was acknowledged at.
    let mut last = 0;
    for round in 0..10 {
        let (writer, reader) = (&gateways[round % 2], &gateways[(round + 1) % 2]);
        let mut body = plan_body(Uuid::nil(), "KE");
        body.as_object_mut().unwrap().remove("id");
        let created = writer
            .post(&token, "/api/v1/assessments", &body.to_string(), &[])
            .await;
        assert_eq!(
            created.status,
            reqwest::StatusCode::CREATED,
            "{}",
            created.body
        );
        last = created.body["last_position"].as_u64().unwrap();
        let location = created.location().unwrap().to_owned();
        let shown = reader
            .get(Some(&token), &format!("{location}?min_position={last}"))
            .await;
        assert_eq!(
            shown.status,
            reqwest::StatusCode::OK,
            "round {round}: {}",
            shown.body
        );
        assert_eq!(shown.body["id"], created.body["id"]);
    }
    // The same list through either gateway (and so from either read model), several times.
    let path = format!("/api/v1/assessments?min_position={last}");
    let first = gateways[0].get(Some(&token), &path).await;
    assert_eq!(first.status, reqwest::StatusCode::OK);
    assert_eq!(
        first.body["items"].as_array().map(Vec::len),
        Some(10),
        "{}",
        first.body
    );
    for i in 0..6 {
        let again = gateways[i % 2].get(Some(&token), &path).await;
        assert_eq!(
            again.body,
            first.body,
            "gateway {} answered differently",
            i % 2 + 1
        );
    }
    // `tatrack status` names each lease's holder and the streams' replicas.
    let status = d.command().args(["status", "--json"]).output().unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    for service in status.as_array().unwrap() {
        let name = service["service"].as_str().unwrap();
        let holder = d.holder(name).await.unwrap();
        assert_eq!(
            service["lease"]["instance"],
            format!("node{holder}"),
            "{service}"
        );
        assert_eq!(service["stream"]["replicas"], 3, "{service}");
        assert_eq!(
            service["stream"]["followers"].as_array().map(Vec::len),
            Some(2),
            "{service}"
        );
    }
}
