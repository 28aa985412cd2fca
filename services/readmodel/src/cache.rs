//! Decoded states kept between queries. Decoding every state of a kind from sled is most of a
//! list query's cost, so each kind is decoded once into an ordered, immutable snapshot that every
//! query at the same position shares; when the projection moves on, the next query copies the
//! snapshot's pointers and re-reads only the states the new events changed (the projection
//! records which keys each position touched), instead of decoding every state again. That keeps
//! lists cheap under a steady write load, where a full decode per event would not be. `Views` is
//! what queries read through: the followed trees, their applied positions and these snapshots.

use std::any::Any;
use std::cmp::Ordering;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_bus::fold::{self, FoldProjection};
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_bus::subscriber::Projection;
use tatrack_eventlog::Envelope;

use crate::timeline::Timeline;

/// Positions remembered; a snapshot further behind than this is decoded again in full.
const KEEP: usize = 1 << 16;

/// Which projection keys each applied position changed, for the most recent positions.
#[derive(Default)]
pub(crate) struct Changes {
    recent: Mutex<VecDeque<(u64, Vec<u8>)>>,
}

impl Changes {
    fn record(&self, position: u64, key: Vec<u8>) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == KEEP {
            recent.pop_front();
        }
        recent.push_back((position, key));
    }

    /// The keys changed at positions in `(from, to]`, or `None` when some of those positions
    /// are no longer remembered.
    pub(crate) fn between(&self, from: u64, to: u64) -> Option<BTreeSet<Vec<u8>>> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        // A transaction may rerun, so a position can be recorded twice; never skipped.
        let oldest = recent.front().map_or(u64::MAX, |(p, _)| *p);
        if oldest > from.saturating_add(1) && from < to {
            return None;
        }
        Some(
            recent
                .iter()
                .filter(|(p, _)| *p > from && *p <= to)
                .map(|(_, k)| k.clone())
                .collect(),
        )
    }
}

/// The fold projection, keeping each event's two times (`Timeline`) and its aggregate's history
/// (`history`), and noting which key each event changed.
pub(crate) struct Recording {
    pub(crate) changes: Arc<Changes>,
    pub(crate) timeline: Arc<Timeline>,
}

impl Projection for Recording {
    fn apply(
        &self,
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>> {
        FoldProjection.apply(tree, event)?;
        Timeline::write(tree, event)?;
        crate::history::write(tree, event)?;
        self.timeline.note(event);
        if let Some((aggregate, id)) = event.stream.split_once('-') {
            self.changes
                .record(event.position, fold::key(aggregate, id));
        }
        Ok(())
    }
}

/// Every state of one kind, decoded, in a query's order (ties in key order).
pub(crate) struct Snapshot<T> {
    items: Vec<(Arc<[u8]>, Arc<T>)>,
}

impl<T> Snapshot<T> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, state)| state.as_ref())
    }

    /// A copy of every state, for code that needs a slice.
    pub(crate) fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.iter().cloned().collect()
    }
}

impl<T: DeserializeOwned> Snapshot<T> {
    /// Decodes every state of `aggregate` in `tree`.
    pub(crate) fn load(
        tree: &sled::Tree,
        aggregate: &str,
        order: fn(&T, &T) -> Ordering,
    ) -> Result<Self, String> {
        let mut items = Vec::new();
        for entry in tree.scan_prefix(fold::key(aggregate, "")) {
            let (key, bytes) = entry.map_err(|e| e.to_string())?;
            let state: T = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            items.push((Arc::from(key.as_ref()), Arc::new(state)));
        }
        // Stable: equal states keep key order.
        items.sort_by(|a, b| order(&a.1, &b.1));
        Ok(Self { items })
    }

    /// The one state of `aggregate` with this id, if there is one (a `*_show` view needs no
    /// more than that, and reading one key beats scanning every state of its kind).
    pub(crate) fn one(tree: &sled::Tree, aggregate: &str, id: &str) -> Result<Self, String> {
        let key = fold::key(aggregate, id);
        let mut items = Vec::new();
        if let Some(bytes) = tree.get(&key).map_err(|e| e.to_string())? {
            let state: T = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            items.push((Arc::from(key.as_slice()), Arc::new(state)));
        }
        Ok(Self { items })
    }

    /// This snapshot with the states under `keys` read again from `tree`; `None` when so many
    /// changed that decoding everything is cheaper.
    pub(crate) fn patched(
        &self,
        tree: &sled::Tree,
        aggregate: &str,
        keys: &BTreeSet<Vec<u8>>,
        order: fn(&T, &T) -> Ordering,
    ) -> Result<Option<Self>, String> {
        let prefix = fold::key(aggregate, "");
        let mine: Vec<&Vec<u8>> = keys.iter().filter(|k| k.starts_with(&prefix)).collect();
        if mine.len() > 64 && mine.len() > self.items.len() / 16 {
            return Ok(None);
        }
        let mut items = self.items.clone();
        for key in mine {
            if let Some(at) = items.iter().position(|(k, _)| k.as_ref() == key.as_slice()) {
                items.remove(at);
            }
            let Some(bytes) = tree.get(key).map_err(|e| e.to_string())? else {
                continue;
            };
            let state: T = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            // After every equal state whose key sorts before this one: the order `load` gives.
            let at = items.partition_point(|(k, s)| match order(s, &state) {
                Ordering::Less => true,
                Ordering::Equal => k.as_ref() < key.as_slice(),
                Ordering::Greater => false,
            });
            items.insert(at, (Arc::from(key.as_slice()), Arc::new(state)));
        }
        Ok(Some(Self { items }))
    }
}

/// Longest wait for `min_position` before a timeout error.
const READ_YOUR_WRITES_WAIT: Duration = Duration::from_secs(5);

/// Decoded snapshots per (service, aggregate#order), with the applied position they were read at.
type Decoded = std::collections::HashMap<(String, String), (u64, Arc<dyn Any + Send + Sync>)>;

/// One followed service: its projection tree, its applied position, and (live views only) the
/// keys each position changed, so snapshots are patched instead of decoded again.
type Followed = (
    &'static str,
    sled::Tree,
    tokio::sync::watch::Receiver<u64>,
    Option<Arc<Changes>>,
);

/// The projections the views read: every followed stream's tree and applied position, and the
/// snapshots decoded from them (shared by every query at one applied position). The live read
/// model has one; an answer about another point in time gets a throwaway one (`asof`).
#[derive(Clone, Default)]
pub(crate) struct Views {
    trees: Vec<Followed>,
    decoded: Arc<Mutex<Decoded>>,
    /// Totals answered lately (the overview), by what they depend on; see [`Views::memo`].
    memo: Arc<Mutex<VecDeque<(String, crate::views::Answer)>>>,
}

/// Answers kept by [`Views::memo`].
const MEMO: usize = 64;

impl Views {
    /// The answer kept under `key`, else `make`'s, kept. For a view that totals what many states
    /// hold (the overview reads every need): its answer changes only when an event is applied or
    /// the day turns, and people open it far more often than that, so `key` must name all it
    /// depends on (who asks, the day, the applied positions).
    pub(crate) fn memo(
        &self,
        key: String,
        make: impl FnOnce() -> Result<crate::views::Answer, ErrorBody>,
    ) -> Result<crate::views::Answer, ErrorBody> {
        let kept = self
            .memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, answer)| answer.clone());
        if let Some(answer) = kept {
            return Ok(answer);
        }
        let answer = make()?;
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.len() == MEMO {
            memo.pop_front();
        }
        memo.push_back((key, answer.clone()));
        Ok(answer)
    }

    pub(crate) fn add(
        &mut self,
        service: &'static str,
        tree: sled::Tree,
        applied: tokio::sync::watch::Receiver<u64>,
        changes: Option<Arc<Changes>>,
    ) {
        self.trees.push((service, tree, applied, changes));
    }

    /// The position each followed stream is applied to.
    pub(crate) fn applied(&self) -> crate::asof::Positions {
        self.trees
            .iter()
            .map(|(service, _, applied, _)| ((*service).to_owned(), *applied.borrow()))
            .collect()
    }

    pub(crate) fn entry(&self, service: &str) -> Result<&Followed, ErrorBody> {
        self.trees
            .iter()
            .find(|(s, ..)| *s == service)
            .ok_or_else(ErrorBody::internal)
    }

    /// Every state of one aggregate, in key order (ids: UUID v7 sorts by time).
    pub(crate) fn scan<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        self.scan_ordered(service, aggregate, "", |_, _| Ordering::Equal)
    }

    /// The states of a kind that `keep` accepts, copied out of the snapshot.
    pub(crate) fn select<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, ErrorBody> {
        Ok(self
            .scan::<T>(service, aggregate)?
            .iter()
            .filter(|state| keep(state))
            .cloned()
            .collect())
    }

    /// The states a view reads: with `one` (a `*_show` view's id), only that one state (read
    /// directly); otherwise every state of the kind, in key order.
    pub(crate) fn pick<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
        one: Option<&str>,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        match one {
            Some(id) => {
                let (_, tree, ..) = self.entry(service)?;
                Snapshot::one(tree, aggregate, id)
                    .map(Arc::new)
                    .map_err(|e| undecodable(&e))
            }
            _ => self.scan(service, aggregate),
        }
    }

    /// Every state of one aggregate, ordered by `order` (named by `name`, so differently
    /// ordered snapshots are cached apart; ties in key order). The snapshot is shared by every
    /// query at the same applied position; a later position patches it (`Snapshot::patched`).
    pub(crate) fn scan_ordered<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
        name: &'static str,
        order: fn(&T, &T) -> Ordering,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        let (_, tree, applied, changes) = self.entry(service)?;
        let position = *applied.borrow();
        let key = (service.to_owned(), format!("{aggregate}#{name}"));
        let cached = self
            .decoded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .and_then(|(at, any)| Some((*at, Arc::clone(any).downcast::<Snapshot<T>>().ok()?)));
        // Read after noting the position: a snapshot may hold more than `position`, never
        // less, and the keys changed after `position` are read again by the next patch.
        let snapshot = match cached {
            Some((at, snapshot)) if at == position => return Ok(snapshot),
            Some((at, snapshot)) if at < position => {
                let patched = match changes.as_ref().and_then(|c| c.between(at, position)) {
                    Some(keys) => snapshot
                        .patched(tree, aggregate, &keys, order)
                        .map_err(|e| undecodable(&e))?,
                    None => None,
                };
                match patched {
                    Some(p) => p,
                    None => Snapshot::load(tree, aggregate, order).map_err(|e| undecodable(&e))?,
                }
            }
            _ => Snapshot::load(tree, aggregate, order).map_err(|e| undecodable(&e))?,
        };
        let snapshot = Arc::new(snapshot);
        self.decoded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                key,
                (
                    position,
                    Arc::clone(&snapshot) as Arc<dyn Any + Send + Sync>,
                ),
            );
        Ok(snapshot)
    }

    /// Waits (bounded) until `service`'s stream is applied up to `position`: read your writes.
    pub(crate) async fn wait_for(&self, service: &str, position: u64) -> Result<(), ErrorBody> {
        let mut applied = self.entry(service)?.2.clone();
        match tokio::time::timeout(READ_YOUR_WRITES_WAIT, applied.wait_for(|p| *p >= position))
            .await
        {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ErrorBody {
                field: Some("min_position".into()),
                ..ErrorBody::new(
                    ErrorCode::Timeout,
                    format!("the read model has not reached {service} position {position} yet"),
                )
            }),
        }
    }
}

/// A stored state that does not decode: logged for the operator, an internal error to the caller.
fn undecodable(e: &str) -> ErrorBody {
    tracing::error!(error = %e, "read model holds an undecodable state");
    ErrorBody::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_value(a: &u32, b: &u32) -> Ordering {
        a.cmp(b)
    }

    #[test]
    fn a_patched_snapshot_equals_a_fresh_load() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        for (id, value) in [("a", 5u32), ("b", 1), ("c", 5), ("d", 3)] {
            fold::put(&tree, "x", id, &value).unwrap();
        }
        fold::put(&tree, "y", "other", &0u32).unwrap();
        let before = Snapshot::<u32>::load(&tree, "x", by_value).unwrap();
        assert_eq!(before.iter().copied().collect::<Vec<_>>(), [1, 3, 5, 5]);

        fold::put(&tree, "x", "a", &2u32).unwrap(); // moves
        fold::put(&tree, "x", "e", &5u32).unwrap(); // new, ties with c
        fold::put(&tree, "y", "other", &9u32).unwrap(); // another kind: ignored
        let keys: BTreeSet<Vec<u8>> = [
            fold::key("x", "a"),
            fold::key("x", "e"),
            fold::key("y", "other"),
        ]
        .into();
        let patched = before
            .patched(&tree, "x", &keys, by_value)
            .unwrap()
            .unwrap();
        let fresh = Snapshot::<u32>::load(&tree, "x", by_value).unwrap();
        let keys_of = |s: &Snapshot<u32>| {
            s.items
                .iter()
                .map(|(k, v)| (k.to_vec(), **v))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys_of(&patched), keys_of(&fresh));
        assert_eq!(patched.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 5, 5]);
    }

    #[test]
    fn changes_between_positions_and_forgotten_ones() {
        let changes = Changes::default();
        changes.record(1, b"x/a".to_vec());
        changes.record(2, b"x/b".to_vec());
        changes.record(2, b"x/b".to_vec()); // a rerun transaction
        changes.record(3, b"x/a".to_vec());
        let between = changes.between(1, 3).unwrap();
        assert_eq!(between, [b"x/a".to_vec(), b"x/b".to_vec()].into());
        assert_eq!(changes.between(3, 3).unwrap(), BTreeSet::new());
        let late = Changes::default();
        late.record(10, b"x/a".to_vec());
        assert!(
            late.between(5, 10).is_none(),
            "positions 6 to 9 are unknown"
        );
    }
}
