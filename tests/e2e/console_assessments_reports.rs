//! The console's assessments, sharing and reports screens over the gateway's real router, against
//! real services: what each role sees and may do on them, the forms that plan and move an
//! assessment, grant and revoke sharing, make a report and download it, and the IATI export and
//! import (plan first, then record), each bad input writing nothing.

use axum::http::StatusCode;
use serde_json::json;
use tatrack_tests::fixtures::{heads, ok};
use tatrack_tests::*;
use uuid::Uuid;

use crate::console::{Browser, Page, World, eventually_page, world};

/// An assessment planned (and moved) over NATS, as another door would record it.
async fn assessment(w: &World, state: &str, title: &str, moves: &[(&str, &str)]) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        &w.client,
        &coordinator(),
        "assessment_plan",
        &json!({
            "id": id, "member_state": state, "kind": "focused_visit", "resolutions": [1373],
            "title": title, "visit_start": "2031-01-10", "visit_end": "2031-01-20",
            "classification": "restricted", "on": "2031-01-02",
        }),
    )
    .await;
    for (verb, on) in moves {
        ok(
            &w.client,
            &coordinator(),
            verb,
            &json!({"id": id, "on": on, "reason": null}),
        )
        .await;
    }
    id
}

/// The page at `path` once it shows `text` (the read model follows the log).
async fn eventually_text(b: &mut Browser, path: &str, text: &str) -> Page {
    for _ in 0..100 {
        let page = b.get(path).await;
        if page.text.contains(text) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never showed {text:?}");
}

#[tokio::test]
async fn assessments_show_their_clocks_to_each_role_and_staff_move_them_by_forms() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    // A KE assessment whose draft went out on 2031-02-01: the 30-day clock ran out on
    // 2031-03-03, and the tests' today is 2031-03-14.
    let ke = assessment(
        &w,
        "KE",
        "Kenya border follow-up",
        &[
            ("assessment_mark_conducted", "2031-01-21"),
            ("assessment_send_draft", "2031-02-01"),
        ],
    )
    .await;
    ok(
        &w.client,
        &coordinator(),
        "recommendation_record",
        &json!({
            "id": Uuid::now_v7(), "assessment_id": ke, "member_state": "", "theme": "BOR",
            "priority": 1, "text": "Screen travellers against watch lists.", "on": "2031-02-01",
        }),
    )
    .await;
    let ug = assessment(&w, "UG", "Uganda desk review", &[]).await;
    let ke_path = format!("/assessments/{ke}");
    let ug_path = format!("/assessments/{ug}");
    let mut coordinator = w.browser("coordinator").await;
    eventually_text(&mut coordinator, "/assessments", "Uganda desk review").await;

    for (who, _) in &w.people {
        let mut b = w.browser(who).await;
        let page = b.get("/assessments").await;
        assert_eq!(page.status, StatusCode::OK, "{who}: {}", page.text);
        assert!(page.has("main h1"));
        assert!(
            page.select("header nav a")
                .contains(&"Assessments".to_owned()),
            "{who}: in the navigation"
        );
        let listed = page.select("main table tbody td a");
        let (sees_ke, sees_ug) = match *who {
            "admin" | "coordinator" | "auditor" => (true, true),
            "focal point" => (true, false),
            _ => (false, false),
        };
        assert_eq!(
            listed.contains(&"Kenya border follow-up".to_owned()),
            sees_ke,
            "{who}: {listed:?}"
        );
        assert_eq!(
            listed.contains(&"Uganda desk review".to_owned()),
            sees_ug,
            "{who}: {listed:?}"
        );
        let staff = matches!(*who, "admin" | "coordinator");
        assert_eq!(
            page.has("form[method=post][action='/assessments']"),
            staff,
            "{who}: the plan form"
        );
        if sees_ke {
            // The 30-day clock is overdue, marked so, in the list and on the page.
            assert!(
                page.select("strong.overdue")
                    .iter()
                    .any(|t| t == "overdue by 11 days"),
                "{who}: {}",
                page.text
            );
            let detail = b.get(&ke_path).await;
            assert_eq!(detail.status, StatusCode::OK, "{who}: {}", detail.text);
            assert!(detail.text.contains("2031-03-03"), "the due day");
            // The recommendation's text is confidential: staff and the State read it, an
            // auditor sees that it is withheld.
            let readable = *who != "auditor";
            assert_eq!(
                detail
                    .text
                    .contains("Screen travellers against watch lists."),
                readable,
                "{who}"
            );
            assert_eq!(detail.has("td .redacted"), !readable, "{who}");
            assert_eq!(
                detail.has(&format!("form[action='{ke_path}/adopt']")),
                staff,
                "{who}: adopt is staff's"
            );
            // The State records its own observations; staff may too.
            assert_eq!(
                detail.has(&format!("form[action='{ke_path}/observations']")),
                staff || *who == "focal point",
                "{who}: observations"
            );
            // As of a day before the draft went out, no clock runs yet, and nothing is offered
            // to do: moves are made today.
            let before = b.get(&format!("{ke_path}?as_of=2031-01-25")).await;
            assert_eq!(before.status, StatusCode::OK, "{who}: {}", before.text);
            assert!(
                !before.text.contains("overdue by"),
                "{who}: {}",
                before.text
            );
            assert!(
                !before.has("main form[method=post]"),
                "{who}: no move on a past day"
            );
            assert_eq!(
                before.attr("#as_of", "value").as_deref(),
                Some("2031-01-25"),
                "{who}: the picker shows the day"
            );
        } else {
            let detail = b.get(&ke_path).await;
            assert_eq!(detail.status, StatusCode::NOT_FOUND, "{who}");
        }
        if !sees_ug {
            assert_eq!(b.get(&ug_path).await.status, StatusCode::NOT_FOUND, "{who}");
        }
    }

    // A bad plan: refused next to its field, what was typed kept, nothing written.
    let list = coordinator.get("/assessments").await;
    let csrf = list.csrf();
    let form_key = list
        .attr(
            "form[method=post][action='/assessments'] input[name=form_key]",
            "value",
        )
        .expect("a form key");
    let before = heads(&w.client).await;
    let plan = |start: &'static str, end: &'static str, resolutions: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("form_key", form_key.clone()),
            ("member_state", "KE".to_owned()),
            ("kind", "comprehensive_visit".to_owned()),
            ("title", "Kenya comprehensive visit".to_owned()),
            ("resolutions", resolutions.to_owned()),
            ("visit_start", start.to_owned()),
            ("visit_end", end.to_owned()),
            ("classification", "confidential".to_owned()),
        ]
    };
    for (bad, field) in [
        (plan("2031-05-10", "2031-05-01", "1373"), "visit_end"),
        (
            plan("2031-05-01", "2031-05-10", "1373, twelve"),
            "resolutions",
        ),
    ] {
        let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = coordinator.post("/assessments", &pairs).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
        assert!(
            page.has(&format!("#{field}-error")),
            "{field}: {}",
            page.text
        );
        assert_eq!(
            page.attr(&format!("#{field}"), "aria-invalid").as_deref(),
            Some("true")
        );
        assert_eq!(
            page.attr("#title", "value").as_deref(),
            Some("Kenya comprehensive visit"),
            "typed values kept"
        );
        assert_eq!(
            page.attr("#classification option[selected]", "value")
                .as_deref(),
            Some("confidential")
        );
    }
    assert_eq!(heads(&w.client).await, before, "nothing written");

    // A good plan, then its moves up to the draft sent: the clock starts.
    let good = plan("2031-03-01", "2031-03-05", "1373, 2178");
    let pairs: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = coordinator.post("/assessments", &pairs).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let location = page.location.expect("to the assessment");
    assert!(location.starts_with("/assessments/"), "{location}");
    let path = location.split('?').next().unwrap_or_default().to_owned();
    let page = eventually_page(&mut coordinator, &location, "h1").await;
    assert!(page.text.contains("Kenya comprehensive visit"));
    assert!(page.text.contains("1373, 2178"));
    // Planned today (the business date a form's command gets), so its moves are today too.
    for (action, on) in [("conduct", ""), ("send-draft", "2031-03-14")] {
        let page = coordinator.get(&path).await;
        let form = format!("form[action='{path}/{action}']");
        let key = page
            .attr(&format!("{form} input[name=form_key]"), "value")
            .unwrap_or_else(|| panic!("the {action} form: {}", page.text));
        let moved = coordinator
            .post(
                &format!("{path}/{action}"),
                &[("csrf", &page.csrf()), ("form_key", &key), ("on", on)],
            )
            .await;
        assert_eq!(
            moved.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            moved.text
        );
        let after = coordinator
            .get(moved.location.as_deref().unwrap_or_default())
            .await;
        assert_eq!(after.status, StatusCode::OK);
    }
    let page = eventually_text(&mut coordinator, &path, "draft sent to state").await;
    // Draft sent on 2031-03-14: observations due 2031-04-13, 30 days left.
    assert!(page.text.contains("2031-04-13"), "{}", page.text);
    assert!(page.text.contains("30 days left"), "{}", page.text);
    // A move dated before the previous one is refused next to its date, nothing written.
    let before = heads(&w.client).await;
    let key = page
        .attr(
            &format!("form[action='{path}/adopt'] input[name=form_key]"),
            "value",
        )
        .expect("the adopt form");
    let refused = coordinator
        .post(
            &format!("{path}/adopt"),
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key),
                ("on", "2031-03-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has("#on-adopt-error"), "{}", refused.text);
    assert_eq!(
        refused.attr("#on-adopt", "value").as_deref(),
        Some("2031-03-01")
    );
    assert_eq!(heads(&w.client).await, before, "nothing written");
}

/// A request whose answer is a file, not a page: its status, headers and bytes.
async fn raw(
    b: &Browser,
    method: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use tower::ServiceExt as _;
    let cookies = b
        .cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header(axum::http::header::COOKIE, cookies)
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(axum::body::Body::from(body))
        .expect("a request");
    let response = b
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, headers, bytes.to_vec())
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn reports_are_made_by_a_form_as_a_download_whose_sha256_is_listed_and_made_again_identical()
{
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    for (who, _) in &w.people {
        let mut b = w.browser(who).await;
        let page = b.get("/reports").await;
        assert_eq!(page.status, StatusCode::OK, "{who}: {}", page.text);
        assert!(page.has("main h1"));
        assert!(
            page.select("header nav a").contains(&"Reports".to_owned()),
            "{who}: in the navigation"
        );
        let staff = matches!(*who, "admin" | "coordinator");
        assert!(page.has("form[action='/reports']"), "{who}: the make form");
        assert_eq!(page.has("select#donor"), staff, "{who}: the donor filter");
        assert_eq!(
            page.has("input#own"),
            matches!(*who, "donor" | "other donor"),
            "{who}: a donor's own filter"
        );
        assert_eq!(
            page.has("form[action='/reports/iati-import']"),
            staff,
            "{who}: the import form"
        );
    }

    let mut donor = w.browser("donor").await;
    let page = donor.get("/reports").await;
    let csrf = page.csrf();
    let key = page
        .attr("form[action='/reports'] input[name=form_key]", "value")
        .expect("a form key");

    // A day to come is refused next to its field; nothing is written.
    let before = heads(&w.client).await;
    let refused = donor
        .post(
            "/reports",
            &[
                ("csrf", &csrf),
                ("form_key", &key),
                ("format", "csv"),
                ("as_of", "2031-04-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has("#as_of-error"), "{}", refused.text);
    assert_eq!(
        refused.attr("#as_of", "value").as_deref(),
        Some("2031-04-01")
    );
    assert_eq!(
        refused.attr("#format option[selected]", "value").as_deref(),
        Some("csv")
    );
    assert_eq!(heads(&w.client).await, before, "nothing written");

    let page = donor.get("/reports").await;
    let key = page
        .attr("form[action='/reports'] input[name=form_key]", "value")
        .expect("a form key");
    let (status, headers, body) = raw(
        &donor,
        "POST",
        "/reports",
        &[
            ("csrf", &csrf),
            ("form_key", &key),
            ("format", "csv"),
            ("as_of", "2031-03-13"),
            ("own", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let header = |name: axum::http::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        header(axum::http::header::CONTENT_DISPOSITION),
        "attachment; filename=\"tatrack-summary-2031-03-13.csv\""
    );
    assert!(header(axum::http::header::CONTENT_TYPE).starts_with("text/csv"));
    let checksum = sha256(&body);
    let list = eventually_text(&mut donor, "/reports", &checksum).await;
    assert!(
        list.select("code.checksum").contains(&checksum),
        "the listed SHA-256 is the download's"
    );
    assert!(list.text.contains("donor=DONOR-A"), "its scope");

    // Made again from its recorded day and positions: the very same bytes.
    let again = list
        .attr("form[action$='/again']", "action")
        .expect("download again");
    let again_key = list
        .attr("form[action$='/again'] input[name=form_key]", "value")
        .expect("a form key");
    let (status, _, second) = raw(
        &donor,
        "POST",
        &again,
        &[("csrf", &csrf), ("form_key", &again_key)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&second)
    );
    assert_eq!(sha256(&second), checksum, "byte-identical");

    // Staff see every report, but cannot make another's again (it is cut to its maker); the
    // other donor does not see it.
    let mut coordinator = w.browser("coordinator").await;
    let staff = eventually_text(&mut coordinator, "/reports", &checksum).await;
    assert!(!staff.has("form[action$='/again']"));
    let refused = coordinator
        .post(&again, &[("csrf", &staff.csrf()), ("form_key", &again_key)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let mut other = w.browser("other donor").await;
    assert!(!other.get("/reports").await.text.contains(&checksum));
}

#[tokio::test]
async fn a_focal_point_grants_and_revokes_sharing_and_sees_who_keeps_access() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    // Another State's consent, which KE's focal point must not see.
    ok(
        &w.client,
        &tatrack_tests::fixtures::focal_point("UG"),
        "sharing_grant_grant",
        &json!({
            "id": Uuid::now_v7(), "member_state": "UG", "scope": {"type": "all_needs"},
            "audience": {"type": "all_donors"}, "until": null, "on": "2031-03-01",
        }),
    )
    .await;
    let mut staff = w.browser("coordinator").await;
    eventually_text(&mut staff, "/sharing", "Uganda").await;
    for (who, _) in &w.people {
        let mut b = w.browser(who).await;
        let page = b.get("/sharing").await;
        let donor = matches!(*who, "donor" | "other donor");
        assert_eq!(
            page.select("header nav a").contains(&"Sharing".to_owned()),
            !donor,
            "{who}: in the navigation"
        );
        if donor {
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{who}: {}", page.text);
            continue;
        }
        assert_eq!(page.status, StatusCode::OK, "{who}: {}", page.text);
        assert!(page.has("main h1"));
        let rows = page.select("main table tbody tr");
        assert!(
            rows.iter()
                .any(|r| r.contains("Kenya") && r.contains("DONOR-A")),
            "{who}: KE's grant to DONOR-A: {rows:?}"
        );
        assert_eq!(
            rows.iter().any(|r| r.contains("Uganda")),
            *who != "focal point",
            "{who}: {rows:?}"
        );
        let may_act = *who != "auditor";
        assert_eq!(page.has("form[action='/sharing']"), may_act, "{who}");
        assert_eq!(page.has("form[action$='/revoke']"), may_act, "{who}");
        // Staff choose the State; a focal point's is its own.
        assert_eq!(
            page.has("select#member_state"),
            matches!(*who, "admin" | "coordinator"),
            "{who}"
        );
    }

    let mut state = w.browser("focal point").await;
    let page = state.get("/sharing").await;
    let csrf = page.csrf();
    let key = page
        .attr("form[action='/sharing'] input[name=form_key]", "value")
        .expect("the grant form");
    let need = w.need.to_string();
    // A need not chosen: refused next to "what to share", nothing written.
    let before = heads(&w.client).await;
    let refused = state
        .post(
            "/sharing",
            &[
                ("csrf", &csrf),
                ("form_key", &key),
                ("scope", "need"),
                ("need_id", ""),
                ("audience", "organisations"),
                ("organisation", "DONOR-B"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has("#scope-error"), "{}", refused.text);
    assert_eq!(
        refused
            .attr("#organisation option[selected]", "value")
            .as_deref(),
        Some("DONOR-B"),
        "the choice kept"
    );
    assert_eq!(heads(&w.client).await, before, "nothing written");

    let granted = state
        .post(
            "/sharing",
            &[
                ("csrf", &csrf),
                ("form_key", &key),
                ("scope", "need"),
                ("need_id", &need),
                ("audience", "organisations"),
                ("organisation", "DONOR-B"),
            ],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.text);
    let page = eventually_page(
        &mut state,
        granted.location.as_deref().unwrap_or("/sharing"),
        "button[aria-label*='DONOR-B']",
    )
    .await;

    // DONOR-B starts work on the need: revoked, its consent runs with the work.
    ok(
        &w.client,
        &coordinator(),
        "organisation_register",
        &json!({
            "id": "UNOCT", "name": "UNOCT", "kind": "un_entity", "iati_type": "40",
            "iati_identifier": null, "country": null, "on": "2026-01-01",
        }),
    )
    .await;
    tatrack_tests::fixtures::donor_project(
        &w.client,
        "DONOR-B",
        "XM-DAC-B-1",
        "Border posts",
        &[&need],
    )
    .await;
    // The read model has the project before the revocation asks it who keeps access.
    eventually(
        "the read model has the project",
        std::time::Duration::from_secs(20),
        || {
            let client = w.client.clone();
            async move {
                let list = query_as(&client, coordinator(), "project_list", &json!({}))
                    .await
                    .ok()?;
                (!list.as_array()?.is_empty()).then_some(())
            }
        },
    )
    .await;
    let form = "form:has(button[aria-label*='DONOR-B'])";
    let action = page.attr(form, "action").expect("the revoke form");
    let key = page
        .attr(&format!("{form} input[name=form_key]"), "value")
        .expect("its key");
    let revoked = state
        .post(
            &action,
            &[("csrf", &csrf), ("form_key", &key), ("reason", "review")],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let notice = revoked.select(".notice").join(" ");
    assert!(notice.contains("The grant is revoked"), "{notice}");
    assert!(
        notice.contains("DONOR-B keeps need"),
        "who keeps access, and why: {notice}"
    );
}

/// A form with a file, as a browser sends it (`multipart/form-data`).
async fn upload(b: &Browser, path: &str, fields: &[(&str, &str)], file: &str) -> Page {
    use tower::ServiceExt as _;
    let boundary = "----tatrack-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"activities.xml\"\r\n\
         Content-Type: text/xml\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    let cookies = b
        .cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let request = axum::http::Request::post(path)
        .header(axum::http::header::COOKIE, cookies)
        .header(
            axum::http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(axum::body::Body::from(body))
        .expect("a request");
    let response = b
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Page {
        status,
        location: None,
        html: scraper::Html::parse_document(&text),
        text,
    }
}

fn iati_example() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/iati/data/examples/activity-standard-example-annotated.xml"),
    )
    .expect("the IATI standard's example")
}

#[tokio::test]
async fn iati_export_answers_the_visible_projects_and_import_shows_its_plan_before_recording() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    ok(
        &w.client,
        &coordinator(),
        "organisation_register",
        &json!({
            "id": "UNOCT", "name": "UNOCT", "kind": "un_entity", "iati_type": "40",
            "iati_identifier": null, "country": null, "on": "2026-01-01",
        }),
    )
    .await;
    tatrack_tests::fixtures::donor_project(
        &w.client,
        "DONOR-A",
        "XM-DAC-A-STADIUM",
        "Stadium security",
        &[],
    )
    .await;
    let mut coordinator = w.browser("coordinator").await;
    eventually_text(&mut coordinator, "/projects", "Stadium security").await;

    // Export: the coordinator names the publisher; a donor's is its own and holds its project.
    let (status, headers, xml) = raw(
        &coordinator,
        "GET",
        "/reports/iati.xml?reporting=DONOR-A",
        &[],
    )
    .await;
    let xml = String::from_utf8_lossy(&xml).into_owned();
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(
        headers
            .get(axum::http::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment; filename=\"tatrack-iati-"))
    );
    assert!(xml.contains("<iati-activities"), "{xml}");
    assert!(xml.contains("XM-DAC-A-STADIUM"), "{xml}");
    let donor = w.browser("donor").await;
    let (status, _, xml) = raw(&donor, "GET", "/reports/iati.xml", &[]).await;
    let xml = String::from_utf8_lossy(&xml).into_owned();
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(xml.contains("<iati-activities") && xml.contains("XM-DAC-A-STADIUM"));
    // Nothing visible: said so, not an empty file.
    let mut other = w.browser("other donor").await;
    let page = other.get("/reports/iati.xml").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.text);
    assert!(page.text.contains("Nothing to export"), "{}", page.text);
    // No publisher chosen: named next to its field.
    let page = coordinator.get("/reports/iati.xml").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(page.has("#reporting-error"), "{}", page.text);

    // Import: only staff have the form; a donor's post is refused.
    let mut donor = w.browser("donor").await;
    let reports = donor.get("/reports").await;
    assert!(!reports.has("form[action='/reports/iati-import']"));
    let before = heads(&w.client).await;
    let refused = upload(
        &donor,
        "/reports/iati-import",
        &[("csrf", &reports.csrf()), ("default_theme", "BOR")],
        &iati_example(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    // A file that is not IATI: the error with its place, nothing written.
    let reports = coordinator.get("/reports").await;
    let csrf = reports.csrf();
    let bad = upload(
        &coordinator,
        "/reports/iati-import",
        &[("csrf", &csrf)],
        "<?xml version=\"1.0\"?>\n<iati-organisations version=\"2.03\"/>\n",
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(
        bad.select(".problem")
            .join(" ")
            .contains("not an IATI activity file: line 2"),
        "{}",
        bad.text
    );
    // An unknown code, named with its place.
    let bad = upload(
        &coordinator,
        "/reports/iati-import",
        &[("csrf", &csrf), ("default_theme", "BOR")],
        &iati_example().replace(
            "<recipient-country code=\"AG\"",
            "<recipient-country code=\"ZZ\"",
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(
        bad.text
            .contains("/iati-activities/iati-activity[1]/recipient-country[2]/@code"),
        "{}",
        bad.text
    );
    assert_eq!(heads(&w.client).await, before, "nothing written");

    // The standard's example: first the plan, nothing recorded.
    let plan = upload(
        &coordinator,
        "/reports/iati-import",
        &[("csrf", &csrf), ("default_theme", "BOR")],
        &iati_example(),
    )
    .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    assert!(
        plan.text.contains("Nothing is recorded yet"),
        "{}",
        plan.text
    );
    assert!(
        plan.text.contains("AA-AAA-123456789-ABC123"),
        "{}",
        plan.text
    );
    assert!(plan.has("table.activities tbody tr"));
    assert_eq!(heads(&w.client).await, before, "the plan records nothing");

    // Recorded on confirmation; confirmed again, nothing new.
    let xml = plan.attr("input[name=xml]", "value").expect("the file");
    let confirm = [
        ("csrf", csrf.as_str()),
        ("confirm", "yes"),
        ("default_theme", "BOR"),
        ("xml", xml.as_str()),
    ];
    let recorded = coordinator.post("/reports/iati-import", &confirm).await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.text);
    assert!(
        recorded.text.contains("IATI import recorded"),
        "{}",
        recorded.text
    );
    let after = heads(&w.client).await;
    assert_ne!(after, before, "recorded");
    // (The plan page's own form sends it as multipart, the file in its hidden field.)
    let again = upload(&coordinator, "/reports/iati-import", &confirm, "").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert!(
        again
            .text
            .contains("Recorded: 0 organisation(s) newly registered"),
        "{}",
        again.text
    );
    assert_eq!(
        heads(&w.client).await,
        after,
        "a second confirmation records nothing new"
    );
}
