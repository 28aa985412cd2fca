//! `overview_show`: the console's overview, totalled here over what the caller may see. The
//! lists it sums (every need, offer, project, referral and assessment) would not fit in one
//! answer at scale, and each caller's totals must be of its own rows only, so the read model
//! adds them up with the same visibility rules as the lists and answers a few hundred bytes.

use std::collections::{BTreeMap, BTreeSet};

use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::{CoverageCell, OverdueClock, Overview, WaitingNeed};
use tatrack_domain::assessment::{AssessmentState, clocks};
use tatrack_domain::need::{NeedState, NeedStatus};
use tatrack_domain::offer::{OfferState, OfferStatus};
use tatrack_domain::project::ProjectState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::{Money, Role, Totals};
use uuid::Uuid;

use super::{Answer, Query, to_value};
use crate::visibility;

/// How long an agreed need may wait without any referral before the overview lists it.
pub(crate) const WAITING_DAYS: u64 = 90;
/// The most rows of a list the overview carries; the totals count them all.
const MOST_ROWS: usize = 50;

/// Estimated and covered, summed per key.
type Cells = BTreeMap<(String, Option<String>), (i64, i64)>;

fn add(cells: &mut Cells, key: &str, currency: Option<&str>, estimated: i64, covered: i64) {
    let cell = cells
        .entry((key.to_owned(), currency.map(str::to_owned)))
        .or_default();
    cell.0 = cell.0.saturating_add(estimated);
    cell.1 = cell.1.saturating_add(covered);
}

fn cells(cells: Cells) -> Vec<CoverageCell> {
    cells
        .into_iter()
        .map(|((key, currency), (estimated, covered))| CoverageCell {
            key,
            currency,
            estimated,
            covered,
        })
        .collect()
}

/// Adds every currency of `more` to `totals` (a total that would overflow stays as it was).
fn add_totals(totals: &mut Totals, more: &Totals) {
    for (currency, amount_minor) in more.iter() {
        let _ = totals.add(&Money {
            amount_minor,
            currency: currency.to_owned(),
        });
    }
}

/// Agreed with the State and not yet fully covered.
fn is_waiting(need: &NeedState) -> bool {
    matches!(
        need.status,
        Some(NeedStatus::AgreedWithState | NeedStatus::PartiallyCovered)
    )
}

pub(crate) fn overview(q: &Query) -> Result<Answer, ErrorBody> {
    // Totals of the live views are kept until an event is applied or the day turns: the key
    // names what they depend on (whose visibility: role, organisation, State; the days; every
    // stream's applied position). An answer about another point in time is made afresh.
    if q.point.is_some() {
        return totals(q);
    }
    let p = q.principal;
    let key = format!(
        "overview {:?} {:?} {:?} {} {} {:?}",
        p.role,
        p.organisation,
        p.member_state,
        q.day,
        q.today,
        q.views.applied()
    );
    q.views.memo(key, || totals(q))
}

fn totals(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let referrals = q.views.scan::<ReferralState>("projects", "referral")?;
    let visible_referrals: Vec<&ReferralState> = referrals
        .iter()
        .filter(|r| visibility::sees_referral(p, r))
        .collect();
    let referred_needs: BTreeSet<Uuid> = visible_referrals.iter().map(|r| r.need_id).collect();

    let (mut money, mut units, mut by_theme, mut by_region, mut by_country) = (
        Cells::new(),
        Cells::new(),
        Cells::new(),
        Cells::new(),
        Cells::new(),
    );
    let (mut open_needs, mut waiting_needs) = (0u64, 0u64);
    let cutoff = q
        .day
        .saturating_sub(jiff::Span::new().days(i64::try_from(WAITING_DAYS).unwrap_or(90)));
    let mut waiting_for_offer = Vec::new();
    for need in q.views.scan::<NeedState>("assessments", "need")?.iter() {
        if need.status.is_none_or(NeedStatus::is_final) || !q.consent.sees_need(p, need) {
            continue;
        }
        open_needs += 1;
        if let Some(cost) = &need.estimated_cost {
            let covered = need
                .covered_money
                .as_ref()
                .map_or(0, |c| c.amount_minor.min(cost.amount_minor));
            let currency = Some(cost.currency.as_str());
            add(&mut money, &cost.currency, None, cost.amount_minor, covered);
            add(
                &mut by_theme,
                &need.theme,
                currency,
                cost.amount_minor,
                covered,
            );
            if let Some(region) = tatrack_domain::codes::regions_of(&need.member_state).first() {
                add(&mut by_region, region, currency, cost.amount_minor, covered);
            }
        }
        if let Some(size) = &need.size {
            let quantity = i64::try_from(size.quantity).unwrap_or(i64::MAX);
            let covered = i64::try_from(need.covered_units.unwrap_or(0).min(size.quantity))
                .unwrap_or(i64::MAX);
            add(&mut units, &size.measure, None, quantity, covered);
        }
        if is_waiting(need) {
            waiting_needs += 1;
            add(&mut by_country, &need.member_state, None, 1, 0);
            if let Some(agreed_on) = need.agreed_on.filter(|d| *d <= cutoff)
                && !referred_needs.contains(&need.id)
            {
                waiting_for_offer.push(WaitingNeed {
                    id: need.id,
                    description: need.description.clone(),
                    member_state: need.member_state.clone(),
                    theme: need.theme.clone(),
                    agreed_on,
                });
            }
        }
    }
    waiting_for_offer.sort_by_key(|n| (n.agreed_on, n.id));
    let waiting_for_offer_total = waiting_for_offer.len() as u64;
    waiting_for_offer.truncate(MOST_ROWS);

    // A State's focal point counts the offers referred to its needs, as `offer_list` shows them.
    let referred_offers: BTreeSet<Uuid> = if p.role == Role::StateFocalPoint {
        visible_referrals
            .iter()
            .filter(|r| r.is_open())
            .map(|r| r.offer_id)
            .collect()
    } else {
        BTreeSet::new()
    };
    let open_offers = q
        .views
        .scan::<OfferState>("partners", "offer")?
        .iter()
        .filter(|o| {
            matches!(
                o.status,
                Some(OfferStatus::Open | OfferStatus::PartiallyCommitted)
            ) && (p.may_see_organisation(&o.organisation) || referred_offers.contains(&o.id))
        })
        .count() as u64;

    let (mut committed, mut disbursed) = (Totals::new(), Totals::new());
    let mut active_projects = 0u64;
    for project in q
        .views
        .scan::<ProjectState>("projects", "project")?
        .iter()
        .filter(|pr| visibility::sees_project(p, pr))
    {
        if project.status.is_some_and(|s| s.to_string() == "2") {
            active_projects += 1;
        }
        add_totals(&mut committed, &project.committed);
        add_totals(&mut disbursed, &project.disbursed);
    }

    let mut overdue_clocks = Vec::new();
    for a in q
        .views
        .scan::<AssessmentState>("assessments", "assessment")?
        .iter()
        .filter(|a| q.consent.sees_assessment(p, &a.member_state, a.id))
    {
        let c = clocks(a, q.day);
        for (overdue, clock, due) in [
            (c.observations_overdue, "observations", c.observations_due),
            (c.response_overdue, "response", c.response_due),
        ] {
            if let (true, Some(due)) = (overdue, due) {
                overdue_clocks.push(OverdueClock {
                    assessment_id: a.id,
                    title: a.title.clone(),
                    member_state: a.member_state.clone(),
                    clock: clock.to_owned(),
                    due,
                });
            }
        }
    }
    overdue_clocks.sort_by_key(|c| (c.due, c.assessment_id));
    let overdue_clocks_total = overdue_clocks.len() as u64;
    overdue_clocks.truncate(MOST_ROWS);

    to_value(Overview {
        day: q.day,
        open_needs,
        waiting_needs,
        money: cells(money),
        units: cells(units),
        by_theme: cells(by_theme),
        by_region: cells(by_region),
        waiting_by_country: cells(by_country),
        open_offers,
        active_projects,
        committed,
        disbursed,
        overdue_clocks,
        overdue_clocks_total,
        waiting_for_offer,
        waiting_for_offer_total,
        waiting_days: WAITING_DAYS,
    })
}
