//! Group commit: one writer thread applies appends, one sync thread makes them durable.
//!
//! The writer never waits for the disk: it hands each batch to the syncer and goes on writing.
//! The syncer takes every batch that is waiting, calls sled's flush once (which on Linux is
//! `sync_file_range`, so neither metadata nor the disk's write cache), then `fdatasync`s sled's
//! data file, raises the durable watermark and only then answers the callers. Many appends share
//! one flush; `Stats` counts how many.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::envelope::{Appended, CommandMeta, Envelope, Expected, NewEvent};
use crate::error::Error;
use crate::keys;
use crate::store::Trees;

pub(crate) enum Request {
    Append {
        stream: String,
        expected: Expected,
        events: Vec<NewEvent>,
        meta: CommandMeta,
        reply: oneshot::Sender<Result<Appended, Error>>,
    },
    /// A whole envelope copied back from the event stream (rebuilding a lost log).
    Import {
        envelope: Box<Envelope>,
        reply: oneshot::Sender<Result<Appended, Error>>,
    },
}

type Reply = (
    oneshot::Sender<Result<Appended, Error>>,
    Result<Appended, Error>,
);

struct SyncJob {
    up_to: u64,
    replies: Vec<Reply>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub appends: AtomicU64,
    pub flushes: AtomicU64,
    pub poisoned: AtomicBool,
}

/// Most requests one writer pass takes before it hands a batch to the syncer.
const MAX_BATCH: usize = 4096;

pub(crate) fn spawn(
    trees: Trees,
    db: sled::Db,
    data_file: File,
    head: u64,
    durable: watch::Sender<u64>,
    counters: Arc<Counters>,
) -> (mpsc::Sender<Request>, Vec<std::thread::JoinHandle<()>>) {
    let (tx, rx) = mpsc::channel::<Request>(MAX_BATCH);
    let (sync_tx, sync_rx) = std_mpsc::channel::<SyncJob>();
    let writer_counters = counters.clone();
    let writer = std::thread::Builder::new()
        .name("eventlog-writer".into())
        .spawn(move || writer(&trees, rx, &sync_tx, head, &writer_counters))
        .expect("spawn eventlog writer thread");
    let syncer = std::thread::Builder::new()
        .name("eventlog-sync".into())
        .spawn(move || syncer(&db, &data_file, &sync_rx, &durable, &counters))
        .expect("spawn eventlog sync thread");
    (tx, vec![writer, syncer])
}

fn writer(
    trees: &Trees,
    mut rx: mpsc::Receiver<Request>,
    sync_tx: &std_mpsc::Sender<SyncJob>,
    mut head: u64,
    counters: &Counters,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(batch.len());
        for request in batch {
            if counters.poisoned.load(Ordering::Acquire) {
                let (Request::Append { reply, .. } | Request::Import { reply, .. }) = request;
                let _ = reply.send(Err(Error::Closed));
                continue;
            }
            let (reply, result) = match request {
                Request::Append {
                    stream,
                    expected,
                    events,
                    meta,
                    reply,
                } => (
                    reply,
                    append(trees, &mut head, &stream, expected, &events, &meta),
                ),
                Request::Import { envelope, reply } => (reply, import(trees, &mut head, &envelope)),
            };
            match result {
                // A conflict or bad request wrote nothing, so it need not wait for a flush.
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
                // An idempotent answer may point at events that are still in flight: wait too.
                Ok(appended) => replies.push((reply, Ok(appended))),
            }
        }
        if !replies.is_empty()
            && sync_tx
                .send(SyncJob {
                    up_to: head,
                    replies,
                })
                .is_err()
        {
            return;
        }
    }
}

fn syncer(
    db: &sled::Db,
    data_file: &File,
    rx: &std_mpsc::Receiver<SyncJob>,
    durable: &watch::Sender<u64>,
    counters: &Counters,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        jobs.extend(rx.try_iter());
        let up_to = jobs.iter().map(|j| j.up_to).max().unwrap_or(0);
        let flushed = db
            .flush()
            .map_err(Error::from)
            .and_then(|_| data_file.sync_data().map_err(Error::from));
        match flushed {
            Ok(()) => {
                counters.flushes.fetch_add(1, Ordering::Relaxed);
                let n: usize = jobs.iter().map(|j| j.replies.len()).sum();
                counters.appends.fetch_add(n as u64, Ordering::Relaxed);
                durable.send_if_modified(|d| {
                    let raised = up_to > *d;
                    *d = (*d).max(up_to);
                    raised
                });
                for job in jobs {
                    for (reply, result) in job.replies {
                        let _ = reply.send(result);
                    }
                }
            }
            Err(e) => {
                // A failed flush leaves the disk state unknown: acknowledge nothing more.
                tracing::error!(error = %e, "event log flush failed; the log refuses further appends");
                counters.poisoned.store(true, Ordering::Release);
                for job in jobs {
                    for (reply, _) in job.replies {
                        let _ = reply.send(Err(Error::Closed));
                    }
                }
            }
        }
    }
}

fn append(
    trees: &Trees,
    head: &mut u64,
    stream: &str,
    expected: Expected,
    events: &[NewEvent],
    meta: &CommandMeta,
) -> Result<Appended, Error> {
    if let Some(command_id) = meta.command_id
        && let Some(stored) = trees.commands.get(command_id.as_bytes())?
    {
        let mut appended: Appended = serde_json::from_slice(&stored)?;
        appended.idempotent = true;
        return Ok(appended);
    }

    let mut known = Vec::new();
    for event in events {
        if let Some(p) = trees.event_ids.get(event.id.as_bytes())? {
            known.push(keys::decode_u64(&p));
        }
    }
    if !known.is_empty() {
        if known.len() < events.len() {
            return Err(Error::PartialDuplicate {
                known: known.len(),
                total: events.len(),
            });
        }
        let last = *known.iter().max().expect("non-empty");
        let envelope: Envelope =
            serde_json::from_slice(&trees.log.get(keys::position(last))?.ok_or_else(|| {
                Error::Integrity(format!("event id points at missing position {last}"))
            })?)?;
        return Ok(Appended {
            first_position: *known.iter().min().expect("non-empty"),
            last_position: last,
            stream_version: envelope.version,
            idempotent: true,
        });
    }

    let actual = trees
        .heads
        .get(stream.as_bytes())?
        .map_or(0, |v| keys::decode_u64(&v));
    if !expected.admits(actual) {
        return Err(Error::Conflict {
            stream: stream.to_owned(),
            expected,
            actual,
        });
    }

    let recorded_at = jiff::Timestamp::now();
    let mut encoded = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        let n = i as u64 + 1;
        let envelope = Envelope {
            id: event.id,
            stream: stream.to_owned(),
            version: actual + n,
            position: *head + n,
            kind: event.kind.clone(),
            schema: event.schema,
            recorded_at,
            principal: meta.principal.clone(),
            command_id: meta.command_id,
            correlation_id: meta.correlation_id,
            payload: event.payload.clone(),
        };
        encoded.push((
            envelope.id,
            envelope.version,
            serde_json::to_vec(&envelope)?,
        ));
    }
    let appended = Appended {
        first_position: *head + 1,
        last_position: *head + events.len() as u64,
        stream_version: actual + events.len() as u64,
        idempotent: false,
    };
    let command_record = meta
        .command_id
        .map(|id| Ok::<_, Error>((id, serde_json::to_vec(&appended)?)))
        .transpose()?;
    write(trees, stream, head, &encoded, command_record.as_ref())?;
    Ok(appended)
}

fn import(trees: &Trees, head: &mut u64, envelope: &Envelope) -> Result<Appended, Error> {
    if envelope.position != *head + 1 {
        return Err(Error::ImportOutOfOrder {
            head: *head,
            position: envelope.position,
        });
    }
    let actual = trees
        .heads
        .get(envelope.stream.as_bytes())?
        .map_or(0, |v| keys::decode_u64(&v));
    if envelope.version != actual + 1 {
        return Err(Error::Conflict {
            stream: envelope.stream.clone(),
            expected: Expected::Exact(envelope.version - 1),
            actual,
        });
    }
    let encoded = [(envelope.id, envelope.version, serde_json::to_vec(envelope)?)];
    // The command record is rebuilt too, so a retried command stays idempotent after a rebuild.
    let appended = Appended {
        first_position: envelope.position,
        last_position: envelope.position,
        stream_version: envelope.version,
        idempotent: false,
    };
    let command_record = envelope
        .command_id
        .map(|id| Ok::<_, Error>((id, serde_json::to_vec(&appended)?)))
        .transpose()?;
    write(
        trees,
        &envelope.stream,
        head,
        &encoded,
        command_record.as_ref(),
    )?;
    Ok(appended)
}

/// Writes the events of one append in one sled transaction. The next position comes from the
/// counter key read inside the transaction, so positions stay gapless even if sled reruns the
/// closure; the closure does no I/O of its own.
fn write(
    trees: &Trees,
    stream: &str,
    head: &mut u64,
    encoded: &[(uuid::Uuid, u64, Vec<u8>)],
    command_record: Option<&(uuid::Uuid, Vec<u8>)>,
) -> Result<(), Error> {
    let base = *head;
    let result = (
        &trees.log,
        &trees.index,
        &trees.heads,
        &trees.commands,
        &trees.event_ids,
        &trees.meta,
    )
        .transaction(|(log, index, heads, commands, event_ids, meta)| {
            let last = meta
                .get(keys::META_POSITION)?
                .map_or(0, |v| keys::decode_u64(&v));
            if last != base {
                // The envelopes were numbered from the writer's head; a different counter means
                // someone else wrote to this database.
                return Err(ConflictableTransactionError::Abort(()));
            }
            let mut position = last;
            let mut version = 0;
            for (id, v, bytes) in encoded {
                position += 1;
                version = *v;
                log.insert(&keys::position(position), bytes.as_slice())?;
                index.insert(keys::index(stream, *v), &keys::position(position))?;
                event_ids.insert(id.as_bytes(), &keys::position(position))?;
            }
            heads.insert(stream.as_bytes(), &version.to_be_bytes())?;
            meta.insert(keys::META_POSITION, &keys::position(position))?;
            if let Some((command_id, record)) = command_record {
                commands.insert(command_id.as_bytes(), record.as_slice())?;
            }
            Ok::<_, ConflictableTransactionError<()>>(position)
        });
    match result {
        Ok(position) => {
            *head = position;
            Ok(())
        }
        Err(TransactionError::Storage(e)) => Err(e.into()),
        Err(TransactionError::Abort(())) => Err(Error::Integrity(format!(
            "position counter moved under the writer (expected {base})"
        ))),
    }
}
