//! Organisation: a donor or implementing partner in tatrack's own registry (many counter-terrorism
//! actors have no IATI organisation identifier), keyed by a code coordinators choose.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::aggregate::{
    Aggregate, Dated, amend, amend_optional, changed, changed_optional, changed_text,
    check_target_code,
};
use crate::codes;
use crate::error::DomainError;
use crate::validate::{check_not_before, check_text, required_reason, trimmed};

pub const MAX_NAME_CHARS: usize = 300;
pub const MIN_ID_CHARS: usize = 2;
pub const MAX_ID_CHARS: usize = 64;
pub const MIN_IATI_IDENTIFIER_CHARS: usize = 3;
pub const MAX_IATI_IDENTIFIER_CHARS: usize = 100;

string_enum! {
    pub enum OrganisationKind ("kind") {
        MemberStateBody => "member_state_body",
        UnEntity => "un_entity",
        InternationalOrganisation => "international_organisation",
        RegionalOrganisation => "regional_organisation",
        DonorGovernment => "donor_government",
        PrivateSector => "private_sector",
        CivilSociety => "civil_society",
        Academia => "academia",
    }
}

string_enum! {
    pub enum OrganisationStatus ("status") {
        Active => "active",
        Deactivated => "deactivated",
    }
}

/// An organisation id: 2..=64 characters of `A-Z a-z 0-9 - _`, e.g. `"XM-DAC-41122"` or `"UNOCT"`. It
/// names the organisation's stream and appears in offers, referrals and projects, so it is checked
/// wherever it is referred to (the error names `field`).
pub fn check_organisation_id(field: &str, id: &str) -> Result<(), DomainError> {
    let chars = id.chars().count();
    if !(MIN_ID_CHARS..=MAX_ID_CHARS).contains(&chars) {
        return Err(DomainError::invalid(
            field,
            format!("must be {MIN_ID_CHARS} to {MAX_ID_CHARS} characters, got {chars}"),
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(DomainError::invalid(
            field,
            format!("may only hold A-Z, a-z, 0-9, '-' and '_', got {c:?}"),
        ));
    }
    Ok(())
}

/// An IATI organisation identifier, `{registration agency}-{number}` (e.g. `"XM-DAC-41122"`,
/// `"GB-COH-01234567"`): 3..=100 characters, no whitespace, at least one `-`.
///
/// Only the shape is checked: the registration-agency prefix is not looked up in the
/// IATIOrganisationIdentifier / org-id.guide lists, which change more often than this crate.
pub fn check_iati_identifier(field: &str, id: &str) -> Result<(), DomainError> {
    let chars = id.chars().count();
    if !(MIN_IATI_IDENTIFIER_CHARS..=MAX_IATI_IDENTIFIER_CHARS).contains(&chars) {
        return Err(DomainError::invalid(
            field,
            format!(
                "must be {MIN_IATI_IDENTIFIER_CHARS} to {MAX_IATI_IDENTIFIER_CHARS} characters, got {chars}"
            ),
        ));
    }
    if id.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(field, "must not contain whitespace"));
    }
    if !id.contains('-') {
        return Err(DomainError::invalid(
            field,
            "must be an agency prefix and a number joined by '-', e.g. XM-DAC-41122",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrganisationCommand {
    /// Creates the organisation, `active`.
    Register {
        id: String,
        name: String,
        kind: OrganisationKind,
        /// IATI OrganisationType code, e.g. `"40"` multilateral.
        iati_type: String,
        iati_identifier: Option<String>,
        /// ISO 3166-1 alpha-2 of its seat, when it has one.
        country: Option<String>,
        /// Business date.
        on: Date,
    },
    /// Changes the given fields (`None` keeps the field; an identifier or country, once set, can be
    /// replaced but not removed). A no-op update records nothing.
    Update {
        id: String,
        name: Option<String>,
        kind: Option<OrganisationKind>,
        iati_type: Option<String>,
        iati_identifier: Option<String>,
        country: Option<String>,
        /// Business date.
        on: Date,
    },
    /// active -> deactivated: it makes no new offers; the reason is required.
    Deactivate {
        id: String,
        on: Date,
        reason: String,
    },
}

command_fields!(OrganisationCommand by code: Register, Update, Deactivate);

event_enum! {
    pub enum OrganisationEvent {
        OrganisationRegistered {
            id: String,
            name: String,
            kind: OrganisationKind,
            iati_type: String,
            iati_identifier: Option<String>,
            country: Option<String>,
            on: Date,
        },
        /// Only the fields that changed are `Some`.
        OrganisationUpdated {
            id: String,
            name: Option<String>,
            kind: Option<OrganisationKind>,
            iati_type: Option<String>,
            iati_identifier: Option<String>,
            country: Option<String>,
            on: Date,
        },
        OrganisationDeactivated {
            id: String,
            on: Date,
            reason: String,
        },
    }
}

event_fields!(OrganisationEvent:
    OrganisationRegistered, OrganisationUpdated, OrganisationDeactivated,
);

/// An organisation as its events left it; `Default` (status `None`) means it does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrganisationState {
    pub id: String,
    pub status: Option<OrganisationStatus>,
    pub name: String,
    pub kind: Option<OrganisationKind>,
    pub iati_type: String,
    pub iati_identifier: Option<String>,
    pub country: Option<String>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub registered_on: Option<Date>,
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub deactivated_on: Option<Date>,
    /// The business date of the latest change, which the next may not precede.
    #[schemars(schema_with = "crate::schema::date_opt")]
    pub last_on: Option<Date>,
}

/// The decider.
pub struct Organisation;

impl Aggregate for Organisation {
    const NAME: &'static str = "organisation";
    type State = OrganisationState;
    type Command = OrganisationCommand;
    type Event = OrganisationEvent;

    fn decide(
        state: &OrganisationState,
        command: &OrganisationCommand,
    ) -> Result<Vec<OrganisationEvent>, DomainError> {
        use OrganisationCommand as C;
        use OrganisationEvent as E;
        use OrganisationStatus as S;

        if let C::Register {
            id,
            name,
            kind,
            iati_type,
            iati_identifier,
            country,
            on,
        } = command
        {
            if state.status.is_some() {
                return Err(DomainError::already_exists(Self::NAME, id.clone()));
            }
            check_organisation_id("id", id)?;
            let name = trimmed("name", name, MAX_NAME_CHARS)?;
            codes::check_organisation_type("iati_type", iati_type)?;
            if let Some(i) = iati_identifier {
                check_iati_identifier("iati_identifier", i)?;
            }
            if let Some(c) = country {
                codes::check_country("country", c)?;
            }
            return Ok(vec![E::OrganisationRegistered {
                id: id.clone(),
                name,
                kind: *kind,
                iati_type: iati_type.clone(),
                iati_identifier: iati_identifier.clone(),
                country: country.clone(),
                on: *on,
            }]);
        }

        check_target_code(Self::NAME, state.status.is_some(), &state.id, command.id())?;
        let (status, on) = (state.status.unwrap_or(S::Active), command.on());
        check_not_before(state.last_on, on)?;
        match command {
            C::Register { .. } => unreachable!("handled above"),
            C::Update {
                name,
                kind,
                iati_type,
                iati_identifier,
                country,
                ..
            } => {
                if status != S::Active {
                    return Err(DomainError::cannot("update", Self::NAME, status));
                }
                if let Some(n) = name {
                    check_text("name", n, MAX_NAME_CHARS)?;
                }
                if let Some(t) = iati_type {
                    codes::check_organisation_type("iati_type", t)?;
                }
                if let Some(i) = iati_identifier {
                    check_iati_identifier("iati_identifier", i)?;
                }
                if let Some(c) = country {
                    codes::check_country("country", c)?;
                }
                let name = changed_text(name.as_deref(), Some(&state.name));
                let kind = changed_optional(kind.as_ref(), state.kind.as_ref());
                let iati_type = changed(iati_type.as_ref(), &state.iati_type);
                let iati_identifier =
                    changed_optional(iati_identifier.as_ref(), state.iati_identifier.as_ref());
                let country = changed_optional(country.as_ref(), state.country.as_ref());
                if name.is_none()
                    && kind.is_none()
                    && iati_type.is_none()
                    && iati_identifier.is_none()
                    && country.is_none()
                {
                    return Ok(vec![]);
                }
                Ok(vec![E::OrganisationUpdated {
                    id: state.id.clone(),
                    name,
                    kind,
                    iati_type,
                    iati_identifier,
                    country,
                    on,
                }])
            }
            C::Deactivate { reason, .. } => {
                if status != S::Active {
                    return Err(DomainError::cannot("deactivate", Self::NAME, status));
                }
                let reason = required_reason(reason)?;
                let id = state.id.clone();
                Ok(vec![E::OrganisationDeactivated { id, on, reason }])
            }
        }
    }

    fn evolve(mut state: OrganisationState, event: &OrganisationEvent) -> OrganisationState {
        use OrganisationEvent as E;
        match event {
            E::OrganisationRegistered {
                id,
                name,
                kind,
                iati_type,
                iati_identifier,
                country,
                on,
            } => {
                return OrganisationState {
                    id: id.clone(),
                    status: Some(OrganisationStatus::Active),
                    name: name.clone(),
                    kind: Some(*kind),
                    iati_type: iati_type.clone(),
                    iati_identifier: iati_identifier.clone(),
                    country: country.clone(),
                    registered_on: Some(*on),
                    deactivated_on: None,
                    last_on: Some(*on),
                };
            }
            E::OrganisationUpdated {
                name,
                kind,
                iati_type,
                iati_identifier,
                country,
                on,
                ..
            } => {
                amend(&mut state.name, name.as_ref());
                amend_optional(&mut state.kind, kind.as_ref());
                amend(&mut state.iati_type, iati_type.as_ref());
                amend_optional(&mut state.iati_identifier, iati_identifier.as_ref());
                amend_optional(&mut state.country, country.as_ref());
                state.last_on = Some(*on);
            }
            E::OrganisationDeactivated { on, .. } => {
                state.status = Some(OrganisationStatus::Deactivated);
                state.deactivated_on = Some(*on);
                state.last_on = Some(*on);
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::scenario::{
        assert_invalid_edits, assert_kinds_round_trip, assert_moves_need_the_aggregate, edited,
        given,
    };
    use jiff::civil::date;

    const ID: &str = "XM-DAC-41122";

    fn register() -> OrganisationCommand {
        OrganisationCommand::Register {
            id: ID.into(),
            name: " UN Office of Counter-Terrorism ".into(),
            kind: OrganisationKind::UnEntity,
            iati_type: "40".into(),
            iati_identifier: Some("XM-DAC-41122".into()),
            country: Some("US".into()),
            on: date(2025, 9, 1),
        }
    }

    fn registered() -> OrganisationEvent {
        OrganisationEvent::OrganisationRegistered {
            id: ID.into(),
            name: "UN Office of Counter-Terrorism".into(),
            kind: OrganisationKind::UnEntity,
            iati_type: "40".into(),
            iati_identifier: Some("XM-DAC-41122".into()),
            country: Some("US".into()),
            on: date(2025, 9, 1),
        }
    }

    fn deactivated() -> OrganisationEvent {
        OrganisationEvent::OrganisationDeactivated {
            id: ID.into(),
            on: date(2025, 9, 1),
            reason: "merged".into(),
        }
    }

    fn update() -> OrganisationCommand {
        OrganisationCommand::Update {
            id: ID.into(),
            name: None,
            kind: None,
            iati_type: None,
            iati_identifier: None,
            country: None,
            on: date(2025, 12, 31),
        }
    }

    /// The event of an amendment of nothing, after `edit`.
    fn amended(edit: fn(&mut OrganisationEvent)) -> OrganisationEvent {
        let nothing = OrganisationEvent::OrganisationUpdated {
            id: ID.into(),
            name: None,
            kind: None,
            iati_type: None,
            iati_identifier: None,
            country: None,
            on: date(2025, 12, 31),
        };
        edited(nothing, edit)
    }

    fn update_with(edit: fn(&mut OrganisationCommand)) -> OrganisationCommand {
        edited(update(), edit)
    }

    fn deactivate() -> OrganisationCommand {
        OrganisationCommand::Deactivate {
            id: ID.into(),
            on: date(2025, 9, 2),
            reason: "closed down".into(),
        }
    }

    #[test]
    fn register_creates_an_active_organisation() {
        use OrganisationCommand as C;
        let state = given::<Organisation>(&[])
            .when(register())
            .then(&[registered()]);
        assert_eq!(state.status, Some(OrganisationStatus::Active));
        assert_eq!(state.id, ID);
        given::<Organisation>(&[registered()])
            .when(register())
            .then_error(DomainError::already_exists("organisation", ID));
        // Many counter-terrorism actors have no IATI identifier and no seat.
        let c = edited(
            register(),
            edit!(
                C::Register,
                id = "UNOCT".into(),
                iati_identifier = None,
                country = None
            ),
        );
        let state =
            given::<Organisation>(&[])
                .when(c)
                .then(&[OrganisationEvent::OrganisationRegistered {
                    id: "UNOCT".into(),
                    name: "UN Office of Counter-Terrorism".into(),
                    kind: OrganisationKind::UnEntity,
                    iati_type: "40".into(),
                    iati_identifier: None,
                    country: None,
                    on: date(2025, 9, 1),
                }]);
        assert_eq!(state.id, "UNOCT");
    }

    #[test]
    fn moves_need_an_existing_organisation_with_that_id() {
        let elsewhere = OrganisationCommand::Deactivate {
            id: "UNOCT".into(),
            on: date(2025, 9, 2),
            reason: "x".into(),
        };
        assert_moves_need_the_aggregate::<Organisation>(
            &[update(), deactivate()],
            ID,
            &[registered()],
            &[elsewhere],
        );
    }

    #[test]
    fn register_validation_names_the_field() {
        use OrganisationCommand as C;
        assert_invalid_edits::<Organisation>(
            &[],
            register,
            &[
                ("id", edit!(C::Register, id = "X".into())),
                ("id", edit!(C::Register, id = "x".repeat(MAX_ID_CHARS + 1))),
                ("id", edit!(C::Register, id = "UN OCT".into())),
                ("id", edit!(C::Register, id = "UNOCT/1".into())),
                ("name", edit!(C::Register, name = " ".into())),
                (
                    "name",
                    edit!(C::Register, name = "x".repeat(MAX_NAME_CHARS + 1)),
                ),
                ("iati_type", edit!(C::Register, iati_type = "41".into())),
                (
                    "iati_identifier",
                    edit!(C::Register, iati_identifier = Some("XM".into())),
                ),
                (
                    "iati_identifier",
                    edit!(C::Register, iati_identifier = Some("XM DAC 41122".into())),
                ),
                (
                    "iati_identifier",
                    edit!(C::Register, iati_identifier = Some("XMDAC41122".into())),
                ),
                (
                    "iati_identifier",
                    edit!(
                        C::Register,
                        iati_identifier = Some(format!("XM-{}", "1".repeat(98)))
                    ),
                ),
                ("country", edit!(C::Register, country = Some("QQ".into()))),
            ],
        );
    }

    #[test]
    fn ids_and_identifiers() {
        for ok in ["UN", "XM-DAC-41122", "UNOCT", "org_eu-1", &"a".repeat(64)] {
            assert!(check_organisation_id("organisation", ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check_organisation_id("organisation", "é1"),
            Err(DomainError::invalid(
                "organisation",
                "may only hold A-Z, a-z, 0-9, '-' and '_', got 'é'"
            ))
        );
        assert!(check_iati_identifier("iati_identifier", "GB-COH-01234567").is_ok());
        assert!(check_iati_identifier("iati_identifier", "A-1").is_ok());
        assert!(check_iati_identifier("iati_identifier", "A-").is_err());
        assert!(check_iati_identifier("iati_identifier", "GB-COH-0123\t4567").is_err());
    }

    #[test]
    fn update_records_only_what_changed() {
        use OrganisationCommand as C;
        let c = update_with(edit!(
            C::Update,
            name = Some("UN Office of Counter-Terrorism".into()),
            kind = Some(OrganisationKind::InternationalOrganisation),
            iati_type = Some("40".into()),
            country = Some("CH".into())
        ));
        let state = given::<Organisation>(&[registered()])
            .when(c)
            .then(&[amended(edit!(
                OrganisationEvent::OrganisationUpdated,
                kind = Some(OrganisationKind::InternationalOrganisation),
                country = Some("CH".into())
            ))]);
        assert_eq!(
            state.kind,
            Some(OrganisationKind::InternationalOrganisation)
        );
        assert_eq!(state.country.as_deref(), Some("CH"));
        given::<Organisation>(&[registered()])
            .when(update())
            .then(&[]);
        let c = update_with(edit!(
            C::Update,
            name = Some("UNOCT".into()),
            iati_identifier = Some("XM-OCHA-UNOCT".into())
        ));
        let state = given::<Organisation>(&[registered()])
            .when(c)
            .then(&[amended(edit!(
                OrganisationEvent::OrganisationUpdated,
                name = Some("UNOCT".into()),
                iati_identifier = Some("XM-OCHA-UNOCT".into())
            ))]);
        assert_eq!(state.name, "UNOCT");
        assert_eq!(state.iati_type, "40");
    }

    #[test]
    fn update_validation_names_the_field() {
        use OrganisationCommand as C;
        type Edit = fn(&mut OrganisationCommand);
        let cases: Vec<(&str, Edit)> = vec![
            ("name", edit!(C::Update, name = Some(String::new()))),
            ("iati_type", edit!(C::Update, iati_type = Some("x".into()))),
            (
                "iati_identifier",
                edit!(C::Update, iati_identifier = Some("nodash".into())),
            ),
            ("country", edit!(C::Update, country = Some("AN".into()))),
        ];
        for (field, edit) in cases {
            given::<Organisation>(&[registered()])
                .when(update_with(edit))
                .then_invalid(field);
        }
    }

    #[test]
    fn every_status_and_move() {
        use OrganisationCommand as C;
        // Active: both moves allowed.
        let state = given::<Organisation>(&[registered()])
            .when(deactivate())
            .then(&[OrganisationEvent::OrganisationDeactivated {
                id: ID.into(),
                on: date(2025, 9, 2),
                reason: "closed down".into(),
            }]);
        assert_eq!(state.status, Some(OrganisationStatus::Deactivated));
        assert_eq!(state.deactivated_on, Some(date(2025, 9, 2)));
        given::<Organisation>(&[registered()])
            .when(update_with(edit!(
                C::Update,
                kind = Some(OrganisationKind::Academia)
            )))
            .then(&[amended(edit!(
                OrganisationEvent::OrganisationUpdated,
                kind = Some(OrganisationKind::Academia)
            ))]);
        // Deactivated: nothing.
        given::<Organisation>(&[registered(), deactivated()])
            .when(update())
            .then_error(DomainError::cannot("update", "organisation", "deactivated"));
        given::<Organisation>(&[registered(), deactivated()])
            .when(deactivate())
            .then_error(DomainError::cannot(
                "deactivate",
                "organisation",
                "deactivated",
            ));
        // The reason is required.
        given::<Organisation>(&[registered()])
            .when(OrganisationCommand::Deactivate {
                id: ID.into(),
                on: date(2025, 9, 2),
                reason: " ".into(),
            })
            .then_invalid("reason");
    }

    #[test]
    fn event_kinds_match_their_serde_tags_and_round_trip() {
        let events = vec![
            registered(),
            amended(edit!(
                OrganisationEvent::OrganisationUpdated,
                name = Some("n".into())
            )),
            deactivated(),
        ];
        assert_kinds_round_trip(&events, OrganisationEvent::KINDS);
        assert_eq!(OrganisationKind::ALL.len(), 8, "the kinds DESIGN lists");
        assert_eq!(OrganisationKind::UnEntity.to_string(), "un_entity");
    }
}
