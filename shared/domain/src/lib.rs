//! The pure domain of tatrack: code lists, money, commands, events and the deciders that turn one into
//! the other.
//!
//! Nothing here does I/O or reads the clock (except [`ids::new_id`], which deciders never call): time
//! and ids come in with the commands, so every rule is tested as given events / when command / then
//! events or error.

#[macro_use]
mod macros;

pub mod account;
pub mod aggregate;
pub mod assessment;
pub mod codes;
pub mod error;
pub mod event;
pub mod ids;
pub mod money;
pub mod need;
pub mod offer;
pub mod organisation;
pub mod principal;
pub mod progress;
pub mod project;
pub mod rates;
pub mod recommendation;
pub mod referral;
pub mod report;
pub mod schema;
pub mod sharing;
pub mod token;
pub mod validate;

pub use aggregate::{Aggregate, fold};
pub use error::DomainError;
pub use event::{DecodeError, DomainEvent, EncodedEvent, decode, encode};
pub use money::{Money, Totals};
pub use principal::{Principal, Role};
