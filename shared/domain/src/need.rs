//! Need: a technical-assistance need of a Member State, from identification through coverage by
//! partners' projects to being met (or withdrawn, or declined by the State).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::money::{Money, check_currency_of};
use crate::validate::{
    MAX_REASON_CHARS, check_date_order, check_id, check_priority, check_reason, check_text,
};

pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_BENEFICIARY_CHARS: usize = 300;
pub const MAX_MEASURE_CHARS: usize = 100;

string_enum! {
    /// The kind of help wanted.
    pub enum Modality ("modality") {
        Training => "training",
        Mentoring => "mentoring",
        LegislativeDrafting => "legislative_drafting",
        Equipment => "equipment",
        Workshop => "workshop",
        StudyVisit => "study_visit",
        ExpertDeployment => "expert_deployment",
    }
}

impl Modality {
    /// The IATI AidType code used on export.
    ///
    /// - `D01` donor country personnel: experts deployed and mentors embedded with the beneficiary are
    ///   people the partner sends, which is what D01 counts.
    /// - `D02` other technical assistance: training, workshops and legislative drafting delivered in the
    ///   country, the bulk of counter-terrorism capacity building.
    /// - `E01` scholarships/training in donor country: a study visit takes officials abroad to learn.
    /// - `C01` project-type interventions: equipment is delivered as a project with inputs and outputs,
    ///   not as advice.
    pub fn iati_aid_type(self) -> &'static str {
        match self {
            Modality::ExpertDeployment | Modality::Mentoring => "D01",
            Modality::Training | Modality::Workshop | Modality::LegislativeDrafting => "D02",
            Modality::StudyVisit => "E01",
            Modality::Equipment => "C01",
        }
    }
}

string_enum! {
    pub enum NeedStatus ("status") {
        Identified => "identified",
        AgreedWithState => "agreed_with_state",
        PartiallyCovered => "partially_covered",
        Covered => "covered",
        Met => "met",
        Withdrawn => "withdrawn",
        /// The State declined the need.
        Declined => "declined",
    }
}

impl NeedStatus {
    /// Met, withdrawn and declined needs never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            NeedStatus::Met | NeedStatus::Withdrawn | NeedStatus::Declined
        )
    }
}

/// A non-money size of a need, e.g. 200 "officers trained".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Units {
    pub measure: String,
    pub quantity: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NeedCommand {
    /// Creates the need, `identified`.
    Identify {
        id: Uuid,
        member_state: String,
        /// The recommendations it serves; may be empty.
        recommendation_ids: Vec<Uuid>,
        theme: String,
        modality: Modality,
        description: String,
        beneficiary_institution: String,
        /// Positive when given.
        estimated_cost: Option<Money>,
        size: Option<Units>,
        /// 1 (high) .. 3 (low).
        priority: u8,
        /// The day it was identified (business date).
        on: Date,
    },
    /// identified -> agreed_with_state: the State agrees this is a priority need.
    AgreeWithState {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// -> withdrawn, from identified, agreed_with_state or partially_covered; the reason is required.
    Withdraw { id: Uuid, on: Date, reason: String },
    /// -> declined (by the State), from the same statuses as `Withdraw`; the reason is required.
    Decline { id: Uuid, on: Date, reason: String },
    /// The coverage as of `on`, as totals (not increments) over referrals accepted by then, sent
    /// by the projects service; a measure left `None` keeps its previous total. Derives
    /// agreed_with_state / partially_covered / covered. A derived fact: `on` is the date of the
    /// referral move that caused it and may go back before the need's last move (a late
    /// acceptance), though not before the State agreed to the need.
    RecordCoverage {
        id: Uuid,
        covered_money: Option<Money>,
        covered_units: Option<u64>,
        on: Date,
    },
    /// covered -> met.
    MarkMet {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// Changes the given fields (`None` keeps the field), until the need is met, withdrawn or declined.
    Amend {
        id: Uuid,
        description: Option<String>,
        beneficiary_institution: Option<String>,
        estimated_cost: Option<Money>,
        size: Option<Units>,
        priority: Option<u8>,
        on: Date,
    },
}

command_fields!(NeedCommand {
    Identify,
    AgreeWithState,
    Withdraw,
    Decline,
    RecordCoverage,
    MarkMet,
    Amend
});

#[allow(
    clippy::enum_variant_names,
    reason = "kind strings are global across services, so each names its aggregate"
)]
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NeedEvent {
    NeedIdentified {
        id: Uuid,
        member_state: String,
        recommendation_ids: Vec<Uuid>,
        theme: String,
        modality: Modality,
        description: String,
        beneficiary_institution: String,
        estimated_cost: Option<Money>,
        size: Option<Units>,
        priority: u8,
        on: Date,
    },
    NeedAgreedWithState {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// The coverage totals as of `on` and the status they give.
    NeedCoverageRecorded {
        id: Uuid,
        covered_money: Option<Money>,
        covered_units: Option<u64>,
        status: NeedStatus,
        on: Date,
    },
    NeedMet {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    NeedWithdrawn {
        id: Uuid,
        on: Date,
        reason: String,
    },
    NeedDeclined {
        id: Uuid,
        on: Date,
        reason: String,
    },
    /// Only the fields that changed are `Some`.
    NeedAmended {
        id: Uuid,
        description: Option<String>,
        beneficiary_institution: Option<String>,
        estimated_cost: Option<Money>,
        size: Option<Units>,
        priority: Option<u8>,
        on: Date,
    },
}

event_fields!(NeedEvent {
    NeedIdentified,
    NeedAgreedWithState,
    NeedCoverageRecorded,
    NeedMet,
    NeedWithdrawn,
    NeedDeclined,
    NeedAmended
});

/// A need as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NeedState {
    pub id: Uuid,
    pub status: Option<NeedStatus>,
    pub member_state: String,
    pub recommendation_ids: Vec<Uuid>,
    pub theme: String,
    pub modality: Option<Modality>,
    pub description: String,
    pub beneficiary_institution: String,
    pub estimated_cost: Option<Money>,
    pub size: Option<Units>,
    pub priority: u8,
    pub covered_money: Option<Money>,
    pub covered_units: Option<u64>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub identified_on: Option<Date>,
    /// The day the State agreed to it: coverage is not dated before it.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub agreed_on: Option<Date>,
    /// The business date of the latest coverage totals (derived facts, which may be back-dated).
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub coverage_on: Option<Date>,
    /// The business date of the latest move of its own, which the next may not precede.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

impl NeedState {
    /// Whether it may be referred to an offer: agreed with the State and not yet covered.
    pub fn is_referable(&self) -> bool {
        matches!(
            self.status,
            Some(NeedStatus::AgreedWithState | NeedStatus::PartiallyCovered)
        )
    }
}

/// The status coverage totals give a need that the State has agreed: nothing covered leaves it
/// agreed_with_state; it is covered when every measure the need has (estimated cost, size) is reached;
/// a need with neither measure can only be partially covered (nobody can tell when it is enough, so a
/// coordinator closes it by amending a measure or withdrawing it).
pub fn coverage_status(
    estimated_cost: Option<&Money>,
    size: Option<&Units>,
    covered_money: Option<&Money>,
    covered_units: Option<u64>,
) -> NeedStatus {
    match fill(estimated_cost, size, covered_money, covered_units) {
        Fill::Nothing => NeedStatus::AgreedWithState,
        Fill::Part => NeedStatus::PartiallyCovered,
        Fill::Whole => NeedStatus::Covered,
    }
}

/// How much of a target (money and/or units) running totals reach; shared by a need's coverage
/// and an offer's commitment, so the two can never count differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Nothing counted yet.
    Nothing,
    /// Something, but not every measure the target has (or the target has no measure at all).
    Part,
    /// Every measure the target has is reached.
    Whole,
}

pub fn fill(
    target_money: Option<&Money>,
    target_units: Option<&Units>,
    money: Option<&Money>,
    units: Option<u64>,
) -> Fill {
    let money = money.map_or(0, |m| m.amount_minor);
    let units = units.unwrap_or(0);
    if money <= 0 && units == 0 {
        return Fill::Nothing;
    }
    let measured = target_money.is_some() || target_units.is_some();
    let money_reached = target_money.is_none_or(|t| money >= t.amount_minor);
    let units_reached = target_units.is_none_or(|t| units >= t.quantity);
    if measured && money_reached && units_reached {
        Fill::Whole
    } else {
        Fill::Part
    }
}

/// The decider.
pub struct Need;

impl Aggregate for Need {
    const NAME: &'static str = "need";
    type State = NeedState;
    type Command = NeedCommand;
    type Event = NeedEvent;

    fn decide(state: &NeedState, command: &NeedCommand) -> Result<Vec<NeedEvent>, DomainError> {
        use NeedCommand as C;
        use NeedEvent as E;
        use NeedStatus as S;

        if let C::Identify {
            id,
            member_state,
            recommendation_ids,
            theme,
            modality,
            description,
            beneficiary_institution,
            estimated_cost,
            size,
            priority,
            on,
        } = command
        {
            if state.status.is_some() {
                return Err(DomainError::already_exists(Self::NAME, id.to_string()));
            }
            check_id("id", *id)?;
            codes::check_country("member_state", member_state)?;
            for (i, r) in recommendation_ids.iter().enumerate() {
                check_id("recommendation_ids", *r)?;
                if recommendation_ids[..i].contains(r) {
                    return Err(DomainError::invalid(
                        "recommendation_ids",
                        format!("{r} is listed twice"),
                    ));
                }
            }
            codes::check_theme("theme", theme)?;
            check_text("description", description, MAX_DESCRIPTION_CHARS)?;
            check_text(
                "beneficiary_institution",
                beneficiary_institution,
                MAX_BENEFICIARY_CHARS,
            )?;
            if let Some(cost) = estimated_cost {
                check_estimate(cost)?;
            }
            if let Some(size) = size {
                check_units(size)?;
            }
            check_priority("priority", *priority)?;
            return Ok(vec![E::NeedIdentified {
                id: *id,
                member_state: member_state.clone(),
                recommendation_ids: recommendation_ids.clone(),
                theme: theme.clone(),
                modality: *modality,
                description: description.clone(),
                beneficiary_institution: beneficiary_institution.trim().to_owned(),
                estimated_cost: estimated_cost.clone(),
                size: size.as_ref().map(trimmed_units),
                priority: *priority,
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let status = state.status.unwrap_or(S::Identified);
        let id = state.id;
        let check_on = |on: &Date| {
            state
                .last_on
                .map_or(Ok(()), |last| check_date_order("on", last, *on))
        };
        let ending = matches!(
            status,
            S::Identified | S::AgreedWithState | S::PartiallyCovered
        );
        match command {
            C::Identify { .. } => unreachable!("handled above"),
            C::AgreeWithState { on, reason, .. } => {
                if status != S::Identified {
                    return Err(DomainError::cannot(
                        "agree with the State on",
                        Self::NAME,
                        status,
                    ));
                }
                check_on(on)?;
                check_reason(reason.as_deref())?;
                Ok(vec![E::NeedAgreedWithState {
                    id,
                    on: *on,
                    reason: trim_reason(reason.as_deref()),
                }])
            }
            C::Withdraw { on, reason, .. } => {
                if !ending {
                    return Err(DomainError::cannot("withdraw", Self::NAME, status));
                }
                check_on(on)?;
                check_text("reason", reason, MAX_REASON_CHARS)?;
                Ok(vec![E::NeedWithdrawn {
                    id,
                    on: *on,
                    reason: reason.trim().to_owned(),
                }])
            }
            C::Decline { on, reason, .. } => {
                if !ending {
                    return Err(DomainError::cannot("decline", Self::NAME, status));
                }
                check_on(on)?;
                check_text("reason", reason, MAX_REASON_CHARS)?;
                Ok(vec![E::NeedDeclined {
                    id,
                    on: *on,
                    reason: reason.trim().to_owned(),
                }])
            }
            C::MarkMet { on, reason, .. } => {
                if status != S::Covered {
                    return Err(DomainError::cannot("mark met", Self::NAME, status));
                }
                check_on(on)?;
                check_reason(reason.as_deref())?;
                Ok(vec![E::NeedMet {
                    id,
                    on: *on,
                    reason: trim_reason(reason.as_deref()),
                }])
            }
            C::RecordCoverage {
                covered_money,
                covered_units,
                on,
                ..
            } => {
                if !matches!(
                    status,
                    S::AgreedWithState | S::PartiallyCovered | S::Covered
                ) {
                    return Err(DomainError::cannot(
                        "record coverage on",
                        Self::NAME,
                        status,
                    ));
                }
                // A derived fact: it may be dated back (a late acceptance), but a need is
                // covered only once the State has agreed to it.
                if let Some(agreed) = state.agreed_on {
                    check_date_order("on", agreed, *on)?;
                }
                record_coverage(state, covered_money.as_ref(), *covered_units, *on)
            }
            C::Amend {
                description,
                beneficiary_institution,
                estimated_cost,
                size,
                priority,
                on,
                ..
            } => {
                if status.is_final() {
                    return Err(DomainError::cannot("amend", Self::NAME, status));
                }
                check_on(on)?;
                amend(
                    state,
                    description,
                    beneficiary_institution,
                    estimated_cost,
                    size,
                    *priority,
                    *on,
                )
            }
        }
    }

    fn evolve(mut state: NeedState, event: &NeedEvent) -> NeedState {
        use NeedEvent as E;
        use NeedStatus as S;
        match event {
            E::NeedIdentified {
                id,
                member_state,
                recommendation_ids,
                theme,
                modality,
                description,
                beneficiary_institution,
                estimated_cost,
                size,
                priority,
                on,
            } => {
                return NeedState {
                    id: *id,
                    status: Some(S::Identified),
                    member_state: member_state.clone(),
                    recommendation_ids: recommendation_ids.clone(),
                    theme: theme.clone(),
                    modality: Some(*modality),
                    description: description.clone(),
                    beneficiary_institution: beneficiary_institution.clone(),
                    estimated_cost: estimated_cost.clone(),
                    size: size.clone(),
                    priority: *priority,
                    identified_on: Some(*on),
                    last_on: Some(*on),
                    ..NeedState::default()
                };
            }
            E::NeedAgreedWithState { on, .. } => {
                state.status = Some(S::AgreedWithState);
                state.agreed_on = Some(*on);
                state.last_on = Some(*on);
            }
            E::NeedMet { on, .. } => {
                state.status = Some(S::Met);
                state.last_on = Some(*on);
            }
            E::NeedWithdrawn { on, .. } => {
                state.status = Some(S::Withdrawn);
                state.last_on = Some(*on);
            }
            E::NeedDeclined { on, .. } => {
                state.status = Some(S::Declined);
                state.last_on = Some(*on);
            }
            E::NeedCoverageRecorded {
                covered_money,
                covered_units,
                on,
                ..
            } => {
                state.covered_money.clone_from(covered_money);
                state.covered_units = *covered_units;
                state.coverage_on = Some(*on);
                // The status follows from the totals and the need's own measures as they stand
                // in this fold (an "as of" fold may leave out a later amendment, so the status
                // the event was decided with is not taken on trust). Final statuses stay.
                if matches!(
                    state.status,
                    Some(S::AgreedWithState | S::PartiallyCovered | S::Covered)
                ) {
                    state.status = Some(coverage_status(
                        state.estimated_cost.as_ref(),
                        state.size.as_ref(),
                        state.covered_money.as_ref(),
                        state.covered_units,
                    ));
                }
            }
            E::NeedAmended {
                description,
                beneficiary_institution,
                estimated_cost,
                size,
                priority,
                on,
                ..
            } => {
                state.last_on = Some(*on);
                if let Some(v) = description {
                    state.description.clone_from(v);
                }
                if let Some(v) = beneficiary_institution {
                    state.beneficiary_institution.clone_from(v);
                }
                if let Some(v) = estimated_cost {
                    state.estimated_cost = Some(v.clone());
                }
                if let Some(v) = size {
                    state.size = Some(v.clone());
                }
                if let Some(v) = priority {
                    state.priority = *v;
                }
            }
        }
        state
    }
}

fn check_estimate(cost: &Money) -> Result<(), DomainError> {
    check_currency_of("estimated_cost", cost)?;
    if !cost.is_positive() {
        return Err(DomainError::invalid(
            "estimated_cost",
            format!("must be positive, got {cost}"),
        ));
    }
    Ok(())
}

fn check_units(size: &Units) -> Result<(), DomainError> {
    check_text("size.measure", &size.measure, MAX_MEASURE_CHARS)?;
    if size.quantity == 0 {
        return Err(DomainError::invalid("size.quantity", "must be positive"));
    }
    Ok(())
}

fn trimmed_units(size: &Units) -> Units {
    Units {
        measure: size.measure.trim().to_owned(),
        quantity: size.quantity,
    }
}

fn trim_reason(reason: Option<&str>) -> Option<String> {
    reason.map(|r| r.trim().to_owned())
}

fn record_coverage(
    state: &NeedState,
    money: Option<&Money>,
    units: Option<u64>,
    on: Date,
) -> Result<Vec<NeedEvent>, DomainError> {
    if money.is_none() && units.is_none() {
        return Err(DomainError::invalid(
            "covered_money",
            "give covered_money, covered_units or both",
        ));
    }
    if let Some(money) = money {
        check_currency_of("covered_money", money)?;
        if money.amount_minor < 0 {
            return Err(DomainError::invalid(
                "covered_money",
                format!("must not be negative, got {money}"),
            ));
        }
        // Coverage is compared with the estimate (and with earlier coverage), so it must be in the same
        // currency: converting needs a recorded exchange rate, which is not this decider's business.
        let expected = state
            .estimated_cost
            .as_ref()
            .or(state.covered_money.as_ref());
        if let Some(expected) = expected.filter(|e| e.currency != money.currency) {
            return Err(DomainError::invalid(
                "covered_money",
                format!(
                    "must be in {}, the need's currency, got {}",
                    expected.currency, money.currency
                ),
            ));
        }
    }
    let covered_money = money.or(state.covered_money.as_ref()).cloned();
    let covered_units = units.or(state.covered_units);
    let back_dated = state.coverage_on.is_some_and(|latest| on < latest);
    if covered_money == state.covered_money && covered_units == state.covered_units && !back_dated {
        // The same totals again (a redelivered projection update): nothing happened. Totals
        // dated back are part of a correction of the history and are always recorded.
        return Ok(vec![]);
    }
    let status = coverage_status(
        state.estimated_cost.as_ref(),
        state.size.as_ref(),
        covered_money.as_ref(),
        covered_units,
    );
    Ok(vec![NeedEvent::NeedCoverageRecorded {
        id: state.id,
        covered_money,
        covered_units,
        status,
        on,
    }])
}

fn amend(
    state: &NeedState,
    description: &Option<String>,
    beneficiary_institution: &Option<String>,
    estimated_cost: &Option<Money>,
    size: &Option<Units>,
    priority: Option<u8>,
    on: Date,
) -> Result<Vec<NeedEvent>, DomainError> {
    if let Some(d) = description {
        check_text("description", d, MAX_DESCRIPTION_CHARS)?;
    }
    if let Some(b) = beneficiary_institution {
        check_text("beneficiary_institution", b, MAX_BENEFICIARY_CHARS)?;
    }
    if let Some(cost) = estimated_cost {
        check_estimate(cost)?;
        if let Some(covered) = state
            .covered_money
            .as_ref()
            .filter(|c| c.currency != cost.currency)
        {
            return Err(DomainError::invalid(
                "estimated_cost",
                format!(
                    "must stay in {} while coverage is recorded in it, got {}",
                    covered.currency, cost.currency
                ),
            ));
        }
    }
    if let Some(s) = size {
        check_units(s)?;
    }
    if let Some(p) = priority {
        check_priority("priority", p)?;
    }

    // Keep only real changes, so the event says what changed and a repeated amendment is a no-op.
    let description = description
        .as_ref()
        .filter(|d| **d != state.description)
        .cloned();
    let beneficiary_institution = beneficiary_institution
        .as_deref()
        .map(str::trim)
        .filter(|b| *b != state.beneficiary_institution)
        .map(str::to_owned);
    let estimated_cost = estimated_cost
        .as_ref()
        .filter(|c| Some(*c) != state.estimated_cost.as_ref())
        .cloned();
    let size = size
        .as_ref()
        .map(trimmed_units)
        .filter(|s| Some(s) != state.size.as_ref());
    let priority = priority.filter(|p| *p != state.priority);
    if description.is_none()
        && beneficiary_institution.is_none()
        && estimated_cost.is_none()
        && size.is_none()
        && priority.is_none()
    {
        return Ok(vec![]);
    }

    let mut events = vec![NeedEvent::NeedAmended {
        id: state.id,
        description,
        beneficiary_institution,
        estimated_cost,
        size,
        priority,
        on,
    }];
    // A new estimate or size can move a covered need back to partially covered, or the other way: say so
    // with the same event a coverage change would produce.
    let status = state.status.unwrap_or(NeedStatus::Identified);
    if matches!(status, NeedStatus::PartiallyCovered | NeedStatus::Covered) {
        let after = events.iter().fold(state.clone(), Need::evolve);
        let derived = coverage_status(
            after.estimated_cost.as_ref(),
            after.size.as_ref(),
            after.covered_money.as_ref(),
            after.covered_units,
        );
        if derived != status {
            events.push(NeedEvent::NeedCoverageRecorded {
                id: state.id,
                covered_money: after.covered_money,
                covered_units: after.covered_units,
                status: derived,
                on,
            });
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{assert_kinds_round_trip, given};
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0xC1);
    const REC: Uuid = Uuid::from_u128(0xB1);

    fn usd(amount_minor: i64) -> Money {
        Money::new(amount_minor, "USD").unwrap()
    }

    fn officers(quantity: u64) -> Units {
        Units {
            measure: "officers trained".into(),
            quantity,
        }
    }

    fn identify() -> NeedCommand {
        NeedCommand::Identify {
            id: ID,
            member_state: "KE".into(),
            recommendation_ids: vec![REC],
            theme: "BOR".into(),
            modality: Modality::Training,
            description: "Train border officers on API/PNR screening.".into(),
            beneficiary_institution: "Kenya Immigration Service".into(),
            estimated_cost: Some(usd(10_000_000)),
            size: Some(officers(200)),
            priority: 1,
            on: date(2025, 8, 1),
        }
    }

    fn identified() -> NeedEvent {
        NeedEvent::NeedIdentified {
            id: ID,
            member_state: "KE".into(),
            recommendation_ids: vec![REC],
            theme: "BOR".into(),
            modality: Modality::Training,
            description: "Train border officers on API/PNR screening.".into(),
            beneficiary_institution: "Kenya Immigration Service".into(),
            estimated_cost: Some(usd(10_000_000)),
            size: Some(officers(200)),
            priority: 1,
            on: date(2025, 8, 1),
        }
    }

    fn d(day: i8) -> Date {
        date(2025, 9, day)
    }

    fn agreed() -> NeedEvent {
        NeedEvent::NeedAgreedWithState {
            id: ID,
            on: d(1),
            reason: None,
        }
    }

    fn coverage(money: Option<i64>, units: Option<u64>, status: NeedStatus) -> NeedEvent {
        NeedEvent::NeedCoverageRecorded {
            id: ID,
            covered_money: money.map(usd),
            covered_units: units,
            status,
            on: date(2025, 12, 31),
        }
    }

    fn record(money: Option<i64>, units: Option<u64>) -> NeedCommand {
        NeedCommand::RecordCoverage {
            id: ID,
            covered_money: money.map(usd),
            covered_units: units,
            on: date(2025, 12, 31),
        }
    }

    fn no_amendment() -> NeedCommand {
        NeedCommand::Amend {
            id: ID,
            description: None,
            beneficiary_institution: None,
            estimated_cost: None,
            size: None,
            priority: None,
            on: date(2025, 12, 31),
        }
    }

    fn amend_with(
        edit: impl FnOnce(
            &mut Option<String>,
            &mut Option<String>,
            &mut Option<Money>,
            &mut Option<Units>,
            &mut Option<u8>,
        ),
    ) -> NeedCommand {
        let mut c = no_amendment();
        if let NeedCommand::Amend {
            description,
            beneficiary_institution,
            estimated_cost,
            size,
            priority,
            ..
        } = &mut c
        {
            edit(
                description,
                beneficiary_institution,
                estimated_cost,
                size,
                priority,
            );
        }
        c
    }

    /// The events that take the standard need (100 000.00 USD, 200 officers) to `status`.
    fn history(status: NeedStatus) -> Vec<NeedEvent> {
        use NeedStatus as S;
        let mut events = vec![identified()];
        let partial = coverage(None, Some(50), S::PartiallyCovered);
        let covered = coverage(Some(10_000_000), Some(200), S::Covered);
        let reason = "no longer a priority".to_owned();
        match status {
            S::Identified => {}
            S::AgreedWithState => events.push(agreed()),
            S::PartiallyCovered => events.extend([agreed(), partial]),
            S::Covered => events.extend([agreed(), covered]),
            S::Met => events.extend([
                agreed(),
                covered,
                NeedEvent::NeedMet {
                    id: ID,
                    on: d(2),
                    reason: None,
                },
            ]),
            S::Withdrawn => events.push(NeedEvent::NeedWithdrawn {
                id: ID,
                on: d(1),
                reason,
            }),
            S::Declined => events.push(NeedEvent::NeedDeclined {
                id: ID,
                on: d(1),
                reason,
            }),
        }
        events
    }

    fn moves(id: Uuid) -> Vec<NeedCommand> {
        let on = d(20);
        vec![
            NeedCommand::AgreeWithState {
                id,
                on,
                reason: None,
            },
            NeedCommand::Withdraw {
                id,
                on,
                reason: "covered by the national budget".into(),
            },
            NeedCommand::Decline {
                id,
                on,
                reason: "not a priority for the State".into(),
            },
            NeedCommand::RecordCoverage {
                id,
                covered_money: None,
                covered_units: Some(10),
                on: date(2025, 12, 31),
            },
            NeedCommand::MarkMet {
                id,
                on,
                reason: None,
            },
            NeedCommand::Amend {
                id,
                description: None,
                beneficiary_institution: None,
                estimated_cost: None,
                size: None,
                priority: Some(2),
                on: date(2025, 12, 31),
            },
        ]
    }

    #[test]
    fn identify_creates_an_identified_need() {
        let state = given::<Need>(&[]).when(identify()).then(&[identified()]);
        assert_eq!(state.status, Some(NeedStatus::Identified));
        given::<Need>(&[identified()])
            .when(identify())
            .then_error(DomainError::already_exists("need", ID.to_string()));
    }

    #[test]
    fn identify_without_optional_parts() {
        let mut c = identify();
        let mut e = identified();
        if let (
            NeedCommand::Identify {
                recommendation_ids,
                estimated_cost,
                size,
                ..
            },
            NeedEvent::NeedIdentified {
                recommendation_ids: r2,
                estimated_cost: c2,
                size: s2,
                ..
            },
        ) = (&mut c, &mut e)
        {
            (*recommendation_ids, *estimated_cost, *size) = (vec![], None, None);
            (*r2, *c2, *s2) = (vec![], None, None);
        }
        given::<Need>(&[]).when(c).then(&[e]);
    }

    #[test]
    fn moves_need_an_existing_need_with_that_id() {
        for c in moves(ID) {
            given::<Need>(&[])
                .when(c)
                .then_error(DomainError::not_found("need", ID.to_string()));
        }
        for c in moves(Uuid::from_u128(0xC2)) {
            given::<Need>(&history(NeedStatus::AgreedWithState))
                .when(c)
                .then_invalid("id");
        }
    }

    #[test]
    fn identify_validation_names_the_field() {
        type Edit = fn(&mut NeedCommand);
        let cases: Vec<(&str, Edit)> = vec![
            ("id", |c| {
                if let NeedCommand::Identify { id, .. } = c {
                    *id = Uuid::nil();
                }
            }),
            ("member_state", |c| {
                if let NeedCommand::Identify { member_state, .. } = c {
                    *member_state = "QQ".into();
                }
            }),
            ("recommendation_ids", |c| {
                if let NeedCommand::Identify {
                    recommendation_ids, ..
                } = c
                {
                    *recommendation_ids = vec![REC, REC];
                }
            }),
            ("recommendation_ids", |c| {
                if let NeedCommand::Identify {
                    recommendation_ids, ..
                } = c
                {
                    *recommendation_ids = vec![Uuid::nil()];
                }
            }),
            ("theme", |c| {
                if let NeedCommand::Identify { theme, .. } = c {
                    *theme = "XXX".into();
                }
            }),
            ("description", |c| {
                if let NeedCommand::Identify { description, .. } = c {
                    *description = " ".into();
                }
            }),
            ("description", |c| {
                if let NeedCommand::Identify { description, .. } = c {
                    *description = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
                }
            }),
            ("beneficiary_institution", |c| {
                if let NeedCommand::Identify {
                    beneficiary_institution,
                    ..
                } = c
                {
                    *beneficiary_institution = String::new();
                }
            }),
            ("beneficiary_institution", |c| {
                if let NeedCommand::Identify {
                    beneficiary_institution,
                    ..
                } = c
                {
                    *beneficiary_institution = "x".repeat(MAX_BENEFICIARY_CHARS + 1);
                }
            }),
            ("estimated_cost", |c| {
                if let NeedCommand::Identify { estimated_cost, .. } = c {
                    *estimated_cost = Some(usd(0));
                }
            }),
            ("estimated_cost", |c| {
                if let NeedCommand::Identify { estimated_cost, .. } = c {
                    *estimated_cost = Some(usd(-1));
                }
            }),
            ("estimated_cost", |c| {
                if let NeedCommand::Identify { estimated_cost, .. } = c {
                    *estimated_cost = Some(Money {
                        amount_minor: 5,
                        currency: "XYZ".into(),
                    });
                }
            }),
            ("size.measure", |c| {
                if let NeedCommand::Identify { size, .. } = c {
                    *size = Some(Units {
                        measure: " ".into(),
                        quantity: 1,
                    });
                }
            }),
            ("size.measure", |c| {
                if let NeedCommand::Identify { size, .. } = c {
                    *size = Some(Units {
                        measure: "x".repeat(MAX_MEASURE_CHARS + 1),
                        quantity: 1,
                    });
                }
            }),
            ("size.quantity", |c| {
                if let NeedCommand::Identify { size, .. } = c {
                    *size = Some(officers(0));
                }
            }),
            ("priority", |c| {
                if let NeedCommand::Identify { priority, .. } = c {
                    *priority = 0;
                }
            }),
            ("priority", |c| {
                if let NeedCommand::Identify { priority, .. } = c {
                    *priority = 4;
                }
            }),
        ];
        for (field, edit) in cases {
            let mut c = identify();
            edit(&mut c);
            given::<Need>(&[]).when(c).then_invalid(field);
        }
    }

    #[test]
    fn every_status_and_move() {
        use NeedStatus as S;
        let allowed = |status: S, command: &NeedCommand| {
            use NeedCommand as C;
            matches!(
                (status, command),
                (
                    S::Identified,
                    C::AgreeWithState { .. }
                        | C::Withdraw { .. }
                        | C::Decline { .. }
                        | C::Amend { .. }
                ) | (
                    S::AgreedWithState | S::PartiallyCovered,
                    C::Withdraw { .. }
                        | C::Decline { .. }
                        | C::RecordCoverage { .. }
                        | C::Amend { .. }
                ) | (
                    S::Covered,
                    C::RecordCoverage { .. } | C::MarkMet { .. } | C::Amend { .. }
                )
            )
        };
        for &status in S::ALL {
            for command in moves(ID) {
                let result = Need::decide(&crate::fold::<Need>(&history(status)), &command);
                if allowed(status, &command) {
                    assert!(
                        result.as_ref().is_ok_and(|events| !events.is_empty()),
                        "{command:?} from {status}: {result:?}"
                    );
                } else {
                    match result {
                        Err(DomainError::Invalid { field, reason }) => {
                            assert_eq!(field, "status", "{command:?} from {status}");
                            assert!(
                                reason.ends_with(&format!("a need that is {status}")),
                                "{reason}"
                            );
                        }
                        other => panic!("{command:?} from {status}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn the_lifecycle_to_met() {
        use NeedStatus as S;
        let mut events = vec![identified()];
        let steps = [
            (
                NeedCommand::AgreeWithState {
                    id: ID,
                    on: d(1),
                    reason: None,
                },
                vec![agreed()],
            ),
            (
                record(None, Some(50)),
                vec![coverage(None, Some(50), S::PartiallyCovered)],
            ),
            (
                record(Some(10_000_000), None),
                vec![coverage(Some(10_000_000), Some(50), S::PartiallyCovered)],
            ),
            (
                record(None, Some(200)),
                vec![coverage(Some(10_000_000), Some(200), S::Covered)],
            ),
            (
                NeedCommand::MarkMet {
                    id: ID,
                    on: d(3),
                    reason: Some("all trained".into()),
                },
                vec![NeedEvent::NeedMet {
                    id: ID,
                    on: d(3),
                    reason: Some("all trained".into()),
                }],
            ),
        ];
        for (command, expected) in steps {
            given::<Need>(&events).when(command).then(&expected);
            events.extend(expected);
        }
        let state = crate::fold::<Need>(&events);
        assert_eq!(state.status, Some(S::Met));
        assert_eq!(state.covered_units, Some(200));
    }

    #[test]
    fn coverage_is_derived_from_totals() {
        use NeedStatus as S;
        // More than asked is covered too.
        given::<Need>(&history(S::AgreedWithState))
            .when(record(Some(20_000_000), Some(300)))
            .then(&[coverage(Some(20_000_000), Some(300), S::Covered)]);
        // Money reached but not units: partial.
        given::<Need>(&history(S::AgreedWithState))
            .when(record(Some(10_000_000), Some(199)))
            .then(&[coverage(Some(10_000_000), Some(199), S::PartiallyCovered)]);
        // Coverage can fall back, e.g. when a referral lapses.
        given::<Need>(&history(S::Covered))
            .when(record(None, Some(150)))
            .then(&[coverage(Some(10_000_000), Some(150), S::PartiallyCovered)]);
        given::<Need>(&history(S::PartiallyCovered))
            .when(record(None, Some(0)))
            .then(&[coverage(None, Some(0), S::AgreedWithState)]);
        // The same totals again change nothing.
        given::<Need>(&history(S::PartiallyCovered))
            .when(record(None, Some(50)))
            .then(&[]);
    }

    #[test]
    fn coverage_uses_whichever_measures_the_need_has() {
        use NeedStatus as S;
        assert_eq!(
            coverage_status(Some(&usd(100)), None, Some(&usd(100)), None),
            S::Covered
        );
        assert_eq!(
            coverage_status(Some(&usd(100)), None, Some(&usd(99)), Some(1_000)),
            S::PartiallyCovered
        );
        assert_eq!(
            coverage_status(None, Some(&officers(10)), None, Some(10)),
            S::Covered
        );
        assert_eq!(
            coverage_status(None, Some(&officers(10)), Some(&usd(1)), Some(9)),
            S::PartiallyCovered
        );
        assert_eq!(
            coverage_status(None, None, Some(&usd(1)), None),
            S::PartiallyCovered
        );
        assert_eq!(
            coverage_status(None, None, None, Some(0)),
            S::AgreedWithState
        );
        assert_eq!(
            coverage_status(Some(&usd(100)), Some(&officers(10)), None, None),
            S::AgreedWithState
        );
    }

    #[test]
    fn coverage_validation() {
        let agreed = history(NeedStatus::AgreedWithState);
        given::<Need>(&agreed)
            .when(record(None, None))
            .then_invalid("covered_money");
        given::<Need>(&agreed)
            .when(record(Some(-1), None))
            .then_invalid("covered_money");
        given::<Need>(&agreed)
            .when(NeedCommand::RecordCoverage {
                id: ID,
                covered_money: Some(Money::new(5, "EUR").unwrap()),
                covered_units: None,
                on: date(2025, 12, 31),
            })
            .then_error(DomainError::invalid(
                "covered_money",
                "must be in USD, the need's currency, got EUR",
            ));
        given::<Need>(&agreed)
            .when(NeedCommand::RecordCoverage {
                id: ID,
                covered_money: Some(Money {
                    amount_minor: 5,
                    currency: "usd".into(),
                }),
                covered_units: None,
                on: date(2025, 12, 31),
            })
            .then_invalid("covered_money");
    }

    #[test]
    fn withdraw_and_decline_need_a_reason() {
        let on = d(5);
        for status in [
            NeedStatus::Identified,
            NeedStatus::AgreedWithState,
            NeedStatus::PartiallyCovered,
        ] {
            given::<Need>(&history(status))
                .when(NeedCommand::Withdraw {
                    id: ID,
                    on,
                    reason: " merged into another need ".into(),
                })
                .then(&[NeedEvent::NeedWithdrawn {
                    id: ID,
                    on,
                    reason: "merged into another need".into(),
                }]);
            given::<Need>(&history(status))
                .when(NeedCommand::Decline {
                    id: ID,
                    on,
                    reason: "the State prefers bilateral help".into(),
                })
                .then(&[NeedEvent::NeedDeclined {
                    id: ID,
                    on,
                    reason: "the State prefers bilateral help".into(),
                }]);
            given::<Need>(&history(status))
                .when(NeedCommand::Withdraw {
                    id: ID,
                    on,
                    reason: "  ".into(),
                })
                .then_invalid("reason");
            given::<Need>(&history(status))
                .when(NeedCommand::Decline {
                    id: ID,
                    on,
                    reason: String::new(),
                })
                .then_invalid("reason");
        }
    }

    #[test]
    fn dated_moves_may_not_predate_the_previous_one() {
        // Agreed on 1 September.
        given::<Need>(&history(NeedStatus::AgreedWithState))
            .when(NeedCommand::Withdraw {
                id: ID,
                on: date(2025, 8, 31),
                reason: "late".into(),
            })
            .then_error(DomainError::invalid(
                "on",
                "must not be before 2025-09-01, got 2025-08-31",
            ));
        given::<Need>(&history(NeedStatus::Covered))
            .when(NeedCommand::MarkMet {
                id: ID,
                on: date(2025, 8, 31),
                reason: None,
            })
            .then_invalid("on");
        given::<Need>(&history(NeedStatus::Identified))
            .when(NeedCommand::AgreeWithState {
                id: ID,
                on: d(1),
                reason: Some(String::new()),
            })
            .then_invalid("reason");
    }

    #[test]
    fn amend_changes_only_what_differs() {
        let c = amend_with(|desc, ben, _, size, prio| {
            *desc = Some("Train 250 border officers.".into());
            *ben = Some(" Kenya Immigration Service ".into()); // unchanged once trimmed
            *size = Some(officers(200)); // unchanged
            *prio = Some(2);
        });
        let state = given::<Need>(&history(NeedStatus::Identified))
            .when(c)
            .then(&[NeedEvent::NeedAmended {
                id: ID,
                description: Some("Train 250 border officers.".into()),
                beneficiary_institution: None,
                estimated_cost: None,
                size: None,
                priority: Some(2),
                on: date(2025, 12, 31),
            }]);
        assert_eq!(state.priority, 2);
        assert_eq!(state.description, "Train 250 border officers.");
        given::<Need>(&history(NeedStatus::Identified))
            .when(no_amendment())
            .then(&[]);
    }

    #[test]
    fn amending_a_measure_rederives_coverage() {
        let c = amend_with(|_, _, cost, _, _| *cost = Some(usd(12_000_000)));
        given::<Need>(&history(NeedStatus::Covered)).when(c).then(&[
            NeedEvent::NeedAmended {
                id: ID,
                description: None,
                beneficiary_institution: None,
                estimated_cost: Some(usd(12_000_000)),
                size: None,
                priority: None,
                on: date(2025, 12, 31),
            },
            coverage(Some(10_000_000), Some(200), NeedStatus::PartiallyCovered),
        ]);
        // Partially covered by 50 officers; lowering the size to 50 covers it, the estimate still not.
        let c = amend_with(|_, _, _, size, _| *size = Some(officers(50)));
        let state = given::<Need>(&history(NeedStatus::PartiallyCovered))
            .when(c)
            .then(&[NeedEvent::NeedAmended {
                id: ID,
                description: None,
                beneficiary_institution: None,
                estimated_cost: None,
                size: Some(officers(50)),
                priority: None,
                on: date(2025, 12, 31),
            }]);
        assert_eq!(state.status, Some(NeedStatus::PartiallyCovered));
    }

    #[test]
    fn amend_validation_names_the_field() {
        type Edit = fn(
            &mut Option<String>,
            &mut Option<String>,
            &mut Option<Money>,
            &mut Option<Units>,
            &mut Option<u8>,
        );
        let cases: [(&str, Edit); 7] = [
            ("description", |d, _, _, _, _| *d = Some(String::new())),
            ("beneficiary_institution", |_, b, _, _, _| {
                *b = Some("x".repeat(MAX_BENEFICIARY_CHARS + 1));
            }),
            ("estimated_cost", |_, _, c, _, _| *c = Some(usd(0))),
            ("estimated_cost", |_, _, c, _, _| {
                *c = Some(Money {
                    amount_minor: 1,
                    currency: "ABC".into(),
                });
            }),
            ("size.quantity", |_, _, _, s, _| *s = Some(officers(0))),
            ("size.measure", |_, _, _, s, _| {
                *s = Some(Units {
                    measure: String::new(),
                    quantity: 3,
                });
            }),
            ("priority", |_, _, _, _, p| *p = Some(9)),
        ];
        for (field, edit) in cases {
            given::<Need>(&history(NeedStatus::Identified))
                .when(amend_with(edit))
                .then_invalid(field);
        }
        // Coverage recorded in USD pins the estimate's currency.
        given::<Need>(&history(NeedStatus::Covered))
            .when(amend_with(|_, _, c, _, _| {
                *c = Some(Money::new(9, "EUR").unwrap());
            }))
            .then_error(DomainError::invalid(
                "estimated_cost",
                "must stay in USD while coverage is recorded in it, got EUR",
            ));
    }

    #[test]
    fn modality_aid_types() {
        let pairs: Vec<_> = Modality::ALL
            .iter()
            .map(|m| (m.as_str(), m.iati_aid_type()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("training", "D02"),
                ("mentoring", "D01"),
                ("legislative_drafting", "D02"),
                ("equipment", "C01"),
                ("workshop", "D02"),
                ("study_visit", "E01"),
                ("expert_deployment", "D01"),
            ]
        );
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let mut events = history(NeedStatus::Met);
        events.extend(history(NeedStatus::Withdrawn).into_iter().skip(1));
        events.extend(history(NeedStatus::Declined).into_iter().skip(1));
        events.push(NeedEvent::NeedAmended {
            id: ID,
            description: None,
            beneficiary_institution: None,
            estimated_cost: None,
            size: None,
            priority: Some(3),
            on: date(2025, 12, 31),
        });
        assert_kinds_round_trip(&events, NeedEvent::KINDS);
    }
}
