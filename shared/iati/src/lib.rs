//! IATI 2.03 activity files: [`export`] writes projects as one, [`parse`] reads one (refusing,
//! with the place, what is not IATI 2.x or names an unknown code) and [`plan`] turns what it read
//! into the commands that record it, with ids derived from the IATI identifier so an import can
//! be repeated.
//!
//! Pure: no I/O, no clock. The schema, the standard's example and the schema's test files are in
//! `data/` (see `data/SOURCES.md`); only the tests read them.

mod error;
mod export;
mod import;
mod read;
mod xml;

pub use error::{IatiError, Place};
pub use export::{ReportingOrg, VERSION, export};
pub use import::{ActivityPlan, ImportContext, ImportPlan, Planned, derived_id, plan};
pub use read::{
    ActivityDates, Budget, CodeShare, DocumentLink, ImportedActivity, ImportedIndicator,
    ImportedResult, ImportedTransaction, IndicatorPeriod, OrgRef, ParticipatingOrg, Reading, parse,
};

#[cfg(test)]
mod tests;
