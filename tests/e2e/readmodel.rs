//! The read model: answers "as of" a past day from the log, refuses bad `as_of`, and a rebuilt
//! read model answers every view exactly as the live one did.

use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, ErrorCode};
use tatrack_domain::assessment::{AssessmentEvent, AssessmentKind, Classification};
use tatrack_domain::encode;
use tatrack_eventlog::{Envelope, Store};
use tatrack_tests::*;
use uuid::Uuid;

fn remote(result: Result<Value, rpc::Error>) -> rpc::ErrorBody {
    match result {
        Err(rpc::Error::Remote(body)) => body,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// An envelope of the assessment stream as if recorded at `at`.
fn recorded(position: u64, version: u64, id: Uuid, event: &AssessmentEvent, at: &str) -> Envelope {
    let encoded = encode(event);
    Envelope {
        id: Uuid::now_v7(),
        stream: format!("assessment-{id}"),
        version,
        position,
        kind: encoded.kind,
        schema: encoded.schema,
        recorded_at: at.parse().unwrap(),
        principal: "coordinator:test".into(),
        command_id: Some(Uuid::now_v7()),
        correlation_id: None,
        payload: encoded.payload,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_answer_as_of_a_past_day_from_the_log() {
    let h = Harness::start();
    // A history written on three days, put into the log before the service starts.
    let id = Uuid::now_v7();
    {
        let store = Store::open(h.data_dir().join("assessments")).unwrap();
        let planned = AssessmentEvent::AssessmentPlanned {
            id,
            member_state: "KE".into(),
            kind: AssessmentKind::ComprehensiveVisit,
            resolutions: vec![1373],
            title: "Visit to Kenya".into(),
            visit_start: "2026-03-02".parse().unwrap(),
            visit_end: "2026-03-06".parse().unwrap(),
            classification: Classification::Restricted,
        };
        let conducted = AssessmentEvent::AssessmentConducted {
            id,
            on: "2026-03-06".parse().unwrap(),
            reason: None,
        };
        let draft = AssessmentEvent::AssessmentDraftSent {
            id,
            on: "2026-04-01".parse().unwrap(),
            reason: None,
        };
        store
            .import(recorded(1, 1, id, &planned, "2026-02-10T09:00:00Z"))
            .await
            .unwrap();
        store
            .import(recorded(2, 2, id, &conducted, "2026-03-06T17:00:00Z"))
            .await
            .unwrap();
        store
            .import(recorded(3, 3, id, &draft, "2026-04-01T12:00:00Z"))
            .await
            .unwrap();
    }
    let services = h.services().await;
    let client = h.client().await;
    let show = |as_of: &'static str| {
        let client = client.clone();
        async move {
            query_as(
                &client,
                coordinator(),
                "assessment_show",
                &json!({ "id": id, "as_of": as_of }),
            )
            .await
        }
    };
    // The live answer (once replicated), then the answers of three past days.
    eventually("live read model", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let a = query_as(
                &client,
                coordinator(),
                "assessment_show",
                &json!({ "id": id }),
            )
            .await
            .ok()?;
            (a["status"] == "draft_sent_to_state").then_some(())
        }
    })
    .await;
    assert_eq!(
        remote(show("2026-02-09").await).code,
        ErrorCode::NotFound,
        "not planned yet"
    );
    assert_eq!(show("2026-03-05").await.unwrap()["status"], "planned");
    let conducted = show("2026-03-06").await.unwrap();
    assert_eq!(conducted["status"], "conducted");
    let april = show("2026-04-02").await.unwrap();
    assert_eq!(april["status"], "draft_sent_to_state");
    // Clocks are those of that day: the 30-day observations clock had not run out on 2 April.
    assert_eq!(april["clocks"]["observations_due"], "2026-05-01");
    assert_eq!(april["clocks"]["observations_overdue"], false);
    // The same question about the same day gets byte-identical answers.
    assert_eq!(
        show("2026-03-06").await.unwrap().to_string(),
        conducted.to_string()
    );

    // Bad as_of: malformed, or not in the past.
    let tomorrow = jiff::ZonedDateTime::now()
        .date()
        .tomorrow()
        .unwrap()
        .to_string();
    for bad in ["2026-13-01", "yesterday", tomorrow.as_str()] {
        let error = remote(
            query_as(
                &client,
                coordinator(),
                "need_list",
                &json!({ "as_of": bad }),
            )
            .await,
        );
        assert_eq!(error.code, ErrorCode::Invalid, "{bad}: {error:?}");
        assert_eq!(error.field.as_deref(), Some("as_of"), "{bad}: {error:?}");
    }
    services.stop().await;
}

/// Every list view, as a coordinator sees it.
async fn every_view(client: &async_nats::Client) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for view in tatrack_readmodel::VIEWS
        .iter()
        // (The matching lists are about one need or offer, named in the query.)
        .filter(|v| {
            (v.ends_with("_list") && !v.ends_with("_match_list")) || **v == "rate_table_show"
        })
    {
        let answer = query_as(client, coordinator(), view, &json!({}))
            .await
            .unwrap();
        out.push(((*view).to_owned(), answer));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_read_model_answers_every_view_as_the_live_one() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    // The demo data set touches every service and most views.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"))
        .args(["demo", "load"])
        .env("NATS_URL", h.nats.url())
        .status()
        .unwrap();
    assert!(status.success());
    let heads: Vec<(String, u64)> = {
        let mut heads = Vec::new();
        for service in tatrack_bus::subjects::SERVICES {
            let meta = rpc::RequestMeta::new(coordinator());
            let head = command_to(&client, &meta, service, "admin_head", &json!({}))
                .await
                .unwrap();
            heads.push((service.to_owned(), head["head"].as_u64().unwrap()));
        }
        heads
    };
    let min_positions: serde_json::Map<String, Value> =
        heads.iter().map(|(s, p)| (s.clone(), json!(p))).collect();
    query_as(
        &client,
        coordinator(),
        "need_list",
        &json!({ "min_positions": min_positions }),
    )
    .await
    .unwrap();
    let live = every_view(&client).await;
    assert!(
        live.iter()
            .any(|(v, a)| v == "project_list" && a.as_array().is_some_and(|a| !a.is_empty()))
    );
    services.stop().await;

    let rebuilt = tatrack_readmodel::rebuild(h.data_dir(), client.clone(), |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(rebuilt.events, heads.iter().map(|(_, p)| p).sum::<u64>());

    let services = h.services().await;
    let again = every_view(&client).await;
    for ((view, live), (_, rebuilt)) in live.iter().zip(&again) {
        assert_eq!(live, rebuilt, "{view} differs after the rebuild");
    }
    services.stop().await;
}

fn demo_id(n: u128) -> String {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_and_donor_views_over_the_demo_data() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"))
        .args(["demo", "load"])
        .env("NATS_URL", h.nats.url())
        .status()
        .unwrap();
    assert!(status.success());
    let mut min_positions = serde_json::Map::new();
    for service in tatrack_bus::subjects::SERVICES {
        let meta = rpc::RequestMeta::new(coordinator());
        let head = command_to(&client, &meta, service, "admin_head", &json!({}))
            .await
            .unwrap();
        min_positions.insert(service.to_owned(), head["head"].clone());
    }
    let ask = |view: &'static str, body: Value, who: tatrack_domain::Principal| {
        let client = client.clone();
        let mut body = body;
        body["min_positions"] = Value::Object(min_positions.clone());
        async move { query_as(&client, who, view, &body).await }
    };

    // Unmet needs, highest priority first, then oldest.
    let unmet = ask("unmet_need_list", json!({}), coordinator())
        .await
        .unwrap();
    let unmet = unmet.as_array().unwrap();
    assert!(!unmet.is_empty());
    assert!(
        unmet
            .windows(2)
            .all(|w| w[0]["priority"].as_u64() <= w[1]["priority"].as_u64())
    );
    assert!(unmet.iter().all(|n| {
        ["identified", "agreed_with_state", "partially_covered"]
            .contains(&n["status"].as_str().unwrap())
    }));

    // A need's detail carries its coverage, its referrals and the projects serving it.
    let need = ask("need_show", json!({ "id": demo_id(101) }), coordinator())
        .await
        .unwrap();
    assert_eq!(need["status"], "partially_covered");
    assert!(need["covered_money"]["amount_minor"].as_i64().unwrap() > 0);
    assert!(!need["referrals"].as_array().unwrap().is_empty());
    assert!(!need["projects"].as_array().unwrap().is_empty());

    // Filters by region and by consent: Eastern Africa (1027) holds Kenya only; the demo donor
    // was shared Kenya's border need and the Philippines' CFT need.
    let states = |answer: &Value| {
        answer
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["member_state"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let east_africa = ask("need_list", json!({ "region": "1027" }), coordinator())
        .await
        .unwrap();
    assert_eq!(states(&east_africa), ["KE".to_owned()].into());
    let shared_with_donor = ask(
        "need_list",
        json!({ "consent": "DEMO-DONOR" }),
        coordinator(),
    )
    .await
    .unwrap();
    assert_eq!(
        states(&shared_with_donor),
        ["KE".to_owned(), "PH".to_owned()].into()
    );
    let shared = ask("need_list", json!({ "consent": "shared" }), coordinator())
        .await
        .unwrap();
    let not_shared = ask(
        "need_list",
        json!({ "consent": "not_shared" }),
        coordinator(),
    )
    .await
    .unwrap();
    let all = ask("need_list", json!({}), coordinator()).await.unwrap();
    assert_eq!(
        shared.as_array().unwrap().len() + not_shared.as_array().unwrap().len(),
        all.as_array().unwrap().len()
    );
    assert!(shared.as_array().unwrap().len() >= 2);
    // Values that name nothing are refused by name; a donor may not filter by consent.
    for (body, field) in [
        (json!({ "status": "bogus" }), "status"),
        (json!({ "theme": "XXX" }), "theme"),
        (json!({ "member_state": "ZZ" }), "member_state"),
        (json!({ "region": "1" }), "region"),
        (json!({ "priority": 7 }), "priority"),
    ] {
        let error = remote(ask("need_list", body.clone(), coordinator()).await);
        assert_eq!(error.code, ErrorCode::Invalid, "{body}");
        assert_eq!(error.field.as_deref(), Some(field), "{body}");
    }
    let donor = principal(tatrack_domain::Role::Donor, Some("DEMO-DONOR"), None);
    let error = remote(ask("need_list", json!({ "consent": "OTHER" }), donor).await);
    assert_eq!(error.code, ErrorCode::Forbidden);
    assert_eq!(error.field.as_deref(), Some("consent"));

    // The Philippines: CFT partially implemented (50 %), ILC implemented (100 %).
    let rates = ask(
        "recommendation_rate_list",
        json!({ "member_state": "PH" }),
        coordinator(),
    )
    .await
    .unwrap();
    let rate = |theme: &str| {
        rates
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["theme"] == theme)
            .unwrap()["implementation_rate_percent"]
            .clone()
    };
    assert_eq!(rate("CFT"), json!(50));
    assert_eq!(rate("ILC"), json!(100));

    // The demo donor's portfolio, as the donor sees it; another donor gets not found.
    let donor = principal(tatrack_domain::Role::Donor, Some("DEMO-DONOR"), None);
    let portfolio = ask("portfolio_show", json!({}), donor).await.unwrap();
    assert_eq!(portfolio["organisation"], "DEMO-DONOR");
    assert!(!portfolio["offers"].as_array().unwrap().is_empty());
    assert!(!portfolio["projects"].as_array().unwrap().is_empty());
    assert!(portfolio["money"]["committed"]["USD"].as_i64().unwrap() > 0);
    let other = principal(tatrack_domain::Role::Donor, Some("OTHER-DONOR"), None);
    let refused = remote(
        ask(
            "portfolio_show",
            json!({ "organisation": "DEMO-DONOR" }),
            other,
        )
        .await,
    );
    assert_eq!(refused.code, ErrorCode::NotFound);
    services.stop().await;
}
