//! The demo data set: five States at different points of the assessment cycle, their
//! recommendations and technical-assistance needs, consents to share; then organisations, two open
//! offers, an exchange-rate table, a referral of Kenya's border-police training need accepted by
//! the donor and by Kenya and active in a project (with transactions, milestones, a result and a
//! validated progress report), and a second referral still waiting for its partner. Every id and
//! command id is fixed, so loading it twice changes nothing (the services answer "already done").

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use serde::Serialize;
use serde_json::Value;
use tatrack_bus::rpc::RequestMeta;
use tatrack_bus::subjects;
use tatrack_contract::CommandReply;
use tatrack_contract::commands::{
    Addressed, Dated, Move, assessment, need, offer, organisation, progress, project, rates,
    recommendation, referral, sharing,
};
use tatrack_domain::need::{Modality, Units};
use tatrack_domain::progress::ReportedActual;
use tatrack_domain::rates::{Rate, Ratio};
use tatrack_domain::sharing::{Audience, Scope};
use tatrack_domain::{Money, Principal, Role};
use uuid::Uuid;

use crate::cli::Settings;
use crate::host;

/// A fixed id that reads like a UUID v7: `0193dem0-...-<n>`.
pub fn demo_id(n: u32) -> Uuid {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
}

/// The organisation the demo donor token acts for (registered by the demo).
pub const DEMO_DONOR: &str = "DEMO-DONOR";

/// A demo date (the literals below are all valid).
fn d(text: &str) -> Date {
    text.parse()
        .unwrap_or_else(|e| panic!("demo date {text:?}: {e}"))
}

/// A request struct of the contract as the JSON body sent over NATS.
fn body(request: impl Serialize) -> Value {
    serde_json::to_value(request).unwrap_or_else(|e| panic!("a demo body serialises to JSON: {e}"))
}

/// `amount` major units of `currency`.
fn money(amount: i64, currency: &str) -> Money {
    Money {
        amount_minor: amount * 100,
        currency: currency.to_owned(),
    }
}

fn units(quantity: u64, measure: &str) -> Units {
    Units {
        measure: measure.to_owned(),
        quantity,
    }
}

/// A command on the aggregate `id`: the request with `id` beside its fields, as over NATS.
fn addressed(id: Uuid, request: impl Serialize) -> Value {
    body(Addressed { id, body: request })
}

/// A move of `id` on `on`, with no reason.
fn moved(id: Uuid, on: &str) -> Value {
    body(Addressed {
        id,
        body: Move {
            on: Some(d(on)),
            reason: None,
        },
    })
}

/// The assessments service's share of the demo, `(verb, body)` in the order they must run.
/// Their command ids are `demo_id(10_000 + index)`.
pub fn assessment_commands() -> Vec<(&'static str, Value)> {
    use tatrack_domain::assessment::{AssessmentKind as K, Classification};
    let a = demo_id;
    let mut c: Vec<(&'static str, Value)> = Vec::new();
    // Every fact carries the business date it happened on: the demo is typed in today, but
    // its history spans the year before.
    let mut plan = |id: u32,
                    cc: &str,
                    kind: K,
                    res: &[u32],
                    title: &str,
                    (start, end): (&str, &str),
                    on: &str| {
        c.push((
            "assessment_plan",
            body(assessment::Plan {
                id: Some(a(id)),
                member_state: cc.to_owned(),
                kind,
                resolutions: res.to_vec(),
                title: title.to_owned(),
                visit_start: d(start),
                visit_end: d(end),
                classification: Classification::Restricted,
                on: Some(d(on)),
            }),
        ));
    };
    plan(
        1,
        "KE",
        K::ComprehensiveVisit,
        &[1373, 2178, 2396],
        "Comprehensive assessment visit to Kenya",
        ("2026-02-09", "2026-02-13"),
        "2026-01-12",
    );
    plan(
        2,
        "JO",
        K::FocusedVisit,
        &[2341, 2396],
        "Focused visit to Jordan: protection of critical infrastructure and soft targets",
        ("2026-06-01", "2026-06-04"),
        "2026-04-01",
    );
    plan(
        3,
        "NG",
        K::FollowUpVisit,
        &[1373, 2396],
        "Follow-up visit to Nigeria",
        ("2027-01-18", "2027-01-22"),
        "2026-10-01",
    );
    plan(
        4,
        "PH",
        K::DeskReview,
        &[1373, 2462],
        "Desk review of the Philippines: financing of terrorism",
        ("2025-09-01", "2025-09-30"),
        "2025-08-01",
    );
    plan(
        5,
        "TN",
        K::ComprehensiveVisit,
        &[1373, 2178, 2396],
        "Comprehensive assessment visit to Tunisia",
        ("2026-09-14", "2026-09-18"),
        "2026-07-01",
    );
    // Dated only (no reason): the bodies these commands were first recorded with.
    let mut step = |verb: &'static str, id: u32, on: &str| {
        c.push((
            verb,
            body(Addressed {
                id: a(id),
                body: Dated { on: Some(d(on)) },
            }),
        ));
    };
    step("assessment_mark_conducted", 1, "2026-02-13");
    step("assessment_send_draft", 1, "2026-04-01");
    step("assessment_record_observations", 1, "2026-04-20");
    step("assessment_adopt", 1, "2026-05-15"); // response due 2026-11-15
    step("assessment_mark_conducted", 2, "2026-06-04");
    step("assessment_send_draft", 2, "2026-10-20"); // observations due 2026-11-19
    step("assessment_mark_conducted", 4, "2025-09-30");
    step("assessment_send_draft", 4, "2025-10-15");
    step("assessment_adopt", 4, "2025-12-01");
    step("assessment_record_response", 4, "2026-05-20");
    step("assessment_close", 4, "2026-06-30");
    step("assessment_mark_conducted", 5, "2026-09-18");

    let recs: [(u32, u32, &str, u8, &str); 7] = [
        (
            11,
            1,
            "BOR",
            1,
            "Equip and train border police at the land crossings with Somalia to screen travellers against INTERPOL databases (API/PNR).",
        ),
        (
            12,
            1,
            "STP",
            1,
            "Adopt a national soft-target protection plan covering stadiums, shopping centres and transport hubs, with public-private coordination.",
        ),
        (
            13,
            1,
            "LEG",
            2,
            "Amend the Prevention of Terrorism Act to criminalise travel for terrorist purposes in line with resolution 2178.",
        ),
        (
            14,
            1,
            "IAC",
            2,
            "Establish an inter-agency fusion cell for counter-terrorism information sharing with standard operating procedures.",
        ),
        (
            21,
            4,
            "CFT",
            1,
            "Complete a risk assessment of the non-profit sector and apply targeted, risk-based oversight.",
        ),
        (
            22,
            4,
            "ILC",
            3,
            "Designate a central authority for mutual legal assistance and publish its procedures.",
        ),
        (
            31,
            2,
            "CIP",
            1,
            "Develop a critical-infrastructure protection strategy for the water and energy sectors with exercises.",
        ),
    ];
    for (id, assessment, theme, priority, text) in recs {
        // Recorded when the assessment's report was adopted (Jordan's: when its draft went out).
        let on = match assessment {
            1 => "2026-05-15",
            4 => "2025-12-01",
            _ => "2026-10-20",
        };
        c.push((
            "recommendation_record",
            body(recommendation::Record {
                id: Some(a(id)),
                assessment_id: a(assessment),
                // The service takes the State from the assessment.
                member_state: String::new(),
                theme: theme.to_owned(),
                text: text.to_owned(),
                priority,
                on: Some(d(on)),
            }),
        ));
    }
    {
        use tatrack_domain::recommendation::{RecommendationStatus as S, StatusSource};
        let mut update = |id: u32, to: S, on: &str, source: StatusSource, reason: Option<&str>| {
            c.push((
                "recommendation_update_status",
                body(Addressed {
                    id: a(id),
                    body: recommendation::UpdateStatus {
                        to,
                        on: Some(d(on)),
                        source,
                        reason: reason.map(str::to_owned),
                    },
                }),
            ));
        };
        update(
            21,
            S::PartiallyImplemented,
            "2026-05-20",
            StatusSource::StateResponse,
            Some("risk assessment completed; oversight framework still in draft"),
        );
        update(
            22,
            S::Implemented,
            "2026-05-20",
            StatusSource::StateResponse,
            None,
        );
        update(
            11,
            S::InProgress,
            "2026-09-01",
            StatusSource::Coordinator,
            None,
        );
    }

    // (id, State, recommendations, theme, modality, description, beneficiary, cost, size, priority)
    type DemoNeed = (
        u32,
        &'static str,
        &'static [u32],
        &'static str,
        Modality,
        &'static str,
        &'static str,
        Option<Money>,
        Option<Units>,
        u8,
    );
    let needs: [DemoNeed; 6] = [
        (
            101,
            "KE",
            &[11],
            "BOR",
            Modality::Training,
            "Train 200 border police officers in traveller screening and document fraud detection at the Somali border crossings.",
            "Kenya Police Service, Border Police Unit",
            Some(money(450_000, "USD")),
            Some(units(200, "officers trained")),
            1,
        ),
        (
            102,
            "KE",
            &[11],
            "BOR",
            Modality::Equipment,
            "Connect five land border posts to INTERPOL I-24/7 with mobile screening kits.",
            "Department of Immigration Services",
            Some(money(300_000, "USD")),
            None,
            1,
        ),
        (
            103,
            "KE",
            &[12],
            "STP",
            Modality::Workshop,
            "National workshop on soft-target protection with stadium, mall and transport operators.",
            "National Counter Terrorism Centre",
            Some(money(60_000, "USD")),
            Some(units(80, "participants")),
            1,
        ),
        (
            104,
            "KE",
            &[13],
            "LEG",
            Modality::LegislativeDrafting,
            "Expert support to draft amendments criminalising travel for terrorist purposes.",
            "Office of the Attorney General",
            None,
            None,
            2,
        ),
        (
            105,
            "PH",
            &[21],
            "CFT",
            Modality::Mentoring,
            "Mentor the financial intelligence unit on risk-based supervision of non-profit organisations.",
            "Anti-Money Laundering Council",
            Some(money(120_000, "EUR")),
            Some(units(12, "supervisors mentored")),
            1,
        ),
        (
            106,
            "JO",
            &[31],
            "CIP",
            Modality::ExpertDeployment,
            "Deploy two experts to design protection plans and exercises for water and energy infrastructure.",
            "Ministry of Interior, Crisis Management Centre",
            Some(money(180_000, "EUR")),
            None,
            1,
        ),
    ];
    for (id, cc, recs, theme, modality, description, beneficiary, cost, size, priority) in needs {
        let rec_ids: Vec<Uuid> = recs.iter().map(|r| a(*r)).collect();
        // Identified once the recommendations they serve were recorded.
        let on = match cc {
            "KE" => "2026-05-20",
            "PH" => "2026-01-10",
            _ => "2026-10-25",
        };
        c.push((
            "need_identify",
            body(need::Identify {
                id: Some(a(id)),
                member_state: cc.to_owned(),
                recommendation_ids: rec_ids,
                theme: theme.to_owned(),
                modality,
                description: description.to_owned(),
                beneficiary_institution: beneficiary.to_owned(),
                estimated_cost: cost,
                size,
                priority,
                on: Some(d(on)),
            }),
        ));
    }
    for (id, on) in [
        (101, "2026-06-10"),
        (102, "2026-06-10"),
        (103, "2026-06-10"),
        (105, "2026-06-15"),
    ] {
        c.push(("need_agree_with_state", moved(a(id), on)));
    }
    // Kenya shares its border-police training need with the demo donor only; the others stay private.
    c.push((
        "sharing_grant_grant",
        body(sharing::Grant {
            id: Some(a(201)),
            member_state: "KE".to_owned(),
            scope: Scope::Need { need_id: a(101) },
            audience: Audience::Organisations {
                ids: vec![DEMO_DONOR.to_owned()],
            },
            until: None,
            on: Some(d("2026-06-12")),
        }),
    ));
    // The Philippines shares all its needs with every donor.
    c.push((
        "sharing_grant_grant",
        body(sharing::Grant {
            id: Some(a(202)),
            member_state: "PH".to_owned(),
            scope: Scope::AllNeeds,
            audience: Audience::AllDonors,
            until: Some(d("2027-12-31")),
            on: Some(d("2026-06-15")),
        }),
    ));
    c
}

/// Who sends a demo command: the projects service lets only the partner accept a referral as the
/// partner, and only the State's focal point accept it as the State.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoActor {
    Coordinator,
    /// A donor acting for this organisation.
    Donor(&'static str),
    /// A focal point of this State.
    State(&'static str),
}

/// One demo command with its fixed command id.
#[derive(Debug, Clone)]
pub struct DemoCommand {
    pub service: &'static str,
    pub verb: &'static str,
    pub body: Value,
    pub actor: DemoActor,
    pub command_id: Uuid,
}

/// The implementing partner of the demo project.
pub const DEMO_PARTNER: &str = "UNOCT";

/// Every demo command in the order it must run: the assessments service's first (command ids
/// `demo_id(10_000 + n)`, unchanged since they were the whole demo), then the partners' and
/// projects' (command ids `demo_id(20_000 + n)`).
pub fn commands() -> Vec<DemoCommand> {
    let mut out: Vec<DemoCommand> = assessment_commands()
        .into_iter()
        .enumerate()
        .map(|(n, (verb, body))| DemoCommand {
            service: "assessments",
            verb,
            body,
            actor: DemoActor::Coordinator,
            command_id: demo_id(10_000 + u32::try_from(n).unwrap_or(u32::MAX)),
        })
        .collect();
    out.extend(partner_and_project_commands().into_iter().enumerate().map(
        |(n, (service, verb, body, actor))| DemoCommand {
            service,
            verb,
            body,
            actor,
            command_id: demo_id(20_000 + u32::try_from(n).unwrap_or(u32::MAX)),
        },
    ));
    out
}

type Step = (&'static str, &'static str, Value, DemoActor);

/// Organisations, offers, rates, referrals, the project and its progress report.
fn partner_and_project_commands() -> Vec<Step> {
    use DemoActor::{Coordinator, Donor, State};
    use tatrack_domain::organisation::OrganisationKind;
    use tatrack_domain::project::{ActivityStatus, IndicatorDef, Participant, TransactionKind};
    let a = demo_id;
    let mut c: Vec<Step> = Vec::new();
    let mut partners =
        |verb: &'static str, body: Value| c.push(("partners", verb, body, Coordinator));

    // The registry: the demo donor, the implementing partner and a Kenyan ministry.
    for (id, name, kind, iati_type, country) in [
        (
            DEMO_DONOR,
            "Demo donor government (foreign ministry)",
            OrganisationKind::DonorGovernment,
            "10",
            None,
        ),
        (
            DEMO_PARTNER,
            "United Nations Office of Counter-Terrorism",
            OrganisationKind::UnEntity,
            "40",
            None,
        ),
        (
            "KE-MOI",
            "Kenya Ministry of Interior and National Administration",
            OrganisationKind::MemberStateBody,
            "10",
            Some("KE"),
        ),
    ] {
        partners(
            "organisation_register",
            body(organisation::Register {
                id: id.to_owned(),
                name: name.to_owned(),
                kind,
                iati_type: iati_type.to_owned(),
                iati_identifier: None,
                country: country.map(str::to_owned),
                on: Some(d("2025-12-01")),
            }),
        );
    }

    // Two open offers from the donor: border-police training in Kenya (in USD, 150 officers), and
    // mentoring on countering the financing of terrorism in the Philippines (in EUR).
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    partners(
        "offer_draft",
        body(offer::Draft {
            id: Some(a(301)),
            organisation: DEMO_DONOR.to_owned(),
            title: "Border security training for East Africa".to_owned(),
            themes: strings(&["BOR"]),
            countries: strings(&["KE"]),
            regions: Vec::new(),
            modalities: vec![Modality::Training],
            budget: Some(money(300_000, "USD")),
            capacity: Some(units(150, "officers trained")),
            valid_from: d("2026-01-01"),
            valid_until: d("2027-12-31"),
            languages: strings(&["en"]),
            conditions: Some(
                "Trainees are nominated by the State; courses run in-country.".to_owned(),
            ),
            on: Some(d("2026-01-02")),
        }),
    );
    partners("offer_publish", moved(a(301), "2026-01-05"));
    partners(
        "offer_draft",
        body(offer::Draft {
            id: Some(a(302)),
            organisation: DEMO_DONOR.to_owned(),
            title: "Mentoring financial intelligence units on non-profit sector oversight"
                .to_owned(),
            themes: strings(&["CFT"]),
            countries: strings(&["PH"]),
            regions: Vec::new(),
            modalities: vec![Modality::Mentoring],
            budget: Some(money(200_000, "EUR")),
            capacity: Some(units(20, "supervisors mentored")),
            valid_from: d("2026-03-01"),
            valid_until: d("2027-12-31"),
            languages: strings(&["en"]),
            conditions: None,
            on: Some(d("2026-02-20")),
        }),
    );
    partners("offer_publish", moved(a(302), "2026-03-01"));

    let mut projects =
        |verb: &'static str, body: Value, actor: DemoActor| c.push(("projects", verb, body, actor));
    projects(
        "rate_table_record",
        body(rates::Record {
            id: Some(tatrack_projects::RATE_TABLE_ID),
            on: Some(d("2026-01-01")),
            rates: vec![Rate {
                currency: "EUR".to_owned(),
                per_usd: Ratio {
                    numerator: 23,
                    denominator: 25,
                },
            }],
        }),
        Coordinator,
    );

    // Kenya's border-police training need (shared with the donor) meets the Kenyan offer; the
    // donor and then Kenya accept, and the referral starts the project.
    projects(
        "referral_propose",
        body(referral::Propose {
            id: Some(a(401)),
            need_id: a(101),
            offer_id: a(301),
            member_state: "KE".to_owned(),
            organisation: DEMO_DONOR.to_owned(),
            share_money: Some(money(250_000, "USD")),
            share_units: Some(150),
            on: Some(d("2026-06-18")),
        }),
        Coordinator,
    );
    projects("referral_refer", moved(a(401), "2026-06-20"), Coordinator);
    projects(
        "referral_accept_by_partner",
        moved(a(401), "2026-06-25"),
        Donor(DEMO_DONOR),
    );
    projects(
        "referral_accept_by_state",
        moved(a(401), "2026-06-28"),
        State("KE"),
    );
    let dac = tatrack_domain::codes::theme("BOR")
        .map_or_else(|| "15210".to_owned(), |t| t.nearest_dac5.clone());
    let participant = |organisation: &str, role: &str| Participant {
        organisation: organisation.to_owned(),
        role: role.to_owned(),
    };
    projects(
        "project_create",
        body(project::Create {
            id: Some(a(501)),
            iati_identifier: "DEMO-DONOR-TATRACK-001".to_owned(),
            title: "Traveller screening training for Kenya's Border Police Unit".to_owned(),
            description: "Five in-country courses on traveller screening against INTERPOL databases and document fraud detection at the Somali border crossings.".to_owned(),
            recipient_country: "KE".to_owned(),
            theme: "BOR".to_owned(),
            dac_sector: dac,
            participating: vec![
                participant(DEMO_DONOR, "1"),
                participant("KE-MOI", "2"),
                participant(DEMO_PARTNER, "4"),
            ],
            planned_start: d("2026-07-01"),
            planned_end: d("2027-06-30"),
            budget: Some(money(250_000, "USD")),
            needs: vec![a(101)],
            referrals: Vec::new(),
            on: Some(d("2026-06-29")),
        }),
        Coordinator,
    );
    projects(
        "referral_activate",
        body(Addressed {
            id: a(401),
            body: referral::Activate {
                on: Some(d("2026-07-01")),
                project_id: a(501),
                reason: None,
            },
        }),
        Coordinator,
    );
    // Activating joins the referral to the project; joining it again explicitly is a no-op (a
    // demo loaded by an older release relies on it).
    projects(
        "project_join_referral",
        body(Addressed {
            id: a(501),
            body: project::JoinReferral {
                referral_id: a(401),
                need_id: a(101),
                on: Some(d("2026-07-01")),
            },
        }),
        Coordinator,
    );
    let project_id = a(501);
    projects(
        "project_change_status",
        addressed(
            project_id,
            project::ChangeStatus {
                to: ActivityStatus::Implementation,
                on: Some(d("2026-07-01")),
                reason: Some("first course scheduled".to_owned()),
            },
        ),
        Coordinator,
    );
    for (transaction, kind, amount, on, description) in [
        (
            511,
            TransactionKind::Commitment,
            250_000,
            "2026-07-01",
            "Grant agreement",
        ),
        (
            512,
            TransactionKind::Disbursement,
            100_000,
            "2026-07-15",
            "First tranche",
        ),
    ] {
        projects(
            "project_add_transaction",
            addressed(
                project_id,
                project::AddTransaction {
                    transaction_id: Some(a(transaction)),
                    kind,
                    value: money(amount, "USD"),
                    on: Some(d(on)),
                    provider: Some(DEMO_DONOR.to_owned()),
                    receiver: Some(DEMO_PARTNER.to_owned()),
                    description: Some(description.to_owned()),
                },
            ),
            Coordinator,
        );
    }
    // Two cohorts planned on the same day, the first completed before the second is added.
    let milestone = |id: u32, title: &str, due: &str| {
        addressed(
            project_id,
            project::AddMilestone {
                milestone_id: Some(a(id)),
                title: title.to_owned(),
                due: d(due),
                on: Some(d("2026-07-01")),
            },
        )
    };
    projects(
        "project_add_milestone",
        milestone(521, "First cohort of 50 officers trained", "2026-09-30"),
        Coordinator,
    );
    projects(
        "project_complete_milestone",
        addressed(
            project_id,
            project::CompleteMilestone {
                milestone_id: a(521),
                on: Some(d("2026-09-25")),
            },
        ),
        Coordinator,
    );
    projects(
        "project_add_milestone",
        milestone(522, "Second cohort of 50 officers trained", "2027-01-31"),
        Coordinator,
    );
    projects(
        "project_add_result",
        addressed(
            project_id,
            project::AddResult {
                result_id: Some(a(531)),
                title: "Border police screen travellers against INTERPOL databases".to_owned(),
                indicators: vec![IndicatorDef {
                    indicator_id: a(532),
                    title: "Officers trained".to_owned(),
                    measure: "1".to_owned(),
                    baseline: Some(0),
                    target: 150,
                }],
                on: Some(d("2026-07-01")),
            },
        ),
        Coordinator,
    );
    projects(
        "project_record_indicator_actual",
        addressed(
            project_id,
            project::RecordIndicatorActual {
                result_id: a(531),
                indicator_id: a(532),
                value: 50,
                on: Some(d("2026-09-25")),
            },
        ),
        Coordinator,
    );
    projects(
        "progress_report_draft",
        body(progress::Draft {
            id: Some(a(541)),
            project_id: a(501),
            period_start: d("2026-07-01"),
            period_end: d("2026-09-30"),
            narrative: "First course delivered in Garissa to 50 officers; the second is scheduled for January.".to_owned(),
            actuals: vec![ReportedActual {
                result_id: a(531),
                indicator_id: a(532),
                value: 50,
            }],
            on: Some(d("2026-10-01")),
        }),
        Coordinator,
    );
    projects(
        "progress_report_submit",
        moved(a(541), "2026-10-05"),
        Coordinator,
    );
    projects(
        "progress_report_validate",
        moved(a(541), "2026-10-12"),
        Coordinator,
    );

    // The Philippines' mentoring need (shared with every donor) is referred to the CFT offer and
    // waits for the donor's answer.
    projects(
        "referral_propose",
        body(referral::Propose {
            id: Some(a(402)),
            need_id: a(105),
            offer_id: a(302),
            member_state: "PH".to_owned(),
            organisation: DEMO_DONOR.to_owned(),
            share_money: Some(money(60_000, "EUR")),
            share_units: Some(6),
            on: Some(d("2026-10-30")),
        }),
        Coordinator,
    );
    projects("referral_refer", moved(a(402), "2026-11-02"), Coordinator);
    c
}

/// Sends the demo commands; returns how many wrote something new (0 when it was loaded before).
/// Each has a fixed command id and names the principal it is for (a coordinator, or the donor
/// and the State that accept a referral); it is sent with the deployment's own NATS admin key,
/// on the server host, like `tatrack admin bootstrap`. Before a projects command it waits until
/// the read model (and so the streams the projects service checks needs and offers against)
/// holds what the other services have acknowledged.
pub async fn load(settings: &Settings) -> anyhow::Result<usize> {
    let client = host::connect_admin(settings, "tatrack-demo").await?;
    let mut new = 0;
    // Last acknowledged position per service, and what the read model is known to have.
    let mut written: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut seen: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (n, cmd) in commands().into_iter().enumerate() {
        if cmd.service == "projects" {
            let behind: BTreeMap<&str, u64> = written
                .iter()
                .filter(|(s, p)| **s != "projects" && seen.get(*s) < Some(*p))
                .map(|(s, p)| (*s, *p))
                .collect();
            if !behind.is_empty() {
                wait_for_streams(&client, &behind).await?;
                seen.extend(behind);
            }
        }
        let meta = RequestMeta {
            command_id: Some(cmd.command_id),
            ..RequestMeta::new(cmd.actor.principal())
        };
        let subject = subjects::command_subject(cmd.service, cmd.verb);
        // Right after `tatrack up` starts, the service may not listen yet: `host::request`
        // waits for it, bounded.
        let reply: CommandReply = host::request(&client, &subject, &meta, &cmd.body)
            .await
            .map_err(|e| anyhow::anyhow!("demo command {n} ({}.{}): {e}", cmd.service, cmd.verb))?;
        if !reply.idempotent {
            new += 1;
        }
        let w = written.entry(cmd.service).or_default();
        *w = (*w).max(reply.last_position);
    }
    Ok(new)
}

impl DemoActor {
    /// The principal a demo command is sent for.
    fn principal(self) -> Principal {
        let (role, organisation, member_state) = match self {
            DemoActor::Coordinator => (Role::Coordinator, None, None),
            DemoActor::Donor(org) => (Role::Donor, Some(org.to_owned()), None),
            DemoActor::State(cc) => (Role::StateFocalPoint, None, Some(cc.to_owned())),
        };
        Principal {
            id: "demo".to_owned(),
            role,
            organisation,
            member_state,
        }
    }
}

/// The read model's "wait until these positions are applied" parameter.
#[derive(Serialize)]
struct MinPositions<'a> {
    min_positions: &'a BTreeMap<&'a str, u64>,
}

/// Waits until the read model has applied `positions` (service -> position): then those
/// positions are in the services' streams, which the projects service's view follows.
async fn wait_for_streams(
    client: &async_nats::Client,
    positions: &BTreeMap<&str, u64>,
) -> anyhow::Result<()> {
    let meta = RequestMeta::new(DemoActor::Coordinator.principal());
    let subject = subjects::query_subject(tatrack_contract::bus::View::RateTableShow.as_str());
    let deadline = Instant::now() + START_WAIT;
    loop {
        let body = MinPositions {
            min_positions: positions,
        };
        match host::request::<_, Box<serde_json::value::RawValue>>(client, &subject, &meta, &body)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(error = %e, "waiting for the read model");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => anyhow::bail!("the read model did not reach {positions:?}: {e}"),
        }
    }
}

/// How long the demo waits for the read model to catch up.
const START_WAIT: Duration = Duration::from_secs(30);

/// The demo's admin token id.
pub const DEMO_ADMIN_TOKEN: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0009_0000);
/// The demo's coordinator token id.
pub const DEMO_COORDINATOR_TOKEN: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0009_0001);
/// The demo's donor token id (for `DEMO-DONOR`).
pub const DEMO_DONOR_TOKEN: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0009_0002);

/// The demo's private seed: created on first start in `<data dir>/demo-tokens.seed` (readable by
/// its owner only), so every restart derives the same demo tokens and no secret is written down.
fn demo_seed(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let path = data_dir.join("demo-tokens.seed");
    match std::fs::read(&path) {
        Ok(seed) if !seed.is_empty() => return Ok(seed),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let seed = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(seed.as_bytes())?;
    file.sync_all()?;
    Ok(seed.into_bytes())
}

/// The demo's tokens, derived from its seed.
pub struct DemoTokens {
    pub admin: String,
    pub coordinator: String,
    pub donor: String,
}

/// Issues the demo's admin, coordinator and donor tokens through the tokens service (fixed ids,
/// command ids and day, so a restart records nothing new) and returns their secrets.
pub async fn tokens(settings: &Settings) -> anyhow::Result<DemoTokens> {
    let seed = demo_seed(&settings.data_dir)?;
    let client = host::connect_admin(settings, "tatrack-demo").await?;
    let issuer = Principal {
        id: "demo".to_owned(),
        role: Role::Admin,
        organisation: None,
        member_state: None,
    };
    let mut secrets = Vec::new();
    for (id, role, organisation, label, command) in [
        (
            DEMO_COORDINATOR_TOKEN,
            Role::Coordinator,
            None,
            "demo coordinator",
            90_100,
        ),
        (
            DEMO_DONOR_TOKEN,
            Role::Donor,
            Some(DEMO_DONOR),
            "demo donor",
            90_101,
        ),
        (DEMO_ADMIN_TOKEN, Role::Admin, None, "demo admin", 90_102),
    ] {
        let secret = tatrack_gateway::token::derived_secret(&seed, id);
        let token = host::NewToken {
            id,
            role,
            organisation,
            member_state: None,
            label,
            // A fixed day, so the body (and its command id) is the same on every start.
            on: Some(jiff::civil::date(2026, 1, 1)),
        };
        host::issue_token(&client, issuer.clone(), demo_id(command), &token, &secret)
            .await
            .map_err(|e| anyhow::anyhow!("issuing the demo {role} token: {e:#}"))?;
        secrets.push(secret);
    }
    let [coordinator, donor, admin] =
        <[String; 3]>::try_from(secrets).map_err(|_| anyhow::anyhow!("three demo tokens"))?;
    Ok(DemoTokens {
        admin,
        coordinator,
        donor,
    })
}

/// One of the demo's people: an active account with its fixed id, its name before the `@`, its
/// scope, and the first of its two fixed command ids (invite, then set the password).
struct DemoPerson {
    id: u128,
    who: &'static str,
    role: Role,
    organisation: Option<&'static str>,
    member_state: Option<&'static str>,
    command: u32,
}

/// The demo's people, one per role: fixed, so a restart records nothing new.
const DEMO_ACCOUNTS: [DemoPerson; 5] = [
    DemoPerson {
        id: 0x0193_0000_0000_7000_8000_0000_0009_0100,
        who: "admin",
        role: Role::Admin,
        organisation: None,
        member_state: None,
        command: 90_200,
    },
    DemoPerson {
        id: 0x0193_0000_0000_7000_8000_0000_0009_0101,
        who: "coordinator",
        role: Role::Coordinator,
        organisation: None,
        member_state: None,
        command: 90_202,
    },
    DemoPerson {
        id: 0x0193_0000_0000_7000_8000_0000_0009_0102,
        who: "donor",
        role: Role::Donor,
        organisation: Some(DEMO_DONOR),
        member_state: None,
        command: 90_204,
    },
    DemoPerson {
        id: 0x0193_0000_0000_7000_8000_0000_0009_0103,
        who: "focal-point",
        role: Role::StateFocalPoint,
        organisation: None,
        member_state: Some("KE"),
        command: 90_206,
    },
    DemoPerson {
        id: 0x0193_0000_0000_7000_8000_0000_0009_0104,
        who: "auditor",
        role: Role::Auditor,
        organisation: None,
        member_state: None,
        command: 90_208,
    },
];

/// Where the demo's people sign in: `<who>@demo.tatrack.example`.
pub const DEMO_EMAIL_DOMAIN: &str = "demo.tatrack.example";

/// The demo's console sign-ins: e-mail and password, derived from its seed.
pub struct DemoAccount {
    pub email: String,
    pub password: String,
}

/// Records the demo's accounts as the console would (an admin's invitation, then the password
/// set through the link it made) and returns their sign-ins. Everything is derived from the seed
/// (the invitation secret, the password, its hash's salt) and dated on fixed days, so every
/// start sends the very same commands under the same command ids: the services answer "already
/// done" and nothing is written down but the seed.
pub async fn accounts(settings: &Settings) -> anyhow::Result<Vec<DemoAccount>> {
    use tatrack_contract::commands::account::{Invite, SetPassword};
    use tatrack_gateway::password;
    let seed = demo_seed(&settings.data_dir)?;
    let client = host::connect_admin(settings, "tatrack-demo").await?;
    let admin = Principal {
        id: "demo".to_owned(),
        role: Role::Admin,
        organisation: None,
        member_state: None,
    };
    let mut out = Vec::new();
    for DemoPerson {
        id,
        who,
        role,
        organisation,
        member_state,
        command,
    } in DEMO_ACCOUNTS
    {
        let id = Uuid::from_u128(id);
        let email = format!("{who}@{DEMO_EMAIL_DOMAIN}");
        let secret = password::derived_invitation_secret(&seed, id);
        let invite = Invite {
            id: Some(id),
            name: format!("Demo {who}"),
            email: email.clone(),
            role,
            organisation: organisation.map(str::to_owned),
            member_state: member_state.map(str::to_owned),
            invitation_hash: password::invitation_hash(&secret),
            invitation_expires_on: d("2026-01-08"),
            on: Some(d("2026-01-01")),
        };
        send_account(&client, &admin, demo_id(command), "account_invite", &invite)
            .await
            .map_err(|e| anyhow::anyhow!("inviting the demo {who}: {e:#}"))?;
        let demo_password = password::derived_password(&seed, id);
        let set = tatrack_contract::commands::Addressed {
            id,
            body: SetPassword {
                invitation_hash: password::invitation_hash(&secret),
                password_hash: password::derived_hash(&demo_password, &seed, id),
                on: Some(d("2026-01-02")),
            },
        };
        // The gateway names whoever holds the link `account:<id>`; the demo holds it.
        let holder = Principal {
            id: format!("account:{id}"),
            role,
            organisation: organisation.map(str::to_owned),
            member_state: member_state.map(str::to_owned),
        };
        send_account(
            &client,
            &holder,
            demo_id(command + 1),
            "account_set_password",
            &set,
        )
        .await
        .map_err(|e| anyhow::anyhow!("setting the demo {who}'s password: {e:#}"))?;
        out.push(DemoAccount {
            email,
            password: demo_password,
        });
    }
    Ok(out)
}

async fn send_account(
    client: &async_nats::Client,
    principal: &Principal,
    command_id: Uuid,
    verb: &str,
    body: &impl Serialize,
) -> anyhow::Result<CommandReply> {
    let meta = RequestMeta {
        command_id: Some(command_id),
        ..RequestMeta::new(principal.clone())
    };
    let subject = subjects::command_subject("partners", verb);
    Ok(host::request(client, &subject, &meta, body).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_accounts_are_fixed_and_unique() {
        let ids: std::collections::BTreeSet<u128> = DEMO_ACCOUNTS.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), DEMO_ACCOUNTS.len());
        // Two command ids each, none used by the demo's tokens or its data.
        let data: std::collections::BTreeSet<Uuid> =
            commands().iter().map(|c| c.command_id).collect();
        let mut seen: std::collections::BTreeSet<u32> = [90_100, 90_101, 90_102].into();
        for a in &DEMO_ACCOUNTS {
            for n in [a.command, a.command + 1] {
                assert!(seen.insert(n), "command id {n} twice");
                assert!(!data.contains(&demo_id(n)), "command id {n} is the data's");
            }
        }
    }

    #[test]
    fn command_ids_are_fixed_and_unique() {
        let all = commands();
        let ids: std::collections::BTreeSet<Uuid> = all.iter().map(|c| c.command_id).collect();
        assert_eq!(ids.len(), all.len());
        // The assessments part keeps the command ids it always had.
        assert_eq!(all[0].command_id, demo_id(10_000));
        assert_eq!(all[0].verb, "assessment_plan");
        let first_new = all.iter().position(|c| c.service != "assessments").unwrap();
        assert_eq!(all[first_new].command_id, demo_id(20_000));
        assert!(all[first_new..].iter().all(|c| c.service != "assessments"));
        // Referrals are accepted by their parties, not by a coordinator.
        for c in &all {
            match c.verb {
                "referral_accept_by_partner" => assert_eq!(c.actor, DemoActor::Donor(DEMO_DONOR)),
                "referral_accept_by_state" => assert_eq!(c.actor, DemoActor::State("KE")),
                _ => assert_eq!(c.actor, DemoActor::Coordinator),
            }
        }
    }

    /// The demo's bodies as the services fingerprint them (verb and canonical JSON): a data
    /// directory loaded by an earlier tatrack must see the very same commands again under their
    /// fixed command ids, or the services refuse them as reused ids. Changing the demo on purpose
    /// means new ids and command ids, and this value.
    #[test]
    fn the_demo_commands_are_the_ones_already_recorded() {
        use sha2::Digest as _;
        let mut hash = sha2::Sha256::new();
        for c in commands() {
            hash.update(c.service.as_bytes());
            hash.update([0]);
            hash.update(c.verb.as_bytes());
            hash.update([0]);
            hash.update(c.command_id.as_bytes());
            hash.update(c.body.to_string().as_bytes());
            hash.update([0]);
        }
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "3e9bddef259504001a3dd7bd23eae9a8d18f65e07241c7ca562493828d8494c5"
        );
    }

    #[test]
    fn every_demo_verb_is_one_its_service_answers() {
        for c in commands() {
            let service = tatrack_contract::bus::Service::named(c.service).expect("a service");
            assert!(
                service.verbs().contains(&c.verb),
                "{}.{}",
                c.service,
                c.verb
            );
        }
    }
}
