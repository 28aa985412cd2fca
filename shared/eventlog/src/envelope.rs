//! What goes into the log (`NewEvent`, `CommandMeta`) and what comes out (`Envelope`, `Appended`).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as a service hands it to the log: already encoded, with its own id and the business
/// date of the fact it records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub id: Uuid,
    pub kind: String,
    pub schema: u32,
    /// The business date the fact happened on (`None` only for events without one, e.g. in
    /// tests of the log itself: the recorded day then stands in).
    pub on: Option<Date>,
    pub payload: serde_json::Value,
}

/// Who caused an append and under which command (invariants 5 and 6 in ARCHITECTURE.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMeta {
    pub principal: String,
    pub command_id: Option<Uuid>,
    pub correlation_id: Option<String>,
    /// A digest of the command's body, kept with its command id: the same id sent again with a
    /// different body is refused instead of answered with the first result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// One stored event. `position` is global and gapless (1, 2, 3, ...) and equals the JetStream
/// sequence of its copy; `version` counts events within `stream` from 1.
///
/// Two times: `on` is the business date of the fact (when it happened, as the command said) and
/// `recorded_at` when the log stored it. "As of" questions filter on the first, "known at"
/// questions on the second (or on the position).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Uuid,
    pub stream: String,
    pub version: u64,
    pub position: u64,
    pub kind: String,
    pub schema: u32,
    /// Missing in events stored before business dates were kept: [`Envelope::business_date`]
    /// then uses the recorded day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Date>,
    pub recorded_at: jiff::Timestamp,
    pub principal: String,
    pub command_id: Option<Uuid>,
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_fingerprint: Option<String>,
    pub payload: serde_json::Value,
}

impl Envelope {
    /// The business date of the fact: `on`, or the UTC day it was recorded when it has none.
    pub fn business_date(&self) -> Date {
        self.on
            .unwrap_or_else(|| crate::clock::utc_date(self.recorded_at))
    }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub first_position: u64,
    pub last_position: u64,
    /// The stream's version after the append.
    pub stream_version: u64,
    /// True when nothing was written because the command or its events were already stored.
    #[serde(default)]
    pub idempotent: bool,
    /// The command's fingerprint as first stored (see [`CommandMeta::fingerprint`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}
