//! JetStream stream setup: one file-backed stream per command service, created by that service
//! alone (`ensure`); everyone else only reads it (`reader`, `ordered_consumer`).

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use crate::subjects;

/// Far above JetStream's 2-minute default, so a replicator retry after a long outage is still
/// recognised as a duplicate (consumers are idempotent anyway).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(15 * 60);

pub fn config(service: &str) -> stream::Config {
    stream::Config {
        name: subjects::stream_name(service),
        subjects: vec![subjects::events_wildcard(service)],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: DUPLICATE_WINDOW,
        allow_direct: true,
        // On a cluster, a command's events go in as one atomic batch (`replicator::Options`).
        allow_atomic_publish: true,
        // The stream is a copy of the log: nothing may expire or be dropped from it.
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    }
}

/// Creates the service's stream if it does not exist and returns it.
pub async fn ensure(
    js: &jetstream::Context,
    service: &str,
) -> Result<stream::Stream, async_nats::Error> {
    Ok(js.get_or_create_stream(config(service)).await?)
}

/// The stream's last sequence, or 0 when it does not exist (it is never created here: only
/// its service may, see `auth`).
pub async fn last_sequence(
    js: &jetstream::Context,
    service: &str,
) -> Result<u64, async_nats::Error> {
    match js.get_stream(subjects::stream_name(service)).await {
        Ok(stream) => Ok(stream.cached_info().state.last_sequence),
        Err(e)
            if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(ref j)
                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

/// A handle on `service`'s stream for creating consumers on it: no request is made and the
/// stream is not created (a consumer on a missing stream fails, and its reader retries).
pub async fn reader(
    js: &jetstream::Context,
    service: &str,
) -> Result<stream::Stream<()>, async_nats::Error> {
    Ok(js
        .get_stream_no_info(subjects::stream_name(service))
        .await?)
}

/// An ordered consumer starting at `deliver_policy`, optionally reading only `filter`. It is
/// named (`tatrack_<random>`), so it is created on `$JS.API.CONSUMER.CREATE.<stream>.<name>` (with
/// the filter appended), the subjects the NATS permissions guard; without a name the client
/// uses the legacy subject that carries no filter.
pub fn ordered_consumer(
    deliver_policy: consumer::DeliverPolicy,
    filter: Option<&str>,
) -> consumer::pull::OrderedConfig {
    consumer::pull::OrderedConfig {
        name: Some(format!("tatrack_{}", uuid::Uuid::new_v4().simple())),
        deliver_policy,
        filter_subject: filter.unwrap_or_default().to_owned(),
        // Explicit, short pull expiry: without it a drain was seen to stall for 30 s.
        max_expires: Duration::from_secs(5),
        ..Default::default()
    }
}

/// The message id (`Nats-Msg-Id`, the event id) of the message at `sequence`, `None` when the
/// stream holds nothing there: how the replicator and a standby tell their own events from
/// anyone else's.
pub async fn message_id(
    stream: &stream::Stream,
    sequence: u64,
) -> Result<Option<String>, async_nats::Error> {
    match stream.get_raw_message(sequence).await {
        Ok(message) => Ok(message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|id| id.as_str().to_owned())),
        Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Creates every command service's stream with `replicas` copies (or changes the count of one
/// that exists) and the lease bucket: what `tatrack admin provision` does once for a cluster,
/// before any service starts (a service would otherwise create its stream with one replica).
pub async fn provision(
    js: &jetstream::Context,
    replicas: usize,
    lease_ttl: Duration,
) -> Result<Vec<String>, async_nats::Error> {
    let mut done = Vec::new();
    for service in subjects::SERVICES {
        let config = stream::Config {
            num_replicas: replicas,
            ..config(service)
        };
        let mut stream = js.get_or_create_stream(config.clone()).await?;
        let info = stream.info().await?;
        if info.config.num_replicas != replicas || !info.config.allow_atomic_publish {
            js.update_stream(config).await?;
        }
        done.push(subjects::stream_name(service));
    }
    let bucket = crate::lease::bucket_config(lease_ttl, replicas);
    match js.get_key_value(crate::lease::BUCKET).await {
        Ok(_) => {
            js.update_key_value(bucket).await?;
        }
        Err(_) => {
            js.create_key_value(bucket).await?;
        }
    }
    done.push(format!("KV_{}", crate::lease::BUCKET));
    Ok(done)
}
