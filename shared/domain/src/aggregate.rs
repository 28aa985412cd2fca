//! The decider contract every aggregate implements, `fold` to rebuild state from events, and the
//! given/when/then helper the deciders' tests use.

use jiff::civil::Date;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::validate::{check_id, check_not_before};

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

/// The checks every creation command starts with: the aggregate does not exist yet and the new id
/// is a real one.
pub(crate) fn check_new(name: &str, exists: bool, id: uuid::Uuid) -> Result<(), DomainError> {
    if exists {
        return Err(DomainError::already_exists(name, id.to_string()));
    }
    check_id("id", id)
}

/// An existing aggregate that a command moves along its lifecycle: where it stands and when it
/// last moved, so every move is refused the same way.
pub(crate) struct Lifecycle<S> {
    name: &'static str,
    pub(crate) status: S,
    last_on: Option<Date>,
}

impl<S: Copy + std::fmt::Display> Lifecycle<S> {
    pub(crate) fn new(name: &'static str, status: S, last_on: Option<Date>) -> Self {
        Self {
            name,
            status,
            last_on,
        }
    }

    /// Refuses the move unless the status `allows` it (`cannot <verb> a <name> that is <status>`),
    /// then refuses an `on` before the last move.
    pub(crate) fn check(&self, allows: bool, verb: &str, on: Date) -> Result<(), DomainError> {
        if !allows {
            return Err(DomainError::cannot(verb, self.name, self.status));
        }
        check_not_before(self.last_on, on)
    }
}

/// An amendment keeps only real changes, so its event says what changed and a repeated amendment
/// is a no-op: the new value when there is one and it differs from the old.
pub(crate) fn changed<T: PartialEq + Clone>(new: Option<&T>, old: &T) -> Option<T> {
    new.filter(|n| *n != old).cloned()
}

/// [`changed`] for a field the state may not have.
pub(crate) fn changed_optional<T: PartialEq + Clone>(
    new: Option<&T>,
    old: Option<&T>,
) -> Option<T> {
    new.filter(|n| Some(*n) != old).cloned()
}

/// [`changed`] for text, compared and recorded trimmed.
pub(crate) fn changed_text(new: Option<&str>, old: Option<&str>) -> Option<String> {
    new.map(str::trim)
        .filter(|n| Some(*n) != old)
        .map(str::to_owned)
}

/// Applies an amended field: `Some` replaces the value, `None` keeps it.
pub(crate) fn amend<T: Clone>(field: &mut T, new: Option<&T>) {
    if let Some(v) = new {
        field.clone_from(v);
    }
}

/// [`amend`] for a field the state may not have.
pub(crate) fn amend_optional<T: Clone>(field: &mut Option<T>, new: Option<&T>) {
    if let Some(v) = new {
        *field = Some(v.clone());
    }
}

/// `given(events).when(command).then(events)` / `.then_error(error)`, after cqrs-es's TestFramework.
#[cfg(test)]
pub(crate) mod scenario {
    use super::{Aggregate, fold};
    use crate::error::DomainError;
    use crate::event::{DomainEvent, decode, encode};
    use crate::money::Money;
    use crate::need::Units;

    /// US dollars, the currency most examples use.
    pub(crate) fn usd(amount_minor: i64) -> Money {
        Money::new(amount_minor, "USD").unwrap()
    }

    /// The size of the examples' needs and offers.
    pub(crate) fn officers(quantity: u64) -> Units {
        Units {
            measure: "officers trained".into(),
            quantity,
        }
    }

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

    /// From every status in `statuses` (reached by the events `history` gives), every command
    /// of `moves` is accepted with events where `allowed` says so, and otherwise refused as a move
    /// the lifecycle forbids from that status.
    #[track_caller]
    pub(crate) fn assert_lifecycle<A, S>(
        statuses: &[S],
        history: impl Fn(S) -> Vec<A::Event>,
        moves: &[A::Command],
        allowed: impl Fn(S, &A::Command) -> bool,
    ) where
        A: Aggregate,
        S: Copy + std::fmt::Display,
    {
        for &status in statuses {
            // The refusal ends as `DomainError::cannot` words it for this aggregate and status.
            let DomainError::Invalid { reason: cannot, .. } =
                DomainError::cannot("x", A::NAME, status)
            else {
                unreachable!("cannot is an invalid status");
            };
            let suffix = cannot.trim_start_matches("cannot x ");
            for command in moves {
                let result = A::decide(&fold::<A>(&history(status)), command);
                if allowed(status, command) {
                    assert!(
                        result.as_ref().is_ok_and(|events| !events.is_empty()),
                        "{command:?} from {status}: {result:?}"
                    );
                    continue;
                }
                match result {
                    Err(DomainError::Invalid { field, reason }) => {
                        assert_eq!(field, "status", "{command:?} from {status}");
                        assert!(reason.ends_with(suffix), "{reason}");
                    }
                    other => panic!("{command:?} from {status}: {other:?}"),
                }
            }
        }
    }

    /// Every command of `moves` is refused as not found (`id`) before the aggregate exists, and
    /// every command of `elsewhere` (moves of another id) is refused on field `id` by the
    /// aggregate `existing` leaves.
    #[track_caller]
    pub(crate) fn assert_moves_need_the_aggregate<A: Aggregate>(
        moves: &[A::Command],
        id: impl std::fmt::Display,
        existing: &[A::Event],
        elsewhere: &[A::Command],
    ) where
        A::Command: Clone,
    {
        for command in moves {
            given::<A>(&[])
                .when(command.clone())
                .then_error(DomainError::not_found(A::NAME, id.to_string()));
        }
        for command in elsewhere {
            given::<A>(existing)
                .when(command.clone())
                .then_invalid("id");
        }
    }

    /// `command` after `edit` (e.g. an [`edit!`] of some fields).
    pub(crate) fn edited<C>(mut command: C, edit: impl FnOnce(&mut C)) -> C {
        edit(&mut command);
        command
    }

    /// A field and an edit of a command that breaks a rule about it.
    pub(crate) type InvalidEdit<'a, C> = (&'a str, fn(&mut C));

    /// Each edit of `command()` is refused after `events` with an `Invalid` error about its field.
    #[track_caller]
    pub(crate) fn assert_invalid_edits<A: Aggregate>(
        events: &[A::Event],
        command: impl Fn() -> A::Command,
        edits: &[InvalidEdit<'_, A::Command>],
    ) {
        for (field, edit) in edits {
            let mut c = command();
            edit(&mut c);
            given::<A>(events).when(c).then_invalid(field);
        }
    }
}
