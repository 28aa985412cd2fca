//! Matching: ranked offers for a need and needs for an offer (with the points of every
//! criterion), the global allocation proposal, accepting a suggestion as a referral in one
//! command, and overlap alerts, which are also printed right after a referral is proposed.

use clap::{Args, Subcommand};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tatrack_contract::CommandReply;
use tatrack_contract::answers::{
    Allocation, Ineligible, NeedMatches, OfferMatches, Overlap, Suggestion,
};
use tatrack_contract::bus::{Verb, View};
use tatrack_contract::commands::referral::Propose;
use tatrack_contract::views;
use tatrack_domain::referral::ReferralState;
use uuid::Uuid;

use super::args;
use super::projects::PROPOSE_FLAGS;
use super::{Client, Error, Flags, output};

#[derive(Debug, Subcommand)]
pub enum MatchCmd {
    /// The offers that could serve a need, best first, with the points of every criterion.
    Need {
        /// The need.
        need: Uuid,
        /// Also list the offers left out, with their reasons.
        #[arg(long)]
        include_ineligible: bool,
        /// ISO 639-1 language the work should be done in (scores the offers that speak it).
        #[arg(long)]
        language: Option<String>,
    },
    /// The needs an offer could serve, best first (a donor: among needs shared with it).
    Offer {
        /// The offer.
        offer: Uuid,
        /// Also list the needs left out, with their reasons.
        #[arg(long)]
        include_ineligible: bool,
        /// ISO 639-1 language the work should be done in.
        #[arg(long)]
        language: Option<String>,
    },
    /// The shares of open offers over open needs that maximise priority-weighted coverage.
    Allocate {
        /// Only needs of this State (ISO 3166-1 alpha-2).
        #[arg(long, value_parser = args::country)]
        country: Option<String>,
        /// Only needs of this theme.
        #[arg(long)]
        theme: Option<String>,
    },
    /// Propose the referral the suggestion of OFFER for NEED describes (its share of money and
    /// units), and print any overlap it makes.
    Accept {
        /// The need.
        #[arg(long)]
        need: Uuid,
        /// The offer suggested for it.
        #[arg(long)]
        offer: Uuid,
    },
}

/// Overlap alerts: two referrals, offers or projects for the same State, theme and beneficiary
/// with overlapping dates.
#[derive(Debug, Args)]
pub struct OverlapsArgs {
    /// Only this State's (ISO 3166-1 alpha-2).
    #[arg(long, value_parser = args::country)]
    country: Option<String>,
    /// Only those involving this referral, offer or project.
    #[arg(long)]
    id: Option<Uuid>,
}

const MATCH_FLAGS: Flags = Flags(&[
    ("language", "--language"),
    ("member_state", "--country"),
    ("theme", "--theme"),
    ("need_id", "NEED"),
    ("offer_id", "OFFER"),
]);

pub async fn matching(client: &Client, cmd: MatchCmd) -> anyhow::Result<()> {
    match cmd {
        MatchCmd::Need {
            need,
            include_ineligible,
            language,
        } => ranked::<NeedMatches>(client, need, include_ineligible, language).await?,
        MatchCmd::Offer {
            offer,
            include_ineligible,
            language,
        } => ranked::<OfferMatches>(client, offer, include_ineligible, language).await?,
        MatchCmd::Allocate { country, theme } => {
            let params = views::AllocationParams {
                member_state: country,
                theme,
                ..Default::default()
            };
            let answer: Allocation = client
                .view(View::AllocationProposal, None, &params, MATCH_FLAGS)
                .await?;
            if client.json {
                output::one(true, &answer);
                return Ok(());
            }
            output::list(
                false,
                &answer.assignments,
                &[
                    ("PRIORITY", "/priority"),
                    ("NEED", "/need_id"),
                    ("STATE", "/member_state"),
                    ("OFFER", "/offer_id"),
                    ("ORGANISATION", "/organisation"),
                    ("MONEY", "/share_money"),
                    ("UNITS", "/share_units"),
                ],
            );
            println!(
                "weighted coverage: {} of {} basis points ({})",
                answer.value_bp, answer.max_value_bp, answer.method
            );
        }
        MatchCmd::Accept { need, offer } => {
            let params = views::Matches {
                include_ineligible: Some(true),
                ..Default::default()
            };
            let answer: NeedMatches = client
                .view(
                    View::NeedMatchList,
                    Some(&need.to_string()),
                    &params,
                    Flags(&[("need_id", "--need")]),
                )
                .await?;
            let Some(suggestion) = answer.suggestions.iter().find(|s| s.offer_id == offer) else {
                let reasons = answer
                    .ineligible
                    .iter()
                    .flatten()
                    .find(|i| i.offer_id == offer)
                    .map_or_else(
                        || "the offer is unknown or not visible to you".to_owned(),
                        |left| {
                            left.reasons
                                .iter()
                                .map(|r| format!("{}: {}", r.field, r.reason))
                                .collect::<Vec<_>>()
                                .join("; ")
                        },
                    );
                return Err(Error::invalid(
                    "--offer",
                    format!("offer {offer} cannot serve need {need}: {reasons}"),
                )
                .into());
            };
            propose_and_flag(client, &suggestion.referral_propose).await?;
        }
    }
    Ok(())
}

/// Proposes a referral, then (once the read model has it) asks which referrals, offers or
/// projects it overlaps, and prints them after the usual ok line.
pub async fn propose_and_flag(client: &Client, body: &Propose) -> anyhow::Result<()> {
    let reply: CommandReply = client
        .command(Verb::ReferralPropose, None, body, PROPOSE_FLAGS)
        .await?;
    // The referral is made whatever happens next: a failed look-up is a warning, not an error.
    let overlaps = match overlaps_of(client, &reply).await {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("warning: looking up overlaps: {e:#}");
            Vec::new()
        }
    };
    if client.json {
        let mut value = serde_json::to_value(&reply)?;
        value["overlaps"] = serde_json::to_value(&overlaps)?;
        println!("{value}");
        return Ok(());
    }
    println!("{}", output::reply_line(&reply));
    if !overlaps.is_empty() {
        println!(
            "overlap alert: {} item(s) for the same State, theme and beneficiary with overlapping dates:",
            overlaps.len()
        );
        for row in &overlaps {
            // The other item of each pair.
            let Some(other) = row.items.iter().find(|i| i.id.to_string() != reply.id) else {
                continue;
            };
            let day = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
            println!(
                "  {} {} ({}, {}..{}) {} {} {}",
                other.kind,
                other.id,
                other.organisation,
                day(other.from),
                day(other.until),
                row.member_state,
                row.theme,
                row.beneficiary_institution.as_deref().unwrap_or_default(),
            );
        }
    }
    Ok(())
}

/// The overlaps of a referral just proposed: first read it back at its position (so the read
/// model has it), then ask for its overlaps.
async fn overlaps_of(client: &Client, reply: &CommandReply) -> anyhow::Result<Vec<Overlap>> {
    if reply.last_position > 0 {
        let params = views::Show {
            min_position: Some(reply.last_position),
            ..Default::default()
        };
        let _: ReferralState = client
            .view(View::ReferralShow, Some(&reply.id), &params, Flags::NONE)
            .await?;
    }
    let params = views::OverlapList {
        id: Some(reply.id.clone()),
        ..Default::default()
    };
    client.list(View::OverlapList, &params, Flags::NONE).await
}

pub async fn overlaps(client: &Client, args: OverlapsArgs) -> anyhow::Result<()> {
    let params = views::OverlapList {
        member_state: args.country,
        id: args.id.map(|id| id.to_string()),
        ..Default::default()
    };
    client
        .print_list::<Overlap, _>(
            View::OverlapList,
            &params,
            Flags(&[("member_state", "--country"), ("id", "--id")]),
            &[
                ("STATE", "/member_state"),
                ("THEME", "/theme"),
                ("BENEFICIARY", "/beneficiary_institution"),
                ("KIND", "/items/0/kind"),
                ("ID", "/items/0/id"),
                ("ORGANISATION", "/items/0/organisation"),
                ("FROM", "/items/0/from"),
                ("UNTIL", "/items/0/until"),
                ("KIND", "/items/1/kind"),
                ("ID", "/items/1/id"),
                ("ORGANISATION", "/items/1/organisation"),
                ("FROM", "/items/1/from"),
                ("UNTIL", "/items/1/until"),
            ],
        )
        .await?;
    Ok(())
}

/// A ranked answer: a need's offers or an offer's needs.
trait Ranked: DeserializeOwned + Serialize {
    /// The view that answers it.
    const VIEW: View;
    /// Whether it ranks offers (for a need), else needs (for an offer).
    const OFFERS: bool;
    fn suggestions(&self) -> (&[Suggestion], Option<&[Ineligible]>);
}

impl Ranked for NeedMatches {
    const VIEW: View = View::NeedMatchList;
    const OFFERS: bool = true;
    fn suggestions(&self) -> (&[Suggestion], Option<&[Ineligible]>) {
        (&self.suggestions, self.ineligible.as_deref())
    }
}

impl Ranked for OfferMatches {
    const VIEW: View = View::OfferMatchList;
    const OFFERS: bool = false;
    fn suggestions(&self) -> (&[Suggestion], Option<&[Ineligible]>) {
        (&self.suggestions, self.ineligible.as_deref())
    }
}

/// `match need|offer`: what `A` ranks for `id`, as JSON or as a table.
async fn ranked<A: Ranked>(
    client: &Client,
    id: Uuid,
    include_ineligible: bool,
    language: Option<String>,
) -> anyhow::Result<()> {
    let params = views::Matches {
        include_ineligible: include_ineligible.then_some(true),
        language,
        ..Default::default()
    };
    let answer: A = client
        .view(A::VIEW, Some(&id.to_string()), &params, MATCH_FLAGS)
        .await?;
    if client.json {
        output::one(true, &answer);
    } else {
        let (suggestions, ineligible) = answer.suggestions();
        print_matches(suggestions, ineligible, A::OFFERS);
    }
    Ok(())
}

/// Suggestions as a table, then each one's explanation, then (if asked) what was left out.
/// `offers`: the suggestions are offers for a need (else needs for an offer).
fn print_matches(suggestions: &[Suggestion], ineligible: Option<&[Ineligible]>, offers: bool) {
    let id = |s: &Suggestion| if offers { s.offer_id } else { s.need_id };
    let rows: Vec<Vec<String>> = suggestions
        .iter()
        .enumerate()
        .map(|(rank, s)| {
            let share = &s.referral_propose;
            vec![
                (rank + 1).to_string(),
                format!("{}/{}", s.score, s.max_score),
                id(s).to_string(),
                s.organisation.clone(),
                s.member_state.clone(),
                s.priority.to_string(),
                share
                    .share_money
                    .as_ref()
                    .map(|m| output::money(m.amount_minor, &m.currency))
                    .unwrap_or_default(),
                share.share_units.map(|u| u.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &[
            "RANK",
            "SCORE",
            if offers { "OFFER" } else { "NEED" },
            "ORGANISATION",
            "STATE",
            "PRIORITY",
            "MONEY",
            "UNITS",
        ],
        &rows,
    );
    for (rank, s) in suggestions.iter().enumerate() {
        println!(
            "\n#{} {} ({}): {}/{}",
            rank + 1,
            id(s),
            s.organisation,
            s.score,
            s.max_score
        );
        for c in &s.explanation {
            println!(
                "  {:<13} {:>2}/{:<2}  {}",
                c.criterion, c.points, c.max, c.detail
            );
        }
    }
    if let Some(left) = ineligible {
        println!("\nleft out:");
        if left.is_empty() {
            println!("(none)");
        }
        for l in left {
            let reasons: Vec<String> = l
                .reasons
                .iter()
                .map(|r| format!("{}: {}", r.field, r.reason))
                .collect();
            println!(
                "  {} ({}): {}",
                if offers { l.offer_id } else { l.need_id },
                l.organisation,
                reasons.join("; ")
            );
        }
    }
}
