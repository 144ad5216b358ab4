//! The engine: every stored event that an active automation could meet joins `automation_queue`
//! in the transaction that stored it. A matcher per process takes a batch of queued events per
//! transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL), loads what they need with one query per
//! table, evaluates the conditions in memory, applies the frequency limits with the
//! (automation, person) rows locked, records one run per (automation, event) — a unique key, so
//! racing matchers cannot run it twice — and runs the actions due now in the same transaction,
//! a statement per kind of action for the batch. Later actions wait on the job queue: each
//! `automation.action` job claims its action (`scheduled` → `done`) in the same transaction as
//! the action's own writes, so an action runs once; it then schedules the next.

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

fn payload_facts(facts: &mut BTreeMap<String, Fact>, prefix: &str, value: &Value, depth: u32) {
    let Value::Object(map) = value else { return };
    for (k, v) in map {
        let key = format!("{prefix}.{k}");
        let fact = match v {
            Value::String(s) => Fact::Text(s.clone()),
            Value::Number(n) => Fact::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => Fact::Flag(*b),
            Value::Array(items) => Fact::List(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect(),
            ),
            Value::Object(_) if depth > 0 => {
                payload_facts(facts, &key, v, depth - 1);
                continue;
            }
            _ => continue,
        };
        facts.insert(key, fact);
    }
}

fn zone(
    conn: &mut DbConn,
    event: &EventRow,
    program: Option<&crate::programs::repo::ProgramRow>,
) -> Result<Tz, ApiError> {
    let name = match program {
        Some(p) => p.time_zone.clone(),
        None => crate::organization::repo::get(conn, db::id(&event.organization_id))?.time_zone,
    };
    Ok(cohort_domain::tenancy::zone(&name))
}

/// Schedules an action. One due now runs at once, in the caller's transaction (behind a
/// savepoint): most actions are writes to this database, so they commit with their run, once.
/// Webhooks, later actions, and an action whose first attempt fails go to the job queue.
fn schedule(
    conn: &mut DbConn,
    run: &RunRow,
    position: i32,
    due: NaiveDateTime,
    action: &AutomationAction,
) -> Result<(), ApiError> {
    diesel::update(automation_run_actions::table.find((&run.id, position)))
        .set((
            automation_run_actions::state.eq("scheduled"),
            automation_run_actions::due_at.eq(due),
        ))
        .execute(conn)?;
    if due <= db::now() && action.action_type != AutomationActionType::CallWebhook {
        let key = format!("automation:{}:{position}", run.id);
        let inline = conn.transaction(|c| -> Result<bool, ApiError> {
            let skipped = perform(c, run, action, &key)?;
            let state = if skipped.is_some() { "skipped" } else { "done" };
            finish(c, run, position, state, skipped)
        });
        if let Ok(true) = inline {
            return Ok(());
        }
    }
    jobs::enqueue(
        conn,
        NewJob {
            organization_id: Some(db::id(&run.organization_id)),
            dedupe_key: Some(format!("{ACTION_JOB}:{}:{position}", run.id)),
            run_at: due,
            ..NewJob::now(ACTION_JOB, json!({"run_id": run.id, "position": position}))
        },
    )?;
    Ok(())
}

/// The most events one matcher transaction takes.
pub const BATCH: i64 = 200;

/// Matchers per process: while one waits on the database, the other works (they take different
/// events, and lock shared rows in one order).
pub const MATCHERS: usize = 2;

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    event_id: String,
}

// Taken and removed in the transaction that matches them: a crash leaves them queued, and two
// matchers (two processes) take different events.
// Events that failed MAX_ATTEMPTS times alone stay in the queue, left out.
const CLAIM_POSTGRES: &str = "DELETE FROM automation_queue WHERE event_id IN \
     (SELECT event_id FROM automation_queue WHERE attempts < $2 ORDER BY event_id LIMIT $1 \
      FOR UPDATE SKIP LOCKED) \
     RETURNING event_id";
/// SQLite has one writer at a time (the caller holds the writer's turn).
const CLAIM_SQLITE: &str = "DELETE FROM automation_queue WHERE event_id IN \
     (SELECT event_id FROM automation_queue WHERE attempts < ?2 ORDER BY event_id LIMIT ?1) \
     RETURNING event_id";

/// How many times an event that fails alone is matched before the matchers leave it out.
pub const MAX_ATTEMPTS: i32 = 5;

fn claim(conn: &mut DbConn, limit: i64) -> Result<Vec<String>, ApiError> {
    use diesel::sql_types::{BigInt, Integer};
    let claimed: Vec<Claimed> = match conn {
        DbConn::Postgres(c) => diesel::sql_query(CLAIM_POSTGRES)
            .bind::<BigInt, _>(limit)
            .bind::<Integer, _>(MAX_ATTEMPTS)
            .load(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(CLAIM_SQLITE)
            .bind::<BigInt, _>(limit)
            .bind::<Integer, _>(MAX_ATTEMPTS)
            .load(c)?,
    };
    Ok(claimed.into_iter().map(|c| c.event_id).collect())
}

/// One version of an automation, parsed once per batch.
struct Version {
    version: i32,
    valid_from: NaiveDateTime,
    active: bool,
    def: AutomationInput,
    conditions: Vec<Condition>,
}

/// What a batch of events needs to meet the automations, loaded with one query per table.
struct Batch {
    events: Vec<EventRow>,
    /// (organisation, trigger) → the active automations watching it.
    watching: HashMap<(String, String), Vec<String>>,
    /// Each candidate's versions from before the batch's last event, newest first.
    versions: HashMap<String, Vec<Rc<Version>>>,
    /// (event, automation) pairs already matched.
    done: HashSet<(String, String)>,
    context: Context,
}

/// The people, programs and organisations' time zones that events name, loaded with one query each.
#[derive(Default)]
struct Context {
    people: HashMap<String, crate::people::repo::PersonRow>,
    programs: HashMap<String, crate::programs::repo::ProgramRow>,
    /// (program, person) → the person's active roles in it, when a condition reads them.
    roles: Option<HashMap<(String, String), Vec<String>>>,
    /// Organisation → its time zone.
    zones: HashMap<String, String>,
}

impl Context {
    fn load(conn: &mut DbConn, events: &[&EventRow], reads_roles: bool) -> Result<Self, ApiError> {
        let mut context = Self::default();
        let people: HashSet<&str> = events.iter().filter_map(|e| e.person_id.as_deref()).collect();
        if !people.is_empty() {
            context.people = crate::schema::people::table
                .filter(crate::schema::people::id.eq_any(&people))
                .select(crate::people::repo::PersonRow::as_select())
                .load::<crate::people::repo::PersonRow>(conn)?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
        }
        let programs: HashSet<&str> = events.iter().filter_map(|e| e.program_id.as_deref()).collect();
        if !programs.is_empty() {
            context.programs = programs::table
                .filter(programs::id.eq_any(&programs))
                .select(crate::programs::repo::ProgramRow::as_select())
                .load::<crate::programs::repo::ProgramRow>(conn)?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
            if reads_roles && !people.is_empty() {
                let mut roles: HashMap<(String, String), Vec<String>> = HashMap::new();
                for (program, person, role) in participants::table
                    .filter(participants::program_id.eq_any(&programs))
                    .filter(participants::person_id.eq_any(&people))
                    .filter(participants::status.eq("active"))
                    .select((participants::program_id, participants::person_id, participants::role))
                    .load::<(String, String, String)>(conn)?
                {
                    roles.entry((program, person)).or_default().push(role);
                }
                context.roles = Some(roles);
            }
        }
        let orgs: HashSet<&str> = events.iter().map(|e| e.organization_id.as_str()).collect();
        context.zones = crate::schema::organizations::table
            .filter(crate::schema::organizations::id.eq_any(&orgs))
            .select((
                crate::schema::organizations::id,
                crate::schema::organizations::time_zone,
            ))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        Ok(context)
    }

    /// The person, if they still belong to the organisation.
    fn person(&self, org: &str, person: Option<&str>) -> Option<&crate::people::repo::PersonRow> {
        let person = self.people.get(person?)?;
        (person.organization_id == org).then_some(person)
    }

    fn program(&self, event: &EventRow) -> Option<&crate::programs::repo::ProgramRow> {
        let program = self.programs.get(event.program_id.as_deref()?)?;
        (program.organization_id == event.organization_id).then_some(program)
    }

    fn zone(&self, event: &EventRow) -> Tz {
        let name = match self.program(event) {
            Some(p) => p.time_zone.as_str(),
            None => self.zones.get(&event.organization_id).map_or("UTC", String::as_str),
        };
        cohort_domain::tenancy::zone(name)
    }
}

impl Batch {
    fn load(conn: &mut DbConn, ids: &[String]) -> Result<Self, ApiError> {
        let events: Vec<EventRow> = events::table
            .filter(events::id.eq_any(ids))
            .order(events::id)
            .select(EventRow::as_select())
            .load(conn)?;
        let orgs: HashSet<&str> = events.iter().map(|e| e.organization_id.as_str()).collect();
        let types: HashSet<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let mut watching: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (id, org, trigger) in automations::table
            .filter(automations::organization_id.eq_any(&orgs))
            .filter(automations::trigger_type.eq_any(&types))
            .filter(automations::active.eq(true))
            .order(automations::id)
            .select((automations::id, automations::organization_id, automations::trigger_type))
            .load::<(String, String, String)>(conn)?
        {
            watching.entry((org, trigger)).or_default().push(id);
        }
        let mut batch = Self {
            events,
            watching,
            versions: HashMap::new(),
            done: HashSet::new(),
            context: Context::default(),
        };
        if batch.watching.is_empty() {
            return Ok(batch);
        }
        let candidates: Vec<&String> = batch.watching.values().flatten().collect();
        let latest = batch
            .events
            .iter()
            .map(|e| e.created_at)
            .max()
            .expect("a batch has events");
        for (automation, version, json, active, valid_from) in automation_versions::table
            .filter(automation_versions::automation_id.eq_any(&candidates))
            .filter(automation_versions::valid_from.le(latest))
            .order((automation_versions::automation_id, automation_versions::version.desc()))
            .select((
                automation_versions::automation_id,
                automation_versions::version,
                automation_versions::definition,
                automation_versions::active,
                automation_versions::valid_from,
            ))
            .load::<(String, i32, String, bool, NaiveDateTime)>(conn)?
        {
            let def: AutomationInput = definition(&json);
            let conditions = def
                .conditions
                .iter()
                .map(|c| Condition {
                    field: c.field.clone(),
                    operator: super::operator(c.operator),
                    value: super::fact(&c.value),
                })
                .collect();
            batch.versions.entry(automation).or_default().push(Rc::new(Version {
                version,
                valid_from,
                active,
                def,
                conditions,
            }));
        }
        batch.done = automation_runs::table
            .filter(automation_runs::event_id.eq_any(ids))
            .select((automation_runs::event_id, automation_runs::automation_id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let reads_roles = batch
            .versions
            .values()
            .flatten()
            .any(|v| v.conditions.iter().any(|c| c.field == "participant.role"));
        batch.context = Context::load(conn, &batch.events.iter().collect::<Vec<_>>(), reads_roles)?;
        Ok(batch)
    }

    /// The automation's version in force when the event arrived (the newest one from before
    /// it): an automation created or turned on later does not see the event.
    fn in_force(&self, automation: &str, event: &EventRow) -> Option<&Rc<Version>> {
        self.versions
            .get(automation)?
            .iter()
            .find(|v| v.valid_from <= event.created_at)
    }

    /// What conditions can read about an event: its payload, its person and its program.
    fn facts(&self, event: &EventRow) -> BTreeMap<String, Fact> {
        let mut facts = BTreeMap::new();
        facts.insert("event.type".to_owned(), Fact::Text(event.event_type.clone()));
        payload_facts(
            &mut facts,
            "event",
            &serde_json::from_str(&event.payload).unwrap_or(Value::Null),
            1,
        );
        if let Some(p) = self.context.person(&event.organization_id, event.person_id.as_deref()) {
            let attributes: Attributes = serde_json::from_str(&p.attributes).unwrap_or_default();
            for (k, v) in &attributes {
                facts.insert(format!("participant.{k}"), super::fact(v));
            }
            facts.insert("participant.email".into(), Fact::Text(p.email.clone()));
            facts.insert("participant.name".into(), Fact::Text(p.name.clone()));
        }
        let program = self.context.program(event);
        if let (Some(person), Some(program), Some(roles)) = (&event.person_id, program, &self.context.roles) {
            let roles = roles
                .get(&(program.id.clone(), person.clone()))
                .cloned()
                .unwrap_or_default();
            facts.insert("participant.role".into(), Fact::List(roles));
        }
        if let Some(p) = program {
            facts.insert("program.id".into(), Fact::Text(p.id.clone()));
            facts.insert("program.name".into(), Fact::Text(p.name.clone()));
            facts.insert("program.status".into(), Fact::Text(p.status.clone()));
        }
        facts
    }
}

/// A run whose conditions held, and the version it ran.
struct Matched {
    run: usize,
    event: usize,
    version: Rc<Version>,
}

/// Takes up to `limit` queued events and matches them against the automations in one
/// transaction (the caller's): each event meets the active automations watching its type, as
/// they were when it arrived; runs, their actions and the frequency state are written with a
/// few statements per batch, and actions due now run at once. Returns how many events it took;
/// `taken` gets their ids, which outlive a rollback.
pub fn match_batch(conn: &mut DbConn, limit: i64, taken: &Mutex<Vec<String>>) -> Result<usize, ApiError> {
    let ids = claim(conn, limit)?;
    if ids.is_empty() {
        return Ok(0);
    }
    taken.lock().unwrap_or_else(PoisonError::into_inner).clone_from(&ids);
    let batch = Batch::load(conn, &ids)?;
    let now = db::now();
    let mut runs: Vec<RunRow> = Vec::new();
    let mut matched: Vec<Matched> = Vec::new();
    for (n, event) in batch.events.iter().enumerate() {
        let Some(candidates) = batch
            .watching
            .get(&(event.organization_id.clone(), event.event_type.clone()))
        else {
            continue;
        };
        let mut facts = None;
        for automation in candidates {
            if batch.done.contains(&(event.id.clone(), automation.clone())) {
                continue;
            }
            let Some(version) = batch.in_force(automation, event).filter(|v| v.active) else {
                continue;
            };
            if let Some(ids) = &version.def.program_ids {
                let inside = event
                    .program_id
                    .as_deref()
                    .is_some_and(|p| ids.iter().any(|id| id.to_string() == p));
                if !inside {
                    continue;
                }
            }
            let facts = facts.get_or_insert_with(|| batch.facts(event));
            let held = rules::evaluate(&version.conditions, facts);
            let met = held.iter().all(|h| *h);
            if met {
                matched.push(Matched {
                    run: runs.len(),
                    event: n,
                    version: version.clone(),
                });
            }
            runs.push(RunRow {
                id: db::new_id(),
                organization_id: event.organization_id.clone(),
                automation_id: automation.clone(),
                version: version.version,
                event_id: event.id.clone(),
                person_id: event.person_id.clone(),
                outcome: if met { "ran" } else { "conditions_not_met" }.to_owned(),
                conditions: serde_json::to_string(&condition_outcomes(&version.def.conditions, &held))
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
                created_at: now,
            });
        }
    }
    apply_frequency_limits(conn, &batch, &mut runs, &mut matched)?;
    for chunk in runs.chunks(500) {
        crate::insert_all!(conn, automation_runs::table, chunk)?;
    }
    start_actions(conn, &batch, &runs, &matched)?;
    Ok(ids.len())
}

/// Applies the frequency limits of the batch's matched runs, in the order their events arrived:
/// the (automation, person) rows are locked and read with one statement, and the new last-run
/// times written with another. Limited runs leave `matched` with their outcome changed.
fn apply_frequency_limits(
    conn: &mut DbConn,
    batch: &Batch,
    runs: &mut [RunRow],
    matched: &mut Vec<Matched>,
) -> Result<(), ApiError> {
    let limited = |m: &Matched| super::frequency(m.version.def.frequency) != rules::Frequency::EveryTime;
    let mut keys: Vec<(String, String)> = matched
        .iter()
        .filter(|m| limited(m))
        .filter_map(|m| Some((runs[m.run].automation_id.clone(), runs[m.run].person_id.clone()?)))
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    // Sorted, so that two matchers wanting some of the same rows lock them in the same order.
    keys.sort();
    keys.dedup();
    let mut last = lock_contacts(conn, &keys)?;
    let mut changed = BTreeMap::new();
    matched.retain(|m| {
        let run = &mut runs[m.run];
        let Some(person) = &run.person_id else { return true };
        if !limited(m) {
            return true;
        }
        let key = (run.automation_id.clone(), person.clone());
        let at = batch.events[m.event].occurred_at;
        let previous = last.get(&key).copied().flatten();
        let frequency = super::frequency(m.version.def.frequency);
        if rules::frequency_allows(frequency, previous.map(db::utc), db::utc(at)) {
            last.insert(key.clone(), Some(at));
            changed.insert(key, at);
            true
        } else {
            "frequency_limited".clone_into(&mut run.outcome);
            false
        }
    });
    let rows: Vec<_> = changed
        .iter()
        .map(|((automation, person), at)| {
            (
                automation_contacts::automation_id.eq(automation),
                automation_contacts::person_id.eq(person),
                automation_contacts::last_run_at.eq(Some(*at)),
            )
        })
        .collect();
    for chunk in rows.chunks(1000) {
        save_contacts(conn, chunk)?;
    }
    Ok(())
}

type ContactValues<'a> = (
    diesel::dsl::Eq<automation_contacts::automation_id, &'a String>,
    diesel::dsl::Eq<automation_contacts::person_id, &'a String>,
    diesel::dsl::Eq<automation_contacts::last_run_at, Option<NaiveDateTime>>,
);

/// Writes the (automation, person) rows' last-run times; they exist and are locked.
fn save_contacts(conn: &mut DbConn, rows: &[ContactValues<'_>]) -> Result<(), ApiError> {
    use diesel::upsert::excluded;
    let target = (automation_contacts::automation_id, automation_contacts::person_id);
    let set = automation_contacts::last_run_at.eq(excluded(automation_contacts::last_run_at));
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(automation_contacts::table)
            .values(rows)
            .on_conflict(target)
            .do_update()
            .set(set)
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(automation_contacts::table)
            .values(rows)
            .on_conflict(target)
            .do_update()
            .set(set)
            .execute(c)?,
    };
    Ok(())
}

#[derive(QueryableByName)]
struct Contact {
    #[diesel(sql_type = diesel::sql_types::Text)]
    automation_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    person_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    last_run_at: Option<NaiveDateTime>,
}

// Creates the missing rows and locks them all (a no-op update locks the row, and reads its
// latest committed value after waiting for a concurrent writer), in the keys' order.
const LOCK_CONTACTS_POSTGRES: &str = "INSERT INTO automation_contacts (automation_id, person_id, last_run_at) \
     SELECT a, p, NULL FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(a, p, n) ORDER BY n \
     ON CONFLICT (automation_id, person_id) DO UPDATE SET last_run_at = automation_contacts.last_run_at \
     RETURNING automation_id, person_id, last_run_at";

/// The last-run times of these (automation, person) pairs (sorted, distinct), their rows
/// locked until the transaction ends on PostgreSQL (SQLite runs one writer at a time).
fn lock_contacts(
    conn: &mut DbConn,
    keys: &[(String, String)],
) -> Result<HashMap<(String, String), Option<NaiveDateTime>>, ApiError> {
    let contacts: Vec<Contact> = match conn {
        DbConn::Postgres(c) => {
            use diesel::sql_types::{Array, Text};
            let (automations, people): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
            diesel::sql_query(LOCK_CONTACTS_POSTGRES)
                .bind::<Array<Text>, _>(automations)
                .bind::<Array<Text>, _>(people)
                .load(c)?
        }
        DbConn::Sqlite(_) => {
            let automations: HashSet<&str> = keys.iter().map(|k| k.0.as_str()).collect();
            let people: HashSet<&str> = keys.iter().map(|k| k.1.as_str()).collect();
            automation_contacts::table
                .filter(automation_contacts::automation_id.eq_any(automations))
                .filter(automation_contacts::person_id.eq_any(people))
                .select((
                    automation_contacts::automation_id,
                    automation_contacts::person_id,
                    automation_contacts::last_run_at,
                ))
                .load::<(String, String, Option<NaiveDateTime>)>(conn)?
                .into_iter()
                .map(|(automation_id, person_id, last_run_at)| Contact {
                    automation_id,
                    person_id,
                    last_run_at,
                })
                .collect()
        }
    };
    Ok(contacts
        .into_iter()
        .map(|c| ((c.automation_id, c.person_id), c.last_run_at))
        .collect())
}

/// A run whose actions move on in this transaction: its action rows as they will be written.
struct Chain<'a> {
    run: &'a RunRow,
    actions: Vec<AutomationAction>,
    rows: Vec<RunActionRow>,
    zone: Tz,
    /// The rows this transaction changed.
    touched: Vec<bool>,
}

/// An action to take: `due` is when (`None`: now, as its job came due), `job` the claimed job
/// that asked for it, if any.
struct Step {
    chain: usize,
    position: usize,
    due: Option<NaiveDateTime>,
    job: Option<usize>,
}

/// Takes the steps in waves: those due now (but webhooks) run at once, in this transaction,
/// grouped by kind (one statement for all notifications, one for all badges), and each one
/// finished lets the next of its run follow; the others are scheduled. Returns the jobs to
/// queue for scheduled actions, and the claimed jobs whose action failed (to retry alone).
fn advance(
    conn: &mut DbConn,
    context: &Context,
    chains: &mut [Chain<'_>],
    mut wave: Vec<Step>,
) -> Result<(Vec<NewJob>, Vec<usize>), ApiError> {
    let mut later = Vec::new();
    let mut failed = Vec::new();
    while !wave.is_empty() {
        let now = db::now();
        let mut inline = Vec::new();
        for step in wave {
            let chain = &mut chains[step.chain];
            chain.touched[step.position] = true;
            let row = &mut chain.rows[step.position];
            "scheduled".clone_into(&mut row.state);
            if let Some(due) = step.due {
                row.due_at = Some(due);
            }
            let due_now = step.due.is_none_or(|d| d <= now);
            if due_now && chain.actions[step.position].action_type != AutomationActionType::CallWebhook {
                inline.push(step);
            } else {
                later.push(action_job(chain.run, step.position, row.due_at.unwrap_or(now)));
            }
        }
        let outcomes = {
            let due: Vec<Due<'_>> = inline
                .iter()
                .map(|s| Due {
                    run: chains[s.chain].run,
                    position: s.position,
                    action: &chains[s.chain].actions[s.position],
                })
                .collect();
            perform_all(conn, context, &due)?
        };
        let done_at = db::now();
        wave = Vec::new();
        for (step, outcome) in inline.into_iter().zip(outcomes) {
            let chain = &mut chains[step.chain];
            let Some(skipped) = outcome else {
                // Its attempt failed (and was undone): a job tries again.
                match step.job {
                    Some(job) => failed.push(job),
                    None => later.push(action_job(
                        chain.run,
                        step.position,
                        chain.rows[step.position].due_at.unwrap_or(done_at),
                    )),
                }
                continue;
            };
            let row = &mut chain.rows[step.position];
            row.state = if skipped.is_some() { "skipped" } else { "done" }.to_owned();
            row.reason = skipped;
            row.done_at = Some(done_at);
            row.attempts += 1;
            let next = step.position + 1;
            if chain.rows.get(next).is_some_and(|r| r.state == "waiting") {
                let due = rules::due(db::utc(done_at), super::delay(chain.actions[next].delay), chain.zone);
                wave.push(Step {
                    chain: step.chain,
                    position: next,
                    due: Some(due.naive_utc()),
                    job: None,
                });
            }
        }
    }
    Ok((later, failed))
}

/// Writes the actions of the batch's runs that ran, after taking those due now.
fn start_actions(conn: &mut DbConn, batch: &Batch, runs: &[RunRow], matched: &[Matched]) -> Result<(), ApiError> {
    let mut chains = Vec::with_capacity(matched.len());
    let mut wave = Vec::with_capacity(matched.len());
    for (n, m) in matched.iter().enumerate() {
        let run = &runs[m.run];
        let def = &m.version.def;
        let event = &batch.events[m.event];
        let zone = batch.context.zone(event);
        chains.push(Chain {
            run,
            actions: def.actions.clone(),
            rows: def
                .actions
                .iter()
                .enumerate()
                .map(|(position, a)| RunActionRow {
                    run_id: run.id.clone(),
                    position: position as i32,
                    automation_id: run.automation_id.clone(),
                    action: serde_json::to_string(a).unwrap_or_default(),
                    state: "waiting".into(),
                    reason: None,
                    due_at: None,
                    done_at: None,
                    attempts: 0,
                })
                .collect(),
            zone,
            touched: vec![false; def.actions.len()],
        });
        let after_trigger = rules::due(db::utc(event.occurred_at), super::delay(def.delay), zone);
        let first = rules::due(after_trigger, super::delay(def.actions[0].delay), zone);
        wave.push(Step {
            chain: n,
            position: 0,
            due: Some(first.naive_utc()),
            job: None,
        });
    }
    let (later, _) = advance(conn, &batch.context, &mut chains, wave)?;
    let rows: Vec<RunActionRow> = chains.into_iter().flat_map(|c| c.rows).collect();
    for chunk in rows.chunks(500) {
        crate::insert_all!(conn, automation_run_actions::table, chunk)?;
    }
    jobs::enqueue_all(conn, later)?;
    Ok(())
}

fn action_job(run: &RunRow, position: usize, due: NaiveDateTime) -> NewJob {
    NewJob {
        organization_id: Some(db::id(&run.organization_id)),
        dedupe_key: Some(format!("{ACTION_JOB}:{}:{position}", run.id)),
        run_at: due,
        ..NewJob::now(ACTION_JOB, json!({"run_id": run.id, "position": position}))
    }
}

/// An action due now.
struct Due<'a> {
    run: &'a RunRow,
    position: usize,
    action: &'a AutomationAction,
}

/// Runs these actions, each due now, in the caller's transaction: for each, `Some(None)` when
/// done, `Some(Some(reason))` when skipped, `None` when its attempt failed (its writes undone).
fn perform_all(conn: &mut DbConn, context: &Context, due: &[Due<'_>]) -> Result<Vec<Option<Option<String>>>, ApiError> {
    let mut outcomes: Vec<Option<Option<String>>> = vec![None; due.len()];
    let mut notifications = Vec::new();
    let mut badges = Vec::new();
    for (n, d) in due.iter().enumerate() {
        match d.action.action_type {
            AutomationActionType::SendNotification | AutomationActionType::AwardBadge => {
                if d.run.person_id.is_none() {
                    outcomes[n] = Some(Some("the event names no person".into()));
                } else if context
                    .person(&d.run.organization_id, d.run.person_id.as_deref())
                    .is_none()
                {
                    outcomes[n] = Some(Some("the person no longer exists".into()));
                } else if d.action.action_type == AutomationActionType::SendNotification {
                    notifications.push(n);
                } else {
                    badges.push(n);
                }
            }
            _ => {
                let key = format!("automation:{}:{}", d.run.id, d.position);
                outcomes[n] = conn.transaction(|c| perform(c, d.run, d.action, &key)).ok();
            }
        }
    }
    if !notifications.is_empty() {
        let items = notifications
            .iter()
            .map(|&n| {
                let Due { run, position, action } = &due[n];
                (
                    db::id(&run.organization_id),
                    db::id(run.person_id.as_deref().expect("checked")),
                    NewNotification {
                        kind: "automation",
                        title: action.title.as_deref().unwrap_or_default(),
                        body: action.body.as_deref().unwrap_or_default(),
                        link: None,
                        dedupe_key: Some(format!("automation:{}:{position}", run.id)),
                    },
                )
            })
            .collect();
        if conn
            .transaction(|c| crate::messaging::notifications::notify_each(c, items))
            .is_ok()
        {
            for n in notifications {
                outcomes[n] = Some(None);
            }
        }
    }
    if !badges.is_empty() {
        let badge_of = |n: usize| due[n].action.badge_id.map(|b| b.to_string()).unwrap_or_default();
        let wanted: HashSet<String> = badges.iter().map(|&n| badge_of(n)).collect();
        let existing: HashSet<(String, String)> = crate::schema::badges::table
            .filter(crate::schema::badges::id.eq_any(&wanted))
            .select((crate::schema::badges::id, crate::schema::badges::organization_id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let mut awards = Vec::new();
        let mut awarded = Vec::new();
        for n in badges {
            let run = due[n].run;
            let badge = badge_of(n);
            if existing.contains(&(badge.clone(), run.organization_id.clone())) {
                awards.push((
                    badge,
                    run.person_id.clone().expect("checked"),
                    run.organization_id.clone(),
                ));
                awarded.push(n);
            } else {
                outcomes[n] = Some(Some("the badge was deleted".into()));
            }
        }
        // Sorted, so that two matchers awarding the same badges take their keys in one order.
        awards.sort();
        awards.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let now = db::now();
        let rows: Vec<_> = awards
            .iter()
            .map(|(badge, person, org)| {
                (
                    person_badges::badge_id.eq(badge),
                    person_badges::person_id.eq(person),
                    person_badges::organization_id.eq(org),
                    person_badges::awarded_at.eq(now),
                )
            })
            .collect();
        let saved = conn.transaction(|c| -> Result<(), ApiError> {
            for chunk in rows.chunks(500) {
                crate::insert_new!(c, person_badges::table, chunk)?;
            }
            Ok(())
        });
        if saved.is_ok() {
            for n in awarded {
                outcomes[n] = Some(None);
            }
        }
    }
    Ok(outcomes)
}

/// The runs and all their actions, locked on PostgreSQL (a deactivation waits; SQLite has one
/// writer at a time), in order.
fn lock_runs(conn: &mut DbConn, runs: &[&str]) -> Result<Vec<(RunRow, RunActionRow)>, ApiError> {
    let query = || {
        automation_run_actions::table
            .inner_join(automation_runs::table)
            .filter(automation_run_actions::run_id.eq_any(runs))
            .order((automation_run_actions::run_id, automation_run_actions::position))
    };
    Ok(match conn {
        DbConn::Postgres(c) => query()
            .select((RunRow::as_select(), RunActionRow::as_select()))
            .for_update()
            .load(c)?,
        DbConn::Sqlite(c) => query()
            .select((RunRow::as_select(), RunActionRow::as_select()))
            .load(c)?,
    })
}

const SAVE_ACTIONS_POSTGRES: &str = "UPDATE automation_run_actions a SET state = u.state, reason = u.reason, \
     due_at = u.due_at, done_at = u.done_at, attempts = u.attempts \
     FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::timestamp[], $6::timestamp[], $7::int4[]) \
     AS u(run_id, position, state, reason, due_at, done_at, attempts) \
     WHERE a.run_id = u.run_id AND a.position = u.position";

/// Writes these (locked) action rows' state, in one statement on PostgreSQL.
fn save_actions(conn: &mut DbConn, rows: &[&RunActionRow]) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Postgres(c) => {
            use diesel::sql_types::{Array, Integer, Nullable, Text, Timestamp};
            diesel::sql_query(SAVE_ACTIONS_POSTGRES)
                .bind::<Array<Text>, _>(rows.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(rows.iter().map(|r| r.position).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(rows.iter().map(|r| r.state.clone()).collect::<Vec<_>>())
                .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
                .bind::<Array<Nullable<Timestamp>>, _>(rows.iter().map(|r| r.due_at).collect::<Vec<_>>())
                .bind::<Array<Nullable<Timestamp>>, _>(rows.iter().map(|r| r.done_at).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(rows.iter().map(|r| r.attempts).collect::<Vec<_>>())
                .execute(c)?;
        }
        DbConn::Sqlite(_) => {
            for r in rows {
                diesel::update(automation_run_actions::table.find((&r.run_id, r.position)))
                    .set((
                        automation_run_actions::state.eq(&r.state),
                        automation_run_actions::reason.eq(&r.reason),
                        automation_run_actions::due_at.eq(r.due_at),
                        automation_run_actions::done_at.eq(r.done_at),
                        automation_run_actions::attempts.eq(r.attempts),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Takes the actions of claimed `automation.action` jobs together, in the caller's transaction:
/// each still scheduled runs (the next of its run following if due now), its row and its job
/// are finished in the same transaction. Returns the jobs left to run alone (webhooks, and
/// actions whose attempt failed), by index.
pub fn run_due_actions(conn: &mut DbConn, claimed: &[Job], worker: &str) -> Result<Vec<usize>, ApiError> {
    let keys: Vec<Option<(String, usize)>> = claimed
        .iter()
        .map(|job| {
            let payload: Value = serde_json::from_str(&job.payload).ok()?;
            Some((
                payload["run_id"].as_str()?.to_owned(),
                usize::try_from(payload["position"].as_i64()?).ok()?,
            ))
        })
        .collect();
    let run_ids: Vec<&str> = keys.iter().flatten().map(|(r, _)| r.as_str()).collect();
    let mut runs: Vec<RunRow> = Vec::new();
    let mut rows: Vec<Vec<RunActionRow>> = Vec::new();
    for (run, row) in lock_runs(conn, &run_ids)? {
        if runs.last().is_none_or(|r| r.id != run.id) {
            runs.push(run);
            rows.push(Vec::new());
        }
        rows.last_mut().expect("pushed").push(row);
    }
    let index: HashMap<&str, usize> = runs.iter().enumerate().map(|(n, r)| (r.id.as_str(), n)).collect();
    let parsed: Vec<Option<Vec<AutomationAction>>> = rows
        .iter()
        .map(|rs| rs.iter().map(|r| serde_json::from_str(&r.action).ok()).collect())
        .collect();
    let mut alone = Vec::new();
    let mut finished = Vec::new();
    let mut wave = Vec::new();
    for (j, key) in keys.iter().enumerate() {
        let Some((run, position)) = key else {
            alone.push(j); // the handler names what is wrong with it
            continue;
        };
        let Some(&chain) = index.get(run.as_str()) else {
            finished.push(j); // the run is gone
            continue;
        };
        let row = rows[chain].get(*position).filter(|r| r.position as usize == *position);
        if row.is_none_or(|r| r.state != "scheduled") {
            finished.push(j); // done, cancelled or failed already
            continue;
        }
        match &parsed[chain] {
            Some(actions) if actions[*position].action_type != AutomationActionType::CallWebhook => {
                wave.push(Step {
                    chain,
                    position: *position,
                    due: None,
                    job: Some(j),
                });
            }
            _ => alone.push(j),
        }
    }
    if !wave.is_empty() {
        let event_ids: HashSet<&str> = wave.iter().map(|s| runs[s.chain].event_id.as_str()).collect();
        let events: HashMap<String, EventRow> = events::table
            .filter(events::id.eq_any(&event_ids))
            .select(EventRow::as_select())
            .load::<EventRow>(conn)?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let context = Context::load(conn, &events.values().collect::<Vec<_>>(), false)?;
        let mut chains: Vec<Chain<'_>> = runs
            .iter()
            .zip(rows)
            .zip(&parsed)
            .map(|((run, rows), actions)| Chain {
                run,
                actions: actions.clone().unwrap_or_default(),
                zone: events.get(&run.event_id).map_or(chrono_tz::UTC, |e| context.zone(e)),
                touched: vec![false; rows.len()],
                rows,
            })
            .collect();
        let jobs_of: Vec<usize> = wave.iter().filter_map(|s| s.job).collect();
        let (later, failed) = advance(conn, &context, &mut chains, wave)?;
        finished.extend(jobs_of.into_iter().filter(|j| !failed.contains(j)));
        alone.extend(failed);
        let touched: Vec<&RunActionRow> = chains
            .iter()
            .flat_map(|c| c.rows.iter().zip(&c.touched).filter(|(_, t)| **t).map(|(r, _)| r))
            .collect();
        save_actions(conn, &touched)?;
        jobs::enqueue_all(conn, later)?;
    }
    let finished: Vec<&str> = finished.iter().map(|&j| claimed[j].id.as_str()).collect();
    jobs::complete_all(conn, &finished, worker)?;
    Ok(alone)
}

/// Claims due `automation.action` jobs a batch at a time and takes them together
/// (`run_due_actions`); webhooks and failed attempts go through `run_action` one by one, as the
/// job worker would run them. The job worker takes some of these jobs too, one at a time.
pub async fn run_action_batches(
    db: Db,
    client: reqwest::Client,
    allow_private: bool,
    policy: cohort_domain::jobs::RetryPolicy,
    lease: std::time::Duration,
    idle_poll: std::time::Duration,
) {
    let worker = format!("actions-{}", uuid::Uuid::now_v7());
    loop {
        // As the job worker does: each run ends within three quarters of the lease.
        let deadline = tokio::time::Instant::now() + cohort_domain::jobs::run_deadline(lease);
        let claimed = {
            let worker = worker.clone();
            db.write(move |conn| jobs::claim_kind(conn, &worker, db::now(), lease, BATCH, ACTION_JOB))
                .await
        };
        let claimed = match claimed {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => {
                actix_web::rt::time::sleep(idle_poll).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming automation actions failed");
                actix_web::rt::time::sleep(idle_poll).await;
                continue;
            }
        };
        let alone = {
            let (worker, batch) = (worker.clone(), claimed.clone());
            db.write(move |conn| run_due_actions(conn, &batch, &worker)).await
        };
        let alone = alone.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "running a batch of automation actions failed; each runs alone");
            (0..claimed.len()).collect()
        });
        let mut running = Vec::with_capacity(alone.len());
        for j in alone {
            let job = claimed[j].clone();
            let (db, client, worker) = (db.clone(), client.clone(), worker.clone());
            running.push(actix_web::rt::spawn(async move {
                let work = Box::pin(run_action(db.clone(), client, allow_private, job.clone()));
                let outcome = jobs::worker::run_guarded(work, deadline).await;
                jobs::worker::record(&db, job, worker, policy, outcome).await
            }));
        }
        for task in running {
            if let Ok(Err(e)) = task.await {
                tracing::warn!(error = %e, "recording an automation action failed");
            }
        }
    }
}

/// The matcher: takes batches of queued events while there are any, then waits until this
/// process queues more or `idle_poll` passes (events queued by other processes).
///
/// A batch that fails is rolled back, its events still queued (a deadlock with another
/// matcher, the database out of reach, or one event whose writes fail): the matcher then takes
/// as many events one at a time, and an event that fails alone has the attempt counted on its
/// queue row, until after [`MAX_ATTEMPTS`] the matchers leave it out. The others go on.
pub async fn run_matcher(db: Db, idle_poll: std::time::Duration) {
    let mut alone: usize = 0;
    loop {
        let started = std::time::Instant::now();
        let limit = if alone > 0 { 1 } else { BATCH };
        let taken = Arc::new(Mutex::new(Vec::new()));
        let ids = taken.clone();
        match db.write(move |conn| match_batch(conn, limit, &ids)).await {
            Ok(0) => {
                alone = 0;
                let _ = tokio::time::timeout(idle_poll, WAKE.notified()).await;
            }
            Ok(n) => {
                alone = alone.saturating_sub(1);
                tracing::debug!(events = n, ms = started.elapsed().as_millis() as u64, "matched a batch");
            }
            Err(e) => {
                let taken = std::mem::take(&mut *taken.lock().unwrap_or_else(PoisonError::into_inner));
                tracing::warn!(error = %e, events = taken.len(), "matching a batch of events failed");
                match taken.as_slice() {
                    [one] => count_failure(&db, one, &e).await,
                    [] => {}
                    more => alone = more.len(),
                }
                actix_web::rt::time::sleep(idle_poll).await;
            }
        }
    }
}

/// Counts a failed attempt to match `event` alone, in a transaction of its own.
async fn count_failure(db: &Db, event: &str, error: &ApiError) {
    use automation_queue::{attempts, last_error};
    let (event, message) = (event.to_owned(), error.to_string());
    let id = event.clone();
    let counted = db
        .write(move |conn| {
            let row = automation_queue::table.find(&id);
            // Two matchers may both have failed on it: the count stops at the limit.
            diesel::update(row.filter(attempts.lt(MAX_ATTEMPTS)))
                .set((attempts.eq(attempts + 1), last_error.eq(&message)))
                .execute(conn)?;
            Ok(row.select(attempts).first::<i32>(conn).optional()?)
        })
        .await;
    match counted {
        Ok(Some(n)) if n >= MAX_ATTEMPTS => {
            tracing::error!(
                event,
                attempts = n,
                "an event failed to match every time; the matchers leave it out"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, event, "counting a failed match failed"),
    }
}

/// `automation.match`, queued before matching took batches: the event joins the queue.
pub async fn run_match(db: Db, job: Job) -> Result<(), String> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let event = payload["event_id"]
        .as_str()
        .ok_or("match job without event")?
        .to_owned();
    db.write(move |conn| {
        let stored: Vec<EventRow> = events::table.find(&event).select(EventRow::as_select()).load(conn)?;
        on_events(conn, &stored.iter().collect::<Vec<_>>())
    })
    .await
    .map_err(|e| e.to_string())
}

/// The action's own writes, in the transaction that marked it done. `Ok(Some(reason))` skips it.
fn perform(conn: &mut DbConn, run: &RunRow, action: &AutomationAction, key: &str) -> Result<Option<String>, ApiError> {
    if action.action_type == AutomationActionType::CallWebhook {
        return Ok(None); // sent before the claim; see `run_action`
    }
    let org = db::id(&run.organization_id);
    let Some(person_id) = &run.person_id else {
        return Ok(Some("the event names no person".into()));
    };
    let Ok(person) = crate::people::repo::get(conn, org, db::id(person_id)) else {
        return Ok(Some("the person no longer exists".into()));
    };
    let event: EventRow = events::table
        .find(&run.event_id)
        .select(EventRow::as_select())
        .first(conn)?;
    let program = match &event.program_id {
        Some(p) => programs::table
            .find(p)
            .select(programs::name)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    match action.action_type {
        AutomationActionType::SendEmail => {
            let organization = crate::organization::repo::get(conn, org)?.name;
            let first = person.name.split_whitespace().next().unwrap_or(&person.name).to_owned();
            let context = json!({
                "organization": {"name": organization},
                "recipient": {"first_name": first, "name": person.name, "email": person.email},
                "program": {"name": program.clone().unwrap_or_default()},
                "event": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
                "link": "/",
            });
            let template = action.template.as_deref().unwrap_or_default();
            let context = with_extras(context, template);
            crate::messaging::email::queue_email(conn, org, template, &person.email, context, key)?;
        }
        AutomationActionType::SendNotification => {
            notify(
                conn,
                org,
                db::id(person_id),
                NewNotification {
                    kind: "automation",
                    title: action.title.as_deref().unwrap_or_default(),
                    body: action.body.as_deref().unwrap_or_default(),
                    link: None,
                    dedupe_key: Some(key.to_owned()),
                },
            )?;
        }
        AutomationActionType::SendChatMessage => {
            // The person's conversation with the organisation, opened on first use.
            let existing: Option<String> = conversations::table
                .inner_join(conversation_members::table)
                .filter(conversations::organization_id.eq(org.to_string()))
                .filter(conversations::kind.eq("automation"))
                .filter(conversation_members::person_id.eq(person_id))
                .select(conversations::id)
                .first(conn)
                .optional()?;
            let conversation = match existing {
                Some(c) => c,
                None => {
                    let subject = crate::organization::repo::get(conn, org)?.name;
                    crate::messaging::chat::open_conversation(
                        conn,
                        org,
                        "automation",
                        &subject,
                        None,
                        &[db::id(person_id)],
                    )?
                }
            };
            crate::messaging::chat::post_message(
                conn,
                org,
                &conversation,
                None,
                action.text.as_deref().unwrap_or_default(),
            )?;
        }
        AutomationActionType::AwardBadge => {
            let badge = action.badge_id.map(|b| b.to_string()).unwrap_or_default();
            let exists: i64 = crate::schema::badges::table
                .filter(crate::schema::badges::id.eq(&badge))
                .filter(crate::schema::badges::organization_id.eq(org.to_string()))
                .count()
                .get_result(conn)?;
            if exists == 0 {
                return Ok(Some("the badge was deleted".into()));
            }
            crate::insert_new!(
                conn,
                person_badges::table,
                (
                    person_badges::badge_id.eq(&badge),
                    person_badges::person_id.eq(person_id),
                    person_badges::organization_id.eq(org.to_string()),
                    person_badges::awarded_at.eq(db::now()),
                )
            )?;
        }
        AutomationActionType::DeliverStep => {
            let step_id = action.step_id.map(|s| s.to_string()).unwrap_or_default();
            let Some(step) = crate::steps::repo::find(conn, &step_id)? else {
                return Ok(Some("the step was deleted".into()));
            };
            let takes_part: i64 = participants::table
                .filter(participants::program_id.eq(&step.program_id))
                .filter(participants::person_id.eq(person_id))
                .filter(participants::status.eq("active"))
                .filter(participants::role.eq_any(step.roles()))
                .count()
                .get_result(conn)?;
            if takes_part == 0 {
                return Ok(Some(
                    "the person does not take part in the step's program in its role".into(),
                ));
            }
            crate::steps::delivery::deliver(conn, &step, std::slice::from_ref(person_id))?;
        }
        AutomationActionType::CallWebhook => unreachable!("handled above"),
    }
    Ok(None)
}

/// An automation sends a template outside its usual cause: its own placeholders (a step's title,
/// a mentor's name) are blank unless the event's payload carries them.
fn with_extras(mut context: Value, template: &str) -> Value {
    let extras = crate::messaging::templates::kind(template).map_or(&[][..], |k| k.extra);
    for path in extras {
        let mut at = &mut context;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if !at.is_object() {
                break;
            }
            let last = parts.peek().is_none();
            let entry = at
                .as_object_mut()
                .expect("checked")
                .entry(part.to_owned())
                .or_insert_with(|| if last { json!("") } else { json!({}) });
            at = entry;
        }
    }
    context
}

fn load_action(conn: &mut DbConn, run_id: &str, position: i32) -> Result<Option<(RunRow, RunActionRow)>, ApiError> {
    Ok(automation_run_actions::table
        .inner_join(automation_runs::table)
        .filter(automation_run_actions::run_id.eq(run_id))
        .filter(automation_run_actions::position.eq(position))
        .select((RunRow::as_select(), RunActionRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Marks the action finished (`done` or `skipped`) if it is still scheduled, and schedules the
/// next one. Returns false when someone else finished or cancelled it first.
fn finish(
    conn: &mut DbConn,
    run: &RunRow,
    position: i32,
    state: &str,
    reason: Option<String>,
) -> Result<bool, ApiError> {
    let claimed = diesel::update(
        automation_run_actions::table
            .find((&run.id, position))
            .filter(automation_run_actions::state.eq("scheduled")),
    )
    .set((
        automation_run_actions::state.eq(state),
        automation_run_actions::reason.eq(reason),
        automation_run_actions::done_at.eq(db::now()),
        automation_run_actions::attempts.eq(automation_run_actions::attempts + 1),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(false);
    }
    schedule_next(conn, run, position)?;
    Ok(true)
}

fn schedule_next(conn: &mut DbConn, run: &RunRow, position: i32) -> Result<(), ApiError> {
    let next: Option<RunActionRow> = automation_run_actions::table
        .find((&run.id, position + 1))
        .select(RunActionRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(next) = next.filter(|n| n.state == "waiting") {
        let action: AutomationAction =
            serde_json::from_str(&next.action).map_err(|e| ApiError::Internal(e.to_string()))?;
        let event: EventRow = events::table
            .find(&run.event_id)
            .select(EventRow::as_select())
            .first(conn)?;
        let program = match &event.program_id {
            Some(p) => crate::programs::repo::get(conn, db::id(&event.organization_id), db::id(p)).ok(),
            None => None,
        };
        let zone = zone(conn, &event, program.as_ref())?;
        let due = rules::due(db::utc(db::now()), super::delay(action.delay), zone);
        schedule(conn, run, position + 1, due.naive_utc(), &action)?;
    }
    Ok(())
}

/// After a failed attempt: the reason shows in the history; after the last, the action fails and
/// the rest of the run is skipped.
fn record_failure(conn: &mut DbConn, run: &RunRow, position: i32, error: &str, last: bool) -> Result<(), ApiError> {
    let target = automation_run_actions::table
        .find((&run.id, position))
        .filter(automation_run_actions::state.eq("scheduled"));
    if last {
        diesel::update(target)
            .set((
                automation_run_actions::state.eq("failed"),
                automation_run_actions::reason.eq(error),
                automation_run_actions::done_at.eq(db::now()),
                automation_run_actions::attempts.eq(automation_run_actions::attempts + 1),
            ))
            .execute(conn)?;
        diesel::update(
            automation_run_actions::table
                .filter(automation_run_actions::run_id.eq(&run.id))
                .filter(automation_run_actions::state.eq("waiting")),
        )
        .set((
            automation_run_actions::state.eq("skipped"),
            automation_run_actions::reason.eq("an earlier action failed"),
        ))
        .execute(conn)?;
    } else {
        diesel::update(target)
            .set((
                automation_run_actions::reason.eq(format!("retrying: {error}")),
                automation_run_actions::attempts.eq(automation_run_actions::attempts + 1),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// POSTs the event and the action to the action's URL, signed with the automation's
/// `webhook_secret` as endpoints' deliveries are; any 2xx answer counts. A retry after a crash
/// may call it again: the `webhook-id` header lets the receiver drop the repeat.
async fn call(
    client: &reqwest::Client,
    allow_private: bool,
    url: &str,
    secret: &str,
    id: &str,
    body: String,
) -> Result<(), String> {
    crate::messaging::webhooks::post_signed(client, allow_private, url, secret, id, body)
        .await
        .map(|_| ())
        .map_err(|(_, error)| error)
}

/// `automation.action`.
pub async fn run_action(db: Db, client: reqwest::Client, allow_private: bool, job: Job) -> Result<(), String> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let run_id = payload["run_id"].as_str().ok_or("action job without run")?.to_owned();
    let position = payload["position"].as_i64().ok_or("action job without position")? as i32;
    let key = format!("automation:{run_id}:{position}");
    let found = {
        let run_id = run_id.clone();
        db.read(move |conn| load_action(conn, &run_id, position))
            .await
            .map_err(|e| e.to_string())?
    };
    let Some((run, row)) = found else { return Ok(()) };
    if row.state != "scheduled" {
        return Ok(()); // done, cancelled or failed already
    }
    let action: AutomationAction = serde_json::from_str(&row.action).map_err(|e| e.to_string())?;
    let outcome: Result<(), String> = async {
        if action.action_type == AutomationActionType::CallWebhook {
            let (event, secret) = {
                let (id, automation) = (run.event_id.clone(), run.automation_id.clone());
                db.read(move |conn| {
                    let event = events::table
                        .find(&id)
                        .select(EventRow::as_select())
                        .first::<EventRow>(conn)?;
                    let secret = automations::table
                        .find(&automation)
                        .select(automations::webhook_secret)
                        .first::<String>(conn)?;
                    Ok((event, secret))
                })
                .await
                .map_err(|e| e.to_string())?
            };
            let body = json!({
                "automation_id": run.automation_id, "run_id": run.id, "position": position,
                "event": {"id": event.id, "type": event.event_type, "person_id": event.person_id,
                          "program_id": event.program_id,
                          "payload": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null)},
            })
            .to_string();
            call(
                &client,
                allow_private,
                action.url.as_deref().unwrap_or_default(),
                &secret,
                &key,
                body,
            )
            .await?;
        }
        let (run_id, key, action) = (run.id.clone(), key.clone(), action.clone());
        db.write(move |conn| {
            let Some((run, _)) = load_action(conn, &run_id, position)? else {
                return Ok(());
            };
            let skipped = perform(conn, &run, &action, &key)?;
            let state = if skipped.is_some() { "skipped" } else { "done" };
            if !finish(conn, &run, position, state, skipped)? {
                // Finished or cancelled meanwhile: undo this attempt's writes.
                return Err(ApiError::Conflict("already finished".into()));
            }
            Ok(())
        })
        .await
        .or_else(|e| match e {
            ApiError::Conflict(_) => Ok(()),
            other => Err(other.to_string()),
        })
    }
    .await;
    if let Err(error) = &outcome {
        let last = job.attempts >= job.max_attempts;
        let error = error.clone();
        db.write(move |conn| record_failure(conn, &run, position, &error, last))
            .await
            .map_err(|e| e.to_string())?;
    }
    outcome
}
