//! The `tatrack` binary: every service, client, admin and bench command (see `tatrack --help`).

fn main() -> std::process::ExitCode {
    tatrack::main()
}
