//! A young person's safety plan in their own words (issue 16): warning signs, ways of coping,
//! people and places, professionals and services, making their surroundings safer, with a
//! review date. No IO.
//!
//! The sections are Stanley and Brown's (2012) safety planning intervention, in the words a
//! young person uses: the warning signs that a crisis may be coming; ways of coping on my
//! own; people and places that help me feel better; people I can ask for help; professionals
//! and services (with their numbers; the national ones are offered by default: Childline,
//! Samaritans, Shout, NHS 111 and 999); making my surroundings safer; and, if they want to
//! say it, a reason for living. The plan records whom it was written with and when, and the
//! date it is next reviewed (by default four weeks on: [`Settings::review_weeks`], a service
//! setting).
//!
//! A plan is clinical record (policy section 1): sealed under the child's clinical key, and
//! read and written as the clinical row of the matrix says ([`may_read`], [`may_write`]): the
//! lead and co-worker (and cover) write; a supervisor reads it pseudonymised; the DSL reads
//! only what is linked to a concern, and a plan is never linked, so the DSL does not read it
//! (the panel's summary is theirs, as the emergency panel's row says); the parent-worker,
//! the service lead, administrators, staff and other therapists do not. Each writing is a
//! new version; the old ones stay readable to those who may read the plan.

use crate::access::Access;
use crate::directory::{parse_optional_phone, uuid_id};
use crate::error::{Invalid, Validator, parse_line, parse_optional_date, parse_optional_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

uuid_id!(SafetyPlanId, "a safety plan");

/// A professional or service to call or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// The number to call (or to text, when `text`).
    pub number: String,
    /// Reached by text message rather than a call (Shout).
    #[serde(default)]
    pub text: bool,
}

impl Service {
    /// The link that calls or texts the number: `tel:` or `sms:`.
    pub fn href(&self) -> String {
        let tel = crate::emergency::tel_href(&self.number);
        if self.text {
            tel.replacen("tel:", "sms:", 1)
        } else {
            tel
        }
    }

    /// One line of the form: `Name: number`, or `Name: text number`.
    pub fn line(&self) -> String {
        if self.text {
            format!("{}: text {}", self.name, self.number)
        } else {
            format!("{}: {}", self.name, self.number)
        }
    }

    /// One line as typed: `Name: number` or `Name: text number`.
    pub fn parse_line(raw: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "Write each as a name, a colon and the number: \"{}\"",
                raw.trim()
            )
        };
        let (name, rest) = raw.trim().rsplit_once(':').ok_or_else(bad)?;
        let name = parse_line(name, 1, 120).map_err(|_| bad())?;
        let rest = rest.trim();
        let (text, number) = match rest.strip_prefix("text ") {
            Some(n) => (true, n.trim()),
            None => (false, rest),
        };
        let number = parse_optional_phone(number)
            .map_err(|_| format!("{name}: enter a telephone number, like 0800 1111"))?
            .ok_or_else(bad)?;
        Ok(Self { name, number, text })
    }
}

/// The services offered on every new plan.
pub fn default_services() -> Vec<Service> {
    let s = |name: &str, number: &str, text: bool| Service {
        name: name.to_owned(),
        number: number.to_owned(),
        text,
    };
    vec![
        s("Childline", "0800 1111", false),
        s("Samaritans", "116 123", false),
        s("Shout (text SHOUT)", "85258", true),
        s("NHS 111", "111", false),
        s("Emergency", "999", false),
    ]
}

/// The plan, in the young person's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyPlan {
    /// Warning signs that a crisis may be coming.
    pub warning_signs: String,
    /// Ways of coping on my own.
    pub coping: String,
    /// People and places that help me feel better.
    pub people_and_places: Option<String>,
    /// People I can ask for help.
    pub people_to_ask: Option<String>,
    /// Professionals and services, with their numbers.
    pub services: Vec<Service>,
    /// Making my surroundings safer.
    pub safer_surroundings: Option<String>,
    /// A reason for living, if the young person wants to write one.
    pub reason_for_living: Option<String>,
    /// Whom it was written with (the therapist, the young person, a carer…).
    pub written_with: String,
    pub written_on: Date,
    pub review_on: Date,
}

/// A plan as typed (a form or the API). `services` is one per line.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SafetyPlanInput {
    #[serde(default)]
    pub warning_signs: String,
    #[serde(default)]
    pub coping: String,
    #[serde(default)]
    pub people_and_places: String,
    #[serde(default)]
    pub people_to_ask: String,
    #[serde(default)]
    pub services: String,
    #[serde(default)]
    pub safer_surroundings: String,
    #[serde(default)]
    pub reason_for_living: String,
    #[serde(default)]
    pub written_with: String,
    /// Empty: today.
    #[serde(default)]
    pub written_on: String,
    /// Empty: the service's review interval after it was written.
    #[serde(default)]
    pub review_on: String,
}

/// The longest a plan may go before its review.
const LONGEST_REVIEW_DAYS: i32 = 183;

impl SafetyPlan {
    pub fn parse(
        input: &SafetyPlanInput,
        today: Date,
        settings: &Settings,
    ) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let section = |raw: &str| parse_optional_text(raw, 4000);
        let warning_signs = v.check(
            "warning_signs",
            crate::error::parse_text(&input.warning_signs, 1, 4000)
                .map_err(|_| "Write the warning signs, in the young person's words".to_owned()),
        );
        let coping = v.check(
            "coping",
            crate::error::parse_text(&input.coping, 1, 4000)
                .map_err(|_| "Write at least one way of coping on their own".to_owned()),
        );
        let people_and_places = v.check("people_and_places", section(&input.people_and_places));
        let people_to_ask = v.check("people_to_ask", section(&input.people_to_ask));
        let safer_surroundings = v.check("safer_surroundings", section(&input.safer_surroundings));
        let reason_for_living = v.check("reason_for_living", section(&input.reason_for_living));
        let mut services = Vec::new();
        let mut service_error = None;
        for line in input.services.lines().filter(|l| !l.trim().is_empty()) {
            match Service::parse_line(line) {
                Ok(s) => services.push(s),
                Err(e) => {
                    service_error.get_or_insert(e);
                }
            }
        }
        if services.is_empty() && service_error.is_none() {
            service_error = Some("Name at least one service to call, such as Childline".into());
        }
        if services.len() > 30 {
            service_error = Some("At most 30 services".into());
        }
        if let Some(e) = service_error {
            v.check::<()>("services", Err(e));
        }
        let written_with = v.check(
            "written_with",
            parse_line(&input.written_with, 1, 200)
                .map_err(|_| "Say whom the plan was written with".to_owned()),
        );
        let written_on = v.check(
            "written_on",
            parse_optional_date(&input.written_on).and_then(|d| match d {
                None => Ok(today),
                Some(d) if d > today => Err("This date cannot be in the future".to_owned()),
                Some(d) => Ok(d),
            }),
        );
        let review_on = match written_on {
            Some(written) => v.check(
                "review_on",
                parse_optional_date(&input.review_on).and_then(|d| {
                    let d = d.unwrap_or_else(|| settings.review_after(written));
                    if d <= written {
                        Err("The review must come after the plan was written".to_owned())
                    } else if d < today {
                        Err("The review date has passed: choose a date from today".to_owned())
                    } else if (d - written).get_days() > LONGEST_REVIEW_DAYS
                        || d > written.saturating_add(jiff::Span::new().months(6))
                    {
                        Err("Review the plan within six months".to_owned())
                    } else {
                        Ok(d)
                    }
                }),
            ),
            None => None,
        };
        v.finish()?;
        match (
            warning_signs,
            coping,
            people_and_places,
            people_to_ask,
            safer_surroundings,
            reason_for_living,
            written_with,
            written_on,
            review_on,
        ) {
            (
                Some(warning_signs),
                Some(coping),
                Some(people_and_places),
                Some(people_to_ask),
                Some(safer_surroundings),
                Some(reason_for_living),
                Some(written_with),
                Some(written_on),
                Some(review_on),
            ) => Ok(Self {
                warning_signs,
                coping,
                people_and_places,
                people_to_ask,
                services,
                safer_surroundings,
                reason_for_living,
                written_with,
                written_on,
                review_on,
            }),
            _ => Err(Invalid::field("warning_signs", "Write the plan")),
        }
    }

    /// The services as the form's lines.
    pub fn services_text(services: &[Service]) -> String {
        services
            .iter()
            .map(Service::line)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What the emergency panel shows of it.
    pub fn summary(&self) -> crate::emergency::PlanSummary {
        crate::emergency::PlanSummary {
            review_on: self.review_on,
            warning_signs: self.warning_signs.clone(),
            people_to_ask: self.people_to_ask.clone().unwrap_or_default(),
            services: self.services.clone(),
        }
    }
}

/// The service's settings for safety plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Weeks from writing to the review, when none is chosen (4 by default).
    pub review_weeks: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Self { review_weeks: 4 }
    }
}

impl Settings {
    pub fn check(&self) -> Result<(), Invalid> {
        if (1..=26).contains(&self.review_weeks) {
            Ok(())
        } else {
            Err(Invalid::field(
                "review_weeks",
                "Review a safety plan within 1 to 26 weeks",
            ))
        }
    }

    /// The default review date of a plan written on `written`.
    pub fn review_after(&self, written: Date) -> Date {
        written.saturating_add(jiff::Span::new().weeks(i64::from(self.review_weeks)))
    }
}

/// Whether clinical access `access` reads safety plans: full or pseudonymised read. The DSL's
/// share (`Limit::LinkedToConcern`) does not reach a plan, which is never linked to a concern;
/// nor does the parent-worker's.
pub fn may_read(access: Access) -> bool {
    access.may_read()
}

/// Whether clinical access `access` writes safety plans (the lead, co-worker and cover on an
/// open case).
pub fn may_write(access: Access) -> bool {
    access.may_write()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Limit;
    use jiff::civil::date;

    fn input() -> SafetyPlanInput {
        SafetyPlanInput {
            warning_signs: "I stop answering my phone and stay in my room".into(),
            coping: "Music with headphones; drawing".into(),
            people_to_ask: "Nan (07700 900456)".into(),
            services: SafetyPlan::services_text(&default_services()),
            written_with: "Alex (my therapist)".into(),
            ..SafetyPlanInput::default()
        }
    }

    fn fields(i: Invalid) -> Vec<String> {
        i.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_review_is_four_weeks_on_unless_chosen() {
        let today = date(2026, 12, 1);
        let plan = SafetyPlan::parse(&input(), today, &Settings::default()).ok();
        assert_eq!(plan.as_ref().map(|p| p.review_on), Some(date(2026, 12, 29)));
        assert_eq!(plan.as_ref().map(|p| p.written_on), Some(today));
        assert_eq!(plan.map(|p| p.services.len()), Some(5));
        let two = Settings { review_weeks: 2 };
        let plan = SafetyPlan::parse(&input(), today, &two).ok();
        assert_eq!(plan.map(|p| p.review_on), Some(date(2026, 12, 15)));
        let mut chosen = input();
        chosen.review_on = "15/01/2027".into();
        let plan = SafetyPlan::parse(&chosen, today, &Settings::default()).ok();
        assert_eq!(plan.map(|p| p.review_on), Some(date(2027, 1, 15)));
        for bad in ["01/12/2026", "30/11/2026", "01/07/2027"] {
            chosen.review_on = bad.into();
            let refused = SafetyPlan::parse(&chosen, today, &Settings::default()).err();
            assert_eq!(
                refused.map(fields),
                Some(vec!["review_on".to_owned()]),
                "{bad}"
            );
        }
        assert!(Settings { review_weeks: 0 }.check().is_err());
        assert!(Settings::default().check().is_ok());
    }

    #[test]
    fn a_plan_needs_its_signs_its_coping_a_service_and_whom_it_was_written_with() {
        let today = date(2026, 12, 1);
        let empty = SafetyPlan::parse(&SafetyPlanInput::default(), today, &Settings::default());
        assert_eq!(
            empty.err().map(fields),
            Some(vec![
                "warning_signs".to_owned(),
                "coping".to_owned(),
                "services".to_owned(),
                "written_with".to_owned()
            ])
        );
        let mut bad = input();
        bad.services = "Childline 0800 1111".into();
        let refused = SafetyPlan::parse(&bad, today, &Settings::default()).err();
        assert_eq!(refused.map(fields), Some(vec!["services".to_owned()]));
        bad.services = "Childline: call them".into();
        assert!(SafetyPlan::parse(&bad, today, &Settings::default()).is_err());
    }

    #[test]
    fn services_call_or_text() {
        let services = default_services();
        assert_eq!(services[0].href(), "tel:08001111");
        assert_eq!(services[2].href(), "sms:85258");
        for s in &services {
            assert_eq!(Service::parse_line(&s.line()).as_ref(), Ok(s));
        }
    }

    #[test]
    fn the_clinical_row_decides_who_reads_and_writes() {
        assert!(may_write(Access::Write));
        assert!(may_read(Access::Write));
        assert!(may_read(Access::Pseudonymised)); // the supervisor
        assert!(!may_write(Access::Read)); // a closed case
        for denied in [
            Access::None,
            Access::Limited(Limit::LinkedToConcern),
            Access::Limited(Limit::SharedWithParentWorker),
        ] {
            assert!(!may_read(denied), "{denied:?}");
        }
    }
}
