//! The assessments service: assessments, recommendations, needs and sharing grants (DESIGN §2,
//! "Owned by assessments"). It answers commands over NATS (`tatrack.cmd.assessments.*`), decides
//! them with the pure deciders of `tatrack-domain`, appends the events to its own sled log and
//! replicates the log to the `TATRACK_ASSESSMENTS` stream.

mod access;
mod app;
mod commands;

pub use app::{Config, SERVICE, run};
pub use commands::{CommandReply, VERBS};
