//! `tatrack nats config` (the nats-server config: every tatrack user by its public key, with its
//! permissions; the keys are generated into the credentials directory on first use; with
//! `--cluster-listen`, the config of one server of a JetStream cluster) and `tatrack nats
//! permissions` (who may do what, as a table).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use tatrack_bus::auth::{self, ClusterNode, Credentials, User};

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
        cluster: Box<ClusterArgs>,
        #[command(flatten)]
        host: Host,
    },
    /// Print what each NATS user may publish and subscribe to.
    Permissions,
}

/// One server's place in a NATS cluster (all or none of it: `--cluster-listen` turns it on).
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// Write the config of one server of a JetStream cluster that accepts the other servers'
    /// routes on this host:port (e.g. 0.0.0.0:6222). Needs --server-name; give every other
    /// server of the cluster with --route.
    #[arg(long, value_name = "HOST:PORT", requires = "server_name")]
    cluster_listen: Option<String>,
    /// This server's name in the cluster (e.g. node1): unique, and the same on every restart
    /// (JetStream knows its peers by name).
    #[arg(long, value_name = "NAME", requires = "cluster_listen")]
    server_name: Option<String>,
    /// The cluster's name, the same on every server.
    #[arg(long, value_name = "NAME", default_value = "tatrack")]
    cluster_name: String,
    /// Another server's cluster address, e.g. nats-route://10.0.0.2:6222 (repeat for each).
    #[arg(long = "route", value_name = "URL", requires = "cluster_listen")]
    routes: Vec<String>,
}

impl ClusterArgs {
    fn node(self) -> Option<ClusterNode> {
        Some(ClusterNode {
            server_name: self.server_name?,
            cluster_name: self.cluster_name,
            cluster_listen: self.cluster_listen?,
            routes: self.routes,
        })
    }
}

pub fn nats(cmd: NatsCmd) -> anyhow::Result<()> {
    match cmd {
        NatsCmd::Config {
            out,
            listen,
            store_dir,
            cluster,
            host,
        } => {
            let credentials = Credentials::load_or_generate(&host.credentials_dir())?;
            let store_dir = store_dir.unwrap_or_else(|| host.data_dir.join("nats"));
            let store_dir = std::path::absolute(&store_dir)
                .with_context(|| format!("invalid --store-dir {}", store_dir.display()))?;
            let config = match cluster.node() {
                Some(node) => credentials.server_config_clustered(&listen, &store_dir, &node),
                None => credentials.server_config(&listen, &store_dir),
            };
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
