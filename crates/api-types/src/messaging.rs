use serde::{Deserialize, Serialize};

/// One of the emails Cohort sends, in the organisation's wording (or the default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "key": "invitation", "name": "Invitation: submit your mentor preferences",
    "description": "Sent to a mentee invited to choose a mentor.",
    "subject": "Submit your mentor preferences for {{ program.name }}",
    "html": "<p>Hi {{ recipient.first_name }},</p><p><a href=\"{{ link }}\">Choose your mentor</a></p>",
    "text": "Hi {{ recipient.first_name }},\n\nChoose your mentor: {{ link }}",
    "customized": false,
    "placeholders": ["organization.name", "recipient.first_name", "recipient.name", "program.name", "link"]
})))]
pub struct EmailTemplate {
    pub key: String,
    pub name: String,
    pub description: String,
    /// Templates use `{{ placeholder }}` (minijinja); HTML output is escaped.
    pub subject: String,
    pub html: String,
    pub text: String,
    /// False while the built-in default applies.
    pub customized: bool,
    /// The placeholders this email can use.
    pub placeholders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "key": "invitation", "name": "Invitation: submit your mentor preferences",
    "description": "Sent to a mentee invited to choose a mentor.",
    "subject": "Submit your mentor preferences for {{ program.name }}",
    "html": "<p>Hi {{ recipient.first_name }}</p>", "text": "Hi {{ recipient.first_name }}",
    "customized": false, "placeholders": ["recipient.first_name", "program.name"]
}]})))]
pub struct EmailTemplateList {
    pub items: Vec<EmailTemplate>,
}

/// The organisation's wording of one email. Every placeholder must be one the email offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "subject": "Pick your mentor for {{ program.name }}",
    "html": "<p>Hello {{ recipient.first_name }}!</p><p><a href=\"{{ link }}\">Pick a mentor</a></p>",
    "text": "Hello {{ recipient.first_name }}!\n\nPick a mentor: {{ link }}"
})))]
#[serde(deny_unknown_fields)]
pub struct UpdateEmailTemplate {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Renders the email with sample data; absent parts use the saved (or default) wording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"subject": "Pick your mentor for {{ program.name }}"})))]
#[serde(deny_unknown_fields)]
pub struct PreviewEmail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "subject": "Pick your mentor for 2027 Spring Cohort",
    "html": "<p>Hello Amara!</p><p><a href=\"https://cohort.example/invitations/sample\">Pick a mentor</a></p>",
    "text": "Hello Amara!\n\nPick a mentor: https://cohort.example/invitations/sample"
})))]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// A test email on its way (through the outbox) to the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "to": "admin@example.org", "delivery_key": "test-email:0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e99"
})))]
pub struct TestEmailQueued {
    pub to: String,
    pub delivery_key: String,
}

/// An entry of a person's in-app feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "kind": "step_published",
    "title": "Schedule your first meeting", "body": "Find a time that suits you both.",
    "link": "/steps/0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e71", "created_at": "2026-11-23T09:00:00Z", "read_at": null
})))]
pub struct Notification {
    pub id: uuid::Uuid,
    /// What caused it: `message`, `step_published`, `pairing_created`, …
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of the caller's feed, newest first, with how many are unread in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "items": [{"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "kind": "message", "title": "From your program team",
               "body": "Welcome aboard!", "link": null, "created_at": "2026-11-23T09:00:00Z", "read_at": null}],
    "next_cursor": null, "unread_count": 1
})))]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct NotificationsQuery {
    /// Only unread notifications.
    #[serde(default)]
    pub unread: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A message from the program team to one person's in-app feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"title": "From your program team", "body": "Welcome aboard!"})))]
#[serde(deny_unknown_fields)]
pub struct SendNotification {
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A notification as the organisation's log shows it: with its recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "notification": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "kind": "message", "title": "From your program team",
                     "body": "Welcome aboard!", "link": null, "created_at": "2026-11-23T09:00:00Z", "read_at": null},
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "person_name": "Talia K"
})))]
pub struct LoggedNotification {
    pub notification: Notification,
    pub person_id: uuid::Uuid,
    pub person_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [], "next_cursor": null})))]
pub struct NotificationLogPage {
    pub items: Vec<LoggedNotification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
