//! Client commands for the partners service: the organisation registry and offers of assistance.

use clap::{Args, Subcommand};
use jiff::civil::Date;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::Settings;
use crate::client::{Move, list, money_arg, print_one, send_to_and_print, show};

const SERVICE: &str = "partners";

#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// Register an organisation (status active).
    Register {
        /// Its code: the IATI organisation identifier when it has one (e.g. GB-GOV-1), else ours
        /// (e.g. UNOCT).
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// member_state_body, un_entity, international_organisation, regional_organisation,
        /// donor_government, private_sector, civil_society or academia.
        #[arg(long)]
        kind: String,
        /// IATI OrganisationType code (e.g. 10 government, 40 multilateral).
        #[arg(long)]
        iati_type: String,
        /// IATI organisation identifier, when it has one.
        #[arg(long)]
        iati_id: Option<String>,
        /// ISO 3166-1 alpha-2 of its seat.
        #[arg(long)]
        country: Option<String>,
        /// The day it was registered (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
    },
    /// Change the given details (the others stay).
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        iati_type: Option<String>,
        #[arg(long)]
        iati_id: Option<String>,
        #[arg(long)]
        country: Option<String>,
    },
    /// active -> deactivated: it makes no new offers (a reason is required).
    Deactivate {
        id: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// List organisations.
    List {
        /// active or deactivated.
        #[arg(long)]
        status: Option<String>,
    },
    /// One organisation.
    Show { id: String },
}

pub async fn org(settings: &Settings, cmd: OrgCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
        OrgCmd::Register {
            id,
            name,
            kind,
            iati_type,
            iati_id,
            country,
            on,
        } => (
            "organisation_register",
            json!({ "id": id, "name": name, "kind": kind, "iati_type": iati_type,
                    "iati_identifier": iati_id, "country": country, "on": on }),
        ),
        OrgCmd::Update {
            id,
            name,
            kind,
            iati_type,
            iati_id,
            country,
        } => (
            "organisation_update",
            json!({ "id": id, "name": name, "kind": kind, "iati_type": iati_type,
                    "iati_identifier": iati_id, "country": country }),
        ),
        OrgCmd::Deactivate { id, on, reason } => (
            "organisation_deactivate",
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        OrgCmd::List { status } => {
            return list(
                settings,
                "organisation_list",
                json!({ "status": status }),
                &[
                    ("ID", "/id"),
                    ("NAME", "/name"),
                    ("KIND", "/kind"),
                    ("IATI TYPE", "/iati_type"),
                    ("IATI ID", "/iati_identifier"),
                    ("COUNTRY", "/country"),
                    ("STATUS", "/status"),
                ],
            )
            .await;
        }
        OrgCmd::Show { id } => {
            print_one(settings, &show(settings, "organisation_show", &id).await?);
            return Ok(());
        }
    };
    send_to_and_print(settings, SERVICE, verb, body, &[]).await
}

#[derive(Debug, Subcommand)]
pub enum OfferCmd {
    /// Draft an offer of assistance (status draft).
    Draft(Box<DraftOffer>),
    /// draft -> open.
    Publish(Move),
    /// Change the given fields of a draft, open or partially committed offer.
    Amend(Box<AmendOffer>),
    /// Withdraw the offer (a reason is required).
    Withdraw {
        id: Uuid,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long)]
        on: Option<Date>,
        #[arg(long)]
        reason: String,
    },
    /// List offers with what is left of them.
    List {
        /// Offering organisation.
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        /// An eligible country.
        #[arg(long)]
        country: Option<String>,
        /// draft, open, partially_committed, committed, withdrawn or expired.
        #[arg(long)]
        status: Option<String>,
    },
    /// One offer with what is left of it.
    Show { id: Uuid },
}

#[derive(Debug, Args)]
pub struct DraftOffer {
    /// The offering organisation (registered and active).
    #[arg(long)]
    pub org: String,
    #[arg(long)]
    pub title: String,
    /// Thematic area code (repeatable, e.g. BOR).
    #[arg(long = "theme", required = true)]
    pub themes: Vec<String>,
    /// Eligible country (repeatable); give --country and/or --region.
    #[arg(long = "country")]
    pub countries: Vec<String>,
    /// Eligible IATI region code (repeatable, e.g. 289 South of Sahara).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// training, mentoring, legislative_drafting, equipment, workshop, study_visit,
    /// expert_deployment (repeatable).
    #[arg(long = "modality", required = true)]
    pub modalities: Vec<String>,
    /// Budget in major units (e.g. 300000 or 1234.50); needs --currency.
    #[arg(long, requires = "currency")]
    pub budget: Option<String>,
    /// ISO 4217 currency of --budget.
    #[arg(long)]
    pub currency: Option<String>,
    /// Capacity in units (e.g. 150); needs --measure.
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    /// What the units count (e.g. "officers trained").
    #[arg(long)]
    pub measure: Option<String>,
    /// First day of the validity window.
    #[arg(long)]
    pub from: Date,
    /// Last day of the validity window.
    #[arg(long)]
    pub until: Date,
    /// ISO 639-1 language (repeatable).
    #[arg(long = "language", default_value = "en")]
    pub languages: Vec<String>,
    #[arg(long)]
    pub conditions: Option<String>,
    /// The day it was drafted (YYYY-MM-DD; default: today).
    #[arg(long)]
    pub on: Option<Date>,
    /// Id to use (default: the service mints one and says which).
    #[arg(long)]
    pub id: Option<Uuid>,
}

#[derive(Debug, Args)]
pub struct AmendOffer {
    pub id: Uuid,
    #[arg(long)]
    pub title: Option<String>,
    /// Replaces the themes (repeatable).
    #[arg(long = "theme")]
    pub themes: Vec<String>,
    /// Replaces the countries (repeatable).
    #[arg(long = "country")]
    pub countries: Vec<String>,
    /// Replaces the regions (repeatable).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Replaces the modalities (repeatable).
    #[arg(long = "modality")]
    pub modalities: Vec<String>,
    #[arg(long, requires = "currency")]
    pub budget: Option<String>,
    #[arg(long)]
    pub currency: Option<String>,
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    #[arg(long)]
    pub measure: Option<String>,
    #[arg(long)]
    pub until: Option<Date>,
    /// Replaces the languages (repeatable).
    #[arg(long = "language")]
    pub languages: Vec<String>,
    #[arg(long)]
    pub conditions: Option<String>,
}

fn units_arg(units: Option<u64>, measure: Option<&String>) -> Value {
    match (units, measure) {
        (Some(q), Some(m)) => json!({ "measure": m, "quantity": q }),
        _ => Value::Null,
    }
}

/// A repeatable option left out keeps the field (`null`).
fn replace(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        json!(items)
    }
}

pub async fn offer(settings: &Settings, cmd: OfferCmd) -> anyhow::Result<()> {
    let (verb, body) = match cmd {
        OfferCmd::Draft(d) => (
            "offer_draft",
            json!({
                "id": d.id, "organisation": d.org, "title": d.title, "on": d.on,
                "themes": d.themes, "countries": d.countries, "regions": d.regions,
                "modalities": d.modalities,
                "budget": money_arg(d.budget.as_deref(), d.currency.as_deref())?,
                "capacity": units_arg(d.units, d.measure.as_ref()),
                "valid_from": d.from, "valid_until": d.until, "languages": d.languages,
                "conditions": d.conditions,
            }),
        ),
        OfferCmd::Publish(m) => (
            "offer_publish",
            json!({ "id": m.id, "on": m.on, "reason": m.reason }),
        ),
        OfferCmd::Amend(a) => (
            "offer_amend",
            json!({
                "id": a.id, "title": a.title, "themes": replace(&a.themes),
                "countries": replace(&a.countries), "regions": replace(&a.regions),
                "modalities": replace(&a.modalities),
                "budget": money_arg(a.budget.as_deref(), a.currency.as_deref())?,
                "capacity": units_arg(a.units, a.measure.as_ref()),
                "valid_until": a.until, "languages": replace(&a.languages),
                "conditions": a.conditions,
            }),
        ),
        OfferCmd::Withdraw { id, on, reason } => (
            "offer_withdraw",
            json!({ "id": id, "on": on, "reason": reason }),
        ),
        OfferCmd::List {
            org,
            theme,
            country,
            status,
        } => {
            return list(
                settings,
                "offer_list",
                json!({ "organisation": org, "theme": theme, "member_state": country,
                        "status": status }),
                &[
                    ("ID", "/id"),
                    ("ORGANISATION", "/organisation"),
                    ("STATUS", "/status"),
                    ("THEMES", "/themes"),
                    ("COUNTRIES", "/countries"),
                    ("MODALITIES", "/modalities"),
                    ("BUDGET", "/budget"),
                    ("REMAINING", "/remaining_money"),
                    ("UNITS", "/capacity/quantity"),
                    ("LEFT", "/remaining_units"),
                    ("FROM", "/valid_from"),
                    ("UNTIL", "/valid_until"),
                    ("TITLE", "/title"),
                ],
            )
            .await;
        }
        OfferCmd::Show { id } => {
            print_one(
                settings,
                &show(settings, "offer_show", &id.to_string()).await?,
            );
            return Ok(());
        }
    };
    send_to_and_print(settings, SERVICE, verb, body, &[]).await
}
