//! Offers of assistance: draft, publish, amend, withdraw, expire.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tatrack_domain::Money;
use tatrack_domain::need::{Modality, Units};
use tatrack_domain::offer::OfferCommand;
use uuid::Uuid;

use super::{Body, unknown};
use crate::error::ErrorBody;

request! {
    /// Creates the offer, `draft`.
    #[schemars(rename = "OfferDraft")]
    pub struct Draft {
        /// Its id (default: the service mints one and says which).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<Uuid>,
        /// The offering organisation's id.
        pub organisation: String,
        pub title: String,
        /// Theme codes; at least one.
        #[serde(default)]
        pub themes: Vec<String>,
        /// Eligible countries (ISO 3166-1 alpha-2); with `regions`, at least one of the two.
        #[serde(default)]
        pub countries: Vec<String>,
        /// Eligible IATI regions (OECD DAC region codes).
        #[serde(default)]
        pub regions: Vec<String>,
        /// At least one.
        #[serde(default)]
        pub modalities: Vec<Modality>,
        /// Positive when given; with `capacity`, at least one of the two.
        #[serde(default)]
        pub budget: Option<Money>,
        #[serde(default)]
        pub capacity: Option<Units>,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub valid_from: Date,
        #[schemars(schema_with = "tatrack_domain::schema::date")]
        pub valid_until: Date,
        /// ISO 639-1 codes, lower case, e.g. `"en"`, `"fr"`; at least one.
        #[serde(default)]
        pub languages: Vec<String>,
        #[serde(default)]
        pub conditions: Option<String>,
    }
}

request! {
    /// Changes the given fields (`None` keeps the field) while draft, open or partially committed. The
    /// budget and capacity may not fall below what is already committed.
    #[schemars(rename = "OfferAmend")]
    pub struct Amend {
        #[serde(default)]
        pub title: Option<String>,
        #[serde(default)]
        pub themes: Option<Vec<String>>,
        #[serde(default)]
        pub countries: Option<Vec<String>>,
        #[serde(default)]
        pub regions: Option<Vec<String>>,
        #[serde(default)]
        pub modalities: Option<Vec<Modality>>,
        #[serde(default)]
        pub budget: Option<Money>,
        #[serde(default)]
        pub capacity: Option<Units>,
        #[schemars(schema_with = "tatrack_domain::schema::date_opt")]
        #[serde(default)]
        pub valid_until: Option<Date>,
        #[serde(default)]
        pub languages: Option<Vec<String>>,
        #[serde(default)]
        pub conditions: Option<String>,
    }
}

request! {
    /// The commitments so far, as totals (not increments) over accepted referrals, sent by the projects
    /// service; a measure left `None` keeps its previous total. Derives open / partially_committed /
    /// committed.
    #[schemars(rename = "OfferRecordCommitment")]
    pub struct RecordCommitment {
        #[serde(default)]
        pub committed_money: Option<Money>,
        #[serde(default)]
        pub committed_units: Option<u64>,
        /// A derived fact dated by the referral move that caused it: it may go back before the
        /// offer's last move (a late acceptance), though not before the offer was published.
    }
}

/// The `offer_<action>` command a body stands for, with `on` defaulted to `today`.
pub fn decode(action: &str, body: Value, today: Date) -> Result<OfferCommand, ErrorBody> {
    use OfferCommand as C;
    let body = Body::new(body, today);
    Ok(match action {
        "draft" => {
            let body: Draft = body.whole()?;
            from_body!(new C::Draft on today from body: organisation, title, themes, countries,
                regions, modalities, budget, capacity, valid_from, valid_until, languages,
                conditions)
        }
        "publish" => body.moved(|id, on, reason| C::Publish { id, on, reason })?,
        "amend" => {
            let (id, body): (_, Amend) = body.item()?;
            from_body!(C::Amend { id, on: body.on.unwrap_or(today) }
                from body: title, themes, countries, regions, modalities, budget, capacity,
                valid_until, languages, conditions)
        }
        "withdraw" => body.ended(|id, on, reason| C::Withdraw { id, on, reason })?,
        "expire" => body.dated(|id, on| C::Expire { id, on })?,
        "record_commitment" => {
            let (id, body): (_, RecordCommitment) = body.item()?;
            from_body!(C::RecordCommitment { id, on: body.on.unwrap_or(today) }
                from body: committed_money, committed_units)
        }
        _ => return Err(unknown(action)),
    })
}
