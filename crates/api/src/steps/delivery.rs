//! Getting steps to participants: publication (instant and scheduled), joining, triggers,
//! due dates. Everything runs in the caller's transaction or as a job on the queue, and a
//! step reaches a person at most once (the deliveries' primary key).

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use cohort_api_types::ScheduledStep;
use cohort_domain::events;
use cohort_domain::steps::{self as rules, Member};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::repo::{self, StepRow};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::events::EventRow;
use crate::jobs::{self, Job, NewJob};
use crate::messaging::notifications::{notify_all, NewNotification};
use crate::programs::repo::{self as programs, ParticipantRow};
use crate::schema::{participants, step_deliveries};

pub const PUBLISH_JOB: &str = "step.publish";
pub const DELIVER_JOB: &str = "step.deliver";
pub const DUE_JOB: &str = "step.due";

/// Gives `step` to `people` who do not have it yet, with an in-app notification each.
pub(crate) fn deliver(conn: &mut DbConn, step: &StepRow, people: &[String]) -> Result<usize, ApiError> {
    let started = std::time::Instant::now();
    let added = repo::insert_deliveries(conn, step, db::now(), people)?;
    let recorded = started.elapsed();
    if !added.is_empty() {
        let program = programs::get(conn, db::id(&step.organization_id), db::id(&step.program_id))?;
        let body = format!("A new step in {}", program.name);
        let new = NewNotification {
            kind: "step",
            title: &step.title,
            body: &body,
            link: None,
            dedupe_key: None,
        };
        notify_all(
            conn,
            db::id(&step.organization_id),
            &added,
            &new,
            &format!("step:{}:", step.id),
        )?;
        // Someone who gets a step after its due date (they joined late) has missed it already.
        if let Some(date) = step.due_date {
            if rules::due_date_end(date, cohort_domain::tenancy::zone(&program.time_zone)) <= db::now().and_utc() {
                mark_missed(conn, step, date, Some(&added))?;
            }
        }
    }
    tracing::debug!(step = %step.id, delivered = added.len(), of = people.len(), ?recorded, total = ?started.elapsed(), "step delivered");
    Ok(added.len())
}

/// Queues what a saved step needs: its publication (instant: now; scheduled: at its time) and
/// its due-date check. Keys name the version of the schedule, so an edit that moves the time
/// queues a new job and the old one finds itself stale.
pub fn schedule(conn: &mut DbConn, step: &StepRow, zone: Tz) -> Result<(), ApiError> {
    let org = Some(db::id(&step.organization_id));
    if let Some(version) = step.publish_version() {
        let run_at = step.publish_at.unwrap_or_else(db::now);
        jobs::enqueue(
            conn,
            NewJob {
                organization_id: org,
                run_at,
                dedupe_key: Some(format!("{PUBLISH_JOB}:{}:{version}", step.id)),
                ..NewJob::now(PUBLISH_JOB, json!({"step_id": step.id, "version": version}))
            },
        )?;
    }
    if let Some(date) = step.due_date {
        jobs::enqueue(
            conn,
            NewJob {
                organization_id: org,
                run_at: rules::due_date_end(date, zone).naive_utc(),
                dedupe_key: Some(format!("{DUE_JOB}:{}:{date}", step.id)),
                ..NewJob::now(DUE_JOB, json!({"step_id": step.id, "due_date": date}))
            },
        )?;
    }
    Ok(())
}

fn member(row: &ParticipantRow) -> Member {
    Member {
        role: repo::role_of(&row.role),
        joined_at: db::utc(row.joined_at),
    }
}

/// What joining a program brings: instant steps at once, and the `joined_program` trigger.
pub fn on_join(conn: &mut DbConn, program_zone: &str, joined: &[ParticipantRow]) -> Result<(), ApiError> {
    let Some(first) = joined.first() else {
        return Ok(());
    };
    let steps = repo::of_program(conn, &first.program_id)?;
    for step in &steps {
        let rule = step.rule();
        let people: Vec<String> = joined
            .iter()
            .filter(|p| rule.reaches_on_join(member(p)))
            .map(|p| p.person_id.clone())
            .collect();
        if !people.is_empty() {
            deliver(conn, step, &people)?;
        }
    }
    for participant in joined {
        fire_for(
            conn,
            &steps,
            program_zone,
            std::slice::from_ref(participant),
            rules::Trigger::JoinedProgram,
            participant.joined_at,
        )?;
    }
    Ok(())
}

/// Schedules the triggered steps `trigger` starts for one person, given their active
/// memberships in the program; returns what was scheduled.
pub fn fire(
    conn: &mut DbConn,
    program_id: &str,
    program_zone: &str,
    memberships: &[ParticipantRow],
    trigger: rules::Trigger,
    at: NaiveDateTime,
) -> Result<Vec<ScheduledStep>, ApiError> {
    let steps = repo::of_program(conn, program_id)?;
    fire_for(conn, &steps, program_zone, memberships, trigger, at)
}

fn fire_for(
    conn: &mut DbConn,
    steps: &[StepRow],
    program_zone: &str,
    memberships: &[ParticipantRow],
    trigger: rules::Trigger,
    at: NaiveDateTime,
) -> Result<Vec<ScheduledStep>, ApiError> {
    let zone = cohort_domain::tenancy::zone(program_zone);
    let mut scheduled = Vec::new();
    let Some(person) = memberships.first().map(|m| m.person_id.clone()) else {
        return Ok(scheduled);
    };
    for step in steps {
        let rule = step.rule();
        let due = memberships
            .iter()
            .filter_map(|m| rule.due_on_trigger(member(m), trigger, db::utc(at), zone))
            .min();
        let Some(due) = due else { continue };
        jobs::enqueue(
            conn,
            NewJob {
                organization_id: Some(db::id(&step.organization_id)),
                run_at: due.naive_utc(),
                dedupe_key: Some(format!("{DELIVER_JOB}:{}:{person}", step.id)),
                ..NewJob::now(DELIVER_JOB, json!({"step_id": step.id, "person_id": person}))
            },
        )?;
        scheduled.push(ScheduledStep {
            step_id: db::id(&step.id),
            due_at: due,
        });
    }
    Ok(scheduled)
}

fn field<'a>(job: &'a Job, payload: &'a serde_json::Value, name: &str) -> Result<&'a str, String> {
    payload[name]
        .as_str()
        .ok_or_else(|| format!("{} job {} without {name}", job.kind, job.id))
}

/// `step.publish`: the step reaches every participant of its viewer type (for a scheduled
/// step, those who had joined by its publish time), in a few set-based statements.
pub async fn run_publish(db: Db, job: Job) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let step_id = field(&job, &payload, "step_id")?.to_owned();
    let version = field(&job, &payload, "version")?.to_owned();
    db.write(move |conn| {
        let Some(step) = repo::find(conn, &step_id)? else {
            return Ok(());
        };
        if step.publish_version().as_deref() != Some(version.as_str()) {
            return Ok(()); // edited since: another job (or none) publishes it
        }
        crate::programs::repo::lock(conn, &step.program_id)?;
        let already = step_deliveries::table
            .filter(step_deliveries::step_id.eq(&step.id))
            .select(step_deliveries::person_id);
        let mut query = participants::table
            .filter(participants::program_id.eq(&step.program_id))
            .filter(participants::status.eq("active"))
            .filter(participants::role.eq_any(step.roles()))
            .filter(diesel::dsl::not(participants::person_id.eq_any(already)))
            .select(participants::person_id)
            .distinct()
            .into_boxed();
        if let Some(at) = step.publish_at.filter(|_| step.publish_type == "scheduled") {
            query = query.filter(participants::joined_at.le(at));
        }
        let started = std::time::Instant::now();
        let people: Vec<String> = query.load(conn)?;
        tracing::debug!(step = %step.id, people = people.len(), took = ?started.elapsed(), "step publication: who gets it");
        deliver(conn, &step, &people)?;
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())
}

/// `step.deliver`: a triggered step reaches one person, if they still take part in a role
/// the step is for.
pub async fn run_deliver(db: Db, job: Job) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let step_id = field(&job, &payload, "step_id")?.to_owned();
    let person = field(&job, &payload, "person_id")?.to_owned();
    db.write(move |conn| {
        let Some(step) = repo::find(conn, &step_id)? else {
            return Ok(());
        };
        let active: i64 = participants::table
            .filter(participants::program_id.eq(&step.program_id))
            .filter(participants::person_id.eq(&person))
            .filter(participants::status.eq("active"))
            .filter(participants::role.eq_any(step.roles()))
            .count()
            .get_result(conn)?;
        if active > 0 {
            deliver(conn, &step, &[person])?;
        }
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())
}

/// `step.due`: deliveries not completed by the end of the due date count as missed.
pub async fn run_due(db: Db, job: Job) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let step_id = field(&job, &payload, "step_id")?.to_owned();
    let date: NaiveDate = field(&job, &payload, "due_date")?
        .parse()
        .map_err(|e| format!("bad due date: {e}"))?;
    db.write(move |conn| {
        let Some(step) = repo::find(conn, &step_id)? else {
            return Ok(());
        };
        if step.due_date != Some(date) {
            return Ok(()); // the due date moved; its own job checks it
        }
        mark_missed(conn, &step, date, None)
    })
    .await
    .map_err(|e| e.to_string())
}

/// Marks the open deliveries of `step` (all, or only those of `only`) missed, each with a
/// `step.missed` event for automations.
fn mark_missed(conn: &mut DbConn, step: &StepRow, date: NaiveDate, only: Option<&[String]>) -> Result<(), ApiError> {
    let open = || {
        let mut q = step_deliveries::table
            .filter(step_deliveries::step_id.eq(step.id.clone()))
            .filter(step_deliveries::completed_at.is_null())
            .filter(step_deliveries::missed_at.is_null())
            .into_boxed();
        if let Some(people) = only {
            q = q.filter(step_deliveries::person_id.eq_any(people.to_vec()));
        }
        q
    };
    let people: Vec<String> = open().select(step_deliveries::person_id).load(conn)?;
    if people.is_empty() {
        return Ok(());
    }
    let now = db::now();
    diesel::update(
        step_deliveries::table
            .filter(step_deliveries::step_id.eq(&step.id))
            .filter(step_deliveries::person_id.eq_any(&people)),
    )
    .set(step_deliveries::missed_at.eq(now))
    .execute(conn)?;
    let missed: Vec<EventRow> = people
        .iter()
        .map(|person| {
            EventRow::new(
                &step.organization_id,
                events::STEP_MISSED,
                &step.program_id,
                person,
                json!({"step_id": step.id, "due_date": date}),
                format!("{}:{}:{person}", events::STEP_MISSED, step.id),
                now,
            )
        })
        .collect();
    crate::events::record(conn, &missed)?;
    Ok(())
}

/// Removes a deleted step's notifications from every feed (its deliveries go with the step).
pub fn forget(conn: &mut DbConn, org: Uuid, step_id: &str) -> Result<(), ApiError> {
    use crate::schema::notifications;
    diesel::delete(
        notifications::table
            .filter(notifications::organization_id.eq(org.to_string()))
            .filter(notifications::dedupe_key.like(format!("step:{step_id}:%"))),
    )
    .execute(conn)?;
    Ok(())
}
