//! The projects service: referrals (a need matched to an offer, accepted explicitly by the
//! partner and by the State), projects shaped like IATI activities (status, dates, budget,
//! transactions, milestones, results, documents), progress reports, and the exchange-rate table
//! (DESIGN §2, "Owned by projects"). It follows the assessments and partners streams with the
//! catch-up subscriber into its own view, and refuses what that view says is wrong. Coverage of
//! needs and commitments of offers are derived here and sent to their owners as `system`.

mod access;
mod commands;
mod coverage;
mod view;

use std::time::Duration;

pub use commands::RATE_TABLE_ID;
pub use tatrack_bus::service::{CommandReply, Config};
use tokio_util::sync::CancellationToken;

/// The service's name on the bus (its stream is `TATRACK_PROJECTS`).
pub const SERVICE: &str = tatrack_contract::bus::Service::Projects.name();

/// Runs the service until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = tatrack_bus::jetstream(config.nats.clone(), Duration::from_secs(5));
    // The view follows the other streams until the service has stopped serving (it is what the
    // commands in flight check against), so it gets its own token, cancelled below.
    let view_stop = CancellationToken::new();
    let (view, followers) = view::View::open(
        &config.data_dir.join("projects-view"),
        config.nats.clone(),
        &js,
        &view_stop,
    )?;
    let context = commands::Context {
        view: view.clone(),
        nats: config.nats.clone(),
    };
    let sync_context = context.clone();
    let result = tatrack_bus::service::run_with(
        tatrack_contract::bus::Service::Projects,
        "referrals, projects, progress reports and exchange rates",
        config,
        move |store, incoming| {
            let context = context.clone();
            async move { commands::handle(&store, &context, incoming).await }
        },
        move |store, stop| {
            Some(tokio::spawn(coverage::run(
                store,
                sync_context.clone(),
                stop,
            )))
        },
        shutdown,
    )
    .await;
    view_stop.cancel();
    for follower in followers {
        let _ = follower.await;
    }
    result
}
