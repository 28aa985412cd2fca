//! Every answer the e2e suite gets over HTTP, checked against the OpenAPI document the gateway
//! serves (`tatrack_contract::openapi::document`): the operation is found by method and path
//! template, the status must be one the operation documents, the body must validate against the
//! schema of that response (JSON Schema 2020-12, formats included) and the headers it promises
//! (`ETag`, `Location`, `X-Request-Id`, `WWW-Authenticate`) must be there and fit their schemas.
//! A route the document does not hold may only answer 404 (no such path) or 405 (no such
//! method), as problem+json. `Gateway` (`gateway.rs`) runs this on every call it makes.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::Validator;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

/// The document, written once.
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(tatrack_contract::openapi::document);

/// Paths the gateway serves besides the API, which the document leaves out: only the correlation
/// id is checked on them.
pub const PLUMBING: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"];

/// Compiled validators, by the JSON pointer of their schema in the document.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<Validator>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// One operation of the document.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The path template, e.g. `/api/v1/needs/{id}`.
    pub template: &'static str,
    /// `get` or `post`.
    pub method: &'static str,
    pub id: &'static str,
    pub spec: &'static Value,
}

/// The document's path templates that match `path` (a query string is ignored), most literal
/// segments first.
pub fn templates(path: &str) -> Vec<&'static str> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let mut found: Vec<(usize, &'static str)> = DOCUMENT["paths"]
        .as_object()
        .map(|paths| {
            paths
                .keys()
                .filter_map(|template| {
                    let parts: Vec<&str> = template.split('/').collect();
                    if parts.len() != segments.len() {
                        return None;
                    }
                    let mut literal = 0;
                    for (part, segment) in parts.iter().zip(&segments) {
                        if part.starts_with('{') && part.ends_with('}') {
                            if segment.is_empty() {
                                return None;
                            }
                        } else if part == segment {
                            literal += 1;
                        } else {
                            return None;
                        }
                    }
                    Some((literal, template.as_str()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|(literal, _)| std::cmp::Reverse(*literal));
    found.into_iter().map(|(_, t)| t).collect()
}

/// The operation serving `method` on `path`, if the document has one.
pub fn operation(method: &str, path: &str) -> Option<Operation> {
    let method = method.to_ascii_lowercase();
    templates(path).into_iter().find_map(|template| {
        let (method, spec) = DOCUMENT["paths"][template]
            .as_object()?
            .get_key_value(method.as_str())?;
        Some(Operation {
            template,
            method: method.as_str(),
            id: spec["operationId"].as_str().unwrap_or("?"),
            spec,
        })
    })
}

/// Follows a local `$ref` (`#/components/...`) in the document.
pub fn resolve(value: &'static Value) -> &'static Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| DOCUMENT.pointer(pointer))
            .unwrap_or_else(|| panic!("the document's {reference} does not resolve")),
        None => value,
    }
}

/// A validator for the schema at `pointer` in the document (compiled once), whose `$ref`s
/// resolve in the document's `components`.
pub fn validator(pointer: &str) -> Arc<Validator> {
    if let Some(v) = VALIDATORS.lock().unwrap().get(pointer) {
        return v.clone();
    }
    let schema = DOCUMENT
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no schema at {pointer}"));
    let validator =
        Arc::new(compile(schema).unwrap_or_else(|e| panic!("schema at {pointer}: {e}")));
    VALIDATORS
        .lock()
        .unwrap()
        .insert(pointer.to_owned(), validator.clone());
    validator
}

/// The document's `components`, every object in them closed: an object schema that lists its
/// properties and says nothing of others takes no others (`additionalProperties: false`). The
/// document leaves answers open (a client should ignore what it does not know), but the server
/// must not send what the contract does not say: a field renamed on one side only is caught here.
static CLOSED: LazyLock<Value> = LazyLock::new(|| {
    let mut components = DOCUMENT["components"].clone();
    close(&mut components);
    components
});

fn close(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("properties").is_some_and(Value::is_object)
                && !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, inner) in map.iter_mut() {
                // Property names and examples are data, not schemas.
                if key == "examples" || key == "enum" || key == "const" {
                    continue;
                }
                if key == "properties" {
                    if let Value::Object(properties) = inner {
                        properties.values_mut().for_each(close);
                    }
                    continue;
                }
                close(inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

/// Compiles one of the document's schemas as JSON Schema 2020-12, with the document's
/// `components` (closed, see [`CLOSED`]) beside it so that `#/components/schemas/X` resolves.
/// Formats (`date`, `uuid`, `date-time`) are checked, not only noted.
pub fn compile(schema: &Value) -> Result<Validator, String> {
    let mut schema = schema.clone();
    close(&mut schema);
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": *CLOSED,
        "allOf": [schema],
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| e.to_string())
}

/// What does not fit, at most a few errors, each with the place in the instance.
pub fn errors(validator: &Validator, instance: &Value) -> Option<String> {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| {
            let mut text = e.to_string();
            if text.len() > 400 {
                let mut cut = 400;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("...");
            }
            format!("at {:?}: {text}", e.instance_path().to_string())
        })
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// One answer as the client got it.
pub struct Exchange<'a> {
    pub method: &'a str,
    /// With its query string.
    pub path: &'a str,
    /// The `X-Request-Id` sent, if any.
    pub request_id: Option<&'a str>,
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a str,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or("<not text>"))
}

fn media_type(headers: &HeaderMap) -> String {
    header(headers, "content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Checks one answer against the document; the error names the operation, the status and what
/// does not fit.
pub fn check(x: &Exchange<'_>) -> Result<(), String> {
    let request_id = header(x.headers, "x-request-id");
    let valid_id_sent = x.request_id.filter(|id| {
        (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    });
    match (request_id, valid_id_sent) {
        (None, _) => {
            return Err(format!(
                "{} {}: {} without X-Request-Id",
                x.method, x.path, x.status
            ));
        }
        (Some(got), Some(sent)) if got != sent => {
            return Err(format!(
                "{} {}: X-Request-Id {got:?} is not the {sent:?} sent",
                x.method, x.path
            ));
        }
        _ => {}
    }
    let path = x.path.split('?').next().unwrap_or_default();
    if PLUMBING.contains(&path) && x.method.eq_ignore_ascii_case("get") {
        return Ok(());
    }
    let Some(op) = operation(x.method, path) else {
        return undocumented(x);
    };
    let name = format!("{} ({} {})", op.id, op.method.to_uppercase(), op.template);
    let status = x.status.to_string();
    let responses = &op.spec["responses"];
    let class = format!("{}XX", &status[..1]);
    let Some((key, response)) = [status.as_str(), class.as_str(), "default"]
        .into_iter()
        .find_map(|k| responses.get(k).map(|r| (k, r)))
    else {
        return Err(format!(
            "{name}: status {status} is not documented (body: {})",
            short(x.body)
        ));
    };
    let response = resolve(response);
    let pointer_base = format!(
        "/paths/{}/{}/responses/{key}",
        escape(op.template),
        op.method
    );
    // The headers the response promises.
    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
        for (header_name, spec) in headers {
            let pointer = match spec.get("$ref").and_then(Value::as_str) {
                Some(reference) => reference.trim_start_matches('#').to_owned(),
                None => format!("{pointer_base}/headers/{}", escape(header_name)),
            };
            let spec = resolve(spec);
            match header(x.headers, header_name) {
                None if spec["required"] == true => {
                    return Err(format!(
                        "{name}: {status} without the {header_name} header it documents"
                    ));
                }
                None => {}
                Some(value) if spec.get("schema").is_some() => {
                    let v = validator(&format!("{pointer}/schema"));
                    if let Some(e) = errors(&v, &Value::String(value.to_owned())) {
                        return Err(format!(
                            "{name}: {status} header {header_name}: {value:?} does not fit: {e}"
                        ));
                    }
                }
                Some(_) => {}
            }
        }
    }
    // The body.
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if x.body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{name}: {status} documents no body, got {}",
                short(x.body)
            ))
        };
    };
    let media = media_type(x.headers);
    let Some(media_spec) = content.get(&media) else {
        return Err(format!(
            "{name}: {status} answered {media:?}, documented: {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    let body: Value = serde_json::from_str(x.body)
        .map_err(|e| format!("{name}: {status} body is not JSON ({e}): {}", short(x.body)))?;
    if media_spec.get("schema").is_some() {
        let pointer = format!("{pointer_base}/content/{}/schema", escape(&media));
        let pointer = if DOCUMENT.pointer(&pointer).is_some() {
            pointer
        } else {
            // The response was a `$ref`: its schema is where it points.
            let reference = responses[key]["$ref"].as_str().unwrap_or_default();
            format!(
                "{}/content/{}/schema",
                reference.trim_start_matches('#'),
                escape(&media)
            )
        };
        if let Some(e) = errors(&validator(&pointer), &body) {
            return Err(format!(
                "{name}: {status} body does not fit the document: {e}\n    body: {}",
                short(x.body)
            ));
        }
    }
    if media == "application/problem+json" {
        problem_agrees(&name, x, &body)?;
    }
    Ok(())
}

/// A route the document does not hold: 404 when no template matches, 405 when one does for
/// another method; either as problem+json.
fn undocumented(x: &Exchange<'_>) -> Result<(), String> {
    let expected = if templates(x.path).is_empty() {
        404
    } else {
        405
    };
    let what = format!("{} {} (not in the document)", x.method, x.path);
    if x.status != expected {
        return Err(format!(
            "{what}: answered {}, expected {expected}: {}",
            x.status,
            short(x.body)
        ));
    }
    if media_type(x.headers) != "application/problem+json" {
        return Err(format!("{what}: {} is not problem+json", x.status));
    }
    let body: Value = serde_json::from_str(x.body)
        .map_err(|e| format!("{what}: body is not JSON ({e}): {}", short(x.body)))?;
    if let Some(e) = errors(&validator("/components/schemas/Problem"), &body) {
        return Err(format!("{what}: problem does not fit the document: {e}"));
    }
    problem_agrees(&what, x, &body)
}

/// What a schema cannot say: the problem's status is the answer's, its `request_id` the header's.
fn problem_agrees(name: &str, x: &Exchange<'_>, body: &Value) -> Result<(), String> {
    if body["status"] != x.status {
        return Err(format!(
            "{name}: problem status {} on a {} answer",
            body["status"], x.status
        ));
    }
    let header = header(x.headers, "x-request-id");
    if body["request_id"].as_str() != header {
        return Err(format!(
            "{name}: problem request_id {} is not the X-Request-Id header {header:?}",
            body["request_id"]
        ));
    }
    Ok(())
}

/// A JSON pointer token (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn short(text: &str) -> String {
    if text.len() <= 600 {
        return text.to_owned();
    }
    let mut cut = 600;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)", &text[..cut], text.len())
}

/// Every `$ref` in `value` with the JSON pointer of the place it is written.
pub fn references(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                out.push((at.to_owned(), r.to_owned()));
            }
            for (k, v) in map {
                references(v, &format!("{at}/{}", escape(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                references(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The component schema a `{"$ref": "#/components/schemas/X"}` names, or the schema itself.
pub fn schema_of(schema: &'static Value) -> &'static Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/components/schemas/") => resolve(schema),
        _ => schema,
    }
}

/// The properties of an object schema (following one `$ref`), with whether each is required.
pub fn properties(schema: &'static Value) -> Vec<(&'static str, &'static Value, bool)> {
    let schema = schema_of(schema);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|p: &'static Map<String, Value>| {
            p.iter()
                .map(|(k, v)| (k.as_str(), v, required.contains(&k.as_str())))
                .collect()
        })
        .unwrap_or_default()
}
