//! Subject and stream names. Every name on the wire comes from here; services hold no literals.
//!
//! A log stream is named `<aggregate>-<id>` (for example `assessment-0191...`); its events go to
//! `tatrack.evt.<service>.<aggregate>.<id>` in the JetStream stream `TATRACK_<SERVICE>`.

/// The command services, each the owner of one event stream.
pub const SERVICES: [&str; 4] = ["assessments", "partners", "projects", "reporter"];

pub fn stream_name(service: &str) -> String {
    format!("TATRACK_{}", service.to_ascii_uppercase())
}

/// All event subjects of one service.
pub fn events_wildcard(service: &str) -> String {
    format!("tatrack.evt.{service}.>")
}

/// The subject of one event, from the name of the log stream it belongs to.
pub fn event_subject(service: &str, log_stream: &str) -> String {
    match log_stream.split_once('-') {
        Some((aggregate, id)) => format!("tatrack.evt.{service}.{aggregate}.{id}"),
        None => format!("tatrack.evt.{service}.{log_stream}"),
    }
}

/// The log stream name of one aggregate instance.
pub fn log_stream(aggregate: &str, id: &impl std::fmt::Display) -> String {
    format!("{aggregate}-{id}")
}

pub fn command_prefix(service: &str) -> String {
    format!("tatrack.cmd.{service}")
}

pub fn command_subject(service: &str, verb: &str) -> String {
    format!("tatrack.cmd.{service}.{verb}")
}

pub fn query_prefix() -> &'static str {
    "tatrack.qry"
}

pub fn query_subject(view: &str) -> String {
    format!("tatrack.qry.{view}")
}

/// Header names carried by commands and queries (DESIGN §4).
pub mod headers {
    pub const PRINCIPAL: &str = "Tatrack-Principal";
    pub const COMMAND_ID: &str = "Tatrack-Command-Id";
    pub const CORRELATION_ID: &str = "Tatrack-Correlation-Id";
    pub const MIN_POSITION: &str = "Tatrack-Min-Position";
    /// The stream version a command expects its aggregate at (HTTP `If-Match`); a different
    /// version is a conflict, never retried.
    pub const EXPECTED_VERSION: &str = "Tatrack-Expected-Version";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(stream_name("assessments"), "TATRACK_ASSESSMENTS");
        assert_eq!(
            event_subject("assessments", "need-0191"),
            "tatrack.evt.assessments.need.0191"
        );
        assert_eq!(
            event_subject("assessments", "sharing_grant-7"),
            "tatrack.evt.assessments.sharing_grant.7"
        );
        assert_eq!(log_stream("need", &42), "need-42");
        assert_eq!(
            command_subject("assessments", "record_assessment"),
            "tatrack.cmd.assessments.record_assessment"
        );
    }
}
