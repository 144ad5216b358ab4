//! How long an organisation keeps what grows with use: ended refresh tokens, finished jobs,
//! webhook and email deliveries, events. Each has a default, a floor below which keeping less
//! would break something, and the same ten-year ceiling as the audit log.

use chrono::{Duration, NaiveDateTime};

use crate::Invalid;

/// Something kept for a number of days, then purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Refresh tokens, counted from when they expired or were revoked. A used token that has
    /// not ended is kept whatever the setting: presenting it again revokes its login (reuse
    /// detection).
    RefreshTokens,
    /// Jobs that ran to completion, counted from when they finished.
    FinishedJobs,
    /// Jobs whose attempts ran out, counted from their last attempt; an admin may still retry them.
    DeadJobs,
    /// Webhook deliveries that are no longer pending (they hold the payload: personal data).
    WebhookDeliveries,
    /// The "sent once" record of each email. Purging one lets its delivery key send again, so
    /// the floor is longer than any job retries (and the purge skips keys a job still holds).
    EmailDeliveries,
    /// Events, counted from when Cohort recorded them. An event still waiting for the
    /// automations is kept.
    Events,
}

impl Kept {
    pub const ALL: [Kept; 6] = [
        Kept::RefreshTokens,
        Kept::FinishedJobs,
        Kept::DeadJobs,
        Kept::WebhookDeliveries,
        Kept::EmailDeliveries,
        Kept::Events,
    ];

    /// The organisation setting's name (`…_retention_days` in the API).
    pub fn field(self) -> &'static str {
        match self {
            Kept::RefreshTokens => "refresh_token_retention_days",
            Kept::FinishedJobs => "job_retention_days",
            Kept::DeadJobs => "dead_job_retention_days",
            Kept::WebhookDeliveries => "webhook_delivery_retention_days",
            Kept::EmailDeliveries => "email_delivery_retention_days",
            Kept::Events => "event_retention_days",
        }
    }

    pub fn default_days(self) -> i32 {
        match self {
            Kept::RefreshTokens => 7,
            Kept::FinishedJobs => 14,
            Kept::DeadJobs => 30,
            Kept::WebhookDeliveries => 30,
            Kept::EmailDeliveries => 90,
            Kept::Events => 365,
        }
    }

    pub fn min_days(self) -> i32 {
        match self {
            Kept::RefreshTokens | Kept::FinishedJobs | Kept::WebhookDeliveries => 1,
            // Long enough for an admin to notice and retry.
            Kept::DeadJobs => 7,
            // Longer than any job's retries (see the test below).
            Kept::EmailDeliveries => 7,
            Kept::Events => 30,
        }
    }

    /// The number of days, if within this setting's floor and [`MAX_DAYS`].
    pub fn parse_days(self, days: i64) -> Result<i32, Invalid> {
        let min = self.min_days();
        if (i64::from(min)..=i64::from(MAX_DAYS)).contains(&days) {
            Ok(days as i32)
        } else {
            Err(Invalid(format!("must be between {min} and {MAX_DAYS} days")))
        }
    }
}

pub const MAX_DAYS: i32 = 3650;

/// What ended before this moment is purged.
pub fn cutoff(now: NaiveDateTime, days: i32) -> NaiveDateTime {
    now - Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{AfterFailure, RetryPolicy};

    #[test]
    fn defaults_lie_within_their_bounds() {
        for kept in Kept::ALL {
            assert_eq!(kept.parse_days(kept.default_days().into()), Ok(kept.default_days()));
            assert!(kept.parse_days((kept.min_days() - 1).into()).is_err());
            assert!(kept.parse_days(i64::from(MAX_DAYS) + 1).is_err());
        }
    }

    #[test]
    fn email_records_outlive_every_retry() {
        let policy = RetryPolicy::default();
        let mut longest = std::time::Duration::ZERO;
        for attempt in 1..=policy.max_attempts {
            if let AfterFailure::RetryIn(delay) = policy.after_failure(attempt, 0.0) {
                longest += delay;
            }
        }
        let floor = Duration::days(Kept::EmailDeliveries.min_days().into())
            .to_std()
            .unwrap();
        assert!(longest < floor, "jobs retry for {longest:?}, longer than {floor:?}");
    }
}
