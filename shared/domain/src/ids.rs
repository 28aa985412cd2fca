//! Identifiers: UUID v7, minted at the edge (services), never inside a decider.

use uuid::Uuid;

/// A new time-ordered id (UUID v7).
///
/// This reads the clock and randomness, so it is the one impure function in this crate: services call it
/// to fill in a command's id; deciders never do, which keeps `decide` reproducible. Ids sort by creation
/// time, which keeps sled's keys and JetStream's message ids local.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_v7_and_distinct() {
        let (a, b) = (super::new_id(), super::new_id());
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b);
    }
}
