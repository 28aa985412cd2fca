//! Matching: which offers could serve a need and which needs an offer could serve, each scored out
//! of 100 with the explanation of every point and a ready `referral_propose` body; and overlap
//! alerts (two referrals, offers or projects for the same State, theme and beneficiary with
//! overlapping dates). The scoring is pure; the `*_list` functions read the projections.
//!
//! Eligibility is what the projects service checks when a referral is proposed (the domain's
//! `referral::pair_refusals`: no open referral of the pair, need agreed and not covered, shared
//! with the offer's organisation; `offer::covers`; something left to give; money in another
//! currency only with a recorded rate), so a suggestion is one a coordinator can turn into a
//! referral. Points rank the eligible ones:
//!
//! | criterion | points | |
//! |---|---|---|
//! | theme | 15 | required |
//! | place | 15 / 10 | the country listed / only through one of its DAC regions |
//! | modality | 10 | required |
//! | money, units | 30 | what the offer has left against what the need still lacks (split between the need's measures); money compared in the need's currency, another currency only with a rate (required) |
//! | window | 10 | valid on `as_of` (required); full points with 180 days or more left from `as_of` |
//! | language | 5 | when the caller names one (`language`) |
//! | track record | 10 | 5 per project of the organisation in that country, up to two |
//! | priority | 5 | 5 / 3 / 1 for the need's priority 1 / 2 / 3 (ranks needs for an offer) |
//!
//! Everything is as of one business date, `as_of`, which the caller gives (the query's `today` or
//! `as_of`, else the day it is asked): grants, validity windows and exchange rates. Nothing here
//! reads the clock. A need has no date of its own: it is wanted as of that date, so the window is
//! scored by how long the offer still runs from `as_of`. Pending referrals (proposed, referred,
//! accepted by the partner) do not reduce what is left, as the projects service counts only
//! accepted ones; an offer with an open referral for the same need (any not declined or lapsed)
//! is left out instead, as the projects service refuses a second one as a duplicate.
//!
//! Money is whole minor units and rates are exact ratios (`rates::Ratio`), never floats. An offer
//! budgeted in another currency than the need's cost is converted with the exchange-rate table
//! in force on `as_of` (the latest dated on or before it; rates are units per US dollar) and
//! scored in the need's currency; the money line shows both amounts, each in its own currency,
//! with the rates and the table's date: `the offer has 100000.00 EUR left (108695.65 USD at 0.92
//! EUR per USD, rates of 2026-06-01); the need lacks 50000.00 USD`. The share a referral would
//! propose stays in the offer's currency (it is what the offer gives), at most what the need
//! lacks converted the other way. With no rate for either currency in that table, the pair is
//! ineligible with field `currency` and `no EUR→USD rate recorded (record one with: tatrack rates
//! record --on ...)` (the offer's currency to the need's), since the projects service would
//! refuse the referral's money share for the same cause.
//!
//! `score` holds the rules and the points (pure), `load` what a request reads, `overlap` the
//! alerts; this module answers `need_match_list` and `offer_match_list` with the contract's
//! `NeedMatches` and `OfferMatches`.

mod load;
mod overlap;
mod score;
#[cfg(test)]
mod tests;

use jiff::civil::Date;
use serde_json::Value;
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_contract::answers::{Ineligible, NeedMatches, OfferMatches, Reason, Suggestion};
use tatrack_domain::Principal;
use tatrack_domain::need::{NeedState, NeedStatus};
use tatrack_domain::offer::OfferState;
use tatrack_domain::referral::ReferralState;
use uuid::Uuid;

pub(crate) use load::Loaded;
pub(crate) use overlap::overlap_list;
pub(crate) use score::{Scored, Verdict, assess, lacking, propose_body};

use crate::cache::Views;
use crate::visibility::Consent;

/// `true`/`false`, as JSON or as text (the gateway passes query strings as text).
pub(crate) fn flag(field: &str, value: Option<&Value>) -> Result<bool, ErrorBody> {
    match value {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(other) => Err(ErrorBody::invalid(
            field,
            &format!("{other} is not true or false"),
        )),
    }
}

/// An ISO 639-1 code in lower case, as offers list their languages.
pub(crate) fn language(value: Option<&str>) -> Result<Option<&str>, ErrorBody> {
    match value {
        Some(l) if l.len() != 2 || !l.bytes().all(|b| b.is_ascii_lowercase()) => {
            Err(ErrorBody::invalid(
                "language",
                &format!("{l:?} is not an ISO 639-1 code like \"en\""),
            ))
        }
        other => Ok(other),
    }
}

fn not_found(field: &str, what: &str, id: Uuid) -> ErrorBody {
    ErrorBody {
        field: Some(field.to_owned()),
        ..ErrorBody::new(ErrorCode::NotFound, format!("{what} {id} not found"))
    }
}

fn required(field: &str) -> ErrorBody {
    ErrorBody::invalid(field, "is required")
}

/// A scored pair as a suggestion, with the referral that would make it.
fn suggestion(
    need: &NeedState,
    offer: &OfferState,
    s: Scored,
    referrals: &[ReferralState],
) -> Suggestion {
    Suggestion {
        need_id: need.id,
        offer_id: offer.id,
        organisation: offer.organisation.clone(),
        title: offer.title.clone(),
        member_state: need.member_state.clone(),
        theme: need.theme.clone(),
        priority: need.priority,
        beneficiary_institution: need.beneficiary_institution.clone(),
        referral_propose: propose_body(
            need,
            offer,
            s.share_money.as_ref(),
            s.share_units,
            referrals,
        ),
        score: s.score,
        max_score: s.max_score,
        explanation: s.explanation,
    }
}

/// A pair left out, with every reason.
fn ineligible(need: &NeedState, offer: &OfferState, reasons: Vec<Reason>) -> Ineligible {
    Ineligible {
        need_id: need.id,
        offer_id: offer.id,
        organisation: offer.organisation.clone(),
        title: offer.title.clone(),
        reasons,
    }
}

/// Best first; equal scores by id (oldest first), so the order is stable.
fn rank(out: &mut [Suggestion], key: impl Fn(&Suggestion) -> Uuid) {
    out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| key(a).cmp(&key(b))));
}

/// `need_match_list`: the offers that could serve `need_id` on `as_of`, ranked.
pub(crate) fn need_match_list(
    views: &Views,
    principal: &Principal,
    consent: &Consent,
    as_of: Date,
    need_id: Option<Uuid>,
    include_ineligible: Option<&Value>,
    language: Option<&str>,
) -> Result<NeedMatches, ErrorBody> {
    let need_id = need_id.ok_or_else(|| required("need_id"))?;
    let include_ineligible = flag("include_ineligible", include_ineligible)?;
    let language = self::language(language)?;
    let data = Loaded::load_needs(views, principal, consent, Some(need_id))?;
    let need = data
        .needs
        .iter()
        .find(|n| n.id == need_id)
        .ok_or_else(|| not_found("need_id", "need", need_id))?;
    let cx = data.context(as_of, language);
    let mut suggestions = Vec::new();
    let mut left = Vec::new();
    for offer in &data.offers {
        match assess(need, offer, &cx) {
            Verdict::Eligible(s) => {
                suggestions.push(suggestion(need, offer, s, &data.referrals));
            }
            Verdict::Ineligible(reasons) => left.push(ineligible(need, offer, reasons)),
        }
    }
    rank(&mut suggestions, |s| s.offer_id);
    Ok(NeedMatches {
        need_id: need.id,
        member_state: need.member_state.clone(),
        theme: need.theme.clone(),
        referable: need.is_referable(),
        suggestions,
        ineligible: include_ineligible.then_some(left),
    })
}

/// `offer_match_list`: the unmet needs `offer_id` could serve on `as_of`, ranked the same way. A
/// donor asks only about its own organisation's offers, among the needs shared with it.
pub(crate) fn offer_match_list(
    views: &Views,
    principal: &Principal,
    consent: &Consent,
    as_of: Date,
    offer_id: Option<Uuid>,
    include_ineligible: Option<&Value>,
    language: Option<&str>,
) -> Result<OfferMatches, ErrorBody> {
    let offer_id = offer_id.ok_or_else(|| required("offer_id"))?;
    let include_ineligible = flag("include_ineligible", include_ineligible)?;
    let language = self::language(language)?;
    let data = Loaded::load(views, principal, consent)?;
    let offer = data
        .offers
        .iter()
        .find(|o| o.id == offer_id)
        .ok_or_else(|| not_found("offer_id", "offer", offer_id))?;
    let cx = data.context(as_of, language);
    let mut suggestions = Vec::new();
    let mut left = Vec::new();
    let open = data.needs.iter().filter(|n| {
        matches!(
            n.status,
            Some(
                NeedStatus::Identified | NeedStatus::AgreedWithState | NeedStatus::PartiallyCovered
            )
        )
    });
    for need in open {
        match assess(need, offer, &cx) {
            Verdict::Eligible(s) => {
                suggestions.push(suggestion(need, offer, s, &data.referrals));
            }
            Verdict::Ineligible(reasons) => left.push(ineligible(need, offer, reasons)),
        }
    }
    rank(&mut suggestions, |s| s.need_id);
    Ok(OfferMatches {
        offer_id: offer.id,
        organisation: offer.organisation.clone(),
        suggestions,
        ineligible: include_ineligible.then_some(left),
    })
}
