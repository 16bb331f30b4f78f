//! The first-session checklist: which topics of the explanation library were explained, when,
//! how, to whom, from which version, and what the child said back in their own words. The
//! child's page always shows when and how the limits of confidentiality were last explained.

use crate::error::{Invalid, Validator, parse_date, parse_optional_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The topic whose last explanation the child's page always shows.
pub const LIMITS_OF_CONFIDENTIALITY: &str = "limits-of-confidentiality";

/// How a topic was explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Spoken,
    Handout,
    Drawing,
    Story,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Spoken,
        Method::Handout,
        Method::Drawing,
        Method::Story,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Method::Spoken => "spoken",
            Method::Handout => "handout",
            Method::Drawing => "drawing",
            Method::Story => "story",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Method::Spoken => "Spoken",
            Method::Handout => "Handout",
            Method::Drawing => "Drawing",
            Method::Story => "Story",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.code() == code.trim())
            .ok_or_else(|| "Choose spoken, handout, drawing or story".to_owned())
    }
}

/// Who it was explained to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExplainedTo {
    Child,
    Parent,
    Both,
}

impl ExplainedTo {
    pub const ALL: [ExplainedTo; 3] = [ExplainedTo::Child, ExplainedTo::Parent, ExplainedTo::Both];

    pub fn code(self) -> &'static str {
        match self {
            ExplainedTo::Child => "child",
            ExplainedTo::Parent => "parent",
            ExplainedTo::Both => "both",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExplainedTo::Child => "The child",
            ExplainedTo::Parent => "A parent or carer",
            ExplainedTo::Both => "The child and a parent or carer together",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.code() == code.trim())
            .ok_or_else(|| "Choose child, parent or both".to_owned())
    }
}

/// An item as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ChecklistInput {
    #[serde(default)]
    pub topic: String,
    /// `31/12/2026` or `2026-12-31`.
    #[serde(default)]
    pub explained_on: String,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub to_whom: String,
    /// The library version used, if any (its id).
    #[serde(default)]
    pub library_version: String,
    /// What the child said back, in their own words.
    #[serde(default)]
    pub child_said: String,
    /// Anything to revisit; empty when nothing is.
    #[serde(default)]
    pub revisit: String,
}

/// An item as checked. `child_said` and `revisit` are sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    pub topic: String,
    pub explained_on: Date,
    pub methods: BTreeSet<Method>,
    pub to_whom: ExplainedTo,
    pub library_version: Option<Uuid>,
    pub child_said: Option<String>,
    pub revisit: Option<String>,
}

impl ChecklistItem {
    /// Checks an item against the library's topic codes; nothing may be explained tomorrow.
    pub fn parse(input: &ChecklistInput, topics: &[&str], today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let topic = v.check(
            "topic",
            if topics.contains(&input.topic.trim()) {
                Ok(input.topic.trim().to_owned())
            } else {
                Err("Choose a topic from the library".to_owned())
            },
        );
        let explained_on = v.check(
            "explained_on",
            parse_date(&input.explained_on).and_then(|d| {
                if d > today {
                    Err("The date cannot be in the future".to_owned())
                } else {
                    Ok(d)
                }
            }),
        );
        let mut methods = BTreeSet::new();
        for raw in input.methods.iter().filter(|m| !m.trim().is_empty()) {
            if let Some(m) = v.check("methods", Method::parse(raw)) {
                methods.insert(m);
            }
        }
        if methods.is_empty() && input.methods.iter().all(|m| m.trim().is_empty()) {
            v.check::<()>(
                "methods",
                Err("Choose at least one way it was explained".to_owned()),
            );
        }
        let to_whom = v.check("to_whom", ExplainedTo::parse(&input.to_whom));
        let library_version = v.check(
            "library_version",
            if input.library_version.trim().is_empty() {
                Ok(None)
            } else {
                Uuid::parse_str(input.library_version.trim())
                    .map(Some)
                    .map_err(|_| "Choose a version from the library".to_owned())
            },
        );
        let child_said = v.check("child_said", parse_optional_text(&input.child_said, 2000));
        let revisit = v.check("revisit", parse_optional_text(&input.revisit, 1000));
        v.finish()?;
        match (
            topic,
            explained_on,
            to_whom,
            library_version,
            child_said,
            revisit,
        ) {
            (
                Some(topic),
                Some(explained_on),
                Some(to_whom),
                Some(library_version),
                Some(child_said),
                Some(revisit),
            ) => Ok(Self {
                topic,
                explained_on,
                methods,
                to_whom,
                library_version,
                child_said,
                revisit,
            }),
            _ => Err(Invalid::field("topic", "Check the form")),
        }
    }
}

/// Whether a child who has moved into `current_band` should have things explained again: they
/// have had explanations, and none since they entered this band.
pub fn band_revisit_due(bands_explained_in: &[&str], current_band: &str) -> bool {
    !bands_explained_in.is_empty() && !bands_explained_in.contains(&current_band)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TOPICS: [&str; 2] = ["what-therapy-is", LIMITS_OF_CONFIDENTIALITY];

    fn input() -> ChecklistInput {
        ChecklistInput {
            topic: LIMITS_OF_CONFIDENTIALITY.into(),
            explained_on: "02/11/2026".into(),
            methods: vec!["spoken".into(), "handout".into()],
            to_whom: "both".into(),
            library_version: String::new(),
            child_said: "If someone hurts me you have to tell".into(),
            revisit: String::new(),
        }
    }

    #[test]
    fn an_item_records_how_and_what_the_child_said() {
        let item = ChecklistItem::parse(&input(), &TOPICS, date(2026, 11, 30))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(item.methods.len(), 2);
        assert_eq!(item.to_whom, ExplainedTo::Both);
        assert_eq!(item.revisit, None);
        assert_eq!(item.explained_on, date(2026, 11, 2));
    }

    #[test]
    fn bad_items_name_every_field() {
        let bad = ChecklistInput {
            topic: "stay-secret".into(),
            explained_on: "01/01/2027".into(),
            methods: vec![],
            to_whom: "neighbour".into(),
            library_version: "v1".into(),
            ..input()
        };
        let errors = ChecklistItem::parse(&bad, &TOPICS, date(2026, 11, 30))
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "topic",
                "explained_on",
                "methods",
                "to_whom",
                "library_version"
            ]
        );
    }

    #[test]
    fn a_new_band_prompts_only_a_child_who_has_had_explanations() {
        assert!(!band_revisit_due(&[], "8-11"));
        assert!(band_revisit_due(&["3-7"], "8-11"));
        assert!(!band_revisit_due(&["3-7", "8-11"], "8-11"));
    }
}
