//! The projection of the assessments stream: the current state of every assessment,
//! recommendation, need and sharing grant, folded with the domain's own `evolve`, so the read side
//! can never disagree with the deciders about what an event means.

use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use tatrack_bus::subscriber::Projection;
use tatrack_domain::assessment::Assessment;
use tatrack_domain::need::Need;
use tatrack_domain::recommendation::Recommendation;
use tatrack_domain::sharing::SharingGrant;
use tatrack_domain::{Aggregate, decode};
use tatrack_eventlog::Envelope;

/// Key of one aggregate's state: `<aggregate>/<id>`.
pub(crate) fn key(aggregate: &str, id: &str) -> Vec<u8> {
    format!("{aggregate}/{id}").into_bytes()
}

pub(crate) struct AssessmentsProjection;

impl Projection for AssessmentsProjection {
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
    let event: A::Event =
        decode(&envelope.kind, envelope.schema, &envelope.payload).map_err(|e| abort(&e))?;
    let key = key(A::NAME, id);
    let state: A::State = match tree.get(&key)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| abort(&e))?,
        None => A::State::default(),
    };
    let state = A::evolve(state, &event);
    tree.insert(key, serde_json::to_vec(&state).map_err(|e| abort(&e))?)?;
    Ok(())
}
