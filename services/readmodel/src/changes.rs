//! `change_list`: what was recorded after a report was made that changes its figures, so a
//! coordinator can explain why two reports of the same day differ. A report records the log
//! positions it was made from ("known at") and the business date it is "as of"; an event
//! recorded after those positions and dated on or before that day is a late fact or a
//! correction that a report made again now would count. Only events about what the caller may
//! see today, and within the report's scope where the event's subject says which State, theme
//! or organisation it concerns, are listed.

use async_nats::jetstream::consumer;
use futures::StreamExt;
use jiff::civil::Date;
use tatrack_bus::rpc::{ErrorBody, ErrorCode};
use tatrack_bus::{streams, subjects};
use tatrack_contract::answers::{Change, Changes};
use tatrack_domain::assessment::AssessmentState;
use tatrack_domain::need::NeedState;
use tatrack_domain::offer::OfferState;
use tatrack_domain::progress::ProgressReportState;
use tatrack_domain::project::ProjectState;
use tatrack_domain::recommendation::RecommendationState;
use tatrack_domain::referral::ReferralState;
use tatrack_domain::report::{ReportScope, ReportState};
use tatrack_domain::sharing::SharingGrantState;
use tatrack_domain::{Principal, codes};
use tatrack_eventlog::Envelope;
use uuid::Uuid;

use crate::asof::AsOf;
use crate::cache::Views;
use crate::visibility::{self, Consent};

/// Most changes listed (the oldest first): a report this far behind is better made again.
const MAX_CHANGES: usize = 1000;

pub(crate) async fn change_list(
    live: &Views,
    as_of: &AsOf,
    principal: &Principal,
    report_id: &Option<Uuid>,
    today: Date,
) -> Result<Changes, ErrorBody> {
    let Some(report_id) = *report_id else {
        return Err(ErrorBody::invalid("report_id", "is required"));
    };
    let not_found = || ErrorBody::new(ErrorCode::NotFound, format!("report {report_id} not found"));
    let report = live
        .scan::<ReportState>("reporter", "report")?
        .iter()
        .find(|r| r.id == report_id)
        .cloned()
        .ok_or_else(not_found)?;
    // A report is its requester's, and the staff's and auditors'.
    let own = report
        .requested_by
        .as_ref()
        .is_some_and(|r| r.id == principal.id && r.role == principal.role);
    let staff = principal.reads_all();
    if !own && !staff {
        return Err(not_found());
    }
    let Some(day) = report.as_of else {
        return Err(not_found());
    };
    let consent = Consent::new(live, today, principal)?;
    let subject = Subject {
        live,
        principal,
        consent: &consent,
        scope: &report.scope,
    };
    let applied = live.applied();
    let mut changes = Vec::new();
    for service in subjects::SERVICES {
        if service == "reporter" {
            // Reports made since do not change a report's figures.
            continue;
        }
        let from = report.known_at.get(service).copied().unwrap_or(0);
        let to = applied.get(service).copied().unwrap_or(0);
        let relevant = as_of
            .timeline(service)
            .is_none_or(|t| t.counts_between(from, to, Some(day)));
        if from >= to || !relevant {
            continue;
        }
        for envelope in read(as_of, service, from + 1, to).await? {
            if envelope.business_date() > day || !subject.counts(&envelope)? {
                continue;
            }
            let recorded_by = if staff {
                envelope.principal.clone()
            } else {
                envelope
                    .principal
                    .split_once(':')
                    .map_or_else(String::new, |(role, _)| role.to_owned())
            };
            changes.push(Change {
                service: service.to_owned(),
                position: envelope.position,
                stream: envelope.stream.clone(),
                kind: envelope.kind.clone(),
                on: envelope.business_date(),
                recorded_at: envelope.recorded_at,
                recorded_by,
            });
            if changes.len() >= MAX_CHANGES {
                break;
            }
        }
    }
    Ok(Changes {
        report_id,
        as_of: report.as_of,
        known_at: crate::asof::format_positions(&report.known_at),
        changes,
    })
}

/// The events of `service` at positions `from..=to`, from its stream.
async fn read(as_of: &AsOf, service: &str, from: u64, to: u64) -> Result<Vec<Envelope>, ErrorBody> {
    let unavailable = |e: &dyn std::fmt::Display| {
        ErrorBody::new(
            ErrorCode::Unavailable,
            format!("cannot read the {service} stream: {e}"),
        )
    };
    let stream = streams::reader(as_of.jetstream(), service)
        .await
        .map_err(|e| unavailable(&e))?;
    let consumer = stream
        .create_consumer(streams::ordered_consumer(
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from,
            },
            None,
        ))
        .await
        .map_err(|e| unavailable(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    let mut out = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| unavailable(&e))?;
        let envelope: Envelope =
            serde_json::from_slice(&message.payload).map_err(|e| unavailable(&e))?;
        let position = envelope.position;
        out.push(envelope);
        if position >= to {
            break;
        }
    }
    Ok(out)
}

/// What an event is about, judged on the live states: whether the caller may see it and
/// whether it falls within the report's scope.
struct Subject<'a> {
    live: &'a Views,
    principal: &'a Principal,
    consent: &'a Consent,
    scope: &'a ReportScope,
}

impl Subject<'_> {
    fn counts(&self, envelope: &Envelope) -> Result<bool, ErrorBody> {
        let Some((aggregate, id)) = envelope.stream.split_once('-') else {
            return Ok(false);
        };
        let p = self.principal;
        let one = |service: &str| -> Result<(String, String), ErrorBody> {
            Ok((service.to_owned(), id.to_owned()))
        };
        Ok(match aggregate {
            "assessment" => {
                let (s, id) = one("assessments")?;
                self.find::<AssessmentState>(&s, aggregate, &id, |a| a.id.to_string())?
                    .is_some_and(|a| {
                        self.consent.sees_assessment(p, &a.member_state, a.id)
                            && self.place(Some(&a.member_state), None, None)
                    })
            }
            "recommendation" => {
                let (s, id) = one("assessments")?;
                self.find::<RecommendationState>(&s, aggregate, &id, |r| r.id.to_string())?
                    .is_some_and(|r| {
                        (p.may_see_member_state(&r.member_state)
                            || self
                                .consent
                                .shared_report(p, &r.member_state, r.assessment_id))
                            && self.place(Some(&r.member_state), Some(&r.theme), None)
                    })
            }
            "need" => {
                let (s, id) = one("assessments")?;
                self.find::<NeedState>(&s, aggregate, &id, |n| n.id.to_string())?
                    .is_some_and(|n| {
                        self.consent.sees_need(p, &n)
                            && self.place(Some(&n.member_state), Some(&n.theme), None)
                    })
            }
            "sharing_grant" => {
                let (s, id) = one("assessments")?;
                self.find::<SharingGrantState>(&s, aggregate, &id, |g| g.id.to_string())?
                    .is_some_and(|g| {
                        p.may_see_member_state(&g.member_state)
                            && self.place(Some(&g.member_state), None, None)
                    })
            }
            "offer" => {
                let (s, id) = one("partners")?;
                self.find::<OfferState>(&s, aggregate, &id, |o| o.id.to_string())?
                    .is_some_and(|o| {
                        p.may_see_organisation(&o.organisation)
                            && self
                                .scope
                                .member_state
                                .as_ref()
                                .is_none_or(|c| o.countries.contains(c))
                            && self
                                .scope
                                .theme
                                .as_ref()
                                .is_none_or(|t| o.themes.contains(t))
                            && self
                                .scope
                                .donor
                                .as_ref()
                                .is_none_or(|d| *d == o.organisation)
                    })
            }
            "referral" => {
                let (s, id) = one("projects")?;
                self.find::<ReferralState>(&s, aggregate, &id, |r| r.id.to_string())?
                    .is_some_and(|r| {
                        visibility::sees_referral(p, &r)
                            && self.place(Some(&r.member_state), None, Some(&r.organisation))
                    })
            }
            "project" => {
                let (s, id) = one("projects")?;
                self.find::<ProjectState>(&s, aggregate, &id, |x| x.id.to_string())?
                    .is_some_and(|x| self.project_counts(&x))
            }
            "progress_report" => {
                let (s, id) = one("projects")?;
                match self.find::<ProgressReportState>(&s, aggregate, &id, |r| r.id.to_string())? {
                    Some(r) => {
                        let project_id = r.project_id.to_string();
                        self.find::<ProjectState>("projects", "project", &project_id, |x| {
                            x.id.to_string()
                        })?
                        .is_some_and(|x| self.project_counts(&x))
                    }
                    None => false,
                }
            }
            // Organisations (names in every section) and exchange rates (every sum across
            // currencies) change any report's figures.
            "organisation" | "rate_table" => true,
            // Tokens, accounts and reports are not figures of a report.
            _ => false,
        })
    }

    fn project_counts(&self, project: &ProjectState) -> bool {
        visibility::sees_project(self.principal, project)
            && self.place(Some(&project.recipient_country), Some(&project.theme), None)
            && self
                .scope
                .donor
                .as_ref()
                .is_none_or(|d| project.participating.iter().any(|x| x.organisation == *d))
    }

    /// Within the report's scope, by what the subject says of itself.
    fn place(
        &self,
        member_state: Option<&String>,
        theme: Option<&String>,
        organisation: Option<&String>,
    ) -> bool {
        let scope = self.scope;
        let state_ok = |c: &String| {
            scope.member_state.as_ref().is_none_or(|m| m == c)
                && scope
                    .region
                    .as_ref()
                    .is_none_or(|r| codes::regions_of(c).contains(&r.as_str()))
        };
        member_state.is_none_or(state_ok)
            && theme.is_none_or(|t| scope.theme.as_ref().is_none_or(|s| s == t))
            && organisation.is_none_or(|o| scope.donor.as_ref().is_none_or(|d| d == o))
    }

    fn find<T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        service: &str,
        aggregate: &str,
        id: &str,
        key: impl Fn(&T) -> String,
    ) -> Result<Option<T>, ErrorBody> {
        Ok(self
            .live
            .scan::<T>(service, aggregate)?
            .iter()
            .find(|x| key(x) == id)
            .cloned())
    }
}
