//! One need: its text (redacted where the role may not read it), coverage by money and units,
//! the chain recommendation → need → referrals → projects → results, its audit trail, and the
//! ranked offer suggestions with each criterion's points. "Refer" on a suggestion first shows
//! the overlap alerts and the referrals the need already has, and records nothing until it is
//! confirmed; then the referral is proposed and referred in one go.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use tatrack_contract::answers::{NeedDetail, NeedHistory, NeedMatches, Overlap, Suggestion};
use tatrack_contract::bus::View;
use tatrack_domain::recommendation::RecommendationState;
use uuid::Uuid;

use super::FormKeys;
use super::overview::{AsOf, with_as_of};
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::chart::{self, Bar};
use crate::web::{Chrome, Viewer, error_page, format, render, render_with, see_other};

pub(crate) struct ChainLink {
    pub(crate) kind: &'static str,
    pub(crate) text: String,
    pub(crate) href: Option<String>,
    pub(crate) status: String,
    pub(crate) redacted: bool,
}

#[derive(Clone)]
pub(crate) struct ReferralRow {
    pub(crate) organisation: String,
    pub(crate) status: String,
    pub(crate) share: String,
    pub(crate) proposed_on: String,
}

pub(crate) struct ResultRow {
    pub(crate) project: String,
    pub(crate) result: String,
    pub(crate) indicator: String,
    pub(crate) target: String,
    pub(crate) actual: String,
}

pub(crate) struct HistoryRow {
    pub(crate) on: String,
    pub(crate) recorded_at: String,
    pub(crate) who: String,
    pub(crate) what: String,
    pub(crate) object: String,
}

pub(crate) struct SuggestionRow {
    pub(crate) offer_id: String,
    pub(crate) organisation: String,
    pub(crate) title: String,
    pub(crate) score: u32,
    pub(crate) max_score: u32,
    pub(crate) criteria: Vec<(String, u32, u32, String)>,
}

impl From<&Suggestion> for SuggestionRow {
    fn from(s: &Suggestion) -> Self {
        Self {
            offer_id: s.offer_id.to_string(),
            organisation: s.organisation.clone(),
            title: s.title.clone(),
            score: s.score,
            max_score: s.max_score,
            criteria: s
                .explanation
                .iter()
                .map(|c| {
                    (
                        format::words(&c.criterion),
                        c.points,
                        c.max,
                        c.detail.clone(),
                    )
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "need.html")]
struct NeedPage {
    chrome: Option<Chrome>,
    id: String,
    as_of: String,
    description: String,
    country: String,
    theme: String,
    priority: u8,
    status: String,
    facts: Vec<(&'static str, String)>,
    coverage_chart: String,
    coverage: Vec<(String, String, String, u64)>,
    chain: Vec<ChainLink>,
    referrals: Vec<ReferralRow>,
    results: Vec<ResultRow>,
    history: Vec<HistoryRow>,
    suggestions: Option<Vec<SuggestionRow>>,
    referable: bool,
    /// Whether this person may share the need with donors (its State's focal point, staff).
    may_share: bool,
    keys: FormKeys,
    /// Set while a referral waits for confirmation.
    confirm: Option<Confirm>,
    problem: Option<String>,
}

/// The referral about to be made, with what it may overlap.
pub(crate) struct Confirm {
    pub(crate) offer_id: String,
    pub(crate) organisation: String,
    pub(crate) title: String,
    pub(crate) share: String,
    pub(crate) overlaps: Vec<String>,
    pub(crate) existing: Vec<ReferralRow>,
}

pub(crate) async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(asked): Query<AsOf>,
) -> Response {
    let chrome = viewer.chrome("/needs");
    let page = match parse_id(&id) {
        Ok(id) => need_page(&app, &viewer, id, &asked).await,
        Err(p) => Err(p),
    };
    match page {
        Ok(mut page) => {
            page.chrome = Some(chrome);
            render(&page)
        }
        Err(problem) => error_page(&problem, Some(chrome)),
    }
}

fn parse_id(id: &str) -> Result<Uuid, Problem> {
    id.parse::<Uuid>()
        .map_err(|_| Problem::invalid("id", "must be a UUID"))
}

fn share_text(money: Option<&tatrack_domain::money::Money>, units: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(m) = money {
        parts.push(format::money(m));
    }
    if let Some(u) = units {
        parts.push(format!("{} units", format::grouped(u)));
    }
    if parts.is_empty() {
        "—".to_owned()
    } else {
        parts.join(" and ")
    }
}

async fn need_page(
    app: &App,
    viewer: &Viewer,
    id: Uuid,
    asked: &AsOf,
) -> Result<NeedPage, Problem> {
    let as_of = asked.date()?;
    let detail: NeedDetail = viewer
        .view(app, View::NeedShow, with_as_of(json!({"id": id}), as_of))
        .await?;
    let need = &detail.need;
    let history: NeedHistory = viewer
        .view(app, View::NeedHistory, with_as_of(json!({"id": id}), as_of))
        .await?;
    // Suggestions are the coordinators' tool: the match view also answers a donor (about its
    // own offers), but a donor does not refer, so only staff get the section. A role the view
    // refuses has none either.
    let suggestions: Option<NeedMatches> = if viewer.principal.is_staff() {
        match viewer
            .view(
                app,
                View::NeedMatchList,
                with_as_of(json!({"need_id": id}), as_of),
            )
            .await
        {
            Ok(m) => Some(m),
            Err(p) if p.status == StatusCode::FORBIDDEN => None,
            Err(p) => return Err(p),
        }
    } else {
        None
    };
    let recommendations: Vec<RecommendationState> = if need.recommendation_ids.is_empty() {
        Vec::new()
    } else {
        viewer
            .view(
                app,
                View::RecommendationList,
                with_as_of(json!({"member_state": need.member_state}), as_of),
            )
            .await
            .unwrap_or_default()
    };

    let mut coverage = Vec::new();
    let mut bars = Vec::new();
    if let Some(cost) = &need.estimated_cost {
        let covered = need.covered_money.as_ref().map_or(0, |m| m.amount_minor);
        coverage.push((
            "Money".to_owned(),
            format::money(cost),
            format::amount(covered, &cost.currency),
            format::percent(covered, cost.amount_minor),
        ));
        bars.push(Bar {
            label: format!("Money ({})", cost.currency),
            covered: u64::try_from(covered).unwrap_or(0),
            total: u64::try_from(cost.amount_minor).unwrap_or(0),
            caption: format!("{}%", format::percent(covered, cost.amount_minor)),
        });
    }
    if let Some(size) = &need.size {
        let covered = need.covered_units.unwrap_or(0);
        coverage.push((
            format!("Units ({})", size.measure),
            format::grouped(size.quantity),
            format::grouped(covered),
            format::percent(covered, size.quantity),
        ));
        bars.push(Bar {
            label: format!("Units ({})", size.measure),
            covered,
            total: size.quantity,
            caption: format!("{}%", format::percent(covered, size.quantity)),
        });
    }
    let coverage_chart = chart::coverage_bars("need-coverage", "Coverage of this need", &bars);

    let mut chain: Vec<ChainLink> = recommendations
        .iter()
        .filter(|r| need.recommendation_ids.contains(&r.id))
        .map(|r| ChainLink {
            kind: "Recommendation",
            redacted: r.text == "[confidential]",
            text: r.text.clone(),
            href: None,
            status: format::status(r.status),
        })
        .collect();
    chain.push(ChainLink {
        kind: "Need",
        text: need.description.clone(),
        href: None,
        status: format::status(need.status),
        redacted: false,
    });
    let referrals: Vec<ReferralRow> = detail
        .referrals
        .iter()
        .map(|r| ReferralRow {
            organisation: r.organisation.clone(),
            status: format::status(r.status),
            share: share_text(r.share_money.as_ref(), r.share_units),
            proposed_on: format::date(r.proposed_on),
        })
        .collect();
    chain.extend(detail.referrals.iter().map(|r| ChainLink {
        kind: "Referral",
        text: format!("to {}", r.organisation),
        href: None,
        status: format::status(r.status),
        redacted: false,
    }));
    chain.extend(detail.projects.iter().map(|p| ChainLink {
        kind: "Project",
        text: p.title.clone(),
        href: Some(format!("/projects/{}", p.id)),
        status: p.status.map_or("—".to_owned(), |s| s.to_string()),
        redacted: false,
    }));
    let mut results = Vec::new();
    for p in &detail.projects {
        for r in &p.results {
            for i in &r.indicators {
                results.push(ResultRow {
                    project: p.title.clone(),
                    result: r.title.clone(),
                    indicator: i.def.title.clone(),
                    target: i.def.target.to_string(),
                    actual: i
                        .actuals
                        .last()
                        .map_or("—".to_owned(), |a| a.value.to_string()),
                });
            }
        }
    }
    if !results.is_empty() {
        chain.push(ChainLink {
            kind: "Results",
            text: format!("{} indicator(s) reported", results.len()),
            href: None,
            status: String::new(),
            redacted: false,
        });
    }
    let history = history
        .entries
        .iter()
        .map(|e| HistoryRow {
            on: e.on.to_string(),
            recorded_at: e.recorded_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            who: app.who(&e.principal),
            what: format::words(&e.kind),
            object: e.stream.split('-').next().unwrap_or_default().to_owned(),
        })
        .collect();
    let mut facts = vec![
        ("Beneficiary", need.beneficiary_institution.clone()),
        ("Identified on", format::date(need.identified_on)),
        ("Agreed with the State on", format::date(need.agreed_on)),
    ];
    if let Some(m) = &need.modality {
        facts.push(("Modality", format::words(&m.to_string())));
    }
    Ok(NeedPage {
        chrome: None,
        id: need.id.to_string(),
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        description: need.description.clone(),
        country: format::country(&need.member_state),
        theme: format::theme(&need.theme),
        priority: need.priority,
        status: format::status(need.status),
        facts,
        coverage_chart,
        coverage,
        chain,
        referrals,
        results,
        history,
        // Referring is a coordinator's move; a donor sees how its offers rank, no button.
        referable: viewer.principal.is_staff() && suggestions.as_ref().is_some_and(|s| s.referable),
        may_share: viewer.principal.is_staff()
            || viewer.principal.acts_for_state(&need.member_state),
        suggestions: suggestions.map(|s| s.suggestions.iter().map(SuggestionRow::from).collect()),
        keys: FormKeys::new(&viewer.session.csrf),
        confirm: None,
        problem: None,
    })
}

/// "Refer": without `confirm`, shows what the referral would overlap and asks again; with it,
/// proposes and refers the referral the suggestion describes (the body is the read model's, not
/// the form's: the form names only the offer).
pub(crate) async fn refer(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> Response {
    let chrome = viewer.chrome("/needs");
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(p) => return error_page(&p, Some(chrome)),
    };
    let mut page = match need_page(&app, &viewer, id, &AsOf::default()).await {
        Ok(page) => page,
        Err(p) => return error_page(&p, Some(chrome)),
    };
    page.chrome = Some(chrome);
    let matches: Result<NeedMatches, Problem> = viewer
        .view(&app, View::NeedMatchList, json!({"need_id": id}))
        .await;
    let offer_id = form.get("offer_id").and_then(|o| o.parse::<Uuid>().ok());
    let suggestion = match (matches, offer_id) {
        (Ok(m), Some(offer)) => m.suggestions.into_iter().find(|s| s.offer_id == offer),
        (Err(p), _) => return error_page(&p, page.chrome),
        (Ok(_), None) => None,
    };
    let Some(suggestion) = suggestion else {
        // The offer is no longer a suggestion (taken, withdrawn, or the need is covered): the
        // page shows the new state.
        page.problem = Some(
            "That offer is no longer among the suggestions for this need: it changed meanwhile. \
             The suggestions below are the current ones."
                .to_owned(),
        );
        return render_with(StatusCode::CONFLICT, &page);
    };
    if form.get("confirm").is_none() {
        let overlaps: Vec<Overlap> = viewer
            .view(
                &app,
                View::OverlapList,
                json!({"member_state": suggestion.member_state}),
            )
            .await
            .unwrap_or_default();
        let offer = suggestion.offer_id;
        page.confirm = Some(Confirm {
            offer_id: offer.to_string(),
            organisation: suggestion.organisation.clone(),
            title: suggestion.title.clone(),
            share: share_text(
                suggestion.referral_propose.share_money.as_ref(),
                suggestion.referral_propose.share_units,
            ),
            overlaps: overlaps
                .iter()
                .filter(|o| {
                    o.items.iter().any(|i| i.id == offer)
                        || (o.theme == suggestion.theme
                            && o.beneficiary_institution.as_deref()
                                == Some(suggestion.beneficiary_institution.as_str()))
                })
                .map(describe_overlap)
                .collect(),
            existing: page.referrals.clone(),
        });
        page.keys = FormKeys::new(&viewer.session.csrf);
        return render(&page);
    }
    let propose = match serde_json::to_value(&suggestion.referral_propose) {
        Ok(Value::Object(map)) => map,
        _ => return error_page(&Problem::internal(), page.chrome),
    };
    let proposed = viewer
        .submit(&app, "propose_referral", Vec::new(), propose, &form)
        .await;
    let referral = match proposed {
        Ok(reply) => reply["id"].as_str().unwrap_or_default().to_owned(),
        Err(p) => {
            page.problem = Some(p.detail);
            return render_with(p.status, &page);
        }
    };
    let refer_form = form.second_command();
    match viewer
        .submit(
            &app,
            "refer_referral",
            vec![("id".to_owned(), referral)],
            Map::new(),
            &refer_form,
        )
        .await
    {
        Ok(_) => see_other(&format!("/needs/{id}")),
        Err(p) => {
            page.problem = Some(p.detail);
            render_with(p.status, &page)
        }
    }
}

/// An overlap in words: both sides with their dates.
fn describe_overlap(o: &Overlap) -> String {
    let side = |i: &tatrack_contract::answers::OverlapItem| {
        format!(
            "{} of {} ({} to {})",
            i.kind,
            i.organisation,
            format::date(i.from),
            format::date(i.until)
        )
    };
    format!(
        "{} and {} overlap for {} in {}{}",
        side(&o.items[0]),
        side(&o.items[1]),
        format::theme(&o.theme),
        format::country(&o.member_state),
        o.beneficiary_institution
            .as_deref()
            .map(|b| format!(", beneficiary {b}"))
            .unwrap_or_default()
    )
}
