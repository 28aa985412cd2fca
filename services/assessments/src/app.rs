//! Wiring: open the log, rebuild it from the stream if the disk lost it, start the replicator and
//! the command endpoints, and stop them in order on shutdown.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use futures::FutureExt;
use tatrack_bus::{copy, replicator, rpc, subjects};
use tatrack_eventlog::Store;

use crate::commands;

/// The service's name on the bus (its stream is `TATRACK_ASSESSMENTS`).
pub const SERVICE: &str = "assessments";

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the service's sled log lives (`<data dir>/assessments`).
    pub data_dir: PathBuf,
    /// A connected NATS client.
    pub nats: async_nats::Client,
}

/// Runs the service until `shutdown` resolves: stops taking commands, lets in-flight ones finish,
/// drains the replicator, flushes the log.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let store = Store::open(config.data_dir.join(SERVICE))
        .with_context(|| format!("opening the {SERVICE} log in {}", config.data_dir.display()))?;
    let js = tatrack_bus::jetstream(config.nats.clone(), Duration::from_secs(1));

    // A log that is behind its stream lost its tail (or its whole disk): take it back first.
    // NATS may not be up yet: keep trying (a service outlives a NATS restart, and starts before one).
    let mut shutdown = std::pin::pin!(shutdown.fuse());
    loop {
        match copy::rebuild_log(&js, SERVICE, &store).await {
            Ok(0) => break,
            Ok(imported) => {
                tracing::warn!(
                    service = SERVICE,
                    imported,
                    "log was behind its stream; rebuilt from it"
                );
                break;
            }
            Err(e) => {
                tracing::warn!(service = SERVICE, error = %e, "cannot compare the log with its stream yet; retrying");
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let replicator = replicator::Replicator::new(
        store.clone(),
        js.clone(),
        SERVICE,
        replicator::Options::default(),
    );
    let replicator = tokio::spawn(replicator.run(stopped()));

    let handler = {
        let store = store.clone();
        move |incoming: rpc::Incoming| {
            let store = store.clone();
            let js = js.clone();
            async move {
                if incoming.verb == ADMIN_STREAM_VERIFY {
                    return stream_verify(&js, &store, &incoming).await;
                }
                commands::handle(&store, incoming).await
            }
        }
    };
    let prefix = subjects::command_prefix(SERVICE);
    let mut verbs = commands::VERBS.to_vec();
    verbs.push(ADMIN_STREAM_VERIFY);
    let server = rpc::serve(
        config.nats.clone(),
        SERVICE,
        "assessments, recommendations, needs and sharing grants",
        &prefix,
        &verbs,
        handler,
        stopped(),
    );
    tracing::info!(service = SERVICE, head = store.durable_position(), "ready");

    let mut server = std::pin::pin!(server);
    let served = tokio::select! {
        () = &mut shutdown => { let _ = stop_tx.send(true); server.await }
        result = &mut server => { let _ = stop_tx.send(true); result }
    };
    match replicator.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "replicator stopped with an alarm"),
        Err(e) => tracing::error!(error = %e, "replicator task failed"),
    }
    store.flush().await?;
    served.map_err(|e| anyhow::anyhow!("serving {SERVICE} commands: {e}"))
}

/// The admin verb behind `tatrack stream verify`: the service compares its own stream with its
/// own log, since only it may open the log while it runs.
pub const ADMIN_STREAM_VERIFY: &str = "admin_stream_verify";

async fn stream_verify(
    js: &async_nats::jetstream::Context,
    store: &Store,
    incoming: &rpc::Incoming,
) -> Result<serde_json::Value, rpc::ErrorBody> {
    use tatrack_domain::Role;
    if !matches!(
        incoming.meta.principal.role,
        Role::Admin | Role::Coordinator | Role::System
    ) {
        return Err(rpc::ErrorBody::new(
            rpc::ErrorCode::Forbidden,
            "only admins may verify the stream",
        ));
    }
    let comparison = copy::compare(js, SERVICE, store).await.map_err(|e| {
        tracing::warn!(error = %e, "stream verify failed");
        rpc::ErrorBody::new(
            rpc::ErrorCode::Unavailable,
            format!("cannot read the stream: {e}"),
        )
    })?;
    serde_json::to_value(comparison).map_err(|_| rpc::ErrorBody::internal())
}
