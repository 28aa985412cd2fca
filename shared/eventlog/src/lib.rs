//! The sled event log: the source of truth of one service (DESIGN §3 invariant 1, §4 "Event log").
//!
//! An append is validated and written by one writer thread, then acknowledged only after a group
//! flush (sled's flush, then `fdatasync` of sled's data file) that covers it. Readers that feed
//! other processes (`read_all`, `tail`) see only durable events, so nothing that a crash could
//! take back is ever copied to JetStream.

mod clock;
mod commit;
mod envelope;
mod error;
mod keys;
mod private;
mod store;
mod verify;

pub use clock::{Clock, utc_date};
pub use envelope::{Appended, CommandMeta, Envelope, Expected, NewEvent};
pub use error::Error;
pub use private::private_dir;
pub use store::{Stats, Store};
pub use verify::Report;
