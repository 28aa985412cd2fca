//! `tatrack up` (every service in one process) and `tatrack serve <service>` (one of them).

use std::future::Future;

use anyhow::Context as _;

use crate::cli::Settings;
use crate::{client_tokens, demo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    Assessments,
    Partners,
    Projects,
    Readmodel,
    /// The reporting job (on `TATRACK_REPORT_SCHEDULE`, and on demand).
    Reporter,
    /// The HTTP gateway, on `TATRACK_HTTP_ADDR`.
    Gateway,
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        () = term => {}
    }
}

/// A shutdown future per service, all fired by one signal.
fn shutdown_fanout() -> (
    tokio::sync::watch::Sender<bool>,
    impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let make = move || {
        let mut rx = rx.clone();
        Box::pin(async move {
            let _ = rx.wait_for(|s| *s).await;
        }) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
    };
    (tx, make)
}

async fn start(
    settings: &Settings,
    service: Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let name = match service {
        Service::Assessments => "tatrack-assessments",
        Service::Partners => "tatrack-partners",
        Service::Projects => "tatrack-projects",
        Service::Readmodel => "tatrack-readmodel",
        Service::Reporter => "tatrack-reporter",
        Service::Gateway => "tatrack-gateway",
    };
    // A bad schedule is refused before anything starts.
    let schedule = if service == Service::Reporter {
        report_schedule(settings)?
    } else {
        None
    };
    let nats = tatrack_bus::connect(&settings.nats_url, name)
        .await
        .with_context(|| format!("connecting to NATS at {}", settings.nats_url))?;
    let data_dir = settings.data_dir.clone();
    Ok(match service {
        Service::Assessments => tokio::spawn(tatrack_assessments::run(
            tatrack_assessments::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
            },
            shutdown,
        )),
        Service::Partners => tokio::spawn(tatrack_partners::run(
            tatrack_partners::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
            },
            shutdown,
        )),
        Service::Projects => tokio::spawn(tatrack_projects::run(
            tatrack_projects::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
            },
            shutdown,
        )),
        Service::Readmodel => tokio::spawn(tatrack_readmodel::run(
            tatrack_readmodel::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
            },
            shutdown,
        )),
        Service::Reporter => tokio::spawn(tatrack_reporter::run(
            tatrack_reporter::Config {
                data_dir,
                nats,
                schedule,
                clock: settings.clock.clone(),
            },
            shutdown,
        )),
        Service::Gateway => {
            let listener = tatrack_gateway::bind(settings.http_addr).await?;
            let addr = listener.local_addr()?;
            println!("gateway: http://{addr}/api/v1");
            tokio::spawn(tatrack_gateway::serve(listener, nats, shutdown))
        }
    })
}

pub async fn serve(settings: &Settings, service: Service) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let (stop, shutdown) = shutdown_fanout();
    let task = start(settings, service, shutdown()).await?;
    // The gateway answers /healthz, /readyz and /metrics on its own address; any other service
    // on the ops address.
    let ops = if service == Service::Gateway {
        None
    } else {
        let listener = tokio::net::TcpListener::bind(settings.ops_addr)
            .await
            .with_context(|| format!("binding the ops address {}", settings.ops_addr))?;
        println!("ops: http://{}/readyz", listener.local_addr()?);
        Some(tokio::spawn(tatrack_bus::ops::serve(listener, shutdown())))
    };
    shutdown_signal().await;
    let _ = stop.send(true);
    if let Some(ops) = ops {
        ops.await??;
    }
    task.await?
}

/// The reporter's schedule from `--report-schedule` / `TATRACK_REPORT_SCHEDULE`, checked.
fn report_schedule(settings: &Settings) -> anyhow::Result<Option<tatrack_reporter::Schedule>> {
    settings
        .report_schedule
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            tatrack_reporter::Schedule::parse("--report-schedule (TATRACK_REPORT_SCHEDULE)", s)
        })
        .transpose()
}

pub async fn up(settings: &Settings, load_demo: bool) -> anyhow::Result<()> {
    report_schedule(settings)?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let (stop, shutdown) = shutdown_fanout();
    let services = [
        Service::Assessments,
        Service::Partners,
        Service::Projects,
        Service::Readmodel,
        Service::Reporter,
        Service::Gateway,
    ];
    let mut tasks = Vec::new();
    for service in services {
        tasks.push((service, start(settings, service, shutdown()).await?));
    }
    tracing::info!(nats = %settings.nats_url, data_dir = %settings.data_dir.display(), "tatrack is up");
    if load_demo {
        // The demo data has fixed ids and command ids, so loading it again changes nothing.
        match demo::load(settings).await {
            Ok(0) => tracing::info!("demo data already loaded"),
            Ok(n) => tracing::info!(commands = n, "demo data loaded"),
            Err(e) => tracing::error!(error = %e, "demo data not loaded"),
        }
        match client_tokens::demo_tokens(settings).await {
            Ok((coordinator, donor)) => {
                println!("coordinator token: {coordinator}");
                println!("donor token: {donor}");
            }
            Err(e) => tracing::error!(error = %e, "demo tokens not issued"),
        }
    }
    println!(
        "tatrack is up: NATS {} data {}",
        settings.nats_url,
        settings.data_dir.display()
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    let mut failed = None;
    for (service, task) in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(?service, error = %e, "service failed");
                failed = Some(e);
            }
            Err(e) => failed = Some(e.into()),
        }
    }
    failed.map_or(Ok(()), Err)
}
