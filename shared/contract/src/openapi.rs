//! The OpenAPI 3.1 document, written from the route table and the types' JSON Schemas (2020-12,
//! the dialect OpenAPI 3.1 uses), so every body and every answer has its full schema and the
//! document states exactly what the gateway enforces.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::error::Problem;
use crate::routes::{self, Method, Route, Target};

/// The `If-Match` values the gateway takes: an ETag it gave (`"3"`, also weak `W/"3"`). Anything
/// else is refused with 400 naming the header; a version that is no longer current is 412.
pub const IF_MATCH_PATTERN: &str = r#"^(W/)?"[0-9]+"$"#;

/// An organisation's code (its id).
pub const ORGANISATION_ID_PATTERN: &str = "^[A-Za-z0-9_-]{2,64}$";

/// An object's stream: `<aggregate>-<id>`, the id a UUID or an organisation's code.
pub const STREAM_PATTERN: &str = "^[a-z_]{2,32}-[A-Za-z0-9_-]{2,64}$";

/// The `X-Request-Id` the gateway takes and returns.
pub const REQUEST_ID_PATTERN: &str = "^[A-Za-z0-9._:-]{1,128}$";

/// The ETag of a command's answer: the aggregate's version.
pub const ETAG_PATTERN: &str = r#"^"[0-9]+"$"#;

/// The `Location` of a created object: its collection and id, under the API's prefix.
pub const LOCATION_PATTERN: &str = "^/api/v1/[a-z-]+/[A-Za-z0-9_-]+$";

fn problem(code: &str, description: &str) -> Value {
    let mut headers = json!({ "X-Request-Id": { "$ref": "#/components/headers/RequestId" } });
    if code == "401" {
        headers["WWW-Authenticate"] = json!({ "$ref": "#/components/headers/WwwAuthenticate" });
    }
    if code == "429" {
        headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" });
    }
    if code == "503" {
        headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfterIfBusy" });
    }
    json!({
        "description": description,
        "headers": headers,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn errors(codes: &[(&str, &str)]) -> Map<String, Value> {
    codes
        .iter()
        .map(|(code, description)| ((*code).to_owned(), problem(code, description)))
        .collect()
}

/// A query parameter's schema: an `Option` field of the view's parameters is optional, not
/// nullable (a query string has no `null`), so `null` is taken out of its types.
fn not_null(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = match rest.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(rest),
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let rest: Vec<Value> = options
                .iter()
                .filter(|o| o.get("type").is_none_or(|t| t != "null"))
                .cloned()
                .collect();
            if let ([one], Some(map)) = (rest.as_slice(), schema.as_object_mut()) {
                let one = one.clone();
                map.remove(key);
                if let Value::Object(inner) = one {
                    map.extend(inner);
                }
            } else {
                schema[key] = Value::Array(rest);
            }
        }
    }
    if schema.get("default").is_some_and(Value::is_null)
        && let Some(map) = schema.as_object_mut()
    {
        map.remove("default");
    }
    schema
}

/// The component a `{"$ref": "#/components/schemas/X"}` names.
fn component<'a>(components: &'a Map<String, Value>, reference: &Value) -> Option<&'a Value> {
    let name = reference
        .get("$ref")
        .and_then(Value::as_str)?
        .strip_prefix("#/components/schemas/")?;
    components.get(name)
}

/// A body schema without the fields the path gives.
fn without(schema: &Value, given: &[&str]) -> Value {
    let mut schema = schema.clone();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for name in given {
            properties.remove(*name);
        }
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| !given.iter().any(|g| r == g));
    }
    let note = format!("The path gives {}.", given.join(" and "));
    schema["description"] = match schema.get("description").and_then(Value::as_str) {
        Some(d) => Value::String(format!("{d}\n\n{note}")),
        None => Value::String(note),
    };
    schema
}

/// The components `root` refers to, directly or through other components.
fn used(mut components: Map<String, Value>, root: &Value) -> Map<String, Value> {
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.push(name.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut kept = Map::new();
    let mut todo = Vec::new();
    refs(root, &mut todo);
    while let Some(name) = todo.pop() {
        if let Some(schema) = components.remove(&name) {
            refs(&schema, &mut todo);
            kept.insert(name, schema);
        }
    }
    kept
}

/// An example body for a command, where one says more than the schema: every example is checked
/// against its route's type by a test, so none can drift from what the gateway takes.
fn example(operation: &str, body: &str) -> Option<Value> {
    Some(match (operation, body) {
        ("plan_assessment", _) => json!({
            "member_state": "KE", "kind": "comprehensive_visit", "resolutions": [1373, 2178],
            "title": "Assessment visit", "visit_start": "2026-03-02", "visit_end": "2026-03-06",
            "classification": "restricted", "on": "2026-02-02"
        }),
        ("record_recommendation", _) => json!({
            "assessment_id": "01930000-0000-7000-8000-000000000001", "theme": "BOR",
            "priority": 1, "text": "Screen travellers against the watch lists at every border post.",
            "on": "2026-05-15"
        }),
        ("identify_need", _) => json!({
            "member_state": "KE", "recommendation_ids": ["01930000-0000-7000-8000-000000000002"],
            "theme": "BOR", "modality": "training", "description": "Train 200 border officers",
            "beneficiary_institution": "Border Police Unit",
            "estimated_cost": { "amount_minor": 45_000_000, "currency": "USD" },
            "size": { "measure": "officers trained", "quantity": 200 }, "priority": 1,
            "on": "2026-05-20"
        }),
        ("grant_sharing", _) => json!({
            "member_state": "KE",
            "scope": { "type": "need", "need_id": "01930000-0000-7000-8000-000000000003" },
            "audience": { "type": "organisations", "ids": ["GB-GOV-1"] }, "until": "2027-12-31",
            "on": "2026-06-12"
        }),
        ("register_organisation", _) => json!({
            "id": "GB-GOV-1", "name": "Foreign, Commonwealth and Development Office",
            "kind": "donor_government", "iati_type": "10", "iati_identifier": "GB-GOV-1",
            "country": "GB", "on": "2026-01-02"
        }),
        ("draft_offer", _) => json!({
            "organisation": "GB-GOV-1", "title": "Border officer training", "themes": ["BOR"],
            "countries": ["KE"], "regions": [], "modalities": ["training"],
            "budget": { "amount_minor": 30_000_000, "currency": "USD" },
            "capacity": { "measure": "officers trained", "quantity": 150 },
            "valid_from": "2026-01-01", "valid_until": "2027-12-31", "languages": ["en"],
            "on": "2026-05-01"
        }),
        ("propose_referral", _) => json!({
            "need_id": "01930000-0000-7000-8000-000000000003",
            "offer_id": "01930000-0000-7000-8000-000000000004", "share_units": 100,
            "on": "2026-06-20"
        }),
        ("create_project", _) => json!({
            "iati_identifier": "GB-GOV-1-BOR-2026-01", "title": "Border management training",
            "description": "Training of border officers", "recipient_country": "KE",
            "theme": "BOR", "dac_sector": "15210",
            "participating": [{ "organisation": "GB-GOV-1", "role": "1" },
                              { "organisation": "GB-GOV-1", "role": "4" }],
            "planned_start": "2026-09-01", "planned_end": "2027-08-31",
            "budget": { "amount_minor": 10_000_000, "currency": "USD" },
            "needs": ["01930000-0000-7000-8000-000000000003"], "on": "2026-08-20"
        }),
        ("add_project_transaction", _) => json!({
            "kind": "commitment", "value": { "amount_minor": 100_000, "currency": "USD" },
            "provider": "GB-GOV-1", "on": "2026-09-15"
        }),
        ("add_project_milestone", _) => json!({
            "title": "First course held", "due": "2026-12-15", "on": "2026-09-01"
        }),
        ("draft_progress_report", _) => json!({
            "project_id": "01930000-0000-7000-8000-000000000005", "period_start": "2026-09-01",
            "period_end": "2026-10-31", "narrative": "First course held.", "on": "2026-10-31"
        }),
        ("update_recommendation_status", _) => json!({
            "to": "in_progress", "source": "state_response", "on": "2026-06-15",
            "reason": "the State reported the new screening procedure in force"
        }),
        ("amend_need", _) => json!({
            "priority": 2, "size": { "measure": "officers trained", "quantity": 150 },
            "on": "2026-06-15"
        }),
        ("update_organisation", _) => json!({ "name": "FCDO", "on": "2026-06-01" }),
        ("amend_offer", _) => json!({
            "capacity": { "measure": "officers trained", "quantity": 200 },
            "valid_until": "2028-06-30", "on": "2026-08-01"
        }),
        ("activate_referral", _) => json!({
            "project_id": "01930000-0000-7000-8000-000000000005", "on": "2026-09-01"
        }),
        ("change_project_status", _) => json!({ "to": "2", "on": "2026-09-01" }),
        ("join_project_referral", _) => json!({
            "referral_id": "01930000-0000-7000-8000-000000000006",
            "need_id": "01930000-0000-7000-8000-000000000003", "on": "2026-09-01"
        }),
        ("set_project_budget", _) => json!({
            "budget": { "amount_minor": 12_000_000, "currency": "USD" }, "on": "2026-09-01"
        }),
        ("complete_project_milestone", _) => json!({ "on": "2026-12-10" }),
        ("add_project_result", _) => json!({
            "title": "Officers trained",
            "indicators": [{ "indicator_id": "01930000-0000-7000-8000-000000000007",
                             "title": "Officers trained", "measure": "1", "baseline": 0,
                             "target": 150 }],
            "on": "2026-09-01"
        }),
        ("record_indicator_actual", _) => json!({ "value": 40, "on": "2026-12-15" }),
        ("add_project_document", _) => json!({
            "url": "https://example.org/course-report.pdf", "title": "Course report",
            "category": "A01", "on": "2026-12-20"
        }),
        ("revise_progress_report", _) => json!({
            "narrative": "First course held; 40 officers trained.", "on": "2026-10-31"
        }),
        ("record_rates", _) => json!({
            "on": "2026-01-01",
            "rates": [{ "currency": "EUR", "per_usd": { "numerator": 92, "denominator": 100 } }]
        }),
        ("issue_token", _) => json!({
            "role": "donor", "organisation": "GB-GOV-1", "label": "reporting script"
        }),
        ("make_report", _) => {
            json!({ "format": "markdown", "member_state": "KE", "as_of": "2026-12-31" })
        }
        (_, "Move") => json!({ "on": "2026-06-30", "reason": "as agreed at the review meeting" }),
        (_, "Ending") => json!({ "on": "2026-06-30", "reason": "no longer needed" }),
        (_, "Dated") => json!({ "on": "2026-06-30" }),
        _ => return None,
    })
}

/// The path parameters of `path`, with their schemas.
fn path_parameters(route: &Route) -> Vec<Value> {
    route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let organisation = route.path.starts_with("/organisations/") && name == "id";
            let stream = route.path.starts_with("/streams/") && name == "id";
            let schema = if organisation {
                json!({ "type": "string", "pattern": ORGANISATION_ID_PATTERN, "examples": ["GB-GOV-1"] })
            } else if stream {
                json!({ "type": "string", "pattern": STREAM_PATTERN, "examples": ["offer-01930000-0000-7000-8000-000000000065"] })
            } else {
                json!({ "type": "string", "format": "uuid", "examples": ["01930000-0000-7000-8000-000000000065"] })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// The properties of a component schema (the query parameters of a view).
fn properties(components: &Map<String, Value>, reference: &Value) -> Vec<(String, Value)> {
    component(components, reference)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The whole document.
#[expect(
    clippy::too_many_lines,
    reason = "one document, its responses and components written where they are read"
)]
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    // Every error response names it.
    generator.subschema_for::<Problem>();
    let routes = routes::routes();
    // First pass: every schema the routes name, so query parameters can be read off them.
    let mut refs = Vec::new();
    for route in &routes {
        refs.push(match route.target {
            Target::Command(c) => ((c.body)(&mut generator), (c.answer)(&mut generator)),
            Target::View(v) => (
                (v.params_schema)(&mut generator),
                (v.answer)(&mut generator),
            ),
        });
    }
    let components: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let mut paths: Map<String, Value> = Map::new();
    for (route, (input, answer)) in routes.iter().zip(refs) {
        let mut parameters = path_parameters(route);
        let has_path_parameters = !parameters.is_empty();
        let mut responses;
        let mut operation = json!({
            "operationId": route.operation,
            "summary": route.summary,
            "tags": [route.tag],
        });
        match route.target {
            Target::Command(c) => {
                parameters.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
                parameters.push(json!({ "$ref": "#/components/parameters/IfMatch" }));
                parameters.push(json!({ "$ref": "#/components/parameters/RequestId" }));
                responses = errors(&[
                    (
                        "400",
                        "bad input (a body field, a path parameter or a header); `field` names it; nothing is written",
                    ),
                    ("401", "missing, unknown, expired or revoked token"),
                    ("403", "the token's role may not do this"),
                    (
                        "404",
                        "the object does not exist or the caller may not see it",
                    ),
                    (
                        "409",
                        "conflict: already exists, changed concurrently, or an Idempotency-Key reused for another command",
                    ),
                    ("412", "If-Match names a version that is no longer current"),
                    ("413", "the body is over 1 MiB"),
                    (
                        "429",
                        "too many requests from this token (or too many reports): wait Retry-After seconds",
                    ),
                    (
                        "503",
                        "the service is not available, or the gateway is busy (then with Retry-After)",
                    ),
                    ("504", "the service did not answer in time"),
                ]);
                let status = if c.creates.is_some() { "201" } else { "200" };
                let mut headers = json!({
                    "ETag": { "$ref": "#/components/headers/ETag" },
                    "X-Request-Id": { "$ref": "#/components/headers/RequestId" },
                });
                if c.creates.is_some() {
                    headers["Location"] = json!({ "$ref": "#/components/headers/Location" });
                }
                responses.insert(
                    status.to_owned(),
                    json!({
                        "description": if c.creates.is_some() { "created (or, for a repeated Idempotency-Key, the first answer)" } else { "recorded (or the first answer to this Idempotency-Key)" },
                        "headers": headers,
                        "content": { "application/json": { "schema": answer } }
                    }),
                );
                let body = component(&components, input.as_value());
                let name = input
                    .as_value()
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.rsplit('/').next())
                    .unwrap_or_default();
                // Path parameters other than `{id}` fill the body field of the same name: the
                // body documented is the type without them.
                let given: Vec<&str> = route
                    .path
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                    .filter(|p| *p != "id")
                    .collect();
                let schema = match body {
                    Some(body) if !given.is_empty() => without(body, &given),
                    _ => input.as_value().clone(),
                };
                // A body with no required field may be left out: an empty body is `{}`.
                let documented = if given.is_empty() {
                    body
                } else {
                    Some(&schema)
                };
                let required = documented
                    .and_then(|b| b["required"].as_array())
                    .is_some_and(|r| !r.is_empty());
                let mut media = json!({ "schema": schema });
                if let Some(example) = example(route.operation, name) {
                    media["examples"] = json!({ "example": { "value": example } });
                }
                operation["requestBody"] = json!({
                    "required": required,
                    "content": { "application/json": media }
                });
            }
            Target::View(v) => {
                let mut filters_by_consent = false;
                for (name, schema) in properties(&components, input.as_value()) {
                    if v.id_param == Some(name.as_str()) {
                        continue;
                    }
                    if !v.paged && (name == "limit" || name == "cursor") {
                        continue;
                    }
                    filters_by_consent |= name == "consent";
                    let schema = not_null(&schema);
                    let description = schema.get("description").cloned().unwrap_or(Value::Null);
                    let mut p =
                        json!({ "name": name, "in": "query", "required": false, "schema": schema });
                    if !description.is_null() {
                        p["description"] = description;
                    }
                    parameters.push(p);
                }
                parameters.push(json!({ "$ref": "#/components/parameters/RequestId" }));
                let mut codes = vec![
                    (
                        "400",
                        "a bad query parameter or path parameter; `field` names it",
                    ),
                    ("401", "missing, unknown, expired or revoked token"),
                ];
                // The read model refuses a filter only for `consent` (not for donors), and
                // answers "not found" only for an object named by the path.
                if filters_by_consent {
                    codes.push(("403", "the token's role may not use this filter"));
                }
                if has_path_parameters {
                    codes.push((
                        "404",
                        "the object does not exist or the caller may not see it",
                    ));
                }
                codes.push((
                    "429",
                    "too many requests from this token: wait Retry-After seconds",
                ));
                codes.push((
                    "503",
                    "the read model is not available, or the gateway is busy (then with Retry-After)",
                ));
                codes.push((
                    "504",
                    "the read model did not answer in time (e.g. min_position not reached)",
                ));
                responses = errors(&codes);
                responses.insert(
                    "200".to_owned(),
                    json!({
                        "description": "the answer",
                        "headers": { "X-Request-Id": { "$ref": "#/components/headers/RequestId" } },
                        "content": { "application/json": { "schema": answer } }
                    }),
                );
            }
        }
        operation["parameters"] = Value::Array(parameters);
        operation["responses"] = Value::Object(responses);
        let method = match route.method {
            Method::Get => "get",
            Method::Post => "post",
        };
        let path = format!("{}{}", routes::PREFIX, route.path);
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = operation;
    }
    // The views' parameter types were components only to be read as query parameters.
    let schemas = used(components, &Value::Object(paths.clone()));
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "tatrack",
            "version": "1",
            "description": "Counter-terrorism technical assistance: assessments, needs, offers, referrals, projects and reports. Every fact carries the business date it happened on (`on`, default today); every view answers `as_of` a business date and `known_at` a time or log positions. Errors are RFC 9457 problem+json naming the field.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "an access token `tt_...` (tatrack token issue, or POST /api/v1/tokens)" }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "a UUID: the same key with the same body returns the first answer and records nothing; with another body it is refused (409)",
                    "schema": { "type": "string", "format": "uuid" }
                },
                "IfMatch": {
                    "name": "If-Match", "in": "header", "required": false,
                    "description": "the ETag last seen (`\"3\"`): a version that is no longer current answers 412; a value that is not an ETag this API gave answers 400",
                    "schema": { "type": "string", "pattern": IF_MATCH_PATTERN, "examples": ["\"3\""] }
                },
                "RequestId": {
                    "name": "X-Request-Id", "in": "header", "required": false,
                    "description": "a correlation id for the request (default: one is made); it is logged by every service the request reaches and returned",
                    "schema": { "type": "string", "pattern": REQUEST_ID_PATTERN }
                }
            },
            "headers": {
                "RequestId": {
                    "description": "the request's correlation id: the caller's `X-Request-Id`, else one made for it",
                    "required": true,
                    "schema": { "type": "string", "pattern": REQUEST_ID_PATTERN }
                },
                "ETag": {
                    "description": "the aggregate's version after the command: send it back as If-Match",
                    "required": true,
                    "schema": { "type": "string", "pattern": ETAG_PATTERN, "examples": ["\"3\""] }
                },
                "Location": {
                    "description": "the new object's URL",
                    "required": true,
                    "schema": { "type": "string", "pattern": LOCATION_PATTERN, "examples": ["/api/v1/needs/01930000-0000-7000-8000-000000000065"] }
                },
                "RetryAfter": {
                    "description": "seconds to wait before asking again",
                    "required": true,
                    "schema": { "type": "string", "pattern": "^[1-9][0-9]*$" }
                },
                "RetryAfterIfBusy": {
                    "description": "when the gateway is busy: seconds to wait before asking again",
                    "required": false,
                    "schema": { "type": "string", "pattern": "^[1-9][0-9]*$" }
                },
                "WwwAuthenticate": {
                    "description": "the scheme to authenticate with",
                    "required": true,
                    "schema": { "type": "string", "const": "Bearer realm=\"tatrack\"" }
                }
            }
        },
        "security": [ { "bearer": [] } ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_an_example_the_gateway_takes() {
        let mut generator = SchemaSettings::draft2020_12().into_generator();
        let mut checked = 0;
        for route in routes::routes() {
            let Target::Command(c) = route.target else {
                continue;
            };
            let body = (c.body)(&mut generator);
            let name = body
                .as_value()
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .unwrap_or_default()
                .to_owned();
            let mut example = example(route.operation, &name)
                .unwrap_or_else(|| panic!("{}: no example", route.operation));
            // The path gives its parameters (the gateway puts them in the body it checks).
            for parameter in route
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .filter(|p| *p != "id")
            {
                example[parameter] = json!("01930000-0000-7000-8000-000000000008");
            }
            (c.check)(&example).unwrap_or_else(|e| panic!("{}: {e:?}", route.operation));
            checked += 1;
        }
        assert!(checked > 40, "{checked} examples");
    }

    #[test]
    fn query_parameters_are_optional_not_nullable() {
        let document = document();
        let mut seen = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            let Some(parameters) = item["get"]["parameters"].as_array() else {
                continue;
            };
            for p in parameters.iter().filter(|p| p["in"] == "query") {
                seen += 1;
                let text = p["schema"].to_string();
                assert!(!text.contains("null"), "{path} {}: {text}", p["name"]);
            }
        }
        assert!(seen > 50, "{seen} query parameters");
    }

    #[test]
    fn pages_are_named_by_their_items() {
        let document = document();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for name in [
            "NeedPage",
            "OfferPage",
            "TokenPage",
            "OverlapPage",
            "AssessmentPage",
        ] {
            assert!(schemas.contains_key(name), "{name}");
        }
        assert!(
            !schemas.keys().any(|k| k.starts_with("Page")),
            "{:?}",
            schemas.keys()
        );
        assert_eq!(
            document["paths"]["/api/v1/needs"]["get"]["responses"]["200"]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/NeedPage"
        );
    }
}
