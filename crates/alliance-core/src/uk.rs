//! UK conventions for showing dates and times: 31/12/2026, 24-hour clock, Europe/London.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The time zone every wall-clock time in Alliance is shown in. The zone database is built
/// into the binary, so this never reads the system's files.
pub fn london() -> TimeZone {
    TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC)
}

/// `31/12/2026`.
pub fn date(date: Date) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

/// `31/12/2026 15:30` in Europe/London.
pub fn date_time(instant: Timestamp) -> String {
    let zoned = instant.to_zoned_datetime(london());
    format!(
        "{} {:02}:{:02}",
        date(zoned.date()),
        zoned.hour(),
        zoned.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_day_first() {
        assert_eq!(date(jiff::civil::date(2026, 12, 31)), "31/12/2026");
        assert_eq!(date(jiff::civil::date(2027, 1, 5)), "05/01/2027");
    }

    #[test]
    fn times_follow_british_summer_time() {
        // 14:30 UTC is 15:30 in London in summer and 14:30 in winter.
        let summer: Timestamp = "2026-07-01T14:30:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let winter: Timestamp = "2026-12-01T14:30:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(date_time(summer), "01/07/2026 15:30");
        assert_eq!(date_time(winter), "01/12/2026 14:30");
        assert_ne!(london(), TimeZone::UTC);
    }
}
