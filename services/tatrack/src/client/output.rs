//! What the CLI prints: tables and `key: value` lines for people, JSON with `--json` (one array
//! for a list, the server's answer for a command). Answers are read into the contract's types
//! first; the columns are JSON pointers into them, so a column names the field it shows.

use serde::Serialize;
use serde_json::Value;
use tatrack_contract::CommandReply;

/// A plain-text table; `(none)` under the headers when there are no rows.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count().min(60));
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c = c.replace(['\n', '\t'], " ");
                let c: String = if c.chars().count() > 60 {
                    c.chars().take(59).chain(['…']).collect()
                } else {
                    c
                };
                format!("{c:<w$}")
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

/// A JSON value as a person reads it: money as `1234.50 USD`, a tagged value as its type and
/// fields, a list joined by commas, nothing for null.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        // Money: minor units with two decimals, as `Money` assumes.
        Value::Object(m) if m.contains_key("amount_minor") && m.contains_key("currency") => money(
            m["amount_minor"].as_i64().unwrap_or_default(),
            &text(&m["currency"]),
        ),
        Value::Object(m) if m.contains_key("type") => {
            let rest: Vec<String> = m
                .iter()
                .filter(|(k, _)| *k != "type")
                .map(|(_, v)| text(v))
                .collect();
            if rest.is_empty() {
                text(&m["type"])
            } else {
                format!("{} {}", text(&m["type"]), rest.join(" "))
            }
        }
        Value::String(s) => printable(s),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Text from the server as a terminal should show it: every control character (an `ESC[2J`
/// would clear the screen), DEL, and every bidirectional embedding, override or isolate written
/// as `\u{..}`, so what is printed is what is stored. Line breaks and tabs stay (a table cell
/// turns them into spaces). The services refuse such characters in new text; this guards what
/// is printed whatever was recorded before.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => out.push_str(&c.escape_unicode().to_string()),
            _ => out.push(c),
        }
    }
    out
}

/// Minor units as `1234.50 USD` (two decimals, as `Money` assumes).
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", minor / 100, minor % 100)
}

fn to_value<T: Serialize>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

/// A list as a table of `columns` (header, JSON pointer), or as one JSON array.
pub fn list<T: Serialize>(json: bool, items: &[T], columns: &[(&str, &str)]) {
    let values: Vec<Value> = items.iter().map(to_value).collect();
    if json {
        println!("{}", Value::Array(values));
        return;
    }
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let rows: Vec<Vec<String>> = values
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|(_, pointer)| text(item.pointer(pointer).unwrap_or(&Value::Null)))
                .collect()
        })
        .collect();
    table(&headers, &rows);
}

/// One object as `key: value` lines (nested objects as `key.inner: value`), or as JSON.
pub fn one<T: Serialize>(json: bool, item: &T) {
    let item = to_value(item);
    if json {
        println!("{item}");
        return;
    }
    if let Value::Object(map) = &item {
        for (k, v) in map {
            match v {
                Value::Null => {}
                // Nested objects other than money and tagged values: one line per field.
                Value::Object(inner)
                    if !inner.contains_key("amount_minor") && !inner.contains_key("type") =>
                {
                    for (ik, iv) in inner {
                        if !iv.is_null() {
                            println!("{k}.{ik}: {}", text(iv));
                        }
                    }
                }
                _ => println!("{k}: {}", text(v)),
            }
        }
    }
}

/// A command's reply: `ok: <id> (position N)` (or `already done:`, `unchanged:`), then the ids
/// the command named for parts it added; with `--json`, the reply with those ids.
pub fn reply(json: bool, reply: &CommandReply, extra: &[(&str, Value)]) {
    if json {
        let mut value = to_value(reply);
        if let Value::Object(map) = &mut value {
            for (k, v) in extra {
                map.insert((*k).to_owned(), v.clone());
            }
        }
        println!("{value}");
        return;
    }
    println!("{}", reply_line(reply));
    for (k, v) in extra {
        println!("{k}: {}", text(v));
    }
}

/// The first line a command prints.
pub fn reply_line(reply: &CommandReply) -> String {
    if reply.last_position == 0 {
        // The command changed nothing (e.g. an update to the values it already has).
        format!("unchanged: {} (version {})", reply.id, reply.stream_version)
    } else if reply.idempotent {
        format!(
            "already done: {} (position {})",
            reply.id, reply.last_position
        )
    } else {
        format!("ok: {} (position {})", reply.id, reply.last_position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_that_would_act_on_the_terminal_is_shown_escaped() {
        assert_eq!(
            text(&json!("Evil\u{1b}[2J\u{202e}Donor")),
            "Evil\\u{1b}[2J\\u{202e}Donor"
        );
        assert_eq!(text(&json!("two\nlines")), "two\nlines");
    }

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(
            text(&json!({"amount_minor": 123_450, "currency": "USD"})),
            "1234.50 USD"
        );
        assert_eq!(money(-1_500, "EUR"), "-15.00 EUR");
        assert_eq!(money(7, "EUR"), "0.07 EUR");
        assert_eq!(text(&json!({"type": "need", "need_id": "n-1"})), "need n-1");
        assert_eq!(text(&json!(["GH", "NG"])), "GH,NG");
        assert_eq!(text(&Value::Null), "");
    }

    #[test]
    fn replies_say_what_happened() {
        let mut r = CommandReply {
            id: "a".into(),
            stream: "need-a".into(),
            first_position: 4,
            last_position: 4,
            stream_version: 2,
            idempotent: false,
        };
        assert_eq!(reply_line(&r), "ok: a (position 4)");
        r.idempotent = true;
        assert_eq!(reply_line(&r), "already done: a (position 4)");
        r.last_position = 0;
        assert_eq!(reply_line(&r), "unchanged: a (version 2)");
    }
}
