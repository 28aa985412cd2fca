//! The reporter: summaries per State, theme, region and donor as of a finished day, in Markdown,
//! HTML (with SVG charts), CSV (with HXL hashtags) and JSON, made from the read model's views as
//! the requesting principal. It runs on a cron schedule and on demand
//! (`tatrack.cmd.reporter.report_summary`), and records every report it makes as `report_made`
//! with the SHA-256 of its bytes in its own log, replicated to `TATRACK_REPORTER` like every
//! command service's.

mod commands;
mod gather;
mod render;
mod schedule;
mod summary;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

pub use commands::checksum;
pub use render::render;
pub use schedule::{Schedule, run_once};
pub use summary::{REPORT_CURRENCY, Summary};
pub use tatrack_contract::commands::report::MadeReport;

/// The service's name on the bus (its stream is `TATRACK_REPORTER`).
pub const SERVICE: &str = tatrack_contract::bus::Service::Reporter.name();

/// The reporter's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `<data dir>`; the log lives in `<data dir>/reporter`.
    pub data_dir: PathBuf,
    pub nats: async_nats::Client,
    /// When to make the system-wide summary as of yesterday; `None`: on demand only.
    pub schedule: Option<Schedule>,
    /// "Now" and "today" (the default day of a report, and when the schedule fires).
    pub clock: tatrack_eventlog::Clock,
    /// One of several instances on a NATS cluster (see `tatrack_bus::service::Cluster`).
    pub cluster: Option<tatrack_bus::service::Cluster>,
}

/// Runs the service until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let nats = config.nats.clone();
    let schedule = config.schedule.clone();
    tatrack_bus::service::run_with(
        tatrack_contract::bus::Service::Reporter,
        "summary reports as of a day, each recorded with its checksum",
        tatrack_bus::service::Config {
            data_dir: config.data_dir,
            nats: config.nats.clone(),
            clock: config.clock.clone(),
            cluster: config.cluster.clone(),
        },
        move |store, incoming| {
            let nats = nats.clone();
            async move { commands::handle(&store, &nats, incoming).await }
        },
        |store, stop| {
            schedule.clone().map(|schedule| {
                tokio::spawn(schedule::run(schedule, store, config.nats.clone(), stop))
            })
        },
        shutdown,
    )
    .await
}
