//! `tatrack backup` and `tatrack restore`, the binary as an operator runs it: a backup of the demo
//! data restored into a new deployment (new nats-server, empty data directory, other keys)
//! answers every view exactly as the original did, with each service's log equal to its
//! stream; a garbled manifest, a changed file, a gap in positions, a running service, a target
//! stream that holds messages or a data directory that holds a log or a projection is refused by
//! name, with nothing published.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::subjects;
use tatrack_tests::*;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_tatrack-under-test");

fn run(h: &Harness, args: &[&str]) -> Output {
    h.tatrack(BIN).args(args).output().expect("run tatrack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every list view (and the positions and rate table) as a coordinator, a donor of the demo and
/// a State's focal point see them: visibility is part of what must come back.
async fn answers(client: &async_nats::Client) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (who, principal) in [
        ("coordinator", coordinator()),
        ("donor", donor("DEMO-DONOR")),
        ("focal point", focal_point("KE")),
    ] {
        for (view, answer) in every_view_as(client, principal).await {
            out.push((who.to_owned(), view, answer));
        }
    }
    out
}

/// The read model has applied at least `positions` (it waits for them: read-your-writes).
async fn read_model_at(client: &async_nats::Client, positions: &serde_json::Map<String, Value>) {
    query_as(
        client,
        coordinator(),
        "position_show",
        &json!({ "min_positions": positions }),
    )
    .await
    .expect("the read model reaches the positions");
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_answers_every_view_as_the_original() {
    let (h, services, client) = Harness::up().await;
    h.load_demo(BIN);
    // The demo's offers ran until 2027, before the tests' today: the partners service expires
    // them at start. Restart it now, so that its start after the restore has nothing to add.
    services.stop().await;
    let services = h.services().await;
    eventually("the demo's offers expired", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let offers = query_as(&client, coordinator(), "offer_list", &json!({}))
                .await
                .ok()?;
            let live = offers.as_array()?.iter().any(|o| {
                ["draft", "open", "partially_committed"]
                    .contains(&o["status"].as_str().unwrap_or_default())
            });
            (!live).then_some(())
        }
    })
    .await;
    // A report, so the reporter's stream has events too (and the report list an entry).
    let meta = tatrack_bus::rpc::RequestMeta::new(coordinator());
    let body = json!({ "format": "json", "as_of": "2026-12-31" });
    command_to(&client, &meta, "reporter", "report_summary", &body)
        .await
        .expect("a report");
    let heads_before = heads(&client).await;
    read_model_at(&client, &heads_before).await;
    let before = answers(&client).await;
    assert!(
        before
            .iter()
            .any(|(_, v, a)| v == "project_list" && a.as_array().is_some_and(|a| !a.is_empty())),
        "the demo has a project"
    );

    let saved = tempfile::tempdir().unwrap();
    let out = saved.path().join("backup");
    let backup = run(&h, &["backup", "--out", out.to_str().unwrap()]);
    assert!(backup.status.success(), "backup: {backup:?}");
    let manifest = manifest(&out);
    for service in subjects::SERVICES {
        let head = &heads_before[service];
        assert_eq!(
            &manifest["services"][service]["last_position"], head,
            "{service}"
        );
        assert_eq!(&manifest["services"][service]["events"], head, "{service}");
        assert_eq!(&manifest["readmodel_positions"][service], head, "{service}");
        let lines = std::fs::read_to_string(out.join(format!("{service}.jsonl"))).unwrap();
        assert_eq!(
            Some(lines.lines().count() as u64),
            head.as_u64(),
            "{service}"
        );
    }
    // The time comes from the clock the binary runs on (the tests'), read when it started.
    let made_at: jiff::Timestamp = manifest["made_at"].as_str().unwrap().parse().unwrap();
    let since_start = made_at.duration_since(test_now());
    assert!(
        since_start >= jiff::SignedDuration::ZERO
            && since_start < jiff::SignedDuration::from_secs(60),
        "made at {made_at}"
    );
    services.stop().await;
    drop(client);
    drop(h);

    // Another deployment: its own nats-server, store, keys and an empty data directory.
    let h = Harness::start();
    // Its services were started once, on the empty data directory, and stopped: their streams
    // exist and are empty, which a restore accepts.
    let services = h.services().await;
    let client = h.client().await;
    assert!(heads(&client).await.values().all(|head| head == 0));
    services.stop().await;
    let data_dir = h.data_dir().to_str().unwrap();
    let restore = run(
        &h,
        &[
            "restore",
            "--from",
            out.to_str().unwrap(),
            "--data-dir",
            data_dir,
        ],
    );
    assert!(restore.status.success(), "restore: {restore:?}");
    let said = text(&restore.stdout);
    for service in subjects::SERVICES {
        let line = format!(
            "{:<12} {:>8} events into {}",
            service,
            heads_before[service].as_u64().unwrap(),
            subjects::stream_name(service)
        );
        assert!(said.contains(&line), "{line:?} missing from\n{said}");
    }

    let services = h.services().await;
    read_model_at(&client, &heads_before).await;
    // Each service took its whole log back from its stream, and added nothing to it.
    assert_eq!(heads(&client).await, heads_before);
    let after = answers(&client).await;
    assert_eq!(after.len(), before.len());
    for ((who, view, original), (_, _, restored)) in before.iter().zip(&after) {
        assert_eq!(
            original, restored,
            "{view} as {who} differs after the restore"
        );
    }
    for service in subjects::SERVICES {
        let verify = run(&h, &["stream", "verify", "--service", service]);
        assert!(
            verify.status.success() && text(&verify.stdout).starts_with("ok: stream equals log"),
            "{service}: {verify:?}"
        );
    }
    services.stop().await;
}

/// Each stream's message count, or `None` when it does not exist.
async fn stream_messages(h: &Harness) -> BTreeMap<&'static str, Option<u64>> {
    let js = tatrack_bus::jetstream(h.admin().await, Duration::from_secs(5));
    let mut out = BTreeMap::new();
    for service in subjects::SERVICES {
        let count = match js.get_stream(subjects::stream_name(service)).await {
            Ok(stream) => Some(stream.cached_info().state.messages),
            Err(_) => None,
        };
        out.insert(service, count);
    }
    out
}

/// Copies the backup in `from` into a new directory under `parent`, named `name`.
fn copy_backup(from: &Path, parent: &Path, name: &str) -> std::path::PathBuf {
    let to = parent.join(name);
    std::fs::create_dir(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

/// Asserts that restoring `dir` into `h` exits with `status` and says every part of `expected`.
fn refused(h: &Harness, dir: &Path, status: i32, expected: &[&str]) {
    let output = run(h, &["restore", "--from", dir.to_str().unwrap()]);
    let said = text(&output.stderr);
    assert_eq!(output.status.code(), Some(status), "{said}");
    for part in expected {
        assert!(said.contains(part), "{part:?} missing from: {said}");
    }
    assert!(
        text(&output.stdout).is_empty(),
        "nothing restored: {output:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_backup_or_a_deployment_in_use_is_refused_and_nothing_is_published() {
    let (h, services, client) = Harness::up().await;
    for _ in 0..3 {
        command(&client, "assessment_plan", &plan_body(Uuid::now_v7(), "KE"))
            .await
            .unwrap();
    }
    read_model_at(&client, &heads(&client).await).await;
    let saved = tempfile::tempdir().unwrap();
    let good = saved.path().join("good");
    let backup = run(&h, &["backup", "--out", good.to_str().unwrap()]);
    assert!(backup.status.success(), "backup: {backup:?}");
    // A second backup into the same directory is refused: it is not empty.
    let again = run(&h, &["backup", "--out", good.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(text(&again.stderr).contains("the directory is not empty"));

    // Into the deployment it came from: first its services run, then its streams hold data.
    let before = stream_messages(&h).await;
    assert_eq!(before["assessments"], Some(3));
    refused(
        &h,
        &good,
        5,
        &["the assessments service is running", "stop every service"],
    );
    // A proposal for an unknown need makes the projects service bring its own view of the
    // assessments stream up to that service's head before refusing it (nothing is written):
    // so its view has applied all three assessments when the services stop.
    let unknown = command(
        &client,
        "referral_propose",
        &serde_json::json!({"need_id": Uuid::now_v7(), "offer_id": Uuid::now_v7()}),
    )
    .await;
    assert!(unknown.is_err(), "an unknown need is refused: {unknown:?}");
    services.stop().await;
    refused(
        &h,
        &good,
        5,
        &["TATRACK_ASSESSMENTS already holds 3 messages"],
    );
    assert_eq!(stream_messages(&h).await, before, "nothing published");

    // Into an empty deployment, backups that are wrong in one way each.
    let empty = Harness::start();
    let garbled = copy_backup(&good, saved.path(), "garbled");
    std::fs::write(
        garbled.join("manifest.json"),
        b"{\"format\": 1, \"services\": [",
    )
    .unwrap();
    refused(
        &empty,
        &garbled,
        2,
        &["manifest.json: not a backup manifest"],
    );

    let missing = copy_backup(&good, saved.path(), "missing");
    std::fs::remove_file(missing.join("manifest.json")).unwrap();
    refused(
        &empty,
        &missing,
        2,
        &["manifest.json: cannot read the manifest"],
    );

    let corrupt = copy_backup(&good, saved.path(), "corrupt");
    let file = corrupt.join("assessments.jsonl");
    let changed = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("\"KE\"", "\"UG\"", 1);
    std::fs::write(&file, changed).unwrap();
    refused(
        &empty,
        &corrupt,
        2,
        &[
            "assessments.jsonl: checksum mismatch",
            "services.assessments.sha256",
        ],
    );

    // A line taken out, the manifest made to agree with the file: only the gap is wrong.
    let gap = copy_backup(&good, saved.path(), "gap");
    let file = gap.join("assessments.jsonl");
    let kept: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, line)| format!("{line}\n"))
        .collect();
    std::fs::write(&file, &kept).unwrap();
    let mut manifest = manifest(&gap);
    let entry = &mut manifest["services"]["assessments"];
    entry["sha256"] = json!(sha256_hex(kept.as_bytes()));
    entry["events"] = json!(2);
    entry["last_position"] = json!(2);
    std::fs::write(gap.join("manifest.json"), manifest.to_string()).unwrap();
    refused(
        &empty,
        &gap,
        2,
        &["assessments.jsonl line 2: position 3 where 2 was expected"],
    );

    // The data directory of the deployment the backup came from: its logs and read model would
    // not be replaced by the restored streams.
    let used = h.data_dir();
    let output = run(
        &empty,
        &[
            "restore",
            "--from",
            good.to_str().unwrap(),
            "--data-dir",
            used.to_str().unwrap(),
        ],
    );
    let said = text(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{said}");
    for part in [
        format!(
            "{} holds a log at position 3",
            used.join("assessments").display()
        ),
        format!(
            "{} has applied assessments:3,",
            used.join("readmodel").display()
        ),
        format!(
            "{} has applied assessments:3,",
            used.join("projects-view").display()
        ),
    ] {
        assert!(said.contains(&part), "{part:?} missing from: {said}");
    }

    let nothing: BTreeMap<&str, Option<u64>> =
        subjects::SERVICES.iter().map(|s| (*s, None)).collect();
    assert_eq!(stream_messages(&empty).await, nothing, "no stream created");

    // The good backup itself restores there (and says so in JSON, for scripts).
    let restore = run(
        &empty,
        &["restore", "--from", good.to_str().unwrap(), "--json"],
    );
    assert!(restore.status.success(), "restore: {restore:?}");
    let rows: Value = serde_json::from_slice(&restore.stdout).unwrap();
    assert_eq!(
        rows[0],
        json!({ "service": "assessments", "stream": "TATRACK_ASSESSMENTS", "events": 3 })
    );
    assert_eq!(stream_messages(&empty).await, before);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}
