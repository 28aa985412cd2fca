//! The HTTP gateway against real NATS and the real services: bearer tokens (issued, unknown,
//! revoked), commands and views over HTTP, problem+json naming the field, If-Match,
//! Idempotency-Key, cursors, and an access matrix generated from the verb and view tables.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tatrack_bus::rpc::RequestMeta;
use tatrack_domain::Role;
use tatrack_gateway::token;
use tatrack_tests::*;
use uuid::Uuid;

struct Gateway {
    base: String,
    http: reqwest::Client,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Gateway {
    async fn start(h: &Harness) -> Self {
        let listener = tatrack_gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(tatrack_gateway::serve(
            listener,
            h.client().await,
            async move {
                let _ = rx.wait_for(|s| *s).await;
            },
        ));
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            stop,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.unwrap().unwrap();
    }

    async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        answer(request.send().await.unwrap()).await
    }

    async fn post(
        &self,
        token: &str,
        path: &str,
        body: &str,
        headers: &[(&str, String)],
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let response = request.send().await.unwrap();
        let etag = response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = answer(response).await;
        (status, body, etag)
    }
}

/// Status and JSON body; an error body must be problem+json.
async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(content_type, "application/problem+json", "{status} {body}");
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert!(
            body["title"].is_string() && body["type"].is_string(),
            "{body}"
        );
    }
    (status, body)
}

fn admin() -> RequestMeta {
    RequestMeta::new(principal(Role::Admin, None, None))
}

/// Issues a token over NATS as an admin; returns (id, secret).
async fn issue(
    client: &async_nats::Client,
    role: Role,
    organisation: Option<&str>,
    member_state: Option<&str>,
) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let secret = token::new_secret();
    let body = json!({
        "id": id, "role": role, "organisation": organisation, "member_state": member_state,
        "label": format!("test {role}"), "hash": token::hash(&secret), "issued_on": "2026-01-05",
    });
    command_to(client, &admin(), "partners", "token_issue", &body)
        .await
        .unwrap();
    (id, secret)
}

/// Waits until the gateway knows `secret` (its fold follows the partners stream).
async fn until_known(gw: &Gateway, secret: &str) {
    eventually(
        "the gateway to know the token",
        Duration::from_secs(20),
        || async {
            let (status, _) = gw
                .get(Some(secret), "/api/v1/views/organisation_list")
                .await;
            (status == StatusCode::OK).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_serves_commands_and_views_behind_tokens() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;

    // Health first: alive at once, ready once the token fold caught up.
    assert_eq!(gw.get(None, "/healthz").await.0, StatusCode::OK);
    let (_, coordinator) = issue(&client, Role::Coordinator, None, None).await;
    until_known(&gw, &coordinator).await;
    assert_eq!(gw.get(None, "/readyz").await.0, StatusCode::OK);

    // A coordinator plans an assessment over HTTP and reads it back.
    let id = Uuid::now_v7();
    let (status, reply, etag) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            &plan_body(id, "KE").to_string(),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    let position = reply["last_position"].as_u64().unwrap();
    let (status, shown) = gw
        .get(
            Some(&coordinator),
            &format!("/api/v1/views/assessment_show?id={id}&min_position={position}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["id"], id.to_string());
    assert_eq!(shown["member_state"], "KE");

    // No token, a malformed one, an unknown one: 401 naming the reason.
    let (status, problem) = gw.get(None, "/api/v1/views/assessment_list").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["field"], "Authorization");
    assert!(
        problem["detail"].as_str().unwrap().contains("missing"),
        "{problem}"
    );
    let (status, problem) = gw.get(Some("nope"), "/api/v1/views/assessment_list").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        problem["detail"].as_str().unwrap().contains("malformed"),
        "{problem}"
    );
    let (status, problem) = gw
        .get(Some(&token::new_secret()), "/api/v1/views/assessment_list")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        problem["detail"].as_str().unwrap().contains("unknown"),
        "{problem}"
    );

    // Bad input: 400 naming the field; nothing written.
    let (status, problem, _) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            "{",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "body");
    let (status, problem, _) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            &plan_body(Uuid::now_v7(), "XX").to_string(),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["field"], "member_state");
    let (status, problem) = gw
        .get(Some(&coordinator), "/api/v1/views/need_list?colour=red")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "colour");
    let (status, problem) = gw
        .get(
            Some(&coordinator),
            "/api/v1/views/need_list?as_of=yesterday",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "as_of");
    let (status, problem, _) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            &plan_body(Uuid::now_v7(), "KE").to_string(),
            &[("Idempotency-Key", "not-a-uuid".to_owned())],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "Idempotency-Key");
    // Unknown verbs, services and views: 404.
    for path in [
        "/api/v1/assessments/admin_head",
        "/api/v1/assessments/offer_draft",
        "/api/v1/nowhere/assessment_plan",
    ] {
        let (status, _, _) = gw.post(&coordinator, path, "{}", &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        gw.get(Some(&coordinator), "/api/v1/views/secrets").await.0,
        StatusCode::NOT_FOUND
    );

    // A stale If-Match: 412, naming the header.
    let (status, problem, _) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            &plan_body(id, "KE").to_string(),
            &[("If-Match", "\"0\"".to_owned())],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{problem}");
    assert_eq!(problem["field"], "If-Match");

    // A repeated Idempotency-Key returns the first reply and records nothing more.
    let key = Uuid::now_v7().to_string();
    let second = Uuid::now_v7();
    let body = plan_body(second, "FR").to_string();
    let (s1, first_reply, _) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            &body,
            &[("Idempotency-Key", key.clone())],
        )
        .await;
    let (s2, again, _) = gw
        .post(
            &coordinator,
            "/api/v1/assessments/assessment_plan",
            &body,
            &[("Idempotency-Key", key)],
        )
        .await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{again}");
    assert_eq!(again["id"], first_reply["id"]);
    assert_eq!(again["last_position"], first_reply["last_position"]);
    assert_eq!(again["idempotent"], true);

    // Cursor pagination: pages of one; a tampered cursor is refused by name.
    let position = first_reply["last_position"].as_u64().unwrap();
    let (status, page) = gw
        .get(
            Some(&coordinator),
            &format!("/api/v1/views/assessment_list?limit=1&min_position={position}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (status, next) = gw
        .get(
            Some(&coordinator),
            &format!(
                "/api/v1/views/assessment_list?limit=1&min_position={position}&cursor={cursor}"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);
    assert!(next["next_cursor"].is_null());
    let mut tampered = cursor.into_bytes();
    tampered[15] = if tampered[15] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (status, problem) = gw
        .get(
            Some(&coordinator),
            &format!(
                "/api/v1/views/assessment_list?limit=1&min_position={position}&cursor={tampered}"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "cursor");

    // A revoked token is refused within a bounded poll.
    let (auditor_id, auditor) = issue(&client, Role::Auditor, None, None).await;
    until_known(&gw, &auditor).await;
    command_to(
        &client,
        &admin(),
        "partners",
        "token_revoke",
        &json!({"id": auditor_id, "on": "2026-02-01", "reason": "left"}),
    )
    .await
    .unwrap();
    let problem = eventually(
        "the revocation to reach the gateway",
        Duration::from_secs(5),
        || async {
            let (status, body) = gw
                .get(Some(&auditor), "/api/v1/views/assessment_list")
                .await;
            (status == StatusCode::UNAUTHORIZED).then_some(body)
        },
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );

    // Admins list tokens without hashes; the document and the metrics are there.
    let (_, admin_token) = issue(&client, Role::Admin, None, None).await;
    until_known(&gw, &admin_token).await;
    let (status, tokens) = gw.get(Some(&admin_token), "/api/v1/views/token_list").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let items = tokens["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|t| t.get("hash").is_none()));
    assert!(items.iter().any(|t| t["status"] == "revoked"));
    let (status, doc) = gw.get(None, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/api/v1/assessments/assessment_plan"]["post"].is_object());
    let metrics = gw
        .http
        .get(format!("{}/metrics", gw.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "tatrack_http_requests_total{route=\"/api/v1/assessments/assessment_plan\",method=\"POST\",status=\"200\"}"
        ),
        "{metrics}"
    );

    gw.stop().await;
    services.stop().await;
}

/// Who asks, in the access matrix.
#[derive(Debug, Clone, Copy)]
enum Who {
    Admin,
    Coordinator,
    DonorOwn,
    DonorOther,
    StateOwn,
    StateOther,
    Auditor,
}

const OWN_ORG: &str = "ORG-OWN";
const OTHER_ORG: &str = "ORG-OTHER";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_over_every_view_and_verb() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    // A new command id for each command.
    let coordinator = || RequestMeta::new(principal(Role::Coordinator, None, None));

    // Kenya's assessment, two organisations and an offer of the first.
    let assessment = Uuid::now_v7();
    command_to(
        &client,
        &coordinator(),
        "assessments",
        "assessment_plan",
        &plan_body(assessment, "KE"),
    )
    .await
    .unwrap();
    for org in [OWN_ORG, OTHER_ORG] {
        let body = json!({ "id": org, "name": format!("Organisation {org}"), "kind": "civil_society",
                           "iati_type": "22", "iati_identifier": null, "country": null });
        command_to(
            &client,
            &coordinator(),
            "partners",
            "organisation_register",
            &body,
        )
        .await
        .unwrap();
    }
    let offer = Uuid::now_v7();
    let offer_body = json!({ "id": offer, "organisation": OWN_ORG, "title": "Border officer training",
        "themes": ["BOR"], "countries": ["KE"], "regions": [], "modalities": ["training"],
        "budget": { "amount_minor": 30_000_000, "currency": "USD" },
        "capacity": { "measure": "officers trained", "quantity": 150 },
        "valid_from": "2026-01-01", "valid_until": "2027-12-31", "languages": ["en"], "conditions": null });
    let reply = command_to(
        &client,
        &coordinator(),
        "partners",
        "offer_draft",
        &offer_body,
    )
    .await
    .unwrap();
    let partners_position = reply["last_position"].as_u64().unwrap();

    let mut tokens = Vec::new();
    for who in [
        Who::Admin,
        Who::Coordinator,
        Who::DonorOwn,
        Who::DonorOther,
        Who::StateOwn,
        Who::StateOther,
        Who::Auditor,
    ] {
        let (role, org, country) = match who {
            Who::Admin => (Role::Admin, None, None),
            Who::Coordinator => (Role::Coordinator, None, None),
            Who::DonorOwn => (Role::Donor, Some(OWN_ORG), None),
            Who::DonorOther => (Role::Donor, Some(OTHER_ORG), None),
            Who::StateOwn => (Role::StateFocalPoint, None, Some("KE")),
            Who::StateOther => (Role::StateFocalPoint, None, Some("FR")),
            Who::Auditor => (Role::Auditor, None, None),
        };
        let (_, secret) = issue(&client, role, org, country).await;
        tokens.push((who, secret));
    }
    for (_, secret) in &tokens {
        until_known(&gw, secret).await;
    }

    // Every view x every role: 200 or not found (the token list is empty but for admins).
    for view in tatrack_gateway::VIEWS {
        let query = match *view {
            "assessment_show" => format!("id={assessment}"),
            "organisation_show" => format!("id={OWN_ORG}"),
            "offer_show" => format!("id={offer}&min_position={partners_position}"),
            "portfolio_show" => format!("organisation={OWN_ORG}"),
            v if v.ends_with("_show") && v != "rate_table_show" => format!("id={}", Uuid::now_v7()),
            _ => String::new(),
        };
        for (who, secret) in &tokens {
            let (status, body) = gw
                .get(Some(secret), &format!("/api/v1/views/{view}?{query}"))
                .await;
            let allowed: &[StatusCode] = match (*view, who) {
                ("token_list", Who::Admin) => &[StatusCode::OK],
                ("token_list", _) => {
                    assert_eq!(status, StatusCode::OK, "{body}");
                    assert_eq!(body["items"], json!([]), "token_list as {who:?}");
                    &[StatusCode::OK]
                }
                // An object of Kenya or of ORG-OWN, asked by someone else: not found.
                ("assessment_show", Who::DonorOwn | Who::DonorOther | Who::StateOther)
                | (
                    "offer_show" | "portfolio_show",
                    Who::DonorOther | Who::StateOwn | Who::StateOther,
                ) => &[StatusCode::NOT_FOUND],
                ("assessment_show" | "organisation_show" | "offer_show" | "portfolio_show", _) => {
                    &[StatusCode::OK]
                }
                _ => &[StatusCode::OK, StatusCode::NOT_FOUND],
            };
            assert!(
                allowed.contains(&status),
                "{view} as {who:?}: {status} {body}"
            );
        }
    }

    // Every command verb, as a donor of another organisation and as an auditor, aimed at ORG-OWN's
    // and Kenya's objects: refused (4xx, never 2xx, never 5xx).
    let donor_other = &tokens
        .iter()
        .find(|(w, _)| matches!(w, Who::DonorOther))
        .unwrap()
        .1;
    let auditor = &tokens
        .iter()
        .find(|(w, _)| matches!(w, Who::Auditor))
        .unwrap()
        .1;
    for (service, verbs) in tatrack_gateway::COMMANDS {
        for verb in *verbs {
            let id = match verb.split('_').next() {
                Some("assessment") => json!(assessment),
                Some("organisation") => json!(OWN_ORG),
                Some("offer") => json!(offer),
                _ => json!(Uuid::now_v7()),
            };
            let body = json!({
                "id": id, "organisation": OWN_ORG, "member_state": "KE", "on": "2026-03-01",
                "reason": "matrix", "name": "Renamed",
            });
            for (who, secret) in [
                ("donor of another organisation", donor_other),
                ("auditor", auditor),
            ] {
                let (status, problem, _) = gw
                    .post(
                        secret,
                        &format!("/api/v1/{service}/{verb}"),
                        &body.to_string(),
                        &[],
                    )
                    .await;
                assert!(
                    status.is_client_error() && status != StatusCode::UNAUTHORIZED,
                    "{service}/{verb} as {who}: {status} {problem}"
                );
            }
        }
    }
    // Where the body is whole, the refusal is about rights, not input.
    for secret in [donor_other, auditor] {
        let (status, problem, _) = gw
            .post(
                secret,
                "/api/v1/partners/organisation_update",
                &json!({"id": OWN_ORG, "name": "Taken over"}).to_string(),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (status, problem, _) = gw
            .post(
                secret,
                "/api/v1/partners/offer_withdraw",
                &json!({"id": offer, "on": "2026-03-01", "reason": "not mine"}).to_string(),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    }

    gw.stop().await;
    services.stop().await;
}
