//! Admin commands: `tatrack log verify <dir>` (offline: opens the log files itself, so the
//! service must be stopped) and `tatrack stream verify` (asks the running service to compare its
//! stream with its log, message by message).

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use crate::cli::Settings;
use crate::client;

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
        /// assessments, partners or projects.
        #[arg(long, default_value = "assessments")]
        service: String,
    },
}

pub async fn log(settings: &Settings, cmd: LogCmd) -> anyhow::Result<()> {
    let LogCmd::Verify { dir } = cmd;
    anyhow::ensure!(dir.join("db").exists(), "no event log in {}", dir.display());
    let store = tatrack_eventlog::Store::open(&dir, &settings.clock).map_err(|e| {
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

pub async fn stream(settings: &Settings, cmd: StreamCmd) -> anyhow::Result<()> {
    let StreamCmd::Verify { service } = cmd;
    anyhow::ensure!(
        tatrack_bus::subjects::SERVICES.contains(&service.as_str()),
        "invalid --service: {service} is not one of {}",
        tatrack_bus::subjects::SERVICES.join(", ")
    );
    let client = client::connect(settings).await?;
    let result = client::command_to(
        &client,
        &settings.actor,
        &service,
        "admin_stream_verify",
        json!({}),
    )
    .await?;
    if settings.json {
        println!("{result}");
    } else {
        let differences = result["differences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if differences.is_empty() {
            println!(
                "ok: stream equals log ({} events, stream last sequence {})",
                result["log_head"], result["stream_last"]
            );
        } else {
            for d in &differences {
                println!("position {}: {}", d[0], d[1].as_str().unwrap_or_default());
            }
        }
        anyhow::ensure!(differences.is_empty(), "stream and log differ");
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum ReadmodelCmd {
    /// Throw the read model away and fold every stream again from its first event.
    Rebuild,
}

pub async fn readmodel(settings: &Settings, cmd: ReadmodelCmd) -> anyhow::Result<()> {
    let ReadmodelCmd::Rebuild = cmd;
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
