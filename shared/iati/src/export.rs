//! `export`: projects as an IATI 2.03 activity file that passes the IATI Standard Ruleset
//! (`data/rulesets/standard.json`), in the schema's element order, the same bytes for the same
//! input (sorted by IATI identifier; the datetimes come from the data and the caller, never a
//! clock).
//!
//! Left out on purpose: the needs and referrals a project serves (a need's existence is the
//! State's to disclose, and its consent may not extend to the file's readers), milestones (IATI
//! has no element for them) and who recorded what (the event metadata). Left out because the
//! file is "as of" a day: whatever is dated after it (see [`ExportOptions`]).

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use quick_xml::escape::escape;
use tatrack_domain::money::minor_unit_digits;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::project::{ProjectResult, ProjectState};
use tatrack_domain::{Money, codes};
use uuid::Uuid;

/// The organisation publishing the file (IATI `reporting-org`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingOrg {
    /// Its IATI organisation identifier (the registry id when it has none).
    pub reference: String,
    /// IATI OrganisationType code.
    pub iati_type: String,
    pub name: String,
}

impl ReportingOrg {
    pub fn from_organisation(org: &OrganisationState) -> ReportingOrg {
        ReportingOrg {
            reference: org
                .iati_identifier
                .clone()
                .unwrap_or_else(|| org.id.clone()),
            iati_type: org.iati_type.clone(),
            name: org.name.clone(),
        }
    }
}

/// The IATI version written.
pub const VERSION: &str = "2.03";

/// What a file is written as of, given by the caller so that the output depends on no clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// The day the file is "as of". The ruleset's rules 11.x refuse a transaction date, a
    /// transaction value date or an actual activity date after "now"; so what is dated after this
    /// day is left out, never clipped to it: a transaction (and its value date) had not happened
    /// by then, an actual start or end after it is not yet actual (the status stays as recorded),
    /// and an indicator actual measured after it was not yet measured. Planned dates and budget
    /// periods may lie ahead: they are plans.
    pub as_of: Date,
    /// `iati-activities/@generated-datetime`: when the file's content was known (the CLI passes
    /// the end of the as-of day).
    pub generated: Timestamp,
}

impl ExportOptions {
    /// A file as of `day`, generated at its end (UTC): the same data gives the same bytes all
    /// day, whenever on it the file is written.
    pub fn at_end_of(day: Date) -> Self {
        let generated = day
            .at(23, 59, 59, 0)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_or(Timestamp::MAX, |z| z.timestamp());
        Self {
            as_of: day,
            generated,
        }
    }
}

/// Why a file cannot be written: it would break an error-level rule of the IATI Standard Ruleset
/// whatever the writer did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Rule 1.1.2: activity identifiers are unique in a file. Neither project is preferred
    /// silently: both are named, for someone to correct one identifier.
    #[error(
        "projects {first} and {second} share the IATI identifier {iati_identifier:?}: an activity identifier must be unique in a file"
    )]
    DuplicateIdentifier {
        iati_identifier: String,
        first: Uuid,
        second: Uuid,
    },
    /// Rule 1.1.3: an activity identifier differs from its reporting organisation's identifier.
    #[error(
        "project {project} has the reporting organisation's identifier {iati_identifier:?} as its IATI identifier: an activity identifier must differ from it"
    )]
    IdentifierIsReportingOrg {
        iati_identifier: String,
        project: Uuid,
    },
}

/// The `iati-activities` document for `projects` (those not yet created are skipped), as of
/// `options.as_of`. `organisations` give participating organisations their IATI identifier, type
/// and name.
///
/// What the ruleset asks of the data that the writer cannot mend is refused (see
/// [`ExportError`]); a file returned passes its error-level rules.
pub fn export(
    projects: &[ProjectState],
    organisations: &[OrganisationState],
    reporting_org: &ReportingOrg,
    options: &ExportOptions,
) -> Result<String, ExportError> {
    let mut sorted: Vec<&ProjectState> = projects.iter().filter(|p| p.status.is_some()).collect();
    sorted.sort_by(|a, b| {
        (a.iati_identifier.as_str(), a.id).cmp(&(b.iati_identifier.as_str(), b.id))
    });
    for pair in sorted.windows(2) {
        if let [a, b] = pair {
            if a.iati_identifier == b.iati_identifier {
                return Err(ExportError::DuplicateIdentifier {
                    iati_identifier: a.iati_identifier.clone(),
                    first: a.id,
                    second: b.id,
                });
            }
        }
    }
    if let Some(p) = sorted
        .iter()
        .find(|p| p.iati_identifier == reporting_org.reference)
    {
        return Err(ExportError::IdentifierIsReportingOrg {
            iati_identifier: p.iati_identifier.clone(),
            project: p.id,
        });
    }
    let mut w = Writer {
        out: String::new(),
        organisations,
        as_of: options.as_of,
    };
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Whole seconds in UTC: the same instant always gives the same bytes.
    let generated = options.generated.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let root = format!(
        "<iati-activities{}>",
        attr_list(&[("version", VERSION), ("generated-datetime", &generated)])
    );
    w.line(0, &root);
    for p in sorted {
        w.activity(p, reporting_org);
    }
    w.out.push_str("</iati-activities>\n");
    Ok(w.out)
}

struct Writer<'a> {
    out: String,
    organisations: &'a [OrganisationState],
    as_of: Date,
}

/// `iati-activity/@last-updated-datetime`: the latest business date in the project's state on or
/// before `as_of` (status changes and the actual dates they set, transactions, milestones,
/// indicator actuals), else its latest planned date on or before `as_of`, else `as_of` itself
/// (the state is the project as recorded by then). Derived from the data, so the same data gives
/// the same bytes, and never after "now" (rule 11.1.1).
fn last_updated(p: &ProjectState, as_of: Date) -> Date {
    let recorded = [p.last_on, p.actual_start, p.actual_end]
        .into_iter()
        .flatten()
        .chain(p.transactions.iter().map(|t| t.date))
        .chain(
            p.milestones
                .iter()
                .flat_map(|m| std::iter::once(m.due).chain(m.done_on)),
        )
        .chain(
            p.results
                .iter()
                .flat_map(|r| &r.indicators)
                .flat_map(|i| &i.actuals)
                .map(|a| a.on),
        );
    let planned = [p.planned_start, p.planned_end].into_iter().flatten();
    let on_or_before = |d: &Date| *d <= as_of;
    recorded
        .filter(on_or_before)
        .max()
        .or_else(|| planned.filter(on_or_before).max())
        .unwrap_or(as_of)
}

/// One budget of a project's split (rule 7.5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
struct BudgetPeriod {
    start: Date,
    end: Date,
    amount_minor: i64,
}

/// Rule 7.5.3 (error): a budget period is at most a year (the IATI validator counts at most 365
/// days from its start to its end). A project's one budget over `start..=end` is therefore split
/// into consecutive periods of at most a year: the k-th starts on the k-th anniversary of `start`
/// and ends the day before the next one (anniversaries counted from `start`, so a 29 February
/// start does not drift), the last ends on `end`. The amount is split pro rata by days, in
/// integer minor units, rounding down; the last period takes the remainder, so the parts sum to
/// the budget exactly.
fn budget_periods(start: Date, end: Date, amount_minor: i64) -> Vec<BudgetPeriod> {
    let mut bounds: Vec<(Date, Date)> = Vec::new();
    let mut from = start;
    let mut years: i64 = 1;
    while from <= end {
        let to = start
            .checked_add(years.years())
            .and_then(Date::yesterday)
            .map_or(end, |d| d.min(end));
        bounds.push((from, to));
        match to.tomorrow() {
            Ok(next) if to < end => from = next,
            _ => break,
        }
        years += 1;
    }
    let days = |from: Date, to: Date| i128::from(from.duration_until(to).as_hours() / 24) + 1;
    let total_days = days(start, end).max(1);
    let total = i128::from(amount_minor);
    let mut given: i128 = 0;
    let last = bounds.len().saturating_sub(1);
    bounds
        .into_iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let part = if i == last {
                total - given
            } else {
                total * days(from, to) / total_days
            };
            given += part;
            BudgetPeriod {
                start: from,
                end: to,
                // Every part lies between 0 and the amount, so it fits.
                amount_minor: i64::try_from(part).unwrap_or(amount_minor),
            }
        })
        .collect()
}

fn attr_list(attrs: &[(&str, &str)]) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", escape(*v)))
        .collect()
}

/// `minor` units as a decimal in the currency's minor unit: 12345 USD -> "123.45".
fn decimal(money: &Money) -> String {
    let digits = minor_unit_digits(&money.currency);
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let abs = money.amount_minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = digits as usize
    )
}

impl Writer<'_> {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn empty(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        let text = format!("<{name}{}/>", attr_list(attrs));
        self.line(depth, &text);
    }

    fn open(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)]) {
        let text = format!("<{name}{}>", attr_list(attrs));
        self.line(depth, &text);
    }

    fn close(&mut self, depth: usize, name: &str) {
        let text = format!("</{name}>");
        self.line(depth, &text);
    }

    /// `<name attrs><narrative>text</narrative></name>`.
    fn narrative(&mut self, depth: usize, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(depth, name, attrs);
        let inner = format!("<narrative>{}</narrative>", escape(text));
        self.line(depth + 1, &inner);
        self.close(depth, name);
    }

    fn org(&self, id: &str) -> Option<&OrganisationState> {
        self.organisations.iter().find(|o| o.id == id)
    }

    /// A participating, provider or receiver organisation: `ref` and `type` from the registry
    /// when it knows the organisation, its name as the narrative (the text given otherwise).
    fn party(&mut self, depth: usize, name: &str, extra: &[(&str, &str)], who: &str) {
        let org = self.org(who).cloned();
        let reference = org.as_ref().and_then(|o| o.iati_identifier.clone());
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        if let Some(r) = &reference {
            attrs.push(("ref", r));
        }
        if let Some(o) = &org {
            attrs.push(("type", &o.iati_type));
        }
        attrs.extend_from_slice(extra);
        let label = org.as_ref().map_or(who, |o| o.name.as_str()).to_owned();
        self.narrative(depth, name, &attrs, &label);
    }

    fn date(&mut self, depth: usize, kind: &str, date: Option<Date>) {
        if let Some(d) = date {
            self.empty(
                depth,
                "activity-date",
                &[("iso-date", &d.to_string()), ("type", kind)],
            );
        }
    }

    fn activity(&mut self, p: &ProjectState, reporting: &ReportingOrg) {
        let d = 1;
        let as_of = self.as_of;
        // Rules 11.2.1 and 11.2.2: a transaction dated after the file's day had not happened.
        let transactions: Vec<_> = p.transactions.iter().filter(|t| t.date <= as_of).collect();
        let currency = p
            .budget
            .as_ref()
            .map(|b| b.currency.clone())
            .or_else(|| transactions.first().map(|t| t.value.currency.clone()));
        let updated = format!("{}T00:00:00Z", last_updated(p, as_of));
        let mut attrs: Vec<(&str, &str)> = vec![("last-updated-datetime", &updated)];
        attrs.push(("xml:lang", "en"));
        if let Some(c) = &currency {
            attrs.push(("default-currency", c));
        }
        attrs.push(("hierarchy", "1"));
        self.open(d, "iati-activity", &attrs);
        let id = format!(
            "<iati-identifier>{}</iati-identifier>",
            escape(&p.iati_identifier)
        );
        self.line(d + 1, &id);
        // Rule 1.1.21: an identifier starts with its reporting organisation's. One that does not
        // is another organisation's activity, which this file republishes: IATI's flag for that
        // is a secondary reporter.
        let own = p
            .iati_identifier
            .strip_prefix(reporting.reference.as_str())
            .is_some_and(|rest| rest.starts_with('-'));
        let mut reporting_attrs: Vec<(&str, &str)> = vec![
            ("ref", &reporting.reference),
            ("type", &reporting.iati_type),
        ];
        if !own {
            reporting_attrs.push(("secondary-reporter", "1"));
        }
        self.narrative(d + 1, "reporting-org", &reporting_attrs, &reporting.name);
        self.narrative(d + 1, "title", &[], &p.title);
        // IATI requires a description; the title stands in for an empty one.
        let description = if p.description.trim().is_empty() {
            &p.title
        } else {
            &p.description
        };
        self.narrative(d + 1, "description", &[("type", "1")], description);
        for part in &p.participating {
            self.party(
                d + 1,
                "participating-org",
                &[("role", &part.role)],
                &part.organisation,
            );
        }
        if let Some(status) = p.status {
            self.empty(d + 1, "activity-status", &[("code", status.as_str())]);
        }
        // Rules 11.1.4 and 11.1.5: an actual date after the file's day is not yet actual.
        let actual = |date: Option<Date>| date.filter(|d| *d <= as_of);
        self.date(d + 1, "1", p.planned_start);
        self.date(d + 1, "2", actual(p.actual_start));
        self.date(d + 1, "3", p.planned_end);
        self.date(d + 1, "4", actual(p.actual_end));
        self.empty(
            d + 1,
            "recipient-country",
            &[("code", &p.recipient_country), ("percentage", "100")],
        );
        // The theme in the reporting organisation's own vocabulary (99), the DAC code in 1.
        let theme_name = codes::theme(&p.theme).map_or(p.theme.as_str(), |t| t.name.as_str());
        self.narrative(
            d + 1,
            "sector",
            &[
                ("vocabulary", "99"),
                ("code", &p.theme),
                ("percentage", "100"),
            ],
            theme_name,
        );
        self.empty(
            d + 1,
            "sector",
            &[
                ("vocabulary", "1"),
                ("code", &p.dac_sector),
                ("percentage", "100"),
            ],
        );
        if let (Some(budget), Some(start), Some(end)) = (&p.budget, p.planned_start, p.planned_end)
        {
            for period in budget_periods(start, end, budget.amount_minor) {
                let value = Money {
                    amount_minor: period.amount_minor,
                    currency: budget.currency.clone(),
                };
                // Original (1), indicative (1): the project's own planned budget, per year.
                self.open(d + 1, "budget", &[("type", "1"), ("status", "1")]);
                let (from, to) = (period.start.to_string(), period.end.to_string());
                self.empty(d + 2, "period-start", &[("iso-date", &from)]);
                self.empty(d + 2, "period-end", &[("iso-date", &to)]);
                self.value(d + 2, &value, period.start);
                self.close(d + 1, "budget");
            }
        }
        for t in transactions {
            self.open(
                d + 1,
                "transaction",
                &[("ref", &t.transaction_id.to_string())],
            );
            self.empty(d + 2, "transaction-type", &[("code", t.kind.iati_code())]);
            self.empty(
                d + 2,
                "transaction-date",
                &[("iso-date", &t.date.to_string())],
            );
            self.value(d + 2, &t.value, t.date);
            if let Some(desc) = &t.description {
                self.narrative(d + 2, "description", &[], desc);
            }
            if let Some(who) = &t.provider {
                self.party(d + 2, "provider-org", &[], who);
            }
            if let Some(who) = &t.receiver {
                self.party(d + 2, "receiver-org", &[], who);
            }
            self.close(d + 1, "transaction");
        }
        for doc in &p.documents {
            self.open(
                d + 1,
                "document-link",
                &[("url", &doc.url), ("format", format_of(&doc.url))],
            );
            self.narrative(d + 2, "title", &[], &doc.title);
            self.empty(d + 2, "category", &[("code", &doc.category)]);
            self.close(d + 1, "document-link");
        }
        for r in &p.results {
            self.result(d + 1, p, r);
        }
        self.close(d, "iati-activity");
    }

    fn value(&mut self, depth: usize, money: &Money, on: Date) {
        let text = format!(
            "<value{}>{}</value>",
            attr_list(&[
                ("currency", &money.currency),
                ("value-date", &on.to_string())
            ]),
            decimal(money)
        );
        self.line(depth, &text);
    }

    /// A result of type 1 (output) with its indicators; each actual recorded on or before the
    /// file's day closes a period that starts the day after the previous one (the project's start
    /// for the first), and a last period to the planned end carries the target when no actual
    /// reached it yet. A qualitative indicator (measure 5) has the same periods but no baseline,
    /// target or actual values (rules 8.8.3, 8.9.3, 8.10.3): its numbers are not its measure.
    fn result(&mut self, depth: usize, p: &ProjectState, r: &ProjectResult) {
        self.open(depth, "result", &[("type", "1")]);
        self.narrative(depth + 1, "title", &[], &r.title);
        for ind in &r.indicators {
            let def = &ind.def;
            let qualitative = def.measure == QUALITATIVE;
            self.open(
                depth + 1,
                "indicator",
                &[("measure", &def.measure), ("ascending", "1")],
            );
            self.narrative(depth + 2, "title", &[], &def.title);
            let start = p.planned_start.or(p.actual_start);
            if let (Some(baseline), Some(start), false) = (def.baseline, start, qualitative) {
                self.empty(
                    depth + 2,
                    "baseline",
                    &[
                        ("year", &start.year().to_string()),
                        ("iso-date", &start.to_string()),
                        ("value", &baseline.to_string()),
                    ],
                );
            }
            let target = (!qualitative).then(|| def.target.to_string());
            let mut from = start;
            let mut actuals: Vec<_> = ind.actuals.iter().filter(|a| a.on <= self.as_of).collect();
            actuals.sort_by_key(|a| a.on);
            for a in actuals {
                let period_start = from.filter(|f| *f <= a.on).unwrap_or(a.on);
                let value = (!qualitative).then(|| a.value.to_string());
                let values = Values {
                    target: target.as_deref(),
                    actual: value.as_deref(),
                };
                self.period(depth + 2, period_start, a.on, values);
                from = a.on.tomorrow().ok();
            }
            if let (Some(from), Some(end)) = (from, p.planned_end) {
                if from <= end {
                    let values = Values {
                        target: target.as_deref(),
                        actual: None,
                    };
                    self.period(depth + 2, from, end, values);
                }
            }
            self.close(depth + 1, "indicator");
        }
        self.close(depth, "result");
    }

    fn period(&mut self, depth: usize, start: Date, end: Date, values: Values<'_>) {
        self.open(depth, "period", &[]);
        self.empty(
            depth + 1,
            "period-start",
            &[("iso-date", &start.to_string())],
        );
        self.empty(depth + 1, "period-end", &[("iso-date", &end.to_string())]);
        if let Some(t) = values.target {
            self.empty(depth + 1, "target", &[("value", t)]);
        }
        if let Some(a) = values.actual {
            self.empty(depth + 1, "actual", &[("value", a)]);
        }
        self.close(depth, "period");
    }
}

/// IATI IndicatorMeasure 5: qualitative.
const QUALITATIVE: &str = "5";

/// The values of an indicator period (none for a qualitative indicator).
#[derive(Clone, Copy)]
struct Values<'a> {
    target: Option<&'a str>,
    actual: Option<&'a str>,
}

/// The IANA media type IATI asks for, from the URL's extension (`text/html` otherwise).
fn format_of(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "odt" => "application/vnd.oasis.opendocument.text",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv" => "text/csv",
        "xml" => "application/xml",
        "json" => "application/json",
        _ => "text/html",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_the_currency_minor_unit() {
        let m = |amount_minor, currency: &str| Money {
            amount_minor,
            currency: currency.to_owned(),
        };
        assert_eq!(decimal(&m(12_345, "USD")), "123.45");
        assert_eq!(decimal(&m(5, "EUR")), "0.05");
        assert_eq!(decimal(&m(-5, "EUR")), "-0.05");
        assert_eq!(decimal(&m(1200, "JPY")), "1200");
        assert_eq!(decimal(&m(1_234_567, "KWD")), "1234.567");
    }

    fn periods(start: Date, end: Date, amount: i64) -> Vec<(String, String, i64)> {
        budget_periods(start, end, amount)
            .into_iter()
            .map(|p| (p.start.to_string(), p.end.to_string(), p.amount_minor))
            .collect()
    }

    #[test]
    fn a_budget_is_split_into_years_pro_rata_by_days() {
        use jiff::civil::date;
        // A year or less: one period, the whole amount.
        assert_eq!(
            periods(date(2027, 1, 1), date(2027, 12, 31), 100),
            [("2027-01-01".into(), "2027-12-31".into(), 100)]
        );
        assert_eq!(
            periods(date(2027, 5, 5), date(2027, 5, 5), 7),
            [("2027-05-05".into(), "2027-05-05".into(), 7)]
        );
        // From mid-year: anniversaries of the start, the last period ends on the planned end;
        // 366 + 365 + 31 days, rounded down, the remainder in the last.
        assert_eq!(
            periods(date(2027, 7, 1), date(2029, 7, 31), 1_000),
            [
                ("2027-07-01".into(), "2028-06-30".into(), 480),
                ("2028-07-01".into(), "2029-06-30".into(), 479),
                ("2029-07-01".into(), "2029-07-31".into(), 41),
            ]
        );
        // A 29 February start does not drift: every period starts on an anniversary of it.
        let leap = periods(date(2028, 2, 29), date(2031, 2, 27), 3);
        let starts: Vec<&str> = leap.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(starts, ["2028-02-29", "2029-02-28", "2030-02-28"]);
        // Every period is at most 365 days from start to end (rule 7.5.3), the parts sum up.
        for (start, end, amount) in [
            (date(2027, 1, 1), date(2036, 12, 31), 999_999_999_999),
            (date(2028, 2, 29), date(2040, 3, 1), 1),
            (
                date(2027, 3, 1),
                date(2027, 2, 28).checked_add(1.year()).unwrap(),
                12_345,
            ),
        ] {
            let split = budget_periods(start, end, amount);
            assert_eq!(split.iter().map(|p| p.amount_minor).sum::<i64>(), amount);
            assert_eq!(split.first().map(|p| p.start), Some(start));
            assert_eq!(split.last().map(|p| p.end), Some(end));
            for pair in split.windows(2) {
                assert_eq!(pair[0].end.tomorrow().ok(), Some(pair[1].start));
            }
            for p in &split {
                assert!(p.start <= p.end && p.start.duration_until(p.end).as_hours() / 24 <= 365);
                assert!(p.amount_minor >= 0);
            }
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_of("https://x.org/a.PDF?x=1"), "application/pdf");
        assert_eq!(format_of("https://x.org/report"), "text/html");
    }
}
