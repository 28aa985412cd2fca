//! `export`: projects as an IATI 2.03 activity file, in the schema's element order, the same
//! bytes for the same input (sorted by IATI identifier, no clock in the output).
//!
//! Left out on purpose: the needs and referrals a project serves (a need's existence is the
//! State's to disclose, and its consent may not extend to the file's readers), milestones (IATI
//! has no element for them) and who recorded what (the event metadata).

use jiff::civil::Date;
use quick_xml::escape::escape;
use tatrack_domain::money::minor_unit_digits;
use tatrack_domain::organisation::OrganisationState;
use tatrack_domain::project::{ProjectResult, ProjectState};
use tatrack_domain::{Money, codes};

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

/// The `iati-activities` document for `projects` (those not yet created are skipped).
/// `organisations` give participating organisations their IATI identifier, type and name.
pub fn export(
    projects: &[ProjectState],
    organisations: &[OrganisationState],
    reporting_org: &ReportingOrg,
) -> String {
    let mut sorted: Vec<&ProjectState> = projects.iter().filter(|p| p.status.is_some()).collect();
    sorted.sort_by(|a, b| {
        (a.iati_identifier.as_str(), a.id).cmp(&(b.iati_identifier.as_str(), b.id))
    });
    let mut w = Writer {
        out: String::new(),
        organisations,
    };
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.out
        .push_str(&format!("<iati-activities version=\"{VERSION}\">\n"));
    for p in sorted {
        w.activity(p, reporting_org);
    }
    w.out.push_str("</iati-activities>\n");
    w.out
}

struct Writer<'a> {
    out: String,
    organisations: &'a [OrganisationState],
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
        let currency = p
            .budget
            .as_ref()
            .map(|b| b.currency.clone())
            .or_else(|| p.transactions.first().map(|t| t.value.currency.clone()));
        let mut attrs: Vec<(&str, &str)> = vec![("xml:lang", "en")];
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
        self.narrative(
            d + 1,
            "reporting-org",
            &[
                ("ref", &reporting.reference),
                ("type", &reporting.iati_type),
            ],
            &reporting.name,
        );
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
        self.date(d + 1, "1", p.planned_start);
        self.date(d + 1, "2", p.actual_start);
        self.date(d + 1, "3", p.planned_end);
        self.date(d + 1, "4", p.actual_end);
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
            self.open(d + 1, "budget", &[("type", "1"), ("status", "1")]);
            self.empty(d + 2, "period-start", &[("iso-date", &start.to_string())]);
            self.empty(d + 2, "period-end", &[("iso-date", &end.to_string())]);
            self.value(d + 2, budget, start);
            self.close(d + 1, "budget");
        }
        for t in &p.transactions {
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

    /// A result of type 1 (output) with its indicators; each recorded actual closes a period
    /// that starts the day after the previous one (the project's start for the first), and a
    /// last period to the planned end carries the target when no actual reached it yet.
    fn result(&mut self, depth: usize, p: &ProjectState, r: &ProjectResult) {
        self.open(depth, "result", &[("type", "1")]);
        self.narrative(depth + 1, "title", &[], &r.title);
        for ind in &r.indicators {
            let def = &ind.def;
            self.open(
                depth + 1,
                "indicator",
                &[("measure", &def.measure), ("ascending", "1")],
            );
            self.narrative(depth + 2, "title", &[], &def.title);
            let start = p.planned_start.or(p.actual_start);
            if let (Some(baseline), Some(start)) = (def.baseline, start) {
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
            let target = def.target.to_string();
            let mut from = start;
            let mut actuals = ind.actuals.clone();
            actuals.sort_by_key(|a| a.on);
            for a in &actuals {
                let period_start = from.filter(|f| *f <= a.on).unwrap_or(a.on);
                self.period(depth + 2, period_start, a.on, &target, Some(a.value));
                from = a.on.tomorrow().ok();
            }
            if let (Some(from), Some(end)) = (from, p.planned_end) {
                if from <= end {
                    self.period(depth + 2, from, end, &target, None);
                }
            }
            self.close(depth + 1, "indicator");
        }
        self.close(depth, "result");
    }

    fn period(&mut self, depth: usize, start: Date, end: Date, target: &str, actual: Option<i64>) {
        self.open(depth, "period", &[]);
        self.empty(
            depth + 1,
            "period-start",
            &[("iso-date", &start.to_string())],
        );
        self.empty(depth + 1, "period-end", &[("iso-date", &end.to_string())]);
        self.empty(depth + 1, "target", &[("value", target)]);
        if let Some(a) = actual {
            self.empty(depth + 1, "actual", &[("value", &a.to_string())]);
        }
        self.close(depth, "period");
    }
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

    #[test]
    fn formats() {
        assert_eq!(format_of("https://x.org/a.PDF?x=1"), "application/pdf");
        assert_eq!(format_of("https://x.org/report"), "text/html");
    }
}
