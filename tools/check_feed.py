#!/usr/bin/env python3
"""Reads a calendar feed (iCalendar, on standard input) with the `icalendar` package, an
independent parser, and prints what a subscriber's calendar would see, as JSON:

    {"calendar": {"name", "refresh_interval", "published_ttl", "method", "prodid"},
     "events": [{"uid", "summary", "location", "status", "tzid",
                 "start_local", "end_local",   # Europe/London wall clock, "2027-03-22 15:30"
                 "start_utc",                   # the instant, "2027-03-22T15:30:00Z"
                 "start_utc_by_vtimezone"}]}    # the same instant from the feed's own VTIMEZONE

`start_utc_by_vtimezone` reads the time zone from the VTIMEZONE component in the feed (not
from the system's zone database by name), so a wrong BST/GMT rule shows up as a difference.
Exits non-zero, with the reason on standard error, when the feed does not parse.

Run by the integration tests (crates/alliance/tests/it/feeds.rs) with the Python of the test
tools' virtualenv (scripts/bootstrap installs it, with icalendar pinned in
tools/requirements-test.txt).
"""

import json
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar

LONDON = ZoneInfo("Europe/London")


def text(component, name):
    value = component.get(name)
    return None if value is None else str(value)


def duration(value):
    return None if value is None else str(value.to_ical().decode())


def main():
    data = sys.stdin.buffer.read()
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as error:  # noqa: BLE001 - any parse failure is the answer
        print(f"the feed did not parse: {error}", file=sys.stderr)
        return 1

    zones = {}
    for vtimezone in calendar.walk("VTIMEZONE"):
        tzid = str(vtimezone["TZID"])
        zones[tzid] = vtimezone.to_tz(lookup_tzid=False)

    events = []
    for event in calendar.walk("VEVENT"):
        start_prop = event["DTSTART"]
        end_prop = event["DTEND"]
        start = start_prop.dt
        end = end_prop.dt
        if not isinstance(start, datetime) or start.tzinfo is None:
            print("an event's DTSTART is not a time in a zone", file=sys.stderr)
            return 1
        tzid = start_prop.params.get("TZID")
        by_vtimezone = None
        if tzid in zones:
            naive = start.replace(tzinfo=None)
            by_vtimezone = (
                naive.replace(tzinfo=zones[tzid])
                .astimezone(timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        events.append(
            {
                "uid": text(event, "UID"),
                "summary": text(event, "SUMMARY"),
                "location": text(event, "LOCATION"),
                "status": text(event, "STATUS"),
                "tzid": tzid,
                "start_local": start.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"),
                "end_local": end.astimezone(LONDON).strftime("%Y-%m-%d %H:%M"),
                "start_utc": start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "start_utc_by_vtimezone": by_vtimezone,
            }
        )

    print(
        json.dumps(
            {
                "calendar": {
                    "name": text(calendar, "X-WR-CALNAME"),
                    "prodid": text(calendar, "PRODID"),
                    "method": text(calendar, "METHOD"),
                    "refresh_interval": duration(calendar.get("REFRESH-INTERVAL")),
                    "published_ttl": text(calendar, "X-PUBLISHED-TTL"),
                    "timezones": sorted(zones),
                },
                "events": events,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
