//! The replicator: copies a service's log into its JetStream stream so that stream sequence ==
//! log position (DESIGN §3 invariant 2).
//!
//! Position `p` is published with `Nats-Expected-Last-Sequence: p-1` and `Nats-Msg-Id: <event
//! id>`, pipelined (many publishes in flight, acks awaited in order). Any failed or unacked
//! publish sends the replicator into a resync: it reads the stream's last sequence `L` and
//! resumes at `L+1`. Before resuming it checks that every failed position at or below `L` holds
//! its own event id: a message that someone else wrote into the service's subjects lets the
//! sequence check heal *around* a hole without an error, so a mismatch stops the replicator with
//! an alarm instead (the stream must then be recreated from position 1).

use std::collections::BTreeSet;
use std::time::Duration;

use async_nats::jetstream;
use futures::stream::FuturesOrdered;
use futures::{FutureExt, StreamExt};
use tatrack_eventlog::{Envelope, Store};
use tokio_util::sync::CancellationToken;

use crate::{streams, subjects};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stream holds a message at `position` that is not this log's event: someone else
    /// published into the service's subjects. Recreate the stream from position 1.
    #[error(
        "stream {stream} position {position} holds {found:?}, not event {expected}: a foreign message; recreate the stream"
    )]
    Foreign {
        stream: String,
        position: u64,
        expected: uuid::Uuid,
        found: Option<String>,
    },
    /// The stream is longer than the log: the log lost its tail (rebuild it from the stream).
    #[error(
        "stream {stream} is at {stream_last}, ahead of the log at {log_head}: rebuild the log from the stream"
    )]
    StreamAhead {
        stream: String,
        stream_last: u64,
        log_head: u64,
    },
    #[error("event log: {0}")]
    Log(#[from] tatrack_eventlog::Error),
}

/// Settings of one replicator.
#[derive(Debug, Clone)]
pub struct Options {
    /// Publishes in flight at once (acks outstanding).
    pub max_in_flight: usize,
    /// Pause between resync attempts while NATS is unreachable.
    pub retry_every: Duration,
    /// Publish the events of one command that wrote several as one JetStream atomic batch
    /// (the stream needs `allow_atomic`): on a cluster, a fence written by the next lease
    /// holder then never lands between two events of one command. Off on one server, where
    /// nobody else writes the stream and every event is published in the end anyway.
    pub atomic_commands: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_in_flight: 1024,
            retry_every: Duration::from_millis(200),
            atomic_commands: false,
        }
    }
}

/// How long the server may take to take in one message of an atomic batch.
const BATCH_MESSAGE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Replicator {
    store: Store,
    js: jetstream::Context,
    service: String,
    options: Options,
    replicated: tokio::sync::watch::Sender<u64>,
}

type AckResult = (u64, Result<jetstream::publish::PublishAck, String>);

/// How long a stopping replicator keeps publishing what was durable when it was told to stop.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Resolves at the drain deadline (never, when not draining).
async fn deadline(drain: Option<(u64, tokio::time::Instant)>) {
    match drain {
        Some((_, at)) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Replicator {
    /// `js` should have a short timeout (about 1 s, see `crate::jetstream`).
    pub fn new(store: Store, js: jetstream::Context, service: &str, options: Options) -> Self {
        Self {
            store,
            js,
            service: service.to_owned(),
            options,
            replicated: tokio::sync::watch::channel(0).0,
        }
    }

    /// The last position known to be in the stream; watch it to wait for replication.
    pub fn replicated(&self) -> tokio::sync::watch::Receiver<u64> {
        self.replicated.subscribe()
    }

    /// Runs until `shutdown` is cancelled (after draining the publishes in flight) or an alarm.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), Error> {
        let stream_name = subjects::stream_name(&self.service);
        let mut failed: BTreeSet<u64> = BTreeSet::new();
        let mut first_sync = true;
        // Set on shutdown: publish up to this position (what was durable then), then stop.
        let mut drain: Option<(u64, tokio::time::Instant)> = None;
        loop {
            // Resync: find where the stream ends, check the failed positions, resume after it.
            let last = tokio::select! {
                () = shutdown.cancelled(), if drain.is_none() => return Ok(()),
                () = deadline(drain), if drain.is_some() => return Ok(()),
                last = self.resync(&stream_name, &mut failed, first_sync) => last?,
            };
            first_sync = false;
            self.replicated.send_replace(last);
            let mut tail = Box::pin(self.store.tail(last + 1));
            let mut in_flight: FuturesOrdered<futures::future::BoxFuture<'static, AckResult>> =
                FuturesOrdered::new();
            let mut broken = false;
            let mut next_position = last + 1;
            loop {
                if broken && in_flight.is_empty() {
                    break;
                }
                if let Some((target, _)) = drain
                    && in_flight.is_empty()
                    && next_position > target
                {
                    return Ok(());
                }
                let may_publish = !broken
                    && in_flight.len() < self.options.max_in_flight
                    && drain.is_none_or(|(target, _)| next_position <= target);
                tokio::select! {
                    biased;
                    () = shutdown.cancelled(), if drain.is_none() => {
                        // Stop taking new events, but leave the stream equal to the log if NATS
                        // lets us within a few seconds: the next start would resume anyway.
                        drain = Some((self.store.durable_position(), tokio::time::Instant::now() + DRAIN_LIMIT));
                    }
                    () = deadline(drain), if drain.is_some() => {
                        tracing::warn!(stream = %stream_name, "stopped before the stream caught up with the log");
                        return Ok(());
                    }
                    Some((position, result)) = in_flight.next(), if !in_flight.is_empty() => {
                        match result {
                            Ok(ack) if ack.sequence == position => {
                                self.replicated.send_replace(position);
                            }
                            Ok(ack) => {
                                tracing::warn!(stream = %stream_name, position, sequence = ack.sequence, "ack for another sequence; resyncing");
                                failed.insert(position);
                                broken = true;
                            }
                            Err(e) => {
                                tracing::debug!(stream = %stream_name, position, error = %e, "publish failed; resyncing");
                                failed.insert(position);
                                broken = true;
                            }
                        }
                    }
                    next = tail.next(), if may_publish => {
                        let Some(envelope) = next else { return Ok(()) };
                        let envelope = envelope?;
                        if envelope.position < next_position {
                            // Already published with the rest of its command's batch.
                            continue;
                        }
                        let command = self.command_of(envelope)?;
                        let last = command.last().map_or(next_position, |e| e.position);
                        next_position = last + 1;
                        let sent = if command.len() > 1 {
                            self.publish_batch(&command).await
                        } else {
                            self.publish(&command[0]).await
                        };
                        match sent {
                            Ok(ack) => in_flight.push_back(ack),
                            Err(e) => {
                                tracing::debug!(stream = %stream_name, position = last, error = %e, "publish not sent; resyncing");
                                failed.insert(last);
                                broken = true;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The envelopes to publish together from `envelope` on: with `atomic_commands`, every
    /// event its command wrote (they became durable in one append, so they are all in the log
    /// already); otherwise just `envelope`.
    fn command_of(&self, envelope: Envelope) -> Result<Vec<Envelope>, Error> {
        let Some(command_id) = envelope.command_id.filter(|_| self.options.atomic_commands) else {
            return Ok(vec![envelope]);
        };
        let mut command = vec![envelope];
        loop {
            let next = command[command.len() - 1].position + 1;
            match self.store.get(next)? {
                Some(following) if following.command_id == Some(command_id) => {
                    command.push(following);
                }
                _ => return Ok(command),
            }
        }
    }

    /// Publishes `command` (several envelopes, positions in order) as one atomic batch: the
    /// stream stores all of them, after the expected last sequence, or none. The returned ack is
    /// the batch's, for its last position.
    async fn publish_batch(
        &self,
        command: &[Envelope],
    ) -> Result<futures::future::BoxFuture<'static, AckResult>, async_nats::Error> {
        use async_nats::header::{
            NATS_BATCH_COMMIT, NATS_BATCH_ID, NATS_BATCH_SEQUENCE, NATS_EXPECTED_LAST_SEQUENCE,
            NATS_MESSAGE_ID,
        };
        let batch_id = uuid::Uuid::now_v7().simple().to_string();
        let client = self.js.client();
        let (last, rest) = command.split_last().ok_or("an empty batch")?;
        for (index, envelope) in rest.iter().enumerate() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(NATS_BATCH_ID, batch_id.as_str());
            headers.insert(NATS_BATCH_SEQUENCE, (index + 1).to_string().as_str());
            headers.insert(NATS_MESSAGE_ID, envelope.id.to_string().as_str());
            if index == 0 {
                headers.insert(
                    NATS_EXPECTED_LAST_SEQUENCE,
                    (envelope.position - 1).to_string().as_str(),
                );
            }
            let subject = subjects::event_subject(&self.service, &envelope.stream);
            let payload = serde_json::to_vec(envelope)?;
            // Each message before the commit is a request: the server answers empty once it
            // holds it, or with an error (unknown batch, a gap).
            let reply = tokio::time::timeout(
                BATCH_MESSAGE_TIMEOUT,
                client.request_with_headers(subject, headers, payload.into()),
            )
            .await??;
            if !reply.payload.is_empty() {
                return Err(format!(
                    "batch message {} refused: {}",
                    envelope.position,
                    String::from_utf8_lossy(&reply.payload)
                )
                .into());
            }
        }
        let subject = subjects::event_subject(&self.service, &last.stream);
        let message = jetstream::message::PublishMessage::build()
            .payload(serde_json::to_vec(last)?.into())
            .message_id(last.id.to_string())
            .header(NATS_BATCH_ID, batch_id.as_str())
            .header(NATS_BATCH_SEQUENCE, command.len().to_string().as_str())
            .header(NATS_BATCH_COMMIT, "1");
        let ack = self.js.send_publish(subject, message).await?;
        let position = last.position;
        Ok(async move { (position, ack.await.map_err(|e| e.to_string())) }.boxed())
    }

    async fn publish(
        &self,
        envelope: &Envelope,
    ) -> Result<futures::future::BoxFuture<'static, AckResult>, async_nats::Error> {
        let subject = subjects::event_subject(&self.service, &envelope.stream);
        let payload = serde_json::to_vec(envelope)?;
        let message = jetstream::message::PublishMessage::build()
            .payload(payload.into())
            .message_id(envelope.id.to_string())
            .expected_last_sequence(envelope.position - 1);
        let ack = self.js.send_publish(subject, message).await?;
        let position = envelope.position;
        Ok(async move { (position, ack.await.map_err(|e| e.to_string())) }.boxed())
    }

    /// Returns the stream's last sequence once the stream is reachable and consistent with the
    /// log; retries while NATS is down.
    async fn resync(
        &self,
        stream_name: &str,
        failed: &mut BTreeSet<u64>,
        first: bool,
    ) -> Result<u64, Error> {
        loop {
            match self.try_resync(stream_name, failed, first).await {
                Ok(last) => return Ok(last),
                Err(ResyncError::Alarm(e)) => {
                    tracing::error!(error = %e, "replicator stopped");
                    return Err(e);
                }
                Err(ResyncError::Retry(e)) => {
                    tracing::debug!(stream = %stream_name, error = %e, "stream unreachable; retrying");
                    tokio::time::sleep(self.options.retry_every).await;
                }
            }
        }
    }

    async fn try_resync(
        &self,
        stream_name: &str,
        failed: &mut BTreeSet<u64>,
        first: bool,
    ) -> Result<u64, ResyncError> {
        let stream = streams::ensure(&self.js, &self.service)
            .await
            .map_err(ResyncError::Retry)?;
        let last = streams::last_sequence(&self.js, &self.service)
            .await
            .map_err(ResyncError::Retry)?;
        let log_head = self.store.durable_position();
        if last > log_head {
            return Err(ResyncError::Alarm(Error::StreamAhead {
                stream: stream_name.to_owned(),
                stream_last: last,
                log_head,
            }));
        }
        // On start, the stream's last message must be ours too: a stream that was written by
        // someone else while we were down must not be extended.
        let mut to_check: Vec<u64> = failed.iter().copied().filter(|p| *p <= last).collect();
        if first && last > 0 {
            to_check.push(last);
        }
        for position in to_check {
            let expected = self.store.get(position)?.ok_or_else(|| {
                ResyncError::Alarm(Error::Log(tatrack_eventlog::Error::Integrity(format!(
                    "no durable event at {position}"
                ))))
            })?;
            let found = streams::message_id(&stream, position)
                .await
                .map_err(ResyncError::Retry)?;
            if found.as_deref() != Some(expected.id.to_string().as_str()) {
                return Err(ResyncError::Alarm(Error::Foreign {
                    stream: stream_name.to_owned(),
                    position,
                    expected: expected.id,
                    found,
                }));
            }
        }
        failed.clear();
        Ok(last)
    }
}

enum ResyncError {
    Retry(async_nats::Error),
    Alarm(Error),
}

impl From<tatrack_eventlog::Error> for ResyncError {
    fn from(e: tatrack_eventlog::Error) -> Self {
        ResyncError::Alarm(Error::Log(e))
    }
}
