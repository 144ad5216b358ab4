//! What happens in an organisation that automations react to. Names are `noun.verb`, stable:
//! integrations filter on them.

pub const PARTICIPANT_JOINED: &str = "participant.joined";
pub const STEP_COMPLETED: &str = "step.completed";
pub const STEP_MISSED: &str = "step.missed";
pub const PAIRING_CREATED: &str = "pairing.created";
pub const PAIRING_ENDED: &str = "pairing.ended";
pub const PAIRING_UNRESPONSIVE: &str = "pairing.unresponsive";
pub const REQUEST_DECLINED: &str = "request.declined";
pub const REQUEST_EXPIRED: &str = "request.expired";
/// A mentee took back their open request.
pub const REQUEST_WITHDRAWN: &str = "request.withdrawn";
/// Posted by payment systems through `POST /events`.
pub const PAYMENT_PAID: &str = "payment.paid";
pub const BOOKING_CREATED: &str = "booking.created";
pub const BOOKING_CANCELLED: &str = "booking.cancelled";
pub const BOOKING_COMPLETED: &str = "booking.completed";

/// Every event type Cohort knows. Integrations may also post their own, named `custom.<name>`.
pub const EVENT_TYPES: [&str; 13] = [
    PARTICIPANT_JOINED,
    STEP_COMPLETED,
    STEP_MISSED,
    PAIRING_CREATED,
    PAIRING_ENDED,
    PAIRING_UNRESPONSIVE,
    REQUEST_DECLINED,
    REQUEST_EXPIRED,
    REQUEST_WITHDRAWN,
    PAYMENT_PAID,
    BOOKING_CREATED,
    BOOKING_CANCELLED,
    BOOKING_COMPLETED,
];

/// An integration's own event type: `custom.` and 1 to 64 letters, digits, `_`, `-` or `.`.
pub fn is_custom(name: &str) -> bool {
    name.strip_prefix("custom.").is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name) || is_custom(name)
}

/// What integrations may post: payments and their own types; Cohort records the rest itself.
pub fn may_be_posted(name: &str) -> bool {
    name == PAYMENT_PAID || is_custom(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrations_post_payments_and_their_own_types() {
        assert!(may_be_posted("payment.paid"));
        assert!(may_be_posted("custom.survey_done"));
        assert!(!may_be_posted("pairing.created"), "Cohort's own");
        assert!(!may_be_posted("custom."));
        assert!(!may_be_posted("custom.a b"));
        assert!(is_event_type("custom.x") && is_event_type("step.missed") && !is_event_type("step"));
    }
}
