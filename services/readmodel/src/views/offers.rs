//! The registry of organisations, offers with what is left of them, and a donor's portfolio.

use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_contract::answers::{MoneyByStatus, OfferView, Portfolio, ProjectRow};
use tatrack_domain::need::Units;
use tatrack_domain::offer::{self, OfferState};
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::project::{ProjectState, late_milestones};
use tatrack_domain::referral::ReferralState;
use tatrack_domain::{Money, Role};

use super::{Answer, Query, to_value};
use crate::visibility;

/// `organisation_list`, `organisation_show`: the registry is public to every caller.
pub(crate) fn organisations(q: &Query) -> Result<Answer, ErrorBody> {
    let out: Vec<OrganisationState> = q
        .pick::<OrganisationState>("partners", "organisation")?
        .iter()
        .filter(|o| q.id_ok(&o.id) && q.status_ok(o.status))
        .cloned()
        .collect();
    q.one_or_all(out)
}

/// `offer_list`, `offer_show`: staff and auditors see all, a donor its organisation's, and a
/// State's focal point the offers referred to its country's needs, for the life of the referrals
/// (it accepts them as the State), reduced to what those referrals ask of them.
pub(crate) fn offers(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    // A State's focal point: the open referrals of its country's needs, by offer.
    let referred: Vec<ReferralState> = if p.role == Role::StateFocalPoint {
        q.views
            .scan::<ReferralState>("projects", "referral")?
            .iter()
            .filter(|r| visibility::sees_referral(p, r) && r.is_open())
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for state in q.pick::<OfferState>("partners", "offer")?.iter() {
        let shares: Vec<&ReferralState> =
            referred.iter().filter(|r| r.offer_id == state.id).collect();
        let whole = p.may_see_organisation(&state.organisation);
        if (whole || !shares.is_empty())
            && q.id_ok(&state.id)
            && f.organisation
                .as_ref()
                .is_none_or(|o| *o == state.organisation)
            && f.theme.as_ref().is_none_or(|t| state.themes.contains(t))
            && f.member_state
                .as_ref()
                .is_none_or(|m| state.countries.contains(m))
            && q.status_ok(state.status)
        {
            if whole {
                let (remaining_money, remaining_units) = offer::remaining(state);
                out.push(OfferView {
                    state: state.clone(),
                    remaining_money,
                    remaining_units,
                });
            } else {
                out.push(referred_share(state, &shares));
            }
        }
    }
    q.one_or_all(out)
}

/// What a State's focal point sees of an offer referred to its needs: what it is and who makes
/// it, with the money and units of its referrals in place of the donor's whole budget and
/// capacity, and nothing of what the donor committed elsewhere.
fn referred_share(state: &OfferState, shares: &[&ReferralState]) -> OfferView {
    let mut money: Option<Money> = None;
    let mut units: Option<u64> = None;
    for share in shares {
        if let Some(m) = &share.share_money {
            money = Some(match money {
                None => m.clone(),
                Some(total) => total.checked_add(m).unwrap_or(total),
            });
        }
        if let Some(u) = share.share_units {
            units = Some(units.unwrap_or(0).saturating_add(u));
        }
    }
    OfferView {
        state: OfferState {
            budget: money,
            capacity: state.capacity.as_ref().and(units).map(|quantity| Units {
                measure: state
                    .capacity
                    .as_ref()
                    .map(|c| c.measure.clone())
                    .unwrap_or_default(),
                quantity,
            }),
            committed_money: None,
            committed_units: None,
            ..state.clone()
        },
        remaining_money: None,
        remaining_units: None,
    }
}

/// `portfolio_show`: a donor's offers, referrals and projects, and money by status.
pub(crate) fn portfolio(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let f = q.filters;
    // A donor's portfolio: its offers, referrals and projects, and money by status.
    let organisation = match (&p.organisation, &f.organisation) {
        (_, Some(o)) if p.may_see_organisation(o) => o.clone(),
        (Some(own), None) => own.clone(),
        (_, Some(o)) => {
            return Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!("portfolio {o} not found"),
            ));
        }
        (None, None) => return Err(ErrorBody::invalid("organisation", "is required")),
    };
    // An organisation the registry does not hold has no portfolio (not an empty one).
    let registered =
        q.views
            .pick::<OrganisationState>("partners", "organisation", Some(&organisation))?;
    if registered.iter().next().is_none() {
        return Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!("portfolio {organisation} not found"),
        ));
    }
    let offers = q
        .views
        .select::<OfferState>("partners", "offer", |o| o.organisation == organisation)?;
    let referrals = q
        .views
        .select::<ReferralState>("projects", "referral", |r| r.organisation == organisation)?;
    let projects = q
        .views
        .select::<ProjectState>("projects", "project", |pr| {
            pr.participating
                .iter()
                .any(|x| x.organisation == organisation)
        })?;
    let mut money = MoneyByStatus::default();
    for pr in &projects {
        for (totals, into) in [
            (&pr.pledged, &mut money.pledged),
            (&pr.committed, &mut money.committed),
            (&pr.disbursed, &mut money.disbursed),
            (&pr.expended, &mut money.expended),
        ] {
            for (currency, amount) in totals.iter() {
                *into.entry(currency.to_owned()).or_insert(0) += amount;
            }
        }
    }
    let projects = projects
        .into_iter()
        .map(|pr| ProjectRow {
            late_milestones: late_milestones(&pr, q.day).len(),
            id: pr.id,
            iati_identifier: pr.iati_identifier,
            title: pr.title,
            recipient_country: pr.recipient_country,
            theme: pr.theme,
            status: pr.status.map(|s| s.as_str().to_owned()),
            budget: pr.budget,
            pledged: pr.pledged,
            committed: pr.committed,
            disbursed: pr.disbursed,
            expended: pr.expended,
        })
        .collect();
    to_value(Portfolio {
        organisation,
        offers,
        referrals,
        projects,
        money,
    })
}
