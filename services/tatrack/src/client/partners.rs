//! The partners service's resources: the registry of organisations (and a donor's portfolio)
//! and offers of assistance.

use clap::{Args, Subcommand};
use jiff::civil::Date;
use tatrack_contract::CommandReply;
use tatrack_contract::answers::{OfferView, Portfolio};
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::commands::{Ending, offer, organisation};
use tatrack_contract::views;
use tatrack_domain::need::Modality;
use tatrack_domain::organisation::{OrganisationKind, OrganisationState};
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use super::args::{self, EndingArgs, MoveArgs};
use super::{Client, Error, Flags, output};

#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    /// Register an organisation (status active).
    Register {
        /// Its code: the IATI organisation identifier when it has one (e.g. GB-GOV-1), else
        /// ours (e.g. UNOCT).
        #[arg(long)]
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// What kind of organisation it is.
        #[arg(long, value_parser = args::one_of(OrganisationKind::ALL))]
        kind: OrganisationKind,
        /// IATI OrganisationType code (e.g. 10 government, 40 multilateral).
        #[arg(long)]
        iati_type: String,
        /// IATI organisation identifier, when it has one.
        #[arg(long)]
        iati_id: Option<String>,
        /// ISO 3166-1 alpha-2 of its seat.
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// The day it was registered (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// Change the given details (the others stay).
    Update {
        /// The organisation's code.
        id: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new kind.
        #[arg(long, value_parser = args::one_of(OrganisationKind::ALL))]
        kind: Option<OrganisationKind>,
        /// A new IATI OrganisationType code.
        #[arg(long)]
        iati_type: Option<String>,
        /// A new IATI organisation identifier.
        #[arg(long)]
        iati_id: Option<String>,
        /// A new seat (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
    },
    /// active -> deactivated: it makes no new offers (a reason is required).
    Deactivate {
        /// The organisation's code.
        id: String,
        /// The day it happened (YYYY-MM-DD; default: today).
        #[arg(long, value_name = "DAY")]
        on: Option<Date>,
        /// Why (required, for the record).
        #[arg(long)]
        reason: String,
    },
    /// List organisations.
    List {
        /// Only active or deactivated ones.
        #[arg(long)]
        status: Option<String>,
    },
    /// One organisation.
    Show {
        /// The organisation's code.
        id: String,
    },
    /// A donor's portfolio: its offers, referrals and projects, and its money by status.
    Portfolio {
        /// The organisation (default: yours, for a donor's token).
        org: Option<String>,
    },
}

const ORG_FLAGS: Flags = Flags(&[
    ("name", "--name"),
    ("kind", "--kind"),
    ("iati_type", "--iati-type"),
    ("iati_identifier", "--iati-id"),
    ("country", "--country"),
    ("organisation", "ORG"),
]);

pub async fn org(client: &Client, cmd: OrgCmd) -> anyhow::Result<()> {
    let reply: CommandReply = match cmd {
        OrgCmd::Register {
            id,
            name,
            kind,
            iati_type,
            iati_id,
            country,
            on,
        } => {
            let body = organisation::Register {
                id,
                name,
                kind,
                iati_type,
                iati_identifier: iati_id,
                country,
                on,
            };
            client
                .command(
                    Verb::OrganisationRegister,
                    None,
                    &body,
                    Flags(&[
                        ("id", "--id"),
                        ("name", "--name"),
                        ("kind", "--kind"),
                        ("iati_type", "--iati-type"),
                        ("iati_identifier", "--iati-id"),
                        ("country", "--country"),
                    ]),
                )
                .await?
        }
        OrgCmd::Update {
            id,
            name,
            kind,
            iati_type,
            iati_id,
            country,
            on,
        } => {
            let body = organisation::Update {
                name,
                kind,
                iati_type,
                iati_identifier: iati_id,
                country,
                on,
            };
            client
                .command(Verb::OrganisationUpdate, Some(&id), &body, ORG_FLAGS)
                .await?
        }
        OrgCmd::Deactivate { id, on, reason } => {
            client
                .command(
                    Verb::OrganisationDeactivate,
                    Some(&id),
                    &Ending { on, reason },
                    Flags::NONE,
                )
                .await?
        }
        OrgCmd::List { status } => {
            let params = views::StatusList {
                status,
                ..Default::default()
            };
            return client
                .print_list::<OrganisationState, _>(
                    View::OrganisationList,
                    &params,
                    Flags(&[("status", "--status")]),
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
            return client
                .print_one::<OrganisationState>(View::OrganisationShow, Some(&id))
                .await;
        }
        OrgCmd::Portfolio { org } => return portfolio(client, org).await,
    };
    output::reply(client.json, &reply, &[]);
    Ok(())
}

/// `org portfolio [ORG]`: a donor's own by default.
async fn portfolio(client: &Client, org: Option<String>) -> anyhow::Result<()> {
    let org = match org {
        Some(org) => org,
        None => {
            let me: Principal = client.show(View::PrincipalShow, None).await?;
            match (me.role, me.organisation) {
                (Role::Donor, Some(org)) => org,
                _ => {
                    return Err(Error::invalid(
                        "ORG",
                        "name the organisation (e.g. `tatrack org portfolio DEMO-DONOR`): only a donor's token has one of its own",
                    )
                    .into());
                }
            }
        }
    };
    let p: Portfolio = client
        .view(
            View::PortfolioShow,
            Some(&org),
            &views::Show::default(),
            ORG_FLAGS,
        )
        .await?;
    if client.json {
        output::one(true, &p);
        return Ok(());
    }
    println!("portfolio of {}", p.organisation);
    let totals = |by: &std::collections::BTreeMap<String, i64>| {
        if by.is_empty() {
            return "none".to_owned();
        }
        by.iter()
            .map(|(currency, minor)| output::money(*minor, currency))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (what, by) in [
        ("pledged", &p.money.pledged),
        ("committed", &p.money.committed),
        ("disbursed", &p.money.disbursed),
        ("spent", &p.money.expended),
    ] {
        println!("{what}: {}", totals(by));
    }
    println!("\noffers:");
    output::list(
        false,
        &p.offers,
        &[
            ("ID", "/id"),
            ("STATUS", "/status"),
            ("THEMES", "/themes"),
            ("COUNTRIES", "/countries"),
            ("BUDGET", "/budget"),
            ("COMMITTED", "/committed_money"),
            ("UNTIL", "/valid_until"),
            ("TITLE", "/title"),
        ],
    );
    println!("\nreferrals:");
    output::list(
        false,
        &p.referrals,
        &[
            ("ID", "/id"),
            ("STATE", "/member_state"),
            ("STATUS", "/status"),
            ("MONEY", "/share_money"),
            ("UNITS", "/share_units"),
            ("NEED", "/need_id"),
            ("PROJECT", "/project_id"),
        ],
    );
    println!("\nprojects:");
    output::list(
        false,
        &p.projects,
        &[
            ("ID", "/id"),
            ("IATI ID", "/iati_identifier"),
            ("STATE", "/recipient_country"),
            ("STATUS", "/status"),
            ("BUDGET", "/budget"),
            ("LATE", "/late_milestones"),
            ("TITLE", "/title"),
        ],
    );
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum OfferCmd {
    /// Draft an offer of assistance (status draft).
    Draft(Box<DraftOffer>),
    /// draft -> open.
    Publish(MoveArgs),
    /// Change the given fields of a draft, open or partially committed offer.
    Amend(Box<AmendOffer>),
    /// Withdraw the offer (a reason is required).
    Withdraw(EndingArgs),
    /// List offers with what is left of them.
    List {
        /// Only this organisation's.
        #[arg(long)]
        org: Option<String>,
        /// Only those covering this theme code.
        #[arg(long)]
        theme: Option<String>,
        /// Only those naming this country (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// Only this status: draft, open, partially_committed, committed, withdrawn or expired.
        #[arg(long)]
        status: Option<String>,
    },
    /// One offer with what is left of it.
    Show {
        /// The offer's id.
        id: Uuid,
    },
}

#[derive(Debug, Args)]
pub struct DraftOffer {
    /// The offering organisation (registered and active).
    #[arg(long)]
    pub org: String,
    /// Its title.
    #[arg(long)]
    pub title: String,
    /// A theme code it covers (repeatable, e.g. BOR).
    #[arg(long = "theme", required = true)]
    pub themes: Vec<String>,
    /// An eligible country (repeatable); give --country and/or --region.
    #[arg(long = "country", value_parser = args::country)]
    pub countries: Vec<String>,
    /// An eligible DAC region code (repeatable, e.g. 289 South of Sahara).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// A kind of help it provides (repeatable).
    #[arg(long = "modality", required = true, value_parser = args::one_of(Modality::ALL))]
    pub modalities: Vec<Modality>,
    /// Budget in major units (e.g. 300000 or 1234.50); needs --currency.
    #[arg(long, value_parser = args::amount, requires = "currency", value_name = "AMOUNT")]
    pub budget: Option<i64>,
    /// ISO 4217 currency of --budget.
    #[arg(long, value_parser = args::currency, requires = "budget")]
    pub currency: Option<String>,
    /// Capacity in units (e.g. 150); needs --measure.
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    /// What the units count (e.g. "officers trained").
    #[arg(long, requires = "units")]
    pub measure: Option<String>,
    /// First day of the validity window (YYYY-MM-DD).
    #[arg(long, value_name = "DAY")]
    pub from: Date,
    /// Last day of the validity window (YYYY-MM-DD).
    #[arg(long, value_name = "DAY")]
    pub until: Date,
    /// A language it works in, ISO 639-1 (repeatable; default en).
    #[arg(long = "language", default_value = "en")]
    pub languages: Vec<String>,
    /// Its conditions, in words.
    #[arg(long)]
    pub conditions: Option<String>,
    /// The day it was drafted (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
    /// Id to use (default: the server mints one and says which).
    #[arg(long)]
    pub id: Option<Uuid>,
}

#[derive(Debug, Args)]
pub struct AmendOffer {
    /// The offer's id.
    pub id: Uuid,
    /// A new title.
    #[arg(long)]
    pub title: Option<String>,
    /// Replaces the themes (repeatable).
    #[arg(long = "theme")]
    pub themes: Vec<String>,
    /// Replaces the countries (repeatable).
    #[arg(long = "country", value_parser = args::country)]
    pub countries: Vec<String>,
    /// Replaces the regions (repeatable).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Replaces the modalities (repeatable).
    #[arg(long = "modality", value_parser = args::one_of(Modality::ALL))]
    pub modalities: Vec<Modality>,
    /// A new budget in major units; needs --currency.
    #[arg(long, value_parser = args::amount, requires = "currency", value_name = "AMOUNT")]
    pub budget: Option<i64>,
    /// ISO 4217 currency of --budget.
    #[arg(long, value_parser = args::currency, requires = "budget")]
    pub currency: Option<String>,
    /// A new capacity in units; needs --measure.
    #[arg(long, requires = "measure")]
    pub units: Option<u64>,
    /// What the units count.
    #[arg(long, requires = "units")]
    pub measure: Option<String>,
    /// A new last day of the validity window.
    #[arg(long, value_name = "DAY")]
    pub until: Option<Date>,
    /// Replaces the languages (repeatable).
    #[arg(long = "language")]
    pub languages: Vec<String>,
    /// New conditions.
    #[arg(long)]
    pub conditions: Option<String>,
    /// The day it happened (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DAY")]
    pub on: Option<Date>,
}

const OFFER_FLAGS: Flags = Flags(&[
    ("organisation", "--org"),
    ("title", "--title"),
    ("themes", "--theme"),
    ("countries", "--country"),
    ("regions", "--region"),
    ("modalities", "--modality"),
    ("budget.currency", "--currency"),
    ("budget", "--budget"),
    ("capacity.measure", "--measure"),
    ("capacity", "--units"),
    ("valid_from", "--from"),
    ("valid_until", "--until"),
    ("languages", "--language"),
    ("conditions", "--conditions"),
]);

/// A repeatable option left out keeps the field.
fn replace<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

pub async fn offer(client: &Client, cmd: OfferCmd) -> anyhow::Result<()> {
    let reply: CommandReply = match cmd {
        OfferCmd::Draft(d) => {
            let body = offer::Draft {
                id: d.id,
                organisation: d.org,
                title: d.title,
                themes: d.themes,
                countries: d.countries,
                regions: d.regions,
                modalities: d.modalities,
                budget: args::money(d.budget, d.currency.as_ref()),
                capacity: args::units(d.units, d.measure.as_ref()),
                valid_from: d.from,
                valid_until: d.until,
                languages: d.languages,
                conditions: d.conditions,
                on: d.on,
            };
            client
                .command(Verb::OfferDraft, None, &body, OFFER_FLAGS)
                .await?
        }
        OfferCmd::Publish(m) => client.command_on(Verb::OfferPublish, &m).await?,
        OfferCmd::Amend(a) => {
            let body = offer::Amend {
                title: a.title,
                themes: replace(&a.themes),
                countries: replace(&a.countries),
                regions: replace(&a.regions),
                modalities: replace(&a.modalities),
                budget: args::money(a.budget, a.currency.as_ref()),
                capacity: args::units(a.units, a.measure.as_ref()),
                valid_until: a.until,
                languages: replace(&a.languages),
                conditions: a.conditions,
                on: a.on,
            };
            client
                .command(
                    Verb::OfferAmend,
                    Some(&a.id.to_string()),
                    &body,
                    OFFER_FLAGS,
                )
                .await?
        }
        OfferCmd::Withdraw(e) => client.command_on(Verb::OfferWithdraw, &e).await?,
        OfferCmd::List {
            org,
            theme,
            country,
            status,
        } => {
            let params = views::OfferList {
                organisation: org,
                theme,
                member_state: country,
                status,
                ..Default::default()
            };
            return client
                .print_list::<OfferView, _>(
                    View::OfferList,
                    &params,
                    Flags(&[
                        ("organisation", "--org"),
                        ("theme", "--theme"),
                        ("member_state", "--country"),
                        ("status", "--status"),
                    ]),
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
            return client
                .print_one::<OfferView>(View::OfferShow, Some(&id.to_string()))
                .await;
        }
    };
    output::reply(client.json, &reply, &[]);
    Ok(())
}
