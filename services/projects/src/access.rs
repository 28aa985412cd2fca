//! Who may do what with referrals, projects and progress reports (DESIGN §1 and issue 3):
//! coordinators do everything except act for a State or a partner; a partner accepts or declines
//! referrals made to it and reports on projects it takes part in; a State focal point accepts or
//! declines referrals for its own country and reports on its own projects.

use tatrack_bus::rpc::ErrorBody;
use tatrack_domain::progress::ProgressReportCommand;
use tatrack_domain::project::{ProjectCommand, ProjectState};
use tatrack_domain::referral::{ReferralCommand, ReferralState};
use tatrack_domain::{DomainError, Principal};

fn forbidden(reason: &str) -> ErrorBody {
    ErrorBody::from(DomainError::Forbidden {
        reason: reason.to_owned(),
    })
}

pub(crate) fn referral(
    principal: &Principal,
    command: &ReferralCommand,
    state: &ReferralState,
) -> Result<(), ErrorBody> {
    use ReferralCommand as C;
    match command {
        C::AcceptByPartner { .. } | C::DeclineByPartner { .. } => {
            if principal.acts_for(&state.organisation) {
                Ok(())
            } else {
                // No names: the refusal must not tell who a referral is made to (or whether it
                // exists).
                Err(forbidden(
                    "only the organisation it is made to may accept or decline this referral as the partner",
                ))
            }
        }
        C::AcceptByState { .. } | C::DeclineByState { .. } => {
            if principal.acts_for_state(&state.member_state) {
                Ok(())
            } else {
                Err(forbidden(
                    "only the State's focal point may accept or decline this referral as the State",
                ))
            }
        }
        _ if principal.is_staff() => Ok(()),
        _ => Err(forbidden(
            "only coordinators propose, refer, activate or lapse referrals",
        )),
    }
}

pub(crate) fn project(
    principal: &Principal,
    command: &ProjectCommand,
    state: &ProjectState,
) -> Result<(), ErrorBody> {
    use ProjectCommand as C;
    if principal.is_staff() {
        return Ok(());
    }
    match command {
        // Money: an organisation records only what it provides itself (a donor its pledges,
        // commitments and disbursements, an implementer what it spends); a coordinator records
        // it on another's behalf, and the event says who recorded it.
        C::AddTransaction { provider, .. } if principal.takes_part_in(state) => {
            if provider.is_some() && provider.as_deref() == principal.organisation.as_deref() {
                Ok(())
            } else {
                Err(forbidden(
                    "an organisation records only the transactions it provides itself; a coordinator records others' on their behalf",
                ))
            }
        }
        // Reporting on results: the participants and the State.
        C::RecordIndicatorActual { .. }
            if principal.takes_part_in(state)
                || principal.acts_for_state(&state.recipient_country) =>
        {
            Ok(())
        }
        C::AddDocument { .. } if principal.takes_part_in(state) => Ok(()),
        // The project's shape (budget, status, milestones, results, referrals) is the
        // coordinators'.
        _ => Err(forbidden(
            "only coordinators change a project's budget, status, milestones and results",
        )),
    }
}

pub(crate) fn progress_report(
    principal: &Principal,
    command: &ProgressReportCommand,
    project: &ProjectState,
) -> Result<(), ErrorBody> {
    use ProgressReportCommand as C;
    match command {
        C::Validate { .. } | C::Return { .. } if principal.is_staff() => Ok(()),
        C::Validate { .. } | C::Return { .. } => Err(forbidden(
            "only coordinators validate or return progress reports",
        )),
        _ if principal.is_staff()
            || principal.takes_part_in(project)
            || principal.acts_for_state(&project.recipient_country) =>
        {
            Ok(())
        }
        _ => Err(forbidden(
            "only the project's partners, its State or coordinators report progress on it",
        )),
    }
}

pub(crate) fn rate_table(principal: &Principal) -> Result<(), ErrorBody> {
    if principal.is_staff() {
        Ok(())
    } else {
        Err(forbidden("only coordinators record exchange rates"))
    }
}
