//! Pairing: settings, mentor requests with approval and business-day expiry, pairings.
//! Capacity is checked with the mentor's membership locked (PostgreSQL) or in the writer's turn
//! (SQLite); a partial unique index keeps a mentee in one active pairing per program.

pub mod auto;
pub mod health;
pub mod invitations;
pub mod repo;
pub mod views;

mod answers;
mod expiry;
mod export;
mod mentors;
mod pairings;
mod requests;
mod settings;

pub use answers::*;
pub use expiry::*;
pub use export::*;
pub use mentors::*;
pub use pairings::*;
pub use requests::*;
pub use settings::*;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::NaiveDate;
use cohort_api_types::{
    AvailableMentor, AvailableMentorList, CreateMentorRequest, DeclineRequest, EndPairing, MentorCapacity,
    MentorRequest, MentorRequestPage, MentorsQuery, MyPairing, MyPairingPage, MyRequestPage, PageQuery, PairedPerson,
    Pairing, PairingPage, PairingSettings, ParticipantRole, Problem, RequestDecision, SetMentorCapacity,
    UpdatePairingSettings,
};
use cohort_domain::auth::LinkPurpose;
use cohort_domain::business_days::BusinessCalendar;
use cohort_domain::events::{PAIRING_CREATED, PAIRING_ENDED, REQUEST_DECLINED, REQUEST_EXPIRED, REQUEST_WITHDRAWN};
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
    extra["link"] = json!(cohort_api_types::links::participant_program(db::id(&program.id)));
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

/// Emails a request's mentor (`cause`: the request, or its reminder) with "Accept" and
/// "Decline": a one-time link that answers this request as this mentor, and only once.
fn request_email(conn: &mut DbConn, program: &ProgramRow, request: &RequestRow, cause: &str) -> Result<(), ApiError> {
    use cohort_api_types::links::{answer_request, RequestAnswer};
    let org = db::id(&program.organization_id);
    let (mentee, mentor) = (
        person(conn, org, &request.mentee_id)?,
        person(conn, org, &request.mentor_id)?,
    );
    let token = crate::auth::repo::issue_link(
        conn,
        &request.organization_id,
        &mentor.id,
        LinkPurpose::RequestAnswer,
        Some(&request.id),
    )?;
    let extra = json!({
        "mentee": person_json(&mentee),
        "accept_link": answer_request(&token, RequestAnswer::Accept),
        "decline_link": answer_request(&token, RequestAnswer::Decline),
    });
    email(
        conn,
        program,
        "mentor_request",
        &mentor,
        extra,
        &format!("{cause}:{}", request.id),
    )
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
pub(crate) fn create_pairing(
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
