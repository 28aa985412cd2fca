//! `tatrack token issue|revoke|list`: access tokens, for admins. `issue` asks the gateway
//! (`POST /tokens`), which makes the secret, records only its hash and answers the secret once;
//! the CLI prints it alone on stdout.

use clap::Subcommand;
use tatrack_contract::CommandReply;
use tatrack_contract::answers::TokenRow;
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::commands::Ending;
use tatrack_contract::commands::token::{IssueRequest, Issued};
use tatrack_contract::views;
use tatrack_domain::Role;
use uuid::Uuid;

use super::{Client, Flags, args, output};

/// The roles a token is issued for (`system` is the services' own).
const PEOPLE: &[Role] = &[
    Role::Admin,
    Role::Coordinator,
    Role::Donor,
    Role::StateFocalPoint,
    Role::Auditor,
];

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Issue a token; prints only the token (keep it: it is not shown again).
    Issue {
        /// What the token may do.
        #[arg(long, value_parser = args::one_of(PEOPLE))]
        role: Role,
        /// The organisation a donor token acts for (required for a donor).
        #[arg(long = "org")]
        organisation: Option<String>,
        /// The country (ISO 3166-1 alpha-2) a focal point token acts for (required for a
        /// state_focal_point).
        #[arg(long = "country", value_parser = args::country)]
        member_state: Option<String>,
        /// What the token is for, or whom it was given to (default: the role).
        #[arg(long)]
        label: Option<String>,
        /// The last day it is valid, YYYY-MM-DD (default: 90 days from today; at most a year).
        #[arg(long)]
        expires_on: Option<jiff::civil::Date>,
    },
    /// Revoke a token: the gateway refuses it as soon as the revocation reaches it.
    Revoke {
        /// The token's id (as `token list` shows it).
        id: Uuid,
        /// Why (required, for the record).
        #[arg(long)]
        reason: String,
    },
    /// List tokens (never their secrets or hashes).
    List {
        /// Only active or revoked ones.
        #[arg(long)]
        status: Option<String>,
    },
}

pub async fn token(client: &Client, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Issue {
            role,
            organisation,
            member_state,
            label,
            expires_on,
        } => {
            let body = IssueRequest {
                role,
                label: label.unwrap_or_else(|| format!("{role} token")),
                organisation,
                member_state,
                expires_on,
                on: None,
            };
            let issued: Issued = client
                .command(
                    Verb::TokenIssue,
                    None,
                    &body,
                    Flags(&[
                        ("role", "--role"),
                        ("organisation", "--org"),
                        ("member_state", "--country"),
                        ("label", "--label"),
                        ("expires_on", "--expires-on"),
                    ]),
                )
                .await?;
            if client.json {
                output::one(true, &issued);
            } else {
                println!("{}", issued.token);
                eprintln!(
                    "issued token {} ({role}); keep it: it is not shown again",
                    issued.reply.id
                );
            }
        }
        TokenCmd::Revoke { id, reason } => {
            let reply: CommandReply = client
                .command(
                    Verb::TokenRevoke,
                    Some(&id.to_string()),
                    &Ending { on: None, reason },
                    Flags::NONE,
                )
                .await?;
            if client.json {
                output::reply(true, &reply, &[]);
            } else {
                println!("revoked: {id}");
            }
        }
        TokenCmd::List { status } => {
            let params = views::StatusList {
                status,
                ..Default::default()
            };
            client
                .print_list::<TokenRow, _>(
                    View::TokenList,
                    &params,
                    Flags(&[("status", "--status")]),
                    &[
                        ("ID", "/id"),
                        ("STATUS", "/status"),
                        ("ROLE", "/role"),
                        ("ORG", "/organisation"),
                        ("COUNTRY", "/member_state"),
                        ("ISSUED", "/issued_on"),
                        ("LABEL", "/label"),
                    ],
                )
                .await?;
        }
    }
    Ok(())
}
