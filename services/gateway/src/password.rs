//! People's passwords and invitation links for the web console. A password is chosen by a person,
//! so it may be guessable: it is stored only as an argon2id hash (OWASP's parameters, m=19456 KiB,
//! t=2, p=1, argon2's defaults), which makes each guess slow. An invitation link's secret is long
//! and random like a token's, so its plain SHA-256 is enough, as for tokens.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::token::hex;

/// The shortest password accepted: length is what makes a password hard to guess.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The longest password accepted: enough for any passphrase, short enough that hashing one
/// costs an attacker's request nothing extra.
pub const MAX_PASSWORD_CHARS: usize = 128;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP's argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of `password`, with
/// a fresh random salt (the 122 random bits of a v4 UUID: the operating system's randomness,
/// without a second `rand` in the build).
pub fn hash(password: &str) -> String {
    let salt =
        SaltString::encode_b64(Uuid::new_v4().as_bytes()).expect("16 bytes make a valid salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashes any password of at most 128 characters")
        .to_string()
}

/// Whether `password` is the one `phc` was made from; a malformed `phc` matches nothing. The
/// parameters are read from `phc`, so hashes made with other parameters still verify.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        parsed.algorithm == Algorithm::Argon2id.ident()
            && argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
    })
}

/// A hash of no one's password, verified against when an address has no account so that the
/// time a sign-in takes does not tell whether it has.
pub fn unknown_account_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash("no account has this password"));
    &HASH
}

/// A new password must have [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters; the
/// error says so in words a person reads.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// A new invitation link's secret: 256 bits as 64 lower-case hex characters (safe in a URL),
/// the SHA-256 of three v4 UUIDs (366 random bits).
pub fn invitation_secret() -> String {
    let mut h = Sha256::new();
    for _ in 0..3 {
        h.update(Uuid::new_v4().as_bytes());
    }
    hex(&h.finalize())
}

/// The lower-case hex SHA-256 of an invitation secret, as `account_invite`,
/// `account_reinvite` and `account_set_password` carry it.
pub fn invitation_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// SHA-256 of a purpose, a private `seed` and an account's id: what the demo derives its
/// secrets from, so they are the same on every start and written nowhere but the seed file.
fn derived(purpose: &str, seed: &[u8], id: Uuid) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(seed);
    h.update(id.as_bytes());
    h.finalize().into()
}

/// The demo account `id`'s password: 24 hex characters (96 bits) from the seed.
pub fn derived_password(seed: &[u8], id: Uuid) -> String {
    hex(&derived("tatrack demo password", seed, id)[..12])
}

/// The demo account `id`'s invitation secret, from the seed; also the console's, from the
/// gateway's random seed and the invitation's command id (`web/screens/admin.rs`).
pub fn derived_invitation_secret(seed: &[u8], id: Uuid) -> String {
    hex(&derived("tatrack demo invitation", seed, id))
}

/// [`hash`] with a salt from the seed: the demo's commands must be the same on every start (a
/// command id sent again with another body is refused), so its password hash must be too.
pub fn derived_hash(password: &str, seed: &[u8], id: Uuid) -> String {
    let salt = derived("tatrack demo salt", seed, id);
    let salt = SaltString::encode_b64(&salt[..16]).expect("16 bytes make a valid salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashes any password of at most 128 characters")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterx", &phc));
        assert_ne!(phc, hash("correct horse battery"), "a fresh salt each time");
        assert!(!verify("correct horse battery", "not a phc"));
        assert!(!verify("x", ""));
    }

    #[test]
    fn new_passwords_need_twelve_to_128_characters() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"a".repeat(11)).is_err());
        assert!(check_new_password(&"a".repeat(12)).is_ok());
        // Characters, not bytes.
        assert!(check_new_password(&"é".repeat(12)).is_ok());
        assert!(check_new_password(&"a".repeat(128)).is_ok());
        assert!(check_new_password(&"a".repeat(129)).is_err());
    }

    #[test]
    fn the_demo_derives_the_same_secrets_from_its_seed() {
        let id = Uuid::from_u128(7);
        let password = derived_password(b"seed", id);
        assert!(check_new_password(&password).is_ok(), "{password}");
        assert_eq!(password, derived_password(b"seed", id));
        assert_ne!(password, derived_password(b"other", id));
        assert_ne!(password, derived_password(b"seed", Uuid::from_u128(8)));
        let phc = derived_hash(&password, b"seed", id);
        assert_eq!(phc, derived_hash(&password, b"seed", id));
        assert!(verify(&password, &phc));
        let secret = derived_invitation_secret(b"seed", id);
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, derived_invitation_secret(b"other", id));
    }

    #[test]
    fn invitation_secrets_are_random_and_hashed_like_tokens() {
        let a = invitation_secret();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert_ne!(a, invitation_secret());
        assert_eq!(invitation_hash("test"), crate::token::hash("test"));
        assert_eq!(invitation_hash(&a).len(), 64);
    }
}
