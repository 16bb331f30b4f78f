//! A therapist's calendar feed: their sessions as an iCalendar (RFC 5545) document that
//! Outlook, Google Calendar and Apple Calendar subscribe to at a private, revocable address.
//!
//! Calendar providers fetch and keep these feeds, so an event carries the session's time,
//! length, room and site and nothing about the child: the summary is "Therapy session", and
//! the child's initials are added only when the service's policy turns them on (the caller
//! decides; this module writes what it is given). There is no description, no case number
//! and no link back into Alliance.
//!
//! Times are written as Europe/London wall-clock times (`DTSTART;TZID=Europe/London:…`) with
//! the zone's rules in a `VTIMEZONE`, so a weekly 15:30 session shows at 15:30 on both sides
//! of the clock changes, whatever zone the subscriber's device is in.
//!
//! Written here rather than with the `icalendar` crate (whose parser reads term calendars in
//! [`crate::schedule_import`]): its writer takes chrono date-times and has no `VTIMEZONE`
//! with `STANDARD`/`DAYLIGHT` parts, and the few lines below control the escaping and the
//! folding exactly. Pure: the caller passes the events, the time and the token's randomness.

use crate::auth::{from_hex, new_secret};
use crate::schedule::session_interval;
use crate::uk;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The feed token's prefix (`as_` is a session, `at_` an API token): secret scanners and
/// people can tell what a leaked one is.
pub const TOKEN_PREFIX: &str = "af_";
/// The file extension calendar programs like to see; the address works with or without it.
pub const EXTENSION: &str = ".ics";
/// Where the public feeds are served.
pub const PATH_PREFIX: &str = "/feeds/";
/// How far back the feed reaches, in weeks: enough to look back on last month.
pub const WEEKS_BACK: i64 = 4;
/// How far ahead the feed reaches, in weeks: about two terms.
pub const WEEKS_AHEAD: i64 = 26;
/// How often subscribers are asked to fetch the feed again.
pub const REFRESH: &str = "PT1H";
/// The content type the feed is served with.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// A new feed token from 32 random bytes: `af_` and 64 hexadecimal digits.
pub fn new_token(random: [u8; 32]) -> String {
    new_secret(TOKEN_PREFIX, random)
}

/// The token in the last part of a feed's address (`af_…`, with or without `.ics`), or `None`
/// when it cannot be a feed token at all (so nothing is looked up for it).
pub fn token_from_path(segment: &str) -> Option<&str> {
    let token = segment.strip_suffix(EXTENSION).unwrap_or(segment);
    let digits = token.strip_prefix(TOKEN_PREFIX)?;
    (digits.len() == 64
        && digits
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && from_hex(digits).is_some())
    .then_some(token)
}

/// The feed's path on this server, with the `.ics` calendar programs like.
pub fn path_of(token: &str) -> String {
    format!("{PATH_PREFIX}{token}{EXTENSION}")
}

/// The dates a feed covers, inclusive: [`WEEKS_BACK`] before `today` to [`WEEKS_AHEAD`] after.
pub fn window(today: Date) -> (Date, Date) {
    let from = today.checked_sub(WEEKS_BACK.weeks()).unwrap_or(today);
    let to = today.checked_add(WEEKS_AHEAD.weeks()).unwrap_or(today);
    (from, to)
}

/// One session as the feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// The session's id: the event's UID, stable for as long as the session exists, so a
    /// moved session moves in the subscriber's calendar rather than appearing twice.
    pub id: String,
    /// The London date and wall-clock time agreed for the session.
    pub date: Date,
    pub start: Time,
    pub minutes: u16,
    pub room: String,
    pub site: Option<String>,
    /// The child's initials ("ARC"), only when the service's policy shows them.
    pub initials: Option<String>,
    pub cancelled: bool,
    /// Goes up each time the session changes (its version less one).
    pub sequence: u32,
    pub last_modified: Timestamp,
}

impl FeedEvent {
    /// "Therapy session", "Therapy session (A.R.C.)", "Cancelled: Therapy session".
    pub fn summary(&self) -> String {
        let mut summary = String::from("Therapy session");
        if let Some(initials) = self
            .initials
            .as_deref()
            .map(dotted)
            .filter(|i| !i.is_empty())
        {
            summary.push_str(&format!(" ({initials})"));
        }
        if self.cancelled {
            summary.insert_str(0, "Cancelled: ");
        }
        summary
    }

    /// "Willow Room, Oakfield Primary".
    pub fn location(&self) -> String {
        match &self.site {
            Some(site) => format!("{}, {site}", self.room),
            None => self.room.clone(),
        }
    }

    /// The London wall-clock time the session ends: its length is elapsed time, as booking
    /// counts it.
    fn end(&self) -> DateTime {
        let (_, end) = session_interval(self.date, self.start, self.minutes);
        end.to_zoned_datetime(uk::london()).datetime()
    }
}

/// "ARC" as "A.R.C.": letters only, each followed by a full stop.
fn dotted(initials: &str) -> String {
    initials
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(|c| format!("{c}."))
        .collect()
}

/// The Europe/London zone's rules since 1996 (the EU's last Sunday of March and of October,
/// at 01:00 UTC), for clients that do not know the zone by name.
const VTIMEZONE: [&str; 18] = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/London",
    "X-LIC-LOCATION:Europe/London",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19700329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19701025T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// The whole feed: `name` is the calendar's name in the subscriber's list, `generated_at`
/// the DTSTAMP of every event. Lines end CRLF and are folded at 75 octets.
pub fn write_ics(name: &str, generated_at: Timestamp, events: &[FeedEvent]) -> String {
    let mut out = String::with_capacity(1024 + events.len() * 420);
    let mut line = |text: &str| fold_into(&mut out, text);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Alliance//Therapy sessions feed//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    line("X-WR-CALDESC:Times and rooms of your sessions. No child's name.");
    line("X-WR-TIMEZONE:Europe/London");
    line(&format!("REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}"));
    line(&format!("X-PUBLISHED-TTL:{REFRESH}"));
    for text in VTIMEZONE {
        line(text);
    }
    let stamp = utc_stamp(generated_at);
    for event in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}@alliance", escape_text(&event.id)));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!("LAST-MODIFIED:{}", utc_stamp(event.last_modified)));
        line(&format!(
            "DTSTART;TZID=Europe/London:{}",
            local_stamp(event.date.to_datetime(event.start))
        ));
        line(&format!(
            "DTEND;TZID=Europe/London:{}",
            local_stamp(event.end())
        ));
        line(&format!("SEQUENCE:{}", event.sequence));
        line(&format!("SUMMARY:{}", escape_text(&event.summary())));
        line(&format!("LOCATION:{}", escape_text(&event.location())));
        line(if event.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        });
        line(if event.cancelled {
            "TRANSP:TRANSPARENT"
        } else {
            "TRANSP:OPAQUE"
        });
        line("CLASS:PRIVATE");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// `20270322T153000`: a wall-clock time, read in the TZID given beside it.
fn local_stamp(at: DateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `20261130T090000Z`: an instant in UTC.
fn utc_stamp(at: Timestamp) -> String {
    format!(
        "{}Z",
        local_stamp(at.to_zoned_datetime(TimeZone::UTC).datetime())
    )
}

/// A TEXT value (RFC 5545 section 3.3.11): backslash, semicolon and comma escaped, a line
/// break written as `\n`, and other control characters (which TEXT may not hold) dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line is longer than 75 octets (RFC 5545
/// section 3.1): each continuation starts with a space, and a character is never split.
fn fold_into(out: &mut String, line: &str) {
    const LIMIT: usize = 75;
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > LIMIT {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn event(day: Date, room: &str) -> FeedEvent {
        FeedEvent {
            id: "0190a0b0-0000-7000-8000-000000000001".into(),
            date: day,
            start: time(15, 30, 0, 0),
            minutes: 50,
            room: room.into(),
            site: Some("Oakfield Primary".into()),
            initials: None,
            cancelled: false,
            sequence: 0,
            last_modified: Timestamp::UNIX_EPOCH,
        }
    }

    fn at() -> Timestamp {
        "2026-11-30T09:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The content lines with their folds undone.
    fn unfolded(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn wall_clock_times_stay_at_half_past_three_across_the_clock_change() {
        let ics = write_ics(
            "Sessions",
            at(),
            &[
                event(date(2027, 3, 22), "Willow Room"),
                event(date(2027, 4, 12), "Willow Room"),
                event(date(2026, 10, 26), "Willow Room"),
            ],
        );
        let lines = unfolded(&ics);
        for day in ["20270322", "20270412", "20261026"] {
            assert!(
                lines.contains(&format!("DTSTART;TZID=Europe/London:{day}T153000")),
                "{day}: {ics}"
            );
            assert!(
                lines.contains(&format!("DTEND;TZID=Europe/London:{day}T162000")),
                "{day}: {ics}"
            );
        }
        // The zone's rules travel with the feed, for clients that do not know it by name.
        assert!(lines.contains(&"BEGIN:VTIMEZONE".to_owned()));
        assert!(lines.contains(&"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU".to_owned()));
        assert!(lines.contains(&"TZNAME:BST".to_owned()));
        assert!(lines.contains(&"DTSTAMP:20261130T090000Z".to_owned()));
        assert!(lines.contains(&"X-PUBLISHED-TTL:PT1H".to_owned()));
        assert!(lines.contains(&"REFRESH-INTERVAL;VALUE=DURATION:PT1H".to_owned()));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "bare LF in {ics:?}"
        );
    }

    #[test]
    fn a_session_across_the_night_of_the_change_keeps_its_elapsed_length() {
        // 00:30 for 120 minutes on 28/03/2027, the night the clocks go forward: two hours
        // later is 03:30 BST, as booking counts it.
        let mut night = event(date(2027, 3, 28), "Willow Room");
        night.start = time(0, 30, 0, 0);
        night.minutes = 120;
        let lines = unfolded(&write_ics("Sessions", at(), &[night]));
        assert!(lines.contains(&"DTEND;TZID=Europe/London:20270328T033000".to_owned()));
    }

    #[test]
    fn commas_semicolons_backslashes_and_line_breaks_are_escaped() {
        assert_eq!(
            escape_text("Room 1, Block A; upstairs\\back\nnear the hall\r\nend\u{7}"),
            "Room 1\\, Block A\\; upstairs\\\\back\\nnear the hall\\nend"
        );
        let ics = write_ics(
            "Sessions",
            at(),
            &[event(date(2027, 3, 22), "Willow, Oak; Ash")],
        );
        assert!(
            unfolded(&ics)
                .contains(&"LOCATION:Willow\\, Oak\\; Ash\\, Oakfield Primary".to_owned()),
            "{ics}"
        );
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_without_splitting_a_character() {
        let room = "The Very Long Named Sensory and Creative Arts Room — Ground Floor, East Wing (by the café)";
        let ics = write_ics("Sessions", at(), &[event(date(2027, 3, 22), room)]);
        for physical in ics.split("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical:?}",
                physical.len()
            );
        }
        let location = unfolded(&ics)
            .into_iter()
            .find(|l| l.starts_with("LOCATION:"))
            .unwrap_or_default();
        assert_eq!(
            location,
            format!("LOCATION:{}\\, Oakfield Primary", escape_text(room))
        );
        // Folding exactly at the limit: 75 octets stay on one line, 76 do not.
        let mut out = String::new();
        fold_into(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
        out.clear();
        fold_into(&mut out, &"é".repeat(40));
        assert!(out.split("\r\n").all(|l| l.len() <= 75), "{out:?}");
        assert_eq!(out.replace("\r\n ", ""), format!("{}\r\n", "é".repeat(40)));
    }

    #[test]
    fn cancelled_sessions_say_so_and_free_the_time() {
        let mut cancelled = event(date(2027, 3, 22), "Willow Room");
        cancelled.cancelled = true;
        let lines = unfolded(&write_ics("Sessions", at(), &[cancelled]));
        assert!(lines.contains(&"STATUS:CANCELLED".to_owned()));
        assert!(lines.contains(&"TRANSP:TRANSPARENT".to_owned()));
        assert!(lines.contains(&"SUMMARY:Cancelled: Therapy session".to_owned()));
        let lines = unfolded(&write_ics(
            "Sessions",
            at(),
            &[event(date(2027, 3, 22), "Willow Room")],
        ));
        assert!(lines.contains(&"STATUS:CONFIRMED".to_owned()));
    }

    #[test]
    fn no_initials_unless_asked_and_nothing_else_about_the_child() {
        let plain = event(date(2027, 3, 22), "Willow Room");
        assert_eq!(plain.summary(), "Therapy session");
        let ics = write_ics("Sessions", at(), std::slice::from_ref(&plain));
        assert!(unfolded(&ics).contains(&"SUMMARY:Therapy session".to_owned()));
        assert!(!ics.contains("DESCRIPTION"), "{ics}");
        assert!(!ics.contains("ATTENDEE"), "{ics}");
        let with = FeedEvent {
            initials: Some("ARC".into()),
            ..plain
        };
        assert_eq!(with.summary(), "Therapy session (A.R.C.)");
        let empty = FeedEvent {
            initials: Some(String::new()),
            ..with
        };
        assert_eq!(empty.summary(), "Therapy session");
    }

    #[test]
    fn the_uid_is_the_session_id_and_stays_put() {
        let first = write_ics("Sessions", at(), &[event(date(2027, 3, 22), "Willow Room")]);
        let mut moved = event(date(2027, 3, 23), "Oak Room");
        moved.sequence = 1;
        let second = write_ics("Sessions", at(), &[moved]);
        let uid = |ics: &str| {
            unfolded(ics)
                .into_iter()
                .find(|l| l.starts_with("UID:"))
                .unwrap_or_default()
        };
        assert_eq!(
            uid(&first),
            "UID:0190a0b0-0000-7000-8000-000000000001@alliance"
        );
        assert_eq!(uid(&first), uid(&second));
        assert!(unfolded(&second).contains(&"SEQUENCE:1".to_owned()));
    }

    #[test]
    fn tokens_are_recognised_in_the_address_with_or_without_the_extension() {
        let token = new_token([7u8; 32]);
        assert!(token.starts_with("af_") && token.len() == 67);
        assert_eq!(token_from_path(&token), Some(token.as_str()));
        assert_eq!(
            token_from_path(&format!("{token}.ics")),
            Some(token.as_str())
        );
        assert_eq!(path_of(&token), format!("/feeds/{token}.ics"));
        for bad in [
            "",
            ".ics",
            "af_",
            "at_0707070707070707070707070707070707070707070707070707070707070707",
            "af_070707070707070707070707070707070707070707070707070707070707070",
            "af_0707070707070707070707070707070707070707070707070707070707070707.ics.ics",
            "af_0707070707070707070707070707070707070707070707070707070707070G07",
            "af_0707070707070707070707070707070707070707070707070707070707070A07",
        ] {
            assert_eq!(token_from_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_window_reaches_four_weeks_back_and_twenty_six_ahead() {
        assert_eq!(
            window(date(2026, 11, 30)),
            (date(2026, 11, 2), date(2027, 5, 31))
        );
    }
}
