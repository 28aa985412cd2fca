//! The one tatrack binary as a library, so the end-to-end tests can run the very same entry
//! point as a child process.

mod admin;
mod bench;
mod bench_queries;
mod cli;
mod client;
mod client_matching;
mod client_partners;
mod client_projects;
mod client_report;
mod client_tokens;
mod demo;
mod iati;
mod nats_config;
mod serve;
mod table;
mod telemetry;

pub use cli::Cli;

/// Parses the command line, runs the command, and turns an error into a message and exit code 1
/// (2 for bad input refused by a service, so scripts can tell the two apart).
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    let cli = Cli::parse();
    let quiet = matches!(
        cli.command,
        cli::Command::Up(_) | cli::Command::Serve { .. }
    );
    telemetry::init(
        cli.log_format,
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
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let refused = e
                .downcast_ref::<tatrack_bus::rpc::Error>()
                .is_some_and(|e| matches!(e, tatrack_bus::rpc::Error::Remote(_)));
            std::process::ExitCode::from(if refused { 2 } else { 1 })
        }
    }
}
