//! The assessments service: assessments, recommendations, needs and sharing grants (DESIGN §2,
//! "Owned by assessments"). It answers commands over NATS (`tatrack.cmd.assessments.*`), decides
//! them with the pure deciders of `tatrack-domain`, appends the events to its own sled log and
//! replicates the log to the `TATRACK_ASSESSMENTS` stream (wiring in `tatrack_bus::service`).

mod access;
mod commands;

pub use tatrack_bus::service::{CommandReply, Config};
use tokio_util::sync::CancellationToken;

/// The service's name on the bus (its stream is `TATRACK_ASSESSMENTS`).
pub const SERVICE: &str = tatrack_contract::bus::Service::Assessments.name();

/// Runs the service until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    tatrack_bus::service::run(
        tatrack_contract::bus::Service::Assessments,
        "assessments, recommendations, needs and sharing grants",
        config.clone(),
        move |store, incoming| {
            let nats = config.nats.clone();
            async move { commands::handle(&store, &nats, incoming).await }
        },
        shutdown,
    )
    .await
}
