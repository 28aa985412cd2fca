//! The access matrix: every role × every route of the contract's table
//! (`tatrack_contract::routes::routes()`, the table the gateway serves) × ORG-OWN's / Kenya's
//! object and another's, over HTTP, with the exact answer. The rows are `expected_view` and
//! `expected_command` (by the view or verb a route runs), whose fallback arms panic, so a route
//! added without a row fails this test. Every answer is checked against the OpenAPI document by
//! the client; a creation's `Location` is followed where a GET route serves it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tatrack_bus::rpc::RequestMeta;
use tatrack_contract::routes::{self, Target};
use tatrack_domain::{Principal, Role};
use tatrack_gateway::token;
use tatrack_tests::gateway::Gateway;
use tatrack_tests::*;
use uuid::Uuid;

use super::{admin, heads};

/// Who asks, in the access matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Coordinator,
    /// A donor of ORG-OWN, whose offer, referral and project the fixture calls "own".
    DonorOwn,
    DonorOther,
    /// A focal point of Kenya, the State of the "own" objects.
    StateOwn,
    /// A focal point of France.
    StateOther,
    Auditor,
}

const EVERYONE: [Who; 7] = [
    Who::Admin,
    Who::Coordinator,
    Who::DonorOwn,
    Who::DonorOther,
    Who::StateOwn,
    Who::StateOther,
    Who::Auditor,
];

const OWN_ORG: &str = "ORG-OWN";
const OTHER_ORG: &str = "ORG-OTHER";

impl Who {
    fn scope(self) -> (Role, Option<&'static str>, Option<&'static str>) {
        match self {
            Who::Admin => (Role::Admin, None, None),
            Who::Coordinator => (Role::Coordinator, None, None),
            Who::DonorOwn => (Role::Donor, Some(OWN_ORG), None),
            Who::DonorOther => (Role::Donor, Some(OTHER_ORG), None),
            Who::StateOwn => (Role::StateFocalPoint, None, Some("KE")),
            Who::StateOther => (Role::StateFocalPoint, None, Some("FR")),
            Who::Auditor => (Role::Auditor, None, None),
        }
    }

    /// The same principal as its token carries, for fixtures sent straight over NATS.
    fn principal(self) -> Principal {
        let (role, organisation, member_state) = self.scope();
        principal(role, organisation, member_state)
    }
}

/// What a one-object view is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    /// A list: no one object.
    All,
    /// ORG-OWN's, or Kenya's (for needs: the one Kenya shared with ORG-OWN).
    Own,
    /// ORG-OTHER's, or France's (for needs: Kenya's need shared with no one).
    Other,
}

/// The fixture's objects, as the rows name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    AssessmentKe,
    AssessmentFr,
    RecommendationKe,
    RecommendationFr,
    /// Confidential recommendation text, and the mark that stands in for it when redacted.
    TextKe,
    TextFr,
    Redacted,
    /// Kenya's needs: shared with ORG-OWN, shared with no one, shared with ORG-OTHER, shared
    /// with ORG-OWN by a grant since revoked, by a grant since expired, shared with all donors;
    /// shared with ORG-OWN by a grant revoked while ORG-OWN's referral for it is in progress
    /// (consent runs with the work: ORG-OWN keeps seeing it).
    NeedShared,
    NeedUnshared,
    NeedOther,
    NeedRevoked,
    NeedExpired,
    NeedAllDonors,
    NeedKept,
    NeedFr,
    GrantShared,
    GrantOther,
    /// Kenya's and France's rows of the recommendation rates.
    RatesKe,
    RatesFr,
    OrgOwn,
    OrgOther,
    OfferOwn,
    OfferOther,
    /// ORG-OWN's referral (accepted by partner and State) for the shared need; ORG-OTHER's
    /// (referred) for the need shared with it; ORG-OWN's (referred) for the kept need.
    ReferralOwn,
    ReferralOther,
    ReferralKept,
    /// ORG-OWN's project in Kenya (serving the shared need); ORG-OTHER's in France.
    ProjectOwn,
    ProjectOther,
    ReportOwn,
    ReportOther,
    RateTable,
    /// The coordinator's access token, and its hash, which no view may ever show.
    Token,
    TokenHash,
    /// An active account with an open invitation (a reset), and its password's and open
    /// invitation's hashes, which no view may ever show either.
    Account,
    PasswordHash,
    InvitationHash,
    /// Summaries made (through the gateway) by ORG-OWN's and ORG-OTHER's donors as of 2026-12-31;
    /// a transaction dated 2026-10-01 is recorded on each donor's project after both.
    SummaryOwn,
    SummaryOther,
    /// The read model's positions, in the form `known_at` takes.
    Positions,
}

/// A view's expected answer: the status, and (for 200) the fixture objects the answer holds and
/// those it must not.
#[derive(Debug)]
struct Expect {
    status: StatusCode,
    shows: Vec<Item>,
    hides: Vec<Item>,
}

fn seen(shows: &[Item], hides: &[Item]) -> Expect {
    Expect {
        status: StatusCode::OK,
        shows: shows.to_vec(),
        hides: hides.to_vec(),
    }
}

/// What the caller may not see is answered as not found (DESIGN §6).
fn not_found() -> Expect {
    Expect {
        status: StatusCode::NOT_FOUND,
        shows: Vec::new(),
        hides: Vec::new(),
    }
}

fn show(visible: bool, item: Item) -> Expect {
    if visible {
        seen(&[item], &[])
    } else {
        not_found()
    }
}

/// A one-object view's own and other's object (its path's `{id}`); `None` for a list.
fn target(view: &str) -> Option<(Item, Item)> {
    use Item as I;
    Some(match view {
        "assessment_show" => (I::AssessmentKe, I::AssessmentFr),
        "need_show" | "need_history" | "need_match_list" | "stream_version_show" => {
            (I::NeedShared, I::NeedUnshared)
        }
        "organisation_show" | "portfolio_show" => (I::OrgOwn, I::OrgOther),
        "offer_show" | "offer_match_list" => (I::OfferOwn, I::OfferOther),
        "referral_show" => (I::ReferralOwn, I::ReferralOther),
        "project_show" => (I::ProjectOwn, I::ProjectOther),
        "change_list" | "report_show" => (I::SummaryOwn, I::SummaryOther),
        _ => return None,
    })
}

/// The access rows for views (visibility.rs, queries.rs, matching.rs, allocation.rs; DESIGN §1 and
/// §6): staff and auditors see everything (auditors without confidential text), a State focal
/// point its own country's assessments, recommendations, needs, grants, referrals and projects but
/// no offers, a donor only the needs shared with it and its own offers, referrals and projects.
#[allow(
    clippy::too_many_lines,
    reason = "one row per view, kept together so the matrix reads as one table"
)]
fn expected_view(view: &str, who: Who, object: Object) -> Expect {
    use Item as I;
    use Object as O;
    use Who as W;
    let staff_or_auditor = matches!(who, W::Admin | W::Coordinator | W::Auditor);
    match (view, object) {
        ("assessment_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => {
                seen(&[I::AssessmentKe, I::AssessmentFr], &[])
            }
            W::StateOwn => seen(&[I::AssessmentKe], &[I::AssessmentFr]),
            W::StateOther => seen(&[I::AssessmentFr], &[I::AssessmentKe]),
            // Kenya shared its assessment report with ORG-OWN (a grant with scope
            // `assessment_report`, DESIGN §2): that donor sees it; no donor sees another.
            W::DonorOwn => seen(&[I::AssessmentKe], &[I::AssessmentFr]),
            W::DonorOther => seen(&[], &[I::AssessmentKe, I::AssessmentFr]),
        },
        ("assessment_show", O::Own) => show(
            staff_or_auditor || matches!(who, W::StateOwn | W::DonorOwn),
            I::AssessmentKe,
        ),
        ("assessment_show", O::Other) => {
            show(staff_or_auditor || who == W::StateOther, I::AssessmentFr)
        }
        // Recommendation text is confidential: staff and the State concerned read it, auditors
        // get the mark instead; a donor reads only the recommendations of a report the State
        // shared with it, text included (the State chose to share them).
        ("recommendation_list", O::All) => match who {
            W::Admin | W::Coordinator => seen(
                &[
                    I::RecommendationKe,
                    I::RecommendationFr,
                    I::TextKe,
                    I::TextFr,
                ],
                &[I::Redacted],
            ),
            W::Auditor => seen(
                &[I::RecommendationKe, I::RecommendationFr, I::Redacted],
                &[I::TextKe, I::TextFr],
            ),
            W::StateOwn => seen(
                &[I::RecommendationKe, I::TextKe],
                &[I::RecommendationFr, I::TextFr, I::Redacted],
            ),
            W::StateOther => seen(
                &[I::RecommendationFr, I::TextFr],
                &[I::RecommendationKe, I::TextKe, I::Redacted],
            ),
            W::DonorOwn => seen(
                &[I::RecommendationKe, I::TextKe],
                &[I::RecommendationFr, I::TextFr, I::Redacted],
            ),
            W::DonorOther => seen(
                &[],
                &[
                    I::RecommendationKe,
                    I::RecommendationFr,
                    I::TextKe,
                    I::TextFr,
                ],
            ),
        },
        ("recommendation_rate_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => seen(&[I::RatesKe, I::RatesFr], &[]),
            W::StateOwn => seen(&[I::RatesKe], &[I::RatesFr]),
            W::StateOther => seen(&[I::RatesFr], &[I::RatesKe]),
            W::DonorOwn | W::DonorOther => seen(&[], &[I::RatesKe, I::RatesFr]),
        },
        // Every need in these lists is unmet, so both lists answer alike.
        ("need_list" | "unmet_need_list", O::All) => {
            let (shows, hides) = needs_for(who);
            seen(&shows, &hides)
        }
        // The detail carries the need's referrals and the projects serving it.
        ("need_show", O::Own) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::StateOwn | W::DonorOwn => {
                seen(&[I::NeedShared, I::ReferralOwn, I::ProjectOwn], &[])
            }
            W::DonorOther | W::StateOther => not_found(),
        },
        ("need_show", O::Other) => show(staff_or_auditor || who == W::StateOwn, I::NeedUnshared),
        // The audit trail: seen exactly as the need is, with the events of the referral and
        // project the caller may see; who sent them only by role for all but staff and auditors.
        ("need_history", O::Own) => match who {
            W::Admin | W::Coordinator | W::Auditor => {
                seen(&[I::NeedShared, I::ReferralOwn, I::ProjectOwn], &[])
            }
            W::StateOwn | W::DonorOwn => {
                seen(&[I::NeedShared, I::ReferralOwn, I::ProjectOwn], &[I::Token])
            }
            W::DonorOther | W::StateOther => not_found(),
        },
        ("need_history", O::Other) => show(staff_or_auditor || who == W::StateOwn, I::NeedUnshared),
        // Consent records: not for donors (they would learn whom else a State shares with).
        ("sharing_grant_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::StateOwn => {
                seen(&[I::GrantShared, I::GrantOther], &[])
            }
            W::StateOther | W::DonorOwn | W::DonorOther => {
                seen(&[], &[I::GrantShared, I::GrantOther])
            }
        },
        // The registry of organisations is public to every role.
        ("organisation_list", O::All) => seen(&[I::OrgOwn, I::OrgOther], &[]),
        ("organisation_show", O::Own) => show(true, I::OrgOwn),
        ("organisation_show", O::Other) => show(true, I::OrgOther),
        ("offer_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => seen(&[I::OfferOwn, I::OfferOther], &[]),
            W::DonorOwn => seen(&[I::OfferOwn], &[I::OfferOther]),
            W::DonorOther => seen(&[I::OfferOther], &[I::OfferOwn]),
            // Both offers are referred to Kenyan needs: Kenya's focal point is asked to accept
            // them as the State, so it sees them; France's sees none.
            W::StateOwn => seen(&[I::OfferOwn, I::OfferOther], &[]),
            W::StateOther => seen(&[], &[I::OfferOwn, I::OfferOther]),
        },
        ("offer_show", O::Own) => show(
            staff_or_auditor || matches!(who, W::DonorOwn | W::StateOwn),
            I::OfferOwn,
        ),
        ("offer_show", O::Other) => show(
            staff_or_auditor || matches!(who, W::DonorOther | W::StateOwn),
            I::OfferOther,
        ),
        ("portfolio_show", O::Own) => {
            if staff_or_auditor || who == W::DonorOwn {
                seen(
                    &[I::OfferOwn, I::ReferralOwn, I::ReferralKept, I::ProjectOwn],
                    &[I::OfferOther, I::ReferralOther, I::ProjectOther],
                )
            } else {
                not_found()
            }
        }
        ("portfolio_show", O::Other) => {
            if staff_or_auditor || who == W::DonorOther {
                seen(
                    &[I::OfferOther, I::ReferralOther, I::ProjectOther],
                    &[I::OfferOwn, I::ReferralOwn, I::ReferralKept, I::ProjectOwn],
                )
            } else {
                not_found()
            }
        }
        // Both referrals are for Kenya's needs.
        ("referral_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::StateOwn => {
                seen(&[I::ReferralOwn, I::ReferralOther, I::ReferralKept], &[])
            }
            W::DonorOwn => seen(&[I::ReferralOwn, I::ReferralKept], &[I::ReferralOther]),
            W::DonorOther => seen(&[I::ReferralOther], &[I::ReferralOwn, I::ReferralKept]),
            W::StateOther => seen(&[], &[I::ReferralOwn, I::ReferralOther, I::ReferralKept]),
        },
        ("referral_show", O::Own) => show(
            staff_or_auditor || matches!(who, W::DonorOwn | W::StateOwn),
            I::ReferralOwn,
        ),
        ("referral_show", O::Other) => show(
            staff_or_auditor || matches!(who, W::DonorOther | W::StateOwn),
            I::ReferralOther,
        ),
        ("project_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => seen(&[I::ProjectOwn, I::ProjectOther], &[]),
            W::DonorOwn | W::StateOwn => seen(&[I::ProjectOwn], &[I::ProjectOther]),
            W::DonorOther | W::StateOther => seen(&[I::ProjectOther], &[I::ProjectOwn]),
        },
        ("project_show", O::Own) => show(
            staff_or_auditor || matches!(who, W::DonorOwn | W::StateOwn),
            I::ProjectOwn,
        ),
        ("project_show", O::Other) => show(
            staff_or_auditor || matches!(who, W::DonorOther | W::StateOther),
            I::ProjectOther,
        ),
        // A progress report is seen with its project.
        ("progress_report_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => seen(&[I::ReportOwn, I::ReportOther], &[]),
            W::DonorOwn | W::StateOwn => seen(&[I::ReportOwn], &[I::ReportOther]),
            W::DonorOther | W::StateOther => seen(&[I::ReportOther], &[I::ReportOwn]),
        },
        // Exchange rates are no one's secret.
        ("rate_table_show", O::All) => seen(&[I::RateTable], &[]),
        // Admins list tokens (never their hashes); to anyone else the list is empty.
        ("token_list", O::All) => match who {
            W::Admin => seen(&[I::Token], &[I::TokenHash]),
            W::Coordinator
            | W::DonorOwn
            | W::DonorOther
            | W::StateOwn
            | W::StateOther
            | W::Auditor => seen(&[], &[I::Token, I::TokenHash]),
        },
        // Admins list accounts (never a hash); to anyone else the list is empty.
        ("account_list", O::All) => match who {
            W::Admin => seen(&[I::Account], &[I::PasswordHash, I::InvitationHash]),
            W::Coordinator
            | W::DonorOwn
            | W::DonorOther
            | W::StateOwn
            | W::StateOther
            | W::Auditor => seen(&[], &[I::Account, I::PasswordHash, I::InvitationHash]),
        },
        // Asked with `include_ineligible=true`, so every offer the caller may see is in the
        // answer, eligible or not: what is absent is absent because of access. A State sees its
        // need but no offers.
        ("need_match_list", O::Own) => match who {
            W::Admin | W::Coordinator | W::Auditor => {
                seen(&[I::NeedShared, I::OfferOwn, I::OfferOther], &[])
            }
            W::DonorOwn => seen(&[I::NeedShared, I::OfferOwn], &[I::OfferOther]),
            W::StateOwn => seen(&[I::NeedShared], &[I::OfferOwn, I::OfferOther]),
            W::DonorOther | W::StateOther => not_found(),
        },
        ("need_match_list", O::Other) => match who {
            W::Admin | W::Coordinator | W::Auditor => {
                seen(&[I::NeedUnshared, I::OfferOwn, I::OfferOther], &[])
            }
            W::StateOwn => seen(&[I::NeedUnshared], &[I::OfferOwn, I::OfferOther]),
            W::DonorOwn | W::DonorOther | W::StateOther => not_found(),
        },
        // The open needs the caller may see, eligible or not; an offer only to those who see it.
        ("offer_match_list", O::Own) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::DonorOwn => {
                let (needs, hides) = needs_for(who);
                seen(&[&[I::OfferOwn], &needs[..]].concat(), &hides)
            }
            W::DonorOther | W::StateOwn | W::StateOther => not_found(),
        },
        ("offer_match_list", O::Other) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::DonorOther => {
                let (needs, hides) = needs_for(who);
                seen(&[&[I::OfferOther], &needs[..]].concat(), &hides)
            }
            W::DonorOwn | W::StateOwn | W::StateOther => not_found(),
        },
        // Every referable need the caller may see has a row; assignments use only the offers it
        // may see.
        ("allocation_proposal", O::All) => {
            let (needs, hidden_needs) = needs_for(who);
            let hidden_offers: &[Item] = match who {
                W::Admin | W::Coordinator | W::Auditor => &[],
                W::DonorOwn => &[I::OfferOther],
                W::DonorOther => &[I::OfferOwn],
                W::StateOwn | W::StateOther => &[I::OfferOwn, I::OfferOther],
            };
            seen(&needs, &[&hidden_needs[..], hidden_offers].concat())
        }
        // The fixture's overlaps, all in Kenya on BOR for the "Border Police Unit": the two
        // offers; the two referrals; each referral with ORG-OWN's project. A row is shown only
        // when the caller may see both of its items.
        ("overlap_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => seen(
                &[
                    I::OfferOwn,
                    I::OfferOther,
                    I::ReferralOwn,
                    I::ReferralOther,
                    I::ProjectOwn,
                ],
                &[],
            ),
            W::DonorOwn => seen(
                &[I::ReferralOwn, I::ProjectOwn],
                &[I::OfferOwn, I::OfferOther, I::ReferralOther],
            ),
            W::StateOwn => seen(
                &[I::ReferralOwn, I::ReferralOther, I::ProjectOwn],
                &[I::OfferOwn, I::OfferOther],
            ),
            W::DonorOther | W::StateOther => seen(
                &[],
                &[
                    I::OfferOwn,
                    I::OfferOther,
                    I::ReferralOwn,
                    I::ReferralOther,
                    I::ProjectOwn,
                ],
            ),
        },
        // The overview is totals, and the needs waiting for an offer among them: never a need
        // the caller may not see (which need waits depends on the fixture's dates, so only what
        // must be hidden is checked here; the console's tests check the figures).
        ("overview_show", O::All) => {
            let (_, hides) = needs_for(who);
            seen(&[], &hides)
        }
        // A stream's version is seen exactly when its object is (asked here of the needs'
        // streams, `need-<id>`): the answer names the stream, so it holds the need's id.
        ("stream_version_show", o) => {
            let need = expected_view("need_show", who, o);
            Expect {
                status: need.status,
                shows: need
                    .shows
                    .into_iter()
                    .filter(|i| matches!(i, I::NeedShared | I::NeedUnshared))
                    .collect(),
                hides: Vec::new(),
            }
        }
        // How far the read model has applied each stream is no one's secret.
        ("position_show", O::All) => seen(&[I::Positions], &[]),
        // Who the token says the caller is: everyone sees itself, a donor its organisation.
        ("principal_show", O::All) => match who {
            W::DonorOwn => seen(&[I::OrgOwn], &[I::OrgOther]),
            W::DonorOther => seen(&[I::OrgOther], &[I::OrgOwn]),
            _ => seen(&[], &[I::OrgOwn, I::OrgOther]),
        },
        // What was recorded since a report was made that changes its figures: for the report's
        // requester (the token that made it), staff and auditors; each sees only the changes it
        // may see today. Both reports have a late transaction on ORG-OWN's and on ORG-OTHER's
        // project among their changes.
        ("change_list", O::Own) => match who {
            W::Admin | W::Coordinator | W::Auditor => {
                seen(&[I::SummaryOwn, I::ProjectOwn, I::ProjectOther], &[])
            }
            W::DonorOwn => seen(&[I::SummaryOwn, I::ProjectOwn], &[I::ProjectOther]),
            W::DonorOther | W::StateOwn | W::StateOther => not_found(),
        },
        ("change_list", O::Other) => match who {
            W::Admin | W::Coordinator | W::Auditor => {
                seen(&[I::SummaryOther, I::ProjectOwn, I::ProjectOther], &[])
            }
            W::DonorOther => seen(&[I::SummaryOther, I::ProjectOther], &[I::ProjectOwn]),
            W::DonorOwn | W::StateOwn | W::StateOther => not_found(),
        },
        // A report made is its requester's (here each donor made one), and the staff's and
        // auditors'.
        ("report_list", O::All) => match who {
            W::Admin | W::Coordinator | W::Auditor => seen(&[I::SummaryOwn, I::SummaryOther], &[]),
            W::DonorOwn => seen(&[I::SummaryOwn], &[I::SummaryOther]),
            W::DonorOther => seen(&[I::SummaryOther], &[I::SummaryOwn]),
            W::StateOwn | W::StateOther => seen(&[], &[I::SummaryOwn, I::SummaryOther]),
        },
        ("report_show", O::Own) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::DonorOwn => seen(&[I::SummaryOwn], &[]),
            W::DonorOther | W::StateOwn | W::StateOther => not_found(),
        },
        ("report_show", O::Other) => match who {
            W::Admin | W::Coordinator | W::Auditor | W::DonorOther => seen(&[I::SummaryOther], &[]),
            W::DonorOwn | W::StateOwn | W::StateOther => not_found(),
        },
        _ => panic!("no access row for view {view} (asked about {object:?})"),
    }
}

/// Every need of the fixture, split into those `who` may see and those it may not: a donor sees a
/// need while an unexpired, unrevoked grant shares it with its organisation or all donors, and
/// (new) while its organisation's referral for it is in progress, whatever became of the grant.
fn needs_for(who: Who) -> (Vec<Item>, Vec<Item>) {
    use Item as I;
    [
        I::NeedShared,
        I::NeedUnshared,
        I::NeedOther,
        I::NeedRevoked,
        I::NeedExpired,
        I::NeedAllDonors,
        I::NeedKept,
        I::NeedFr,
    ]
    .into_iter()
    .partition(|need| match who {
        Who::Admin | Who::Coordinator | Who::Auditor => true,
        Who::StateOwn => *need != I::NeedFr,
        Who::StateOther => *need == I::NeedFr,
        Who::DonorOwn => matches!(need, I::NeedShared | I::NeedAllDonors | I::NeedKept),
        Who::DonorOther => matches!(need, I::NeedOther | I::NeedAllDonors),
    })
}

/// What `who` may see in no answer of any view; checked in every 200 it gets, on top of its row:
/// the needs hidden from it (`needs_for`) and the items below.
fn never(who: Who) -> Vec<Item> {
    use Item as I;
    let others: &[Item] = match who {
        Who::Admin | Who::Coordinator => &[I::TokenHash],
        Who::Auditor => &[I::TextKe, I::TextFr, I::TokenHash],
        // ORG-OWN was shared Kenya's report (assessment and recommendation text), not France's.
        Who::DonorOwn => &[
            I::TextFr,
            I::TokenHash,
            I::AssessmentFr,
            I::RecommendationFr,
            I::GrantShared,
            I::GrantOther,
            I::OfferOther,
            I::ReferralOther,
            I::ProjectOther,
            I::ReportOther,
            I::SummaryOther,
        ],
        Who::DonorOther => &[
            I::TextKe,
            I::TextFr,
            I::TokenHash,
            I::AssessmentKe,
            I::AssessmentFr,
            I::RecommendationFr,
            I::GrantShared,
            I::GrantOther,
            I::OfferOwn,
            I::ReferralOwn,
            I::ReferralKept,
            I::ProjectOwn,
            I::ReportOwn,
            I::SummaryOwn,
        ],
        Who::StateOwn => &[
            I::TextFr,
            I::TokenHash,
            I::AssessmentFr,
            I::RecommendationFr,
            I::ProjectOther,
            I::ReportOther,
            I::SummaryOwn,
            I::SummaryOther,
        ],
        Who::StateOther => &[
            I::TextKe,
            I::TokenHash,
            I::AssessmentKe,
            I::RecommendationKe,
            I::GrantShared,
            I::GrantOther,
            I::OfferOwn,
            I::OfferOther,
            I::ReferralOwn,
            I::ReferralOther,
            I::ReferralKept,
            I::ProjectOwn,
            I::ReportOwn,
            I::SummaryOwn,
            I::SummaryOther,
        ],
    };
    let (_, needs) = needs_for(who);
    let hashes = [I::PasswordHash, I::InvitationHash];
    needs
        .into_iter()
        .chain(others.iter().copied())
        .chain(hashes)
        .collect()
}

/// What a command gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 200, and it wrote.
    Allowed,
    /// 403, and it wrote nothing.
    Forbidden,
}

/// The access rows for commands (each service's access.rs; DESIGN §1, ARCHITECTURE "Access"),
/// for a body aimed at ORG-OWN's or Kenya's object.
fn expected_command(verb: &str, who: Who) -> Outcome {
    use Who as W;
    let staff = matches!(who, W::Admin | W::Coordinator);
    let allowed = match verb {
        // Staff run assessments, keep needs and the registry, refer, create and approve.
        "assessment_plan"
        | "assessment_mark_conducted"
        | "assessment_send_draft"
        | "assessment_adopt"
        | "assessment_close"
        | "assessment_cancel"
        | "recommendation_record"
        | "need_identify"
        | "need_withdraw"
        | "need_mark_met"
        | "need_amend"
        | "organisation_register"
        | "organisation_deactivate"
        | "referral_propose"
        | "referral_refer"
        | "referral_activate"
        | "referral_lapse"
        | "project_create"
        | "project_join_referral"
        | "progress_report_validate"
        | "progress_report_return"
        | "rate_table_record" => staff,
        // A project's shape (budget, status, milestones, results) is the coordinators' too
        // (changed: its participating donors used to change it, and its State to complete
        // milestones).
        "project_change_status"
        | "project_set_budget"
        | "project_add_milestone"
        | "project_complete_milestone"
        | "project_add_result" => staff,
        // What the State does for itself, staff may record for it (ARCHITECTURE, "Access").
        "assessment_record_observations"
        | "assessment_record_response"
        | "recommendation_update_status"
        | "need_agree_with_state"
        | "need_decline"
        | "sharing_grant_grant"
        | "sharing_grant_revoke" => staff || who == W::StateOwn,
        // A partner keeps its own details and offers.
        "organisation_update"
        | "offer_draft"
        | "offer_publish"
        | "offer_amend"
        | "offer_withdraw"
        | "offer_expire" => staff || who == W::DonorOwn,
        "token_issue" | "token_revoke" => who == W::Admin,
        // The partner and then the State accept or decline, each only for itself: not even
        // staff act for them here.
        "referral_accept_by_partner" | "referral_decline_by_partner" => who == W::DonorOwn,
        "referral_accept_by_state" | "referral_decline_by_state" => who == W::StateOwn,
        // A participating donor records the transactions it provides itself (the bodies name
        // ORG-OWN as provider) and adds documents.
        "project_add_transaction" | "project_add_document" => staff || who == W::DonorOwn,
        // ... and, with the project's State, records indicator actuals and reports progress.
        "project_record_indicator_actual"
        | "progress_report_draft"
        | "progress_report_revise"
        | "progress_report_submit" => staff || matches!(who, W::DonorOwn | W::StateOwn),
        // Every role may make a summary: it holds only what the caller may see.
        "report_summary" => true,
        _ => panic!("no access row for verb {verb}"),
    };
    if allowed {
        Outcome::Allowed
    } else {
        Outcome::Forbidden
    }
}

fn staff() -> Principal {
    Who::Coordinator.principal()
}

/// An assessment of `country`, moved `steps` along planned → conducted → draft sent → adopted →
/// response received.
async fn assessment(client: &async_nats::Client, country: &str, steps: usize) -> Uuid {
    let id = Uuid::now_v7();
    ok(client, &staff(), "assessment_plan", &plan_body(id, country)).await;
    for (verb, on) in [
        ("assessment_mark_conducted", "2026-03-06"),
        ("assessment_send_draft", "2026-04-01"),
        ("assessment_adopt", "2026-05-15"),
        ("assessment_record_response", "2026-06-01"),
    ]
    .into_iter()
    .take(steps)
    {
        ok(client, &staff(), verb, &moved(id, on)).await;
    }
    id
}

async fn recommendation(client: &async_nats::Client, assessment: Uuid, text: &str) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        client,
        &staff(),
        "recommendation_record",
        &json!({ "id": id, "assessment_id": assessment, "member_state": "", "theme": "BOR",
                 "priority": 1, "text": text, "on": "2026-05-15" }),
    )
    .await;
    id
}

/// A need of `country` for 450000.00 USD and 200 officers trained, identified on 2026-05-20 and
/// agreed by its State on 2026-06-10 if asked.
async fn need(
    client: &async_nats::Client,
    country: &str,
    recommendation: Uuid,
    agreed: bool,
) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        client,
        &staff(),
        "need_identify",
        &json!({ "id": id, "member_state": country, "recommendation_ids": [recommendation],
                 "theme": "BOR", "modality": "training", "description": "Train 200 border officers",
                 "beneficiary_institution": "Border Police Unit", "estimated_cost": usd(450_000),
                 "size": { "measure": "officers trained", "quantity": 200 }, "priority": 1,
                 "on": "2026-05-20" }),
    )
    .await;
    if agreed {
        ok(
            client,
            &focal_point(country),
            "need_agree_with_state",
            &moved(id, "2026-06-10"),
        )
        .await;
    }
    id
}

fn grant_body(need: Uuid, organisation: &str) -> Value {
    json!({ "id": Uuid::now_v7(), "member_state": "KE", "scope": { "type": "need", "need_id": need },
            "audience": { "type": "organisations", "ids": [organisation] }, "until": null,
            "on": "2026-06-12" })
}

/// Kenya shares `need` with `organisation`.
async fn grant(client: &async_nats::Client, need: Uuid, organisation: &str) -> Uuid {
    grant_with(client, grant_body(need, organisation)).await
}

async fn grant_with(client: &async_nats::Client, body: Value) -> Uuid {
    ok(client, &focal_point("KE"), "sharing_grant_grant", &body).await;
    serde_json::from_value(body["id"].clone()).unwrap()
}

fn org_body(id: &str) -> Value {
    json!({ "id": id, "name": format!("Organisation {id}"), "kind": "civil_society",
            "iati_type": "22", "iati_identifier": null, "country": null, "on": "2026-01-02" })
}

/// An offer drafted on 2026-05-01 whose window runs past the clock's today (2031): the partners
/// service expires offers whose window ended before today, at start and every minute.
fn offer_body(id: Uuid, organisation: &str) -> Value {
    json!({ "id": id, "organisation": organisation, "title": "Border officer training",
        "themes": ["BOR"], "countries": ["KE"], "regions": [], "modalities": ["training"],
        "budget": usd(300_000), "capacity": { "measure": "officers trained", "quantity": 150 },
        "valid_from": "2026-01-01", "valid_until": "2032-12-31", "languages": ["en"],
        "conditions": null, "on": "2026-05-01" })
}

/// An offer of `organisation` for BOR in Kenya, drafted by it and published if asked.
async fn offer(client: &async_nats::Client, organisation: &str, publish: bool) -> Uuid {
    let id = Uuid::now_v7();
    let who = donor(organisation);
    ok(client, &who, "offer_draft", &offer_body(id, organisation)).await;
    if publish {
        ok(client, &who, "offer_publish", &moved(id, "2026-06-01")).await;
    }
    id
}

/// A referral of `units` of `need` to `offer` (of `organisation`), moved `steps` along proposed →
/// referred → accepted by the partner → accepted by Kenya.
async fn referral(
    client: &async_nats::Client,
    need: Uuid,
    offer: Uuid,
    organisation: &str,
    units: u64,
    steps: usize,
) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        client,
        &staff(),
        "referral_propose",
        &json!({ "id": id, "need_id": need, "offer_id": offer, "member_state": "KE",
                 "organisation": organisation, "share_money": null, "share_units": units,
                 "on": "2026-06-20" }),
    )
    .await;
    let moves = [
        ("referral_refer", staff(), "2026-07-01"),
        (
            "referral_accept_by_partner",
            donor(organisation),
            "2026-07-02",
        ),
        ("referral_accept_by_state", focal_point("KE"), "2026-07-03"),
    ];
    for (verb, who, on) in moves.into_iter().take(steps) {
        ok(client, &who, verb, &moved(id, on)).await;
    }
    id
}

fn project_body(id: Uuid, country: &str, needs: &[Uuid], organisation: &str) -> Value {
    json!({ "id": id, "iati_identifier": format!("XM-TATRACK-{}", id.simple()),
            "title": "Border management training", "description": "Training of border officers",
            "recipient_country": country, "theme": "BOR", "dac_sector": "15210",
            "participating": [{ "organisation": organisation, "role": "1" },
                              { "organisation": organisation, "role": "4" }],
            "planned_start": "2026-09-01", "planned_end": "2027-08-31", "budget": usd(100_000),
            "needs": needs, "referrals": [], "on": "2026-08-20" })
}

async fn project(
    client: &async_nats::Client,
    country: &str,
    needs: &[Uuid],
    organisation: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        client,
        &staff(),
        "project_create",
        &project_body(id, country, needs, organisation),
    )
    .await;
    id
}

fn report_body(id: Uuid, project: Uuid) -> Value {
    json!({ "id": id, "project_id": project, "period_start": "2026-09-01",
            "period_end": "2026-10-31", "narrative": "First course held.", "actuals": [],
            "on": "2026-10-31" })
}

/// A progress report on `project`, drafted by `who`, and submitted if asked.
async fn report(client: &async_nats::Client, who: &Principal, project: Uuid, submit: bool) -> Uuid {
    let id = Uuid::now_v7();
    ok(
        client,
        who,
        "progress_report_draft",
        &report_body(id, project),
    )
    .await;
    if submit {
        ok(
            client,
            who,
            "progress_report_submit",
            &moved(id, "2026-11-01"),
        )
        .await;
    }
    id
}

/// The day every change to ORG-OWN's project's own shape (result, milestones, budget, documents) is
/// dated: one day, so that the rows may run in any order without a date going back. After the
/// project was created (2026-08-20).
const SHAPED: &str = "2026-09-01";

/// The confidential texts: found nowhere else in the fixture, so a view that holds one leaks it.
const TEXT_KE: &str = "Kenya, confidential: screening at Jomo Kenyatta airport is inadequate.";
const TEXT_FR: &str = "France, confidential: the inter-agency cell lacks a legal basis.";

/// The matrix's fixture, made through the real services.
struct World {
    client: async_nats::Client,
    assessment_ke: Uuid,
    assessment_fr: Uuid,
    recommendation_ke: Uuid,
    recommendation_fr: Uuid,
    need_shared: Uuid,
    need_unshared: Uuid,
    need_other: Uuid,
    need_revoked: Uuid,
    need_expired: Uuid,
    need_all_donors: Uuid,
    need_kept: Uuid,
    need_fr: Uuid,
    grant_shared: Uuid,
    grant_other: Uuid,
    offer_own: Uuid,
    offer_other: Uuid,
    referral_own: Uuid,
    referral_other: Uuid,
    referral_kept: Uuid,
    project_own: Uuid,
    project_other: Uuid,
    report_own: Uuid,
    report_other: Uuid,
    /// A result of ORG-OWN's project with an indicator that has a baseline (for actuals).
    result: (Uuid, Uuid),
    token: Uuid,
    token_hash: String,
    account: Uuid,
    invitation_hash: String,
    summary_own: Uuid,
    summary_other: Uuid,
}

impl World {
    async fn build(client: async_nats::Client) -> Self {
        let c = &client;
        for org in [OWN_ORG, OTHER_ORG] {
            ok(c, &staff(), "organisation_register", &org_body(org)).await;
        }
        let assessment_ke = assessment(c, "KE", 3).await;
        let assessment_fr = assessment(c, "FR", 3).await;
        let recommendation_ke = recommendation(c, assessment_ke, TEXT_KE).await;
        let recommendation_fr = recommendation(c, assessment_fr, TEXT_FR).await;
        let need_shared = need(c, "KE", recommendation_ke, true).await;
        let need_unshared = need(c, "KE", recommendation_ke, true).await;
        let need_other = need(c, "KE", recommendation_ke, true).await;
        let need_fr = need(c, "FR", recommendation_fr, true).await;
        let grant_shared = grant(c, need_shared, OWN_ORG).await;
        let grant_other = grant(c, need_other, OTHER_ORG).await;
        // Consent that ended: revoked, and expired (the last day it covered is long past).
        let need_revoked = need(c, "KE", recommendation_ke, true).await;
        let revoked = grant(c, need_revoked, OWN_ORG).await;
        ok(
            c,
            &focal_point("KE"),
            "sharing_grant_revoke",
            &json!({ "id": revoked, "on": "2026-07-01", "reason": "no longer" }),
        )
        .await;
        let need_expired = need(c, "KE", recommendation_ke, true).await;
        let mut body = grant_body(need_expired, OWN_ORG);
        body["until"] = json!("2026-07-31");
        grant_with(c, body).await;
        let need_all_donors = need(c, "KE", recommendation_ke, true).await;
        let mut body = grant_body(need_all_donors, OWN_ORG);
        body["audience"] = json!({ "type": "all_donors" });
        grant_with(c, body).await;
        // Kenya's assessment report, shared with ORG-OWN: its donor reads the assessment and its
        // recommendations, text included.
        let mut body = grant_body(need_shared, OWN_ORG);
        body["scope"] = json!({ "type": "assessment_report", "assessment_id": assessment_ke });
        grant_with(c, body).await;
        let offer_own = offer(c, OWN_ORG, true).await;
        let offer_other = offer(c, OTHER_ORG, true).await;
        // ORG-OWN's referral is accepted by both sides, so it is no longer pending and its offer
        // stays eligible for the shared need in the matching views; ORG-OTHER's is only referred.
        let referral_own = referral(c, need_shared, offer_own, OWN_ORG, 10, 3).await;
        let referral_other = referral(c, need_other, offer_other, OTHER_ORG, 10, 1).await;
        // Consent runs with the work: Kenya shares a need with ORG-OWN, ORG-OWN's offer is
        // referred to it, and then Kenya revokes the grant. The revocation's reply (once the
        // read model holds the referral) says ORG-OWN keeps access, and why.
        let need_kept = need(c, "KE", recommendation_ke, true).await;
        let kept_grant = grant(c, need_kept, OWN_ORG).await;
        let referral_kept = referral(c, need_kept, offer_own, OWN_ORG, 10, 1).await;
        let projects_head = command_to(c, &admin(), "projects", "admin_head", &json!({}))
            .await
            .unwrap()["head"]
            .clone();
        query_as(
            c,
            staff(),
            "referral_list",
            &json!({ "min_positions": { "projects": projects_head } }),
        )
        .await
        .unwrap();
        let revoked_kept = ok(
            c,
            &focal_point("KE"),
            "sharing_grant_revoke",
            &json!({ "id": kept_grant, "on": "2026-07-05", "reason": "no longer" }),
        )
        .await;
        let keeps = &revoked_kept["keeps_access"];
        assert_eq!(keeps.as_array().map(Vec::len), Some(1), "{revoked_kept}");
        assert_eq!(keeps[0]["need_id"], json!(need_kept), "{revoked_kept}");
        assert_eq!(keeps[0]["organisation"], OWN_ORG, "{revoked_kept}");
        assert!(keeps[0]["because"].is_string(), "{revoked_kept}");
        let project_own = project(c, "KE", &[need_shared], OWN_ORG).await;
        let project_other = project(c, "FR", &[], OTHER_ORG).await;
        let report_own = report(c, &donor(OWN_ORG), project_own, false).await;
        let report_other = report(c, &donor(OTHER_ORG), project_other, false).await;
        let result = (Uuid::now_v7(), Uuid::now_v7());
        ok(
            c,
            &staff(),
            "project_add_result",
            &json!({ "id": project_own, "result_id": result.0, "title": "Officers trained",
                     "indicators": [{ "indicator_id": result.1, "title": "Officers trained",
                                      "measure": "1", "baseline": 0, "target": 150 }],
                     "on": SHAPED }),
        )
        .await;
        ok(
            c,
            &staff(), "rate_table_record",
            &json!({ "id": tatrack_projects::RATE_TABLE_ID, "on": "2026-01-01",
                     "rates": [{ "currency": "EUR", "per_usd": { "numerator": 92, "denominator": 100 } }] }),
        )
        .await;
        Self {
            client,
            assessment_ke,
            assessment_fr,
            recommendation_ke,
            recommendation_fr,
            need_shared,
            need_unshared,
            need_other,
            need_revoked,
            need_expired,
            need_all_donors,
            need_kept,
            need_fr,
            grant_shared,
            grant_other,
            offer_own,
            offer_other,
            referral_own,
            referral_other,
            referral_kept,
            project_own,
            project_other,
            report_own,
            report_other,
            result,
            token: Uuid::nil(),
            token_hash: String::new(),
            account: Uuid::nil(),
            invitation_hash: String::new(),
            summary_own: Uuid::nil(),
            summary_other: Uuid::nil(),
        }
    }

    /// A referral of one officer of the shared need to a new offer of ORG-OWN (one referral is
    /// open per need and offer), moved `steps` along.
    async fn referral(&self, units: u64, steps: usize) -> Uuid {
        let c = &self.client;
        let offer = offer(c, OWN_ORG, true).await;
        referral(c, self.need_shared, offer, OWN_ORG, units, steps).await
    }

    /// The item as a query parameter names it.
    fn param(&self, item: Item) -> String {
        match item {
            Item::OrgOwn => OWN_ORG.to_owned(),
            Item::OrgOther => OTHER_ORG.to_owned(),
            other => self.needle(other),
        }
    }

    /// What an answer holds when it holds the item (ids are UUIDs, so they are found nowhere
    /// else).
    fn needle(&self, item: Item) -> String {
        use Item as I;
        let id = match item {
            I::AssessmentKe => self.assessment_ke,
            I::AssessmentFr => self.assessment_fr,
            I::RecommendationKe => self.recommendation_ke,
            I::RecommendationFr => self.recommendation_fr,
            I::NeedShared => self.need_shared,
            I::NeedUnshared => self.need_unshared,
            I::NeedOther => self.need_other,
            I::NeedRevoked => self.need_revoked,
            I::NeedExpired => self.need_expired,
            I::NeedAllDonors => self.need_all_donors,
            I::NeedKept => self.need_kept,
            I::NeedFr => self.need_fr,
            I::GrantShared => self.grant_shared,
            I::GrantOther => self.grant_other,
            I::OfferOwn => self.offer_own,
            I::OfferOther => self.offer_other,
            I::ReferralOwn => self.referral_own,
            I::ReferralOther => self.referral_other,
            I::ReferralKept => self.referral_kept,
            I::ProjectOwn => self.project_own,
            I::ProjectOther => self.project_other,
            I::ReportOwn => self.report_own,
            I::ReportOther => self.report_other,
            I::RateTable => tatrack_projects::RATE_TABLE_ID,
            I::Token => self.token,
            I::Account => self.account,
            I::SummaryOwn => self.summary_own,
            I::SummaryOther => self.summary_other,
            I::Positions => return r#""known_at":"assessments:"#.to_owned(),
            I::TextKe => return TEXT_KE.to_owned(),
            I::TextFr => return TEXT_FR.to_owned(),
            I::Redacted => return "[confidential]".to_owned(),
            I::RatesKe => return r#""member_state":"KE""#.to_owned(),
            I::RatesFr => return r#""member_state":"FR""#.to_owned(),
            I::OrgOwn => return format!("\"{OWN_ORG}\""),
            I::OrgOther => return format!("\"{OTHER_ORG}\""),
            I::TokenHash => return self.token_hash.clone(),
            I::InvitationHash => return self.invitation_hash.clone(),
            // Any argon2id PHC string, not only this account's.
            I::PasswordHash => return "$argon2id$".to_owned(),
        };
        id.to_string()
    }

    /// The bodies for one verb: one per allowed caller, each on an object of its own in the state
    /// the verb needs (the allowed calls run last, in this order), and the one refusals are aimed
    /// at: ORG-OWN's or Kenya's object, valid but for the caller's rights (the first allowed
    /// body where there is one: refusals run first and write nothing).
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per verb, kept together so the bodies read as one table"
    )]
    async fn bodies(&self, verb: &str, allowed: usize) -> (Value, Vec<Value>) {
        let c = &self.client;
        let mut out = Vec::new();
        let mut refused = None;
        for i in 0..allowed.max(1) {
            let n = i64::try_from(i).unwrap() + 1;
            let body = match verb {
                "assessment_plan" => plan_body(Uuid::now_v7(), "KE"),
                "assessment_mark_conducted" | "assessment_cancel" => {
                    json!({ "id": assessment(c, "KE", 0).await, "on": "2026-03-06", "reason": "matrix" })
                }
                "assessment_send_draft" => {
                    json!({ "id": assessment(c, "KE", 1).await, "on": "2026-04-01", "reason": null })
                }
                "assessment_record_observations" => {
                    json!({ "id": assessment(c, "KE", 2).await, "on": "2026-04-20" })
                }
                "assessment_adopt" => {
                    json!({ "id": assessment(c, "KE", 2).await, "on": "2026-05-15", "reason": null })
                }
                "assessment_record_response" => {
                    json!({ "id": assessment(c, "KE", 3).await, "on": "2026-06-01", "reason": null })
                }
                "assessment_close" => {
                    json!({ "id": assessment(c, "KE", 4).await, "on": "2026-07-01", "reason": null })
                }
                "recommendation_record" => {
                    json!({ "id": Uuid::now_v7(), "assessment_id": self.assessment_ke,
                            "member_state": "", "theme": "LEG", "priority": 2,
                            "text": "Adopt a law on terrorist financing.", "on": "2026-05-15" })
                }
                "recommendation_update_status" => {
                    let id = recommendation(c, self.assessment_ke, "Train prosecutors.").await;
                    json!({ "id": id, "to": "in_progress", "on": "2026-06-15",
                            "source": "state_response", "reason": null })
                }
                "need_identify" => {
                    json!({ "id": Uuid::now_v7(), "member_state": "KE",
                            "recommendation_ids": [self.recommendation_ke], "theme": "BOR",
                            "modality": "workshop", "description": "Workshop on screening",
                            "beneficiary_institution": "Immigration Department",
                            "estimated_cost": null, "size": null, "priority": 2,
                            "on": "2026-05-20" })
                }
                "need_agree_with_state" => {
                    let id = need(c, "KE", self.recommendation_ke, false).await;
                    moved(id, "2026-06-10")
                }
                "need_withdraw" | "need_decline" => {
                    let id = need(c, "KE", self.recommendation_ke, true).await;
                    json!({ "id": id, "on": "2026-06-20", "reason": "matrix" })
                }
                "need_mark_met" => {
                    // Covered: the projects service's own command, as it sends it.
                    let id = need(c, "KE", self.recommendation_ke, true).await;
                    ok(
                        c,
                        &principal(Role::System, None, None),
                        "need_record_coverage",
                        &json!({ "id": id, "covered_money": usd(450_000), "covered_units": 200,
                                 "on": "2026-07-03" }),
                    )
                    .await;
                    moved(id, "2026-08-01")
                }
                "need_amend" => {
                    json!({ "id": self.need_unshared,
                            "description": format!("Train 200 border officers ({n})"),
                            "on": "2026-06-15" })
                }
                "sharing_grant_grant" => grant_body(self.need_unshared, OTHER_ORG),
                "sharing_grant_revoke" => {
                    let id = grant(c, self.need_unshared, OTHER_ORG).await;
                    json!({ "id": id, "on": "2026-07-01", "reason": "matrix" })
                }
                "organisation_register" => org_body(&format!("ORG-{}", Uuid::now_v7().simple())),
                "organisation_update" => {
                    json!({ "id": OWN_ORG, "name": format!("Organisation {OWN_ORG}, renamed {n}"),
                            "on": "2026-06-01" })
                }
                "organisation_deactivate" => {
                    // Refused on ORG-OWN itself (its own donor may not either); allowed on
                    // organisations of their own, as ORG-OWN's offers are still needed.
                    refused.get_or_insert_with(
                        || json!({ "id": OWN_ORG, "on": "2026-08-01", "reason": "matrix" }),
                    );
                    let id = format!("ORG-{}", Uuid::now_v7().simple());
                    ok(c, &staff(), "organisation_register", &org_body(&id)).await;
                    json!({ "id": id, "on": "2026-08-01", "reason": "matrix" })
                }
                "offer_draft" => offer_body(Uuid::now_v7(), OWN_ORG),
                "offer_publish" => {
                    json!({ "id": offer(c, OWN_ORG, false).await, "on": "2026-06-01", "reason": null })
                }
                "offer_amend" => {
                    json!({ "id": self.offer_own, "title": format!("Border officer training ({n})"),
                            "on": "2026-08-01" })
                }
                "offer_withdraw" => {
                    json!({ "id": offer(c, OWN_ORG, true).await, "on": "2026-08-01", "reason": "matrix" })
                }
                // No live offer past its window waits for a caller: the partners service's own pass
                // expires it within a minute (and would write during the refusals). So the allowed
                // rows expire offers made just before they are sent (`expirable_offer`), and the
                // refusals aim at ORG-OWN's open offer, whose window still runs: were the caller
                // allowed, the date would be refused, but access is decided first.
                "offer_expire" => {
                    refused.get_or_insert_with(
                        || json!({ "id": self.offer_own, "on": today().to_string() }),
                    );
                    json!({ "offer_expire": "an offer made just before the call" })
                }
                // Over HTTP the gateway makes the secret: the body asks for the token only.
                "token_issue" => {
                    json!({ "role": Role::Auditor, "organisation": null, "member_state": null,
                            "label": "matrix", "on": "2026-01-05" })
                }
                "token_revoke" => {
                    let (id, _) = issue_token(c, Role::Auditor, None, None).await;
                    json!({ "id": id, "on": "2026-02-01", "reason": "matrix" })
                }
                // One referral is open per need and offer: each body refers the shared need to an
                // offer of its own.
                "referral_propose" => {
                    json!({ "id": Uuid::now_v7(), "need_id": self.need_shared,
                            "offer_id": offer(c, OWN_ORG, true).await, "member_state": "KE",
                            "organisation": OWN_ORG, "share_money": null, "share_units": 1,
                            "on": "2026-06-20" })
                }
                "referral_refer" | "referral_lapse" => {
                    let id = self.referral(1, 0).await;
                    json!({ "id": id, "on": "2026-07-01", "reason": "matrix" })
                }
                "referral_accept_by_partner" | "referral_decline_by_partner" => {
                    let id = self.referral(1, 1).await;
                    json!({ "id": id, "on": "2026-07-02", "reason": "matrix" })
                }
                "referral_accept_by_state" | "referral_decline_by_state" => {
                    let id = self.referral(1, 2).await;
                    json!({ "id": id, "on": "2026-07-03", "reason": "matrix" })
                }
                "referral_activate" => {
                    let id = self.referral(1, 3).await;
                    json!({ "id": id, "on": "2026-09-01", "project_id": self.project_own,
                            "reason": null })
                }
                "project_create" => {
                    project_body(Uuid::now_v7(), "KE", &[self.need_shared], OWN_ORG)
                }
                "project_change_status" => {
                    let id = project(c, "KE", &[self.need_shared], OWN_ORG).await;
                    json!({ "id": id, "to": "2", "on": "2026-09-01", "reason": null })
                }
                "project_join_referral" => {
                    let id = project(c, "KE", &[], OWN_ORG).await;
                    json!({ "id": id, "referral_id": self.referral_own, "need_id": self.need_shared,
                            "on": "2026-09-01" })
                }
                "project_set_budget" => {
                    json!({ "id": self.project_own, "budget": usd(100_000 + n), "on": SHAPED })
                }
                // ORG-OWN provides it: a donor records only what it provides itself.
                "project_add_transaction" => {
                    json!({ "id": self.project_own, "transaction_id": Uuid::now_v7(),
                            "kind": "commitment", "value": usd(1_000), "on": "2026-09-15",
                            "provider": OWN_ORG, "receiver": null, "description": null })
                }
                "project_add_milestone" => {
                    json!({ "id": self.project_own, "milestone_id": Uuid::now_v7(),
                            "title": "Course held", "due": "2027-01-31", "on": SHAPED })
                }
                "project_complete_milestone" => {
                    let milestone = Uuid::now_v7();
                    ok(
                        c,
                        &staff(),
                        "project_add_milestone",
                        &json!({ "id": self.project_own, "milestone_id": milestone,
                                 "title": "Course held", "due": "2027-01-31", "on": SHAPED }),
                    )
                    .await;
                    json!({ "id": self.project_own, "milestone_id": milestone, "on": "2026-10-01" })
                }
                "project_add_result" => {
                    json!({ "id": self.project_own, "result_id": Uuid::now_v7(),
                            "title": "Procedures adopted",
                            "indicators": [{ "indicator_id": Uuid::now_v7(),
                                             "title": "Procedures adopted", "measure": "1",
                                             "baseline": 0, "target": 3 }], "on": SHAPED })
                }
                "project_record_indicator_actual" => {
                    json!({ "id": self.project_own, "result_id": self.result.0,
                            "indicator_id": self.result.1, "value": 10 * n, "on": "2026-10-01" })
                }
                "project_add_document" => {
                    json!({ "id": self.project_own,
                            "url": format!("https://example.org/{}", Uuid::now_v7()),
                            "title": "Course report", "category": "A01", "on": SHAPED })
                }
                "progress_report_draft" => report_body(Uuid::now_v7(), self.project_own),
                "progress_report_revise" => {
                    json!({ "id": self.report_own, "narrative": format!("First course held ({n})."),
                            "actuals": null, "on": "2026-10-31" })
                }
                "progress_report_submit" => {
                    let id = report(c, &staff(), self.project_own, false).await;
                    moved(id, "2026-11-01")
                }
                "progress_report_validate" | "progress_report_return" => {
                    let id = report(c, &staff(), self.project_own, true).await;
                    json!({ "id": id, "on": "2026-11-05", "reason": "matrix" })
                }
                "rate_table_record" => {
                    json!({ "id": tatrack_projects::RATE_TABLE_ID,
                            "on": format!("2026-02-{n:02}"),
                            "rates": [{ "currency": "EUR",
                                        "per_usd": { "numerator": 90 + n, "denominator": 100 } }] })
                }
                "report_summary" => {
                    json!({ "format": "json", "member_state": "KE", "as_of": today().to_string() })
                }
                _ => panic!("no command body for verb {verb}"),
            };
            out.push(body);
        }
        let refused = refused.unwrap_or_else(|| out[0].clone());
        out.truncate(allowed);
        (refused, out)
    }
}

/// Drafts and publishes an offer of ORG-OWN whose window ended yesterday, and returns the body
/// that expires it today; `None` when the partners service's own expiry pass got there first.
async fn expirable_offer(client: &async_nats::Client) -> Option<Value> {
    let id = Uuid::now_v7();
    let mut body = offer_body(id, OWN_ORG);
    body["valid_until"] = json!(today().yesterday().unwrap().to_string());
    let meta = || RequestMeta::new(donor(OWN_ORG));
    command_to(client, &meta(), "partners", "offer_draft", &body)
        .await
        .unwrap_or_else(|e| panic!("fixture offer_draft: {e:?}"));
    command_to(
        client,
        &meta(),
        "partners",
        "offer_publish",
        &moved(id, "2026-06-01"),
    )
    .await
    .ok()?;
    Some(json!({ "id": id, "on": today().to_string() }))
}

/// The HTTP request for a bus body: the route's path with its parameters taken out of the body
/// (`id`, `milestone_id`...); for a creation, the id left out where the server may mint it.
fn http_call(route: &routes::Route, creates: bool, mut body: Value) -> (String, Value) {
    let sent = body.to_string();
    let map = body.as_object_mut().expect("a body is an object");
    let mut path = format!("{}{}", routes::PREFIX, route.path);
    for name in route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    {
        let value = map
            .remove(name)
            .unwrap_or_else(|| panic!("{}: no {name} in {sent}", route.operation));
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    if creates {
        let op = tatrack_tests::openapi::operation("post", &path).expect("documented");
        let schema = &op.spec["requestBody"]["content"]["application/json"]["schema"];
        let id_required = tatrack_tests::openapi::properties(schema)
            .iter()
            .any(|(name, _, required)| *name == "id" && *required);
        if !id_required {
            map.remove("id");
        }
    }
    (path, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "the matrix's phases share one fixture and one gateway"
)]
async fn access_matrix_over_every_view_and_verb() {
    let started = std::time::Instant::now();
    let (h, services, client) = Harness::up().await;
    let gw = Gateway::start(&h).await;
    // The fixture is set up as the operator (it also sends the projects service's derived facts,
    // which the gateway's NATS user may not).
    let mut world = World::build(h.admin().await).await;
    let table = routes::routes();
    // Derived totals come only from the projects service (as `system`): no route sends them.
    for route in &table {
        if let Target::Command(c) = route.target {
            assert!(
                !matches!(
                    c.verb.as_str(),
                    "need_record_coverage" | "offer_record_commitment"
                ),
                "{} sends {}",
                route.operation,
                c.verb
            );
        }
    }

    let mut tokens = Vec::new();
    for who in EVERYONE {
        let (role, organisation, member_state) = who.scope();
        let id = Uuid::now_v7();
        let secret = token::new_secret();
        let body = json!({
            "id": id, "role": role, "organisation": organisation, "member_state": member_state,
            "label": format!("matrix {who:?}"), "hash": token::hash(&secret), "on": "2026-01-05",
        });
        command_to(&client, &admin(), "partners", "token_issue", &body)
            .await
            .unwrap();
        if who == Who::Coordinator {
            world.token = id;
            world.token_hash = token::hash(&secret);
        }
        tokens.push((who, secret));
    }
    for (_, secret) in &tokens {
        gw.until_known(secret).await;
    }
    // An account, active with a password and with an open invitation (a reset), as the web
    // console records it.
    let account = Uuid::now_v7();
    let secret = tatrack_gateway::password::invitation_secret();
    let invite = json!({
        "id": account, "name": "Matrix Person", "email": "matrix@example.org", "role": "coordinator",
        "invitation_hash": tatrack_gateway::password::invitation_hash(&secret),
        "invitation_expires_on": "2040-01-01", "on": "2026-01-05",
    });
    command_to(&client, &admin(), "partners", "account_invite", &invite)
        .await
        .unwrap();
    let holder = RequestMeta::new(Principal {
        id: format!("account:{account}"),
        role: Role::Coordinator,
        organisation: None,
        member_state: None,
    });
    let set = json!({
        "id": account, "invitation_hash": tatrack_gateway::password::invitation_hash(&secret),
        "password_hash": tatrack_gateway::password::hash("matrix password 1"), "on": "2026-01-06",
    });
    command_to(&client, &holder, "partners", "account_set_password", &set)
        .await
        .unwrap();
    let reset =
        tatrack_gateway::password::invitation_hash(&tatrack_gateway::password::invitation_secret());
    let reinvite = json!({
        "id": account, "invitation_hash": reset, "invitation_expires_on": "2040-01-01",
        "on": "2026-01-07",
    });
    command_to(&client, &admin(), "partners", "account_reinvite", &reinvite)
        .await
        .unwrap();
    world.account = account;
    world.invitation_hash = reset;
    let secret = |who: Who| tokens.iter().find(|(w, _)| *w == who).unwrap().1.as_str();
    // A summary made through the gateway by each donor's token, then a transaction of each
    // donor's project recorded late (dated before the summaries' day): what `change_list` is
    // about.
    for (who, summary) in [
        (Who::DonorOwn, &mut world.summary_own),
        (Who::DonorOther, &mut world.summary_other),
    ] {
        let made = gw
            .post(
                secret(who),
                "/api/v1/reports",
                &json!({ "format": "json", "as_of": "2026-12-31" }).to_string(),
                &[],
            )
            .await;
        assert_eq!(
            made.status,
            StatusCode::CREATED,
            "summary as {who:?}: {}",
            made.body
        );
        *summary = made.body["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            made.location(),
            Some(format!("/api/v1/reports/{summary}").as_str())
        );
    }
    for (project, provider) in [
        (world.project_own, OWN_ORG),
        (world.project_other, OTHER_ORG),
    ] {
        ok(
            &client,
            &staff(),
            "project_add_transaction",
            &json!({ "id": project, "transaction_id": Uuid::now_v7(), "kind": "commitment",
                     "value": usd(5_000), "on": "2026-10-01", "provider": provider,
                     "receiver": null, "description": "recorded late" }),
        )
        .await;
    }
    // Views are asked once the read model holds everything written above.
    let min_positions: serde_json::Map<String, Value> = heads(&client)
        .await
        .into_iter()
        .map(|(service, head)| (service.to_owned(), json!(head)))
        .collect();
    query_as(
        &client,
        Who::Coordinator.principal(),
        "organisation_list",
        &json!({ "min_positions": min_positions }),
    )
    .await
    .unwrap();

    let mut failures = Vec::new();
    let mut view_rows = 0;
    for route in &table {
        let Target::View(view) = route.target else {
            continue;
        };
        let view = view.view.as_str();
        let one = route.path.contains("{id}");
        assert_eq!(
            one,
            target(view).is_some(),
            "{}: a one-object view is one whose path names it",
            route.operation
        );
        let objects: &[Object] = if one {
            &[Object::Own, Object::Other]
        } else {
            &[Object::All]
        };
        for object in objects {
            // A stream is named `<aggregate>-<id>`.
            let param = |item| match view {
                "stream_version_show" => format!("need-{}", world.param(item)),
                _ => world.param(item),
            };
            let path = match (target(view), object) {
                (Some((own, _)), Object::Own) => route.path.replace("{id}", &param(own)),
                (Some((_, other)), Object::Other) => route.path.replace("{id}", &param(other)),
                _ => route.path.to_owned(),
            };
            // The matching views also list what is ineligible, so that only access leaves an
            // offer or need out.
            let query = if view.ends_with("_match_list") {
                "?include_ineligible=true"
            } else {
                ""
            };
            let path = format!("{}{path}{query}", routes::PREFIX);
            for who in EVERYONE {
                view_rows += 1;
                let expect = expected_view(view, who, *object);
                let answer = gw.get(Some(secret(who)), &path).await;
                let case = format!("{} {path} as {who:?}", route.operation);
                if answer.status != expect.status {
                    failures.push(format!(
                        "{case}: expected {}, got {} {}",
                        expect.status, answer.status, answer.body
                    ));
                    continue;
                }
                if answer.status != StatusCode::OK {
                    continue;
                }
                let text = answer.body.to_string();
                for item in &expect.shows {
                    if !text.contains(&world.needle(*item)) {
                        failures.push(format!("{case}: {item:?} missing from {text}"));
                    }
                }
                for item in expect.hides.iter().chain(&never(who)) {
                    if text.contains(&world.needle(*item)) {
                        failures.push(format!("{case}: {item:?} must not be there: {text}"));
                    }
                }
            }
        }
    }
    let views_done = started.elapsed();

    // Commands: for each route, the bodies (fresh objects for the allowed callers), then every
    // refusal (nothing written anywhere), then every allowed call (each writes).
    let mut rows = Vec::new();
    for route in &table {
        let Target::Command(command) = route.target else {
            continue;
        };
        let outcomes: Vec<(Who, Outcome)> = EVERYONE
            .into_iter()
            .map(|who| (who, expected_command(command.verb.as_str(), who)))
            .collect();
        let allowed = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Allowed)
            .count();
        let (refused, bodies) = world.bodies(command.verb.as_str(), allowed).await;
        let mut bodies = bodies.into_iter();
        for (who, outcome) in outcomes {
            let body = match outcome {
                Outcome::Allowed => bodies.next().unwrap(),
                Outcome::Forbidden => refused.clone(),
            };
            rows.push((route, command, who, outcome, body));
        }
    }
    let before = heads(&client).await;
    for (route, command, who, outcome, body) in &rows {
        if *outcome != Outcome::Forbidden {
            continue;
        }
        let (path, body) = http_call(route, command.creates.is_some(), body.clone());
        let answer = gw.post(secret(*who), &path, &body.to_string(), &[]).await;
        if answer.status != StatusCode::FORBIDDEN {
            failures.push(format!(
                "{} as {who:?}: expected 403, got {} {}\n    body: {body}",
                route.operation, answer.status, answer.body
            ));
        }
        // A refusal tells nothing about the object: no organisation, no country.
        let detail = answer.body["detail"].as_str().unwrap_or_default();
        let named = detail
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .find(|word| [OWN_ORG, OTHER_ORG, "KE", "FR"].contains(word));
        if let Some(word) = named {
            failures.push(format!(
                "{} as {who:?}: the 403 names {word}: {detail}",
                route.operation
            ));
        }
    }
    let after = heads(&client).await;
    if before != after {
        failures.push(format!(
            "refused commands wrote: heads {before:?} before, {after:?} after"
        ));
    }
    let mut located = 0;
    for (route, command, who, outcome, body) in &rows {
        if *outcome != Outcome::Allowed {
            continue;
        }
        let mut body = body.clone();
        let mut attempts = 0;
        let expected = if command.creates.is_some() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let (sent, answer) = loop {
            attempts += 1;
            if command.verb.as_str() == "offer_expire" {
                // See `bodies`: the offer is made now. The service's own expiry pass may expire
                // it between its publication and this call (a few milliseconds in a minute):
                // another is made then.
                match expirable_offer(&client).await {
                    Some(b) => body = b,
                    None if attempts < 3 => continue,
                    None => panic!("three offers expired by the service before the call"),
                }
            }
            let (path, sent) = http_call(route, command.creates.is_some(), body.clone());
            let answer = gw.post(secret(*who), &path, &sent.to_string(), &[]).await;
            if command.verb.as_str() == "offer_expire"
                && answer.status != expected
                && answer.body.to_string().contains("expired")
                && attempts < 3
            {
                continue;
            }
            break (sent, answer);
        };
        let position = answer.body["last_position"].as_u64().unwrap_or(0);
        if answer.status != expected || position == 0 {
            failures.push(format!(
                "{} as {who:?}: expected {expected} that writes, got {} {}\n    body: {sent}",
                route.operation, answer.status, answer.body
            ));
            continue;
        }
        // A creation's Location names what it made, and resolves where a GET route serves it.
        if let Some(location) = answer.location() {
            let id = answer.body["id"].as_str().unwrap_or_default();
            if !location.ends_with(&format!("/{id}")) {
                failures.push(format!(
                    "{}: Location {location} is not the id {id}",
                    route.operation
                ));
            }
            if tatrack_tests::openapi::operation("get", location).is_some() {
                located += 1;
                let shown = gw
                    .get(
                        Some(secret(*who)),
                        &format!("{location}?min_position={position}"),
                    )
                    .await;
                if shown.status != StatusCode::OK || shown.body["id"] != id {
                    failures.push(format!(
                        "{} as {who:?}: GET {location}: {} {}",
                        route.operation, shown.status, shown.body
                    ));
                }
            }
        }
    }
    // Every status above is compared exactly, so a 5xx anywhere is a failure too.
    let allowed = rows.iter().filter(|r| r.3 == Outcome::Allowed).count();
    assert!(
        failures.is_empty(),
        "{} failure(s) in the access matrix ({view_rows} view rows, {} command rows):\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert!(
        located > 10,
        "{located} creations followed to their Location"
    );
    eprintln!(
        "access matrix: {view_rows} view rows, {} command rows ({allowed} allowed, {located} Locations followed), views in {views_done:?}, all in {:?}",
        rows.len(),
        started.elapsed()
    );

    gw.stop().await;
    services.stop().await;
}
