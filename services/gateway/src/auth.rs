//! Bearer-token authentication, and the console's accounts, from the gateway's own fold of the
//! partners stream: token and account events arrive through two catch-up subscribers (each
//! filtered to its aggregate, all the gateway's NATS user may read there) into throwaway sled
//! trees, rebuilt at each start, so a revocation or a disabled account takes effect as soon as
//! its event is applied. The fold keeps accounts' hashes, which never leave this module but as
//! the answer to "does this password verify".

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

/// Folds the partners stream and indexes each issued token by its hash.
struct TokenProjection;

/// Folds the account events and indexes each account by its e-mail address and by its latest
/// invitation's hash. An index entry may outlive what it names (a reinvitation, a new account
/// for the address of a disabled one): lookups check the state they find.
struct AccountProjection;

impl Projection for AccountProjection {
    fn apply(
        &self,
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>> {
        FoldProjection.apply(tree, event)?;
        let id = event.payload["id"].as_str().unwrap_or_default().as_bytes();
        if event.kind == "account_invited"
            && let Some(email) = event.payload["email"].as_str()
        {
            tree.insert(email_key(email), id)?;
        }
        if matches!(event.kind.as_str(), "account_invited" | "account_reinvited")
            && let Some(hash) = event.payload["invitation_hash"].as_str()
        {
            tree.insert(invitation_key(hash), id)?;
        }
        Ok(())
    }
}

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

#[derive(Clone)]
pub(crate) struct Tokens {
    /// Held so the temporary database lives as long as the gateway.
    _db: sled::Db,
    tree: sled::Tree,
    accounts: sled::Tree,
    caught_up: [tokio::sync::watch::Receiver<bool>; 2],
}

impl Tokens {
    /// Starts following the token events of the partners stream (only those: the gateway's NATS
    /// user may read nothing else there); the fold stops when `stop` is cancelled.
    pub(crate) fn start(nats: async_nats::Client, stop: CancellationToken) -> anyhow::Result<Self> {
        let db = sled::Config::new().temporary(true).open()?;
        let tree = db.open_tree(SERVICE)?;
        let accounts = db.open_tree("accounts")?;
        let js = tatrack_bus::jetstream(nats, Duration::from_secs(5));
        let [token_events, account_events] = tatrack_bus::auth::gateway_identity_events();
        let tokens = Subscriber::new(js.clone(), SERVICE, tree.clone())?.filtered(&token_events);
        let people = Subscriber::new(js, SERVICE, accounts.clone())?.filtered(&account_events);
        // Ready once each fold holds every event the stream held when it was opened.
        let caught_up = [tokens.caught_up(), people.caught_up()];
        let follow_tokens = tokens.run(TokenProjection, stop.clone());
        let follow_people = people.run(AccountProjection, stop);
        tokio::spawn(async move {
            if let Err(e) = follow_tokens.await {
                tracing::error!(error = %e, "gateway stopped following the token events");
            }
        });
        tokio::spawn(async move {
            if let Err(e) = follow_people.await {
                tracing::error!(error = %e, "gateway stopped following the account events");
            }
        });
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

    /// An account as its events left it.
    pub(crate) fn account(&self, id: Uuid) -> Result<Option<AccountState>, Problem> {
        let state: Option<AccountState> = fold::get(&self.accounts, Account::NAME, &id.to_string())
            .map_err(|e| {
                tracing::error!(error = %e, "account fold holds an undecodable state");
                Problem::internal()
            })?;
        Ok(state.filter(|s| s.status.is_some()))
    }

    fn indexed(&self, key: Vec<u8>) -> Result<Option<AccountState>, Problem> {
        let id = self.accounts.get(key).map_err(|e| {
            tracing::error!(error = %e, "account fold unreadable");
            Problem::internal()
        })?;
        match id
            .as_deref()
            .and_then(|id| std::str::from_utf8(id).ok())
            .and_then(|id| id.parse::<Uuid>().ok())
        {
            Some(id) => self.account(id),
            None => Ok(None),
        }
    }

    /// The account that holds `email` (lower case) now.
    pub(crate) fn account_by_email(&self, email: &str) -> Result<Option<AccountState>, Problem> {
        Ok(self.indexed(email_key(email))?.filter(|a| a.email == email))
    }

    /// The account whose open invitation has this hash.
    pub(crate) fn account_by_invitation(
        &self,
        hash: &str,
    ) -> Result<Option<AccountState>, Problem> {
        Ok(self
            .indexed(invitation_key(hash))?
            .filter(|a| a.invitation_hash.as_deref() == Some(hash)))
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
