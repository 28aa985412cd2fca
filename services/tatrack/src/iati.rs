//! `tatrack iati export|import`: the projects the caller may see as an IATI 2.03 activity file,
//! and IATI 2.x activity files recorded as projects (again and again: the second time records
//! nothing new).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::codes;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::project::ProjectState;
use uuid::Uuid;

use crate::cli::Settings;
use crate::client::{self, Actor};

/// Lists are asked for in pages, so a large registry never travels in one NATS message.
const PAGE: usize = 500;

#[derive(Debug, Subcommand)]
pub enum IatiCmd {
    /// Write the projects you may see as an IATI 2.03 activity file.
    Export {
        /// The file to write (default: stdout). The file is as of `--as-of` (default: today) and
        /// as known at `--known-at`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The registered organisation publishing the file (default: yours, --as-org).
        #[arg(long)]
        reporting_org: Option<String>,
    },
    /// Record the activities of an IATI 2.x activity file as projects, or add to the project
    /// already recorded under the same IATI identifier. A refused file records nothing.
    Import {
        file: PathBuf,
        /// Theme of activities that name none of tatrack's (as sector vocabulary 99), e.g. BOR.
        #[arg(long)]
        theme: Option<String>,
    },
}

pub async fn iati(settings: &Settings, cmd: IatiCmd) -> anyhow::Result<()> {
    match cmd {
        IatiCmd::Export { out, reporting_org } => export(settings, out, reporting_org).await,
        IatiCmd::Import { file, theme } => import(settings, &file, theme.as_deref()).await,
    }
}

/// Every item of a list view, page by page.
async fn list_all<T: DeserializeOwned>(
    nats: &async_nats::Client,
    actor: &Actor,
    view: &str,
    min_positions: Option<&Value>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    loop {
        let mut body = json!({ "offset": out.len(), "limit": PAGE });
        if let Some(min) = min_positions {
            body["min_positions"] = min.clone();
        }
        let page: Vec<T> = serde_json::from_value(client::query(nats, actor, view, body).await?)
            .with_context(|| format!("reading the {view} answer"))?;
        let full = page.len() == PAGE;
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

async fn export(
    settings: &Settings,
    out: Option<PathBuf>,
    reporting_org: Option<String>,
) -> anyhow::Result<()> {
    let as_of = settings.actor.as_of;
    let nats = client::connect(settings).await?;
    let actor = &settings.actor;
    let Some(reporting) = reporting_org.or_else(|| actor.organisation.clone()) else {
        anyhow::bail!(
            "invalid --reporting-org: name the registered organisation that publishes the file (e.g. --reporting-org UNOCT)"
        );
    };
    // As the caller: a donor's file holds only the projects it takes part in.
    let organisations: Vec<OrganisationState> =
        list_all(&nats, actor, "organisation_list", None).await?;
    let projects: Vec<ProjectState> = list_all(&nats, actor, "project_list", None).await?;
    let Some(org) = organisations.iter().find(|o| o.id == reporting) else {
        anyhow::bail!("invalid --reporting-org: organisation {reporting:?} is not registered");
    };
    // IATI needs at least one activity in a file: say so rather than write an invalid one.
    if !projects.iter().any(|p| p.status.is_some()) {
        anyhow::bail!("nothing to export: no project is visible to you");
    }
    // The file is as of the end of --as-of, else of today (UTC), the day the lists above answer
    // for; it was generated at the end of that day, so the same data gives the same bytes all day.
    let utc = jiff::tz::TimeZone::UTC;
    let day = as_of.unwrap_or_else(|| settings.clock.today());
    let generated = day
        .at(23, 59, 59, 0)
        .to_zoned_datetime(utc)
        .context("the end of the as-of day")?
        .timestamp();
    let xml = tatrack_iati::export(
        &projects,
        &organisations,
        &tatrack_iati::ReportingOrg::from_organisation(org),
        &tatrack_iati::ExportOptions {
            as_of: day,
            generated,
        },
    )
    .context("cannot write the IATI file")?;
    match out {
        Some(path) => {
            std::fs::write(&path, xml).with_context(|| format!("writing {}", path.display()))?;
            if !settings.json {
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

/// The partners and projects services' durable heads, for read-your-writes; `None` where the
/// caller may not ask (admin subjects can be closed by NATS permissions): the lists are then as
/// fresh as the read model is.
async fn heads(nats: &async_nats::Client, actor: &Actor) -> Option<Value> {
    let mut out = serde_json::Map::new();
    for service in ["partners", "projects"] {
        let reply = client::command_to(nats, actor, service, "admin_head", json!({}))
            .await
            .ok()?;
        out.insert(service.to_owned(), reply.get("head")?.clone());
    }
    Some(Value::Object(out))
}

/// `{"type": "add_result", ...}` -> verb `project_add_result` and the body without `type`.
fn verb_and_body(aggregate: &str, command: Value) -> anyhow::Result<(String, Value)> {
    let Value::Object(mut map) = command else {
        anyhow::bail!("a command is not a JSON object");
    };
    let Some(Value::String(kind)) = map.remove("type") else {
        anyhow::bail!("a command has no type");
    };
    Ok((format!("{aggregate}_{kind}"), Value::Object(map)))
}

/// Sends one planned command under its derived id; returns whether it wrote something new.
async fn send(
    nats: &async_nats::Client,
    actor: &Actor,
    service: &str,
    aggregate: &str,
    command_id: Uuid,
    command: Value,
) -> anyhow::Result<bool> {
    let (verb, body) = verb_and_body(aggregate, command)?;
    let meta = RequestMeta {
        command_id: Some(command_id),
        ..RequestMeta::new(actor.principal())
    };
    let reply: Value = rpc::request(
        nats,
        &subjects::command_subject(service, &verb),
        &meta,
        &body,
        std::time::Duration::from_secs(10),
    )
    .await
    .with_context(|| format!("{service}.{verb}"))?;
    Ok(reply["idempotent"] != Value::Bool(true) && reply["last_position"].as_u64() != Some(0))
}

async fn import(settings: &Settings, file: &PathBuf, theme: Option<&str>) -> anyhow::Result<()> {
    if let Some(t) = theme {
        codes::check_theme("--theme", t).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // Everything is read and checked before the first command is sent.
    let activities =
        tatrack_iati::parse(&bytes).with_context(|| format!("refused {}", file.display()))?;
    let nats = client::connect(settings).await?;
    let actor = &settings.actor;
    // What the services have acknowledged, so a project recorded a moment ago is linked to,
    // not created a second time.
    let heads = heads(&nats, actor).await;
    let organisations: Vec<OrganisationState> =
        list_all(&nats, actor, "organisation_list", heads.as_ref()).await?;
    let projects: Vec<ProjectState> =
        list_all(&nats, actor, "project_list", heads.as_ref()).await?;
    let plan = tatrack_iati::plan(
        &activities,
        &tatrack_iati::ImportContext {
            today: settings.clock.today(),
            organisations: &organisations,
            projects: &projects,
            default_theme: theme,
        },
    )
    .with_context(|| format!("refused {}", file.display()))?;

    let mut registered = 0;
    for p in &plan.organisations {
        if send(
            &nats,
            actor,
            "partners",
            "organisation",
            p.command_id,
            serde_json::to_value(&p.command)?,
        )
        .await?
        {
            registered += 1;
        }
    }
    let mut report = Vec::new();
    for a in &plan.activities {
        let mut new = 0;
        for p in &a.commands {
            if send(
                &nats,
                actor,
                "projects",
                "project",
                p.command_id,
                serde_json::to_value(&p.command)?,
            )
            .await?
            {
                new += 1;
            }
        }
        report.push(json!({
            "iati_identifier": a.iati_identifier, "project_id": a.project_id,
            "existing": a.existing, "commands": a.commands.len(), "new": new, "notes": a.notes,
        }));
    }
    if settings.json {
        println!(
            "{}",
            json!({ "organisations_registered": registered, "activities": report })
        );
        return Ok(());
    }
    if registered > 0 {
        println!("registered {registered} organisation(s)");
    }
    for r in &report {
        println!(
            "{} {} -> project {} ({} new of {} command(s))",
            if r["existing"] == Value::Bool(true) {
                "added to"
            } else {
                "recorded"
            },
            client::text(&r["iati_identifier"]),
            client::text(&r["project_id"]),
            r["new"],
            r["commands"],
        );
        for note in r["notes"].as_array().into_iter().flatten() {
            println!("  note: {}", client::text(note));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_come_from_the_command_type() {
        let (verb, body) =
            verb_and_body("project", json!({"type": "add_result", "id": "x"})).unwrap();
        assert_eq!(verb, "project_add_result");
        assert_eq!(body, json!({"id": "x"}));
        assert!(verb_and_body("project", json!([1])).is_err());
    }
}
