//! The OpenAPI 3.1 document, generated from the same tables the router serves (every command
//! verb of every service, every view), so it cannot fall behind the routes.

use serde_json::{Map, Value, json};

use crate::app::{COMMANDS, DEFAULT_LIMIT, MAX_LIMIT, VIEW_PARAMETERS, VIEWS};

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn errors(codes: &[(&str, &str)]) -> Map<String, Value> {
    codes
        .iter()
        .map(|(code, description)| ((*code).to_owned(), problem(description)))
        .collect()
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for (service, verbs) in COMMANDS {
        for verb in *verbs {
            let mut responses = errors(&[
                ("400", "bad input; `field` names it"),
                ("401", "missing, unknown or revoked token"),
                ("403", "the token's role may not do this"),
                ("404", "the object does not exist or is not visible"),
                ("409", "conflict or already exists"),
                ("412", "If-Match names a version that is no longer current"),
                ("503", "the service is not available"),
                ("504", "the service did not answer in time"),
            ]);
            responses.insert(
                "200".into(),
                json!({
                    "description": "recorded (or the first answer to this Idempotency-Key)",
                    "headers": { "ETag": { "description": "the aggregate's stream version, for If-Match", "schema": { "type": "string" } } },
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CommandReply" } } }
                }),
            );
            paths.insert(
                format!("/api/v1/{service}/{verb}"),
                json!({ "post": {
                    "operationId": verb,
                    "tags": [service],
                    "summary": format!("{} ({service} service)", verb.replace('_', " ")),
                    "parameters": [
                        { "name": "Idempotency-Key", "in": "header", "required": false,
                          "description": "a UUID; a repeated key returns the first answer and records nothing",
                          "schema": { "type": "string", "format": "uuid" } },
                        { "name": "If-Match", "in": "header", "required": false,
                          "description": "the ETag last seen; a newer version answers 412",
                          "schema": { "type": "string" } }
                    ],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "type": "object", "description": "the command's fields (see the CLI's --json output for examples)" } } } },
                    "responses": responses,
                }}),
            );
        }
    }
    for view in VIEWS {
        let mut parameters: Vec<Value> = VIEW_PARAMETERS
            .iter()
            .map(|(name, number)| {
                json!({ "name": name, "in": "query", "required": false,
                        "schema": { "type": if *number { "integer" } else { "string" } } })
            })
            .collect();
        let list = !view.ends_with("_show");
        if list {
            parameters.push(json!({ "name": "limit", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } }));
            parameters.push(json!({ "name": "cursor", "in": "query", "required": false,
                "description": "next_cursor of the previous page", "schema": { "type": "string" } }));
        }
        let schema = if list {
            json!({ "$ref": "#/components/schemas/Page" })
        } else {
            json!({ "type": "object" })
        };
        let mut responses = errors(&[
            ("400", "bad parameter; `field` names it"),
            ("401", "missing, unknown or revoked token"),
            ("403", "the token's role may not read this view"),
            ("404", "not found or not visible to this token"),
            ("503", "the read model is not available"),
            ("504", "the read model did not reach min_position in time"),
        ]);
        responses.insert(
            "200".into(),
            json!({ "description": "the answer", "content": { "application/json": { "schema": schema } } }),
        );
        paths.insert(
            format!("/api/v1/views/{view}"),
            json!({ "get": {
                "operationId": view,
                "tags": ["views"],
                "parameters": parameters,
                "responses": responses,
            }}),
        );
    }
    for (path, description) in [
        ("/healthz", "the process is up"),
        (
            "/readyz",
            "NATS is connected and the token fold has caught up",
        ),
        ("/metrics", "Prometheus text metrics"),
    ] {
        paths.insert(
            path.to_owned(),
            json!({ "get": { "security": [], "responses": {
                "200": { "description": description },
                "503": { "description": "not ready" } } } }),
        );
    }
    paths.insert(
        "/api/v1/openapi.json".to_owned(),
        json!({ "get": { "security": [], "responses": { "200": { "description": "this document" } } } }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tatrack",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Counter-terrorism technical assistance: needs, offers, projects. Every command and view over HTTP."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "tt_ and 64 hex characters, from `tatrack token issue`" }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "field": { "type": ["string", "null"], "description": "the field, header or parameter at fault" }
                    }
                },
                "CommandReply": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string" },
                        "stream": { "type": "string" },
                        "first_position": { "type": "integer" },
                        "last_position": { "type": "integer" },
                        "stream_version": { "type": "integer" },
                        "idempotent": { "type": "boolean" }
                    }
                },
                "Page": {
                    "type": "object",
                    "required": ["items", "next_cursor"],
                    "properties": {
                        "items": { "type": "array", "items": { "type": "object" } },
                        "next_cursor": { "type": ["string", "null"] }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_and_view_has_a_path() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for (service, verbs) in COMMANDS {
            for verb in *verbs {
                let op = &paths[&format!("/api/v1/{service}/{verb}")]["post"];
                assert_eq!(op["operationId"], *verb);
                assert!(op["responses"]["412"].is_object());
            }
        }
        for view in VIEWS {
            assert!(
                paths[&format!("/api/v1/views/{view}")]["get"].is_object(),
                "{view}"
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }
}
