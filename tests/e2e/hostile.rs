//! A hostile caller against the real gateway, services and NATS: each test replays an attack a
//! security review made with a valid but unprivileged token (or none) and shows that it now fails
//! and writes nothing. The consent and object-level attacks live next to the rules they test
//! (`gateway::matrix`, `business_dates`); this module holds the HTTP-level ones.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tatrack_bus::rpc;
use tatrack_domain::Role;
use tatrack_tests::gateway::{Gateway, Request};
use tatrack_tests::*;

use crate::gateway::{heads, plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_smuggled_revoked_or_probing_metrics_get_nothing() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    let (_, focal) = issue_token(&client, Role::StateFocalPoint, None, Some("KE")).await;
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    let (revoked_id, revoked) = issue_token(&client, Role::Coordinator, None, None).await;
    let (_, operator) = issue_token(&client, Role::Admin, None, None).await;
    gw.until_known(&operator).await;

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

/// Registers `code` as a donor government (as a coordinator, over NATS).
async fn register(client: &async_nats::Client, code: &str, iati_identifier: Option<&str>) {
    command_to(
        client,
        &tatrack_bus::rpc::RequestMeta::new(coordinator()),
        "partners",
        "organisation_register",
        &json!({"id": code, "name": format!("{code} government"), "kind": "donor_government",
            "iati_type": "10", "iati_identifier": iati_identifier, "country": null,
            "on": "2026-01-02"}),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donor_cannot_rewrite_who_it_is_nor_inject_into_what_others_read() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    register(&client, "UNDP", Some("XM-DAC-41114")).await;
    register(&client, "UNOCT", None).await;
    register(&client, "EVIL-DONOR", None).await;
    let (_, evil) = issue_token(&client, Role::Donor, Some("EVIL-DONOR"), None).await;
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&coordinator).await;
    gw.until_known(&evil).await;
    let update = "/api/v1/organisations/EVIL-DONOR/update";

    // Its kind, IATI type and identifier (here UNDP's) are a coordinator's to set: 403, nothing
    // written, and the refusal names nobody.
    let before = heads(&client).await;
    for body in [
        json!({"iati_identifier": "XM-DAC-41114"}),
        json!({"kind": "un_entity"}),
        json!({"iati_type": "40"}),
    ] {
        let refused = gw.post(&evil, update, &body.to_string(), &[]).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{body}: {}",
            refused.body
        );
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains("coordinator"), "{detail}");
    }
    assert_eq!(heads(&client).await, before, "a refused update wrote");
    // A coordinator may set an identifier, but not one another organisation holds.
    let taken = gw
        .post(
            &coordinator,
            update,
            &json!({"iati_identifier": "XM-DAC-41114"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST, "{}", taken.body);
    assert_eq!(taken.field(), "iati_identifier");
    assert_eq!(heads(&client).await, before, "a refused update wrote");
    // Another organisation's offer: one message, no owner named.
    let foreign = gw
        .post(
            &evil,
            "/api/v1/offers",
            &json!({"organisation": "UNOCT", "title": "Not mine", "themes": ["BOR"],
                "countries": ["KE"], "regions": [], "modalities": ["training"],
                "budget": {"amount_minor": 10_000, "currency": "USD"}, "capacity": null,
                "valid_from": "2026-01-01", "valid_until": "2026-12-31", "languages": ["en"],
                "conditions": null})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    assert!(!foreign.body["detail"].as_str().unwrap().contains("UNOCT"));
    assert_eq!(heads(&client).await, before, "a refused offer wrote");

    // Text that would act on its reader (a terminal's escape sequences, NUL, a bidi override, a
    // line break in a one-line field) is refused by field, and nothing is written.
    for name in [
        "Evil\u{1b}[2J",
        "Evil\u{0}",
        "Evil\u{202e}rodnoD",
        "Evil\nDonor",
    ] {
        let refused = gw
            .post(&evil, update, &json!({ "name": name }).to_string(), &[])
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{name:?}: {}",
            refused.body
        );
        assert_eq!(refused.field(), "name");
    }
    assert_eq!(heads(&client).await, before, "a refused name was written");

    // Its name is its own to change; a formula and HTML in it reach the coordinator's reports as
    // text. It funds a project, so its name is a cell of the CSV and of the Markdown.
    donor_project(
        &client,
        "EVIL-DONOR",
        "EVIL-DONOR-1",
        "Stadium security course",
        &[],
    )
    .await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"<b>click</b>\")";
    let renamed = gw
        .post(&evil, update, &json!({ "name": formula }).to_string(), &[])
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let position = renamed.body["last_position"].as_u64().unwrap();
    eventually(
        "the read model to show the new name",
        std::time::Duration::from_secs(20),
        || async {
            let org = gw
                .get(
                    Some(&coordinator),
                    &format!("/api/v1/organisations/EVIL-DONOR?min_position={position}"),
                )
                .await;
            (org.body["name"] == formula).then_some(())
        },
    )
    .await;
    let report = |format: &'static str| {
        let gw = &gw;
        let coordinator = &coordinator;
        async move {
            let made = gw
                .post(
                    coordinator,
                    "/api/v1/reports",
                    &json!({ "format": format }).to_string(),
                    &[],
                )
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
            made.body["content"].as_str().unwrap().to_owned()
        }
    };
    let csv = report("csv").await;
    let cells: Vec<String> = csv
        .lines()
        .flat_map(|line| line.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert!(
        csv.contains("'=HYPERLINK"),
        "the name is not in the CSV, neutralised: {csv}"
    );
    assert!(
        cells
            .iter()
            .all(|c| !c.trim_start_matches('"').starts_with('=')),
        "a cell starts with a formula: {csv}"
    );
    let markdown = report("md").await;
    assert!(markdown.contains("&lt;b&gt;click&lt;/b&gt;"), "{markdown}");
    assert!(!markdown.contains("<b>"), "{markdown}");

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_day_never_widens_consent() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    register(&client, "EVIL-DONOR", None).await;
    register(&client, "GOOD-DONOR", None).await;
    let (_, evil) = issue_token(&client, Role::Donor, Some("EVIL-DONOR"), None).await;
    let (_, good) = issue_token(&client, Role::Donor, Some("GOOD-DONOR"), None).await;
    let (_, state) = issue_token(&client, Role::StateFocalPoint, None, Some("KE")).await;
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&coordinator).await;
    for token in [&evil, &good, &state] {
        gw.until_known(token).await;
    }
    let need = gw
        .post(
            &coordinator,
            "/api/v1/needs",
            &json!({"member_state": "KE", "recommendation_ids": [], "theme": "BOR",
                "modality": "training", "description": "Border screening course",
                "beneficiary_institution": "Kenya Police Service", "estimated_cost": null,
                "size": null, "priority": 1, "on": "2026-05-01"})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(need.status, StatusCode::CREATED, "{}", need.body);
    let need_id = need.body["id"].as_str().unwrap().to_owned();
    // The State shared it with EVIL-DONOR for the second half of 2026 (long over on the tests'
    // clock), and with GOOD-DONOR until revoked.
    let mut last = 0;
    for (audience, until) in [
        ("EVIL-DONOR", json!("2026-12-31")),
        ("GOOD-DONOR", json!(null)),
    ] {
        let granted = gw
            .post(
                &state,
                "/api/v1/sharing-grants",
                &json!({"member_state": "KE", "scope": {"type": "need", "need_id": need_id},
                    "audience": {"type": "organisations", "ids": [audience]},
                    "until": until, "on": "2026-06-01"})
                .to_string(),
                &[],
            )
            .await;
        assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.body);
        last = granted.body["last_position"].as_u64().unwrap();
    }
    let show = format!("/api/v1/needs/{need_id}?min_position={last}");
    assert_eq!(gw.get(Some(&good), &show).await.status, StatusCode::OK);

    // As of a day inside its expired grant, through every door: nothing.
    let day = "as_of=2026-07-01";
    let shown = gw.get(Some(&evil), &format!("{show}&{day}")).await;
    assert_eq!(shown.status, StatusCode::NOT_FOUND, "{}", shown.body);
    for list in [
        format!("/api/v1/needs?{day}"),
        format!("/api/v1/unmet-needs?{day}"),
        format!("/api/v1/recommendations?{day}"),
        format!("/api/v1/allocation?{day}"),
    ] {
        let answer = gw.get(Some(&evil), &list).await;
        assert_eq!(answer.status, StatusCode::OK, "{list}: {}", answer.body);
        assert!(
            !answer.body.to_string().contains(&need_id),
            "{list} shows the need: {}",
            answer.body
        );
    }
    let matches = gw
        .get(
            Some(&evil),
            &format!("/api/v1/needs/{need_id}/matches?{day}"),
        )
        .await;
    assert_eq!(matches.status, StatusCode::NOT_FOUND, "{}", matches.body);
    // And the day that decides who may see is never the caller's to give.
    let today = gw
        .get(
            Some(&evil),
            &format!("/api/v1/needs/{need_id}?today=2026-07-01"),
        )
        .await;
    assert_eq!(today.status, StatusCode::BAD_REQUEST);
    assert_eq!(today.field(), "today");

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_the_right_learns_nothing_from_a_refusal() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    register(&client, "UNOCT", None).await;
    register(&client, "GOOD-DONOR", None).await;
    register(&client, "EVIL-DONOR", None).await;
    let (_, evil) = issue_token(&client, Role::Donor, Some("EVIL-DONOR"), None).await;
    let (_, philippines) = issue_token(&client, Role::StateFocalPoint, None, Some("PH")).await;
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    for token in [&evil, &philippines, &coordinator] {
        gw.until_known(token).await;
    }
    // GOOD-DONOR's project in Kenya, which EVIL-DONOR has no part in.
    let project = gw
        .post(
            &coordinator,
            "/api/v1/projects",
            &json!({"iati_identifier": "UNOCT-KE-1", "title": "Border course",
                "description": "Screening.", "recipient_country": "KE", "theme": "BOR",
                "dac_sector": "15210", "participating": [{"organisation": "GOOD-DONOR", "role": "1"},
                    {"organisation": "UNOCT", "role": "4"}],
                "planned_start": "2026-07-01", "planned_end": "2027-06-30",
                "budget": {"amount_minor": 5_000_000, "currency": "EUR"}, "needs": [],
                "referrals": [], "on": "2026-07-01"})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(project.status, StatusCode::CREATED, "{}", project.body);
    let project_id = project.body["id"].as_str().unwrap().to_owned();
    let report = |project_id: &str| {
        json!({"project_id": project_id, "period_start": "2026-07-01",
            "period_end": "2026-09-30", "narrative": "All done.",
            "actuals": [{"result_id": uuid::Uuid::now_v7(), "indicator_id": uuid::Uuid::now_v7(),
                "value": 5}]})
        .to_string()
    };
    // A coordinator is told what is wrong with the body...
    let told = gw
        .post(
            &coordinator,
            "/api/v1/progress-reports",
            &report(&project_id),
            &[],
        )
        .await;
    assert_eq!(told.status, StatusCode::BAD_REQUEST, "{}", told.body);
    assert_eq!(told.field(), "actuals");
    // ...a donor with no part in the project only that it may not: the same answer for the
    // project and for one that does not exist, nothing about its indicators or its country.
    let before = heads(&client).await;
    let mut details = Vec::new();
    for id in [project_id.clone(), uuid::Uuid::now_v7().to_string()] {
        let refused = gw
            .post(&evil, "/api/v1/progress-reports", &report(&id), &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        details.push(refused.body["detail"].clone());
    }
    assert_eq!(details[0], details[1]);
    // Proposing a referral (a coordinator's) of a need and an offer that do not exist: 403, not
    // what is wrong with them.
    let proposed = gw
        .post(
            &evil,
            "/api/v1/referrals",
            &json!({"need_id": uuid::Uuid::now_v7(), "offer_id": uuid::Uuid::now_v7(),
                "share_money": {"amount_minor": 100, "currency": "EUR"}})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::FORBIDDEN, "{}", proposed.body);
    // A project naming a need that does not exist: 403 for a donor, before the need is looked at.
    let created = gw
        .post(
            &evil,
            "/api/v1/projects",
            &json!({"iati_identifier": "EVIL-1", "title": "Mine", "description": "Mine.",
                "recipient_country": "KE", "theme": "BOR", "dac_sector": "15210",
                "participating": [{"organisation": "EVIL-DONOR", "role": "1"}],
                "planned_start": "2026-07-01", "planned_end": "2027-06-30",
                "budget": {"amount_minor": 100, "currency": "EUR"},
                "needs": [uuid::Uuid::now_v7()], "referrals": [], "on": "2026-07-01"})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::FORBIDDEN, "{}", created.body);
    // Another State's focal point accepting a referral that does not exist: no country named.
    let accepted = gw
        .post(
            &philippines,
            &format!("/api/v1/referrals/{}/accept-by-state", uuid::Uuid::now_v7()),
            &json!({"on": "2026-07-01"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::FORBIDDEN, "{}", accepted.body);
    assert!(!accepted.body["detail"].as_str().unwrap().contains("of  "));
    assert_eq!(heads(&client).await, before, "a refused command wrote");

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_cannot_flood_the_gateway_nor_make_reports_without_end() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start_with(
        &h,
        tatrack_gateway::Limits {
            requests_per_second: 5,
            reports_per_hour: 10,
            in_flight: 64,
        },
    )
    .await;
    let (_, flooder) = issue_token(&client, Role::Coordinator, None, None).await;
    let (_, patient) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&flooder).await;
    gw.until_known(&patient).await;
    // A burst of twice the rate passes, then 429 with Retry-After; another token still gets in.
    let mut refused = None;
    for _ in 0..30 {
        let answer = gw.get(Some(&flooder), "/api/v1/needs").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(answer);
            break;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let refused = refused.expect("30 requests at once were all served");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    assert_eq!(
        gw.get(Some(&patient), "/api/v1/needs").await.status,
        StatusCode::OK
    );
    // Reports: one at once out of ten an hour; the second waits minutes, and is not recorded.
    let before = heads(&client).await;
    let report = json!({ "format": "json" }).to_string();
    let first = gw.post(&patient, "/api/v1/reports", &report, &[]).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let after_first = heads(&client).await;
    assert_ne!(after_first, before, "the first report was recorded");
    let second = gw.post(&patient, "/api/v1/reports", &report, &[]).await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.body
    );
    let wait: u64 = second.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 60, "{wait}");
    assert_eq!(
        heads(&client).await,
        after_first,
        "the refused report was recorded"
    );

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_dies_with_its_organisation_and_lives_a_year_at_most() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    register(&client, "GONE-DONOR", None).await;
    let (_, donor) = issue_token(&client, Role::Donor, Some("GONE-DONOR"), None).await;
    let (_, operator) = issue_token(&client, Role::Admin, None, None).await;
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    for token in [&donor, &operator, &coordinator] {
        gw.until_known(token).await;
    }
    // A token is valid 90 days by default, at most a year, never for the past.
    let issued = gw
        .post(
            &operator,
            "/api/v1/tokens",
            &json!({"role": "auditor", "label": "audit script"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let id = issued.body["id"].as_str().unwrap().to_owned();
    let position = issued.body["last_position"].as_u64().unwrap();
    let tokens = gw
        .get(
            Some(&operator),
            &format!("/api/v1/tokens?min_position={position}"),
        )
        .await;
    let row = tokens.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .cloned()
        .unwrap();
    let ninety = today().checked_add(jiff::Span::new().days(90)).unwrap();
    assert_eq!(row["expires_on"], ninety.to_string(), "{row}");
    let before = heads(&client).await;
    for expires_on in [today().to_string(), "2099-01-01".to_owned()] {
        let refused = gw
            .post(
                &operator,
                "/api/v1/tokens",
                &json!({"role": "auditor", "label": "forever", "expires_on": expires_on})
                    .to_string(),
                &[],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.field(), "expires_on");
    }
    assert_eq!(heads(&client).await, before, "a refused token was recorded");

    // The organisation is deactivated: its donor's token stops working at once.
    assert_eq!(
        gw.get(Some(&donor), "/api/v1/needs").await.status,
        StatusCode::OK
    );
    let gone = gw
        .post(
            &coordinator,
            "/api/v1/organisations/GONE-DONOR/deactivate",
            &json!({"reason": "left the consortium"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    eventually(
        "the donor's token to be refused",
        std::time::Duration::from_secs(20),
        || async {
            (gw.get(Some(&donor), "/api/v1/needs").await.status == StatusCode::UNAUTHORIZED)
                .then_some(())
        },
    )
    .await;

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_but_the_owner_reads_the_data_directory() {
    use std::os::unix::fs::PermissionsExt as _;
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    // Something confidential in every log and in the read model.
    ok(
        &client,
        &coordinator(),
        "assessment_plan",
        &plan_body(uuid::Uuid::now_v7(), "KE"),
    )
    .await;
    services.stop().await;
    let mut checked = 0;
    // Everything the services made below the test's own temporary directory (`tatrack up` and
    // `serve` make the data directory itself private too).
    let mut stack: Vec<_> = std::fs::read_dir(h.data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    while let Some(path) = stack.pop() {
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        let mode = metadata.permissions().mode() & 0o777;
        if metadata.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if metadata.is_file() {
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
        }
        checked += 1;
    }
    assert!(
        checked > 10,
        "only {checked} paths under the data directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_acceptances_never_commit_an_offer_beyond_its_budget() {
    use crate::partners_projects::{
        DONOR_A, agree, identify_need, offer, offer_body, recommendation, referred, share,
    };
    use futures::future::join_all;
    let (h, services, client) = Harness::up().await;
    let client = &client;
    crate::partners_projects::register(client, DONOR_A, "donor_government", "10").await;
    // A 100 USD offer, and twenty needs each referred 10 USD of it: room for ten.
    let mut body = offer_body(uuid::Uuid::now_v7(), DONOR_A, "BOR", "KE");
    body["budget"] = usd(100);
    body["capacity"] = serde_json::Value::Null;
    let (offer_id, _) = offer(client, body, true).await;
    let rec = recommendation(client, "KE").await;
    let mut referrals = Vec::new();
    for _ in 0..20 {
        let need = identify_need(client, rec, "BOR").await;
        agree(client, need).await;
        share(client, need, &[DONOR_A]).await;
        let referral = referred(client, need, offer_id, usd(10), serde_json::Value::Null).await;
        ok(
            client,
            &donor(DONOR_A),
            "referral_accept_by_partner",
            &moved(referral, "2026-07-02"),
        )
        .await;
        referrals.push(referral);
    }
    // The State accepts all twenty at once.
    let kenya = focal_point("KE");
    let bodies: Vec<_> = referrals
        .iter()
        .map(|referral| moved(*referral, "2026-07-03"))
        .collect();
    let answers = join_all(
        bodies
            .iter()
            .map(|body| send(client, &kenya, "referral_accept_by_state", body)),
    )
    .await;
    let accepted = answers.iter().filter(|a| a.is_ok()).count();
    for refused in answers.iter().filter_map(|a| a.as_ref().err()) {
        let rpc::Error::Remote(e) = refused else {
            panic!("not a refusal: {refused:?}");
        };
        assert_eq!(e.field.as_deref(), Some("share_money"), "{e:?}");
    }
    assert_eq!(accepted, 10, "exactly the budget's worth: {answers:?}");
    // The offer, the needs and the referrals agree once the totals are derived.
    eventually(
        "the offer's commitment",
        std::time::Duration::from_secs(30),
        || async {
            let shown = query_as(
                client,
                coordinator(),
                "offer_show",
                &json!({ "id": offer_id.to_string() }),
            )
            .await
            .ok()?;
            (shown["committed_money"]["amount_minor"] == 10_000).then_some(())
        },
    )
    .await;
    let listed = query_as(
        client,
        coordinator(),
        "referral_list",
        &json!({ "limit": 100 }),
    )
    .await
    .unwrap();
    let state_accepted = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "accepted_by_state")
        .count();
    assert_eq!(state_accepted, 10, "{listed}");
    drop(h);
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participating_donor_records_only_its_own_money() {
    let h = Harness::start();
    let services = h.services().await;
    let client = h.client().await;
    let gw = Gateway::start(&h).await;
    for code in ["UNOCT", "GOOD-DONOR", "EVIL-DONOR", "BYSTANDER"] {
        register(&client, code, None).await;
    }
    let (_, evil) = issue_token(&client, Role::Donor, Some("EVIL-DONOR"), None).await;
    let (_, coordinator) = issue_token(&client, Role::Coordinator, None, None).await;
    gw.until_known(&evil).await;
    gw.until_known(&coordinator).await;
    let project = gw
        .post(
            &coordinator,
            "/api/v1/projects",
            &json!({"iati_identifier": "UNOCT-KE-2", "title": "Border course",
                "description": "Screening.", "recipient_country": "KE", "theme": "BOR",
                "dac_sector": "15210",
                "participating": [{"organisation": "GOOD-DONOR", "role": "1"},
                    {"organisation": "EVIL-DONOR", "role": "1"},
                    {"organisation": "UNOCT", "role": "4"}],
                "planned_start": "2026-07-01", "planned_end": "2027-06-30",
                "budget": {"amount_minor": 5_000_000, "currency": "USD"}, "needs": [],
                "referrals": [], "on": "2026-07-01"})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(project.status, StatusCode::CREATED, "{}", project.body);
    let id = project.body["id"].as_str().unwrap().to_owned();
    let milestone = gw
        .post(
            &coordinator,
            &format!("/api/v1/projects/{id}/milestones"),
            &json!({"title": "First course", "due": "2026-10-01", "on": "2026-07-02"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(milestone.status, StatusCode::OK, "{}", milestone.body);
    let before = heads(&client).await;
    let pledge = |provider: &str, receiver: &str| {
        json!({"kind": "pledge", "value": {"amount_minor": 900_000_000, "currency": "USD"},
            "provider": provider, "receiver": receiver, "on": "2026-07-05",
            "description": "generous"})
        .to_string()
    };
    // Money in another's name (a participant's or not), the budget, the status, a milestone:
    // none is a donor's to record.
    for (path, body) in [
        (
            format!("/api/v1/projects/{id}/transactions"),
            pledge("GOOD-DONOR", "UNOCT"),
        ),
        (
            format!("/api/v1/projects/{id}/transactions"),
            pledge("BYSTANDER", "UNOCT"),
        ),
        (
            format!("/api/v1/projects/{id}/budget"),
            json!({"budget": {"amount_minor": 1, "currency": "USD"}, "on": "2026-07-05"})
                .to_string(),
        ),
        (
            format!("/api/v1/projects/{id}/status"),
            json!({"to": "4", "on": "2026-07-05"}).to_string(),
        ),
        (
            format!(
                "/api/v1/projects/{id}/milestones/{}/complete",
                uuid::Uuid::now_v7()
            ),
            json!({"on": "2026-07-05"}).to_string(),
        ),
    ] {
        let refused = gw.post(&evil, &path, &body, &[]).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.body
        );
    }
    // Its own money, to an organisation outside the project: refused by name.
    let outside = gw
        .post(
            &evil,
            &format!("/api/v1/projects/{id}/transactions"),
            &json!({"kind": "commitment", "value": {"amount_minor": 100, "currency": "USD"},
                "provider": "EVIL-DONOR", "receiver": "BYSTANDER", "on": "2026-07-05",
                "description": null})
            .to_string(),
            &[],
        )
        .await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST, "{}", outside.body);
    assert_eq!(outside.field(), "receiver");
    assert_eq!(
        heads(&client).await,
        before,
        "a refused change was recorded"
    );

    gw.stop().await;
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_sees_of_an_offer_only_what_is_referred_to_it_while_it_is() {
    use crate::partners_projects::{
        DONOR_A, agree, identify_need, offer, offer_body, recommendation, referred, share,
    };
    let (h, services, client) = Harness::up().await;
    let client = &client;
    crate::partners_projects::register(client, DONOR_A, "donor_government", "10").await;
    let (offer_id, _) = offer(
        client,
        offer_body(uuid::Uuid::now_v7(), DONOR_A, "BOR", "KE"),
        true,
    )
    .await;
    let rec = recommendation(client, "KE").await;
    let need = identify_need(client, rec, "BOR").await;
    agree(client, need).await;
    share(client, need, &[DONOR_A]).await;
    let referral = referred(client, need, offer_id, usd(40_000), json!(25)).await;
    let kenya = focal_point("KE");
    let show =
        json!({ "id": offer_id.to_string(), "min_positions": tatrack_tests::heads(client).await });
    // While the referral runs: the offer, with the referral's share for its money and units.
    let seen = query_as(client, kenya.clone(), "offer_show", &show)
        .await
        .unwrap();
    assert_eq!(seen["budget"], usd(40_000), "{seen}");
    assert_eq!(seen["capacity"]["quantity"], 25, "{seen}");
    assert_eq!(seen["remaining_money"], serde_json::Value::Null, "{seen}");
    assert_eq!(seen["committed_money"], serde_json::Value::Null, "{seen}");
    // The donor sees its whole offer.
    let whole = query_as(client, donor(DONOR_A), "offer_show", &show)
        .await
        .unwrap();
    assert_eq!(whole["budget"], usd(300_000), "{whole}");
    // Once the State declined it, the offer is not the State's to see.
    let declined = ok(
        client,
        &kenya,
        "referral_decline_by_state",
        &json!({ "id": referral, "on": "2026-07-03", "reason": "not now" }),
    )
    .await;
    let show = json!({ "id": offer_id.to_string(),
        "min_positions": { "projects": last_position(&declined) } });
    let gone = query_as(client, kenya, "offer_show", &show).await;
    assert!(
        matches!(&gone, Err(rpc::Error::Remote(e)) if e.code == tatrack_bus::rpc::ErrorCode::NotFound),
        "{gone:?}"
    );
    drop(h);
    services.stop().await;
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made by openssl on the machine's (or
/// faketime's) clock, valid from a day before to a day after.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        // A server's certificate, not a CA's (rustls refuses a CA as the end entity).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "keyUsage=digitalSignature"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .output()
        .expect("run openssl");
    assert!(made.status.success(), "{made:?}");
    (cert, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_certificate_the_gateway_speaks_only_https() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let listener = tatrack_gateway::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let served = tokio::spawn(tatrack_gateway::serve_with(
        listener,
        h.client().await,
        tatrack_tests::test_clock(),
        tatrack_gateway::Limits::default(),
        Some(tatrack_gateway::Tls {
            cert: cert.clone(),
            key,
        }),
        stop.clone(),
    ));
    // A client that trusts the certificate gets its answer over TLS...
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&cert).unwrap())
        .unwrap();
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("a TLS session with the gateway");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.ok();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{answer}"
    );
    // ...and plain HTTP on the same port is not answered as HTTP.
    let plain = reqwest::get(format!("http://{addr}/healthz")).await;
    assert!(
        plain.as_ref().map_or(true, |r| !r.status().is_success()),
        "{plain:?}"
    );
    // A key that is not the certificate's: the gateway does not start, naming the files.
    let other = tempfile::tempdir().unwrap();
    let (_, wrong_key) = self_signed(other.path());
    let listener = tatrack_gateway::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let refused = tatrack_gateway::serve_with(
        listener,
        h.client().await,
        tatrack_tests::test_clock(),
        tatrack_gateway::Limits::default(),
        Some(tatrack_gateway::Tls {
            cert: cert.clone(),
            key: wrong_key,
        }),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(format!("{refused:#}").contains("cert.pem"), "{refused:#}");
    stop.cancel();
    served.await.unwrap().unwrap();
}
