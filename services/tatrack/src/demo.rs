//! The demo data set: five States at different points of the assessment cycle, their
//! recommendations and technical-assistance needs, consents to share; then organisations, two open
//! offers, an exchange-rate table, a referral of Kenya's border-police training need accepted by
//! the donor and by Kenya and active in a project (with transactions, milestones, a result and a
//! validated progress report), and a second referral still waiting for its partner. Every id and
//! command id is fixed, so loading it twice changes nothing (the services answer "already done").

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tatrack_bus::rpc::RequestMeta;
use tatrack_bus::subjects;
use tatrack_contract::CommandReply;
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::cli::Settings;
use crate::host;

/// A fixed id that reads like a UUID v7: `0193dem0-...-<n>`.
pub fn demo_id(n: u32) -> Uuid {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
}

/// The organisation the demo donor token acts for (registered by the demo).
pub const DEMO_DONOR: &str = "DEMO-DONOR";

/// The assessments service's share of the demo, `(verb, body)` in the order they must run.
/// Their command ids are `demo_id(10_000 + index)`.
pub fn assessment_commands() -> Vec<(&'static str, Value)> {
    let a = demo_id;
    let mut c: Vec<(&'static str, Value)> = Vec::new();
    // Every fact carries the business date it happened on: the demo is typed in today, but
    // its history spans the year before.
    let mut plan = |id: u32,
                    cc: &str,
                    kind: &str,
                    res: &[u32],
                    title: &str,
                    (start, end): (&str, &str),
                    on: &str| {
        c.push(("assessment_plan", json!({"id": a(id), "member_state": cc, "kind": kind, "resolutions": res,
            "title": title, "visit_start": start, "visit_end": end, "classification": "restricted", "on": on})));
    };
    plan(
        1,
        "KE",
        "comprehensive_visit",
        &[1373, 2178, 2396],
        "Comprehensive assessment visit to Kenya",
        ("2026-02-09", "2026-02-13"),
        "2026-01-12",
    );
    plan(
        2,
        "JO",
        "focused_visit",
        &[2341, 2396],
        "Focused visit to Jordan: protection of critical infrastructure and soft targets",
        ("2026-06-01", "2026-06-04"),
        "2026-04-01",
    );
    plan(
        3,
        "NG",
        "follow_up_visit",
        &[1373, 2396],
        "Follow-up visit to Nigeria",
        ("2027-01-18", "2027-01-22"),
        "2026-10-01",
    );
    plan(
        4,
        "PH",
        "desk_review",
        &[1373, 2462],
        "Desk review of the Philippines: financing of terrorism",
        ("2025-09-01", "2025-09-30"),
        "2025-08-01",
    );
    plan(
        5,
        "TN",
        "comprehensive_visit",
        &[1373, 2178, 2396],
        "Comprehensive assessment visit to Tunisia",
        ("2026-09-14", "2026-09-18"),
        "2026-07-01",
    );
    let mut step =
        |verb: &'static str, id: u32, on: &str| c.push((verb, json!({"id": a(id), "on": on})));
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
            json!({"id": a(id), "assessment_id": a(assessment), "member_state": "",
            "theme": theme, "priority": priority, "text": text, "on": on}),
        ));
    }
    c.push(("recommendation_update_status", json!({"id": a(21), "to": "partially_implemented", "on": "2026-05-20", "source": "state_response",
        "reason": "risk assessment completed; oversight framework still in draft"})));
    c.push(("recommendation_update_status", json!({"id": a(22), "to": "implemented", "on": "2026-05-20", "source": "state_response", "reason": null})));
    c.push(("recommendation_update_status", json!({"id": a(11), "to": "in_progress", "on": "2026-09-01", "source": "coordinator", "reason": null})));

    let money = |amount: i64, cur: &str| json!({"amount_minor": amount * 100, "currency": cur});
    let units = |q: u64, m: &str| json!({"measure": m, "quantity": q});
    // (id, State, recommendations, theme, modality, description, beneficiary, cost, size, priority)
    type DemoNeed = (
        u32,
        &'static str,
        &'static [u32],
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Value,
        Value,
        u8,
    );
    let needs: [DemoNeed; 6] = [
        (
            101,
            "KE",
            &[11],
            "BOR",
            "training",
            "Train 200 border police officers in traveller screening and document fraud detection at the Somali border crossings.",
            "Kenya Police Service, Border Police Unit",
            money(450_000, "USD"),
            units(200, "officers trained"),
            1,
        ),
        (
            102,
            "KE",
            &[11],
            "BOR",
            "equipment",
            "Connect five land border posts to INTERPOL I-24/7 with mobile screening kits.",
            "Department of Immigration Services",
            money(300_000, "USD"),
            Value::Null,
            1,
        ),
        (
            103,
            "KE",
            &[12],
            "STP",
            "workshop",
            "National workshop on soft-target protection with stadium, mall and transport operators.",
            "National Counter Terrorism Centre",
            money(60_000, "USD"),
            units(80, "participants"),
            1,
        ),
        (
            104,
            "KE",
            &[13],
            "LEG",
            "legislative_drafting",
            "Expert support to draft amendments criminalising travel for terrorist purposes.",
            "Office of the Attorney General",
            Value::Null,
            Value::Null,
            2,
        ),
        (
            105,
            "PH",
            &[21],
            "CFT",
            "mentoring",
            "Mentor the financial intelligence unit on risk-based supervision of non-profit organisations.",
            "Anti-Money Laundering Council",
            money(120_000, "EUR"),
            units(12, "supervisors mentored"),
            1,
        ),
        (
            106,
            "JO",
            &[31],
            "CIP",
            "expert_deployment",
            "Deploy two experts to design protection plans and exercises for water and energy infrastructure.",
            "Ministry of Interior, Crisis Management Centre",
            money(180_000, "EUR"),
            Value::Null,
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
        c.push(("need_identify", json!({"id": a(id), "member_state": cc, "recommendation_ids": rec_ids, "theme": theme,
            "modality": modality, "description": description, "beneficiary_institution": beneficiary,
            "estimated_cost": cost, "size": size, "priority": priority, "on": on})));
    }
    for (id, on) in [
        (101, "2026-06-10"),
        (102, "2026-06-10"),
        (103, "2026-06-10"),
        (105, "2026-06-15"),
    ] {
        c.push((
            "need_agree_with_state",
            json!({"id": a(id), "on": on, "reason": null}),
        ));
    }
    // Kenya shares its border-police training need with the demo donor only; the others stay private.
    c.push(("sharing_grant_grant", json!({"id": a(201), "member_state": "KE", "scope": {"type": "need", "need_id": a(101)},
        "audience": {"type": "organisations", "ids": [DEMO_DONOR]}, "until": null, "on": "2026-06-12"})));
    // The Philippines shares all its needs with every donor.
    c.push((
        "sharing_grant_grant",
        json!({"id": a(202), "member_state": "PH", "scope": {"type": "all_needs"},
        "audience": {"type": "all_donors"}, "until": "2027-12-31", "on": "2026-06-15"}),
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
    let a = demo_id;
    let money = |amount: i64, cur: &str| json!({"amount_minor": amount * 100, "currency": cur});
    let mut c: Vec<Step> = Vec::new();
    let mut partners =
        |verb: &'static str, body: Value| c.push(("partners", verb, body, Coordinator));

    // The registry: the demo donor, the implementing partner and a Kenyan ministry.
    partners(
        "organisation_register",
        json!({"id": DEMO_DONOR, "name": "Demo donor government (foreign ministry)",
        "kind": "donor_government", "iati_type": "10", "iati_identifier": null, "country": null,
        "on": "2025-12-01"}),
    );
    partners(
        "organisation_register",
        json!({"id": DEMO_PARTNER, "name": "United Nations Office of Counter-Terrorism",
        "kind": "un_entity", "iati_type": "40", "iati_identifier": null, "country": null,
        "on": "2025-12-01"}),
    );
    partners(
        "organisation_register",
        json!({"id": "KE-MOI", "name": "Kenya Ministry of Interior and National Administration",
        "kind": "member_state_body", "iati_type": "10", "iati_identifier": null, "country": "KE",
        "on": "2025-12-01"}),
    );

    // Two open offers from the donor: border-police training in Kenya (in USD, 150 officers), and
    // mentoring on countering the financing of terrorism in the Philippines (in EUR).
    partners(
        "offer_draft",
        json!({"id": a(301), "organisation": DEMO_DONOR,
        "title": "Border security training for East Africa",
        "themes": ["BOR"], "countries": ["KE"], "regions": [], "modalities": ["training"],
        "budget": money(300_000, "USD"), "capacity": {"measure": "officers trained", "quantity": 150},
        "valid_from": "2026-01-01", "valid_until": "2027-12-31", "languages": ["en"],
        "conditions": "Trainees are nominated by the State; courses run in-country.",
        "on": "2026-01-02"}),
    );
    partners(
        "offer_publish",
        json!({"id": a(301), "on": "2026-01-05", "reason": null}),
    );
    partners(
        "offer_draft",
        json!({"id": a(302), "organisation": DEMO_DONOR,
        "title": "Mentoring financial intelligence units on non-profit sector oversight",
        "themes": ["CFT"], "countries": ["PH"], "regions": [], "modalities": ["mentoring"],
        "budget": money(200_000, "EUR"), "capacity": {"measure": "supervisors mentored", "quantity": 20},
        "valid_from": "2026-03-01", "valid_until": "2027-12-31", "languages": ["en"],
        "conditions": null, "on": "2026-02-20"}),
    );
    partners(
        "offer_publish",
        json!({"id": a(302), "on": "2026-03-01", "reason": null}),
    );

    let mut projects =
        |verb: &'static str, body: Value, actor: DemoActor| c.push(("projects", verb, body, actor));
    projects(
        "rate_table_record",
        json!({"id": tatrack_projects::RATE_TABLE_ID, "on": "2026-01-01",
        "rates": [{"currency": "EUR", "per_usd": {"numerator": 23, "denominator": 25}}]}),
        Coordinator,
    );

    // Kenya's border-police training need (shared with the donor) meets the Kenyan offer; the
    // donor and then Kenya accept, and the referral starts the project.
    projects(
        "referral_propose",
        json!({"id": a(401), "need_id": a(101), "offer_id": a(301),
        "member_state": "KE", "organisation": DEMO_DONOR,
        "share_money": money(250_000, "USD"), "share_units": 150, "on": "2026-06-18"}),
        Coordinator,
    );
    projects(
        "referral_refer",
        json!({"id": a(401), "on": "2026-06-20", "reason": null}),
        Coordinator,
    );
    projects(
        "referral_accept_by_partner",
        json!({"id": a(401), "on": "2026-06-25", "reason": null}),
        Donor(DEMO_DONOR),
    );
    projects(
        "referral_accept_by_state",
        json!({"id": a(401), "on": "2026-06-28", "reason": null}),
        State("KE"),
    );
    let dac = tatrack_domain::codes::theme("BOR")
        .map_or_else(|| "15210".to_owned(), |t| t.nearest_dac5.clone());
    projects(
        "project_create",
        json!({"id": a(501), "iati_identifier": "DEMO-DONOR-TATRACK-001",
        "title": "Traveller screening training for Kenya's Border Police Unit",
        "description": "Five in-country courses on traveller screening against INTERPOL databases and document fraud detection at the Somali border crossings.",
        "recipient_country": "KE", "theme": "BOR", "dac_sector": dac,
        "participating": [{"organisation": DEMO_DONOR, "role": "1"}, {"organisation": "KE-MOI", "role": "2"},
                          {"organisation": DEMO_PARTNER, "role": "4"}],
        "planned_start": "2026-07-01", "planned_end": "2027-06-30", "budget": money(250_000, "USD"),
        "needs": [a(101)], "referrals": [], "on": "2026-06-29"}),
        Coordinator,
    );
    projects(
        "referral_activate",
        json!({"id": a(401), "on": "2026-07-01", "project_id": a(501), "reason": null}),
        Coordinator,
    );
    // Activating joins the referral to the project; joining it again explicitly is a no-op (a
    // demo loaded by an older release relies on it).
    projects(
        "project_join_referral",
        json!({"id": a(501), "referral_id": a(401), "need_id": a(101), "on": "2026-07-01"}),
        Coordinator,
    );
    projects(
        "project_change_status",
        json!({"id": a(501), "to": "2", "on": "2026-07-01", "reason": "first course scheduled"}),
        Coordinator,
    );
    projects(
        "project_add_transaction",
        json!({"id": a(501), "transaction_id": a(511), "kind": "commitment",
        "value": money(250_000, "USD"), "on": "2026-07-01", "provider": DEMO_DONOR, "receiver": DEMO_PARTNER,
        "description": "Grant agreement"}),
        Coordinator,
    );
    projects(
        "project_add_transaction",
        json!({"id": a(501), "transaction_id": a(512), "kind": "disbursement",
        "value": money(100_000, "USD"), "on": "2026-07-15", "provider": DEMO_DONOR, "receiver": DEMO_PARTNER,
        "description": "First tranche"}),
        Coordinator,
    );
    projects(
        "project_add_milestone",
        json!({"id": a(501), "milestone_id": a(521),
        "title": "First cohort of 50 officers trained", "due": "2026-09-30", "on": "2026-07-01"}),
        Coordinator,
    );
    projects(
        "project_complete_milestone",
        json!({"id": a(501), "milestone_id": a(521), "on": "2026-09-25"}),
        Coordinator,
    );
    projects(
        "project_add_milestone",
        json!({"id": a(501), "milestone_id": a(522),
        "title": "Second cohort of 50 officers trained", "due": "2027-01-31", "on": "2026-07-01"}),
        Coordinator,
    );
    projects(
        "project_add_result",
        json!({"id": a(501), "result_id": a(531),
        "title": "Border police screen travellers against INTERPOL databases",
        "indicators": [{"indicator_id": a(532), "title": "Officers trained", "measure": "1", "baseline": 0, "target": 150}],
        "on": "2026-07-01"}),
        Coordinator,
    );
    projects(
        "project_record_indicator_actual",
        json!({"id": a(501), "result_id": a(531), "indicator_id": a(532),
        "value": 50, "on": "2026-09-25"}),
        Coordinator,
    );
    projects(
        "progress_report_draft",
        json!({"id": a(541), "project_id": a(501),
        "period_start": "2026-07-01", "period_end": "2026-09-30",
        "narrative": "First course delivered in Garissa to 50 officers; the second is scheduled for January.",
        "actuals": [{"result_id": a(531), "indicator_id": a(532), "value": 50}], "on": "2026-10-01"}),
        Coordinator,
    );
    projects(
        "progress_report_submit",
        json!({"id": a(541), "on": "2026-10-05", "reason": null}),
        Coordinator,
    );
    projects(
        "progress_report_validate",
        json!({"id": a(541), "on": "2026-10-12", "reason": null}),
        Coordinator,
    );

    // The Philippines' mentoring need (shared with every donor) is referred to the CFT offer and
    // waits for the donor's answer.
    projects(
        "referral_propose",
        json!({"id": a(402), "need_id": a(105), "offer_id": a(302),
        "member_state": "PH", "organisation": DEMO_DONOR,
        "share_money": money(60_000, "EUR"), "share_units": 6, "on": "2026-10-30"}),
        Coordinator,
    );
    projects(
        "referral_refer",
        json!({"id": a(402), "on": "2026-11-02", "reason": null}),
        Coordinator,
    );
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

#[cfg(test)]
mod tests {
    use super::*;

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
