//! The two times of every applied event, per followed stream: its business date (`on`) and when
//! it was recorded. Kept in the projection tree (in the same transaction as the event's state)
//! and in memory, so the read model can tell at once whether an "as of" answer equals the live
//! one, map a "known at" time to log positions, and know whether events recorded since a cached
//! answer change it (ARCHITECTURE.md, "Two times").

use std::sync::{PoisonError, RwLock};

use jiff::Timestamp;
use jiff::civil::Date;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_eventlog::Envelope;

/// Keys of the timeline in a projection tree: this byte, then the position (big-endian), so a
/// prefix scan reads them in position order. Fold states use `<aggregate>/<id>` keys and the
/// subscriber's checkpoint starts with 0x00, so nothing else starts with it.
const PREFIX: u8 = 0x01;

/// One event's two times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) on: Date,
    pub(crate) recorded_at: Timestamp,
}

/// The timeline of one stream, position 1 first.
#[derive(Default)]
pub(crate) struct Timeline {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    /// The latest business date of any entry.
    max_on: Option<Date>,
}

fn key(position: u64) -> [u8; 9] {
    let mut key = [PREFIX; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn encode(entry: Entry) -> [u8; 12] {
    let mut bytes = [0u8; 12];
    bytes[..2].copy_from_slice(&entry.on.year().to_be_bytes());
    // Months and days are 1..=12 and 1..=31: they fit a byte.
    bytes[2] = u8::try_from(entry.on.month()).unwrap_or(0);
    bytes[3] = u8::try_from(entry.on.day()).unwrap_or(0);
    bytes[4..].copy_from_slice(&entry.recorded_at.as_microsecond().to_be_bytes());
    bytes
}

fn decode(bytes: &[u8]) -> Option<Entry> {
    let bytes: &[u8; 12] = bytes.try_into().ok()?;
    let year = i16::from_be_bytes([bytes[0], bytes[1]]);
    let on = Date::new(
        year,
        i8::try_from(bytes[2]).ok()?,
        i8::try_from(bytes[3]).ok()?,
    )
    .ok()?;
    let micros = i64::from_be_bytes(bytes[4..].try_into().ok()?);
    let recorded_at = Timestamp::from_microsecond(micros).ok()?;
    Some(Entry { on, recorded_at })
}

impl Timeline {
    /// Reads the timeline a projection tree holds. `None` when it does not cover every applied
    /// position (a read model written before timelines were kept): it must be rebuilt.
    pub(crate) fn load(tree: &sled::Tree, applied: u64) -> Result<Option<Self>, String> {
        let mut inner = Inner::default();
        for item in tree.scan_prefix([PREFIX]) {
            let (_, value) = item.map_err(|e| e.to_string())?;
            let entry = decode(&value).ok_or("undecodable timeline entry")?;
            inner.max_on = inner.max_on.max(Some(entry.on));
            inner.entries.push(entry);
        }
        if inner.entries.len() as u64 != applied {
            return Ok(None);
        }
        Ok(Some(Self {
            inner: RwLock::new(inner),
        }))
    }

    /// Writes `event`'s entry in the projection's transaction.
    pub(crate) fn write(
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>> {
        let entry = Entry {
            on: event.business_date(),
            recorded_at: event.recorded_at,
        };
        tree.insert(&key(event.position), &encode(entry))?;
        Ok(())
    }

    /// Notes `event`'s entry in memory (again after a transaction reruns: same position, same
    /// entry).
    pub(crate) fn note(&self, event: &Envelope) {
        let entry = Entry {
            on: event.business_date(),
            recorded_at: event.recorded_at,
        };
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let Some(index) = usize::try_from(event.position)
            .ok()
            .and_then(|p| p.checked_sub(1))
        else {
            return;
        };
        match index.cmp(&inner.entries.len()) {
            std::cmp::Ordering::Less => inner.entries[index] = entry,
            std::cmp::Ordering::Equal => inner.entries.push(entry),
            // The subscriber applies positions in order without gaps; a gap would be a bug
            // upstream, which it reports itself.
            std::cmp::Ordering::Greater => return,
        }
        inner.max_on = inner.max_on.max(Some(entry.on));
    }

    /// The latest business date of any event (`None`: no event yet).
    pub(crate) fn max_on(&self) -> Option<Date> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .max_on
    }

    /// The last position recorded at or before `at`. One writer stamps each log as it appends,
    /// so recorded times rise with the position and a binary search finds it.
    pub(crate) fn position_at(&self, at: Timestamp) -> u64 {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.entries.partition_point(|e| e.recorded_at <= at) as u64
    }

    /// Whether any event at positions `(from, to]` (or `(to, from]`) would count "as of" `day`
    /// (every event counts when `day` is `None`): if none does, an answer built from `from`
    /// equals one built from `to`.
    pub(crate) fn counts_between(&self, from: u64, to: u64, day: Option<Date>) -> bool {
        let (low, high) = (from.min(to), from.max(to));
        if low == high {
            return false;
        }
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let start = usize::try_from(low).unwrap_or(usize::MAX);
        let end = usize::try_from(high).unwrap_or(usize::MAX);
        let Some(range) = inner.entries.get(start..end.min(inner.entries.len())) else {
            return true;
        };
        if range.len() < end - start {
            // Not all known yet: assume they count.
            return true;
        }
        match day {
            None => true,
            Some(day) => range.iter().any(|e| e.on <= day),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let entry = Entry {
            on: jiff::civil::date(2026, 3, 10),
            recorded_at: "2026-11-30T17:45:12.123456Z".parse().unwrap(),
        };
        assert_eq!(decode(&encode(entry)), Some(entry));
        assert_eq!(decode(&[1, 2, 3]), None);
    }
}
