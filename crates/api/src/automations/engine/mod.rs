//! The engine: every stored event that an active automation could meet joins `automation_queue`
//! in the transaction that stored it. A matcher per process takes a batch of queued events per
//! transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL), loads what they need with one query per
//! table, evaluates the conditions in memory, applies the frequency limits with the
//! (automation, person) rows locked, records one run per (automation, event) — a unique key, so
//! racing matchers cannot run it twice — and runs the actions due now in the same transaction,
//! a statement per kind of action for the batch. Later actions wait on the job queue: each
//! `automation.action` job claims its action (`scheduled` → `done`) in the same transaction as
//! the action's own writes, so an action runs once; it then schedules the next.

mod actions;
mod effects;
mod matcher;
mod runner;

pub use self::matcher::{BATCH, MATCHERS, MAX_ATTEMPTS};
pub use self::runner::{run_action, run_action_batches, run_match, run_matcher};
use self::{actions::*, effects::*, matcher::*};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use cohort_api_types::{Attributes, AutomationAction, AutomationActionType, AutomationInput};
use cohort_domain::automations::{self as rules, Condition, Fact};
use diesel::prelude::*;
use serde_json::{json, Value};

use super::repo::{RunActionRow, RunRow};
use super::{condition_outcomes, definition};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::events::EventRow;
use crate::jobs::{self, Job, NewJob};
use crate::messaging::notifications::{notify, NewNotification};
use crate::schema::{
    automation_contacts, automation_queue, automation_run_actions, automation_runs, automation_versions, automations,
    conversation_members, conversations, events, participants, person_badges, programs,
};

pub const MATCH_JOB: &str = "automation.match";

pub const ACTION_JOB: &str = "automation.action";

/// Queues the events just stored whose type an active automation of their organisation watches
/// (one row each in `automation_queue`). Runs in the transaction that stored them; the matcher of
/// this process wakes when it commits.
///
/// The watched types are looked up on the automations' index, and only then are events queued
/// (a second statement, when one is watched). An `INSERT … SELECT` from `events` filtered on the
/// automations did it in one, but PostgreSQL kept that prepared statement's generic plan from
/// when `events` was nearly empty, a sequential scan, and each booking then read the whole table.
pub fn on_events(conn: &mut DbConn, stored: &[&EventRow]) -> Result<(), ApiError> {
    let orgs: HashSet<&str> = stored.iter().map(|e| e.organization_id.as_str()).collect();
    let types: HashSet<&str> = stored.iter().map(|e| e.event_type.as_str()).collect();
    let watched: Vec<(String, String)> = automations::table
        .filter(automations::organization_id.eq_any(orgs))
        .filter(automations::trigger_type.eq_any(types))
        .filter(automations::active.eq(true))
        .select((automations::organization_id, automations::trigger_type))
        .distinct()
        .load(conn)?;
    let watched: HashSet<(&str, &str)> = watched.iter().map(|(o, t)| (o.as_str(), t.as_str())).collect();
    let queued: Vec<_> = stored
        .iter()
        .filter(|e| watched.contains(&(e.organization_id.as_str(), e.event_type.as_str())))
        .map(|e| automation_queue::event_id.eq(e.id.as_str()))
        .collect();
    if queued.is_empty() {
        return Ok(());
    }
    crate::insert_all!(conn, automation_queue::table, &queued)?;
    crate::db::on_commit(&WAKE);
    Ok(())
}

/// The organisation's left-out events (failed [`MAX_ATTEMPTS`] times alone) by id, up to `limit`
/// after `after`, each with its attempts and last error.
pub fn left_out(
    conn: &mut DbConn,
    org: uuid::Uuid,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(EventRow, i32, Option<String>)>, ApiError> {
    let mut q = automation_queue::table
        .inner_join(events::table)
        .filter(events::organization_id.eq(org.to_string()))
        .filter(automation_queue::attempts.ge(MAX_ATTEMPTS))
        .select((
            EventRow::as_select(),
            automation_queue::attempts,
            automation_queue::last_error,
        ))
        .order(events::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(events::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Gives the organisation's left-out events (failed [`MAX_ATTEMPTS`] times alone) back to the
/// matchers, their attempts counted from zero; how many. The matcher wakes at commit.
pub fn requeue_left_out(conn: &mut DbConn, org: uuid::Uuid) -> Result<u64, ApiError> {
    use automation_queue::{attempts, event_id, last_error};
    let of_org = events::table
        .filter(events::organization_id.eq(org.to_string()))
        .select(events::id);
    let n = diesel::update(
        automation_queue::table
            .filter(attempts.ge(MAX_ATTEMPTS))
            .filter(event_id.eq_any(of_org)),
    )
    .set((attempts.eq(0), last_error.eq(None::<String>)))
    .execute(conn)?;
    if n > 0 {
        crate::db::on_commit(&WAKE);
    }
    Ok(n as u64)
}

/// Wakes this process's matcher when a transaction that queued events commits; other processes'
/// matchers find them at their next poll.
pub static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Turning an automation off cancels the actions it has not run yet.
pub fn cancel_pending(conn: &mut DbConn, automation: &str) -> Result<usize, ApiError> {
    Ok(diesel::update(
        automation_run_actions::table
            .filter(automation_run_actions::automation_id.eq(automation))
            .filter(automation_run_actions::state.eq_any(["scheduled", "waiting"])),
    )
    .set((
        automation_run_actions::state.eq("skipped"),
        automation_run_actions::reason.eq("the automation was turned off"),
    ))
    .execute(conn)?)
}
