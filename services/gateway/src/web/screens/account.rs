//! Signing in and out, and setting a password through an invitation's one-time link.
//!
//! The sign-in and invitation forms come before any session, so their CSRF token is a random
//! value in a SameSite=Strict cookie that the form repeats (double submit). The password is
//! checked here against the argon2id hash the gateway's fold holds; it is never sent anywhere,
//! logged or recorded. Setting one sends only its hash to the partners service, with the hash of
//! the link's secret as the proof.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::Principal;
use tatrack_domain::account::AccountState;
use uuid::Uuid;

use crate::app::App;
use crate::password;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::session::{self, FORM_COOKIE};
use crate::web::{
    FormData, cookie, csrf_refused, error_page, local_path, render_with, see_other, set_cookie,
};

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Option<crate::web::Chrome>,
    csrf: String,
    next: String,
    email: String,
    problem: Option<String>,
}

/// The form's CSRF token: the one in the browser's form cookie, or a new one to set.
fn form_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, FORM_COOKIE) {
        Some(token) if token.len() == 64 => (token.to_owned(), false),
        _ => (session::random_secret(), true),
    }
}

fn with_form_cookie(app: &App, mut response: Response, token: &str, new: bool) -> Response {
    if new
        && let Ok(value) =
            HeaderValue::from_str(&set_cookie(&app.console, FORM_COOKIE, token, None))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn sign_in_page(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    email: &str,
    problem: Option<String>,
) -> Response {
    let (csrf, new) = form_token(headers);
    let page = SignInPage {
        chrome: None,
        csrf: csrf.clone(),
        next: local_path(next).to_owned(),
        email: email.to_owned(),
        problem,
    };
    with_form_cookie(app, render_with(status, &page), &csrf, new)
}

pub(crate) async fn sign_in_form(
    State(app): State<App>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    let next = next.next.unwrap_or_else(|| "/".to_owned());
    sign_in_page(&app, &headers, StatusCode::OK, &next, "", None)
}

/// Checks the e-mail and password. Whatever is wrong (no such account, a wrong password, a
/// disabled account) the answer is the same, and five failures in a row for one address make
/// it wait before the next try.
pub(crate) async fn sign_in(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    if !form_csrf_ok(&headers, &form) {
        return csrf_refused();
    }
    let next = form.get("next").unwrap_or("/").to_owned();
    let email = form.get("email").unwrap_or_default().to_lowercase();
    let typed = form.raw("email");
    if let Some(wait) = app.console.throttle.wait(&email) {
        return sign_in_page(
            &app,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &typed,
            Some(format!(
                "Too many failed sign-ins for this address: try again in {} seconds.",
                wait.as_secs().max(1)
            )),
        );
    }
    let password = form.raw("password");
    let account = match app.tokens.account_by_email(&email) {
        Ok(account) => account.filter(AccountState::is_active),
        Err(problem) => return error_page(&problem, None),
    };
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => password::verify(&password, &hash),
        None => {
            // The same work as for a real account, so the time taken does not tell whether an
            // address has one.
            password::verify(&password, password::unknown_account_hash());
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(account) = account.filter(|_| verified) else {
        app.console.throttle.failed(&email);
        tracing::info!("a console sign-in failed");
        return sign_in_page(
            &app,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            &typed,
            Some("The e-mail address or the password is wrong.".to_owned()),
        );
    };
    app.console.throttle.succeeded(&email);
    tracing::info!(account = %account.id, "signed in to the console");
    start_session(&app, account.id, &next)
}

fn start_session(app: &App, account: Uuid, next: &str) -> Response {
    let secret = app.console.sessions.start(account);
    let mut response = see_other(next);
    for cookie in [
        set_cookie(&app.console, session::COOKIE, &secret, None),
        // The form token has done its work.
        set_cookie(&app.console, FORM_COOKIE, "", Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn form_csrf_ok(headers: &HeaderMap, form: &FormData) -> bool {
    matches!(
        (cookie(headers, FORM_COOKIE), form.get("csrf")),
        (Some(expected), Some(given)) if session::same_secret(expected, given)
    )
}

pub(crate) async fn sign_out(
    State(app): State<App>,
    headers: HeaderMap,
    Posted { viewer: _, form: _ }: Posted,
) -> Response {
    if let Some(secret) = cookie(&headers, session::COOKIE) {
        app.console.sessions.end(secret);
    }
    let mut response = see_other("/sign-in");
    if let Ok(value) =
        HeaderValue::from_str(&set_cookie(&app.console, session::COOKIE, "", Some(0)))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    chrome: Option<crate::web::Chrome>,
    csrf: String,
    name: String,
    email: String,
    problem: Option<String>,
}

/// The account an invitation secret opens, if the link is still good today.
fn invited(app: &App, secret: &str) -> Result<Option<AccountState>, Problem> {
    let today = app.today();
    Ok(app
        .tokens
        .account_by_invitation(&password::invitation_hash(secret))?
        .filter(|a| a.invitation_open_on(today)))
}

fn link_gone() -> Response {
    error_page(
        &Problem::not_found(
            "This link was used or has expired. Ask an administrator for a new invitation.",
        ),
        None,
    )
}

pub(crate) async fn invitation_form(
    State(app): State<App>,
    headers: HeaderMap,
    Path(secret): Path<String>,
) -> Response {
    match invited(&app, &secret) {
        Ok(Some(account)) => invitation_page(&app, &headers, StatusCode::OK, &account, None),
        Ok(None) => link_gone(),
        Err(problem) => error_page(&problem, None),
    }
}

fn invitation_page(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    account: &AccountState,
    problem: Option<String>,
) -> Response {
    let (csrf, new) = form_token(headers);
    let page = InvitationPage {
        chrome: None,
        csrf: csrf.clone(),
        name: account.name.clone(),
        email: account.email.clone(),
        problem,
    };
    with_form_cookie(app, render_with(status, &page), &csrf, new)
}

/// Sets the password: checked here (length, the two copies alike), hashed here, and only the
/// hash sent, as the account itself, with the link's hash as the proof.
pub(crate) async fn accept_invitation(
    State(app): State<App>,
    headers: HeaderMap,
    Path(secret): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if !form_csrf_ok(&headers, &form) {
        return csrf_refused();
    }
    let account = match invited(&app, &secret) {
        Ok(Some(account)) => account,
        Ok(None) => return link_gone(),
        Err(problem) => return error_page(&problem, None),
    };
    let new_password = form.raw("password");
    let refused = |problem: String| {
        invitation_page(
            &app,
            &headers,
            StatusCode::BAD_REQUEST,
            &account,
            Some(problem),
        )
    };
    if let Err(reason) = password::check_new_password(&new_password) {
        return refused(format!("Password: {reason}"));
    }
    if form.raw("repeat") != new_password {
        return refused("Repeat password: the two passwords differ".to_owned());
    }
    let hash = match tokio::task::spawn_blocking(move || password::hash(&new_password)).await {
        Ok(hash) => hash,
        Err(_) => return error_page(&Problem::internal(), None),
    };
    let principal = Principal {
        id: format!("account:{}", account.id),
        role: account.role.unwrap_or(tatrack_domain::Role::Auditor),
        organisation: account.organisation.clone(),
        member_state: account.member_state.clone(),
    };
    let body = json!({
        "id": account.id,
        "invitation_hash": password::invitation_hash(&secret),
        "password_hash": hash,
    });
    let meta = RequestMeta {
        command_id: Some(Uuid::now_v7()),
        ..RequestMeta::new(principal)
    };
    let sent: Result<serde_json::Value, _> = rpc::request(
        &app.nats,
        &subjects::command_subject("partners", "account_set_password"),
        &meta,
        &body,
        std::time::Duration::from_secs(10),
    )
    .await;
    match sent {
        Ok(_) => {
            // Every request of a session reads the account from the gateway's own fold, which
            // learns of the password from the stream a moment later: wait for it (bounded), or
            // the first page would find the account still invited and sign the person out.
            tracing::info!(account = %account.id, "a password was set through an invitation");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !matches!(app.tokens.account(account.id), Ok(Some(a)) if a.is_active())
                && std::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            start_session(&app, account.id, "/")
        }
        Err(e) => {
            let problem = Problem::from_rpc(e, false);
            if problem.status.is_client_error() {
                refused(problem.detail)
            } else {
                error_page(&problem, None)
            }
        }
    }
}
