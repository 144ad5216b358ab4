use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Organization, ParticipantRole, Person};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "email": "admin@example.org", "password": "correct horse battery staple"
})))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The organisation's slug; needed only when the email belongs to people in several organisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"refresh_token": "rt_3q2-7wEXAMPLEyv0"})))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Access token (a JWT, short-lived) and the refresh token that replaces it.
/// Each refresh rotates the refresh token; presenting a used one revokes the whole session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "rt_3q2-7wEXAMPLEyv0",
    "refresh_expires_in": 2592000
})))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// The caller: who they are, their organisation, and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "email": "admin@example.org", "name": "Ada Admin",
        "bio": "", "time_zone": null, "attributes": {}, "is_admin": true,
        "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
    },
    "organization": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-000000000001", "name": "Peer Mentoring Demo", "slug": "peer-mentoring-demo",
        "time_zone": "America/New_York", "holidays": ["2026-12-25"],
        "labels": {"provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors", "class_singular": "Course", "class_plural": "Courses"},
        "created_at": "2026-11-23T09:00:00Z"
    },
    "via": "password",
    "memberships": [],
    "provider_id": null
})))]
pub struct Me {
    pub person: Person,
    pub organization: Organization,
    /// `password` for a logged-in person; `api_key` for an integration (then `person` is the key's creator).
    pub via: String,
    pub memberships: Vec<Membership>,
    /// The caller's provider id (their person id) when they give appointments, else `null`: a
    /// provider has a schedule and an availability of their own (`/providers/{id}/availability`).
    #[serde(default)]
    pub provider_id: Option<Uuid>,
}

/// A program the caller takes part in, and in which role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub program_id: Uuid,
    pub program_name: String,
    pub role: ParticipantRole,
    pub joined_at: DateTime<Utc>,
}

/// An API key for an integration. The secret is shown only once, when the key is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e22", "name": "HR sync", "prefix": "ck_1a2b3c4d",
    "scopes": ["people:write", "events:write"], "expires_at": "2027-11-23T09:00:00Z",
    "created_at": "2026-11-23T09:00:00Z", "last_used_at": null, "revoked_at": null
})))]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    /// What the key may reach (see `CreateApiKey.scopes`).
    pub scopes: Vec<String>,
    /// When the key stops working; `null`: when it is revoked.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "HR sync", "scopes": ["people:write", "events:write"], "expires_at": "2027-11-23T09:00:00Z"
})))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// What the key may reach: `all`; `read` (every area, reading only); or areas, each
    /// `<area>:read` or `<area>:write` (writing includes reading), of `people` (people and
    /// `/me`), `programs` (programs, their participants, steps and pairing), `events`,
    /// `automations` (automations, badges, email templates), `booking` (services, providers,
    /// bookings, booking settings), `data` (imports and exports), `webhooks`, `messages`
    /// (conversations, notifications, the notification log) and `organization` (the organisation
    /// and the audit log). Omitted: `["all"]`. Whatever its scopes, a key never manages API keys,
    /// passwords or admin rights.
    #[serde(default = "all_scopes")]
    #[cfg_attr(feature = "openapi", schema(default = json!(["all"])))]
    pub scopes: Vec<String>,
    /// When the key stops working; omitted: when it is revoked.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

fn all_scopes() -> Vec<String> {
    vec!["all".to_owned()]
}

/// A new key with its secret. Store the secret now: Cohort keeps only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "key": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e22", "name": "HR sync", "prefix": "ck_1a2b3c4d",
        "scopes": ["people:write", "events:write"], "expires_at": "2027-11-23T09:00:00Z",
        "created_at": "2026-11-23T09:00:00Z", "last_used_at": null, "revoked_at": null
    },
    "secret": "ck_1a2b3c4d_9fEXAMPLEsecretQ2"
})))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// Send it as `X-Api-Key: <secret>`.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "ok"})))]
pub struct Health {
    pub status: String,
}

/// Whom to invite to set a password: listed people, or everyone in a program who cannot log in
/// yet. With `preview`, nothing is sent: the answer counts and shows the email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "preview": true
})))]
#[serde(deny_unknown_fields)]
pub struct InvitePeople {
    /// At most 1,000 people of the organisation; those who have a password are skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<Uuid>>,
    /// Everyone active in this program who has no password yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_id: Option<Uuid>,
    #[serde(default)]
    pub preview: bool,
}

/// What inviting did, or would do with `preview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "invited": 41, "skipped_with_password": 3, "preview": false, "email": null
})))]
pub struct AccountInvitations {
    /// Invitations sent (or that would be sent).
    pub invited: u32,
    /// Chosen people who can log in already: not invited.
    pub skipped_with_password: u32,
    pub preview: bool,
    /// With `preview`: the email as the first person would get it (its link does not work).
    pub email: Option<crate::RenderedEmail>,
}

/// A one-time link's token and the password to set with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "token": "lt_Zm9vYmFyYmF6cXV4EXAMPLE", "password": "correct horse battery staple"
})))]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub token: String,
    pub password: String,
}

/// Asks for a password reset link by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "amara.n@example.org"})))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
    /// The organisation's slug, to reset the password of one organisation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

/// The same answer whether or not the address has an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "message": "If an account uses this address, a link to choose a new password is on its way. It works for an hour."
})))]
pub struct PasswordResetAccepted {
    pub message: String,
}

/// Changes the caller's own password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "current_password": "correct horse battery staple", "new_password": "a longer horse battery staple"
})))]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}
