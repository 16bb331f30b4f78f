//! Private process notes (policy sections 1 and 5): the therapist's own reflections, apart from
//! the clinical record and readable by their author alone. They are still the child's
//! personal data: sealed under the child's process-notes key (so they are destroyed with that
//! class), and within a subject access request, where a named reviewer reads them through
//! the governance path and no other (a later issue).

use crate::error::parse_text;

/// The longest a note may be.
pub const MAX_NOTE_CHARS: usize = 20_000;

/// A note as typed.
pub fn parse_note(raw: &str) -> Result<String, String> {
    parse_text(raw, 1, MAX_NOTE_CHARS).map_err(|e| {
        if raw.trim().is_empty() {
            "Write the note".to_owned()
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_text_within_bounds() {
        assert_eq!(
            parse_note("  wondered about my own tiredness \r\n today "),
            Ok("wondered about my own tiredness \n today".to_owned())
        );
        assert_eq!(parse_note(" "), Err("Write the note".to_owned()));
        assert!(parse_note(&"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(parse_note("bell\u{7}").is_err());
    }
}
