//! Matching end to end: ranked suggestions with explanations (a regional offer included), an
//! ineligible offer with its reason, a donor's offer_match_list among shared needs only, the
//! allocation proposal, a suggestion accepted with `tatrack match accept`, the overlap it makes
//! with a second proposal (listed, and printed by `tatrack referral propose`), and bad input
//! refused by field. An offer in another currency is ineligible until a rate is recorded for the
//! matching date.
//!
//! Business dates: the needs and offers are recorded with dates in 2026; the offers stay valid
//! until 2032, so they are open on the tests' today (2031), the date matching and the CLI's
//! referrals default to.

use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::rpc::ErrorCode;
use tatrack_domain::{Principal, Role};
use tatrack_tests::gateway::Gateway;
use tatrack_tests::*;
use uuid::Uuid;

const DONOR_A: &str = "DONOR-A";
const DONOR_B: &str = "DONOR-B";

/// An agreed KE need for the BOR theme (training, for the Border Police Unit), shared with
/// `audience`.
pub(crate) async fn need(
    client: &async_nats::Client,
    priority: u8,
    cost: i64,
    officers: u64,
    audience: &[&str],
) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        client,
        &coordinator(),
        "need_identify",
        &json!({
            "id": id, "member_state": "KE", "recommendation_ids": [], "theme": "BOR",
            "modality": "training", "description": "Train border officers",
            "beneficiary_institution": "Border Police Unit", "estimated_cost": usd(cost),
            "size": { "measure": "officers trained", "quantity": officers }, "priority": priority,
            "on": "2026-06-01",
        }),
    )
    .await;
    ok(
        client,
        &focal_point("KE"),
        "need_agree_with_state",
        &moved(id, "2026-06-10"),
    )
    .await;
    ok(
        client,
        &focal_point("KE"),
        "sharing_grant_grant",
        &json!({
            "id": Uuid::now_v7(), "member_state": "KE", "scope": { "type": "need", "need_id": id },
            "audience": { "type": "organisations", "ids": audience }, "until": null,
            "on": "2026-06-12",
        }),
    )
    .await;
    id
}

/// A published offer of `organisation`, drafted on 2026-05-20 and published on 2026-06-01,
/// valid from 2026-01-01 until 2032-12-31 (so still open on the tests' today).
pub(crate) async fn offer(
    client: &async_nats::Client,
    organisation: &str,
    theme: &str,
    places: (&[&str], &[&str]),
    budget: Value,
    officers: u64,
) -> Uuid {
    let id = Uuid::now_v7();
    let who = donor(organisation);
    ok(client, &who, "offer_draft", &json!({
        "id": id, "organisation": organisation, "title": format!("{organisation} {theme} training"),
        "themes": [theme], "countries": places.0, "regions": places.1, "modalities": ["training"],
        "budget": budget, "capacity": { "measure": "officers trained", "quantity": officers },
        "valid_from": "2026-01-01", "valid_until": "2032-12-31", "languages": ["en"],
        "conditions": null, "on": "2026-05-20",
    }))
    .await;
    ok(client, &who, "offer_publish", &moved(id, "2026-06-01")).await;
    id
}

/// Asks a view until `ready` holds for its answer (the read model follows three streams).
async fn settled(
    client: &async_nats::Client,
    who: Principal,
    view: &str,
    body: Value,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    eventually(view, Duration::from_secs(30), || {
        let (who, body) = (who.clone(), body.clone());
        let ready = &ready;
        async move {
            let answer = query_as(client, who, view, &body).await.ok()?;
            ready(&answer).then_some(answer)
        }
    })
    .await
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_owned())
        .collect()
}

/// Runs the CLI as a coordinator signed in to `gw`.
async fn cli(gw: &Gateway, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::from(tatrack_tests::cli(
        env!("CARGO_BIN_EXE_tatrack-under-test"),
        &gw.base,
        Some(token),
    ))
    .args(args)
    .output()
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_and_offers_are_matched_allocated_accepted_and_overlaps_flagged() {
    let (h, services, client) = Harness::up().await;
    let client = &client;
    let gw = Gateway::start(&h).await;
    let (_, token) = issue_token(client, Role::Coordinator, None, None).await;
    gw.until_known(&token).await;

    for org in [DONOR_A, DONOR_B] {
        ok(
            client,
            &coordinator(),
            "organisation_register",
            &json!({
                "id": org, "name": format!("Organisation {org}"), "kind": "donor_government",
                "iati_type": "10", "iati_identifier": null, "country": null, "on": "2026-01-01",
            }),
        )
        .await;
    }
    // N1 (priority 1) is shared with both donors, N2 (priority 2) only with DONOR-B.
    let n1 = need(client, 1, 450_000, 200, &[DONOR_A, DONOR_B]).await;
    let n2 = need(client, 2, 100_000, 50, &[DONOR_B]).await;
    // O1 names Kenya; O2 covers it only through DAC region 1027 (Eastern Africa), with more to
    // give; O3 is for another theme; O4 would fit but is in euros, and no rate is recorded.
    let o1 = offer(client, DONOR_A, "BOR", (&["KE"], &[]), usd(300_000), 150).await;
    let o2 = offer(client, DONOR_B, "BOR", (&[], &["1027"]), usd(500_000), 250).await;
    let o3 = offer(client, DONOR_A, "CFT", (&["KE"], &[]), usd(100_000), 50).await;
    let o4 = offer(
        client,
        DONOR_B,
        "BOR",
        (&[], &["1027"]),
        money(100_000, "EUR"),
        100,
    )
    .await;

    // Ranked suggestions for N1 (as of the clock's today), each with its explanation; O3 left
    // out for its theme, O4 for its currency.
    let matches = settled(
        client,
        coordinator(),
        "need_match_list",
        json!({ "need_id": n1, "include_ineligible": true }),
        // Wait for all four offers, published: O3 and O4 (left out) may reach the read model
        // last, and a draft is left out for its status too.
        |a| {
            a["suggestions"].as_array().is_some_and(|s| s.len() == 2)
                && a["ineligible"].as_array().is_some_and(|l| {
                    l.len() == 2
                        && l.iter().all(|item| {
                            item["reasons"]
                                .as_array()
                                .is_some_and(|r| r.iter().all(|r| r["field"] != "status"))
                        })
                })
        },
    )
    .await;
    let suggestions = &matches["suggestions"];
    assert_eq!(
        ids(suggestions, "offer_id"),
        [o2.to_string(), o1.to_string()]
    );
    let criteria: Vec<&str> = suggestions[0]["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(
        criteria,
        [
            "theme",
            "place",
            "modality",
            "window",
            "money",
            "units",
            "language",
            "track_record",
            "priority"
        ]
    );
    // O2: place by region (10), all the money and units N1 lacks (15 + 15); O1: the country
    // itself (15), 300000 of 450000 (10) and 150 of 200 officers (11).
    assert_eq!(suggestions[0]["score"], 80, "{}", suggestions[0]);
    assert_eq!(suggestions[1]["score"], 76, "{}", suggestions[1]);
    let place = &suggestions[0]["explanation"][1];
    assert_eq!(place["points"], 10);
    assert!(
        place["detail"].as_str().unwrap().contains("1027"),
        "{place}"
    );
    for s in suggestions.as_array().unwrap() {
        let sum: u64 = s["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["points"].as_u64().unwrap())
            .sum();
        assert_eq!(s["score"], sum);
    }
    assert_eq!(
        suggestions[0]["referral_propose"]["share_money"],
        usd(450_000),
        "capped at what N1 lacks"
    );
    assert_eq!(suggestions[0]["referral_propose"]["share_units"], 200);
    let left = &matches["ineligible"];
    let mut left_out = ids(left, "offer_id");
    left_out.sort();
    let mut expected = vec![o3.to_string(), o4.to_string()];
    expected.sort();
    assert_eq!(left_out, expected);
    let reasons_of = |list: &Value, key: &str, id: Uuid| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|item| item[key] == id.to_string())
            .unwrap_or_else(|| panic!("{id} not in {list}"))["reasons"]
            .clone()
    };
    let o3_reasons = reasons_of(left, "offer_id", o3);
    assert_eq!(o3_reasons[0]["field"], "theme", "{left}");
    // A missing exchange rate makes the euro offer ineligible (the projects service would
    // refuse its share), with the command that records one for the matching date.
    let o4_reasons = reasons_of(left, "offer_id", o4);
    assert_eq!(o4_reasons.as_array().unwrap().len(), 1, "{o4_reasons}");
    assert_eq!(o4_reasons[0]["field"], "currency", "{o4_reasons}");
    let why = o4_reasons[0]["reason"].as_str().unwrap();
    assert!(
        why.starts_with(&format!(
            "no EUR→USD rate recorded (record one with: tatrack rates record --on {} --rate EUR=RATE",
            today()
        )),
        "{why}"
    );
    // Without include_ineligible, no list of the left out.
    let plain = query_as(
        client,
        coordinator(),
        "need_match_list",
        &json!({ "need_id": n1 }),
    )
    .await
    .unwrap();
    assert!(plain.get("ineligible").is_none());

    // A donor asks about its own offer: only the needs shared with it exist for it.
    let own = query_as(
        client,
        donor(DONOR_A),
        "offer_match_list",
        &json!({ "offer_id": o1, "include_ineligible": true }),
    )
    .await
    .unwrap();
    assert_eq!(ids(&own["suggestions"], "need_id"), [n1.to_string()]);
    assert_eq!(own["ineligible"], json!([]), "N2 is not even listed: {own}");
    // A coordinator sees N2 left out, because Kenya has not shared it with DONOR-A.
    let all = query_as(
        client,
        coordinator(),
        "offer_match_list",
        &json!({ "offer_id": o1, "include_ineligible": true }),
    )
    .await
    .unwrap();
    assert_eq!(ids(&all["suggestions"], "need_id"), [n1.to_string()]);
    assert_eq!(ids(&all["ineligible"], "need_id"), [n2.to_string()]);
    assert_eq!(all["ineligible"][0]["reasons"][0]["field"], "need_id");
    // Another donor's offer does not exist for DONOR-A.
    let hidden = remote(
        query_as(
            client,
            donor(DONOR_A),
            "offer_match_list",
            &json!({ "offer_id": o2 }),
        )
        .await,
    );
    assert_eq!(hidden.code, ErrorCode::NotFound);
    assert_eq!(hidden.field.as_deref(), Some("offer_id"));

    // The allocation: O2 gives N2 all it lacks and N1 the rest of its budget and capacity, O1
    // completes N1: both needs fully met (3 × 10000 + 2 × 10000 basis points).
    let plan = query_as(client, coordinator(), "allocation_proposal", &json!({}))
        .await
        .unwrap();
    assert_eq!(plan["value_bp"], 50_000, "{plan}");
    assert_eq!(plan["max_value_bp"], 50_000);
    let to_n2: Vec<&Value> = plan["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["need_id"] == n2.to_string())
        .collect();
    assert_eq!(to_n2.len(), 1);
    assert_eq!(to_n2[0]["offer_id"], o2.to_string());
    assert_eq!(to_n2[0]["share_money"], usd(100_000));
    assert_eq!(to_n2[0]["referral_propose"]["need_id"], n2.to_string());

    // Accept the best suggestion in one command: the referral exists, with the suggested share.
    let (success, out, err) = cli(
        &gw,
        &token,
        &[
            "match",
            "accept",
            "--need",
            &n1.to_string(),
            "--offer",
            &o2.to_string(),
        ],
    )
    .await;
    assert!(success, "{out}{err}");
    assert!(out.starts_with("ok: "), "{out}");
    assert!(!out.contains("overlap"), "nothing to overlap yet: {out}");
    let first: Uuid = out["ok: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let referral = settled(
        client,
        coordinator(),
        "referral_show",
        json!({ "id": first }),
        |_| true,
    )
    .await;
    assert_eq!(referral["need_id"], n1.to_string());
    assert_eq!(referral["offer_id"], o2.to_string());
    assert_eq!(referral["organisation"], DONOR_B);
    assert_eq!(referral["share_money"], usd(450_000));
    assert_eq!(referral["share_units"], 200);
    // O2 now has a pending referral for N1, so it is no longer suggested for it.
    let after = query_as(
        client,
        coordinator(),
        "need_match_list",
        &json!({ "need_id": n1, "include_ineligible": true }),
    )
    .await
    .unwrap();
    assert_eq!(ids(&after["suggestions"], "offer_id"), [o1.to_string()]);

    // A second referral for the same State, theme and beneficiary with an overlapping window:
    // the coordinator proposing it is told at once, and the overlap is listed.
    let (success, out, err) = cli(
        &gw,
        &token,
        &[
            "referral",
            "propose",
            "--need",
            &n1.to_string(),
            "--offer",
            &o1.to_string(),
            "--units",
            "50",
        ],
    )
    .await;
    assert!(success, "{out}{err}");
    assert!(out.contains("overlap alert: 1 item(s)"), "{out}");
    assert!(out.contains(&first.to_string()), "{out}");
    let second: Uuid = out["ok: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let rows = query_as(
        client,
        coordinator(),
        "overlap_list",
        &json!({ "member_state": "KE" }),
    )
    .await
    .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["theme"], "BOR");
    assert_eq!(rows[0]["beneficiary_institution"], "Border Police Unit");
    let mut pair = ids(&rows[0]["items"], "id");
    pair.sort();
    let mut expected = vec![first.to_string(), second.to_string()];
    expected.sort();
    assert_eq!(pair, expected);
    assert_eq!(rows[0]["items"][0]["kind"], "referral");
    // DONOR-A may see its own referral but not DONOR-B's: no row for it.
    let for_a = query_as(client, donor(DONOR_A), "overlap_list", &json!({}))
        .await
        .unwrap();
    assert_eq!(for_a, json!([]));
    // The State sees both (its own country's referrals).
    let for_kenya = query_as(
        client,
        focal_point("KE"),
        "overlap_list",
        &json!({ "id": second }),
    )
    .await
    .unwrap();
    assert_eq!(for_kenya.as_array().unwrap().len(), 1);

    // A rate table dated 2030-01-01 makes O4 eligible as of the clock's today: money compared
    // in the need's currency (both amounts and the table's date shown), the share proposed in
    // the offer's. As of a day before that table, it is still left out for its currency.
    ok(
        client,
        &coordinator(),
        "rate_table_record",
        &json!({
            "id": tatrack_projects::RATE_TABLE_ID, "on": "2030-01-01",
            "rates": [{ "currency": "EUR", "per_usd": { "numerator": 23, "denominator": 25 } }],
        }),
    )
    .await;
    let with_rate = settled(
        client,
        coordinator(),
        "need_match_list",
        json!({ "need_id": n1 }),
        |a| ids(&a["suggestions"], "offer_id").contains(&o4.to_string()),
    )
    .await;
    let o4_suggested = with_rate["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["offer_id"] == o4.to_string())
        .unwrap();
    let money = o4_suggested["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "money")
        .unwrap();
    let detail = money["detail"].as_str().unwrap();
    assert!(
        detail.contains("100000.00 EUR")
            && detail.contains("450000.00 USD")
            && detail.contains("rates of 2030-01-01"),
        "{money}"
    );
    assert_eq!(
        o4_suggested["referral_propose"]["share_money"],
        tatrack_tests::money(100_000, "EUR"),
        "{o4_suggested}"
    );
    let before_the_table = query_as(
        client,
        coordinator(),
        "need_match_list",
        &json!({ "need_id": n1, "as_of": "2029-12-31", "include_ineligible": true }),
    )
    .await
    .unwrap();
    let o4_then = reasons_of(&before_the_table["ineligible"], "offer_id", o4);
    assert_eq!(o4_then[0]["field"], "currency", "{before_the_table}");
    assert!(
        o4_then[0]["reason"]
            .as_str()
            .unwrap()
            .contains("tatrack rates record --on 2029-12-31"),
        "{o4_then}"
    );

    // Bad input: every refusal names its field.
    let unknown = Uuid::now_v7();
    let tomorrow = today().tomorrow().unwrap().to_string();
    for (view, body, code, field) in [
        (
            "need_match_list",
            json!({ "need_id": n1, "as_of": tomorrow }),
            ErrorCode::Invalid,
            "as_of",
        ),
        ("need_match_list", json!({}), ErrorCode::Invalid, "need_id"),
        (
            "need_match_list",
            json!({ "need_id": unknown }),
            ErrorCode::NotFound,
            "need_id",
        ),
        (
            "need_match_list",
            json!({ "need_id": n1, "include_ineligible": "maybe" }),
            ErrorCode::Invalid,
            "include_ineligible",
        ),
        (
            "need_match_list",
            json!({ "need_id": n1, "language": "ENG" }),
            ErrorCode::Invalid,
            "language",
        ),
        (
            "need_match_list",
            json!({ "need_id": n1, "colour": "red" }),
            ErrorCode::Invalid,
            "colour",
        ),
        (
            "offer_match_list",
            json!({}),
            ErrorCode::Invalid,
            "offer_id",
        ),
        (
            "offer_match_list",
            json!({ "offer_id": unknown }),
            ErrorCode::NotFound,
            "offer_id",
        ),
        (
            "overlap_list",
            json!({ "id": "x" }),
            ErrorCode::Invalid,
            "id",
        ),
        (
            "allocation_proposal",
            json!({ "priority": "high" }),
            ErrorCode::Invalid,
            "priority",
        ),
    ] {
        let error = remote(query_as(client, coordinator(), view, &body).await);
        assert_eq!(
            (error.code, error.field.as_deref()),
            (code, Some(field)),
            "{view} {body}: {error:?}"
        );
    }
    // A malformed id is refused; which field it blames is up to the bus's `blame_field`, which
    // cannot yet tell from the uuid crate's message (it quotes one character).
    let error = remote(
        query_as(
            client,
            coordinator(),
            "need_match_list",
            &json!({ "need_id": "not-a-uuid" }),
        )
        .await,
    );
    assert_eq!(error.code, ErrorCode::Invalid);
    assert!(error.message.contains("UUID"), "{error:?}");
    // A donor asking about a need not shared with it: not found.
    let error = remote(
        query_as(
            client,
            donor(DONOR_A),
            "need_match_list",
            &json!({ "need_id": n2 }),
        )
        .await,
    );
    assert_eq!(error.code, ErrorCode::NotFound);

    gw.stop().await;
    services.stop().await;
}
