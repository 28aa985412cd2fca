//! The wire form of events: a `kind` string, a `schema` number and a JSON payload, plus the upcasting
//! hook that lets old schemas be read after an event changes shape.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event enum of one aggregate. Implementors are serialised adjacently tagged,
/// `#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]`, and `kind()` returns the
/// same tag serde writes (every event module tests that).
pub trait DomainEvent: Serialize + DeserializeOwned {
    fn kind(&self) -> &'static str;
}

/// An event as stored in the log envelope and sent over the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedEvent {
    pub kind: String,
    pub schema: u32,
    pub payload: Value,
}

/// Why a stored event could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Written by a newer version of the code, or an old schema whose upcaster is missing.
    #[error("unknown schema {schema} for event kind {kind}")]
    UnknownSchema { kind: String, schema: u32 },
    /// The kind is not one of this enum's, or the payload does not fit it.
    #[error("cannot decode event kind {kind}: {source}")]
    Payload {
        kind: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The current schema of every event kind. Bump a kind's number when its payload changes shape (and teach
/// [`upcast`] to rewrite the old one); adding an optional field with `#[serde(default)]` does not need it.
const SCHEMAS: &[(&str, u32)] = &[
    ("assessment_planned", 1),
    ("assessment_conducted", 1),
    ("assessment_draft_sent", 1),
    ("assessment_observations_received", 1),
    ("assessment_adopted", 1),
    ("assessment_response_received", 1),
    ("assessment_closed", 1),
    ("assessment_cancelled", 1),
    ("recommendation_recorded", 1),
    ("recommendation_status_updated", 1),
    ("need_identified", 1),
    ("need_agreed_with_state", 1),
    ("need_coverage_recorded", 1),
    ("need_met", 1),
    ("need_withdrawn", 1),
    ("need_declined", 1),
    ("need_amended", 1),
    ("sharing_granted", 1),
    ("sharing_revoked", 1),
    ("rates_recorded", 1),
    ("organisation_registered", 1),
    ("organisation_updated", 1),
    ("organisation_deactivated", 1),
    ("offer_drafted", 1),
    ("offer_published", 1),
    ("offer_amended", 1),
    ("offer_withdrawn", 1),
    ("offer_expired", 1),
    ("offer_commitment_recorded", 1),
    ("referral_proposed", 1),
    ("referral_referred", 1),
    ("referral_accepted_by_partner", 1),
    ("referral_accepted_by_state", 1),
    ("referral_declined", 1),
    ("referral_activated", 1),
    ("referral_lapsed", 1),
    ("project_created", 1),
    ("project_status_changed", 1),
    ("project_referral_joined", 1),
    ("project_budget_set", 1),
    ("project_transaction_added", 1),
    ("project_milestone_added", 1),
    ("project_milestone_completed", 1),
    ("project_result_added", 1),
    ("project_indicator_actual_recorded", 1),
    ("project_document_added", 1),
    ("progress_report_drafted", 1),
    ("progress_report_revised", 1),
    ("progress_report_submitted", 1),
    ("progress_report_validated", 1),
    ("progress_report_returned", 1),
    ("token_issued", 1),
    ("token_revoked", 1),
    ("report_made", 1),
];

/// Every event kind this crate defines, in a stable order.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    SCHEMAS.iter().map(|(kind, _)| *kind)
}

/// The schema number new events of `kind` are written with. Kinds this crate does not define (other
/// services' events) are at schema 1.
pub fn schema_of(kind: &str) -> u32 {
    SCHEMAS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(1, |(_, schema)| *schema)
}

/// Splits an event's adjacently tagged JSON into its kind and payload.
pub fn encode<E: DomainEvent>(event: &E) -> EncodedEvent {
    // Our events are plain structs of strings, numbers, dates and ids: serialising them cannot fail.
    let value = serde_json::to_value(event).expect("event serialises to JSON");
    let Value::Object(mut fields) = value else {
        panic!("event did not serialise as an object: {value}");
    };
    let kind = event.kind();
    debug_assert_eq!(
        fields.get("kind").and_then(Value::as_str),
        Some(kind),
        "kind() differs from the serde tag"
    );
    // A variant without fields has no "payload" key; store null so every envelope has one.
    let payload = fields.remove("payload").unwrap_or(Value::Null);
    EncodedEvent {
        kind: kind.to_owned(),
        schema: schema_of(kind),
        payload,
    }
}

/// Reads an event back from its stored kind, schema and payload, upcasting old schemas first.
pub fn decode<E: DomainEvent>(kind: &str, schema: u32, payload: &Value) -> Result<E, DecodeError> {
    let payload = upcast(kind, schema, payload)?;
    let tagged = if payload.is_null() {
        serde_json::json!({ "kind": kind })
    } else {
        serde_json::json!({ "kind": kind, "payload": payload })
    };
    serde_json::from_value(tagged).map_err(|source| DecodeError::Payload {
        kind: kind.to_owned(),
        source,
    })
}

/// Rewrites a payload written with an older `schema` into the current shape of `kind`.
///
/// This is where a schema change goes: when `foo_happened` moves to schema 2, add an arm that turns a
/// schema-1 payload into a schema-2 one (fill the new field, rename the old), and keep the old events in
/// the log as they are. Today every kind is at schema 1, so schema 1 passes through and anything else
/// (e.g. written by a newer release) is refused rather than guessed at.
pub fn upcast(kind: &str, schema: u32, payload: &Value) -> Result<Value, DecodeError> {
    let current = schema_of(kind);
    match schema {
        s if s == current => Ok(payload.clone()),
        _ => Err(DecodeError::UnknownSchema {
            kind: kind.to_owned(),
            schema,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
    enum TestEvent {
        SomethingHappened { n: u32 },
        Pinged,
    }

    impl DomainEvent for TestEvent {
        fn kind(&self) -> &'static str {
            match self {
                TestEvent::SomethingHappened { .. } => "something_happened",
                TestEvent::Pinged => "pinged",
            }
        }
    }

    #[test]
    fn round_trip() {
        let e = TestEvent::SomethingHappened { n: 7 };
        let enc = encode(&e);
        assert_eq!(
            enc,
            EncodedEvent {
                kind: "something_happened".into(),
                schema: 1,
                payload: serde_json::json!({"n": 7})
            }
        );
        assert_eq!(
            decode::<TestEvent>(&enc.kind, enc.schema, &enc.payload).unwrap(),
            e
        );

        let enc = encode(&TestEvent::Pinged);
        assert_eq!(enc.payload, Value::Null);
        assert_eq!(
            decode::<TestEvent>(&enc.kind, enc.schema, &enc.payload).unwrap(),
            TestEvent::Pinged
        );
    }

    #[test]
    fn unknown_schema_and_kind_are_refused() {
        let payload = serde_json::json!({"n": 7});
        let err = decode::<TestEvent>("something_happened", 2, &payload).unwrap_err();
        assert!(
            matches!(err, DecodeError::UnknownSchema { schema: 2, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "unknown schema 2 for event kind something_happened"
        );
        let err = decode::<TestEvent>("nothing_happened", 1, &payload).unwrap_err();
        assert!(matches!(err, DecodeError::Payload { .. }), "{err}");
        let err = decode::<TestEvent>("something_happened", 1, &serde_json::json!({"n": "x"}))
            .unwrap_err();
        assert!(matches!(err, DecodeError::Payload { .. }), "{err}");
    }

    #[test]
    fn schema_table_has_no_duplicates() {
        let mut all: Vec<_> = kinds().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), SCHEMAS.len());
        assert_eq!(schema_of("assessment_planned"), 1);
        assert_eq!(schema_of("offer_published"), 1);
        assert_eq!(schema_of("some_other_service_event"), 1);
    }

    #[test]
    fn every_module_kind_is_registered() {
        let registered: Vec<_> = kinds().collect();
        let modules: [&[&str]; 12] = [
            crate::assessment::AssessmentEvent::KINDS,
            crate::recommendation::RecommendationEvent::KINDS,
            crate::need::NeedEvent::KINDS,
            crate::sharing::SharingGrantEvent::KINDS,
            crate::rates::RateTableEvent::KINDS,
            crate::organisation::OrganisationEvent::KINDS,
            crate::offer::OfferEvent::KINDS,
            crate::referral::ReferralEvent::KINDS,
            crate::project::ProjectEvent::KINDS,
            crate::progress::ProgressReportEvent::KINDS,
            crate::token::TokenEvent::KINDS,
            crate::report::ReportEvent::KINDS,
        ];
        let all: Vec<&str> = modules.concat();
        assert_eq!(all, registered);
    }
}
