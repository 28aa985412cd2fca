//! How values read on a page: money with its currency and thousands separators, countries and
//! themes by name, statuses in words.

use std::collections::BTreeMap;

use tatrack_domain::Role;
use tatrack_domain::money::{Money, minor_unit_digits};

pub(crate) fn role(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::Coordinator => "Coordinator",
        Role::Donor => "Donor or partner",
        Role::StateFocalPoint => "State focal point",
        Role::Auditor => "Auditor",
        Role::System => "System",
    }
}

/// `USD 1,250,000.50`: the currency's own number of decimals.
pub(crate) fn money(money: &Money) -> String {
    amount(money.amount_minor, &money.currency)
}

pub(crate) fn amount(amount_minor: i64, currency: &str) -> String {
    let digits = minor_unit_digits(currency);
    let scale = 10u64.pow(digits);
    let abs = amount_minor.unsigned_abs();
    let sign = if amount_minor < 0 { "-" } else { "" };
    let whole = grouped(abs / scale);
    if digits == 0 {
        format!("{currency} {sign}{whole}")
    } else {
        let cents = abs % scale;
        format!(
            "{currency} {sign}{whole}.{cents:0width$}",
            width = digits as usize
        )
    }
}

/// Totals per currency: `USD 1,000.00; EUR 50.00`, or `—` when there are none.
pub(crate) fn totals(totals: &BTreeMap<String, i64>) -> String {
    if totals.is_empty() {
        return "—".to_owned();
    }
    totals
        .iter()
        .map(|(currency, minor)| amount(*minor, currency))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `1234567` -> `1,234,567`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A country's name, or its code when the code list does not know it.
pub(crate) fn country(code: &str) -> String {
    tatrack_domain::codes::country(code).map_or_else(|| code.to_owned(), |c| c.name.clone())
}

/// A theme's name, or its code.
pub(crate) fn theme(code: &str) -> String {
    tatrack_domain::codes::theme(code).map_or_else(|| code.to_owned(), |t| t.name.clone())
}

/// `accepted_by_partner` -> `accepted by partner`.
pub(crate) fn words(slug: &str) -> String {
    slug.replace('_', " ")
}

/// A status as words, `—` when there is none.
pub(crate) fn status(status: Option<impl std::fmt::Display>) -> String {
    status.map_or_else(|| "—".to_owned(), |s| words(&s.to_string()))
}

/// Whole percent of `part` in `whole` (0 when `whole` is 0), never over 100.
pub(crate) fn percent(part: impl Into<i128>, whole: impl Into<i128>) -> u64 {
    let (part, whole) = (part.into(), whole.into());
    if whole <= 0 || part <= 0 {
        return 0;
    }
    u64::try_from((part * 100 / whole).min(100)).unwrap_or(0)
}

/// An optional date, `—` when absent.
pub(crate) fn date(date: Option<jiff::civil::Date>) -> String {
    date.map_or_else(|| "—".to_owned(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_with_its_currency_decimals_and_separators() {
        assert_eq!(amount(125_000_050, "USD"), "USD 1,250,000.50");
        assert_eq!(amount(-5, "EUR"), "EUR -0.05");
        assert_eq!(amount(1_000, "JPY"), "JPY 1,000");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        let mut t = BTreeMap::new();
        assert_eq!(totals(&t), "—");
        t.insert("USD".to_owned(), 100);
        t.insert("EUR".to_owned(), 250);
        assert_eq!(totals(&t), "EUR 2.50; USD 1.00");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(5, 0), 0);
        assert_eq!(percent(7, 5), 100);
        assert_eq!(country("KE"), "Kenya");
        assert_eq!(country("ZZ"), "ZZ");
        assert_eq!(words("accepted_by_partner"), "accepted by partner");
    }
}
