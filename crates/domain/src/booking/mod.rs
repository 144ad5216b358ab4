//! Provider-first booking (issue 8): when a provider can be booked.
//!
//! This module owns the slot engine ([`slots`]), the check a requested start must pass inside the
//! booking transaction ([`is_bookable`]), the interval a booking blocks ([`occupied`],
//! [`conflicts`]), the late-cancellation rule ([`cancellation_is_late`]), who a freed slot is
//! offered to ([`first_waiting`]) and the checks on availability and service settings
//! ([`validate_weekly`], [`validate_overrides`], [`ServiceRules::new`], [`TimeOff::new`]), and
//! how long an answer of [`slots`] holds while only time passes ([`unchanged_until`]).
//! Everything is pure: the API loads availability and bookings, calls these functions and stores
//! the result.
//!
//! # The rules
//!
//! - **Weekly windows** ([`WeeklyWindow`]) are wall-clock times in the provider's own zone, whole
//!   minutes. A window ends after it starts, on the same local day: a window never crosses midnight
//!   and neither does a slot. An end of `00:00` means midnight at the end of the day (24:00), so
//!   `00:00–00:00` is the whole day. Windows of one weekday may touch (`09:00–12:00` and
//!   `12:00–17:00` act as one window `09:00–17:00`) but not overlap ([`validate_weekly`]).
//! - **Date overrides** ([`DateOverride`]) replace the weekly windows on one local date; an
//!   override without windows makes the provider unavailable all that day.
//! - **Wall clock to instant**: a local time means its first occurrence when the clocks fall back,
//!   and the first instant after the gap when they spring forward (the same mapping as
//!   [`instant_at_or_after`]). The mapping never goes backwards, so a `09:00–17:00` rule is
//!   09:00–17:00 local on both sides of a change; on a spring-forward day a window starting inside
//!   the gap starts when the clocks resume (a window wholly inside the gap is empty); on a
//!   fall-back day a window spanning the repeated hour is an hour longer and the repeated wall
//!   times appear once per occurrence, each a distinct instant, nothing duplicated or lost. A
//!   window *starting* inside the repeated hour starts at its first occurrence (so the second
//!   occurrence's earlier wall times belong to it too) and one *ending* there ends at its first
//!   occurrence: adjacent windows stay adjacent and a day's windows never overlap the next day's.
//! - **Slots** last the service's duration and start at `window start + k × interval`
//!   (elapsed time), so their grid follows each window's own start; they lie wholly inside one
//!   (merged) window, outside every [`TimeOff`] (the appointment itself; buffers may reach into
//!   time off or outside the window) and their buffered interval ([`occupied`]) does not
//!   intersect the buffered interval of any existing booking ([`Busy`], each with its own buffers,
//!   which is what a database exclusion constraint over [`occupied`] ranges enforces).
//! - **Minimum notice** ([`Notice`]): `Hours(n)` is elapsed time, a slot starts at or after
//!   `now + n hours`; `CalendarDays(n)` means the first bookable local date is today + n in the
//!   provider's zone (`CalendarDays(0)`: later today). Never before `now`.
//! - **Horizon**: the last bookable local date is today + `horizon_days` in the provider's zone
//!   (a slot *starting* that day may be booked).
//! - **Range**: [`slots`] returns slots whose start lies in `[from, to)`.
//! - **Several providers** (the generic service): one [`Slot`] per distinct start instant, listing
//!   every provider free then, sorted and without repeats; slots sorted by start.
//! - Instants are compared at whole-second precision of the start grid; bookings, time off and
//!   `now` may carry fractions of a second and are compared exactly.
//! - **Late cancellation**: cancelling less than the window's hours before the start (or after it).
//! - **Waitlist**: a freed slot is offered to the first student who joined the waitlist for that
//!   provider and local date (the provider's zone).
//!
//! # Cost
//!
//! Per call, each zone's local midnights, notice and horizon are computed once; each provider's
//! time off and bookings become sorted ranges of forbidden start times, and one walk over the
//! windows of each date emits its sorted starts. Several providers' starts are then grouped a day
//! at a time through a per-minute bitset of provider ranks, so every slot's providers come out
//! sorted without a hash map or a heap. 200 providers over 4 weeks: about 1 ms of CPU
//! (docs/benchmarks.md, "Booking slots (domain)").

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::tenancy::instant_at_or_after;
use crate::Invalid;

mod eligibility;
#[cfg(test)]
mod tests;

pub use eligibility::*;

const DAY_SECS: i64 = 86_400;

/// An available window on every `weekday`, in the provider's zone. `end` of `00:00` is midnight
/// at the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeeklyWindow {
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// The windows of one local date, replacing the weekly windows that day; none: unavailable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DateOverride {
    pub date: NaiveDate,
    pub windows: Vec<(NaiveTime, NaiveTime)>,
}

/// A period the provider is away, whatever the windows say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeOff {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl TimeOff {
    pub fn new(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<Self, Invalid> {
        if ends_at <= starts_at {
            return Err(Invalid::new("time off must end after it starts"));
        }
        Ok(Self { starts_at, ends_at })
    }
}

/// An existing booking of the provider: the appointment itself and the buffers of the service it
/// was booked for (a provider's bookings may come from services with different buffers). It
/// blocks [`Busy::occupied`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Busy {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
}

impl Busy {
    /// A booking of a service with `rules`, from `starts_at` to `ends_at`.
    pub fn booking(rules: &ServiceRules, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Self {
            starts_at,
            ends_at,
            buffer_before: rules.buffer_before,
            buffer_after: rules.buffer_after,
        }
    }

    /// The interval this booking blocks, buffers included.
    pub fn occupied(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.starts_at - self.buffer_before, self.ends_at + self.buffer_after)
    }
}

/// One provider's availability, as the slot engine needs it. The vectors need no order.
#[derive(Debug, Clone, PartialEq)]
pub struct Availability<P> {
    pub provider: P,
    pub zone: Tz,
    pub weekly: Vec<WeeklyWindow>,
    pub overrides: Vec<DateOverride>,
    pub time_off: Vec<TimeOff>,
    pub busy: Vec<Busy>,
}

/// How long before a slot it must be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// Elapsed hours from now.
    Hours(u32),
    /// The first bookable local date is today + n in the provider's zone.
    CalendarDays(u32),
}

/// A service's booking rules, checked: build them with [`ServiceRules::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceRules {
    duration: Duration,
    buffer_before: Duration,
    buffer_after: Duration,
    min_notice: Notice,
    horizon_days: u32,
    interval: Duration,
}

pub const DURATION_MINUTES: std::ops::RangeInclusive<u32> = 5..=480;
pub const BUFFER_MINUTES: std::ops::RangeInclusive<u32> = 0..=240;
pub const INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 5..=240;
pub const HORIZON_DAYS: std::ops::RangeInclusive<u32> = 1..=365;
pub const MAX_NOTICE_DAYS: u32 = 90;

impl ServiceRules {
    /// Checks every value and returns all problems, each with the name of its field.
    pub fn new(
        duration_minutes: u32,
        buffer_before_minutes: u32,
        buffer_after_minutes: u32,
        min_notice: Notice,
        horizon_days: u32,
        interval_minutes: u32,
    ) -> Result<Self, Vec<(&'static str, Invalid)>> {
        let mut problems = Vec::new();
        let mut range = |field, value: u32, range: std::ops::RangeInclusive<u32>, unit| {
            if !range.contains(&value) {
                problems.push((
                    field,
                    Invalid(format!("must be between {} and {} {unit}", range.start(), range.end())),
                ));
            }
        };
        range("duration_minutes", duration_minutes, DURATION_MINUTES, "minutes");
        range(
            "buffer_before_minutes",
            buffer_before_minutes,
            BUFFER_MINUTES,
            "minutes",
        );
        range("buffer_after_minutes", buffer_after_minutes, BUFFER_MINUTES, "minutes");
        range("horizon_days", horizon_days, HORIZON_DAYS, "days");
        range("interval_minutes", interval_minutes, INTERVAL_MINUTES, "minutes");
        let notice_too_long = match min_notice {
            Notice::Hours(h) => h > MAX_NOTICE_DAYS * 24,
            Notice::CalendarDays(d) => d > MAX_NOTICE_DAYS,
        };
        if notice_too_long {
            problems.push(("min_notice", Invalid(format!("must be at most {MAX_NOTICE_DAYS} days"))));
        } else if HORIZON_DAYS.contains(&horizon_days) {
            let beyond = match min_notice {
                Notice::Hours(h) => h > horizon_days * 24,
                Notice::CalendarDays(d) => d > horizon_days,
            };
            if beyond {
                problems.push((
                    "min_notice",
                    Invalid::new("must not reach past the booking horizon, or nothing could be booked"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let minutes = |m: u32| Duration::minutes(m.into());
        Ok(Self {
            duration: minutes(duration_minutes),
            buffer_before: minutes(buffer_before_minutes),
            buffer_after: minutes(buffer_after_minutes),
            min_notice,
            horizon_days,
            interval: minutes(interval_minutes),
        })
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }
    pub fn buffer_before(&self) -> Duration {
        self.buffer_before
    }
    pub fn buffer_after(&self) -> Duration {
        self.buffer_after
    }
    pub fn min_notice(&self) -> Notice {
        self.min_notice
    }
    pub fn horizon_days(&self) -> u32 {
        self.horizon_days
    }
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The first instant a slot of a provider in `zone` may start, asked at `now`.
    pub fn earliest_start(&self, zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.min_notice {
            Notice::Hours(h) => now + Duration::hours(h.into()),
            Notice::CalendarDays(d) => {
                let first = local_today(zone, now) + Days::new(d.into());
                instant_at_or_after(zone, first.and_time(NaiveTime::MIN)).max(now)
            }
        }
    }

    /// Slots of a provider in `zone` must start before this instant (midnight after the last
    /// bookable local date), asked at `now`.
    pub fn horizon_end(&self, zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
        let after_last = local_today(zone, now) + Days::new(u64::from(self.horizon_days) + 1);
        instant_at_or_after(zone, after_last.and_time(NaiveTime::MIN))
    }
}

fn local_today(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// A bookable time: for one provider's service `providers` has one entry; for the generic
/// service it lists every provider free at that time, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slot<P> {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub providers: Vec<P>,
}

/// The interval a booking from `starts_at` to `ends_at` of a service with `rules` blocks,
/// buffers included: `[starts_at − buffer_before, ends_at + buffer_after)`.
pub fn occupied(
    rules: &ServiceRules,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (starts_at - rules.buffer_before, ends_at + rules.buffer_after)
}

/// Whether two half-open intervals `[start, end)` share an instant (touching ones do not).
pub fn conflicts(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Whether cancelling at `now` a booking starting at `starts_at` falls inside the late-cancellation
/// window (less than `window_hours` before the start, or after it), and so needs an admin.
pub fn cancellation_is_late(window_hours: u32, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > starts_at - Duration::hours(window_hours.into())
}

/// A student waiting for a free slot with `provider` on local `date` (in the provider's zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Waiting<P, S> {
    pub provider: P,
    pub date: NaiveDate,
    pub student: S,
    pub joined_at: DateTime<Utc>,
}

/// Who is offered a slot of `provider` starting at `freed` that has just come free: the first
/// student to join the waitlist for that provider and that local date in `zone` (the provider's),
/// earlier in `waiting` on a tie. Whether the slot is still bookable is [`is_bookable`]'s to say.
pub fn first_waiting<P: PartialEq, S>(
    waiting: &[Waiting<P, S>],
    provider: P,
    freed: DateTime<Utc>,
    zone: Tz,
) -> Option<&Waiting<P, S>> {
    let date = freed.with_timezone(&zone).date_naive();
    waiting
        .iter()
        .filter(|w| w.provider == provider && w.date == date)
        .min_by_key(|w| w.joined_at)
}

/// At most this many weekly windows per provider, and windows per override.
pub const MAX_WEEKLY_WINDOWS: usize = 100;
pub const MAX_OVERRIDE_WINDOWS: usize = 24;
/// At most this many date overrides per provider.
pub const MAX_OVERRIDES: usize = 1000;

fn end_seconds(end: NaiveTime) -> u32 {
    if end == NaiveTime::MIN {
        DAY_SECS as u32
    } else {
        end.num_seconds_from_midnight()
    }
}

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn show_end(t: NaiveTime) -> String {
    if t == NaiveTime::MIN {
        "24:00".into()
    } else {
        hhmm(t)
    }
}

/// A window's own problem: times in whole minutes, end after start (end 00:00 is midnight).
fn window_problem(start: NaiveTime, end: NaiveTime) -> Option<Invalid> {
    let whole = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
    if !whole(start) || !whole(end) {
        return Some(Invalid::new("times must be whole minutes"));
    }
    if start.num_seconds_from_midnight() >= end_seconds(end) {
        return Some(Invalid(format!(
            "ends at {} before it starts at {}: a window ends after it starts on the same day (use 00:00 as the end for midnight)",
            show_end(end),
            hhmm(start)
        )));
    }
    None
}

fn overlap(a: (NaiveTime, NaiveTime), b: (NaiveTime, NaiveTime)) -> bool {
    a.0.num_seconds_from_midnight() < end_seconds(b.1) && b.0.num_seconds_from_midnight() < end_seconds(a.1)
}

/// Checks weekly windows: each ends after it starts, in whole minutes, and windows of the same
/// weekday do not overlap (touching is fine). Returns every problem with the window's index.
pub fn validate_weekly(windows: &[WeeklyWindow]) -> Result<(), Vec<(usize, Invalid)>> {
    if windows.len() > MAX_WEEKLY_WINDOWS {
        return Err(vec![(
            MAX_WEEKLY_WINDOWS,
            Invalid(format!("at most {MAX_WEEKLY_WINDOWS} weekly windows")),
        )]);
    }
    let mut problems = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        if let Some(problem) = window_problem(w.start, w.end) {
            problems.push((i, problem));
            continue;
        }
        let earlier = windows[..i].iter().enumerate().find(|(_, o)| {
            o.weekday == w.weekday
                && window_problem(o.start, o.end).is_none()
                && overlap((o.start, o.end), (w.start, w.end))
        });
        if let Some((j, o)) = earlier {
            problems.push((
                i,
                Invalid(format!(
                    "{:?} {}–{} overlaps window {j} ({:?} {}–{})",
                    w.weekday,
                    hhmm(w.start),
                    show_end(w.end),
                    o.weekday,
                    hhmm(o.start),
                    show_end(o.end)
                )),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Checks date overrides: one per date, and each one's windows as [`validate_weekly`] checks a
/// weekday's. Returns every problem with the override's index.
pub fn validate_overrides(overrides: &[DateOverride]) -> Result<(), Vec<(usize, Invalid)>> {
    if overrides.len() > MAX_OVERRIDES {
        return Err(vec![(
            MAX_OVERRIDES,
            Invalid(format!("at most {MAX_OVERRIDES} date overrides")),
        )]);
    }
    let mut problems = Vec::new();
    for (i, o) in overrides.iter().enumerate() {
        if let Some(j) = overrides[..i].iter().position(|e| e.date == o.date) {
            problems.push((i, Invalid(format!("{} already has override {j}", o.date))));
            continue;
        }
        if o.windows.len() > MAX_OVERRIDE_WINDOWS {
            problems.push((i, Invalid(format!("at most {MAX_OVERRIDE_WINDOWS} windows a day"))));
            continue;
        }
        for (k, &(start, end)) in o.windows.iter().enumerate() {
            if let Some(problem) = window_problem(start, end) {
                problems.push((i, Invalid(format!("window {k}: {problem}"))));
            } else if let Some(j) = o.windows[..k]
                .iter()
                .position(|&e| window_problem(e.0, e.1).is_none() && overlap(e, (start, end)))
            {
                let e = o.windows[j];
                problems.push((
                    i,
                    Invalid(format!(
                        "window {k} ({}–{}) overlaps window {j} ({}–{})",
                        hhmm(start),
                        show_end(end),
                        hhmm(e.0),
                        show_end(e.1)
                    )),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Why a requested start cannot be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NotBookable {
    #[error("this time is in the past or inside the service's minimum notice")]
    InsideNotice,
    #[error("this time is beyond the service's booking horizon")]
    BeyondHorizon,
    #[error("the provider is not available at this time")]
    OutsideAvailability,
    #[error("the provider is away at this time")]
    TimeOff,
    #[error("this time is not one of the service's slot start times")]
    Misaligned,
    #[error("this time conflicts with another booking of the provider")]
    Conflicts,
}

fn secs_floor(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn secs_ceil(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

fn instant(secs: i64) -> DateTime<Utc> {
    // Every second handled here came from a valid DateTime<Utc> plus or minus at most a day.
    DateTime::from_timestamp(secs, 0).expect("slot instants stay in chrono's range")
}

fn ceil_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b) + i64::from(a.rem_euclid(b) != 0)
}

/// Whole-second versions of a service's lengths.
#[derive(Clone, Copy)]
struct Lengths {
    duration: i64,
    before: i64,
    after: i64,
    interval: i64,
}

impl Lengths {
    fn of(rules: &ServiceRules) -> Self {
        Self {
            duration: rules.duration.num_seconds(),
            before: rules.buffer_before.num_seconds(),
            after: rules.buffer_after.num_seconds(),
            interval: rules.interval.num_seconds(),
        }
    }
}

fn midnight(zone: Tz, date: NaiveDate) -> i64 {
    instant_at_or_after(zone, date.and_time(NaiveTime::MIN)).timestamp()
}

fn succ(date: NaiveDate) -> NaiveDate {
    date.succ_opt().expect("dates stay in chrono's range")
}

/// The merged windows of local `date` as instants (seconds), sorted, into `out`. `today` is the
/// midnight starting `date` and `tomorrow` the next one.
fn day_windows<P>(av: &Availability<P>, date: NaiveDate, today: i64, tomorrow: i64, out: &mut Vec<(i64, i64)>) {
    out.clear();
    // A day of 86,400 s has no clock change (tz data never holds two changes cancelling out in a
    // day), so its wall times are offsets from midnight; otherwise convert each time.
    let plain = tomorrow - today == DAY_SECS;
    let mut push = |start: NaiveTime, end: NaiveTime| {
        let (s, e) = (
            i64::from(start.num_seconds_from_midnight()),
            i64::from(end_seconds(end)),
        );
        if s >= e {
            return; // refused by validation; ignored if it slips through
        }
        let (ws, we) = if plain {
            (today + s, today + e)
        } else {
            let at = |t: NaiveTime| instant_at_or_after(av.zone, date.and_time(t)).timestamp();
            (at(start), if e == DAY_SECS { tomorrow } else { at(end) })
        };
        if ws < we {
            out.push((ws, we));
        }
    };
    match av.overrides.iter().find(|o| o.date == date) {
        Some(o) => o.windows.iter().for_each(|&(s, e)| push(s, e)),
        None => {
            let weekday = date.weekday();
            av.weekly
                .iter()
                .filter(|w| w.weekday == weekday)
                .for_each(|w| push(w.start, w.end))
        }
    }
    if out.len() > 1 {
        out.sort_unstable();
        let mut kept = 0;
        for i in 1..out.len() {
            if out[i].0 <= out[kept].1 {
                out[kept].1 = out[kept].1.max(out[i].1);
            } else {
                kept += 1;
                out[kept] = out[i];
            }
        }
        out.truncate(kept + 1);
    }
}

/// Half-open ranges `[a, b)` of start seconds that time off or bookings forbid, overlapping
/// `[lo, hi)`, sorted and merged, into `out`.
fn blocked_starts<P>(av: &Availability<P>, len: Lengths, lo: i64, hi: i64, out: &mut Vec<(i64, i64)>) {
    out.clear();
    // A start s is blocked by time off [a, b) when s < b and s + duration > a.
    for t in &av.time_off {
        out.push((secs_floor(t.starts_at) - len.duration + 1, secs_ceil(t.ends_at)));
    }
    // ... and by a booking occupying [a, b) when s − before < b and s + duration + after > a.
    for b in &av.busy {
        let (a, e) = b.occupied();
        out.push((secs_floor(a) - len.duration - len.after + 1, secs_ceil(e) + len.before));
    }
    out.retain(|&(a, b)| a < b && a < hi && b > lo);
    if out.len() > 1 {
        out.sort_unstable();
        let mut kept = 0;
        for i in 1..out.len() {
            if out[i].0 <= out[kept].1 {
                out[kept].1 = out[kept].1.max(out[i].1);
            } else {
                kept += 1;
                out[kept] = out[i];
            }
        }
        out.truncate(kept + 1);
    }
}

/// What every provider of one zone shares in a call: the range of start seconds `[lo, hi)` left
/// by the request, the notice and the horizon, and the midnights of the local dates it covers.
struct ZoneDays {
    zone: Tz,
    lo: i64,
    hi: i64,
    /// The local dates that may hold a start, in order.
    dates: Vec<NaiveDate>,
    /// `midnights[i]` starts `dates[i]`; one more than there are dates.
    midnights: Vec<i64>,
}

impl ZoneDays {
    fn new(rules: &ServiceRules, zone: Tz, (from, to): (i64, i64), now: DateTime<Utc>) -> Self {
        let lo = from.max(secs_ceil(rules.earliest_start(zone, now)));
        let hi = to.min(secs_ceil(rules.horizon_end(zone, now)));
        let mut days = Self {
            zone,
            lo,
            hi,
            dates: Vec::new(),
            midnights: Vec::new(),
        };
        if lo < hi {
            // Windows of earlier dates end by midnight, before `lo`; the last date holds `hi - 1`.
            let mut date = instant(lo).with_timezone(&zone).date_naive();
            let last = instant(hi - 1).with_timezone(&zone).date_naive();
            days.midnights.push(midnight(zone, date));
            while date <= last {
                days.dates.push(date);
                date = succ(date);
                days.midnights.push(midnight(zone, date));
            }
        }
        days
    }
}

/// Reusable buffers, so a call allocates per provider only what it returns.
#[derive(Default)]
struct Scratch {
    windows: Vec<(i64, i64)>,
    blocked: Vec<(i64, i64)>,
    zones: Vec<ZoneDays>,
}

impl Scratch {
    /// The shared days of `zone`, computed on first use.
    fn zone_days(&mut self, rules: &ServiceRules, zone: Tz, range: (i64, i64), now: DateTime<Utc>) -> usize {
        match self.zones.iter().position(|z| z.zone == zone) {
            Some(i) => i,
            None => {
                self.zones.push(ZoneDays::new(rules, zone, range, now));
                self.zones.len() - 1
            }
        }
    }
}

/// The start seconds of one provider's free slots in `[from, to)` (seconds, rounded up),
/// appended to `out` in order. False when a window starts off the minute (a zone offset with
/// seconds, before the 1970s), so a start may be too.
fn provider_starts<P>(
    rules: &ServiceRules,
    len: Lengths,
    av: &Availability<P>,
    range: (i64, i64),
    now: DateTime<Utc>,
    scratch: &mut Scratch,
    out: &mut Vec<i64>,
) -> bool {
    let zone = scratch.zone_days(rules, av.zone, range, now);
    let Scratch {
        windows,
        blocked,
        zones,
    } = scratch;
    let days = &zones[zone];
    let (lo, hi) = (days.lo, days.hi);
    if lo >= hi {
        return true;
    }
    blocked_starts(av, len, lo, hi, blocked);
    let mut on_minutes = true;
    let mut bi = 0;
    for (&date, pair) in days.dates.iter().zip(days.midnights.windows(2)) {
        day_windows(av, date, pair[0], pair[1], windows);
        for &(ws, we) in windows.iter() {
            on_minutes &= ws % 60 == 0;
            let latest = (we - len.duration).min(hi - 1);
            let mut s = if ws >= lo {
                ws
            } else {
                ws + ceil_div(lo - ws, len.interval) * len.interval
            };
            while s <= latest {
                while bi < blocked.len() && blocked[bi].1 <= s {
                    bi += 1;
                }
                if bi < blocked.len() && blocked[bi].0 <= s {
                    s = ws + ceil_div(blocked[bi].1 - ws, len.interval) * len.interval;
                    continue;
                }
                out.push(s);
                s += len.interval;
            }
        }
    }
    on_minutes
}

/// The free slots of a service with `rules` starting in `[from, to)`, asked at `now`: for one
/// provider's service pass one availability; for the generic service pass every certified
/// provider's, and each slot lists who is free. Sorted by start. See the module docs for the rules.
pub fn slots<P: Copy + Ord>(
    rules: &ServiceRules,
    providers: &[Availability<P>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Slot<P>> {
    let len = Lengths::of(rules);
    let range = (secs_ceil(from), secs_ceil(to));
    let duration = rules.duration;
    let mut scratch = Scratch::default();
    let mut starts = Vec::new();
    let slot = |s: i64, providers: Vec<P>| {
        let starts_at = instant(s);
        Slot {
            starts_at,
            ends_at: starts_at + duration,
            providers,
        }
    };
    if let [only] = providers {
        let _ = provider_starts(rules, len, only, range, now, &mut scratch, &mut starts);
        return starts.into_iter().map(|s| slot(s, vec![only.provider])).collect();
    }
    // Each provider's starts come out sorted: compute them provider after provider, in provider
    // order, into one buffer, then group equal starts with a stable counting sort by minute.
    let mut order: Vec<usize> = (0..providers.len()).collect();
    order.sort_by_key(|&i| providers[i].provider);
    let mut runs = Vec::with_capacity(order.len());
    let mut on_minutes = true;
    for &i in &order {
        let begin = starts.len();
        on_minutes &= provider_starts(rules, len, &providers[i], range, now, &mut scratch, &mut starts);
        runs.push((begin, starts.len()));
    }
    let grouped = if on_minutes {
        group_by_minute(&starts, &runs)
    } else {
        group_by_sorting(&starts, &runs)
    };
    let ids: Vec<P> = order.iter().map(|&i| providers[i].provider).collect();
    let mut out = Vec::with_capacity(grouped.len());
    for (s, ranks) in grouped.iter() {
        let mut listed: Vec<P> = Vec::with_capacity(ranks.len());
        for &rank in ranks {
            let provider = ids[rank as usize];
            if listed.last() != Some(&provider) {
                listed.push(provider);
            }
        }
        out.push(slot(s, listed));
    }
    out
}

/// Until when the answer of [`slots`] asked at `now` stays the same while only time passes: for
/// every `t` in `[now, until)`, `slots(rules, providers, from, to, t)` equals `answer`, the
/// answer asked at `now` (`None`: for ever). A cache of answers keeps one until then.
///
/// Time moves an answer in three ways only (see the module docs):
/// - the minimum notice drops starts from the front: in hours (or calendar days, which never
///   allow a start before `now`), the first start of `answer` goes first, when `now` passes it
///   minus the notice; starts it dropped never come back;
/// - a notice in calendar days moves on at each local midnight of a provider's zone;
/// - so does the horizon, which matters only while it ends before `to`.
pub fn unchanged_until<P>(
    rules: &ServiceRules,
    providers: &[Availability<P>],
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    answer: &[Slot<P>],
) -> Option<DateTime<Utc>> {
    let calendar_days = matches!(rules.min_notice, Notice::CalendarDays(_));
    let mut until = answer.first().map(|first| match rules.min_notice {
        Notice::Hours(h) => first.starts_at - Duration::hours(h.into()),
        Notice::CalendarDays(_) => first.starts_at,
    });
    let mut zones: Vec<Tz> = Vec::new();
    for zone in providers.iter().map(|p| p.zone) {
        if zones.contains(&zone) {
            continue;
        }
        zones.push(zone);
        if calendar_days || rules.horizon_end(zone, now) < to {
            let tomorrow = local_today(zone, now) + Days::new(1);
            let midnight = instant_at_or_after(zone, tomorrow.and_time(NaiveTime::MIN));
            until = Some(until.map_or(midnight, |u| u.min(midnight)));
        }
    }
    until.map(|u| u.max(now))
}

/// Provider ranks grouped by start: `starts[i]` starts group `i`, whose ranks (ascending) are
/// `ranks[bounds[i]..bounds[i + 1]]`.
struct Grouped {
    starts: Vec<i64>,
    bounds: Vec<u32>,
    ranks: Vec<u32>,
}

impl Grouped {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn iter(&self) -> impl Iterator<Item = (i64, &[u32])> {
        self.starts
            .iter()
            .zip(self.bounds.windows(2))
            .map(|(&s, b)| (s, &self.ranks[b[0] as usize..b[1] as usize]))
    }
}

/// Groups starts that all fall on whole minutes, as they do whenever zone offsets are whole
/// minutes (every zone since the 1970s). One pass sets, for each minute of a stretch of time, a bit per provider rank,
/// and a scan of the minutes reads each start's ranks in order. The stretch is at most a day
/// and its table at most 64 KiB, so it stays in the CPU's cache.
fn group_by_minute(starts: &[i64], runs: &[(usize, usize)]) -> Grouped {
    debug_assert!(starts.iter().all(|s| s.rem_euclid(60) == 0));
    let words = runs.len().div_ceil(64).max(1);
    let minutes = (65_536 / (8 * words)).clamp(64, 24 * 60);
    let mut table = vec![0u64; minutes * words];
    // A bit per minute of the stretch that has a start, so the scan skips empty minutes.
    let mut used = vec![0u64; minutes.div_ceil(64)];
    let mut grouped = Grouped {
        starts: Vec::new(),
        bounds: vec![0],
        ranks: Vec::with_capacity(starts.len()),
    };
    let mut heads: Vec<usize> = runs.iter().map(|r| r.0).collect();
    loop {
        let earliest = runs
            .iter()
            .zip(&heads)
            .filter(|(r, &h)| h < r.1)
            .map(|(_, &h)| starts[h])
            .min();
        let Some(chunk) = earliest else { break };
        let end = chunk + 60 * minutes as i64;
        for (rank, (run, head)) in runs.iter().zip(heads.iter_mut()).enumerate() {
            let (word, bit) = (rank / 64, 1u64 << (rank % 64));
            while *head < run.1 && starts[*head] < end {
                let m = ((starts[*head] - chunk) / 60) as usize;
                table[m * words + word] |= bit;
                used[m / 64] |= 1 << (m % 64);
                *head += 1;
            }
        }
        for (u, minute_bits) in used.iter_mut().enumerate() {
            let mut minute_bits = std::mem::take(minute_bits);
            while minute_bits != 0 {
                let m = u * 64 + minute_bits.trailing_zeros() as usize;
                minute_bits &= minute_bits - 1;
                for (w, word) in table[m * words..(m + 1) * words].iter_mut().enumerate() {
                    let mut bits = std::mem::take(word);
                    while bits != 0 {
                        grouped.ranks.push((w * 64) as u32 + bits.trailing_zeros());
                        bits &= bits - 1;
                    }
                }
                grouped.starts.push(chunk + 60 * m as i64);
                grouped.bounds.push(grouped.ranks.len() as u32);
            }
        }
    }
    grouped
}

/// The general case: sort (start, rank) pairs.
fn group_by_sorting(starts: &[i64], runs: &[(usize, usize)]) -> Grouped {
    let mut pairs: Vec<(i64, u32)> = Vec::with_capacity(starts.len());
    for (rank, &(b, e)) in runs.iter().enumerate() {
        pairs.extend(starts[b..e].iter().map(|&s| (s, rank as u32)));
    }
    pairs.sort_unstable();
    let mut grouped = Grouped {
        starts: Vec::new(),
        bounds: vec![0],
        ranks: Vec::with_capacity(pairs.len()),
    };
    for (i, &(s, rank)) in pairs.iter().enumerate() {
        if i > 0 && pairs[i - 1].0 != s {
            grouped.bounds.push(i as u32);
        }
        if i == 0 || pairs[i - 1].0 != s {
            grouped.starts.push(s);
        }
        grouped.ranks.push(rank);
    }
    if !pairs.is_empty() {
        grouped.bounds.push(pairs.len() as u32);
    }
    grouped
}

/// Whether a booking of `availability`'s provider may start at `starts_at`, asked at `now`:
/// exactly when [`slots`] would list that start. The error says why not.
pub fn is_bookable<P>(
    rules: &ServiceRules,
    availability: &Availability<P>,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), NotBookable> {
    let zone = availability.zone;
    if starts_at < rules.earliest_start(zone, now) {
        return Err(NotBookable::InsideNotice);
    }
    if starts_at >= rules.horizon_end(zone, now) {
        return Err(NotBookable::BeyondHorizon);
    }
    if starts_at.timestamp_subsec_nanos() != 0 {
        return Err(NotBookable::Misaligned);
    }
    let len = Lengths::of(rules);
    let s = starts_at.timestamp();
    let date = starts_at.with_timezone(&zone).date_naive();
    let mut windows = Vec::new();
    day_windows(
        availability,
        date,
        midnight(zone, date),
        midnight(zone, succ(date)),
        &mut windows,
    );
    let (ws, _) = windows
        .iter()
        .copied()
        .find(|&(ws, we)| ws <= s && s + len.duration <= we)
        .ok_or(NotBookable::OutsideAvailability)?;
    if (s - ws) % len.interval != 0 {
        return Err(NotBookable::Misaligned);
    }
    let appointment = (starts_at, starts_at + rules.duration);
    if availability
        .time_off
        .iter()
        .any(|t| conflicts(appointment, (t.starts_at, t.ends_at)))
    {
        return Err(NotBookable::TimeOff);
    }
    let blocks = occupied(rules, appointment.0, appointment.1);
    if availability.busy.iter().any(|b| conflicts(blocks, b.occupied())) {
        return Err(NotBookable::Conflicts);
    }
    Ok(())
}
