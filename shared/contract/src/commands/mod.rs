//! The body of every command, per aggregate: what a caller sends (over HTTP, the path names the
//! aggregate; over NATS, the body's `id` does), and how it becomes the domain's command. The
//! business date `on` may be left out: the service dates the fact today.
//!
//! Three shapes are shared by most moves (`Dated`, `Move`, `Ending`); the rest have a struct of
//! their own in their aggregate's module. Every struct refuses fields it does not know, by name.

/// Declares a command's body: it refuses fields it does not know, by name, and ends with the
/// business date `on` every command takes (default: today, filled in by `decode`).
macro_rules! request {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name {
            $($fields)*
            /// The business date it happened on (default: today).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
            pub on: Option<Date>,
        }
    };
}

/// The domain command `$variant` from a decoded body: the fields given first (with their value, or
/// by their own name), then those copied from the body's fields of the same name:
/// `from_body!(C::Amend { id, on: body.on.unwrap_or(today) } from body: title, budget)`. A
/// creation (`new`) takes its `id` from the body, minted when not given, and `on` (default: today):
/// `from_body!(new C::Draft on today from body: title, budget)`.
macro_rules! from_body {
    (new $($variant:ident)::+ on $today:ident from $body:ident: $($field:ident),+ $(,)?) => {
        from_body!($($variant)::+ {
            id: $body.id.unwrap_or_else(::uuid::Uuid::now_v7),
            on: $body.on.unwrap_or($today),
        } from $body: $($field),+)
    };
    (
        $($variant:ident)::+ { $($given:ident $(: $value:expr)?),* $(,)? }
        from $body:ident: $($field:ident),+ $(,)?
    ) => {
        $($variant)::+ { $($given $(: $value)?,)* $($field: $body.$field,)+ }
    };
}

pub mod account;
pub mod assessment;
pub mod need;
pub mod offer;
pub mod organisation;
pub mod progress;
pub mod project;
pub mod rates;
pub mod recommendation;
pub mod referral;
pub mod report;
pub mod sharing;
pub mod token;

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ErrorBody;

/// A move with nothing but its date (e.g. the State's observations received, an offer expired).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dated {
    /// The business date it happened on (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
}

/// A move along a lifecycle, with an optional "why".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The business date it happened on (default: today); not before the previous move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    /// Why, for the record.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A move that ends something (withdraw, decline, lapse, revoke...): the reason is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ending {
    /// The business date it happened on (default: today); not before the previous move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub on: Option<Date>,
    /// Why it ends.
    pub reason: String,
}

/// The body of a command on one aggregate as it travels over NATS: the aggregate's `id` beside
/// the body's own fields (over HTTP the path names the aggregate). What one service sends
/// another, e.g. `Addressed { id, body: need::RecordCoverage { .. } }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Addressed<I, T> {
    pub id: I,
    #[serde(flatten)]
    pub body: T,
}

/// Decodes a whole body, naming the field that does not fit. A body is an object (serde would
/// read a struct from an array too, and blame its first element).
pub(crate) fn whole<T: DeserializeOwned>(body: &Value) -> Result<T, ErrorBody> {
    if !body.is_object() {
        return Err(ErrorBody::invalid("body", "must be a JSON object"));
    }
    crate::error::from_value(body)
}

/// How a body names its aggregate: a UUID, or an organisation's code.
pub(crate) trait AggregateId: Sized {
    fn from_value(id: &Value) -> Result<Self, ErrorBody>;
}

impl AggregateId for Uuid {
    fn from_value(id: &Value) -> Result<Self, ErrorBody> {
        id.as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| ErrorBody::invalid("id", "must be a UUID"))
    }
}

impl AggregateId for String {
    fn from_value(id: &Value) -> Result<Self, ErrorBody> {
        id.as_str()
            .map(str::to_owned)
            .ok_or_else(|| ErrorBody::invalid("id", "must be an organisation's code"))
    }
}

/// A command's body and the day it is decoded on, the default of its `on`.
pub(crate) struct Body {
    value: Value,
    today: Date,
}

impl Body {
    pub(crate) fn new(value: Value, today: Date) -> Self {
        Self { value, today }
    }

    /// The whole body: a creation, whose id is one of its fields.
    pub(crate) fn whole<T: DeserializeOwned>(&self) -> Result<T, ErrorBody> {
        whole(&self.value)
    }

    /// The aggregate's `id`, taken out of the body, and the rest.
    pub(crate) fn item<I: AggregateId, T: DeserializeOwned>(self) -> Result<(I, T), ErrorBody> {
        let (id, rest) = take_id(self.value)?;
        Ok((I::from_value(&id)?, whole(&rest)?))
    }

    /// A move with nothing but its date ([`Dated`]): the command `make` builds from the id and
    /// the date.
    pub(crate) fn dated<I: AggregateId, C>(
        self,
        make: impl FnOnce(I, Date) -> C,
    ) -> Result<C, ErrorBody> {
        let today = self.today;
        let (id, body): (I, Dated) = self.item()?;
        Ok(make(id, body.on.unwrap_or(today)))
    }

    /// A [`Move`]: the command `make` builds from the id, the date and the optional reason.
    pub(crate) fn moved<I: AggregateId, C>(
        self,
        make: impl FnOnce(I, Date, Option<String>) -> C,
    ) -> Result<C, ErrorBody> {
        let today = self.today;
        let (id, body): (I, Move) = self.item()?;
        Ok(make(id, body.on.unwrap_or(today), body.reason))
    }

    /// An [`Ending`]: the command `make` builds from the id, the date and the reason.
    pub(crate) fn ended<I: AggregateId, C>(
        self,
        make: impl FnOnce(I, Date, String) -> C,
    ) -> Result<C, ErrorBody> {
        let today = self.today;
        let (id, body): (I, Ending) = self.item()?;
        Ok(make(id, body.on.unwrap_or(today), body.reason))
    }
}

fn take_id(body: Value) -> Result<(Value, Value), ErrorBody> {
    let Value::Object(mut map) = body else {
        return Err(ErrorBody::invalid("body", "must be a JSON object"));
    };
    let id = map
        .remove("id")
        .ok_or_else(|| ErrorBody::invalid("id", "is required"))?;
    Ok((id, Value::Object(map)))
}

pub(crate) fn unknown(action: &str) -> ErrorBody {
    ErrorBody::invalid("verb", &format!("unknown command {action:?}"))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;
    use tatrack_domain::aggregate::Dated as _;
    use tatrack_domain::assessment::AssessmentCommand;

    use super::*;

    fn plan() -> Value {
        json!({"member_state": "KE", "kind": "desk_review", "resolutions": [1373],
               "title": "t", "visit_start": "2026-02-01", "visit_end": "2026-02-05",
               "classification": "restricted"})
    }

    fn refused(action: &str, body: Value) -> String {
        let e = assessment::decode(action, body, date(2026, 3, 1)).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::Invalid, "{e:?}");
        e.field.unwrap_or_default()
    }

    #[test]
    fn on_defaults_to_today_and_a_given_one_is_kept() {
        let today = date(2026, 3, 1);
        let command = assessment::decode("plan", plan(), today).unwrap();
        assert_eq!(command.on(), today);
        let mut dated = plan();
        dated["on"] = json!("2026-01-31");
        let command = assessment::decode("plan", dated, today).unwrap();
        assert_eq!(command.on(), date(2026, 1, 31));
        let id = Uuid::now_v7();
        let command =
            assessment::decode("adopt", json!({"id": id, "reason": null}), today).unwrap();
        assert_eq!(
            command,
            AssessmentCommand::Adopt {
                id,
                on: today,
                reason: None
            }
        );
    }

    #[test]
    fn bad_bodies_are_refused_naming_the_field() {
        let edit = |f: &dyn Fn(&mut Value)| {
            let mut body = plan();
            f(&mut body);
            body
        };
        assert_eq!(
            refused("plan", edit(&|b| b["colour"] = json!("red"))),
            "colour"
        );
        assert_eq!(
            refused(
                "plan",
                edit(&|b| {
                    b.as_object_mut().unwrap().remove("title");
                })
            ),
            "title"
        );
        assert_eq!(refused("plan", edit(&|b| b["title"] = json!(5))), "title");
        assert_eq!(
            refused("plan", edit(&|b| b["kind"] = json!("nope"))),
            "kind"
        );
        assert_eq!(
            refused("plan", edit(&|b| b["visit_start"] = json!("2026-02-30"))),
            "visit_start"
        );
        assert_eq!(
            refused("plan", edit(&|b| b["on"] = json!("2026-02-30"))),
            "on"
        );
        assert_eq!(refused("plan", json!([1, 2])), "body");
        assert_eq!(refused("adopt", json!({"on": "2026-01-01"})), "id");
        assert_eq!(refused("adopt", json!({"id": "x"})), "id");
        assert_eq!(
            refused("adopt", json!({"id": Uuid::now_v7(), "colour": 1})),
            "colour"
        );
        assert_eq!(refused("fly", json!({})), "verb");
    }

    #[test]
    fn the_rate_table_is_the_one_table_unless_named() {
        let command = rates::decode("record", json!({"rates": []}), date(2026, 3, 1)).unwrap();
        let tatrack_domain::rates::RateTableCommand::Record { id, .. } = command;
        assert_eq!(id, tatrack_domain::rates::TABLE_ID);
    }

    #[test]
    fn an_addressed_body_puts_the_id_beside_the_fields() {
        let id = Uuid::from_u128(7);
        let body = need::RecordCoverage {
            covered_money: None,
            covered_units: Some(3),
            on: Some(date(2026, 3, 1)),
        };
        let wire = serde_json::to_value(Addressed { id, body }).unwrap();
        assert_eq!(
            wire,
            json!({"id": id, "covered_money": null, "covered_units": 3, "on": "2026-03-01"})
        );
        let command = need::decode("record_coverage", wire, date(2026, 3, 2)).unwrap();
        assert_eq!(command.on(), date(2026, 3, 1));
    }

    #[test]
    fn a_revocation_says_who_keeps_access_or_why_it_cannot() {
        let reply = crate::CommandReply {
            id: "g".into(),
            stream: "sharing_grant-g".into(),
            first_position: 3,
            last_position: 3,
            stream_version: 2,
            idempotent: false,
        };
        let known = sharing::Revoked {
            reply: reply.clone(),
            keeps_access: Some(sharing::KeepsAccess::Known(vec![])),
        };
        let wire = serde_json::to_value(&known).unwrap();
        assert_eq!(wire["keeps_access"], json!([]));
        assert_eq!(wire["first_position"], 3);
        assert_eq!(
            serde_json::from_value::<sharing::Revoked>(wire).unwrap(),
            known
        );
        let unknown = json!({"id": "g", "stream": "sharing_grant-g", "first_position": 3,
            "last_position": 3, "stream_version": 2, "idempotent": false,
            "keeps_access": {"unknown": "the read model cannot say yet"}});
        assert!(matches!(
            serde_json::from_value::<sharing::Revoked>(unknown)
                .unwrap()
                .keeps_access,
            Some(sharing::KeepsAccess::Unknown { .. })
        ));
        let repeated = serde_json::to_value(&reply).unwrap();
        assert_eq!(
            serde_json::from_value::<sharing::Revoked>(repeated)
                .unwrap()
                .keeps_access,
            None
        );
    }
}
