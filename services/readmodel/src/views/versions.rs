//! `stream_version_show`: how many events one object's stream holds at the answer's point in
//! time, the version a command's `If-Match` names. The console puts it in the forms that change
//! an object, so a form sent after someone else changed the object is refused as stale rather
//! than applied over a state its sender never saw. Read from the history index, which the read
//! model writes in the same transaction as the state it shows, so the version and the state on
//! one page always agree.

use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_contract::answers::StreamVersion;

use super::{Answer, Query, to_value};
use crate::history;
use crate::params::Filters;

/// The service that records an aggregate, and the view that decides who may see one of them.
fn owner(aggregate: &str) -> Option<(&'static str, &'static str)> {
    Some(match aggregate {
        "need" => ("assessments", "need_show"),
        "assessment" => ("assessments", "assessment_show"),
        "sharing_grant" => ("assessments", "sharing_grant_list"),
        "organisation" => ("partners", "organisation_show"),
        "offer" => ("partners", "offer_show"),
        "account" => ("partners", "account_list"),
        "token" => ("partners", "token_list"),
        "referral" => ("projects", "referral_show"),
        "project" => ("projects", "project_show"),
        "progress_report" => ("projects", "progress_report_list"),
        _ => return None,
    })
}

pub(crate) fn stream_version(q: &Query) -> Result<Answer, ErrorBody> {
    let Some(stream) = q.filters.id.as_deref() else {
        return Err(ErrorBody::invalid("id", "is required"));
    };
    // `<aggregate>-<id>`: aggregate names hold no '-', ids may (`DONOR-A`, UUIDs).
    let Some(((service, view), id)) = stream
        .split_once('-')
        .and_then(|(aggregate, id)| owner(aggregate).map(|o| (o, id)))
    else {
        return Err(ErrorBody::invalid(
            "id",
            &format!("{stream:?} is not the stream of an object, like offer-<id>"),
        ));
    };
    // Seen exactly when the object's own view shows it to the caller, else the same not found.
    let only = Filters {
        id: Some(id.to_owned()),
        ..Filters::default()
    };
    let shown = crate::queries::answer(&Query {
        verb: view,
        filters: &only,
        ..*q
    });
    if !shown.is_ok_and(|answer| answer.get() != "[]") {
        return Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!("{stream} not found"),
        ));
    }
    let (_, tree, ..) = q.live.entry(service)?;
    let known = q.point.map_or(u64::MAX, |point| {
        point.known.get(service).copied().unwrap_or(0)
    });
    let events = history::read(tree, stream).map_err(|e| {
        tracing::error!(stream, error = %e, "read model holds an undecodable history");
        ErrorBody::internal()
    })?;
    let version = events.iter().filter(|e| e.position <= known).count() as u64;
    to_value(StreamVersion {
        stream: stream.to_owned(),
        version,
    })
}
