//! Booking slot engine benchmarks (issue 8, "Measure"); see docs/benchmarks.md ("Booking slots (domain)").
//!
//! The instance, built from seed 2027 with SplitMix64: 200 providers certified in the generic
//! service, spread over seven zones (New York, Chicago, Los Angeles, London, Berlin, Sydney,
//! Kolkata); each works Monday to Friday in one or two windows (a morning starting 08:00, 08:30,
//! 09:00 or 10:00 for 3–4 hours; most also an afternoon from 13:00 or 14:00 for 3–4 hours), a
//! quarter also Saturday 10:00–14:00; two date overrides (a day off, a short day), one half day of
//! time off and 10 bookings of 30 minutes with 5 minutes of buffer each side. The service: 30-minute
//! slots every 15 minutes, 5 minutes of buffer before and after, 12 hours' notice, a 28-day
//! horizon. Asked on Monday 2027-03-01 08:00 UTC for the next 4 weeks, a range that crosses the
//! March changes in New York, Chicago, Los Angeles (14 March), London and Berlin (28 March).
//!
//! `cargo bench -p cohort-domain --bench slots` (a name after `--` filters, e.g. `-- generic`);
//! before timing, the slot counts are printed once.

use std::hint::black_box;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use cohort_domain::booking::{slots, Availability, Busy, DateOverride, Notice, ServiceRules, TimeOff, WeeklyWindow};
use criterion::{criterion_group, criterion_main, Criterion};

const SEED: u64 = 2027;
const PROVIDERS: u32 = 200;

/// SplitMix64: small, and easy to repeat.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 32) % n
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    "2027-03-01T08:00:00Z".parse().unwrap()
}

fn rules() -> ServiceRules {
    ServiceRules::new(30, 5, 5, Notice::Hours(12), 28, 15).unwrap()
}

fn instance() -> Vec<Availability<u32>> {
    use chrono_tz::{America, Asia, Australia, Europe};
    let zones: [Tz; 7] = [
        America::New_York,
        America::Chicago,
        America::Los_Angeles,
        Europe::London,
        Europe::Berlin,
        Australia::Sydney,
        Asia::Kolkata,
    ];
    let rules = rules();
    let mut rng = SplitMix(SEED);
    let first_day: NaiveDate = "2027-03-01".parse().unwrap();
    (0..PROVIDERS)
        .map(|id| {
            let zone = zones[rng.below(zones.len() as u64) as usize];
            let (mh, mm) = [(8, 0), (8, 30), (9, 0), (10, 0)][rng.below(4) as usize];
            let morning = (hm(mh, mm), hm(mh + 3 + rng.below(2) as u32, mm));
            let afternoon = (rng.below(5) != 0).then(|| {
                let h = 13 + rng.below(2) as u32;
                (hm(h, 0), hm(h + 3 + rng.below(2) as u32, 0))
            });
            let mut weekly = Vec::new();
            for weekday in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
                weekly.push(WeeklyWindow {
                    weekday,
                    start: morning.0,
                    end: morning.1,
                });
                if let Some((start, end)) = afternoon {
                    weekly.push(WeeklyWindow { weekday, start, end });
                }
            }
            if rng.below(4) == 0 {
                weekly.push(WeeklyWindow {
                    weekday: Weekday::Sat,
                    start: hm(10, 0),
                    end: hm(14, 0),
                });
            }
            let day = |rng: &mut SplitMix| first_day + Days::new(rng.below(28));
            let overrides = vec![
                DateOverride {
                    date: day(&mut rng),
                    windows: vec![],
                },
                DateOverride {
                    date: day(&mut rng),
                    windows: vec![(hm(10, 0), hm(12, 0))],
                },
            ];
            let off = local_instant(zone, day(&mut rng), hm(12, 0));
            let time_off = vec![TimeOff::new(off, off + Duration::hours(6)).unwrap()];
            // Ten bookings at quarter hours inside the weekday windows (some may overlap the
            // overrides or each other: the engine does not care).
            let busy = (0..10)
                .map(|_| {
                    let mut date = day(&mut rng);
                    while date.weekday().number_from_monday() > 5 {
                        date = date + Days::new(1);
                    }
                    let (start, end) = match afternoon {
                        Some(a) if rng.below(2) == 0 => a,
                        _ => morning,
                    };
                    let quarters = (end - start).num_minutes() / 15 - 1;
                    let at = start + Duration::minutes(15 * rng.below(quarters as u64) as i64);
                    let starts_at = local_instant(zone, date, at);
                    Busy::booking(&rules, starts_at, starts_at + Duration::minutes(30))
                })
                .collect();
            Availability {
                provider: id,
                zone,
                weekly,
                overrides,
                time_off,
                busy,
            }
        })
        .collect()
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (Linux).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn local_instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    cohort_domain::tenancy::instant_at_or_after(zone, date.and_time(time))
}

fn bench(c: &mut Criterion) {
    let providers = instance();
    let rules = rules();
    let (from, to) = (now(), now() + Duration::days(28));
    let all = slots(&rules, &providers, from, to, now());
    let listed: usize = all.iter().map(|s| s.providers.len()).sum();
    let one = slots(&rules, &providers[..1], from, to, now());
    println!(
        "generic-200-4w: {} slots (distinct starts), {listed} provider-slots, {:.1} providers per slot; one-provider-4w: {} slots",
        all.len(),
        listed as f64 / all.len() as f64,
        one.len()
    );
    // Criterion measures wall time, which other processes on a busy machine inflate; the CPU time
    // of this thread (Linux's schedstat, in nanoseconds) is printed beside it.
    for (name, providers, days) in [
        ("generic-200-4w", &providers[..], 28),
        ("one-provider-4w", &providers[..1], 28),
        ("generic-200-1w", &providers[..], 7),
    ] {
        let runs = if providers.len() == 1 { 20_000 } else { 300 };
        let before = thread_cpu_ns();
        for _ in 0..runs {
            black_box(slots(
                black_box(&rules),
                black_box(providers),
                from,
                from + Duration::days(days),
                now(),
            ));
        }
        if let (Some(before), Some(after)) = (before, thread_cpu_ns()) {
            println!(
                "{name}: {:.1} µs CPU per call (mean of {runs})",
                (after - before) as f64 / runs as f64 / 1e3
            );
        }
    }
    let mut group = c.benchmark_group("slots");
    group.bench_function("generic-200-4w", |b| {
        b.iter(|| slots(black_box(&rules), black_box(&providers), from, to, now()))
    });
    group.bench_function("one-provider-4w", |b| {
        b.iter(|| slots(black_box(&rules), black_box(&providers[..1]), from, to, now()))
    });
    group.bench_function("generic-200-1w", |b| {
        b.iter(|| {
            slots(
                black_box(&rules),
                black_box(&providers),
                from,
                from + Duration::days(7),
                now(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
