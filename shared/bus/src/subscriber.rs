//! The catch-up subscriber (DESIGN §3 invariant 3): applies one service's event stream to a sled
//! projection, from its checkpoint, in order, idempotently. The projection's changes and the new
//! checkpoint are written in one sled transaction, so after a crash the two always agree.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures::{FutureExt, StreamExt};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_eventlog::Envelope;
use tokio_util::sync::CancellationToken;

use crate::{streams, subjects};

/// Most events applied in one sled transaction.
const MAX_BATCH: usize = 512;

/// A projection kept in one sled tree (keys of its own choosing, except those starting with
/// `0x00`, which the subscriber reserves for checkpoints).
pub trait Projection: Send {
    fn apply(
        &self,
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>>;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("stream {stream} sequence {sequence} holds position {position}: not a copy of its log")]
    NotACopy {
        stream: String,
        sequence: u64,
        position: u64,
    },
    #[error("projection refused position {position}: {reason}")]
    Projection { position: u64, reason: String },
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
}

pub struct Subscriber {
    js: jetstream::Context,
    service: String,
    tree: sled::Tree,
    /// Only these subjects of the stream (`None`: all of it).
    filter: Option<String>,
    applied: tokio::sync::watch::Sender<u64>,
    caught_up: tokio::sync::watch::Sender<bool>,
}

fn checkpoint_key(service: &str) -> Vec<u8> {
    let mut key = vec![0u8];
    key.extend_from_slice(b"checkpoint/");
    key.extend_from_slice(service.as_bytes());
    key
}

/// The last position of `service`'s stream applied to `tree`.
pub fn checkpoint(tree: &sled::Tree, service: &str) -> Result<u64, sled::Error> {
    Ok(tree.get(checkpoint_key(service))?.map_or(0, |v| {
        u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))
    }))
}

impl Subscriber {
    pub fn new(
        js: jetstream::Context,
        service: &str,
        tree: sled::Tree,
    ) -> Result<Self, sled::Error> {
        let start = checkpoint(&tree, service)?;
        Ok(Self {
            js,
            service: service.to_owned(),
            tree,
            filter: None,
            applied: tokio::sync::watch::channel(start).0,
            caught_up: tokio::sync::watch::channel(false).0,
        })
    }

    /// Follows only `subjects` of the stream (a NATS subject filter, e.g. one aggregate's
    /// events): the consumer is created with the filter in its subject, which is what the
    /// follower's NATS permissions allow.
    #[must_use]
    pub fn filtered(mut self, subjects: &str) -> Self {
        self.filter = Some(subjects.to_owned());
        self
    }

    /// The last applied position; watch it to wait for read-your-writes.
    pub fn applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Turns true once the subscriber has applied everything its consumer had pending when it
    /// was opened (for a filtered subscriber the stream's last sequence says nothing of that).
    pub fn caught_up(&self) -> tokio::sync::watch::Receiver<bool> {
        self.caught_up.subscribe()
    }

    /// Applies events until `shutdown` is cancelled. NATS outages are waited out; a stream that
    /// is not a copy of its log, or a projection that refuses an event, stops it with an error.
    pub async fn run<P: Projection>(
        self,
        projection: P,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let key = checkpoint_key(&self.service);
        loop {
            let from = checkpoint(&self.tree, &self.service)?;
            let mut messages = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                m = self.open(from) => match m {
                    Ok((m, pending)) => {
                        if pending == 0 {
                            self.caught_up.send_replace(true);
                        }
                        m
                    }
                    Err(e) => {
                        tracing::debug!(service = %self.service, error = %e, "cannot open consumer; retrying");
                        tokio::select! {
                            () = shutdown.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_millis(200)) => continue,
                        }
                    }
                },
            };
            loop {
                let next = tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    next = messages.next() => next,
                };
                let first = match next {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        tracing::debug!(service = %self.service, error = %e, "consumer error; reopening");
                        break;
                    }
                    None => break,
                };
                // Take every message that has already arrived (up to a bound) and apply them in
                // one transaction: one sled transaction per event is most of a catch-up's cost.
                let mut batch = vec![first];
                let mut reopen = false;
                while batch.len() < MAX_BATCH {
                    match messages.next().now_or_never() {
                        Some(Some(Ok(m))) => batch.push(m),
                        Some(Some(Err(e))) => {
                            tracing::debug!(service = %self.service, error = %e, "consumer error; reopening");
                            reopen = true;
                            break;
                        }
                        Some(None) => {
                            reopen = true;
                            break;
                        }
                        None => break,
                    }
                }
                let envelopes = batch
                    .iter()
                    .map(|message| self.envelope(message))
                    .collect::<Result<Vec<_>, _>>()?;
                self.apply(&projection, &key, &envelopes)?;
                if batch
                    .last()
                    .and_then(|m| m.info().ok())
                    .is_some_and(|info| info.pending == 0)
                {
                    self.caught_up.send_replace(true);
                }
                if reopen {
                    break;
                }
            }
        }
    }

    /// The envelope a message carries, checked to sit at its own position (seq == position).
    fn envelope(&self, message: &jetstream::Message) -> Result<Envelope, Error> {
        let sequence = message.info().map_or(0, |i| i.stream_sequence);
        let not_a_copy = |position| Error::NotACopy {
            stream: subjects::stream_name(&self.service),
            sequence,
            position,
        };
        let envelope: Envelope =
            serde_json::from_slice(&message.payload).map_err(|_| not_a_copy(0))?;
        if envelope.position != sequence {
            return Err(not_a_copy(envelope.position));
        }
        Ok(envelope)
    }

    /// Applies consecutive events and moves the checkpoint past them, in one transaction; events
    /// at or below the checkpoint are skipped (idempotent).
    fn apply<P: Projection>(
        &self,
        projection: &P,
        key: &[u8],
        envelopes: &[Envelope],
    ) -> Result<(), Error> {
        let applied = self.tree.transaction(|tx| {
            let mut done = tx.get(key)?.map_or(0, |v| {
                u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))
            });
            for envelope in envelopes {
                if envelope.position <= done {
                    continue; // already applied: idempotent
                }
                projection.apply(tx, envelope).map_err(|e| match e {
                    ConflictableTransactionError::Abort(reason) => {
                        ConflictableTransactionError::Abort((envelope.position, reason))
                    }
                    ConflictableTransactionError::Storage(e) => {
                        ConflictableTransactionError::Storage(e)
                    }
                    ConflictableTransactionError::Conflict => {
                        ConflictableTransactionError::Conflict
                    }
                })?;
                done = envelope.position;
            }
            tx.insert(key, &done.to_be_bytes())?;
            Ok(done)
        });
        match applied {
            Ok(p) => {
                self.applied.send_replace(p);
                Ok(())
            }
            Err(sled::transaction::TransactionError::Abort((position, reason))) => {
                Err(Error::Projection { position, reason })
            }
            Err(sled::transaction::TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    /// A consumer from `from + 1` on, and how many messages it had pending when created. The
    /// stream is not created here: a follower waits for its owner to create it.
    async fn open(&self, from: u64) -> Result<(consumer::pull::Ordered, u64), async_nats::Error> {
        let stream = streams::reader(&self.js, &self.service).await?;
        let consumer = stream
            .create_consumer(streams::ordered_consumer(
                consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: from + 1,
                },
                self.filter.as_deref(),
            ))
            .await?;
        let pending = consumer.cached_info().num_pending;
        Ok((consumer.messages().await?, pending))
    }
}
