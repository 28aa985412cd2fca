//! Two charts drawn by hand as inline SVG (no chart crate): coverage by theme as bars, and project
//! money by status over time as lines. Coordinates are integers, so the text never depends on
//! float formatting.

use std::fmt::Write as _;

use super::html::escape;
use super::{FLOWS, Flows};
use crate::summary::{MonthMoney, ThemeCoverage};

const WIDTH: i64 = 640;
const LEFT: i64 = 200;
const BAR_WIDTH: i64 = 400;
const ROW: i64 = 34;

/// The opening tag of a chart `height` high, labelled for screen readers.
fn open(height: i64, label: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{label}">"#
    )
}

/// Two bars per theme: money covered and units filled, as percentages (capped at the chart's
/// edge; the table beside it gives the true figure).
pub(super) fn coverage_by_theme(themes: &[ThemeCoverage]) -> String {
    let height = 30 + ROW * i64::try_from(themes.len()).unwrap_or(0) + 20;
    let mut out = open(height, "Coverage of needs by theme");
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="14" font-size="11"><tspan fill="#2b6cb0">■ money covered</tspan> <tspan fill="#38a169">■ units filled</tspan></text>"##
    );
    for (i, t) in themes.iter().enumerate() {
        let y = 24 + ROW * i64::try_from(i).unwrap_or(0);
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
            LEFT - 8,
            y + 18,
            escape(&t.theme)
        );
        for (row, value, colour) in [
            (0, t.money_percent, "#2b6cb0"),
            (1, t.units_percent, "#38a169"),
        ] {
            let w = value.map_or(0, |p| {
                i64::try_from(p.min(100)).unwrap_or(0) * BAR_WIDTH / 100
            });
            let by = y + 2 + row * 14;
            let _ = write!(
                out,
                r##"<rect x="{LEFT}" y="{by}" width="{BAR_WIDTH}" height="12" fill="#edf2f7"/><rect x="{LEFT}" y="{by}" width="{w}" height="12" fill="{colour}"/><text x="{}" y="{}" font-size="10">{}</text>"##,
                LEFT + BAR_WIDTH + 6,
                by + 10,
                value.map_or_else(|| "-".to_owned(), |p| format!("{p}%"))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The colour of each line of the money chart, in the order of [`FLOWS`].
const FLOW_COLOURS: [&str; 4] = ["#805ad5", "#2b6cb0", "#dd6b20", "#38a169"];

/// Cumulative pledged, committed, disbursed and spent per month, one line each.
pub(super) fn money_over_time(months: &[MonthMoney], currency: &str) -> String {
    const HEIGHT: i64 = 260;
    const TOP: i64 = 30;
    const BOTTOM: i64 = 220;
    const X0: i64 = 70;
    const X1: i64 = 620;
    let mut out = open(HEIGHT, "Money by status over time");
    let _ = write!(
        out,
        r##"<line x1="{X0}" y1="{BOTTOM}" x2="{X1}" y2="{BOTTOM}" stroke="#4a5568"/><line x1="{X0}" y1="{TOP}" x2="{X0}" y2="{BOTTOM}" stroke="#4a5568"/>"##
    );
    let max = months
        .iter()
        .flat_map(Flows::flows)
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text><text x="{}" y="{}" font-size="10" text-anchor="end">0</text>"#,
        X0 - 4,
        TOP + 4,
        escape(&format!("{} {currency}", super::amount(max, currency))),
        X0 - 4,
        BOTTOM + 4
    );
    let n = i64::try_from(months.len()).unwrap_or(0);
    let x = |i: i64| {
        if n <= 1 {
            (X0 + X1) / 2
        } else {
            X0 + (X1 - X0) * i / (n - 1)
        }
    };
    let y = |v: i64| {
        let v = i128::from(v.max(0));
        let span = i128::from(BOTTOM - TOP);
        BOTTOM - i64::try_from(v * span / i128::from(max)).unwrap_or(0)
    };
    for (i, m) in months.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
            x(i),
            BOTTOM + 14,
            escape(&m.month)
        );
    }
    for (k, (name, colour)) in FLOWS.iter().zip(FLOW_COLOURS).enumerate() {
        let points: Vec<String> = months
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{},{}", x(i64::try_from(i).unwrap_or(0)), y(m.flows()[k])))
            .collect();
        if points.len() > 1 {
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
        }
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                out,
                r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#
            );
        }
        let lx = X0 + 10 + 130 * i64::try_from(k).unwrap_or(0);
        let _ = write!(
            out,
            r#"<text x="{lx}" y="16" font-size="11" fill="{colour}">■ {name}</text>"#
        );
    }
    out.push_str("</svg>");
    out
}
