//! Recommendation: one finding of an adopted assessment, and how far the State has implemented it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, check_new, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::validate::{check_id, check_not_before, check_priority, check_text, optional_reason};

/// Longest recommendation text.
pub const MAX_TEXT_CHARS: usize = 20_000;

string_enum! {
    pub enum RecommendationStatus ("status") {
        Adopted => "adopted",
        InProgress => "in_progress",
        Implemented => "implemented",
        PartiallyImplemented => "partially_implemented",
        NotImplemented => "not_implemented",
        Superseded => "superseded",
    }
}

impl RecommendationStatus {
    /// Whether `self -> to` is a move the lifecycle allows: from adopted, in progress, partially or not
    /// implemented to in progress or any outcome (a follow-up can reopen the last two); implemented and
    /// superseded are final; nothing moves back to adopted or to where it already is.
    pub fn can_move_to(self, to: RecommendationStatus) -> bool {
        use RecommendationStatus as S;
        !self.is_final() && to != S::Adopted && to != self
    }

    /// Implemented and superseded recommendations never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RecommendationStatus::Implemented | RecommendationStatus::Superseded
        )
    }
}

string_enum! {
    /// Where a status update comes from.
    pub enum StatusSource ("source") {
        StateResponse => "state_response",
        FollowUpVisit => "follow_up_visit",
        Coordinator => "coordinator",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecommendationCommand {
    /// Creates the recommendation, `adopted` (recommendations come from an adopted report).
    Record {
        id: Uuid,
        assessment_id: Uuid,
        /// Copied by the service from the assessment.
        member_state: String,
        theme: String,
        /// Confidential.
        text: String,
        /// 1 (high) .. 3 (low).
        priority: u8,
        /// The day it was recorded (business date).
        on: Date,
    },
    /// Moves the status; `on` may not be before the previous update's (or the recording).
    UpdateStatus {
        id: Uuid,
        to: RecommendationStatus,
        on: Date,
        source: StatusSource,
        reason: Option<String>,
    },
}

command_fields!(RecommendationCommand: Record, UpdateStatus);

event_enum! {
    pub enum RecommendationEvent {
        RecommendationRecorded {
            id: Uuid,
            assessment_id: Uuid,
            member_state: String,
            theme: String,
            text: String,
            priority: u8,
            on: Date,
        },
        /// `from` is kept so projections need no state to count moves.
        RecommendationStatusUpdated {
            id: Uuid,
            from: RecommendationStatus,
            to: RecommendationStatus,
            on: Date,
            source: StatusSource,
            reason: Option<String>,
        },
    }
}

event_fields!(RecommendationEvent: RecommendationRecorded, RecommendationStatusUpdated);

/// A recommendation as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecommendationState {
    pub id: Uuid,
    pub status: Option<RecommendationStatus>,
    pub assessment_id: Uuid,
    pub member_state: String,
    pub theme: String,
    pub text: String,
    pub priority: u8,
    /// The day it was recorded.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub recorded_on: Option<Date>,
    /// Date of the latest status update.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub status_on: Option<Date>,
}

/// The decider.
pub struct Recommendation;

impl Aggregate for Recommendation {
    const NAME: &'static str = "recommendation";
    type State = RecommendationState;
    type Command = RecommendationCommand;
    type Event = RecommendationEvent;

    fn decide(
        state: &RecommendationState,
        command: &RecommendationCommand,
    ) -> Result<Vec<RecommendationEvent>, DomainError> {
        match command {
            RecommendationCommand::Record {
                id,
                assessment_id,
                member_state,
                theme,
                text,
                priority,
                on,
            } => {
                check_new(Self::NAME, state.status.is_some(), *id)?;
                check_id("assessment_id", *assessment_id)?;
                codes::check_country("member_state", member_state)?;
                codes::check_theme("theme", theme)?;
                check_text("text", text, MAX_TEXT_CHARS)?;
                check_priority("priority", *priority)?;
                Ok(vec![RecommendationEvent::RecommendationRecorded {
                    id: *id,
                    assessment_id: *assessment_id,
                    member_state: member_state.clone(),
                    theme: theme.clone(),
                    // Kept as written: the text is the report's wording, line breaks included.
                    text: text.clone(),
                    priority: *priority,
                    on: *on,
                }])
            }
            RecommendationCommand::UpdateStatus {
                id,
                to,
                on,
                source,
                reason,
            } => {
                check_target(Self::NAME, state.status.is_some(), state.id, *id)?;
                let from = state.status.unwrap_or(RecommendationStatus::Adopted);
                if from.is_final() {
                    return Err(DomainError::cannot("update", Self::NAME, from));
                }
                if *to == from {
                    return Err(DomainError::invalid(
                        "to",
                        format!("the recommendation is already {from}"),
                    ));
                }
                if !from.can_move_to(*to) {
                    return Err(DomainError::invalid(
                        "to",
                        format!("a recommendation cannot move from {from} to {to}"),
                    ));
                }
                check_not_before(state.status_on.or(state.recorded_on), *on)?;
                Ok(vec![RecommendationEvent::RecommendationStatusUpdated {
                    id: *id,
                    from,
                    to: *to,
                    on: *on,
                    source: *source,
                    reason: optional_reason(reason.as_deref())?,
                }])
            }
        }
    }

    fn evolve(mut state: RecommendationState, event: &RecommendationEvent) -> RecommendationState {
        match event {
            RecommendationEvent::RecommendationRecorded {
                id,
                assessment_id,
                member_state,
                theme,
                text,
                priority,
                on,
            } => RecommendationState {
                id: *id,
                status: Some(RecommendationStatus::Adopted),
                assessment_id: *assessment_id,
                member_state: member_state.clone(),
                theme: theme.clone(),
                text: text.clone(),
                priority: *priority,
                recorded_on: Some(*on),
                status_on: None,
            },
            RecommendationEvent::RecommendationStatusUpdated { to, on, .. } => {
                state.status = Some(*to);
                state.status_on = Some(*on);
                state
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, edited, given,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0xB1);
    const ASSESSMENT: Uuid = Uuid::from_u128(0xA1);

    fn record() -> RecommendationCommand {
        RecommendationCommand::Record {
            id: ID,
            assessment_id: ASSESSMENT,
            member_state: "KE".into(),
            theme: "BOR".into(),
            text: "Connect all border posts to the INTERPOL databases.".into(),
            priority: 1,
            on: date(2025, 5, 20),
        }
    }

    fn recorded() -> RecommendationEvent {
        RecommendationEvent::RecommendationRecorded {
            id: ID,
            assessment_id: ASSESSMENT,
            member_state: "KE".into(),
            theme: "BOR".into(),
            text: "Connect all border posts to the INTERPOL databases.".into(),
            priority: 1,
            on: date(2025, 5, 20),
        }
    }

    fn update(to: RecommendationStatus, day: i8) -> RecommendationCommand {
        RecommendationCommand::UpdateStatus {
            id: ID,
            to,
            on: date(2025, 6, day),
            source: StatusSource::StateResponse,
            reason: None,
        }
    }

    fn updated(
        from: RecommendationStatus,
        to: RecommendationStatus,
        day: i8,
    ) -> RecommendationEvent {
        RecommendationEvent::RecommendationStatusUpdated {
            id: ID,
            from,
            to,
            on: date(2025, 6, day),
            source: StatusSource::StateResponse,
            reason: None,
        }
    }

    /// A recommendation that reached `status` on 1 June (through in_progress where that is a step).
    fn history(status: RecommendationStatus) -> Vec<RecommendationEvent> {
        let mut events = vec![recorded()];
        if status != RecommendationStatus::Adopted {
            events.push(updated(RecommendationStatus::Adopted, status, 1));
        }
        events
    }

    #[test]
    fn record_creates_an_adopted_recommendation() {
        let state = given::<Recommendation>(&[])
            .when(record())
            .then(&[recorded()]);
        assert_eq!(state.status, Some(RecommendationStatus::Adopted));
        given::<Recommendation>(&[recorded()])
            .when(record())
            .then_error(DomainError::already_exists(
                "recommendation",
                ID.to_string(),
            ));
    }

    #[test]
    fn updates_need_an_existing_recommendation_with_that_id() {
        given::<Recommendation>(&[])
            .when(update(RecommendationStatus::InProgress, 2))
            .then_error(DomainError::not_found("recommendation", ID.to_string()));
        let other = RecommendationCommand::UpdateStatus {
            id: Uuid::from_u128(0xB2),
            to: RecommendationStatus::InProgress,
            on: date(2025, 6, 2),
            source: StatusSource::Coordinator,
            reason: None,
        };
        given::<Recommendation>(&[recorded()])
            .when(other)
            .then_invalid("id");
    }

    #[test]
    fn record_validation_names_the_field() {
        use RecommendationCommand as C;
        assert_invalid_edits::<Recommendation>(
            &[],
            record,
            &[
                ("member_state", edit!(C::Record, member_state = "XX".into())),
                ("theme", edit!(C::Record, theme = "NOPE".into())),
                ("text", edit!(C::Record, text = String::new())),
                ("text", edit!(C::Record, text = " \t".into())),
                (
                    "text",
                    edit!(C::Record, text = "é".repeat(MAX_TEXT_CHARS + 1)),
                ),
                ("priority", edit!(C::Record, priority = 0)),
                ("priority", edit!(C::Record, priority = 4)),
                (
                    "member_state",
                    edit!(C::Record, member_state = String::new()),
                ),
                (
                    "assessment_id",
                    edit!(C::Record, assessment_id = Uuid::nil()),
                ),
            ],
        );
        let longest = edited(
            record(),
            edit!(C::Record, text = "é".repeat(MAX_TEXT_CHARS), priority = 3),
        );
        assert!(Recommendation::decide(&RecommendationState::default(), &longest).is_ok());
    }

    #[test]
    fn every_status_and_move() {
        use RecommendationStatus as S;
        for &from in S::ALL {
            for &to in S::ALL {
                let result = Recommendation::decide(
                    &crate::fold::<Recommendation>(&history(from)),
                    &update(to, 9),
                );
                let allowed = match from {
                    S::Implemented | S::Superseded => false,
                    S::Adopted | S::InProgress | S::PartiallyImplemented | S::NotImplemented => {
                        to != from && to != S::Adopted
                    }
                };
                assert_eq!(from.can_move_to(to), allowed);
                if allowed {
                    assert_eq!(result, Ok(vec![updated(from, to, 9)]), "{from} -> {to}");
                } else if from.is_final() {
                    assert_eq!(
                        result,
                        Err(DomainError::invalid(
                            "status",
                            format!("cannot update a recommendation that is {from}")
                        )),
                        "{from} -> {to}"
                    );
                } else {
                    assert!(
                        matches!(result, Err(DomainError::Invalid { ref field, .. }) if field == "to"),
                        "{from} -> {to}: {result:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_usual_paths() {
        use RecommendationStatus as S;
        let mut events = vec![recorded()];
        for (i, (from, to)) in [
            (S::Adopted, S::InProgress),
            (S::InProgress, S::PartiallyImplemented),
            (S::PartiallyImplemented, S::InProgress),
            (S::InProgress, S::NotImplemented),
            (S::NotImplemented, S::Implemented),
        ]
        .into_iter()
        .enumerate()
        {
            let day = i8::try_from(i).unwrap() + 1;
            let event = updated(from, to, day);
            given::<Recommendation>(&events)
                .when(update(to, day))
                .then(std::slice::from_ref(&event));
            events.push(event);
        }
        let state = crate::fold::<Recommendation>(&events);
        assert_eq!(state.status, Some(S::Implemented));
        assert_eq!(state.status_on, Some(date(2025, 6, 5)));
    }

    #[test]
    fn moving_to_the_same_status_is_refused() {
        given::<Recommendation>(&history(RecommendationStatus::InProgress))
            .when(update(RecommendationStatus::InProgress, 3))
            .then_error(DomainError::invalid(
                "to",
                "the recommendation is already in_progress",
            ));
        given::<Recommendation>(&[recorded()])
            .when(update(RecommendationStatus::Adopted, 3))
            .then_error(DomainError::invalid(
                "to",
                "the recommendation is already adopted",
            ));
    }

    #[test]
    fn updates_are_in_date_order_and_keep_their_reason() {
        given::<Recommendation>(&history(RecommendationStatus::InProgress))
            .when(update(RecommendationStatus::Implemented, 1))
            .then(&[updated(
                RecommendationStatus::InProgress,
                RecommendationStatus::Implemented,
                1,
            )]);
        let mut events = history(RecommendationStatus::InProgress);
        events.push(updated(
            RecommendationStatus::InProgress,
            RecommendationStatus::NotImplemented,
            10,
        ));
        given::<Recommendation>(&events)
            .when(update(RecommendationStatus::InProgress, 9))
            .then_invalid("on");
        let with_reason = RecommendationCommand::UpdateStatus {
            id: ID,
            to: RecommendationStatus::Superseded,
            on: date(2025, 7, 1),
            source: StatusSource::FollowUpVisit,
            reason: Some(" replaced by recommendation 12 ".into()),
        };
        given::<Recommendation>(&[recorded()])
            .when(with_reason)
            .then(&[RecommendationEvent::RecommendationStatusUpdated {
                id: ID,
                from: RecommendationStatus::Adopted,
                to: RecommendationStatus::Superseded,
                on: date(2025, 7, 1),
                source: StatusSource::FollowUpVisit,
                reason: Some("replaced by recommendation 12".into()),
            }]);
        let blank = RecommendationCommand::UpdateStatus {
            id: ID,
            to: RecommendationStatus::Superseded,
            on: date(2025, 7, 1),
            source: StatusSource::Coordinator,
            reason: Some(String::new()),
        };
        given::<Recommendation>(&[recorded()])
            .when(blank)
            .then_invalid("reason");
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let events = history(RecommendationStatus::InProgress);
        assert_kinds_round_trip(&events, RecommendationEvent::KINDS);
        let json = serde_json::to_value(update(RecommendationStatus::InProgress, 2)).unwrap();
        assert_eq!(json["type"], "update_status");
        assert_eq!(json["source"], "state_response");
    }
}
