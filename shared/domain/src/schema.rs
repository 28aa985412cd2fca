//! JSON Schema of the types schemars cannot describe by itself (jiff's dates), so the typed
//! contract (`tatrack-contract`) can publish the schema of every body and answer.

use schemars::{Schema, SchemaGenerator, json_schema};

/// A calendar date, `YYYY-MM-DD` (RFC 3339 full-date).
pub fn date(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "date", "examples": ["2026-06-30"] })
}

/// A calendar date or `null`.
pub fn date_opt(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["string", "null"], "format": "date", "examples": ["2026-06-30"] })
}

/// An instant, RFC 3339 in UTC (`2026-07-01T12:00:00Z`).
pub fn timestamp(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "date-time", "examples": ["2026-07-01T12:00:00Z"] })
}
