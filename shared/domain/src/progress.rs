//! Progress report: a partner's report on a project for a period (narrative and indicator actuals),
//! submitted to coordinators who validate it or return it for revision.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Dated, Lifecycle, amend, changed, check_new, check_target};
use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::validate::{check_date_order, check_id, check_text, optional_reason, required_reason};

pub const MAX_NARRATIVE_CHARS: usize = 20_000;

string_enum! {
    pub enum ProgressReportStatus ("status") {
        Draft => "draft",
        Submitted => "submitted",
        Validated => "validated",
        Returned => "returned",
    }
}

/// One indicator's actual value for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportedActual {
    pub result_id: Uuid,
    pub indicator_id: Uuid,
    pub value: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProgressReportCommand {
    /// Creates the report, `draft`.
    Draft {
        id: Uuid,
        project_id: Uuid,
        period_start: Date,
        period_end: Date,
        narrative: String,
        actuals: Vec<ReportedActual>,
        /// Business date.
        on: Date,
    },
    /// Changes the given parts (`None` keeps them) of a draft, or of a returned report, which goes back
    /// to draft.
    Revise {
        id: Uuid,
        narrative: Option<String>,
        actuals: Option<Vec<ReportedActual>>,
        on: Date,
    },
    /// draft -> submitted.
    Submit {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// submitted -> validated.
    Validate {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// submitted -> returned; the reason (what to fix) is required.
    Return { id: Uuid, on: Date, reason: String },
}

command_fields!(ProgressReportCommand: Draft, Revise, Submit, Validate, Return);

event_enum! {
    pub enum ProgressReportEvent {
        ProgressReportDrafted {
            id: Uuid,
            project_id: Uuid,
            period_start: Date,
            period_end: Date,
            narrative: String,
            actuals: Vec<ReportedActual>,
            /// Business date.
            on: Date,
        },
        /// Only the parts that changed are `Some`; the report is a draft afterwards.
        ProgressReportRevised {
            id: Uuid,
            narrative: Option<String>,
            actuals: Option<Vec<ReportedActual>>,
            on: Date,
        },
        ProgressReportSubmitted {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        ProgressReportValidated {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        ProgressReportReturned {
            id: Uuid,
            on: Date,
            reason: String,
        },
    }
}

event_fields!(ProgressReportEvent:
    ProgressReportDrafted, ProgressReportRevised, ProgressReportSubmitted, ProgressReportValidated,
    ProgressReportReturned,
);

/// A progress report as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgressReportState {
    pub id: Uuid,
    pub status: Option<ProgressReportStatus>,
    pub project_id: Uuid,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub period_start: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub period_end: Option<Date>,
    pub narrative: String,
    pub actuals: Vec<ReportedActual>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub submitted_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub validated_on: Option<Date>,
    /// Why it was last returned.
    pub returned_reason: Option<String>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub drafted_on: Option<Date>,
    /// The business date of the latest dated move, which the next may not precede.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

/// The decider.
pub struct ProgressReport;

impl Aggregate for ProgressReport {
    const NAME: &'static str = "progress_report";
    type State = ProgressReportState;
    type Command = ProgressReportCommand;
    type Event = ProgressReportEvent;

    fn decide(
        state: &ProgressReportState,
        command: &ProgressReportCommand,
    ) -> Result<Vec<ProgressReportEvent>, DomainError> {
        use ProgressReportCommand as C;
        use ProgressReportEvent as E;
        use ProgressReportStatus as S;

        if let C::Draft {
            id,
            project_id,
            period_start,
            period_end,
            narrative,
            actuals,
            on,
        } = command
        {
            check_new(Self::NAME, state.status.is_some(), *id)?;
            check_id("project_id", *project_id)?;
            check_date_order("period_end", *period_start, *period_end)?;
            check_text("narrative", narrative, MAX_NARRATIVE_CHARS)?;
            check_actuals(actuals)?;
            return Ok(vec![E::ProgressReportDrafted {
                id: *id,
                project_id: *project_id,
                period_start: *period_start,
                period_end: *period_end,
                narrative: narrative.clone(),
                actuals: actuals.clone(),
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let report = Lifecycle::new(Self::NAME, state.status.unwrap_or(S::Draft), state.last_on);
        let (status, id, on) = (report.status, state.id, command.on());
        match command {
            C::Draft { .. } => unreachable!("handled above"),
            C::Revise {
                narrative, actuals, ..
            } => {
                report.check(matches!(status, S::Draft | S::Returned), "revise", on)?;
                if let Some(n) = narrative {
                    check_text("narrative", n, MAX_NARRATIVE_CHARS)?;
                }
                if let Some(a) = actuals {
                    check_actuals(a)?;
                }
                let narrative = changed(narrative.as_ref(), &state.narrative);
                let actuals = changed(actuals.as_ref(), &state.actuals);
                // A returned report goes back to draft even when nothing changed (the partner may
                // answer the coordinator's note outside the report); a draft unchanged is a no-op.
                if status == S::Draft && narrative.is_none() && actuals.is_none() {
                    return Ok(vec![]);
                }
                Ok(vec![E::ProgressReportRevised {
                    id,
                    narrative,
                    actuals,
                    on,
                }])
            }
            C::Submit { reason, .. } => {
                report.check(status == S::Draft, "submit", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::ProgressReportSubmitted { id, on, reason }])
            }
            C::Validate { reason, .. } => {
                report.check(status == S::Submitted, "validate", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::ProgressReportValidated { id, on, reason }])
            }
            C::Return { reason, .. } => {
                report.check(status == S::Submitted, "return", on)?;
                let reason = required_reason(reason)?;
                Ok(vec![E::ProgressReportReturned { id, on, reason }])
            }
        }
    }

    fn evolve(mut state: ProgressReportState, event: &ProgressReportEvent) -> ProgressReportState {
        use ProgressReportEvent as E;
        use ProgressReportStatus as S;
        let status = match event {
            E::ProgressReportDrafted {
                id,
                project_id,
                period_start,
                period_end,
                narrative,
                actuals,
                on,
            } => {
                return ProgressReportState {
                    id: *id,
                    status: Some(S::Draft),
                    project_id: *project_id,
                    period_start: Some(*period_start),
                    period_end: Some(*period_end),
                    narrative: narrative.clone(),
                    actuals: actuals.clone(),
                    drafted_on: Some(*on),
                    last_on: Some(*on),
                    ..ProgressReportState::default()
                };
            }
            E::ProgressReportRevised {
                narrative, actuals, ..
            } => {
                amend(&mut state.narrative, narrative.as_ref());
                amend(&mut state.actuals, actuals.as_ref());
                S::Draft
            }
            E::ProgressReportSubmitted { on, .. } => {
                state.submitted_on = Some(*on);
                S::Submitted
            }
            E::ProgressReportValidated { on, .. } => {
                state.validated_on = Some(*on);
                S::Validated
            }
            E::ProgressReportReturned { reason, .. } => {
                state.returned_reason = Some(reason.clone());
                S::Returned
            }
        };
        state.status = Some(status);
        state.last_on = Some(event.on());
        state
    }
}

fn check_actuals(actuals: &[ReportedActual]) -> Result<(), DomainError> {
    for (i, a) in actuals.iter().enumerate() {
        check_id("actuals.result_id", a.result_id)?;
        check_id("actuals.indicator_id", a.indicator_id)?;
        if actuals[..i]
            .iter()
            .any(|o| o.result_id == a.result_id && o.indicator_id == a.indicator_id)
        {
            return Err(DomainError::invalid(
                "actuals",
                format!("indicator {} is reported twice", a.indicator_id),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_lifecycle,
        assert_moves_need_the_aggregate, given,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0x81);
    const PROJECT: Uuid = Uuid::from_u128(0x91);
    const RESULT: Uuid = Uuid::from_u128(0x71);
    const INDICATOR: Uuid = Uuid::from_u128(0x72);

    fn d(day: i8) -> Date {
        date(2026, 7, day)
    }

    fn actual(value: i64) -> ReportedActual {
        ReportedActual {
            result_id: RESULT,
            indicator_id: INDICATOR,
            value,
        }
    }

    fn draft() -> ProgressReportCommand {
        ProgressReportCommand::Draft {
            id: ID,
            project_id: PROJECT,
            period_start: date(2026, 1, 1),
            period_end: date(2026, 6, 30),
            narrative: "120 officers trained.".into(),
            actuals: vec![actual(120)],
            on: date(2026, 7, 1),
        }
    }

    fn drafted() -> ProgressReportEvent {
        ProgressReportEvent::ProgressReportDrafted {
            id: ID,
            project_id: PROJECT,
            period_start: date(2026, 1, 1),
            period_end: date(2026, 6, 30),
            narrative: "120 officers trained.".into(),
            actuals: vec![actual(120)],
            on: date(2026, 7, 1),
        }
    }

    fn submitted() -> ProgressReportEvent {
        ProgressReportEvent::ProgressReportSubmitted {
            id: ID,
            on: d(1),
            reason: None,
        }
    }

    fn history(status: ProgressReportStatus) -> Vec<ProgressReportEvent> {
        use ProgressReportStatus as S;
        let mut events = vec![drafted()];
        match status {
            S::Draft => {}
            S::Submitted => events.push(submitted()),
            S::Validated => events.extend([
                submitted(),
                ProgressReportEvent::ProgressReportValidated {
                    id: ID,
                    on: d(2),
                    reason: None,
                },
            ]),
            S::Returned => events.extend([
                submitted(),
                ProgressReportEvent::ProgressReportReturned {
                    id: ID,
                    on: d(2),
                    reason: "add the gender breakdown".into(),
                },
            ]),
        }
        events
    }

    fn moves() -> Vec<ProgressReportCommand> {
        use ProgressReportCommand as C;
        let (id, on) = (ID, d(10));
        vec![
            C::Revise {
                id,
                narrative: Some("120 officers trained, 40 women.".into()),
                actuals: None,
                on: date(2026, 12, 31),
            },
            C::Submit {
                id,
                on,
                reason: None,
            },
            C::Validate {
                id,
                on,
                reason: None,
            },
            C::Return {
                id,
                on,
                reason: "missing figures".into(),
            },
        ]
    }

    #[test]
    fn draft_creates_a_draft() {
        let state = given::<ProgressReport>(&[])
            .when(draft())
            .then(&[drafted()]);
        assert_eq!(state.status, Some(ProgressReportStatus::Draft));
        given::<ProgressReport>(&[drafted()])
            .when(draft())
            .then_error(DomainError::already_exists(
                "progress_report",
                ID.to_string(),
            ));
        let elsewhere = ProgressReportCommand::Submit {
            id: Uuid::from_u128(0x82),
            on: d(1),
            reason: None,
        };
        assert_moves_need_the_aggregate::<ProgressReport>(&moves(), ID, &[drafted()], &[elsewhere]);
    }

    #[test]
    fn draft_validation_names_the_field() {
        use ProgressReportCommand as C;
        assert_invalid_edits::<ProgressReport>(
            &[],
            draft,
            &[
                ("id", edit!(C::Draft, id = Uuid::nil())),
                ("project_id", edit!(C::Draft, project_id = Uuid::nil())),
                (
                    "period_end",
                    edit!(C::Draft, period_end = date(2025, 12, 31)),
                ),
                ("narrative", edit!(C::Draft, narrative = " ".into())),
                (
                    "narrative",
                    edit!(C::Draft, narrative = "x".repeat(MAX_NARRATIVE_CHARS + 1)),
                ),
                (
                    "actuals",
                    edit!(C::Draft, actuals = vec![actual(1), actual(2)]),
                ),
                (
                    "actuals.result_id",
                    edit!(
                        C::Draft,
                        actuals = vec![ReportedActual {
                            result_id: Uuid::nil(),
                            indicator_id: INDICATOR,
                            value: 1
                        }]
                    ),
                ),
                (
                    "actuals.indicator_id",
                    edit!(
                        C::Draft,
                        actuals = vec![ReportedActual {
                            result_id: RESULT,
                            indicator_id: Uuid::nil(),
                            value: 1
                        }]
                    ),
                ),
            ],
        );
    }

    #[test]
    fn every_status_and_move() {
        use ProgressReportCommand as C;
        use ProgressReportStatus as S;
        assert_lifecycle::<ProgressReport, _>(S::ALL, history, &moves(), |status, command| {
            matches!(
                (status, command),
                (S::Draft, C::Revise { .. } | C::Submit { .. })
                    | (S::Submitted, C::Validate { .. } | C::Return { .. })
                    | (S::Returned, C::Revise { .. })
            )
        });
    }

    #[test]
    fn returned_revised_and_submitted_again() {
        let mut events = history(ProgressReportStatus::Returned);
        let revised = ProgressReportEvent::ProgressReportRevised {
            id: ID,
            narrative: None,
            actuals: Some(vec![actual(125)]),
            on: d(2),
        };
        let state = given::<ProgressReport>(&events)
            .when(ProgressReportCommand::Revise {
                id: ID,
                narrative: Some("120 officers trained.".into()), // unchanged
                actuals: Some(vec![actual(125)]),
                on: d(2),
            })
            .then(std::slice::from_ref(&revised));
        assert_eq!(state.status, Some(ProgressReportStatus::Draft));
        assert_eq!(state.actuals, [actual(125)]);
        assert_eq!(
            state.returned_reason.as_deref(),
            Some("add the gender breakdown")
        );
        events.push(revised);
        // Returned on 2 July: a resubmission may not predate it.
        given::<ProgressReport>(&events)
            .when(ProgressReportCommand::Submit {
                id: ID,
                on: d(1),
                reason: None,
            })
            .then_invalid("on");
        let state = given::<ProgressReport>(&events)
            .when(ProgressReportCommand::Submit {
                id: ID,
                on: d(3),
                reason: Some("breakdown added".into()),
            })
            .then(&[ProgressReportEvent::ProgressReportSubmitted {
                id: ID,
                on: d(3),
                reason: Some("breakdown added".into()),
            }]);
        assert_eq!(state.status, Some(ProgressReportStatus::Submitted));
        // A returned report revised with nothing changed still goes back to draft; a draft does not.
        given::<ProgressReport>(&history(ProgressReportStatus::Returned))
            .when(ProgressReportCommand::Revise {
                id: ID,
                narrative: None,
                actuals: None,
                on: date(2026, 12, 31),
            })
            .then(&[ProgressReportEvent::ProgressReportRevised {
                id: ID,
                narrative: None,
                actuals: None,
                on: date(2026, 12, 31),
            }]);
        given::<ProgressReport>(&history(ProgressReportStatus::Draft))
            .when(ProgressReportCommand::Revise {
                id: ID,
                narrative: None,
                actuals: Some(vec![actual(120)]),
                on: date(2026, 12, 31),
            })
            .then(&[]);
        given::<ProgressReport>(&history(ProgressReportStatus::Draft))
            .when(ProgressReportCommand::Revise {
                id: ID,
                narrative: Some(String::new()),
                actuals: None,
                on: date(2026, 12, 31),
            })
            .then_invalid("narrative");
        given::<ProgressReport>(&history(ProgressReportStatus::Draft))
            .when(ProgressReportCommand::Revise {
                id: ID,
                narrative: None,
                actuals: Some(vec![actual(1), actual(1)]),
                on: date(2026, 12, 31),
            })
            .then_invalid("actuals");
    }

    #[test]
    fn return_needs_a_reason() {
        given::<ProgressReport>(&history(ProgressReportStatus::Submitted))
            .when(ProgressReportCommand::Return {
                id: ID,
                on: d(5),
                reason: "  ".into(),
            })
            .then_invalid("reason");
        let state = given::<ProgressReport>(&history(ProgressReportStatus::Submitted))
            .when(ProgressReportCommand::Validate {
                id: ID,
                on: d(5),
                reason: None,
            })
            .then(&[ProgressReportEvent::ProgressReportValidated {
                id: ID,
                on: d(5),
                reason: None,
            }]);
        assert_eq!(state.validated_on, Some(d(5)));
        given::<ProgressReport>(&history(ProgressReportStatus::Submitted))
            .when(ProgressReportCommand::Validate {
                id: ID,
                on: date(2026, 6, 30),
                reason: None,
            })
            .then_invalid("on");
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let mut events = history(ProgressReportStatus::Validated);
        events.extend(history(ProgressReportStatus::Returned).into_iter().skip(2));
        events.push(ProgressReportEvent::ProgressReportRevised {
            id: ID,
            narrative: Some("n".into()),
            actuals: None,
            on: date(2026, 12, 31),
        });
        assert_kinds_round_trip(&events, ProgressReportEvent::KINDS);
    }
}
