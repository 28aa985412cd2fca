//! The web console over the gateway's real router (one request at a time, `oneshot`), against
//! real services and a real nats-server: every screen for every role, read with an HTML parser
//! for what must and must not be on it; the flow from a need to a validated progress report by
//! forms, as people click it; sign-in, invitations, CSRF and bad input, each writing nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scraper::{Html, Selector};
use serde_json::json;
use tatrack_domain::Role;
use tatrack_tests::fixtures::{heads, ok, usd};
use tatrack_tests::*;
use tower::ServiceExt as _;
use uuid::Uuid;

use crate::matching::{need, offer};

pub(crate) const DONOR_A: &str = "DONOR-A";
pub(crate) const DONOR_B: &str = "DONOR-B";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// One browser: the router and the cookies it was given.
pub(crate) struct Browser {
    pub(crate) router: axum::Router,
    pub(crate) cookies: Vec<(String, String)>,
}

pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    pub(crate) html: Html,
    pub(crate) text: String,
}

impl Page {
    pub(crate) fn select(&self, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).expect("a CSS selector");
        self.html
            .select(&selector)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    pub(crate) fn has(&self, css: &str) -> bool {
        !self.select(css).is_empty()
    }

    /// The value of an attribute of the first element matching `css`.
    pub(crate) fn attr(&self, css: &str, name: &str) -> Option<String> {
        let selector = Selector::parse(css).expect("a CSS selector");
        self.html
            .select(&selector)
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_owned))
    }

    pub(crate) fn csrf(&self) -> String {
        self.attr("input[name=csrf]", "value")
            .expect("a form with a CSRF token")
    }
}

impl Browser {
    pub(crate) fn new(router: &axum::Router) -> Self {
        Self {
            router: router.clone(),
            cookies: Vec::new(),
        }
    }

    pub(crate) async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap_or_default();
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, v)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                if !value.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), v.to_owned()));
                }
                assert!(value.contains("HttpOnly") && value.contains("SameSite=Strict"));
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        assert!(
            headers
                .get(header::CONTENT_SECURITY_POLICY)
                .is_some_and(|v| v
                    .to_str()
                    .unwrap_or_default()
                    .starts_with("default-src 'self'")),
            "every answer carries the CSP"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Page {
            status,
            location: headers
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap_or_default().to_owned()),
            html: Html::parse_document(&text),
            text,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("a request");
        self.send(request).await
    }

    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("a request");
        self.send(request).await
    }

    /// Signs in through the form, as a person does.
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("next", "/"),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }
}

/// An active account: invited by an admin with a known link, its password set through it.
pub(crate) async fn account(
    client: &async_nats::Client,
    role: Role,
    organisation: Option<&str>,
    member_state: Option<&str>,
) -> String {
    let id = Uuid::now_v7();
    let email = format!("{}-{}@example.org", role, &id.simple().to_string()[20..]);
    let secret = tatrack_gateway::password::invitation_secret();
    ok(
        client,
        &principal(Role::Admin, None, None),
        "account_invite",
        &json!({
            "id": id, "name": format!("{role} person"), "email": email, "role": role,
            "organisation": organisation, "member_state": member_state,
            "invitation_hash": tatrack_gateway::password::invitation_hash(&secret),
            "invitation_expires_on": "2040-01-01",
        }),
    )
    .await;
    let myself = tatrack_domain::Principal {
        id: format!("account:{id}"),
        role,
        organisation: organisation.map(str::to_owned),
        member_state: member_state.map(str::to_owned),
    };
    ok(
        client,
        &myself,
        "account_set_password",
        &json!({
            "id": id,
            "invitation_hash": tatrack_gateway::password::invitation_hash(&secret),
            "password_hash": tatrack_gateway::password::hash(PASSWORD),
        }),
    )
    .await;
    email
}

/// The world of the console tests: two donors, a need shared with the first, its offer, and a
/// person for every role.
pub(crate) struct World {
    pub(crate) router: axum::Router,
    pub(crate) client: async_nats::Client,
    pub(crate) need: Uuid,
    pub(crate) people: Vec<(&'static str, String)>,
    _stop: tokio_util::sync::CancellationToken,
}

impl World {
    pub(crate) fn email(&self, who: &str) -> &str {
        &self
            .people
            .iter()
            .find(|(w, _)| *w == who)
            .expect("a person")
            .1
    }

    pub(crate) async fn browser(&self, who: &str) -> Browser {
        let mut b = Browser::new(&self.router);
        let signed_in = b.sign_in(self.email(who), PASSWORD).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{who} signs in");
        b
    }
}

pub(crate) async fn world(client: async_nats::Client) -> World {
    for org in [DONOR_A, DONOR_B] {
        ok(
            &client,
            &coordinator(),
            "organisation_register",
            &json!({
                "id": org, "name": format!("Organisation {org}"), "kind": "donor_government",
                "iati_type": "10", "iati_identifier": null, "country": null, "on": "2026-01-01",
            }),
        )
        .await;
    }
    let need = need(&client, 1, 450_000, 200, &[DONOR_A]).await;
    offer(&client, DONOR_A, "BOR", (&["KE"], &[]), usd(300_000), 150).await;
    let mut people = Vec::new();
    for (who, role, org, state) in [
        ("admin", Role::Admin, None, None),
        ("coordinator", Role::Coordinator, None, None),
        ("donor", Role::Donor, Some(DONOR_A), None),
        ("other donor", Role::Donor, Some(DONOR_B), None),
        ("focal point", Role::StateFocalPoint, None, Some("KE")),
        ("auditor", Role::Auditor, None, None),
    ] {
        people.push((who, account(&client, role, org, state).await));
    }
    let stop = tokio_util::sync::CancellationToken::new();
    let router = tatrack_gateway::router(
        client.clone(),
        test_clock(),
        tatrack_gateway::Limits::default(),
        false,
        &stop,
    )
    .expect("the gateway's router");
    let world = World {
        router,
        client,
        need,
        people,
        _stop: stop,
    };
    // The gateway's fold follows the partners stream: the last account is known when it can
    // sign in.
    eventually(
        "the gateway knows the accounts",
        std::time::Duration::from_secs(20),
        || {
            let router = world.router.clone();
            let email = world.email("auditor").to_owned();
            async move {
                let mut b = Browser::new(&router);
                (b.sign_in(&email, PASSWORD).await.status == StatusCode::SEE_OTHER).then_some(())
            }
        },
    )
    .await;
    // ...and the read model has the offer among the need's suggestions.
    eventually(
        "the read model suggests the offer",
        std::time::Duration::from_secs(20),
        || {
            let client = world.client.clone();
            async move {
                let m = query_as(
                    &client,
                    coordinator(),
                    "need_match_list",
                    &json!({"need_id": need}),
                )
                .await
                .ok()?;
                (!m["suggestions"].as_array()?.is_empty()).then_some(())
            }
        },
    )
    .await;
    world
}

#[tokio::test]
async fn every_screen_renders_for_every_role_with_what_it_may_see() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    let need_path = format!("/needs/{}", w.need);
    for (who, _) in &w.people {
        let mut b = w.browser(who).await;
        for path in ["/", "/needs", "/inbox", "/projects", need_path.as_str()] {
            let page = b.get(path).await;
            let nav = page.select("header nav a");
            let expected = match (*who, path) {
                // A need not shared with a donor is "not found", as the API says.
                ("other donor", p) if p == need_path => StatusCode::NOT_FOUND,
                _ => StatusCode::OK,
            };
            assert_eq!(page.status, expected, "{who} {path}: {}", page.text);
            assert!(page.has("main h1"), "{who} {path} has a heading");
            assert!(nav.contains(&"Overview".to_owned()), "{who}: {nav:?}");
            assert_eq!(
                nav.contains(&"Inbox".to_owned()),
                *who != "auditor",
                "{who}: {nav:?}"
            );
        }
        let overview = b.get("/").await;
        assert!(overview.has("svg[role=img]"), "{who}: charts and map");
        assert!(
            overview.text.contains("United Nations"),
            "the map's disclaimer"
        );
        // Every chart has its table.
        assert!(overview.select("table caption").len() >= 3);
        // The figures are totals of what the person may see: the need is not the other
        // donor's to count.
        let open_needs = overview.select(".figures li .value");
        assert_eq!(
            open_needs.first().map(String::as_str),
            Some(if *who == "other donor" { "0" } else { "1" }),
            "{who}: open needs {open_needs:?}"
        );
        let register = b.get("/needs").await;
        let listed = register.select("main table tbody td a");
        let sees_need = !matches!(*who, "other donor");
        assert_eq!(
            listed.iter().any(|l| l.contains("Train border officers")),
            sees_need,
            "{who}: {listed:?}"
        );
        if sees_need {
            let detail = b.get(&need_path).await;
            // Suggestions (and "refer") are the coordinators' tool.
            let staff = matches!(*who, "admin" | "coordinator");
            assert_eq!(
                detail.has("button[aria-label^='Refer to DONOR-A']"),
                staff,
                "{who}: the refer button"
            );
            assert_eq!(
                detail.text.contains("Suggested offers"),
                staff,
                "{who}: only staff see the suggestions"
            );
            // The State's focal point and staff may share the need; the link chooses it in
            // the sharing form.
            let shares = matches!(*who, "admin" | "coordinator" | "focal point");
            let share = detail.attr("main a[href^='/sharing?need_id=']", "href");
            assert_eq!(share.is_some(), shares, "{who}: share this need");
            if let Some(share) = share {
                let form = b.get(&share).await;
                assert_eq!(form.status, StatusCode::OK, "{who}: {}", form.text);
                assert_eq!(
                    form.attr("#need_id option[selected]", "value"),
                    Some(w.need.to_string()),
                    "{who}: the need is chosen"
                );
            }
            assert!(detail.text.contains("Timeline"));
            assert!(
                detail
                    .select("main table tbody td")
                    .iter()
                    .any(|t| t == "need identified"),
                "{who}: the audit trail names the need's events"
            );
        }
    }
}

#[tokio::test]
async fn a_need_goes_from_referral_to_a_validated_progress_report_by_forms() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    let mut coordinator = w.browser("coordinator").await;
    let need_path = format!("/needs/{}", w.need);
    let detail = coordinator.get(&need_path).await;
    let offer = detail
        .attr("form[action$='/refer'] input[name=offer_id]", "value")
        .expect("a suggestion to refer");
    let csrf = detail.csrf();

    // "Refer…" shows the overlaps and records nothing.
    let before = heads(&w.client).await;
    let confirm = coordinator
        .post(
            &format!("{need_path}/refer"),
            &[("csrf", &csrf), ("offer_id", &offer)],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text);
    assert!(
        confirm.has("#confirm"),
        "the confirmation with its overlap alerts"
    );
    assert!(confirm.text.contains("Overlap alerts"));
    assert_eq!(
        heads(&w.client).await,
        before,
        "nothing recorded before confirming"
    );
    let form_key = confirm
        .attr("#confirm input[name=form_key]", "value")
        .expect("a form key");
    let confirmed = coordinator
        .post(
            &format!("{need_path}/refer"),
            &[
                ("csrf", &csrf),
                ("offer_id", &offer),
                ("confirm", "yes"),
                ("form_key", &form_key),
            ],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.text
    );

    // The donor accepts in its inbox; the State focal point accepts in its own.
    let mut donor_b = w.browser("donor").await;
    let accept =
        eventually_page(&mut donor_b, "/inbox", "form[action$='/accept-by-partner']").await;
    let action = accept
        .attr("form[action$='/accept-by-partner']", "action")
        .expect("accept");
    let csrf = accept.csrf();
    let done = donor_b.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);

    let mut state = w.browser("focal point").await;
    let accept = eventually_page(&mut state, "/inbox", "form[action$='/accept-by-state']").await;
    let action = accept
        .attr("form[action$='/accept-by-state']", "action")
        .expect("accept");
    let csrf = accept.csrf();
    let done = state.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);

    // The coordinator starts the project: a bad date range is refused next to the form, with
    // what was typed kept, and writes nothing.
    let inbox = eventually_page(&mut coordinator, "/inbox", "form[action$='/start-project']").await;
    let action = inbox
        .attr("form[action$='/start-project']", "action")
        .expect("start");
    let csrf = inbox.csrf();
    let key = inbox
        .attr(
            "form[action$='/start-project'] input[name=form_key]",
            "value",
        )
        .expect("a key");
    let before = heads(&w.client).await;
    let refused = coordinator
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("form_key", &Uuid::now_v7().to_string()),
                ("title", "Border screening in Kenya"),
                ("planned_start", "2027-06-30"),
                ("planned_end", "2027-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has(".problem"), "the refusal is shown");
    assert_eq!(
        refused.attr("input[name=title]", "value").as_deref(),
        Some("Border screening in Kenya"),
        "what was typed is kept"
    );
    assert_eq!(heads(&w.client).await, before, "nothing written");
    let started = coordinator
        .post(
            &action,
            &[
                ("csrf", &csrf),
                ("form_key", &key),
                ("title", "Border screening in Kenya"),
                ("planned_start", "2027-01-01"),
                ("planned_end", "2027-12-31"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);

    // The project is in the donor's portfolio.
    let projects = eventually_page(
        &mut donor_b,
        "/projects",
        "main table tbody td a[href^='/projects/']",
    )
    .await;
    assert!(projects.has("#portfolio-h"));
    let project = projects
        .attr("main table tbody td a[href^='/projects/']", "href")
        .expect("the project");
    assert!(projects.text.contains("Border screening in Kenya"));

    // Another donor guessing its URL gets the API's "not found".
    let mut other = w.browser("other donor").await;
    let guessed = other.get(&project).await;
    assert_eq!(guessed.status, StatusCode::NOT_FOUND);

    // The donor drafts and submits a progress report; the coordinator validates it.
    let page = donor_b.get(&project).await;
    let csrf = page.csrf();
    let key = page
        .attr("form[action$='/progress'] input[name=form_key]", "value")
        .expect("the draft form");
    let drafted = donor_b
        .post(
            &format!("{project}/progress"),
            &[
                ("csrf", &csrf),
                ("form_key", &key),
                ("period_start", "2027-01-01"),
                ("period_end", "2027-03-31"),
                ("narrative", "Two courses held; 40 officers trained."),
            ],
        )
        .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.text);
    let page = eventually_page(&mut donor_b, &project, "form[action$='/submit']").await;
    let submit = page
        .attr("form[action$='/submit']", "action")
        .expect("submit");
    let done = donor_b
        .post(
            &submit,
            &[
                ("csrf", &page.csrf()),
                ("project_id", project.trim_start_matches("/projects/")),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let page = eventually_page(&mut coordinator, &project, "form[action$='/validate']").await;
    let validate = page
        .attr("form[action$='/validate']", "action")
        .expect("validate");
    let done = coordinator
        .post(
            &validate,
            &[
                ("csrf", &page.csrf()),
                ("project_id", project.trim_start_matches("/projects/")),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    eventually_page(&mut coordinator, &project, "main td:not(:empty)").await;
    let page = coordinator.get(&project).await;
    assert!(
        page.select("main table tbody td")
            .iter()
            .any(|t| t == "validated"),
        "the report reads validated"
    );
}

/// Loads `path` until `css` matches (the read model follows the streams a moment behind).
pub(crate) async fn eventually_page(b: &mut Browser, path: &str, css: &str) -> Page {
    for _ in 0..100 {
        let page = b.get(path).await;
        if page.has(css) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never showed {css}");
}

#[tokio::test]
async fn sign_in_invitations_csrf_and_bad_input_write_nothing() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;

    // Without a session every screen goes to sign-in, and comes back after it.
    let mut anonymous = Browser::new(&w.router);
    let page = anonymous.get("/needs?theme=BOR").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/sign-in?next=%2Fneeds%3Ftheme%3DBOR")
    );

    // A wrong password: the same words as an unknown address; five in a row slow the address.
    let mut b = Browser::new(&w.router);
    let email = w.email("coordinator").to_owned();
    for _ in 0..5 {
        let page = b.sign_in(&email, "wrong password!").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(
            page.text
                .contains("The e-mail address or the password is wrong.")
        );
        assert_eq!(
            page.attr("#email", "value").as_deref(),
            Some(email.as_str())
        );
    }
    let unknown = b.sign_in("nobody@example.org", "wrong password!").await;
    assert!(
        unknown
            .text
            .contains("The e-mail address or the password is wrong.")
    );
    let slowed = b.sign_in(&email, PASSWORD).await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "slowed even with the right password"
    );

    // A form without this session's CSRF token is refused with a 403 page and writes nothing.
    let mut c = w.browser("donor").await;
    let before = heads(&w.client).await;
    let refer = format!("/needs/{}/refer", w.need);
    let mut staff = w.browser("admin").await;
    for csrf in ["", "forged"] {
        let page = staff
            .post(
                &refer,
                &[("csrf", csrf), ("offer_id", "x"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
        assert!(page.text.contains("Nothing was recorded"));
    }
    // Sign-in itself needs the form's token.
    let page = Browser::new(&w.router)
        .post(
            "/sign-in",
            &[("email", email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(heads(&w.client).await, before);

    // A bad filter is named next to its field.
    let page = c.get("/needs?theme=NOPE").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    assert!(page.has("#theme-error"), "{}", page.text);
    assert_eq!(page.attr("#theme", "aria-invalid").as_deref(), Some("true"));

    // Declining without a reason: refused on that referral, nothing written.
    // (The inbox is empty for this donor now; a decline on an unknown referral is "not found".)
    let csrf = c.get("/inbox").await.csrf_or_default();
    let page = c
        .post(
            &format!("/referrals/{}/decline-by-partner", Uuid::now_v7()),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(page.status.is_client_error(), "{}", page.text);
    assert_eq!(heads(&w.client).await, before);

    // Signing out ends the session: the next page goes to sign-in.
    let home = c.get("/").await;
    let signed_out = c.post("/sign-out", &[("csrf", &home.csrf())]).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    let page = c.get("/projects").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?next=%2Fprojects"));

    // An invitation's link sets the password once and signs the person in.
    let secret = tatrack_gateway::password::invitation_secret();
    let id = Uuid::now_v7();
    ok(
        &w.client,
        &principal(Role::Admin, None, None),
        "account_invite",
        &json!({
            "id": id, "name": "New Coordinator", "email": "new@example.org", "role": "coordinator",
            "invitation_hash": tatrack_gateway::password::invitation_hash(&secret),
            "invitation_expires_on": "2040-01-01",
        }),
    )
    .await;
    let link = format!("/invitation/{secret}");
    let mut person = Browser::new(&w.router);
    let form = eventually_page(&mut person, &link, "input[name=repeat]").await;
    let csrf = form.csrf();
    let page = person
        .post(
            &link,
            &[("csrf", &csrf), ("password", "short"), ("repeat", "short")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text.contains("Password:"), "{}", page.text);
    let page = person
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("repeat", "something else!!"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = person
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("repeat", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let home = person.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "signed in");
    assert!(home.text.contains("New Coordinator"));
    // The link works once.
    let again = eventually_gone(&w.router, &link).await;
    assert_eq!(again, StatusCode::NOT_FOUND);
    // No page, and no view, holds a password hash.
    for (_, answer) in every_view(&w.client).await {
        let text = answer.to_string();
        assert!(!text.contains("$argon2"), "a hash in a view: {text}");
    }
}

async fn eventually_gone(router: &axum::Router, link: &str) -> StatusCode {
    for _ in 0..100 {
        let page = Browser::new(router).get(link).await;
        if page.status == StatusCode::NOT_FOUND {
            return page.status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    StatusCode::OK
}

impl Page {
    fn csrf_or_default(&self) -> String {
        self.attr("input[name=csrf]", "value").unwrap_or_default()
    }
}

/// A form carries the version of the object its page showed: sent after someone else changed
/// the object, it is refused as stale (nothing written) and the page shows the object as it is
/// now, whose form then goes through.
#[tokio::test]
async fn a_form_sent_after_its_object_changed_is_refused_as_stale() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    let offer_id = offer(&w.client, DONOR_A, "CFT", (&["KE"], &[]), usd(90_000), 5).await;
    let path = format!("/offers/{offer_id}");
    let mut donor = w.browser("donor").await;
    let page = eventually_page(&mut donor, &path, "form[action$='/withdraw']").await;
    let seen = page
        .attr("form[action$='/withdraw'] input[name=version]", "value")
        .expect("the withdraw form carries the offer's version");
    let key = page
        .attr("form[action$='/withdraw'] input[name=form_key]", "value")
        .expect("a form key");

    // Meanwhile a coordinator renames the offer.
    ok(
        &w.client,
        &coordinator(),
        "offer_amend",
        &json!({"id": offer_id, "title": "Renamed meanwhile", "on": "2026-06-02"}),
    )
    .await;
    let before = heads(&w.client).await;
    let refused = donor
        .post(
            &format!("{path}/withdraw"),
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key),
                ("version", &seen),
                ("reason", "No longer funded"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("changed while you were looking at it"),
        "{}",
        refused.text
    );
    assert_eq!(
        heads(&w.client).await,
        before,
        "a stale form writes nothing"
    );

    // The page shows the offer as it is now, with its new version; that form goes through.
    let fresh = eventually_page(&mut donor, &path, "main h1").await;
    let fresh = if fresh.text.contains("Renamed meanwhile") {
        fresh
    } else {
        eventually(
            "the read model shows the new title",
            std::time::Duration::from_secs(20),
            || {
                let mut b = Browser {
                    router: donor.router.clone(),
                    cookies: donor.cookies.clone(),
                };
                let path = path.clone();
                async move {
                    let p = b.get(&path).await;
                    p.text.contains("Renamed meanwhile").then_some(p)
                }
            },
        )
        .await
    };
    let now = fresh
        .attr("form[action$='/withdraw'] input[name=version]", "value")
        .expect("the new version");
    assert_ne!(now, seen, "the version moved on");
    let withdrawn = donor
        .post(
            &format!("{path}/withdraw"),
            &[
                ("csrf", &fresh.csrf()),
                ("form_key", &Uuid::now_v7().to_string()),
                ("version", &now),
                ("reason", "No longer funded"),
            ],
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.text
    );
}

/// A bad filter in a list's address is named under the filters, with the list empty, as the
/// needs register does it; nothing else on the page changes.
#[tokio::test]
async fn a_bad_list_filter_is_named_under_the_filters() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;
    let mut b = w.browser("coordinator").await;
    for (path, field) in [
        ("/assessments?as_of=yesterday", "as_of"),
        ("/assessments?status=pending", "status"),
        ("/assessments?member_state=XX", "member_state"),
    ] {
        let page = b.get(path).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            page.text
        );
        let said = page.select("#filter-problem").join(" ");
        assert!(said.starts_with(&format!("{field}:")), "{path}: {said}");
        assert!(page.has("form.filters"), "{path}: the filters stay");
    }
}
