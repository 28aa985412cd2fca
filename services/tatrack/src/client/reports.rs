//! `tatrack report summary`: asks the reporter (`POST /reports`) for a summary as of a business
//! date (default today, provisional) and as known at given log positions (default: everything
//! recorded so far), as the signed-in user; writes the report to stdout (or `--out`) and says on
//! stderr which report it was: its id, SHA-256, the positions it was made from and where
//! `report_made` was recorded. `tatrack report changes --since REPORT` lists what was recorded
//! after a report that changes its figures; `tatrack report list` the reports made.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use tatrack_contract::answers::Changes;
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::commands::report::{MadeReport, Summary};
use tatrack_contract::views;
use tatrack_domain::report::ReportState;
use uuid::Uuid;

use super::{Client, Flags, output};

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// A summary (needs, coverage, money, recommendations, clocks, milestones, overlaps) as of
    /// a business date (the global --as-of, default today: provisional), cut to what you may
    /// see. Made again with the same --as-of and the --known-at positions a report printed, it
    /// is byte-identical.
    Summary(SummaryArgs),
    /// What was recorded after a report that changes its figures: late facts and corrections
    /// dated on or before its as-of day, within its scope and what you may see.
    Changes {
        /// The report's id (as `report summary` printed it).
        #[arg(long)]
        since: Uuid,
    },
    /// The reports made, newest first: yours (every one for coordinators and auditors), with
    /// the day, the positions they were made from and their SHA-256.
    List,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Only this State (ISO 3166-1 alpha-2).
    #[arg(long, value_parser = super::args::country)]
    member_state: Option<String>,
    /// Only this theme code.
    #[arg(long)]
    theme: Option<String>,
    /// Only the countries of this DAC region code.
    #[arg(long)]
    region: Option<String>,
    /// Only what this organisation funds or is referred.
    #[arg(long)]
    donor: Option<String>,
    /// The format: markdown (md), html (with SVG charts), csv (with HXL hashtags) or json.
    #[arg(
        long,
        default_value = "markdown",
        value_parser = ["markdown", "md", "html", "csv", "json"],
        ignore_case = true
    )]
    format: String,
    /// Write the report to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

const SUMMARY_FLAGS: Flags = Flags(&[
    ("member_state", "--member-state"),
    ("theme", "--theme"),
    ("region", "--region"),
    ("donor", "--donor"),
    ("format", "--format"),
]);

pub async fn report(client: &Client, cmd: ReportCmd) -> anyhow::Result<()> {
    let args = match cmd {
        ReportCmd::Summary(args) => args,
        ReportCmd::Changes { since } => return changes(client, since).await,
        ReportCmd::List => return list(client).await,
    };
    let body = Summary {
        id: None,
        member_state: args.member_state,
        theme: args.theme,
        region: args.region,
        donor: args.donor,
        format: args.format.to_ascii_lowercase(),
        as_of: client.as_of,
        known_at: client.known_at.clone(),
        on: None,
    };
    let made: MadeReport = client
        .command(Verb::ReportSummary, None, &body, SUMMARY_FLAGS)
        .await?;
    if client.json {
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

/// `report list`: one line per report (a SHA-256 does not fit a table's column), newest first.
async fn list(client: &Client) -> anyhow::Result<()> {
    let reports: Vec<ReportState> = client
        .list(View::ReportList, &views::StatusList::default(), Flags::NONE)
        .await?;
    if client.json {
        output::list(true, &reports, &[]);
        return Ok(());
    }
    if reports.is_empty() {
        println!("(none)");
    }
    for r in &reports {
        let day = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let format = r.format.map(|f| f.to_string()).unwrap_or_default();
        println!(
            "{}  made {}  as of {}  {format}  {}\n  sha256 {}  {} bytes  known at {}",
            r.id,
            day(r.made_on),
            day(r.as_of),
            output::printable(&r.scope.label()),
            r.checksum,
            r.size,
            r.known_at
                .iter()
                .map(|(service, position)| format!("{service}:{position}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    Ok(())
}

/// `report changes --since REPORT`: at the report's own point in time, whatever the global
/// `--as-of` and `--known-at` say.
async fn changes(client: &Client, report: Uuid) -> anyhow::Result<()> {
    let answer: Changes = client
        .at_no_point()
        .view(
            View::ChangeList,
            Some(&report.to_string()),
            &views::Show::default(),
            Flags(&[("report_id", "--since")]),
        )
        .await?;
    if client.json {
        output::one(true, &answer);
        return Ok(());
    }
    println!(
        "report {report}: as of {}, known at {}",
        answer.as_of.map(|d| d.to_string()).unwrap_or_default(),
        answer.known_at
    );
    if answer.changes.is_empty() {
        println!("nothing recorded since changes its figures");
        return Ok(());
    }
    println!(
        "{} change(s) recorded since, dated on or before its day:",
        answer.changes.len()
    );
    output::list(
        false,
        &answer.changes,
        &[
            ("ON", "/on"),
            ("KIND", "/kind"),
            ("STREAM", "/stream"),
            ("RECORDED AT", "/recorded_at"),
            ("BY", "/recorded_by"),
            ("POSITION", "/position"),
        ],
    );
    Ok(())
}
