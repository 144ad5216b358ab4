use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who sees a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ViewerType {
    All,
    Mentee,
    Mentor,
}

/// Where a step sends the participant; `open_link` carries `link_url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    GoToLearning,
    ScheduleMeeting,
    SetGoal,
    TakeSurvey,
    SendMessage,
    OpenLink,
}

/// `instant`: on submit, to every current participant of the viewer type and to everyone who
/// joins later. `scheduled`: at `scheduled_for` (program time) to those who are participants
/// then. `triggered`: the `delay` after a participant's `trigger`, for participants who joined
/// after the step was created (and, with `include_existing`, also those from before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PublishType {
    Instant,
    Scheduled,
    Triggered,
}

/// What a participant does that a triggered step reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepTrigger {
    /// The participant's first pairing.
    FirstMatch,
    /// A pairing with no session, message or activity for the program's unresponsive window.
    FirstUnresponsiveMatch,
    JoinedProgram,
    FirstSessionCompleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DelayUnit {
    Minutes,
    Hours,
    Days,
}

/// How long after the trigger: minutes and hours are elapsed time, days are calendar days in
/// the program's time zone (same wall-clock time). At most 366 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepDelay {
    pub amount: u32,
    pub unit: DelayUnit,
}

/// A step as an admin writes it (create, and edit, which replaces every field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "title": "Schedule your first meeting", "description": "Find a time that suits you both.",
    "viewer_type": "all", "action_type": "schedule_meeting", "publish_type": "scheduled",
    "scheduled_for": "2027-02-01T09:00:00", "due_date": "2027-02-14"
})))]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub viewer_type: ViewerType,
    pub action_type: ActionType,
    /// Required for `open_link`: an http(s) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
    pub publish_type: PublishType,
    /// `scheduled` only: local date and time in the program's time zone. A time the clocks skip
    /// (spring forward) is refused; one that happens twice (fall back) means the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "2027-02-01T09:00:00"))]
    pub scheduled_for: Option<NaiveDateTime>,
    /// `triggered` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<StepTrigger>,
    /// `triggered` only; none means at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<StepDelay>,
    /// `triggered` only: also reach participants who were in the program before the step was
    /// created, when their trigger fires. Off by default.
    #[serde(default)]
    pub include_existing: bool,
    /// The last day to complete the step (program time); after it, open deliveries count as missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
}

/// Deliveries of a step and what participants did with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepCounts {
    pub delivered: i64,
    pub opened: i64,
    pub completed: i64,
    pub missed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e50", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "title": "Schedule your first meeting", "description": "Find a time that suits you both.",
    "viewer_type": "all", "action_type": "schedule_meeting", "link_url": null, "publish_type": "scheduled",
    "scheduled_for": "2027-02-01T09:00:00", "publish_at": "2027-02-01T14:00:00Z", "time_zone": "America/New_York",
    "trigger": null, "delay": null, "include_existing": false, "due_date": "2027-02-14",
    "counts": {"delivered": 52, "opened": 40, "completed": 31, "missed": 0},
    "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
})))]
pub struct Step {
    pub id: Uuid,
    pub program_id: Uuid,
    pub title: String,
    pub description: String,
    pub viewer_type: ViewerType,
    pub action_type: ActionType,
    pub link_url: Option<String>,
    pub publish_type: PublishType,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub scheduled_for: Option<NaiveDateTime>,
    /// The instant a scheduled step publishes (UTC).
    pub publish_at: Option<DateTime<Utc>>,
    /// The program's time zone, in which `scheduled_for` and `due_date` are read.
    pub time_zone: String,
    pub trigger: Option<StepTrigger>,
    pub delay: Option<StepDelay>,
    pub include_existing: bool,
    pub due_date: Option<NaiveDate>,
    pub counts: StepCounts,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A participant's progress on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    New,
    Opened,
    Completed,
}

/// A step in a participant's feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "step_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e50", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "program_name": "2027 Spring Cohort", "title": "Schedule your first meeting",
    "description": "Find a time that suits you both.", "action_type": "schedule_meeting", "link_url": null,
    "due_date": "2027-02-14", "state": "opened", "missed": false,
    "delivered_at": "2027-02-01T14:00:00Z", "opened_at": "2027-02-01T15:10:00Z", "completed_at": null
})))]
pub struct MyStep {
    pub step_id: Uuid,
    pub program_id: Uuid,
    pub program_name: String,
    pub title: String,
    pub description: String,
    pub action_type: ActionType,
    pub link_url: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub state: StepState,
    /// The due date passed before the step was completed.
    pub missed: bool,
    pub delivered_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Something a participant did that triggered steps react to, reported by an integration
/// (or by Cohort itself once pairing and booking record them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"trigger": "first_session_completed"})))]
#[serde(deny_unknown_fields)]
pub struct FireTrigger {
    pub trigger: StepTrigger,
    /// When it happened; defaults to now. Not in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
}

/// How many triggered steps were scheduled for the participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"scheduled": [
    {"step_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e50", "due_at": "2027-02-03T14:00:00Z"}
]})))]
pub struct TriggerFired {
    pub scheduled: Vec<ScheduledStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledStep {
    pub step_id: Uuid,
    pub due_at: DateTime<Utc>,
}
