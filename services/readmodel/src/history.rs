//! Each aggregate's events in the order its log holds them, without their payloads: kind,
//! business date, recorded time and who sent them. Kept in the projection tree in the same
//! transaction as the event's state (so a rebuild writes it again and a restart keeps it); the
//! audit trail of a need (`need_history`) reads it instead of the event streams.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_eventlog::Envelope;

/// Keys of the history in a projection tree: this byte, the aggregate's stream name, a zero
/// byte, then the position (big-endian), so a prefix scan reads one stream's events in log
/// order. Fold states use `<aggregate>/<id>` keys, the checkpoint starts with 0x00 and the
/// timeline with 0x01, so nothing else starts with it; the zero byte ends the name, so one
/// stream's prefix never covers another's.
const PREFIX: u8 = 0x02;

/// One event of an aggregate, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// The event's position in its service's log (from the key, not stored twice).
    #[serde(skip)]
    pub(crate) position: u64,
    pub(crate) kind: String,
    pub(crate) on: Date,
    pub(crate) recorded_at: Timestamp,
    /// `role:id` as the envelope records it.
    pub(crate) principal: String,
}

fn stream_prefix(stream: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 10);
    key.push(PREFIX);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key
}

fn key(stream: &str, position: u64) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&position.to_be_bytes());
    key
}

/// Writes `event`'s entry in the projection's transaction (a rerun writes the same bytes).
pub(crate) fn write(
    tree: &TransactionalTree,
    event: &Envelope,
) -> Result<(), ConflictableTransactionError<String>> {
    let entry = Entry {
        position: event.position,
        kind: event.kind.clone(),
        on: event.business_date(),
        recorded_at: event.recorded_at,
        principal: event.principal.clone(),
    };
    let bytes = serde_json::to_vec(&entry)
        .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
    tree.insert(key(&event.stream, event.position), bytes)?;
    Ok(())
}

/// The events of `stream`, in log order.
pub(crate) fn read(tree: &sled::Tree, stream: &str) -> Result<Vec<Entry>, String> {
    let prefix = stream_prefix(stream);
    let mut out = Vec::new();
    for item in tree.scan_prefix(&prefix) {
        let (key, value) = item.map_err(|e| e.to_string())?;
        let position: [u8; 8] = key[prefix.len()..]
            .try_into()
            .map_err(|_| "malformed history key")?;
        let mut entry: Entry = serde_json::from_slice(&value).map_err(|e| e.to_string())?;
        entry.position = u64::from_be_bytes(position);
        out.push(entry);
    }
    Ok(out)
}

/// Whether the tree holds an entry for every applied event: a read model written before the
/// history was kept does not, and must fold its streams again.
pub(crate) fn is_complete(tree: &sled::Tree, applied: u64) -> Result<bool, String> {
    let mut count = 0u64;
    for item in tree.scan_prefix([PREFIX]) {
        item.map_err(|e| e.to_string())?;
        count += 1;
    }
    Ok(count == applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(stream: &str, position: u64, kind: &str) -> Envelope {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::now_v7(), "stream": stream, "version": 1, "position": position,
            "kind": kind, "schema": 2, "on": "2026-03-10",
            "recorded_at": "2026-11-30T17:45:12.123456Z", "principal": "coordinator:c1",
            "command_id": null, "correlation_id": null, "payload": { "secret": "never kept" },
        }))
        .unwrap()
    }

    #[test]
    fn one_streams_events_in_log_order_and_no_other_streams() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        let need = "need-0193a0b0-0000-7000-8000-000000000001";
        // A stream whose name starts with the other's must stay apart.
        let longer = format!("{need}0");
        for event in [
            envelope(need, 300, "need_agreed_with_state"),
            envelope(&longer, 2, "need_identified"),
            envelope(need, 1, "need_identified"),
        ] {
            tree.transaction(|tx| write(tx, &event)).unwrap();
        }
        let read = read(&tree, need).unwrap();
        let kinds: Vec<(u64, &str)> = read.iter().map(|e| (e.position, e.kind.as_str())).collect();
        assert_eq!(
            kinds,
            [(1, "need_identified"), (300, "need_agreed_with_state")]
        );
        assert_eq!(read[0].on, jiff::civil::date(2026, 3, 10));
        assert_eq!(read[0].principal, "coordinator:c1");
        assert!(is_complete(&tree, 3).unwrap());
        assert!(!is_complete(&tree, 4).unwrap());
        let raw = tree.scan_prefix([PREFIX]).next().unwrap().unwrap().1;
        assert!(!String::from_utf8_lossy(&raw).contains("never kept"));
    }
}
