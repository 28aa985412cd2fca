//! The HTTP API as resources: every route, what it runs on the bus, the schema of its body and of
//! its answer. The gateway serves exactly this table and the OpenAPI document is written from it,
//! so neither can drift from the other or from the types.
//!
//! - Collections and items: `GET /needs`, `GET /needs/{id}`, `GET /needs/{id}/matches`.
//! - Creation: `POST /needs` (the server mints the id, answers 201 with `Location`).
//! - Actions on an item: `POST /needs/{id}/agree`. Path parameters other than `{id}` fill the
//!   body field of the same name (`/projects/{id}/milestones/{milestone_id}/complete`).

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::answers::{
    Allocation, AssessmentView, Changes, GrantView, NeedDetail, NeedMatches, OfferMatches,
    OfferView, Overlap, Page, Portfolio, Positions, ProjectView, RateRow, TokenRow,
};
use crate::commands::report::{MadeReport, Summary};
use crate::commands::{
    Dated, Ending, Move, assessment, need, offer, organisation, progress, project, rates,
    recommendation, referral, sharing,
};
use crate::error::ErrorBody;
use crate::reply::CommandReply;
use crate::views;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::progress::ProgressReportState;
use tatrack_domain::rates::RateTableState;
use tatrack_domain::recommendation::RecommendationState;
use tatrack_domain::referral::ReferralState;

/// The prefix every route lives under.
pub const PREFIX: &str = "/api/v1";

/// Makes a schema for a type (as a fn pointer the table can hold).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;
/// Checks a JSON value against a type, naming the field that does not fit.
pub type CheckFn = fn(&Value) -> Result<(), ErrorBody>;

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn check<T: DeserializeOwned>(value: &Value) -> Result<(), ErrorBody> {
    crate::error::from_value::<T>(value).map(|_| ())
}

/// A route's method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
        }
    }
}

/// One route of the HTTP API.
#[derive(Clone, Copy)]
pub struct Route {
    pub method: Method,
    /// Under [`PREFIX`], with `{name}` path parameters.
    pub path: &'static str,
    /// The OpenAPI operationId, unique.
    pub operation: &'static str,
    pub summary: &'static str,
    /// The OpenAPI tag (the resource).
    pub tag: &'static str,
    pub target: Target,
}

/// What a route runs.
#[derive(Clone, Copy)]
pub enum Target {
    Command(CommandRoute),
    View(ViewRoute),
}

/// A command: the service and verb on the bus, the body's type, what it answers.
#[derive(Clone, Copy)]
pub struct CommandRoute {
    pub service: &'static str,
    pub verb: &'static str,
    /// Creates an aggregate: 201 with `Location: <location>/<id>`.
    pub creates: Option<&'static str>,
    /// A part the command adds inside its aggregate (`transaction_id`): the gateway mints it when
    /// the body leaves it out and names it in the answer.
    pub part: Option<&'static str>,
    pub body: SchemaFn,
    pub check: CheckFn,
    pub answer: SchemaFn,
}

/// A view: its name on the bus, its parameters, its answer.
#[derive(Clone, Copy)]
pub struct ViewRoute {
    pub view: &'static str,
    /// The view parameter the path's `{id}` fills (`id` for `*_show`, `need_id` for a need's
    /// matches...); `None` for collections.
    pub id_param: Option<&'static str>,
    /// Parses and checks a query string into the view's parameters.
    pub params: fn(&str) -> Result<serde_json::Map<String, Value>, ErrorBody>,
    pub params_schema: SchemaFn,
    pub answer: SchemaFn,
    /// Lists come in pages (`limit`, `cursor`).
    pub paged: bool,
}

/// Parses a query string into `T` (refusing unknown names, by name) and back into JSON.
fn parse<T: DeserializeOwned + serde::Serialize>(
    query: &str,
) -> Result<serde_json::Map<String, Value>, ErrorBody> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let params: T = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let field = message
            .strip_prefix("unknown field `")
            .or_else(|| message.strip_prefix("missing field `"))
            .and_then(|rest| rest.split_once('`'))
            .map_or(path, |(name, _)| name.to_owned());
        let field = if field.is_empty() || field == "." {
            "query".to_owned()
        } else {
            field
        };
        ErrorBody::invalid(&field, &message)
    })?;
    match serde_json::to_value(params) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ErrorBody::internal()),
    }
}

macro_rules! command {
    ($method:ident $path:literal, $op:literal, $tag:literal, $summary:literal,
     $service:literal . $verb:literal, $body:ty => $answer:ty $(, creates $loc:literal)? $(, part $part:literal)?) => {
        Route {
            method: Method::$method,
            path: $path,
            operation: $op,
            summary: $summary,
            tag: $tag,
            target: Target::Command(CommandRoute {
                service: $service,
                verb: $verb,
                creates: command!(@opt $($loc)?),
                part: command!(@opt $($part)?),
                body: schema::<$body>,
                check: check::<$body>,
                answer: schema::<$answer>,
            }),
        }
    };
    (@opt $value:literal) => { Some($value) };
    (@opt) => { None };
}

macro_rules! view {
    (paged $($rest:tt)*) => { view!(@route true, $($rest)*) };
    (one $($rest:tt)*) => { view!(@route false, $($rest)*) };
    (@route $paged:expr, $path:literal, $op:literal, $tag:literal, $summary:literal, $view:literal,
     $params:ty => $answer:ty $(, id = $id:literal)?) => {
        Route {
            method: Method::Get,
            path: $path,
            operation: $op,
            summary: $summary,
            tag: $tag,
            target: Target::View(ViewRoute {
                view: $view,
                id_param: command!(@opt $($id)?),
                params: parse::<$params>,
                params_schema: schema::<$params>,
                answer: schema::<$answer>,
                paged: $paged,
            }),
        }
    };
}

/// Every route of the HTTP API.
pub fn routes() -> Vec<Route> {
    use views::*;
    vec![
        // Assessments
        view!(paged "/assessments", "list_assessments", "assessments", "Assessments with their two clocks", "assessment_list", AssessmentList => Page<AssessmentView>),
        view!(one "/assessments/{id}", "show_assessment", "assessments", "One assessment", "assessment_show", Show => AssessmentView, id = "id"),
        command!(Post "/assessments", "plan_assessment", "assessments", "Plan an assessment (status planned)", "assessments"."assessment_plan", assessment::Plan => CommandReply, creates "/assessments"),
        command!(Post "/assessments/{id}/conduct", "conduct_assessment", "assessments", "planned -> conducted", "assessments"."assessment_mark_conducted", Move => CommandReply),
        command!(Post "/assessments/{id}/send-draft", "send_assessment_draft", "assessments", "conducted -> draft sent to the State (starts the 30-day clock)", "assessments"."assessment_send_draft", Move => CommandReply),
        command!(Post "/assessments/{id}/observations", "record_assessment_observations", "assessments", "The State's factual observations on the draft", "assessments"."assessment_record_observations", Dated => CommandReply),
        command!(Post "/assessments/{id}/adopt", "adopt_assessment", "assessments", "draft sent -> adopted (starts the 6-month clock)", "assessments"."assessment_adopt", Move => CommandReply),
        command!(Post "/assessments/{id}/response", "record_assessment_response", "assessments", "adopted -> response received", "assessments"."assessment_record_response", Move => CommandReply),
        command!(Post "/assessments/{id}/close", "close_assessment", "assessments", "response received -> closed", "assessments"."assessment_close", Move => CommandReply),
        command!(Post "/assessments/{id}/cancel", "cancel_assessment", "assessments", "planned -> cancelled", "assessments"."assessment_cancel", Move => CommandReply),
        // Recommendations
        view!(paged "/recommendations", "list_recommendations", "recommendations", "Recommendations (text redacted where the caller may not read it)", "recommendation_list", RecommendationList => Page<RecommendationState>),
        view!(paged "/recommendation-rates", "list_recommendation_rates", "recommendations", "Implementation of recommendations per State and theme", "recommendation_rate_list", RateList => Page<RateRow>),
        command!(Post "/recommendations", "record_recommendation", "recommendations", "Record a recommendation of an assessment", "assessments"."recommendation_record", recommendation::Record => CommandReply, creates "/recommendations"),
        command!(Post "/recommendations/{id}/status", "update_recommendation_status", "recommendations", "Move a recommendation's implementation status", "assessments"."recommendation_update_status", recommendation::UpdateStatus => CommandReply),
        // Needs
        view!(paged "/needs", "list_needs", "needs", "Needs the caller may see, highest priority first", "need_list", NeedList => Page<tatrack_domain::need::NeedState>),
        view!(paged "/unmet-needs", "list_unmet_needs", "needs", "Needs not yet met nor fully covered", "unmet_need_list", NeedList => Page<tatrack_domain::need::NeedState>),
        view!(one "/needs/{id}", "show_need", "needs", "One need with its referrals and projects", "need_show", Show => NeedDetail, id = "id"),
        view!(one "/needs/{id}/matches", "match_need", "needs", "Offers that could serve a need, ranked with every criterion's points", "need_match_list", Matches => NeedMatches, id = "need_id"),
        command!(Post "/needs", "identify_need", "needs", "Identify a need (status identified)", "assessments"."need_identify", need::Identify => CommandReply, creates "/needs"),
        command!(Post "/needs/{id}/agree", "agree_need", "needs", "The State agrees the need is a priority", "assessments"."need_agree_with_state", Move => CommandReply),
        command!(Post "/needs/{id}/withdraw", "withdraw_need", "needs", "Withdraw a need (the reason is required)", "assessments"."need_withdraw", Ending => CommandReply),
        command!(Post "/needs/{id}/decline", "decline_need", "needs", "The State declines a need (the reason is required)", "assessments"."need_decline", Ending => CommandReply),
        command!(Post "/needs/{id}/met", "mark_need_met", "needs", "covered -> met", "assessments"."need_mark_met", Move => CommandReply),
        command!(Post "/needs/{id}/amend", "amend_need", "needs", "Change a need's description, beneficiary, cost, size or priority", "assessments"."need_amend", need::Amend => CommandReply),
        // Sharing
        view!(paged "/sharing-grants", "list_sharing_grants", "sharing", "A State's consents (who keeps access through running work)", "sharing_grant_list", GrantList => Page<GrantView>),
        command!(Post "/sharing-grants", "grant_sharing", "sharing", "A State shares a need, all its needs or a report", "assessments"."sharing_grant_grant", sharing::Grant => CommandReply, creates "/sharing-grants"),
        command!(Post "/sharing-grants/{id}/revoke", "revoke_sharing", "sharing", "Revoke a grant (the answer says who keeps access through running work)", "assessments"."sharing_grant_revoke", Move => sharing::Revoked),
        // Organisations
        view!(paged "/organisations", "list_organisations", "organisations", "The registry of organisations", "organisation_list", StatusList => Page<OrganisationState>),
        view!(one "/organisations/{id}", "show_organisation", "organisations", "One organisation", "organisation_show", Show => OrganisationState, id = "id"),
        view!(one "/organisations/{id}/portfolio", "show_portfolio", "organisations", "A donor's portfolio: offers, referrals, projects, money", "portfolio_show", Show => Portfolio, id = "organisation"),
        command!(Post "/organisations", "register_organisation", "organisations", "Register an organisation (its code is its id)", "partners"."organisation_register", organisation::Register => CommandReply, creates "/organisations"),
        command!(Post "/organisations/{id}/update", "update_organisation", "organisations", "Change an organisation's details", "partners"."organisation_update", organisation::Update => CommandReply),
        command!(Post "/organisations/{id}/deactivate", "deactivate_organisation", "organisations", "Deactivate an organisation (the reason is required)", "partners"."organisation_deactivate", Ending => CommandReply),
        // Offers
        view!(paged "/offers", "list_offers", "offers", "Offers with what is left of them", "offer_list", OfferList => Page<OfferView>),
        view!(one "/offers/{id}", "show_offer", "offers", "One offer", "offer_show", Show => OfferView, id = "id"),
        view!(one "/offers/{id}/matches", "match_offer", "offers", "Needs an offer could serve, ranked", "offer_match_list", Matches => OfferMatches, id = "offer_id"),
        command!(Post "/offers", "draft_offer", "offers", "Draft an offer (status draft)", "partners"."offer_draft", offer::Draft => CommandReply, creates "/offers"),
        command!(Post "/offers/{id}/publish", "publish_offer", "offers", "draft -> open", "partners"."offer_publish", Move => CommandReply),
        command!(Post "/offers/{id}/amend", "amend_offer", "offers", "Change an offer", "partners"."offer_amend", offer::Amend => CommandReply),
        command!(Post "/offers/{id}/withdraw", "withdraw_offer", "offers", "Withdraw an offer (the reason is required)", "partners"."offer_withdraw", Ending => CommandReply),
        command!(Post "/offers/{id}/expire", "expire_offer", "offers", "Expire an offer past its window", "partners"."offer_expire", Dated => CommandReply),
        // Referrals
        view!(paged "/referrals", "list_referrals", "referrals", "Referrals of needs to offers", "referral_list", ReferralList => Page<ReferralState>),
        view!(one "/referrals/{id}", "show_referral", "referrals", "One referral", "referral_show", Show => ReferralState, id = "id"),
        command!(Post "/referrals", "propose_referral", "referrals", "Propose a need for an offer (status proposed)", "projects"."referral_propose", referral::Propose => CommandReply, creates "/referrals"),
        command!(Post "/referrals/{id}/refer", "refer_referral", "referrals", "proposed -> referred to the partner", "projects"."referral_refer", Move => CommandReply),
        command!(Post "/referrals/{id}/accept-by-partner", "accept_referral_by_partner", "referrals", "The partner accepts", "projects"."referral_accept_by_partner", Move => CommandReply),
        command!(Post "/referrals/{id}/decline-by-partner", "decline_referral_by_partner", "referrals", "The partner declines (the reason is required)", "projects"."referral_decline_by_partner", Ending => CommandReply),
        command!(Post "/referrals/{id}/accept-by-state", "accept_referral_by_state", "referrals", "The State accepts", "projects"."referral_accept_by_state", Move => CommandReply),
        command!(Post "/referrals/{id}/decline-by-state", "decline_referral_by_state", "referrals", "The State declines (the reason is required)", "projects"."referral_decline_by_state", Ending => CommandReply),
        command!(Post "/referrals/{id}/activate", "activate_referral", "referrals", "An accepted referral starts or joins a project", "projects"."referral_activate", referral::Activate => CommandReply),
        command!(Post "/referrals/{id}/lapse", "lapse_referral", "referrals", "A referral lapses (the reason is required)", "projects"."referral_lapse", Ending => CommandReply),
        // Projects
        view!(paged "/projects", "list_projects", "projects", "Projects with their money and late milestones", "project_list", ProjectList => Page<ProjectView>),
        view!(one "/projects/{id}", "show_project", "projects", "One project: organisations, transactions, milestones, results", "project_show", Show => ProjectView, id = "id"),
        command!(Post "/projects", "create_project", "projects", "Create a project shaped like an IATI activity (status 1)", "projects"."project_create", project::Create => CommandReply, creates "/projects"),
        command!(Post "/projects/{id}/status", "change_project_status", "projects", "Move the IATI ActivityStatus", "projects"."project_change_status", project::ChangeStatus => CommandReply),
        command!(Post "/projects/{id}/referrals", "join_project_referral", "projects", "An active referral joins the project", "projects"."project_join_referral", project::JoinReferral => CommandReply),
        command!(Post "/projects/{id}/budget", "set_project_budget", "projects", "Set the budget", "projects"."project_set_budget", project::SetBudget => CommandReply),
        command!(Post "/projects/{id}/transactions", "add_project_transaction", "projects", "Record a transaction (the provider records its own money)", "projects"."project_add_transaction", project::AddTransaction => CommandReply, part "transaction_id"),
        command!(Post "/projects/{id}/milestones", "add_project_milestone", "projects", "Add a milestone", "projects"."project_add_milestone", project::AddMilestone => CommandReply, part "milestone_id"),
        command!(Post "/projects/{id}/milestones/{milestone_id}/complete", "complete_project_milestone", "projects", "Mark a milestone done", "projects"."project_complete_milestone", project::CompleteMilestone => CommandReply),
        command!(Post "/projects/{id}/results", "add_project_result", "projects", "Add a result with its indicators", "projects"."project_add_result", project::AddResult => CommandReply, part "result_id"),
        command!(Post "/projects/{id}/results/{result_id}/indicators/{indicator_id}/actuals", "record_indicator_actual", "projects", "Record an indicator's actual value", "projects"."project_record_indicator_actual", project::RecordIndicatorActual => CommandReply),
        command!(Post "/projects/{id}/documents", "add_project_document", "projects", "Link a document", "projects"."project_add_document", project::AddDocument => CommandReply),
        // Progress reports
        view!(paged "/progress-reports", "list_progress_reports", "progress", "Progress reports on the projects the caller may see", "progress_report_list", ProgressList => Page<ProgressReportState>),
        command!(Post "/progress-reports", "draft_progress_report", "progress", "Draft a progress report", "projects"."progress_report_draft", progress::Draft => CommandReply, creates "/progress-reports"),
        command!(Post "/progress-reports/{id}/revise", "revise_progress_report", "progress", "Change a draft or returned report", "projects"."progress_report_revise", progress::Revise => CommandReply),
        command!(Post "/progress-reports/{id}/submit", "submit_progress_report", "progress", "draft -> submitted", "projects"."progress_report_submit", Move => CommandReply),
        command!(Post "/progress-reports/{id}/validate", "validate_progress_report", "progress", "submitted -> validated (coordinators)", "projects"."progress_report_validate", Move => CommandReply),
        command!(Post "/progress-reports/{id}/return", "return_progress_report", "progress", "submitted -> returned (coordinators; the reason is required)", "projects"."progress_report_return", Ending => CommandReply),
        // Rates
        view!(one "/rates", "show_rates", "rates", "The exchange-rate tables, by date", "rate_table_show", Show => Vec<RateTableState>),
        command!(Post "/rates", "record_rates", "rates", "Record the rates of a day (never overwritten)", "projects"."rate_table_record", rates::Record => CommandReply),
        // Tokens
        view!(paged "/tokens", "list_tokens", "tokens", "Access tokens (admins; never their hash)", "token_list", StatusList => Page<TokenRow>),
        command!(Post "/tokens", "issue_token", "tokens", "Issue a token (admins): the answer holds the secret, once", "partners"."token_issue", crate::commands::token::IssueRequest => crate::commands::token::Issued, creates "/tokens"),
        command!(Post "/tokens/{id}/revoke", "revoke_token", "tokens", "Revoke a token (admins; the reason is required)", "partners"."token_revoke", Ending => CommandReply),
        // Reports and the read model
        command!(Post "/reports", "make_report", "reports", "Make a summary report as of a business date, recorded with its SHA-256", "reporter"."report_summary", Summary => MadeReport, creates "/reports"),
        view!(one "/reports/{id}/changes", "list_report_changes", "reports", "What was recorded after a report that changes its figures", "change_list", Show => Changes, id = "report_id"),
        view!(one "/allocation", "propose_allocation", "matching", "Shares over all open needs and offers that maximise priority-weighted coverage", "allocation_proposal", AllocationParams => Allocation),
        view!(paged "/overlaps", "list_overlaps", "matching", "Work for the same State, theme and beneficiary with overlapping dates", "overlap_list", OverlapList => Page<Overlap>),
        view!(one "/positions", "show_positions", "system", "How far the read model has applied each stream", "position_show", Show => Positions),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_and_routes_are_unique() {
        let routes = routes();
        let mut ops: Vec<&str> = routes.iter().map(|r| r.operation).collect();
        ops.sort_unstable();
        let before = ops.len();
        ops.dedup();
        assert_eq!(ops.len(), before, "operationIds are unique");
        let mut keys: Vec<(&str, &str)> =
            routes.iter().map(|r| (r.method.as_str(), r.path)).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), routes.len(), "one route per method and path");
    }

    #[test]
    fn query_strings_are_checked_by_name() {
        let ok = parse::<views::NeedList>("member_state=KE&priority=1&limit=5").unwrap();
        assert_eq!(ok["member_state"], "KE");
        assert_eq!(ok["priority"], 1);
        for (query, field) in [
            ("priority=high", "priority"),
            ("colour=red", "colour"),
            ("as_of=yesterday", "as_of"),
            ("limit=0", "limit"),
        ] {
            let e = parse::<views::NeedList>(query);
            if field == "limit" {
                // The range is the gateway's to check (the schema says 1 to 1000).
                continue;
            }
            assert_eq!(e.unwrap_err().field.as_deref(), Some(field), "{query}");
        }
    }
}
