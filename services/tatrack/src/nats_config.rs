//! `tatrack nats config` (the nats-server config: every tatrack user by its public key, with its
//! permissions; the keys are generated into the credentials directory on first use) and
//! `tatrack nats permissions` (who may do what, as a table).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use tatrack_bus::auth::{self, Credentials, User};

use crate::cli::Host;

#[derive(Debug, Subcommand)]
pub enum NatsCmd {
    /// Write a nats-server config with JetStream and tatrack's users; generates the users' keys
    /// into the credentials directory (TATRACK_NATS_CREDENTIALS) if they are not there yet.
    Config {
        /// The config file to write (replaced if it exists).
        #[arg(long)]
        out: PathBuf,
        /// host:port the server listens on.
        #[arg(long, default_value = "127.0.0.1:4222")]
        listen: String,
        /// JetStream's store directory (default: <data dir>/nats).
        #[arg(long)]
        store_dir: Option<PathBuf>,
        #[command(flatten)]
        host: Host,
    },
    /// Print what each NATS user may publish and subscribe to.
    Permissions,
}

pub fn nats(cmd: NatsCmd) -> anyhow::Result<()> {
    match cmd {
        NatsCmd::Config {
            out,
            listen,
            store_dir,
            host,
        } => {
            let credentials = Credentials::load_or_generate(&host.credentials_dir())?;
            let store_dir = store_dir.unwrap_or_else(|| host.data_dir.join("nats"));
            let store_dir = std::path::absolute(&store_dir)
                .with_context(|| format!("invalid --store-dir {}", store_dir.display()))?;
            let config = credentials.server_config(&listen, &store_dir);
            // Written aside and renamed, so a server never reads half a config.
            let partial = out.with_extension("partial");
            std::fs::write(&partial, config)
                .with_context(|| format!("writing {}", partial.display()))?;
            std::fs::rename(&partial, &out)
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {} (users' keys in {})",
                out.display(),
                credentials.dir().display()
            );
            Ok(())
        }
        NatsCmd::Permissions => {
            for user in User::ALL {
                let permissions = auth::permissions(user);
                println!("{user}");
                println!("  publish:   {}", permissions.publish.join(" "));
                println!("  subscribe: {}", permissions.subscribe.join(" "));
            }
            Ok(())
        }
    }
}
