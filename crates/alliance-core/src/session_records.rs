//! The session record (policy sections 1 and 6): what the child brought and how they
//! expressed their feelings, in their own words where possible; how the therapist reflected
//! and validated them; themes and play; mood at the start and the end; anything to follow up;
//! and whether anything raised a safeguarding concern. A draft is its author's alone; signing
//! locks it; a change after that is an amendment with its reason, the original kept.

use crate::error::{Invalid, Validator, parse_optional_line, parse_optional_text, parse_text};
use serde::{Deserialize, Serialize};

/// The longest a free-text part of a record may be.
pub const MAX_PART_CHARS: usize = 6000;

/// What a record says (sealed at rest under the child's clinical key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordContent {
    /// What the child brought, and how they expressed their feelings (their own words where
    /// possible).
    #[serde(default)]
    pub brought: String,
    /// The child's own words, quoted.
    #[serde(default)]
    pub own_words: String,
    /// How the therapist reflected and validated what the child brought.
    #[serde(default)]
    pub reflected: String,
    /// Themes and play.
    #[serde(default)]
    pub themes: String,
    /// Mood at the start, in a few words.
    #[serde(default)]
    pub mood_start: String,
    /// Mood at the end.
    #[serde(default)]
    pub mood_end: String,
    /// Anything to follow up.
    #[serde(default)]
    pub follow_up: String,
    /// Did anything in the session raise a safeguarding concern? `yes`, `no` or empty
    /// (not answered yet).
    #[serde(default)]
    pub safeguarding: String,
}

/// Whether anything raised a safeguarding concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safeguarding {
    Yes,
    No,
}

impl RecordContent {
    /// A draft may be anything the therapist has typed so far, within lengths and free of
    /// control characters (nothing typed is refused for being unfinished).
    pub fn parse_draft(input: &RecordContent) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let mut text = |field: &str, raw: &str| {
            v.check(field, parse_optional_text(raw, MAX_PART_CHARS))
                .flatten()
                .unwrap_or_default()
        };
        let brought = text("brought", &input.brought);
        let own_words = text("own_words", &input.own_words);
        let reflected = text("reflected", &input.reflected);
        let themes = text("themes", &input.themes);
        let follow_up = text("follow_up", &input.follow_up);
        let mut line = |field: &str, raw: &str| {
            v.check(field, parse_optional_line(raw, 120))
                .flatten()
                .unwrap_or_default()
        };
        let mood_start = line("mood_start", &input.mood_start);
        let mood_end = line("mood_end", &input.mood_end);
        let safeguarding = match input.safeguarding.trim() {
            "" => String::new(),
            "yes" | "no" => input.safeguarding.trim().to_owned(),
            _ => {
                v.check::<()>("safeguarding", Err("Answer yes or no".to_owned()));
                String::new()
            }
        };
        v.finish()?;
        Ok(Self {
            brought,
            own_words,
            reflected,
            themes,
            mood_start,
            mood_end,
            follow_up,
            safeguarding,
        })
    }

    /// A record to sign must say what the child brought, how the therapist reflected it, the
    /// mood at the start and the end, and answer the safeguarding question.
    pub fn check_complete(&self) -> Result<(), Invalid> {
        let mut v = Validator::new();
        let need = [
            (
                "brought",
                &self.brought,
                "Say what the child brought and how they expressed their feelings",
            ),
            (
                "reflected",
                &self.reflected,
                "Say how you reflected and validated what they brought",
            ),
            (
                "mood_start",
                &self.mood_start,
                "Describe their mood at the start",
            ),
            ("mood_end", &self.mood_end, "Describe their mood at the end"),
        ];
        for (field, value, message) in need {
            if value.trim().is_empty() {
                v.check::<()>(field, Err(message.to_owned()));
            }
        }
        if self.safeguarding_answer().is_none() {
            v.check::<()>(
                "safeguarding",
                Err("Answer whether anything raised a safeguarding concern".to_owned()),
            );
        }
        v.finish()
    }

    pub fn safeguarding_answer(&self) -> Option<Safeguarding> {
        match self.safeguarding.as_str() {
            "yes" => Some(Safeguarding::Yes),
            "no" => Some(Safeguarding::No),
            _ => None,
        }
    }
}

/// The reason for an amendment: required, because the record must show why it changed.
pub fn parse_amendment_reason(raw: &str) -> Result<String, String> {
    parse_text(raw, 5, 1000)
        .map_err(|_| "Say why the record is changed (at least 5 characters)".to_owned())
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordStatus {
    /// Being written: seen by its author alone.
    Draft,
    /// Signed by its author: locked; changed only by amendment.
    Signed,
}

impl RecordStatus {
    pub fn code(self) -> &'static str {
        match self {
            RecordStatus::Draft => "draft",
            RecordStatus::Signed => "signed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RecordStatus::Draft => "Draft (only you can see it)",
            RecordStatus::Signed => "Signed",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "draft" => Ok(RecordStatus::Draft),
            "signed" => Ok(RecordStatus::Signed),
            _ => Err(format!("unknown record status {code:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> RecordContent {
        RecordContent {
            brought: "She built a wall in the sand and hid the small animals behind it".into(),
            own_words: "\"Nobody can get them now\"".into(),
            reflected: "I wondered aloud whether the animals needed keeping safe".into(),
            themes: "Protection, walls".into(),
            mood_start: "Quiet".into(),
            mood_end: "Brighter".into(),
            follow_up: String::new(),
            safeguarding: "no".into(),
        }
    }

    #[test]
    fn a_draft_may_be_unfinished_but_a_signed_record_is_complete() {
        let partial = RecordContent {
            brought: "Sand tray".into(),
            ..RecordContent::default()
        };
        let draft = RecordContent::parse_draft(&partial).unwrap_or_else(|e| panic!("{e:?}"));
        let errors = draft
            .check_complete()
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["reflected", "mood_start", "mood_end", "safeguarding"]
        );
        assert!(full().check_complete().is_ok());
    }

    #[test]
    fn bad_parts_are_named() {
        let bad = RecordContent {
            mood_start: "a\nb".into(),
            safeguarding: "maybe".into(),
            brought: "x".repeat(MAX_PART_CHARS + 1),
            ..full()
        };
        let errors = RecordContent::parse_draft(&bad)
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["brought", "mood_start", "safeguarding"]);
        assert!(parse_amendment_reason("typo").is_err());
        assert!(parse_amendment_reason("Corrected the date of the next session").is_ok());
    }
}
