//! Client commands for people and scripts: each sends one command or query over NATS and prints
//! the answer as a table (or JSON with `--json`).

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::cli::Settings;
use crate::table;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Who the CLI acts as. Until the gateway issues tokens, the CLI is a staff tool trusted by NATS
/// permissions: it asserts its principal (default: a coordinator named after the OS user).
#[derive(Debug, Clone, Args)]
pub struct Actor {
    /// Role to act as: admin, coordinator, donor, state_focal_point, auditor (default coordinator).
    #[arg(
        long = "as",
        global = true,
        env = "TATRACK_ROLE",
        default_value = "coordinator"
    )]
    pub role: Role,
    /// Organisation of a donor.
    #[arg(long = "as-org", global = true, env = "TATRACK_ORG")]
    pub organisation: Option<String>,
    /// Country (ISO 3166-1 alpha-2) of a State focal point.
    #[arg(long = "as-country", global = true, env = "TATRACK_COUNTRY")]
    pub member_state: Option<String>,
    /// Answer lists, shows, matching, reports and exports as of this business date: the state of
    /// affairs on that day, as known now (default: today).
    #[arg(long, global = true)]
    pub as_of: Option<Date>,
    /// Answer as the system knew it then (audit): a time (2026-07-01T12:00:00Z), a day (its
    /// end, UTC) or log positions as a report records them
    /// (assessments:120,partners:45,projects:300,reporter:7).
    #[arg(long, global = true)]
    pub known_at: Option<String>,
}

impl Actor {
    pub fn principal(&self) -> Principal {
        let user = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
        Principal {
            id: format!("cli:{user}"),
            role: self.role,
            organisation: self.organisation.clone(),
            member_state: self.member_state.as_deref().map(str::to_ascii_uppercase),
        }
    }

    /// A donor acts for an organisation and a focal point for a country: refuse to guess.
    pub fn check(&self) -> anyhow::Result<()> {
        match self.role {
            Role::Donor if self.organisation.is_none() => {
                anyhow::bail!("invalid --as-org: a donor acts for an organisation (--as-org ORG)")
            }
            Role::StateFocalPoint if self.member_state.is_none() => {
                anyhow::bail!(
                    "invalid --as-country: a focal point acts for a country (--as-country CC)"
                )
            }
            _ => Ok(()),
        }
    }
}

/// Connects as the gateway's NATS user: like the gateway, the CLI sends commands and queries on
/// behalf of the principal it names.
pub async fn connect(settings: &Settings) -> anyhow::Result<async_nats::Client> {
    settings.actor.check()?;
    let identity = tatrack_bus::auth::Identity::load(
        &settings.nats_credentials,
        tatrack_bus::auth::User::Gateway,
    )?;
    identity
        .connect_options("tatrack-cli")
        .connection_timeout(Duration::from_secs(3))
        .connect(&settings.nats_url)
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {} (is `tatrack up` running?)",
                settings.nats_url
            )
        })
}

/// Sends one command to `service` (`tatrack.cmd.<service>.<verb>`); returns its reply.
pub async fn command_to(
    client: &async_nats::Client,
    actor: &Actor,
    service: &str,
    verb: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let meta = RequestMeta::new(actor.principal());
    Ok(rpc::request(
        client,
        &subjects::command_subject(service, verb),
        &meta,
        &body,
        TIMEOUT,
    )
    .await?)
}

/// Asks the read model one view (as of `--as-of`, as known at `--known-at` when given).
pub async fn query(
    client: &async_nats::Client,
    actor: &Actor,
    view: &str,
    mut body: Value,
) -> anyhow::Result<Value> {
    if let Value::Object(map) = &mut body {
        if let Some(day) = actor.as_of {
            map.entry("as_of").or_insert_with(|| json!(day));
        }
        if let Some(known) = &actor.known_at {
            map.entry("known_at").or_insert_with(|| json!(known));
        }
    }
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(actor.principal())
    };
    Ok(rpc::request(
        client,
        &subjects::query_subject(view),
        &meta,
        &body,
        TIMEOUT,
    )
    .await?)
}

/// Drops `null` filters so the read model sees only what was asked.
pub(crate) fn filters(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

async fn send_and_print(settings: &Settings, verb: &str, body: Value) -> anyhow::Result<()> {
    send_to_and_print(settings, "assessments", verb, body, &[]).await
}

/// Sends one command to `service` and prints "ok: <id> (position N)", or the reply with `--json`.
/// `extra` names ids the CLI chose for parts of the aggregate (a milestone, a result...): they are
/// printed after the ok line, and added to the JSON reply.
pub(crate) async fn send_to_and_print(
    settings: &Settings,
    service: &str,
    verb: &str,
    body: Value,
    extra: &[(&str, Value)],
) -> anyhow::Result<()> {
    let client = connect(settings).await?;
    let mut reply = command_to(&client, &settings.actor, service, verb, body).await?;
    if settings.json {
        if let Value::Object(map) = &mut reply {
            for (k, v) in extra {
                map.insert((*k).to_owned(), v.clone());
            }
        }
        println!("{reply}");
    } else {
        let id = reply["id"].as_str().unwrap_or_default();
        if reply["last_position"].as_u64() == Some(0) {
            // The command changed nothing (e.g. an update to the values it already has).
            println!("unchanged: {id} (version {})", reply["stream_version"]);
        } else {
            println!(
                "{} {id} (position {})",
                if reply["idempotent"].as_bool() == Some(true) {
                    "already done:"
                } else {
                    "ok:"
                },
                reply["last_position"],
            );
        }
        for (k, v) in extra {
            println!("{k}: {}", text(v));
        }
    }
    Ok(())
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        // Money: minor units with two decimals, as `Money` assumes.
        Value::Object(m) if m.contains_key("amount_minor") && m.contains_key("currency") => {
            let minor = m["amount_minor"].as_i64().unwrap_or_default();
            format!(
                "{}.{:02} {}",
                minor / 100,
                (minor % 100).abs(),
                text(&m["currency"])
            )
        }
        Value::Object(m) if m.contains_key("type") => {
            let rest: Vec<String> = m
                .iter()
                .filter(|(k, _)| *k != "type")
                .map(|(_, v)| text(v))
                .collect();
            if rest.is_empty() {
                text(&m["type"])
            } else {
                format!("{} {}", text(&m["type"]), rest.join(" "))
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

pub(crate) fn print_list(settings: &Settings, items: &Value, columns: &[(&str, &str)]) {
    let empty = Vec::new();
    let items = items.as_array().unwrap_or(&empty);
    if settings.json {
        println!("{}", Value::Array(items.clone()));
        return;
    }
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|(_, pointer)| text(item.pointer(pointer).unwrap_or(&Value::Null)))
                .collect()
        })
        .collect();
    table::print(&headers, &rows);
}

pub(crate) fn print_one(settings: &Settings, item: &Value) {
    if settings.json {
        println!("{item}");
        return;
    }
    if let Value::Object(map) = item {
        for (k, v) in map {
            match v {
                Value::Null => {}
                // Nested objects other than money and tagged values: one line per field.
                Value::Object(inner)
                    if !inner.contains_key("amount_minor") && !inner.contains_key("type") =>
                {
                    for (ik, iv) in inner {
                        if !iv.is_null() {
                            println!("{k}.{ik}: {}", text(iv));
                        }
                    }
                }
                _ => println!("{k}: {}", text(v)),
            }
        }
    }
}

/// `AMOUNT CUR` as money JSON (`null` when no amount is given).
pub(crate) fn money_arg(amount: Option<&str>, currency: Option<&str>) -> anyhow::Result<Value> {
    match (amount, currency) {
        (Some(a), Some(c)) => Ok(json!({ "amount_minor": minor_units(a)?, "currency": c })),
        (None, _) => Ok(Value::Null),
        (Some(_), None) => anyhow::bail!("invalid currency: an amount needs --currency"),
    }
}

/// Lists one view with `filters` and prints the `columns`.
pub(crate) async fn list(
    settings: &Settings,
    view: &str,
    body: Value,
    columns: &[(&str, &str)],
) -> anyhow::Result<()> {
    let client = connect(settings).await?;
    let items = query(&client, &settings.actor, view, filters(body)).await?;
    print_list(settings, &items, columns);
    Ok(())
}

/// Asks a `*_show` view for one object.
pub(crate) async fn show(settings: &Settings, view: &str, id: &str) -> anyhow::Result<Value> {
    let client = connect(settings).await?;
    query(&client, &settings.actor, view, json!({ "id": id })).await
}

/// A move of an aggregate that takes only a date and an optional reason.
#[derive(Debug, Clone, Args)]
pub struct Move {
    pub id: Uuid,
    /// Business date of the move (YYYY-MM-DD; default: today).
    #[arg(long)]
    pub on: Option<Date>,
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AssessmentCmd {
    /// Plan an assessment (status planned).
    Plan {
        /// Member state, ISO 3166-1 alpha-2 (e.g. KE).
        #[arg(long)]
        country: String,
        /// comprehensive_visit, focused_visit, follow_up_visit or desk_review.
        #[arg(long)]
        kind: String,
        /// Security Council resolutions covered, comma-separated (e.g. 1373,2178).
        #[arg(long, value_delimiter = ',', required = true)]
        resolutions: Vec<u32>,
        #[arg(long)]
        title: String,
        #[arg(long)]
        start: Date,
        #[arg(long)]
        end: Date,
        /// public, restricted or confidential (default restricted).
        #[arg(long, default_value = "restricted")]
        classification: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        /// Id to use (default: the service mints one and says which).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// planned -> conducted.
    Conduct(Move),
    /// conducted -> draft_sent_to_state (starts the 30-day clock).
    SendDraft(Move),
    /// The State's factual observations on the draft.
    Observations {
        id: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
    },
    /// draft_sent_to_state -> adopted (starts the 6-month clock).
    Adopt(Move),
    /// adopted -> response_received.
    Respond(Move),
    /// response_received -> closed.
    Close(Move),
    /// planned -> cancelled.
    Cancel(Move),
    /// List assessments with their clocks.
    List {
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        status: Option<String>,
    },
    /// One assessment with its clocks.
    Show { id: Uuid },
}

pub async fn assessment(settings: &Settings, cmd: AssessmentCmd) -> anyhow::Result<()> {
    let moved = |verb: &str, m: Move| {
        (
            verb.to_owned(),
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        )
    };
    let (verb, body) = match cmd {
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
        } => (
            "assessment_plan".to_owned(),
            json!({
                "id": id, "member_state": country, "kind": kind,
                "resolutions": resolutions, "title": title, "visit_start": start, "visit_end": end,
                "classification": classification, "on": on,
            }),
        ),
        AssessmentCmd::Conduct(m) => moved("assessment_mark_conducted", m),
        AssessmentCmd::SendDraft(m) => moved("assessment_send_draft", m),
        AssessmentCmd::Observations { id, on } => (
            "assessment_record_observations".to_owned(),
            json!({ "id": id, "on": on }),
        ),
        AssessmentCmd::Adopt(m) => moved("assessment_adopt", m),
        AssessmentCmd::Respond(m) => moved("assessment_record_response", m),
        AssessmentCmd::Close(m) => moved("assessment_close", m),
        AssessmentCmd::Cancel(m) => moved("assessment_cancel", m),
        AssessmentCmd::List { country, status } => {
            let client = connect(settings).await?;
            let items = query(
                &client,
                &settings.actor,
                "assessment_list",
                filters(json!({ "member_state": country, "status": status })),
            )
            .await?;
            print_list(
                settings,
                &items,
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
            );
            return Ok(());
        }
        AssessmentCmd::Show { id } => {
            let client = connect(settings).await?;
            print_one(
                settings,
                &query(
                    &client,
                    &settings.actor,
                    "assessment_show",
                    json!({ "id": id }),
                )
                .await?,
            );
            return Ok(());
        }
    };
    send_and_print(settings, &verb, body).await
}

#[derive(Debug, Subcommand)]
pub enum RecommendationCmd {
    /// Record a recommendation of an assessment.
    Record {
        #[arg(long)]
        assessment: Uuid,
        /// Thematic area code (see themes.csv, e.g. BRD).
        #[arg(long)]
        theme: String,
        /// 1 (high) .. 3 (low).
        #[arg(long)]
        priority: u8,
        #[arg(long)]
        text: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Update its implementation status.
    Status {
        id: Uuid,
        /// in_progress, implemented, partially_implemented, not_implemented, superseded.
        #[arg(long)]
        to: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        /// state_response, follow_up_visit or coordinator (default coordinator).
        #[arg(long, default_value = "coordinator")]
        source: String,
        #[arg(long)]
        reason: Option<String>,
    },
    List {
        #[arg(long)]
        assessment: Option<Uuid>,
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        #[arg(long)]
        status: Option<String>,
    },
}

pub async fn recommendation(settings: &Settings, cmd: RecommendationCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
        RecommendationCmd::Record {
            assessment,
            theme,
            priority,
            text,
            on,
            id,
        } => (
            "recommendation_record",
            // member_state is taken from the assessment by the service.
            json!({ "id": id, "assessment_id": assessment, "member_state": "",
                    "theme": theme, "priority": priority, "text": text, "on": on }),
        ),
        RecommendationCmd::Status {
            id,
            to,
            on,
            source,
            reason,
        } => (
            "recommendation_update_status",
            json!({ "id": id, "to": to, "on": on, "source": source, "reason": reason }),
        ),
        RecommendationCmd::List {
            assessment,
            country,
            theme,
            status,
        } => {
            let client = connect(settings).await?;
            let items = query(&client, &settings.actor, "recommendation_list",
                filters(json!({ "assessment_id": assessment, "member_state": country, "theme": theme, "status": status }))).await?;
            print_list(
                settings,
                &items,
                &[
                    ("ID", "/id"),
                    ("STATE", "/member_state"),
                    ("THEME", "/theme"),
                    ("PRIO", "/priority"),
                    ("STATUS", "/status"),
                    ("TEXT", "/text"),
                ],
            );
            return Ok(());
        }
    };
    send_and_print(settings, verb, body).await
}

#[derive(Debug, Subcommand)]
pub enum NeedCmd {
    /// Identify a technical-assistance need.
    Identify(Box<IdentifyNeed>),
    /// The State agrees the need is a priority.
    Agree(Move),
    /// Withdraw the need (a reason is required).
    Withdraw {
        id: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// The State declines the need (a reason is required).
    Decline {
        id: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// The need is met.
    Met(Move),
    /// List needs.
    List {
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        priority: Option<u8>,
        /// A DAC region code (e.g. 1027, Eastern Africa): needs of the countries in it.
        #[arg(long)]
        region: Option<String>,
        /// shared, not_shared, or an organisation's code (needs shared with it); not for donors.
        #[arg(long)]
        consent: Option<String>,
        /// Words that must appear in the description or beneficiary.
        #[arg(long)]
        text: Option<String>,
    },
    Show {
        id: Uuid,
    },
}

#[derive(Debug, Args)]
pub struct IdentifyNeed {
    #[arg(long)]
    pub country: String,
    #[arg(long)]
    pub theme: String,
    /// training, mentoring, legislative_drafting, equipment, workshop, study_visit, expert_deployment.
    #[arg(long)]
    pub modality: String,
    #[arg(long)]
    pub description: String,
    #[arg(long)]
    pub beneficiary: String,
    /// 1 (high) .. 3 (low).
    #[arg(long)]
    pub priority: u8,
    /// Estimated cost in major units (e.g. 250000 or 1234.50); needs --currency.
    #[arg(long, requires = "currency")]
    pub cost: Option<String>,
    /// ISO 4217 currency of --cost.
    #[arg(long)]
    pub currency: Option<String>,
    /// Size in units (e.g. 200); needs --measure.
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    /// What the units count (e.g. "officers trained").
    #[arg(long)]
    pub measure: Option<String>,
    /// Recommendations it serves (repeatable).
    #[arg(long = "recommendation")]
    pub recommendations: Vec<Uuid>,
    /// The day it was identified (YYYY-MM-DD; default: today).
    #[arg(long)]
    pub on: Option<Date>,
    #[arg(long)]
    pub id: Option<Uuid>,
}

/// "1234.5" -> 123450 minor units (two decimals, as `Money` assumes).
pub fn minor_units(amount: &str) -> anyhow::Result<i64> {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    anyhow::ensure!(
        !whole.is_empty()
            && whole.chars().all(|c| c.is_ascii_digit())
            && fraction.len() <= 2
            && fraction.chars().all(|c| c.is_ascii_digit()),
        "invalid cost: {amount:?} is not an amount like 1234.50"
    );
    let whole: i64 = whole.parse().context("invalid cost: too large")?;
    let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .context("invalid cost: too large")
}

pub fn identify_body(n: &IdentifyNeed) -> anyhow::Result<Value> {
    let cost = match (&n.cost, &n.currency) {
        (Some(c), Some(cur)) => json!({ "amount_minor": minor_units(c)?, "currency": cur }),
        _ => Value::Null,
    };
    let size = match (n.units, &n.measure) {
        (Some(q), Some(m)) => json!({ "measure": m, "quantity": q }),
        _ => Value::Null,
    };
    Ok(json!({
        "id": n.id, "member_state": n.country, "recommendation_ids": n.recommendations,
        "theme": n.theme, "modality": n.modality, "description": n.description,
        "beneficiary_institution": n.beneficiary, "estimated_cost": cost, "size": size, "priority": n.priority,
        "on": n.on,
    }))
}

pub async fn need(settings: &Settings, cmd: NeedCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
        NeedCmd::Identify(n) => ("need_identify", identify_body(&n)?),
        NeedCmd::Agree(m) => (
            "need_agree_with_state",
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        NeedCmd::Withdraw { id, on, reason } => (
            "need_withdraw",
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        NeedCmd::Decline { id, on, reason } => (
            "need_decline",
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        NeedCmd::Met(m) => (
            "need_mark_met",
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        NeedCmd::List {
            country,
            theme,
            status,
            priority,
            region,
            consent,
            text,
        } => {
            let client = connect(settings).await?;
            let items = query(&client, &settings.actor, "need_list",
                filters(json!({ "member_state": country, "theme": theme, "status": status, "priority": priority,
                    "region": region, "consent": consent, "text": text }))).await?;
            print_list(
                settings,
                &items,
                &[
                    ("ID", "/id"),
                    ("STATE", "/member_state"),
                    ("THEME", "/theme"),
                    ("MODALITY", "/modality"),
                    ("PRIO", "/priority"),
                    ("STATUS", "/status"),
                    ("COST", "/estimated_cost"),
                    ("UNITS", "/size/quantity"),
                    ("BENEFICIARY", "/beneficiary_institution"),
                ],
            );
            return Ok(());
        }
        NeedCmd::Show { id } => {
            let client = connect(settings).await?;
            print_one(
                settings,
                &query(&client, &settings.actor, "need_show", json!({ "id": id })).await?,
            );
            return Ok(());
        }
    };
    send_and_print(settings, verb, body).await
}

#[derive(Debug, Subcommand)]
pub enum SharingCmd {
    /// A State grants visibility of a need, all its needs, or an assessment report.
    Grant {
        #[arg(long)]
        country: String,
        /// Share one need.
        #[arg(long, group = "scope")]
        need: Option<Uuid>,
        /// Share every need of the country.
        #[arg(long, group = "scope")]
        all_needs: bool,
        /// Share an assessment report.
        #[arg(long, group = "scope")]
        assessment: Option<Uuid>,
        /// Organisations that may see it (repeatable).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// Every donor may see it.
        #[arg(long)]
        all_donors: bool,
        #[arg(long)]
        until: Option<Date>,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Revoke a grant.
    Revoke(Move),
    List {
        #[arg(long)]
        country: Option<String>,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ScopeArg {
    Need { need_id: Uuid },
    AllNeeds,
    AssessmentReport { assessment_id: Uuid },
}

pub async fn sharing(settings: &Settings, cmd: SharingCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
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
                (Some(need_id), _, _) => ScopeArg::Need { need_id },
                (_, true, _) => ScopeArg::AllNeeds,
                (_, _, Some(assessment_id)) => ScopeArg::AssessmentReport { assessment_id },
                _ => anyhow::bail!("invalid scope: give --need, --all-needs or --assessment"),
            };
            let audience = if all_donors {
                json!({ "type": "all_donors" })
            } else {
                json!({ "type": "organisations", "ids": orgs })
            };
            (
                "sharing_grant_grant",
                json!({
                    "id": id, "member_state": country, "scope": scope,
                    "audience": audience, "until": until, "on": on,
                }),
            )
        }
        SharingCmd::Revoke(m) => (
            "sharing_grant_revoke",
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        SharingCmd::List { country } => {
            let client = connect(settings).await?;
            let items = query(
                &client,
                &settings.actor,
                "sharing_grant_list",
                filters(json!({ "member_state": country })),
            )
            .await?;
            print_list(
                settings,
                &items,
                &[
                    ("ID", "/id"),
                    ("STATE", "/member_state"),
                    ("SCOPE", "/scope"),
                    ("AUDIENCE", "/audience"),
                    ("UNTIL", "/until"),
                    ("STATUS", "/status"),
                ],
            );
            return Ok(());
        }
    };
    send_and_print(settings, verb, body).await
}

#[cfg(test)]
mod tests {
    use super::minor_units;

    #[test]
    fn amounts_parse_to_minor_units() {
        assert_eq!(minor_units("250000").unwrap(), 25_000_000);
        assert_eq!(minor_units("1234.5").unwrap(), 123_450);
        assert_eq!(minor_units("0.07").unwrap(), 7);
        for bad in ["", "-5", "1.234", "12a", "1e3", "99999999999999999999"] {
            assert!(minor_units(bad).is_err(), "{bad}");
        }
    }
}
