//! Supervision records (clinical-facts section 6.3): the date, the supervisor, the cases
//! discussed (by case number, never a name), the actions agreed and the time, so a therapist
//! can show the supervision their professional body asks for. A supervisor writes them for
//! their own supervisees; each therapist reads their own.

use crate::error::{Invalid, Validator, parse_date, parse_optional_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A supervision as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionInput {
    /// The supervisee's user id.
    #[serde(default)]
    pub supervisee: String,
    /// `31/12/2026` or `2026-12-31`.
    #[serde(default)]
    pub held_on: String,
    /// How long, in minutes.
    #[serde(default)]
    pub minutes: String,
    /// Case numbers (`C00042`), separated by commas, spaces or lines.
    #[serde(default)]
    pub cases: String,
    #[serde(default)]
    pub actions: String,
    /// Group supervision (counted as the body's rules say; recorded, not weighted here).
    #[serde(default)]
    pub group: bool,
}

/// A supervision as checked. The actions are sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervision {
    pub held_on: Date,
    pub minutes: u32,
    pub cases: Vec<String>,
    pub actions: Option<String>,
    pub group: bool,
}

/// A case number as staff type it: `C00042`, `c42` or `42`.
pub fn parse_case_number(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let digits = t.strip_prefix(['C', 'c']).unwrap_or(t);
    match digits.parse::<i64>() {
        Ok(n) if (1..=99_999_999).contains(&n) && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(crate::cases::case_number_label(n))
        }
        _ => Err(format!("{t:?} is not a case number (like C00042)")),
    }
}

impl Supervision {
    pub fn parse(input: &SupervisionInput, today: Date) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let held_on = v.check(
            "held_on",
            parse_date(&input.held_on).and_then(|d| {
                if d > today {
                    Err("The date cannot be in the future".to_owned())
                } else {
                    Ok(d)
                }
            }),
        );
        let minutes = v.check(
            "minutes",
            input
                .minutes
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|m| (5..=600).contains(m))
                .ok_or_else(|| "Enter the minutes, from 5 to 600".to_owned()),
        );
        let mut cases = Vec::new();
        for raw in input
            .cases
            .split([',', ' ', '\n', '\r', ';'])
            .filter(|s| !s.trim().is_empty())
        {
            if let Some(n) = v.check("cases", parse_case_number(raw))
                && !cases.contains(&n)
            {
                cases.push(n);
            }
        }
        let actions = v.check("actions", parse_optional_text(&input.actions, 4000));
        v.finish()?;
        match (held_on, minutes, actions) {
            (Some(held_on), Some(minutes), Some(actions)) => Ok(Self {
                held_on,
                minutes,
                cases,
                actions,
                group: input.group,
            }),
            _ => Err(Invalid::field("held_on", "Check the form")),
        }
    }
}

/// Hours and minutes in words: `1 hour 30 minutes`, `45 minutes`.
pub fn duration_text(minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let hours = match h {
        0 => String::new(),
        1 => "1 hour".to_owned(),
        n => format!("{n} hours"),
    };
    match (hours.is_empty(), m) {
        (true, m) => format!("{m} minutes"),
        (false, 0) => hours,
        (false, m) => format!("{hours} {m} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_supervision_names_cases_by_number_only() {
        let s = Supervision::parse(
            &SupervisionInput {
                supervisee: "x".into(),
                held_on: "25/11/2026".into(),
                minutes: "90".into(),
                cases: "C00042, c7\n42".into(),
                actions: "Review the ending plan".into(),
                group: false,
            },
            date(2026, 11, 30),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.cases, vec!["C00042", "C00007"]);
        assert_eq!(s.minutes, 90);
        assert_eq!(duration_text(s.minutes), "1 hour 30 minutes");
        assert_eq!(duration_text(45), "45 minutes");
        assert_eq!(duration_text(120), "2 hours");
    }

    #[test]
    fn bad_supervisions_name_every_field() {
        let errors = Supervision::parse(
            &SupervisionInput {
                held_on: "01/01/2030".into(),
                minutes: "0".into(),
                cases: "Millie Clarke".into(),
                ..SupervisionInput::default()
            },
            date(2026, 11, 30),
        )
        .err()
        .map(|e| e.errors)
        .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["held_on", "minutes", "cases", "cases"]);
    }
}
