//! Rendering a summary into bytes, one module per format. Pure: the same summary always gives the
//! same bytes (no clock, no ids, sorted collections), which the report's checksum then pins.

mod html;
mod hxl;
mod markdown;
mod sections;
mod svg;

use tatrack_domain::money::minor_unit_digits;
use tatrack_domain::report::ReportFormat;

use crate::summary::{FunderMoney, MoneyRow, MonthMoney, Summary};

/// The report's bytes in `format`.
pub fn render(summary: &Summary, format: ReportFormat) -> Vec<u8> {
    match format {
        ReportFormat::Markdown => markdown::render(summary).into_bytes(),
        ReportFormat::Html => html::render(summary).into_bytes(),
        ReportFormat::Csv => hxl::render(summary),
        ReportFormat::Json => {
            // Typed structs and sorted maps: field order is fixed, so the text is too.
            let mut out = serde_json::to_vec_pretty(summary).unwrap_or_default();
            out.push(b'\n');
            out
        }
    }
}

/// Minor units as a decimal amount in major units, with thousands separated:
/// `25000000, "USD"` -> `250,000.00`. Exact: integer arithmetic only.
pub(crate) fn amount(minor: i64, currency: &str) -> String {
    let digits = minor_unit_digits(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(digits);
    let (major, fraction) = (abs / scale, abs % scale);
    let major = major.to_string();
    let mut grouped = String::new();
    for (i, c) in major.chars().enumerate() {
        if i > 0 && (major.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if digits == 0 {
        format!("{sign}{grouped}")
    } else {
        format!(
            "{sign}{grouped}.{fraction:0width$}",
            width = digits as usize
        )
    }
}

/// The project money a report shows, in this order, by these names.
pub(crate) const FLOWS: [&str; 4] = ["pledged", "committed", "disbursed", "spent"];

/// Summary rows that carry project money.
pub(crate) trait Flows {
    /// The amounts of [`FLOWS`], in that order.
    fn flows(&self) -> [i64; 4];

    /// The amounts with their names.
    fn named_flows(&self) -> [(&'static str, i64); 4] {
        let amounts = self.flows();
        std::array::from_fn(|i| (FLOWS[i], amounts[i]))
    }
}

macro_rules! flows {
    ($($row:ty),+) => {
        $(impl Flows for $row {
            fn flows(&self) -> [i64; 4] {
                [self.pledged, self.committed, self.disbursed, self.spent]
            }
        })+
    };
}

flows!(MoneyRow, FunderMoney, MonthMoney);

/// `n%`, or a dash when there is nothing to divide by.
pub(crate) fn percent(p: Option<u64>) -> String {
    p.map_or_else(|| "-".to_owned(), |p| format!("{p}%"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_and_grouped() {
        assert_eq!(amount(25_000_000, "USD"), "250,000.00");
        assert_eq!(amount(-5, "EUR"), "-0.05");
        assert_eq!(amount(1_234, "JPY"), "1,234");
        assert_eq!(amount(0, "USD"), "0.00");
        assert_eq!(amount(100_000, "KWD"), "100.000");
    }
}
