//! Rate limits: how many requests one caller (an account, a client address, an
//! API key) may make in a period. A token bucket in its GCRA form: the bucket
//! holds `requests` tokens and refills one every `period / requests`, so a
//! caller may burst up to `requests` at once and then goes at the steady rate.
//! The state of a bucket is one number, the time at which it would be full
//! again; a full bucket carries no information and may be forgotten.
//!
//! Times are milliseconds since any fixed origin the caller chooses.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::Invalid;

/// `requests` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    requests: u64,
    period_ms: u64,
}

/// What a bucket remembers between requests. Internally times are scaled by
/// `requests`, so every refill step is a whole number and no rounding drifts.
/// Buckets of one quota order by when they are full again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bucket {
    /// When the bucket is full again (the "theoretical arrival time"), in ms × requests.
    full_at: u128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused; the next request is allowed after `retry_after`.
    Limited {
        retry_after: Duration,
    },
}

impl Quota {
    pub fn new(requests: u32, period: Duration) -> Result<Self, Invalid> {
        let period_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX);
        if requests == 0 {
            return Err(Invalid::new("must allow at least one request"));
        }
        if period_ms == 0 {
            return Err(Invalid::new("the period must be at least one millisecond"));
        }
        Ok(Self {
            requests: requests.into(),
            period_ms,
        })
    }

    pub fn requests(&self) -> u32 {
        // `new` took a u32.
        self.requests as u32
    }

    pub fn period(&self) -> Duration {
        Duration::from_millis(self.period_ms)
    }

    fn scaled(&self, now_ms: u64) -> u128 {
        u128::from(now_ms) * u128::from(self.requests)
    }

    /// Whether a request at `now_ms` is allowed, and the bucket's state afterwards
    /// (unchanged when refused: refused requests cost nothing).
    pub fn check(&self, bucket: Option<Bucket>, now_ms: u64) -> (Decision, Bucket) {
        let now = self.scaled(now_ms);
        let full_at = bucket.map_or(now, |b| b.full_at).max(now);
        // One request costs period / requests, which is `period_ms` once scaled.
        let after = full_at + u128::from(self.period_ms);
        let capacity = u128::from(self.period_ms) * u128::from(self.requests);
        if after - now <= capacity {
            return (Decision::Allowed, Bucket { full_at: after });
        }
        let wait_scaled = after - now - capacity;
        let wait_ms = wait_scaled.div_ceil(u128::from(self.requests));
        let retry_after = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(u64::MAX));
        (Decision::Limited { retry_after }, bucket.unwrap_or(Bucket { full_at }))
    }

    /// Whether the bucket has refilled completely by `now_ms`: it then behaves exactly
    /// like no bucket at all, so whoever keeps buckets may drop it.
    pub fn is_full(&self, bucket: Bucket, now_ms: u64) -> bool {
        bucket.full_at <= self.scaled(now_ms)
    }
}

impl Decision {
    /// Seconds for a `Retry-After` header: rounded up, and at least one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Allowed => None,
            Self::Limited { retry_after } => Some(retry_after.as_millis().div_ceil(1000).max(1) as u64),
        }
    }
}

/// An address or a CIDR range (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (address, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| "is not an IP address".to_owned())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("has a prefix length that is not 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MINUTE: Duration = Duration::from_secs(60);

    /// Runs requests at the given times through one bucket; which were allowed.
    fn run(quota: &Quota, times: &[u64]) -> Vec<Decision> {
        let mut bucket = None;
        times
            .iter()
            .map(|&t| {
                let (decision, next) = quota.check(bucket, t);
                bucket = Some(next);
                decision
            })
            .collect()
    }

    #[test]
    fn ten_a_minute_bursts_ten_then_refills_one_every_six_seconds() {
        let quota = Quota::new(10, MINUTE).unwrap();
        let start = 1_000_000;
        let decisions = run(&quota, &[start; 11]);
        assert!(decisions[..10].iter().all(|d| *d == Decision::Allowed));
        assert_eq!(
            decisions[10],
            Decision::Limited {
                retry_after: Duration::from_secs(6)
            }
        );
        assert_eq!(decisions[10].retry_after_secs(), Some(6));

        let mut times = vec![start; 10];
        times.extend([start + 5_999, start + 6_000, start + 6_000]);
        let decisions = run(&quota, &times);
        assert_eq!(
            decisions[10],
            Decision::Limited {
                retry_after: Duration::from_millis(1)
            }
        );
        assert_eq!(decisions[10].retry_after_secs(), Some(1), "never Retry-After: 0");
        assert_eq!(decisions[11], Decision::Allowed, "one token after 6 s");
        assert!(matches!(decisions[12], Decision::Limited { .. }), "and only one");
    }

    #[test]
    fn a_full_period_refills_the_whole_burst() {
        let quota = Quota::new(3, MINUTE).unwrap();
        let decisions = run(&quota, &[0, 0, 0, 0, 60_000, 60_000, 60_000, 60_000]);
        let allowed: Vec<bool> = decisions.iter().map(|d| *d == Decision::Allowed).collect();
        assert_eq!(allowed, [true, true, true, false, true, true, true, false]);
    }

    #[test]
    fn periods_that_do_not_divide_evenly_do_not_drift() {
        // 3 a second: one token every 333⅓ ms, so exactly 3 more after each second.
        let quota = Quota::new(3, Duration::from_secs(1)).unwrap();
        let mut times = vec![0; 3];
        for second in 1..=1000u64 {
            times.extend([second * 1000; 4]);
        }
        let allowed = run(&quota, &times).iter().filter(|d| **d == Decision::Allowed).count();
        assert_eq!(allowed, 3 + 3 * 1000);
    }

    #[test]
    fn quotas_need_a_request_and_a_period() {
        assert!(Quota::new(0, MINUTE).is_err());
        assert!(Quota::new(1, Duration::ZERO).is_err());
        assert_eq!(Quota::new(7, MINUTE).unwrap().requests(), 7);
    }

    fn quota() -> impl Strategy<Value = Quota> {
        (1u32..200, 1u64..600_000).prop_map(|(n, ms)| Quota::new(n, Duration::from_millis(ms)).unwrap())
    }

    proptest! {
        #[test]
        fn a_fresh_bucket_allows_exactly_the_burst(quota in quota(), now in 0u64..u64::MAX / 1024) {
            let decisions = run(&quota, &vec![now; quota.requests() as usize + 1]);
            let allowed = decisions.iter().take_while(|d| **d == Decision::Allowed).count();
            prop_assert_eq!(allowed, quota.requests() as usize);
            prop_assert!(matches!(decisions.last(), Some(Decision::Limited { .. })), "the next one is refused");
        }

        #[test]
        fn never_more_than_the_burst_plus_the_refill(
            quota in quota(),
            start in 0u64..1u64 << 40,
            gaps in proptest::collection::vec(0u64..5_000, 1..400),
        ) {
            let times: Vec<u64> = gaps.iter().scan(start, |t, gap| { *t += gap; Some(*t) }).collect();
            let decisions = run(&quota, &times);
            let mut allowed = 0u128;
            for (t, d) in times.iter().zip(&decisions) {
                if *d == Decision::Allowed {
                    allowed += 1;
                }
                // Tokens available since `start`: the burst plus one per period / requests.
                let refilled = u128::from(t - start) * u128::from(quota.requests) / u128::from(quota.period_ms);
                prop_assert!(allowed <= u128::from(quota.requests) + refilled);
            }
        }

        #[test]
        fn retry_after_is_exact(
            quota in quota(),
            start in 0u64..1u64 << 40,
            gaps in proptest::collection::vec(0u64..2_000, 1..300),
        ) {
            let mut bucket = None;
            let mut t = start;
            for gap in gaps {
                t += gap;
                let (decision, next) = quota.check(bucket, t);
                if let Decision::Limited { retry_after } = decision {
                    prop_assert_eq!(next, bucket.unwrap_or(next), "refusals cost nothing");
                    let wait = retry_after.as_millis() as u64;
                    prop_assert!(wait >= 1);
                    prop_assert!(matches!(quota.check(bucket, t + wait - 1).0, Decision::Limited { .. }), "not a millisecond early");
                    prop_assert_eq!(quota.check(bucket, t + wait).0, Decision::Allowed);
                }
                bucket = Some(next);
            }
        }

        #[test]
        fn a_full_bucket_is_as_good_as_none(
            quota in quota(),
            start in 0u64..1u64 << 40,
            burst in 1usize..50,
            later in 0u64..1_200_000,
        ) {
            let mut bucket = None;
            for _ in 0..burst {
                bucket = Some(quota.check(bucket, start).1);
            }
            let bucket = bucket.unwrap();
            let now = start + later;
            if quota.is_full(bucket, now) {
                prop_assert_eq!(quota.check(Some(bucket), now), quota.check(None, now));
            }
            // A whole period after the last request, every bucket is full again.
            prop_assert!(quota.is_full(bucket, start + quota.period_ms));
        }
    }
}
