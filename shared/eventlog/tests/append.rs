//! The append contract: EventStoreDB's cases, concurrency, reads, tail, and a model-based proptest.

use std::collections::HashMap;

use futures::StreamExt;
use proptest::prelude::*;
use tatrack_eventlog::{Appended, CommandMeta, Error, Expected, NewEvent, Store};
use uuid::Uuid;

fn event(n: u32) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        kind: "thing_happened".into(),
        schema: 1,
        on: Some(jiff::civil::date(2026, 3, 10)),
        payload: serde_json::json!({ "n": n }),
    }
}

fn meta() -> CommandMeta {
    CommandMeta {
        principal: "test".into(),
        command_id: None,
        correlation_id: None,
        fingerprint: None,
    }
}

/// Appends `events` to `stream` with the tests' command meta; it must be accepted.
async fn append_ok(
    store: &Store,
    stream: &str,
    expected: Expected,
    events: Vec<NewEvent>,
) -> Appended {
    store
        .append(stream, expected, events, meta())
        .await
        .unwrap()
}

/// As [`append_ok`], but it must be refused.
async fn append_err(
    store: &Store,
    stream: &str,
    expected: Expected,
    events: Vec<NewEvent>,
) -> Error {
    store
        .append(stream, expected, events, meta())
        .await
        .unwrap_err()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("log"), &clock()).unwrap();
    (dir, store)
}

#[tokio::test]
async fn append_ok_assigns_gapless_positions_and_versions() {
    let (_dir, store) = open();
    let a = append_ok(&store, "a-1", Expected::NoStream, vec![event(1), event(2)]).await;
    assert_eq!(
        (a.first_position, a.last_position, a.stream_version),
        (1, 2, 2)
    );
    let b = append_ok(&store, "b-1", Expected::Any, vec![event(3)]).await;
    assert_eq!(
        (b.first_position, b.last_position, b.stream_version),
        (3, 3, 1)
    );
    let c = append_ok(&store, "a-1", Expected::Exact(2), vec![event(4)]).await;
    assert_eq!((c.first_position, c.stream_version), (4, 3));
    let stream = store.read_stream("a-1", 1).unwrap();
    assert_eq!(
        stream
            .iter()
            .map(|e| (e.version, e.position))
            .collect::<Vec<_>>(),
        vec![(1, 1), (2, 2), (3, 4)]
    );
    assert_eq!(store.read_stream("a-1", 3).unwrap().len(), 1);
    let all = store.read_all(1, 100).unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(store.durable_position(), 4);
    assert_eq!(store.verify().unwrap().head, 4);
}

#[tokio::test]
async fn same_command_id_returns_first_result_and_appends_nothing() {
    let (_dir, store) = open();
    let command = CommandMeta {
        command_id: Some(Uuid::now_v7()),
        ..meta()
    };
    let first = store
        .append("a-1", Expected::NoStream, vec![event(1)], command.clone())
        .await
        .unwrap();
    // Different events, and an expected version that would now conflict: still the first answer.
    let again = store
        .append("a-1", Expected::NoStream, vec![event(2)], command)
        .await
        .unwrap();
    assert!(again.idempotent);
    assert_eq!(again.first_position, first.first_position);
    assert_eq!(store.durable_position(), 1);
}

#[tokio::test]
async fn same_event_ids_are_idempotent_and_a_partial_repeat_is_an_error() {
    let (_dir, store) = open();
    let events = vec![event(1), event(2)];
    append_ok(&store, "a-1", Expected::NoStream, events.clone()).await;
    let again = append_ok(&store, "a-1", Expected::NoStream, events.clone()).await;
    assert!(again.idempotent);
    assert_eq!((again.first_position, again.last_position), (1, 2));

    let partial = store
        .append(
            "a-1",
            Expected::Any,
            vec![events[0].clone(), event(3)],
            meta(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(partial, Error::PartialDuplicate { known: 1, total: 2 }),
        "{partial}"
    );
    assert_eq!(store.durable_position(), 2);
}

#[tokio::test]
async fn wrong_expected_version_is_a_conflict_with_the_actual_version() {
    let (_dir, store) = open();
    append_ok(&store, "a-1", Expected::NoStream, vec![event(1)]).await;
    for expected in [Expected::NoStream, Expected::Exact(0), Expected::Exact(5)] {
        let err = append_err(&store, "a-1", expected, vec![event(2)]).await;
        assert!(matches!(err, Error::Conflict { actual: 1, .. }), "{err}");
    }
    let err = append_err(&store, "missing", Expected::Exists, vec![event(2)]).await;
    assert!(matches!(err, Error::Conflict { actual: 0, .. }), "{err}");
    assert_eq!(store.durable_position(), 1);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_write_nothing() {
    let (_dir, store) = open();
    let err = append_err(&store, "a-1", Expected::Any, vec![]).await;
    assert!(
        matches!(
            err,
            Error::Invalid {
                field: "events",
                ..
            }
        ),
        "{err}"
    );
    for name in ["", "has space", "dot.ted", "wild*", &"x".repeat(300)] {
        let err = append_err(&store, name, Expected::Any, vec![event(1)]).await;
        assert!(
            matches!(
                err,
                Error::Invalid {
                    field: "stream",
                    ..
                }
            ),
            "{err}"
        );
    }
    assert_eq!(store.durable_position(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_to_one_stream_exactly_one_wins_each_version() {
    let (_dir, store) = open();
    let mut handles = Vec::new();
    for w in 0..16u32 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            for round in 0..20u64 {
                if let Ok(a) = store
                    .append("hot-1", Expected::Exact(round), vec![event(w)], meta())
                    .await
                {
                    wins.push(a.stream_version);
                }
            }
            wins
        }));
    }
    let mut versions = Vec::new();
    for h in handles {
        versions.extend(h.await.unwrap());
    }
    versions.sort_unstable();
    // Every version that was written was won by exactly one writer.
    let written = store.stream_version("hot-1").unwrap();
    assert_eq!(versions, (1..=written).collect::<Vec<_>>());
    assert!(written >= 1);
    assert_eq!(store.verify().unwrap().head, written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_flushes() {
    let (_dir, store) = open();
    let mut handles = Vec::new();
    for w in 0..64u32 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..20 {
                append_ok(&store, &format!("w-{w}"), Expected::Any, vec![event(w)]).await;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let stats = store.stats();
    assert_eq!(stats.appends, 64 * 20);
    assert!(
        stats.flushes < stats.appends,
        "{stats:?}: no flush was shared"
    );
}

#[tokio::test]
async fn tail_yields_history_then_new_events() {
    let (_dir, store) = open();
    append_ok(&store, "a-1", Expected::Any, vec![event(1), event(2)]).await;
    let mut tail = Box::pin(store.tail(2));
    assert_eq!(tail.next().await.unwrap().unwrap().position, 2);
    let writer = store.clone();
    tokio::spawn(async move {
        writer
            .append("a-1", Expected::Any, vec![event(3)], meta())
            .await
            .unwrap();
    });
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), tail.next())
        .await
        .expect("tail wakes on a new append")
        .unwrap()
        .unwrap();
    assert_eq!(next.position, 3);
}

#[tokio::test]
async fn reopen_keeps_everything_and_import_continues_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let copied;
    {
        let store = Store::open(dir.path().join("a"), &clock()).unwrap();
        append_ok(&store, "a-1", Expected::Any, vec![event(1), event(2)]).await;
        append_ok(&store, "b-1", Expected::Any, vec![event(3)]).await;
        copied = store.read_all(1, 10).unwrap();
    }
    let store = Store::open(dir.path().join("a"), &clock()).unwrap();
    assert_eq!(store.read_all(1, 10).unwrap(), copied);

    let rebuilt = Store::open(dir.path().join("b"), &clock()).unwrap();
    let err = rebuilt.import(copied[1].clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImportOutOfOrder {
                head: 0,
                position: 2
            }
        ),
        "{err}"
    );
    for envelope in &copied {
        rebuilt.import(envelope.clone()).await.unwrap();
    }
    assert_eq!(rebuilt.read_all(1, 10).unwrap(), copied);
    assert_eq!(rebuilt.verify().unwrap().head, 3);
}

#[derive(Debug, Clone)]
enum Op {
    Append { stream: u8, expected: u8, count: u8 },
    Retry,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4, 0u8..6, 1u8..4).prop_map(|(stream, expected, count)| Op::Append { stream, expected, count }),
        1 => Just(Op::Retry),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random appends (some with wrong versions, some retried with the same command id) against
    /// a plain in-memory model: same outcomes, same contents, integrity check passes.
    #[test]
    fn log_matches_in_memory_model(ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (_dir, store) = open();
            let mut model_streams: HashMap<String, Vec<u32>> = HashMap::new();
            let mut model_log: Vec<(String, u32)> = Vec::new();
            // The previous append: (stream, expected, events, meta, first position or refusal).
            type Previous = (String, Expected, Vec<NewEvent>, CommandMeta, Result<u64, ()>);
            let mut last: Option<Previous> = None;
            let mut n = 0u32;
            for op in ops {
                let (stream, expected, events, cmd) = match op {
                    Op::Append { stream, expected, count } => {
                        let stream = format!("s-{stream}");
                        let expected = match expected {
                            0 => Expected::Any,
                            1 => Expected::NoStream,
                            2 => Expected::Exists,
                            v => Expected::Exact(u64::from(v) - 3),
                        };
                        let events: Vec<NewEvent> = (0..count).map(|_| { n += 1; event(n) }).collect();
                        let cmd = CommandMeta { command_id: Some(Uuid::now_v7()), ..meta() };
                        (stream, expected, events, cmd)
                    }
                    Op::Retry => match &last {
                        Some((s, e, ev, c, _)) => (s.clone(), *e, ev.clone(), c.clone()),
                        None => continue,
                    },
                };
                let result = store.append(&stream, expected, events.clone(), cmd.clone()).await;
                let is_retry = last.as_ref().is_some_and(|l| l.3.command_id == cmd.command_id);
                if is_retry {
                    let first = last.as_ref().unwrap().4;
                    match (first, &result) {
                        (Ok(pos), Ok(a)) => { prop_assert!(a.idempotent); prop_assert_eq!(a.first_position, pos); }
                        (Err(()), Err(Error::Conflict { .. })) => {}
                        (Err(()), Ok(_)) => {
                            // A refused command may succeed on retry if the stream moved meanwhile: no.
                            prop_assert!(false, "a refused command succeeded on an identical retry");
                        }
                        (f, r) => prop_assert!(false, "first {:?}, retry {:?}", f, r),
                    }
                    continue;
                }
                let model_version = model_streams.get(&stream).map_or(0, |v| v.len() as u64);
                let admitted = expected.admits(model_version);
                match &result {
                    Ok(a) => {
                        prop_assert!(admitted);
                        prop_assert_eq!(a.first_position, model_log.len() as u64 + 1);
                        for e in &events {
                            let k = e.payload["n"].as_u64().unwrap() as u32;
                            model_streams.entry(stream.clone()).or_default().push(k);
                            model_log.push((stream.clone(), k));
                        }
                    }
                    Err(Error::Conflict { actual, .. }) => {
                        prop_assert!(!admitted);
                        prop_assert_eq!(*actual, model_version);
                    }
                    Err(e) => prop_assert!(false, "unexpected error {}", e),
                }
                last = Some((stream, expected, events, cmd, result.map(|a| a.first_position).map_err(|_| ())));
            }
            let all = store.read_all(1, usize::MAX).unwrap();
            let got: Vec<(String, u32)> = all.iter().map(|e| (e.stream.clone(), e.payload["n"].as_u64().unwrap() as u32)).collect();
            prop_assert_eq!(&got, &model_log);
            for (stream, ns) in &model_streams {
                let got: Vec<u32> = store.read_stream(stream, 1).unwrap().iter().map(|e| e.payload["n"].as_u64().unwrap() as u32).collect();
                prop_assert_eq!(&got, ns);
            }
            prop_assert_eq!(store.verify().unwrap().head, model_log.len() as u64);
            Ok(())
        })?;
    }
}

/// The tests' clock: a fixed start far from the machine's date, running on from there.
fn clock() -> tatrack_eventlog::Clock {
    tatrack_eventlog::Clock::starting_at("2031-03-14T09:00:00Z".parse().expect("a time"))
}

#[tokio::test]
async fn an_envelope_keeps_both_times() {
    let (_dir, store) = open();
    let appended = append_ok(&store, "s-1", Expected::Any, vec![event(1)]).await;
    let envelope = store.get(appended.first_position).unwrap().unwrap();
    // The business date the service gave, and the time the log's clock read.
    assert_eq!(envelope.on, Some(jiff::civil::date(2026, 3, 10)));
    assert_eq!(envelope.business_date(), jiff::civil::date(2026, 3, 10));
    assert_eq!(
        tatrack_eventlog::utc_date(envelope.recorded_at),
        jiff::civil::date(2031, 3, 14)
    );
    // An event stored before business dates were kept counts as of the day it was recorded.
    let old = tatrack_eventlog::Envelope {
        on: None,
        ..envelope
    };
    assert_eq!(old.business_date(), jiff::civil::date(2031, 3, 14));
}

#[tokio::test]
async fn a_command_id_reused_with_another_body_is_refused() {
    let (_dir, store) = open();
    let with = |fingerprint: &str| CommandMeta {
        command_id: Some(Uuid::from_u128(7)),
        fingerprint: Some(fingerprint.to_owned()),
        ..meta()
    };
    let first = store
        .append("s-1", Expected::Any, vec![event(1)], with("aaa"))
        .await
        .unwrap();
    // The same body again: the first answer, nothing written.
    let again = store
        .append("s-1", Expected::Any, vec![event(2)], with("aaa"))
        .await
        .unwrap();
    assert!(again.idempotent);
    assert_eq!(again.last_position, first.last_position);
    // Another body under the same command id: refused, nothing written.
    let err = store
        .append("s-1", Expected::Any, vec![event(3)], with("bbb"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, tatrack_eventlog::Error::CommandReused { command_id } if command_id == Uuid::from_u128(7)),
        "{err}"
    );
    assert_eq!(store.durable_position(), first.last_position);
    let recorded = store
        .command_result(Uuid::from_u128(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.fingerprint.as_deref(), Some("aaa"));
}

#[tokio::test]
async fn truncation_drops_the_tail_with_its_indexes_and_the_log_goes_on_from_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let store = Store::open(&path, &clock()).unwrap();
    append_ok(&store, "a-1", Expected::NoStream, vec![event(1), event(2)]).await;
    append_ok(&store, "b-1", Expected::NoStream, vec![event(3)]).await;
    let kept_instance = store.instance();
    // The tail to drop: one more event of a-1, a new stream c-1 and a command with an id.
    let dropped_command = Uuid::now_v7();
    let dropped_event = event(4);
    let dropped_id = dropped_event.id;
    append_ok(&store, "a-1", Expected::Exact(2), vec![dropped_event]).await;
    store
        .append(
            "c-1",
            Expected::NoStream,
            vec![event(5)],
            CommandMeta {
                command_id: Some(dropped_command),
                ..meta()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.durable_position(), 5);

    assert_eq!(store.truncate_after(3).await.unwrap(), 2);
    assert_eq!(
        store.truncate_after(3).await.unwrap(),
        0,
        "nothing left to drop"
    );
    assert_ne!(store.instance(), kept_instance, "caches must start over");
    assert_eq!(store.durable_position(), 3);
    assert!(store.get(4).unwrap().is_none());
    assert_eq!(store.stream_version("a-1").unwrap(), 2);
    assert_eq!(store.stream_version("c-1").unwrap(), 0);
    assert!(
        store
            .command_result(dropped_command)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.read_stream("a-1", 1).unwrap().len(), 2);
    store.verify().unwrap();

    // The same event id and command id are new again, at the next position.
    let again = NewEvent {
        id: dropped_id,
        ..event(6)
    };
    let appended = append_ok(&store, "a-1", Expected::Exact(2), vec![again]).await;
    assert_eq!((appended.first_position, appended.stream_version), (4, 3));
    drop(store);

    let reopened = Store::open(&path, &clock()).unwrap();
    assert_eq!(reopened.durable_position(), 4);
    assert_eq!(reopened.stream_version("c-1").unwrap(), 0);
    reopened.verify().unwrap();
}
