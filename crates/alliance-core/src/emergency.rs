//! A child's emergency details and the emergency panel (issue 16, policy section 1): who may
//! and may not collect (built on the child's carers), medical needs and allergies, and what
//! each reader of the panel may see. No IO.
//!
//! Who may collect is kept on each carer (`children::CarerDetails::may_collect`, a defaulted
//! field, so carers stored before it existed read as "not decided"), not in a second list of
//! people. A carer with the "no contact at all" restriction may never be marked as one who
//! may collect (`CarerDetails::parse` refuses it) and always shows as one who may not, whatever
//! was stored. Everything else lives in [`EmergencyDetails`], sealed under the child's
//! identity key: medical needs, allergies with their severity and what to do, medication kept
//! on site, the GP, and people who may not collect who are not carers (a barred person often
//! is not), each with where the bar comes from.
//!
//! The panel ([`Panel::build`]) shows exactly what `access::child_access(…,
//! ChildData::EmergencyPanel)` allows: a full reader (the case team, cover while it lasts,
//! the DSL, the service lead) sees who may and may not collect, the emergency contacts,
//! medical needs and allergies, and the safety plan's summary; an administrator
//! (`Limit::ContactsAndMedical`) sees the contacts and the medical part only, never who may
//! collect nor the safety plan. Restrictions show as their kinds, never their documents.

use crate::access::{Access, Limit};
use crate::children::{CarerDetails, RestrictionKind};
use crate::error::{Invalid, Validator, parse_line, parse_optional_line, parse_optional_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Whether a carer may collect the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Collect {
    MayCollect,
    MayNotCollect,
    /// Nobody has said (every carer stored before issue 16).
    #[default]
    NotDecided,
}

impl Collect {
    pub const ALL: [Collect; 3] = [
        Collect::MayCollect,
        Collect::MayNotCollect,
        Collect::NotDecided,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Collect::MayCollect => "may-collect",
            Collect::MayNotCollect => "may-not-collect",
            Collect::NotDecided => "not-decided",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Collect::MayCollect => "May collect the child",
            Collect::MayNotCollect => "May not collect the child",
            Collect::NotDecided => "Not decided",
        }
    }

    /// A code; empty means not decided.
    pub fn parse(code: &str) -> Result<Self, String> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(Collect::NotDecided);
        }
        Self::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| "Choose may-collect, may-not-collect or not-decided".to_owned())
    }
}

/// Whether a carer may collect the child, as the panel shows it: a carer with no contact at
/// all may not, whatever was stored.
pub fn collects(carer: &CarerDetails) -> Collect {
    if carer.has_restriction(RestrictionKind::NoContact) {
        Collect::MayNotCollect
    } else {
        carer.may_collect
    }
}

/// Whether the service may contact a carer in an emergency: the carer allows contact and no
/// restriction forbids it.
pub fn contactable(carer: &CarerDetails) -> bool {
    carer.may_contact && !carer.has_restriction(RestrictionKind::NoContact)
}

/// How serious an allergy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Mild,
    Moderate,
    /// Anaphylaxis: call 999.
    Severe,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Mild, Severity::Moderate, Severity::Severe];

    pub fn code(self) -> &'static str {
        match self {
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Mild => "Mild",
            Severity::Moderate => "Moderate",
            Severity::Severe => "Severe (anaphylaxis)",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code.trim())
            .ok_or_else(|| "Choose mild, moderate or severe".to_owned())
    }
}

/// An allergy: to what, how serious, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allergy {
    pub what: String,
    pub severity: Severity,
    /// What to do (for example "Adrenaline pen in the office; call 999").
    pub action: String,
}

/// Where a bar on collecting the child comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BarSource {
    CourtOrder,
    SafeguardingDecision,
    /// The child's parent or carer has told the service in writing.
    CarersInstruction,
}

impl BarSource {
    pub const ALL: [BarSource; 3] = [
        BarSource::CourtOrder,
        BarSource::SafeguardingDecision,
        BarSource::CarersInstruction,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BarSource::CourtOrder => "court-order",
            BarSource::SafeguardingDecision => "safeguarding-decision",
            BarSource::CarersInstruction => "carers-instruction",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BarSource::CourtOrder => "Court order",
            BarSource::SafeguardingDecision => "Safeguarding decision",
            BarSource::CarersInstruction => "Written instruction from a carer",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code.trim())
            .ok_or_else(|| {
                "Choose court-order, safeguarding-decision or carers-instruction".to_owned()
            })
    }
}

/// Someone who may not collect the child and is not one of the child's carers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarredPerson {
    pub name: String,
    /// Their relationship to the child, if known.
    pub relationship: Option<String>,
    pub source: BarSource,
}

/// A child's emergency details beyond the carers, sealed under the child's identity key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyDetails {
    #[serde(default)]
    pub medical_needs: Option<String>,
    #[serde(default)]
    pub allergies: Vec<Allergy>,
    /// Medication kept on site, and where.
    #[serde(default)]
    pub medication: Option<String>,
    /// The GP practice and its telephone number.
    #[serde(default)]
    pub gp: Option<String>,
    #[serde(default)]
    pub barred: Vec<BarredPerson>,
}

/// One allergy as typed (a form row or the API).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AllergyInput {
    #[serde(default)]
    pub what: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub action: String,
}

/// One barred person as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BarredInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub relationship: String,
    #[serde(default)]
    pub source: String,
}

/// The emergency details as typed. Empty rows are skipped.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EmergencyInput {
    #[serde(default)]
    pub medical_needs: String,
    #[serde(default)]
    pub allergies: Vec<AllergyInput>,
    #[serde(default)]
    pub medication: String,
    #[serde(default)]
    pub gp: String,
    #[serde(default)]
    pub barred: Vec<BarredInput>,
}

/// At most this many allergies or barred people.
const MOST_ROWS: usize = 20;

impl EmergencyDetails {
    /// Checks the details field by field (`allergies[0].severity`, `barred[1].name`, …).
    pub fn parse(input: &EmergencyInput) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let medical_needs = v.check(
            "medical_needs",
            parse_optional_text(&input.medical_needs, 2000),
        );
        let medication = v.check("medication", parse_optional_text(&input.medication, 1000));
        let gp = v.check("gp", parse_optional_text(&input.gp, 300));
        let mut allergies = Vec::new();
        let rows = input
            .allergies
            .iter()
            .filter(|a| !(a.what.trim().is_empty() && a.action.trim().is_empty()));
        for (i, a) in rows.enumerate() {
            if i >= MOST_ROWS {
                v.check::<()>("allergies", Err(format!("At most {MOST_ROWS} allergies")));
                break;
            }
            let what = v.check(&format!("allergies[{i}].what"), parse_line(&a.what, 1, 120));
            let severity = v.check(
                &format!("allergies[{i}].severity"),
                Severity::parse(&a.severity),
            );
            let action = v.check(
                &format!("allergies[{i}].action"),
                crate::error::parse_text(&a.action, 1, 500)
                    .map_err(|_| "Say what to do if it happens".to_owned()),
            );
            if let (Some(what), Some(severity), Some(action)) = (what, severity, action) {
                allergies.push(Allergy {
                    what,
                    severity,
                    action,
                });
            }
        }
        let mut barred = Vec::new();
        let rows = input
            .barred
            .iter()
            .filter(|b| !(b.name.trim().is_empty() && b.source.trim().is_empty()));
        for (i, b) in rows.enumerate() {
            if i >= MOST_ROWS {
                v.check::<()>("barred", Err(format!("At most {MOST_ROWS} people")));
                break;
            }
            let name = v.check(&format!("barred[{i}].name"), parse_line(&b.name, 1, 120));
            let relationship = v.check(
                &format!("barred[{i}].relationship"),
                parse_optional_line(&b.relationship, 60),
            );
            let source = v.check(&format!("barred[{i}].source"), BarSource::parse(&b.source));
            if let (Some(name), Some(relationship), Some(source)) = (name, relationship, source) {
                barred.push(BarredPerson {
                    name,
                    relationship,
                    source,
                });
            }
        }
        v.finish()?;
        Ok(Self {
            medical_needs: medical_needs.flatten(),
            allergies,
            medication: medication.flatten(),
            gp: gp.flatten(),
            barred,
        })
    }
}

/// Which parts of the panel a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelParts {
    /// Who may and may not collect.
    pub collection: bool,
    /// Emergency contacts (and those not to contact).
    pub contacts: bool,
    /// Medical needs, allergies, medication, GP.
    pub medical: bool,
    /// The safety plan's summary.
    pub safety_plan: bool,
}

/// The parts of the panel `access` (to `ChildData::EmergencyPanel`) opens; `None` when it
/// opens nothing (the panel is then "not found").
pub fn parts(access: Access) -> Option<PanelParts> {
    match access {
        Access::Limited(Limit::ContactsAndMedical) => Some(PanelParts {
            collection: false,
            contacts: true,
            medical: true,
            safety_plan: false,
        }),
        a if a.may_read() => Some(PanelParts {
            collection: true,
            contacts: true,
            medical: true,
            safety_plan: true,
        }),
        _ => None,
    }
}

/// A person who may collect, or may not, as the panel lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectLine {
    pub name: String,
    pub relationship: String,
    /// Where the bar comes from, or the carer's restrictions' kinds (never their documents).
    pub why: Vec<String>,
}

/// An emergency contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactLine {
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    pub has_parental_responsibility: bool,
    /// Shown as "do not contact" (no contact at all, or the service may not contact them).
    pub do_not_contact: bool,
}

/// The safety plan's summary on the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub review_on: Date,
    pub warning_signs: String,
    pub people_to_ask: String,
    /// Professionals and services, with their numbers.
    pub services: Vec<crate::safety_plans::Service>,
}

/// The panel as one reader may see it; absent parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub may_collect: Option<Vec<CollectLine>>,
    pub may_not_collect: Option<Vec<CollectLine>>,
    /// Carers nobody has decided about (so the reader checks before handing the child over).
    pub not_decided: Option<Vec<CollectLine>>,
    pub contacts: Option<Vec<ContactLine>>,
    pub medical: Option<EmergencyDetails>,
    /// `Some(None)`: the reader may see a plan's summary but there is none.
    pub safety_plan: Option<Option<PlanSummary>>,
}

impl Panel {
    /// The panel from the child's active carers, their emergency details and the current
    /// safety plan's summary, cut to `parts`.
    pub fn build(
        parts: PanelParts,
        carers: &[CarerDetails],
        details: &EmergencyDetails,
        plan: Option<PlanSummary>,
    ) -> Self {
        let kinds = |c: &CarerDetails| -> Vec<String> {
            c.restrictions
                .iter()
                .map(|r| r.kind.label().to_owned())
                .collect()
        };
        let line = |c: &CarerDetails| CollectLine {
            name: c.name.clone(),
            relationship: c.relationship.clone(),
            why: kinds(c),
        };
        let with = |which: Collect| -> Vec<CollectLine> {
            carers
                .iter()
                .filter(|c| collects(c) == which)
                .map(line)
                .collect()
        };
        let mut may_not = with(Collect::MayNotCollect);
        may_not.extend(details.barred.iter().map(|b| CollectLine {
            name: b.name.clone(),
            relationship: b.relationship.clone().unwrap_or_default(),
            why: vec![b.source.label().to_owned()],
        }));
        let contacts = carers
            .iter()
            .map(|c| ContactLine {
                name: c.name.clone(),
                relationship: c.relationship.clone(),
                phone: if contactable(c) {
                    c.phone.clone()
                } else {
                    None
                },
                has_parental_responsibility: c.parental_responsibility.is_some(),
                do_not_contact: !contactable(c),
            })
            .collect();
        Self {
            may_collect: parts.collection.then(|| with(Collect::MayCollect)),
            may_not_collect: parts.collection.then_some(may_not),
            not_decided: parts.collection.then(|| with(Collect::NotDecided)),
            contacts: parts.contacts.then_some(contacts),
            medical: parts.medical.then(|| details.clone()),
            safety_plan: parts.safety_plan.then_some(plan),
        }
    }
}

/// A telephone number as a `tel:` link's target: its digits and a leading `+`.
pub fn tel_href(phone: &str) -> String {
    let mut out = String::from("tel:");
    for (i, c) in phone.trim().chars().enumerate() {
        if c.is_ascii_digit() || (i == 0 && c == '+') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::children::{
        CarerInput, ParentalResponsibility, Restriction, RestrictionInput, RestrictionSource,
    };
    use jiff::civil::date;

    fn carer(name: &str, collect: Collect) -> CarerDetails {
        CarerDetails {
            name: name.into(),
            relationship: "Mother".into(),
            parental_responsibility: Some(ParentalResponsibility::Parent),
            day_to_day_care: true,
            phone: Some("07700 900123".into()),
            email: None,
            address: None,
            may_contact: true,
            restrictions: vec![],
            may_collect: collect,
        }
    }

    fn no_contact(name: &str, stored: Collect) -> CarerDetails {
        let mut c = carer(name, stored);
        c.relationship = "Father".into();
        c.restrictions.push(Restriction {
            kind: RestrictionKind::NoContact,
            source: RestrictionSource::CourtOrder,
            dated: date(2025, 5, 12),
            reference: Some("Non-molestation order LS25F00012".into()),
        });
        c
    }

    fn details() -> EmergencyDetails {
        EmergencyDetails {
            medical_needs: Some("Asthma".into()),
            allergies: vec![Allergy {
                what: "Peanuts".into(),
                severity: Severity::Severe,
                action: "Adrenaline pen in the office; call 999".into(),
            }],
            medication: Some("Blue inhaler in the office".into()),
            gp: Some("Larch Surgery, 0113 496 0456".into()),
            barred: vec![BarredPerson {
                name: "Jordan Fox".into(),
                relationship: Some("Mother's former partner".into()),
                source: BarSource::CourtOrder,
            }],
        }
    }

    fn summary() -> PlanSummary {
        PlanSummary {
            review_on: date(2026, 12, 29),
            warning_signs: "I stop eating".into(),
            people_to_ask: "Nan".into(),
            services: crate::safety_plans::default_services(),
        }
    }

    #[test]
    fn a_no_contact_carer_may_not_be_marked_as_collecting() {
        let today = date(2026, 11, 30);
        let mut input = CarerInput {
            name: "Sam Clarke".into(),
            relationship: "Father".into(),
            may_contact: false,
            may_collect: "may-collect".into(),
            restrictions: vec![RestrictionInput {
                kind: "no-contact".into(),
                source: "court-order".into(),
                dated: "12/05/2025".into(),
                reference: String::new(),
            }],
            ..CarerInput::default()
        };
        let refused = CarerDetails::parse(&input, today).err();
        assert_eq!(
            refused.map(|i| i.errors.into_iter().map(|e| e.field).collect::<Vec<_>>()),
            Some(vec!["may_collect".to_owned()])
        );
        input.may_collect = "may-not-collect".into();
        assert!(CarerDetails::parse(&input, today).is_ok());
        input.may_collect = "sometimes".into();
        assert!(CarerDetails::parse(&input, today).is_err());
        input.may_collect = String::new();
        let parsed = CarerDetails::parse(&input, today).ok();
        assert_eq!(parsed.map(|c| c.may_collect), Some(Collect::NotDecided));
    }

    #[test]
    fn a_no_contact_carer_shows_as_may_not_collect_whatever_was_stored() {
        // Stored before the rule, or written around it: the panel still says no.
        let c = no_contact("Sam Clarke", Collect::MayCollect);
        assert_eq!(collects(&c), Collect::MayNotCollect);
        assert!(!contactable(&c));
        let panel = Panel::build(
            parts(Access::Read).unwrap_or(PanelParts {
                collection: false,
                contacts: false,
                medical: false,
                safety_plan: false,
            }),
            &[c],
            &EmergencyDetails::default(),
            None,
        );
        assert_eq!(panel.may_collect.map(|l| l.len()), Some(0));
        let barred = panel.may_not_collect.unwrap_or_default();
        assert_eq!(barred.len(), 1);
        // The restriction's kind, never its document.
        assert_eq!(barred[0].why, vec!["No contact at all".to_owned()]);
        let contacts = panel.contacts.unwrap_or_default();
        assert!(contacts[0].do_not_contact);
        assert_eq!(contacts[0].phone, None);
    }

    #[test]
    fn stored_carers_without_the_field_decode_as_not_decided() {
        let json = r#"{"name":"Sam Clarke","relationship":"Father","parental_responsibility":"parent",
            "day_to_day_care":true,"phone":null,"email":null,"address":null,"may_contact":true,
            "restrictions":[]}"#;
        let c: Result<CarerDetails, _> = serde_json::from_str(json);
        assert_eq!(c.ok().map(|c| c.may_collect), Some(Collect::NotDecided));
    }

    #[test]
    fn each_reader_sees_their_part_of_the_panel() {
        let carers = [
            carer("Jo Clarke", Collect::MayCollect),
            no_contact("Sam Clarke", Collect::NotDecided),
            carer("Pat Clarke", Collect::NotDecided),
        ];
        // The team, cover, the DSL, the service lead: everything.
        let full =
            parts(Access::Read).map(|p| Panel::build(p, &carers, &details(), Some(summary())));
        let full = full.unwrap_or_else(|| panic!("a reader sees the panel"));
        assert_eq!(
            full.may_collect
                .map(|l| l.into_iter().map(|c| c.name).collect::<Vec<_>>()),
            Some(vec!["Jo Clarke".to_owned()])
        );
        assert_eq!(
            full.may_not_collect
                .map(|l| l.into_iter().map(|c| c.name).collect::<Vec<_>>()),
            Some(vec!["Sam Clarke".to_owned(), "Jordan Fox".to_owned()])
        );
        assert_eq!(full.not_decided.map(|l| l.len()), Some(1));
        assert_eq!(full.safety_plan, Some(Some(summary())));
        assert_eq!(full.medical.map(|m| m.allergies.len()), Some(1));
        // Writers read too.
        assert!(parts(Access::Write).is_some_and(|p| p.safety_plan));
        // An administrator: contacts and medical only, never who may collect nor the plan.
        let admin = parts(Access::Limited(Limit::ContactsAndMedical))
            .map(|p| Panel::build(p, &carers, &details(), Some(summary())));
        let admin = admin.unwrap_or_else(|| panic!("an administrator sees part"));
        assert_eq!(admin.may_collect, None);
        assert_eq!(admin.may_not_collect, None);
        assert_eq!(admin.not_decided, None);
        assert_eq!(admin.safety_plan, None);
        assert_eq!(admin.contacts.map(|c| c.len()), Some(3));
        assert!(admin.medical.is_some());
        // Nobody else: no panel at all.
        for denied in [
            Access::None,
            Access::Limited(Limit::OwnEntries),
            Access::Limited(Limit::OwnSessions),
        ] {
            assert_eq!(parts(denied), None, "{denied:?}");
        }
    }

    #[test]
    fn details_are_checked_row_by_row_and_empty_rows_skipped() {
        let input = EmergencyInput {
            medical_needs: "Asthma".into(),
            allergies: vec![
                AllergyInput {
                    what: "Peanuts".into(),
                    severity: "severe".into(),
                    action: "Adrenaline pen; call 999".into(),
                },
                AllergyInput::default(),
            ],
            barred: vec![BarredInput {
                name: "Jordan Fox".into(),
                relationship: String::new(),
                source: "court-order".into(),
            }],
            ..EmergencyInput::default()
        };
        let parsed = EmergencyDetails::parse(&input).ok();
        assert_eq!(parsed.as_ref().map(|d| d.allergies.len()), Some(1));
        assert_eq!(parsed.map(|d| d.barred.len()), Some(1));
        let bad = EmergencyInput {
            allergies: vec![AllergyInput {
                what: "Wasps".into(),
                severity: "deadly".into(),
                action: String::new(),
            }],
            barred: vec![BarredInput {
                name: String::new(),
                relationship: String::new(),
                source: "rumour".into(),
            }],
            ..EmergencyInput::default()
        };
        let fields: Vec<String> = EmergencyDetails::parse(&bad)
            .err()
            .map(|i| i.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(
            fields,
            vec![
                "allergies[0].severity",
                "allergies[0].action",
                "barred[0].name",
                "barred[0].source"
            ]
        );
    }

    #[test]
    fn telephone_links_keep_digits_and_a_leading_plus() {
        assert_eq!(tel_href("0800 1111"), "tel:08001111");
        assert_eq!(tel_href("+44 (0)113 496-0000"), "tel:+4401134960000");
        assert_eq!(tel_href("116 123"), "tel:116123");
    }
}
