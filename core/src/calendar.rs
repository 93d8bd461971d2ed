//! Local time at a training centre, half-days, and iCalendar (RFC 5545) text.
//!
//! A centre's events are kept in its wall-clock time (`2026-09-01T09:00`) with its time zone,
//! as people plan them; the zone turns them into instants (for a check-in window) and into
//! `VTIMEZONE` blocks (for calendar feeds). The zones are those of metropolitan and overseas
//! France, each with its rule: no lookup table to fetch or update.

use std::fmt::Write;

/// A time zone of France.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Central European Time with summer time (last Sunday of March to last Sunday of
    /// October, at 01:00 UTC).
    Paris,
    Guadeloupe,
    Martinique,
    Cayenne,
    Reunion,
    Mayotte,
}

impl Zone {
    pub const ALL: [Zone; 6] = [
        Zone::Paris,
        Zone::Guadeloupe,
        Zone::Martinique,
        Zone::Cayenne,
        Zone::Reunion,
        Zone::Mayotte,
    ];

    /// The IANA name.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Paris => "Europe/Paris",
            Zone::Guadeloupe => "America/Guadeloupe",
            Zone::Martinique => "America/Martinique",
            Zone::Cayenne => "America/Cayenne",
            Zone::Reunion => "Indian/Reunion",
            Zone::Mayotte => "Indian/Mayotte",
        }
    }

    pub fn parse(name: &str) -> Option<Zone> {
        Zone::ALL.into_iter().find(|z| z.name() == name)
    }

    /// The standard offset from UTC, in minutes.
    fn standard(self) -> i64 {
        match self {
            Zone::Paris => 60,
            Zone::Guadeloupe | Zone::Martinique => -240,
            Zone::Cayenne => -180,
            Zone::Reunion => 240,
            Zone::Mayotte => 180,
        }
    }

    /// The offset from UTC at an instant (Unix seconds), in minutes.
    pub fn offset_at(self, secs: i64) -> i64 {
        if self != Zone::Paris {
            return self.standard();
        }
        let (year, ..) = civil(secs.div_euclid(86_400));
        let start = (last_sunday(year, 3) * 86_400) + 3600;
        let end = (last_sunday(year, 10) * 86_400) + 3600;
        if (start..end).contains(&secs) {
            120
        } else {
            60
        }
    }

    /// The instant (Unix seconds) of a wall-clock time here. A time skipped by the spring change
    /// is read with the winter offset; a time seen twice in autumn is the first.
    pub fn instant(self, local: LocalTime) -> i64 {
        let naive = local.naive_secs();
        // The instants this wall-clock time has under each offset the zone uses, kept when the
        // zone does use that offset then.
        [self.standard(), self.standard() + 60]
            .into_iter()
            .map(|offset| (naive - offset * 60, offset))
            .filter(|(secs, offset)| self.offset_at(*secs) == *offset)
            .map(|(secs, _)| secs)
            .min()
            .unwrap_or(naive - self.standard() * 60)
    }

    /// The wall-clock time here at an instant.
    pub fn local(self, secs: i64) -> LocalTime {
        LocalTime::from_naive_secs(secs + self.offset_at(secs) * 60)
    }

    /// The zone's `VTIMEZONE` component.
    pub fn vtimezone(self) -> String {
        let offset = |minutes: i64| {
            let sign = if minutes < 0 { '-' } else { '+' };
            format!("{sign}{:02}{:02}", minutes.abs() / 60, minutes.abs() % 60)
        };
        let std = offset(self.standard());
        let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", self.name());
        if self == Zone::Paris {
            let _ = write!(
                out,
                "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
                 BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
            );
        } else {
            let _ = write!(
                out,
                "BEGIN:STANDARD\r\nTZOFFSETFROM:{std}\r\nTZOFFSETTO:{std}\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\n"
            );
        }
        out + "END:VTIMEZONE\r\n"
    }
}

/// A wall-clock date and time, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

impl LocalTime {
    /// Reads `YYYY-MM-DDTHH:MM` (seconds, if any, must be `:00`).
    pub fn parse(text: &str) -> Option<LocalTime> {
        let text = text
            .strip_suffix(":00")
            .filter(|t| t.len() == 16)
            .unwrap_or(text);
        let b = text.as_bytes();
        if b.len() != 16 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            let s = &text[range];
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten()
        };
        let t = LocalTime {
            year: i64::from(num(0..4)?),
            month: num(5..7)?,
            day: num(8..10)?,
            hour: num(11..13)?,
            minute: num(14..16)?,
        };
        let valid = (1..=12).contains(&t.month)
            && t.day >= 1
            && t.day <= days_in_month(t.year, t.month)
            && t.hour < 24
            && t.minute < 60;
        valid.then_some(t)
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `HH:MM`.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// Minutes since midnight.
    pub fn minutes(&self) -> i64 {
        i64::from(self.hour * 60 + self.minute)
    }

    /// The half-day it falls in: before 13:00 is the morning.
    pub fn half_day(&self) -> HalfDay {
        if self.hour < 13 {
            HalfDay::Morning
        } else {
            HalfDay::Afternoon
        }
    }

    /// Minutes from `self` to `later` on the wall clock.
    pub fn minutes_until(&self, later: &LocalTime) -> i64 {
        (later.naive_secs() - self.naive_secs()) / 60
    }

    /// The same date at another time of day (minutes since midnight, below 24 hours).
    pub fn at(&self, minutes: i64) -> LocalTime {
        LocalTime {
            hour: (minutes / 60) as u32,
            minute: (minutes % 60) as u32,
            ..*self
        }
    }

    /// `20260901T090000`, for iCalendar.
    pub fn ical(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}00",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }

    fn naive_secs(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
    }

    fn from_naive_secs(secs: i64) -> LocalTime {
        let (year, month, day) = civil(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        LocalTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
        }
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}T{}", self.date(), self.time())
    }
}

/// A half-day, the unit of attendance (émargement) in French practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HalfDay {
    Morning,
    Afternoon,
}

impl HalfDay {
    pub fn as_str(self) -> &'static str {
        match self {
            HalfDay::Morning => "morning",
            HalfDay::Afternoon => "afternoon",
        }
    }

    pub fn parse(text: &str) -> Option<HalfDay> {
        match text {
            "morning" => Some(HalfDay::Morning),
            "afternoon" => Some(HalfDay::Afternoon),
            _ => None,
        }
    }

    /// The part of the day it covers, in minutes since midnight.
    pub fn bounds(self) -> (i64, i64) {
        match self {
            HalfDay::Morning => (0, 13 * 60),
            HalfDay::Afternoon => (13 * 60, 24 * 60),
        }
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date (Howard Hinnant's algorithm, proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day count since 1970-01-01 of a date written `YYYY-MM-DD`, if it is one.
pub fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let year = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let valid = parts.next().is_none()
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day);
    valid.then(|| days_from_civil(year, month, day))
}

/// A day count since 1970-01-01 written `YYYY-MM-DD`.
pub fn day_text(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day count of the last Sunday of a month.
fn last_sunday(year: i64, month: u32) -> i64 {
    let last = days_from_civil(year, month, days_in_month(year, month));
    // 1970-01-01 was a Thursday: (days + 4) % 7 is 0 on Sundays.
    last - (last + 4).rem_euclid(7)
}

/// Escapes a text value (RFC 5545 §3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets without splitting a character (RFC 5545 §3.1).
pub fn line(out: &mut String, name: &str, value: &str) {
    let full = format!("{name}:{value}");
    let mut width = 0;
    for c in full.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// An event of a feed.
pub struct Event<'a> {
    pub uid: &'a str,
    /// The zone of `start` and `end`.
    pub zone: Zone,
    pub sequence: i64,
    /// Unix seconds of the last change.
    pub stamp: i64,
    pub start: LocalTime,
    pub end: LocalTime,
    pub summary: &'a str,
    pub location: Option<&'a str>,
    pub description: Option<&'a str>,
    pub cancelled: bool,
}

/// A whole `VCALENDAR`, with the `VTIMEZONE` of each zone its events use.
pub fn feed(name: &str, events: &[Event]) -> String {
    calendar("PUBLISH", Some(name), events, None)
}

/// What an iTIP message (RFC 5546) says of an event to one attendee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A new or changed event (`METHOD:REQUEST`).
    Request,
    /// A cancelled one (`METHOD:CANCEL`).
    Cancel,
}

/// An iTIP message for `attendee` (an e-mail address) from `organizer` (name, address) about
/// `event`, with the same `UID` and `SEQUENCE` as the feeds: calendar applications put it in
/// the calendar, move it, or take it out.
pub fn message(method: Method, organizer: (&str, &str), attendee: &str, event: &Event) -> String {
    let method = match method {
        Method::Request => "REQUEST",
        Method::Cancel => "CANCEL",
    };
    calendar(
        method,
        None,
        std::slice::from_ref(event),
        Some((organizer, attendee)),
    )
}

fn calendar(
    method: &str,
    name: Option<&str>,
    events: &[Event],
    people: Option<((&str, &str), &str)>,
) -> String {
    let mut out = String::new();
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Carnet//Calendrier//FR\r\nCALSCALE:GREGORIAN\r\n");
    line(&mut out, "METHOD", method);
    if let Some(name) = name {
        line(&mut out, "X-WR-CALNAME", &escape(name));
    }
    for zone in Zone::ALL {
        if events.iter().any(|e| e.zone == zone) {
            out.push_str(&zone.vtimezone());
        }
    }
    for e in events {
        let zone = e.zone;
        out.push_str("BEGIN:VEVENT\r\n");
        line(&mut out, "UID", &escape(e.uid));
        line(&mut out, "SEQUENCE", &e.sequence.to_string());
        line(&mut out, "DTSTAMP", &Zone::utc_stamp(e.stamp));
        line(
            &mut out,
            &format!("DTSTART;TZID={}", zone.name()),
            &e.start.ical(),
        );
        line(
            &mut out,
            &format!("DTEND;TZID={}", zone.name()),
            &e.end.ical(),
        );
        line(&mut out, "SUMMARY", &escape(e.summary));
        if let Some(location) = e.location {
            line(&mut out, "LOCATION", &escape(location));
        }
        if let Some(description) = e.description {
            line(&mut out, "DESCRIPTION", &escape(description));
        }
        if let Some(((organizer_name, organizer), attendee)) = people {
            line(
                &mut out,
                &format!(
                    "ORGANIZER;CN=\"{}\"",
                    organizer_name.replace(['"', '\r', '\n'], "")
                ),
                &format!("mailto:{organizer}"),
            );
            line(
                &mut out,
                "ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE",
                &format!("mailto:{attendee}"),
            );
        }
        line(
            &mut out,
            "STATUS",
            if e.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            },
        );
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

impl Zone {
    /// `20260901T070000Z`.
    fn utc_stamp(secs: i64) -> String {
        LocalTime::from_naive_secs(secs).ical() + "Z"
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn dates_as_day_numbers_and_back() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(
            day_number("2026-03-01").map(day_text).as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(
            day_text(day_number("2024-02-29").unwrap() + 1),
            "2024-03-01"
        );
        assert_eq!(day_number("2026-02-30"), None);
        assert_eq!(day_number("not a day"), None);
    }
    use super::*;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse(s).unwrap()
    }

    #[test]
    fn parses_wall_clock_times() {
        assert_eq!(t("2026-09-01T09:30").to_string(), "2026-09-01T09:30");
        assert_eq!(t("2026-09-01T09:30:00"), t("2026-09-01T09:30"));
        for bad in [
            "2026-02-29T09:00",
            "2026-13-01T09:00",
            "2026-09-01T24:00",
            "2026-09-01 09:00",
            "2026-09-01T9:00",
            "+026-09-01T09:00",
            "2026-09-01T09:00:30",
        ] {
            assert_eq!(LocalTime::parse(bad), None, "{bad}");
        }
        assert!(LocalTime::parse("2028-02-29T09:00").is_some());
    }

    #[test]
    fn paris_changes_to_summer_time_on_the_last_sundays() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let winter = Zone::Paris.instant(t("2026-03-28T09:00"));
        assert_eq!(winter, 1_774_684_800);
        let summer = Zone::Paris.instant(t("2026-09-01T09:00"));
        assert_eq!(summer, 1_788_246_000);
        assert_eq!(Zone::Paris.local(summer), t("2026-09-01T09:00"));
        assert_eq!(Zone::Paris.local(winter), t("2026-03-28T09:00"));
        assert_eq!(Zone::Paris.instant(t("2026-10-25T12:00")), 1_792_926_000);
        // The skipped hour, and the doubled one, read one way.
        assert_eq!(
            Zone::Paris.instant(t("2026-03-29T02:30")),
            Zone::Paris.instant(t("2026-03-29T01:30")) + 3600
        );
        assert_eq!(
            Zone::Paris.local(Zone::Paris.instant(t("2026-10-25T02:30"))),
            t("2026-10-25T02:30")
        );
        assert_eq!(Zone::Reunion.instant(t("2026-09-01T09:00")), 1_788_238_800);
        for day in 0..800 {
            let noon = t("2026-01-01T12:00");
            let secs = Zone::Paris.instant(noon) + day * 86_400;
            assert_eq!(
                Zone::Paris.local(Zone::Paris.instant(Zone::Paris.local(secs))),
                Zone::Paris.local(secs)
            );
        }
    }

    #[test]
    fn dates_round_trip() {
        for days in [-719_468, -1, 0, 1, 20_000, 20_697, 2_932_896] {
            let (y, m, d) = civil(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(last_sunday(2026, 3), days_from_civil(2026, 3, 29));
        assert_eq!(last_sunday(2026, 10), days_from_civil(2026, 10, 25));
    }

    #[test]
    fn half_days() {
        assert_eq!(t("2026-09-01T12:59").half_day(), HalfDay::Morning);
        assert_eq!(t("2026-09-01T13:00").half_day(), HalfDay::Afternoon);
        assert_eq!(
            t("2026-09-01T09:00").minutes_until(&t("2026-09-01T12:30")),
            210
        );
    }

    #[test]
    fn feeds_escape_and_fold() {
        let summary = "Soudure TIG; atelier, niveau 2 — Lyon".repeat(3);
        let text = feed(
            "Session, groupe A",
            &[Event {
                uid: "evt_1@carnet",
                zone: Zone::Paris,
                sequence: 2,
                stamp: 1_788_246_000,
                start: t("2026-09-01T09:00"),
                end: t("2026-09-01T12:30"),
                summary: &summary,
                location: Some("Atelier 3"),
                description: None,
                cancelled: true,
            }],
        );
        assert!(text.contains("X-WR-CALNAME:Session\\, groupe A\r\n"));
        assert!(text.contains("DTSTART;TZID=Europe/Paris:20260901T090000\r\n"));
        assert!(text.contains("DTSTAMP:20260901T070000Z\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(text.contains("SUMMARY:Soudure TIG\\; atelier\\, niveau 2"));
        for l in text.split("\r\n") {
            assert!(l.len() <= 75, "{l}");
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", escape(&summary))));
        assert_eq!(text.matches("BEGIN:").count(), text.matches("END:").count());
    }

    #[test]
    fn a_message_invites_or_cancels_the_feeds_event() {
        let event = Event {
            uid: "evt_1@carnet",
            zone: Zone::Paris,
            sequence: 3,
            stamp: 1_788_246_000,
            start: t("2026-09-01T13:30"),
            end: t("2026-09-01T17:00"),
            summary: "Soudure TIG",
            location: None,
            description: Some("Soudeur 2026"),
            cancelled: false,
        };
        let request = message(
            Method::Request,
            ("Centre \"Lyon\" Métallerie", "no-reply@carnet.example"),
            "camille@example.org",
            &event,
        );
        let unfolded = request.replace("\r\n ", "");
        assert!(unfolded.contains("METHOD:REQUEST\r\n"));
        assert!(!unfolded.contains("X-WR-CALNAME"));
        assert!(unfolded.contains("UID:evt_1@carnet\r\nSEQUENCE:3\r\n"));
        assert!(unfolded.contains(
            "ORGANIZER;CN=\"Centre Lyon Métallerie\":mailto:no-reply@carnet.example\r\n"
        ));
        assert!(
            unfolded.contains(
                "ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:camille@example.org\r\n"
            )
        );
        let cancel = message(
            Method::Cancel,
            ("Centre", "no-reply@carnet.example"),
            "camille@example.org",
            &Event {
                cancelled: true,
                sequence: 4,
                ..event
            },
        );
        assert!(cancel.contains("METHOD:CANCEL\r\n") && cancel.contains("STATUS:CANCELLED\r\n"));
        assert!(cancel.contains("SEQUENCE:4\r\n"));
    }
}
