//! People's accounts end to end, on the partners service and the read model: an admin invites,
//! the holder of the one-time link sets a password and the account acts as its principal; every
//! refusal names its field and writes nothing; one live account per e-mail; only admins invite and
//! disable, only the link's holder sets the password; no view ever shows a hash.

use serde_json::{Value, json};
use tatrack_bus::rpc::{ErrorCode, RequestMeta};
use tatrack_domain::{Principal, Role};
use tatrack_gateway::password;
use tatrack_tests::*;
use uuid::Uuid;

fn admin() -> Principal {
    principal(Role::Admin, None, None)
}

/// The principal the gateway names the holder of account `id`'s link.
fn holder(id: Uuid) -> Principal {
    Principal {
        id: format!("account:{id}"),
        role: Role::Auditor,
        organisation: None,
        member_state: None,
    }
}

/// A week from the tests' today.
fn next_week() -> String {
    today()
        .checked_add(jiff::Span::new().days(7))
        .unwrap()
        .to_string()
}

fn invite_body(id: Uuid, email: &str, secret: &str) -> Value {
    json!({
        "id": id, "name": "Ada Lovelace", "email": email, "role": "coordinator",
        "invitation_hash": password::invitation_hash(secret),
        "invitation_expires_on": next_week(),
    })
}

fn set_password_body(id: Uuid, secret: &str, phc: &str) -> Value {
    json!({ "id": id, "invitation_hash": password::invitation_hash(secret), "password_hash": phc })
}

async fn send_as(
    client: &async_nats::Client,
    who: &Principal,
    verb: &str,
    body: &Value,
) -> Result<Value, tatrack_bus::rpc::Error> {
    command_to(
        client,
        &RequestMeta::new(who.clone()),
        "partners",
        verb,
        body,
    )
    .await
}

/// Sends a command that must be refused with `code` on `field`, and checks the partners log did
/// not move.
async fn refused(
    client: &async_nats::Client,
    who: &Principal,
    verb: &str,
    body: &Value,
    code: ErrorCode,
    field: Option<&str>,
) {
    let before = heads(client).await;
    let e = remote(send_as(client, who, verb, body).await);
    assert_eq!(e.code, code, "{verb} {body}: {e:?}");
    assert_eq!(e.field.as_deref(), field, "{verb} {body}: {e:?}");
    assert_eq!(heads(client).await, before, "{verb} {body} wrote");
}

/// The account rows an admin lists, once the read model holds everything acknowledged.
async fn accounts(client: &async_nats::Client, who: Principal) -> Value {
    let min = heads(client).await;
    query_as(
        client,
        who,
        "account_list",
        &json!({ "min_positions": min }),
    )
    .await
    .unwrap()
}

fn row(list: &Value, id: Uuid) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.to_string())
        .cloned()
        .unwrap_or_else(|| panic!("no row for {id} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_then_set_password_then_disable() {
    let (_h, _services, client) = Harness::up().await;
    let id = Uuid::now_v7();
    let secret = password::invitation_secret();
    send_as(
        &client,
        &admin(),
        "account_invite",
        &invite_body(id, " Ada@Example.ORG ", &secret),
    )
    .await
    .unwrap();
    let list = accounts(&client, admin()).await;
    let invited = row(&list, id);
    assert_eq!(invited["status"], "invited");
    assert_eq!(
        invited["email"], "ada@example.org",
        "trimmed and lower-cased"
    );
    assert_eq!(invited["invitation_open"], true);
    assert_eq!(invited["invitation_expires_on"], next_week());

    // Someone else's principal may not use the link, even with the right hash.
    let phc = password::hash("correct horse battery staple");
    refused(
        &client,
        &holder(Uuid::now_v7()),
        "account_set_password",
        &set_password_body(id, &secret, &phc),
        ErrorCode::Forbidden,
        None,
    )
    .await;
    refused(
        &client,
        &admin(),
        "account_set_password",
        &set_password_body(id, &secret, &phc),
        ErrorCode::Forbidden,
        None,
    )
    .await;
    send_as(
        &client,
        &holder(id),
        "account_set_password",
        &set_password_body(id, &secret, &phc),
    )
    .await
    .unwrap();
    let active = row(&accounts(&client, admin()).await, id);
    assert_eq!(active["status"], "active");
    assert_eq!(active["invitation_open"], false);
    assert_eq!(active["activated_on"], today().to_string());

    // The link is used up: the same answer as a wrong or expired one.
    refused(
        &client,
        &holder(id),
        "account_set_password",
        &set_password_body(id, &secret, &phc),
        ErrorCode::Invalid,
        Some("invitation"),
    )
    .await;

    // A reset: a new link, the old password stays until it is used.
    let again = password::invitation_secret();
    send_as(
        &client,
        &admin(),
        "account_reinvite",
        &json!({ "id": id, "invitation_hash": password::invitation_hash(&again),
                 "invitation_expires_on": next_week() }),
    )
    .await
    .unwrap();
    let reset = row(&accounts(&client, admin()).await, id);
    assert_eq!(
        (reset["status"].as_str(), reset["invitation_open"].as_bool()),
        (Some("active"), Some(true))
    );

    // Only admins disable, with a reason; a disabled account's link is dead.
    refused(
        &client,
        &coordinator(),
        "account_disable",
        &json!({ "id": id, "reason": "left" }),
        ErrorCode::Forbidden,
        None,
    )
    .await;
    refused(
        &client,
        &admin(),
        "account_disable",
        &json!({ "id": id, "reason": " " }),
        ErrorCode::Invalid,
        Some("reason"),
    )
    .await;
    send_as(
        &client,
        &admin(),
        "account_disable",
        &json!({ "id": id, "reason": "left the team" }),
    )
    .await
    .unwrap();
    let disabled = row(&accounts(&client, admin()).await, id);
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(disabled["invitation_open"], false);
    refused(
        &client,
        &holder(id),
        "account_set_password",
        &set_password_body(id, &again, &phc),
        ErrorCode::Invalid,
        Some("invitation"),
    )
    .await;
    refused(
        &client,
        &admin(),
        "account_reinvite",
        &json!({ "id": id, "invitation_hash": password::invitation_hash(&again),
                 "invitation_expires_on": next_week() }),
        ErrorCode::Invalid,
        Some("status"),
    )
    .await;

    // Its address is free again once it is disabled.
    send_as(
        &client,
        &admin(),
        "account_invite",
        &invite_body(
            Uuid::now_v7(),
            "ada@example.org",
            &password::invitation_secret(),
        ),
    )
    .await
    .unwrap();

    // Others see no account at all.
    for who in [coordinator(), principal(Role::Auditor, None, None)] {
        assert_eq!(accounts(&client, who).await, json!([]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_by_field_and_writes_nothing() {
    let (_h, _services, client) = Harness::up().await;
    let secret = password::invitation_secret();
    let id = Uuid::now_v7();
    let invite = |edit: &dyn Fn(&mut Value)| {
        let mut body = invite_body(Uuid::now_v7(), "grace@example.org", &secret);
        edit(&mut body);
        body
    };
    let invalid = ErrorCode::Invalid;
    for (body, field) in [
        (invite(&|b| b["email"] = json!("grace")), "email"),
        (invite(&|b| b["email"] = json!("grace@example")), "email"),
        (
            invite(&|b| b["email"] = json!("gr ace@example.org")),
            "email",
        ),
        (invite(&|b| b["name"] = json!(" ")), "name"),
        (invite(&|b| b["role"] = json!("donor")), "organisation"),
        (
            invite(&|b| b["role"] = json!("state_focal_point")),
            "member_state",
        ),
        (invite(&|b| b["member_state"] = json!("KE")), "member_state"),
        (invite(&|b| b["role"] = json!("system")), "role"),
        (
            invite(&|b| b["invitation_hash"] = json!("abc")),
            "invitation_hash",
        ),
        (
            invite(&|b| {
                b["invitation_hash"] = json!(password::invitation_hash("x").to_uppercase());
            }),
            "invitation_hash",
        ),
        (
            invite(&|b| b["invitation_expires_on"] = json!("2031-03-01")),
            "invitation_expires_on",
        ),
        (invite(&|b| b["password"] = json!("hunter2")), "password"),
    ] {
        refused(
            &client,
            &admin(),
            "account_invite",
            &body,
            invalid,
            Some(field),
        )
        .await;
    }
    // A donor account needs a registered organisation.
    refused(
        &client,
        &admin(),
        "account_invite",
        &invite(&|b| {
            b["role"] = json!("donor");
            b["organisation"] = json!("NOBODY");
        }),
        invalid,
        Some("organisation"),
    )
    .await;
    // Only admins invite.
    for who in [
        coordinator(),
        principal(Role::Auditor, None, None),
        holder(id),
    ] {
        refused(
            &client,
            &who,
            "account_invite",
            &invite_body(id, "grace@example.org", &secret),
            ErrorCode::Forbidden,
            None,
        )
        .await;
    }

    // An invitation that expired before it was used.
    let late = Uuid::now_v7();
    let late_secret = password::invitation_secret();
    let mut body = invite_body(late, "late@example.org", &late_secret);
    body["on"] = json!("2031-03-01");
    body["invitation_expires_on"] = json!("2031-03-05");
    send_as(&client, &admin(), "account_invite", &body)
        .await
        .unwrap();
    let phc = password::hash("correct horse battery staple");
    refused(
        &client,
        &holder(late),
        "account_set_password",
        &set_password_body(late, &late_secret, &phc),
        invalid,
        Some("invitation"),
    )
    .await;

    send_as(
        &client,
        &admin(),
        "account_invite",
        &invite_body(id, "grace@example.org", &secret),
    )
    .await
    .unwrap();
    // The same address again, in other case and spacing.
    refused(
        &client,
        &admin(),
        "account_invite",
        &invite_body(
            Uuid::now_v7(),
            " GRACE@example.org",
            &password::invitation_secret(),
        ),
        invalid,
        Some("email"),
    )
    .await;
    // A wrong link, and a hash that is no argon2id PHC string.
    refused(
        &client,
        &holder(id),
        "account_set_password",
        &set_password_body(id, &password::invitation_secret(), &phc),
        invalid,
        Some("invitation"),
    )
    .await;
    for weak in [
        "hunter2".to_owned(),
        "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
        format!("{phc}{}", "A".repeat(512)),
    ] {
        refused(
            &client,
            &holder(id),
            "account_set_password",
            &set_password_body(id, &secret, &weak),
            invalid,
            Some("password_hash"),
        )
        .await;
    }
    // Reinvite: a bad hash, an expiry before the day; an account that does not exist.
    for (body, code, field) in [
        (
            json!({ "id": id, "invitation_hash": "abc", "invitation_expires_on": next_week() }),
            invalid,
            Some("invitation_hash"),
        ),
        (
            json!({ "id": id, "invitation_hash": password::invitation_hash("y"),
                    "invitation_expires_on": "2031-03-01" }),
            invalid,
            Some("invitation_expires_on"),
        ),
        (
            json!({ "id": Uuid::now_v7(), "invitation_hash": password::invitation_hash("y"),
                    "invitation_expires_on": next_week() }),
            ErrorCode::NotFound,
            None,
        ),
    ] {
        refused(&client, &admin(), "account_reinvite", &body, code, field).await;
    }
    // Still invited, nothing recorded by any refusal.
    let list = accounts(&client, admin()).await;
    assert_eq!(row(&list, id)["status"], "invited");
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_view_ever_shows_a_hash() {
    let (_h, _services, client) = Harness::up().await;
    let mut secrets = Vec::new();
    for (n, role) in [Role::Admin, Role::Coordinator, Role::Auditor]
        .into_iter()
        .enumerate()
    {
        let id = Uuid::now_v7();
        let secret = password::invitation_secret();
        let mut body = invite_body(id, &format!("person{n}@example.org"), &secret);
        body["role"] = json!(role);
        send_as(&client, &admin(), "account_invite", &body)
            .await
            .unwrap();
        let phc = password::hash("correct horse battery staple");
        send_as(
            &client,
            &holder(id),
            "account_set_password",
            &set_password_body(id, &secret, &phc),
        )
        .await
        .unwrap();
        // A second, open invitation on the same account.
        let open = password::invitation_secret();
        send_as(
            &client,
            &admin(),
            "account_reinvite",
            &json!({ "id": id, "invitation_hash": password::invitation_hash(&open),
                     "invitation_expires_on": next_week() }),
        )
        .await
        .unwrap();
        secrets.push(password::invitation_hash(&secret));
        secrets.push(password::invitation_hash(&open));
        secrets.push(phc);
    }
    assert_eq!(
        accounts(&client, admin()).await.as_array().unwrap().len(),
        3
    );
    for who in [
        admin(),
        coordinator(),
        principal(Role::Auditor, None, None),
        principal(Role::Donor, Some("DEMO-DONOR"), None),
        principal(Role::StateFocalPoint, None, Some("KE")),
    ] {
        for (view, answer) in every_view_as(&client, who.clone()).await {
            let text = answer.to_string();
            for needle in ["$argon2", "password_hash", "invitation_hash"] {
                assert!(
                    !text.contains(needle),
                    "{view} as {} shows {needle}: {text}",
                    who.id
                );
            }
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{view} as {} shows a hash",
                    who.id
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_organisation_takes_its_accounts_with_it() {
    let (_h, _services, client) = Harness::up().await;
    let org = "ACCT-ORG";
    send_as(
        &client,
        &coordinator(),
        "organisation_register",
        &json!({ "id": org, "name": "Accounts Org", "kind": "civil_society", "iati_type": "22",
                 "iati_identifier": null, "country": null, "on": "2031-01-02" }),
    )
    .await
    .unwrap();
    let id = Uuid::now_v7();
    let secret = password::invitation_secret();
    let mut body = invite_body(id, "donor@example.org", &secret);
    body["role"] = json!("donor");
    body["organisation"] = json!(org);
    send_as(&client, &admin(), "account_invite", &body)
        .await
        .unwrap();
    send_as(
        &client,
        &coordinator(),
        "organisation_deactivate",
        &json!({ "id": org, "reason": "closed" }),
    )
    .await
    .unwrap();
    let disabled = row(&accounts(&client, admin()).await, id);
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(disabled["invitation_open"], false);
}
