//! Overlap alerts: two referrals, projects or offers for the same State, theme and beneficiary
//! with overlapping dates, shown only to a caller who may see both.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::{Overlap, OverlapItem};
use tatrack_domain::Principal;
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::{OfferState, OfferStatus};
use tatrack_domain::project::{ActivityStatus, ProjectState};
use tatrack_domain::referral::{ReferralState, ReferralStatus};
use uuid::Uuid;

use crate::cache::Views;
use crate::visibility;

/// One side of an overlap while pairing; shown as the contract's `OverlapItem`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    kind: &'static str,
    id: Uuid,
    organisation: String,
    from: Option<Date>,
    until: Option<Date>,
    /// Kept to decide sameness; not shown.
    project_id: Option<Uuid>,
}

impl Item {
    fn shown(&self) -> OverlapItem {
        OverlapItem {
            kind: self.kind.to_owned(),
            id: self.id,
            organisation: self.organisation.clone(),
            from: self.from,
            until: self.until,
        }
    }
}

/// Beneficiary names as people type them: case and spacing do not make another institution.
fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn dates_meet(a: &Item, b: &Item) -> bool {
    // A missing start is open to the past, a missing end open to the future.
    let starts_before_end = |x: &Item, y: &Item| match (x.from, y.until) {
        (Some(from), Some(until)) => from <= until,
        _ => true,
    };
    starts_before_end(a, b) && starts_before_end(b, a)
}

/// The same work seen twice: a referral and the project it was activated into, or two referrals
/// activated into one project.
fn same_work(a: &Item, b: &Item) -> bool {
    let project_of = |x: &Item| {
        if x.kind == "project" {
            Some(x.id)
        } else {
            x.project_id
        }
    };
    project_of(a).is_some() && project_of(a) == project_of(b)
}

/// Every overlap among live referrals (not declined or lapsed), live projects (not closed or
/// cancelled) and live offers (draft, open, partially committed):
///
/// - a referral is for its need's State, theme and beneficiary institution, over its offer's
///   validity window (when the work can happen); a project for its recipient country and theme,
///   for each beneficiary of the needs it serves, over its actual dates (planned where not yet
///   known); two of these overlap when State, theme and beneficiary are the same and the dates
///   meet, unless they are the same work (a referral and the project it became);
/// - an offer has no beneficiary, so two offers overlap when both name the same country (not
///   merely a region: two regional offers over one continent are the norm, not a duplicate) and
///   theme and their windows meet. The row's beneficiary is then empty.
///
/// The states are read in place (the read model's shared snapshots), and needs and offers are
/// looked up by id, so one pass costs the number of states, not states × referrals.
pub(crate) fn overlaps<'a>(
    needs: impl IntoIterator<Item = &'a NeedState>,
    offers: impl IntoIterator<Item = &'a OfferState>,
    referrals: impl IntoIterator<Item = &'a ReferralState>,
    projects: impl IntoIterator<Item = &'a ProjectState>,
) -> Vec<Overlap> {
    let needs: HashMap<Uuid, &NeedState> = needs.into_iter().map(|n| (n.id, n)).collect();
    let offers: Vec<&OfferState> = offers.into_iter().collect();
    let offer_by_id: HashMap<Uuid, &OfferState> = offers.iter().map(|o| (o.id, *o)).collect();
    // (state, theme, beneficiary key) -> (beneficiary as written, items)
    type Key = (String, String, String);
    let mut groups: BTreeMap<Key, (String, Vec<Item>)> = BTreeMap::new();
    let mut add = |state: &str, theme: &str, beneficiary: &str, item: Item| {
        groups
            .entry((state.to_owned(), theme.to_owned(), normalise(beneficiary)))
            .or_insert_with(|| (beneficiary.trim().to_owned(), Vec::new()))
            .1
            .push(item);
    };
    for r in referrals {
        if matches!(
            r.status,
            None | Some(ReferralStatus::Declined | ReferralStatus::Lapsed)
        ) {
            continue;
        }
        let (Some(need), Some(offer)) = (needs.get(&r.need_id), offer_by_id.get(&r.offer_id))
        else {
            continue;
        };
        add(
            &need.member_state,
            &need.theme,
            &need.beneficiary_institution,
            Item {
                kind: "referral",
                id: r.id,
                organisation: r.organisation.clone(),
                from: offer.valid_from,
                until: offer.valid_until,
                project_id: r.project_id,
            },
        );
    }
    for p in projects {
        if matches!(
            p.status,
            None | Some(ActivityStatus::Closed | ActivityStatus::Cancelled)
        ) {
            continue;
        }
        let mut beneficiaries: Vec<&str> = p
            .needs
            .iter()
            .filter_map(|id| needs.get(id))
            .map(|n| n.beneficiary_institution.as_str())
            .collect();
        beneficiaries.sort_by_key(|b| normalise(b));
        beneficiaries.dedup_by_key(|b| normalise(b));
        let organisation = p
            .participating
            .iter()
            .map(|x| x.organisation.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        for beneficiary in beneficiaries {
            add(
                &p.recipient_country,
                &p.theme,
                beneficiary,
                Item {
                    kind: "project",
                    id: p.id,
                    organisation: organisation.clone(),
                    from: p.actual_start.or(p.planned_start),
                    until: p.actual_end.or(p.planned_end),
                    project_id: Some(p.id),
                },
            );
        }
    }
    let mut out = Vec::new();
    for ((state, theme, _), (beneficiary, items)) in groups {
        for (i, a) in items.iter().enumerate() {
            for b in &items[i + 1..] {
                if a.id != b.id && dates_meet(a, b) && !same_work(a, b) {
                    out.push(Overlap {
                        member_state: state.clone(),
                        theme: theme.clone(),
                        beneficiary_institution: Some(beneficiary.clone()),
                        items: [a.shown(), b.shown()],
                    });
                }
            }
        }
    }
    let live: Vec<&OfferState> = offers
        .iter()
        .copied()
        .filter(|o| {
            matches!(
                o.status,
                Some(OfferStatus::Draft | OfferStatus::Open | OfferStatus::PartiallyCommitted)
            )
        })
        .collect();
    let offer_item = |o: &OfferState| Item {
        kind: "offer",
        id: o.id,
        organisation: o.organisation.clone(),
        from: o.valid_from,
        until: o.valid_until,
        project_id: None,
    };
    for (i, a) in live.iter().enumerate() {
        for b in &live[i + 1..] {
            let (ia, ib) = (offer_item(a), offer_item(b));
            if !dates_meet(&ia, &ib) {
                continue;
            }
            for country in a.countries.iter().filter(|c| b.countries.contains(c)) {
                for theme in a.themes.iter().filter(|t| b.themes.contains(t)) {
                    out.push(Overlap {
                        member_state: country.clone(),
                        theme: theme.clone(),
                        beneficiary_institution: None,
                        items: [ia.shown(), ib.shown()],
                    });
                }
            }
        }
    }
    out.sort_by(|x, y| {
        (
            &x.member_state,
            &x.theme,
            &x.beneficiary_institution,
            x.items[0].id,
            x.items[1].id,
        )
            .cmp(&(
                &y.member_state,
                &y.theme,
                &y.beneficiary_institution,
                y.items[0].id,
                y.items[1].id,
            ))
    });
    out
}

/// `overlap_list`: the overlaps whose both items the caller may see (a donor sees a row only
/// when both items are its own organisation's; it is never told what another donor does), for
/// one State, and involving one item (`id`: a referral, offer or project) when asked.
pub(crate) fn overlap_list(
    views: &Views,
    principal: &Principal,
    member_state: Option<&str>,
    id: Option<&str>,
) -> Result<Vec<Overlap>, ErrorBody> {
    let id = id
        .map(|t| {
            t.parse::<Uuid>()
                .map_err(|_| ErrorBody::invalid("id", &format!("{t:?} is not a UUID")))
        })
        .transpose()?;
    let needs = views.scan::<NeedState>("assessments", "need")?;
    let offers = views.scan::<OfferState>("partners", "offer")?;
    let referrals = views.scan::<ReferralState>("projects", "referral")?;
    let projects = views.scan::<ProjectState>("projects", "project")?;
    let referral_by_id: HashMap<Uuid, &ReferralState> =
        referrals.iter().map(|r| (r.id, r)).collect();
    let project_by_id: HashMap<Uuid, &ProjectState> = projects.iter().map(|p| (p.id, p)).collect();
    let sees = |item: &OverlapItem| match item.kind.as_str() {
        "referral" => referral_by_id
            .get(&item.id)
            .is_some_and(|r| visibility::sees_referral(principal, r)),
        "project" => project_by_id
            .get(&item.id)
            .is_some_and(|p| visibility::sees_project(principal, p)),
        _ => principal.may_see_organisation(&item.organisation),
    };
    Ok(overlaps(
        needs.iter(),
        offers.iter(),
        referrals.iter(),
        projects.iter(),
    )
    .into_iter()
    .filter(|o| {
        member_state.is_none_or(|m| m == o.member_state)
            && id.is_none_or(|id| o.items.iter().any(|i| i.id == id))
            && o.items.iter().all(&sees)
    })
    .collect())
}
