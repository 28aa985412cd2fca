//! The partners service: organisations (the registry of donors, implementing partners and
//! Member-State bodies, with or without an IATI identifier) and their offers of assistance
//! (DESIGN §2, "Owned by partners"). Commands on `tatrack.cmd.partners.*`; events to
//! `TATRACK_PARTNERS`. An offer whose validity window has ended is expired by the service itself.

mod access;
mod commands;
mod expiry;

pub use expiry::expire_due;

use std::future::Future;

pub use tatrack_bus::service::{CommandReply, Config};

/// The service's name on the bus (its stream is `TATRACK_PARTNERS`).
pub const SERVICE: &str = tatrack_contract::bus::Service::Partners.name();

/// Runs the service until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut expiry = None;
    let result = tatrack_bus::service::run_with(
        tatrack_contract::bus::Service::Partners,
        "organisations and their offers of assistance",
        config,
        |store, incoming| async move { commands::handle(&store, incoming).await },
        |store| expiry = Some(tokio::spawn(expiry::run(store, stopped))),
        shutdown,
    )
    .await;
    let _ = stop.send(true);
    if let Some(task) = expiry {
        let _ = task.await;
    }
    result
}
