//! Who may issue which command (DESIGN §1): coordinators, admins and the services themselves do
//! everything except act as the State; a State focal point acts for its own country (consent,
//! agreement, observations, responses); donors and auditors issue none of these commands.

use tatrack_bus::rpc::ErrorBody;
use tatrack_domain::assessment::{AssessmentCommand, AssessmentState};
use tatrack_domain::need::{NeedCommand, NeedState};
use tatrack_domain::recommendation::{RecommendationCommand, RecommendationState};
use tatrack_domain::sharing::{SharingGrantCommand, SharingGrantState};
use tatrack_domain::{DomainError, Principal, Role};

fn forbidden(reason: &str) -> ErrorBody {
    ErrorBody::from(DomainError::Forbidden {
        reason: reason.to_owned(),
    })
}

/// A focal point of `member_state` (or staff).
fn for_state(principal: &Principal, member_state: &str, what: &str) -> Result<(), ErrorBody> {
    if principal.is_staff() || principal.acts_for_state(member_state) {
        return Ok(());
    }
    // The message names no country: for an object the caller may not see, it would tell where
    // the object is.
    Err(forbidden(&format!(
        "only coordinators or the State's focal point may {what}"
    )))
}

fn staff_only(principal: &Principal, what: &str) -> Result<(), ErrorBody> {
    if principal.is_staff() {
        Ok(())
    } else {
        Err(forbidden(&format!("only coordinators may {what}")))
    }
}

pub(crate) fn assessment(
    principal: &Principal,
    command: &AssessmentCommand,
    state: &AssessmentState,
) -> Result<(), ErrorBody> {
    match command {
        AssessmentCommand::RecordObservations { .. } | AssessmentCommand::RecordResponse { .. } => {
            for_state(
                principal,
                &state.member_state,
                "record the State's observations or response",
            )
        }
        _ => staff_only(principal, "plan and move assessments"),
    }
}

pub(crate) fn recommendation(
    principal: &Principal,
    command: &RecommendationCommand,
    state: &RecommendationState,
) -> Result<(), ErrorBody> {
    match command {
        RecommendationCommand::UpdateStatus { .. } => for_state(
            principal,
            &state.member_state,
            "update the status of a recommendation",
        ),
        RecommendationCommand::Record { .. } => staff_only(principal, "record recommendations"),
    }
}

pub(crate) fn need(
    principal: &Principal,
    command: &NeedCommand,
    state: &NeedState,
) -> Result<(), ErrorBody> {
    match command {
        NeedCommand::AgreeWithState { .. } | NeedCommand::Decline { .. } => {
            for_state(principal, &state.member_state, "agree or decline a need")
        }
        NeedCommand::RecordCoverage { .. } => {
            if principal.role == Role::System {
                Ok(())
            } else {
                Err(forbidden(
                    "coverage is derived from accepted referrals; only the projects service records it",
                ))
            }
        }
        _ => staff_only(principal, "identify, amend or withdraw needs"),
    }
}

pub(crate) fn sharing_grant(
    principal: &Principal,
    command: &SharingGrantCommand,
    state: &SharingGrantState,
) -> Result<(), ErrorBody> {
    let member_state = match command {
        SharingGrantCommand::Grant { member_state, .. } => member_state.as_str(),
        SharingGrantCommand::Revoke { .. } => state.member_state.as_str(),
    };
    for_state(principal, member_state, "grant or revoke consent to share")
}
