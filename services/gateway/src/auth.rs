//! Bearer-token authentication from the gateway's own fold of the partners stream: issued and
//! revoked tokens arrive as events through the catch-up subscriber into a throwaway sled tree,
//! rebuilt at each start, so a revocation takes effect as soon as its event is applied.

use std::time::Duration;

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_bus::Subscriber;
use tatrack_bus::fold::{self, FoldProjection};
use tatrack_bus::subscriber::Projection;
use tatrack_domain::Aggregate;
use tatrack_domain::Principal;
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

#[derive(Clone)]
pub(crate) struct Tokens {
    /// Held so the temporary database lives as long as the gateway.
    _db: sled::Db,
    tree: sled::Tree,
    caught_up: tokio::sync::watch::Receiver<bool>,
}

impl Tokens {
    /// Starts following the token events of the partners stream (only those: the gateway's NATS
    /// user may read nothing else there); the fold stops when `stop` is cancelled.
    pub(crate) fn start(nats: async_nats::Client, stop: CancellationToken) -> anyhow::Result<Self> {
        let db = sled::Config::new().temporary(true).open()?;
        let tree = db.open_tree(SERVICE)?;
        let js = tatrack_bus::jetstream(nats, Duration::from_secs(5));
        let subscriber = Subscriber::new(js, SERVICE, tree.clone())?
            .filtered(&tatrack_bus::auth::gateway_token_events());
        // Ready once the fold holds every token event the stream held when it was opened.
        let caught_up = subscriber.caught_up();
        let follow = subscriber.run(TokenProjection, stop);
        tokio::spawn(async move {
            if let Err(e) = follow.await {
                tracing::error!(error = %e, "gateway stopped following the token events");
            }
        });
        Ok(Self {
            _db: db,
            tree,
            caught_up,
        })
    }

    pub(crate) fn caught_up(&self) -> bool {
        *self.caught_up.borrow()
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
