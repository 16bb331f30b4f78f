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
