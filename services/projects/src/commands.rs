//! Command handling for referrals, projects, progress reports and exchange rates, with the
//! checks the view of the other services allows: a referral only for a need agreed with the
//! State and shared with the offering organisation, an open offer that covers the need's theme,
//! country and modality and still has the capacity; money in another currency only with a rate.

use tatrack_bus::rpc::{ErrorBody, Incoming, RequestMeta};
use tatrack_bus::service::{execute, load, lock, not_found, split_verb, to_json};
use tatrack_contract::commands::{
    progress, project, rates as rate_table, referral as referral_body,
};
use tatrack_domain::aggregate::Dated;
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::{self, OfferState};
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::progress::{ProgressReport, ProgressReportCommand};
use tatrack_domain::project::{Project, ProjectCommand, ProjectState};
use tatrack_domain::rates::{self, RateTable, RateTableCommand, RateTableState};
use tatrack_domain::referral::{self, Referral, ReferralCommand, ReferralState};
use tatrack_domain::sharing::SharingGrantState;
use tatrack_domain::{Aggregate, Money};
use tatrack_eventlog::Store;
use uuid::Uuid;

use crate::view::View;
use crate::{access, coverage};

/// The one exchange-rate table every conversion uses (recorded with `rate_table_record`).
pub const RATE_TABLE_ID: Uuid = rates::TABLE_ID;

/// Turns an activation's command id into its project join's (the low bits of a v7 UUID are
/// random, so flipping some keeps it unique).
const JOIN_COMMAND_MASK: u128 = 0x0000_0000_0000_0000_0000_6a6f_696e_0001;

#[derive(Clone)]
pub(crate) struct Context {
    pub view: View,
    pub nats: async_nats::Client,
}

pub(crate) async fn handle(
    store: &Store,
    context: &Context,
    incoming: Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    let (aggregate, command) = split_verb(
        &incoming.verb,
        &[
            Referral::NAME,
            Project::NAME,
            ProgressReport::NAME,
            RateTable::NAME,
        ],
    )?;
    let meta = &incoming.meta;
    let principal = &meta.principal;
    let body = incoming.json()?;
    let today = store.clock().today();
    let reply = match aggregate {
        "referral" => {
            let mut command = referral_body::decode(command, body, today)?;
            let id = command.id();
            let (state, _) = load::<Referral>(store, &id)?;
            // One writer per offer decides its capacity, and one per need and offer its
            // referrals: the checks below and the write that follows them see each other.
            let offer_id = match &command {
                ReferralCommand::Propose { offer_id, .. } => *offer_id,
                _ => state.offer_id,
            };
            let _capacity = lock(store, &format!("capacity/{offer_id}")).await;
            // Authorise first, on the referral as it is: whatever the checks below would say
            // about a need, an offer or a project is not the business of a caller that may not
            // issue the command.
            access::referral(principal, &command, &state)?;
            match &mut command {
                ReferralCommand::Propose { .. } => {
                    check_proposal(store, context, &mut command).await?;
                }
                ReferralCommand::AcceptByState { .. } => {
                    // The offer may have been committed to others since the proposal.
                    check_capacity(store, context, &state, command.on()).await?;
                }
                ReferralCommand::Activate { project_id, .. } => {
                    let (project, _) = load::<Project>(store, project_id)?;
                    if project.status.is_none() {
                        return Err(ErrorBody::invalid(
                            "project_id",
                            &format!("project {project_id} does not exist"),
                        ));
                    }
                    if project.recipient_country != state.member_state {
                        return Err(ErrorBody::invalid(
                            "project_id",
                            &format!(
                                "project {project_id} is for {}, the referral's need is in {}",
                                project.recipient_country, state.member_state
                            ),
                        ));
                    }
                }
                _ => {}
            }
            let reply = execute::<Referral>(store, &id, &command, meta, |s| {
                access::referral(principal, &command, s)
            })
            .await?;
            let (after, _) = load::<Referral>(store, &id)?;
            if let ReferralCommand::Activate { project_id, .. } = &command {
                // An active referral joins its project (idempotent: joining twice adds nothing).
                let join = ProjectCommand::JoinReferral {
                    id: *project_id,
                    referral_id: id,
                    need_id: after.need_id,
                    on: command.on(),
                };
                // Its own command id, derived from the activation's, so a retried activation
                // joins once and the join is not mistaken for the activation's repeat.
                let join_meta = RequestMeta {
                    command_id: meta
                        .command_id
                        .map(|c| Uuid::from_u128(c.as_u128() ^ JOIN_COMMAND_MASK)),
                    ..meta.clone()
                };
                execute::<Project>(store, project_id, &join, &join_meta, |_| Ok(())).await?;
            }
            if after.counts_as_accepted() || matches!(command, ReferralCommand::Lapse { .. }) {
                coverage::sync_one(store, context, after.need_id, after.offer_id, command.on())
                    .await;
            }
            reply
        }
        "project" => {
            let command = project::decode(command, body, today)?;
            let id = command.id();
            if let ProjectCommand::Create {
                recipient_country,
                needs,
                participating,
                ..
            } = &command
            {
                // Authorise first (see the referrals above): only a creation looks at other
                // objects before `execute`, which authorises every command on the loaded state.
                access::project(principal, &command, &ProjectState::default())?;
                context.view.catch_up("assessments").await?;
                context.view.catch_up("partners").await?;
                for need_id in needs {
                    let need: Option<NeedState> =
                        context
                            .view
                            .get("assessments", "need", &need_id.to_string())?;
                    match need.filter(|n| n.status.is_some()) {
                        None => {
                            return Err(ErrorBody::invalid(
                                "needs",
                                &format!("need {need_id} does not exist"),
                            ));
                        }
                        Some(n) if &n.member_state != recipient_country => {
                            return Err(ErrorBody::invalid(
                                "needs",
                                &format!(
                                    "need {need_id} is in {}, not {recipient_country}",
                                    n.member_state
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                }
                for p in participating {
                    let org: Option<OrganisationState> =
                        context
                            .view
                            .get("partners", "organisation", &p.organisation)?;
                    if org.is_none_or(|o| o.status.is_none()) {
                        return Err(ErrorBody::invalid(
                            "participating",
                            &format!("organisation {} is not registered", p.organisation),
                        ));
                    }
                }
            }
            execute::<Project>(store, &id, &command, meta, |s| {
                access::project(principal, &command, s)
            })
            .await?
        }
        "progress_report" => {
            let command = progress::decode(command, body, today)?;
            let id = command.id();
            let project_id = match &command {
                ProgressReportCommand::Draft { project_id, .. } => *project_id,
                _ => load::<ProgressReport>(store, &id)?.0.project_id,
            };
            let (project, _) = load::<Project>(store, &project_id)?;
            // Authorise first: a caller with no part in the project learns nothing of it, not
            // even whether it exists or which indicators it has.
            access::progress_report(principal, &command, &project)?;
            if project.status.is_none() {
                return Err(ErrorBody::invalid(
                    "project_id",
                    &format!("project {project_id} does not exist"),
                ));
            }
            if let ProgressReportCommand::Draft { actuals, .. }
            | ProgressReportCommand::Revise {
                actuals: Some(actuals),
                ..
            } = &command
            {
                for actual in actuals {
                    let known = project.results.iter().any(|r| {
                        r.result_id == actual.result_id
                            && r.indicators
                                .iter()
                                .any(|i| i.def.indicator_id == actual.indicator_id)
                    });
                    if !known {
                        return Err(ErrorBody::invalid(
                            "actuals",
                            &format!(
                                "indicator {} of result {} is not in project {project_id}",
                                actual.indicator_id, actual.result_id
                            ),
                        ));
                    }
                }
            }
            execute::<ProgressReport>(store, &id, &command, meta, |_| {
                access::progress_report(principal, &command, &project)
            })
            .await?
        }
        _ => {
            let command = rate_table::decode(command, body, today)?;
            let RateTableCommand::Record { id, .. } = &command;
            execute::<RateTable>(store, id, &command, meta, |_| access::rate_table(principal))
                .await?
        }
    };
    to_json(&reply)
}

/// The exchange-rate table (empty when none was recorded).
pub(crate) fn rate_table(store: &Store) -> Result<RateTableState, ErrorBody> {
    Ok(load::<RateTable>(store, &RATE_TABLE_ID)?.0)
}

/// `money` in `currency`, converted with the rates in force on `on` when the currencies differ.
pub(crate) fn in_currency(
    store: &Store,
    money: &Money,
    currency: &str,
    field: &str,
    on: jiff::civil::Date,
) -> Result<Money, ErrorBody> {
    if money.currency == currency {
        return Ok(money.clone());
    }
    rates::convert(money, currency, &rate_table(store)?, on).map_err(|_| {
        ErrorBody::invalid(
            field,
            &format!(
                "no {}→{currency} rate recorded on or before {on}: record one with tatrack rates record",
                money.currency
            ),
        )
    })
}

async fn check_proposal(
    store: &Store,
    context: &Context,
    command: &mut ReferralCommand,
) -> Result<(), ErrorBody> {
    let on = command.on();
    let ReferralCommand::Propose {
        need_id,
        offer_id,
        member_state,
        organisation,
        share_money,
        share_units,
        ..
    } = command
    else {
        return Ok(());
    };
    context.view.catch_up("assessments").await?;
    context.view.catch_up("partners").await?;
    let need: NeedState = context
        .view
        .get("assessments", "need", &need_id.to_string())?
        .filter(|n: &NeedState| n.status.is_some())
        .ok_or_else(|| not_found("need", need_id))?;
    let offer: OfferState = context
        .view
        .get("partners", "offer", &offer_id.to_string())?
        .filter(|o: &OfferState| o.status.is_some())
        .ok_or_else(|| not_found("offer", offer_id))?;
    // The need's State and the offer's organisation, whatever the caller sent.
    member_state.clone_from(&need.member_state);
    organisation.clone_from(&offer.organisation);
    // The rule matching ranks by: no open referral of the pair (from this service's own log),
    // the need agreed and shared with the offer's organisation as things stood on the
    // proposal's business date, and the offer covering it.
    let grants: Vec<SharingGrantState> = context.view.scan("assessments", "sharing_grant")?;
    if let Some(refusal) = referral::refusals(&need, &offer, &grants, &referrals(store)?, on)
        .into_iter()
        .next()
    {
        return Err(ErrorBody::invalid(&refusal.field, &refusal.reason));
    }
    let proposal = ReferralState {
        offer_id: *offer_id,
        share_money: share_money.clone(),
        share_units: *share_units,
        ..ReferralState::default()
    };
    if let Some(money) = share_money {
        if let Some(estimate) = &need.estimated_cost {
            in_currency(store, money, &estimate.currency, "share_money", on)?;
        }
    }
    capacity_left(store, &offer, &proposal, on)
}

async fn check_capacity(
    store: &Store,
    context: &Context,
    referral: &ReferralState,
    on: jiff::civil::Date,
) -> Result<(), ErrorBody> {
    context.view.catch_up("partners").await?;
    let offer: OfferState = context
        .view
        .get("partners", "offer", &referral.offer_id.to_string())?
        .ok_or_else(|| not_found("offer", &referral.offer_id))?;
    capacity_left(store, &offer, referral, on)
}

/// The offer's remaining money and units hold the referral's share. What is committed is
/// counted here, from this service's own accepted referrals (under the offer's lock), never
/// from the offer's commitment as the partners service last recorded it, which lags behind.
fn capacity_left(
    store: &Store,
    offer: &OfferState,
    referral: &ReferralState,
    on: jiff::civil::Date,
) -> Result<(), ErrorBody> {
    let currency = offer.budget.as_ref().map(|b| b.currency.clone());
    let (committed_money, committed_units) =
        coverage::accepted_totals(store, currency.as_deref(), |r| {
            r.offer_id == offer.id && r.id != referral.id
        })
        .map_err(|e| ErrorBody::invalid("share_money", &e))?;
    let counted = OfferState {
        committed_money,
        committed_units,
        ..offer.clone()
    };
    let (money_left, units_left) = offer::remaining(&counted);
    if let Some(share) = &referral.share_money {
        match &money_left {
            Some(left) => {
                let share = in_currency(store, share, &left.currency, "share_money", on)?;
                if share.amount_minor > left.amount_minor {
                    return Err(ErrorBody::invalid(
                        "share_money",
                        &format!("the offer has {left} left, less than {share}"),
                    ));
                }
            }
            None => {
                return Err(ErrorBody::invalid(
                    "share_money",
                    "the offer has no budget to share",
                ));
            }
        }
    }
    if let Some(share) = referral.share_units {
        match units_left {
            Some(left) if share <= left => {}
            Some(left) => {
                return Err(ErrorBody::invalid(
                    "share_units",
                    &format!("the offer has {left} units left, less than {share}"),
                ));
            }
            None => {
                return Err(ErrorBody::invalid(
                    "share_units",
                    "the offer has no capacity in units",
                ));
            }
        }
    }
    Ok(())
}

/// Every referral in the log.
pub(crate) fn referrals(store: &Store) -> Result<Vec<ReferralState>, ErrorBody> {
    let mut out = Vec::new();
    for stream in store
        .streams_with_prefix("referral-")
        .map_err(tatrack_bus::service::log_error)?
    {
        if let Some(id) = stream
            .strip_prefix("referral-")
            .and_then(|id| id.parse::<Uuid>().ok())
        {
            out.push(load::<Referral>(store, &id)?.0);
        }
    }
    Ok(out)
}
