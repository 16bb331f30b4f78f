//! Letters to parents and carers about the frame: the regular time, a break, changes and the
//! planned ending. Each is composed for one carer, only after the outbound rule allows this
//! letter to them (policy section 2: restrictions, no contact, the young person's wishes),
//! and every letter produced is recorded in the audit trail against the child.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::StoredSession;
use alliance_core::audit::{self, Event};
use alliance_core::cases::CaseId;
use alliance_core::children::{Carer, CarerId, ChildDetails};
use alliance_core::letters::{self, ChangeFact, LetterFacts, LetterKind, LetterText};
use alliance_core::outbound::{self, Item, ItemKind, Recipient, Refusal};
use alliance_core::{Invalid, uk};
use std::collections::HashMap;

/// How far back changes are told about.
const RECENT_CHANGE_DAYS: i64 = 28;

/// A carer as the letters page lists them: whether a schedule letter may go to them, and if
/// not, why (for the member of staff).
#[derive(Debug, Clone)]
pub struct LetterRecipient {
    pub carer: CarerId,
    pub name: String,
    pub relationship: String,
    pub parental_responsibility: bool,
    pub day_to_day_care: bool,
    pub refusal: Option<Refusal>,
}

/// The letters a case can produce now, and who may receive them.
#[derive(Debug, Clone)]
pub struct LetterOptions {
    pub number: String,
    pub recipients: Vec<LetterRecipient>,
    /// Each kind, with why it cannot be written now (no break ahead, no ending agreed).
    pub kinds: Vec<(LetterKind, Option<String>)>,
}

/// A letter ready to print or render.
#[derive(Debug, Clone)]
pub struct ComposedLetter {
    pub kind: LetterKind,
    pub service_name: String,
    pub recipient_lines: Vec<String>,
    pub salutation: String,
    pub date: String,
    pub reference: String,
    pub text: LetterText,
    pub signatory: String,
    /// From a demo service: the letter says so, so it is never taken for a real one.
    pub demo: bool,
}

/// The item a schedule letter is, for the outbound rule: it tells where and when the child
/// will be, and (unless the carer may know it) names the child by their legal name only.
fn schedule_letter() -> Item {
    Item::typical(ItemKind::ScheduleLetter)
}

fn is_carer_for_letters(carer: &Carer) -> bool {
    carer.active
        && (carer.details.parental_responsibility.is_some() || carer.details.day_to_day_care)
}

impl Alliance {
    /// Who may receive the case's letters, and which letters can be written now.
    pub async fn letter_options(&self, actor: &Actor, case: CaseId) -> AppResult<LetterOptions> {
        let (child, facts_base, number) = self.letter_basis(actor, case, "read letters").await?;
        let details = self.details_of(child).await?;
        let recipients = self
            .carers_of(child)
            .await?
            .into_iter()
            .filter(is_carer_for_letters)
            .map(|c| LetterRecipient {
                carer: c.id,
                refusal: outbound::may_receive(
                    Recipient::Carer(&c.details),
                    schedule_letter(),
                    &details,
                )
                .err(),
                parental_responsibility: c.details.parental_responsibility.is_some(),
                day_to_day_care: c.details.day_to_day_care,
                name: c.details.name,
                relationship: c.details.relationship,
            })
            .collect();
        let kinds = LetterKind::ALL
            .into_iter()
            .map(|k| (k, letters::compose(k, &facts_base).err()))
            .collect();
        Ok(LetterOptions {
            number,
            recipients,
            kinds,
        })
    }

    /// Composes one letter to one carer, refusing (with the reason, for staff) when the
    /// outbound rule does not allow it; records that it was produced.
    pub async fn compose_letter(
        &self,
        actor: &Actor,
        case: CaseId,
        kind: LetterKind,
        carer: CarerId,
    ) -> AppResult<ComposedLetter> {
        let (child, mut facts, number) = self.letter_basis(actor, case, "produce letter").await?;
        let details = self.details_of(child).await?;
        let Some(carer) = self
            .carers_of(child)
            .await?
            .into_iter()
            .find(|c| c.id == carer && is_carer_for_letters(c))
        else {
            return Err(AppError::NotFound);
        };
        if let Err(refusal) = outbound::may_receive(
            Recipient::Carer(&carer.details),
            schedule_letter(),
            &details,
        ) {
            self.record(
                &actor.origin,
                vec![
                    Event::new(
                        audit::Action::Denied,
                        Some(actor.user.id.to_string()),
                        "carer",
                        Some(carer.id.to_string()),
                    )
                    .for_child(child)
                    .detail(&format!("letter refused: {}", refusal.code())),
                ],
            )
            .await?;
            return Err(Invalid::field("carer", refusal.message()).into());
        }
        // Carer-facing outputs wait for an active agreement (policy section 3).
        if let Err(why) = self.carer_outputs_allowed(child).await? {
            return Err(Invalid::field("carer", why).into());
        }
        facts.child_name = child_name_for(&details, &carer);
        let text = letters::compose(kind, &facts).map_err(|m| Invalid::field("kind", m))?;
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::LetterProduced,
                    Some(actor.user.id.to_string()),
                    "carer",
                    Some(carer.id.to_string()),
                )
                .for_child(child)
                .detail(kind.code()),
            ],
        )
        .await?;
        let mut recipient_lines = vec![carer.details.name.clone()];
        if let Some(address) = &carer.details.address {
            recipient_lines.extend(
                address
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
        let profile = self.store.service_profile().await?;
        let service_name = profile
            .as_ref()
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_default();
        Ok(ComposedLetter {
            kind,
            service_name,
            recipient_lines,
            salutation: format!("Dear {},", carer.details.name),
            date: uk::date(self.today()),
            reference: format!("Case {number}"),
            text,
            signatory: facts.therapist,
            demo: profile.is_some_and(|p| p.is_demo),
        })
    }

    /// The case's facts for letters, after the gate: the case team and administrators, on an
    /// open case with a regular time.
    async fn letter_basis(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<(alliance_core::children::ChildId, LetterFacts, String)> {
        let child = self.require_schedule_write(actor, case, asked).await?;
        let stored_case = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let Some(slot) = self.store.slot(case).await? else {
            return Err(Invalid::field(
                "kind",
                "Set the regular time and place before writing letters about it",
            )
            .into());
        };
        let sessions = self.store.sessions_of_case(case).await?;
        let outlook = self.outlook_of(&slot, &sessions).await?.unwrap_or_default();
        let rooms = self.room_labels(&sessions, slot.room).await?;
        let room_of = |id: &alliance_core::directory::RoomId| {
            rooms.get(id).map(|(r, _)| r.clone()).unwrap_or_default()
        };
        let today = self.today();
        let upcoming: Vec<(jiff::civil::Date, jiff::civil::Time, String)> = sessions
            .iter()
            .filter(|s| s.attendance.is_none() && s.booking.date >= today)
            .map(|s| (s.booking.date, s.booking.start, room_of(&s.booking.room)))
            .collect();
        let changes = self.recent_changes(case, &sessions, &room_of).await?;
        let therapist = self
            .store
            .user(slot.therapist)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let (room, site) = rooms.get(&slot.room).cloned().unwrap_or_default();
        Ok((
            child,
            LetterFacts {
                child_name: String::new(),
                weekday: slot.slot.weekday,
                start: slot.slot.start,
                minutes: slot.slot.minutes,
                room,
                site,
                upcoming,
                next_break: outlook.next_break,
                ending: outlook.ending,
                changes,
                therapist,
            },
            stored_case.case.number_label(),
        ))
    }

    /// Each room the sessions use, with its site's name.
    async fn room_labels(
        &self,
        sessions: &[StoredSession],
        regular: alliance_core::directory::RoomId,
    ) -> AppResult<HashMap<alliance_core::directory::RoomId, (String, String)>> {
        let mut out = HashMap::new();
        let ids = sessions
            .iter()
            .map(|s| s.booking.room)
            .chain(std::iter::once(regular));
        for id in ids {
            if out.contains_key(&id) {
                continue;
            }
            if let Some(room) = self.store.room(id).await? {
                let site = self
                    .store
                    .site(room.site_id)
                    .await?
                    .map(|s| s.details.name)
                    .unwrap_or_default();
                out.insert(id, (room.details.name, site));
            }
        }
        Ok(out)
    }

    /// Moves, additions and cancellations of the last four weeks that concern sessions
    /// still to come, newest first (the reasons are not told).
    async fn recent_changes(
        &self,
        case: CaseId,
        sessions: &[StoredSession],
        room_of: &(dyn Fn(&alliance_core::directory::RoomId) -> String + Sync),
    ) -> AppResult<Vec<ChangeFact>> {
        let since = self
            .clock
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * RECENT_CHANGE_DAYS))
            .unwrap_or(self.clock.now());
        let today = self.today();
        let by_id: HashMap<_, _> = sessions.iter().map(|s| (s.booking.id, s)).collect();
        let mut out = Vec::new();
        for change in self.store.frame_changes(case).await? {
            if change.at < since {
                continue;
            }
            let Some(session) = change.session.and_then(|id| by_id.get(&id)) else {
                continue;
            };
            let b = &session.booking;
            if b.date < today {
                continue;
            }
            out.push(match change.what.as_str() {
                "moved" => ChangeFact::Moved {
                    to: b.date,
                    start: b.start,
                    room: room_of(&b.room),
                },
                "added" => ChangeFact::Added {
                    date: b.date,
                    start: b.start,
                    room: room_of(&b.room),
                },
                "cancelled" => ChangeFact::Cancelled { date: b.date },
                _ => continue,
            });
        }
        Ok(out)
    }
}

/// The name a letter to this carer uses: the child's preferred name only where the carer may
/// be told it.
fn child_name_for(details: &ChildDetails, carer: &Carer) -> String {
    let told_preferred = outbound::may_receive(
        Recipient::Carer(&carer.details),
        Item {
            kind: ItemKind::ScheduleLetter,
            reveals: outbound::Reveals {
                preferred_name_and_pronouns: true,
                ..outbound::Reveals::default()
            },
        },
        details,
    )
    .is_ok();
    if told_preferred {
        details.known_as().to_owned()
    } else {
        details.legal_name.clone()
    }
}
