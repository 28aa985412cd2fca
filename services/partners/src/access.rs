//! Who may do what with organisations and offers (DESIGN §1): coordinators and admins keep the
//! registry and may record offers received by mail; a donor manages its own organisation's
//! offers and details; commitments (derived from accepted referrals) come only from the projects
//! service, and expiry from this service itself.

use tatrack_bus::rpc::ErrorBody;
use tatrack_domain::offer::{OfferCommand, OfferState};
use tatrack_domain::organisation::OrganisationCommand;
use tatrack_domain::token::TokenCommand;
use tatrack_domain::{DomainError, Principal, Role};

fn forbidden(reason: &str) -> ErrorBody {
    ErrorBody::from(DomainError::Forbidden {
        reason: reason.to_owned(),
    })
}

fn is_staff(principal: &Principal) -> bool {
    matches!(
        principal.role,
        Role::Admin | Role::Coordinator | Role::System
    )
}

fn acts_for(principal: &Principal, organisation: &str) -> bool {
    principal.role == Role::Donor && principal.organisation.as_deref() == Some(organisation)
}

pub(crate) fn organisation(
    principal: &Principal,
    command: &OrganisationCommand,
) -> Result<(), ErrorBody> {
    match command {
        _ if is_staff(principal) => Ok(()),
        OrganisationCommand::Update { id, .. } if acts_for(principal, id) => Ok(()),
        _ => Err(forbidden(
            "only coordinators keep the registry; a partner may update its own details",
        )),
    }
}

/// `organisation` is the offer's (from the command when drafting, else from the state).
pub(crate) fn offer(
    principal: &Principal,
    command: &OfferCommand,
    state: &OfferState,
) -> Result<(), ErrorBody> {
    let organisation = match command {
        OfferCommand::Draft { organisation, .. } => organisation.as_str(),
        _ => state.organisation.as_str(),
    };
    match command {
        OfferCommand::RecordCommitment { .. } if principal.role != Role::System => Err(forbidden(
            "commitments are derived from accepted referrals; only the projects service records them",
        )),
        _ if is_staff(principal) || acts_for(principal, organisation) => Ok(()),
        _ => Err(forbidden(&format!(
            "only {organisation} or a coordinator may manage this offer"
        ))),
    }
}

/// Access tokens are issued and revoked by admins only (DESIGN §1), or the services themselves.
pub(crate) fn token(principal: &Principal, _command: &TokenCommand) -> Result<(), ErrorBody> {
    if matches!(principal.role, Role::Admin | Role::System) {
        Ok(())
    } else {
        Err(forbidden("only admins issue and revoke access tokens"))
    }
}
