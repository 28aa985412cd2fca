//! Scoring, query flags and overlaps on small hand-made worlds.

use tatrack_domain::need::{Modality, Units};
use tatrack_domain::project::Participant;
use tatrack_domain::sharing::{Audience, Scope, SharingGrantStatus};

use jiff::civil::Date;
use serde_json::json;
use tatrack_contract::answers::Reason;
use tatrack_domain::Money;
use tatrack_domain::need::{NeedState, NeedStatus};
use tatrack_domain::offer::{OfferState, OfferStatus};
use tatrack_domain::project::{ActivityStatus, ProjectState};
use tatrack_domain::rates::{self, RateTableState, Ratio};
use tatrack_domain::referral::{ReferralState, ReferralStatus};
use tatrack_domain::sharing::SharingGrantState;
use uuid::Uuid;

use super::overlap::overlaps;
use super::score::{Context, Scored, TrackRecords, Verdict, assess, propose_body, suggested_id};
use super::{flag, language, rank, suggestion};

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn usd(minor: i64) -> Money {
    Money::new(minor, "USD").unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, "EUR").unwrap()
}

/// Rate tables by date, each rate per US dollar as `tatrack rates record` takes it.
fn rate_tables(tables: &[(&str, &[(&str, &str)])]) -> RateTableState {
    RateTableState {
        id: Uuid::from_u128(800),
        tables: tables
            .iter()
            .map(|(day, rates)| {
                let rates = rates
                    .iter()
                    .map(|(currency, per_usd)| rates::Rate {
                        currency: (*currency).into(),
                        per_usd: Ratio::parse_decimal("per_usd", per_usd).unwrap(),
                    })
                    .collect();
                (date(day), rates)
            })
            .collect(),
    }
}

fn officers(quantity: u64) -> Units {
    Units {
        measure: "officers trained".into(),
        quantity,
    }
}

fn need(n: u128, country: &str, priority: u8) -> NeedState {
    NeedState {
        id: Uuid::from_u128(n),
        status: Some(NeedStatus::AgreedWithState),
        member_state: country.into(),
        recommendation_ids: vec![],
        theme: "BOR".into(),
        modality: Some(Modality::Training),
        description: "Train border officers".into(),
        beneficiary_institution: "Border Police".into(),
        estimated_cost: Some(usd(10_000_000)),
        size: Some(officers(200)),
        priority,
        covered_money: None,
        covered_units: None,
        ..NeedState::default()
    }
}

fn offer(n: u128, organisation: &str) -> OfferState {
    OfferState {
        id: Uuid::from_u128(n),
        status: Some(OfferStatus::Open),
        organisation: organisation.into(),
        title: format!("Offer {n}"),
        themes: vec!["BOR".into()],
        countries: vec!["KE".into()],
        regions: vec![],
        modalities: vec![Modality::Training],
        budget: Some(usd(5_000_000)),
        capacity: Some(officers(100)),
        valid_from: Some(date("2026-01-01")),
        valid_until: Some(date("2026-12-31")),
        languages: vec!["en".into()],
        conditions: None,
        committed_money: None,
        committed_units: None,
        published_on: Some(date("2026-01-01")),
        ..OfferState::default()
    }
}

fn all_donors(country: &str) -> SharingGrantState {
    SharingGrantState {
        id: Uuid::from_u128(900),
        status: Some(SharingGrantStatus::Active),
        member_state: country.into(),
        scope: Some(Scope::AllNeeds),
        audience: Some(Audience::AllDonors),
        until: None,
        granted_on: Some(date("2026-01-01")),
        revoked_on: None,
    }
}

struct World {
    grants: Vec<SharingGrantState>,
    referrals: Vec<ReferralState>,
    projects: Vec<ProjectState>,
    rates: RateTableState,
}

impl World {
    fn new() -> Self {
        Self {
            grants: vec![all_donors("KE"), all_donors("UG"), all_donors("EG")],
            referrals: vec![],
            projects: vec![],
            rates: RateTableState::default(),
        }
    }

    fn cx<'a>(&'a self, language: Option<&'a str>) -> Context<'a> {
        Context {
            as_of: date("2026-06-01"),
            grants: &self.grants,
            referrals: &self.referrals,
            rates: &self.rates,
            language,
            track_records: TrackRecords::of(&self.projects),
        }
    }
}

fn scored(v: Verdict) -> Scored {
    match v {
        Verdict::Eligible(s) => s,
        Verdict::Ineligible(r) => panic!("ineligible: {r:?}"),
    }
}

fn reasons(v: Verdict) -> Vec<Reason> {
    match v {
        Verdict::Eligible(s) => panic!("eligible: {s:?}"),
        Verdict::Ineligible(r) => r,
    }
}

fn fields(v: Verdict) -> Vec<String> {
    reasons(v).into_iter().map(|r| r.field).collect()
}

fn detail(s: &Scored, criterion: &str) -> String {
    s.explanation
        .iter()
        .find(|c| c.criterion == criterion)
        .unwrap_or_else(|| panic!("no {criterion}"))
        .detail
        .clone()
}

fn points(s: &Scored, criterion: &str) -> u32 {
    s.explanation
        .iter()
        .find(|c| c.criterion == criterion)
        .unwrap_or_else(|| panic!("no {criterion}"))
        .points
}

#[test]
fn an_eligible_offer_is_scored_criterion_by_criterion() {
    let w = World::new();
    let s = scored(assess(
        &need(1, "KE", 1),
        &offer(2, "ORG-A"),
        &w.cx(Some("en")),
    ));
    // Half the money and half the units the need lacks: 15 of 30; 213 days left: 10.
    assert_eq!(points(&s, "theme"), 15);
    assert_eq!(points(&s, "place"), 15);
    assert_eq!(points(&s, "modality"), 10);
    assert_eq!(points(&s, "money"), 7);
    assert_eq!(points(&s, "units"), 7);
    assert_eq!(points(&s, "window"), 10);
    assert_eq!(points(&s, "language"), 5);
    assert_eq!(points(&s, "track_record"), 0);
    assert_eq!(points(&s, "priority"), 5);
    assert_eq!(s.score, 74);
    assert_eq!(s.max_score, 100);
    assert_eq!(s.share_money, Some(usd(5_000_000)));
    assert_eq!(s.share_units, Some(100));
    let body = serde_json::to_value(propose_body(
        &need(1, "KE", 1),
        &offer(2, "ORG-A"),
        s.share_money.as_ref(),
        s.share_units,
        &w.referrals,
    ))
    .unwrap();
    assert_eq!(body["need_id"], Uuid::from_u128(1).to_string());
    // The same question, the same id; another referral of the pair, another id.
    let id = suggested_id(Uuid::from_u128(1), Uuid::from_u128(2), &[]);
    assert_eq!(body["id"], id.to_string());
    assert_eq!(id.get_version_num(), 8);
    let earlier = ReferralState {
        need_id: Uuid::from_u128(1),
        offer_id: Uuid::from_u128(2),
        ..ReferralState::default()
    };
    assert_ne!(
        suggested_id(Uuid::from_u128(1), Uuid::from_u128(2), &[earlier]),
        id
    );
    assert_ne!(
        suggested_id(Uuid::from_u128(2), Uuid::from_u128(1), &[]),
        id
    );
    assert_eq!(body["organisation"], "ORG-A");
    assert_eq!(
        body["share_money"],
        json!({"amount_minor": 5_000_000, "currency": "USD"})
    );
    assert_eq!(body["share_units"], 100);
}

#[test]
fn a_bigger_offer_with_a_track_record_ranks_higher() {
    let mut w = World::new();
    let mut big = offer(3, "ORG-B");
    big.budget = Some(usd(20_000_000));
    big.capacity = Some(officers(300));
    w.projects.push(ProjectState {
        id: Uuid::from_u128(50),
        status: Some(ActivityStatus::Implementation),
        iati_identifier: "XM-ORG-B-1".into(),
        recipient_country: "KE".into(),
        participating: vec![Participant {
            organisation: "ORG-B".into(),
            role: "4".into(),
        }],
        ..ProjectState::default()
    });
    let n = need(1, "KE", 1);
    let small = scored(assess(&n, &offer(2, "ORG-A"), &w.cx(None)));
    let big = scored(assess(&n, &big, &w.cx(None)));
    assert!(big.score > small.score, "{big:?} {small:?}");
    assert_eq!(points(&big, "money"), 15);
    assert_eq!(points(&big, "units"), 15);
    assert_eq!(points(&big, "track_record"), 5);
    // Capped at what the need lacks.
    assert_eq!(big.share_money, Some(usd(10_000_000)));
    assert_eq!(big.share_units, Some(200));
    // No language asked: the criterion counts for nobody.
    assert_eq!(big.max_score, 95);
}

#[test]
fn a_regional_offer_serves_a_country_of_its_region_for_fewer_points() {
    let w = World::new();
    let mut regional = offer(2, "ORG-A");
    regional.countries = vec![];
    regional.regions = vec!["1027".into()];
    let s = scored(assess(&need(1, "UG", 2), &regional, &w.cx(None)));
    assert_eq!(points(&s, "place"), 10);
    assert!(
        s.explanation[1].detail.contains("1027"),
        "{:?}",
        s.explanation[1]
    );
    assert_eq!(
        fields(assess(&need(1, "EG", 2), &regional, &w.cx(None))),
        ["country"]
    );
}

#[test]
fn ineligible_offers_say_every_reason() {
    let mut w = World::new();
    let mut o = offer(2, "ORG-A");
    o.themes = vec!["CFT".into()];
    o.modalities = vec![Modality::Equipment];
    o.valid_until = Some(date("2026-05-31"));
    assert_eq!(
        fields(assess(&need(1, "KE", 1), &o, &w.cx(None))),
        ["theme", "modality", "valid_until"]
    );
    // Not shared with the organisation: the projects service would refuse the need.
    w.grants.clear();
    assert_eq!(
        fields(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None))),
        ["need_id"]
    );
    // A need not yet agreed with the State.
    let w = World::new();
    let mut identified = need(1, "KE", 1);
    identified.status = Some(NeedStatus::Identified);
    assert_eq!(
        fields(assess(&identified, &offer(2, "ORG-A"), &w.cx(None))),
        ["need_id"]
    );
    // Committed, or nothing the need lacks.
    let mut committed = offer(2, "ORG-A");
    committed.status = Some(OfferStatus::Committed);
    assert_eq!(
        fields(assess(&need(1, "KE", 1), &committed, &w.cx(None))),
        ["status"]
    );
    let mut units_only = need(1, "KE", 1);
    units_only.estimated_cost = None;
    let mut money_only = offer(2, "ORG-A");
    money_only.capacity = None;
    assert_eq!(
        fields(assess(&units_only, &money_only, &w.cx(None))),
        ["share_money"]
    );
    // Another currency with no recorded rate: the money cannot be compared (the reason alone,
    // not "nothing to give").
    let mut euros = offer(2, "ORG-A");
    euros.budget = Some(eur(5_000_000));
    euros.capacity = None;
    assert_eq!(
        fields(assess(&need(1, "KE", 1), &euros, &w.cx(None))),
        ["currency"]
    );
}

/// N1 lacks 100000.00 USD and 200 officers; this offer has 50000.00 EUR and no units.
fn euro_offer() -> OfferState {
    let mut euros = offer(2, "ORG-A");
    euros.budget = Some(eur(5_000_000));
    euros.capacity = None;
    euros
}

#[test]
fn another_currency_without_a_rate_is_ineligible_for_the_missing_rate() {
    let mut w = World::new();
    // Units to give as well: the money share would still be refused, so no suggestion.
    let mut euros = euro_offer();
    euros.capacity = Some(officers(100));
    assert_eq!(
        reasons(assess(&need(1, "KE", 1), &euros, &w.cx(None))),
        [Reason {
            field: "currency".into(),
            reason: "no EUR→USD rate recorded (record one with: tatrack rates record \
                     --on 2026-06-01 --rate EUR=RATE, RATE being EUR per US dollar)"
                .into(),
        }]
    );
    // The other way round (a need costed in euros, an offer in dollars), as offer_match_list
    // asks it: the arrow still goes from the offer's currency to the need's.
    let mut costed_in_euros = need(1, "KE", 1);
    costed_in_euros.estimated_cost = Some(eur(10_000_000));
    let why = reasons(assess(&costed_in_euros, &offer(2, "ORG-A"), &w.cx(None)));
    assert_eq!(why.len(), 1, "{why:?}");
    assert_eq!(why[0].field, "currency");
    assert!(
        why[0].reason.starts_with("no USD→EUR rate recorded (record one with: tatrack rates record --on 2026-06-01 --rate EUR=RATE,"),
        "{why:?}"
    );
    // A table in force without the currency: the command repeats its other rates, since a
    // new table replaces it.
    w.rates = rate_tables(&[("2026-05-01", &[("GBP", "0.79")])]);
    let why = reasons(assess(&need(1, "KE", 1), &euro_offer(), &w.cx(None)));
    assert_eq!(
        why[0].reason,
        "no EUR→USD rate recorded (record one with: tatrack rates record --on 2026-06-01 \
         --rate EUR=RATE --rate GBP=0.79, RATE being EUR per US dollar; the other rates \
         repeat the table of 2026-05-01, which a new table replaces)"
    );
    // A table of the matching date itself is never changed: only a later day can have it.
    w.rates = rate_tables(&[("2026-06-01", &[("GBP", "0.79")])]);
    let why = reasons(assess(&need(1, "KE", 1), &euro_offer(), &w.cx(None)));
    assert!(
        why[0].reason.starts_with(
            "no EUR→USD rate recorded (the table of 2026-06-01 has none and is never changed"
        ),
        "{why:?}"
    );
}

#[test]
fn a_rate_recorded_only_after_the_matching_date_does_not_count() {
    let mut w = World::new();
    w.rates = rate_tables(&[("2026-06-02", &[("EUR", "0.92")])]);
    let why = reasons(assess(&need(1, "KE", 1), &euro_offer(), &w.cx(None)));
    assert_eq!(why.len(), 1, "{why:?}");
    assert_eq!(why[0].field, "currency");
    assert!(
        why[0].reason.starts_with(
            "no EUR→USD rate recorded (record one with: tatrack rates record --on 2026-06-01 "
        ),
        "{why:?}"
    );
}

#[test]
fn with_a_rate_money_is_compared_in_the_need_currency_and_given_in_the_offer_currency() {
    let mut w = World::new();
    // The table in force on 2026-06-01 is the one of 2026-05-15, not the later one.
    w.rates = rate_tables(&[
        ("2026-05-15", &[("EUR", "0.92")]),
        ("2026-07-01", &[("EUR", "0.5")]),
    ]);
    let mut euros = euro_offer();
    euros.budget = Some(eur(10_000_000));
    let mut n = need(1, "KE", 1);
    n.estimated_cost = Some(usd(5_000_000));
    let s = scored(assess(&n, &euros, &w.cx(None)));
    assert_eq!(
        detail(&s, "money"),
        "the offer has 100000.00 EUR left (108695.65 USD at 0.92 EUR per USD, rates of \
         2026-05-15); the need lacks 50000.00 USD"
    );
    // All the need lacks (half of 30: it lacks units too); the share is what the offer
    // gives, in euros: 50000.00 USD at 0.92.
    assert_eq!(points(&s, "money"), 15);
    assert_eq!(s.share_money, Some(eur(4_600_000)));
    assert_eq!(s.lacking_money, Some(eur(4_600_000)));
    // Points by the dollars the euros are worth: more than the 100000.00 USD the need
    // lacks, then half of it.
    let s = scored(assess(&need(1, "KE", 1), &euros, &w.cx(None)));
    assert_eq!(
        detail(&s, "money"),
        "the offer has 100000.00 EUR left (108695.65 USD at 0.92 EUR per USD, rates of \
         2026-05-15); the need lacks 100000.00 USD"
    );
    assert_eq!(points(&s, "money"), 15);
    euros.budget = Some(eur(4_600_000));
    let s = scored(assess(&need(1, "KE", 1), &euros, &w.cx(None)));
    assert!(detail(&s, "money").contains("(50000.00 USD at 0.92 EUR per USD"));
    assert_eq!(points(&s, "money"), 7);
    assert_eq!(s.share_money, Some(eur(4_600_000)));
    // Neither currency the dollar: both rates are quoted.
    w.rates = rate_tables(&[("2026-05-15", &[("EUR", "0.92"), ("GBP", "0.79")])]);
    let mut costed_in_pounds = need(1, "KE", 1);
    costed_in_pounds.estimated_cost = Some(Money::new(7_900_000, "GBP").unwrap());
    let s = scored(assess(&costed_in_pounds, &euros, &w.cx(None)));
    assert_eq!(
        detail(&s, "money"),
        "the offer has 46000.00 EUR left (39500.00 GBP at 0.92 EUR and 0.79 GBP per USD, \
         rates of 2026-05-15); the need lacks 79000.00 GBP"
    );
}

#[test]
fn a_training_offer_with_the_units_asked_for_ranks_above_a_generic_one_as_of_the_date() {
    let w = World::new();
    let n = need(1, "KE", 1);
    // Training for the officers the need lacks, in dollars, valid until 2026-12-31: 213
    // days left on 2026-06-01, but expired years later.
    let mut training = offer(2, "ORG-A");
    training.capacity = Some(officers(200));
    // Money only, twice the training's budget, open-ended.
    let mut generic = offer(3, "ORG-B");
    generic.capacity = None;
    generic.budget = Some(usd(10_000_000));
    generic.valid_until = None;
    let cx = w.cx(None);
    let t = scored(assess(&n, &training, &cx));
    assert_eq!(points(&t, "window"), 10);
    assert!(detail(&t, "window").contains("213 days left"), "{t:?}");
    assert_eq!(points(&t, "units"), 15);
    let g = scored(assess(&n, &generic, &cx));
    assert_eq!(points(&g, "units"), 0);
    let mut ranked = vec![
        suggestion(&n, &generic, g, &w.referrals),
        suggestion(&n, &training, t, &w.referrals),
    ];
    rank(&mut ranked, |s| s.offer_id);
    let order: Vec<Uuid> = ranked.iter().map(|s| s.offer_id).collect();
    assert_eq!(order, [training.id, generic.id]);
    assert!(ranked[0].score > ranked[1].score);
    // Counted from a date years later, the training would not even be eligible.
    let later = Context {
        as_of: date("2029-06-01"),
        ..w.cx(None)
    };
    assert_eq!(fields(assess(&n, &training, &later)), ["valid_until"]);
    scored(assess(&n, &generic, &later));
}

#[test]
fn an_open_referral_for_the_same_pair_leaves_the_offer_out() {
    let mut w = World::new();
    w.referrals.push(ReferralState {
        id: Uuid::from_u128(70),
        status: Some(ReferralStatus::Referred),
        need_id: Uuid::from_u128(1),
        offer_id: Uuid::from_u128(2),
        ..ReferralState::default()
    });
    assert_eq!(
        fields(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None))),
        ["offer_id"]
    );
    // Accepted by the State, it is still open: a second referral would be a duplicate.
    w.referrals[0].status = Some(ReferralStatus::AcceptedByState);
    assert_eq!(
        fields(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None))),
        ["offer_id"]
    );
    w.referrals[0].status = Some(ReferralStatus::Declined);
    scored(assess(&need(1, "KE", 1), &offer(2, "ORG-A"), &w.cx(None)));
}

#[test]
fn query_flags_and_languages_name_the_field() {
    assert_eq!(flag("include_ineligible", None), Ok(false));
    assert_eq!(flag("include_ineligible", Some(&json!("true"))), Ok(true));
    assert_eq!(flag("include_ineligible", Some(&json!(false))), Ok(false));
    assert_eq!(
        flag("include_ineligible", Some(&json!("yes")))
            .unwrap_err()
            .field
            .as_deref(),
        Some("include_ineligible")
    );
    assert_eq!(language(Some("fr")), Ok(Some("fr")));
    assert_eq!(
        language(Some("FR")).unwrap_err().field.as_deref(),
        Some("language")
    );
}

fn referral(n: u128, need: u128, offer: u128, organisation: &str) -> ReferralState {
    ReferralState {
        id: Uuid::from_u128(n),
        status: Some(ReferralStatus::Proposed),
        need_id: Uuid::from_u128(need),
        offer_id: Uuid::from_u128(offer),
        member_state: "KE".into(),
        organisation: organisation.into(),
        ..ReferralState::default()
    }
}

#[test]
fn overlaps_pair_same_state_theme_beneficiary_and_dates() {
    let n1 = need(1, "KE", 1);
    let mut n2 = need(2, "KE", 2);
    n2.beneficiary_institution = "  border   POLICE ".into();
    let mut n3 = need(3, "KE", 2);
    n3.beneficiary_institution = "Customs".into();
    let o1 = offer(11, "ORG-A");
    let mut o2 = offer(12, "ORG-B");
    o2.countries = vec!["UG".into()];
    let mut o3 = offer(13, "ORG-C");
    o3.valid_from = Some(date("2027-01-01"));
    o3.valid_until = Some(date("2027-12-31"));
    o3.countries = vec!["UG".into()];
    let referrals = vec![
        referral(21, 1, 11, "ORG-A"),
        referral(22, 2, 12, "ORG-B"), // same beneficiary, differently typed: overlaps 21
        referral(23, 3, 12, "ORG-B"), // another beneficiary
        referral(24, 1, 13, "ORG-C"), // same need, but the window starts after 21's ends
    ];
    let project = ProjectState {
        id: Uuid::from_u128(31),
        status: Some(ActivityStatus::Implementation),
        recipient_country: "KE".into(),
        theme: "BOR".into(),
        needs: vec![Uuid::from_u128(2)],
        planned_start: Some(date("2026-03-01")),
        planned_end: Some(date("2026-09-30")),
        participating: vec![Participant {
            organisation: "ORG-B".into(),
            role: "4".into(),
        }],
        ..ProjectState::default()
    };
    let mut rows = overlaps(
        &[n1, n2, n3],
        &[o1, o2, o3],
        &referrals,
        std::slice::from_ref(&project),
    );
    let pairs: Vec<(u128, u128)> = rows
        .iter()
        .map(|r| (r.items[0].id.as_u128(), r.items[1].id.as_u128()))
        .collect();
    assert_eq!(pairs, [(21, 22), (21, 31), (22, 31)]);
    assert_eq!(
        rows[0].beneficiary_institution.as_deref(),
        Some("Border Police")
    );
    // Once referral 22 is activated into the project, the two are one piece of work.
    let mut activated = referrals.clone();
    activated[1].project_id = Some(project.id);
    activated[1].status = Some(ReferralStatus::Active);
    rows = overlaps(
        &[need(1, "KE", 1), {
            let mut n = need(2, "KE", 2);
            n.beneficiary_institution = "Border Police".into();
            n
        }],
        &[offer(11, "ORG-A"), {
            let mut o = offer(12, "ORG-B");
            o.countries = vec!["UG".into()];
            o
        }],
        &activated[..2],
        std::slice::from_ref(&project),
    );
    let pairs: Vec<(u128, u128)> = rows
        .iter()
        .map(|r| (r.items[0].id.as_u128(), r.items[1].id.as_u128()))
        .collect();
    assert_eq!(pairs, [(21, 22), (21, 31)]);
}

#[test]
fn offers_overlap_on_a_named_country_and_theme_in_meeting_windows() {
    let a = offer(1, "ORG-A");
    let mut b = offer(2, "ORG-B");
    b.countries = vec!["KE".into(), "UG".into()];
    b.themes = vec!["BOR".into(), "LEA".into()];
    let mut later = offer(3, "ORG-C");
    later.valid_from = Some(date("2027-01-01"));
    later.valid_until = Some(date("2027-06-30"));
    let mut regional = offer(4, "ORG-D");
    regional.countries = vec![];
    regional.regions = vec!["298".into()];
    let mut withdrawn = offer(5, "ORG-E");
    withdrawn.status = Some(OfferStatus::Withdrawn);
    let rows = overlaps(&[], &[a, b, later, regional, withdrawn], &[], &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].member_state, "KE");
    assert_eq!(rows[0].theme, "BOR");
    assert_eq!(rows[0].beneficiary_institution, None);
    assert_eq!(rows[0].items[0].kind, "offer");
}
