//! The bus's vocabulary: the command services, the verbs each answers (`tatrack.cmd.<service>.<verb>`)
//! and the read model's views (`tatrack.qry.<view>`). Services serve exactly these lists, the
//! route table names them, and NATS permissions are written from them.

/// Declares the command services and their verbs: one enum of services, one of verbs, and the
/// tables between them.
macro_rules! services {
    ( $( $service:ident ($name:literal) { $( $verb:ident => $text:literal ),+ $(,)? } )+ ) => {
        /// A command service: it owns its aggregates' log and answers their verbs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Service { $( $service, )+ }

        impl Service {
            /// Every command service, in the order they are started.
            pub const ALL: &'static [Service] = &[ $( Service::$service, )+ ];

            /// Its name on the bus (`tatrack.cmd.<name>.*`, the stream `<name>`).
            pub const fn name(self) -> &'static str {
                match self { $( Service::$service => $name, )+ }
            }

            /// The verbs it answers for callers (each `<aggregate>_<command>`).
            pub fn verbs(self) -> &'static [&'static str] {
                match self { $( Service::$service => &[ $( $text, )+ ], )+ }
            }

            /// The service called `name`.
            pub fn named(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.name() == name)
            }
        }

        /// A command verb of one of the services.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Verb { $( $( $verb, )+ )+ }

        impl Verb {
            /// Every verb.
            pub const ALL: &'static [Verb] = &[ $( $( Verb::$verb, )+ )+ ];

            /// Its name on the bus.
            pub const fn as_str(self) -> &'static str {
                match self { $( $( Verb::$verb => $text, )+ )+ }
            }

            /// The service that answers it.
            pub fn service(self) -> Service {
                match self { $( $( Verb::$verb => Service::$service, )+ )+ }
            }
        }

        impl std::fmt::Display for Service {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::fmt::Display for Verb {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

services! {
    Assessments ("assessments") {
        AssessmentPlan => "assessment_plan",
        AssessmentMarkConducted => "assessment_mark_conducted",
        AssessmentSendDraft => "assessment_send_draft",
        AssessmentRecordObservations => "assessment_record_observations",
        AssessmentAdopt => "assessment_adopt",
        AssessmentRecordResponse => "assessment_record_response",
        AssessmentClose => "assessment_close",
        AssessmentCancel => "assessment_cancel",
        RecommendationRecord => "recommendation_record",
        RecommendationUpdateStatus => "recommendation_update_status",
        NeedIdentify => "need_identify",
        NeedAgreeWithState => "need_agree_with_state",
        NeedWithdraw => "need_withdraw",
        NeedDecline => "need_decline",
        NeedRecordCoverage => "need_record_coverage",
        NeedMarkMet => "need_mark_met",
        NeedAmend => "need_amend",
        SharingGrantGrant => "sharing_grant_grant",
        SharingGrantRevoke => "sharing_grant_revoke",
    }
    Partners ("partners") {
        OrganisationRegister => "organisation_register",
        OrganisationUpdate => "organisation_update",
        OrganisationDeactivate => "organisation_deactivate",
        OfferDraft => "offer_draft",
        OfferPublish => "offer_publish",
        OfferAmend => "offer_amend",
        OfferWithdraw => "offer_withdraw",
        OfferExpire => "offer_expire",
        OfferRecordCommitment => "offer_record_commitment",
        TokenIssue => "token_issue",
        TokenRevoke => "token_revoke",
        AccountInvite => "account_invite",
        AccountReinvite => "account_reinvite",
        AccountSetPassword => "account_set_password",
        AccountDisable => "account_disable",
    }
    Projects ("projects") {
        ReferralPropose => "referral_propose",
        ReferralRefer => "referral_refer",
        ReferralAcceptByPartner => "referral_accept_by_partner",
        ReferralDeclineByPartner => "referral_decline_by_partner",
        ReferralAcceptByState => "referral_accept_by_state",
        ReferralDeclineByState => "referral_decline_by_state",
        ReferralActivate => "referral_activate",
        ReferralLapse => "referral_lapse",
        ProjectCreate => "project_create",
        ProjectChangeStatus => "project_change_status",
        ProjectJoinReferral => "project_join_referral",
        ProjectSetBudget => "project_set_budget",
        ProjectAddTransaction => "project_add_transaction",
        ProjectAddMilestone => "project_add_milestone",
        ProjectCompleteMilestone => "project_complete_milestone",
        ProjectAddResult => "project_add_result",
        ProjectRecordIndicatorActual => "project_record_indicator_actual",
        ProjectAddDocument => "project_add_document",
        ProgressReportDraft => "progress_report_draft",
        ProgressReportRevise => "progress_report_revise",
        ProgressReportSubmit => "progress_report_submit",
        ProgressReportValidate => "progress_report_validate",
        ProgressReportReturn => "progress_report_return",
        RateTableRecord => "rate_table_record",
    }
    Reporter ("reporter") {
        ReportSummary => "report_summary",
    }
}

/// Declares the read model's views.
macro_rules! views {
    ( $( $view:ident => $text:literal ),+ $(,)? ) => {
        /// A view of the read model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum View { $( $view, )+ }

        impl View {
            /// Every view.
            pub const ALL: &'static [View] = &[ $( View::$view, )+ ];

            /// Its name on the bus (`tatrack.qry.<name>`).
            pub const fn as_str(self) -> &'static str {
                match self { $( View::$view => $text, )+ }
            }

            /// The view called `name`.
            pub fn named(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }

        impl std::fmt::Display for View {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

views! {
    AssessmentList => "assessment_list",
    AssessmentShow => "assessment_show",
    RecommendationList => "recommendation_list",
    NeedList => "need_list",
    NeedShow => "need_show",
    NeedHistory => "need_history",
    UnmetNeedList => "unmet_need_list",
    RecommendationRateList => "recommendation_rate_list",
    PortfolioShow => "portfolio_show",
    SharingGrantList => "sharing_grant_list",
    OrganisationList => "organisation_list",
    OrganisationShow => "organisation_show",
    OfferList => "offer_list",
    OfferShow => "offer_show",
    ReferralList => "referral_list",
    ReferralShow => "referral_show",
    ProjectList => "project_list",
    ProjectShow => "project_show",
    ProgressReportList => "progress_report_list",
    RateTableShow => "rate_table_show",
    TokenList => "token_list",
    AccountList => "account_list",
    NeedMatchList => "need_match_list",
    OfferMatchList => "offer_match_list",
    AllocationProposal => "allocation_proposal",
    OverlapList => "overlap_list",
    PositionShow => "position_show",
    ChangeList => "change_list",
    PrincipalShow => "principal_show",
    OverviewShow => "overview_show",
    StreamVersionShow => "stream_version_show",
    ReportList => "report_list",
    ReportShow => "report_show",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_is_named_once_and_belongs_to_its_service() {
        let mut names: Vec<&str> = Verb::ALL.iter().map(|v| v.as_str()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for verb in Verb::ALL {
            assert!(verb.service().verbs().contains(&verb.as_str()));
        }
        assert_eq!(Service::named("projects"), Some(Service::Projects));
        assert_eq!(View::named("need_show"), Some(View::NeedShow));
    }
}
