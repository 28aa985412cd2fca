//! The assessments service's resources: assessments with their clocks, recommendations,
//! technical-assistance needs (with their coverage) and a State's sharing grants.

use clap::{Args, Subcommand};
use jiff::civil::Date;
use tatrack_contract::CommandReply;
use tatrack_contract::answers::{AssessmentView, GrantView, NeedDetail, NeedHistory};
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::commands::{assessment, need, recommendation, sharing};
use tatrack_contract::views;
use tatrack_domain::assessment::{AssessmentKind, Classification};
use tatrack_domain::need::{Modality, NeedState};
use tatrack_domain::recommendation::{RecommendationState, RecommendationStatus, StatusSource};
use tatrack_domain::sharing::{Audience, Scope};
use uuid::Uuid;

use super::args::{self, DatedArgs, EndingArgs, MoveArgs};
use super::{Client, Flags, output};

#[derive(Debug, Subcommand)]
pub enum AssessmentCmd {
    /// Plan an assessment (status planned).
    Plan {
        /// Member State, ISO 3166-1 alpha-2 (e.g. KE).
        #[arg(long, value_parser = args::country)]
        country: String,
        /// What kind of assessment it is.
        #[arg(long, value_parser = args::one_of(AssessmentKind::ALL))]
        kind: AssessmentKind,
        /// Security Council resolutions covered, comma-separated (e.g. 1373,2178).
        #[arg(long, value_delimiter = ',', required = true)]
        resolutions: Vec<u32>,
        /// Its title.
        #[arg(long)]
        title: String,
        /// First day of the visit (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        start: Date,
        /// Last day of the visit (YYYY-MM-DD).
        #[arg(long, value_name = "DAY")]
        end: Date,
        /// Who may read the report.
        #[arg(long, value_parser = args::one_of(Classification::ALL), default_value = "restricted")]
        classification: Classification,
        /// The day it was planned (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id to use (default: the server mints one and says which).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// planned -> conducted.
    Conduct(MoveArgs),
    /// conducted -> draft_sent_to_state (starts the State's 30 days for observations).
    SendDraft(MoveArgs),
    /// The State's factual observations on the draft were received.
    Observations(DatedArgs),
    /// draft_sent_to_state -> adopted (starts the State's 6 months to respond).
    Adopt(MoveArgs),
    /// adopted -> response_received.
    Respond(MoveArgs),
    /// response_received -> closed.
    Close(MoveArgs),
    /// planned -> cancelled.
    Cancel(MoveArgs),
    /// List assessments with their two clocks.
    List {
        /// Only this Member State (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// Only this status (planned, conducted, draft_sent_to_state, adopted,
        /// response_received, closed, cancelled).
        #[arg(long)]
        status: Option<String>,
    },
    /// One assessment with its clocks.
    Show {
        /// The assessment's id.
        id: Uuid,
    },
}

const PLAN_FLAGS: Flags = Flags(&[
    ("member_state", "--country"),
    ("kind", "--kind"),
    ("resolutions", "--resolutions"),
    ("title", "--title"),
    ("visit_start", "--start"),
    ("visit_end", "--end"),
    ("classification", "--classification"),
]);

const LIST_FLAGS: Flags = Flags(&[
    ("member_state", "--country"),
    ("status", "--status"),
    ("theme", "--theme"),
    ("region", "--region"),
    ("priority", "--priority"),
    ("consent", "--consent"),
    ("text", "--text"),
    ("assessment_id", "--assessment"),
]);

pub async fn assessment(client: &Client, cmd: AssessmentCmd) -> anyhow::Result<()> {
    let (verb, m) = match cmd {
        AssessmentCmd::Plan {
            country,
            kind,
            resolutions,
            title,
            start,
            end,
            classification,
            on,
            id,
        } => {
            let body = assessment::Plan {
                id,
                member_state: country,
                kind,
                resolutions,
                title,
                visit_start: start,
                visit_end: end,
                classification,
                on,
            };
            let reply = client
                .command(Verb::AssessmentPlan, None, &body, PLAN_FLAGS)
                .await?;
            output::reply(client.json, &reply, &[]);
            return Ok(());
        }
        AssessmentCmd::Observations(d) => {
            let reply: CommandReply = client
                .command_on(Verb::AssessmentRecordObservations, &d)
                .await?;
            output::reply(client.json, &reply, &[]);
            return Ok(());
        }
        AssessmentCmd::Conduct(m) => (Verb::AssessmentMarkConducted, m),
        AssessmentCmd::SendDraft(m) => (Verb::AssessmentSendDraft, m),
        AssessmentCmd::Adopt(m) => (Verb::AssessmentAdopt, m),
        AssessmentCmd::Respond(m) => (Verb::AssessmentRecordResponse, m),
        AssessmentCmd::Close(m) => (Verb::AssessmentClose, m),
        AssessmentCmd::Cancel(m) => (Verb::AssessmentCancel, m),
        AssessmentCmd::List { country, status } => {
            let params = views::AssessmentList {
                member_state: country,
                status,
                ..Default::default()
            };
            return client
                .print_list::<AssessmentView, _>(
                    View::AssessmentList,
                    &params,
                    LIST_FLAGS,
                    &[
                        ("ID", "/id"),
                        ("STATE", "/member_state"),
                        ("KIND", "/kind"),
                        ("STATUS", "/status"),
                        ("TITLE", "/title"),
                        ("OBS DUE", "/clocks/observations_due"),
                        ("OBS LATE", "/clocks/observations_overdue"),
                        ("RESPONSE DUE", "/clocks/response_due"),
                        ("RESP LATE", "/clocks/response_overdue"),
                    ],
                )
                .await;
        }
        AssessmentCmd::Show { id } => {
            return client
                .print_one::<AssessmentView>(View::AssessmentShow, Some(&id.to_string()))
                .await;
        }
    };
    let reply: CommandReply = client.command_on(verb, &m).await?;
    output::reply(client.json, &reply, &[]);
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum RecommendationCmd {
    /// Record a recommendation of an adopted assessment.
    Record {
        /// The assessment it comes from.
        #[arg(long)]
        assessment: Uuid,
        /// Thematic area code (e.g. BOR; see the themes list in shared/domain/data).
        #[arg(long)]
        theme: String,
        /// 1 (high) to 3 (low).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
        priority: u8,
        /// The recommendation's text (confidential: donors and auditors do not read it).
        #[arg(long)]
        text: String,
        /// The day it was recorded (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id to use (default: the server mints one and says which).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Move its implementation status.
    Status {
        /// The recommendation's id.
        id: Uuid,
        /// The new status.
        #[arg(long, value_parser = args::one_of(RecommendationStatus::ALL))]
        to: RecommendationStatus,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Where the news comes from.
        #[arg(long, value_parser = args::one_of(StatusSource::ALL), default_value = "coordinator")]
        source: StatusSource,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// List recommendations (their text only for those who may read it).
    List {
        /// Only those of this assessment.
        #[arg(long)]
        assessment: Option<Uuid>,
        /// Only this Member State (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// Only this theme code.
        #[arg(long)]
        theme: Option<String>,
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
    },
}

pub async fn recommendation(client: &Client, cmd: RecommendationCmd) -> anyhow::Result<()> {
    let reply: CommandReply = match cmd {
        RecommendationCmd::Record {
            assessment,
            theme,
            priority,
            text,
            on,
            id,
        } => {
            // The service takes the State from the assessment.
            let body = recommendation::Record {
                id,
                assessment_id: assessment,
                member_state: String::new(),
                theme,
                text,
                priority,
                on,
            };
            client
                .command(
                    Verb::RecommendationRecord,
                    None,
                    &body,
                    Flags(&[
                        ("assessment_id", "--assessment"),
                        ("theme", "--theme"),
                        ("priority", "--priority"),
                        ("text", "--text"),
                    ]),
                )
                .await?
        }
        RecommendationCmd::Status {
            id,
            to,
            on,
            source,
            reason,
        } => {
            let body = recommendation::UpdateStatus {
                to,
                on,
                source,
                reason,
            };
            client
                .command(
                    Verb::RecommendationUpdateStatus,
                    Some(&id.to_string()),
                    &body,
                    Flags(&[("to", "--to"), ("source", "--source")]),
                )
                .await?
        }
        RecommendationCmd::List {
            assessment,
            country,
            theme,
            status,
        } => {
            let params = views::RecommendationList {
                assessment_id: assessment,
                member_state: country,
                theme,
                status,
                ..Default::default()
            };
            return client
                .print_list::<RecommendationState, _>(
                    View::RecommendationList,
                    &params,
                    LIST_FLAGS,
                    &[
                        ("ID", "/id"),
                        ("STATE", "/member_state"),
                        ("THEME", "/theme"),
                        ("PRIO", "/priority"),
                        ("STATUS", "/status"),
                        ("TEXT", "/text"),
                    ],
                )
                .await;
        }
    };
    output::reply(client.json, &reply, &[]);
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum NeedCmd {
    /// Identify a technical-assistance need (status identified).
    Identify(Box<IdentifyNeed>),
    /// The State agrees the need is a priority (identified -> agreed_with_state).
    Agree(MoveArgs),
    /// Change a need's description, beneficiary, cost, size or priority.
    Amend(Box<AmendNeed>),
    /// Withdraw the need (a reason is required).
    Withdraw(EndingArgs),
    /// The State declines the need (a reason is required).
    Decline(EndingArgs),
    /// The need is met (covered -> met).
    Met(MoveArgs),
    /// List the needs you may see, highest priority first, with their coverage.
    List(NeedFilters),
    /// The needs not yet met nor fully covered, with what they still lack.
    Unmet(NeedFilters),
    /// One need with its coverage, referrals and projects.
    Show {
        /// The need's id.
        id: Uuid,
    },
    /// A need's audit trail: the events of the need, its recommendations, referrals and
    /// projects, by business date (kind, who and when; no contents).
    History {
        /// The need's id.
        id: Uuid,
    },
}

#[derive(Debug, Args)]
pub struct NeedFilters {
    /// Only this Member State (ISO 3166-1 alpha-2).
    #[arg(long, value_parser = args::country)]
    country: Option<String>,
    /// Only this theme code (e.g. BOR).
    #[arg(long)]
    theme: Option<String>,
    /// Only this status (identified, agreed_with_state, partially_covered, covered, met,
    /// withdrawn, declined).
    #[arg(long)]
    status: Option<String>,
    /// Only this priority, 1 (high) to 3 (low).
    #[arg(long)]
    priority: Option<u8>,
    /// Only the countries of this DAC region (e.g. 1027, Eastern Africa).
    #[arg(long)]
    region: Option<String>,
    /// shared, not_shared, or an organisation's code (the needs shared with it); not for donors.
    #[arg(long)]
    consent: Option<String>,
    /// Words that must all appear in the description or the beneficiary.
    #[arg(long)]
    text: Option<String>,
}

impl NeedFilters {
    fn params(self) -> views::NeedList {
        views::NeedList {
            member_state: self.country,
            region: self.region,
            theme: self.theme,
            status: self.status,
            priority: self.priority,
            consent: self.consent,
            text: self.text,
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct IdentifyNeed {
    /// Member State, ISO 3166-1 alpha-2 (e.g. GH).
    #[arg(long, value_parser = args::country)]
    pub country: String,
    /// Thematic area code (e.g. STP).
    #[arg(long)]
    pub theme: String,
    /// The kind of help wanted.
    #[arg(long, value_parser = args::one_of(Modality::ALL))]
    pub modality: Modality,
    /// What is needed.
    #[arg(long)]
    pub description: String,
    /// The institution that would receive the help.
    #[arg(long)]
    pub beneficiary: String,
    /// 1 (high) to 3 (low).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub priority: u8,
    /// Estimated cost in major units (e.g. 250000 or 1234.50); needs --currency.
    #[arg(long, value_parser = args::amount, requires = "currency", value_name = "AMOUNT")]
    pub cost: Option<i64>,
    /// ISO 4217 currency of --cost (e.g. USD).
    #[arg(long, value_parser = args::currency, requires = "cost")]
    pub currency: Option<String>,
    /// Size in units (e.g. 200); needs --measure.
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    /// What the units count (e.g. "officers trained").
    #[arg(long, requires = "units")]
    pub measure: Option<String>,
    /// A recommendation it serves (repeatable).
    #[arg(long = "recommendation", value_name = "ID")]
    pub recommendations: Vec<Uuid>,
    /// The day it was identified (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
    /// Id to use (default: the server mints one and says which).
    #[arg(long)]
    pub id: Option<Uuid>,
}

#[derive(Debug, Args)]
pub struct AmendNeed {
    /// The need's id.
    pub id: Uuid,
    /// A new description.
    #[arg(long)]
    pub description: Option<String>,
    /// A new beneficiary institution.
    #[arg(long)]
    pub beneficiary: Option<String>,
    /// A new estimated cost in major units; needs --currency.
    #[arg(long, value_parser = args::amount, requires = "currency", value_name = "AMOUNT")]
    pub cost: Option<i64>,
    /// ISO 4217 currency of --cost.
    #[arg(long, value_parser = args::currency, requires = "cost")]
    pub currency: Option<String>,
    /// A new size in units; needs --measure.
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    /// What the units count.
    #[arg(long, requires = "units")]
    pub measure: Option<String>,
    /// A new priority, 1 (high) to 3 (low).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub priority: Option<u8>,
    /// The day it happened (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
}

const NEED_FLAGS: Flags = Flags(&[
    ("member_state", "--country"),
    ("theme", "--theme"),
    ("modality", "--modality"),
    ("description", "--description"),
    ("beneficiary_institution", "--beneficiary"),
    ("priority", "--priority"),
    ("estimated_cost.currency", "--currency"),
    ("estimated_cost", "--cost"),
    ("size.measure", "--measure"),
    ("size", "--units"),
    ("recommendation_ids", "--recommendation"),
]);

pub fn identify_body(n: &IdentifyNeed) -> need::Identify {
    need::Identify {
        id: n.id,
        member_state: n.country.clone(),
        recommendation_ids: n.recommendations.clone(),
        theme: n.theme.clone(),
        modality: n.modality,
        description: n.description.clone(),
        beneficiary_institution: n.beneficiary.clone(),
        estimated_cost: args::money(n.cost, n.currency.as_ref()),
        size: args::units(n.units, n.measure.as_ref()),
        priority: n.priority,
        on: n.on,
    }
}

pub async fn need(client: &Client, cmd: NeedCmd) -> anyhow::Result<()> {
    let reply: CommandReply = match cmd {
        NeedCmd::Identify(n) => {
            client
                .command(Verb::NeedIdentify, None, &identify_body(&n), NEED_FLAGS)
                .await?
        }
        NeedCmd::Agree(m) => client.command_on(Verb::NeedAgreeWithState, &m).await?,
        NeedCmd::Amend(a) => {
            let body = need::Amend {
                description: a.description,
                beneficiary_institution: a.beneficiary,
                estimated_cost: args::money(a.cost, a.currency.as_ref()),
                size: args::units(a.units, a.measure.as_ref()),
                priority: a.priority,
                on: a.on,
            };
            client
                .command(Verb::NeedAmend, Some(&a.id.to_string()), &body, NEED_FLAGS)
                .await?
        }
        NeedCmd::Withdraw(e) => client.command_on(Verb::NeedWithdraw, &e).await?,
        NeedCmd::Decline(e) => client.command_on(Verb::NeedDecline, &e).await?,
        NeedCmd::Met(m) => client.command_on(Verb::NeedMarkMet, &m).await?,
        NeedCmd::List(filters) => {
            let needs: Vec<NeedState> = client
                .list(View::NeedList, &filters.params(), LIST_FLAGS)
                .await?;
            print_needs(client.json, &needs);
            return Ok(());
        }
        NeedCmd::Unmet(filters) => {
            let needs: Vec<NeedState> = client
                .list(View::UnmetNeedList, &filters.params(), LIST_FLAGS)
                .await?;
            print_needs(client.json, &needs);
            return Ok(());
        }
        NeedCmd::Show { id } => {
            let detail: NeedDetail = client.show(View::NeedShow, Some(&id.to_string())).await?;
            print_need(client.json, &detail);
            return Ok(());
        }
        NeedCmd::History { id } => {
            let history: NeedHistory = client
                .show(View::NeedHistory, Some(&id.to_string()))
                .await?;
            if client.json {
                output::one(true, &history);
            } else {
                output::list(
                    false,
                    &history.entries,
                    &[
                        ("ON", "/on"),
                        ("RECORDED", "/recorded_at"),
                        ("KIND", "/kind"),
                        ("BY", "/principal"),
                        ("STREAM", "/stream"),
                    ],
                );
            }
            return Ok(());
        }
    };
    output::reply(client.json, &reply, &[]);
    Ok(())
}

/// `covered of estimated` with the share: `250000.00 of 450000.00 USD (55%)`; the covered
/// amount alone when nothing is estimated; nothing when neither is known.
fn coverage(covered: Option<i64>, estimated: Option<(i64, &str)>, currency: &str) -> String {
    let percent = |covered: i64, total: i64| {
        if total > 0 {
            format!(" ({}%)", i128::from(covered) * 100 / i128::from(total))
        } else {
            String::new()
        }
    };
    match (covered, estimated) {
        (covered, Some((total, unit))) => {
            let covered = covered.unwrap_or(0);
            if currency.is_empty() {
                format!("{covered}/{total}{unit}{}", percent(covered, total))
            } else {
                let amount = |minor: i64| {
                    output::money(minor, currency)
                        .trim_end_matches(currency)
                        .trim_end()
                        .to_owned()
                };
                format!(
                    "{} of {} {currency}{}",
                    amount(covered),
                    amount(total),
                    percent(covered, total)
                )
            }
        }
        (Some(covered), None) if currency.is_empty() => covered.to_string(),
        (Some(covered), None) => output::money(covered, currency),
        (None, None) => String::new(),
    }
}

/// A need's money coverage against its estimate.
fn money_coverage(n: &NeedState) -> String {
    let currency = n
        .estimated_cost
        .as_ref()
        .map(|m| m.currency.as_str())
        .or(n.covered_money.as_ref().map(|m| m.currency.as_str()))
        .unwrap_or_default();
    coverage(
        n.covered_money.as_ref().map(|m| m.amount_minor),
        n.estimated_cost
            .as_ref()
            .map(|m| (m.amount_minor, m.currency.as_str())),
        currency,
    )
}

/// A need's units coverage against its size: `150/200 (75%)`.
fn units_coverage(n: &NeedState) -> String {
    let covered = n.covered_units.and_then(|u| i64::try_from(u).ok());
    let size = n
        .size
        .as_ref()
        .and_then(|s| Some((i64::try_from(s.quantity).ok()?, "")));
    coverage(covered, size, "")
}

/// Needs as a table with their coverage (money and units covered against the estimate).
pub fn print_needs(json: bool, needs: &[NeedState]) {
    if json {
        output::list(json, needs, &[]);
        return;
    }
    let rows: Vec<Vec<String>> = needs
        .iter()
        .map(|n| {
            vec![
                n.id.to_string(),
                n.member_state.clone(),
                n.theme.clone(),
                n.modality.map(|m| m.to_string()).unwrap_or_default(),
                n.priority.to_string(),
                n.status.map(|s| s.to_string()).unwrap_or_default(),
                money_coverage(n),
                units_coverage(n),
                n.beneficiary_institution.clone(),
            ]
        })
        .collect();
    output::table(
        &[
            "ID",
            "STATE",
            "THEME",
            "MODALITY",
            "PRIO",
            "STATUS",
            "COVERED (MONEY)",
            "COVERED (UNITS)",
            "BENEFICIARY",
        ],
        &rows,
    );
}

fn print_need(json: bool, detail: &NeedDetail) {
    if json {
        output::one(json, detail);
        return;
    }
    output::one(false, &detail.need);
    println!(
        "coverage: {}{}",
        money_coverage(&detail.need),
        match units_coverage(&detail.need) {
            units if units.is_empty() => String::new(),
            units => format!(
                "; {units} {}",
                detail
                    .need
                    .size
                    .as_ref()
                    .map(|s| s.measure.as_str())
                    .unwrap_or_default()
            ),
        }
    );
    if !detail.referrals.is_empty() {
        println!("\nreferrals:");
        output::list(
            false,
            &detail.referrals,
            &[
                ("ID", "/id"),
                ("ORGANISATION", "/organisation"),
                ("STATUS", "/status"),
                ("MONEY", "/share_money"),
                ("UNITS", "/share_units"),
                ("OFFER", "/offer_id"),
            ],
        );
    }
    if !detail.projects.is_empty() {
        println!("\nprojects:");
        output::list(
            false,
            &detail.projects,
            &[
                ("ID", "/id"),
                ("IATI ID", "/iati_identifier"),
                ("STATUS", "/status"),
                ("TITLE", "/title"),
            ],
        );
    }
}

#[derive(Debug, Subcommand)]
pub enum SharingCmd {
    /// A State shares one need, all its needs, or an assessment report.
    Grant {
        /// The State sharing (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: String,
        /// Share this need.
        #[arg(long, group = "scope")]
        need: Option<Uuid>,
        /// Share every need of the country, present and future.
        #[arg(long, group = "scope")]
        all_needs: bool,
        /// Share this assessment's report.
        #[arg(long, group = "scope")]
        assessment: Option<Uuid>,
        /// An organisation that may see it (repeatable).
        #[arg(
            long = "org",
            value_name = "ORG",
            required_unless_present = "all_donors"
        )]
        orgs: Vec<String>,
        /// Every donor may see it.
        #[arg(long, conflicts_with = "orgs")]
        all_donors: bool,
        /// Last day it may be seen (YYYY-MM-DD; default: until revoked).
        #[arg(long, value_name = "DAY")]
        until: Option<Date>,
        /// The day it was granted (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Id to use (default: the server mints one and says which).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Revoke a grant; says who keeps seeing its needs through running work.
    Revoke(MoveArgs),
    /// List a State's grants.
    List {
        /// Only this State's (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
    },
}

pub async fn sharing(client: &Client, cmd: SharingCmd) -> anyhow::Result<()> {
    match cmd {
        SharingCmd::Grant {
            country,
            need,
            all_needs,
            assessment,
            orgs,
            all_donors,
            until,
            on,
            id,
        } => {
            let scope = match (need, all_needs, assessment) {
                (Some(need_id), _, _) => Scope::Need { need_id },
                (_, true, _) => Scope::AllNeeds,
                (_, _, Some(assessment_id)) => Scope::AssessmentReport { assessment_id },
                _ => {
                    return Err(super::Error::invalid(
                        "--need",
                        "say what to share: --need ID, --all-needs or --assessment ID",
                    )
                    .into());
                }
            };
            let audience = if all_donors {
                Audience::AllDonors
            } else {
                Audience::Organisations { ids: orgs }
            };
            let body = sharing::Grant {
                id,
                member_state: country,
                scope,
                audience,
                until,
                on,
            };
            let reply: CommandReply = client
                .command(
                    Verb::SharingGrantGrant,
                    None,
                    &body,
                    Flags(&[
                        ("member_state", "--country"),
                        ("scope", "--need"),
                        ("audience", "--org"),
                        ("until", "--until"),
                    ]),
                )
                .await?;
            output::reply(client.json, &reply, &[]);
        }
        SharingCmd::Revoke(m) => {
            let revoked: sharing::Revoked = client.command_on(Verb::SharingGrantRevoke, &m).await?;
            if client.json {
                output::one(true, &revoked);
                return Ok(());
            }
            output::reply(false, &revoked.reply, &[]);
            match &revoked.keeps_access {
                Some(sharing::KeepsAccess::Known(kept)) if !kept.is_empty() => {
                    println!("still seen through running work:");
                    output::list(
                        false,
                        kept,
                        &[
                            ("NEED", "/need_id"),
                            ("ORGANISATION", "/organisation"),
                            ("BECAUSE", "/because"),
                        ],
                    );
                }
                Some(sharing::KeepsAccess::Unknown { .. }) => {
                    println!("who keeps access through running work cannot be told yet");
                }
                _ => {}
            }
        }
        SharingCmd::List { country } => {
            let params = views::GrantList {
                member_state: country,
                ..Default::default()
            };
            client
                .print_list::<GrantView, _>(
                    View::SharingGrantList,
                    &params,
                    LIST_FLAGS,
                    &[
                        ("ID", "/id"),
                        ("STATE", "/member_state"),
                        ("SCOPE", "/scope"),
                        ("AUDIENCE", "/audience"),
                        ("UNTIL", "/until"),
                        ("STATUS", "/status"),
                    ],
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_reads_covered_of_estimated() {
        assert_eq!(
            coverage(Some(25_000_000), Some((45_000_000, "USD")), "USD"),
            "250000.00 of 450000.00 USD (55%)"
        );
        assert_eq!(
            coverage(None, Some((6_000_000, "USD")), "USD"),
            "0.00 of 60000.00 USD (0%)"
        );
        assert_eq!(coverage(Some(150), Some((200, "")), ""), "150/200 (75%)");
        assert_eq!(coverage(None, None, ""), "");
        assert_eq!(coverage(Some(5), None, ""), "5");
    }
}
