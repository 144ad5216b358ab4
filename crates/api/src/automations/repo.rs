//! Automations, their versions and run counts, and badges in the database.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use cohort_api_types::{AutomationCounts, Badge};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{
    automation_run_actions, automation_runs, automation_versions, automations, badges, person_badges, programs, steps,
};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = automations)]
pub struct AutomationRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub trigger_type: String,
    pub definition: String,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Signs its `call_webhook` requests; shown to admins only as they save the automation.
    pub webhook_secret: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = automation_runs)]
pub struct RunRow {
    pub id: String,
    pub organization_id: String,
    pub automation_id: String,
    pub version: i32,
    pub event_id: String,
    pub person_id: Option<String>,
    pub outcome: String,
    pub conditions: String,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = automation_run_actions)]
pub struct RunActionRow {
    pub run_id: String,
    pub position: i32,
    pub automation_id: String,
    pub action: String,
    pub state: String,
    pub reason: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub done_at: Option<NaiveDateTime>,
    pub attempts: i32,
}

/// The ids among `ids` of the organisation's programs.
pub fn programs_in_org(conn: &mut DbConn, org: Uuid, ids: &[String]) -> Result<Vec<String>, ApiError> {
    Ok(programs::table
        .filter(programs::organization_id.eq(org.to_string()))
        .filter(programs::id.eq_any(ids))
        .select(programs::id)
        .load(conn)?)
}

/// The ids among `ids` of programs that have at least one step.
pub fn programs_with_steps(conn: &mut DbConn, ids: &[String]) -> Result<Vec<String>, ApiError> {
    Ok(steps::table
        .filter(steps::program_id.eq_any(ids))
        .select(steps::program_id)
        .distinct()
        .load(conn)?)
}

/// Whether the organisation has the badge `id`.
pub fn has_badge(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<bool, ApiError> {
    let known: i64 = badges::table
        .filter(badges::organization_id.eq(org.to_string()))
        .filter(badges::id.eq(id.to_string()))
        .count()
        .get_result(conn)?;
    Ok(known > 0)
}

/// Whether the step `id` belongs to one of the organisation's programs.
pub fn has_step(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<bool, ApiError> {
    let known: i64 = steps::table
        .inner_join(programs::table)
        .filter(programs::organization_id.eq(org.to_string()))
        .filter(steps::id.eq(id.to_string()))
        .count()
        .get_result(conn)?;
    Ok(known > 0)
}

/// Records `row`'s current definition and state as a new version, in force from its `updated_at`.
pub fn save_version(conn: &mut DbConn, row: &AutomationRow) -> Result<(), ApiError> {
    diesel::insert_into(automation_versions::table)
        .values((
            automation_versions::automation_id.eq(&row.id),
            automation_versions::version.eq(row.version),
            automation_versions::definition.eq(&row.definition),
            automation_versions::active.eq(row.active),
            automation_versions::valid_from.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether another automation of the organisation (not `except`) has `name`, ignoring case.
pub fn name_taken(conn: &mut DbConn, org: Uuid, name: &str, except: Option<&str>) -> Result<bool, ApiError> {
    let mut q = automations::table
        .filter(automations::organization_id.eq(org.to_string()))
        .filter(db::lower(automations::name).eq(name.to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(automations::id.ne(id.to_owned()));
    }
    Ok(q.count().get_result::<i64>(conn)? > 0)
}

/// The organisation's automation `id` (not found otherwise).
pub fn find(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<AutomationRow, ApiError> {
    Ok(automations::table
        .filter(automations::organization_id.eq(org.to_string()))
        .filter(automations::id.eq(id.to_string()))
        .select(AutomationRow::as_select())
        .first(conn)?)
}

/// Up to `limit` of the organisation's automations after the id `after`, by id.
pub fn page(conn: &mut DbConn, org: Uuid, after: Option<&str>, limit: i64) -> Result<Vec<AutomationRow>, ApiError> {
    let mut q = automations::table
        .filter(automations::organization_id.eq(org.to_string()))
        .select(AutomationRow::as_select())
        .order(automations::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(automations::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Stores a new automation.
pub fn insert(conn: &mut DbConn, row: &AutomationRow) -> Result<(), ApiError> {
    diesel::insert_into(automations::table).values(row).execute(conn)?;
    Ok(())
}

/// Overwrites the automation `row.id` with `row`.
pub fn update(conn: &mut DbConn, row: &AutomationRow) -> Result<(), ApiError> {
    diesel::update(automations::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Deletes the automation `id`.
pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::delete(automations::table.find(id)).execute(conn)?;
    Ok(())
}

/// Runs and action states per automation.
pub fn counts(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, AutomationCounts>, ApiError> {
    let runs: Vec<(String, i64)> = automation_runs::table
        .filter(automation_runs::automation_id.eq_any(ids))
        .group_by(automation_runs::automation_id)
        .select((automation_runs::automation_id, diesel::dsl::count_star()))
        .load(conn)?;
    let actions: Vec<(String, String, i64)> = automation_run_actions::table
        .filter(automation_run_actions::automation_id.eq_any(ids))
        .group_by((automation_run_actions::automation_id, automation_run_actions::state))
        .select((
            automation_run_actions::automation_id,
            automation_run_actions::state,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut out: HashMap<String, AutomationCounts> = HashMap::new();
    for (id, n) in runs {
        out.entry(id).or_default().runs = n as u64;
    }
    for (id, state, n) in actions {
        let c = out.entry(id).or_default();
        match state.as_str() {
            "done" => c.actions_done += n as u64,
            "failed" => c.actions_failed += n as u64,
            "scheduled" | "waiting" => c.actions_pending += n as u64,
            _ => {}
        }
    }
    Ok(out)
}

/// The actions of the runs `ids`, by run and position.
pub fn run_actions(conn: &mut DbConn, ids: &[String]) -> Result<Vec<RunActionRow>, ApiError> {
    Ok(automation_run_actions::table
        .filter(automation_run_actions::run_id.eq_any(ids))
        .order((automation_run_actions::run_id, automation_run_actions::position))
        .select(RunActionRow::as_select())
        .load::<RunActionRow>(conn)?)
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = badges)]
pub struct BadgeRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub created_at: NaiveDateTime,
}

impl BadgeRow {
    pub fn into_api(self) -> Badge {
        Badge {
            id: db::id(&self.id),
            name: self.name,
            description: self.description,
            created_at: db::utc(self.created_at),
        }
    }
}

/// The organisation's badges, by name.
pub fn badges(conn: &mut DbConn, org: Uuid) -> Result<Vec<BadgeRow>, ApiError> {
    Ok(badges::table
        .filter(badges::organization_id.eq(org.to_string()))
        .order(badges::name)
        .select(BadgeRow::as_select())
        .load::<BadgeRow>(conn)?)
}

/// How many badges the organisation has.
pub fn count_badges(conn: &mut DbConn, org: Uuid) -> Result<i64, ApiError> {
    Ok(badges::table
        .filter(badges::organization_id.eq(org.to_string()))
        .count()
        .get_result(conn)?)
}

/// Stores a new badge (a conflict when the name is taken in the organisation).
pub fn insert_badge(conn: &mut DbConn, row: &BadgeRow) -> Result<(), ApiError> {
    diesel::insert_into(badges::table).values(row).execute(conn)?;
    Ok(())
}

/// Deletes the organisation's badge `id`; the number of rows deleted (0 or 1).
pub fn delete_badge(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        badges::table
            .filter(badges::organization_id.eq(org.to_string()))
            .filter(badges::id.eq(id.to_string())),
    )
    .execute(conn)?)
}

/// The badges the person holds with when each was awarded, newest first.
pub fn badges_of(conn: &mut DbConn, person: Uuid) -> Result<Vec<(BadgeRow, NaiveDateTime)>, ApiError> {
    Ok(person_badges::table
        .inner_join(badges::table)
        .filter(person_badges::person_id.eq(person.to_string()))
        .order(person_badges::awarded_at.desc())
        .select((BadgeRow::as_select(), person_badges::awarded_at))
        .load::<(BadgeRow, NaiveDateTime)>(conn)?)
}
