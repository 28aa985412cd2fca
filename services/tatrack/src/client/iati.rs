//! `tatrack iati export|import`: the projects you may see as an IATI 2.03 activity file, and IATI
//! 2.x activity files recorded as projects (again and again: the second time records nothing
//! new, because every command is sent under an Idempotency-Key derived from the file).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use tatrack_contract::CommandReply;
use tatrack_contract::answers::ProjectView;
use tatrack_contract::bus::View;
use tatrack_contract::views;
use tatrack_domain::organisation::{Organisation, OrganisationState};
use tatrack_domain::project::{Project, ProjectState};
use tatrack_domain::{Principal, codes};
use uuid::Uuid;

use super::{Client, Error, Flags};

#[derive(Debug, Subcommand)]
pub enum IatiCmd {
    /// Write the projects you may see as an IATI 2.03 activity file, as of the global --as-of
    /// (default: today) and as known at --known-at.
    Export {
        /// The file to write (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The registered organisation publishing the file (default: yours, for a donor's
        /// token).
        #[arg(long, value_name = "ORG")]
        reporting_org: Option<String>,
    },
    /// Record the activities of an IATI 2.x activity file as projects, or add to the project
    /// already recorded under the same IATI identifier. A refused file records nothing.
    Import {
        /// The IATI activity file.
        file: PathBuf,
        /// Theme of activities that name none of tatrack's (as sector vocabulary 99), e.g. BOR.
        #[arg(long)]
        theme: Option<String>,
    },
}

pub async fn iati(client: &Client, cmd: IatiCmd) -> anyhow::Result<()> {
    match cmd {
        IatiCmd::Export { out, reporting_org } => export(client, out, reporting_org).await,
        IatiCmd::Import { file, theme } => import(client, &file, theme.as_deref()).await,
    }
}

async fn lists(client: &Client) -> anyhow::Result<(Vec<OrganisationState>, Vec<ProjectState>)> {
    let organisations: Vec<OrganisationState> = client
        .list(
            View::OrganisationList,
            &views::StatusList::default(),
            Flags::NONE,
        )
        .await?;
    let projects: Vec<ProjectView> = client
        .list(
            View::ProjectList,
            &views::ProjectList::default(),
            Flags::NONE,
        )
        .await?;
    Ok((
        organisations,
        projects.into_iter().map(|p| p.state).collect(),
    ))
}

async fn export(
    client: &Client,
    out: Option<PathBuf>,
    reporting_org: Option<String>,
) -> anyhow::Result<()> {
    let reporting = match reporting_org {
        Some(org) => org,
        None => {
            let me: Principal = client.show(View::PrincipalShow, None).await?;
            me.organisation.ok_or_else(|| {
                Error::invalid(
                    "--reporting-org",
                    "name the registered organisation that publishes the file (e.g. --reporting-org UNOCT)",
                )
            })?
        }
    };
    // As the caller: a donor's file holds only the projects it takes part in.
    let (organisations, projects) = lists(client).await?;
    let Some(org) = organisations.iter().find(|o| o.id == reporting) else {
        return Err(Error::invalid(
            "--reporting-org",
            format!("organisation {reporting:?} is not registered"),
        )
        .into());
    };
    // IATI needs at least one activity in a file: say so rather than write an invalid one.
    if !projects.iter().any(|p| p.status.is_some()) {
        return Err(Error::Refused {
            status: 404,
            message: "nothing to export: no project is visible to you".to_owned(),
            request_id: None,
        }
        .into());
    }
    // The file is as of --as-of, else of today (UTC), the day the lists above answer for.
    let day = client.as_of.unwrap_or(client.today);
    let xml = tatrack_iati::export(
        &projects,
        &organisations,
        &tatrack_iati::ReportingOrg::from_organisation(org),
        &tatrack_iati::ExportOptions::at_end_of(day),
    )
    .context("cannot write the IATI file")?;
    match out {
        Some(path) => {
            std::fs::write(&path, xml).with_context(|| format!("writing {}", path.display()))?;
            if !client.json {
                eprintln!(
                    "wrote {} project(s) to {}",
                    projects.iter().filter(|p| p.status.is_some()).count(),
                    path.display()
                );
            }
        }
        None => print!("{xml}"),
    }
    Ok(())
}

/// Whether a reply wrote something new (not a repeat, not a no-op).
fn wrote(reply: &CommandReply) -> bool {
    !reply.idempotent && reply.last_position != 0
}

async fn import(client: &Client, file: &Path, theme: Option<&str>) -> anyhow::Result<()> {
    if let Some(t) = theme {
        codes::check_theme("--theme", t).map_err(|e| Error::invalid("--theme", e.to_string()))?;
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // Everything is read and checked before the first command is sent.
    let refused = |e: &dyn std::fmt::Display| Error::Refused {
        status: 400,
        message: format!("refused {}: {e}", file.display()),
        request_id: None,
    };
    let activities = tatrack_iati::parse(&bytes).map_err(|e| refused(&e))?;
    // As of now, whatever --as-of says: the plan links to what is recorded today.
    let (organisations, projects) = lists(&client.at_no_point()).await?;
    let plan = tatrack_iati::plan(
        &activities,
        &tatrack_iati::ImportContext {
            today: client.today,
            organisations: &organisations,
            projects: &projects,
            default_theme: theme,
        },
    )
    .map_err(|e| refused(&e))?;

    let mut registered = 0;
    for p in &plan.organisations {
        let reply = client
            .command_planned::<Organisation>(&p.command, p.command_id)
            .await?;
        if wrote(&reply) {
            registered += 1;
        }
    }
    let mut report = Vec::new();
    for a in &plan.activities {
        let mut new = 0;
        for p in &a.commands {
            let reply = client
                .command_planned::<Project>(&p.command, p.command_id)
                .await?;
            if wrote(&reply) {
                new += 1;
            }
        }
        report.push(Imported {
            iati_identifier: &a.iati_identifier,
            project_id: a.project_id,
            existing: a.existing,
            commands: a.commands.len(),
            new,
            notes: &a.notes,
        });
    }
    if client.json {
        let answer = ImportReport {
            organisations_registered: registered,
            activities: report,
        };
        println!("{}", serde_json::to_string(&answer)?);
        return Ok(());
    }
    if registered > 0 {
        println!("registered {registered} organisation(s)");
    }
    for r in &report {
        println!(
            "{} {} -> project {} ({} new of {} command(s))",
            if r.existing { "added to" } else { "recorded" },
            r.iati_identifier,
            r.project_id,
            r.new,
            r.commands,
        );
        for note in r.notes {
            println!("  note: {note}");
        }
    }
    Ok(())
}

/// `iati import --json`: what was recorded.
#[derive(serde::Serialize)]
struct ImportReport<'a> {
    organisations_registered: usize,
    activities: Vec<Imported<'a>>,
}

/// One activity of an import.
#[derive(serde::Serialize)]
struct Imported<'a> {
    iati_identifier: &'a str,
    project_id: Uuid,
    existing: bool,
    commands: usize,
    new: usize,
    notes: &'a [String],
}
