//! Arguments many commands share, and the value parsers that let clap refuse a bad value by the
//! flag the person typed (`invalid value 'abc' for '--amount <AMOUNT>'`, exit status 2) before
//! anything is sent.

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use jiff::civil::Date;
use serde::Serialize;
use tatrack_contract::commands::{Dated, Ending, Move};
use tatrack_domain::Money;
use tatrack_domain::need::Units;
use uuid::Uuid;

/// A move along a lifecycle: the object, the day and an optional why.
#[derive(Debug, Clone, Args)]
pub struct MoveArgs {
    /// The id of the object to move.
    pub id: Uuid,
    /// The business date it happened on (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
    /// Why, for the record.
    #[arg(long)]
    pub reason: Option<String>,
}

/// The arguments of a command on one object that make its whole body (a move, an ending, a date):
/// `Client::command_on` sends them.
pub trait OnOne {
    type Body: Serialize;
    /// The object's id.
    fn id(&self) -> Uuid;
    /// The contract's body of the command.
    fn body(&self) -> Self::Body;
}

impl OnOne for MoveArgs {
    type Body = Move;
    fn id(&self) -> Uuid {
        self.id
    }
    fn body(&self) -> Move {
        Move {
            on: self.on,
            reason: self.reason.clone(),
        }
    }
}

/// A move that ends something: the reason is required.
#[derive(Debug, Clone, Args)]
pub struct EndingArgs {
    /// The id of the object.
    pub id: Uuid,
    /// The business date it happened on (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
    /// Why it ends (required, for the record).
    #[arg(long)]
    pub reason: String,
}

impl OnOne for EndingArgs {
    type Body = Ending;
    fn id(&self) -> Uuid {
        self.id
    }
    fn body(&self) -> Ending {
        Ending {
            on: self.on,
            reason: self.reason.clone(),
        }
    }
}

/// A move with nothing but its date.
#[derive(Debug, Clone, Args)]
pub struct DatedArgs {
    /// The id of the object.
    pub id: Uuid,
    /// The business date it happened on (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
}

impl OnOne for DatedArgs {
    type Body = Dated;
    fn id(&self) -> Uuid {
        self.id
    }
    fn body(&self) -> Dated {
        Dated { on: self.on }
    }
}

/// A value parser for one of a domain enum's values, listed in `--help` and in the error.
pub fn one_of<T>(all: &'static [T]) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + std::fmt::Display + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(all.iter().map(ToString::to_string)).try_map(|s| s.parse::<T>())
}

/// An amount in major units, `1234.50` (two decimals at most), as minor units; not negative.
pub fn amount(text: &str) -> Result<i64, String> {
    minor_units(text, false)
}

/// An amount that may be negative (`-1500` reverses an earlier transaction).
pub fn signed_amount(text: &str) -> Result<i64, String> {
    minor_units(text, true)
}

fn minor_units(text: &str, signed: bool) -> Result<i64, String> {
    let bad = || format!("{text:?} is not an amount like 1234.50");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) if signed => (true, rest),
        Some(_) => return Err(format!("{text:?}: an amount here is not negative")),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| format!("{text:?} is too large"))?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let minor = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| format!("{text:?} is too large"))?;
    Ok(if negative { -minor } else { minor })
}

/// A currency code, upper-cased, one of the domain's current ISO 4217 codes (the list the server
/// checks against), so a wrong one is refused by its flag before anything is sent.
pub fn currency(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        if tatrack_domain::codes::currency(&code).is_none() {
            return Err(format!("{code:?} is not a current ISO 4217 currency code"));
        }
        Ok(code)
    } else {
        Err(format!(
            "{text:?} is not a currency code like USD or EUR (ISO 4217)"
        ))
    }
}

/// A country code, upper-cased (the server checks it is one).
pub fn country(text: &str) -> Result<String, String> {
    Ok(text.trim().to_ascii_uppercase())
}

/// Money from an amount and its currency (both or neither: clap's `requires` sees to it).
pub fn money(amount: Option<i64>, currency: Option<&String>) -> Option<Money> {
    Some(Money {
        amount_minor: amount?,
        currency: currency?.clone(),
    })
}

/// A size from a quantity and what it counts (both or neither).
pub fn units(quantity: Option<u64>, measure: Option<&String>) -> Option<Units> {
    Some(Units {
        quantity: quantity?,
        measure: measure?.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_minor_units() {
        assert_eq!(amount("250000"), Ok(25_000_000));
        assert_eq!(amount("1234.5"), Ok(123_450));
        assert_eq!(amount("0.07"), Ok(7));
        assert_eq!(signed_amount("-15"), Ok(-1_500));
        for bad in ["", "-5", "1.234", "12a", "1e3", "99999999999999999999", "."] {
            assert!(amount(bad).is_err(), "{bad}");
        }
        assert!(signed_amount("--5").is_err());
    }

    #[test]
    fn codes_are_upper_cased_and_checked_for_shape() {
        assert_eq!(currency("usd"), Ok("USD".to_owned()));
        assert!(currency("dollars").is_err());
        assert!(currency("ZZZ").is_err());
        assert_eq!(country("gh"), Ok("GH".to_owned()));
    }

    #[test]
    fn enum_values_are_listed_and_parsed() {
        use clap::{Arg, Command};
        use tatrack_domain::need::Modality;
        let cmd = Command::new("t").arg(
            Arg::new("modality")
                .long("modality")
                .value_parser(one_of(Modality::ALL)),
        );
        let m = cmd
            .clone()
            .try_get_matches_from(["t", "--modality", "workshop"])
            .unwrap();
        assert_eq!(m.get_one::<Modality>("modality"), Some(&Modality::Workshop));
        let e = cmd
            .try_get_matches_from(["t", "--modality", "webinar"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--modality") && e.contains("workshop"), "{e}");
    }
}
