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

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "headers": { "X-Request-Id": { "$ref": "#/components/headers/RequestId" } },
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn errors(codes: &[(&str, &str)]) -> Map<String, Value> {
    codes
        .iter()
        .map(|(code, description)| ((*code).to_owned(), problem(description)))
        .collect()
}

/// The path parameters of `path`, with their schemas.
fn path_parameters(route: &Route) -> Vec<Value> {
    route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let organisation = route.path.starts_with("/organisations/") && name == "id";
            let schema = if organisation {
                json!({ "type": "string", "pattern": ORGANISATION_ID_PATTERN, "examples": ["GB-GOV-1"] })
            } else {
                json!({ "type": "string", "format": "uuid", "examples": ["01930000-0000-7000-8000-000000000065"] })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// The properties of a component schema (the query parameters of a view).
fn properties(components: &Map<String, Value>, reference: &Value) -> Vec<(String, Value)> {
    let name = reference
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or_default();
    components
        .get(name)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The whole document.
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
                    ("429", "too many requests: wait as Retry-After says"),
                    ("503", "the service is not available"),
                    ("504", "the service did not answer in time"),
                ]);
                let status = if c.creates.is_some() { "201" } else { "200" };
                let mut headers = json!({
                    "ETag": { "description": "the aggregate's version: send it back as If-Match", "schema": { "type": "string" } },
                    "X-Request-Id": { "$ref": "#/components/headers/RequestId" },
                });
                if c.creates.is_some() {
                    headers["Location"] = json!({ "description": "the new object's URL", "schema": { "type": "string" } });
                }
                responses.insert(
                    status.to_owned(),
                    json!({
                        "description": if c.creates.is_some() { "created (or, for a repeated Idempotency-Key, the first answer)" } else { "recorded (or the first answer to this Idempotency-Key)" },
                        "headers": headers,
                        "content": { "application/json": { "schema": answer } }
                    }),
                );
                operation["requestBody"] = json!({
                    "required": true,
                    "content": { "application/json": { "schema": input } }
                });
            }
            Target::View(v) => {
                for (name, schema) in properties(&components, input.as_value()) {
                    if v.id_param == Some(name.as_str()) {
                        continue;
                    }
                    if !v.paged && (name == "limit" || name == "cursor") {
                        continue;
                    }
                    let description = schema.get("description").cloned().unwrap_or(Value::Null);
                    let mut p =
                        json!({ "name": name, "in": "query", "required": false, "schema": schema });
                    if !description.is_null() {
                        p["description"] = description;
                    }
                    parameters.push(p);
                }
                parameters.push(json!({ "$ref": "#/components/parameters/RequestId" }));
                responses = errors(&[
                    ("400", "a bad query parameter; `field` names it"),
                    ("401", "missing, unknown, expired or revoked token"),
                    ("403", "the token's role may not use this filter"),
                    (
                        "404",
                        "the object does not exist or the caller may not see it",
                    ),
                    ("429", "too many requests: wait as Retry-After says"),
                    ("503", "the read model is not available"),
                    (
                        "504",
                        "the read model did not answer in time (e.g. min_position not reached)",
                    ),
                ]);
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
    let schemas = components;
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
                    "schema": { "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$" }
                }
            },
            "headers": {
                "RequestId": { "description": "the request's correlation id", "schema": { "type": "string" } }
            }
        },
        "security": [ { "bearer": [] } ],
    })
}
