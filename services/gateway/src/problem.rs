//! RFC 9457 problem details: every error the gateway answers, and the mapping from the services'
//! error codes to HTTP statuses. A 5xx is logged once with its cause; its details stay here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tatrack_bus::rpc::{self, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    /// Short, stable slug of the problem type (`unauthorized`, `invalid`...).
    pub kind: &'static str,
    pub detail: String,
    pub field: Option<String>,
    /// On a 412: the version the object is actually at.
    pub actual_version: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            field: None,
            actual_version: None,
        }
    }

    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid", detail)
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            field: Some("Authorization".to_owned()),
            ..Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
        }
    }

    /// Input refused by its contract type, before anything was sent to a service.
    pub fn from_error_body(body: tatrack_contract::ErrorBody) -> Self {
        let field = body.field.unwrap_or_else(|| "body".to_owned());
        Self::invalid(&field, body.message)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// The answer to a failed request to a service. `if_match`: the caller sent `If-Match`, so a
    /// conflict is a failed precondition.
    pub fn from_rpc(error: rpc::Error, if_match: bool) -> Self {
        match error {
            rpc::Error::Remote(body) => {
                let (status, kind) = match body.code {
                    ErrorCode::Invalid => (StatusCode::BAD_REQUEST, "invalid"),
                    ErrorCode::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                    ErrorCode::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
                    ErrorCode::Conflict if if_match => {
                        (StatusCode::PRECONDITION_FAILED, "precondition_failed")
                    }
                    ErrorCode::Conflict => (StatusCode::CONFLICT, "conflict"),
                    ErrorCode::AlreadyExists => (StatusCode::CONFLICT, "already_exists"),
                    ErrorCode::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
                    ErrorCode::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                    ErrorCode::Internal => {
                        tracing::error!(error = %body.message, "a service failed");
                        return Self::internal();
                    }
                };
                let field = match (body.code, body.field) {
                    (ErrorCode::Conflict, _) if if_match => Some("If-Match".to_owned()),
                    (_, field) => field,
                };
                Self {
                    field,
                    actual_version: body.actual_version,
                    ..Self::new(status, kind, body.message)
                }
            }
            rpc::Error::NoResponders(subject) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("no service answers {subject} now"),
            ),
            rpc::Error::Timeout(subject) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("{subject} did not answer in time"),
            ),
            rpc::Error::Transport(e) => {
                tracing::warn!(error = %e, "NATS request failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the message bus is not reachable now",
                )
            }
            rpc::Error::Decode(e) => {
                tracing::error!(error = %e, "a service reply was not understood");
                Self::internal()
            }
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// The problem+json body, as the contract declares it; it names the request's correlation
    /// id when one is being served.
    pub fn body(&self) -> tatrack_contract::Problem {
        tatrack_contract::Problem {
            kind: format!("urn:tatrack:problem:{}", self.kind),
            title: self.status.canonical_reason().unwrap_or("error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            field: self.field.clone(),
            actual_version: self.actual_version,
            request_id: rpc::current_request_id(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tatrack\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tatrack_bus::rpc::ErrorBody;

    fn remote(code: ErrorCode) -> rpc::Error {
        rpc::Error::Remote(ErrorBody::new(code, "x"))
    }

    #[test]
    fn service_errors_map_to_statuses() {
        let cases = [
            (ErrorCode::Invalid, false, 400),
            (ErrorCode::NotFound, false, 404),
            (ErrorCode::Forbidden, false, 403),
            (ErrorCode::Conflict, false, 409),
            (ErrorCode::Conflict, true, 412),
            (ErrorCode::AlreadyExists, false, 409),
            (ErrorCode::Timeout, false, 504),
            (ErrorCode::Unavailable, false, 503),
            (ErrorCode::Internal, false, 500),
        ];
        for (code, if_match, status) in cases {
            assert_eq!(
                Problem::from_rpc(remote(code), if_match).status.as_u16(),
                status,
                "{code:?}"
            );
        }
        let p = Problem::from_rpc(
            rpc::Error::Remote(ErrorBody::invalid("member_state", "unknown code")),
            false,
        );
        assert_eq!(p.field.as_deref(), Some("member_state"));
        assert_eq!(p.body().status, 400);
        assert_eq!(
            Problem::from_rpc(rpc::Error::NoResponders("s".into()), false)
                .status
                .as_u16(),
            503
        );
        let internal = Problem::from_rpc(
            rpc::Error::Remote(ErrorBody::new(ErrorCode::Internal, "disk on fire")),
            false,
        );
        assert_eq!(internal.detail, "internal error");
    }
}
