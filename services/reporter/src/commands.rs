//! The reporter's one verb, `report_summary`: check the request, gather the views as the caller,
//! summarise, render, then record `report_made` (with the SHA-256 of the bytes) through the
//! shared command path, and answer with the positions, the checksum and the content. Bad input is
//! refused before anything is asked or written.

use jiff::civil::Date;
use sha2::{Digest, Sha256};
use tatrack_bus::rpc::{ErrorBody, Incoming, RequestMeta};
use tatrack_bus::service::{execute, split_verb, to_json};
use tatrack_contract::commands::report::{MadeReport, Summary as SummaryRequest};
use tatrack_domain::report::{Report, ReportCommand, ReportFormat, ReportScope, check_as_of};
use tatrack_domain::{Aggregate, Principal};
use tatrack_eventlog::Store;
use uuid::Uuid;

use crate::{gather, render, summary};

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

/// Checks a request (decoded from the contract's `report::Summary`, which names a malformed field);
/// every error names its field.
pub fn order(request: SummaryRequest, today: Date) -> Result<Order, ErrorBody> {
    // The usual short name of Markdown is accepted too.
    let format = match request.format.as_str() {
        "md" => ReportFormat::Markdown,
        other => other.parse().map_err(ErrorBody::from)?,
    };
    let as_of = request.as_of.unwrap_or(today);
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
            as_of: Some(as_of.parse().unwrap()),
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
        // A date that is none is refused while decoding, by the contract.
        let e = tatrack_contract::error::from_value::<SummaryRequest>(
            &serde_json::json!({"format": "csv", "as_of": "yesterday"}),
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("as_of"), "{e:?}");
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
