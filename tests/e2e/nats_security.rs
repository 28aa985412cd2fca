//! The NATS users and permissions (`tatrack_bus::auth`) against a real nats-server: nobody gets
//! in without a key; no user but a service writes that service's events, answers its commands or
//! receives replies meant for someone else; a consumer can be made only on what a user reads. A
//! refusal is silent on the wire (the call just times out), so each test watches the server's
//! `-ERR` through the connection's event callback, and checks afterwards that no event landed.
//! Last, the real binary `serve assessments` runs against the server with its credentials.

use std::process::{Command, Stdio};
use std::time::Duration;

use async_nats::jetstream::consumer::DeliverPolicy;
use tatrack_bus::auth::{Identity, User};
use tatrack_bus::{rpc, streams, subjects};
use tatrack_tests::*;
use tokio::sync::mpsc;
use uuid::Uuid;

/// A connection as `user` whose server errors are collected instead of logged.
struct Watched {
    client: async_nats::Client,
    errors: mpsc::UnboundedReceiver<String>,
}

impl Watched {
    async fn connect(h: &Harness, user: User) -> Self {
        let (tx, errors) = mpsc::unbounded_channel();
        let client = h
            .nats
            .identity(user)
            .connect_options(&format!("watched-{user}"))
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let _ = tx.send(e.to_string());
                    }
                }
            })
            .connect(h.nats.url())
            .await
            .expect("connect");
        Self { client, errors }
    }

    fn js(&self) -> async_nats::jetstream::Context {
        // Short: a refused JetStream call only ever times out.
        tatrack_bus::jetstream(self.client.clone(), Duration::from_secs(1))
    }

    /// Waits for the server to refuse something about `subject` (its `-ERR` names it).
    async fn refused(&mut self, subject: &str) {
        let wanted = format!("\"{subject}\"");
        let seen = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(error) = self.errors.recv().await {
                if error.contains("Permissions Violation") && error.contains(&wanted) {
                    return error;
                }
            }
            panic!("the connection closed");
        })
        .await
        .unwrap_or_else(|_| panic!("no permissions violation for {subject}"));
        assert!(!seen.is_empty());
    }

    /// Publishes (core NATS) to `subject` and waits for the refusal.
    async fn publish_refused(&mut self, subject: &str) {
        self.client
            .publish(subject.to_owned(), "intruder".into())
            .await
            .unwrap();
        self.client.flush().await.unwrap();
        self.refused(subject).await;
    }

    /// Nothing refused so far.
    async fn nothing_refused(&mut self) {
        self.client.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(self.errors.try_recv().ok(), None);
    }
}

/// Creates every service's stream as the admin (as each service does on its first start).
async fn streams_exist(h: &Harness) -> async_nats::jetstream::Context {
    let js = tatrack_bus::jetstream(h.admin().await, Duration::from_secs(5));
    for service in subjects::SERVICES {
        streams::ensure(&js, service).await.unwrap();
    }
    js
}

/// Every stream's message count, read as the admin.
async fn stream_sizes(js: &async_nats::jetstream::Context) -> Vec<u64> {
    let mut sizes = Vec::new();
    for service in subjects::SERVICES {
        let mut stream = js.get_stream(subjects::stream_name(service)).await.unwrap();
        sizes.push(stream.info().await.unwrap().state.messages);
    }
    sizes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_connects_without_a_known_key() {
    let h = Harness::start();
    let quick = || async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(3));
    let anonymous = quick().connect(h.nats.url()).await;
    assert!(anonymous.is_err(), "connected with no credentials");
    let password = quick()
        .user_and_password("gateway".into(), "gateway".into())
        .connect(h.nats.url())
        .await;
    assert!(password.is_err(), "connected with a made-up password");
    // A well-formed key the server does not know, presented as the gateway.
    let stranger = Identity::generate(User::Gateway)
        .connect_options("stranger")
        .connection_timeout(Duration::from_secs(3))
        .connect(h.nats.url())
        .await;
    match stranger {
        Err(e) => assert_eq!(
            e.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation,
            "{e}"
        ),
        Ok(_) => panic!("connected with an unknown key"),
    }
    // The known key gets in.
    h.client().await.flush().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_service_writes_its_own_events() {
    let h = Harness::start();
    let admin_js = streams_exist(&h).await;
    for user in [
        User::Gateway,
        User::Readmodel,
        User::Assessments,
        User::Partners,
        User::Projects,
        User::Reporter,
    ] {
        let mut intruder = Watched::connect(&h, user).await;
        for service in subjects::SERVICES {
            if service == user.name() {
                continue;
            }
            let subject = format!("tatrack.evt.{service}.need.{}", Uuid::now_v7());
            intruder.publish_refused(&subject).await;
        }
        // Through JetStream too: the publish is refused, so no PubAck ever comes.
        if user == User::Gateway {
            let subject = "tatrack.evt.assessments.need.intruder";
            let ack = intruder
                .js()
                .publish(subject, "intruder".into())
                .await
                .unwrap()
                .await;
            assert!(ack.is_err(), "the gateway wrote an event: {ack:?}");
            intruder.refused(subject).await;
        }
    }
    // The owner may (a positive control: the refusals above are about who, not how).
    let owner = h.client_as(User::Partners).await;
    let ack = tatrack_bus::jetstream(owner, Duration::from_secs(5))
        .publish("tatrack.evt.partners.offer.own", "ours".into())
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(ack.stream, "TATRACK_PARTNERS");
    assert_eq!(stream_sizes(&admin_js).await, vec![0, 1, 0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_service_answers_its_commands_and_replies_go_to_known_requesters_only() {
    let h = Harness::start();
    let gateway = h.client().await;
    // The partners service's user tries to answer the assessments service's commands, alone and
    // in the services' queue group.
    let mut partners = Watched::connect(&h, User::Partners).await;
    let _sub = partners
        .client
        .subscribe("tatrack.cmd.assessments.assessment_plan")
        .await
        .unwrap();
    partners
        .refused("tatrack.cmd.assessments.assessment_plan")
        .await;
    let _queue = partners
        .client
        .queue_subscribe("tatrack.cmd.assessments.>", "q".into())
        .await
        .unwrap();
    partners.refused("tatrack.cmd.assessments.>").await;
    // So nobody answers a command sent there.
    let asked = rpc::request::<_, serde_json::Value>(
        &gateway,
        &subjects::command_subject("assessments", "assessment_plan"),
        &rpc::RequestMeta::new(coordinator()),
        &plan_body(Uuid::now_v7(), "KE"),
        Duration::from_secs(3),
    )
    .await;
    assert!(
        matches!(asked, Err(rpc::Error::NoResponders(_))),
        "{asked:?}"
    );
    // Nor does it listen to events or to the default inboxes.
    for subject in ["tatrack.evt.>", "_INBOX.>", "_INBOX_gateway.>", ">"] {
        let _sub = partners.client.subscribe(subject).await.unwrap();
        partners.refused(subject).await;
    }

    // A reply into another user's inbox: the reporter answers only the gateway and the admin,
    // so it may not write into the assessments service's inbox; the read model, which answers
    // the assessments service, may.
    let victim = h.client_as(User::Assessments).await;
    let inbox = format!("_INBOX_assessments.{}", Uuid::now_v7().simple());
    let mut received = victim.subscribe(inbox.clone()).await.unwrap();
    victim.flush().await.unwrap();
    let mut reporter = Watched::connect(&h, User::Reporter).await;
    reporter.publish_refused(&inbox).await;
    let mut gateway_watched = Watched::connect(&h, User::Gateway).await;
    gateway_watched.publish_refused(&inbox).await;
    // The gateway sends only what an HTTP route sends: not the totals only the projects service
    // derives, nor the operator's stream check.
    for subject in [
        "tatrack.cmd.assessments.need_record_coverage",
        "tatrack.cmd.partners.offer_record_commitment",
        "tatrack.cmd.projects.admin_stream_verify",
    ] {
        gateway_watched.publish_refused(subject).await;
    }
    let mut readmodel = Watched::connect(&h, User::Readmodel).await;
    readmodel
        .client
        .publish(inbox.clone(), "answer".into())
        .await
        .unwrap();
    readmodel.nothing_refused().await;
    use futures::StreamExt as _;
    let first = tokio::time::timeout(Duration::from_secs(5), received.next())
        .await
        .expect("the read model's reply arrives")
        .unwrap();
    assert_eq!(
        first.payload.as_ref(),
        b"answer",
        "only the allowed reply came"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_only_on_what_a_user_reads() {
    let h = Harness::start();
    let admin_js = streams_exist(&h).await;
    let ordered = |filter: Option<&str>| streams::ordered_consumer(DeliverPolicy::All, filter);

    // The gateway reads the token and account events of the partners stream, and nothing else.
    let mut gateway = Watched::connect(&h, User::Gateway).await;
    let js = gateway.js();
    let partners = streams::reader(&js, "partners").await.unwrap();
    for filter in tatrack_bus::auth::gateway_identity_events() {
        partners
            .create_consumer(ordered(Some(&filter)))
            .await
            .unwrap_or_else(|e| panic!("the gateway follows {filter}: {e}"));
    }
    gateway.nothing_refused().await;
    let whole = ordered(None);
    let name = whole.name.clone().unwrap();
    assert!(partners.create_consumer(whole).await.is_err());
    gateway
        .refused(&format!("$JS.API.CONSUMER.CREATE.TATRACK_PARTNERS.{name}"))
        .await;
    let offers = ordered(Some("tatrack.evt.partners.offer.>"));
    let name = offers.name.clone().unwrap();
    assert!(partners.create_consumer(offers).await.is_err());
    gateway
        .refused(&format!(
            "$JS.API.CONSUMER.CREATE.TATRACK_PARTNERS.{name}.tatrack.evt.partners.offer.>"
        ))
        .await;
    let assessments = streams::reader(&js, "assessments").await.unwrap();
    let whole = ordered(None);
    let name = whole.name.clone().unwrap();
    assert!(assessments.create_consumer(whole).await.is_err());
    gateway
        .refused(&format!(
            "$JS.API.CONSUMER.CREATE.TATRACK_ASSESSMENTS.{name}"
        ))
        .await;
    // An unnamed consumer goes to the legacy subject, which carries no filter: refused too.
    let legacy = async_nats::jetstream::consumer::pull::OrderedConfig::default();
    assert!(assessments.create_consumer(legacy).await.is_err());
    gateway
        .refused("$JS.API.CONSUMER.CREATE.TATRACK_ASSESSMENTS")
        .await;

    // The partners service reads no other stream: no consumer, no read by sequence.
    let mut partners_user = Watched::connect(&h, User::Partners).await;
    let js = partners_user.js();
    let assessments = streams::reader(&js, "assessments").await.unwrap();
    let whole = ordered(None);
    let name = whole.name.clone().unwrap();
    assert!(assessments.create_consumer(whole).await.is_err());
    partners_user
        .refused(&format!(
            "$JS.API.CONSUMER.CREATE.TATRACK_ASSESSMENTS.{name}"
        ))
        .await;
    assert!(
        js.get_stream(subjects::stream_name("assessments"))
            .await
            .is_err()
    );
    partners_user
        .refused("$JS.API.STREAM.INFO.TATRACK_ASSESSMENTS")
        .await;
    // Nor may it create another service's stream, or delete its own.
    assert!(js.create_stream(streams::config("reporter")).await.is_err());
    partners_user
        .refused("$JS.API.STREAM.CREATE.TATRACK_REPORTER")
        .await;
    assert!(
        js.delete_stream(subjects::stream_name("partners"))
            .await
            .is_err()
    );
    partners_user
        .refused("$JS.API.STREAM.DELETE.TATRACK_PARTNERS")
        .await;

    // The read model follows every stream (the positive control).
    let readmodel = h.client_as(User::Readmodel).await;
    let js = tatrack_bus::jetstream(readmodel, Duration::from_secs(5));
    for service in subjects::SERVICES {
        streams::reader(&js, service)
            .await
            .unwrap()
            .create_consumer(ordered(None))
            .await
            .unwrap_or_else(|e| panic!("the read model follows {service}: {e}"));
    }
    assert_eq!(stream_sizes(&admin_js).await, vec![0, 0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_assessments_as_its_own_user() {
    let h = Harness::start();
    let bin = env!("CARGO_BIN_EXE_tatrack-under-test");
    let serve = |credentials: &std::path::Path| {
        let mut command = Command::new(bin);
        command
            .args(["serve", "assessments"])
            .env("NATS_URL", h.nats.url())
            .env("TATRACK_NATS_CREDENTIALS", credentials)
            .env("TATRACK_DATA_DIR", h.data_dir())
            .env("TATRACK_NOW", test_now().to_string())
            .env("TATRACK_OPS_ADDR", "127.0.0.1:0");
        command
    };

    // Without its key it does not start, and says which file it lacks.
    let empty = tempfile::tempdir().unwrap();
    let output = serve(empty.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no NATS credentials for user assessments")
            && stderr.contains("assessments.nk"),
        "{stderr}"
    );

    // With its key it serves the gateway's commands and replicates to its own stream.
    let mut child = Reaped(
        serve(h.credentials_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = h.client().await;
    let reply = command(&client, "assessment_plan", &plan_body(Uuid::now_v7(), "KE")).await;
    let admin_js = tatrack_bus::jetstream(h.admin().await, Duration::from_secs(5));
    let replicated = eventually("the event in the stream", Duration::from_secs(20), || {
        let js = admin_js.clone();
        async move {
            let last = streams::last_sequence(&js, "assessments").await.ok()?;
            (last == 1).then_some(last)
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(reply.unwrap()["first_position"], 1);
    assert_eq!(replicated, 1);
}
