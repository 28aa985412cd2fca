//! `plan`: turns parsed activities into the organisation and project commands that record them,
//! with ids derived from the IATI identifier so that importing a file again sends the same
//! commands (the services answer a repeated command id with its first answer) and links to the
//! project already recorded under that identifier instead of creating a second one.
//!
//! Every command is decided here first, with the domain's own deciders, on the state the read
//! model gave (or on nothing): a file that breaks a rule is refused before anything is sent.

use std::collections::BTreeMap;

use jiff::civil::Date;
use sha2::{Digest, Sha256};
use tatrack_domain::organisation::{
    self, Organisation, OrganisationCommand, OrganisationKind, OrganisationState,
};
use tatrack_domain::project::{
    ActivityStatus, IndicatorDef, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, Participant, Project,
    ProjectCommand, ProjectState, TransactionKind,
};
use tatrack_domain::{Aggregate, DomainError, Money, codes};
use uuid::Uuid;

use crate::error::{IatiError, Place};
use crate::read::{ImportedActivity, OrgRef, Reading, to_minor};

/// What the running system already holds, and the choices the caller made.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    pub organisations: &'a [OrganisationState],
    pub projects: &'a [ProjectState],
    /// The theme of activities that name none of tatrack's (as sector vocabulary 99).
    pub default_theme: Option<&'a str>,
    /// The day of the import: nothing is recorded as happening after it.
    pub today: Date,
}

/// A command with the id it is sent under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned<C> {
    pub command_id: Uuid,
    pub command: C,
}

/// The commands for one activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPlan {
    pub iati_identifier: String,
    pub project_id: Uuid,
    /// A project with this identifier is already recorded; the import adds to it.
    pub existing: bool,
    pub commands: Vec<Planned<ProjectCommand>>,
    /// What the file holds that tatrack left out or filled in, for people to read.
    pub notes: Vec<String>,
}

/// Everything one file records: organisations first (projects name them), then each activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPlan {
    pub organisations: Vec<Planned<OrganisationCommand>>,
    pub activities: Vec<ActivityPlan>,
}

const IMPORT_REASON: &str = "imported from an IATI activity file";

/// A UUID (version 8) from a hash of `parts`: the same parts always give the same id.
pub fn derived_id(parts: &[&str]) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"tatrack-iati/1");
    for p in parts {
        // Lengths first, so ("ab", "c") and ("a", "bc") differ.
        hash.update((p.len() as u64).to_be_bytes());
        hash.update(p.as_bytes());
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Plans the commands for every activity of a file; refused as a whole when one activity cannot
/// be recorded.
pub fn plan(
    activities: &[ImportedActivity],
    context: &ImportContext<'_>,
) -> Result<ImportPlan, IatiError> {
    // An organisation the file names has existed at least since the first thing the file
    // says happened, so "as of" that day its projects have their organisations.
    let registered_on = activities
        .iter()
        .map(|a| first_day(a, context.today))
        .min()
        .unwrap_or(context.today);
    let mut registry = Registry {
        known: context.organisations.to_vec(),
        planned: Vec::new(),
        on: registered_on,
    };
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for a in activities {
        if let Some(line) = seen.insert(&a.iati_identifier, a.at.line) {
            return Err(invalid(
                &a.at,
                "iati-identifier",
                format!("the file holds this activity twice (first on line {line})"),
            ));
        }
        out.push(plan_activity(a, context, &mut registry)?);
    }
    Ok(ImportPlan {
        organisations: registry.planned,
        activities: out,
    })
}

fn invalid(at: &Place, field: &str, reason: impl Into<String>) -> IatiError {
    IatiError::Invalid {
        place: at.clone(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// A domain refusal, placed on the element that gave the command.
fn refused(at: &Place, e: DomainError) -> IatiError {
    match e {
        DomainError::Invalid { field, reason } => invalid(at, &field, reason),
        other => invalid(at, "activity", other.to_string()),
    }
}

/// The business date a project created by the import gets: the first date the activity
/// gives (a start, a transaction, an indicator period), never after the import's day. Its
/// transactions and results are then never dated before it.
fn first_day(a: &ImportedActivity, today: Date) -> Date {
    let d = &a.dates;
    [d.planned_start, d.actual_start, d.planned_end, d.actual_end]
        .into_iter()
        .flatten()
        .chain(a.transactions.iter().map(|t| t.date))
        .chain(
            a.results
                .iter()
                .flat_map(|r| &r.indicators)
                .flat_map(|i| &i.periods)
                .map(|p| p.start),
        )
        .min()
        .map_or(today, |first| first.min(today))
}

/// Organisations known to the system plus those this import registers.
struct Registry {
    known: Vec<OrganisationState>,
    planned: Vec<Planned<OrganisationCommand>>,
    /// The business date of the registrations this import plans.
    on: Date,
}

impl Registry {
    /// The registry id of an organisation a file names: by IATI identifier, then by id, then
    /// (without a reference) by name.
    fn find(&self, org: &OrgRef) -> Option<String> {
        let found = match &org.reference {
            Some(r) => self
                .known
                .iter()
                .find(|o| o.iati_identifier.as_deref() == Some(r.as_str()))
                .or_else(|| self.known.iter().find(|o| o.id == *r)),
            None => org.name.as_ref().and_then(|n| {
                self.known
                    .iter()
                    .find(|o| o.name.trim().eq_ignore_ascii_case(n.trim()))
            }),
        };
        found.map(|o| o.id.clone())
    }

    /// The registry id, registering the organisation when it is new.
    fn resolve(&mut self, org: &OrgRef) -> Result<String, IatiError> {
        if let Some(id) = self.find(org) {
            return Ok(id);
        }
        let key = org.reference.clone().or_else(|| org.name.clone());
        let Some(key) = key else {
            return Err(invalid(
                &org.at,
                "@ref",
                "names no organisation: no @ref and no narrative",
            ));
        };
        let Some(iati_type) = org.iati_type.clone() else {
            return Err(invalid(
                &org.at,
                "@type",
                format!(
                    "organisation {key:?} is not registered in tatrack yet, and registering it needs its IATI OrganisationType"
                ),
            ));
        };
        let id = match &org.reference {
            Some(r) if organisation::check_organisation_id("id", r).is_ok() => r.clone(),
            _ => format!(
                "IATI-{}",
                &derived_id(&["organisation", &key]).simple().to_string()[..12]
            ),
        };
        let iati_identifier = org
            .reference
            .clone()
            .filter(|r| organisation::check_iati_identifier("iati_identifier", r).is_ok());
        let command = OrganisationCommand::Register {
            id: id.clone(),
            name: org.name.clone().unwrap_or_else(|| key.clone()),
            kind: kind_of(&iati_type),
            iati_type,
            iati_identifier,
            country: None,
            on: self.on,
        };
        let events = Organisation::decide(&OrganisationState::default(), &command)
            .map_err(|e| refused(&org.at, e))?;
        let state = events
            .iter()
            .fold(OrganisationState::default(), Organisation::evolve);
        self.known.push(state);
        self.planned.push(Planned {
            command_id: derived_id(&["organisation", &id]),
            command,
        });
        Ok(id)
    }
}

/// The registry's kind for an IATI OrganisationType; a coordinator can correct it later.
fn kind_of(iati_type: &str) -> OrganisationKind {
    use OrganisationKind as K;
    match iati_type {
        "10" => K::DonorGovernment,
        "11" | "15" => K::MemberStateBody,
        "30" | "70" | "71" | "72" | "73" => K::PrivateSector,
        "40" => K::InternationalOrganisation,
        "80" => K::Academia,
        _ => K::CivilSociety,
    }
}

/// A percentage for comparing shares (missing counts as 100, as IATI reads a single element).
fn share_of(percentage: Option<&String>) -> i64 {
    percentage
        .and_then(|p| to_minor(p, 6))
        .unwrap_or(100_000_000)
}

/// A whole number as tatrack's indicators hold them (`"12"`, `"12.0"`).
fn whole(reading: &Reading) -> Option<i64> {
    to_minor(&reading.value, 0)
}

/// The project commands, decided one after the other on the project's state.
struct Builder<'a> {
    identifier: &'a str,
    state: ProjectState,
    commands: Vec<Planned<ProjectCommand>>,
    notes: Vec<String>,
    /// The business date of changes to the project itself (see `plan_activity`).
    on: Date,
    /// The import's day.
    today: Date,
}

impl Builder<'_> {
    /// Decides `command` on the current state; a refusal is placed at `at`.
    fn push(&mut self, key: &str, at: &Place, command: ProjectCommand) -> Result<(), IatiError> {
        self.try_push(key, command).map_err(|e| refused(at, e))
    }

    fn try_push(&mut self, key: &str, command: ProjectCommand) -> Result<(), DomainError> {
        let events = Project::decide(&self.state, &command)?;
        self.state = events
            .iter()
            .fold(std::mem::take(&mut self.state), Project::evolve);
        self.commands.push(Planned {
            command_id: derived_id(&[self.identifier, "command", key]),
            command,
        });
        Ok(())
    }
}

fn plan_activity(
    a: &ImportedActivity,
    context: &ImportContext<'_>,
    registry: &mut Registry,
) -> Result<ActivityPlan, IatiError> {
    let identifier = a.iati_identifier.as_str();
    if identifier.is_empty() {
        return Err(invalid(&a.at, "iati-identifier", "is empty"));
    }
    let existing = context
        .projects
        .iter()
        .filter(|p| p.status.is_some() && p.iati_identifier == identifier)
        .min_by_key(|p| p.id);
    let project_id = existing.map_or_else(|| derived_id(&["project", identifier]), |p| p.id);
    // Changes to the project itself are dated on the day it starts in tatrack (new) or on its
    // last change (recorded already), so they never go back; transactions and actuals keep
    // their own dates.
    let on = existing
        .and_then(|p| p.last_on)
        .unwrap_or_else(|| first_day(a, context.today));
    let mut b = Builder {
        identifier,
        state: existing.cloned().unwrap_or_default(),
        commands: Vec::new(),
        notes: Vec::new(),
        on,
        today: context.today,
    };

    // Organisations: every participating one, and the reporting one where a role is missing.
    let mut participating: Vec<Participant> = Vec::new();
    for p in &a.participating {
        let organisation = registry.resolve(&p.org)?;
        let participant = Participant {
            organisation,
            role: p.role.clone(),
        };
        if !participating.contains(&participant) {
            participating.push(participant);
        }
    }
    for (role, name) in [("1", "funding"), ("4", "implementing")] {
        if !participating.iter().any(|p| p.role == role) {
            let organisation = registry.resolve(&a.reporting_org)?;
            b.notes.push(format!(
                "no {name} organisation (role {role}) is named: the reporting organisation {organisation} is recorded as {name}"
            ));
            participating.push(Participant {
                organisation,
                role: role.to_owned(),
            });
        }
    }

    // One State per project: the largest share, the first on a tie.
    let country = a
        .recipient_countries
        .iter()
        .rev()
        .max_by_key(|c| share_of(c.percentage.as_ref()))
        .ok_or_else(|| {
            invalid(
                &a.at,
                "recipient-country",
                "tatrack records a project for one State, and the activity names no recipient-country",
            )
        })?;
    if a.recipient_countries.len() > 1 || !a.recipient_regions.is_empty() {
        b.notes.push(format!(
            "recorded for {} only; the file also names {}",
            country.code,
            a.recipient_countries
                .iter()
                .filter(|c| c.code != country.code)
                .map(|c| c.code.clone())
                .chain(
                    a.recipient_regions
                        .iter()
                        .map(|r| format!("region {}", r.code))
                )
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    // Sector: the DAC code with the largest share; the theme from vocabulary 99.
    let dac = a
        .sectors
        .iter()
        .filter(|s| s.vocabulary.as_deref().is_none_or(|v| v == "1"))
        .rev()
        .max_by_key(|s| share_of(s.percentage.as_ref()))
        .map(|s| s.code.clone());
    let theme = a
        .sectors
        .iter()
        .find(|s| s.vocabulary.as_deref() == Some("99") && codes::theme(&s.code).is_some())
        .map(|s| s.code.clone())
        .or_else(|| context.default_theme.map(str::to_owned))
        .or_else(|| {
            dac.as_ref().and_then(|d| {
                codes::themes()
                    .iter()
                    .find(|t| t.nearest_dac5 == *d)
                    .map(|t| t.code.clone())
            })
        })
        .ok_or_else(|| {
            invalid(
                &a.at,
                "sector",
                "names no tatrack theme (a sector with vocabulary 99 and a theme code such as BOR); give one with --theme",
            )
        })?;
    let dac_sector = match dac {
        Some(d) => d,
        None => codes::theme(&theme)
            .map(|t| t.nearest_dac5.clone())
            .ok_or_else(|| invalid(&a.at, "sector", format!("unknown theme code {theme:?}")))?,
    };

    let dates = &a.dates;
    let (Some(start), Some(end)) = (
        dates.planned_start.or(dates.actual_start),
        dates.planned_end.or(dates.actual_end),
    ) else {
        return Err(invalid(
            &a.at,
            "activity-date",
            "tatrack needs a start (type 1 or 2) and an end (type 3 or 4) date",
        ));
    };

    let budget = budget_of(a, &mut b.notes);
    if existing.is_none() {
        let title = shortened(&a.title, MAX_TITLE_CHARS, "title", &mut b.notes);
        let description = shortened(
            &a.description,
            MAX_DESCRIPTION_CHARS,
            "description",
            &mut b.notes,
        );
        b.push(
            "create",
            &a.at,
            ProjectCommand::Create {
                id: project_id,
                iati_identifier: identifier.to_owned(),
                title,
                description,
                recipient_country: country.code.clone(),
                theme,
                dac_sector,
                participating,
                planned_start: start,
                planned_end: end,
                budget,
                needs: vec![],
                referrals: vec![],
                on: b.on,
            },
        )?;
    } else {
        b.notes.push(format!(
            "project {project_id} already has this IATI identifier: the file's transactions, results, documents and status are added to it"
        ));
        if b.state.status.is_some_and(ActivityStatus::is_final) {
            b.notes
                .push("the project is closed or cancelled: nothing is added".to_owned());
            return Ok(finish(b, project_id, true));
        }
        if let Some(budget) = budget {
            if b.state.budget.as_ref() != Some(&budget) {
                b.push(
                    "budget",
                    &a.at,
                    ProjectCommand::SetBudget {
                        id: project_id,
                        budget,
                        on: b.on,
                    },
                )?;
            }
        }
    }

    transactions(a, registry, &mut b, project_id)?;
    results(a, &mut b, project_id)?;
    documents(a, &mut b, project_id);
    status(a, &mut b, project_id, start, end)?;
    Ok(finish(b, project_id, existing.is_some()))
}

/// A text cut to what tatrack holds (IATI descriptions can be long), with a note when cut.
fn shortened(text: &str, max: usize, what: &str, notes: &mut Vec<String>) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    notes.push(format!(
        "the {what} is cut to the {max} characters tatrack holds"
    ));
    text.chars().take(max).collect()
}

fn finish(b: Builder<'_>, project_id: Uuid, existing: bool) -> ActivityPlan {
    ActivityPlan {
        iati_identifier: b.identifier.to_owned(),
        project_id,
        existing,
        commands: b.commands,
        notes: b.notes,
    }
}

/// The budget: the revised budget of a period where there is one, else the original, summed
/// over the periods; left out when the periods are in several currencies.
fn budget_of(a: &ImportedActivity, notes: &mut Vec<String>) -> Option<Money> {
    let mut by_period: BTreeMap<(Date, Date), &Money> = BTreeMap::new();
    for kind in ["1", "2"] {
        for budget in &a.budgets {
            if budget.kind.as_deref().unwrap_or("1") == kind {
                by_period.insert((budget.period_start, budget.period_end), &budget.value);
            }
        }
    }
    let mut total: Option<Money> = None;
    for value in by_period.values() {
        total = match total {
            None => Some((*value).clone()),
            Some(t) => match t.checked_add(value) {
                Ok(sum) => Some(sum),
                Err(_) => {
                    notes.push(
                        "the budget periods are in several currencies: no budget is recorded"
                            .to_owned(),
                    );
                    return None;
                }
            },
        };
    }
    total.filter(Money::is_positive)
}

/// A transaction party: the registry id when the organisation is known, else its name or ref.
fn party(registry: &Registry, org: Option<&OrgRef>) -> Option<String> {
    let org = org?;
    registry
        .find(org)
        .or_else(|| org.name.clone())
        .or_else(|| org.reference.clone())
}

fn transactions(
    a: &ImportedActivity,
    registry: &Registry,
    b: &mut Builder<'_>,
    project_id: Uuid,
) -> Result<(), IatiError> {
    let mut recorded = Vec::new();
    for t in &a.transactions {
        let kind = match t.type_code.as_str() {
            "12" => TransactionKind::Pledge,
            "2" => TransactionKind::Commitment,
            "3" => TransactionKind::Disbursement,
            "4" => TransactionKind::Expenditure,
            other => {
                let name = codes::transaction_type(other).map_or("", |e| e.name.as_str());
                b.notes.push(format!(
                    "line {}: transaction type {other} ({name}) is not one tatrack records (12 pledge, 2 commitment, 3 disbursement, 4 expenditure)",
                    t.at.line
                ));
                continue;
            }
        };
        if t.value.amount_minor == 0 {
            return Err(invalid(
                &t.at,
                "value",
                "a transaction of zero records nothing",
            ));
        }
        if t.date > b.today {
            b.notes.push(format!(
                "line {}: a transaction dated {} is after today: not recorded until it happens",
                t.at.line, t.date
            ));
            continue;
        }
        recorded.push((t, kind));
    }
    // Commitments before the disbursements they cover: by date, then pledge, commitment,
    // disbursement, expenditure (the file's order otherwise).
    recorded.sort_by_key(|(t, kind)| (t.date, *kind));
    let mut occurrences: BTreeMap<String, usize> = BTreeMap::new();
    for (t, kind) in recorded {
        // A file tatrack exported names each transaction by its id: already recorded, skip it.
        let own_id = t.reference.as_deref().and_then(|r| r.parse::<Uuid>().ok());
        if own_id.is_some_and(|id| b.state.transactions.iter().any(|x| x.transaction_id == id)) {
            continue;
        }
        let receiver = party(registry, t.receiver.as_ref());
        // The money is a participant's own: the file's provider, else the funding organisation
        // (the implementing one for expenditure), said so in a note.
        let provider = match party(registry, t.provider.as_ref()) {
            Some(p) => Some(p),
            None => {
                let role = if kind == TransactionKind::Expenditure {
                    "4"
                } else {
                    "1"
                };
                let fallback = b
                    .state
                    .participating
                    .iter()
                    .find(|p| p.role == role)
                    .map(|p| p.organisation.clone());
                if let Some(f) = &fallback {
                    b.notes.push(format!(
                        "line {}: the transaction names no provider: {f} is recorded as providing it",
                        t.at.line
                    ));
                }
                fallback
            }
        };
        // The content names the transaction, so a file reordered or grown keeps its ids.
        let content = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            kind,
            t.date,
            t.value.amount_minor,
            t.value.currency,
            provider.as_deref().unwrap_or_default(),
            receiver.as_deref().unwrap_or_default(),
            t.description.as_deref().unwrap_or_default()
        );
        let n = occurrences.entry(content.clone()).or_default();
        *n += 1;
        let key = format!("transaction/{content}/{n}");
        let transaction_id = derived_id(&[b.identifier, &key]);
        if b.state
            .transactions
            .iter()
            .any(|x| x.transaction_id == transaction_id)
        {
            continue;
        }
        b.push(
            &key,
            &t.at,
            ProjectCommand::AddTransaction {
                id: project_id,
                transaction_id,
                kind,
                value: t.value.clone(),
                on: t.date,
                provider,
                receiver,
                description: t.description.clone().filter(|d| !d.is_empty()),
            },
        )?;
    }
    Ok(())
}

fn results(a: &ImportedActivity, b: &mut Builder<'_>, project_id: Uuid) -> Result<(), IatiError> {
    let mut occurrences: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &a.results {
        let n = occurrences.entry(r.title.as_str()).or_default();
        *n += 1;
        let key = format!("result/{}/{n}", r.title);
        // A result already recorded (by this import, or under the same title) is matched, so
        // only its new actuals are added.
        let existing = b
            .state
            .results
            .iter()
            .find(|x| x.result_id == derived_id(&[b.identifier, &key]))
            .or_else(|| b.state.results.iter().find(|x| x.title == r.title))
            .cloned();
        let result_id = existing
            .as_ref()
            .map_or_else(|| derived_id(&[b.identifier, &key]), |x| x.result_id);
        let mut defs = Vec::new();
        let mut actuals = Vec::new();
        for (i, ind) in r.indicators.iter().enumerate() {
            let mut periods: Vec<_> = ind.periods.iter().collect();
            periods.sort_by_key(|p| (p.end, p.start));
            let known = existing
                .as_ref()
                .and_then(|x| x.indicators.iter().find(|k| k.def.title == ind.title));
            let (indicator_id, baseline) = if let Some(k) = known {
                (k.def.indicator_id, k.def.baseline)
            } else {
                let target = periods
                    .iter()
                    .rev()
                    .find_map(|p| p.target.as_ref().and_then(whole));
                let Some(target) = target else {
                    b.notes.push(format!(
                        "line {}: indicator {:?} has no whole-number target, which tatrack needs: left out",
                        ind.at.line, ind.title
                    ));
                    continue;
                };
                let baseline = ind.baseline.as_ref().and_then(whole);
                if ind.baseline.is_some() && baseline.is_none() {
                    b.notes.push(format!(
                        "line {}: indicator {:?}: the baseline is not a whole number: left out",
                        ind.at.line, ind.title
                    ));
                }
                if existing.is_some() {
                    b.notes.push(format!(
                        "line {}: indicator {:?} is new to a recorded result, which takes no new indicators: left out",
                        ind.at.line, ind.title
                    ));
                    continue;
                }
                let indicator_id = derived_id(&[b.identifier, &key, "indicator", &i.to_string()]);
                defs.push(IndicatorDef {
                    indicator_id,
                    title: ind.title.clone(),
                    measure: ind.measure.clone(),
                    baseline,
                    target,
                });
                (indicator_id, baseline)
            };
            for p in &periods {
                let Some(actual) = &p.actual else { continue };
                match (whole(actual), baseline) {
                    (Some(value), Some(_)) => actuals.push((indicator_id, value, p.end, &p.at)),
                    (None, _) => b.notes.push(format!(
                        "line {}: an actual that is not a whole number is left out",
                        actual.at.line
                    )),
                    (Some(_), None) => b.notes.push(format!(
                        "line {}: an actual of an indicator without a baseline is left out (tatrack measures actuals against a baseline)",
                        actual.at.line
                    )),
                }
            }
        }
        if existing.is_none() {
            if defs.is_empty() {
                b.notes.push(format!(
                    "line {}: result {:?} has no indicator tatrack can record: left out",
                    r.at.line, r.title
                ));
                continue;
            }
            b.push(
                &key,
                &r.at,
                ProjectCommand::AddResult {
                    id: project_id,
                    result_id,
                    title: r.title.clone(),
                    indicators: defs,
                    on: b.on,
                },
            )?;
        }
        for (indicator_id, value, on, at) in actuals {
            let already = b
                .state
                .results
                .iter()
                .filter(|x| x.result_id == result_id)
                .flat_map(|x| &x.indicators)
                .filter(|i| i.def.indicator_id == indicator_id)
                .flat_map(|i| &i.actuals)
                .any(|x| x.value == value && x.on == on);
            if already {
                continue;
            }
            b.push(
                &format!("{key}/actual/{indicator_id}/{on}/{value}"),
                at,
                ProjectCommand::RecordIndicatorActual {
                    id: project_id,
                    result_id,
                    indicator_id,
                    value,
                    on,
                },
            )?;
        }
    }
    Ok(())
}

/// Document links tatrack cannot hold (not an http(s) URL, say) are left out with a note rather
/// than refusing the file: they are references, not data.
fn documents(a: &ImportedActivity, b: &mut Builder<'_>, project_id: Uuid) {
    for d in &a.documents {
        if b.state.documents.iter().any(|x| x.url == d.url) {
            continue;
        }
        let command = ProjectCommand::AddDocument {
            id: project_id,
            url: d.url.clone(),
            title: d.title.clone(),
            category: d.category.clone(),
            on: b.on,
        };
        if let Err(e) = b.try_push(&format!("document/{}", d.url), command) {
            b.notes.push(format!(
                "line {}: document link {:?} left out: {e}",
                d.at.line, d.url
            ));
        }
    }
}

/// Moves the project from its status to the file's along the allowed moves (1->2->3->4,
/// {1,2,6}->5, 2<->6), each on the date the file gives for it.
fn status(
    a: &ImportedActivity,
    b: &mut Builder<'_>,
    project_id: Uuid,
    start: Date,
    end: Date,
) -> Result<(), IatiError> {
    let Some(code) = &a.status else {
        b.notes
            .push("no activity-status: the project stays as it is".to_owned());
        return Ok(());
    };
    let target: ActivityStatus = code.parse().map_err(|e| refused(&a.at, e))?;
    let from = b.state.status.unwrap_or(ActivityStatus::Pipeline);
    let Some(path) = path_between(from, target) else {
        return Err(invalid(
            &a.at,
            "activity-status",
            format!(
                "the project is {from} ({}) in tatrack and cannot move to {target} ({})",
                from.name(),
                target.name()
            ),
        ));
    };
    // A move is not dated after the import's day (a planned end still ahead is not a fact yet).
    let started = a.dates.actual_start.unwrap_or(start).min(b.today);
    let ended = a.dates.actual_end.unwrap_or(end).min(b.today);
    let mut on = b.state.last_on.unwrap_or(b.on);
    let mut previous = from;
    for to in path {
        let day = match to {
            ActivityStatus::Finalisation | ActivityStatus::Closed => ended,
            _ => started,
        };
        on = on.max(day);
        b.push(
            &format!("status/{previous}-{to}"),
            &a.at,
            ProjectCommand::ChangeStatus {
                id: project_id,
                to,
                on,
                reason: Some(IMPORT_REASON.to_owned()),
            },
        )?;
        previous = to;
    }
    Ok(())
}

/// The shortest list of allowed moves from `from` to `to` (empty when they are equal).
fn path_between(from: ActivityStatus, to: ActivityStatus) -> Option<Vec<ActivityStatus>> {
    let mut paths: Vec<(ActivityStatus, Vec<ActivityStatus>)> = vec![(from, vec![])];
    let mut seen = vec![from];
    while !paths.is_empty() {
        let mut next = Vec::new();
        for (at, path) in paths {
            if at == to {
                return Some(path);
            }
            for s in ActivityStatus::ALL {
                if at.can_move_to(*s) && !seen.contains(s) {
                    seen.push(*s);
                    let mut p = path.clone();
                    p.push(*s);
                    next.push((*s, p));
                }
            }
        }
        paths = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActivityStatus as S;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = derived_id(&["X-1", "command", "create"]);
        assert_eq!(a, derived_id(&["X-1", "command", "create"]));
        assert_ne!(a, derived_id(&["X-1", "commandcreate"]));
        assert_eq!(a.get_version_num(), 8);
    }

    #[test]
    fn status_paths_follow_the_allowed_moves() {
        assert_eq!(path_between(S::Pipeline, S::Pipeline), Some(vec![]));
        assert_eq!(
            path_between(S::Pipeline, S::Closed),
            Some(vec![S::Implementation, S::Finalisation, S::Closed])
        );
        assert_eq!(
            path_between(S::Pipeline, S::Suspended),
            Some(vec![S::Implementation, S::Suspended])
        );
        assert_eq!(
            path_between(S::Pipeline, S::Cancelled),
            Some(vec![S::Cancelled])
        );
        assert_eq!(path_between(S::Closed, S::Implementation), None);
    }
}
