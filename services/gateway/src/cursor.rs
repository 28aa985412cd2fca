//! Opaque page cursors: the offset into a list answer and a keyed check over the offset, the
//! view and the query, so a cursor cannot be edited or carried to another query. The key is
//! random per process: after a restart an old cursor is refused and the client starts over.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::problem::Problem;
use crate::token::hex;

/// Hex characters of the check kept in a cursor (128 bits).
const CHECK_CHARS: usize = 32;

#[derive(Clone)]
pub(crate) struct Cursors {
    key: [u8; 32],
}

impl Cursors {
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        Self { key }
    }

    /// sha256(key ‖ sha256(key ‖ message)): keyed and, nested, safe from length extension.
    fn check(&self, offset: u64, view: &str, query: &str) -> String {
        let mut inner = Sha256::new();
        inner.update(self.key);
        inner.update(offset.to_be_bytes());
        inner.update((view.len() as u64).to_be_bytes());
        inner.update(view.as_bytes());
        inner.update(query.as_bytes());
        let mut outer = Sha256::new();
        outer.update(self.key);
        outer.update(inner.finalize());
        hex(&outer.finalize())[..CHECK_CHARS].to_owned()
    }

    pub(crate) fn encode(&self, offset: u64, view: &str, query: &str) -> String {
        format!("{offset:016x}{}", self.check(offset, view, query))
    }

    /// The offset a cursor holds, if this process made it for this view and query.
    pub(crate) fn decode(&self, cursor: &str, view: &str, query: &str) -> Result<u64, Problem> {
        let bad = || Problem::invalid("cursor", "not a cursor this gateway gave for this query");
        if cursor.len() != 16 + CHECK_CHARS || !cursor.is_ascii() {
            return Err(bad());
        }
        let (offset, check) = cursor.split_at(16);
        let offset = u64::from_str_radix(offset, 16).map_err(|_| bad())?;
        let expected = self.check(offset, view, query);
        // Compare every byte, so the time taken does not say how much of a forgery was right.
        let same = expected
            .bytes()
            .zip(check.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if same != 0 {
            return Err(bad());
        }
        Ok(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let c = Cursors::new();
        let cursor = c.encode(200, "need_list", "{}");
        assert_eq!(c.decode(&cursor, "need_list", "{}"), Ok(200));
        let mut tampered = cursor.clone().into_bytes();
        tampered[15] = if tampered[15] == b'1' { b'2' } else { b'1' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            c.decode(&tampered, "need_list", "{}")
                .unwrap_err()
                .field
                .as_deref(),
            Some("cursor")
        );
        assert!(c.decode(&cursor, "offer_list", "{}").is_err());
        assert!(c.decode(&cursor, "need_list", r#"{"theme":"x"}"#).is_err());
        assert!(Cursors::new().decode(&cursor, "need_list", "{}").is_err());
        assert!(c.decode("zz", "need_list", "{}").is_err());
        assert!(
            c.decode("é".repeat(24).as_str(), "need_list", "{}")
                .is_err()
        );
    }
}
