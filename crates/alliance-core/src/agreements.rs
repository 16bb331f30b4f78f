//! The therapy agreement (product.md, boundaries): the ground rules every room needs and any
//! the child and therapist add, in the child's words; the regular time and place; what
//! confidentiality means for this child. Each change is a new version; one version at a time
//! is active, and only when the consent rules allow (`consent::assess`).

use crate::error::{Invalid, Validator, parse_text};
use serde::{Deserialize, Serialize};

/// The three rules every room needs, with the words a therapist starts from; the child may
/// put each in their own words, but none may be dropped.
pub const CORE_RULES: [(&str, &str); 3] = [
    (
        "not-hurting-yourself",
        "I won't hurt myself in here, and you'll help me keep safe.",
    ),
    (
        "not-hurting-the-therapist",
        "I won't hurt you, and you won't hurt me.",
    ),
    (
        "not-damaging-the-room",
        "We look after the room and the things in it, so they're here next time.",
    ),
];

/// The most rules a child and therapist may add.
pub const MAX_ADDED_RULES: usize = 12;

/// One ground rule as agreed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundRule {
    /// One of [`CORE_RULES`]' codes, or `None` for a rule the child and therapist added.
    pub core: Option<String>,
    /// In the child's words.
    pub text: String,
}

/// What a version of the agreement says (sealed at rest under the child's clinical key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementContent {
    pub rules: Vec<GroundRule>,
    /// What confidentiality means for this child, in words they understand.
    pub confidentiality: String,
    /// The regular time and place when the version was written ("Tuesdays, 10:00 to 10:50,
    /// in the Blue Room at Oakfield Primary, in term time"), or what was agreed instead.
    pub time_and_place: String,
}

/// The agreement as typed: the three core rules (in the child's words), added rules one per
/// line, and what confidentiality means for this child.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct AgreementInput {
    #[serde(default)]
    pub not_hurting_yourself: String,
    #[serde(default)]
    pub not_hurting_the_therapist: String,
    #[serde(default)]
    pub not_damaging_the_room: String,
    /// One rule per line.
    #[serde(default)]
    pub added_rules: String,
    #[serde(default)]
    pub confidentiality: String,
}

impl AgreementInput {
    /// Where a therapist starts: the core rules in plain words, nothing added.
    pub fn starting_point(confidentiality: &str) -> Self {
        Self {
            not_hurting_yourself: CORE_RULES[0].1.to_owned(),
            not_hurting_the_therapist: CORE_RULES[1].1.to_owned(),
            not_damaging_the_room: CORE_RULES[2].1.to_owned(),
            added_rules: String::new(),
            confidentiality: confidentiality.to_owned(),
        }
    }

    /// The input that would produce `content` (to edit a copy of it).
    pub fn from_content(content: &AgreementContent) -> Self {
        let core = |code: &str| {
            content
                .rules
                .iter()
                .find(|r| r.core.as_deref() == Some(code))
                .map(|r| r.text.clone())
                .unwrap_or_default()
        };
        Self {
            not_hurting_yourself: core(CORE_RULES[0].0),
            not_hurting_the_therapist: core(CORE_RULES[1].0),
            not_damaging_the_room: core(CORE_RULES[2].0),
            added_rules: content
                .rules
                .iter()
                .filter(|r| r.core.is_none())
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            confidentiality: content.confidentiality.clone(),
        }
    }
}

impl AgreementContent {
    /// Checks what was typed; `time_and_place` comes from the case's regular slot.
    pub fn parse(input: &AgreementInput, time_and_place: &str) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let core_inputs = [
            ("not_hurting_yourself", &input.not_hurting_yourself),
            (
                "not_hurting_the_therapist",
                &input.not_hurting_the_therapist,
            ),
            ("not_damaging_the_room", &input.not_damaging_the_room),
        ];
        let mut rules = Vec::new();
        for ((field, raw), (code, _)) in core_inputs.into_iter().zip(CORE_RULES) {
            let parsed = parse_text(raw, 1, 300).map_err(|e| {
                if raw.trim().is_empty() {
                    "Every agreement keeps this rule: write it in the child's words".to_owned()
                } else {
                    e
                }
            });
            if let Some(text) = v.check(field, parsed) {
                rules.push(GroundRule {
                    core: Some(code.to_owned()),
                    text,
                });
            }
        }
        let added: Vec<&str> = input
            .added_rules
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if added.len() > MAX_ADDED_RULES {
            v.check::<()>(
                "added_rules",
                Err(format!("Add at most {MAX_ADDED_RULES} rules")),
            );
        } else {
            for line in added {
                if let Some(text) = v.check("added_rules", parse_text(line, 1, 300)) {
                    rules.push(GroundRule { core: None, text });
                }
            }
        }
        let confidentiality = v.check(
            "confidentiality",
            parse_text(&input.confidentiality, 1, 2000).map_err(|e| {
                if input.confidentiality.trim().is_empty() {
                    "Write what confidentiality means for this child".to_owned()
                } else {
                    e
                }
            }),
        );
        v.finish()?;
        Ok(Self {
            rules,
            confidentiality: confidentiality.unwrap_or_default(),
            time_and_place: time_and_place.to_owned(),
        })
    }
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgreementStatus {
    /// Written, not (yet) agreed.
    Draft,
    /// The agreement in force.
    Active,
    /// Replaced by a later active version (kept).
    Superseded,
}

impl AgreementStatus {
    pub fn code(self) -> &'static str {
        match self {
            AgreementStatus::Draft => "draft",
            AgreementStatus::Active => "active",
            AgreementStatus::Superseded => "superseded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AgreementStatus::Draft => "Draft",
            AgreementStatus::Active => "Active",
            AgreementStatus::Superseded => "Superseded",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        match code {
            "draft" => Ok(AgreementStatus::Draft),
            "active" => Ok(AgreementStatus::Active),
            "superseded" => Ok(AgreementStatus::Superseded),
            _ => Err(format!("unknown agreement status {code:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_rules_stay_in_the_childs_words_and_others_may_be_added() {
        let mut input = AgreementInput::starting_point("What you say stays here, unless…");
        input.not_hurting_yourself = "No hurting me (Millie)".into();
        input.added_rules = "We tidy up together\n\n  Shoes off on the rug  \n".into();
        let content = AgreementContent::parse(&input, "Tuesdays at 10:00")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(content.rules.len(), 5);
        assert_eq!(content.rules[0].text, "No hurting me (Millie)");
        assert_eq!(content.rules[4].text, "Shoes off on the rug");
        assert_eq!(content.rules[4].core, None);
        assert_eq!(AgreementInput::from_content(&content), {
            let mut again = input.clone();
            again.added_rules = "We tidy up together\nShoes off on the rug".into();
            again
        });
    }

    #[test]
    fn a_core_rule_cannot_be_dropped_and_confidentiality_is_needed() {
        let mut input = AgreementInput::starting_point("");
        input.not_damaging_the_room = "  ".into();
        input.added_rules = "x\n".repeat(MAX_ADDED_RULES + 1);
        let errors = AgreementContent::parse(&input, "")
            .err()
            .map(|e| e.errors)
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["not_damaging_the_room", "added_rules", "confidentiality"]
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            AgreementStatus::Draft,
            AgreementStatus::Active,
            AgreementStatus::Superseded,
        ] {
            assert_eq!(AgreementStatus::parse(s.code()), Ok(s));
        }
    }
}
