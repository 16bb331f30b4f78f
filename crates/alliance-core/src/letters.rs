//! Letters to parents and carers about the frame of the work: the regular time and place,
//! a coming break, changes, and the planned ending. Pure composition from facts the service
//! layer gathers after the outbound rule ([`crate::outbound::may_receive`]) has allowed the
//! letter to this person. A letter says what a parent needs to bring the child at the right
//! time and prepare them: dates, times, the room; never the reasons recorded for a change
//! (they may be personal) and nothing clinical.

use crate::frame::{BreakAhead, EndingAhead};
use crate::schedule::{clock_text, weekday_label};
use crate::uk;
use jiff::civil::{Date, Time, Weekday};
use serde::Serialize;

/// What a letter is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LetterKind {
    RegularTime,
    Break,
    Changes,
    Ending,
}

impl LetterKind {
    pub const ALL: [LetterKind; 4] = [
        LetterKind::RegularTime,
        LetterKind::Break,
        LetterKind::Changes,
        LetterKind::Ending,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LetterKind::RegularTime => "regular-time",
            LetterKind::Break => "break",
            LetterKind::Changes => "changes",
            LetterKind::Ending => "ending",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LetterKind::RegularTime => "The regular time and place",
            LetterKind::Break => "The next break",
            LetterKind::Changes => "Changes to sessions",
            LetterKind::Ending => "The planned ending",
        }
    }

    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| {
                format!(
                    "Choose a letter from: {}",
                    Self::ALL.map(Self::code).join(", ")
                )
            })
    }
}

/// A change to tell a parent about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeFact {
    /// A session moved from one day to another (and perhaps another time or room).
    Moved { to: Date, start: Time, room: String },
    /// An extra session.
    Added {
        date: Date,
        start: Time,
        room: String,
    },
    /// A session that will not take place.
    Cancelled { date: Date },
}

/// What a letter is written from.
#[derive(Debug, Clone)]
pub struct LetterFacts {
    /// The child as this recipient may see them named (their legal name where the recipient
    /// may not be told a preferred name).
    pub child_name: String,
    pub weekday: Weekday,
    pub start: Time,
    pub minutes: u16,
    pub room: String,
    pub site: String,
    /// The sessions still to come, earliest first, with their time and room.
    pub upcoming: Vec<(Date, Time, String)>,
    pub next_break: Option<BreakAhead>,
    pub ending: Option<EndingAhead>,
    /// Recent changes, newest first.
    pub changes: Vec<ChangeFact>,
    pub therapist: String,
}

/// A composed letter's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterText {
    pub subject: String,
    pub paragraphs: Vec<String>,
    /// The sessions to come, as a table: caption, headers, rows.
    pub table: Option<(String, Vec<String>, Vec<Vec<String>>)>,
}

/// The most session dates a letter lists.
const MAX_ROWS: usize = 40;

fn session_table(
    facts: &LetterFacts,
    caption: &str,
) -> Option<(String, Vec<String>, Vec<Vec<String>>)> {
    if facts.upcoming.is_empty() {
        return None;
    }
    let rows = facts
        .upcoming
        .iter()
        .take(MAX_ROWS)
        .map(|(date, start, room)| {
            vec![
                weekday_label(date.weekday()).to_owned(),
                uk::date(*date),
                clock_text(*start),
                room.clone(),
            ]
        })
        .collect();
    Some((
        caption.to_owned(),
        vec![
            "Day".to_owned(),
            "Date".to_owned(),
            "Time".to_owned(),
            "Room".to_owned(),
        ],
        rows,
    ))
}

fn sessions(n: u32) -> String {
    match n {
        1 => "one more session".to_owned(),
        n => format!("{n} more sessions"),
    }
}

/// Composes the letter, or says why there is nothing to write (no break ahead, no ending
/// agreed, no changes).
pub fn compose(kind: LetterKind, facts: &LetterFacts) -> Result<LetterText, String> {
    let child = &facts.child_name;
    let when = format!(
        "every {} at {} for {} minutes, in {} at {}",
        weekday_label(facts.weekday),
        clock_text(facts.start),
        facts.minutes,
        facts.room,
        facts.site
    );
    let keeping = "Children feel safest when their sessions happen at the same time and in \
                   the same place each week. Please help {child} to come to every session, \
                   and tell us as early as you can if they cannot."
        .replace("{child}", child);
    let contact = format!(
        "If you have any questions, please contact {} through the service.",
        facts.therapist
    );
    match kind {
        LetterKind::RegularTime => Ok(LetterText {
            subject: format!("{child}'s therapy sessions"),
            paragraphs: vec![
                format!("{child}'s therapy sessions take place {when}, in term time."),
                keeping,
                "The dates of the sessions to come are below. There are no sessions in the \
                 school holidays, at half-term or when the school is closed."
                    .to_owned(),
                contact,
            ],
            table: session_table(facts, "Sessions to come"),
        }),
        LetterKind::Break => {
            let b = facts
                .next_break
                .as_ref()
                .ok_or("No break is coming in the sessions' calendar")?;
            let resumes = match b.resumes {
                Some(r) => format!(
                    "Sessions start again on {} {}, at the usual time and place.",
                    weekday_label(r.weekday()),
                    uk::date(r)
                ),
                None => "We will write to you with the date sessions start again.".to_owned(),
            };
            let before = match (b.sessions_before, b.last_session_before) {
                (0, _) | (_, None) => "There are no more sessions before the break.".to_owned(),
                (n, Some(last)) => format!(
                    "{child} has {} before the break; the last is on {}.",
                    sessions(n),
                    uk::date(last)
                ),
            };
            Ok(LetterText {
                subject: format!("A break in {child}'s therapy sessions"),
                paragraphs: vec![
                    format!(
                        "There will be no therapy sessions from {} ({}).",
                        uk::date(b.first_day),
                        b.what
                    ),
                    before,
                    resumes,
                    format!(
                        "Breaks can be unsettling. We will talk with {child} about the break \
                         before it comes; it helps if you remind them when sessions will start \
                         again."
                    ),
                    contact,
                ],
                table: None,
            })
        }
        LetterKind::Changes => {
            if facts.changes.is_empty() {
                return Err("There are no recent changes to the sessions".to_owned());
            }
            let mut paragraphs = vec![format!(
                "We are writing to let you know about changes to {child}'s therapy sessions."
            )];
            for change in &facts.changes {
                paragraphs.push(match change {
                    ChangeFact::Moved { to, start, room } => format!(
                        "A session has moved to {} {} at {} in {room}.",
                        weekday_label(to.weekday()),
                        uk::date(*to),
                        clock_text(*start)
                    ),
                    ChangeFact::Added { date, start, room } => format!(
                        "An extra session has been arranged on {} {} at {} in {room}.",
                        weekday_label(date.weekday()),
                        uk::date(*date),
                        clock_text(*start)
                    ),
                    ChangeFact::Cancelled { date } => format!(
                        "The session on {} {} will not take place.",
                        weekday_label(date.weekday()),
                        uk::date(*date)
                    ),
                });
            }
            paragraphs.push(format!(
                "Otherwise sessions continue {when}. The sessions to come are listed below."
            ));
            paragraphs.push(contact);
            Ok(LetterText {
                subject: format!("Changes to {child}'s therapy sessions"),
                paragraphs,
                table: session_table(facts, "Sessions to come"),
            })
        }
        LetterKind::Ending => {
            let e = facts
                .ending
                .as_ref()
                .ok_or("No planned ending has been agreed for these sessions")?;
            Ok(LetterText {
                subject: format!("The ending of {child}'s therapy"),
                paragraphs: vec![
                    format!(
                        "{child}'s therapy is coming to a planned ending. The last session will \
                         be on {} {}.",
                        weekday_label(e.last_day.weekday()),
                        uk::date(e.last_day)
                    ),
                    format!(
                        "Endings matter. In the sessions that are left we will count down to \
                         the last one with {child}, so that they can say goodbye in their own \
                         way. Please make sure {child} can come to every one of them."
                    ),
                    contact,
                ],
                table: session_table(facts, "The sessions left"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn facts() -> LetterFacts {
        LetterFacts {
            child_name: "Amelia Clarke".to_owned(),
            weekday: Weekday::Monday,
            start: time(15, 30, 0, 0),
            minutes: 50,
            room: "Willow Room".to_owned(),
            site: "Oakfield Primary".to_owned(),
            upcoming: vec![
                (
                    date(2027, 2, 8),
                    time(15, 30, 0, 0),
                    "Willow Room".to_owned(),
                ),
                (
                    date(2027, 2, 22),
                    time(15, 30, 0, 0),
                    "Willow Room".to_owned(),
                ),
            ],
            next_break: Some(BreakAhead {
                first_day: date(2027, 2, 15),
                what: "Spring half-term".to_owned(),
                resumes: Some(date(2027, 2, 22)),
                sessions_before: 1,
                last_session_before: Some(date(2027, 2, 8)),
            }),
            ending: None,
            changes: vec![ChangeFact::Cancelled {
                date: date(2027, 2, 1),
            }],
            therapist: "Jo Okafor".to_owned(),
        }
    }

    #[test]
    fn the_regular_time_letter_gives_the_time_place_and_dates() {
        let letter = compose(LetterKind::RegularTime, &facts()).unwrap();
        assert_eq!(letter.subject, "Amelia Clarke's therapy sessions");
        assert!(
            letter.paragraphs[0].contains(
                "every Monday at 15:30 for 50 minutes, in Willow Room at Oakfield Primary"
            )
        );
        let (_, headers, rows) = letter.table.unwrap();
        assert_eq!(headers.len(), 4);
        assert_eq!(rows[0], ["Monday", "08/02/2027", "15:30", "Willow Room"]);
    }

    #[test]
    fn the_break_letter_says_when_sessions_resume() {
        let letter = compose(LetterKind::Break, &facts()).unwrap();
        let text = letter.paragraphs.join(" ");
        assert!(text.contains("no therapy sessions from 15/02/2027 (Spring half-term)"));
        assert!(text.contains("one more session before the break; the last is on 08/02/2027"));
        assert!(text.contains("start again on Monday 22/02/2027"));
    }

    #[test]
    fn a_letter_with_nothing_to_say_is_refused() {
        let mut f = facts();
        assert!(compose(LetterKind::Ending, &f).is_err());
        f.next_break = None;
        f.changes.clear();
        assert!(compose(LetterKind::Break, &f).is_err());
        assert!(compose(LetterKind::Changes, &f).is_err());
    }

    #[test]
    fn changes_name_dates_not_reasons_and_the_ending_names_the_last_session() {
        let letter = compose(LetterKind::Changes, &facts()).unwrap();
        assert!(
            letter
                .paragraphs
                .iter()
                .any(|p| p == "The session on Monday 01/02/2027 will not take place.")
        );
        let mut f = facts();
        f.ending = Some(EndingAhead {
            last_day: date(2027, 3, 15),
            sessions_left: 6,
            counting_down: true,
            short_notice: false,
        });
        let letter = compose(LetterKind::Ending, &f).unwrap();
        assert!(letter.paragraphs[0].contains("Monday 15/03/2027"));
        assert!(LetterKind::parse("ending").is_ok() && LetterKind::parse("x").is_err());
    }
}
