//! Breaks and endings, prepared for. A child in therapy needs to know a break is coming and
//! when the sessions resume, and an ending needs a countdown long enough to be worked through
//! (six sessions by default, never fewer than four: clinical-facts section 8). This module
//! works out, from a case's regular slot, its term calendar and its booked sessions, the next
//! break and the planned ending with the sessions left before each, and the prompts the
//! service raises for them. Pure: the service layer supplies the data and raises the tasks.

use crate::calendar::BankHolidays;
use crate::error::Validator;
use crate::schedule::{DayStatus, Holidays, Slot, TermCalendar};
use crate::{Invalid, uk};
use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The fewest sessions' notice an ending may have (clinical-facts section 8).
pub const MIN_ENDING_COUNTDOWN: u8 = 4;
pub const MAX_ENDING_COUNTDOWN: u8 = 12;
pub const MAX_BREAK_NOTICE: u8 = 4;
/// How far ahead a break or an ending is looked for: a school year and a little more.
const HORIZON_WEEKS: i64 = 60;

/// How a service prepares children for breaks and endings, and what its calendar feeds say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FramePolicy {
    /// Prepare the child this many sessions before every break (1: the session before).
    pub break_notice_sessions: u8,
    /// Start the ending countdown this many sessions before the last (at least four).
    pub ending_countdown_sessions: u8,
    /// Whether therapists' calendar feeds carry the child's initials. Off by default:
    /// calendar providers read these feeds.
    pub feed_shows_initials: bool,
}

impl Default for FramePolicy {
    fn default() -> Self {
        Self {
            break_notice_sessions: 1,
            ending_countdown_sessions: 6,
            feed_shows_initials: false,
        }
    }
}

/// The policy form before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FramePolicyInput {
    pub break_notice_sessions: String,
    pub ending_countdown_sessions: String,
    #[serde(default)]
    pub feed_shows_initials: bool,
}

fn whole_number(raw: &str, min: u8, max: u8, what: &str) -> Result<u8, String> {
    match raw.trim().parse::<u8>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("Enter {what} from {min} to {max}")),
    }
}

impl FramePolicy {
    pub fn parse(input: &FramePolicyInput) -> Result<Self, Invalid> {
        let mut v = Validator::new();
        let notice = v.check(
            "break_notice_sessions",
            whole_number(
                &input.break_notice_sessions,
                1,
                MAX_BREAK_NOTICE,
                "a number of sessions",
            ),
        );
        let countdown = v.check(
            "ending_countdown_sessions",
            whole_number(
                &input.ending_countdown_sessions,
                MIN_ENDING_COUNTDOWN,
                MAX_ENDING_COUNTDOWN,
                "a number of sessions",
            ),
        );
        v.finish()?;
        Ok(Self {
            break_notice_sessions: notice.unwrap_or(1),
            ending_countdown_sessions: countdown.unwrap_or(6),
            feed_shows_initials: input.feed_shows_initials,
        })
    }
}

/// One of a case's sessions, as the outlook needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDay {
    pub date: Date,
    pub cancelled: bool,
    /// Attendance has been recorded (so it is behind us, whatever its date).
    pub recorded: bool,
}

/// The next break in the child's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakAhead {
    /// The first regular session day that holds no session.
    pub first_day: Date,
    /// Why: `Spring half-term`, `School holidays`, `INSET day: training`.
    pub what: String,
    /// The first regular session day after it that is a term day, if the calendar has one.
    pub resumes: Option<Date>,
    /// Sessions still to come before the break.
    pub sessions_before: u32,
    /// The last session before the break, if any is left.
    pub last_session_before: Option<Date>,
}

/// The planned ending, counted down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndingAhead {
    /// The last session day on or before the planned ending.
    pub last_day: Date,
    /// Sessions still to come, the last included.
    pub sessions_left: u32,
    /// Whether the countdown has begun (as many sessions left as the policy's countdown, or
    /// fewer).
    pub counting_down: bool,
    /// Whether fewer sessions are left than the fewest an ending should have.
    pub short_notice: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FrameOutlook {
    pub next_break: Option<BreakAhead>,
    pub ending: Option<EndingAhead>,
}

fn sessions(n: u32) -> String {
    match n {
        0 => "no sessions".to_owned(),
        1 => "1 session".to_owned(),
        n => format!("{n} sessions"),
    }
}

impl BreakAhead {
    /// `Spring half-term from 15/02/2027, sessions resume 22/02/2027: 3 sessions before it,
    /// the last on 08/02/2027.`
    pub fn describe(&self) -> String {
        let resumes = self
            .resumes
            .map(|r| format!(", sessions resume {}", uk::date(r)))
            .unwrap_or_default();
        let last = self
            .last_session_before
            .map(|d| format!(", the last on {}", uk::date(d)))
            .unwrap_or_default();
        format!(
            "{} from {}{resumes}: {} before it{last}.",
            self.what,
            uk::date(self.first_day),
            sessions(self.sessions_before)
        )
    }
}

impl EndingAhead {
    /// `Last session 15/03/2027: 6 sessions left. The countdown has begun.`
    pub fn describe(&self) -> String {
        let mut text = format!(
            "Last session {}: {} left.",
            uk::date(self.last_day),
            sessions(self.sessions_left)
        );
        if self.short_notice {
            text.push_str(&format!(
                " Fewer than {MIN_ENDING_COUNTDOWN} sessions' notice: tell the child now."
            ));
        } else if self.counting_down && self.sessions_left > 0 {
            text.push_str(" The countdown has begun.");
        }
        text
    }
}

/// What a prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptKind {
    /// Prepare the child for the break in this session.
    PrepareForBreak,
    /// Begin the ending countdown with the child.
    BeginEndingCountdown,
    /// The last session has passed: close the case as a planned ending.
    CloseAtPlannedEnding,
}

/// A prompt to raise once `raise_on` has come, about the session on `session_day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    /// Stable for the same break or ending, so a prompt is raised once.
    pub key: String,
    pub raise_on: Date,
    pub session_day: Date,
    /// What the title adds after the case number: dates and counts, never a name.
    pub detail: String,
}

/// The slot's weekdays from `from` on (at most [`HORIZON_WEEKS`] of them).
fn slot_days(slot: &Slot, from: Date) -> impl Iterator<Item = Date> {
    // `nth_weekday(1, _)` is the next one strictly after `from`.
    let first = if from.weekday() == slot.weekday {
        from
    } else {
        from.nth_weekday(1, slot.weekday).unwrap_or(from)
    };
    (0..HORIZON_WEEKS).filter_map(move |w| first.checked_add((w * 7).days()).ok())
}

/// What a break is called: the school's own reason when it has one (a bank holiday in the
/// Easter holidays is the Easter holidays to a child), else the bank holiday.
fn label(
    calendar: &TermCalendar,
    date: Date,
    status: &DayStatus,
    holidays: Holidays<'_>,
) -> String {
    let none = BankHolidays::new();
    let school = calendar.status(date, Holidays::new(&none, holidays.division()));
    match school.as_ref().unwrap_or(status) {
        DayStatus::OutsideTerm => "School holidays".to_owned(),
        other => other.label(),
    }
}

/// Works out the next break and the planned ending as of `today`.
///
/// Sessions still to come are the booked ones from today on that are not cancelled and have
/// no attendance yet. A series is booked a term at a time, so an ending in a later term also
/// counts the term days on the slot's weekday after the last booked session.
pub fn outlook(
    slot: &Slot,
    calendar: &TermCalendar,
    holidays: Holidays<'_>,
    sessions: &[SessionDay],
    today: Date,
) -> FrameOutlook {
    let mut upcoming: Vec<Date> = sessions
        .iter()
        .filter(|s| !s.cancelled && !s.recorded && s.date >= today)
        .map(|s| s.date)
        .collect();
    upcoming.sort();
    upcoming.dedup();
    let start = today.max(slot.from);
    let ends = slot.until;

    let next_break = slot_days(slot, start)
        .take_while(|d| ends.is_none_or(|u| *d <= u))
        .find_map(|d| calendar.status(d, holidays).map(|s| (d, s)))
        .map(|(first_day, status)| {
            let resumes = slot_days(slot, first_day)
                .take_while(|d| ends.is_none_or(|u| *d <= u))
                .find(|d| calendar.status(*d, holidays).is_none());
            let before: Vec<Date> = upcoming
                .iter()
                .copied()
                .filter(|d| *d < first_day)
                .collect();
            BreakAhead {
                first_day,
                what: label(calendar, first_day, &status, holidays),
                resumes,
                sessions_before: before.len() as u32,
                last_session_before: before.last().copied(),
            }
        });

    let ending = ends.and_then(|until| {
        let left = ending_days(slot, calendar, holidays, sessions, today, until);
        let last_day = left.last().copied().or_else(|| {
            sessions
                .iter()
                .filter(|s| !s.cancelled && s.date <= until)
                .map(|s| s.date)
                .max()
        })?;
        let sessions_left = left.len() as u32;
        Some(EndingAhead {
            last_day,
            sessions_left,
            counting_down: false,
            short_notice: sessions_left > 0
                && sessions_left < u32::from(MIN_ENDING_COUNTDOWN)
                && last_day >= today,
        })
    });
    FrameOutlook { next_break, ending }
}

/// The sessions left before the ending (booked and yet to be booked), earliest first.
fn ending_days(
    slot: &Slot,
    calendar: &TermCalendar,
    holidays: Holidays<'_>,
    sessions: &[SessionDay],
    today: Date,
    until: Date,
) -> Vec<Date> {
    let mut left: Vec<Date> = sessions
        .iter()
        .filter(|s| !s.cancelled && !s.recorded && s.date >= today && s.date <= until)
        .map(|s| s.date)
        .collect();
    let start = today.max(slot.from);
    let after = sessions
        .iter()
        .map(|s| s.date)
        .max()
        .map_or(start, |d| d.checked_add(1.day()).unwrap_or(d).max(start));
    if after <= until {
        left.extend(
            slot_days(slot, after)
                .take_while(|d| *d <= until)
                .filter(|d| calendar.status(*d, holidays).is_none()),
        );
    }
    left.sort();
    left.dedup();
    left
}

/// The outlook with the policy applied (whether the countdown has begun).
pub fn outlook_with(
    slot: &Slot,
    calendar: &TermCalendar,
    holidays: Holidays<'_>,
    sessions: &[SessionDay],
    today: Date,
    policy: &FramePolicy,
) -> FrameOutlook {
    let mut found = outlook(slot, calendar, holidays, sessions, today);
    if let Some(ending) = &mut found.ending {
        ending.counting_down = ending.sessions_left <= u32::from(policy.ending_countdown_sessions);
    }
    found
}

/// The prompts for this case that should have been raised by `today`: preparing the child in
/// the session `policy.break_notice_sessions` before the next break, beginning the ending
/// countdown `policy.ending_countdown_sessions` sessions before the last (at once, when
/// fewer are left), and closing the case once the last session has passed. Each is raised a
/// week before its session, so it can be planned for; one whose session has passed is not
/// raised any more (but closing is, until the case closes).
pub fn prompts(
    slot: &Slot,
    calendar: &TermCalendar,
    holidays: Holidays<'_>,
    sessions: &[SessionDay],
    today: Date,
    policy: &FramePolicy,
) -> Vec<Prompt> {
    let mut out = Vec::new();
    let found = outlook(slot, calendar, holidays, sessions, today);
    let week_before = |d: Date| d.checked_sub(7.days()).unwrap_or(d);
    if let Some(b) = &found.next_break {
        let before: Vec<Date> = sessions
            .iter()
            .filter(|s| !s.cancelled && !s.recorded && s.date >= today && s.date < b.first_day)
            .map(|s| s.date)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let notice = usize::from(policy.break_notice_sessions.max(1));
        if let Some(day) = before
            .len()
            .checked_sub(notice)
            .and_then(|i| before.get(i))
            .or(before.first())
        {
            let resumes = b
                .resumes
                .map(|r| format!(", sessions resume {}", uk::date(r)))
                .unwrap_or_default();
            out.push(Prompt {
                kind: PromptKind::PrepareForBreak,
                key: format!("break:{}", b.first_day),
                raise_on: week_before(*day),
                session_day: *day,
                detail: format!("{} from {}{resumes}", b.what, uk::date(b.first_day)),
            });
        }
    }
    if let Some(until) = slot.until {
        let left = ending_days(slot, calendar, holidays, sessions, today, until);
        let countdown = usize::from(policy.ending_countdown_sessions.max(MIN_ENDING_COUNTDOWN));
        if let (Some(first), Some(last)) = (left.first(), left.last()) {
            let day = left
                .len()
                .checked_sub(countdown)
                .and_then(|i| left.get(i))
                .unwrap_or(first);
            let n = left.len() - left.iter().position(|d| d == day).unwrap_or(0);
            out.push(Prompt {
                kind: PromptKind::BeginEndingCountdown,
                key: format!("ending:{last}"),
                raise_on: week_before(*day),
                session_day: *day,
                detail: format!(
                    "{n} {} left, the last on {}",
                    if n == 1 { "session" } else { "sessions" },
                    uk::date(*last)
                ),
            });
        } else if let Some(ending) = &found.ending
            && ending.last_day < today
        {
            out.push(Prompt {
                kind: PromptKind::CloseAtPlannedEnding,
                key: format!("ending-close:{}", ending.last_day),
                raise_on: ending.last_day.checked_add(1.day()).unwrap_or(today),
                session_day: ending.last_day,
                detail: format!("the last session was on {}", uk::date(ending.last_day)),
            });
        }
    }
    out.retain(|p| p.raise_on <= today);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Division;
    use crate::schedule::{ClosureKind, HalfTerm, SchoolClosure, Series, Term};
    use jiff::civil::{Weekday, date, time};

    /// Spring 2027 at an English school: 4 January to 26 March, half-term 15-19 February,
    /// an INSET day on Monday 4 January; summer term from 12 April.
    fn calendar() -> TermCalendar {
        let term = |name: &str, starts, ends, half: (Date, Date)| Term {
            name: name.into(),
            starts,
            ends,
            half_terms: vec![HalfTerm {
                starts: half.0,
                ends: half.1,
            }],
        };
        TermCalendar::new(
            "Oakfield",
            vec![
                term(
                    "Spring",
                    date(2027, 1, 4),
                    date(2027, 3, 26),
                    (date(2027, 2, 15), date(2027, 2, 19)),
                ),
                term(
                    "Summer",
                    date(2027, 4, 12),
                    date(2027, 7, 21),
                    (date(2027, 5, 31), date(2027, 6, 4)),
                ),
            ],
            vec![SchoolClosure::on(
                ClosureKind::Inset,
                date(2027, 1, 4),
                "Training day",
            )],
        )
        .expect("a valid calendar")
    }

    fn holidays() -> BankHolidays {
        BankHolidays::shipped()
    }

    fn slot(until: Option<Date>) -> Slot {
        Slot {
            weekday: Weekday::Monday,
            start: time(15, 30, 0, 0),
            minutes: 50,
            from: date(2027, 1, 4),
            until,
        }
    }

    fn booked(slot: &Slot, cal: &TermCalendar, list: &BankHolidays) -> Vec<SessionDay> {
        Series::generate(
            slot,
            cal,
            Holidays::new(list, Division::EnglandAndWales),
            None,
        )
        .sessions
        .iter()
        .map(|s| SessionDay {
            date: s.date,
            cancelled: false,
            recorded: false,
        })
        .collect()
    }

    #[test]
    fn the_next_break_is_half_term_with_the_sessions_left_before_it() {
        let (cal, list) = (calendar(), holidays());
        let h = Holidays::new(&list, Division::EnglandAndWales);
        let s = slot(None);
        let sessions = booked(&s, &cal, &list);
        let found = outlook(&s, &cal, h, &sessions, date(2027, 1, 20));
        let b = found.next_break.expect("a break");
        assert_eq!(b.first_day, date(2027, 2, 15));
        assert_eq!(b.what, "Spring half-term");
        assert_eq!(b.resumes, Some(date(2027, 2, 22)));
        // 25 January, 1 and 8 February.
        assert_eq!(b.sessions_before, 3);
        assert_eq!(b.last_session_before, Some(date(2027, 2, 8)));
        assert_eq!(
            b.describe(),
            "Spring half-term from 15/02/2027, sessions resume 22/02/2027: 3 sessions before \
             it, the last on 08/02/2027."
        );
        // After half-term, the Easter Monday bank holiday falls in the holidays: the break is
        // the school holidays from 29 March, sessions resuming 12 April.
        let later = outlook(&s, &cal, h, &sessions, date(2027, 3, 1)).next_break;
        let later = later.expect("a break");
        assert_eq!(later.first_day, date(2027, 3, 29));
        assert_eq!(later.what, "School holidays");
        assert_eq!(later.resumes, Some(date(2027, 4, 12)));
        assert_eq!(found.ending, None, "no planned ending set");
    }

    #[test]
    fn a_break_prompt_comes_a_week_before_the_session_before_the_break() {
        let (cal, list) = (calendar(), holidays());
        let h = Holidays::new(&list, Division::EnglandAndWales);
        let s = slot(None);
        let sessions = booked(&s, &cal, &list);
        let policy = FramePolicy::default();
        // The session before half-term is 8 February: raised from 1 February.
        assert!(prompts(&s, &cal, h, &sessions, date(2027, 1, 31), &policy).is_empty());
        let raised = prompts(&s, &cal, h, &sessions, date(2027, 2, 1), &policy);
        assert_eq!(raised.len(), 1, "{raised:?}");
        assert_eq!(raised[0].kind, PromptKind::PrepareForBreak);
        assert_eq!(raised[0].session_day, date(2027, 2, 8));
        assert_eq!(raised[0].key, "break:2027-02-15");
        assert_eq!(
            raised[0].detail,
            "Spring half-term from 15/02/2027, sessions resume 22/02/2027"
        );
        // Two sessions' notice: the session of 1 February, raised from 25 January.
        let two = FramePolicy {
            break_notice_sessions: 2,
            ..policy
        };
        let raised = prompts(&s, &cal, h, &sessions, date(2027, 1, 25), &two);
        assert_eq!(raised[0].session_day, date(2027, 2, 1));
    }

    #[test]
    fn the_ending_countdown_starts_six_sessions_before_the_last_across_half_term() {
        let (cal, list) = (calendar(), holidays());
        let h = Holidays::new(&list, Division::EnglandAndWales);
        // Ending on 15 March: sessions 11 Jan .. 15 Mar without 15 Feb.
        let s = slot(Some(date(2027, 3, 15)));
        let sessions = booked(&s, &cal, &list);
        let policy = FramePolicy::default();
        let found = outlook_with(&s, &cal, h, &sessions, date(2027, 1, 5), &policy);
        let ending = found.ending.expect("an ending");
        assert_eq!(ending.last_day, date(2027, 3, 15));
        assert_eq!(ending.sessions_left, 9);
        assert!(!ending.counting_down);
        // Six before the last, counting the last: 8 Feb, 22 Feb (after half-term), 1, 8, 15 Mar
        // are five; the sixth from the end is 1 February.
        let raised = prompts(&s, &cal, h, &sessions, date(2027, 1, 25), &policy);
        let countdown = raised
            .iter()
            .find(|p| p.kind == PromptKind::BeginEndingCountdown)
            .expect("the countdown");
        assert_eq!(countdown.session_day, date(2027, 2, 1));
        assert_eq!(countdown.detail, "6 sessions left, the last on 15/03/2027");
        let found = outlook_with(&s, &cal, h, &sessions, date(2027, 2, 1), &policy);
        assert!(
            found
                .ending
                .is_some_and(|e| e.counting_down && e.sessions_left == 6)
        );
    }

    #[test]
    fn an_ending_set_late_is_short_notice_and_prompted_at_once_then_closing() {
        let (cal, list) = (calendar(), holidays());
        let h = Holidays::new(&list, Division::EnglandAndWales);
        let s = slot(Some(date(2027, 1, 25)));
        let sessions = booked(&s, &cal, &list);
        let policy = FramePolicy::default();
        let today = date(2027, 1, 10);
        let found = outlook_with(&s, &cal, h, &sessions, today, &policy);
        let ending = found.ending.expect("an ending");
        assert_eq!(ending.sessions_left, 3);
        assert!(ending.short_notice && ending.counting_down);
        assert_eq!(
            ending.describe(),
            "Last session 25/01/2027: 3 sessions left. Fewer than 4 sessions' notice: tell \
             the child now."
        );
        let raised = prompts(&s, &cal, h, &sessions, today, &policy);
        assert!(
            raised
                .iter()
                .any(|p| p.kind == PromptKind::BeginEndingCountdown
                    && p.session_day == date(2027, 1, 11)),
            "{raised:?}"
        );
        // Every session recorded: the last has passed, so close the case.
        let done: Vec<SessionDay> = sessions
            .iter()
            .map(|s| SessionDay {
                recorded: true,
                ..*s
            })
            .collect();
        let raised = prompts(&s, &cal, h, &done, date(2027, 1, 26), &policy);
        assert_eq!(raised.len(), 1, "{raised:?}");
        assert_eq!(raised[0].kind, PromptKind::CloseAtPlannedEnding);
        assert_eq!(raised[0].key, "ending-close:2027-01-25");
    }

    #[test]
    fn an_ending_in_a_later_term_counts_the_term_days_not_yet_booked() {
        let (cal, list) = (calendar(), holidays());
        let h = Holidays::new(&list, Division::EnglandAndWales);
        let s = slot(Some(date(2027, 4, 26)));
        let sessions = booked(&s, &cal, &list);
        let found = outlook(&s, &cal, h, &sessions, date(2027, 3, 15));
        // 15 and 22 March booked; 12, 19 and 26 April to come (5 April is Easter Monday and
        // in the holidays anyway).
        let ending = found.ending.expect("an ending");
        assert_eq!(ending.sessions_left, 5);
        assert_eq!(ending.last_day, date(2027, 4, 26));
    }

    #[test]
    fn the_policy_keeps_to_its_bounds() {
        let parse = |n: &str, c: &str| {
            FramePolicy::parse(&FramePolicyInput {
                break_notice_sessions: n.into(),
                ending_countdown_sessions: c.into(),
                feed_shows_initials: false,
            })
        };
        assert!(parse("1", "6").is_ok());
        assert!(parse("1", "3").is_err(), "never fewer than four");
        assert!(parse("0", "6").is_err());
        assert!(parse("x", "6").is_err());
        assert_eq!(FramePolicy::default().ending_countdown_sessions, 6);
    }
}
