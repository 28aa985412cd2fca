//! `Money`: integer minor units plus an ISO 4217 currency. Never floats, never mixed currencies.

use serde::{Deserialize, Serialize};

use crate::codes;
use crate::error::DomainError;

/// An amount in minor units (cents) of one currency.
///
/// Sums across currencies are refused here: converting needs an explicit, recorded exchange-rate table,
/// so that every report can be reproduced.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        if self.currency != other.currency {
            return Err(DomainError::invalid(
                "currency",
                format!(
                    "cannot add {} to {} without an exchange rate",
                    other.currency, self.currency
                ),
            ));
        }
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or_else(|| DomainError::invalid("amount_minor", "sum is too large"))?;
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
        fn add_matches_i64_checked_add(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(usd(a).checked_add(&usd(b)).ok().map(|m| m.amount_minor), a.checked_add(b));
        }
    }
}
