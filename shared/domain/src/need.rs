//! Need: a technical-assistance need of a Member State, from identification through coverage by
//! partners' projects to being met (or withdrawn, or declined by the State).

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
use crate::money::{Money, check_currency_of, check_positive};
use crate::validate::{
    check_ids, check_not_before, check_priority, check_text, optional_reason, required_reason,
    trimmed,
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

impl Units {
    /// A measure that is sensible text and a positive quantity; the errors name
    /// `<field>.measure` and `<field>.quantity`.
    pub(crate) fn check(&self, field: &str) -> Result<(), DomainError> {
        check_text(
            &format!("{field}.measure"),
            &self.measure,
            MAX_MEASURE_CHARS,
        )?;
        if self.quantity == 0 {
            return Err(DomainError::invalid(
                format!("{field}.quantity"),
                "must be positive",
            ));
        }
        Ok(())
    }

    /// With the measure trimmed, as an event records it.
    pub(crate) fn trimmed(&self) -> Units {
        Units {
            measure: self.measure.trim().to_owned(),
            quantity: self.quantity,
        }
    }
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

command_fields!(NeedCommand:
    Identify, AgreeWithState, Withdraw, Decline, RecordCoverage, MarkMet, Amend,
);

event_enum! {
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
}

event_fields!(NeedEvent:
    NeedIdentified, NeedAgreedWithState, NeedCoverageRecorded, NeedMet, NeedWithdrawn, NeedDeclined,
    NeedAmended,
);

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

    /// The coverage recorded so far, against the need's estimate and size.
    fn coverage(&self) -> Running<'_> {
        Running {
            totals: "covered",
            owner: "need",
            target_money: self.estimated_cost.as_ref(),
            money: self.covered_money.as_ref(),
            units: self.covered_units,
            on: self.coverage_on,
        }
    }

    /// [`coverage_status`] of the need as it stands.
    fn coverage_status(&self) -> NeedStatus {
        coverage_status(
            self.estimated_cost.as_ref(),
            self.size.as_ref(),
            self.covered_money.as_ref(),
            self.covered_units,
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

/// Running totals of accepted referrals against a target: a need's coverage against its estimate,
/// an offer's commitment against its budget. Both check and count the
/// totals the projects service sends here, so the two can never differ.
pub(crate) struct Running<'a> {
    /// `"covered"` or `"committed"`: the command's fields are `<totals>_money` and `<totals>_units`.
    pub(crate) totals: &'static str,
    /// Whose totals they are (`"need"`, `"offer"`), for the errors.
    pub(crate) owner: &'static str,
    pub(crate) target_money: Option<&'a Money>,
    pub(crate) money: Option<&'a Money>,
    pub(crate) units: Option<u64>,
    /// The business date of the latest totals.
    pub(crate) on: Option<Date>,
}

impl Running<'_> {
    /// The totals a command sends (`None` keeps that total): at least one, and money in a known
    /// currency, not negative, and in the currency of the target (or of the earlier totals): they
    /// are compared with it, and converting needs a recorded exchange rate, which is not a
    /// decider's business.
    pub(crate) fn check(
        &self,
        money: Option<&Money>,
        units: Option<u64>,
    ) -> Result<(), DomainError> {
        let field = format!("{}_money", self.totals);
        if money.is_none() && units.is_none() {
            return Err(DomainError::invalid(
                &field,
                format!("give {field}, {}_units or both", self.totals),
            ));
        }
        let Some(money) = money else {
            return Ok(());
        };
        check_currency_of(&field, money)?;
        if money.amount_minor < 0 {
            return Err(DomainError::invalid(
                &field,
                format!("must not be negative, got {money}"),
            ));
        }
        if let Some(expected) = self
            .target_money
            .or(self.money)
            .filter(|e| e.currency != money.currency)
        {
            return Err(DomainError::invalid(
                &field,
                format!(
                    "must be in {}, the {}'s currency, got {}",
                    expected.currency, self.owner, money.currency
                ),
            ));
        }
        Ok(())
    }

    /// The totals after a command that sends `money` and `units` dated `on`, or `None` when they
    /// are the same again (a redelivered update): nothing happened. Totals dated back are part of
    /// a correction of the history and are always recorded.
    pub(crate) fn next(
        &self,
        money: Option<&Money>,
        units: Option<u64>,
        on: Date,
    ) -> Option<(Option<Money>, Option<u64>)> {
        let next_money = money.or(self.money).cloned();
        let next_units = units.or(self.units);
        let back_dated = self.on.is_some_and(|latest| on < latest);
        if next_money.as_ref() == self.money && next_units == self.units && !back_dated {
            return None;
        }
        Some((next_money, next_units))
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
            check_new(Self::NAME, state.status.is_some(), *id)?;
            codes::check_country("member_state", member_state)?;
            check_ids("recommendation_ids", recommendation_ids)?;
            codes::check_theme("theme", theme)?;
            check_text("description", description, MAX_DESCRIPTION_CHARS)?;
            let beneficiary_institution = trimmed(
                "beneficiary_institution",
                beneficiary_institution,
                MAX_BENEFICIARY_CHARS,
            )?;
            if let Some(cost) = estimated_cost {
                check_positive("estimated_cost", cost)?;
            }
            if let Some(size) = size {
                size.check("size")?;
            }
            check_priority("priority", *priority)?;
            return Ok(vec![E::NeedIdentified {
                id: *id,
                member_state: member_state.clone(),
                recommendation_ids: recommendation_ids.clone(),
                theme: theme.clone(),
                modality: *modality,
                description: description.clone(),
                beneficiary_institution,
                estimated_cost: estimated_cost.clone(),
                size: size.as_ref().map(Units::trimmed),
                priority: *priority,
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let need = Lifecycle::new(
            Self::NAME,
            state.status.unwrap_or(S::Identified),
            state.last_on,
        );
        let (status, id, on) = (need.status, state.id, command.on());
        // Withdrawn and declined only until it is covered.
        let ending = matches!(
            status,
            S::Identified | S::AgreedWithState | S::PartiallyCovered
        );
        match command {
            C::Identify { .. } => unreachable!("handled above"),
            C::AgreeWithState { reason, .. } => {
                need.check(status == S::Identified, "agree with the State on", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::NeedAgreedWithState { id, on, reason }])
            }
            C::Withdraw { reason, .. } => {
                need.check(ending, "withdraw", on)?;
                let reason = required_reason(reason)?;
                Ok(vec![E::NeedWithdrawn { id, on, reason }])
            }
            C::Decline { reason, .. } => {
                need.check(ending, "decline", on)?;
                let reason = required_reason(reason)?;
                Ok(vec![E::NeedDeclined { id, on, reason }])
            }
            C::MarkMet { reason, .. } => {
                need.check(status == S::Covered, "mark met", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::NeedMet { id, on, reason }])
            }
            C::RecordCoverage {
                covered_money,
                covered_units,
                ..
            } => {
                let covering = matches!(
                    status,
                    S::AgreedWithState | S::PartiallyCovered | S::Covered
                );
                if !covering {
                    return Err(DomainError::cannot(
                        "record coverage on",
                        Self::NAME,
                        status,
                    ));
                }
                // A derived fact: it may be dated back (a late acceptance), but a need is
                // covered only once the State has agreed to it.
                check_not_before(state.agreed_on, on)?;
                record_coverage(state, covered_money.as_ref(), *covered_units, on)
            }
            C::Amend { .. } => {
                need.check(!status.is_final(), "amend", on)?;
                amend_need(state, command)
            }
        }
    }

    fn evolve(mut state: NeedState, event: &NeedEvent) -> NeedState {
        use NeedEvent as E;
        use NeedStatus as S;
        let status = match event {
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
                state.agreed_on = Some(*on);
                S::AgreedWithState
            }
            E::NeedMet { .. } => S::Met,
            E::NeedWithdrawn { .. } => S::Withdrawn,
            E::NeedDeclined { .. } => S::Declined,
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
                // the event was decided with is not taken on trust). Final statuses stay. A
                // derived fact, it is not a move of the need's own (`last_on`).
                if matches!(
                    state.status,
                    Some(S::AgreedWithState | S::PartiallyCovered | S::Covered)
                ) {
                    state.status = Some(state.coverage_status());
                }
                return state;
            }
            E::NeedAmended {
                description,
                beneficiary_institution,
                estimated_cost,
                size,
                priority,
                ..
            } => {
                amend(&mut state.description, description.as_ref());
                amend(
                    &mut state.beneficiary_institution,
                    beneficiary_institution.as_ref(),
                );
                amend_optional(&mut state.estimated_cost, estimated_cost.as_ref());
                amend_optional(&mut state.size, size.as_ref());
                amend(&mut state.priority, priority.as_ref());
                state.status.unwrap_or(S::Identified)
            }
        };
        state.status = Some(status);
        state.last_on = Some(event.on());
        state
    }
}

fn record_coverage(
    state: &NeedState,
    money: Option<&Money>,
    units: Option<u64>,
    on: Date,
) -> Result<Vec<NeedEvent>, DomainError> {
    let coverage = state.coverage();
    coverage.check(money, units)?;
    let Some((covered_money, covered_units)) = coverage.next(money, units, on) else {
        return Ok(vec![]);
    };
    Ok(vec![coverage_recorded(
        state,
        covered_money,
        covered_units,
        on,
    )])
}

/// Coverage totals as of `on`, with the status they give the need as it stands.
fn coverage_recorded(
    state: &NeedState,
    covered_money: Option<Money>,
    covered_units: Option<u64>,
    on: Date,
) -> NeedEvent {
    let status = coverage_status(
        state.estimated_cost.as_ref(),
        state.size.as_ref(),
        covered_money.as_ref(),
        covered_units,
    );
    NeedEvent::NeedCoverageRecorded {
        id: state.id,
        covered_money,
        covered_units,
        status,
        on,
    }
}

fn amend_need(state: &NeedState, command: &NeedCommand) -> Result<Vec<NeedEvent>, DomainError> {
    let NeedCommand::Amend {
        description,
        beneficiary_institution,
        estimated_cost,
        size,
        priority,
        on,
        ..
    } = command
    else {
        unreachable!("amend_need is only called with Amend");
    };
    if let Some(d) = description {
        check_text("description", d, MAX_DESCRIPTION_CHARS)?;
    }
    if let Some(b) = beneficiary_institution {
        check_text("beneficiary_institution", b, MAX_BENEFICIARY_CHARS)?;
    }
    if let Some(cost) = estimated_cost {
        check_positive("estimated_cost", cost)?;
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
        s.check("size")?;
    }
    if let Some(p) = priority {
        check_priority("priority", *p)?;
    }

    let description = changed(description.as_ref(), &state.description);
    let beneficiary_institution = changed_text(
        beneficiary_institution.as_deref(),
        Some(&state.beneficiary_institution),
    );
    let estimated_cost = changed_optional(estimated_cost.as_ref(), state.estimated_cost.as_ref());
    let size = changed_optional(
        size.as_ref().map(Units::trimmed).as_ref(),
        state.size.as_ref(),
    );
    let priority = changed(priority.as_ref(), &state.priority);
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
        on: *on,
    }];
    // A new estimate or size can move a covered need back to partially covered, or the other
    // way: say so with the same event a coverage change would produce.
    let status = state.status.unwrap_or(NeedStatus::Identified);
    let after = events.iter().fold(state.clone(), Need::evolve);
    if matches!(status, NeedStatus::PartiallyCovered | NeedStatus::Covered)
        && after.coverage_status() != status
    {
        let (money, units) = (after.covered_money.clone(), after.covered_units);
        events.push(coverage_recorded(&after, money, units, *on));
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

    const ID: Uuid = Uuid::from_u128(0xC1);
    const REC: Uuid = Uuid::from_u128(0xB1);

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

    /// The event of an amendment of nothing, after `edit`.
    fn amended(edit: fn(&mut NeedEvent)) -> NeedEvent {
        let nothing = NeedEvent::NeedAmended {
            id: ID,
            description: None,
            beneficiary_institution: None,
            estimated_cost: None,
            size: None,
            priority: None,
            on: date(2025, 12, 31),
        };
        edited(nothing, edit)
    }

    fn amend_with(edit: fn(&mut NeedCommand)) -> NeedCommand {
        edited(no_amendment(), edit)
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
        assert_moves_need_the_aggregate::<Need>(
            &moves(ID),
            ID,
            &history(NeedStatus::AgreedWithState),
            &moves(Uuid::from_u128(0xC2)),
        );
    }

    #[test]
    fn identify_validation_names_the_field() {
        use NeedCommand as C;
        fn units(measure: String) -> Option<Units> {
            Some(Units {
                measure,
                quantity: 1,
            })
        }
        fn unknown_currency() -> Option<Money> {
            Some(Money {
                amount_minor: 5,
                currency: "XYZ".into(),
            })
        }
        assert_invalid_edits::<Need>(
            &[],
            identify,
            &[
                ("id", edit!(C::Identify, id = Uuid::nil())),
                (
                    "member_state",
                    edit!(C::Identify, member_state = "QQ".into()),
                ),
                (
                    "recommendation_ids",
                    edit!(C::Identify, recommendation_ids = vec![REC, REC]),
                ),
                (
                    "recommendation_ids",
                    edit!(C::Identify, recommendation_ids = vec![Uuid::nil()]),
                ),
                ("theme", edit!(C::Identify, theme = "XXX".into())),
                ("description", edit!(C::Identify, description = " ".into())),
                (
                    "description",
                    edit!(
                        C::Identify,
                        description = "x".repeat(MAX_DESCRIPTION_CHARS + 1)
                    ),
                ),
                (
                    "beneficiary_institution",
                    edit!(C::Identify, beneficiary_institution = String::new()),
                ),
                (
                    "beneficiary_institution",
                    edit!(
                        C::Identify,
                        beneficiary_institution = "x".repeat(MAX_BENEFICIARY_CHARS + 1)
                    ),
                ),
                (
                    "estimated_cost",
                    edit!(C::Identify, estimated_cost = Some(usd(0))),
                ),
                (
                    "estimated_cost",
                    edit!(C::Identify, estimated_cost = Some(usd(-1))),
                ),
                (
                    "estimated_cost",
                    edit!(C::Identify, estimated_cost = unknown_currency()),
                ),
                ("size.measure", edit!(C::Identify, size = units(" ".into()))),
                (
                    "size.measure",
                    edit!(C::Identify, size = units("x".repeat(MAX_MEASURE_CHARS + 1))),
                ),
                (
                    "size.quantity",
                    edit!(C::Identify, size = Some(officers(0))),
                ),
                ("priority", edit!(C::Identify, priority = 0)),
                ("priority", edit!(C::Identify, priority = 4)),
            ],
        );
    }

    #[test]
    fn every_status_and_move() {
        use NeedCommand as C;
        use NeedStatus as S;
        assert_lifecycle::<Need, _>(S::ALL, history, &moves(ID), |status, command| {
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
        });
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
        use NeedCommand as C;
        use NeedEvent as E;
        let on = d(5);
        let merged = "merged into another need".to_owned();
        let bilateral = "the State prefers bilateral help".to_owned();
        for status in [
            NeedStatus::Identified,
            NeedStatus::AgreedWithState,
            NeedStatus::PartiallyCovered,
        ] {
            let (id, given) = (ID, || given::<Need>(&history(status)));
            given()
                .when(C::Withdraw {
                    id,
                    on,
                    reason: format!(" {merged} "),
                })
                .then(&[E::NeedWithdrawn {
                    id,
                    on,
                    reason: merged.clone(),
                }]);
            given()
                .when(C::Decline {
                    id,
                    on,
                    reason: bilateral.clone(),
                })
                .then(&[E::NeedDeclined {
                    id,
                    on,
                    reason: bilateral.clone(),
                }]);
            let reason = "  ".to_owned();
            given()
                .when(C::Withdraw { id, on, reason })
                .then_invalid("reason");
            let reason = String::new();
            given()
                .when(C::Decline { id, on, reason })
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
        let c = amend_with(edit!(
            NeedCommand::Amend,
            description = Some("Train 250 border officers.".into()),
            // Unchanged once trimmed.
            beneficiary_institution = Some(" Kenya Immigration Service ".into()),
            size = Some(officers(200)),
            priority = Some(2),
        ));
        let state = given::<Need>(&history(NeedStatus::Identified))
            .when(c)
            .then(&[amended(edit!(
                NeedEvent::NeedAmended,
                description = Some("Train 250 border officers.".into()),
                priority = Some(2)
            ))]);
        assert_eq!(state.priority, 2);
        assert_eq!(state.description, "Train 250 border officers.");
        given::<Need>(&history(NeedStatus::Identified))
            .when(no_amendment())
            .then(&[]);
    }

    #[test]
    fn amending_a_measure_rederives_coverage() {
        let c = amend_with(edit!(
            NeedCommand::Amend,
            estimated_cost = Some(usd(12_000_000))
        ));
        given::<Need>(&history(NeedStatus::Covered)).when(c).then(&[
            amended(edit!(
                NeedEvent::NeedAmended,
                estimated_cost = Some(usd(12_000_000))
            )),
            coverage(Some(10_000_000), Some(200), NeedStatus::PartiallyCovered),
        ]);
        // Partially covered by 50 officers; lowering the size to 50 covers it, the estimate still not.
        let c = amend_with(edit!(NeedCommand::Amend, size = Some(officers(50))));
        let state = given::<Need>(&history(NeedStatus::PartiallyCovered))
            .when(c)
            .then(&[amended(edit!(
                NeedEvent::NeedAmended,
                size = Some(officers(50))
            ))]);
        assert_eq!(state.status, Some(NeedStatus::PartiallyCovered));
    }

    #[test]
    fn amend_validation_names_the_field() {
        use NeedCommand as C;
        fn measure(measure: &str) -> Option<Units> {
            Some(Units {
                measure: measure.into(),
                quantity: 3,
            })
        }
        fn unknown_currency() -> Option<Money> {
            Some(Money {
                amount_minor: 1,
                currency: "ABC".into(),
            })
        }
        assert_invalid_edits::<Need>(
            &history(NeedStatus::Identified),
            no_amendment,
            &[
                (
                    "description",
                    edit!(C::Amend, description = Some(String::new())),
                ),
                (
                    "beneficiary_institution",
                    edit!(
                        C::Amend,
                        beneficiary_institution = Some("x".repeat(MAX_BENEFICIARY_CHARS + 1))
                    ),
                ),
                (
                    "estimated_cost",
                    edit!(C::Amend, estimated_cost = Some(usd(0))),
                ),
                (
                    "estimated_cost",
                    edit!(C::Amend, estimated_cost = unknown_currency()),
                ),
                ("size.quantity", edit!(C::Amend, size = Some(officers(0)))),
                ("size.measure", edit!(C::Amend, size = measure(""))),
                ("priority", edit!(C::Amend, priority = Some(9))),
            ],
        );
        // Coverage recorded in USD pins the estimate's currency.
        given::<Need>(&history(NeedStatus::Covered))
            .when(amend_with(edit!(
                C::Amend,
                estimated_cost = Some(Money::new(9, "EUR").unwrap())
            )))
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
        events.push(amended(edit!(NeedEvent::NeedAmended, priority = Some(3))));
        assert_kinds_round_trip(&events, NeedEvent::KINDS);
    }
}
