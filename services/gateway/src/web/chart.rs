//! Horizontal bar charts for the web console, written as SVG text (no chart crate, no script).
//!
//! The console's Content-Security-Policy is `default-src 'self'`, which blocks inline styles, so
//! everything here is drawn with presentation attributes (`fill`, `font-size`, ...) and never a
//! `style` attribute or element. Coordinates are integers, so the same data gives the same bytes.

use std::fmt::Write as _;

/// One bar: `covered` of `total` (both in the same unit), labelled.
pub struct Bar {
    pub label: String,
    pub covered: u64,
    pub total: u64,
    /// What to print at the bar's end, e.g. "USD 120,000 of 400,000 (30%)".
    pub caption: String,
}

/// Darker blue for the covered part: 7:1 against white.
const COVERED: &str = "#1f5f8b";
/// Pale blue for what is not yet covered; the outline, not the fill, carries the 3:1 contrast
/// that non-text graphics need, so the bar's full extent stays visible.
const REMAINING: &str = "#d6e4ef";
const REMAINING_OUTLINE: &str = "#5b7f9c";
const TEXT: &str = "#1a1a1a";

/// The narrowest the drawing gets; wider text columns widen it instead of clipping the text.
const WIDTH: u64 = 640;
const ROW: u64 = 28;
const BAR_HEIGHT: u64 = 18;
/// Room above the first bar for the key.
const TOP: u64 = 26;
const FONT_SIZE: u64 = 12;
/// A generous average advance of one character at [`FONT_SIZE`]: SVG text cannot be measured
/// on the server, and a column a little too wide beats a clipped caption.
const CHAR_WIDTH: u64 = 8;
/// Labels longer than this are cut (the full label stays in the row's `<title>`).
const LABEL_CHARS: usize = 30;
const MIN_BAR_WIDTH: u64 = 240;
const GAP: u64 = 8;

/// A chart of bars, each split into covered and not yet covered, each as wide as the chart at
/// its own total.
///
/// A bar covered past its total is drawn full; its caption says by how much.
pub fn coverage_bars(id: &str, title: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return no_data(id, title);
    }
    let labels: Vec<String> = bars
        .iter()
        .map(|b| shorten(&b.label, LABEL_CHARS))
        .collect();
    let label_column = GAP + text_width(labels.iter().map(String::as_str)).max(40) + GAP;
    let caption_column = GAP + text_width(bars.iter().map(|b| b.caption.as_str()));
    let bar_width = WIDTH
        .saturating_sub(label_column + caption_column)
        .max(MIN_BAR_WIDTH);
    let width = label_column + bar_width + caption_column;
    let rows = u64::try_from(bars.len()).unwrap_or(u64::MAX);
    let height = TOP + ROW * rows;
    // Each bar is its own total's full width: the bars of one chart may count different
    // currencies or units (money next to people trained), which share no scale. A bar shows the
    // share covered; the table beside the chart gives the amounts.
    let scale = |amount: u64, total: u64| -> u64 {
        let scaled = u128::from(amount) * u128::from(bar_width) / u128::from(total.max(1));
        u64::try_from(scaled).unwrap_or(bar_width)
    };

    let mut out = open(id, title, width, height);
    key(&mut out, label_column);
    for (row, (bar, label)) in (0..).zip(bars.iter().zip(&labels)) {
        let y = TOP + ROW * row;
        let bar_y = y + (ROW - BAR_HEIGHT) / 2;
        let text_y = y + ROW / 2 + FONT_SIZE * 4 / 10;
        let total = if bar.total == 0 { 0 } else { bar_width };
        let covered = scale(bar.covered.min(bar.total), bar.total);
        let _ = write!(
            out,
            r#"<g><title>{full}: {caption}</title><text x="{label_x}" y="{text_y}" text-anchor="end">{label}</text><rect x="{label_column}" y="{bar_y}" width="{total}" height="{BAR_HEIGHT}" fill="{REMAINING}" stroke="{REMAINING_OUTLINE}"/><rect x="{label_column}" y="{bar_y}" width="{covered}" height="{BAR_HEIGHT}" fill="{COVERED}"/><text x="{caption_x}" y="{text_y}">{caption}</text></g>"#,
            full = escape(&bar.label),
            caption = escape(&bar.caption),
            label_x = label_column - GAP,
            label = escape(label),
            caption_x = label_column + bar_width + GAP,
        );
    }
    out.push_str("</svg>");
    out
}

/// The opening tag and the accessible name: `aria-labelledby` points at the `<title>`, which
/// screen readers announce for `role="img"`. No `width`: the `viewBox` lets the page's stylesheet
/// size the chart to its column.
fn open(id: &str, title: &str, width: u64, height: u64) -> String {
    let id = escape(id);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title" font-family="system-ui, sans-serif" font-size="{FONT_SIZE}" fill="{TEXT}"><title id="{id}-title">{title}</title>"#,
        title = escape(title),
    )
}

/// What the two colours mean, above the bars.
fn key(out: &mut String, x: u64) {
    let _ = write!(
        out,
        r#"<rect x="{x}" y="6" width="12" height="12" fill="{COVERED}"/><text x="{}" y="16">covered</text><rect x="{}" y="6" width="12" height="12" fill="{REMAINING}" stroke="{REMAINING_OUTLINE}"/><text x="{}" y="16">not yet covered</text>"#,
        x + 16,
        x + 90,
        x + 106,
    );
}

/// A small chart that says there is nothing to draw, so the page keeps its shape.
fn no_data(id: &str, title: &str) -> String {
    let mut out = open(id, title, WIDTH, 40);
    let _ = write!(
        out,
        r#"<text x="{}" y="24" text-anchor="middle">no data</text></svg>"#,
        WIDTH / 2
    );
    out
}

/// The estimated width of the widest of `texts`.
fn text_width<'a>(texts: impl Iterator<Item = &'a str>) -> u64 {
    let chars = texts.map(|t| t.chars().count()).max().unwrap_or(0);
    u64::try_from(chars).unwrap_or(u64::MAX / CHAR_WIDTH) * CHAR_WIDTH
}

/// `text` cut to at most `max` characters, the last one an ellipsis when anything was cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let short: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", short.trim_end())
}

/// `text` made safe inside an SVG (XML) element or a quoted attribute.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, covered: u64, total: u64) -> Bar {
        Bar {
            label: label.to_owned(),
            covered,
            total,
            caption: format!("{covered} of {total}"),
        }
    }

    fn sample() -> Vec<Bar> {
        vec![
            Bar {
                label: "Health".to_owned(),
                covered: 120_000,
                total: 400_000,
                caption: "USD 120,000 of 400,000 (30%)".to_owned(),
            },
            Bar {
                label: "Water, sanitation & hygiene".to_owned(),
                covered: 50_000,
                total: 100_000,
                caption: "USD 50,000 of 100,000 (50%)".to_owned(),
            },
            Bar {
                label: "Shelter".to_owned(),
                covered: 0,
                total: 250_000,
                caption: "USD 0 of 250,000 (0%)".to_owned(),
            },
        ]
    }

    /// The `width` of every `<rect` after the two of the key, in order.
    fn bar_widths(svg: &str) -> Vec<u64> {
        svg.split("<rect")
            .skip(3)
            .map(|rect| {
                let width = rect.split("width=\"").nth(1).unwrap();
                width[..width.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn each_bar_is_two_rects_after_the_key() {
        let svg = coverage_bars("needs", "Coverage", &sample());
        assert_eq!(svg.matches("<rect").count(), 2 + 2 * 3);
        assert_eq!(svg.matches("<g>").count(), 3);
    }

    #[test]
    fn each_bar_is_scaled_to_its_own_total() {
        // Different units (USD next to people trained) share no scale: a small total is as
        // wide as a large one, and the covered part is its share.
        let svg = coverage_bars(
            "c",
            "t",
            &[
                bar("a", 1, 4),
                bar("b", 2, 2),
                bar("c", 9, 0),
                bar("d", 1, 1_000_000),
            ],
        );
        let widths = bar_widths(&svg);
        let full = widths[0];
        // Total, covered for each bar; the over-covered empty bar draws nothing.
        assert_eq!(
            widths,
            vec![full, full / 4, full, full, 0, 0, full, full / 1_000_000]
        );
    }

    #[test]
    fn is_accessible_and_uses_no_inline_style() {
        let svg = coverage_bars("needs", "Coverage of needs", &sample());
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="needs-title""#));
        assert!(svg.contains(r#"<title id="needs-title">Coverage of needs</title>"#));
        assert!(!svg.contains("style"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = coverage_bars(
            "x\"y",
            "<b>",
            &[Bar {
                label: "<script>alert('x')</script>".to_owned(),
                covered: 1,
                total: 2,
                caption: "A & B".to_owned(),
            }],
        );
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)"));
        assert!(svg.contains("A &amp; B"));
        assert!(svg.contains(r#"aria-labelledby="x&quot;y-title""#));
    }

    #[test]
    fn long_labels_are_cut_but_kept_in_the_title() {
        let long = "Emergency telecommunications and logistics";
        let svg = coverage_bars("c", "t", &[bar(long, 1, 2)]);
        assert!(svg.contains(&format!("<title>{long}: 1 of 2</title>")));
        assert!(svg.contains(">Emergency telecommunications…</text>"));
    }

    #[test]
    fn no_bars_says_no_data() {
        let svg = coverage_bars("c", "Coverage", &[]);
        assert!(svg.contains("no data"));
        assert!(svg.contains(r#"<title id="c-title">Coverage</title>"#));
        assert!(!svg.contains("<rect"));
    }

    #[test]
    fn output_is_deterministic_and_has_no_fractions() {
        let svg = coverage_bars("c", "t", &sample());
        assert_eq!(svg, coverage_bars("c", "t", &sample()));
        let numbers = svg.split('"').filter(|v| v.parse::<f64>().is_ok());
        assert!(numbers.clone().count() > 10);
        assert!(numbers.into_iter().all(|v| !v.contains('.')));
    }

    #[test]
    fn small_chart_snapshot() {
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            // One element a line, so a change shows as a readable diff.
            let svg = coverage_bars("needs", "Coverage of needs by theme", &sample());
            insta::assert_snapshot!("chart_coverage_bars", svg.replace("><", ">\n<"));
        });
    }
}
