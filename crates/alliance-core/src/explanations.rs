//! The explanation library: what therapy is, confidentiality and its limits, and the rest,
//! written for each age band and for parents and carers. The default texts ship with Alliance
//! (`data/explanations/*.toml`), each topic with the ideas every text must convey and the
//! statements none may make ("it stays between us"); readability targets per band are service
//! configuration. The defaults are drafts until a service's clinician reviews them.

use crate::readability::{self, Readability};
use serde::{Deserialize, Serialize};

/// Who a text is written for. The bands are the defaults; their targets are configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Audience {
    #[serde(rename = "3-7")]
    Children3To7,
    #[serde(rename = "8-11")]
    Children8To11,
    #[serde(rename = "12-15")]
    Young12To15,
    #[serde(rename = "16-25")]
    Young16To25,
    #[serde(rename = "parents")]
    ParentsAndCarers,
}

impl Audience {
    pub const ALL: [Audience; 5] = [
        Audience::Children3To7,
        Audience::Children8To11,
        Audience::Young12To15,
        Audience::Young16To25,
        Audience::ParentsAndCarers,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Audience::Children3To7 => "3-7",
            Audience::Children8To11 => "8-11",
            Audience::Young12To15 => "12-15",
            Audience::Young16To25 => "16-25",
            Audience::ParentsAndCarers => "parents",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Audience::Children3To7 => "Children aged 3 to 7 (read aloud)",
            Audience::Children8To11 => "Children aged 8 to 11",
            Audience::Young12To15 => "Young people aged 12 to 15",
            Audience::Young16To25 => "Young people aged 16 to 25",
            Audience::ParentsAndCarers => "Parents and carers",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose an audience from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }

    /// The default target UK reading age: the youngest reader in the band should follow it
    /// (3-7 is read aloud, so 6); parents and carers 9, the UK adult average
    /// (clinical-facts section 7).
    pub fn default_target(self) -> f64 {
        match self {
            Audience::Children3To7 => 6.0,
            Audience::Children8To11 => 8.0,
            Audience::Young12To15 | Audience::Young16To25 => 12.0,
            Audience::ParentsAndCarers => 9.0,
        }
    }
}

/// An idea a topic's texts must convey, checked by phrases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Idea {
    pub id: String,
    pub idea: String,
    /// A text conveys the idea when it contains one of these (case-insensitive, whitespace
    /// collapsed).
    pub any_of: Vec<String>,
}

/// One default text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultText {
    pub audience: Audience,
    pub title: String,
    pub body: String,
    /// For the read-aloud band: each picture the handout carries, described.
    #[serde(default)]
    pub pictures: Vec<String>,
}

/// A topic with its checks and its default texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub code: String,
    pub title: String,
    pub summary: String,
    /// What no text of this topic may say (case-insensitive).
    pub never: Vec<String>,
    pub ideas: Vec<Idea>,
    pub texts: Vec<DefaultText>,
}

const DEFAULT_FILES: [&str; 10] = [
    include_str!("../data/explanations/what-therapy-is.toml"),
    include_str!("../data/explanations/in-the-room.toml"),
    include_str!("../data/explanations/confidentiality.toml"),
    include_str!("../data/explanations/limits-of-confidentiality.toml"),
    include_str!("../data/explanations/ground-rules.toml"),
    include_str!("../data/explanations/when-and-where.toml"),
    include_str!("../data/explanations/breaks-and-endings.toml"),
    include_str!("../data/explanations/missing-a-session.toml"),
    include_str!("../data/explanations/who-else-knows.toml"),
    include_str!("../data/explanations/records-and-your-rights.toml"),
];

/// The default library, in the order topics are explained.
pub fn default_library() -> Result<Vec<Topic>, String> {
    DEFAULT_FILES
        .iter()
        .map(|text| toml::from_str::<Topic>(text).map_err(|e| e.to_string()))
        .collect()
}

fn normalised(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace(['’', '‘'], "'")
}

/// What a text says against its topic's checks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ContentCheck {
    /// Ideas (by their description) the text does not convey.
    pub missing_ideas: Vec<String>,
    /// Forbidden statements the text makes.
    pub forbidden: Vec<String>,
}

impl ContentCheck {
    pub fn passes(&self) -> bool {
        self.missing_ideas.is_empty() && self.forbidden.is_empty()
    }
}

/// Checks a text (its title and body) against the topic's ideas and forbidden statements.
pub fn check_content(topic: &Topic, title: &str, body: &str) -> ContentCheck {
    let text = normalised(&format!("{title}\n{body}"));
    ContentCheck {
        missing_ideas: topic
            .ideas
            .iter()
            .filter(|idea| !idea.any_of.iter().any(|p| text.contains(&normalised(p))))
            .map(|idea| idea.idea.clone())
            .collect(),
        forbidden: topic
            .never
            .iter()
            .filter(|p| text.contains(&normalised(p)))
            .cloned()
            .collect(),
    }
}

/// A text's readability against its band's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub readability: Option<Readability>,
    pub target: f64,
    /// The reading age is above the target.
    pub above_target: bool,
    /// Fewer than 100 words: the formulas are unreliable.
    pub too_short_to_measure: bool,
    /// Not measured at all (another language, easy-read with pictures).
    pub not_measured: bool,
}

/// Measures a body of text (paragraphs separated by blank lines) against a target reading
/// age. `measured` is false for texts the formulas do not apply to.
pub fn assess(body: &str, target: f64, offset: f64, measured: bool) -> Assessment {
    if !measured {
        return Assessment {
            readability: None,
            target,
            above_target: false,
            too_short_to_measure: false,
            not_measured: true,
        };
    }
    let readability = readability::measure(body, offset);
    Assessment {
        above_target: readability.as_ref().is_some_and(|r| r.reading_age > target),
        too_short_to_measure: readability.as_ref().is_none_or(|r| !r.reliable),
        readability,
        target,
        not_measured: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readability::DEFAULT_READING_AGE_OFFSET;
    use std::collections::BTreeSet;

    fn library() -> Vec<Topic> {
        match default_library() {
            Ok(topics) => topics,
            Err(e) => panic!("the default library does not load: {e}"),
        }
    }

    #[test]
    fn the_default_library_has_every_topic_for_every_audience() {
        let topics = library();
        assert_eq!(topics.len(), 10);
        let codes: BTreeSet<&str> = topics.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes.len(), 10, "topic codes are distinct");
        for topic in &topics {
            let audiences: Vec<Audience> = topic.texts.iter().map(|t| t.audience).collect();
            assert_eq!(
                audiences,
                Audience::ALL,
                "{}: one text per audience, in order",
                topic.code
            );
            assert!(
                !topic.ideas.is_empty() && !topic.never.is_empty(),
                "{}",
                topic.code
            );
            for text in &topic.texts {
                assert_eq!(
                    text.audience == Audience::Children3To7,
                    !text.pictures.is_empty(),
                    "{} {}: pictures described for the read-aloud band only",
                    topic.code,
                    text.audience.code()
                );
            }
        }
    }

    #[test]
    fn every_default_text_conveys_its_ideas_and_makes_no_forbidden_statement() {
        let topics = library();
        let limits = topics
            .iter()
            .find(|t| t.code == "limits-of-confidentiality")
            .map(|t| t.never.clone())
            .unwrap_or_default();
        for phrase in ["stays secret", "between us", "always ask you first"] {
            assert!(limits.iter().any(|n| n == phrase), "{phrase} is forbidden");
        }
        for topic in &topics {
            for text in &topic.texts {
                let check = check_content(topic, &text.title, &text.body);
                assert!(
                    check.passes(),
                    "{} for {}: {check:?}",
                    topic.code,
                    text.audience.code()
                );
            }
        }
    }

    #[test]
    fn every_default_text_is_within_its_bands_reading_age() {
        for topic in library() {
            for text in &topic.texts {
                let a = assess(
                    &text.body,
                    text.audience.default_target(),
                    DEFAULT_READING_AGE_OFFSET,
                    true,
                );
                let r = a.readability.clone();
                assert!(
                    !a.above_target && !a.too_short_to_measure,
                    "{} for {}: {:?}",
                    topic.code,
                    text.audience.code(),
                    r.map(|r| (r.words, r.reading_age))
                );
            }
        }
    }

    #[test]
    fn the_checks_catch_a_broken_promise_and_a_missing_idea() {
        let topics = library();
        let Some(limits) = topics
            .iter()
            .find(|t| t.code == "limits-of-confidentiality")
        else {
            panic!("no limits topic");
        };
        let bad = "Whatever you tell me stays between us. I will always ask you first.";
        let check = check_content(limits, "Secrets", bad);
        assert!(!check.passes());
        assert!(check.forbidden.iter().any(|f| f == "between us"));
        assert!(check.forbidden.iter().any(|f| f == "always ask you first"));
        assert!(
            check
                .missing_ideas
                .iter()
                .any(|i| i.contains("someone whose job is to keep them safe"))
        );
        // Curly apostrophes and line breaks do not hide a phrase.
        let sly = "I won\u{2019}t tell\nanyone.";
        assert!(
            check_content(limits, "", sly)
                .forbidden
                .iter()
                .any(|f| f == "i won't tell anyone")
        );
    }

    #[test]
    fn short_or_unmeasured_texts_are_flagged_not_judged() {
        let short = assess("I see you on Mondays.", 6.0, 5.0, true);
        assert!(short.too_short_to_measure);
        let other_language = assess("Dw i'n dy weld di ddydd Llun.", 6.0, 5.0, false);
        assert!(other_language.not_measured && !other_language.above_target);
        assert_eq!(Audience::parse("parents"), Ok(Audience::ParentsAndCarers));
        assert!(Audience::parse("adults").is_err());
    }
}
