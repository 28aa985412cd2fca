//! The summary as titled sections of text and tables, which the Markdown and HTML renderers
//! both lay out, so the two formats can never disagree about what a report says.

use std::collections::BTreeMap;

use super::{Flows, amount, percent};
use crate::summary::Summary;

pub(super) struct Section {
    /// 2 for a section, 3 for a subsection.
    pub level: u8,
    pub title: String,
    pub lines: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Which chart (if any) belongs under this title in formats that draw.
    pub chart: Option<Chart>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Chart {
    CoverageByTheme,
    MoneyOverTime,
}

fn section(level: u8, title: &str) -> Section {
    Section {
        level,
        title: title.to_owned(),
        lines: Vec::new(),
        header: Vec::new(),
        rows: Vec::new(),
        chart: None,
    }
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The project money of a row as table cells, pledged to spent.
fn flow_amounts<'a>(row: &impl Flows, currency: &'a str) -> impl Iterator<Item = String> + 'a {
    row.flows()
        .into_iter()
        .map(move |minor| amount(minor, currency))
}

fn per_currency(m: &BTreeMap<String, i64>) -> String {
    m.iter()
        .map(|(c, a)| format!("{} {c}", amount(*a, c)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Lines said before the first section.
pub(super) fn preamble(s: &Summary) -> Vec<String> {
    let mut lines = vec![
        format!(
            "As of: {} (business date), as known at {} (log positions; make it again with these to get the same bytes)",
            s.as_of, s.known_at
        ),
        format!("Scope: {}", s.scope.label()),
        format!("Audience: {}", s.audience),
        format!(
            "Converted into {} with the rate table as of {}",
            s.currency,
            s.rate_table_as_of
                .map_or_else(|| "(none recorded)".to_owned(), |d| d.to_string())
        ),
    ];
    if !s.unconverted_currencies.is_empty() {
        lines.push(format!(
            "No recorded rate for: {} (shown unconverted, left out of converted totals)",
            s.unconverted_currencies.join(", ")
        ));
    }
    lines
}

pub(super) fn sections(s: &Summary) -> Vec<Section> {
    let mut out = Vec::new();

    let mut needs = section(2, "Needs by status");
    needs
        .lines
        .push(format!("{} needs in scope.", s.needs.total));
    let statuses: Vec<&String> = s.needs.by_status.keys().collect();
    needs.header = std::iter::once("State".to_owned())
        .chain(statuses.iter().map(|k| (*k).clone()))
        .collect();
    needs.rows = s
        .needs
        .by_state
        .iter()
        .map(|(state, counts)| {
            std::iter::once(state.clone())
                .chain(
                    statuses
                        .iter()
                        .map(|k| counts.get(*k).copied().unwrap_or(0).to_string()),
                )
                .collect()
        })
        .collect();
    out.push(needs);

    let mut coverage = section(2, "Coverage by theme");
    coverage.chart = Some(Chart::CoverageByTheme);
    coverage.header = header(&[
        "Theme",
        "Needs",
        "Requested",
        "Covered",
        "Money covered",
        "Units covered",
        "Units filled",
    ]);
    coverage.rows = s
        .coverage
        .iter()
        .map(|t| {
            vec![
                format!("{} {}", t.theme, t.name),
                t.needs.to_string(),
                per_currency(&t.requested),
                per_currency(&t.covered),
                percent(t.money_percent),
                t.units
                    .iter()
                    .map(|u| format!("{}/{} {}", u.covered, u.size, u.measure))
                    .collect::<Vec<_>>()
                    .join("; "),
                percent(t.units_percent),
            ]
        })
        .collect();
    out.push(coverage);

    let mut money = section(
        2,
        "Money: requested, offered, pledged, committed, disbursed, spent",
    );
    money.header = header(&[
        "Currency",
        "Requested",
        "Offered",
        "Pledged",
        "Committed",
        "Disbursed",
        "Spent",
    ]);
    if !s.money.is_empty() {
        for (i, m) in s
            .money
            .iter()
            .chain(std::iter::once(&s.money_converted))
            .enumerate()
        {
            let c = &m.currency;
            let label = if i == s.money.len() {
                format!("all in {c} (converted)")
            } else {
                c.clone()
            };
            let asked = [m.requested, m.offered].map(|minor| amount(minor, c));
            money.rows.push(
                std::iter::once(label)
                    .chain(asked)
                    .chain(flow_amounts(m, c))
                    .collect(),
            );
        }
    }
    out.push(money);

    let mut funders = section(3, "By funder");
    funders.header = header(&[
        "Funder",
        "Currency",
        "Pledged",
        "Committed",
        "Disbursed",
        "Spent",
    ]);
    funders.rows = s
        .money_by_funder
        .iter()
        .map(|f| {
            let c = &f.currency;
            [format!("{} {}", f.funder, f.name), c.clone()]
                .into_iter()
                .chain(flow_amounts(f, c))
                .collect()
        })
        .collect();
    out.push(funders);

    let mut time = section(
        3,
        &format!("Over time (cumulative, in {}, converted)", s.currency),
    );
    time.chart = Some(Chart::MoneyOverTime);
    time.header = header(&["Month", "Pledged", "Committed", "Disbursed", "Spent"]);
    time.rows = s
        .money_over_time
        .iter()
        .map(|m| {
            std::iter::once(m.month.clone())
                .chain(flow_amounts(m, &s.currency))
                .collect()
        })
        .collect();
    out.push(time);

    let r = &s.recommendations;
    let mut recs = section(2, "Recommendation implementation");
    recs.lines.push(format!(
        "{} recommendations, {} implemented, {} partially implemented, {} superseded: implementation rate {}.",
        r.recommendations,
        r.implemented,
        r.partially_implemented,
        r.superseded,
        percent(r.implementation_rate_percent)
    ));
    recs.header = header(&[
        "State",
        "Theme",
        "Recommendations",
        "Open",
        "Implemented",
        "Partially",
        "Not implemented",
        "Superseded",
        "Rate",
    ]);
    recs.rows = r
        .rows
        .iter()
        .map(|row| {
            vec![
                row.member_state.clone(),
                row.theme.clone(),
                row.recommendations.to_string(),
                row.open.to_string(),
                row.implemented.to_string(),
                row.partially_implemented.to_string(),
                row.not_implemented.to_string(),
                row.superseded.to_string(),
                percent(row.implementation_rate_percent),
            ]
        })
        .collect();
    out.push(recs);

    let mut clocks = section(2, "Overdue clocks");
    clocks.header = header(&["State", "Assessment", "Clock", "Due", "Id"]);
    clocks.rows = s
        .overdue_clocks
        .iter()
        .map(|c| {
            vec![
                c.member_state.clone(),
                c.title.clone(),
                c.clock.clone(),
                c.due.to_string(),
                c.assessment_id.to_string(),
            ]
        })
        .collect();
    out.push(clocks);

    let mut late = section(2, "Late milestones");
    late.header = header(&["State", "Project", "Milestone", "Due", "Done"]);
    late.rows = s
        .late_milestones
        .iter()
        .map(|m| {
            vec![
                m.member_state.clone(),
                m.project.clone(),
                m.milestone.clone(),
                m.due.to_string(),
                m.done_on
                    .map_or_else(|| "not done".to_owned(), |d| d.to_string()),
            ]
        })
        .collect();
    out.push(late);

    let mut overlaps = section(2, "Overlap alerts");
    if let Some(note) = &s.overlaps.note {
        overlaps.lines.push(format!("Not available: {note}."));
    } else {
        overlaps.header = header(&["State", "Theme", "Beneficiary", "Overlapping items"]);
        overlaps.rows = s
            .overlaps
            .rows
            .iter()
            .map(|o| {
                vec![
                    o.member_state.clone(),
                    o.theme.clone(),
                    o.beneficiary_institution.clone(),
                    o.items.join(" / "),
                ]
            })
            .collect();
    }
    out.push(overlaps);
    out
}
