//! The views answered over NATS, one verb each (`tatrack.qry.<view>`). Every request may carry
//! `min_position` (a position of the stream that owns the view) or `min_positions` (per service):
//! the answer then waits (bounded) until the projection has applied it, so a caller reads its own
//! writes. Unknown parameters are refused by name; what the caller may not see is not found.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tatrack_bus::rpc::{ErrorBody, ErrorCode, Incoming};
use tatrack_domain::Money;
use tatrack_domain::assessment::{AssessmentState, Clocks, clocks};
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::{self, OfferState};
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::progress::ProgressReportState;
use tatrack_domain::project::{Milestone, ProjectState, late_milestones};
use tatrack_domain::rates::RateTableState;
use tatrack_domain::recommendation::RecommendationState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::sharing::SharingGrantState;
use tatrack_domain::token::TokenState;
use tatrack_domain::{Principal, Role};
use uuid::Uuid;

use crate::asof::{self, AsOf, Point};
use crate::cache::{Changes, Snapshot};
use crate::visibility;
use crate::visibility::Consent;
use tatrack_eventlog::Clock;

pub const VIEWS: &[&str] = &[
    "assessment_list",
    "assessment_show",
    "recommendation_list",
    "need_list",
    "need_show",
    "unmet_need_list",
    "recommendation_rate_list",
    "portfolio_show",
    "sharing_grant_list",
    "organisation_list",
    "organisation_show",
    "offer_list",
    "offer_show",
    "referral_list",
    "referral_show",
    "project_list",
    "project_show",
    "progress_report_list",
    "rate_table_show",
    "token_list",
    "need_match_list",
    "offer_match_list",
    "allocation_proposal",
    "overlap_list",
    "position_show",
    "change_list",
];

/// Longest wait for `min_position` before a timeout error.
const READ_YOUR_WRITES_WAIT: Duration = Duration::from_secs(5);

/// Decoded snapshots per (service, aggregate#order), with the applied position they were read at.
type Decoded = std::collections::HashMap<(String, String), (u64, Arc<dyn Any + Send + Sync>)>;

/// One followed service: its projection tree, its applied position, and (live views only) the
/// keys each position changed, so snapshots are patched instead of decoded again.
type Followed = (
    &'static str,
    sled::Tree,
    tokio::sync::watch::Receiver<u64>,
    Option<Arc<Changes>>,
);

#[derive(Clone, Default)]
pub(crate) struct Views {
    trees: Vec<Followed>,
    decoded: Arc<std::sync::Mutex<Decoded>>,
}

impl Views {
    pub(crate) fn add(
        &mut self,
        service: &'static str,
        tree: sled::Tree,
        applied: tokio::sync::watch::Receiver<u64>,
        changes: Option<Arc<Changes>>,
    ) {
        self.trees.push((service, tree, applied, changes));
    }

    /// The position each followed stream is applied to.
    pub(crate) fn applied(&self) -> asof::Positions {
        self.trees
            .iter()
            .map(|(service, _, applied, _)| ((*service).to_owned(), *applied.borrow()))
            .collect()
    }

    fn entry(&self, service: &str) -> Result<&Followed, ErrorBody> {
        self.trees
            .iter()
            .find(|(s, ..)| *s == service)
            .ok_or_else(ErrorBody::internal)
    }

    /// Every state of one aggregate, in key order (ids: UUID v7 sorts by time).
    pub(crate) fn scan<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        self.scan_ordered(service, aggregate, "", |_, _| std::cmp::Ordering::Equal)
    }

    /// The states a view reads: for a `*_show` view with an id, only that one state (read
    /// directly); otherwise every state of the kind, in key order.
    fn pick<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
        verb: &str,
        filters: &Filters,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        match (&filters.id, verb.ends_with("_show")) {
            (Some(id), true) => {
                let (_, tree, ..) = self.entry(service)?;
                Snapshot::one(tree, aggregate, id)
                    .map(Arc::new)
                    .map_err(|e| undecodable(&e))
            }
            _ => self.scan(service, aggregate),
        }
    }

    /// Every state of one aggregate, ordered by `order` (named by `name`, so differently
    /// ordered snapshots are cached apart; ties in key order). The snapshot is shared by every
    /// query at the same applied position; a later position patches it (see `cache`).
    pub(crate) fn scan_ordered<T: DeserializeOwned + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
        name: &'static str,
        order: fn(&T, &T) -> std::cmp::Ordering,
    ) -> Result<Arc<Snapshot<T>>, ErrorBody> {
        let (_, tree, applied, changes) = self.entry(service)?;
        let position = *applied.borrow();
        let key = (service.to_owned(), format!("{aggregate}#{name}"));
        let cached = self
            .decoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .and_then(|(at, any)| Some((*at, Arc::clone(any).downcast::<Snapshot<T>>().ok()?)));
        // Read after noting the position: a snapshot may hold more than `position`, never
        // less, and the keys changed after `position` are read again by the next patch.
        let snapshot = match cached {
            Some((at, snapshot)) if at == position => return Ok(snapshot),
            Some((at, snapshot)) if at < position => {
                let patched = match changes.as_ref().and_then(|c| c.between(at, position)) {
                    Some(keys) => snapshot
                        .patched(tree, aggregate, &keys, order)
                        .map_err(|e| undecodable(&e))?,
                    None => None,
                };
                match patched {
                    Some(p) => p,
                    None => Snapshot::load(tree, aggregate, order).map_err(|e| undecodable(&e))?,
                }
            }
            _ => Snapshot::load(tree, aggregate, order).map_err(|e| undecodable(&e))?,
        };
        let snapshot = Arc::new(snapshot);
        self.decoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                key,
                (
                    position,
                    Arc::clone(&snapshot) as Arc<dyn Any + Send + Sync>,
                ),
            );
        Ok(snapshot)
    }

    async fn wait_for(&self, service: &str, position: u64) -> Result<(), ErrorBody> {
        let mut applied = self.entry(service)?.2.clone();
        match tokio::time::timeout(READ_YOUR_WRITES_WAIT, applied.wait_for(|p| *p >= position))
            .await
        {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ErrorBody {
                field: Some("min_position".into()),
                ..ErrorBody::new(
                    ErrorCode::Timeout,
                    format!("the read model has not reached {service} position {position} yet"),
                )
            }),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filters {
    min_position: Option<u64>,
    min_positions: Option<BTreeMap<String, u64>>,
    id: Option<String>,
    member_state: Option<String>,
    assessment_id: Option<Uuid>,
    need_id: Option<Uuid>,
    offer_id: Option<Uuid>,
    project_id: Option<Uuid>,
    organisation: Option<String>,
    theme: Option<String>,
    status: Option<String>,
    priority: Option<u8>,
    /// A DAC region code: needs of the countries in it (`codes::regions_of`).
    region: Option<String>,
    /// Needs by consent: `shared` (an active grant shares it with someone), `not_shared`, or an
    /// organisation's code (shared with that organisation).
    consent: Option<String>,
    /// Case-insensitive words that must appear in the description or beneficiary.
    text: Option<String>,
    /// The business date the answer is for: the state of affairs on that day, as known now
    /// (or as known at `known_at`). Clocks, late milestones and matching count from it.
    /// Dates are read as text and parsed here, so a bad one is refused by its own name.
    as_of: Option<String>,
    /// As the system knew it then: a time (RFC 3339), a day (its end, UTC) or log positions
    /// (`assessments:120,partners:45,projects:300,reporter:7`).
    known_at: Option<String>,
    /// `change_list`: the report whose figures the changes are about.
    report_id: Option<Uuid>,
    /// Paging of list answers (the gateway turns its cursor into these).
    offset: Option<usize>,
    limit: Option<usize>,
    /// Matching: also list the offers (or needs) left out, with their reasons (true/false).
    include_ineligible: Option<serde_json::Value>,
    /// Matching: the ISO 639-1 language the work should be done in.
    language: Option<String>,
}

/// Filter values that name nothing are refused by name, not answered with an empty list: a
/// typo in a status or a code would otherwise look like "there is none".
fn check_filters(verb: &str, f: &Filters) -> Result<(), ErrorBody> {
    let invalid =
        |field: &str, e: tatrack_domain::DomainError| ErrorBody::invalid(field, &e.to_string());
    if let Some(m) = &f.member_state {
        tatrack_domain::codes::check_country("member_state", m)
            .map_err(|e| invalid("member_state", e))?;
    }
    if let Some(t) = &f.theme {
        tatrack_domain::codes::check_theme("theme", t).map_err(|e| invalid("theme", e))?;
    }
    if let Some(r) = &f.region {
        tatrack_domain::codes::check_region("region", r).map_err(|e| invalid("region", e))?;
    }
    if let Some(p) = f.priority
        && !(1..=3).contains(&p)
    {
        return Err(ErrorBody::invalid(
            "priority",
            "must be 1 (high), 2 or 3 (low)",
        ));
    }
    if let Some(status) = &f.status {
        fn known<T: DeserializeOwned>(status: &str) -> bool {
            serde_json::from_value::<T>(serde_json::Value::String(status.to_owned())).is_ok()
        }
        use tatrack_domain::{
            assessment::AssessmentStatus, need::NeedStatus, offer::OfferStatus,
            organisation::OrganisationStatus, progress::ProgressReportStatus,
            project::ActivityStatus, recommendation::RecommendationStatus,
            referral::ReferralStatus, sharing::SharingGrantStatus, token::TokenStatus,
        };
        let ok = match verb.split('_').next() {
            Some("assessment") => known::<AssessmentStatus>(status),
            Some("need" | "unmet") => known::<NeedStatus>(status),
            Some("recommendation") => known::<RecommendationStatus>(status),
            Some("offer") => known::<OfferStatus>(status),
            Some("organisation") => known::<OrganisationStatus>(status),
            Some("referral") => known::<ReferralStatus>(status),
            Some("project") => known::<ActivityStatus>(status),
            Some("progress") => known::<ProgressReportStatus>(status),
            Some("token") => known::<TokenStatus>(status),
            Some("sharing") => known::<SharingGrantStatus>(status),
            _ => true,
        };
        if !ok {
            return Err(ErrorBody::invalid(
                "status",
                &format!("{status:?} is not a status of {verb}"),
            ));
        }
    }
    Ok(())
}

/// Which point in time a query is about, and the day its clocks count from: `None` for the
/// live views (no `known_at`, and no event is dated after `as_of`), else the point to fold.
/// A date after today, a time after now or positions not yet applied are refused by name.
fn point_in_time(
    live: &Views,
    as_of: &AsOf,
    clock: &Clock,
    f: &Filters,
) -> Result<(Option<Point>, Date), ErrorBody> {
    let today = clock.today();
    let day = parse_date("as_of", f.as_of.as_deref())?;
    if let Some(day) = day.filter(|d| *d > today) {
        return Err(ErrorBody::invalid(
            "as_of",
            &format!("{day} is in the future (today is {today})"),
        ));
    }
    let applied = live.applied();
    let Some(text) = f.known_at.as_deref() else {
        return Ok(match day {
            // Nothing recorded is dated after the day: the live views are the answer.
            Some(d) if as_of.max_on().is_some_and(|max| max > d) => (
                Some(Point {
                    as_of: Some(d),
                    known: applied,
                }),
                d,
            ),
            Some(d) => (None, d),
            None => (None, today),
        });
    };
    let (known, known_day) = if text.contains(':') && !text.contains('T') {
        let known = asof::parse_positions("known_at", text)?;
        for (service, position) in &known {
            let have = applied.get(service).copied().unwrap_or(0);
            if *position > have {
                return Err(ErrorBody::invalid(
                    "known_at",
                    &format!(
                        "{service} position {position} is not recorded yet (the latest is {have})"
                    ),
                ));
            }
        }
        (known, today)
    } else {
        let at: jiff::Timestamp = match text.parse::<Date>() {
            // A day: as known at its end.
            Ok(d) => d
                .tomorrow()
                .and_then(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp() - jiff::SignedDuration::from_nanos(1))
                .map_err(|_| ErrorBody::invalid("known_at", "out of range"))?,
            Err(_) => text.parse().map_err(|_| {
                ErrorBody::invalid(
                    "known_at",
                    &format!(
                        "{text:?} is not a time like 2026-07-01T12:00:00Z, a day like 2026-07-01, or positions like assessments:120,partners:45,projects:300,reporter:7"
                    ),
                )
            })?,
        };
        let now = clock.now();
        if at > now {
            return Err(ErrorBody::invalid(
                "known_at",
                &format!("{at} is in the future (now is {now})"),
            ));
        }
        (as_of.positions_at(at), tatrack_eventlog::utc_date(at))
    };
    let day = day.unwrap_or(known_day);
    Ok((
        Some(Point {
            as_of: Some(day),
            known,
        }),
        day,
    ))
}

/// `position_show`: how far the read model has applied each stream (or the positions a given
/// `known_at` stands for), in the form `known_at` takes, and the latest business date seen.
fn positions_answer(positions: &asof::Positions, as_of: &AsOf) -> Result<Answer, ErrorBody> {
    to_value(serde_json::json!({
        "known_at": asof::format_positions(positions),
        "positions": positions,
        "latest_business_date": as_of.max_on(),
    }))
}

fn parse_date(field: &str, text: Option<&str>) -> Result<Option<Date>, ErrorBody> {
    text.map(|t| {
        t.parse::<Date>().map_err(|e| {
            ErrorBody::invalid(field, &format!("{t:?} is not a date like 2026-06-30: {e}"))
        })
    })
    .transpose()
}

#[derive(Serialize)]
struct AssessmentView {
    #[serde(flatten)]
    state: AssessmentState,
    clocks: Clocks,
}

#[derive(Serialize)]
struct GrantView {
    #[serde(flatten)]
    state: SharingGrantState,
    /// For a grant no longer in force: who still sees which of its needs, and why.
    kept_by: Vec<KeptBy>,
}

#[derive(Serialize)]
struct KeptBy {
    need_id: Uuid,
    organisation: String,
    because: String,
}

/// Need -> member state -> organisation -> why, from the live referrals, projects and needs.
type Work = BTreeMap<Uuid, (String, BTreeMap<String, String>)>;

fn kept_by_work(live: &Views) -> Result<Work, ErrorBody> {
    let referrals = live.scan::<ReferralState>("projects", "referral")?.to_vec();
    let projects = live.scan::<ProjectState>("projects", "project")?.to_vec();
    let needs = live.scan::<NeedState>("assessments", "need")?;
    let states: BTreeMap<Uuid, String> = needs
        .iter()
        .map(|n| (n.id, n.member_state.clone()))
        .collect();
    Ok(tatrack_domain::sharing::kept_by_work(&referrals, &projects)
        .into_iter()
        .filter_map(|(need, orgs)| states.get(&need).map(|s| (need, (s.clone(), orgs))))
        .collect())
}

/// Who keeps seeing the needs `grant` covered: organisations of its audience doing work that
/// serves one of them.
fn kept_through_work(grant: &SharingGrantState, work: &Work) -> Vec<KeptBy> {
    use tatrack_domain::sharing::{Audience, Scope};
    let mut out = Vec::new();
    for (need, (member_state, orgs)) in work {
        let covered = *member_state == grant.member_state
            && match &grant.scope {
                Some(Scope::Need { need_id }) => need_id == need,
                Some(Scope::AllNeeds) => true,
                _ => false,
            };
        if !covered {
            continue;
        }
        for (organisation, because) in orgs {
            let in_audience = match &grant.audience {
                Some(Audience::AllDonors) => true,
                Some(Audience::Organisations { ids }) => ids.contains(organisation),
                None => false,
            };
            if in_audience {
                out.push(KeptBy {
                    need_id: *need,
                    organisation: organisation.clone(),
                    because: because.clone(),
                });
            }
        }
    }
    out
}

#[derive(Serialize)]
struct OfferView {
    #[serde(flatten)]
    state: OfferState,
    remaining_money: Option<Money>,
    remaining_units: Option<u64>,
}

#[derive(Serialize)]
struct ProjectView {
    #[serde(flatten)]
    state: ProjectState,
    late_milestones: Vec<Milestone>,
}

/// An access token as admins list it: never its hash.
#[derive(Serialize)]
struct TokenRow {
    id: Uuid,
    status: Option<String>,
    role: Option<String>,
    organisation: Option<String>,
    member_state: Option<String>,
    label: String,
    issued_on: Option<Date>,
    revoked_on: Option<Date>,
    revoke_reason: Option<String>,
}

impl From<TokenState> for TokenRow {
    fn from(t: TokenState) -> Self {
        Self {
            id: t.id,
            status: t.status.map(|s| s.to_string()),
            role: t.role.map(|r| r.to_string()),
            organisation: t.organisation,
            member_state: t.member_state,
            label: t.label,
            issued_on: t.issued_on,
            revoked_on: t.revoked_on,
            revoke_reason: t.revoke_reason,
        }
    }
}

fn is_admin(principal: &Principal) -> bool {
    matches!(principal.role, Role::Admin | Role::System)
}

#[derive(Serialize)]
struct NeedDetail {
    #[serde(flatten)]
    need: NeedState,
    referrals: Vec<ReferralState>,
    projects: Vec<ProjectState>,
}

/// Not yet met, withdrawn or declined, and not fully covered.
fn is_unmet(need: &NeedState) -> bool {
    matches!(
        need.status.map(|s| s.to_string()).as_deref(),
        Some("identified" | "agreed_with_state" | "partially_covered")
    )
}

#[derive(Debug, Default, Serialize)]
struct RateRow {
    member_state: String,
    theme: String,
    recommendations: u64,
    open: u64,
    implemented: u64,
    partially_implemented: u64,
    not_implemented: u64,
    superseded: u64,
    /// Implemented count 1 and partially implemented 1/2, of those not superseded; whole percent.
    implementation_rate_percent: Option<u64>,
}

/// Minor units per currency.
#[derive(Debug, Default, Serialize)]
struct MoneyByStatus {
    pledged: BTreeMap<String, i64>,
    committed: BTreeMap<String, i64>,
    disbursed: BTreeMap<String, i64>,
    expended: BTreeMap<String, i64>,
}

#[derive(Serialize)]
struct Portfolio {
    organisation: String,
    offers: Vec<OfferState>,
    referrals: Vec<ReferralState>,
    /// One row per project, not the whole state: a donor with thousands of projects would
    /// otherwise get an answer of megabytes (over NATS's message limit); `project_show` has
    /// the detail.
    projects: Vec<ProjectRow>,
    money: MoneyByStatus,
}

/// A project as a portfolio lists it.
#[derive(Serialize)]
struct ProjectRow {
    id: Uuid,
    iati_identifier: String,
    title: String,
    recipient_country: String,
    theme: String,
    status: Option<String>,
    budget: Option<Money>,
    pledged: tatrack_domain::Totals,
    committed: tatrack_domain::Totals,
    disbursed: tatrack_domain::Totals,
    expended: tatrack_domain::Totals,
    late_milestones: usize,
}

/// The service whose stream a view reads.
fn owner(view: &str) -> &'static str {
    match view.split('_').next() {
        Some("organisation" | "offer" | "token") => "partners",
        Some("referral" | "project" | "progress" | "rate" | "portfolio") => "projects",
        _ => "assessments",
    }
}

/// Waits (bounded) until `views` have applied the caller's `min_position` / `min_positions`.
async fn wait_for_positions(views: &Views, verb: &str, filters: &Filters) -> Result<(), ErrorBody> {
    if let Some(min) = filters.min_position {
        views.wait_for(owner(verb), min).await?;
    }
    for (service, min) in filters.min_positions.iter().flatten() {
        if views.entry(service).is_err() {
            return Err(ErrorBody::invalid(
                "min_positions",
                &format!("unknown service {service}"),
            ));
        }
        views.wait_for(service, *min).await?;
    }
    Ok(())
}

pub(crate) async fn handle(
    live: &Views,
    as_of: &AsOf,
    clock: &Clock,
    incoming: Incoming,
) -> Result<Answer, ErrorBody> {
    let filters: Filters = if incoming.payload.is_empty() {
        Filters::default()
    } else {
        incoming.body()?
    };
    check_filters(&incoming.verb, &filters)?;
    if filters.consent.is_some() && incoming.meta.principal.role == Role::Donor {
        // Whom else a need is shared with is the State's business, not another donor's.
        return Err(ErrorBody {
            field: Some("consent".into()),
            ..ErrorBody::new(
                ErrorCode::Forbidden,
                "a donor sees only the needs shared with it: the consent filter is not for donors",
            )
        });
    }
    let (point, day) = point_in_time(live, as_of, clock, &filters)?;
    if incoming.verb == "position_show" {
        // Read-your-writes here too: where the read model stands includes the caller's own
        // writes (a report's positions are taken from this answer).
        wait_for_positions(live, &incoming.verb, &filters).await?;
        let positions = match (&point, &filters.known_at) {
            (Some(point), Some(_)) => point.known.clone(),
            _ => live.applied(),
        };
        return positions_answer(&positions, as_of);
    }
    let past;
    let views = match &point {
        Some(point) => {
            past = as_of.views(point).await?;
            &past
        }
        None => live,
    };
    wait_for_positions(views, &incoming.verb, &filters).await?;
    if incoming.verb == "change_list" {
        return crate::changes::change_list(
            live,
            as_of,
            &incoming.meta.principal,
            &filters.report_id,
            clock.today(),
        )
        .await
        .and_then(to_value);
    }
    let p = &incoming.meta.principal;
    // Who may see what is decided by the grants in force today (the clock's), read from the
    // live views whatever point in time the answer is for: a date the caller sends picks
    // which state to show, never widens who may see it. `day` is what clocks, late milestones
    // and matching count from.
    let today = clock.today();
    let consent = Consent::new(live, today, &incoming.meta.principal)?;
    let f = &filters;
    let status_ok =
        |status: Option<String>| f.status.as_ref().is_none_or(|s| status.as_ref() == Some(s));
    let id_ok =
        |id: &dyn std::fmt::Display| f.id.as_ref().is_none_or(|want| *want == id.to_string());
    let state_ok = |member_state: &str| f.member_state.as_ref().is_none_or(|m| m == member_state);
    let verb = incoming.verb.as_str();
    match verb {
        "assessment_list" | "assessment_show" => {
            let mut out = Vec::new();
            for state in views
                .pick::<AssessmentState>("assessments", "assessment", verb, f)?
                .iter()
            {
                if consent.sees_assessment(p, &state.member_state, state.id)
                    && id_ok(&state.id)
                    && state_ok(&state.member_state)
                    && status_ok(state.status.map(|s| s.to_string()))
                {
                    let clocks = clocks(state, day);
                    out.push(AssessmentView {
                        state: state.clone(),
                        clocks,
                    });
                }
            }
            one_or_all(verb, f, out)
        }
        "recommendation_list" => {
            let mut out = Vec::new();
            for state in views
                .scan::<RecommendationState>("assessments", "recommendation")?
                .iter()
            {
                let shared = || consent.shared_report(p, &state.member_state, state.assessment_id);
                if (visibility::sees_country(p, &state.member_state) || shared())
                    && f.assessment_id.is_none_or(|id| id == state.assessment_id)
                    && state_ok(&state.member_state)
                    && f.theme.as_ref().is_none_or(|t| *t == state.theme)
                    && status_ok(state.status.map(|s| s.to_string()))
                {
                    let mut state = state.clone();
                    if !visibility::reads_confidential(p, &state.member_state) && !shared() {
                        state.text = "[confidential]".to_owned();
                    }
                    out.push(state);
                }
            }
            to_value(page(f, out))
        }
        "need_list" | "need_show" | "unmet_need_list" => {
            let unmet_only = verb == "unmet_need_list";
            let words: Vec<String> = f
                .text
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_lowercase)
                .collect();
            // The list is kept ordered: highest priority first (1 is high), then oldest first
            // (UUID v7 ids sort by time), so a page stops as soon as it is full.
            let needs = if verb == "need_show" {
                views.pick::<NeedState>("assessments", "need", verb, f)?
            } else {
                views.scan_ordered::<NeedState>("assessments", "need", "priority", |a, b| {
                    (a.priority, a.id).cmp(&(b.priority, b.id))
                })?
            };
            let matches = |state: &&NeedState| {
                consent.sees_need(p, state)
                    && id_ok(&state.id)
                    && state_ok(&state.member_state)
                    && f.theme.as_ref().is_none_or(|t| *t == state.theme)
                    && f.priority.is_none_or(|pr| pr == state.priority)
                    && status_ok(state.status.map(|s| s.to_string()))
                    && (!unmet_only || is_unmet(state))
                    && f.region.as_ref().is_none_or(|r| {
                        tatrack_domain::codes::regions_of(&state.member_state).contains(&r.as_str())
                    })
                    && f.consent.as_deref().is_none_or(|c| match c {
                        "shared" => consent.is_shared(state),
                        "not_shared" => !consent.is_shared(state),
                        organisation => consent.is_shared_with(state, organisation),
                    })
                    && (words.is_empty() || {
                        let haystack =
                            format!("{} {}", state.description, state.beneficiary_institution)
                                .to_lowercase();
                        words.iter().all(|w| haystack.contains(w.as_str()))
                    })
            };
            let mut out: Vec<NeedState> = if verb == "need_show" {
                needs.iter().filter(matches).cloned().collect()
            } else {
                page_of(f, needs.iter().filter(matches))
            };
            if verb == "need_show" {
                // The detail: the need with its referral history and the projects serving it.
                let Some(need) = out.pop().filter(|_| f.id.is_some()) else {
                    return one_or_all(verb, f, Vec::<NeedState>::new());
                };
                let referrals: Vec<ReferralState> = views
                    .scan::<ReferralState>("projects", "referral")?
                    .iter()
                    .filter(|r| r.need_id == need.id && visibility::sees_referral(p, r))
                    .cloned()
                    .collect();
                let projects: Vec<ProjectState> = views
                    .scan::<ProjectState>("projects", "project")?
                    .iter()
                    .filter(|pr| pr.needs.contains(&need.id) && visibility::sees_project(p, pr))
                    .cloned()
                    .collect();
                return to_value(NeedDetail {
                    need,
                    referrals,
                    projects,
                });
            }
            to_value(out)
        }
        "recommendation_rate_list" => {
            // Implementation rate per State and theme: implemented counts 1, partially 1/2.
            let mut rows: BTreeMap<(String, String), RateRow> = BTreeMap::new();
            for r in views
                .scan::<RecommendationState>("assessments", "recommendation")?
                .iter()
            {
                if !visibility::sees_country(p, &r.member_state) || !state_ok(&r.member_state) {
                    continue;
                }
                if f.theme.as_ref().is_some_and(|t| *t != r.theme) {
                    continue;
                }
                let row = rows
                    .entry((r.member_state.clone(), r.theme.clone()))
                    .or_insert_with(|| RateRow {
                        member_state: r.member_state.clone(),
                        theme: r.theme.clone(),
                        ..RateRow::default()
                    });
                row.recommendations += 1;
                match r.status.map(|s| s.to_string()).as_deref() {
                    Some("implemented") => row.implemented += 1,
                    Some("partially_implemented") => row.partially_implemented += 1,
                    Some("not_implemented") => row.not_implemented += 1,
                    Some("superseded") => row.superseded += 1,
                    _ => row.open += 1,
                }
            }
            let out: Vec<RateRow> = rows
                .into_values()
                .map(|mut row| {
                    let counted = row.recommendations - row.superseded;
                    row.implementation_rate_percent = (counted > 0).then(|| {
                        (200 * row.implemented + 100 * row.partially_implemented) / (2 * counted)
                    });
                    row
                })
                .collect();
            to_value(page(f, out))
        }
        "portfolio_show" => {
            // A donor's portfolio: its offers, referrals and projects, and money by status.
            let organisation = match (&p.organisation, &f.organisation) {
                (_, Some(o)) if visibility::sees_organisation_items(p, o) => o.clone(),
                (Some(own), None) => own.clone(),
                (_, Some(o)) => {
                    return Err(ErrorBody::new(
                        ErrorCode::NotFound,
                        format!("portfolio {o} not found"),
                    ));
                }
                (None, None) => return Err(ErrorBody::invalid("organisation", "is required")),
            };
            let offers: Vec<OfferState> = views
                .scan::<OfferState>("partners", "offer")?
                .iter()
                .filter(|o| o.organisation == organisation)
                .cloned()
                .collect();
            let referrals: Vec<ReferralState> = views
                .scan::<ReferralState>("projects", "referral")?
                .iter()
                .filter(|r| r.organisation == organisation)
                .cloned()
                .collect();
            let projects: Vec<ProjectState> = views
                .scan::<ProjectState>("projects", "project")?
                .iter()
                .filter(|pr| {
                    pr.participating
                        .iter()
                        .any(|x| x.organisation == organisation)
                })
                .cloned()
                .collect();
            let mut money = MoneyByStatus::default();
            for pr in &projects {
                for (totals, into) in [
                    (&pr.pledged, &mut money.pledged),
                    (&pr.committed, &mut money.committed),
                    (&pr.disbursed, &mut money.disbursed),
                    (&pr.expended, &mut money.expended),
                ] {
                    for (currency, amount) in totals.iter() {
                        *into.entry(currency.to_owned()).or_insert(0) += amount;
                    }
                }
            }
            let projects = projects
                .into_iter()
                .map(|pr| ProjectRow {
                    late_milestones: late_milestones(&pr, day).len(),
                    id: pr.id,
                    iati_identifier: pr.iati_identifier,
                    title: pr.title,
                    recipient_country: pr.recipient_country,
                    theme: pr.theme,
                    status: pr.status.map(|s| s.as_str().to_owned()),
                    budget: pr.budget,
                    pledged: pr.pledged,
                    committed: pr.committed,
                    disbursed: pr.disbursed,
                    expended: pr.expended,
                })
                .collect();
            to_value(Portfolio {
                organisation,
                offers,
                referrals,
                projects,
                money,
            })
        }
        "sharing_grant_list" => {
            // A grant no longer in force says who still sees its needs through running work
            // (consent runs with the work), from the live referrals and projects.
            let mut work = None;
            let mut out = Vec::new();
            for g in views
                .scan::<SharingGrantState>("assessments", "sharing_grant")?
                .iter()
                .filter(|g| {
                    visibility::sees_grants(p, &g.member_state)
                        && state_ok(&g.member_state)
                        && id_ok(&g.id)
                })
            {
                let kept_by = if tatrack_domain::sharing::is_active(g, today) {
                    Vec::new()
                } else {
                    if work.is_none() {
                        work = Some(kept_by_work(live)?);
                    }
                    kept_through_work(g, work.as_ref().unwrap_or(&BTreeMap::new()))
                };
                out.push(GrantView {
                    state: g.clone(),
                    kept_by,
                });
            }
            to_value(page(f, out))
        }
        "organisation_list" | "organisation_show" => {
            let out: Vec<OrganisationState> = views
                .pick::<OrganisationState>("partners", "organisation", verb, f)?
                .iter()
                .filter(|o| id_ok(&o.id) && status_ok(o.status.map(|s| s.to_string())))
                .cloned()
                .collect();
            one_or_all(verb, f, out)
        }
        "offer_list" | "offer_show" => {
            // A State's focal point sees the offers referred to its country's needs: it is
            // asked to accept them as the State.
            let referred: std::collections::BTreeSet<Uuid> = if p.role == Role::StateFocalPoint {
                views
                    .scan::<ReferralState>("projects", "referral")?
                    .iter()
                    .filter(|r| visibility::sees_referral(p, r))
                    .map(|r| r.offer_id)
                    .collect()
            } else {
                std::collections::BTreeSet::new()
            };
            let mut out = Vec::new();
            for state in views
                .pick::<OfferState>("partners", "offer", verb, f)?
                .iter()
            {
                if (visibility::sees_organisation_items(p, &state.organisation)
                    || referred.contains(&state.id))
                    && id_ok(&state.id)
                    && f.organisation
                        .as_ref()
                        .is_none_or(|o| *o == state.organisation)
                    && f.theme.as_ref().is_none_or(|t| state.themes.contains(t))
                    && f.member_state
                        .as_ref()
                        .is_none_or(|m| state.countries.contains(m))
                    && status_ok(state.status.map(|s| s.to_string()))
                {
                    let (remaining_money, remaining_units) = offer::remaining(state);
                    out.push(OfferView {
                        state: state.clone(),
                        remaining_money,
                        remaining_units,
                    });
                }
            }
            one_or_all(verb, f, out)
        }
        "referral_list" | "referral_show" => {
            let out: Vec<ReferralState> = views
                .pick::<ReferralState>("projects", "referral", verb, f)?
                .iter()
                .filter(|r| {
                    visibility::sees_referral(p, r)
                        && id_ok(&r.id)
                        && f.need_id.is_none_or(|id| id == r.need_id)
                        && f.offer_id.is_none_or(|id| id == r.offer_id)
                        && f.organisation.as_ref().is_none_or(|o| *o == r.organisation)
                        && state_ok(&r.member_state)
                        && status_ok(r.status.map(|s| s.to_string()))
                })
                .cloned()
                .collect();
            one_or_all(verb, f, out)
        }
        "project_list" | "project_show" => {
            let mut out = Vec::new();
            for state in views
                .pick::<ProjectState>("projects", "project", verb, f)?
                .iter()
            {
                if visibility::sees_project(p, state)
                    && id_ok(&state.id)
                    && state_ok(&state.recipient_country)
                    && f.theme.as_ref().is_none_or(|t| *t == state.theme)
                    && f.organisation
                        .as_ref()
                        .is_none_or(|o| state.participating.iter().any(|x| x.organisation == *o))
                    && f.need_id.is_none_or(|id| state.needs.contains(&id))
                    && status_ok(state.status.map(|s| s.as_str().to_owned()))
                {
                    let late_milestones =
                        late_milestones(state, day).into_iter().cloned().collect();
                    out.push(ProjectView {
                        state: state.clone(),
                        late_milestones,
                    });
                }
            }
            one_or_all(verb, f, out)
        }
        "progress_report_list" => {
            let projects = views.scan::<ProjectState>("projects", "project")?;
            let visible = |project_id: Uuid| {
                projects
                    .iter()
                    .any(|pr| pr.id == project_id && visibility::sees_project(p, pr))
            };
            let out: Vec<ProgressReportState> = views
                .scan::<ProgressReportState>("projects", "progress_report")?
                .iter()
                .filter(|r| {
                    visible(r.project_id)
                        && f.project_id.is_none_or(|id| id == r.project_id)
                        && status_ok(r.status.map(|s| s.to_string()))
                })
                .cloned()
                .collect();
            to_value(page(f, out))
        }
        "rate_table_show" => {
            let tables = views.scan::<RateTableState>("projects", "rate_table")?;
            to_value(tables.iter().collect::<Vec<_>>())
        }
        "token_list" => {
            // Admins only; to anyone else the list is empty, as lists leave out what the
            // caller may not see (and every list view stays answerable to every role).
            if !is_admin(p) {
                return to_value(Vec::<TokenRow>::new());
            }
            let out: Vec<TokenRow> = views
                .scan::<TokenState>("partners", "token")?
                .iter()
                .filter(|t| id_ok(&t.id) && status_ok(t.status.map(|s| s.to_string())))
                .map(|t| TokenRow::from(t.clone()))
                .collect();
            to_value(page(f, out))
        }
        "need_match_list" => crate::matching::need_match_list(
            views,
            p,
            &consent,
            day,
            f.need_id,
            f.include_ineligible.as_ref(),
            f.language.as_deref(),
        )
        .and_then(to_value),
        "offer_match_list" => crate::matching::offer_match_list(
            views,
            p,
            &consent,
            day,
            f.offer_id,
            f.include_ineligible.as_ref(),
            f.language.as_deref(),
        )
        .and_then(to_value),
        "allocation_proposal" => crate::allocation::allocation_proposal(
            views,
            p,
            &consent,
            day,
            f.member_state.as_deref(),
            f.theme.as_deref(),
        )
        .and_then(to_value),
        "overlap_list" => {
            let rows = crate::matching::overlap_list(
                views,
                p,
                f.member_state.as_deref(),
                f.id.as_deref(),
            )?;
            to_value(page(f, rows))
        }
        _ => Err(ErrorBody::invalid("view", "unknown view")),
    }
}

/// A stored state that does not decode: logged for the operator, an internal error to the caller.
fn undecodable(e: &str) -> ErrorBody {
    tracing::error!(error = %e, "read model holds an undecodable state");
    ErrorBody::internal()
}

/// `*_show` answers one object (not found when invisible or absent); `*_list` all of them.
/// One page of a list: `offset` items skipped, at most `limit` kept (the gateway asks for one
/// more than it shows, to know whether another page follows). Without them, the whole list.
fn page<T>(filters: &Filters, out: Vec<T>) -> Vec<T> {
    out.into_iter()
        .skip(filters.offset.unwrap_or(0))
        .take(filters.limit.unwrap_or(usize::MAX))
        .collect()
}

/// The same page, taken lazily from an iterator: a list stops reading once the page is full.
fn page_of<'a, T: Clone + 'a>(filters: &Filters, items: impl Iterator<Item = &'a T>) -> Vec<T> {
    items
        .skip(filters.offset.unwrap_or(0))
        .take(filters.limit.unwrap_or(usize::MAX))
        .cloned()
        .collect()
}

fn one_or_all<T: Serialize>(
    verb: &str,
    filters: &Filters,
    mut out: Vec<T>,
) -> Result<Answer, ErrorBody> {
    if verb.ends_with("_show") {
        let Some(id) = &filters.id else {
            return Err(ErrorBody::invalid("id", "is required"));
        };
        let what = verb.trim_end_matches("_show");
        return match out.pop() {
            Some(one) => to_value(one),
            None => Err(ErrorBody::new(
                ErrorCode::NotFound,
                format!("{what} {id} not found"),
            )),
        };
    }
    to_value(page(filters, out))
}

/// An answer as JSON text: written once here and passed through as is (by the NATS reply and
/// the gateway), never built as a `serde_json::Value` tree, which cost most of a list query.
pub(crate) type Answer = Box<serde_json::value::RawValue>;

fn to_value<T: Serialize>(value: T) -> Result<Answer, ErrorBody> {
    serde_json::value::to_raw_value(&value).map_err(|_| ErrorBody::internal())
}
