//! The demo data set: five States at different points of the assessment cycle, their
//! recommendations and technical-assistance needs, and one consent to share. Every id and command
//! id is fixed, so loading it twice changes nothing (the services answer "already done").

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use uuid::Uuid;

use crate::cli::Settings;
use crate::client;

/// A fixed id that reads like a UUID v7: `0193dem0-...-<n>`.
pub fn demo_id(n: u32) -> Uuid {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
}

/// The organisation the demo donor token acts for (the partners service will register it).
pub const DEMO_DONOR: &str = "XM-DAC-41122";

/// `(verb, body)` in the order they must run.
pub fn commands() -> Vec<(&'static str, Value)> {
    let a = demo_id;
    let mut c: Vec<(&'static str, Value)> = Vec::new();
    let mut plan = |id: u32,
                    cc: &str,
                    kind: &str,
                    res: &[u32],
                    title: &str,
                    start: &str,
                    end: &str| {
        c.push(("assessment_plan", json!({"id": a(id), "member_state": cc, "kind": kind, "resolutions": res,
            "title": title, "visit_start": start, "visit_end": end, "classification": "restricted"})));
    };
    plan(
        1,
        "KE",
        "comprehensive_visit",
        &[1373, 2178, 2396],
        "Comprehensive assessment visit to Kenya",
        "2026-02-09",
        "2026-02-13",
    );
    plan(
        2,
        "JO",
        "focused_visit",
        &[2341, 2396],
        "Focused visit to Jordan: protection of critical infrastructure and soft targets",
        "2026-06-01",
        "2026-06-04",
    );
    plan(
        3,
        "NG",
        "follow_up_visit",
        &[1373, 2396],
        "Follow-up visit to Nigeria",
        "2027-01-18",
        "2027-01-22",
    );
    plan(
        4,
        "PH",
        "desk_review",
        &[1373, 2462],
        "Desk review of the Philippines: financing of terrorism",
        "2025-09-01",
        "2025-09-30",
    );
    plan(
        5,
        "TN",
        "comprehensive_visit",
        &[1373, 2178, 2396],
        "Comprehensive assessment visit to Tunisia",
        "2026-09-14",
        "2026-09-18",
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
        c.push((
            "recommendation_record",
            json!({"id": a(id), "assessment_id": a(assessment), "member_state": "",
            "theme": theme, "priority": priority, "text": text}),
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
        c.push(("need_identify", json!({"id": a(id), "member_state": cc, "recommendation_ids": rec_ids, "theme": theme,
            "modality": modality, "description": description, "beneficiary_institution": beneficiary,
            "estimated_cost": cost, "size": size, "priority": priority})));
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
        "audience": {"type": "organisations", "ids": [DEMO_DONOR]}, "until": null, "granted_on": "2026-06-12"})));
    // The Philippines shares all its needs with every donor.
    c.push((
        "sharing_grant_grant",
        json!({"id": a(202), "member_state": "PH", "scope": {"type": "all_needs"},
        "audience": {"type": "all_donors"}, "until": "2027-12-31", "granted_on": "2026-06-15"}),
    ));
    c
}

/// Sends the demo commands; returns how many wrote something new (0 when it was loaded before).
/// Each has a fixed command id.
pub async fn load(settings: &Settings) -> anyhow::Result<usize> {
    let client = client::connect(settings).await?;
    let mut actor = settings.actor.clone();
    actor.role = tatrack_domain::Role::Coordinator;
    let commands = commands();
    let mut new = 0;
    for (n, (verb, body)) in commands.iter().enumerate() {
        let meta = RequestMeta {
            command_id: Some(demo_id(10_000 + u32::try_from(n)?)),
            ..RequestMeta::new(actor.principal())
        };
        let subject = subjects::command_subject("assessments", verb);
        // Right after `tatrack up` starts, the service may not listen yet: wait for it, bounded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match rpc::request::<_, Value>(
                &client,
                &subject,
                &meta,
                body,
                std::time::Duration::from_secs(10),
            )
            .await
            {
                Ok(reply) => {
                    if reply["idempotent"] != Value::Bool(true) {
                        new += 1;
                    }
                    break;
                }
                Err(rpc::Error::NoResponders(_)) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => anyhow::bail!("demo command {n} ({verb}): {e}"),
            }
        }
    }
    Ok(new)
}
