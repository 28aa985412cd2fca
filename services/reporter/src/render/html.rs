//! The summary as one self-contained HTML page: the same sections as the Markdown, with the two
//! SVG charts inline (no script, no external style or font).

use std::fmt::Write as _;

use super::sections::{Chart, preamble, sections};
use super::svg;
use crate::summary::Summary;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#1a202c}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
th,td{border:1px solid #cbd5e0;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#edf2f7}svg{display:block;margin:0.5em 0}";

/// Text safe in HTML content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(s: &Summary) -> String {
    let mut out = String::new();
    let title = escape(&s.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<ul>\n"
    );
    for line in preamble(s) {
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n");
    for section in sections(s) {
        let level = section.level;
        let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(&section.title));
        for line in &section.lines {
            let _ = writeln!(out, "<p>{}</p>", escape(line));
        }
        match section.chart {
            Some(Chart::CoverageByTheme) if !s.coverage.is_empty() => {
                out.push_str(&svg::coverage_by_theme(&s.coverage));
                out.push('\n');
            }
            Some(Chart::MoneyOverTime) if !s.money_over_time.is_empty() => {
                out.push_str(&svg::money_over_time(&s.money_over_time, &s.currency));
                out.push('\n');
            }
            _ => {}
        }
        if section.header.is_empty() {
            continue;
        }
        if section.rows.is_empty() {
            out.push_str("<p>None.</p>\n");
            continue;
        }
        out.push_str("<table>\n<tr>");
        for h in &section.header {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr>\n");
        for row in &section.rows {
            out.push_str("<tr>");
            for c in row {
                let _ = write!(out, "<td>{}</td>", escape(c));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}
