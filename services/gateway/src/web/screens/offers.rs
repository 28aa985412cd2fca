//! Offers: the list (a donor sees its own organisation's, staff and auditors every one, as the
//! `offer_list` view decides), one offer with what is left of it and, for coordinators, the needs
//! it could serve ranked; and the forms a donor (for its own organisation) or a coordinator (for
//! any) uses to draft, publish, amend and withdraw one. Each form is the API operation's body
//! (`draft_offer`, `publish_offer`, `amend_offer`, `withdraw_offer`), so a refusal is the API's,
//! shown next to its field with what was typed kept.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tatrack_contract::answers::{OfferMatches, OfferView};
use tatrack_contract::bus::View;
use tatrack_domain::money::minor_unit_digits;
use tatrack_domain::offer::OfferStatus;
use tatrack_domain::organisation::{OrganisationState, OrganisationStatus};
use uuid::Uuid;

use super::FormKeys;
use crate::app::App;
use crate::problem::Problem;
use crate::web::Posted;
use crate::web::{Chrome, FormData, Viewer, error_page, format, render_with, see_other};

/// The modalities an offer may provide, as the contract spells them.
const MODALITIES: [&str; 7] = [
    "training",
    "mentoring",
    "legislative_drafting",
    "equipment",
    "workshop",
    "study_visit",
    "expert_deployment",
];

const STATUSES: [&str; 6] = [
    "draft",
    "open",
    "partially_committed",
    "committed",
    "withdrawn",
    "expired",
];

/// What the list and an offer's page take from the URL: filters, the business date, and the log
/// position the person's own last write reached (read your writes after a form).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Asked {
    #[serde(default)]
    status: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    member_state: String,
    #[serde(default)]
    as_of: String,
    /// Not a number: ignored (a link that was cut, not a filter).
    #[serde(default)]
    seen: String,
    /// The page of the list, from 1 (not a number: the first).
    #[serde(default)]
    page: String,
}

/// Offers per page of the list.
const PAGE_SIZE: usize = 50;

impl Asked {
    fn page(&self) -> usize {
        self.page.trim().parse::<usize>().unwrap_or(1).max(1)
    }

    /// The list's address at page `page`, with the same filters.
    fn at_page(&self, page: usize) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("theme", &self.theme),
            ("member_state", &self.member_state),
            ("as_of", &self.as_of),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        query.append_pair("page", &page.to_string());
        format!("/offers?{}", query.finish())
    }

    fn as_of(&self) -> Result<Option<Date>, Problem> {
        match self.as_of.trim() {
            "" => Ok(None),
            text => text
                .parse::<Date>()
                .map(Some)
                .map_err(|_| Problem::invalid("as_of", "must be a date like 2026-03-31")),
        }
    }

    /// The view's parameters: the filters given, the date, and `min_position` after a write.
    fn params(&self, mut params: Map<String, Value>) -> Result<Value, Problem> {
        for (name, value) in [
            ("status", &self.status),
            ("theme", &self.theme),
            ("member_state", &self.member_state),
        ] {
            if !value.trim().is_empty() {
                params.insert(name.into(), json!(value.trim()));
            }
        }
        if let Some(day) = self.as_of()? {
            params.insert("as_of".into(), json!(day.to_string()));
        }
        if let Ok(position) = self.seen.trim().parse::<u64>() {
            params.insert("min_position".into(), json!(position));
        }
        Ok(Value::Object(params))
    }
}

pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

fn choices(items: impl IntoIterator<Item = (String, String)>, selected: &[String]) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: selected.contains(&value),
            value,
            label,
        })
        .collect()
}

fn theme_choices(selected: &[String]) -> Vec<Choice> {
    choices(
        tatrack_domain::codes::themes()
            .iter()
            .map(|t| (t.code.clone(), format!("{} ({})", t.name, t.code))),
        selected,
    )
}

/// One field of an offer form, written by `offer_fields.html`.
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    /// `text`, `date`, `textarea`, `select` (one) or `multiple`.
    pub(crate) kind: &'static str,
    pub(crate) hint: &'static str,
    pub(crate) value: String,
    pub(crate) options: Vec<Choice>,
    pub(crate) required: bool,
    pub(crate) error: Option<String>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, kind: &'static str, value: String) -> Self {
        Self {
            name,
            label,
            kind,
            hint: "",
            value,
            options: Vec::new(),
            required: false,
            error: None,
        }
    }

    fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    fn options(mut self, options: Vec<Choice>) -> Self {
        self.options = options;
        self
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// Every value of a field that may repeat (a multiple select), as typed.
fn all(form: &FormData, name: &str) -> Vec<String> {
    form.0
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A typed list of codes (`KE, UG`, or one per space): its items, as the case the codes take.
fn codes(text: &str, upper: bool) -> Vec<String> {
    text.split([',', ';', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if upper {
                s.to_uppercase()
            } else {
                s.to_lowercase()
            }
        })
        .collect()
}

/// `1,250.50` in a currency -> its minor units (`125050` for USD). Thousands separators and
/// spaces are ignored; a sign is kept (the service refuses what is not positive, by name).
fn minor_units(text: &str, currency: &str) -> Result<i64, Problem> {
    let bad = || {
        Problem::invalid(
            "budget",
            "must be an amount like 250000 or 250000.50, in the currency's units",
        )
    };
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_' | '\u{a0}'))
        .collect();
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let places = minor_unit_digits(currency) as usize;
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > places {
        return Err(Problem::invalid(
            "budget",
            format!("{currency} has {places} decimal places at most"),
        ));
    }
    let text = format!("{whole}{fraction:0<places$}");
    let amount = text.trim_start_matches('0');
    let amount: i64 = if amount.is_empty() {
        0
    } else {
        amount.parse().map_err(|_| bad())?
    };
    Ok(if negative { -amount } else { amount })
}

/// Minor units as a person types them back: `125050` USD -> `1250.50`.
fn decimal(amount_minor: i64, currency: &str) -> String {
    let places = minor_unit_digits(currency);
    if places == 0 {
        return amount_minor.to_string();
    }
    let scale = 10i64.pow(places);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale.unsigned_abs(),
        abs % scale.unsigned_abs(),
        width = places as usize
    )
}

/// The form field a problem's field belongs to (`budget.currency` -> `currency`).
fn form_field(field: &str) -> &str {
    match field {
        f if f.starts_with("budget.currency") => "currency",
        f if f.starts_with("budget") => "budget",
        f if f.starts_with("capacity.measure") => "measure",
        f if f.starts_with("capacity") => "capacity",
        f => f.split(['.', '[']).next().unwrap_or(f),
    }
}

/// The body of `draft_offer` (`draft`) or `amend_offer` from the form. For a draft every field
/// goes, empty or not, so the service names what is missing; for an amendment an empty field
/// keeps what the offer has.
fn offer_body(form: &FormData, draft: bool) -> Result<Map<String, Value>, Problem> {
    let mut body = Map::new();
    let mut put = |name: &str, value: Value| {
        body.insert(name.to_owned(), value);
    };
    if draft || form.get("title").is_some() {
        put("title", json!(form.get("title").unwrap_or_default()));
    }
    for (name, values) in [
        ("themes", all(form, "themes")),
        (
            "countries",
            codes(form.get("countries").unwrap_or_default(), true),
        ),
        (
            "regions",
            codes(form.get("regions").unwrap_or_default(), true),
        ),
        ("modalities", all(form, "modalities")),
        (
            "languages",
            codes(form.get("languages").unwrap_or_default(), false),
        ),
    ] {
        if draft || !values.is_empty() {
            put(name, json!(values));
        }
    }
    if let Some(amount) = form.get("budget") {
        let currency = form.get("currency").unwrap_or_default().to_uppercase();
        tatrack_domain::codes::check_currency("currency", &currency)
            .map_err(|e| Problem::invalid("currency", e.to_string()))?;
        put(
            "budget",
            json!({"amount_minor": minor_units(amount, &currency)?, "currency": currency}),
        );
    }
    if let Some(quantity) = form.get("capacity") {
        let quantity: u64 = quantity.replace([',', ' '], "").parse().map_err(|_| {
            Problem::invalid("capacity", "must be a whole number of units, at least 1")
        })?;
        put(
            "capacity",
            json!({"measure": form.get("measure").unwrap_or_default(), "quantity": quantity}),
        );
    }
    if draft && let Some(from) = form.get("valid_from") {
        put("valid_from", json!(from));
    }
    if let Some(until) = form.get("valid_until") {
        put("valid_until", json!(until));
    }
    if let Some(conditions) = form.get("conditions") {
        put("conditions", json!(conditions));
    }
    Ok(body)
}

/// The fields of the draft form (`organisation` only for staff, who draft for any), or of the
/// amend form (no organisation, no start of the window: neither changes).
fn offer_fields(
    values: &FormData,
    problem: Option<&Problem>,
    draft: bool,
    organisations: Option<&[(String, String)]>,
) -> Vec<Field> {
    let v = |name: &str| values.raw(name);
    let mut fields = Vec::new();
    if let Some(organisations) = organisations {
        fields.push(
            Field::new("organisation", "Organisation", "select", String::new())
                .options(choices(organisations.to_vec(), &[v("organisation")]))
                .required(),
        );
    }
    let mut title = Field::new("title", "Title", "text", v("title"));
    if draft {
        title = title.required();
    }
    fields.push(title);
    fields.push(
        Field::new("themes", "Themes", "multiple", String::new())
            .hint("one or more")
            .options(theme_choices(&all(values, "themes"))),
    );
    fields.push(
        Field::new("countries", "Countries", "text", v("countries"))
            .hint("ISO codes separated by commas, e.g. KE, UG"),
    );
    fields.push(
        Field::new("regions", "Regions", "text", v("regions"))
            .hint("DAC region codes separated by commas, e.g. 289; countries, regions or both"),
    );
    fields.push(
        Field::new("modalities", "Modalities", "multiple", String::new())
            .hint("one or more")
            .options(choices(
                MODALITIES.map(|m| (m.to_owned(), format::words(m))),
                &all(values, "modalities"),
            )),
    );
    fields.push(
        Field::new("budget", "Budget", "text", v("budget"))
            .hint("an amount, e.g. 250000.00; a budget, a capacity or both"),
    );
    fields
        .push(Field::new("currency", "Currency", "text", v("currency")).hint("ISO 4217, e.g. USD"));
    fields.push(
        Field::new("capacity", "Capacity", "text", v("capacity"))
            .hint("a whole number of units, e.g. 150"),
    );
    fields.push(
        Field::new("measure", "Unit of the capacity", "text", v("measure"))
            .hint("e.g. officers trained"),
    );
    if draft {
        fields.push(Field::new("valid_from", "Valid from", "date", v("valid_from")).required());
    }
    let mut until = Field::new("valid_until", "Valid until", "date", v("valid_until"));
    if draft {
        until = until.required();
    }
    fields.push(until);
    fields.push(
        Field::new("languages", "Languages", "text", v("languages"))
            .hint("ISO 639-1 codes separated by commas, e.g. en, fr"),
    );
    fields.push(Field::new(
        "conditions",
        "Conditions",
        "textarea",
        v("conditions"),
    ));
    if let Some(p) = problem
        && let Some(field) = p.field.as_deref()
    {
        let name = form_field(field);
        if let Some(f) = fields.iter_mut().find(|f| f.name == name) {
            f.error = Some(p.detail.clone());
        }
    }
    fields
}

pub(crate) struct OfferRow {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) themes: String,
    pub(crate) organisation: String,
    pub(crate) places: String,
    pub(crate) money: String,
    pub(crate) money_left: String,
    pub(crate) units: String,
    pub(crate) units_left: String,
    pub(crate) window: String,
    pub(crate) status: String,
}

fn places(o: &OfferView) -> String {
    let mut places: Vec<String> = o
        .state
        .countries
        .iter()
        .map(|c| format::country(c))
        .collect();
    places.extend(o.state.regions.iter().map(|r| {
        tatrack_domain::codes::region(r).map_or_else(|| format!("region {r}"), |x| x.name.clone())
    }));
    if places.is_empty() {
        "—".to_owned()
    } else {
        places.join(", ")
    }
}

fn window(o: &OfferView) -> String {
    format!(
        "{} to {}",
        format::date(o.state.valid_from),
        format::date(o.state.valid_until)
    )
}

fn units(quantity: Option<u64>, measure: Option<&str>) -> String {
    match quantity {
        Some(q) => format!("{} {}", format::grouped(q), measure.unwrap_or_default())
            .trim_end()
            .to_owned(),
        None => "—".to_owned(),
    }
}

impl From<&OfferView> for OfferRow {
    fn from(o: &OfferView) -> Self {
        let s = &o.state;
        let measure = s.capacity.as_ref().map(|c| c.measure.as_str());
        Self {
            id: s.id.to_string(),
            title: s.title.clone(),
            themes: s
                .themes
                .iter()
                .map(|t| format::theme(t))
                .collect::<Vec<_>>()
                .join(", "),
            organisation: s.organisation.clone(),
            places: places(o),
            money: s.budget.as_ref().map_or("—".into(), format::money),
            money_left: o.remaining_money.as_ref().map_or("—".into(), format::money),
            units: units(s.capacity.as_ref().map(|c| c.quantity), measure),
            units_left: units(o.remaining_units, measure),
            window: window(o),
            status: format::status(s.status),
        }
    }
}

#[derive(Template)]
#[template(path = "offers.html")]
struct OffersPage {
    chrome: Option<Chrome>,
    page: usize,
    previous: Option<String>,
    next: Option<String>,
    statuses: Vec<Choice>,
    themes: Vec<Choice>,
    countries: Vec<Choice>,
    as_of: String,
    filter_problem: Option<Problem>,
    rows: Vec<OfferRow>,
    /// The draft form's fields, for who may draft.
    fields: Option<Vec<Field>>,
    /// A refusal of the draft form.
    problem: Option<Problem>,
    keys: FormKeys,
}

impl OffersPage {
    fn filter_error(&self, field: &str) -> Option<&str> {
        self.filter_problem
            .as_ref()
            .filter(|p| p.field.as_deref() == Some(field))
            .map(|p| p.detail.as_str())
    }
}

/// The organisations staff draft for: the active ones of the registry.
async fn organisations(app: &App, viewer: &Viewer) -> Result<Vec<(String, String)>, Problem> {
    let registry: Vec<OrganisationState> =
        viewer.view(app, View::OrganisationList, json!({})).await?;
    Ok(registry
        .into_iter()
        .filter(|o| o.status == Some(OrganisationStatus::Active))
        .map(|o| (o.id.clone(), format!("{} ({})", o.name, o.id)))
        .collect())
}

/// Who may draft: a donor for its own organisation, staff for any.
fn may_draft(viewer: &Viewer) -> bool {
    viewer.principal.is_staff()
        || (viewer.principal.role == tatrack_domain::Role::Donor
            && viewer.principal.organisation.is_some())
}

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(asked): Query<Asked>,
) -> Response {
    list_page(&app, &viewer, &asked, None).await
}

async fn list_page(
    app: &App,
    viewer: &Viewer,
    asked: &Asked,
    refused: Option<(Problem, FormData)>,
) -> Response {
    let chrome = viewer.chrome("/offers");
    let page = asked.page();
    let mut paging = Map::new();
    // One more than a page, to know whether another follows.
    paging.insert("offset".into(), json!((page - 1) * PAGE_SIZE));
    paging.insert("limit".into(), json!(PAGE_SIZE + 1));
    let listed = match asked.params(paging) {
        Ok(params) => {
            viewer
                .view::<Vec<OfferView>>(app, View::OfferList, params)
                .await
        }
        Err(p) => Err(p),
    };
    let (offers, filter_problem) = match listed {
        Ok(offers) => (offers, None),
        // A bad filter is named next to its field; anything else is an error page.
        Err(p) if p.field.is_some() && p.status.is_client_error() => (Vec::new(), Some(p)),
        Err(p) => return error_page(&p, Some(chrome)),
    };
    let mut offers = offers;
    let more = offers.len() > PAGE_SIZE;
    offers.truncate(PAGE_SIZE);
    let fields = if may_draft(viewer) {
        let organisations = if viewer.principal.is_staff() {
            match organisations(app, viewer).await {
                Ok(o) => Some(o),
                Err(p) => return error_page(&p, Some(chrome)),
            }
        } else {
            None
        };
        let (problem, typed) = match &refused {
            Some((p, typed)) => (Some(p), typed.clone()),
            None => (
                None,
                FormData(vec![
                    ("currency".into(), "USD".into()),
                    ("languages".into(), "en".into()),
                    ("valid_from".into(), app.today().to_string()),
                ]),
            ),
        };
        Some(offer_fields(
            &typed,
            problem,
            true,
            organisations.as_deref(),
        ))
    } else {
        None
    };
    let status = match (&refused, &filter_problem) {
        (Some((p, _)), _) => p.status,
        (None, Some(_)) => StatusCode::BAD_REQUEST,
        (None, None) => StatusCode::OK,
    };
    let page = OffersPage {
        chrome: Some(chrome),
        page,
        previous: (page > 1).then(|| asked.at_page(page - 1)),
        next: more.then(|| asked.at_page(page + 1)),
        statuses: choices(
            STATUSES.map(|s| (s.to_owned(), format::words(s))),
            &[asked.status.trim().to_owned()],
        ),
        themes: theme_choices(&[asked.theme.trim().to_owned()]),
        countries: choices(
            tatrack_domain::codes::countries()
                .iter()
                .filter(|c| !c.withdrawn)
                .map(|c| (c.code.clone(), c.name.clone())),
            &[asked.member_state.trim().to_owned()],
        ),
        as_of: asked.as_of.clone(),
        filter_problem,
        rows: offers.iter().map(OfferRow::from).collect(),
        fields,
        problem: refused.map(|(p, _)| p),
        keys: FormKeys::new(&viewer.session.csrf),
    };
    render_with(status, &page)
}

/// The reply's last position, for reading the write back (`?seen=`).
fn seen(reply: &Value) -> String {
    reply["last_position"]
        .as_u64()
        .filter(|p| *p > 0)
        .map(|p| format!("?seen={p}"))
        .unwrap_or_default()
}

/// Drafts an offer: a donor's own organisation, or the one a coordinator chose.
pub(crate) async fn draft(State(app): State<App>, Posted { viewer, form }: Posted) -> Response {
    if !may_draft(&viewer) {
        return error_page(
            &Problem::forbidden("only a partner or a coordinator drafts offers"),
            Some(viewer.chrome("/offers")),
        );
    }
    let sent = match offer_body(&form, true) {
        Ok(mut command) => {
            let organisation = if viewer.principal.is_staff() {
                form.get("organisation").map(str::to_owned)
            } else {
                viewer.principal.organisation.clone()
            };
            command.insert(
                "organisation".into(),
                json!(organisation.unwrap_or_default()),
            );
            viewer
                .submit(&app, "draft_offer", Vec::new(), command, &form)
                .await
        }
        Err(p) => Err(p),
    };
    match sent {
        Ok(reply) => {
            let id = reply["id"].as_str().unwrap_or_default();
            see_other(&format!("/offers/{id}{}", seen(&reply)))
        }
        Err(p) if p.status.is_client_error() => {
            list_page(&app, &viewer, &Asked::default(), Some((p, form))).await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/offers"))),
    }
}

pub(crate) struct MatchRow {
    pub(crate) need_id: String,
    pub(crate) country: String,
    pub(crate) theme: String,
    pub(crate) beneficiary: String,
    pub(crate) priority: u8,
    pub(crate) score: u32,
    pub(crate) max_score: u32,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    chrome: Option<Chrome>,
    id: String,
    as_of: String,
    title: String,
    organisation: String,
    status: String,
    facts: Vec<(&'static str, String)>,
    /// Measure, offered, committed, left.
    amounts: Vec<(String, String, String, String)>,
    /// The ranked needs, for staff.
    matches: Option<Vec<MatchRow>>,
    may_publish: bool,
    /// The amend form's fields, when the offer may be amended by this person.
    fields: Option<Vec<Field>>,
    may_withdraw: bool,
    /// The refusal of the last form, and which form it was.
    problem: Option<Problem>,
    refused_action: String,
    reason: String,
    /// Publish's key is `keys.form_key`; each other form has its own, so two forms sent from one
    /// page are two commands.
    keys: FormKeys,
    amend_key: String,
    withdraw_key: String,
    /// The offer's version as shown, sent back by its forms (a stale form is refused).
    version: Option<u64>,
}

impl OfferPage {
    fn reason_error(&self) -> Option<&str> {
        self.problem
            .as_ref()
            .filter(|_| self.refused_action == "withdraw")
            .filter(|p| p.field.as_deref() == Some("reason"))
            .map(|p| p.detail.as_str())
    }
}

pub(crate) async fn show(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(asked): Query<Asked>,
) -> Response {
    offer_response(&app, &viewer, &id, &asked, None).await
}

async fn offer_response(
    app: &App,
    viewer: &Viewer,
    id: &str,
    asked: &Asked,
    refused: Option<(String, Problem, FormData)>,
) -> Response {
    let chrome = viewer.chrome("/offers");
    let id = match id.parse::<Uuid>() {
        Ok(id) => id,
        Err(_) => return error_page(&Problem::invalid("id", "must be a UUID"), Some(chrome)),
    };
    match offer_page(app, viewer, id, asked, refused).await {
        Ok((status, mut page)) => {
            page.chrome = Some(chrome);
            render_with(status, &page)
        }
        Err(p) => error_page(&p, Some(chrome)),
    }
}

/// The amend form's values: the offer as it stands, as a person would type it.
fn current_values(o: &OfferView) -> FormData {
    let s = &o.state;
    let mut values = vec![
        ("title".to_owned(), s.title.clone()),
        ("countries".to_owned(), s.countries.join(", ")),
        ("regions".to_owned(), s.regions.join(", ")),
        ("languages".to_owned(), s.languages.join(", ")),
        (
            "valid_until".to_owned(),
            s.valid_until.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "conditions".to_owned(),
            s.conditions.clone().unwrap_or_default(),
        ),
    ];
    values.extend(s.themes.iter().map(|t| ("themes".to_owned(), t.clone())));
    values.extend(
        s.modalities
            .iter()
            .map(|m| ("modalities".to_owned(), m.to_string())),
    );
    if let Some(b) = &s.budget {
        values.push(("budget".to_owned(), decimal(b.amount_minor, &b.currency)));
        values.push(("currency".to_owned(), b.currency.clone()));
    } else {
        values.push(("currency".to_owned(), "USD".to_owned()));
    }
    if let Some(c) = &s.capacity {
        values.push(("capacity".to_owned(), c.quantity.to_string()));
        values.push(("measure".to_owned(), c.measure.clone()));
    }
    FormData(values)
}

async fn offer_page(
    app: &App,
    viewer: &Viewer,
    id: Uuid,
    asked: &Asked,
    refused: Option<(String, Problem, FormData)>,
) -> Result<(StatusCode, OfferPage), Problem> {
    let mut params = Map::new();
    params.insert("id".into(), json!(id));
    let params = asked.params(params)?;
    // The same "not found" as the API for an offer the person may not see.
    let offer: OfferView = viewer.view(app, View::OfferShow, params.clone()).await?;
    let s = &offer.state;
    // Ranking needs for an offer is the coordinators' tool.
    let matches = if viewer.principal.is_staff() {
        let mut params = Map::new();
        params.insert("offer_id".into(), json!(id));
        if let Some(day) = asked.as_of()? {
            params.insert("as_of".into(), json!(day.to_string()));
        }
        let m: OfferMatches = viewer
            .view(app, View::OfferMatchList, Value::Object(params))
            .await?;
        Some(
            m.suggestions
                .iter()
                .map(|x| MatchRow {
                    need_id: x.need_id.to_string(),
                    country: format::country(&x.member_state),
                    theme: format::theme(&x.theme),
                    beneficiary: x.beneficiary_institution.clone(),
                    priority: x.priority,
                    score: x.score,
                    max_score: x.max_score,
                })
                .collect(),
        )
    } else {
        None
    };
    let manages = viewer.principal.is_staff() || viewer.principal.acts_for(&s.organisation);
    // Moves are made on the offer as it stands, not on a past day's picture of it.
    let today = asked.as_of.trim().is_empty();
    let live = matches!(
        s.status,
        Some(OfferStatus::Draft | OfferStatus::Open | OfferStatus::PartiallyCommitted)
    );
    let may_change = manages && today && live;
    let (problem, refused_action, typed) = match refused {
        Some((action, p, typed)) => (Some(p), action, Some(typed)),
        None => (None, String::new(), None),
    };
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let fields = may_change.then(|| {
        let (values, amend_problem) = match (&typed, refused_action.as_str()) {
            (Some(t), "amend") => (t.clone(), problem.as_ref()),
            _ => (current_values(&offer), None),
        };
        offer_fields(&values, amend_problem, false, None)
    });
    let mut amounts = Vec::new();
    if let Some(b) = &s.budget {
        amounts.push((
            format!("Money ({})", b.currency),
            format::money(b),
            s.committed_money
                .as_ref()
                .map_or_else(|| format::amount(0, &b.currency), format::money),
            offer
                .remaining_money
                .as_ref()
                .map_or("—".into(), format::money),
        ));
    }
    if let Some(c) = &s.capacity {
        amounts.push((
            format!("Units ({})", c.measure),
            format::grouped(c.quantity),
            format::grouped(s.committed_units.unwrap_or(0)),
            units(offer.remaining_units, None),
        ));
    }
    let mut facts = vec![
        ("Organisation", s.organisation.clone()),
        (
            "Themes",
            s.themes
                .iter()
                .map(|t| format::theme(t))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Countries and regions", places(&offer)),
        (
            "Modalities",
            s.modalities
                .iter()
                .map(|m| format::words(&m.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Languages", s.languages.join(", ")),
        ("Valid", window(&offer)),
        ("Drafted on", format::date(s.drafted_on)),
        ("Published on", format::date(s.published_on)),
    ];
    if let Some(c) = &s.conditions {
        facts.push(("Conditions", c.clone()));
    }
    let version = if may_change {
        viewer
            .version(app, &tatrack_bus::subjects::log_stream("offer", &s.id))
            .await
    } else {
        None
    };
    Ok((
        status,
        OfferPage {
            chrome: None,
            version,
            id: s.id.to_string(),
            as_of: asked.as_of.trim().to_owned(),
            title: s.title.clone(),
            organisation: s.organisation.clone(),
            status: format::status(s.status),
            facts,
            amounts,
            matches,
            may_publish: may_change && s.status == Some(OfferStatus::Draft),
            fields,
            may_withdraw: may_change,
            reason: typed
                .as_ref()
                .filter(|_| refused_action == "withdraw")
                .map(|t| t.raw("reason"))
                .unwrap_or_default(),
            problem,
            refused_action,
            keys: FormKeys::new(&viewer.session.csrf),
            amend_key: Uuid::now_v7().to_string(),
            withdraw_key: Uuid::now_v7().to_string(),
        },
    ))
}

/// Publish, amend or withdraw an offer; back to its page, or the page with the refusal.
pub(crate) async fn act(
    State(app): State<App>,
    Path((id, action)): Path<(String, String)>,
    Posted { viewer, form }: Posted,
) -> Response {
    let command = match action.as_str() {
        "publish" => Ok(("publish_offer", Map::new())),
        "amend" => offer_body(&form, false).map(|b| ("amend_offer", b)),
        "withdraw" => match form.get("reason") {
            Some(reason) => {
                let mut body = Map::new();
                body.insert("reason".into(), json!(reason));
                Ok(("withdraw_offer", body))
            }
            None => Err(Problem::invalid(
                "reason",
                "is required: say why the offer is withdrawn",
            )),
        },
        _ => {
            return error_page(
                &Problem::not_found(format!("no action {action}")),
                Some(viewer.chrome("/offers")),
            );
        }
    };
    let sent = match command {
        Ok((operation, body)) => {
            viewer
                .submit(
                    &app,
                    operation,
                    vec![("id".to_owned(), id.clone())],
                    body,
                    &form,
                )
                .await
        }
        Err(p) => Err(p),
    };
    match sent {
        Ok(reply) => see_other(&format!("/offers/{id}{}", seen(&reply))),
        Err(p) if p.status.is_client_error() => {
            offer_response(
                &app,
                &viewer,
                &id,
                &Asked::default(),
                Some((action, p, form)),
            )
            .await
        }
        Err(p) => error_page(&p, Some(viewer.chrome("/offers"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_in_the_currency_units() {
        assert_eq!(minor_units("1,250.50", "USD").unwrap(), 125_050);
        assert_eq!(minor_units("300000", "USD").unwrap(), 30_000_000);
        assert_eq!(minor_units("-5", "USD").unwrap(), -500);
        assert_eq!(minor_units("1000", "JPY").unwrap(), 1000);
        assert_eq!(minor_units("0.5", "USD").unwrap(), 50);
        assert!(minor_units("1.005", "USD").is_err());
        assert!(minor_units("abc", "USD").is_err());
        assert!(minor_units("", "USD").is_err());
        assert_eq!(decimal(125_050, "USD"), "1250.50");
        assert_eq!(decimal(1000, "JPY"), "1000");
        assert_eq!(
            minor_units(&decimal(30_000_000, "USD"), "USD").unwrap(),
            30_000_000
        );
    }

    #[test]
    fn problems_land_on_their_form_field() {
        assert_eq!(form_field("budget.currency"), "currency");
        assert_eq!(form_field("budget.amount_minor"), "budget");
        assert_eq!(form_field("capacity.measure"), "measure");
        assert_eq!(form_field("capacity.quantity"), "capacity");
        assert_eq!(form_field("countries[1]"), "countries");
        assert_eq!(form_field("title"), "title");
        assert_eq!(codes("ke, ug;tz", true), ["KE", "UG", "TZ"]);
    }
}
