//! The referrals inbox: what waits for the signed-in person. A partner accepts or declines what
//! was referred to it; a State focal point accepts or declines what a partner accepted for its
//! country; a coordinator refers proposals, starts the project of a referral both accepted,
//! and lapses what went nowhere. Each move is the API's command; a refusal is shown on the
//! referral it concerns, with what was typed kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use tatrack_contract::bus::View;
use tatrack_domain::Role;
use tatrack_domain::referral::{ReferralState, ReferralStatus};
use uuid::Uuid;

use super::FormKeys;
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render_with, see_other};

/// The moves a role makes on a referral in a given status (URL action, button label, whether
/// a reason is required).
fn moves(role: Role, status: ReferralStatus) -> &'static [(&'static str, &'static str, bool)] {
    use ReferralStatus as S;
    match (role, status) {
        (Role::Donor, S::Referred) => &[
            ("accept-by-partner", "Accept", false),
            ("decline-by-partner", "Decline", true),
        ],
        (Role::StateFocalPoint, S::AcceptedByPartner) => &[
            ("accept-by-state", "Accept for the State", false),
            ("decline-by-state", "Decline for the State", true),
        ],
        (Role::Coordinator | Role::Admin, S::Proposed) => &[
            ("refer", "Refer to the partner", false),
            ("lapse", "Lapse", true),
        ],
        (Role::Coordinator | Role::Admin, S::AcceptedByState) => &[
            ("start-project", "Start the project", false),
            ("lapse", "Lapse", true),
        ],
        (Role::Coordinator | Role::Admin, S::Referred | S::AcceptedByPartner) => {
            &[("lapse", "Lapse", true)]
        }
        _ => &[],
    }
}

/// The API operation of a URL action.
fn operation(action: &str) -> Option<&'static str> {
    Some(match action {
        "accept-by-partner" => "accept_referral_by_partner",
        "decline-by-partner" => "decline_referral_by_partner",
        "accept-by-state" => "accept_referral_by_state",
        "decline-by-state" => "decline_referral_by_state",
        "refer" => "refer_referral",
        "lapse" => "lapse_referral",
        _ => return None,
    })
}

pub(crate) struct Move {
    pub(crate) action: &'static str,
    pub(crate) label: &'static str,
    pub(crate) reason_required: bool,
}

pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) need_id: String,
    pub(crate) organisation: String,
    pub(crate) country: String,
    pub(crate) share: String,
    pub(crate) status: String,
    pub(crate) proposed_on: String,
    pub(crate) moves: Vec<Move>,
    pub(crate) start_project: bool,
    /// The idempotency key of this referral's "start the project" form.
    pub(crate) form_key: String,
    /// The referral's version as shown, sent back by its moves (a stale move is refused).
    pub(crate) version: Option<u64>,
    /// The refusal of the last move on this referral, and the field it names.
    pub(crate) problem: Option<(String, String)>,
    pub(crate) typed: FormData,
}

impl Item {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Option<Chrome>,
    items: Vec<Item>,
    /// A refusal about a referral not listed here.
    problem: Option<String>,
    keys: FormKeys,
    role: &'static str,
}

pub(crate) async fn show(State(app): State<App>, viewer: Viewer) -> Response {
    inbox(&app, &viewer, None).await
}

async fn inbox(app: &App, viewer: &Viewer, refused: Option<(Uuid, Problem, FormData)>) -> Response {
    let chrome = viewer.chrome("/inbox");
    let role = viewer.principal.role;
    // Only the referrals in a status this person acts on, one list per status: every referral
    // ever made would not fit in one answer at scale.
    let waiting = [
        ReferralStatus::Proposed,
        ReferralStatus::Referred,
        ReferralStatus::AcceptedByPartner,
        ReferralStatus::AcceptedByState,
    ]
    .into_iter()
    .filter(|s| !moves(role, *s).is_empty())
    .map(|s| {
        viewer.view::<Vec<ReferralState>>(app, View::ReferralList, json!({"status": s.to_string()}))
    });
    let mut referrals = Vec::new();
    for listed in futures::future::join_all(waiting).await {
        match listed {
            Ok(r) => referrals.extend(r),
            Err(p) => return error_page(&p, Some(chrome)),
        }
    }
    // Oldest first, as they came in (ids are UUID v7).
    referrals.sort_by_key(|r| r.id);
    // A refusal is shown on its referral; one about a referral not in the inbox (any more) at
    // the top of the page.
    let status = refused
        .as_ref()
        .map_or(StatusCode::OK, |(_, p, _)| p.status);
    let elsewhere = refused
        .as_ref()
        .filter(|(id, _, _)| {
            !referrals
                .iter()
                .any(|r| r.id == *id && r.status.is_some_and(|s| !moves(role, s).is_empty()))
        })
        .map(|(_, p, _)| p.detail.clone());
    let stream = |id: &Uuid| tatrack_bus::subjects::log_stream("referral", id);
    let versions = viewer
        .versions(
            app,
            referrals
                .iter()
                .filter(|r| r.status.is_some_and(|s| !moves(role, s).is_empty()))
                .map(|r| stream(&r.id)),
        )
        .await;
    let items = referrals
        .iter()
        .filter_map(|r| {
            let moves = moves(role, r.status?);
            if moves.is_empty() {
                return None;
            }
            let (problem, typed) = match &refused {
                Some((id, p, typed)) if *id == r.id => (
                    Some((p.field.clone().unwrap_or_default(), p.detail.clone())),
                    typed.clone(),
                ),
                _ => (None, FormData::default()),
            };
            Some(Item {
                id: r.id.to_string(),
                need_id: r.need_id.to_string(),
                organisation: r.organisation.clone(),
                country: format::country(&r.member_state),
                share: r
                    .share_money
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), format::money),
                status: format::status(r.status),
                proposed_on: format::date(r.proposed_on),
                start_project: moves.iter().any(|m| m.0 == "start-project"),
                form_key: Uuid::now_v7().to_string(),
                version: versions.get(&stream(&r.id)).copied(),
                moves: moves
                    .iter()
                    .filter(|m| m.0 != "start-project")
                    .map(|&(action, label, reason_required)| Move {
                        action,
                        label,
                        reason_required,
                    })
                    .collect(),
                problem,
                typed,
            })
        })
        .collect();
    let page = InboxPage {
        chrome: Some(chrome),
        items,
        problem: elsewhere,
        keys: FormKeys::new(&viewer.session.csrf),
        role: format::role(role),
    };
    render_with(status, &page)
}

pub(crate) async fn act(
    State(app): State<App>,
    Path((id, action)): Path<(String, String)>,
    Posted { viewer, form }: Posted,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return error_page(
            &Problem::invalid("id", "must be a UUID"),
            Some(viewer.chrome("/inbox")),
        );
    };
    let result = if action == "start-project" {
        start_project(&app, &viewer, id, &form).await
    } else {
        let Some(operation) = operation(&action) else {
            return error_page(
                &Problem::not_found(format!("no action {action}")),
                Some(viewer.chrome("/inbox")),
            );
        };
        let mut body = Map::new();
        if let Some(reason) = form.get("reason") {
            body.insert("reason".into(), json!(reason));
        }
        viewer
            .submit(
                &app,
                operation,
                vec![("id".into(), id.to_string())],
                body,
                &form,
            )
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => see_other("/inbox"),
        Err(problem) if problem.status.is_client_error() => {
            inbox(&app, &viewer, Some((id, problem, form))).await
        }
        Err(problem) => error_page(&problem, Some(viewer.chrome("/inbox"))),
    }
}

/// Creates the project of a referral that both sides accepted, then activates the referral into
/// it: the partner funds and implements it, for the need's country and theme.
async fn start_project(
    app: &App,
    viewer: &Viewer,
    id: Uuid,
    form: &FormData,
) -> Result<(), Problem> {
    let referral: ReferralState = viewer
        .view(app, View::ReferralShow, json!({"id": id}))
        .await?;
    let need: tatrack_contract::answers::NeedDetail = viewer
        .view(app, View::NeedShow, json!({"id": referral.need_id}))
        .await?;
    let dac_sector = tatrack_domain::codes::theme(&need.need.theme)
        .map(|t| t.nearest_dac5.clone())
        .unwrap_or_default();
    let mut body = Map::new();
    for field in ["title", "planned_start", "planned_end"] {
        if let Some(value) = form.get(field) {
            body.insert(field.into(), json!(value));
        }
    }
    let title = form.get("title").unwrap_or_default().to_owned();
    body.insert(
        "iati_identifier".into(),
        json!(format!(
            "{}-{}",
            referral.organisation,
            &id.simple().to_string()[..12]
        )),
    );
    body.insert(
        "description".into(),
        json!(format!("{title}: {}", need.need.description)),
    );
    body.insert("recipient_country".into(), json!(referral.member_state));
    body.insert("theme".into(), json!(need.need.theme));
    body.insert("dac_sector".into(), json!(dac_sector));
    body.insert(
        "participating".into(),
        json!([
            {"organisation": referral.organisation, "role": "1"},
            {"organisation": referral.organisation, "role": "4"},
        ]),
    );
    if let Some(share) = &referral.share_money {
        body.insert("budget".into(), json!(share));
    }
    body.insert("needs".into(), json!([referral.need_id]));
    let created: Value = viewer
        .submit(app, "create_project", Vec::new(), body, form)
        .await?;
    let project_id = created["id"].as_str().unwrap_or_default().to_owned();
    viewer
        .submit(
            app,
            "activate_referral",
            vec![("id".into(), id.to_string())],
            serde_json::from_value(json!({"project_id": project_id})).unwrap_or_default(),
            &form.second_command(),
        )
        .await?;
    Ok(())
}
