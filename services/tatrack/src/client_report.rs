//! `tatrack report summary`: asks the reporter for a summary as of a business date (as known at
//! given log positions, or now), as the CLI's principal, writes the report to stdout (or
//! `--out`), and says on stderr which report it was: its id, SHA-256, the positions it was made
//! from and where `report_made` was recorded. `tatrack report changes --since REPORT` lists
//! what was recorded after a report that changes its figures.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_reporter::MadeReport;

use crate::cli::Settings;
use crate::client;

/// The first report about a day may have every stream folded up to it first.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// A summary (needs, coverage, money, recommendations, clocks, milestones, overlaps) as of
    /// a business date (`--as-of`, default today: provisional), cut to what the caller may
    /// see. Made again with the same `--as-of` and the `--known-at` positions a report printed,
    /// it is byte-identical.
    Summary(SummaryArgs),
    /// What was recorded after a report that changes its figures: late facts and corrections
    /// dated on or before its as-of day, within its scope and what you may see.
    Changes {
        /// The report's id (as `report summary` printed it).
        #[arg(long)]
        since: uuid::Uuid,
    },
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Only this State (ISO 3166-1 alpha-2).
    #[arg(long)]
    member_state: Option<String>,
    /// Only this theme code.
    #[arg(long)]
    theme: Option<String>,
    /// Only the countries of this IATI region code.
    #[arg(long)]
    region: Option<String>,
    /// Only what this organisation funds or is referred.
    #[arg(long)]
    donor: Option<String>,
    /// markdown (or md), html, csv (with HXL hashtags) or json.
    #[arg(long, default_value = "markdown")]
    format: String,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn report(settings: &Settings, cmd: ReportCmd) -> anyhow::Result<()> {
    let args = match cmd {
        ReportCmd::Summary(args) => args,
        ReportCmd::Changes { since } => return changes(settings, since).await,
    };
    let nats = client::connect(settings).await?;
    let body = client::filters(json!({
        "member_state": args.member_state,
        "theme": args.theme,
        "region": args.region,
        "donor": args.donor,
        "format": args.format,
        "as_of": settings.actor.as_of,
        "known_at": settings.actor.known_at,
    }));
    let meta = RequestMeta::new(settings.actor.principal());
    let made: MadeReport = rpc::request(
        &nats,
        &subjects::command_subject(tatrack_reporter::SERVICE, "report_summary"),
        &meta,
        &body,
        TIMEOUT,
    )
    .await?;
    if settings.json {
        println!("{}", serde_json::to_string_pretty(&made)?);
    } else {
        match &args.out {
            Some(path) => std::fs::write(path, made.content.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?,
            None => print!("{}", made.content),
        }
    }
    eprintln!(
        "report {} ({}, as of {}{}, {}): sha256 {} {} bytes, recorded at position {}\nknown at {} (make it again with --as-of {} --known-at {})",
        made.reply.id,
        made.format,
        made.as_of,
        if made.provisional {
            ", provisional: the day is not over"
        } else {
            ""
        },
        made.scope.label(),
        made.checksum,
        made.size,
        made.reply.last_position,
        made.known_at,
        made.as_of,
        made.known_at,
    );
    Ok(())
}

/// `report changes --since REPORT`.
async fn changes(settings: &Settings, report: uuid::Uuid) -> anyhow::Result<()> {
    let nats = client::connect(settings).await?;
    // The report's own point in time, not the global flags.
    let actor = client::Actor {
        as_of: None,
        known_at: None,
        ..settings.actor.clone()
    };
    let answer =
        client::query(&nats, &actor, "change_list", json!({ "report_id": report })).await?;
    if settings.json {
        println!("{answer}");
        return Ok(());
    }
    let changes = answer["changes"].as_array().cloned().unwrap_or_default();
    println!(
        "report {report}: as of {}, known at {}",
        client::text(&answer["as_of"]),
        client::text(&answer["known_at"])
    );
    if changes.is_empty() {
        println!("nothing recorded since changes its figures");
        return Ok(());
    }
    println!(
        "{} change(s) recorded since, dated on or before its day:",
        changes.len()
    );
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            [
                "on",
                "kind",
                "stream",
                "recorded_at",
                "recorded_by",
                "position",
            ]
            .iter()
            .map(|k| client::text(&c[*k]))
            .collect()
        })
        .collect();
    crate::table::print(
        &["ON", "KIND", "STREAM", "RECORDED AT", "BY", "POSITION"],
        &rows,
    );
    Ok(())
}
