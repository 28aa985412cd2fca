//! The decider contract every aggregate implements, `fold` to rebuild state from events, and the
//! given/when/then helper the deciders' tests use.

use jiff::civil::Date;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::DomainError;
use crate::event::DomainEvent;

/// A command records a fact that happened on a business date (`on`, default today: the service
/// fills it in when the caller leaves it out). No fact is recorded before it has happened, so
/// the service refuses an `on` after today; the deciders refuse one that goes back before the
/// aggregate's last move (ARCHITECTURE.md, "Two times").
pub trait Dated {
    /// The business date of the fact the command records.
    fn on(&self) -> Date;
}

/// An aggregate as a decider: `decide` turns a command into events (or refuses it) from the current
/// state, `evolve` applies one event. Both are pure: no I/O, no clock; dates and ids come in the command,
/// and who/when are recorded by the event log's envelope.
pub trait Aggregate {
    /// `"assessment"`, `"recommendation"`, `"need"`, `"sharing_grant"`: used in stream names and errors.
    const NAME: &'static str;
    /// `Default` is the state of an aggregate that does not exist yet.
    type State: Default + Clone + std::fmt::Debug + Serialize;
    type Command: Dated + std::fmt::Debug + Serialize + DeserializeOwned;
    type Event: DomainEvent + Clone + std::fmt::Debug + PartialEq;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError>;
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
}

/// The state after `events`, from the empty state.
pub fn fold<'a, A: Aggregate>(events: impl IntoIterator<Item = &'a A::Event>) -> A::State
where
    A::Event: 'a,
{
    events.into_iter().fold(A::State::default(), A::evolve)
}

/// The checks every non-creation command starts with: the aggregate exists and is the one the command
/// names (a mismatch means the caller loaded the wrong stream).
pub(crate) fn check_target(
    name: &str,
    exists: bool,
    state_id: uuid::Uuid,
    command_id: uuid::Uuid,
) -> Result<(), DomainError> {
    check_target_code(name, exists, &state_id.to_string(), &command_id.to_string())
}

/// [`check_target`] for aggregates keyed by a code rather than a UUID (organisations).
pub(crate) fn check_target_code(
    name: &str,
    exists: bool,
    state_id: &str,
    command_id: &str,
) -> Result<(), DomainError> {
    if !exists {
        return Err(DomainError::not_found(name, command_id));
    }
    if state_id != command_id {
        return Err(DomainError::invalid(
            "id",
            format!("command is for {name} {command_id}, not {state_id}"),
        ));
    }
    Ok(())
}

/// `given(events).when(command).then(events)` / `.then_error(error)`, after cqrs-es's TestFramework.
#[cfg(test)]
pub(crate) mod scenario {
    use super::{Aggregate, fold};
    use crate::error::DomainError;
    use crate::event::{DomainEvent, decode, encode};

    pub(crate) struct Given<A: Aggregate> {
        state: A::State,
    }

    pub(crate) struct When<A: Aggregate> {
        state: A::State,
        command: A::Command,
        result: Result<Vec<A::Event>, DomainError>,
    }

    /// The aggregate after `events` (empty: it does not exist yet).
    pub(crate) fn given<A: Aggregate>(events: &[A::Event]) -> Given<A> {
        Given {
            state: fold::<A>(events),
        }
    }

    impl<A: Aggregate> Given<A> {
        pub(crate) fn when(self, command: A::Command) -> When<A> {
            let result = A::decide(&self.state, &command);
            When {
                state: self.state,
                command,
                result,
            }
        }
    }

    impl<A: Aggregate> When<A> {
        /// The command is accepted with exactly `expected`; returns the state after them, which also
        /// checks that `evolve` accepts what `decide` produced.
        #[track_caller]
        pub(crate) fn then(self, expected: &[A::Event]) -> A::State {
            match self.result {
                Ok(events) => {
                    assert_eq!(events, expected, "events for {:?}", self.command);
                    events.iter().fold(self.state, A::evolve)
                }
                Err(e) => panic!("{:?} was refused: {e}", self.command),
            }
        }

        /// The command is refused with exactly `expected`.
        #[track_caller]
        pub(crate) fn then_error(self, expected: DomainError) {
            assert_eq!(self.result, Err(expected), "result of {:?}", self.command);
        }

        /// The command is refused with an `Invalid` error about `field` (when the reason's wording is
        /// not the point of the test).
        #[track_caller]
        pub(crate) fn then_invalid(self, field: &str) {
            match self.result {
                Ok(events) => panic!(
                    "{:?} was accepted with {events:?}, expected invalid {field}",
                    self.command
                ),
                Err(DomainError::Invalid { field: f, reason }) => {
                    assert_eq!(f, field, "field for {:?} (reason: {reason})", self.command);
                }
                Err(e) => panic!(
                    "{:?} was refused with {e}, expected invalid {field}",
                    self.command
                ),
            }
        }
    }

    /// `events` show every kind in `kinds` (an event enum's `KINDS`), each as serde tags it, and
    /// each reads back as itself through `encode` and `decode`.
    #[track_caller]
    pub(crate) fn assert_kinds_round_trip<E>(events: &[E], kinds: &[&str])
    where
        E: DomainEvent + PartialEq + std::fmt::Debug,
    {
        let mut seen: Vec<_> = events.iter().map(DomainEvent::kind).collect();
        seen.sort_unstable();
        seen.dedup();
        let mut all = kinds.to_vec();
        all.sort_unstable();
        assert_eq!(seen, all, "the events show every kind");
        for e in events {
            assert_eq!(serde_json::to_value(e).unwrap()["kind"], e.kind());
            let enc = encode(e);
            assert_eq!(
                &decode::<E>(&enc.kind, enc.schema, &enc.payload, e.on()).unwrap(),
                e
            );
        }
    }
}
