//! Calendar entries (iCalendar, RFC 5545) for bookings: the attachment on a confirmation or
//! cancellation email, and a person's subscribable feed. Times are written in UTC, so every
//! calendar app shows them in its own zone without a VTIMEZONE block.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus};

/// One appointment as calendar apps see it. `uid` stays the same across reschedules and
/// cancellation; `sequence` grows with each change, so an app replaces its copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub uid: String,
    pub sequence: u32,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The organiser's address (the organisation's sender).
    pub organizer: String,
    pub attendees: Vec<String>,
    pub cancelled: bool,
    /// When the entry was written (DTSTAMP).
    pub stamp: DateTime<Utc>,
}

/// What the calendar object asks of its reader (RFC 5546): a new or changed entry in an email,
/// a cancellation in an email, or a plain published feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
    Publish,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
            Self::Publish => "PUBLISH",
        }
    }
}

/// An `.ics` document holding `appointments`.
pub fn ics(name: &str, method: Method, appointments: &[Appointment]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name).append_property(("METHOD", method.as_str()));
    for a in appointments {
        let mut event = icalendar::Event::new();
        event
            .uid(&a.uid)
            .sequence(a.sequence)
            .timestamp(a.stamp)
            .summary(&a.summary)
            .description(&a.description)
            .starts(a.starts_at)
            .ends(a.ends_at)
            .status(if a.cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            })
            .add_property("ORGANIZER", format!("mailto:{}", a.organizer));
        if let Some(location) = &a.location {
            event.location(location);
        }
        for attendee in &a.attendees {
            event.append_multi_property(("ATTENDEE", format!("mailto:{attendee}").as_str()));
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use icalendar::{CalendarComponent, DatePerhapsTime};

    fn appointment() -> Appointment {
        Appointment {
            uid: "0192-booking@cohort".into(),
            sequence: 2,
            summary: "Peer Mentoring with Talia K".into(),
            description: "Topic: essays; commas, semicolons\nand a second line".into(),
            location: Some("Library, room 2".into()),
            starts_at: Utc.with_ymd_and_hms(2027, 3, 14, 14, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2027, 3, 14, 14, 30, 0).unwrap(),
            organizer: "noreply@example.org".into(),
            attendees: vec!["talia@example.org".into(), "sam@example.org".into()],
            cancelled: false,
            stamp: Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_booking_reads_back_with_its_times_text_and_people() {
        let text = ics("Cohort", Method::Request, &[appointment()]);
        assert!(text.contains("METHOD:REQUEST\r\n"), "{text}");
        let parsed: Calendar = text.parse().unwrap();
        let event = parsed
            .components
            .iter()
            .find_map(|c| match c {
                CalendarComponent::Event(e) => Some(e),
                _ => None,
            })
            .expect("one event");
        assert_eq!(event.get_uid(), Some("0192-booking@cohort"));
        assert_eq!(event.get_sequence(), Some(2));
        assert_eq!(event.get_summary(), Some("Peer Mentoring with Talia K"));
        assert_eq!(
            event.get_description(),
            Some("Topic: essays; commas, semicolons\nand a second line")
        );
        assert_eq!(event.get_location(), Some("Library, room 2"));
        assert_eq!(
            event.get_start(),
            Some(DatePerhapsTime::DateTime(appointment().starts_at.into()))
        );
        assert_eq!(
            event.get_end(),
            Some(DatePerhapsTime::DateTime(appointment().ends_at.into()))
        );
        assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
        assert!(text.contains("ATTENDEE:mailto:talia@example.org\r\n"));
        assert!(text.contains("ATTENDEE:mailto:sam@example.org\r\n"));
        assert!(text.contains("DTSTART:20270314T140000Z\r\n"), "times are UTC: {text}");
    }

    #[test]
    fn a_cancellation_keeps_the_uid_and_says_cancelled() {
        let cancelled = Appointment {
            sequence: 3,
            cancelled: true,
            ..appointment()
        };
        let text = ics("Cohort", Method::Cancel, &[cancelled]);
        assert!(text.contains("METHOD:CANCEL\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(text.contains("UID:0192-booking@cohort\r\n"));
        assert!(text.contains("SEQUENCE:3\r\n"));
    }

    #[test]
    fn a_feed_holds_every_appointment_and_is_stable() {
        let second = Appointment {
            uid: "second@cohort".into(),
            location: None,
            ..appointment()
        };
        let text = ics("Sam's bookings", Method::Publish, &[appointment(), second.clone()]);
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
        assert_eq!(text, ics("Sam's bookings", Method::Publish, &[appointment(), second]));
    }
}
