//! A hostile caller against the real gateway, services and NATS: each test replays an attack a
//! security review made with a valid but unprivileged token (or none) and shows that it now fails
//! and writes nothing. The consent and object-level attacks live next to the rules they test
//! (`gateway::matrix`, `business_dates`); this module holds the HTTP-level ones.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tatrack_domain::Role;
use tatrack_tests::gateway::{Gateway, Request};
use tatrack_tests::*;

use crate::gateway::{heads, issue, plan, until_known};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_smuggled_revoked_or_probing_metrics_get_nothing() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    let (_, focal) = issue(&client, Role::StateFocalPoint, None, Some("KE")).await;
    let (_, coordinator) = issue(&client, Role::Coordinator, None, None).await;
    let (revoked_id, revoked) = issue(&client, Role::Coordinator, None, None).await;
    let (_, operator) = issue(&client, Role::Admin, None, None).await;
    until_known(&gw, &operator).await;

    // Two Authorization headers (a State focal point's, then a coordinator's): refused, whichever a proxy
    // would have read, and nothing written.
    let before = heads(&client).await;
    let smuggled = gw
        .send(
            Method::POST,
            "/api/v1/assessments",
            Request {
                token: Some(&focal),
                body: Some(plan("KE").to_string()),
                headers: vec![("authorization", format!("Bearer {coordinator}"))],
            },
        )
        .await;
    assert_eq!(
        smuggled.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        smuggled.body
    );
    assert_eq!(smuggled.field(), "Authorization");
    assert!(
        smuggled.body["detail"]
            .as_str()
            .unwrap()
            .contains("one Authorization header"),
        "{}",
        smuggled.body
    );
    assert_eq!(heads(&client).await, before, "the smuggled command wrote");

    // A revoked token and one never issued get the same answer: nothing tells a finder of an old
    // token that it once worked.
    command_to(
        &client,
        &tatrack_bus::rpc::RequestMeta::new(principal(Role::Admin, None, None)),
        "partners",
        "token_revoke",
        &json!({ "id": revoked_id, "reason": "left the team", "on": "2026-01-06" }),
    )
    .await
    .unwrap();
    let revoked_answer = eventually(
        "the revocation to reach the gateway",
        std::time::Duration::from_secs(20),
        || async {
            let answer = gw.get(Some(&revoked), "/api/v1/needs").await;
            (answer.status == StatusCode::UNAUTHORIZED).then_some(answer)
        },
    )
    .await;
    let never = tatrack_gateway::token::new_secret();
    let never_answer = gw.get(Some(&never), "/api/v1/needs").await;
    assert_eq!(never_answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked_answer.body["detail"], never_answer.body["detail"]);

    // The metrics are an operator's: no token 401, a focal point's 403, an admin's 200.
    assert_eq!(
        gw.get(None, "/metrics").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        gw.get(Some(&focal), "/metrics").await.status,
        StatusCode::FORBIDDEN
    );
    // An invented method is answered, but never becomes a label of its own.
    for probe in ["XPROBE1", "XPROBE2", "XPROBE3"] {
        let answer = gw
            .send(
                Method::from_bytes(probe.as_bytes()).unwrap(),
                "/api/v1/needs",
                Request {
                    token: Some(&focal),
                    ..Request::default()
                },
            )
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    }
    let metrics = gw.get(Some(&operator), "/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().unwrap();
    assert!(!text.contains("XPROBE"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/needs\",method=\"other\",status=\"405\"} 3"),
        "{text}"
    );

    // Every answer, error or not, tells browsers and proxies not to keep or sniff it.
    for answer in [
        gw.get(Some(&focal), "/api/v1/needs").await,
        gw.get(None, "/api/v1/needs").await,
        gw.get(None, "/api/v1/openapi.json").await,
    ] {
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }

    gw.stop().await;
    services.stop().await;
}
