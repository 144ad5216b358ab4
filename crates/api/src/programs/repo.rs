use std::collections::HashMap;

use chrono::NaiveDateTime;
use cohort_api_types::{Participant, ParticipantRole, ParticipantStatus, Program, ProgramStatus};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, lower, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::{participants, people, programs};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = programs)]
pub struct ProgramRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub time_zone: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A JSON array of attribute keys, written from validated keys.
    pub participant_editable_attributes: String,
}

pub fn status_from_db(s: &str) -> ProgramStatus {
    match s {
        "published" => ProgramStatus::Published,
        "archived" => ProgramStatus::Archived,
        _ => ProgramStatus::Draft,
    }
}

impl ProgramRow {
    pub fn into_api(self, counts: &HashMap<(String, String), i64>) -> Program {
        let count = |role: &str| counts.get(&(self.id.clone(), role.to_owned())).copied().unwrap_or(0);
        Program {
            id: db::id(&self.id),
            mentor_count: count("mentor"),
            mentee_count: count("mentee"),
            status: status_from_db(&self.status),
            name: self.name,
            description: self.description,
            time_zone: self.time_zone,
            participant_editable_attributes: editable_attributes(&self.participant_editable_attributes),
            created_at: db::utc(self.created_at),
            updated_at: db::utc(self.updated_at),
        }
    }
}

fn editable_attributes(json: &str) -> Vec<String> {
    // Written by `editable_attributes_json` from validated keys.
    serde_json::from_str(json).unwrap_or_default()
}

pub fn editable_attributes_json(keys: &[String]) -> String {
    serde_json::Value::from(keys).to_string()
}

/// The attribute keys that a person may change on their own profile: those editable in any program
/// they are an active participant of.
pub fn editable_attributes_of_person(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
) -> Result<std::collections::BTreeSet<String>, ApiError> {
    let lists: Vec<String> = participants::table
        .inner_join(programs::table)
        .filter(participants::organization_id.eq(org.to_string()))
        .filter(participants::person_id.eq(person.to_string()))
        .filter(participants::status.eq("active"))
        .select(programs::participant_editable_attributes)
        .load(conn)?;
    Ok(lists.iter().flat_map(|json| editable_attributes(json)).collect())
}

pub fn get(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<ProgramRow, ApiError> {
    Ok(programs::table
        .filter(programs::organization_id.eq(org.to_string()))
        .filter(programs::id.eq(id.to_string()))
        .select(ProgramRow::as_select())
        .first(conn)?)
}

pub fn list(
    conn: &mut DbConn,
    org: Uuid,
    status: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<ProgramRow>, ApiError> {
    let mut query = programs::table
        .filter(programs::organization_id.eq(org.to_string()))
        .select(ProgramRow::as_select())
        .order(programs::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(programs::id.gt(after.clone()));
    }
    if let Some(status) = status {
        query = query.filter(programs::status.eq(status.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Active participants per (program, role) for the given programs.
pub fn active_counts(conn: &mut DbConn, program_ids: &[String]) -> Result<HashMap<(String, String), i64>, ApiError> {
    let rows: Vec<(String, String, i64)> = participants::table
        .filter(participants::program_id.eq_any(program_ids))
        .filter(participants::status.eq("active"))
        .group_by((participants::program_id, participants::role))
        .select((participants::program_id, participants::role, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(program, role, n)| ((program, role), n))
        .collect())
}

pub fn insert(conn: &mut DbConn, row: &ProgramRow) -> Result<(), ApiError> {
    diesel::insert_into(programs::table).values(row).execute(conn)?;
    Ok(())
}

pub fn save(conn: &mut DbConn, row: &ProgramRow) -> Result<(), ApiError> {
    diesel::update(programs::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = participants, treat_none_as_default_value = false)]
pub struct ParticipantRow {
    pub id: String,
    pub organization_id: String,
    pub program_id: String,
    pub person_id: String,
    pub role: String,
    pub status: String,
    pub joined_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

pub fn role_to_db(role: ParticipantRole) -> &'static str {
    match role {
        ParticipantRole::Mentor => "mentor",
        ParticipantRole::Mentee => "mentee",
    }
}

pub fn role_from_db(role: &str) -> ParticipantRole {
    if role == "mentor" {
        ParticipantRole::Mentor
    } else {
        ParticipantRole::Mentee
    }
}

pub fn participant_status_to_db(status: ParticipantStatus) -> &'static str {
    match status {
        ParticipantStatus::Active => "active",
        ParticipantStatus::Removed => "removed",
    }
}

impl ParticipantRow {
    pub fn into_api(self, name: String, email: String) -> Participant {
        Participant {
            id: db::id(&self.id),
            program_id: db::id(&self.program_id),
            person_id: db::id(&self.person_id),
            name,
            email,
            role: role_from_db(&self.role),
            status: if self.status == "active" {
                ParticipantStatus::Active
            } else {
                ParticipantStatus::Removed
            },
            joined_at: db::utc(self.joined_at),
            removed_at: self.removed_at.map(db::utc),
        }
    }
}

pub struct ParticipantFilter {
    pub role: Option<ParticipantRole>,
    pub status: ParticipantStatus,
    pub q: Option<String>,
}

/// One page of a program's participants (empty when the program is not the organisation's).
pub fn list_participants(
    conn: &mut DbConn,
    org: Uuid,
    program: Uuid,
    filter: &ParticipantFilter,
    page: &PageRequest,
) -> Result<Vec<Participant>, ApiError> {
    let mut query = participants::table
        .inner_join(people::table)
        .filter(participants::program_id.eq(program.to_string()))
        .filter(participants::organization_id.eq(org.to_string()))
        .filter(participants::status.eq(participant_status_to_db(filter.status)))
        .select((ParticipantRow::as_select(), people::name, people::email))
        .order(participants::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(participants::id.gt(after.clone()));
    }
    if let Some(role) = filter.role {
        query = query.filter(participants::role.eq(role_to_db(role)));
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = db::like_pattern(q);
        query = query.filter(
            lower(people::name)
                .like(pattern.clone())
                .escape('\\')
                .or(people::email.like(pattern).escape('\\')),
        );
    }
    let rows: Vec<(ParticipantRow, String, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, name, email)| row.into_api(name, email))
        .collect())
}

pub fn get_participant(conn: &mut DbConn, program: &str, id: Uuid) -> Result<ParticipantRow, ApiError> {
    Ok(participants::table
        .filter(participants::program_id.eq(program.to_owned()))
        .filter(participants::id.eq(id.to_string()))
        .select(ParticipantRow::as_select())
        .first(conn)?)
}

/// Existing memberships (any status) of these people in the program.
pub fn memberships_of(
    conn: &mut DbConn,
    program: &str,
    person_ids: &[String],
) -> Result<Vec<ParticipantRow>, ApiError> {
    Ok(participants::table
        .filter(participants::program_id.eq(program.to_owned()))
        .filter(participants::person_id.eq_any(person_ids))
        .select(ParticipantRow::as_select())
        .load(conn)?)
}

pub fn insert_participants(conn: &mut DbConn, rows: &[ParticipantRow]) -> Result<(), ApiError> {
    if !rows.is_empty() {
        crate::copy_in!(conn, participants::table, rows)?;
    }
    Ok(())
}

pub fn set_participant_status(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    joined_at: Option<NaiveDateTime>,
    removed_at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    let target = participants::table.find(id.to_owned());
    match joined_at {
        Some(joined) => diesel::update(target)
            .set((
                participants::status.eq(status),
                participants::joined_at.eq(joined),
                participants::removed_at.eq(removed_at),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((participants::status.eq(status), participants::removed_at.eq(removed_at)))
            .execute(conn)?,
    };
    Ok(())
}

/// People's names and emails by id, for building participant responses.
pub fn names(conn: &mut DbConn, person_ids: &[String]) -> Result<HashMap<String, (String, String)>, ApiError> {
    let rows: Vec<(String, String, String)> = people::table
        .filter(people::id.eq_any(person_ids))
        .select((people::id, people::name, people::email))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, name, email)| (id, (name, email))).collect())
}

/// The programs a person takes part in (active memberships).
pub fn memberships_of_person(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
) -> Result<Vec<(ParticipantRow, String)>, ApiError> {
    Ok(participants::table
        .inner_join(programs::table)
        .filter(participants::organization_id.eq(org.to_string()))
        .filter(participants::person_id.eq(person.to_string()))
        .filter(participants::status.eq("active"))
        .select((ParticipantRow::as_select(), programs::name))
        .order(participants::id)
        .load(conn)?)
}

/// Takes the program's row lock until the transaction ends (PostgreSQL; SQLite writers already take
/// turns). People joining and a step's publication both take it, so each sees the other's commit:
/// without it, a join that read the steps before the step existed and a publication that read the
/// participants before the join committed would both skip the newcomers.
pub fn lock(conn: &mut DbConn, program_id: &str) -> Result<(), ApiError> {
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query("SELECT id FROM programs WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(program_id)
            .execute(c)?;
    }
    Ok(())
}

/// A page of the person's memberships (active and removed) with their programs, by membership id.
pub fn memberships_page_of_person(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    page: &PageRequest,
) -> Result<Vec<(ParticipantRow, ProgramRow)>, ApiError> {
    let mut query = participants::table
        .inner_join(programs::table)
        .filter(participants::organization_id.eq(org.to_string()))
        .filter(programs::organization_id.eq(org.to_string()))
        .filter(participants::person_id.eq(person.to_string()))
        .select((ParticipantRow::as_select(), ProgramRow::as_select()))
        .order(participants::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(participants::id.gt(after.clone()));
    }
    Ok(query.load(conn)?)
}
