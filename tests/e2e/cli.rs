//! The `tatrack` binary as people use it: a client of the HTTP gateway with a token. `tatrack
//! login` checks a token and keeps it in a private file, `need list` then works, `logout`
//! forgets it; without a token every command says how to get one and exits with the documented
//! status; a bad value is refused naming the flag the person typed, with the bad-input status,
//! and nothing is written; `tatrack admin bootstrap` (on the server host, with its NATS keys)
//! prints an admin token that works and is recorded as an event; `completions` and `--help`.

use std::process::Output;

use serde_json::json;
use tatrack_bus::rpc::RequestMeta;
use tatrack_domain::Role;
use tatrack_tests::gateway::Gateway;
use tatrack_tests::*;

const BIN: &str = env!("CARGO_BIN_EXE_tatrack-under-test");

/// The exit statuses `tatrack --help` and the README document.
const BAD_INPUT: i32 = 2;
const NOT_ALLOWED: i32 = 3;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Every service's durable head: what "nothing was written" is checked against.
async fn heads(client: &async_nats::Client) -> Vec<(&'static str, u64)> {
    let admin = RequestMeta::new(principal(Role::Admin, None, None));
    let mut out = Vec::new();
    for service in tatrack_bus::subjects::SERVICES {
        let head = command_to(client, &admin, service, "admin_head", &json!({}))
            .await
            .unwrap();
        out.push((service, head["head"].as_u64().unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_keeps_a_private_token_and_without_one_the_cli_says_how_to_get_one() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    let (_, token) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&token).await;
    let config = tempfile::tempdir().unwrap();
    // A person's shell: no TATRACK_URL, no TATRACK_TOKEN, a config directory of its own.
    let person = || {
        let mut command = cli(BIN, &gw.base, None);
        command
            .env_remove("TATRACK_URL")
            .env("XDG_CONFIG_HOME", config.path());
        command
    };
    let credentials = config.path().join("tatrack").join("credentials");

    // Not signed in: the command says how to sign in and exits with "not allowed".
    let output = person().args(["need", "list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(NOT_ALLOWED), "{}", show(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("tatrack login") && stderr.contains("TATRACK_TOKEN"),
        "{stderr}"
    );

    // A token the gateway refuses is not saved.
    let output = person()
        .args(["login", "--url", &gw.base, "--token"])
        .arg(tatrack_gateway::token::new_secret())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(NOT_ALLOWED), "{}", show(&output));
    assert!(!credentials.exists());

    // Signed in: the token is checked, saved 0600 in a 0700 directory, and used.
    let output = person()
        .args(["login", "--url", &gw.base, "--token", &token])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    assert!(
        text(&output.stderr).contains("coordinator"),
        "{}",
        show(&output)
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&credentials), 0o600);
        assert_eq!(mode(credentials.parent().unwrap()), 0o700);
    }
    let output = person().args(["need", "list"]).output().unwrap();
    assert!(output.status.success(), "{}", show(&output));
    // The list shows coverage.
    assert!(
        text(&output.stdout).contains("COVERED"),
        "{}",
        show(&output)
    );
    let output = person().args(["whoami"]).output().unwrap();
    assert!(output.status.success(), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("coordinator"),
        "{}",
        show(&output)
    );
    // The token from stdin works too (login again, same file).
    let mut child = person()
        .args(["login", "--url", &gw.base])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{token}").unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", show(&output));

    // Signed out: the file is gone and commands say how to sign in again.
    let output = person().args(["logout"]).output().unwrap();
    assert!(output.status.success(), "{}", show(&output));
    assert!(!credentials.exists());
    let output = person().args(["need", "list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(NOT_ALLOWED), "{}", show(&output));

    // TATRACK_URL and TATRACK_TOKEN need no file.
    let output = cli(BIN, &gw.base, Some(&token))
        .args(["need", "list", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(listed.is_array(), "{listed}");

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_is_refused_by_its_flag_and_nothing_is_written() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    h.load_demo(BIN);
    let (_, token) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&token).await;
    let before = heads(&client).await;
    // The demo project.
    let project = "01930000-0000-7000-8000-0000000001f5";

    // Refused by the CLI itself: not an amount.
    let output = cli(BIN, &gw.base, Some(&token))
        .args(["project", "budget", project, "--amount", "12,5"])
        .args(["--currency", "USD"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(BAD_INPUT), "{}", show(&output));
    assert!(
        text(&output.stderr).contains("--amount"),
        "{}",
        show(&output)
    );

    // Refused by the server (a budget must be positive): told by the flag, not the field.
    let output = cli(BIN, &gw.base, Some(&token))
        .args(["project", "budget", project, "--amount", "0"])
        .args(["--currency", "USD"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(BAD_INPUT), "{}", show(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid --amount"), "{stderr}");
    assert!(!stderr.contains("invalid budget"), "{stderr}");
    assert!(stderr.contains("request id"), "{stderr}");
    // An unknown currency: refused by its flag (from the domain's code list) before sending.
    let output = cli(BIN, &gw.base, Some(&token))
        .args(["project", "budget", project, "--amount", "10"])
        .args(["--currency", "ZZZ"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(BAD_INPUT), "{}", show(&output));
    assert!(
        text(&output.stderr).contains("--currency"),
        "{}",
        show(&output)
    );

    assert_eq!(
        heads(&client).await,
        before,
        "a refused value writes nothing"
    );
    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_bootstrap_prints_a_working_admin_token_recorded_as_an_event() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    let before = heads(&client).await;
    let output = h
        .tatrack(BIN)
        .args(["admin", "bootstrap", "--label", "first admin"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    let token = text(&output.stdout).trim().to_owned();
    assert!(
        tatrack_gateway::token::looks_like_secret(&token),
        "{}",
        show(&output)
    );
    // One event, in the partners service's log (the tokens live there).
    let after = heads(&client).await;
    for ((service, was), (_, is)) in before.iter().zip(&after) {
        let expected = if *service == "partners" {
            was + 1
        } else {
            *was
        };
        assert_eq!(*is, expected, "{service}");
    }
    // The token works, as an admin: it lists itself (never its secret).
    gw.until_known(&token).await;
    // The gateway knows the token from its own fold; the list comes from the read model, which
    // may apply the issue a moment later.
    let (output, rows) = eventually(
        "the read model to list the token",
        std::time::Duration::from_secs(20),
        || async {
            let output = cli(BIN, &gw.base, Some(&token))
                .args(["token", "list", "--json"])
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", show(&output));
            let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let rows = rows.as_array().unwrap().clone();
            (rows.len() == 1).then_some((output, rows))
        },
    )
    .await;
    assert_eq!(rows[0]["role"], "admin");
    assert_eq!(rows[0]["label"], "first admin");
    assert!(!text(&output.stdout).contains(&token));
    // An admin issues people's tokens with it.
    let output = cli(BIN, &gw.base, Some(&token))
        .args(["token", "issue", "--role", "coordinator"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    assert!(tatrack_gateway::token::looks_like_secret(
        text(&output.stdout).trim()
    ));
    gw.stop().await;
    services.stop().await;
}

#[test]
fn completions_and_help() {
    let output = std::process::Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    let script = text(&output.stdout);
    assert!(
        script.contains("_tatrack") && script.contains("complete "),
        "{script}"
    );

    // The global options once, at the top, with the exit statuses; not in each subcommand.
    let output = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    let top = text(&output.stdout);
    for option in [
        "--url <URL>",
        "--json",
        "--as-of <DAY>",
        "--known-at <WHEN>",
    ] {
        assert_eq!(top.matches(option).count(), 1, "{option} in\n{top}");
    }
    assert!(top.contains("Exit status:"), "{top}");
    let output = std::process::Command::new(BIN)
        .args(["need", "list", "--help"])
        .output()
        .unwrap();
    let sub = text(&output.stdout);
    assert!(!sub.contains("--as-of <DAY>"), "{sub}");
    assert!(sub.contains("see `tatrack --help`"), "{sub}");
    // A usage error is bad input.
    let output = std::process::Command::new(BIN)
        .args(["need", "list", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(BAD_INPUT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_its_rate_the_cli_waits_as_the_gateway_says_and_goes_on() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start_with(
        &h,
        tatrack_gateway::Limits {
            requests_per_second: 1,
            reports_per_hour: 10,
            in_flight: 16,
        },
    )
    .await;
    let (_, token) = issue_token(&client, Role::Coordinator, None, None).await;
    // One request a second, two at once: the later calls meet 429s and wait them out.
    gw.until_known(&token).await;
    for _ in 0..4 {
        let output = cli(BIN, &gw.base, Some(&token))
            .args(["need", "list"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", show(&output));
    }
    gw.stop().await;
    services.stop().await;
}
