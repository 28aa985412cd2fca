//! "As of" answers: the views as they stood at the end of a past day, computed from the event
//! streams themselves (every event up to that day folded into a throwaway projection), so any
//! past answer can be reproduced. A day's projection is kept for later questions about the same
//! day; past days never change, since events are only ever appended.
//!
//! Events are read in stream order and folding stops at the first one recorded after the day:
//! each log has one writer that stamps `recorded_at` as it appends, so the stamps rise with the
//! position.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use jiff::civil::Date;
use tatrack_bus::fold::FoldProjection;
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_bus::subscriber::Projection;
use tatrack_bus::{streams, subjects};
use tatrack_eventlog::Envelope;

use crate::queries::Views;

/// Past days kept in memory.
const KEEP_DAYS: usize = 8;

#[derive(Clone)]
pub(crate) struct AsOf {
    js: jetstream::Context,
    days: Arc<Mutex<HashMap<Date, Views>>>,
}

impl AsOf {
    pub(crate) fn new(js: jetstream::Context) -> Self {
        Self {
            js,
            days: Arc::default(),
        }
    }

    /// The views at the end of `day` (UTC), which must be before today.
    pub(crate) async fn views(&self, day: Date, today: Date) -> Result<Views, ErrorBody> {
        if day >= today {
            return Err(ErrorBody::invalid(
                "as_of",
                &format!("{day} is not in the past (today is {today})"),
            ));
        }
        if let Some(views) = self
            .days
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&day)
        {
            return Ok(views.clone());
        }
        let views = self.build(day).await?;
        let mut days = self
            .days
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if days.len() >= KEEP_DAYS {
            days.clear();
        }
        days.insert(day, views.clone());
        Ok(views)
    }

    async fn build(&self, day: Date) -> Result<Views, ErrorBody> {
        let end = day
            .tomorrow()
            .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
            .map_err(|_| ErrorBody::invalid("as_of", "out of range"))?;
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(|e| unavailable(&e))?;
        let mut views = Views::default();
        for service in subjects::SERVICES {
            let tree = db.open_tree(service).map_err(|e| unavailable(&e))?;
            self.fold_until(service, &tree, end).await?;
            // Nothing more will be applied: any min_position is already reached.
            let (_, applied) = tokio::sync::watch::channel(u64::MAX);
            views.add(service, tree, applied, None);
        }
        Ok(views)
    }

    async fn fold_until(
        &self,
        service: &str,
        tree: &sled::Tree,
        end: jiff::Timestamp,
    ) -> Result<(), ErrorBody> {
        let last = streams::last_sequence(&self.js, service)
            .await
            .map_err(|e| unavailable(&e))?;
        if last == 0 {
            return Ok(());
        }
        let stream = streams::ensure(&self.js, service)
            .await
            .map_err(|e| unavailable(&e))?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::All,
                max_expires: Duration::from_secs(5),
                ..Default::default()
            })
            .await
            .map_err(|e| unavailable(&e))?;
        let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| unavailable(&e))?;
            let envelope: Envelope =
                serde_json::from_slice(&message.payload).map_err(|e| unavailable(&e))?;
            if envelope.recorded_at >= end {
                break;
            }
            tree.transaction(|tx| FoldProjection.apply(tx, &envelope)).map_err(|e| {
                tracing::error!(service, position = envelope.position, error = ?e, "as-of fold refused an event");
                ErrorBody::internal()
            })?;
            if envelope.position >= last {
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
