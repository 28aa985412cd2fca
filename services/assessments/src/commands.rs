//! Command handling: verb -> aggregate command, cross-aggregate checks, access, decide, append.
//!
//! Every verb is `<aggregate>_<command>` (subject `tatrack.cmd.assessments.<verb>`); the body is
//! the command's JSON without its `type`, which the verb supplies.

use tatrack_bus::rpc::{ErrorBody, Incoming};
use tatrack_bus::service::{execute, load, not_found, split_verb, to_json};
use tatrack_contract::answers::GrantView;
use tatrack_contract::commands::sharing::KeepsAccess;
use tatrack_contract::commands::{assessment, need, recommendation, sharing};
use tatrack_domain::Aggregate;
use tatrack_domain::assessment::{Assessment, AssessmentStatus};
use tatrack_domain::need::{Need, NeedCommand};
use tatrack_domain::recommendation::{Recommendation, RecommendationCommand};
use tatrack_domain::sharing::{Scope, SharingGrant, SharingGrantCommand};
use tatrack_eventlog::Store;

use crate::access;

pub(crate) async fn handle(
    store: &Store,
    nats: &async_nats::Client,
    incoming: Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    let (aggregate, command) = split_verb(
        &incoming.verb,
        &[
            Assessment::NAME,
            Recommendation::NAME,
            Need::NAME,
            SharingGrant::NAME,
        ],
    )?;
    let meta = &incoming.meta;
    let body = incoming.json()?;
    let today = store.clock().today();
    let reply_value = match aggregate {
        "assessment" => {
            let command = assessment::decode(command, body, today)?;
            execute::<Assessment>(store, &command.id(), &command, meta, |state| {
                access::assessment(&meta.principal, &command, state)
            })
            .await?
        }
        "recommendation" => {
            let mut command = recommendation::decode(command, body, today)?;
            // Authorise before looking at anything the command names.
            let state = load::<Recommendation>(store, &command.id())?.0;
            access::recommendation(&meta.principal, &command, &state)?;
            if let RecommendationCommand::Record {
                assessment_id,
                member_state,
                ..
            } = &mut command
            {
                // The member state is the assessment's, whatever the caller sent.
                let assessment = load::<Assessment>(store, assessment_id)?.0;
                match assessment.status {
                    None => return Err(not_found("assessment", assessment_id)),
                    Some(AssessmentStatus::Cancelled) => {
                        return Err(ErrorBody::invalid(
                            "assessment_id",
                            "the assessment was cancelled",
                        ));
                    }
                    Some(_) => member_state.clone_from(&assessment.member_state),
                }
            }
            execute::<Recommendation>(store, &command.id(), &command, meta, |state| {
                access::recommendation(&meta.principal, &command, state)
            })
            .await?
        }
        "need" => {
            let command = need::decode(command, body, today)?;
            let state = load::<Need>(store, &command.id())?.0;
            access::need(&meta.principal, &command, &state)?;
            check_need_references(store, &command)?;
            execute::<Need>(store, &command.id(), &command, meta, |state| {
                access::need(&meta.principal, &command, state)
            })
            .await?
        }
        _ => {
            let command = sharing::decode(command, body, today)?;
            let state = load::<SharingGrant>(store, &command.id())?.0;
            access::sharing_grant(&meta.principal, &command, &state)?;
            check_grant_references(store, &command)?;
            let reply = execute::<SharingGrant>(store, &command.id(), &command, meta, |state| {
                access::sharing_grant(&meta.principal, &command, state)
            })
            .await?;
            if let SharingGrantCommand::Revoke { id, .. } = &command {
                // Consent given for a piece of work runs with that work: say who keeps seeing
                // the grant's needs through running referrals and projects, and why.
                let keeps_access = Some(kept_by(nats, *id, reply.last_position).await);
                return to_json(&sharing::Revoked {
                    reply,
                    keeps_access,
                });
            }
            reply
        }
    };
    to_json(&reply_value)
}

/// The organisations that keep seeing a revoked grant's needs, as the read model lists them
/// once it has the revocation (`sharing_grant_list`, `kept_by`). The revocation stands either
/// way; when the read model cannot say, the answer says so instead of guessing.
async fn kept_by(nats: &async_nats::Client, grant: uuid::Uuid, position: u64) -> KeepsAccess {
    let meta = tatrack_bus::rpc::RequestMeta {
        command_id: None,
        ..tatrack_bus::rpc::RequestMeta::new(tatrack_domain::Principal::system())
    };
    let body = serde_json::json!({ "id": grant.to_string(), "min_positions": { "assessments": position } });
    let answer: Result<Vec<GrantView>, _> = tatrack_bus::rpc::request(
        nats,
        &tatrack_bus::subjects::query_subject("sharing_grant_list"),
        &meta,
        &body,
        std::time::Duration::from_secs(10),
    )
    .await;
    match answer {
        Ok(rows) => KeepsAccess::Known(
            rows.into_iter()
                .next()
                .map(|row| row.kept_by)
                .unwrap_or_default(),
        ),
        Err(e) => KeepsAccess::Unknown {
            unknown: format!("the read model cannot say yet: {e}"),
        },
    }
}

/// A need serves recommendations of its own member state, and they must exist.
fn check_need_references(store: &Store, command: &NeedCommand) -> Result<(), ErrorBody> {
    if let NeedCommand::Identify {
        member_state,
        recommendation_ids,
        ..
    } = command
    {
        for id in recommendation_ids {
            let recommendation = load::<Recommendation>(store, id)?.0;
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
                let n = load::<Need>(store, need_id)?.0;
                (n.status.map(|_| n.member_state), "need", *need_id)
            }
            Scope::AssessmentReport { assessment_id } => {
                let a = load::<Assessment>(store, assessment_id)?.0;
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
