//! Offers expire at the end of their validity window, and tokens after their last valid day: at
//! start and then once a minute the service expires, as `system`, every live offer whose
//! `valid_until` has passed and revokes every active token past its `expires_on`, through the
//! same command path as any other command (decide, append, replicate). A gateway learns of a
//! revocation from the stream, so it needs no clock of its own.

use std::time::Duration;

use tatrack_bus::rpc::RequestMeta;
use tatrack_bus::service::{execute, load};
use tatrack_domain::Principal;
use tatrack_domain::offer::{Offer, OfferCommand, OfferStatus};
use tatrack_domain::token::{Token, TokenCommand, TokenState};
use tatrack_eventlog::Store;
use uuid::Uuid;

/// How often the service looks for offers to expire.
const EVERY: Duration = Duration::from_secs(60);

pub(crate) async fn run(store: Store, stop: tokio_util::sync::CancellationToken) {
    loop {
        let today = store.clock().today();
        match expire_due(&store, today).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "offers past their window expired"),
            Err(e) => tracing::warn!(error = %e, "offer expiry pass did not finish"),
        }
        match revoke_expired_tokens(&store, today).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(revoked = n, "tokens past their last valid day revoked"),
            Err(e) => tracing::warn!(error = %e, "token expiry pass did not finish"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// Expires every draft, open or partially committed offer whose window ended before `today`.
pub async fn expire_due(store: &Store, today: jiff::civil::Date) -> Result<usize, String> {
    let mut expired = 0;
    for stream in store
        .streams_with_prefix("offer-")
        .map_err(|e| e.to_string())?
    {
        let Some(id) = stream
            .strip_prefix("offer-")
            .and_then(|id| id.parse::<Uuid>().ok())
        else {
            continue;
        };
        let (offer, _) = load::<Offer>(store, &id).map_err(|e| e.message)?;
        let live = matches!(
            offer.status,
            Some(OfferStatus::Draft | OfferStatus::Open | OfferStatus::PartiallyCommitted)
        );
        if let Some(until) = offer.valid_until.filter(|until| live && *until < today) {
            // It expired the day after its window, whenever this pass notices (a service that
            // was down a week still dates it right), and never before its last move.
            let expired_on = until.tomorrow().unwrap_or(today);
            let on = offer
                .last_on
                .map_or(expired_on, |last| last.max(expired_on));
            let command = OfferCommand::Expire { id, on };
            let meta = RequestMeta::new(Principal::system());
            match execute::<Offer>(store, &id, &command, &meta, |_| Ok(())).await {
                Ok(_) => expired += 1,
                Err(e) => tracing::debug!(offer = %id, error = %e, "offer not expired"),
            }
        }
    }
    Ok(expired)
}

/// Every token of the log, with its id.
pub(crate) fn tokens(store: &Store) -> Result<Vec<TokenState>, String> {
    let mut out = Vec::new();
    for stream in store
        .streams_with_prefix("token-")
        .map_err(|e| e.to_string())?
    {
        if let Some(id) = stream
            .strip_prefix("token-")
            .and_then(|id| id.parse::<Uuid>().ok())
        {
            out.push(load::<Token>(store, &id).map_err(|e| e.message)?.0);
        }
    }
    Ok(out)
}

/// Revokes `token` as `system` for `reason`, dated `on` (never before its issue).
pub(crate) async fn revoke(
    store: &Store,
    token: &TokenState,
    on: jiff::civil::Date,
    reason: &str,
) -> bool {
    let on = token.issued_on.map_or(on, |issued| issued.max(on));
    let command = TokenCommand::Revoke {
        id: token.id,
        on,
        reason: reason.to_owned(),
    };
    let meta = RequestMeta::new(Principal::system());
    match execute::<Token>(store, &token.id, &command, &meta, |_| Ok(())).await {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(token = %token.id, error = %e, "token not revoked");
            false
        }
    }
}

/// Revokes every active token whose last valid day is before `today`, dated the day after it.
pub async fn revoke_expired_tokens(
    store: &Store,
    today: jiff::civil::Date,
) -> Result<usize, String> {
    let mut revoked = 0;
    for token in tokens(store)? {
        let Some(last) = token
            .last_valid_day()
            .filter(|last| token.is_active() && *last < today)
        else {
            continue;
        };
        if revoke(store, &token, last.tomorrow().unwrap_or(today), "expired").await {
            revoked += 1;
        }
    }
    Ok(revoked)
}
