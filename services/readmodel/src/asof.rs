//! Answers at another point in time than "now, as recorded so far" (ARCHITECTURE.md, "Two
//! times"):
//!
//! - `as_of` a business date D: the state of affairs on D as known now. Every event carries the
//!   business date of its fact; within an aggregate those dates never go back for its own moves,
//!   so folding, in log order, the events dated on or before D gives each aggregate as it stood
//!   on D, whenever the events were typed in.
//! - `known_at` a time or log positions: as the system knew it then. Only the events at or
//!   before those positions are folded (a time is turned into positions with the timeline:
//!   recorded times rise with the position of each log).
//!
//! Both together are a fold of the events at or before the positions and dated on or before D.
//! It is computed from the event streams into a throwaway sled projection, one full pass over
//! every stream (cost: proportional to the number of events, a few seconds per hundred thousand),
//! and kept: a later question about the same point reuses it, and so does one at later positions
//! when nothing recorded in between counts for it (the timelines tell). Builds run one at a time,
//! so many callers asking about many days queue instead of folding in parallel.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use jiff::civil::Date;
use tatrack_bus::fold::FoldProjection;
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_bus::subscriber::Projection;
use tatrack_bus::{streams, subjects};
use tatrack_eventlog::Envelope;

use crate::cache::Views;
use crate::timeline::Timeline;

/// Answers kept in memory (each holds every state of a past point in time).
const KEEP: usize = 8;

/// Log positions per service: what "known at" pins.
pub(crate) type Positions = BTreeMap<String, u64>;

/// The point in time an answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Point {
    /// Events dated after it are left out (`None`: every event up to the positions).
    pub(crate) as_of: Option<Date>,
    pub(crate) known: Positions,
}

/// The text form of positions, as reports record them and callers send them back:
/// `assessments:120,partners:45,projects:300,reporter:7`.
pub(crate) fn format_positions(positions: &Positions) -> String {
    positions
        .iter()
        .map(|(service, position)| format!("{service}:{position}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads positions in the text form; every service must be named once.
pub(crate) fn parse_positions(field: &str, text: &str) -> Result<Positions, ErrorBody> {
    let mut out = Positions::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((service, position)) = part.split_once(':') else {
            return Err(ErrorBody::invalid(
                field,
                &format!("{part:?} is not service:position"),
            ));
        };
        if !subjects::SERVICES.contains(&service) {
            return Err(ErrorBody::invalid(
                field,
                &format!(
                    "unknown service {service:?} (one of {})",
                    subjects::SERVICES.join(", ")
                ),
            ));
        }
        let position: u64 = position.parse().map_err(|_| {
            ErrorBody::invalid(field, &format!("{position:?} is not a log position"))
        })?;
        if out.insert(service.to_owned(), position).is_some() {
            return Err(ErrorBody::invalid(
                field,
                &format!("{service} is named twice"),
            ));
        }
    }
    if let Some(missing) = subjects::SERVICES.iter().find(|s| !out.contains_key(**s)) {
        return Err(ErrorBody::invalid(
            field,
            &format!(
                "name a position for each of {} ({missing} is missing)",
                subjects::SERVICES.join(", ")
            ),
        ));
    }
    Ok(out)
}

#[derive(Clone)]
pub(crate) struct AsOf {
    js: jetstream::Context,
    timelines: Arc<BTreeMap<&'static str, Arc<Timeline>>>,
    kept: Arc<Mutex<Vec<(Point, Views)>>>,
    /// One build at a time (single flight): a second caller waits, then finds it kept.
    building: Arc<tokio::sync::Mutex<()>>,
    /// Where the throwaway projections are folded: inside the (private) data directory, never
    /// in the world-readable temporary directory, since they hold confidential text.
    scratch: std::path::PathBuf,
}

impl AsOf {
    pub(crate) fn new(
        js: jetstream::Context,
        timelines: BTreeMap<&'static str, Arc<Timeline>>,
        scratch: std::path::PathBuf,
    ) -> Self {
        Self {
            js,
            timelines: Arc::new(timelines),
            kept: Arc::default(),
            building: Arc::default(),
            scratch,
        }
    }

    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub(crate) fn timeline(&self, service: &str) -> Option<&Arc<Timeline>> {
        self.timelines.get(service)
    }

    /// The latest business date of any event applied.
    pub(crate) fn max_on(&self) -> Option<Date> {
        self.timelines.values().filter_map(|t| t.max_on()).max()
    }

    /// The positions recorded at or before `at`.
    pub(crate) fn positions_at(&self, at: jiff::Timestamp) -> Positions {
        self.timelines
            .iter()
            .map(|(service, t)| ((*service).to_owned(), t.position_at(at)))
            .collect()
    }

    /// Whether an answer for `kept` is also the answer for `wanted`: same date, and nothing
    /// recorded between their positions counts for that date.
    fn same_answer(&self, kept: &Point, wanted: &Point) -> bool {
        kept.as_of == wanted.as_of
            && self.timelines.iter().all(|(service, timeline)| {
                let from = kept.known.get(*service).copied().unwrap_or(0);
                let to = wanted.known.get(*service).copied().unwrap_or(0);
                !timeline.counts_between(from, to, wanted.as_of)
            })
    }

    fn find(&self, point: &Point) -> Option<Views> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter()
            .rev()
            .find(|(p, _)| self.same_answer(p, point))
            .map(|(_, views)| views.clone())
    }

    /// The views at `point`.
    pub(crate) async fn views(&self, point: &Point) -> Result<Views, ErrorBody> {
        if let Some(views) = self.find(point) {
            return Ok(views);
        }
        let _one_at_a_time = self.building.lock().await;
        if let Some(views) = self.find(point) {
            return Ok(views);
        }
        let views = self.build(point).await?;
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= KEEP {
            kept.remove(0);
        }
        kept.push((point.clone(), views.clone()));
        Ok(views)
    }

    async fn build(&self, point: &Point) -> Result<Views, ErrorBody> {
        tatrack_eventlog::private_dir(&self.scratch).map_err(|e| unavailable(&e))?;
        let db = sled::Config::new()
            .temporary(true)
            .path(self.scratch.join(uuid::Uuid::now_v7().to_string()))
            .open()
            .map_err(|e| unavailable(&e))?;
        let mut views = Views::default();
        for service in subjects::SERVICES {
            let tree = db.open_tree(service).map_err(|e| unavailable(&e))?;
            let up_to = point.known.get(service).copied().unwrap_or(0);
            self.fold(service, &tree, up_to, point.as_of).await?;
            // Nothing more will be applied: any min_position is already reached.
            let (_, applied) = tokio::sync::watch::channel(u64::MAX);
            views.add(service, tree, applied, None);
        }
        Ok(views)
    }

    /// Folds `service`'s events at positions `1..=up_to`, leaving out those dated after `as_of`.
    async fn fold(
        &self,
        service: &str,
        tree: &sled::Tree,
        up_to: u64,
        as_of: Option<Date>,
    ) -> Result<(), ErrorBody> {
        if up_to == 0 {
            return Ok(());
        }
        let last = streams::last_sequence(&self.js, service)
            .await
            .map_err(|e| unavailable(&e))?;
        if last < up_to {
            return Err(unavailable(&format!(
                "the {service} stream holds {last} events, fewer than the {up_to} asked for"
            )));
        }
        let stream = streams::reader(&self.js, service)
            .await
            .map_err(|e| unavailable(&e))?;
        let consumer = stream
            .create_consumer(streams::ordered_consumer(
                consumer::DeliverPolicy::All,
                None,
            ))
            .await
            .map_err(|e| unavailable(&e))?;
        let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| unavailable(&e))?;
            let envelope: Envelope =
                serde_json::from_slice(&message.payload).map_err(|e| unavailable(&e))?;
            if as_of.is_none_or(|day| envelope.business_date() <= day) {
                tree.transaction(|tx| FoldProjection.apply(tx, &envelope)).map_err(|e| {
                    tracing::error!(service, position = envelope.position, error = ?e, "as-of fold refused an event");
                    ErrorBody::internal()
                })?;
            }
            if envelope.position >= up_to {
                break;
            }
        }
        Ok(())
    }
}

fn unavailable(e: &dyn std::fmt::Display) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::Unavailable,
        format!("cannot read the event streams: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_back_and_name_every_service() {
        let text = "assessments:120,partners:45,projects:300,reporter:7";
        let positions = parse_positions("known_at", text).unwrap();
        assert_eq!(format_positions(&positions), text);
        assert_eq!(positions["projects"], 300);
        for (bad, reason) in [
            ("assessments:1,partners:2,projects:3", "reporter is missing"),
            (
                "assessments:x,partners:2,projects:3,reporter:4",
                "not a log position",
            ),
            ("nobody:1", "unknown service"),
            ("assessments", "not service:position"),
            (
                "assessments:1,assessments:2,partners:2,projects:3,reporter:4",
                "named twice",
            ),
        ] {
            let err = parse_positions("known_at", bad).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("known_at"));
            assert!(err.message.contains(reason), "{bad}: {}", err.message);
        }
    }
}
