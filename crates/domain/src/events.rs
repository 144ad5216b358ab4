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

/// Every event type Cohort records so far (booking and payment events join later).
pub const EVENT_TYPES: [&str; 8] = [
    PARTICIPANT_JOINED,
    STEP_COMPLETED,
    STEP_MISSED,
    PAIRING_CREATED,
    PAIRING_ENDED,
    PAIRING_UNRESPONSIVE,
    REQUEST_DECLINED,
    REQUEST_EXPIRED,
];

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name)
}
