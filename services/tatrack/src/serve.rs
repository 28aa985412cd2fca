//! `tatrack up` (every service in one process) and `tatrack serve <service>` (one of them). Both
//! stop on SIGINT/SIGTERM, or as soon as a service stops by itself: then every other service is
//! stopped too and the process exits non-zero, naming the service.

use anyhow::Context as _;
use futures::StreamExt;
use tatrack_bus::auth::{Identity, User};
use tokio_util::sync::CancellationToken;

use crate::cli::Settings;
use crate::demo;

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

impl Service {
    /// The NATS user the service connects as.
    fn user(self) -> User {
        match self {
            Service::Assessments => User::Assessments,
            Service::Partners => User::Partners,
            Service::Projects => User::Projects,
            Service::Readmodel => User::Readmodel,
            Service::Reporter => User::Reporter,
            Service::Gateway => User::Gateway,
        }
    }

    fn name(self) -> &'static str {
        self.user().name()
    }
}

async fn start(
    settings: &Settings,
    service: Service,
    shutdown: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let name = format!("tatrack-{}", service.name());
    // A bad schedule is refused before anything starts.
    let schedule = if service == Service::Reporter {
        report_schedule(settings)?
    } else {
        None
    };
    let identity = Identity::load(&settings.nats_credentials, service.user())?;
    let nats = tatrack_bus::connect(&settings.nats_url, &name, &identity)
        .await
        .with_context(|| format!("connecting to NATS at {}", settings.nats_url))?;
    let data_dir = settings.data_dir.clone();
    Ok(match service {
        Service::Assessments => tokio::spawn(tatrack_assessments::run(
            tatrack_assessments::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
                cluster: settings.cluster.clone(),
            },
            shutdown,
        )),
        Service::Partners => tokio::spawn(tatrack_partners::run(
            tatrack_partners::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
                cluster: settings.cluster.clone(),
            },
            shutdown,
        )),
        Service::Projects => tokio::spawn(tatrack_projects::run(
            tatrack_projects::Config {
                data_dir,
                nats,
                clock: settings.clock.clone(),
                cluster: settings.cluster.clone(),
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
                cluster: settings.cluster.clone(),
            },
            shutdown,
        )),
        Service::Gateway => {
            let listener = tatrack_gateway::bind(settings.http_addr).await?;
            let addr = listener.local_addr()?;
            let scheme = if tatrack_gateway::Tls::from_env()?.is_some() {
                "https"
            } else {
                "http"
            };
            println!("gateway: {scheme}://{addr}/api/v1");
            tokio::spawn(tatrack_gateway::serve(
                listener,
                nats,
                settings.clock.clone(),
                shutdown,
            ))
        }
    })
}

/// Services running in this process, each a task that should run until told to stop.
struct Running {
    tasks: futures::stream::FuturesUnordered<
        futures::future::BoxFuture<'static, (Service, anyhow::Result<()>)>,
    >,
}

impl Running {
    fn new() -> Self {
        Self {
            tasks: futures::stream::FuturesUnordered::new(),
        }
    }

    fn push(&mut self, service: Service, task: tokio::task::JoinHandle<anyhow::Result<()>>) {
        self.tasks.push(Box::pin(async move {
            let result = match task.await {
                Ok(result) => result,
                Err(e) if e.is_panic() => Err(anyhow::anyhow!("it panicked: {e}")),
                Err(e) => Err(anyhow::anyhow!("its task was cancelled: {e}")),
            };
            (service, result)
        }));
    }

    /// Resolves when the first service stops by itself (never, with none running): before a
    /// shutdown, a service that returns at all has failed.
    async fn first_stopped(&mut self) -> anyhow::Error {
        match self.tasks.next().await {
            Some((service, result)) => {
                let why = result
                    .err()
                    .unwrap_or_else(|| anyhow::anyhow!("it returned"));
                tracing::error!(
                    service = service.name(),
                    error = format!("{why:#}"),
                    "service stopped; stopping the others"
                );
                anyhow::anyhow!("the {} service stopped: {why:#}", service.name())
            }
            None => std::future::pending().await,
        }
    }

    /// Waits for every service to finish stopping; the first failure is the answer.
    async fn stopped(mut self) -> anyhow::Result<()> {
        let mut failed = None;
        while let Some((service, result)) = self.tasks.next().await {
            if let Err(e) = result {
                tracing::error!(
                    service = service.name(),
                    error = format!("{e:#}"),
                    "service failed while stopping"
                );
                failed.get_or_insert_with(|| {
                    anyhow::anyhow!(
                        "the {} service failed while stopping: {e:#}",
                        service.name()
                    )
                });
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// Runs until a signal or until a service stops by itself: then cancels `shutdown`, waits for
/// the others, and answers the failure (if any).
async fn run_until_stopped(
    shutdown: &CancellationToken,
    mut running: Running,
    work: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    // `work` (the demo data) runs alongside: a service that dies meanwhile is noticed at once,
    // and a signal stops it (the handlers are installed now, not once the work is done).
    let work = async {
        work.await;
        std::future::pending::<()>().await;
    };
    let died = tokio::select! {
        died = running.first_stopped() => Some(died),
        () = shutdown_signal() => None,
        () = work => None,
    };
    if died.is_none() {
        tracing::info!("shutting down");
    }
    shutdown.cancel();
    let stopped = running.stopped().await;
    match died {
        Some(e) => Err(e.context("stopped every other service")),
        None => stopped,
    }
}

pub async fn serve(settings: &Settings, service: Service) -> anyhow::Result<()> {
    tatrack_eventlog::private_dir(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let shutdown = CancellationToken::new();
    let mut running = Running::new();
    running.push(
        service,
        start(settings, service, shutdown.child_token()).await?,
    );
    // The gateway answers /healthz, /readyz and /metrics on its own address; any other service
    // on the ops address.
    let ops = if service == Service::Gateway {
        None
    } else {
        let listener = tokio::net::TcpListener::bind(settings.ops_addr)
            .await
            .with_context(|| format!("binding the ops address {}", settings.ops_addr))?;
        println!("ops: http://{}/readyz", listener.local_addr()?);
        Some(tokio::spawn(tatrack_bus::ops::serve(
            listener,
            shutdown.child_token(),
        )))
    };
    let result = run_until_stopped(&shutdown, running, async {}).await;
    if let Some(ops) = ops {
        ops.await??;
    }
    result
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
    tatrack_eventlog::private_dir(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let shutdown = CancellationToken::new();
    let services = [
        Service::Assessments,
        Service::Partners,
        Service::Projects,
        Service::Readmodel,
        Service::Reporter,
        Service::Gateway,
    ];
    let mut running = Running::new();
    for service in services {
        match start(settings, service, shutdown.child_token()).await {
            Ok(task) => running.push(service, task),
            Err(e) => {
                // Those already started stop before the error is told.
                shutdown.cancel();
                let _ = running.stopped().await;
                return Err(e.context(format!("starting the {} service", service.name())));
            }
        }
    }
    tracing::info!(nats = %settings.nats_url, data_dir = %settings.data_dir.display(), "tatrack is up");
    // With port 0 the address taken is the one the gateway printed.
    let url = if settings.http_addr.port() == 0 {
        "<the gateway's address above>".to_owned()
    } else {
        let scheme = if tatrack_gateway::Tls::from_env()?.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", settings.http_addr)
    };
    let demo = async {
        if load_demo {
            // The demo data has fixed ids and command ids, so loading it again changes nothing.
            match demo::load(settings).await {
                Ok(0) => tracing::info!("demo data already loaded"),
                Ok(n) => tracing::info!(commands = n, "demo data loaded"),
                Err(e) => tracing::error!(error = %e, "demo data not loaded"),
            }
            match demo::tokens(settings).await {
                Ok(tokens) => {
                    println!("admin token: {}", tokens.admin);
                    println!("coordinator token: {}", tokens.coordinator);
                    println!("donor token: {}", tokens.donor);
                    println!(
                        "sign in: export TATRACK_URL={url} TATRACK_TOKEN=<a token above>, or `tatrack login --url {url}`"
                    );
                }
                Err(e) => tracing::error!(error = %e, "demo tokens not issued"),
            }
            match demo::accounts(settings).await {
                Ok(accounts) => {
                    for account in accounts {
                        println!("console sign-in: {} / {}", account.email, account.password);
                    }
                }
                Err(e) => tracing::error!(error = %e, "demo accounts not recorded"),
            }
        } else {
            println!(
                "sign in: `tatrack admin bootstrap` (on this host) prints an admin token; then `tatrack login --url {url}`"
            );
        }
        println!(
            "tatrack is up: {url} (NATS {}, data {})",
            settings.nats_url,
            settings.data_dir.display()
        );
    };
    run_until_stopped(&shutdown, running, demo).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_service_that_panics_or_returns_is_named_as_stopped() {
        let mut running = Running::new();
        running.push(Service::Reporter, tokio::spawn(async { panic!("a bug") }));
        let error = format!("{:#}", running.first_stopped().await);
        assert!(
            error.contains("the reporter service stopped: it panicked"),
            "{error}"
        );

        let mut running = Running::new();
        running.push(Service::Gateway, tokio::spawn(async { Ok(()) }));
        let error = format!("{:#}", running.first_stopped().await);
        assert_eq!(error, "the gateway service stopped: it returned");
    }
}
