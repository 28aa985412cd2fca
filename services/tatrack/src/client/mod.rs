//! The CLI as a client of the HTTP gateway, like `gh` or `kubectl`: every user command sends the
//! contract's typed request (`tatrack_contract::commands`) to its resource route
//! (`tatrack_contract::routes`, the table the gateway serves) with the signed-in token, and reads
//! the contract's answer types. This file is the plumbing: the base URL and token, the route of
//! a verb or view, `Idempotency-Key` per command (a retry after a lost answer is the same
//! command), query parameters (`--as-of`, `--known-at`, filters), paging through `next_cursor`,
//! and problem+json turned into an error that names the flag the person typed, with the request
//! id. One file per resource family holds the commands.

pub mod args;
pub mod assessments;
pub mod credentials;
pub mod iati;
pub mod matching;
pub mod output;
pub mod partners;
pub mod projects;
pub mod reports;
pub mod tokens;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tatrack_contract::CommandReply;
use tatrack_contract::answers::Page;
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::routes::{self, Route, Target};
use tatrack_contract::views;
use tatrack_domain::aggregate::Aggregate;
use uuid::Uuid;

use crate::exit;

/// The route table, made once.
static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(routes::routes);

/// Items asked per page when the CLI walks a whole list (the gateway's largest page).
const PAGE: usize = 1000;

/// How long a request may take: a report as of a past day may fold every stream first.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

/// How long the CLI keeps retrying while the server says a service is not there yet (503):
/// right after `tatrack up` starts. A command is retried with its Idempotency-Key, so it is done
/// once whatever the retries.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(10);

/// The longest `Retry-After` the CLI waits out by itself on a 429 (a script importing a file
/// meets the per-token rate); a longer one (the report quota) is reported instead.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(5);

/// What went wrong, with the exit status a script acts on (`crate::exit`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "not signed in: run `tatrack login --url http://127.0.0.1:8080` with a token from your administrator, or set TATRACK_URL and TATRACK_TOKEN"
    )]
    NotSignedIn,
    /// Input the CLI refused before sending anything.
    #[error("invalid {flag}: {reason}")]
    Invalid { flag: String, reason: String },
    /// The server's answer was not a success: its words, the field renamed to the flag.
    #[error("{message}{}", request_id.as_deref().map(|id| format!("\n  request id: {id}")).unwrap_or_default())]
    Refused {
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    #[error("cannot reach tatrack at {url}: {reason} (is it running? is the URL right?)")]
    Unreachable { url: String, reason: String },
    #[error("unexpected answer from {what}: {reason}")]
    Unexpected { what: String, reason: String },
}

impl Error {
    /// The exit status (see `crate::exit`).
    pub fn status(&self) -> u8 {
        match self {
            Error::NotSignedIn => exit::NOT_ALLOWED,
            Error::Invalid { .. } => exit::BAD_INPUT,
            Error::Refused { status, .. } => exit::for_http(*status),
            Error::Unreachable { .. } | Error::Unexpected { .. } => exit::FAILED,
        }
    }

    pub fn invalid(flag: &str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            flag: flag.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The contract's field names a command's flags stand for (`member_state` is `--country`), so
/// an error the server names by field is told by the flag the person typed. A field is looked up
/// by its whole path, then by its leading parts (`estimated_cost.amount_minor` is `--cost`);
/// `on`, `reason`, `as_of` and `known_at` are the same for every command.
#[derive(Debug, Clone, Copy)]
pub struct Flags(pub &'static [(&'static str, &'static str)]);

impl Flags {
    pub const NONE: Flags = Flags(&[]);

    const COMMON: &'static [(&'static str, &'static str)] = &[
        ("on", "--on"),
        ("reason", "--reason"),
        ("as_of", "--as-of"),
        ("known_at", "--known-at"),
        ("id", "ID"),
    ];

    /// The flag `field` is given by, if the command has one.
    pub fn flag(&self, field: &str) -> Option<&'static str> {
        let mut path = field;
        loop {
            if let Some((_, flag)) = self.0.iter().chain(Self::COMMON).find(|(f, _)| *f == path) {
                return Some(flag);
            }
            path = path.rsplit_once('.')?.0;
        }
    }

    /// The server's message with the field it names told as the flag: `invalid member_state:
    /// unknown country code "XX"` becomes `invalid --country: unknown country code "XX"`.
    pub fn reword(&self, field: Option<&str>, message: &str) -> String {
        let Some((field, flag)) = field.and_then(|f| Some((f, self.flag(f)?))) else {
            return message.to_owned();
        };
        match message.strip_prefix(&format!("invalid {field}")) {
            Some(rest) if rest.starts_with(':') || rest.is_empty() => {
                format!("invalid {flag}{rest}")
            }
            _ => format!("{message} ({flag})"),
        }
    }
}

/// The signed-in client and the global options every user command takes.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port`: the API lives under `/api/v1`.
    base: String,
    token: String,
    /// `--json`: print JSON instead of tables.
    pub json: bool,
    /// `--as-of`: the business date views answer for (default: the server's today).
    pub as_of: Option<Date>,
    /// `--known-at`: as the system knew it then.
    pub known_at: Option<String>,
    /// The CLI's today (the clock `--now`/`TATRACK_NOW` sets), for what it dates itself.
    pub today: Date,
}

/// The global options a user command needs, as the command line gave them.
#[derive(Debug, Clone)]
pub struct Options {
    pub url: Option<String>,
    pub json: bool,
    pub as_of: Option<Date>,
    pub known_at: Option<String>,
    pub today: Date,
}

impl Client {
    /// The client for the signed-in user: `--url`/`TATRACK_URL` and `TATRACK_TOKEN` override
    /// what `tatrack login` saved; without a token, `Error::NotSignedIn`.
    pub fn signed_in(options: &Options) -> anyhow::Result<Self> {
        let session = credentials::resolve(options.url.as_deref())?;
        Self::new(&session.url, session.token, options)
    }

    /// A client for `url` with `token` (what `tatrack login` checks before saving it).
    pub fn new(url: &str, token: String, options: &Options) -> anyhow::Result<Self> {
        let base = base_url(url)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("tatrack-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            base,
            token,
            json: options.json,
            as_of: options.as_of,
            known_at: options.known_at.clone(),
            today: options.today,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The same client without `--as-of` and `--known-at`: for a question about a point in
    /// time of its own (a report's changes).
    pub fn at_no_point(&self) -> Client {
        Client {
            as_of: None,
            known_at: None,
            ..self.clone()
        }
    }

    /// Sends a command: `verb`'s route with `id` (and any other path parameter, from the body)
    /// in its path, `body` as JSON, a new Idempotency-Key. Returns the answer as `A`.
    pub async fn command<B: Serialize, A: DeserializeOwned>(
        &self,
        verb: Verb,
        id: Option<&str>,
        body: &B,
        flags: Flags,
    ) -> anyhow::Result<A> {
        self.command_keyed(verb, id, body, Uuid::new_v4(), flags)
            .await
    }

    /// Like `command`, with the Idempotency-Key given: the same key from the same token is the
    /// same command, answered once (an IATI import sends keys derived from the file).
    pub async fn command_keyed<B: Serialize, A: DeserializeOwned>(
        &self,
        verb: Verb,
        id: Option<&str>,
        body: &B,
        key: Uuid,
        flags: Flags,
    ) -> anyhow::Result<A> {
        let route = route_of(|t| matches!(t, Target::Command(c) if c.verb == verb))
            .ok_or_else(|| anyhow::anyhow!("no route sends {verb}"))?;
        let body = match serde_json::to_value(body)? {
            Value::Object(map) => map,
            _ => anyhow::bail!("the body of {verb} is not an object"),
        };
        let path = fill(route.path, id, &body)?;
        let answer = self
            .send(
                Method::POST,
                &path,
                None,
                Some(serde_json::to_vec(&body)?),
                Some(key),
                flags,
            )
            .await?;
        decode(&format!("POST {path}"), answer)
    }

    /// Sends `verb` on the object `args` name, with the body they make (`MoveArgs`, `EndingArgs`,
    /// `DatedArgs`).
    pub async fn command_on<A: DeserializeOwned>(
        &self,
        verb: Verb,
        args: &impl args::OnOne,
    ) -> anyhow::Result<A> {
        self.command(
            verb,
            Some(&args.id().to_string()),
            &args.body(),
            Flags::NONE,
        )
        .await
    }

    /// Asks a view of one object that takes no parameters of its own: `GET /offers/{id}`, or the
    /// caller's own with no id (`GET /me`).
    pub async fn show<A: DeserializeOwned>(
        &self,
        view: View,
        id: Option<&str>,
    ) -> anyhow::Result<A> {
        self.view(view, id, &views::Show::default(), Flags::NONE)
            .await
    }

    /// `show`: the object `view` answers (see [`Client::show`]), as `key: value` lines or JSON.
    pub async fn print_one<A: DeserializeOwned + Serialize>(
        &self,
        view: View,
        id: Option<&str>,
    ) -> anyhow::Result<()> {
        let item: A = self.show(view, id).await?;
        output::one(self.json, &item);
        Ok(())
    }

    /// `list`: every item of a list view, as a table of `columns` (see `output::list`) or JSON.
    pub async fn print_list<T: DeserializeOwned + Serialize, P: Serialize>(
        &self,
        view: View,
        params: &P,
        flags: Flags,
        columns: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let items: Vec<T> = self.list(view, params, flags).await?;
        output::list(self.json, &items, columns);
        Ok(())
    }

    /// Sends a domain command as the contract's request for it, under `key`: what an IATI import
    /// plans. See [`planned`].
    pub async fn command_planned<A: Aggregate>(
        &self,
        command: &A::Command,
        key: Uuid,
    ) -> anyhow::Result<CommandReply> {
        let (verb, id, body) = planned::<A>(command)?;
        self.command_keyed(verb, id.as_deref(), &body, key, Flags::NONE)
            .await
    }

    /// Asks a view that answers one object (`GET /needs/{id}`, `GET /rates`...).
    pub async fn view<P: Serialize, A: DeserializeOwned>(
        &self,
        view: View,
        id: Option<&str>,
        params: &P,
        flags: Flags,
    ) -> anyhow::Result<A> {
        let route = route_of(|t| matches!(t, Target::View(v) if v.view == view))
            .ok_or_else(|| anyhow::anyhow!("no route asks {view}"))?;
        let path = fill(route.path, id, &Map::new())?;
        let query = self.query(params)?;
        let answer = self
            .send(Method::GET, &path, Some(query), None, None, flags)
            .await?;
        decode(&format!("GET {path}"), answer)
    }

    /// Asks a list view for every item, page by page (`limit`, then `cursor` = `next_cursor`).
    pub async fn list<P: Serialize, T: DeserializeOwned>(
        &self,
        view: View,
        params: &P,
        flags: Flags,
    ) -> anyhow::Result<Vec<T>> {
        let route = route_of(|t| matches!(t, Target::View(v) if v.view == view))
            .ok_or_else(|| anyhow::anyhow!("no route asks {view}"))?;
        let mut query = self.query(params)?;
        query.insert("limit".into(), Value::from(PAGE));
        let mut items = Vec::new();
        loop {
            let answer = self
                .send(
                    Method::GET,
                    route.path,
                    Some(query.clone()),
                    None,
                    None,
                    flags,
                )
                .await?;
            let page: Page<T> = decode(&format!("GET {}", route.path), answer)?;
            items.extend(page.items);
            match page.next_cursor {
                Some(cursor) => {
                    query.insert("cursor".into(), Value::String(cursor));
                }
                None => return Ok(items),
            }
        }
    }

    /// A view's parameters with the global `--as-of` and `--known-at` (unless the command set
    /// its own).
    fn query<P: Serialize>(&self, params: &P) -> anyhow::Result<Map<String, Value>> {
        let mut map = match serde_json::to_value(params)? {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => anyhow::bail!("view parameters are not an object"),
        };
        map.retain(|_, v| !v.is_null());
        if let Some(day) = self.as_of {
            map.entry("as_of")
                .or_insert_with(|| Value::String(day.to_string()));
        }
        if let Some(known) = &self.known_at {
            map.entry("known_at")
                .or_insert_with(|| Value::String(known.clone()));
        }
        Ok(map)
    }

    /// One request, retried while the server says its service is not there yet (503) or the
    /// answer was lost on the way (a command keeps its key, so a retry is the same command).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: Option<Map<String, Value>>,
        body: Option<Vec<u8>>,
        key: Option<Uuid>,
        flags: Flags,
    ) -> Result<Value, Error> {
        let mut url = format!("{}{}{path}", self.base, routes::PREFIX);
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            let mut encoded = form_urlencoded::Serializer::new(String::new());
            for (name, value) in &query {
                match value {
                    Value::String(s) => encoded.append_pair(name, s),
                    other => encoded.append_pair(name, &other.to_string()),
                };
            }
            url = format!("{url}?{}", encoded.finish());
        }
        let started = Instant::now();
        let mut lost = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.token)
                .header("accept", "application/json");
            if let Some(key) = key {
                request = request.header("idempotency-key", key.to_string());
            }
            if let Some(body) = &body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let response = match request.send().await {
                Ok(response) => response,
                // Sent, perhaps done, answer lost: once more, as the same command.
                Err(e) if (e.is_timeout() || e.is_request()) && !e.is_connect() && lost == 0 => {
                    lost += 1;
                    tracing::debug!(error = %e, "retrying {method} {path}");
                    continue;
                }
                Err(e) => {
                    return Err(Error::Unreachable {
                        url: self.base.clone(),
                        reason: error_chain(&e),
                    });
                }
            };
            let status = response.status();
            // Over the token's rate (429): wait as long as the server says, when that is short,
            // and send the same request again (a command keeps its key).
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
            let request_id = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let text = response.text().await.map_err(|e| Error::Unreachable {
                url: self.base.clone(),
                reason: error_chain(&e),
            })?;
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| Error::Unexpected {
                    what: format!("{method} {path}"),
                    reason: format!("not JSON ({e})"),
                });
            }
            if let Some(wait) = retry_after
                .filter(|wait| status == StatusCode::TOO_MANY_REQUESTS && *wait <= RATE_LIMIT_WAIT)
            {
                tracing::debug!(%status, ?wait, "waiting, then retrying {method} {path}");
                tokio::time::sleep(wait).await;
                continue;
            }
            if status == StatusCode::SERVICE_UNAVAILABLE && started.elapsed() < UNAVAILABLE_RETRY {
                tracing::debug!(%status, "retrying {method} {path}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            return Err(refused(status, &text, request_id, flags));
        }
    }
}

/// The error for an answer that is not a success, from its problem+json body.
fn refused(status: StatusCode, text: &str, request_id: Option<String>, flags: Flags) -> Error {
    let problem: Option<tatrack_contract::Problem> = serde_json::from_str(text).ok();
    let (detail, field, request_id) = match problem {
        Some(p) => (p.detail, p.field, p.request_id.or(request_id)),
        None => (
            format!(
                "{status}{}",
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", text.chars().take(200).collect::<String>())
                }
            ),
            None,
            request_id,
        ),
    };
    // The server's words may quote what someone typed: shown escaped, like every output.
    let mut message = output::printable(&flags.reword(field.as_deref(), &detail));
    if status == StatusCode::UNAUTHORIZED {
        message.push_str(
            "\n  your token was refused: sign in again with `tatrack login`, or ask your administrator for a new token",
        );
    }
    Error::Refused {
        status: status.as_u16(),
        message,
        request_id,
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn decode<A: DeserializeOwned>(what: &str, answer: Value) -> anyhow::Result<A> {
    serde_json::from_value(answer).map_err(|e| {
        Error::Unexpected {
            what: what.to_owned(),
            reason: e.to_string(),
        }
        .into()
    })
}

/// A domain command as the contract's request: the verb `<aggregate>_<type>` its tag names, its
/// `id` for the path when the route takes one (a creation keeps it in the body), the other fields
/// as the body, checked against the route's body type. The contract's request has the domain
/// command's field names (`decode` copies one into the other), so no field is renamed.
fn planned<A: Aggregate>(
    command: &A::Command,
) -> anyhow::Result<(Verb, Option<String>, Map<String, Value>)> {
    let Value::Object(mut body) = serde_json::to_value(command)? else {
        anyhow::bail!("a {} command is not an object", A::NAME);
    };
    let action = match body.remove("type") {
        Some(Value::String(action)) => action,
        _ => anyhow::bail!("a {} command names no type", A::NAME),
    };
    let name = format!("{}_{action}", A::NAME);
    let (route, command) = ROUTES
        .iter()
        .find_map(|r| match r.target {
            Target::Command(c) if c.verb.as_str() == name => Some((r, c)),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no route sends {name}"))?;
    let id = if route.path.contains("{id}") {
        match body.remove("id") {
            Some(Value::String(id)) => Some(id),
            _ => anyhow::bail!("a {name} command names no id"),
        }
    } else {
        None
    };
    (command.check)(&Value::Object(body.clone()))
        .map_err(|e| anyhow::anyhow!("{name} does not fit its request: {}", e.message))?;
    Ok((command.verb, id, body))
}

fn route_of(target: impl Fn(&Target) -> bool) -> Option<&'static Route> {
    ROUTES.iter().find(|r| target(&r.target))
}

/// A route's path with its parameters: `{id}` from `id`, any other (`{milestone_id}`) from the
/// body field of that name.
fn fill(path: &str, id: Option<&str>, body: &Map<String, Value>) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| anyhow::anyhow!("bad route {path}"))?;
        out.push_str(&rest[..start]);
        let name = &rest[start + 1..end];
        let value = if name == "id" {
            id.map(str::to_owned)
        } else {
            body.get(name).and_then(Value::as_str).map(str::to_owned)
        };
        let value = value.ok_or_else(|| anyhow::anyhow!("{path} needs {name}"))?;
        out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `http://host:port` from what the person gave (`127.0.0.1:8080`, `http://host:8080/api/v1/`).
pub fn base_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(routes::PREFIX).unwrap_or(url);
    let url = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let parsed = reqwest::Url::parse(&url).map_err(|e| Error::invalid("--url", e.to_string()))?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(Error::invalid(
                "--url",
                "https is not built into this tatrack: the gateway serves plain HTTP on its host; put a TLS proxy in front and use http:// from its host",
            )
            .into());
        }
        other => return Err(Error::invalid("--url", format!("{other}:// is not http://")).into()),
    }
    if parsed.host_str().is_none() {
        return Err(Error::invalid("--url", "names no host").into());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_take_the_id_and_the_body_parameters() {
        let milestone = Uuid::from_u128(7);
        let body = serde_json::to_value(tatrack_contract::commands::project::CompleteMilestone {
            milestone_id: milestone,
            on: None,
        })
        .unwrap();
        let Value::Object(body) = body else {
            unreachable!()
        };
        assert_eq!(
            fill(
                "/projects/{id}/milestones/{milestone_id}/complete",
                Some("p-1"),
                &body
            )
            .unwrap(),
            format!("/projects/p-1/milestones/{milestone}/complete")
        );
        assert!(fill("/needs/{id}", None, &Map::new()).is_err());
    }

    #[test]
    fn a_planned_command_is_sent_as_the_request_the_contract_decodes_back() {
        use tatrack_contract::commands::{organisation, project};
        use tatrack_domain::organisation::{Organisation, OrganisationCommand, OrganisationKind};
        use tatrack_domain::project::{Project, ProjectCommand, TransactionKind};
        let on = jiff::civil::date(2026, 3, 1);
        let id = Uuid::from_u128(1);
        // What the route's path takes back out (the gateway puts it back as the body's `id`).
        fn sent<A: Aggregate>(command: &A::Command) -> (String, Value) {
            let (verb, id, mut body) = planned::<A>(command).unwrap();
            if let Some(id) = id {
                body.insert("id".into(), Value::String(id));
            }
            let action = verb.as_str().strip_prefix(&format!("{}_", A::NAME));
            (action.unwrap().to_owned(), Value::Object(body))
        }
        let projects = [
            ProjectCommand::Create {
                id,
                iati_identifier: "XM-DAC-1-1".into(),
                title: "Borders".into(),
                description: "Training".into(),
                recipient_country: "GH".into(),
                theme: "BOR".into(),
                dac_sector: "15210".into(),
                participating: vec![],
                planned_start: on,
                planned_end: on,
                budget: None,
                needs: vec![Uuid::from_u128(2)],
                referrals: vec![],
                on,
            },
            ProjectCommand::AddTransaction {
                id,
                transaction_id: Uuid::from_u128(3),
                kind: TransactionKind::Commitment,
                value: tatrack_domain::Money {
                    amount_minor: 100,
                    currency: "USD".into(),
                },
                on,
                provider: Some("UNOCT".into()),
                receiver: None,
                description: None,
            },
            ProjectCommand::AddDocument {
                id,
                url: "https://example.org/a.pdf".into(),
                title: "Plan".into(),
                category: "A01".into(),
                on,
            },
        ];
        for command in projects {
            let (action, body) = sent::<Project>(&command);
            assert_eq!(project::decode(&action, body, on).unwrap(), command);
        }
        let organisations = [
            OrganisationCommand::Register {
                id: "UNOCT".into(),
                name: "UNOCT".into(),
                kind: OrganisationKind::UnEntity,
                iati_type: "40".into(),
                iati_identifier: None,
                country: None,
                on,
            },
            OrganisationCommand::Deactivate {
                id: "UNOCT".into(),
                on,
                reason: "merged".into(),
            },
        ];
        for command in organisations {
            let (action, body) = sent::<Organisation>(&command);
            assert_eq!(organisation::decode(&action, body, on).unwrap(), command);
        }
        let (verb, id, body) = planned::<Project>(&ProjectCommand::CompleteMilestone {
            id,
            milestone_id: Uuid::from_u128(4),
            on,
        })
        .unwrap();
        assert_eq!(verb, Verb::ProjectCompleteMilestone);
        assert_eq!(id, Some(Uuid::from_u128(1).to_string()));
        assert!(!body.contains_key("id") && !body.contains_key("type"));
    }

    #[test]
    fn every_verb_and_view_the_cli_sends_has_its_route() {
        for verb in Verb::ALL {
            let routed = route_of(|t| matches!(t, Target::Command(c) if c.verb == *verb));
            // Derived facts between services, and the web console's own verbs.
            let internal = matches!(verb, Verb::NeedRecordCoverage | Verb::OfferRecordCommitment)
                || tatrack_contract::routes::CONSOLE_VERBS.contains(verb);
            assert_eq!(routed.is_some(), !internal, "{verb}");
        }
        for view in View::ALL {
            assert!(route_of(|t| matches!(t, Target::View(v) if v.view == *view)).is_some());
        }
    }

    #[test]
    fn fields_are_told_by_their_flags() {
        let flags = Flags(&[("member_state", "--country"), ("estimated_cost", "--cost")]);
        assert_eq!(
            flags.reword(
                Some("member_state"),
                "invalid member_state: unknown country code \"XX\""
            ),
            "invalid --country: unknown country code \"XX\""
        );
        assert_eq!(
            flags.reword(
                Some("estimated_cost.amount_minor"),
                "invalid estimated_cost.amount_minor: must be positive"
            ),
            "invalid --cost: must be positive"
        );
        assert_eq!(
            flags.reword(Some("on"), "invalid on: 2026-12-02 is after today"),
            "invalid --on: 2026-12-02 is after today"
        );
        assert_eq!(
            flags.reword(Some("need_id"), "invalid need_id: not shared"),
            "invalid need_id: not shared"
        );
        assert_eq!(
            flags.reword(Some("member_state"), "KE may not do that"),
            "KE may not do that (--country)"
        );
        assert_eq!(flags.reword(None, "need x not found"), "need x not found");
    }

    #[test]
    fn urls_are_taken_as_people_write_them() {
        for given in [
            "127.0.0.1:8080",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/api/v1",
        ] {
            assert_eq!(base_url(given).unwrap(), "http://127.0.0.1:8080", "{given}");
        }
        assert!(base_url("https://tatrack.example").is_err());
        assert!(base_url("ftp://x").is_err());
    }

    #[test]
    fn refusals_keep_the_servers_words_and_status() {
        let text = r#"{"type":"urn:tatrack:problem:invalid","title":"Bad Request","status":400,
            "detail":"invalid member_state: unknown country code \"XX\"","field":"member_state",
            "request_id":"r-1"}"#;
        let e = refused(
            StatusCode::BAD_REQUEST,
            text,
            None,
            Flags(&[("member_state", "--country")]),
        );
        assert_eq!(e.status(), exit::BAD_INPUT);
        assert_eq!(
            e.to_string(),
            "invalid --country: unknown country code \"XX\"\n  request id: r-1"
        );
        let e = refused(StatusCode::NOT_FOUND, "", Some("r-2".into()), Flags::NONE);
        assert_eq!(e.status(), exit::NOT_FOUND);
        assert!(e.to_string().contains("r-2"));
    }
}
