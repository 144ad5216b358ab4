//! The engine: every stored event that an active automation could meet gets an
//! `automation.match` job in the transaction that stored it. Matching records one run per
//! (automation, event) — a unique key, so racing workers and processes cannot run it twice —
//! checks the frequency limit with the (automation, person) row locked, and schedules the first
//! action. Each `automation.action` job claims its action (`scheduled` → `done`) in the same
//! transaction as the action's own writes, so an action runs once; it then schedules the next.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use cohort_api_types::{Attributes, AutomationAction, AutomationActionType, AutomationInput};
use cohort_domain::automations::{self as rules, Condition, Fact};
use diesel::prelude::*;
use serde_json::{json, Value};

use super::{condition_outcomes, definition, RunActionRow, RunRow};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::events::EventRow;
use crate::jobs::{self, Job, NewJob};
use crate::messaging::notifications::{notify, NewNotification};
use crate::schema::{
    automation_contacts, automation_run_actions, automation_runs, automation_versions, automations,
    conversation_members, conversations, events, participants, person_badges, programs,
};

pub const MATCH_JOB: &str = "automation.match";
pub const ACTION_JOB: &str = "automation.action";

/// Queues matching for the events just stored (`new` holds their ids) whose type an active
/// automation of their organisation watches. Runs in the transaction that stored them.
pub fn on_events(conn: &mut DbConn, stored: &[&EventRow]) -> Result<(), ApiError> {
    let orgs: HashSet<&str> = stored.iter().map(|e| e.organization_id.as_str()).collect();
    let watched: HashSet<(String, String)> = automations::table
        .filter(automations::organization_id.eq_any(orgs))
        .filter(automations::active.eq(true))
        .select((automations::organization_id, automations::trigger_type))
        .distinct()
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    for e in stored {
        if watched.contains(&(e.organization_id.clone(), e.event_type.clone())) {
            jobs::enqueue(
                conn,
                NewJob {
                    organization_id: Some(db::id(&e.organization_id)),
                    dedupe_key: Some(format!("{MATCH_JOB}:{}", e.id)),
                    ..NewJob::now(MATCH_JOB, json!({"event_id": e.id}))
                },
            )?;
        }
    }
    Ok(())
}

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

/// What conditions can read about an event: its payload, its person and its program.
fn facts(
    conn: &mut DbConn,
    event: &EventRow,
    program: Option<&crate::programs::repo::ProgramRow>,
) -> Result<BTreeMap<String, Fact>, ApiError> {
    let mut facts = BTreeMap::new();
    facts.insert("event.type".to_owned(), Fact::Text(event.event_type.clone()));
    payload_facts(
        &mut facts,
        "event",
        &serde_json::from_str(&event.payload).unwrap_or(Value::Null),
        1,
    );
    if let Some(person) = &event.person_id {
        let found = crate::people::repo::get(conn, db::id(&event.organization_id), db::id(person));
        if let Ok(p) = found {
            let attributes: Attributes = serde_json::from_str(&p.attributes).unwrap_or_default();
            for (k, v) in &attributes {
                facts.insert(format!("participant.{k}"), super::fact(v));
            }
            facts.insert("participant.email".into(), Fact::Text(p.email));
            facts.insert("participant.name".into(), Fact::Text(p.name));
        }
        if let Some(program) = program {
            let roles: Vec<String> = participants::table
                .filter(participants::program_id.eq(&program.id))
                .filter(participants::person_id.eq(person))
                .filter(participants::status.eq("active"))
                .select(participants::role)
                .load(conn)?;
            facts.insert("participant.role".into(), Fact::List(roles));
        }
    }
    if let Some(p) = program {
        facts.insert("program.id".into(), Fact::Text(p.id.clone()));
        facts.insert("program.name".into(), Fact::Text(p.name.clone()));
        facts.insert("program.status".into(), Fact::Text(p.status.clone()));
    }
    Ok(facts)
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
    Ok(crate::steps::delivery::zone(&name))
}

/// The frequency limit, with the (automation, person) row locked on PostgreSQL (SQLite runs one
/// writer at a time): returns whether this run may go ahead, and records it if so.
fn frequency_allows(
    conn: &mut DbConn,
    automation: &str,
    person: &str,
    frequency: rules::Frequency,
    at: NaiveDateTime,
) -> Result<bool, ApiError> {
    if frequency == rules::Frequency::EveryTime {
        return Ok(true);
    }
    crate::insert_new!(
        conn,
        automation_contacts::table,
        (
            automation_contacts::automation_id.eq(automation),
            automation_contacts::person_id.eq(person),
            automation_contacts::last_run_at.eq(None::<NaiveDateTime>),
        )
    )?;
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query(
            "SELECT person_id FROM automation_contacts WHERE automation_id = $1 AND person_id = $2 FOR UPDATE",
        )
        .bind::<diesel::sql_types::Text, _>(automation)
        .bind::<diesel::sql_types::Text, _>(person)
        .execute(c)?;
    }
    let previous: Option<NaiveDateTime> = automation_contacts::table
        .find((automation, person))
        .select(automation_contacts::last_run_at)
        .first(conn)?;
    if !rules::frequency_allows(frequency, previous.map(db::utc), db::utc(at)) {
        return Ok(false);
    }
    diesel::update(automation_contacts::table.find((automation, person)))
        .set(automation_contacts::last_run_at.eq(at))
        .execute(conn)?;
    Ok(true)
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

/// Matches one event against the organisation's automations watching its type, each as it was
/// when the event arrived.
fn match_event(conn: &mut DbConn, event_id: &str) -> Result<(), ApiError> {
    let Some(event) = events::table
        .find(event_id)
        .select(EventRow::as_select())
        .first::<EventRow>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let candidates: Vec<String> = automations::table
        .filter(automations::organization_id.eq(&event.organization_id))
        .filter(automations::trigger_type.eq(&event.event_type))
        .filter(automations::active.eq(true))
        .select(automations::id)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(());
    }
    let program = match &event.program_id {
        Some(p) => Some(crate::programs::repo::get(
            conn,
            db::id(&event.organization_id),
            db::id(p),
        )?),
        None => None,
    };
    let done: HashSet<String> = automation_runs::table
        .filter(automation_runs::event_id.eq(&event.id))
        .select(automation_runs::automation_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    // Each candidate's version in force when the event arrived (the newest one from before it);
    // an automation created or turned on later does not see it.
    let mut in_force: std::collections::HashMap<String, (i32, String, bool)> = std::collections::HashMap::new();
    for (automation, version, json, active) in automation_versions::table
        .filter(automation_versions::automation_id.eq_any(&candidates))
        .filter(automation_versions::valid_from.le(event.created_at))
        .order((automation_versions::automation_id, automation_versions::version.desc()))
        .select((
            automation_versions::automation_id,
            automation_versions::version,
            automation_versions::definition,
            automation_versions::active,
        ))
        .load::<(String, i32, String, bool)>(conn)?
    {
        in_force.entry(automation).or_insert((version, json, active));
    }
    let mut facts_cache = None;
    for automation in candidates {
        if done.contains(&automation) {
            continue;
        }
        let Some((version, json, true)) = in_force.remove(&automation) else {
            continue;
        };
        let def: AutomationInput = definition(&json);
        if let Some(ids) = &def.program_ids {
            let inside = event
                .program_id
                .as_deref()
                .is_some_and(|p| ids.iter().any(|id| id.to_string() == p));
            if !inside {
                continue;
            }
        }
        if facts_cache.is_none() {
            facts_cache = Some(facts(conn, &event, program.as_ref())?);
        }
        let facts = facts_cache.as_ref().expect("just filled");
        let conditions: Vec<Condition> = def
            .conditions
            .iter()
            .map(|c| Condition {
                field: c.field.clone(),
                operator: super::operator(c.operator),
                value: super::fact(&c.value),
            })
            .collect();
        let held = rules::evaluate(&conditions, facts);
        let outcome = if !held.iter().all(|h| *h) {
            "conditions_not_met"
        } else {
            match &event.person_id {
                Some(person)
                    if !frequency_allows(
                        conn,
                        &automation,
                        person,
                        super::frequency(def.frequency),
                        event.occurred_at,
                    )? =>
                {
                    "frequency_limited"
                }
                _ => "ran",
            }
        };
        let run = RunRow {
            id: db::new_id(),
            organization_id: event.organization_id.clone(),
            automation_id: automation.clone(),
            version,
            event_id: event.id.clone(),
            person_id: event.person_id.clone(),
            outcome: outcome.to_owned(),
            conditions: serde_json::to_string(&condition_outcomes(&def.conditions, &held))
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            created_at: db::now(),
        };
        diesel::insert_into(automation_runs::table).values(&run).execute(conn)?;
        if outcome != "ran" {
            continue;
        }
        let actions: Vec<RunActionRow> = def
            .actions
            .iter()
            .enumerate()
            .map(|(n, a)| RunActionRow {
                run_id: run.id.clone(),
                position: n as i32,
                automation_id: automation.clone(),
                action: serde_json::to_string(a).unwrap_or_default(),
                state: "waiting".into(),
                reason: None,
                due_at: None,
                done_at: None,
                attempts: 0,
            })
            .collect();
        for a in &actions {
            diesel::insert_into(automation_run_actions::table)
                .values(a)
                .execute(conn)?;
        }
        let zone = zone(conn, &event, program.as_ref())?;
        let after_trigger = rules::due(db::utc(event.occurred_at), super::delay(def.delay), zone);
        let first = rules::due(after_trigger, super::delay(def.actions[0].delay), zone);
        schedule(conn, &run, 0, first.naive_utc(), &def.actions[0])?;
    }
    Ok(())
}

/// `automation.match`.
pub async fn run_match(db: Db, job: Job) -> Result<(), String> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let event = payload["event_id"]
        .as_str()
        .ok_or("match job without event")?
        .to_owned();
    db.write(move |conn| match_event(conn, &event))
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

/// POSTs the event and the action to the action's URL; any 2xx answer counts. A retry after a
/// crash may call it again: the `webhook-id` header lets the receiver drop the repeat.
async fn call(client: &reqwest::Client, allow_private: bool, url: &str, id: &str, body: String) -> Result<(), String> {
    crate::messaging::webhooks::check_destination(url, allow_private).await?;
    let response = client
        .post(url)
        .timeout(std::time::Duration::from_secs(10))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status()))
    }
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
            let event = {
                let id = run.event_id.clone();
                db.read(move |conn| {
                    Ok(events::table
                        .find(&id)
                        .select(EventRow::as_select())
                        .first::<EventRow>(conn)?)
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
