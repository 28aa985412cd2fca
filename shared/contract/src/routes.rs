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
    AccountRow, Allocation, AssessmentView, Changes, GrantView, NeedDetail, NeedHistory,
    NeedMatches, OfferMatches, OfferView, Overlap, Overview, Page, Portfolio, Positions,
    ProjectView, RateRow, StreamVersion, TokenRow,
};
use crate::bus::{Verb, View};
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

/// The verbs no HTTP API route sends: the web console inside the gateway is their only door.
/// An account's password is set only by whoever holds its one-time link, never with an API
/// token, and invitations carry a secret the console alone makes and mails; so the API cannot
/// reach them (and the gateway's NATS user may send them for the console).
pub const CONSOLE_VERBS: &[Verb] = &[
    Verb::AccountInvite,
    Verb::AccountReinvite,
    Verb::AccountSetPassword,
    Verb::AccountDisable,
];

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
    /// The verb it sends (and so the service that answers).
    pub verb: Verb,
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
    pub view: View,
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
     $verb:ident, $body:ty => $answer:ty $(, creates $loc:literal)? $(, part $part:literal)?) => {
        Route {
            method: Method::$method,
            path: $path,
            operation: $op,
            summary: $summary,
            tag: $tag,
            target: Target::Command(CommandRoute {
                verb: Verb::$verb,
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
    (@route $paged:expr, $path:literal, $op:literal, $tag:literal, $summary:literal, $view:expr,
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
        view!(paged "/assessments", "list_assessments", "assessments", "Assessments with their two clocks", View::AssessmentList, AssessmentList => Page<AssessmentView>),
        view!(one "/assessments/{id}", "show_assessment", "assessments", "One assessment", View::AssessmentShow, Show => AssessmentView, id = "id"),
        command!(Post "/assessments", "plan_assessment", "assessments", "Plan an assessment (status planned)", AssessmentPlan, assessment::Plan => CommandReply, creates "/assessments"),
        command!(Post "/assessments/{id}/conduct", "conduct_assessment", "assessments", "planned -> conducted", AssessmentMarkConducted, Move => CommandReply),
        command!(Post "/assessments/{id}/send-draft", "send_assessment_draft", "assessments", "conducted -> draft sent to the State (starts the 30-day clock)", AssessmentSendDraft, Move => CommandReply),
        command!(Post "/assessments/{id}/observations", "record_assessment_observations", "assessments", "The State's factual observations on the draft", AssessmentRecordObservations, Dated => CommandReply),
        command!(Post "/assessments/{id}/adopt", "adopt_assessment", "assessments", "draft sent -> adopted (starts the 6-month clock)", AssessmentAdopt, Move => CommandReply),
        command!(Post "/assessments/{id}/response", "record_assessment_response", "assessments", "adopted -> response received", AssessmentRecordResponse, Move => CommandReply),
        command!(Post "/assessments/{id}/close", "close_assessment", "assessments", "response received -> closed", AssessmentClose, Move => CommandReply),
        command!(Post "/assessments/{id}/cancel", "cancel_assessment", "assessments", "planned -> cancelled", AssessmentCancel, Move => CommandReply),
        // Recommendations
        view!(paged "/recommendations", "list_recommendations", "recommendations", "Recommendations (text redacted where the caller may not read it)", View::RecommendationList, RecommendationList => Page<RecommendationState>),
        view!(paged "/recommendation-rates", "list_recommendation_rates", "recommendations", "Implementation of recommendations per State and theme", View::RecommendationRateList, RateList => Page<RateRow>),
        command!(Post "/recommendations", "record_recommendation", "recommendations", "Record a recommendation of an assessment", RecommendationRecord, recommendation::Record => CommandReply, creates "/recommendations"),
        command!(Post "/recommendations/{id}/status", "update_recommendation_status", "recommendations", "Move a recommendation's implementation status", RecommendationUpdateStatus, recommendation::UpdateStatus => CommandReply),
        // Needs
        view!(paged "/needs", "list_needs", "needs", "Needs the caller may see, highest priority first", View::NeedList, NeedList => Page<tatrack_domain::need::NeedState>),
        view!(paged "/unmet-needs", "list_unmet_needs", "needs", "Needs not yet met nor fully covered", View::UnmetNeedList, NeedList => Page<tatrack_domain::need::NeedState>),
        view!(one "/needs/{id}", "show_need", "needs", "One need with its referrals and projects", View::NeedShow, Show => NeedDetail, id = "id"),
        view!(one "/needs/{id}/history", "show_need_history", "needs", "A need's audit trail: the events of the need, its recommendations, referrals and projects (kind, who, when; no payloads)", View::NeedHistory, Show => NeedHistory, id = "id"),
        view!(one "/needs/{id}/matches", "match_need", "needs", "Offers that could serve a need, ranked with every criterion's points", View::NeedMatchList, Matches => NeedMatches, id = "need_id"),
        command!(Post "/needs", "identify_need", "needs", "Identify a need (status identified)", NeedIdentify, need::Identify => CommandReply, creates "/needs"),
        command!(Post "/needs/{id}/agree", "agree_need", "needs", "The State agrees the need is a priority", NeedAgreeWithState, Move => CommandReply),
        command!(Post "/needs/{id}/withdraw", "withdraw_need", "needs", "Withdraw a need (the reason is required)", NeedWithdraw, Ending => CommandReply),
        command!(Post "/needs/{id}/decline", "decline_need", "needs", "The State declines a need (the reason is required)", NeedDecline, Ending => CommandReply),
        command!(Post "/needs/{id}/met", "mark_need_met", "needs", "covered -> met", NeedMarkMet, Move => CommandReply),
        command!(Post "/needs/{id}/amend", "amend_need", "needs", "Change a need's description, beneficiary, cost, size or priority", NeedAmend, need::Amend => CommandReply),
        // Sharing
        view!(paged "/sharing-grants", "list_sharing_grants", "sharing", "A State's consents (who keeps access through running work)", View::SharingGrantList, GrantList => Page<GrantView>),
        command!(Post "/sharing-grants", "grant_sharing", "sharing", "A State shares a need, all its needs or a report", SharingGrantGrant, sharing::Grant => CommandReply, creates "/sharing-grants"),
        command!(Post "/sharing-grants/{id}/revoke", "revoke_sharing", "sharing", "Revoke a grant (the answer says who keeps access through running work)", SharingGrantRevoke, Move => sharing::Revoked),
        // Organisations
        view!(paged "/organisations", "list_organisations", "organisations", "The registry of organisations", View::OrganisationList, StatusList => Page<OrganisationState>),
        view!(one "/organisations/{id}", "show_organisation", "organisations", "One organisation", View::OrganisationShow, Show => OrganisationState, id = "id"),
        view!(one "/organisations/{id}/portfolio", "show_portfolio", "organisations", "A donor's portfolio: offers, referrals, projects, money", View::PortfolioShow, Show => Portfolio, id = "organisation"),
        command!(Post "/organisations", "register_organisation", "organisations", "Register an organisation (its code is its id)", OrganisationRegister, organisation::Register => CommandReply, creates "/organisations"),
        command!(Post "/organisations/{id}/update", "update_organisation", "organisations", "Change an organisation's details", OrganisationUpdate, organisation::Update => CommandReply),
        command!(Post "/organisations/{id}/deactivate", "deactivate_organisation", "organisations", "Deactivate an organisation (the reason is required)", OrganisationDeactivate, Ending => CommandReply),
        // Offers
        view!(paged "/offers", "list_offers", "offers", "Offers with what is left of them", View::OfferList, OfferList => Page<OfferView>),
        view!(one "/offers/{id}", "show_offer", "offers", "One offer", View::OfferShow, Show => OfferView, id = "id"),
        view!(one "/offers/{id}/matches", "match_offer", "offers", "Needs an offer could serve, ranked", View::OfferMatchList, Matches => OfferMatches, id = "offer_id"),
        command!(Post "/offers", "draft_offer", "offers", "Draft an offer (status draft)", OfferDraft, offer::Draft => CommandReply, creates "/offers"),
        command!(Post "/offers/{id}/publish", "publish_offer", "offers", "draft -> open", OfferPublish, Move => CommandReply),
        command!(Post "/offers/{id}/amend", "amend_offer", "offers", "Change an offer", OfferAmend, offer::Amend => CommandReply),
        command!(Post "/offers/{id}/withdraw", "withdraw_offer", "offers", "Withdraw an offer (the reason is required)", OfferWithdraw, Ending => CommandReply),
        command!(Post "/offers/{id}/expire", "expire_offer", "offers", "Expire an offer past its window", OfferExpire, Dated => CommandReply),
        // Referrals
        view!(paged "/referrals", "list_referrals", "referrals", "Referrals of needs to offers", View::ReferralList, ReferralList => Page<ReferralState>),
        view!(one "/referrals/{id}", "show_referral", "referrals", "One referral", View::ReferralShow, Show => ReferralState, id = "id"),
        command!(Post "/referrals", "propose_referral", "referrals", "Propose a need for an offer (status proposed)", ReferralPropose, referral::Propose => CommandReply, creates "/referrals"),
        command!(Post "/referrals/{id}/refer", "refer_referral", "referrals", "proposed -> referred to the partner", ReferralRefer, Move => CommandReply),
        command!(Post "/referrals/{id}/accept-by-partner", "accept_referral_by_partner", "referrals", "The partner accepts", ReferralAcceptByPartner, Move => CommandReply),
        command!(Post "/referrals/{id}/decline-by-partner", "decline_referral_by_partner", "referrals", "The partner declines (the reason is required)", ReferralDeclineByPartner, Ending => CommandReply),
        command!(Post "/referrals/{id}/accept-by-state", "accept_referral_by_state", "referrals", "The State accepts", ReferralAcceptByState, Move => CommandReply),
        command!(Post "/referrals/{id}/decline-by-state", "decline_referral_by_state", "referrals", "The State declines (the reason is required)", ReferralDeclineByState, Ending => CommandReply),
        command!(Post "/referrals/{id}/activate", "activate_referral", "referrals", "An accepted referral starts or joins a project", ReferralActivate, referral::Activate => CommandReply),
        command!(Post "/referrals/{id}/lapse", "lapse_referral", "referrals", "A referral lapses (the reason is required)", ReferralLapse, Ending => CommandReply),
        // Projects
        view!(paged "/projects", "list_projects", "projects", "Projects with their money and late milestones", View::ProjectList, ProjectList => Page<ProjectView>),
        view!(one "/projects/{id}", "show_project", "projects", "One project: organisations, transactions, milestones, results", View::ProjectShow, Show => ProjectView, id = "id"),
        command!(Post "/projects", "create_project", "projects", "Create a project shaped like an IATI activity (status 1)", ProjectCreate, project::Create => CommandReply, creates "/projects"),
        command!(Post "/projects/{id}/status", "change_project_status", "projects", "Move the IATI ActivityStatus", ProjectChangeStatus, project::ChangeStatus => CommandReply),
        command!(Post "/projects/{id}/referrals", "join_project_referral", "projects", "An active referral joins the project", ProjectJoinReferral, project::JoinReferral => CommandReply),
        command!(Post "/projects/{id}/budget", "set_project_budget", "projects", "Set the budget", ProjectSetBudget, project::SetBudget => CommandReply),
        command!(Post "/projects/{id}/transactions", "add_project_transaction", "projects", "Record a transaction (the provider records its own money)", ProjectAddTransaction, project::AddTransaction => CommandReply, part "transaction_id"),
        command!(Post "/projects/{id}/milestones", "add_project_milestone", "projects", "Add a milestone", ProjectAddMilestone, project::AddMilestone => CommandReply, part "milestone_id"),
        command!(Post "/projects/{id}/milestones/{milestone_id}/complete", "complete_project_milestone", "projects", "Mark a milestone done", ProjectCompleteMilestone, project::CompleteMilestone => CommandReply),
        command!(Post "/projects/{id}/results", "add_project_result", "projects", "Add a result with its indicators", ProjectAddResult, project::AddResult => CommandReply, part "result_id"),
        command!(Post "/projects/{id}/results/{result_id}/indicators/{indicator_id}/actuals", "record_indicator_actual", "projects", "Record an indicator's actual value", ProjectRecordIndicatorActual, project::RecordIndicatorActual => CommandReply),
        command!(Post "/projects/{id}/documents", "add_project_document", "projects", "Link a document", ProjectAddDocument, project::AddDocument => CommandReply),
        // Progress reports
        view!(paged "/progress-reports", "list_progress_reports", "progress", "Progress reports on the projects the caller may see", View::ProgressReportList, ProgressList => Page<ProgressReportState>),
        command!(Post "/progress-reports", "draft_progress_report", "progress", "Draft a progress report", ProgressReportDraft, progress::Draft => CommandReply, creates "/progress-reports"),
        command!(Post "/progress-reports/{id}/revise", "revise_progress_report", "progress", "Change a draft or returned report", ProgressReportRevise, progress::Revise => CommandReply),
        command!(Post "/progress-reports/{id}/submit", "submit_progress_report", "progress", "draft -> submitted", ProgressReportSubmit, Move => CommandReply),
        command!(Post "/progress-reports/{id}/validate", "validate_progress_report", "progress", "submitted -> validated (coordinators)", ProgressReportValidate, Move => CommandReply),
        command!(Post "/progress-reports/{id}/return", "return_progress_report", "progress", "submitted -> returned (coordinators; the reason is required)", ProgressReportReturn, Ending => CommandReply),
        // Rates
        view!(one "/rates", "show_rates", "rates", "The exchange-rate tables, by date", View::RateTableShow, Show => Vec<RateTableState>),
        command!(Post "/rates", "record_rates", "rates", "Record the rates of a day (never overwritten)", RateTableRecord, rates::Record => CommandReply),
        // Tokens
        view!(paged "/tokens", "list_tokens", "tokens", "Access tokens (admins; never their hash)", View::TokenList, StatusList => Page<TokenRow>),
        command!(Post "/tokens", "issue_token", "tokens", "Issue a token (admins): the answer holds the secret, once", TokenIssue, crate::commands::token::IssueRequest => crate::commands::token::Issued, creates "/tokens"),
        command!(Post "/tokens/{id}/revoke", "revoke_token", "tokens", "Revoke a token (admins; the reason is required)", TokenRevoke, Ending => CommandReply),
        // Accounts: listed here for scripts; invited, reset and disabled only in the web console
        // (see `CONSOLE_VERBS`).
        view!(paged "/accounts", "list_accounts", "accounts", "People's web console accounts (admins; never a hash)", View::AccountList, StatusList => Page<AccountRow>),
        // Reports and the read model
        command!(Post "/reports", "make_report", "reports", "Make a summary report as of a business date, recorded with its SHA-256", ReportSummary, Summary => MadeReport, creates "/reports"),
        view!(paged "/reports", "list_reports", "reports", "Reports made, with their SHA-256 and the positions they were made from (the caller's own; every one for staff and auditors)", View::ReportList, StatusList => Page<tatrack_domain::report::ReportState>),
        view!(one "/reports/{id}", "show_report", "reports", "One report made: its scope, format, day, positions and SHA-256 (make it again with them to get its bytes)", View::ReportShow, Show => tatrack_domain::report::ReportState, id = "id"),
        view!(one "/reports/{id}/changes", "list_report_changes", "reports", "What was recorded after a report that changes its figures", View::ChangeList, Show => Changes, id = "report_id"),
        view!(one "/allocation", "propose_allocation", "matching", "Shares over all open needs and offers that maximise priority-weighted coverage", View::AllocationProposal, AllocationParams => Allocation),
        view!(paged "/overlaps", "list_overlaps", "matching", "Work for the same State, theme and beneficiary with overlapping dates", View::OverlapList, OverlapList => Page<Overlap>),
        view!(one "/overview", "show_overview", "system", "The figures of the console's overview, totalled over what the caller may see: open needs and their coverage by theme, region and country, open offers, active projects and their money, overdue clocks, needs waiting for an offer", View::OverviewShow, Show => Overview),
        view!(one "/streams/{id}", "show_stream_version", "system", "The version of one object's stream (`offer-<id>`, `project-<id>`...), as the ETag a command's If-Match takes: change the object only if nobody changed it since you read it", View::StreamVersionShow, Show => StreamVersion, id = "id"),
        view!(one "/positions", "show_positions", "system", "How far the read model has applied each stream", View::PositionShow, Show => Positions),
        view!(one "/me", "show_me", "system", "Who the token says the caller is: its role and its organisation or country", View::PrincipalShow, Show => tatrack_domain::Principal),
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
    fn every_verb_and_view_has_a_route_but_the_services_own() {
        let routes = routes();
        // Derived facts one service sends another: no caller sends them.
        let internal = [Verb::NeedRecordCoverage, Verb::OfferRecordCommitment];
        for verb in Verb::ALL {
            let routed = routes
                .iter()
                .any(|r| matches!(r.target, Target::Command(c) if c.verb == *verb));
            let unrouted = internal.contains(verb) || CONSOLE_VERBS.contains(verb);
            assert_eq!(routed, !unrouted, "{verb}");
        }
        for view in View::ALL {
            assert!(
                routes
                    .iter()
                    .any(|r| matches!(r.target, Target::View(v) if v.view == *view)),
                "{view}"
            );
        }
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
