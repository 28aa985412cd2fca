//! Every view of the read model: its name on the bus (`tatrack.qry.<name>`), the query
//! parameters it takes and the answer it gives. Each view's parameters are one struct that
//! refuses what it does not know by name, so a typo in a filter is an error, not an empty list.
//!
//! Every view also takes `as_of` (the business date the answer is for), `known_at` (as the
//! system knew it then) and `min_position` (read-your-writes: wait until the owning service's
//! position is applied); lists take `limit` and `cursor` over HTTP (the read model gets them as
//! `offset` and `limit`).

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a view's parameters: the fields given plus the ones every view takes (and, for
/// lists, the paging ones).
macro_rules! params {
    ($(#[$meta:meta])* $name:ident list { $($fields:tt)* }) => {
        params!(@struct $(#[$meta])* $name { $($fields)* } {
            /// Items per page (1 to 1000, default 100).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(range(min = 1, max = 1000))]
            pub limit: Option<usize>,
            /// `next_cursor` of the previous page.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub cursor: Option<String>,
        });
    };
    ($(#[$meta:meta])* $name:ident one { $($fields:tt)* }) => {
        params!(@struct $(#[$meta])* $name { $($fields)* } {});
    };
    (@struct $(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)? }
        { $($paging:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $field: $ty, )*
            /// The business date the answer is for (default: today): the state of affairs on
            /// that day, as known now.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
            pub as_of: Option<Date>,
            /// As the system knew it then: a time (`2026-07-01T12:00:00Z`), a day (its end, UTC)
            /// or log positions (`assessments:120,partners:45,projects:300,reporter:7`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub known_at: Option<String>,
            /// Wait (up to 5 s) until the read model has applied this position of the service
            /// that owns the view: read your own writes.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub min_position: Option<u64>,
            $($paging)*
        }
    };
}

params! {
    /// `assessment_list`.
    AssessmentList list {
        /// ISO 3166-1 alpha-2.
        member_state: Option<String>,
        /// An assessment status (planned, conducted, draft_sent_to_state, adopted,
        /// response_received, closed, cancelled).
        status: Option<String>,
    }
}

params! {
    /// Views of one object (`*_show`, named by the path) and the views that take nothing but
    /// the point in time (`position_show`, `rate_table_show`, `portfolio_show`, `change_list`).
    Show one {}
}

params! {
    /// `recommendation_list`.
    RecommendationList list {
        assessment_id: Option<Uuid>,
        member_state: Option<String>,
        /// A theme code, e.g. BOR.
        theme: Option<String>,
        status: Option<String>,
    }
}

params! {
    /// `need_list` and `unmet_need_list`.
    NeedList list {
        member_state: Option<String>,
        /// A DAC region code: the needs of the countries in it.
        region: Option<String>,
        theme: Option<String>,
        status: Option<String>,
        /// 1 (high) to 3 (low).
        priority: Option<u8>,
        /// `shared`, `not_shared` or an organisation's code (not for donors).
        consent: Option<String>,
        /// Words that must all appear in the description or the beneficiary.
        text: Option<String>,
    }
}

params! {
    /// `recommendation_rate_list`.
    RateList list {
        member_state: Option<String>,
        theme: Option<String>,
    }
}

params! {
    /// `sharing_grant_list`.
    GrantList list {
        member_state: Option<String>,
    }
}

params! {
    /// `organisation_list`, `token_list` and `account_list`.
    StatusList list {
        status: Option<String>,
    }
}

params! {
    /// `offer_list`.
    OfferList list {
        organisation: Option<String>,
        theme: Option<String>,
        /// Offers that name this country.
        member_state: Option<String>,
        status: Option<String>,
    }
}

params! {
    /// `referral_list`.
    ReferralList list {
        need_id: Option<Uuid>,
        offer_id: Option<Uuid>,
        organisation: Option<String>,
        member_state: Option<String>,
        status: Option<String>,
    }
}

params! {
    /// `project_list`.
    ProjectList list {
        member_state: Option<String>,
        theme: Option<String>,
        /// A participating organisation.
        organisation: Option<String>,
        /// A need it serves.
        need_id: Option<Uuid>,
        /// IATI ActivityStatus code.
        status: Option<String>,
    }
}

params! {
    /// `progress_report_list`.
    ProgressList list {
        project_id: Option<Uuid>,
        status: Option<String>,
    }
}

params! {
    /// `need_match_list` and `offer_match_list` (the need or offer is named by the path).
    Matches one {
        /// Also list the offers (or needs) left out, with every reason.
        include_ineligible: Option<bool>,
        /// ISO 639-1 code of the language the work should be done in.
        language: Option<String>,
    }
}

params! {
    /// `allocation_proposal`.
    AllocationParams one {
        member_state: Option<String>,
        theme: Option<String>,
    }
}

params! {
    /// `overlap_list`.
    OverlapList list {
        member_state: Option<String>,
        /// The overlaps of one referral, project or offer.
        id: Option<String>,
    }
}
