//! The one tatrack binary as a library, so the end-to-end tests can run the very same entry
//! point as a child process.

mod admin;
mod backup;
mod bench;
mod cli;
mod client;
mod cluster;
mod demo;
mod exit;
mod host;
mod nats_config;
mod serve;
mod telemetry;

pub use cli::Cli;

/// Parses the command line, runs the command, and turns an error into a message and the exit
/// status `exit` documents (clap's usage errors exit with 2, `exit::BAD_INPUT`, too).
pub fn main() -> std::process::ExitCode {
    quiet_on_closed_stdout();
    let cli = cli::parse();
    let quiet = matches!(
        cli.command,
        cli::Command::Up(_) | cli::Command::Serve { .. }
    );
    telemetry::init(
        cli.global.log_format,
        if quiet {
            "info,async_nats=warn"
        } else {
            "warn"
        },
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(exit::status(&e))
        }
    }
}

/// `tatrack need list | head`: when the reader of stdout goes away, stop quietly with the status
/// a shell gives a command killed by SIGPIPE (128 + 13), not with a panic's message. (SIGPIPE
/// itself stays ignored: the services write to sockets.)
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
