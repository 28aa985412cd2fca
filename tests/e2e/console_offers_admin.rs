//! The console's offers and administration screens over the gateway's real router, against real
//! services: who sees which offers and forms, an offer drafted, published, amended and withdrawn
//! by forms, bad input refused next to its field with nothing written; the admin screen for
//! admins only, a person invited by form whose one-time link works, a new link, a disabled
//! account that can no longer sign in, a token issued (its secret shown once) and revoked, and
//! no hash on any admin page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scraper::Selector;
use tatrack_tests::fixtures::heads;
use tatrack_tests::*;
use uuid::Uuid;

use crate::console::{Browser, DONOR_A, PASSWORD, Page, eventually_page, world};

/// The `action` of the form matching `form_css` in the table row that mentions `text`.
fn row_form(page: &Page, text: &str, form_css: &str) -> Option<String> {
    let rows = Selector::parse("tbody tr").expect("a selector");
    let form = Selector::parse(form_css).expect("a selector");
    page.html
        .select(&rows)
        .find(|r| r.text().collect::<String>().contains(text))
        .and_then(|r| r.select(&form).next())
        .and_then(|f| f.value().attr("action").map(str::to_owned))
}

/// The hidden `form_key` of the form posting to `action`.
fn key_of(page: &Page, action: &str) -> String {
    page.attr(
        &format!("form[action='{action}'] input[name=form_key]"),
        "value",
    )
    .expect("the form's key")
}

/// Loads `path` until its text contains `text` (the read model follows the streams).
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

/// The draft form's fields, with `changes` applied.
fn offer_form<'a>(
    csrf: &'a str,
    key: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("form_key", key),
        ("title", "Legislative drafting for East Africa"),
        ("themes", "BOR"),
        ("countries", "ke, UG"),
        ("regions", ""),
        ("modalities", "legislative_drafting"),
        ("modalities", "workshop"),
        ("budget", "120,000"),
        ("currency", "USD"),
        ("capacity", "40"),
        ("measure", "drafters trained"),
        ("valid_from", "2027-01-01"),
        ("valid_until", "2032-12-31"),
        ("languages", "en, fr"),
        ("conditions", ""),
    ];
    for (name, value) in changes {
        for field in fields.iter_mut().filter(|(n, _)| n == name) {
            field.1 = value;
        }
    }
    fields
}

#[tokio::test]
async fn offers_are_listed_by_role_and_drafted_published_amended_withdrawn_by_forms() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;

    // The list: a donor sees its own organisation's offers, the other donor not them; staff and
    // auditors every one. A State's focal point has no offers screen in its navigation.
    let world_offer = "DONOR-A BOR training";
    for (who, sees, nav) in [
        ("donor", true, true),
        ("other donor", false, true),
        ("coordinator", true, true),
        ("admin", true, true),
        ("auditor", true, true),
        ("focal point", false, false),
    ] {
        let mut b = w.browser(who).await;
        let page = b.get("/offers").await;
        assert_eq!(page.status, StatusCode::OK, "{who}: {}", page.text);
        assert!(page.has("main h1"));
        let listed = page.select("main table tbody td a");
        assert_eq!(
            listed.iter().any(|l| l == world_offer),
            sees,
            "{who}: {listed:?}"
        );
        assert_eq!(
            page.select("header nav a").contains(&"Offers".to_owned()),
            nav,
            "{who}'s navigation"
        );
        // Who may draft has the form: a donor (for itself) and staff (for any organisation,
        // which only they choose).
        let drafts = matches!(who, "donor" | "other donor" | "coordinator" | "admin");
        assert_eq!(
            page.has("form[method=post][action='/offers']"),
            drafts,
            "{who}: draft form"
        );
        assert_eq!(
            page.has("select[name=organisation]"),
            matches!(who, "coordinator" | "admin"),
            "{who}: the organisation is the staff's to choose"
        );
        if sees {
            assert!(page.text.contains("USD 300,000.00"), "{who}: money offered");
        }
    }

    // The coordinator sees the needs an offer could serve, ranked; the donor does not.
    let mut coordinator = w.browser("coordinator").await;
    let list = coordinator.get("/offers").await;
    let offer_path = list
        .attr("main table tbody td a[href^='/offers/']", "href")
        .expect("the world's offer");
    let page = coordinator.get(&offer_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.has("#matches-h"), "the ranked needs");
    assert!(
        page.has(&format!("a[href='/needs/{}']", w.need)),
        "{}",
        page.text
    );
    let mut donor = w.browser("donor").await;
    let page = donor.get(&offer_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.has("#matches-h"), "ranking is the coordinators' tool");
    let mut other = w.browser("other donor").await;
    assert_eq!(other.get(&offer_path).await.status, StatusCode::NOT_FOUND);

    // Bad drafts: refused next to their field, what was typed kept, nothing written.
    let page = donor.get("/offers").await;
    let csrf = page.csrf();
    let key = key_of(&page, "/offers");
    let before = heads(&w.client).await;
    for (changes, field) in [
        (vec![("title", "  ")], "title"),
        (vec![("countries", "KE, XX")], "countries"),
        (vec![("budget", "-5")], "budget"),
        (vec![("budget", "twelve")], "budget"),
        (vec![("valid_until", "2026-12-31")], "valid_until"),
    ] {
        let refused = donor
            .post("/offers", &offer_form(&csrf, &key, &changes))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{changes:?}: {}",
            refused.text
        );
        assert!(
            refused.has(&format!("#{field}-error")),
            "{changes:?}: the error next to {field}: {}",
            refused.text
        );
        assert_eq!(
            refused
                .attr(&format!("#{field}"), "aria-invalid")
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            refused.attr("#capacity", "value").as_deref(),
            Some("40"),
            "what was typed is kept"
        );
        assert_eq!(
            refused.attr("#currency", "value").as_deref(),
            Some("USD"),
            "what was typed is kept"
        );
        assert!(refused.has("select[name=modalities] option[value=workshop][selected]"));
    }
    assert_eq!(heads(&w.client).await, before, "nothing written");

    // The donor drafts for its own organisation.
    let drafted = donor.post("/offers", &offer_form(&csrf, &key, &[])).await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.text);
    let location = drafted.location.expect("the new offer's page");
    let path = location.split('?').next().unwrap_or_default().to_owned();
    assert!(path.starts_with("/offers/"), "{location}");
    // The same form sent again records once.
    let after_draft = heads(&w.client).await;
    let again = donor.post("/offers", &offer_form(&csrf, &key, &[])).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text);
    assert_eq!(again.location.as_deref(), Some(location.as_str()));
    assert_eq!(heads(&w.client).await, after_draft, "recorded once");
    let page = donor.get(&location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        page.select("main h1"),
        ["Legislative drafting for East Africa"]
    );
    assert!(page.text.contains(DONOR_A));
    assert!(page.text.contains("Kenya") && page.text.contains("Uganda"));
    assert!(page.text.contains("USD 120,000.00"));
    assert!(page.select(".badge").contains(&"draft".to_owned()));
    // The other donor never sees it.
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
    // The auditor reads it, with no form.
    let mut auditor = w.browser("auditor").await;
    let read = eventually_page(&mut auditor, &path, "dl.facts").await;
    assert!(!read.has("main form[method=post]"), "an auditor only reads");

    // Publish.
    let publish = format!("{path}/publish");
    let published = donor
        .post(
            &publish,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key_of(&page, &publish)),
            ],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.text
    );
    let page = donor
        .get(&published.location.expect("back to the offer"))
        .await;
    assert!(
        page.select(".badge").contains(&"open".to_owned()),
        "{}",
        page.text
    );
    assert!(!page.has(&format!("form[action='{publish}']")));

    // Amend: a bad amount is refused next to its field; then a new title and budget.
    let amend = format!("{path}/amend");
    let amend_key = key_of(&page, &amend);
    let before = heads(&w.client).await;
    let refused = donor
        .post(
            &amend,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &amend_key),
                ("title", "Legislative drafting, East Africa"),
                ("budget", "-1"),
                ("currency", "USD"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has("#budget-error"), "{}", refused.text);
    assert_eq!(
        refused.attr("#title", "value").as_deref(),
        Some("Legislative drafting, East Africa")
    );
    assert_eq!(heads(&w.client).await, before, "nothing written");
    let amended = donor
        .post(
            &amend,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &amend_key),
                ("title", "Legislative drafting, East Africa"),
                ("budget", "150000"),
                ("currency", "USD"),
                ("valid_until", "2032-06-30"),
            ],
        )
        .await;
    assert_eq!(amended.status, StatusCode::SEE_OTHER, "{}", amended.text);
    let page = donor
        .get(&amended.location.expect("back to the offer"))
        .await;
    assert_eq!(
        page.select("main h1"),
        ["Legislative drafting, East Africa"]
    );
    assert!(page.text.contains("USD 150,000.00"), "{}", page.text);
    assert!(page.text.contains("2027-01-01 to 2032-06-30"));
    // What the form leaves empty is kept.
    assert!(page.text.contains("drafters trained"));

    // Withdraw: the reason is required.
    let withdraw = format!("{path}/withdraw");
    let withdraw_key = key_of(&page, &withdraw);
    let before = heads(&w.client).await;
    let refused = donor
        .post(
            &withdraw,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &withdraw_key),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has("#reason-error"), "{}", refused.text);
    assert_eq!(heads(&w.client).await, before, "nothing written");
    let withdrawn = donor
        .post(
            &withdraw,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &withdraw_key),
                ("reason", "the funding was moved elsewhere"),
            ],
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.text
    );
    let page = donor
        .get(&withdrawn.location.expect("back to the offer"))
        .await;
    assert!(page.select(".badge").contains(&"withdrawn".to_owned()));
    assert!(
        !page.has("main form[method=post]"),
        "a withdrawn offer has no moves"
    );

    // A coordinator drafts for an organisation it chooses.
    let page = coordinator.get("/offers").await;
    let csrf = page.csrf();
    let key = key_of(&page, "/offers");
    let mut fields = offer_form(&csrf, &key, &[("title", "Border training by mail")]);
    fields.push(("organisation", "DONOR-B"));
    let drafted = coordinator.post("/offers", &fields).await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.text);
    let page = other.get(&drafted.location.expect("the offer")).await;
    assert_eq!(page.status, StatusCode::OK, "the other donor's own offer");
    assert!(page.text.contains("DONOR-B"));
}

#[tokio::test]
async fn admins_invite_reinvite_disable_people_and_issue_and_revoke_tokens() {
    let (_h, _services, client) = Harness::up().await;
    let w = world(client).await;

    // Others get no admin screen, and none in their navigation.
    for who in ["coordinator", "donor", "focal point", "auditor"] {
        let mut b = w.browser(who).await;
        let page = b.get("/admin").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who}: {}", page.text);
        assert!(!page.has("#people-h"));
        let nav = b.get("/").await.select("header nav a");
        assert!(
            !nav.contains(&"Administration".to_owned()),
            "{who}: {nav:?}"
        );
    }
    let mut admin = w.browser("admin").await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.select("header nav a")
            .contains(&"Administration".to_owned())
    );
    assert!(page.text.contains(w.email("donor")), "the people");
    assert!(page.text.contains(DONOR_A));
    // An admin disables others, never itself from here.
    let disable = "form[action$='/disable']";
    assert!(row_form(&page, w.email("coordinator"), disable).is_some());
    assert!(row_form(&page, w.email("admin"), disable).is_none());
    let mut pages = vec![page.text.clone()];

    // Bad invitations: named next to their field, nothing written.
    let csrf = page.csrf();
    let key = key_of(&page, "/admin/invite");
    let before = heads(&w.client).await;
    let taken = w.email("donor").to_owned();
    for (fields, field) in [
        (
            vec![
                ("name", "Nadia"),
                ("email", "not-an-address"),
                ("role", "coordinator"),
            ],
            "email",
        ),
        (
            vec![
                ("name", "Nadia"),
                ("email", taken.as_str()),
                ("role", "auditor"),
            ],
            "email",
        ),
        (
            vec![
                ("name", "Nadia"),
                ("email", "nadia@example.org"),
                ("role", "donor"),
            ],
            "organisation",
        ),
        (
            vec![("name", "Nadia"), ("email", "nadia@example.org")],
            "role",
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str()), ("form_key", key.as_str())];
        form.extend(fields.iter().copied());
        let refused = admin.post("/admin/invite", &form).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{fields:?}: {}",
            refused.text
        );
        assert!(
            refused.has(&format!("#invite-{field}-error")),
            "{fields:?}: {}",
            refused.text
        );
        assert_eq!(
            refused.attr("#invite-name", "value").as_deref(),
            Some("Nadia"),
            "what was typed is kept"
        );
        assert!(!refused.has("#secret"));
    }
    assert_eq!(heads(&w.client).await, before, "nothing written");

    // Invite: the answer shows the one-time link, once; the same form sent again records once
    // and shows the same link.
    let invite = [
        ("csrf", csrf.as_str()),
        ("form_key", key.as_str()),
        ("name", "Nadia Newcomer"),
        ("email", "Nadia@Example.org"),
        ("role", "coordinator"),
    ];
    let invited = admin.post("/admin/invite", &invite).await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.text);
    let link = invited.attr("#secret", "href").expect("the one-time link");
    assert!(link.starts_with("/invitation/"), "{link}");
    let secret = link.trim_start_matches("/invitation/").to_owned();
    let hash = tatrack_gateway::password::invitation_hash(&secret);
    assert!(!invited.text.contains(&hash), "never the link's hash");
    let recorded = heads(&w.client).await;
    let again = admin.post("/admin/invite", &invite).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(
        again.attr("#secret", "href").as_deref(),
        Some(link.as_str())
    );
    assert_eq!(heads(&w.client).await, recorded, "recorded once");
    pages.push(invited.text.clone());
    let page = eventually_text(&mut admin, "/admin", "nadia@example.org").await;
    assert!(!page.text.contains(&secret), "the link is shown once only");
    assert!(!page.has("#secret"));
    pages.push(page.text.clone());

    // The link works: the person sets a password and is signed in.
    let mut nadia = Browser::new(&w.router);
    let form = eventually_page(&mut nadia, &link, "input[name=repeat]").await;
    assert_eq!(form.status, StatusCode::OK);
    let set = nadia
        .post(
            &link,
            &[
                ("csrf", &form.csrf()),
                ("password", PASSWORD),
                ("repeat", PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text);
    let home = nadia.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("Nadia Newcomer"));

    // A new link for her: shown once, and it opens the password form.
    let page = admin.get("/admin").await;
    let reinvite = row_form(&page, "nadia@example.org", "form[action$='/reinvite']")
        .expect("a new-link form on her row");
    let reinvited = admin
        .post(
            &reinvite,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key_of(&page, &reinvite)),
            ],
        )
        .await;
    assert_eq!(reinvited.status, StatusCode::OK, "{}", reinvited.text);
    let new_link = reinvited.attr("#secret", "href").expect("the new link");
    assert_ne!(new_link, link);
    assert!(reinvited.text.contains("Nadia Newcomer"));
    pages.push(reinvited.text.clone());
    let form = eventually_page(
        &mut Browser::new(&w.router),
        &new_link,
        "input[name=repeat]",
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);

    // Disable: the reason is required; then she can no longer sign in.
    let page = admin.get("/admin").await;
    let disable = row_form(&page, "nadia@example.org", "form[action$='/disable']")
        .expect("a disable form on her row");
    let before = heads(&w.client).await;
    let refused = admin
        .post(
            &disable,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key_of(&page, &disable)),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("say why the account is disabled"));
    assert_eq!(heads(&w.client).await, before, "nothing written");
    let disabled = admin
        .post(
            &disable,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key_of(&page, &disable)),
                ("reason", "left the team"),
            ],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.text);
    let page = admin
        .get(&disabled.location.expect("back to the page"))
        .await;
    assert!(
        row_form(&page, "nadia@example.org", "form[action$='/disable']").is_none(),
        "a disabled account has no moves"
    );
    pages.push(page.text.clone());
    let mut signed_out = false;
    for _ in 0..100 {
        if nadia.get("/").await.status == StatusCode::SEE_OTHER {
            signed_out = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(signed_out, "her session ends with the account");
    let again = Browser::new(&w.router)
        .sign_in("nadia@example.org", PASSWORD)
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "she cannot sign in");

    // A token: a bad one is refused next to its field; a good one's secret is shown once.
    let page = admin.get("/admin").await;
    let token_key = key_of(&page, "/admin/tokens");
    let before = heads(&w.client).await;
    let refused = admin
        .post(
            "/admin/tokens",
            &[
                ("csrf", &page.csrf()),
                ("form_key", &token_key),
                ("label", "reporting script"),
                ("role", "donor"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.has("#token-organisation-error"), "{}", refused.text);
    assert_eq!(heads(&w.client).await, before, "nothing written");
    let issued = admin
        .post(
            "/admin/tokens",
            &[
                ("csrf", &page.csrf()),
                ("form_key", &token_key),
                ("label", "reporting script"),
                ("role", "auditor"),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text);
    let token = issued.select("#secret").concat();
    assert!(token.starts_with("tt_"), "{token}");
    let token_hash = tatrack_gateway::token::hash(&token);
    pages.push(issued.text.clone());
    let page = eventually_text(&mut admin, "/admin", "reporting script").await;
    assert!(!page.text.contains(&token), "the secret is shown once only");
    pages.push(page.text.clone());
    // It opens the API.
    let mut api_ok = false;
    for _ in 0..100 {
        let request = Request::get("/api/v1/offers")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("a request");
        if admin.send(request).await.status == StatusCode::OK {
            api_ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(api_ok, "the token opens the API");

    // Revoke: the reason is required.
    let revoke = row_form(&page, "reporting script", "form[action$='/revoke']")
        .expect("a revoke form on its row");
    let before = heads(&w.client).await;
    let refused = admin
        .post(
            &revoke,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key_of(&page, &revoke)),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(heads(&w.client).await, before, "nothing written");
    let revoked = admin
        .post(
            &revoke,
            &[
                ("csrf", &page.csrf()),
                ("form_key", &key_of(&page, &revoke)),
                ("reason", "the script was retired"),
            ],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text);
    let page = admin.get(&revoked.location.expect("back")).await;
    assert!(
        page.text.contains("the script was retired"),
        "{}",
        page.text
    );
    assert!(row_form(&page, "reporting script", "form[action$='/revoke']").is_none());
    pages.push(page.text.clone());

    // No admin page holds a hash: of a password, of an invitation link, of a token.
    let new_hash =
        tatrack_gateway::password::invitation_hash(new_link.trim_start_matches("/invitation/"));
    for text in &pages {
        assert!(!text.contains("$argon2"), "a password hash on a page");
        assert!(
            !text.contains(&hash) && !text.contains(&new_hash),
            "a link's hash"
        );
        assert!(!text.contains(&token_hash), "a token's hash");
    }
    // An unknown action is not found; a form without the session's token is refused.
    let page = admin.get("/admin").await;
    let csrf = page.csrf();
    let none = admin
        .post(
            &format!("/admin/accounts/{}/delete", Uuid::now_v7()),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let forged = admin
        .post(
            "/admin/invite",
            &[
                ("csrf", "forged"),
                ("name", "X"),
                ("email", "x@example.org"),
                ("role", "auditor"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}
