//! The read model: follows the command services' event streams with the catch-up subscriber,
//! keeps projections in sled (with their checkpoints, so a restart does not replay from zero) and
//! answers queries over NATS (`tatrack.qry.*`, one queue group, so several instances share load).

mod allocation;
mod app;
mod asof;
mod cache;
mod changes;
mod history;
mod matching;
mod params;
mod queries;
mod rebuild;
mod timeline;
mod views;
mod visibility;

pub use app::{Config, run};
pub use queries::views;
pub use rebuild::{Rebuilt, rebuild};
