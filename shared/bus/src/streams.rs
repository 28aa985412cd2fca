//! JetStream stream setup: one file-backed stream per command service.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

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

/// The stream's last sequence, or 0 when it does not exist.
pub async fn last_sequence(
    js: &jetstream::Context,
    service: &str,
) -> Result<u64, async_nats::Error> {
    let mut stream = ensure(js, service).await?;
    Ok(stream.info().await?.state.last_sequence)
}
