//! Rate limits on logins (per account and per client address) and on API keys,
//! with the rule from `cohort_domain::rate_limit`, and who the client is.
//!
//! The buckets live in this process's memory: with several `cohort` processes
//! behind a load balancer each one keeps its own budget, so a client may get up
//! to the limit times the number of processes. A restart forgets every bucket.
//! Memory stays bounded: a full bucket is forgotten (it behaves like none), and
//! when a limiter holds `MAX_BUCKETS` keys the ones closest to full go first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use actix_web::HttpRequest;
pub use cohort_domain::rate_limit::IpRange;
use cohort_domain::rate_limit::{Bucket, Decision, Quota};

use crate::config::Config;
use crate::error::ApiError;

/// Keys one limiter remembers at most (about 100 bytes each).
pub const MAX_BUCKETS: usize = 100_000;

/// One quota applied per key (an email, an address, an API key id).
pub struct RateLimiter {
    quota: Quota,
    buckets: Mutex<HashMap<String, Bucket>>,
    max_buckets: usize,
    origin: Instant,
}

impl RateLimiter {
    pub fn new(quota: Quota, max_buckets: usize) -> Self {
        Self {
            quota,
            buckets: Mutex::new(HashMap::new()),
            max_buckets,
            origin: Instant::now(),
        }
    }

    /// Counts a request of `key` now; a 429 with `Retry-After` when over the limit.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        let mut buckets = self.lock();
        // Read the clock under the lock: a request that read it earlier but got the lock later
        // would see the bucket from the past and be told to wait a little too long.
        let now_ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        match self.decide(&mut buckets, key, now_ms) {
            Decision::Allowed => Ok(()),
            limited => Err(ApiError::RateLimited(limited.retry_after_secs().unwrap_or(1))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        // The map stays consistent whatever a panicking holder did: each entry is one Copy value.
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn check_at(&self, key: &str, now_ms: u64) -> Decision {
        self.decide(&mut self.lock(), key, now_ms)
    }

    fn decide(&self, buckets: &mut HashMap<String, Bucket>, key: &str, now_ms: u64) -> Decision {
        let (decision, bucket) = self.quota.check(buckets.get(key).copied(), now_ms);
        if decision == Decision::Allowed {
            if !buckets.contains_key(key) && buckets.len() >= self.max_buckets {
                self.make_room(buckets, now_ms);
            }
            buckets.insert(key.to_owned(), bucket);
        }
        decision
    }

    /// Forgets full buckets; if that is not enough, the half closest to full.
    fn make_room(&self, buckets: &mut HashMap<String, Bucket>, now_ms: u64) {
        buckets.retain(|_, b| !self.quota.is_full(*b, now_ms));
        if buckets.len() >= self.max_buckets / 2 {
            let mut order: Vec<Bucket> = buckets.values().copied().collect();
            let middle = order.len() / 2;
            let (_, cut, _) = order.select_nth_unstable(middle);
            let cut = *cut;
            buckets.retain(|_, b| *b > cut);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Every limit the API applies, and how it tells who the client is.
pub struct Limits {
    pub login_per_account: RateLimiter,
    pub login_per_address: RateLimiter,
    /// Refreshing and logging out, per client (see [`client_key`]).
    pub sessions_per_address: RateLimiter,
    /// Requests per logged-in person (access tokens).
    pub per_person: RateLimiter,
    pub api_key: RateLimiter,
    pub trusted_proxies: Vec<IpRange>,
}

impl Limits {
    pub fn from_config(config: &Config) -> Result<Self, cohort_domain::Invalid> {
        let limiter = |n| Quota::new(n, config.rate_limit_period).map(|q| RateLimiter::new(q, MAX_BUCKETS));
        Ok(Self {
            login_per_account: limiter(config.login_limit_per_account)?,
            login_per_address: limiter(config.login_limit_per_address)?,
            sessions_per_address: limiter(config.session_limit_per_address)?,
            per_person: limiter(config.person_limit)?,
            api_key: limiter(config.api_key_limit)?,
            trusted_proxies: config.trusted_proxies.clone(),
        })
    }

    /// The client's address: the TCP peer, unless the peer is a trusted proxy.
    pub fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        Some(client_address(peer, &forwarded, &self.trusted_proxies))
    }
}

/// The bucket a client address counts against: the address itself for IPv4, its /64 for IPv6,
/// since one subscriber holds a whole /64 and could otherwise pick a fresh address per request.
pub fn client_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
    }
}

/// The client behind a chain of proxies. Each trusted proxy appends the address it
/// got the request from to `X-Forwarded-For`, so reading from the right, the first
/// address that is not a trusted proxy is the client; anything left of it was
/// written by the client and may be forged. With no trusted proxies, the peer.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            // A malformed hop: nothing to its left can be trusted either.
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_match_their_addresses() {
        let range: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains(ip("10.20.30.40")));
        assert!(!range.contains(ip("11.0.0.1")));
        assert!(range.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped IPv6");
        let one: IpRange = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("192.0.2.1")) && !all.contains(ip("2001:db8::1")));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("proxy".parse::<IpRange>().is_err());
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let proxies: Vec<IpRange> = vec!["10.0.0.0/8".parse().unwrap()];
        // No trusted proxies: a forged header changes nothing.
        assert_eq!(client_address(ip("192.0.2.7"), &["1.2.3.4"], &[]), ip("192.0.2.7"));
        // An untrusted peer is the client, whatever it claims.
        assert_eq!(client_address(ip("192.0.2.7"), &["1.2.3.4"], &proxies), ip("192.0.2.7"));
        // Behind two trusted proxies the client is the right-most untrusted hop; the
        // forged left part is ignored.
        assert_eq!(
            client_address(ip("10.0.0.1"), &["6.6.6.6, 198.51.100.9", "10.0.0.2"], &proxies),
            ip("198.51.100.9")
        );
        // A trusted proxy that forwarded nothing, or nonsense: the last address known.
        assert_eq!(client_address(ip("10.0.0.1"), &[], &proxies), ip("10.0.0.1"));
        assert_eq!(
            client_address(ip("10.0.0.1"), &["garbage, 10.0.0.3"], &proxies),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            client_key(ip("2001:db8:1:2:ffff:1:2:3")),
            client_key(ip("2001:db8:1:2::9"))
        );
        assert_ne!(client_key(ip("2001:db8:1:3::1")), client_key(ip("2001:db8:1:2::1")));
        assert_eq!(client_key(ip("192.0.2.7")), "192.0.2.7");
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), "192.0.2.7");
    }

    #[test]
    fn limiters_count_each_key_on_its_own() {
        let limiter = RateLimiter::new(Quota::new(2, Duration::from_secs(60)).unwrap(), 100);
        assert_eq!(limiter.check_at("a", 0), Decision::Allowed);
        assert_eq!(limiter.check_at("a", 0), Decision::Allowed);
        assert_eq!(limiter.check_at("b", 0), Decision::Allowed);
        assert!(matches!(limiter.check_at("a", 0), Decision::Limited { .. }));
        assert_eq!(limiter.check_at("a", 30_000), Decision::Allowed);
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = RateLimiter::new(Quota::new(5, Duration::from_secs(60)).unwrap(), 1_000);
        // Keys that went quiet long ago are forgotten first.
        for i in 0..1_000 {
            limiter.check_at(&format!("old-{i}"), 0);
        }
        limiter.check_at("new", 120_000);
        assert_eq!(limiter.len(), 1);
        // Under a flood of fresh keys the map never passes its bound.
        for i in 0..10_000 {
            limiter.check_at(&format!("flood-{i}"), 200_000);
            assert!(limiter.len() <= 1_000);
        }
        // A key being limited right now survives the eviction of quieter ones.
        for _ in 0..5 {
            limiter.check_at("busy", 200_000);
        }
        for i in 0..2_000 {
            limiter.check_at(&format!("more-{i}"), 200_000);
        }
        assert!(matches!(limiter.check_at("busy", 200_000), Decision::Limited { .. }));
    }
}
