//! The OpenAPI document itself: valid against the official OpenAPI 3.1 schema (`tests/data`),
//! every `$ref` resolving, every schema a valid JSON Schema 2020-12, every operation answering
//! 200 or 201 with a schema, every path parameter declared, and the route table and the document
//! telling the same story. No services: these read the document only.

use serde_json::{Value, json};
use tatrack_contract::routes::{self, Target};
use tatrack_tests::openapi::{self, DOCUMENT};

/// The OpenAPI 3.1 schema, iteration 2022-10-07 (see `tests/data/README.md`).
const OAS_SCHEMA: &str = include_str!("../../data/openapi-3.1-schema.json");

fn oas_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(OAS_SCHEMA).expect("the OpenAPI schema is JSON");
    assert_eq!(
        schema["$id"],
        "https://spec.openapis.org/oas/3.1/schema/2022-10-07"
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OpenAPI schema compiles")
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let validator = oas_validator();
    let errors: Vec<String> = validator
        .iter_errors(&DOCUMENT)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema is not a formality: a document without `info`, or with a response that is not
    // a response, is refused.
    let mut broken = DOCUMENT.clone();
    broken.as_object_mut().unwrap().remove("info");
    assert!(!validator.is_valid(&broken));
    let mut broken = DOCUMENT.clone();
    broken["paths"]["/api/v1/needs"]["get"]["responses"]["200"] = json!({ "content": 3 });
    assert!(!validator.is_valid(&broken));
    // The gateway serves this very document.
    assert_eq!(*DOCUMENT, tatrack_gateway::openapi_document());
}

#[test]
fn every_ref_resolves_and_every_schema_compiles() {
    let mut refs = Vec::new();
    openapi::references(&DOCUMENT, "", &mut refs);
    assert!(refs.len() > 300, "{} references", refs.len());
    let broken: Vec<String> = refs
        .iter()
        .filter(|(_, r)| {
            r.strip_prefix('#')
                .is_none_or(|pointer| DOCUMENT.pointer(pointer).is_none())
        })
        .map(|(at, r)| format!("{at}: {r}"))
        .collect();
    assert!(
        broken.is_empty(),
        "references that do not resolve:\n{}",
        broken.join("\n")
    );
    // Each component is a valid JSON Schema 2020-12 (the compiler checks it against the
    // meta-schema) whose references resolve.
    let schemas = DOCUMENT["components"]["schemas"].as_object().unwrap();
    let mut failures = Vec::new();
    for (name, schema) in schemas {
        if let Err(e) = openapi::compile(schema) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every component is used.
    let used: std::collections::BTreeSet<&str> = refs
        .iter()
        .filter_map(|(_, r)| r.strip_prefix("#/components/schemas/"))
        .collect();
    let unused: Vec<&String> = schemas
        .keys()
        .filter(|k| !used.contains(k.as_str()))
        .collect();
    assert!(unused.is_empty(), "components no one refers to: {unused:?}");
}

#[test]
fn every_operation_answers_with_a_schema_and_declares_its_path_parameters() {
    let mut failures = Vec::new();
    let mut operations = 0;
    for (path, item) in DOCUMENT["paths"].as_object().unwrap() {
        let declared_in_path: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path} ({})", op["operationId"]);
            let success: Vec<&String> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with('2'))
                .collect();
            match success.as_slice() {
                [code] if *code == "200" || *code == "201" => {
                    let schema =
                        &op["responses"][code.as_str()]["content"]["application/json"]["schema"];
                    if !schema.is_object() {
                        failures.push(format!("{name}: {code} has no JSON schema"));
                    }
                }
                other => failures.push(format!("{name}: success responses {other:?}")),
            }
            // Every operation is rate limited per token, and says how long to wait.
            if op["responses"]["429"]["headers"]
                .get("Retry-After")
                .is_none()
            {
                failures.push(format!("{name}: no 429 with Retry-After"));
            }
            let parameters: Vec<&Value> = op["parameters"]
                .as_array()
                .map(|p| p.iter().map(openapi::resolve).collect())
                .unwrap_or_default();
            let in_path: Vec<&str> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if in_path != declared_in_path {
                failures.push(format!(
                    "{name}: path parameters {in_path:?}, the template has {declared_in_path:?}"
                ));
            }
            for p in parameters.iter().filter(|p| p["in"] == "path") {
                if p["required"] != true || !p["schema"].is_object() {
                    failures.push(format!("{name}: path parameter {p}"));
                }
            }
            for p in parameters.iter().filter(|p| p["in"] == "query") {
                let schema = p["schema"].to_string();
                if schema.contains("\"null\"") {
                    failures.push(format!(
                        "{name}: query parameter {} is nullable: {schema}",
                        p["name"]
                    ));
                }
            }
        }
    }
    assert_eq!(
        operations,
        routes::routes().len(),
        "one operation per route"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_route_table_and_the_document_agree() {
    let mut failures = Vec::new();
    for route in routes::routes() {
        let path = format!("{}{}", routes::PREFIX, route.path);
        let op = &DOCUMENT["paths"][&path][route.method.as_str()];
        if op["operationId"] != route.operation {
            failures.push(format!("{path}: operation {} missing", route.operation));
            continue;
        }
        let Target::Command(command) = route.target else {
            if op.get("requestBody").is_some() {
                failures.push(format!("{}: a view with a body", route.operation));
            }
            continue;
        };
        let status = if command.creates.is_some() {
            "201"
        } else {
            "200"
        };
        let headers = &op["responses"][status]["headers"];
        for header in ["ETag", "X-Request-Id"] {
            if openapi::resolve(&headers[header])["required"] != true {
                failures.push(format!("{}: {status} without {header}", route.operation));
            }
        }
        if command.creates.is_some() != headers.get("Location").is_some() {
            failures.push(format!(
                "{}: Location on {status} is {}",
                route.operation,
                headers.get("Location").is_some()
            ));
        }
        // The example of a body fits its schema.
        let media = &op["requestBody"]["content"]["application/json"];
        if let Some(example) = media["examples"]["example"].get("value") {
            let pointer = format!(
                "/paths/{}/{}/requestBody/content/application~1json/schema",
                openapi::escape(&path),
                route.method.as_str()
            );
            if let Some(e) = openapi::errors(&openapi::validator(&pointer), example) {
                failures.push(format!("{}: example does not fit: {e}", route.operation));
            }
        }
    }
    let examples = DOCUMENT["paths"]
        .as_object()
        .unwrap()
        .values()
        .filter(|item| {
            item["post"]["requestBody"]["content"]["application/json"]["examples"].is_object()
        })
        .count();
    assert!(examples >= 40, "{examples} request bodies with examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The checker every e2e call goes through refuses what the document does not promise: a test
/// that passes through it has had its answers checked, not waved through.
#[test]
fn the_answer_checker_refuses_what_does_not_fit() {
    use reqwest::header::{HeaderMap, HeaderValue};
    let headers = |pairs: &[(&'static str, &str)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    };
    let json = [
        ("content-type", "application/json"),
        ("x-request-id", "r-1"),
    ];
    let check = |method: &str, path: &str, status: u16, h: &HeaderMap, body: &str| {
        openapi::check(&openapi::Exchange {
            method,
            path,
            request_id: None,
            status,
            headers: h,
            body,
        })
    };
    let page = r#"{"items":[],"next_cursor":null}"#;
    check("GET", "/api/v1/needs?limit=5", 200, &headers(&json), page).unwrap();
    // A body that does not fit, a status not documented, a header missing.
    let e = check(
        "GET",
        "/api/v1/needs",
        200,
        &headers(&json),
        r#"{"items":3}"#,
    )
    .unwrap_err();
    assert!(e.contains("list_needs") && e.contains("200"), "{e}");
    let e = check("GET", "/api/v1/needs", 418, &headers(&json), page).unwrap_err();
    assert!(e.contains("418 is not documented"), "{e}");
    let e = check("GET", "/api/v1/needs", 404, &headers(&json), page).unwrap_err();
    assert!(e.contains("404 is not documented"), "{e}");
    let e = check(
        "GET",
        "/api/v1/needs",
        200,
        &headers(&[("content-type", "application/json")]),
        page,
    )
    .unwrap_err();
    assert!(e.contains("X-Request-Id"), "{e}");
    // Formats are checked: a need's id must be a UUID, a date a date.
    let need = |id: &str, on: &str| {
        format!(
            r#"{{"items":[{{"id":"{id}","status":"identified","member_state":"KE","recommendation_ids":[],
            "theme":"BOR","modality":"training","description":"d","beneficiary_institution":"b",
            "estimated_cost":null,"size":null,"priority":1,"covered_money":null,"covered_units":null,
            "identified_on":"{on}","agreed_on":null,"coverage_on":null,"last_on":null}}],"next_cursor":null}}"#
        )
    };
    let id = uuid::Uuid::now_v7().to_string();
    let good = need(&id, "2026-02-02");
    if let Err(e) = check("GET", "/api/v1/needs", 200, &headers(&json), &good) {
        // The test's need must be a valid one for the two below to mean something.
        panic!("{e}");
    }
    let e = check(
        "GET",
        "/api/v1/needs",
        200,
        &headers(&json),
        &need("42", "2026-02-02"),
    )
    .unwrap_err();
    assert!(e.contains("uuid"), "{e}");
    let e = check(
        "GET",
        "/api/v1/needs",
        200,
        &headers(&json),
        &need(&id, "2026-02-30"),
    )
    .unwrap_err();
    assert!(e.contains("date"), "{e}");
    // A creation: 201 with ETag and Location, or it fails.
    let reply = r#"{"id":"x","stream":"s","first_position":1,"last_position":1,"stream_version":1,"idempotent":false}"#;
    let created = [
        ("content-type", "application/json"),
        ("x-request-id", "r-1"),
        ("etag", "\"1\""),
        ("location", "/api/v1/needs/x"),
    ];
    check("POST", "/api/v1/needs", 201, &headers(&created), reply).unwrap();
    let e = check("POST", "/api/v1/needs", 201, &headers(&created[..3]), reply).unwrap_err();
    assert!(e.contains("Location"), "{e}");
    let e = check("POST", "/api/v1/needs", 200, &headers(&created), reply).unwrap_err();
    assert!(e.contains("200 is not documented"), "{e}");
    let mut weak = created;
    weak[2] = ("etag", "W/1");
    let e = check("POST", "/api/v1/needs", 201, &headers(&weak), reply).unwrap_err();
    assert!(e.contains("ETag"), "{e}");
    // A problem must say the status it came with and the request's id.
    let problem = |status: u16, request_id: &str| {
        format!(
            r#"{{"type":"urn:tatrack:problem:invalid","title":"Bad Request","status":{status},"detail":"d","field":"f","request_id":"{request_id}"}}"#
        )
    };
    let problem_headers = headers(&[
        ("content-type", "application/problem+json"),
        ("x-request-id", "r-1"),
    ]);
    check(
        "GET",
        "/api/v1/needs",
        400,
        &problem_headers,
        &problem(400, "r-1"),
    )
    .unwrap();
    check(
        "GET",
        "/api/v1/needs",
        400,
        &problem_headers,
        &problem(404, "r-1"),
    )
    .unwrap_err();
    check(
        "GET",
        "/api/v1/needs",
        400,
        &problem_headers,
        &problem(400, "r-2"),
    )
    .unwrap_err();
    check(
        "GET",
        "/api/v1/needs",
        400,
        &headers(&json),
        &problem(400, "r-1"),
    )
    .unwrap_err();
    // Routes the document does not hold: 404, or 405 where the path is served for another method.
    check(
        "GET",
        "/api/v1/nowhere",
        404,
        &problem_headers,
        &problem(404, "r-1"),
    )
    .unwrap();
    check("GET", "/api/v1/nowhere", 200, &headers(&json), "{}").unwrap_err();
    check(
        "DELETE",
        "/api/v1/needs",
        405,
        &problem_headers,
        &problem(405, "r-1"),
    )
    .unwrap();
    check(
        "DELETE",
        "/api/v1/needs",
        404,
        &problem_headers,
        &problem(404, "r-1"),
    )
    .unwrap_err();
    // An id sent is echoed.
    let e = openapi::check(&openapi::Exchange {
        method: "GET",
        path: "/healthz",
        request_id: Some("mine"),
        status: 200,
        headers: &headers(&json),
        body: "ok",
    })
    .unwrap_err();
    assert!(e.contains("mine"), "{e}");
}
