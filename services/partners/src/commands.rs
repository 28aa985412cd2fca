//! Command handling for organisations and offers: verb -> command, the offering organisation
//! must be registered and active, access, decide, append. Access tokens and people's accounts
//! for the gateway live here too: their events reach every gateway through this service's
//! stream.

use tatrack_bus::rpc::{ErrorBody, Incoming};
use tatrack_bus::service::{execute, load, log_error, split_verb, to_json};
use tatrack_contract::commands::{account, offer, organisation, token};
use tatrack_domain::Aggregate;
use tatrack_domain::account::{
    Account, AccountCommand, AccountState, AccountStatus, normalise_email,
};
use tatrack_domain::offer::{Offer, OfferCommand, OfferState};
use tatrack_domain::organisation::{Organisation, OrganisationCommand, OrganisationStatus};
use tatrack_domain::token::{Token, TokenCommand};
use tatrack_eventlog::Store;

use crate::access;

pub(crate) async fn handle(
    store: &Store,
    incoming: Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    let (aggregate, command) = split_verb(
        &incoming.verb,
        &[Organisation::NAME, Offer::NAME, Token::NAME, Account::NAME],
    )?;
    let meta = &incoming.meta;
    let body = incoming.json()?;
    let today = store.clock().today();
    let reply = if aggregate == Token::NAME {
        let command = token::decode(command, body, today)?;
        // Authorise first: whether an organisation is registered is not the caller's business
        // unless it may issue tokens.
        access::token(&meta.principal, &command)?;
        if let TokenCommand::Issue {
            organisation: Some(organisation),
            ..
        } = &command
        {
            registered_and_active(store, organisation)?;
        }
        execute::<Token>(store, &command.id(), &command, meta, |_| {
            access::token(&meta.principal, &command)
        })
        .await?
    } else if aggregate == Account::NAME {
        let command = account::decode(command, body, today)?;
        // Authorise first: which addresses have accounts is an admin's business only.
        access::account(&meta.principal, &command)?;
        if let AccountCommand::Invite {
            id,
            email,
            organisation,
            ..
        } = &command
        {
            if let Some(organisation) = organisation {
                registered_and_active(store, organisation)?;
            }
            email_free(store, email, id)?;
        }
        execute::<Account>(store, &command.id(), &command, meta, |_| {
            access::account(&meta.principal, &command)
        })
        .await?
    } else if aggregate == Organisation::NAME {
        let command = organisation::decode(command, body, today)?;
        let id = command.id().to_owned();
        // Authorise first: which identifiers are taken is the registry's keepers' business.
        access::organisation(&meta.principal, &command)?;
        if let OrganisationCommand::Register {
            iati_identifier: Some(identifier),
            ..
        }
        | OrganisationCommand::Update {
            iati_identifier: Some(identifier),
            ..
        } = &command
        {
            iati_identifier_free(store, identifier, &id)?;
        }
        let reply = execute::<Organisation>(store, &id, &command, meta, |_| {
            access::organisation(&meta.principal, &command)
        })
        .await?;
        if let OrganisationCommand::Deactivate { on, .. } = &command {
            // Its people lose access with it: every active token acting for it is revoked
            // (a retried deactivation finds them revoked already).
            let tokens = crate::expiry::tokens(store).map_err(|e| {
                tracing::error!(error = %e, "reading the tokens of a deactivated organisation");
                ErrorBody::internal()
            })?;
            for token in tokens
                .iter()
                .filter(|t| t.is_active() && t.organisation.as_deref() == Some(id.as_str()))
            {
                crate::expiry::revoke(store, token, *on, "organisation deactivated").await;
            }
            // Its people's console accounts are disabled with it, as its tokens are revoked.
            for account in accounts(store)?.iter().filter(|a| {
                a.status != Some(AccountStatus::Disabled)
                    && a.organisation.as_deref() == Some(id.as_str())
            }) {
                disable(store, account, *on, "organisation deactivated").await;
            }
        }
        reply
    } else {
        let command = offer::decode(command, body, today)?;
        if let OfferCommand::Draft { organisation, .. } = &command {
            // Authorise first: a caller that may not draft for an organisation learns nothing
            // about it (not even whether it is registered).
            access::offer(&meta.principal, &command, &OfferState::default())?;
            registered_and_active(store, organisation)?;
        }
        execute::<Offer>(store, &command.id(), &command, meta, |state| {
            access::offer(&meta.principal, &command, state)
        })
        .await?
    };
    to_json(&reply)
}

/// An IATI organisation identifier names one organisation: another one holding it is refused.
/// Checked against the log before the append, so two registrations racing with one identifier
/// could both pass; the registry is kept by a few coordinators, which makes that rare, and the
/// read model's organisation list shows it (see ARCHITECTURE.md).
fn iati_identifier_free(store: &Store, identifier: &str, id: &str) -> Result<(), ErrorBody> {
    let prefix = format!("{}-", Organisation::NAME);
    let streams = store.streams_with_prefix(&prefix).map_err(log_error)?;
    for stream in streams {
        let other = &stream[prefix.len()..];
        if other == id {
            continue;
        }
        let (state, _) = load::<Organisation>(store, &other)?;
        if state.iati_identifier.as_deref() == Some(identifier) {
            return Err(ErrorBody::invalid(
                "iati_identifier",
                &format!("IATI identifier {identifier} belongs to another organisation"),
            ));
        }
    }
    Ok(())
}

/// An e-mail address signs in to one account: another account holding it, unless disabled, is
/// refused. Checked against the log before the append, like [`iati_identifier_free`]: two
/// invitations racing with one address could both pass, which a few admins make rare. An
/// address that does not parse is left to the decider, which names the field.
fn email_free(store: &Store, email: &str, id: &uuid::Uuid) -> Result<(), ErrorBody> {
    let Ok(email) = normalise_email("email", email) else {
        return Ok(());
    };
    let prefix = format!("{}-", Account::NAME);
    for stream in store.streams_with_prefix(&prefix).map_err(log_error)? {
        let Ok(other) = stream[prefix.len()..].parse::<uuid::Uuid>() else {
            continue;
        };
        if other == *id {
            continue;
        }
        let (state, _) = load::<Account>(store, &other)?;
        if state.email == email && state.status != Some(AccountStatus::Disabled) {
            return Err(ErrorBody::invalid(
                "email",
                "another account signs in with this address",
            ));
        }
    }
    Ok(())
}

/// Every account recorded in the log.
fn accounts(store: &Store) -> Result<Vec<AccountState>, ErrorBody> {
    let prefix = format!("{}-", Account::NAME);
    let mut out = Vec::new();
    for stream in store.streams_with_prefix(&prefix).map_err(log_error)? {
        if let Ok(id) = stream[prefix.len()..].parse::<uuid::Uuid>() {
            out.push(load::<Account>(store, &id)?.0);
        }
    }
    Ok(out)
}

/// Disables `account` as `system` for `reason`, dated `on` (never before its last move).
async fn disable(store: &Store, account: &AccountState, on: jiff::civil::Date, reason: &str) {
    let last = [account.invited_on, account.activated_on]
        .into_iter()
        .flatten()
        .max();
    let command = AccountCommand::Disable {
        id: account.id,
        on: last.map_or(on, |last| last.max(on)),
        reason: reason.to_owned(),
    };
    let meta = tatrack_bus::rpc::RequestMeta::new(tatrack_domain::Principal::system());
    if let Err(e) = execute::<Account>(store, &account.id, &command, &meta, |_| Ok(())).await {
        tracing::debug!(account = %account.id, error = %e, "account not disabled");
    }
}

/// An organisation a command names must be registered and active.
fn registered_and_active(store: &Store, organisation: &str) -> Result<(), ErrorBody> {
    let (org, _) = load::<Organisation>(store, &organisation)?;
    match org.status {
        None => Err(ErrorBody::invalid(
            "organisation",
            &format!("organisation {organisation} is not registered"),
        )),
        Some(OrganisationStatus::Deactivated) => Err(ErrorBody::invalid(
            "organisation",
            &format!("organisation {organisation} is deactivated"),
        )),
        Some(_) => Ok(()),
    }
}
