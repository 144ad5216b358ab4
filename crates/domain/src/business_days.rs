//! Business days: weekdays that are not one of the organisation's holidays, counted in the
//! organisation's time zone. A mentor request expires after N of them (PRODUCT.md section 2).
//!
//! The rule: a deadline N business days after an instant keeps its wall-clock time and moves its
//! local date forward over N business days. Something that starts on a weekend or a holiday
//! starts at the beginning (00:00) of the next business day, so a request made on Saturday with
//! three days to answer expires on Thursday at 00:00, one made on Friday at 23:59 on Wednesday at
//! 23:59. A wall-clock time the clocks skip that day moves to the end of the gap.

use chrono::{DateTime, Datelike, Days, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use crate::tenancy::instant_at_or_after;

/// The organisation's calendar: its zone and its holidays (sorted, as `normalize_holidays` keeps them).
#[derive(Debug, Clone, Copy)]
pub struct BusinessCalendar<'a> {
    pub zone: Tz,
    pub holidays: &'a [chrono::NaiveDate],
}

impl BusinessCalendar<'_> {
    pub fn is_business_day(&self, date: chrono::NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && self.holidays.binary_search(&date).is_err()
    }

    fn next_business_day(&self, mut date: chrono::NaiveDate) -> chrono::NaiveDate {
        loop {
            date = date + Days::new(1);
            if self.is_business_day(date) {
                return date;
            }
        }
    }

    /// `days` business days after `start` (see the module's rule). Zero days: `start` itself, or
    /// the start of the next business day when `start` is not on one.
    pub fn add(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = start.with_timezone(&self.zone).naive_local();
        let (mut date, time) = if self.is_business_day(local.date()) {
            (local.date(), local.time())
        } else {
            (self.next_business_day(local.date()), NaiveTime::MIN)
        };
        for _ in 0..days {
            date = self.next_business_day(date);
        }
        let deadline = instant_at_or_after(self.zone, date.and_time(time));
        deadline.max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    const NY: Tz = chrono_tz::America::New_York;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekends_and_holidays_are_skipped() {
        let calendar = BusinessCalendar {
            zone: NY,
            holidays: &[],
        };
        // Monday 10:00 EST + 3 → Thursday 10:00.
        assert_eq!(
            calendar.add(utc("2027-01-11T15:00:00Z"), 3),
            utc("2027-01-14T15:00:00Z")
        );
        // Friday 23:59 + 3 → Wednesday 23:59.
        assert_eq!(
            calendar.add(utc("2027-01-16T04:59:00Z"), 3),
            utc("2027-01-21T04:59:00Z")
        );
        // Saturday noon + 3 → counts from Monday 00:00 → Thursday 00:00.
        assert_eq!(
            calendar.add(utc("2027-01-16T17:00:00Z"), 3),
            utc("2027-01-21T05:00:00Z")
        );
        // With Tuesday a holiday, Monday + 3 → Friday.
        let holidays = [day("2027-01-12")];
        let calendar = BusinessCalendar {
            zone: NY,
            holidays: &holidays,
        };
        assert_eq!(
            calendar.add(utc("2027-01-11T15:00:00Z"), 3),
            utc("2027-01-15T15:00:00Z")
        );
        assert_eq!(
            calendar.add(utc("2027-01-11T15:00:00Z"), 0),
            utc("2027-01-11T15:00:00Z")
        );
    }

    #[test]
    fn the_zone_decides_the_day_and_the_clock_change_keeps_the_wall_time() {
        let calendar = BusinessCalendar {
            zone: NY,
            holidays: &[],
        };
        // Friday 21:00 in New York is Saturday 02:00 UTC: still Friday there. + 1 → Monday 21:00.
        assert_eq!(
            calendar.add(utc("2027-03-06T02:00:00Z"), 1),
            utc("2027-03-09T02:00:00Z")
        );
        // Across the spring change (14 March 2027): Friday 10:00 EST + 1 → Monday 10:00 EDT.
        assert_eq!(
            calendar.add(utc("2027-03-12T15:00:00Z"), 1),
            utc("2027-03-15T14:00:00Z")
        );
        let london = BusinessCalendar {
            zone: chrono_tz::Europe::London,
            holidays: &[],
        };
        // The same instant is Saturday in Sydney but Friday in London.
        assert_eq!(london.add(utc("2027-01-15T20:00:00Z"), 1), utc("2027-01-18T20:00:00Z"));
        let sydney = BusinessCalendar {
            zone: chrono_tz::Australia::Sydney,
            holidays: &[],
        };
        assert_eq!(
            sydney.add(utc("2027-01-15T20:00:00Z"), 1),
            utc("2027-01-18T13:00:00Z"),
            "Tue 00:00 AEDT"
        );
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            NY,
            chrono_tz::Europe::London,
            chrono_tz::Australia::Sydney,
            chrono_tz::UTC,
        ])
    }

    proptest! {
        /// The deadline lands on a business day, exactly `days` business days after the start's
        /// (effective) day, never before the start, and later starts never get earlier deadlines.
        #[test]
        fn deadlines_count_business_days(
            secs in 1_700_000_000i64..1_900_000_000,
            later in 0i64..400_000,
            days in 0u32..15,
            zone in zones(),
            offsets in prop::collection::vec(0u64..400, 0..20),
        ) {
            let base = day("2023-11-01");
            let mut holidays: Vec<NaiveDate> = offsets.iter().map(|o| base + Days::new(*o * 3)).collect();
            holidays.sort();
            holidays.dedup();
            let calendar = BusinessCalendar { zone, holidays: &holidays };
            let start = DateTime::from_timestamp(secs, 0).unwrap();
            let deadline = calendar.add(start, days);
            prop_assert!(deadline >= start);
            let end_day = deadline.with_timezone(&zone).date_naive();
            prop_assert!(calendar.is_business_day(end_day));
            let start_day = start.with_timezone(&zone).date_naive();
            let mut counted = 0;
            let mut d = start_day;
            while d < end_day {
                d = d + Days::new(1);
                if calendar.is_business_day(d) {
                    counted += 1;
                }
            }
            let expected = if calendar.is_business_day(start_day) { days } else { days + 1 };
            prop_assert_eq!(counted, expected);
            prop_assert!(calendar.add(start + chrono::Duration::seconds(later), days) >= deadline);
        }
    }
}
