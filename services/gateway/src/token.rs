//! Token secrets and their hashes. A secret is `tt_` and 64 hex characters (256 bits, 244 of them
//! random); only its SHA-256 is ever recorded, so a leaked event log gives no usable token. Long
//! random secrets need no slow password hash: nobody can guess one to test against the hash.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Every secret starts with this, so a token is recognisable in logs and secret scanners.
pub const PREFIX: &str = "tt_";

/// A new random secret.
pub fn new_secret() -> String {
    format!(
        "{PREFIX}{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    )
}

/// A secret derived from a private `seed` and the token's id: the demo issues the same tokens on
/// every start without writing a secret anywhere but its seed file.
pub fn derived_secret(seed: &[u8], id: Uuid) -> String {
    let mut h = Sha256::new();
    h.update(b"tatrack demo token\0");
    h.update(seed);
    h.update(id.as_bytes());
    format!("{PREFIX}{}", hex(&h.finalize()))
}

/// The lower-case hex SHA-256 of a secret, as `token_issue` records it.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `text` has the shape of a secret (checked before hashing it).
pub fn looks_like_secret(text: &str) -> bool {
    text.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_documented_shape_and_hash() {
        let a = new_secret();
        assert!(looks_like_secret(&a), "{a}");
        assert_ne!(a, new_secret());
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(
            hash("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        let id = Uuid::from_u128(7);
        let d = derived_secret(b"seed", id);
        assert!(looks_like_secret(&d));
        assert_eq!(d, derived_secret(b"seed", id));
        assert_ne!(d, derived_secret(b"other", id));
        assert!(!looks_like_secret("tt_short"));
        assert!(!looks_like_secret(&a.replace("tt_", "xx_")));
    }
}
