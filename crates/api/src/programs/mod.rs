//! Programs and their participants.

pub mod repo;

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use cohort_api_types::{
    AddParticipant, AddParticipants, AddedParticipants, CreateProgram, MyProgram, MyProgramPage, PageQuery,
    Participant, ParticipantPage, ParticipantStatus, ParticipantsQuery, Problem, Program, ProgramPage, ProgramStatus,
    ProgramsQuery, UpdateProgram,
};
use cohort_domain::events;
use cohort_domain::programs::{self as rules, MAX_BULK_PARTICIPANTS};
use cohort_domain::tenancy::parse_time_zone;
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::events::EventRow;
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::{organization, people, AppState};

fn to_domain(status: ProgramStatus) -> rules::ProgramStatus {
    match status {
        ProgramStatus::Draft => rules::ProgramStatus::Draft,
        ProgramStatus::Published => rules::ProgramStatus::Published,
        ProgramStatus::Archived => rules::ProgramStatus::Archived,
    }
}

fn with_counts(conn: &mut DbConn, rows: Vec<repo::ProgramRow>) -> Result<Vec<Program>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let counts = repo::active_counts(conn, &ids)?;
    Ok(rows.into_iter().map(|r| r.into_api(&counts)).collect())
}

/// The programs the caller takes or took part in, with their role and membership status in each
/// (one item per program and role), by when they were added.
#[utoipa::path(
    tag = "participants",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's memberships", body = MyProgramPage),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/programs")]
pub async fn my_programs(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<MyProgramPage>, ApiError> {
    let (org, me) = (caller.org, caller.person);
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::memberships_page_of_person(conn, org, me, &page)?;
            let (rows, next) = page.finish(rows, |(m, _)| db::id(&m.id));
            let items = rows
                .into_iter()
                .map(|(membership, program)| {
                    let membership = membership.into_api(String::new(), String::new());
                    MyProgram {
                        participant_id: membership.id,
                        program_id: membership.program_id,
                        program_status: repo::status_from_db(&program.status),
                        program_name: program.name,
                        program_description: program.description,
                        time_zone: program.time_zone,
                        role: membership.role,
                        status: membership.status,
                        joined_at: membership.joined_at,
                        removed_at: membership.removed_at,
                    }
                })
                .collect();
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(MyProgramPage { items, next_cursor }))
}

/// The organisation's programs, one page at a time (admins only).
#[utoipa::path(
    tag = "programs",
    params(ProgramsQuery),
    responses(
        (status = 200, description = "A page of programs", body = ProgramPage),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs")]
pub async fn list_programs(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ProgramsQuery>,
) -> Result<web::Json<ProgramPage>, ApiError> {
    caller.require_admin()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let status = query.status.map(|s| to_domain(s).as_str());
    let org = caller.org;
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let (rows, next) = page.finish(repo::list(conn, org, status, &page)?, |r| db::id(&r.id));
            Ok((with_counts(conn, rows)?, next))
        })
        .await?;
    Ok(web::Json(ProgramPage { items, next_cursor }))
}

/// Creates a draft program.
#[utoipa::path(
    tag = "programs",
    request_body = CreateProgram,
    responses(
        (status = 201, description = "The program was created as a draft", body = Program),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid field values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs")]
pub async fn create_program(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreateProgram>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let name = problems.check("name", rules::parse_program_name(&input.name));
    let description = problems.check("description", rules::parse_program_description(&input.description));
    let time_zone = input
        .time_zone
        .as_deref()
        .map(|tz| problems.check("time_zone", parse_time_zone(tz)));
    problems.finish()?;
    let (Some(name), Some(description)) = (name, description) else {
        unreachable!("problems.finish() returned early for missing values")
    };
    let (org, actor) = (caller.org, caller.actor());
    let program = state
        .db
        .write(move |conn| {
            let time_zone = match time_zone.flatten() {
                Some(tz) => tz.name().to_owned(),
                None => organization::repo::get(conn, org)?.time_zone,
            };
            let now = db::now();
            let row = repo::ProgramRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                name,
                description,
                status: rules::ProgramStatus::Draft.as_str().to_owned(),
                time_zone,
                created_at: now,
                updated_at: now,
                participant_editable_attributes: "[]".into(),
            };
            repo::insert(conn, &row)?;
            let program = row.into_api(&Default::default());
            audit::record(
                conn,
                &actor,
                "program.created",
                ("program", program.id),
                audit::NONE,
                &program,
            )?;
            Ok(program)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/programs/{}", program.id)))
        .json(program))
}

/// One program with its participant counts.
#[utoipa::path(
    tag = "programs",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The program", body = Program),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}")]
pub async fn get_program(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Program>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let program = state
        .db
        .read(move |conn| {
            let row = repo::get(conn, org, id)?;
            with_counts(conn, vec![row])
        })
        .await?;
    Ok(web::Json(program.into_iter().next().ok_or(ApiError::NotFound)?))
}

/// Renames, re-describes, moves to another time zone, publishes or archives a program.
#[utoipa::path(
    tag = "programs",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = UpdateProgram,
    responses(
        (status = 200, description = "The program after the change", body = Program),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "Invalid field values or status change", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/programs/{id}")]
pub async fn update_program(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(changes): Body<UpdateProgram>,
) -> Result<web::Json<Program>, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let name = changes
        .name
        .as_deref()
        .and_then(|n| problems.check("name", rules::parse_program_name(n)));
    let description = changes
        .description
        .as_deref()
        .and_then(|d| problems.check("description", rules::parse_program_description(d)));
    let time_zone = changes
        .time_zone
        .as_deref()
        .and_then(|tz| problems.check("time_zone", parse_time_zone(tz)));
    let editable_attributes = changes.participant_editable_attributes.as_deref().and_then(|keys| {
        problems.check(
            "participant_editable_attributes",
            cohort_domain::people::parse_editable_attribute_keys(keys),
        )
    });
    problems.finish()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let program = state
        .db
        .write(move |conn| {
            let mut row = repo::get(conn, org, id)?;
            let before = row.clone().into_api(&Default::default());
            if let Some(next) = changes.status {
                let current = to_domain(repo::status_from_db(&row.status));
                let next = current
                    .transition_to(to_domain(next))
                    .map_err(|e| ApiError::invalid("status", e))?;
                row.status = next.as_str().to_owned();
            }
            row.name = name.unwrap_or(row.name);
            row.description = description.unwrap_or(row.description);
            row.time_zone = time_zone.map(|tz| tz.name().to_owned()).unwrap_or(row.time_zone);
            if let Some(keys) = &editable_attributes {
                row.participant_editable_attributes = repo::editable_attributes_json(keys);
            }
            row.updated_at = db::now();
            repo::save(conn, &row)?;
            audit::record(
                conn,
                &actor,
                "program.updated",
                ("program", id),
                &before,
                row.clone().into_api(&Default::default()),
            )?;
            with_counts(conn, vec![row])
        })
        .await?;
    Ok(web::Json(program.into_iter().next().ok_or(ApiError::NotFound)?))
}

/// A program's participants, filtered, one page at a time.
#[utoipa::path(
    tag = "participants",
    params(("id" = Uuid, Path, description = "The program's id"), ParticipantsQuery),
    responses(
        (status = 200, description = "A page of participants", body = ParticipantPage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/participants")]
pub async fn list_participants(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<ParticipantsQuery>,
) -> Result<web::Json<ParticipantPage>, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = repo::ParticipantFilter {
        role: query.role,
        status: query.status.unwrap_or(ParticipantStatus::Active),
        q: query.q,
    };
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::list_participants(conn, org, id, &filter, &page)?;
            // An empty page may mean that the program is not this organisation's.
            if rows.is_empty() {
                repo::get(conn, org, id)?;
            }
            Ok(page.finish(rows, |p| p.id))
        })
        .await?;
    Ok(web::Json(ParticipantPage { items, next_cursor }))
}

/// What adding people to a program does: new memberships are created, removed
/// ones re-activated (with a new `joined_at`), active ones left alone. CSV imports add through here too.
/// One audit entry per participant added (or re-activated).
fn audit_added(
    conn: &mut DbConn,
    actor: &audit::Actor,
    (added, already): (Vec<Participant>, usize),
) -> Result<(Vec<Participant>, usize), ApiError> {
    for p in &added {
        audit::record(conn, actor, "participant.added", ("participant", p.id), audit::NONE, p)?;
    }
    Ok((added, already))
}

pub(crate) fn add(
    conn: &mut DbConn,
    org: Uuid,
    program_id: Uuid,
    entries: &[AddParticipant],
    field: impl Fn(usize) -> String,
) -> Result<(Vec<Participant>, usize), ApiError> {
    let program = open_to_join(conn, org, program_id)?;
    let person_ids: Vec<String> = entries.iter().map(|e| e.person_id.to_string()).collect();
    let known: HashSet<String> = people::repo::existing_ids(conn, org, &person_ids)?
        .into_iter()
        .collect();
    let mut problems = Problems::default();
    let mut seen = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        if !known.contains(&entry.person_id.to_string()) {
            let path = match field(i) {
                prefix if prefix.is_empty() => "person_id".to_owned(),
                prefix => format!("{prefix}.person_id"),
            };
            problems.push(path, "no such person in this organisation");
        } else if !seen.insert((entry.person_id, entry.role)) {
            problems.push(field(i), "this person and role appear twice");
        }
    }
    problems.finish()?;
    let existing = repo::memberships_of(conn, &program.id, &person_ids)?;
    let (added, already_active) = join(conn, &program, entries, &existing)?;
    let names = repo::names(conn, &person_ids)?;
    let participants = added
        .into_iter()
        .map(|row| {
            let (name, email) = names.get(&row.person_id).cloned().unwrap_or_default();
            row.into_api(name, email)
        })
        .collect();
    Ok((participants, already_active))
}

/// The organisation's program, locked for adding participants until the transaction ends;
/// 409 when it is archived.
pub(crate) fn open_to_join(conn: &mut DbConn, org: Uuid, program_id: Uuid) -> Result<repo::ProgramRow, ApiError> {
    let program = repo::get(conn, org, program_id)?;
    repo::lock(conn, &program.id)?;
    if program.status == rules::ProgramStatus::Archived.as_str() {
        return Err(ApiError::Conflict(
            "The program is archived; publish it again to add participants.".into(),
        ));
    }
    Ok(program)
}

/// Adds `entries` (distinct people of the organisation and roles) to `program`
/// ([`open_to_join`]), whose memberships of those people are `existing`: new memberships are
/// created, removed ones re-activated (with a new `joined_at`), active ones left alone. Joining
/// delivers the program's steps due on join and records `participant.joined`. Returns the
/// memberships added and how many were active already.
pub(crate) fn join(
    conn: &mut DbConn,
    program: &repo::ProgramRow,
    entries: &[AddParticipant],
    existing: &[repo::ParticipantRow],
) -> Result<(Vec<repo::ParticipantRow>, usize), ApiError> {
    let now = db::now();
    let (mut fresh, mut added, mut already_active) = (Vec::new(), Vec::new(), 0);
    for entry in entries {
        let (person, role) = (entry.person_id.to_string(), repo::role_to_db(entry.role));
        match existing.iter().find(|m| m.person_id == person && m.role == role) {
            Some(m) if m.status == "active" => already_active += 1,
            Some(m) => {
                repo::set_participant_status(conn, &m.id, "active", Some(now), None)?;
                added.push(repo::ParticipantRow {
                    status: "active".into(),
                    joined_at: now,
                    removed_at: None,
                    ..m.clone()
                });
            }
            None => fresh.push(repo::ParticipantRow {
                id: db::new_id(),
                organization_id: program.organization_id.clone(),
                program_id: program.id.clone(),
                person_id: person,
                role: role.to_owned(),
                status: "active".into(),
                joined_at: now,
                removed_at: None,
            }),
        }
    }
    repo::insert_participants(conn, &fresh)?;
    added.extend(fresh);
    crate::steps::delivery::on_join(conn, &program.time_zone, &added)?;
    let joined: Vec<EventRow> = added
        .iter()
        .map(|p| {
            EventRow::new(
                &p.organization_id,
                events::PARTICIPANT_JOINED,
                &p.program_id,
                &p.person_id,
                serde_json::json!({"participant_id": p.id, "role": p.role}),
                format!(
                    "{}:{}:{}",
                    events::PARTICIPANT_JOINED,
                    p.id,
                    p.joined_at.and_utc().to_rfc3339()
                ),
                p.joined_at,
            )
        })
        .collect();
    crate::events::record(conn, &joined)?;
    Ok((added, already_active))
}

/// Adds one person to a program as mentor or mentee.
#[utoipa::path(
    tag = "participants",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = AddParticipant,
    responses(
        (status = 201, description = "The person takes part now", body = Participant),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 409, description = "Already an active participant in this role, or the program is archived", body = Problem),
        (status = 422, description = "Unknown person", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/participants")]
pub async fn add_participant(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(entry): Body<AddParticipant>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let (added, _) = state
        .db
        .write(move |conn| {
            let added = add(conn, org, id, &[entry], |_| String::new())?;
            audit_added(conn, &actor, added)
        })
        .await?;
    let participant = added
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Conflict("This person already takes part in the program in this role.".into()))?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/programs/{id}/participants/{}", participant.id),
        ))
        .json(participant))
}

/// Adds up to 1,000 people at once: all of them or, when any entry is invalid, none.
/// People who already take part in that role are left alone.
#[utoipa::path(
    tag = "participants",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = AddParticipants,
    responses(
        (status = 201, description = "The participants created or re-activated", body = AddedParticipants),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 409, description = "The program is archived", body = Problem),
        (status = 422, description = "Unknown people, repeats, or too many entries; nothing was added", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/participants/bulk")]
pub async fn add_participants(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<AddParticipants>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    if input.participants.len() > MAX_BULK_PARTICIPANTS {
        return Err(ApiError::field(
            "participants",
            format!("at most {MAX_BULK_PARTICIPANTS} entries at once"),
        ));
    }
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let (added, _) = state
        .db
        .write(move |conn| {
            let added = add(conn, org, id, &input.participants, |i| format!("participants[{i}]"))?;
            audit_added(conn, &actor, added)
        })
        .await?;
    Ok(HttpResponse::Created().json(AddedParticipants { added }))
}

/// Removes a participant from the program. The membership is kept as `removed`, for history.
#[utoipa::path(
    tag = "participants",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("participant_id" = Uuid, Path, description = "The participant's id"),
    ),
    responses(
        (status = 204, description = "The participant was removed"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or participant in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/programs/{id}/participants/{participant_id}")]
pub async fn remove_participant(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, (program_id, participant_id), actor) = (caller.org, path.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let program = repo::get(conn, org, program_id)?;
            let participant = repo::get_participant(conn, &program.id, participant_id)?;
            if participant.status == "active" {
                repo::set_participant_status(conn, &participant.id, "removed", None, Some(db::now()))?;
                let (before, after) = (json!({"status": "active"}), json!({"status": "removed"}));
                audit::record(
                    conn,
                    &actor,
                    "participant.removed",
                    ("participant", participant_id),
                    before,
                    after,
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
