//! The job queue's rules: when a failed job runs again, and when it stops trying.

use std::time::Duration;

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
    fn default() -> Self {
        Self {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(60 * 60),
            jitter: 0.25,
            max_attempts: 8,
        }
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
    /// `unit` is a random number in [0, 1) supplied by the caller, so this stays a pure function.
    pub fn after_failure(&self, attempts: u32, unit: f64) -> AfterFailure {
        if attempts >= self.max_attempts {
            return AfterFailure::Dead;
        }
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << exponent).min(self.cap);
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

    proptest! {
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
