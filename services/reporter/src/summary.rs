//! The summary a report shows, computed from the gathered views. Pure: no clock, no ids, every
//! collection sorted, so the same inputs always give the same summary (and the same bytes).
//! Money stays in integer minor units per currency; a total in one currency is made only with
//! the recorded rate table, and a currency it has no rate for is listed instead of guessed.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::Serialize;
use tatrack_contract::answers::{Overlap, OverlapItem, RateRow};
use tatrack_domain::need::NeedStatus;
use tatrack_domain::offer::OfferStatus;
use tatrack_domain::project::ProjectState;
use tatrack_domain::rates::{RateTableState, convert};
use tatrack_domain::referral::ReferralStatus;
use tatrack_domain::report::ReportScope;
use tatrack_domain::{Money, Principal, Role, codes};
use uuid::Uuid;

use crate::gather::{Inputs, Overlaps};

/// The one currency totals are converted into (the rate table is per US dollar).
pub const REPORT_CURRENCY: &str = "USD";

/// IATI OrganisationRole 1: the funding organisation of a project.
const FUNDING_ROLE: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub title: String,
    pub scope: ReportScope,
    pub as_of: Date,
    /// The log positions it was made from ("known at").
    pub known_at: String,
    /// Whose view this is (role, and organisation or State): not who asked, so two people of
    /// the same standing get the same bytes.
    pub audience: String,
    pub currency: String,
    /// The date of the rate table used for every conversion (the latest on or before `as_of`).
    pub rate_table_as_of: Option<Date>,
    /// Currencies the table has no rate for: shown unconverted, left out of converted totals.
    pub unconverted_currencies: Vec<String>,
    pub needs: NeedCounts,
    pub coverage: Vec<ThemeCoverage>,
    pub money: Vec<MoneyRow>,
    pub money_converted: MoneyRow,
    pub money_by_funder: Vec<FunderMoney>,
    pub money_over_time: Vec<MonthMoney>,
    pub recommendations: Recommendations,
    pub overdue_clocks: Vec<OverdueClock>,
    pub late_milestones: Vec<LateMilestone>,
    pub overlaps: OverlapSection,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NeedCounts {
    pub total: u64,
    pub by_status: BTreeMap<String, u64>,
    /// State -> status -> needs.
    pub by_state: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitsCoverage {
    pub measure: String,
    pub size: u64,
    pub covered: u64,
}

/// Coverage of the live needs (not withdrawn or declined) of one theme.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ThemeCoverage {
    pub theme: String,
    pub name: String,
    pub needs: u64,
    pub requested: BTreeMap<String, i64>,
    pub covered: BTreeMap<String, i64>,
    pub requested_converted: i64,
    pub covered_converted: i64,
    /// Covered / requested, both converted; whole percent.
    pub money_percent: Option<u64>,
    pub units: Vec<UnitsCoverage>,
    /// The mean fill of the needs that have a size (measures differ, so sizes are not added).
    pub units_percent: Option<u64>,
}

/// Minor units of one currency: asked for by needs, offered, and moved by projects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MoneyRow {
    pub currency: String,
    pub requested: i64,
    pub offered: i64,
    pub pledged: i64,
    pub committed: i64,
    pub disbursed: i64,
    pub spent: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FunderMoney {
    pub funder: String,
    pub name: String,
    pub currency: String,
    pub pledged: i64,
    pub committed: i64,
    pub disbursed: i64,
    pub spent: i64,
}

/// Cumulative project money at the end of a month, converted into the report currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthMoney {
    pub month: String,
    pub pledged: i64,
    pub committed: i64,
    pub disbursed: i64,
    pub spent: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recommendations {
    pub rows: Vec<RateRow>,
    pub recommendations: u64,
    pub implemented: u64,
    pub partially_implemented: u64,
    pub superseded: u64,
    /// Implemented counts 1, partially implemented 1/2, of those not superseded.
    pub implementation_rate_percent: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueClock {
    pub assessment_id: Uuid,
    pub member_state: String,
    pub title: String,
    /// `observations` (30 days after the draft) or `response` (6 months after adoption).
    pub clock: String,
    pub due: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateMilestone {
    pub project_id: Uuid,
    pub member_state: String,
    pub theme: String,
    pub project: String,
    pub milestone: String,
    pub due: Date,
    pub done_on: Option<Date>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OverlapSection {
    pub available: bool,
    pub note: Option<String>,
    pub rows: Vec<OverlapRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OverlapRow {
    pub member_state: String,
    pub theme: String,
    pub beneficiary_institution: String,
    /// The two items that overlap, each as `<kind> <id>` (with its dates when given).
    pub items: Vec<String>,
}

/// Whose view a principal gets.
pub fn audience(principal: &Principal) -> String {
    match principal.role {
        Role::Donor => format!("donor {}", principal.organisation.as_deref().unwrap_or("?")),
        Role::StateFocalPoint => format!(
            "state_focal_point {}",
            principal.member_state.as_deref().unwrap_or("?")
        ),
        role => role.to_string(),
    }
}

/// The scope's filters as predicates.
struct Filter<'a> {
    scope: &'a ReportScope,
    donor_needs: BTreeSet<Uuid>,
    donor_countries: BTreeSet<String>,
}

impl Filter<'_> {
    fn country(&self, cc: &str) -> bool {
        self.scope.member_state.as_ref().is_none_or(|m| m == cc)
            && self
                .scope
                .region
                .as_ref()
                .is_none_or(|r| codes::regions_of(cc).contains(&r.as_str()))
    }

    fn theme(&self, theme: &str) -> bool {
        self.scope.theme.as_ref().is_none_or(|t| t == theme)
    }

    fn project(&self, p: &ProjectState) -> bool {
        self.country(&p.recipient_country)
            && self.theme(&p.theme)
            && self
                .scope
                .donor
                .as_ref()
                .is_none_or(|d| p.participating.iter().any(|x| x.organisation == *d))
    }
}

fn add(map: &mut BTreeMap<String, i64>, money: &Money) {
    let total = map.entry(money.currency.clone()).or_insert(0);
    *total = total.saturating_add(money.amount_minor);
}

fn add_totals(map: &mut BTreeMap<String, i64>, totals: &tatrack_domain::Totals) {
    for (currency, amount) in totals.iter() {
        let total = map.entry(currency.to_owned()).or_insert(0);
        *total = total.saturating_add(amount);
    }
}

/// Converts per-currency totals into the report currency and adds them up; a currency without a
/// rate is left out and noted. Each currency's total is converted once, so rounding happens once.
fn converted(
    totals: &BTreeMap<String, i64>,
    table: &RateTableState,
    as_of: Date,
    unconverted: &mut BTreeSet<String>,
) -> i64 {
    let mut sum: i64 = 0;
    for (currency, amount) in totals {
        let money = Money {
            amount_minor: *amount,
            currency: currency.clone(),
        };
        match convert(&money, REPORT_CURRENCY, table, as_of) {
            Ok(m) => sum = sum.saturating_add(m.amount_minor),
            Err(_) => {
                unconverted.insert(currency.clone());
            }
        }
    }
    sum
}

fn percent(part: i64, whole: i64) -> Option<u64> {
    (whole > 0).then(|| {
        u64::try_from((i128::from(part.max(0)) * 100 / i128::from(whole)).min(i128::from(i64::MAX)))
            .unwrap_or(0)
    })
}

fn is_live(status: Option<NeedStatus>) -> bool {
    !matches!(
        status,
        Some(NeedStatus::Withdrawn | NeedStatus::Declined) | None
    )
}

/// Builds the summary of `inputs` for `scope`, as of `as_of`, as `principal` sees it.
pub fn build(scope: &ReportScope, as_of: Date, principal: &Principal, inputs: &Inputs) -> Summary {
    // With a donor: the needs its referrals (not declined or lapsed) or projects serve, and the
    // countries of those needs and projects.
    let mut donor_needs = BTreeSet::new();
    let mut donor_countries = BTreeSet::new();
    if let Some(donor) = &scope.donor {
        for r in &inputs.referrals {
            if r.organisation == *donor
                && !matches!(
                    r.status,
                    Some(ReferralStatus::Declined | ReferralStatus::Lapsed)
                )
            {
                donor_needs.insert(r.need_id);
                donor_countries.insert(r.member_state.clone());
            }
        }
        for p in &inputs.projects {
            if p.state
                .participating
                .iter()
                .any(|x| x.organisation == *donor)
            {
                donor_needs.extend(p.state.needs.iter().copied());
                donor_countries.insert(p.state.recipient_country.clone());
            }
        }
    }
    let filter = Filter {
        scope,
        donor_needs,
        donor_countries,
    };
    let table = inputs
        .rate_tables
        .iter()
        .find(|t| !t.tables.is_empty())
        .cloned()
        .unwrap_or_default();
    let mut unconverted = BTreeSet::new();

    // Needs by status and State; coverage by theme.
    let mut needs = NeedCounts::default();
    let mut themes: BTreeMap<String, ThemeCoverage> = BTreeMap::new();
    let mut fills: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut requested: BTreeMap<String, i64> = BTreeMap::new();
    for n in &inputs.needs {
        if !(filter.country(&n.member_state)
            && filter.theme(&n.theme)
            && (scope.donor.is_none() || filter.donor_needs.contains(&n.id)))
        {
            continue;
        }
        let status = n
            .status
            .map_or_else(|| "unknown".to_owned(), |s| s.to_string());
        needs.total += 1;
        *needs.by_status.entry(status.clone()).or_insert(0) += 1;
        *needs
            .by_state
            .entry(n.member_state.clone())
            .or_default()
            .entry(status)
            .or_insert(0) += 1;
        if !is_live(n.status) {
            continue;
        }
        let theme = themes
            .entry(n.theme.clone())
            .or_insert_with(|| ThemeCoverage {
                theme: n.theme.clone(),
                name: codes::theme(&n.theme).map_or_else(String::new, |t| t.name.clone()),
                ..ThemeCoverage::default()
            });
        theme.needs += 1;
        if let Some(cost) = &n.estimated_cost {
            add(&mut theme.requested, cost);
            add(&mut requested, cost);
        }
        if let Some(covered) = &n.covered_money {
            add(&mut theme.covered, covered);
        }
        if let Some(size) = &n.size {
            let covered = n.covered_units.unwrap_or(0);
            match theme.units.iter_mut().find(|u| u.measure == size.measure) {
                Some(u) => {
                    u.size += size.quantity;
                    u.covered += covered;
                }
                None => theme.units.push(UnitsCoverage {
                    measure: size.measure.clone(),
                    size: size.quantity,
                    covered,
                }),
            }
            if let Some(part) = (covered.min(size.quantity) * 100).checked_div(size.quantity) {
                let fill = fills.entry(n.theme.clone()).or_insert((0, 0));
                fill.0 += part;
                fill.1 += 1;
            }
        }
    }
    let coverage: Vec<ThemeCoverage> = themes
        .into_values()
        .map(|mut t| {
            t.requested_converted = converted(&t.requested, &table, as_of, &mut unconverted);
            t.covered_converted = converted(&t.covered, &table, as_of, &mut unconverted);
            t.money_percent = percent(t.covered_converted, t.requested_converted);
            t.units.sort_by(|a, b| a.measure.cmp(&b.measure));
            t.units_percent = fills
                .get(&t.theme)
                .and_then(|(sum, n)| (*n > 0).then(|| sum / n));
            t
        })
        .collect();

    // Offers in scope: what is offered, per currency.
    let mut offered: BTreeMap<String, i64> = BTreeMap::new();
    for o in &inputs.offers {
        let o = &o.state;
        let live = matches!(
            o.status,
            Some(OfferStatus::Open | OfferStatus::PartiallyCommitted | OfferStatus::Committed)
        );
        let countries_ok = (scope.member_state.is_none() && scope.region.is_none())
            || o.countries.iter().any(|c| filter.country(c))
            || scope.region.as_ref().is_some_and(|r| o.regions.contains(r));
        if live
            && countries_ok
            && (scope.theme.is_none() || o.themes.iter().any(|t| filter.theme(t)))
            && scope.donor.as_ref().is_none_or(|d| *d == o.organisation)
            && let Some(budget) = &o.budget
        {
            add(&mut offered, budget);
        }
    }

    // Projects in scope: money by status, by funder and over time; late milestones.
    let names: BTreeMap<&str, &str> = inputs
        .organisations
        .iter()
        .map(|o| (o.id.as_str(), o.name.as_str()))
        .collect();
    let mut pledged = BTreeMap::new();
    let mut committed = BTreeMap::new();
    let mut disbursed = BTreeMap::new();
    let mut spent = BTreeMap::new();
    let mut by_funder: BTreeMap<(String, String), FunderMoney> = BTreeMap::new();
    // month -> kind -> currency -> amount moved in that month.
    let mut monthly: BTreeMap<String, BTreeMap<&'static str, BTreeMap<String, i64>>> =
        BTreeMap::new();
    let mut late_milestones = Vec::new();
    for p in &inputs.projects {
        let state = &p.state;
        if !filter.project(state) {
            continue;
        }
        add_totals(&mut pledged, &state.pledged);
        add_totals(&mut committed, &state.committed);
        add_totals(&mut disbursed, &state.disbursed);
        add_totals(&mut spent, &state.expended);
        let mut funders: Vec<&str> = state
            .participating
            .iter()
            .filter(|x| x.role == FUNDING_ROLE)
            .map(|x| x.organisation.as_str())
            .collect();
        if let Some(d) = &scope.donor {
            funders.retain(|f| f == d);
        }
        funders.sort_unstable();
        funders.dedup();
        for funder in funders {
            for (kind, totals) in [
                (0, &state.pledged),
                (1, &state.committed),
                (2, &state.disbursed),
                (3, &state.expended),
            ] {
                for (currency, amount) in totals.iter() {
                    let row = by_funder
                        .entry((funder.to_owned(), currency.to_owned()))
                        .or_insert_with(|| FunderMoney {
                            funder: funder.to_owned(),
                            name: names
                                .get(funder)
                                .map_or_else(String::new, |n| (*n).to_owned()),
                            currency: currency.to_owned(),
                            ..FunderMoney::default()
                        });
                    let slot = match kind {
                        0 => &mut row.pledged,
                        1 => &mut row.committed,
                        2 => &mut row.disbursed,
                        _ => &mut row.spent,
                    };
                    *slot = slot.saturating_add(amount);
                }
            }
        }
        for t in &state.transactions {
            if t.date > as_of {
                continue;
            }
            let month = format!("{:04}-{:02}", t.date.year(), t.date.month());
            let kind = match t.kind.as_str() {
                "pledge" => "pledged",
                "commitment" => "committed",
                "disbursement" => "disbursed",
                _ => "spent",
            };
            add(
                monthly.entry(month).or_default().entry(kind).or_default(),
                &t.value,
            );
        }
        for m in &p.late_milestones {
            late_milestones.push(LateMilestone {
                project_id: state.id,
                member_state: state.recipient_country.clone(),
                theme: state.theme.clone(),
                project: state.title.clone(),
                milestone: m.title.clone(),
                due: m.due,
                done_on: m.done_on,
            });
        }
    }
    late_milestones.sort_by(|a, b| {
        (a.due, a.project_id, &a.milestone).cmp(&(b.due, b.project_id, &b.milestone))
    });
    let mut running: BTreeMap<&'static str, BTreeMap<String, i64>> = BTreeMap::new();
    let mut money_over_time = Vec::new();
    for (month, kinds) in monthly {
        for (kind, totals) in kinds {
            let into = running.entry(kind).or_default();
            for (currency, amount) in totals {
                let total = into.entry(currency).or_insert(0);
                *total = total.saturating_add(amount);
            }
        }
        let mut at = |kind: &str| {
            running
                .get(kind)
                .map_or(0, |t| converted(t, &table, as_of, &mut unconverted))
        };
        money_over_time.push(MonthMoney {
            month,
            pledged: at("pledged"),
            committed: at("committed"),
            disbursed: at("disbursed"),
            spent: at("spent"),
        });
    }

    let currencies: BTreeSet<&String> = [
        &requested, &offered, &pledged, &committed, &disbursed, &spent,
    ]
    .into_iter()
    .flat_map(BTreeMap::keys)
    .collect();
    let get = |m: &BTreeMap<String, i64>, c: &str| m.get(c).copied().unwrap_or(0);
    let money: Vec<MoneyRow> = currencies
        .into_iter()
        .map(|c| MoneyRow {
            currency: c.clone(),
            requested: get(&requested, c),
            offered: get(&offered, c),
            pledged: get(&pledged, c),
            committed: get(&committed, c),
            disbursed: get(&disbursed, c),
            spent: get(&spent, c),
        })
        .collect();
    let money_converted = MoneyRow {
        currency: REPORT_CURRENCY.to_owned(),
        requested: converted(&requested, &table, as_of, &mut unconverted),
        offered: converted(&offered, &table, as_of, &mut unconverted),
        pledged: converted(&pledged, &table, as_of, &mut unconverted),
        committed: converted(&committed, &table, as_of, &mut unconverted),
        disbursed: converted(&disbursed, &table, as_of, &mut unconverted),
        spent: converted(&spent, &table, as_of, &mut unconverted),
    };

    // Recommendations: the read model's rows per State and theme, within the scope.
    let donor_pairs: BTreeSet<(String, String)> = inputs
        .needs
        .iter()
        .filter(|n| filter.donor_needs.contains(&n.id))
        .map(|n| (n.member_state.clone(), n.theme.clone()))
        .chain(
            inputs
                .projects
                .iter()
                .filter(|p| filter.project(&p.state))
                .map(|p| (p.state.recipient_country.clone(), p.state.theme.clone())),
        )
        .collect();
    let mut recommendations = Recommendations::default();
    for row in &inputs.rates {
        if filter.country(&row.member_state)
            && filter.theme(&row.theme)
            && (scope.donor.is_none()
                || donor_pairs.contains(&(row.member_state.clone(), row.theme.clone())))
        {
            recommendations.recommendations += row.recommendations;
            recommendations.implemented += row.implemented;
            recommendations.partially_implemented += row.partially_implemented;
            recommendations.superseded += row.superseded;
            recommendations.rows.push(row.clone());
        }
    }
    recommendations
        .rows
        .sort_by(|a, b| (&a.member_state, &a.theme).cmp(&(&b.member_state, &b.theme)));
    let counted = recommendations.recommendations - recommendations.superseded;
    recommendations.implementation_rate_percent = (counted > 0).then(|| {
        (200 * recommendations.implemented + 100 * recommendations.partially_implemented)
            / (2 * counted)
    });

    // Overdue clocks: per assessment, which is not themed; a donor scope keeps its countries.
    let mut overdue_clocks = Vec::new();
    for a in &inputs.assessments {
        let s = &a.state;
        if !filter.country(&s.member_state)
            || (scope.donor.is_some() && !filter.donor_countries.contains(&s.member_state))
        {
            continue;
        }
        for (clock, overdue, due) in [
            (
                "observations",
                a.clocks.observations_overdue,
                a.clocks.observations_due,
            ),
            ("response", a.clocks.response_overdue, a.clocks.response_due),
        ] {
            if let (true, Some(due)) = (overdue, due) {
                overdue_clocks.push(OverdueClock {
                    assessment_id: s.id,
                    member_state: s.member_state.clone(),
                    title: s.title.clone(),
                    clock: clock.to_owned(),
                    due,
                });
            }
        }
    }
    overdue_clocks.sort_by(|a, b| {
        (a.due, a.assessment_id, &a.clock).cmp(&(b.due, b.assessment_id, &b.clock))
    });

    let overlaps = match &inputs.overlaps {
        Overlaps::Unavailable(note) => OverlapSection {
            available: false,
            note: Some(note.clone()),
            rows: Vec::new(),
        },
        Overlaps::Rows(rows) => {
            let mut out: Vec<OverlapRow> = rows
                .iter()
                .map(overlap_row)
                .filter(|r| {
                    filter.country(&r.member_state)
                        && filter.theme(&r.theme)
                        && scope
                            .donor
                            .as_ref()
                            .is_none_or(|d| r.items.iter().any(|i| i.contains(d.as_str())))
                })
                .collect();
            out.sort();
            OverlapSection {
                available: true,
                note: None,
                rows: out,
            }
        }
    };

    Summary {
        title: format!("tatrack summary as of {as_of} ({})", scope.label()),
        scope: scope.clone(),
        as_of,
        known_at: inputs.known.text.clone(),
        audience: audience(principal),
        currency: REPORT_CURRENCY.to_owned(),
        rate_table_as_of: table.table_on(as_of).map(|(d, _)| d),
        unconverted_currencies: unconverted.into_iter().collect(),
        needs,
        coverage,
        money,
        money_converted,
        money_by_funder: by_funder.into_values().collect(),
        money_over_time,
        recommendations,
        overdue_clocks,
        late_milestones,
        overlaps,
    }
}

/// One overlap alert as the read model lists it: State, theme and beneficiary, and its two items,
/// each described by kind, id, organisation and dates (`from..until`, when it has either).
fn overlap_row(row: &Overlap) -> OverlapRow {
    let describe = |item: &OverlapItem| {
        let mut parts = vec![
            item.kind.clone(),
            item.id.to_string(),
            item.organisation.clone(),
        ];
        if item.from.is_some() || item.until.is_some() {
            let day = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
            parts.push(format!("{}..{}", day(item.from), day(item.until)));
        }
        parts.join(" ")
    };
    let mut items: Vec<String> = row.items.iter().map(describe).collect();
    items.sort();
    OverlapRow {
        member_state: row.member_state.clone(),
        theme: row.theme.clone(),
        beneficiary_institution: row.beneficiary_institution.clone().unwrap_or_default(),
        items,
    }
}
