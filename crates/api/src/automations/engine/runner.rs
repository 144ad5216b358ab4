//! The runners: the matcher loop of each process and the job handlers that match and act.

use super::*;

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
pub(super) async fn count_failure(db: &Db, event: &str, error: &ApiError) {
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
