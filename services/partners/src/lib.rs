//! The partners service: organisations (the registry of donors, implementing partners and
//! Member-State bodies, with or without an IATI identifier) and their offers of assistance
//! (DESIGN §2, "Owned by partners"). Commands on `tatrack.cmd.partners.*`; events to
//! `TATRACK_PARTNERS`. An offer whose validity window has ended is expired by the service itself.

mod access;
mod commands;
mod expiry;

pub use expiry::{expire_due, revoke_expired_tokens};

pub use tatrack_bus::service::{CommandReply, Config};
use tokio_util::sync::CancellationToken;

/// The service's name on the bus (its stream is `TATRACK_PARTNERS`).
pub const SERVICE: &str = tatrack_contract::bus::Service::Partners.name();

/// Runs the service until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    tatrack_bus::service::run_with(
        tatrack_contract::bus::Service::Partners,
        "organisations and their offers of assistance",
        config,
        |store, incoming| async move { commands::handle(&store, incoming).await },
        // Runs while this instance serves; stopped and awaited with it.
        |store, stop| Some(tokio::spawn(expiry::run(store, stop))),
        shutdown,
    )
    .await
}
