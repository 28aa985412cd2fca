//! Matching: which offers could serve a need and which needs an offer could serve, each scored out
//! of 100 with the explanation of every point and a ready `referral_propose` body; and overlap
//! alerts (two referrals, offers or projects for the same State, theme and beneficiary with
//! overlapping dates). The scoring is pure; the `*_list` functions read the projections.
//!
//! Eligibility is what the projects service checks when a referral is proposed (the domain's
//! `referral::pair_refusals`: no open referral of the pair, need agreed and not covered, shared
//! with the offer's organisation; `offer::covers`; something left to give; money in another
//! currency only with a recorded rate), so a suggestion is one a coordinator can turn into a
//! referral. Points rank the eligible ones:
//!
//! | criterion | points | |
//! |---|---|---|
//! | theme | 15 | required |
//! | place | 15 / 10 | the country listed / only through one of its DAC regions |
//! | modality | 10 | required |
//! | money, units | 30 | what the offer has left against what the need still lacks (split between the need's measures); money compared in the need's currency, another currency only with a rate (required) |
//! | window | 10 | valid on `as_of` (required); full points with 180 days or more left from `as_of` |
//! | language | 5 | when the caller names one (`language`) |
//! | track record | 10 | 5 per project of the organisation in that country, up to two |
//! | priority | 5 | 5 / 3 / 1 for the need's priority 1 / 2 / 3 (ranks needs for an offer) |
//!
//! Everything is as of one business date, `as_of`, which the caller gives (the query's `today` or
//! `as_of`, else the day it is asked): grants, validity windows and exchange rates. Nothing here
//! reads the clock. A need has no date of its own: it is wanted as of that date, so the window is
//! scored by how long the offer still runs from `as_of`. Pending referrals (proposed, referred,
//! accepted by the partner) do not reduce what is left, as the projects service counts only
//! accepted ones; an offer with an open referral for the same need (any not declined or lapsed)
//! is left out instead, as the projects service refuses a second one as a duplicate.
//!
//! Money is whole minor units and rates are exact ratios (`rates::Ratio`), never floats. An offer
//! budgeted in another currency than the need's cost is converted with the exchange-rate table
//! in force on `as_of` (the latest dated on or before it; rates are units per US dollar) and
//! scored in the need's currency; the money line shows both amounts, each in its own currency,
//! with the rates and the table's date: `the offer has 100000.00 EUR left (108695.65 USD at 0.92
//! EUR per USD, rates of 2026-06-01); the need lacks 50000.00 USD`. The share a referral would
//! propose stays in the offer's currency (it is what the offer gives), at most what the need
//! lacks converted the other way. With no rate for either currency in that table, the pair is
//! ineligible with field `currency` and `no EUR→USD rate recorded (record one with: tatrack rates
//! record --on ...)` (the offer's currency to the need's), since the projects service would
//! refuse the referral's money share for the same cause.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Value, json};
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_domain::need::{NeedState, NeedStatus};
use tatrack_domain::offer::{self, OfferState, OfferStatus};
use tatrack_domain::project::{ActivityStatus, ProjectState};
use tatrack_domain::rates::{self, RateTableState, Ratio};
use tatrack_domain::referral::{self, ReferralState, ReferralStatus};
use tatrack_domain::sharing::SharingGrantState;
use tatrack_domain::{DomainError, Money, Principal, codes};
use uuid::Uuid;

use crate::queries::Views;
use crate::visibility;
use crate::visibility::Consent;

/// Days of validity left that earn the whole window criterion: a training cycle or a drafting
/// mission rarely fits in less.
const FULL_WINDOW_DAYS: i64 = 180;

/// What scoring needs besides the need and the offer.
pub(crate) struct Context<'a> {
    /// The business date the matching is for, given by the caller: grants, validity windows and
    /// exchange rates are taken as of this day. Nothing in matching reads the clock.
    pub(crate) as_of: Date,
    pub(crate) grants: &'a [SharingGrantState],
    pub(crate) referrals: &'a [ReferralState],
    pub(crate) projects: &'a [ProjectState],
    pub(crate) rates: &'a RateTableState,
    /// ISO 639-1 code the caller wants the work done in, if any.
    pub(crate) language: Option<&'a str>,
}

/// One line of an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Criterion {
    pub(crate) criterion: &'static str,
    pub(crate) points: u32,
    pub(crate) max: u32,
    pub(crate) detail: String,
}

/// Why an offer cannot serve a need, named by the field the projects service would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Reason {
    pub(crate) field: String,
    pub(crate) reason: String,
}

/// An eligible pair, scored, with the share a referral would propose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scored {
    pub(crate) score: u32,
    pub(crate) max_score: u32,
    pub(crate) explanation: Vec<Criterion>,
    /// In the offer's currency: the offer's remaining budget, at most what the need still lacks.
    pub(crate) share_money: Option<Money>,
    /// In the need's units: the offer's remaining capacity (same measure), at most what is lacking.
    pub(crate) share_units: Option<u64>,
    /// What the need still lacks, in the offer's currency (for the allocation's arcs).
    pub(crate) lacking_money: Option<Money>,
    pub(crate) lacking_units: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Eligible(Scored),
    Ineligible(Vec<Reason>),
}

fn reason(field: &str, text: String) -> Reason {
    Reason {
        field: field.to_owned(),
        reason: text,
    }
}

/// What the need still lacks: estimated cost minus covered money, size minus covered units
/// (`None` for a measure it does not have, or has fully covered).
pub(crate) fn lacking(need: &NeedState) -> (Option<Money>, Option<u64>) {
    let money = need.estimated_cost.as_ref().and_then(|cost| {
        let covered = need
            .covered_money
            .as_ref()
            .filter(|c| c.currency == cost.currency)
            .map_or(0, |c| c.amount_minor);
        let left = cost.amount_minor.saturating_sub(covered);
        (left > 0).then(|| Money {
            amount_minor: left,
            currency: cost.currency.clone(),
        })
    });
    let units = need.size.as_ref().and_then(|size| {
        let left = size
            .quantity
            .saturating_sub(need.covered_units.unwrap_or(0));
        (left > 0).then_some(left)
    });
    (money, units)
}

fn same_measure(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Scores one offer for one need, or says every reason it cannot serve it.
pub(crate) fn assess(need: &NeedState, offer: &OfferState, cx: &Context) -> Verdict {
    let mut reasons = Vec::new();
    let mut explanation = Vec::new();
    let mut line = |criterion, points, max, detail: String| {
        explanation.push(Criterion {
            criterion,
            points,
            max,
            detail,
        });
    };
    let country = need.member_state.as_str();

    // The projects service's rule for the pair (no open referral between them, the need agreed
    // and shared with the offer's organisation on `as_of`), with its own words.
    reasons.extend(
        referral::pair_refusals(need, offer, cx.grants, cx.referrals, cx.as_of)
            .into_iter()
            .map(|r| Reason {
                field: r.field,
                reason: r.reason,
            }),
    );

    if offer.themes.contains(&need.theme) {
        line("theme", 15, 15, format!("covers theme {}", need.theme));
    } else {
        reasons.push(reason(
            "theme",
            format!(
                "the offer does not cover theme {} (it covers {})",
                need.theme,
                offer.themes.join(", ")
            ),
        ));
    }

    let via_region = codes::regions_of(country)
        .iter()
        .find(|r| offer.regions.iter().any(|x| x == *r));
    if offer.countries.iter().any(|c| c == country) {
        line("place", 15, 15, format!("lists {country}"));
    } else if let Some(region) = via_region {
        let name = codes::region(region).map_or("", |e| e.name.as_str());
        line(
            "place",
            10,
            15,
            format!("covers {country} through DAC region {region} ({name})"),
        );
    } else {
        reasons.push(reason(
            "country",
            format!("the offer is not for {country} nor its region"),
        ));
    }

    match need.modality {
        Some(m) if offer.modalities.contains(&m) => {
            line("modality", 10, 10, format!("provides {m}"));
        }
        Some(m) => reasons.push(reason(
            "modality",
            format!("the offer does not provide {m}"),
        )),
        None => reasons.push(reason("modality", "the need names no modality".to_owned())),
    }

    // The window: valid on `as_of`, scored by how long it still runs from then.
    let from_ok = offer.valid_from.is_none_or(|from| from <= cx.as_of);
    let until_ok = offer.valid_until.is_none_or(|until| cx.as_of <= until);
    if !from_ok {
        reasons.push(reason(
            "valid_from",
            format!(
                "the offer is valid from {}, after {}",
                offer.valid_from.map_or(String::new(), |d| d.to_string()),
                cx.as_of
            ),
        ));
    } else if !until_ok {
        reasons.push(reason(
            "valid_until",
            format!(
                "the offer was valid until {}, before {}",
                offer.valid_until.map_or(String::new(), |d| d.to_string()),
                cx.as_of
            ),
        ));
    } else {
        let days_left = offer
            .valid_until
            .and_then(|until| cx.as_of.until(until).ok())
            .map_or(FULL_WINDOW_DAYS, |span| i64::from(span.get_days()));
        let points = u32::try_from(days_left.clamp(0, FULL_WINDOW_DAYS) * 10 / FULL_WINDOW_DAYS)
            .unwrap_or(0);
        line(
            "window",
            points,
            10,
            format!(
                "valid {}..{}, {days_left} days left to deliver (full points from {FULL_WINDOW_DAYS})",
                offer.valid_from.map_or(String::new(), |d| d.to_string()),
                offer.valid_until.map_or(String::new(), |d| d.to_string()),
            ),
        );
    }
    if !matches!(
        offer.status,
        Some(OfferStatus::Open | OfferStatus::PartiallyCommitted)
    ) {
        let status = offer.status.map_or("unknown".to_owned(), |s| s.to_string());
        reasons.push(reason("status", format!("the offer is {status}, not open")));
    }

    // Money and units: what the offer has left against what the need still lacks.
    let (lack_money, lack_units) = lacking(need);
    let (left_money, left_units) = offer::remaining(offer);
    let measures = u32::from(lack_money.is_some()) + u32::from(lack_units.is_some());
    let share_of = 30_u32.checked_div(measures).unwrap_or(0);
    let mut share_money = None;
    let mut lacking_money = None;
    let mut incomparable = false;
    match (&lack_money, &left_money) {
        (None, _) => {
            let detail = if need.estimated_cost.is_some() {
                "the need's cost is covered"
            } else {
                "the need has no estimated cost"
            };
            line("money", 0, 0, detail.to_owned());
        }
        (Some(lack), None) => line(
            "money",
            0,
            share_of,
            format!("the need lacks {lack}; the offer has no budget"),
        ),
        (Some(lack), Some(left)) => {
            // Compared in the need's currency (what it lacks); the share stays in the offer's
            // (what it gives).
            let compared = if left.currency == lack.currency {
                Ok(Exchanged {
                    left_there: left.clone(),
                    lack_here: lack.clone(),
                    detail: format!("the offer has {left} left; the need lacks {lack}"),
                })
            } else {
                exchange(left, lack, cx.rates, cx.as_of)
            };
            match compared {
                Ok(x) => {
                    let points = fraction_points(
                        x.left_there.amount_minor.min(lack.amount_minor),
                        lack.amount_minor,
                        share_of,
                    );
                    line("money", points, share_of, x.detail);
                    let share = left.amount_minor.min(x.lack_here.amount_minor);
                    if share > 0 {
                        share_money = Some(Money {
                            amount_minor: share,
                            currency: left.currency.clone(),
                        });
                    }
                    lacking_money = Some(x.lack_here);
                }
                // The projects service would refuse the referral's share: not a suggestion.
                Err(why) => {
                    incomparable = true;
                    reasons.push(why);
                }
            }
        }
    }
    let mut share_units = None;
    match (lack_units, &need.size) {
        (None, size) => line(
            "units",
            0,
            0,
            if size.is_some() {
                "the need's size is covered".to_owned()
            } else {
                "the need has no size in units".to_owned()
            },
        ),
        (Some(lack), Some(size)) => match (&offer.capacity, left_units) {
            (Some(capacity), Some(left)) if same_measure(&capacity.measure, &size.measure) => {
                let share = left.min(lack);
                let points = fraction_points(
                    i64::try_from(share).unwrap_or(i64::MAX),
                    i64::try_from(lack).unwrap_or(i64::MAX),
                    share_of,
                );
                line(
                    "units",
                    points,
                    share_of,
                    format!(
                        "the offer has {left} {} left; the need lacks {lack}",
                        size.measure
                    ),
                );
                share_units = (share > 0).then_some(share);
            }
            (Some(capacity), _) => line(
                "units",
                0,
                share_of,
                format!(
                    "the need lacks {lack} {}; the offer counts {}",
                    size.measure, capacity.measure
                ),
            ),
            (None, _) => line(
                "units",
                0,
                share_of,
                format!(
                    "the need lacks {lack} {}; the offer has no capacity in units",
                    size.measure
                ),
            ),
        },
        (Some(_), None) => unreachable!("lacking units come from a size"),
    }
    if share_money.is_none() && share_units.is_none() && !incomparable {
        reasons.push(reason(
            "share_money",
            if measures == 0 {
                "the need has no estimated cost or size left to cover".to_owned()
            } else {
                "the offer has nothing left that the need lacks (see money and units)".to_owned()
            },
        ));
    }

    match cx.language {
        Some(lang) if offer.languages.iter().any(|l| l == lang) => {
            line("language", 5, 5, format!("works in {lang}"));
        }
        Some(lang) => line(
            "language",
            0,
            5,
            format!("works in {}, not {lang}", offer.languages.join(", ")),
        ),
        None => line(
            "language",
            0,
            0,
            format!("no language asked; works in {}", offer.languages.join(", ")),
        ),
    }

    let past: Vec<&str> = cx
        .projects
        .iter()
        .filter(|p| {
            p.recipient_country == country
                && p.status != Some(ActivityStatus::Cancelled)
                && p.participating
                    .iter()
                    .any(|x| x.organisation == offer.organisation)
        })
        .map(|p| p.iati_identifier.as_str())
        .collect();
    let count = u32::try_from(past.len()).unwrap_or(u32::MAX);
    line(
        "track_record",
        count.min(2) * 5,
        10,
        if past.is_empty() {
            format!("{} has no project in {country} yet", offer.organisation)
        } else {
            format!(
                "{} has {} project(s) in {country}: {}",
                offer.organisation,
                past.len(),
                past.join(", ")
            )
        },
    );
    let priority_points = match need.priority {
        1 => 5,
        2 => 3,
        _ => 1,
    };
    line(
        "priority",
        priority_points,
        5,
        format!("the need's priority is {}", need.priority),
    );

    // The projects service's own rule has the last word, so a suggestion is never refused there
    // for a reason this module missed.
    if let Some(modality) = need.modality
        && let Err(DomainError::Invalid { field, reason: why }) =
            offer::covers(offer, &need.theme, country, None, modality, cx.as_of)
        && !reasons.iter().any(|r| r.field == field)
    {
        reasons.push(reason(&field, why));
    }

    if !reasons.is_empty() {
        return Verdict::Ineligible(reasons);
    }
    Verdict::Eligible(Scored {
        score: explanation.iter().map(|c| c.points).sum(),
        max_score: explanation.iter().map(|c| c.max).sum(),
        explanation,
        share_money,
        share_units,
        lacking_money,
        lacking_units: lack_units.filter(|_| share_units.is_some()),
    })
}

/// The offer's money read in the need's currency.
struct Exchanged {
    /// What the offer has left, in the need's currency (scored against what the need lacks).
    left_there: Money,
    /// What the need lacks, in the offer's currency (caps the share the offer gives).
    lack_here: Money,
    /// The money line of the explanation.
    detail: String,
}

/// The offer's budget `left` against what the need lacks, `lack`, in another currency, with the
/// table in force on `as_of` (the latest dated on or before it; rates are per US dollar). A
/// currency that table has no rate for is a reason naming field `currency`: the projects service
/// would refuse the referral's share for the same cause.
fn exchange(
    left: &Money,
    lack: &Money,
    rates_recorded: &RateTableState,
    as_of: Date,
) -> Result<Exchanged, Reason> {
    let table = rates_recorded.table_on(as_of);
    let per_usd = |currency: &str| -> Option<Ratio> {
        if currency == "USD" {
            return Some(Ratio::ONE);
        }
        let (_, rates) = table?;
        rates
            .iter()
            .find(|r| r.currency == currency)
            .map(|r| r.per_usd)
    };
    let missing: Vec<&str> = [left.currency.as_str(), lack.currency.as_str()]
        .into_iter()
        .filter(|c| per_usd(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(missing_rate(
            &left.currency,
            &lack.currency,
            &missing,
            table,
            as_of,
        ));
    }
    let domain = |e: DomainError| match e {
        DomainError::Invalid { field, reason: why } => reason(&field, why),
        other => reason("currency", other.to_string()),
    };
    let left_there = rates::convert(left, &lack.currency, rates_recorded, as_of).map_err(domain)?;
    let lack_here = rates::convert(lack, &left.currency, rates_recorded, as_of).map_err(domain)?;
    let quoted: Vec<String> = [left.currency.as_str(), lack.currency.as_str()]
        .into_iter()
        .filter(|c| *c != "USD")
        .filter_map(|c| per_usd(c).map(|r| format!("{} {c}", decimal(r))))
        .collect();
    let dated = table.map_or_else(String::new, |(d, _)| d.to_string());
    Ok(Exchanged {
        detail: format!(
            "the offer has {left} left ({left_there} at {} per USD, rates of {dated}); the need lacks {lack}",
            quoted.join(" and ")
        ),
        left_there,
        lack_here,
    })
}

/// "no EUR→USD rate recorded", with the `tatrack rates record` command that records it (in
/// parentheses: the CLI joins reasons with "; "). A recorded table is whole, so a new one
/// repeats the rates of the table it replaces; a table already recorded on `as_of` is never
/// changed, so then only a later day can have the rate.
fn missing_rate(
    from: &str,
    to: &str,
    missing: &[&str],
    table: Option<(Date, &[rates::Rate])>,
    as_of: Date,
) -> Reason {
    let mut args: String = missing
        .iter()
        .map(|c| format!(" --rate {c}=RATE"))
        .collect();
    let per = match missing {
        [one] => format!("RATE being {one} per US dollar"),
        _ => "each RATE being units of that currency per US dollar".to_owned(),
    };
    for rate in table.map_or(&[][..], |(_, rates)| rates) {
        args.push_str(&format!(
            " --rate {}={}",
            rate.currency,
            decimal(rate.per_usd)
        ));
    }
    let hint = match table {
        None => format!("record one with: tatrack rates record --on {as_of}{args}, {per}"),
        Some((dated, _)) if dated < as_of => format!(
            "record one with: tatrack rates record --on {as_of}{args}, {per}; the other rates \
             repeat the table of {dated}, which a new table replaces"
        ),
        Some((dated, _)) => format!(
            "the table of {dated} has none and is never changed; record one for a later day \
             with: tatrack rates record --on YYYY-MM-DD{args}, {per}"
        ),
    };
    reason("currency", format!("no {from}→{to} rate recorded ({hint})"))
}

/// A rate as `tatrack rates record` takes it: 23/25 is "0.92". A rate with no exact decimal of
/// at most [`rates::MAX_DECIMALS`] places (recorded as a fraction) is written as the fraction.
fn decimal(rate: Ratio) -> String {
    let (n, d) = (i128::from(rate.numerator), i128::from(rate.denominator));
    if d <= 0 {
        return rate.to_string();
    }
    let sign = if n < 0 { "-" } else { "" };
    let mut rem = n.abs() % d;
    let mut digits = String::new();
    while rem != 0 && digits.len() < rates::MAX_DECIMALS {
        rem *= 10;
        digits.push_str(&(rem / d).to_string());
        rem %= d;
    }
    if rem != 0 {
        return rate.to_string();
    }
    let whole = n.abs() / d;
    if digits.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{digits}")
    }
}

/// `max * part / whole`, rounded down, for `0 <= part <= whole`.
fn fraction_points(part: i64, whole: i64, max: u32) -> u32 {
    if whole <= 0 {
        return 0;
    }
    let points = i128::from(part.clamp(0, whole)) * i128::from(max) / i128::from(whole);
    u32::try_from(points).unwrap_or(max)
}

/// The exact body of the projects service's `referral_propose` verb.
pub(crate) fn propose_body(
    need: &NeedState,
    offer: &OfferState,
    share_money: Option<&Money>,
    share_units: Option<u64>,
    referrals: &[ReferralState],
) -> Value {
    json!({
        "id": suggested_id(need.id, offer.id, referrals),
        "need_id": need.id,
        "offer_id": offer.id,
        "member_state": need.member_state,
        "organisation": offer.organisation,
        "share_money": share_money,
        "share_units": share_units,
    })
}

/// The id a suggested referral is proposed under: derived from the need, the offer and how many
/// referrals already pair them, so the same question gets the same answer (an `as_of` answer is
/// reproducible) and two coordinators accepting one suggestion make one referral, the second
/// being told it already exists. A UUID of version 8 (custom), so it cannot collide with the
/// version 7 ids the services and the CLI make.
pub(crate) fn suggested_id(need: Uuid, offer: Uuid, referrals: &[ReferralState]) -> Uuid {
    let earlier = referrals
        .iter()
        .filter(|r| r.need_id == need && r.offer_id == offer)
        .count() as u64;
    // FNV-1a, twice with different offsets: a fixed, well-spread mix, not a secret.
    let fnv = |offset: u64| {
        let mut h = offset;
        for b in need
            .as_bytes()
            .iter()
            .chain(offer.as_bytes())
            .chain(&earlier.to_le_bytes())
        {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x6c62_272e_07bb_0142).to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[derive(Serialize)]
struct Suggestion {
    need_id: Uuid,
    offer_id: Uuid,
    organisation: String,
    title: String,
    member_state: String,
    theme: String,
    priority: u8,
    beneficiary_institution: String,
    score: u32,
    max_score: u32,
    explanation: Vec<Criterion>,
    referral_propose: Value,
}

impl Suggestion {
    fn new(need: &NeedState, offer: &OfferState, s: Scored, referrals: &[ReferralState]) -> Self {
        Self {
            need_id: need.id,
            offer_id: offer.id,
            organisation: offer.organisation.clone(),
            title: offer.title.clone(),
            member_state: need.member_state.clone(),
            theme: need.theme.clone(),
            priority: need.priority,
            beneficiary_institution: need.beneficiary_institution.clone(),
            referral_propose: propose_body(
                need,
                offer,
                s.share_money.as_ref(),
                s.share_units,
                referrals,
            ),
            score: s.score,
            max_score: s.max_score,
            explanation: s.explanation,
        }
    }
}

#[derive(Serialize)]
struct Left {
    need_id: Uuid,
    offer_id: Uuid,
    organisation: String,
    title: String,
    reasons: Vec<Reason>,
}

/// `true`/`false`, as JSON or as text (the gateway passes query strings as text).
pub(crate) fn flag(field: &str, value: Option<&Value>) -> Result<bool, ErrorBody> {
    match value {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(other) => Err(ErrorBody::invalid(
            field,
            &format!("{other} is not true or false"),
        )),
    }
}

/// An ISO 639-1 code in lower case, as offers list their languages.
pub(crate) fn language(value: Option<&str>) -> Result<Option<&str>, ErrorBody> {
    match value {
        Some(l) if l.len() != 2 || !l.bytes().all(|b| b.is_ascii_lowercase()) => {
            Err(ErrorBody::invalid(
                "language",
                &format!("{l:?} is not an ISO 639-1 code like \"en\""),
            ))
        }
        other => Ok(other),
    }
}

fn not_found(field: &str, what: &str, id: Uuid) -> ErrorBody {
    ErrorBody {
        field: Some(field.to_owned()),
        ..ErrorBody::new(ErrorCode::NotFound, format!("{what} {id} not found"))
    }
}

fn required(field: &str) -> ErrorBody {
    ErrorBody::invalid(field, "is required")
}

fn to_value<T: Serialize>(value: T) -> Result<Value, ErrorBody> {
    serde_json::to_value(value).map_err(|_| ErrorBody::internal())
}

/// Everything scoring reads, loaded once per request.
pub(crate) struct Loaded {
    /// Copies of the needs and offers the caller may see.
    pub(crate) needs: Vec<NeedState>,
    pub(crate) offers: Vec<OfferState>,
    /// The read model's shared lists, read in place.
    pub(crate) grants: Arc<Vec<SharingGrantState>>,
    pub(crate) referrals: Arc<Vec<ReferralState>>,
    pub(crate) projects: Arc<Vec<ProjectState>>,
    pub(crate) rates: RateTableState,
}

impl Loaded {
    /// The needs and offers `principal` may see (other states are kept whole: scoring reads them
    /// only for rules, never shows them).
    pub(crate) fn load(
        views: &Views,
        principal: &Principal,
        consent: &Consent,
    ) -> Result<Self, ErrorBody> {
        // A copy: scoring takes these as slices.
        let grants = Arc::new(
            views
                .scan::<SharingGrantState>("assessments", "sharing_grant")?
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
        );
        let needs = views
            .scan::<NeedState>("assessments", "need")?
            .iter()
            .filter(|n| n.status.is_some() && consent.sees_need(principal, n))
            .cloned()
            .collect();
        let offers = views
            .scan::<OfferState>("partners", "offer")?
            .iter()
            .filter(|o| o.status.is_some() && principal.may_see_organisation(&o.organisation))
            .cloned()
            .collect();
        // A copy: scoring takes these as slices.
        let referrals = Arc::new(
            views
                .scan::<ReferralState>("projects", "referral")?
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
        );
        // A copy: scoring takes these as slices.
        let projects = Arc::new(
            views
                .scan::<ProjectState>("projects", "project")?
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
        );
        let rates = views
            .scan::<RateTableState>("projects", "rate_table")?
            .iter()
            .next()
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            needs,
            offers,
            grants,
            referrals,
            projects,
            rates,
        })
    }

    pub(crate) fn context<'a>(&'a self, as_of: Date, language: Option<&'a str>) -> Context<'a> {
        Context {
            as_of,
            grants: &self.grants,
            referrals: &self.referrals,
            projects: &self.projects,
            rates: &self.rates,
            language,
        }
    }
}

/// Best first; equal scores by id (oldest first), so the order is stable.
fn rank(out: &mut [Suggestion], key: impl Fn(&Suggestion) -> Uuid) {
    out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| key(a).cmp(&key(b))));
}

/// `need_match_list`: the offers that could serve `need_id` on `as_of`, ranked.
pub(crate) fn need_match_list(
    views: &Views,
    principal: &Principal,
    consent: &Consent,
    as_of: Date,
    need_id: Option<Uuid>,
    include_ineligible: Option<&Value>,
    language: Option<&str>,
) -> Result<Value, ErrorBody> {
    let need_id = need_id.ok_or_else(|| required("need_id"))?;
    let include_ineligible = flag("include_ineligible", include_ineligible)?;
    let language = self::language(language)?;
    let data = Loaded::load(views, principal, consent)?;
    let need = data
        .needs
        .iter()
        .find(|n| n.id == need_id)
        .ok_or_else(|| not_found("need_id", "need", need_id))?;
    let cx = data.context(as_of, language);
    let mut suggestions = Vec::new();
    let mut ineligible = Vec::new();
    for offer in &data.offers {
        match assess(need, offer, &cx) {
            Verdict::Eligible(s) => {
                suggestions.push(Suggestion::new(need, offer, s, &data.referrals));
            }
            Verdict::Ineligible(reasons) => ineligible.push(Left {
                need_id: need.id,
                offer_id: offer.id,
                organisation: offer.organisation.clone(),
                title: offer.title.clone(),
                reasons,
            }),
        }
    }
    rank(&mut suggestions, |s| s.offer_id);
    let mut answer = json!({
        "need_id": need.id,
        "member_state": need.member_state,
        "theme": need.theme,
        "referable": need.is_referable(),
        "suggestions": to_value(suggestions)?,
    });
    if include_ineligible {
        answer["ineligible"] = to_value(ineligible)?;
    }
    Ok(answer)
}

/// `offer_match_list`: the unmet needs `offer_id` could serve on `as_of`, ranked the same way. A
/// donor asks only about its own organisation's offers, among the needs shared with it.
pub(crate) fn offer_match_list(
    views: &Views,
    principal: &Principal,
    consent: &Consent,
    as_of: Date,
    offer_id: Option<Uuid>,
    include_ineligible: Option<&Value>,
    language: Option<&str>,
) -> Result<Value, ErrorBody> {
    let offer_id = offer_id.ok_or_else(|| required("offer_id"))?;
    let include_ineligible = flag("include_ineligible", include_ineligible)?;
    let language = self::language(language)?;
    let data = Loaded::load(views, principal, consent)?;
    let offer = data
        .offers
        .iter()
        .find(|o| o.id == offer_id)
        .ok_or_else(|| not_found("offer_id", "offer", offer_id))?;
    let cx = data.context(as_of, language);
    let mut suggestions = Vec::new();
    let mut ineligible = Vec::new();
    let open = data.needs.iter().filter(|n| {
        matches!(
            n.status,
            Some(
                NeedStatus::Identified | NeedStatus::AgreedWithState | NeedStatus::PartiallyCovered
            )
        )
    });
    for need in open {
        match assess(need, offer, &cx) {
            Verdict::Eligible(s) => {
                suggestions.push(Suggestion::new(need, offer, s, &data.referrals));
            }
            Verdict::Ineligible(reasons) => ineligible.push(Left {
                need_id: need.id,
                offer_id: offer.id,
                organisation: offer.organisation.clone(),
                title: offer.title.clone(),
                reasons,
            }),
        }
    }
    rank(&mut suggestions, |s| s.need_id);
    let mut answer = json!({
        "offer_id": offer.id,
        "organisation": offer.organisation,
        "suggestions": to_value(suggestions)?,
    });
    if include_ineligible {
        answer["ineligible"] = to_value(ineligible)?;
    }
    Ok(answer)
}

// ---------------------------------------------------------------------------------------------
// Overlaps

/// One side of an overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Item {
    pub(crate) kind: &'static str,
    pub(crate) id: Uuid,
    pub(crate) organisation: String,
    pub(crate) from: Option<Date>,
    pub(crate) until: Option<Date>,
    /// Kept to decide visibility and sameness; not shown.
    #[serde(skip)]
    project_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Overlap {
    pub(crate) member_state: String,
    pub(crate) theme: String,
    /// `None` for two offers: an offer has no beneficiary.
    pub(crate) beneficiary_institution: Option<String>,
    pub(crate) items: [Item; 2],
}

/// Beneficiary names as people type them: case and spacing do not make another institution.
fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn dates_meet(a: &Item, b: &Item) -> bool {
    // A missing start is open to the past, a missing end open to the future.
    let starts_before_end = |x: &Item, y: &Item| match (x.from, y.until) {
        (Some(from), Some(until)) => from <= until,
        _ => true,
    };
    starts_before_end(a, b) && starts_before_end(b, a)
}

/// The same work seen twice: a referral and the project it was activated into, or two referrals
/// activated into one project.
fn same_work(a: &Item, b: &Item) -> bool {
    let project_of = |x: &Item| {
        if x.kind == "project" {
            Some(x.id)
        } else {
            x.project_id
        }
    };
    project_of(a).is_some() && project_of(a) == project_of(b)
}

/// Every overlap among live referrals (not declined or lapsed), live projects (not closed or
/// cancelled) and live offers (draft, open, partially committed):
///
/// - a referral is for its need's State, theme and beneficiary institution, over its offer's
///   validity window (when the work can happen); a project for its recipient country and theme,
///   for each beneficiary of the needs it serves, over its actual dates (planned where not yet
///   known); two of these overlap when State, theme and beneficiary are the same and the dates
///   meet, unless they are the same work (a referral and the project it became);
/// - an offer has no beneficiary, so two offers overlap when both name the same country (not
///   merely a region: two regional offers over one continent are the norm, not a duplicate) and
///   theme and their windows meet. The row's beneficiary is then empty.
///
/// The states are read in place (the read model's shared snapshots), and needs and offers are
/// looked up by id, so one pass costs the number of states, not states × referrals.
pub(crate) fn overlaps<'a>(
    needs: impl IntoIterator<Item = &'a NeedState>,
    offers: impl IntoIterator<Item = &'a OfferState>,
    referrals: impl IntoIterator<Item = &'a ReferralState>,
    projects: impl IntoIterator<Item = &'a ProjectState>,
) -> Vec<Overlap> {
    let needs: std::collections::HashMap<Uuid, &NeedState> =
        needs.into_iter().map(|n| (n.id, n)).collect();
    let offers: Vec<&OfferState> = offers.into_iter().collect();
    let offer_by_id: std::collections::HashMap<Uuid, &OfferState> =
        offers.iter().map(|o| (o.id, *o)).collect();
    // (state, theme, beneficiary key) -> (beneficiary as written, items)
    type Key = (String, String, String);
    let mut groups: BTreeMap<Key, (String, Vec<Item>)> = BTreeMap::new();
    let mut add = |state: &str, theme: &str, beneficiary: &str, item: Item| {
        groups
            .entry((state.to_owned(), theme.to_owned(), normalise(beneficiary)))
            .or_insert_with(|| (beneficiary.trim().to_owned(), Vec::new()))
            .1
            .push(item);
    };
    for r in referrals {
        if matches!(
            r.status,
            None | Some(ReferralStatus::Declined | ReferralStatus::Lapsed)
        ) {
            continue;
        }
        let (Some(need), Some(offer)) = (needs.get(&r.need_id), offer_by_id.get(&r.offer_id))
        else {
            continue;
        };
        add(
            &need.member_state,
            &need.theme,
            &need.beneficiary_institution,
            Item {
                kind: "referral",
                id: r.id,
                organisation: r.organisation.clone(),
                from: offer.valid_from,
                until: offer.valid_until,
                project_id: r.project_id,
            },
        );
    }
    for p in projects {
        if matches!(
            p.status,
            None | Some(ActivityStatus::Closed | ActivityStatus::Cancelled)
        ) {
            continue;
        }
        let mut beneficiaries: Vec<&str> = p
            .needs
            .iter()
            .filter_map(|id| needs.get(id))
            .map(|n| n.beneficiary_institution.as_str())
            .collect();
        beneficiaries.sort_by_key(|b| normalise(b));
        beneficiaries.dedup_by_key(|b| normalise(b));
        let organisation = p
            .participating
            .iter()
            .map(|x| x.organisation.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        for beneficiary in beneficiaries {
            add(
                &p.recipient_country,
                &p.theme,
                beneficiary,
                Item {
                    kind: "project",
                    id: p.id,
                    organisation: organisation.clone(),
                    from: p.actual_start.or(p.planned_start),
                    until: p.actual_end.or(p.planned_end),
                    project_id: Some(p.id),
                },
            );
        }
    }
    let mut out = Vec::new();
    for ((state, theme, _), (beneficiary, items)) in groups {
        for (i, a) in items.iter().enumerate() {
            for b in &items[i + 1..] {
                if a.id != b.id && dates_meet(a, b) && !same_work(a, b) {
                    out.push(Overlap {
                        member_state: state.clone(),
                        theme: theme.clone(),
                        beneficiary_institution: Some(beneficiary.clone()),
                        items: [a.clone(), b.clone()],
                    });
                }
            }
        }
    }
    let live: Vec<&OfferState> = offers
        .iter()
        .copied()
        .filter(|o| {
            matches!(
                o.status,
                Some(OfferStatus::Draft | OfferStatus::Open | OfferStatus::PartiallyCommitted)
            )
        })
        .collect();
    let offer_item = |o: &OfferState| Item {
        kind: "offer",
        id: o.id,
        organisation: o.organisation.clone(),
        from: o.valid_from,
        until: o.valid_until,
        project_id: None,
    };
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            let (ia, ib) = (offer_item(a), offer_item(b));
            if !dates_meet(&ia, &ib) {
                continue;
            }
            for country in a.countries.iter().filter(|c| b.countries.contains(c)) {
                for theme in a.themes.iter().filter(|t| b.themes.contains(t)) {
                    out.push(Overlap {
                        member_state: country.clone(),
                        theme: theme.clone(),
                        beneficiary_institution: None,
                        items: [ia.clone(), ib.clone()],
                    });
                }
            }
        }
    }
    out.sort_by(|x, y| {
        (
            &x.member_state,
            &x.theme,
            &x.beneficiary_institution,
            x.items[0].id,
            x.items[1].id,
        )
            .cmp(&(
                &y.member_state,
                &y.theme,
                &y.beneficiary_institution,
                y.items[0].id,
                y.items[1].id,
            ))
    });
    out
}

/// `overlap_list`: the overlaps whose both items the caller may see (a donor sees a row only
/// when both items are its own organisation's; it is never told what another donor does), for
/// one State, and involving one item (`id`: a referral, offer or project) when asked.
pub(crate) fn overlap_list(
    views: &Views,
    principal: &Principal,
    member_state: Option<&str>,
    id: Option<&str>,
) -> Result<Vec<Overlap>, ErrorBody> {
    let id = id
        .map(|t| {
            t.parse::<Uuid>()
                .map_err(|_| ErrorBody::invalid("id", &format!("{t:?} is not a UUID")))
        })
        .transpose()?;
    let needs = views.scan::<NeedState>("assessments", "need")?;
    let offers = views.scan::<OfferState>("partners", "offer")?;
    let referrals = views.scan::<ReferralState>("projects", "referral")?;
    let projects = views.scan::<ProjectState>("projects", "project")?;
    let referral_by_id: std::collections::HashMap<Uuid, &ReferralState> =
        referrals.iter().map(|r| (r.id, r)).collect();
    let project_by_id: std::collections::HashMap<Uuid, &ProjectState> =
        projects.iter().map(|p| (p.id, p)).collect();
    let sees = |item: &Item| match item.kind {
        "referral" => referral_by_id
            .get(&item.id)
            .is_some_and(|r| visibility::sees_referral(principal, r)),
        "project" => project_by_id
            .get(&item.id)
            .is_some_and(|p| visibility::sees_project(principal, p)),
        _ => principal.may_see_organisation(&item.organisation),
    };
    Ok(overlaps(
        needs.iter(),
        offers.iter(),
        referrals.iter(),
        projects.iter(),
    )
    .into_iter()
    .filter(|o| {
        member_state.is_none_or(|m| m == o.member_state)
            && id.is_none_or(|id| o.items.iter().any(|i| i.id == id))
            && o.items.iter().all(&sees)
    })
    .collect())
}

#[cfg(test)]
mod tests {
    use tatrack_domain::need::{Modality, Units};
    use tatrack_domain::project::Participant;
    use tatrack_domain::sharing::{Audience, Scope, SharingGrantStatus};

    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn usd(minor: i64) -> Money {
        Money::new(minor, "USD").unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, "EUR").unwrap()
    }

    /// Rate tables by date, each rate per US dollar as `tatrack rates record` takes it.
    fn rate_tables(tables: &[(&str, &[(&str, &str)])]) -> RateTableState {
        RateTableState {
            id: Uuid::from_u128(800),
            tables: tables
                .iter()
                .map(|(day, rates)| {
                    let rates = rates
                        .iter()
                        .map(|(currency, per_usd)| rates::Rate {
                            currency: (*currency).into(),
                            per_usd: Ratio::parse_decimal("per_usd", per_usd).unwrap(),
                        })
                        .collect();
                    (date(day), rates)
                })
                .collect(),
        }
    }

    fn officers(quantity: u64) -> Units {
        Units {
            measure: "officers trained".into(),
            quantity,
        }
    }

    fn need(n: u128, country: &str, priority: u8) -> NeedState {
        NeedState {
            id: Uuid::from_u128(n),
            status: Some(NeedStatus::AgreedWithState),
            member_state: country.into(),
            recommendation_ids: vec![],
            theme: "BOR".into(),
            modality: Some(Modality::Training),
            description: "Train border officers".into(),
            beneficiary_institution: "Border Police".into(),
            estimated_cost: Some(usd(10_000_000)),
            size: Some(officers(200)),
            priority,
            covered_money: None,
            covered_units: None,
            ..NeedState::default()
        }
    }

    fn offer(n: u128, organisation: &str) -> OfferState {
        OfferState {
            id: Uuid::from_u128(n),
            status: Some(OfferStatus::Open),
            organisation: organisation.into(),
            title: format!("Offer {n}"),
            themes: vec!["BOR".into()],
            countries: vec!["KE".into()],
            regions: vec![],
            modalities: vec![Modality::Training],
            budget: Some(usd(5_000_000)),
            capacity: Some(officers(100)),
            valid_from: Some(date("2026-01-01")),
            valid_until: Some(date("2026-12-31")),
            languages: vec!["en".into()],
            conditions: None,
            committed_money: None,
            committed_units: None,
            published_on: Some(date("2026-01-01")),
            ..OfferState::default()
        }
    }

    fn all_donors(country: &str) -> SharingGrantState {
        SharingGrantState {
            id: Uuid::from_u128(900),
            status: Some(SharingGrantStatus::Active),
            member_state: country.into(),
            scope: Some(Scope::AllNeeds),
            audience: Some(Audience::AllDonors),
            until: None,
            granted_on: Some(date("2026-01-01")),
            revoked_on: None,
        }
    }

    struct World {
        grants: Vec<SharingGrantState>,
        referrals: Vec<ReferralState>,
        projects: Vec<ProjectState>,
        rates: RateTableState,
    }

    impl World {
        fn new() -> Self {
            Self {
                grants: vec![all_donors("KE"), all_donors("UG"), all_donors("EG")],
                referrals: vec![],
                projects: vec![],
                rates: RateTableState::default(),
            }
        }

        fn cx<'a>(&'a self, language: Option<&'a str>) -> Context<'a> {
            Context {
                as_of: date("2026-06-01"),
                grants: &self.grants,
                referrals: &self.referrals,
                projects: &self.projects,
                rates: &self.rates,
                language,
            }
        }
    }

    fn scored(v: Verdict) -> Scored {
        match v {
            Verdict::Eligible(s) => s,
            Verdict::Ineligible(r) => panic!("ineligible: {r:?}"),
        }
    }

    fn reasons(v: Verdict) -> Vec<Reason> {
        match v {
            Verdict::Eligible(s) => panic!("eligible: {s:?}"),
            Verdict::Ineligible(r) => r,
        }
    }

    fn fields(v: Verdict) -> Vec<String> {
        reasons(v).into_iter().map(|r| r.field).collect()
    }

    fn detail(s: &Scored, criterion: &str) -> String {
        s.explanation
            .iter()
            .find(|c| c.criterion == criterion)
            .unwrap_or_else(|| panic!("no {criterion}"))
            .detail
            .clone()
    }

    fn points(s: &Scored, criterion: &str) -> u32 {
        s.explanation
            .iter()
            .find(|c| c.criterion == criterion)
            .unwrap_or_else(|| panic!("no {criterion}"))
            .points
    }

    #[test]
    fn an_eligible_offer_is_scored_criterion_by_criterion() {
        let w = World::new();
        let s = scored(assess(
            &need(1, "KE", 1),
            &offer(2, "ORG-A"),
            &w.cx(Some("en")),
        ));
        // Half the money and half the units the need lacks: 15 of 30; 213 days left: 10.
        assert_eq!(points(&s, "theme"), 15);
        assert_eq!(points(&s, "place"), 15);
        assert_eq!(points(&s, "modality"), 10);
        assert_eq!(points(&s, "money"), 7);
        assert_eq!(points(&s, "units"), 7);
        assert_eq!(points(&s, "window"), 10);
        assert_eq!(points(&s, "language"), 5);
        assert_eq!(points(&s, "track_record"), 0);
        assert_eq!(points(&s, "priority"), 5);
        assert_eq!(s.score, 74);
        assert_eq!(s.max_score, 100);
        assert_eq!(s.share_money, Some(usd(5_000_000)));
        assert_eq!(s.share_units, Some(100));
        let body = propose_body(
            &need(1, "KE", 1),
            &offer(2, "ORG-A"),
            s.share_money.as_ref(),
            s.share_units,
            &w.referrals,
        );
        assert_eq!(body["need_id"], Uuid::from_u128(1).to_string());
        // The same question, the same id; another referral of the pair, another id.
        let id = suggested_id(Uuid::from_u128(1), Uuid::from_u128(2), &[]);
        assert_eq!(body["id"], id.to_string());
        assert_eq!(id.get_version_num(), 8);
        let earlier = ReferralState {
            need_id: Uuid::from_u128(1),
            offer_id: Uuid::from_u128(2),
            ..ReferralState::default()
        };
        assert_ne!(
            suggested_id(Uuid::from_u128(1), Uuid::from_u128(2), &[earlier]),
            id
        );
        assert_ne!(
            suggested_id(Uuid::from_u128(2), Uuid::from_u128(1), &[]),
            id
        );
        assert_eq!(body["organisation"], "ORG-A");
        assert_eq!(
            body["share_money"],
            json!({"amount_minor": 5_000_000, "currency": "USD"})
        );
        assert_eq!(body["share_units"], 100);
    }

    #[test]
    fn a_bigger_offer_with_a_track_record_ranks_higher() {
        let mut w = World::new();
        let mut big = offer(3, "ORG-B");
        big.budget = Some(usd(20_000_000));
        big.capacity = Some(officers(300));
        w.projects.push(ProjectState {
            id: Uuid::from_u128(50),
            status: Some(ActivityStatus::Implementation),
            iati_identifier: "XM-ORG-B-1".into(),
            recipient_country: "KE".into(),
            participating: vec![Participant {
                organisation: "ORG-B".into(),
                role: "4".into(),
            }],
            ..ProjectState::default()
        });
        let n = need(1, "KE", 1);
        let small = scored(assess(&n, &offer(2, "ORG-A"), &w.cx(None)));
        let big = scored(assess(&n, &big, &w.cx(None)));
        assert!(big.score > small.score, "{big:?} {small:?}");
        assert_eq!(points(&big, "money"), 15);
        assert_eq!(points(&big, "units"), 15);
        assert_eq!(points(&big, "track_record"), 5);
        // Capped at what the need lacks.
        assert_eq!(big.share_money, Some(usd(10_000_000)));
        assert_eq!(big.share_units, Some(200));
        // No language asked: the criterion counts for nobody.
        assert_eq!(big.max_score, 95);
    }

    #[test]
    fn a_regional_offer_serves_a_country_of_its_region_for_fewer_points() {
        let w = World::new();
        let mut regional = offer(2, "ORG-A");
        regional.countries = vec![];
        regional.regions = vec!["1027".into()];
        let s = scored(assess(&need(1, "UG", 2), &regional, &w.cx(None)));
        assert_eq!(points(&s, "place"), 10);
        assert!(
            s.explanation[1].detail.contains("1027"),
            "{:?}",
            s.explanation[1]
        );
        assert_eq!(
            fields(assess(&need(1, "EG", 2), &regional, &w.cx(None))),
            ["country"]
        );
    }

    #[test]
    fn ineligible_offers_say_every_reason() {
        let mut w = World::new();
        let mut o = offer(2, "ORG-A");
        o.themes = vec!["CFT".into()];
        o.modalities = vec![Modality::Equipment];
        o.valid_until = Some(date("2026-05-31"));
        assert_eq!(
            fields(assess(&need(1, "KE", 1), &o, &w.cx(None))),
            ["theme", "modality", "valid_until"]
        );
        // Not shared with the organisation: the projects service would refuse the need.
        w.grants.clear();
        assert_eq!(
            fields(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None))),
            ["need_id"]
        );
        // A need not yet agreed with the State.
        let w = World::new();
        let mut identified = need(1, "KE", 1);
        identified.status = Some(NeedStatus::Identified);
        assert_eq!(
            fields(assess(&identified, &offer(2, "ORG-A"), &w.cx(None))),
            ["need_id"]
        );
        // Committed, or nothing the need lacks.
        let mut committed = offer(2, "ORG-A");
        committed.status = Some(OfferStatus::Committed);
        assert_eq!(
            fields(assess(&need(1, "KE", 1), &committed, &w.cx(None))),
            ["status"]
        );
        let mut units_only = need(1, "KE", 1);
        units_only.estimated_cost = None;
        let mut money_only = offer(2, "ORG-A");
        money_only.capacity = None;
        assert_eq!(
            fields(assess(&units_only, &money_only, &w.cx(None))),
            ["share_money"]
        );
        // Another currency with no recorded rate: the money cannot be compared (the reason alone,
        // not "nothing to give").
        let mut euros = offer(2, "ORG-A");
        euros.budget = Some(eur(5_000_000));
        euros.capacity = None;
        assert_eq!(
            fields(assess(&need(1, "KE", 1), &euros, &w.cx(None))),
            ["currency"]
        );
    }

    /// N1 lacks 100000.00 USD and 200 officers; this offer has 50000.00 EUR and no units.
    fn euro_offer() -> OfferState {
        let mut euros = offer(2, "ORG-A");
        euros.budget = Some(eur(5_000_000));
        euros.capacity = None;
        euros
    }

    #[test]
    fn another_currency_without_a_rate_is_ineligible_for_the_missing_rate() {
        let mut w = World::new();
        // Units to give as well: the money share would still be refused, so no suggestion.
        let mut euros = euro_offer();
        euros.capacity = Some(officers(100));
        assert_eq!(
            reasons(assess(&need(1, "KE", 1), &euros, &w.cx(None))),
            [Reason {
                field: "currency".into(),
                reason: "no EUR→USD rate recorded (record one with: tatrack rates record \
                         --on 2026-06-01 --rate EUR=RATE, RATE being EUR per US dollar)"
                    .into(),
            }]
        );
        // The other way round (a need costed in euros, an offer in dollars), as offer_match_list
        // asks it: the arrow still goes from the offer's currency to the need's.
        let mut costed_in_euros = need(1, "KE", 1);
        costed_in_euros.estimated_cost = Some(eur(10_000_000));
        let why = reasons(assess(&costed_in_euros, &offer(2, "ORG-A"), &w.cx(None)));
        assert_eq!(why.len(), 1, "{why:?}");
        assert_eq!(why[0].field, "currency");
        assert!(
            why[0].reason.starts_with("no USD→EUR rate recorded (record one with: tatrack rates record --on 2026-06-01 --rate EUR=RATE,"),
            "{why:?}"
        );
        // A table in force without the currency: the command repeats its other rates, since a
        // new table replaces it.
        w.rates = rate_tables(&[("2026-05-01", &[("GBP", "0.79")])]);
        let why = reasons(assess(&need(1, "KE", 1), &euro_offer(), &w.cx(None)));
        assert_eq!(
            why[0].reason,
            "no EUR→USD rate recorded (record one with: tatrack rates record --on 2026-06-01 \
             --rate EUR=RATE --rate GBP=0.79, RATE being EUR per US dollar; the other rates \
             repeat the table of 2026-05-01, which a new table replaces)"
        );
        // A table of the matching date itself is never changed: only a later day can have it.
        w.rates = rate_tables(&[("2026-06-01", &[("GBP", "0.79")])]);
        let why = reasons(assess(&need(1, "KE", 1), &euro_offer(), &w.cx(None)));
        assert!(
            why[0].reason.starts_with(
                "no EUR→USD rate recorded (the table of 2026-06-01 has none and is never changed"
            ),
            "{why:?}"
        );
    }

    #[test]
    fn a_rate_recorded_only_after_the_matching_date_does_not_count() {
        let mut w = World::new();
        w.rates = rate_tables(&[("2026-06-02", &[("EUR", "0.92")])]);
        let why = reasons(assess(&need(1, "KE", 1), &euro_offer(), &w.cx(None)));
        assert_eq!(why.len(), 1, "{why:?}");
        assert_eq!(why[0].field, "currency");
        assert!(
            why[0].reason.starts_with(
                "no EUR→USD rate recorded (record one with: tatrack rates record --on 2026-06-01 "
            ),
            "{why:?}"
        );
    }

    #[test]
    fn with_a_rate_money_is_compared_in_the_need_currency_and_given_in_the_offer_currency() {
        let mut w = World::new();
        // The table in force on 2026-06-01 is the one of 2026-05-15, not the later one.
        w.rates = rate_tables(&[
            ("2026-05-15", &[("EUR", "0.92")]),
            ("2026-07-01", &[("EUR", "0.5")]),
        ]);
        let mut euros = euro_offer();
        euros.budget = Some(eur(10_000_000));
        let mut n = need(1, "KE", 1);
        n.estimated_cost = Some(usd(5_000_000));
        let s = scored(assess(&n, &euros, &w.cx(None)));
        assert_eq!(
            detail(&s, "money"),
            "the offer has 100000.00 EUR left (108695.65 USD at 0.92 EUR per USD, rates of \
             2026-05-15); the need lacks 50000.00 USD"
        );
        // All the need lacks (half of 30: it lacks units too); the share is what the offer
        // gives, in euros: 50000.00 USD at 0.92.
        assert_eq!(points(&s, "money"), 15);
        assert_eq!(s.share_money, Some(eur(4_600_000)));
        assert_eq!(s.lacking_money, Some(eur(4_600_000)));
        // Points by the dollars the euros are worth: more than the 100000.00 USD the need
        // lacks, then half of it.
        let s = scored(assess(&need(1, "KE", 1), &euros, &w.cx(None)));
        assert_eq!(
            detail(&s, "money"),
            "the offer has 100000.00 EUR left (108695.65 USD at 0.92 EUR per USD, rates of \
             2026-05-15); the need lacks 100000.00 USD"
        );
        assert_eq!(points(&s, "money"), 15);
        euros.budget = Some(eur(4_600_000));
        let s = scored(assess(&need(1, "KE", 1), &euros, &w.cx(None)));
        assert!(detail(&s, "money").contains("(50000.00 USD at 0.92 EUR per USD"));
        assert_eq!(points(&s, "money"), 7);
        assert_eq!(s.share_money, Some(eur(4_600_000)));
        // Neither currency the dollar: both rates are quoted.
        w.rates = rate_tables(&[("2026-05-15", &[("EUR", "0.92"), ("GBP", "0.79")])]);
        let mut costed_in_pounds = need(1, "KE", 1);
        costed_in_pounds.estimated_cost = Some(Money::new(7_900_000, "GBP").unwrap());
        let s = scored(assess(&costed_in_pounds, &euros, &w.cx(None)));
        assert_eq!(
            detail(&s, "money"),
            "the offer has 46000.00 EUR left (39500.00 GBP at 0.92 EUR and 0.79 GBP per USD, \
             rates of 2026-05-15); the need lacks 79000.00 GBP"
        );
    }

    #[test]
    fn a_training_offer_with_the_units_asked_for_ranks_above_a_generic_one_as_of_the_date() {
        let w = World::new();
        let n = need(1, "KE", 1);
        // Training for the officers the need lacks, in dollars, valid until 2026-12-31: 213
        // days left on 2026-06-01, but expired years later.
        let mut training = offer(2, "ORG-A");
        training.capacity = Some(officers(200));
        // Money only, twice the training's budget, open-ended.
        let mut generic = offer(3, "ORG-B");
        generic.capacity = None;
        generic.budget = Some(usd(10_000_000));
        generic.valid_until = None;
        let cx = w.cx(None);
        let t = scored(assess(&n, &training, &cx));
        assert_eq!(points(&t, "window"), 10);
        assert!(detail(&t, "window").contains("213 days left"), "{t:?}");
        assert_eq!(points(&t, "units"), 15);
        let g = scored(assess(&n, &generic, &cx));
        assert_eq!(points(&g, "units"), 0);
        let mut ranked = vec![
            Suggestion::new(&n, &generic, g, &w.referrals),
            Suggestion::new(&n, &training, t, &w.referrals),
        ];
        rank(&mut ranked, |s| s.offer_id);
        let order: Vec<Uuid> = ranked.iter().map(|s| s.offer_id).collect();
        assert_eq!(order, [training.id, generic.id]);
        assert!(ranked[0].score > ranked[1].score);
        // Counted from a date years later, the training would not even be eligible.
        let later = Context {
            as_of: date("2029-06-01"),
            ..w.cx(None)
        };
        assert_eq!(fields(assess(&n, &training, &later)), ["valid_until"]);
        scored(assess(&n, &generic, &later));
    }

    #[test]
    fn an_open_referral_for_the_same_pair_leaves_the_offer_out() {
        let mut w = World::new();
        w.referrals.push(ReferralState {
            id: Uuid::from_u128(70),
            status: Some(ReferralStatus::Referred),
            need_id: Uuid::from_u128(1),
            offer_id: Uuid::from_u128(2),
            ..ReferralState::default()
        });
        assert_eq!(
            fields(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None))),
            ["offer_id"]
        );
        // Accepted by the State, it is still open: a second referral would be a duplicate.
        w.referrals[0].status = Some(ReferralStatus::AcceptedByState);
        assert_eq!(
            fields(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None))),
            ["offer_id"]
        );
        w.referrals[0].status = Some(ReferralStatus::Declined);
        scored(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None)));
    }

    #[test]
    fn query_flags_and_languages_name_the_field() {
        assert_eq!(flag("include_ineligible", None), Ok(false));
        assert_eq!(flag("include_ineligible", Some(&json!("true"))), Ok(true));
        assert_eq!(flag("include_ineligible", Some(&json!(false))), Ok(false));
        assert_eq!(
            flag("include_ineligible", Some(&json!("yes")))
                .unwrap_err()
                .field
                .as_deref(),
            Some("include_ineligible")
        );
        assert_eq!(language(Some("fr")), Ok(Some("fr")));
        assert_eq!(
            language(Some("FR")).unwrap_err().field.as_deref(),
            Some("language")
        );
    }

    fn referral(n: u128, need: u128, offer: u128, organisation: &str) -> ReferralState {
        ReferralState {
            id: Uuid::from_u128(n),
            status: Some(ReferralStatus::Proposed),
            need_id: Uuid::from_u128(need),
            offer_id: Uuid::from_u128(offer),
            member_state: "KE".into(),
            organisation: organisation.into(),
            ..ReferralState::default()
        }
    }

    #[test]
    fn overlaps_pair_same_state_theme_beneficiary_and_dates() {
        let n1 = need(1, "KE", 1);
        let mut n2 = need(2, "KE", 2);
        n2.beneficiary_institution = "  border   POLICE ".into();
        let mut n3 = need(3, "KE", 2);
        n3.beneficiary_institution = "Customs".into();
        let o1 = offer(11, "ORG-A");
        let mut o2 = offer(12, "ORG-B");
        o2.countries = vec!["UG".into()];
        let mut o3 = offer(13, "ORG-C");
        o3.valid_from = Some(date("2027-01-01"));
        o3.valid_until = Some(date("2027-12-31"));
        o3.countries = vec!["UG".into()];
        let referrals = vec![
            referral(21, 1, 11, "ORG-A"),
            referral(22, 2, 12, "ORG-B"), // same beneficiary, differently typed: overlaps 21
            referral(23, 3, 12, "ORG-B"), // another beneficiary
            referral(24, 1, 13, "ORG-C"), // same need, but the window starts after 21's ends
        ];
        let project = ProjectState {
            id: Uuid::from_u128(31),
            status: Some(ActivityStatus::Implementation),
            recipient_country: "KE".into(),
            theme: "BOR".into(),
            needs: vec![Uuid::from_u128(2)],
            planned_start: Some(date("2026-03-01")),
            planned_end: Some(date("2026-09-30")),
            participating: vec![Participant {
                organisation: "ORG-B".into(),
                role: "4".into(),
            }],
            ..ProjectState::default()
        };
        let mut rows = overlaps(
            &[n1, n2, n3],
            &[o1, o2, o3],
            &referrals,
            std::slice::from_ref(&project),
        );
        let pairs: Vec<(u128, u128)> = rows
            .iter()
            .map(|r| (r.items[0].id.as_u128(), r.items[1].id.as_u128()))
            .collect();
        assert_eq!(pairs, [(21, 22), (21, 31), (22, 31)]);
        assert_eq!(
            rows[0].beneficiary_institution.as_deref(),
            Some("Border Police")
        );
        // Once referral 22 is activated into the project, the two are one piece of work.
        let mut activated = referrals.clone();
        activated[1].project_id = Some(project.id);
        activated[1].status = Some(ReferralStatus::Active);
        rows = overlaps(
            &[need(1, "KE", 1), {
                let mut n = need(2, "KE", 2);
                n.beneficiary_institution = "Border Police".into();
                n
            }],
            &[offer(11, "ORG-A"), {
                let mut o = offer(12, "ORG-B");
                o.countries = vec!["UG".into()];
                o
            }],
            &activated[..2],
            std::slice::from_ref(&project),
        );
        let pairs: Vec<(u128, u128)> = rows
            .iter()
            .map(|r| (r.items[0].id.as_u128(), r.items[1].id.as_u128()))
            .collect();
        assert_eq!(pairs, [(21, 22), (21, 31)]);
    }

    #[test]
    fn offers_overlap_on_a_named_country_and_theme_in_meeting_windows() {
        let a = offer(1, "ORG-A");
        let mut b = offer(2, "ORG-B");
        b.countries = vec!["KE".into(), "UG".into()];
        b.themes = vec!["BOR".into(), "LEA".into()];
        let mut later = offer(3, "ORG-C");
        later.valid_from = Some(date("2027-01-01"));
        later.valid_until = Some(date("2027-06-30"));
        let mut regional = offer(4, "ORG-D");
        regional.countries = vec![];
        regional.regions = vec!["298".into()];
        let mut withdrawn = offer(5, "ORG-E");
        withdrawn.status = Some(OfferStatus::Withdrawn);
        let rows = overlaps(&[], &[a, b, later, regional, withdrawn], &[], &[]);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].member_state, "KE");
        assert_eq!(rows[0].theme, "BOR");
        assert_eq!(rows[0].beneficiary_institution, None);
        assert_eq!(rows[0].items[0].kind, "offer");
    }
}
