//! The write path: the event log (`append`) and commands over NATS (`commands`), each next to the
//! raw limit it stands on, measured in the same run (a bare sled insert+flush loop; a bare
//! JetStream publish).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use serde_json::json;
use tatrack_bus::auth::User;
use tatrack_bus::local::{NatsCluster, NatsServer};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::Principal;
use tatrack_eventlog::Clock;
use tatrack_eventlog::{CommandMeta, Expected, NewEvent, Store};
use tokio::sync::Mutex;
use uuid::Uuid;

/// Latencies of one run, in microseconds.
pub(crate) struct Sample {
    pub(crate) count: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_us: Vec<u64>,
}

impl Sample {
    /// The latencies the clients' `tasks` measured, joined: one sample over the time since
    /// `start`.
    async fn joined(
        tasks: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<u64>>>>,
        start: Instant,
    ) -> anyhow::Result<Self> {
        let mut latencies_us = Vec::new();
        for t in tasks {
            latencies_us.extend(t.await??);
        }
        Ok(Sample {
            count: latencies_us.len(),
            elapsed: start.elapsed(),
            latencies_us,
        })
    }

    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`th quantile (0.5, 0.99) in milliseconds.
    pub(crate) fn percentile(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }

    pub(crate) fn line(&mut self, what: &str) -> String {
        format!(
            "{what:<44} {:>10.0}/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.99)
        )
    }
}

fn event() -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        kind: "bench_event".into(),
        schema: 1,
        on: None,
        payload: json!({ "text": "x".repeat(180) }),
    }
}

fn rss_mib() -> f64 {
    rss_mib_of("/proc/self/status")
}

/// VmRSS of a `/proc/<pid>/status` file, in MiB (0 where there is none).
pub(crate) fn rss_mib_of(status: &str) -> f64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Bare sled: insert 100 events' worth of bytes, flush, fdatasync; repeat. The best a log on
/// sled can do with groups of 100.
fn bare_sled(duration: Duration) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::open(dir.path())?;
    let file = std::fs::File::open(dir.path().join("db"))?;
    let value = serde_json::to_vec(&event())?;
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < duration {
        for _ in 0..100 {
            n += 1;
            db.insert(n.to_be_bytes(), value.as_slice())?;
        }
        db.flush()?;
        file.sync_data()?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// The floor of the log's layout: the five sled inserts one append makes (log, stream index,
/// event id, head, command id), without a transaction or a flush. The log cannot be faster than
/// this on one writer thread, whatever the flushes share.
fn bare_layout(duration: Duration) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new()
        .path(dir.path())
        .mode(sled::Mode::HighThroughput)
        .flush_every_ms(None)
        .open()?;
    let trees: Vec<sled::Tree> = ["log", "index", "event_ids", "heads", "commands"]
        .iter()
        .map(|name| db.open_tree(name))
        .collect::<Result<_, _>>()?;
    let value = serde_json::to_vec(&event())?;
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < duration {
        n += 1;
        let stream = format!("bench-{}", n % 64);
        trees[0].insert(n.to_be_bytes(), value.as_slice())?;
        trees[1].insert(format!("{stream}\0{n}").as_bytes(), &n.to_be_bytes())?;
        trees[2].insert(Uuid::now_v7().as_bytes(), &n.to_be_bytes())?;
        trees[3].insert(stream.as_bytes(), &n.to_be_bytes())?;
        trees[4].insert(Uuid::now_v7().as_bytes(), &n.to_be_bytes())?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub(crate) async fn append(clock: &Clock, duration: Duration) -> anyhow::Result<()> {
    println!(
        "tatrack-bench append: {} s per measurement, 2 cores",
        duration.as_secs()
    );
    let bare = tokio::task::spawn_blocking(move || bare_sled(duration)).await??;
    println!(
        "{:<44} {bare:>10.0}/s   (groups of 100, flush + fdatasync)",
        "bare sled insert+flush"
    );
    let layout = tokio::task::spawn_blocking(move || bare_layout(duration)).await??;
    println!(
        "{:<44} {layout:>10.0}/s   (5 inserts per event, no flush: the writer's floor)",
        "bare sled, the log's 5 inserts"
    );
    for writers in [1usize, 16, 64] {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), clock)?;
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            let latencies = latencies.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while start.elapsed() < duration {
                    let t = Instant::now();
                    store
                        .append(
                            &format!("bench-{w}"),
                            Expected::Any,
                            vec![event()],
                            CommandMeta {
                                principal: "bench".into(),
                                command_id: Some(Uuid::now_v7()),
                                correlation_id: None,
                                fingerprint: None,
                            },
                        )
                        .await?;
                    mine.push(t.elapsed().as_micros() as u64);
                }
                latencies.lock().await.extend(mine);
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let elapsed = start.elapsed();
        let latencies_us = std::mem::take(&mut *latencies.lock().await);
        let mut sample = Sample {
            count: latencies_us.len(),
            elapsed,
            latencies_us,
        };
        let stats = store.stats();
        println!(
            "{}   {:>5.1} appends/flush   {:>3.0}% of bare   flush {:.2} ms, write {:.1} us/append",
            sample.line(&format!("log append, {writers} writers")),
            stats.appends as f64 / stats.flushes.max(1) as f64,
            100.0 * sample.per_second() / bare,
            stats.flush_micros as f64 / stats.flushes.max(1) as f64 / 1000.0,
            stats.write_micros as f64 / stats.appends.max(1) as f64,
        );
    }
    println!("RSS {:.0} MiB", rss_mib());
    Ok(())
}

fn plan_body() -> serde_json::Value {
    json!({
        "id": Uuid::now_v7(), "member_state": "KE", "kind": "desk_review", "resolutions": [1373],
        "title": "Bench desk review", "visit_start": "2026-01-05", "visit_end": "2026-01-09",
        "classification": "restricted",
    })
}

async fn send_plan(client: &async_nats::Client) -> anyhow::Result<serde_json::Value> {
    send(client, "assessments", "assessment_plan", &plan_body()).await
}

/// Bare JetStream: pipelined publishes with a Msg-Id into a file stream of `replicas` copies,
/// 1024 acks in flight.
async fn bare_jetstream(
    client: &async_nats::Client,
    duration: Duration,
    replicas: usize,
) -> anyhow::Result<f64> {
    let js = tatrack_bus::jetstream(client.clone(), Duration::from_secs(5));
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "BENCH_RAW".into(),
        subjects: vec!["bench.raw.>".into()],
        storage: async_nats::jetstream::stream::StorageType::File,
        num_replicas: replicas,
        ..Default::default()
    })
    .await?;
    let payload = bytes::Bytes::from(serde_json::to_vec(&event())?);
    let mut in_flight = FuturesOrdered::new();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        n += 1;
        let msg = async_nats::jetstream::message::PublishMessage::build()
            .payload(payload.clone())
            .message_id(Uuid::now_v7().to_string());
        in_flight.push_back(
            js.send_publish(format!("bench.raw.{}", n % 64), msg)
                .await?
                .into_future(),
        );
        if in_flight.len() >= 1024 {
            in_flight.next().await.transpose()?;
        }
    }
    while let Some(ack) = in_flight.next().await {
        ack?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub(crate) async fn commands(clock: &Clock, duration: Duration, rate: u64) -> anyhow::Result<()> {
    println!(
        "tatrack-bench commands: {} s per measurement, own nats-server, 2 cores",
        duration.as_secs()
    );
    let server = tokio::task::spawn_blocking(NatsServer::start).await??;
    // Commands go as the gateway sends them; the bare stream needs the admin (no service may
    // create streams other than its own).
    let client = server.connect_as(User::Gateway, "bench").await?;
    let admin = server.connect_as(User::Admin, "bench-admin").await?;
    let bare = bare_jetstream(&admin, duration, 1).await?;
    println!(
        "{:<44} {bare:>10.0}/s   (pipelined, Msg-Id, 1024 in flight)",
        "bare JetStream publish"
    );

    let data = tempfile::tempdir()?;
    let stop = tokio_util::sync::CancellationToken::new();
    let service = tokio::spawn(tatrack_assessments::run(
        tatrack_assessments::Config {
            data_dir: data.path().to_path_buf(),
            nats: server
                .connect_as(User::Assessments, "bench-assessments")
                .await?,
            clock: clock.clone(),
            cluster: None,
        },
        stop.clone(),
    ));
    // Wait until the service answers.
    let ready = Instant::now();
    while send_plan(&client).await.is_err() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(20),
            "the assessments service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    end_to_end(&client, duration, "command end to end").await?;

    // Steady rate: request -> durable reply, and reply -> event seen on the stream's subjects
    // (listened to as the admin: no service user may subscribe to event subjects).
    let mut seen = admin
        .subscribe(subjects::events_wildcard("assessments"))
        .await?;
    let arrivals: Arc<std::sync::Mutex<std::collections::HashMap<u64, Instant>>> = Arc::default();
    let recorder = {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            while let Some(message) = seen.next().await {
                if let Ok(envelope) =
                    serde_json::from_slice::<tatrack_eventlog::Envelope>(&message.payload)
                {
                    arrivals
                        .lock()
                        .expect("lock")
                        .insert(envelope.position, Instant::now());
                }
            }
        })
    };
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut tasks = Vec::new();
    while start.elapsed() < duration {
        ticker.tick().await;
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let reply = send_plan(&client).await?;
            let replied = Instant::now();
            anyhow::Ok((
                replied - t,
                replied,
                reply["last_position"].as_u64().unwrap_or(0),
            ))
        }));
    }
    let mut request_us = Vec::new();
    let mut replies = Vec::new();
    for t in tasks {
        let (latency, replied, position) = t.await??;
        request_us.push(latency.as_micros() as u64);
        replies.push((replied, position));
    }
    let elapsed = start.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    recorder.abort();
    let arrivals = arrivals.lock().expect("lock").clone();
    let stream_us: Vec<u64> = replies
        .iter()
        .filter_map(|(replied, p)| {
            arrivals
                .get(p)
                .map(|a| a.saturating_duration_since(*replied).as_micros() as u64)
        })
        .collect();
    let mut steady = Sample {
        count: request_us.len(),
        elapsed,
        latencies_us: request_us,
    };
    println!(
        "{}",
        steady.line(&format!("steady {rate}/s: request -> durable reply"))
    );
    let mut to_stream = Sample {
        count: stream_us.len(),
        elapsed,
        latencies_us: stream_us,
    };
    println!(
        "{}",
        to_stream.line(&format!("steady {rate}/s: reply -> event in stream"))
    );
    println!(
        "RSS {:.0} MiB (bench process: service, clients and recorder)",
        rss_mib()
    );
    mix(clock, &client, &server, data.path(), duration).await?;
    stop.cancel();
    service.await??;
    drop(server);
    on_a_cluster(clock, duration).await
}

/// 1, 16 and 64 clients sending commands back to back, each waiting for its answer.
async fn end_to_end(
    client: &async_nats::Client,
    duration: Duration,
    what: &str,
) -> anyhow::Result<()> {
    for clients in [1usize, 16, 64] {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while start.elapsed() < duration {
                    let t = Instant::now();
                    send_plan(&client).await?;
                    mine.push(t.elapsed().as_micros() as u64);
                }
                anyhow::Ok(mine)
            }));
        }
        let mut sample = Sample::joined(tasks, start).await?;
        println!("{}", sample.line(&format!("{what}, {clients} clients")));
    }
    Ok(())
}

/// The cost of the replicated acknowledgement: the same commands on three nats-servers, the
/// stream at three replicas, the service in cluster mode (holding its lease), where a command
/// is answered once its events are in the replicated stream, not only in the local log.
async fn on_a_cluster(clock: &Clock, duration: Duration) -> anyhow::Result<()> {
    let cluster = NatsCluster::start().await?;
    let admin = cluster.admin().await?;
    let bare = bare_jetstream(&admin, duration, 3).await?;
    println!(
        "{:<44} {bare:>10.0}/s   (three servers, R3, pipelined, 1024 in flight)",
        "bare JetStream publish, R3"
    );
    let js = tatrack_bus::jetstream(admin.clone(), Duration::from_secs(10));
    tatrack_bus::streams::provision(&js, 3, tatrack_bus::lease::DEFAULT_TTL)
        .await
        .map_err(|e| anyhow::anyhow!("provisioning the cluster: {e}"))?;
    let data = tempfile::tempdir()?;
    let stop = tokio_util::sync::CancellationToken::new();
    let service = tokio::spawn(tatrack_assessments::run(
        tatrack_assessments::Config {
            data_dir: data.path().to_path_buf(),
            nats: cluster.client_as(User::Assessments).await?,
            clock: clock.clone(),
            cluster: Some(tatrack_bus::service::Cluster {
                instance: "bench".into(),
                lease_ttl: tatrack_bus::lease::DEFAULT_TTL,
            }),
        },
        stop.clone(),
    ));
    let client = cluster.client_as(User::Gateway).await?;
    let ready = Instant::now();
    while send_plan(&client).await.is_err() {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "the assessments service did not take its lease on the cluster"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    end_to_end(&client, duration, "command, replicated ack (R3)").await?;
    stop.cancel();
    service.await??;
    Ok(())
}

/// Sends one command as a coordinator and returns its reply.
pub(crate) async fn send(
    client: &async_nats::Client,
    service: &str,
    verb: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let meta = RequestMeta::new(Principal {
        id: "bench".into(),
        role: tatrack_domain::Role::Coordinator,
        organisation: None,
        member_state: None,
    });
    Ok(rpc::request(
        client,
        &subjects::command_subject(service, verb),
        &meta,
        body,
        Duration::from_secs(10),
    )
    .await?)
}

/// A realistic mix over the partners and projects services: a third new offers, a third
/// referrals proposed for a shared need (each checked against the projects service's view of
/// needs, grants and offers), a third disbursements on 16 projects (each checked against the
/// project's commitments).
async fn mix(
    clock: &Clock,
    client: &async_nats::Client,
    server: &NatsServer,
    data_dir: &std::path::Path,
    duration: Duration,
) -> anyhow::Result<()> {
    let stop = tokio_util::sync::CancellationToken::new();
    let config = |nats| tatrack_bus::service::Config {
        data_dir: data_dir.to_path_buf(),
        nats,
        clock: clock.clone(),
        cluster: None,
    };
    let partners = tokio::spawn(tatrack_partners::run(
        config(server.connect_as(User::Partners, "bench-partners").await?),
        stop.clone(),
    ));
    let projects = tokio::spawn(tatrack_projects::run(
        config(server.connect_as(User::Projects, "bench-projects").await?),
        stop.clone(),
    ));

    // Set-up: a shared, agreed need; two organisations; a large open offer; 16 projects with a
    // large commitment each. Every fact is dated in early 2026, so the later moves and records
    // (dated in February to April) never go back before what they follow, whatever today is.
    let assessment = Uuid::now_v7();
    send(client, "assessments", "assessment_plan", &json!({"id": assessment, "member_state": "KE", "kind": "desk_review",
        "resolutions": [1373], "title": "Bench", "visit_start": "2026-01-05", "visit_end": "2026-01-09", "classification": "restricted", "on": "2026-01-02"})).await?;
    let need = Uuid::now_v7();
    let big = json!({"amount_minor": 1_000_000_000_000i64, "currency": "USD"});
    send(client, "assessments", "need_identify", &json!({"id": need, "member_state": "KE", "recommendation_ids": [], "theme": "BOR",
        "modality": "training", "description": "Bench need", "beneficiary_institution": "Bench", "estimated_cost": big,
        "size": {"measure": "officers trained", "quantity": 1_000_000_000u64}, "priority": 1, "on": "2026-01-12"})).await?;
    send(
        client,
        "assessments",
        "need_agree_with_state",
        &json!({"id": need, "on": "2026-02-01"}),
    )
    .await?;
    send(
        client,
        "assessments",
        "sharing_grant_grant",
        &json!({"id": Uuid::now_v7(), "member_state": "KE", "scope": {"type": "all_needs"},
        "audience": {"type": "all_donors"}, "until": null, "on": "2026-02-01"}),
    )
    .await?;
    let ready = Instant::now();
    loop {
        let registered = send(client, "partners", "organisation_register", &json!({"id": "BENCH-DONOR", "name": "Bench donor",
            "kind": "donor_government", "iati_type": "10", "iati_identifier": null, "country": null, "on": "2026-01-02"})).await;
        match registered {
            Ok(_) => break,
            Err(e) if ready.elapsed() < Duration::from_secs(20) => {
                tracing::debug!(error = %e, "waiting for the partners service");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
    send(
        client,
        "partners",
        "organisation_register",
        &json!({"id": "BENCH-IMPL", "name": "Bench implementer",
        "kind": "un_entity", "iati_type": "40", "iati_identifier": null, "country": null, "on": "2026-01-02"}),
    )
    .await?;
    let offer_budget = big.clone();
    let offer_body = move || {
        json!({"id": Uuid::now_v7(), "organisation": "BENCH-DONOR", "title": "Bench offer", "themes": ["BOR"],
        "countries": ["KE"], "regions": [], "modalities": ["training"], "budget": offer_budget, "capacity": {"measure": "officers trained", "quantity": 1_000_000_000u64},
        "valid_from": "2026-01-01", "valid_until": "2030-12-31", "languages": ["en"], "conditions": null, "on": "2026-01-15"})
    };
    let offer = offer_body();
    send(client, "partners", "offer_draft", &offer).await?;
    send(
        client,
        "partners",
        "offer_publish",
        &json!({"id": offer["id"], "on": "2026-02-01"}),
    )
    .await?;
    let sector = tatrack_domain::codes::theme("BOR")
        .map_or("15136", |t| t.nearest_dac5.as_str())
        .to_owned();
    let mut projects_ids = Vec::new();
    for n in 0..16 {
        let project = Uuid::now_v7();
        let created = async {
            send(client, "projects", "project_create", &json!({"id": project, "iati_identifier": format!("XM-BENCH-{n}"), "title": "Bench project",
                "description": "", "recipient_country": "KE", "theme": "BOR", "dac_sector": sector,
                "participating": [{"organisation": "BENCH-DONOR", "role": "1"}, {"organisation": "BENCH-IMPL", "role": "4"}],
                "planned_start": "2026-03-01", "planned_end": "2027-03-01", "budget": null, "needs": [need], "referrals": [], "on": "2026-02-15"})).await
        };
        created.await?;
        send(client, "projects", "project_add_transaction", &json!({"id": project, "transaction_id": Uuid::now_v7(), "kind": "commitment",
            "value": big, "on": "2026-03-01", "provider": "BENCH-DONOR", "receiver": null, "description": null})).await?;
        projects_ids.push(project);
    }
    let projects_ids = std::sync::Arc::new(projects_ids);

    for clients in [16usize, 64] {
        let start = Instant::now();
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut tasks = Vec::new();
        for c in 0..clients {
            let refused = refused.clone();
            let client = client.clone();
            let projects_ids = projects_ids.clone();
            let offer_id = offer["id"].clone();
            let offer_body = offer_body.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                let mut n = c;
                while start.elapsed() < duration {
                    n += 1;
                    let t = Instant::now();
                    let sent = match n % 3 {
                        0 => send(&client, "partners", "offer_draft", &offer_body()).await,
                        1 => send(&client, "projects", "referral_propose", &json!({"id": Uuid::now_v7(), "need_id": need, "offer_id": offer_id,
                            "member_state": "", "organisation": "", "share_money": {"amount_minor": 100, "currency": "USD"}, "share_units": 1})).await,
                        _ => send(&client, "projects", "project_add_transaction", &json!({"id": projects_ids[n % projects_ids.len()],
                            "transaction_id": Uuid::now_v7(), "kind": "disbursement", "value": {"amount_minor": 1, "currency": "USD"},
                            "on": "2026-04-01", "provider": "BENCH-DONOR", "receiver": null, "description": null})).await,
                    };
                    // A refusal (e.g. a conflict) is counted, not fatal: the bench measures the path.
                    match sent {
                        Ok(_) => mine.push(t.elapsed().as_micros() as u64),
                        Err(e) => {
                            tracing::debug!(error = %e, "mix command refused");
                            refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
                anyhow::Ok(mine)
            }));
        }
        let mut sample = Sample::joined(tasks, start).await?;
        println!(
            "{}   {} refused",
            sample.line(&format!(
                "mix (offers, referrals, disbursements), {clients} clients"
            )),
            refused.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    stop.cancel();
    partners.await??;
    projects.await??;
    Ok(())
}

/// One HTTP/1.1 GET on a kept-alive connection with a bearer token; returns the status.
pub(crate) async fn http_get(
    stream: &mut tokio::io::BufStream<tokio::net::TcpStream>,
    path: &str,
    token: &str,
) -> anyhow::Result<u16> {
    let credentials = format!("Authorization: Bearer {token}");
    Ok(http_request(stream, "GET", path, &credentials, "")
        .await?
        .status)
}

/// One answer: its status, its `Set-Cookie` pairs and its body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) body: Vec<u8>,
}

/// One HTTP/1.1 request on a kept-alive connection: `credentials` is a header line
/// (`Authorization: Bearer ...`, `Cookie: ...`) or empty, `form` a POST's urlencoded body.
/// Hand-written so the bench needs no HTTP client crate: the gateway answers with a
/// Content-Length.
pub(crate) async fn http_request(
    stream: &mut tokio::io::BufStream<tokio::net::TcpStream>,
    method: &str,
    path: &str,
    credentials: &str,
    form: &str,
) -> anyhow::Result<Answer> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
    if !credentials.is_empty() {
        head.push_str(&format!("{credentials}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(form);
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line.split_whitespace().nth(1).unwrap_or("0").parse()?;
    let mut length = 0usize;
    let mut set_cookies = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            } else if name.eq_ignore_ascii_case("set-cookie") {
                // `name=value`, without its attributes; a cookie being cleared is dropped.
                let pair = value.trim().split(';').next().unwrap_or_default();
                if !value.contains("Max-Age=0") && !pair.is_empty() {
                    set_cookies.push(pair.to_owned());
                }
            }
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(Answer {
        status,
        set_cookies,
        body,
    })
}
