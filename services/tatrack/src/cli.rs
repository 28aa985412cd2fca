//! The command line: shared settings (DESIGN §7) and one subcommand per job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;
use crate::{
    admin, bench, client, client_partners, client_projects, client_report, client_tokens, demo,
    nats_config, serve,
};

#[derive(Debug, Parser)]
#[command(
    name = "tatrack",
    version,
    about = "Tracks counter-terrorism technical assistance: needs, offers, projects"
)]
pub struct Cli {
    /// NATS server to talk to.
    #[arg(
        long,
        global = true,
        env = "NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// Where services keep their data.
    #[arg(
        long,
        global = true,
        env = "TATRACK_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,
    /// Where the NATS users' keys are (one `<user>.nk` seed file each, 0600, in a 0700
    /// directory; `tatrack nats config` generates them): each service connects as its own user,
    /// the CLI as the gateway's (default: `<data dir>/nats-auth`).
    #[arg(long, global = true, env = "TATRACK_NATS_CREDENTIALS")]
    pub nats_credentials: Option<PathBuf>,
    /// Where the HTTP gateway listens (port 0: any free port; the address taken is printed).
    #[arg(
        long,
        global = true,
        env = "TATRACK_HTTP_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub http_addr: std::net::SocketAddr,
    /// Where `tatrack serve <service>` answers /healthz, /readyz and /metrics (port 0: any free
    /// port; the address taken is printed). `tatrack up` answers them on the gateway's address.
    #[arg(
        long,
        global = true,
        env = "TATRACK_OPS_ADDR",
        default_value = "127.0.0.1:0"
    )]
    pub ops_addr: std::net::SocketAddr,
    /// When the reporter makes the system-wide summary as of yesterday in every format: a cron
    /// expression in UTC, e.g. `0 6 * * *` (default: none, reports on demand only).
    #[arg(long, global = true, env = "TATRACK_REPORT_SCHEDULE")]
    pub report_schedule: Option<String>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Run on a clock that starts at this time (RFC 3339, e.g. 2031-03-14T09:00:00Z) and runs
    /// on from there, instead of the system clock: for demos and tests. It is read once, here,
    /// and is the only "now" every service and command uses.
    #[arg(long, global = true, env = "TATRACK_NOW")]
    pub now: Option<jiff::Timestamp>,
    /// Print JSON (one array for lists) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub actor: client::Actor,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every service in one process, each still talking over NATS.
    Up(UpArgs),
    /// One service, for deployment.
    Serve {
        #[arg(value_enum)]
        service: serve::Service,
    },
    /// Assessment visits and desk reviews.
    #[command(subcommand)]
    Assessment(client::AssessmentCmd),
    /// Recommendations of an assessment.
    #[command(subcommand)]
    Recommendation(client::RecommendationCmd),
    /// Technical-assistance needs.
    #[command(subcommand)]
    Need(client::NeedCmd),
    /// A State's consent to share needs or reports.
    #[command(subcommand)]
    Sharing(client::SharingCmd),
    /// Organisations: donors, implementing partners, Member-State bodies.
    #[command(subcommand)]
    Org(client_partners::OrgCmd),
    /// Offers of assistance.
    #[command(subcommand)]
    Offer(client_partners::OfferCmd),
    /// Referrals: a need matched to an offer, accepted by the partner and by the State.
    #[command(subcommand)]
    Referral(client_projects::ReferralCmd),
    /// Matching: ranked offers for a need, needs for an offer, the allocation, accepting one.
    #[command(subcommand)]
    Match(crate::client_matching::MatchCmd),
    /// Overlap alerts: same State, theme and beneficiary with overlapping dates.
    Overlaps(crate::client_matching::OverlapsArgs),
    /// Projects shaped like IATI activities.
    #[command(subcommand)]
    Project(client_projects::ProjectCmd),
    /// Progress reports on projects.
    #[command(subcommand)]
    Progress(client_projects::ProgressCmd),
    /// The exchange-rate table every conversion uses.
    #[command(subcommand)]
    Rates(client_projects::RatesCmd),
    /// Summary reports as of a day, made and recorded by the reporter.
    #[command(subcommand)]
    Report(client_report::ReportCmd),
    /// IATI 2.03 activity files: export projects, import activities as projects.
    #[command(subcommand)]
    Iati(crate::iati::IatiCmd),
    /// Access tokens for the HTTP gateway (sent as an admin).
    #[command(subcommand)]
    Token(client_tokens::TokenCmd),
    /// Load the demo data set through the running services.
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Offline checks of a service's event log.
    #[command(subcommand)]
    Log(admin::LogCmd),
    /// Compare a running service's JetStream stream with its log.
    #[command(subcommand)]
    Stream(admin::StreamCmd),
    /// Measure the log and the command path against their raw limits.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Read-model administration (offline: stop `tatrack up` first).
    #[command(subcommand)]
    Readmodel(admin::ReadmodelCmd),
    /// NATS users, keys and permissions: the server's config.
    #[command(subcommand)]
    Nats(nats_config::NatsCmd),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Load the demo data set (if not loaded yet) and print a coordinator and a donor token.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum DemoCmd {
    /// Record the demo States, assessments, recommendations, needs, organisations, offers,
    /// referrals and a project.
    Load,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // The one place the wall clock is read (invariant 7 in ARCHITECTURE.md).
    let clock = match cli.now {
        Some(start) => tatrack_eventlog::Clock::starting_at(start),
        None => tatrack_eventlog::Clock::system(),
    };
    let settings = Settings {
        clock,
        nats_url: cli.nats_url,
        nats_credentials: cli
            .nats_credentials
            .unwrap_or_else(|| cli.data_dir.join("nats-auth")),
        data_dir: cli.data_dir,
        http_addr: cli.http_addr,
        ops_addr: cli.ops_addr,
        report_schedule: cli.report_schedule,
        json: cli.json,
        actor: cli.actor,
    };
    match cli.command {
        Command::Up(args) => serve::up(&settings, args.demo).await,
        Command::Serve { service } => serve::serve(&settings, service).await,
        Command::Assessment(cmd) => client::assessment(&settings, cmd).await,
        Command::Recommendation(cmd) => client::recommendation(&settings, cmd).await,
        Command::Need(cmd) => client::need(&settings, cmd).await,
        Command::Sharing(cmd) => client::sharing(&settings, cmd).await,
        Command::Org(cmd) => client_partners::org(&settings, cmd).await,
        Command::Offer(cmd) => client_partners::offer(&settings, cmd).await,
        // Proposals go through matching, which shows their overlaps.
        Command::Referral(cmd) => crate::client_matching::referral(&settings, cmd).await,
        Command::Match(cmd) => crate::client_matching::matching(&settings, cmd).await,
        Command::Overlaps(args) => crate::client_matching::overlaps(&settings, args).await,
        Command::Project(cmd) => client_projects::project(&settings, cmd).await,
        Command::Progress(cmd) => client_projects::progress(&settings, cmd).await,
        Command::Rates(cmd) => client_projects::rates(&settings, cmd).await,
        Command::Report(cmd) => client_report::report(&settings, cmd).await,
        Command::Iati(cmd) => crate::iati::iati(&settings, cmd).await,
        Command::Token(cmd) => client_tokens::token(&settings, cmd).await,
        Command::Demo(DemoCmd::Load) => demo::load(&settings).await.map(|_| ()),
        Command::Log(cmd) => admin::log(&settings, cmd).await,
        Command::Stream(cmd) => admin::stream(&settings, cmd).await,
        Command::Bench(cmd) => bench::run(&settings, cmd).await,
        Command::Readmodel(cmd) => admin::readmodel(&settings, cmd).await,
        Command::Nats(cmd) => nats_config::nats(&settings, cmd),
    }
}

/// What every subcommand may need.
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
    pub json: bool,
    pub actor: client::Actor,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (unique flag names across global and local options,
    /// defaults that parse...) only when a command is built; build every one here, not in front of
    /// a user.
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
