//! The audit log and personal data: entries, their filters, a person's export and erasure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One admin write: who, when, from where, what, and the fields it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0ea0", "occurred_at": "2027-01-11T09:00:00Z",
    "source": "dashboard", "actor_person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e01", "actor_api_key_id": null,
    "action": "program.updated", "object_type": "program", "object_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "before": {"status": "draft"}, "after": {"status": "published"},
    "request_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0eff"
})))]
pub struct AuditEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `dashboard` (a bearer token sent with `X-Cohort-Client: dashboard`), `api_key` (an API key,
    /// or any other bearer-token client) or `system` (Cohort itself).
    pub source: String,
    /// The person who acted; for an API key, the person who created it. Null for the system.
    pub actor_person_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    /// `<object type>.<verb>`, e.g. `program.updated`, `person.erased`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// The changed fields before the change (null: the object did not exist). Secrets never appear.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    /// The changed fields after the change (null: the object was deleted).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
    /// The `x-request-id` of the request that made the change.
    pub request_id: Option<String>,
}

/// Filters of the audit log; all optional, combined with AND. Newest entries first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The acting person's id.
    #[serde(default)]
    pub actor: Option<Uuid>,
    /// `dashboard`, `api_key` or `system`.
    #[serde(default)]
    pub source: Option<String>,
    /// E.g. `program`, `person`, `webhook`.
    #[serde(default)]
    pub object_type: Option<String>,
    #[serde(default)]
    pub object_id: Option<String>,
    /// An action (`program.updated`) or, ending in `.`, a prefix (`program.`).
    #[serde(default)]
    pub action: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant (RFC 3339).
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of audit entries, newest first; follow `next_cursor` for older ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0ea0", "occurred_at": "2027-01-11T09:00:00Z",
    "source": "dashboard", "actor_person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e01", "actor_api_key_id": null,
    "action": "program.updated", "object_type": "program", "object_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "before": {"status": "draft"}, "after": {"status": "published"},
    "request_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0eff"
}], "next_cursor": "AZO4pF8efCqdPmp7jJ0OoA"})))]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Everything Cohort holds about one person, as stored. Each section is a list of records of
/// one kind; secrets (password and token hashes) are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "format": "cohort.personal-data.v1", "exported_at": "2027-01-11T09:00:00Z",
    "person": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "email": "talia.k@example.org", "name": "Talia K"},
    "sections": {
        "memberships": [{"program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "role": "mentor", "status": "active"}],
        "pairings": [], "mentor_requests": [], "step_deliveries": [], "notifications": [], "messages": [],
        "conversations": [], "badges": [], "automation_runs": [], "events": [], "emails_sent": [],
        "api_keys": [], "audit_entries": [], "bookings": []
    }
})))]
pub struct PersonalDataExport {
    /// `cohort.personal-data.v1`.
    pub format: String,
    pub exported_at: DateTime<Utc>,
    /// The person's profile as stored.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub person: serde_json::Value,
    /// Section name → records.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub sections: serde_json::Map<String, serde_json::Value>,
}

/// Confirms an erasure by repeating the person's email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"confirm": "talia.k@example.org"})))]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The person's email, exactly as stored (case does not matter).
    pub confirm: String,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "erased_at": "2027-01-11T09:00:00Z",
    "deleted": {"notifications": 4, "refresh_tokens": 2}, "anonymised": {"people": 1, "jobs": 3}
})))]
pub struct Erasure {
    pub person_id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// Table → rows deleted.
    pub deleted: std::collections::BTreeMap<String, u64>,
    /// Table → rows rewritten so they no longer name the person.
    pub anonymised: std::collections::BTreeMap<String, u64>,
}
