//! The one tatrack binary as a library, so the end-to-end tests can run the very same entry
//! point as a child process.

mod admin;
mod bench;
mod cli;
mod client;
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
