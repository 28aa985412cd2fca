//! Code lists compiled into the binary: countries, regions and currencies (IATI 2.03) and tatrack's
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

/// One item of an IATI code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub code: String,
    /// The first (English) narrative of the item's name.
    pub name: String,
    /// IATI marks some codes withdrawn (e.g. `AN`, Netherlands Antilles). They stay listed so old data
    /// still has a name, but new commands may not use them.
    pub withdrawn: bool,
}

/// One counter-terrorism thematic area (`themes.csv`, our own vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A country (ISO 3166-1 alpha-2 as IATI uses it, plus IATI's `X*` codes), e.g. `"KE"`.
pub fn country(code: &str) -> Option<&'static CodeEntry> {
    COUNTRIES.iter().find(|e| e.code == code)
}

/// A region (OECD DAC region code), e.g. `"298"` (Africa, regional).
pub fn region(code: &str) -> Option<&'static CodeEntry> {
    REGIONS.iter().find(|e| e.code == code)
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
        for list in [countries(), regions(), currencies()] {
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
