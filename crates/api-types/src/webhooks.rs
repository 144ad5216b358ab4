use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An integration's endpoint. Deliveries are signed as Standard Webhooks describes
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 of `id.timestamp.body`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "url": "https://hr.example.org/cohort-hook",
    "description": "HR sync", "event_types": ["pairing.created"], "enabled": true,
    "disabled_reason": null, "created_at": "2026-11-23T09:00:00Z"
})))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Event types delivered here; empty means all.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why Cohort turned the endpoint off (after persistent failures), if it did.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "url": "https://hr.example.org/cohort-hook", "description": "HR sync", "event_types": ["pairing.created"]
})))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    pub url: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// The endpoint and its signing secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "endpoint": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "url": "https://hr.example.org/cohort-hook",
                 "description": "HR sync", "event_types": [], "enabled": true, "disabled_reason": null,
                 "created_at": "2026-11-23T09:00:00Z"},
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
})))]
pub struct CreatedWebhook {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// Changes to an endpoint; `enabled: true` turns a disabled endpoint back on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"enabled": true})))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// One event sent (or being sent) to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e81", "webhook_id": "msg_0193b8a45f1e7c2a9d3e6a7b8c9d0e81",
    "event_type": "webhook.test", "status": "succeeded", "attempts": 1, "last_status_code": 200,
    "last_error": null, "created_at": "2026-11-23T09:00:00Z", "delivered_at": "2026-11-23T09:00:01Z"
})))]
pub struct WebhookDelivery {
    pub id: Uuid,
    /// The `webhook-id` header: the same for every attempt, so receivers can drop repeats.
    pub webhook_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "url": "https://hr.example.org/cohort-hook",
    "description": "HR sync", "event_types": [], "enabled": true, "disabled_reason": null,
    "created_at": "2026-11-23T09:00:00Z"}]})))]
pub struct WebhookEndpointList {
    pub items: Vec<WebhookEndpoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e81", "webhook_id": "msg_0193b8a45f1e7c2a9d3e6a7b8c9d0e81",
    "event_type": "webhook.test", "status": "pending", "attempts": 0, "last_status_code": null,
    "last_error": null, "created_at": "2026-11-23T09:00:00Z", "delivered_at": null}], "next_cursor": null})))]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDelivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
