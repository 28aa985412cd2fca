//! Assessment: a visit (or desk review) of a Member State, from planning to the State's response, with
//! its two clocks (30 days for factual observations, 6 months for the response).

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, check_new, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::validate::{check_date_order, check_not_before, optional_reason, trimmed};

/// Longest title.
pub const MAX_TITLE_CHARS: usize = 200;
/// Days the State has for factual observations on the draft report.
pub const OBSERVATIONS_DAYS: i32 = 30;
/// Months the State has, after adoption, to report the steps it took.
pub const RESPONSE_MONTHS: i32 = 6;

string_enum! {
    pub enum AssessmentKind ("kind") {
        ComprehensiveVisit => "comprehensive_visit",
        FocusedVisit => "focused_visit",
        FollowUpVisit => "follow_up_visit",
        DeskReview => "desk_review",
    }
}

string_enum! {
    /// Who may read the report; the services' access rules use it.
    pub enum Classification ("classification") {
        Public => "public",
        Restricted => "restricted",
        Confidential => "confidential",
    }
}

string_enum! {
    pub enum AssessmentStatus ("status") {
        Planned => "planned",
        Conducted => "conducted",
        DraftSentToState => "draft_sent_to_state",
        Adopted => "adopted",
        ResponseReceived => "response_received",
        Closed => "closed",
        Cancelled => "cancelled",
    }
}

/// What may be asked of an assessment. Every move carries its business date `on`, which may not be
/// before the previous move's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssessmentCommand {
    /// Creates the assessment, `planned`.
    Plan {
        id: Uuid,
        /// ISO 3166-1 alpha-2.
        member_state: String,
        kind: AssessmentKind,
        /// Security Council resolutions covered, e.g. 1373, 2178; at least one.
        resolutions: Vec<u32>,
        title: String,
        visit_start: Date,
        visit_end: Date,
        classification: Classification,
        /// The day the visit was planned (business date).
        on: Date,
    },
    /// planned -> conducted; not before the visit started.
    MarkConducted {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// conducted -> draft_sent_to_state; starts the 30-day observations clock.
    SendDraft {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// The State's factual observations on the draft (while draft_sent_to_state); stops that clock.
    RecordObservations { id: Uuid, on: Date },
    /// draft_sent_to_state -> adopted; starts the 6-month response clock.
    Adopt {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// adopted -> response_received; stops that clock.
    RecordResponse {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// response_received -> closed.
    Close {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// planned -> cancelled.
    Cancel {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
}

command_fields!(AssessmentCommand:
    Plan, MarkConducted, SendDraft, RecordObservations, Adopt, RecordResponse, Close, Cancel,
);

event_enum! {
    pub enum AssessmentEvent {
        AssessmentPlanned {
            id: Uuid,
            member_state: String,
            kind: AssessmentKind,
            resolutions: Vec<u32>,
            title: String,
            visit_start: Date,
            visit_end: Date,
            classification: Classification,
            on: Date,
        },
        AssessmentConducted {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        AssessmentDraftSent {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        AssessmentObservationsReceived {
            id: Uuid,
            on: Date,
        },
        AssessmentAdopted {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        AssessmentResponseReceived {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        AssessmentClosed {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        AssessmentCancelled {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
    }
}

event_fields!(AssessmentEvent:
    AssessmentPlanned, AssessmentConducted, AssessmentDraftSent, AssessmentObservationsReceived,
    AssessmentAdopted, AssessmentResponseReceived, AssessmentClosed, AssessmentCancelled,
);

/// An assessment as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AssessmentState {
    pub id: Uuid,
    pub status: Option<AssessmentStatus>,
    pub member_state: String,
    pub kind: Option<AssessmentKind>,
    pub resolutions: Vec<u32>,
    pub title: String,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub visit_start: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub visit_end: Option<Date>,
    pub classification: Option<Classification>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub planned_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub conducted_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub draft_sent_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub observations_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub adopted_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub response_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub closed_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub cancelled_on: Option<Date>,
    /// The business date of the latest move, which the next may not precede.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

/// The decider.
pub struct Assessment;

impl Aggregate for Assessment {
    const NAME: &'static str = "assessment";
    type State = AssessmentState;
    type Command = AssessmentCommand;
    type Event = AssessmentEvent;

    fn decide(
        state: &AssessmentState,
        command: &AssessmentCommand,
    ) -> Result<Vec<AssessmentEvent>, DomainError> {
        use AssessmentCommand as C;
        use AssessmentEvent as E;
        use AssessmentStatus as S;

        if let C::Plan {
            id,
            member_state,
            kind,
            resolutions,
            title,
            visit_start,
            visit_end,
            classification,
            on,
        } = command
        {
            check_new(Self::NAME, state.status.is_some(), *id)?;
            codes::check_country("member_state", member_state)?;
            check_resolutions(resolutions)?;
            let title = trimmed("title", title, MAX_TITLE_CHARS)?;
            check_date_order("visit_end", *visit_start, *visit_end)?;
            return Ok(vec![E::AssessmentPlanned {
                id: *id,
                member_state: member_state.clone(),
                kind: *kind,
                resolutions: resolutions.clone(),
                title,
                visit_start: *visit_start,
                visit_end: *visit_end,
                classification: *classification,
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let status = state.status.unwrap_or(S::Planned);
        // (status the move starts from, verb for the error, date, reason)
        let (from, verb, on, reason) = match command {
            C::Plan { .. } => unreachable!("handled above"),
            C::MarkConducted { on, reason, .. } => (S::Planned, "conduct", on, reason.as_deref()),
            C::SendDraft { on, reason, .. } => {
                (S::Conducted, "send the draft of", on, reason.as_deref())
            }
            C::RecordObservations { on, .. } => {
                (S::DraftSentToState, "record observations on", on, None)
            }
            C::Adopt { on, reason, .. } => (S::DraftSentToState, "adopt", on, reason.as_deref()),
            C::RecordResponse { on, reason, .. } => {
                (S::Adopted, "record a response to", on, reason.as_deref())
            }
            C::Close { on, reason, .. } => (S::ResponseReceived, "close", on, reason.as_deref()),
            C::Cancel { on, reason, .. } => (S::Planned, "cancel", on, reason.as_deref()),
        };
        if status != from {
            return Err(DomainError::cannot(verb, Self::NAME, status));
        }
        if let (C::RecordObservations { .. }, Some(before)) = (command, state.observations_on) {
            return Err(DomainError::invalid(
                "observations",
                format!("already recorded on {before}"),
            ));
        }
        check_not_before(state.last_on, *on)?;
        if let C::MarkConducted { .. } = command {
            // A visit is conducted once it has started.
            check_not_before(state.visit_start, *on)?;
        }
        let (id, on, reason) = (state.id, *on, optional_reason(reason)?);
        Ok(vec![match command {
            C::Plan { .. } => unreachable!("handled above"),
            C::MarkConducted { .. } => E::AssessmentConducted { id, on, reason },
            C::SendDraft { .. } => E::AssessmentDraftSent { id, on, reason },
            C::RecordObservations { .. } => E::AssessmentObservationsReceived { id, on },
            C::Adopt { .. } => E::AssessmentAdopted { id, on, reason },
            C::RecordResponse { .. } => E::AssessmentResponseReceived { id, on, reason },
            C::Close { .. } => E::AssessmentClosed { id, on, reason },
            C::Cancel { .. } => E::AssessmentCancelled { id, on, reason },
        }])
    }

    fn evolve(mut state: AssessmentState, event: &AssessmentEvent) -> AssessmentState {
        use AssessmentEvent as E;
        use AssessmentStatus as S;

        // Each move records its day in a field of its own.
        let (status, day) = match event {
            E::AssessmentPlanned {
                id,
                member_state,
                kind,
                resolutions,
                title,
                visit_start,
                visit_end,
                classification,
                on,
            } => {
                return AssessmentState {
                    id: *id,
                    status: Some(S::Planned),
                    member_state: member_state.clone(),
                    kind: Some(*kind),
                    resolutions: resolutions.clone(),
                    title: title.clone(),
                    visit_start: Some(*visit_start),
                    visit_end: Some(*visit_end),
                    classification: Some(*classification),
                    planned_on: Some(*on),
                    last_on: Some(*on),
                    ..AssessmentState::default()
                };
            }
            E::AssessmentConducted { .. } => (S::Conducted, &mut state.conducted_on),
            E::AssessmentDraftSent { .. } => (S::DraftSentToState, &mut state.draft_sent_on),
            E::AssessmentObservationsReceived { .. } => {
                (S::DraftSentToState, &mut state.observations_on)
            }
            E::AssessmentAdopted { .. } => (S::Adopted, &mut state.adopted_on),
            E::AssessmentResponseReceived { .. } => (S::ResponseReceived, &mut state.response_on),
            E::AssessmentClosed { .. } => (S::Closed, &mut state.closed_on),
            E::AssessmentCancelled { .. } => (S::Cancelled, &mut state.cancelled_on),
        };
        *day = Some(event.on());
        state.status = Some(status);
        state.last_on = Some(event.on());
        state
    }
}

fn check_resolutions(resolutions: &[u32]) -> Result<(), DomainError> {
    if resolutions.is_empty() {
        return Err(DomainError::invalid(
            "resolutions",
            "must name at least one resolution",
        ));
    }
    for (i, r) in resolutions.iter().enumerate() {
        if *r == 0 {
            return Err(DomainError::invalid(
                "resolutions",
                "resolution numbers are positive",
            ));
        }
        if resolutions[..i].contains(r) {
            return Err(DomainError::invalid(
                "resolutions",
                format!("resolution {r} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// The two deadlines of an assessment as of `today`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Clocks {
    /// Draft sent + 30 days: the last day for the State's factual observations.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub observations_due: Option<Date>,
    /// The due day has passed, no observations were recorded and the report is not adopted yet.
    pub observations_overdue: bool,
    /// Adopted + 6 months (clamped to the month's last day, e.g. 31 Aug -> 28/29 Feb): the last day for
    /// the State's response.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub response_due: Option<Date>,
    /// The due day has passed and no response was recorded.
    pub response_overdue: bool,
}

/// The clocks as of `today`. A due date is the last day allowed, so the clock is overdue from the day after.
pub fn clocks(state: &AssessmentState, today: Date) -> Clocks {
    let observations_due = state
        .draft_sent_on
        .map(|d| d.saturating_add(OBSERVATIONS_DAYS.days()));
    let response_due = state
        .adopted_on
        .map(|d| d.saturating_add(RESPONSE_MONTHS.months()));
    Clocks {
        observations_due,
        observations_overdue: observations_due.is_some_and(|due| today > due)
            && state.observations_on.is_none()
            && state.adopted_on.is_none(),
        response_due,
        response_overdue: response_due.is_some_and(|due| today > due)
            && state.response_on.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_lifecycle,
        assert_moves_need_the_aggregate, edited, given,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0xA1);
    const OTHER: Uuid = Uuid::from_u128(0xA2);

    fn plan() -> AssessmentCommand {
        AssessmentCommand::Plan {
            id: ID,
            member_state: "KE".into(),
            kind: AssessmentKind::ComprehensiveVisit,
            resolutions: vec![1373, 2178],
            title: "Comprehensive visit to Kenya".into(),
            visit_start: date(2025, 3, 10),
            visit_end: date(2025, 3, 14),
            classification: Classification::Confidential,
            on: date(2025, 2, 1),
        }
    }

    fn planned() -> AssessmentEvent {
        AssessmentEvent::AssessmentPlanned {
            id: ID,
            member_state: "KE".into(),
            kind: AssessmentKind::ComprehensiveVisit,
            resolutions: vec![1373, 2178],
            title: "Comprehensive visit to Kenya".into(),
            visit_start: date(2025, 3, 10),
            visit_end: date(2025, 3, 14),
            classification: Classification::Confidential,
            on: date(2025, 2, 1),
        }
    }

    fn d(day: i8) -> Date {
        date(2025, 4, day)
    }

    /// The events that take a new assessment to `status`, dated 1, 2, 3... April.
    fn history(status: AssessmentStatus) -> Vec<AssessmentEvent> {
        use AssessmentEvent as E;
        use AssessmentStatus as S;
        let mut events = vec![planned()];
        let path: &[S] = match status {
            S::Planned => &[],
            S::Cancelled => &[S::Cancelled],
            S::Conducted => &[S::Conducted],
            S::DraftSentToState => &[S::Conducted, S::DraftSentToState],
            S::Adopted => &[S::Conducted, S::DraftSentToState, S::Adopted],
            S::ResponseReceived => &[
                S::Conducted,
                S::DraftSentToState,
                S::Adopted,
                S::ResponseReceived,
            ],
            S::Closed => &[
                S::Conducted,
                S::DraftSentToState,
                S::Adopted,
                S::ResponseReceived,
                S::Closed,
            ],
        };
        for (day, step) in (1..).zip(path) {
            let (id, on, reason) = (ID, d(day), None);
            events.push(match step {
                S::Planned => unreachable!(),
                S::Conducted => E::AssessmentConducted { id, on, reason },
                S::DraftSentToState => E::AssessmentDraftSent { id, on, reason },
                S::Adopted => E::AssessmentAdopted { id, on, reason },
                S::ResponseReceived => E::AssessmentResponseReceived { id, on, reason },
                S::Closed => E::AssessmentClosed { id, on, reason },
                S::Cancelled => E::AssessmentCancelled { id, on, reason },
            });
        }
        events
    }

    /// One of each move, dated 20 April, for id `id`.
    fn moves(id: Uuid) -> Vec<AssessmentCommand> {
        use AssessmentCommand as C;
        let on = d(20);
        vec![
            C::MarkConducted {
                id,
                on,
                reason: None,
            },
            C::SendDraft {
                id,
                on,
                reason: None,
            },
            C::RecordObservations { id, on },
            C::Adopt {
                id,
                on,
                reason: None,
            },
            C::RecordResponse {
                id,
                on,
                reason: None,
            },
            C::Close {
                id,
                on,
                reason: None,
            },
            C::Cancel {
                id,
                on,
                reason: None,
            },
        ]
    }

    #[test]
    fn plan_creates_a_planned_assessment() {
        let state = given::<Assessment>(&[]).when(plan()).then(&[planned()]);
        assert_eq!(state.status, Some(AssessmentStatus::Planned));
        assert_eq!(state.member_state, "KE");
        let c = edited(
            plan(),
            edit!(
                AssessmentCommand::Plan,
                title = "  Comprehensive visit to Kenya \n".into()
            ),
        );
        given::<Assessment>(&[]).when(c).then(&[planned()]);
    }

    #[test]
    fn plan_twice_is_already_exists() {
        given::<Assessment>(&[planned()])
            .when(plan())
            .then_error(DomainError::already_exists("assessment", ID.to_string()));
    }

    #[test]
    fn moves_on_a_missing_assessment_are_not_found_and_must_name_this_one() {
        assert_moves_need_the_aggregate::<Assessment>(&moves(ID), ID, &[planned()], &moves(OTHER));
    }

    #[test]
    fn plan_validation_names_the_field() {
        use AssessmentCommand as C;
        assert_invalid_edits::<Assessment>(
            &[],
            plan,
            &[
                ("member_state", edit!(C::Plan, member_state = "ZZ".into())),
                ("member_state", edit!(C::Plan, member_state = "ke".into())),
                ("member_state", edit!(C::Plan, member_state = "AN".into())),
                ("resolutions", edit!(C::Plan, resolutions = vec![])),
                ("resolutions", edit!(C::Plan, resolutions = vec![1373, 0])),
                (
                    "resolutions",
                    edit!(C::Plan, resolutions = vec![1373, 1373]),
                ),
                ("title", edit!(C::Plan, title = "   ".into())),
                (
                    "title",
                    edit!(C::Plan, title = "x".repeat(MAX_TITLE_CHARS + 1)),
                ),
                ("visit_end", edit!(C::Plan, visit_end = date(2025, 3, 9))),
                ("id", edit!(C::Plan, id = Uuid::nil())),
            ],
        );
        // The limits themselves are allowed.
        let c = edited(
            plan(),
            edit!(
                C::Plan,
                title = "x".repeat(MAX_TITLE_CHARS),
                visit_end = date(2025, 3, 10)
            ),
        );
        assert!(Assessment::decide(&AssessmentState::default(), &c).is_ok());
    }

    #[test]
    fn the_whole_lifecycle() {
        use AssessmentCommand as C;
        use AssessmentEvent as E;
        let mut events = vec![planned()];
        let steps = [
            (
                C::MarkConducted {
                    id: ID,
                    on: d(1),
                    reason: None,
                },
                E::AssessmentConducted {
                    id: ID,
                    on: d(1),
                    reason: None,
                },
            ),
            (
                C::SendDraft {
                    id: ID,
                    on: d(2),
                    reason: Some(" sent by email ".into()),
                },
                E::AssessmentDraftSent {
                    id: ID,
                    on: d(2),
                    reason: Some("sent by email".into()),
                },
            ),
            (
                C::RecordObservations { id: ID, on: d(2) },
                E::AssessmentObservationsReceived { id: ID, on: d(2) },
            ),
            (
                C::Adopt {
                    id: ID,
                    on: d(3),
                    reason: None,
                },
                E::AssessmentAdopted {
                    id: ID,
                    on: d(3),
                    reason: None,
                },
            ),
            (
                C::RecordResponse {
                    id: ID,
                    on: d(4),
                    reason: None,
                },
                E::AssessmentResponseReceived {
                    id: ID,
                    on: d(4),
                    reason: None,
                },
            ),
            (
                C::Close {
                    id: ID,
                    on: d(4),
                    reason: None,
                },
                E::AssessmentClosed {
                    id: ID,
                    on: d(4),
                    reason: None,
                },
            ),
        ];
        for (command, event) in steps {
            given::<Assessment>(&events)
                .when(command)
                .then(std::slice::from_ref(&event));
            events.push(event);
        }
        let state = crate::fold::<Assessment>(&events);
        assert_eq!(state.status, Some(AssessmentStatus::Closed));
        assert_eq!(
            (
                state.conducted_on,
                state.draft_sent_on,
                state.observations_on,
                state.adopted_on,
                state.response_on
            ),
            (Some(d(1)), Some(d(2)), Some(d(2)), Some(d(3)), Some(d(4)))
        );
    }

    #[test]
    fn cancel_from_planned_only() {
        let state = given::<Assessment>(&[planned()])
            .when(AssessmentCommand::Cancel {
                id: ID,
                on: d(1),
                reason: Some("postponed by the State".into()),
            })
            .then(&[AssessmentEvent::AssessmentCancelled {
                id: ID,
                on: d(1),
                reason: Some("postponed by the State".into()),
            }]);
        assert_eq!(state.status, Some(AssessmentStatus::Cancelled));
        given::<Assessment>(&history(AssessmentStatus::Conducted))
            .when(AssessmentCommand::Cancel {
                id: ID,
                on: d(9),
                reason: None,
            })
            .then_error(DomainError::invalid(
                "status",
                "cannot cancel an assessment that is conducted",
            ));
    }

    #[test]
    fn every_status_and_move() {
        use AssessmentCommand as C;
        use AssessmentStatus as S;
        assert_lifecycle::<Assessment, _>(S::ALL, history, &moves(ID), |status, command| {
            matches!(
                (status, command),
                (S::Planned, C::MarkConducted { .. } | C::Cancel { .. })
                    | (S::Conducted, C::SendDraft { .. })
                    | (
                        S::DraftSentToState,
                        C::RecordObservations { .. } | C::Adopt { .. }
                    )
                    | (S::Adopted, C::RecordResponse { .. })
                    | (S::ResponseReceived, C::Close { .. })
            )
        });
    }

    #[test]
    fn a_move_may_not_predate_the_previous_one() {
        let events = history(AssessmentStatus::Conducted); // conducted on 1 April
        given::<Assessment>(&events)
            .when(AssessmentCommand::SendDraft {
                id: ID,
                on: date(2025, 3, 31),
                reason: None,
            })
            .then_error(DomainError::invalid(
                "on",
                "must not be before 2025-04-01, got 2025-03-31",
            ));
        given::<Assessment>(&events)
            .when(AssessmentCommand::SendDraft {
                id: ID,
                on: d(1),
                reason: None,
            })
            .then(&[AssessmentEvent::AssessmentDraftSent {
                id: ID,
                on: d(1),
                reason: None,
            }]);
        let mut events = history(AssessmentStatus::DraftSentToState); // draft sent 2 April
        events.push(AssessmentEvent::AssessmentObservationsReceived { id: ID, on: d(5) });
        given::<Assessment>(&events)
            .when(AssessmentCommand::Adopt {
                id: ID,
                on: d(4),
                reason: None,
            })
            .then_invalid("on");
    }

    #[test]
    fn observations_are_recorded_once() {
        let mut events = history(AssessmentStatus::DraftSentToState);
        events.push(AssessmentEvent::AssessmentObservationsReceived { id: ID, on: d(5) });
        given::<Assessment>(&events)
            .when(AssessmentCommand::RecordObservations { id: ID, on: d(6) })
            .then_error(DomainError::invalid(
                "observations",
                "already recorded on 2025-04-05",
            ));
    }

    #[test]
    fn a_blank_reason_is_refused() {
        given::<Assessment>(&[planned()])
            .when(AssessmentCommand::MarkConducted {
                id: ID,
                on: d(1),
                reason: Some(" ".into()),
            })
            .then_invalid("reason");
    }

    #[test]
    fn observations_clock_at_its_boundaries() {
        let sent = history(AssessmentStatus::DraftSentToState); // draft sent 2 April
        let state = crate::fold::<Assessment>(&sent);
        let due = date(2025, 5, 2);
        let on_due_day = clocks(&state, due);
        assert_eq!(on_due_day.observations_due, Some(due));
        assert!(
            !on_due_day.observations_overdue,
            "the due day itself is still in time"
        );
        assert!(clocks(&state, date(2025, 5, 3)).observations_overdue);
        assert!(!clocks(&state, d(2)).observations_overdue);
        assert_eq!(clocks(&state, date(2025, 5, 3)).response_due, None);

        let mut with_obs = sent.clone();
        with_obs.push(AssessmentEvent::AssessmentObservationsReceived {
            id: ID,
            on: date(2025, 5, 20),
        });
        assert!(
            !clocks(&crate::fold::<Assessment>(&with_obs), date(2025, 6, 1)).observations_overdue
        );

        let mut adopted = sent;
        adopted.push(AssessmentEvent::AssessmentAdopted {
            id: ID,
            on: date(2025, 5, 20),
            reason: None,
        });
        assert!(
            !clocks(&crate::fold::<Assessment>(&adopted), date(2025, 6, 1)).observations_overdue
        );

        assert_eq!(
            clocks(&crate::fold::<Assessment>(&[planned()]), date(2030, 1, 1)),
            Clocks::default()
        );
    }

    #[test]
    fn response_clock_at_its_boundaries() {
        let mut events = history(AssessmentStatus::DraftSentToState);
        events.push(AssessmentEvent::AssessmentAdopted {
            id: ID,
            on: date(2025, 8, 31),
            reason: None,
        });
        let state = crate::fold::<Assessment>(&events);
        let due = date(2026, 2, 28); // six months after 31 August, clamped to February's end
        assert_eq!(clocks(&state, due).response_due, Some(due));
        assert!(!clocks(&state, due).response_overdue);
        assert!(clocks(&state, date(2026, 3, 1)).response_overdue);
        assert!(!clocks(&state, due).observations_overdue);

        events.push(AssessmentEvent::AssessmentResponseReceived {
            id: ID,
            on: date(2026, 3, 5),
            reason: None,
        });
        let state = crate::fold::<Assessment>(&events);
        assert!(!clocks(&state, date(2026, 4, 1)).response_overdue);
        assert_eq!(clocks(&state, date(2026, 4, 1)).response_due, Some(due));
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let mut events = history(AssessmentStatus::Closed);
        events.push(AssessmentEvent::AssessmentObservationsReceived { id: ID, on: d(1) });
        events.push(AssessmentEvent::AssessmentCancelled {
            id: ID,
            on: d(1),
            reason: None,
        });
        assert_kinds_round_trip(&events, AssessmentEvent::KINDS);
    }

    #[test]
    fn commands_are_tagged_by_type() {
        let json = serde_json::to_value(AssessmentCommand::Adopt {
            id: ID,
            on: d(3),
            reason: None,
        })
        .unwrap();
        assert_eq!(json["type"], "adopt");
        assert_eq!(json["on"], "2025-04-03");
        // `reason` may be left out.
        let c: AssessmentCommand = serde_json::from_value(
            serde_json::json!({"type": "close", "id": ID, "on": "2025-04-03"}),
        )
        .unwrap();
        assert_eq!(
            c,
            AssessmentCommand::Close {
                id: ID,
                on: d(3),
                reason: None
            }
        );
        for s in AssessmentStatus::ALL.iter().map(ToString::to_string) {
            assert_eq!(
                serde_json::to_value(s.parse::<AssessmentStatus>().unwrap()).unwrap(),
                s
            );
        }
    }
}
