//! `IatiError`: why a file was refused, always with the place (line, element path, activity).

use std::fmt;

/// Where something is in a file: the line of the element's start tag, its path in XPath form
/// (`/iati-activities/iati-activity[2]/transaction[1]/value[1]/@currency`) and, inside an
/// activity, that activity's identifier (a path index is hard to find in a large file; an
/// identifier is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub path: String,
    pub activity: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.path)?;
        match self.activity.as_deref() {
            Some(id) if !id.is_empty() => write!(f, " (activity {id})"),
            _ => Ok(()),
        }
    }
}

/// Why a file (or one activity of it) is refused. Nothing of a refused file is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IatiError {
    /// Not well-formed XML (or not UTF-8).
    #[error("not well-formed XML: line {line}: {message}")]
    Xml { line: usize, message: String },
    /// Well-formed XML, but not an IATI activity file.
    #[error("not an IATI activity file: line {line}: {message}")]
    NotIati { line: usize, message: String },
    /// An IATI file of a version tatrack does not read.
    #[error(
        "line {line}: /iati-activities/@version: IATI version {version:?} is not supported: tatrack reads IATI 2.x activity files"
    )]
    Version { line: usize, version: String },
    /// An element or attribute breaks the standard, names an unknown code, or holds what tatrack
    /// cannot record. `field` is the element or attribute at fault (`@currency`, `title`).
    #[error("{place}: invalid {field}: {reason}")]
    Invalid {
        place: Place,
        field: String,
        reason: String,
    },
}

impl IatiError {
    /// The place of an `Invalid` error (the others carry only a line).
    pub fn place(&self) -> Option<&Place> {
        match self {
            Self::Invalid { place, .. } => Some(place),
            _ => None,
        }
    }

    /// The line the error is on.
    pub fn line(&self) -> usize {
        match self {
            Self::Xml { line, .. } | Self::NotIati { line, .. } | Self::Version { line, .. } => {
                *line
            }
            Self::Invalid { place, .. } => place.line,
        }
    }
}
