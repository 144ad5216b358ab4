use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `user_led_with_approval`: the mentee asks, the mentor approves or declines. `user_led`: the
/// request is the pairing. `admin_led`: admins pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairingProcess {
    UserLedWithApproval,
    UserLed,
    AdminLed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "process": "user_led_with_approval", "mentor_capacity": 3, "request_expiry_days": 3,
    "remind_before_expiry": true, "unresponsive_days": 30, "enabled": true,
    "checklist": [{"key": "participants_added", "label": "Add the program's mentors and mentees", "done": true}]
})))]
pub struct PairingSettings {
    pub process: PairingProcess,
    /// How many mentees a mentor takes, unless the mentor has their own capacity.
    pub mentor_capacity: u32,
    /// Business days (organisation time zone and holidays) a mentor has to answer a request.
    pub request_expiry_days: u32,
    /// Remind the mentor one business day before the request expires.
    pub remind_before_expiry: bool,
    /// Days without a session, message or activity after which a pairing needs a check-in.
    pub unresponsive_days: u32,
    /// Whether mentees can request mentors now. Turning it on sends nothing by itself.
    pub enabled: bool,
    /// The launch checklist, each item marked done by an admin.
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistItem {
    pub key: String,
    pub label: String,
    pub done: bool,
}

/// Changes to the pairing settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"enabled": true, "mentor_capacity": 2})))]
#[serde(deny_unknown_fields)]
pub struct UpdatePairingSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<PairingProcess>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentor_capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_expiry_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_before_expiry: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresponsive_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The keys of the checklist items that are done (replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist_done: Option<Vec<String>>,
}

/// A mentee asks a mentor. Mentees ask for themselves; admins may ask on a mentee's behalf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "note": "I'd love to learn about research careers."
})))]
#[serde(deny_unknown_fields)]
pub struct CreateMentorRequest {
    /// The mentor (a person who takes part as mentor).
    pub mentor_id: Uuid,
    /// Admins only: the mentee the request is for; mentees leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentee_id: Option<Uuid>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Approved,
    Declined,
    Expired,
    /// The mentee took the request back before the mentor answered.
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
    "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
    "status": "open", "note": "I'd love to learn about research careers.", "decline_message": null,
    "created_at": "2027-01-11T15:00:00Z", "expires_at": "2027-01-14T15:00:00Z", "decided_at": null
})))]
pub struct MentorRequest {
    pub id: Uuid,
    pub program_id: Uuid,
    pub mentee_id: Uuid,
    pub mentee_name: String,
    pub mentor_id: Uuid,
    pub mentor_name: String,
    pub status: RequestStatus,
    pub note: String,
    /// The mentor's message when declining, passed on to the mentee.
    pub decline_message: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When an open request expires unanswered (business days in the organisation's zone).
    pub expires_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"message": "I'm at capacity this term, but Marcus would be a great fit!"})))]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// Passed on to the mentee in the "request declined" email.
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
    "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
    "request_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "created_at": "2027-01-12T09:00:00Z",
    "ended_at": null, "end_reason": null
})))]
pub struct Pairing {
    pub id: Uuid,
    pub program_id: Uuid,
    pub mentee_id: Uuid,
    pub mentee_name: String,
    pub mentor_id: Uuid,
    pub mentor_name: String,
    pub request_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"reason": "The mentee left the university."})))]
#[serde(deny_unknown_fields)]
pub struct EndPairing {
    pub reason: String,
}

/// What approving a request made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "request": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
        "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
        "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
        "status": "approved", "note": "", "decline_message": null, "created_at": "2027-01-11T15:00:00Z",
        "expires_at": "2027-01-14T15:00:00Z", "decided_at": "2027-01-12T09:00:00Z"
    },
    "pairing": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
        "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
        "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
        "request_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "created_at": "2027-01-12T09:00:00Z",
        "ended_at": null, "end_reason": null
    }
})))]
pub struct RequestDecision {
    pub request: MentorRequest,
    /// The pairing an approval (or a `user_led` request) created.
    pub pairing: Option<Pairing>,
}

/// The token of a mentor's "Accept" or "Decline" link from a request email: it authorises one
/// answer to that one request, as its mentor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"token": "lt_Zm9vYmFyYmF6cXV4EXAMPLE"})))]
#[serde(deny_unknown_fields)]
pub struct RequestAnswerLink {
    pub token: String,
}

/// Declines a request with the link's token; the message goes to the mentee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "token": "lt_Zm9vYmFyYmF6cXV4EXAMPLE", "message": "I'm at capacity this term, but Marcus would be a great fit!"
})))]
#[serde(deny_unknown_fields)]
pub struct DeclineWithLink {
    pub token: String,
    /// Passed on to the mentee in the "request declined" email; may be empty.
    #[serde(default)]
    pub message: String,
}

/// A request as its mentor sees it before answering: who asks, their note and profile, and how
/// well the two fit by the program's auto-pair rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "request": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
        "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
        "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
        "status": "open", "note": "I'd love to learn about research careers.", "decline_message": null,
        "created_at": "2027-01-11T15:00:00Z", "expires_at": "2027-01-14T15:00:00Z", "decided_at": null
    },
    "program_name": "2027 Spring Cohort",
    "mentee_bio": "First-year biology student, curious about labs.",
    "mentee_attributes": {"department": "Biology", "interests": ["research", "hiking"]},
    "score": 50,
    "reasons": [{"key": "interests", "source": "attribute", "rule": "similar", "points": 50, "shared": ["research"]}]
})))]
pub struct RequestToAnswer {
    pub request: MentorRequest,
    pub program_name: String,
    pub mentee_bio: String,
    pub mentee_attributes: crate::Attributes,
    /// Compatibility by the program's auto-pair rules; `null` when the program has no rules or
    /// they rule the pair out.
    pub score: Option<i32>,
    /// What the score is made of, one entry per criterion that added points.
    pub reasons: Vec<ScoreReason>,
}

/// The three lists of unpaired mentees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnpairedTab {
    /// Never invited by an admin, no open request.
    NotInvited,
    /// Invited, no request yet.
    Invited,
    /// Waiting for a mentor's answer.
    Requested,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UnpairedQuery {
    /// Defaults to `not_invited`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub tab: Option<UnpairedTab>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnpairedMentee {
    /// The mentee's membership (to remove them from the program).
    pub participant_id: Uuid,
    pub person_id: Uuid,
    pub name: String,
    pub email: String,
    pub first_invited_at: Option<DateTime<Utc>>,
    pub last_invited_at: Option<DateTime<Utc>>,
    /// The open request, on the `requested` tab.
    pub request_id: Option<Uuid>,
    pub requested_mentor: Option<String>,
}

/// Whom to invite: the given mentees, or (without `mentee_ids`) every unpaired mentee not yet
/// invited and without an open request ("invite all").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"mentee_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21"]})))]
#[serde(deny_unknown_fields)]
pub struct InviteMentees {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentee_ids: Option<Vec<Uuid>>,
}

/// What inviting would do: how many emails would go out, and the email as the first recipient
/// would get it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "would_send": 41, "skipped_recently_invited": 2,
    "email": {"subject": "Submit your mentor preferences for 2027 Spring Cohort",
              "html": "<p>Hi Amara,</p>", "text": "Hi Amara,"}
})))]
pub struct InvitationPreview {
    pub would_send: u32,
    /// Invited less than a day ago: not invited again yet.
    pub skipped_recently_invited: u32,
    /// None when nobody would be invited.
    pub email: Option<crate::RenderedEmail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"sent": 41, "skipped_recently_invited": 2})))]
pub struct InvitationsSent {
    pub sent: u32,
    pub skipped_recently_invited: u32,
}

/// A mentor a mentee can ask, with the room they have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "bio": "Third-year chemistry student.",
    "own_capacity": null, "capacity": 3, "active_pairings": 1, "score": 45,
    "reasons": [{"key": "goals", "source": "answer", "rule": "similar", "points": 45, "shared": ["research"]}]
})))]
pub struct AvailableMentor {
    pub person_id: Uuid,
    pub name: String,
    pub bio: String,
    /// Set for this mentor; `null` when the program's capacity applies.
    pub own_capacity: Option<u32>,
    pub capacity: u32,
    pub active_pairings: u32,
    /// Compatibility with the mentee asking, by the program's auto-pair rules; `null` when the
    /// rules rule the pair out or no mentee is asking.
    pub score: Option<i32>,
    /// What the score is made of, one entry per criterion that added points; empty without a score.
    #[serde(default)]
    pub reasons: Vec<ScoreReason>,
}

/// Which mentors to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MentorsQuery {
    /// Admins: list mentors without room too.
    #[serde(default)]
    pub include_full: Option<bool>,
    /// Admins: order and score the mentors for this mentee.
    #[serde(default)]
    pub mentee_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "bio": "Third-year chemistry student.",
    "own_capacity": null, "capacity": 3, "active_pairings": 1, "score": 45,
    "reasons": [{"key": "goals", "source": "answer", "rule": "similar", "points": 45, "shared": ["research"]}]
}], "requests_open": true})))]
pub struct AvailableMentorList {
    pub items: Vec<AvailableMentor>,
    /// Whether the program's mentees may request a mentor now: pairing is on and mentees choose
    /// (`user_led` or `user_led_with_approval`).
    #[serde(default)]
    pub requests_open: bool,
}

/// A pairing's health: `too_early` (young and quiet), `on_track` (activity within the program's
/// unresponsive window), `needs_check_in` (nothing for the whole window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairingHealthStatus {
    TooEarly,
    OnTrack,
    NeedsCheckIn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingHealthRow {
    pub pairing_id: Uuid,
    pub mentee_name: String,
    pub mentor_name: String,
    pub status: PairingHealthStatus,
    /// The last message between them, step either of them completed, or session they had (a
    /// completed booking, either of them the provider) since they were paired.
    pub last_activity_at: Option<DateTime<Utc>>,
    pub paired_at: DateTime<Utc>,
    /// Sessions they had together since they were paired.
    pub sessions_completed: u32,
}

/// A program's pairing health at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "active_pairings": 12, "on_track": 9, "needs_check_in": 2, "too_early": 1,
    "open_requests": 3, "expired_requests": 1, "mentors_at_capacity": 4,
    "pairings": [{"pairing_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "mentee_name": "Amara N",
                  "mentor_name": "Talia K", "status": "on_track", "last_activity_at": "2027-02-01T14:00:00Z",
                  "paired_at": "2027-01-12T09:00:00Z", "sessions_completed": 2}],
    "sessions_completed": 17,
    "weekly": [{"week_start": "2027-01-11", "active_pairings": 12, "pairings_started": 3, "pairings_ended": 1, "requests_made": 5, "requests_expired": 1, "sessions_completed": 4}]
})))]
pub struct PairingHealth {
    pub active_pairings: u32,
    pub on_track: u32,
    pub needs_check_in: u32,
    pub too_early: u32,
    pub open_requests: u32,
    pub expired_requests: u32,
    pub mentors_at_capacity: u32,
    /// Sessions the active pairings have had (completed bookings between their two people).
    pub sessions_completed: u32,
    /// Every active pairing, those needing a check-in first.
    pub pairings: Vec<PairingHealthRow>,
    /// The last 12 weeks, oldest first (weeks start on Monday in the organisation's time zone).
    pub weekly: Vec<HealthWeek>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthWeek {
    pub week_start: chrono::NaiveDate,
    /// Active pairings at the end of the week.
    pub active_pairings: u32,
    pub pairings_started: u32,
    pub pairings_ended: u32,
    pub requests_made: u32,
    pub requests_expired: u32,
    /// Sessions paired people had in the week (completed bookings, by their start).
    pub sessions_completed: u32,
}

/// A mentor's own capacity; `null` goes back to the program's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"capacity": 1})))]
#[serde(deny_unknown_fields)]
pub struct SetMentorCapacity {
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "own_capacity": 1, "capacity": 1, "active_pairings": 1
})))]
pub struct MentorCapacity {
    pub person_id: Uuid,
    /// Set for this mentor; `null` when the program's applies.
    pub own_capacity: Option<u32>,
    /// What applies: their own or the program's. Lowering it below `active_pairings` ends no
    /// pairing; the mentor just takes nobody new.
    pub capacity: u32,
    pub active_pairings: u32,
}

/// Where an auto-pair criterion reads its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CriterionSource {
    /// A profile attribute of the person.
    Attribute,
    /// The participant's answer to the program's questionnaire ("mentor preferences").
    Answer,
}

/// `similar`: the weight times the share of values in common. `different`: the weight when both
/// have values and share none. `must_match` / `must_differ`: hard constraints (weight ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CriterionRule {
    Similar,
    Different,
    MustMatch,
    MustDiffer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// The attribute or answer's name.
    pub key: String,
    pub source: CriterionSource,
    pub rule: CriterionRule,
    /// Points, 0 to 100 (ignored by hard constraints).
    #[serde(default)]
    pub weight: u32,
}

/// A (mentee, mentor) pair, by person id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PairRef {
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
}

/// How auto-pair scores a (mentee, mentor) pair, set by the program's admins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "criteria": [
        {"key": "language", "source": "attribute", "rule": "must_match", "weight": 0},
        {"key": "department", "source": "attribute", "rule": "different", "weight": 20},
        {"key": "goals", "source": "answer", "rule": "similar", "weight": 50}
    ],
    "manager_attribute": "manager_email",
    "excluded_pairs": [{"mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20"}]
})))]
#[serde(deny_unknown_fields)]
pub struct AutoPairRules {
    /// Up to 20 criteria, one per attribute or answer.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// An attribute holding the email of the person's manager: nobody is paired within their own
    /// reporting line.
    #[serde(default)]
    pub manager_attribute: Option<String>,
    /// Pairs never to propose.
    #[serde(default)]
    pub excluded_pairs: Vec<PairRef>,
}

/// One criterion's contribution to a pair's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreReason {
    pub key: String,
    pub source: CriterionSource,
    pub rule: CriterionRule,
    pub points: i32,
    /// The values the two share, lower-cased.
    pub shared: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposedPair {
    pub mentee_id: Uuid,
    pub mentee_name: String,
    pub mentor_id: Uuid,
    pub mentor_name: String,
    pub score: i32,
    pub reasons: Vec<ScoreReason>,
    /// Kept as it is when the admins re-run auto-pair.
    pub locked: bool,
}

/// A person's dual price in the optimality certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    pub person_id: Uuid,
    pub price: i64,
}

/// Proof that the unlocked part of the proposal is optimal: linear-programming dual prices `u`
/// (mentees) and `v` (mentors) with `u_i + v_j >= score(i, j) + pair_bonus` for every allowed
/// pair, all prices non-negative, and `primal == dual` where `primal` is the sum of
/// `score + pair_bonus` over the proposed unlocked pairs and `dual` is the sum of `u` plus each
/// mentor's remaining room times `v`. The server checks it before answering (`verified`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptimalityCertificate {
    pub verified: bool,
    pub pair_bonus: i64,
    pub primal: i64,
    pub dual: i64,
    pub mentee_prices: Vec<Price>,
    /// With each mentor's room left after the locked pairs.
    pub mentor_prices: Vec<MentorPrice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MentorPrice {
    pub person_id: Uuid,
    pub price: i64,
    pub room: u32,
}

/// An auto-pair proposal: nothing is paired until an admin confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "created_at": "2026-11-23T10:00:00Z",
    "pairs": [{"mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentee_name": "Ada Mentee",
        "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20", "mentor_name": "Grace Mentor", "score": 50,
        "reasons": [{"key": "goals", "source": "answer", "rule": "similar", "points": 50, "shared": ["research"]}],
        "locked": false}],
    "unpaired": [], "total_score": 50, "mentees_considered": 1,
    "certificate": {"verified": true, "pair_bonus": 4294967296_i64, "primal": 4294967346_i64, "dual": 4294967346_i64,
        "mentee_prices": [{"person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "price": 4294967346_i64}],
        "mentor_prices": [{"person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20", "price": 0, "room": 2}]}
})))]
pub struct AutoPairProposal {
    /// Name it when confirming: a proposal re-run or changed since gets a new id.
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub pairs: Vec<ProposedPair>,
    /// Mentees left without a mentor (no allowed mentor with room).
    pub unpaired: Vec<PersonName>,
    pub total_score: i64,
    pub mentees_considered: u32,
    pub certificate: OptimalityCertificate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonName {
    pub person_id: Uuid,
    pub name: String,
}

/// Runs auto-pair. Locked pairs of the current proposal stay; pairs removed from it are not
/// proposed again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"keep_locked": true})))]
#[serde(deny_unknown_fields)]
pub struct RunAutoPair {
    /// Keep the current proposal's locked pairs and removals (default true).
    #[serde(default)]
    pub keep_locked: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposedPairAction {
    Lock,
    Unlock,
    /// Drops the pair from the proposal; re-running will not propose it again.
    Remove,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"action": "lock"})))]
#[serde(deny_unknown_fields)]
pub struct AdjustProposedPair {
    pub action: ProposedPairAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"proposal_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30"})))]
#[serde(deny_unknown_fields)]
pub struct ConfirmAutoPair {
    pub proposal_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"pairings_created": 12})))]
pub struct AutoPairConfirmed {
    pub pairings_created: u32,
}

/// A participant's answers to the program's questionnaire: each a text or a list of texts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"answers": {"goals": ["research", "leadership"], "meeting": "online"}})))]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireAnswers {
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, crate::AttributeValue>))]
    pub answers: crate::Attributes,
}

/// The other person of one of the caller's pairings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "bio": "Third-year chemistry student.", "role": "mentor"
})))]
pub struct PairedPerson {
    pub id: Uuid,
    pub name: String,
    pub bio: String,
    /// Their role in the pairing: the caller's mentor, or one of the caller's mentees.
    pub role: crate::ParticipantRole,
}

/// One of the caller's active pairings: their mentor, or one of their mentees, and the pair's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "pairing_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e71", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "program_name": "2027 Spring Cohort", "my_role": "mentee",
    "partner": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "bio": "Third-year chemistry student.", "role": "mentor"},
    "conversation_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "paired_at": "2027-01-12T10:00:00Z"
})))]
pub struct MyPairing {
    pub pairing_id: Uuid,
    pub program_id: Uuid,
    pub program_name: String,
    /// The caller's side of the pairing.
    pub my_role: crate::ParticipantRole,
    pub partner: PairedPerson,
    /// The pair's conversation (`/conversations/{id}/messages`), opened when they were paired.
    pub conversation_id: Option<Uuid>,
    pub paired_at: DateTime<Utc>,
}
