//! `tatrack report summary`: asks the reporter for a summary as of a finished day, as the CLI's
//! principal, writes the report to stdout (or `--out`), and says on stderr which report it was:
//! its id, SHA-256 and where `report_made` was recorded.

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
    /// A summary (needs, coverage, money, recommendations, clocks, milestones, overlaps) as of a
    /// finished day, cut to what the caller may see.
    Summary(SummaryArgs),
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
    /// markdown, html, csv (with HXL hashtags) or json.
    #[arg(long, default_value = "markdown")]
    format: String,
    /// The finished day (YYYY-MM-DD, UTC) the report is as of.
    #[arg(long)]
    as_of: String,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn report(settings: &Settings, cmd: ReportCmd) -> anyhow::Result<()> {
    let ReportCmd::Summary(args) = cmd;
    let nats = client::connect(settings).await?;
    let body = client::filters(json!({
        "member_state": args.member_state,
        "theme": args.theme,
        "region": args.region,
        "donor": args.donor,
        "format": args.format,
        "as_of": args.as_of,
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
        "report {} ({}, as of {}, {}): sha256 {} {} bytes, recorded at position {}",
        made.reply.id,
        made.format,
        made.as_of,
        made.scope.label(),
        made.checksum,
        made.size,
        made.reply.last_position
    );
    Ok(())
}
