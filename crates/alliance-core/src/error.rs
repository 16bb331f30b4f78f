//! Validation errors that name the field at fault, so every client can show them beside it.

use serde::Serialize;

/// One field's problem, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the client sent it (for nested fields, a dotted path).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Input that was refused, with every field at fault (not only the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the input was not valid ({} field(s) at fault)", .errors.len())]
pub struct Invalid {
    pub errors: Vec<FieldError>,
}

impl Invalid {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            errors: vec![FieldError::new(field, message)],
        }
    }
}

/// Collects field errors while parsing several fields, then fails once with all of them.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value if it parsed, records the error against `field` if not.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid {
                errors: self.errors,
            })
        }
    }
}

/// Text typed by a person: trimmed, within length, free of control characters (which have no
/// place in a name and are a common vector for log and export injection).
pub fn parse_line(raw: &str, min_chars: usize, max_chars: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    let count = trimmed.chars().count();
    if count < min_chars {
        return Err(if min_chars <= 1 {
            "Enter a value".to_owned()
        } else {
            format!("Enter at least {min_chars} characters")
        });
    }
    if count > max_chars {
        return Err(format!("Use {max_chars} characters or fewer"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("Remove line breaks and other control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Text of several lines (an address, a summary): trimmed, within length, no control
/// characters other than line breaks and tabs. Line endings are normalised to `\n`.
pub fn parse_text(raw: &str, min_chars: usize, max_chars: usize) -> Result<String, String> {
    let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
    let trimmed = normalised.trim();
    let count = trimmed.chars().count();
    if count < min_chars {
        return Err("Enter a value".to_owned());
    }
    if count > max_chars {
        return Err(format!("Use {max_chars} characters or fewer"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("Remove control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// An optional line: empty means absent.
pub fn parse_optional_line(raw: &str, max_chars: usize) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse_line(raw, 1, max_chars).map(Some)
    }
}

/// Optional text of several lines: empty means absent.
pub fn parse_optional_text(raw: &str, max_chars: usize) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse_text(raw, 1, max_chars).map(Some)
    }
}

/// A calendar date as people type it here (`31/12/2026`) or as the API sends it
/// (`2026-12-31`).
pub fn parse_date(raw: &str) -> Result<jiff::civil::Date, String> {
    let raw = raw.trim();
    let bad = || "Enter a date like 31/12/2026".to_owned();
    if raw.is_empty() {
        return Err("Enter a date".to_owned());
    }
    if let Some((d, rest)) = raw.split_once('/') {
        let (m, y) = rest.split_once('/').ok_or_else(bad)?;
        let (d, m, y): (i8, i8, i16) = (
            d.trim().parse().map_err(|_| bad())?,
            m.trim().parse().map_err(|_| bad())?,
            y.trim().parse().map_err(|_| bad())?,
        );
        if y < 1000 {
            return Err("Enter the year in full, like 2026".to_owned());
        }
        return jiff::civil::Date::new(y, m, d).map_err(|_| "This date does not exist".to_owned());
    }
    raw.parse::<jiff::civil::Date>().map_err(|_| bad())
}

/// An optional date: empty means absent.
pub fn parse_optional_date(raw: &str) -> Result<Option<jiff::civil::Date>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse_date(raw).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_and_bounded() {
        assert_eq!(parse_line("  Oak Room ", 1, 10), Ok("Oak Room".to_owned()));
        assert!(parse_line("   ", 1, 10).is_err());
        assert!(parse_line("abcdefghijk", 1, 10).is_err());
        assert!(parse_line("a\u{0}b", 1, 10).is_err());
        assert!(parse_line("two\nlines", 1, 20).is_err());
        // Characters, not bytes: ten Welsh letters with diacritics fit in ten.
        assert!(parse_line("ŵŷâêîôûŵŷâ", 1, 10).is_ok());
    }

    #[test]
    fn dates_are_read_day_first_or_iso() {
        let expected = jiff::civil::date(2026, 12, 31);
        assert_eq!(parse_date("31/12/2026"), Ok(expected));
        assert_eq!(parse_date(" 2026-12-31 "), Ok(expected));
        assert_eq!(parse_date("1/2/2020"), Ok(jiff::civil::date(2020, 2, 1)));
        for bad in [
            "",
            "31/02/2026",
            "12/31/2026",
            "31/12/26",
            "yesterday",
            "2026-13-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_optional_date("  "), Ok(None));
    }

    #[test]
    fn text_keeps_line_breaks_but_not_other_controls() {
        assert_eq!(
            parse_text("1 High St\r\nLeeds ", 1, 50),
            Ok("1 High St\nLeeds".to_owned())
        );
        assert!(parse_text("a\u{7}b", 1, 50).is_err());
        assert_eq!(parse_optional_text("", 10), Ok(None));
    }

    #[test]
    fn the_validator_reports_every_field_at_fault() {
        let mut v = Validator::new();
        assert_eq!(v.check::<u8>("a", Err("bad a".into())), None);
        assert_eq!(v.check("b", Ok(2)), Some(2));
        assert_eq!(v.check::<u8>("c", Err("bad c".into())), None);
        let err = v.finish().err().map(|e| e.errors).unwrap_or_default();
        let fields: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "c"]);
    }
}
