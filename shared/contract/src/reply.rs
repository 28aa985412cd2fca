//! What every command answers: where its events went, for read-your-writes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The reply to a command: the aggregate it wrote to and the log positions of its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommandReply {
    /// The aggregate's id (a UUID, or an organisation's code).
    pub id: String,
    /// Its log stream, `<aggregate>-<id>`.
    pub stream: String,
    /// The position of its first event (0: nothing was recorded, it changed nothing).
    pub first_position: u64,
    pub last_position: u64,
    /// The aggregate's version after the command: send it back as `If-Match` (the ETag).
    pub stream_version: u64,
    /// True when the command id was seen before and this is the first answer again.
    pub idempotent: bool,
}
