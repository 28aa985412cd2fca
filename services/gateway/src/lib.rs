//! The HTTP front door: the contract's resource routes under `/api/v1` (every body and query
//! checked against its type before a service sees it), bearer tokens checked against the
//! gateway's own fold of the token events, the principal and the correlation id attached to every
//! request it sends over NATS, problem+json errors naming the field, `Idempotency-Key` and
//! `If-Match`, cursor pagination, the OpenAPI 3.1 document written from the contract, and
//! `/healthz`, `/readyz`, `/metrics`. It links no service crate: the contract is all it knows.

mod app;
mod auth;
mod cursor;
mod limits;
mod metrics;
pub mod password;
mod problem;
mod tls;
pub mod token;
mod web;

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

pub use limits::Limits;
pub use tatrack_contract::openapi::document as openapi_document;
pub use tls::Tls;

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`TATRACK_HTTP_ADDR`, default `127.0.0.1:8080`); port 0 takes a free one.
    pub http_addr: SocketAddr,
    pub nats: async_nats::Client,
    /// Today, for the console (whether an invitation link is still good).
    pub clock: tatrack_eventlog::Clock,
}

/// Binds the listener; its `local_addr` is the address actually taken (port 0 → a free port).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))
}

/// Binds `config.http_addr` and serves until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listener = bind(config.http_addr).await?;
    serve(listener, config.nats, config.clock, shutdown).await
}

/// Serves on a bound listener until `shutdown` is cancelled: new connections stop, in-flight
/// requests finish, the token fold stops. The limits come from the environment
/// (`Limits::from_env`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    nats: async_nats::Client,
    clock: tatrack_eventlog::Clock,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_with(
        listener,
        nats,
        clock,
        Limits::from_env()?,
        Tls::from_env()?,
        shutdown,
    )
    .await
}

/// `serve` with the limits given, over HTTPS when `tls` names a certificate and its key.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    nats: async_nats::Client,
    clock: tatrack_eventlog::Clock,
    limits: Limits,
    tls: Option<Tls>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // A bad certificate fails the start, before anything else is set up.
    let tls = tls.map(|tls| tls.server_config()).transpose()?;
    let router = router(nats, clock, limits, tls.is_some(), &shutdown)?;
    let addr = listener.local_addr()?;
    match tls {
        Some(config) => {
            tracing::info!(%addr, "gateway listening (HTTPS)");
            tls::serve(listener, router, config, shutdown).await
        }
        None => {
            tracing::info!(%addr, "gateway listening");
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
                .context("serving HTTP")
        }
    }
}

/// The gateway's whole router (API, console, plumbing) without a listener: what `serve_with`
/// serves, and what tests send requests to one at a time. `secure_cookies`: it is served over
/// TLS. Its token and account fold stops when `shutdown` is cancelled.
pub fn router(
    nats: async_nats::Client,
    clock: tatrack_eventlog::Clock,
    limits: Limits,
    secure_cookies: bool,
    shutdown: &CancellationToken,
) -> anyhow::Result<axum::Router> {
    let tokens = auth::Tokens::start(nats.clone(), shutdown.child_token())?;
    let console = web::Console {
        secure_cookies,
        ..web::Console::default()
    };
    Ok(app::router(app::App {
        nats,
        clock,
        console,
        tokens,
        cursors: cursor::Cursors::new(),
        metrics: metrics::Metrics::default(),
        token_seed: random_seed(),
        limiter: limits::Limiter::new(limits),
    }))
}

fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed
}
