//! Bearer-token authentication from the gateway's own fold of the partners stream: issued and
//! revoked tokens arrive as events through the catch-up subscriber into a throwaway sled tree,
//! rebuilt at each start, so a revocation takes effect as soon as its event is applied. People's
//! accounts (for the web console's sign-in) are folded the same way, by a second subscriber:
//! each filter needs its own consumer (see `tatrack_bus::auth::gateway_identity_events`).

use std::time::Duration;

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_bus::Subscriber;
use tatrack_bus::fold::{self, FoldProjection};
use tatrack_bus::subscriber::Projection;
use tatrack_domain::Aggregate;
use tatrack_domain::Principal;
use tatrack_domain::account::{Account, AccountState};
use tatrack_domain::token::{Token, TokenState};
use tatrack_eventlog::Envelope;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::problem::Problem;
use crate::token;

/// The stream tokens are recorded in.
const SERVICE: &str = "partners";

fn hash_key(hash: &str) -> Vec<u8> {
    format!("token-hash/{hash}").into_bytes()
}

fn email_key(email: &str) -> Vec<u8> {
    format!("account-email/{email}").into_bytes()
}

fn invitation_key(hash: &str) -> Vec<u8> {
    format!("account-invitation/{hash}").into_bytes()
}

/// Folds the account events and indexes each account by its e-mail and by every invitation's
/// hash. An entry is never removed: a lookup checks that the account still holds what it was
/// found by (a newer account with the address, a newer link, a used link).
struct AccountProjection;

impl Projection for AccountProjection {
    fn apply(
        &self,
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>> {
        FoldProjection.apply(tree, event)?;
        let Some(id) = event.payload["id"].as_str() else {
            return Ok(());
        };
        if event.kind == "account_invited"
            && let Some(email) = event.payload["email"].as_str()
        {
            tree.insert(email_key(email), id.as_bytes())?;
        }
        if matches!(event.kind.as_str(), "account_invited" | "account_reinvited")
            && let Some(hash) = event.payload["invitation_hash"].as_str()
        {
            tree.insert(invitation_key(hash), id.as_bytes())?;
        }
        Ok(())
    }
}

fn account_in(tree: &sled::Tree, id: Uuid) -> Result<Option<AccountState>, Problem> {
    fold::get(tree, Account::NAME, &id.to_string()).map_err(|e| {
        tracing::error!(error = %e, "account fold holds an undecodable state");
        Problem::internal()
    })
}

fn account_by_email_in(tree: &sled::Tree, email: &str) -> Result<Option<AccountState>, Problem> {
    let email = email.trim().to_lowercase();
    let found = indexed(tree, &email_key(&email))?;
    Ok(found.filter(|a| a.email == email))
}

fn account_by_invitation_in(
    tree: &sled::Tree,
    invitation_hash: &str,
) -> Result<Option<AccountState>, Problem> {
    let found = indexed(tree, &invitation_key(invitation_hash))?;
    Ok(found.filter(|a| a.invitation_hash.as_deref() == Some(invitation_hash)))
}

/// The account an index entry points at.
fn indexed(tree: &sled::Tree, key: &[u8]) -> Result<Option<AccountState>, Problem> {
    let id = tree.get(key).map_err(|e| {
        tracing::error!(error = %e, "account fold unreadable");
        Problem::internal()
    })?;
    let Some(id) = id
        .as_deref()
        .and_then(|id| std::str::from_utf8(id).ok())
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return Ok(None);
    };
    account_in(tree, id)
}

/// Folds the partners stream and indexes each issued token by its hash.
struct TokenProjection;

impl Projection for TokenProjection {
    fn apply(
        &self,
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>> {
        FoldProjection.apply(tree, event)?;
        if event.kind == "token_issued"
            && let (Some(hash), Some(id)) =
                (event.payload["hash"].as_str(), event.payload["id"].as_str())
        {
            tree.insert(hash_key(hash), id.as_bytes())?;
        }
        Ok(())
    }
}

/// Who may come in: access tokens and people's accounts, as the gateway folds them.
#[derive(Clone)]
pub(crate) struct Tokens {
    /// Held so the temporary database lives as long as the gateway.
    _db: sled::Db,
    tree: sled::Tree,
    accounts: sled::Tree,
    caught_up: [tokio::sync::watch::Receiver<bool>; 2],
}

/// Follows one filter of the partners stream into `tree` until `stop`; the receiver says when
/// the fold holds every event the stream held when it was opened.
fn follow<P: Projection + Send + 'static>(
    js: &async_nats::jetstream::Context,
    tree: &sled::Tree,
    filter: &str,
    projection: P,
    stop: CancellationToken,
) -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    let subscriber = Subscriber::new(js.clone(), SERVICE, tree.clone())?.filtered(filter);
    let caught_up = subscriber.caught_up();
    let follow = subscriber.run(projection, stop);
    let filter = filter.to_owned();
    tokio::spawn(async move {
        if let Err(e) = follow.await {
            tracing::error!(error = %e, filter, "gateway stopped following the partners stream");
        }
    });
    Ok(caught_up)
}

impl Tokens {
    /// Starts following the token and account events of the partners stream (only those: the
    /// gateway's NATS user may read nothing else there); the folds stop when `stop` is cancelled.
    pub(crate) fn start(nats: async_nats::Client, stop: CancellationToken) -> anyhow::Result<Self> {
        let db = sled::Config::new().temporary(true).open()?;
        // One tree per subscriber: each keeps its own checkpoint.
        let tree = db.open_tree(SERVICE)?;
        let accounts = db.open_tree("accounts")?;
        let js = tatrack_bus::jetstream(nats, Duration::from_secs(5));
        let [token_events, account_events] = tatrack_bus::auth::gateway_identity_events();
        let caught_up = [
            follow(&js, &tree, &token_events, TokenProjection, stop.clone())?,
            follow(&js, &accounts, &account_events, AccountProjection, stop)?,
        ];
        Ok(Self {
            _db: db,
            tree,
            accounts,
            caught_up,
        })
    }

    pub(crate) fn caught_up(&self) -> bool {
        self.caught_up.iter().all(|c| *c.borrow())
    }

    /// The account `id`, if it was ever invited.
    #[allow(dead_code, reason = "the web console signs people in with it")]
    pub(crate) fn account(&self, id: Uuid) -> Result<Option<AccountState>, Problem> {
        account_in(&self.accounts, id)
    }

    /// The account that signs in with `email` (compared as recorded: trimmed, lower-cased),
    /// disabled or not; the caller decides what a disabled one may do.
    #[allow(dead_code, reason = "the web console signs people in with it")]
    pub(crate) fn account_by_email(&self, email: &str) -> Result<Option<AccountState>, Problem> {
        account_by_email_in(&self.accounts, email)
    }

    /// The account whose open invitation has `invitation_hash` (the link's SHA-256). A used,
    /// replaced or dropped link finds nothing; whether it expired is the caller's to check
    /// against its own today (the decider refuses it in any case).
    #[allow(dead_code, reason = "the web console signs people in with it")]
    pub(crate) fn account_by_invitation(
        &self,
        invitation_hash: &str,
    ) -> Result<Option<AccountState>, Problem> {
        account_by_invitation_in(&self.accounts, invitation_hash)
    }

    /// The principal an `Authorization` header stands for.
    pub(crate) fn authenticate(&self, header: Option<&str>) -> Result<Principal, Problem> {
        let Some(header) = header else {
            return Err(Problem::unauthorized(
                "missing token: send Authorization: Bearer tt_...",
            ));
        };
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|s| token::looks_like_secret(s))
            .ok_or_else(|| {
                Problem::unauthorized("malformed token: expected Authorization: Bearer tt_<64 hex>")
            })?;
        // Unknown and revoked alike: the answer must not tell a finder of an old token that it
        // once was one.
        let unknown = || Problem::unauthorized("unknown or revoked token");
        let id = self
            .tree
            .get(hash_key(&token::hash(secret)))
            .map_err(|e| {
                tracing::error!(error = %e, "token fold unreadable");
                Problem::internal()
            })?
            .ok_or_else(unknown)?;
        let id = std::str::from_utf8(&id)
            .ok()
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(unknown)?;
        let state: TokenState = fold::get(&self.tree, Token::NAME, &id.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "token fold holds an undecodable state");
                Problem::internal()
            })?
            .ok_or_else(unknown)?;
        if !state.is_active() {
            return Err(unknown());
        }
        let role = state.role.ok_or_else(unknown)?;
        Ok(Principal {
            id: format!("token:{id}"),
            role,
            organisation: state.organisation,
            member_state: state.member_state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use tatrack_domain::Role;
    use tatrack_domain::account::AccountEvent;

    fn tree() -> sled::Tree {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.open_tree("accounts").unwrap()
    }

    /// Applies the events of account `id`, in order from `first` (its version), as the
    /// subscriber would.
    fn fold_events(tree: &sled::Tree, id: Uuid, first: u64, events: &[AccountEvent]) {
        for (n, event) in (first..).zip(events) {
            let encoded = tatrack_domain::encode(event);
            let envelope = Envelope {
                id: Uuid::now_v7(),
                stream: format!("account-{id}"),
                version: n,
                position: n,
                kind: encoded.kind,
                schema: encoded.schema,
                on: None,
                recorded_at: jiff::Timestamp::UNIX_EPOCH,
                principal: "admin:test".into(),
                command_id: None,
                correlation_id: None,
                command_fingerprint: None,
                payload: encoded.payload,
            };
            tree.transaction(|t| AccountProjection.apply(t, &envelope))
                .unwrap();
        }
    }

    fn invited(id: Uuid, email: &str, hash: &str) -> AccountEvent {
        AccountEvent::AccountInvited {
            id,
            name: "Ada".into(),
            email: email.into(),
            role: Role::Auditor,
            organisation: None,
            member_state: None,
            invitation_hash: hash.into(),
            invitation_expires_on: date(2026, 1, 12),
            invited_on: date(2026, 1, 5),
        }
    }

    #[test]
    fn accounts_are_found_by_email_and_by_their_open_invitation_only() {
        let tree = tree();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (first, second, reset) = ("1".repeat(64), "2".repeat(64), "3".repeat(64));
        fold_events(&tree, a, 1, &[invited(a, "ada@example.org", &first)]);
        let found = account_by_email_in(&tree, " ADA@example.org")
            .unwrap()
            .unwrap();
        assert_eq!(found.id, a);
        assert_eq!(found.principal(), None, "no password yet");
        assert_eq!(
            account_by_invitation_in(&tree, &first).unwrap().unwrap().id,
            a
        );
        assert!(account_by_invitation_in(&tree, &second).unwrap().is_none());

        // The link is used: it finds nothing any more; the account acts as itself.
        let set = AccountEvent::AccountPasswordSet {
            id: a,
            password_hash: "$argon2id$x".into(),
            on: date(2026, 1, 6),
        };
        fold_events(&tree, a, 2, &[set]);
        assert!(account_by_invitation_in(&tree, &first).unwrap().is_none());
        let principal = account_in(&tree, a).unwrap().unwrap().principal().unwrap();
        assert_eq!(principal.id, format!("account:{a}"));
        assert_eq!(principal.role, Role::Auditor);

        // A reset opens a new link; the old one stays dead.
        let reinvited = AccountEvent::AccountReinvited {
            id: a,
            invitation_hash: reset.clone(),
            invitation_expires_on: date(2026, 2, 8),
            on: date(2026, 2, 1),
        };
        fold_events(&tree, a, 3, &[reinvited]);
        assert_eq!(
            account_by_invitation_in(&tree, &reset).unwrap().unwrap().id,
            a
        );
        assert!(account_by_invitation_in(&tree, &first).unwrap().is_none());

        // Disabled: the link is dropped; the address still finds it (the caller refuses it)
        // until another account is invited with it.
        let disabled = AccountEvent::AccountDisabled {
            id: a,
            on: date(2026, 3, 1),
            reason: "left".into(),
        };
        fold_events(&tree, a, 4, &[disabled]);
        assert!(account_by_invitation_in(&tree, &reset).unwrap().is_none());
        assert_eq!(
            account_by_email_in(&tree, "ada@example.org")
                .unwrap()
                .unwrap()
                .id,
            a
        );
        fold_events(&tree, b, 5, &[invited(b, "ada@example.org", &second)]);
        assert_eq!(
            account_by_email_in(&tree, "ada@example.org")
                .unwrap()
                .unwrap()
                .id,
            b
        );
        assert!(
            account_by_email_in(&tree, "nobody@example.org")
                .unwrap()
                .is_none()
        );
    }
}
