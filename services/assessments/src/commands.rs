//! Command handling: verb -> aggregate command, cross-aggregate checks, access, decide, append.
//!
//! Every verb is `<aggregate>_<command>` (subject `tatrack.cmd.assessments.<verb>`); the body is
//! the command's JSON without its `type`, which the verb supplies.

use tatrack_bus::rpc::{ErrorBody, Incoming};
use tatrack_bus::service::{command_body, execute, load, not_found, split_verb, to_json};
use tatrack_domain::Aggregate;
use tatrack_domain::assessment::{Assessment, AssessmentStatus};
use tatrack_domain::need::Need;
use tatrack_domain::recommendation::{Recommendation, RecommendationCommand};
use tatrack_domain::sharing::{Scope, SharingGrant, SharingGrantCommand};
use tatrack_eventlog::Store;

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

pub(crate) async fn handle(
    store: &Store,
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
    let reply_value = match aggregate {
        "assessment" => {
            let command: <Assessment as Aggregate>::Command = command_body(&incoming, command)?;
            execute::<Assessment>(store, &command.id(), &command, meta, |state| {
                access::assessment(&meta.principal, &command, state)
            })
            .await?
        }
        "recommendation" => {
            let mut command: RecommendationCommand = command_body(&incoming, command)?;
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
            let command: <Need as Aggregate>::Command = command_body(&incoming, command)?;
            check_need_references(store, &command)?;
            execute::<Need>(store, &command.id(), &command, meta, |state| {
                access::need(&meta.principal, &command, state)
            })
            .await?
        }
        _ => {
            let command: SharingGrantCommand = command_body(&incoming, command)?;
            check_grant_references(store, &command)?;
            execute::<SharingGrant>(store, &command.id(), &command, meta, |state| {
                access::sharing_grant(&meta.principal, &command, state)
            })
            .await?
        }
    };
    to_json(&reply_value)
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
