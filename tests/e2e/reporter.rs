//! The reporter against real NATS, sled and every service: a summary in each format from the demo
//! data plus another donor's project (facts with past business dates, so a past day has data),
//! byte-identical when made again for the same `as_of` and `known_at` after more events, late
//! facts counted only when asked as known now, cut to what a donor may see, recorded as
//! `report_made` with the checksum of its bytes in the reporter's stream, bad input refused by
//! name with nothing written, and the cron schedule.

use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, ErrorCode, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::Role;
use tatrack_eventlog::{Envelope, Store};
use tatrack_tests::*;

const OTHER_DONOR: &str = "OTHER-DONOR";
/// The demo's need for border-police training in Kenya, which the demo project serves.
const KENYA_BORDER_TRAINING: &str = "01930000-0000-7000-8000-000000000065";
/// The business date the reports are as of: after every fact of the demo (the latest is
/// 2026-11-02) and of the other donor's project, long before the tests' clock's today.
const DAY: &str = "2026-12-31";

async fn summary(
    client: &async_nats::Client,
    who: tatrack_domain::Principal,
    body: Value,
) -> Result<Value, rpc::Error> {
    command_to(
        client,
        &RequestMeta::new(who),
        "reporter",
        "report_summary",
        &body,
    )
    .await
}

/// Waits until the read model has applied every service's durable head.
async fn settled(client: &async_nats::Client) {
    let min_positions = heads(client).await;
    eventually("read model caught up", Duration::from_secs(60), || {
        let client = client.clone();
        let body = json!({ "min_positions": min_positions });
        async move {
            query_as(&client, coordinator(), "need_list", &body)
                .await
                .ok()
        }
    })
    .await;
}

/// The demo data (its facts dated in 2025 and 2026) plus another donor's project in Kenya,
/// dated in 2026, and every service running over it; the read model has applied all of it.
/// Past days have data through the facts' business dates: nothing is back-dated in a log.
async fn demo() -> (Harness, Services) {
    let (h, services, client) = Harness::up().await;
    h.load_demo(env!("CARGO_BIN_EXE_tatrack-under-test"));
    // A new command id for each command (one id twice is the same command, answered once).
    let meta = || RequestMeta::new(coordinator());
    command_to(
        &client,
        &meta(),
        "partners",
        "organisation_register",
        &json!({"id": OTHER_DONOR, "name": "Another donor government",
            "kind": "donor_government", "iati_type": "10", "iati_identifier": null, "country": null,
            "on": "2026-01-02"}),
    )
    .await
    .unwrap();
    donor_project(
        &client,
        OTHER_DONOR,
        "OTHER-DONOR-TATRACK-9",
        "Other donor's stadium security course",
        &[KENYA_BORDER_TRAINING],
    )
    .await;
    settled(&client).await;
    (h, services)
}

/// A JO need (civil defence training), identified on `on` (the service's today when `None`).
async fn jordan_need(client: &async_nats::Client, on: Option<&str>) -> u64 {
    let reply = command_to(client, &RequestMeta::new(coordinator()), "assessments", "need_identify", &json!({
        "id": uuid::Uuid::now_v7(), "member_state": "JO", "recommendation_ids": [], "theme": "CIP",
        "modality": "training", "description": "A need recorded after the report", "beneficiary_institution": "Civil Defence",
        "estimated_cost": {"amount_minor": 1_000_000, "currency": "USD"}, "size": null, "priority": 2, "on": on}))
    .await
    .unwrap();
    reply["last_position"].as_u64().unwrap()
}

/// Jordan's needs in a JSON report, all statuses together.
fn jordan_needs(report: &Value) -> u64 {
    let json: Value = serde_json::from_str(report["content"].as_str().unwrap()).unwrap();
    json["needs"]["by_state"]["JO"]
        .as_object()
        .map_or(0, |statuses| {
            statuses.values().filter_map(Value::as_u64).sum()
        })
}

fn sha256(bytes: &[u8]) -> String {
    tatrack_reporter::checksum(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_as_of_a_day_in_every_format_are_reproducible_role_aware_and_recorded() {
    let (h, services) = demo().await;
    let client = h.client().await;

    // A summary in each format, as a coordinator.
    let mut first = Vec::new();
    for format in ["markdown", "html", "csv", "json"] {
        let made = summary(
            &client,
            coordinator(),
            json!({"format": format, "as_of": DAY}),
        )
        .await
        .unwrap();
        let content = made["content"].as_str().unwrap().to_owned();
        assert_eq!(made["checksum"], sha256(content.as_bytes()));
        assert_eq!(made["size"], content.len());
        assert!(made["last_position"].as_u64().unwrap() > 0);
        assert_eq!(made["as_of"], DAY);
        assert_eq!(made["provisional"], false, "a past day: {made}");
        let known_at = made["known_at"].as_str().unwrap();
        assert!(
            known_at.contains("assessments:") && known_at.contains("projects:"),
            "{known_at}"
        );
        first.push((format, content, made));
    }
    let text = |f: &str| first.iter().find(|(x, _, _)| *x == f).unwrap().1.clone();
    let made = |f: &str| first.iter().find(|(x, _, _)| *x == f).unwrap().2.clone();
    // The report says which business date it is for and what the system knew when it was made.
    let markdown = text("markdown");
    let preamble = format!(
        "- As of: {DAY} (business date), as known at {} (",
        made("markdown")["known_at"].as_str().unwrap()
    );
    assert!(markdown.contains(&preamble), "{preamble}\n{markdown}");
    assert!(!markdown.contains("provisional"), "{markdown}");
    assert!(markdown.contains("## Coverage by theme"));
    assert!(markdown.contains(OTHER_DONOR));
    assert!(text("html").contains("<svg "));
    assert!(text("csv").lines().nth(1).unwrap().contains("#org+funder"));
    let json: Value = serde_json::from_str(&text("json")).unwrap();
    assert_eq!(json["as_of"], DAY);
    assert_eq!(json["known_at"], made("json")["known_at"]);
    assert!(json["needs"]["by_state"]["JO"].is_object(), "{json}");
    // The demo project's commitment (USD) and the other donor's (EUR, converted with the rate).
    assert!(
        json["money_by_funder"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["funder"] == OTHER_DONOR)
    );
    // Two donors' projects for the same State, theme and beneficiary over the same months.
    assert_eq!(json["overlaps"]["available"], true, "{json}");
    let overlaps = json["overlaps"]["rows"].as_array().unwrap();
    assert!(
        overlaps.iter().any(|o| o["member_state"] == "KE"
            && o["items"].to_string().contains(OTHER_DONOR)
            && o["items"].to_string().contains("DEMO-DONOR")),
        "{json}"
    );

    // A donor's report: the needs shared with it, its own projects only.
    let donor = principal(Role::Donor, Some("DEMO-DONOR"), None);
    for format in ["json", "csv", "markdown"] {
        let made = summary(
            &client,
            donor.clone(),
            json!({"format": format, "as_of": DAY}),
        )
        .await
        .unwrap();
        let content = made["content"].as_str().unwrap();
        assert!(!content.contains(OTHER_DONOR), "{format}: {content}");
        assert!(!content.contains("Other donor's"), "{format}");
        if format == "json" {
            let j: Value = serde_json::from_str(content).unwrap();
            assert!(j["needs"]["by_state"]["JO"].is_null(), "unshared: {j}");
            assert_eq!(j["needs"]["by_state"]["KE"]["partially_covered"], 1, "{j}");
            assert_eq!(j["audience"], "donor DEMO-DONOR");
        }
    }

    // More events: a late fact (a need identified before the day, recorded only now) and one
    // dated today, after the day.
    let late = jordan_need(&client, Some("2026-12-01")).await;
    jordan_need(&client, None).await;
    settled(&client).await;
    // Made again for the same day as known at the same positions: not a byte moves (before
    // business dates, "the same day" was enough; now the positions pin what was known).
    for (format, content, made) in &first {
        let again = summary(
            &client,
            coordinator(),
            json!({"format": format, "as_of": DAY, "known_at": made["known_at"]}),
        )
        .await
        .unwrap();
        assert_eq!(again["content"].as_str().unwrap(), content, "{format}");
        assert_eq!(again["checksum"], made["checksum"]);
        assert_eq!(again["known_at"], made["known_at"]);
        assert_ne!(
            again["id"], made["id"],
            "each report made is its own record"
        );
    }
    // Made again for the same day as known now: the late fact counts, the one dated after the
    // day does not.
    let now = summary(
        &client,
        coordinator(),
        json!({"format": "json", "as_of": DAY}),
    )
    .await
    .unwrap();
    assert_ne!(now["known_at"], made("json")["known_at"]);
    assert_eq!(
        jordan_needs(&now),
        jordan_needs(&made("json")) + 1,
        "one more need in Jordan as of {DAY}: {}",
        now["content"]
    );
    // ... and the read model says which recorded fact changed the first report's figures.
    let report_position = made("json")["last_position"].as_u64().unwrap();
    let changes = query_as(
        &client,
        coordinator(),
        "change_list",
        &json!({ "report_id": made("json")["id"],
                 "min_positions": { "assessments": late, "reporter": report_position } }),
    )
    .await
    .unwrap();
    let changes = changes["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["service"] == "assessments"
            && c["position"] == late
            && c["on"] == "2026-12-01"),
        "the late need among the changes: {changes:?}"
    );
    assert!(
        changes.iter().all(|c| c["on"].as_str().unwrap() <= DAY),
        "only facts dated on or before {DAY}: {changes:?}"
    );

    // Each report is in the reporter's stream as report_made with the checksum of its bytes
    // (read as the admin: the gateway's user may not read streams).
    let js = tatrack_bus::jetstream(h.admin().await, Duration::from_secs(5));
    for (format, content, made) in &first {
        let position = made["last_position"].as_u64().unwrap();
        let envelope: Envelope =
            eventually("report_made in the stream", Duration::from_secs(20), || {
                let js = js.clone();
                async move {
                    let stream = js
                        .get_stream(subjects::stream_name("reporter"))
                        .await
                        .ok()?;
                    let message = stream.get_raw_message(position).await.ok()?;
                    serde_json::from_slice(&message.payload).ok()
                }
            })
            .await;
        assert_eq!(envelope.kind, "report_made");
        assert_eq!(envelope.principal, "coordinator:test-coordinator");
        assert_eq!(envelope.payload["format"], *format);
        assert_eq!(envelope.payload["as_of"], DAY);
        assert_eq!(envelope.payload["id"], made["id"]);
        assert_eq!(envelope.payload["checksum"], sha256(content.as_bytes()));
        assert_eq!(envelope.payload["size"], content.len());
        assert_eq!(envelope.payload["requested_by"]["role"], "coordinator");
        // The positions it was made from, as the reply gave them; made today.
        let known_at: Vec<String> = envelope.payload["known_at"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(service, position)| format!("{service}:{position}"))
            .collect();
        assert_eq!(known_at.join(","), made["known_at"].as_str().unwrap());
        assert_eq!(envelope.payload["on"], today().to_string());
        assert_eq!(envelope.on, Some(today()));
    }
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_by_name_and_nothing_is_written() {
    let (h, services, client) = Harness::up().await;
    let yesterday = today().yesterday().unwrap().to_string();
    let tomorrow = today().tomorrow().unwrap().to_string();
    // One good report first, so the stream exists and has a head to compare with. Without
    // `as_of` it is as of today (new: `as_of` used to be required), which is provisional: the
    // reply says so; the content says which day and which positions it is made from.
    let made = summary(&client, coordinator(), json!({"format": "markdown"}))
        .await
        .unwrap();
    assert_eq!(made["as_of"], today().to_string(), "{made}");
    assert_eq!(made["provisional"], true, "{made}");
    let content = made["content"].as_str().unwrap();
    assert!(
        content.contains(&format!(
            "- As of: {} (business date), as known at {} (",
            today(),
            made["known_at"].as_str().unwrap()
        )),
        "{content}"
    );
    assert!(!content.contains("provisional"), "{content}");
    let before = heads(&client).await["reporter"].clone();
    let an_hour_from_now = test_now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .to_string();
    for (body, field) in [
        (json!({"format": "pdf", "as_of": yesterday}), "format"),
        (json!({"format": "csv", "as_of": tomorrow}), "as_of"),
        (json!({"format": "csv", "as_of": "last tuesday"}), "as_of"),
        (
            json!({"format": "csv", "as_of": yesterday, "member_state": "XX"}),
            "member_state",
        ),
        (
            json!({"format": "csv", "as_of": yesterday, "theme": "NOPE"}),
            "theme",
        ),
        (
            json!({"format": "csv", "as_of": yesterday, "region": "0"}),
            "region",
        ),
        (
            json!({"format": "csv", "as_of": yesterday, "donor": "NOBODY"}),
            "donor",
        ),
        (
            json!({"format": "csv", "as_of": yesterday, "colour": "red"}),
            "colour",
        ),
        // The day it is made on is today (the service fills it in), never later, and the
        // business date it is as of is not after it.
        (json!({"format": "csv", "on": tomorrow}), "on"),
        (
            json!({"format": "csv", "as_of": today().to_string(), "on": yesterday}),
            "as_of",
        ),
        // As known at: a time, a day or positions, never after now.
        (
            json!({"format": "csv", "as_of": yesterday, "known_at": "last tuesday"}),
            "known_at",
        ),
        (
            json!({"format": "csv", "as_of": yesterday, "known_at": tomorrow}),
            "known_at",
        ),
        (
            json!({"format": "csv", "as_of": yesterday, "known_at": an_hour_from_now}),
            "known_at",
        ),
        (
            json!({"format": "csv", "as_of": yesterday,
                   "known_at": "assessments:999999,partners:0,projects:0,reporter:0"}),
            "known_at",
        ),
    ] {
        let error = remote(summary(&client, coordinator(), body.clone()).await);
        assert_eq!(error.code, ErrorCode::Invalid, "{body}: {error:?}");
        assert_eq!(error.field.as_deref(), Some(field), "{body}: {error:?}");
    }
    assert_eq!(heads(&client).await["reporter"], before, "nothing written");
    services.stop().await;

    // A schedule that does not parse stops the reporter before it starts, naming the setting.
    let output = h
        .tatrack(env!("CARGO_BIN_EXE_tatrack-under-test"))
        .args(["serve", "reporter", "--report-schedule", "every morning"])
        .env("TATRACK_DATA_DIR", h.data_dir())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--report-schedule"), "{stderr}");
    let store = Store::open(h.data_dir().join("reporter"), &h.clock).unwrap();
    assert_eq!(store.durable_position(), before.as_u64().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_makes_yesterdays_summary_in_every_format_once() {
    let h = Harness::start();
    // Every second: the first run records the four reports, later runs find them recorded.
    let schedule = tatrack_reporter::Schedule::parse("test", "* * * * * *").unwrap();
    let services = Services::start_with(&h.nats, h.data_dir().to_path_buf(), Some(schedule)).await;
    let client = h.client().await;
    let head = eventually("four scheduled reports", Duration::from_secs(120), || {
        let client = client.clone();
        async move {
            let head = heads(&client).await["reporter"].as_u64()?;
            (head >= 4).then_some(head)
        }
    })
    .await;
    // A few more firings add nothing (a pause to let them happen, not a wait for a result).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(heads(&client).await["reporter"].as_u64(), Some(head));
    assert_eq!(head, 4);
    services.stop().await;
    let store = Store::open(h.data_dir().join("reporter"), &h.clock).unwrap();
    let events = store.read_all(1, 10).unwrap();
    let mut formats: Vec<String> = events
        .iter()
        .map(|e| {
            assert_eq!(e.kind, "report_made");
            assert_eq!(e.principal, "system:system");
            assert_eq!(e.payload["as_of"], today().yesterday().unwrap().to_string());
            e.payload["format"].as_str().unwrap().to_owned()
        })
        .collect();
    formats.sort();
    assert_eq!(formats, ["csv", "html", "json", "markdown"]);
}
