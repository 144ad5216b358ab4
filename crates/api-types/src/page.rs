use serde::{Deserialize, Serialize};

/// Cursor pagination parameters accepted by every list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many items to return, 1 to 200 (default 50).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Declares a page type per item type: concrete names read better in the
/// OpenAPI document and in generated clients than a generic `Page<T>`.
macro_rules! page {
    ($name:ident, $item:ty, $example:tt) => {
        #[doc = concat!("One page of `", stringify!($item), "`; follow `next_cursor` for the next one.")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(example = json!({"items": [$example], "next_cursor": "AZO4pF8efCqdPmp7jJ0OHw"})))]
        pub struct $name {
            pub items: Vec<$item>,
            /// Absent on the last page.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    };
}

page!(PersonPage, crate::Person, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "email": "talia.k@example.org", "name": "Talia K",
    "bio": "Third-year chemistry student.", "time_zone": "America/Chicago",
    "attributes": {"department": "Chemistry", "languages": ["English", "Spanish"]},
    "is_admin": false, "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
});
page!(ProgramPage, crate::Program, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "2027 Spring Cohort",
    "description": "Peer mentoring for first-year students.", "status": "published",
    "time_zone": "America/New_York", "mentor_count": 12, "mentee_count": 40,
    "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
});
page!(ParticipantPage, crate::Participant, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org",
    "role": "mentor", "status": "active", "joined_at": "2026-11-23T09:00:00Z", "removed_at": null
});
page!(ApiKeyPage, crate::ApiKey, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e22", "name": "HR sync", "prefix": "ck_1a2b3c4d",
    "created_at": "2026-11-23T09:00:00Z", "last_used_at": null, "revoked_at": null
});

page!(StepPage, crate::Step, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e50", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "title": "Welcome to the program", "description": "", "viewer_type": "all", "action_type": "go_to_learning",
    "link_url": null, "publish_type": "instant", "scheduled_for": null, "publish_at": null,
    "time_zone": "America/New_York", "trigger": null, "delay": null, "include_existing": false, "due_date": null,
    "counts": {"delivered": 52, "opened": 40, "completed": 31, "missed": 0},
    "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
});

page!(MyStepPage, crate::MyStep, {
    "step_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e50", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "program_name": "2027 Spring Cohort", "title": "Welcome to the program", "description": "",
    "action_type": "go_to_learning", "link_url": null, "due_date": null, "state": "new", "missed": false,
    "delivered_at": "2026-11-23T09:00:00Z", "opened_at": null, "completed_at": null
});

page!(EventPage, crate::Event, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e60", "event_type": "participant.joined",
    "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f",
    "payload": {"participant_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40", "role": "mentee"},
    "occurred_at": "2026-11-23T09:00:00Z", "created_at": "2026-11-23T09:00:00Z"
});

page!(LeftOutEventPage, crate::LeftOutEvent, {
    "event": {
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e60", "event_type": "payment.paid",
        "program_id": null, "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f",
        "payload": {"amount": 120}, "occurred_at": "2027-02-15T05:00:00Z", "created_at": "2027-02-15T05:00:01Z"
    },
    "attempts": 5,
    "last_error": "Database error: value too long for type character varying(200)"
});

page!(MentorRequestPage, crate::MentorRequest, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
    "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
    "status": "open", "note": "", "decline_message": null,
    "created_at": "2027-01-11T15:00:00Z", "expires_at": "2027-01-14T15:00:00Z", "decided_at": null
});

page!(PairingPage, crate::Pairing, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
    "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
    "request_id": null, "created_at": "2027-01-12T09:00:00Z", "ended_at": null, "end_reason": null
});

page!(UnpairedMenteePage, crate::UnpairedMentee, {
    "participant_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e22", "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21",
    "name": "Amara N", "email": "amara.n@example.org",
    "first_invited_at": "2027-01-10T09:00:00Z", "last_invited_at": "2027-01-10T09:00:00Z",
    "request_id": null, "requested_mentor": null
});

page!(MyRequestPage, crate::MentorRequest, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e70", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "mentee_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21", "mentee_name": "Amara N",
    "mentor_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "mentor_name": "Talia K",
    "status": "open", "note": "", "decline_message": null,
    "created_at": "2027-01-11T15:00:00Z", "expires_at": "2027-01-14T15:00:00Z", "decided_at": null
});

page!(AutomationPage, crate::Automation, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90", "name": "Welcome new mentees", "trigger": "participant.joined",
    "program_ids": null, "frequency": "once_per_contact", "delay": null, "conditions": [],
    "actions": [{"type": "send_email", "template": "step_published"}], "active": true, "version": 2,
    "created_at": "2027-01-10T09:00:00Z", "updated_at": "2027-01-11T09:00:00Z",
    "counts": {"runs": 12, "actions_done": 11, "actions_failed": 0, "actions_pending": 1}
});

page!(AutomationRunPage, crate::AutomationRun, {
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e91", "automation_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e90",
    "version": 2,
    "event": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e92", "event_type": "participant.joined",
        "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e21",
        "payload": {"role": "mentee"}, "occurred_at": "2027-01-11T09:00:00Z", "created_at": "2027-01-11T09:00:00Z"},
    "outcome": "ran",
    "conditions": [{"field": "participant.role", "operator": "is", "holds": true}],
    "actions": [{"position": 0, "type": "send_email", "state": "done", "reason": null,
        "due_at": "2027-01-11T09:10:00Z", "done_at": "2027-01-11T09:10:01Z", "attempts": 1}],
    "created_at": "2027-01-11T09:00:01Z"
});

page!(MyProgramPage, crate::MyProgram, {
    "participant_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "program_name": "2027 Spring Cohort", "program_description": "Peer mentoring for first-year students.",
    "program_status": "published", "time_zone": "America/New_York",
    "role": "mentee", "status": "active", "joined_at": "2026-11-23T09:00:00Z", "removed_at": null
});

page!(MyPairingPage, crate::MyPairing, {
    "pairing_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e71", "program_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
    "program_name": "2027 Spring Cohort", "my_role": "mentee",
    "partner": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "bio": "Third-year chemistry student.", "role": "mentor"},
    "conversation_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e80", "paired_at": "2027-01-12T10:00:00Z"
});
