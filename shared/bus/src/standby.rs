//! The cluster side of a command service (ARCHITECTURE.md, "Past one machine"): a standby
//! follows the replicated stream into its own log; the instance that wins the lease catches up
//! to the stream's last sequence and publishes a fence event at once, so a deposed holder's next
//! publish is refused by `Nats-Expected-Last-Sequence`; the holder renews the lease and steps
//! down when it cannot. An instance that steps down drops the tail of its log that never
//! reached the stream (never acknowledged: in cluster mode a command is acknowledged only once
//! its events are in the stream) and follows again.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use tatrack_eventlog::{Envelope, Store};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::lease::{self, Lease, Renewal, Term};
use crate::{copy, streams, subjects};

/// How often a standby reads the stream for new events and tries to take the lease.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// The highest position at which the log and the stream hold the same event; everything in the
/// log after it never reached the stream, so it is dropped. Answers how many events went.
pub async fn reconcile(
    js: &jetstream::Context,
    service: &str,
    store: &Store,
) -> Result<u64, async_nats::Error> {
    let stream = streams::ensure(js, service).await?;
    let last = streams::last_sequence(js, service).await?;
    let head = store.durable_position();
    let mut agreed = head.min(last);
    while agreed > 0 {
        let ours = store.get(agreed)?.ok_or("log position is not durable")?;
        let theirs = streams::message_id(&stream, agreed).await?;
        if theirs.as_deref() == Some(ours.id.to_string().as_str()) {
            break;
        }
        agreed -= 1;
    }
    if agreed == head {
        return Ok(0);
    }
    let dropped = store.truncate_after(agreed).await?;
    tracing::warn!(
        service,
        from = agreed + 1,
        dropped,
        "dropped the log's tail that never reached the replicated stream"
    );
    Ok(dropped)
}

/// Makes the log equal to the stream: drops a divergent tail, imports what is new.
pub async fn follow(
    js: &jetstream::Context,
    service: &str,
    store: &Store,
) -> Result<(), async_nats::Error> {
    reconcile(js, service, store).await?;
    copy::rebuild_log(js, service, store).await?;
    Ok(())
}

/// Follows the stream until this instance wins the lease (or `shutdown`).
pub async fn wait_for_lease(
    js: &jetstream::Context,
    service: &str,
    store: &Store,
    lease: &Lease,
    shutdown: &CancellationToken,
) -> Option<Term> {
    let mut announced = false;
    loop {
        if let Err(e) = follow(js, service, store).await {
            tracing::warn!(service, error = %e, "standby cannot follow the stream yet");
        } else {
            match lease.try_acquire(store.clock().now()).await {
                Ok(Some(term)) => return Some(term),
                Ok(None) if !announced => {
                    tracing::info!(
                        service,
                        head = store.durable_position(),
                        "standby: another instance holds the lease"
                    );
                    announced = true;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(service, error = %e, "cannot reach the lease bucket"),
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
        }
    }
}

/// Catches up with the stream and publishes the fence event right after its last message, so
/// whoever held the lease before can append nothing more. Fails when the term runs out first.
pub async fn take_over(
    js: &jetstream::Context,
    service: &str,
    store: &Store,
    term: &Term,
) -> Result<u64, async_nats::Error> {
    let fence_stream = format!("{}-{service}", lease::FENCE_AGGREGATE);
    loop {
        if Instant::now() >= term.valid_until {
            return Err("the lease ran out before the fence was written".into());
        }
        follow(js, service, store).await?;
        let last = store.durable_position();
        let fence = Envelope {
            id: Uuid::now_v7(),
            stream: fence_stream.clone(),
            version: store.stream_version(&fence_stream)? + 1,
            position: last + 1,
            kind: "lease_taken".to_owned(),
            schema: 1,
            on: Some(store.clock().today()),
            recorded_at: store.clock().now(),
            principal: format!("system:{service}"),
            command_id: None,
            correlation_id: None,
            command_fingerprint: None,
            payload: serde_json::json!({
                "instance": term.holder.instance,
                "term": term.holder.term,
                "lease_revision": term.revision,
            }),
        };
        let message = jetstream::message::PublishMessage::build()
            .payload(serde_json::to_vec(&fence)?.into())
            .message_id(fence.id.to_string())
            .expected_last_sequence(last);
        let published = match js
            .send_publish(subjects::event_subject(service, &fence.stream), message)
            .await
        {
            Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        // Whether or not the ack came back, the fence is written once the stream holds it:
        // following imports it like any event.
        follow(js, service, store).await?;
        if store.get(last + 1)?.is_some_and(|e| e.id == fence.id) {
            tracing::info!(service, instance = %term.holder.instance, position = last + 1, "lease taken; fence written");
            return Ok(last + 1);
        }
        if let Err(e) = published {
            tracing::info!(service, error = %e, "fence not written yet (the stream moved or NATS is electing); again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Renews the lease every third of its TTL until `stop`; when it is lost, or cannot be renewed
/// before this instance's own deadline, cancels `stop` (the instance stops serving at once).
/// Returns the last term held, for releasing it.
pub async fn hold(lease: Lease, mut term: Term, stop: CancellationToken) -> Term {
    let every = lease.ttl() / 3;
    loop {
        tokio::select! {
            () = stop.cancelled() => return term,
            () = tokio::time::sleep(every) => {}
        }
        loop {
            let left = term.valid_until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(instance = %term.holder.instance, "lease not renewed in time; stepping down");
                stop.cancel();
                return term;
            }
            match tokio::time::timeout(left, lease.renew(&term)).await {
                Ok(Ok(renewed)) => {
                    let landed = renewed.valid_until > term.valid_until;
                    term = renewed;
                    if landed {
                        break;
                    }
                }
                Ok(Err(Renewal::Lost)) => {
                    tracing::warn!(instance = %term.holder.instance, "lease lost to another instance; stepping down");
                    stop.cancel();
                    return term;
                }
                Ok(Err(Renewal::Uncertain(e))) => {
                    tracing::debug!(error = %e, "lease renewal uncertain; retrying");
                    tokio::time::sleep(Duration::from_millis(250).min(left)).await;
                }
                Err(_) => {}
            }
        }
    }
}
