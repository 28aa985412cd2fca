//! `parse`: an IATI 2.x activity file into [`ImportedActivity`]s, refusing with the place what is
//! not XML, not an activity file, not version 2.x, breaks the structure of the elements tatrack
//! reads, or names a code tatrack's code lists do not hold.
//!
//! The structure checks follow the 2.03 schema for the elements tatrack records (identifier,
//! organisations, status, dates, countries, sectors, budgets, transactions, results, document
//! links); elements it does not record (locations, contact details, CRS data...) are only
//! checked to be IATI elements. Codes are checked where tatrack holds the list and records or
//! uses the element; a transaction's own sectors, places and aid types are not recorded, so
//! only their structure is checked. `xmllint --schema` remains the full check.

use jiff::civil::Date;
use tatrack_domain::money::minor_unit_digits;
use tatrack_domain::{DomainError, Money, codes};

use crate::error::{IatiError, Place};
use crate::xml::{self, Node, is_namespaced};

/// An organisation as a file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRef {
    /// `@ref`, the IATI organisation identifier.
    pub reference: Option<String>,
    /// `@type`, an IATI OrganisationType code.
    pub iati_type: Option<String>,
    /// The name (first narrative in the activity's language).
    pub name: Option<String>,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipatingOrg {
    pub org: OrgRef,
    /// IATI OrganisationRole code.
    pub role: String,
}

/// A coded element with an optional vocabulary and share: recipient country or region, sector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeShare {
    pub code: String,
    pub vocabulary: Option<String>,
    /// `@percentage` as written (a decimal).
    pub percentage: Option<String>,
    pub name: Option<String>,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// BudgetType: 1 original, 2 revised.
    pub kind: Option<String>,
    pub period_start: Date,
    pub period_end: Date,
    pub value: Money,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedTransaction {
    pub reference: Option<String>,
    /// IATI TransactionType code.
    pub type_code: String,
    pub date: Date,
    /// Signed: IATI allows negative values (corrections); tatrack records positive ones.
    pub value: Money,
    pub description: Option<String>,
    pub provider: Option<OrgRef>,
    pub receiver: Option<OrgRef>,
    pub at: Place,
}

/// A value as written in a file (`baseline/@value`, `target/@value`...): IATI 2.03 types them as
/// strings, so they are read as numbers only when recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub value: String,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorPeriod {
    pub start: Date,
    pub end: Date,
    pub target: Option<Reading>,
    pub actual: Option<Reading>,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedIndicator {
    pub title: String,
    /// IATI IndicatorMeasure code.
    pub measure: String,
    pub baseline: Option<Reading>,
    pub periods: Vec<IndicatorPeriod>,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedResult {
    pub title: String,
    pub indicators: Vec<ImportedIndicator>,
    pub at: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLink {
    pub url: String,
    pub title: String,
    /// The first DocumentCategory code.
    pub category: String,
    pub at: Place,
}

/// The activity-date elements by IATI ActivityDateType.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityDates {
    pub planned_start: Option<Date>,
    pub actual_start: Option<Date>,
    pub planned_end: Option<Date>,
    pub actual_end: Option<Date>,
}

/// One `iati-activity`, as far as tatrack records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedActivity {
    pub iati_identifier: String,
    pub default_currency: Option<String>,
    pub reporting_org: OrgRef,
    pub title: String,
    /// The general description (type 1), else the first.
    pub description: String,
    pub participating: Vec<ParticipatingOrg>,
    /// IATI ActivityStatus code.
    pub status: Option<String>,
    pub dates: ActivityDates,
    pub recipient_countries: Vec<CodeShare>,
    pub recipient_regions: Vec<CodeShare>,
    pub sectors: Vec<CodeShare>,
    pub budgets: Vec<Budget>,
    pub transactions: Vec<ImportedTransaction>,
    pub results: Vec<ImportedResult>,
    pub documents: Vec<DocumentLink>,
    pub at: Place,
}

/// Reads an IATI 2.x activity file. Refused, with the place: a file that is not well-formed XML,
/// whose root is not `iati-activities`, whose version is not 2.x, whose elements break the
/// structure tatrack reads, or that names a code tatrack does not know (country, region,
/// currency, activity status, date type, transaction type, organisation role or type, DAC
/// sector, aid type, indicator measure). Never panics on any input.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportedActivity>, IatiError> {
    let root = xml::parse(bytes)?;
    check_root(&root)?;
    check_version(&root)?;
    activities(&root, true)
}

fn check_root(root: &Node) -> Result<(), IatiError> {
    if root.name != "iati-activities" {
        return Err(IatiError::NotIati {
            line: root.line,
            message: format!("the root element is <{}>, not <iati-activities>", root.name),
        });
    }
    Ok(())
}

/// IATI 2.01, 2.02, 2.03: the same shape. 1.0x differs (codes, names) and is refused.
fn check_version(root: &Node) -> Result<(), IatiError> {
    let Some(version) = root.attr("version") else {
        return Err(IatiError::NotIati {
            line: root.line,
            message: "<iati-activities> has no version attribute".to_owned(),
        });
    };
    let ok = version
        .trim()
        .strip_prefix("2.")
        .is_some_and(|minor| !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        return Err(IatiError::Version {
            line: root.line,
            version: version.to_owned(),
        });
    }
    Ok(())
}

/// The activities under a checked root. With `codes` false only the structure is checked: the
/// schema's own test files use placeholders such as `code="xx"`.
pub(crate) fn activities(root: &Node, codes: bool) -> Result<Vec<ImportedActivity>, IatiError> {
    let top = Ctx {
        activity: None,
        codes,
    };
    top.shape(
        root,
        &["version", "generated-datetime", "linked-data-default"],
        &["iati-activity"],
    )?;
    if root.attr("version").is_none() {
        return Err(top.missing(root, "@version"));
    }
    if let Some(dt) = root.attr("generated-datetime") {
        top.datetime(root, "generated-datetime", dt)?;
    }
    let mut out = Vec::new();
    for node in root.children_named("iati-activity") {
        out.push(activity(node, codes)?);
    }
    if out.is_empty() {
        return Err(IatiError::NotIati {
            line: root.line,
            message: "<iati-activities> holds no <iati-activity>".to_owned(),
        });
    }
    Ok(out)
}

/// Every element the 2.03 schema allows in an activity, in its order.
const ACTIVITY_CHILDREN: &[&str] = &[
    "iati-identifier",
    "reporting-org",
    "title",
    "description",
    "participating-org",
    "other-identifier",
    "activity-status",
    "activity-date",
    "contact-info",
    "activity-scope",
    "recipient-country",
    "recipient-region",
    "location",
    "sector",
    "tag",
    "country-budget-items",
    "humanitarian-scope",
    "policy-marker",
    "collaboration-type",
    "default-flow-type",
    "default-finance-type",
    "default-aid-type",
    "default-tied-status",
    "budget",
    "planned-disbursement",
    "capital-spend",
    "transaction",
    "document-link",
    "related-activity",
    "legacy-data",
    "conditions",
    "result",
    "crs-add",
    "fss",
];

fn activity(node: &Node, codes: bool) -> Result<ImportedActivity, IatiError> {
    let identifier_node = node.children_named("iati-identifier").next();
    let identifier = identifier_node.map(|n| n.text.trim().to_owned());
    let c = Ctx {
        activity: identifier.as_deref(),
        codes,
    };
    c.shape(
        node,
        &[
            "default-currency",
            "last-updated-datetime",
            "humanitarian",
            "linked-data-uri",
            "hierarchy",
            "budget-not-provided",
        ],
        ACTIVITY_CHILDREN,
    )?;
    if let Some(dt) = node.attr("last-updated-datetime") {
        c.datetime(node, "last-updated-datetime", dt)?;
    }
    if let Some(h) = node.attr("hierarchy") {
        if h.trim().parse::<u32>().is_err() {
            return Err(c.invalid(node, "@hierarchy", format!("{h:?} is not an integer")));
        }
    }
    if let Some(h) = node.attr("humanitarian") {
        c.boolean(node, "humanitarian", h)?;
    }
    let id_node = c.one(node, "iati-identifier")?;
    c.shape(id_node, &[], &[])?;
    let iati_identifier = id_node.text.trim().to_owned();

    let default_currency = node.attr("default-currency").map(str::to_owned);
    if let Some(cur) = &default_currency {
        c.code(node, "@default-currency", cur, codes::check_currency)?;
    }
    let reporting = c.one(node, "reporting-org")?;
    c.shape(
        reporting,
        &["ref", "type", "secondary-reporter"],
        &["narrative"],
    )?;
    let reporting_org = c.org(reporting, true)?;
    if reporting_org.reference.is_none() {
        return Err(c.missing(reporting, "@ref"));
    }
    if let Some(s) = reporting.attr("secondary-reporter") {
        c.boolean(reporting, "secondary-reporter", s)?;
    }
    let title = c.title(node)?;

    // The general description (type 1, the default) is the project's; else the first.
    let (mut general, mut first) = (None, None);
    for d in node.children_named("description") {
        c.shape(d, &["type"], &["narrative"])?;
        let text = c.narratives(d, true)?.unwrap_or_default();
        let kind = d.attr("type");
        if let Some(t) = kind {
            if codes && !matches!(t, "1" | "2" | "3" | "4") {
                return Err(c.invalid(d, "@type", format!("unknown description type code {t:?}")));
            }
        }
        if general.is_none() && kind.is_none_or(|t| t == "1") {
            general = Some(text.clone());
        }
        first.get_or_insert(text);
    }
    let description = general.or(first);

    let mut participating = Vec::new();
    for p in node.children_named("participating-org") {
        c.shape(
            p,
            &["ref", "type", "role", "activity-id", "crs-channel-code"],
            &["narrative"],
        )?;
        let role = c.attr(p, "role")?;
        c.code(p, "@role", role, codes::check_organisation_role)?;
        participating.push(ParticipatingOrg {
            org: c.org(p, false)?,
            role: role.to_owned(),
        });
    }

    let status = match c.opt(node, "activity-status")? {
        Some(s) => {
            c.shape(s, &["code"], &[])?;
            let code = c.attr(s, "code")?;
            c.code(s, "@code", code, codes::check_activity_status)?;
            Some(code.to_owned())
        }
        None => None,
    };

    let mut dates = ActivityDates::default();
    for d in node.children_named("activity-date") {
        c.shape(d, &["iso-date", "type"], &["narrative"])?;
        c.narratives(d, false)?;
        let date = c.date_attr(d, "iso-date")?;
        let kind = c.attr(d, "type")?;
        let slot = match kind {
            "1" => &mut dates.planned_start,
            "2" => &mut dates.actual_start,
            "3" => &mut dates.planned_end,
            "4" => &mut dates.actual_end,
            other if codes => {
                return Err(c.invalid(
                    d,
                    "@type",
                    format!(
                        "unknown activity date type code {other:?} (1 planned start, 2 actual start, 3 planned end, 4 actual end)"
                    ),
                ));
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(date);
        }
    }

    let mut recipient_countries = Vec::new();
    for r in node.children_named("recipient-country") {
        c.shape(r, &["code", "percentage"], &["narrative"])?;
        let share = c.share(r, None)?;
        c.code(r, "@code", &share.code, codes::check_country)?;
        recipient_countries.push(share);
    }
    let mut recipient_regions = Vec::new();
    for r in node.children_named("recipient-region") {
        c.shape(
            r,
            &["code", "vocabulary", "vocabulary-uri", "percentage"],
            &["narrative"],
        )?;
        let share = c.share(r, Some("vocabulary"))?;
        if share.vocabulary.as_deref().is_none_or(|v| v == "1") {
            c.code(r, "@code", &share.code, codes::check_region)?;
        }
        recipient_regions.push(share);
    }
    let mut sectors = Vec::new();
    for s in node.children_named("sector") {
        c.shape(
            s,
            &["code", "vocabulary", "vocabulary-uri", "percentage"],
            &["narrative"],
        )?;
        let share = c.share(s, Some("vocabulary"))?;
        c.sector_code(s, &share)?;
        sectors.push(share);
    }
    for a in node.children_named("default-aid-type") {
        c.shape(a, &["code", "vocabulary"], &[])?;
        c.aid_type(a)?;
    }

    let mut budgets = Vec::new();
    for b in node.children_named("budget") {
        budgets.push(c.budget(b, default_currency.as_deref())?);
    }
    let mut transactions = Vec::new();
    for t in node.children_named("transaction") {
        transactions.push(c.transaction(t, default_currency.as_deref())?);
    }
    let mut documents = Vec::new();
    for d in node.children_named("document-link") {
        documents.push(c.document_link(d)?);
    }
    let mut results = Vec::new();
    for r in node.children_named("result") {
        results.push(c.result(r)?);
    }

    Ok(ImportedActivity {
        iati_identifier,
        default_currency,
        reporting_org,
        title,
        description: description.unwrap_or_default(),
        participating,
        status,
        dates,
        recipient_countries,
        recipient_regions,
        sectors,
        budgets,
        transactions,
        results,
        documents,
        at: node.place(identifier.as_deref()),
    })
}

/// What every check needs: the activity (for the error's place) and whether codes are checked.
struct Ctx<'a> {
    activity: Option<&'a str>,
    codes: bool,
}

impl Ctx<'_> {
    fn invalid(&self, node: &Node, field: &str, reason: impl Into<String>) -> IatiError {
        let mut place = node.place(self.activity);
        if let Some(attr) = field.strip_prefix('@') {
            place.path = format!("{}/@{attr}", place.path);
        }
        IatiError::Invalid {
            place,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn missing(&self, node: &Node, field: &str) -> IatiError {
        let what = if field.starts_with('@') {
            "attribute"
        } else {
            "element"
        };
        self.invalid(node, field, format!("the required {what} is missing"))
    }

    /// Attributes and child elements outside the lists (and not in a namespace) are refused, and
    /// so is text: only `iati-identifier`, `narrative` and `value` hold text.
    fn shape(&self, node: &Node, attrs: &[&str], children: &[&str]) -> Result<(), IatiError> {
        for (name, _) in &node.attrs {
            if !is_namespaced(name) && !attrs.contains(&name.as_str()) {
                return Err(self.invalid(
                    node,
                    &format!("@{name}"),
                    format!("<{}> has no attribute {name:?} in IATI 2.03", node.name),
                ));
            }
        }
        for child in &node.children {
            if !is_namespaced(&child.name) && !children.contains(&child.name.as_str()) {
                return Err(self.invalid(
                    child,
                    &child.name,
                    format!(
                        "<{}> is not an IATI 2.03 element inside <{}> (extensions need a namespace)",
                        child.name, node.name
                    ),
                ));
            }
        }
        let text_ok = matches!(
            node.name.as_str(),
            "iati-identifier" | "narrative" | "value"
        );
        if !text_ok && !node.text.trim().is_empty() {
            return Err(self.invalid(
                node,
                &node.name,
                format!(
                    "<{}> holds text {:?} outside its elements",
                    node.name,
                    node.text.trim()
                ),
            ));
        }
        Ok(())
    }

    fn one<'n>(&self, parent: &'n Node, name: &str) -> Result<&'n Node, IatiError> {
        let mut it = parent.children_named(name);
        let first = it.next().ok_or_else(|| self.missing(parent, name))?;
        if let Some(second) = it.next() {
            return Err(self.invalid(
                second,
                name,
                format!("<{}> allows one <{name}>", parent.name),
            ));
        }
        Ok(first)
    }

    fn opt<'n>(&self, parent: &'n Node, name: &str) -> Result<Option<&'n Node>, IatiError> {
        let mut it = parent.children_named(name);
        let first = it.next();
        if let Some(second) = it.next() {
            return Err(self.invalid(
                second,
                name,
                format!("<{}> allows at most one <{name}>", parent.name),
            ));
        }
        Ok(first)
    }

    fn attr<'n>(&self, node: &'n Node, name: &str) -> Result<&'n str, IatiError> {
        node.attr(name)
            .ok_or_else(|| self.missing(node, &format!("@{name}")))
    }

    /// The `title` a node must have: its narratives.
    fn title(&self, node: &Node) -> Result<String, IatiError> {
        let title = self.one(node, "title")?;
        self.shape(title, &[], &["narrative"])?;
        Ok(self.narratives(title, true)?.unwrap_or_default())
    }

    /// The narratives of the optional child `name` (a description, a comment).
    fn optional_narratives(&self, node: &Node, name: &str) -> Result<Option<String>, IatiError> {
        match self.opt(node, name)? {
            Some(child) => {
                self.shape(child, &[], &["narrative"])?;
                self.narratives(child, true)
            }
            None => Ok(None),
        }
    }

    /// What a result and an indicator both describe themselves with: a title, an optional
    /// description, document links and references (`uri`: the attribute a reference's URI is in).
    fn described(&self, node: &Node, uri: &str) -> Result<String, IatiError> {
        let title = self.title(node)?;
        self.optional_narratives(node, "description")?;
        for d in node.children_named("document-link") {
            self.document_link(d)?;
        }
        for r in node.children_named("reference") {
            self.shape(r, &["vocabulary", "code", uri], &[])?;
            self.attr(r, "vocabulary")?;
            self.attr(r, "code")?;
        }
        Ok(title)
    }

    /// The name among `narrative` children: the first in the activity's own language (no
    /// `xml:lang`), else the first English one, else the first. `required`: at least one.
    fn narratives(&self, node: &Node, required: bool) -> Result<Option<String>, IatiError> {
        let all: Vec<&Node> = node.children_named("narrative").collect();
        for n in &all {
            self.shape(n, &[], &[])?;
        }
        if required && all.is_empty() {
            return Err(self.missing(node, "narrative"));
        }
        let pick = all
            .iter()
            .find(|n| n.attr("xml:lang").is_none())
            .or_else(|| all.iter().find(|n| n.attr("xml:lang") == Some("en")))
            .or_else(|| all.first());
        Ok(pick.map(|n| n.text.trim().to_owned()))
    }

    fn org(&self, node: &Node, name_required: bool) -> Result<OrgRef, IatiError> {
        let iati_type = node.attr("type").map(str::to_owned);
        if let Some(t) = &iati_type {
            self.code(node, "@type", t, codes::check_organisation_type)?;
        }
        let reference = node
            .attr("ref")
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        for id_attr in [
            "activity-id",
            "provider-activity-id",
            "receiver-activity-id",
        ] {
            if node.attr(id_attr).is_some_and(|v| v.trim().is_empty()) {
                return Err(self.invalid(
                    node,
                    &format!("@{id_attr}"),
                    "an activity identifier may not be empty",
                ));
            }
        }
        Ok(OrgRef {
            reference,
            iati_type,
            name: self
                .narratives(node, name_required)?
                .filter(|n| !n.is_empty()),
            at: node.place(self.activity),
        })
    }

    /// Checks a code against a domain list when codes are checked; the error names the place.
    fn code(
        &self,
        node: &Node,
        field: &str,
        code: &str,
        check: fn(&str, &str) -> Result<(), DomainError>,
    ) -> Result<(), IatiError> {
        if !self.codes {
            return Ok(());
        }
        check(field, code).map_err(|e| match e {
            DomainError::Invalid { reason, .. } => self.invalid(node, field, reason),
            other => self.invalid(node, field, other.to_string()),
        })
    }

    fn share(&self, node: &Node, vocabulary: Option<&str>) -> Result<CodeShare, IatiError> {
        let code = self.attr(node, "code")?.trim().to_owned();
        let percentage = node.attr("percentage").map(str::to_owned);
        if let Some(p) = &percentage {
            if !is_decimal(p) {
                return Err(self.invalid(node, "@percentage", format!("{p:?} is not a number")));
            }
        }
        Ok(CodeShare {
            code,
            vocabulary: vocabulary.and_then(|v| node.attr(v)).map(str::to_owned),
            percentage,
            name: self.narratives(node, false)?,
            at: node.place(self.activity),
        })
    }

    /// Vocabulary 1 (the default) is the DAC 5-digit list tatrack holds; other vocabularies
    /// (DAC 3-digit, a publisher's own) are kept as written.
    fn sector_code(&self, node: &Node, share: &CodeShare) -> Result<(), IatiError> {
        if share.vocabulary.as_deref().is_none_or(|v| v == "1") {
            self.code(node, "@code", &share.code, codes::check_sector)?;
        }
        Ok(())
    }

    fn aid_type(&self, node: &Node) -> Result<(), IatiError> {
        let code = self.attr(node, "code")?;
        if node.attr("vocabulary").is_none_or(|v| v == "1") {
            self.code(node, "@code", code, codes::check_aid_type)?;
        }
        Ok(())
    }

    fn boolean(&self, node: &Node, attr: &str, value: &str) -> Result<(), IatiError> {
        if matches!(value.trim(), "0" | "1" | "true" | "false") {
            Ok(())
        } else {
            Err(self.invalid(
                node,
                &format!("@{attr}"),
                format!("{value:?} is not a boolean (0, 1, true, false)"),
            ))
        }
    }

    fn datetime(&self, node: &Node, attr: &str, value: &str) -> Result<(), IatiError> {
        let bad = || {
            self.invalid(
                node,
                &format!("@{attr}"),
                format!("{value:?} is not a date and time like 2014-09-10T07:15:37Z"),
            )
        };
        let (date, time) = value.trim().split_once('T').ok_or_else(bad)?;
        date.parse::<Date>().map_err(|_| bad())?;
        let hms = &time[..time.len().min(8)];
        hms.parse::<jiff::civil::Time>().map_err(|_| bad())?;
        Ok(())
    }

    fn date_attr(&self, node: &Node, attr: &str) -> Result<Date, IatiError> {
        let value = self.attr(node, attr)?;
        parse_date(value).ok_or_else(|| {
            self.invalid(
                node,
                &format!("@{attr}"),
                format!("{value:?} is not a date like 2014-09-10"),
            )
        })
    }

    /// An element that only carries a date attribute (`period-start`, `transaction-date`).
    fn date_element(&self, node: &Node, attr: &str) -> Result<Date, IatiError> {
        self.shape(node, &[attr], &["narrative"])?;
        self.date_attr(node, attr)
    }

    /// `<value currency=".." value-date="..">123.45</value>` in minor units. Without checking
    /// codes an unknown currency or an amount finer than the minor unit reads as 0.
    fn money(&self, node: &Node, default_currency: Option<&str>) -> Result<Money, IatiError> {
        self.shape(node, &["currency", "value-date"], &[])?;
        self.date_attr(node, "value-date")?;
        let text = node.text.trim();
        if !is_decimal(text) {
            return Err(self.invalid(node, "value", format!("{text:?} is not a number")));
        }
        let currency = node.attr("currency").or(default_currency);
        if !self.codes {
            let currency = currency.unwrap_or_default().to_owned();
            let amount_minor = to_minor(text, minor_unit_digits(&currency)).unwrap_or(0);
            return Ok(Money {
                amount_minor,
                currency,
            });
        }
        let Some(currency) = currency else {
            return Err(self.invalid(
                node,
                "@currency",
                "no currency, and the activity has no default-currency",
            ));
        };
        self.code(node, "@currency", currency, codes::check_currency)?;
        let digits = minor_unit_digits(currency);
        let amount_minor = to_minor(text, digits).ok_or_else(|| {
            self.invalid(
                node,
                "value",
                format!(
                    "{text} {currency} is finer than the currency's minor unit ({digits} decimals) or too large"
                ),
            )
        })?;
        Ok(Money {
            amount_minor,
            currency: currency.to_owned(),
        })
    }

    fn budget(&self, node: &Node, default_currency: Option<&str>) -> Result<Budget, IatiError> {
        self.shape(
            node,
            &["type", "status"],
            &["period-start", "period-end", "value"],
        )?;
        let kind = node.attr("type").map(str::to_owned);
        if self.codes {
            for attr in ["type", "status"] {
                if let Some(v) = node.attr(attr) {
                    if !matches!(v, "1" | "2") {
                        return Err(self.invalid(
                            node,
                            &format!("@{attr}"),
                            format!("unknown budget {attr} code {v:?}"),
                        ));
                    }
                }
            }
        }
        let period_start = self.date_element(self.one(node, "period-start")?, "iso-date")?;
        let period_end = self.date_element(self.one(node, "period-end")?, "iso-date")?;
        let value = self.money(self.one(node, "value")?, default_currency)?;
        Ok(Budget {
            kind,
            period_start,
            period_end,
            value,
            at: node.place(self.activity),
        })
    }

    fn transaction(
        &self,
        node: &Node,
        default_currency: Option<&str>,
    ) -> Result<ImportedTransaction, IatiError> {
        self.shape(
            node,
            &["ref", "humanitarian"],
            &[
                "transaction-type",
                "transaction-date",
                "value",
                "description",
                "provider-org",
                "receiver-org",
                "disbursement-channel",
                "sector",
                "recipient-country",
                "recipient-region",
                "flow-type",
                "finance-type",
                "aid-type",
                "tied-status",
            ],
        )?;
        if let Some(h) = node.attr("humanitarian") {
            self.boolean(node, "humanitarian", h)?;
        }
        let type_node = self.one(node, "transaction-type")?;
        self.shape(type_node, &["code"], &[])?;
        let type_code = self.attr(type_node, "code")?.to_owned();
        self.code(
            type_node,
            "@code",
            &type_code,
            codes::check_transaction_type,
        )?;
        let date = self.date_element(self.one(node, "transaction-date")?, "iso-date")?;
        let value = self.money(self.one(node, "value")?, default_currency)?;
        let description = self.optional_narratives(node, "description")?;
        let mut parties = [None, None];
        for (slot, (name, id_attr)) in parties.iter_mut().zip([
            ("provider-org", "provider-activity-id"),
            ("receiver-org", "receiver-activity-id"),
        ]) {
            if let Some(o) = self.opt(node, name)? {
                self.shape(o, &["ref", "type", id_attr], &["narrative"])?;
                *slot = Some(self.org(o, false)?);
            }
        }
        let [provider, receiver] = parties;
        for name in [
            "disbursement-channel",
            "flow-type",
            "finance-type",
            "tied-status",
        ] {
            if let Some(e) = self.opt(node, name)? {
                self.shape(e, &["code"], &[])?;
                self.attr(e, "code")?;
            }
        }
        // A transaction's own aid types, sectors and places are a breakdown tatrack does not
        // record: their structure is checked, their codes are not (the standard's own example
        // names a region code since withdrawn from the list).
        for a in node.children_named("aid-type") {
            self.shape(a, &["code", "vocabulary"], &[])?;
            self.attr(a, "code")?;
        }
        for s in node.children_named("sector") {
            self.shape(s, &["code", "vocabulary", "vocabulary-uri"], &["narrative"])?;
            self.share(s, Some("vocabulary"))?;
        }
        if let Some(r) = self.opt(node, "recipient-country")? {
            self.shape(r, &["code"], &["narrative"])?;
            self.attr(r, "code")?;
        }
        if let Some(r) = self.opt(node, "recipient-region")? {
            self.shape(r, &["code", "vocabulary", "vocabulary-uri"], &["narrative"])?;
            self.attr(r, "code")?;
        }
        Ok(ImportedTransaction {
            reference: node.attr("ref").map(str::to_owned),
            type_code,
            date,
            value,
            description,
            provider,
            receiver,
            at: node.place(self.activity),
        })
    }

    fn document_link(&self, node: &Node) -> Result<DocumentLink, IatiError> {
        self.shape(
            node,
            &["url", "format"],
            &[
                "title",
                "description",
                "category",
                "language",
                "document-date",
            ],
        )?;
        let url = self.attr(node, "url")?.trim().to_owned();
        self.attr(node, "format")?;
        let title = self.title(node)?;
        self.optional_narratives(node, "description")?;
        let mut category = None;
        for cat in node.children_named("category") {
            self.shape(cat, &["code"], &[])?;
            let code = self.attr(cat, "code")?;
            category.get_or_insert_with(|| code.to_owned());
        }
        let Some(category) = category else {
            return Err(self.missing(node, "category"));
        };
        for lang in node.children_named("language") {
            self.shape(lang, &["code"], &[])?;
            self.attr(lang, "code")?;
        }
        if let Some(d) = self.opt(node, "document-date")? {
            self.date_element(d, "iso-date")?;
        }
        Ok(DocumentLink {
            url,
            title,
            category,
            at: node.place(self.activity),
        })
    }

    /// A `comment` (at most one, with a narrative), `location`s and `dimension`s and
    /// `document-link`s as the schema has them under baselines, targets and actuals.
    fn annotations(&self, node: &Node) -> Result<(), IatiError> {
        self.optional_narratives(node, "comment")?;
        for d in node.children_named("document-link") {
            self.document_link(d)?;
        }
        Ok(())
    }

    fn result(&self, node: &Node) -> Result<ImportedResult, IatiError> {
        self.shape(
            node,
            &["type", "aggregation-status"],
            &[
                "title",
                "description",
                "document-link",
                "reference",
                "indicator",
            ],
        )?;
        let kind = self.attr(node, "type")?;
        if self.codes && !matches!(kind, "1" | "2" | "3" | "9") {
            return Err(self.invalid(node, "@type", format!("unknown result type code {kind:?}")));
        }
        if let Some(a) = node.attr("aggregation-status") {
            self.boolean(node, "aggregation-status", a)?;
        }
        let title = self.described(node, "vocabulary-uri")?;
        let mut indicators = Vec::new();
        for i in node.children_named("indicator") {
            indicators.push(self.indicator(i)?);
        }
        if indicators.is_empty() {
            return Err(self.missing(node, "indicator"));
        }
        Ok(ImportedResult {
            title,
            indicators,
            at: node.place(self.activity),
        })
    }

    fn indicator(&self, node: &Node) -> Result<ImportedIndicator, IatiError> {
        self.shape(
            node,
            &["measure", "ascending", "aggregation-status"],
            &[
                "title",
                "description",
                "document-link",
                "reference",
                "baseline",
                "period",
            ],
        )?;
        let measure = self.attr(node, "measure")?.to_owned();
        if self.codes && !matches!(measure.as_str(), "1" | "2" | "3" | "4" | "5") {
            return Err(self.invalid(
                node,
                "@measure",
                format!("unknown indicator measure code {measure:?} (1 unit .. 5 qualitative)"),
            ));
        }
        for attr in ["ascending", "aggregation-status"] {
            if let Some(v) = node.attr(attr) {
                self.boolean(node, attr, v)?;
            }
        }
        let title = self.described(node, "indicator-uri")?;
        let mut baseline = None;
        for b in node.children_named("baseline") {
            self.shape(
                b,
                &["year", "iso-date", "value"],
                &["location", "dimension", "document-link", "comment"],
            )?;
            let year = self.attr(b, "year")?;
            if year.trim().parse::<u32>().map_or(true, |y| y == 0) {
                return Err(self.invalid(
                    b,
                    "@year",
                    format!("{year:?} is not a positive integer"),
                ));
            }
            if b.attr("iso-date").is_some() {
                self.date_attr(b, "iso-date")?;
            }
            self.annotations(b)?;
            if baseline.is_none() {
                baseline = b.attr("value").map(|v| Reading {
                    value: v.trim().to_owned(),
                    at: b.place(self.activity),
                });
            }
        }
        let mut periods = Vec::new();
        for p in node.children_named("period") {
            self.shape(p, &[], &["period-start", "period-end", "target", "actual"])?;
            let start = self.date_element(self.one(p, "period-start")?, "iso-date")?;
            let end = self.date_element(self.one(p, "period-end")?, "iso-date")?;
            let mut readings = [None, None];
            for (slot, name) in readings.iter_mut().zip(["target", "actual"]) {
                for t in p.children_named(name) {
                    self.shape(
                        t,
                        &["value"],
                        &["location", "dimension", "comment", "document-link"],
                    )?;
                    self.annotations(t)?;
                    if slot.is_none() {
                        *slot = t.attr("value").map(|v| Reading {
                            value: v.trim().to_owned(),
                            at: t.place(self.activity),
                        });
                    }
                }
            }
            let [target, actual] = readings;
            periods.push(IndicatorPeriod {
                start,
                end,
                target,
                actual,
                at: p.place(self.activity),
            });
        }
        Ok(ImportedIndicator {
            title,
            measure,
            baseline,
            periods,
            at: node.place(self.activity),
        })
    }
}

/// `xsd:date`: `2014-09-10`, optionally with a time zone (`Z`, `+01:00`) that does not change
/// the day recorded.
pub(crate) fn parse_date(value: &str) -> Option<Date> {
    let v = value.trim();
    let day = v.get(..10)?;
    let zone = &v[10..];
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && zone.starts_with(['+', '-'])
            && zone[1..3].chars().all(|c| c.is_ascii_digit())
            && &zone[3..4] == ":"
            && zone[4..].chars().all(|c| c.is_ascii_digit()));
    if !zone_ok || day.len() != 10 {
        return None;
    }
    day.parse().ok()
}

/// `xsd:decimal`: an optional sign, digits, an optional fraction; at least one digit.
pub(crate) fn is_decimal(text: &str) -> bool {
    let t = text.trim();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    !(int.is_empty() && frac.is_empty())
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
}

/// A decimal in minor units of `digits` decimals: `"1000.5"`, 2 -> 100050. `None` when the value
/// is finer than the minor unit or does not fit.
pub(crate) fn to_minor(text: &str, digits: u32) -> Option<i64> {
    if !is_decimal(text) {
        return None;
    }
    let t = text.trim();
    let negative = t.starts_with('-');
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let frac = frac.trim_end_matches('0');
    let digits = usize::try_from(digits).ok()?;
    if frac.len() > digits {
        return None;
    }
    let mut all = String::with_capacity(int.len() + digits);
    all.push_str(int);
    all.push_str(frac);
    all.extend(std::iter::repeat_n('0', digits - frac.len()));
    let all = all.trim_start_matches('0');
    let value: i64 = if all.is_empty() { 0 } else { all.parse().ok()? };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_minor_units() {
        assert_eq!(to_minor("1000", 2), Some(100_000));
        assert_eq!(to_minor(" 1000.5 ", 2), Some(100_050));
        assert_eq!(to_minor("-3.10", 2), Some(-310));
        assert_eq!(to_minor(".5", 2), Some(50));
        assert_eq!(to_minor("12", 0), Some(12));
        assert_eq!(to_minor("1.005", 2), None, "finer than a cent");
        assert_eq!(to_minor("1.000", 2), Some(100), "zeros are not finer");
        assert_eq!(to_minor("99999999999999999999", 2), None);
        for bad in ["", ".", "1e5", "1,5", "abc", "--1"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2014-09-10"),
            Some(jiff::civil::date(2014, 9, 10))
        );
        assert_eq!(
            parse_date("2014-09-10+01:00"),
            Some(jiff::civil::date(2014, 9, 10))
        );
        assert_eq!(
            parse_date("2014-09-10Z"),
            Some(jiff::civil::date(2014, 9, 10))
        );
        for bad in [
            "2014-9-10",
            "10/09/2014",
            "2014-09-10T00:00",
            "",
            "2014-02-30",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
