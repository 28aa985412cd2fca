//! What goes into the log (`NewEvent`, `CommandMeta`) and what comes out (`Envelope`, `Appended`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as a service hands it to the log: already encoded, with its own id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub id: Uuid,
    pub kind: String,
    pub schema: u32,
    pub payload: serde_json::Value,
}

/// Who caused an append and under which command (DESIGN §3 invariants 5 and 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMeta {
    pub principal: String,
    pub command_id: Option<Uuid>,
    pub correlation_id: Option<Uuid>,
}

/// One stored event. `position` is global and gapless (1, 2, 3, ...) and equals the JetStream
/// sequence of its copy; `version` counts events within `stream` from 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Uuid,
    pub stream: String,
    pub version: u64,
    pub position: u64,
    pub kind: String,
    pub schema: u32,
    pub recorded_at: jiff::Timestamp,
    pub principal: String,
    pub command_id: Option<Uuid>,
    pub correlation_id: Option<Uuid>,
    pub payload: serde_json::Value,
}

/// The version a writer expects a stream to be at (EventStoreDB's four cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "version", rename_all = "snake_case")]
pub enum Expected {
    Any,
    NoStream,
    Exists,
    Exact(u64),
}

impl Expected {
    pub fn admits(self, actual: u64) -> bool {
        match self {
            Expected::Any => true,
            Expected::NoStream => actual == 0,
            Expected::Exists => actual > 0,
            Expected::Exact(v) => actual == v,
        }
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expected::Any => f.write_str("any"),
            Expected::NoStream => f.write_str("no stream"),
            Expected::Exists => f.write_str("stream exists"),
            Expected::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// The result of an append: the positions it wrote (or, when idempotent, wrote earlier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub first_position: u64,
    pub last_position: u64,
    /// The stream's version after the append.
    pub stream_version: u64,
    /// True when nothing was written because the command or its events were already stored.
    #[serde(default)]
    pub idempotent: bool,
}
