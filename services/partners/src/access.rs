//! Who may do what with organisations and offers (DESIGN §1): coordinators and admins keep the
//! registry and may record offers received by mail; a donor manages its own organisation's
//! offers and details; commitments (derived from accepted referrals) come only from the projects
//! service, and expiry from this service itself.

use tatrack_bus::rpc::ErrorBody;
use tatrack_domain::account::AccountCommand;
use tatrack_domain::offer::{OfferCommand, OfferState};
use tatrack_domain::organisation::OrganisationCommand;
use tatrack_domain::token::TokenCommand;
use tatrack_domain::{DomainError, Principal, Role};

fn forbidden(reason: &str) -> ErrorBody {
    ErrorBody::from(DomainError::Forbidden {
        reason: reason.to_owned(),
    })
}

pub(crate) fn organisation(
    principal: &Principal,
    command: &OrganisationCommand,
) -> Result<(), ErrorBody> {
    match command {
        _ if principal.is_staff() => Ok(()),
        // What the organisation is (its kind, IATI type and identifier) decides what others
        // believe about its money and its files: a coordinator sets it, never the organisation.
        OrganisationCommand::Update {
            kind: None,
            iati_type: None,
            iati_identifier: None,
            id,
            ..
        } if principal.acts_for(id) => Ok(()),
        OrganisationCommand::Update { id, .. } if principal.acts_for(id) => Err(forbidden(
            "a partner may change its own name and country; its kind, IATI type and IATI identifier are a coordinator's to set",
        )),
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
        _ if principal.is_staff() || principal.acts_for(organisation) => Ok(()),
        // One message whoever owns it (or whether it exists): a refusal names nobody.
        _ => Err(forbidden(
            "only the offer's organisation or a coordinator may manage this offer",
        )),
    }
}

/// Access tokens are issued and revoked by admins only (DESIGN §1), or the services themselves.
pub(crate) fn token(principal: &Principal, _command: &TokenCommand) -> Result<(), ErrorBody> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(forbidden("only admins issue and revoke access tokens"))
    }
}

/// People's accounts are invited, reset and disabled by admins; a password is set only by the
/// holder of the account's one-time link, whom the gateway names `account:<id>` once it has
/// checked the link (the link's hash in the command is the proof the decider checks).
pub(crate) fn account(principal: &Principal, command: &AccountCommand) -> Result<(), ErrorBody> {
    match command {
        AccountCommand::SetPassword { id, .. } => {
            if principal.id == format!("account:{id}") {
                Ok(())
            } else {
                Err(forbidden(
                    "a password is set only through the account's own invitation link",
                ))
            }
        }
        _ if principal.is_admin() => Ok(()),
        _ => Err(forbidden("only admins invite, reset and disable accounts")),
    }
}
