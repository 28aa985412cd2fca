//! Invariant 2 against a real nats-server: the stream is a 1:1 copy of the log after a service
//! restart, a NATS SIGKILL mid-load, publishes that never happened, and a deleted stream; a
//! foreign message is detected, not absorbed; a lost log is rebuilt from its stream. The
//! replicator and the comparisons run as the assessments service's NATS user; what no service may
//! do (write a foreign message, delete a stream) is done as `admin`.

use std::time::Duration;

use serde_json::json;
use tatrack_bus::auth::User;
use tatrack_bus::copy::{self, Comparison};
use tatrack_bus::replicator::{self, Replicator};
use tatrack_bus::subjects;
use tatrack_eventlog::{CommandMeta, Expected, NewEvent, Store};
use tatrack_tests::*;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const SERVICE: &str = "assessments";

fn event(n: u64) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        kind: "test_event".into(),
        schema: 1,
        // A test of the log itself: no business date (the recorded day stands in).
        on: None,
        payload: json!({ "n": n }),
    }
}

async fn append_n(store: &Store, n: u64) {
    for i in 0..n {
        store
            .append(
                &format!("thing-{}", i % 7),
                Expected::Any,
                vec![event(i)],
                CommandMeta::default(),
            )
            .await
            .unwrap();
    }
}

fn js(client: &async_nats::Client) -> async_nats::jetstream::Context {
    tatrack_bus::jetstream(client.clone(), Duration::from_secs(1))
}

/// Waits until the stream equals the log, message by message.
async fn converges(client: &async_nats::Client, store: &Store) -> Comparison {
    let js = js(client);
    eventually("stream == log", Duration::from_secs(60), || {
        let js = js.clone();
        let store = store.clone();
        async move {
            match copy::compare(&js, SERVICE, &store).await {
                Ok(c) if c.equal() && c.stream_messages == c.log_head => Some(c),
                _ => None,
            }
        }
    })
    .await
}

fn spawn_replicator(
    store: &Store,
    client: &async_nats::Client,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), replicator::Error>>,
) {
    let stop = CancellationToken::new();
    let replicator = Replicator::new(
        store.clone(),
        js(client),
        SERVICE,
        replicator::Options::default(),
    );
    let task = tokio::spawn(replicator.run(stop.clone()));
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_equals_log_after_a_service_restart() {
    let h = Harness::start();
    let client = h.client().await;
    let service = h.client_as(User::Assessments).await;
    for round in 0..2 {
        let services = h.services().await;
        for _ in 0..30 {
            command(&client, "assessment_plan", &plan_body(Uuid::now_v7(), "KE"))
                .await
                .unwrap();
        }
        services.stop().await;
        let store = Store::open(h.data_dir().join(SERVICE), &h.clock).unwrap();
        let c = converges(&service, &store).await;
        assert_eq!(c.log_head, 30 * (round + 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_equals_log_after_nats_is_killed_mid_load() {
    let mut h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &test_clock()).unwrap();
    let client = h.client_as(User::Assessments).await;
    let (stop, task) = spawn_replicator(&store, &client);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { append_n(&store, 3000).await })
    };
    // Kill NATS twice while the writer and the replicator are busy.
    for _ in 0..2 {
        eventually("some events", Duration::from_secs(30), || {
            let p = store.durable_position();
            async move { (p > 200).then_some(()) }
        })
        .await;
        h.nats.restart().unwrap();
    }
    writer.await.unwrap();
    let c = converges(&client, &store).await;
    assert_eq!(c.log_head, 3000);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_that_never_happened_are_made_and_a_deleted_stream_is_refilled() {
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &test_clock()).unwrap();
    let client = h.client_as(User::Assessments).await;
    // The service "crashed" after appending 50 events, before publishing any.
    append_n(&store, 50).await;
    let (stop, task) = spawn_replicator(&store, &client);
    converges(&client, &store).await;
    // The stream is deleted while the service runs (by the admin: no service may): it is
    // recreated and refilled from position 1.
    js(&h.admin().await)
        .delete_stream(subjects::stream_name(SERVICE))
        .await
        .unwrap();
    append_n(&store, 10).await;
    let c = converges(&client, &store).await;
    assert_eq!(c.log_head, 60);
    stop.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_message_in_the_stream_stops_the_replicator_with_an_alarm() {
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &test_clock()).unwrap();
    let client = h.client_as(User::Assessments).await;
    append_n(&store, 5).await;
    let (_stop, task) = spawn_replicator(&store, &client);
    converges(&client, &store).await;
    // Someone else writes into the service's subjects (only the admin may, on purpose)...
    js(&h.admin().await)
        .publish("tatrack.evt.assessments.need.intruder", "not ours".into())
        .await
        .unwrap()
        .await
        .unwrap();
    // ...and the next event of the log would land after it: the replicator must not heal around it.
    append_n(&store, 1).await;
    let result = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("replicator stops")
        .unwrap();
    match result {
        Err(replicator::Error::Foreign { position, .. }) => assert_eq!(position, 6),
        other => panic!("expected a foreign-message alarm, got {other:?}"),
    }
    let c = copy::compare(&js(&client), SERVICE, &store).await.unwrap();
    assert!(!c.equal(), "stream verify reports the difference");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_lost_from_disk_is_rebuilt_from_its_stream() {
    let h = Harness::start();
    let client = h.client().await;
    let service = h.client_as(User::Assessments).await;
    let services = h.services().await;
    let mut ids = Vec::new();
    for _ in 0..25 {
        let id = Uuid::now_v7();
        command(&client, "assessment_plan", &plan_body(id, "KE"))
            .await
            .unwrap();
        ids.push(id);
    }
    services.stop().await;
    let original = {
        let store = Store::open(h.data_dir().join(SERVICE), &h.clock).unwrap();
        converges(&service, &store).await;
        store.read_all(1, usize::MAX).unwrap()
    };
    std::fs::remove_dir_all(h.data_dir().join(SERVICE)).unwrap();

    // On start the service takes its log back from the stream, then goes on where it was.
    let services = h.services().await;
    let again = command(
        &client,
        "assessment_mark_conducted",
        &json!({ "id": ids[3], "on": "2026-03-06" }),
    )
    .await
    .unwrap();
    assert_eq!(again["first_position"], 26);
    services.stop().await;
    let store = Store::open(h.data_dir().join(SERVICE), &h.clock).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.head, 26);
    assert_eq!(store.read_all(1, 25).unwrap(), original);
    converges(&service, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catch_up_subscriber_resumes_from_its_checkpoint() {
    use sled::transaction::{ConflictableTransactionError, TransactionalTree};
    use tatrack_bus::subscriber::{self, Projection, Subscriber};

    struct Count;
    impl Projection for Count {
        fn apply(
            &self,
            tree: &TransactionalTree,
            event: &tatrack_eventlog::Envelope,
        ) -> Result<(), ConflictableTransactionError<String>> {
            let n = tree
                .get(b"count")?
                .map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap()));
            tree.insert(b"count", &(n + 1).to_be_bytes())?;
            tree.insert(format!("seen/{}", event.position).as_bytes(), b"")?;
            Ok(())
        }
    }
    let h = Harness::start();
    let client = h.client_as(User::Assessments).await;
    // The subscriber follows the stream as the read model does.
    let follower = h.client_as(User::Readmodel).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("log"), &test_clock()).unwrap();
    let (_stop, _task) = spawn_replicator(&store, &client);
    append_n(&store, 40).await;
    let db = sled::open(dir.path().join("projection")).unwrap();
    let tree = db.open_tree("count").unwrap();
    for expected in [40u64, 70] {
        let subscriber = Subscriber::new(js(&follower), SERVICE, tree.clone()).unwrap();
        let mut applied = subscriber.applied();
        let stop = CancellationToken::new();
        let run = tokio::spawn(subscriber.run(Count, stop.clone()));
        tokio::time::timeout(
            Duration::from_secs(30),
            applied.wait_for(|p| *p >= expected),
        )
        .await
        .unwrap()
        .unwrap();
        stop.cancel();
        run.await.unwrap().unwrap();
        // Each event applied exactly once, checkpoint and state in step.
        let count = u64::from_be_bytes(
            tree.get(b"count")
                .unwrap()
                .unwrap()
                .as_ref()
                .try_into()
                .unwrap(),
        );
        assert_eq!(count, expected);
        assert_eq!(subscriber::checkpoint(&tree, SERVICE).unwrap(), expected);
        append_n(&store, 30).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_atomic_commands_a_command_s_events_go_in_as_one_batch() {
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &test_clock()).unwrap();
    let client = h.client_as(User::Assessments).await;
    // A command that wrote three events, then one that wrote one, then one without an id.
    let command = |id| CommandMeta {
        command_id: Some(id),
        ..CommandMeta::default()
    };
    store
        .append(
            "thing-1",
            Expected::NoStream,
            vec![event(1), event(2), event(3)],
            command(Uuid::now_v7()),
        )
        .await
        .unwrap();
    store
        .append(
            "thing-2",
            Expected::NoStream,
            vec![event(4)],
            command(Uuid::now_v7()),
        )
        .await
        .unwrap();
    append_n(&store, 2).await;
    let stop = CancellationToken::new();
    let replicator = Replicator::new(
        store.clone(),
        js(&client),
        SERVICE,
        replicator::Options {
            atomic_commands: true,
            ..replicator::Options::default()
        },
    );
    let task = tokio::spawn(replicator.run(stop.clone()));
    converges(&client, &store).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let stream = js(&client)
        .get_stream(subjects::stream_name(SERVICE))
        .await
        .unwrap();
    let mut batches = Vec::new();
    for sequence in 1..=6 {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
        batches.push((header("Nats-Batch-Id"), header("Nats-Batch-Sequence")));
    }
    let batch = batches[0]
        .0
        .clone()
        .expect("the three events went as a batch");
    for (sequence, (id, position)) in batches.iter().take(3).enumerate() {
        assert_eq!(id.as_ref(), Some(&batch));
        assert_eq!(
            position.as_deref(),
            Some((sequence + 1).to_string().as_str())
        );
    }
    assert!(
        batches[3..].iter().all(|(id, _)| id.is_none()),
        "single events are plain publishes: {batches:?}"
    );
}
