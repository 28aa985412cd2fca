//! `tatrack token issue|revoke|list`: access tokens for the HTTP gateway. The CLI is trusted by
//! NATS permissions (see `client::Actor`), so it sends these as an admin. `issue` prints only the
//! new secret on stdout; the services record its hash, never the secret.

use clap::Subcommand;
use serde_json::{Value, json};
use tatrack_domain::Role;
use uuid::Uuid;

use crate::cli::Settings;
use crate::client::{self, Actor};
use crate::table;

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Issue a token; prints only the token (keep it: it cannot be shown again).
    Issue {
        /// admin, coordinator, donor, state_focal_point or auditor.
        #[arg(long)]
        role: Role,
        /// The organisation a donor token acts for.
        #[arg(long = "org")]
        organisation: Option<String>,
        /// The country (ISO 3166-1 alpha-2) a focal point token acts for.
        #[arg(long = "country")]
        member_state: Option<String>,
        /// What the token is for, or whom it was given to (default: the role and the day).
        #[arg(long)]
        label: Option<String>,
    },
    /// Revoke a token: every gateway refuses it within a second.
    Revoke {
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// List tokens (never their secrets or hashes).
    List,
}

/// The CLI's principal for token commands: an admin, named like the CLI's other principals.
fn admin() -> Actor {
    Actor {
        role: Role::Admin,
        organisation: None,
        member_state: None,
        as_of: None,
        known_at: None,
    }
}

/// The `token_issue` body for a token with `secret`.
pub fn issue_body(
    id: Uuid,
    role: Role,
    organisation: Option<&str>,
    member_state: Option<&str>,
    label: &str,
    secret: &str,
) -> Value {
    json!({
        "id": id,
        "role": role,
        "organisation": organisation,
        "member_state": member_state.map(str::to_ascii_uppercase),
        "label": label,
        "hash": tatrack_gateway::token::hash(secret),
    })
}

pub async fn token(settings: &Settings, cmd: TokenCmd) -> anyhow::Result<()> {
    let actor = admin();
    let settings = Settings {
        actor: actor.clone(),
        ..settings.clone()
    };
    let client = client::connect(&settings).await?;
    match cmd {
        TokenCmd::Issue {
            role,
            organisation,
            member_state,
            label,
        } => {
            let secret = tatrack_gateway::token::new_secret();
            let label = label.unwrap_or_else(|| format!("{role} token"));
            let body = issue_body(
                Uuid::now_v7(),
                role,
                organisation.as_deref(),
                member_state.as_deref(),
                &label,
                &secret,
            );
            client::command_to(&client, &actor, "partners", "token_issue", body).await?;
            println!("{secret}");
        }
        TokenCmd::Revoke { id, reason } => {
            // The service dates it today.
            let body = json!({ "id": id, "reason": reason });
            let reply =
                client::command_to(&client, &actor, "partners", "token_revoke", body).await?;
            if settings.json {
                println!("{reply}");
            } else {
                println!("revoked: {id}");
            }
        }
        TokenCmd::List => {
            let rows = client::query(&client, &actor, "token_list", json!({})).await?;
            if settings.json {
                println!("{rows}");
                return Ok(());
            }
            let text = |v: &Value| client::text(v);
            let rows: Vec<Vec<String>> = rows
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|t| {
                    vec![
                        text(&t["id"]),
                        text(&t["status"]),
                        text(&t["role"]),
                        text(&t["organisation"]),
                        text(&t["member_state"]),
                        text(&t["issued_on"]),
                        text(&t["label"]),
                    ]
                })
                .collect();
            table::print(
                &["id", "status", "role", "org", "country", "issued", "label"],
                &rows,
            );
        }
    }
    Ok(())
}

/// The demo's coordinator token id.
pub const DEMO_COORDINATOR_TOKEN: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0009_0001);
/// The demo's donor token id (for `DEMO-DONOR`).
pub const DEMO_DONOR_TOKEN: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0009_0002);

/// The demo's private seed: created on first start in `<data dir>/demo-tokens.seed` (readable by
/// its owner only), so every restart derives the same demo tokens and no secret is written down.
fn demo_seed(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let path = data_dir.join("demo-tokens.seed");
    match std::fs::read(&path) {
        Ok(seed) if !seed.is_empty() => return Ok(seed),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let seed = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(seed.as_bytes())?;
    file.sync_all()?;
    Ok(seed.into_bytes())
}

/// Issues the demo's coordinator and donor tokens (fixed ids and command ids, so a restart
/// records nothing new) and returns their secrets: `(coordinator, donor)`.
pub async fn demo_tokens(settings: &Settings) -> anyhow::Result<(String, String)> {
    use std::time::{Duration, Instant};
    use tatrack_bus::rpc::{self, RequestMeta};
    use tatrack_bus::subjects;

    let seed = demo_seed(&settings.data_dir)?;
    let client = client::connect(settings).await?;
    let admin = admin();
    let mut secrets = Vec::new();
    for (n, (id, role, organisation, label)) in [
        (
            DEMO_COORDINATOR_TOKEN,
            Role::Coordinator,
            None,
            "demo coordinator",
        ),
        (
            DEMO_DONOR_TOKEN,
            Role::Donor,
            Some(crate::demo::DEMO_DONOR),
            "demo donor",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let secret = tatrack_gateway::token::derived_secret(&seed, id);
        let mut body = issue_body(id, role, organisation, None, label, &secret);
        // A fixed day, so the body (and its command id) is the same on every start.
        body["on"] = json!("2026-01-01");
        let meta = RequestMeta {
            command_id: Some(crate::demo::demo_id(90_100 + u32::try_from(n)?)),
            ..RequestMeta::new(admin.principal())
        };
        let subject = subjects::command_subject("partners", "token_issue");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match rpc::request::<_, Value>(&client, &subject, &meta, &body, Duration::from_secs(10))
                .await
            {
                Ok(_) => break,
                Err(rpc::Error::NoResponders(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => anyhow::bail!("issuing the demo {role} token: {e}"),
            }
        }
        secrets.push(secret);
    }
    let donor = secrets.pop().unwrap_or_default();
    let coordinator = secrets.pop().unwrap_or_default();
    Ok((coordinator, donor))
}
