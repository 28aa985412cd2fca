//! Code lists compiled into the binary: countries, regions, currencies, organisation types and roles,
//! activity statuses, transaction types, aid types and DAC 5-digit sectors (IATI 2.03) and tatrack's
//! counter-terrorism themes. Unknown codes are refused with an error naming the field.
//!
//! The files are parsed once, on first use. They are fixed at compile time and covered by the tests
//! below, so a parse failure is a build defect and panics rather than being returned.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

const COUNTRY_XML: &str = include_str!("../data/Country.xml");
const REGION_XML: &str = include_str!("../data/Region.xml");
const CURRENCY_XML: &str = include_str!("../data/Currency.xml");
const THEMES_CSV: &str = include_str!("../data/themes.csv");
const ORGANISATION_TYPE_XML: &str = include_str!("../data/OrganisationType.xml");
const ORGANISATION_ROLE_XML: &str = include_str!("../data/OrganisationRole.xml");
const ACTIVITY_STATUS_XML: &str = include_str!("../data/ActivityStatus.xml");
const TRANSACTION_TYPE_XML: &str = include_str!("../data/TransactionType.xml");
const AID_TYPE_XML: &str = include_str!("../data/AidType.xml");
const SECTOR_XML: &str = include_str!("../data/Sector.xml");
const COUNTRY_REGIONS_CSV: &str = include_str!("../data/country_regions.csv");

/// One item of an IATI code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CodeEntry {
    pub code: String,
    /// The first (English) narrative of the item's name.
    pub name: String,
    /// IATI marks some codes withdrawn (e.g. `AN`, Netherlands Antilles). They stay listed so old data
    /// still has a name, but new commands may not use them.
    pub withdrawn: bool,
}

/// One counter-terrorism thematic area (`themes.csv`, our own vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Theme {
    pub code: String,
    pub name: String,
    /// Nearest OECD DAC 5-digit purpose code (IATI Sector vocabulary 1).
    pub nearest_dac5: String,
    pub sdg_target: String,
    /// Security Council resolutions the theme mostly concerns, e.g. `"1373"`.
    pub resolutions: Vec<String>,
    pub description: String,
}

static COUNTRIES: LazyLock<Vec<CodeEntry>> = LazyLock::new(|| parse_codelist(COUNTRY_XML));
static REGIONS: LazyLock<Vec<CodeEntry>> = LazyLock::new(|| parse_codelist(REGION_XML));
static CURRENCIES: LazyLock<Vec<CodeEntry>> = LazyLock::new(|| parse_codelist(CURRENCY_XML));
static THEMES: LazyLock<Vec<Theme>> = LazyLock::new(|| parse_themes(THEMES_CSV));
static ORGANISATION_TYPES: LazyLock<Vec<CodeEntry>> =
    LazyLock::new(|| parse_codelist(ORGANISATION_TYPE_XML));
static ORGANISATION_ROLES: LazyLock<Vec<CodeEntry>> =
    LazyLock::new(|| parse_codelist(ORGANISATION_ROLE_XML));
static ACTIVITY_STATUSES: LazyLock<Vec<CodeEntry>> =
    LazyLock::new(|| parse_codelist(ACTIVITY_STATUS_XML));
static TRANSACTION_TYPES: LazyLock<Vec<CodeEntry>> =
    LazyLock::new(|| parse_codelist(TRANSACTION_TYPE_XML));
static AID_TYPES: LazyLock<Vec<CodeEntry>> = LazyLock::new(|| parse_codelist(AID_TYPE_XML));
static SECTORS: LazyLock<Vec<CodeEntry>> = LazyLock::new(|| parse_codelist(SECTOR_XML));
/// Country -> the DAC regions it belongs to, most specific first (`country_regions.csv`).
static COUNTRY_REGIONS: LazyLock<Vec<(String, Vec<&'static str>)>> =
    LazyLock::new(|| parse_country_regions(COUNTRY_REGIONS_CSV));

/// A country (ISO 3166-1 alpha-2 as IATI uses it, plus IATI's `X*` codes), e.g. `"KE"`.
pub fn country(code: &str) -> Option<&'static CodeEntry> {
    COUNTRIES.iter().find(|e| e.code == code)
}

/// A region (OECD DAC region code), e.g. `"298"` (Africa, regional).
pub fn region(code: &str) -> Option<&'static CodeEntry> {
    REGIONS.iter().find(|e| e.code == code)
}

/// The OECD DAC regions `country` belongs to, most specific first: a sub-region where DAC has one
/// (e.g. `"1027"` Eastern Africa), the sub-continental region (`"289"` South of Sahara) and the
/// continental one (`"298"` Africa), e.g. `["1027", "289", "298"]` for `"KE"`. Empty for a
/// country that is not on the DAC list of ODA recipients (DAC regions group only those).
pub fn regions_of(country: &str) -> &'static [&'static str] {
    COUNTRY_REGIONS
        .iter()
        .find(|(c, _)| c == country)
        .map_or(&[], |(_, regions)| regions.as_slice())
}

/// A currency (ISO 4217), e.g. `"EUR"`.
pub fn currency(code: &str) -> Option<&'static CodeEntry> {
    CURRENCIES.iter().find(|e| e.code == code)
}

/// A theme, e.g. `"BOR"` (border management and security).
pub fn theme(code: &str) -> Option<&'static Theme> {
    THEMES.iter().find(|t| t.code == code)
}

/// All themes, in file order.
pub fn themes() -> &'static [Theme] {
    &THEMES
}

/// All countries, withdrawn ones included, in file order.
pub fn countries() -> &'static [CodeEntry] {
    &COUNTRIES
}

/// All regions, withdrawn ones included, in file order.
pub fn regions() -> &'static [CodeEntry] {
    &REGIONS
}

/// All currencies, withdrawn ones included, in file order.
pub fn currencies() -> &'static [CodeEntry] {
    &CURRENCIES
}

/// An IATI OrganisationType, e.g. `"40"` (multilateral).
pub fn organisation_type(code: &str) -> Option<&'static CodeEntry> {
    ORGANISATION_TYPES.iter().find(|e| e.code == code)
}

/// An IATI OrganisationRole: `"1"` funding, `"2"` accountable, `"3"` extending, `"4"` implementing.
pub fn organisation_role(code: &str) -> Option<&'static CodeEntry> {
    ORGANISATION_ROLES.iter().find(|e| e.code == code)
}

/// An IATI ActivityStatus, `"1"` (pipeline/identification) .. `"6"` (suspended).
pub fn activity_status(code: &str) -> Option<&'static CodeEntry> {
    ACTIVITY_STATUSES.iter().find(|e| e.code == code)
}

/// An IATI TransactionType, e.g. `"3"` (disbursement).
pub fn transaction_type(code: &str) -> Option<&'static CodeEntry> {
    TRANSACTION_TYPES.iter().find(|e| e.code == code)
}

/// An IATI AidType (vocabulary 1, OECD DAC), e.g. `"D02"` (other technical assistance).
pub fn aid_type(code: &str) -> Option<&'static CodeEntry> {
    AID_TYPES.iter().find(|e| e.code == code)
}

/// An OECD DAC 5-digit purpose code (IATI Sector vocabulary 1), e.g. `"15130"`.
pub fn sector(code: &str) -> Option<&'static CodeEntry> {
    SECTORS.iter().find(|e| e.code == code)
}

/// Whether `code` is a current (not withdrawn) DAC 5-digit purpose code.
pub fn is_dac_sector(code: &str) -> bool {
    sector(code).is_some_and(|e| !e.withdrawn)
}

/// All organisation types, in file order.
pub fn organisation_types() -> &'static [CodeEntry] {
    &ORGANISATION_TYPES
}

/// All organisation roles, in file order.
pub fn organisation_roles() -> &'static [CodeEntry] {
    &ORGANISATION_ROLES
}

/// All activity statuses, in file order.
pub fn activity_statuses() -> &'static [CodeEntry] {
    &ACTIVITY_STATUSES
}

/// All transaction types, in file order.
pub fn transaction_types() -> &'static [CodeEntry] {
    &TRANSACTION_TYPES
}

/// All aid types, in file order.
pub fn aid_types() -> &'static [CodeEntry] {
    &AID_TYPES
}

/// All DAC 5-digit sectors, withdrawn ones included, in file order.
pub fn sectors() -> &'static [CodeEntry] {
    &SECTORS
}

/// `code` must be a current IATI OrganisationType.
pub fn check_organisation_type(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, organisation_type(code), "organisation type")
}

/// `code` must be a current IATI OrganisationRole.
pub fn check_organisation_role(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, organisation_role(code), "organisation role")
}

/// `code` must be a current IATI ActivityStatus.
pub fn check_activity_status(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, activity_status(code), "activity status")
}

/// `code` must be a current IATI TransactionType.
pub fn check_transaction_type(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, transaction_type(code), "transaction type")
}

/// `code` must be a current IATI AidType.
pub fn check_aid_type(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, aid_type(code), "aid type")
}

/// `code` must be a current (not withdrawn) DAC 5-digit sector.
pub fn check_sector(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, sector(code), "sector")
}

/// `code` must be a current (not withdrawn) country.
pub fn check_country(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, country(code), "country")
}

/// `code` must be a current (not withdrawn) region.
pub fn check_region(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, region(code), "region")
}

/// `code` must be a current (not withdrawn) currency.
pub fn check_currency(field: &str, code: &str) -> Result<(), DomainError> {
    check_entry(field, code, currency(code), "currency")
}

/// `code` must be one of the themes.
pub fn check_theme(field: &str, code: &str) -> Result<(), DomainError> {
    match theme(code) {
        Some(_) => Ok(()),
        None => Err(DomainError::invalid(
            field,
            format!("unknown theme code {code:?}"),
        )),
    }
}

fn check_entry(
    field: &str,
    code: &str,
    entry: Option<&CodeEntry>,
    list: &str,
) -> Result<(), DomainError> {
    match entry {
        None => Err(DomainError::invalid(
            field,
            format!("unknown {list} code {code:?}"),
        )),
        Some(e) if e.withdrawn => Err(DomainError::invalid(
            field,
            format!("{list} code {code:?} is withdrawn"),
        )),
        Some(_) => Ok(()),
    }
}

/// A scanner for IATI code list files, enough for their regular shape: each `<codelist-item>` has one
/// `<code>` and a `<name>` with one or more `<narrative>`s, the first being English. An XML crate
/// would be a dependency for three fixed files.
fn parse_codelist(xml: &str) -> Vec<CodeEntry> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = find_tag(rest, "codelist-item") {
        let after = &rest[start..];
        let end = after
            .find("</codelist-item>")
            .expect("unterminated <codelist-item>");
        let item = &after[..end];
        let open_tag = &item[..item.find('>').expect("unterminated <codelist-item> tag")];
        let code = element_text(item, "code").expect("<codelist-item> without <code>");
        let name_block = element_text(item, "name").expect("<codelist-item> without <name>");
        let name = element_text(name_block, "narrative").expect("<name> without <narrative>");
        out.push(CodeEntry {
            code: unescape(code.trim()),
            name: unescape(name.trim()),
            withdrawn: open_tag.contains(r#"status="withdrawn""#),
        });
        rest = &after[end..];
    }
    out
}

/// Where the first `<tag>` or `<tag attr...>` starts. Tags that merely begin with the name are skipped:
/// `<codelist-item` must not match the `<codelist-items>` container.
fn find_tag(xml: &str, tag: &str) -> Option<usize> {
    let open = format!("<{tag}");
    let mut from = 0;
    loop {
        let at = from + xml[from..].find(&open)?;
        let next = xml[at + open.len()..].chars().next()?;
        if next == '>' || next.is_whitespace() {
            return Some(at);
        }
        from = at + open.len();
    }
}

/// The content of the first `<tag ...>...</tag>` in `xml` (no nesting of the same tag).
fn element_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = find_tag(xml, tag)?;
    let content_start = start + xml[start..].find('>')? + 1;
    let close = format!("</{tag}>");
    let content_end = content_start + xml[content_start..].find(&close)?;
    Some(&xml[content_start..content_end])
}

fn unescape(text: &str) -> String {
    // `&amp;` last, so `&amp;lt;` becomes `&lt;`, not `<`.
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn parse_themes(csv: &str) -> Vec<Theme> {
    let records = parse_csv(csv).expect("themes.csv is malformed");
    let (header, rows) = records.split_first().expect("themes.csv is empty");
    assert_eq!(
        header,
        &[
            "code",
            "name",
            "nearest_dac5",
            "sdg_target",
            "resolutions",
            "description"
        ],
        "themes.csv header changed"
    );
    rows.iter()
        .map(|row| {
            let [code, name, dac5, sdg, resolutions, description] = row.as_slice() else {
                panic!(
                    "themes.csv row has {} fields, expected 6: {row:?}",
                    row.len()
                );
            };
            Theme {
                code: code.clone(),
                name: name.clone(),
                nearest_dac5: dac5.clone(),
                sdg_target: sdg.clone(),
                resolutions: resolutions
                    .split(';')
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect(),
                description: description.clone(),
            }
        })
        .collect()
}

fn parse_country_regions(csv: &'static str) -> Vec<(String, Vec<&'static str>)> {
    let records = parse_csv(csv).expect("country_regions.csv is malformed");
    let (header, rows) = records.split_first().expect("country_regions.csv is empty");
    assert_eq!(
        header,
        &["country", "regions"],
        "country_regions.csv header"
    );
    rows.iter()
        .map(|row| {
            let [country, regions] = row.as_slice() else {
                panic!("country_regions.csv row has {} fields: {row:?}", row.len());
            };
            // The region codes are borrowed from the region list, so the answer can be `'static`
            // without leaking; a code not in the list is a build defect the tests catch.
            let regions = regions
                .split(';')
                .map(|code| {
                    REGIONS
                        .iter()
                        .find(|e| e.code == code)
                        .unwrap_or_else(|| panic!("{country}: unknown region {code:?}"))
                        .code
                        .as_str()
                })
                .collect();
            (country.clone(), regions)
        })
        .collect()
}

/// RFC 4180 records: fields separated by commas, optionally quoted; inside quotes a doubled quote is a
/// quote and commas and line breaks are data. Blank lines are skipped.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    // Whether the current field was quoted, so an empty quoted field still counts as a field.
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => field.push(c),
                        None => return Err("unterminated quoted field".to_owned()),
                    }
                }
                if !matches!(chars.peek(), None | Some(',' | '\r' | '\n')) {
                    return Err(format!("text after closing quote in field {field:?}"));
                }
            }
            '"' => return Err(format!("stray quote in unquoted field {field:?}")),
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if quoted || !field.is_empty() || !record.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                quoted = false;
            }
            c => field.push(c),
        }
    }
    if quoted || !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        // One `<codelist-item>` per `<code>` in the files (`grep -c '<codelist-item'` counts one more:
        // the `<codelist-items>` container).
        assert_eq!(countries().len(), 251);
        assert_eq!(regions().len(), 26);
        assert_eq!(currencies().len(), 176);
        assert_eq!(themes().len(), 20);
        assert_eq!(organisation_types().len(), 16);
        assert_eq!(organisation_roles().len(), 4);
        assert_eq!(activity_statuses().len(), 6);
        assert_eq!(transaction_types().len(), 13);
        assert_eq!(aid_types().len(), 24);
        assert_eq!(sectors().len(), 325);
        assert_eq!(sectors().iter().filter(|e| e.withdrawn).count(), 30);
    }

    #[test]
    fn known_iati_codes() {
        assert_eq!(organisation_type("40").unwrap().name, "Multilateral");
        assert_eq!(organisation_type("10").unwrap().name, "Government");
        assert_eq!(
            organisation_type("80").unwrap().name,
            "Academic, Training and Research"
        );
        let roles: Vec<_> = organisation_roles()
            .iter()
            .map(|e| (e.code.as_str(), e.name.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                ("1", "Funding"),
                ("2", "Accountable"),
                ("3", "Extending"),
                ("4", "Implementing")
            ]
        );
        assert_eq!(activity_status("2").unwrap().name, "Implementation");
        assert_eq!(activity_status("6").unwrap().name, "Suspended");
        assert_eq!(transaction_type("2").unwrap().name, "Outgoing Commitment");
        assert_eq!(transaction_type("3").unwrap().name, "Disbursement");
        assert_eq!(transaction_type("4").unwrap().name, "Expenditure");
        assert_eq!(transaction_type("12").unwrap().name, "Outgoing Pledge");
        assert_eq!(aid_types()[0].code, "A01");
        assert!(aid_type("D02").is_some());
        assert_eq!(sectors()[0].code, "11110");
        assert!(is_dac_sector("15130"));
        assert!(is_dac_sector("15210"));
        assert!(!is_dac_sector("11321"), "withdrawn in 2019");
        assert!(sector("11321").unwrap().withdrawn);
        assert!(!is_dac_sector("151"), "a category, not a 5-digit code");
        assert!(!is_dac_sector("99999"));
    }

    #[test]
    fn themes_and_modalities_map_to_listed_codes() {
        for t in themes() {
            assert!(
                is_dac_sector(&t.nearest_dac5),
                "{}: {}",
                t.code,
                t.nearest_dac5
            );
        }
        for m in crate::need::Modality::ALL {
            assert!(check_aid_type("aid_type", m.iati_aid_type()).is_ok(), "{m}");
        }
    }

    #[test]
    fn iati_validators_name_the_field() {
        assert!(check_organisation_type("iati_type", "21").is_ok());
        assert_eq!(
            check_organisation_type("iati_type", "99"),
            Err(DomainError::invalid(
                "iati_type",
                "unknown organisation type code \"99\""
            ))
        );
        assert!(check_organisation_role("participating.role", "4").is_ok());
        assert_eq!(
            check_organisation_role("participating.role", "5"),
            Err(DomainError::invalid(
                "participating.role",
                "unknown organisation role code \"5\""
            ))
        );
        assert!(check_activity_status("status", "5").is_ok());
        assert!(check_activity_status("status", "7").is_err());
        assert!(check_transaction_type("kind", "12").is_ok());
        assert_eq!(
            check_transaction_type("kind", "14"),
            Err(DomainError::invalid(
                "kind",
                "unknown transaction type code \"14\""
            ))
        );
        assert!(check_aid_type("aid_type", "E01").is_ok());
        assert!(check_aid_type("aid_type", "d01").is_err());
        assert!(check_sector("dac_sector", "15136").is_ok());
        assert_eq!(
            check_sector("dac_sector", "11321"),
            Err(DomainError::invalid(
                "dac_sector",
                "sector code \"11321\" is withdrawn"
            ))
        );
        assert_eq!(
            check_sector("dac_sector", "1513"),
            Err(DomainError::invalid(
                "dac_sector",
                "unknown sector code \"1513\""
            ))
        );
    }

    #[test]
    fn known_codes() {
        assert_eq!(
            countries()[0],
            CodeEntry {
                code: "AF".into(),
                name: "Afghanistan".into(),
                withdrawn: false
            }
        );
        assert_eq!(country("KE").unwrap().name, "Kenya");
        assert_eq!(currencies()[0].code, "AED");
        assert_eq!(country("AX").unwrap().name, "Åland Islands");
        assert_eq!(region("298").unwrap().name, "Africa, regional");
        assert_eq!(
            region("689").unwrap().name,
            "South & Central Asia, regional",
            "entities are decoded"
        );
        assert_eq!(currency("EUR").unwrap().name, "Euro");
        let bor = theme("BOR").unwrap();
        assert_eq!(bor.name, "Border management and security");
        assert_eq!(bor.nearest_dac5, "15136");
        assert_eq!(bor.resolutions, ["2178", "2396", "2482"]);
        assert_eq!(
            bor.description,
            "API/PNR, watchlists, biometrics, document security at borders"
        );
        let wea = theme("WEA").unwrap();
        assert_eq!(
            wea.name, "Weapons, explosives and unmanned aircraft",
            "quoted field with commas"
        );
        assert!(!country("FR").unwrap().withdrawn);
        assert!(country("AN").unwrap().withdrawn);
    }

    #[test]
    fn codes_are_unique() {
        for list in [
            countries(),
            regions(),
            currencies(),
            organisation_types(),
            organisation_roles(),
            activity_statuses(),
            transaction_types(),
            aid_types(),
            sectors(),
        ] {
            let mut codes: Vec<_> = list.iter().map(|e| e.code.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), list.len());
            assert!(
                list.iter()
                    .all(|e| !e.code.is_empty() && !e.name.is_empty())
            );
        }
    }

    #[test]
    fn validators_name_the_field() {
        assert!(check_country("member_state", "KE").is_ok());
        assert_eq!(
            check_country("member_state", "ke"),
            Err(DomainError::invalid(
                "member_state",
                "unknown country code \"ke\""
            ))
        );
        assert_eq!(
            check_country("member_state", "AN"),
            Err(DomainError::invalid(
                "member_state",
                "country code \"AN\" is withdrawn"
            ))
        );
        assert!(check_region("region", "298").is_ok());
        assert_eq!(
            check_region("region", "999"),
            Err(DomainError::invalid(
                "region",
                "unknown region code \"999\""
            ))
        );
        assert!(check_currency("currency", "USD").is_ok());
        assert_eq!(
            check_currency("estimated_cost", "XXY"),
            Err(DomainError::invalid(
                "estimated_cost",
                "unknown currency code \"XXY\""
            ))
        );
        assert!(check_theme("theme", "LEG").is_ok());
        assert_eq!(
            check_theme("theme", "leg"),
            Err(DomainError::invalid("theme", "unknown theme code \"leg\""))
        );
    }

    #[test]
    fn country_regions_name_known_current_codes() {
        assert_eq!(COUNTRY_REGIONS.len(), 142);
        let mut seen = std::collections::BTreeSet::new();
        for (country, regions) in COUNTRY_REGIONS.iter() {
            assert!(seen.insert(country.as_str()), "{country} listed twice");
            assert!(
                check_country("country", country).is_ok(),
                "{country} is not a current country"
            );
            assert!(!regions.is_empty(), "{country} has no region");
            for r in regions {
                assert!(check_region("region", r).is_ok(), "{country}: {r}");
            }
        }
        assert_eq!(regions_of("KE"), ["1027", "289", "298"]);
        assert_eq!(regions_of("JO"), ["589", "798"]);
        assert_eq!(regions_of("PK"), ["679", "689", "798"]);
        assert_eq!(regions_of("EG"), ["189", "298"]);
        assert_eq!(regions_of("FR"), [] as [&str; 0], "not an ODA recipient");
        assert_eq!(regions_of("ke"), [] as [&str; 0]);
    }

    #[test]
    fn csv_splitter() {
        let parsed =
            parse_csv("a,\"b,c\",\"say \"\"hi\"\"\",\r\n\n\"\",x\n\"multi\nline\"").unwrap();
        assert_eq!(
            parsed,
            vec![
                vec![
                    "a".to_owned(),
                    "b,c".to_owned(),
                    "say \"hi\"".to_owned(),
                    String::new()
                ],
                vec![String::new(), "x".to_owned()],
                vec!["multi\nline".to_owned()],
            ]
        );
        assert!(parse_csv("\"open").is_err());
        assert!(parse_csv("a\"b").is_err());
        assert!(parse_csv("\"a\"b").is_err());
    }

    #[test]
    fn xml_scanner() {
        let xml = r#"<codelist><metadata><name><narrative>List</narrative></name></metadata><codelist-items>
            <codelist-item status="withdrawn"><code> 1 </code><name>
              <narrative>A &amp;lt; B</narrative><narrative xml:lang="fr">Fr</narrative></name>
              <description><narrative>d</narrative></description></codelist-item>
            <codelist-item><code>2</code><name><narrative>Two</narrative></name></codelist-item></codelist-items></codelist>"#;
        let items = parse_codelist(xml);
        assert_eq!(
            items,
            vec![
                CodeEntry {
                    code: "1".into(),
                    name: "A &lt; B".into(),
                    withdrawn: true
                },
                CodeEntry {
                    code: "2".into(),
                    name: "Two".into(),
                    withdrawn: false
                },
            ]
        );
    }
}
