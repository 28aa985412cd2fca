//! The views answered over NATS, one verb each (`tatrack.qry.<view>`). Every request may carry
//! `min_position`: the answer then waits (bounded) until the projection has applied it, so a
//! caller reads its own writes. Unknown parameters are refused by name.

use std::time::Duration;

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tatrack_bus::rpc::{ErrorBody, ErrorCode, Incoming};
use tatrack_domain::assessment::{AssessmentState, Clocks, clocks};
use tatrack_domain::need::NeedState;
use tatrack_domain::recommendation::RecommendationState;
use tatrack_domain::sharing::SharingGrantState;
use uuid::Uuid;

use crate::projection::key;
use crate::visibility;

pub const VIEWS: &[&str] = &[
    "assessment_list",
    "assessment_show",
    "recommendation_list",
    "need_list",
    "need_show",
    "sharing_grant_list",
];

/// Longest wait for `min_position` before a timeout error.
const READ_YOUR_WRITES_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub(crate) struct Views {
    pub tree: sled::Tree,
    pub applied: tokio::sync::watch::Receiver<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filters {
    min_position: Option<u64>,
    id: Option<Uuid>,
    member_state: Option<String>,
    assessment_id: Option<Uuid>,
    theme: Option<String>,
    status: Option<String>,
    priority: Option<u8>,
    /// Case-insensitive words that must appear in the description or beneficiary.
    text: Option<String>,
    /// The day clocks are computed for (default: today).
    today: Option<Date>,
}

#[derive(Serialize)]
struct AssessmentView {
    #[serde(flatten)]
    state: AssessmentState,
    clocks: Clocks,
}

pub(crate) async fn handle(
    views: &Views,
    incoming: Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    let filters: Filters = if incoming.payload.is_empty() {
        Filters::default()
    } else {
        incoming.body()?
    };
    if let Some(min) = filters.min_position {
        let mut applied = views.applied.clone();
        match tokio::time::timeout(READ_YOUR_WRITES_WAIT, applied.wait_for(|p| *p >= min)).await {
            Ok(Ok(_)) => {}
            _ => {
                return Err(ErrorBody {
                    field: Some("min_position".into()),
                    ..ErrorBody::new(
                        ErrorCode::Timeout,
                        format!("the read model has not reached position {min} yet"),
                    )
                });
            }
        }
    }
    let principal = &incoming.meta.principal;
    let today = filters
        .today
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let status_ok = |status: Option<String>| {
        filters
            .status
            .as_ref()
            .is_none_or(|s| status.as_ref() == Some(s))
    };
    let value = match incoming.verb.as_str() {
        "assessment_list" | "assessment_show" => {
            let mut out = Vec::new();
            for state in scan::<AssessmentState>(&views.tree, "assessment")? {
                if !visibility::sees_country(principal, &state.member_state)
                    || filters.id.is_some_and(|id| id != state.id)
                    || filters
                        .member_state
                        .as_ref()
                        .is_some_and(|m| *m != state.member_state)
                    || !status_ok(state.status.map(|s| s.to_string()))
                {
                    continue;
                }
                let clocks = clocks(&state, today);
                out.push(AssessmentView { state, clocks });
            }
            one_or_all(&incoming.verb, "assessment", filters.id, out)?
        }
        "recommendation_list" => {
            let mut out = Vec::new();
            for mut state in scan::<RecommendationState>(&views.tree, "recommendation")? {
                if !visibility::sees_country(principal, &state.member_state)
                    || filters
                        .assessment_id
                        .is_some_and(|id| id != state.assessment_id)
                    || filters
                        .member_state
                        .as_ref()
                        .is_some_and(|m| *m != state.member_state)
                    || filters.theme.as_ref().is_some_and(|t| *t != state.theme)
                    || !status_ok(state.status.map(|s| s.to_string()))
                {
                    continue;
                }
                if !visibility::reads_confidential(principal, &state.member_state) {
                    state.text = "[confidential]".to_owned();
                }
                out.push(state);
            }
            to_value(out)?
        }
        "need_list" | "need_show" => {
            let grants = scan::<SharingGrantState>(&views.tree, "sharing_grant")?;
            let words: Vec<String> = filters
                .text
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_lowercase)
                .collect();
            let mut out = Vec::new();
            for state in scan::<NeedState>(&views.tree, "need")? {
                let haystack = format!("{} {}", state.description, state.beneficiary_institution)
                    .to_lowercase();
                if !visibility::sees_need(principal, &state, &grants, today)
                    || filters.id.is_some_and(|id| id != state.id)
                    || filters
                        .member_state
                        .as_ref()
                        .is_some_and(|m| *m != state.member_state)
                    || filters.theme.as_ref().is_some_and(|t| *t != state.theme)
                    || filters.priority.is_some_and(|p| p != state.priority)
                    || !status_ok(state.status.map(|s| s.to_string()))
                    || !words.iter().all(|w| haystack.contains(w.as_str()))
                {
                    continue;
                }
                out.push(state);
            }
            // Highest priority first (1 is high), then oldest first.
            out.sort_by_key(|n| (n.priority, n.id));
            one_or_all(&incoming.verb, "need", filters.id, out)?
        }
        "sharing_grant_list" => {
            let mut out = Vec::new();
            for state in scan::<SharingGrantState>(&views.tree, "sharing_grant")? {
                if visibility::sees_country(principal, &state.member_state)
                    && principal.role != tatrack_domain::Role::Donor
                    && filters
                        .member_state
                        .as_ref()
                        .is_none_or(|m| *m == state.member_state)
                {
                    out.push(state);
                }
            }
            to_value(out)?
        }
        _ => return Err(ErrorBody::invalid("view", "unknown view")),
    };
    Ok(value)
}

/// `*_show` answers one object (not found when invisible or absent); `*_list` all of them.
fn one_or_all<T: Serialize>(
    verb: &str,
    what: &str,
    id: Option<Uuid>,
    mut out: Vec<T>,
) -> Result<serde_json::Value, ErrorBody> {
    if verb.ends_with("_show") {
        let Some(id) = id else {
            return Err(ErrorBody::invalid("id", "is required"));
        };
        return match out.pop() {
            Some(one) => to_value(one),
            None => Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!("{what} {id} not found"),
            )),
        };
    }
    to_value(out)
}

fn to_value<T: Serialize>(value: T) -> Result<serde_json::Value, ErrorBody> {
    serde_json::to_value(value).map_err(|_| ErrorBody::internal())
}

fn scan<T: DeserializeOwned>(tree: &sled::Tree, aggregate: &str) -> Result<Vec<T>, ErrorBody> {
    let prefix = key(aggregate, "");
    let mut out = Vec::new();
    for entry in tree.scan_prefix(prefix) {
        let (_, bytes) = entry.map_err(|e| {
            tracing::error!(error = %e, "read model storage");
            ErrorBody::internal()
        })?;
        out.push(serde_json::from_slice(&bytes).map_err(|e| {
            tracing::error!(error = %e, "read model holds an undecodable state");
            ErrorBody::internal()
        })?);
    }
    Ok(out)
}
