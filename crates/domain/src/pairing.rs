//! Pairing mentees with mentors (PRODUCT.md section 2): settings, capacity, request deadlines.

use chrono::{DateTime, Utc};

use crate::business_days::BusinessCalendar;
use crate::Invalid;

/// How mentees and mentors are paired in a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Process {
    /// The mentee asks, the mentor approves or declines.
    UserLedWithApproval,
    /// The mentee's request is the pairing.
    UserLed,
    /// Admins pair (auto-pair).
    AdminLed,
}

impl Process {
    pub const ALL: [Process; 3] = [Self::UserLedWithApproval, Self::UserLed, Self::AdminLed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserLedWithApproval => "user_led_with_approval",
            Self::UserLed => "user_led",
            Self::AdminLed => "admin_led",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether mentees choose their mentor themselves.
    pub fn mentees_request(self) -> bool {
        self != Self::AdminLed
    }
}

/// Where a mentor request stands. Only an open request can be answered or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    Open,
    Approved,
    Declined,
    Expired,
    /// The mentee took the request back before the mentor answered.
    Withdrawn,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        Self::Open,
        Self::Approved,
        Self::Declined,
        Self::Expired,
        Self::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why a request cannot be withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannotWithdraw {
    /// Someone else's request: to its mentee it does not exist.
    NotTheirs,
    /// Answered (or expired, or withdrawn) already.
    Answered(RequestStatus),
}

/// Whether `person` may withdraw a request of `mentee` that is `status`: only the mentee, and
/// only while the mentor has not answered.
pub fn may_withdraw(person_is_mentee: bool, status: RequestStatus) -> Result<(), CannotWithdraw> {
    if !person_is_mentee {
        Err(CannotWithdraw::NotTheirs)
    } else if status != RequestStatus::Open {
        Err(CannotWithdraw::Answered(status))
    } else {
        Ok(())
    }
}

/// Which of a pair's conversations in a program belongs to their pairing from `paired_at`:
/// the first opened when or after they were paired (a pair paired again later has a conversation
/// per pairing). `conversations` are (id, when opened).
pub fn conversation_of<Id: Copy>(paired_at: DateTime<Utc>, conversations: &[(Id, DateTime<Utc>)]) -> Option<Id> {
    conversations
        .iter()
        .filter(|(_, opened)| *opened >= paired_at)
        .min_by_key(|(_, opened)| *opened)
        .map(|(id, _)| *id)
}

/// A program's pairing settings, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub process: Process,
    pub mentor_capacity: u32,
    pub request_expiry_days: u32,
    pub remind_before_expiry: bool,
    pub unresponsive_days: u32,
    pub enabled: bool,
}

impl Default for Settings {
    /// What a program starts with: requests with approval, three mentees a mentor, requests expire
    /// after 3 business days with a reminder the day before, a pairing without activity for 30
    /// days needs a check-in, and pairing is off until an admin turns it on.
    fn default() -> Self {
        Self {
            process: Process::UserLedWithApproval,
            mentor_capacity: 3,
            request_expiry_days: 3,
            remind_before_expiry: true,
            unresponsive_days: 30,
            enabled: false,
        }
    }
}

impl Settings {
    /// A mentor's capacity: their own, if set, or the program's.
    pub fn capacity_of(&self, own: Option<i32>) -> u32 {
        own.and_then(|c| u32::try_from(c).ok()).unwrap_or(self.mentor_capacity)
    }
}

/// What an admin checks before turning pairing on; they mark each item done themselves.
pub const LAUNCH_CHECKLIST: [(&str, &str); 5] = [
    ("participants_added", "Add the program's mentors and mentees"),
    ("capacity_set", "Set how many mentees each mentor takes"),
    ("emails_reviewed", "Review the invitation and request emails"),
    ("steps_planned", "Plan the program's first steps"),
    ("mentees_invited", "Invite mentees to choose a mentor"),
];

/// The done items, checked against the list, in the list's order.
pub fn check_checklist(done: &[String]) -> Result<Vec<String>, Invalid> {
    if let Some(unknown) = done.iter().find(|d| !LAUNCH_CHECKLIST.iter().any(|(key, _)| key == d)) {
        return Err(Invalid(format!("\"{unknown}\" is not an item of the launch checklist")));
    }
    Ok(LAUNCH_CHECKLIST
        .iter()
        .filter(|(key, _)| done.iter().any(|d| d == key))
        .map(|(key, _)| (*key).to_owned())
        .collect())
}

pub const MAX_CAPACITY: u32 = 100;

pub fn check_capacity(capacity: u32) -> Result<u32, Invalid> {
    if (1..=MAX_CAPACITY).contains(&capacity) {
        Ok(capacity)
    } else {
        Err(Invalid(format!("must be between 1 and {MAX_CAPACITY}")))
    }
}

pub fn check_expiry_days(days: u32) -> Result<u32, Invalid> {
    if (1..=30).contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new("must be between 1 and 30 business days"))
    }
}

pub fn check_unresponsive_days(days: u32) -> Result<u32, Invalid> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new("must be between 1 and 365 days"))
    }
}

/// How long after an invitation a mentee can be invited again (a second click, a bulk action
/// over people just invited): nobody gets the same invitation twice in a day.
pub const INVITE_COOLDOWN_HOURS: i64 = 24;

/// Whether a mentee last invited at `last` may be invited at `now`.
pub fn may_invite(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= chrono::Duration::hours(INVITE_COOLDOWN_HOURS))
}

/// A mentor has room while their active pairings are fewer than their capacity.
pub fn has_room(capacity: u32, active_pairings: u32) -> bool {
    active_pairings < capacity
}

/// How a pairing is doing, from its last sign of life (a message, a completed step, a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Younger than the unresponsive window, and quiet so far.
    TooEarly,
    /// Something happened within the window.
    OnTrack,
    /// Nothing for the whole window: someone should check in.
    NeedsCheckIn,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooEarly => "too_early",
            Self::OnTrack => "on_track",
            Self::NeedsCheckIn => "needs_check_in",
        }
    }
}

/// A pairing's health at `now`, given when it began, its last activity and the window in days.
pub fn health(
    paired_at: DateTime<Utc>,
    last_activity: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    window_days: u32,
) -> Health {
    let window = chrono::Duration::days(window_days.into());
    match last_activity {
        Some(at) if now - at < window => Health::OnTrack,
        None if now - paired_at < window => Health::TooEarly,
        _ => Health::NeedsCheckIn,
    }
}

/// When to look at a pairing again: the end of the window after its last sign of life.
pub fn next_check(paired_at: DateTime<Utc>, last_activity: Option<DateTime<Utc>>, window_days: u32) -> DateTime<Utc> {
    last_activity.unwrap_or(paired_at).max(paired_at) + chrono::Duration::days(window_days.into())
}

/// One week of a program's pairing history (weeks start on Monday in the organisation's zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub start: chrono::NaiveDate,
    /// Active at the end of the week.
    pub active: u32,
    pub started: u32,
    pub ended: u32,
    /// Mentor requests made, and requests that expired unanswered, in the week.
    pub requests_made: u32,
    pub requests_expired: u32,
    /// Sessions paired people had together (completed bookings), by their start.
    pub sessions_completed: u32,
}

/// When a pairing began and, if it did, ended.
pub type Span = (DateTime<Utc>, Option<DateTime<Utc>>);

/// When requests were made, when some expired, and when paired people had sessions.
#[derive(Debug, Clone, Default)]
pub struct Happenings {
    pub requests_made: Vec<DateTime<Utc>>,
    pub requests_expired: Vec<DateTime<Utc>>,
    pub sessions: Vec<DateTime<Utc>>,
}

/// A completed booking between two people: who was the student, who the provider, and when it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session<P> {
    pub student: P,
    pub provider: P,
    pub starts_at: DateTime<Utc>,
}

/// The sessions that count for a pairing: between its mentee and mentor (either of them the
/// provider), from the moment they were paired until it ended.
pub fn sessions_of<'a, P: PartialEq>(
    sessions: &'a [Session<P>],
    mentee: &'a P,
    mentor: &'a P,
    span: Span,
) -> impl Iterator<Item = &'a Session<P>> + 'a {
    let (began, ended) = span;
    sessions.iter().filter(move |s| {
        let pair = (&s.student == mentee && &s.provider == mentor) || (&s.student == mentor && &s.provider == mentee);
        pair && s.starts_at >= began && ended.is_none_or(|e| s.starts_at < e)
    })
}

/// The last `weeks` weeks up to the one holding `now`, oldest first, from each pairing's start
/// and end, the requests' times and the sessions'.
pub fn weekly(
    pairings: &[Span],
    happened: &Happenings,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
    weeks: u32,
) -> Vec<Week> {
    use chrono::Datelike;
    let today = now.with_timezone(&zone).date_naive();
    let this_monday = today - chrono::Days::new(today.weekday().num_days_from_monday().into());
    (0..weeks)
        .rev()
        .map(|back| {
            let start = this_monday - chrono::Days::new(7 * u64::from(back));
            let from = crate::tenancy::instant_at_or_after(zone, start.and_time(chrono::NaiveTime::MIN));
            let to = crate::tenancy::instant_at_or_after(
                zone,
                (start + chrono::Days::new(7)).and_time(chrono::NaiveTime::MIN),
            );
            let within = |t: DateTime<Utc>| from <= t && t < to;
            let count = |f: &dyn Fn(&Span) -> bool| pairings.iter().filter(|p| f(p)).count() as u32;
            let in_week = |times: &[DateTime<Utc>]| times.iter().filter(|t| within(**t)).count() as u32;
            Week {
                start,
                active: count(&|(began, ended)| *began < to && ended.is_none_or(|e| e >= to)),
                started: count(&|(began, _)| within(*began)),
                ended: count(&|(_, ended)| ended.is_some_and(within)),
                requests_made: in_week(&happened.requests_made),
                requests_expired: in_week(&happened.requests_expired),
                sessions_completed: in_week(&happened.sessions),
            }
        })
        .collect()
}

/// When an open request expires, and when its mentor is reminded (one business day before,
/// if the program reminds and the deadline leaves room for it).
pub fn request_deadlines(
    calendar: &BusinessCalendar,
    made_at: DateTime<Utc>,
    settings: &Settings,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let expires = calendar.add(made_at, settings.request_expiry_days);
    let remind = (settings.remind_before_expiry && settings.request_expiry_days >= 2)
        .then(|| calendar.add(made_at, settings.request_expiry_days - 1));
    (expires, remind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_pairing_gets_the_conversation_opened_with_it() {
        let (first, second) = (utc("2027-01-11T10:00:00Z"), utc("2027-03-01T10:00:00Z"));
        let conversations = [(2, second), (1, first)];
        assert_eq!(conversation_of(first, &conversations), Some(1));
        assert_eq!(conversation_of(second, &conversations), Some(2), "paired again later");
        assert_eq!(conversation_of(utc("2027-04-01T00:00:00Z"), &conversations), None);
        assert_eq!(conversation_of::<u8>(first, &[]), None);
    }

    #[test]
    fn request_statuses_round_trip() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RequestStatus::parse("cancelled"), None);
        assert_eq!(RequestStatus::Withdrawn.as_str(), "withdrawn");
    }

    #[test]
    fn only_the_mentee_withdraws_and_only_an_open_request() {
        assert_eq!(may_withdraw(true, RequestStatus::Open), Ok(()));
        assert_eq!(may_withdraw(false, RequestStatus::Open), Err(CannotWithdraw::NotTheirs));
        // Someone else's answered request is still not theirs: nothing tells them its state.
        assert_eq!(
            may_withdraw(false, RequestStatus::Approved),
            Err(CannotWithdraw::NotTheirs)
        );
        for answered in [
            RequestStatus::Approved,
            RequestStatus::Declined,
            RequestStatus::Expired,
            RequestStatus::Withdrawn,
        ] {
            assert_eq!(may_withdraw(true, answered), Err(CannotWithdraw::Answered(answered)));
        }
    }

    #[test]
    fn capacity_is_a_hard_limit() {
        assert!(has_room(1, 0));
        assert!(!has_room(1, 1));
        assert!(!has_room(3, 4), "over capacity (lowered after pairing) has no room");
        assert!(check_capacity(0).is_err() && check_capacity(101).is_err() && check_capacity(4).is_ok());
    }

    #[test]
    fn requests_expire_in_business_days_with_a_reminder_the_day_before() {
        let holidays = ["2027-01-12".parse().unwrap()];
        let calendar = BusinessCalendar {
            zone: chrono_tz::America::New_York,
            holidays: &holidays,
        };
        let settings = Settings::default();
        // Monday 10:00; Tuesday is a holiday: reminder Thursday, expiry Friday, both at 10:00.
        let (expires, remind) = request_deadlines(&calendar, utc("2027-01-11T15:00:00Z"), &settings);
        assert_eq!(expires, utc("2027-01-15T15:00:00Z"));
        assert_eq!(remind, Some(utc("2027-01-14T15:00:00Z")));
        let off = Settings {
            remind_before_expiry: false,
            ..settings
        };
        assert_eq!(request_deadlines(&calendar, utc("2027-01-11T15:00:00Z"), &off).1, None);
        let one_day = Settings {
            request_expiry_days: 1,
            ..settings
        };
        assert_eq!(
            request_deadlines(&calendar, utc("2027-01-11T15:00:00Z"), &one_day).1,
            None,
            "no room for a reminder"
        );
    }

    #[test]
    fn invitations_wait_out_their_cooldown() {
        let sent = utc("2027-01-11T15:00:00Z");
        assert!(may_invite(None, sent));
        assert!(!may_invite(Some(sent), utc("2027-01-12T14:59:59Z")));
        assert!(may_invite(Some(sent), utc("2027-01-12T15:00:00Z")));
    }

    #[test]
    fn a_quiet_pairing_needs_a_check_in_after_its_window() {
        let paired = utc("2027-01-01T00:00:00Z");
        let day = |d: i64| paired + chrono::Duration::days(d);
        assert_eq!(health(paired, None, day(29), 30), Health::TooEarly);
        assert_eq!(health(paired, None, day(30), 30), Health::NeedsCheckIn);
        assert_eq!(health(paired, Some(day(10)), day(39), 30), Health::OnTrack);
        assert_eq!(health(paired, Some(day(10)), day(40), 30), Health::NeedsCheckIn);
        assert_eq!(next_check(paired, None, 30), day(30));
        assert_eq!(next_check(paired, Some(day(10)), 30), day(40));
    }

    #[test]
    fn weeks_count_starts_ends_and_who_is_paired_at_the_end() {
        let zone = chrono_tz::America::New_York;
        // Wednesday 13 January 2027; weeks start Mondays 28 Dec, 4 Jan, 11 Jan.
        let now = utc("2027-01-13T17:00:00Z");
        let pairings = [
            (utc("2027-01-01T15:00:00Z"), None),                              // started week 1
            (utc("2027-01-05T15:00:00Z"), Some(utc("2027-01-12T15:00:00Z"))), // week 2, ended week 3
            (utc("2027-01-11T04:59:00Z"), None),                              // Sunday 23:59 in New York: still week 2
        ];
        let happened = Happenings {
            requests_made: vec![
                utc("2027-01-04T05:00:00Z"),
                utc("2027-01-04T04:59:00Z"),
                utc("2027-01-13T16:00:00Z"),
            ],
            requests_expired: vec![utc("2027-01-08T12:00:00Z")],
            sessions: vec![utc("2027-01-11T05:00:00Z"), utc("2027-01-12T15:00:00Z")],
        };
        let weeks = weekly(&pairings, &happened, now, zone, 3);
        let starts: Vec<String> = weeks.iter().map(|w| w.start.to_string()).collect();
        assert_eq!(starts, ["2026-12-28", "2027-01-04", "2027-01-11"]);
        let counts: Vec<(u32, u32, u32)> = weeks.iter().map(|w| (w.active, w.started, w.ended)).collect();
        assert_eq!(counts, [(1, 1, 0), (3, 2, 0), (2, 0, 1)]);
        // Monday 00:00 in New York opens week 2; a minute before is still week 1.
        let requests: Vec<(u32, u32)> = weeks.iter().map(|w| (w.requests_made, w.requests_expired)).collect();
        assert_eq!(requests, [(1, 0), (1, 1), (1, 0)]);
        let sessions: Vec<u32> = weeks.iter().map(|w| w.sessions_completed).collect();
        assert_eq!(sessions, [0, 0, 2]);
    }

    #[test]
    fn a_pairing_counts_the_sessions_between_its_two_people_while_it_lasts() {
        let session = |student: u8, provider: u8, at: &str| Session {
            student,
            provider,
            starts_at: utc(at),
        };
        let sessions = [
            session(1, 2, "2027-01-04T10:00:00Z"), // mentee booked the mentor
            session(2, 1, "2027-01-05T10:00:00Z"), // the other way round counts too
            session(1, 3, "2027-01-05T11:00:00Z"), // another provider
            session(1, 2, "2027-01-01T10:00:00Z"), // before they were paired
            session(1, 2, "2027-01-10T10:00:00Z"), // at the end: no longer paired
        ];
        let span = (utc("2027-01-02T00:00:00Z"), Some(utc("2027-01-10T10:00:00Z")));
        let found: Vec<&str> = sessions_of(&sessions, &1, &2, span)
            .map(|s| {
                if s.student == 1 {
                    "mentee booked"
                } else {
                    "mentor booked"
                }
            })
            .collect();
        assert_eq!(found, ["mentee booked", "mentor booked"]);
        assert_eq!(sessions_of(&sessions, &1, &2, (span.0, None)).count(), 3);
    }

    #[test]
    fn process_names_round_trip() {
        for p in Process::ALL {
            assert_eq!(Process::parse(p.as_str()), Some(p));
        }
        assert!(!Process::AdminLed.mentees_request());
    }
}
