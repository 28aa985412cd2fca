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
use tatrack_contract::answers::{CoverageCell, Overview};
use tatrack_contract::bus::View;
use tatrack_domain::Role;

use crate::app::App;
use crate::problem::Problem;
use crate::web::chart::{self, Bar};
use crate::web::{Chrome, Viewer, error_page, format, map, render};

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
    pub(crate) unmet: u64,
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
    clocks_total: u64,
    waiting: Vec<WaitingRow>,
    waiting_total: u64,
    waiting_days: u64,
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

async fn overview(app: &App, viewer: &Viewer, asked: &AsOf) -> Result<OverviewPage, Problem> {
    let as_of = asked.date()?;
    // Totalled in the read model over what this person may see: the lists it sums would not
    // fit in one answer at scale.
    let o: Overview = viewer
        .view(app, View::OverviewShow, with_as_of(json!({}), as_of))
        .await?;
    let per_currency = |pick: fn(&CoverageCell) -> i64| {
        let t: BTreeMap<String, i64> = o.money.iter().map(|c| (c.key.clone(), pick(c))).collect();
        format::totals(&t)
    };
    let units_text = |pick: fn(&CoverageCell) -> i64| {
        if o.units.is_empty() {
            return "—".to_owned();
        }
        o.units
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    format::grouped(u64::try_from(pick(c)).unwrap_or(0)),
                    c.key
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let figures = vec![
        Figure {
            label: "Open needs",
            value: format::grouped(o.open_needs),
        },
        Figure {
            label: "Needs waiting for coverage",
            value: format::grouped(o.waiting_needs),
        },
        Figure {
            label: "Estimated cost of open needs",
            value: per_currency(|c| c.estimated),
        },
        Figure {
            label: "Covered money",
            value: per_currency(|c| c.covered),
        },
        Figure {
            label: "Unmet money",
            value: per_currency(|c| c.estimated - c.covered),
        },
        Figure {
            label: "Covered units",
            value: units_text(|c| c.covered),
        },
        Figure {
            label: "Unmet units",
            value: units_text(|c| c.estimated - c.covered),
        },
        Figure {
            label: "Offers open",
            value: format::grouped(o.open_offers),
        },
        Figure {
            label: "Active projects",
            value: format::grouped(o.active_projects),
        },
        Figure {
            label: "Committed",
            value: format::totals(o.committed.as_map()),
        },
        Figure {
            label: "Disbursed",
            value: format::totals(o.disbursed.as_map()),
        },
    ];

    let coverage_rows = |cells: &[CoverageCell], name: fn(&str) -> String| {
        cells
            .iter()
            .map(|c| {
                let currency = c.currency.as_deref().unwrap_or_default();
                CoverageRow {
                    label: format!("{} ({currency})", name(&c.key)),
                    estimated: format::amount(c.estimated, currency),
                    covered: format::amount(c.covered, currency),
                    unmet: format::amount(c.estimated - c.covered, currency),
                    percent: format::percent(c.covered, c.estimated),
                }
            })
            .collect::<Vec<_>>()
    };
    let bars = |rows: &[CoverageRow], cells: &[CoverageCell]| {
        rows.iter()
            .zip(cells)
            .map(|(row, c)| Bar {
                label: row.label.clone(),
                covered: u64::try_from(c.covered).unwrap_or(0),
                total: u64::try_from(c.estimated).unwrap_or(0),
                caption: format!("{}%", row.percent),
            })
            .collect::<Vec<_>>()
    };
    let theme_rows = coverage_rows(&o.by_theme, format::theme);
    let region_rows = coverage_rows(&o.by_region, region_name);
    let by_theme_chart = chart::coverage_bars(
        "by-theme",
        "Coverage of open needs' estimated cost by theme",
        &bars(&theme_rows, &o.by_theme),
    );
    let by_region_chart = chart::coverage_bars(
        "by-region",
        "Coverage of open needs' estimated cost by region",
        &bars(&region_rows, &o.by_region),
    );
    let values: Vec<(String, u64)> = o
        .waiting_by_country
        .iter()
        .map(|c| (c.key.clone(), u64::try_from(c.estimated).unwrap_or(0)))
        .collect();
    let unmet_map = map::choropleth(
        "unmet-map",
        "Needs waiting for coverage, by country",
        "needs waiting",
        &values,
        format::country,
    );
    let mut by_country: Vec<CountryRow> = values
        .iter()
        .map(|(c, n)| CountryRow {
            country: format::country(c),
            unmet: *n,
        })
        .collect();
    by_country.sort_by(|a, b| b.unmet.cmp(&a.unmet).then(a.country.cmp(&b.country)));

    // Only the roles that read assessments (staff, auditors, a State's focal point) have clocks.
    let clocks = matches!(
        viewer.principal.role,
        Role::Admin | Role::Coordinator | Role::Auditor | Role::StateFocalPoint
    )
    .then(|| {
        o.overdue_clocks
            .iter()
            .map(|c| ClockRow {
                title: c.title.clone(),
                country: format::country(&c.member_state),
                clock: if c.clock == "observations" {
                    "State's observations"
                } else {
                    "State's response"
                },
                due: c.due.to_string(),
            })
            .collect()
    });
    let waiting = o
        .waiting_for_offer
        .iter()
        .map(|n| WaitingRow {
            id: n.id.to_string(),
            description: n.description.clone(),
            country: format::country(&n.member_state),
            theme: format::theme(&n.theme),
            agreed_on: n.agreed_on.to_string(),
        })
        .collect();

    Ok(OverviewPage {
        chrome: None,
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        day: o.day.to_string(),
        figures,
        by_theme_chart,
        by_theme: theme_rows,
        by_region_chart,
        by_region: region_rows,
        unmet_map,
        disclaimer: map::DISCLAIMER,
        by_country,
        clocks,
        clocks_total: o.overdue_clocks_total,
        waiting,
        waiting_total: o.waiting_for_offer_total,
        waiting_days: o.waiting_days,
    })
}

/// A DAC region's name, or its code.
fn region_name(code: &str) -> String {
    tatrack_domain::codes::region(code).map_or_else(|| code.to_owned(), |r| r.name.clone())
}
