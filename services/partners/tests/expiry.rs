//! Offers expire at the end of their validity window: the expiry pass, on a real sled log.

use serde_json::json;
use tatrack_bus::rpc::RequestMeta;
use tatrack_bus::service::{execute, load};
use tatrack_domain::Principal;
use tatrack_domain::offer::{Offer, OfferCommand, OfferStatus};
use tatrack_domain::organisation::{Organisation, OrganisationCommand};
use tatrack_eventlog::Store;
use uuid::Uuid;

fn date(s: &str) -> jiff::civil::Date {
    s.parse().unwrap()
}

#[tokio::test]
async fn live_offers_past_their_window_expire_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &clock()).unwrap();
    // A new command id for every command (the log answers a repeated one with its first result).
    let meta = || RequestMeta::new(Principal::system());
    let register: OrganisationCommand = serde_json::from_value(json!({"type": "register", "id": "DONOR-A",
        "name": "Donor A", "kind": "donor_government", "iati_type": "10", "iati_identifier": null, "country": null, "on": "2026-01-01"}))
    .unwrap();
    execute::<Organisation>(&store, &"DONOR-A", &register, &meta(), |_| Ok(()))
        .await
        .unwrap();
    let mut offers = Vec::new();
    for until in ["2026-06-30", "2027-06-30"] {
        let id = Uuid::now_v7();
        let draft: OfferCommand = serde_json::from_value(json!({"type": "draft", "id": id, "organisation": "DONOR-A",
            "title": "Border training", "themes": ["BOR"], "countries": ["KE"], "regions": [], "modalities": ["training"],
            "budget": {"amount_minor": 100_000, "currency": "USD"}, "capacity": null, "valid_from": "2026-01-01",
            "valid_until": until, "languages": ["en"], "conditions": null, "on": "2026-01-10"}))
        .unwrap();
        execute::<Offer>(&store, &id, &draft, &meta(), |_| Ok(()))
            .await
            .unwrap();
        let publish = OfferCommand::Publish {
            id,
            on: date("2026-02-01"),
            reason: None,
        };
        execute::<Offer>(&store, &id, &publish, &meta(), |_| Ok(()))
            .await
            .unwrap();
        offers.push(id);
    }

    // On the last day of the first window nothing expires; the day after, only the first.
    assert_eq!(
        tatrack_partners::expire_due(&store, date("2026-06-30"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tatrack_partners::expire_due(&store, date("2026-07-01"))
            .await
            .unwrap(),
        1
    );
    let status = |id: Uuid| load::<Offer>(&store, &id).unwrap().0.status;
    assert_eq!(status(offers[0]), Some(OfferStatus::Expired));
    assert_eq!(status(offers[1]), Some(OfferStatus::Open));
    // An expired offer is not expired again.
    assert_eq!(
        tatrack_partners::expire_due(&store, date("2026-07-02"))
            .await
            .unwrap(),
        0
    );
}

/// The tests' clock: a fixed start far from the machine's date, running on from there.
fn clock() -> tatrack_eventlog::Clock {
    tatrack_eventlog::Clock::starting_at("2031-03-14T09:00:00Z".parse().expect("a time"))
}

#[tokio::test]
async fn tokens_are_revoked_after_their_last_valid_day_and_old_ones_after_a_year() {
    use tatrack_domain::token::{Token, TokenStatus};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &clock()).unwrap();
    let meta = || RequestMeta::new(Principal::system());
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    // One valid through 2026-04-05, one through 2026-12-31.
    let mut ids = Vec::new();
    for expires_on in ["2026-04-05", "2026-12-31"] {
        let id = Uuid::now_v7();
        let issue: tatrack_domain::token::TokenCommand = serde_json::from_value(json!({
            "type": "issue", "id": id, "role": "coordinator", "organisation": null,
            "member_state": null, "label": "a script", "hash": hash,
            "expires_on": expires_on, "on": "2026-01-05"}))
        .unwrap();
        execute::<Token>(&store, &id, &issue, &meta(), |_| Ok(()))
            .await
            .unwrap();
        ids.push(id);
    }
    let revoke = |day| tatrack_partners::revoke_expired_tokens(&store, date(day));
    assert_eq!(
        revoke("2026-04-05").await.unwrap(),
        0,
        "valid on its last day"
    );
    assert_eq!(revoke("2026-04-06").await.unwrap(), 1);
    let token = |id: Uuid| load::<Token>(&store, &id).unwrap().0;
    assert_eq!(token(ids[0]).status, Some(TokenStatus::Revoked));
    assert_eq!(token(ids[0]).revoked_on, Some(date("2026-04-06")));
    assert_eq!(token(ids[0]).revoke_reason.as_deref(), Some("expired"));
    assert_eq!(token(ids[1]).status, Some(TokenStatus::Active));
    assert_eq!(revoke("2026-04-07").await.unwrap(), 0, "revoked once");
    // A token recorded before tokens had an expiry lasts a year from its issue.
    let old = Uuid::now_v7();
    let legacy = tatrack_domain::token::TokenEvent::TokenIssued {
        id: old,
        role: tatrack_domain::Role::Auditor,
        organisation: None,
        member_state: None,
        label: "from before".into(),
        hash: hash.into(),
        issued_on: date("2026-01-05"),
        expires_on: None,
    };
    let state = <Token as tatrack_domain::Aggregate>::evolve(Default::default(), &legacy);
    assert_eq!(state.last_valid_day(), Some(date("2027-01-05")));
}
