//! What happens in an organisation that automations react to. Names are `noun.verb`, stable:
//! integrations filter on them.

pub const PARTICIPANT_JOINED: &str = "participant.joined";
pub const STEP_COMPLETED: &str = "step.completed";
pub const STEP_MISSED: &str = "step.missed";

/// Every event type Cohort records so far (pairing, booking and payment events join later).
pub const EVENT_TYPES: [&str; 3] = [PARTICIPANT_JOINED, STEP_COMPLETED, STEP_MISSED];

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name)
}
