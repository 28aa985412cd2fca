//! The HTTP gateway against real NATS and the real services, through its resource routes: bearer
//! tokens (issued over NATS and over HTTP, unknown, revoked), commands and views over HTTP,
//! problem+json naming the field, If-Match and ETag, Idempotency-Key, X-Request-Id, cursors,
//! 201 with a Location that resolves, 404 and 405, metrics and readiness. Every answer any of these
//! modules gets is checked against the OpenAPI document (`tatrack_tests::gateway`). `matrix`:
//! every role against every route of the contract's table; `fuzz`: bodies and query strings made
//! from the document with one fault each; `document`: the document itself.

mod document;
mod fuzz;
mod matrix;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tatrack_bus::rpc::RequestMeta;
use tatrack_domain::Role;
use tatrack_gateway::token;
use tatrack_tests::gateway::{Gateway, Request};
use tatrack_tests::*;
use uuid::Uuid;

fn admin() -> RequestMeta {
    RequestMeta::new(principal(Role::Admin, None, None))
}

/// Every service's durable head (`admin_head`): what "nothing was written" is checked against.
pub(crate) async fn heads(client: &async_nats::Client) -> Vec<(&'static str, u64)> {
    let mut out = Vec::new();
    for service in tatrack_bus::subjects::SERVICES {
        let head = command_to(client, &admin(), service, "admin_head", &json!({}))
            .await
            .unwrap();
        out.push((service, head["head"].as_u64().unwrap()));
    }
    out
}

/// A valid `POST /assessments` body: `plan_body` without the id (the server mints it).
pub(crate) fn plan(member_state: &str) -> Value {
    let mut body = plan_body(Uuid::nil(), member_state);
    body.as_object_mut().unwrap().remove("id");
    body
}

/// `POST /api/v1/assessments` of [`plan`]`(member_state)` with `headers`.
async fn post_plan(
    gw: &Gateway,
    token: &str,
    member_state: &str,
    headers: &[(&str, String)],
) -> tatrack_tests::gateway::Answer {
    let body = plan(member_state).to_string();
    gw.post(token, "/api/v1/assessments", &body, headers).await
}

/// The id at the end of a `Location`.
fn located(location: Option<&str>) -> &str {
    location
        .and_then(|l| l.rsplit('/').next())
        .unwrap_or_else(|| panic!("no Location: {location:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one story over one running gateway: setting it up again per assertion costs seconds"
)]
async fn gateway_serves_commands_and_views_behind_tokens() {
    let (h, services, client) = Harness::up().await;
    let gw = Gateway::start(&h).await;

    // Health first: alive at once, ready once the token fold caught up.
    assert_eq!(gw.get(None, "/healthz").await.status, StatusCode::OK);
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&coordinator).await;
    assert_eq!(gw.get(None, "/readyz").await.status, StatusCode::OK);
    let c = Some(coordinator.as_str());

    // A coordinator plans an assessment over HTTP: 201, the server's id in the answer and in
    // `Location`, which resolves; the ETag is the aggregate's version.
    let created = post_plan(&gw, &coordinator, "KE", &[]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.etag(), Some("\"1\""));
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(located(created.location()), id);
    assert_eq!(
        created.location(),
        Some(format!("/api/v1/assessments/{id}").as_str())
    );
    let position = created.body["last_position"].as_u64().unwrap();
    let shown = gw
        .get(
            c,
            &format!("{}?min_position={position}", created.location().unwrap()),
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["id"], id);
    assert_eq!(shown.body["member_state"], "KE");

    // No token, a malformed one, an unknown one: 401 naming the reason.
    let problem = gw.get(None, "/api/v1/assessments").await;
    assert_eq!(problem.status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem.field(), "Authorization");
    assert!(
        problem.body["detail"].as_str().unwrap().contains("missing"),
        "{}",
        problem.body
    );
    let problem = gw.get(Some("nope"), "/api/v1/assessments").await;
    assert_eq!(problem.status, StatusCode::UNAUTHORIZED);
    assert!(
        problem.body["detail"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{}",
        problem.body
    );
    let problem = gw
        .get(Some(&token::new_secret()), "/api/v1/assessments")
        .await;
    assert_eq!(problem.status, StatusCode::UNAUTHORIZED);
    assert!(
        problem.body["detail"].as_str().unwrap().contains("unknown"),
        "{}",
        problem.body
    );

    // Bad input: 400 naming the field; nothing written.
    let before = heads(&client).await;
    let problem = gw.post(&coordinator, "/api/v1/assessments", "{", &[]).await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST);
    assert_eq!(problem.field(), "body");
    let problem = post_plan(&gw, &coordinator, "XX", &[]).await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "member_state");
    // A field the body type does not know, and one the path gives.
    let mut body = plan("KE");
    body["colour"] = json!("red");
    let problem = gw
        .post(&coordinator, "/api/v1/assessments", &body.to_string(), &[])
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "colour");
    let problem = gw
        .post(
            &coordinator,
            &format!("/api/v1/assessments/{id}/conduct"),
            &json!({ "id": Uuid::now_v7() }).to_string(),
            &[],
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "id");
    // A path id that is not a UUID; an organisation's code that is not one.
    let problem = gw
        .post(
            &coordinator,
            "/api/v1/assessments/not-a-uuid/conduct",
            "{}",
            &[],
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "id");
    let problem = gw.get(c, "/api/v1/organisations/a%20b").await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "id");
    // Over 1 MiB: 413.
    let mut big = plan("KE");
    big["title"] = json!("x".repeat(1024 * 1024 + 1));
    let problem = gw
        .post(&coordinator, "/api/v1/assessments", &big.to_string(), &[])
        .await;
    assert_eq!(
        problem.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        problem.body
    );
    assert_eq!(heads(&client).await, before, "refused input wrote");

    // Query parameters: unknown ones and bad values are refused by name.
    for (query, field) in [
        ("colour=red", "colour"),
        ("as_of=yesterday", "as_of"),
        ("priority=high", "priority"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
    ] {
        let problem = gw.get(c, &format!("/api/v1/needs?{query}")).await;
        assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(problem.field(), field, "{query}: {}", problem.body);
    }
    // Points in time: `today` is gone (refused as unknown, by name); a business date after today
    // and a "known at" after now or not recorded yet are refused by name.
    let tomorrow = today().tomorrow().unwrap();
    for (query, field) in [
        ("today=2026-06-01".to_owned(), "today"),
        (format!("as_of={tomorrow}"), "as_of"),
        (format!("known_at={tomorrow}"), "known_at"),
        ("known_at=last-tuesday".to_owned(), "known_at"),
        (
            "known_at=assessments:999999,partners:0,projects:0,reporter:0".to_owned(),
            "known_at",
        ),
    ] {
        let problem = gw.get(c, &format!("/api/v1/needs?{query}")).await;
        assert_eq!(
            problem.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            problem.body
        );
        assert_eq!(problem.field(), field, "{query}: {}", problem.body);
    }
    // A past business date, as known at the end of yesterday (before anything was recorded):
    // answered, and empty.
    let yesterday = today().yesterday().unwrap();
    let past = gw
        .get(
            c,
            &format!("/api/v1/assessments?as_of=2026-03-01&known_at={yesterday}"),
        )
        .await;
    assert_eq!(past.status, StatusCode::OK, "{}", past.body);
    assert_eq!(past.body["items"], json!([]), "{}", past.body);
    // As of the day it was planned, as known now: the assessment is there.
    let planned = gw.get(c, "/api/v1/assessments?as_of=2026-02-02").await;
    assert_eq!(planned.status, StatusCode::OK, "{}", planned.body);
    assert_eq!(planned.body["items"][0]["id"], id, "{}", planned.body);
    // The read model's positions, in the form `known_at` takes.
    let positions = gw.get(c, "/api/v1/positions").await;
    assert_eq!(positions.status, StatusCode::OK, "{}", positions.body);
    assert!(
        positions.body["known_at"]
            .as_str()
            .unwrap()
            .starts_with("assessments:"),
        "{}",
        positions.body
    );
    // What changed since a report: the report is named by the path, and must exist.
    let problem = gw.get(c, "/api/v1/reports/not-a-report/changes").await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "id", "{}", problem.body);
    let problem = gw
        .get(c, &format!("/api/v1/reports/{}/changes", Uuid::now_v7()))
        .await;
    assert_eq!(problem.status, StatusCode::NOT_FOUND, "{}", problem.body);
    let problem = post_plan(
        &gw,
        &coordinator,
        "KE",
        &[("Idempotency-Key", "not-a-uuid".to_owned())],
    )
    .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST);
    assert_eq!(problem.field(), "Idempotency-Key");

    // Routes that are not there: 404; a method a route does not serve: 405; both problem+json
    // (the checker holds them to the Problem schema). The RPC-shaped routes are gone.
    for path in [
        "/api/v1/nowhere",
        "/api/v1/views/need_list",
        "/api/v1/assessments/assessment_plan/now",
        &format!("/api/v1/assessments/{id}/admin_head"),
    ] {
        let answer = gw.post(&coordinator, path, "{}", &[]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        gw.get(c, "/api/v1/secrets").await.status,
        StatusCode::NOT_FOUND
    );
    for (method, path) in [
        (
            Method::POST,
            "/api/v1/assessments/assessment_plan".to_owned(),
        ),
        (Method::PUT, "/api/v1/needs".to_owned()),
        (Method::DELETE, format!("/api/v1/assessments/{id}")),
        (Method::GET, format!("/api/v1/assessments/{id}/conduct")),
    ] {
        let answer = gw
            .send(
                method.clone(),
                &path,
                Request {
                    token: c,
                    ..Request::default()
                },
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(answer.body["status"], 405, "{}", answer.body);
    }

    // If-Match: a stale version is 412 naming the header (nothing written), one that is not an
    // ETag is 400 naming it, the current one (the ETag given) is taken and the next ETag given.
    let before = heads(&client).await;
    let conduct = format!("/api/v1/assessments/{id}/conduct");
    let move_body = json!({ "on": "2026-03-06" }).to_string();
    let problem = gw
        .post(
            &coordinator,
            &conduct,
            &move_body,
            &[("If-Match", "\"0\"".to_owned())],
        )
        .await;
    assert_eq!(
        problem.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        problem.body
    );
    assert_eq!(problem.field(), "If-Match");
    assert_eq!(problem.body["actual_version"], 1, "{}", problem.body);
    for bad in ["*", "1", "W/1", "\"one\""] {
        let problem = gw
            .post(
                &coordinator,
                &conduct,
                &move_body,
                &[("If-Match", bad.to_owned())],
            )
            .await;
        assert_eq!(
            problem.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            problem.body
        );
        assert_eq!(problem.field(), "If-Match", "{bad}");
    }
    assert_eq!(heads(&client).await, before, "refused If-Match wrote");
    let etag = created.etag().unwrap().to_owned();
    let conducted = gw
        .post(&coordinator, &conduct, &move_body, &[("If-Match", etag)])
        .await;
    assert_eq!(conducted.status, StatusCode::OK, "{}", conducted.body);
    assert_eq!(conducted.etag(), Some("\"2\""));
    let drafted = gw
        .post(
            &coordinator,
            &format!("/api/v1/assessments/{id}/send-draft"),
            &json!({ "on": "2026-04-01" }).to_string(),
            &[("If-Match", "W/\"2\"".to_owned())],
        )
        .await;
    assert_eq!(drafted.status, StatusCode::OK, "{}", drafted.body);
    assert_eq!(drafted.etag(), Some("\"3\""));

    // A repeated Idempotency-Key returns the first answer (201 again, the same id and Location)
    // and records nothing more.
    let key = Uuid::now_v7().to_string();
    let keyed = [("Idempotency-Key", key.clone())];
    let first = post_plan(&gw, &coordinator, "FR", &keyed).await;
    let before = heads(&client).await;
    let again = post_plan(&gw, &coordinator, "FR", &keyed).await;
    assert_eq!(
        (first.status, again.status),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{}",
        again.body
    );
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.location(), first.location());
    assert_eq!(again.body["last_position"], first.body["last_position"]);
    assert_eq!(again.body["idempotent"], true);
    assert_eq!(first.body["idempotent"], false);
    // The same key with another body is refused, naming the header.
    let problem = post_plan(&gw, &coordinator, "DE", &[("Idempotency-Key", key)]).await;
    assert_eq!(problem.status, StatusCode::CONFLICT, "{}", problem.body);
    assert_eq!(problem.field(), "Idempotency-Key", "{}", problem.body);
    assert_eq!(heads(&client).await, before, "a repeated key wrote");

    // An action with an empty body: `{}` (dated today by the service); one whose body needs a
    // field says which.
    let fresh = post_plan(&gw, &coordinator, "KE", &[]).await;
    let fresh_id = fresh.body["id"].as_str().unwrap().to_owned();
    let conducted = gw
        .post(
            &coordinator,
            &format!("/api/v1/assessments/{fresh_id}/conduct"),
            "",
            &[],
        )
        .await;
    assert_eq!(conducted.status, StatusCode::OK, "{}", conducted.body);
    assert_eq!(conducted.etag(), Some("\"2\""));
    let shown = gw
        .get(
            c,
            &format!(
                "/api/v1/assessments/{fresh_id}?min_position={}",
                conducted.body["last_position"]
            ),
        )
        .await;
    assert_eq!(shown.body["status"], "conducted", "{}", shown.body);
    assert_eq!(
        shown.body["conducted_on"],
        today().to_string(),
        "{}",
        shown.body
    );
    let problem = gw
        .post(
            &coordinator,
            &format!("/api/v1/needs/{}/withdraw", Uuid::now_v7()),
            "",
            &[],
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "reason", "{}", problem.body);

    // X-Request-Id: the caller's is echoed (and in a problem's body); without one, one is made;
    // one that is not an id is refused by name, under an id made for it.
    let given = gw
        .send(
            Method::GET,
            "/api/v1/positions",
            Request {
                token: c,
                headers: vec![("X-Request-Id", "trace-42:a.b_c".to_owned())],
                ..Request::default()
            },
        )
        .await;
    assert_eq!(given.status, StatusCode::OK);
    assert_eq!(given.request_id(), Some("trace-42:a.b_c"));
    let problem = gw
        .send(
            Method::GET,
            "/api/v1/needs?colour=red",
            Request {
                token: c,
                headers: vec![("X-Request-Id", "trace-43".to_owned())],
                ..Request::default()
            },
        )
        .await;
    assert_eq!(problem.request_id(), Some("trace-43"));
    assert_eq!(problem.body["request_id"], "trace-43");
    let minted = gw.get(c, "/api/v1/positions").await;
    let other = gw.get(c, "/api/v1/positions").await;
    let minted = minted.request_id().unwrap();
    assert!(!minted.is_empty());
    assert_ne!(Some(minted), other.request_id(), "a new id per request");
    let made = gw.get(None, "/healthz").await;
    assert!(made.request_id().is_some());
    for bad in ["has space", &"x".repeat(129)] {
        let problem = gw
            .send(
                Method::GET,
                "/api/v1/positions",
                Request {
                    token: c,
                    headers: vec![("X-Request-Id", bad.to_owned())],
                    ..Request::default()
                },
            )
            .await;
        assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(problem.field(), "X-Request-Id");
        assert_ne!(problem.request_id(), Some(bad));
        assert_eq!(problem.body["request_id"].as_str(), problem.request_id());
    }

    // Cursor pagination: pages of one; a tampered cursor is refused by name. Asked once the read
    // model has everything the assessments service recorded (three assessments).
    let position = command_to(&client, &admin(), "assessments", "admin_head", &json!({}))
        .await
        .unwrap()["head"]
        .as_u64()
        .unwrap();
    let page = gw
        .get(
            c,
            &format!("/api/v1/assessments?limit=1&min_position={position}"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let mut seen = vec![page.body["items"][0]["id"].clone()];
    let mut cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let first_cursor = cursor.clone();
    loop {
        let next = gw
            .get(
                c,
                &format!("/api/v1/assessments?limit=1&min_position={position}&cursor={cursor}"),
            )
            .await;
        assert_eq!(next.status, StatusCode::OK, "{}", next.body);
        assert_eq!(next.body["items"].as_array().unwrap().len(), 1);
        assert!(
            !seen.contains(&next.body["items"][0]["id"]),
            "{}",
            next.body
        );
        seen.push(next.body["items"][0]["id"].clone());
        match next.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "three assessments, one per page: {seen:?}");
    let mut tampered = first_cursor.clone().into_bytes();
    tampered[15] = if tampered[15] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let problem = gw
        .get(
            c,
            &format!("/api/v1/assessments?limit=1&min_position={position}&cursor={tampered}"),
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST);
    assert_eq!(problem.field(), "cursor");
    // A cursor is for the filters it was made with.
    let problem = gw
        .get(
            c,
            &format!("/api/v1/assessments?limit=1&member_state=KE&cursor={first_cursor}"),
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST);
    assert_eq!(problem.field(), "cursor");

    // Tokens over HTTP (admins): the answer holds a working secret; the same Idempotency-Key
    // gives the same token again; a donor's token is for a registered organisation only.
    let (_, admin_token) = issue_token(&client, Role::Admin, None, None).await;
    gw.until_known(&admin_token).await;
    let problem = gw
        .post(
            &coordinator,
            "/api/v1/tokens",
            &json!({ "role": "auditor", "label": "not mine to give" }).to_string(),
            &[],
        )
        .await;
    assert_eq!(problem.status, StatusCode::FORBIDDEN, "{}", problem.body);
    let key = Uuid::now_v7().to_string();
    let asked = json!({ "role": "auditor", "label": "auditor over HTTP", "on": "2026-01-06" });
    let issued = gw
        .post(
            &admin_token,
            "/api/v1/tokens",
            &asked.to_string(),
            &[("Idempotency-Key", key.clone())],
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let auditor = issued.body["token"].as_str().unwrap().to_owned();
    assert!(token::looks_like_secret(&auditor), "{auditor}");
    let auditor_id = issued.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        issued.location(),
        Some(format!("/api/v1/tokens/{auditor_id}").as_str())
    );
    let retried = gw
        .post(
            &admin_token,
            "/api/v1/tokens",
            &asked.to_string(),
            &[("Idempotency-Key", key)],
        )
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert_eq!(retried.body["token"], auditor.as_str());
    assert_eq!(retried.body["id"], auditor_id.as_str());
    assert_eq!(retried.body["idempotent"], true);
    gw.until_known(&auditor).await;
    // An auditor reads, and writes nothing.
    let read = gw.get(Some(&auditor), "/api/v1/assessments").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let refused = post_plan(&gw, &auditor, "KE", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let problem = gw
        .post(
            &admin_token,
            "/api/v1/tokens",
            &json!({ "role": "donor", "organisation": "NOBODY", "label": "test donor" })
                .to_string(),
            &[],
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "organisation", "{}", problem.body);
    // The request body has no hash (the gateway makes the secret): one sent is refused by name.
    let problem = gw
        .post(
            &admin_token,
            "/api/v1/tokens",
            &json!({ "role": "auditor", "label": "x", "hash": token::hash("tt_x") }).to_string(),
            &[],
        )
        .await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "hash", "{}", problem.body);

    // A revoked token is refused within a bounded poll; the revocation over HTTP needs the
    // reason.
    let revoke = format!("/api/v1/tokens/{auditor_id}/revoke");
    let problem = gw.post(&admin_token, &revoke, "{}", &[]).await;
    assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{}", problem.body);
    assert_eq!(problem.field(), "reason");
    let revoked = gw
        .post(
            &admin_token,
            &revoke,
            &json!({ "on": "2026-02-01", "reason": "left" }).to_string(),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let problem = eventually(
        "the revocation to reach the gateway",
        Duration::from_secs(5),
        || async {
            let answer = gw.get(Some(&auditor), "/api/v1/assessments").await;
            (answer.status == StatusCode::UNAUTHORIZED).then_some(answer.body)
        },
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );

    // Admins list tokens without hashes.
    let partners = command_to(&client, &admin(), "partners", "admin_head", &json!({}))
        .await
        .unwrap()["head"]
        .as_u64()
        .unwrap();
    let tokens = gw
        .get(
            Some(&admin_token),
            &format!("/api/v1/tokens?min_position={partners}"),
        )
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let items = tokens.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", tokens.body);
    assert!(
        items.iter().all(|t| t.get("hash").is_none()),
        "{}",
        tokens.body
    );
    assert!(
        items
            .iter()
            .any(|t| t["status"] == "revoked" && t["id"] == auditor_id.as_str()),
        "{}",
        tokens.body
    );

    // The document is served as the contract writes it; the metrics count by route pattern.
    let doc = gw.get(None, "/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body, tatrack_gateway::openapi_document());
    assert!(doc.body["paths"]["/api/v1/assessments"]["post"].is_object());
    // An organisation the registry does not hold has no portfolio: 404, not an empty one.
    let unknown = gw
        .get(c, "/api/v1/organisations/NO-SUCH-ORG/portfolio")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    let (_, operator) = issue_token(&client, Role::Admin, None, None).await;
    gw.until_known(&operator).await;
    let metrics = gw.get(Some(&operator), "/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.body);
    let metrics = metrics.body.as_str().unwrap();
    for line in [
        "tatrack_http_requests_total{route=\"/api/v1/assessments\",method=\"POST\",status=\"201\"}",
        "tatrack_http_requests_total{route=\"/api/v1/assessments/{id}/conduct\",method=\"POST\",status=\"412\"}",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    gw.stop().await;
    services.stop().await;
}
