//! The exit statuses, one per thing a script acts on, and the error that carries them. They are
//! documented in `tatrack --help` (`HELP`) and in the README.

use crate::client;

/// The command did what was asked.
pub const OK: u8 = 0;
/// Anything else: a server error, the server unreachable, a file that cannot be written.
pub const FAILED: u8 = 1;
/// Bad input: the command line (clap's usage errors exit with 2 too), or a value the server
/// refused (400), named by its flag.
pub const BAD_INPUT: u8 = 2;
/// Not signed in, or not allowed: no token, a token refused (401), a forbidden action (403).
pub const NOT_ALLOWED: u8 = 3;
/// What was named does not exist, or is not visible to you (404).
pub const NOT_FOUND: u8 = 4;
/// A conflict: it exists already, a duplicate, or it changed meanwhile (409, 412).
pub const CONFLICT: u8 = 5;

/// The table `tatrack --help` ends with.
pub const HELP: &str = "\
Exit status:
  0  ok
  1  other failure (server error, server unreachable, a file that cannot be written)
  2  bad input: a usage error, or a value refused, named by its flag (--amount...)
  3  not signed in, or not allowed (no token, token refused, forbidden)
  4  not found (or not visible to you)
  5  conflict: already exists, a duplicate, or changed meanwhile

Sign in first: `tatrack login --url http://127.0.0.1:8080` with a token from your
administrator (or set TATRACK_URL and TATRACK_TOKEN). Commands marked (server host) run
where tatrack runs, with its data directory and NATS keys.";

/// The status for an error, from the first error in its chain that says.
pub fn status(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<client::Error>() {
            return e.status();
        }
        match cause.downcast_ref::<crate::backup::Refusal>() {
            Some(crate::backup::Refusal::BadInput(_)) => return BAD_INPUT,
            Some(crate::backup::Refusal::NotEmpty(_)) => return CONFLICT,
            None => {}
        }
        if let Some(tatrack_bus::rpc::Error::Remote(body)) =
            cause.downcast_ref::<tatrack_bus::rpc::Error>()
        {
            return for_code(body.code);
        }
    }
    FAILED
}

/// The status for a service's error code (the commands that talk to NATS directly).
pub fn for_code(code: tatrack_contract::ErrorCode) -> u8 {
    use tatrack_contract::ErrorCode;
    match code {
        ErrorCode::Invalid => BAD_INPUT,
        ErrorCode::Forbidden => NOT_ALLOWED,
        ErrorCode::NotFound => NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::AlreadyExists => CONFLICT,
        ErrorCode::Timeout | ErrorCode::Unavailable | ErrorCode::Internal => FAILED,
    }
}

/// The status for an HTTP answer that is not a success.
pub fn for_http(status: u16) -> u8 {
    match status {
        400 | 413 | 422 => BAD_INPUT,
        401 | 403 => NOT_ALLOWED,
        404 => NOT_FOUND,
        409 | 412 => CONFLICT,
        _ => FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_documented_table() {
        assert_eq!(for_http(400), BAD_INPUT);
        assert_eq!(for_http(401), NOT_ALLOWED);
        assert_eq!(for_http(403), NOT_ALLOWED);
        assert_eq!(for_http(404), NOT_FOUND);
        assert_eq!(for_http(409), CONFLICT);
        assert_eq!(for_http(412), CONFLICT);
        assert_eq!(for_http(500), FAILED);
        assert_eq!(for_http(503), FAILED);
        assert_eq!(status(&anyhow::Error::new(client::Error::NotSignedIn)), 3);
        let wrapped = anyhow::Error::new(client::Error::Invalid {
            flag: "--amount".into(),
            reason: "not an amount".into(),
        })
        .context("recording the transaction");
        assert_eq!(status(&wrapped), BAD_INPUT);
        assert_eq!(status(&anyhow::anyhow!("disk full")), FAILED);
        assert_eq!(OK, 0);
        for line in ["0  ok", "2  bad input", "3  not signed in", "5  conflict"] {
            assert!(HELP.contains(line), "{line}");
        }
    }
}
