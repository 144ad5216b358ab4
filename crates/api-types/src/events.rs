use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Something that happened, as stored before automations react to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e60", "event_type": "step.missed",
    "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f",
    "payload": {"step_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e50", "due_date": "2027-02-14"},
    "occurred_at": "2027-02-15T05:00:00Z", "created_at": "2027-02-15T05:00:01Z"
})))]
pub struct Event {
    pub id: Uuid,
    /// `participant.joined`, `step.completed`, `step.missed`, `pairing.created`, `pairing.ended`,
    /// `request.declined` or `request.expired`.
    pub event_type: String,
    pub program_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events of this type.
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// An event the automations left out: matching it failed every time it was tried alone (a
/// write refused by the database, for instance), so the matchers no longer take it and the
/// others go on. It meets the automations again when an admin asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "event": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e60", "event_type": "payment.paid",
        "program_id": null, "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f",
        "payload": {"amount": 120}, "occurred_at": "2027-02-15T05:00:00Z", "created_at": "2027-02-15T05:00:01Z"
    },
    "attempts": 5,
    "last_error": "Database error: value too long for type character varying(200)"
})))]
pub struct LeftOutEvent {
    pub event: Event,
    /// How many times matching it failed.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: String,
}

/// How many left-out events were given back to the matchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"requeued": 3})))]
pub struct Requeued {
    pub requeued: u64,
}
