//! Coverage of needs and commitments of offers are derived from accepted referrals (accepted by
//! the State, or active) and sent to the services that own needs and offers, as `system`, with
//! running totals: the same totals again change nothing there, so sending them twice is safe.
//! Each total carries the business date of the referral move it follows from: after a move on
//! day D the totals are sent as of D and as of every later day they changed on, so a late
//! acceptance corrects the history that "as of" questions read (ARCHITECTURE.md, "Two times").
//! Sent right after a referral is accepted, and again by a pass at start and every minute, which
//! repairs the latest totals whatever a crash or an unreachable service left behind.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::Date;
use serde::Serialize;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_contract::commands::{Addressed, need, offer};
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::OfferState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::{Money, Principal};
use tatrack_eventlog::Store;
use uuid::Uuid;

use crate::commands::{Context, in_currency, referrals};

const EVERY: Duration = Duration::from_secs(60);

pub(crate) async fn run(store: Store, context: Context, stop: tokio_util::sync::CancellationToken) {
    loop {
        if let Err(e) = sync_all(&store, &context).await {
            tracing::debug!(error = %e, "coverage pass did not finish");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

async fn sync_all(store: &Store, context: &Context) -> Result<(), String> {
    let all = referrals(store).map_err(|e| e.message)?;
    let needs: BTreeSet<Uuid> = all
        .iter()
        .filter(|r| r.accepted_by_state_on.is_some())
        .map(|r| r.need_id)
        .collect();
    let offers: BTreeSet<Uuid> = all
        .iter()
        .filter(|r| r.accepted_by_state_on.is_some())
        .map(|r| r.offer_id)
        .collect();
    for need in needs {
        sync_need(store, context, need, None).await?;
    }
    for offer in offers {
        sync_offer(store, context, offer, None).await?;
    }
    Ok(())
}

/// After one referral moved on `on`: its need's coverage and its offer's commitment, as of
/// that day and every later day the totals changed on. Failures are logged; the periodic pass
/// sends the latest totals again.
pub(crate) async fn sync_one(store: &Store, context: &Context, need: Uuid, offer: Uuid, on: Date) {
    if let Err(e) = sync_need(store, context, need, Some(on)).await {
        tracing::warn!(%need, error = %e, "need coverage not sent yet");
    }
    if let Err(e) = sync_offer(store, context, offer, Some(on)).await {
        tracing::warn!(%offer, error = %e, "offer commitment not sent yet");
    }
}

/// The totals of the accepted shares of referrals matching `pick` that counted on `day`
/// (`None`: those that count now), money converted to `currency` with the rates in force on
/// the day each was accepted.
pub(crate) fn accepted_totals(
    store: &Store,
    currency: Option<&str>,
    pick: impl Fn(&ReferralState) -> bool,
) -> Result<(Option<Money>, Option<u64>), String> {
    totals(store, currency, None, pick)
}

fn totals(
    store: &Store,
    currency: Option<&str>,
    day: Option<Date>,
    pick: impl Fn(&ReferralState) -> bool,
) -> Result<(Option<Money>, Option<u64>), String> {
    let mut money: Option<i64> = None;
    let mut units: Option<u64> = None;
    for referral in referrals(store).map_err(|e| e.message)? {
        let counts = match day {
            Some(day) => referral.counts_as_accepted_on(day),
            None => referral.counts_as_accepted(),
        };
        if !counts || !pick(&referral) {
            continue;
        }
        if let (Some(share), Some(currency)) = (&referral.share_money, currency) {
            let accepted = referral
                .accepted_by_state_on
                .unwrap_or_else(|| store.clock().today());
            let share = in_currency(store, share, currency, "share_money", accepted)
                .map_err(|e| e.message)?;
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

/// The days the totals of referrals matching `pick` are sent for: each day one of them started
/// or stopped counting, from `from` on (a late acceptance changes every later day's totals);
/// without `from`, only the last such day (the periodic pass: the totals as they stand).
fn days(
    store: &Store,
    from: Option<Date>,
    pick: impl Fn(&ReferralState) -> bool,
) -> Result<Vec<Date>, String> {
    let mut days: BTreeSet<Date> = BTreeSet::new();
    for r in referrals(store).map_err(|e| e.message)? {
        if pick(&r) {
            days.extend(r.accepted_by_state_on);
            days.extend(r.ended_on);
        }
    }
    Ok(match from {
        Some(from) => days.into_iter().filter(|d| *d >= from).collect(),
        None => days.into_iter().next_back().into_iter().collect(),
    })
}

async fn sync_need(
    store: &Store,
    context: &Context,
    id: Uuid,
    from: Option<Date>,
) -> Result<(), String> {
    let need: NeedState = context
        .view
        .get("assessments", "need", &id.to_string())
        .map_err(|e| e.message)?
        .ok_or("need not in view yet")?;
    let currency = need.estimated_cost.as_ref().map(|m| m.currency.clone());
    for day in days(store, from, |r| r.need_id == id)? {
        let (money, units) = totals(store, currency.as_deref(), Some(day), |r| r.need_id == id)?;
        // A measure the need does not have is not reported.
        let units = units.filter(|_| need.size.is_some());
        // Coverage is not dated before the State agreed to the need.
        let on = need.agreed_on.map_or(day, |agreed| day.max(agreed));
        let body = need::RecordCoverage {
            covered_money: money,
            covered_units: units,
            on: Some(on),
        };
        send(
            context,
            "assessments",
            "need_record_coverage",
            &Addressed { id, body },
        )
        .await?;
    }
    Ok(())
}

async fn sync_offer(
    store: &Store,
    context: &Context,
    id: Uuid,
    from: Option<Date>,
) -> Result<(), String> {
    let offer: OfferState = context
        .view
        .get("partners", "offer", &id.to_string())
        .map_err(|e| e.message)?
        .ok_or("offer not in view yet")?;
    let currency = offer.budget.as_ref().map(|m| m.currency.clone());
    for day in days(store, from, |r| r.offer_id == id)? {
        let (money, units) = totals(store, currency.as_deref(), Some(day), |r| r.offer_id == id)?;
        let units = units.filter(|_| offer.capacity.is_some());
        // A commitment is not dated before the offer was published.
        let on = offer
            .published_on
            .map_or(day, |published| day.max(published));
        let body = offer::RecordCommitment {
            committed_money: money,
            committed_units: units,
            on: Some(on),
        };
        send(
            context,
            "partners",
            "offer_record_commitment",
            &Addressed { id, body },
        )
        .await?;
    }
    Ok(())
}

async fn send(
    context: &Context,
    service: &str,
    verb: &str,
    body: &impl Serialize,
) -> Result<(), String> {
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(Principal::system())
    };
    let _: serde_json::Value = rpc::request(
        &context.nats,
        &subjects::command_subject(service, verb),
        &meta,
        body,
        Duration::from_secs(10),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}
