//! Automations: "when this happens, do that", their run history, posted events and badges.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AttributeValue, Event, StepDelay};

/// How often an automation may run for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    EveryTime,
    OncePerContact,
    /// A second run needs 24 full hours after the first.
    #[serde(rename = "once_per_contact_per_24h")]
    OncePerContactPer24h,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConditionOperator {
    Is,
    IsNot,
    Contains,
    GreaterThan,
    LessThan,
    In,
}

/// "field operator value": `event.<key>` (the event's payload, and `event.type`),
/// `participant.<attribute>` (plus `participant.role`, `participant.email`, `participant.name`),
/// `program.id|name|status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AutomationCondition {
    pub field: String,
    pub operator: ConditionOperator,
    /// A text, number or flag; a list for `in`.
    pub value: AttributeValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AutomationActionType {
    /// `template`: one of the organisation's email templates, sent to the person.
    SendEmail,
    /// `text`: a chat message to the person, in their conversation with the organisation.
    SendChatMessage,
    /// `badge_id`: one of the organisation's badges, awarded to the person.
    AwardBadge,
    /// `step_id`: a step of the event's program, delivered to the person now.
    DeliverStep,
    /// `title` and `body`: an in-app (and push, through webhooks) notification.
    SendNotification,
    /// `url`: a JSON POST of the event and the action to this address.
    CallWebhook,
}

/// One action; it runs its `delay` after the previous action (the first: after the trigger and
/// the automation's own delay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AutomationAction {
    #[serde(rename = "type")]
    pub action_type: AutomationActionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<StepDelay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Creates or replaces an automation. Editing affects only events that arrive afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "Welcome new mentees", "trigger": "participant.joined", "program_ids": null,
    "frequency": "once_per_contact", "delay": {"amount": 10, "unit": "minutes"},
    "conditions": [{"field": "participant.role", "operator": "is", "value": "mentee"}],
    "actions": [
        {"type": "send_email", "template": "step_published"},
        {"type": "send_notification", "title": "Welcome!", "body": "Your first step is waiting.", "delay": {"amount": 1, "unit": "days"}}
    ],
    "active": true
})))]
#[serde(deny_unknown_fields)]
pub struct AutomationInput {
    /// Unique in the organisation.
    pub name: String,
    /// An event type (see `GET /events`), or an integration's `custom.<name>`.
    pub trigger: String,
    /// The programs it watches (drafts included); `null` for all.
    #[serde(default)]
    pub program_ids: Option<Vec<Uuid>>,
    pub frequency: Frequency,
    /// Waits this long after the trigger before the first action.
    #[serde(default)]
    pub delay: Option<StepDelay>,
    /// All must hold.
    #[serde(default)]
    pub conditions: Vec<AutomationCondition>,
    /// One to ten, run in order.
    pub actions: Vec<AutomationAction>,
    /// Created inactive unless `true`.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AutomationCounts {
    /// Events that matched its trigger and programs.
    pub runs: u64,
    pub actions_done: u64,
    pub actions_failed: u64,
    pub actions_pending: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90", "name": "Welcome new mentees", "trigger": "participant.joined",
    "program_ids": null, "frequency": "once_per_contact", "delay": null, "conditions": [],
    "actions": [{"type": "send_email", "template": "step_published"}], "active": true, "version": 2,
    "created_at": "2027-01-10T09:00:00Z", "updated_at": "2027-01-11T09:00:00Z",
    "counts": {"runs": 12, "actions_done": 11, "actions_failed": 0, "actions_pending": 1}
})))]
pub struct Automation {
    pub id: Uuid,
    pub name: String,
    pub trigger: String,
    pub program_ids: Option<Vec<Uuid>>,
    pub frequency: Frequency,
    pub delay: Option<StepDelay>,
    pub conditions: Vec<AutomationCondition>,
    pub actions: Vec<AutomationAction>,
    pub active: bool,
    /// Goes up with every edit, activation and deactivation.
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub counts: AutomationCounts,
    /// The secret that signs its `call_webhook` requests as Standard Webhooks describes (the
    /// `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, as a webhook endpoint's
    /// deliveries are signed). Only in the answers to creating and replacing an automation that
    /// has a `call_webhook` action; never listed or read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

/// Turns an automation on or off. Turning it off cancels its pending actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"active": false})))]
#[serde(deny_unknown_fields)]
pub struct SetAutomationActive {
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Conditions held and the frequency limit allowed it: its actions were scheduled.
    Ran,
    ConditionsNotMet,
    FrequencyLimited,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    /// Waiting for the action before it.
    Waiting,
    Scheduled,
    Done,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConditionOutcome {
    pub field: String,
    pub operator: ConditionOperator,
    pub holds: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunAction {
    pub position: u32,
    #[serde(rename = "type")]
    pub action_type: AutomationActionType,
    pub state: ActionState,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AutomationRun {
    pub id: Uuid,
    pub automation_id: Uuid,
    /// The automation's version the event met.
    pub version: u32,
    pub event: Event,
    pub outcome: RunOutcome,
    pub conditions: Vec<ConditionOutcome>,
    pub actions: Vec<RunAction>,
    pub created_at: DateTime<Utc>,
}

/// An event from an integration or a payment system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "event_type": "payment.paid", "idempotency_key": "stripe-evt-1Nx2",
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "payload": {"amount": 120, "currency": "EUR", "plan": "gold"}
})))]
#[serde(deny_unknown_fields)]
pub struct PostEvent {
    /// `payment.paid` or `custom.<name>`.
    pub event_type: String,
    /// The same key again records nothing new (the first event is returned).
    pub idempotency_key: String,
    #[serde(default)]
    pub person_id: Option<Uuid>,
    #[serde(default)]
    pub program_id: Option<Uuid>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Map<String, serde_json::Value>,
    /// Defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0ea0", "name": "First session", "description": "Met their mentor once.",
    "created_at": "2027-01-10T09:00:00Z"
})))]
pub struct Badge {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "First session", "description": "Met their mentor once."})))]
#[serde(deny_unknown_fields)]
pub struct CreateBadge {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0ea0", "name": "First session", "description": "Met their mentor once.",
    "created_at": "2027-01-10T09:00:00Z"}]})))]
pub struct BadgeList {
    pub items: Vec<Badge>,
}

/// A badge a person holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AwardedBadge {
    pub badge: Badge,
    pub awarded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{"badge": {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0ea0", "name": "First session", "description": "Met their mentor once.",
    "created_at": "2027-01-10T09:00:00Z"}, "awarded_at": "2027-01-12T09:00:00Z"}]})))]
pub struct AwardedBadgeList {
    pub items: Vec<AwardedBadge>,
}
