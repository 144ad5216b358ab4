use super::*;
use chrono::{DurationRound, NaiveDateTime, TimeZone};
use chrono_tz::America::New_York;
use chrono_tz::Australia::Sydney;
use chrono_tz::Europe::London;
use proptest::prelude::*;

fn t(hhmm: &str) -> NaiveTime {
    NaiveTime::parse_from_str(hhmm, "%H:%M").unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn local(zone: Tz, s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    zone.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
}

fn week(weekday: Weekday, start: &str, end: &str) -> WeeklyWindow {
    WeeklyWindow {
        weekday,
        start: t(start),
        end: t(end),
    }
}

fn every_day(start: &str, end: &str) -> Vec<WeeklyWindow> {
    use Weekday::*;
    [Mon, Tue, Wed, Thu, Fri, Sat, Sun]
        .into_iter()
        .map(|w| week(w, start, end))
        .collect()
}

fn provider(id: u32, zone: Tz, weekly: Vec<WeeklyWindow>) -> Availability<u32> {
    Availability {
        provider: id,
        zone,
        weekly,
        overrides: vec![],
        time_off: vec![],
        busy: vec![],
    }
}

/// 30-minute slots every 30 minutes, no buffers, no notice, 365-day horizon.
fn plain(duration: u32, interval: u32) -> ServiceRules {
    ServiceRules::new(duration, 0, 0, Notice::Hours(0), 365, interval).unwrap()
}

/// Start times of `slots` as local wall-clock strings in `zone`, with the offset.
fn wall(zone: Tz, slots: &[Slot<u32>]) -> Vec<String> {
    slots
        .iter()
        .map(|s| s.starts_at.with_timezone(&zone).format("%H:%M%:z").to_string())
        .collect()
}

fn starts(slots: &[Slot<u32>]) -> Vec<DateTime<Utc>> {
    slots.iter().map(|s| s.starts_at).collect()
}

/// The slots of one local date in the provider's zone, asked long before.
fn day_slots(rules: &ServiceRules, av: &Availability<u32>, date: &str) -> Vec<Slot<u32>> {
    let date = d(date);
    let from = instant_at_or_after(av.zone, date.and_time(NaiveTime::MIN));
    let to = instant_at_or_after(av.zone, succ(date).and_time(NaiveTime::MIN));
    slots(rules, std::slice::from_ref(av), from, to, from - Duration::days(1))
}

// ---------------------------------------------------------------- rules and validation

#[test]
fn service_rules_are_bounded_and_name_each_bad_field() {
    assert!(ServiceRules::new(30, 0, 15, Notice::CalendarDays(1), 28, 15).is_ok());
    let problems = ServiceRules::new(4, 241, 0, Notice::Hours(0), 0, 3).unwrap_err();
    let fields: Vec<_> = problems.iter().map(|(f, _)| *f).collect();
    assert_eq!(
        fields,
        [
            "duration_minutes",
            "buffer_before_minutes",
            "horizon_days",
            "interval_minutes"
        ]
    );
    assert!(problems[0].1 .0.contains("between 5 and 480"));
    assert!(ServiceRules::new(481, 0, 0, Notice::Hours(0), 1, 5).is_err());
    assert!(ServiceRules::new(480, 240, 240, Notice::Hours(24), 365, 240).is_ok());
    assert!(ServiceRules::new(30, 0, 0, Notice::CalendarDays(91), 365, 15).is_err());
    assert!(ServiceRules::new(30, 0, 0, Notice::Hours(90 * 24 + 1), 365, 15).is_err());
    assert!(ServiceRules::new(30, 0, 0, Notice::CalendarDays(90), 365, 15).is_ok());
    // Notice past the horizon would leave nothing to book.
    let problems = ServiceRules::new(30, 0, 0, Notice::CalendarDays(8), 7, 15).unwrap_err();
    assert_eq!(problems[0].0, "min_notice");
    assert!(ServiceRules::new(30, 0, 0, Notice::CalendarDays(7), 7, 15).is_ok());
    assert!(ServiceRules::new(30, 0, 0, Notice::Hours(7 * 24 + 1), 7, 15).is_err());
}

#[test]
fn weekly_windows_must_end_after_they_start_and_not_overlap() {
    use Weekday::*;
    assert!(validate_weekly(&[
        week(Mon, "09:00", "12:00"),
        week(Mon, "12:00", "17:00"),
        week(Tue, "10:00", "11:00")
    ])
    .is_ok());
    assert!(
        validate_weekly(&[week(Sun, "00:00", "00:00")]).is_ok(),
        "00:00-00:00 is the whole day"
    );
    assert!(
        validate_weekly(&[week(Sun, "22:00", "00:00")]).is_ok(),
        "end 00:00 is midnight"
    );

    let problems = validate_weekly(&[
        week(Mon, "09:00", "12:00"),
        week(Mon, "11:00", "13:00"),
        week(Tue, "17:00", "09:00"),
        week(Wed, "10:00", "10:00"),
        week(Thu, "10:00", "11:00"),
        WeeklyWindow {
            weekday: Fri,
            start: NaiveTime::from_hms_opt(9, 0, 30).unwrap(),
            end: t("10:00"),
        },
    ])
    .unwrap_err();
    let at: Vec<usize> = problems.iter().map(|(i, _)| *i).collect();
    assert_eq!(at, [1, 2, 3, 5]);
    assert_eq!(problems[0].1 .0, "Mon 11:00–13:00 overlaps window 0 (Mon 09:00–12:00)");
    assert!(problems[1].1 .0.contains("ends at 09:00 before it starts at 17:00"));
    assert!(problems[3].1 .0.contains("whole minutes"));
    assert!(validate_weekly(&vec![week(Mon, "09:00", "10:00"); MAX_WEEKLY_WINDOWS + 1]).is_err());
}

#[test]
fn overrides_are_one_per_date_with_valid_windows() {
    let ok = DateOverride {
        date: d("2027-03-01"),
        windows: vec![(t("13:00"), t("15:00")), (t("09:00"), t("12:00"))],
    };
    let off = DateOverride {
        date: d("2027-03-02"),
        windows: vec![],
    };
    assert!(validate_overrides(&[ok.clone(), off.clone()]).is_ok());
    let again = DateOverride {
        date: d("2027-03-01"),
        windows: vec![],
    };
    let overlapping = DateOverride {
        date: d("2027-03-03"),
        windows: vec![(t("09:00"), t("12:00")), (t("11:00"), t("12:30"))],
    };
    let backwards = DateOverride {
        date: d("2027-03-04"),
        windows: vec![(t("12:00"), t("11:00"))],
    };
    let problems = validate_overrides(&[ok, off, again, overlapping, backwards]).unwrap_err();
    assert_eq!(problems.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(problems[0].1 .0, "2027-03-01 already has override 0");
    assert_eq!(
        problems[1].1 .0,
        "window 1 (11:00–12:30) overlaps window 0 (09:00–12:00)"
    );
    assert!(problems[2].1 .0.starts_with("window 0: ends at 11:00"));
}

#[test]
fn time_off_must_end_after_it_starts() {
    assert!(TimeOff::new(utc("2027-01-01T10:00:00Z"), utc("2027-01-01T10:00:00Z")).is_err());
    assert!(TimeOff::new(utc("2027-01-01T10:00:00Z"), utc("2027-01-01T10:01:00Z")).is_ok());
}

#[test]
fn a_booking_occupies_its_buffers_and_touching_intervals_do_not_conflict() {
    let rules = ServiceRules::new(30, 10, 5, Notice::Hours(0), 30, 15).unwrap();
    let (s, e) = (utc("2027-01-04T10:00:00Z"), utc("2027-01-04T10:30:00Z"));
    assert_eq!(
        occupied(&rules, s, e),
        (utc("2027-01-04T09:50:00Z"), utc("2027-01-04T10:35:00Z"))
    );
    assert_eq!(Busy::booking(&rules, s, e).occupied(), occupied(&rules, s, e));
    let a = (utc("2027-01-04T10:00:00Z"), utc("2027-01-04T11:00:00Z"));
    assert!(!conflicts(
        a,
        (utc("2027-01-04T11:00:00Z"), utc("2027-01-04T12:00:00Z"))
    ));
    assert!(!conflicts(
        a,
        (utc("2027-01-04T09:00:00Z"), utc("2027-01-04T10:00:00Z"))
    ));
    assert!(conflicts(a, (utc("2027-01-04T10:59:59Z"), utc("2027-01-04T12:00:00Z"))));
    assert!(conflicts(a, (utc("2027-01-04T10:15:00Z"), utc("2027-01-04T10:20:00Z"))));
    assert!(conflicts((utc("2027-01-04T10:15:00Z"), utc("2027-01-04T10:20:00Z")), a));
}

#[test]
fn late_cancellation_is_inside_the_window_before_the_start() {
    let start = utc("2027-05-10T15:00:00Z");
    assert!(
        !cancellation_is_late(24, start, utc("2027-05-09T15:00:00Z")),
        "exactly 24 h before is in time"
    );
    assert!(cancellation_is_late(24, start, utc("2027-05-09T15:00:01Z")));
    assert!(
        cancellation_is_late(24, start, utc("2027-05-10T16:00:00Z")),
        "after the start"
    );
    assert!(!cancellation_is_late(0, start, start));
    assert!(cancellation_is_late(0, start, utc("2027-05-10T15:00:01Z")));
}

#[test]
fn a_freed_slot_goes_to_the_first_student_waiting_for_that_provider_and_local_day() {
    let joined = |s: &str| utc(s);
    let waiting = [
        Waiting {
            provider: 1,
            date: d("2027-06-07"),
            student: "late",
            joined_at: joined("2027-06-01T12:00:00Z"),
        },
        Waiting {
            provider: 2,
            date: d("2027-06-07"),
            student: "other provider",
            joined_at: joined("2027-06-01T08:00:00Z"),
        },
        Waiting {
            provider: 1,
            date: d("2027-06-06"),
            student: "other day",
            joined_at: joined("2027-06-01T08:00:00Z"),
        },
        Waiting {
            provider: 1,
            date: d("2027-06-07"),
            student: "first",
            joined_at: joined("2027-06-01T09:00:00Z"),
        },
        Waiting {
            provider: 1,
            date: d("2027-06-07"),
            student: "tied",
            joined_at: joined("2027-06-01T09:00:00Z"),
        },
    ];
    // Monday 09:00 in Sydney is Sunday 23:00 UTC: the provider's day counts.
    let freed = local(Sydney, "2027-06-07 09:00");
    assert_eq!(
        first_waiting(&waiting, 1, freed, Sydney).map(|w| w.student),
        Some("first")
    );
    assert_eq!(
        first_waiting(&waiting, 1, freed, New_York).map(|w| w.student),
        Some("other day")
    );
    assert_eq!(first_waiting(&waiting, 3, freed, Sydney), None);
}

// ---------------------------------------------------------------- the slot grid

#[test]
fn slots_follow_the_grid_of_each_window_start() {
    // Monday 2027-01-04 in London (UTC+0 in winter).
    let av = provider(
        1,
        London,
        vec![
            week(Weekday::Mon, "09:10", "11:00"),
            week(Weekday::Mon, "13:00", "14:00"),
        ],
    );
    let got = day_slots(&plain(30, 20), &av, "2027-01-04");
    assert_eq!(
        wall(London, &got),
        [
            "09:10+00:00",
            "09:30+00:00",
            "09:50+00:00",
            "10:10+00:00",
            "10:30+00:00",
            "13:00+00:00",
            "13:20+00:00"
        ]
    );
    assert!(got
        .iter()
        .all(|s| s.ends_at - s.starts_at == Duration::minutes(30) && s.providers == [1]));
    // Other days of the week have no window.
    assert!(day_slots(&plain(30, 20), &av, "2027-01-05").is_empty());
}

#[test]
fn touching_windows_act_as_one_window() {
    let av = provider(
        1,
        London,
        vec![
            week(Weekday::Mon, "12:00", "13:00"),
            week(Weekday::Mon, "09:00", "12:00"),
        ],
    );
    let got = day_slots(&plain(60, 30), &av, "2027-01-04");
    assert!(
        wall(London, &got).contains(&"11:30+00:00".to_string()),
        "a slot may span 12:00"
    );
    assert_eq!(got.len(), 7); // 09:00 .. 12:00 every 30 min
}

#[test]
fn the_whole_day_is_written_00_00_to_00_00_and_slots_never_cross_midnight() {
    let av = provider(1, London, every_day("00:00", "00:00"));
    let got = day_slots(&plain(60, 60), &av, "2027-01-04");
    assert_eq!(got.len(), 24);
    assert_eq!(got[23].ends_at, local(London, "2027-01-05 00:00"));
    // 22:00-24:00 then 00:00-02:00: a 90-minute slot at 23:00 would cross midnight.
    let mut av = provider(
        1,
        London,
        vec![
            week(Weekday::Mon, "22:00", "00:00"),
            week(Weekday::Tue, "00:00", "02:00"),
        ],
    );
    av.overrides = vec![];
    let got = slots(
        &plain(90, 30),
        &[av],
        utc("2027-01-04T00:00:00Z"),
        utc("2027-01-06T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
    );
    assert_eq!(
        starts(&got),
        [
            utc("2027-01-04T22:00:00Z"),
            utc("2027-01-04T22:30:00Z"),
            utc("2027-01-05T00:00:00Z"),
            utc("2027-01-05T00:30:00Z")
        ]
    );
}

#[test]
fn overrides_replace_the_weekly_windows_of_their_date() {
    let mut av = provider(1, London, every_day("09:00", "12:00"));
    av.overrides = vec![
        DateOverride {
            date: d("2027-01-05"),
            windows: vec![],
        },
        DateOverride {
            date: d("2027-01-06"),
            windows: vec![(t("15:00"), t("16:00"))],
        },
    ];
    let rules = plain(60, 60);
    assert_eq!(day_slots(&rules, &av, "2027-01-04").len(), 3);
    assert!(
        day_slots(&rules, &av, "2027-01-05").is_empty(),
        "an empty override is a day off"
    );
    assert_eq!(wall(London, &day_slots(&rules, &av, "2027-01-06")), ["15:00+00:00"]);
}

#[test]
fn time_off_removes_the_appointment_but_not_its_buffers() {
    let mut av = provider(1, London, every_day("09:00", "12:00"));
    av.time_off = vec![TimeOff::new(local(London, "2027-01-04 10:00"), local(London, "2027-01-04 10:30")).unwrap()];
    let rules = ServiceRules::new(30, 30, 30, Notice::Hours(0), 365, 30).unwrap();
    let got = day_slots(&rules, &av, "2027-01-04");
    assert_eq!(
        wall(London, &got),
        [
            "09:00+00:00",
            "09:30+00:00",
            "10:30+00:00",
            "11:00+00:00",
            "11:30+00:00"
        ]
    );
}

#[test]
fn bookings_block_their_buffers_and_the_candidates_buffers() {
    // Existing booking 10:00-10:30 with 15 min after (its own service); candidates need 10 min before.
    let rules = ServiceRules::new(30, 10, 0, Notice::Hours(0), 365, 5).unwrap();
    let mut av = provider(1, London, every_day("09:00", "12:00"));
    av.busy = vec![Busy {
        starts_at: local(London, "2027-01-04 10:00"),
        ends_at: local(London, "2027-01-04 10:30"),
        buffer_before: Duration::zero(),
        buffer_after: Duration::minutes(15),
    }];
    let got = wall(London, &day_slots(&rules, &av, "2027-01-04"));
    assert!(got.contains(&"09:30+00:00".to_string()), "ends as the booking starts");
    assert!(!got.contains(&"09:35+00:00".to_string()));
    assert!(
        !got.contains(&"10:50+00:00".to_string()),
        "10:50 - 10 min overlaps the booking's 10:45"
    );
    assert!(got.contains(&"10:55+00:00".to_string()));
    assert_eq!(got.first().unwrap(), "09:00+00:00");
}

#[test]
fn notice_in_hours_and_calendar_days() {
    let av = provider(1, New_York, every_day("09:00", "17:00"));
    // Monday 2027-01-04 10:07 in New York.
    let now = local(New_York, "2027-01-04 10:07");
    let from = now - Duration::days(1);
    let to = now + Duration::days(3);
    let hours = ServiceRules::new(30, 0, 0, Notice::Hours(2), 30, 30).unwrap();
    let got = slots(&hours, std::slice::from_ref(&av), from, to, now);
    assert_eq!(got[0].starts_at, local(New_York, "2027-01-04 12:30"));
    let today = ServiceRules::new(30, 0, 0, Notice::CalendarDays(0), 30, 30).unwrap();
    let got = slots(&today, std::slice::from_ref(&av), from, to, now);
    assert_eq!(
        got[0].starts_at,
        local(New_York, "2027-01-04 10:30"),
        "never before now"
    );
    let two_days = ServiceRules::new(30, 0, 0, Notice::CalendarDays(2), 30, 30).unwrap();
    let got = slots(&two_days, std::slice::from_ref(&av), from, to, now);
    assert_eq!(got[0].starts_at, local(New_York, "2027-01-06 09:00"));
    // Calendar days count in the provider's zone: at 23:30 UTC it is already Tuesday in Sydney.
    let sydney = provider(2, Sydney, every_day("09:00", "17:00"));
    let now = utc("2027-01-04T23:30:00Z"); // Tuesday 10:30 AEDT
    let one_day = ServiceRules::new(30, 0, 0, Notice::CalendarDays(1), 30, 30).unwrap();
    let got = slots(&one_day, &[sydney], now, now + Duration::days(3), now);
    assert_eq!(got[0].starts_at, local(Sydney, "2027-01-06 09:00"));
}

#[test]
fn the_horizon_ends_with_the_last_bookable_local_date() {
    let av = provider(1, London, every_day("09:00", "17:00"));
    let now = local(London, "2027-01-04 12:00");
    let rules = ServiceRules::new(60, 0, 0, Notice::Hours(0), 2, 60).unwrap();
    let got = slots(&rules, std::slice::from_ref(&av), now, now + Duration::days(10), now);
    assert_eq!(got.last().unwrap().starts_at, local(London, "2027-01-06 16:00"));
    assert_eq!(got.len(), 5 + 8 + 8);
    assert_eq!(
        is_bookable(&rules, &av, local(London, "2027-01-07 09:00"), now),
        Err(NotBookable::BeyondHorizon)
    );
}

#[test]
fn slots_are_limited_to_the_requested_range() {
    let av = provider(1, London, every_day("09:00", "17:00"));
    let now = utc("2027-01-01T00:00:00Z");
    let got = slots(
        &plain(30, 30),
        &[av],
        utc("2027-01-04T10:00:00Z"),
        utc("2027-01-04T11:00:00Z"),
        now,
    );
    assert_eq!(starts(&got), [utc("2027-01-04T10:00:00Z"), utc("2027-01-04T10:30:00Z")]);
}

#[test]
fn is_bookable_says_why_not() {
    let rules = ServiceRules::new(30, 0, 10, Notice::Hours(1), 30, 15).unwrap();
    let mut av = provider(1, London, every_day("09:00", "17:00"));
    av.time_off = vec![TimeOff::new(local(London, "2027-01-05 12:00"), local(London, "2027-01-05 13:00")).unwrap()];
    av.busy = vec![Busy::booking(
        &rules,
        local(London, "2027-01-05 15:00"),
        local(London, "2027-01-05 15:30"),
    )];
    let now = local(London, "2027-01-05 09:00");
    let at = |s: &str| is_bookable(&rules, &av, local(London, s), now);
    assert_eq!(at("2027-01-05 10:00"), Ok(()));
    assert_eq!(at("2027-01-05 09:45"), Err(NotBookable::InsideNotice));
    assert_eq!(
        at("2027-01-05 16:45"),
        Err(NotBookable::OutsideAvailability),
        "runs past 17:00"
    );
    assert_eq!(at("2027-01-05 18:00"), Err(NotBookable::OutsideAvailability));
    assert_eq!(at("2027-01-05 10:05"), Err(NotBookable::Misaligned));
    assert_eq!(at("2027-01-05 11:45"), Err(NotBookable::TimeOff));
    assert_eq!(
        at("2027-01-05 15:30"),
        Err(NotBookable::Conflicts),
        "inside the booking's buffer after"
    );
    assert_eq!(at("2027-01-05 15:45"), Ok(()));
    assert_eq!(
        at("2027-01-05 14:30"),
        Err(NotBookable::Conflicts),
        "its own 10 minutes after reach the booking"
    );
    assert_eq!(at("2027-01-05 14:15"), Ok(()));
    assert_eq!(
        is_bookable(
            &rules,
            &av,
            local(London, "2027-01-05 10:00") + Duration::milliseconds(1),
            now
        ),
        Err(NotBookable::Misaligned)
    );
}

// ---------------------------------------------------------------- daylight saving

/// A 09:00-17:00 rule stays 09:00-17:00 local the Sunday before, of and after the change.
fn nine_to_five_around(zone: Tz, days: [&str; 3]) {
    let av = provider(1, zone, every_day("09:00", "17:00"));
    let rules = plain(30, 30);
    for day in days {
        let got = day_slots(&rules, &av, day);
        assert_eq!(got.len(), 16, "{zone} {day}");
        assert_eq!(got[0].starts_at, local(zone, &format!("{day} 09:00")), "{zone} {day}");
        assert_eq!(got[15].ends_at, local(zone, &format!("{day} 17:00")), "{zone} {day}");
        assert!(got
            .windows(2)
            .all(|w| w[1].starts_at - w[0].starts_at == Duration::minutes(30)));
    }
}

#[test]
fn nine_to_five_is_local_on_both_sides_of_each_change() {
    nine_to_five_around(New_York, ["2027-03-13", "2027-03-14", "2027-03-15"]);
    nine_to_five_around(New_York, ["2027-11-06", "2027-11-07", "2027-11-08"]);
    nine_to_five_around(London, ["2027-03-27", "2027-03-28", "2027-03-29"]);
    nine_to_five_around(London, ["2027-10-30", "2027-10-31", "2027-11-01"]);
    nine_to_five_around(Sydney, ["2027-04-03", "2027-04-04", "2027-04-05"]);
    nine_to_five_around(Sydney, ["2027-10-02", "2027-10-03", "2027-10-04"]);
    // And the UTC instants move by the hour.
    let av = provider(1, New_York, every_day("09:00", "17:00"));
    assert_eq!(
        day_slots(&plain(30, 30), &av, "2027-03-13")[0].starts_at,
        utc("2027-03-13T14:00:00Z")
    );
    assert_eq!(
        day_slots(&plain(30, 30), &av, "2027-03-14")[0].starts_at,
        utc("2027-03-14T13:00:00Z")
    );
}

#[test]
fn whole_days_on_change_days_are_23_and_25_hours() {
    for (zone, short, long) in [
        (New_York, "2027-03-14", "2027-11-07"),
        (London, "2027-03-28", "2027-10-31"),
        (Sydney, "2027-10-03", "2027-04-04"),
    ] {
        let av = provider(1, zone, every_day("00:00", "00:00"));
        let short_day = day_slots(&plain(60, 60), &av, short);
        let long_day = day_slots(&plain(60, 60), &av, long);
        assert_eq!(short_day.len(), 23, "{zone} {short}");
        assert_eq!(long_day.len(), 25, "{zone} {long}");
        for day in [&short_day, &long_day] {
            // Distinct, hour apart: nothing duplicated, nothing lost.
            assert!(day
                .windows(2)
                .all(|w| w[1].starts_at - w[0].starts_at == Duration::hours(1)));
        }
    }
}

#[test]
fn new_york_spring_forward_windows_starting_in_the_gap_start_when_the_clocks_resume() {
    // 2027-03-14: 02:00 EST becomes 03:00 EDT.
    let rules = plain(60, 60);
    let av = provider(1, New_York, vec![week(Weekday::Sun, "01:00", "04:00")]);
    assert_eq!(
        wall(New_York, &day_slots(&rules, &av, "2027-03-14")),
        ["01:00-05:00", "03:00-04:00"]
    );
    let av = provider(1, New_York, vec![week(Weekday::Sun, "02:30", "05:00")]);
    assert_eq!(
        wall(New_York, &day_slots(&rules, &av, "2027-03-14")),
        ["03:00-04:00", "04:00-04:00"]
    );
    let av = provider(1, New_York, vec![week(Weekday::Sun, "02:00", "02:45")]);
    assert!(
        day_slots(&plain(15, 15), &av, "2027-03-14").is_empty(),
        "02:00-02:45 does not exist that day"
    );
    // A week later the same rule is an ordinary 02:30-05:00.
    let av = provider(1, New_York, vec![week(Weekday::Sun, "02:30", "05:00")]);
    assert_eq!(
        wall(New_York, &day_slots(&rules, &av, "2027-03-21")),
        ["02:30-04:00", "03:30-04:00"]
    );
}

#[test]
fn new_york_fall_back_repeats_the_hour_once_per_occurrence() {
    // 2027-11-07: 02:00 EDT becomes 01:00 EST.
    let av = provider(1, New_York, vec![week(Weekday::Sun, "00:00", "03:00")]);
    let got = day_slots(&plain(60, 60), &av, "2027-11-07");
    assert_eq!(
        wall(New_York, &got),
        ["00:00-04:00", "01:00-04:00", "01:00-05:00", "02:00-05:00"]
    );
    assert_eq!(
        starts(&got),
        [
            utc("2027-11-07T04:00:00Z"),
            utc("2027-11-07T05:00:00Z"),
            utc("2027-11-07T06:00:00Z"),
            utc("2027-11-07T07:00:00Z")
        ]
    );
    // A window ending inside the repeated hour ends at its first occurrence.
    let av = provider(1, New_York, vec![week(Weekday::Sun, "00:00", "01:30")]);
    let got = day_slots(&plain(30, 30), &av, "2027-11-07");
    assert_eq!(wall(New_York, &got), ["00:00-04:00", "00:30-04:00", "01:00-04:00"]);
    // Interval 15 across the change: every quarter hour of the 4 elapsed hours, once.
    let av = provider(1, New_York, vec![week(Weekday::Sun, "00:00", "03:00")]);
    let got = day_slots(&plain(15, 15), &av, "2027-11-07");
    assert_eq!(got.len(), 16);
}

#[test]
fn london_changes() {
    // 2027-03-28: 01:00 GMT becomes 02:00 BST; 2027-10-31: 02:00 BST becomes 01:00 GMT.
    let av = provider(1, London, vec![week(Weekday::Sun, "00:30", "03:00")]);
    assert_eq!(
        wall(London, &day_slots(&plain(30, 30), &av, "2027-03-28")),
        ["00:30+00:00", "02:00+01:00", "02:30+01:00"]
    );
    assert_eq!(
        wall(London, &day_slots(&plain(30, 30), &av, "2027-10-31")),
        [
            "00:30+01:00",
            "01:00+01:00",
            "01:30+01:00",
            "01:00+00:00",
            "01:30+00:00",
            "02:00+00:00",
            "02:30+00:00"
        ]
    );
}

#[test]
fn sydney_changes() {
    // 2027-04-04: 03:00 AEDT becomes 02:00 AEST; 2027-10-03: 02:00 AEST becomes 03:00 AEDT.
    let av = provider(1, Sydney, vec![week(Weekday::Sun, "01:00", "04:00")]);
    assert_eq!(
        wall(Sydney, &day_slots(&plain(60, 60), &av, "2027-04-04")),
        ["01:00+11:00", "02:00+11:00", "02:00+10:00", "03:00+10:00"]
    );
    assert_eq!(
        wall(Sydney, &day_slots(&plain(60, 60), &av, "2027-10-03")),
        ["01:00+10:00", "03:00+11:00"]
    );
}

#[test]
fn a_booking_across_the_fall_back_blocks_by_elapsed_time() {
    // Booked 01:00-02:00 EDT (05:00-06:00Z): the second 01:00 (EST, 06:00Z) is still free.
    let mut av = provider(1, New_York, vec![week(Weekday::Sun, "00:00", "03:00")]);
    let rules = plain(60, 60);
    av.busy = vec![Busy::booking(
        &rules,
        utc("2027-11-07T05:00:00Z"),
        utc("2027-11-07T06:00:00Z"),
    )];
    let got = day_slots(&rules, &av, "2027-11-07");
    assert_eq!(
        starts(&got),
        [
            utc("2027-11-07T04:00:00Z"),
            utc("2027-11-07T06:00:00Z"),
            utc("2027-11-07T07:00:00Z")
        ]
    );
}

// ---------------------------------------------------------------- several providers, mixed zones

#[test]
fn the_generic_service_lists_who_is_free_across_zones() {
    // June 2027: Sydney is UTC+10, New York UTC-4, London UTC+1.
    // Talia (7) in Sydney: Mondays 09:00-12:00 = Sunday 23:00 - Monday 02:00 UTC.
    // Sam (3) in New York: Sundays 18:00-22:00 = Sunday 22:00 - Monday 02:00 UTC, booked 19:00-20:00
    // (23:00-00:00 UTC). A client in London (UTC+1) reads:
    let talia = provider(7, Sydney, vec![week(Weekday::Mon, "09:00", "12:00")]);
    let mut sam = provider(3, New_York, vec![week(Weekday::Sun, "18:00", "22:00")]);
    let rules = plain(60, 60);
    sam.busy = vec![Busy::booking(
        &rules,
        local(New_York, "2027-06-06 19:00"),
        local(New_York, "2027-06-06 20:00"),
    )];
    let now = utc("2027-06-01T00:00:00Z");
    let got = slots(
        &rules,
        &[talia, sam],
        utc("2027-06-06T00:00:00Z"),
        utc("2027-06-08T00:00:00Z"),
        now,
    );
    let listed: Vec<(String, Vec<u32>)> = got
        .iter()
        .map(|s| {
            (
                s.starts_at.with_timezone(&London).format("%a %H:%M").to_string(),
                s.providers.clone(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("Sun 23:00".to_string(), vec![3]),
            ("Mon 00:00".to_string(), vec![7]),
            ("Mon 01:00".to_string(), vec![3, 7]),
            ("Mon 02:00".to_string(), vec![3, 7]),
        ]
    );
    assert!(got.windows(2).all(|w| w[0].starts_at < w[1].starts_at));
}

#[test]
fn several_providers_with_their_own_grids_and_repeated_ids() {
    // Kolkata is UTC+05:30: its hourly grid falls on the half hour in UTC.
    let a = provider(1, chrono_tz::Asia::Kolkata, every_day("09:00", "11:00"));
    let b = provider(2, chrono_tz::UTC, every_day("03:00", "06:00"));
    let a_again = provider(1, chrono_tz::Asia::Kolkata, every_day("09:00", "11:00"));
    let got = slots(
        &plain(60, 60),
        &[b, a, a_again],
        utc("2027-01-04T00:00:00Z"),
        utc("2027-01-05T00:00:00Z"),
        utc("2027-01-01T00:00:00Z"),
    );
    let listed: Vec<(String, Vec<u32>)> = got
        .iter()
        .map(|s| (s.starts_at.format("%H:%M").to_string(), s.providers.clone()))
        .collect();
    assert_eq!(
        listed,
        [
            ("03:00".into(), vec![2]),
            ("03:30".into(), vec![1]),
            ("04:00".into(), vec![2]),
            ("04:30".into(), vec![1]),
            ("05:00".into(), vec![2])
        ]
    );
    assert!(slots(
        &plain(60, 60),
        &Vec::<Availability<u32>>::new(),
        utc("2027-01-04T00:00:00Z"),
        utc("2027-01-05T00:00:00Z"),
        utc("2027-01-01T00:00:00Z")
    )
    .is_empty());
}

// ---------------------------------------------------------------- properties

const ZONES: [Tz; 6] = [
    New_York,
    London,
    Sydney,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Lord_Howe, // a 30-minute change
    chrono_tz::UTC,
];

/// Instants near the 2027 changes of the zones above, so most cases touch one.
const AROUND: [&str; 6] = [
    "2027-03-12T00:00:00Z",
    "2027-03-26T00:00:00Z",
    "2027-04-02T00:00:00Z",
    "2027-10-01T00:00:00Z",
    "2027-10-29T00:00:00Z",
    "2027-11-05T00:00:00Z",
];

fn minute_of_day(step: u32) -> impl Strategy<Value = u32> {
    (0..=(24 * 60 / step)).prop_map(move |k| k * step)
}

fn time_of(minutes: u32) -> NaiveTime {
    if minutes >= 24 * 60 {
        NaiveTime::MIN
    } else {
        NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap()
    }
}

/// Windows of one day: sorted cut points paired up, so they never overlap (they may touch).
fn day_windows_strategy() -> impl Strategy<Value = Vec<(NaiveTime, NaiveTime)>> {
    proptest::collection::vec(minute_of_day(30), 0..6).prop_map(|mut cuts| {
        cuts.sort_unstable();
        cuts.dedup();
        cuts.chunks_exact(2).map(|c| (time_of(c[0]), time_of(c[1]))).collect()
    })
}

#[derive(Debug, Clone)]
struct Case {
    rules: ServiceRules,
    providers: Vec<Availability<u32>>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
}

fn rules_strategy() -> impl Strategy<Value = ServiceRules> {
    (
        (1u32..=24).prop_map(|k| k * 5),
        (0u32..=6).prop_map(|k| k * 5),
        (0u32..=6).prop_map(|k| k * 5),
        prop_oneof![
            (0u32..=30).prop_map(Notice::Hours),
            (0u32..=2).prop_map(Notice::CalendarDays)
        ],
        3u32..=10,
        prop_oneof![Just(5u32), Just(10), Just(15), Just(20), Just(30), Just(45), Just(60)],
    )
        .prop_map(|(dur, bb, ba, notice, horizon, interval)| {
            ServiceRules::new(dur, bb, ba, notice, horizon, interval).unwrap()
        })
}

fn provider_strategy(id: u32, base: DateTime<Utc>) -> impl Strategy<Value = Availability<u32>> {
    let base_date = base.date_naive();
    let instant = move || (0i64..(10 * 24 * 12)).prop_map(move |k| base + Duration::minutes(k * 5));
    (
        0..ZONES.len(),
        proptest::collection::vec(day_windows_strategy(), 7),
        proptest::collection::vec((0u64..10, day_windows_strategy()), 0..3),
        proptest::collection::vec((instant(), 1i64..(6 * 12)), 0..3),
        proptest::collection::vec((instant(), 1i64..24, 0i64..4, 0i64..4), 0..6),
    )
        .prop_map(move |(zone, week, overrides, time_off, busy)| {
            let weekly = week
                .into_iter()
                .enumerate()
                .flat_map(|(i, windows)| {
                    let weekday = Weekday::try_from(i as u8).unwrap();
                    windows
                        .into_iter()
                        .map(move |(start, end)| WeeklyWindow { weekday, start, end })
                })
                .collect();
            let mut seen = std::collections::HashSet::new();
            let overrides = overrides
                .into_iter()
                .filter(|(k, _)| seen.insert(*k))
                .map(|(k, windows)| DateOverride {
                    date: base_date + Days::new(k),
                    windows,
                })
                .collect();
            let time_off = time_off
                .into_iter()
                .map(|(s, len)| TimeOff {
                    starts_at: s,
                    ends_at: s + Duration::minutes(len * 5),
                })
                .collect();
            let busy = busy
                .into_iter()
                .map(|(s, len, bb, ba)| Busy {
                    starts_at: s,
                    ends_at: s + Duration::minutes(len * 5),
                    buffer_before: Duration::minutes(bb * 5),
                    buffer_after: Duration::minutes(ba * 5),
                })
                .collect();
            Availability {
                provider: id,
                zone: ZONES[zone],
                weekly,
                overrides,
                time_off,
                busy,
            }
        })
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (0..AROUND.len(), 0i64..(48 * 60), any::<u32>())
        .prop_flat_map(|(around, now_minutes, seconds)| {
            let base = utc(AROUND[around]);
            let now = base + Duration::minutes(now_minutes) + Duration::seconds(i64::from(seconds % 60));
            (
                rules_strategy(),
                proptest::collection::vec(0u32..4, 1..4).prop_flat_map(move |ids| {
                    ids.into_iter()
                        .map(|id| provider_strategy(id, base))
                        .collect::<Vec<_>>()
                }),
                -(24i64 * 60)..(3 * 24 * 60),
                1i64..(8 * 24 * 60),
                Just(now),
            )
        })
        .prop_map(|(rules, providers, from_minutes, span_minutes, now)| {
            let from = now + Duration::minutes(from_minutes);
            Case {
                rules,
                providers,
                from,
                to: from + Duration::minutes(span_minutes),
                now,
            }
        })
}

/// Brute force: every aligned start of every window of every local date, each rule checked
/// directly on `DateTime`s.
fn oracle(
    rules: &ServiceRules,
    av: &Availability<u32>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let zone = av.zone;
    let today = now.with_timezone(&zone).date_naive();
    let earliest = match rules.min_notice() {
        Notice::Hours(h) => now + Duration::hours(h.into()),
        Notice::CalendarDays(n) => {
            instant_at_or_after(zone, (today + Days::new(n.into())).and_time(NaiveTime::MIN)).max(now)
        }
    };
    let horizon = instant_at_or_after(
        zone,
        (today + Days::new(u64::from(rules.horizon_days()) + 1)).and_time(NaiveTime::MIN),
    );
    let mut out = Vec::new();
    let mut date = from.with_timezone(&zone).date_naive() - Days::new(2);
    let last = to.with_timezone(&zone).date_naive() + Days::new(2);
    while date <= last {
        let local: Vec<(NaiveTime, NaiveTime)> = match av.overrides.iter().find(|o| o.date == date) {
            Some(o) => o.windows.clone(),
            None => av
                .weekly
                .iter()
                .filter(|w| w.weekday == date.weekday())
                .map(|w| (w.start, w.end))
                .collect(),
        };
        let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = local
            .into_iter()
            .map(|(s, e)| {
                let end_date = if e == NaiveTime::MIN { date + Days::new(1) } else { date };
                (
                    instant_at_or_after(zone, date.and_time(s)),
                    instant_at_or_after(zone, end_date.and_time(e)),
                )
            })
            .filter(|(s, e)| s < e)
            .collect();
        windows.sort();
        let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        for w in windows {
            match merged.last_mut() {
                Some(m) if w.0 <= m.1 => m.1 = m.1.max(w.1),
                _ => merged.push(w),
            }
        }
        for (ws, we) in merged {
            let mut s = ws;
            while s + rules.duration() <= we {
                let appointment = (s, s + rules.duration());
                let ok = s >= from
                    && s < to
                    && s >= earliest
                    && s < horizon
                    && !av
                        .time_off
                        .iter()
                        .any(|t| conflicts(appointment, (t.starts_at, t.ends_at)))
                    && !av
                        .busy
                        .iter()
                        .any(|b| conflicts(occupied(rules, appointment.0, appointment.1), b.occupied()));
                if ok {
                    out.push(s);
                }
                s += rules.interval();
            }
        }
        date = date + Days::new(1);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn slots_equal_the_brute_force_oracle_and_keep_every_rule(case in case_strategy()) {
        let Case { rules, providers, from, to, now } = case;
        let got = slots(&rules, &providers, from, to, now);
        // Sorted by start, one slot per start, each provider listed once, sorted.
        prop_assert!(got.windows(2).all(|w| w[0].starts_at < w[1].starts_at));
        for slot in &got {
            prop_assert!(!slot.providers.is_empty());
            prop_assert!(slot.providers.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(slot.ends_at - slot.starts_at, rules.duration());
        }
        let mut ids: Vec<u32> = providers.iter().map(|p| p.provider).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            // Completeness and soundness: the provider's slots are exactly the oracle's (a repeated
            // id lists the union of its availabilities).
            let mut expected: Vec<DateTime<Utc>> = providers
                .iter()
                .filter(|p| p.provider == id)
                .flat_map(|p| oracle(&rules, p, from, to, now))
                .collect();
            expected.sort();
            expected.dedup();
            let mine: Vec<DateTime<Utc>> =
                got.iter().filter(|s| s.providers.contains(&id)).map(|s| s.starts_at).collect();
            prop_assert_eq!(&mine, &expected, "provider {}", id);
        }
        for av in &providers {
            let alone = slots(&rules, std::slice::from_ref(av), from, to, now);
            for slot in &alone {
                let s = slot.starts_at;
                // In range, after the notice, before the horizon.
                prop_assert!(s >= from && s < to);
                prop_assert!(s >= now && s >= rules.earliest_start(av.zone, now));
                let last_date = now.with_timezone(&av.zone).date_naive() + Days::new(rules.horizon_days().into());
                prop_assert!(s.with_timezone(&av.zone).date_naive() <= last_date);
                // Inside a window, read back in the provider's zone: its local start is inside a
                // window of its local date, and it ends by that date's midnight.
                let start_local = s.with_timezone(&av.zone);
                let date = start_local.date_naive();
                let windows: Vec<(NaiveTime, NaiveTime)> = match av.overrides.iter().find(|o| o.date == date) {
                    Some(o) => o.windows.clone(),
                    None => {
                        av.weekly.iter().filter(|w| w.weekday == date.weekday()).map(|w| (w.start, w.end)).collect()
                    }
                };
                // (The second occurrence of a repeated wall time may read earlier than its window's
                // start: a window starting in the repeated hour starts at its first occurrence.)
                let minute = start_local.time().num_seconds_from_midnight();
                let repeated = matches!(
                    av.zone.from_local_datetime(&start_local.naive_local()),
                    chrono::LocalResult::Ambiguous(first, _) if first != start_local
                );
                let inside = windows
                    .iter()
                    .any(|&(a, b)| a.num_seconds_from_midnight() <= minute && minute < end_seconds(b));
                prop_assert!(repeated || inside, "{} local {}", s, start_local);
                prop_assert!(slot.ends_at <= instant_at_or_after(av.zone, succ(date).and_time(NaiveTime::MIN)));
                // Aligned to the interval from its window's start; outside time off and bookings.
                prop_assert_eq!(is_bookable(&rules, av, s, now), Ok(()));
                prop_assert!(!av.time_off.iter().any(|t| conflicts((s, slot.ends_at), (t.starts_at, t.ends_at))));
                prop_assert!(!av.busy.iter().any(|b| conflicts(occupied(&rules, s, slot.ends_at), b.occupied())));
                prop_assert!(!av.busy.iter().any(|b| conflicts((s, slot.ends_at), (b.starts_at, b.ends_at))));
            }
        }
    }

    #[test]
    fn is_bookable_agrees_with_slots_on_every_minute_grid_start(case in case_strategy(), pick in 0usize..4) {
        let Case { rules, providers, from, to, now } = case;
        let av = &providers[pick % providers.len()];
        let listed: std::collections::HashSet<DateTime<Utc>> =
            slots(&rules, std::slice::from_ref(av), from, to, now).into_iter().map(|s| s.starts_at).collect();
        let mut s = from.duration_trunc(Duration::minutes(5)).unwrap();
        while s < to {
            if s >= from {
                prop_assert_eq!(is_bookable(&rules, av, s, now).is_ok(), listed.contains(&s), "at {}", s);
            }
            s += Duration::minutes(5);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn an_answer_holds_until_unchanged_until_and_the_notice_bound_is_exact(case in case_strategy()) {
        let Case { rules, providers, from, to, now } = case;
        let answer = slots(&rules, &providers, from, to, now);
        let until = unchanged_until(&rules, &providers, to, now, &answer);
        let last = until.unwrap_or(now + Duration::days(40)).min(now + Duration::days(40));
        prop_assert!(last >= now);
        if last > now {
            let tiny = Duration::nanoseconds(1);
            for t in [now + tiny, now + (last - now) / 2, last - Duration::seconds(1), last - tiny] {
                if t >= now {
                    prop_assert_eq!(&slots(&rules, &providers, from, to, t), &answer, "at {}, until {:?}", t, until);
                }
            }
        }
        // When the first start's notice is the bound, the answer changes right after it.
        if let Some(first) = answer.first() {
            let notice_bound = match rules.min_notice() {
                Notice::Hours(h) => first.starts_at - Duration::hours(h.into()),
                Notice::CalendarDays(_) => first.starts_at,
            };
            if until == Some(notice_bound) && notice_bound > now {
                let after = slots(&rules, &providers, from, to, notice_bound + Duration::nanoseconds(1));
                prop_assert_ne!(after.first().map(|s| s.starts_at), Some(first.starts_at));
            }
        }
    }
}

#[test]
fn answers_hold_until_the_first_start_leaves_the_notice_or_a_local_midnight_moves_the_horizon() {
    let av = provider(1, New_York, every_day("09:00", "17:00"));
    // Monday 2027-01-04 10:07 in New York: with 2 hours' notice the first slot is 12:30.
    let now = local(New_York, "2027-01-04 10:07");
    let hours = ServiceRules::new(30, 0, 0, Notice::Hours(2), 30, 30).unwrap();
    let (from, to) = (now, now + Duration::days(3));
    let answer = slots(&hours, std::slice::from_ref(&av), from, to, now);
    assert_eq!(
        unchanged_until(&hours, std::slice::from_ref(&av), to, now, &answer),
        Some(local(New_York, "2027-01-04 10:30")),
        "12:30 minus 2 hours"
    );
    // A range reaching past the 2-day horizon: the horizon moves at midnight in New York.
    let short = ServiceRules::new(30, 0, 0, Notice::Hours(2), 2, 30).unwrap();
    let far = now + Duration::days(10);
    let answer = slots(&short, std::slice::from_ref(&av), from, far, now);
    assert_eq!(
        unchanged_until(&short, std::slice::from_ref(&av), far, now, &answer),
        Some(local(New_York, "2027-01-04 10:30"))
    );
    let late = local(New_York, "2027-01-04 23:00");
    let answer = slots(&short, std::slice::from_ref(&av), late, far, late);
    assert_eq!(
        unchanged_until(&short, std::slice::from_ref(&av), far, late, &answer),
        Some(local(New_York, "2027-01-05 00:00"))
    );
    // Calendar days: the next local midnight of any provider's zone, New York's here (it is
    // 02:07 on Tuesday in Sydney, whose next midnight is 8 hours later).
    let days = ServiceRules::new(30, 0, 0, Notice::CalendarDays(1), 30, 30).unwrap();
    let both = [av.clone(), provider(2, Sydney, every_day("09:00", "17:00"))];
    let answer = slots(&days, &both, from, to, now);
    assert_eq!(
        unchanged_until(&days, &both, to, now, &answer),
        Some(local(New_York, "2027-01-05 00:00"))
    );
    assert_eq!(
        unchanged_until(&days, &both[1..], to, now, &slots(&days, &both[1..], from, to, now)),
        Some(local(Sydney, "2027-01-06 00:00"))
    );
    // Nothing free and the horizon beyond the range: time alone changes nothing.
    let nothing = slots(&hours, std::slice::from_ref(&av), from, from, now);
    assert!(nothing.is_empty());
    assert_eq!(
        unchanged_until(&hours, std::slice::from_ref(&av), from, now, &nothing),
        None
    );
}

proptest! {
    #[test]
    fn grouping_by_minute_equals_grouping_by_sorting(
        runs in proptest::collection::vec(proptest::collection::btree_set(0i64..3000, 0..40), 0..12),
        seconds in prop_oneof![Just(0i64), 1i64..60],
        base in -10_000i64..10_000,
    ) {
        let mut starts = Vec::new();
        let mut bounds = Vec::new();
        for (i, run) in runs.iter().enumerate() {
            let begin = starts.len();
            // Every third run off the minute when `seconds` is not zero.
            let shift = if i % 3 == 2 { seconds } else { 0 };
            starts.extend(run.iter().map(|m| base * 60 + m * 60 + shift));
            bounds.push((begin, starts.len()));
        }
        let sorted = group_by_sorting(&starts, &bounds);
        let collect = |g: &Grouped| g.iter().map(|(s, r)| (s, r.to_vec())).collect::<Vec<_>>();
        if starts.iter().all(|s| s.rem_euclid(60) == 0) {
            prop_assert_eq!(collect(&group_by_minute(&starts, &bounds)), collect(&sorted));
        }
        let total: usize = sorted.iter().map(|(_, r)| r.len()).sum();
        prop_assert_eq!(total, starts.len());
        prop_assert!(sorted.iter().all(|(_, r)| r.windows(2).all(|w| w[0] < w[1])));
    }
}

#[test]
fn starts_off_the_minute_are_grouped_too() {
    // Before 1847 London kept local mean time, 1 min 15 s behind UTC: its starts fall at 15 s.
    let old = provider(1, London, every_day("09:00", "10:00"));
    let modern = provider(2, chrono_tz::UTC, every_day("09:00", "10:00"));
    let now = utc("1840-01-01T00:00:00Z");
    let got = slots(
        &plain(30, 30),
        &[old, modern],
        utc("1840-01-06T00:00:00Z"),
        utc("1840-01-07T00:00:00Z"),
        now,
    );
    let listed: Vec<(String, Vec<u32>)> = got
        .iter()
        .map(|s| (s.starts_at.format("%H:%M:%S").to_string(), s.providers.clone()))
        .collect();
    assert_eq!(
        listed,
        [
            ("09:00:00".into(), vec![2]),
            ("09:01:15".into(), vec![1]),
            ("09:30:00".into(), vec![2]),
            ("09:31:15".into(), vec![1])
        ]
    );
}
