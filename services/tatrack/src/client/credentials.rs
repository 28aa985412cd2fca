//! Where the CLI's token comes from, and `tatrack login` / `tatrack logout`.
//!
//! `tatrack login --url URL` checks a token against the gateway and saves `{url, token}` in
//! `$XDG_CONFIG_HOME/tatrack/credentials` (else `~/.config/tatrack/credentials`), the
//! file 0600 in a 0700 directory; a file others can read is refused, as ssh refuses a readable
//! key. `TATRACK_TOKEN` (with `--url`/`TATRACK_URL`, else the saved URL) overrides the file, for
//! scripts and CI. The saved token is sent only to the saved URL: `--url` naming another server
//! needs its own token.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::{Client, Error, Options};

/// The URL `tatrack login` uses when none is given: where `tatrack up` listens by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// What `tatrack login` saves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub url: String,
    pub token: String,
}

/// The credentials file: `$XDG_CONFIG_HOME/tatrack/credentials`, else
/// `$HOME/.config/tatrack/credentials`.
pub fn path() -> anyhow::Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| PathBuf::from(home).join(".config"))
            .context("neither XDG_CONFIG_HOME nor HOME is set: cannot tell where to keep the token (set TATRACK_URL and TATRACK_TOKEN instead)")?,
    };
    Ok(config.join("tatrack").join("credentials"))
}

/// The saved session, if any. A file others may read is refused.
pub fn load() -> anyhow::Result<Option<Session>> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    check_private(&path)?;
    let session: Session = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a tatrack credentials file: run `tatrack login` again",
            path.display()
        )
    })?;
    Ok(Some(session))
}

#[cfg(unix)]
fn check_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode();
    anyhow::ensure!(
        mode & 0o077 == 0,
        "{} may be read by others (mode {:o}): `chmod 600` it, or run `tatrack login` again",
        path.display(),
        mode & 0o777
    );
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Saves the session: the directory 0700, the file 0600, written aside and renamed so a reader
/// never sees half of it.
pub fn save(session: &Session) -> anyhow::Result<PathBuf> {
    let path = path()?;
    let dir = path
        .parent()
        .context("the credentials file has no directory")?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", dir.display()))?;
    }
    let partial = path.with_extension("partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&partial)
        .with_context(|| format!("writing {}", partial.display()))?;
    file.write_all(serde_json::to_string_pretty(session)?.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The URL and token a command uses: `TATRACK_TOKEN` with `--url`/`TATRACK_URL` (else the saved
/// URL, else the default), or the saved session, whose token goes to its own URL only.
pub fn resolve(url: Option<&str>) -> anyhow::Result<Session> {
    let token = std::env::var("TATRACK_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    // With a token from the environment, the saved login only lends its URL: a file that
    // cannot be used does not stop a script that needs none.
    let saved = match token {
        Some(_) => load().ok().flatten(),
        None => load()?,
    };
    match (token, saved) {
        (Some(token), saved) => Ok(Session {
            url: url
                .map(str::to_owned)
                .or(saved.map(|s| s.url))
                .unwrap_or_else(|| DEFAULT_URL.to_owned()),
            token: token.trim().to_owned(),
        }),
        (None, Some(saved)) => match url {
            Some(url) if super::base_url(url)? != super::base_url(&saved.url)? => {
                Err(Error::NotSignedIn).with_context(|| {
                    format!(
                        "you signed in to {}, not {url}: run `tatrack login --url {url}` to use it",
                        saved.url
                    )
                })
            }
            _ => Ok(saved),
        },
        (None, None) => Err(Error::NotSignedIn.into()),
    }
}

/// `tatrack login`: reads the token, checks it with the gateway, saves it.
pub async fn login(
    options: &Options,
    token: Option<String>,
    token_stdin: bool,
) -> anyhow::Result<()> {
    let url = options
        .url
        .clone()
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let base = super::base_url(&url)?;
    let token = match token {
        Some(token) => token.trim().to_owned(),
        None => read_token(token_stdin)?,
    };
    if !tatrack_gateway::token::looks_like_secret(&token) {
        return Err(Error::invalid(
            "--token",
            "a tatrack token is tt_ and 64 hexadecimal characters, as `tatrack token issue` or `tatrack admin bootstrap` printed it",
        )
        .into());
    }
    let client = Client::new(&base, token.clone(), options)?;
    let me = whoami(&client).await?;
    let path = save(&Session {
        url: base.clone(),
        token,
    })?;
    eprintln!(
        "signed in to {base} as {me}; token saved in {}",
        path.display()
    );
    Ok(())
}

/// Who the token says you are, in words (`donor of DEMO-DONOR`); checks the token on the way.
pub async fn whoami(client: &Client) -> anyhow::Result<String> {
    let me: tatrack_domain::Principal = client
        .show(tatrack_contract::bus::View::PrincipalShow, None)
        .await?;
    Ok(describe(&me))
}

pub fn describe(me: &tatrack_domain::Principal) -> String {
    match (&me.organisation, &me.member_state) {
        (Some(org), _) => format!("{} of {org}", me.role),
        (None, Some(country)) => format!("{} of {country}", me.role),
        (None, None) => me.role.to_string(),
    }
}

/// `tatrack logout`: forgets the saved token (it stays valid until an admin revokes it).
pub fn logout() -> anyhow::Result<()> {
    let path = path()?;
    match std::fs::remove_file(&path) {
        Ok(()) => eprintln!(
            "signed out: removed {} (the token itself stays valid until an admin revokes it)",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("not signed in: {} does not exist", path.display());
        }
        Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
    }
    Ok(())
}

/// The token from stdin (one line) when asked or when stdin is not a terminal, else prompted
/// for on the terminal without echo.
fn read_token(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let token = if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the token from stdin")?;
        line
    } else {
        rpassword::prompt_password("token (from your administrator; not echoed): ")
            .context("reading the token")?
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Error::invalid("--token", "none given").into());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_is_described_by_its_scope() {
        use tatrack_domain::{Principal, Role};
        let donor = Principal {
            id: "token:x".into(),
            role: Role::Donor,
            organisation: Some("DEMO-DONOR".into()),
            member_state: None,
        };
        assert_eq!(describe(&donor), "donor of DEMO-DONOR");
        let focal = Principal {
            role: Role::StateFocalPoint,
            organisation: None,
            member_state: Some("KE".into()),
            ..donor.clone()
        };
        assert_eq!(describe(&focal), "state_focal_point of KE");
        let coordinator = Principal {
            role: Role::Coordinator,
            organisation: None,
            ..donor
        };
        assert_eq!(describe(&coordinator), "coordinator");
    }
}
