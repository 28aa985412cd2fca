//! Account: a person who signs in to the web console with an e-mail and a password. Like a token,
//! an account is a stream of events (invited, password set, reinvited, disabled), so every gateway
//! learns of it from the stream and the audit trail says who invited whom. Only hashes are
//! recorded: the SHA-256 of the one-time invitation secret and the argon2id PHC string of the
//! password; neither ever leaves the partners stream and the gateway's fold.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Lifecycle, check_new, check_target};
use crate::error::DomainError;
use crate::principal::{Principal, Role};
use crate::token::{check_hash, check_scope};
use crate::validate::{check_date_order, check_not_before, required_reason, trimmed};

/// Longest name of a person.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest e-mail address (RFC 5321's path limit less its angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Longest password hash: an argon2id PHC string is about 100 characters; this leaves room for
/// other parameters without letting a caller store a blob.
pub const MAX_PASSWORD_HASH_CHARS: usize = 512;

/// The only password hash accepted: argon2id in PHC string form.
pub const PASSWORD_HASH_PREFIX: &str = "$argon2id$";

/// One refusal for a wrong, used or expired link, so the answer tells a guesser nothing.
const INVITATION_REFUSED: &str = "this link was used or has expired";

string_enum! {
    pub enum AccountStatus ("status") {
        /// Invited, no password yet: the invitation link is the only way in.
        Invited => "invited",
        Active => "active",
        Disabled => "disabled",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountCommand {
    /// Records a new account, `invited`, with a one-time link to set its password.
    Invite {
        id: Uuid,
        name: String,
        /// Trimmed and lower-cased before it is recorded.
        email: String,
        role: Role,
        /// Required for a donor, refused for every other role.
        organisation: Option<String>,
        /// ISO 3166-1 alpha-2; required for a State focal point, refused for every other role.
        member_state: Option<String>,
        /// Lower-case hex SHA-256 of the link's secret.
        invitation_hash: String,
        /// The last day the link may be used.
        invitation_expires_on: Date,
        on: Date,
    },
    /// A fresh one-time link for an invited or active account (how an admin resets a password);
    /// it replaces any link still open.
    Reinvite {
        id: Uuid,
        invitation_hash: String,
        invitation_expires_on: Date,
        on: Date,
    },
    /// Sets the password through the open link, which it uses up: the account is `active`.
    SetPassword {
        id: Uuid,
        /// The SHA-256 of the link's secret: the proof that the caller holds the link.
        invitation_hash: String,
        /// An argon2id PHC string; the password itself never reaches a service.
        password_hash: String,
        on: Date,
    },
    /// invited|active -> disabled: nobody signs in with it any more; the reason is required.
    Disable { id: Uuid, on: Date, reason: String },
}

command_fields!(AccountCommand: Invite, Reinvite, SetPassword, Disable);

event_enum! {
    pub enum AccountEvent {
        AccountInvited {
            id: Uuid,
            name: String,
            email: String,
            role: Role,
            organisation: Option<String>,
            member_state: Option<String>,
            invitation_hash: String,
            invitation_expires_on: Date,
            invited_on: Date,
        },
        AccountReinvited {
            id: Uuid,
            invitation_hash: String,
            invitation_expires_on: Date,
            on: Date,
        },
        AccountPasswordSet {
            id: Uuid,
            password_hash: String,
            on: Date,
        },
        AccountDisabled {
            id: Uuid,
            on: Date,
            reason: String,
        },
    }
}

event_fields!(
    AccountEvent: AccountReinvited, AccountPasswordSet, AccountDisabled;
    Self::AccountInvited { invited_on, .. } => *invited_on
);

/// An account as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    pub id: Uuid,
    pub status: Option<AccountStatus>,
    pub name: String,
    pub email: String,
    pub role: Option<Role>,
    pub organisation: Option<String>,
    pub member_state: Option<String>,
    /// The open invitation's hash: set by an invitation, cleared once used or disabled.
    pub invitation_hash: Option<String>,
    pub invitation_expires_on: Option<Date>,
    pub password_hash: Option<String>,
    pub invited_on: Option<Date>,
    pub activated_on: Option<Date>,
    pub disabled_on: Option<Date>,
    pub disable_reason: Option<String>,
}

impl AccountState {
    pub fn is_active(&self) -> bool {
        self.status == Some(AccountStatus::Active)
    }

    /// Who the holder of an active account acts as; `None` for any other account.
    pub fn principal(&self) -> Option<Principal> {
        if !self.is_active() {
            return None;
        }
        Some(Principal {
            id: format!("account:{}", self.id),
            role: self.role?,
            organisation: self.organisation.clone(),
            member_state: self.member_state.clone(),
        })
    }

    /// An invitation is open (set and not yet used) and may still be used on `on`.
    pub fn invitation_open_on(&self, on: Date) -> bool {
        self.invitation_hash.is_some() && self.invitation_expires_on.is_some_and(|d| on <= d)
    }

    /// The latest day the account moved (invited, activated, disabled).
    fn last_on(&self) -> Option<Date> {
        [self.invited_on, self.activated_on, self.disabled_on]
            .into_iter()
            .flatten()
            .max()
    }
}

/// An e-mail address as it is recorded: trimmed and lower-cased, one `@`, a dot inside the domain,
/// no whitespace, at most [`MAX_EMAIL_CHARS`]. Also how a sign-in's address is looked up.
pub fn normalise_email(field: &str, email: &str) -> Result<String, DomainError> {
    let email = email.trim().to_lowercase();
    let refuse = |why: &str| Err(DomainError::invalid(field, why.to_owned()));
    if email.chars().count() > MAX_EMAIL_CHARS {
        return refuse("must be at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("must not contain whitespace");
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return refuse("must be an e-mail address with one @");
    };
    let dotted = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || !dotted {
        return refuse("must be an e-mail address such as name@example.org");
    }
    Ok(email)
}

/// An argon2id PHC string of reasonable length.
fn check_password_hash(hash: &str) -> Result<(), DomainError> {
    if !hash.starts_with(PASSWORD_HASH_PREFIX)
        || hash.len() > MAX_PASSWORD_HASH_CHARS
        || hash.chars().any(char::is_whitespace)
    {
        return Err(DomainError::invalid(
            "password_hash",
            "must be an argon2id PHC string ($argon2id$...) of at most 512 characters",
        ));
    }
    Ok(())
}

/// A link is valid from the day it is made to `expires_on`, both included.
fn check_invitation_expiry(expires_on: Date, on: Date) -> Result<(), DomainError> {
    check_date_order("invitation_expires_on", on, expires_on)
}

/// The decider.
pub struct Account;

impl Aggregate for Account {
    const NAME: &'static str = "account";
    type State = AccountState;
    type Command = AccountCommand;
    type Event = AccountEvent;

    fn decide(
        state: &AccountState,
        command: &AccountCommand,
    ) -> Result<Vec<AccountEvent>, DomainError> {
        match command {
            AccountCommand::Invite {
                id,
                name,
                email,
                role,
                organisation,
                member_state,
                invitation_hash,
                invitation_expires_on,
                on,
            } => {
                check_new(Self::NAME, state.status.is_some(), *id)?;
                let name = trimmed("name", name, MAX_NAME_CHARS)?;
                let email = normalise_email("email", email)?;
                check_scope(
                    Self::NAME,
                    *role,
                    organisation.as_deref(),
                    member_state.as_deref(),
                )?;
                check_hash("invitation_hash", invitation_hash)?;
                check_invitation_expiry(*invitation_expires_on, *on)?;
                Ok(vec![AccountEvent::AccountInvited {
                    id: *id,
                    name,
                    email,
                    role: *role,
                    organisation: organisation.clone(),
                    member_state: member_state.clone(),
                    invitation_hash: invitation_hash.clone(),
                    invitation_expires_on: *invitation_expires_on,
                    invited_on: *on,
                }])
            }
            AccountCommand::Reinvite {
                id,
                invitation_hash,
                invitation_expires_on,
                on,
            } => {
                let status = Self::existing(state, *id)?;
                Lifecycle::new(Self::NAME, status, state.last_on()).check(
                    status != AccountStatus::Disabled,
                    "reinvite",
                    *on,
                )?;
                check_hash("invitation_hash", invitation_hash)?;
                check_invitation_expiry(*invitation_expires_on, *on)?;
                Ok(vec![AccountEvent::AccountReinvited {
                    id: *id,
                    invitation_hash: invitation_hash.clone(),
                    invitation_expires_on: *invitation_expires_on,
                    on: *on,
                }])
            }
            AccountCommand::SetPassword {
                id,
                invitation_hash,
                password_hash,
                on,
            } => {
                Self::existing(state, *id)?;
                // A disabled account has no open invitation: it is refused as any dead link is.
                if !state.invitation_open_on(*on)
                    || state.invitation_hash.as_deref() != Some(invitation_hash.as_str())
                {
                    return Err(DomainError::invalid("invitation", INVITATION_REFUSED));
                }
                check_not_before(state.last_on(), *on)?;
                check_password_hash(password_hash)?;
                Ok(vec![AccountEvent::AccountPasswordSet {
                    id: *id,
                    password_hash: password_hash.clone(),
                    on: *on,
                }])
            }
            AccountCommand::Disable { id, on, reason } => {
                let status = Self::existing(state, *id)?;
                Lifecycle::new(Self::NAME, status, state.last_on()).check(
                    status != AccountStatus::Disabled,
                    "disable",
                    *on,
                )?;
                let (id, on, reason) = (*id, *on, required_reason(reason)?);
                Ok(vec![AccountEvent::AccountDisabled { id, on, reason }])
            }
        }
    }

    fn evolve(mut state: AccountState, event: &AccountEvent) -> AccountState {
        match event {
            AccountEvent::AccountInvited {
                id,
                name,
                email,
                role,
                organisation,
                member_state,
                invitation_hash,
                invitation_expires_on,
                invited_on,
            } => AccountState {
                id: *id,
                status: Some(AccountStatus::Invited),
                name: name.clone(),
                email: email.clone(),
                role: Some(*role),
                organisation: organisation.clone(),
                member_state: member_state.clone(),
                invitation_hash: Some(invitation_hash.clone()),
                invitation_expires_on: Some(*invitation_expires_on),
                password_hash: None,
                invited_on: Some(*invited_on),
                activated_on: None,
                disabled_on: None,
                disable_reason: None,
            },
            AccountEvent::AccountReinvited {
                invitation_hash,
                invitation_expires_on,
                ..
            } => {
                state.invitation_hash = Some(invitation_hash.clone());
                state.invitation_expires_on = Some(*invitation_expires_on);
                state
            }
            AccountEvent::AccountPasswordSet {
                password_hash, on, ..
            } => {
                state.status = Some(AccountStatus::Active);
                state.password_hash = Some(password_hash.clone());
                state.invitation_hash = None;
                state.invitation_expires_on = None;
                state.activated_on = Some(*on);
                state
            }
            AccountEvent::AccountDisabled { on, reason, .. } => {
                state.status = Some(AccountStatus::Disabled);
                state.invitation_hash = None;
                state.invitation_expires_on = None;
                state.disabled_on = Some(*on);
                state.disable_reason = Some(reason.clone());
                state
            }
        }
    }
}

impl Account {
    /// The status of the account the command names, or the refusal when it does not exist or is
    /// another one.
    fn existing(state: &AccountState, id: Uuid) -> Result<AccountStatus, DomainError> {
        check_target(Self::NAME, state.status.is_some(), state.id, id)?;
        Ok(state.status.unwrap_or(AccountStatus::Invited))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_lifecycle, edited, given,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0a01);
    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const HASH2: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";

    fn invite(
        role: Role,
        organisation: Option<&str>,
        member_state: Option<&str>,
    ) -> AccountCommand {
        AccountCommand::Invite {
            id: ID,
            name: " Ada Lovelace ".into(),
            email: " Ada@Example.ORG ".into(),
            role,
            organisation: organisation.map(str::to_owned),
            member_state: member_state.map(str::to_owned),
            invitation_hash: HASH.into(),
            invitation_expires_on: date(2026, 1, 12),
            on: date(2026, 1, 5),
        }
    }

    fn invited(role: Role) -> AccountEvent {
        AccountEvent::AccountInvited {
            id: ID,
            name: "Ada Lovelace".into(),
            email: "ada@example.org".into(),
            role,
            organisation: None,
            member_state: None,
            invitation_hash: HASH.into(),
            invitation_expires_on: date(2026, 1, 12),
            invited_on: date(2026, 1, 5),
        }
    }

    fn set_password(hash: &str, on: Date) -> AccountCommand {
        AccountCommand::SetPassword {
            id: ID,
            invitation_hash: hash.into(),
            password_hash: PHC.into(),
            on,
        }
    }

    fn password_set(on: Date) -> AccountEvent {
        AccountEvent::AccountPasswordSet {
            id: ID,
            password_hash: PHC.into(),
            on,
        }
    }

    fn reinvite() -> AccountCommand {
        AccountCommand::Reinvite {
            id: ID,
            invitation_hash: HASH2.into(),
            invitation_expires_on: date(2026, 2, 8),
            on: date(2026, 2, 1),
        }
    }

    fn reinvited() -> AccountEvent {
        AccountEvent::AccountReinvited {
            id: ID,
            invitation_hash: HASH2.into(),
            invitation_expires_on: date(2026, 2, 8),
            on: date(2026, 2, 1),
        }
    }

    fn disable() -> AccountCommand {
        AccountCommand::Disable {
            id: ID,
            on: date(2026, 3, 1),
            reason: "left the team".into(),
        }
    }

    fn disabled() -> AccountEvent {
        AccountEvent::AccountDisabled {
            id: ID,
            on: date(2026, 3, 1),
            reason: "left the team".into(),
        }
    }

    #[test]
    fn invite_then_set_password_gives_a_principal() {
        let state = given::<Account>(&[])
            .when(invite(Role::Coordinator, None, None))
            .then(&[invited(Role::Coordinator)]);
        assert_eq!(state.status, Some(AccountStatus::Invited));
        assert_eq!(state.principal(), None, "no principal before a password");
        let state = given::<Account>(&[invited(Role::Coordinator)])
            .when(set_password(HASH, date(2026, 1, 12)))
            .then(&[password_set(date(2026, 1, 12))]);
        assert!(state.is_active());
        assert_eq!(state.invitation_hash, None, "the link is used up");
        assert_eq!(
            state.principal(),
            Some(Principal {
                id: format!("account:{ID}"),
                role: Role::Coordinator,
                organisation: None,
                member_state: None,
            })
        );
    }

    #[test]
    fn invite_takes_the_token_scope_rules() {
        let donor = given::<Account>(&[])
            .when(invite(Role::Donor, Some("DEMO-DONOR"), None))
            .then(&[edited(
                invited(Role::Donor),
                edit!(
                    AccountEvent::AccountInvited,
                    organisation = Some("DEMO-DONOR".into())
                ),
            )]);
        assert_eq!(donor.organisation.as_deref(), Some("DEMO-DONOR"));
        given::<Account>(&[])
            .when(invite(Role::StateFocalPoint, None, Some("KE")))
            .then(&[edited(
                invited(Role::StateFocalPoint),
                edit!(
                    AccountEvent::AccountInvited,
                    member_state = Some("KE".into())
                ),
            )]);
        use Role as R;
        for (command, field) in [
            (invite(R::Donor, None, None), "organisation"),
            (invite(R::Donor, Some("bad id!"), None), "organisation"),
            (invite(R::StateFocalPoint, None, None), "member_state"),
            (invite(R::StateFocalPoint, None, Some("XX")), "member_state"),
            (
                invite(R::Coordinator, Some("DEMO-DONOR"), None),
                "organisation",
            ),
            (invite(R::Admin, None, Some("KE")), "member_state"),
            (invite(R::System, None, None), "role"),
        ] {
            given::<Account>(&[]).when(command).then_invalid(field);
        }
    }

    #[test]
    fn invite_checks_name_email_hash_and_expiry() {
        let admin = || invite(Role::Admin, None, None);
        assert_invalid_edits::<Account>(
            &[],
            admin,
            &[
                ("name", edit!(AccountCommand::Invite, name = "  ".into())),
                (
                    "name",
                    edit!(AccountCommand::Invite, name = "x".repeat(201)),
                ),
                ("email", edit!(AccountCommand::Invite, email = "ada".into())),
                (
                    "email",
                    edit!(AccountCommand::Invite, email = "a@b@c.org".into()),
                ),
                (
                    "email",
                    edit!(AccountCommand::Invite, email = "ada@example".into()),
                ),
                (
                    "email",
                    edit!(AccountCommand::Invite, email = "@example.org".into()),
                ),
                (
                    "email",
                    edit!(AccountCommand::Invite, email = "ada@.org".into()),
                ),
                (
                    "email",
                    edit!(AccountCommand::Invite, email = "a da@example.org".into()),
                ),
                (
                    "email",
                    edit!(
                        AccountCommand::Invite,
                        email = format!("{}@example.org", "a".repeat(250))
                    ),
                ),
                (
                    "invitation_hash",
                    edit!(AccountCommand::Invite, invitation_hash = "abc".into()),
                ),
                (
                    "invitation_hash",
                    edit!(
                        AccountCommand::Invite,
                        invitation_hash = HASH.to_uppercase()
                    ),
                ),
                (
                    "invitation_expires_on",
                    edit!(
                        AccountCommand::Invite,
                        invitation_expires_on = date(2026, 1, 4)
                    ),
                ),
            ],
        );
        // A link may expire the day it is made.
        let same_day = edited(
            admin(),
            edit!(
                AccountCommand::Invite,
                invitation_expires_on = date(2026, 1, 5)
            ),
        );
        given::<Account>(&[]).when(same_day).then(&[edited(
            invited(Role::Admin),
            edit!(
                AccountEvent::AccountInvited,
                invitation_expires_on = date(2026, 1, 5)
            ),
        )]);
        given::<Account>(&[invited(Role::Admin)])
            .when(admin())
            .then_error(DomainError::already_exists("account", ID.to_string()));
    }

    #[test]
    fn set_password_needs_the_open_link() {
        let refused = DomainError::invalid("invitation", INVITATION_REFUSED);
        // A wrong hash, an expired link, a used link and a disabled account: one answer.
        given::<Account>(&[invited(Role::Admin)])
            .when(set_password(HASH2, date(2026, 1, 6)))
            .then_error(refused.clone());
        given::<Account>(&[invited(Role::Admin)])
            .when(set_password(HASH, date(2026, 1, 13)))
            .then_error(refused.clone());
        given::<Account>(&[invited(Role::Admin), password_set(date(2026, 1, 6))])
            .when(set_password(HASH, date(2026, 1, 7)))
            .then_error(refused.clone());
        given::<Account>(&[invited(Role::Admin), disabled()])
            .when(set_password(HASH, date(2026, 1, 7)))
            .then_error(refused);
        given::<Account>(&[invited(Role::Admin)])
            .when(set_password(HASH, date(2026, 1, 4)))
            .then_invalid("on");
        for bad in [
            "$argon2i$v=19$m=1,t=1,p=1$abc$def".to_owned(),
            "hunter2".into(),
            format!("{PHC}{}", "a".repeat(512)),
        ] {
            given::<Account>(&[invited(Role::Admin)])
                .when(AccountCommand::SetPassword {
                    id: ID,
                    invitation_hash: HASH.into(),
                    password_hash: bad,
                    on: date(2026, 1, 6),
                })
                .then_invalid("password_hash");
        }
    }

    #[test]
    fn reinvite_opens_a_new_link_and_closes_the_old() {
        let active = [invited(Role::Admin), password_set(date(2026, 1, 6))];
        let state = given::<Account>(&active)
            .when(reinvite())
            .then(&[reinvited()]);
        assert!(state.is_active(), "a reset keeps the account usable");
        let mut history = active.to_vec();
        history.push(reinvited());
        given::<Account>(&history)
            .when(set_password(HASH, date(2026, 2, 2)))
            .then_invalid("invitation");
        let state = given::<Account>(&history)
            .when(set_password(HASH2, date(2026, 2, 2)))
            .then(&[password_set(date(2026, 2, 2))]);
        assert_eq!(state.activated_on, Some(date(2026, 2, 2)));
        assert_invalid_edits::<Account>(
            &active,
            reinvite,
            &[
                (
                    "invitation_hash",
                    edit!(AccountCommand::Reinvite, invitation_hash = "x".into()),
                ),
                (
                    "invitation_expires_on",
                    edit!(
                        AccountCommand::Reinvite,
                        invitation_expires_on = date(2026, 1, 31)
                    ),
                ),
                ("on", edit!(AccountCommand::Reinvite, on = date(2026, 1, 1))),
            ],
        );
    }

    #[test]
    fn disable_drops_the_link_and_needs_a_reason() {
        let state = given::<Account>(&[invited(Role::Admin)])
            .when(disable())
            .then(&[disabled()]);
        assert_eq!(state.status, Some(AccountStatus::Disabled));
        assert_eq!(state.invitation_hash, None);
        assert_eq!(state.principal(), None);
        given::<Account>(&[invited(Role::Admin)])
            .when(edited(
                disable(),
                edit!(AccountCommand::Disable, reason = " ".into()),
            ))
            .then_invalid("reason");
        given::<Account>(&[])
            .when(disable())
            .then_error(DomainError::not_found("account", ID.to_string()));
    }

    #[test]
    fn moves_follow_the_lifecycle() {
        use AccountStatus as S;
        let history = |status| match status {
            S::Invited => vec![invited(Role::Admin)],
            S::Active => vec![invited(Role::Admin), password_set(date(2026, 1, 6))],
            S::Disabled => vec![invited(Role::Admin), disabled()],
        };
        assert_lifecycle::<Account, _>(
            &[S::Invited, S::Active, S::Disabled],
            history,
            &[reinvite(), disable()],
            |status, _| status != S::Disabled,
        );
    }

    #[test]
    fn kinds_match_serde_tags() {
        let events = [
            invited(Role::Admin),
            reinvited(),
            password_set(date(2026, 2, 2)),
            disabled(),
        ];
        assert_kinds_round_trip(&events, AccountEvent::KINDS);
    }
}
