//! The typed contract between tatrack's parts: every command body (`commands`), every view, its
//! query parameters and its answer (`views`, `answers`), the error body (`error`), the HTTP
//! routes (`routes`) and the OpenAPI 3.1 document generated from them (`openapi`). Services,
//! the read model, the reporter, the gateway and the CLI all use these types, so a change to a
//! body or an answer shows in every part at compile time, and in the published document.
//!
//! Pure: serde and JSON Schema (schemars) only, no I/O.

pub mod answers;
pub mod bus;
pub mod commands;
pub mod error;
pub mod openapi;
pub mod reply;
pub mod routes;
pub mod views;

pub use error::{ErrorBody, ErrorCode, Problem};
pub use reply::CommandReply;
