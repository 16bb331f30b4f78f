//! What may leave the building (policy section 2): the one rule every outbound path asks
//! (handouts, agreements, consent and feedback links, letters, exports, FHIR, CSV, subject
//! access bundles, emails): may this person receive this item about this child? A refusal
//! says why, for the member of staff; it never goes to the recipient.

use crate::children::{CarerDetails, CarerTopic, ChildDetails, RestrictionKind};
use serde::Serialize;

/// What kind of thing would be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// An explanation handout from the library.
    Handout,
    /// The therapy agreement.
    Agreement,
    /// A single-use link to give consent.
    ConsentLink,
    /// A single-use link to a carer's own measure.
    FeedbackLink,
    /// A letter about the regular time, breaks, changes or the ending.
    ScheduleLetter,
    /// A report on how the work is going.
    ProgressReport,
    /// An export of the record (FHIR, CSV).
    RecordExport,
    /// A subject access bundle, after its review.
    SubjectAccessBundle,
    /// Information shared for safeguarding (policy section 4): the young person's wishes do
    /// not stop it.
    SafeguardingShare,
}

impl ItemKind {
    pub const ALL: [ItemKind; 9] = [
        ItemKind::Handout,
        ItemKind::Agreement,
        ItemKind::ConsentLink,
        ItemKind::FeedbackLink,
        ItemKind::ScheduleLetter,
        ItemKind::ProgressReport,
        ItemKind::RecordExport,
        ItemKind::SubjectAccessBundle,
        ItemKind::SafeguardingShare,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ItemKind::Handout => "handout",
            ItemKind::Agreement => "agreement",
            ItemKind::ConsentLink => "consent-link",
            ItemKind::FeedbackLink => "feedback-link",
            ItemKind::ScheduleLetter => "schedule-letter",
            ItemKind::ProgressReport => "progress-report",
            ItemKind::RecordExport => "record-export",
            ItemKind::SubjectAccessBundle => "subject-access-bundle",
            ItemKind::SafeguardingShare => "safeguarding-share",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose an item from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }

    /// What such an item usually reveals; a caller that knows better (a letter that names no
    /// place) passes its own [`Reveals`].
    pub fn typical_reveals(self) -> Reveals {
        let none = Reveals::default();
        match self {
            ItemKind::Handout | ItemKind::ConsentLink | ItemKind::FeedbackLink => none,
            ItemKind::Agreement => Reveals {
                clinical_content: true,
                preferred_name_and_pronouns: true,
                ..none
            },
            ItemKind::ScheduleLetter => Reveals {
                location_and_times: true,
                ..none
            },
            ItemKind::ProgressReport => Reveals {
                clinical_content: true,
                preferred_name_and_pronouns: true,
                ..none
            },
            ItemKind::RecordExport | ItemKind::SubjectAccessBundle => Reveals {
                location_and_times: true,
                school: true,
                clinical_content: true,
                preferred_name_and_pronouns: true,
            },
            ItemKind::SafeguardingShare => none,
        }
    }

    /// The topic a young person who consents for themselves must have agreed to.
    fn carer_topic(self) -> Option<CarerTopic> {
        match self {
            ItemKind::Handout | ItemKind::Agreement | ItemKind::ConsentLink => {
                Some(CarerTopic::Paperwork)
            }
            ItemKind::ScheduleLetter => Some(CarerTopic::Attendance),
            ItemKind::FeedbackLink | ItemKind::ProgressReport | ItemKind::RecordExport => {
                Some(CarerTopic::Progress)
            }
            // Subject access has its own review (policy section 5); safeguarding sharing is
            // unaffected by the young person's wishes.
            ItemKind::SubjectAccessBundle | ItemKind::SafeguardingShare => None,
        }
    }
}

/// What an item would tell its recipient about the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Reveals {
    pub location_and_times: bool,
    pub school: bool,
    pub clinical_content: bool,
    pub preferred_name_and_pronouns: bool,
}

/// An item to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub reveals: Reveals,
}

impl Item {
    pub fn typical(kind: ItemKind) -> Self {
        Self {
            kind,
            reveals: kind.typical_reveals(),
        }
    }
}

/// Who would receive it.
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    Carer(&'a CarerDetails),
    /// The child or young person themselves.
    Child,
    /// Someone authorised to act for the young person or a parent (a solicitor, an advocate):
    /// only a subject access bundle, and only once their authority was checked.
    Representative {
        authority_checked: bool,
    },
}

/// Why an item may not go: said to the member of staff, never to the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Refusal {
    /// A restriction from a court order or a safeguarding decision.
    Restricted { restriction: RestrictionKind },
    /// The carer is recorded as not to be contacted.
    NotToBeContacted,
    /// Consent can be given only by someone with parental responsibility.
    NeedsParentalResponsibility,
    /// The young person consents for themselves and has not agreed to this.
    YoungPersonHasNotAgreed { topic: CarerTopic },
    /// The child has died: nothing is sent in their name.
    ChildHasDied,
    /// This kind of item does not go to this kind of recipient.
    NotForThisRecipient,
    /// A representative whose authority to act has not been checked.
    AuthorityNotChecked,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Restricted { .. } => "restricted",
            Refusal::NotToBeContacted => "not-to-be-contacted",
            Refusal::NeedsParentalResponsibility => "needs-parental-responsibility",
            Refusal::YoungPersonHasNotAgreed { .. } => "young-person-has-not-agreed",
            Refusal::ChildHasDied => "child-has-died",
            Refusal::NotForThisRecipient => "not-for-this-recipient",
            Refusal::AuthorityNotChecked => "authority-not-checked",
        }
    }

    pub fn message(self) -> String {
        match self {
            Refusal::Restricted { restriction } => format!(
                "A restriction on this carer forbids it: {}",
                restriction.label().to_lowercase()
            ),
            Refusal::NotToBeContacted => "This carer is recorded as not to be contacted".to_owned(),
            Refusal::NeedsParentalResponsibility => {
                "Only someone with parental responsibility may give consent".to_owned()
            }
            Refusal::YoungPersonHasNotAgreed { topic } => format!(
                "The young person consents for themselves and has not agreed that their carers may be told: {}",
                topic.label().to_lowercase()
            ),
            Refusal::ChildHasDied => "The child has died: nothing is sent in their name".to_owned(),
            Refusal::NotForThisRecipient => "This is not sent to this recipient".to_owned(),
            Refusal::AuthorityNotChecked => {
                "The representative's authority to act has not been checked".to_owned()
            }
        }
    }
}

/// May `recipient` receive `item` about `child`? Every outbound path asks this, and sends
/// nothing on a refusal. The first reason found is returned; all of them must be resolved.
pub fn may_receive(
    recipient: Recipient<'_>,
    item: Item,
    child: &ChildDetails,
) -> Result<(), Refusal> {
    if child.date_of_death.is_some() && item.kind != ItemKind::SubjectAccessBundle {
        return Err(Refusal::ChildHasDied);
    }
    let carer = match recipient {
        Recipient::Child => {
            return match item.kind {
                // Consent links and carers' measures are for carers; a young person's own
                // consent is recorded in person (section 3).
                ItemKind::ConsentLink | ItemKind::FeedbackLink | ItemKind::SafeguardingShare => {
                    Err(Refusal::NotForThisRecipient)
                }
                _ => Ok(()),
            };
        }
        Recipient::Representative { authority_checked } => {
            return match (item.kind, authority_checked) {
                (ItemKind::SubjectAccessBundle, true) => Ok(()),
                (ItemKind::SubjectAccessBundle, false) => Err(Refusal::AuthorityNotChecked),
                _ => Err(Refusal::NotForThisRecipient),
            };
        }
        Recipient::Carer(carer) => carer,
    };
    // Restrictions from court orders and safeguarding decisions come first: they bind even
    // safeguarding sharing with that person.
    if carer.has_restriction(RestrictionKind::NoContact) {
        return Err(Refusal::Restricted {
            restriction: RestrictionKind::NoContact,
        });
    }
    let restricted = [
        (
            RestrictionKind::NoLocationOrTimes,
            item.reveals.location_and_times,
        ),
        (RestrictionKind::NoSchool, item.reveals.school),
        (
            RestrictionKind::NoClinicalContent,
            item.reveals.clinical_content,
        ),
        (
            RestrictionKind::NoPreferredNameOrPronouns,
            item.reveals.preferred_name_and_pronouns,
        ),
    ];
    for (restriction, revealed) in restricted {
        if revealed && carer.has_restriction(restriction) {
            return Err(Refusal::Restricted { restriction });
        }
    }
    if item.kind == ItemKind::SafeguardingShare {
        return Ok(());
    }
    if !carer.may_contact {
        return Err(Refusal::NotToBeContacted);
    }
    if matches!(
        item.kind,
        ItemKind::ConsentLink | ItemKind::SubjectAccessBundle
    ) && carer.parental_responsibility.is_none()
    {
        return Err(Refusal::NeedsParentalResponsibility);
    }
    if child.wishes.consents_for_self
        && let Some(topic) = item.kind.carer_topic()
        && !child.wishes.carers_may_be_told.contains(&topic)
    {
        return Err(Refusal::YoungPersonHasNotAgreed { topic });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::children::{
        ChildInput, ParentalResponsibility, Restriction, RestrictionSource, YoungPersonWishes,
    };
    use jiff::civil::date;

    fn child() -> ChildDetails {
        ChildDetails::parse(
            &ChildInput {
                legal_name: "Amelia Clarke".into(),
                preferred_name: "Millie".into(),
                date_of_birth: "14/03/2012".into(),
                sex: "female".into(),
                ..ChildInput::default()
            },
            date(2026, 11, 30),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn parent() -> CarerDetails {
        CarerDetails {
            name: "Sam Clarke".into(),
            relationship: "Mother".into(),
            parental_responsibility: Some(ParentalResponsibility::Parent),
            day_to_day_care: true,
            phone: None,
            email: None,
            address: None,
            may_contact: true,
            restrictions: vec![],
            may_collect: Default::default(),
        }
    }

    fn restricted(kind: RestrictionKind) -> CarerDetails {
        let mut carer = parent();
        carer.restrictions.push(Restriction {
            kind,
            source: RestrictionSource::CourtOrder,
            dated: date(2025, 5, 12),
            reference: None,
        });
        carer
    }

    fn send(carer: &CarerDetails, kind: ItemKind, child: &ChildDetails) -> Result<(), Refusal> {
        may_receive(Recipient::Carer(carer), Item::typical(kind), child)
    }

    #[test]
    fn an_unrestricted_parent_receives_everything() {
        for kind in ItemKind::ALL {
            assert_eq!(send(&parent(), kind, &child()), Ok(()), "{kind:?}");
        }
    }

    #[test]
    fn no_contact_stops_everything_even_safeguarding_sharing() {
        let carer = restricted(RestrictionKind::NoContact);
        for kind in ItemKind::ALL {
            assert_eq!(
                send(&carer, kind, &child()),
                Err(Refusal::Restricted {
                    restriction: RestrictionKind::NoContact
                }),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn each_restriction_stops_exactly_what_reveals_its_subject() {
        let cases = [
            (RestrictionKind::NoLocationOrTimes, ItemKind::ScheduleLetter),
            (RestrictionKind::NoSchool, ItemKind::RecordExport),
            (RestrictionKind::NoClinicalContent, ItemKind::ProgressReport),
            (
                RestrictionKind::NoPreferredNameOrPronouns,
                ItemKind::Agreement,
            ),
        ];
        for (restriction, stopped) in cases {
            let carer = restricted(restriction);
            assert_eq!(
                send(&carer, stopped, &child()),
                Err(Refusal::Restricted { restriction }),
                "{restriction:?}"
            );
            // A handout reveals none of these and still goes.
            assert_eq!(send(&carer, ItemKind::Handout, &child()), Ok(()));
        }
        // The same letter without the place and time goes to a carer barred from them.
        let carer = restricted(RestrictionKind::NoLocationOrTimes);
        let letter = Item {
            kind: ItemKind::ScheduleLetter,
            reveals: Reveals::default(),
        };
        assert_eq!(
            may_receive(Recipient::Carer(&carer), letter, &child()),
            Ok(())
        );
        // A letter naming the school is stopped for a carer barred from the school.
        let carer = restricted(RestrictionKind::NoSchool);
        let letter = Item {
            kind: ItemKind::ScheduleLetter,
            reveals: Reveals {
                location_and_times: true,
                school: true,
                ..Reveals::default()
            },
        };
        assert_eq!(
            may_receive(Recipient::Carer(&carer), letter, &child()),
            Err(Refusal::Restricted {
                restriction: RestrictionKind::NoSchool
            })
        );
    }

    #[test]
    fn a_carer_not_to_be_contacted_gets_nothing_but_safeguarding_may_still_reach_them() {
        let mut carer = parent();
        carer.may_contact = false;
        assert_eq!(
            send(&carer, ItemKind::Handout, &child()),
            Err(Refusal::NotToBeContacted)
        );
        assert_eq!(send(&carer, ItemKind::SafeguardingShare, &child()), Ok(()));
    }

    #[test]
    fn consent_needs_parental_responsibility() {
        let mut foster = parent();
        foster.relationship = "Foster carer".into();
        foster.parental_responsibility = None;
        assert_eq!(
            send(&foster, ItemKind::ConsentLink, &child()),
            Err(Refusal::NeedsParentalResponsibility)
        );
        assert_eq!(
            send(&foster, ItemKind::SubjectAccessBundle, &child()),
            Err(Refusal::NeedsParentalResponsibility)
        );
        // Day-to-day care is enough for practical letters.
        assert_eq!(send(&foster, ItemKind::ScheduleLetter, &child()), Ok(()));
    }

    #[test]
    fn a_young_person_who_consents_decides_what_carers_are_told() {
        let mut young_person = child();
        young_person.wishes = YoungPersonWishes {
            consents_for_self: true,
            carers_may_be_told: [CarerTopic::Attendance].into(),
        };
        assert_eq!(
            send(&parent(), ItemKind::ScheduleLetter, &young_person),
            Ok(())
        );
        assert_eq!(
            send(&parent(), ItemKind::ProgressReport, &young_person),
            Err(Refusal::YoungPersonHasNotAgreed {
                topic: CarerTopic::Progress
            })
        );
        assert_eq!(
            send(&parent(), ItemKind::Agreement, &young_person),
            Err(Refusal::YoungPersonHasNotAgreed {
                topic: CarerTopic::Paperwork
            })
        );
        // By default, nothing goes without the agreement.
        young_person.wishes.carers_may_be_told.clear();
        for kind in [
            ItemKind::Handout,
            ItemKind::ScheduleLetter,
            ItemKind::FeedbackLink,
            ItemKind::RecordExport,
        ] {
            assert!(send(&parent(), kind, &young_person).is_err(), "{kind:?}");
        }
        // Safeguarding sharing is unaffected; subject access has its own review.
        assert_eq!(
            send(&parent(), ItemKind::SafeguardingShare, &young_person),
            Ok(())
        );
        assert_eq!(
            send(&parent(), ItemKind::SubjectAccessBundle, &young_person),
            Ok(())
        );
        // Wishes recorded without the young person consenting for themselves do not apply.
        young_person.wishes.consents_for_self = false;
        assert_eq!(
            send(&parent(), ItemKind::ProgressReport, &young_person),
            Ok(())
        );
    }

    #[test]
    fn restrictions_outrank_a_young_persons_agreement() {
        let mut young_person = child();
        young_person.wishes = YoungPersonWishes {
            consents_for_self: true,
            carers_may_be_told: CarerTopic::ALL.into(),
        };
        let carer = restricted(RestrictionKind::NoLocationOrTimes);
        assert_eq!(
            send(&carer, ItemKind::ScheduleLetter, &young_person),
            Err(Refusal::Restricted {
                restriction: RestrictionKind::NoLocationOrTimes
            })
        );
    }

    #[test]
    fn nothing_is_sent_in_a_dead_childs_name() {
        let mut died = child();
        died.date_of_death = Some(date(2026, 10, 1));
        assert_eq!(
            send(&parent(), ItemKind::ScheduleLetter, &died),
            Err(Refusal::ChildHasDied)
        );
        assert_eq!(
            send(&parent(), ItemKind::SubjectAccessBundle, &died),
            Ok(())
        );
    }

    #[test]
    fn a_representative_receives_only_a_subject_access_bundle_once_their_authority_is_checked() {
        let bundle = Item::typical(ItemKind::SubjectAccessBundle);
        assert_eq!(
            may_receive(
                Recipient::Representative {
                    authority_checked: true
                },
                bundle,
                &child()
            ),
            Ok(())
        );
        assert_eq!(
            may_receive(
                Recipient::Representative {
                    authority_checked: false
                },
                bundle,
                &child()
            ),
            Err(Refusal::AuthorityNotChecked)
        );
        for kind in ItemKind::ALL {
            if kind != ItemKind::SubjectAccessBundle {
                assert_eq!(
                    may_receive(
                        Recipient::Representative {
                            authority_checked: true
                        },
                        Item::typical(kind),
                        &child()
                    ),
                    Err(Refusal::NotForThisRecipient),
                    "{kind:?}"
                );
            }
        }
        assert!(!Refusal::AuthorityNotChecked.message().is_empty());
    }

    #[test]
    fn carers_links_are_not_for_the_child() {
        assert_eq!(
            may_receive(
                Recipient::Child,
                Item::typical(ItemKind::ConsentLink),
                &child()
            ),
            Err(Refusal::NotForThisRecipient)
        );
        assert_eq!(
            may_receive(Recipient::Child, Item::typical(ItemKind::Handout), &child()),
            Ok(())
        );
        for refusal in [
            Refusal::NotToBeContacted,
            Refusal::ChildHasDied,
            Refusal::Restricted {
                restriction: RestrictionKind::NoSchool,
            },
        ] {
            assert!(!refusal.message().is_empty() && !refusal.code().is_empty());
        }
    }
}
