//! The views answered over NATS, one verb each (`tatrack.qry.<view>`), and the dispatcher that
//! routes a request to its view family (`views::*`, `matching`, `allocation`, `changes`). Every
//! request may carry `min_position` (a position of the stream that owns the view) or
//! `min_positions` (per service): the answer then waits (bounded) until the projection has applied
//! it, so a caller reads its own writes. Unknown parameters are refused by name; what the caller
//! may not see is not found.

use tatrack_bus::rpc::{ErrorBody, ErrorCode, Incoming};
use tatrack_domain::Role;
use tatrack_eventlog::Clock;

use crate::asof::AsOf;
use crate::cache::Views;
use crate::params::{Filters, check_filters, point_in_time};
use crate::views::{self, Answer, Query, to_value};
use crate::visibility::Consent;

/// Every view's name on the bus, as the contract lists them.
pub fn views() -> Vec<&'static str> {
    tatrack_contract::bus::View::ALL
        .iter()
        .map(|v| v.as_str())
        .collect()
}

/// The service whose stream a view reads.
fn owner(view: &str) -> &'static str {
    match view.split('_').next() {
        Some("organisation" | "offer" | "token" | "account") => "partners",
        Some("referral" | "project" | "progress" | "rate" | "portfolio") => "projects",
        _ => "assessments",
    }
}

/// Waits (bounded) until `views` have applied the caller's `min_position` / `min_positions`.
async fn wait_for_positions(views: &Views, verb: &str, filters: &Filters) -> Result<(), ErrorBody> {
    if let Some(min) = filters.min_position {
        views.wait_for(owner(verb), min).await?;
    }
    for (service, min) in filters.min_positions.iter().flatten() {
        if views.entry(service).is_err() {
            return Err(ErrorBody::invalid(
                "min_positions",
                &format!("unknown service {service}"),
            ));
        }
        views.wait_for(service, *min).await?;
    }
    Ok(())
}

pub(crate) async fn handle(
    live: &Views,
    as_of: &AsOf,
    clock: &Clock,
    incoming: Incoming,
) -> Result<Answer, ErrorBody> {
    let filters: Filters = if incoming.payload.is_empty() {
        Filters::default()
    } else {
        incoming.body()?
    };
    check_filters(&incoming.verb, &filters)?;
    if filters.consent.is_some() && incoming.meta.principal.role == Role::Donor {
        // Whom else a need is shared with is the State's business, not another donor's.
        return Err(ErrorBody {
            field: Some("consent".into()),
            ..ErrorBody::new(
                ErrorCode::Forbidden,
                "a donor sees only the needs shared with it: the consent filter is not for donors",
            )
        });
    }
    let (point, day) = point_in_time(live, as_of, clock, &filters)?;
    if incoming.verb == "principal_show" {
        // Who the caller is, as the gateway asserted it from the token: what a client shows
        // after signing in, and the organisation a donor's own portfolio is of. (After the
        // point in time is read: a day or time in the future is refused here as everywhere.)
        return to_value(&incoming.meta.principal);
    }
    if incoming.verb == "position_show" {
        // Read-your-writes here too: where the read model stands includes the caller's own
        // writes (a report's positions are taken from this answer).
        wait_for_positions(live, &incoming.verb, &filters).await?;
        let positions = match (&point, &filters.known_at) {
            (Some(point), Some(_)) => point.known.clone(),
            _ => live.applied(),
        };
        return views::system::positions(&positions, as_of);
    }
    let past;
    let views = match &point {
        Some(point) => {
            past = as_of.views(point).await?;
            &past
        }
        None => live,
    };
    wait_for_positions(views, &incoming.verb, &filters).await?;
    if incoming.verb == "change_list" {
        return crate::changes::change_list(
            live,
            as_of,
            &incoming.meta.principal,
            &filters.report_id,
            clock.today(),
        )
        .await
        .and_then(to_value);
    }
    // Who may see what is decided by the grants in force today (the clock's), read from the
    // live views whatever point in time the answer is for: a date the caller sends picks
    // which state to show, never widens who may see it. `day` is what clocks, late milestones
    // and matching count from.
    let today = clock.today();
    let consent = Consent::new(live, today, &incoming.meta.principal)?;
    let q = Query {
        verb: &incoming.verb,
        filters: &filters,
        principal: &incoming.meta.principal,
        views,
        live,
        consent: &consent,
        day,
        today,
        point: point.as_ref(),
    };
    answer(&q)
}

/// The answer of the view `q.verb`.
pub(crate) fn answer(q: &Query) -> Result<Answer, ErrorBody> {
    let (p, f, views, consent, day) = (q.principal, q.filters, q.views, q.consent, q.day);
    match q.verb {
        "assessment_list" | "assessment_show" => views::assessments::assessments(q),
        "recommendation_list" => views::assessments::recommendations(q),
        "recommendation_rate_list" => views::assessments::rates(q),
        "need_list" | "need_show" | "unmet_need_list" => views::needs::needs(q),
        "need_history" => views::needs::history(q),
        "overview_show" => views::overview::overview(q),
        "stream_version_show" => views::versions::stream_version(q),
        "sharing_grant_list" => views::sharing::grants(q),
        "organisation_list" | "organisation_show" => views::offers::organisations(q),
        "offer_list" | "offer_show" => views::offers::offers(q),
        "portfolio_show" => views::offers::portfolio(q),
        "referral_list" | "referral_show" => views::projects::referrals(q),
        "project_list" | "project_show" => views::projects::projects(q),
        "progress_report_list" => views::projects::progress_reports(q),
        "rate_table_show" => views::projects::rate_tables(q),
        "token_list" => views::system::tokens(q),
        "account_list" => views::system::accounts(q),
        "report_list" | "report_show" => views::system::reports(q),
        "need_match_list" => crate::matching::need_match_list(
            views,
            p,
            consent,
            day,
            f.need_id,
            f.include_ineligible.as_ref(),
            f.language.as_deref(),
        )
        .and_then(to_value),
        "offer_match_list" => crate::matching::offer_match_list(
            views,
            p,
            consent,
            day,
            f.offer_id,
            f.include_ineligible.as_ref(),
            f.language.as_deref(),
        )
        .and_then(to_value),
        "allocation_proposal" => crate::allocation::allocation_proposal(
            views,
            p,
            consent,
            day,
            f.member_state.as_deref(),
            f.theme.as_deref(),
        )
        .and_then(to_value),
        "overlap_list" => {
            let rows = crate::matching::overlap_list(
                views,
                p,
                f.member_state.as_deref(),
                f.id.as_deref(),
            )?;
            to_value(q.page(rows))
        }
        _ => Err(ErrorBody::invalid("view", "unknown view")),
    }
}
