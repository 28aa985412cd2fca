//! Exchange-rate tables: the one recorded, reproducible way to sum money across currencies. A table is
//! a set of rates "units of a currency per US dollar" as of a date; every table recorded is kept, so a
//! report for any past date converts with the rates that were known for it.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::money::{Money, minor_unit_digits};
use crate::validate::check_id;

/// The one exchange-rate table every conversion uses: each recording adds a dated table to it.
pub const TABLE_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0a7e);

/// Most decimal places [`Ratio::parse_decimal`] accepts (10^18 still fits an `i64`).
pub const MAX_DECIMALS: usize = 18;

/// An exact fraction, kept in lowest terms by [`Ratio::new`] and [`Ratio::parse_decimal`]; the
/// denominator is positive. Never a float, so a conversion gives the same minor units everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
}

impl Ratio {
    /// `numerator / denominator` in lowest terms; the denominator must be positive.
    pub fn new(field: &str, numerator: i64, denominator: i64) -> Result<Ratio, DomainError> {
        if denominator <= 0 {
            return Err(DomainError::invalid(
                field,
                format!("denominator must be positive, got {denominator}"),
            ));
        }
        let g = gcd(numerator.unsigned_abs(), denominator.unsigned_abs());
        // g divides both, and g >= 1 because the denominator is not 0. Dividing cannot overflow
        // except i64::MIN / 1, which is itself.
        let g = i64::try_from(g).unwrap_or(1);
        Ok(Ratio {
            numerator: numerator / g,
            denominator: denominator / g,
        })
    }

    /// Parses a plain decimal such as `"0.9215"`, `"129.5"`, `"3"` or `"-0.5"` exactly (no exponent, no
    /// thousands separator, at most [`MAX_DECIMALS`] decimal places); the error names `field`.
    pub fn parse_decimal(field: &str, text: &str) -> Result<Ratio, DomainError> {
        let bad = || DomainError::invalid(field, format!("not a decimal number: {text:?}"));
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty()
            || (digits.contains('.') && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac_part.len() > MAX_DECIMALS {
            return Err(DomainError::invalid(
                field,
                format!("at most {MAX_DECIMALS} decimal places, got {text:?}"),
            ));
        }
        let too_large = || DomainError::invalid(field, format!("too large: {text:?}"));
        let mut numerator: i64 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            numerator = numerator
                .checked_mul(10)
                .and_then(|n| n.checked_add(i64::from(b - b'0')))
                .ok_or_else(too_large)?;
        }
        let exponent = u32::try_from(frac_part.len()).map_err(|_| bad())?;
        let denominator = 10_i64.pow(exponent);
        if negative {
            numerator = -numerator;
        }
        Ratio::new(field, numerator, denominator)
    }

    /// One, the rate of the US dollar against itself.
    pub const ONE: Ratio = Ratio {
        numerator: 1,
        denominator: 1,
    };

    pub fn is_positive(self) -> bool {
        self.numerator > 0 && self.denominator > 0
    }
}

/// `"1843/2000"`.
impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// How many units (major units, as rates are published: euros, not cents) of `currency` one US dollar
/// buys on the table's date, e.g. EUR 0.9215.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rate {
    pub currency: String,
    pub per_usd: Ratio,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RateTableCommand {
    /// Records the rates as of a date. The first one creates the table; later ones add dates. A date
    /// already recorded may not be changed (recording the very same rates again is a no-op).
    Record {
        id: Uuid,
        on: Date,
        /// Each currency once; USD is implied at 1 and may not be listed.
        rates: Vec<Rate>,
    },
}

// The day the rates hold for. Tables are additive (one per date, never overwritten), so a
// table may be recorded late for an earlier date: the rule that dates never go back does
// not apply here.
command_fields!(RateTableCommand: Record);

event_enum! {
    pub enum RateTableEvent {
        RatesRecorded {
            id: Uuid,
            as_of: Date,
            rates: Vec<Rate>,
        },
    }
}

event_fields!(RateTableEvent: ; Self::RatesRecorded { as_of, .. } => *as_of);

/// Every table recorded, by date; empty means the table does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateTableState {
    pub id: Uuid,
    #[schemars(with = "BTreeMap<String, Vec<Rate>>")]
    pub tables: BTreeMap<Date, Vec<Rate>>,
}

impl RateTableState {
    /// The latest table with `as_of <= on`, with its date.
    pub fn table_on(&self, on: Date) -> Option<(Date, &[Rate])> {
        self.tables
            .range(..=on)
            .next_back()
            .map(|(d, rates)| (*d, rates.as_slice()))
    }
}

/// The decider.
pub struct RateTable;

impl Aggregate for RateTable {
    const NAME: &'static str = "rate_table";
    type State = RateTableState;
    type Command = RateTableCommand;
    type Event = RateTableEvent;

    fn decide(
        state: &RateTableState,
        command: &RateTableCommand,
    ) -> Result<Vec<RateTableEvent>, DomainError> {
        let RateTableCommand::Record {
            id,
            on: as_of,
            rates,
        } = command;
        check_id("id", *id)?;
        if !state.tables.is_empty() {
            check_target(Self::NAME, true, state.id, *id)?;
        }
        check_rates(rates)?;
        let rates: Vec<Rate> = rates
            .iter()
            .map(|r| Rate {
                currency: r.currency.clone(),
                // Lowest terms, so equal rates compare equal. Checked positive above.
                per_usd: Ratio::new("rates.per_usd", r.per_usd.numerator, r.per_usd.denominator)
                    .unwrap_or(r.per_usd),
            })
            .collect();
        if let Some(before) = state.tables.get(as_of) {
            if *before == rates {
                return Ok(vec![]);
            }
            return Err(DomainError::invalid(
                "on",
                format!("a table as of {as_of} is already recorded and is never overwritten"),
            ));
        }
        Ok(vec![RateTableEvent::RatesRecorded {
            id: *id,
            as_of: *as_of,
            rates,
        }])
    }

    fn evolve(mut state: RateTableState, event: &RateTableEvent) -> RateTableState {
        let RateTableEvent::RatesRecorded { id, as_of, rates } = event;
        state.id = *id;
        state.tables.insert(*as_of, rates.clone());
        state
    }
}

fn check_rates(rates: &[Rate]) -> Result<(), DomainError> {
    if rates.is_empty() {
        return Err(DomainError::invalid("rates", "must list at least one rate"));
    }
    for (i, rate) in rates.iter().enumerate() {
        codes::check_currency("rates.currency", &rate.currency)?;
        if rate.currency == "USD" {
            return Err(DomainError::invalid(
                "rates.currency",
                "USD is implied at 1 and may not be listed",
            ));
        }
        if rates[..i].iter().any(|r| r.currency == rate.currency) {
            return Err(DomainError::invalid(
                "rates.currency",
                format!("{} is listed twice", rate.currency),
            ));
        }
        if !rate.per_usd.is_positive() {
            return Err(DomainError::invalid(
                "rates.per_usd",
                format!(
                    "must be positive with a positive denominator, got {} for {}",
                    rate.per_usd, rate.currency
                ),
            ));
        }
    }
    Ok(())
}

/// `money` in currency `to`, with the latest table of `state` dated on or before `on`.
///
/// Rates are per major unit and `amount_minor` counts minor units, so the conversion also scales by
/// the currencies' minor-unit digits ([`minor_unit_digits`]). The arithmetic is exact (i128) and the
/// result is rounded half to even to `to`'s minor unit. Converting into the same currency returns the
/// money unchanged, with or without a table. A missing rate (or no table yet) is an error naming field
/// `currency`; a result beyond `i64` names `amount_minor`.
pub fn convert(
    money: &Money,
    to: &str,
    state: &RateTableState,
    on: Date,
) -> Result<Money, DomainError> {
    codes::check_currency("currency", to)?;
    if money.currency == to {
        return Ok(money.clone());
    }
    let Some((as_of, rates)) = state.table_on(on) else {
        return Err(DomainError::invalid(
            "currency",
            format!(
                "no exchange-rate table as of {on} to convert {} to {to}",
                money.currency
            ),
        ));
    };
    let rate_of = |currency: &str| -> Result<Ratio, DomainError> {
        if currency == "USD" {
            return Ok(Ratio::ONE);
        }
        rates
            .iter()
            .find(|r| r.currency == currency)
            .map(|r| r.per_usd)
            .ok_or_else(|| {
                DomainError::invalid(
                    "currency",
                    format!("no exchange rate for {currency} in the table as of {as_of}"),
                )
            })
    };
    let from_rate = rate_of(&money.currency)?;
    let to_rate = rate_of(to)?;
    // to_minor = from_minor / 10^from_digits / from_rate * to_rate * 10^to_digits
    let from_digits = minor_unit_digits(&money.currency);
    let to_digits = minor_unit_digits(to);
    let overflow = || DomainError::invalid("amount_minor", "conversion is too large");
    let mut numerator = i128::from(money.amount_minor)
        .checked_mul(i128::from(to_rate.numerator))
        .and_then(|n| n.checked_mul(i128::from(from_rate.denominator)))
        .ok_or_else(overflow)?;
    let mut denominator = i128::from(to_rate.denominator)
        .checked_mul(i128::from(from_rate.numerator))
        .ok_or_else(overflow)?;
    if to_digits >= from_digits {
        numerator = numerator
            .checked_mul(10_i128.pow(to_digits - from_digits))
            .ok_or_else(overflow)?;
    } else {
        denominator = denominator
            .checked_mul(10_i128.pow(from_digits - to_digits))
            .ok_or_else(overflow)?;
    }
    let amount_minor =
        i64::try_from(div_round_half_even(numerator, denominator)).map_err(|_| overflow())?;
    Ok(Money {
        amount_minor,
        currency: to.to_owned(),
    })
}

/// `numerator / denominator` rounded to the nearest integer, ties to even; `denominator > 0`.
fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator); // 0 <= remainder < denominator
    let twice = remainder * 2;
    if twice > denominator || (twice == denominator && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{assert_kinds_round_trip, given};
    use jiff::civil::date;
    use proptest::prelude::*;

    const ID: Uuid = Uuid::from_u128(0xE1);

    fn ratio(text: &str) -> Ratio {
        Ratio::parse_decimal("per_usd", text).unwrap()
    }

    fn rate(currency: &str, per_usd: &str) -> Rate {
        Rate {
            currency: currency.into(),
            per_usd: ratio(per_usd),
        }
    }

    fn record(on: Date, rates: Vec<Rate>) -> RateTableCommand {
        RateTableCommand::Record { id: ID, on, rates }
    }

    fn recorded(as_of: Date, rates: Vec<Rate>) -> RateTableEvent {
        RateTableEvent::RatesRecorded {
            id: ID,
            as_of,
            rates,
        }
    }

    fn money(amount_minor: i64, currency: &str) -> Money {
        Money::new(amount_minor, currency).unwrap()
    }

    fn table() -> RateTableState {
        crate::fold::<RateTable>(&[
            recorded(
                date(2025, 1, 1),
                vec![rate("EUR", "0.9"), rate("JPY", "150")],
            ),
            recorded(
                date(2025, 7, 1),
                vec![
                    rate("EUR", "0.9215"),
                    rate("JPY", "147.25"),
                    rate("KWD", "0.307"),
                ],
            ),
        ])
    }

    #[test]
    fn parse_decimal_is_exact() {
        assert_eq!(
            ratio("0.9215"),
            Ratio {
                numerator: 1843,
                denominator: 2000
            }
        );
        assert_eq!(ratio("3"), Ratio::ONE.scaled(3));
        assert_eq!(ratio("129.50").to_string(), "259/2");
        assert_eq!(ratio("-0.5").to_string(), "-1/2");
        assert_eq!(
            ratio("0.000000000000000001").denominator,
            1_000_000_000_000_000_000
        );
        for bad in [
            "", ".5", "1.", "1,5", "1e3", "+1", "abc", "1.2.3", " 1", "--1",
        ] {
            assert_eq!(
                Ratio::parse_decimal("per_usd", bad),
                Err(DomainError::invalid(
                    "per_usd",
                    format!("not a decimal number: {bad:?}")
                )),
                "{bad:?}"
            );
        }
        assert!(Ratio::parse_decimal("per_usd", "0.0000000000000000001").is_err());
        assert!(Ratio::parse_decimal("per_usd", "99999999999999999999").is_err());
        assert_eq!(
            Ratio::new("per_usd", 1, 0),
            Err(DomainError::invalid(
                "per_usd",
                "denominator must be positive, got 0"
            ))
        );
        assert!(Ratio::new("per_usd", 1, -2).is_err());
        assert_eq!(Ratio::new("per_usd", 6, 4).unwrap().to_string(), "3/2");
        assert_eq!(Ratio::new("per_usd", 0, 7).unwrap().to_string(), "0/1");
    }

    impl Ratio {
        fn scaled(self, by: i64) -> Ratio {
            Ratio::new("x", self.numerator * by, self.denominator).unwrap()
        }
    }

    #[test]
    fn record_keeps_every_table() {
        let first = recorded(date(2025, 1, 1), vec![rate("EUR", "0.9")]);
        let state = given::<RateTable>(&[])
            .when(record(date(2025, 1, 1), vec![rate("EUR", "0.90")]))
            .then(std::slice::from_ref(&first));
        assert_eq!(state.tables.len(), 1);
        let second = recorded(date(2024, 12, 1), vec![rate("EUR", "0.95")]);
        let state = given::<RateTable>(std::slice::from_ref(&first))
            .when(record(date(2024, 12, 1), vec![rate("EUR", "0.95")]))
            .then(std::slice::from_ref(&second));
        assert_eq!(
            state.tables.keys().copied().collect::<Vec<_>>(),
            [date(2024, 12, 1), date(2025, 1, 1)],
            "an earlier date may be recorded later"
        );
        // The same table again: nothing happened. Different rates for a recorded date: refused.
        given::<RateTable>(std::slice::from_ref(&first))
            .when(record(date(2025, 1, 1), vec![rate("EUR", "0.9")]))
            .then(&[]);
        given::<RateTable>(std::slice::from_ref(&first))
            .when(record(date(2025, 1, 1), vec![rate("EUR", "0.91")]))
            .then_invalid("on");
        given::<RateTable>(&[first])
            .when(RateTableCommand::Record {
                id: Uuid::from_u128(0xE2),
                on: date(2025, 2, 1),
                rates: vec![rate("EUR", "0.9")],
            })
            .then_invalid("id");
    }

    #[test]
    fn record_validation_names_the_field() {
        let on = date(2025, 1, 1);
        let cases: Vec<(&str, RateTableCommand)> = vec![
            ("rates", record(on, vec![])),
            ("rates.currency", record(on, vec![rate("XXY", "1")])),
            ("rates.currency", record(on, vec![rate("USD", "1")])),
            (
                "rates.currency",
                record(on, vec![rate("EUR", "0.9"), rate("EUR", "0.9")]),
            ),
            ("rates.per_usd", record(on, vec![rate("EUR", "0")])),
            ("rates.per_usd", record(on, vec![rate("EUR", "-0.9")])),
            (
                "rates.per_usd",
                record(
                    on,
                    vec![Rate {
                        currency: "EUR".into(),
                        per_usd: Ratio {
                            numerator: 9,
                            denominator: 0,
                        },
                    }],
                ),
            ),
            (
                "id",
                RateTableCommand::Record {
                    id: Uuid::nil(),
                    on,
                    rates: vec![rate("EUR", "1")],
                },
            ),
        ];
        for (field, command) in cases {
            given::<RateTable>(&[]).when(command).then_invalid(field);
        }
    }

    #[test]
    fn convert_uses_the_latest_table_on_the_date() {
        let state = table();
        // 100.00 USD -> EUR: 90.00 with the January table, 92.15 from July.
        assert_eq!(
            convert(&money(10_000, "USD"), "EUR", &state, date(2025, 6, 30)),
            Ok(money(9_000, "EUR"))
        );
        assert_eq!(
            convert(&money(10_000, "USD"), "EUR", &state, date(2025, 7, 1)),
            Ok(money(9_215, "EUR"))
        );
        // EUR -> JPY through USD, yen have no minor unit: 10.00 EUR = 10 / 0.9215 * 147.25 = 1597.94
        assert_eq!(
            convert(&money(1_000, "EUR"), "JPY", &state, date(2025, 8, 1)),
            Ok(money(1_598, "JPY"))
        );
        // KWD has 3 decimals: 1.00 USD = 0.307 KWD = 307 fils.
        assert_eq!(
            convert(&money(100, "USD"), "KWD", &state, date(2025, 8, 1)),
            Ok(money(307, "KWD"))
        );
        assert_eq!(
            convert(&money(-10_000, "USD"), "EUR", &state, date(2025, 8, 1)),
            Ok(money(-9_215, "EUR"))
        );
    }

    #[test]
    fn convert_errors_name_the_field() {
        let state = table();
        assert_eq!(
            convert(&money(100, "USD"), "GBP", &state, date(2025, 8, 1)),
            Err(DomainError::invalid(
                "currency",
                "no exchange rate for GBP in the table as of 2025-07-01"
            ))
        );
        assert_eq!(
            convert(&money(100, "KWD"), "USD", &state, date(2025, 6, 1)),
            Err(DomainError::invalid(
                "currency",
                "no exchange rate for KWD in the table as of 2025-01-01"
            ))
        );
        assert_eq!(
            convert(&money(100, "USD"), "EUR", &state, date(2024, 12, 31)),
            Err(DomainError::invalid(
                "currency",
                "no exchange-rate table as of 2024-12-31 to convert USD to EUR"
            ))
        );
        assert_eq!(
            convert(
                &money(100, "USD"),
                "EUR",
                &RateTableState::default(),
                date(2025, 1, 1)
            ),
            Err(DomainError::invalid(
                "currency",
                "no exchange-rate table as of 2025-01-01 to convert USD to EUR"
            ))
        );
        assert_eq!(
            convert(&money(100, "USD"), "XXY", &state, date(2025, 8, 1)),
            Err(DomainError::invalid(
                "currency",
                "unknown currency code \"XXY\""
            ))
        );
        assert_eq!(
            convert(&money(i64::MAX, "EUR"), "JPY", &state, date(2025, 8, 1)),
            Err(DomainError::invalid(
                "amount_minor",
                "conversion is too large"
            ))
        );
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(div_round_half_even(5, 2), 2);
        assert_eq!(div_round_half_even(7, 2), 4);
        assert_eq!(div_round_half_even(-5, 2), -2);
        assert_eq!(div_round_half_even(-7, 2), -4);
        assert_eq!(div_round_half_even(11, 4), 3);
        assert_eq!(div_round_half_even(9, 4), 2);
        assert_eq!(div_round_half_even(-9, 4), -2);
        assert_eq!(div_round_half_even(-11, 4), -3);
        assert_eq!(div_round_half_even(6, 3), 2);
        // 0.05 USD at 0.9 = 0.045 EUR -> 0.04 (4 is even).
        let state = table();
        assert_eq!(
            convert(&money(5, "USD"), "EUR", &state, date(2025, 1, 1)),
            Ok(money(4, "EUR"))
        );
        assert_eq!(
            convert(&money(15, "USD"), "EUR", &state, date(2025, 1, 1)),
            Ok(money(14, "EUR")),
            "0.135 -> 0.14"
        );
    }

    #[test]
    fn state_json_keys_tables_by_date() {
        let json = serde_json::to_value(table()).unwrap();
        assert_eq!(json["tables"]["2025-07-01"][0]["currency"], "EUR");
        assert_eq!(
            json["tables"]["2025-07-01"][0]["per_usd"],
            serde_json::json!({"numerator": 1843, "denominator": 2000})
        );
        let back: RateTableState = serde_json::from_value(json).unwrap();
        assert_eq!(back, table());
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let events = [recorded(date(2025, 1, 1), vec![rate("EUR", "0.9")])];
        assert_kinds_round_trip(&events, RateTableEvent::KINDS);
    }

    /// Currencies whose minor unit is worth at least a US cent at the generated rates (<= 1 minor unit
    /// per US cent), where a round trip through USD is within one minor unit.
    fn strong_rate() -> impl Strategy<Value = (&'static str, Ratio)> {
        (
            prop::sample::select(vec!["EUR", "GBP", "CHF", "USD"]),
            1..=1_000_000_i64,
        )
            .prop_map(|(c, n)| (c, Ratio::new("per_usd", n, 1_000_000).unwrap()))
    }

    fn state_with(currency: &str, per_usd: Ratio) -> RateTableState {
        let mut state = RateTableState::default();
        if currency != "USD" {
            state.tables.insert(
                date(2025, 1, 1),
                vec![Rate {
                    currency: currency.into(),
                    per_usd,
                }],
            );
        }
        state
    }

    proptest! {
        #[test]
        fn round_trip_through_usd_is_within_one_minor_unit(
            (currency, per_usd) in strong_rate(),
            amount in -1_000_000_000_000_i64..1_000_000_000_000,
        ) {
            let state = state_with(currency, per_usd);
            let on = date(2025, 3, 1);
            let x = money(amount, currency);
            let usd = convert(&x, "USD", &state, on).unwrap();
            let back = convert(&usd, currency, &state, on).unwrap();
            prop_assert!((back.amount_minor - amount).abs() <= 1, "{x} -> {usd} -> {back}");
        }

        /// For any rate, each rounding is at most half a minor unit, so the round trip X -> USD -> X is
        /// off by at most (r + 1) / 2 minor units of X, where r is X's minor units per US cent.
        #[test]
        fn round_trip_error_is_bounded_by_the_rate(
            currency in prop::sample::select(vec!["EUR", "JPY", "KWD", "KES"]),
            n in 1..=10_000_000_i64,
            amount in -1_000_000_000_000_i64..1_000_000_000_000,
        ) {
            let per_usd = Ratio::new("per_usd", n, 1_000).unwrap();
            let state = state_with(currency, per_usd);
            let on = date(2025, 3, 1);
            let usd = convert(&money(amount, currency), "USD", &state, on).unwrap();
            let back = convert(&usd, currency, &state, on).unwrap();
            // r = per_usd * 10^digits / 100, as a fraction r_num / r_den.
            let digits = minor_unit_digits(currency);
            let r_num = i128::from(per_usd.numerator) * 10_i128.pow(digits);
            let r_den = i128::from(per_usd.denominator) * 100;
            let diff = i128::from((back.amount_minor - amount).abs());
            prop_assert!(2 * diff * r_den <= r_num + r_den, "{amount} {currency} -> {usd} -> {back}");
        }

        #[test]
        fn same_currency_is_identity(
            currency in prop::sample::select(vec!["EUR", "JPY", "USD", "GBP"]),
            amount in any::<i64>(),
        ) {
            let x = money(amount, currency);
            prop_assert_eq!(convert(&x, currency, &table(), date(2020, 1, 1)), Ok(x.clone()));
            prop_assert_eq!(convert(&x, currency, &RateTableState::default(), date(2020, 1, 1)), Ok(x));
        }
    }
}
