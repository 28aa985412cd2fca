//! Client commands for the projects service: referrals (a need matched to an offer), projects
//! shaped like IATI activities, progress reports and the exchange-rate table.

use clap::{Args, Subcommand, ValueEnum};
use jiff::civil::Date;
use serde_json::{Map, Value, json};
use tatrack_domain::rates::Ratio;
use uuid::Uuid;

use crate::cli::Settings;
use crate::client::{
    Move, connect, filters, money_arg, print_list, print_one, query, send_to_and_print, show, text,
};
use crate::table;

const SERVICE: &str = "projects";

/// Which party of a referral accepts or declines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Party {
    /// The offering organisation (act as a donor of that organisation).
    Partner,
    /// The need's State (act as its focal point).
    State,
}

impl Party {
    fn name(self) -> &'static str {
        match self {
            Party::Partner => "partner",
            Party::State => "state",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ReferralCmd {
    /// Match a need to an offer (status proposed).
    Propose {
        #[arg(long)]
        need: Uuid,
        #[arg(long)]
        offer: Uuid,
        /// The share of the need it covers, in major units; needs --currency.
        #[arg(long, requires = "currency")]
        money: Option<String>,
        /// ISO 4217 currency of --money.
        #[arg(long)]
        currency: Option<String>,
        /// The share of the need it covers, in the need's units.
        #[arg(long)]
        units: Option<u64>,
        /// The day it was proposed (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// proposed -> referred: sent to the partner.
    Refer(Move),
    /// The partner or the State accepts (act as that party with --as/--as-org/--as-country).
    Accept {
        id: Uuid,
        /// partner or state.
        #[arg(long, value_enum)]
        as_party: Party,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// The partner or the State declines (a reason is required).
    Decline {
        id: Uuid,
        #[arg(long, value_enum)]
        as_party: Party,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// accepted_by_state -> active: the work starts in (or joins) a project.
    Activate {
        id: Uuid,
        #[arg(long)]
        project: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// The referral lapses (a reason is required).
    Lapse {
        id: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// List referrals.
    List {
        #[arg(long)]
        need: Option<Uuid>,
        #[arg(long)]
        offer: Option<Uuid>,
        /// The offering organisation.
        #[arg(long)]
        org: Option<String>,
        /// The need's State.
        #[arg(long)]
        country: Option<String>,
        /// proposed, referred, accepted_by_partner, accepted_by_state, active, declined, lapsed.
        #[arg(long)]
        status: Option<String>,
    },
    /// One referral.
    Show { id: Uuid },
}

pub async fn referral(settings: &Settings, cmd: ReferralCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
        ReferralCmd::Propose {
            need,
            offer,
            money,
            currency,
            units,
            on,
            id,
        } => (
            "referral_propose".to_owned(),
            // The service takes the State from the need and the organisation from the offer.
            json!({
                "id": id, "need_id": need, "offer_id": offer, "on": on,
                "member_state": "", "organisation": "",
                "share_money": money_arg(money.as_deref(), currency.as_deref())?,
                "share_units": units,
            }),
        ),
        ReferralCmd::Refer(m) => (
            "referral_refer".to_owned(),
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        ReferralCmd::Accept {
            id,
            as_party,
            on,
            reason,
        } => (
            format!("referral_accept_by_{}", as_party.name()),
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        ReferralCmd::Decline {
            id,
            as_party,
            on,
            reason,
        } => (
            format!("referral_decline_by_{}", as_party.name()),
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        ReferralCmd::Activate {
            id,
            project,
            on,
            reason,
        } => (
            "referral_activate".to_owned(),
            json!({ "id": id, "on": on, "project_id": project, "reason": reason }),
        ),
        ReferralCmd::Lapse { id, on, reason } => (
            "referral_lapse".to_owned(),
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        ReferralCmd::List {
            need,
            offer,
            org,
            country,
            status,
        } => {
            return crate::client::list(
                settings,
                "referral_list",
                json!({ "need_id": need, "offer_id": offer, "organisation": org,
                        "member_state": country, "status": status }),
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
            print_one(
                settings,
                &show(settings, "referral_show", &id.to_string()).await?,
            );
            return Ok(());
        }
    };
    send_to_and_print(settings, SERVICE, &verb, body, &[]).await
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Create a project shaped like an IATI activity (status 1 pipeline).
    Create(Box<CreateProject>),
    /// Move its IATI ActivityStatus (1->2->3->4, {1,2,6}->5, 2<->6).
    Status {
        id: Uuid,
        /// IATI code or name: 1 pipeline, 2 implementation, 3 finalisation, 4 closed,
        /// 5 cancelled, 6 suspended.
        #[arg(long)]
        to: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Set its budget.
    Budget {
        id: Uuid,
        /// In major units (e.g. 250000 or 1234.50).
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
    },
    /// Record a transaction (disbursements may not exceed commitments, nor expenditure
    /// disbursements).
    Transaction {
        id: Uuid,
        /// commitment, disbursement, expenditure or pledge.
        #[arg(long)]
        kind: String,
        /// In major units.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
        /// The transaction date, its business date (YYYY-MM-DD; default: today). A negative
        /// --amount reverses an earlier transaction of the same kind.
        #[arg(long = "on", alias = "date")]
        on: Option<Date>,
        /// The participating organisation whose money it is.
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        receiver: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Id of the transaction (default: a new UUID v7).
        #[arg(long)]
        transaction_id: Option<Uuid>,
    },
    /// Add a milestone; prints its id.
    Milestone {
        id: Uuid,
        #[arg(long)]
        title: String,
        #[arg(long)]
        due: Date,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        /// Id of the milestone (default: a new UUID v7).
        #[arg(long)]
        milestone_id: Option<Uuid>,
    },
    /// Mark a milestone done.
    MilestoneDone {
        id: Uuid,
        #[arg(long)]
        milestone: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
    },
    /// Add a result with its indicators; prints their ids.
    Result {
        id: Uuid,
        #[arg(long)]
        title: String,
        /// "title:measure:baseline:target" (repeatable). measure is the IATI IndicatorMeasure
        /// (1 or unit, 2 percentage, 3 nominal, 4 ordinal, 5 qualitative); baseline may be
        /// empty, e.g. "Officers trained:1:0:150".
        #[arg(long = "indicator", required = true)]
        indicators: Vec<String>,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        /// Id of the result (default: a new UUID v7).
        #[arg(long)]
        result_id: Option<Uuid>,
    },
    /// Record an indicator's actual value (the indicator needs a baseline).
    Actual {
        id: Uuid,
        #[arg(long)]
        result: Uuid,
        #[arg(long)]
        indicator: Uuid,
        #[arg(long)]
        value: i64,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
    },
    /// Link a document.
    Document {
        id: Uuid,
        #[arg(long)]
        url: String,
        #[arg(long)]
        title: String,
        /// IATI DocumentCategory code, e.g. A01 or A07.
        #[arg(long)]
        category: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
    },
    /// List projects with their money.
    List {
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        /// A participating organisation.
        #[arg(long)]
        org: Option<String>,
        /// A need it serves.
        #[arg(long)]
        need: Option<Uuid>,
        /// IATI ActivityStatus code or name.
        #[arg(long)]
        status: Option<String>,
    },
    /// One project: organisations, transactions, milestones, results.
    Show { id: Uuid },
}

#[derive(Debug, Args)]
pub struct CreateProject {
    /// IATI activity identifier (e.g. GB-GOV-1-TATRACK-002).
    #[arg(long)]
    pub iati_id: String,
    #[arg(long)]
    pub title: String,
    #[arg(long, default_value = "")]
    pub description: String,
    /// Recipient country, ISO 3166-1 alpha-2.
    #[arg(long)]
    pub country: String,
    /// Thematic area code.
    #[arg(long)]
    pub theme: String,
    /// DAC 5-digit purpose code (default: the theme's nearest one).
    #[arg(long)]
    pub sector: Option<String>,
    /// Funding organisation, IATI role 1 (repeatable).
    #[arg(long = "funding", required = true)]
    pub funding: Vec<String>,
    /// Implementing organisation, IATI role 4 (repeatable).
    #[arg(long = "implementing", required = true)]
    pub implementing: Vec<String>,
    /// Extending organisation, IATI role 3 (repeatable).
    #[arg(long = "extending")]
    pub extending: Vec<String>,
    /// Accountable organisation, IATI role 2 (repeatable).
    #[arg(long = "accountable")]
    pub accountable: Vec<String>,
    /// Planned start.
    #[arg(long)]
    pub start: Date,
    /// Planned end.
    #[arg(long)]
    pub end: Date,
    /// Budget in major units; needs --currency.
    #[arg(long, requires = "currency")]
    pub budget: Option<String>,
    #[arg(long)]
    pub currency: Option<String>,
    /// A need it serves (repeatable); an activated referral adds its need too.
    #[arg(long = "need")]
    pub needs: Vec<Uuid>,
    /// The day it was created (YYYY-MM-DD; default: today).
    #[arg(long)]
    pub on: Option<Date>,
    #[arg(long)]
    pub id: Option<Uuid>,
}

const STATUSES: [(&str, &str); 6] = [
    ("1", "pipeline"),
    ("2", "implementation"),
    ("3", "finalisation"),
    ("4", "closed"),
    ("5", "cancelled"),
    ("6", "suspended"),
];

/// "2" or "implementation" -> "2".
fn status_code(s: &str) -> anyhow::Result<String> {
    let lower = s.trim().to_ascii_lowercase();
    STATUSES
        .iter()
        .find(|(code, name)| *code == lower || *name == lower)
        .map(|(code, _)| (*code).to_owned())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "invalid status: {s:?} is not an IATI ActivityStatus (1 pipeline, 2 implementation, 3 finalisation, 4 closed, 5 cancelled, 6 suspended)"
            )
        })
}

fn status_label(code: &Value) -> String {
    let code = text(code);
    match STATUSES.iter().find(|(c, _)| *c == code) {
        Some((c, name)) => format!("{c} {name}"),
        None => code,
    }
}

/// "Officers trained:1:0:150" -> an IndicatorDef with a new id.
fn indicator_arg(spec: &str) -> anyhow::Result<Value> {
    let mut parts = spec.rsplitn(4, ':');
    let (Some(target), Some(baseline), Some(measure), Some(title)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!(
            "invalid indicators: {spec:?} is not \"title:measure:baseline:target\" (e.g. \"Officers trained:1:0:150\")"
        );
    };
    let measure = match measure.trim().to_ascii_lowercase().as_str() {
        "unit" => "1".to_owned(),
        "percentage" => "2".to_owned(),
        "nominal" => "3".to_owned(),
        "ordinal" => "4".to_owned(),
        "qualitative" => "5".to_owned(),
        other => other.to_owned(),
    };
    let number = |field: &str, v: &str| -> anyhow::Result<i64> {
        v.trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid indicators.{field}: {v:?} is not a whole number"))
    };
    let baseline = if baseline.trim().is_empty() {
        Value::Null
    } else {
        json!(number("baseline", baseline)?)
    };
    Ok(json!({
        "indicator_id": Uuid::now_v7(), "title": title, "measure": measure,
        "baseline": baseline, "target": number("target", target)?,
    }))
}

/// `{"USD": 25000000}` -> "250000.00 USD" (several currencies joined by ", ").
fn totals_text(v: &Value) -> String {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(cur, minor)| text(&json!({ "amount_minor": minor, "currency": cur })))
            .collect::<Vec<_>>()
            .join(", "),
        other => text(other),
    }
}

/// For tables only: readable status and money totals next to the raw fields.
fn readable_project(item: &mut Value) {
    if let Value::Object(m) = item {
        let extra: Map<String, Value> = [
            ("_status", Value::String(status_label(&m["status"]))),
            ("_committed", Value::String(totals_text(&m["committed"]))),
            ("_disbursed", Value::String(totals_text(&m["disbursed"]))),
            ("_expended", Value::String(totals_text(&m["expended"]))),
            (
                "_late",
                Value::from(m["late_milestones"].as_array().map_or(0, Vec::len)),
            ),
            (
                "_orgs",
                Value::String(
                    m["participating"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| format!("{}({})", text(&p["organisation"]), text(&p["role"])))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        m.extend(extra);
    }
}

pub async fn project(settings: &Settings, cmd: ProjectCmd) -> anyhow::Result<()> {
    let mut extra: Vec<(&str, Value)> = Vec::new();
    let (verb, body) = match cmd {
        ProjectCmd::Create(c) => {
            let sector = match c.sector {
                Some(s) => s,
                None => tatrack_domain::codes::theme(&c.theme)
                    .map(|t| t.nearest_dac5.clone())
                    .ok_or_else(|| {
                        anyhow::anyhow!("invalid theme: unknown theme code {:?}", c.theme)
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
                    participating.push(json!({ "organisation": org, "role": role }));
                }
            }
            (
                "project_create",
                json!({
                    "id": c.id, "iati_identifier": c.iati_id, "on": c.on,
                    "title": c.title, "description": c.description, "recipient_country": c.country,
                    "theme": c.theme, "dac_sector": sector, "participating": participating,
                    "planned_start": c.start, "planned_end": c.end,
                    "budget": money_arg(c.budget.as_deref(), c.currency.as_deref())?,
                    "needs": c.needs, "referrals": [],
                }),
            )
        }
        ProjectCmd::Status { id, to, on, reason } => (
            "project_change_status",
            json!({ "id": id, "to": status_code(&to)?, "on": on, "reason": reason }),
        ),
        ProjectCmd::Budget {
            id,
            amount,
            currency,
            on,
        } => (
            "project_set_budget",
            json!({ "id": id, "budget": money_arg(Some(&amount), Some(&currency))?, "on": on }),
        ),
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
            extra.push(("transaction_id", json!(tid)));
            (
                "project_add_transaction",
                json!({
                    "id": id, "transaction_id": tid, "kind": kind,
                    "value": money_arg(Some(&amount), Some(&currency))?, "on": on,
                    "provider": provider, "receiver": receiver, "description": description,
                }),
            )
        }
        ProjectCmd::Milestone {
            id,
            title,
            due,
            on,
            milestone_id,
        } => {
            let mid = milestone_id.unwrap_or_else(Uuid::now_v7);
            extra.push(("milestone_id", json!(mid)));
            (
                "project_add_milestone",
                json!({ "id": id, "milestone_id": mid, "title": title, "due": due, "on": on }),
            )
        }
        ProjectCmd::MilestoneDone { id, milestone, on } => (
            "project_complete_milestone",
            json!({ "id": id, "milestone_id": milestone, "on": on }),
        ),
        ProjectCmd::Result {
            id,
            title,
            indicators,
            on,
            result_id,
        } => {
            let rid = result_id.unwrap_or_else(Uuid::now_v7);
            let defs = indicators
                .iter()
                .map(|s| indicator_arg(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            extra.push(("result_id", json!(rid)));
            extra.push((
                "indicator_ids",
                Value::Array(defs.iter().map(|d| d["indicator_id"].clone()).collect()),
            ));
            (
                "project_add_result",
                json!({ "id": id, "result_id": rid, "title": title, "indicators": defs, "on": on }),
            )
        }
        ProjectCmd::Actual {
            id,
            result,
            indicator,
            value,
            on,
        } => (
            "project_record_indicator_actual",
            json!({ "id": id, "result_id": result, "indicator_id": indicator, "value": value, "on": on }),
        ),
        ProjectCmd::Document {
            id,
            url,
            title,
            category,
            on,
        } => (
            "project_add_document",
            json!({ "id": id, "url": url, "title": title, "category": category, "on": on }),
        ),
        ProjectCmd::List {
            country,
            theme,
            org,
            need,
            status,
        } => {
            let status = status.as_deref().map(status_code).transpose()?;
            let client = connect(settings).await?;
            let mut items = query(
                &client,
                &settings.actor,
                "project_list",
                filters(json!({
                    "member_state": country, "theme": theme, "organisation": org,
                    "need_id": need, "status": status,
                })),
            )
            .await?;
            if !settings.json {
                if let Value::Array(list) = &mut items {
                    list.iter_mut().for_each(readable_project);
                }
            }
            print_list(
                settings,
                &items,
                &[
                    ("ID", "/id"),
                    ("IATI ID", "/iati_identifier"),
                    ("STATE", "/recipient_country"),
                    ("THEME", "/theme"),
                    ("STATUS", "/_status"),
                    ("ORGANISATIONS", "/_orgs"),
                    ("BUDGET", "/budget"),
                    ("COMMITTED", "/_committed"),
                    ("DISBURSED", "/_disbursed"),
                    ("START", "/planned_start"),
                    ("END", "/planned_end"),
                    ("LATE", "/_late"),
                    ("TITLE", "/title"),
                ],
            );
            return Ok(());
        }
        ProjectCmd::Show { id } => {
            let project = show(settings, "project_show", &id.to_string()).await?;
            if settings.json {
                println!("{project}");
            } else {
                print_project(&project);
            }
            return Ok(());
        }
    };
    send_to_and_print(settings, SERVICE, verb, body, &extra).await
}

fn print_project(p: &Value) {
    let line = |key: &str, value: String| {
        if !value.is_empty() {
            println!("{key}: {value}");
        }
    };
    for key in [
        "id",
        "iati_identifier",
        "title",
        "description",
        "recipient_country",
        "theme",
        "dac_sector",
    ] {
        line(key, text(&p[key]));
    }
    line("status", status_label(&p["status"]));
    for key in [
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "budget",
        "needs",
        "referrals",
    ] {
        line(key, text(&p[key]));
    }
    for key in ["pledged", "committed", "disbursed", "expended"] {
        line(key, totals_text(&p[key]));
    }
    let rows = |key: &str, f: &dyn Fn(&Value) -> Vec<String>| -> Vec<Vec<String>> {
        p[key].as_array().into_iter().flatten().map(f).collect()
    };
    println!("\nparticipating:");
    table::print(
        &["ORGANISATION", "ROLE"],
        &rows("participating", &|o| {
            let role = match o["role"].as_str() {
                Some("1") => "1 funding",
                Some("2") => "2 accountable",
                Some("3") => "3 extending",
                Some("4") => "4 implementing",
                _ => "",
            };
            vec![text(&o["organisation"]), role.to_owned()]
        }),
    );
    println!("\ntransactions:");
    table::print(
        &[
            "DATE",
            "KIND",
            "VALUE",
            "PROVIDER",
            "RECEIVER",
            "DESCRIPTION",
        ],
        &rows("transactions", &|t| {
            [
                "date",
                "kind",
                "value",
                "provider",
                "receiver",
                "description",
            ]
            .iter()
            .map(|k| text(&t[*k]))
            .collect()
        }),
    );
    let late: Vec<&Value> = p["late_milestones"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| &m["milestone_id"])
        .collect();
    println!("\nmilestones:");
    table::print(
        &["ID", "DUE", "DONE", "LATE", "TITLE"],
        &rows("milestones", &|m| {
            vec![
                text(&m["milestone_id"]),
                text(&m["due"]),
                text(&m["done_on"]),
                if late.contains(&&m["milestone_id"]) {
                    "late".to_owned()
                } else {
                    String::new()
                },
                text(&m["title"]),
            ]
        }),
    );
    println!("\nresults:");
    let mut indicator_rows = Vec::new();
    for r in p["results"].as_array().into_iter().flatten() {
        for i in r["indicators"].as_array().into_iter().flatten() {
            let d = &i["def"];
            let latest = i["actuals"]
                .as_array()
                .and_then(|a| a.last())
                .map(|a| format!("{} on {}", text(&a["value"]), text(&a["on"])))
                .unwrap_or_default();
            indicator_rows.push(vec![
                text(&r["result_id"]),
                text(&d["indicator_id"]),
                text(&d["baseline"]),
                text(&d["target"]),
                latest,
                format!("{} / {}", text(&r["title"]), text(&d["title"])),
            ]);
        }
    }
    table::print(
        &[
            "RESULT",
            "INDICATOR",
            "BASELINE",
            "TARGET",
            "ACTUAL",
            "TITLE",
        ],
        &indicator_rows,
    );
    if p["documents"].as_array().is_some_and(|d| !d.is_empty()) {
        println!("\ndocuments:");
        table::print(
            &["CATEGORY", "TITLE", "URL"],
            &rows("documents", &|d| {
                vec![text(&d["category"]), text(&d["title"]), text(&d["url"])]
            }),
        );
    }
}

#[derive(Debug, Subcommand)]
pub enum ProgressCmd {
    /// Draft a progress report on a project (status draft).
    Draft {
        #[arg(long)]
        project: Uuid,
        /// First day of the period.
        #[arg(long)]
        from: Date,
        /// Last day of the period.
        #[arg(long)]
        to: Date,
        #[arg(long)]
        narrative: String,
        /// RESULT:INDICATOR:VALUE (repeatable): an indicator's actual for the period.
        #[arg(long = "actual")]
        actuals: Vec<String>,
        /// The day it was drafted (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Change the narrative or actuals of a draft or returned report (back to draft).
    Revise {
        id: Uuid,
        #[arg(long)]
        narrative: Option<String>,
        /// RESULT:INDICATOR:VALUE (repeatable); replaces the actuals.
        #[arg(long = "actual")]
        actuals: Vec<String>,
    },
    /// draft -> submitted.
    Submit(Move),
    /// submitted -> validated (coordinators).
    Validate(Move),
    /// submitted -> returned (coordinators; the reason says what to fix).
    Return {
        id: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// List progress reports.
    List {
        #[arg(long)]
        project: Option<Uuid>,
        /// draft, submitted, validated or returned.
        #[arg(long)]
        status: Option<String>,
    },
}

/// "RESULT:INDICATOR:VALUE" -> a reported actual.
fn actual_arg(spec: &str) -> anyhow::Result<Value> {
    let parts: Vec<&str> = spec.split(':').collect();
    let bad = || anyhow::anyhow!("invalid actuals: {spec:?} is not RESULT:INDICATOR:VALUE");
    let [result, indicator, value] = parts.as_slice() else {
        return Err(bad());
    };
    let result: Uuid = result.trim().parse().map_err(|_| bad())?;
    let indicator: Uuid = indicator.trim().parse().map_err(|_| bad())?;
    let value: i64 = value.trim().parse().map_err(|_| bad())?;
    Ok(json!({ "result_id": result, "indicator_id": indicator, "value": value }))
}

pub async fn progress(settings: &Settings, cmd: ProgressCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
        ProgressCmd::Draft {
            project,
            from,
            to,
            narrative,
            actuals,
            on,
            id,
        } => {
            let actuals = actuals
                .iter()
                .map(|a| actual_arg(a))
                .collect::<anyhow::Result<Vec<_>>>()?;
            (
                "progress_report_draft",
                json!({
                    "id": id, "project_id": project, "on": on,
                    "period_start": from, "period_end": to, "narrative": narrative,
                    "actuals": actuals,
                }),
            )
        }
        ProgressCmd::Revise {
            id,
            narrative,
            actuals,
        } => {
            let actuals = if actuals.is_empty() {
                Value::Null
            } else {
                Value::Array(
                    actuals
                        .iter()
                        .map(|a| actual_arg(a))
                        .collect::<anyhow::Result<Vec<_>>>()?,
                )
            };
            (
                "progress_report_revise",
                json!({ "id": id, "narrative": narrative, "actuals": actuals }),
            )
        }
        ProgressCmd::Submit(m) => (
            "progress_report_submit",
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        ProgressCmd::Validate(m) => (
            "progress_report_validate",
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        ProgressCmd::Return { id, on, reason } => (
            "progress_report_return",
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        ProgressCmd::List { project, status } => {
            let client = connect(settings).await?;
            let mut items = query(
                &client,
                &settings.actor,
                "progress_report_list",
                filters(json!({ "project_id": project, "status": status })),
            )
            .await?;
            if !settings.json {
                if let Value::Array(list) = &mut items {
                    for item in list {
                        let n = item["actuals"].as_array().map_or(0, Vec::len);
                        item["_actuals"] = json!(n);
                    }
                }
            }
            print_list(
                settings,
                &items,
                &[
                    ("ID", "/id"),
                    ("PROJECT", "/project_id"),
                    ("FROM", "/period_start"),
                    ("TO", "/period_end"),
                    ("STATUS", "/status"),
                    ("SUBMITTED", "/submitted_on"),
                    ("VALIDATED", "/validated_on"),
                    ("ACTUALS", "/_actuals"),
                    ("NARRATIVE", "/narrative"),
                ],
            );
            return Ok(());
        }
    };
    send_to_and_print(settings, SERVICE, verb, body, &[]).await
}

#[derive(Debug, Subcommand)]
pub enum RatesCmd {
    /// Record exchange rates as of a date (units of each currency one US dollar buys).
    Record {
        /// The day the rates hold for (YYYY-MM-DD; default: today). A table may be recorded
        /// late for an earlier day; a day already recorded never changes.
        #[arg(long = "on")]
        on: Option<Date>,
        /// CUR=RATE per US dollar (repeatable), e.g. EUR=0.9215.
        #[arg(long = "rate", required = true)]
        rates: Vec<String>,
    },
    /// The recorded rates, by date.
    Show,
}

/// "EUR=0.9215" -> `{"currency": "EUR", "per_usd": {"numerator": 1843, "denominator": 2000}}`.
pub fn rate_arg(spec: &str) -> anyhow::Result<Value> {
    let Some((currency, rate)) = spec.split_once('=') else {
        anyhow::bail!("invalid rates: {spec:?} is not CUR=RATE (e.g. EUR=0.9215)");
    };
    let ratio = Ratio::parse_decimal("rates.per_usd", rate.trim())?;
    Ok(json!({ "currency": currency.trim().to_ascii_uppercase(), "per_usd": ratio }))
}

/// A ratio as a decimal, exact up to 10 places: 1843/2000 -> "0.9215".
fn decimal(v: &Value) -> String {
    let (Some(n), Some(d)) = (v["numerator"].as_i64(), v["denominator"].as_i64()) else {
        return text(v);
    };
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

pub async fn rates(settings: &Settings, cmd: RatesCmd) -> anyhow::Result<()> {
    match cmd {
        RatesCmd::Record { on, rates } => {
            let rates = rates
                .iter()
                .map(|r| rate_arg(r))
                .collect::<anyhow::Result<Vec<_>>>()?;
            send_to_and_print(
                settings,
                SERVICE,
                "rate_table_record",
                json!({ "id": tatrack_projects::RATE_TABLE_ID, "on": on, "rates": rates }),
                &[],
            )
            .await
        }
        RatesCmd::Show => {
            let client = connect(settings).await?;
            let tables = query(&client, &settings.actor, "rate_table_show", json!({})).await?;
            if settings.json {
                println!("{tables}");
                return Ok(());
            }
            let mut rows = Vec::new();
            for table in tables.as_array().into_iter().flatten() {
                if let Value::Object(by_date) = &table["tables"] {
                    for (as_of, rates) in by_date {
                        for rate in rates.as_array().into_iter().flatten() {
                            rows.push(vec![
                                as_of.clone(),
                                text(&rate["currency"]),
                                decimal(&rate["per_usd"]),
                            ]);
                        }
                    }
                }
            }
            table::print(&["AS OF", "CURRENCY", "PER USD"], &rows);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_parse_from_the_right() {
        let v = indicator_arg("Officers trained: border:unit:0:150").unwrap();
        assert_eq!(v["title"], "Officers trained: border");
        assert_eq!(v["measure"], "1");
        assert_eq!(v["baseline"], 0);
        assert_eq!(v["target"], 150);
        let v = indicator_arg("Plan adopted:5::1").unwrap();
        assert!(v["baseline"].is_null());
        assert!(indicator_arg("no target").is_err());
        assert!(indicator_arg("x:1:a:2").is_err());
    }

    #[test]
    fn statuses_take_codes_or_names() {
        assert_eq!(status_code("implementation").unwrap(), "2");
        assert_eq!(status_code("2").unwrap(), "2");
        assert_eq!(status_code("Closed").unwrap(), "4");
        assert!(status_code("9").is_err());
        assert_eq!(status_label(&json!("6")), "6 suspended");
    }

    #[test]
    fn rates_parse_exactly_and_print_back() {
        let r = rate_arg("eur=0.9215").unwrap();
        assert_eq!(r["currency"], "EUR");
        assert_eq!(decimal(&r["per_usd"]), "0.9215");
        assert_eq!(
            decimal(&json!({"numerator": 259, "denominator": 2})),
            "129.5"
        );
        assert!(rate_arg("EUR").is_err());
        assert!(rate_arg("EUR=abc").is_err());
    }

    #[test]
    fn actuals_parse() {
        let id = Uuid::now_v7();
        let v = actual_arg(&format!("{id}:{id}:50")).unwrap();
        assert_eq!(v["value"], 50);
        assert!(actual_arg("a:b:c").is_err());
    }
}
