//! Group commit: one writer thread applies appends, one sync thread makes them durable.
//!
//! The writer never waits for the disk: it hands each batch to the syncer and goes on writing.
//! The syncer takes every batch that is waiting, calls sled's flush once (which on Linux is
//! `sync_file_range`, so neither metadata nor the disk's write cache), then `fdatasync`s sled's
//! data file, raises the durable watermark and only then answers the callers. Many appends share
//! one flush; `Stats` counts how many.

use std::collections::HashMap;
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::envelope::{Appended, CommandMeta, Envelope, Expected, NewEvent};
use crate::error::Error;
use crate::keys;
use crate::store::Trees;
use uuid::Uuid;

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
    /// Drop every event after `after` (a cluster instance that lost its lease drops the tail
    /// that never reached the replicated stream, so it was never acknowledged). Answers how
    /// many events were dropped.
    Truncate {
        after: u64,
        reply: oneshot::Sender<Result<u64, Error>>,
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
    /// Time spent in flush + fdatasync, and in the writer's batch transactions.
    pub flush_micros: AtomicU64,
    pub write_micros: AtomicU64,
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
    clock: Clock,
) -> Result<(mpsc::Sender<Request>, Vec<std::thread::JoinHandle<()>>), Error> {
    let (tx, rx) = mpsc::channel::<Request>(MAX_BATCH);
    let (sync_tx, sync_rx) = std_mpsc::channel::<SyncJob>();
    let writer_counters = counters.clone();
    let durable = Arc::new(durable);
    let truncation = Truncation {
        durable: durable.clone(),
        data_file: data_file.try_clone()?,
    };
    let writer = std::thread::Builder::new()
        .name("eventlog-writer".into())
        .spawn(move || {
            writer(
                &trees,
                rx,
                &sync_tx,
                head,
                &writer_counters,
                &clock,
                &truncation,
            );
        })
        .expect("spawn eventlog writer thread");
    let syncer = std::thread::Builder::new()
        .name("eventlog-sync".into())
        .spawn(move || syncer(&db, &data_file, &sync_rx, &durable, &counters))
        .expect("spawn eventlog sync thread");
    Ok((tx, vec![writer, syncer]))
}

/// What the writer needs to truncate on its own: the durable watermark (which a truncation
/// lowers) and the data file to sync.
struct Truncation {
    durable: Arc<watch::Sender<u64>>,
    data_file: File,
}

fn writer(
    trees: &Trees,
    mut rx: mpsc::Receiver<Request>,
    sync_tx: &std_mpsc::Sender<SyncJob>,
    mut head: u64,
    counters: &Counters,
    clock: &Clock,
    truncation: &Truncation,
) {
    // A truncation met while collecting a batch waits for the next pass, to run alone.
    let mut carried: Option<Request> = None;
    loop {
        let first = match carried.take() {
            Some(request) => request,
            None => match rx.blocking_recv() {
                Some(request) => request,
                None => return,
            },
        };
        if let Request::Truncate { after, reply } = first {
            let result = truncate(trees, head, after, counters, truncation);
            if let Ok((new_head, _)) = result {
                head = new_head;
            }
            let _ = reply.send(result.map(|(_, dropped)| dropped));
            continue;
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(request @ Request::Truncate { .. }) => {
                    carried = Some(request);
                    break;
                }
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        if counters.poisoned.load(Ordering::Acquire) {
            for request in batch {
                match request {
                    Request::Append { reply, .. } | Request::Import { reply, .. } => {
                        let _ = reply.send(Err(Error::Closed));
                    }
                    Request::Truncate { reply, .. } => {
                        let _ = reply.send(Err(Error::Closed));
                    }
                }
            }
            continue;
        }
        // Decide every request of the batch against the trees plus what the batch itself has
        // written so far, then write all accepted ones in one transaction: sled's transaction
        // overhead is paid once per batch, not once per append.
        let started = std::time::Instant::now();
        let mut pending = Pending::new(head, clock.now());
        let mut replies = Vec::with_capacity(batch.len());
        for request in batch {
            let (reply, result) = match request {
                Request::Append {
                    stream,
                    expected,
                    events,
                    meta,
                    reply,
                } => (
                    reply,
                    pending.append(trees, &stream, expected, &events, &meta),
                ),
                Request::Import { envelope, reply } => (reply, pending.import(trees, &envelope)),
                Request::Truncate { reply, .. } => {
                    // Never batched (see above); answered rather than dropped all the same.
                    let _ = reply.send(Err(Error::Integrity(
                        "a truncation is never batched".into(),
                    )));
                    continue;
                }
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
        let written = pending.write(trees);
        counters
            .write_micros
            .fetch_add(elapsed_micros(started), Ordering::Relaxed);
        match written {
            Ok(new_head) => head = new_head,
            Err(e) => {
                tracing::error!(error = %e, "event log write failed; the batch is refused");
                let message = e.to_string();
                for (reply, _) in replies {
                    let _ = reply.send(Err(Error::Integrity(message.clone())));
                }
                continue;
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

/// Drops every event after `after` in one transaction (log, stream index, event ids, stream
/// heads, command records, position counter), once everything before it is durable, then
/// syncs and lowers the durable watermark. Returns the new head and how many events went.
fn truncate(
    trees: &Trees,
    head: u64,
    after: u64,
    counters: &Counters,
    truncation: &Truncation,
) -> Result<(u64, u64), Error> {
    if after >= head {
        return Ok((head, 0));
    }
    // Batches handed to the syncer must be durable first, or its watermark would rise again
    // over the dropped positions.
    let mut durable = truncation.durable.subscribe();
    while *durable.borrow_and_update() < head {
        if counters.poisoned.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let mut dropped = Vec::new();
    for entry in trees.log.range(keys::position(after + 1)..) {
        let (_, bytes) = entry?;
        dropped.push(serde_json::from_slice::<Envelope>(&bytes)?);
    }
    // Each stream goes back to the version before its first dropped event.
    let mut heads: HashMap<&str, u64> = HashMap::new();
    for envelope in &dropped {
        heads
            .entry(envelope.stream.as_str())
            .and_modify(|v| *v = (*v).min(envelope.version - 1))
            .or_insert(envelope.version - 1);
    }
    let command_ids: Vec<Uuid> = dropped.iter().filter_map(|e| e.command_id).collect();
    let result = trees
        .all()
        .transaction(|(log, index, heads_tree, commands, event_ids, meta)| {
            for envelope in &dropped {
                log.remove(&keys::position(envelope.position))?;
                index.remove(keys::index(&envelope.stream, envelope.version))?;
                event_ids.remove(envelope.id.as_bytes())?;
            }
            for (stream, version) in &heads {
                if *version == 0 {
                    heads_tree.remove(stream.as_bytes())?;
                } else {
                    heads_tree.insert(stream.as_bytes(), &version.to_be_bytes())?;
                }
            }
            // A command whose events are all dropped was never answered: forget it, so that
            // its retry is decided afresh.
            for command_id in &command_ids {
                if let Some(record) = commands.get(command_id.as_bytes())? {
                    let record: Appended = serde_json::from_slice(&record)
                        .map_err(|e| ConflictableTransactionError::Abort(Error::Encoding(e)))?;
                    if record.first_position > after {
                        commands.remove(command_id.as_bytes())?;
                    }
                }
            }
            meta.insert(keys::META_POSITION, &keys::position(after))?;
            Ok::<_, ConflictableTransactionError<Error>>(())
        });
    match result {
        Ok(()) => {}
        Err(TransactionError::Storage(e)) => return Err(e.into()),
        Err(TransactionError::Abort(e)) => return Err(e),
    }
    trees.log.flush()?;
    truncation.data_file.sync_data()?;
    truncation.durable.send_replace(after);
    Ok((after, dropped.len() as u64))
}

fn syncer(
    db: &sled::Db,
    data_file: &File,
    rx: &std_mpsc::Receiver<SyncJob>,
    durable: &Arc<watch::Sender<u64>>,
    counters: &Counters,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        jobs.extend(rx.try_iter());
        let up_to = jobs.iter().map(|j| j.up_to).max().unwrap_or(0);
        let started = std::time::Instant::now();
        let flushed = db
            .flush()
            .map_err(Error::from)
            .and_then(|_| data_file.sync_data().map_err(Error::from));
        match flushed {
            Ok(()) => {
                counters.flushes.fetch_add(1, Ordering::Relaxed);
                counters
                    .flush_micros
                    .fetch_add(elapsed_micros(started), Ordering::Relaxed);
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

/// One writer batch: what it has accepted so far, layered over the trees.
struct Pending {
    /// The log's head before the batch.
    base: u64,
    /// The head after what the batch accepted.
    head: u64,
    heads: HashMap<String, u64>,
    commands: HashMap<Uuid, Appended>,
    /// Event id -> (position, stream version) of events accepted in this batch.
    event_ids: HashMap<Uuid, (u64, u64)>,
    /// (position, stream, version, event id, envelope bytes)
    events: Vec<(u64, String, u64, Uuid, Vec<u8>)>,
    command_records: Vec<(Uuid, Vec<u8>)>,
    /// The recorded time of every event in the batch (one reading of the clock per batch).
    recorded_at: jiff::Timestamp,
}

impl Pending {
    fn new(head: u64, recorded_at: jiff::Timestamp) -> Self {
        Self {
            recorded_at,
            base: head,
            head,
            heads: HashMap::new(),
            commands: HashMap::new(),
            event_ids: HashMap::new(),
            events: Vec::new(),
            command_records: Vec::new(),
        }
    }

    fn stream_version(&self, trees: &Trees, stream: &str) -> Result<u64, Error> {
        if let Some(v) = self.heads.get(stream) {
            return Ok(*v);
        }
        Ok(trees
            .heads
            .get(stream.as_bytes())?
            .map_or(0, |v| keys::decode_u64(&v)))
    }

    /// (position, version) of a stored or batch-accepted event id.
    fn known_event(&self, trees: &Trees, id: Uuid) -> Result<Option<(u64, u64)>, Error> {
        if let Some(found) = self.event_ids.get(&id) {
            return Ok(Some(*found));
        }
        let Some(p) = trees.event_ids.get(id.as_bytes())? else {
            return Ok(None);
        };
        let position = keys::decode_u64(&p);
        let envelope: Envelope =
            serde_json::from_slice(&trees.log.get(keys::position(position))?.ok_or_else(
                || Error::Integrity(format!("event id points at missing position {position}")),
            )?)?;
        Ok(Some((position, envelope.version)))
    }

    fn append(
        &mut self,
        trees: &Trees,
        stream: &str,
        expected: Expected,
        events: &[NewEvent],
        meta: &CommandMeta,
    ) -> Result<Appended, Error> {
        if let Some(command_id) = meta.command_id {
            let seen = match self.commands.get(&command_id) {
                Some(appended) => Some(appended.clone()),
                None => trees
                    .commands
                    .get(command_id.as_bytes())?
                    .map(|stored| serde_json::from_slice::<Appended>(&stored))
                    .transpose()?,
            };
            if let Some(mut appended) = seen {
                if let (Some(first), Some(now)) = (&appended.fingerprint, &meta.fingerprint)
                    && first != now
                {
                    return Err(Error::CommandReused { command_id });
                }
                appended.idempotent = true;
                return Ok(appended);
            }
        }

        let mut known = Vec::new();
        for event in events {
            if let Some(found) = self.known_event(trees, event.id)? {
                known.push(found);
            }
        }
        if !known.is_empty() {
            if known.len() < events.len() {
                return Err(Error::PartialDuplicate {
                    known: known.len(),
                    total: events.len(),
                });
            }
            let first = known.iter().map(|k| k.0).min().expect("non-empty");
            let (last, version) = *known.iter().max().expect("non-empty");
            return Ok(Appended {
                first_position: first,
                last_position: last,
                stream_version: version,
                idempotent: true,
                fingerprint: None,
            });
        }

        let actual = self.stream_version(trees, stream)?;
        if !expected.admits(actual) {
            return Err(Error::Conflict {
                stream: stream.to_owned(),
                expected,
                actual,
            });
        }

        let recorded_at = self.recorded_at;
        let mut accepted = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            let n = i as u64 + 1;
            let envelope = Envelope {
                id: event.id,
                stream: stream.to_owned(),
                version: actual + n,
                position: self.head + n,
                kind: event.kind.clone(),
                schema: event.schema,
                on: event.on,
                recorded_at,
                principal: meta.principal.clone(),
                command_id: meta.command_id,
                correlation_id: meta.correlation_id.clone(),
                command_fingerprint: meta.fingerprint.clone(),
                payload: event.payload.clone(),
            };
            accepted.push((
                envelope.position,
                envelope.stream.clone(),
                envelope.version,
                envelope.id,
                serde_json::to_vec(&envelope)?,
            ));
        }
        let appended = Appended {
            first_position: self.head + 1,
            last_position: self.head + events.len() as u64,
            stream_version: actual + events.len() as u64,
            idempotent: false,
            fingerprint: meta.fingerprint.clone(),
        };
        if let Some(command_id) = meta.command_id {
            self.command_records
                .push((command_id, serde_json::to_vec(&appended)?));
            self.commands.insert(command_id, appended.clone());
        }
        self.accept(accepted);
        Ok(appended)
    }

    fn import(&mut self, trees: &Trees, envelope: &Envelope) -> Result<Appended, Error> {
        if envelope.position != self.head + 1 {
            return Err(Error::ImportOutOfOrder {
                head: self.head,
                position: envelope.position,
            });
        }
        let actual = self.stream_version(trees, &envelope.stream)?;
        if envelope.version != actual + 1 {
            return Err(Error::Conflict {
                stream: envelope.stream.clone(),
                expected: Expected::Exact(envelope.version - 1),
                actual,
            });
        }
        let appended = Appended {
            first_position: envelope.position,
            last_position: envelope.position,
            stream_version: envelope.version,
            idempotent: false,
            fingerprint: envelope.command_fingerprint.clone(),
        };
        // The command record is rebuilt too, so a retried command stays idempotent after a rebuild.
        if let Some(command_id) = envelope.command_id {
            let earlier = match self.commands.get(&command_id) {
                Some(a) => Some(a.clone()),
                None => trees
                    .commands
                    .get(command_id.as_bytes())?
                    .map(|stored| serde_json::from_slice::<Appended>(&stored))
                    .transpose()?,
            };
            // A command that wrote several events: its record spans from its first to its last.
            let first = earlier.map_or_else(
                || appended.clone(),
                |a| Appended {
                    last_position: envelope.position,
                    stream_version: envelope.version,
                    ..a
                },
            );
            self.command_records
                .push((command_id, serde_json::to_vec(&first)?));
            self.commands.insert(command_id, first);
        }
        self.accept(vec![(
            envelope.position,
            envelope.stream.clone(),
            envelope.version,
            envelope.id,
            serde_json::to_vec(envelope)?,
        )]);
        Ok(appended)
    }

    fn accept(&mut self, events: Vec<(u64, String, u64, Uuid, Vec<u8>)>) {
        for (position, stream, version, id, bytes) in events {
            self.head = position;
            self.heads.insert(stream.clone(), version);
            self.event_ids.insert(id, (position, version));
            self.events.push((position, stream, version, id, bytes));
        }
    }

    /// Writes everything the batch accepted in one sled transaction and returns the new head.
    /// The transaction reads the position counter itself and refuses to write unless it is where
    /// the batch started, so positions stay gapless even if sled reruns the closure (which does
    /// no I/O of its own).
    fn write(self, trees: &Trees) -> Result<u64, Error> {
        if self.events.is_empty() {
            return Ok(self.base);
        }
        let base = self.base;
        let result = trees
            .all()
            .transaction(|(log, index, heads, commands, event_ids, meta)| {
                let last = meta
                    .get(keys::META_POSITION)?
                    .map_or(0, |v| keys::decode_u64(&v));
                if last != base {
                    // The envelopes were numbered from the writer's head; a different counter
                    // means someone else wrote to this database.
                    return Err(ConflictableTransactionError::Abort(()));
                }
                for (position, stream, version, id, bytes) in &self.events {
                    log.insert(&keys::position(*position), bytes.as_slice())?;
                    index.insert(keys::index(stream, *version), &keys::position(*position))?;
                    event_ids.insert(id.as_bytes(), &keys::position(*position))?;
                }
                for (stream, version) in &self.heads {
                    heads.insert(stream.as_bytes(), &version.to_be_bytes())?;
                }
                for (command_id, record) in &self.command_records {
                    commands.insert(command_id.as_bytes(), record.as_slice())?;
                }
                meta.insert(keys::META_POSITION, &keys::position(self.head))?;
                Ok::<_, ConflictableTransactionError<()>>(())
            });
        match result {
            Ok(()) => Ok(self.head),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => Err(Error::Integrity(format!(
                "position counter moved under the writer (expected {base})"
            ))),
        }
    }
}

fn elapsed_micros(since: std::time::Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}
