//! Business dates are the truth: a history typed in weeks late answers "as of" each of its days
//! exactly as the same history typed in as it happened; a report as of a past day made before and
//! after a back-dated fact gives two reproducible reports and `report changes` names the fact; the
//! rules that hold for late and corrected records refuse what they must and write nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::civil::Date;
use serde_json::{Value, json};
use tatrack_bus::rpc::{self, ErrorCode, RequestMeta};
use tatrack_domain::{Principal, Role};
use tatrack_eventlog::Clock;
use tatrack_tests::*;
use uuid::Uuid;

const DONOR: &str = "PH-DONOR";
const OTHER_DONOR: &str = "OTHER-DONOR";
const PARTNER: &str = "PH-PARTNER";

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | n)
}

/// Sends commands and asks views, remembering the positions its commands wrote so that a
/// question after a command sees it (read-your-writes).
struct Session {
    client: async_nats::Client,
    written: BTreeMap<String, u64>,
}

impl Session {
    async fn new(h: &Harness) -> Self {
        Self {
            client: h.client().await,
            written: BTreeMap::new(),
        }
    }

    async fn send_as(
        &mut self,
        who: &Principal,
        service: &str,
        verb: &str,
        body: Value,
    ) -> Result<Value, rpc::ErrorBody> {
        let meta = RequestMeta::new(who.clone());
        match command_to(&self.client, &meta, service, verb, &body).await {
            Ok(reply) => {
                if let Some(p) = reply["last_position"].as_u64().filter(|p| *p > 0) {
                    let seen = self.written.entry(service.to_owned()).or_default();
                    *seen = (*seen).max(p);
                }
                Ok(reply)
            }
            Err(rpc::Error::Remote(body)) => Err(body),
            Err(e) => panic!("{service}.{verb}: {e}"),
        }
    }

    async fn send(&mut self, service: &str, verb: &str, body: Value) -> Value {
        self.send_as(&coordinator(), service, verb, body.clone())
            .await
            .unwrap_or_else(|e| panic!("{verb} {body}: {e:?}"))
    }

    async fn ask_as(
        &self,
        who: &Principal,
        view: &str,
        mut body: Value,
    ) -> Result<Value, rpc::ErrorBody> {
        body["min_positions"] = json!(self.written);
        match query_as(&self.client, who.clone(), view, &body).await {
            Ok(v) => Ok(v),
            Err(rpc::Error::Remote(body)) => Err(body),
            Err(e) => panic!("{view}: {e}"),
        }
    }

    async fn ask(&self, view: &str, body: Value) -> Value {
        self.ask_as(&coordinator(), view, body.clone())
            .await
            .unwrap_or_else(|e| panic!("{view} {body}: {e:?}"))
    }
}

fn usd(amount: i64) -> Value {
    json!({ "amount_minor": amount * 100, "currency": "USD" })
}

/// One fact of the Philippine history: the business date it happened on, the service and verb
/// that record it, and the body without its date.
pub(crate) struct Fact {
    pub(crate) on: &'static str,
    pub(crate) service: &'static str,
    pub(crate) verb: &'static str,
    pub(crate) body: Value,
    /// Who records it (the partner and the State accept referrals themselves).
    pub(crate) by: Principal,
}

/// A Philippine assessment, its recommendation, a need, an offer, a referral and a project, with
/// business dates spread over the months before they are typed in.
pub(crate) fn philippine_history() -> Vec<Fact> {
    let staff = coordinator();
    let partner = principal(Role::Donor, Some(PARTNER), None);
    let state = principal(Role::StateFocalPoint, None, Some("PH"));
    let f = |on, service, verb, body: Value, by: &Principal| Fact {
        on,
        service,
        verb,
        body,
        by: by.clone(),
    };
    vec![
        f(
            "2026-01-05",
            "partners",
            "organisation_register",
            json!({"id": DONOR, "name": "A donor",
            "kind": "donor_government", "iati_type": "10", "iati_identifier": null, "country": null}),
            &staff,
        ),
        f(
            "2026-01-05",
            "partners",
            "organisation_register",
            json!({"id": PARTNER, "name": "An implementer",
            "kind": "un_entity", "iati_type": "40", "iati_identifier": null, "country": null}),
            &staff,
        ),
        f(
            "2026-02-01",
            "assessments",
            "assessment_plan",
            json!({"id": id(1), "member_state": "PH",
            "kind": "focused_visit", "resolutions": [1373], "title": "Focused visit to the Philippines",
            "visit_start": "2026-03-09", "visit_end": "2026-03-10", "classification": "restricted"}),
            &staff,
        ),
        f(
            "2026-02-03",
            "partners",
            "offer_draft",
            json!({"id": id(30), "organisation": PARTNER,
            "title": "Mentoring financial intelligence units", "themes": ["CFT"], "countries": ["PH"],
            "regions": [], "modalities": ["mentoring"], "budget": usd(200_000),
            "capacity": {"measure": "supervisors mentored", "quantity": 20},
            "valid_from": "2026-02-01", "valid_until": "2032-12-31", "languages": ["en"], "conditions": null}),
            &staff,
        ),
        f(
            "2026-02-05",
            "partners",
            "offer_publish",
            json!({"id": id(30), "reason": null}),
            &staff,
        ),
        f(
            "2026-03-10",
            "assessments",
            "assessment_mark_conducted",
            json!({"id": id(1), "reason": null}),
            &staff,
        ),
        f(
            "2026-04-02",
            "assessments",
            "assessment_send_draft",
            json!({"id": id(1), "reason": null}),
            &staff,
        ),
        f(
            "2026-05-15",
            "assessments",
            "assessment_adopt",
            json!({"id": id(1), "reason": null}),
            &staff,
        ),
        f(
            "2026-05-15",
            "assessments",
            "recommendation_record",
            json!({"id": id(2), "assessment_id": id(1),
            "member_state": "", "theme": "CFT", "priority": 1,
            "text": "Apply risk-based oversight to the non-profit sector."}),
            &staff,
        ),
        f(
            "2026-05-20",
            "assessments",
            "need_identify",
            json!({"id": id(3), "member_state": "PH",
            "recommendation_ids": [id(2)], "theme": "CFT", "modality": "mentoring",
            "description": "Mentor supervisors on non-profit oversight", "beneficiary_institution": "AMLC",
            "estimated_cost": usd(120_000), "size": {"measure": "supervisors mentored", "quantity": 12},
            "priority": 1}),
            &staff,
        ),
        f(
            "2026-06-01",
            "assessments",
            "need_agree_with_state",
            json!({"id": id(3), "reason": null}),
            &state,
        ),
        f(
            "2026-06-02",
            "assessments",
            "sharing_grant_grant",
            json!({"id": id(4), "member_state": "PH",
            "scope": {"type": "need", "need_id": id(3)},
            "audience": {"type": "organisations", "ids": [PARTNER]}, "until": null}),
            &state,
        ),
        f(
            "2026-06-05",
            "projects",
            "referral_propose",
            json!({"id": id(5), "need_id": id(3), "offer_id": id(30),
            "member_state": "", "organisation": "", "share_money": usd(80_000), "share_units": 8}),
            &staff,
        ),
        f(
            "2026-06-06",
            "projects",
            "referral_refer",
            json!({"id": id(5), "reason": null}),
            &staff,
        ),
        f(
            "2026-06-10",
            "projects",
            "referral_accept_by_partner",
            json!({"id": id(5), "reason": null}),
            &partner,
        ),
        f(
            "2026-06-12",
            "projects",
            "referral_accept_by_state",
            json!({"id": id(5), "reason": null}),
            &state,
        ),
        f(
            "2026-06-15",
            "projects",
            "project_create",
            json!({"id": id(6), "iati_identifier": "PH-PARTNER-001",
            "title": "Non-profit oversight mentoring", "description": "", "recipient_country": "PH",
            "theme": "CFT", "dac_sector": "15210",
            "participating": [{"organisation": DONOR, "role": "1"}, {"organisation": PARTNER, "role": "4"}],
            "planned_start": "2026-07-01", "planned_end": "2027-06-30", "budget": usd(80_000),
            "needs": [id(3)], "referrals": []}),
            &staff,
        ),
        f(
            "2026-06-20",
            "projects",
            "referral_activate",
            json!({"id": id(5), "project_id": id(6), "reason": null}),
            &staff,
        ),
        f(
            "2026-06-20",
            "projects",
            "project_change_status",
            json!({"id": id(6), "to": "2", "reason": null}),
            &staff,
        ),
        f(
            "2026-06-25",
            "projects",
            "project_add_transaction",
            json!({"id": id(6), "transaction_id": id(61),
            "kind": "commitment", "value": usd(80_000), "provider": DONOR, "receiver": PARTNER, "description": null}),
            &staff,
        ),
        f(
            "2026-07-10",
            "projects",
            "project_add_transaction",
            json!({"id": id(6), "transaction_id": id(62),
            "kind": "disbursement", "value": usd(30_000), "provider": DONOR, "receiver": PARTNER, "description": null}),
            &staff,
        ),
    ]
}

/// Noon of a business date: the clock of a system typing the fact in as it happens.
fn noon(day: &str) -> jiff::Timestamp {
    let day: Date = day.parse().expect("a date");
    day.at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("a time")
        .timestamp()
}

/// The views compared, as of `day`, with what differs by design between two systems (nothing
/// but recorded metadata, which views do not carry) left as it is.
async fn answers_as_of(s: &Session, day: &str) -> Value {
    let mut out = serde_json::Map::new();
    for view in [
        "assessment_list",
        "recommendation_list",
        "need_list",
        "offer_list",
        "referral_list",
        "project_list",
        "progress_report_list",
        "recommendation_rate_list",
        "organisation_list",
    ] {
        out.insert(view.to_owned(), s.ask(view, json!({ "as_of": day })).await);
    }
    // Before the need existed it is not found, in both systems alike.
    let need = s
        .ask_as(
            &coordinator(),
            "need_show",
            json!({ "id": id(3).to_string(), "as_of": day }),
        )
        .await
        .unwrap_or_else(|e| json!({ "error": e.code }));
    out.insert("need_show".into(), need);
    Value::Object(out)
}

const DAYS: [&str; 12] = [
    "2026-01-04",
    "2026-02-04",
    "2026-03-10",
    "2026-05-15",
    "2026-05-31",
    "2026-06-01",
    "2026-06-11",
    "2026-06-12",
    "2026-06-19",
    "2026-06-20",
    "2026-06-30",
    "2026-07-10",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_typed_in_late_answers_like_the_same_history_typed_in_on_time() {
    // On time: each fact is typed in on the day it happens (the system's clock on that day) and
    // carries no date of its own, so the service dates it today.
    let on_time = Harness::start();
    let mut services: Option<Services> = None;
    let mut current_day = "";
    let mut s = Session::new(&on_time).await;
    for fact in philippine_history() {
        if fact.on != current_day {
            if let Some(running) = services.take() {
                running.stop().await;
            }
            current_day = fact.on;
            services = Some(
                Services::start_on(
                    &on_time.nats,
                    on_time.data_dir().to_path_buf(),
                    None,
                    Clock::starting_at(noon(fact.on)),
                )
                .await,
            );
        }
        s.send_as(&fact.by, fact.service, fact.verb, fact.body.clone())
            .await
            .unwrap_or_else(|e| panic!("on time {} {}: {e:?}", fact.on, fact.verb));
    }
    // The projects service derives the need's coverage and the offer's commitment in the
    // background: wait until they are in, as of the acceptance day.
    let on_time_answers = {
        eventually("coverage on time", Duration::from_secs(20), || async {
            let need = s.ask("need_show", json!({ "id": id(3).to_string() })).await;
            (need["status"] == "partially_covered").then_some(())
        })
        .await;
        let mut all = Vec::new();
        for day in DAYS {
            all.push(answers_as_of(&s, day).await);
        }
        all
    };
    if let Some(running) = services.take() {
        running.stop().await;
    }

    // Late: the whole history typed in at once, years later (the tests' clock), each fact with
    // the business date it happened on.
    let late = Harness::start();
    let late_services = late.services().await;
    let mut s = Session::new(&late).await;
    for fact in philippine_history() {
        let mut body = fact.body.clone();
        body["on"] = json!(fact.on);
        s.send_as(&fact.by, fact.service, fact.verb, body)
            .await
            .unwrap_or_else(|e| panic!("late {} {}: {e:?}", fact.on, fact.verb));
    }
    eventually("coverage late", Duration::from_secs(20), || async {
        let need = s.ask("need_show", json!({ "id": id(3).to_string() })).await;
        (need["status"] == "partially_covered").then_some(())
    })
    .await;
    for (day, expected) in DAYS.iter().zip(&on_time_answers) {
        let got = answers_as_of(&s, day).await;
        assert_eq!(&got, expected, "as of {day}");
    }

    // And the answers say what happened when: nothing before the organisations existed; the
    // need agreed on 1 June, covered by the referral the State accepted on 12 June; the money as
    // it stood at the end of June.
    let first = &on_time_answers[0];
    assert_eq!(first["organisation_list"], json!([]), "before anything");
    let before_acceptance = &on_time_answers[6];
    assert_eq!(
        before_acceptance["need_show"]["status"],
        "agreed_with_state"
    );
    let accepted = &on_time_answers[7];
    assert_eq!(accepted["need_show"]["status"], "partially_covered");
    assert_eq!(accepted["need_show"]["covered_money"], usd(80_000));
    let end_of_june = &on_time_answers[10];
    let project = &end_of_june["project_list"][0];
    assert_eq!(project["status"], "2");
    assert_eq!(project["committed"], json!({ "USD": 8_000_000 }));
    assert_eq!(
        project["disbursed"],
        json!({}),
        "the disbursement is dated 10 July"
    );
    let july = &on_time_answers[11];
    assert_eq!(
        july["project_list"][0]["disbursed"],
        json!({ "USD": 3_000_000 })
    );
    late_services.stop().await;
}

/// Runs the history of `philippine_history` with its business dates on `h`.
async fn record_history(s: &mut Session) {
    for fact in philippine_history() {
        let mut body = fact.body.clone();
        body["on"] = json!(fact.on);
        s.send_as(&fact.by, fact.service, fact.verb, body)
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e:?}", fact.on, fact.verb));
    }
}

async fn report(s: &mut Session, as_of: &str, known_at: Option<&str>) -> Value {
    // The read model has everything written so far before the report asks where it stands.
    s.ask("position_show", json!({})).await;
    let mut body = json!({ "format": "markdown", "as_of": as_of, "member_state": "PH" });
    if let Some(k) = known_at {
        body["known_at"] = json!(k);
    }
    s.send("reporter", "report_summary", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_fact_shows_in_a_new_report_never_in_an_old_one() {
    let h = Harness::start();
    let services = h.services().await;
    let mut s = Session::new(&h).await;
    record_history(&mut s).await;

    let first = report(&mut s, "2026-06-30", None).await;
    let first_known = first["known_at"].as_str().expect("known_at").to_owned();
    assert_eq!(first["provisional"], false);
    assert!(
        first["content"]
            .as_str()
            .unwrap()
            .contains(&format!("as known at {first_known}")),
        "{}",
        first["content"]
    );

    // A disbursement dated 28 June is typed in late, after the report was made.
    let late = s
        .send(
            "projects",
            "project_add_transaction",
            json!({"id": id(6), "transaction_id": id(63), "kind": "disbursement", "value": usd(20_000),
            "on": "2026-06-28", "provider": DONOR, "receiver": PARTNER, "description": "typed in late"}),
        )
        .await;
    let second = report(&mut s, "2026-06-30", None).await;
    let second_known = second["known_at"].as_str().unwrap().to_owned();
    assert_ne!(first_known, second_known);
    assert_ne!(
        first["checksum"], second["checksum"],
        "the late disbursement counts"
    );

    // Each made again with its own pair gives the same bytes.
    let first_again = report(&mut s, "2026-06-30", Some(&first_known)).await;
    assert_eq!(first_again["content"], first["content"]);
    assert_eq!(first_again["checksum"], first["checksum"]);
    let second_again = report(&mut s, "2026-06-30", Some(&second_known)).await;
    assert_eq!(second_again["checksum"], second["checksum"]);

    // What changed the figures since the first report: the late disbursement, and nothing
    // else (later reports do not count).
    let changes = s
        .ask(
            "change_list",
            json!({ "report_id": first["id"].as_str().unwrap() }),
        )
        .await;
    assert_eq!(changes["known_at"], first_known);
    let listed: Vec<(&str, &str, u64)> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap(),
                c["on"].as_str().unwrap(),
                c["position"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [(
            "project_transaction_added",
            "2026-06-28",
            late["last_position"].as_u64().unwrap()
        )]
    );
    // A fact dated after the report's day does not change it.
    s.send(
        "projects",
        "project_add_transaction",
        json!({"id": id(6), "transaction_id": id(64), "kind": "disbursement", "value": usd(1_000),
        "on": "2026-07-20", "provider": DONOR, "receiver": PARTNER, "description": null}),
    )
    .await;
    let changes = s
        .ask(
            "change_list",
            json!({ "report_id": first["id"].as_str().unwrap() }),
        )
        .await;
    assert_eq!(changes["changes"].as_array().unwrap().len(), 1);
    // The second report has seen the late fact: nothing since changes it.
    let changes = s
        .ask(
            "change_list",
            json!({ "report_id": second["id"].as_str().unwrap() }),
        )
        .await;
    assert_eq!(changes["changes"], json!([]));
    // Another donor may not read someone else's report's changes.
    let stranger = principal(Role::Donor, Some(OTHER_DONOR), None);
    let refused = s
        .ask_as(
            &stranger,
            "change_list",
            json!({ "report_id": first["id"].as_str().unwrap() }),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::NotFound);

    // The CLI says the same, run as a person would: a coordinator signed in to the gateway.
    let gw = tatrack_tests::gateway::Gateway::start(&h).await;
    let (_, token) = issue_token(&h.client().await, Role::Coordinator, None, None).await;
    gw.until_known(&token).await;
    let output = cli(
        env!("CARGO_BIN_EXE_tatrack-under-test"),
        &gw.base,
        Some(&token),
    )
    .args([
        "report",
        "changes",
        "--since",
        first["id"].as_str().unwrap(),
    ])
    .output()
    .expect("run the CLI");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("project_transaction_added") && stdout.contains("2026-06-28"),
        "{stdout}"
    );
    // And lists the reports made, with the day and the SHA-256 of each.
    let output = cli(
        env!("CARGO_BIN_EXE_tatrack-under-test"),
        &gw.base,
        Some(&token),
    )
    .args(["report", "list"])
    .output()
    .expect("run the CLI");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(first["id"].as_str().unwrap())
            && stdout.contains(first["checksum"].as_str().unwrap()),
        "{stdout}"
    );
    gw.stop().await;
    services.stop().await;
}

fn refused(result: Result<Value, rpc::ErrorBody>) -> rpc::ErrorBody {
    match result {
        Err(e) => e,
        Ok(v) => panic!("expected a refusal, got {v}"),
    }
}

/// The positions every service has written, to show a refusal wrote nothing.
async fn heads(s: &mut Session) -> Value {
    let mut out = serde_json::Map::new();
    for service in ["assessments", "partners", "projects"] {
        let head = s.send(service, "admin_head", json!({})).await;
        out.insert(service.to_owned(), head["head"].clone());
    }
    Value::Object(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rules_for_late_and_corrected_records_refuse_and_write_nothing() {
    let h = Harness::start();
    let services = h.services().await;
    let mut s = Session::new(&h).await;
    record_history(&mut s).await;
    let partner = principal(Role::Donor, Some(PARTNER), None);
    let before = heads(&mut s).await;

    // The implementing partner records a commitment naming the funder as the provider: only
    // the providing organisation (or a coordinator for it) records its outgoing money.
    let e = refused(
        s.send_as(&partner, "projects", "project_add_transaction",
            json!({"id": id(6), "transaction_id": id(70), "kind": "commitment", "value": usd(1_000_000),
            "on": "2026-07-01", "provider": DONOR, "receiver": PARTNER, "description": null}))
            .await,
    );
    assert_eq!(e.code, ErrorCode::Forbidden, "{e:?}");

    // A disbursement dated before the project's commitment, one after today, and a reversal
    // below zero: refused, each naming its field.
    let transaction = |n: u128, kind: &str, amount: i64, on: &str| {
        json!({"id": id(6), "transaction_id": id(n), "kind": kind, "value": usd(amount), "on": on,
        "provider": DONOR, "receiver": PARTNER, "description": null})
    };
    let e = refused(
        s.send_as(
            &coordinator(),
            "projects",
            "project_add_transaction",
            transaction(71, "disbursement", 10, "2026-06-20"),
        )
        .await,
    );
    assert_eq!(e.field.as_deref(), Some("on"), "{e:?}");
    assert!(e.message.contains("2026-06-20"), "{}", e.message);
    let tomorrow = today().tomorrow().unwrap().to_string();
    let e = refused(
        s.send_as(
            &coordinator(),
            "projects",
            "project_add_transaction",
            transaction(72, "disbursement", 10, &tomorrow),
        )
        .await,
    );
    assert_eq!(e.field.as_deref(), Some("on"), "{e:?}");
    assert!(e.message.contains("after today"), "{}", e.message);
    let e = refused(
        s.send_as(
            &coordinator(),
            "projects",
            "project_add_transaction",
            transaction(73, "disbursement", -30_001, "2026-07-11"),
        )
        .await,
    );
    assert_eq!(e.field.as_deref(), Some("value"), "{e:?}");

    // The same need to the same offer while a referral between them is open: a duplicate.
    let e = refused(
        s.send_as(
            &coordinator(),
            "projects",
            "referral_propose",
            json!({"need_id": id(3), "offer_id": id(30), "member_state": "", "organisation": "",
            "share_money": usd(10_000), "share_units": null, "on": "2026-07-01"}),
        )
        .await,
    );
    assert_eq!(e.field.as_deref(), Some("offer_id"), "{e:?}");
    assert!(e.message.contains(&id(5).to_string()), "{}", e.message);

    // A donor token for an organisation that is not registered.
    let admin = principal(Role::Admin, None, None);
    let e = refused(
        s.send_as(
            &admin,
            "partners",
            "token_issue",
            json!({"role": "donor", "organisation": "NOT-REGISTERED", "member_state": null,
            "label": "x", "hash": "0".repeat(64)}),
        )
        .await,
    );
    assert_eq!(e.field.as_deref(), Some("organisation"), "{e:?}");

    // A conducted visit in the future, and one dated before the plan it follows.
    s.send(
        "assessments",
        "assessment_plan",
        json!({"id": id(7), "member_state": "PH", "kind": "desk_review", "resolutions": [1373],
        "title": "Desk review", "visit_start": "2026-08-01", "visit_end": "2026-08-02",
        "classification": "restricted", "on": "2026-07-01"}),
    )
    .await;
    let before = {
        let mut b = before;
        b["assessments"] = heads(&mut s).await["assessments"].clone();
        b
    };
    let e = refused(
        s.send_as(
            &coordinator(),
            "assessments",
            "assessment_mark_conducted",
            json!({"id": id(7), "on": tomorrow, "reason": null}),
        )
        .await,
    );
    assert_eq!(e.field.as_deref(), Some("on"), "{e:?}");
    let e = refused(
        s.send_as(
            &coordinator(),
            "assessments",
            "assessment_mark_conducted",
            json!({"id": id(7), "on": "2026-06-30", "reason": null}),
        )
        .await,
    );
    assert_eq!(
        e.field.as_deref(),
        Some("on"),
        "before it was planned: {e:?}"
    );
    assert_eq!(heads(&mut s).await, before, "nothing was written");

    // A command id sent again with a different body is refused; with the same body it gets
    // its first answer.
    let meta = RequestMeta::new(coordinator());
    let body = json!({"id": id(8), "member_state": "PH", "kind": "desk_review", "resolutions": [1373],
        "title": "Second desk review", "visit_start": "2026-09-01", "visit_end": "2026-09-02",
        "classification": "restricted", "on": "2026-07-02"});
    let first = command_to(&s.client, &meta, "assessments", "assessment_plan", &body)
        .await
        .unwrap();
    let again = command_to(&s.client, &meta, "assessments", "assessment_plan", &body)
        .await
        .unwrap();
    assert_eq!(again["idempotent"], true);
    assert_eq!(again["last_position"], first["last_position"]);
    let mut other = body.clone();
    other["title"] = json!("Something else");
    match command_to(&s.client, &meta, "assessments", "assessment_plan", &other).await {
        Err(rpc::Error::Remote(e)) => {
            assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
            assert_eq!(e.field.as_deref(), Some("command_id"));
        }
        other => panic!("a reused command id was not refused: {other:?}"),
    }

    // No id: the service mints one and says which.
    let minted = s
        .send(
            "assessments",
            "need_identify",
            json!({"member_state": "PH", "recommendation_ids": [], "theme": "CFT",
            "modality": "workshop", "description": "A workshop", "beneficiary_institution": "AMLC",
            "estimated_cost": null, "size": null, "priority": 2, "on": "2026-07-03"}),
        )
        .await;
    let minted_id = minted["id"].as_str().expect("the reply names the id");
    assert!(minted_id.parse::<Uuid>().is_ok(), "{minted}");
    let need = s.ask("need_show", json!({ "id": minted_id })).await;
    assert_eq!(need["identified_on"], "2026-07-03");

    // Bad "as of" and "known at" questions, named by field.
    for (body, field) in [
        (json!({ "as_of": "30 June" }), "as_of"),
        (json!({ "as_of": tomorrow }), "as_of"),
        (json!({ "known_at": "2099-01-01T00:00:00Z" }), "known_at"),
        (json!({ "known_at": "yesterday" }), "known_at"),
        (
            json!({ "known_at": "assessments:999999,partners:0,projects:0,reporter:0" }),
            "known_at",
        ),
        (json!({ "today": "2026-06-30" }), "today"),
    ] {
        let e = s.ask_as(&coordinator(), "need_list", body.clone()).await;
        let e = refused(e);
        assert_eq!(e.field.as_deref(), Some(field), "{body}: {e:?}");
    }
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_given_for_work_runs_with_the_work() {
    let h = Harness::start();
    let services = h.services().await;
    let mut s = Session::new(&h).await;
    record_history(&mut s).await;
    let state = principal(Role::StateFocalPoint, None, Some("PH"));
    // The State also shares the need with another donor that has no work on it.
    s.send(
        "partners",
        "organisation_register",
        json!({"id": OTHER_DONOR, "name": "Another donor", "kind": "donor_government",
        "iati_type": "10", "iati_identifier": null, "country": null, "on": "2026-01-05"}),
    )
    .await;
    s.send_as(&state, "assessments", "sharing_grant_grant",
        json!({"id": id(9), "member_state": "PH", "scope": {"type": "need", "need_id": id(3)},
        "audience": {"type": "organisations", "ids": [OTHER_DONOR]}, "until": null, "on": "2026-06-03"}))
        .await
        .unwrap();
    let partner = principal(Role::Donor, Some(PARTNER), None);
    let other = principal(Role::Donor, Some(OTHER_DONOR), None);
    let need = json!({ "id": id(3).to_string() });
    assert!(s.ask_as(&other, "need_show", need.clone()).await.is_ok());

    // The State revokes both grants.
    let reply = s
        .send_as(
            &state,
            "assessments",
            "sharing_grant_revoke",
            json!({"id": id(4), "on": "2026-08-01", "reason": "review"}),
        )
        .await
        .unwrap();
    let kept = reply["keeps_access"].as_array().expect("keeps_access");
    assert_eq!(kept.len(), 1, "{reply}");
    assert_eq!(kept[0]["organisation"], PARTNER);
    assert!(
        kept[0]["because"]
            .as_str()
            .unwrap()
            .contains(&id(5).to_string()),
        "the running referral: {reply}"
    );
    let reply = s
        .send_as(
            &state,
            "assessments",
            "sharing_grant_revoke",
            json!({"id": id(9), "on": "2026-08-01", "reason": "review"}),
        )
        .await
        .unwrap();
    assert_eq!(reply["keeps_access"], json!([]), "{reply}");

    // The partner doing the work keeps seeing the need; the other donor loses it at once, also
    // as of a day its grant was in force (consent withdrawn hides the past too).
    assert!(s.ask_as(&partner, "need_show", need.clone()).await.is_ok());
    let e = refused(s.ask_as(&other, "need_show", need.clone()).await);
    assert_eq!(e.code, ErrorCode::NotFound);
    let mut then = need.clone();
    then["as_of"] = json!("2026-06-30");
    let e = refused(s.ask_as(&other, "need_show", then).await);
    assert_eq!(e.code, ErrorCode::NotFound);
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_history_answers_as_of_the_days_it_happened() {
    // The demo data set is typed in on the day it is loaded, with the dates of the year before.
    let h = Harness::start();
    let services = h.services().await;
    h.load_demo(env!("CARGO_BIN_EXE_tatrack-under-test"));
    let s = Session::new(&h).await;
    let kenya_training = json!({ "id": "01930000-0000-7000-8000-000000000065" });
    eventually("demo coverage", Duration::from_secs(20), || async {
        let need = s.ask("need_show", kenya_training.clone()).await;
        (need["status"] == "partially_covered").then_some(())
    })
    .await;
    for (day, status) in [
        ("2026-05-19", None),
        ("2026-05-20", Some("identified")),
        ("2026-06-10", Some("agreed_with_state")),
        ("2026-06-28", Some("partially_covered")),
    ] {
        let mut body = kenya_training.clone();
        body["as_of"] = json!(day);
        match (s.ask_as(&coordinator(), "need_show", body).await, status) {
            (Ok(need), Some(status)) => assert_eq!(need["status"], status, "as of {day}"),
            (Err(e), None) => assert_eq!(e.code, ErrorCode::NotFound, "as of {day}"),
            (other, _) => panic!("as of {day}: {other:?}"),
        }
    }
    services.stop().await;
}

/// The `(stream aggregate, kind, principal)` of each entry of a `need_history` answer.
fn trail(history: &Value) -> Vec<(String, String, String)> {
    history["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let stream = e["stream"].as_str().unwrap();
            let aggregate = stream.split_once('-').map_or(stream, |(a, _)| a);
            (
                aggregate.to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
                e["principal"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_needs_history_is_its_audit_trail_by_business_date() {
    let h = Harness::start();
    let services = h.services().await;
    let mut s = Session::new(&h).await;
    record_history(&mut s).await;
    eventually("coverage", Duration::from_secs(20), || async {
        let need = s.ask("need_show", json!({ "id": id(3).to_string() })).await;
        (need["status"] == "partially_covered").then_some(())
    })
    .await;
    let need = json!({ "id": id(3).to_string() });
    let staff = coordinator();
    let partner = principal(Role::Donor, Some(PARTNER), None);
    let state = principal(Role::StateFocalPoint, None, Some("PH"));
    let who = |p: &Principal| format!("{}:{}", p.role, p.id);

    // As staff see it: the recommendation the need came from, the need, its referral and the
    // project serving it, by business date, each with who sent it; the coverage the projects
    // service derived, sent as the system. No payload travels with it.
    let history = s.ask("need_history", need.clone()).await;
    assert_eq!(history["need_id"], json!(id(3)));
    let got = trail(&history);
    let expected = [
        ("recommendation", "recommendation_recorded", who(&staff)),
        ("need", "need_identified", who(&staff)),
        ("need", "need_agreed_with_state", who(&state)),
        ("referral", "referral_proposed", who(&staff)),
        ("referral", "referral_referred", who(&staff)),
        ("referral", "referral_accepted_by_partner", who(&partner)),
        ("referral", "referral_accepted_by_state", who(&state)),
        ("project", "project_created", who(&staff)),
        // An active referral joins its project: the projects service records that too.
        ("referral", "referral_activated", who(&staff)),
        ("project", "project_referral_joined", who(&staff)),
        ("project", "project_status_changed", who(&staff)),
        ("project", "project_transaction_added", who(&staff)),
        ("project", "project_transaction_added", who(&staff)),
    ];
    let without_coverage: Vec<_> = got
        .iter()
        .filter(|(_, kind, _)| kind != "need_coverage_recorded")
        .map(|(a, k, p)| (a.as_str(), k.as_str(), p.clone()))
        .collect();
    assert_eq!(without_coverage, expected, "{history:#}");
    assert!(
        got.iter()
            .any(|(_, kind, p)| kind == "need_coverage_recorded" && p.starts_with("system")),
        "{history:#}"
    );
    let entries = history["entries"].as_array().unwrap();
    let order: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["on"].as_str().unwrap(),
                e["recorded_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0].0 <= w[1].0),
        "by business date: {order:?}"
    );
    assert_eq!(entries[1]["on"], "2026-05-20");
    assert_eq!(entries[1]["service"], "assessments");
    assert_eq!(entries[1]["stream"], format!("need-{}", id(3)));
    assert!(
        !history.to_string().contains("AMLC"),
        "no payloads: {history}"
    );

    // A new event of the project shows at once (nothing cached holds the earlier answer).
    s.send(
        "projects",
        "project_add_transaction",
        json!({"id": id(6), "transaction_id": id(63), "kind": "disbursement",
        "value": usd(10_000), "provider": DONOR, "receiver": PARTNER, "description": null,
        "on": "2026-07-20"}),
    )
    .await;
    let history = s.ask("need_history", need.clone()).await;
    let entries = history["entries"].as_array().unwrap();
    let last = entries.last().unwrap();
    assert_eq!(
        (&last["kind"], &last["on"]),
        (&json!("project_transaction_added"), &json!("2026-07-20")),
        "{history:#}"
    );

    // As of a day before the referral: the recommendation and the need only.
    let mut before_referral = need.clone();
    before_referral["as_of"] = json!("2026-06-02");
    let then = s.ask("need_history", before_referral).await;
    assert_eq!(
        trail(&then)
            .iter()
            .map(|(a, k, _)| (a.as_str(), k.as_str()))
            .collect::<Vec<_>>(),
        [
            ("recommendation", "recommendation_recorded"),
            ("need", "need_identified"),
            ("need", "need_agreed_with_state"),
        ],
        "{then:#}"
    );
    // As known when only the need had been identified (the assessments log's position then).
    let identified = entries[1]["position"].as_u64().unwrap();
    let known_at = format!("assessments:{identified},partners:0,projects:0,reporter:0");
    let known = s
        .ask(
            "need_history",
            json!({ "id": id(3).to_string(), "known_at": known_at }),
        )
        .await;
    assert_eq!(
        trail(&known)
            .iter()
            .map(|(_, k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["recommendation_recorded", "need_identified"],
        "{known:#}"
    );

    // The partner doing the work sees the need, its referral and project, but not the
    // recommendation (the State has not shared the report), and who sent each only by role.
    let seen_by_partner = s
        .ask_as(&partner, "need_history", need.clone())
        .await
        .unwrap();
    let partner_trail = trail(&seen_by_partner);
    assert!(!partner_trail.is_empty());
    assert!(partner_trail.iter().all(|(a, _, _)| a != "recommendation"));
    assert!(partner_trail.iter().any(|(a, _, _)| a == "referral"));
    assert!(partner_trail.iter().any(|(a, _, _)| a == "project"));
    assert!(
        partner_trail.iter().all(|(_, _, p)| !p.contains(':')),
        "{seen_by_partner:#}"
    );

    // A donor the need is not shared with gets the very refusal `need_show` gives it.
    let stranger = principal(Role::Donor, Some(OTHER_DONOR), None);
    let hidden = refused(s.ask_as(&stranger, "need_history", need.clone()).await);
    let shown = refused(s.ask_as(&stranger, "need_show", need.clone()).await);
    assert_eq!(hidden.code, ErrorCode::NotFound);
    assert_eq!((hidden.code, &hidden.message), (shown.code, &shown.message));

    // Over HTTP (the answer checked against the OpenAPI document), and with the CLI.
    let gw = tatrack_tests::gateway::Gateway::start(&h).await;
    let (_, token) = issue_token(&h.client().await, Role::Coordinator, None, None).await;
    gw.until_known(&token).await;
    let path = format!("/api/v1/needs/{}/history", id(3));
    let answer = gw.get(Some(&token), &path).await;
    assert_eq!(answer.status, reqwest::StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["entries"], history["entries"]);
    let answer = gw
        .get(Some(&token), &format!("{path}?as_of=2026-06-02"))
        .await;
    assert_eq!(answer.status, reqwest::StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["entries"].as_array().unwrap().len(), 3);
    let output = cli(
        env!("CARGO_BIN_EXE_tatrack-under-test"),
        &gw.base,
        Some(&token),
    )
    .args(["need", "history", &id(3).to_string()])
    .output()
    .expect("run the CLI");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("referral_accepted_by_state") && stdout.contains("2026-06-12"),
        "{stdout}"
    );
    gw.stop().await;
    services.stop().await;
}
