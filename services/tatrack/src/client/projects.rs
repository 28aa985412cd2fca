//! The projects service's resources: referrals (a need matched to an offer; proposing one is in
//! `matching.rs`, which shows the overlaps it makes), projects shaped like IATI activities,
//! progress reports and the exchange-rate table.

use clap::{Args, Subcommand, ValueEnum};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::Value;
use tatrack_contract::CommandReply;
use tatrack_contract::answers::ProjectView;
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::commands::{Ending, Move, progress, project, rates, referral};
use tatrack_contract::views;
use tatrack_domain::Money;
use tatrack_domain::progress::{ProgressReportState, ReportedActual};
use tatrack_domain::project::{ActivityStatus, IndicatorDef, Participant, TransactionKind};
use tatrack_domain::rates::{Rate, RateTableState, Ratio};
use tatrack_domain::referral::ReferralState;
use tatrack_domain::{Totals, codes};
use uuid::Uuid;

use super::args::{self, EndingArgs, MoveArgs, OnOne as _};
use super::{Client, Error, Flags, matching, output};

/// Which party of a referral accepts or declines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Party {
    /// The offering organisation (a donor's or partner's token).
    Partner,
    /// The need's State (its focal point's token).
    State,
}

#[derive(Debug, Subcommand)]
pub enum ReferralCmd {
    /// Match a need to an offer (status proposed); prints the overlaps it makes.
    Propose {
        /// The need.
        #[arg(long)]
        need: Uuid,
        /// The offer.
        #[arg(long)]
        offer: Uuid,
        /// The share of the need it covers, in major units; needs --currency.
        #[arg(long, value_parser = args::amount, requires = "currency", value_name = "AMOUNT")]
        money: Option<i64>,
        /// ISO 4217 currency of --money.
        #[arg(long, value_parser = args::currency, requires = "money")]
        currency: Option<String>,
        /// The share of the need it covers, in the need's units.
        #[arg(long)]
        units: Option<u64>,
        /// The day it was proposed (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id to use (default: the server mints one and says which).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// proposed -> referred: sent to the partner.
    Refer(MoveArgs),
    /// The partner or the State accepts (with that party's token).
    Accept {
        /// The referral's id.
        id: Uuid,
        /// Which party accepts.
        #[arg(long, value_enum)]
        as_party: Party,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The partner or the State declines (a reason is required).
    Decline {
        /// The referral's id.
        id: Uuid,
        /// Which party declines.
        #[arg(long, value_enum)]
        as_party: Party,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Why (required, for the record).
        #[arg(long)]
        reason: String,
    },
    /// accepted_by_state -> active: the work starts in (or joins) a project.
    Activate {
        /// The referral's id.
        id: Uuid,
        /// The project the work runs in.
        #[arg(long)]
        project: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The referral lapses (a reason is required).
    Lapse(EndingArgs),
    /// List referrals.
    List {
        /// Only those of this need.
        #[arg(long)]
        need: Option<Uuid>,
        /// Only those to this offer.
        #[arg(long)]
        offer: Option<Uuid>,
        /// Only those to this organisation's offers.
        #[arg(long)]
        org: Option<String>,
        /// Only those of this State's needs (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// Only this status: proposed, referred, accepted_by_partner, accepted_by_state,
        /// active, declined, lapsed.
        #[arg(long)]
        status: Option<String>,
    },
    /// One referral.
    Show {
        /// The referral's id.
        id: Uuid,
    },
}

pub const PROPOSE_FLAGS: Flags = Flags(&[
    ("need_id", "--need"),
    ("offer_id", "--offer"),
    ("share_money.currency", "--currency"),
    ("share_money", "--money"),
    ("share_units", "--units"),
]);

pub fn propose_body(
    need: Uuid,
    offer: Uuid,
    money: Option<i64>,
    currency: Option<&String>,
    units: Option<u64>,
    on: Option<Date>,
    id: Option<Uuid>,
) -> referral::Propose {
    // The service takes the State from the need and the organisation from the offer.
    referral::Propose {
        id,
        need_id: need,
        offer_id: offer,
        member_state: String::new(),
        organisation: String::new(),
        share_money: args::money(money, currency),
        share_units: units,
        on,
    }
}

/// Sends the acceptance or declining of referral `id` by `party`: `verbs` are the partner's and
/// the State's.
async fn by_party(
    client: &Client,
    id: Uuid,
    party: Party,
    verbs: (Verb, Verb),
    body: &impl Serialize,
) -> anyhow::Result<CommandReply> {
    let verb = match party {
        Party::Partner => verbs.0,
        Party::State => verbs.1,
    };
    client
        .command(verb, Some(&id.to_string()), body, Flags::NONE)
        .await
}

/// `tatrack referral ...`: a proposal goes to `matching::propose_and_flag`, which prints the
/// overlaps it makes at once.
pub async fn referral(client: &Client, cmd: ReferralCmd) -> anyhow::Result<()> {
    let reply: CommandReply = match cmd {
        ReferralCmd::Propose {
            need,
            offer,
            money,
            currency,
            units,
            on,
            id,
        } => {
            let body = propose_body(need, offer, money, currency.as_ref(), units, on, id);
            return matching::propose_and_flag(client, &body).await;
        }
        ReferralCmd::Refer(m) => client.command_on(Verb::ReferralRefer, &m).await?,
        ReferralCmd::Accept {
            id,
            as_party,
            on,
            reason,
        } => {
            let verbs = (Verb::ReferralAcceptByPartner, Verb::ReferralAcceptByState);
            let body = Move { on, reason };
            by_party(client, id, as_party, verbs, &body).await?
        }
        ReferralCmd::Decline {
            id,
            as_party,
            on,
            reason,
        } => {
            let verbs = (Verb::ReferralDeclineByPartner, Verb::ReferralDeclineByState);
            let body = Ending { on, reason };
            by_party(client, id, as_party, verbs, &body).await?
        }
        ReferralCmd::Activate {
            id,
            project,
            on,
            reason,
        } => {
            let body = referral::Activate {
                on,
                project_id: project,
                reason,
            };
            client
                .command(
                    Verb::ReferralActivate,
                    Some(&id.to_string()),
                    &body,
                    Flags(&[("project_id", "--project")]),
                )
                .await?
        }
        ReferralCmd::Lapse(e) => client.command_on(Verb::ReferralLapse, &e).await?,
        ReferralCmd::List {
            need,
            offer,
            org,
            country,
            status,
        } => {
            let params = views::ReferralList {
                need_id: need,
                offer_id: offer,
                organisation: org,
                member_state: country,
                status,
                ..Default::default()
            };
            return client
                .print_list::<ReferralState, _>(
                    View::ReferralList,
                    &params,
                    Flags(&[
                        ("need_id", "--need"),
                        ("offer_id", "--offer"),
                        ("organisation", "--org"),
                        ("member_state", "--country"),
                        ("status", "--status"),
                    ]),
                    &[
                        ("ID", "/id"),
                        ("STATE", "/member_state"),
                        ("ORGANISATION", "/organisation"),
                        ("STATUS", "/status"),
                        ("MONEY", "/share_money"),
                        ("UNITS", "/share_units"),
                        ("NEED", "/need_id"),
                        ("OFFER", "/offer_id"),
                        ("PROJECT", "/project_id"),
                    ],
                )
                .await;
        }
        ReferralCmd::Show { id } => {
            return client
                .print_one::<ReferralState>(View::ReferralShow, Some(&id.to_string()))
                .await;
        }
    };
    output::reply(client.json, &reply, &[]);
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Create a project shaped like an IATI activity (status 1 pipeline).
    Create(Box<CreateProject>),
    /// Move its IATI ActivityStatus (1->2->3->4, {1,2,6}->5, 2<->6).
    Status {
        /// The project's id.
        id: Uuid,
        /// The IATI code or name: 1 pipeline, 2 implementation, 3 finalisation, 4 closed,
        /// 5 cancelled, 6 suspended.
        #[arg(long, value_parser = activity_status)]
        to: ActivityStatus,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Set its budget.
    Budget {
        /// The project's id.
        id: Uuid,
        /// The budget in major units (e.g. 250000 or 1234.50).
        #[arg(long, value_parser = args::amount)]
        amount: i64,
        /// ISO 4217 currency of --amount.
        #[arg(long, value_parser = args::currency)]
        currency: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// Record a transaction: the provider records its own money (a coordinator for it).
    /// Disbursements may not exceed commitments, nor expenditure disbursements.
    Transaction {
        /// The project's id.
        id: Uuid,
        /// What kind of transaction it is.
        #[arg(long, value_parser = args::one_of(TransactionKind::ALL))]
        kind: TransactionKind,
        /// In major units; a negative amount reverses an earlier transaction of the same kind.
        #[arg(long, value_parser = args::signed_amount, allow_negative_numbers = true)]
        amount: i64,
        /// ISO 4217 currency of --amount.
        #[arg(long, value_parser = args::currency)]
        currency: String,
        /// The transaction's date, its business date (YYYY-MM-DD; default: today).
        #[arg(long = "on", alias = "date", value_name = "DAY")]
        on: Option<Date>,
        /// The participating organisation whose money it is.
        #[arg(long)]
        provider: Option<String>,
        /// The organisation that receives it.
        #[arg(long)]
        receiver: Option<String>,
        /// What it is for.
        #[arg(long)]
        description: Option<String>,
        /// Id of the transaction (default: a new one, printed).
        #[arg(long)]
        transaction_id: Option<Uuid>,
    },
    /// Add a milestone; prints its id.
    Milestone {
        /// The project's id.
        id: Uuid,
        /// What is to be done.
        #[arg(long)]
        title: String,
        /// When it is due (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        due: Date,
        /// The day it was added (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id of the milestone (default: a new one, printed).
        #[arg(long)]
        milestone_id: Option<Uuid>,
    },
    /// Mark a milestone done.
    MilestoneDone {
        /// The project's id.
        id: Uuid,
        /// The milestone's id.
        #[arg(long)]
        milestone: Uuid,
        /// The day it was done (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// Add a result with its indicators; prints their ids.
    Result {
        /// The project's id.
        id: Uuid,
        /// The result's title.
        #[arg(long)]
        title: String,
        /// "title:measure:baseline:target" (repeatable). measure is the IATI IndicatorMeasure
        /// (1 or unit, 2 percentage, 3 nominal, 4 ordinal, 5 qualitative); baseline may be
        /// empty, e.g. "Officers trained:1:0:150".
        #[arg(long = "indicator", required = true, value_parser = indicator_arg)]
        indicators: Vec<IndicatorDef>,
        /// The day it was added (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id of the result (default: a new one, printed).
        #[arg(long)]
        result_id: Option<Uuid>,
    },
    /// Record an indicator's actual value (the indicator needs a baseline).
    Actual {
        /// The project's id.
        id: Uuid,
        /// The result's id.
        #[arg(long)]
        result: Uuid,
        /// The indicator's id.
        #[arg(long)]
        indicator: Uuid,
        /// The value measured.
        #[arg(long, allow_negative_numbers = true)]
        value: i64,
        /// The day it was measured (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// Link a document.
    Document {
        /// The project's id.
        id: Uuid,
        /// Where it is (https:// or http://).
        #[arg(long)]
        url: String,
        /// Its title.
        #[arg(long)]
        title: String,
        /// IATI DocumentCategory code, e.g. A01 or A07.
        #[arg(long)]
        category: String,
        /// The day it was linked (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// List projects with their money.
    List {
        /// Only those in this country (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// Only this theme code.
        #[arg(long)]
        theme: Option<String>,
        /// Only those this organisation takes part in.
        #[arg(long)]
        org: Option<String>,
        /// Only those serving this need.
        #[arg(long)]
        need: Option<Uuid>,
        /// Only this IATI ActivityStatus, by code or name.
        #[arg(long, value_parser = activity_status)]
        status: Option<ActivityStatus>,
    },
    /// One project: organisations, transactions, milestones, results.
    Show {
        /// The project's id.
        id: Uuid,
    },
}

#[derive(Debug, Args)]
pub struct CreateProject {
    /// IATI activity identifier (e.g. GB-GOV-1-TATRACK-002).
    #[arg(long)]
    pub iati_id: String,
    /// Its title.
    #[arg(long)]
    pub title: String,
    /// What it does.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Recipient country, ISO 3166-1 alpha-2.
    #[arg(long, value_parser = args::country)]
    pub country: String,
    /// Thematic area code.
    #[arg(long)]
    pub theme: String,
    /// DAC 5-digit purpose code (default: the theme's nearest one).
    #[arg(long)]
    pub sector: Option<String>,
    /// A funding organisation, IATI role 1 (repeatable).
    #[arg(long = "funding", required = true, value_name = "ORG")]
    pub funding: Vec<String>,
    /// An implementing organisation, IATI role 4 (repeatable).
    #[arg(long = "implementing", required = true, value_name = "ORG")]
    pub implementing: Vec<String>,
    /// An extending organisation, IATI role 3 (repeatable).
    #[arg(long = "extending", value_name = "ORG")]
    pub extending: Vec<String>,
    /// An accountable organisation, IATI role 2 (repeatable).
    #[arg(long = "accountable", value_name = "ORG")]
    pub accountable: Vec<String>,
    /// Planned start (YYYY-MM-DD).
    #[arg(long, value_name = "DAY")]
    pub start: Date,
    /// Planned end (YYYY-MM-DD).
    #[arg(long, value_name = "DAY")]
    pub end: Date,
    /// Budget in major units; needs --currency.
    #[arg(long, value_parser = args::amount, requires = "currency", value_name = "AMOUNT")]
    pub budget: Option<i64>,
    /// ISO 4217 currency of --budget.
    #[arg(long, value_parser = args::currency, requires = "budget")]
    pub currency: Option<String>,
    /// A need it serves (repeatable); an activated referral adds its need too.
    #[arg(long = "need", value_name = "ID")]
    pub needs: Vec<Uuid>,
    /// The day it was created (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
    /// Id to use (default: the server mints one and says which).
    #[arg(long)]
    pub id: Option<Uuid>,
}

const PROJECT_FLAGS: Flags = Flags(&[
    ("iati_identifier", "--iati-id"),
    ("title", "--title"),
    ("description", "--description"),
    ("recipient_country", "--country"),
    ("theme", "--theme"),
    ("dac_sector", "--sector"),
    ("participating", "--funding"),
    ("planned_start", "--start"),
    ("planned_end", "--end"),
    ("budget.currency", "--currency"),
    ("budget", "--budget"),
    ("needs", "--need"),
    ("to", "--to"),
    ("kind", "--kind"),
    ("value.currency", "--currency"),
    ("value", "--amount"),
    ("amount_minor", "--amount"),
    ("provider", "--provider"),
    ("receiver", "--receiver"),
    ("description", "--description"),
    ("transaction_id", "--transaction-id"),
    ("milestone_id", "--milestone"),
    ("due", "--due"),
    ("result_id", "--result"),
    ("indicators", "--indicator"),
    ("indicator_id", "--indicator"),
    ("url", "--url"),
    ("category", "--category"),
]);

/// "2" or "implementation" -> implementation.
fn activity_status(text: &str) -> Result<ActivityStatus, String> {
    let lower = text.trim().to_ascii_lowercase();
    ActivityStatus::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == lower || s.name() == lower)
        .ok_or_else(|| {
            format!(
                "{text:?} is not an IATI ActivityStatus (1 pipeline, 2 implementation, 3 finalisation, 4 closed, 5 cancelled, 6 suspended)"
            )
        })
}

fn status_label(status: Option<ActivityStatus>) -> String {
    status.map_or_else(String::new, |s| format!("{} {}", s.as_str(), s.name()))
}

/// "Officers trained:1:0:150" -> an indicator with a new id.
fn indicator_arg(spec: &str) -> Result<IndicatorDef, String> {
    let mut parts = spec.rsplitn(4, ':');
    let (Some(target), Some(baseline), Some(measure), Some(title)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "{spec:?} is not \"title:measure:baseline:target\" (e.g. \"Officers trained:1:0:150\")"
        ));
    };
    let measure = match measure.trim().to_ascii_lowercase().as_str() {
        "unit" => "1".to_owned(),
        "percentage" => "2".to_owned(),
        "nominal" => "3".to_owned(),
        "ordinal" => "4".to_owned(),
        "qualitative" => "5".to_owned(),
        other => other.to_owned(),
    };
    let number = |what: &str, v: &str| -> Result<i64, String> {
        v.trim()
            .parse()
            .map_err(|_| format!("the {what} {v:?} is not a whole number"))
    };
    let baseline = if baseline.trim().is_empty() {
        None
    } else {
        Some(number("baseline", baseline)?)
    };
    Ok(IndicatorDef {
        indicator_id: Uuid::now_v7(),
        title: title.to_owned(),
        measure,
        baseline,
        target: number("target", target)?,
    })
}

fn totals_text(totals: &Totals) -> String {
    totals
        .iter()
        .map(|(currency, minor)| output::money(minor, currency))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn project(client: &Client, cmd: ProjectCmd) -> anyhow::Result<()> {
    let mut extra: Vec<(&str, Value)> = Vec::new();
    let reply: CommandReply = match cmd {
        ProjectCmd::Create(c) => {
            let sector = match c.sector {
                Some(s) => s,
                None => codes::theme(&c.theme)
                    .map(|t| t.nearest_dac5.clone())
                    .ok_or_else(|| {
                        Error::invalid("--theme", format!("unknown theme code {:?}", c.theme))
                    })?,
            };
            let mut participating = Vec::new();
            for (role, orgs) in [
                ("1", &c.funding),
                ("2", &c.accountable),
                ("3", &c.extending),
                ("4", &c.implementing),
            ] {
                for org in orgs {
                    participating.push(Participant {
                        organisation: org.clone(),
                        role: role.to_owned(),
                    });
                }
            }
            let body = project::Create {
                id: c.id,
                iati_identifier: c.iati_id,
                title: c.title,
                description: c.description,
                recipient_country: c.country,
                theme: c.theme,
                dac_sector: sector,
                participating,
                planned_start: c.start,
                planned_end: c.end,
                budget: args::money(c.budget, c.currency.as_ref()),
                needs: c.needs,
                referrals: Vec::new(),
                on: c.on,
            };
            client
                .command(Verb::ProjectCreate, None, &body, PROJECT_FLAGS)
                .await?
        }
        ProjectCmd::Status { id, to, on, reason } => {
            let body = project::ChangeStatus { to, on, reason };
            client
                .command(
                    Verb::ProjectChangeStatus,
                    Some(&id.to_string()),
                    &body,
                    PROJECT_FLAGS,
                )
                .await?
        }
        ProjectCmd::Budget {
            id,
            amount,
            currency,
            on,
        } => {
            let body = project::SetBudget {
                budget: Money {
                    amount_minor: amount,
                    currency,
                },
                on,
            };
            client
                .command(
                    Verb::ProjectSetBudget,
                    Some(&id.to_string()),
                    &body,
                    Flags(&[("budget.currency", "--currency"), ("budget", "--amount")]),
                )
                .await?
        }
        ProjectCmd::Transaction {
            id,
            kind,
            amount,
            currency,
            on,
            provider,
            receiver,
            description,
            transaction_id,
        } => {
            let tid = transaction_id.unwrap_or_else(Uuid::now_v7);
            extra.push(("transaction_id", Value::String(tid.to_string())));
            let body = project::AddTransaction {
                transaction_id: Some(tid),
                kind,
                value: Money {
                    amount_minor: amount,
                    currency,
                },
                on,
                provider,
                receiver,
                description,
            };
            client
                .command(
                    Verb::ProjectAddTransaction,
                    Some(&id.to_string()),
                    &body,
                    PROJECT_FLAGS,
                )
                .await?
        }
        ProjectCmd::Milestone {
            id,
            title,
            due,
            on,
            milestone_id,
        } => {
            let mid = milestone_id.unwrap_or_else(Uuid::now_v7);
            extra.push(("milestone_id", Value::String(mid.to_string())));
            let body = project::AddMilestone {
                milestone_id: Some(mid),
                title,
                due,
                on,
            };
            client
                .command(
                    Verb::ProjectAddMilestone,
                    Some(&id.to_string()),
                    &body,
                    Flags(&[
                        ("milestone_id", "--milestone-id"),
                        ("title", "--title"),
                        ("due", "--due"),
                    ]),
                )
                .await?
        }
        ProjectCmd::MilestoneDone { id, milestone, on } => {
            let body = project::CompleteMilestone {
                milestone_id: milestone,
                on,
            };
            client
                .command(
                    Verb::ProjectCompleteMilestone,
                    Some(&id.to_string()),
                    &body,
                    PROJECT_FLAGS,
                )
                .await?
        }
        ProjectCmd::Result {
            id,
            title,
            indicators,
            on,
            result_id,
        } => {
            let rid = result_id.unwrap_or_else(Uuid::now_v7);
            extra.push(("result_id", Value::String(rid.to_string())));
            extra.push((
                "indicator_ids",
                Value::Array(
                    indicators
                        .iter()
                        .map(|d| Value::String(d.indicator_id.to_string()))
                        .collect(),
                ),
            ));
            let body = project::AddResult {
                result_id: Some(rid),
                title,
                indicators,
                on,
            };
            client
                .command(
                    Verb::ProjectAddResult,
                    Some(&id.to_string()),
                    &body,
                    Flags(&[
                        ("result_id", "--result-id"),
                        ("title", "--title"),
                        ("indicators", "--indicator"),
                    ]),
                )
                .await?
        }
        ProjectCmd::Actual {
            id,
            result,
            indicator,
            value,
            on,
        } => {
            let body = project::RecordIndicatorActual {
                result_id: result,
                indicator_id: indicator,
                value,
                on,
            };
            client
                .command(
                    Verb::ProjectRecordIndicatorActual,
                    Some(&id.to_string()),
                    &body,
                    Flags(&[
                        ("result_id", "--result"),
                        ("indicator_id", "--indicator"),
                        ("value", "--value"),
                    ]),
                )
                .await?
        }
        ProjectCmd::Document {
            id,
            url,
            title,
            category,
            on,
        } => {
            let body = project::AddDocument {
                url,
                title,
                category,
                on,
            };
            client
                .command(
                    Verb::ProjectAddDocument,
                    Some(&id.to_string()),
                    &body,
                    PROJECT_FLAGS,
                )
                .await?
        }
        ProjectCmd::List {
            country,
            theme,
            org,
            need,
            status,
        } => {
            let params = views::ProjectList {
                member_state: country,
                theme,
                organisation: org,
                need_id: need,
                status: status.map(|s| s.as_str().to_owned()),
                ..Default::default()
            };
            let items: Vec<ProjectView> = client
                .list(
                    View::ProjectList,
                    &params,
                    Flags(&[
                        ("member_state", "--country"),
                        ("theme", "--theme"),
                        ("organisation", "--org"),
                        ("need_id", "--need"),
                        ("status", "--status"),
                    ]),
                )
                .await?;
            print_projects(client.json, &items);
            return Ok(());
        }
        ProjectCmd::Show { id } => {
            let project: ProjectView = client
                .show(View::ProjectShow, Some(&id.to_string()))
                .await?;
            if client.json {
                output::one(true, &project);
            } else {
                print_project(&project);
            }
            return Ok(());
        }
    };
    output::reply(client.json, &reply, &extra);
    Ok(())
}

fn print_projects(json: bool, items: &[ProjectView]) {
    if json {
        output::list(true, items, &[]);
        return;
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|v| {
            let p = &v.state;
            let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
            vec![
                p.id.to_string(),
                p.iati_identifier.clone(),
                p.recipient_country.clone(),
                p.theme.clone(),
                status_label(p.status),
                p.participating
                    .iter()
                    .map(|o| format!("{}({})", o.organisation, o.role))
                    .collect::<Vec<_>>()
                    .join(" "),
                p.budget
                    .as_ref()
                    .map(|m| output::money(m.amount_minor, &m.currency))
                    .unwrap_or_default(),
                totals_text(&p.committed),
                totals_text(&p.disbursed),
                date(p.planned_start),
                date(p.planned_end),
                v.late_milestones.len().to_string(),
                p.title.clone(),
            ]
        })
        .collect();
    output::table(
        &[
            "ID",
            "IATI ID",
            "STATE",
            "THEME",
            "STATUS",
            "ORGANISATIONS",
            "BUDGET",
            "COMMITTED",
            "DISBURSED",
            "START",
            "END",
            "LATE",
            "TITLE",
        ],
        &rows,
    );
}

fn print_project(view: &ProjectView) {
    let p = &view.state;
    let line = |key: &str, value: String| {
        if !value.is_empty() {
            println!("{key}: {value}");
        }
    };
    let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let ids = |ids: &[Uuid]| {
        ids.iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    line("id", p.id.to_string());
    line("iati_identifier", p.iati_identifier.clone());
    line("title", p.title.clone());
    line("description", p.description.clone());
    line("recipient_country", p.recipient_country.clone());
    line("theme", p.theme.clone());
    line("dac_sector", p.dac_sector.clone());
    line("status", status_label(p.status));
    line("planned_start", date(p.planned_start));
    line("planned_end", date(p.planned_end));
    line("actual_start", date(p.actual_start));
    line("actual_end", date(p.actual_end));
    line(
        "budget",
        p.budget
            .as_ref()
            .map(|m| output::money(m.amount_minor, &m.currency))
            .unwrap_or_default(),
    );
    line("needs", ids(&p.needs));
    line("referrals", ids(&p.referrals));
    line("pledged", totals_text(&p.pledged));
    line("committed", totals_text(&p.committed));
    line("disbursed", totals_text(&p.disbursed));
    line("expended", totals_text(&p.expended));
    println!("\nparticipating:");
    let roles = p
        .participating
        .iter()
        .map(|o| {
            let role = match o.role.as_str() {
                "1" => "1 funding",
                "2" => "2 accountable",
                "3" => "3 extending",
                "4" => "4 implementing",
                other => other,
            };
            vec![o.organisation.clone(), role.to_owned()]
        })
        .collect::<Vec<_>>();
    output::table(&["ORGANISATION", "ROLE"], &roles);
    println!("\ntransactions:");
    let transactions = p
        .transactions
        .iter()
        .map(|t| {
            vec![
                t.date.to_string(),
                t.kind.to_string(),
                output::money(t.value.amount_minor, &t.value.currency),
                t.provider.clone().unwrap_or_default(),
                t.receiver.clone().unwrap_or_default(),
                t.description.clone().unwrap_or_default(),
            ]
        })
        .collect::<Vec<_>>();
    output::table(
        &[
            "DATE",
            "KIND",
            "VALUE",
            "PROVIDER",
            "RECEIVER",
            "DESCRIPTION",
        ],
        &transactions,
    );
    println!("\nmilestones:");
    let late: Vec<Uuid> = view
        .late_milestones
        .iter()
        .map(|m| m.milestone_id)
        .collect();
    let milestones = p
        .milestones
        .iter()
        .map(|m| {
            vec![
                m.milestone_id.to_string(),
                m.due.to_string(),
                date(m.done_on),
                if late.contains(&m.milestone_id) {
                    "late".to_owned()
                } else {
                    String::new()
                },
                m.title.clone(),
            ]
        })
        .collect::<Vec<_>>();
    output::table(&["ID", "DUE", "DONE", "LATE", "TITLE"], &milestones);
    println!("\nresults:");
    let mut indicators = Vec::new();
    for r in &p.results {
        for i in &r.indicators {
            let d = &i.def;
            let latest = i
                .actuals
                .last()
                .map(|a| format!("{} on {}", a.value, a.on))
                .unwrap_or_default();
            indicators.push(vec![
                r.result_id.to_string(),
                d.indicator_id.to_string(),
                d.baseline.map(|b| b.to_string()).unwrap_or_default(),
                d.target.to_string(),
                latest,
                format!("{} / {}", r.title, d.title),
            ]);
        }
    }
    output::table(
        &[
            "RESULT",
            "INDICATOR",
            "BASELINE",
            "TARGET",
            "ACTUAL",
            "TITLE",
        ],
        &indicators,
    );
    if !p.documents.is_empty() {
        println!("\ndocuments:");
        let documents = p
            .documents
            .iter()
            .map(|d| vec![d.category.clone(), d.title.clone(), d.url.clone()])
            .collect::<Vec<_>>();
        output::table(&["CATEGORY", "TITLE", "URL"], &documents);
    }
}

#[derive(Debug, Subcommand)]
pub enum ProgressCmd {
    /// Draft a progress report on a project (status draft).
    Draft {
        /// The project reported on.
        #[arg(long)]
        project: Uuid,
        /// First day of the period (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        from: Date,
        /// Last day of the period (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        to: Date,
        /// What happened, in words.
        #[arg(long)]
        narrative: String,
        /// RESULT:INDICATOR:VALUE (repeatable): an indicator's actual for the period.
        #[arg(long = "actual", value_parser = actual_arg)]
        actuals: Vec<ReportedActual>,
        /// The day it was drafted (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id to use (default: the server mints one and says which).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Change the narrative or actuals of a draft or returned report (back to draft).
    Revise {
        /// The report's id.
        id: Uuid,
        /// A new narrative.
        #[arg(long)]
        narrative: Option<String>,
        /// RESULT:INDICATOR:VALUE (repeatable); replaces the actuals.
        #[arg(long = "actual", value_parser = actual_arg)]
        actuals: Vec<ReportedActual>,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// draft -> submitted.
    Submit(MoveArgs),
    /// submitted -> validated (coordinators).
    Validate(MoveArgs),
    /// submitted -> returned (coordinators; the reason says what to fix).
    Return(EndingArgs),
    /// List progress reports.
    List {
        /// Only those on this project.
        #[arg(long)]
        project: Option<Uuid>,
        /// Only this status: draft, submitted, validated or returned.
        #[arg(long)]
        status: Option<String>,
    },
}

/// "RESULT:INDICATOR:VALUE" -> a reported actual.
fn actual_arg(spec: &str) -> Result<ReportedActual, String> {
    let bad = || format!("{spec:?} is not RESULT:INDICATOR:VALUE");
    let parts: Vec<&str> = spec.split(':').collect();
    let [result, indicator, value] = parts.as_slice() else {
        return Err(bad());
    };
    Ok(ReportedActual {
        result_id: result.trim().parse().map_err(|_| bad())?,
        indicator_id: indicator.trim().parse().map_err(|_| bad())?,
        value: value.trim().parse().map_err(|_| bad())?,
    })
}

const PROGRESS_FLAGS: Flags = Flags(&[
    ("project_id", "--project"),
    ("period_start", "--from"),
    ("period_end", "--to"),
    ("narrative", "--narrative"),
    ("actuals", "--actual"),
]);

pub async fn progress(client: &Client, cmd: ProgressCmd) -> anyhow::Result<()> {
    let (verb, id, body): (Verb, Option<Uuid>, Value) = match cmd {
        ProgressCmd::Draft {
            project,
            from,
            to,
            narrative,
            actuals,
            on,
            id,
        } => (
            Verb::ProgressReportDraft,
            None,
            serde_json::to_value(progress::Draft {
                id,
                project_id: project,
                period_start: from,
                period_end: to,
                narrative,
                actuals,
                on,
            })?,
        ),
        ProgressCmd::Revise {
            id,
            narrative,
            actuals,
            on,
        } => (
            Verb::ProgressReportRevise,
            Some(id),
            serde_json::to_value(progress::Revise {
                narrative,
                actuals: (!actuals.is_empty()).then_some(actuals),
                on,
            })?,
        ),
        ProgressCmd::Submit(m) => (
            Verb::ProgressReportSubmit,
            Some(m.id),
            serde_json::to_value(m.body())?,
        ),
        ProgressCmd::Validate(m) => (
            Verb::ProgressReportValidate,
            Some(m.id),
            serde_json::to_value(m.body())?,
        ),
        ProgressCmd::Return(e) => (
            Verb::ProgressReportReturn,
            Some(e.id),
            serde_json::to_value(e.body())?,
        ),
        ProgressCmd::List { project, status } => {
            let params = views::ProgressList {
                project_id: project,
                status,
                ..Default::default()
            };
            let items: Vec<ProgressReportState> = client
                .list(
                    View::ProgressReportList,
                    &params,
                    Flags(&[("project_id", "--project"), ("status", "--status")]),
                )
                .await?;
            if client.json {
                output::list(true, &items, &[]);
                return Ok(());
            }
            let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.project_id.to_string(),
                        date(r.period_start),
                        date(r.period_end),
                        r.status.map(|s| s.to_string()).unwrap_or_default(),
                        date(r.submitted_on),
                        date(r.validated_on),
                        r.actuals.len().to_string(),
                        r.narrative.clone(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "ID",
                    "PROJECT",
                    "FROM",
                    "TO",
                    "STATUS",
                    "SUBMITTED",
                    "VALIDATED",
                    "ACTUALS",
                    "NARRATIVE",
                ],
                &rows,
            );
            return Ok(());
        }
    };
    let id = id.map(|id| id.to_string());
    let reply: CommandReply = client
        .command(verb, id.as_deref(), &body, PROGRESS_FLAGS)
        .await?;
    output::reply(client.json, &reply, &[]);
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum RatesCmd {
    /// Record exchange rates as of a day (units of each currency one US dollar buys).
    Record {
        /// The day the rates hold for (YYYY-MM-DD; default: today). A table may be recorded
        /// late for an earlier day; a day already recorded never changes.
        #[arg(long = "on", value_name = "DAY")]
        on: Option<Date>,
        /// CUR=RATE per US dollar (repeatable), e.g. EUR=0.9215.
        #[arg(long = "rate", required = true, value_parser = rate_arg)]
        rates: Vec<Rate>,
    },
    /// The recorded rates, by date.
    Show,
}

/// "EUR=0.9215" -> EUR at 1843/2000 per US dollar.
pub fn rate_arg(spec: &str) -> Result<Rate, String> {
    let Some((currency, rate)) = spec.split_once('=') else {
        return Err(format!("{spec:?} is not CUR=RATE (e.g. EUR=0.9215)"));
    };
    let per_usd = Ratio::parse_decimal("rate", rate.trim()).map_err(|e| e.to_string())?;
    Ok(Rate {
        currency: currency.trim().to_ascii_uppercase(),
        per_usd,
    })
}

/// A ratio as a decimal, exact up to 10 places: 1843/2000 -> "0.9215".
fn decimal(r: &Ratio) -> String {
    let (n, d) = (r.numerator, r.denominator);
    if d <= 0 {
        return format!("{n}/{d}");
    }
    let sign = if n < 0 { "-" } else { "" };
    let (n, d) = (i128::from(n).abs(), i128::from(d));
    let mut out = format!("{sign}{}", n / d);
    let mut rem = n % d;
    if rem != 0 {
        out.push('.');
        for _ in 0..10 {
            rem *= 10;
            out.push_str(&(rem / d).to_string());
            rem %= d;
            if rem == 0 {
                break;
            }
        }
    }
    out
}

pub async fn rates(client: &Client, cmd: RatesCmd) -> anyhow::Result<()> {
    match cmd {
        RatesCmd::Record { on, rates } => {
            let reply: CommandReply = client
                .command(
                    Verb::RateTableRecord,
                    None,
                    &rates::Record {
                        id: None,
                        on,
                        rates,
                    },
                    Flags(&[("rates", "--rate")]),
                )
                .await?;
            output::reply(client.json, &reply, &[]);
        }
        RatesCmd::Show => {
            let tables: Vec<RateTableState> = client.show(View::RateTableShow, None).await?;
            if client.json {
                output::list(true, &tables, &[]);
                return Ok(());
            }
            let mut rows = Vec::new();
            for table in &tables {
                for (as_of, rates) in &table.tables {
                    for rate in rates {
                        rows.push(vec![
                            as_of.to_string(),
                            rate.currency.clone(),
                            decimal(&rate.per_usd),
                        ]);
                    }
                }
            }
            output::table(&["AS OF", "CURRENCY", "PER USD"], &rows);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_parse_from_the_right() {
        let d = indicator_arg("Officers trained: border:unit:0:150").unwrap();
        assert_eq!(d.title, "Officers trained: border");
        assert_eq!(d.measure, "1");
        assert_eq!(d.baseline, Some(0));
        assert_eq!(d.target, 150);
        assert_eq!(indicator_arg("Plan adopted:5::1").unwrap().baseline, None);
        assert!(indicator_arg("no target").is_err());
        assert!(indicator_arg("x:1:a:2").is_err());
    }

    #[test]
    fn statuses_take_codes_or_names() {
        assert_eq!(
            activity_status("implementation"),
            Ok(ActivityStatus::Implementation)
        );
        assert_eq!(activity_status("2"), Ok(ActivityStatus::Implementation));
        assert_eq!(activity_status("Closed"), Ok(ActivityStatus::Closed));
        assert!(activity_status("9").is_err());
        assert_eq!(status_label(Some(ActivityStatus::Suspended)), "6 suspended");
    }

    #[test]
    fn rates_parse_exactly_and_print_back() {
        let r = rate_arg("eur=0.9215").unwrap();
        assert_eq!(r.currency, "EUR");
        assert_eq!(decimal(&r.per_usd), "0.9215");
        assert_eq!(
            decimal(&Ratio {
                numerator: 259,
                denominator: 2
            }),
            "129.5"
        );
        assert!(rate_arg("EUR").is_err());
        assert!(rate_arg("EUR=abc").is_err());
    }

    #[test]
    fn actuals_parse() {
        let id = Uuid::now_v7();
        assert_eq!(actual_arg(&format!("{id}:{id}:50")).unwrap().value, 50);
        assert!(actual_arg("a:b:c").is_err());
    }
}
