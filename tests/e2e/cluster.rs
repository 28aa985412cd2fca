//! A three-server JetStream cluster (`local::NatsCluster`, the servers' configs as `tatrack nats
//! config --cluster-listen` writes them): a stream kept at three replicas takes publishes again
//! within seconds of its leader being SIGKILLed, and the killed server rejoins with its store; a
//! command service (one instance) connected to all three servers goes on taking commands and
//! replicating them when the server leading its stream dies.

use std::time::{Duration, Instant};

use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{Config, StorageType};
use tatrack_bus::auth::User;
use tatrack_bus::rpc::RequestMeta;
use tatrack_bus::subjects;
use tatrack_tests::local::NatsCluster;
use tatrack_tests::{command_as, coordinator, eventually, plan_body, test_clock};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const STREAM: &str = "CLUSTER_TEST";

/// Publishes to `subject` until a quorum acknowledges it, or panics at `deadline`; returns the
/// message's sequence. Every attempt has the same message id, so one that was stored although its
/// acknowledgement was lost is not stored twice.
async fn publish_until(
    js: &async_nats::jetstream::Context,
    subject: &str,
    deadline: Instant,
) -> u64 {
    let started = Instant::now();
    let id = Uuid::now_v7().to_string();
    loop {
        let message = PublishMessage::build().payload("x".into()).message_id(&id);
        let attempt = async { js.send_publish(subject.to_owned(), message).await?.await };
        match attempt.await {
            Ok(ack) => return ack.sequence,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet ({:?}): {e}", started.elapsed());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("no publish to {subject} acknowledged by a quorum: {e}"),
        }
    }
}

#[tokio::test]
async fn a_replicated_stream_outlives_the_loss_of_its_leader() {
    let mut cluster = NatsCluster::start().await.expect("start the cluster");
    let admin = cluster.admin().await.expect("connect as admin");
    let js = tatrack_bus::jetstream(admin, Duration::from_secs(2));
    let mut stream = js
        .create_stream(Config {
            name: STREAM.into(),
            subjects: vec!["cluster.test.>".into()],
            storage: StorageType::File,
            num_replicas: 3,
            ..Config::default()
        })
        .await
        .expect("create a stream at three replicas");
    // A new stream elects its leader after it is created: the first publish may find none yet.
    publish_until(
        &js,
        "cluster.test.before",
        Instant::now() + Duration::from_secs(10),
    )
    .await;

    // Kill the server that leads the stream: the harder case (a follower's loss changes nothing
    // for the publisher).
    let info = stream.info().await.expect("stream info");
    let cluster_info = info.cluster.clone().expect("a clustered stream");
    assert_eq!(cluster_info.replicas.len(), 2, "{cluster_info:?}");
    let leader = cluster_info.leader.expect("the stream has a leader");
    let victim = NatsCluster::index_of(&leader).expect("the leader is one of ours");
    let killed_at = Instant::now();
    cluster.kill(victim);

    // The client reconnects to a survivor, the survivors elect a new stream leader, and a publish
    // is acknowledged again.
    let sequence = publish_until(
        &js,
        "cluster.test.after",
        killed_at + Duration::from_secs(15),
    )
    .await;
    assert_eq!(sequence, 2, "the stream kept the message published before");
    eprintln!(
        "publishing again {:?} after {leader} was killed",
        killed_at.elapsed()
    );
    let new_leader = stream
        .info()
        .await
        .expect("stream info")
        .cluster
        .clone()
        .and_then(|c| c.leader);
    assert_ne!(new_leader.as_deref(), Some(leader.as_str()));

    cluster
        .restart(victim)
        .await
        .expect("restart the killed server");
    assert!(cluster.pid(victim).is_some());
}

/// The stream's leader, and its last sequence.
async fn stream_state(
    js: &async_nats::jetstream::Context,
    name: &str,
) -> Option<(Option<String>, u64)> {
    let mut stream = js.get_stream(name).await.ok()?;
    let info = stream.info().await.ok()?;
    Some((
        info.cluster.as_ref().and_then(|c| c.leader.clone()),
        info.state.last_sequence,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_service_goes_on_when_the_server_leading_its_stream_dies() {
    let mut cluster = NatsCluster::start().await.expect("start the cluster");
    let admin = cluster.admin().await.expect("connect as admin");
    let js = tatrack_bus::jetstream(admin, Duration::from_secs(2));
    // As provisioning does: the service's own stream, at three replicas, before it starts.
    let stream = subjects::stream_name("assessments");
    js.create_stream(Config {
        num_replicas: 3,
        ..tatrack_bus::streams::config("assessments")
    })
    .await
    .expect("create the stream at three replicas");

    let data = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let service = tokio::spawn(tatrack_assessments::run(
        tatrack_bus::service::Config {
            data_dir: data.path().to_path_buf(),
            nats: cluster
                .client_as(User::Assessments)
                .await
                .expect("connect as assessments"),
            clock: test_clock(),
            // One instance, no lease: what this test shows is the bus under it (a client that
            // knows every server, a replicator whose stream changes leader); the instances
            // competing for a lease have their own fault tests (tests/cluster).
            cluster: None,
        },
        stop.child_token(),
    ));
    let gateway = cluster
        .client_as(User::Gateway)
        .await
        .expect("connect as gateway");

    // Sends a plan until it is answered (the same command id every time, so a retry after a
    // lost answer is answered as done); returns its last position.
    let plan = |deadline: Instant| {
        let gateway = gateway.clone();
        async move {
            let meta = RequestMeta::new(coordinator());
            let body = plan_body(Uuid::now_v7(), "KE");
            loop {
                match command_as(&gateway, &meta, "assessment_plan", &body).await {
                    Ok(reply) => return reply["last_position"].as_u64().expect("a position"),
                    Err(e) if Instant::now() < deadline => {
                        eprintln!("not yet: {e:?}");
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    Err(e) => panic!("no answer: {e:?}"),
                }
            }
        }
    };
    let replicated = |position: u64| {
        let js = js.clone();
        let stream = stream.clone();
        async move {
            eventually(
                "the stream holds the log",
                Duration::from_secs(20),
                || async {
                    stream_state(&js, &stream)
                        .await
                        .filter(|(_, last)| *last == position)
                },
            )
            .await
            .0
            .expect("the stream has a leader")
        }
    };

    let first = plan(Instant::now() + Duration::from_secs(20)).await;
    let leader = replicated(first).await;
    let victim = NatsCluster::index_of(&leader).expect("the leader is one of ours");
    let killed_at = Instant::now();
    cluster.kill(victim);

    let second = plan(killed_at + Duration::from_secs(20)).await;
    assert_eq!(second, first + 1);
    let new_leader = replicated(second).await;
    eprintln!(
        "command answered and replicated {:?} after the stream leader {leader} was killed",
        killed_at.elapsed()
    );
    assert_ne!(new_leader, leader);

    stop.cancel();
    service
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("the service failed: {e:#}"));
}
