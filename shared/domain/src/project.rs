//! Project: the work that serves needs, shaped like an IATI activity (identifier, participating
//! organisations, ActivityStatus, dates, budget, transactions, milestones, results, documents).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::money::{Money, Totals, check_currency_of};
use crate::organisation::check_organisation_id;
use crate::validate::{check_date_order, check_id, check_reason, check_text};

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
                | (S::Implementation, S::Finalisation | S::Cancelled | S::Suspended)
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Participant {
    pub organisation: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub transaction_id: Uuid,
    pub kind: TransactionKind,
    pub value: Money,
    pub date: Date,
    pub provider: Option<String>,
    pub receiver: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub milestone_id: Uuid,
    pub title: String,
    pub due: Date,
    pub done_on: Option<Date>,
}

/// An indicator as defined when its result is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorDef {
    pub indicator_id: Uuid,
    pub title: String,
    /// IATI IndicatorMeasure code, `"1"` unit .. `"5"` qualitative.
    pub measure: String,
    pub baseline: Option<i64>,
    pub target: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    pub value: i64,
    pub on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub def: IndicatorDef,
    /// In the order recorded.
    pub actuals: Vec<Actual>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectResult {
    pub result_id: Uuid,
    pub title: String,
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    },
    SetBudget { id: Uuid, budget: Money },
    AddTransaction {
        id: Uuid,
        transaction_id: Uuid,
        kind: TransactionKind,
        /// Positive.
        value: Money,
        date: Date,
        provider: Option<String>,
        receiver: Option<String>,
        description: Option<String>,
    },
    AddMilestone {
        id: Uuid,
        milestone_id: Uuid,
        title: String,
        due: Date,
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
    },
}

impl ProjectCommand {
    pub fn id(&self) -> Uuid {
        match self {
            Self::Create { id, .. }
            | Self::ChangeStatus { id, .. }
            | Self::JoinReferral { id, .. }
            | Self::SetBudget { id, .. }
            | Self::AddTransaction { id, .. }
            | Self::AddMilestone { id, .. }
            | Self::CompleteMilestone { id, .. }
            | Self::AddResult { id, .. }
            | Self::RecordIndicatorActual { id, .. }
            | Self::AddDocument { id, .. } => *id,
        }
    }
}

#[allow(
    clippy::enum_variant_names,
    reason = "kind strings are global across services, so each names its aggregate"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
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
    },
    ProjectBudgetSet {
        id: Uuid,
        budget: Money,
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
    },
}

impl ProjectEvent {
    /// Every kind of this enum.
    pub const KINDS: &'static [&'static str] = &[
        "project_created",
        "project_status_changed",
        "project_referral_joined",
        "project_budget_set",
        "project_transaction_added",
        "project_milestone_added",
        "project_milestone_completed",
        "project_result_added",
        "project_indicator_actual_recorded",
        "project_document_added",
    ];
}

impl DomainEvent for ProjectEvent {
    fn kind(&self) -> &'static str {
        match self {
            Self::ProjectCreated { .. } => "project_created",
            Self::ProjectStatusChanged { .. } => "project_status_changed",
            Self::ProjectReferralJoined { .. } => "project_referral_joined",
            Self::ProjectBudgetSet { .. } => "project_budget_set",
            Self::ProjectTransactionAdded { .. } => "project_transaction_added",
            Self::ProjectMilestoneAdded { .. } => "project_milestone_added",
            Self::ProjectMilestoneCompleted { .. } => "project_milestone_completed",
            Self::ProjectResultAdded { .. } => "project_result_added",
            Self::ProjectIndicatorActualRecorded { .. } => "project_indicator_actual_recorded",
            Self::ProjectDocumentAdded { .. } => "project_document_added",
        }
    }
}

/// A project as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub planned_start: Option<Date>,
    pub planned_end: Option<Date>,
    pub actual_start: Option<Date>,
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
    /// The date of the latest status change, which the next may not precede.
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
        } = command
        {
            if state.status.is_some() {
                return Err(DomainError::already_exists(Self::NAME, id.to_string()));
            }
            check_id("id", *id)?;
            check_iati_identifier(iati_identifier)?;
            check_text("title", title, MAX_TITLE_CHARS)?;
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
                title: title.trim().to_owned(),
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
        match command {
            C::Create { .. } => unreachable!("handled above"),
            C::ChangeStatus { to, on, reason, .. } => {
                if !status.can_move_to(*to) {
                    return Err(DomainError::cannot(
                        &format!("move to {} {}", to, to.name()),
                        Self::NAME,
                        status_label(status),
                    ));
                }
                if let Some(last) = state.last_on {
                    check_date_order("on", last, *on)?;
                }
                check_reason(reason.as_deref())?;
                Ok(vec![E::ProjectStatusChanged {
                    id,
                    from: status,
                    to: *to,
                    on: *on,
                    reason: reason.as_deref().map(|r| r.trim().to_owned()),
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
                Ok(vec![E::ProjectReferralJoined {
                    id,
                    referral_id: *referral_id,
                    need_id: *need_id,
                }])
            }
            C::SetBudget { budget, .. } => {
                open("set the budget of")?;
                check_positive("budget", budget)?;
                if state.budget.as_ref() == Some(budget) {
                    return Ok(vec![]);
                }
                Ok(vec![E::ProjectBudgetSet {
                    id,
                    budget: budget.clone(),
                }])
            }
            C::AddTransaction {
                transaction_id,
                kind,
                value,
                date,
                provider,
                receiver,
                description,
                ..
            } => {
                open("add a transaction to")?;
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
                check_positive("value", value)?;
                for (field, text) in [
                    ("provider", provider),
                    ("receiver", receiver),
                    ("description", description),
                ] {
                    if let Some(t) = text {
                        check_text(field, t, MAX_PARTY_CHARS.max(MAX_DESCRIPTION_CHARS))?;
                    }
                }
                check_transaction_totals(state, *kind, value)?;
                Ok(vec![E::ProjectTransactionAdded {
                    id,
                    transaction: Transaction {
                        transaction_id: *transaction_id,
                        kind: *kind,
                        value: value.clone(),
                        date: *date,
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
                check_text("title", title, MAX_TITLE_CHARS)?;
                Ok(vec![E::ProjectMilestoneAdded {
                    id,
                    milestone_id: *milestone_id,
                    title: title.trim().to_owned(),
                    due: *due,
                }])
            }
            C::CompleteMilestone {
                milestone_id, on, ..
            } => {
                open("complete a milestone of")?;
                let Some(m) = state
                    .milestones
                    .iter()
                    .find(|m| m.milestone_id == *milestone_id)
                else {
                    return Err(DomainError::not_found("milestone", milestone_id.to_string()));
                };
                if let Some(done) = m.done_on {
                    return Err(DomainError::invalid(
                        "milestone_id",
                        format!("milestone {milestone_id} was completed on {done}"),
                    ));
                }
                Ok(vec![E::ProjectMilestoneCompleted {
                    id,
                    milestone_id: *milestone_id,
                    on: *on,
                }])
            }
            C::AddResult {
                result_id,
                title,
                indicators,
                ..
            } => {
                open("add a result to")?;
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
                }])
            }
            C::RecordIndicatorActual {
                result_id,
                indicator_id,
                value,
                on,
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
                    return Err(DomainError::not_found("indicator", indicator_id.to_string()));
                };
                if indicator.def.baseline.is_none() {
                    return Err(DomainError::invalid(
                        "baseline",
                        "an indicator actual needs a baseline",
                    ));
                }
                Ok(vec![E::ProjectIndicatorActualRecorded {
                    id,
                    result_id: *result_id,
                    indicator_id: *indicator_id,
                    value: *value,
                    on: *on,
                }])
            }
            C::AddDocument {
                url,
                title,
                category,
                ..
            } => {
                open("add a document to")?;
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
            E::ProjectBudgetSet { budget, .. } => state.budget = Some(budget.clone()),
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
                ..
            } => state.milestones.push(Milestone {
                milestone_id: *milestone_id,
                title: title.clone(),
                due: *due,
                done_on: None,
            }),
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
                ..
            } => state.results.push(ProjectResult {
                result_id: *result_id,
                title: title.clone(),
                indicators: indicators
                    .iter()
                    .map(|def| Indicator {
                        def: def.clone(),
                        actuals: vec![],
                    })
                    .collect(),
            }),
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
            E::ProjectDocumentAdded { document, .. } => state.documents.push(document.clone()),
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

fn check_ids(field: &str, ids: &[Uuid]) -> Result<(), DomainError> {
    for (i, id) in ids.iter().enumerate() {
        check_id(field, *id)?;
        if ids[..i].contains(id) {
            return Err(DomainError::invalid(field, format!("{id} is listed twice")));
        }
    }
    Ok(())
}

fn check_positive(field: &str, money: &Money) -> Result<(), DomainError> {
    check_currency_of(field, money)?;
    if !money.is_positive() {
        return Err(DomainError::invalid(
            field,
            format!("must be positive, got {money}"),
        ));
    }
    Ok(())
}

/// Disbursements may not exceed commitments, nor expenditure disbursements, per currency; no total may
/// overflow.
fn check_transaction_totals(
    state: &ProjectState,
    kind: TransactionKind,
    value: &Money,
) -> Result<(), DomainError> {
    let totals = match kind {
        TransactionKind::Pledge => &state.pledged,
        TransactionKind::Commitment => &state.committed,
        TransactionKind::Disbursement => &state.disbursed,
        TransactionKind::Expenditure => &state.expended,
    };
    let mut after = totals.clone();
    after.add(value).map_err(|_| {
        DomainError::invalid("value", format!("total {kind} would be too large"))
    })?;
    let currency = value.currency.as_str();
    let total = after.money(currency);
    let (cap, cap_name) = match kind {
        TransactionKind::Disbursement => (state.committed.money(currency), "committed"),
        TransactionKind::Expenditure => (state.disbursed.money(currency), "disbursed"),
        TransactionKind::Pledge | TransactionKind::Commitment => return Ok(()),
    };
    if total.amount_minor > cap.amount_minor {
        let verb = if kind == TransactionKind::Disbursement {
            "disbursed"
        } else {
            "expended"
        };
        return Err(DomainError::invalid(
            "value",
            format!("total {verb} would be {total}, above the {cap} {cap_name}"),
        ));
    }
    Ok(())
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
                format!("must be an IATI IndicatorMeasure code 1 to 5, got {:?}", ind.measure),
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
mod tests;
