//! Offer: help a donor or implementing partner offers, by theme, place and modality, with a budget
//! and/or a capacity in units, until it is committed to referrals, withdrawn or expired.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{
    Aggregate, Dated, Lifecycle, amend, amend_optional, changed, changed_optional, changed_text,
    check_new, check_target,
};
use crate::codes;
use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::money::{Money, check_positive};
use crate::need::{Fill, Modality, Running, Units, fill};
use crate::organisation::check_organisation_id;
use crate::validate::{
    check_date_order, check_not_before, check_text, check_unique, optional_reason, required_reason,
    trimmed,
};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_CONDITIONS_CHARS: usize = 2000;
pub use crate::need::MAX_MEASURE_CHARS;

string_enum! {
    pub enum OfferStatus ("status") {
        Draft => "draft",
        Open => "open",
        PartiallyCommitted => "partially_committed",
        Committed => "committed",
        Withdrawn => "withdrawn",
        Expired => "expired",
    }
}

impl OfferStatus {
    /// Withdrawn and expired offers never change again.
    pub fn is_final(self) -> bool {
        matches!(self, OfferStatus::Withdrawn | OfferStatus::Expired)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OfferCommand {
    /// Creates the offer, `draft`.
    Draft {
        id: Uuid,
        /// The offering organisation's id.
        organisation: String,
        title: String,
        /// Theme codes; at least one.
        themes: Vec<String>,
        /// Eligible countries (ISO 3166-1 alpha-2); with `regions`, at least one of the two.
        countries: Vec<String>,
        /// Eligible IATI regions (OECD DAC region codes).
        regions: Vec<String>,
        /// At least one.
        modalities: Vec<Modality>,
        /// Positive when given; with `capacity`, at least one of the two.
        budget: Option<Money>,
        capacity: Option<Units>,
        valid_from: Date,
        valid_until: Date,
        /// ISO 639-1 codes, lower case, e.g. `"en"`, `"fr"`; at least one.
        languages: Vec<String>,
        conditions: Option<String>,
        /// Business date.
        on: Date,
    },
    /// draft -> open, on or before `valid_until`.
    Publish {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// Changes the given fields (`None` keeps the field) while draft, open or partially committed. The
    /// budget and capacity may not fall below what is already committed.
    Amend {
        id: Uuid,
        title: Option<String>,
        themes: Option<Vec<String>>,
        countries: Option<Vec<String>>,
        regions: Option<Vec<String>>,
        modalities: Option<Vec<Modality>>,
        budget: Option<Money>,
        capacity: Option<Units>,
        valid_until: Option<Date>,
        languages: Option<Vec<String>>,
        conditions: Option<String>,
        on: Date,
    },
    /// -> withdrawn, from draft, open or partially committed; the reason is required.
    Withdraw { id: Uuid, on: Date, reason: String },
    /// -> expired, from draft, open or partially committed, once `on` is after `valid_until`.
    Expire { id: Uuid, on: Date },
    /// The commitments so far, as totals (not increments) over accepted referrals, sent by the projects
    /// service; a measure left `None` keeps its previous total. Derives open / partially_committed /
    /// committed.
    RecordCommitment {
        id: Uuid,
        committed_money: Option<Money>,
        committed_units: Option<u64>,
        /// A derived fact dated by the referral move that caused it: it may go back before the
        /// offer's last move (a late acceptance), though not before the offer was published.
        on: Date,
    },
}

command_fields!(OfferCommand: Draft, Publish, Amend, Withdraw, Expire, RecordCommitment);

event_enum! {
    pub enum OfferEvent {
        OfferDrafted {
            id: Uuid,
            organisation: String,
            title: String,
            themes: Vec<String>,
            countries: Vec<String>,
            regions: Vec<String>,
            modalities: Vec<Modality>,
            budget: Option<Money>,
            capacity: Option<Units>,
            valid_from: Date,
            valid_until: Date,
            languages: Vec<String>,
            conditions: Option<String>,
            /// Business date.
            on: Date,
        },
        OfferPublished {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        /// Only the fields that changed are `Some`.
        OfferAmended {
            id: Uuid,
            title: Option<String>,
            themes: Option<Vec<String>>,
            countries: Option<Vec<String>>,
            regions: Option<Vec<String>>,
            modalities: Option<Vec<Modality>>,
            budget: Option<Money>,
            capacity: Option<Units>,
            valid_until: Option<Date>,
            languages: Option<Vec<String>>,
            conditions: Option<String>,
            on: Date,
        },
        OfferWithdrawn {
            id: Uuid,
            on: Date,
            reason: String,
        },
        OfferExpired {
            id: Uuid,
            on: Date,
        },
        /// The commitment totals after the change and the status they give.
        OfferCommitmentRecorded {
            id: Uuid,
            committed_money: Option<Money>,
            committed_units: Option<u64>,
            status: OfferStatus,
            on: Date,
        },
    }
}

event_fields!(OfferEvent:
    OfferDrafted, OfferPublished, OfferAmended, OfferWithdrawn, OfferExpired,
    OfferCommitmentRecorded,
);

/// An offer as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OfferState {
    pub id: Uuid,
    pub status: Option<OfferStatus>,
    pub organisation: String,
    pub title: String,
    pub themes: Vec<String>,
    pub countries: Vec<String>,
    pub regions: Vec<String>,
    pub modalities: Vec<Modality>,
    pub budget: Option<Money>,
    pub capacity: Option<Units>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub valid_from: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub valid_until: Option<Date>,
    pub languages: Vec<String>,
    pub conditions: Option<String>,
    pub committed_money: Option<Money>,
    pub committed_units: Option<u64>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub drafted_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub published_on: Option<Date>,
    /// The business date of the latest commitment totals (derived facts, which may be back-dated).
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub commitment_on: Option<Date>,
    /// The business date of the latest move of its own, which the next may not precede.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

impl OfferState {
    /// The commitments recorded so far, against the offer's budget.
    fn commitment(&self) -> Running<'_> {
        Running {
            totals: "committed",
            owner: "offer",
            target_money: self.budget.as_ref(),
            money: self.committed_money.as_ref(),
            units: self.committed_units,
            on: self.commitment_on,
        }
    }

    /// [`commitment_status`] of the offer as it stands.
    fn commitment_status(&self) -> OfferStatus {
        commitment_status(
            self.budget.as_ref(),
            self.capacity.as_ref(),
            self.committed_money.as_ref(),
            self.committed_units,
        )
    }
}

/// The status commitment totals give a published offer: nothing committed is open; it is committed
/// when every measure it has (budget, capacity) is fully committed; otherwise partially committed.
pub fn commitment_status(
    budget: Option<&Money>,
    capacity: Option<&Units>,
    committed_money: Option<&Money>,
    committed_units: Option<u64>,
) -> OfferStatus {
    match fill(budget, capacity, committed_money, committed_units) {
        Fill::Nothing => OfferStatus::Open,
        Fill::Part => OfferStatus::PartiallyCommitted,
        Fill::Whole => OfferStatus::Committed,
    }
}

/// What is left to commit: budget minus committed money, capacity minus committed units (never below
/// zero); `None` for a measure the offer does not have.
pub fn remaining(state: &OfferState) -> (Option<Money>, Option<u64>) {
    let money = state.budget.as_ref().map(|b| {
        let committed = state
            .committed_money
            .as_ref()
            .filter(|c| c.currency == b.currency)
            .map_or(0, |c| c.amount_minor);
        Money {
            amount_minor: b.amount_minor.saturating_sub(committed).max(0),
            currency: b.currency.clone(),
        }
    });
    let units = state.capacity.as_ref().map(|c| {
        c.quantity
            .saturating_sub(state.committed_units.unwrap_or(0))
    });
    (money, units)
}

/// Whether the offer can serve a need for `theme` in `country` by `modality` on date `on`: `Ok` or
/// the first reason it cannot. The place is eligible when the offer lists the country, or one of the
/// DAC regions the country belongs to (`codes::regions_of`), or `region` when the need names one.
/// Checked in this order: field `theme`, `country`, `modality`, `valid_from` / `valid_until` (the
/// validity window), `status` (only open and partially committed offers take referrals).
pub fn covers(
    state: &OfferState,
    theme: &str,
    country: &str,
    region: Option<&str>,
    modality: Modality,
    on: Date,
) -> Result<(), DomainError> {
    if !state.themes.iter().any(|t| t == theme) {
        return Err(DomainError::invalid(
            "theme",
            format!("the offer does not cover theme {theme}"),
        ));
    }
    let in_country = state.countries.iter().any(|c| c == country);
    let in_region = region
        .into_iter()
        .chain(codes::regions_of(country).iter().copied())
        .any(|r| state.regions.iter().any(|x| x == r));
    if !in_country && !in_region {
        return Err(DomainError::invalid(
            "country",
            format!("the offer is not for {country} nor its region"),
        ));
    }
    if !state.modalities.contains(&modality) {
        return Err(DomainError::invalid(
            "modality",
            format!("the offer does not provide {modality}"),
        ));
    }
    if let Some(from) = state.valid_from.filter(|from| on < *from) {
        return Err(DomainError::invalid(
            "valid_from",
            format!("the offer is valid from {from}, after {on}"),
        ));
    }
    if let Some(until) = state.valid_until.filter(|until| on > *until) {
        return Err(DomainError::invalid(
            "valid_until",
            format!("the offer was valid until {until}, before {on}"),
        ));
    }
    match state.status {
        Some(OfferStatus::Open | OfferStatus::PartiallyCommitted) => Ok(()),
        // Expired since, but open on `on` (within its window, checked above): a referral made
        // then and recorded late is still a referral to an open offer.
        Some(OfferStatus::Expired) if state.published_on.is_some_and(|p| p <= on) => Ok(()),
        Some(status) => Err(DomainError::invalid(
            "status",
            format!("the offer is {status}, not open"),
        )),
        None => Err(DomainError::invalid("status", "the offer does not exist")),
    }
}

/// The decider.
pub struct Offer;

impl Aggregate for Offer {
    const NAME: &'static str = "offer";
    type State = OfferState;
    type Command = OfferCommand;
    type Event = OfferEvent;

    fn decide(state: &OfferState, command: &OfferCommand) -> Result<Vec<OfferEvent>, DomainError> {
        use OfferCommand as C;
        use OfferEvent as E;
        use OfferStatus as S;

        if let C::Draft {
            id,
            organisation,
            title,
            themes,
            countries,
            regions,
            modalities,
            budget,
            capacity,
            valid_from,
            valid_until,
            languages,
            conditions,
            on,
        } = command
        {
            check_new(Self::NAME, state.status.is_some(), *id)?;
            check_organisation_id("organisation", organisation)?;
            let title = trimmed("title", title, MAX_TITLE_CHARS)?;
            check_themes(themes)?;
            check_places(countries, regions)?;
            check_modalities(modalities)?;
            if let Some(b) = budget {
                check_positive("budget", b)?;
            }
            if let Some(c) = capacity {
                c.check("capacity")?;
            }
            if budget.is_none() && capacity.is_none() {
                return Err(DomainError::invalid(
                    "budget",
                    "give a budget, a capacity or both",
                ));
            }
            check_date_order("valid_until", *valid_from, *valid_until)?;
            check_languages(languages)?;
            if let Some(c) = conditions {
                check_text("conditions", c, MAX_CONDITIONS_CHARS)?;
            }
            return Ok(vec![E::OfferDrafted {
                id: *id,
                organisation: organisation.clone(),
                title,
                themes: themes.clone(),
                countries: countries.clone(),
                regions: regions.clone(),
                modalities: modalities.clone(),
                budget: budget.clone(),
                capacity: capacity.as_ref().map(Units::trimmed),
                valid_from: *valid_from,
                valid_until: *valid_until,
                languages: languages.clone(),
                conditions: conditions.as_deref().map(|c| c.trim().to_owned()),
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let offer = Lifecycle::new(Self::NAME, state.status.unwrap_or(S::Draft), state.last_on);
        let (status, id, on) = (offer.status, state.id, command.on());
        let live = matches!(status, S::Draft | S::Open | S::PartiallyCommitted);
        match command {
            C::Draft { .. } => unreachable!("handled above"),
            C::Publish { reason, .. } => {
                offer.check(status == S::Draft, "publish", on)?;
                if let Some(until) = state.valid_until.filter(|until| on > *until) {
                    return Err(DomainError::invalid(
                        "on",
                        format!("must not be after valid_until {until}, got {on}"),
                    ));
                }
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::OfferPublished { id, on, reason }])
            }
            C::Withdraw { reason, .. } => {
                offer.check(live, "withdraw", on)?;
                let reason = required_reason(reason)?;
                Ok(vec![E::OfferWithdrawn { id, on, reason }])
            }
            C::Expire { .. } => {
                offer.check(live, "expire", on)?;
                if let Some(until) = state.valid_until.filter(|until| on <= *until) {
                    return Err(DomainError::invalid(
                        "on",
                        format!("the offer is valid until {until}, so it cannot expire on {on}"),
                    ));
                }
                Ok(vec![E::OfferExpired { id, on }])
            }
            C::RecordCommitment {
                committed_money,
                committed_units,
                ..
            } => {
                if !matches!(status, S::Open | S::PartiallyCommitted | S::Committed) {
                    return Err(DomainError::cannot(
                        "record commitments on",
                        Self::NAME,
                        status,
                    ));
                }
                check_not_before(state.published_on, on)?;
                record_commitment(state, committed_money.as_ref(), *committed_units, on)
            }
            C::Amend { .. } => {
                offer.check(live, "amend", on)?;
                amend_offer(state, command)
            }
        }
    }

    fn evolve(mut state: OfferState, event: &OfferEvent) -> OfferState {
        use OfferEvent as E;
        use OfferStatus as S;
        let status = match event {
            E::OfferDrafted {
                id,
                organisation,
                title,
                themes,
                countries,
                regions,
                modalities,
                budget,
                capacity,
                valid_from,
                valid_until,
                languages,
                conditions,
                on,
            } => {
                return OfferState {
                    id: *id,
                    status: Some(S::Draft),
                    organisation: organisation.clone(),
                    title: title.clone(),
                    themes: themes.clone(),
                    countries: countries.clone(),
                    regions: regions.clone(),
                    modalities: modalities.clone(),
                    budget: budget.clone(),
                    capacity: capacity.clone(),
                    valid_from: Some(*valid_from),
                    valid_until: Some(*valid_until),
                    languages: languages.clone(),
                    conditions: conditions.clone(),
                    drafted_on: Some(*on),
                    last_on: Some(*on),
                    ..OfferState::default()
                };
            }
            E::OfferPublished { on, .. } => {
                state.published_on = Some(*on);
                S::Open
            }
            E::OfferWithdrawn { .. } => S::Withdrawn,
            E::OfferExpired { .. } => S::Expired,
            E::OfferCommitmentRecorded {
                committed_money,
                committed_units,
                on,
                ..
            } => {
                state.committed_money.clone_from(committed_money);
                state.committed_units = *committed_units;
                state.commitment_on = Some(*on);
                // The status follows from the totals and the offer's budget and capacity as
                // they stand in this fold (an "as of" fold may leave out a later amendment). A
                // derived fact, it is not a move of the offer's own (`last_on`).
                if matches!(
                    state.status,
                    Some(S::Open | S::PartiallyCommitted | S::Committed)
                ) {
                    state.status = Some(state.commitment_status());
                }
                return state;
            }
            E::OfferAmended {
                title,
                themes,
                countries,
                regions,
                modalities,
                budget,
                capacity,
                valid_until,
                languages,
                conditions,
                ..
            } => {
                amend(&mut state.title, title.as_ref());
                amend(&mut state.themes, themes.as_ref());
                amend(&mut state.countries, countries.as_ref());
                amend(&mut state.regions, regions.as_ref());
                amend(&mut state.modalities, modalities.as_ref());
                amend_optional(&mut state.budget, budget.as_ref());
                amend_optional(&mut state.capacity, capacity.as_ref());
                amend_optional(&mut state.valid_until, valid_until.as_ref());
                amend(&mut state.languages, languages.as_ref());
                amend_optional(&mut state.conditions, conditions.as_ref());
                state.status.unwrap_or(S::Draft)
            }
        };
        state.status = Some(status);
        state.last_on = Some(event.on());
        state
    }
}

fn check_themes(themes: &[String]) -> Result<(), DomainError> {
    if themes.is_empty() {
        return Err(DomainError::invalid(
            "themes",
            "must name at least one theme",
        ));
    }
    for t in themes {
        codes::check_theme("themes", t)?;
    }
    check_unique("themes", themes)
}

fn check_places(countries: &[String], regions: &[String]) -> Result<(), DomainError> {
    if countries.is_empty() && regions.is_empty() {
        return Err(DomainError::invalid(
            "countries",
            "name at least one eligible country or region",
        ));
    }
    for c in countries {
        codes::check_country("countries", c)?;
    }
    check_unique("countries", countries)?;
    for r in regions {
        codes::check_region("regions", r)?;
    }
    check_unique("regions", regions)
}

fn check_modalities(modalities: &[Modality]) -> Result<(), DomainError> {
    if modalities.is_empty() {
        return Err(DomainError::invalid(
            "modalities",
            "must name at least one modality",
        ));
    }
    check_unique("modalities", modalities)
}

/// ISO 639-1 shape: two lower-case ASCII letters. The list itself is not embedded.
fn check_languages(languages: &[String]) -> Result<(), DomainError> {
    if languages.is_empty() {
        return Err(DomainError::invalid(
            "languages",
            "must name at least one language",
        ));
    }
    for l in languages {
        if l.len() != 2 || !l.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(DomainError::invalid(
                "languages",
                format!("must be two lower-case letters (ISO 639-1), got {l:?}"),
            ));
        }
    }
    check_unique("languages", languages)
}

fn record_commitment(
    state: &OfferState,
    money: Option<&Money>,
    units: Option<u64>,
    on: Date,
) -> Result<Vec<OfferEvent>, DomainError> {
    let commitment = state.commitment();
    commitment.check(money, units)?;
    // An offer cannot commit more than it has.
    if let (Some(money), Some(budget)) = (money, state.budget.as_ref()) {
        if money.amount_minor > budget.amount_minor {
            return Err(DomainError::invalid(
                "committed_money",
                format!("{money} exceeds the budget of {budget}"),
            ));
        }
    }
    if let (Some(units), Some(capacity)) = (units, state.capacity.as_ref()) {
        if units > capacity.quantity {
            return Err(DomainError::invalid(
                "committed_units",
                format!(
                    "{units} exceeds the capacity of {} {}",
                    capacity.quantity, capacity.measure
                ),
            ));
        }
    }
    let Some((committed_money, committed_units)) = commitment.next(money, units, on) else {
        return Ok(vec![]);
    };
    Ok(vec![commitment_recorded(
        state,
        committed_money,
        committed_units,
        on,
    )])
}

/// Commitment totals as of `on`, with the status they give the offer as it stands.
fn commitment_recorded(
    state: &OfferState,
    committed_money: Option<Money>,
    committed_units: Option<u64>,
    on: Date,
) -> OfferEvent {
    let status = commitment_status(
        state.budget.as_ref(),
        state.capacity.as_ref(),
        committed_money.as_ref(),
        committed_units,
    );
    OfferEvent::OfferCommitmentRecorded {
        id: state.id,
        committed_money,
        committed_units,
        status,
        on,
    }
}

fn amend_offer(state: &OfferState, command: &OfferCommand) -> Result<Vec<OfferEvent>, DomainError> {
    let OfferCommand::Amend {
        title,
        themes,
        countries,
        regions,
        modalities,
        budget,
        capacity,
        valid_until,
        languages,
        conditions,
        on,
        ..
    } = command
    else {
        unreachable!("amend_offer is only called with Amend");
    };
    if let Some(t) = title {
        check_text("title", t, MAX_TITLE_CHARS)?;
    }
    if let Some(t) = themes {
        check_themes(t)?;
    }
    if countries.is_some() || regions.is_some() {
        check_places(
            countries.as_deref().unwrap_or(&state.countries),
            regions.as_deref().unwrap_or(&state.regions),
        )?;
    }
    if let Some(m) = modalities {
        check_modalities(m)?;
    }
    if let Some(b) = budget {
        check_positive("budget", b)?;
        if let Some(c) = &state.committed_money {
            if c.currency != b.currency {
                return Err(DomainError::invalid(
                    "budget",
                    format!(
                        "must stay in {} while commitments are recorded in it, got {}",
                        c.currency, b.currency
                    ),
                ));
            }
            if b.amount_minor < c.amount_minor {
                return Err(DomainError::invalid(
                    "budget",
                    format!("may not be cut to {b}, below the {c} already committed"),
                ));
            }
        }
    }
    if let Some(c) = capacity {
        c.check("capacity")?;
        let committed = state.committed_units.unwrap_or(0);
        if c.quantity < committed {
            return Err(DomainError::invalid(
                "capacity",
                format!(
                    "may not be cut to {}, below the {committed} already committed",
                    c.quantity
                ),
            ));
        }
    }
    if let (Some(until), Some(from)) = (valid_until, state.valid_from) {
        check_date_order("valid_until", from, *until)?;
    }
    if let Some(l) = languages {
        check_languages(l)?;
    }
    if let Some(c) = conditions {
        check_text("conditions", c, MAX_CONDITIONS_CHARS)?;
    }

    let title = changed_text(title.as_deref(), Some(&state.title));
    let themes = changed(themes.as_ref(), &state.themes);
    let countries = changed(countries.as_ref(), &state.countries);
    let regions = changed(regions.as_ref(), &state.regions);
    let modalities = changed(modalities.as_ref(), &state.modalities);
    let budget = changed_optional(budget.as_ref(), state.budget.as_ref());
    let capacity = changed_optional(
        capacity.as_ref().map(Units::trimmed).as_ref(),
        state.capacity.as_ref(),
    );
    let valid_until = changed_optional(valid_until.as_ref(), state.valid_until.as_ref());
    let languages = changed(languages.as_ref(), &state.languages);
    let conditions = changed_text(conditions.as_deref(), state.conditions.as_deref());
    if title.is_none()
        && themes.is_none()
        && countries.is_none()
        && regions.is_none()
        && modalities.is_none()
        && budget.is_none()
        && capacity.is_none()
        && valid_until.is_none()
        && languages.is_none()
        && conditions.is_none()
    {
        return Ok(vec![]);
    }
    let mut events = vec![OfferEvent::OfferAmended {
        id: state.id,
        title,
        themes,
        countries,
        regions,
        modalities,
        budget,
        capacity,
        valid_until,
        languages,
        conditions,
        on: *on,
    }];
    // A cut budget can make a partially committed offer fully committed: say so.
    let status = state.status.unwrap_or(OfferStatus::Draft);
    let after = events.iter().fold(state.clone(), Offer::evolve);
    if status == OfferStatus::PartiallyCommitted && after.commitment_status() != status {
        let (money, units) = (after.committed_money.clone(), after.committed_units);
        events.push(commitment_recorded(&after, money, units, *on));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_lifecycle,
        assert_moves_need_the_aggregate, edited, given, officers, usd,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0xF1);

    fn d(month: i8, day: i8) -> Date {
        date(2025, month, day)
    }

    fn draft() -> OfferCommand {
        OfferCommand::Draft {
            id: ID,
            organisation: "UNOCT".into(),
            title: "Border security training".into(),
            themes: vec!["BOR".into(), "LEA".into()],
            countries: vec!["KE".into()],
            regions: vec!["298".into()],
            modalities: vec![Modality::Training, Modality::Mentoring],
            budget: Some(usd(10_000_000)),
            capacity: Some(officers(200)),
            valid_from: d(1, 1),
            valid_until: d(12, 31),
            languages: vec!["en".into(), "fr".into()],
            conditions: Some("The State provides venues.".into()),
            on: date(2024, 1, 1),
        }
    }

    fn drafted() -> OfferEvent {
        OfferEvent::OfferDrafted {
            id: ID,
            organisation: "UNOCT".into(),
            title: "Border security training".into(),
            themes: vec!["BOR".into(), "LEA".into()],
            countries: vec!["KE".into()],
            regions: vec!["298".into()],
            modalities: vec![Modality::Training, Modality::Mentoring],
            budget: Some(usd(10_000_000)),
            capacity: Some(officers(200)),
            valid_from: d(1, 1),
            valid_until: d(12, 31),
            languages: vec!["en".into(), "fr".into()],
            conditions: Some("The State provides venues.".into()),
            on: date(2024, 1, 1),
        }
    }

    fn published() -> OfferEvent {
        OfferEvent::OfferPublished {
            id: ID,
            on: d(2, 1),
            reason: None,
        }
    }

    fn commitment(money: Option<i64>, units: Option<u64>, status: OfferStatus) -> OfferEvent {
        OfferEvent::OfferCommitmentRecorded {
            id: ID,
            committed_money: money.map(usd),
            committed_units: units,
            status,
            on: date(2026, 12, 31),
        }
    }

    fn record(money: Option<i64>, units: Option<u64>) -> OfferCommand {
        OfferCommand::RecordCommitment {
            id: ID,
            committed_money: money.map(usd),
            committed_units: units,
            on: date(2026, 12, 31),
        }
    }

    fn no_amendment() -> OfferCommand {
        OfferCommand::Amend {
            id: ID,
            title: None,
            themes: None,
            countries: None,
            regions: None,
            modalities: None,
            budget: None,
            capacity: None,
            valid_until: None,
            languages: None,
            conditions: None,
            on: date(2026, 12, 31),
        }
    }

    /// The event of an amendment of nothing, after `edit`.
    fn amended(edit: fn(&mut OfferEvent)) -> OfferEvent {
        let nothing = OfferEvent::OfferAmended {
            id: ID,
            title: None,
            themes: None,
            countries: None,
            regions: None,
            modalities: None,
            budget: None,
            capacity: None,
            valid_until: None,
            languages: None,
            conditions: None,
            on: date(2026, 12, 31),
        };
        edited(nothing, edit)
    }

    fn amend_with(edit: fn(&mut OfferCommand)) -> OfferCommand {
        edited(no_amendment(), edit)
    }

    fn history(status: OfferStatus) -> Vec<OfferEvent> {
        use OfferStatus as S;
        let mut events = vec![drafted()];
        match status {
            S::Draft => {}
            S::Open => events.push(published()),
            S::PartiallyCommitted => events.extend([
                published(),
                commitment(Some(4_000_000), Some(80), S::PartiallyCommitted),
            ]),
            S::Committed => events.extend([
                published(),
                commitment(Some(10_000_000), Some(200), S::Committed),
            ]),
            S::Withdrawn => events.push(OfferEvent::OfferWithdrawn {
                id: ID,
                on: d(2, 1),
                reason: "funding cut".into(),
            }),
            S::Expired => events.extend([
                published(),
                OfferEvent::OfferExpired {
                    id: ID,
                    on: date(2026, 1, 1),
                },
            ]),
        }
        events
    }

    fn moves() -> Vec<OfferCommand> {
        vec![
            OfferCommand::Publish {
                id: ID,
                on: d(3, 1),
                reason: None,
            },
            amend_with(edit!(OfferCommand::Amend, title = Some("New title".into()))),
            OfferCommand::Withdraw {
                id: ID,
                on: d(3, 1),
                reason: "funding cut".into(),
            },
            OfferCommand::Expire {
                id: ID,
                on: date(2026, 1, 2),
            },
            record(Some(5_000_000), Some(100)),
        ]
    }

    #[test]
    fn draft_creates_a_draft_offer() {
        let c = edited(
            draft(),
            edit!(
                OfferCommand::Draft,
                title = "  Border security training ".into()
            ),
        );
        let state = given::<Offer>(&[]).when(c).then(&[drafted()]);
        assert_eq!(state.status, Some(OfferStatus::Draft));
        given::<Offer>(&[drafted()])
            .when(draft())
            .then_error(DomainError::already_exists("offer", ID.to_string()));
    }

    #[test]
    fn moves_need_an_existing_offer_with_that_id() {
        let elsewhere = OfferCommand::Publish {
            id: Uuid::from_u128(0xF2),
            on: d(3, 1),
            reason: None,
        };
        assert_moves_need_the_aggregate::<Offer>(&moves(), ID, &[drafted()], &[elsewhere]);
    }

    #[test]
    fn draft_validation_names_the_field() {
        use OfferCommand as C;
        assert_invalid_edits::<Offer>(
            &[],
            draft,
            &[
                ("id", edit!(C::Draft, id = Uuid::nil())),
                ("organisation", edit!(C::Draft, organisation = "U".into())),
                (
                    "organisation",
                    edit!(C::Draft, organisation = "UN OCT".into()),
                ),
                ("title", edit!(C::Draft, title = " ".into())),
                (
                    "title",
                    edit!(C::Draft, title = "x".repeat(MAX_TITLE_CHARS + 1)),
                ),
                ("themes", edit!(C::Draft, themes = vec![])),
                ("themes", edit!(C::Draft, themes = vec!["XXX".into()])),
                (
                    "themes",
                    edit!(C::Draft, themes = vec!["BOR".into(), "BOR".into()]),
                ),
                (
                    "countries",
                    edit!(C::Draft, countries = vec![], regions = vec![]),
                ),
                ("countries", edit!(C::Draft, countries = vec!["QQ".into()])),
                (
                    "countries",
                    edit!(C::Draft, countries = vec!["KE".into(), "KE".into()]),
                ),
                ("regions", edit!(C::Draft, regions = vec!["999".into()])),
                ("modalities", edit!(C::Draft, modalities = vec![])),
                (
                    "modalities",
                    edit!(
                        C::Draft,
                        modalities = vec![Modality::Training, Modality::Training]
                    ),
                ),
                ("budget", edit!(C::Draft, budget = Some(usd(0)))),
                ("budget", edit!(C::Draft, budget = Some(usd(-5)))),
                (
                    "budget",
                    edit!(
                        C::Draft,
                        budget = Some(Money {
                            amount_minor: 5,
                            currency: "XXY".into()
                        })
                    ),
                ),
                (
                    "capacity.quantity",
                    edit!(C::Draft, capacity = Some(officers(0))),
                ),
                (
                    "capacity.measure",
                    edit!(
                        C::Draft,
                        capacity = Some(Units {
                            measure: " ".into(),
                            quantity: 1
                        })
                    ),
                ),
                ("budget", edit!(C::Draft, budget = None, capacity = None)),
                (
                    "valid_until",
                    edit!(C::Draft, valid_until = date(2024, 12, 31)),
                ),
                ("languages", edit!(C::Draft, languages = vec![])),
                ("languages", edit!(C::Draft, languages = vec!["EN".into()])),
                ("languages", edit!(C::Draft, languages = vec!["eng".into()])),
                (
                    "languages",
                    edit!(C::Draft, languages = vec!["en".into(), "en".into()]),
                ),
                (
                    "conditions",
                    edit!(C::Draft, conditions = Some(String::new())),
                ),
                (
                    "conditions",
                    edit!(
                        C::Draft,
                        conditions = Some("x".repeat(MAX_CONDITIONS_CHARS + 1))
                    ),
                ),
            ],
        );
        // Countries alone, regions alone, budget alone and capacity alone are each enough.
        let alone: [fn(&mut C); 4] = [
            edit!(C::Draft, countries = vec![]),
            edit!(C::Draft, regions = vec![]),
            edit!(C::Draft, budget = None),
            edit!(C::Draft, capacity = None),
        ];
        for edit in alone {
            let c = edited(draft(), edit);
            assert!(Offer::decide(&OfferState::default(), &c).is_ok(), "{c:?}");
        }
    }

    #[test]
    fn every_status_and_move() {
        use OfferCommand as C;
        use OfferStatus as S;
        assert_lifecycle::<Offer, _>(S::ALL, history, &moves(), |status, command| {
            matches!(
                (status, command),
                (
                    S::Draft,
                    C::Publish { .. } | C::Amend { .. } | C::Withdraw { .. } | C::Expire { .. }
                ) | (
                    S::Open | S::PartiallyCommitted,
                    C::Amend { .. }
                        | C::Withdraw { .. }
                        | C::Expire { .. }
                        | C::RecordCommitment { .. }
                ) | (S::Committed, C::RecordCommitment { .. })
            )
        });
    }

    #[test]
    fn publish_and_expire_respect_the_window() {
        given::<Offer>(&history(OfferStatus::Draft))
            .when(OfferCommand::Publish {
                id: ID,
                on: d(12, 31),
                reason: Some("approved".into()),
            })
            .then(&[OfferEvent::OfferPublished {
                id: ID,
                on: d(12, 31),
                reason: Some("approved".into()),
            }]);
        given::<Offer>(&history(OfferStatus::Draft))
            .when(OfferCommand::Publish {
                id: ID,
                on: date(2026, 1, 1),
                reason: None,
            })
            .then_error(DomainError::invalid(
                "on",
                "must not be after valid_until 2025-12-31, got 2026-01-01",
            ));
        given::<Offer>(&history(OfferStatus::Open))
            .when(OfferCommand::Expire {
                id: ID,
                on: d(12, 31),
            })
            .then_invalid("on");
        let state = given::<Offer>(&history(OfferStatus::PartiallyCommitted))
            .when(OfferCommand::Expire {
                id: ID,
                on: date(2026, 1, 1),
            })
            .then(&[OfferEvent::OfferExpired {
                id: ID,
                on: date(2026, 1, 1),
            }]);
        assert_eq!(state.status, Some(OfferStatus::Expired));
        // Dated moves may not predate the previous one (published 1 February).
        given::<Offer>(&history(OfferStatus::Open))
            .when(OfferCommand::Withdraw {
                id: ID,
                on: d(1, 31),
                reason: "x".into(),
            })
            .then_invalid("on");
        given::<Offer>(&history(OfferStatus::Open))
            .when(OfferCommand::Withdraw {
                id: ID,
                on: d(3, 1),
                reason: " ".into(),
            })
            .then_invalid("reason");
        given::<Offer>(&history(OfferStatus::Draft))
            .when(OfferCommand::Publish {
                id: ID,
                on: d(3, 1),
                reason: Some(String::new()),
            })
            .then_invalid("reason");
    }

    #[test]
    fn commitments_derive_the_status() {
        use OfferStatus as S;
        let mut events = history(S::Open);
        let steps = [
            (
                record(None, Some(80)),
                commitment(None, Some(80), S::PartiallyCommitted),
            ),
            (
                record(Some(10_000_000), None),
                commitment(Some(10_000_000), Some(80), S::PartiallyCommitted),
            ),
            (
                record(None, Some(200)),
                commitment(Some(10_000_000), Some(200), S::Committed),
            ),
            (
                record(Some(9_000_000), None),
                commitment(Some(9_000_000), Some(200), S::PartiallyCommitted),
            ),
            (
                record(Some(0), Some(0)),
                commitment(Some(0), Some(0), S::Open),
            ),
        ];
        for (command, expected) in steps {
            given::<Offer>(&events)
                .when(command)
                .then(std::slice::from_ref(&expected));
            events.push(expected);
        }
        // The same totals again change nothing.
        given::<Offer>(&events)
            .when(record(Some(0), None))
            .then(&[]);
        // An offer with only a capacity is committed when the units are.
        assert_eq!(
            commitment_status(None, Some(&officers(10)), None, Some(10)),
            S::Committed
        );
        assert_eq!(
            commitment_status(Some(&usd(10)), None, Some(&usd(9)), Some(100)),
            S::PartiallyCommitted
        );
    }

    #[test]
    fn commitment_validation() {
        let open = history(OfferStatus::Open);
        given::<Offer>(&open)
            .when(record(None, None))
            .then_invalid("committed_money");
        given::<Offer>(&open)
            .when(record(Some(-1), None))
            .then_invalid("committed_money");
        given::<Offer>(&open)
            .when(record(Some(10_000_001), None))
            .then_error(DomainError::invalid(
                "committed_money",
                "100000.01 USD exceeds the budget of 100000.00 USD",
            ));
        given::<Offer>(&open)
            .when(record(None, Some(201)))
            .then_error(DomainError::invalid(
                "committed_units",
                "201 exceeds the capacity of 200 officers trained",
            ));
        given::<Offer>(&open)
            .when(OfferCommand::RecordCommitment {
                id: ID,
                committed_money: Some(Money::new(5, "EUR").unwrap()),
                committed_units: None,
                on: date(2026, 12, 31),
            })
            .then_error(DomainError::invalid(
                "committed_money",
                "must be in USD, the offer's currency, got EUR",
            ));
        given::<Offer>(&open)
            .when(OfferCommand::RecordCommitment {
                id: ID,
                committed_money: Some(Money {
                    amount_minor: 5,
                    currency: "QQQ".into(),
                }),
                committed_units: None,
                on: date(2026, 12, 31),
            })
            .then_invalid("committed_money");
    }

    #[test]
    fn remaining_is_what_is_left() {
        let state = crate::fold::<Offer>(&history(OfferStatus::PartiallyCommitted));
        assert_eq!(remaining(&state), (Some(usd(6_000_000)), Some(120)));
        let state = crate::fold::<Offer>(&history(OfferStatus::Open));
        assert_eq!(remaining(&state), (Some(usd(10_000_000)), Some(200)));
        assert_eq!(remaining(&OfferState::default()), (None, None));
    }

    #[test]
    fn amend_changes_only_what_differs() {
        let c = amend_with(edit!(
            OfferCommand::Amend,
            title = Some(" Border security training ".into()), // unchanged once trimmed
            themes = Some(vec!["BOR".into()]),
            valid_until = Some(date(2026, 6, 30)),
            conditions = Some("None.".into())
        ));
        let state = given::<Offer>(&history(OfferStatus::Open))
            .when(c)
            .then(&[amended(edit!(
                OfferEvent::OfferAmended,
                themes = Some(vec!["BOR".into()]),
                valid_until = Some(date(2026, 6, 30)),
                conditions = Some("None.".into())
            ))]);
        assert_eq!(state.themes, ["BOR"]);
        assert_eq!(state.valid_until, Some(date(2026, 6, 30)));
        given::<Offer>(&history(OfferStatus::Open))
            .when(no_amendment())
            .then(&[]);
    }

    #[test]
    fn amend_may_not_cut_below_what_is_committed() {
        // 40 000.00 USD and 80 officers committed.
        let partial = history(OfferStatus::PartiallyCommitted);
        given::<Offer>(&partial)
            .when(amend_with(edit!(
                OfferCommand::Amend,
                budget = Some(usd(3_999_999))
            )))
            .then_error(DomainError::invalid(
                "budget",
                "may not be cut to 39999.99 USD, below the 40000.00 USD already committed",
            ));
        given::<Offer>(&partial)
            .when(amend_with(edit!(
                OfferCommand::Amend,
                capacity = Some(officers(79))
            )))
            .then_invalid("capacity");
        given::<Offer>(&partial)
            .when(amend_with(edit!(
                OfferCommand::Amend,
                budget = Some(Money::new(10_000_000, "EUR").unwrap())
            )))
            .then_invalid("budget");
        // Cutting both to exactly what is committed commits the offer.
        let state = given::<Offer>(&partial)
            .when(amend_with(edit!(
                OfferCommand::Amend,
                budget = Some(usd(4_000_000)),
                capacity = Some(officers(80))
            )))
            .then(&[
                amended(edit!(
                    OfferEvent::OfferAmended,
                    budget = Some(usd(4_000_000)),
                    capacity = Some(officers(80))
                )),
                commitment(Some(4_000_000), Some(80), OfferStatus::Committed),
            ]);
        assert_eq!(state.status, Some(OfferStatus::Committed));
    }

    #[test]
    fn amend_validation_names_the_field() {
        use OfferCommand as C;
        assert_invalid_edits::<Offer>(
            &history(OfferStatus::Open),
            no_amendment,
            &[
                ("title", edit!(C::Amend, title = Some(String::new()))),
                ("themes", edit!(C::Amend, themes = Some(vec![]))),
                ("themes", edit!(C::Amend, themes = Some(vec!["bor".into()]))),
                (
                    "countries",
                    edit!(C::Amend, countries = Some(vec![]), regions = Some(vec![])),
                ),
                (
                    "countries",
                    edit!(C::Amend, countries = Some(vec!["XX".into()])),
                ),
                ("regions", edit!(C::Amend, regions = Some(vec!["1".into()]))),
                ("modalities", edit!(C::Amend, modalities = Some(vec![]))),
                ("budget", edit!(C::Amend, budget = Some(usd(0)))),
                (
                    "capacity.quantity",
                    edit!(C::Amend, capacity = Some(officers(0))),
                ),
                (
                    "valid_until",
                    edit!(C::Amend, valid_until = Some(date(2024, 1, 1))),
                ),
                (
                    "languages",
                    edit!(C::Amend, languages = Some(vec!["e".into()])),
                ),
                ("conditions", edit!(C::Amend, conditions = Some(" ".into()))),
            ],
        );
        // Dropping the countries is fine while regions remain.
        given::<Offer>(&history(OfferStatus::Open))
            .when(amend_with(edit!(C::Amend, countries = Some(vec![]))))
            .then(&[amended(edit!(
                OfferEvent::OfferAmended,
                countries = Some(vec![])
            ))]);
    }

    #[test]
    fn covers_gives_the_first_reason() {
        use Modality as M;
        let open = crate::fold::<Offer>(&history(OfferStatus::Open));
        let on = d(6, 1);
        assert_eq!(covers(&open, "BOR", "KE", None, M::Training, on), Ok(()));
        // Not listed, but in an eligible region.
        assert_eq!(
            covers(&open, "LEA", "UG", Some("298"), M::Mentoring, on),
            Ok(())
        );
        let field = |r: Result<(), DomainError>| match r {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        // (theme, country, region, modality, day, the field refused)
        let refused = [
            ("CFT", "KE", None, M::Training, on, "theme"),
            ("BOR", "JO", Some("589"), M::Training, on, "country"),
            ("BOR", "JO", None, M::Training, on, "country"),
            ("BOR", "KE", None, M::Equipment, on, "modality"),
            (
                "BOR",
                "KE",
                None,
                M::Training,
                date(2026, 1, 1),
                "valid_until",
            ),
            (
                "BOR",
                "KE",
                None,
                M::Training,
                date(2024, 1, 1),
                "valid_from",
            ),
        ];
        for (theme, country, region, modality, day, expected) in refused {
            let refusal = field(covers(&open, theme, country, region, modality, day));
            assert_eq!(refusal, expected, "{theme} {country} {modality} {day}");
        }
        for status in [
            OfferStatus::Draft,
            OfferStatus::Committed,
            OfferStatus::Withdrawn,
        ] {
            let state = crate::fold::<Offer>(&history(status));
            assert_eq!(
                field(covers(&state, "BOR", "KE", None, M::Training, on)),
                "status",
                "{status}"
            );
        }
        let partial = crate::fold::<Offer>(&history(OfferStatus::PartiallyCommitted));
        assert_eq!(covers(&partial, "BOR", "KE", None, M::Training, on), Ok(()));
        // Expired since, but open on a day inside its window: a referral of that day recorded
        // late is still to an open offer; after the window it is not.
        let expired = crate::fold::<Offer>(&history(OfferStatus::Expired));
        assert_eq!(covers(&expired, "BOR", "KE", None, M::Training, on), Ok(()));
        let after = expired.valid_until.unwrap().tomorrow().unwrap();
        assert_eq!(
            field(covers(&expired, "BOR", "KE", None, M::Training, after)),
            "valid_until"
        );
    }

    #[test]
    fn covers_a_country_by_the_dac_regions_it_belongs_to() {
        // An offer for the Middle East and South of Sahara, naming no country.
        let mut events = history(OfferStatus::Open);
        if let OfferEvent::OfferDrafted {
            countries, regions, ..
        } = &mut events[0]
        {
            *countries = vec![];
            *regions = vec!["589".into(), "289".into()];
        }
        let state = crate::fold::<Offer>(&events);
        let on = d(6, 1);
        for country in ["JO", "LB", "KE", "NG", "CD"] {
            assert_eq!(
                covers(&state, "BOR", country, None, Modality::Training, on),
                Ok(()),
                "{country}"
            );
        }
        // North of Sahara, Central Asia, and a country outside the DAC list are not covered.
        for country in ["EG", "KZ", "FR"] {
            assert_eq!(
                covers(&state, "BOR", country, None, Modality::Training, on),
                Err(DomainError::invalid(
                    "country",
                    format!("the offer is not for {country} nor its region")
                )),
                "{country}"
            );
        }
        // The continental code covers every sub-region under it.
        if let OfferEvent::OfferDrafted { regions, .. } = &mut events[0] {
            *regions = vec!["298".into()];
        }
        let africa = crate::fold::<Offer>(&events);
        for country in ["EG", "KE", "ZA"] {
            assert_eq!(
                covers(&africa, "BOR", country, None, Modality::Training, on),
                Ok(())
            );
        }
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let mut events = history(OfferStatus::Committed);
        events.extend(history(OfferStatus::Withdrawn).into_iter().skip(1));
        events.extend(history(OfferStatus::Expired).into_iter().skip(2));
        events.push(amended(edit!(
            OfferEvent::OfferAmended,
            title = Some("t".into())
        )));
        assert_kinds_round_trip(&events, OfferEvent::KINDS);
    }
}
