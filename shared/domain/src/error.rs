//! `DomainError`: the one error type deciders and validators return, shaped so callers can act on it.

use serde::{Deserialize, Serialize};

/// Why a command was refused. The cases are the ones a caller acts on (fix the field, look elsewhere,
/// stop retrying, ask for rights); it travels over NATS as JSON tagged by `code`.
#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DomainError {
    /// A field's value breaks a rule. A move the lifecycle forbids is `field: "status"`.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The command names something that does not exist (yet).
    #[error("{what} {id} not found")]
    NotFound { what: String, id: String },
    /// A creation command for something that already exists.
    #[error("{what} {id} already exists")]
    AlreadyExists { what: String, id: String },
    /// The principal may not do this.
    #[error("forbidden: {reason}")]
    Forbidden { reason: String },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn not_found(what: impl Into<String>, id: impl Into<String>) -> Self {
        Self::NotFound {
            what: what.into(),
            id: id.into(),
        }
    }

    pub fn already_exists(what: impl Into<String>, id: impl Into<String>) -> Self {
        Self::AlreadyExists {
            what: what.into(),
            id: id.into(),
        }
    }

    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::Forbidden {
            reason: reason.into(),
        }
    }

    /// The error for a move the lifecycle forbids: `invalid status: cannot <verb> a <aggregate> that is
    /// <status>`. `aggregate` is an [`crate::Aggregate::NAME`]; its underscores become spaces.
    pub fn cannot(verb: &str, aggregate: &str, status: impl std::fmt::Display) -> Self {
        let noun = aggregate.replace('_', " ");
        let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        Self::invalid(
            "status",
            format!("cannot {verb} {article} {noun} that is {status}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lower_case_and_name_the_field() {
        assert_eq!(
            DomainError::invalid("title", "must not be empty").to_string(),
            "invalid title: must not be empty"
        );
        assert_eq!(
            DomainError::not_found("need", "x").to_string(),
            "need x not found"
        );
        assert_eq!(
            DomainError::already_exists("need", "x").to_string(),
            "need x already exists"
        );
        assert_eq!(
            DomainError::forbidden("not your country").to_string(),
            "forbidden: not your country"
        );
        assert_eq!(
            DomainError::cannot("adopt", "assessment", "planned").to_string(),
            "invalid status: cannot adopt an assessment that is planned"
        );
        assert_eq!(
            DomainError::cannot("revoke", "sharing_grant", "revoked").to_string(),
            "invalid status: cannot revoke a sharing grant that is revoked"
        );
    }

    #[test]
    fn json_is_tagged_by_code() {
        let e = DomainError::invalid("currency", "unknown code \"XXY\"");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "invalid", "field": "currency", "reason": "unknown code \"XXY\""})
        );
        assert_eq!(serde_json::from_value::<DomainError>(json).unwrap(), e);
        let json = serde_json::to_value(DomainError::already_exists("need", "1")).unwrap();
        assert_eq!(json["code"], "already_exists");
    }
}
