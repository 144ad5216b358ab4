use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProgramStatus {
    Draft,
    Published,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "2027 Spring Cohort",
    "description": "Peer mentoring for first-year students.", "status": "published",
    "time_zone": "America/New_York", "participant_editable_attributes": ["languages", "pronouns"],
    "mentor_count": 12, "mentee_count": 40,
    "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
})))]
pub struct Program {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub status: ProgramStatus,
    /// IANA time zone of the program's schedules; defaults to the organisation's.
    pub time_zone: String,
    /// The profile attributes its active participants may change themselves (`PATCH /me`).
    #[serde(default)]
    pub participant_editable_attributes: Vec<String>,
    /// Active mentors.
    pub mentor_count: i64,
    /// Active mentees.
    pub mentee_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "2027 Spring Cohort", "description": "Peer mentoring for first-year students.", "time_zone": "America/New_York"
})))]
#[serde(deny_unknown_fields)]
pub struct CreateProgram {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Defaults to the organisation's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Changes to a program; absent fields stay as they are. Status moves draft → published → archived,
/// and an archived program can be published again; it never returns to draft.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "published"})))]
#[serde(deny_unknown_fields)]
pub struct UpdateProgram {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProgramStatus>,
    /// Replaces the attribute keys its participants may change themselves; `[]`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_editable_attributes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ProgramsQuery {
    #[serde(default)]
    pub status: Option<ProgramStatus>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    Mentor,
    Mentee,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    Active,
    Removed,
}

/// A person taking part in a program in one role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org",
    "role": "mentor", "status": "active", "joined_at": "2026-11-23T09:00:00Z", "removed_at": null
})))]
pub struct Participant {
    pub id: Uuid,
    pub program_id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: ParticipantRole,
    pub status: ParticipantStatus,
    /// When the person (last) joined; step delivery rules compare against it.
    pub joined_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "role": "mentee"
})))]
#[serde(deny_unknown_fields)]
pub struct AddParticipant {
    pub person_id: Uuid,
    pub role: ParticipantRole,
}

/// Adds up to 1,000 participants at once: all of them, or none when any entry is invalid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"participants": [
    {"person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "role": "mentee"},
    {"person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20", "role": "mentor"}
]})))]
#[serde(deny_unknown_fields)]
pub struct AddParticipants {
    pub participants: Vec<AddParticipant>,
}

/// The participants that a bulk add created or re-activated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"added": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org",
    "role": "mentee", "status": "active", "joined_at": "2026-11-23T09:00:00Z", "removed_at": null
}]})))]
pub struct AddedParticipants {
    pub added: Vec<Participant>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ParticipantsQuery {
    #[serde(default)]
    pub role: Option<ParticipantRole>,
    /// Defaults to `active`.
    #[serde(default)]
    pub status: Option<ParticipantStatus>,
    /// Part of a name or email, case-insensitive.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A program the caller takes or took part in, their role and where their membership stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "participant_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "program_name": "2027 Spring Cohort", "program_description": "Peer mentoring for first-year students.",
    "program_status": "published", "time_zone": "America/New_York",
    "role": "mentee", "status": "active", "joined_at": "2026-11-23T09:00:00Z", "removed_at": null
})))]
pub struct MyProgram {
    /// The membership's id (one per program and role).
    pub participant_id: Uuid,
    pub program_id: Uuid,
    pub program_name: String,
    pub program_description: String,
    pub program_status: ProgramStatus,
    /// The program's IANA time zone (scheduled steps go out in it).
    pub time_zone: String,
    pub role: ParticipantRole,
    /// `removed` when an admin took the caller out of the program.
    pub status: ParticipantStatus,
    pub joined_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}
