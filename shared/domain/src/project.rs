//! Project: the work that serves needs, shaped like an IATI activity (identifier, participating
//! organisations, ActivityStatus, dates, budget, transactions, milestones, results, documents).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Dated, check_new, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::money::{Money, Totals, check_currency_of, check_positive};
use crate::organisation::check_organisation_id;
use crate::validate::{
    check_date_order, check_id, check_ids, check_not_before, check_text, optional_reason, trimmed,
};

pub const MAX_IATI_IDENTIFIER_CHARS: usize = 150;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_PARTY_CHARS: usize = 300;
pub const MAX_URL_CHARS: usize = 500;

string_enum! {
    /// IATI ActivityStatus; the wire form is the IATI code.
    pub enum ActivityStatus ("status") {
        Pipeline => "1",
        Implementation => "2",
        Finalisation => "3",
        Closed => "4",
        Cancelled => "5",
        Suspended => "6",
    }
}

impl ActivityStatus {
    /// The IATI name in lower case, for people: `"implementation"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pipeline => "pipeline",
            Self::Implementation => "implementation",
            Self::Finalisation => "finalisation",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
            Self::Suspended => "suspended",
        }
    }

    /// The allowed moves: 1->2->3->4, {1,2,6}->5, 2<->6.
    pub fn can_move_to(self, to: ActivityStatus) -> bool {
        use ActivityStatus as S;
        matches!(
            (self, to),
            (S::Pipeline, S::Implementation | S::Cancelled)
                | (
                    S::Implementation,
                    S::Finalisation | S::Cancelled | S::Suspended
                )
                | (S::Finalisation, S::Closed)
                | (S::Suspended, S::Cancelled | S::Implementation)
        )
    }

    /// Closed and cancelled projects take no more transactions, milestones, results or documents.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
}

string_enum! {
    pub enum TransactionKind ("kind") {
        Pledge => "pledge",
        Commitment => "commitment",
        Disbursement => "disbursement",
        Expenditure => "expenditure",
    }
}

impl TransactionKind {
    /// The IATI TransactionType code: 12 outgoing pledge, 2 outgoing commitment, 3 disbursement,
    /// 4 expenditure.
    pub fn iati_code(self) -> &'static str {
        match self {
            Self::Pledge => "12",
            Self::Commitment => "2",
            Self::Disbursement => "3",
            Self::Expenditure => "4",
        }
    }
}

/// An organisation taking part, with its IATI OrganisationRole code: `"1"` funding, `"2"`
/// accountable, `"3"` extending, `"4"` implementing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Participant {
    pub organisation: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Transaction {
    pub transaction_id: Uuid,
    pub kind: TransactionKind,
    pub value: Money,
    #[schemars(schema_with = "crate::schema::date")]
    pub date: Date,
    pub provider: Option<String>,
    pub receiver: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Milestone {
    pub milestone_id: Uuid,
    pub title: String,
    #[schemars(schema_with = "crate::schema::date")]
    pub due: Date,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub done_on: Option<Date>,
    /// The day it was added: it is not done before.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub added_on: Option<Date>,
}

/// An indicator as defined when its result is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IndicatorDef {
    pub indicator_id: Uuid,
    pub title: String,
    /// IATI IndicatorMeasure code, `"1"` unit .. `"5"` qualitative.
    pub measure: String,
    pub baseline: Option<i64>,
    pub target: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Actual {
    pub value: i64,
    #[schemars(schema_with = "crate::schema::date")]
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Indicator {
    pub def: IndicatorDef,
    /// In the order recorded.
    pub actuals: Vec<Actual>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectResult {
    pub result_id: Uuid,
    pub title: String,
    pub indicators: Vec<Indicator>,
    /// The day it was added: no actual is dated before.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub added_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Document {
    pub url: String,
    pub title: String,
    /// IATI DocumentCategory code, e.g. `"A01"`.
    pub category: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProjectCommand {
    /// Creates the project, status 1 (pipeline).
    Create {
        id: Uuid,
        iati_identifier: String,
        title: String,
        description: String,
        recipient_country: String,
        theme: String,
        /// DAC 5-digit purpose code.
        dac_sector: String,
        /// At least one funding ("1") and one implementing ("4") organisation.
        participating: Vec<Participant>,
        planned_start: Date,
        planned_end: Date,
        budget: Option<Money>,
        needs: Vec<Uuid>,
        referrals: Vec<Uuid>,
        /// The day it was created (business date).
        on: Date,
    },
    /// Moves the ActivityStatus along an allowed move (1->2->3->4, {1,2,6}->5, 2<->6).
    ChangeStatus {
        id: Uuid,
        to: ActivityStatus,
        on: Date,
        reason: Option<String>,
    },
    /// An active referral joins the project (a no-op when it already has).
    JoinReferral {
        id: Uuid,
        referral_id: Uuid,
        need_id: Uuid,
        /// The referral's activation date.
        on: Date,
    },
    SetBudget {
        id: Uuid,
        budget: Money,
        on: Date,
    },
    AddTransaction {
        id: Uuid,
        transaction_id: Uuid,
        kind: TransactionKind,
        /// Not zero; negative reverses an earlier transaction of the same kind (IATI allows it),
        /// never taking a total below zero.
        value: Money,
        /// The transaction date: its business date. Not before the project was created; a
        /// disbursement or expenditure not before a commitment in its currency.
        on: Date,
        provider: Option<String>,
        receiver: Option<String>,
        description: Option<String>,
    },
    AddMilestone {
        id: Uuid,
        milestone_id: Uuid,
        title: String,
        due: Date,
        on: Date,
    },
    CompleteMilestone {
        id: Uuid,
        milestone_id: Uuid,
        on: Date,
    },
    AddResult {
        id: Uuid,
        result_id: Uuid,
        title: String,
        /// At least one.
        indicators: Vec<IndicatorDef>,
        on: Date,
    },
    /// Only for an indicator with a baseline.
    RecordIndicatorActual {
        id: Uuid,
        result_id: Uuid,
        indicator_id: Uuid,
        value: i64,
        on: Date,
    },
    AddDocument {
        id: Uuid,
        url: String,
        title: String,
        category: String,
        on: Date,
    },
}

command_fields!(ProjectCommand:
    Create, ChangeStatus, JoinReferral, SetBudget, AddTransaction, AddMilestone, CompleteMilestone,
    AddResult, RecordIndicatorActual, AddDocument,
);

event_enum! {
    pub enum ProjectEvent {
        ProjectCreated {
            id: Uuid,
            iati_identifier: String,
            title: String,
            description: String,
            recipient_country: String,
            theme: String,
            dac_sector: String,
            participating: Vec<Participant>,
            planned_start: Date,
            planned_end: Date,
            budget: Option<Money>,
            needs: Vec<Uuid>,
            referrals: Vec<Uuid>,
            /// The day it was created (business date).
            on: Date,
        },
        ProjectStatusChanged {
            id: Uuid,
            from: ActivityStatus,
            to: ActivityStatus,
            on: Date,
            reason: Option<String>,
        },
        ProjectReferralJoined {
            id: Uuid,
            referral_id: Uuid,
            need_id: Uuid,
            /// The referral's activation date.
            on: Date,
        },
        ProjectBudgetSet {
            id: Uuid,
            budget: Money,
            on: Date,
        },
        ProjectTransactionAdded {
            id: Uuid,
            transaction: Transaction,
        },
        ProjectMilestoneAdded {
            id: Uuid,
            milestone_id: Uuid,
            title: String,
            due: Date,
            on: Date,
        },
        ProjectMilestoneCompleted {
            id: Uuid,
            milestone_id: Uuid,
            on: Date,
        },
        ProjectResultAdded {
            id: Uuid,
            result_id: Uuid,
            title: String,
            indicators: Vec<IndicatorDef>,
            on: Date,
        },
        ProjectIndicatorActualRecorded {
            id: Uuid,
            result_id: Uuid,
            indicator_id: Uuid,
            value: i64,
            on: Date,
        },
        ProjectDocumentAdded {
            id: Uuid,
            document: Document,
            on: Date,
        },
    }
}

// A transaction is dated by its own date.
event_fields!(ProjectEvent:
    ProjectCreated, ProjectStatusChanged, ProjectReferralJoined, ProjectBudgetSet,
    ProjectMilestoneAdded, ProjectMilestoneCompleted, ProjectResultAdded,
    ProjectIndicatorActualRecorded, ProjectDocumentAdded;
    Self::ProjectTransactionAdded { transaction, .. } => transaction.date,
);

/// A project as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectState {
    pub id: Uuid,
    pub status: Option<ActivityStatus>,
    pub iati_identifier: String,
    pub title: String,
    pub description: String,
    pub recipient_country: String,
    pub theme: String,
    pub dac_sector: String,
    pub participating: Vec<Participant>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub planned_start: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub planned_end: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub actual_start: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub actual_end: Option<Date>,
    pub budget: Option<Money>,
    pub needs: Vec<Uuid>,
    pub referrals: Vec<Uuid>,
    pub transactions: Vec<Transaction>,
    pub pledged: Totals,
    pub committed: Totals,
    pub disbursed: Totals,
    pub expended: Totals,
    pub milestones: Vec<Milestone>,
    pub results: Vec<ProjectResult>,
    pub documents: Vec<Document>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub created_on: Option<Date>,
    /// The business date of the latest change to the project itself (creation, status, budget,
    /// milestones, results, documents added), which the next may not precede. Transactions,
    /// completed milestones and indicator actuals are records of their own dates and may be
    /// entered late (see ARCHITECTURE.md, "Two times").
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

/// Milestones not done and due before `today`, or done after they were due.
pub fn late_milestones(state: &ProjectState, today: Date) -> Vec<&Milestone> {
    state
        .milestones
        .iter()
        .filter(|m| m.done_on.map_or(m.due < today, |done| done > m.due))
        .collect()
}

/// The decider.
pub struct Project;

impl Aggregate for Project {
    const NAME: &'static str = "project";
    type State = ProjectState;
    type Command = ProjectCommand;
    type Event = ProjectEvent;

    fn decide(
        state: &ProjectState,
        command: &ProjectCommand,
    ) -> Result<Vec<ProjectEvent>, DomainError> {
        use ProjectCommand as C;
        use ProjectEvent as E;

        if let C::Create {
            id,
            iati_identifier,
            title,
            description,
            recipient_country,
            theme,
            dac_sector,
            participating,
            planned_start,
            planned_end,
            budget,
            needs,
            referrals,
            on,
        } = command
        {
            check_new(Self::NAME, state.status.is_some(), *id)?;
            check_iati_identifier(iati_identifier)?;
            let title = trimmed("title", title, MAX_TITLE_CHARS)?;
            check_description(description)?;
            codes::check_country("recipient_country", recipient_country)?;
            codes::check_theme("theme", theme)?;
            codes::check_sector("dac_sector", dac_sector)?;
            check_participating(participating)?;
            check_date_order("planned_end", *planned_start, *planned_end)?;
            if let Some(b) = budget {
                check_positive("budget", b)?;
            }
            check_ids("needs", needs)?;
            check_ids("referrals", referrals)?;
            return Ok(vec![E::ProjectCreated {
                id: *id,
                iati_identifier: iati_identifier.clone(),
                title,
                description: description.clone(),
                recipient_country: recipient_country.clone(),
                theme: theme.clone(),
                dac_sector: dac_sector.clone(),
                participating: participating.clone(),
                planned_start: *planned_start,
                planned_end: *planned_end,
                budget: budget.clone(),
                needs: needs.clone(),
                referrals: referrals.clone(),
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let status = state.status.unwrap_or(ActivityStatus::Pipeline);
        let id = state.id;
        let open = |verb: &str| {
            if status.is_final() {
                Err(DomainError::cannot(verb, Self::NAME, status_label(status)))
            } else {
                Ok(())
            }
        };
        let on = command.on();
        // A change to the project itself may not go back before the last one; a record of its
        // own date (a transaction, a completion, an actual) may be entered late, but not before
        // the project existed.
        let (last_on, created_on) = (state.last_on, state.created_on);
        match command {
            C::Create { .. } => unreachable!("handled above"),
            C::ChangeStatus { to, reason, .. } => {
                if !status.can_move_to(*to) {
                    return Err(DomainError::cannot(
                        &format!("move to {} {}", to, to.name()),
                        Self::NAME,
                        status_label(status),
                    ));
                }
                check_not_before(last_on, on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::ProjectStatusChanged {
                    id,
                    from: status,
                    to: *to,
                    on,
                    reason,
                }])
            }
            C::JoinReferral {
                referral_id,
                need_id,
                ..
            } => {
                open("join a referral to")?;
                check_id("referral_id", *referral_id)?;
                check_id("need_id", *need_id)?;
                if state.referrals.contains(referral_id) && state.needs.contains(need_id) {
                    return Ok(vec![]);
                }
                // Derived from the referral's activation, which may be entered late.
                check_not_before(created_on, on)?;
                Ok(vec![E::ProjectReferralJoined {
                    id,
                    referral_id: *referral_id,
                    need_id: *need_id,
                    on,
                }])
            }
            C::SetBudget { budget, .. } => {
                open("set the budget of")?;
                check_positive("budget", budget)?;
                if state.budget.as_ref() == Some(budget) {
                    return Ok(vec![]);
                }
                check_not_before(last_on, on)?;
                Ok(vec![E::ProjectBudgetSet {
                    id,
                    budget: budget.clone(),
                    on,
                }])
            }
            C::AddTransaction {
                transaction_id,
                kind,
                value,
                provider,
                receiver,
                description,
                ..
            } => {
                open("add a transaction to")?;
                check_not_before(created_on, on)?;
                check_id("transaction_id", *transaction_id)?;
                if state
                    .transactions
                    .iter()
                    .any(|t| t.transaction_id == *transaction_id)
                {
                    return Err(DomainError::invalid(
                        "transaction_id",
                        format!("transaction {transaction_id} is already recorded"),
                    ));
                }
                check_currency_of("value", value)?;
                if value.amount_minor == 0 {
                    return Err(DomainError::invalid(
                        "value",
                        "must not be zero (a negative value reverses an earlier transaction)",
                    ));
                }
                if let Some(t) = description {
                    check_text("description", t, MAX_DESCRIPTION_CHARS)?;
                }
                check_parties(state, *kind, provider.as_deref(), receiver.as_deref())?;
                check_transaction_totals(state, *kind, value, on)?;
                Ok(vec![E::ProjectTransactionAdded {
                    id,
                    transaction: Transaction {
                        transaction_id: *transaction_id,
                        kind: *kind,
                        value: value.clone(),
                        date: on,
                        provider: provider.clone(),
                        receiver: receiver.clone(),
                        description: description.clone(),
                    },
                }])
            }
            C::AddMilestone {
                milestone_id,
                title,
                due,
                ..
            } => {
                open("add a milestone to")?;
                check_not_before(last_on, on)?;
                check_id("milestone_id", *milestone_id)?;
                if state
                    .milestones
                    .iter()
                    .any(|m| m.milestone_id == *milestone_id)
                {
                    return Err(DomainError::invalid(
                        "milestone_id",
                        format!("milestone {milestone_id} already exists"),
                    ));
                }
                let title = trimmed("title", title, MAX_TITLE_CHARS)?;
                Ok(vec![E::ProjectMilestoneAdded {
                    id,
                    milestone_id: *milestone_id,
                    title,
                    due: *due,
                    on,
                }])
            }
            C::CompleteMilestone { milestone_id, .. } => {
                open("complete a milestone of")?;
                let Some(m) = state
                    .milestones
                    .iter()
                    .find(|m| m.milestone_id == *milestone_id)
                else {
                    return Err(DomainError::not_found(
                        "milestone",
                        milestone_id.to_string(),
                    ));
                };
                if let Some(done) = m.done_on {
                    return Err(DomainError::invalid(
                        "milestone_id",
                        format!("milestone {milestone_id} was completed on {done}"),
                    ));
                }
                // A completion may be recorded late, but a milestone is not done before it
                // was set.
                check_not_before(m.added_on.or(created_on), on)?;
                Ok(vec![E::ProjectMilestoneCompleted {
                    id,
                    milestone_id: *milestone_id,
                    on,
                }])
            }
            C::AddResult {
                result_id,
                title,
                indicators,
                ..
            } => {
                open("add a result to")?;
                check_not_before(last_on, on)?;
                check_id("result_id", *result_id)?;
                if state.results.iter().any(|r| r.result_id == *result_id) {
                    return Err(DomainError::invalid(
                        "result_id",
                        format!("result {result_id} already exists"),
                    ));
                }
                check_text("title", title, MAX_TITLE_CHARS)?;
                check_indicators(indicators)?;
                Ok(vec![E::ProjectResultAdded {
                    id,
                    result_id: *result_id,
                    title: title.trim().to_owned(),
                    indicators: indicators.clone(),
                    on,
                }])
            }
            C::RecordIndicatorActual {
                result_id,
                indicator_id,
                value,
                ..
            } => {
                open("record an indicator actual on")?;
                let Some(result) = state.results.iter().find(|r| r.result_id == *result_id) else {
                    return Err(DomainError::not_found("result", result_id.to_string()));
                };
                let Some(indicator) = result
                    .indicators
                    .iter()
                    .find(|i| i.def.indicator_id == *indicator_id)
                else {
                    return Err(DomainError::not_found(
                        "indicator",
                        indicator_id.to_string(),
                    ));
                };
                if indicator.def.baseline.is_none() {
                    return Err(DomainError::invalid(
                        "baseline",
                        "an indicator actual needs a baseline",
                    ));
                }
                check_not_before(result.added_on.or(created_on), on)?;
                Ok(vec![E::ProjectIndicatorActualRecorded {
                    id,
                    result_id: *result_id,
                    indicator_id: *indicator_id,
                    value: *value,
                    on,
                }])
            }
            C::AddDocument {
                url,
                title,
                category,
                ..
            } => {
                open("add a document to")?;
                check_not_before(last_on, on)?;
                check_url(url)?;
                if state.documents.iter().any(|d| d.url == *url) {
                    return Err(DomainError::invalid(
                        "url",
                        format!("{url} is already linked"),
                    ));
                }
                check_text("title", title, MAX_TITLE_CHARS)?;
                check_document_category(category)?;
                Ok(vec![E::ProjectDocumentAdded {
                    id,
                    document: Document {
                        url: url.clone(),
                        title: title.trim().to_owned(),
                        category: category.clone(),
                    },
                    on,
                }])
            }
        }
    }

    fn evolve(mut state: ProjectState, event: &ProjectEvent) -> ProjectState {
        use ActivityStatus as S;
        use ProjectEvent as E;
        match event {
            E::ProjectCreated {
                id,
                iati_identifier,
                title,
                description,
                recipient_country,
                theme,
                dac_sector,
                participating,
                planned_start,
                planned_end,
                budget,
                needs,
                referrals,
                on,
            } => {
                return ProjectState {
                    id: *id,
                    status: Some(S::Pipeline),
                    iati_identifier: iati_identifier.clone(),
                    title: title.clone(),
                    description: description.clone(),
                    recipient_country: recipient_country.clone(),
                    theme: theme.clone(),
                    dac_sector: dac_sector.clone(),
                    participating: participating.clone(),
                    planned_start: Some(*planned_start),
                    planned_end: Some(*planned_end),
                    budget: budget.clone(),
                    needs: needs.clone(),
                    referrals: referrals.clone(),
                    created_on: Some(*on),
                    last_on: Some(*on),
                    ..ProjectState::default()
                };
            }
            E::ProjectStatusChanged { to, on, .. } => {
                state.status = Some(*to);
                state.last_on = Some(*on);
                match to {
                    S::Implementation if state.actual_start.is_none() => {
                        state.actual_start = Some(*on);
                    }
                    S::Finalisation | S::Closed if state.actual_end.is_none() => {
                        state.actual_end = Some(*on);
                    }
                    _ => {}
                }
            }
            E::ProjectReferralJoined {
                referral_id,
                need_id,
                ..
            } => {
                if !state.referrals.contains(referral_id) {
                    state.referrals.push(*referral_id);
                }
                if !state.needs.contains(need_id) {
                    state.needs.push(*need_id);
                }
            }
            E::ProjectBudgetSet { budget, on, .. } => {
                state.budget = Some(budget.clone());
                state.last_on = Some(*on);
            }
            E::ProjectTransactionAdded { transaction, .. } => {
                let totals = match transaction.kind {
                    TransactionKind::Pledge => &mut state.pledged,
                    TransactionKind::Commitment => &mut state.committed,
                    TransactionKind::Disbursement => &mut state.disbursed,
                    TransactionKind::Expenditure => &mut state.expended,
                };
                // `decide` refused any transaction whose total would overflow.
                let _ = totals.add(&transaction.value);
                state.transactions.push(transaction.clone());
            }
            E::ProjectMilestoneAdded {
                milestone_id,
                title,
                due,
                on,
                ..
            } => {
                state.milestones.push(Milestone {
                    milestone_id: *milestone_id,
                    title: title.clone(),
                    due: *due,
                    done_on: None,
                    added_on: Some(*on),
                });
                state.last_on = Some(*on);
            }
            E::ProjectMilestoneCompleted {
                milestone_id, on, ..
            } => {
                if let Some(m) = state
                    .milestones
                    .iter_mut()
                    .find(|m| m.milestone_id == *milestone_id)
                {
                    m.done_on = Some(*on);
                }
            }
            E::ProjectResultAdded {
                result_id,
                title,
                indicators,
                on,
                ..
            } => {
                state.results.push(ProjectResult {
                    result_id: *result_id,
                    title: title.clone(),
                    indicators: indicators
                        .iter()
                        .map(|def| Indicator {
                            def: def.clone(),
                            actuals: vec![],
                        })
                        .collect(),
                    added_on: Some(*on),
                });
                state.last_on = Some(*on);
            }
            E::ProjectIndicatorActualRecorded {
                result_id,
                indicator_id,
                value,
                on,
                ..
            } => {
                if let Some(i) = state
                    .results
                    .iter_mut()
                    .filter(|r| r.result_id == *result_id)
                    .flat_map(|r| r.indicators.iter_mut())
                    .find(|i| i.def.indicator_id == *indicator_id)
                {
                    i.actuals.push(Actual {
                        value: *value,
                        on: *on,
                    });
                }
            }
            E::ProjectDocumentAdded { document, on, .. } => {
                state.documents.push(document.clone());
                state.last_on = Some(*on);
            }
        }
        state
    }
}

/// `"2 (implementation)"`, so a refusal reads well and still shows the IATI code.
fn status_label(status: ActivityStatus) -> String {
    format!("{status} ({})", status.name())
}

fn check_iati_identifier(id: &str) -> Result<(), DomainError> {
    check_text("iati_identifier", id, MAX_IATI_IDENTIFIER_CHARS)?;
    if id.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(
            "iati_identifier",
            "must not contain whitespace",
        ));
    }
    Ok(())
}

/// Up to [`MAX_DESCRIPTION_CHARS`]; may be empty.
fn check_description(description: &str) -> Result<(), DomainError> {
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters, got {chars}"),
        ));
    }
    Ok(())
}

fn check_participating(participating: &[Participant]) -> Result<(), DomainError> {
    for (i, p) in participating.iter().enumerate() {
        check_organisation_id("participating.organisation", &p.organisation)?;
        codes::check_organisation_role("participating.role", &p.role)?;
        if participating[..i].contains(p) {
            return Err(DomainError::invalid(
                "participating",
                format!("{} as role {} is listed twice", p.organisation, p.role),
            ));
        }
    }
    for (role, name) in [("1", "funding"), ("4", "implementing")] {
        if !participating.iter().any(|p| p.role == role) {
            return Err(DomainError::invalid(
                "participating",
                format!("must include a {name} organisation (role {role})"),
            ));
        }
    }
    Ok(())
}

/// The transaction's parties: a provider is named and takes part in the project (the money
/// is its own); a receiver, when named, takes part too, except for expenditure, which a
/// participant pays out to anyone (a supplier, a trainer).
fn check_parties(
    state: &ProjectState,
    kind: TransactionKind,
    provider: Option<&str>,
    receiver: Option<&str>,
) -> Result<(), DomainError> {
    let participates = |org: &str| state.participating.iter().any(|p| p.organisation == org);
    let Some(provider) = provider else {
        return Err(DomainError::invalid(
            "provider",
            "is required: name the participating organisation whose money it is",
        ));
    };
    check_text("provider", provider, MAX_PARTY_CHARS)?;
    if !participates(provider) {
        return Err(DomainError::invalid(
            "provider",
            format!("{provider} does not take part in the project"),
        ));
    }
    if let Some(receiver) = receiver {
        check_text("receiver", receiver, MAX_PARTY_CHARS)?;
        if kind != TransactionKind::Expenditure && !participates(receiver) {
            return Err(DomainError::invalid(
                "receiver",
                format!("{receiver} does not take part in the project"),
            ));
        }
    }
    Ok(())
}

fn kind_index(kind: TransactionKind) -> usize {
    match kind {
        TransactionKind::Pledge => 0,
        TransactionKind::Commitment => 1,
        TransactionKind::Disbursement => 2,
        TransactionKind::Expenditure => 3,
    }
}

/// The money rules, per currency, on the transaction's date and on every later date a
/// transaction is recorded for (a late transaction changes the totals of every day after it):
/// no total below zero (a reversal undoes at most what was recorded), no disbursement before a
/// commitment, disbursements never above commitments, expenditure never above disbursements,
/// and no total too large to count.
fn check_transaction_totals(
    state: &ProjectState,
    kind: TransactionKind,
    value: &Money,
    date: Date,
) -> Result<(), DomainError> {
    let currency = value.currency.as_str();
    if matches!(
        kind,
        TransactionKind::Disbursement | TransactionKind::Expenditure
    ) && value.amount_minor > 0
    {
        let first_commitment = state
            .transactions
            .iter()
            .filter(|t| t.kind == TransactionKind::Commitment && t.value.currency == currency)
            .map(|t| t.date)
            .min();
        match first_commitment {
            None => {
                return Err(DomainError::invalid(
                    "value",
                    format!(
                        "no commitment in {currency} is recorded: commit before you {}",
                        verb(kind)
                    ),
                ));
            }
            Some(first) if date < first => {
                return Err(DomainError::invalid(
                    "on",
                    format!(
                        "{date} is before the project's first commitment in {currency} ({first})"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let new = Transaction {
        transaction_id: Uuid::nil(),
        kind,
        value: value.clone(),
        date,
        provider: None,
        receiver: None,
        description: None,
    };
    let mut with: Vec<Transaction> = state.transactions.clone();
    with.push(new);
    let mut days: Vec<Date> = with.iter().map(|t| t.date).filter(|d| *d >= date).collect();
    days.sort_unstable();
    days.dedup();
    for day in days {
        let mut totals: [Totals; 4] = Default::default();
        for t in with.iter().filter(|t| t.date <= day) {
            totals[kind_index(t.kind)].add(&t.value).map_err(|_| {
                DomainError::invalid("value", format!("total {} would be too large", t.kind))
            })?;
        }
        let [_, committed, disbursed, expended] = &totals;
        let total = totals[kind_index(kind)].money(currency);
        if total.amount_minor < 0 {
            return Err(DomainError::invalid(
                "value",
                format!(
                    "total {kind} on {day} would be {total}: a reversal may not take a total below zero"
                ),
            ));
        }
        let checks = [
            (
                disbursed.money(currency),
                committed.money(currency),
                "disbursed",
                "committed",
            ),
            (
                expended.money(currency),
                disbursed.money(currency),
                "expended",
                "disbursed",
            ),
        ];
        for (amount, cap, what, cap_name) in checks {
            if amount.amount_minor > cap.amount_minor {
                return Err(DomainError::invalid(
                    "value",
                    format!("total {what} on {day} would be {amount}, above the {cap} {cap_name}"),
                ));
            }
        }
    }
    Ok(())
}

fn verb(kind: TransactionKind) -> &'static str {
    match kind {
        TransactionKind::Expenditure => "spend",
        _ => "disburse",
    }
}

fn check_indicators(indicators: &[IndicatorDef]) -> Result<(), DomainError> {
    if indicators.is_empty() {
        return Err(DomainError::invalid(
            "indicators",
            "a result needs at least one indicator",
        ));
    }
    for (i, ind) in indicators.iter().enumerate() {
        check_id("indicators.indicator_id", ind.indicator_id)?;
        if indicators[..i]
            .iter()
            .any(|o| o.indicator_id == ind.indicator_id)
        {
            return Err(DomainError::invalid(
                "indicators.indicator_id",
                format!("{} is listed twice", ind.indicator_id),
            ));
        }
        check_text("indicators.title", &ind.title, MAX_TITLE_CHARS)?;
        if !matches!(ind.measure.as_str(), "1" | "2" | "3" | "4" | "5") {
            return Err(DomainError::invalid(
                "indicators.measure",
                format!(
                    "must be an IATI IndicatorMeasure code 1 to 5, got {:?}",
                    ind.measure
                ),
            ));
        }
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), DomainError> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(DomainError::invalid(
            "url",
            "must start with https:// or http://",
        ));
    }
    let chars = url.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(DomainError::invalid(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters, got {chars}"),
        ));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid("url", "must not contain whitespace"));
    }
    Ok(())
}

/// IATI DocumentCategory shape: an upper-case letter and two digits, e.g. `"A01"`, `"B13"`. The list
/// itself is not embedded.
fn check_document_category(category: &str) -> Result<(), DomainError> {
    let b = category.as_bytes();
    if b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "category",
            format!("must be an IATI DocumentCategory code like A01, got {category:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{assert_invalid_edits, assert_kinds_round_trip, given};
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0x91);
    const NEED: Uuid = Uuid::from_u128(0xC1);
    const REFERRAL: Uuid = Uuid::from_u128(0xA1);
    const RESULT: Uuid = Uuid::from_u128(0x71);
    const WITH_BASELINE: Uuid = Uuid::from_u128(0x72);
    const NO_BASELINE: Uuid = Uuid::from_u128(0x73);
    const MILESTONE: Uuid = Uuid::from_u128(0x61);

    fn d(month: i8, day: i8) -> Date {
        date(2026, month, day)
    }

    fn money(amount_minor: i64, currency: &str) -> Money {
        Money::new(amount_minor, currency).unwrap()
    }

    fn usd(amount_minor: i64) -> Money {
        money(amount_minor, "USD")
    }

    fn participants() -> Vec<Participant> {
        vec![
            Participant {
                organisation: "EU-DEVCO".into(),
                role: "1".into(),
            },
            Participant {
                organisation: "UNOCT".into(),
                role: "4".into(),
            },
        ]
    }

    fn create() -> ProjectCommand {
        ProjectCommand::Create {
            id: ID,
            iati_identifier: "XM-DAC-41122-KE-BOR-1".into(),
            title: "Border screening in Kenya".into(),
            description: "API/PNR screening for border officers.".into(),
            recipient_country: "KE".into(),
            theme: "BOR".into(),
            dac_sector: "15136".into(),
            participating: participants(),
            planned_start: d(1, 1),
            planned_end: d(12, 31),
            budget: Some(usd(10_000_000)),
            needs: vec![NEED],
            referrals: vec![REFERRAL],
            on: date(2025, 12, 1),
        }
    }

    fn created() -> ProjectEvent {
        ProjectEvent::ProjectCreated {
            id: ID,
            iati_identifier: "XM-DAC-41122-KE-BOR-1".into(),
            title: "Border screening in Kenya".into(),
            description: "API/PNR screening for border officers.".into(),
            recipient_country: "KE".into(),
            theme: "BOR".into(),
            dac_sector: "15136".into(),
            participating: participants(),
            planned_start: d(1, 1),
            planned_end: d(12, 31),
            budget: Some(usd(10_000_000)),
            needs: vec![NEED],
            referrals: vec![REFERRAL],
            on: date(2025, 12, 1),
        }
    }

    fn changed(from: ActivityStatus, to: ActivityStatus, on: Date) -> ProjectEvent {
        ProjectEvent::ProjectStatusChanged {
            id: ID,
            from,
            to,
            on,
            reason: None,
        }
    }

    fn history(status: ActivityStatus) -> Vec<ProjectEvent> {
        use ActivityStatus as S;
        let mut events = vec![created()];
        let to_2 = changed(S::Pipeline, S::Implementation, d(2, 1));
        match status {
            S::Pipeline => {}
            S::Implementation => events.push(to_2),
            S::Finalisation => {
                events.extend([to_2, changed(S::Implementation, S::Finalisation, d(11, 1))]);
            }
            S::Closed => events.extend([
                to_2,
                changed(S::Implementation, S::Finalisation, d(11, 1)),
                changed(S::Finalisation, S::Closed, d(12, 1)),
            ]),
            S::Cancelled => events.push(changed(S::Pipeline, S::Cancelled, d(2, 1))),
            S::Suspended => {
                events.extend([to_2, changed(S::Implementation, S::Suspended, d(3, 1))]);
            }
        }
        events
    }

    fn transaction(kind: TransactionKind, n: u128, value: Money) -> ProjectCommand {
        ProjectCommand::AddTransaction {
            id: ID,
            transaction_id: Uuid::from_u128(0x1000 + n),
            kind,
            value,
            on: d(3, 1),
            provider: Some("EU-DEVCO".into()),
            receiver: Some("UNOCT".into()),
            description: None,
        }
    }

    fn added(kind: TransactionKind, n: u128, value: Money) -> ProjectEvent {
        ProjectEvent::ProjectTransactionAdded {
            id: ID,
            transaction: Transaction {
                transaction_id: Uuid::from_u128(0x1000 + n),
                kind,
                value,
                date: d(3, 1),
                provider: Some("EU-DEVCO".into()),
                receiver: Some("UNOCT".into()),
                description: None,
            },
        }
    }

    fn result_added() -> ProjectEvent {
        ProjectEvent::ProjectResultAdded {
            id: ID,
            result_id: RESULT,
            title: "Officers screen passengers".into(),
            indicators: vec![
                IndicatorDef {
                    indicator_id: WITH_BASELINE,
                    title: "Officers trained".into(),
                    measure: "1".into(),
                    baseline: Some(0),
                    target: 200,
                },
                IndicatorDef {
                    indicator_id: NO_BASELINE,
                    title: "Posts connected".into(),
                    measure: "2".into(),
                    baseline: None,
                    target: 100,
                },
            ],
            on: date(2025, 12, 1),
        }
    }

    fn milestone_added(due: Date) -> ProjectEvent {
        ProjectEvent::ProjectMilestoneAdded {
            id: ID,
            milestone_id: MILESTONE,
            title: "Curriculum agreed".into(),
            due,
            on: date(2025, 12, 1),
        }
    }

    /// One command of each kind that is valid on the standard project while it is open.
    fn moves() -> Vec<ProjectCommand> {
        vec![
            ProjectCommand::JoinReferral {
                id: ID,
                referral_id: Uuid::from_u128(0xA2),
                need_id: Uuid::from_u128(0xC2),
                on: d(12, 31),
            },
            ProjectCommand::SetBudget {
                id: ID,
                budget: usd(12_000_000),
                on: d(12, 31),
            },
            transaction(TransactionKind::Commitment, 1, usd(100)),
            ProjectCommand::AddMilestone {
                id: ID,
                milestone_id: Uuid::from_u128(0x62),
                title: "Training done".into(),
                due: d(6, 1),
                on: d(12, 31),
            },
            ProjectCommand::AddResult {
                id: ID,
                result_id: Uuid::from_u128(0x74),
                title: "Outcome".into(),
                indicators: vec![IndicatorDef {
                    indicator_id: Uuid::from_u128(0x75),
                    title: "x".into(),
                    measure: "5".into(),
                    baseline: None,
                    target: 1,
                }],
                on: d(12, 31),
            },
            ProjectCommand::AddDocument {
                id: ID,
                url: "https://example.org/report.pdf".into(),
                title: "Inception report".into(),
                category: "A07".into(),
                on: d(12, 31),
            },
        ]
    }

    #[test]
    fn create_starts_in_the_pipeline() {
        let state = given::<Project>(&[]).when(create()).then(&[created()]);
        assert_eq!(state.status, Some(ActivityStatus::Pipeline));
        given::<Project>(&[created()])
            .when(create())
            .then_error(DomainError::already_exists("project", ID.to_string()));
        for c in moves() {
            given::<Project>(&[])
                .when(c)
                .then_error(DomainError::not_found("project", ID.to_string()));
        }
        given::<Project>(&[created()])
            .when(ProjectCommand::SetBudget {
                id: Uuid::from_u128(0x92),
                budget: usd(1),
                on: date(2025, 12, 1),
            })
            .then_invalid("id");
    }

    #[test]
    fn create_validation_names_the_field() {
        use ProjectCommand as C;
        fn role(organisation: &str, role: &str) -> Participant {
            Participant {
                organisation: organisation.into(),
                role: role.into(),
            }
        }
        /// The standard participants and `extra`.
        fn with(extra: Participant) -> Vec<Participant> {
            let mut all = participants();
            all.push(extra);
            all
        }
        fn unknown_currency() -> Option<Money> {
            Some(Money {
                amount_minor: 1,
                currency: "XYZ".into(),
            })
        }
        assert_invalid_edits::<Project>(
            &[],
            create,
            &[
                ("id", edit!(C::Create, id = Uuid::nil())),
                (
                    "iati_identifier",
                    edit!(C::Create, iati_identifier = " ".into()),
                ),
                (
                    "iati_identifier",
                    edit!(C::Create, iati_identifier = "XM DAC".into()),
                ),
                (
                    "iati_identifier",
                    edit!(
                        C::Create,
                        iati_identifier = "x".repeat(MAX_IATI_IDENTIFIER_CHARS + 1)
                    ),
                ),
                ("title", edit!(C::Create, title = String::new())),
                (
                    "title",
                    edit!(C::Create, title = "x".repeat(MAX_TITLE_CHARS + 1)),
                ),
                (
                    "description",
                    edit!(
                        C::Create,
                        description = "x".repeat(MAX_DESCRIPTION_CHARS + 1)
                    ),
                ),
                (
                    "recipient_country",
                    edit!(C::Create, recipient_country = "QQ".into()),
                ),
                ("theme", edit!(C::Create, theme = "XXX".into())),
                ("dac_sector", edit!(C::Create, dac_sector = "99999".into())),
                ("dac_sector", edit!(C::Create, dac_sector = "11321".into())),
                ("participating", edit!(C::Create, participating = vec![])),
                (
                    "participating",
                    edit!(
                        C::Create,
                        participating = vec![role("EU-DEVCO", "1"), role("UNOCT", "2")]
                    ),
                ),
                (
                    "participating",
                    edit!(
                        C::Create,
                        participating = vec![role("UNOCT", "4"), role("UNOCT", "3")]
                    ),
                ),
                (
                    "participating",
                    edit!(C::Create, participating = with(role("UNOCT", "4"))),
                ),
                (
                    "participating.role",
                    edit!(C::Create, participating = with(role("UNODC", "5"))),
                ),
                (
                    "participating.organisation",
                    edit!(C::Create, participating = with(role("U", "3"))),
                ),
                (
                    "planned_end",
                    edit!(C::Create, planned_end = date(2025, 12, 31)),
                ),
                ("budget", edit!(C::Create, budget = Some(usd(0)))),
                ("budget", edit!(C::Create, budget = Some(usd(-1)))),
                ("budget", edit!(C::Create, budget = unknown_currency())),
                ("needs", edit!(C::Create, needs = vec![Uuid::nil()])),
                (
                    "referrals",
                    edit!(C::Create, referrals = vec![REFERRAL, REFERRAL]),
                ),
            ],
        );
    }

    #[test]
    fn every_status_move() {
        use ActivityStatus as S;
        let allowed = [
            (S::Pipeline, S::Implementation),
            (S::Implementation, S::Finalisation),
            (S::Finalisation, S::Closed),
            (S::Pipeline, S::Cancelled),
            (S::Implementation, S::Cancelled),
            (S::Suspended, S::Cancelled),
            (S::Implementation, S::Suspended),
            (S::Suspended, S::Implementation),
        ];
        for &from in S::ALL {
            for &to in S::ALL {
                let result = Project::decide(
                    &crate::fold::<Project>(&history(from)),
                    &ProjectCommand::ChangeStatus {
                        id: ID,
                        to,
                        on: d(12, 20),
                        reason: Some("steering committee".into()),
                    },
                );
                if allowed.contains(&(from, to)) {
                    assert_eq!(
                        result,
                        Ok(vec![ProjectEvent::ProjectStatusChanged {
                            id: ID,
                            from,
                            to,
                            on: d(12, 20),
                            reason: Some("steering committee".into()),
                        }])
                    );
                } else {
                    let expected = DomainError::cannot(
                        &format!("move to {to} {}", to.name()),
                        "project",
                        format!("{from} ({})", from.name()),
                    );
                    assert_eq!(result, Err(expected), "{from} -> {to}");
                }
            }
        }
        assert_eq!(
            DomainError::cannot("move to 4 closed", "project", "2 (implementation)").to_string(),
            "invalid status: cannot move to 4 closed a project that is 2 (implementation)"
        );
    }

    #[test]
    fn status_changes_set_the_actual_dates() {
        use ActivityStatus as S;
        let state = crate::fold::<Project>(&history(S::Suspended));
        assert_eq!(state.actual_start, Some(d(2, 1)));
        let state = given::<Project>(&history(S::Suspended))
            .when(ProjectCommand::ChangeStatus {
                id: ID,
                to: S::Implementation,
                on: d(4, 1),
                reason: Some("security improved".into()),
            })
            .then(&[ProjectEvent::ProjectStatusChanged {
                id: ID,
                from: S::Suspended,
                to: S::Implementation,
                on: d(4, 1),
                reason: Some("security improved".into()),
            }]);
        assert_eq!(state.actual_start, Some(d(2, 1)), "set the first time only");
        let state = crate::fold::<Project>(&history(S::Closed));
        assert_eq!(
            state.actual_end,
            Some(d(11, 1)),
            "finalisation ended the work"
        );
        let mut events = history(S::Implementation);
        events.push(changed(S::Implementation, S::Cancelled, d(5, 1)));
        assert_eq!(crate::fold::<Project>(&events).actual_end, None);
        // Dates in order, reason sensible.
        given::<Project>(&history(S::Implementation))
            .when(ProjectCommand::ChangeStatus {
                id: ID,
                to: S::Finalisation,
                on: d(1, 31),
                reason: None,
            })
            .then_error(DomainError::invalid(
                "on",
                "must not be before 2026-02-01, got 2026-01-31",
            ));
        given::<Project>(&history(S::Implementation))
            .when(ProjectCommand::ChangeStatus {
                id: ID,
                to: S::Finalisation,
                on: d(11, 1),
                reason: Some(" ".into()),
            })
            .then_invalid("reason");
    }

    #[test]
    fn closed_and_cancelled_projects_take_nothing_more() {
        use ActivityStatus as S;
        for &status in S::ALL {
            for command in moves() {
                let result = Project::decide(&crate::fold::<Project>(&history(status)), &command);
                if status.is_final() {
                    match result {
                        Err(DomainError::Invalid { field, reason }) => {
                            assert_eq!(field, "status");
                            assert!(
                                reason.ends_with(&format!(
                                    "a project that is {status} ({})",
                                    status.name()
                                )),
                                "{reason}"
                            );
                        }
                        other => panic!("{command:?} from {status}: {other:?}"),
                    }
                } else {
                    assert!(
                        result.as_ref().is_ok_and(|e| e.len() == 1),
                        "{command:?} from {status}: {result:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn join_referral_is_idempotent() {
        let state = given::<Project>(&[created()])
            .when(ProjectCommand::JoinReferral {
                id: ID,
                referral_id: Uuid::from_u128(0xA2),
                need_id: NEED,
                on: date(2025, 12, 1),
            })
            .then(&[ProjectEvent::ProjectReferralJoined {
                id: ID,
                referral_id: Uuid::from_u128(0xA2),
                need_id: NEED,
                on: date(2025, 12, 1),
            }]);
        assert_eq!(state.referrals, [REFERRAL, Uuid::from_u128(0xA2)]);
        assert_eq!(state.needs, [NEED], "the need is listed once");
        given::<Project>(&[created()])
            .when(ProjectCommand::JoinReferral {
                id: ID,
                referral_id: REFERRAL,
                need_id: NEED,
                on: date(2025, 12, 1),
            })
            .then(&[]);
        given::<Project>(&[created()])
            .when(ProjectCommand::JoinReferral {
                id: ID,
                referral_id: Uuid::nil(),
                need_id: NEED,
                on: date(2025, 12, 1),
            })
            .then_invalid("referral_id");
    }

    #[test]
    fn set_budget() {
        given::<Project>(&[created()])
            .when(ProjectCommand::SetBudget {
                id: ID,
                budget: usd(10_000_000),
                on: date(2025, 12, 1),
            })
            .then(&[]);
        for budget in [
            usd(0),
            usd(-5),
            Money {
                amount_minor: 5,
                currency: "ABC".into(),
            },
        ] {
            given::<Project>(&[created()])
                .when(ProjectCommand::SetBudget {
                    id: ID,
                    budget,
                    on: date(2025, 12, 1),
                })
                .then_invalid("budget");
        }
    }

    #[test]
    fn money_flows_per_currency() {
        use TransactionKind as K;
        let mut events = history(ActivityStatus::Implementation);
        let steps = [
            (K::Pledge, 1, usd(10_000_000)),
            (K::Commitment, 2, usd(8_000_000)),
            (K::Commitment, 3, money(1_000_000, "EUR")),
            (K::Disbursement, 4, usd(5_000_000)),
            (K::Disbursement, 5, usd(3_000_000)),
            (K::Disbursement, 6, money(1_000_000, "EUR")),
            (K::Expenditure, 7, usd(8_000_000)),
        ];
        for (kind, n, value) in steps {
            let expected = added(kind, n, value.clone());
            given::<Project>(&events)
                .when(transaction(kind, n, value))
                .then(std::slice::from_ref(&expected));
            events.push(expected);
        }
        let state = crate::fold::<Project>(&events);
        assert_eq!(state.pledged.get("USD"), 10_000_000);
        assert_eq!(state.committed.get("USD"), 8_000_000);
        assert_eq!(state.committed.get("EUR"), 1_000_000);
        assert_eq!(state.disbursed.get("USD"), 8_000_000);
        assert_eq!(state.expended.get("USD"), 8_000_000);
        assert_eq!(state.transactions.len(), 7);

        // A disbursement above the commitment, in that currency.
        given::<Project>(&events)
            .when(transaction(K::Disbursement, 8, usd(1)))
            .then_error(DomainError::invalid(
                "value",
                "total disbursed on 2026-03-01 would be 80000.01 USD, above the 80000.00 USD committed",
            ));
        // USD commitments do not cover a GBP disbursement.
        given::<Project>(&events)
            .when(transaction(K::Disbursement, 8, money(1, "GBP")))
            .then_error(DomainError::invalid(
                "value",
                "no commitment in GBP is recorded: commit before you disburse",
            ));
        given::<Project>(&events)
            .when(transaction(K::Expenditure, 8, money(1_000_001, "EUR")))
            .then_error(DomainError::invalid(
                "value",
                "total expended on 2026-03-01 would be 10000.01 EUR, above the 10000.00 EUR disbursed",
            ));
        // Ids are unique; values positive and in a known currency.
        given::<Project>(&events)
            .when(transaction(K::Pledge, 1, usd(5)))
            .then_invalid("transaction_id");
        for value in [
            usd(0),
            usd(-100),
            Money {
                amount_minor: 100,
                currency: "XXY".into(),
            },
        ] {
            given::<Project>(&events)
                .when(transaction(K::Commitment, 9, value))
                .then_invalid("value");
        }
        given::<Project>(&events)
            .when(ProjectCommand::AddTransaction {
                id: ID,
                transaction_id: Uuid::from_u128(0x2000),
                kind: K::Commitment,
                value: usd(1),
                on: d(3, 1),
                provider: Some(" ".into()),
                receiver: None,
                description: None,
            })
            .then_invalid("provider");
        given::<Project>(&events)
            .when(transaction(K::Commitment, 9, usd(i64::MAX)))
            .then_invalid("value");
    }

    /// A transaction of `kind` worth `value`, dated `on`, provided by EU-DEVCO to UNOCT.
    fn dated(
        kind: TransactionKind,
        n: u128,
        value: Money,
        on: Date,
    ) -> (ProjectCommand, ProjectEvent) {
        let ProjectCommand::AddTransaction { .. } = transaction(kind, n, value.clone()) else {
            unreachable!()
        };
        let command = ProjectCommand::AddTransaction {
            id: ID,
            transaction_id: Uuid::from_u128(0x1000 + n),
            kind,
            value: value.clone(),
            on,
            provider: Some("EU-DEVCO".into()),
            receiver: Some("UNOCT".into()),
            description: None,
        };
        let event = ProjectEvent::ProjectTransactionAdded {
            id: ID,
            transaction: Transaction {
                transaction_id: Uuid::from_u128(0x1000 + n),
                kind,
                value,
                date: on,
                provider: Some("EU-DEVCO".into()),
                receiver: Some("UNOCT".into()),
                description: None,
            },
        };
        (command, event)
    }

    #[test]
    fn transactions_entered_late_keep_every_day_in_order() {
        use TransactionKind as K;
        let mut events = history(ActivityStatus::Implementation);
        // A commitment on 1 March, then a disbursement on 1 May, entered in that order.
        for (kind, n, value, on) in [
            (K::Commitment, 1, usd(1_000_000), d(3, 1)),
            (K::Disbursement, 2, usd(600_000), d(5, 1)),
        ] {
            let (command, event) = dated(kind, n, value, on);
            given::<Project>(&events)
                .when(command)
                .then(std::slice::from_ref(&event));
            events.push(event);
        }
        // Entered late but dated before the project existed: refused by date.
        let (late, _) = dated(K::Commitment, 3, usd(1), date(2025, 11, 30));
        given::<Project>(&events).when(late).then_invalid("on");
        // A disbursement dated before the first commitment: refused, naming the date.
        let (early, _) = dated(K::Disbursement, 3, usd(1), d(2, 15));
        given::<Project>(&events)
            .when(early)
            .then_error(DomainError::invalid(
                "on",
                "2026-02-15 is before the project's first commitment in USD (2026-03-01)",
            ));
        // A late disbursement on 1 April fits April, but with May's it would pass what was
        // committed by then: refused for the first day it breaks.
        let (april, _) = dated(K::Disbursement, 3, usd(500_000), d(4, 1));
        given::<Project>(&events)
            .when(april)
            .then_error(DomainError::invalid(
                "value",
                "total disbursed on 2026-05-01 would be 11000.00 USD, above the 10000.00 USD committed",
            ));
        // A late one that fits every day is taken, and the totals count it.
        let (april, event) = dated(K::Disbursement, 3, usd(400_000), d(4, 1));
        let state = given::<Project>(&events)
            .when(april)
            .then(std::slice::from_ref(&event));
        assert_eq!(state.disbursed.get("USD"), 1_000_000);
        events.push(event);
        // A wrong amount is corrected by a reversal (a negative value), never below zero.
        let (reversal, event) = dated(K::Disbursement, 4, usd(-400_000), d(6, 1));
        let state = given::<Project>(&events)
            .when(reversal)
            .then(std::slice::from_ref(&event));
        assert_eq!(state.disbursed.get("USD"), 600_000);
        events.push(event);
        let (too_much, _) = dated(K::Disbursement, 5, usd(-600_001), d(6, 2));
        given::<Project>(&events)
            .when(too_much)
            .then_invalid("value");
        // A commitment reversal may not leave disbursements above commitments.
        let (uncommit, _) = dated(K::Commitment, 5, usd(-400_001), d(6, 2));
        given::<Project>(&events)
            .when(uncommit)
            .then_invalid("value");
    }

    #[test]
    fn the_parties_to_a_transaction_take_part_in_the_project() {
        use TransactionKind as K;
        let events = history(ActivityStatus::Implementation);
        let with =
            |provider: Option<&str>, receiver: Option<&str>, kind| ProjectCommand::AddTransaction {
                id: ID,
                transaction_id: Uuid::from_u128(0x3000),
                kind,
                value: usd(100),
                on: d(3, 1),
                provider: provider.map(str::to_owned),
                receiver: receiver.map(str::to_owned),
                description: None,
            };
        given::<Project>(&events)
            .when(with(None, Some("UNOCT"), K::Pledge))
            .then_invalid("provider");
        given::<Project>(&events)
            .when(with(Some("UNDP"), Some("UNOCT"), K::Pledge))
            .then_error(DomainError::invalid(
                "provider",
                "UNDP does not take part in the project",
            ));
        given::<Project>(&events)
            .when(with(Some("EU-DEVCO"), Some("ACME"), K::Commitment))
            .then_invalid("receiver");
        // Expenditure goes to whoever the implementer pays.
        let mut events = events;
        for (kind, n) in [(K::Commitment, 1), (K::Disbursement, 2)] {
            let (c, e) = dated(kind, n, usd(100), d(3, 1));
            given::<Project>(&events)
                .when(c)
                .then(std::slice::from_ref(&e));
            events.push(e);
        }
        let spent = ProjectCommand::AddTransaction {
            id: ID,
            transaction_id: Uuid::from_u128(0x3001),
            kind: K::Expenditure,
            value: usd(100),
            on: d(3, 2),
            provider: Some("UNOCT".into()),
            receiver: Some("Hotel Nairobi Ltd".into()),
            description: None,
        };
        assert!(Project::decide(&crate::fold::<Project>(&events), &spent).is_ok());
    }

    #[test]
    fn changes_to_the_project_itself_do_not_go_back() {
        let events = history(ActivityStatus::Implementation);
        given::<Project>(&events)
            .when(ProjectCommand::SetBudget {
                id: ID,
                budget: usd(5),
                on: d(1, 31),
            })
            .then_error(DomainError::invalid(
                "on",
                "must not be before 2026-02-01, got 2026-01-31",
            ));
    }

    #[test]
    fn transaction_kinds_map_to_iati() {
        let codes: Vec<_> = TransactionKind::ALL.iter().map(|k| k.iati_code()).collect();
        assert_eq!(codes, ["12", "2", "3", "4"]);
        for k in TransactionKind::ALL {
            assert!(codes::check_transaction_type("kind", k.iati_code()).is_ok());
        }
        for s in ActivityStatus::ALL {
            assert!(codes::check_activity_status("status", s.as_str()).is_ok());
        }
        assert_eq!(
            serde_json::to_value(ActivityStatus::Implementation).unwrap(),
            "2"
        );
    }

    #[test]
    fn milestones_and_lateness() {
        let mut events = vec![created()];
        let state = given::<Project>(&events)
            .when(ProjectCommand::AddMilestone {
                id: ID,
                milestone_id: MILESTONE,
                title: " Curriculum agreed ".into(),
                due: d(3, 1),
                on: date(2025, 12, 1),
            })
            .then(&[milestone_added(d(3, 1))]);
        assert!(
            late_milestones(&state, d(3, 1)).is_empty(),
            "due today is not late"
        );
        assert_eq!(late_milestones(&state, d(3, 2)).len(), 1);
        events.push(milestone_added(d(3, 1)));
        given::<Project>(&events)
            .when(ProjectCommand::AddMilestone {
                id: ID,
                milestone_id: MILESTONE,
                title: "again".into(),
                due: d(3, 1),
                on: date(2025, 12, 1),
            })
            .then_invalid("milestone_id");
        given::<Project>(&events)
            .when(ProjectCommand::AddMilestone {
                id: ID,
                milestone_id: Uuid::from_u128(0x63),
                title: String::new(),
                due: d(3, 1),
                on: date(2025, 12, 1),
            })
            .then_invalid("title");
        let done = ProjectEvent::ProjectMilestoneCompleted {
            id: ID,
            milestone_id: MILESTONE,
            on: d(3, 5),
        };
        let state = given::<Project>(&events)
            .when(ProjectCommand::CompleteMilestone {
                id: ID,
                milestone_id: MILESTONE,
                on: d(3, 5),
            })
            .then(std::slice::from_ref(&done));
        assert_eq!(
            late_milestones(&state, d(3, 6)).len(),
            1,
            "done after it was due"
        );
        events.push(done);
        given::<Project>(&events)
            .when(ProjectCommand::CompleteMilestone {
                id: ID,
                milestone_id: MILESTONE,
                on: d(3, 6),
            })
            .then_invalid("milestone_id");
        given::<Project>(&events)
            .when(ProjectCommand::CompleteMilestone {
                id: ID,
                milestone_id: Uuid::from_u128(0x69),
                on: d(3, 6),
            })
            .then_error(DomainError::not_found(
                "milestone",
                Uuid::from_u128(0x69).to_string(),
            ));
        // Done on time is not late.
        let state = crate::fold::<Project>(&[
            created(),
            milestone_added(d(3, 1)),
            ProjectEvent::ProjectMilestoneCompleted {
                id: ID,
                milestone_id: MILESTONE,
                on: d(3, 1),
            },
        ]);
        assert!(late_milestones(&state, d(12, 1)).is_empty());
    }

    #[test]
    fn results_and_indicator_actuals() {
        let ProjectEvent::ProjectResultAdded { indicators, .. } = result_added() else {
            unreachable!()
        };
        given::<Project>(&[created()])
            .when(ProjectCommand::AddResult {
                id: ID,
                result_id: RESULT,
                title: "Officers screen passengers".into(),
                indicators: indicators.clone(),
                on: date(2025, 12, 1),
            })
            .then(&[result_added()]);
        let events = [created(), result_added()];
        let recorded = ProjectEvent::ProjectIndicatorActualRecorded {
            id: ID,
            result_id: RESULT,
            indicator_id: WITH_BASELINE,
            value: 120,
            on: d(6, 30),
        };
        let state = given::<Project>(&events)
            .when(ProjectCommand::RecordIndicatorActual {
                id: ID,
                result_id: RESULT,
                indicator_id: WITH_BASELINE,
                value: 120,
                on: d(6, 30),
            })
            .then(&[recorded]);
        assert_eq!(
            state.results[0].indicators[0].actuals,
            [Actual {
                value: 120,
                on: d(6, 30)
            }]
        );
        given::<Project>(&events)
            .when(ProjectCommand::RecordIndicatorActual {
                id: ID,
                result_id: RESULT,
                indicator_id: NO_BASELINE,
                value: 10,
                on: d(6, 30),
            })
            .then_error(DomainError::invalid(
                "baseline",
                "an indicator actual needs a baseline",
            ));
        given::<Project>(&events)
            .when(ProjectCommand::RecordIndicatorActual {
                id: ID,
                result_id: Uuid::from_u128(0x79),
                indicator_id: WITH_BASELINE,
                value: 10,
                on: d(6, 30),
            })
            .then_error(DomainError::not_found(
                "result",
                Uuid::from_u128(0x79).to_string(),
            ));
        given::<Project>(&events)
            .when(ProjectCommand::RecordIndicatorActual {
                id: ID,
                result_id: RESULT,
                indicator_id: Uuid::from_u128(0x79),
                value: 10,
                on: d(6, 30),
            })
            .then_error(DomainError::not_found(
                "indicator",
                Uuid::from_u128(0x79).to_string(),
            ));
        // Validation of a new result.
        let add = |result_id: Uuid, title: &str, indicators: Vec<IndicatorDef>| {
            ProjectCommand::AddResult {
                id: ID,
                result_id,
                title: title.into(),
                indicators,
                on: date(2025, 12, 1),
            }
        };
        let other = Uuid::from_u128(0x7A);
        let with = |edit: fn(&mut IndicatorDef)| {
            let mut i = indicators[0].clone();
            edit(&mut i);
            vec![i]
        };
        let cases = [
            ("result_id", add(RESULT, "t", indicators.clone())),
            ("result_id", add(Uuid::nil(), "t", indicators.clone())),
            ("title", add(other, " ", indicators.clone())),
            ("indicators", add(other, "t", vec![])),
            (
                "indicators.indicator_id",
                add(
                    other,
                    "t",
                    vec![indicators[0].clone(), indicators[0].clone()],
                ),
            ),
            (
                "indicators.measure",
                add(other, "t", with(|i| i.measure = "6".into())),
            ),
            (
                "indicators.measure",
                add(other, "t", with(|i| i.measure = "0".into())),
            ),
            (
                "indicators.title",
                add(other, "t", with(|i| i.title = String::new())),
            ),
            (
                "indicators.indicator_id",
                add(other, "t", with(|i| i.indicator_id = Uuid::nil())),
            ),
        ];
        for (field, command) in cases {
            given::<Project>(&events).when(command).then_invalid(field);
        }
    }

    #[test]
    fn documents() {
        let add = |url: &str, title: &str, category: &str| ProjectCommand::AddDocument {
            id: ID,
            url: url.into(),
            title: title.into(),
            category: category.into(),
            on: date(2025, 12, 1),
        };
        let added = ProjectEvent::ProjectDocumentAdded {
            id: ID,
            document: Document {
                url: "https://example.org/a.pdf".into(),
                title: "Annual report".into(),
                category: "A01".into(),
            },
            on: date(2025, 12, 1),
        };
        let state = given::<Project>(&[created()])
            .when(add("https://example.org/a.pdf", "Annual report ", "A01"))
            .then(std::slice::from_ref(&added));
        assert_eq!(state.documents.len(), 1);
        let long = format!("https://example.org/{}", "x".repeat(MAX_URL_CHARS));
        let cases = [
            ("url", add("ftp://example.org/a.pdf", "t", "A01")),
            ("url", add("example.org/a.pdf", "t", "A01")),
            ("url", add(&long, "t", "A01")),
            ("url", add("https://example.org/a b.pdf", "t", "A01")),
            ("title", add("http://example.org/b.pdf", "", "A01")),
            ("category", add("http://example.org/b.pdf", "t", "a01")),
            ("category", add("http://example.org/b.pdf", "t", "A1")),
            ("category", add("http://example.org/b.pdf", "t", "AB1")),
        ];
        for (field, command) in cases {
            given::<Project>(&[created()])
                .when(command)
                .then_invalid(field);
        }
        given::<Project>(&[created(), added])
            .when(add("https://example.org/a.pdf", "again", "B01"))
            .then_invalid("url");
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let mut events = history(ActivityStatus::Implementation);
        events.extend([
            ProjectEvent::ProjectReferralJoined {
                id: ID,
                referral_id: REFERRAL,
                need_id: NEED,
                on: date(2025, 12, 1),
            },
            ProjectEvent::ProjectBudgetSet {
                id: ID,
                budget: usd(1),
                on: date(2025, 12, 1),
            },
            added(TransactionKind::Commitment, 1, usd(5)),
            milestone_added(d(3, 1)),
            ProjectEvent::ProjectMilestoneCompleted {
                id: ID,
                milestone_id: MILESTONE,
                on: d(3, 1),
            },
            result_added(),
            ProjectEvent::ProjectIndicatorActualRecorded {
                id: ID,
                result_id: RESULT,
                indicator_id: WITH_BASELINE,
                value: 1,
                on: d(3, 1),
            },
            ProjectEvent::ProjectDocumentAdded {
                id: ID,
                document: Document {
                    url: "https://example.org".into(),
                    title: "t".into(),
                    category: "A01".into(),
                },
                on: date(2025, 12, 1),
            },
        ]);
        assert_kinds_round_trip(&events, ProjectEvent::KINDS);
        let state = crate::fold::<Project>(&events);
        assert_eq!(state.committed.get("USD"), 5);
    }
}
