//! What a report is made from: the read model's views as of one business date and as known at
//! fixed log positions, asked as the requesting principal, so a report never holds more than its
//! reader may see and the same pair always gives the same answer (the read model folds the
//! streams up to those positions, leaving out what is dated after the day).

use std::time::Duration;

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tatrack_bus::rpc::{self, ErrorBody, ErrorCode, RequestMeta};
use tatrack_bus::subjects;
use tatrack_contract::answers::{
    AssessmentView, OfferView, Overlap, Positions, ProjectView, RateRow,
};
use tatrack_domain::Principal;
use tatrack_domain::need::NeedState;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::rates::RateTableState;
use tatrack_domain::referral::ReferralState;

/// The first question about a day may fold every stream up to it: give it time.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The view that lists overlap alerts (written alongside the reporter: older read models lack it).
pub const OVERLAP_VIEW: &str = "overlap_list";

/// Overlap alerts: rows as the read model gives them, or why there are none to give.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlaps {
    Rows(Vec<Overlap>),
    Unavailable(String),
}

/// Everything one report reads.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub needs: Vec<NeedState>,
    pub rates: Vec<RateRow>,
    pub assessments: Vec<AssessmentView>,
    pub projects: Vec<ProjectView>,
    pub offers: Vec<OfferView>,
    pub referrals: Vec<ReferralState>,
    pub rate_tables: Vec<RateTableState>,
    pub organisations: Vec<OrganisationState>,
    pub overlaps: Overlaps,
    /// The log positions the views were read at.
    pub known: Known,
}

/// "Known at": the log positions a report is made from, and their text form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pub positions: std::collections::BTreeMap<String, u64>,
    pub text: String,
}

/// Asks every view the report needs, as `principal`, as of `as_of`, as known at `known_at`
/// (default: the positions the read model has applied now, asked first, so every view is read
/// at the same positions and the report can be made again from them).
pub async fn gather(
    nats: &async_nats::Client,
    principal: &Principal,
    as_of: Date,
    known_at: Option<&str>,
) -> Result<Inputs, ErrorBody> {
    let known_at = match known_at {
        Some(k) => k.to_owned(),
        None => {
            let answer: Positions = ask(nats, principal, "position_show", &json!({})).await?;
            answer.known_at
        }
    };
    let body = json!({ "as_of": as_of.to_string(), "known_at": known_at });
    // The read model checks `known_at`; the positions it stands for are asked back in the same
    // form, so a time or a day becomes the positions the report records.
    let known = {
        let answer: Positions = ask(nats, principal, "position_show", &body).await?;
        Known {
            positions: answer.positions,
            text: answer.known_at,
        }
    };
    let needs = ask(nats, principal, "need_list", &body).await?;
    let overlaps = match ask_raw(nats, principal, OVERLAP_VIEW, &body).await {
        Ok(rows) => Overlaps::Rows(decode(OVERLAP_VIEW, rows)?),
        // The read model answered need_list a moment ago: it lacks this view.
        Err(rpc::Error::NoResponders(_)) => Overlaps::Unavailable(format!(
            "the read model does not list overlap alerts ({OVERLAP_VIEW}) yet"
        )),
        Err(rpc::Error::Remote(e)) if e.field.as_deref() == Some("view") => Overlaps::Unavailable(
            format!("the read model does not list overlap alerts ({OVERLAP_VIEW}) yet"),
        ),
        Err(e) => return Err(unavailable(OVERLAP_VIEW, &e)),
    };
    Ok(Inputs {
        needs,
        rates: ask(nats, principal, "recommendation_rate_list", &body).await?,
        assessments: ask(nats, principal, "assessment_list", &body).await?,
        projects: ask(nats, principal, "project_list", &body).await?,
        offers: ask(nats, principal, "offer_list", &body).await?,
        referrals: ask(nats, principal, "referral_list", &body).await?,
        rate_tables: ask(nats, principal, "rate_table_show", &body).await?,
        organisations: ask(nats, principal, "organisation_list", &body).await?,
        overlaps,
        known,
    })
}

async fn ask<T: DeserializeOwned>(
    nats: &async_nats::Client,
    principal: &Principal,
    view: &str,
    body: &Value,
) -> Result<T, ErrorBody> {
    match ask_raw(nats, principal, view, body).await {
        Ok(value) => decode(view, value),
        Err(rpc::Error::Remote(body)) => Err(body),
        Err(e) => Err(unavailable(view, &e)),
    }
}

async fn ask_raw(
    nats: &async_nats::Client,
    principal: &Principal,
    view: &str,
    body: &Value,
) -> Result<Value, rpc::Error> {
    // The reporter's NATS user may ask these views only: another would time out in silence.
    debug_assert!(
        tatrack_bus::auth::REPORTER_VIEWS.contains(&view),
        "the reporter asks {view}: add it to tatrack_bus::auth::REPORTER_VIEWS"
    );
    let meta = RequestMeta {
        command_id: None,
        ..RequestMeta::new(principal.clone())
    };
    let subject = subjects::query_subject(view);
    rpc::request::<Value, Value>(nats, &subject, &meta, body, QUERY_TIMEOUT).await
}

fn decode<T: DeserializeOwned>(view: &str, value: Value) -> Result<T, ErrorBody> {
    serde_json::from_value(value).map_err(|e| {
        tracing::error!(view, error = %e, "read model answer not understood");
        ErrorBody::internal()
    })
}

fn unavailable(view: &str, e: &rpc::Error) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::Unavailable,
        format!("the read model cannot answer {view}: {e}"),
    )
}
