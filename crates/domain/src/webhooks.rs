//! Webhooks for integrations: which events exist, and where deliveries may go.

use std::net::IpAddr;

use crate::Invalid;

/// The events an endpoint can subscribe to: every event Cohort records (`crate::events`), and
/// these of messaging's own.
pub const EVENT_TYPES: [&str; 16] = [
    "participant.joined",
    "step.completed",
    "step.missed",
    "pairing.created",
    "pairing.ended",
    "pairing.unresponsive",
    "request.declined",
    "request.expired",
    "request.withdrawn",
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
/// shared (CGNAT), benchmarking, reserved, documentation or multicast space, which could reach
/// Cohort's own network. IPv6 forms that carry an IPv4 address a gateway would reach
/// (IPv4-compatible, NAT64, 6to4, Teredo) are refused whole: which IPv4 address they end up at
/// is the gateway's choice, not ours.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                // IETF protocol assignments (192.0.0.0/24), benchmarking (198.18.0.0/15),
                // reserved (240.0.0.0/4).
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b & 0xfe) == 18)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10).
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                // IPv4-compatible (::/96).
                || s[..6] == [0; 6]
                // NAT64, well-known (64:ff9b::/96) and local-use (64:ff9b:1::/48).
                || (s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1))
                // Discard-only (100::/64).
                || (s[0] == 0x100 && s[1..4] == [0; 3])
                // 6to4 (2002::/16), Teredo (2001::/32), documentation (2001:db8::/32).
                || s[0] == 0x2002
                || (s[0] == 0x2001 && (s[1] == 0 || s[1] == 0xdb8)))
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

    fn refused(range: &str, addresses: &[&str]) {
        for address in addresses {
            assert!(!is_public(address.parse().unwrap()), "{range}: {address}");
        }
    }

    #[test]
    fn ipv4_compatible_addresses_are_not_public() {
        refused("::/96", &["::127.0.0.1", "::10.0.0.1", "::8.8.8.8", "::0.0.0.2"]);
    }

    #[test]
    fn nat64_addresses_are_not_public() {
        refused(
            "64:ff9b::/96",
            &["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::808:808"],
        );
        refused("64:ff9b:1::/48", &["64:ff9b:1::7f00:1", "64:ff9b:1:ffff::1"]);
        assert!(is_public("64:ff9c::1".parse().unwrap()), "just outside NAT64");
    }

    #[test]
    fn sixtofour_addresses_are_not_public() {
        refused("2002::/16", &["2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:808:808::1"]);
    }

    #[test]
    fn site_local_addresses_are_not_public() {
        refused("fec0::/10", &["fec0::1", "feff:ffff::1"]);
    }

    #[test]
    fn benchmarking_addresses_are_not_public() {
        refused("198.18.0.0/15", &["198.18.0.1", "198.19.255.254"]);
        assert!(is_public("198.20.0.1".parse().unwrap()), "just outside 198.18.0.0/15");
        assert!(
            is_public("198.17.255.255".parse().unwrap()),
            "just before 198.18.0.0/15"
        );
    }

    #[test]
    fn reserved_addresses_are_not_public() {
        refused("240.0.0.0/4", &["240.0.0.1", "250.1.2.3", "255.255.255.254"]);
        refused("::ffff:240.0.0.0/100", &["::ffff:240.0.0.1"]);
        assert!(is_public("223.255.255.254".parse().unwrap()), "just before 240.0.0.0/4");
    }

    #[test]
    fn other_special_purpose_ranges_are_not_public() {
        refused("192.0.0.0/24", &["192.0.0.8", "192.0.0.170"]);
        refused("Teredo 2001::/32", &["2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"]);
        refused("documentation 2001:db8::/32", &["2001:db8::1"]);
        refused("discard 100::/64", &["100::1"]);
        assert!(
            is_public("2001:4860:4860::8888".parse().unwrap()),
            "Google's resolver is public"
        );
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
