//! Coverage of needs and commitments of offers are derived from accepted referrals (accepted by
//! the State, or active) and sent to the services that own needs and offers, as `system`, with
//! running totals: the same totals again change nothing there, so sending them twice is safe.
//! Sent right after a referral is accepted, and again by a pass at start and every minute, which
//! repairs whatever a crash or an unreachable service left behind.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::OfferState;
use tatrack_domain::{Money, Principal};
use tatrack_eventlog::Store;
use uuid::Uuid;

use crate::commands::{Context, in_currency, referrals};

const EVERY: Duration = Duration::from_secs(60);

pub(crate) async fn run(
    store: Store,
    context: Context,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = sync_all(&store, &context).await {
            tracing::debug!(error = %e, "coverage pass did not finish");
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

async fn sync_all(store: &Store, context: &Context) -> Result<(), String> {
    let all = referrals(store).map_err(|e| e.message)?;
    let needs: BTreeSet<Uuid> = all
        .iter()
        .filter(|r| r.counts_as_accepted())
        .map(|r| r.need_id)
        .collect();
    let offers: BTreeSet<Uuid> = all
        .iter()
        .filter(|r| r.counts_as_accepted())
        .map(|r| r.offer_id)
        .collect();
    for need in needs {
        sync_need(store, context, need).await?;
    }
    for offer in offers {
        sync_offer(store, context, offer).await?;
    }
    Ok(())
}

/// After one referral moved: its need's coverage and its offer's commitment. Failures are logged;
/// the periodic pass sends them again.
pub(crate) async fn sync_one(store: &Store, context: &Context, need: Uuid, offer: Uuid) {
    if let Err(e) = sync_need(store, context, need).await {
        tracing::warn!(%need, error = %e, "need coverage not sent yet");
    }
    if let Err(e) = sync_offer(store, context, offer).await {
        tracing::warn!(%offer, error = %e, "offer commitment not sent yet");
    }
}

/// Sums the accepted shares of referrals matching `pick`, money converted to `currency`.
fn totals(
    store: &Store,
    currency: Option<&str>,
    pick: impl Fn(&tatrack_domain::referral::ReferralState) -> bool,
) -> Result<(Option<Money>, Option<u64>), String> {
    let mut money: Option<i64> = None;
    let mut units: Option<u64> = None;
    for referral in referrals(store).map_err(|e| e.message)? {
        if !referral.counts_as_accepted() || !pick(&referral) {
            continue;
        }
        if let (Some(share), Some(currency)) = (&referral.share_money, currency) {
            let share =
                in_currency(store, share, currency, "share_money").map_err(|e| e.message)?;
            money = Some(
                money
                    .unwrap_or(0)
                    .checked_add(share.amount_minor)
                    .ok_or("coverage overflows")?,
            );
        }
        if let Some(share) = referral.share_units {
            units = Some(units.unwrap_or(0) + share);
        }
    }
    let money = match (money, currency) {
        (Some(amount), Some(currency)) => Some(Money {
            amount_minor: amount,
            currency: currency.to_owned(),
        }),
        _ => None,
    };
    Ok((money, units))
}

async fn sync_need(store: &Store, context: &Context, id: Uuid) -> Result<(), String> {
    let need: NeedState = context
        .view
        .get("assessments", "need", &id.to_string())
        .map_err(|e| e.message)?
        .ok_or("need not in view yet")?;
    let currency = need.estimated_cost.as_ref().map(|m| m.currency.clone());
    let (money, units) = totals(store, currency.as_deref(), |r| r.need_id == id)?;
    // A measure the need does not have is not reported.
    let units = units.filter(|_| need.size.is_some());
    send(
        context,
        "assessments",
        "need_record_coverage",
        json!({ "id": id, "covered_money": money, "covered_units": units }),
    )
    .await
}

async fn sync_offer(store: &Store, context: &Context, id: Uuid) -> Result<(), String> {
    let offer: OfferState = context
        .view
        .get("partners", "offer", &id.to_string())
        .map_err(|e| e.message)?
        .ok_or("offer not in view yet")?;
    let currency = offer.budget.as_ref().map(|m| m.currency.clone());
    let (money, units) = totals(store, currency.as_deref(), |r| r.offer_id == id)?;
    let units = units.filter(|_| offer.capacity.is_some());
    send(
        context,
        "partners",
        "offer_record_commitment",
        json!({ "id": id, "committed_money": money, "committed_units": units }),
    )
    .await
}

async fn send(
    context: &Context,
    service: &str,
    verb: &str,
    body: serde_json::Value,
) -> Result<(), String> {
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(Principal::system())
    };
    let _: serde_json::Value = rpc::request(
        &context.nats,
        &subjects::command_subject(service, verb),
        &meta,
        &body,
        Duration::from_secs(10),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}
