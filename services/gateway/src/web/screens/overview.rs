//! The overview: open needs and their coverage in money and units, open offers, active
//! projects and their money, coverage by theme and by region as bars (each with its table), a
//! map of unmet needs by country, overdue clocks and needs that have waited 90 days for an offer.
//! Every figure comes from views asked as the signed-in person, so a role sees the totals of
//! what it may see and nothing else.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};
use tatrack_contract::answers::{AssessmentView, OfferView, ProjectView};
use tatrack_contract::bus::View;
use tatrack_domain::need::{NeedState, NeedStatus};
use tatrack_domain::offer::OfferStatus;
use tatrack_domain::referral::ReferralState;

use crate::app::App;
use crate::problem::Problem;
use crate::web::chart::{self, Bar};
use crate::web::{Chrome, Viewer, error_page, format, map, render};

/// How long an agreed need may wait without any referral before the overview lists it.
pub(crate) const WAITING_DAYS: i64 = 90;

#[derive(Deserialize, Default)]
pub(crate) struct AsOf {
    pub(crate) as_of: Option<String>,
}

impl AsOf {
    /// The business date asked for, checked (a bad one is named like the API names it).
    pub(crate) fn date(&self) -> Result<Option<Date>, Problem> {
        match self
            .as_of
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(text) => text
                .parse::<Date>()
                .map(Some)
                .map_err(|_| Problem::invalid("as_of", "must be a date like 2026-03-31")),
        }
    }
}

/// The `as_of` parameter of a view's query, when one was asked for.
pub(crate) fn with_as_of(mut params: Value, as_of: Option<Date>) -> Value {
    if let (Some(day), Value::Object(map)) = (as_of, &mut params) {
        map.insert("as_of".into(), json!(day.to_string()));
    }
    params
}

pub(crate) struct Figure {
    pub(crate) label: &'static str,
    pub(crate) value: String,
}

pub(crate) struct CoverageRow {
    pub(crate) label: String,
    pub(crate) estimated: String,
    pub(crate) covered: String,
    pub(crate) unmet: String,
    pub(crate) percent: u64,
}

pub(crate) struct CountryRow {
    pub(crate) country: String,
    pub(crate) unmet: usize,
}

pub(crate) struct ClockRow {
    pub(crate) title: String,
    pub(crate) country: String,
    pub(crate) clock: &'static str,
    pub(crate) due: String,
}

pub(crate) struct WaitingRow {
    pub(crate) id: String,
    pub(crate) description: String,
    pub(crate) country: String,
    pub(crate) theme: String,
    pub(crate) agreed_on: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Option<Chrome>,
    as_of: String,
    day: String,
    figures: Vec<Figure>,
    by_theme_chart: String,
    by_theme: Vec<CoverageRow>,
    by_region_chart: String,
    by_region: Vec<CoverageRow>,
    unmet_map: String,
    disclaimer: &'static str,
    by_country: Vec<CountryRow>,
    clocks: Option<Vec<ClockRow>>,
    waiting: Vec<WaitingRow>,
    waiting_days: i64,
}

pub(crate) async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<AsOf>,
) -> Response {
    let chrome = viewer.chrome("/");
    match overview(&app, &viewer, &asked).await {
        Ok(mut page) => {
            page.chrome = Some(chrome);
            render(&page)
        }
        Err(problem) => error_page(&problem, Some(chrome)),
    }
}

/// Totals per currency of (estimated, covered) money.
type MoneyTotals = BTreeMap<String, (i64, i64)>;

fn add_money(totals: &mut MoneyTotals, need: &NeedState) {
    if let Some(cost) = &need.estimated_cost {
        let entry = totals.entry(cost.currency.clone()).or_default();
        entry.0 = entry.0.saturating_add(cost.amount_minor);
        if let Some(covered) = &need.covered_money {
            entry.1 = entry
                .1
                .saturating_add(covered.amount_minor.min(cost.amount_minor));
        }
    }
}

/// Whether a need is still open: neither met, withdrawn nor declined.
fn is_open(need: &NeedState) -> bool {
    need.status.is_some_and(|s| !s.is_final())
}

/// Whether a need waits for coverage: agreed with the State and not yet covered.
fn is_unmet(need: &NeedState) -> bool {
    matches!(
        need.status,
        Some(NeedStatus::AgreedWithState | NeedStatus::PartiallyCovered)
    )
}

async fn overview(app: &App, viewer: &Viewer, asked: &AsOf) -> Result<OverviewPage, Problem> {
    let as_of = asked.date()?;
    let day = as_of.unwrap_or_else(|| app.today());
    let params = || with_as_of(json!({}), as_of);
    let needs: Vec<NeedState> = viewer.view(app, View::NeedList, params()).await?;
    let offers: Vec<OfferView> = viewer.view(app, View::OfferList, params()).await?;
    let open_offers = offers
        .iter()
        .filter(|o| {
            matches!(
                o.state.status,
                Some(OfferStatus::Open | OfferStatus::PartiallyCommitted)
            )
        })
        .count();
    let projects: Vec<ProjectView> = viewer.view(app, View::ProjectList, params()).await?;
    let referrals: Vec<ReferralState> = viewer.view(app, View::ReferralList, params()).await?;
    // Assessments are not every role's to read: a role refused them has no clocks section.
    let assessments: Option<Vec<AssessmentView>> =
        match viewer.view(app, View::AssessmentList, params()).await {
            Ok(list) => Some(list),
            Err(p) if p.status == axum::http::StatusCode::FORBIDDEN => None,
            Err(p) => return Err(p),
        };

    let open: Vec<&NeedState> = needs.iter().filter(|n| is_open(n)).collect();
    let mut money = MoneyTotals::new();
    let mut units: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut by_theme: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut by_region: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut unmet_by_country: BTreeMap<String, usize> = BTreeMap::new();
    for need in &open {
        add_money(&mut money, need);
        if let Some(size) = &need.size {
            let entry = units.entry(size.measure.clone()).or_default();
            entry.0 = entry.0.saturating_add(size.quantity);
            entry.1 = entry
                .1
                .saturating_add(need.covered_units.unwrap_or(0).min(size.quantity));
        }
        if let Some(cost) = &need.estimated_cost {
            let covered = need
                .covered_money
                .as_ref()
                .map_or(0, |c| c.amount_minor.min(cost.amount_minor));
            for key in [
                Some((need.theme.clone(), cost.currency.clone())),
                tatrack_domain::codes::regions_of(&need.member_state)
                    .first()
                    .map(|r| ((*r).to_owned(), cost.currency.clone())),
            ]
            .into_iter()
            .enumerate()
            {
                let (which, Some(key)) = key else { continue };
                let table = if which == 0 {
                    &mut by_theme
                } else {
                    &mut by_region
                };
                let entry = table.entry(key).or_default();
                entry.0 = entry.0.saturating_add(cost.amount_minor);
                entry.1 = entry.1.saturating_add(covered);
            }
        }
        if is_unmet(need) {
            *unmet_by_country
                .entry(need.member_state.clone())
                .or_default() += 1;
        }
    }

    let money_text = |pick: fn(&(i64, i64)) -> i64| {
        let t: BTreeMap<String, i64> = money.iter().map(|(c, v)| (c.clone(), pick(v))).collect();
        format::totals(&t)
    };
    let units_text = |pick: fn(&(u64, u64)) -> u64| {
        if units.is_empty() {
            return "—".to_owned();
        }
        units
            .iter()
            .map(|(m, v)| format!("{} {m}", format::grouped(pick(v))))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut committed = BTreeMap::new();
    let mut disbursed = BTreeMap::new();
    for p in &projects {
        for (currency, minor) in p.state.committed.iter() {
            *committed.entry(currency.to_owned()).or_insert(0i64) += minor;
        }
        for (currency, minor) in p.state.disbursed.iter() {
            *disbursed.entry(currency.to_owned()).or_insert(0i64) += minor;
        }
    }
    let active_projects = projects
        .iter()
        .filter(|p| p.state.status.is_some_and(|s| s.to_string() == "2"))
        .count();
    let figures = vec![
        Figure {
            label: "Open needs",
            value: format::grouped(open.len() as u64),
        },
        Figure {
            label: "Needs waiting for coverage",
            value: format::grouped(open.iter().filter(|n| is_unmet(n)).count() as u64),
        },
        Figure {
            label: "Estimated cost of open needs",
            value: money_text(|v| v.0),
        },
        Figure {
            label: "Covered money",
            value: money_text(|v| v.1),
        },
        Figure {
            label: "Unmet money",
            value: money_text(|v| v.0 - v.1),
        },
        Figure {
            label: "Covered units",
            value: units_text(|v| v.1),
        },
        Figure {
            label: "Unmet units",
            value: units_text(|v| v.0 - v.1),
        },
        Figure {
            label: "Offers open",
            value: format::grouped(open_offers as u64),
        },
        Figure {
            label: "Active projects",
            value: format::grouped(active_projects as u64),
        },
        Figure {
            label: "Committed",
            value: format::totals(&committed),
        },
        Figure {
            label: "Disbursed",
            value: format::totals(&disbursed),
        },
    ];

    let coverage_rows = |table: &BTreeMap<(String, String), (i64, i64)>,
                         name: fn(&str) -> String| {
        table
            .iter()
            .map(|((key, currency), (estimated, covered))| CoverageRow {
                label: format!("{} ({currency})", name(key)),
                estimated: format::amount(*estimated, currency),
                covered: format::amount(*covered, currency),
                unmet: format::amount(estimated - covered, currency),
                percent: format::percent(*covered, *estimated),
            })
            .collect::<Vec<_>>()
    };
    let bars = |rows: &[CoverageRow], table: &BTreeMap<(String, String), (i64, i64)>| {
        rows.iter()
            .zip(table.values())
            .map(|(row, (estimated, covered))| Bar {
                label: row.label.clone(),
                covered: u64::try_from(*covered).unwrap_or(0),
                total: u64::try_from(*estimated).unwrap_or(0),
                caption: format!("{}%", row.percent),
            })
            .collect::<Vec<_>>()
    };
    let theme_rows = coverage_rows(&by_theme, format::theme);
    let region_rows = coverage_rows(&by_region, region_name);
    let by_theme_chart = chart::coverage_bars(
        "by-theme",
        "Coverage of open needs' estimated cost by theme",
        &bars(&theme_rows, &by_theme),
    );
    let by_region_chart = chart::coverage_bars(
        "by-region",
        "Coverage of open needs' estimated cost by region",
        &bars(&region_rows, &by_region),
    );
    let values: Vec<(String, u64)> = unmet_by_country
        .iter()
        .map(|(c, n)| (c.clone(), *n as u64))
        .collect();
    let unmet_map = map::choropleth(
        "unmet-map",
        "Needs waiting for coverage, by country",
        "needs waiting",
        &values,
        format::country,
    );
    let mut by_country: Vec<CountryRow> = unmet_by_country
        .iter()
        .map(|(c, n)| CountryRow {
            country: format::country(c),
            unmet: *n,
        })
        .collect();
    by_country.sort_by(|a, b| b.unmet.cmp(&a.unmet).then(a.country.cmp(&b.country)));

    let clocks = assessments.map(|list| {
        let mut rows = Vec::new();
        for a in &list {
            for (overdue, clock, due) in [
                (
                    a.clocks.observations_overdue,
                    "State's observations",
                    a.clocks.observations_due,
                ),
                (
                    a.clocks.response_overdue,
                    "State's response",
                    a.clocks.response_due,
                ),
            ] {
                if overdue {
                    rows.push(ClockRow {
                        title: a.state.title.clone(),
                        country: format::country(&a.state.member_state),
                        clock,
                        due: format::date(due),
                    });
                }
            }
        }
        rows
    });

    let cutoff = day.saturating_sub(jiff::Span::new().days(WAITING_DAYS));
    let waiting = open
        .iter()
        .filter(|n| is_unmet(n))
        .filter(|n| n.agreed_on.is_some_and(|d| d <= cutoff))
        .filter(|n| !referrals.iter().any(|r| r.need_id == n.id))
        .map(|n| WaitingRow {
            id: n.id.to_string(),
            description: n.description.clone(),
            country: format::country(&n.member_state),
            theme: format::theme(&n.theme),
            agreed_on: format::date(n.agreed_on),
        })
        .collect();

    Ok(OverviewPage {
        chrome: None,
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        day: day.to_string(),
        figures,
        by_theme_chart,
        by_theme: theme_rows,
        by_region_chart,
        by_region: region_rows,
        unmet_map,
        disclaimer: map::DISCLAIMER,
        by_country,
        clocks,
        waiting,
        waiting_days: WAITING_DAYS,
    })
}

/// A DAC region's name, or its code.
fn region_name(code: &str) -> String {
    tatrack_domain::codes::region(code).map_or_else(|| code.to_owned(), |r| r.name.clone())
}
