//! Faults made from the OpenAPI document, no external tool: for every command route, a body made
//! from its request schema with one fault (a required field left out, a field the type does not
//! know, a value of the wrong JSON type, a value outside an enum, a malformed date, a body that is
//! not a JSON object, a path parameter that is not an id); for every view route, a query string
//! with one fault (an unknown name, a value of the wrong type, a limit out of range, a bad date, a
//! bad cursor, a path id that is not one). Every answer must be a 4xx (never a 5xx) whose problem
//! fits the document (the client checks that) and names the field the fault was put in, and
//! nothing may be written (the services' heads do not move).
//!
//! Three rounds by default (about two seconds); `TATRACK_FUZZ_ROUNDS=n` runs more, each with new
//! values; `TATRACK_FUZZ_SEED` repeats a run (the seed is printed with every failure).

use serde_json::{Map, Value, json};
use tatrack_domain::Role;
use tatrack_tests::gateway::Gateway;
use tatrack_tests::openapi::{self, DOCUMENT, resolve};
use tatrack_tests::*;

use super::heads;

/// A small deterministic generator (xorshift64*), so a seed repeats a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self) -> bool {
        self.next() % 2 == 0
    }

    fn uuid(&mut self) -> String {
        let bytes = (u128::from(self.next()) << 64) | u128::from(self.next());
        uuid::Builder::from_random_bytes(bytes.to_le_bytes())
            .into_uuid()
            .to_string()
    }
}

/// The JSON types a schema allows (following `$ref`, `anyOf`, `oneOf`, `const`, `enum`); `None`
/// when it allows anything.
fn types(schema: &'static Value) -> Option<Vec<&'static str>> {
    let schema = resolve(schema);
    let mut out = Vec::new();
    match schema.get("type") {
        Some(Value::String(t)) => out.push(t.as_str()),
        Some(Value::Array(ts)) => out.extend(ts.iter().filter_map(Value::as_str)),
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        for option in schema[key].as_array().into_iter().flatten() {
            out.extend(types(option)?);
        }
    }
    for value in schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(schema.get("const"))
    {
        out.push(match value {
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        });
    }
    (!out.is_empty()).then_some(out)
}

/// A value of a JSON type the schema does not allow, if there is one.
fn wrong_type(schema: &'static Value, rng: &mut Rng) -> Option<Value> {
    let allowed = types(schema)?;
    let fits = |v: &Value| match v {
        Value::Null => allowed.contains(&"null"),
        Value::Bool(_) => allowed.contains(&"boolean"),
        Value::Number(n) => {
            allowed.contains(&"number") || (n.is_i64() && allowed.contains(&"integer"))
        }
        Value::String(_) => allowed.contains(&"string"),
        Value::Array(_) => allowed.contains(&"array"),
        Value::Object(_) => allowed.contains(&"object"),
    };
    let candidates: Vec<Value> = [
        json!(12345),
        json!("fuzz"),
        json!(true),
        json!([1, 2]),
        json!({ "fuzz": 1 }),
        json!(null),
        json!(-1.5),
    ]
    .into_iter()
    .filter(|v| !fits(v))
    .collect();
    (!candidates.is_empty()).then(|| rng.pick(&candidates).clone())
}

/// Whether a schema is a closed set of values (an enum, or `oneOf` consts).
fn is_enum(schema: &'static Value) -> bool {
    let schema = resolve(schema);
    if schema.get("enum").is_some() {
        return true;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            let non_null: Vec<&Value> = options.iter().filter(|o| o["type"] != "null").collect();
            if !non_null.is_empty()
                && non_null.iter().all(|o| {
                    let o = resolve(o);
                    o.get("const").is_some() || o.get("enum").is_some() || is_enum(o)
                })
            {
                return true;
            }
        }
    }
    false
}

/// Whether a schema is a date (`format: date`, following `$ref`).
fn is_date(schema: &'static Value) -> bool {
    resolve(schema)["format"] == "date"
}

/// A plain object schema (not a choice of variants), following `$ref` and a nullable `anyOf`.
fn plain_object(schema: &'static Value) -> Option<&'static Value> {
    let schema = resolve(schema);
    if schema["type"] == "object" && schema["properties"].is_object() {
        return Some(schema);
    }
    let options = schema["anyOf"].as_array()?;
    let non_null: Vec<&'static Value> = options.iter().filter(|o| o["type"] != "null").collect();
    match non_null.as_slice() {
        [one] => plain_object(one),
        _ => None,
    }
}

/// A value that fits `schema`.
fn generate(schema: &'static Value, rng: &mut Rng, depth: usize) -> Value {
    let schema = resolve(schema);
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(values) = schema["enum"].as_array() {
        return rng.pick(values).clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let non_null: Vec<&'static Value> =
                options.iter().filter(|o| o["type"] != "null").collect();
            if !non_null.is_empty() {
                let option: &'static Value = non_null[rng.below(non_null.len())];
                return generate(option, rng, depth);
            }
        }
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "string",
    };
    match kind {
        "string" => match schema["format"].as_str() {
            Some("date") => json!(format!(
                "2026-{:02}-{:02}",
                rng.below(12) + 1,
                rng.below(28) + 1
            )),
            Some("uuid") => json!(rng.uuid()),
            Some("date-time") => json!("2026-07-01T12:00:00Z"),
            _ => json!(*rng.pick(&["KE", "BOR", "fuzz", "Fuzzed text", "ORG-FUZZ"])),
        },
        "integer" => {
            let min = schema["minimum"].as_i64().unwrap_or(0).max(0);
            let max = schema["maximum"].as_i64().unwrap_or(1000).min(1000);
            let span = usize::try_from(max - min + 1).unwrap_or(1);
            json!(min + i64::try_from(rng.below(span)).unwrap_or(0))
        }
        "number" => json!(1.5),
        "boolean" => json!(rng.chance()),
        "array" if depth < 3 => {
            let n = rng.below(3);
            Value::Array(
                (0..n)
                    .map(|_| generate(&schema["items"], rng, depth + 1))
                    .collect(),
            )
        }
        "object" if depth < 3 => {
            let mut map = Map::new();
            for (name, property, required) in openapi::properties(schema) {
                if required || rng.chance() {
                    map.insert(name.to_owned(), generate(property, rng, depth + 1));
                }
            }
            Value::Object(map)
        }
        "array" => json!([]),
        "object" => json!({}),
        _ => Value::Null,
    }
}

/// One faulty request and the field its problem must name.
struct Fault {
    what: String,
    path: String,
    body: Option<String>,
    field: String,
    /// A list or an object where another type belongs: serde reads a struct from a list too, so
    /// the problem may name a place inside the field (`size[0]`, `size.fuzz`).
    inside: bool,
}

impl Fault {
    fn named(&self, field: &Value) -> bool {
        let Some(field) = field.as_str() else {
            return false;
        };
        field == self.field
            || (self.inside
                && (field.starts_with(&format!("{}[", self.field))
                    || field.starts_with(&format!("{}.", self.field))))
    }
}

/// Path values that are not ids: not UUIDs, or for an organisation not a code (2 to 64 of
/// A-Z a-z 0-9 _ -).
fn bad_id(template: &str, name: &str, rng: &mut Rng) -> &'static str {
    const NOT_CODES: [&str; 5] = ["x", "a%20b", "a.b", "%C3%A9t%C3%A9", "a+b"];
    const NOT_UUIDS: [&str; 5] = [
        "not-a-uuid",
        "1234",
        "x",
        "a%20b",
        "00000000-0000-0000-0000",
    ];
    // Not `<aggregate>-<id>`: no dash, an upper-case aggregate, a bad id.
    const NOT_STREAMS: [&str; 4] = ["offer", "OFFER-1234", "offer-a.b", "x"];
    let bad: &[&'static str] = if template.starts_with("/api/v1/organisations/") && name == "id" {
        &NOT_CODES
    } else if template.starts_with("/api/v1/streams/") && name == "id" {
        &NOT_STREAMS
    } else {
        &NOT_UUIDS
    };
    bad[rng.below(bad.len())]
}

/// A body for the route: every field the schema requires and some it does not, none of the path
/// parameters (the path gives them).
fn base_body(schema: &'static Value, path_names: &[&str], rng: &mut Rng) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, property, required) in openapi::properties(schema) {
        if path_names.contains(&name) {
            continue;
        }
        if required || rng.chance() {
            map.insert(name.to_owned(), generate(property, rng, 1));
        }
    }
    map
}

fn path_names(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// The template with every path parameter filled with a valid value.
fn fill(template: &str, rng: &mut Rng) -> String {
    let mut path = template.to_owned();
    for name in path_names(template) {
        let value = if template.starts_with("/api/v1/organisations/") && name == "id" {
            "ORG-FUZZ".to_owned()
        } else if template.starts_with("/api/v1/streams/") && name == "id" {
            format!("offer-{}", rng.uuid())
        } else {
            rng.uuid()
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

/// The template with `bad` for one path parameter and valid values for the others.
fn fill_bad(template: &str, bad_name: &str, bad: &str, rng: &mut Rng) -> String {
    let marked = template.replace(&format!("{{{bad_name}}}"), "\u{0}");
    fill(&marked, rng).replace('\u{0}', bad)
}

fn command_faults(template: &str, op: &'static Value, rng: &mut Rng) -> Vec<Fault> {
    let schema: &'static Value = &op["requestBody"]["content"]["application/json"]["schema"];
    let names = path_names(template);
    let base = base_body(schema, &names, rng);
    let path = fill(template, rng);
    let mut faults = Vec::new();
    let mut with = |what: String, body: Value, field: &str| {
        let inside = matches!(
            body.pointer(&format!("/{}", field.replace('.', "/"))),
            Some(Value::Array(_) | Value::Object(_))
        );
        faults.push(Fault {
            what,
            path: path.clone(),
            body: Some(body.to_string()),
            field: field.to_owned(),
            inside,
        });
    };
    let properties = openapi::properties(schema);
    for (name, property, required) in &properties {
        if names.contains(name) {
            continue;
        }
        if *required {
            let mut body = base.clone();
            body.remove(*name);
            with(format!("without {name}"), Value::Object(body), name);
        }
        if let Some(wrong) = wrong_type(property, rng) {
            let mut body = base.clone();
            body.insert((*name).to_owned(), wrong.clone());
            with(format!("{name}: {wrong}"), Value::Object(body), name);
        }
        if is_enum(property) {
            let mut body = base.clone();
            body.insert((*name).to_owned(), json!("fuzz-not-a-value"));
            with(
                format!("{name} outside its enum"),
                Value::Object(body),
                name,
            );
        }
        if is_date(property) {
            let bad = *rng.pick(&["2026-02-30", "2026-13-01", "yesterday", "2026-1-5", ""]);
            let mut body = base.clone();
            body.insert((*name).to_owned(), json!(bad));
            with(format!("{name}: date {bad:?}"), Value::Object(body), name);
        }
        // One level down, in a plain object (`value.currency`).
        if let Some(inner) = plain_object(property) {
            let inner_base = generate(inner, rng, 2);
            for (sub, sub_schema, sub_required) in openapi::properties(inner) {
                let field = format!("{name}.{sub}");
                let mut value = inner_base.clone();
                if sub_required {
                    value.as_object_mut().unwrap().remove(sub);
                    let mut body = base.clone();
                    body.insert((*name).to_owned(), value.clone());
                    with(format!("without {field}"), Value::Object(body), &field);
                }
                if let Some(wrong) = wrong_type(sub_schema, rng) {
                    let mut value = inner_base.clone();
                    value[sub] = wrong.clone();
                    let mut body = base.clone();
                    body.insert((*name).to_owned(), value);
                    with(format!("{field}: {wrong}"), Value::Object(body), &field);
                }
            }
        }
    }
    let unknown = format!("fuzz_{}", rng.below(1000));
    let mut body = base.clone();
    body.insert(unknown.clone(), json!(1));
    with(format!("unknown {unknown}"), Value::Object(body), &unknown);
    let not_an_object = (*rng.pick(&["{", "[]", "\"text\"", "null", "12", "{\"on\":"])).to_owned();
    faults.push(Fault {
        what: format!("body {not_an_object:?}"),
        path: path.clone(),
        body: Some(not_an_object),
        field: "body".to_owned(),
        inside: false,
    });
    for name in &names {
        let bad = bad_id(template, name, rng);
        faults.push(Fault {
            what: format!("path {name} {bad:?}"),
            path: fill_bad(template, name, bad, rng),
            body: Some(Value::Object(base.clone()).to_string()),
            field: (*name).to_owned(),
            inside: false,
        });
    }
    faults
}

fn view_faults(template: &str, op: &'static Value, rng: &mut Rng) -> Vec<Fault> {
    let path = fill(template, rng);
    let mut faults = Vec::new();
    let mut with = |what: String, query: String, field: &str| {
        faults.push(Fault {
            what,
            path: format!("{path}?{query}"),
            body: None,
            field: field.to_owned(),
            inside: false,
        });
    };
    let unknown = format!("fuzz_{}", rng.below(1000));
    with(
        format!("unknown {unknown}"),
        format!("{unknown}=1"),
        &unknown,
    );
    let tomorrow = today().tomorrow().unwrap().to_string();
    for parameter in op["parameters"].as_array().into_iter().flatten() {
        let parameter = resolve(parameter);
        if parameter["in"] != "query" {
            continue;
        }
        let name = parameter["name"].as_str().unwrap();
        let schema = &parameter["schema"];
        let bad: Vec<String> = match (schema["type"].as_str(), schema["format"].as_str()) {
            (Some("integer"), _) => {
                let mut bad = vec!["abc".to_owned(), "1.5".to_owned(), "-1".to_owned()];
                if let Some(max) = schema["maximum"].as_u64() {
                    bad.push((max + 1).to_string());
                }
                if let Some(min) = schema["minimum"].as_u64().filter(|m| *m > 0) {
                    bad.push((min - 1).to_string());
                }
                bad
            }
            (Some("boolean"), _) => vec!["maybe".to_owned(), "2".to_owned()],
            (Some("string"), Some("uuid")) => vec!["not-a-uuid".to_owned()],
            (Some("string"), Some("date")) => vec![
                "2026-02-30".to_owned(),
                "yesterday".to_owned(),
                tomorrow.clone(),
            ],
            _ if name == "cursor" => vec!["fuzz".to_owned(), "AAAA".to_owned()],
            _ if name == "known_at" => vec!["last-tuesday".to_owned(), tomorrow.clone()],
            _ => Vec::new(),
        };
        if !bad.is_empty() {
            let value = rng.pick(&bad).clone();
            with(format!("{name}={value}"), format!("{name}={value}"), name);
        }
    }
    for name in path_names(template) {
        let bad = bad_id(template, name, rng);
        faults.push(Fault {
            what: format!("path {name} {bad:?}"),
            path: fill_bad(template, name, bad, rng),
            body: None,
            field: name.to_owned(),
            inside: false,
        });
    }
    faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_made_from_the_document_are_refused_by_name_and_write_nothing() {
    let started = std::time::Instant::now();
    let rounds: usize = std::env::var("TATRACK_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("TATRACK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let id = uuid::Uuid::new_v4().as_u128();
            u64::try_from(id >> 64).unwrap_or(1) | 1
        });
    let (h, services, client) = Harness::up().await;
    let gw = Gateway::start(&h).await;
    let (_, admin) = issue_token(&client, Role::Admin, None, None).await;
    gw.until_known(&admin).await;
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    let mut sent = 0;
    let before = heads(&client).await;
    for round in 0..rounds {
        for (template, item) in DOCUMENT["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let faults = if method == "post" {
                    command_faults(template, op, &mut rng)
                } else {
                    view_faults(template, op, &mut rng)
                };
                for fault in faults {
                    sent += 1;
                    let answer = match &fault.body {
                        Some(body) => gw.post(&admin, &fault.path, body, &[]).await,
                        None => gw.get(Some(&admin), &fault.path).await,
                    };
                    let case = format!(
                        "round {round}, {} {} ({}): {}\n    body: {}",
                        method.to_uppercase(),
                        fault.path,
                        op["operationId"],
                        fault.what,
                        fault.body.as_deref().unwrap_or("-")
                    );
                    if !answer.status.is_client_error() {
                        failures.push(format!(
                            "{case}\n    answered {} {}",
                            answer.status, answer.body
                        ));
                        continue;
                    }
                    if !fault.named(&answer.body["field"]) {
                        failures.push(format!(
                            "{case}\n    answered {} naming {} instead of {:?}: {}",
                            answer.status, answer.body["field"], fault.field, answer.body["detail"]
                        ));
                    }
                }
            }
        }
    }
    let after = heads(&client).await;
    if before != after {
        failures.push(format!(
            "faulty requests wrote: heads {before:?} before, {after:?} after"
        ));
    }
    assert!(
        failures.is_empty(),
        "seed {seed} (TATRACK_FUZZ_SEED={seed} repeats it): {} of {sent} faults answered wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent > 500, "{sent} faults");
    eprintln!(
        "fuzz: {sent} faults in {rounds} round(s), seed {seed}, in {:?}",
        started.elapsed()
    );
    gw.stop().await;
    services.stop().await;
}
