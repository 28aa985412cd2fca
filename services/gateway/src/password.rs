//! Console passwords and invitation links. A password is hashed here with argon2id (the OWASP
//! parameters: 19 MiB, two passes, one lane) and only the PHC string leaves the gateway; an
//! invitation link carries a random secret whose SHA-256 is what the account's events record,
//! like a token's.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

/// The shortest password taken, and the longest (a bound on the hashing work one form costs).
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    salt.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    // 16 bytes always encode; the fallback is never reached.
    let salt = SaltString::encode_b64(&salt)
        .unwrap_or_else(|_| SaltString::from_b64("c2FsdHNhbHRzYWx0").expect("a fixed salt"));
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `password` is the one `phc` was made from.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no one's password, verified against when an address has no account so that the
/// time a sign-in takes does not tell whether it has.
pub fn unknown_account_hash() -> &'static str {
    static HASH: LazyLock<String> = LazyLock::new(|| hash("no account has this password"));
    &HASH
}

/// A new password's length, in characters.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// A new invitation link's secret: 256 random bits in hex (URL-safe).
pub fn invitation_secret() -> String {
    crate::token::new_secret()
        .trim_start_matches(crate::token::PREFIX)
        .to_owned()
}

/// What an account's events record of an invitation secret.
pub fn invitation_hash(secret: &str) -> String {
    crate::token::hash(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash("correct horse battery staple");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("x", "not a hash"));
        assert_ne!(h, hash("correct horse battery staple"), "salted");
        assert!(!verify("anything", unknown_account_hash()));
    }

    #[test]
    fn new_passwords_and_invitations_have_their_shape() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"x".repeat(12)).is_ok());
        assert!(check_new_password(&"x".repeat(129)).is_err());
        let s = invitation_secret();
        assert_eq!(s.len(), 64);
        assert_ne!(s, invitation_secret());
        assert_eq!(invitation_hash(&s).len(), 64);
    }
}
