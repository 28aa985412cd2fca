//! The views, one module per family; each answers with the contract's types
//! (`tatrack_contract::answers`), written once as JSON text. `Query` is what every view gets: the
//! parameters, the caller, the projections to read (live, or as of a point in time) and the day
//! its clocks count from.

pub(crate) mod assessments;
pub(crate) mod needs;
pub(crate) mod offers;
pub(crate) mod overview;
pub(crate) mod projects;
pub(crate) mod sharing;
pub(crate) mod system;
pub(crate) mod versions;

use std::sync::Arc;

use jiff::civil::Date;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_domain::Principal;

use crate::asof::Point;
use crate::cache::{Snapshot, Views};
use crate::params::Filters;
use crate::visibility::Consent;

/// One question to a view.
#[derive(Clone, Copy)]
pub(crate) struct Query<'a> {
    /// The view's name, e.g. `need_list`.
    pub(crate) verb: &'a str,
    pub(crate) filters: &'a Filters,
    pub(crate) principal: &'a Principal,
    /// What the answer is read from: the live projections, or a point in time folded by `asof`.
    pub(crate) views: &'a Views,
    /// The live projections: who may see what is decided on them, whatever the point in time.
    pub(crate) live: &'a Views,
    /// The grants in force on the clock's today (who may see which needs and reports).
    pub(crate) consent: &'a Consent,
    /// The day the answer is for: what clocks, late milestones and matching count from.
    pub(crate) day: Date,
    /// The clock's today.
    pub(crate) today: Date,
    /// The point in time folded for the answer (`None`: the live views).
    pub(crate) point: Option<&'a Point>,
}

impl Query<'_> {
    /// The `status` filter, if any, holds for a state whose status is `status`.
    pub(crate) fn status_ok(&self, status: Option<impl std::fmt::Display>) -> bool {
        self.filters
            .status
            .as_ref()
            .is_none_or(|s| status.is_some_and(|status| status.to_string() == *s))
    }

    /// The `id` filter, if any, holds.
    pub(crate) fn id_ok(&self, id: &dyn std::fmt::Display) -> bool {
        self.filters
            .id
            .as_ref()
            .is_none_or(|want| *want == id.to_string())
    }

    /// The `member_state` filter, if any, holds.
    pub(crate) fn state_ok(&self, member_state: &str) -> bool {
        self.filters
            .member_state
            .as_ref()
            .is_none_or(|m| m == member_state)
    }

    fn is_show(&self) -> bool {
        self.verb.ends_with("_show")
    }

    /// The states the view reads: for a `*_show` view with an id, only that one state (read
    /// directly); otherwise every state of the kind, in key order.
    pub(crate) fn pick<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        let one = self.filters.id.as_deref().filter(|_| self.is_show());
        self.views.pick(service, aggregate, one)
    }

    /// One page of a list: `offset` items skipped, at most `limit` kept (the gateway asks for
    /// one more than it shows, to know whether another page follows). Without them, the whole
    /// list.
    pub(crate) fn page<T>(&self, out: Vec<T>) -> Vec<T> {
        out.into_iter()
            .skip(self.filters.offset.unwrap_or(0))
            .take(self.filters.limit.unwrap_or(usize::MAX))
            .collect()
    }

    /// The same page, taken lazily from an iterator: a list stops reading once the page is full.
    pub(crate) fn page_of<'a, T: Clone + 'a>(&self, items: impl Iterator<Item = &'a T>) -> Vec<T> {
        items
            .skip(self.filters.offset.unwrap_or(0))
            .take(self.filters.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// `*_show` answers one object (not found when invisible or absent); `*_list` a page of them.
    pub(crate) fn one_or_all<T: Serialize>(&self, mut out: Vec<T>) -> Result<Answer, ErrorBody> {
        if self.is_show() {
            let Some(id) = &self.filters.id else {
                return Err(ErrorBody::invalid("id", "is required"));
            };
            let what = self.verb.trim_end_matches("_show");
            return match out.pop() {
                Some(one) => to_value(one),
                None => Err(ErrorBody::new(
                    ErrorCode::NotFound,
                    format!("{what} {id} not found"),
                )),
            };
        }
        to_value(self.page(out))
    }
}

/// An answer as JSON text: written once here and passed through as is (by the NATS reply and
/// the gateway), never built as a `serde_json::Value` tree, which cost most of a list query.
pub(crate) type Answer = Box<serde_json::value::RawValue>;

pub(crate) fn to_value<T: Serialize>(value: T) -> Result<Answer, ErrorBody> {
    serde_json::value::to_raw_value(&value).map_err(|_| ErrorBody::internal())
}
