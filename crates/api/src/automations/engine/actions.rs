//! Actions: scheduling each run's actions, running those due in batches, and the bookkeeping of
//! their state (`scheduled` → `done`, `skipped` or failed) and of what comes next.

use super::*;

/// Schedules an action. One due now runs at once, in the caller's transaction (behind a
/// savepoint): most actions are writes to this database, so they commit with their run, once.
/// Webhooks, later actions, and an action whose first attempt fails go to the job queue.
pub(super) fn schedule(
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

/// A run whose actions move on in this transaction: its action rows as they will be written.
pub(super) struct Chain<'a> {
    pub(super) run: &'a RunRow,
    pub(super) actions: Vec<AutomationAction>,
    pub(super) rows: Vec<RunActionRow>,
    pub(super) zone: Tz,
    /// The rows this transaction changed.
    pub(super) touched: Vec<bool>,
}

/// An action to take: `due` is when (`None`: now, as its job came due), `job` the claimed job
/// that asked for it, if any.
pub(super) struct Step {
    pub(super) chain: usize,
    pub(super) position: usize,
    pub(super) due: Option<NaiveDateTime>,
    pub(super) job: Option<usize>,
}

/// Takes the steps in waves: those due now (but webhooks) run at once, in this transaction,
/// grouped by kind (one statement for all notifications, one for all badges), and each one
/// finished lets the next of its run follow; the others are scheduled. Returns the jobs to
/// queue for scheduled actions, and the claimed jobs whose action failed (to retry alone).
pub(super) fn advance(
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
                let due = rules::due(
                    db::utc(done_at),
                    crate::automations::delay(chain.actions[next].delay),
                    chain.zone,
                );
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
pub(super) fn start_actions(
    conn: &mut DbConn,
    batch: &Batch,
    runs: &[RunRow],
    matched: &[Matched],
) -> Result<(), ApiError> {
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
        let after_trigger = rules::due(db::utc(event.occurred_at), crate::automations::delay(def.delay), zone);
        let first = rules::due(after_trigger, crate::automations::delay(def.actions[0].delay), zone);
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

pub(super) fn action_job(run: &RunRow, position: usize, due: NaiveDateTime) -> NewJob {
    NewJob {
        organization_id: Some(db::id(&run.organization_id)),
        dedupe_key: Some(format!("{ACTION_JOB}:{}:{position}", run.id)),
        run_at: due,
        ..NewJob::now(ACTION_JOB, json!({"run_id": run.id, "position": position}))
    }
}

/// An action due now.
pub(super) struct Due<'a> {
    pub(super) run: &'a RunRow,
    pub(super) position: usize,
    pub(super) action: &'a AutomationAction,
}

/// The runs and all their actions, locked on PostgreSQL (a deactivation waits; SQLite has one
/// writer at a time), in order.
pub(super) fn lock_runs(conn: &mut DbConn, runs: &[&str]) -> Result<Vec<(RunRow, RunActionRow)>, ApiError> {
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

pub(super) const SAVE_ACTIONS_POSTGRES: &str =
    "UPDATE automation_run_actions a SET state = u.state, reason = u.reason, \
     due_at = u.due_at, done_at = u.done_at, attempts = u.attempts \
     FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::timestamp[], $6::timestamp[], $7::int4[]) \
     AS u(run_id, position, state, reason, due_at, done_at, attempts) \
     WHERE a.run_id = u.run_id AND a.position = u.position";

/// Writes these (locked) action rows' state, in one statement on PostgreSQL.
pub(super) fn save_actions(conn: &mut DbConn, rows: &[&RunActionRow]) -> Result<(), ApiError> {
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

pub(super) fn load_action(
    conn: &mut DbConn,
    run_id: &str,
    position: i32,
) -> Result<Option<(RunRow, RunActionRow)>, ApiError> {
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
pub(super) fn finish(
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

pub(super) fn schedule_next(conn: &mut DbConn, run: &RunRow, position: i32) -> Result<(), ApiError> {
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
        let due = rules::due(db::utc(db::now()), crate::automations::delay(action.delay), zone);
        schedule(conn, run, position + 1, due.naive_utc(), &action)?;
    }
    Ok(())
}

/// After a failed attempt: the reason shows in the history; after the last, the action fails and
/// the rest of the run is skipped.
pub(super) fn record_failure(
    conn: &mut DbConn,
    run: &RunRow,
    position: i32,
    error: &str,
    last: bool,
) -> Result<(), ApiError> {
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
