//! Webhooks for integrations: which events exist, and where deliveries may go.

use std::net::IpAddr;

use crate::Invalid;

/// The events an endpoint can subscribe to: every event Cohort records (`crate::events`), and
/// these of messaging's own.
pub const EVENT_TYPES: [&str; 15] = [
    "participant.joined",
    "step.completed",
    "step.missed",
    "pairing.created",
    "pairing.ended",
    "pairing.unresponsive",
    "request.declined",
    "request.expired",
    "payment.paid",
    "booking.created",
    "booking.cancelled",
    "booking.completed",
    // Every in-app notification: point a push gateway at this to forward them as push messages.
    "notification.created",
    "webhook.test",
    // The earlier name of `payment.paid`, still accepted in subscriptions.
    "program.paid",
];

pub fn check_event_type(event: &str) -> Result<(), Invalid> {
    if EVENT_TYPES.contains(&event) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "unknown event type \"{event}\"; known: {}",
            EVENT_TYPES.join(", ")
        )))
    }
}

/// Whether a delivery may go to `ip`: not loopback, private, link-local, unspecified,
/// shared (CGNAT), documentation or multicast space, which could reach Cohort's own network.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn event_types_are_known_ones() {
        assert!(check_event_type("pairing.created").is_ok());
        assert!(check_event_type("pairing.exploded")
            .unwrap_err()
            .0
            .contains("pairing.created"));
    }
}
