//! The command line: the global options (once, in `tatrack --help`), one subcommand per job.
//!
//! People's commands (`need`, `offer`, `report`...) talk to the HTTP gateway with the token
//! `tatrack login` saved (`client`). The commands marked "(server host)" run where tatrack runs:
//! they open its data directory or talk to NATS with its own keys, and take the server options
//! (`--data-dir`, `--nats-url`...) themselves.
//!
//! Help layout: clap shows a `global = true` option in every subcommand's help, so five global
//! options would crowd each of some hundred help pages. They are shown once, in `tatrack
//! --help`; every subcommand carries them hidden (they still parse anywhere on the line, as
//! `tatrack need list --json`) and its help ends with a line pointing at them.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use jiff::civil::Date;

use crate::client::assessments::{AssessmentCmd, NeedCmd, RecommendationCmd, SharingCmd};
use crate::client::iati::IatiCmd;
use crate::client::matching::{MatchCmd, OverlapsArgs};
use crate::client::partners::{OfferCmd, OrgCmd};
use crate::client::projects::{ProgressCmd, ProjectCmd, RatesCmd, ReferralCmd};
use crate::client::reports::ReportCmd;
use crate::client::tokens::TokenCmd;
use crate::client::{self, Client};
use crate::telemetry::LogFormat;
use crate::{admin, backup, demo, exit, nats_config, serve};

#[derive(Debug, Parser)]
#[command(
    name = "tatrack",
    version,
    about = "Tracks counter-terrorism technical assistance: needs, offers, projects",
    after_help = exit::HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes, anywhere on the line.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The tatrack server to talk to: its HTTP gateway, e.g. http://127.0.0.1:8080 (default:
    /// the one `tatrack login` saved). TATRACK_TOKEN, if set, is the token sent to it.
    #[arg(long, global = true, env = "TATRACK_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Print JSON instead of tables: one array for a list, the server's answer for a command.
    #[arg(long, global = true)]
    pub json: bool,
    /// Answer lists, shows, matching, reports and exports as of this business date: the state
    /// of affairs on that day, as known now (default: today).
    #[arg(long, global = true, value_name = "DAY")]
    pub as_of: Option<Date>,
    /// Answer as the system knew it then (audit): a time (2026-07-01T12:00:00Z), a day (its
    /// end, UTC) or log positions as a report records them
    /// (assessments:120,partners:45,projects:300,reporter:7).
    #[arg(long, global = true, value_name = "WHEN")]
    pub known_at: Option<String>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Run on a clock that starts at this time (RFC 3339, e.g. 2031-03-14T09:00:00Z) and runs
    /// on from there, instead of the system clock: for demos and tests. It is the only "now"
    /// the services and commands of this process use.
    #[arg(long, global = true, env = "TATRACK_NOW", value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

/// Where the server's data and NATS are: the options of the commands run on the server host.
#[derive(Debug, Clone, Args)]
pub struct Host {
    /// The NATS server tatrack runs on; the servers of a cluster comma-separated
    /// (nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Where the services keep their data.
    #[arg(long, env = "TATRACK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Where the NATS users' keys are (one `<user>.nk` seed file each, 0600, in a 0700
    /// directory; `tatrack nats config` generates them) (default: <data dir>/nats-auth).
    #[arg(long, env = "TATRACK_NATS_CREDENTIALS", value_name = "DIR")]
    pub nats_credentials: Option<PathBuf>,
}

impl Host {
    /// The NATS users' keys: `--nats-credentials`, else `<data dir>/nats-auth`.
    pub fn credentials_dir(&self) -> PathBuf {
        self.nats_credentials
            .clone()
            .unwrap_or_else(|| self.data_dir.join("nats-auth"))
    }
}

/// Where the gateway listens.
#[derive(Debug, Clone, Args)]
pub struct Http {
    /// Where the HTTP gateway listens (port 0: any free port; the address taken is printed).
    #[arg(
        long,
        env = "TATRACK_HTTP_ADDR",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub http_addr: std::net::SocketAddr,
}

/// The reporter's schedule.
#[derive(Debug, Clone, Args)]
pub struct Schedule {
    /// When the reporter makes the system-wide summary as of yesterday in every format: a cron
    /// expression in UTC, e.g. `0 6 * * *` (default: none, reports on demand only).
    #[arg(long, env = "TATRACK_REPORT_SCHEDULE", value_name = "CRON")]
    pub report_schedule: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in: check a token with the server and keep it for the next commands.
    Login {
        /// The token (as `tatrack admin bootstrap` or `tatrack token issue` printed it). Without
        /// it, the token is read from stdin, or asked for on the terminal (nothing echoed);
        /// prefer those: a token on the command line shows in the shell's history.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Read the token from stdin (one line), e.g. `tatrack login --token-stdin < token`,
        /// even when stdin is a terminal.
        #[arg(long, conflicts_with = "token")]
        token_stdin: bool,
    },
    /// Sign out: forget the saved token.
    Logout,
    /// Who the token says you are.
    Whoami,
    /// Assessment visits and desk reviews.
    #[command(subcommand)]
    Assessment(AssessmentCmd),
    /// Recommendations of an assessment.
    #[command(subcommand)]
    Recommendation(RecommendationCmd),
    /// Technical-assistance needs, their coverage, the unmet ones.
    #[command(subcommand)]
    Need(NeedCmd),
    /// A State's consent to share needs or reports.
    #[command(subcommand)]
    Sharing(SharingCmd),
    /// Organisations (donors, implementing partners, Member-State bodies) and portfolios.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Offers of assistance.
    #[command(subcommand)]
    Offer(OfferCmd),
    /// Referrals: a need matched to an offer, accepted by the partner and by the State.
    #[command(subcommand)]
    Referral(ReferralCmd),
    /// Matching: ranked offers for a need, needs for an offer, the allocation, accepting one.
    #[command(subcommand)]
    Match(MatchCmd),
    /// Overlap alerts: same State, theme and beneficiary with overlapping dates.
    Overlaps(OverlapsArgs),
    /// Projects shaped like IATI activities.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Progress reports on projects.
    #[command(subcommand)]
    Progress(ProgressCmd),
    /// The exchange-rate table every conversion uses.
    #[command(subcommand)]
    Rates(RatesCmd),
    /// Summary reports as of a day, made and recorded by the reporter.
    #[command(subcommand)]
    Report(ReportCmd),
    /// IATI 2.03 activity files: export projects, import activities as projects.
    #[command(subcommand)]
    Iati(IatiCmd),
    /// Access tokens (admins).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Print a shell completion script: `tatrack completions bash > /etc/bash_completion.d/tatrack`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// (server host) Every service in one process, each still talking over NATS.
    Up(UpArgs),
    /// (server host) One service, for deployment.
    Serve(ServeArgs),
    /// (server host) The first admin token, and other provisioning.
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    /// (server host) Load the demo data set through the running services.
    #[command(subcommand)]
    Demo(DemoCmd),
    /// (server host) Offline checks of a service's event log.
    #[command(subcommand)]
    Log(admin::LogCmd),
    /// (server host) Copy every command service's log (read from its stream) into a directory,
    /// with a manifest (positions, counts, SHA-256) and the read model's positions.
    Backup(backup::BackupArgs),
    /// (server host) Put a backup into an empty deployment's streams; the services then take
    /// their logs back from them at start, and the read model refolds them.
    Restore(backup::RestoreArgs),
    /// (server host) Who holds each command service's lease, and how far the stream's
    /// replicas and consumers are behind.
    Status {
        #[command(flatten)]
        host: Host,
    },
    /// (server host) Compare a running service's JetStream stream with its log.
    #[command(subcommand)]
    Stream(admin::StreamCmd),
    /// (server host) Read-model administration (offline: stop `tatrack up` first).
    #[command(subcommand)]
    Readmodel(admin::ReadmodelCmd),
    /// (server host) NATS users, keys and permissions: the server's config.
    #[command(subcommand)]
    Nats(nats_config::NatsCmd),
    /// Measure the log, the command path and the read side against their raw limits (runs
    /// `tatrack-bench`, installed next to tatrack; `tatrack bench --help` for its commands).
    #[command(disable_help_flag = true)]
    Bench {
        /// What to measure and how (`append`, `commands`, `queries`; `--help`).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<OsString>,
    },
}

/// Running as one of several instances on a NATS cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Run as one instance of several on a NATS cluster, under this name (e.g. node1): a
    /// command service then serves only while it holds its lease, follows the stream as the
    /// standby otherwise, and acknowledges a command once its events are in the replicated
    /// stream. Unset: the only instance, on one NATS server.
    #[arg(long, env = "TATRACK_INSTANCE", value_name = "NAME")]
    pub instance: Option<String>,
    /// How long a command service's lease lives without renewal, in seconds (with --instance):
    /// longer than a NATS leader election, so losing a NATS server does not also cost it.
    #[arg(
        long,
        env = "TATRACK_LEASE_TTL",
        default_value_t = 15,
        value_name = "SECONDS"
    )]
    pub lease_ttl: u64,
}

impl ClusterArgs {
    /// The cluster settings, checked: `None` without `--instance`.
    pub fn cluster(&self) -> anyhow::Result<Option<tatrack_bus::service::Cluster>> {
        let Some(instance) = &self.instance else {
            return Ok(None);
        };
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if instance.is_empty() || instance.len() > 64 || !instance.chars().all(plain) {
            anyhow::bail!(
                "--instance (TATRACK_INSTANCE): {instance:?} is not 1 to 64 characters of a-z, A-Z, 0-9, '-', '_' and '.'"
            );
        }
        let range = tatrack_bus::lease::TTL_SECONDS;
        if !range.contains(&self.lease_ttl) {
            anyhow::bail!(
                "--lease-ttl (TATRACK_LEASE_TTL): {} seconds is outside {} to {}",
                self.lease_ttl,
                range.start(),
                range.end()
            );
        }
        Ok(Some(tatrack_bus::service::Cluster {
            instance: instance.clone(),
            lease_ttl: std::time::Duration::from_secs(self.lease_ttl),
        }))
    }
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Load the demo data set (if not loaded yet) and print a coordinator and a donor token.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub host: Host,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub http: Http,
    #[command(flatten)]
    pub schedule: Schedule,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The service to run.
    #[arg(value_enum)]
    pub service: serve::Service,
    #[command(flatten)]
    pub host: Host,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub http: Http,
    /// Where `tatrack serve <service>` answers /healthz, /readyz and /metrics (port 0: any free
    /// port; the address taken is printed). The gateway answers them on its own address.
    #[arg(
        long,
        env = "TATRACK_OPS_ADDR",
        default_value = "127.0.0.1:0",
        value_name = "ADDR"
    )]
    pub ops_addr: std::net::SocketAddr,
    #[command(flatten)]
    pub schedule: Schedule,
}

#[derive(Debug, Subcommand)]
pub enum DemoCmd {
    /// Record the demo States, assessments, recommendations, needs, organisations, offers,
    /// referrals and a project.
    Load {
        #[command(flatten)]
        host: Host,
    },
}

/// The line every subcommand's help ends with, in place of the global options.
const GLOBAL_NOTE: &str = "Global options (--url, --json, --as-of, --known-at, --log-format, --now) go anywhere on the line: see `tatrack --help`.";

/// The command line as clap sees it: the global options hidden in every subcommand (see the
/// module's comment).
pub fn command() -> clap::Command {
    let root = Cli::command();
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = root
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    names.into_iter().fold(root, |root, name| {
        root.mut_subcommand(name, |sub| {
            // A hidden copy of each global option: clap propagates the root's only to
            // subcommands that lack it, and the copy (global too) goes down to theirs.
            let sub = globals
                .iter()
                .fold(sub, |sub, arg| sub.arg(arg.clone().hide(true)));
            with_note(sub)
        })
    })
}

/// Ends a command's help, and its subcommands', with `GLOBAL_NOTE`.
fn with_note(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let command = match command.get_after_help() {
        Some(_) => command,
        None => command.after_help(GLOBAL_NOTE),
    };
    names.into_iter().fold(command, |command, name| {
        command.mut_subcommand(name, with_note)
    })
}

/// Parses the process's command line (exits with clap's message and status 2 on a usage error).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // The one place the wall clock is read (invariant 7 in ARCHITECTURE.md).
    let clock = match cli.global.now {
        Some(start) => tatrack_eventlog::Clock::starting_at(start),
        None => tatrack_eventlog::Clock::system(),
    };
    let options = client::Options {
        url: cli.global.url.clone(),
        json: cli.global.json,
        as_of: cli.global.as_of,
        known_at: cli.global.known_at.clone(),
        today: clock.today(),
    };
    let signed_in = || Client::signed_in(&options);
    match cli.command {
        Command::Login { token, token_stdin } => {
            client::credentials::login(&options, token, token_stdin).await
        }
        Command::Logout => client::credentials::logout(),
        Command::Whoami => {
            let client = signed_in()?;
            let me = client::credentials::whoami(&client).await?;
            println!("{me} at {}", client.base());
            Ok(())
        }
        Command::Assessment(cmd) => client::assessments::assessment(&signed_in()?, cmd).await,
        Command::Recommendation(cmd) => {
            client::assessments::recommendation(&signed_in()?, cmd).await
        }
        Command::Need(cmd) => client::assessments::need(&signed_in()?, cmd).await,
        Command::Sharing(cmd) => client::assessments::sharing(&signed_in()?, cmd).await,
        Command::Org(cmd) => client::partners::org(&signed_in()?, cmd).await,
        Command::Offer(cmd) => client::partners::offer(&signed_in()?, cmd).await,
        // Proposals go through matching, which shows their overlaps.
        Command::Referral(cmd) => client::projects::referral(&signed_in()?, cmd).await,
        Command::Match(cmd) => client::matching::matching(&signed_in()?, cmd).await,
        Command::Overlaps(args) => client::matching::overlaps(&signed_in()?, args).await,
        Command::Project(cmd) => client::projects::project(&signed_in()?, cmd).await,
        Command::Progress(cmd) => client::projects::progress(&signed_in()?, cmd).await,
        Command::Rates(cmd) => client::projects::rates(&signed_in()?, cmd).await,
        Command::Report(cmd) => client::reports::report(&signed_in()?, cmd).await,
        Command::Iati(cmd) => client::iati::iati(&signed_in()?, cmd).await,
        Command::Token(cmd) => client::tokens::token(&signed_in()?, cmd).await,
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "tatrack",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Up(args) => {
            let settings = Settings {
                cluster: args.cluster.cluster()?,
                ..Settings::new(clock, &args.host)
                    .with_http(&args.http)
                    .with_schedule(&args.schedule)
            };
            serve::up(&settings, args.demo).await
        }
        Command::Serve(args) => {
            let settings = Settings {
                ops_addr: args.ops_addr,
                cluster: args.cluster.cluster()?,
                ..Settings::new(clock, &args.host)
                    .with_http(&args.http)
                    .with_schedule(&args.schedule)
            };
            serve::serve(&settings, args.service).await
        }
        Command::Admin(cmd) => admin::admin(clock, cli.global.json, cmd).await,
        Command::Demo(DemoCmd::Load { host }) => {
            demo::load(&Settings::new(clock, &host)).await.map(|_| ())
        }
        Command::Log(cmd) => admin::log(&clock, cmd),
        Command::Backup(args) => backup::backup(clock, cli.global.json, args).await,
        Command::Restore(args) => backup::restore(clock, cli.global.json, args).await,
        Command::Stream(cmd) => admin::stream(clock, cli.global.json, cmd).await,
        Command::Status { host } => crate::cluster::status(clock, &host, cli.global.json).await,
        Command::Readmodel(cmd) => admin::readmodel(clock, cmd).await,
        Command::Nats(cmd) => nats_config::nats(cmd),
        Command::Bench { args } => crate::bench::run(&args),
    }
}

/// What the server-host commands need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// "Now" and "today" for everything this process runs.
    pub clock: tatrack_eventlog::Clock,
    pub nats_url: String,
    /// The NATS users' keys (`TATRACK_NATS_CREDENTIALS`, default `<data dir>/nats-auth`).
    pub nats_credentials: PathBuf,
    pub data_dir: PathBuf,
    pub http_addr: std::net::SocketAddr,
    pub ops_addr: std::net::SocketAddr,
    pub report_schedule: Option<String>,
    /// One instance of several on a NATS cluster (`--instance`), or the only one.
    pub cluster: Option<tatrack_bus::service::Cluster>,
}

impl Settings {
    pub fn new(clock: tatrack_eventlog::Clock, host: &Host) -> Self {
        Self {
            clock,
            nats_url: host.nats_url.clone(),
            nats_credentials: host.credentials_dir(),
            data_dir: host.data_dir.clone(),
            http_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            ops_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            report_schedule: None,
            cluster: None,
        }
    }

    pub fn with_http(self, http: &Http) -> Self {
        Self {
            http_addr: http.http_addr,
            ..self
        }
    }

    pub fn with_schedule(self, schedule: &Schedule) -> Self {
        Self {
            report_schedule: schedule.report_schedule.clone(),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap checks the whole command tree (unique flag names across global and local options,
    /// defaults that parse...) only when a command is built; build every one here, not in front of
    /// a user.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    /// Every option and argument a person can see says what it is for, in every command.
    #[test]
    fn every_flag_has_a_description() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        let mut root = command();
        root.build();
        walk(&root, "tatrack", &mut missing);
        assert!(missing.is_empty(), "no description: {missing:#?}");
    }

    fn help(args: &[&str]) -> String {
        match command().try_get_matches_from(args) {
            Err(e) => e.render().to_string(),
            Ok(_) => panic!("{args:?} printed no help"),
        }
    }

    #[test]
    fn global_options_are_listed_once_at_the_top() {
        let top = help(&["tatrack", "--help"]);
        for option in ["--url", "--json", "--as-of", "--known-at", "Exit status:"] {
            assert!(top.contains(option), "{option} missing from\n{top}");
        }
        for args in [
            &["tatrack", "need", "--help"][..],
            &["tatrack", "need", "list", "--help"],
            &["tatrack", "up", "--help"],
        ] {
            let sub = help(args);
            assert!(!sub.contains("--known-at <WHEN>"), "{args:?}:\n{sub}");
            assert!(sub.contains("see `tatrack --help`"), "{args:?}:\n{sub}");
        }
        assert!(help(&["tatrack", "need", "list", "--help"]).contains("--country"));
    }

    #[test]
    fn global_options_parse_anywhere_and_as_is_gone() {
        let parse = |args: &[&str]| {
            command()
                .try_get_matches_from(args)
                .map(|m| Cli::from_arg_matches(&m).unwrap())
        };
        let cli = parse(&["tatrack", "need", "list", "--json", "--as-of", "2026-01-02"]).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.as_of, Some(jiff::civil::date(2026, 1, 2)));
        let cli = parse(&["tatrack", "--json", "need", "list"]).unwrap();
        assert!(cli.global.json);
        for gone in ["--as", "--as-org", "--as-country"] {
            let e = parse(&["tatrack", gone, "x", "need", "list"]).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument, "{gone}");
        }
        let e = parse(&[
            "tatrack",
            "project",
            "budget",
            &uuid::Uuid::nil().to_string(),
            "--amount",
            "12,5",
            "--currency",
            "USD",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("--amount"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let cli = parse(&["tatrack", "bench", "queries", "--events", "10", "--help"]).unwrap();
        assert!(matches!(cli.command, Command::Bench { ref args } if args.len() == 4));
    }
}
