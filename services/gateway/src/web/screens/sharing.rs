//! Sharing: a State's consents (what is shared, with whom, since when, and who keeps access
//! through running work once a grant ends), the focal point's form to grant one and its button
//! to revoke one, whose answer (who keeps access) is shown on the page. Donors never see
//! consents (the view's rule), so the screen refuses them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_contract::answers::{AssessmentView, GrantView, KeptBy, NeedDetail};
use tatrack_contract::bus::View;
use tatrack_contract::commands::sharing::{KeepsAccess, Revoked};
use tatrack_domain::need::NeedState;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::sharing::{Audience, Scope, SharingGrantStatus};
use tatrack_domain::{Principal, Role};

use super::FormKeys;
use super::assessments::{country_options, options};
use super::needs::Choice;
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render_with, see_other};

pub(crate) struct GrantRow {
    pub(crate) id: String,
    /// What is shared, and the page that shows it.
    pub(crate) what: String,
    pub(crate) link: Option<String>,
    pub(crate) country: String,
    pub(crate) audience: String,
    pub(crate) since: String,
    pub(crate) until: String,
    pub(crate) status: String,
    pub(crate) active: bool,
    pub(crate) kept_by: Vec<String>,
    pub(crate) may_revoke: bool,
    pub(crate) form_key: String,
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct SharingPage {
    chrome: Option<Chrome>,
    rows: Vec<GrantRow>,
    /// The grant form: shown to a State's focal point (its own State) and staff (any State).
    may_grant: bool,
    /// Staff choose the State; a focal point's is its own.
    countries: Option<Vec<Choice>>,
    needs: Vec<Choice>,
    assessments: Vec<Choice>,
    organisations: Vec<Choice>,
    keys: FormKeys,
    problem: Option<Problem>,
    /// After a revocation: who keeps access through running work.
    revoked: Option<Vec<String>>,
    typed: FormData,
}

impl SharingPage {
    /// The problem's message when it is about `field` (or a part of it: `scope.need_id`).
    fn error_for(&self, field: &str) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|p| {
                p.field.as_deref().is_some_and(|f| {
                    f == field
                        || f.starts_with(&format!("{field}."))
                        || f.starts_with(&format!("{field}["))
                })
            })
            .map(|p| p.detail.as_str())
    }

    fn checked(&self, value: &str) -> bool {
        self.typed
            .0
            .iter()
            .any(|(k, v)| k == "organisation" && v == value)
    }
}

/// Who may use the screen: staff, auditors and States' focal points (never donors).
fn may_use(principal: &Principal) -> Result<(), Problem> {
    match principal.role {
        Role::Donor => Err(Problem::forbidden(
            "a State's consents are for the State, staff and auditors",
        )),
        _ => Ok(()),
    }
}

/// Who keeps access, to which need (by its description when this person's list has it), why.
fn kept(k: &KeptBy, needs: &[NeedState]) -> String {
    let need = needs.iter().find(|n| n.id == k.need_id).map_or_else(
        || k.need_id.to_string(),
        |n| format!("\"{}\"", n.description),
    );
    format!(
        "{} keeps need {need} ({})",
        k.organisation,
        format::words(&k.because)
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    min_position: Option<u64>,
    /// The need to share, chosen in the form (from a need's page: "Share this need").
    #[serde(default)]
    need_id: Option<uuid::Uuid>,
}

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<ListQuery>,
) -> Response {
    let refused = asked.need_id.map(|id| {
        // Not a refusal: the form comes with the need chosen, as if typed.
        (
            None,
            FormData(vec![
                ("scope".to_owned(), "need".to_owned()),
                ("need_id".to_owned(), id.to_string()),
            ]),
        )
    });
    page_response(&app, &viewer, asked.min_position, refused, None).await
}

/// How many of the needs the grant form offers to choose from (highest priority first); any
/// other need is shared from its own page ("Share this need"), which chooses it here.
const NEED_CHOICES: usize = 200;

async fn page_response(
    app: &App,
    viewer: &Viewer,
    min_position: Option<u64>,
    refused: Option<(Option<Problem>, FormData)>,
    revoked: Option<Result<Vec<KeptBy>, String>>,
) -> Response {
    let chrome = viewer.chrome("/sharing");
    if let Err(p) = may_use(&viewer.principal) {
        return error_page(&p, Some(chrome));
    }
    let mut params = json!({});
    if let Some(p) = min_position {
        params["min_position"] = json!(p);
    }
    let grants: Vec<GrantView> = match viewer.view(app, View::SharingGrantList, params).await {
        Ok(g) => g,
        Err(p) => return error_page(&p, Some(chrome)),
    };
    let p = &viewer.principal;
    let may_grant = p.is_staff() || p.role == Role::StateFocalPoint;
    let (organisations, needs) = if may_grant {
        let organisations: Vec<OrganisationState> =
            match viewer.view(app, View::OrganisationList, json!({})).await {
                Ok(o) => o,
                Err(p) => return error_page(&p, Some(chrome)),
            };
        // The first needs by priority (a State's own, for its focal point), not every need:
        // the list would not fit in one answer at scale, nor in a select.
        let mut asked = json!({"limit": NEED_CHOICES});
        if let (Role::StateFocalPoint, Some(state)) = (p.role, &p.member_state) {
            asked["member_state"] = json!(state);
        }
        let needs: Vec<NeedState> = match viewer.view(app, View::NeedList, asked).await {
            Ok(n) => n,
            Err(p) => return error_page(&p, Some(chrome)),
        };
        (organisations, needs)
    } else {
        (Vec::new(), Vec::new())
    };
    let assessments: Vec<AssessmentView> = if may_grant {
        match viewer.view(app, View::AssessmentList, json!({})).await {
            Ok(a) => a,
            Err(p) => return error_page(&p, Some(chrome)),
        }
    } else {
        Vec::new()
    };
    let (status, problem, typed) = match refused {
        Some((Some(p), typed)) => (p.status, Some(p), typed),
        Some((None, typed)) => (StatusCode::OK, None, typed),
        None => (StatusCode::OK, None, FormData::default()),
    };
    // The needs the page names (in the grants, in who keeps access, chosen in the form) that
    // are not among the choices, asked one by one: there are few.
    let mut needs = needs;
    let named: std::collections::BTreeSet<uuid::Uuid> = grants
        .iter()
        .flat_map(|g| {
            let scoped = match &g.state.scope {
                Some(Scope::Need { need_id }) => Some(*need_id),
                _ => None,
            };
            scoped
                .into_iter()
                .chain(g.kept_by.iter().map(|k| k.need_id))
        })
        .chain(typed.get("need_id").and_then(|id| id.parse().ok()))
        .filter(|id| !needs.iter().any(|n| n.id == *id))
        .collect();
    for id in named {
        if let Ok(detail) = viewer
            .view::<NeedDetail>(app, View::NeedShow, json!({"id": id}))
            .await
        {
            needs.insert(0, detail.need);
        }
    }
    let rows = grants
        .iter()
        .map(|g| {
            let s = &g.state;
            let (what, link) = match &s.scope {
                Some(Scope::Need { need_id }) => {
                    let described = needs
                        .iter()
                        .find(|n| n.id == *need_id)
                        .map_or_else(|| need_id.to_string(), |n| n.description.clone());
                    (
                        format!("need: {described}"),
                        Some(format!("/needs/{need_id}")),
                    )
                }
                Some(Scope::AllNeeds) => ("all its needs".to_owned(), None),
                Some(Scope::AssessmentReport { assessment_id }) => (
                    "an assessment report".to_owned(),
                    Some(format!("/assessments/{assessment_id}")),
                ),
                None => ("—".to_owned(), None),
            };
            let active = tatrack_domain::sharing::is_active(s, app.today());
            GrantRow {
                id: s.id.to_string(),
                what,
                link,
                country: format::country(&s.member_state),
                audience: match &s.audience {
                    Some(Audience::Organisations { ids }) => ids.join(", "),
                    Some(Audience::AllDonors) => "all donors".to_owned(),
                    None => "—".to_owned(),
                },
                since: format::date(s.granted_on),
                until: format::date(s.until),
                status: match (s.status, s.revoked_on) {
                    (Some(SharingGrantStatus::Revoked), Some(on)) => format!("revoked on {on}"),
                    (Some(SharingGrantStatus::Active), _) if !active => "ended".to_owned(),
                    (status, _) => format::status(status),
                },
                active,
                kept_by: g.kept_by.iter().map(|k| kept(k, &needs)).collect(),
                may_revoke: s.status == Some(SharingGrantStatus::Active)
                    && (p.is_staff() || p.acts_for_state(&s.member_state)),
                form_key: uuid::Uuid::now_v7().to_string(),
            }
        })
        .collect();
    let page = SharingPage {
        chrome: Some(chrome),
        rows,
        may_grant,
        countries: p
            .is_staff()
            .then(|| country_options(&typed.raw("member_state"))),
        needs: options(
            needs
                .iter()
                .filter(|n| p.is_staff() || p.acts_for_state(&n.member_state))
                .map(|n| {
                    (
                        n.id.to_string(),
                        format!("{} ({})", n.description, format::country(&n.member_state)),
                    )
                }),
            &typed.raw("need_id"),
        ),
        assessments: options(
            assessments
                .iter()
                .filter(|a| p.is_staff() || p.acts_for_state(&a.state.member_state))
                .map(|a| {
                    (
                        a.state.id.to_string(),
                        format!(
                            "{} ({})",
                            a.state.title,
                            format::country(&a.state.member_state)
                        ),
                    )
                }),
            &typed.raw("assessment_id"),
        ),
        organisations: options(
            organisations
                .iter()
                .map(|o| (o.id.clone(), format!("{} ({})", o.name, o.id))),
            "",
        ),
        keys: FormKeys::new(&viewer.session.csrf),
        problem,
        revoked: revoked.map(|r| match r {
            Ok(list) => list.iter().map(|k| kept(k, &needs)).collect(),
            Err(said) => vec![said],
        }),
        typed,
    };
    render_with(status, &page)
}

/// A State (or staff for it) grants sharing: a need, all its needs, or a report, to named
/// organisations or all donors.
pub(crate) async fn grant(State(app): State<App>, Posted { viewer, form }: Posted) -> Response {
    if let Err(p) = may_use(&viewer.principal) {
        return error_page(&p, Some(viewer.chrome("/sharing")));
    }
    let mut command = Map::new();
    let member_state = if viewer.principal.is_staff() {
        form.get("member_state").map(str::to_owned)
    } else {
        viewer.principal.member_state.clone()
    };
    if let Some(state) = member_state {
        command.insert("member_state".into(), json!(state));
    }
    let scope = match form.get("scope") {
        Some("need") => json!({"type": "need", "need_id": form.get("need_id").unwrap_or_default()}),
        Some("assessment_report") => json!({
            "type": "assessment_report",
            "assessment_id": form.get("assessment_id").unwrap_or_default(),
        }),
        Some(other) => json!({"type": other}),
        None => Value::Null,
    };
    if !scope.is_null() {
        command.insert("scope".into(), scope);
    }
    let ids: Vec<&str> = form
        .0
        .iter()
        .filter(|(k, v)| k == "organisation" && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
        .collect();
    let audience = match form.get("audience") {
        Some("all_donors") => json!({"type": "all_donors"}),
        _ => json!({"type": "organisations", "ids": ids}),
    };
    command.insert("audience".into(), audience);
    if let Some(until) = form.get("until") {
        command.insert("until".into(), json!(until));
    }
    match viewer
        .submit(&app, "grant_sharing", Vec::new(), command, &form)
        .await
    {
        Ok(reply) => {
            let position = reply.get("last_position").and_then(Value::as_u64);
            see_other(&position.map_or_else(
                || "/sharing".to_owned(),
                |p| format!("/sharing?min_position={p}"),
            ))
        }
        Err(p) if p.status.is_client_error() => {
            page_response(&app, &viewer, None, Some((Some(p), form)), None).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/sharing"))),
    }
}

/// Revokes a grant and shows the page with the answer: who keeps access through running work.
pub(crate) async fn revoke(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted,
) -> Response {
    let mut command = Map::new();
    if let Some(reason) = form.get("reason") {
        command.insert("reason".into(), json!(reason));
    }
    match viewer
        .submit(
            &app,
            "revoke_sharing",
            vec![("id".into(), id)],
            command,
            &form,
        )
        .await
    {
        Ok(value) => {
            let answer: Option<Revoked> = serde_json::from_value(value).ok();
            let position = answer.as_ref().map(|a| a.reply.last_position);
            let kept = match answer.and_then(|a| a.keeps_access) {
                Some(KeepsAccess::Known(list)) => Ok(list),
                Some(KeepsAccess::Unknown { unknown }) => {
                    Err(format!("Who keeps access could not be told now: {unknown}"))
                }
                // The same form sent again: the first answer had the list.
                None => Err("This revocation was recorded before.".to_owned()),
            };
            page_response(&app, &viewer, position, None, Some(kept)).await
        }
        Err(p) if p.status.is_client_error() => {
            page_response(&app, &viewer, None, Some((Some(p), form)), None).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/sharing"))),
    }
}
