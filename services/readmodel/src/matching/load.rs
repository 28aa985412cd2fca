//! What matching reads, once per request: the needs and offers the caller may see, and the
//! grants, referrals, projects and rates the rules read.

use std::sync::Arc;

use jiff::civil::Date;
use tatrack_bus::rpc::ErrorBody;
use tatrack_domain::Principal;
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::OfferState;
use tatrack_domain::project::ProjectState;
use tatrack_domain::rates::RateTableState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::sharing::SharingGrantState;

use super::score::Context;
use crate::cache::Views;
use crate::visibility::Consent;

/// Everything scoring reads, loaded once per request.
pub(crate) struct Loaded {
    /// Copies of the needs and offers the caller may see.
    pub(crate) needs: Vec<NeedState>,
    pub(crate) offers: Vec<OfferState>,
    /// The read model's shared lists, read in place.
    pub(crate) grants: Arc<Vec<SharingGrantState>>,
    pub(crate) referrals: Arc<Vec<ReferralState>>,
    pub(crate) projects: Arc<crate::cache::Snapshot<ProjectState>>,
    pub(crate) rates: RateTableState,
}

impl Loaded {
    /// The needs and offers `principal` may see (other states are kept whole: scoring reads them
    /// only for rules, never shows them).
    pub(crate) fn load(
        views: &Views,
        principal: &Principal,
        consent: &Consent,
    ) -> Result<Self, ErrorBody> {
        Self::load_needs(views, principal, consent, None)
    }

    /// As [`Loaded::load`], with only need `only` among the needs when one is named: matching
    /// one need reads no other, and copying every need the caller may see was most of its cost.
    pub(crate) fn load_needs(
        views: &Views,
        principal: &Principal,
        consent: &Consent,
        only: Option<uuid::Uuid>,
    ) -> Result<Self, ErrorBody> {
        // A copy: scoring takes these as slices.
        let grants = views.scan::<SharingGrantState>("assessments", "sharing_grant")?;
        let grants = Arc::new(grants.to_vec());
        let needs = views.select::<NeedState>("assessments", "need", |n| {
            only.is_none_or(|id| id == n.id)
                && n.status.is_some()
                && consent.sees_need(principal, n)
        })?;
        let offers = views.select::<OfferState>("partners", "offer", |o| {
            o.status.is_some() && principal.may_see_organisation(&o.organisation)
        })?;
        // A copy: scoring takes these as slices.
        let referrals = Arc::new(
            views
                .scan::<ReferralState>("projects", "referral")?
                .to_vec(),
        );
        // Read in place: scoring reads them only through the track-record index.
        let projects = views.scan::<ProjectState>("projects", "project")?;
        let rates = views
            .scan::<RateTableState>("projects", "rate_table")?
            .iter()
            .next()
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            needs,
            offers,
            grants,
            referrals,
            projects,
            rates,
        })
    }

    pub(crate) fn context<'a>(&'a self, as_of: Date, language: Option<&'a str>) -> Context<'a> {
        Context {
            as_of,
            grants: &self.grants,
            referrals: &self.referrals,
            rates: &self.rates,
            language,
            track_records: super::score::TrackRecords::of(self.projects.iter()),
        }
    }
}
