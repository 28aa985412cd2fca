//! Administration, for admins only: the people with console accounts (invite, send a new link,
//! disable) and the API's access tokens (issue, revoke). An invitation link's secret and a
//! token's secret are made here, shown once on the answer to the form that made them, and never
//! stored: the partners service records only their SHA-256. No page shows a hash.
//!
//! The account commands are console verbs (`routes::CONSOLE_VERBS`), not API routes, so they
//! go over NATS from here (`send_account`) as the admin, with the command id derived from the
//! form's key like every other form's: a form sent twice records once. The secret is derived
//! from the gateway's seed and that command id, so the second answer shows the same link.

use crate::web::Posted;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_contract::answers::{AccountRow, TokenRow};
use tatrack_contract::bus::{Verb, View};
use tatrack_domain::Role;
use tatrack_domain::account::AccountStatus;
use tatrack_domain::organisation::{OrganisationState, OrganisationStatus};
use tatrack_domain::token::TokenStatus;
use uuid::Uuid;

use super::FormKeys;
use super::offers::Choice;
use crate::app::{self, App};
use crate::password;
use crate::problem::Problem;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render_with, see_other};

/// How long an invitation link works: long enough to reach a person and be opened, short
/// enough that a forgotten one does not stay a way in.
const INVITATION_DAYS: i16 = 14;

/// The roles a person or a token may have (`system` is the services' own).
const ROLES: [Role; 5] = [
    Role::Admin,
    Role::Coordinator,
    Role::Donor,
    Role::StateFocalPoint,
    Role::Auditor,
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Seen {
    /// The position of the admin's own last write; not a number: ignored.
    #[serde(default)]
    seen: String,
}

pub(crate) struct PersonRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) scope: String,
    pub(crate) status: String,
    pub(crate) invitation: String,
    pub(crate) may_reinvite: bool,
    pub(crate) may_disable: bool,
    pub(crate) reinvite_key: String,
    pub(crate) disable_key: String,
    /// The refusal of the last move on this account.
    pub(crate) problem: Option<String>,
    pub(crate) reason: String,
}

pub(crate) struct TokenLine {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) role: String,
    pub(crate) scope: String,
    pub(crate) status: String,
    pub(crate) issued_on: String,
    pub(crate) expires_on: String,
    pub(crate) revoked: String,
    pub(crate) may_revoke: bool,
    pub(crate) revoke_key: String,
    pub(crate) problem: Option<String>,
    pub(crate) reason: String,
}

/// A secret shown this once: an invitation link or a token.
pub(crate) struct Shown {
    pub(crate) what: &'static str,
    pub(crate) whom: String,
    pub(crate) secret: String,
    pub(crate) until: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Option<Chrome>,
    people: Vec<PersonRow>,
    tokens: Vec<TokenLine>,
    invite_roles: Vec<Choice>,
    invite_organisations: Vec<Choice>,
    invite_countries: Vec<Choice>,
    token_roles: Vec<Choice>,
    token_organisations: Vec<Choice>,
    token_countries: Vec<Choice>,
    shown: Option<Shown>,
    /// A refusal of the invite or the token form (`invite`, `token`), with what was typed.
    problem: Option<Problem>,
    refused_form: String,
    typed: FormData,
    keys: FormKeys,
    token_key: String,
    invitation_days: i16,
}

impl AdminPage {
    /// The refusal's message when it is about `field` of `form`.
    fn error_for(&self, form: &str, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|_| self.refused_form == form)
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }

    /// What was typed in `form`'s field, when that form was refused.
    fn typed_for(&self, form: &str, field: &str) -> String {
        if self.refused_form == form {
            self.typed.raw(field)
        } else {
            String::new()
        }
    }
}

fn forbidden(viewer: &Viewer) -> Option<Response> {
    (!viewer.principal.is_admin()).then(|| {
        error_page(
            &Problem::forbidden("administration is for administrators only"),
            Some(viewer.chrome("/admin")),
        )
    })
}

fn scope(organisation: Option<&str>, member_state: Option<&str>) -> String {
    match (organisation, member_state) {
        (Some(o), _) => o.to_owned(),
        (None, Some(c)) => format::country(c),
        (None, None) => "—".to_owned(),
    }
}

fn choices(items: &[(String, String)], selected: &str) -> Vec<Choice> {
    items
        .iter()
        .map(|(value, label)| Choice {
            value: value.clone(),
            label: label.clone(),
            selected: value == selected,
        })
        .collect()
}

/// The page as it stands (after `seen`, the position of the admin's own last write).
async fn admin_page(app: &App, viewer: &Viewer, seen: Option<u64>) -> Result<AdminPage, Problem> {
    let params = match seen {
        Some(p) => json!({"min_position": p}),
        None => json!({}),
    };
    let accounts: Vec<AccountRow> = viewer.view(app, View::AccountList, params.clone()).await?;
    let tokens: Vec<TokenRow> = viewer.view(app, View::TokenList, params).await?;
    let registry: Vec<OrganisationState> =
        viewer.view(app, View::OrganisationList, json!({})).await?;
    let organisations: Vec<(String, String)> = registry
        .iter()
        .filter(|o| o.status == Some(OrganisationStatus::Active))
        .map(|o| (o.id.clone(), format!("{} ({})", o.name, o.id)))
        .collect();
    let countries: Vec<(String, String)> = tatrack_domain::codes::countries()
        .iter()
        .filter(|c| !c.withdrawn)
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    let roles: Vec<(String, String)> = ROLES
        .iter()
        .map(|r| (r.to_string(), format::role(*r).to_owned()))
        .collect();
    let people = accounts
        .iter()
        .map(|a| {
            let live = matches!(
                a.status,
                Some(AccountStatus::Invited | AccountStatus::Active)
            );
            PersonRow {
                id: a.id.to_string(),
                name: a.name.clone(),
                email: a.email.clone(),
                role: a.role.map_or("—", format::role).to_owned(),
                scope: scope(a.organisation.as_deref(), a.member_state.as_deref()),
                status: format::status(a.status),
                invitation: match (a.invitation_open, a.invitation_expires_on) {
                    (true, Some(d)) if d < app.today() => format!("expired on {d}"),
                    (true, Some(d)) => format!("open until {d}"),
                    _ => "—".to_owned(),
                },
                may_reinvite: live,
                // Not one's own account from here: another admin does that, so the last admin
                // cannot lock everyone out by a slip.
                may_disable: live && viewer.principal.id != format!("account:{}", a.id),
                reinvite_key: Uuid::now_v7().to_string(),
                disable_key: Uuid::now_v7().to_string(),
                problem: None,
                reason: String::new(),
            }
        })
        .collect();
    let tokens = tokens
        .iter()
        .map(|t| TokenLine {
            id: t.id.to_string(),
            label: t.label.clone(),
            role: t.role.map_or("—", format::role).to_owned(),
            scope: scope(t.organisation.as_deref(), t.member_state.as_deref()),
            status: format::status(t.status),
            issued_on: format::date(t.issued_on),
            expires_on: format::date(t.expires_on),
            revoked: match (&t.revoked_on, &t.revoke_reason) {
                (Some(on), Some(why)) => format!("{on}: {why}"),
                (Some(on), None) => on.to_string(),
                _ => String::new(),
            },
            may_revoke: t.status == Some(TokenStatus::Active),
            revoke_key: Uuid::now_v7().to_string(),
            problem: None,
            reason: String::new(),
        })
        .collect();
    Ok(AdminPage {
        chrome: Some(viewer.chrome("/admin")),
        people,
        tokens,
        invite_roles: choices(&roles, ""),
        invite_organisations: choices(&organisations, ""),
        invite_countries: choices(&countries, ""),
        token_roles: choices(&roles, ""),
        token_organisations: choices(&organisations, ""),
        token_countries: choices(&countries, ""),
        shown: None,
        problem: None,
        refused_form: String::new(),
        typed: FormData::default(),
        keys: FormKeys::new(&viewer.session.csrf),
        token_key: Uuid::now_v7().to_string(),
        invitation_days: INVITATION_DAYS,
    })
}

/// The page with a form's refusal next to its field and what was typed kept.
fn with_refusal(mut page: AdminPage, form: &str, problem: Problem, typed: FormData) -> AdminPage {
    let pick = |field: &str| typed.get(field).unwrap_or_default().to_owned();
    match form {
        "invite" => {
            for c in page.invite_roles.iter_mut() {
                c.selected = c.value == pick("role");
            }
            for c in page.invite_organisations.iter_mut() {
                c.selected = c.value == pick("organisation");
            }
            for c in page.invite_countries.iter_mut() {
                c.selected = c.value == pick("member_state");
            }
        }
        "token" => {
            for c in page.token_roles.iter_mut() {
                c.selected = c.value == pick("role");
            }
            for c in page.token_organisations.iter_mut() {
                c.selected = c.value == pick("organisation");
            }
            for c in page.token_countries.iter_mut() {
                c.selected = c.value == pick("member_state");
            }
        }
        _ => {}
    }
    // A refusal of a move on one row is shown on that row.
    if let Some(id) = form.strip_prefix("account:") {
        if let Some(row) = page.people.iter_mut().find(|r| r.id == id) {
            row.problem = Some(problem.detail.clone());
            row.reason = typed.raw("reason");
        }
    } else if let Some(id) = form.strip_prefix("token:")
        && let Some(row) = page.tokens.iter_mut().find(|r| r.id == id)
    {
        row.problem = Some(problem.detail.clone());
        row.reason = typed.raw("reason");
    }
    page.refused_form = form.to_owned();
    page.problem = Some(problem);
    page.typed = typed;
    page
}

async fn refused(
    app: &App,
    viewer: &Viewer,
    form: &str,
    problem: Problem,
    typed: FormData,
) -> Response {
    if !problem.status.is_client_error() {
        return error_page(&problem, Some(viewer.chrome("/admin")));
    }
    match admin_page(app, viewer, None).await {
        Ok(page) => {
            let status = problem.status;
            render_with(status, &with_refusal(page, form, problem, typed))
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/admin"))),
    }
}

pub(crate) async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Query(seen): Query<Seen>,
) -> Response {
    if let Some(refused) = forbidden(&viewer) {
        return refused;
    }
    match admin_page(&app, &viewer, seen.seen.trim().parse().ok()).await {
        Ok(page) => render_with(StatusCode::OK, &page),
        Err(p) => error_page(&p, Some(viewer.chrome("/admin"))),
    }
}

/// The command id of a form: derived from its key and the admin, as `Viewer::submit` does.
fn command_id(viewer: &Viewer, form: &FormData) -> Uuid {
    let key = form
        .get("form_key")
        .and_then(|k| k.parse::<Uuid>().ok())
        .unwrap_or_else(Uuid::now_v7);
    app::scoped_command_id(&viewer.principal.id, key)
}

/// Sends a console verb (`account_invite`, `account_reinvite`, `account_disable`) as the admin:
/// the body checked against its contract type first (a refusal names the field, nothing sent),
/// then over NATS to the partners service, which decides as for any command.
async fn send_account(
    app: &App,
    viewer: &Viewer,
    verb: Verb,
    command_id: Uuid,
    body: Map<String, Value>,
) -> Result<Value, Problem> {
    let body = Value::Object(body);
    let action = verb.as_str().trim_start_matches("account_");
    tatrack_contract::commands::account::decode(action, body.clone(), app.today())
        .map_err(Problem::from_error_body)?;
    let meta = RequestMeta {
        command_id: Some(command_id),
        ..RequestMeta::new(viewer.principal.clone())
    };
    rpc::request(
        &app.nats,
        &subjects::command_subject(verb.service().name(), verb.as_str()),
        &meta,
        &body,
        std::time::Duration::from_secs(10),
    )
    .await
    .map_err(|e| Problem::from_rpc(e, false))
}

/// The one-time link of a secret: absolute when the request named its host, else from the root.
fn invitation_link(app: &App, headers: &HeaderMap, secret: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(host) => {
            let scheme = if app.console.secure_cookies {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{host}/invitation/{secret}")
        }
        None => format!("/invitation/{secret}"),
    }
}

/// A new link's secret, its hash and its last day.
fn new_link(app: &App, command_id: Uuid) -> Result<(String, String, jiff::civil::Date), Problem> {
    // From the seed and the command id: the same form sent again makes the same link, so the
    // command is the same and records once.
    let secret = password::derived_invitation_secret(&app.token_seed, command_id);
    let hash = password::invitation_hash(&secret);
    let until = app
        .today()
        .checked_add(jiff::Span::new().days(INVITATION_DAYS))
        .map_err(|_| Problem::internal())?;
    Ok((secret, hash, until))
}

fn last_position(reply: &Value) -> Option<u64> {
    reply["last_position"].as_u64().filter(|p| *p > 0)
}

/// The page after a write that made a secret, with the secret shown this once.
async fn show_once(app: &App, viewer: &Viewer, reply: &Value, shown: Shown) -> Response {
    match admin_page(app, viewer, last_position(reply)).await {
        Ok(mut page) => {
            page.shown = Some(shown);
            render_with(StatusCode::OK, &page)
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/admin"))),
    }
}

/// Invites a person: records the account with the hash of a new link, and shows the link once.
pub(crate) async fn invite(
    State(app): State<App>,
    headers: HeaderMap,
    Posted { viewer, form }: Posted,
) -> Response {
    if let Some(refused) = forbidden(&viewer) {
        return refused;
    }
    let command_id = command_id(&viewer, &form);
    let sent = async {
        let role = form
            .get("role")
            .ok_or_else(|| Problem::invalid("role", "choose the person's role"))?;
        let (secret, hash, until) = new_link(&app, command_id)?;
        let mut body = Map::new();
        body.insert("id".into(), json!(command_id));
        body.insert("name".into(), json!(form.get("name").unwrap_or_default()));
        body.insert("email".into(), json!(form.get("email").unwrap_or_default()));
        body.insert("role".into(), json!(role));
        for field in ["organisation", "member_state"] {
            if let Some(value) = form.get(field) {
                body.insert(field.into(), json!(value));
            }
        }
        body.insert("invitation_hash".into(), json!(hash));
        body.insert("invitation_expires_on".into(), json!(until.to_string()));
        let reply = send_account(&app, &viewer, Verb::AccountInvite, command_id, body).await?;
        Ok::<_, Problem>((reply, secret, until))
    }
    .await;
    match sent {
        Ok((reply, secret, until)) => {
            let whom = format!(
                "{} <{}>",
                form.get("name").unwrap_or_default(),
                form.get("email").unwrap_or_default().to_lowercase()
            );
            tracing::info!(account = %command_id, "a person was invited from the console");
            let shown = Shown {
                what: "invitation",
                whom,
                secret: invitation_link(&app, &headers, &secret),
                until: until.to_string(),
            };
            show_once(&app, &viewer, &reply, shown).await
        }
        Err(p) => refused(&app, &viewer, "invite", p, form).await,
    }
}

/// A new link for an account (`reinvite`, how a password is reset), or `disable` it.
pub(crate) async fn account_action(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Posted { viewer, form }: Posted,
) -> Response {
    if let Some(refused) = forbidden(&viewer) {
        return refused;
    }
    let Ok(account) = id.parse::<Uuid>() else {
        return error_page(
            &Problem::invalid("id", "must be a UUID"),
            Some(viewer.chrome("/admin")),
        );
    };
    let command_id = command_id(&viewer, &form);
    let row = format!("account:{account}");
    match action.as_str() {
        "reinvite" => {
            let sent = async {
                let (secret, hash, until) = new_link(&app, command_id)?;
                let mut body = Map::new();
                body.insert("id".into(), json!(account));
                body.insert("invitation_hash".into(), json!(hash));
                body.insert("invitation_expires_on".into(), json!(until.to_string()));
                let reply =
                    send_account(&app, &viewer, Verb::AccountReinvite, command_id, body).await?;
                Ok::<_, Problem>((reply, secret, until))
            }
            .await;
            match sent {
                Ok((reply, secret, until)) => {
                    let whom = match app.tokens.account(account) {
                        Ok(Some(a)) => format!("{} <{}>", a.name, a.email),
                        _ => "the person".to_owned(),
                    };
                    let shown = Shown {
                        what: "new invitation",
                        whom,
                        secret: invitation_link(&app, &headers, &secret),
                        until: until.to_string(),
                    };
                    show_once(&app, &viewer, &reply, shown).await
                }
                Err(p) => refused(&app, &viewer, &row, p, form).await,
            }
        }
        "disable" => {
            let sent = match form.get("reason") {
                Some(reason) => {
                    let mut body = Map::new();
                    body.insert("id".into(), json!(account));
                    body.insert("reason".into(), json!(reason));
                    send_account(&app, &viewer, Verb::AccountDisable, command_id, body).await
                }
                None => Err(Problem::invalid(
                    "reason",
                    "is required: say why the account is disabled",
                )),
            };
            match sent {
                Ok(reply) => see_other(&after(&reply)),
                Err(p) => refused(&app, &viewer, &row, p, form).await,
            }
        }
        _ => error_page(
            &Problem::not_found(format!("no action {action}")),
            Some(viewer.chrome("/admin")),
        ),
    }
}

/// Back to the page, reading the write back.
fn after(reply: &Value) -> String {
    match last_position(reply) {
        Some(p) => format!("/admin?seen={p}"),
        None => "/admin".to_owned(),
    }
}

/// Issues an access token (`issue_token`, as the API does) and shows its secret once.
pub(crate) async fn issue_token(
    State(app): State<App>,
    Posted { viewer, form }: Posted,
) -> Response {
    if let Some(refused) = forbidden(&viewer) {
        return refused;
    }
    let command_id = command_id(&viewer, &form);
    let sent = async {
        let route = app::command_route("issue_token").ok_or_else(Problem::internal)?;
        let role = form
            .get("role")
            .ok_or_else(|| Problem::invalid("role", "choose the token's role"))?;
        let mut body = Map::new();
        body.insert("role".into(), json!(role));
        body.insert("label".into(), json!(form.get("label").unwrap_or_default()));
        for field in ["organisation", "member_state", "expires_on"] {
            if let Some(value) = form.get(field) {
                body.insert(field.into(), json!(value));
            }
        }
        let (body, secret) = app::token_issue_body(&app, body, command_id)?;
        let reply = app::send_command(
            &app,
            route,
            viewer.principal.clone(),
            command_id,
            None,
            &body,
        )
        .await?;
        Ok::<_, Problem>((reply, secret))
    }
    .await;
    match sent {
        Ok((reply, secret)) => {
            let shown = Shown {
                what: "token",
                whom: form.get("label").unwrap_or_default().to_owned(),
                secret,
                until: String::new(),
            };
            show_once(&app, &viewer, &reply, shown).await
        }
        Err(p) => refused(&app, &viewer, "token", p, form).await,
    }
}

/// Revokes a token; the reason is required.
pub(crate) async fn revoke_token(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> Response {
    if let Some(refused) = forbidden(&viewer) {
        return refused;
    }
    let sent = match form.get("reason") {
        Some(reason) => {
            let mut body = Map::new();
            body.insert("reason".into(), json!(reason));
            viewer
                .submit(
                    &app,
                    "revoke_token",
                    vec![("id".to_owned(), id.clone())],
                    body,
                    &form,
                )
                .await
        }
        None => Err(Problem::invalid(
            "reason",
            "is required: say why the token is revoked",
        )),
    };
    match sent {
        Ok(reply) => see_other(&after(&reply)),
        Err(p) => refused(&app, &viewer, &format!("token:{id}"), p, form).await,
    }
}
