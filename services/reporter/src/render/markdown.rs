//! The summary as Markdown: one section per part, GitHub-style tables.

use std::fmt::Write as _;

use super::sections::{preamble, sections};
use crate::summary::Summary;

/// Text safe inside a table cell: pipes and line breaks would end the cell early, and HTML
/// (which Markdown passes through to whoever renders it) is escaped, so a name a caller typed
/// stays text.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

pub(super) fn render(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", cell(&s.title));
    for line in preamble(s) {
        let _ = writeln!(out, "- {}", cell(&line));
    }
    out.push('\n');
    for section in sections(s) {
        let hashes = "#".repeat(usize::from(section.level));
        let _ = writeln!(out, "{hashes} {}\n", cell(&section.title));
        for line in &section.lines {
            let _ = writeln!(out, "{}\n", cell(line));
        }
        if section.header.is_empty() {
            continue;
        }
        if section.rows.is_empty() {
            out.push_str("None.\n\n");
            continue;
        }
        let header: Vec<String> = section.header.iter().map(|h| cell(h)).collect();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        for row in &section.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn html_a_caller_typed_stays_text() {
        assert_eq!(
            cell("<img src=x onerror=alert(1)> & | co"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; \\| co"
        );
    }
}
