//! The integrity check run on every open and by `tatrack log verify`.

use std::collections::HashMap;

use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys;
use crate::store::Trees;

/// What the check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The last position (== number of events).
    pub head: u64,
    pub streams: u64,
    pub command_ids: u64,
}

/// Positions run 1..=head without a gap and each envelope sits at its own position; every stream
/// index entry points at an event of that stream and version; heads match the last version;
/// every event id maps to its position.
pub(crate) fn check(trees: &Trees) -> Result<Report, Error> {
    let head = trees.head()?;
    let mut expected = 1u64;
    let mut versions: HashMap<String, u64> = HashMap::new();
    for entry in &trees.log {
        let (key, bytes) = entry?;
        let position = keys::decode_u64(&key);
        if position != expected {
            return Err(Error::Integrity(format!(
                "gap in positions: expected {expected}, found {position}"
            )));
        }
        let envelope: Envelope = serde_json::from_slice(&bytes)?;
        if envelope.position != position {
            return Err(Error::Integrity(format!(
                "event at position {position} says it is at {}",
                envelope.position
            )));
        }
        let version = versions.entry(envelope.stream.clone()).or_insert(0);
        if envelope.version != *version + 1 {
            return Err(Error::Integrity(format!(
                "stream {} jumps from version {} to {} at position {position}",
                envelope.stream, version, envelope.version
            )));
        }
        *version = envelope.version;
        match trees.event_ids.get(envelope.id.as_bytes())? {
            Some(p) if keys::decode_u64(&p) == position => {}
            _ => {
                return Err(Error::Integrity(format!(
                    "event id {} is not indexed at position {position}",
                    envelope.id
                )));
            }
        }
        expected += 1;
    }
    if expected - 1 != head {
        return Err(Error::Integrity(format!(
            "position counter says {head}, the log holds {}",
            expected - 1
        )));
    }
    let mut indexed = 0u64;
    for entry in &trees.index {
        let (key, value) = entry?;
        let (stream, version) = keys::split_index(&key)
            .ok_or_else(|| Error::Integrity("malformed stream index key".into()))?;
        let position = keys::decode_u64(&value);
        let bytes = trees.log.get(keys::position(position))?.ok_or_else(|| {
            Error::Integrity(format!(
                "index {stream}@{version} points at missing position {position}"
            ))
        })?;
        let envelope: Envelope = serde_json::from_slice(&bytes)?;
        if envelope.stream != stream || envelope.version != version {
            return Err(Error::Integrity(format!(
                "index {stream}@{version} points at {}@{}",
                envelope.stream, envelope.version
            )));
        }
        indexed += 1;
    }
    if indexed != head {
        return Err(Error::Integrity(format!(
            "stream index holds {indexed} entries for {head} events"
        )));
    }
    for entry in &trees.heads {
        let (key, value) = entry?;
        let stream = String::from_utf8_lossy(&key);
        let version = keys::decode_u64(&value);
        if versions.get(stream.as_ref()) != Some(&version) {
            return Err(Error::Integrity(format!(
                "head of {stream} says {version}, the log says {:?}",
                versions.get(stream.as_ref())
            )));
        }
    }
    if trees.heads.len() != versions.len() {
        return Err(Error::Integrity("a stream in the log has no head".into()));
    }
    Ok(Report {
        head,
        streams: versions.len() as u64,
        command_ids: trees.commands.len() as u64,
    })
}
