//! Summary and rendering on a small fixed data set: figures, scope filters, every format, and
//! the same inputs giving the same bytes.

use jiff::civil::date;
use tatrack_domain::assessment::{AssessmentState, Clocks};
use tatrack_domain::need::{NeedState, NeedStatus, Units};
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::project::{Milestone, Participant, ProjectState, Transaction, TransactionKind};
use tatrack_domain::rates::{Rate, RateTableState, Ratio};
use tatrack_domain::report::{ReportFormat, ReportScope};
use tatrack_domain::{Money, Principal, Role, Totals};
use uuid::Uuid;

use tatrack_contract::answers::{AssessmentView, Overlap, OverlapItem, ProjectView, RateRow};

use crate::gather::{Inputs, Overlaps};
use crate::render::render;
use crate::summary::build;

fn money(minor: i64, currency: &str) -> Money {
    Money {
        amount_minor: minor,
        currency: currency.into(),
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn need(
    n: u128,
    cc: &str,
    theme: &str,
    status: NeedStatus,
    cost: Money,
    covered: i64,
) -> NeedState {
    NeedState {
        id: id(n),
        status: Some(status),
        member_state: cc.into(),
        theme: theme.into(),
        description: "a need".into(),
        beneficiary_institution: "Police | Academy".into(),
        covered_money: Some(money(covered, &cost.currency)),
        estimated_cost: Some(cost),
        size: Some(Units {
            measure: "officers trained".into(),
            quantity: 200,
        }),
        covered_units: Some(50),
        priority: 1,
        ..NeedState::default()
    }
}

fn project(
    n: u128,
    cc: &str,
    funder: &str,
    kinds: &[(TransactionKind, Money, &str)],
) -> ProjectView {
    let mut state = ProjectState {
        id: id(n),
        title: format!("Project <{n}>"),
        recipient_country: cc.into(),
        theme: "BOR".into(),
        participating: vec![
            Participant {
                organisation: funder.into(),
                role: "1".into(),
            },
            Participant {
                organisation: "UNOCT".into(),
                role: "4".into(),
            },
        ],
        needs: vec![id(1)],
        ..ProjectState::default()
    };
    for (i, (kind, value, day)) in kinds.iter().enumerate() {
        let totals: &mut Totals = match kind {
            TransactionKind::Pledge => &mut state.pledged,
            TransactionKind::Commitment => &mut state.committed,
            TransactionKind::Disbursement => &mut state.disbursed,
            TransactionKind::Expenditure => &mut state.expended,
        };
        totals.add(value).unwrap();
        state.transactions.push(Transaction {
            transaction_id: id(1000 + n * 10 + i as u128),
            kind: *kind,
            value: value.clone(),
            date: day.parse().unwrap(),
            provider: None,
            receiver: None,
            description: None,
        });
    }
    let late = Milestone {
        milestone_id: id(2000 + n),
        title: "First cohort".into(),
        due: date(2026, 9, 30),
        done_on: None,
        added_on: None,
    };
    state.milestones.push(late.clone());
    ProjectView {
        state,
        late_milestones: vec![late],
    }
}

fn inputs() -> Inputs {
    use TransactionKind::{Commitment, Disbursement, Expenditure};
    let mut tables = std::collections::BTreeMap::new();
    tables.insert(
        date(2026, 1, 1),
        vec![Rate {
            currency: "EUR".into(),
            per_usd: Ratio::new("r", 23, 25).unwrap(),
        }],
    );
    Inputs {
        needs: vec![
            need(
                1,
                "KE",
                "BOR",
                NeedStatus::PartiallyCovered,
                money(30_000_000, "USD"),
                25_000_000,
            ),
            need(
                2,
                "PH",
                "CFT",
                NeedStatus::AgreedWithState,
                money(9_200_000, "EUR"),
                0,
            ),
            need(
                3,
                "JO",
                "CIP",
                NeedStatus::Identified,
                money(500_000, "JOD"),
                0,
            ),
            need(
                4,
                "KE",
                "BOR",
                NeedStatus::Withdrawn,
                money(1_000, "USD"),
                0,
            ),
        ],
        rates: vec![RateRow {
            member_state: "KE".into(),
            theme: "BOR".into(),
            recommendations: 4,
            open: 1,
            implemented: 1,
            partially_implemented: 1,
            not_implemented: 0,
            superseded: 1,
            implementation_rate_percent: Some(50),
        }],
        assessments: vec![AssessmentView {
            state: AssessmentState {
                id: id(50),
                member_state: "KE".into(),
                title: "Visit to Kenya".into(),
                ..AssessmentState::default()
            },
            clocks: Clocks {
                observations_due: None,
                observations_overdue: false,
                response_due: Some(date(2026, 11, 15)),
                response_overdue: true,
            },
        }],
        projects: vec![
            project(
                10,
                "KE",
                "DEMO-DONOR",
                &[
                    (Commitment, money(25_000_000, "USD"), "2026-07-01"),
                    (Disbursement, money(10_000_000, "USD"), "2026-07-15"),
                    (Expenditure, money(4_600_000, "EUR"), "2026-09-02"),
                ],
            ),
            project(
                11,
                "PH",
                "OTHER-DONOR",
                &[(Commitment, money(1_000_000, "USD"), "2026-08-01")],
            ),
        ],
        offers: Vec::new(),
        referrals: Vec::new(),
        rate_tables: vec![RateTableState { id: id(60), tables }],
        organisations: vec![OrganisationState {
            id: "DEMO-DONOR".into(),
            name: "Demo donor".into(),
            ..OrganisationState::default()
        }],
        known: crate::gather::Known {
            positions: [("assessments".to_owned(), 12), ("partners".to_owned(), 4)]
                .into_iter()
                .collect(),
            text: "assessments:12,partners:4".into(),
        },
        overlaps: Overlaps::Rows(vec![Overlap {
            member_state: "KE".into(),
            theme: "BOR".into(),
            beneficiary_institution: Some("Border Police Unit".into()),
            items: [
                OverlapItem {
                    kind: "project".into(),
                    id: id(70),
                    organisation: "DEMO-DONOR".into(),
                    from: Some(date(2026, 7, 1)),
                    until: None,
                },
                OverlapItem {
                    kind: "referral".into(),
                    id: id(71),
                    organisation: "OTHER-DONOR".into(),
                    from: None,
                    until: Some(date(2027, 12, 31)),
                },
            ],
        }]),
    }
}

fn coordinator() -> Principal {
    Principal {
        id: "c1".into(),
        role: Role::Coordinator,
        organisation: None,
        member_state: None,
    }
}

#[test]
fn figures_are_per_currency_and_converted_only_with_recorded_rates() {
    let s = build(
        &ReportScope::default(),
        date(2026, 11, 27),
        &coordinator(),
        &inputs(),
    );
    assert_eq!(s.needs.total, 4);
    assert_eq!(s.needs.by_status["withdrawn"], 1);
    assert_eq!(s.needs.by_state["KE"]["partially_covered"], 1);
    // JOD has no rate in the table: listed, and left out of the converted totals.
    assert_eq!(s.unconverted_currencies, ["JOD"]);
    assert_eq!(s.rate_table_as_of, Some(date(2026, 1, 1)));
    let usd = s.money.iter().find(|m| m.currency == "USD").unwrap();
    assert_eq!(
        usd.requested, 30_000_000,
        "the withdrawn need is not requested"
    );
    assert_eq!(usd.committed, 26_000_000);
    // 92,000.00 EUR at 0.92 per USD is 100,000.00 USD; 46,000.00 EUR is 50,000.00 USD.
    assert_eq!(s.money_converted.requested, 30_000_000 + 10_000_000);
    assert_eq!(s.money_converted.spent, 5_000_000);
    let bor = s.coverage.iter().find(|t| t.theme == "BOR").unwrap();
    assert_eq!(bor.money_percent, Some(83));
    assert_eq!(bor.units_percent, Some(25));
    assert_eq!(s.recommendations.implementation_rate_percent, Some(50));
    assert_eq!(s.overdue_clocks.len(), 1);
    assert_eq!(s.overdue_clocks[0].clock, "response");
    assert_eq!(s.late_milestones.len(), 2);
    // Cumulative by month, converted.
    let months: Vec<&str> = s.money_over_time.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(months, ["2026-07", "2026-08", "2026-09"]);
    assert_eq!(s.money_over_time[2].committed, 26_000_000);
    assert_eq!(s.money_over_time[2].spent, 5_000_000);
    assert_eq!(s.overlaps.rows.len(), 1);
    assert_eq!(
        s.overlaps.rows[0].items,
        [
            format!("project {} DEMO-DONOR 2026-07-01..", id(70)),
            format!("referral {} OTHER-DONOR ..2027-12-31", id(71))
        ]
    );
}

#[test]
fn scope_filters_by_state_theme_region_and_donor() {
    let day = date(2026, 11, 27);
    let ke = ReportScope {
        member_state: Some("KE".into()),
        ..ReportScope::default()
    };
    let s = build(&ke, day, &coordinator(), &inputs());
    assert_eq!(s.needs.total, 2);
    assert!(s.money_by_funder.iter().all(|f| f.funder == "DEMO-DONOR"));
    // Region 298 (Africa, regional) holds Kenya, not the Philippines or Jordan.
    let africa = ReportScope {
        region: Some("298".into()),
        ..ReportScope::default()
    };
    let s = build(&africa, day, &coordinator(), &inputs());
    assert_eq!(s.needs.by_state.keys().collect::<Vec<_>>(), ["KE"]);
    let cft = ReportScope {
        theme: Some("CFT".into()),
        ..ReportScope::default()
    };
    let s = build(&cft, day, &coordinator(), &inputs());
    assert_eq!(s.needs.total, 1);
    assert!(s.late_milestones.is_empty());
    let donor = ReportScope {
        donor: Some("OTHER-DONOR".into()),
        ..ReportScope::default()
    };
    let s = build(&donor, day, &coordinator(), &inputs());
    assert_eq!(s.late_milestones.len(), 1);
    assert_eq!(s.late_milestones[0].member_state, "PH");
    assert_eq!(s.overlaps.rows.len(), 1, "the overlap names OTHER-DONOR");
}

#[test]
fn every_format_renders_the_same_bytes_twice() {
    let s = build(
        &ReportScope::default(),
        date(2026, 11, 27),
        &coordinator(),
        &inputs(),
    );
    for format in ReportFormat::ALL.iter().copied() {
        let first = render(&s, format);
        let again = render(
            &build(
                &ReportScope::default(),
                date(2026, 11, 27),
                &coordinator(),
                &inputs(),
            ),
            format,
        );
        assert_eq!(first, again, "{format}");
        assert!(!first.is_empty());
    }
    let md = String::from_utf8(render(&s, ReportFormat::Markdown)).unwrap();
    assert!(md.starts_with("# tatrack summary as of 2026-11-27 (all)\n"));
    assert!(
        md.contains("| all in USD (converted) | 400,000.00 |"),
        "{md}"
    );
    assert!(md.contains("No recorded rate for: JOD"));
    assert!(md.contains("Police \\| Academy") || !md.contains("Police | Academy"));

    let html = String::from_utf8(render(&s, ReportFormat::Html)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg ").count(), 2, "two charts");
    assert!(html.contains("Project &lt;10&gt;"), "text is escaped");
    assert!(html.contains("<polyline"));

    let csv = render(&s, ReportFormat::Csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_slice());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&records[0][0], "Section");
    let tags: Vec<&str> = records[1].iter().collect();
    for tag in [
        "#country+code",
        "#sector+code",
        "#org+funder",
        "#value",
        "#currency",
        "#status",
    ] {
        assert!(tags.contains(&tag), "{tag}");
    }
    assert!(records.iter().any(|r| &r[0] == "money_by_funder"
        && &r[3] == "DEMO-DONOR"
        && &r[4] == "committed"
        && &r[6] == "250000.00"
        && &r[7] == "USD"));

    let json: serde_json::Value = serde_json::from_slice(&render(&s, ReportFormat::Json)).unwrap();
    assert_eq!(json["as_of"], "2026-11-27");
    assert_eq!(json["money_converted"]["currency"], "USD");
}

#[test]
fn a_missing_overlap_view_is_said_not_failed() {
    let mut i = inputs();
    i.overlaps = Overlaps::Unavailable("the read model does not list overlap alerts yet".into());
    let s = build(
        &ReportScope::default(),
        date(2026, 11, 27),
        &coordinator(),
        &i,
    );
    assert!(!s.overlaps.available);
    let md = String::from_utf8(render(&s, ReportFormat::Markdown)).unwrap();
    assert!(md.contains("Not available: the read model does not list overlap alerts yet."));
    let csv = String::from_utf8(render(&s, ReportFormat::Csv)).unwrap();
    assert!(csv.contains("overlap,,,,unavailable"));
}
