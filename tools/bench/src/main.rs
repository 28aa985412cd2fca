//! `tatrack-bench`, run as `tatrack bench <what>`: measures the event log, the command path and
//! the read side, each next to the raw limit it stands on, measured in the same run (a bare sled
//! insert+flush loop, a bare JetStream publish, a bare NATS request and a bare HTTP GET). A tool,
//! not a test: it prints figures and asserts nothing. It is its own binary so that the shipped
//! `tatrack` carries no benchmark code.

mod queries;
mod web;
mod write;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// The same allocator as `tatrack`: the bench measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "tatrack bench",
    bin_name = "tatrack bench",
    version,
    about = "Measure tatrack's log, command path and read side against their raw limits",
    after_help = "Starts its own nats-server (NATS_SERVER_BIN, else the one deploy/local/run.sh \
                  installed in .tools/, else PATH) and services in a temporary directory; never \
                  touches a running system. Build with --release before measuring."
)]
struct Cli {
    /// Run on a clock that starts at this time (RFC 3339) instead of the system clock.
    #[arg(long, env = "TATRACK_NOW")]
    now: Option<jiff::Timestamp>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The log alone at 1, 16 and 64 concurrent writers, next to bare sled group commit.
    Append {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Commands over NATS end to end at 1, 16 and 64 clients, next to a bare JetStream publish,
    /// then a steady rate and a mix over the partners and projects services.
    Commands {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Rate of the steady phase, commands per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
    },
    /// Queries over HTTP (gateway -> read model) at 1, 16 and 64 clients on a loaded system, next
    /// to a bare NATS request and a bare HTTP GET; read-your-writes, the read model's memory,
    /// restart and rebuild rate. Runs `tatrack serve readmodel` (the binary next to this one).
    Queries {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Events to load first (needs identified and agreed, and one project in 50).
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Rate of the read-your-writes phase, commands per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
    },
    /// The web console: every screen on a loaded system, as a coordinator and a donor signed in
    /// through the form, at 1 and 16 clients with its page weight, next to a bare axum handler
    /// answering the same bytes.
    Web {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Events to load first (needs identified and agreed, and one project in 50).
        #[arg(long, default_value_t = 100_000)]
        events: u64,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock = match cli.now {
        Some(start) => tatrack_eventlog::Clock::starting_at(start),
        None => tatrack_eventlog::Clock::system(),
    };
    if !matches!(cli.command, Command::Append { .. }) {
        nats_server_present()?;
    }
    match cli.command {
        Command::Append { seconds } => write::append(&clock, Duration::from_secs(seconds)).await,
        Command::Commands { seconds, rate } => {
            write::commands(&clock, Duration::from_secs(seconds), rate).await
        }
        Command::Queries {
            seconds,
            events,
            rate,
        } => queries::queries(&clock, Duration::from_secs(seconds), events, rate).await,
        Command::Web { seconds, events } => {
            web::web(&clock, Duration::from_secs(seconds), events).await
        }
    }
}

/// Says where a nats-server was looked for before anything starts.
fn nats_server_present() -> anyhow::Result<()> {
    if tatrack_bus::local::server_binary().is_some() {
        return Ok(());
    }
    anyhow::bail!(
        "no nats-server found: looked at NATS_SERVER_BIN, PATH, beside python3 and in .tools/bin \
         and .tools/pip/bin of the project; run deploy/local/install-nats.sh (or \
         deploy/local/run.sh once), or set NATS_SERVER_BIN"
    )
}

/// Another binary of the installation, next to this one (`tatrack` for the read model).
pub(crate) fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.is_file(),
        "{} not found next to {}: build both (`cargo build --release -p tatrack -p tatrack-bench`)",
        path.display(),
        me.display()
    );
    Ok(path)
}
