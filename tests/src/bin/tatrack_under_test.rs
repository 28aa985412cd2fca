//! `tatrack` itself, built in this package so the crash tests can run and SIGKILL it.

fn main() -> std::process::ExitCode {
    tatrack::main()
}
