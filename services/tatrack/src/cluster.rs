//! The server host's cluster commands, as the deployment's NATS `admin` user:
//! `tatrack admin provision` (every command service's stream at N replicas and the lease bucket,
//! once, before the services start) and `tatrack status` (who holds each command service's
//! lease, how far each stream's replicas lag their leader, and how far each consumer of a
//! stream, a read model's or a follower's, is behind it).

use std::time::Duration;

use futures::TryStreamExt;
use serde::Serialize;

use crate::cli::{Host, Settings};
use crate::host;

/// `tatrack admin provision`.
pub async fn provision(
    clock: tatrack_eventlog::Clock,
    host: &Host,
    replicas: usize,
    lease_ttl: u64,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        matches!(replicas, 1 | 3 | 5),
        "invalid --replicas: {replicas} (JetStream takes 1, 3 or 5; a cluster of three servers takes 3)"
    );
    let range = tatrack_bus::lease::TTL_SECONDS;
    anyhow::ensure!(
        range.contains(&lease_ttl),
        "invalid --lease-ttl: {lease_ttl} seconds is outside {} to {}",
        range.start(),
        range.end()
    );
    let settings = Settings::new(clock, host);
    let nats = host::connect_admin(&settings, "tatrack-provision").await?;
    let js = tatrack_bus::jetstream(nats, Duration::from_secs(10));
    // Right after the servers start, the meta leader may not have heard from every peer yet
    // and refuses to place the replicas ("no suitable peers for placement"): try for 30 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let made = loop {
        match tatrack_bus::streams::provision(&js, replicas, Duration::from_secs(lease_ttl)).await {
            Ok(made) => break made,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("not provisioned yet ({e}); again in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => anyhow::bail!("provisioning the streams and the lease bucket: {e}"),
        }
    };
    println!(
        "provisioned at {replicas} replicas: {} (lease TTL {lease_ttl} s)",
        made.join(", ")
    );
    Ok(())
}

/// One command service as `tatrack status` shows it.
#[derive(Debug, Serialize)]
struct ServiceStatus {
    service: &'static str,
    /// The instance holding the lease (cluster mode), with its revision and since when.
    lease: Option<Lease>,
    stream: Option<StreamStatus>,
}

#[derive(Debug, Serialize)]
struct Lease {
    instance: String,
    since: jiff::Timestamp,
    revision: u64,
}

#[derive(Debug, Serialize)]
struct StreamStatus {
    last_sequence: u64,
    replicas: usize,
    leader: Option<String>,
    /// How many operations each follower replica is behind the leader.
    followers: Vec<Follower>,
    consumers: Vec<ConsumerLag>,
}

#[derive(Debug, Serialize)]
struct Follower {
    server: String,
    current: bool,
    offline: bool,
    lag: u64,
}

#[derive(Debug, Serialize)]
struct ConsumerLag {
    name: String,
    filter: String,
    /// Messages of the stream it has not been delivered yet.
    pending: u64,
}

/// `tatrack status`.
pub async fn status(clock: tatrack_eventlog::Clock, host: &Host, json: bool) -> anyhow::Result<()> {
    let settings = Settings::new(clock, host);
    let nats = host::connect_admin(&settings, "tatrack-status").await?;
    let js = tatrack_bus::jetstream(nats, Duration::from_secs(5));
    let mut all = Vec::new();
    for service in tatrack_bus::subjects::SERVICES {
        // No bucket: a single server, where nobody holds a lease.
        let lease = tatrack_bus::lease::holder(&js, service)
            .await
            .ok()
            .flatten()
            .map(|(holder, revision)| Lease {
                instance: holder.instance,
                since: holder.since,
                revision,
            });
        let stream = match js
            .get_stream(tatrack_bus::subjects::stream_name(service))
            .await
        {
            Ok(mut stream) => Some(stream_status(&mut stream).await?),
            Err(_) => None,
        };
        all.push(ServiceStatus {
            service,
            lease,
            stream,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    for status in &all {
        let lease = status.lease.as_ref().map_or_else(
            || "no lease (single server, or nobody active)".to_owned(),
            |l| {
                format!(
                    "held by {} since {} (revision {})",
                    l.instance, l.since, l.revision
                )
            },
        );
        println!("{:<12} {lease}", status.service);
        let Some(stream) = &status.stream else {
            println!("{:<12} stream: not created yet", "");
            continue;
        };
        let followers = stream
            .followers
            .iter()
            .map(|f| {
                let state = if f.offline {
                    "offline"
                } else if f.current {
                    "current"
                } else {
                    "catching up"
                };
                format!("{} {state}, lag {}", f.server, f.lag)
            })
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "{:<12} stream: last sequence {}, {} replica(s), leader {}{}",
            "",
            stream.last_sequence,
            stream.replicas,
            stream.leader.as_deref().unwrap_or("-"),
            if followers.is_empty() {
                String::new()
            } else {
                format!("; followers: {followers}")
            }
        );
        for consumer in &stream.consumers {
            println!(
                "{:<12} consumer {} ({}): {} behind",
                "",
                consumer.name,
                if consumer.filter.is_empty() {
                    "whole stream"
                } else {
                    &consumer.filter
                },
                consumer.pending
            );
        }
    }
    Ok(())
}

async fn stream_status(
    stream: &mut async_nats::jetstream::stream::Stream,
) -> anyhow::Result<StreamStatus> {
    let info = stream.info().await?.clone();
    let consumers: Vec<async_nats::jetstream::consumer::Info> =
        stream.consumers().try_collect().await?;
    Ok(StreamStatus {
        last_sequence: info.state.last_sequence,
        replicas: info.config.num_replicas,
        leader: info.cluster.as_ref().and_then(|c| c.leader.clone()),
        followers: info
            .cluster
            .map(|c| c.replicas)
            .unwrap_or_default()
            .into_iter()
            .map(|peer| Follower {
                server: peer.name,
                current: peer.current,
                offline: peer.offline,
                lag: peer.lag.unwrap_or(0),
            })
            .collect(),
        consumers: consumers
            .into_iter()
            .map(|c| ConsumerLag {
                name: c.name,
                filter: c.config.filter_subject,
                pending: c.num_pending,
            })
            .collect(),
    })
}
