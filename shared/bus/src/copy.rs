//! Comparing a stream with its log (`tatrack stream verify`) and rebuilding a lost log from its
//! stream. Both read the stream message by message with direct gets, by sequence.

use async_nats::jetstream;
use tatrack_eventlog::{Envelope, Store};

use crate::{streams, subjects};

/// The first difference between a log and its stream, if any.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub log_head: u64,
    pub stream_last: u64,
    pub stream_messages: u64,
    /// `(position, what is wrong)` for at most the first 20 differences.
    pub differences: Vec<(u64, String)>,
}

impl Comparison {
    pub fn equal(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares every position of the log with the stream message at the same sequence: same count,
/// same event id, same envelope.
pub async fn compare(
    js: &jetstream::Context,
    service: &str,
    store: &Store,
) -> Result<Comparison, async_nats::Error> {
    let mut stream = streams::ensure(js, service).await?;
    let info = stream.info().await?.clone();
    let log_head = store.durable_position();
    let mut differences = Vec::new();
    if info.state.last_sequence != log_head {
        differences.push((
            log_head.min(info.state.last_sequence) + 1,
            format!(
                "stream ends at {}, log at {log_head}",
                info.state.last_sequence
            ),
        ));
    }
    if info.state.messages != info.state.last_sequence {
        differences.push((
            0,
            format!(
                "stream holds {} messages for {} sequences",
                info.state.messages, info.state.last_sequence
            ),
        ));
    }
    let mut position = 1;
    while position <= log_head.min(info.state.last_sequence) && differences.len() < 20 {
        let expected = store
            .get(position)?
            .ok_or("log has no durable event there")?;
        match stream.get_raw_message(position).await {
            Ok(message) => {
                let subject_ok =
                    message.subject.as_str() == subjects::event_subject(service, &expected.stream);
                match serde_json::from_slice::<Envelope>(&message.payload) {
                    Ok(found) if found == expected && subject_ok => {}
                    Ok(found) => differences.push((
                        position,
                        format!(
                            "stream holds event {} of {}, log holds {} of {}",
                            found.id, found.stream, expected.id, expected.stream
                        ),
                    )),
                    Err(e) => differences
                        .push((position, format!("stream message is not an envelope: {e}"))),
                }
            }
            Err(e) => differences.push((position, format!("missing from stream: {e}"))),
        }
        position += 1;
    }
    Ok(Comparison {
        log_head,
        stream_last: info.state.last_sequence,
        stream_messages: info.state.messages,
        differences,
    })
}

/// Imports into `store` every stream message after the log's head, so a log whose disk was lost
/// (or that lost its tail) is whole again. Returns how many events it imported.
pub async fn rebuild_log(
    js: &jetstream::Context,
    service: &str,
    store: &Store,
) -> Result<u64, async_nats::Error> {
    let mut stream = streams::ensure(js, service).await?;
    let last = stream.info().await?.state.last_sequence;
    let head = store.durable_position();
    if head > 0 && head <= last {
        // The log and the stream must agree where the log ends, or they are not copies.
        let ours = store.get(head)?.ok_or("log head is not durable")?;
        let theirs: Envelope =
            serde_json::from_slice(&stream.get_raw_message(head).await?.payload)?;
        if ours != theirs {
            return Err(
                format!("log and stream differ at position {head}; refusing to rebuild").into(),
            );
        }
    }
    let mut imported = 0;
    for sequence in head + 1..=last {
        let message = stream.get_raw_message(sequence).await?;
        let envelope: Envelope = serde_json::from_slice(&message.payload)?;
        if envelope.position != sequence {
            return Err(format!(
                "stream sequence {sequence} holds position {}",
                envelope.position
            )
            .into());
        }
        store.import(envelope).await?;
        imported += 1;
    }
    Ok(imported)
}
