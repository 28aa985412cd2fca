//! The `tatrack` binary: every service, client, admin and bench command (see `tatrack --help`).

/// mimalloc rather than glibc's malloc: most of a query's time was allocation (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tatrack::main()
}
