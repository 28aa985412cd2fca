//! Crash test: a child process appends in a loop and prints each acknowledged position; we SIGKILL
//! it at random moments and reopen the log each time. Every acknowledged event must be there,
//! exactly once, with contiguous positions and a passing integrity check.
//!
//! The child is this same test binary, re-run with `TATRACK_CRASH_CHILD` set, so no extra binary
//! has to be built or found.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tatrack_eventlog::{CommandMeta, Expected, NewEvent, Store};
use uuid::Uuid;

const CHILD_ENV: &str = "TATRACK_CRASH_CHILD";
const KILLS: u32 = 24;

/// In the child: append forever from 8 concurrent writers, printing `ack <position> <event id>`.
#[test]
fn crash_child_append_loop() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // run as an ordinary test: nothing to do
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let store = Store::open(&dir, &clock()).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        for w in 0..8 {
            let store = store.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                loop {
                    let id = Uuid::now_v7();
                    let event = NewEvent {
                        id,
                        kind: "tick".into(),
                        schema: 1,
                        on: None,
                        payload: serde_json::json!({ "writer": w }),
                    };
                    let meta = CommandMeta {
                        principal: "crash".into(),
                        command_id: Some(Uuid::now_v7()),
                        correlation_id: None,
                        fingerprint: None,
                    };
                    let a = store
                        .append(&format!("w-{w}"), Expected::Any, vec![event], meta)
                        .await
                        .unwrap();
                    if tx.send(format!("ack {} {id}", a.first_position)).is_err() {
                        return;
                    }
                }
            });
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        while let Some(line) = rx.recv().await {
            writeln!(out, "{line}").unwrap();
            out.flush().unwrap();
        }
    });
}

/// A cheap pseudo-random sequence (xorshift) so the kill moments vary without a dependency.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn sigkill_never_loses_an_acknowledged_append() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let mut acknowledged: Vec<(u64, Uuid)> = Vec::new();
    let mut seed = u64::from(std::process::id()) | 1;
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child_append_loop",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &log_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the first ack (so the child is really writing), then a random 5..150 ms more.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut round_acks = Vec::new();
        while round_acks.is_empty() {
            assert!(
                Instant::now() < deadline,
                "child made no progress in round {round}"
            );
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                round_acks.push(line);
            }
        }
        std::thread::sleep(Duration::from_millis(5 + next_random(&mut seed) % 145));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        round_acks.extend(rx.try_iter());
        for line in round_acks {
            let mut parts = line.split_whitespace();
            if parts.next() != Some("ack") {
                continue;
            }
            let position: u64 = parts.next().unwrap().parse().unwrap();
            let id: Uuid = parts.next().unwrap().parse().unwrap();
            acknowledged.push((position, id));
        }

        // Reopen: the integrity check runs on open; then every acknowledged event is there.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = Store::open(&log_dir, &clock()).unwrap();
            let report = store.verify().unwrap();
            let all = store.read_all(1, usize::MAX).unwrap();
            assert_eq!(all.len() as u64, report.head);
            for (i, e) in all.iter().enumerate() {
                assert_eq!(e.position, i as u64 + 1, "positions contiguous");
            }
            let mut seen = HashSet::new();
            for e in &all {
                assert!(seen.insert(e.id), "event {} stored twice", e.id);
            }
            for (position, id) in &acknowledged {
                let e = &all[usize::try_from(*position).unwrap() - 1];
                assert_eq!(
                    e.id, *id,
                    "acknowledged event at position {position} lost or moved"
                );
            }
        });
    }
    assert!(
        acknowledged.len() > KILLS as usize,
        "too few acknowledged appends to mean anything"
    );
}

/// The tests' clock: a fixed start far from the machine's date, running on from there.
fn clock() -> tatrack_eventlog::Clock {
    tatrack_eventlog::Clock::starting_at("2031-03-14T09:00:00Z".parse().expect("a time"))
}
