//! Command handling: verb -> aggregate command, cross-aggregate checks, access, decide, append.
//!
//! Every verb is `<aggregate>_<command>` (subject `tatrack.cmd.assessments.<verb>`); the body is
//! the command's JSON without its `type`, which the verb supplies.

use serde::{Deserialize, Serialize};
use tatrack_bus::rpc::{ErrorBody, ErrorCode, Incoming, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::assessment::{Assessment, AssessmentStatus};
use tatrack_domain::need::Need;
use tatrack_domain::recommendation::{Recommendation, RecommendationCommand};
use tatrack_domain::sharing::{Scope, SharingGrant, SharingGrantCommand};
use tatrack_domain::{Aggregate, DomainError, decode, encode};
use tatrack_eventlog::{CommandMeta, Expected, NewEvent, Store};
use uuid::Uuid;

use crate::access;

/// Every command verb this service answers.
pub const VERBS: &[&str] = &[
    "assessment_plan",
    "assessment_mark_conducted",
    "assessment_send_draft",
    "assessment_record_observations",
    "assessment_adopt",
    "assessment_record_response",
    "assessment_close",
    "assessment_cancel",
    "recommendation_record",
    "recommendation_update_status",
    "need_identify",
    "need_agree_with_state",
    "need_withdraw",
    "need_decline",
    "need_record_coverage",
    "need_mark_met",
    "need_amend",
    "sharing_grant_grant",
    "sharing_grant_revoke",
];

/// What a command reply carries: where its events went (DESIGN §4: the positions it wrote, for
/// read-your-writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    pub id: Uuid,
    pub stream: String,
    pub first_position: u64,
    pub last_position: u64,
    pub stream_version: u64,
    /// True when the command id was seen before and this is the first answer again.
    pub idempotent: bool,
}

/// Attempts when a concurrent writer moved the aggregate between load and append.
const CONFLICT_RETRIES: usize = 3;

pub(crate) async fn handle(
    store: &Store,
    incoming: Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    // A retried command returns its first answer, even if deciding it again would now fail.
    if let Some(command_id) = incoming.meta.command_id
        && let Some(appended) = store.command_result(command_id).await.map_err(log_error)?
    {
        let first = store
            .get(appended.first_position)
            .map_err(log_error)?
            .ok_or_else(ErrorBody::internal)?;
        let id = first
            .stream
            .split_once('-')
            .and_then(|(_, id)| id.parse().ok())
            .unwrap_or_default();
        return reply(CommandReply {
            id,
            stream: first.stream,
            first_position: appended.first_position,
            last_position: appended.last_position,
            stream_version: appended.stream_version,
            idempotent: true,
        });
    }
    let (aggregate, command) = incoming
        .verb
        .split_once('_')
        .filter(|(a, _)| matches!(*a, "assessment" | "recommendation" | "need" | "sharing"))
        .ok_or_else(|| ErrorBody::invalid("verb", "unknown command"))?;
    // `sharing_grant_grant` splits as ("sharing", "grant_grant").
    let (aggregate, command) = match aggregate {
        "sharing" => (
            "sharing_grant",
            command.strip_prefix("grant_").unwrap_or(command),
        ),
        other => (other, command),
    };
    let body = with_type(&incoming, command)?;
    let meta = &incoming.meta;
    let reply_value = match aggregate {
        "assessment" => {
            let command: <Assessment as Aggregate>::Command = parse(&body)?;
            execute::<Assessment>(store, command.id(), &command, meta, |state| {
                access::assessment(&meta.principal, &command, state)
            })
            .await?
        }
        "recommendation" => {
            let mut command: RecommendationCommand = parse(&body)?;
            if let RecommendationCommand::Record {
                assessment_id,
                member_state,
                ..
            } = &mut command
            {
                // The member state is the assessment's, whatever the caller sent.
                let assessment = load::<Assessment>(store, *assessment_id)?.0;
                match assessment.status {
                    None => return Err(not_found("assessment", *assessment_id)),
                    Some(AssessmentStatus::Cancelled) => {
                        return Err(ErrorBody::invalid(
                            "assessment_id",
                            "the assessment was cancelled",
                        ));
                    }
                    Some(_) => member_state.clone_from(&assessment.member_state),
                }
            }
            execute::<Recommendation>(store, command.id(), &command, meta, |state| {
                access::recommendation(&meta.principal, &command, state)
            })
            .await?
        }
        "need" => {
            let command: <Need as Aggregate>::Command = parse(&body)?;
            check_need_references(store, &command)?;
            execute::<Need>(store, command.id(), &command, meta, |state| {
                access::need(&meta.principal, &command, state)
            })
            .await?
        }
        _ => {
            let command: SharingGrantCommand = parse(&body)?;
            check_grant_references(store, &command)?;
            execute::<SharingGrant>(store, command.id(), &command, meta, |state| {
                access::sharing_grant(&meta.principal, &command, state)
            })
            .await?
        }
    };
    reply(reply_value)
}

fn reply(value: CommandReply) -> Result<serde_json::Value, ErrorBody> {
    serde_json::to_value(value).map_err(|_| ErrorBody::internal())
}

/// Adds `"type": command` to the body object so it decodes as the aggregate's command enum.
fn with_type(incoming: &Incoming, command: &str) -> Result<serde_json::Value, ErrorBody> {
    let mut body: serde_json::Value = serde_json::from_slice(&incoming.payload)
        .map_err(|e| ErrorBody::invalid("body", &format!("malformed JSON: {e}")))?;
    let object = body
        .as_object_mut()
        .ok_or_else(|| ErrorBody::invalid("body", "must be a JSON object"))?;
    object.insert(
        "type".to_owned(),
        serde_json::Value::String(command.to_owned()),
    );
    Ok(body)
}

fn parse<T: serde::de::DeserializeOwned>(body: &serde_json::Value) -> Result<T, ErrorBody> {
    tatrack_bus::rpc::from_value(body)
}

fn not_found(what: &str, id: Uuid) -> ErrorBody {
    ErrorBody::from(DomainError::not_found(what, id.to_string()))
}

/// The state of one aggregate and its stream version, folded from its log stream.
pub(crate) fn load<A: Aggregate>(store: &Store, id: Uuid) -> Result<(A::State, u64), ErrorBody> {
    let stream = subjects::log_stream(A::NAME, &id);
    let mut state = A::State::default();
    let mut version = 0;
    for envelope in store.read_stream(&stream, 1).map_err(log_error)? {
        let event: A::Event = decode(&envelope.kind, envelope.schema, &envelope.payload).map_err(|e| {
            tracing::error!(stream = %stream, position = envelope.position, error = %e, "undecodable event");
            ErrorBody::internal()
        })?;
        state = A::evolve(state, &event);
        version = envelope.version;
    }
    Ok((state, version))
}

/// Load, authorise, decide, append with the version loaded; on a concurrent write, do it again.
async fn execute<A: Aggregate>(
    store: &Store,
    id: Uuid,
    command: &A::Command,
    meta: &RequestMeta,
    authorise: impl Fn(&A::State) -> Result<(), ErrorBody>,
) -> Result<CommandReply, ErrorBody> {
    let stream = subjects::log_stream(A::NAME, &id);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (state, version) = load::<A>(store, id)?;
        authorise(&state)?;
        let events = A::decide(&state, command)?;
        let new_events = events
            .iter()
            .map(|event| {
                let encoded = encode(event);
                NewEvent {
                    id: Uuid::now_v7(),
                    kind: encoded.kind,
                    schema: encoded.schema,
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
            correlation_id: Some(meta.correlation_id),
        };
        match store.append(&stream, expected, new_events, log_meta).await {
            Ok(appended) => {
                return Ok(CommandReply {
                    id,
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

fn log_error(e: tatrack_eventlog::Error) -> ErrorBody {
    match e {
        tatrack_eventlog::Error::Invalid { field, reason } => ErrorBody::invalid(field, &reason),
        other => {
            tracing::error!(error = %other, "event log failure");
            ErrorBody::new(
                ErrorCode::Unavailable,
                "the event log cannot take commands now",
            )
        }
    }
}

/// A need serves recommendations of its own member state, and they must exist.
fn check_need_references(
    store: &Store,
    command: &<Need as Aggregate>::Command,
) -> Result<(), ErrorBody> {
    use tatrack_domain::need::NeedCommand;
    if let NeedCommand::Identify {
        member_state,
        recommendation_ids,
        ..
    } = command
    {
        for id in recommendation_ids {
            let recommendation = load::<Recommendation>(store, *id)?.0;
            if recommendation.status.is_none() {
                return Err(ErrorBody::invalid(
                    "recommendation_ids",
                    &format!("recommendation {id} does not exist"),
                ));
            }
            if &recommendation.member_state != member_state {
                return Err(ErrorBody::invalid(
                    "recommendation_ids",
                    &format!(
                        "recommendation {id} is for {}, not {member_state}",
                        recommendation.member_state
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A grant covers a need or a report of its own member state, and it must exist.
fn check_grant_references(store: &Store, command: &SharingGrantCommand) -> Result<(), ErrorBody> {
    if let SharingGrantCommand::Grant {
        member_state,
        scope,
        ..
    } = command
    {
        let (owner, what, id) = match scope {
            Scope::Need { need_id } => {
                let n = load::<Need>(store, *need_id)?.0;
                (n.status.map(|_| n.member_state), "need", *need_id)
            }
            Scope::AssessmentReport { assessment_id } => {
                let a = load::<Assessment>(store, *assessment_id)?.0;
                (
                    a.status.map(|_| a.member_state),
                    "assessment",
                    *assessment_id,
                )
            }
            Scope::AllNeeds => return Ok(()),
        };
        match owner {
            None => {
                return Err(ErrorBody::invalid(
                    "scope",
                    &format!("{what} {id} does not exist"),
                ));
            }
            Some(owner) if &owner != member_state => {
                return Err(ErrorBody::invalid(
                    "scope",
                    &format!("{what} {id} is for {owner}, not {member_state}"),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}
