//! The wire form of events: a `kind` string, a `schema` number and a JSON payload, plus the upcasting
//! hook that lets old schemas be read after an event changes shape.

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event enum of one aggregate. Implementors are serialised adjacently tagged,
/// `#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]`, and `kind()` returns the
/// same tag serde writes (every event module tests that).
pub trait DomainEvent: Serialize + DeserializeOwned {
    fn kind(&self) -> &'static str;
    /// The business date of the fact: what "as of" questions filter on. The service copies it
    /// into the log envelope, so a reader can filter without decoding the payload.
    fn on(&self) -> Date;
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

/// Every event enum's kinds, in a stable order (each enum's `KINDS` is generated from its variants).
const KINDS: [&[&str]; 13] = [
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
    crate::account::AccountEvent::KINDS,
    crate::report::ReportEvent::KINDS,
];

/// Every event kind this crate defines, in a stable order.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    KINDS.into_iter().flatten().copied()
}

/// The schema number new events of `kind` are written with. Bump a kind's number when its
/// payload changes shape (and teach [`upcast`] to rewrite the old one); adding an optional field
/// with `#[serde(default)]` does not need it. Schema 2: the kinds that got their business date
/// `on` ([`DATED_AT_SCHEMA_2`]). Every other kind, and kinds this crate does not define (other
/// services' events), are at schema 1.
pub fn schema_of(kind: &str) -> u32 {
    if DATED_AT_SCHEMA_2.contains(&kind) {
        2
    } else {
        1
    }
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
/// `recorded_on` is the event's business date as its envelope gives it (the day it was recorded,
/// for events stored before business dates were kept): an upcaster may need it.
pub fn decode<E: DomainEvent>(
    kind: &str,
    schema: u32,
    payload: &Value,
    recorded_on: Date,
) -> Result<E, DecodeError> {
    let payload = upcast(kind, schema, payload, recorded_on)?;
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
/// This is where a schema change goes: when `foo_happened` moves to schema 3, add an arm that
/// turns a schema-2 payload into a schema-3 one (fill the new field, rename the old), and keep
/// the old events in the log as they are. Anything newer than the current schema (written by a
/// newer release) is refused rather than guessed at.
///
/// Schema 2 of the kinds listed in [`DATED_AT_SCHEMA_2`] added `on`, the business date: a
/// schema-1 payload gets the day its envelope gives (the day it was recorded), which is what
/// "as of" meant before business dates were kept.
pub fn upcast(
    kind: &str,
    schema: u32,
    payload: &Value,
    recorded_on: Date,
) -> Result<Value, DecodeError> {
    let current = schema_of(kind);
    if schema == current {
        return Ok(payload.clone());
    }
    if schema == 1 && current == 2 && DATED_AT_SCHEMA_2.contains(&kind) {
        let mut payload = payload.clone();
        if let Value::Object(fields) = &mut payload {
            fields
                .entry("on")
                .or_insert_with(|| Value::String(recorded_on.to_string()));
        }
        return Ok(payload);
    }
    Err(DecodeError::UnknownSchema {
        kind: kind.to_owned(),
        schema,
    })
}

/// The kinds that had no business date of their own at schema 1 and got `on` at schema 2.
const DATED_AT_SCHEMA_2: &[&str] = &[
    "assessment_planned",
    "recommendation_recorded",
    "need_identified",
    "need_coverage_recorded",
    "need_amended",
    "organisation_registered",
    "organisation_updated",
    "offer_drafted",
    "offer_amended",
    "offer_commitment_recorded",
    "referral_proposed",
    "project_created",
    "project_referral_joined",
    "project_budget_set",
    "project_milestone_added",
    "project_result_added",
    "project_document_added",
    "progress_report_drafted",
    "progress_report_revised",
    "report_made",
];

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

        fn on(&self) -> Date {
            DAY
        }
    }

    const DAY: Date = jiff::civil::date(2026, 3, 1);

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
            decode::<TestEvent>(&enc.kind, enc.schema, &enc.payload, DAY).unwrap(),
            e
        );

        let enc = encode(&TestEvent::Pinged);
        assert_eq!(enc.payload, Value::Null);
        assert_eq!(
            decode::<TestEvent>(&enc.kind, enc.schema, &enc.payload, DAY).unwrap(),
            TestEvent::Pinged
        );
    }

    #[test]
    fn unknown_schema_and_kind_are_refused() {
        let payload = serde_json::json!({"n": 7});
        let err = decode::<TestEvent>("something_happened", 2, &payload, DAY).unwrap_err();
        assert!(
            matches!(err, DecodeError::UnknownSchema { schema: 2, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "unknown schema 2 for event kind something_happened"
        );
        let err = decode::<TestEvent>("nothing_happened", 1, &payload, DAY).unwrap_err();
        assert!(matches!(err, DecodeError::Payload { .. }), "{err}");
        let err = decode::<TestEvent>("something_happened", 1, &serde_json::json!({"n": "x"}), DAY)
            .unwrap_err();
        assert!(matches!(err, DecodeError::Payload { .. }), "{err}");
    }

    #[test]
    fn schemas_of_kinds() {
        assert_eq!(schema_of("assessment_planned"), 2);
        assert_eq!(schema_of("offer_published"), 1);
        assert_eq!(schema_of("some_other_service_event"), 1);
        for kind in DATED_AT_SCHEMA_2 {
            assert_eq!(schema_of(kind), 2, "{kind}");
        }
    }

    #[test]
    fn a_schema_1_event_without_a_business_date_gets_its_recorded_day() {
        use crate::need::NeedEvent;
        let stored = serde_json::json!({
            "id": "01930000-0000-7000-8000-000000000065",
            "member_state": "KE",
            "recommendation_ids": [],
            "theme": "BOR",
            "modality": "training",
            "description": "Train border officers",
            "beneficiary_institution": "Border Police",
            "estimated_cost": null,
            "size": null,
            "priority": 1
        });
        let event: NeedEvent = decode("need_identified", 1, &stored, DAY).unwrap();
        assert_eq!(event.on(), DAY);
        // A payload that already has its date keeps it; a kind not bumped is not touched.
        let mut dated = stored.clone();
        dated["on"] = serde_json::json!("2025-01-02");
        let event: NeedEvent = decode("need_identified", 1, &dated, DAY).unwrap();
        assert_eq!(event.on(), jiff::civil::date(2025, 1, 2));
        let agreed = serde_json::json!({"id": "01930000-0000-7000-8000-000000000065", "on": "2025-02-03", "reason": null});
        let event: NeedEvent = decode("need_agreed_with_state", 1, &agreed, DAY).unwrap();
        assert_eq!(event.on(), jiff::civil::date(2025, 2, 3));
        // Schema 3 is from the future: refused, not guessed at.
        assert!(matches!(
            decode::<NeedEvent>("need_identified", 3, &stored, DAY),
            Err(DecodeError::UnknownSchema { schema: 3, .. })
        ));
    }

    #[test]
    fn kinds_are_unique_and_the_dated_ones_exist() {
        let mut all: Vec<&str> = kinds().collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "a kind names one event");
        for kind in DATED_AT_SCHEMA_2 {
            assert!(all.contains(kind), "{kind} is a kind");
        }
    }
}
