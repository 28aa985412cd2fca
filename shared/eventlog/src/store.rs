//! `Store`: open a log, append, read by stream or globally, tail, and count group commits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::Stream;
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::commit::{self, Counters, Request};
use crate::envelope::{Appended, CommandMeta, Envelope, Expected, NewEvent};
use crate::error::Error;
use crate::keys;
use crate::verify::{self, Report};

static NEXT_INSTANCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Longest stream name; stream names become NATS subject tokens, so keep them short and plain.
pub const MAX_STREAM_NAME: usize = 200;

#[derive(Clone)]
pub(crate) struct Trees {
    pub log: sled::Tree,
    pub index: sled::Tree,
    pub heads: sled::Tree,
    pub commands: sled::Tree,
    pub event_ids: sled::Tree,
    pub meta: sled::Tree,
}

impl Trees {
    fn open(db: &sled::Db) -> Result<Self, Error> {
        Ok(Self {
            log: db.open_tree("log")?,
            index: db.open_tree("stream_index")?,
            heads: db.open_tree("heads")?,
            commands: db.open_tree("command_ids")?,
            event_ids: db.open_tree("event_ids")?,
            meta: db.open_tree("meta")?,
        })
    }

    /// Every tree, as one sled transaction takes them.
    #[allow(clippy::type_complexity)]
    pub(crate) fn all(
        &self,
    ) -> (
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
        &sled::Tree,
    ) {
        (
            &self.log,
            &self.index,
            &self.heads,
            &self.commands,
            &self.event_ids,
            &self.meta,
        )
    }

    pub(crate) fn head(&self) -> Result<u64, Error> {
        Ok(self
            .meta
            .get(keys::META_POSITION)?
            .map_or(0, |v| keys::decode_u64(&v)))
    }
}

/// Group-commit counters: `appends / flushes` is how many appends one flush carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub appends: u64,
    pub flushes: u64,
    /// Microseconds spent flushing (sled flush + fdatasync), summed over all flushes.
    pub flush_micros: u64,
    /// Microseconds the writer spent deciding and writing batches.
    pub write_micros: u64,
}

/// A handle on one event log. Cheap to clone; the last clone dropped stops its threads.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// Distinguishes this open log from any other, even at the same path (for caches); a
    /// truncation gives it a new one, so no cache outlives the events it was folded from.
    instance: std::sync::atomic::AtomicU64,
    clock: Clock,
    path: PathBuf,
    db: sled::Db,
    trees: Trees,
    writer: mpsc::Sender<Request>,
    durable: watch::Receiver<u64>,
    counters: Arc<Counters>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    /// Closes the writer's queue and waits for both threads, so the sled lock is released when the
    /// last `Store` handle is gone and the same directory can be opened again at once.
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.writer, closed));
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Store {
    /// Opens (or creates) the log in `dir` and checks its integrity before taking any append.
    /// `clock` stamps every append's `recorded_at`.
    pub fn open(dir: impl AsRef<Path>, clock: &Clock) -> Result<Self, Error> {
        let path = dir.as_ref().to_path_buf();
        crate::private_dir(&path)?;
        // Our group commit flushes explicitly; sled's own 500 ms timer would only add I/O.
        let db = sled::Config::new()
            .path(&path)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(None)
            .open()?;
        crate::private_dir(&path)?;
        let trees = Trees::open(&db)?;
        let report = verify::check(&trees)?;
        let head = report.head;
        let data_file = std::fs::OpenOptions::new()
            .read(true)
            .open(path.join("db"))?;
        let (durable_tx, durable_rx) = watch::channel(head);
        let counters = Arc::new(Counters::default());
        let (writer, threads) = commit::spawn(
            trees.clone(),
            db.clone(),
            data_file,
            head,
            durable_tx,
            counters.clone(),
            clock.clone(),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed).into(),
                clock: clock.clone(),
                path,
                db,
                trees,
                writer,
                durable: durable_rx,
                counters,
                threads,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The clock that stamps this log's appends: the service's one clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// A number no other `Store` opened by this process has: a cache key that cannot outlive
    /// the log it describes.
    pub fn instance(&self) -> u64 {
        self.inner.instance.load(Ordering::Acquire)
    }

    /// Drops every event after `position`, durably, and answers how many went. Only for a tail
    /// that was never acknowledged to anyone: a cluster instance that lost its lease drops what
    /// never reached the replicated stream, then follows the stream again. Readers holding a
    /// `tail` must be stopped first. Caches keyed by `instance` start over.
    pub async fn truncate_after(&self, position: u64) -> Result<u64, Error> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Request::Truncate {
                after: position,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        let dropped = answer.await.map_err(|_| Error::Closed)??;
        if dropped > 0 {
            self.inner.instance.store(
                NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
                Ordering::Release,
            );
        }
        Ok(dropped)
    }

    /// Appends `events` to `stream` if it is at the `expected` version. Returns once the events
    /// are durable. A command id already seen returns the first result and writes nothing.
    pub async fn append(
        &self,
        stream: &str,
        expected: Expected,
        events: Vec<NewEvent>,
        meta: CommandMeta,
    ) -> Result<Appended, Error> {
        check_stream_name(stream)?;
        if events.is_empty() {
            return Err(Error::Invalid {
                field: "events",
                reason: "an append needs at least one event".into(),
            });
        }
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Request::Append {
                stream: stream.to_owned(),
                expected,
                events,
                meta,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Appends an envelope copied from the event stream at exactly the next position (rebuilding
    /// a lost log). Returns once durable.
    pub async fn import(&self, envelope: Envelope) -> Result<Appended, Error> {
        check_stream_name(&envelope.stream)?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Request::Import {
                envelope: Box::new(envelope),
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// The stream's current version (0 when it does not exist).
    pub fn stream_version(&self, stream: &str) -> Result<u64, Error> {
        Ok(self
            .inner
            .trees
            .heads
            .get(stream.as_bytes())?
            .map_or(0, |v| keys::decode_u64(&v)))
    }

    /// The result a command id produced, once that result is durable; `None` if never seen.
    /// Services check this before deciding, so a retried command returns its first answer even
    /// when deciding it again would now be refused (DESIGN §3 invariant 6).
    pub async fn command_result(&self, command_id: uuid::Uuid) -> Result<Option<Appended>, Error> {
        let Some(stored) = self.inner.trees.commands.get(command_id.as_bytes())? else {
            return Ok(None);
        };
        let mut appended: Appended = serde_json::from_slice(&stored)?;
        appended.idempotent = true;
        if self.durable_position() < appended.last_position {
            self.wait_durable_after(appended.last_position - 1).await;
        }
        Ok(Some(appended))
    }

    /// Names of the streams that start with `prefix` (e.g. `offer-`), from the heads.
    pub fn streams_with_prefix(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        for entry in self.inner.trees.heads.scan_prefix(prefix.as_bytes()) {
            let (key, _) = entry?;
            out.push(String::from_utf8_lossy(&key).into_owned());
        }
        Ok(out)
    }

    /// Events of one stream from `from_version` (inclusive, 1-based) in order.
    pub fn read_stream(&self, stream: &str, from_version: u64) -> Result<Vec<Envelope>, Error> {
        let trees = &self.inner.trees;
        let start = keys::index(stream, from_version.max(1));
        let end = keys::index(stream, u64::MAX);
        let mut out = Vec::new();
        for entry in trees.index.range(start..=end) {
            let (_, position) = entry?;
            out.push(self.get_raw(keys::decode_u64(&position))?.ok_or_else(|| {
                Error::Integrity(format!("stream {stream} indexes a missing event"))
            })?);
        }
        Ok(out)
    }

    /// Durable events from `from_position` (inclusive), at most `limit` of them.
    pub fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<Envelope>, Error> {
        let durable = self.durable_position();
        let from = from_position.max(1);
        if from > durable {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in self
            .inner
            .trees
            .log
            .range(keys::position(from)..=keys::position(durable))
            .take(limit)
        {
            let (_, bytes) = entry?;
            out.push(serde_json::from_slice(&bytes)?);
        }
        Ok(out)
    }

    /// The event at `position`, if it is durable.
    pub fn get(&self, position: u64) -> Result<Option<Envelope>, Error> {
        if position == 0 || position > self.durable_position() {
            return Ok(None);
        }
        self.get_raw(position)
    }

    fn get_raw(&self, position: u64) -> Result<Option<Envelope>, Error> {
        match self.inner.trees.log.get(keys::position(position))? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The last durable position: everything at or below it survives a crash.
    pub fn durable_position(&self) -> u64 {
        *self.inner.durable.borrow()
    }

    /// Waits until the durable position changes; returns the new value.
    pub async fn wait_durable_after(&self, position: u64) -> u64 {
        let mut rx = self.inner.durable.clone();
        match rx.wait_for(|p| *p > position).await {
            Ok(p) => *p,
            Err(_) => self.durable_position(),
        }
    }

    /// Every durable event from `from_position` on, then each new one as it becomes durable.
    /// The stream never ends while the store is open.
    pub fn tail(&self, from_position: u64) -> impl Stream<Item = Result<Envelope, Error>> + Send {
        let store = self.clone();
        let state = (
            store,
            from_position.max(1),
            std::collections::VecDeque::new(),
        );
        futures::stream::unfold(state, |(store, mut next, mut buffer)| async move {
            loop {
                if let Some(envelope) = buffer.pop_front() {
                    return Some((Ok(envelope), (store, next, buffer)));
                }
                match store.read_all(next, 1024) {
                    Ok(batch) if !batch.is_empty() => {
                        next = batch.last().map_or(next, |e: &Envelope| e.position + 1);
                        buffer.extend(batch);
                    }
                    Ok(_) => {
                        store.wait_durable_after(next - 1).await;
                    }
                    Err(e) => return Some((Err(e), (store, next, buffer))),
                }
            }
        })
    }

    /// Group-commit counters since open.
    pub fn stats(&self) -> Stats {
        Stats {
            appends: self.inner.counters.appends.load(Ordering::Relaxed),
            flushes: self.inner.counters.flushes.load(Ordering::Relaxed),
            flush_micros: self.inner.counters.flush_micros.load(Ordering::Relaxed),
            write_micros: self.inner.counters.write_micros.load(Ordering::Relaxed),
        }
    }

    /// Runs the full integrity check on the open log.
    pub fn verify(&self) -> Result<Report, Error> {
        verify::check(&self.inner.trees)
    }

    /// Flushes sled (used at shutdown; appends are already durable when acknowledged).
    pub async fn flush(&self) -> Result<(), Error> {
        self.inner.db.flush_async().await?;
        Ok(())
    }
}

fn check_stream_name(stream: &str) -> Result<(), Error> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    if stream.is_empty() || stream.len() > MAX_STREAM_NAME || !stream.chars().all(plain) {
        return Err(Error::Invalid {
            field: "stream",
            reason: format!(
                "a stream name is 1 to {MAX_STREAM_NAME} characters of a-z, A-Z, 0-9, '-' and '_'"
            ),
        });
    }
    Ok(())
}
