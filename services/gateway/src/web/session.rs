//! Console sessions and the sign-in throttle, both held in the gateway's memory.
//!
//! A session is a random secret in a cookie (HttpOnly, SameSite=Strict, Secure over TLS); only
//! its SHA-256 is a key here, so a dump of the gateway's memory holds no usable cookie. Each
//! session has its own CSRF token, expires after `IDLE` without a request and after `ABSOLUTE`
//! whatever happens, and names the account it is for: the account is looked up again on every
//! request, so a disabled account loses its sessions at once. Sessions live in one gateway
//! process: a restart signs people out, and two gateways are two sign-ins (ARCHITECTURE.md,
//! "The web console"). Expiry counts with the monotonic clock: it measures how long ago, not
//! which day it is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::token::{hash, hex};

/// A session ends after this long without a request...
pub(crate) const IDLE: Duration = Duration::from_secs(30 * 60);
/// ...and after this long in any case.
pub(crate) const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);

/// The session cookie's name.
pub(crate) const COOKIE: &str = "tatrack_session";
/// The pre-session cookie that the sign-in and invitation forms' CSRF tokens are checked against.
pub(crate) const FORM_COOKIE: &str = "tatrack_form";

/// Failed sign-ins in a row after which an e-mail address is slowed down.
pub(crate) const FREE_FAILURES: u32 = 5;
/// The first wait after `FREE_FAILURES`; each further failure doubles it, up to `MAX_WAIT`.
const FIRST_WAIT: Duration = Duration::from_secs(30);
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// A random secret of 256 bits in hex: session cookies and CSRF tokens.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    hex(&bytes)
}

/// Compares two secrets in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// One signed-in person.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The account it is for (`account:<id>` is the principal's id).
    pub(crate) account: Uuid,
    /// Every form of this session carries it.
    pub(crate) csrf: String,
    started: Instant,
    last_seen: Instant,
}

#[derive(Clone)]
pub(crate) struct Sessions {
    by_hash: Arc<Mutex<HashMap<String, Session>>>,
    idle: Duration,
    absolute: Duration,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_limits(IDLE, ABSOLUTE)
    }
}

impl Sessions {
    pub(crate) fn with_limits(idle: Duration, absolute: Duration) -> Self {
        Self {
            by_hash: Arc::default(),
            idle,
            absolute,
        }
    }

    /// Starts a session for `account` and returns its cookie secret.
    pub(crate) fn start(&self, account: Uuid) -> String {
        let secret = random_secret();
        let now = Instant::now();
        let session = Session {
            account,
            csrf: random_secret(),
            started: now,
            last_seen: now,
        };
        let mut sessions = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        // Expired sessions go when a new one starts, so the table never grows past the people
        // signed in during the last `ABSOLUTE`.
        sessions.retain(|_, s| self.alive(s, now));
        sessions.insert(hash(&secret), session);
        secret
    }

    /// The live session of a cookie secret (its idle clock restarts), or `None`.
    pub(crate) fn touch(&self, secret: &str) -> Option<Session> {
        let now = Instant::now();
        let key = hash(secret);
        let mut sessions = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        let session = sessions.get_mut(&key)?;
        if !self.alive(session, now) {
            sessions.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// Ends the session of a cookie secret.
    pub(crate) fn end(&self, secret: &str) {
        self.by_hash
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&hash(secret));
    }

    fn alive(&self, session: &Session, now: Instant) -> bool {
        now.duration_since(session.last_seen) < self.idle
            && now.duration_since(session.started) < self.absolute
    }
}

/// Failed sign-ins per e-mail address (whether or not an account has it, so the wait tells
/// nobody which addresses exist).
#[derive(Clone, Default)]
pub(crate) struct Throttle {
    failures: Arc<Mutex<HashMap<String, Failures>>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    in_a_row: u32,
    last: Instant,
}

impl Throttle {
    /// How long `email` must still wait before its next try (`None`: it may try now).
    pub(crate) fn wait(&self, email: &str) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let f = failures.get(email)?;
        let wait = wait_after(f.in_a_row)?;
        wait.checked_sub(f.last.elapsed())
            .filter(|left| !left.is_zero())
    }

    pub(crate) fn failed(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let f = failures.entry(email.to_owned()).or_insert(Failures {
            in_a_row: 0,
            last: Instant::now(),
        });
        f.in_a_row = f.in_a_row.saturating_add(1);
        f.last = Instant::now();
    }

    pub(crate) fn succeeded(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(email);
    }
}

/// The wait after `in_a_row` failures: none for the first `FREE_FAILURES`, then doubling.
fn wait_after(in_a_row: u32) -> Option<Duration> {
    let over = in_a_row.checked_sub(FREE_FAILURES)?;
    let factor = 1u32.checked_shl(over.min(16)).unwrap_or(u32::MAX);
    Some(FIRST_WAIT.saturating_mul(factor).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_idle_or_absolute_expiry_and_ends_on_sign_out() {
        let sessions = Sessions::default();
        let account = Uuid::now_v7();
        let secret = sessions.start(account);
        let s = sessions.touch(&secret).expect("live");
        assert_eq!(s.account, account);
        assert_eq!(s.csrf.len(), 64);
        assert!(sessions.touch("nope").is_none());
        sessions.end(&secret);
        assert!(sessions.touch(&secret).is_none());

        let short = Sessions::with_limits(Duration::from_millis(30), Duration::from_secs(60));
        let secret = short.start(account);
        std::thread::sleep(Duration::from_millis(50));
        assert!(short.touch(&secret).is_none(), "idle expiry");

        let short = Sessions::with_limits(Duration::from_secs(60), Duration::from_millis(30));
        let secret = short.start(account);
        assert!(short.touch(&secret).is_some());
        std::thread::sleep(Duration::from_millis(50));
        assert!(short.touch(&secret).is_none(), "absolute expiry");
    }

    #[test]
    fn five_failures_in_a_row_slow_an_address_down_and_success_resets() {
        let t = Throttle::default();
        for _ in 0..FREE_FAILURES {
            assert!(t.wait("a@x.org").is_none());
            t.failed("a@x.org");
        }
        let wait = t.wait("a@x.org").expect("slowed");
        assert!(wait > Duration::from_secs(25) && wait <= FIRST_WAIT);
        assert!(t.wait("b@x.org").is_none(), "per address");
        t.succeeded("a@x.org");
        assert!(t.wait("a@x.org").is_none());
        assert_eq!(wait_after(4), None);
        assert_eq!(wait_after(5), Some(FIRST_WAIT));
        assert_eq!(wait_after(6), Some(FIRST_WAIT * 2));
        assert_eq!(wait_after(40), Some(MAX_WAIT));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert_ne!(random_secret(), random_secret());
    }
}
