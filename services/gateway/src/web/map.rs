//! A world choropleth for the web console: countries shaded by a count, written as SVG text.
//!
//! The outlines come from `assets/world-110m.txt` (built once by `tools/worldmap`, see its
//! README), embedded in the binary. As for the charts, no `style` attribute or element (the
//! console's Content-Security-Policy blocks inline styles) and no fractions beyond one decimal,
//! so the same data gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use super::chart::escape;

/// The UN map disclaimer to print under every map.
///
/// [`choropleth`] draws it inside the SVG, under the legend, so a saved copy keeps it too.
pub const DISCLAIMER: &str = "The boundaries and names shown and the designations used on this map do not imply official endorsement or acceptance by the United Nations.";

/// Countries without a value.
const NO_VALUE: &str = "#e3e3e3";
/// Five steps of ColorBrewer's YlGnBu (its lightest step dropped, and the next one taken from
/// the five-class scheme, #a1dab4, which is greener than the six-class #c7e9b4, so the first bin
/// stands clearly apart from the grey of countries without a value); sequential and colour-blind
/// safe.
const RAMP: [&str; 5] = ["#a1dab4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"];
const TEXT: &str = "#1a1a1a";
/// Room under the map for the legend and the two lines of the disclaimer.
const FOOTER: u32 = 78;
const FONT_SIZE: u32 = 15;

/// The embedded outlines: the drawing's size and one SVG path per country, sorted by code.
struct Atlas {
    width: u32,
    height: u32,
    countries: Vec<(&'static str, &'static str)>,
}

static ATLAS: LazyLock<Atlas> =
    LazyLock::new(|| parse(include_str!("../../assets/world-110m.txt")));

/// Reads the asset's line format (see `tools/worldmap/README.md`). The file is part of the
/// binary, so a malformed one is a build mistake that the tests catch, not a runtime error.
fn parse(text: &'static str) -> Atlas {
    let mut atlas = Atlas {
        width: 0,
        height: 0,
        countries: Vec::new(),
    };
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (key, value) = line.split_once('\t').expect("a tab in every map line");
        if key == "viewBox" {
            let numbers: Vec<u32> = value
                .split(' ')
                .map(|n| n.parse().expect("whole numbers in the map's viewBox"))
                .collect();
            atlas.width = numbers[2];
            atlas.height = numbers[3];
        } else {
            atlas.countries.push((key, value));
        }
    }
    atlas.countries.sort_unstable_by_key(|&(code, _)| code);
    atlas
}

/// Countries shaded by `values` (ISO alpha-2 -> count), others light grey; each country with a
/// value carries a `<title>` "Kenya: 3 projects" using `name(code)` and `unit`.
///
/// Codes are matched case-insensitively; a code given twice counts the sum; a code the map does
/// not draw (too small at this scale, or not a country) is left out of the drawing but kept in
/// the description screen readers get. A value of 0 is drawn grey but still has its title.
pub fn choropleth(
    id: &str,
    title: &str,
    unit: &str,
    values: &[(String, u64)],
    name: impl Fn(&str) -> String,
) -> String {
    let atlas = &*ATLAS;
    let mut by_code: BTreeMap<String, u64> = BTreeMap::new();
    for (code, value) in values {
        let sum = by_code.entry(code.to_ascii_uppercase()).or_default();
        *sum = sum.saturating_add(*value);
    }
    let largest = by_code.values().copied().max().unwrap_or(0);
    let bins = Bins::for_largest(largest);
    let unit = escape(unit);
    let id = escape(id);
    let height = atlas.height + FOOTER;

    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc" font-family="system-ui, sans-serif" font-size="{FONT_SIZE}" fill="{TEXT}"><title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>"#,
        width = atlas.width,
        title = escape(title),
        desc = description(&by_code, &unit, &name),
    );
    let _ = write!(
        out,
        r##"<g fill="{NO_VALUE}" stroke="#ffffff" stroke-width="0.5" stroke-linejoin="round">"##
    );
    for &(code, path) in &atlas.countries {
        match by_code.get(code) {
            None => {
                let _ = write!(out, r#"<path data-iso="{code}" d="{path}"/>"#);
            }
            Some(&value) => {
                // A zero keeps the group's grey, as if there were no value.
                let fill = bins
                    .colour(value)
                    .map_or(String::new(), |colour| format!(r#" fill="{colour}""#));
                let _ = write!(
                    out,
                    r#"<path data-iso="{code}" d="{path}"{fill}><title>{}: {value} {unit}</title></path>"#,
                    escape(&name(code)),
                );
            }
        }
    }
    out.push_str("</g>");
    legend(&mut out, &bins, &unit, atlas.height);
    out.push_str("</svg>");
    out
}

/// "Kenya: 3 projects; France: 1 projects", largest first, for screen readers, which announce a
/// `role="img"` by its title and description and never reach the shapes' own titles.
fn description(
    by_code: &BTreeMap<String, u64>,
    unit: &str,
    name: impl Fn(&str) -> String,
) -> String {
    if by_code.is_empty() {
        return "no data".to_owned();
    }
    let mut named: Vec<(u64, String)> = by_code
        .iter()
        .map(|(code, &value)| (value, escape(&name(code))))
        .collect();
    named.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    named
        .iter()
        .map(|(value, name)| format!("{name}: {value} {unit}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Five bins whose upper bounds are 1, 3, 6 and 10 times a step, the last open: with a step of 1
/// that is 1, 2–3, 4–6, 7–10 and 11+, which suits the small counts the console mostly shows. For
/// larger counts the step is the smallest of 1, 2, 5, 10, 20, 50... that keeps the largest value
/// within twice the fourth bound, so the bins stay round numbers and the top bin is not crowded.
/// Fixed bounds, unlike quantiles, keep a colour meaning the same count from one day to the next.
struct Bins {
    upper: [u64; 4],
}

impl Bins {
    fn for_largest(largest: u64) -> Self {
        let mut magnitude: u64 = 1;
        loop {
            for step in [1, 2, 5].map(|m| magnitude.saturating_mul(m)) {
                if step.saturating_mul(20) >= largest {
                    return Self {
                        upper: [1, 3, 6, 10].map(|k| step.saturating_mul(k)),
                    };
                }
            }
            magnitude = magnitude.saturating_mul(10);
        }
    }

    /// The colour of `value`, or `None` for 0.
    fn colour(&self, value: u64) -> Option<&'static str> {
        if value == 0 {
            return None;
        }
        let bin = self
            .upper
            .iter()
            .take_while(|&&upper| value > upper)
            .count();
        Some(RAMP[bin])
    }

    /// The legend's text for each bin: "1", "2–3", ..., "11+".
    fn labels(&self) -> [String; 5] {
        let [a, b, c, d] = self.upper;
        let range = |low: u64, high: u64| {
            if low == high {
                low.to_string()
            } else {
                format!("{low}–{high}")
            }
        };
        [
            range(1, a),
            range(a + 1, b),
            range(b + 1, c),
            range(c + 1, d),
            format!("{}+", d + 1),
        ]
    }
}

/// The legend and the disclaimer, under the map at `top`.
fn legend(out: &mut String, bins: &Bins, unit: &str, top: u32) {
    let swatch_y = top + 8;
    let text_y = swatch_y + 13;
    let _ = write!(
        out,
        r#"<g class="legend"><text x="10" y="{text_y}">{unit}:</text>"#
    );
    let mut x = 20 + 9 * u32::try_from(unit.chars().count()).unwrap_or(0);
    let labels = bins.labels();
    let swatches = RAMP
        .iter()
        .zip(labels.iter().map(String::as_str))
        .chain([(&NO_VALUE, "none")]);
    for (colour, label) in swatches {
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{swatch_y}" width="24" height="16" fill="{colour}" stroke="#8c8c8c" stroke-width="0.5"/><text x="{}" y="{text_y}">{label}</text>"##,
            x + 30,
        );
        x += 30 + 9 * u32::try_from(label.chars().count()).unwrap_or(0) + 18;
    }
    // The disclaimer is long for one line at a readable size: two lines, cut at a word boundary.
    let middle = DISCLAIMER.len() / 2;
    let cut = DISCLAIMER[middle..]
        .find(' ')
        .map_or(DISCLAIMER.len(), |i| middle + i);
    let (first, second) = DISCLAIMER.split_at(cut);
    let _ = write!(
        out,
        r##"<text x="10" y="{}" font-size="13" fill="#4d4d4d">{}</text><text x="10" y="{}" font-size="13" fill="#4d4d4d">{}</text></g>"##,
        top + 50,
        escape(first),
        top + 68,
        escape(second.trim_start()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(code: &str) -> String {
        match code {
            "KE" => "Kenya",
            "FR" => "France",
            "US" => "United States",
            "SO" => "Somalia",
            _ => "Elsewhere",
        }
        .to_owned()
    }

    fn values(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|&(c, v)| (c.to_owned(), v)).collect()
    }

    /// The `<path>` of `code`, up to the end of its element.
    fn path_of<'a>(svg: &'a str, code: &str) -> Option<&'a str> {
        let start = svg.find(&format!(r#"<path data-iso="{code}""#))?;
        let rest = &svg[start..];
        let end = rest[1..].find("<path").map_or(rest.len(), |i| i + 1);
        Some(&rest[..end])
    }

    #[test]
    fn the_asset_parses() {
        let atlas = &*ATLAS;
        assert_eq!((atlas.width, atlas.height), (960, 422));
        assert!(atlas.countries.len() > 170, "{}", atlas.countries.len());
        for (code, path) in &atlas.countries {
            assert!(
                code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
            assert!(path.starts_with('M') && path.ends_with('z'), "{code}");
        }
        for code in ["KE", "FR", "US", "SO", "CY", "XK", "TW", "PS"] {
            assert!(
                atlas
                    .countries
                    .binary_search_by_key(&code, |&(c, _)| c)
                    .is_ok(),
                "{code}"
            );
        }
    }

    #[test]
    fn every_country_is_one_path_and_valued_ones_have_titles() {
        let svg = choropleth(
            "m",
            "Projects by country",
            "projects",
            &values(&[("KE", 3), ("fr", 1), ("US", 12)]),
            name,
        );
        assert_eq!(svg.matches("<path ").count(), ATLAS.countries.len());
        assert_eq!(svg.matches("<title>").count(), 3);
        let kenya = path_of(&svg, "KE").unwrap();
        assert!(
            kenya.contains(r##"fill="#7fcdbb"><title>Kenya: 3 projects</title>"##),
            "{kenya}"
        );
        assert!(
            path_of(&svg, "FR")
                .unwrap()
                .contains("<title>France: 1 projects</title>")
        );
        assert!(path_of(&svg, "US").unwrap().contains(r##"fill="#253494""##));
        assert!(!path_of(&svg, "DE").unwrap().contains("fill="));
    }

    #[test]
    fn unknown_codes_are_not_drawn_but_described() {
        let svg = choropleth("m", "t", "projects", &values(&[("ZZ", 4), ("KE", 1)]), name);
        assert_eq!(svg.matches("<path ").count(), ATLAS.countries.len());
        assert_eq!(svg.matches("<title>").count(), 1);
        assert!(svg.contains("Elsewhere: 4 projects; Kenya: 1 projects</desc>"));
    }

    #[test]
    fn repeated_codes_add_up_and_zero_is_grey() {
        let svg = choropleth(
            "m",
            "t",
            "people",
            &values(&[("KE", 2), ("ke", 2), ("SO", 0)]),
            name,
        );
        assert!(path_of(&svg, "KE").unwrap().contains("Kenya: 4 people"));
        let somalia = path_of(&svg, "SO").unwrap();
        assert!(
            !somalia.contains("fill=") && somalia.contains("Somalia: 0 people"),
            "{somalia}"
        );
    }

    #[test]
    fn bins_follow_the_largest_value() {
        let labels = |largest| Bins::for_largest(largest).labels();
        assert_eq!(labels(0), ["1", "2–3", "4–6", "7–10", "11+"]);
        assert_eq!(labels(20), ["1", "2–3", "4–6", "7–10", "11+"]);
        assert_eq!(labels(21), ["1–2", "3–6", "7–12", "13–20", "21+"]);
        assert_eq!(labels(150), ["1–10", "11–30", "31–60", "61–100", "101+"]);
        assert_eq!(
            labels(90_000),
            [
                "1–5000",
                "5001–15000",
                "15001–30000",
                "30001–50000",
                "50001+"
            ]
        );
        let bins = Bins::for_largest(5);
        let colours: Vec<_> = [1, 2, 3, 4, 6, 7, 10, 11, 1000]
            .map(|v| bins.colour(v).unwrap())
            .into();
        assert_eq!(
            colours,
            [
                RAMP[0], RAMP[1], RAMP[1], RAMP[2], RAMP[2], RAMP[3], RAMP[3], RAMP[4], RAMP[4]
            ]
        );
    }

    #[test]
    fn is_accessible_escaped_and_uses_no_inline_style() {
        let svg = choropleth(
            "m",
            "<script>x</script>",
            "a & b",
            &values(&[("KE", 1)]),
            |_| "<i>".to_owned(),
        );
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="m-title""#));
        assert!(svg.contains(r#"<title id="m-title">&lt;script&gt;x&lt;/script&gt;</title>"#));
        assert!(svg.contains("<title>&lt;i&gt;: 1 a &amp; b</title>"));
        assert!(!svg.contains("<script") && !svg.contains("<i>"));
        assert!(!svg.contains("style"));
        assert!(svg.contains("official endorsement or acceptance by the United Nations."));
    }

    #[test]
    fn output_is_deterministic() {
        let v = values(&[("KE", 3), ("FR", 1)]);
        assert_eq!(
            choropleth("m", "t", "u", &v, name),
            choropleth("m", "t", "u", &v, name)
        );
    }

    /// The map minus its outlines, which are the asset's and would bury the rest of the diff.
    #[test]
    fn small_map_snapshot() {
        let svg = choropleth(
            "m",
            "Projects by country",
            "projects",
            &values(&[("KE", 3), ("FR", 1), ("US", 12)]),
            name,
        );
        let without_outlines: String = svg
            .split(" d=\"")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    &part[part.find('"').unwrap() + 1..]
                }
            })
            .collect::<Vec<_>>()
            .join(" d=\"…\"")
            .replace("><", ">\n<");
        let legend = &without_outlines[without_outlines.find("<g class=\"legend\"").unwrap()..];
        // The opening, the description, and the countries that have a value (their `<path>` has
        // a `<title>` child, so it is not self-closing).
        let valued: Vec<&str> = without_outlines
            .lines()
            .filter(|l| {
                ["<svg", "<title", "<desc"]
                    .iter()
                    .any(|tag| l.starts_with(tag))
                    || (l.starts_with("<path") && !l.ends_with("/>"))
            })
            .collect();
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("map_legend", legend);
            insta::assert_snapshot!("map_valued_countries", valued.join("\n"));
        });
    }
}
