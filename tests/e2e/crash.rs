//! SIGKILL `tatrack up` (the real binary, as a child process) while clients send commands, again
//! and again; afterwards every acknowledged command is there exactly once, the stream equals the
//! log, and the read model shows every acknowledged assessment.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_tests::*;
use uuid::Uuid;

const ROUNDS: u32 = 4;
const CLIENTS: usize = 16;

fn start_up(h: &Harness) -> Reaped {
    Reaped(
        Command::new(env!("CARGO_BIN_EXE_tatrack-under-test"))
            .arg("up")
            .env("NATS_URL", h.nats.url())
            .env("TATRACK_NATS_CREDENTIALS", h.credentials_dir())
            .env("TATRACK_DATA_DIR", h.data_dir())
            // Any free port for the gateway: 8080 may be taken on the machine running the tests.
            .env("TATRACK_HTTP_ADDR", "127.0.0.1:0")
            // The binary runs on the tests' clock, as the in-process services do.
            .env("TATRACK_NOW", test_now().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tatrack up"),
    )
}

#[derive(Clone)]
struct Acked {
    meta: RequestMeta,
    body: Value,
    id: Uuid,
    first_position: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_tatrack_up_during_load_loses_no_acknowledged_command() {
    let h = Harness::start();
    let client = h.client().await;
    let subject = subjects::command_subject("assessments", "assessment_plan");
    let mut acked: Vec<Acked> = Vec::new();
    let mut seed = (u64::from(std::process::id()) * 2_654_435_761) | 1;
    for round in 0..ROUNDS {
        let mut child = start_up(&h);
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let client = client.clone();
            let subject = subject.clone();
            let stop = stop.clone();
            let acks = acks.clone();
            clients.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let id = Uuid::now_v7();
                    let meta = RequestMeta::new(coordinator());
                    let body = plan_body(id, "KE");
                    match rpc::request::<_, Value>(
                        &client,
                        &subject,
                        &meta,
                        &body,
                        Duration::from_secs(2),
                    )
                    .await
                    {
                        Ok(reply) => {
                            acks.fetch_add(1, Ordering::Relaxed);
                            mine.push(Acked {
                                meta,
                                body,
                                id,
                                first_position: reply["first_position"].as_u64().unwrap(),
                            });
                        }
                        // Not acknowledged (service down or killed mid-request): allowed to be lost.
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
                mine
            }));
        }
        // Let the load run until commands are acknowledged (however long `tatrack up` takes to
        // start on a busy machine), then kill at a random moment.
        let before = acked.len();
        let started = std::time::Instant::now();
        eventually(
            "a first acknowledged command",
            Duration::from_secs(60),
            || {
                let acks = acks.clone();
                async move { (acks.load(Ordering::Relaxed) > 0).then_some(()) }
            },
        )
        .await;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(seed % 400)).await;
        child.kill().expect("SIGKILL tatrack up");
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            acked.extend(c.await.unwrap());
        }
        eprintln!(
            "round {round}: {} acknowledged in {:?} before SIGKILL",
            acked.len() - before,
            started.elapsed()
        );
    }
    assert!(
        acked.len() >= 50,
        "the load produced only {} acknowledged commands",
        acked.len()
    );

    let mut child = start_up(&h);
    // Every acknowledged command is there exactly once: retrying it returns its first answer.
    for a in &acked {
        let reply: Value = command_as(&client, &a.meta, "assessment_plan", &a.body)
            .await
            .unwrap();
        assert_eq!(
            reply["idempotent"], true,
            "acknowledged command {} was lost",
            a.id
        );
        assert_eq!(
            reply["first_position"].as_u64(),
            Some(a.first_position),
            "command {} moved",
            a.id
        );
    }
    // The stream equals the log, message by message (asked as the operator: the gateway's user
    // may not send `admin_stream_verify`).
    let admin = h.admin().await;
    eventually("stream == log", Duration::from_secs(60), || {
        let client = admin.clone();
        async move {
            let c = command(&client, "admin_stream_verify", &json!({}))
                .await
                .ok()?;
            (c["differences"] == json!([]) && c["stream_last"] == c["log_head"]).then_some(())
        }
    })
    .await;
    // The read model shows each acknowledged assessment once.
    let max = acked.iter().map(|a| a.first_position).max().unwrap();
    let list = query_as(
        &client,
        coordinator(),
        "assessment_list",
        &json!({ "min_position": max }),
    )
    .await
    .unwrap();
    let listed: std::collections::HashMap<String, usize> =
        list.as_array()
            .unwrap()
            .iter()
            .fold(Default::default(), |mut m, a| {
                *m.entry(a["id"].as_str().unwrap().to_owned()).or_default() += 1;
                m
            });
    for a in &acked {
        assert_eq!(
            listed.get(&a.id.to_string()),
            Some(&1),
            "assessment {} not listed exactly once",
            a.id
        );
    }
    // The child runs on the tests' clock: a fact dated the tests' today (years after the
    // machine's) is accepted, and one dated the day after is refused.
    let mut body = plan_body(Uuid::now_v7(), "KE");
    body["on"] = json!(today().to_string());
    command(&client, "assessment_plan", &body).await.unwrap();
    body["id"] = json!(Uuid::now_v7());
    body["on"] = json!(today().tomorrow().unwrap().to_string());
    match command(&client, "assessment_plan", &body).await {
        Err(rpc::Error::Remote(e)) => assert_eq!(e.field.as_deref(), Some("on"), "{e:?}"),
        other => panic!("a fact dated after today was not refused: {other:?}"),
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
