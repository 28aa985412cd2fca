//! What the commands that run on the server host share (`demo load`, `admin bootstrap`,
//! `stream verify`, the demo tokens of `up --demo`): they talk to NATS directly with the
//! deployment's own keys (`TATRACK_NATS_CREDENTIALS`, default `<data dir>/nats-auth`), as its
//! `admin` user, and name the principal each request is for. People's commands go through the
//! gateway with a token instead (`client`).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tatrack_bus::auth::{Identity, User};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_contract::CommandReply;
use tatrack_contract::commands::token::Issue;
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::cli::Settings;

/// How long a request waits for a service that is not listening yet (right after start).
const START_WAIT: Duration = Duration::from_secs(30);

/// Connects as the deployment's `admin` user.
pub async fn connect_admin(settings: &Settings, name: &str) -> anyhow::Result<async_nats::Client> {
    let identity = Identity::load(&settings.nats_credentials, User::Admin)?;
    identity
        .connect_options(name)
        .connection_timeout(Duration::from_secs(3))
        .connect(tatrack_bus::server_urls(&settings.nats_url).as_slice())
        .await
        .with_context(|| {
            format!(
                "connecting to NATS at {} as admin (is it running? are the keys in {}?)",
                settings.nats_url,
                settings.nats_credentials.display()
            )
        })
}

/// One request on `subject`, waiting (bounded) for a service that is not listening yet.
pub async fn request<B: Serialize, A: DeserializeOwned>(
    client: &async_nats::Client,
    subject: &str,
    meta: &RequestMeta,
    body: &B,
) -> Result<A, rpc::Error> {
    let deadline = Instant::now() + START_WAIT;
    loop {
        match rpc::request(client, subject, meta, body, Duration::from_secs(10)).await {
            Err(rpc::Error::NoResponders(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// A token to record: who it is for and what it is called.
pub struct NewToken<'a> {
    pub id: Uuid,
    pub role: Role,
    pub organisation: Option<&'a str>,
    pub member_state: Option<&'a str>,
    pub label: &'a str,
    pub on: Option<jiff::civil::Date>,
}

/// Records `token_issue` for `secret` (only its hash is sent) as `principal`, under
/// `command_id`: an event like every token's.
pub async fn issue_token(
    client: &async_nats::Client,
    principal: Principal,
    command_id: Uuid,
    token: &NewToken<'_>,
    secret: &str,
) -> anyhow::Result<CommandReply> {
    let body = Issue {
        id: Some(token.id),
        role: token.role,
        organisation: token.organisation.map(str::to_owned),
        member_state: token.member_state.map(str::to_ascii_uppercase),
        label: token.label.to_owned(),
        hash: tatrack_gateway::token::hash(secret),
        // The service's default: 90 days from its today.
        expires_on: None,
        on: token.on,
    };
    let meta = RequestMeta {
        command_id: Some(command_id),
        ..RequestMeta::new(principal)
    };
    let subject = tatrack_bus::subjects::command_subject("partners", "token_issue");
    Ok(request(client, &subject, &meta, &body).await?)
}
