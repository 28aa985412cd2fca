//! Sharing grant: a Member State's consent to show one need, all its needs or an assessment report to
//! named organisations or to all donors, optionally until a date. Visibility is computed from grants;
//! revoking is an event and nothing is deleted.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Lifecycle, check_new, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::validate::{check_date_order, check_id, check_text, optional_reason};

/// Longest organisation id in an audience.
pub const MAX_ORGANISATION_ID_CHARS: usize = 200;

/// What the grant makes visible.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scope {
    Need {
        need_id: Uuid,
    },
    /// Every need of the member state, present and future.
    AllNeeds,
    AssessmentReport {
        assessment_id: Uuid,
    },
}

/// Who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Audience {
    /// The partners' organisation ids; at least one.
    Organisations {
        ids: Vec<String>,
    },
    AllDonors,
}

string_enum! {
    pub enum SharingGrantStatus ("status") {
        Active => "active",
        Revoked => "revoked",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SharingGrantCommand {
    /// Creates the grant, `active`.
    Grant {
        id: Uuid,
        member_state: String,
        scope: Scope,
        audience: Audience,
        /// Last day of visibility (inclusive); `None` until revoked.
        until: Option<Date>,
        /// The day the State granted it, from which it shows (business date).
        on: Date,
    },
    /// active -> revoked.
    Revoke {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
}

command_fields!(SharingGrantCommand: Grant, Revoke);

event_enum! {
    pub enum SharingGrantEvent {
        SharingGranted {
            id: Uuid,
            member_state: String,
            scope: Scope,
            audience: Audience,
            until: Option<Date>,
            granted_on: Date,
        },
        SharingRevoked {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
    }
}

event_fields!(SharingGrantEvent: SharingRevoked;
    Self::SharingGranted { granted_on, .. } => *granted_on,
);

/// A grant as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SharingGrantState {
    pub id: Uuid,
    pub status: Option<SharingGrantStatus>,
    pub member_state: String,
    pub scope: Option<Scope>,
    pub audience: Option<Audience>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub until: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub granted_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub revoked_on: Option<Date>,
}

/// Whether the grant gives visibility on `today`: granted, not revoked, `today` within
/// `granted_on ..= until`.
pub fn is_active(state: &SharingGrantState, today: Date) -> bool {
    state.status == Some(SharingGrantStatus::Active)
        && state.granted_on.is_some_and(|from| from <= today)
        && state.until.is_none_or(|until| today <= until)
}

/// Whether the State has shared this need with `organisation` on `today`: an active grant of the
/// need's member state whose scope is this need (or all its needs) and whose audience names the
/// organisation (or all donors). The one consent rule: the read model shows needs to donors by it
/// and the projects service refers needs to partners by it.
pub fn shares_need(
    grants: &[SharingGrantState],
    member_state: &str,
    need_id: Uuid,
    organisation: &str,
    today: Date,
) -> bool {
    need_shared(grants, member_state, need_id, Some(organisation), today)
}

/// Whether the State has shared this assessment's report with `organisation` on `today` (an
/// active grant with scope `assessment_report`): the donor may then read the assessment and its
/// recommendations, confidential text included, since the text is what the State chose to share.
pub fn shares_assessment(
    grants: &[SharingGrantState],
    member_state: &str,
    assessment_id: Uuid,
    organisation: &str,
    today: Date,
) -> bool {
    any_grant(
        grants,
        member_state,
        Some(organisation),
        today,
        |scope| matches!(scope, Scope::AssessmentReport { assessment_id: shared } if *shared == assessment_id),
    )
}

/// Whether the State shares this need with anyone on `today` (the coordinators' consent filter).
pub fn need_is_shared(
    grants: &[SharingGrantState],
    member_state: &str,
    need_id: Uuid,
    today: Date,
) -> bool {
    need_shared(grants, member_state, need_id, None, today)
}

/// Whether an active grant shares this need (or all its needs) with `organisation` (`None`:
/// with anyone) on `today`.
fn need_shared(
    grants: &[SharingGrantState],
    member_state: &str,
    need_id: Uuid,
    organisation: Option<&str>,
    today: Date,
) -> bool {
    any_grant(
        grants,
        member_state,
        organisation,
        today,
        |scope| match scope {
            Scope::Need { need_id: shared } => *shared == need_id,
            Scope::AllNeeds => true,
            Scope::AssessmentReport { .. } => false,
        },
    )
}

/// Who keeps seeing a need through work that serves it, and why: consent given for a piece of
/// work runs with that work. The partner of a referral still under way (referred, accepted by
/// either party, or active) and every organisation taking part in a project that serves the
/// need and is not closed or cancelled keep seeing the need after its grant is revoked or
/// expires, until that work ends; everyone else loses it at once. A proposal not yet referred
/// gives nothing: the partner has not been told of the need. Keyed by need, then organisation.
pub fn kept_by_work(
    referrals: &[crate::referral::ReferralState],
    projects: &[crate::project::ProjectState],
) -> std::collections::BTreeMap<Uuid, std::collections::BTreeMap<String, String>> {
    use crate::referral::ReferralStatus as R;
    let mut out: std::collections::BTreeMap<Uuid, std::collections::BTreeMap<String, String>> =
        std::collections::BTreeMap::new();
    for r in referrals {
        if let Some(
            status @ (R::Referred | R::AcceptedByPartner | R::AcceptedByState | R::Active),
        ) = r.status
        {
            out.entry(r.need_id)
                .or_default()
                .entry(r.organisation.clone())
                .or_insert_with(|| format!("referral {} is {status}", r.id));
        }
    }
    for p in projects {
        let Some(status) = p.status.filter(|s| !s.is_final()) else {
            continue;
        };
        for need in &p.needs {
            for participant in &p.participating {
                out.entry(*need)
                    .or_default()
                    .entry(participant.organisation.clone())
                    .or_insert_with(|| {
                        format!(
                            "it takes part in project {} ({}), which is {}",
                            p.id,
                            p.iati_identifier,
                            status.name()
                        )
                    });
            }
        }
    }
    out
}

/// Whether an active grant of `member_state` whose audience includes `organisation` (any
/// audience when `None`) has a scope that `covers` accepts.
fn any_grant(
    grants: &[SharingGrantState],
    member_state: &str,
    organisation: Option<&str>,
    today: Date,
    covers: impl Fn(&Scope) -> bool,
) -> bool {
    grants.iter().any(|grant| {
        grant.member_state == member_state
            && is_active(grant, today)
            && grant.scope.as_ref().is_some_and(&covers)
            && match (&grant.audience, organisation) {
                (None, _) => false,
                (Some(_), None) | (Some(Audience::AllDonors), _) => true,
                (Some(Audience::Organisations { ids }), Some(organisation)) => {
                    ids.iter().any(|id| id == organisation)
                }
            }
    })
}

/// The decider.
pub struct SharingGrant;

impl Aggregate for SharingGrant {
    const NAME: &'static str = "sharing_grant";
    type State = SharingGrantState;
    type Command = SharingGrantCommand;
    type Event = SharingGrantEvent;

    fn decide(
        state: &SharingGrantState,
        command: &SharingGrantCommand,
    ) -> Result<Vec<SharingGrantEvent>, DomainError> {
        match command {
            SharingGrantCommand::Grant {
                id,
                member_state,
                scope,
                audience,
                until,
                on: granted_on,
            } => {
                check_new(Self::NAME, state.status.is_some(), *id)?;
                codes::check_country("member_state", member_state)?;
                match scope {
                    Scope::Need { need_id } => check_id("scope.need_id", *need_id)?,
                    Scope::AssessmentReport { assessment_id } => {
                        check_id("scope.assessment_id", *assessment_id)?;
                    }
                    Scope::AllNeeds => {}
                }
                let audience = match audience {
                    Audience::Organisations { ids } => Audience::Organisations {
                        ids: check_organisations(ids)?,
                    },
                    Audience::AllDonors => Audience::AllDonors,
                };
                if let Some(until) = until {
                    check_date_order("until", *granted_on, *until)?;
                }
                Ok(vec![SharingGrantEvent::SharingGranted {
                    id: *id,
                    member_state: member_state.clone(),
                    scope: scope.clone(),
                    audience,
                    until: *until,
                    granted_on: *granted_on,
                }])
            }
            SharingGrantCommand::Revoke { id, on, reason } => {
                check_target(Self::NAME, state.status.is_some(), state.id, *id)?;
                let status = state.status.unwrap_or(SharingGrantStatus::Active);
                let grant = Lifecycle::new(Self::NAME, status, state.granted_on);
                grant.check(status == SharingGrantStatus::Active, "revoke", *on)?;
                let (id, on, reason) = (*id, *on, optional_reason(reason.as_deref())?);
                Ok(vec![SharingGrantEvent::SharingRevoked { id, on, reason }])
            }
        }
    }

    fn evolve(mut state: SharingGrantState, event: &SharingGrantEvent) -> SharingGrantState {
        match event {
            SharingGrantEvent::SharingGranted {
                id,
                member_state,
                scope,
                audience,
                until,
                granted_on,
            } => SharingGrantState {
                id: *id,
                status: Some(SharingGrantStatus::Active),
                member_state: member_state.clone(),
                scope: Some(scope.clone()),
                audience: Some(audience.clone()),
                until: *until,
                granted_on: Some(*granted_on),
                revoked_on: None,
            },
            SharingGrantEvent::SharingRevoked { on, .. } => {
                state.status = Some(SharingGrantStatus::Revoked);
                state.revoked_on = Some(*on);
                state
            }
        }
    }
}

/// Non-empty, each id sensible text, no repeats; returns the ids trimmed.
fn check_organisations(ids: &[String]) -> Result<Vec<String>, DomainError> {
    if ids.is_empty() {
        return Err(DomainError::invalid(
            "audience.ids",
            "must name at least one organisation",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        check_text("audience.ids", id, MAX_ORGANISATION_ID_CHARS)?;
        let id = id.trim();
        if out.iter().any(|seen| seen == id) {
            return Err(DomainError::invalid(
                "audience.ids",
                format!("{id:?} is listed twice"),
            ));
        }
        out.push(id.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_moves_need_the_aggregate, edited,
        given,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0xD1);
    const NEED: Uuid = Uuid::from_u128(0xC1);

    fn grant() -> SharingGrantCommand {
        SharingGrantCommand::Grant {
            id: ID,
            member_state: "KE".into(),
            scope: Scope::Need { need_id: NEED },
            audience: organisations(&["org-unodc", "org-eu"]),
            until: Some(date(2025, 12, 31)),
            on: date(2025, 10, 1),
        }
    }

    fn granted() -> SharingGrantEvent {
        granted_of(
            Scope::Need { need_id: NEED },
            organisations(&["org-unodc", "org-eu"]),
            Some(date(2025, 12, 31)),
        )
    }

    /// KE's grant of `scope` to `audience` until `until`, given on 2025-10-01.
    fn granted_of(scope: Scope, audience: Audience, until: Option<Date>) -> SharingGrantEvent {
        SharingGrantEvent::SharingGranted {
            id: ID,
            member_state: "KE".into(),
            scope,
            audience,
            until,
            granted_on: date(2025, 10, 1),
        }
    }

    #[test]
    fn a_need_is_shared_only_by_an_active_grant_of_its_state_to_that_audience() {
        let grant = |events: &[SharingGrantEvent]| crate::aggregate::fold::<SharingGrant>(events);
        let active = vec![grant(&[granted()])];
        let on = date(2025, 10, 15);
        assert!(shares_need(&active, "KE", NEED, "org-eu", on));
        assert!(need_is_shared(&active, "KE", NEED, on));
        assert!(!need_is_shared(&active, "KE", Uuid::from_u128(0xC2), on));
        // Another organisation, another need, another State, outside the window: not shared.
        assert!(!shares_need(&active, "KE", NEED, "org-other", on));
        assert!(!shares_need(
            &active,
            "KE",
            Uuid::from_u128(0xC2),
            "org-eu",
            on
        ));
        assert!(!shares_need(&active, "JO", NEED, "org-eu", on));
        assert!(!shares_need(
            &active,
            "KE",
            NEED,
            "org-eu",
            date(2025, 9, 30)
        ));
        assert!(!shares_need(
            &active,
            "KE",
            NEED,
            "org-eu",
            date(2026, 1, 1)
        ));
        // Revoked: not shared from then on.
        let revoked_grants = vec![grant(&[granted(), revoked()])];
        assert!(!shares_need(
            &revoked_grants,
            "KE",
            NEED,
            "org-eu",
            date(2025, 11, 2)
        ));
        // All needs, to all donors.
        let all = vec![grant(&[granted_of(
            Scope::AllNeeds,
            Audience::AllDonors,
            None,
        )])];
        assert!(shares_need(
            &all,
            "KE",
            Uuid::from_u128(0xC9),
            "anyone",
            date(2030, 1, 1)
        ));
    }

    #[test]
    fn an_assessment_report_is_shared_only_by_a_report_grant_for_it() {
        let report = Uuid::from_u128(0xA1);
        let grant = |scope: Scope| {
            crate::aggregate::fold::<SharingGrant>(&[SharingGrantEvent::SharingGranted {
                id: ID,
                member_state: "KE".into(),
                scope,
                audience: Audience::Organisations {
                    ids: vec!["org-eu".into()],
                },
                until: None,
                granted_on: date(2025, 10, 1),
            }])
        };
        let on = date(2025, 10, 15);
        let shared = vec![grant(Scope::AssessmentReport {
            assessment_id: report,
        })];
        assert!(shares_assessment(&shared, "KE", report, "org-eu", on));
        assert!(!shares_assessment(&shared, "KE", report, "org-other", on));
        assert!(!shares_assessment(&shared, "KE", NEED, "org-eu", on));
        assert!(!shares_assessment(
            &shared,
            "KE",
            report,
            "org-eu",
            date(2025, 9, 1)
        ));
        assert!(!need_is_shared(&shared, "KE", report, on));
        // Sharing every need is not sharing the report, nor the reverse.
        assert!(!shares_assessment(
            &[grant(Scope::AllNeeds)],
            "KE",
            report,
            "org-eu",
            on
        ));
        assert!(!shares_need(&shared, "KE", report, "org-eu", on));
    }

    fn revoked() -> SharingGrantEvent {
        SharingGrantEvent::SharingRevoked {
            id: ID,
            on: date(2025, 11, 1),
            reason: Some("government changed".into()),
        }
    }

    fn report(assessment_id: Uuid) -> Scope {
        Scope::AssessmentReport { assessment_id }
    }

    fn organisations(ids: &[&str]) -> Audience {
        Audience::Organisations {
            ids: ids.iter().map(|&id| id.to_owned()).collect(),
        }
    }

    fn revoke(on: Date) -> SharingGrantCommand {
        SharingGrantCommand::Revoke {
            id: ID,
            on,
            reason: Some(" government changed ".into()),
        }
    }

    #[test]
    fn grant_then_revoke() {
        let state = given::<SharingGrant>(&[]).when(grant()).then(&[granted()]);
        assert_eq!(state.status, Some(SharingGrantStatus::Active));
        let state = given::<SharingGrant>(&[granted()])
            .when(revoke(date(2025, 11, 1)))
            .then(&[revoked()]);
        assert_eq!(state.status, Some(SharingGrantStatus::Revoked));
        assert_eq!(state.revoked_on, Some(date(2025, 11, 1)));
    }

    #[test]
    fn other_scopes_and_audiences() {
        use SharingGrantCommand as C;
        let c = edited(
            grant(),
            edit!(
                C::Grant,
                scope = Scope::AllNeeds,
                audience = Audience::AllDonors,
                until = None
            ),
        );
        let state = given::<SharingGrant>(&[]).when(c).then(&[granted_of(
            Scope::AllNeeds,
            Audience::AllDonors,
            None,
        )]);
        assert!(is_active(&state, date(2099, 1, 1)));
        let c = edited(
            grant(),
            edit!(
                C::Grant,
                scope = report(Uuid::from_u128(0xA1)),
                audience = organisations(&[" org-unodc "]),
                until = Some(date(2025, 10, 1)),
            ),
        );
        let state = given::<SharingGrant>(&[])
            .when(c)
            .then(&[SharingGrantEvent::SharingGranted {
                id: ID,
                member_state: "KE".into(),
                scope: Scope::AssessmentReport {
                    assessment_id: Uuid::from_u128(0xA1),
                },
                audience: Audience::Organisations {
                    ids: vec!["org-unodc".into()],
                },
                until: Some(date(2025, 10, 1)),
                granted_on: date(2025, 10, 1),
            }]);
        assert!(is_active(&state, date(2025, 10, 1)), "a one-day grant");
    }

    #[test]
    fn existence_rules() {
        given::<SharingGrant>(&[granted()])
            .when(grant())
            .then_error(DomainError::already_exists("sharing_grant", ID.to_string()));
        let elsewhere = SharingGrantCommand::Revoke {
            id: Uuid::from_u128(0xD2),
            on: date(2025, 11, 1),
            reason: None,
        };
        assert_moves_need_the_aggregate::<SharingGrant>(
            &[revoke(date(2025, 11, 1))],
            &ID.to_string(),
            &[granted()],
            &[elsewhere],
        );
    }

    #[test]
    fn revoking_twice_is_refused() {
        given::<SharingGrant>(&[granted(), revoked()])
            .when(revoke(date(2025, 11, 2)))
            .then_error(DomainError::invalid(
                "status",
                "cannot revoke a sharing grant that is revoked",
            ));
    }

    #[test]
    fn revoke_validation() {
        given::<SharingGrant>(&[granted()])
            .when(revoke(date(2025, 9, 30)))
            .then_error(DomainError::invalid(
                "on",
                "must not be before 2025-10-01, got 2025-09-30",
            ));
        given::<SharingGrant>(&[granted()])
            .when(SharingGrantCommand::Revoke {
                id: ID,
                on: date(2025, 10, 1),
                reason: Some(String::new()),
            })
            .then_invalid("reason");
        // Revoking an expired grant is allowed: it states the intent for the record.
        given::<SharingGrant>(&[granted()])
            .when(SharingGrantCommand::Revoke {
                id: ID,
                on: date(2026, 6, 1),
                reason: None,
            })
            .then(&[SharingGrantEvent::SharingRevoked {
                id: ID,
                on: date(2026, 6, 1),
                reason: None,
            }]);
    }

    #[test]
    fn grant_validation_names_the_field() {
        use SharingGrantCommand as C;
        assert_invalid_edits::<SharingGrant>(
            &[],
            grant,
            &[
                ("id", edit!(C::Grant, id = Uuid::nil())),
                ("member_state", edit!(C::Grant, member_state = "XK1".into())),
                (
                    "scope.need_id",
                    edit!(
                        C::Grant,
                        scope = Scope::Need {
                            need_id: Uuid::nil()
                        }
                    ),
                ),
                (
                    "scope.assessment_id",
                    edit!(C::Grant, scope = report(Uuid::nil())),
                ),
                (
                    "audience.ids",
                    edit!(C::Grant, audience = organisations(&[])),
                ),
                (
                    "audience.ids",
                    edit!(C::Grant, audience = organisations(&[" "])),
                ),
                (
                    "audience.ids",
                    edit!(C::Grant, audience = organisations(&["a", " a"])),
                ),
                (
                    "audience.ids",
                    edit!(
                        C::Grant,
                        audience = organisations(&[&"x".repeat(MAX_ORGANISATION_ID_CHARS + 1)])
                    ),
                ),
                ("until", edit!(C::Grant, until = Some(date(2025, 9, 30)))),
            ],
        );
    }

    #[test]
    fn active_within_its_window_until_revoked() {
        let state = crate::fold::<SharingGrant>(&[granted()]);
        assert!(
            !is_active(&state, date(2025, 9, 30)),
            "not before it is granted"
        );
        assert!(is_active(&state, date(2025, 10, 1)));
        assert!(
            is_active(&state, date(2025, 12, 31)),
            "until is the last day"
        );
        assert!(!is_active(&state, date(2026, 1, 1)));
        let state = crate::fold::<SharingGrant>(&[granted(), revoked()]);
        assert!(
            !is_active(&state, date(2025, 10, 15)),
            "revoked grants show nothing, whatever the date"
        );
        assert!(!is_active(
            &SharingGrantState::default(),
            date(2025, 10, 15)
        ));
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let events = [granted(), revoked()];
        assert_kinds_round_trip(&events, SharingGrantEvent::KINDS);
        let json = serde_json::to_value(grant()).unwrap();
        assert_eq!(json["type"], "grant");
        assert_eq!(
            json["scope"],
            serde_json::json!({"type": "need", "need_id": NEED})
        );
        assert_eq!(json["audience"]["type"], "organisations");
    }
}
