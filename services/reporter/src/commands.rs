//! The reporter's one verb, `report_summary`: check the request, gather the views as the caller,
//! summarise, render, then record `report_made` (with the SHA-256 of the bytes) through the
//! shared command path, and answer with the positions, the checksum and the content. Bad input is
//! refused before anything is asked or written.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tatrack_bus::rpc::{ErrorBody, Incoming, RequestMeta};
use tatrack_bus::service::{CommandReply, execute, split_verb, to_json};
use tatrack_domain::report::{Report, ReportCommand, ReportFormat, ReportScope, check_as_of};
use tatrack_domain::{Aggregate, Principal};
use tatrack_eventlog::Store;
use uuid::Uuid;

use crate::{gather, render, summary};

/// Every command verb this service answers (`tatrack.cmd.reporter.<verb>`).
pub const VERBS: &[&str] = &["report_summary"];

/// The body of `report_summary`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryRequest {
    /// The report's id (default: a new one).
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub member_state: Option<String>,
    #[serde(default)]
    pub theme: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub donor: Option<String>,
    /// `markdown` (or `md`), `html`, `csv` or `json`.
    pub format: String,
    /// `YYYY-MM-DD`, the business date the report is for (default: today, provisional).
    #[serde(default)]
    pub as_of: Option<String>,
    /// As the system knew it then: log positions as a report records them
    /// (`assessments:120,partners:45,projects:300,reporter:7`), a time or a day (its end).
    /// Default: everything recorded so far. Made again with the same `as_of` and the positions
    /// an earlier report recorded, a report is byte-identical to it.
    #[serde(default)]
    pub known_at: Option<String>,
    /// The day the report is made on (the service fills in today, as for every command).
    #[serde(default)]
    pub on: Option<Date>,
}

/// The answer: where `report_made` went, what it says, and the report itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeReport {
    #[serde(flatten)]
    pub reply: CommandReply,
    pub scope: ReportScope,
    pub format: ReportFormat,
    pub as_of: Date,
    /// The log positions it was made from (give them back as `known_at` to make it again).
    pub known_at: String,
    /// As of today: the day is not over, so a report made later as of today may count more.
    pub provisional: bool,
    pub checksum: String,
    pub size: u64,
    pub media_type: String,
    /// The report's text (every format is UTF-8 text).
    pub content: String,
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: Uuid,
    pub scope: ReportScope,
    pub format: ReportFormat,
    pub as_of: Date,
    /// As the caller sent it (checked by the read model); `None`: as recorded so far.
    pub known_at: Option<String>,
    /// The day it is made on.
    pub on: Date,
}

/// Reads and checks a request; every error names its field.
pub fn order(request: SummaryRequest, today: Date) -> Result<Order, ErrorBody> {
    // The usual short name of Markdown is accepted too.
    let format = match request.format.as_str() {
        "md" => ReportFormat::Markdown,
        other => other.parse().map_err(ErrorBody::from)?,
    };
    let as_of: Date = match &request.as_of {
        None => today,
        Some(text) => text.parse().map_err(|e| {
            ErrorBody::invalid(
                "as_of",
                &format!("{text:?} is not a date like 2026-06-30: {e}"),
            )
        })?,
    };
    check_as_of(as_of, today)?;
    let on = request.on.unwrap_or(today);
    if on > today {
        return Err(ErrorBody::invalid(
            "on",
            &format!("{on} is after today ({today})"),
        ));
    }
    if as_of > on {
        return Err(ErrorBody::invalid(
            "as_of",
            &format!("{as_of} is after the day the report is made on ({on})"),
        ));
    }
    let scope = ReportScope {
        member_state: request.member_state,
        theme: request.theme,
        region: request.region,
        donor: request.donor,
    };
    scope.check()?;
    Ok(Order {
        id: request.id.unwrap_or_else(Uuid::now_v7),
        scope,
        format,
        as_of,
        known_at: request.known_at,
        on,
    })
}

/// The report's bytes for `principal` (gathered as that principal, summarised, rendered) and
/// the log positions they were made from.
pub async fn content(
    nats: &async_nats::Client,
    principal: &Principal,
    scope: &ReportScope,
    format: ReportFormat,
    as_of: Date,
    known_at: Option<&str>,
) -> Result<(Vec<u8>, gather::Known), ErrorBody> {
    let inputs = gather::gather(nats, principal, as_of, known_at).await?;
    if let Some(donor) = &scope.donor
        && !inputs.organisations.iter().any(|o| o.id == *donor)
    {
        return Err(ErrorBody::invalid(
            "donor",
            &format!("organisation {donor} is not registered (as of {as_of})"),
        ));
    }
    let summary = summary::build(scope, as_of, principal, &inputs);
    Ok((render::render(&summary, format), inputs.known))
}

/// Lower-case hex SHA-256.
pub fn checksum(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes the report and records it.
pub async fn make(
    store: &Store,
    nats: &async_nats::Client,
    order: &Order,
    meta: &RequestMeta,
    today: Date,
) -> Result<MadeReport, ErrorBody> {
    let (bytes, known) = content(
        nats,
        &meta.principal,
        &order.scope,
        order.format,
        order.as_of,
        order.known_at.as_deref(),
    )
    .await?;
    let checksum = checksum(&bytes);
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let command = ReportCommand::Record {
        id: order.id,
        scope: order.scope.clone(),
        format: order.format,
        as_of: order.as_of,
        on: order.on,
        known_at: known.positions.clone(),
        requested_by: meta.principal.clone(),
        checksum: checksum.clone(),
        size,
    };
    // Every role may make a report: what it holds is already cut to what the caller may see.
    let reply = execute::<Report>(store, &order.id, &command, meta, |_| Ok(())).await?;
    Ok(MadeReport {
        reply,
        scope: order.scope.clone(),
        format: order.format,
        as_of: order.as_of,
        known_at: known.text,
        provisional: !tatrack_domain::report::is_final(order.as_of, today),
        checksum,
        size,
        media_type: order.format.media_type().to_owned(),
        content: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

pub(crate) async fn handle(
    store: &Store,
    nats: &async_nats::Client,
    incoming: Incoming,
) -> Result<serde_json::Value, ErrorBody> {
    let (_, command) = split_verb(&incoming.verb, &[Report::NAME])?;
    if command != "summary" {
        return Err(ErrorBody::invalid("verb", "unknown command"));
    }
    let today = store.clock().today();
    let order = order(incoming.body()?, today)?;
    to_json(&make(store, nats, &order, &incoming.meta, today).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn request(format: &str, as_of: &str) -> SummaryRequest {
        SummaryRequest {
            format: format.into(),
            as_of: Some(as_of.into()),
            ..SummaryRequest::default()
        }
    }

    #[test]
    fn bad_requests_name_their_field() {
        let today = date(2026, 11, 28);
        let field = |r: SummaryRequest| order(r, today).unwrap_err().field.unwrap();
        assert_eq!(field(request("pdf", "2026-11-01")), "format");
        assert_eq!(field(request("csv", "2026-11-29")), "as_of");
        assert_eq!(field(request("csv", "2027-01-01")), "as_of");
        assert_eq!(field(request("csv", "yesterday")), "as_of");
        for (scope, name) in [
            (
                SummaryRequest {
                    member_state: Some("XX".into()),
                    ..request("csv", "2026-11-01")
                },
                "member_state",
            ),
            (
                SummaryRequest {
                    theme: Some("NOPE".into()),
                    ..request("csv", "2026-11-01")
                },
                "theme",
            ),
            (
                SummaryRequest {
                    region: Some("1".into()),
                    ..request("csv", "2026-11-01")
                },
                "region",
            ),
        ] {
            assert_eq!(field(scope), name);
        }
        assert!(
            order(request("csv", "2026-11-28"), today).is_ok(),
            "today: provisional"
        );
        let ok = order(request("html", "2026-11-27"), today).unwrap();
        assert_eq!(ok.format, ReportFormat::Html);
        assert_eq!(ok.scope, ReportScope::default());
        // No date: today; "md" is Markdown.
        let ok = order(
            SummaryRequest {
                format: "md".into(),
                ..SummaryRequest::default()
            },
            today,
        )
        .unwrap();
        assert_eq!((ok.as_of, ok.format), (today, ReportFormat::Markdown));
    }

    #[test]
    fn checksum_is_lower_case_sha256() {
        assert_eq!(
            checksum(b"test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }
}
