//! Email templates per organisation, their preview, and delivery through the
//! outbox: `queue_email` runs in the caller's transaction; the `email` job
//! renders and sends, once per delivery key.

use std::sync::Arc;

use actix_web::{delete, get, post, put, web, HttpResponse};
use cohort_api_types::{
    EmailTemplate, EmailTemplateList, PreviewEmail, Problem, RenderedEmail, TestEmailQueued, UpdateEmailTemplate,
};
use cohort_domain::calendar::{ics, Appointment, Method};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::email_repo::{self, TemplateRow};
use super::templates::{self, EmailKind};
use super::transport::Mailer;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::extract::Body;
use crate::jobs::{self, Job, NewJob};
use crate::{organization, people, AppState};

pub const JOB_KIND: &str = "email";
const MAX_TEMPLATE_CHARS: usize = 100_000;

fn to_api(kind: &EmailKind, row: Option<TemplateRow>) -> EmailTemplate {
    let (subject, html, text, customized) = match row {
        Some(r) => (r.subject, r.html, r.text, true),
        None => (
            kind.subject.to_owned(),
            kind.html.to_owned(),
            kind.text.to_owned(),
            false,
        ),
    };
    EmailTemplate {
        key: kind.key.to_owned(),
        name: kind.name.to_owned(),
        description: kind.description.to_owned(),
        subject,
        html,
        text,
        customized,
        placeholders: kind.placeholders(),
    }
}

fn kind_of(key: &str) -> Result<&'static EmailKind, ApiError> {
    templates::kind(key).ok_or(ApiError::NotFound)
}

/// The organisation's wording of `key`, or the default.
fn effective(conn: &mut DbConn, org: Uuid, kind: &'static EmailKind) -> Result<EmailTemplate, ApiError> {
    Ok(to_api(kind, email_repo::custom(conn, org, kind.key)?))
}

/// A file sent along with an email, such as a booking's calendar entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    /// The full MIME type, e.g. `text/calendar; method=REQUEST; charset=UTF-8`.
    pub content_type: String,
    pub content: String,
}

impl Attachment {
    /// A calendar entry (`.ics`) whose MIME type carries its method, as mail clients expect.
    pub fn calendar(method: Method, content: String) -> Self {
        Self {
            filename: if method == Method::Cancel {
                "cancel.ics"
            } else {
                "invite.ics"
            }
            .to_owned(),
            content_type: format!("text/calendar; method={}; charset=UTF-8", method.as_str()),
            content,
        }
    }
}

/// The organisation's wording of `key`, or the default.
pub fn wording(conn: &mut DbConn, org: Uuid, key: &str) -> Result<EmailTemplate, ApiError> {
    effective(conn, org, kind_of(key)?)
}

/// Renders an email on a blocking thread: never on the async runtime that serves requests and
/// runs the job workers, and never inside a database turn (the SQLite writer's, or a pooled
/// read). Templates are written by admins; their work is bounded by [`templates::render`].
pub async fn render_apart(template: EmailTemplate, context: Value) -> Result<RenderedEmail, ApiError> {
    tokio::task::spawn_blocking(move || templates::render(&template.subject, &template.html, &template.text, &context))
        .await
        .map_err(|e| ApiError::Internal(format!("rendering an email stopped: {e}")))?
        .map_err(ApiError::Validation)
}

/// Queues an email in the caller's transaction. The delivery key names the message
/// (cause and recipient): queueing it again, or running its job twice, sends it once.
pub fn queue_email(
    conn: &mut DbConn,
    org: Uuid,
    template: &str,
    to: &str,
    context: Value,
    delivery_key: &str,
) -> Result<bool, ApiError> {
    queue_email_with(conn, org, template, to, context, delivery_key, &[])
}

/// [`queue_email`] with attachments, which travel in the job's payload.
pub fn queue_email_with(
    conn: &mut DbConn,
    org: Uuid,
    template: &str,
    to: &str,
    context: Value,
    delivery_key: &str,
    attachments: &[Attachment],
) -> Result<bool, ApiError> {
    jobs::enqueue(conn, email_job(org, template, to, context, delivery_key, attachments))
}

/// The job that sends one email (see `queue_email_with`), for queueing several at once.
pub fn email_job(
    org: Uuid,
    template: &str,
    to: &str,
    context: Value,
    delivery_key: &str,
    attachments: &[Attachment],
) -> NewJob {
    let payload = json!({"template": template, "to": to, "context": context, "delivery_key": delivery_key,
                         "attachments": attachments});
    NewJob {
        organization_id: Some(org),
        dedupe_key: Some(format!("email:{delivery_key}")),
        ..NewJob::now(JOB_KIND, payload)
    }
}

#[derive(Serialize, Deserialize)]
struct EmailJob {
    template: String,
    to: String,
    context: Value,
    delivery_key: String,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

/// Makes an email's links absolute under `public_url`: the `link` placeholder and every `…_link`
/// one that holds a path. Emails are queued with paths (see `cohort_api_types::links`), so a
/// change of `COHORT_PUBLIC_URL` reaches the emails still waiting.
fn absolute_links(context: &mut Value, public_url: &str) {
    let Some(fields) = context.as_object_mut() else { return };
    for (key, value) in fields.iter_mut() {
        if key == "link" || key.ends_with("_link") {
            if let Some(path) = value.as_str().filter(|p| p.starts_with('/')) {
                *value = Value::String(format!("{public_url}{path}"));
            }
        }
    }
}

/// The `email` job: render in the organisation's wording and send, unless this delivery key was
/// sent already. Links become absolute under `public_url`.
pub async fn deliver(db: Db, mailer: Arc<Mailer>, public_url: Arc<str>, job: Job) -> Result<(), String> {
    let mut input: EmailJob = serde_json::from_str(&job.payload).map_err(|e| format!("bad email job: {e}"))?;
    absolute_links(&mut input.context, &public_url);
    let org = job
        .organization_id
        .as_deref()
        .map(db::id)
        .ok_or("email job without organisation")?;
    let kind = templates::kind(&input.template).ok_or(format!("unknown email template {}", input.template))?;
    let key = input.delivery_key.clone();
    let (sent, template) = db
        .read(move |conn| {
            let sent = email_repo::was_sent(conn, &key)?;
            Ok((sent, effective(conn, org, kind)?))
        })
        .await
        .map_err(|e| e.to_string())?;
    if sent {
        return Ok(());
    }
    let rendered = render_apart(template, input.context.clone())
        .await
        .map_err(|e| format!("template {} does not render: {e}", input.template))?;
    let (to, key, subject) = (input.to.clone(), input.delivery_key.clone(), rendered.subject.clone());
    let transport = mailer.name();
    mailer.send(&to, &rendered, &input.attachments, &key).await?;
    let (to, key) = (input.to, input.delivery_key);
    db.write(move |conn| email_repo::record_delivery(conn, org, &key, &to, &subject, transport))
        .await
        .map_err(|e| e.to_string())
}

/// Every email Cohort sends, in the organisation's wording.
#[utoipa::path(
    tag = "email-templates",
    responses(
        (status = 200, description = "The emails, customised or default", body = EmailTemplateList),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/email-templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<EmailTemplateList>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let items = state
        .db
        .read(move |conn| templates::KINDS.iter().map(|kind| effective(conn, org, kind)).collect())
        .await?;
    Ok(web::Json(EmailTemplateList { items }))
}

/// One email's wording.
#[utoipa::path(
    tag = "email-templates",
    params(("key" = String, Path, description = "The email, e.g. `invitation`")),
    responses(
        (status = 200, description = "The email, customised or default", body = EmailTemplate),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such email", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/email-templates/{key}")]
pub async fn get_template(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<String>,
) -> Result<web::Json<EmailTemplate>, ApiError> {
    caller.require_admin()?;
    let (org, kind) = (caller.org, kind_of(&key)?);
    Ok(web::Json(state.db.read(move |conn| effective(conn, org, kind)).await?))
}

/// Checks the parts' sizes, then renders them with the email's sample data (see [`render_apart`]).
async fn check_parts(kind: &EmailKind, organization: &str, parts: EmailTemplate) -> Result<RenderedEmail, ApiError> {
    let mut problems = Vec::new();
    for (field, value) in [
        ("subject", &parts.subject),
        ("html", &parts.html),
        ("text", &parts.text),
    ] {
        if value.chars().count() > MAX_TEMPLATE_CHARS {
            problems.push(cohort_api_types::FieldError::new(
                field,
                format!("at most {MAX_TEMPLATE_CHARS} characters"),
            ));
        }
    }
    if parts.subject.trim().is_empty() {
        problems.push(cohort_api_types::FieldError::new("subject", "must not be empty"));
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    render_apart(parts, kind.sample(organization)).await
}

/// Saves the organisation's wording of an email. Placeholders the email does not offer, or a
/// template that does not parse, are refused with the part that is wrong.
#[utoipa::path(
    tag = "email-templates",
    params(("key" = String, Path, description = "The email, e.g. `invitation`")),
    request_body = UpdateEmailTemplate,
    responses(
        (status = 200, description = "The saved wording", body = EmailTemplate),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such email", body = Problem),
        (status = 422, description = "An unknown placeholder or a template that does not parse", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/email-templates/{key}")]
pub async fn update_template(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<String>,
    Body(input): Body<UpdateEmailTemplate>,
) -> Result<web::Json<EmailTemplate>, ApiError> {
    caller.require_admin()?;
    let (org, kind, actor) = (caller.org, kind_of(&key)?, caller.actor());
    let (saved, organization) = state
        .db
        .read(move |conn| Ok((effective(conn, org, kind)?, organization::repo::get(conn, org)?.name)))
        .await?;
    let parts = EmailTemplate {
        subject: input.subject.clone(),
        html: input.html.clone(),
        text: input.text.clone(),
        ..saved
    };
    check_parts(kind, &organization, parts).await?;
    let saved = state
        .db
        .write(move |conn| {
            let before = effective(conn, org, kind)?;
            let row = TemplateRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                template_key: kind.key.to_owned(),
                subject: input.subject,
                html: input.html,
                text: input.text,
                updated_at: db::now(),
            };
            match email_repo::custom(conn, org, kind.key)? {
                Some(existing) => {
                    email_repo::update_template(
                        conn,
                        &TemplateRow {
                            id: existing.id.clone(),
                            ..row
                        },
                    )?;
                }
                None => {
                    email_repo::insert_template(conn, &row)?;
                }
            }
            let after = effective(conn, org, kind)?;
            audit::record(
                conn,
                &actor,
                "email_template.updated",
                ("email_template", kind.key),
                &before,
                &after,
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(saved))
}

/// Returns an email to its default wording.
#[utoipa::path(
    tag = "email-templates",
    params(("key" = String, Path, description = "The email, e.g. `invitation`")),
    responses(
        (status = 204, description = "The default applies again"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such email", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/email-templates/{key}")]
pub async fn reset_template(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, kind, actor) = (caller.org, kind_of(&key)?, caller.actor());
    state
        .db
        .write(move |conn| {
            let before = effective(conn, org, kind)?;
            email_repo::delete_template(conn, org, kind.key)?;
            let after = effective(conn, org, kind)?;
            audit::record(
                conn,
                &actor,
                "email_template.reset",
                ("email_template", kind.key),
                &before,
                &after,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Renders an email with sample data: the saved wording, or the parts given here.
#[utoipa::path(
    tag = "email-templates",
    params(("key" = String, Path, description = "The email, e.g. `invitation`")),
    request_body = PreviewEmail,
    responses(
        (status = 200, description = "The email as a recipient would see it", body = RenderedEmail),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such email", body = Problem),
        (status = 422, description = "An unknown placeholder or a template that does not parse", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/email-templates/{key}/preview")]
pub async fn preview_template(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<String>,
    Body(input): Body<PreviewEmail>,
) -> Result<web::Json<RenderedEmail>, ApiError> {
    caller.require_admin()?;
    let (org, kind) = (caller.org, kind_of(&key)?);
    let (saved, organization) = state
        .db
        .read(move |conn| Ok((effective(conn, org, kind)?, organization::repo::get(conn, org)?.name)))
        .await?;
    let parts = EmailTemplate {
        subject: input.subject.unwrap_or(saved.subject),
        html: input.html.unwrap_or(saved.html),
        text: input.text.unwrap_or(saved.text),
        ..saved
    };
    Ok(web::Json(check_parts(kind, &organization, parts).await?))
}

/// The calendar entry a booking email carries, for the sample booking of [`EmailKind::sample`].
fn sample_calendar(kind: &EmailKind, recipient: &str) -> Option<Attachment> {
    let method = match kind.key {
        "booking_confirmed" => Method::Request,
        "booking_cancelled" => Method::Cancel,
        _ => return None,
    };
    let starts_at = chrono::NaiveDate::from_ymd_opt(2027, 2, 2)?
        .and_hms_opt(20, 0, 0)?
        .and_utc();
    let appointment = Appointment {
        uid: format!("sample-{}@cohort", kind.key),
        sequence: u32::from(method == Method::Cancel),
        summary: "Peer Mentoring with Talia K".to_owned(),
        description: "A sample booking from Cohort's test email.".to_owned(),
        location: Some("Library room 2".to_owned()),
        starts_at,
        ends_at: starts_at + chrono::Duration::minutes(30),
        organizer: "talia.k@example.org".to_owned(),
        attendees: vec![recipient.to_owned()],
        cancelled: method == Method::Cancel,
        stamp: chrono::Utc::now(),
    };
    Some(Attachment::calendar(method, ics("Cohort", method, &[appointment])))
}

/// Sends the email, with sample data, to the caller, through the outbox like every email.
///
/// Booking emails carry a sample calendar entry, as real ones do.
#[utoipa::path(
    tag = "email-templates",
    params(("key" = String, Path, description = "The email, e.g. `invitation`")),
    responses(
        (status = 202, description = "The email is queued", body = TestEmailQueued),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such email", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/email-templates/{key}/test")]
pub async fn send_test_email(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, person, kind) = (caller.org, caller.person, kind_of(&key)?);
    let queued = state
        .db
        .write(move |conn| {
            let me = people::repo::get(conn, org, person)?;
            let organization = organization::repo::get(conn, org)?.name;
            let mut context = kind.sample(&organization);
            let first_name = me.name.split_whitespace().next().unwrap_or(&me.name).to_owned();
            context["recipient"] = json!({"first_name": first_name, "name": me.name, "email": me.email});
            // Sent to the admin testing it: every link opens this email's page in the dashboard.
            if let Some(fields) = context.as_object_mut() {
                for (name, value) in fields.iter_mut() {
                    if name == "link" || name.ends_with("_link") {
                        *value = json!(format!("/emails/{}", kind.key));
                    }
                }
            }
            let delivery_key = format!("test-{}:{}", kind.key, db::new_id());
            let attachments: Vec<Attachment> = sample_calendar(kind, &me.email).into_iter().collect();
            queue_email_with(conn, org, kind.key, &me.email, context, &delivery_key, &attachments)?;
            Ok(TestEmailQueued {
                to: me.email,
                delivery_key,
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(queued))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_link_placeholders_become_absolute() {
        let mut context = json!({
            "link": "/me/programs/1",
            "accept_link": "/answer-request?token=t&answer=accept",
            "other_link": "https://elsewhere.example/x",
            "linked": "/not-a-link",
            "recipient": {"link": "/nested"},
        });
        absolute_links(&mut context, "https://cohort.example.org");
        assert_eq!(context["link"], "https://cohort.example.org/me/programs/1");
        assert_eq!(
            context["accept_link"],
            "https://cohort.example.org/answer-request?token=t&answer=accept"
        );
        assert_eq!(context["other_link"], "https://elsewhere.example/x");
        assert_eq!(context["linked"], "/not-a-link");
        assert_eq!(context["recipient"]["link"], "/nested");
    }
}
