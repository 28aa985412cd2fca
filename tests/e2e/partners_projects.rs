//! The partners and projects services end to end, with the assessments service and the read
//! model: a need goes from identified to partially covered through an offer, a referral and a
//! project with money, results and a validated progress report; every refusal names its field
//! and writes nothing; each principal may do (and see) only its own part.
//!
//! Every fact carries a business date (`on`) before the tests' clock's today (2031): the
//! creating commands are dated before the moves that follow them, since dates never go back
//! within an aggregate and a command without `on` is dated today.

use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, ErrorCode};
use tatrack_domain::{Principal, Role};
use tatrack_tests::*;
use uuid::Uuid;

pub(crate) const DONOR_A: &str = "DONOR-A";
const DONOR_B: &str = "DONOR-B";
const IMPL_B: &str = "IMPL-B";

/// Harmless commands that find the next position of each service's log.
struct Probe {
    /// A project of its own, that takes one more milestone per probe.
    project: Uuid,
}

impl Probe {
    async fn new(client: &async_nats::Client) -> Self {
        let project = Uuid::now_v7();
        ok(
            client,
            &coordinator(),
            "project_create",
            &project_body(project, "KE", vec![], &[(IMPL_B, "1"), (IMPL_B, "4")]),
        )
        .await;
        Self { project }
    }

    async fn next_position(&self, client: &async_nats::Client, service: &str) -> u64 {
        let (verb, body) = match service {
            "assessments" => ("assessment_plan", plan_body(Uuid::now_v7(), "KE")),
            "partners" => (
                "organisation_register",
                organisation_body(
                    &format!("PROBE-{}", Uuid::now_v7().simple()),
                    "civil_society",
                    "22",
                ),
            ),
            "projects" => (
                "project_add_milestone",
                json!({ "id": self.project, "milestone_id": Uuid::now_v7(),
                        "title": "Probe milestone", "due": "2027-06-30", "on": PROJECT_CREATED }),
            ),
            other => panic!("no probe for {other}"),
        };
        last_position(&ok(client, &coordinator(), verb, &body).await) + 1
    }
}

/// The day the tests' projects are created: before their referrals are activated into them
/// (2026-09-01) and before their first transaction (2026-09-15).
const PROJECT_CREATED: &str = "2026-08-20";
/// The day the tests' referrals are proposed: after the needs were shared (2026-06-12) and
/// before they are referred (2026-07-01).
const PROPOSED: &str = "2026-06-20";

fn organisation_body(id: &str, kind: &str, iati_type: &str) -> Value {
    json!({ "id": id, "name": format!("Organisation {id}"), "kind": kind, "iati_type": iati_type,
            "iati_identifier": null, "country": null, "on": "2026-01-02" })
}

/// An offer drafted on 2026-05-01. Its window runs past the tests' clock's today (2031), so the
/// partners service's own expiry (of offers whose window ended before today) leaves it open.
pub(crate) fn offer_body(id: Uuid, organisation: &str, theme: &str, country: &str) -> Value {
    json!({ "id": id, "organisation": organisation, "title": "Border officer training",
            "themes": [theme], "countries": [country], "regions": [], "modalities": ["training"],
            "budget": usd(300_000), "capacity": { "measure": "officers trained", "quantity": 150 },
            "valid_from": "2026-01-01", "valid_until": "2032-12-31", "languages": ["en"],
            "conditions": null, "on": "2026-05-01" })
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "call sites read better passing vec![...] inline"
)]
fn project_body(
    id: Uuid,
    country: &str,
    needs: Vec<Uuid>,
    participating: &[(&str, &str)],
) -> Value {
    let participating: Vec<Value> = participating
        .iter()
        .map(|(organisation, role)| json!({ "organisation": organisation, "role": role }))
        .collect();
    json!({ "id": id, "iati_identifier": format!("XM-TATRACK-{}", id.simple()),
            "title": "Border management training", "description": "Training of border officers",
            "recipient_country": country, "theme": "BOR", "dac_sector": "15210",
            "participating": participating, "planned_start": "2026-09-01",
            "planned_end": "2027-08-31", "budget": usd(100_000), "needs": needs, "referrals": [],
            "on": PROJECT_CREATED })
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "call sites read better passing json!(...) inline"
)]
fn propose_body(need: Uuid, offer: Uuid, share_money: Value, share_units: Value) -> Value {
    json!({ "id": Uuid::now_v7(), "need_id": need, "offer_id": offer, "member_state": "KE",
            "organisation": DONOR_A, "share_money": share_money, "share_units": share_units,
            "on": PROPOSED })
}

/// An assessment planned and adopted for `country`, with one BOR recommendation.
pub(crate) async fn recommendation(client: &async_nats::Client, country: &str) -> Uuid {
    let assessment = Uuid::now_v7();
    ok(
        client,
        &coordinator(),
        "assessment_plan",
        &plan_body(assessment, country),
    )
    .await;
    for (verb, on) in [
        ("assessment_mark_conducted", "2026-03-06"),
        ("assessment_send_draft", "2026-04-01"),
        ("assessment_adopt", "2026-05-15"),
    ] {
        ok(
            client,
            &coordinator(),
            verb,
            &json!({ "id": assessment, "on": on }),
        )
        .await;
    }
    let recommendation = Uuid::now_v7();
    ok(
        client,
        &coordinator(),
        "recommendation_record",
        &json!({ "id": recommendation, "assessment_id": assessment, "member_state": "",
                 "theme": "BOR", "priority": 1,
                 "text": "Train border police in traveller screening.", "on": "2026-05-15" }),
    )
    .await;
    recommendation
}

/// A KE need (training, 450000.00 USD, 200 officers trained) for `recommendation`, identified
/// on 2026-05-20.
pub(crate) async fn identify_need(
    client: &async_nats::Client,
    recommendation: Uuid,
    theme: &str,
) -> Uuid {
    let need = Uuid::now_v7();
    ok(
        client,
        &coordinator(),
        "need_identify",
        &json!({ "id": need, "member_state": "KE", "recommendation_ids": [recommendation],
                 "theme": theme, "modality": "training", "description": "Train 200 border officers",
                 "beneficiary_institution": "Border Police Unit", "estimated_cost": usd(450_000),
                 "size": { "measure": "officers trained", "quantity": 200 }, "priority": 1,
                 "on": "2026-05-20" }),
    )
    .await;
    need
}

pub(crate) async fn agree(client: &async_nats::Client, need: Uuid) -> Value {
    ok(
        client,
        &focal_point("KE"),
        "need_agree_with_state",
        &moved(need, "2026-06-10"),
    )
    .await
}

pub(crate) async fn share(
    client: &async_nats::Client,
    need: Uuid,
    organisations: &[&str],
) -> Value {
    ok(
        client,
        &focal_point("KE"),
        "sharing_grant_grant",
        &json!({ "id": Uuid::now_v7(), "member_state": "KE",
                 "scope": { "type": "need", "need_id": need },
                 "audience": { "type": "organisations", "ids": organisations },
                 "until": null, "on": "2026-06-12" }),
    )
    .await
}

pub(crate) async fn register(
    client: &async_nats::Client,
    id: &str,
    kind: &str,
    iati_type: &str,
) -> Value {
    ok(
        client,
        &coordinator(),
        "organisation_register",
        &organisation_body(id, kind, iati_type),
    )
    .await
}

/// An offer drafted by its organisation; published unless `publish` is false.
pub(crate) async fn offer(
    client: &async_nats::Client,
    body: Value,
    publish: bool,
) -> (Uuid, Value) {
    let id: Uuid = serde_json::from_value(body["id"].clone()).unwrap();
    let who = donor(body["organisation"].as_str().unwrap());
    let mut reply = ok(client, &who, "offer_draft", &body).await;
    if publish {
        reply = ok(client, &who, "offer_publish", &moved(id, "2026-06-01")).await;
    }
    (id, reply)
}

/// Proposes and refers a referral of `share` of `need` to `offer` (DONOR-A's); returns its id.
pub(crate) async fn referred(
    client: &async_nats::Client,
    need: Uuid,
    offer: Uuid,
    share_money: Value,
    share_units: Value,
) -> Uuid {
    let body = propose_body(need, offer, share_money, share_units);
    let id: Uuid = serde_json::from_value(body["id"].clone()).unwrap();
    ok(client, &coordinator(), "referral_propose", &body).await;
    ok(
        client,
        &coordinator(),
        "referral_refer",
        &moved(id, "2026-07-01"),
    )
    .await;
    id
}

/// Where the refusal tests start: a KE recommendation, DONOR-A, DONOR-B and IMPL-B registered
/// (and seen by the read model), and a probe.
async fn registered(client: &async_nats::Client) -> (Uuid, Probe) {
    let rec = recommendation(client, "KE").await;
    register(client, DONOR_A, "donor_government", "10").await;
    register(client, DONOR_B, "donor_government", "10").await;
    let registered = register(client, IMPL_B, "un_entity", "40").await;
    settle(client, &[("partners", last_position(&registered))]).await;
    (rec, Probe::new(client).await)
}

/// A progress report drafted by `who` and submitted on 2026-12-01.
async fn submitted(client: &async_nats::Client, who: &Principal, draft: &Value) {
    ok(client, who, "progress_report_draft", draft).await;
    let id: Uuid = serde_json::from_value(draft["id"].clone()).unwrap();
    ok(
        client,
        who,
        "progress_report_submit",
        &moved(id, "2026-12-01"),
    )
    .await;
}

/// Waits until the read model (and so each stream) holds these positions of these services.
async fn settle(client: &async_nats::Client, positions: &[(&str, u64)]) {
    let min: serde_json::Map<String, Value> = positions
        .iter()
        .map(|(service, position)| ((*service).to_owned(), json!(position)))
        .collect();
    eventually(
        "the read model to reach the positions",
        Duration::from_secs(20),
        || {
            let min = min.clone();
            async move {
                query_as(
                    client,
                    coordinator(),
                    "organisation_list",
                    &json!({ "min_positions": min }),
                )
                .await
                .ok()
            }
        },
    )
    .await;
}

async fn show(
    client: &async_nats::Client,
    who: Principal,
    view: &str,
    id: &dyn std::fmt::Display,
) -> Value {
    query_as(client, who, view, &json!({ "id": id.to_string() }))
        .await
        .unwrap_or_else(|e| panic!("{view} {id}: {e:?}"))
}

/// One refusal that `check` collects instead of stopping at the first: the code, the field
/// (when given) and that the service's log did not move.
struct Refusals<'a> {
    client: &'a async_nats::Client,
    probe: &'a Probe,
    failures: Vec<String>,
}

impl<'a> Refusals<'a> {
    fn new(client: &'a async_nats::Client, probe: &'a Probe) -> Self {
        Self {
            client,
            probe,
            failures: Vec::new(),
        }
    }

    /// A refusal as forbidden (no field).
    async fn forbidden(&mut self, case: &str, who: &Principal, verb: &str, body: &Value) {
        self.check(case, who, verb, body, ErrorCode::Forbidden, None)
            .await;
    }

    /// A refusal as invalid, naming `field`.
    async fn invalid(
        &mut self,
        case: &str,
        who: &Principal,
        verb: &str,
        body: &Value,
        field: &str,
    ) {
        self.check(case, who, verb, body, ErrorCode::Invalid, Some(field))
            .await;
    }

    async fn check(
        &mut self,
        case: &str,
        who: &Principal,
        verb: &str,
        body: &Value,
        code: ErrorCode,
        field: Option<&str>,
    ) {
        let service = service_of(verb);
        let before = self.probe.next_position(self.client, service).await;
        let result = send(self.client, who, verb, body).await;
        let after = self.probe.next_position(self.client, service).await;
        match result {
            Err(rpc::Error::Remote(error)) => {
                if error.code != code || (field.is_some() && error.field.as_deref() != field) {
                    self.failures.push(format!(
                        "{case}: {verb} as {}: expected {code:?} field {field:?}, got {error:?}\n    body: {body}",
                        who.role
                    ));
                }
            }
            other => self.failures.push(format!(
                "{case}: {verb} as {}: expected {code:?} field {field:?}, got {other:?}\n    body: {body}",
                who.role
            )),
        }
        if after != before + 1 {
            self.failures.push(format!(
                "{case}: {verb} wrote to the {service} log (next position {before} before, {} after the probe)",
                after - 1
            ));
        }
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} refusal case(s) failed:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_is_covered_through_an_offer_a_referral_and_a_project() {
    let (_h, services, client) = Harness::up().await;
    let client = &client;
    let a = donor(DONOR_A);
    let kenya = focal_point("KE");

    let rec = recommendation(client, "KE").await;
    let need = identify_need(client, rec, "BOR").await;
    agree(client, need).await;
    register(client, DONOR_A, "donor_government", "10").await;
    register(client, IMPL_B, "un_entity", "40").await;
    let (offer_id, published) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        true,
    )
    .await;
    let shared = share(client, need, &[DONOR_A]).await;
    // The projects service decides on its view of the assessments and partners streams; whether it
    // sees a write acknowledged a moment ago is the concern of
    // `a_command_sees_what_another_service_has_just_acknowledged`, not of this test.
    settle(
        client,
        &[
            ("assessments", last_position(&shared)),
            ("partners", last_position(&published)),
        ],
    )
    .await;

    // The referral: proposed and referred by the coordinator, accepted by the partner, then the State.
    let referral = referred(client, need, offer_id, usd(100_000), json!(50)).await;
    ok(
        client,
        &a,
        "referral_accept_by_partner",
        &moved(referral, "2026-07-02"),
    )
    .await;
    ok(
        client,
        &kenya,
        "referral_accept_by_state",
        &moved(referral, "2026-07-03"),
    )
    .await;

    // Coverage and commitment are derived and reach the read model.
    let shown = eventually(
        "need coverage in the read model",
        Duration::from_secs(20),
        || async move {
            let need = show(client, coordinator(), "need_show", &need).await;
            (need["status"] == "partially_covered").then_some(need)
        },
    )
    .await;
    assert_eq!(shown["covered_money"], usd(100_000), "{shown}");
    assert_eq!(shown["covered_units"], 50, "{shown}");
    // Derived coverage is dated by the State's acceptance that caused it, not by the day it
    // was sent.
    assert_eq!(shown["coverage_on"], "2026-07-03", "{shown}");
    let offer_view = eventually(
        "offer commitment in the read model",
        Duration::from_secs(20),
        || async move {
            let offer = show(client, coordinator(), "offer_show", &offer_id).await;
            (offer["remaining_money"] == usd(200_000)).then_some(offer)
        },
    )
    .await;
    assert_eq!(offer_view["remaining_units"], 100, "{offer_view}");
    assert_eq!(offer_view["status"], "partially_committed", "{offer_view}");
    assert_eq!(offer_view["commitment_on"], "2026-07-03", "{offer_view}");

    // The project, and the referral activated into it.
    let project = Uuid::now_v7();
    ok(
        client,
        &coordinator(),
        "project_create",
        &project_body(project, "KE", vec![need], &[(DONOR_A, "1"), (IMPL_B, "4")]),
    )
    .await;
    ok(
        client,
        &coordinator(),
        "referral_activate",
        &json!({ "id": referral, "on": "2026-09-01", "project_id": project, "reason": null }),
    )
    .await;

    // Money: a commitment, a disbursement, and a disbursement above the commitment refused. The
    // donor records what it provides itself.
    let transaction = |kind: &str, amount: i64| {
        json!({ "id": project, "transaction_id": Uuid::now_v7(), "kind": kind, "value": usd(amount),
                "on": "2026-09-15", "provider": DONOR_A, "receiver": IMPL_B, "description": null })
    };
    ok(
        client,
        &a,
        "project_add_transaction",
        &transaction("commitment", 100_000),
    )
    .await;
    ok(
        client,
        &a,
        "project_add_transaction",
        &transaction("disbursement", 40_000),
    )
    .await;
    let too_much = remote(
        send(
            client,
            &a,
            "project_add_transaction",
            &transaction("disbursement", 70_000),
        )
        .await,
    );
    assert_eq!(too_much.code, ErrorCode::Invalid, "{too_much:?}");
    assert_eq!(too_much.field.as_deref(), Some("value"), "{too_much:?}");
    // The cap names the day on which the total would pass it.
    assert!(too_much.message.contains("on 2026-09-15"), "{too_much:?}");
    // A negative value reverses an earlier one (new: it used to be refused), but never takes a
    // total below zero.
    ok(
        client,
        &a,
        "project_add_transaction",
        &transaction("disbursement", -10_000),
    )
    .await;
    let below_zero = remote(
        send(
            client,
            &a,
            "project_add_transaction",
            &transaction("disbursement", -40_000),
        )
        .await,
    );
    assert_eq!(below_zero.code, ErrorCode::Invalid, "{below_zero:?}");
    assert_eq!(below_zero.field.as_deref(), Some("value"), "{below_zero:?}");

    // A milestone and a result with an indicator, set by the coordinator (a project's shape is
    // the coordinators' now); an actual recorded by the participating donor.
    let milestone = Uuid::now_v7();
    ok(
        client,
        &coordinator(),
        "project_add_milestone",
        &json!({ "id": project, "milestone_id": milestone, "title": "First course held",
                 "due": "2027-01-31", "on": "2026-09-01" }),
    )
    .await;
    let (result, indicator) = (Uuid::now_v7(), Uuid::now_v7());
    ok(
        client,
        &coordinator(),
        "project_add_result",
        &json!({ "id": project, "result_id": result, "title": "Officers trained",
                 "indicators": [{ "indicator_id": indicator, "title": "Officers trained",
                                  "measure": "1", "baseline": 0, "target": 150 }],
                 "on": "2026-09-01" }),
    )
    .await;
    ok(
        client,
        &a,
        "project_record_indicator_actual",
        &json!({ "id": project, "result_id": result, "indicator_id": indicator, "value": 40,
                 "on": "2026-11-01" }),
    )
    .await;

    // A progress report: drafted and submitted by the partner, validated by the coordinator.
    let report = Uuid::now_v7();
    submitted(
        client,
        &a,
        &json!({ "id": report, "project_id": project, "period_start": "2026-09-01",
                 "period_end": "2026-11-30", "narrative": "Two courses held; 40 officers trained.",
                 "actuals": [{ "result_id": result, "indicator_id": indicator, "value": 40 }],
                 "on": "2026-11-30" }),
    )
    .await;
    let validated = ok(
        client,
        &coordinator(),
        "progress_report_validate",
        &moved(report, "2026-12-05"),
    )
    .await;

    // The read model shows it all.
    let min = last_position(&validated);
    let shown = query_as(
        client,
        coordinator(),
        "project_show",
        &json!({ "id": project.to_string(), "min_position": min }),
    )
    .await
    .unwrap();
    assert_eq!(shown["needs"], json!([need]), "{shown}");
    let transactions = shown["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 3, "{shown}");
    assert_eq!(transactions[0]["kind"], "commitment");
    assert_eq!(transactions[1]["kind"], "disbursement");
    assert_eq!(transactions[2]["kind"], "disbursement");
    assert_eq!(transactions[2]["value"], usd(-10_000), "{shown}");
    assert_eq!(transactions[0]["date"], "2026-09-15", "{shown}");
    assert_eq!(shown["committed"]["USD"], 10_000_000, "{shown}");
    // 40000.00 disbursed, 10000.00 of it reversed.
    assert_eq!(shown["disbursed"]["USD"], 3_000_000, "{shown}");
    assert_eq!(
        shown["milestones"][0]["milestone_id"],
        json!(milestone),
        "{shown}"
    );
    let actuals = &shown["results"][0]["indicators"][0]["actuals"];
    assert_eq!(actuals[0]["value"], 40, "{shown}");
    let reports = query_as(
        client,
        coordinator(),
        "progress_report_list",
        &json!({ "project_id": project, "min_position": min }),
    )
    .await
    .unwrap();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["id"], json!(report));
    assert_eq!(reports[0]["status"], "validated");
    assert_eq!(reports[0]["validated_on"], "2026-12-05");
    let referral_view = show(client, coordinator(), "referral_show", &referral).await;
    assert_eq!(referral_view["status"], "active", "{referral_view}");
    assert_eq!(
        referral_view["project_id"],
        json!(project),
        "{referral_view}"
    );
    // Last, so that everything above is known to hold when only this fails: the active referral
    // joined its project.
    assert_eq!(
        shown["referrals"],
        json!([referral]),
        "the project lists the referral activated into it: {shown}"
    );
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_field_and_write_nothing() {
    let (_h, services, client) = Harness::up().await;
    let client = &client;
    let a = donor(DONOR_A);
    let kenya = focal_point("KE");
    let coord = coordinator();

    let (rec, probe) = registered(client).await;

    // Needs: two referable, one withdrawn, one only identified, one not shared with DONOR-A.
    let need = identify_need(client, rec, "BOR").await;
    agree(client, need).await;
    share(client, need, &[DONOR_A]).await;
    let second = identify_need(client, rec, "BOR").await;
    agree(client, second).await;
    share(client, second, &[DONOR_A]).await;
    let withdrawn = identify_need(client, rec, "BOR").await;
    agree(client, withdrawn).await;
    share(client, withdrawn, &[DONOR_A]).await;
    ok(
        client,
        &coord,
        "need_withdraw",
        &json!({ "id": withdrawn, "on": "2026-06-20", "reason": "Funded nationally" }),
    )
    .await;
    let identified = identify_need(client, rec, "BOR").await;
    share(client, identified, &[DONOR_A]).await;
    let unshared = identify_need(client, rec, "BOR").await;
    agree(client, unshared).await;
    let last_assessments = last_position(&share(client, unshared, &[DONOR_B]).await);

    // Offers of DONOR-A: open, still draft, withdrawn, for another theme, for another country.
    let (open, _) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        true,
    )
    .await;
    let (draft, _) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        false,
    )
    .await;
    let (withdrawn_offer, _) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        true,
    )
    .await;
    ok(
        client,
        &a,
        "offer_withdraw",
        &json!({ "id": withdrawn_offer, "on": "2026-06-15", "reason": "Budget cut" }),
    )
    .await;
    let (other_theme, _) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "LEG", "KE"),
        true,
    )
    .await;
    let (other_country, reply) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "JO"),
        true,
    )
    .await;
    // The projects service decides on its view of the other streams: let them reach it first.
    settle(
        client,
        &[
            ("assessments", last_assessments),
            ("partners", last_position(&reply)),
        ],
    )
    .await;

    let mut r = Refusals::new(client, &probe);
    let propose = |need: Uuid, offer: Uuid| propose_body(need, offer, usd(10_000), json!(5));
    for (case, body, field) in [
        ("withdrawn need", propose(withdrawn, open), "need_id"),
        ("need only identified", propose(identified, open), "need_id"),
        (
            "need not shared with DONOR-A",
            propose(unshared, open),
            "need_id",
        ),
        ("offer still draft", propose(need, draft), "status"),
        ("offer withdrawn", propose(need, withdrawn_offer), "status"),
        (
            "offer of another theme",
            propose(need, other_theme),
            "theme",
        ),
        (
            "offer for another country",
            propose(need, other_country),
            "country",
        ),
        (
            "share in an unknown currency",
            propose_body(need, open, money(100, "XYZ"), json!(null)),
            "share_money",
        ),
        (
            "negative share",
            propose_body(need, open, usd(-100), json!(null)),
            "share_money",
        ),
        (
            "zero share",
            propose_body(need, open, usd(0), json!(null)),
            "share_money",
        ),
        (
            "zero units",
            propose_body(need, open, json!(null), json!(0)),
            "share_units",
        ),
        (
            "no share at all",
            propose_body(need, open, json!(null), json!(null)),
            "share_money",
        ),
    ] {
        r.invalid(case, &coord, "referral_propose", &body, field)
            .await;
    }
    r.check(
        "referral for an unknown need",
        &coord,
        "referral_propose",
        &propose(Uuid::now_v7(), open),
        ErrorCode::NotFound,
        None,
    )
    .await;
    r.check(
        "referral to an unknown offer",
        &coord,
        "referral_propose",
        &propose(need, Uuid::now_v7()),
        ErrorCode::NotFound,
        None,
    )
    .await;

    // A share above what the offer has left: first commit 100000.00 USD and 50 units of it.
    let first = referred(client, need, open, usd(100_000), json!(50)).await;
    // A move dated before the referral's last one.
    r.invalid(
        "accepted before it was referred",
        &a,
        "referral_accept_by_partner",
        &moved(first, "2026-06-01"),
        "on",
    )
    .await;
    ok(
        client,
        &a,
        "referral_accept_by_partner",
        &moved(first, "2026-07-02"),
    )
    .await;
    ok(
        client,
        &kenya,
        "referral_accept_by_state",
        &moved(first, "2026-07-03"),
    )
    .await;
    eventually(
        "the offer's commitment in the read model",
        Duration::from_secs(20),
        || async move {
            let offer = show(client, coordinator(), "offer_show", &open).await;
            (offer["remaining_money"] == usd(200_000) && offer["remaining_units"] == 100)
                .then_some(())
        },
    )
    .await;
    // New: while a referral of the need to the offer is open, a second one is a duplicate.
    r.invalid(
        "a second referral of the same need to the same offer",
        &coord,
        "referral_propose",
        &propose_body(need, open, usd(1_000), json!(null)),
        "offer_id",
    )
    .await;
    // The capacity left is checked on another need's referral to the same offer (the same need
    // would be a duplicate, above).
    r.invalid(
        "share above the money left",
        &coord,
        "referral_propose",
        &propose_body(second, open, usd(200_001), json!(null)),
        "share_money",
    )
    .await;
    r.invalid(
        "share above the units left",
        &coord,
        "referral_propose",
        &propose_body(second, open, json!(null), json!(101)),
        "share_units",
    )
    .await;

    // A share in EUR: refused without a rate, accepted once one is recorded.
    let eur = propose_body(second, open, money(50_000, "EUR"), json!(null));
    r.invalid(
        "share in EUR without a rate",
        &coord,
        "referral_propose",
        &eur,
        "share_money",
    )
    .await;
    let rate_body = |on: &str, currency: &str| {
        json!({ "id": tatrack_projects::RATE_TABLE_ID, "on": on,
                "rates": [{ "currency": currency, "per_usd": { "numerator": 92, "denominator": 100 } }] })
    };
    r.invalid(
        "a rate in an unknown currency",
        &coord,
        "rate_table_record",
        &rate_body("2026-01-01", "XYZ"),
        "rates.currency",
    )
    .await;
    ok(
        client,
        &coord,
        "rate_table_record",
        &rate_body("2026-01-01", "EUR"),
    )
    .await;
    let before = probe.next_position(client, "projects").await;
    let accepted = ok(client, &coord, "referral_propose", &eur).await;
    assert_eq!(accepted["first_position"], before, "{accepted}");

    // Unknown codes, amounts that are not positive, dates out of order: offers and organisations.
    let draft_with = |edit: &dyn Fn(&mut Value)| {
        let mut body = offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE");
        edit(&mut body);
        body
    };
    for (case, body, field) in [
        (
            "unknown theme",
            draft_with(&|b| b["themes"] = json!(["NOPE"])),
            "themes",
        ),
        (
            "unknown country",
            draft_with(&|b| b["countries"] = json!(["XX"])),
            "countries",
        ),
        (
            "unknown budget currency",
            draft_with(&|b| b["budget"] = money(100, "XYZ")),
            "budget",
        ),
        (
            "negative budget",
            draft_with(&|b| b["budget"] = usd(-5)),
            "budget",
        ),
        (
            "zero budget",
            draft_with(&|b| b["budget"] = usd(0)),
            "budget",
        ),
        (
            "zero capacity",
            draft_with(&|b| {
                b["capacity"] = json!({ "measure": "officers trained", "quantity": 0 });
            }),
            "capacity.quantity",
        ),
        (
            "validity window ends before it starts",
            draft_with(&|b| b["valid_until"] = json!("2025-12-31")),
            "valid_until",
        ),
        (
            "unregistered organisation",
            draft_with(&|b| b["organisation"] = json!("NOBODY")),
            "organisation",
        ),
    ] {
        let who = donor(body["organisation"].as_str().unwrap());
        r.invalid(case, &who, "offer_draft", &body, field).await;
    }
    r.invalid(
        "unknown IATI organisation type",
        &coord,
        "organisation_register",
        &organisation_body("DONOR-X", "donor_government", "99"),
        "iati_type",
    )
    .await;
    r.check(
        "organisation registered twice",
        &coord,
        "organisation_register",
        &organisation_body(DONOR_A, "donor_government", "10"),
        ErrorCode::AlreadyExists,
        None,
    )
    .await;

    // Projects.
    let project_with = |edit: &dyn Fn(&mut Value)| {
        let mut body = project_body(
            Uuid::now_v7(),
            "KE",
            vec![need],
            &[(DONOR_A, "1"), (IMPL_B, "4")],
        );
        edit(&mut body);
        body
    };
    for (case, body, field) in [
        (
            "unknown sector",
            project_with(&|b| b["dac_sector"] = json!("99999")),
            "dac_sector",
        ),
        (
            "unknown theme",
            project_with(&|b| b["theme"] = json!("NOPE")),
            "theme",
        ),
        (
            "unknown recipient country",
            project_with(&|b| {
                b["recipient_country"] = json!("XX");
                b["needs"] = json!([]);
            }),
            "recipient_country",
        ),
        (
            "negative budget",
            project_with(&|b| b["budget"] = usd(-1)),
            "budget",
        ),
        (
            "unknown budget currency",
            project_with(&|b| b["budget"] = money(1, "XYZ")),
            "budget",
        ),
        (
            "ends before it starts",
            project_with(&|b| b["planned_end"] = json!("2026-08-31")),
            "planned_end",
        ),
        (
            "unknown IATI role",
            project_with(&|b| b["participating"][1]["role"] = json!("9")),
            "participating.role",
        ),
        (
            "no implementing organisation",
            project_with(&|b| b["participating"][1]["role"] = json!("2")),
            "participating",
        ),
        (
            "unregistered participant",
            project_with(&|b| b["participating"][0]["organisation"] = json!("NOBODY")),
            "participating",
        ),
        (
            "unknown need",
            project_with(&|b| b["needs"] = json!([Uuid::now_v7()])),
            "needs",
        ),
    ] {
        r.invalid(case, &coord, "project_create", &body, field)
            .await;
    }
    let project = probe.project;
    let transaction_of = |kind: &str, value: Value, on: &str| {
        json!({ "id": project, "transaction_id": Uuid::now_v7(), "kind": kind, "value": value,
                "on": on, "provider": IMPL_B, "receiver": null, "description": null })
    };
    let transaction = |value: Value| transaction_of("commitment", value, "2026-09-15");
    for (case, value) in [
        ("transaction in an unknown currency", money(100, "XYZ")),
        ("zero transaction", usd(0)),
        // A negative value reverses an earlier one; with nothing recorded it would take the
        // total below zero.
        ("reversal of nothing", usd(-100)),
    ] {
        r.invalid(
            case,
            &coord,
            "project_add_transaction",
            &transaction(value),
            "value",
        )
        .await;
    }
    // The parties: a provider is required and takes part in the project, and so does a
    // receiver (except of an expenditure).
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = transaction(usd(1_000));
        edit(&mut body);
        body
    };
    for (case, body, field) in [
        (
            "transaction without a provider",
            with(&|b| b["provider"] = json!(null)),
            "provider",
        ),
        (
            "transaction provided by an organisation not taking part",
            with(&|b| b["provider"] = json!(DONOR_B)),
            "provider",
        ),
        (
            "transaction received by an organisation not taking part",
            with(&|b| b["receiver"] = json!(DONOR_B)),
            "receiver",
        ),
        (
            "transaction dated before the project was created",
            with(&|b| b["on"] = json!("2026-08-19")),
            "on",
        ),
        (
            "disbursement with no commitment",
            transaction_of("disbursement", usd(1_000), "2026-09-15"),
            "value",
        ),
    ] {
        r.invalid(case, &coord, "project_add_transaction", &body, field)
            .await;
    }
    ok(
        client,
        &coord,
        "project_add_transaction",
        &transaction(usd(1_000)),
    )
    .await;
    r.invalid(
        "disbursement dated before the first commitment",
        &coord,
        "project_add_transaction",
        &transaction_of("disbursement", usd(500), "2026-09-14"),
        "on",
    )
    .await;
    // Business dates: no fact after today, and a project's own changes never go back.
    let tomorrow = today().tomorrow().unwrap().to_string();
    r.invalid(
        "transaction dated after today",
        &coord,
        "project_add_transaction",
        &transaction_of("commitment", usd(1_000), &tomorrow),
        "on",
    )
    .await;
    r.invalid(
        "milestone added before the project's last change",
        &coord,
        "project_add_milestone",
        &json!({ "id": project, "milestone_id": Uuid::now_v7(), "title": "Too early",
                 "due": "2027-06-30", "on": "2026-08-19" }),
        "on",
    )
    .await;
    r.check(
        "offer drafted after today",
        &a,
        "offer_draft",
        &{
            let mut body = offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE");
            body["on"] = json!(tomorrow);
            body
        },
        ErrorCode::Invalid,
        Some("on"),
    )
    .await;
    // An indicator actual needs a baseline.
    let (result, no_baseline) = (Uuid::now_v7(), Uuid::now_v7());
    ok(
        client,
        &coord,
        "project_add_result",
        &json!({ "id": project, "result_id": result, "title": "Procedures adopted",
                 "indicators": [{ "indicator_id": no_baseline, "title": "Procedures adopted",
                                  "measure": "1", "baseline": null, "target": 3 }],
                 "on": PROJECT_CREATED }),
    )
    .await;
    r.invalid(
        "indicator actual without a baseline",
        &coord, "project_record_indicator_actual",
        &json!({ "id": project, "result_id": result, "indicator_id": no_baseline, "value": 1, "on": "2026-10-01" }), "baseline")
    .await;
    r.invalid(
        "progress report period ends before it starts",
        &coord,
        "progress_report_draft",
        &json!({ "id": Uuid::now_v7(), "project_id": project, "period_start": "2026-09-01",
                 "period_end": "2026-08-31", "narrative": "n", "actuals": [], "on": "2026-10-01" }),
        "period_end",
    )
    .await;
    r.invalid(
        "progress report on an indicator the project lacks",
        &coord,
        "progress_report_draft",
        &json!({ "id": Uuid::now_v7(), "project_id": project, "period_start": "2026-09-01",
                 "period_end": "2026-09-30", "narrative": "n",
                 "actuals": [{ "result_id": result, "indicator_id": Uuid::now_v7(), "value": 1 }],
                 "on": "2026-10-01" }),
        "actuals",
    )
    .await;
    r.finish();
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_principal_acts_and_sees_only_its_own_part() {
    let (_h, services, client) = Harness::up().await;
    let client = &client;
    let a = donor(DONOR_A);
    let b = donor(DONOR_B);
    let kenya = focal_point("KE");
    let jordan = focal_point("JO");
    let coord = coordinator();

    let (rec, probe) = registered(client).await;
    let need = identify_need(client, rec, "BOR").await;
    agree(client, need).await;
    let grant = share(client, need, &[DONOR_A]).await;
    let (offer_a, _) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        true,
    )
    .await;
    let (offer_b, reply) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_B, "BOR", "KE"),
        true,
    )
    .await;
    settle(
        client,
        &[
            ("assessments", last_position(&grant)),
            ("partners", last_position(&reply)),
        ],
    )
    .await;

    let mut r = Refusals::new(client, &probe);
    r.forbidden(
        "a donor drafts an offer for another organisation",
        &b,
        "offer_draft",
        &offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
    )
    .await;
    r.forbidden(
        "a donor publishes another organisation's offer",
        &b,
        "offer_publish",
        &moved(offer_a, "2026-06-02"),
    )
    .await;
    r.forbidden(
        "a donor proposes a referral",
        &a,
        "referral_propose",
        &propose_body(need, offer_a, usd(10_000), json!(null)),
    )
    .await;

    let referral = referred(client, need, offer_a, usd(100_000), json!(50)).await;
    let accept = |on: &str| moved(referral, on);
    r.forbidden(
        "a donor accepts a referral made to another organisation",
        &b,
        "referral_accept_by_partner",
        &accept("2026-07-02"),
    )
    .await;
    r.forbidden(
        "a coordinator accepts as the partner",
        &coord,
        "referral_accept_by_partner",
        &accept("2026-07-02"),
    )
    .await;
    r.forbidden(
        "the State accepts as the partner",
        &kenya,
        "referral_accept_by_partner",
        &accept("2026-07-02"),
    )
    .await;
    ok(
        client,
        &a,
        "referral_accept_by_partner",
        &accept("2026-07-02"),
    )
    .await;
    for (case, who) in [
        ("a coordinator accepts as the State", &coord),
        (
            "a focal point of another country accepts as the State",
            &jordan,
        ),
        ("the partner accepts as the State", &a),
    ] {
        r.forbidden(case, who, "referral_accept_by_state", &accept("2026-07-03"))
            .await;
    }
    ok(
        client,
        &kenya,
        "referral_accept_by_state",
        &accept("2026-07-03"),
    )
    .await;

    let project = Uuid::now_v7();
    let create = project_body(project, "KE", vec![need], &[(DONOR_A, "1"), (IMPL_B, "4")]);
    r.forbidden("a donor creates a project", &a, "project_create", &create)
        .await;
    ok(client, &coord, "project_create", &create).await;
    ok(
        client,
        &coord,
        "referral_activate",
        &json!({ "id": referral, "on": "2026-09-01", "project_id": project, "reason": null }),
    )
    .await;
    let transaction = json!({ "id": project, "transaction_id": Uuid::now_v7(), "kind": "commitment",
        "value": usd(100_000), "on": "2026-09-15", "provider": DONOR_A, "receiver": null, "description": null });
    r.forbidden(
        "a donor adds a transaction to a project it is not part of",
        &b,
        "project_add_transaction",
        &transaction,
    )
    .await;
    // New: a participating donor records only the transactions it provides itself.
    let mut provided_by_other = transaction.clone();
    provided_by_other["transaction_id"] = json!(Uuid::now_v7());
    provided_by_other["provider"] = json!(IMPL_B);
    r.forbidden(
        "a donor records a transaction another participant provides",
        &a,
        "project_add_transaction",
        &provided_by_other,
    )
    .await;
    ok(client, &a, "project_add_transaction", &transaction).await;
    ok(
        client,
        &coord,
        "project_add_transaction",
        &provided_by_other,
    )
    .await;

    // New: a project's shape (budget, status, milestones, results, referrals) is the
    // coordinators' alone; participating donors used to change it too, and the State to
    // complete milestones.
    let milestone = Uuid::now_v7();
    let (result, indicator) = (Uuid::now_v7(), Uuid::now_v7());
    let add_milestone = json!({ "id": project, "milestone_id": milestone,
        "title": "First course held", "due": "2027-01-31", "on": "2026-09-01" });
    let add_result = json!({ "id": project, "result_id": result, "title": "Officers trained",
        "indicators": [{ "indicator_id": indicator, "title": "Officers trained", "measure": "1",
                         "baseline": 0, "target": 150 }], "on": "2026-09-01" });
    for (case, verb, body) in [
        (
            "a donor sets the budget of its project",
            "project_set_budget",
            json!({ "id": project, "budget": usd(120_000), "on": "2026-09-01" }),
        ),
        (
            "a donor changes the status of its project",
            "project_change_status",
            json!({ "id": project, "to": "2", "on": "2026-09-01", "reason": null }),
        ),
        (
            "a donor adds a milestone to its project",
            "project_add_milestone",
            add_milestone.clone(),
        ),
        (
            "a donor adds a result to its project",
            "project_add_result",
            add_result.clone(),
        ),
        (
            "a donor joins a referral to its project",
            "project_join_referral",
            json!({ "id": project, "referral_id": referral, "need_id": need, "on": "2026-09-01" }),
        ),
    ] {
        r.forbidden(case, &a, verb, &body).await;
    }
    ok(client, &coord, "project_add_milestone", &add_milestone).await;
    ok(client, &coord, "project_add_result", &add_result).await;
    let complete = json!({ "id": project, "milestone_id": milestone, "on": "2026-10-01" });
    for (case, who) in [
        ("a donor completes a milestone of its project", &a),
        ("the State completes a milestone of its project", &kenya),
    ] {
        r.forbidden(case, who, "project_complete_milestone", &complete)
            .await;
    }
    ok(client, &coord, "project_complete_milestone", &complete).await;
    // Indicator actuals: the participating donors and the State; documents: the donors.
    let actual = |value: i64| {
        json!({ "id": project, "result_id": result, "indicator_id": indicator, "value": value,
                "on": "2026-10-01" })
    };
    for (case, who) in [
        (
            "a donor records an actual on a project it is not part of",
            &b,
        ),
        ("another State records an actual on a project", &jordan),
    ] {
        r.forbidden(case, who, "project_record_indicator_actual", &actual(10))
            .await;
    }
    ok(client, &a, "project_record_indicator_actual", &actual(20)).await;
    ok(
        client,
        &kenya,
        "project_record_indicator_actual",
        &actual(25),
    )
    .await;
    let document = json!({ "id": project, "url": "https://example.org/first-course",
        "title": "Course report", "category": "A01", "on": "2026-10-15" });
    for (case, who) in [
        ("a donor adds a document to a project it is not part of", &b),
        ("the State adds a document to its project", &kenya),
    ] {
        r.forbidden(case, who, "project_add_document", &document)
            .await;
    }
    ok(client, &a, "project_add_document", &document).await;

    let report = Uuid::now_v7();
    let draft = json!({ "id": report, "project_id": project, "period_start": "2026-09-01",
        "period_end": "2026-11-30", "narrative": "Started.", "actuals": [], "on": "2026-11-30" });
    r.forbidden(
        "a donor reports on a project it is not part of",
        &b,
        "progress_report_draft",
        &draft,
    )
    .await;
    submitted(client, &a, &draft).await;
    let validate = moved(report, "2026-12-05");
    for (case, who) in [
        ("the reporting partner validates its own report", &a),
        ("the State validates a report", &kenya),
        (
            "an auditor validates a report",
            &principal(Role::Auditor, None, None),
        ),
    ] {
        r.forbidden(case, who, "progress_report_validate", &validate)
            .await;
    }
    r.forbidden(
        "a donor returns a report",
        &a,
        "progress_report_return",
        &json!({ "id": report, "on": "2026-12-05", "reason": "Add figures" }),
    )
    .await;
    r.forbidden(
        "a donor records exchange rates",
        &a, "rate_table_record",
        &json!({ "id": tatrack_projects::RATE_TABLE_ID, "on": "2026-01-01",
                 "rates": [{ "currency": "EUR", "per_usd": { "numerator": 92, "denominator": 100 } }] }))
    .await;
    let validated = ok(client, &coord, "progress_report_validate", &validate).await;
    r.finish();

    // What each donor sees in the read model, once it holds everything written above.
    let partners_at = probe.next_position(client, "partners").await - 1;
    let projects_at = last_position(&validated);
    let min = json!({ "partners": partners_at, "projects": projects_at });
    let list = |who: Principal, view: &'static str| {
        let min = min.clone();
        async move {
            query_as(client, who, view, &json!({ "min_positions": min }))
                .await
                .unwrap_or_else(|e| panic!("{view}: {e:?}"))
        }
    };
    let ids = |list: &Value| -> Vec<Value> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].clone())
            .collect()
    };
    let mut failures = Vec::new();
    let mut expect = |what: String, ok: bool| {
        if !ok {
            failures.push(what);
        }
    };
    // DONOR-A sees its offer, its referral, its project and the report on it; not DONOR-B's offer.
    let offers_a = ids(&list(a.clone(), "offer_list").await);
    expect(
        format!("DONOR-A's offer_list is [its offer]: {offers_a:?}"),
        offers_a == vec![json!(offer_a)],
    );
    let referrals_a = ids(&list(a.clone(), "referral_list").await);
    expect(
        format!("DONOR-A's referral_list is [its referral]: {referrals_a:?}"),
        referrals_a == vec![json!(referral)],
    );
    let projects_a = ids(&list(a.clone(), "project_list").await);
    expect(
        format!("DONOR-A's project_list is [its project]: {projects_a:?}"),
        projects_a == vec![json!(project)],
    );
    let reports_a = ids(&list(a.clone(), "progress_report_list").await);
    expect(
        format!("DONOR-A's progress_report_list is [its report]: {reports_a:?}"),
        reports_a == vec![json!(report)],
    );
    for (view, id) in [
        ("offer_show", offer_a),
        ("referral_show", referral),
        ("project_show", project),
    ] {
        let seen = query_as(client, a.clone(), view, &json!({ "id": id.to_string() })).await;
        expect(
            format!("DONOR-A's {view} of its own {id}: {seen:?}"),
            seen.is_ok(),
        );
    }
    let hidden = query_as(
        client,
        a.clone(),
        "offer_show",
        &json!({ "id": offer_b.to_string() }),
    )
    .await;
    expect(
        format!("DONOR-A's offer_show of DONOR-B's offer is not found: {hidden:?}"),
        matches!(&hidden, Err(rpc::Error::Remote(e)) if e.code == ErrorCode::NotFound),
    );
    // DONOR-B sees its own offer only, and none of DONOR-A's referral, project or report.
    let offers_b = ids(&list(b.clone(), "offer_list").await);
    expect(
        format!("DONOR-B's offer_list is [its offer]: {offers_b:?}"),
        offers_b == vec![json!(offer_b)],
    );
    for view in ["referral_list", "project_list", "progress_report_list"] {
        let seen = list(b.clone(), view).await;
        expect(
            format!("DONOR-B's {view} is empty: {seen}"),
            seen == json!([]),
        );
    }
    for (view, id) in [
        ("offer_show", offer_a),
        ("referral_show", referral),
        ("project_show", project),
    ] {
        let seen = query_as(client, b.clone(), view, &json!({ "id": id.to_string() })).await;
        expect(
            format!("DONOR-B's {view} of DONOR-A's {id} is not found: {seen:?}"),
            matches!(&seen, Err(rpc::Error::Remote(e)) if e.code == ErrorCode::NotFound),
        );
    }
    // The State sees its own country's referral and project, and another State none of them.
    let referrals_ke = ids(&list(kenya.clone(), "referral_list").await);
    expect(
        format!("KE's referral_list holds the referral: {referrals_ke:?}"),
        referrals_ke.contains(&json!(referral)),
    );
    let projects_jo = list(jordan.clone(), "project_list").await;
    expect(
        format!("JO's project_list is empty: {projects_jo}"),
        projects_jo == json!([]),
    );
    let seen = query_as(
        client,
        jordan.clone(),
        "project_show",
        &json!({ "id": project.to_string() }),
    )
    .await;
    expect(
        format!("JO's project_show of a KE project is not found: {seen:?}"),
        matches!(&seen, Err(rpc::Error::Remote(e)) if e.code == ErrorCode::NotFound),
    );
    assert!(
        failures.is_empty(),
        "{} visibility check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    services.stop().await;
}

/// A command to the projects service right after another service acknowledged what it depends on
/// (an organisation registered, a need shared) must see it: the caller has its acknowledgement
/// and no way to wait for the projects service's view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_sees_what_another_service_has_just_acknowledged() {
    let (_h, services, client) = Harness::up().await;
    let client = &client;
    let coord = coordinator();
    register(client, DONOR_A, "donor_government", "10").await;
    let rec = recommendation(client, "KE").await;
    let (offer_id, _) = offer(
        client,
        offer_body(Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        true,
    )
    .await;
    let mut failures = Vec::new();
    for i in 0..60 {
        let implementing = format!("IMPL-{i}");
        register(client, &implementing, "un_entity", "40").await;
        let body = project_body(
            Uuid::now_v7(),
            "KE",
            vec![],
            &[(DONOR_A, "1"), (implementing.as_str(), "4")],
        );
        if let Err(e) = send(client, &coord, "project_create", &body).await {
            failures.push(format!(
                "project_create right after organisation_register {implementing}: {e:?}"
            ));
        }
    }
    for _ in 0..20 {
        let need = identify_need(client, rec, "BOR").await;
        agree(client, need).await;
        share(client, need, &[DONOR_A]).await;
        let body = propose_body(need, offer_id, usd(1_000), json!(null));
        if let Err(e) = send(client, &coord, "referral_propose", &body).await {
            failures.push(format!(
                "referral_propose right after sharing_grant_grant of need {need}: {e:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 80 commands did not see a write acknowledged just before:\n{}",
        failures.len(),
        failures.join("\n")
    );
    services.stop().await;
}
