//! What every command service shares: the wiring of `run` (open the log, take back from the
//! stream what the log lacks, replicate, serve the verbs plus `admin_stream_verify`, stop in
//! order) and the command path (`load` an aggregate from its log stream, `execute` a command:
//! authorise, decide, append with the version loaded, retry on a concurrent write).

use std::fmt::Display;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tatrack_domain::aggregate::Dated;
use tatrack_domain::{Aggregate, DomainError, DomainEvent, decode, encode};
use tatrack_eventlog::{Clock, CommandMeta, Expected, NewEvent, Store};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use tatrack_contract::CommandReply;

use tatrack_contract::bus::Service;

use crate::rpc::{self, ErrorBody, ErrorCode, Incoming, RequestMeta};
use crate::{copy, replicator, standby, subjects};

/// The admin verb behind `tatrack stream verify`: a service compares its own stream with its own
/// log, since only it may open the log while it runs.
pub const ADMIN_STREAM_VERIFY: &str = "admin_stream_verify";

/// The admin verb that answers the log's durable position (`{"head": N}`): another service waits
/// for its view to reach it, so it sees everything this service has acknowledged, not only what
/// the replicator has published so far.
pub const ADMIN_HEAD: &str = "admin_head";

/// One command service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `<data dir>`; the log lives in `<data dir>/<service>`.
    pub data_dir: PathBuf,
    pub nats: async_nats::Client,
    /// "Now" and "today": the default business date of a command, and the day no fact may be
    /// dated after.
    pub clock: Clock,
    /// `None`: the only instance, on one NATS server; the log is the truth and the replicator
    /// copies it to the stream behind the acknowledgements. `Some`: one of several instances on
    /// a NATS cluster (ARCHITECTURE.md, "Past one machine").
    pub cluster: Option<Cluster>,
}

/// How an instance takes part in a cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// This instance's name (unique among the instances of a service), shown as the lease's
    /// holder.
    pub instance: String,
    /// How long the lease lives without renewal.
    pub lease_ttl: Duration,
}

/// How long a command in cluster mode waits for its events to reach the replicated stream
/// before it answers `unavailable` (a retry with the same command id then waits again, and
/// never records it twice).
const REPLICATION_WAIT: Duration = Duration::from_secs(5);

/// Runs a command service until `shutdown` is cancelled: `handler` answers the service's verbs
/// (as the contract lists them) under `tatrack.cmd.<service>`; in-flight commands finish, the
/// replicator drains, the log flushes.
pub async fn run<H, F>(
    service: Service,
    description: &str,
    config: Config,
    handler: H,
    shutdown: CancellationToken,
) -> anyhow::Result<()>
where
    H: Fn(Store, Incoming) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<serde_json::Value, ErrorBody>> + Send + 'static,
{
    run_with(service, description, config, handler, |_, _| None, shutdown).await
}

/// Like `run`; `on_active` gets the log once it is whole, before commands are served, and a
/// token cancelled when this instance stops serving (shutdown, a failure, or a lost lease); a
/// service starts its own jobs there (e.g. expiring offers) and returns their task, which is
/// awaited before the instance serves again or returns. On a cluster it is called once per term
/// as the active instance: a standby runs no jobs.
pub async fn run_with<H, F>(
    service: Service,
    description: &str,
    config: Config,
    handler: H,
    mut on_active: impl FnMut(Store, CancellationToken) -> Option<tokio::task::JoinHandle<()>> + Send,
    shutdown: CancellationToken,
) -> anyhow::Result<()>
where
    H: Fn(Store, Incoming) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<serde_json::Value, ErrorBody>> + Send + 'static,
{
    let verbs = service.verbs();
    let service = service.name();
    let store = Store::open(config.data_dir.join(service), &config.clock).map_err(|e| {
        anyhow::anyhow!(
            "opening the {service} log in {}: {e}",
            config.data_dir.display()
        )
    })?;
    let js = crate::jetstream(config.nats.clone(), Duration::from_secs(1));
    let _positions = {
        let store = store.clone();
        crate::ops::gauges(service, move || {
            vec![("tatrack_log_durable_position", store.durable_position())]
        })
    };
    let term = Serving {
        service,
        description,
        verbs,
        nats: config.nats.clone(),
        js: js.clone(),
        store: store.clone(),
        replicated_ack: config.cluster.is_some(),
    };
    let Some(cluster) = config.cluster else {
        // A log that is behind its stream lost its tail (or its whole disk): take it back first.
        // NATS may not be up yet: keep trying (a service outlives a NATS restart, and starts
        // before one).
        loop {
            match copy::rebuild_log(&js, service, &store).await {
                Ok(0) => break,
                Ok(imported) => {
                    tracing::warn!(
                        service,
                        imported,
                        "log was behind its stream; rebuilt from it"
                    );
                    break;
                }
                Err(e) => {
                    tracing::warn!(service, error = %e, "cannot compare the log with its stream yet; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        let served = term
            .serve(&handler, &mut on_active, shutdown.child_token())
            .await;
        store.flush().await?;
        return served;
    };

    let lease = loop {
        match crate::lease::Lease::open(&js, service, &cluster.instance, cluster.lease_ttl).await {
            Ok(lease) => break lease,
            Err(e) => {
                tracing::warn!(service, error = %e, "cannot open the lease bucket yet (is the cluster provisioned?); retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    loop {
        let Some(won) = standby::wait_for_lease(&js, service, &store, &lease, &shutdown).await
        else {
            break;
        };
        if let Err(e) = standby::take_over(&js, service, &store, &won).await {
            tracing::warn!(service, error = %e, "could not take over; standing by again");
            lease.release(&won).await;
            continue;
        }
        let stop = shutdown.child_token();
        let holding = tokio::spawn(standby::hold(lease.clone(), won, stop.clone()));
        let served = term.serve(&handler, &mut on_active, stop.clone()).await;
        stop.cancel();
        let last_term = holding.await.ok();
        if shutdown.is_cancelled() {
            if let Some(last_term) = last_term {
                lease.release(&last_term).await;
            }
            store.flush().await?;
            return served;
        }
        if let Err(e) = served {
            tracing::error!(
                service,
                error = format!("{e:#}"),
                "serving failed; standing by again"
            );
        }
        tracing::warn!(service, instance = %cluster.instance, "stepped down; following the stream as the standby");
    }
    store.flush().await?;
    Ok(())
}

/// What one term of serving needs: the service's names, NATS and its log.
struct Serving<'a> {
    service: &'static str,
    description: &'a str,
    verbs: &'static [&'static str],
    nats: async_nats::Client,
    js: async_nats::jetstream::Context,
    store: Store,
    /// Acknowledge a command only once its events are in the stream (cluster mode); a
    /// replicator alarm (a fence: another instance writes the stream now) then ends the term.
    replicated_ack: bool,
}

impl Serving<'_> {
    /// Serves the verbs with the replicator and the service's jobs until `stop` (or a failure),
    /// then stops them all.
    async fn serve<H, F>(
        &self,
        handler: &H,
        on_active: &mut (
                 impl FnMut(Store, CancellationToken) -> Option<tokio::task::JoinHandle<()>> + Send
             ),
        stop: CancellationToken,
    ) -> anyhow::Result<()>
    where
        H: Fn(Store, Incoming) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Result<serde_json::Value, ErrorBody>> + Send + 'static,
    {
        let service = self.service;
        let store = self.store.clone();
        let _stop_on_return = stop.clone().drop_guard();
        let jobs = on_active(store.clone(), stop.clone());
        let replicator = replicator::Replicator::new(
            store.clone(),
            self.js.clone(),
            service,
            replicator::Options {
                atomic_commands: self.replicated_ack,
                ..replicator::Options::default()
            },
        );
        let replicated = replicator.replicated();
        let replicator_position = replicated.clone();
        let replicator = {
            let stop = stop.clone();
            let fenced = self.replicated_ack;
            tokio::spawn(async move {
                let result = replicator.run(stop.clone()).await;
                if fenced && result.is_err() {
                    // Another instance wrote the stream: nothing more may be acknowledged here.
                    stop.cancel();
                }
                result
            })
        };

        let endpoint = {
            let store = store.clone();
            let js = self.js.clone();
            let handler = handler.clone();
            let replicated_ack = self.replicated_ack;
            let stop = stop.clone();
            move |incoming: Incoming| {
                let store = store.clone();
                let js = js.clone();
                let handler = handler.clone();
                let mut replicated = replicated.clone();
                let stop = stop.clone();
                async move {
                    if incoming.verb == ADMIN_STREAM_VERIFY {
                        return stream_verify(&js, service, &store, &incoming).await;
                    }
                    if incoming.verb == ADMIN_HEAD {
                        // What others may wait for: what is acknowledged, which on a cluster
                        // is what is in the stream.
                        let head = if replicated_ack {
                            *replicated.borrow()
                        } else {
                            store.durable_position()
                        };
                        return Ok(serde_json::json!({ "head": head }));
                    }
                    let incoming = prepare(incoming)?;
                    // A retried command returns its first answer, even if deciding it again would now fail.
                    let answer = match first_answer(&store, &incoming.meta).await? {
                        Some(reply) => to_json(&reply)?,
                        None => handler(store.clone(), incoming).await?,
                    };
                    if replicated_ack {
                        let last = answer
                            .get("last_position")
                            .and_then(serde_json::Value::as_u64)
                            .unwrap_or_else(|| store.durable_position());
                        wait_replicated(&mut replicated, last, &stop).await?;
                    }
                    Ok(answer)
                }
            }
        };
        if self.replicated_ack {
            // `admin_head` answers what is replicated: serve once the replicator has found the
            // stream equal to the log (the new holder made them equal before it took over).
            let head = store.durable_position();
            let mut first_sync = replicator_position.clone();
            tokio::select! {
                _ = first_sync.wait_for(|p| *p >= head) => {}
                () = stop.cancelled() => {}
            }
        }
        let prefix = subjects::command_prefix(service);
        let mut all_verbs = self.verbs.to_vec();
        all_verbs.push(ADMIN_STREAM_VERIFY);
        all_verbs.push(ADMIN_HEAD);
        tracing::info!(service, head = store.durable_position(), "ready");
        let served = rpc::serve(
            self.nats.clone(),
            service,
            self.description,
            &prefix,
            &all_verbs,
            endpoint,
            stop.clone(),
        )
        .await;
        // Serving ends on shutdown, a failure or a lost lease: either way the rest stops now.
        stop.cancel();
        match replicator.await {
            Ok(Ok(())) => {}
            // The alarm was logged when it was raised; the log stays the truth meanwhile (one
            // server), or the instance stands by and drops its unreplicated tail (a cluster).
            Ok(Err(e)) => tracing::error!(service, error = %e, "replicator stopped with an alarm"),
            Err(e) => tracing::error!(service, error = %e, "replicator task failed"),
        }
        if let Some(jobs) = jobs {
            let _ = jobs.await;
        }
        served.map_err(|e| anyhow::anyhow!("serving {service} commands: {e}"))
    }
}

/// Waits until the stream holds `position`; answers `unavailable` when that takes longer than
/// `REPLICATION_WAIT` or the term ends (never acknowledged; a retry with the same command id
/// gets the first answer once it is replicated, or is decided afresh by the next holder).
async fn wait_replicated(
    replicated: &mut tokio::sync::watch::Receiver<u64>,
    position: u64,
    stop: &CancellationToken,
) -> Result<(), ErrorBody> {
    let unavailable = || {
        ErrorBody::new(
            ErrorCode::Unavailable,
            "the command's events are not replicated yet: send it again with the same command id",
        )
    };
    tokio::select! {
        reached = tokio::time::timeout(REPLICATION_WAIT, replicated.wait_for(|p| *p >= position)) => {
            match reached {
                Ok(Ok(_)) => Ok(()),
                _ => Err(unavailable()),
            }
        }
        () = stop.cancelled() => Err(unavailable()),
    }
}

async fn stream_verify(
    js: &async_nats::jetstream::Context,
    service: &str,
    store: &Store,
    incoming: &Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    if !incoming.meta.principal.is_staff() {
        return Err(ErrorBody::new(
            ErrorCode::Forbidden,
            "only admins may verify the stream",
        ));
    }
    let comparison = copy::compare(js, service, store).await.map_err(|e| {
        tracing::warn!(error = %e, "stream verify failed");
        ErrorBody::new(
            ErrorCode::Unavailable,
            format!("cannot read the stream: {e}"),
        )
    })?;
    to_json(&comparison)
}

/// Readies a command as the caller sent it: its fingerprint (verb and body, before anything is
/// filled in, so a retry the next day still matches). The contract's `decode` fills in what the
/// caller may leave out: `on` (the clock's today, which the service passes) and the id of a new
/// aggregate (the reply names it).
fn prepare(mut incoming: Incoming) -> Result<Incoming, ErrorBody> {
    if !incoming.payload.is_empty() {
        let body = incoming.json()?;
        incoming.meta.fingerprint = Some(fingerprint(&incoming.verb, &body));
    }
    Ok(incoming)
}

/// SHA-256 of the verb and the body's canonical JSON (object keys sorted), in hex.
fn fingerprint(verb: &str, body: &serde_json::Value) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(verb.as_bytes());
    hash.update([0]);
    hash.update(body.to_string().as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn command_reused(command_id: Uuid) -> ErrorBody {
    ErrorBody {
        field: Some("command_id".into()),
        reason: Some("already used for a different command".into()),
        ..ErrorBody::new(
            ErrorCode::Conflict,
            format!(
                "command id {command_id} was already used for a different command: send a new id for a new command"
            ),
        )
    }
}

/// The reply a command id already got, if it was seen with the same body; a command id seen
/// with a different body is refused.
async fn first_answer(
    store: &Store,
    meta: &RequestMeta,
) -> Result<Option<CommandReply>, ErrorBody> {
    let Some(command_id) = meta.command_id else {
        return Ok(None);
    };
    let Some(appended) = store.command_result(command_id).await.map_err(log_error)? else {
        return Ok(None);
    };
    if let (Some(first), Some(now)) = (&appended.fingerprint, &meta.fingerprint)
        && first != now
    {
        return Err(command_reused(command_id));
    }
    let first = store
        .get(appended.first_position)
        .map_err(log_error)?
        .ok_or_else(ErrorBody::internal)?;
    let id = first
        .stream
        .split_once('-')
        .map(|(_, id)| id.to_owned())
        .unwrap_or_default();
    Ok(Some(CommandReply {
        id,
        stream: first.stream,
        first_position: appended.first_position,
        last_position: appended.last_position,
        stream_version: appended.stream_version,
        idempotent: true,
    }))
}

pub fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, ErrorBody> {
    serde_json::to_value(value).map_err(|_| ErrorBody::internal())
}

/// Splits a verb `<aggregate>_<command>` for one of `aggregates` (longest name first, since
/// aggregate names may hold `_`, e.g. `sharing_grant_revoke`, `progress_report_submit`).
pub fn split_verb<'a>(
    verb: &'a str,
    aggregates: &[&'static str],
) -> Result<(&'static str, &'a str), ErrorBody> {
    let mut names = aggregates.to_vec();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
        .into_iter()
        .find_map(|name| {
            verb.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('_'))
                .map(|c| (name, c))
        })
        .ok_or_else(|| ErrorBody::invalid("verb", "unknown command"))
}

pub fn not_found(what: &str, id: &(dyn Display + Sync)) -> ErrorBody {
    ErrorBody::from(DomainError::not_found(what, id.to_string()))
}

/// States already folded, per open log and stream, with the version they are at. The log is
/// append-only, so a cached state is never wrong, only possibly behind: `load` folds just the
/// events after it. Without it a busy aggregate (a project with thousands of transactions) is
/// replayed from its first event on every command.
type Cached = (u64, Box<dyn std::any::Any + Send + Sync>);
static STATES: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<(u64, String), Cached>>,
> = std::sync::LazyLock::new(Default::default);

/// Entries kept before the cache starts over (states are small; this bounds memory).
const MAX_CACHED: usize = 100_000;

/// The state of one aggregate and its stream version, folded from its log stream.
pub fn load<A: Aggregate>(
    store: &Store,
    id: &(dyn Display + Sync),
) -> Result<(A::State, u64), ErrorBody>
where
    A::State: Send + Sync + 'static,
{
    let stream = subjects::log_stream(A::NAME, &id);
    let key = (store.instance(), stream);
    let cached = {
        let states = STATES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        states.get(&key).and_then(|(version, state)| {
            state
                .downcast_ref::<A::State>()
                .map(|s| (*version, s.clone()))
        })
    };
    let (mut state, mut version) = match cached {
        Some((version, state)) => (state, version),
        None => (A::State::default(), 0),
    };
    let mut moved = false;
    for envelope in store.read_stream(&key.1, version + 1).map_err(log_error)? {
        let event: A::Event = decode(&envelope.kind, envelope.schema, &envelope.payload, envelope.business_date()).map_err(|e| {
            tracing::error!(stream = %key.1, position = envelope.position, error = %e, "undecodable event");
            ErrorBody::internal()
        })?;
        state = A::evolve(state, &event);
        version = envelope.version;
        moved = true;
    }
    if moved {
        let mut states = STATES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if states.len() >= MAX_CACHED {
            states.clear();
        }
        states.insert(key, (version, Box::new(state.clone())));
    }
    Ok((state, version))
}

/// One async lock per open log and stream: commands to one aggregate are decided one after the
/// other (DESIGN §3 invariant 4), so a busy aggregate does not burn its attempts on conflicts.
/// The expected-version check on append stays as the guard against any other writer.
type StreamLocks = std::collections::HashMap<(u64, String), std::sync::Arc<tokio::sync::Mutex<()>>>;
static LOCKS: std::sync::LazyLock<std::sync::Mutex<StreamLocks>> =
    std::sync::LazyLock::new(Default::default);

/// Serialises work on `key` within this open log: a rule that spans aggregates (one offer's
/// capacity over all its referrals, one referral per need and offer) is checked and written
/// by one writer at a time. The key space is shared with the per-stream locks, so keys that
/// are not stream names should carry a prefix of their own (e.g. `capacity/<offer>`).
pub async fn lock(store: &Store, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
    lock_stream(store, key).await
}

async fn lock_stream(store: &Store, stream: &str) -> tokio::sync::OwnedMutexGuard<()> {
    let lock = {
        let mut locks = LOCKS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if locks.len() > 10_000 {
            // Forget the locks nobody holds or waits for.
            locks.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
        }
        locks
            .entry((store.instance(), stream.to_owned()))
            .or_default()
            .clone()
    };
    lock.lock_owned().await
}

/// Attempts when a concurrent writer moved the aggregate between load and append.
const CONFLICT_RETRIES: usize = 3;

/// Load, authorise, decide, append with the version loaded; on a concurrent write, do it again
/// (then answer `conflict` with the actual version).
pub async fn execute<A: Aggregate>(
    store: &Store,
    id: &(dyn Display + Sync),
    command: &A::Command,
    meta: &RequestMeta,
    authorise: impl Fn(&A::State) -> Result<(), ErrorBody>,
) -> Result<CommandReply, ErrorBody>
where
    A::State: Send + Sync + 'static,
{
    let stream = subjects::log_stream(A::NAME, &id);
    let on = command.on();
    let today = store.clock().today();
    if on > today {
        // A fact is recorded once it has happened; planned dates are fields of their own.
        return Err(ErrorBody::invalid(
            "on",
            &format!("{on} is after today ({today}): record a fact once it has happened"),
        ));
    }
    let _serialised = lock_stream(store, &stream).await;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (state, version) = load::<A>(store, id)?;
        authorise(&state)?;
        if let Some(expected) = meta.expected_version
            && expected != version
        {
            // The caller decided on a version that is no longer current: never a lost update.
            return Err(ErrorBody {
                actual_version: Some(version),
                ..ErrorBody::new(
                    ErrorCode::Conflict,
                    format!("{stream} is at version {version}, not {expected}"),
                )
            });
        }
        let events = A::decide(&state, command)?;
        if events.is_empty() {
            // Nothing to record (e.g. an amendment that changes nothing): answer where it stands.
            return Ok(CommandReply {
                id: id.to_string(),
                stream,
                first_position: 0,
                last_position: 0,
                stream_version: version,
                idempotent: true,
            });
        }
        let new_events = events
            .iter()
            .map(|event| {
                let encoded = encode(event);
                NewEvent {
                    id: Uuid::now_v7(),
                    kind: encoded.kind,
                    schema: encoded.schema,
                    on: Some(event.on()),
                    payload: encoded.payload,
                }
            })
            .collect();
        let expected = if version == 0 {
            Expected::NoStream
        } else {
            Expected::Exact(version)
        };
        let log_meta = CommandMeta {
            principal: format!("{}:{}", meta.principal.role, meta.principal.id),
            command_id: meta.command_id,
            correlation_id: Some(meta.correlation_id.clone()),
            fingerprint: meta.fingerprint.clone(),
        };
        match store.append(&stream, expected, new_events, log_meta).await {
            Ok(appended) => {
                return Ok(CommandReply {
                    id: id.to_string(),
                    stream,
                    first_position: appended.first_position,
                    last_position: appended.last_position,
                    stream_version: appended.stream_version,
                    idempotent: appended.idempotent,
                });
            }
            Err(tatrack_eventlog::Error::Conflict { actual, .. })
                if attempt >= CONFLICT_RETRIES =>
            {
                return Err(ErrorBody {
                    actual_version: Some(actual),
                    ..ErrorBody::new(
                        ErrorCode::Conflict,
                        format!("{stream} was changed concurrently; try again"),
                    )
                });
            }
            Err(tatrack_eventlog::Error::Conflict { .. }) => {}
            Err(e) => return Err(log_error(e)),
        }
    }
}

pub fn log_error(e: tatrack_eventlog::Error) -> ErrorBody {
    match e {
        tatrack_eventlog::Error::Invalid { field, reason } => ErrorBody::invalid(field, &reason),
        tatrack_eventlog::Error::CommandReused { command_id } => command_reused(command_id),
        other => {
            tracing::error!(error = %other, "event log failure");
            ErrorBody::new(
                ErrorCode::Unavailable,
                "the event log cannot take commands now",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_verb;

    #[test]
    fn verbs_split_at_the_longest_aggregate_name() {
        let names = ["sharing_grant", "need", "progress_report", "project"];
        assert_eq!(
            split_verb("sharing_grant_revoke", &names).unwrap(),
            ("sharing_grant", "revoke")
        );
        assert_eq!(
            split_verb("progress_report_submit", &names).unwrap(),
            ("progress_report", "submit")
        );
        assert_eq!(
            split_verb("project_add_transaction", &names).unwrap(),
            ("project", "add_transaction")
        );
        assert!(split_verb("nothing_here", &names).is_err());
        assert!(split_verb("need", &names).is_err());
    }
}
