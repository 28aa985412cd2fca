//! The global allocation proposal: given every open need and open offer the caller may see, the
//! shares (money and units) that maximise priority-weighted coverage under every offer's
//! remaining capacity, solved as a linear programme with `microlp` (pure Rust).
//!
//! The model, per eligible (need, offer) pair and per measure the need lacks (money, units):
//! a variable `y` in `[0, 1]`, the fraction of what the need lacks in that measure that the offer
//! gives. Subject to: per need and measure, the fractions add up to at most 1 (never over-cover);
//! per offer, the money given is at most its remaining budget and the units at most its remaining
//! capacity. Maximise the sum over needs of `weight × coverage`, where coverage is the mean of the
//! covered fractions of the need's measures (as `need::fill` counts both) and the weight is 3, 2, 1
//! for priority 1, 2, 3. Coverage is a fraction, not an amount, so a small need fully met counts
//! as much as a large one fully met: the aim is needs met, not money moved.
//!
//! Floats live only inside the solver: shares are rounded down to whole minor units and units,
//! then checked in integers against every offer's remaining capacity; the reported value is
//! recomputed from those integers (in basis points of coverage).

use jiff::civil::Date;
use microlp::{ComparisonOp, OptimizationDirection, Problem as Lp};
use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::{Allocation, AllocationNeed, Assignment};
use tatrack_domain::{Money, Principal, offer};

use crate::cache::Views;
use crate::matching::{self, Loaded, Verdict};
use crate::visibility::Consent;

/// Full coverage of one measure, in basis points.
const FULL: u64 = 10_000;

/// A need's side: its weight and the measures it lacks.
#[derive(Debug, Clone)]
pub(crate) struct Demand {
    pub(crate) weight: u64,
    /// How many measures (money, units) it lacks: coverage is their mean.
    pub(crate) measures: u64,
}

/// An offer's side: what it has left, in its currency and its units.
#[derive(Debug, Clone)]
pub(crate) struct Supply {
    pub(crate) money: i64,
    pub(crate) units: u64,
}

/// An eligible pair, with what the need lacks in each measure the offer can give (money in the
/// offer's currency).
#[derive(Debug, Clone)]
pub(crate) struct Arc {
    pub(crate) demand: usize,
    pub(crate) supply: usize,
    pub(crate) money: Option<i64>,
    pub(crate) units: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Problem {
    pub(crate) demands: Vec<Demand>,
    pub(crate) supplies: Vec<Supply>,
    pub(crate) arcs: Vec<Arc>,
}

/// What one arc carries in the solution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Share {
    pub(crate) money: i64,
    pub(crate) units: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Measure {
    Money,
    Units,
}

/// The shares that maximise weighted coverage, one per arc (zero where the arc carries nothing).
pub(crate) fn solve(problem: &Problem) -> Result<Vec<Share>, String> {
    let mut lp = Lp::new(OptimizationDirection::Maximize);
    // (arc, measure, variable, what the need lacks on that arc)
    let mut vars = Vec::new();
    for (i, arc) in problem.arcs.iter().enumerate() {
        let d = &problem.demands[arc.demand];
        let s = &problem.supplies[arc.supply];
        #[allow(
            clippy::cast_precision_loss,
            reason = "the solver works in floats; shares are rounded back to integers below"
        )]
        let weight = d.weight as f64 / d.measures.max(1) as f64;
        for (measure, lack, left) in [
            (Measure::Money, arc.money.map(to_f64), to_f64(s.money)),
            (Measure::Units, arc.units.map(u_to_f64), u_to_f64(s.units)),
        ] {
            let Some(lack) = lack.filter(|l| *l > 0.0) else {
                continue;
            };
            // A fraction the offer could never fill is left out, so coefficients stay in range.
            let most = (left / lack).min(1.0);
            if most < 1e-6 {
                continue;
            }
            let v = lp.add_var(weight, (0.0, most));
            vars.push((i, measure, v, lack));
        }
    }
    // Per need and measure: at most the whole of what it lacks.
    for (d, _) in problem.demands.iter().enumerate() {
        for measure in [Measure::Money, Measure::Units] {
            let terms: Vec<_> = vars
                .iter()
                .filter(|(i, m, _, _)| *m == measure && problem.arcs[*i].demand == d)
                .map(|(_, _, v, _)| (*v, 1.0))
                .collect();
            if terms.len() > 1 {
                lp.add_constraint(terms, ComparisonOp::Le, 1.0);
            }
        }
    }
    // Per offer and measure: at most what it has left, as a fraction of it (keeps the
    // coefficients near 1 whatever the currency's size).
    for (s, supply) in problem.supplies.iter().enumerate() {
        for (measure, left) in [
            (Measure::Money, to_f64(supply.money)),
            (Measure::Units, u_to_f64(supply.units)),
        ] {
            let terms: Vec<_> = vars
                .iter()
                .filter(|(i, m, _, _)| *m == measure && problem.arcs[*i].supply == s)
                .map(|(_, _, v, lack)| (*v, lack / left))
                .collect();
            if terms.len() > 1 {
                lp.add_constraint(terms, ComparisonOp::Le, 1.0);
            }
        }
    }
    let mut shares = vec![Share::default(); problem.arcs.len()];
    if vars.is_empty() {
        return Ok(shares);
    }
    let solution = lp
        .solve()
        .map_err(|e| format!("the allocation could not be solved: {e}"))?
        .into_solution()
        .map_err(|_| "the allocation solver stopped before a solution".to_owned())?;
    // Round down, then give the units lost to rounding back where the solver wanted most of
    // one, as long as the offer has a whole one spare and the need still lacks it: otherwise
    // three arcs at 99.9 would cost a need three whole units.
    let mut remainders = Vec::new();
    for (i, measure, v, lack) in &vars {
        let exact = solution.var_value(*v).clamp(0.0, 1.0) * lack;
        let amount = exact.floor();
        match measure {
            Measure::Money => shares[*i].money = f64_to_i64(amount),
            Measure::Units => shares[*i].units = f64_to_u64(amount),
        }
        remainders.push((exact - amount, *i, *measure));
    }
    remainders.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (rest, i, measure) in remainders {
        if rest < 1e-6 {
            break;
        }
        let arc = &problem.arcs[i];
        let spare = match measure {
            Measure::Money => {
                let given: i64 = arcs_of_supply(problem, arc.supply)
                    .map(|j| shares[j].money)
                    .sum();
                problem.supplies[arc.supply].money - given >= 1
            }
            Measure::Units => {
                let given: u64 = arcs_of_supply(problem, arc.supply)
                    .map(|j| shares[j].units)
                    .sum();
                problem.supplies[arc.supply].units > given
            }
        };
        // What the need would have, as a fraction of what it lacks, with one more.
        let filled: f64 = arcs_of_demand(problem, arc.demand)
            .map(|j| {
                let a = &problem.arcs[j];
                let one = f64::from(u8::from(j == i));
                match measure {
                    Measure::Money => a
                        .money
                        .filter(|l| *l > 0)
                        .map_or(0.0, |l| (to_f64(shares[j].money) + one) / to_f64(l)),
                    Measure::Units => a
                        .units
                        .filter(|l| *l > 0)
                        .map_or(0.0, |l| (u_to_f64(shares[j].units) + one) / u_to_f64(l)),
                }
            })
            .sum();
        if spare && filled <= 1.0 + 1e-12 {
            match measure {
                Measure::Money => shares[i].money += 1,
                Measure::Units => shares[i].units += 1,
            }
        }
    }
    enforce_capacity(problem, &mut shares);
    Ok(shares)
}

fn arcs_of_supply(problem: &Problem, supply: usize) -> impl Iterator<Item = usize> + '_ {
    (0..problem.arcs.len()).filter(move |i| problem.arcs[*i].supply == supply)
}

fn arcs_of_demand(problem: &Problem, demand: usize) -> impl Iterator<Item = usize> + '_ {
    (0..problem.arcs.len()).filter(move |i| problem.arcs[*i].demand == demand)
}

/// The solver meets each constraint within a tolerance relative to the numbers involved; in
/// integers, trim the largest shares of any offer still over its capacity, and of any need
/// given more than it lacks.
fn enforce_capacity(problem: &Problem, shares: &mut [Share]) {
    for (s, supply) in problem.supplies.iter().enumerate() {
        let arcs: Vec<usize> = (0..problem.arcs.len())
            .filter(|i| problem.arcs[*i].supply == s)
            .collect();
        let mut money: i64 = arcs.iter().map(|i| shares[*i].money).sum();
        while money > supply.money {
            let Some(&big) = arcs.iter().max_by_key(|i| shares[**i].money) else {
                break;
            };
            let cut = (money - supply.money).min(shares[big].money);
            shares[big].money -= cut;
            money -= cut;
        }
        let mut units: u64 = arcs.iter().map(|i| shares[*i].units).sum();
        while units > supply.units {
            let Some(&big) = arcs.iter().max_by_key(|i| shares[**i].units) else {
                break;
            };
            let cut = (units - supply.units).min(shares[big].units);
            shares[big].units -= cut;
            units -= cut;
        }
    }
    for (i, arc) in problem.arcs.iter().enumerate() {
        shares[i].money = shares[i].money.min(arc.money.unwrap_or(0));
        shares[i].units = shares[i].units.min(arc.units.unwrap_or(0));
    }
}

/// Coverage of each need in basis points (mean over its measures, each capped at full), to the
/// nearest basis point: shares are added up exactly enough (in parts per 10^12) that two shares
/// making up the whole, 1/9 and 8/9, count as the whole.
pub(crate) fn coverage_bp(problem: &Problem, shares: &[Share]) -> Vec<u64> {
    const PARTS: u128 = 1_000_000_000_000;
    let mut money = vec![0u128; problem.demands.len()];
    let mut units = vec![0u128; problem.demands.len()];
    for (arc, share) in problem.arcs.iter().zip(shares) {
        if let Some(lack) = arc.money.filter(|l| *l > 0) {
            let part = u128::try_from(share.money).unwrap_or(0);
            money[arc.demand] += part * PARTS / u128::from(lack.unsigned_abs());
        }
        if let Some(lack) = arc.units.filter(|l| *l > 0) {
            units[arc.demand] += u128::from(share.units) * PARTS / u128::from(lack);
        }
    }
    let bp = |parts: u128| {
        let per_bp = PARTS / u128::from(FULL);
        u64::try_from((parts + per_bp / 2) / per_bp)
            .unwrap_or(FULL)
            .min(FULL)
    };
    problem
        .demands
        .iter()
        .enumerate()
        .map(|(d, demand)| (bp(money[d]) + bp(units[d])) / demand.measures.max(1))
        .collect()
}

/// The objective in integers: the sum of weight × coverage (basis points).
pub(crate) fn value_bp(problem: &Problem, shares: &[Share]) -> u64 {
    coverage_bp(problem, shares)
        .iter()
        .zip(&problem.demands)
        .map(|(c, d)| c * d.weight)
        .sum()
}

#[allow(
    clippy::cast_precision_loss,
    reason = "amounts up to 2^53 minor units are exact; beyond, the solver's answer is rounded back"
)]
fn to_f64(x: i64) -> f64 {
    x as f64
}

#[allow(clippy::cast_precision_loss, reason = "as to_f64")]
fn u_to_f64(x: u64) -> f64 {
    x as f64
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "non-negative, already floored and at most an i64 amount"
)]
fn f64_to_i64(x: f64) -> i64 {
    x.max(0.0) as i64
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "non-negative, already floored and at most a u64 quantity"
)]
fn f64_to_u64(x: f64) -> u64 {
    x.max(0.0) as u64
}

/// The weight of a need's priority: 1 (high) counts three times a 3 (low).
pub(crate) fn weight(priority: u8) -> u64 {
    match priority {
        1 => 3,
        2 => 2,
        _ => 1,
    }
}

/// `allocation_proposal`: the optimal assignment over what `principal` may see on `as_of`, for one
/// State and/or theme when asked.
pub(crate) fn allocation_proposal(
    views: &Views,
    principal: &Principal,
    consent: &Consent,
    as_of: Date,
    member_state: Option<&str>,
    theme: Option<&str>,
) -> Result<Allocation, ErrorBody> {
    let data = Loaded::load(views, principal, consent)?;
    let cx = data.context(as_of, None);
    let needs: Vec<_> = data
        .needs
        .iter()
        .filter(|n| {
            n.is_referable()
                && member_state.is_none_or(|m| m == n.member_state)
                && theme.is_none_or(|t| t == n.theme)
        })
        .filter_map(|n| {
            let (money, units) = matching::lacking(n);
            let measures = u64::from(money.is_some()) + u64::from(units.is_some());
            (measures > 0).then_some((n, measures))
        })
        .collect();
    let mut problem = Problem::default();
    for (n, measures) in &needs {
        problem.demands.push(Demand {
            weight: weight(n.priority),
            measures: *measures,
        });
    }
    for o in &data.offers {
        let (money, units) = offer::remaining(o);
        problem.supplies.push(Supply {
            money: money.map_or(0, |m| m.amount_minor),
            units: units.unwrap_or(0),
        });
    }
    for (d, (n, _)) in needs.iter().enumerate() {
        for (s, o) in data.offers.iter().enumerate() {
            if let Verdict::Eligible(scored) = matching::assess(n, o, &cx) {
                problem.arcs.push(Arc {
                    demand: d,
                    supply: s,
                    money: scored
                        .lacking_money
                        .filter(|_| scored.share_money.is_some())
                        .map(|m| m.amount_minor),
                    units: scored.lacking_units,
                });
            }
        }
    }
    let shares = solve(&problem).map_err(|e| {
        tracing::error!(error = %e, "allocation");
        ErrorBody::internal()
    })?;
    let coverage = coverage_bp(&problem, &shares);
    let mut assignments = Vec::new();
    for (arc, share) in problem.arcs.iter().zip(&shares) {
        if share.money == 0 && share.units == 0 {
            continue;
        }
        let (n, _) = needs[arc.demand];
        let o = &data.offers[arc.supply];
        let share_money = (share.money > 0).then(|| Money {
            amount_minor: share.money,
            currency: o
                .budget
                .as_ref()
                .map_or_else(String::new, |b| b.currency.clone()),
        });
        let share_units = (share.units > 0).then_some(share.units);
        assignments.push(Assignment {
            need_id: n.id,
            offer_id: o.id,
            member_state: n.member_state.clone(),
            organisation: o.organisation.clone(),
            priority: n.priority,
            referral_propose: matching::propose_body(
                n,
                o,
                share_money.as_ref(),
                share_units,
                &data.referrals,
            ),
            share_money,
            share_units,
        });
    }
    assignments.sort_by_key(|a| (a.priority, a.need_id, a.offer_id));
    let rows = needs
        .iter()
        .zip(&coverage)
        .map(|((n, _), c)| AllocationNeed {
            need_id: n.id,
            member_state: n.member_state.clone(),
            theme: n.theme.clone(),
            priority: n.priority,
            weight: weight(n.priority),
            coverage_bp: *c,
        })
        .collect();
    Ok(Allocation {
        method: "linear programme (microlp): maximise the sum of priority weight (3, 2, 1) times coverage (mean covered fraction of money and units) under every offer's remaining budget and capacity".to_owned(),
        value_bp: value_bp(&problem, &shares),
        max_value_bp: problem.demands.iter().map(|d| d.weight * FULL).sum(),
        needs: rows,
        assignments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The baseline a person would do by hand: highest priority first, and for each need the
    /// biggest offer first, taking as much as it can.
    fn greedy(problem: &Problem) -> Vec<Share> {
        let mut left: Vec<Supply> = problem.supplies.clone();
        let mut shares = vec![Share::default(); problem.arcs.len()];
        let mut order: Vec<usize> = (0..problem.demands.len()).collect();
        order.sort_by_key(|d| std::cmp::Reverse(problem.demands[*d].weight));
        for d in order {
            let mut arcs: Vec<usize> = (0..problem.arcs.len())
                .filter(|i| problem.arcs[*i].demand == d)
                .collect();
            arcs.sort_by_key(|i| {
                let s = &problem.supplies[problem.arcs[*i].supply];
                std::cmp::Reverse((s.money, s.units))
            });
            let (mut money_lacking, mut units_lacking) = (None::<i64>, None::<u64>);
            for i in arcs {
                let arc = &problem.arcs[i];
                let supply = &mut left[arc.supply];
                if let Some(lack) = arc.money {
                    let still = money_lacking.get_or_insert(lack);
                    let give = (*still).min(supply.money).max(0);
                    shares[i].money = give;
                    supply.money -= give;
                    *still -= give;
                }
                if let Some(lack) = arc.units {
                    let still = units_lacking.get_or_insert(lack);
                    let give = (*still).min(supply.units);
                    shares[i].units = give;
                    supply.units -= give;
                    *still -= give;
                }
            }
        }
        shares
    }

    fn units_only(needs: &[(u64, u64)], offers: &[u64], arcs: &[(usize, usize)]) -> Problem {
        Problem {
            demands: needs
                .iter()
                .map(|(w, _)| Demand {
                    weight: *w,
                    measures: 1,
                })
                .collect(),
            supplies: offers
                .iter()
                .map(|u| Supply {
                    money: 0,
                    units: *u,
                })
                .collect(),
            arcs: arcs
                .iter()
                .map(|(d, s)| Arc {
                    demand: *d,
                    supply: *s,
                    money: None,
                    units: Some(needs[*d].1),
                })
                .collect(),
        }
    }

    fn feasible(problem: &Problem, shares: &[Share]) {
        for (s, supply) in problem.supplies.iter().enumerate() {
            let (money, units) = problem
                .arcs
                .iter()
                .zip(shares)
                .filter(|(a, _)| a.supply == s)
                .fold((0, 0), |(m, u), (_, sh)| (m + sh.money, u + sh.units));
            assert!(money <= supply.money && units <= supply.units, "offer {s}");
        }
        for (d, _) in problem.demands.iter().enumerate() {
            let units: u64 = problem
                .arcs
                .iter()
                .zip(shares)
                .filter(|(a, _)| a.demand == d)
                .map(|(_, sh)| sh.units)
                .sum();
            let lack = problem
                .arcs
                .iter()
                .find(|a| a.demand == d)
                .and_then(|a| a.units)
                .unwrap_or(0);
            assert!(units <= lack, "need {d} over-covered");
        }
    }

    #[test]
    fn the_optimum_beats_greedy_where_the_big_offer_goes_first() {
        // A priority-1 and a priority-2 need of 100 officers each. Offer A (100) can serve both;
        // offer B (60) only the first. Greedy gives the first need all of A (the biggest) and
        // leaves the second with nothing; the optimum serves the first from B and 40 of A, the
        // second from the other 60 of A.
        let problem = units_only(
            &[(weight(1), 100), (weight(2), 100)],
            &[100, 60],
            &[(0, 0), (0, 1), (1, 0)],
        );
        let greedy = greedy(&problem);
        feasible(&problem, &greedy);
        assert_eq!(coverage_bp(&problem, &greedy), [10_000, 0]);
        assert_eq!(value_bp(&problem, &greedy), 30_000);

        let best = solve(&problem).unwrap();
        feasible(&problem, &best);
        assert_eq!(coverage_bp(&problem, &best), [10_000, 6_000]);
        assert_eq!(value_bp(&problem, &best), 42_000);
        assert_eq!(best[1].units, 60, "B goes to the first need");
        assert_eq!(best[0].units + best[2].units, 100, "A is used whole");
    }

    #[test]
    fn priority_weighs_and_money_and_units_are_both_counted() {
        // One offer of 50.00 USD and 10 units; a priority-3 need and a priority-1 need, each
        // lacking 50.00 USD and 10 units: the whole offer goes to the priority-1 need.
        let problem = Problem {
            demands: vec![
                Demand {
                    weight: weight(3),
                    measures: 2,
                },
                Demand {
                    weight: weight(1),
                    measures: 2,
                },
            ],
            supplies: vec![Supply {
                money: 5_000,
                units: 10,
            }],
            arcs: vec![
                Arc {
                    demand: 0,
                    supply: 0,
                    money: Some(5_000),
                    units: Some(10),
                },
                Arc {
                    demand: 1,
                    supply: 0,
                    money: Some(5_000),
                    units: Some(10),
                },
            ],
        };
        let best = solve(&problem).unwrap();
        assert_eq!(best[0], Share::default());
        assert_eq!(
            best[1],
            Share {
                money: 5_000,
                units: 10
            }
        );
        assert_eq!(value_bp(&problem, &best), 30_000);
    }

    #[test]
    fn the_optimum_is_feasible_and_never_below_greedy() {
        // Deterministic pseudo-random instances (a linear congruential generator: no dependency).
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % below
        };
        for _ in 0..40 {
            let needs: Vec<(u64, u64)> = (0..1 + next(6))
                .map(|_| (1 + next(3), 1 + next(500)))
                .collect();
            let offers: Vec<u64> = (0..1 + next(5)).map(|_| next(600)).collect();
            let mut arcs = Vec::new();
            for d in 0..needs.len() {
                for s in 0..offers.len() {
                    if next(3) > 0 {
                        arcs.push((d, s));
                    }
                }
            }
            let problem = units_only(&needs, &offers, &arcs);
            let best = solve(&problem).unwrap();
            feasible(&problem, &best);
            let greedy = greedy(&problem);
            feasible(&problem, &greedy);
            // Whole units: rounding may cost a need at most one of them.
            let slack: u64 = problem
                .demands
                .iter()
                .zip(&needs)
                .map(|(d, (_, lack))| d.weight * FULL.div_ceil(*lack))
                .sum();
            assert!(
                value_bp(&problem, &best) + slack >= value_bp(&problem, &greedy),
                "{problem:?}"
            );
        }
    }

    #[test]
    fn nothing_to_allocate_is_an_empty_answer() {
        let problem = units_only(&[(3, 100)], &[0], &[(0, 0)]);
        assert_eq!(solve(&problem).unwrap(), [Share::default()]);
        assert_eq!(solve(&Problem::default()).unwrap(), []);
    }
}
