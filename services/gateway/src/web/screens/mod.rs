//! The console's screens, one module per family, and the navigation each role gets.

mod account;
mod admin;
mod assessments;
mod iati;
mod inbox;
mod need;
mod needs;
mod offers;
mod overview;
mod projects;
mod reports;
mod sharing;

use axum::Router;
use axum::routing::{get, post};
use tatrack_domain::Role;

use crate::app::App;

pub(super) fn router() -> Router<App> {
    Router::new()
        .route("/", get(overview::show))
        .route(
            "/sign-in",
            get(account::sign_in_form).post(account::sign_in),
        )
        .route("/sign-out", post(account::sign_out))
        .route(
            "/invitation/{secret}",
            get(account::invitation_form).post(account::accept_invitation),
        )
        .route("/needs", get(needs::list))
        .route("/needs.csv", get(needs::csv))
        .route("/needs/{id}", get(need::show))
        .route("/needs/{id}/refer", post(need::refer))
        .route("/inbox", get(inbox::show))
        .route("/referrals/{id}/{action}", post(inbox::act))
        .route("/projects", get(projects::list))
        .route("/projects/{id}", get(projects::show))
        .route("/projects/{id}/progress", post(projects::draft_progress))
        .route(
            "/progress-reports/{id}/{action}",
            post(projects::move_progress),
        )
        // Offers and administration.
        .route("/offers", get(offers::list).post(offers::draft))
        .route("/offers/{id}", get(offers::show))
        .route("/offers/{id}/{action}", post(offers::act))
        .route("/admin", get(admin::show))
        .route("/admin/invite", post(admin::invite))
        .route("/admin/accounts/{id}/{action}", post(admin::account_action))
        .route("/admin/tokens", post(admin::issue_token))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        // Assessments, sharing and reports.
        .route(
            "/assessments",
            get(assessments::list).post(assessments::plan),
        )
        .route("/assessments/{id}", get(assessments::show))
        .route("/assessments/{id}/{action}", post(assessments::act))
        .route("/reports", get(reports::list).post(reports::make))
        .route("/reports/{id}/again", post(reports::again))
        .route("/reports/iati.xml", get(iati::export))
        .route("/reports/iati-import", post(iati::import))
        .route("/sharing", get(sharing::list).post(sharing::grant))
        .route("/sharing/{id}/revoke", post(sharing::revoke))
}

/// The screens a role is shown in the navigation (a screen it may not use is not listed, and
/// the screen itself refuses it).
pub(super) fn navigation(role: Role) -> &'static [(&'static str, &'static str)] {
    const OVERVIEW: (&str, &str) = ("/", "Overview");
    const NEEDS: (&str, &str) = ("/needs", "Needs");
    const INBOX: (&str, &str) = ("/inbox", "Inbox");
    const PROJECTS: (&str, &str) = ("/projects", "Projects");
    // Offers: everyone but a State's focal point (it sees an offer only through the referrals of
    // its needs); administration: admins only.
    const OFFERS: (&str, &str) = ("/offers", "Offers");
    const ADMIN: (&str, &str) = ("/admin", "Administration");
    // Assessments, sharing and reports.
    const ASSESSMENTS: (&str, &str) = ("/assessments", "Assessments");
    const REPORTS: (&str, &str) = ("/reports", "Reports");
    const SHARING: (&str, &str) = ("/sharing", "Sharing");
    match role {
        Role::Auditor => &[
            OVERVIEW,
            NEEDS,
            OFFERS,
            PROJECTS,
            ASSESSMENTS,
            SHARING,
            REPORTS,
        ],
        Role::Admin => &[
            OVERVIEW,
            NEEDS,
            OFFERS,
            INBOX,
            PROJECTS,
            ASSESSMENTS,
            SHARING,
            REPORTS,
            ADMIN,
        ],
        Role::Coordinator | Role::System => &[
            OVERVIEW,
            NEEDS,
            OFFERS,
            INBOX,
            PROJECTS,
            ASSESSMENTS,
            SHARING,
            REPORTS,
        ],
        // Donors never see a State's consents.
        Role::Donor => &[
            OVERVIEW,
            NEEDS,
            OFFERS,
            INBOX,
            PROJECTS,
            ASSESSMENTS,
            REPORTS,
        ],
        Role::StateFocalPoint => &[
            OVERVIEW,
            NEEDS,
            INBOX,
            PROJECTS,
            ASSESSMENTS,
            SHARING,
            REPORTS,
        ],
    }
}

/// Hidden fields every form of a session carries: its CSRF token and a key that makes a form
/// sent twice one command.
pub(super) struct FormKeys {
    pub(super) csrf: String,
    pub(super) form_key: String,
}

impl FormKeys {
    pub(super) fn new(csrf: &str) -> Self {
        Self {
            csrf: csrf.to_owned(),
            form_key: uuid::Uuid::now_v7().to_string(),
        }
    }
}
