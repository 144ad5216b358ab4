//! The job queue's rules: when a failed job runs again, when it stops trying, and how long one
//! run may take under its lease.

use std::time::Duration;

/// How long a failing job keeps being retried, at the least, before it is parked as dead: an
/// outage of the mail relay or of a webhook receiver shorter than this loses nothing.
pub const RETRY_SPAN: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest wait between two tries.
pub const RETRY_CAP: Duration = Duration::from_secs(60 * 60);

/// The rule that keeps one job on one worker: a run may last three quarters of its lease, and is
/// cut off (failed, for a retry) when it has not finished by then. The last quarter is left for
/// recording the outcome, so no run outlives its lease and no second worker takes the job over
/// while the first still works on it. Every timeout inside a handler (SMTP, HTTP) is shorter still.
pub fn run_deadline(lease: Duration) -> Duration {
    lease.mul_f64(0.75)
}

/// Retry policy: exponential backoff from `base`, capped at `cap`, with jitter, for `max_attempts` runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// 0.0 to 1.0: how much of each delay is randomised (spreads retries of jobs that failed together).
    pub jitter: f64,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// From 5 seconds, doubling up to an hour, for at least a day ([`RETRY_SPAN`]): 42 attempts.
    fn default() -> Self {
        Self::spanning(Duration::from_secs(5), RETRY_SPAN)
    }
}

/// What happens to a job whose run number `attempts` (1 for the first run) failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AfterFailure {
    RetryIn(Duration),
    /// No attempts left: the job is parked as dead for an admin to look at.
    Dead,
}

impl RetryPolicy {
    /// Backoff from `base`, doubling up to [`RETRY_CAP`] with a quarter of jitter, and as many
    /// attempts as it takes for the retries to span `span` even when every delay is at its shortest.
    pub fn spanning(base: Duration, span: Duration) -> Self {
        let mut policy = Self {
            base,
            cap: RETRY_CAP.max(base),
            jitter: 0.25,
            max_attempts: 1,
        };
        policy.max_attempts = policy.attempts_to_span(span);
        policy
    }

    /// The full (unjittered) delay after failed run number `attempts`.
    fn full_delay(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exponent).min(self.cap)
    }

    /// The fewest attempts whose retries, each at its shortest (jittered) delay, add up to `span`.
    pub fn attempts_to_span(&self, span: Duration) -> u32 {
        let shortest = 1.0 - self.jitter.clamp(0.0, 1.0);
        let mut total = Duration::ZERO;
        let mut attempts = 1;
        while total < span && attempts < 10_000 {
            total += self.full_delay(attempts).mul_f64(shortest);
            attempts += 1;
        }
        attempts
    }

    /// From the first run's failure to the last run: the sum of the delays between them, at
    /// their shortest (most jitter) and longest (none).
    pub fn retry_span(&self) -> (Duration, Duration) {
        let shortest = 1.0 - self.jitter.clamp(0.0, 1.0);
        (1..self.max_attempts).fold((Duration::ZERO, Duration::ZERO), |(lo, hi), n| {
            let full = self.full_delay(n);
            (lo + full.mul_f64(shortest), hi + full)
        })
    }

    /// `unit` is a random number in [0, 1) supplied by the caller, so this stays a pure function.
    pub fn after_failure(&self, attempts: u32, unit: f64) -> AfterFailure {
        if attempts >= self.max_attempts {
            return AfterFailure::Dead;
        }
        let full = self.full_delay(attempts);
        let jitter = self.jitter.clamp(0.0, 1.0);
        // The delay lies in [full × (1 − jitter), full].
        let factor = 1.0 - jitter * unit.clamp(0.0, 1.0);
        AfterFailure::RetryIn(full.mul_f64(factor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_until_the_cap_then_the_job_dies() {
        let policy = RetryPolicy {
            jitter: 0.0,
            max_attempts: 5,
            ..Default::default()
        };
        let delays: Vec<_> = (1..5).map(|n| policy.after_failure(n, 0.5)).collect();
        assert_eq!(
            delays,
            [5, 10, 20, 40]
                .map(|s| AfterFailure::RetryIn(Duration::from_secs(s)))
                .to_vec()
        );
        assert_eq!(policy.after_failure(5, 0.5), AfterFailure::Dead);
        let capped = RetryPolicy {
            jitter: 0.0,
            max_attempts: 100,
            ..Default::default()
        };
        assert_eq!(
            capped.after_failure(40, 0.0),
            AfterFailure::RetryIn(Duration::from_secs(3600))
        );
    }

    #[test]
    fn the_default_schedule_retries_for_a_day_and_a_bit() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 42);
        let (shortest, longest) = policy.retry_span();
        assert!(shortest >= RETRY_SPAN, "{shortest:?}");
        assert!(longest <= Duration::from_secs(33 * 60 * 60), "{longest:?}");
        // A 15-minute outage of the relay: the job is still being retried when it ends.
        let no_jitter = RetryPolicy { jitter: 0.0, ..policy };
        let (mut waited, mut attempt) = (Duration::ZERO, 1);
        while waited < Duration::from_secs(15 * 60) {
            let AfterFailure::RetryIn(delay) = no_jitter.after_failure(attempt, 0.0) else {
                panic!("dead after {attempt} attempts and {waited:?}");
            };
            waited += delay;
            attempt += 1;
        }
        assert_eq!(attempt, 9, "the ninth try, about 21 minutes after the first");
    }

    #[test]
    fn the_attempts_follow_from_the_base_and_the_span() {
        // What the end-to-end tests use: backoff from 40 ms, over 3 seconds.
        let quick = RetryPolicy::spanning(Duration::from_millis(40), Duration::from_secs(3));
        assert_eq!(quick.max_attempts, 8);
        assert!(quick.retry_span().0 >= Duration::from_secs(3));
        assert_eq!(quick.retry_span().1, Duration::from_millis(40 * 127));
        // A base above the cap is not cut down to it.
        let slow = RetryPolicy::spanning(Duration::from_secs(2 * 60 * 60), RETRY_SPAN);
        assert_eq!(slow.cap, Duration::from_secs(2 * 60 * 60));
        assert_eq!(slow.max_attempts, 17, "16 retries of at least 90 minutes");
    }

    #[test]
    fn a_run_ends_well_inside_its_lease() {
        assert_eq!(run_deadline(Duration::from_secs(60)), Duration::from_secs(45));
        assert_eq!(run_deadline(Duration::from_secs(2)), Duration::from_millis(1500));
    }

    proptest! {
        #[test]
        fn every_schedule_spans_what_it_was_asked_for(base_ms in 1u64..3_600_000, span_s in 1u64..7 * 86_400) {
            let policy = RetryPolicy::spanning(Duration::from_millis(base_ms), Duration::from_secs(span_s));
            let (shortest, _) = policy.retry_span();
            prop_assert!(shortest >= Duration::from_secs(span_s));
            let one_fewer = RetryPolicy { max_attempts: policy.max_attempts - 1, ..policy };
            prop_assert!(one_fewer.retry_span().0 < Duration::from_secs(span_s));
        }


        #[test]
        fn delays_stay_within_jitter_and_cap(attempts in 1u32..64, unit in 0.0f64..1.0, jitter in 0.0f64..1.0) {
            let policy = RetryPolicy { jitter, max_attempts: 64, ..Default::default() };
            match policy.after_failure(attempts, unit) {
                AfterFailure::RetryIn(delay) => {
                    let full = policy.base.saturating_mul(1u32 << (attempts - 1).min(30)).min(policy.cap);
                    prop_assert!(delay <= full);
                    prop_assert!(delay.as_secs_f64() >= full.as_secs_f64() * (1.0 - jitter) - 1e-6);
                }
                AfterFailure::Dead => prop_assert!(attempts >= 64),
            }
        }

        #[test]
        fn later_attempts_never_wait_less_without_jitter(attempts in 1u32..40) {
            let policy = RetryPolicy { jitter: 0.0, max_attempts: 64, ..Default::default() };
            let (AfterFailure::RetryIn(a), AfterFailure::RetryIn(b)) =
                (policy.after_failure(attempts, 0.0), policy.after_failure(attempts + 1, 0.0)) else {
                return Err(TestCaseError::fail("retries expected"));
            };
            prop_assert!(b >= a);
        }
    }
}
