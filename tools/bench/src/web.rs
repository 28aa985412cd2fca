//! `tatrack bench web`, the web console: every screen rendered on a loaded system, as a
//! coordinator and as a donor signed in through the sign-in form, at 1 and 16 clients, with its
//! page weight; next to a bare axum handler answering the same bytes (the raw limit of serving
//! that page over the same HTTP stack), measured in the same run.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_bus::subjects;
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::queries::{System, bare_http, connect, http_load};
use crate::write::{Answer, http_request};

type Connection = tokio::io::BufStream<tokio::net::TcpStream>;

/// The password of the bench's console accounts.
const PASSWORD: &str = "bench password of the web console";

pub(crate) async fn web(
    clock: &tatrack_eventlog::Clock,
    duration: Duration,
    events: u64,
) -> anyhow::Result<()> {
    println!(
        "tatrack-bench web: {} s per measurement, {events} events loaded, own nats-server, 2 cores",
        duration.as_secs()
    );
    let system = System::start(clock, events).await?;
    let addr = system.addr;
    let coordinator = account(&system.client, Role::Coordinator, None).await?;
    let donor = account(&system.client, Role::Donor, Some("BENCH-DONOR-0")).await?;
    let admin = account(&system.client, Role::Admin, None).await?;
    let coordinator = sign_in(addr, &coordinator).await?;
    let donor = sign_in(addr, &donor).await?;
    let admin = sign_in(addr, &admin).await?;

    // A need of the first page and a project of the donor's: their detail pages.
    let need = first_link(addr, &coordinator, "/needs", "/needs/").await?;
    let project = first_link(addr, &donor, "/projects", "/projects/").await?;
    let screens = [
        ("overview", "/".to_owned(), &coordinator),
        ("overview (donor)", "/".to_owned(), &donor),
        (
            "needs register (first page of 50)",
            "/needs".to_owned(),
            &coordinator,
        ),
        (
            "needs register, KE, priority 1",
            "/needs?member_state=KE&priority=1".to_owned(),
            &coordinator,
        ),
        ("need detail (suggestions, timeline)", need, &coordinator),
        ("inbox", "/inbox".to_owned(), &coordinator),
        (
            "projects (first page of 50)",
            "/projects".to_owned(),
            &coordinator,
        ),
        (
            "portfolio and projects (donor)",
            "/projects".to_owned(),
            &donor,
        ),
        ("project detail (donor)", project, &donor),
        ("offers", "/offers".to_owned(), &coordinator),
        ("assessments", "/assessments".to_owned(), &coordinator),
        ("sharing", "/sharing".to_owned(), &coordinator),
        ("reports", "/reports".to_owned(), &coordinator),
        (
            "administration (people, tokens)",
            "/admin".to_owned(),
            &admin,
        ),
    ];
    println!(
        "{:<44} {:>10}   {:>24}   {:>24}",
        "screen", "page", "1 client p50 / p99", "16 clients p50 / p99"
    );
    for (what, path, session) in &screens {
        let (status, body) = get(&mut connect(addr).await?, path, session).await?;
        anyhow::ensure!(status == 200, "{what} ({path}) answered {status}");
        let credentials = as_session(session);
        let mut one = http_load(addr, path, &credentials, 1, duration).await?;
        let mut many = http_load(addr, path, &credentials, 16, duration).await?;
        println!(
            "{:<44} {:>7} KB   {:>9.2} / {:>6.2} ms   {:>9.2} / {:>6.2} ms",
            what,
            body.len() / 1000,
            one.percentile(0.50),
            one.percentile(0.99),
            many.percentile(0.50),
            many.percentile(0.99),
        );
        // The same bytes from a bare axum handler on the same HTTP stack, asked the same way.
        let body = String::from_utf8(body).context("a page is UTF-8")?;
        let mut bare_one = bare_http(body.clone(), 1, duration).await?;
        let mut bare_many = bare_http(body, 16, duration).await?;
        println!(
            "{:<44} {:>10}   {:>9.2} / {:>6.2} ms   {:>9.2} / {:>6.2} ms",
            "  bare axum handler, same bytes",
            "",
            bare_one.percentile(0.50),
            bare_one.percentile(0.99),
            bare_many.percentile(0.50),
            bare_many.percentile(0.99),
        );
    }

    system.stop.cancel();
    for t in system.tasks {
        t.await??;
    }
    drop(system.readmodel);
    Ok(())
}

/// An active console account: invited as an admin, its password set through the invitation
/// as the account itself (what the console's invitation page sends). Returns its e-mail.
async fn account(
    client: &async_nats::Client,
    role: Role,
    organisation: Option<&str>,
) -> anyhow::Result<String> {
    let id = Uuid::now_v7();
    let email = format!("{role}-{}@bench.example", &id.simple().to_string()[24..]);
    let secret = tatrack_gateway::password::invitation_secret();
    let invitation_hash = tatrack_gateway::password::invitation_hash(&secret);
    let admin = Principal {
        id: "bench".into(),
        role: Role::Admin,
        organisation: None,
        member_state: None,
    };
    let _: serde_json::Value = rpc::request(
        client,
        &subjects::command_subject("partners", "account_invite"),
        &RequestMeta::new(admin),
        &json!({"id": id, "name": format!("Bench {role}"), "email": email, "role": role,
            "organisation": organisation, "member_state": null,
            "invitation_hash": invitation_hash, "invitation_expires_on": "2040-01-01"}),
        Duration::from_secs(10),
    )
    .await?;
    let myself = Principal {
        id: format!("account:{id}"),
        role,
        organisation: organisation.map(str::to_owned),
        member_state: None,
    };
    let password_hash = tokio::task::spawn_blocking(|| tatrack_gateway::password::hash(PASSWORD))
        .await
        .context("hashing the bench password")?;
    let _: serde_json::Value = rpc::request(
        client,
        &subjects::command_subject("partners", "account_set_password"),
        &RequestMeta::new(myself),
        &json!({"id": id, "invitation_hash": invitation_hash, "password_hash": password_hash}),
        Duration::from_secs(10),
    )
    .await?;
    Ok(email)
}

/// Signs in through the form as a browser does (the form's cookie and CSRF token, then the
/// POST); returns the session's `Cookie` header. Retried while the gateway's fold has not yet
/// seen the account.
async fn sign_in(addr: std::net::SocketAddr, email: &str) -> anyhow::Result<String> {
    let start = Instant::now();
    loop {
        let mut stream = connect(addr).await?;
        let form = http_request(&mut stream, "GET", "/sign-in", "", "").await?;
        let cookies = cookies_of(&form);
        let csrf = String::from_utf8_lossy(&form.body)
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("the sign-in form's CSRF token")?
            .to_owned();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf.as_str()),
                ("next", "/"),
                ("email", email),
                ("password", PASSWORD),
            ])
            .finish();
        let signed_in = http_request(
            &mut stream,
            "POST",
            "/sign-in",
            &as_session(&cookies),
            &body,
        )
        .await?;
        if signed_in.status == 303 {
            return Ok(cookies_of(&signed_in));
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(30),
            "{email} could not sign in: {}",
            signed_in.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first link on `page` whose address starts with `prefix` and names an object.
async fn first_link(
    addr: std::net::SocketAddr,
    session: &str,
    page: &str,
    prefix: &str,
) -> anyhow::Result<String> {
    let (status, body) = get(&mut connect(addr).await?, page, session).await?;
    anyhow::ensure!(status == 200, "{page} answered {status}");
    let text = String::from_utf8_lossy(&body);
    text.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| {
            href.strip_prefix(prefix)
                .is_some_and(|id| id.parse::<Uuid>().is_ok())
        })
        .map(str::to_owned)
        .with_context(|| format!("no link to {prefix}… on {page}"))
}

/// A GET as the session whose cookies are `cookies`: its status and body.
async fn get(stream: &mut Connection, path: &str, cookies: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let answer = http_request(stream, "GET", path, &as_session(cookies), "").await?;
    Ok((answer.status, answer.body))
}

/// The header line that presents a session's cookies.
fn as_session(cookies: &str) -> String {
    format!("Cookie: {cookies}")
}

/// The cookies an answer set, as a `Cookie` header's value.
fn cookies_of(answer: &Answer) -> String {
    answer.set_cookies.join("; ")
}
