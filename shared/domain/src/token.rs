//! Token: an access token for the HTTP gateway (DESIGN §6). Issuing and revoking are events like
//! any other, so every gateway learns of a revocation from the stream and the audit trail says
//! who issued what. Only the SHA-256 of the secret is ever recorded; the secret is shown once, to
//! whoever issued it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Lifecycle, check_new, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::organisation::check_organisation_id;
use crate::principal::Role;
use crate::validate::{required_reason, trimmed};

/// Longest label (what the token is for, whom it was given to).
pub const MAX_LABEL_CHARS: usize = 200;

/// How long a token is valid when its issuer says nothing: 90 days from the day it is issued.
pub const DEFAULT_VALIDITY_DAYS: i16 = 90;

/// The longest a token may be valid: a year. A token recorded before tokens had an expiry is
/// taken to expire a year after it was issued.
pub const MAX_VALIDITY_DAYS: i16 = 365;

string_enum! {
    pub enum TokenStatus ("status") {
        Active => "active",
        Revoked => "revoked",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TokenCommand {
    /// Records a new token, `active`. `hash` is the lower-case hex SHA-256 of the secret.
    Issue {
        id: Uuid,
        role: Role,
        /// Required for a donor, refused for every other role.
        organisation: Option<String>,
        /// ISO 3166-1 alpha-2; required for a State focal point, refused for every other role.
        member_state: Option<String>,
        label: String,
        hash: String,
        /// The last day it is valid; the partners service revokes it the day after.
        expires_on: Date,
        /// The day it was issued (business date).
        on: Date,
    },
    /// active -> revoked: the gateway refuses it from then on; the reason is required.
    Revoke { id: Uuid, on: Date, reason: String },
}

command_fields!(TokenCommand: Issue, Revoke);

event_enum! {
    pub enum TokenEvent {
        TokenIssued {
            id: Uuid,
            role: Role,
            organisation: Option<String>,
            member_state: Option<String>,
            label: String,
            hash: String,
            issued_on: Date,
            /// Absent in tokens recorded before tokens had an expiry (see [`MAX_VALIDITY_DAYS`]).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            expires_on: Option<Date>,
        },
        TokenRevoked {
            id: Uuid,
            on: Date,
            reason: String,
        },
    }
}

event_fields!(TokenEvent: TokenRevoked; Self::TokenIssued { issued_on, .. } => *issued_on);

/// A token as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenState {
    pub id: Uuid,
    pub status: Option<TokenStatus>,
    pub role: Option<Role>,
    pub organisation: Option<String>,
    pub member_state: Option<String>,
    pub label: String,
    pub hash: String,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub issued_on: Option<Date>,
    /// The last day it is valid.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub expires_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub revoked_on: Option<Date>,
    pub revoke_reason: Option<String>,
}

impl TokenState {
    pub fn is_active(&self) -> bool {
        self.status == Some(TokenStatus::Active)
    }

    /// The last day it is valid: as issued, or a year after it was issued for a token recorded
    /// before tokens had an expiry.
    pub fn last_valid_day(&self) -> Option<Date> {
        self.expires_on.or_else(|| {
            self.issued_on.and_then(|d| {
                d.checked_add(jiff::Span::new().days(MAX_VALIDITY_DAYS))
                    .ok()
            })
        })
    }
}

/// A SHA-256 in lower-case hex: 64 characters of `0-9a-f`.
pub fn check_hash(field: &str, hash: &str) -> Result<(), DomainError> {
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(DomainError::invalid(
            field,
            "must be the SHA-256 of the secret as 64 lower-case hex characters",
        ));
    }
    Ok(())
}

/// The scope a role takes: a donor acts for an organisation, a focal point for a country, and
/// every other role for neither. `what` names the holder in the refusals (`token`, `account`).
pub(crate) fn check_scope(
    what: &str,
    role: Role,
    organisation: Option<&str>,
    member_state: Option<&str>,
) -> Result<(), DomainError> {
    match role {
        Role::System => {
            return Err(DomainError::invalid(
                "role",
                format!("system is the services' own role; no {what} may carry it"),
            ));
        }
        Role::Donor => match organisation {
            Some(o) => check_organisation_id("organisation", o)?,
            None => {
                return Err(DomainError::invalid(
                    "organisation",
                    format!("a donor {what} acts for an organisation"),
                ));
            }
        },
        Role::StateFocalPoint => match member_state {
            Some(c) => codes::check_country("member_state", c)?,
            None => {
                return Err(DomainError::invalid(
                    "member_state",
                    format!("a focal point {what} acts for a country"),
                ));
            }
        },
        Role::Admin | Role::Coordinator | Role::Auditor => {}
    }
    if role != Role::Donor && organisation.is_some() {
        return Err(DomainError::invalid(
            "organisation",
            format!("a {role} {what} acts for no organisation"),
        ));
    }
    if role != Role::StateFocalPoint && member_state.is_some() {
        return Err(DomainError::invalid(
            "member_state",
            format!("a {role} {what} acts for no country"),
        ));
    }
    Ok(())
}

/// The decider.
pub struct Token;

impl Aggregate for Token {
    const NAME: &'static str = "token";
    type State = TokenState;
    type Command = TokenCommand;
    type Event = TokenEvent;

    fn decide(state: &TokenState, command: &TokenCommand) -> Result<Vec<TokenEvent>, DomainError> {
        match command {
            TokenCommand::Issue {
                id,
                role,
                organisation,
                member_state,
                label,
                hash,
                expires_on,
                on: issued_on,
            } => {
                check_new(Self::NAME, state.status.is_some(), *id)?;
                check_scope(
                    Self::NAME,
                    *role,
                    organisation.as_deref(),
                    member_state.as_deref(),
                )?;
                let label = trimmed("label", label, MAX_LABEL_CHARS)?;
                check_hash("hash", hash)?;
                if expires_on <= issued_on {
                    return Err(DomainError::invalid(
                        "expires_on",
                        format!("must be after the day it is issued ({issued_on})"),
                    ));
                }
                Ok(vec![TokenEvent::TokenIssued {
                    id: *id,
                    role: *role,
                    organisation: organisation.clone(),
                    member_state: member_state.clone(),
                    label,
                    hash: hash.clone(),
                    issued_on: *issued_on,
                    expires_on: Some(*expires_on),
                }])
            }
            TokenCommand::Revoke { id, on, reason } => {
                check_target(Self::NAME, state.status.is_some(), state.id, *id)?;
                let status = state.status.unwrap_or(TokenStatus::Active);
                let token = Lifecycle::new(Self::NAME, status, state.issued_on);
                token.check(status == TokenStatus::Active, "revoke", *on)?;
                let (id, on, reason) = (*id, *on, required_reason(reason)?);
                Ok(vec![TokenEvent::TokenRevoked { id, on, reason }])
            }
        }
    }

    fn evolve(mut state: TokenState, event: &TokenEvent) -> TokenState {
        match event {
            TokenEvent::TokenIssued {
                id,
                role,
                organisation,
                member_state,
                label,
                hash,
                issued_on,
                expires_on,
            } => TokenState {
                id: *id,
                status: Some(TokenStatus::Active),
                role: Some(*role),
                organisation: organisation.clone(),
                member_state: member_state.clone(),
                label: label.clone(),
                hash: hash.clone(),
                issued_on: Some(*issued_on),
                expires_on: *expires_on,
                revoked_on: None,
                revoke_reason: None,
            },
            TokenEvent::TokenRevoked { on, reason, .. } => {
                state.status = Some(TokenStatus::Revoked);
                state.revoked_on = Some(*on);
                state.revoke_reason = Some(reason.clone());
                state
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{assert_kinds_round_trip, edited, given};
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0e01);
    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn issue(role: Role, organisation: Option<&str>, member_state: Option<&str>) -> TokenCommand {
        TokenCommand::Issue {
            id: ID,
            role,
            organisation: organisation.map(str::to_owned),
            member_state: member_state.map(str::to_owned),
            label: " demo coordinator ".into(),
            hash: HASH.into(),
            expires_on: date(2026, 4, 5),
            on: date(2026, 1, 5),
        }
    }

    fn issued(role: Role, organisation: Option<&str>, member_state: Option<&str>) -> TokenEvent {
        TokenEvent::TokenIssued {
            id: ID,
            role,
            organisation: organisation.map(str::to_owned),
            member_state: member_state.map(str::to_owned),
            label: "demo coordinator".into(),
            hash: HASH.into(),
            issued_on: date(2026, 1, 5),
            expires_on: Some(date(2026, 4, 5)),
        }
    }

    fn revoke() -> TokenCommand {
        TokenCommand::Revoke {
            id: ID,
            on: date(2026, 2, 1),
            reason: "left the team".into(),
        }
    }

    fn revoked() -> TokenEvent {
        TokenEvent::TokenRevoked {
            id: ID,
            on: date(2026, 2, 1),
            reason: "left the team".into(),
        }
    }

    #[test]
    fn issue_records_the_hash_and_scope() {
        let state = given::<Token>(&[])
            .when(issue(Role::Coordinator, None, None))
            .then(&[issued(Role::Coordinator, None, None)]);
        assert!(state.is_active());
        assert_eq!(state.hash, HASH);
        given::<Token>(&[])
            .when(issue(Role::Donor, Some("DEMO-DONOR"), None))
            .then(&[issued(Role::Donor, Some("DEMO-DONOR"), None)]);
        given::<Token>(&[])
            .when(issue(Role::StateFocalPoint, None, Some("KE")))
            .then(&[issued(Role::StateFocalPoint, None, Some("KE"))]);
        given::<Token>(&[])
            .when(issue(Role::Auditor, None, None))
            .then(&[issued(Role::Auditor, None, None)]);
    }

    #[test]
    fn issue_checks_role_scope_label_and_hash() {
        use Role as R;
        let admin = || issue(R::Admin, None, None);
        let mut refused = vec![
            (issue(R::Donor, None, None), "organisation"),
            (issue(R::Donor, Some("bad id!"), None), "organisation"),
            (issue(R::StateFocalPoint, None, None), "member_state"),
            (issue(R::StateFocalPoint, None, Some("XX")), "member_state"),
            (
                issue(R::Coordinator, Some("DEMO-DONOR"), None),
                "organisation",
            ),
            (issue(R::Admin, None, Some("KE")), "member_state"),
            (issue(R::System, None, None), "role"),
            (
                edited(admin(), edit!(TokenCommand::Issue, label = "  ".into())),
                "label",
            ),
        ];
        for bad in [
            "abc".to_owned(),
            HASH.to_uppercase(),
            format!("{}x", &HASH[1..]),
        ] {
            let hash = |c: &mut TokenCommand| {
                let TokenCommand::Issue { hash, .. } = c else {
                    unreachable!("an issue");
                };
                hash.clone_from(&bad);
            };
            refused.push((edited(admin(), hash), "hash"));
        }
        for (command, field) in refused {
            given::<Token>(&[]).when(command).then_invalid(field);
        }
        given::<Token>(&[issued(R::Admin, None, None)])
            .when(admin())
            .then_error(DomainError::already_exists("token", ID.to_string()));
    }

    #[test]
    fn revoke_once_with_a_reason() {
        let state = given::<Token>(&[issued(Role::Auditor, None, None)])
            .when(revoke())
            .then(&[revoked()]);
        assert!(!state.is_active());
        assert_eq!(state.revoked_on, Some(date(2026, 2, 1)));
        given::<Token>(&[issued(Role::Auditor, None, None), revoked()])
            .when(revoke())
            .then_error(DomainError::cannot("revoke", "token", "revoked"));
        given::<Token>(&[])
            .when(revoke())
            .then_error(DomainError::not_found("token", ID.to_string()));
        given::<Token>(&[issued(Role::Auditor, None, None)])
            .when(TokenCommand::Revoke {
                id: ID,
                on: date(2026, 2, 1),
                reason: " ".into(),
            })
            .then_invalid("reason");
    }

    #[test]
    fn kinds_match_serde_tags() {
        let events = [issued(Role::Admin, None, None), revoked()];
        assert_kinds_round_trip(&events, TokenEvent::KINDS);
    }
}
