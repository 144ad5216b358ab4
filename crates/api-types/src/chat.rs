use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A conversation the caller takes part in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90", "kind": "admin", "subject": "Welcome",
    "program_id": null, "member_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20"],
    "unread_count": 1, "created_at": "2026-11-23T09:00:00Z"
})))]
pub struct Conversation {
    pub id: Uuid,
    /// `pairing` (a mentor and a mentee) or `admin` (from the program team).
    pub kind: String,
    pub subject: String,
    pub program_id: Option<Uuid>,
    pub member_ids: Vec<Uuid>,
    /// Messages from others since the caller last read the conversation.
    pub unread_count: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90", "kind": "admin", "subject": "Welcome", "program_id": null,
    "member_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f"], "unread_count": 0, "created_at": "2026-11-23T09:00:00Z"}]})))]
pub struct ConversationList {
    pub items: Vec<Conversation>,
}

/// A conversation from the program team (the caller) to one or more people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f"], "subject": "Welcome", "program_id": null
})))]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    pub person_ids: Vec<Uuid>,
    #[serde(default)]
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e91", "conversation_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90",
    "sender_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "body": "Welcome to the program!", "created_at": "2026-11-23T09:00:00Z"
})))]
pub struct ChatMessage {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// `null` when Cohort itself posted it (an automation).
    pub sender_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e91", "conversation_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90",
    "sender_id": null, "body": "Welcome!", "created_at": "2026-11-23T09:00:00Z"}], "next_cursor": null})))]
pub struct ChatMessagePage {
    /// Oldest first within the page; pages go back in time.
    pub items: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"body": "Looking forward to our first meeting!"})))]
#[serde(deny_unknown_fields)]
pub struct SendChatMessage {
    pub body: String,
}
