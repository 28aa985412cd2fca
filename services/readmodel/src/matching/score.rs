//! Scoring one need against one offer: eligibility (the projects service's rules) and the points
//! of every criterion, with the share a referral would propose. Pure: no clock, no projections.

use jiff::civil::Date;
use tatrack_contract::answers::{Criterion, Reason};
use tatrack_contract::commands::referral::Propose;
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::{self, OfferState, OfferStatus};
use tatrack_domain::project::{ActivityStatus, ProjectState};
use tatrack_domain::rates::{self, RateTableState, Ratio};
use tatrack_domain::referral::{self, ReferralState};
use tatrack_domain::sharing::SharingGrantState;
use tatrack_domain::{DomainError, Money, codes};
use uuid::Uuid;

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
    pub(crate) rates: &'a RateTableState,
    /// ISO 639-1 code the caller wants the work done in, if any.
    pub(crate) language: Option<&'a str>,
    /// The projects by country and organisation taking part, read once for every pair.
    pub(crate) track_records: TrackRecords<'a>,
}

/// The IATI identifiers of the projects not cancelled, by recipient country and participating
/// organisation, in the projects' order: the track-record criterion asks it once per offer, and
/// scanning every project for every offer cost most of a need's matching (1,000 offers and
/// 2,000 projects: 2 million comparisons).
#[derive(Debug, Default, Clone)]
pub(crate) struct TrackRecords<'a>(
    std::collections::HashMap<&'a str, std::collections::HashMap<&'a str, Vec<&'a str>>>,
);

impl<'a> TrackRecords<'a> {
    pub(crate) fn of(projects: impl IntoIterator<Item = &'a ProjectState>) -> Self {
        let mut by =
            std::collections::HashMap::<&str, std::collections::HashMap<&str, Vec<&str>>>::new();
        for p in projects
            .into_iter()
            .filter(|p| p.status != Some(ActivityStatus::Cancelled))
        {
            // A project counts once for an organisation, whatever roles it has in it.
            let mut organisations: Vec<&str> = p
                .participating
                .iter()
                .map(|x| x.organisation.as_str())
                .collect();
            organisations.sort_unstable();
            organisations.dedup();
            for organisation in organisations {
                by.entry(p.recipient_country.as_str())
                    .or_default()
                    .entry(organisation)
                    .or_default()
                    .push(p.iati_identifier.as_str());
            }
        }
        Self(by)
    }

    /// The projects of `organisation` in `country`.
    fn of_in(&self, organisation: &str, country: &str) -> &[&'a str] {
        self.0
            .get(country)
            .and_then(|by_organisation| by_organisation.get(organisation))
            .map_or(&[], Vec::as_slice)
    }
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
    let mut line = |criterion: &str, points, max, detail: String| {
        explanation.push(Criterion {
            criterion: criterion.to_owned(),
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

    let past = cx.track_records.of_in(&offer.organisation, country);
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
) -> Propose {
    Propose {
        id: Some(suggested_id(need.id, offer.id, referrals)),
        need_id: need.id,
        offer_id: offer.id,
        member_state: need.member_state.clone(),
        organisation: offer.organisation.clone(),
        share_money: share_money.cloned(),
        share_units,
        on: None,
    }
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
