//! `tatrack bench queries`, the read path: the read side on a loaded system. Starts its own nats-server, the
//! command services and the gateway in this process and the read model as a child process (so
//! its memory and its restart are measured alone), loads needs and projects through the command
//! path, then measures HTTP views at 1/16/64 clients, read-your-writes at a steady command rate,
//! the read model's restart and its rebuild rate.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use tatrack_bus::auth::User;
use tatrack_bus::local::NatsServer;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::write::{Sample, http_get, http_request, send};

/// Donor organisations the projects are spread over; the portfolio measured is the first's.
const DONORS: usize = 10;

pub(crate) async fn queries(
    clock: &tatrack_eventlog::Clock,
    duration: Duration,
    events: u64,
    rate: u64,
) -> anyhow::Result<()> {
    println!(
        "tatrack-bench queries: {} s per measurement, {events} events loaded, own nats-server, 2 cores",
        duration.as_secs()
    );
    let System {
        server,
        client,
        data,
        stop,
        tasks,
        mut readmodel,
        addr,
        projects,
        coordinator,
        donor,
    } = System::start(clock, events).await?;
    let url = server.url();
    let project = projects[projects.len() / 2];
    let paths = [
        (
            "needs list (KE, first page of 100)",
            "/api/v1/needs?limit=100&member_state=KE".to_owned(),
            &coordinator,
        ),
        (
            "unmet needs (first page of 100)",
            "/api/v1/unmet-needs?limit=100".to_owned(),
            &coordinator,
        ),
        (
            "project detail",
            format!("/api/v1/projects/{project}"),
            &coordinator,
        ),
        (
            "donor portfolio (as the donor)",
            "/api/v1/organisations/BENCH-DONOR-0/portfolio".to_owned(),
            &donor,
        ),
    ];
    // The raw limits of the path, in the same run: a NATS request-reply and an HTTP GET that
    // answer a fixed body as large as the needs list's page, with no work behind them.
    let page = http_body(addr, &paths[0].1, &coordinator).await?;
    // As the admin: a bare subject of the bench's own is no tatrack user's business.
    let admin = server.connect_as(User::Admin, "bench-admin").await?;
    let mut sample = bare_nats(&admin, page.len(), 64, duration).await?;
    println!(
        "{}",
        sample.line(&format!(
            "bare NATS request-reply ({} KiB), 64 clients",
            page.len() / 1024
        ))
    );
    let mut sample = bare_http(page, 64, duration).await?;
    println!("{}", sample.line("bare HTTP GET (same body), 64 clients"));
    for (what, path, token) in &paths {
        for clients in [1usize, 16, 64] {
            let credentials = format!("Authorization: Bearer {token}");
            let mut sample = http_load(addr, path, &credentials, clients, duration).await?;
            println!("{}", sample.line(&format!("{what}, {clients} clients")));
        }
    }
    println!(
        "{:<44} {:>10.0} MiB",
        "read model RSS (child process)",
        readmodel.rss_mib()
    );

    let mut sample = read_your_writes(&client, addr, &coordinator, rate, duration).await?;
    println!(
        "{}",
        sample.line(&format!(
            "read-your-write at {rate} commands/s (reply -> visible)"
        ))
    );

    // Restart: the projections and checkpoints are on disk, so the read model answers again
    // without replaying the streams.
    readmodel.stop()?;
    let restart = Instant::now();
    readmodel = ReadModelProcess::start(&url, server.credentials().dir(), data.path())?;
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(bench_admin())
    };
    loop {
        let answered: Result<serde_json::Value, _> = rpc::request(
            &client,
            &subjects::query_subject("organisation_list"),
            &meta,
            &json!({"limit": 1}),
            Duration::from_millis(200),
        )
        .await;
        if answered.is_ok() {
            break;
        }
        anyhow::ensure!(
            restart.elapsed() < Duration::from_secs(120),
            "the read model did not answer after a restart"
        );
    }
    let ready = restart.elapsed();
    let first = Instant::now();
    let status = http_get(
        &mut connect(addr).await?,
        "/api/v1/needs?limit=100&member_state=KE",
        &coordinator,
    )
    .await?;
    anyhow::ensure!(status == 200, "needs list after restart answered {status}");
    println!(
        "{:<44} {:>10.2} s   (first needs list then took {:.2} s: states are decoded on first use)",
        "read model restart: answering again",
        ready.as_secs_f64(),
        first.elapsed().as_secs_f64()
    );
    println!(
        "{:<44} {:>10.0} MiB",
        "read model RSS after restart + one list",
        readmodel.rss_mib()
    );
    readmodel.stop()?;

    stop.cancel();
    for t in tasks {
        t.await??;
    }
    let rebuilt = tatrack_readmodel::rebuild(
        data.path(),
        server.connect_as(User::Readmodel, "bench-rebuild").await?,
        |_, _, _| {},
    )
    .await?;
    println!(
        "{:<44} {:>10.0}/s   ({} events in {:.2} s)",
        "read model rebuild",
        rebuilt.per_second(),
        rebuilt.events,
        rebuilt.seconds
    );
    drop(server);
    Ok(())
}

/// A system loaded for measuring the read side: its own nats-server, the command services and
/// the gateway in this process, the read model as a child process, `events` events loaded
/// through the command path and the read model caught up; a coordinator's and a donor's token.
pub(crate) struct System {
    pub(crate) server: NatsServer,
    pub(crate) client: async_nats::Client,
    pub(crate) data: tempfile::TempDir,
    pub(crate) stop: tokio_util::sync::CancellationToken,
    pub(crate) tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub(crate) readmodel: ReadModelProcess,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) projects: Vec<Uuid>,
    pub(crate) coordinator: String,
    pub(crate) donor: String,
}

impl System {
    pub(crate) async fn start(
        clock: &tatrack_eventlog::Clock,
        events: u64,
    ) -> anyhow::Result<Self> {
        let server = tokio::task::spawn_blocking(NatsServer::start).await??;
        let url = server.url();
        let client = server.connect_as(User::Gateway, "bench").await?;
        let data = tempfile::tempdir()?;
        let stop = tokio_util::sync::CancellationToken::new();
        let config = |nats| tatrack_bus::service::Config {
            data_dir: data.path().to_path_buf(),
            nats,
            clock: clock.clone(),
            cluster: None,
        };
        let mut tasks = vec![
            tokio::spawn(tatrack_assessments::run(
                config(
                    server
                        .connect_as(User::Assessments, "bench-assessments")
                        .await?,
                ),
                stop.clone(),
            )),
            tokio::spawn(tatrack_partners::run(
                config(server.connect_as(User::Partners, "bench-partners").await?),
                stop.clone(),
            )),
            tokio::spawn(tatrack_projects::run(
                config(server.connect_as(User::Projects, "bench-projects").await?),
                stop.clone(),
            )),
        ];
        let readmodel = ReadModelProcess::start(&url, server.credentials().dir(), data.path())?;
        let listener = tatrack_gateway::bind("127.0.0.1:0".parse()?).await?;
        let addr = listener.local_addr()?;
        // The clients share one token: its rate limit is lifted so the figures are the gateway's
        // and the read model's, not the limiter's (which refuses in well under a millisecond).
        tasks.push(tokio::spawn(tatrack_gateway::serve_with(
            listener,
            server.connect_as(User::Gateway, "bench-gateway").await?,
            tatrack_eventlog::Clock::system(),
            tatrack_gateway::Limits {
                requests_per_second: u32::MAX / 2,
                reports_per_hour: u32::MAX / 2,
                in_flight: 4096,
            },
            None,
            stop.clone(),
        )));

        let load_start = Instant::now();
        let (projects, loaded) = load(&client, events).await?;
        println!(
            "{:<44} {:>10.0}/s   ({loaded} events in {:.1} s: needs identified and agreed, {} projects with a commitment, one published offer in 100 events)",
            "load (commands)",
            loaded as f64 / load_start.elapsed().as_secs_f64(),
            load_start.elapsed().as_secs_f64(),
            projects.len(),
        );

        let coordinator = issue_token(&client, "coordinator", None).await?;
        let donor = issue_token(&client, "donor", Some("BENCH-DONOR-0")).await?;
        let caught_up = Instant::now();
        wait_until_caught_up(&client, addr, &coordinator).await?;
        println!(
            "{:<44} {:>10.2} s   (after the last command's reply)",
            "read model caught up",
            caught_up.elapsed().as_secs_f64()
        );
        Ok(Self {
            server,
            client,
            data,
            stop,
            tasks,
            readmodel,
            addr,
            projects,
            coordinator,
            donor,
        })
    }
}

/// The read model as `tatrack serve readmodel`, a child of this process: the `tatrack` binary
/// installed next to this one (`cargo build --release -p tatrack -p tatrack-bench` puts both in
/// `target/release`).
pub(crate) struct ReadModelProcess {
    child: std::process::Child,
}

impl ReadModelProcess {
    fn start(
        url: &str,
        credentials: &std::path::Path,
        data: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let child = std::process::Command::new(crate::sibling("tatrack")?)
            .args(["serve", "readmodel"])
            .env("NATS_URL", url)
            .env("TATRACK_NATS_CREDENTIALS", credentials)
            .env("TATRACK_DATA_DIR", data)
            .env("TATRACK_OPS_ADDR", "127.0.0.1:0")
            // Its access log (a line per request at info) is not what is measured.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting the read model")?;
        Ok(Self { child })
    }

    fn rss_mib(&self) -> f64 {
        crate::write::rss_mib_of(&format!("/proc/{}/status", self.child.id()))
    }

    /// SIGTERM (a clean stop: the projections are flushed), then wait.
    fn stop(&mut self) -> anyhow::Result<()> {
        std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ReadModelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bench_admin() -> Principal {
    Principal {
        id: "bench".into(),
        role: Role::Admin,
        organisation: None,
        member_state: None,
    }
}

/// Loads about `events` events through the command path, 64 commands at a time: needs
/// identified and agreed (two events each) in five States and four themes, one project in 50
/// with a commitment (two events) and one published offer in 100 (two events), spread over the
/// donors. Returns the project ids. Facts are
/// dated in early 2026, each after what it follows, whatever today is.
async fn load(client: &async_nats::Client, events: u64) -> anyhow::Result<(Vec<Uuid>, u64)> {
    for d in 0..DONORS {
        let body = json!({"id": format!("BENCH-DONOR-{d}"), "name": format!("Bench donor {d}"),
            "kind": "donor_government", "iati_type": "10", "iati_identifier": null, "country": null, "on": "2026-01-02"});
        retry(|| send(client, "partners", "organisation_register", &body)).await?;
    }
    let body = json!({"id": "BENCH-IMPL", "name": "Bench implementer", "kind": "un_entity",
        "iati_type": "40", "iati_identifier": null, "country": null, "on": "2026-01-02"});
    retry(|| send(client, "partners", "organisation_register", &body)).await?;
    let projects = events / 50;
    // One published offer in 100 events (two events each), so matching has offers to score.
    let offers = events / 100;
    let needs = (events - 2 * projects - 2 * offers) / 2;
    let sector = tatrack_domain::codes::theme("BOR")
        .map_or("15136", |t| t.nearest_dac5.as_str())
        .to_owned();
    let mut loaders = Vec::new();
    for w in 0..64u64 {
        let client = client.clone();
        let sector = sector.clone();
        loaders.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut n = w;
            while n < needs + projects + offers {
                let country = ["KE", "JO", "NG", "PH", "TN"][usize::try_from(n % 5).unwrap_or(0)];
                let theme = ["BOR", "CFT", "LEG", "STP"][usize::try_from(n % 4).unwrap_or(0)];
                if n < needs {
                    let id = Uuid::now_v7();
                    let body = json!({"id": id, "member_state": country, "recommendation_ids": [],
                        "theme": theme, "modality": "training", "description": format!("Bench need {n}"), "beneficiary_institution": "Bench",
                        "estimated_cost": {"amount_minor": 1_000_000, "currency": "USD"}, "size": null, "priority": 1 + n % 3, "on": "2026-01-12"});
                    retry(|| send(&client, "assessments", "need_identify", &body)).await?;
                    send(&client, "assessments", "need_agree_with_state", &json!({"id": id, "on": "2026-02-01"})).await?;
                } else if n >= needs + projects {
                    let id = Uuid::now_v7();
                    let donor = format!("BENCH-DONOR-{}", n % DONORS as u64);
                    let body = json!({"id": id, "organisation": donor, "title": format!("Bench offer {n}"),
                        "themes": [theme], "countries": [country], "regions": [], "modalities": ["training"],
                        "budget": {"amount_minor": 50_000_000, "currency": "USD"}, "capacity": {"measure": "officers trained", "quantity": 100},
                        "valid_from": "2026-01-01", "valid_until": "2030-12-31", "languages": ["en"],
                        "conditions": null, "on": "2026-01-20"});
                    retry(|| send(&client, "partners", "offer_draft", &body)).await?;
                    send(&client, "partners", "offer_publish", &json!({"id": id, "on": "2026-01-21"})).await?;
                } else {
                    let id = Uuid::now_v7();
                    let donor = format!("BENCH-DONOR-{}", n % DONORS as u64);
                    let body = json!({"id": id, "iati_identifier": format!("XM-BENCH-{n}"), "title": format!("Bench project {n}"),
                        "description": "", "recipient_country": country, "theme": "BOR", "dac_sector": sector,
                        "participating": [{"organisation": donor, "role": "1"}, {"organisation": "BENCH-IMPL", "role": "4"}],
                        "planned_start": "2026-03-01", "planned_end": "2027-03-01", "budget": null, "needs": [], "referrals": [], "on": "2026-02-15"});
                    retry(|| send(&client, "projects", "project_create", &body)).await?;
                    send(&client, "projects", "project_add_transaction", &json!({"id": id, "transaction_id": Uuid::now_v7(), "kind": "commitment",
                        "value": {"amount_minor": 5_000_000, "currency": "USD"}, "on": "2026-03-01", "provider": donor, "receiver": null, "description": null})).await?;
                    mine.push(id);
                }
                n += 64;
            }
            anyhow::Ok(mine)
        }));
    }
    let mut ids = Vec::new();
    for l in loaders {
        ids.extend(l.await??);
    }
    Ok((ids, 2 * (needs + projects + offers) + DONORS as u64 + 1))
}

/// A command retried while its service is still starting.
async fn retry<F, Fut>(mut send: F) -> anyhow::Result<serde_json::Value>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<serde_json::Value>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match send().await {
            Ok(reply) => return Ok(reply),
            Err(_) if attempt < 100 => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => return Err(e),
        }
    }
}

/// A token issued as an admin through the partners service.
async fn issue_token(
    client: &async_nats::Client,
    role: &str,
    organisation: Option<&str>,
) -> anyhow::Result<String> {
    let secret = tatrack_gateway::token::new_secret();
    let _: serde_json::Value = rpc::request(
        client,
        &subjects::command_subject("partners", "token_issue"),
        &RequestMeta::new(bench_admin()),
        &json!({"id": Uuid::now_v7(), "role": role, "organisation": organisation, "member_state": null,
            "label": "bench", "hash": tatrack_gateway::token::hash(&secret), "on": "2026-01-01"}),
        Duration::from_secs(10),
    )
    .await?;
    Ok(secret)
}

pub(crate) async fn connect(
    addr: std::net::SocketAddr,
) -> anyhow::Result<tokio::io::BufStream<tokio::net::TcpStream>> {
    Ok(tokio::io::BufStream::new(
        tokio::net::TcpStream::connect(addr).await?,
    ))
}

/// Until the gateway knows the token and the read model has applied every service's head.
async fn wait_until_caught_up(
    client: &async_nats::Client,
    addr: std::net::SocketAddr,
    token: &str,
) -> anyhow::Result<()> {
    let admin = RequestMeta::new(bench_admin());
    let start = Instant::now();
    loop {
        let status = http_get(&mut connect(addr).await?, "/api/v1/needs?limit=1", token)
            .await
            .unwrap_or(0);
        let mut heads = serde_json::Map::new();
        for service in ["assessments", "partners", "projects"] {
            let head: serde_json::Value = rpc::request(
                client,
                &subjects::command_subject(service, "admin_head"),
                &admin,
                &json!({}),
                Duration::from_secs(5),
            )
            .await?;
            heads.insert(service.to_owned(), head["head"].clone());
        }
        let caught_up = rpc::request::<_, serde_json::Value>(
            client,
            &subjects::query_subject("organisation_list"),
            &RequestMeta {
                command_id: None,
                ..admin.clone()
            },
            &json!({"min_positions": heads, "limit": 1}),
            Duration::from_secs(10),
        )
        .await
        .is_ok();
        if status == 200 && caught_up {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(600),
            "the gateway or read model did not get ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `clients` connections asking `path` in a loop for `duration`, each reading the whole answer;
/// `credentials` is the header line that says who asks (`Authorization: Bearer ...`,
/// `Cookie: ...`) or empty.
pub(crate) async fn http_load(
    addr: std::net::SocketAddr,
    path: &str,
    credentials: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Sample> {
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let path = path.to_owned();
        let credentials = credentials.to_owned();
        workers.push(tokio::spawn(async move {
            let mut stream = connect(addr).await?;
            let mut mine = Vec::new();
            while start.elapsed() < duration {
                let t = Instant::now();
                let status = http_request(&mut stream, "GET", &path, &credentials, "")
                    .await?
                    .status;
                anyhow::ensure!(status == 200, "{path} answered {status}");
                mine.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(mine)
        }));
    }
    let mut latencies_us = Vec::new();
    for w in workers {
        latencies_us.extend(w.await??);
    }
    Ok(Sample {
        count: latencies_us.len(),
        elapsed: start.elapsed(),
        latencies_us,
    })
}

/// Commands at a steady `rate` (needs identified, over NATS); after each reply, the need is
/// asked for over HTTP with the reply's position as `min_position`. The figure is the time from
/// the reply to the answer that shows the need.
async fn read_your_writes(
    client: &async_nats::Client,
    addr: std::net::SocketAddr,
    token: &str,
    rate: u64,
    duration: Duration,
) -> anyhow::Result<Sample> {
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (conns_tx, conns_rx) = async_channel_pool(addr, 64).await?;
    let mut tasks = tokio::task::JoinSet::new();
    while start.elapsed() < duration {
        ticker.tick().await;
        let client = client.clone();
        let token = token.to_owned();
        let conns_tx = conns_tx.clone();
        let conns_rx = conns_rx.clone();
        tasks.spawn(async move {
            let id = Uuid::now_v7();
            let reply = send(&client, "assessments", "need_identify", &json!({"id": id, "member_state": "KE", "recommendation_ids": [],
                "theme": "BOR", "modality": "training", "description": "Read your write", "beneficiary_institution": "Bench",
                "estimated_cost": null, "size": null, "priority": 2})).await?;
            let replied = Instant::now();
            let position = reply["last_position"].as_u64().unwrap_or(0);
            let mut stream = conns_rx.lock().await.recv().await.context("connection pool")?;
            let status = http_get(
                &mut stream,
                &format!("/api/v1/needs/{id}?min_position={position}"),
                &token,
            )
            .await?;
            let _ = conns_tx.send(stream).await;
            anyhow::ensure!(status == 200, "need_show after a write answered {status}");
            anyhow::Ok(replied.elapsed().as_micros() as u64)
        });
    }
    let mut latencies_us = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies_us.push(done??);
    }
    Ok(Sample {
        count: latencies_us.len(),
        elapsed: start.elapsed(),
        latencies_us,
    })
}

type Connection = tokio::io::BufStream<tokio::net::TcpStream>;

/// A pool of kept-alive connections to the gateway, handed out through a channel.
async fn async_channel_pool(
    addr: std::net::SocketAddr,
    size: usize,
) -> anyhow::Result<(
    tokio::sync::mpsc::Sender<Connection>,
    std::sync::Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Connection>>>,
)> {
    let (tx, rx) = tokio::sync::mpsc::channel(size);
    for _ in 0..size {
        tx.send(connect(addr).await?).await?;
    }
    Ok((tx, std::sync::Arc::new(tokio::sync::Mutex::new(rx))))
}

/// The body of one GET (to size the bare measurements like the real answer).
async fn http_body(addr: std::net::SocketAddr, path: &str, token: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}

/// NATS request-reply with a responder that answers `size` bytes at once.
async fn bare_nats(
    client: &async_nats::Client,
    size: usize,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Sample> {
    use futures::StreamExt as _;
    let body = bytes::Bytes::from(vec![b'x'; size]);
    let mut requests = client.subscribe("bench.bare").await?;
    let responder = {
        let client = client.clone();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                if let Some(reply) = request.reply {
                    let _ = client.publish(reply, body.clone()).await;
                }
            }
        })
    };
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let client = client.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while start.elapsed() < duration {
                let t = Instant::now();
                client.request("bench.bare", bytes::Bytes::new()).await?;
                mine.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(mine)
        }));
    }
    let mut latencies_us = Vec::new();
    for w in workers {
        latencies_us.extend(w.await??);
    }
    responder.abort();
    Ok(Sample {
        count: latencies_us.len(),
        elapsed: start.elapsed(),
        latencies_us,
    })
}

/// HTTP GETs answered with a fixed body by a bare server on the same HTTP stack as the gateway.
pub(crate) async fn bare_http(
    body: String,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Sample> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let sample = http_load(addr, "/", "", clients, duration).await;
    server.abort();
    sample
}
