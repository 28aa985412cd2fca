//! Commands over NATS through the assessments service and queries through the read model:
//! the happy path, idempotency, access, and every kind of bad input (named field, nothing written).

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, ErrorCode, RequestMeta};
use tatrack_domain::Role;
use tatrack_tests::*;
use uuid::Uuid;

/// The next position the log will write, found by appending a harmless new assessment.
async fn next_position(client: &async_nats::Client) -> u64 {
    let reply = command(client, "assessment_plan", &plan_body(Uuid::now_v7(), "KE"))
        .await
        .unwrap();
    reply["last_position"].as_u64().unwrap() + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_goes_from_identified_to_shared_and_the_read_model_follows() {
    let (_h, services, client) = Harness::up().await;
    let assessment = Uuid::now_v7();
    command(&client, "assessment_plan", &plan_body(assessment, "KE"))
        .await
        .unwrap();
    for (verb, on) in [
        ("assessment_mark_conducted", "2026-03-06"),
        ("assessment_send_draft", "2026-04-01"),
        ("assessment_adopt", "2026-05-15"),
    ] {
        command(&client, verb, &json!({ "id": assessment, "on": on }))
            .await
            .unwrap();
    }
    let recommendation = Uuid::now_v7();
    command(
        &client,
        "recommendation_record",
        &json!({ "id": recommendation, "assessment_id": assessment, "member_state": "",
        "theme": "BOR", "priority": 1, "text": "Train border police in traveller screening.",
        "on": "2026-05-15" }),
    )
    .await
    .unwrap();
    let need = Uuid::now_v7();
    command(&client, "need_identify", &json!({ "id": need, "member_state": "KE", "recommendation_ids": [recommendation],
        "theme": "BOR", "modality": "training", "description": "Train 200 officers", "beneficiary_institution": "Border Police Unit",
        "estimated_cost": { "amount_minor": 45_000_000, "currency": "USD" }, "size": { "measure": "officers trained", "quantity": 200 },
        "priority": 1, "on": "2026-06-01" })).await.unwrap();
    // Only the State (or staff) agrees; a focal point of another State may not.
    let other_state = RequestMeta::new(principal(Role::StateFocalPoint, None, Some("JO")));
    let refused = remote(
        command_as(
            &client,
            &other_state,
            "need_agree_with_state",
            &json!({ "id": need, "on": "2026-06-10" }),
        )
        .await,
    );
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let kenya = RequestMeta::new(principal(Role::StateFocalPoint, None, Some("KE")));
    command_as(
        &client,
        &kenya,
        "need_agree_with_state",
        &json!({ "id": need, "on": "2026-06-10" }),
    )
    .await
    .unwrap();
    let kenya_again = RequestMeta::new(principal(Role::StateFocalPoint, None, Some("KE")));
    let shared = command_as(&client, &kenya_again, "sharing_grant_grant", &json!({ "id": Uuid::now_v7(), "member_state": "KE",
        "scope": { "type": "need", "need_id": need }, "audience": { "type": "organisations", "ids": ["DONOR-A"] },
        "until": null, "on": "2026-06-12" })).await.unwrap();

    // Read your writes: the query waits for the position the last command wrote.
    let min = shared["last_position"].as_u64().unwrap();
    let shown = query_as(
        &client,
        coordinator(),
        "need_show",
        &json!({ "id": need, "min_position": min }),
    )
    .await
    .unwrap();
    assert_eq!(shown["status"], "agreed_with_state");
    assert_eq!(shown["recommendation_ids"], json!([recommendation]));
    let donor_a = principal(Role::Donor, Some("DONOR-A"), None);
    let donor_b = principal(Role::Donor, Some("DONOR-B"), None);
    let seen_a = query_as(
        &client,
        donor_a,
        "need_list",
        &json!({ "min_position": min }),
    )
    .await
    .unwrap();
    assert_eq!(seen_a.as_array().unwrap().len(), 1);
    let seen_b = query_as(
        &client,
        donor_b.clone(),
        "need_list",
        &json!({ "min_position": min }),
    )
    .await
    .unwrap();
    assert_eq!(seen_b, json!([]));
    let hidden = remote(query_as(&client, donor_b, "need_show", &json!({ "id": need })).await);
    assert_eq!(
        hidden.code,
        ErrorCode::NotFound,
        "an invisible need is answered as not found"
    );
    // Confidential recommendation text is redacted for auditors.
    let recs = query_as(
        &client,
        principal(Role::Auditor, None, None),
        "recommendation_list",
        &json!({ "min_position": min }),
    )
    .await
    .unwrap();
    assert_eq!(recs[0]["text"], "[confidential]");
    // Clocks count from the business date asked about (`as_of`; the old `today` parameter is
    // gone and refused by name): adopted on 2026-05-15, the State's response was due six months
    // later, so on 2026-11-16 it is overdue, and on 2026-11-15 not yet.
    let clocks = query_as(
        &client,
        coordinator(),
        "assessment_show",
        &json!({ "id": assessment, "as_of": "2026-11-16" }),
    )
    .await
    .unwrap();
    assert_eq!(clocks["clocks"]["response_due"], "2026-11-15");
    assert_eq!(clocks["clocks"]["response_overdue"], true);
    let on_the_day = query_as(
        &client,
        coordinator(),
        "assessment_show",
        &json!({ "id": assessment, "as_of": "2026-11-15" }),
    )
    .await
    .unwrap();
    assert_eq!(on_the_day["clocks"]["response_overdue"], false);
    let error = remote(
        query_as(
            &client,
            coordinator(),
            "assessment_show",
            &json!({ "id": assessment, "today": "2026-11-16" }),
        )
        .await,
    );
    assert_eq!(error.code, ErrorCode::Invalid);
    assert!(error.message.contains("today"), "{error:?}");
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_command_id_returns_the_first_answer_and_writes_nothing() {
    let (_h, services, client) = Harness::up().await;
    let meta = RequestMeta::new(coordinator());
    let id = Uuid::now_v7();
    let first = command_as(&client, &meta, "assessment_plan", &plan_body(id, "KE"))
        .await
        .unwrap();
    // Deciding the same command again would be refused (already exists): the first answer wins.
    let again = command_as(&client, &meta, "assessment_plan", &plan_body(id, "KE"))
        .await
        .unwrap();
    assert_eq!(again["first_position"], first["first_position"]);
    assert_eq!(again["idempotent"], true);
    // The next command lands right after the first: the retry wrote nothing.
    assert_eq!(
        next_position(&client).await,
        first["last_position"].as_u64().unwrap() + 2
    );
    // The same command id with a different body is not a retry: refused by name, nothing written.
    let mut changed = plan_body(id, "KE");
    changed["title"] = json!("Another visit");
    let before = next_position(&client).await;
    let reused = remote(command_as(&client, &meta, "assessment_plan", &changed).await);
    assert_eq!(reused.code, ErrorCode::Conflict, "{reused:?}");
    assert_eq!(reused.field.as_deref(), Some("command_id"), "{reused:?}");
    assert_eq!(next_position(&client).await, before + 1);
    // A creating command without an id gets one minted by the service; its retry gets the same.
    let meta = RequestMeta::new(coordinator());
    let mut anonymous = plan_body(Uuid::nil(), "KE");
    anonymous.as_object_mut().unwrap().remove("id");
    let minted = command_as(&client, &meta, "assessment_plan", &anonymous)
        .await
        .unwrap();
    let minted_id: Uuid = minted["id"].as_str().unwrap().parse().unwrap();
    let retried = command_as(&client, &meta, "assessment_plan", &anonymous)
        .await
        .unwrap();
    assert_eq!(retried["id"], minted["id"]);
    assert_eq!(retried["idempotent"], true);
    let shown = query_as(
        &client,
        coordinator(),
        "assessment_show",
        &json!({ "id": minted_id, "min_position": minted["last_position"] }),
    )
    .await
    .unwrap();
    assert_eq!(shown["status"], "planned");
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_by_name_and_nothing_is_written() {
    let (_h, services, client) = Harness::up().await;
    let assessment = Uuid::now_v7();
    command(&client, "assessment_plan", &plan_body(assessment, "KE"))
        .await
        .unwrap();

    let plan = |edit: &dyn Fn(&mut Value)| {
        let mut body = plan_body(Uuid::now_v7(), "KE");
        edit(&mut body);
        body
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "assessment_plan",
            plan(&|b| b["member_state"] = json!("XX")),
            "member_state",
        ),
        (
            "assessment_plan",
            plan(&|b| b["title"] = json!("   ")),
            "title",
        ),
        (
            "assessment_plan",
            plan(&|b| b["title"] = json!("t".repeat(201))),
            "title",
        ),
        (
            "assessment_plan",
            plan(&|b| b["resolutions"] = json!([])),
            "resolutions",
        ),
        (
            "assessment_plan",
            plan(&|b| b["visit_end"] = json!("2026-03-01")),
            "visit_end",
        ),
        (
            "assessment_plan",
            plan(&|b| {
                b.as_object_mut().unwrap().remove("title");
            }),
            "title",
        ),
        (
            "assessment_plan",
            plan(&|b| b["visit_start"] = json!("2026-02-30")),
            "visit_start",
        ),
        // Business dates: malformed, after the clock's today, or before the aggregate's last move.
        (
            "assessment_plan",
            plan(&|b| b["on"] = json!("2026-02-30")),
            "on",
        ),
        (
            "assessment_plan",
            plan(&|b| b["on"] = json!(today().tomorrow().unwrap().to_string())),
            "on",
        ),
        (
            "assessment_mark_conducted",
            json!({ "id": assessment, "on": "2026-01-15" }),
            "on",
        ),
        // A move the lifecycle forbids: planned cannot be adopted.
        (
            "assessment_adopt",
            json!({ "id": assessment, "on": "2026-05-01" }),
            "status",
        ),
        // A command for an aggregate that does not exist.
        (
            "assessment_adopt",
            json!({ "id": Uuid::now_v7(), "on": "2026-05-01" }),
            "",
        ),
        (
            "recommendation_record",
            json!({ "id": Uuid::now_v7(), "assessment_id": assessment, "member_state": "",
            "theme": "NOPE", "priority": 1, "text": "x" }),
            "theme",
        ),
        (
            "recommendation_record",
            json!({ "id": Uuid::now_v7(), "assessment_id": assessment, "member_state": "",
            "theme": "BOR", "priority": 4, "text": "x" }),
            "priority",
        ),
        (
            "recommendation_record",
            json!({ "id": Uuid::now_v7(), "assessment_id": assessment, "member_state": "",
            "theme": "BOR", "priority": 1, "text": "x".repeat(20_001) }),
            "text",
        ),
        (
            "need_identify",
            json!({ "id": Uuid::now_v7(), "member_state": "KE", "recommendation_ids": [], "theme": "BOR",
            "modality": "training", "description": "d", "beneficiary_institution": "b",
            "estimated_cost": { "amount_minor": 100, "currency": "XYZ" }, "size": null, "priority": 1 }),
            "estimated_cost",
        ),
        (
            "need_identify",
            json!({ "id": Uuid::now_v7(), "member_state": "KE", "recommendation_ids": [], "theme": "BOR",
            "modality": "training", "description": "d", "beneficiary_institution": "b",
            "estimated_cost": { "amount_minor": -5, "currency": "USD" }, "size": null, "priority": 1 }),
            "estimated_cost",
        ),
        (
            "need_identify",
            json!({ "id": Uuid::now_v7(), "member_state": "KE", "recommendation_ids": [Uuid::now_v7()], "theme": "BOR",
            "modality": "training", "description": "d", "beneficiary_institution": "b",
            "estimated_cost": null, "size": null, "priority": 1 }),
            "recommendation_ids",
        ),
        (
            "sharing_grant_grant",
            json!({ "id": Uuid::now_v7(), "member_state": "KE", "scope": { "type": "need", "need_id": Uuid::now_v7() },
            "audience": { "type": "all_donors" }, "until": null, "on": "2026-06-12" }),
            "scope",
        ),
    ];
    for (verb, body, field) in cases {
        let before = next_position(&client).await;
        let error = remote(command(&client, verb, &body).await);
        if field.is_empty() {
            assert_eq!(error.code, ErrorCode::NotFound, "{verb} {body}: {error:?}");
        } else {
            assert_eq!(error.code, ErrorCode::Invalid, "{verb} {body}: {error:?}");
            let named = error.field.as_deref().unwrap_or_default();
            assert!(
                named.contains(field),
                "{verb}: expected field {field}, got {error:?}"
            );
        }
        assert_eq!(
            next_position(&client).await,
            before + 1,
            "{verb} wrote something for {field}"
        );
    }

    // Malformed JSON, a body that is not an object, and a payload over 1 MiB.
    let meta = RequestMeta::new(coordinator());
    let subject = tatrack_bus::subjects::command_subject("assessments", "assessment_plan");
    for (payload, field) in [
        (b"{ not json".to_vec(), "body"),
        (b"[1, 2]".to_vec(), "body"),
        (
            format!("{{\"title\": \"{}\"}}", "x".repeat(1024 * 1024 + 10)).into_bytes(),
            "payload",
        ),
    ] {
        let before = next_position(&client).await;
        let result: Result<Value, _> = rpc::request_raw(
            &client,
            &subject,
            &meta,
            payload.into(),
            std::time::Duration::from_secs(10),
        )
        .await;
        let error = remote(result);
        assert_eq!(error.code, ErrorCode::Invalid);
        assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
        assert_eq!(next_position(&client).await, before + 1);
    }

    // Who may not: a donor plans nothing; an auditor moves nothing.
    for role in [Role::Donor, Role::Auditor] {
        let meta = RequestMeta::new(principal(role, Some("DONOR-A"), None));
        let error = remote(
            command_as(
                &client,
                &meta,
                "assessment_plan",
                &plan_body(Uuid::now_v7(), "KE"),
            )
            .await,
        );
        assert_eq!(error.code, ErrorCode::Forbidden);
    }
    // Unknown query parameters are refused by name.
    let error = remote(
        query_as(
            &client,
            coordinator(),
            "need_list",
            &json!({ "colour": "red" }),
        )
        .await,
    );
    assert_eq!(error.code, ErrorCode::Invalid);
    assert!(error.message.contains("colour"), "{error:?}");
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expected_version_that_is_not_current_is_a_conflict_and_writes_nothing() {
    let (_h, services, client) = Harness::up().await;
    let id = Uuid::now_v7();
    let planned = command(&client, "assessment_plan", &plan_body(id, "KE"))
        .await
        .unwrap();
    assert_eq!(planned["stream_version"], 1);
    let stale = RequestMeta {
        expected_version: Some(0),
        ..RequestMeta::new(coordinator())
    };
    let error = remote(
        command_as(
            &client,
            &stale,
            "assessment_mark_conducted",
            &json!({ "id": id, "on": "2026-03-06" }),
        )
        .await,
    );
    assert_eq!(error.code, ErrorCode::Conflict);
    assert_eq!(error.actual_version, Some(1));
    let current = RequestMeta {
        expected_version: Some(1),
        ..RequestMeta::new(coordinator())
    };
    let moved = command_as(
        &client,
        &current,
        "assessment_mark_conducted",
        &json!({ "id": id, "on": "2026-03-06" }),
    )
    .await
    .unwrap();
    assert_eq!(moved["stream_version"], 2);
    assert_eq!(
        moved["first_position"].as_u64(),
        Some(planned["last_position"].as_u64().unwrap() + 1)
    );
    services.stop().await;
}
