//! A three-server JetStream cluster (`local::NatsCluster`, the servers' configs as `tatrack nats
//! config --cluster-listen` writes them): a stream kept at three replicas takes publishes again
//! within seconds of its leader being SIGKILLed, and the killed server rejoins with its store.

use std::time::{Duration, Instant};

use async_nats::jetstream::stream::{Config, StorageType};
use tatrack_tests::local::NatsCluster;

const STREAM: &str = "CLUSTER_TEST";

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
    js.publish("cluster.test.before", "1".into())
        .await
        .expect("publish")
        .await
        .expect("acknowledged by a quorum");

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
    let deadline = killed_at + Duration::from_secs(15);
    let sequence = loop {
        let attempt = async { js.publish("cluster.test.after", "2".into()).await?.await };
        match attempt.await {
            Ok(ack) => break ack.sequence,
            Err(e) if Instant::now() < deadline => {
                eprintln!("not yet ({:?} after the kill): {e}", killed_at.elapsed());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("no publish acknowledged 15 s after {leader} was killed: {e}"),
        }
    };
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
