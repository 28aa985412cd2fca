//! The error every service and the gateway answer with: a code the caller acts on, a message for
//! people, and the field and reason when the input was bad (RFC 9457 problem+json over HTTP).

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tatrack_domain::error::DomainError;

/// What a caller can act on, as carried in an error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    NotFound,
    AlreadyExists,
    Conflict,
    Forbidden,
    Timeout,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as it is written in replies and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::Conflict => "conflict",
            Self::Forbidden => "forbidden",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// An error reply: a code, a message for people, and the field and reason when input was bad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On a conflict: the version the aggregate is actually at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            reason: None,
            actual_version: None,
        }
    }

    pub fn invalid(field: &str, reason: &str) -> Self {
        Self {
            field: Some(field.to_owned()),
            reason: Some(reason.to_owned()),
            ..Self::new(ErrorCode::Invalid, format!("invalid {field}: {reason}"))
        }
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<DomainError> for ErrorBody {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::Invalid { field, reason } => Self {
                field: Some(field),
                reason: Some(reason),
                ..Self::new(ErrorCode::Invalid, message)
            },
            DomainError::NotFound { .. } => Self::new(ErrorCode::NotFound, message),
            DomainError::AlreadyExists { .. } => Self::new(ErrorCode::AlreadyExists, message),
            DomainError::Forbidden { .. } => Self::new(ErrorCode::Forbidden, message),
        }
    }
}

/// The problem+json body of an HTTP error (RFC 9457), with the field the input was wrong in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, `urn:tatrack:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind (the HTTP status's reason phrase).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The field (body field, query parameter or header) that was wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On a 412: the version the object is actually at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
    /// The request's correlation id (also in the `X-Request-Id` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Decodes a JSON value, naming the field that is wrong when it does not fit: the path serde
/// reached (`estimated_cost.currency`), else the field the message quotes (`blame_field`).
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ErrorBody> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let field = if path.is_empty() || path == "." {
            blame_field(value, &message)
        } else {
            // serde names a missing field in its message, one level below the path; the path of
            // an unknown field already ends with it.
            match named_field(&message) {
                Some(name) if path.rsplit('.').next() != Some(name.as_str()) => {
                    format!("{path}.{name}")
                }
                _ => path,
            }
        };
        let field = field.trim_start_matches('.').to_owned();
        ErrorBody::invalid(&field, &message)
    })
}

fn named_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split_once('`').map(|(field, _)| field.to_owned())
}

/// Which field of `body` a serde error is about when serde gives no path. serde names missing and
/// unknown fields itself; for a bad value (internally tagged enums lose the path) the field
/// whose value the message quotes is blamed, one level deep, e.g. `estimated_cost.currency`;
/// otherwise `body`.
pub fn blame_field(body: &serde_json::Value, message: &str) -> String {
    if let Some(field) = named_field(message) {
        return field;
    }
    // Fragments the message quotes: `...` and "...".
    let mut fragments: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    fragments.extend(message.split('"').skip(1).step_by(2));
    fragments.retain(|f| !f.is_empty());
    // Exact quotes first, then prefixes: a prefix match only for fragments long enough to mean
    // something ("2026-02" of a bad date), never for a value that is itself a valid date (the
    // business date `on` of "2026-02-02" is not what "2026-02-30" broke); a one-character
    // fragment ("9" of an unknown status) must match exactly.
    let quoted = |v: &serde_json::Value, prefix: bool| {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => return false,
            other => other.to_string(),
        };
        fragments.iter().any(|f| {
            if prefix {
                f.len() >= 2 && text.starts_with(f) && text.parse::<jiff::civil::Date>().is_err()
            } else {
                text == *f
            }
        })
    };
    let serde_json::Value::Object(map) = body else {
        return "body".to_owned();
    };
    for prefix in [false, true] {
        for (key, value) in map {
            if key == "type" {
                continue;
            }
            if quoted(value, prefix) {
                return key.clone();
            }
            if let serde_json::Value::Object(inner) = value
                && let Some((k, _)) = inner.iter().find(|(_, v)| quoted(v, prefix))
            {
                return format!("{key}.{k}");
            }
        }
    }
    // "invalid type: string, expected a sequence" quotes no value: blame the field that is not
    // a list.
    if message.contains("expected a sequence")
        && let Some((k, _)) = map
            .iter()
            .find(|(k, v)| *k != "type" && !v.is_array() && !v.is_null())
    {
        return k.clone();
    }
    "body".to_owned()
}

#[cfg(test)]
mod tests {
    use super::{ErrorBody, ErrorCode, blame_field, from_value};
    use serde_json::json;

    #[test]
    fn names_the_field_a_serde_error_is_about() {
        let body = json!({"type": "plan", "kind": "nope", "visit_start": "2026-02-30",
                          "estimated_cost": {"amount_minor": 5, "currency": "ZZZ"}});
        assert_eq!(blame_field(&body, "missing field `title`"), "title");
        assert_eq!(
            blame_field(&body, "unknown field `colour`, expected one of `a`"),
            "colour"
        );
        assert_eq!(
            blame_field(
                &body,
                "unknown variant `nope`, expected one of `desk_review`"
            ),
            "kind"
        );
        assert_eq!(
            blame_field(
                &body,
                "parsed date is not valid: parameter 'day' for `2026-02` is invalid"
            ),
            "visit_start"
        );
        // A valid date sharing the bad one's year and month is not blamed (`on` sorts first).
        let dated = json!({"on": "2026-02-02", "visit_start": "2026-02-30"});
        assert_eq!(
            blame_field(
                &dated,
                "parsed date is not valid: parameter 'day' for `2026-02` is invalid"
            ),
            "visit_start"
        );
        assert_eq!(
            blame_field(&body, "unknown currency `ZZZ`"),
            "estimated_cost.currency"
        );
        assert_eq!(
            blame_field(
                &json!({"resolutions": "x"}),
                "invalid type: string \"x\", expected a sequence"
            ),
            "resolutions"
        );
        assert_eq!(blame_field(&body, "something else entirely"), "body");
        assert_eq!(
            blame_field(
                &json!({"id": "x1", "to": "9"}),
                "unknown variant `9`, expected one of `1`, `2`"
            ),
            "to"
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only decoded")]
    struct Body {
        title: String,
        visit_start: jiff::civil::Date,
        cost: Option<Cost>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only decoded")]
    struct Cost {
        amount_minor: i64,
        currency: String,
    }

    #[test]
    fn from_value_names_the_field_by_the_path_serde_reached() {
        let field = |body: serde_json::Value| {
            let e: ErrorBody = from_value::<Body>(&body).unwrap_err();
            assert_eq!(e.code, ErrorCode::Invalid, "{e:?}");
            e.field.unwrap()
        };
        assert_eq!(field(json!({"visit_start": "2026-01-01"})), "title");
        assert_eq!(
            field(json!({"title": "t", "visit_start": "2026-02-30"})),
            "visit_start"
        );
        assert_eq!(
            field(json!({"title": "t", "visit_start": "2026-01-01", "colour": 1})),
            "colour"
        );
        assert_eq!(
            field(json!({"title": 5, "visit_start": "2026-01-01"})),
            "title"
        );
        assert_eq!(
            field(json!({"title": "t", "visit_start": "2026-01-01", "cost": {"amount_minor": 1}})),
            "cost.currency"
        );
        assert_eq!(
            field(json!({"title": "t", "visit_start": "2026-01-01",
                         "cost": {"amount_minor": "x", "currency": "USD"}})),
            "cost.amount_minor"
        );
        assert_eq!(field(json!("text")), "body");
    }

    #[test]
    fn domain_errors_keep_their_code_and_field() {
        let e = ErrorBody::from(tatrack_domain::DomainError::invalid("on", "after today"));
        assert_eq!(
            (e.code, e.field.as_deref(), e.reason.as_deref()),
            (ErrorCode::Invalid, Some("on"), Some("after today"))
        );
        let e = ErrorBody::from(tatrack_domain::DomainError::Forbidden {
            reason: "no".into(),
        });
        assert_eq!((e.code, e.field), (ErrorCode::Forbidden, None));
        let wire = serde_json::to_value(ErrorBody::invalid("title", "is empty")).unwrap();
        assert_eq!(
            wire,
            json!({"code": "invalid", "message": "invalid title: is empty",
                   "field": "title", "reason": "is empty"})
        );
    }
}
