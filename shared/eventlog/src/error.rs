//! Errors of the event log, with the cases a caller acts on.

use crate::Expected;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stream is not at the version the caller expected.
    #[error("stream {stream}: expected version {expected}, actual {actual}")]
    Conflict {
        stream: String,
        expected: Expected,
        actual: u64,
    },
    /// Some, but not all, of the event ids are already stored (EventStoreDB: an error, never a
    /// silent partial write).
    #[error("{known} of {total} event ids are already stored")]
    PartialDuplicate { known: usize, total: usize },
    /// A command id already stored with a different body (its fingerprint differs).
    #[error("command id {command_id} was already used for a different command")]
    CommandReused { command_id: uuid::Uuid },
    /// An append without events, an empty stream name and the like.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The log on disk breaks its own invariants (found on open or by `verify`).
    #[error("log integrity: {0}")]
    Integrity(String),
    /// An event imported from a stream copy does not continue the log.
    #[error("import out of order: log head is {head}, event has position {position}")]
    ImportOutOfOrder { head: u64, position: u64 },
    #[error("the log is closed")]
    Closed,
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}
