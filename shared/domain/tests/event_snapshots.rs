//! Pins the wire JSON (kind, schema, payload) of one example of every event kind, so a change to an
//! event's shape shows up as a snapshot diff and gets a schema bump and an upcaster, not a silent break.

use jiff::civil::date;
use tatrack_domain::assessment::{AssessmentEvent, AssessmentKind, Classification};
use tatrack_domain::event::{self, EncodedEvent, encode};
use tatrack_domain::need::{Modality, NeedEvent, NeedStatus, Units};
use tatrack_domain::recommendation::{RecommendationEvent, RecommendationStatus, StatusSource};
use tatrack_domain::sharing::{Audience, Scope, SharingGrantEvent};
use tatrack_domain::{DomainEvent, Money, decode};
use uuid::Uuid;

const ASSESSMENT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00a1);
const RECOMMENDATION: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00b1);
const NEED: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00c1);
const GRANT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00d1);

fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, "USD").unwrap()
}

fn assessment_events() -> Vec<AssessmentEvent> {
    use AssessmentEvent as E;
    let id = ASSESSMENT;
    vec![
        E::AssessmentPlanned {
            id,
            member_state: "KE".into(),
            kind: AssessmentKind::ComprehensiveVisit,
            resolutions: vec![1373, 2178, 2396],
            title: "Comprehensive visit to Kenya".into(),
            visit_start: date(2025, 3, 10),
            visit_end: date(2025, 3, 14),
            classification: Classification::Confidential,
        },
        E::AssessmentConducted {
            id,
            on: date(2025, 3, 14),
            reason: None,
        },
        E::AssessmentDraftSent {
            id,
            on: date(2025, 4, 2),
            reason: Some("sent through the permanent mission".into()),
        },
        E::AssessmentObservationsReceived {
            id,
            on: date(2025, 4, 28),
        },
        E::AssessmentAdopted {
            id,
            on: date(2025, 5, 20),
            reason: None,
        },
        E::AssessmentResponseReceived {
            id,
            on: date(2025, 11, 3),
            reason: None,
        },
        E::AssessmentClosed {
            id,
            on: date(2026, 2, 1),
            reason: Some("follow-up visit done".into()),
        },
        E::AssessmentCancelled {
            id,
            on: date(2025, 2, 1),
            reason: Some("postponed at the State's request".into()),
        },
    ]
}

fn recommendation_events() -> Vec<RecommendationEvent> {
    vec![
        RecommendationEvent::RecommendationRecorded {
            id: RECOMMENDATION,
            assessment_id: ASSESSMENT,
            member_state: "KE".into(),
            theme: "BOR".into(),
            text: "Connect all border posts to the INTERPOL databases.".into(),
            priority: 1,
        },
        RecommendationEvent::RecommendationStatusUpdated {
            id: RECOMMENDATION,
            from: RecommendationStatus::Adopted,
            to: RecommendationStatus::PartiallyImplemented,
            on: date(2025, 11, 3),
            source: StatusSource::StateResponse,
            reason: Some("12 of 30 posts connected".into()),
        },
    ]
}

fn need_events() -> Vec<NeedEvent> {
    use NeedEvent as E;
    let id = NEED;
    vec![
        E::NeedIdentified {
            id,
            member_state: "KE".into(),
            recommendation_ids: vec![RECOMMENDATION],
            theme: "BOR".into(),
            modality: Modality::Training,
            description: "Train border officers on API/PNR screening.".into(),
            beneficiary_institution: "Kenya Immigration Service".into(),
            estimated_cost: Some(usd(10_000_000)),
            size: Some(Units {
                measure: "officers trained".into(),
                quantity: 200,
            }),
            priority: 1,
        },
        E::NeedAgreedWithState {
            id,
            on: date(2025, 6, 1),
            reason: None,
        },
        E::NeedCoverageRecorded {
            id,
            covered_money: Some(usd(4_000_000)),
            covered_units: Some(80),
            status: NeedStatus::PartiallyCovered,
        },
        E::NeedMet {
            id,
            on: date(2026, 6, 30),
            reason: Some("all officers trained".into()),
        },
        E::NeedWithdrawn {
            id,
            on: date(2025, 7, 1),
            reason: "merged into another need".into(),
        },
        E::NeedDeclined {
            id,
            on: date(2025, 7, 1),
            reason: "the State prefers bilateral help".into(),
        },
        E::NeedAmended {
            id,
            description: None,
            beneficiary_institution: None,
            estimated_cost: Some(usd(12_000_000)),
            size: None,
            priority: Some(2),
        },
    ]
}

fn sharing_events() -> Vec<SharingGrantEvent> {
    vec![
        SharingGrantEvent::SharingGranted {
            id: GRANT,
            member_state: "KE".into(),
            scope: Scope::Need { need_id: NEED },
            audience: Audience::Organisations {
                ids: vec!["org-unodc".into(), "org-eu".into()],
            },
            until: Some(date(2026, 12, 31)),
            granted_on: date(2025, 6, 2),
        },
        SharingGrantEvent::SharingRevoked {
            id: GRANT,
            on: date(2025, 9, 1),
            reason: Some("government changed".into()),
        },
    ]
}

/// Encodes each event, checks it decodes back to itself, and returns its wire form.
fn round_trip<E: DomainEvent + PartialEq + std::fmt::Debug>(events: Vec<E>) -> Vec<EncodedEvent> {
    events
        .into_iter()
        .map(|e| {
            let enc = encode(&e);
            assert_eq!(decode::<E>(&enc.kind, enc.schema, &enc.payload).unwrap(), e);
            enc
        })
        .collect()
}

fn all_encoded() -> Vec<EncodedEvent> {
    let mut all = round_trip(assessment_events());
    all.extend(round_trip(recommendation_events()));
    all.extend(round_trip(need_events()));
    all.extend(round_trip(sharing_events()));
    all
}

#[test]
fn every_event_kind_has_an_example() {
    let examples: Vec<String> = all_encoded().into_iter().map(|e| e.kind).collect();
    let kinds: Vec<&str> = event::kinds().collect();
    assert_eq!(
        examples, kinds,
        "add an example (and a snapshot) for each new event kind"
    );
}

#[test]
fn event_json_is_pinned() {
    for encoded in all_encoded() {
        insta::assert_json_snapshot!(encoded.kind.clone(), encoded);
    }
}
