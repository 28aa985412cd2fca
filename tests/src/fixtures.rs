//! What the end-to-end test modules share besides the harness: principals, money, commands sent
//! straight to the service that answers their verb (found in the contract's table), refusals and
//! the services' heads.

use serde_json::{Value, json};
use tatrack_bus::rpc::{self, RequestMeta};
use tatrack_contract::bus::Verb;
use tatrack_domain::{Principal, Role};

use crate::{command_to, coordinator, principal};

pub fn donor(organisation: &str) -> Principal {
    principal(Role::Donor, Some(organisation), None)
}

pub fn focal_point(country: &str) -> Principal {
    principal(Role::StateFocalPoint, None, Some(country))
}

/// Money in major units of `currency` (two decimals for USD and EUR).
pub fn money(major: i64, currency: &str) -> Value {
    json!({ "amount_minor": major * 100, "currency": currency })
}

pub fn usd(major: i64) -> Value {
    money(major, "USD")
}

/// The command service that answers `verb`, as the contract's table says.
pub fn service_of(verb: &str) -> &'static str {
    Verb::ALL
        .iter()
        .find(|v| v.as_str() == verb)
        .unwrap_or_else(|| panic!("no service answers {verb}"))
        .service()
        .name()
}

/// Sends a command as `who` to the service that answers `verb`.
pub async fn send(
    client: &async_nats::Client,
    who: &Principal,
    verb: &str,
    body: &Value,
) -> Result<Value, rpc::Error> {
    let meta = RequestMeta::new(who.clone());
    command_to(client, &meta, service_of(verb), verb, body).await
}

/// A command that must be accepted; returns its reply.
pub async fn ok(client: &async_nats::Client, who: &Principal, verb: &str, body: &Value) -> Value {
    match send(client, who, verb, body).await {
        Ok(reply) => reply,
        Err(e) => panic!("{verb} as {}: refused {e:?}\nbody: {body}", who.role),
    }
}

/// The refusal a command or query met; panics if it was not refused.
pub fn remote(result: Result<Value, rpc::Error>) -> rpc::ErrorBody {
    match result {
        Err(rpc::Error::Remote(body)) => body,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub fn last_position(reply: &Value) -> u64 {
    reply["last_position"].as_u64().expect("last_position")
}

/// Each command service's durable head, by service: also the `min_positions` at which the read
/// model holds everything acknowledged.
pub async fn heads(client: &async_nats::Client) -> serde_json::Map<String, Value> {
    let mut heads = serde_json::Map::new();
    for service in tatrack_bus::subjects::SERVICES {
        let meta = RequestMeta::new(coordinator());
        let head = command_to(client, &meta, service, "admin_head", &json!({}))
            .await
            .unwrap();
        heads.insert(service.to_owned(), head["head"].clone());
    }
    heads
}

/// A stadium security project in KE funded by `donor` and implemented by UNOCT, serving `needs`,
/// with the donor's 50,000 EUR committed on 2026-08-01: the donor's name and money in the reports.
pub async fn donor_project(
    client: &async_nats::Client,
    donor: &str,
    iati_identifier: &str,
    title: &str,
    needs: &[&str],
) -> uuid::Uuid {
    let project = uuid::Uuid::now_v7();
    let meta = || RequestMeta::new(coordinator());
    command_to(client, &meta(), "projects", "project_create", &json!({
        "id": project, "iati_identifier": iati_identifier, "title": title,
        "description": "Protecting a stadium.", "recipient_country": "KE", "theme": "BOR",
        "dac_sector": "15210",
        "participating": [{"organisation": donor, "role": "1"}, {"organisation": "UNOCT", "role": "4"}],
        "planned_start": "2026-07-01", "planned_end": "2027-06-30",
        "budget": {"amount_minor": 5_000_000, "currency": "EUR"}, "needs": needs, "referrals": [],
        "on": "2026-07-01"}))
    .await
    .unwrap();
    command_to(
        client,
        &meta(),
        "projects",
        "project_add_transaction",
        &json!({
        "id": project, "transaction_id": uuid::Uuid::now_v7(), "kind": "commitment",
        "value": {"amount_minor": 5_000_000, "currency": "EUR"}, "on": "2026-08-01",
        "provider": donor, "receiver": "UNOCT", "description": "Grant"}),
    )
    .await
    .unwrap();
    project
}

/// The body of a move of aggregate `id` (publish, refer, accept, submit, ...) dated `on`, with no
/// reason.
pub fn moved(id: uuid::Uuid, on: &str) -> Value {
    json!({ "id": id, "on": on, "reason": null })
}
