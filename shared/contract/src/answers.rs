//! What the views answer, besides the domain's own states: the read model builds these, the
//! gateway passes them through, the reporter and the CLI read them, and the OpenAPI document
//! publishes their schemas.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::civil::Date;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use tatrack_domain::Money;
use tatrack_domain::account::{AccountState, AccountStatus};
use tatrack_domain::assessment::{AssessmentState, Clocks};
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::OfferState;
use tatrack_domain::project::{Milestone, ProjectState};
use tatrack_domain::referral::ReferralState;
use tatrack_domain::sharing::SharingGrantState;
use tatrack_domain::token::{TokenState, TokenStatus};
use tatrack_domain::{Role, Totals};
use uuid::Uuid;

use crate::commands::referral::Propose;

/// One page of a list (HTTP): the items and the cursor of the next page, if any.
///
/// Its schema is named after its items (`NeedPage`, `OfferPage`...), not `Page2`, `Page3`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Send it back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: JsonSchema> JsonSchema for Page<T> {
    fn schema_name() -> Cow<'static, str> {
        let item = T::schema_name();
        // `NeedState` -> `NeedPage`, `OfferView` -> `OfferPage`, `TokenRow` -> `TokenPage`.
        let base = ["State", "View", "Row"]
            .iter()
            .find_map(|suffix| item.strip_suffix(suffix).filter(|b| !b.is_empty()))
            .unwrap_or(&item);
        format!("{base}Page").into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("tatrack_contract::answers::Page<{}>", T::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let items = generator.subschema_for::<T>();
        json_schema!({
            "description": "One page of a list: the items and the cursor of the next page.",
            "type": "object",
            "properties": {
                "items": { "type": "array", "items": items },
                "next_cursor": {
                    "description": "Send it back as `cursor` for the next page; `null` on the last page.",
                    "type": ["string", "null"]
                }
            },
            "required": ["items", "next_cursor"],
            "additionalProperties": false
        })
    }
}

/// An assessment with its two clocks as of the answer's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssessmentView {
    #[serde(flatten)]
    pub state: AssessmentState,
    pub clocks: Clocks,
}

/// A need with the referrals and projects that serve it (those the caller may see).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NeedDetail {
    #[serde(flatten)]
    pub need: NeedState,
    pub referrals: Vec<ReferralState>,
    pub projects: Vec<ProjectState>,
}

/// `need_history`: a need's audit trail, ordered by business date, then recorded time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NeedHistory {
    pub need_id: Uuid,
    pub entries: Vec<HistoryEntry>,
}

/// One event of a need's audit trail: what happened, when and who sent it, never its payload
/// (so nothing confidential travels with it). The events are those of the need itself, of the
/// recommendations it came from and of the referrals and projects serving it that the caller
/// may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// The service whose log holds the event (`assessments`, `projects`).
    pub service: String,
    /// Its position in that service's log.
    pub position: u64,
    /// The aggregate's stream, e.g. `need-0193...`, `referral-0193...`, `project-0193...`.
    pub stream: String,
    /// The event's kind, e.g. `need_identified`.
    pub kind: String,
    /// Its business date.
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub on: Date,
    #[schemars(schema_with = "tatrack_domain::schema::timestamp")]
    pub recorded_at: jiff::Timestamp,
    /// Who sent it (`role:id`, or `system`; the role only for callers who are not staff or
    /// auditors, as in `change_list`).
    pub principal: String,
}

/// An offer with what is left of it after accepted referrals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OfferView {
    #[serde(flatten)]
    pub state: OfferState,
    pub remaining_money: Option<Money>,
    pub remaining_units: Option<u64>,
}

/// A project with the milestones late on the answer's day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProjectView {
    #[serde(flatten)]
    pub state: ProjectState,
    pub late_milestones: Vec<Milestone>,
}

/// A sharing grant; one no longer in force says who still sees its needs through running work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GrantView {
    #[serde(flatten)]
    pub state: SharingGrantState,
    pub kept_by: Vec<KeptBy>,
}

/// An organisation that keeps seeing a need after its grant ended, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeptBy {
    pub need_id: Uuid,
    pub organisation: String,
    pub because: String,
}

/// An access token as admins list it: never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenRow {
    pub id: Uuid,
    pub status: Option<TokenStatus>,
    pub role: Option<Role>,
    pub organisation: Option<String>,
    pub member_state: Option<String>,
    pub label: String,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub issued_on: Option<Date>,
    /// The last day it is valid (the partners service revokes it the day after).
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub expires_on: Option<Date>,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub revoked_on: Option<Date>,
    pub revoke_reason: Option<String>,
}

impl From<TokenState> for TokenRow {
    fn from(t: TokenState) -> Self {
        let expires_on = t.last_valid_day();
        Self {
            id: t.id,
            status: t.status,
            role: t.role,
            organisation: t.organisation,
            member_state: t.member_state,
            label: t.label,
            issued_on: t.issued_on,
            expires_on,
            revoked_on: t.revoked_on,
            revoke_reason: t.revoke_reason,
        }
    }
}

/// A person's account as admins list it: never a hash (of its password or of its invitation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Option<Role>,
    pub organisation: Option<String>,
    pub member_state: Option<String>,
    pub status: Option<AccountStatus>,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub invited_on: Option<Date>,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub activated_on: Option<Date>,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub disabled_on: Option<Date>,
    /// The last day the open invitation may be used.
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub invitation_expires_on: Option<Date>,
    /// An invitation link was sent and not yet used (it may have expired: see
    /// `invitation_expires_on`).
    pub invitation_open: bool,
}

impl From<AccountState> for AccountRow {
    fn from(a: AccountState) -> Self {
        Self {
            id: a.id,
            name: a.name,
            email: a.email,
            role: a.role,
            organisation: a.organisation,
            member_state: a.member_state,
            status: a.status,
            invited_on: a.invited_on,
            activated_on: a.activated_on,
            disabled_on: a.disabled_on,
            invitation_expires_on: a.invitation_expires_on,
            invitation_open: a.invitation_hash.is_some(),
        }
    }
}

/// Implementation of recommendations per State and theme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RateRow {
    pub member_state: String,
    pub theme: String,
    pub recommendations: u64,
    pub open: u64,
    pub implemented: u64,
    pub partially_implemented: u64,
    pub not_implemented: u64,
    pub superseded: u64,
    /// Implemented count 1 and partially implemented 1/2, of those not superseded; whole percent.
    pub implementation_rate_percent: Option<u64>,
}

/// Minor units per currency, by transaction kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MoneyByStatus {
    pub pledged: BTreeMap<String, i64>,
    pub committed: BTreeMap<String, i64>,
    pub disbursed: BTreeMap<String, i64>,
    pub expended: BTreeMap<String, i64>,
}

/// A donor's portfolio: its offers, referrals and projects, and money by status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Portfolio {
    pub organisation: String,
    pub offers: Vec<OfferState>,
    pub referrals: Vec<ReferralState>,
    /// One row per project, not the whole state: `project_show` has the detail.
    pub projects: Vec<ProjectRow>,
    pub money: MoneyByStatus,
}

/// A project as a portfolio lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProjectRow {
    pub id: Uuid,
    pub iati_identifier: String,
    pub title: String,
    pub recipient_country: String,
    pub theme: String,
    /// IATI ActivityStatus code.
    pub status: Option<String>,
    pub budget: Option<Money>,
    pub pledged: Totals,
    pub committed: Totals,
    pub disbursed: Totals,
    pub expended: Totals,
    pub late_milestones: usize,
}

/// One line of a match's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Criterion {
    pub criterion: String,
    pub points: u32,
    pub max: u32,
    pub detail: String,
}

/// Why an offer cannot serve a need, named by the field the projects service would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reason {
    pub field: String,
    pub reason: String,
}

/// A need and an offer that could meet, scored, with the referral that would do it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Suggestion {
    pub need_id: Uuid,
    pub offer_id: Uuid,
    pub organisation: String,
    pub title: String,
    pub member_state: String,
    pub theme: String,
    pub priority: u8,
    pub beneficiary_institution: String,
    pub score: u32,
    pub max_score: u32,
    pub explanation: Vec<Criterion>,
    /// The body of the referral proposal that would make the match.
    pub referral_propose: Propose,
}

/// A need and an offer that cannot meet, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ineligible {
    pub need_id: Uuid,
    pub offer_id: Uuid,
    pub organisation: String,
    pub title: String,
    pub reasons: Vec<Reason>,
}

/// `need_match_list`: the offers that could serve a need, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NeedMatches {
    pub need_id: Uuid,
    pub member_state: String,
    pub theme: String,
    /// Whether the need can be referred at all (agreed with the State and not yet covered).
    pub referable: bool,
    pub suggestions: Vec<Suggestion>,
    /// With `include_ineligible`: the offers left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ineligible: Option<Vec<Ineligible>>,
}

/// `offer_match_list`: the needs an offer could serve, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OfferMatches {
    pub offer_id: Uuid,
    pub organisation: String,
    pub suggestions: Vec<Suggestion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ineligible: Option<Vec<Ineligible>>,
}

/// One side of an overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverlapItem {
    /// `referral`, `project` or `offer`.
    pub kind: String,
    pub id: Uuid,
    pub organisation: String,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub from: Option<Date>,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub until: Option<Date>,
}

/// Two pieces of work for the same State, theme and beneficiary with overlapping dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Overlap {
    pub member_state: String,
    pub theme: String,
    /// `null` for two offers: an offer has no beneficiary.
    pub beneficiary_institution: Option<String>,
    pub items: [OverlapItem; 2],
}

/// A need as the allocation weighs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AllocationNeed {
    pub need_id: Uuid,
    pub member_state: String,
    pub theme: String,
    pub priority: u8,
    pub weight: u64,
    /// How much of it the assignments cover, in basis points.
    pub coverage_bp: u64,
}

/// One share the allocation proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Assignment {
    pub need_id: Uuid,
    pub offer_id: Uuid,
    pub member_state: String,
    pub organisation: String,
    pub priority: u8,
    pub share_money: Option<Money>,
    pub share_units: Option<u64>,
    pub referral_propose: Propose,
}

/// `allocation_proposal`: the shares that maximise priority-weighted coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Allocation {
    pub method: String,
    /// Sum over needs of weight × coverage, in basis points (a need fully met at priority 1: 30000).
    pub value_bp: u64,
    /// The value if every need were fully met.
    pub max_value_bp: u64,
    pub needs: Vec<AllocationNeed>,
    pub assignments: Vec<Assignment>,
}

/// `overview_show`: the console's overview, totalled in the read model over what the caller may
/// see (a list of every need would not fit in one answer at scale). Amounts are in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Overview {
    /// The business date the figures are for.
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub day: Date,
    /// Needs neither met, withdrawn nor declined.
    pub open_needs: u64,
    /// Open needs agreed with the State and not yet fully covered.
    pub waiting_needs: u64,
    /// Estimated and covered money of the open needs, per currency.
    pub money: Vec<CoverageCell>,
    /// Size and covered units of the open needs, per measure (`key`).
    pub units: Vec<CoverageCell>,
    /// Money per theme code (`key`) and currency.
    pub by_theme: Vec<CoverageCell>,
    /// Money per DAC region code (`key`, the State's first region) and currency.
    pub by_region: Vec<CoverageCell>,
    /// Needs waiting for coverage per State (`key`, ISO 3166-1 alpha-2; `estimated` counts them).
    pub waiting_by_country: Vec<CoverageCell>,
    /// Offers open or partly committed.
    pub open_offers: u64,
    /// Projects in implementation (IATI ActivityStatus 2).
    pub active_projects: u64,
    pub committed: Totals,
    pub disbursed: Totals,
    /// Overdue clocks of the assessments the caller may see, oldest due first (at most 50).
    pub overdue_clocks: Vec<OverdueClock>,
    /// How many clocks are overdue in all.
    pub overdue_clocks_total: u64,
    /// Needs agreed at least `waiting_days` ago that have no referral, oldest first (at most 50).
    pub waiting_for_offer: Vec<WaitingNeed>,
    /// How many such needs there are in all.
    pub waiting_for_offer_total: u64,
    pub waiting_days: u64,
}

/// One row of an overview table: an estimate and how much of it is covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CoverageCell {
    pub key: String,
    /// The currency, for money; absent for units and counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub estimated: i64,
    pub covered: i64,
}

/// An assessment clock past its due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverdueClock {
    pub assessment_id: Uuid,
    pub title: String,
    pub member_state: String,
    /// `observations` (the State's observations on the draft) or `response` (its response
    /// after adoption).
    pub clock: String,
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub due: Date,
}

/// A need waiting for an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitingNeed {
    pub id: Uuid,
    pub description: String,
    pub member_state: String,
    pub theme: String,
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub agreed_on: Date,
}

/// `stream_version_show`: how many events one object's stream holds; send it back as a
/// command's `If-Match` (`"N"`) to change the object only if it is still at that version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StreamVersion {
    /// `<aggregate>-<id>`, as command replies name it.
    pub stream: String,
    pub version: u64,
}

/// `position_show`: how far the read model has applied each stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Positions {
    /// The positions in the form `known_at` takes.
    pub known_at: String,
    pub positions: BTreeMap<String, u64>,
    /// The latest business date of any fact recorded.
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub latest_business_date: Option<Date>,
}

/// One late fact or correction recorded after a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub service: String,
    pub position: u64,
    /// The aggregate's stream, e.g. `need-0193...`.
    pub stream: String,
    pub kind: String,
    /// Its business date (on or before the report's `as_of`).
    #[schemars(schema_with = "tatrack_domain::schema::date")]
    pub on: Date,
    #[schemars(schema_with = "tatrack_domain::schema::timestamp")]
    pub recorded_at: jiff::Timestamp,
    /// Who recorded it (`role:id`; the role only for callers who are not staff).
    pub recorded_by: String,
}

/// `change_list`: what was recorded after a report that changes its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Changes {
    pub report_id: Uuid,
    #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
    pub as_of: Option<Date>,
    pub known_at: String,
    pub changes: Vec<Change>,
}
