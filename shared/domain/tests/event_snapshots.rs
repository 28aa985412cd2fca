//! Pins the wire JSON (kind, schema, payload) of one example of every event kind, so a change to an
//! event's shape shows up as a snapshot diff and gets a schema bump and an upcaster, not a silent break.

use jiff::civil::date;
use tatrack_domain::account::AccountEvent;
use tatrack_domain::assessment::{AssessmentEvent, AssessmentKind, Classification};
use tatrack_domain::event::{self, EncodedEvent, encode};
use tatrack_domain::need::{Modality, NeedEvent, NeedStatus, Units};
use tatrack_domain::offer::{OfferEvent, OfferStatus};
use tatrack_domain::organisation::{OrganisationEvent, OrganisationKind};
use tatrack_domain::progress::{ProgressReportEvent, ReportedActual};
use tatrack_domain::project::{
    ActivityStatus, Document, IndicatorDef, Participant, ProjectEvent, Transaction, TransactionKind,
};
use tatrack_domain::rates::{Rate, RateTableEvent, Ratio};
use tatrack_domain::recommendation::{RecommendationEvent, RecommendationStatus, StatusSource};
use tatrack_domain::referral::{Party, ReferralEvent};
use tatrack_domain::report::{ReportEvent, ReportFormat, ReportScope};
use tatrack_domain::sharing::{Audience, Scope, SharingGrantEvent};
use tatrack_domain::token::TokenEvent;
use tatrack_domain::{DomainEvent, Money, Role, decode};
use uuid::Uuid;

const ASSESSMENT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00a1);
const RECOMMENDATION: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00b1);
const NEED: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00c1);
const GRANT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00d1);
const RATES: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00e1);
const OFFER: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_00f1);
const REFERRAL: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0a01);
const PROJECT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0b01);
const REPORT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0c01);
const RESULT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0d01);
const INDICATOR: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0d02);
const MILESTONE: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0d03);
const TOKEN: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0e01);
const ACCOUNT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0e02);
const MADE_REPORT: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0f01);
const TRANSACTION: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0d04);

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
            on: date(2025, 1, 1),
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
            on: date(2025, 1, 1),
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
            on: date(2025, 1, 1),
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
            on: date(2025, 1, 1),
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
            on: date(2025, 1, 1),
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

fn rate_events() -> Vec<RateTableEvent> {
    vec![RateTableEvent::RatesRecorded {
        id: RATES,
        as_of: date(2025, 7, 1),
        rates: vec![
            Rate {
                currency: "EUR".into(),
                per_usd: Ratio::parse_decimal("per_usd", "0.9215").unwrap(),
            },
            Rate {
                currency: "KES".into(),
                per_usd: Ratio::parse_decimal("per_usd", "129.25").unwrap(),
            },
        ],
    }]
}

fn organisation_events() -> Vec<OrganisationEvent> {
    use OrganisationEvent as E;
    let id = "XM-DAC-41122".to_owned();
    vec![
        E::OrganisationRegistered {
            id: id.clone(),
            name: "UN Office of Counter-Terrorism".into(),
            kind: OrganisationKind::UnEntity,
            iati_type: "40".into(),
            iati_identifier: Some("XM-DAC-41122".into()),
            country: Some("US".into()),
            on: date(2025, 1, 1),
        },
        E::OrganisationUpdated {
            id: id.clone(),
            name: None,
            kind: Some(OrganisationKind::InternationalOrganisation),
            iati_type: None,
            iati_identifier: None,
            country: Some("CH".into()),
            on: date(2025, 1, 1),
        },
        E::OrganisationDeactivated {
            id,
            on: date(2027, 1, 1),
            reason: "merged into another organisation".into(),
        },
    ]
}

fn offer_events() -> Vec<OfferEvent> {
    use OfferEvent as E;
    let id = OFFER;
    vec![
        E::OfferDrafted {
            id,
            organisation: "XM-DAC-41122".into(),
            title: "Border security training".into(),
            themes: vec!["BOR".into(), "LEA".into()],
            countries: vec!["KE".into()],
            regions: vec!["298".into()],
            modalities: vec![Modality::Training, Modality::Mentoring],
            budget: Some(usd(10_000_000)),
            capacity: Some(Units {
                measure: "officers trained".into(),
                quantity: 200,
            }),
            valid_from: date(2025, 1, 1),
            valid_until: date(2025, 12, 31),
            languages: vec!["en".into(), "fr".into()],
            conditions: Some("The State provides venues.".into()),
            on: date(2025, 1, 1),
        },
        E::OfferPublished {
            id,
            on: date(2025, 2, 1),
            reason: None,
        },
        E::OfferAmended {
            id,
            title: None,
            themes: None,
            countries: Some(vec!["KE".into(), "UG".into()]),
            regions: None,
            modalities: None,
            budget: Some(usd(12_000_000)),
            capacity: None,
            valid_until: Some(date(2026, 6, 30)),
            languages: None,
            conditions: None,
            on: date(2025, 1, 1),
        },
        E::OfferWithdrawn {
            id,
            on: date(2025, 3, 1),
            reason: "funding cut".into(),
        },
        E::OfferExpired {
            id,
            on: date(2026, 7, 1),
        },
        E::OfferCommitmentRecorded {
            id,
            committed_money: Some(usd(4_000_000)),
            committed_units: Some(80),
            status: OfferStatus::PartiallyCommitted,
            on: date(2025, 1, 1),
        },
    ]
}

fn referral_events() -> Vec<ReferralEvent> {
    use ReferralEvent as E;
    let id = REFERRAL;
    vec![
        E::ReferralProposed {
            id,
            need_id: NEED,
            offer_id: OFFER,
            member_state: "KE".into(),
            organisation: "XM-DAC-41122".into(),
            share_money: Some(usd(4_000_000)),
            share_units: Some(80),
            on: date(2025, 1, 1),
        },
        E::ReferralReferred {
            id,
            on: date(2025, 10, 1),
            reason: None,
        },
        E::ReferralAcceptedByPartner {
            id,
            on: date(2025, 10, 2),
            reason: Some("fits the 2025 work plan".into()),
        },
        E::ReferralAcceptedByState {
            id,
            on: date(2025, 10, 3),
            reason: None,
        },
        E::ReferralDeclined {
            id,
            on: date(2025, 10, 2),
            by: Party::State,
            reason: "the State prefers bilateral help".into(),
        },
        E::ReferralActivated {
            id,
            on: date(2025, 10, 4),
            project_id: PROJECT,
            reason: None,
        },
        E::ReferralLapsed {
            id,
            on: date(2025, 12, 1),
            reason: "no answer from the partner".into(),
        },
    ]
}

fn project_events() -> Vec<ProjectEvent> {
    use ProjectEvent as E;
    let id = PROJECT;
    vec![
        E::ProjectCreated {
            id,
            iati_identifier: "XM-DAC-41122-KE-BOR-1".into(),
            title: "Border screening in Kenya".into(),
            description: "API/PNR screening for border officers.".into(),
            recipient_country: "KE".into(),
            theme: "BOR".into(),
            dac_sector: "15136".into(),
            participating: vec![
                Participant {
                    organisation: "EU-DEVCO".into(),
                    role: "1".into(),
                },
                Participant {
                    organisation: "XM-DAC-41122".into(),
                    role: "4".into(),
                },
            ],
            planned_start: date(2026, 1, 1),
            planned_end: date(2026, 12, 31),
            budget: Some(usd(10_000_000)),
            needs: vec![NEED],
            referrals: vec![REFERRAL],
            on: date(2025, 1, 1),
        },
        E::ProjectStatusChanged {
            id,
            from: ActivityStatus::Pipeline,
            to: ActivityStatus::Implementation,
            on: date(2026, 2, 1),
            reason: Some("funding agreement signed".into()),
        },
        E::ProjectReferralJoined {
            id,
            referral_id: REFERRAL,
            need_id: NEED,
            on: date(2025, 1, 1),
        },
        E::ProjectBudgetSet {
            id,
            budget: usd(12_000_000),
            on: date(2025, 1, 1),
        },
        E::ProjectTransactionAdded {
            id,
            transaction: Transaction {
                transaction_id: TRANSACTION,
                kind: TransactionKind::Disbursement,
                value: Money::new(500_000, "EUR").unwrap(),
                date: date(2026, 3, 1),
                provider: Some("EU-DEVCO".into()),
                receiver: Some("XM-DAC-41122".into()),
                description: Some("first tranche".into()),
            },
        },
        E::ProjectMilestoneAdded {
            id,
            milestone_id: MILESTONE,
            title: "Curriculum agreed".into(),
            due: date(2026, 3, 31),
            on: date(2025, 1, 1),
        },
        E::ProjectMilestoneCompleted {
            id,
            milestone_id: MILESTONE,
            on: date(2026, 4, 2),
        },
        E::ProjectResultAdded {
            id,
            result_id: RESULT,
            title: "Officers screen passengers against watchlists".into(),
            indicators: vec![IndicatorDef {
                indicator_id: INDICATOR,
                title: "Officers trained".into(),
                measure: "1".into(),
                baseline: Some(0),
                target: 200,
            }],
            on: date(2025, 1, 1),
        },
        E::ProjectIndicatorActualRecorded {
            id,
            result_id: RESULT,
            indicator_id: INDICATOR,
            value: 120,
            on: date(2026, 6, 30),
        },
        E::ProjectDocumentAdded {
            id,
            document: Document {
                url: "https://example.org/inception-report.pdf".into(),
                title: "Inception report".into(),
                category: "A07".into(),
            },
            on: date(2025, 1, 1),
        },
    ]
}

fn progress_events() -> Vec<ProgressReportEvent> {
    use ProgressReportEvent as E;
    let id = REPORT;
    vec![
        E::ProgressReportDrafted {
            id,
            project_id: PROJECT,
            period_start: date(2026, 1, 1),
            period_end: date(2026, 6, 30),
            narrative: "120 officers trained.".into(),
            actuals: vec![ReportedActual {
                result_id: RESULT,
                indicator_id: INDICATOR,
                value: 120,
            }],
            on: date(2025, 1, 1),
        },
        E::ProgressReportRevised {
            id,
            narrative: Some("120 officers trained, 40 of them women.".into()),
            actuals: None,
            on: date(2025, 1, 1),
        },
        E::ProgressReportSubmitted {
            id,
            on: date(2026, 7, 1),
            reason: None,
        },
        E::ProgressReportValidated {
            id,
            on: date(2026, 7, 10),
            reason: Some("figures checked".into()),
        },
        E::ProgressReportReturned {
            id,
            on: date(2026, 7, 5),
            reason: "add the gender breakdown".into(),
        },
    ]
}

/// Encodes each event, checks it decodes back to itself, and returns its wire form.
fn token_events() -> Vec<TokenEvent> {
    vec![
        TokenEvent::TokenIssued {
            id: TOKEN,
            role: Role::Donor,
            organisation: Some("DEMO-DONOR".into()),
            member_state: None,
            label: "demo donor".into(),
            hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            issued_on: date(2026, 1, 5),
            // Pinned as recorded before tokens had an expiry: the field stays optional.
            expires_on: None,
        },
        TokenEvent::TokenRevoked {
            id: TOKEN,
            on: date(2026, 2, 1),
            reason: "left the project".into(),
        },
    ]
}

fn account_events() -> Vec<AccountEvent> {
    vec![
        AccountEvent::AccountInvited {
            id: ACCOUNT,
            name: "Ada Lovelace".into(),
            email: "ada@example.org".into(),
            role: Role::Donor,
            organisation: Some("DEMO-DONOR".into()),
            member_state: None,
            invitation_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .into(),
            invitation_expires_on: date(2026, 1, 12),
            invited_on: date(2026, 1, 5),
        },
        AccountEvent::AccountReinvited {
            id: ACCOUNT,
            invitation_hash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
                .into(),
            invitation_expires_on: date(2026, 2, 8),
            on: date(2026, 2, 1),
        },
        AccountEvent::AccountPasswordSet {
            id: ACCOUNT,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
                .into(),
            on: date(2026, 2, 2),
        },
        AccountEvent::AccountDisabled {
            id: ACCOUNT,
            on: date(2026, 3, 1),
            reason: "left the project".into(),
        },
    ]
}

fn report_events() -> Vec<ReportEvent> {
    vec![ReportEvent::ReportMade {
        id: MADE_REPORT,
        scope: ReportScope {
            member_state: Some("KE".into()),
            theme: None,
            region: None,
            donor: Some("DEMO-DONOR".into()),
        },
        format: ReportFormat::Csv,
        as_of: date(2026, 11, 27),
        requested_by: tatrack_domain::Principal {
            id: "auditor-1".into(),
            role: Role::Auditor,
            organisation: None,
            member_state: None,
        },
        checksum: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        size: 2048,
        on: date(2026, 11, 28),
        known_at: [("assessments".to_owned(), 120), ("partners".to_owned(), 45)]
            .into_iter()
            .collect(),
    }]
}

fn round_trip<E: DomainEvent + PartialEq + std::fmt::Debug>(events: Vec<E>) -> Vec<EncodedEvent> {
    events
        .into_iter()
        .map(|e| {
            let enc = encode(&e);
            assert_eq!(
                decode::<E>(&enc.kind, enc.schema, &enc.payload, e.on()).unwrap(),
                e
            );
            enc
        })
        .collect()
}

fn all_encoded() -> Vec<EncodedEvent> {
    let mut all = round_trip(assessment_events());
    all.extend(round_trip(recommendation_events()));
    all.extend(round_trip(need_events()));
    all.extend(round_trip(sharing_events()));
    all.extend(round_trip(rate_events()));
    all.extend(round_trip(organisation_events()));
    all.extend(round_trip(offer_events()));
    all.extend(round_trip(referral_events()));
    all.extend(round_trip(project_events()));
    all.extend(round_trip(progress_events()));
    all.extend(round_trip(token_events()));
    all.extend(round_trip(account_events()));
    all.extend(round_trip(report_events()));
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
