//! Wiring: open the projection store, follow every command service's stream, answer queries.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use tatrack_bus::{Subscriber, rpc, subjects};
use tokio_util::sync::CancellationToken;

use crate::asof::AsOf;
use crate::cache::Views;
use crate::cache::{Changes, Recording};
use crate::queries;
use crate::timeline::Timeline;

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the projections live (`<data dir>/readmodel`).
    pub data_dir: PathBuf,
    pub nats: async_nats::Client,
    /// "Today" for visibility (the grants in force) and the default day of clocks, and "now"
    /// for refusing a `known_at` in the future.
    pub clock: tatrack_eventlog::Clock,
}

/// sled's page cache for the projections. Queries read decoded snapshots kept in memory (see
/// `cache`), so sled's own cache (1 GiB by default) only needs the working set of the writes.
const SLED_CACHE_BYTES: u64 = 64 << 20;

/// Opens the projection store (`<data dir>/readmodel`).
pub(crate) fn open(path: &std::path::Path) -> sled::Result<sled::Db> {
    tatrack_eventlog::private_dir(path)?;
    let db = sled::Config::new()
        .path(path)
        .cache_capacity(SLED_CACHE_BYTES)
        .open()?;
    tatrack_eventlog::private_dir(path)?;
    Ok(db)
}

/// Follows the streams and answers queries until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let db = open(&config.data_dir.join("readmodel"))
        .with_context(|| format!("opening the read model in {}", config.data_dir.display()))?;
    let js = tatrack_bus::jetstream(config.nats.clone(), Duration::from_secs(5));
    // Stops the followers and the endpoints together: on shutdown, or when serving fails (the
    // guard also covers the early returns below).
    let stop = shutdown.child_token();
    let _stop_on_return = stop.clone().drop_guard();
    let mut views = Views::default();
    let mut followers = Vec::new();
    let mut positions = Vec::new();
    let mut timelines = std::collections::BTreeMap::new();
    for service in subjects::SERVICES {
        let mut tree = db.open_tree(service)?;
        let applied = tatrack_bus::subscriber::checkpoint(&tree, service)?;
        let timeline = Timeline::load(&tree, applied).map_err(|e| anyhow::anyhow!(e))?;
        let has_history =
            crate::history::is_complete(&tree, applied).map_err(|e| anyhow::anyhow!(e))?;
        let timeline = match timeline.filter(|_| has_history) {
            Some(timeline) => timeline,
            None => {
                // Written before the read model kept each event's two times, or each
                // aggregate's history: fold the stream again from its start, which writes them.
                tracing::warn!(
                    service,
                    applied,
                    "the read model has no timeline or history for this stream; refolding it"
                );
                db.drop_tree(service)?;
                tree = db.open_tree(service)?;
                Timeline::default()
            }
        };
        let timeline = std::sync::Arc::new(timeline);
        timelines.insert(service, timeline.clone());
        let subscriber = Subscriber::new(js.clone(), service, tree.clone())?;
        let applied = subscriber.applied();
        // How far the read model has applied each stream (compare with the service's
        // `tatrack_log_durable_position` to see its lag).
        positions.push(tatrack_bus::ops::gauges(
            &format!("readmodel/{service}"),
            move || vec![("tatrack_applied_position", *applied.borrow())],
        ));
        let changes = std::sync::Arc::new(Changes::default());
        views.add(service, tree, subscriber.applied(), Some(changes.clone()));
        followers.push((
            service,
            tokio::spawn(subscriber.run(Recording { changes, timeline }, stop.clone())),
        ));
    }
    // Throwaway "as of" projections; what a killed process left there is thrown away now.
    let scratch = config.data_dir.join("readmodel-asof");
    let _ = std::fs::remove_dir_all(&scratch);
    let as_of = AsOf::new(js.clone(), timelines, scratch);
    let clock = config.clock.clone();
    let handler = move |incoming: rpc::Incoming| {
        let views = views.clone();
        let as_of = as_of.clone();
        let clock = clock.clone();
        async move { queries::handle(&views, &as_of, &clock, incoming).await }
    };
    let view_names = queries::views();
    let served = rpc::serve(
        config.nats.clone(),
        "readmodel",
        "answers queries over every event stream",
        subjects::query_prefix(),
        &view_names,
        handler,
        stop.clone(),
    )
    .await;
    stop.cancel();
    for (service, follower) in followers {
        match follower.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(service, error = %e, "read model stopped following its stream");
            }
            Err(e) => tracing::error!(service, error = %e, "read model follower failed"),
        }
    }
    db.flush_async().await?;
    drop(positions);
    served.map_err(|e| anyhow::anyhow!("serving queries: {e}"))
}
