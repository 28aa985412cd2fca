//! The commands run on the server host, with its data directory and its own NATS keys:
//! `tatrack admin bootstrap` (the first admin token, issued through the tokens service as the
//! deployment's `admin` NATS user), `tatrack log verify <dir>` (offline: opens the log files
//! itself, so the service must be stopped), `tatrack stream verify` (asks the running service to
//! compare its stream with its log, message by message) and `tatrack readmodel rebuild`
//! (offline).

use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;
use tatrack_bus::copy::Comparison;
use tatrack_bus::rpc::RequestMeta;
use tatrack_domain::{Principal, Role};
use tatrack_eventlog::Clock;
use uuid::Uuid;

use crate::cli::{Host, Settings};
use crate::host;

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Issue an admin token (the first one, or one more) with the server's own NATS admin key,
    /// through the tokens service, so it is recorded as an event like every token. Prints the
    /// token once, alone on stdout: sign in with it (`tatrack login`), then issue people's
    /// tokens with `tatrack token issue`.
    Bootstrap {
        /// What the token is for, or whom it was given to.
        #[arg(long, default_value = "bootstrap admin")]
        label: String,
        #[command(flatten)]
        host: Host,
    },
    /// Create every command service's stream at --replicas copies and the lease bucket (on a
    /// NATS cluster: once, before the services start with --instance; safe to run again).
    Provision {
        /// Copies of each stream and of the lease bucket: 3 on a cluster of three servers.
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        /// How long a lease lives without renewal, in seconds; the services' --lease-ttl
        /// should match it.
        #[arg(
            long,
            env = "TATRACK_LEASE_TTL",
            default_value_t = 15,
            value_name = "SECONDS"
        )]
        lease_ttl: u64,
        #[command(flatten)]
        host: Host,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogCmd {
    /// Check a log's integrity: contiguous positions, every index entry points at its event.
    Verify {
        /// The log directory (e.g. ./data/assessments). The service using it must be stopped.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum StreamCmd {
    /// Compare the service's whole JetStream stream with its log.
    Verify {
        /// The service whose stream is compared: assessments, partners, projects or reporter.
        #[arg(long, default_value = "assessments")]
        service: String,
        #[command(flatten)]
        host: Host,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReadmodelCmd {
    /// Throw the read model away and fold every stream again from its first event.
    Rebuild {
        #[command(flatten)]
        host: Host,
    },
}

/// The principal the server host's own commands act as.
pub(crate) fn host_admin() -> Principal {
    let user = std::env::var("USER").unwrap_or_else(|_| "host".to_owned());
    Principal {
        id: format!("host:{user}"),
        role: Role::Admin,
        organisation: None,
        member_state: None,
    }
}

pub async fn admin(clock: Clock, json: bool, cmd: AdminCmd) -> anyhow::Result<()> {
    let (label, host) = match cmd {
        AdminCmd::Bootstrap { label, host } => (label, host),
        AdminCmd::Provision {
            replicas,
            lease_ttl,
            host,
        } => return crate::cluster::provision(clock, &host, replicas, lease_ttl).await,
    };
    let settings = Settings::new(clock, &host);
    let nats = host::connect_admin(&settings, "tatrack-bootstrap").await?;
    let secret = tatrack_gateway::token::new_secret();
    let id = Uuid::now_v7();
    let token = host::NewToken {
        id,
        role: Role::Admin,
        organisation: None,
        member_state: None,
        label: &label,
        on: None,
    };
    let reply = host::issue_token(&nats, host_admin(), Uuid::now_v7(), &token, &secret).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&Bootstrapped {
                id,
                token: &secret,
                position: reply.last_position,
            })?
        );
    } else {
        println!("{secret}");
        eprintln!(
            "issued admin token {id} (recorded at position {}); keep it: it is not shown again.\n\
             Sign in: tatrack login --url http://{} (paste the token), or set TATRACK_TOKEN.",
            reply.last_position, settings.http_addr
        );
    }
    Ok(())
}

/// `admin bootstrap --json`.
#[derive(Serialize)]
struct Bootstrapped<'a> {
    id: Uuid,
    token: &'a str,
    position: u64,
}

pub fn log(clock: &Clock, cmd: LogCmd) -> anyhow::Result<()> {
    let LogCmd::Verify { dir } = cmd;
    anyhow::ensure!(dir.join("db").exists(), "no event log in {}", dir.display());
    let store = tatrack_eventlog::Store::open(&dir, clock).map_err(|e| {
        if e.to_string().contains("could not acquire lock") {
            anyhow::anyhow!(
                "{} is in use: stop the service that owns it first (sled allows one process)",
                dir.display()
            )
        } else {
            anyhow::anyhow!("{}: {e}", dir.display())
        }
    })?;
    let report = store.verify()?;
    println!(
        "ok: {} events in {} streams, {} command ids, positions 1..={} contiguous",
        report.head, report.streams, report.command_ids, report.head
    );
    Ok(())
}

/// The empty body of `admin_stream_verify`.
#[derive(Serialize)]
struct NoBody {}

pub async fn stream(clock: Clock, json: bool, cmd: StreamCmd) -> anyhow::Result<()> {
    let StreamCmd::Verify { service, host } = cmd;
    anyhow::ensure!(
        tatrack_bus::subjects::SERVICES.contains(&service.as_str()),
        "invalid --service: {service} is not one of {}",
        tatrack_bus::subjects::SERVICES.join(", ")
    );
    let settings = Settings::new(clock, &host);
    let nats = host::connect_admin(&settings, "tatrack-stream-verify").await?;
    let subject =
        tatrack_bus::subjects::command_subject(&service, tatrack_bus::service::ADMIN_STREAM_VERIFY);
    let result: Comparison =
        host::request(&nats, &subject, &RequestMeta::new(host_admin()), &NoBody {}).await?;
    if json {
        println!("{}", serde_json::to_string(&result)?);
    } else if result.equal() {
        println!(
            "ok: stream equals log ({} events, stream last sequence {})",
            result.log_head, result.stream_last
        );
    } else {
        for (position, what) in &result.differences {
            println!("position {position}: {what}");
        }
    }
    anyhow::ensure!(result.equal(), "stream and log differ");
    Ok(())
}

pub async fn readmodel(clock: Clock, cmd: ReadmodelCmd) -> anyhow::Result<()> {
    let ReadmodelCmd::Rebuild { host } = cmd;
    let settings = Settings::new(clock, &host);
    // The read model's own user: the rebuild reads exactly what the read model reads.
    let identity = tatrack_bus::auth::Identity::load(
        &settings.nats_credentials,
        tatrack_bus::auth::User::Readmodel,
    )?;
    let nats = tatrack_bus::connect(&settings.nats_url, "tatrack-rebuild", &identity).await?;
    let started = std::time::Instant::now();
    let progress = |service: &str, applied: u64, last: u64| {
        let width = 30;
        let done = (applied.min(last) * width as u64)
            .checked_div(last)
            .map_or(width, |d| usize::try_from(d).unwrap_or(width));
        let rate = applied as f64 / started.elapsed().as_secs_f64().max(0.001);
        eprint!(
            "\r{service:<12} [{}{}] {applied}/{last} events, {rate:.0}/s   ",
            "#".repeat(done),
            " ".repeat(width - done)
        );
        if applied >= last {
            eprintln!();
        }
    };
    let rebuilt = tatrack_readmodel::rebuild(&settings.data_dir, nats, progress).await?;
    println!(
        "rebuilt {} events in {:.2} s ({:.0} events/s)",
        rebuilt.events,
        rebuilt.seconds,
        rebuilt.per_second()
    );
    Ok(())
}
