//! Referral: a coordinator's match of a need to an offer, for a share of the need, accepted
//! explicitly by the partner and then by the State before it starts or joins a project.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Dated, Lifecycle, check_new, check_target};
use crate::codes;
use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::money::{Money, check_positive};
use crate::need::NeedState;
use crate::offer::{self, OfferState};
use crate::organisation::check_organisation_id;
use crate::sharing::{SharingGrantState, shares_need};
use crate::validate::{check_id, optional_reason, required_reason};

string_enum! {
    pub enum ReferralStatus ("status") {
        Proposed => "proposed",
        Referred => "referred",
        AcceptedByPartner => "accepted_by_partner",
        AcceptedByState => "accepted_by_state",
        Active => "active",
        Declined => "declined",
        Lapsed => "lapsed",
    }
}

string_enum! {
    /// Who declined a referral.
    pub enum Party ("by") {
        Partner => "partner",
        State => "state",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReferralCommand {
    /// Creates the referral, `proposed`.
    Propose {
        id: Uuid,
        need_id: Uuid,
        offer_id: Uuid,
        /// The need's Member State.
        member_state: String,
        /// The offer's organisation.
        organisation: String,
        /// The share of the need this referral covers; at least one of the two, each positive.
        share_money: Option<Money>,
        share_units: Option<u64>,
        /// The day it was proposed (business date).
        on: Date,
    },
    /// proposed -> referred: sent to the partner.
    Refer {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// referred -> accepted_by_partner.
    AcceptByPartner {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// referred -> declined (by the partner); the reason is required.
    DeclineByPartner { id: Uuid, on: Date, reason: String },
    /// accepted_by_partner -> accepted_by_state.
    AcceptByState {
        id: Uuid,
        on: Date,
        reason: Option<String>,
    },
    /// referred or accepted_by_partner -> declined (by the State); the reason is required.
    DeclineByState { id: Uuid, on: Date, reason: String },
    /// accepted_by_state -> active: the work starts in (or joins) project `project_id`.
    Activate {
        id: Uuid,
        on: Date,
        project_id: Uuid,
        reason: Option<String>,
    },
    /// proposed, referred, accepted_by_partner or accepted_by_state -> lapsed; the reason is required.
    Lapse { id: Uuid, on: Date, reason: String },
}

command_fields!(ReferralCommand:
    Propose, Refer, AcceptByPartner, DeclineByPartner, AcceptByState, DeclineByState, Activate,
    Lapse,
);

event_enum! {
    pub enum ReferralEvent {
        ReferralProposed {
            id: Uuid,
            need_id: Uuid,
            offer_id: Uuid,
            member_state: String,
            organisation: String,
            share_money: Option<Money>,
            share_units: Option<u64>,
            on: Date,
        },
        ReferralReferred {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        ReferralAcceptedByPartner {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        ReferralAcceptedByState {
            id: Uuid,
            on: Date,
            reason: Option<String>,
        },
        ReferralDeclined {
            id: Uuid,
            on: Date,
            by: Party,
            reason: String,
        },
        ReferralActivated {
            id: Uuid,
            on: Date,
            project_id: Uuid,
            reason: Option<String>,
        },
        ReferralLapsed {
            id: Uuid,
            on: Date,
            reason: String,
        },
    }
}

event_fields!(ReferralEvent:
    ReferralProposed, ReferralReferred, ReferralAcceptedByPartner, ReferralAcceptedByState,
    ReferralDeclined, ReferralActivated, ReferralLapsed,
);

/// A referral as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReferralState {
    pub id: Uuid,
    pub status: Option<ReferralStatus>,
    pub need_id: Uuid,
    pub offer_id: Uuid,
    pub member_state: String,
    pub organisation: String,
    pub share_money: Option<Money>,
    pub share_units: Option<u64>,
    pub declined_by: Option<Party>,
    pub project_id: Option<Uuid>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub proposed_on: Option<Date>,
    /// The day the State accepted it: from then on its share counts as coverage and commitment.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub accepted_by_state_on: Option<Date>,
    /// The day it stopped counting after the State had accepted it (it lapsed).
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub ended_on: Option<Date>,
    /// The business date of the latest move, which the next may not precede.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

impl ReferralState {
    /// Whether its share counted as accepted on `day` (accepted by the State on or before it,
    /// and not lapsed by then): what coverage and commitment as of `day` sum.
    pub fn counts_as_accepted_on(&self, day: Date) -> bool {
        self.accepted_by_state_on.is_some_and(|from| from <= day)
            && self.ended_on.is_none_or(|end| day < end)
    }

    /// Whether its share counts as covering the need and committing the offer: accepted by both
    /// parties (accepted_by_state or active).
    pub fn counts_as_accepted(&self) -> bool {
        matches!(
            self.status,
            Some(ReferralStatus::AcceptedByState | ReferralStatus::Active)
        )
    }
}

impl ReferralState {
    /// Made and not ended (declined or lapsed): while one is open, another referral of its need
    /// to its offer is a duplicate.
    pub fn is_open(&self) -> bool {
        !matches!(
            self.status,
            Some(ReferralStatus::Declined | ReferralStatus::Lapsed) | None
        )
    }
}

/// One reason a referral cannot be made, named by the field the projects service refuses it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub reason: String,
}

impl Refusal {
    fn new(field: &str, reason: String) -> Self {
        Self {
            field: field.to_owned(),
            reason,
        }
    }
}

impl From<Refusal> for DomainError {
    fn from(r: Refusal) -> Self {
        DomainError::Invalid {
            field: r.field,
            reason: r.reason,
        }
    }
}

/// Why `need` cannot be referred to `offer` on `on`, besides what the offer covers: a referral
/// between them still open (`offer_id`: a duplicate), a need not agreed with the State or already
/// covered (`need_id`), a need its State has not shared with the offer's organisation by a grant
/// in force on `on` (`need_id`). Every reason, in that order. The projects service refuses a
/// proposal for the first; matching lists them all for an ineligible pair.
pub fn pair_refusals(
    need: &NeedState,
    offer: &OfferState,
    grants: &[SharingGrantState],
    referrals: &[ReferralState],
    on: Date,
) -> Vec<Refusal> {
    let mut out = Vec::new();
    if let Some(open) = referrals
        .iter()
        .find(|r| r.need_id == need.id && r.offer_id == offer.id && r.is_open())
    {
        let status = open.status.map(|s| s.to_string()).unwrap_or_default();
        out.push(Refusal::new(
            "offer_id",
            format!(
                "referral {} already refers this need to this offer ({status}): it is a duplicate",
                open.id
            ),
        ));
    }
    if !need.is_referable() {
        let status = need.status.map_or("unknown".to_owned(), |s| s.to_string());
        out.push(Refusal::new(
            "need_id",
            format!(
                "the need is {status}: only needs agreed with the State and not yet covered can be referred"
            ),
        ));
    }
    if !shares_need(grants, &need.member_state, need.id, &offer.organisation, on) {
        out.push(Refusal::new(
            "need_id",
            format!(
                "{} has not shared this need with {}",
                need.member_state, offer.organisation
            ),
        ));
    }
    out
}

/// Every reason the projects service refuses to refer `need` to `offer` on `on`, capacity and
/// money aside: `pair_refusals`, then the first reason the offer does not cover the need
/// (`offer::covers`: theme, country, modality, window, status). Empty: the pair may be referred.
pub fn refusals(
    need: &NeedState,
    offer: &OfferState,
    grants: &[SharingGrantState],
    referrals: &[ReferralState],
    on: Date,
) -> Vec<Refusal> {
    let mut out = pair_refusals(need, offer, grants, referrals, on);
    let covered = match need.modality {
        Some(modality) => offer::covers(offer, &need.theme, &need.member_state, None, modality, on),
        None => Err(DomainError::invalid(
            "modality",
            "the need names no modality",
        )),
    };
    if let Err(e) = covered {
        out.push(match e {
            DomainError::Invalid { field, reason } => Refusal { field, reason },
            other => Refusal::new("offer_id", other.to_string()),
        });
    }
    out
}

/// The decider.
pub struct Referral;

impl Aggregate for Referral {
    const NAME: &'static str = "referral";
    type State = ReferralState;
    type Command = ReferralCommand;
    type Event = ReferralEvent;

    fn decide(
        state: &ReferralState,
        command: &ReferralCommand,
    ) -> Result<Vec<ReferralEvent>, DomainError> {
        use ReferralCommand as C;
        use ReferralEvent as E;
        use ReferralStatus as S;

        if let C::Propose {
            id,
            need_id,
            offer_id,
            member_state,
            organisation,
            share_money,
            share_units,
            on,
        } = command
        {
            check_new(Self::NAME, state.status.is_some(), *id)?;
            check_id("need_id", *need_id)?;
            check_id("offer_id", *offer_id)?;
            codes::check_country("member_state", member_state)?;
            check_organisation_id("organisation", organisation)?;
            if share_money.is_none() && share_units.is_none() {
                return Err(DomainError::invalid(
                    "share_money",
                    "give share_money, share_units or both",
                ));
            }
            if let Some(m) = share_money {
                check_positive("share_money", m)?;
            }
            if *share_units == Some(0) {
                return Err(DomainError::invalid("share_units", "must be positive"));
            }
            return Ok(vec![E::ReferralProposed {
                id: *id,
                need_id: *need_id,
                offer_id: *offer_id,
                member_state: member_state.clone(),
                organisation: organisation.clone(),
                share_money: share_money.clone(),
                share_units: *share_units,
                on: *on,
            }]);
        }

        check_target(Self::NAME, state.status.is_some(), state.id, command.id())?;
        let referral = Lifecycle::new(
            Self::NAME,
            state.status.unwrap_or(S::Proposed),
            state.last_on,
        );
        let (status, id, on) = (referral.status, state.id, command.on());
        match command {
            C::Propose { .. } => unreachable!("handled above"),
            C::Refer { reason, .. } => {
                referral.check(status == S::Proposed, "refer", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::ReferralReferred { id, on, reason }])
            }
            C::AcceptByPartner { reason, .. } => {
                referral.check(status == S::Referred, "accept for the partner", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::ReferralAcceptedByPartner { id, on, reason }])
            }
            C::AcceptByState { reason, .. } => {
                let allows = status == S::AcceptedByPartner;
                referral.check(allows, "accept for the State", on)?;
                let reason = optional_reason(reason.as_deref())?;
                Ok(vec![E::ReferralAcceptedByState { id, on, reason }])
            }
            C::DeclineByPartner { reason, .. } | C::DeclineByState { reason, .. } => {
                let (allows, verb, by) = if let C::DeclineByPartner { .. } = command {
                    (
                        status == S::Referred,
                        "decline for the partner",
                        Party::Partner,
                    )
                } else {
                    let allows = matches!(status, S::Referred | S::AcceptedByPartner);
                    (allows, "decline for the State", Party::State)
                };
                referral.check(allows, verb, on)?;
                let reason = required_reason(reason)?;
                Ok(vec![E::ReferralDeclined { id, on, by, reason }])
            }
            C::Activate {
                project_id, reason, ..
            } => {
                referral.check(status == S::AcceptedByState, "activate", on)?;
                let reason = optional_reason(reason.as_deref())?;
                check_id("project_id", *project_id)?;
                let project_id = *project_id;
                Ok(vec![E::ReferralActivated {
                    id,
                    on,
                    project_id,
                    reason,
                }])
            }
            C::Lapse { reason, .. } => {
                // Any referral not yet active or ended may lapse.
                let open = matches!(
                    status,
                    S::Proposed | S::Referred | S::AcceptedByPartner | S::AcceptedByState
                );
                referral.check(open, "lapse", on)?;
                let reason = required_reason(reason)?;
                Ok(vec![E::ReferralLapsed { id, on, reason }])
            }
        }
    }

    fn evolve(mut state: ReferralState, event: &ReferralEvent) -> ReferralState {
        use ReferralEvent as E;
        use ReferralStatus as S;
        let status = match event {
            E::ReferralProposed {
                id,
                need_id,
                offer_id,
                member_state,
                organisation,
                share_money,
                share_units,
                on,
            } => {
                return ReferralState {
                    id: *id,
                    status: Some(S::Proposed),
                    need_id: *need_id,
                    offer_id: *offer_id,
                    member_state: member_state.clone(),
                    organisation: organisation.clone(),
                    share_money: share_money.clone(),
                    share_units: *share_units,
                    proposed_on: Some(*on),
                    last_on: Some(*on),
                    ..ReferralState::default()
                };
            }
            E::ReferralReferred { .. } => S::Referred,
            E::ReferralAcceptedByPartner { .. } => S::AcceptedByPartner,
            E::ReferralAcceptedByState { on, .. } => {
                state.accepted_by_state_on = Some(*on);
                S::AcceptedByState
            }
            E::ReferralDeclined { by, .. } => {
                state.declined_by = Some(*by);
                S::Declined
            }
            E::ReferralActivated { project_id, .. } => {
                state.project_id = Some(*project_id);
                S::Active
            }
            E::ReferralLapsed { on, .. } => {
                if state.accepted_by_state_on.is_some() {
                    state.ended_on = Some(*on);
                }
                S::Lapsed
            }
        };
        state.status = Some(status);
        state.last_on = Some(event.on());
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_lifecycle,
        assert_moves_need_the_aggregate, given, usd,
    };
    use jiff::civil::date;

    const ID: Uuid = Uuid::from_u128(0xA1);
    const NEED: Uuid = Uuid::from_u128(0xC1);
    const OFFER: Uuid = Uuid::from_u128(0xF1);
    const PROJECT: Uuid = Uuid::from_u128(0x91);

    fn d(day: i8) -> Date {
        date(2025, 10, day)
    }

    fn propose() -> ReferralCommand {
        ReferralCommand::Propose {
            id: ID,
            need_id: NEED,
            offer_id: OFFER,
            member_state: "KE".into(),
            organisation: "UNOCT".into(),
            share_money: Some(usd(4_000_000)),
            share_units: Some(80),
            on: date(2025, 1, 1),
        }
    }

    fn proposed() -> ReferralEvent {
        ReferralEvent::ReferralProposed {
            id: ID,
            need_id: NEED,
            offer_id: OFFER,
            member_state: "KE".into(),
            organisation: "UNOCT".into(),
            share_money: Some(usd(4_000_000)),
            share_units: Some(80),
            on: date(2025, 1, 1),
        }
    }

    fn history(status: ReferralStatus) -> Vec<ReferralEvent> {
        use ReferralEvent as E;
        use ReferralStatus as S;
        let id = ID;
        let chain = [
            E::ReferralReferred {
                id,
                on: d(1),
                reason: None,
            },
            E::ReferralAcceptedByPartner {
                id,
                on: d(2),
                reason: None,
            },
            E::ReferralAcceptedByState {
                id,
                on: d(3),
                reason: None,
            },
            E::ReferralActivated {
                id,
                on: d(4),
                project_id: PROJECT,
                reason: None,
            },
        ];
        let mut events = vec![proposed()];
        let take = match status {
            S::Proposed | S::Lapsed => 0,
            S::Referred | S::Declined => 1,
            S::AcceptedByPartner => 2,
            S::AcceptedByState => 3,
            S::Active => 4,
        };
        events.extend(chain.into_iter().take(take));
        match status {
            S::Declined => events.push(E::ReferralDeclined {
                id,
                on: d(2),
                by: Party::Partner,
                reason: "no capacity".into(),
            }),
            S::Lapsed => events.push(E::ReferralLapsed {
                id,
                on: d(2),
                reason: "no answer".into(),
            }),
            _ => {}
        }
        events
    }

    fn moves() -> Vec<ReferralCommand> {
        use ReferralCommand as C;
        let (id, on) = (ID, d(20));
        vec![
            C::Refer {
                id,
                on,
                reason: None,
            },
            C::AcceptByPartner {
                id,
                on,
                reason: None,
            },
            C::DeclineByPartner {
                id,
                on,
                reason: "no capacity".into(),
            },
            C::AcceptByState {
                id,
                on,
                reason: None,
            },
            C::DeclineByState {
                id,
                on,
                reason: "bilateral help instead".into(),
            },
            C::Activate {
                id,
                on,
                project_id: PROJECT,
                reason: None,
            },
            C::Lapse {
                id,
                on,
                reason: "no answer".into(),
            },
        ]
    }

    #[test]
    fn propose_creates_a_proposed_referral() {
        let state = given::<Referral>(&[]).when(propose()).then(&[proposed()]);
        assert_eq!(state.status, Some(ReferralStatus::Proposed));
        assert!(!state.counts_as_accepted());
        given::<Referral>(&[proposed()])
            .when(propose())
            .then_error(DomainError::already_exists("referral", ID.to_string()));
    }

    #[test]
    fn moves_need_an_existing_referral_with_that_id() {
        let elsewhere = ReferralCommand::Refer {
            id: Uuid::from_u128(0xA2),
            on: d(1),
            reason: None,
        };
        assert_moves_need_the_aggregate::<Referral>(&moves(), ID, &[proposed()], &[elsewhere]);
    }

    #[test]
    fn propose_validation_names_the_field() {
        use ReferralCommand as C;
        assert_invalid_edits::<Referral>(
            &[],
            propose,
            &[
                ("id", edit!(C::Propose, id = Uuid::nil())),
                ("need_id", edit!(C::Propose, need_id = Uuid::nil())),
                ("offer_id", edit!(C::Propose, offer_id = Uuid::nil())),
                (
                    "member_state",
                    edit!(C::Propose, member_state = "ke".into()),
                ),
                (
                    "organisation",
                    edit!(C::Propose, organisation = "U N".into()),
                ),
                ("share_money", edit!(C::Propose, share_money = Some(usd(0)))),
                (
                    "share_money",
                    edit!(C::Propose, share_money = Some(usd(-100))),
                ),
                (
                    "share_money",
                    edit!(
                        C::Propose,
                        share_money = Some(Money {
                            amount_minor: 1,
                            currency: "ABC".into()
                        })
                    ),
                ),
                ("share_units", edit!(C::Propose, share_units = Some(0))),
                (
                    "share_money",
                    edit!(
                        ReferralCommand::Propose,
                        share_money = None,
                        share_units = None
                    ),
                ),
            ],
        );
    }

    #[test]
    fn every_status_and_move() {
        use ReferralCommand as C;
        use ReferralStatus as S;
        assert_lifecycle::<Referral, _>(S::ALL, history, &moves(), |status, command| {
            matches!(
                (status, command),
                (S::Proposed, C::Refer { .. } | C::Lapse { .. })
                    | (
                        S::Referred,
                        C::AcceptByPartner { .. }
                            | C::DeclineByPartner { .. }
                            | C::DeclineByState { .. }
                            | C::Lapse { .. }
                    )
                    | (
                        S::AcceptedByPartner,
                        C::AcceptByState { .. } | C::DeclineByState { .. } | C::Lapse { .. }
                    )
                    | (S::AcceptedByState, C::Activate { .. } | C::Lapse { .. })
            )
        });
    }

    #[test]
    fn the_lifecycle_to_active() {
        let mut events = vec![proposed()];
        for e in history(ReferralStatus::Active).into_iter().skip(1) {
            let command = match &e {
                ReferralEvent::ReferralReferred { on, .. } => ReferralCommand::Refer {
                    id: ID,
                    on: *on,
                    reason: None,
                },
                ReferralEvent::ReferralAcceptedByPartner { on, .. } => {
                    ReferralCommand::AcceptByPartner {
                        id: ID,
                        on: *on,
                        reason: None,
                    }
                }
                ReferralEvent::ReferralAcceptedByState { on, .. } => {
                    ReferralCommand::AcceptByState {
                        id: ID,
                        on: *on,
                        reason: None,
                    }
                }
                ReferralEvent::ReferralActivated { on, .. } => ReferralCommand::Activate {
                    id: ID,
                    on: *on,
                    project_id: PROJECT,
                    reason: None,
                },
                other => panic!("{other:?}"),
            };
            given::<Referral>(&events)
                .when(command)
                .then(std::slice::from_ref(&e));
            events.push(e);
        }
        let state = crate::fold::<Referral>(&events);
        assert_eq!(state.status, Some(ReferralStatus::Active));
        assert_eq!(state.project_id, Some(PROJECT));
        assert!(state.counts_as_accepted());
    }

    #[test]
    fn declines_record_who_and_why() {
        let state = given::<Referral>(&history(ReferralStatus::AcceptedByPartner))
            .when(ReferralCommand::DeclineByState {
                id: ID,
                on: d(5),
                reason: " bilateral help instead ".into(),
            })
            .then(&[ReferralEvent::ReferralDeclined {
                id: ID,
                on: d(5),
                by: Party::State,
                reason: "bilateral help instead".into(),
            }]);
        assert_eq!(state.declined_by, Some(Party::State));
        given::<Referral>(&history(ReferralStatus::Referred))
            .when(ReferralCommand::DeclineByPartner {
                id: ID,
                on: d(5),
                reason: " ".into(),
            })
            .then_invalid("reason");
        given::<Referral>(&history(ReferralStatus::Referred))
            .when(ReferralCommand::Lapse {
                id: ID,
                on: d(5),
                reason: String::new(),
            })
            .then_invalid("reason");
        given::<Referral>(&history(ReferralStatus::Proposed))
            .when(ReferralCommand::Refer {
                id: ID,
                on: d(5),
                reason: Some(" ".into()),
            })
            .then_invalid("reason");
    }

    #[test]
    fn dates_in_order_and_a_real_project() {
        // Accepted by the partner on 2 October.
        given::<Referral>(&history(ReferralStatus::AcceptedByPartner))
            .when(ReferralCommand::AcceptByState {
                id: ID,
                on: d(1),
                reason: None,
            })
            .then_error(DomainError::invalid(
                "on",
                "must not be before 2025-10-02, got 2025-10-01",
            ));
        given::<Referral>(&history(ReferralStatus::AcceptedByState))
            .when(ReferralCommand::Activate {
                id: ID,
                on: d(9),
                project_id: Uuid::nil(),
                reason: None,
            })
            .then_invalid("project_id");
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let mut events = history(ReferralStatus::Active);
        events.extend(history(ReferralStatus::Declined).into_iter().skip(2));
        events.extend(history(ReferralStatus::Lapsed).into_iter().skip(1));
        assert_kinds_round_trip(&events, ReferralEvent::KINDS);
    }

    #[test]
    fn a_pair_is_refused_for_every_reason_by_its_field() {
        use crate::need::{Modality, NeedStatus};
        use crate::offer::OfferStatus;
        use crate::sharing::{Audience, Scope, SharingGrantStatus};
        let need = NeedState {
            id: NEED,
            status: Some(NeedStatus::AgreedWithState),
            member_state: "KE".into(),
            theme: "BOR".into(),
            modality: Some(Modality::Training),
            ..NeedState::default()
        };
        let offer = OfferState {
            id: OFFER,
            status: Some(OfferStatus::Open),
            organisation: "UNOCT".into(),
            themes: vec!["BOR".into()],
            countries: vec!["KE".into()],
            modalities: vec![Modality::Training],
            ..OfferState::default()
        };
        let grants = [SharingGrantState {
            status: Some(SharingGrantStatus::Active),
            member_state: "KE".into(),
            scope: Some(Scope::AllNeeds),
            audience: Some(Audience::AllDonors),
            granted_on: Some(d(1)),
            ..SharingGrantState::default()
        }];
        let open = ReferralState {
            id: ID,
            status: Some(ReferralStatus::AcceptedByState),
            need_id: NEED,
            offer_id: OFFER,
            ..ReferralState::default()
        };
        let fields = |need: &NeedState, offer: &OfferState, grants: &[_], referrals: &[_]| {
            refusals(need, offer, grants, referrals, d(2))
                .into_iter()
                .map(|r| r.field)
                .collect::<Vec<_>>()
        };
        assert!(fields(&need, &offer, &grants, &[]).is_empty());
        // A declined referral of the pair is no duplicate; an accepted one is.
        let declined = ReferralState {
            status: Some(ReferralStatus::Declined),
            ..open.clone()
        };
        assert!(fields(&need, &offer, &grants, &[declined]).is_empty());
        let all = refusals(
            &NeedState {
                status: Some(NeedStatus::Covered),
                ..need.clone()
            },
            &OfferState {
                themes: vec!["CFT".into()],
                ..offer.clone()
            },
            &[],
            &[open],
            d(2),
        );
        let fields: Vec<&str> = all.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(
            fields,
            ["offer_id", "need_id", "need_id", "theme"],
            "{all:?}"
        );
        assert!(all[0].reason.contains("duplicate"), "{all:?}");
        assert!(all[1].reason.starts_with("the need is covered"), "{all:?}");
        assert_eq!(all[2].reason, "KE has not shared this need with UNOCT");
        // Shared only from a later day: not on the proposal's day.
        assert_eq!(
            pair_refusals(&need, &offer, &grants, &[], date(2025, 9, 30))
                .into_iter()
                .map(|r| r.field)
                .collect::<Vec<_>>(),
            ["need_id"]
        );
    }
}
