//! Program steps: who gets which step, and when (PRODUCT.md section 1).
//!
//! The rules, as functions the API asks:
//! - an instant step reaches every current participant of its viewer type when it is
//!   submitted, and everyone who joins later;
//! - a scheduled step reaches those who are participants at its publish time; someone who
//!   joins after that never gets it;
//! - a triggered step reaches only participants who joined after the step was created (unless
//!   the admin explicitly reaches those who matched before), the configured delay after the
//!   trigger;
//! - a step reaches a person at most once (the store enforces this with a unique key).

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::programs::ParticipantRole;
use crate::tenancy::instant_at_or_after;
use crate::{bounded_text, Invalid};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

string_enum!(
    /// Who sees a step.
    ViewerType { All = "all", Mentee = "mentee", Mentor = "mentor" }
);
string_enum!(
    /// Where a step sends the participant.
    ActionType {
        GoToLearning = "go_to_learning",
        ScheduleMeeting = "schedule_meeting",
        SetGoal = "set_goal",
        TakeSurvey = "take_survey",
        SendMessage = "send_message",
        OpenLink = "open_link",
    }
);
string_enum!(
    /// What a participant does that a triggered step reacts to.
    Trigger {
        FirstMatch = "first_match",
        FirstUnresponsiveMatch = "first_unresponsive_match",
        JoinedProgram = "joined_program",
        FirstSessionCompleted = "first_session_completed",
    }
);
string_enum!(
    DelayUnit { Minutes = "minutes", Hours = "hours", Days = "days" }
);

impl ViewerType {
    pub fn roles(self) -> &'static [ParticipantRole] {
        match self {
            Self::All => &[ParticipantRole::Mentor, ParticipantRole::Mentee],
            Self::Mentee => &[ParticipantRole::Mentee],
            Self::Mentor => &[ParticipantRole::Mentor],
        }
    }
}

/// How long after its trigger a triggered step is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    pub amount: u32,
    pub unit: DelayUnit,
}

/// At most a year, in any unit.
pub const MAX_DELAY_DAYS: u32 = 366;

impl Delay {
    pub fn new(amount: u32, unit: DelayUnit) -> Result<Self, Invalid> {
        let days = match unit {
            DelayUnit::Minutes => amount / (24 * 60),
            DelayUnit::Hours => amount / 24,
            DelayUnit::Days => amount,
        };
        if days > MAX_DELAY_DAYS {
            return Err(Invalid(format!("must be at most {MAX_DELAY_DAYS} days")));
        }
        Ok(Self { amount, unit })
    }

    /// When a step triggered at `fired_at` is due. Minutes and hours are elapsed time; days
    /// are calendar days in the program's zone, so "1 day" after 10:00 is 10:00 the next day
    /// also across a daylight-saving change (a local time that day lacks moves forward).
    pub fn due(self, fired_at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        match self.unit {
            DelayUnit::Minutes => fired_at + chrono::Duration::minutes(self.amount.into()),
            DelayUnit::Hours => fired_at + chrono::Duration::hours(self.amount.into()),
            DelayUnit::Days => {
                let local = fired_at.with_timezone(&zone).naive_local();
                let target = local + Days::new(self.amount.into());
                instant_at_or_after(zone, target)
            }
        }
    }
}

/// The instant a scheduled step publishes: `local` in the program's `zone`. A time inside a
/// spring-forward gap does not exist and is refused; a fall-back time that happens twice means
/// its first occurrence.
pub fn publish_instant(local: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, Invalid> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(Invalid(format!(
            "{} does not exist in {zone}: the clocks skip that hour for daylight saving; pick a time outside it",
            local.format("%Y-%m-%d %H:%M")
        ))),
    }
}

/// The instant a due date ends: midnight after it, in the program's zone.
pub fn due_date_end(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    instant_at_or_after(zone, (date + Days::new(1)).and_time(chrono::NaiveTime::MIN))
}

/// How a step is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    Instant,
    Scheduled {
        at: DateTime<Utc>,
    },
    Triggered {
        trigger: Trigger,
        delay: Delay,
        include_existing: bool,
    },
}

/// A step as the delivery rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRule {
    pub viewer: ViewerType,
    pub publish: Publish,
    pub created_at: DateTime<Utc>,
}

/// A participant as the delivery rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub role: ParticipantRole,
    pub joined_at: DateTime<Utc>,
}

impl StepRule {
    fn sees(&self, member: Member) -> bool {
        self.viewer.roles().contains(&member.role)
    }

    /// Whether the step's publication (instant on submit, scheduled at its time) reaches
    /// `member` when it runs at `now`.
    pub fn reaches_on_publish(&self, member: Member, now: DateTime<Utc>) -> bool {
        self.sees(member)
            && match self.publish {
                Publish::Instant => true,
                Publish::Scheduled { at } => now >= at && member.joined_at <= at,
                Publish::Triggered { .. } => false,
            }
    }

    /// Whether `member`, joining at `member.joined_at`, gets the step on joining: instant steps
    /// yes; scheduled steps only through their publication (never after it); triggered ones
    /// through their trigger.
    pub fn reaches_on_join(&self, member: Member) -> bool {
        self.sees(member) && self.publish == Publish::Instant
    }

    /// When the step is due for `member` whose `trigger` fired at `fired_at`, or `None` if it
    /// does not apply: another trigger, another viewer type, or a member who was there before
    /// the step existed (unless the admin chose to reach them too).
    pub fn due_on_trigger(
        &self,
        member: Member,
        trigger: Trigger,
        fired_at: DateTime<Utc>,
        zone: Tz,
    ) -> Option<DateTime<Utc>> {
        let Publish::Triggered {
            trigger: wanted,
            delay,
            include_existing,
        } = self.publish
        else {
            return None;
        };
        let joined_after = member.joined_at > self.created_at;
        (wanted == trigger && self.sees(member) && (joined_after || include_existing))
            .then(|| delay.due(fired_at, zone))
    }
}

pub fn parse_step_title(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 200)
}

pub fn parse_step_description(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 0, 10_000)
}

/// An `open_link` target: an absolute http(s) URL with a host.
pub fn parse_link(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| Invalid::new("must be an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) || value.contains(char::is_whitespace) {
        return Err(Invalid::new("must be an http:// or https:// URL with a host"));
    }
    if value.len() > 2000 {
        return Err(Invalid::new("must be at most 2000 characters"));
    }
    Ok(value.to_owned())
}

/// How the admin asked a step to publish, before the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishKind {
    Instant,
    Scheduled,
    Triggered,
}

/// A step as an admin submitted it (create, or edit with `previous_schedule` set to what the
/// stored step had), with the wire names already turned into these types.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDraft<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub action: ActionType,
    pub link_url: Option<&'a str>,
    pub publish: PublishKind,
    pub scheduled_for: Option<NaiveDateTime>,
    pub trigger: Option<Trigger>,
    pub delay: Option<(u32, DelayUnit)>,
    pub include_existing: bool,
    /// On edit: the stored local publish time. Keeping a time that has passed is allowed there
    /// (the step published); choosing a past time is not.
    pub previous_schedule: Option<NaiveDateTime>,
}

/// A step that passed every rule, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedStep {
    pub title: String,
    pub description: String,
    pub link_url: Option<String>,
    pub scheduled_for: Option<NaiveDateTime>,
    /// When a scheduled step publishes.
    pub publish_at: Option<DateTime<Utc>>,
    /// A triggered step's trigger, its delay (none means at once) and whether it reaches people
    /// who were there before it.
    pub trigger: Option<(Trigger, Delay, bool)>,
}

/// Checks a step's fields together, in the program's `zone` at `now`; every problem is named
/// with its field.
pub fn check_step(
    draft: &StepDraft,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<CheckedStep, Vec<(&'static str, Invalid)>> {
    let mut problems = Vec::new();
    let mut keep = |field: &'static str, result: Result<String, Invalid>| match result {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push((field, e));
            None
        }
    };
    let title = keep("title", parse_step_title(draft.title));
    let description = keep("description", parse_step_description(draft.description));
    let link_url = match (draft.action, draft.link_url) {
        (ActionType::OpenLink, Some(url)) => keep("link_url", parse_link(url)),
        (ActionType::OpenLink, None) => keep(
            "link_url",
            Err(Invalid::new("an open_link step needs the URL it opens")),
        ),
        (_, Some(_)) => keep("link_url", Err(Invalid::new("only open_link steps carry a link"))),
        (_, None) => None,
    };
    let (scheduled, triggered) = (
        draft.publish == PublishKind::Scheduled,
        draft.publish == PublishKind::Triggered,
    );
    let mut publish_at = None;
    match (scheduled, draft.scheduled_for) {
        (true, None) => problems.push((
            "scheduled_for",
            Invalid::new("a scheduled step needs the date and time it publishes"),
        )),
        (true, Some(local)) => match publish_instant(local, zone) {
            Ok(at) if at <= now && draft.previous_schedule != Some(local) => {
                problems.push(("scheduled_for", Invalid::new("must be in the future")))
            }
            Ok(at) => publish_at = Some(at),
            Err(e) => problems.push(("scheduled_for", e)),
        },
        (false, Some(_)) => problems.push((
            "scheduled_for",
            Invalid::new("only scheduled steps have a publish time"),
        )),
        (false, None) => {}
    }
    let mut trigger = None;
    if triggered {
        let delay = match draft.delay {
            Some((amount, unit)) => Delay::new(amount, unit)
                .map_err(|e| problems.push(("delay.amount", e)))
                .ok(),
            None => Some(Delay {
                amount: 0,
                unit: DelayUnit::Minutes,
            }),
        };
        match (draft.trigger, delay) {
            (Some(t), Some(d)) => trigger = Some((t, d, draft.include_existing)),
            (None, _) => problems.push(("trigger", Invalid::new("a triggered step needs a trigger"))),
            (Some(_), None) => {}
        }
    } else {
        for (present, field) in [
            (draft.trigger.is_some(), "trigger"),
            (draft.delay.is_some(), "delay"),
            (draft.include_existing, "include_existing"),
        ] {
            if present {
                problems.push((field, Invalid::new("only triggered steps have this")));
            }
        }
    }
    match (title, description) {
        (Some(title), Some(description)) if problems.is_empty() => Ok(CheckedStep {
            title,
            description,
            link_url,
            scheduled_for: draft.scheduled_for.filter(|_| scheduled),
            publish_at,
            trigger,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use proptest::prelude::*;

    const NY: Tz = chrono_tz::America::New_York;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn member(role: ParticipantRole, joined: &str) -> Member {
        Member {
            role,
            joined_at: utc(joined),
        }
    }

    #[test]
    fn a_time_in_the_spring_gap_is_refused_and_a_fall_back_time_means_the_first() {
        let err = publish_instant(local("2027-03-14 02:30"), NY).unwrap_err();
        assert!(err.0.contains("does not exist in America/New_York"), "{err}");
        // 01:30 happens twice on 7 Nov 2027: first in EDT (UTC-4).
        assert_eq!(
            publish_instant(local("2027-11-07 01:30"), NY).unwrap(),
            utc("2027-11-07T05:30:00Z")
        );
        assert_eq!(
            publish_instant(local("2027-01-10 09:00"), NY).unwrap(),
            utc("2027-01-10T14:00:00Z")
        );
    }

    #[test]
    fn a_delay_in_days_keeps_the_local_time_across_daylight_saving() {
        let delay = Delay::new(1, DelayUnit::Days).unwrap();
        // 10:00 EST on Saturday 13 March 2027 → 10:00 EDT on Sunday: 23 hours later.
        assert_eq!(delay.due(utc("2027-03-13T15:00:00Z"), NY), utc("2027-03-14T14:00:00Z"));
        let hours = Delay::new(24, DelayUnit::Hours).unwrap();
        assert_eq!(hours.due(utc("2027-03-13T15:00:00Z"), NY), utc("2027-03-14T15:00:00Z"));
        // 02:30 does not exist on 14 March: the first instant after the gap, 03:00 EDT.
        assert_eq!(delay.due(utc("2027-03-13T07:30:00Z"), NY), utc("2027-03-14T07:00:00Z"));
        assert!(Delay::new(367, DelayUnit::Days).is_err());
        assert!(Delay::new(366 * 24, DelayUnit::Hours).is_ok());
    }

    #[test]
    fn a_due_date_ends_at_local_midnight() {
        assert_eq!(
            due_date_end(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(), NY),
            utc("2027-03-02T05:00:00Z")
        );
    }

    #[test]
    fn instant_steps_reach_everyone_of_the_viewer_type_now_and_later() {
        let step = StepRule {
            viewer: ViewerType::Mentee,
            publish: Publish::Instant,
            created_at: utc("2027-01-10T12:00:00Z"),
        };
        let before = member(ParticipantRole::Mentee, "2027-01-01T00:00:00Z");
        let later = member(ParticipantRole::Mentee, "2027-02-01T00:00:00Z");
        let mentor = member(ParticipantRole::Mentor, "2027-01-01T00:00:00Z");
        assert!(step.reaches_on_publish(before, step.created_at));
        assert!(!step.reaches_on_publish(mentor, step.created_at));
        assert!(step.reaches_on_join(later));
        assert!(!step.reaches_on_join(mentor));
    }

    #[test]
    fn scheduled_steps_reach_only_those_there_at_publish_time() {
        let at = utc("2027-01-10T14:00:00Z");
        let step = StepRule {
            viewer: ViewerType::All,
            publish: Publish::Scheduled { at },
            created_at: utc("2027-01-01T00:00:00Z"),
        };
        let early = member(ParticipantRole::Mentor, "2027-01-05T00:00:00Z");
        let late = member(ParticipantRole::Mentee, "2027-01-10T14:00:01Z");
        assert!(
            !step.reaches_on_publish(early, utc("2027-01-10T13:59:59Z")),
            "not before its time"
        );
        assert!(step.reaches_on_publish(early, at));
        assert!(
            !step.reaches_on_publish(late, utc("2027-01-11T00:00:00Z")),
            "joined after publish"
        );
        assert!(!step.reaches_on_join(late));
    }

    #[test]
    fn triggered_steps_skip_those_who_were_there_before_unless_asked() {
        let created = utc("2027-01-10T12:00:00Z");
        let delay = Delay::new(2, DelayUnit::Hours).unwrap();
        let mut step = StepRule {
            viewer: ViewerType::All,
            publish: Publish::Triggered {
                trigger: Trigger::FirstMatch,
                delay,
                include_existing: false,
            },
            created_at: created,
        };
        let existing = member(ParticipantRole::Mentee, "2027-01-01T00:00:00Z");
        let newcomer = member(ParticipantRole::Mentee, "2027-01-11T00:00:00Z");
        let fired = utc("2027-01-12T09:00:00Z");
        assert_eq!(step.due_on_trigger(existing, Trigger::FirstMatch, fired, NY), None);
        assert_eq!(
            step.due_on_trigger(newcomer, Trigger::FirstMatch, fired, NY),
            Some(utc("2027-01-12T11:00:00Z"))
        );
        assert_eq!(step.due_on_trigger(newcomer, Trigger::JoinedProgram, fired, NY), None);
        assert!(!step.reaches_on_join(newcomer) && !step.reaches_on_publish(newcomer, fired));
        step.publish = Publish::Triggered {
            trigger: Trigger::FirstMatch,
            delay,
            include_existing: true,
        };
        assert!(step.due_on_trigger(existing, Trigger::FirstMatch, fired, NY).is_some());
    }

    fn draft() -> StepDraft<'static> {
        StepDraft {
            title: "Set a goal",
            description: "",
            action: ActionType::SetGoal,
            link_url: None,
            publish: PublishKind::Instant,
            scheduled_for: None,
            trigger: None,
            delay: None,
            include_existing: false,
            previous_schedule: None,
        }
    }

    fn fields(result: Result<CheckedStep, Vec<(&'static str, Invalid)>>) -> Vec<&'static str> {
        result
            .err()
            .map(|p| p.into_iter().map(|(f, _)| f).collect())
            .unwrap_or_default()
    }

    #[test]
    fn each_publish_type_takes_its_own_fields() {
        let now = utc("2027-01-01T00:00:00Z");
        assert!(check_step(&draft(), NY, now).is_ok());
        let scheduled = StepDraft {
            publish: PublishKind::Scheduled,
            ..draft()
        };
        assert_eq!(fields(check_step(&scheduled, NY, now)), ["scheduled_for"]);
        let at = StepDraft {
            scheduled_for: Some(local("2027-02-01 09:00")),
            ..scheduled.clone()
        };
        let checked = check_step(&at, NY, now).unwrap();
        assert_eq!(checked.publish_at, Some(utc("2027-02-01T14:00:00Z")));
        assert_eq!(
            fields(check_step(&at, NY, utc("2027-03-01T00:00:00Z"))),
            ["scheduled_for"],
            "past"
        );
        let kept = StepDraft {
            previous_schedule: at.scheduled_for,
            ..at.clone()
        };
        assert!(
            check_step(&kept, NY, utc("2027-03-01T00:00:00Z")).is_ok(),
            "an unchanged past time stays"
        );

        let triggered = StepDraft {
            publish: PublishKind::Triggered,
            ..draft()
        };
        assert_eq!(fields(check_step(&triggered, NY, now)), ["trigger"]);
        let with = StepDraft {
            trigger: Some(Trigger::FirstMatch),
            ..triggered.clone()
        };
        let checked = check_step(&with, NY, now).unwrap();
        assert_eq!(
            checked.trigger,
            Some((
                Trigger::FirstMatch,
                Delay {
                    amount: 0,
                    unit: DelayUnit::Minutes
                },
                false
            ))
        );
        let too_long = StepDraft {
            delay: Some((400, DelayUnit::Days)),
            ..with
        };
        assert_eq!(fields(check_step(&too_long, NY, now)), ["delay.amount"]);

        let stray = StepDraft {
            trigger: Some(Trigger::FirstMatch),
            delay: Some((1, DelayUnit::Hours)),
            include_existing: true,
            scheduled_for: Some(local("2027-02-01 09:00")),
            ..draft()
        };
        assert_eq!(
            fields(check_step(&stray, NY, now)),
            ["scheduled_for", "trigger", "delay", "include_existing"]
        );
    }

    #[test]
    fn only_open_link_steps_carry_a_link() {
        let now = utc("2027-01-01T00:00:00Z");
        let open = StepDraft {
            action: ActionType::OpenLink,
            ..draft()
        };
        assert_eq!(fields(check_step(&open, NY, now)), ["link_url"]);
        let ok = StepDraft {
            link_url: Some("https://example.org"),
            ..open
        };
        assert_eq!(
            check_step(&ok, NY, now).unwrap().link_url.as_deref(),
            Some("https://example.org")
        );
        let stray = StepDraft {
            link_url: Some("https://example.org"),
            ..draft()
        };
        assert_eq!(fields(check_step(&stray, NY, now)), ["link_url"]);
        let blank = StepDraft { title: " ", ..draft() };
        assert_eq!(fields(check_step(&blank, NY, now)), ["title"]);
    }

    #[test]
    fn links_must_be_http_urls_with_a_host() {
        assert_eq!(
            parse_link(" https://learn.example.org/a?b=c ").unwrap(),
            "https://learn.example.org/a?b=c"
        );
        for bad in [
            "ftp://x.org",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "http://a b.org",
            "learn.example.org",
        ] {
            assert!(parse_link(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for t in Trigger::ALL {
            assert_eq!(Trigger::parse(t.as_str()), Some(*t));
        }
        assert_eq!(ActionType::parse("open_link"), Some(ActionType::OpenLink));
        assert_eq!(ViewerType::parse("everyone"), None);
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            NY,
            chrono_tz::Europe::London,
            chrono_tz::Australia::Sydney,
            chrono_tz::Asia::Kolkata,
            chrono_tz::UTC,
        ])
    }

    proptest! {
        /// A delay of n days lands on the local date n days later, at the same local time unless
        /// that time does not exist then, and never before the trigger.
        #[test]
        fn day_delays_keep_the_local_clock(secs in 1_700_000_000i64..1_900_000_000, days in 0u32..60, zone in zones()) {
            let fired = DateTime::from_timestamp(secs, 0).unwrap();
            let due = Delay::new(days, DelayUnit::Days).unwrap().due(fired, zone);
            let (a, b) = (fired.with_timezone(&zone), due.with_timezone(&zone));
            prop_assert!(due >= fired);
            prop_assert_eq!(b.date_naive(), a.date_naive() + Days::new(days.into()));
            if zone.from_local_datetime(&(a.naive_local() + Days::new(days.into()))).single().is_some() {
                prop_assert_eq!((b.hour(), b.minute()), (a.hour(), a.minute()));
            }
        }

        /// Every existing local time publishes at an instant that reads back as that local time.
        #[test]
        fn publish_instants_read_back(secs in 1_700_000_000i64..1_900_000_000, zone in zones()) {
            let wall = DateTime::from_timestamp(secs, 0).unwrap().with_timezone(&zone).naive_local();
            let at = publish_instant(wall, zone).unwrap();
            prop_assert_eq!(at.with_timezone(&zone).naive_local(), wall);
        }
    }
}
