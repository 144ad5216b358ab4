//! Pairing: settings, mentor requests with approval and business-day expiry, pairings.
//! Capacity is checked with the mentor's membership locked (PostgreSQL) or in the writer's turn
//! (SQLite); a partial unique index keeps a mentee in one active pairing per program.

pub mod auto;
pub mod health;
pub mod invitations;
pub mod repo;
pub mod views;

use actix_web::http::header;
use actix_web::{get, patch, post, put, web, HttpResponse};
use chrono::NaiveDate;
use cohort_api_types::{
    AvailableMentor, AvailableMentorList, CreateMentorRequest, DeclineRequest, EndPairing, MentorCapacity,
    MentorRequest, MentorRequestPage, MentorsQuery, MyRequestPage, PageQuery, Pairing, PairingPage, PairingSettings,
    Problem, RequestDecision, SetMentorCapacity, UpdatePairingSettings,
};
use cohort_domain::business_days::BusinessCalendar;
use cohort_domain::events::{PAIRING_CREATED, PAIRING_ENDED, REQUEST_DECLINED, REQUEST_EXPIRED};
use cohort_domain::pairing::{self as rules, Process};
use serde_json::{json, Value};
use uuid::Uuid;

use self::repo::{PairingRow, RequestRow};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db, DbConn};
use crate::error::{ApiError, Problems};
use crate::events::EventRow;
use crate::extract::Body;
use crate::jobs::{self, Job, NewJob};
use crate::messaging::email::queue_email;
use crate::paging::PageRequest;
use crate::programs::repo::{self as programs, ProgramRow};
use crate::{organization, people, AppState};

pub const EXPIRE_JOB: &str = "request.expire";
pub const REMIND_JOB: &str = "request.remind";

/// Settings and whether mentees may request now.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The program's pairing settings", body = PairingSettings),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairing")]
pub async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<PairingSettings>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let settings = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            Ok((
                repo::settings(conn, &program.id)?,
                repo::checklist_done(conn, &program.id)?,
            ))
        })
        .await?;
    Ok(web::Json(repo::settings_to_api(&settings.0, &settings.1)))
}

/// Changes the pairing settings; turning pairing on sends nothing by itself.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = UpdatePairingSettings,
    responses(
        (status = 200, description = "The settings after the change", body = PairingSettings),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "Invalid values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/programs/{id}/pairing")]
pub async fn update_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(changes): Body<UpdatePairingSettings>,
) -> Result<web::Json<PairingSettings>, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let capacity = changes
        .mentor_capacity
        .and_then(|c| problems.check("mentor_capacity", rules::check_capacity(c)));
    let expiry = changes
        .request_expiry_days
        .and_then(|d| problems.check("request_expiry_days", rules::check_expiry_days(d)));
    let unresponsive = changes
        .unresponsive_days
        .and_then(|d| problems.check("unresponsive_days", rules::check_unresponsive_days(d)));
    let checklist = changes
        .checklist_done
        .as_deref()
        .and_then(|done| problems.check("checklist_done", rules::check_checklist(done)));
    problems.finish()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let settings = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, id)?;
            let mut s = repo::settings(conn, &program.id)?;
            let before = repo::settings_to_api(&s, &repo::checklist_done(conn, &program.id)?);
            s.process = changes.process.map(repo::process_from_api).unwrap_or(s.process);
            s.mentor_capacity = capacity.unwrap_or(s.mentor_capacity);
            s.request_expiry_days = expiry.unwrap_or(s.request_expiry_days);
            s.remind_before_expiry = changes.remind_before_expiry.unwrap_or(s.remind_before_expiry);
            s.unresponsive_days = unresponsive.unwrap_or(s.unresponsive_days);
            s.enabled = changes.enabled.unwrap_or(s.enabled);
            let done = match checklist {
                Some(done) => done,
                None => repo::checklist_done(conn, &program.id)?,
            };
            repo::save_settings(conn, org, &program.id, &s, &done)?;
            let after = repo::settings_to_api(&s, &done);
            audit::record(
                conn,
                &actor,
                "pairing_settings.updated",
                ("program", id),
                &before,
                &after,
            )?;
            Ok((s, done))
        })
        .await?;
    Ok(web::Json(repo::settings_to_api(&settings.0, &settings.1)))
}

fn person_json(p: &people::repo::PersonRow) -> Value {
    json!({"first_name": cohort_domain::people::first_name(&p.name), "name": p.name, "email": p.email})
}

/// An email's placeholders for `to`: the common ones plus `extra`.
fn context(
    conn: &mut DbConn,
    program: &ProgramRow,
    to: &people::repo::PersonRow,
    mut extra: Value,
) -> Result<Value, ApiError> {
    let organization = organization::repo::get(conn, db::id(&program.organization_id))?.name;
    extra["organization"] = json!({"name": organization});
    extra["recipient"] = person_json(to);
    extra["program"] = json!({"name": program.name});
    extra["link"] = json!(format!("/programs/{}", program.id));
    Ok(extra)
}

/// Queues one of the pairing emails to `to`, once per `key` and recipient.
fn email(
    conn: &mut DbConn,
    program: &ProgramRow,
    template: &str,
    to: &people::repo::PersonRow,
    extra: Value,
    key: &str,
) -> Result<(), ApiError> {
    let context = context(conn, program, to, extra)?;
    let org = db::id(&program.organization_id);
    queue_email(conn, org, template, &to.email, context, &format!("{key}:{}", to.id))?;
    Ok(())
}

fn person(conn: &mut DbConn, org: Uuid, id: &str) -> Result<people::repo::PersonRow, ApiError> {
    people::repo::get(conn, org, db::id(id))
}

fn event(program: &ProgramRow, event_type: &str, person: &str, payload: Value, cause: &str) -> EventRow {
    EventRow::new(
        &program.organization_id,
        event_type,
        &program.id,
        person,
        payload,
        format!("{event_type}:{cause}:{person}"),
        db::now(),
    )
}

/// Pairs `mentee` with `mentor` if the mentor has room and the mentee is unpaired; emails both,
/// records the event, and fires `first_match` for steps when it is someone's first pairing here.
fn create_pairing(
    conn: &mut DbConn,
    program: &ProgramRow,
    mentee: &str,
    mentor: &str,
    request: Option<&str>,
) -> Result<PairingRow, ApiError> {
    let settings = repo::settings(conn, &program.id)?;
    let (membership, own_capacity) = repo::membership(conn, &program.id, mentor, "mentor")?
        .ok_or_else(|| ApiError::Conflict("The mentor no longer takes part in the program.".into()))?;
    repo::lock_membership(conn, &membership)?;
    let capacity = settings.capacity_of(own_capacity);
    let active = repo::active_pairings_of_mentor(conn, &program.id, mentor)? as u32;
    if !rules::has_room(capacity, active) {
        return Err(ApiError::Conflict(format!(
            "The mentor has no room: {active} of {capacity} mentees."
        )));
    }
    if repo::pairings_of(conn, &program.id, mentee, true)? > 0 {
        return Err(ApiError::Conflict(
            "The mentee is already paired in this program.".into(),
        ));
    }
    let first_for_mentee = repo::pairings_of(conn, &program.id, mentee, false)? == 0;
    let first_for_mentor = repo::mentor_pairings_ever(conn, &program.id, mentor)? == 0;
    let row = PairingRow {
        id: db::new_id(),
        organization_id: program.organization_id.clone(),
        program_id: program.id.clone(),
        mentee_id: mentee.to_owned(),
        mentor_id: mentor.to_owned(),
        request_id: request.map(str::to_owned),
        created_at: db::now(),
        ended_at: None,
        end_reason: None,
    };
    repo::insert_pairing(conn, &row)?;

    let org = db::id(&program.organization_id);
    health::schedule_check(conn, &row, settings.unresponsive_days)?;
    // The pair's own conversation, where automations may post too.
    crate::messaging::chat::open_conversation(
        conn,
        org,
        "pairing",
        &program.name,
        Some(db::id(&program.id)),
        &[db::id(mentee), db::id(mentor)],
    )?;
    let (mentee_row, mentor_row) = (person(conn, org, mentee)?, person(conn, org, mentor)?);
    let names = json!({"mentee": person_json(&mentee_row), "mentor": person_json(&mentor_row)});
    for to in [&mentee_row, &mentor_row] {
        email(
            conn,
            program,
            "mentorship_assignment",
            to,
            names.clone(),
            &format!("assignment:{}", row.id),
        )?;
    }
    let payload = json!({"pairing_id": row.id, "mentee_id": mentee, "mentor_id": mentor});
    let events = [
        event(program, PAIRING_CREATED, mentee, payload.clone(), &row.id),
        event(program, PAIRING_CREATED, mentor, payload, &row.id),
    ];
    crate::events::record(conn, &events)?;
    for (person, first) in [(mentee, first_for_mentee), (mentor, first_for_mentor)] {
        if first {
            let memberships: Vec<_> = programs::memberships_of(conn, &program.id, &[person.to_owned()])?
                .into_iter()
                .filter(|m| m.status == "active")
                .collect();
            crate::steps::delivery::fire(
                conn,
                &program.id,
                &program.time_zone,
                &memberships,
                cohort_domain::steps::Trigger::FirstMatch,
                row.created_at,
            )?;
        }
    }
    Ok(row)
}

/// Tells the mentee how their request ended (declined, expired): an email naming the mentor,
/// with `extra` placeholders, and the event for automations.
fn answered(
    conn: &mut DbConn,
    program: &ProgramRow,
    request: &RequestRow,
    template: &str,
    mut extra: Value,
    event_type: &str,
) -> Result<(), ApiError> {
    let org = db::id(&program.organization_id);
    let (mentee, mentor) = (
        person(conn, org, &request.mentee_id)?,
        person(conn, org, &request.mentor_id)?,
    );
    extra["mentor"] = person_json(&mentor);
    email(
        conn,
        program,
        template,
        &mentee,
        extra,
        &format!("{event_type}:{}", request.id),
    )?;
    let payload = json!({"request_id": request.id, "mentor_id": request.mentor_id});
    crate::events::record(
        conn,
        &[event(program, event_type, &request.mentee_id, payload, &request.id)],
    )?;
    Ok(())
}

/// The only element of a list built from one row.
fn one<T>(mut items: Vec<T>) -> T {
    items.pop().expect("one row in, one item out")
}

fn decision(conn: &mut DbConn, request: RequestRow, pairing: Option<PairingRow>) -> Result<RequestDecision, ApiError> {
    Ok(RequestDecision {
        request: one(repo::requests_to_api(conn, vec![request])?),
        pairing: match pairing {
            Some(p) => Some(one(repo::pairings_to_api(conn, vec![p])?)),
            None => None,
        },
    })
}

/// A mentee asks a mentor with room. With approval, the mentor is emailed and the request expires
/// after the program's business days; under `user_led` the request is the pairing.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = CreateMentorRequest,
    responses(
        (status = 201, description = "The request, and the pairing when the program pairs at once", body = RequestDecision),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not a mentee of the program (or asking for someone else)", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 409, description = "Pairing is off, admins pair, the mentee is paired or has an open request, or the mentor has no room", body = Problem),
        (status = 422, description = "The mentor or mentee does not take part in that role", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<CreateMentorRequest>,
) -> Result<HttpResponse, ApiError> {
    let (org, program_id) = (caller.org, id.into_inner());
    let mentee = match input.mentee_id {
        Some(m) if caller.is_admin => m,
        Some(m) if m != caller.person => return Err(ApiError::Forbidden("Only admins ask on someone else's behalf.")),
        _ => caller.person,
    };
    let actor = caller.actor();
    let made = state
        .db
        .write(move |conn| {
            let made = (|| {
                let program = programs::get(conn, org, program_id)?;
                let settings = repo::settings(conn, &program.id)?;
                let (mentee, mentor) = (mentee.to_string(), input.mentor_id.to_string());
                if repo::membership(conn, &program.id, &mentee, "mentee")?.is_none() {
                    return Err(if caller.is_admin {
                        ApiError::field("mentee_id", "not a mentee of this program")
                    } else {
                        ApiError::Forbidden("Only the program's mentees request mentors.")
                    });
                }
                let Some((_, mentor_capacity)) = repo::membership(conn, &program.id, &mentor, "mentor")? else {
                    return Err(ApiError::field("mentor_id", "not a mentor of this program"));
                };
                if !settings.enabled {
                    return Err(ApiError::Conflict("Pairing is off for this program.".into()));
                }
                if !settings.process.mentees_request() {
                    return Err(ApiError::Conflict("Admins pair mentees in this program.".into()));
                }
                if repo::pairings_of(conn, &program.id, &mentee, true)? > 0 {
                    return Err(ApiError::Conflict(
                        "The mentee is already paired in this program.".into(),
                    ));
                }
                if repo::has_open_request(conn, &program.id, &mentee)? {
                    return Err(ApiError::Conflict("The mentee already has an open request.".into()));
                }
                let now = db::now();
                let organization = organization::repo::get(conn, org)?;
                let holidays: Vec<NaiveDate> = serde_json::from_str(&organization.holidays).unwrap_or_default();
                let calendar = BusinessCalendar {
                    zone: organization.time_zone.parse().unwrap_or(chrono_tz::UTC),
                    holidays: &holidays,
                };
                let (expires, remind) = rules::request_deadlines(&calendar, db::utc(now), &settings);
                let mut row = RequestRow {
                    id: db::new_id(),
                    organization_id: org.to_string(),
                    program_id: program.id.clone(),
                    mentee_id: mentee.clone(),
                    mentor_id: mentor.clone(),
                    status: "open".into(),
                    note: input.note.trim().chars().take(2000).collect(),
                    decline_message: None,
                    created_at: now,
                    expires_at: None,
                    decided_at: None,
                };
                if settings.process == Process::UserLed {
                    row.status = "approved".into();
                    row.decided_at = Some(now);
                    repo::insert_request(conn, &row)?;
                    let pairing = create_pairing(conn, &program, &mentee, &mentor, Some(&row.id))?;
                    return decision(conn, row, Some(pairing));
                }
                // Room now, or the request would wait for nothing.
                let capacity = settings.capacity_of(mentor_capacity);
                let active = repo::active_pairings_of_mentor(conn, &program.id, &mentor)? as u32;
                if !rules::has_room(capacity, active) {
                    return Err(ApiError::Conflict("The mentor has no room.".into()));
                }
                row.expires_at = Some(expires.naive_utc());
                repo::insert_request(conn, &row)?;
                let org_id = Some(org);
                jobs::enqueue(
                    conn,
                    NewJob {
                        organization_id: org_id,
                        run_at: expires.naive_utc(),
                        dedupe_key: Some(format!("{EXPIRE_JOB}:{}", row.id)),
                        ..NewJob::now(EXPIRE_JOB, json!({"request_id": row.id}))
                    },
                )?;
                if let Some(remind) = remind {
                    jobs::enqueue(
                        conn,
                        NewJob {
                            organization_id: org_id,
                            run_at: remind.naive_utc(),
                            dedupe_key: Some(format!("{REMIND_JOB}:{}", row.id)),
                            ..NewJob::now(REMIND_JOB, json!({"request_id": row.id}))
                        },
                    )?;
                }
                let (mentee_row, mentor_row) = (person(conn, org, &mentee)?, person(conn, org, &mentor)?);
                email(
                    conn,
                    &program,
                    "mentor_request",
                    &mentor_row,
                    json!({"mentee": person_json(&mentee_row)}),
                    &format!("request:{}", row.id),
                )?;
                decision(conn, row, None)
            })()?;
            audit::record(
                conn,
                &actor,
                "mentor_request.created",
                ("mentor_request", made.request.id),
                audit::NONE,
                &made,
            )?;
            Ok(made)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/programs/{program_id}/requests/{}", made.request.id),
        ))
        .json(made))
}

/// The program's requests, newest last (admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), PageQuery),
    responses(
        (status = 200, description = "A page of requests", body = MentorRequestPage),
        (status = 400, description = "Malformed id or bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<MentorRequestPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let rows = repo::requests_page(conn, &program.id, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            let items = repo::requests_to_api(conn, rows)?;
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(MentorRequestPage { items, next_cursor }))
}

/// Loads an open request the caller may answer: its mentor, or an admin.
fn answerable(conn: &mut DbConn, caller: &Caller, program: &ProgramRow, id: Uuid) -> Result<RequestRow, ApiError> {
    let request = repo::get_request(conn, &program.id, id)?;
    if !caller.is_admin && request.mentor_id != caller.person.to_string() {
        return Err(ApiError::Forbidden("Only the request's mentor or an admin answers it."));
    }
    if request.status != "open" {
        return Err(ApiError::Conflict(format!(
            "The request is {} already.",
            request.status
        )));
    }
    Ok(request)
}

/// The mentor (or an admin) approves: the pairing is created if the mentor still has room.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("request_id" = Uuid, Path, description = "The request's id"),
    ),
    responses(
        (status = 200, description = "The approved request and its pairing", body = RequestDecision),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Neither the request's mentor nor an admin", body = Problem),
        (status = 404, description = "No such program or request in this organisation", body = Problem),
        (status = 409, description = "Already answered or expired, the mentor has no room, or the mentee is paired", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/requests/{request_id}/approve")]
pub async fn approve_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<RequestDecision>, ApiError> {
    let (program_id, request_id) = path.into_inner();
    let actor = caller.actor();
    let made = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, program_id)?;
            let request = answerable(conn, &caller, &program, request_id)?;
            let pairing = create_pairing(
                conn,
                &program,
                &request.mentee_id,
                &request.mentor_id,
                Some(&request.id),
            )?;
            if !repo::decide(conn, &request.id, "approved", None)? {
                return Err(ApiError::Conflict("The request was answered meanwhile.".into()));
            }
            let request = repo::get_request(conn, &program.id, request_id)?;
            let made = decision(conn, request, Some(pairing))?;
            let (before, after) = (
                json!({"status": "open"}),
                json!({"status": "approved", "pairing": made.pairing}),
            );
            audit::record(
                conn,
                &actor,
                "mentor_request.approved",
                ("mentor_request", request_id),
                before,
                after,
            )?;
            Ok(made)
        })
        .await?;
    Ok(web::Json(made))
}

/// The mentor (or an admin) declines; the message goes to the mentee.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("request_id" = Uuid, Path, description = "The request's id"),
    ),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "The declined request", body = MentorRequest),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Neither the request's mentor nor an admin", body = Problem),
        (status = 404, description = "No such program or request in this organisation", body = Problem),
        (status = 409, description = "Already answered or expired", body = Problem),
        (status = 422, description = "A message over 2,000 characters", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/requests/{request_id}/decline")]
pub async fn decline_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<DeclineRequest>,
) -> Result<web::Json<MentorRequest>, ApiError> {
    let message = cohort_domain::bounded_text(&input.message, 0, 2000).map_err(|e| ApiError::invalid("message", e))?;
    let (program_id, request_id) = path.into_inner();
    let actor = caller.actor();
    let declined = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, program_id)?;
            let request = answerable(conn, &caller, &program, request_id)?;
            if !repo::decide(conn, &request.id, "declined", Some(message.clone()))? {
                return Err(ApiError::Conflict("The request was answered meanwhile.".into()));
            }
            let (before, after) = (
                json!({"status": "open"}),
                json!({"status": "declined", "decline_message": message}),
            );
            audit::record(
                conn,
                &actor,
                "mentor_request.declined",
                ("mentor_request", request_id),
                before,
                after,
            )?;
            let extra = json!({"message": message});
            answered(conn, &program, &request, "request_declined", extra, REQUEST_DECLINED)?;
            let row = repo::get_request(conn, &program.id, request_id)?;
            Ok(one(repo::requests_to_api(conn, vec![row])?))
        })
        .await?;
    Ok(web::Json(declined))
}

/// The program's active pairings, oldest first (admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), PageQuery),
    responses(
        (status = 200, description = "A page of active pairings", body = PairingPage),
        (status = 400, description = "Malformed id or bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairings")]
pub async fn list_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<PairingPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let rows = repo::active_pairings_page(conn, &program.id, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            let items = repo::pairings_to_api(conn, rows)?;
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(PairingPage { items, next_cursor }))
}

/// Ends a pairing with a reason: the mentor's place frees up.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("pairing_id" = Uuid, Path, description = "The pairing's id"),
    ),
    request_body = EndPairing,
    responses(
        (status = 200, description = "The ended pairing", body = Pairing),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or pairing in this organisation", body = Problem),
        (status = 409, description = "Ended already", body = Problem),
        (status = 422, description = "No reason given", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/pairings/{pairing_id}/end")]
pub async fn end_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<EndPairing>,
) -> Result<web::Json<Pairing>, ApiError> {
    caller.require_admin()?;
    let reason = cohort_domain::bounded_text(&input.reason, 1, 500).map_err(|e| ApiError::invalid("reason", e))?;
    let (org, (program_id, pairing_id), actor) = (caller.org, path.into_inner(), caller.actor());
    let ended = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let pairing = repo::get_pairing(conn, &program.id, pairing_id)?;
            if !repo::end_pairing(conn, &pairing.id, &reason)? {
                return Err(ApiError::Conflict("The pairing has ended already.".into()));
            }
            let payload = json!({"pairing_id": pairing.id, "reason": reason});
            let events = [
                event(
                    &program,
                    PAIRING_ENDED,
                    &pairing.mentee_id,
                    payload.clone(),
                    &pairing.id,
                ),
                event(&program, PAIRING_ENDED, &pairing.mentor_id, payload, &pairing.id),
            ];
            crate::events::record(conn, &events)?;
            let (before, after) = (
                json!({"ended_at": null}),
                json!({"ended_at": db::utc(db::now()), "end_reason": reason}),
            );
            audit::record(conn, &actor, "pairing.ended", ("pairing", pairing_id), before, after)?;
            let row = repo::get_pairing(conn, &program.id, pairing_id)?;
            Ok(one(repo::pairings_to_api(conn, vec![row])?))
        })
        .await?;
    Ok(web::Json(ended))
}

fn request_of(job: &Job) -> Result<String, String> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    payload["request_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} job {} without request_id", job.kind, job.id))
}

/// `request.expire`: an unanswered request expires; the mentee is emailed mentors who have room.
pub async fn run_expire(db: Db, job: Job) -> Result<(), String> {
    let id = request_of(&job)?;
    db.write(move |conn| {
        let Some(request) = repo::find_request(conn, &id)? else {
            return Ok(());
        };
        if request.status != "open" || !repo::decide(conn, &request.id, "expired", None)? {
            return Ok(());
        }
        let org = db::id(&request.organization_id);
        let program = programs::get(conn, org, db::id(&request.program_id))?;
        let suggestions: Vec<Value> = mentors_with_room(conn, &program, Some(&request.mentee_id), false)?
            .into_iter()
            .filter(|m| m.person_id.to_string() != request.mentor_id)
            .take(3)
            .map(|m| json!({"name": m.name}))
            .collect();
        let extra = json!({"suggestions": suggestions});
        answered(conn, &program, &request, "request_expired", extra, REQUEST_EXPIRED)
    })
    .await
    .map_err(|e| e.to_string())
}

/// `request.remind`: the mentor of a still-open request is reminded once.
pub async fn run_remind(db: Db, job: Job) -> Result<(), String> {
    let id = request_of(&job)?;
    db.write(move |conn| {
        let Some(request) = repo::find_request(conn, &id)? else {
            return Ok(());
        };
        if request.status != "open" {
            return Ok(());
        }
        let org = db::id(&request.organization_id);
        let program = programs::get(conn, org, db::id(&request.program_id))?;
        let (mentee, mentor) = (
            person(conn, org, &request.mentee_id)?,
            person(conn, org, &request.mentor_id)?,
        );
        email(
            conn,
            &program,
            "mentor_request",
            &mentor,
            json!({"mentee": person_json(&mentee)}),
            &format!("reminder:{}", request.id),
        )
    })
    .await
    .map_err(|e| e.to_string())
}

/// The program's mentors with their room: for a mentee, the best-fitting first (by the
/// program's auto-pair rules, those the rules rule out last), then the emptiest, then by name.
/// `include_full` keeps mentors without room (the admins' view).
fn mentors_with_room(
    conn: &mut DbConn,
    program: &ProgramRow,
    mentee: Option<&str>,
    include_full: bool,
) -> Result<Vec<AvailableMentor>, ApiError> {
    let settings = repo::settings(conn, &program.id)?;
    let mentors = views::active_mentors_with_people(conn, &program.id)?;
    let active_by_mentor = repo::active_pairings_by_mentor(conn, &program.id)?;
    let scores = match mentee {
        Some(mentee) => auto::scores_for(conn, program, mentee)?,
        None => Default::default(),
    };
    let mut listed = Vec::new();
    for (id, name, bio, own) in mentors {
        let capacity = settings.capacity_of(own);
        let active = active_by_mentor.get(&id).copied().unwrap_or(0);
        if include_full || rules::has_room(capacity, active) {
            listed.push(AvailableMentor {
                score: scores.get(&id).copied(),
                person_id: db::id(&id),
                name,
                bio,
                own_capacity: own.map(|c| c as u32),
                capacity,
                active_pairings: active,
            });
        }
    }
    let room = |m: &AvailableMentor| m.capacity.saturating_sub(m.active_pairings);
    listed.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| room(b).cmp(&room(a)))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(listed)
}

/// Mentors the caller can ask, with their room (the program's mentees and admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), MentorsQuery),
    responses(
        (status = 200, description = "Mentors with room: for a mentee the best fits first, then the emptiest", body = AvailableMentorList),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Neither a mentee of the program nor an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/mentors")]
pub async fn available_mentors(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<MentorsQuery>,
) -> Result<web::Json<AvailableMentorList>, ApiError> {
    let program_id = id.into_inner();
    let items = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, caller.org, program_id)?;
            let mentee = repo::membership(conn, &program.id, &caller.person.to_string(), "mentee")?;
            if !caller.is_admin && mentee.is_none() {
                return Err(ApiError::Forbidden(
                    "Only the program's mentees and admins see its mentors' room.",
                ));
            }
            if query.include_full.unwrap_or(false) && !caller.is_admin {
                return Err(ApiError::Forbidden("Only admins see mentors without room."));
            }
            // A mentee sees the best fits first; admins may ask on a mentee's behalf.
            let for_mentee = match (mentee.is_some(), query.mentee_id) {
                (_, Some(m)) if caller.is_admin => Some(m.to_string()),
                (true, _) => Some(caller.person.to_string()),
                _ => None,
            };
            mentors_with_room(
                conn,
                &program,
                for_mentee.as_deref(),
                query.include_full.unwrap_or(false),
            )
        })
        .await?;
    Ok(web::Json(AvailableMentorList { items }))
}

/// The caller's requests, as mentee and as mentor, across programs, oldest first.
#[utoipa::path(
    tag = "pairing",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's requests", body = MyRequestPage),
        (status = 400, description = "Bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/requests")]
pub async fn my_requests(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<MyRequestPage>, ApiError> {
    let (org, me) = (caller.org, caller.person);
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::requests_of_person(conn, org, me, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            let items = repo::requests_to_api(conn, rows)?;
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(MyRequestPage { items, next_cursor }))
}

const EXPORT_EXAMPLE: &str = "mentee,mentee_email,mentor,mentor_email,paired_at\r\n\
Amara N,amara.n@example.org,Talia K,talia.k@example.org,2027-01-12T04:00:00-05:00\r\n";

/// The program's active pairings as CSV, times in the organisation's zone. Cells that a
/// spreadsheet would run as formulas are written as text.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The active pairings", content_type = "text/csv", body = String, example = json!(EXPORT_EXAMPLE)),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairings/export")]
pub async fn export_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let program = state.db.read(move |conn| programs::get(conn, org, id)).await?;
    export_pairings_of(&state.db, org, program).await
}

/// The program's active pairings as a CSV download, times in the organisation's zone.
pub async fn export_pairings_of(db: &Db, org: Uuid, program: ProgramRow) -> Result<HttpResponse, ApiError> {
    let zone = db.read(move |conn| organization::repo::get(conn, org)).await?.time_zone;
    let zone = cohort_domain::tenancy::zone(&zone);
    let filename = format!("pairings-{}.csv", cohort_domain::tenancy::slugify(&program.name));
    crate::downloads::csv_stream(db, filename, move |conn, after| {
        pairings_csv(conn, &program.id, zone, after)
    })
    .await
}

/// A page of the program's active pairings as CSV, by id, times in `zone`.
fn pairings_csv(
    conn: &mut DbConn,
    program: &str,
    zone: chrono_tz::Tz,
    after: Option<String>,
) -> Result<crate::downloads::CsvPage<String>, ApiError> {
    use cohort_domain::spreadsheet::safe_cell;
    let rows = views::active_pairings_with_people(conn, program, after.as_deref(), crate::downloads::PAGE)?;
    crate::downloads::CsvPage::of(
        after
            .is_none()
            .then_some(&["mentee", "mentee_email", "mentor", "mentor_email", "paired_at"][..]),
        rows,
        |row| row.0.clone(),
        |(_, mentee, mentee_email, mentor, mentor_email, at)| {
            let at = db::utc(*at)
                .with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
            [mentee, mentee_email, mentor, mentor_email]
                .map(|c| safe_cell(c).into_owned())
                .into_iter()
                .chain([at])
                .collect()
        },
    )
}

/// Sets a mentor's own capacity in the program, or (with `null`) goes back to the program's.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("person_id" = Uuid, Path, description = "The mentor (a person taking part as mentor)"),
    ),
    request_body = SetMentorCapacity,
    responses(
        (status = 200, description = "The mentor's capacity now", body = MentorCapacity),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program, or no such mentor in it", body = Problem),
        (status = 422, description = "A capacity out of range", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/programs/{id}/mentors/{person_id}/capacity")]
pub async fn set_mentor_capacity(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<SetMentorCapacity>,
) -> Result<web::Json<MentorCapacity>, ApiError> {
    caller.require_admin()?;
    let own = input
        .capacity
        .map(rules::check_capacity)
        .transpose()
        .map_err(|e| ApiError::invalid("capacity", e))?;
    let (org, (program_id, person), actor) = (caller.org, path.into_inner(), caller.actor());
    let capacity = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let person = person.to_string();
            let (membership, _) = repo::membership(conn, &program.id, &person, "mentor")?.ok_or(ApiError::NotFound)?;
            repo::set_capacity(conn, &membership, own.map(|c| c as i32))?;
            let settings = repo::settings(conn, &program.id)?;
            let after = json!({"own_capacity": own});
            audit::record(
                conn,
                &actor,
                "mentor_capacity.set",
                ("participant", &membership),
                audit::NONE,
                after,
            )?;
            Ok(MentorCapacity {
                person_id: db::id(&person),
                own_capacity: own,
                capacity: settings.capacity_of(own.map(|c| c as i32)),
                active_pairings: repo::active_pairings_of_mentor(conn, &program.id, &person)? as u32,
            })
        })
        .await?;
    Ok(web::Json(capacity))
}
