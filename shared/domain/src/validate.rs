//! Field validators shared by the deciders; each error names the field it is about.

use jiff::civil::Date;
use uuid::Uuid;

use crate::error::DomainError;

/// Text that is not blank and at most `max_chars` characters (Unicode scalar values, not bytes, so the
/// limit means the same in every script), with no character that would act on whoever reads it
/// rather than be read ([`unreadable`]).
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters, got {chars}"),
        ));
    }
    // Leading and trailing white space is trimmed away before it is recorded.
    if let Some((at, c)) = unreadable(value.trim(), max_chars >= LONG_TEXT_CHARS) {
        return Err(DomainError::invalid(
            field,
            format!(
                "must not contain control or bidirectional-override characters (U+{:04X} at character {})",
                u32::from(c),
                at + 1
            ),
        ));
    }
    Ok(())
}

/// Text allowed this many characters or more is long text (descriptions, narratives, reasons):
/// it may hold line breaks (`\n`, or `\r\n`) and tabs. Shorter text is one line.
pub const LONG_TEXT_CHARS: usize = 2000;

/// The first character (index, char) that a terminal, a spreadsheet or a browser would act on
/// instead of showing: C0 and C1 controls and DEL (an `ESC[2J` clears a terminal), and the
/// bidirectional embeddings, overrides and isolates that make text read otherwise than it is
/// stored (U+202A..U+202E, U+2066..U+2069).
pub fn unreadable(value: &str, long: bool) -> Option<(usize, char)> {
    let mut chars = value.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        let allowed = match c {
            '\n' | '\t' => long,
            '\r' => long && chars.peek().is_some_and(|(_, next)| *next == '\n'),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => false,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => false,
            _ => true,
        };
        if !allowed {
            return Some((at, c));
        }
    }
    None
}

/// `later` may not be before `earlier`; the error names `field`, the one holding `later`.
pub fn check_date_order(field: &str, earlier: Date, later: Date) -> Result<(), DomainError> {
    if later < earlier {
        return Err(DomainError::invalid(
            field,
            format!("must not be before {earlier}, got {later}"),
        ));
    }
    Ok(())
}

/// No item listed twice; the error names the first repeated one.
pub fn check_unique<T: PartialEq + std::fmt::Display>(
    field: &str,
    items: &[T],
) -> Result<(), DomainError> {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(DomainError::invalid(
                field,
                format!("{item} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// References to other aggregates ([`check_id`]), each listed once.
pub fn check_ids(field: &str, ids: &[Uuid]) -> Result<(), DomainError> {
    for (i, id) in ids.iter().enumerate() {
        check_id(field, *id)?;
        if ids[..i].contains(id) {
            return Err(DomainError::invalid(field, format!("{id} is listed twice")));
        }
    }
    Ok(())
}

/// Priority 1 (high) .. 3 (low).
pub fn check_priority(field: &str, priority: u8) -> Result<(), DomainError> {
    if !(1..=3).contains(&priority) {
        return Err(DomainError::invalid(
            field,
            format!("must be 1 (high) to 3 (low), got {priority}"),
        ));
    }
    Ok(())
}

/// A reference to another aggregate must be a real id, not the nil UUID a client sends by mistake.
pub fn check_id(field: &str, id: Uuid) -> Result<(), DomainError> {
    if id.is_nil() {
        return Err(DomainError::invalid(field, "must not be the nil id"));
    }
    Ok(())
}

/// An optional "why": absent is fine, present must be sensible text.
pub fn check_reason(reason: Option<&str>) -> Result<(), DomainError> {
    reason.map_or(Ok(()), |r| check_text("reason", r, MAX_REASON_CHARS))
}

/// [`check_text`], then the text trimmed as an event records it.
pub fn trimmed(field: &str, value: &str, max_chars: usize) -> Result<String, DomainError> {
    check_text(field, value, max_chars)?;
    Ok(value.trim().to_owned())
}

/// An optional "why" ([`check_reason`]), trimmed as an event records it.
pub fn optional_reason(reason: Option<&str>) -> Result<Option<String>, DomainError> {
    check_reason(reason)?;
    Ok(reason.map(|r| r.trim().to_owned()))
}

/// A required "why", trimmed as an event records it.
pub fn required_reason(reason: &str) -> Result<String, DomainError> {
    trimmed("reason", reason, MAX_REASON_CHARS)
}

/// A move dated `on` may not go back before the aggregate's previous one (`last`, when it has moved).
pub fn check_not_before(last: Option<Date>, on: Date) -> Result<(), DomainError> {
    last.map_or(Ok(()), |last| check_date_order("on", last, on))
}

/// Longest "why" a status change may carry.
pub const MAX_REASON_CHARS: usize = 2000;

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn text_must_be_non_blank_and_short_enough() {
        assert!(check_text("title", "ok", 2).is_ok());
        assert!(
            check_text("title", "éé", 2).is_ok(),
            "counts characters, not bytes"
        );
        assert_eq!(
            check_text("title", "  \n", 5),
            Err(DomainError::invalid("title", "must not be empty"))
        );
        assert_eq!(
            check_text("title", "abc", 2),
            Err(DomainError::invalid(
                "title",
                "must be at most 2 characters, got 3"
            ))
        );
    }

    #[test]
    fn dates_in_order() {
        assert!(check_date_order("end", date(2025, 1, 1), date(2025, 1, 1)).is_ok());
        let err = check_date_order("end", date(2025, 1, 2), date(2025, 1, 1)).unwrap_err();
        assert_eq!(
            err,
            DomainError::invalid("end", "must not be before 2025-01-02, got 2025-01-01")
        );
    }

    #[test]
    fn priority_and_ids() {
        assert!(check_priority("priority", 1).is_ok());
        assert!(check_priority("priority", 3).is_ok());
        assert!(
            matches!(check_priority("priority", 0), Err(DomainError::Invalid { field, .. }) if field == "priority")
        );
        assert!(check_priority("priority", 4).is_err());
        assert!(check_id("need_id", Uuid::nil()).is_err());
        assert!(check_id("need_id", Uuid::from_u128(1)).is_ok());
        assert!(check_reason(None).is_ok());
        assert!(check_reason(Some(" ")).is_err());
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn text_that_would_act_on_its_reader_is_refused_by_field() {
        for (value, long) in [
            ("clear\u{1b}[2J", true),
            ("nul\u{0}", true),
            ("c1\u{9b}31m", true),
            ("line\nbreak", false),
            ("tab\there", false),
            ("lone\rreturn", true),
            ("evil\u{202e}txt.exe", true),
            ("isolate\u{2066}x", false),
            ("del\u{7f}", false),
        ] {
            let max = if long { LONG_TEXT_CHARS } else { 200 };
            let e = check_text("name", value, max).unwrap_err();
            assert!(
                matches!(&e, DomainError::Invalid { field, .. } if field == "name"),
                "{value:?}: {e:?}"
            );
        }
        for (value, long) in [
            ("Kenya Police Service", false),
            ("Border police, 2e promotion — Nairobi", false),
            ("first line\nsecond\r\nthird\tcolumn", true),
            ("عربي and 中文", false),
        ] {
            let max = if long { LONG_TEXT_CHARS } else { 200 };
            check_text("name", value, max).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
        }
    }
}
