//! Background jobs that ran out of attempts, for an admin to look at and queue again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A job parked as dead: every attempt failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90", "kind": "email", "status": "dead", "attempts": 42,
    "max_attempts": 42, "last_error": "cannot connect to mail.example.org:587: connection refused",
    "created_at": "2026-11-23T09:00:00Z", "finished_at": "2026-11-24T15:12:09Z"
})))]
pub struct DeadJob {
    pub id: Uuid,
    /// What the job does: `email`, `webhook`, `automation.action`, …
    pub kind: String,
    /// `dead`; `queued` once retried.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90", "kind": "email", "status": "dead", "attempts": 42,
    "max_attempts": 42, "last_error": "cannot connect to mail.example.org:587: connection refused",
    "created_at": "2026-11-23T09:00:00Z", "finished_at": "2026-11-24T15:12:09Z"}], "next_cursor": null})))]
pub struct DeadJobPage {
    pub items: Vec<DeadJob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
