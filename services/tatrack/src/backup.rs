//! `tatrack backup` and `tatrack restore` (server host, the deployment's NATS `admin` key).
//!
//! A backup is each command service's stream read up to the last sequence it had when the
//! backup began: the stream is a 1:1 copy of the service's log (invariant 2), so this is a copy
//! of the log, taken without stopping or opening the service. A restore publishes the copies into
//! the streams of an empty deployment, position for position, exactly as the replicator would;
//! the services then take their logs back from the streams at start (`copy::rebuild_log`) and the
//! read model folds the streams, so the read model is restored by rebuilding it, not copied.

mod archive;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use futures::StreamExt as _;
use futures::stream::FuturesOrdered;
use serde::Serialize;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::{streams, subjects};
use tatrack_contract::answers::Positions;
use tatrack_eventlog::{Clock, Envelope};

use crate::cli::{Host, Settings};
use crate::host;

/// Why a backup or a restore was refused before it changed anything: the exit status says which
/// (`exit::status`).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The command's input is wrong: a bad backup directory or a non-empty `--out`.
    #[error("{0}")]
    BadInput(String),
    /// The deployment is in use: a service runs, a target stream holds messages, or the data
    /// directory holds a log or a projection that has applied events.
    #[error("{0}")]
    NotEmpty(String),
}

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The directory to write the backup into: new, or empty.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub host: Host,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The directory `tatrack backup` wrote.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    #[command(flatten)]
    pub host: Host,
}

/// Stream reads (backup) and publishes (restore) in flight at once.
const IN_FLIGHT: usize = 256;

/// The order the streams' ends are read in: a stream's events may rely on those of the streams
/// read after it (a report on every stream's positions, a referral on needs and offers), so
/// reading the dependents' ends first keeps what they rely on inside the backup.
const READ_ORDER: [&str; 4] = ["reporter", "projects", "partners", "assessments"];

pub async fn backup(clock: Clock, json: bool, args: BackupArgs) -> anyhow::Result<()> {
    // The clock is read once: the backup's time is when it began.
    let made_at = clock.now();
    let settings = Settings::new(clock, &args.host);
    let mut writer = archive::Writer::create(&args.out)?;
    let nats = host::connect_admin(&settings, "tatrack-backup").await?;
    let js = tatrack_bus::jetstream(nats.clone(), Duration::from_secs(5));
    // Before the streams' ends, so the read model's positions are at or below them.
    let readmodel_positions = readmodel_positions(&nats).await;
    let mut ends = BTreeMap::new();
    for service in READ_ORDER {
        ends.insert(service, stream_end(&js, service).await?);
    }
    let mut services = BTreeMap::new();
    for service in subjects::SERVICES {
        let mut file = writer.service_file(service)?;
        if let Some((stream, last)) = ends.remove(service).flatten() {
            copy_stream(&stream, service, last, &mut file)
                .await
                .with_context(|| format!("backing up {}", subjects::stream_name(service)))?;
        }
        let copy = file.finish()?;
        if !json {
            println!(
                "{service:<12} {:>8} events {}, sha256 {}",
                copy.events,
                positions(copy.last_position),
                copy.sha256
            );
        }
        services.insert(service.to_owned(), copy);
    }
    let manifest = archive::Manifest {
        format: archive::FORMAT,
        tatrack_version: env!("CARGO_PKG_VERSION").to_owned(),
        made_at,
        services,
        readmodel_positions,
    };
    writer.commit(&manifest)?;
    if json {
        println!("{}", serde_json::to_string(&manifest)?);
    } else {
        match &manifest.readmodel_positions {
            Some(positions) => println!(
                "read model at {} (not copied: a restore rebuilds it from the streams)",
                format_positions(positions)
            ),
            None => println!("read model: it did not answer, its positions are not recorded"),
        }
        println!("backup made at {made_at} in {}", args.out.display());
    }
    Ok(())
}

/// Asks the running read model (any one) how far it has applied each stream.
async fn positions_applied(nats: &async_nats::Client) -> Result<Positions, rpc::Error> {
    rpc::request(
        nats,
        &subjects::query_subject("position_show"),
        &RequestMeta::new(crate::admin::host_admin()),
        &serde_json::json!({}),
        Duration::from_secs(5),
    )
    .await
}

/// How far the running read model has applied each stream, if one answers. It is a record for
/// the operator, not part of what is restored, so a read model that is down does not stop a
/// backup of the logs.
async fn readmodel_positions(nats: &async_nats::Client) -> Option<BTreeMap<String, u64>> {
    match positions_applied(nats).await {
        Ok(answer) => Some(answer.positions),
        Err(e) => {
            eprintln!(
                "warning: the read model did not say where it stands ({e}); backing up without its positions"
            );
            None
        }
    }
}

/// The positions of a copy that ends at `last`.
fn positions(last: u64) -> String {
    if last == 0 {
        "(empty)".to_owned()
    } else {
        format!("(positions 1..={last})")
    }
}

fn format_positions(positions: &BTreeMap<String, u64>) -> String {
    positions
        .iter()
        .map(|(service, position)| format!("{service}:{position}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The service's stream and its last sequence, or `None` when the stream does not exist (a
/// service that never started has nothing to back up; a backup creates no stream).
async fn stream_end(
    js: &jetstream::Context,
    service: &str,
) -> anyhow::Result<Option<(jetstream::stream::Stream, u64)>> {
    let Some(stream) = existing_stream(js, service).await? else {
        return Ok(None);
    };
    let state = &stream.cached_info().state;
    let (last, messages) = (state.last_sequence, state.messages);
    // A log's copy holds every sequence from 1; anything else is not a copy of a log.
    if messages != last || (last > 0 && state.first_sequence != 1) {
        anyhow::bail!(
            "{} holds {messages} messages for sequences {}..={last}: it is not a whole copy of \
             the log (compare them with `tatrack stream verify --service {service}`)",
            subjects::stream_name(service),
            state.first_sequence
        );
    }
    Ok(Some((stream, last)))
}

async fn existing_stream(
    js: &jetstream::Context,
    service: &str,
) -> anyhow::Result<Option<jetstream::stream::Stream>> {
    let name = subjects::stream_name(service);
    match js.get_stream(&name).await {
        Ok(stream) => Ok(Some(stream)),
        Err(e)
            if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(ref j)
                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!("reading {name}: {e}")),
    }
}

/// Writes messages 1..=`last` of the stream into `file`, checking each is its service's envelope
/// at the position of its sequence (what the replicator published).
async fn copy_stream(
    stream: &jetstream::stream::Stream,
    service: &str,
    last: u64,
    file: &mut archive::ServiceFile,
) -> anyhow::Result<()> {
    let mut messages = futures::stream::iter(1..=last)
        .map(|sequence| async move {
            let message = stream
                .get_raw_message(sequence)
                .await
                .with_context(|| format!("reading sequence {sequence}"))?;
            anyhow::Ok((sequence, message))
        })
        .buffered(IN_FLIGHT);
    while let Some(read) = messages.next().await {
        let (sequence, message) = read?;
        let envelope: Envelope = serde_json::from_slice(&message.payload)
            .with_context(|| format!("sequence {sequence} is not an event envelope"))?;
        anyhow::ensure!(
            message.sequence == sequence && envelope.position == sequence,
            "sequence {sequence} holds the event at position {}",
            envelope.position
        );
        anyhow::ensure!(
            message.subject.as_str() == subjects::event_subject(service, &envelope.stream),
            "sequence {sequence} was published on {}, not on its stream's subject",
            message.subject
        );
        file.push(&message.payload)?;
    }
    Ok(())
}

/// What `restore --json` prints per service.
#[derive(Serialize)]
struct Restored {
    service: &'static str,
    stream: String,
    events: u64,
}

pub async fn restore(clock: Clock, json: bool, args: RestoreArgs) -> anyhow::Result<()> {
    // Everything in the directory is checked before anything is published.
    let backup = archive::read(&args.from)?;
    let settings = Settings::new(clock, &args.host);
    let nats = host::connect_admin(&settings, "tatrack-restore").await?;
    let js = tatrack_bus::jetstream(nats.clone(), Duration::from_secs(5));
    refuse_running_services(&nats).await?;
    let readmodel_runs = refuse_a_used_read_model(&nats).await?;
    refuse_used_data_dir(&settings.data_dir, &settings.clock, readmodel_runs)?;
    refuse_non_empty_streams(&js).await?;
    let mut restored = Vec::new();
    for (service, events) in &backup.services {
        publish(&js, service, events).await?;
        let row = Restored {
            service,
            stream: subjects::stream_name(service),
            events: events.len() as u64,
        };
        if !json {
            println!(
                "{:<12} {:>8} events into {} {}",
                row.service,
                row.events,
                row.stream,
                positions(row.events)
            );
        }
        restored.push(row);
    }
    if json {
        println!("{}", serde_json::to_string(&restored)?);
    } else {
        println!(
            "restored the backup made at {}. Start the services on empty data directories: each \
             takes its log back from its stream, and the read model folds the streams again{}.",
            backup.manifest.made_at,
            backup
                .manifest
                .readmodel_positions
                .as_ref()
                .map(|p| format!(" (the backed-up one stood at {})", format_positions(p)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// A running command service took its log from its stream when it started and would not see
/// what is published behind it: its next command would be decided on an empty log and its
/// replicator would stop on the restored messages. So each must be stopped (or not yet started).
async fn refuse_running_services(nats: &async_nats::Client) -> anyhow::Result<()> {
    let meta = RequestMeta::new(crate::admin::host_admin());
    for service in subjects::SERVICES {
        let subject = subjects::command_subject(service, tatrack_bus::service::ADMIN_HEAD);
        match rpc::request::<_, serde_json::Value>(
            nats,
            &subject,
            &meta,
            &serde_json::json!({}),
            Duration::from_secs(5),
        )
        .await
        {
            Err(rpc::Error::NoResponders(_)) => {}
            Ok(head) => {
                return Err(Refusal::NotEmpty(format!(
                    "refusing to restore: the {service} service is running (its log is at {}): \
                     stop every service, restore, then start them on empty data directories",
                    head.get("head").unwrap_or(&serde_json::Value::Null)
                ))
                .into());
            }
            Err(e) => return Err(anyhow::anyhow!("asking whether {service} runs: {e}")),
        }
    }
    Ok(())
}

/// A running read model that has applied anything holds another deployment's data: its
/// checkpoints would make it skip the restored events at or below them and answer from the old
/// state. One that has applied nothing simply follows the restored streams. Returns whether a
/// read model answered (then its files are in use and not looked at).
async fn refuse_a_used_read_model(nats: &async_nats::Client) -> anyhow::Result<bool> {
    match positions_applied(nats).await {
        Err(rpc::Error::NoResponders(_)) => Ok(false),
        Ok(answer) if answer.positions.values().all(|p| *p == 0) => Ok(true),
        Ok(answer) => Err(Refusal::NotEmpty(format!(
            "refusing to restore: the read model is running and has applied {}: stop it and              empty its data directory, restore, then start it again",
            format_positions(&answer.positions)
        ))
        .into()),
        Err(e) => Err(anyhow::anyhow!("asking whether the read model runs: {e}")),
    }
}

/// What the data directory (`--data-dir`, where this host sees it) already holds would not be
/// replaced by the restored streams: a log with events stops its service at start (its stream
/// then differs from it), and a projection's checkpoints (the read model's, the projects
/// service's view) make it skip the restored events at or below them. So every log there must
/// be empty and every projection must have applied nothing. What a start on empty directories
/// created is fine.
fn refuse_used_data_dir(
    data_dir: &std::path::Path,
    clock: &Clock,
    readmodel_runs: bool,
) -> anyhow::Result<()> {
    let mut used = Vec::new();
    for service in subjects::SERVICES {
        let dir = data_dir.join(service);
        if !dir.join("db").exists() {
            continue;
        }
        let store = tatrack_eventlog::Store::open(&dir, clock)
            .map_err(|e| anyhow::anyhow!("{}: cannot open the log: {e}", dir.display()))?;
        let head = store.durable_position();
        if head > 0 {
            used.push(format!("{} holds a log at position {head}", dir.display()));
        }
    }
    for (name, follows) in PROJECTIONS {
        let dir = data_dir.join(name);
        // A running read model's files are in use (and it was asked above).
        if (name == "readmodel" && readmodel_runs) || !dir.join("db").exists() {
            continue;
        }
        let applied = checkpoints(&dir, follows)?;
        if applied.values().any(|p| *p > 0) {
            used.push(format!(
                "{} has applied {}",
                dir.display(),
                format_positions(&applied)
            ));
        }
    }
    if used.is_empty() {
        Ok(())
    } else {
        Err(Refusal::NotEmpty(format!(
            "refusing to restore over data the restored streams would not replace: {}. Restore \
             into a deployment whose data directories are empty",
            used.join("; ")
        ))
        .into())
    }
}

/// The projections kept in the data directory, each with the streams it follows and keeps a
/// checkpoint of (the read model's, and the projects service's view of needs and offers).
const PROJECTIONS: [(&str, &[&str]); 2] = [
    ("readmodel", &subjects::SERVICES),
    ("projects-view", &["assessments", "partners"]),
];

/// How far the projection in `dir` has applied each stream it follows (a stream it never
/// followed is left out: opening its tree would create it).
fn checkpoints(dir: &std::path::Path, follows: &[&str]) -> anyhow::Result<BTreeMap<String, u64>> {
    let db = sled::Config::new()
        .path(dir)
        .open()
        .map_err(|e| anyhow::anyhow!("{}: cannot open: {e}", dir.display()))?;
    let trees = db.tree_names();
    let mut applied = BTreeMap::new();
    for service in follows {
        if trees.iter().any(|name| name.as_ref() == service.as_bytes()) {
            let tree = db.open_tree(service)?;
            applied.insert(
                (*service).to_owned(),
                tatrack_bus::subscriber::checkpoint(&tree, service)?,
            );
        }
    }
    Ok(applied)
}

/// A restore writes a whole log's copy from sequence 1, so every target stream must be absent or
/// empty (never used: a purged stream would number from its old end).
async fn refuse_non_empty_streams(js: &jetstream::Context) -> anyhow::Result<()> {
    let mut used = Vec::new();
    for service in subjects::SERVICES {
        if let Some(stream) = existing_stream(js, service).await? {
            let state = &stream.cached_info().state;
            if state.messages > 0 || state.last_sequence > 0 {
                used.push(format!(
                    "{} already holds {} messages (last sequence {})",
                    subjects::stream_name(service),
                    state.messages,
                    state.last_sequence
                ));
            }
        }
    }
    if used.is_empty() {
        Ok(())
    } else {
        Err(Refusal::NotEmpty(format!(
            "refusing to restore into a deployment that has data: {}. Restore into an empty \
             deployment (new NATS store, empty data directories)",
            used.join("; ")
        ))
        .into())
    }
}

/// Publishes one service's events into its stream (created with the services' own config), each
/// with its event id as the message id and the previous position as the expected last sequence,
/// as the replicator does; every ack must name the event's position.
async fn publish(
    js: &jetstream::Context,
    service: &'static str,
    events: &[archive::Event],
) -> anyhow::Result<()> {
    let name = subjects::stream_name(service);
    streams::ensure(js, service)
        .await
        .map_err(|e| anyhow::anyhow!("creating {name}: {e}"))?;
    let stopped = |position: u64, reason: String| {
        anyhow::anyhow!(
            "restoring {name} stopped at position {position}: {reason}. The streams now hold \
             part of the backup: delete them (`nats stream rm`) and restore again"
        )
    };
    let mut acks = FuturesOrdered::new();
    for event in events {
        let message = jetstream::message::PublishMessage::build()
            .payload(event.payload.clone())
            .message_id(event.id.to_string())
            .expected_last_sequence(event.position - 1);
        let ack = js
            .send_publish(event.subject.clone(), message)
            .await
            .map_err(|e| stopped(event.position, e.to_string()))?;
        let position = event.position;
        acks.push_back(async move { (position, ack.await) });
        if acks.len() >= IN_FLIGHT {
            check_ack(&name, acks.next().await, &stopped)?;
        }
    }
    while !acks.is_empty() {
        check_ack(&name, acks.next().await, &stopped)?;
    }
    Ok(())
}

type Ack = Option<(
    u64,
    Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
)>;

fn check_ack(
    name: &str,
    ack: Ack,
    stopped: &impl Fn(u64, String) -> anyhow::Error,
) -> anyhow::Result<()> {
    let Some((position, ack)) = ack else {
        return Ok(());
    };
    let ack = ack.map_err(|e| stopped(position, e.to_string()))?;
    if ack.stream != name || ack.sequence != position || ack.duplicate {
        return Err(stopped(
            position,
            format!(
                "the ack says sequence {} of {}{}",
                ack.sequence,
                ack.stream,
                if ack.duplicate { " (a duplicate)" } else { "" }
            ),
        ));
    }
    Ok(())
}
