//! The read model: answers "as of" a past business date (the facts dated on or before it, as
//! known now) and "as known at" an earlier time or log positions, refuses bad `as_of` and
//! `known_at` by name, and a rebuilt read model answers every view exactly as the live one did.

use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::auth::User;
use tatrack_bus::rpc::{self, ErrorCode};
use tatrack_tests::*;
use uuid::Uuid;

/// Asks the live read model until it has applied the assessments service's `position`.
async fn applied(client: &async_nats::Client, position: &Value) {
    query_as(
        client,
        coordinator(),
        "assessment_list",
        &json!({ "min_position": position }),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_answer_as_of_a_business_date_and_as_known_at_a_time_or_positions() {
    let (h, services, client) = Harness::up().await;
    // A history of three business dates, typed in today (years later): the facts carry their
    // own dates, so a past day has data without touching the log.
    let id = Uuid::now_v7();
    command(&client, "assessment_plan", &plan_body(id, "KE"))
        .await
        .unwrap();
    command(
        &client,
        "assessment_mark_conducted",
        &json!({ "id": id, "on": "2026-03-06" }),
    )
    .await
    .unwrap();
    let last = command(
        &client,
        "assessment_send_draft",
        &json!({ "id": id, "on": "2026-04-01" }),
    )
    .await
    .unwrap();
    applied(&client, &last["last_position"]).await;
    let ask = |view: &'static str, body: Value| {
        let client = client.clone();
        async move { query_as(&client, coordinator(), view, &body).await }
    };
    let show = |as_of: &'static str| ask("assessment_show", json!({ "id": id, "as_of": as_of }));

    // The live answer: its clocks count from the clock's today, years after the draft.
    let live = ask("assessment_show", json!({ "id": id })).await.unwrap();
    assert_eq!(live["status"], "draft_sent_to_state");
    assert_eq!(live["clocks"]["observations_due"], "2026-05-01");
    assert_eq!(live["clocks"]["observations_overdue"], true);
    // As of today is the live answer.
    let as_of_today = ask(
        "assessment_show",
        json!({ "id": id, "as_of": today().to_string() }),
    )
    .await
    .unwrap();
    assert_eq!(as_of_today.to_string(), live.to_string());
    // The answers of past business dates.
    assert_eq!(
        remote(show("2026-02-01").await).code,
        ErrorCode::NotFound,
        "not planned yet (planned on 2026-02-02)"
    );
    assert_eq!(show("2026-02-02").await.unwrap()["status"], "planned");
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

    // What the system knows now, as positions (the form `known_at` takes) and as a time.
    let position = ask("position_show", json!({})).await.unwrap();
    let known = position["known_at"].as_str().unwrap().to_owned();
    assert_eq!(position["positions"]["assessments"], last["last_position"]);
    assert_eq!(position["latest_business_date"], "2026-04-01");
    let known_time = h.clock.now().to_string();
    let list_april = ask("assessment_list", json!({ "as_of": "2026-04-02" }))
        .await
        .unwrap();
    assert_eq!(list_april.as_array().unwrap().len(), 1);

    // More is recorded: the assessment moves on, and a late record of another one planned
    // back in February.
    let later = command(
        &client,
        "assessment_adopt",
        &json!({ "id": id, "on": "2026-05-15" }),
    )
    .await
    .unwrap();
    let other = Uuid::now_v7();
    let late = command(&client, "assessment_plan", &plan_body(other, "JO"))
        .await
        .unwrap();
    assert!(late["last_position"].as_u64() > later["last_position"].as_u64());
    applied(&client, &late["last_position"]).await;
    let now_live = ask("assessment_show", json!({ "id": id })).await.unwrap();
    assert_eq!(now_live["status"], "adopted");
    // As of 2 April as known now: the late record counts (it is dated 2026-02-02).
    let list_now = ask("assessment_list", json!({ "as_of": "2026-04-02" }))
        .await
        .unwrap();
    assert_eq!(list_now.as_array().unwrap().len(), 2, "{list_now}");
    // As known at the positions (or the time) taken before: the earlier answers, byte for byte.
    for known_at in [known.as_str(), known_time.as_str()] {
        let then = ask(
            "assessment_list",
            json!({ "as_of": "2026-04-02", "known_at": known_at }),
        )
        .await
        .unwrap();
        assert_eq!(
            then.to_string(),
            list_april.to_string(),
            "known at {known_at}"
        );
        let then_live = ask("assessment_show", json!({ "id": id, "known_at": known_at }))
            .await
            .unwrap();
        assert_eq!(
            then_live.to_string(),
            live.to_string(),
            "known at {known_at}"
        );
        let then_other = remote(
            ask(
                "assessment_show",
                json!({ "id": other, "known_at": known_at }),
            )
            .await,
        );
        assert_eq!(then_other.code, ErrorCode::NotFound, "known at {known_at}");
    }
    let pinned = ask("position_show", json!({ "known_at": known }))
        .await
        .unwrap();
    assert_eq!(pinned["known_at"], known.as_str());

    // Bad as_of: malformed, or after today; as the known_at bad ones, refused by name.
    let tomorrow = today().tomorrow().unwrap().to_string();
    for bad in ["2026-13-01", "yesterday", tomorrow.as_str()] {
        let error = remote(ask("need_list", json!({ "as_of": bad })).await);
        assert_eq!(error.code, ErrorCode::Invalid, "{bad}: {error:?}");
        assert_eq!(error.field.as_deref(), Some("as_of"), "{bad}: {error:?}");
    }
    // Bad known_at: malformed (not a time, a day or positions; positions naming an unknown
    // service, missing one, or not applied yet), or after now.
    let in_an_hour = test_now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .to_string();
    for bad in [
        "soon",
        "2026-13-01",
        "assessments:1",
        "assessments:1,partners:0,projects:0,reporter:0,ledger:3",
        "assessments:x,partners:0,projects:0,reporter:0",
        "assessments:999999,partners:0,projects:0,reporter:0",
        tomorrow.as_str(),
        in_an_hour.as_str(),
    ] {
        let error = remote(ask("need_list", json!({ "known_at": bad })).await);
        assert_eq!(error.code, ErrorCode::Invalid, "{bad}: {error:?}");
        assert_eq!(error.field.as_deref(), Some("known_at"), "{bad}: {error:?}");
    }
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_read_model_answers_every_view_as_the_live_one() {
    let (h, services, client) = Harness::up().await;
    // The demo data set touches every service and most views.
    h.load_demo(env!("CARGO_BIN_EXE_tatrack-under-test"));
    // The demo's offers ran until 2027, years before the tests' today: the partners service
    // expires them at start (and once a minute). Restart it so that pass is behind us, or the
    // restart after the rebuild would expire them between the two answers.
    services.stop().await;
    let services = h.services().await;
    eventually("the demo's offers expired", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let offers = query_as(&client, coordinator(), "offer_list", &json!({}))
                .await
                .ok()?;
            let offers = offers.as_array()?;
            let live = |o: &&Value| {
                ["draft", "open", "partially_committed"]
                    .contains(&o["status"].as_str().unwrap_or_default())
            };
            (!offers.is_empty() && !offers.iter().any(|o| live(&o))).then_some(())
        }
    })
    .await;
    let min_positions = heads(&client).await;
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
    // A need's audit trail is kept beside the states, so the rebuild writes it again too.
    let need = json!({ "id": demo_id(101) });
    let live_history = query_as(&client, coordinator(), "need_history", &need)
        .await
        .unwrap();
    let streams: std::collections::BTreeSet<&str> = live_history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stream"].as_str().unwrap().split('-').next().unwrap())
        .collect();
    assert!(
        ["need", "referral", "project"]
            .iter()
            .all(|a| streams.contains(a)),
        "{live_history:#}"
    );
    services.stop().await;

    // Offline, as `tatrack readmodel rebuild` runs it: as the read model's own NATS user.
    let rebuilt = tatrack_readmodel::rebuild(
        h.data_dir(),
        h.client_as(User::Readmodel).await,
        |_, _, _| {},
    )
    .await
    .unwrap();
    let events: u64 = min_positions.values().map(|p| p.as_u64().unwrap()).sum();
    assert_eq!(rebuilt.events, events);

    let services = h.services().await;
    let again = every_view(&client).await;
    for ((view, live), (_, rebuilt)) in live.iter().zip(&again) {
        assert_eq!(live, rebuilt, "{view} differs after the rebuild");
    }
    let rebuilt_history = query_as(&client, coordinator(), "need_history", &need)
        .await
        .unwrap();
    assert_eq!(
        live_history, rebuilt_history,
        "need_history differs after the rebuild"
    );
    services.stop().await;
}

fn demo_id(n: u128) -> String {
    Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n).to_string()
}

/// The ids of a list answer, sorted.
fn ids_of(answer: &Value) -> Vec<String> {
    let mut ids: Vec<String> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_and_donor_views_over_the_demo_data() {
    let (h, services, client) = Harness::up().await;
    h.load_demo(env!("CARGO_BIN_EXE_tatrack-under-test"));
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

    // Filters by region and by consent: Eastern Africa (1027) holds Kenya only. Consent is as it
    // stands on the clock's today (2031): Kenya's grant to the demo donor has no end, but the
    // Philippines' grant to every donor ran until 2027-12-31, so today only Kenya's need is
    // shared (before the test clock moved to 2031, the Philippines' CFT need was too).
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
    assert_eq!(states(&shared_with_donor), ["KE".to_owned()].into());
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
    assert_eq!(ids_of(&shared), [demo_id(101)]);
    // Consent runs with the work: the demo donor's referral for the Philippines' mentoring need
    // (referred on 2026-11-02) is in progress, so the donor still sees that need although the
    // grant has expired; it sees no other need of the Philippines.
    let donor = principal(tatrack_domain::Role::Donor, Some("DEMO-DONOR"), None);
    let seen = ask("need_list", json!({}), donor.clone()).await.unwrap();
    assert_eq!(ids_of(&seen), [demo_id(101), demo_id(105)]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_model_without_the_history_index_folds_its_streams_again_at_start() {
    let (h, services, client) = Harness::up().await;
    h.load_demo(env!("CARGO_BIN_EXE_tatrack-under-test"));
    let need = json!({ "id": demo_id(101), "min_positions": heads(&client).await });
    let before = query_as(&client, coordinator(), "need_history", &need)
        .await
        .unwrap();
    let before = before["entries"].as_array().unwrap().clone();
    assert!(!before.is_empty());
    services.stop().await;

    // What a read model written before the history index holds: no 0x02 keys.
    {
        let db = sled::open(h.data_dir().join("readmodel")).unwrap();
        let mut removed = 0;
        for service in tatrack_bus::subjects::SERVICES {
            let tree = db.open_tree(service).unwrap();
            let keys: Vec<_> = tree
                .scan_prefix([0x02])
                .keys()
                .map(Result::unwrap)
                .collect();
            removed += keys.len();
            for key in keys {
                tree.remove(key).unwrap();
            }
        }
        db.flush().unwrap();
        assert!(removed >= before.len(), "{removed} history keys");
    }

    let services = h.services().await;
    let need = json!({ "id": demo_id(101), "min_positions": heads(&client).await });
    let after = eventually("the history folded again", Duration::from_secs(30), || {
        let (client, need) = (client.clone(), need.clone());
        async move {
            let answer = query_as(&client, coordinator(), "need_history", &need)
                .await
                .ok()?;
            Some(answer["entries"].as_array()?.clone())
        }
    })
    .await;
    // (The services may have recorded more since, such as offers expired at start.)
    for entry in &before {
        assert!(after.contains(entry), "{entry} is missing after the refold");
    }
    services.stop().await;
}
