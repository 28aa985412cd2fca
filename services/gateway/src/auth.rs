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
        fold::get(&self.accounts, Account::NAME, &id.to_string()).map_err(|e| {
            tracing::error!(error = %e, "account fold holds an undecodable state");
            Problem::internal()
        })
    }

    /// The account that signs in with `email` (compared as recorded: trimmed, lower-cased),
    /// disabled or not; the caller decides what a disabled one may do.
    #[allow(dead_code, reason = "the web console signs people in with it")]
    pub(crate) fn account_by_email(&self, email: &str) -> Result<Option<AccountState>, Problem> {
        let email = email.trim().to_lowercase();
        let found = self.indexed(&email_key(&email))?;
        Ok(found.filter(|a| a.email == email))
    }

    /// The account whose open invitation has `invitation_hash` (the link's SHA-256). A used,
    /// replaced or dropped link finds nothing; whether it expired is the caller's to check
    /// against its own today (the decider refuses it in any case).
    #[allow(dead_code, reason = "the web console signs people in with it")]
    pub(crate) fn account_by_invitation(
        &self,
        invitation_hash: &str,
    ) -> Result<Option<AccountState>, Problem> {
        let found = self.indexed(&invitation_key(invitation_hash))?;
        Ok(found.filter(|a| a.invitation_hash.as_deref() == Some(invitation_hash)))
    }

    /// The account an index entry points at.
    fn indexed(&self, key: &[u8]) -> Result<Option<AccountState>, Problem> {
        let id = self.accounts.get(key).map_err(|e| {
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
        self.account(id)
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
