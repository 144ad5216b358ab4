//! The admin dashboard's own calls; the client and the calls both apps make are `cohort_ui::api`.

pub use cohort_ui::api::*;

use cohort_api_types::{AccountInvitations, InvitePeople};
use cohort_api_types::{
    AddParticipant, AddParticipants, AddedParticipants, AdjustProposedPair, AuditPage, AutoPairConfirmed,
    AutoPairProposal, AutoPairRules, Automation, AutomationInput, AutomationPage, AutomationRunPage,
    AvailableMentorList, BadgeList, ConfirmAutoPair, CreateProgram, CreateWebhook, CreatedWebhook, DeadJob,
    DeadJobPage, EmailTemplate, EmailTemplateList, EndPairing, EraseRequest, Erasure, ImportReport, InvitationPreview,
    InvitationsSent, InviteMentees, MentorCapacity, MentorRequestPage, NotificationLogPage, Organization, Pairing,
    PairingHealth, PairingPage, PairingSettings, Participant, ParticipantPage, Person, PersonPage, PreviewEmail,
    Program, ProgramPage, RenderedEmail, RunAutoPair, SetMentorCapacity, Step, StepInput, StepPage, TestEmailQueued,
    UnpairedMenteePage, UpdateEmailTemplate, UpdateOrganization, UpdatePairingSettings, UpdateProgram, UpdateWebhook,
    WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint, WebhookEndpointList,
};
use gloo_net::http::{Method, RequestBuilder};
use uuid::Uuid;

/// Invites people to set a password (or, with `preview`, says what that would send).
pub async fn invite_people(request: &InvitePeople) -> Result<AccountInvitations, ApiError> {
    write(Method::POST, "/api/v1/people/invite", request).await
}

pub async fn invite_person(id: Uuid) -> Result<AccountInvitations, ApiError> {
    write(Method::POST, &format!("/api/v1/people/{id}/invite"), &()).await
}

pub async fn update_organization(changes: &UpdateOrganization) -> Result<Organization, ApiError> {
    write(Method::PATCH, "/api/v1/organization", changes).await
}

pub async fn programs(status: Option<&str>, cursor: Option<&str>) -> Result<ProgramPage, ApiError> {
    let mut path = "/api/v1/programs?limit=20".to_owned();
    if let Some(status) = status {
        path += &format!("&status={}", enc(status));
    }
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn program(id: Uuid) -> Result<Program, ApiError> {
    get(&format!("/api/v1/programs/{id}")).await
}

pub async fn create_program(input: &CreateProgram) -> Result<Program, ApiError> {
    write(Method::POST, "/api/v1/programs", input).await
}

pub async fn update_program(id: Uuid, changes: &UpdateProgram) -> Result<Program, ApiError> {
    write(Method::PATCH, &format!("/api/v1/programs/{id}"), changes).await
}

pub async fn participants(program: Uuid, q: &str, cursor: Option<&str>) -> Result<ParticipantPage, ApiError> {
    let mut path = format!("/api/v1/programs/{program}/participants?limit=20");
    if !q.trim().is_empty() {
        path += &format!("&q={}", enc(q.trim()));
    }
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn add_participant(program: Uuid, entry: &AddParticipant) -> Result<Participant, ApiError> {
    write(Method::POST, &format!("/api/v1/programs/{program}/participants"), entry).await
}

pub async fn add_participants(program: Uuid, entries: &AddParticipants) -> Result<AddedParticipants, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/programs/{program}/participants/bulk"),
        entries,
    )
    .await
}

pub async fn remove_participant(program: Uuid, participant: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/programs/{program}/participants/{participant}")).await
}

pub async fn people(q: &str) -> Result<PersonPage, ApiError> {
    get(&format!("/api/v1/people?limit=20&q={}", enc(q.trim()))).await
}

pub async fn email_templates() -> Result<EmailTemplateList, ApiError> {
    get("/api/v1/email-templates").await
}

pub async fn email_template(key: &str) -> Result<EmailTemplate, ApiError> {
    get(&format!("/api/v1/email-templates/{}", enc(key))).await
}

pub async fn save_email_template(key: &str, input: &UpdateEmailTemplate) -> Result<EmailTemplate, ApiError> {
    write(Method::PUT, &format!("/api/v1/email-templates/{}", enc(key)), input).await
}

pub async fn reset_email_template(key: &str) -> Result<(), ApiError> {
    delete(&format!("/api/v1/email-templates/{}", enc(key))).await
}

pub async fn preview_email(key: &str, input: &PreviewEmail) -> Result<RenderedEmail, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/email-templates/{}/preview", enc(key)),
        input,
    )
    .await
}

pub async fn send_test_email(key: &str) -> Result<TestEmailQueued, ApiError> {
    write(Method::POST, &format!("/api/v1/email-templates/{}/test", enc(key)), &()).await
}

pub async fn webhooks() -> Result<WebhookEndpointList, ApiError> {
    get("/api/v1/webhooks").await
}

pub async fn webhook(id: Uuid) -> Result<WebhookEndpoint, ApiError> {
    get(&format!("/api/v1/webhooks/{id}")).await
}

pub async fn create_webhook(input: &CreateWebhook) -> Result<CreatedWebhook, ApiError> {
    write(Method::POST, "/api/v1/webhooks", input).await
}

pub async fn update_webhook(id: Uuid, input: &UpdateWebhook) -> Result<WebhookEndpoint, ApiError> {
    write(Method::PATCH, &format!("/api/v1/webhooks/{id}"), input).await
}

pub async fn delete_webhook(id: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/webhooks/{id}")).await
}

pub async fn webhook_deliveries(id: Uuid, cursor: Option<&str>) -> Result<WebhookDeliveryPage, ApiError> {
    let mut path = format!("/api/v1/webhooks/{id}/deliveries?limit=20");
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn send_test_event(id: Uuid) -> Result<WebhookDelivery, ApiError> {
    write(Method::POST, &format!("/api/v1/webhooks/{id}/test"), &()).await
}

pub async fn redeliver(id: Uuid, delivery: Uuid) -> Result<WebhookDelivery, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
        &(),
    )
    .await
}

/// The organisation's background jobs that ran out of attempts, newest first.
pub async fn dead_jobs(cursor: Option<&str>) -> Result<DeadJobPage, ApiError> {
    let mut path = "/api/v1/jobs/dead?limit=50".to_owned();
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

/// Queues a dead job again with all its attempts.
pub async fn retry_job(id: Uuid) -> Result<DeadJob, ApiError> {
    write(Method::POST, &format!("/api/v1/jobs/{id}/retry"), &()).await
}

pub async fn notification_log(cursor: Option<&str>) -> Result<NotificationLogPage, ApiError> {
    let mut path = "/api/v1/notification-log?limit=50".to_owned();
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn steps(program: Uuid, cursor: Option<&str>) -> Result<StepPage, ApiError> {
    let mut path = format!("/api/v1/programs/{program}/steps?limit=50");
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn create_step(program: Uuid, input: &StepInput) -> Result<Step, ApiError> {
    write(Method::POST, &format!("/api/v1/programs/{program}/steps"), input).await
}

pub async fn update_step(program: Uuid, step: Uuid, input: &StepInput) -> Result<Step, ApiError> {
    write(Method::PUT, &format!("/api/v1/programs/{program}/steps/{step}"), input).await
}

pub async fn delete_step(program: Uuid, step: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/programs/{program}/steps/{step}")).await
}

pub async fn pairing_settings(program: Uuid) -> Result<PairingSettings, ApiError> {
    get(&format!("/api/v1/programs/{program}/pairing")).await
}

pub async fn update_pairing_settings(
    program: Uuid,
    changes: &UpdatePairingSettings,
) -> Result<PairingSettings, ApiError> {
    write(Method::PATCH, &format!("/api/v1/programs/{program}/pairing"), changes).await
}

pub async fn unpaired(program: Uuid, tab: &str) -> Result<UnpairedMenteePage, ApiError> {
    get(&format!(
        "/api/v1/programs/{program}/unpaired?tab={}&limit=200",
        enc(tab)
    ))
    .await
}

pub async fn preview_invitations(program: Uuid, input: &InviteMentees) -> Result<InvitationPreview, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/programs/{program}/invitations/preview"),
        input,
    )
    .await
}

pub async fn send_invitations(program: Uuid, input: &InviteMentees) -> Result<InvitationsSent, ApiError> {
    write(Method::POST, &format!("/api/v1/programs/{program}/invitations"), input).await
}

pub async fn mentor_requests(program: Uuid) -> Result<MentorRequestPage, ApiError> {
    get(&format!("/api/v1/programs/{program}/requests?limit=200")).await
}

pub async fn pairings(program: Uuid) -> Result<PairingPage, ApiError> {
    get(&format!("/api/v1/programs/{program}/pairings?limit=200")).await
}

pub async fn end_pairing(program: Uuid, pairing: Uuid, input: &EndPairing) -> Result<Pairing, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/programs/{program}/pairings/{pairing}/end"),
        input,
    )
    .await
}

pub async fn pairing_health(program: Uuid) -> Result<PairingHealth, ApiError> {
    get(&format!("/api/v1/programs/{program}/pairing/health")).await
}

pub async fn auto_pair_rules(program: Uuid) -> Result<AutoPairRules, ApiError> {
    get(&format!("/api/v1/programs/{program}/auto-pair/rules")).await
}

pub async fn save_auto_pair_rules(program: Uuid, rules: &AutoPairRules) -> Result<AutoPairRules, ApiError> {
    write(
        Method::PUT,
        &format!("/api/v1/programs/{program}/auto-pair/rules"),
        rules,
    )
    .await
}

pub async fn auto_pair_proposal(program: Uuid) -> Result<AutoPairProposal, ApiError> {
    get(&format!("/api/v1/programs/{program}/auto-pair")).await
}

pub async fn run_auto_pair(program: Uuid, input: &RunAutoPair) -> Result<AutoPairProposal, ApiError> {
    write(Method::POST, &format!("/api/v1/programs/{program}/auto-pair"), input).await
}

pub async fn adjust_proposed_pair(
    program: Uuid,
    mentee: Uuid,
    input: &AdjustProposedPair,
) -> Result<AutoPairProposal, ApiError> {
    write(
        Method::PATCH,
        &format!("/api/v1/programs/{program}/auto-pair/pairs/{mentee}"),
        input,
    )
    .await
}

pub async fn discard_auto_pair(program: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/programs/{program}/auto-pair")).await
}

pub async fn confirm_auto_pair(program: Uuid, input: &ConfirmAutoPair) -> Result<AutoPairConfirmed, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/programs/{program}/auto-pair/confirm"),
        input,
    )
    .await
}

/// Every mentor of the program with their room (admins).
pub async fn all_mentors(program: Uuid) -> Result<AvailableMentorList, ApiError> {
    get(&format!("/api/v1/programs/{program}/mentors?include_full=true")).await
}

pub async fn set_mentor_capacity(
    program: Uuid,
    mentor: Uuid,
    input: &SetMentorCapacity,
) -> Result<MentorCapacity, ApiError> {
    write(
        Method::PUT,
        &format!("/api/v1/programs/{program}/mentors/{mentor}/capacity"),
        input,
    )
    .await
}

pub async fn automations() -> Result<AutomationPage, ApiError> {
    get("/api/v1/automations?limit=200").await
}

pub async fn automation(id: Uuid) -> Result<Automation, ApiError> {
    get(&format!("/api/v1/automations/{id}")).await
}

pub async fn create_automation(input: &AutomationInput) -> Result<Automation, ApiError> {
    write(Method::POST, "/api/v1/automations", input).await
}

pub async fn update_automation(id: Uuid, input: &AutomationInput) -> Result<Automation, ApiError> {
    write(Method::PUT, &format!("/api/v1/automations/{id}"), input).await
}

pub async fn set_automation_active(id: Uuid, active: bool) -> Result<Automation, ApiError> {
    let action = if active { "activate" } else { "deactivate" };
    write(Method::POST, &format!("/api/v1/automations/{id}/{action}"), &()).await
}

pub async fn delete_automation(id: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/automations/{id}")).await
}

pub async fn automation_runs(id: Uuid) -> Result<AutomationRunPage, ApiError> {
    get(&format!("/api/v1/automations/{id}/runs?limit=100")).await
}

pub async fn left_out_events() -> Result<cohort_api_types::LeftOutEventPage, ApiError> {
    get("/api/v1/events/left-out?limit=200").await
}

pub async fn match_left_out_again() -> Result<cohort_api_types::Requeued, ApiError> {
    write(Method::POST, "/api/v1/events/left-out/match-again", &()).await
}

pub async fn badges() -> Result<BadgeList, ApiError> {
    get("/api/v1/badges").await
}

/// Filters of the audit log page; empty strings are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub source: String,
    pub actor: String,
}

pub async fn audit_log(filter: &AuditFilter, cursor: Option<&str>) -> Result<AuditPage, ApiError> {
    let mut path = "/api/v1/audit-log?limit=50".to_owned();
    for (name, value) in [
        ("action", &filter.action),
        ("object_type", &filter.object_type),
        ("object_id", &filter.object_id),
        ("source", &filter.source),
        ("actor", &filter.actor),
    ] {
        if !value.trim().is_empty() {
            path += &format!("&{name}={}", enc(value.trim()));
        }
    }
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn people_page(q: &str, cursor: Option<&str>) -> Result<PersonPage, ApiError> {
    let mut path = format!("/api/v1/people?limit=50&q={}", enc(q.trim()));
    if let Some(cursor) = cursor {
        path += &format!("&cursor={}", enc(cursor));
    }
    get(&path).await
}

pub async fn person(id: Uuid) -> Result<Person, ApiError> {
    get(&format!("/api/v1/people/{id}")).await
}

/// The person's data archive, as the server wrote it (pretty-printed for the download).
pub async fn export_person(id: Uuid) -> Result<String, ApiError> {
    let archive: serde_json::Value = get(&format!("/api/v1/people/{id}/export")).await?;
    serde_json::to_string_pretty(&archive).map_err(|_| ApiError::Unreachable)
}

pub async fn erase_person(id: Uuid, confirm: &str) -> Result<Erasure, ApiError> {
    write(
        Method::POST,
        &format!("/api/v1/people/{id}/erase"),
        &EraseRequest {
            confirm: confirm.to_owned(),
        },
    )
    .await
}

/// Uploads a CSV file (sent as the body itself) for a check (`dry_run`) or for real.
pub async fn import_file(
    kind: &str,
    program: Option<Uuid>,
    file: &web_sys::File,
    dry_run: bool,
    invite: bool,
) -> Result<ImportReport, ApiError> {
    let mut program = program.map(|p| format!("&program_id={p}")).unwrap_or_default();
    if invite {
        program += "&invite=true";
    }
    let path = format!("/api/v1/imports/{}?dry_run={dry_run}{program}", enc(kind));
    let send = |token: String| {
        let request = RequestBuilder::new(&path)
            .method(Method::POST)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "text/csv")
            .body(file.clone());
        async move {
            request
                .map_err(|_| ApiError::Unreachable)?
                .send()
                .await
                .map_err(|_| ApiError::Unreachable)
        }
    };
    let token = session().ok_or(ApiError::SessionEnded)?.access_token;
    let mut response = send(token).await?;
    if response.status() == 401 {
        response = send(refresh().await?).await?;
    }
    read(response).await
}

pub fn import_template_path(kind: &str) -> String {
    format!("/api/v1/imports/{}/template", enc(kind))
}

/// An export of a program's data, or of the organisation's (`program` is `None`).
pub fn export_path(kind: &str, program: Option<Uuid>) -> String {
    match program {
        Some(program) => format!("/api/v1/exports/{}?program_id={program}", enc(kind)),
        None => format!("/api/v1/exports/{}", enc(kind)),
    }
}

/// The bookings starting on the local dates `from` to `to` (the organisation's zone).
pub fn bookings_export_path(from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    format!("/api/v1/exports/bookings?from={from}&to={to}")
}
