//! `Money`: integer minor units plus an ISO 4217 currency. Never floats, never mixed currencies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes;
use crate::error::DomainError;

/// An amount in minor units (cents) of one currency.
///
/// Sums across currencies are refused here: converting needs an explicit, recorded exchange-rate table,
/// so that every report can be reproduced.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

impl Money {
    /// Money in a known, current currency (the error names field `currency`).
    pub fn new(amount_minor: i64, currency: &str) -> Result<Money, DomainError> {
        codes::check_currency("currency", currency)?;
        Ok(Money {
            amount_minor,
            currency: currency.to_owned(),
        })
    }

    /// The sum, refused when the currencies differ or the amount would overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, DomainError> {
        self.combine(other, "add", "to", i64::checked_add, "sum")
    }

    /// The difference, refused when the currencies differ or the amount would overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, DomainError> {
        self.combine(other, "subtract", "from", i64::checked_sub, "difference")
    }

    /// `op` on the amounts of one currency; the errors say `cannot <verb> <other> <preposition>
    /// <self>` and `<result> is too large`.
    fn combine(
        &self,
        other: &Money,
        verb: &str,
        preposition: &str,
        op: fn(i64, i64) -> Option<i64>,
        result: &str,
    ) -> Result<Money, DomainError> {
        if self.currency != other.currency {
            return Err(DomainError::invalid(
                "currency",
                format!(
                    "cannot {verb} {} {preposition} {} without an exchange rate",
                    other.currency, self.currency
                ),
            ));
        }
        let amount_minor = op(self.amount_minor, other.amount_minor).ok_or_else(|| {
            DomainError::invalid("amount_minor", format!("{result} is too large"))
        })?;
        Ok(Money {
            amount_minor,
            currency: self.currency.clone(),
        })
    }

    pub fn is_positive(&self) -> bool {
        self.amount_minor > 0
    }

    /// Zero of a currency, the start of a sum.
    pub fn zero(currency: &str) -> Result<Money, DomainError> {
        Money::new(0, currency)
    }
}

/// `money`'s currency is a known, current one; the error names `field` (the field holding the money).
/// Needed because `Money` can be built (and deserialised) without [`Money::new`].
pub fn check_currency_of(field: &str, money: &Money) -> Result<(), DomainError> {
    codes::check_currency(field, &money.currency)
}

/// [`check_currency_of`], and the amount is above zero (a budget, an estimate, a share).
pub fn check_positive(field: &str, money: &Money) -> Result<(), DomainError> {
    check_currency_of(field, money)?;
    if !money.is_positive() {
        return Err(DomainError::invalid(
            field,
            format!("must be positive, got {money}"),
        ));
    }
    Ok(())
}

/// How many decimal digits a currency's minor unit has (ISO 4217): 2 for most, 0 for e.g. JPY, XOF
/// and KRW, 3 for e.g. KWD and JOD, 4 for the accounting units CLF and UYW. `amount_minor` counts these
/// minor units, so converting between currencies must scale by the difference (see [`crate::rates`]).
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Sums per currency, e.g. a project's disbursements: amounts in different currencies are kept apart,
/// never added. Serialised as a JSON object `{"EUR": 100, "USD": 250}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Totals(BTreeMap<String, i64>);

impl Totals {
    pub fn new() -> Totals {
        Totals::default()
    }

    /// Adds `money` to its currency's total; refused (and `self` unchanged) when the total would
    /// overflow.
    pub fn add(&mut self, money: &Money) -> Result<(), DomainError> {
        let total = self.get(&money.currency);
        let sum = total
            .checked_add(money.amount_minor)
            .ok_or_else(|| DomainError::invalid("amount_minor", "sum is too large"))?;
        self.0.insert(money.currency.clone(), sum);
        Ok(())
    }

    /// The total in `currency`, 0 when nothing was added in it.
    pub fn get(&self, currency: &str) -> i64 {
        self.0.get(currency).copied().unwrap_or(0)
    }

    /// The total in `currency` as money.
    pub fn money(&self, currency: &str) -> Money {
        Money {
            amount_minor: self.get(currency),
            currency: currency.to_owned(),
        }
    }

    /// Each currency and its total, ordered by currency code.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        self.0.iter().map(|(c, a)| (c.as_str(), *a))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying map, currency code to total in minor units.
    pub fn as_map(&self) -> &BTreeMap<String, i64> {
        &self.0
    }
}

/// `"1234.56 USD"`. Assumes two decimal places for every currency: that is right for most ISO 4217
/// currencies but not e.g. JPY (0) or KWD (3), whose amounts this shows scaled; `amount_minor` itself is
/// exact whatever the currency, so only this rendering is approximate.
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        // unsigned_abs: i64::MIN has no positive i64.
        let abs = self.amount_minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(amount_minor: i64) -> Money {
        Money::new(amount_minor, "USD").unwrap()
    }

    #[test]
    fn new_checks_the_currency() {
        assert_eq!(
            usd(5),
            Money {
                amount_minor: 5,
                currency: "USD".into()
            }
        );
        assert_eq!(
            Money::new(5, "usd"),
            Err(DomainError::invalid(
                "currency",
                "unknown currency code \"usd\""
            ))
        );
        assert_eq!(Money::zero("EUR").unwrap().amount_minor, 0);
    }

    #[test]
    fn display_uses_two_decimals() {
        assert_eq!(usd(123_456).to_string(), "1234.56 USD");
        assert_eq!(usd(5).to_string(), "0.05 USD");
        assert_eq!(usd(-5).to_string(), "-0.05 USD");
        assert_eq!(usd(-1234).to_string(), "-12.34 USD");
        assert_eq!(usd(0).to_string(), "0.00 USD");
        assert_eq!(usd(i64::MIN).to_string(), "-92233720368547758.08 USD");
    }

    #[test]
    fn positive() {
        assert!(usd(1).is_positive());
        assert!(!usd(0).is_positive());
        assert!(!usd(-1).is_positive());
    }

    #[test]
    fn add_refuses_mixed_currencies_and_overflow() {
        assert_eq!(usd(1).checked_add(&usd(2)), Ok(usd(3)));
        let err = usd(1)
            .checked_add(&Money::new(1, "EUR").unwrap())
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::invalid("currency", "cannot add EUR to USD without an exchange rate")
        );
        assert_eq!(
            usd(i64::MAX).checked_add(&usd(1)),
            Err(DomainError::invalid("amount_minor", "sum is too large"))
        );
    }

    #[test]
    fn sub_refuses_mixed_currencies_and_overflow() {
        assert_eq!(usd(5).checked_sub(&usd(7)), Ok(usd(-2)));
        assert_eq!(
            usd(1).checked_sub(&Money::new(1, "EUR").unwrap()),
            Err(DomainError::invalid(
                "currency",
                "cannot subtract EUR from USD without an exchange rate"
            ))
        );
        assert_eq!(
            usd(i64::MIN).checked_sub(&usd(1)),
            Err(DomainError::invalid(
                "amount_minor",
                "difference is too large"
            ))
        );
    }

    #[test]
    fn totals_keep_currencies_apart() {
        let mut t = Totals::new();
        assert!(t.is_empty());
        t.add(&usd(100)).unwrap();
        t.add(&Money::new(50, "EUR").unwrap()).unwrap();
        t.add(&usd(25)).unwrap();
        assert_eq!(t.get("USD"), 125);
        assert_eq!(t.get("EUR"), 50);
        assert_eq!(t.get("GBP"), 0);
        assert_eq!(t.money("USD"), usd(125));
        assert_eq!(t.iter().collect::<Vec<_>>(), [("EUR", 50), ("USD", 125)]);
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({"EUR": 50, "USD": 125})
        );
        assert_eq!(t.as_map().len(), 2);
        let before = t.clone();
        assert!(t.add(&usd(i64::MAX)).is_err());
        assert_eq!(t, before, "an overflowing add changes nothing");
    }

    #[test]
    fn minor_units() {
        assert_eq!(minor_unit_digits("USD"), 2);
        assert_eq!(minor_unit_digits("JPY"), 0);
        assert_eq!(minor_unit_digits("KWD"), 3);
        assert_eq!(minor_unit_digits("CLF"), 4);
    }

    #[test]
    fn json_shape() {
        assert_eq!(
            serde_json::to_value(usd(100)).unwrap(),
            serde_json::json!({"amount_minor": 100, "currency": "USD"})
        );
    }

    // Amounts small enough that three of them never overflow, so associativity is about the arithmetic.
    const BOUND: i64 = i64::MAX / 4;

    proptest! {
        #[test]
        fn add_is_commutative(a in -BOUND..BOUND, b in -BOUND..BOUND) {
            prop_assert_eq!(usd(a).checked_add(&usd(b)), usd(b).checked_add(&usd(a)));
        }

        #[test]
        fn add_is_associative(a in -BOUND..BOUND, b in -BOUND..BOUND, c in -BOUND..BOUND) {
            let left = usd(a).checked_add(&usd(b)).unwrap().checked_add(&usd(c)).unwrap();
            let right = usd(a).checked_add(&usd(b).checked_add(&usd(c)).unwrap()).unwrap();
            prop_assert_eq!(left, right);
        }

        #[test]
        fn add_never_mixes_currencies(a in any::<i64>(), b in any::<i64>(), other in prop::sample::select(vec!["EUR", "GBP", "JPY", "XOF"])) {
            let foreign = Money::new(b, other).unwrap();
            prop_assert!(usd(a).checked_add(&foreign).is_err());
            prop_assert!(foreign.checked_add(&usd(a)).is_err());
        }

        #[test]
        fn sub_undoes_add(a in -BOUND..BOUND, b in -BOUND..BOUND) {
            prop_assert_eq!(usd(a).checked_add(&usd(b)).unwrap().checked_sub(&usd(b)).unwrap(), usd(a));
        }

        #[test]
        fn add_matches_i64_checked_add(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(usd(a).checked_add(&usd(b)).ok().map(|m| m.amount_minor), a.checked_add(b));
        }
    }
}
