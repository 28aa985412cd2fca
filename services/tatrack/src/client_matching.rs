//! Client commands for matching: ranked offers for a need and needs for an offer (with the points
//! of every criterion), the global allocation proposal, accepting a suggestion as a referral in
//! one command, and overlap alerts, which are also printed right after a referral is proposed.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::Settings;
use crate::client::{command_to, connect, filters, money_arg, print_list, query, text};
use crate::client_projects::{self, ReferralCmd};

#[derive(Debug, Subcommand)]
pub enum MatchCmd {
    /// The offers that could serve a need, best first, with the points of every criterion.
    Need {
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
        offer: Uuid,
        #[arg(long)]
        include_ineligible: bool,
        #[arg(long)]
        language: Option<String>,
    },
    /// The assignment of open offers to open needs that maximises priority-weighted coverage.
    Allocate {
        /// Only needs of this State.
        #[arg(long)]
        country: Option<String>,
        /// Only needs of this theme.
        #[arg(long)]
        theme: Option<String>,
    },
    /// Propose the referral that the suggestion of OFFER for NEED describes (its share of money
    /// and units), and print any overlap it creates.
    Accept {
        #[arg(long)]
        need: Uuid,
        #[arg(long)]
        offer: Uuid,
    },
}

/// Overlap alerts: two referrals, offers or projects for the same State, theme and beneficiary
/// with overlapping dates.
#[derive(Debug, Args)]
pub struct OverlapsArgs {
    /// Only this State's.
    #[arg(long)]
    country: Option<String>,
    /// Only those involving this referral, offer or project.
    #[arg(long)]
    id: Option<Uuid>,
}

pub async fn matching(settings: &Settings, cmd: MatchCmd) -> anyhow::Result<()> {
    match cmd {
        MatchCmd::Need {
            need,
            include_ineligible,
            language,
        } => {
            let client = connect(settings).await?;
            let body = filters(json!({ "need_id": need, "language": language,
                                       "include_ineligible": include_ineligible }));
            let answer = query(&client, &settings.actor, "need_match_list", body).await?;
            print_matches(settings, &answer, "/offer_id");
        }
        MatchCmd::Offer {
            offer,
            include_ineligible,
            language,
        } => {
            let client = connect(settings).await?;
            let body = filters(json!({ "offer_id": offer, "language": language,
                                       "include_ineligible": include_ineligible }));
            let answer = query(&client, &settings.actor, "offer_match_list", body).await?;
            print_matches(settings, &answer, "/need_id");
        }
        MatchCmd::Allocate { country, theme } => {
            let client = connect(settings).await?;
            let body = filters(json!({ "member_state": country, "theme": theme }));
            let answer = query(&client, &settings.actor, "allocation_proposal", body).await?;
            if settings.json {
                println!("{answer}");
                return Ok(());
            }
            print_list(
                settings,
                &answer["assignments"],
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
                answer["value_bp"],
                answer["max_value_bp"],
                text(&answer["method"])
            );
        }
        MatchCmd::Accept { need, offer } => {
            let client = connect(settings).await?;
            let answer = query(
                &client,
                &settings.actor,
                "need_match_list",
                json!({ "need_id": need, "include_ineligible": true }),
            )
            .await?;
            let wanted = offer.to_string();
            let found = |list: &str| {
                answer[list]
                    .as_array()
                    .and_then(|items| items.iter().find(|s| s["offer_id"] == wanted.as_str()))
                    .cloned()
            };
            let Some(suggestion) = found("suggestions") else {
                let reasons = found("ineligible").map_or_else(
                    || "the offer is unknown or not visible to you".to_owned(),
                    |left| {
                        left["reasons"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|r| format!("{}: {}", text(&r["field"]), text(&r["reason"])))
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                );
                anyhow::bail!("invalid offer: offer {offer} cannot serve need {need}: {reasons}");
            };
            propose_and_flag(settings, &client, suggestion["referral_propose"].clone()).await?;
        }
    }
    Ok(())
}

/// `tatrack referral ...`: a proposal is sent here, so that its overlaps are shown at once; every
/// other move goes to the projects client as before.
pub async fn referral(settings: &Settings, cmd: ReferralCmd) -> anyhow::Result<()> {
    let ReferralCmd::Propose {
        need,
        offer,
        money,
        currency,
        units,
        on,
        id,
    } = cmd
    else {
        return client_projects::referral(settings, cmd).await;
    };
    // The service takes the State from the need and the organisation from the offer.
    let body = json!({
        "id": id, "need_id": need, "offer_id": offer,
        "member_state": "", "organisation": "",
        "share_money": money_arg(money.as_deref(), currency.as_deref())?,
        "share_units": units, "on": on,
    });
    let client = connect(settings).await?;
    propose_and_flag(settings, &client, body).await
}

/// Proposes a referral, then asks the read model (once it has the referral) which referrals,
/// offers or projects it overlaps, and prints them after the usual ok line.
async fn propose_and_flag(
    settings: &Settings,
    client: &async_nats::Client,
    body: Value,
) -> anyhow::Result<()> {
    let mut reply = command_to(
        client,
        &settings.actor,
        "projects",
        "referral_propose",
        body,
    )
    .await?;
    let id = reply["id"].as_str().unwrap_or_default().to_owned();
    let position = reply["last_position"].as_u64().unwrap_or(0);
    let mut ask = json!({ "id": id });
    if position > 0 {
        ask["min_positions"] = json!({ "projects": position });
    }
    // The referral is made whatever happens next: a failed look-up is a warning, not an error.
    let overlaps = match query(client, &settings.actor, "overlap_list", ask)
        .await
        .context("looking up overlaps")
    {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("warning: {e:#}");
            Value::Array(Vec::new())
        }
    };
    if settings.json {
        reply["overlaps"] = overlaps;
        println!("{reply}");
        return Ok(());
    }
    if reply["idempotent"].as_bool() == Some(true) {
        println!("already done: {id} (position {})", reply["last_position"]);
    } else {
        println!("ok: {id} (position {})", reply["last_position"]);
    }
    let rows = overlaps.as_array().map_or(&[][..], Vec::as_slice);
    if !rows.is_empty() {
        println!(
            "overlap alert: {} item(s) for the same State, theme and beneficiary with overlapping dates:",
            rows.len()
        );
        for row in rows {
            // The other item of each pair.
            let other = row["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["id"] != id.as_str())
                .cloned()
                .unwrap_or(Value::Null);
            println!(
                "  {} {} ({}, {}..{}) {} {} {}",
                text(&other["kind"]),
                text(&other["id"]),
                text(&other["organisation"]),
                text(&other["from"]),
                text(&other["until"]),
                text(&row["member_state"]),
                text(&row["theme"]),
                text(&row["beneficiary_institution"]),
            );
        }
    }
    Ok(())
}

pub async fn overlaps(settings: &Settings, args: OverlapsArgs) -> anyhow::Result<()> {
    crate::client::list(
        settings,
        "overlap_list",
        json!({ "member_state": args.country, "id": args.id }),
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
    .await
}

/// Suggestions as a table, then each one's explanation, then (if asked) what was left out.
fn print_matches(settings: &Settings, answer: &Value, id_pointer: &str) {
    if settings.json {
        println!("{answer}");
        return;
    }
    let empty = Vec::new();
    let suggestions = answer["suggestions"].as_array().unwrap_or(&empty);
    let mut ranked: Vec<Value> = Vec::new();
    for (rank, s) in suggestions.iter().enumerate() {
        let mut row = s.clone();
        row["rank"] = json!(rank + 1);
        row["score_of"] = json!(format!("{}/{}", s["score"], s["max_score"]));
        ranked.push(row);
    }
    print_list(
        settings,
        &Value::Array(ranked),
        &[
            ("RANK", "/rank"),
            ("SCORE", "/score_of"),
            (
                if id_pointer == "/offer_id" {
                    "OFFER"
                } else {
                    "NEED"
                },
                id_pointer,
            ),
            ("ORGANISATION", "/organisation"),
            ("STATE", "/member_state"),
            ("PRIORITY", "/priority"),
            ("MONEY", "/referral_propose/share_money"),
            ("UNITS", "/referral_propose/share_units"),
        ],
    );
    for (rank, s) in suggestions.iter().enumerate() {
        println!(
            "\n#{} {} ({}): {}/{}",
            rank + 1,
            text(s.pointer(id_pointer).unwrap_or(&Value::Null)),
            text(&s["organisation"]),
            s["score"],
            s["max_score"]
        );
        for c in s["explanation"].as_array().unwrap_or(&empty) {
            println!(
                "  {:<13} {:>2}/{:<2}  {}",
                text(&c["criterion"]),
                c["points"],
                c["max"],
                text(&c["detail"])
            );
        }
    }
    if let Some(left) = answer["ineligible"].as_array() {
        println!("\nleft out:");
        if left.is_empty() {
            println!("(none)");
        }
        for l in left {
            let id = if id_pointer == "/offer_id" {
                &l["offer_id"]
            } else {
                &l["need_id"]
            };
            let reasons: Vec<String> = l["reasons"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .map(|r| format!("{}: {}", text(&r["field"]), text(&r["reason"])))
                .collect();
            println!(
                "  {} ({}): {}",
                text(id),
                text(&l["organisation"]),
                reasons.join("; ")
            );
        }
    }
}
