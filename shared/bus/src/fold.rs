//! A projection that keeps the current state of every aggregate of a stream, folded with the
//! domain's own `evolve`, so a reader can never disagree with the deciders about what an event
//! means. Keys are `<aggregate>/<id>`, values the state's JSON. The read model and the projects
//! service's view of the other services both use it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_domain::account::Account;
use tatrack_domain::assessment::Assessment;
use tatrack_domain::need::Need;
use tatrack_domain::offer::Offer;
use tatrack_domain::organisation::Organisation;
use tatrack_domain::progress::ProgressReport;
use tatrack_domain::project::Project;
use tatrack_domain::rates::RateTable;
use tatrack_domain::recommendation::Recommendation;
use tatrack_domain::referral::Referral;
use tatrack_domain::report::Report;
use tatrack_domain::sharing::SharingGrant;
use tatrack_domain::token::Token;
use tatrack_domain::{Aggregate, decode};
use tatrack_eventlog::Envelope;

use crate::subscriber::Projection;

/// Key of one aggregate's state: `<aggregate>/<id>`.
pub fn key(aggregate: &str, id: &str) -> Vec<u8> {
    format!("{aggregate}/{id}").into_bytes()
}

/// Folds every event of a stream into its aggregate's state.
pub struct FoldProjection;

impl Projection for FoldProjection {
    fn apply(
        &self,
        tree: &TransactionalTree,
        event: &Envelope,
    ) -> Result<(), ConflictableTransactionError<String>> {
        let Some((aggregate, id)) = event.stream.split_once('-') else {
            return Err(ConflictableTransactionError::Abort(format!(
                "stream name {} has no aggregate",
                event.stream
            )));
        };
        match aggregate {
            Assessment::NAME => fold_into::<Assessment>(tree, id, event),
            Recommendation::NAME => fold_into::<Recommendation>(tree, id, event),
            Need::NAME => fold_into::<Need>(tree, id, event),
            SharingGrant::NAME => fold_into::<SharingGrant>(tree, id, event),
            Organisation::NAME => fold_into::<Organisation>(tree, id, event),
            Offer::NAME => fold_into::<Offer>(tree, id, event),
            Referral::NAME => fold_into::<Referral>(tree, id, event),
            Project::NAME => fold_into::<Project>(tree, id, event),
            ProgressReport::NAME => fold_into::<ProgressReport>(tree, id, event),
            RateTable::NAME => fold_into::<RateTable>(tree, id, event),
            Token::NAME => fold_into::<Token>(tree, id, event),
            Account::NAME => fold_into::<Account>(tree, id, event),
            Report::NAME => fold_into::<Report>(tree, id, event),
            // A cluster's fence events change no aggregate.
            crate::lease::FENCE_AGGREGATE => Ok(()),
            other => Err(ConflictableTransactionError::Abort(format!(
                "unknown aggregate {other}"
            ))),
        }
    }
}

fn fold_into<A: Aggregate>(
    tree: &TransactionalTree,
    id: &str,
    envelope: &Envelope,
) -> Result<(), ConflictableTransactionError<String>>
where
    A::State: DeserializeOwned,
{
    let abort = |e: &dyn std::fmt::Display| {
        ConflictableTransactionError::Abort(format!("position {}: {e}", envelope.position))
    };
    let event: A::Event = decode(
        &envelope.kind,
        envelope.schema,
        &envelope.payload,
        envelope.business_date(),
    )
    .map_err(|e| abort(&e))?;
    let key = key(A::NAME, id);
    let state: A::State = match tree.get(&key)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| abort(&e))?,
        None => A::State::default(),
    };
    let state = A::evolve(state, &event);
    tree.insert(key, serde_json::to_vec(&state).map_err(|e| abort(&e))?)?;
    Ok(())
}

/// The state of one aggregate in a fold tree, if it exists there.
pub fn get<T: DeserializeOwned>(
    tree: &sled::Tree,
    aggregate: &str,
    id: &str,
) -> Result<Option<T>, String> {
    match tree.get(key(aggregate, id)).map_err(|e| e.to_string())? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// Every state of one aggregate in a fold tree.
pub fn scan<T: DeserializeOwned>(tree: &sled::Tree, aggregate: &str) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix(key(aggregate, "")) {
        let (_, bytes) = entry.map_err(|e| e.to_string())?;
        out.push(serde_json::from_slice(&bytes).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Writes a state directly (tests only need it; projections go through `FoldProjection`).
pub fn put<T: Serialize>(
    tree: &sled::Tree,
    aggregate: &str,
    id: &str,
    state: &T,
) -> Result<(), String> {
    let bytes = serde_json::to_vec(state).map_err(|e| e.to_string())?;
    tree.insert(key(aggregate, id), bytes)
        .map_err(|e| e.to_string())?;
    Ok(())
}
