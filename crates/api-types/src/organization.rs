use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the organisation calls its providers and classes; clients show these words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors",
    "class_singular": "Course", "class_plural": "Courses"
})))]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub provider_singular: String,
    pub provider_plural: String,
    pub class_singular: String,
    pub class_plural: String,
}

/// The tenant: every object belongs to exactly one organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-000000000001", "name": "Peer Mentoring Demo", "slug": "peer-mentoring-demo",
    "time_zone": "America/New_York", "holidays": ["2026-12-25", "2027-01-01"],
    "labels": {"provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors", "class_singular": "Course", "class_plural": "Courses"},
    "audit_retention_days": 365, "refresh_token_retention_days": 7, "job_retention_days": 14,
    "dead_job_retention_days": 30, "webhook_delivery_retention_days": 30,
    "email_delivery_retention_days": 90, "event_retention_days": 365,
    "created_at": "2026-11-23T09:00:00Z"
})))]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    /// Used at login when one email belongs to people in several organisations.
    pub slug: String,
    /// IANA time zone, e.g. `Europe/London`.
    pub time_zone: String,
    /// Days that are not business days (request expiry skips them), sorted.
    pub holidays: Vec<NaiveDate>,
    pub labels: Labels,
    /// How many days audit entries are kept (30 to 3650); older ones are purged.
    pub audit_retention_days: i32,
    /// How many days refresh tokens are kept after they expired or were revoked (1 to 3650).
    pub refresh_token_retention_days: i32,
    /// How many days jobs that ran are kept after finishing (1 to 3650).
    pub job_retention_days: i32,
    /// How many days jobs whose attempts ran out are kept, to be looked at or retried (7 to 3650).
    pub dead_job_retention_days: i32,
    /// How many days webhook deliveries (which carry the event payloads) are kept once no
    /// longer pending (1 to 3650).
    pub webhook_delivery_retention_days: i32,
    /// How many days the record of each sent email is kept (7 to 3650). It is what stops an
    /// email being sent twice, so it always outlives the email's retries.
    pub email_delivery_retention_days: i32,
    /// How many days events are kept after being recorded (30 to 3650); events still waiting
    /// for the automations are kept until they are handled.
    pub event_retention_days: i32,
    pub created_at: DateTime<Utc>,
}

/// Changes to the organisation; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "time_zone": "Europe/London", "holidays": ["2026-12-25", "2026-12-28"],
    "labels": {"provider_singular": "Coach", "provider_plural": "Coaches", "class_singular": "Programme", "class_plural": "Programmes"}
})))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Replaces the whole list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holidays: Option<Vec<NaiveDate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// 30 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_retention_days: Option<i64>,
    /// 1 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_retention_days: Option<i64>,
    /// 1 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_retention_days: Option<i64>,
    /// 7 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_job_retention_days: Option<i64>,
    /// 1 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_delivery_retention_days: Option<i64>,
    /// 7 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_delivery_retention_days: Option<i64>,
    /// 30 to 3650 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_retention_days: Option<i64>,
}
