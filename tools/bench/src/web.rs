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
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::queries::System;
use crate::write::Sample;

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
        let mut one = load(addr, path, session, 1, duration).await?;
        let mut many = load(addr, path, session, 16, duration).await?;
        println!(
            "{:<44} {:>7} KB   {:>9.2} / {:>6.2} ms   {:>9.2} / {:>6.2} ms",
            what,
            body.len() / 1000,
            one.percentile(0.50),
            one.percentile(0.99),
            many.percentile(0.50),
            many.percentile(0.99),
        );
        let mut bare_one = bare(body.clone(), 1, duration).await?;
        let mut bare_many = bare(body, 16, duration).await?;
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
        let form = request(&mut stream, "GET", "/sign-in", "", "").await?;
        let cookies = form.cookies();
        let csrf = form
            .body_text()
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
        let signed_in = request(&mut stream, "POST", "/sign-in", &cookies, &body).await?;
        if signed_in.status == 303 {
            return Ok(signed_in.cookies());
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

/// `clients` connections asking `path` in a loop for `duration`, each reading the whole page.
async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    session: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Sample> {
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let path = path.to_owned();
        let session = session.to_owned();
        workers.push(tokio::spawn(async move {
            let mut stream = connect(addr).await?;
            let mut mine = Vec::new();
            while start.elapsed() < duration {
                let t = Instant::now();
                let (status, _) = get(&mut stream, &path, &session).await?;
                anyhow::ensure!(status == 200, "{path} answered {status}");
                mine.push(t.elapsed().as_micros() as u64);
            }
            anyhow::Ok(mine)
        }));
    }
    let mut latencies_us = Vec::new();
    for w in workers {
        latencies_us.extend(w.await??);
    }
    Ok(Sample {
        count: latencies_us.len(),
        elapsed: start.elapsed(),
        latencies_us,
    })
}

/// The same bytes from a bare axum handler on the same HTTP stack, asked the same way.
async fn bare(body: Vec<u8>, clients: usize, duration: Duration) -> anyhow::Result<Sample> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let body = bytes::Bytes::from(body);
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    body,
                )
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let sample = load(addr, "/", "", clients, duration).await;
    server.abort();
    sample
}

async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Connection> {
    Ok(tokio::io::BufStream::new(
        tokio::net::TcpStream::connect(addr).await?,
    ))
}

async fn get(stream: &mut Connection, path: &str, cookies: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let answer = request(stream, "GET", path, cookies, "").await?;
    Ok((answer.status, answer.body))
}

/// One answer: its status, its `Set-Cookie` pairs and its body.
struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    body: Vec<u8>,
}

impl Answer {
    /// The cookies set, as a `Cookie` header's value.
    fn cookies(&self) -> String {
        self.set_cookies.join("; ")
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a kept-alive connection (the console answers with a length).
async fn request(
    stream: &mut Connection,
    method: &str,
    path: &str,
    cookies: &str,
    form: &str,
) -> anyhow::Result<Answer> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
    if !cookies.is_empty() {
        head.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(form);
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line.split_whitespace().nth(1).unwrap_or("0").parse()?;
    let mut length = 0usize;
    let mut set_cookies = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            } else if name.eq_ignore_ascii_case("set-cookie") {
                // `name=value`, without its attributes; a cookie being cleared is dropped.
                let pair = value.trim().split(';').next().unwrap_or_default();
                if !value.contains("Max-Age=0") && !pair.is_empty() {
                    set_cookies.push(pair.to_owned());
                }
            }
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(Answer {
        status,
        set_cookies,
        body,
    })
}
