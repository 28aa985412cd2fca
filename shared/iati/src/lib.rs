//! IATI 2.03 activity files: [`export`] writes projects as one, [`parse`] reads one (refusing,
//! with the place, what is not IATI 2.x or names an unknown code) and [`plan`] turns what it read
//! into the commands that record it, with ids derived from the IATI identifier so an import can
//! be repeated.
//!
//! Pure: no I/O, no clock. The schema, the standard's example, the schema's test files and the
//! IATI Standard Ruleset with its checker are in `data/` (see `data/SOURCES.md`); only the tests
//! read them, through `testing` (built for this crate's tests and with the `testing` feature).

mod error;
mod export;
mod import;
mod read;
mod xml;

pub use error::{IatiError, Place};
pub use export::{ExportError, ExportOptions, ReportingOrg, VERSION, export};
pub use import::{ActivityPlan, ImportContext, ImportPlan, Planned, derived_id, plan};
pub use read::{
    ActivityDates, Budget, CodeShare, DocumentLink, ImportedActivity, ImportedIndicator,
    ImportedResult, ImportedTransaction, IndicatorPeriod, OrgRef, ParticipatingOrg, Reading, parse,
};

#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;
