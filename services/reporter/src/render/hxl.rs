//! The summary as one long CSV table with an HXL hashtag row under the header (Humanitarian
//! Exchange Language), so HXL tools can filter it by country, sector, funder and status. Amounts
//! are decimals in major units, without grouping, with their currency beside them.

use super::Flows;
use crate::summary::Summary;

/// Column names and their HXL hashtags.
const COLUMNS: [(&str, &str); 11] = [
    ("Section", "#meta+section"),
    ("Country", "#country+code"),
    ("Theme", "#sector+code"),
    ("Funder", "#org+funder"),
    ("Status", "#status"),
    ("Indicator", "#indicator+name"),
    ("Value", "#value"),
    ("Currency", "#currency"),
    ("Date", "#date"),
    ("Reference", "#meta+id"),
    ("Description", "#description"),
];

#[derive(Default)]
struct Row {
    section: &'static str,
    country: String,
    theme: String,
    funder: String,
    status: String,
    indicator: String,
    value: String,
    currency: String,
    date: String,
    reference: String,
    description: String,
}

impl Row {
    fn new(section: &'static str) -> Self {
        Self {
            section,
            ..Self::default()
        }
    }

    fn money(mut self, minor: i64, currency: &str) -> Self {
        self.value = super::amount(minor, currency).replace(',', "");
        self.currency = currency.to_owned();
        self
    }
}

pub(super) fn render(s: &Summary) -> Vec<u8> {
    let mut rows = Vec::new();
    for (state, counts) in &s.needs.by_state {
        for (status, n) in counts {
            rows.push(Row {
                country: state.clone(),
                status: status.clone(),
                indicator: "needs".into(),
                value: n.to_string(),
                ..Row::new("needs")
            });
        }
    }
    for t in &s.coverage {
        let base = || Row {
            theme: t.theme.clone(),
            ..Row::new("coverage")
        };
        for (indicator, totals) in [("requested", &t.requested), ("covered", &t.covered)] {
            for (currency, minor) in totals {
                rows.push(
                    Row {
                        indicator: indicator.into(),
                        ..base()
                    }
                    .money(*minor, currency),
                );
            }
        }
        for (indicator, minor) in [
            ("requested_converted", t.requested_converted),
            ("covered_converted", t.covered_converted),
        ] {
            rows.push(
                Row {
                    indicator: indicator.into(),
                    ..base()
                }
                .money(minor, &s.currency),
            );
        }
        for (indicator, p) in [
            ("money_covered_percent", t.money_percent),
            ("units_filled_percent", t.units_percent),
        ] {
            if let Some(p) = p {
                rows.push(Row {
                    indicator: indicator.into(),
                    value: p.to_string(),
                    ..base()
                });
            }
        }
        for u in &t.units {
            for (indicator, n) in [("units_size", u.size), ("units_covered", u.covered)] {
                rows.push(Row {
                    indicator: indicator.into(),
                    value: n.to_string(),
                    description: u.measure.clone(),
                    ..base()
                });
            }
        }
    }
    let converted = (!s.money.is_empty()).then_some(&s.money_converted);
    for (m, description) in s
        .money
        .iter()
        .map(|m| (m, ""))
        .chain(converted.map(|m| (m, "converted")))
    {
        let asked = [("requested", m.requested), ("offered", m.offered)];
        for (status, minor) in asked.into_iter().chain(m.named_flows()) {
            rows.push(
                Row {
                    status: status.into(),
                    indicator: "money".into(),
                    description: description.into(),
                    ..Row::new("money")
                }
                .money(minor, &m.currency),
            );
        }
    }
    for f in &s.money_by_funder {
        for (status, minor) in f.named_flows() {
            rows.push(
                Row {
                    funder: f.funder.clone(),
                    status: status.into(),
                    indicator: "money".into(),
                    description: f.name.clone(),
                    ..Row::new("money_by_funder")
                }
                .money(minor, &f.currency),
            );
        }
    }
    for m in &s.money_over_time {
        for (status, minor) in m.named_flows() {
            rows.push(
                Row {
                    status: status.into(),
                    indicator: "money_cumulative".into(),
                    date: m.month.clone(),
                    description: "converted".into(),
                    ..Row::new("money_over_time")
                }
                .money(minor, &s.currency),
            );
        }
    }
    for r in &s.recommendations.rows {
        rows.push(Row {
            country: r.member_state.clone(),
            theme: r.theme.clone(),
            indicator: "recommendations".into(),
            value: r.recommendations.to_string(),
            ..Row::new("recommendations")
        });
        if let Some(p) = r.implementation_rate_percent {
            rows.push(Row {
                country: r.member_state.clone(),
                theme: r.theme.clone(),
                indicator: "implementation_rate_percent".into(),
                value: p.to_string(),
                ..Row::new("recommendations")
            });
        }
    }
    for c in &s.overdue_clocks {
        rows.push(Row {
            country: c.member_state.clone(),
            status: "overdue".into(),
            indicator: c.clock.clone(),
            date: c.due.to_string(),
            reference: c.assessment_id.to_string(),
            description: c.title.clone(),
            ..Row::new("overdue_clock")
        });
    }
    for m in &s.late_milestones {
        rows.push(Row {
            country: m.member_state.clone(),
            theme: m.theme.clone(),
            status: m
                .done_on
                .map_or_else(|| "not_done".to_owned(), |d| format!("done {d}")),
            indicator: "late_milestone".into(),
            date: m.due.to_string(),
            reference: m.project_id.to_string(),
            description: format!("{}: {}", m.project, m.milestone),
            ..Row::new("late_milestone")
        });
    }
    match &s.overlaps.note {
        Some(note) => rows.push(Row {
            status: "unavailable".into(),
            description: note.clone(),
            ..Row::new("overlap")
        }),
        None => {
            for o in &s.overlaps.rows {
                rows.push(Row {
                    country: o.member_state.clone(),
                    theme: o.theme.clone(),
                    indicator: "overlap".into(),
                    description: format!("{}: {}", o.beneficiary_institution, o.items.join(" / ")),
                    ..Row::new("overlap")
                });
            }
        }
    }

    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; a record is always 11 fields.
    let _ = writer.write_record(COLUMNS.iter().map(|(name, _)| *name));
    let _ = writer.write_record(COLUMNS.iter().map(|(_, tag)| *tag));
    for r in rows {
        // Every text a caller typed is neutralised; `value` is a number this file wrote (it may
        // be negative, so it must keep its sign).
        let _ = writer.write_record([
            r.section,
            &neutralise(&r.country),
            &neutralise(&r.theme),
            &neutralise(&r.funder),
            &neutralise(&r.status),
            &neutralise(&r.indicator),
            &r.value,
            &neutralise(&r.currency),
            &neutralise(&r.date),
            &neutralise(&r.reference),
            &neutralise(&r.description),
        ]);
    }
    writer.into_inner().unwrap_or_default()
}

/// A cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return: OWASP's CSV-injection list) gets a leading `'`, which spreadsheets show as
/// text and do not evaluate.
fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_text() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralise(formula), format!("'{formula}"));
        }
        for text in ["UNOCT", "Kenya Police", "a=b", ""] {
            assert_eq!(neutralise(text), text);
        }
    }
}
