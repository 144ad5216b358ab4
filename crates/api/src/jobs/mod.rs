//! The durable job queue. Work is enqueued in the same transaction as the
//! change that causes it (the transactional outbox), claimed by workers with
//! a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the writer's turn on
//! SQLite), retried with backoff and parked as dead when attempts run out.
//! A worker that dies mid-job loses its lease, and the job runs again.

pub mod dead;
pub mod worker;

use std::time::Duration;

use chrono::NaiveDateTime;
use cohort_domain::jobs::{AfterFailure, RetryPolicy};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::jobs;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

static POLICY: std::sync::OnceLock<RetryPolicy> = std::sync::OnceLock::new();

/// Sets the retry policy of this process's jobs, once, at start-up (from the configuration); a
/// job records its number of attempts when it is queued.
pub fn set_policy(policy: RetryPolicy) {
    let _ = POLICY.set(policy);
}

/// The retry policy set at start-up, or the default (retries for a day).
pub fn policy() -> RetryPolicy {
    POLICY.get().copied().unwrap_or_default()
}

/// Work to do later: `kind` names the handler, `payload` is its input.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub organization_id: Option<Uuid>,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Enqueueing a second job with the same key adds nothing (one delivery per recipient and cause).
    pub dedupe_key: Option<String>,
    pub run_at: NaiveDateTime,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn now(kind: &str, payload: serde_json::Value) -> Self {
        Self {
            organization_id: None,
            kind: kind.to_owned(),
            payload,
            dedupe_key: None,
            run_at: db::now(),
            max_attempts: policy().max_attempts as i32,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = jobs, treat_none_as_default_value = false)]
struct JobRow {
    id: String,
    organization_id: Option<String>,
    kind: String,
    payload: String,
    dedupe_key: Option<String>,
    status: &'static str,
    run_at: NaiveDateTime,
    attempts: i32,
    max_attempts: i32,
    created_at: NaiveDateTime,
}

/// Adds a job on `conn`, inside the caller's transaction. Returns false when the dedupe key was taken.
/// Wakes this process's idle worker when a transaction that queued work commits, so a job due
/// now starts at once instead of at the next poll. Other processes find it at their next poll.
pub static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

pub fn enqueue(conn: &mut DbConn, job: NewJob) -> Result<bool, ApiError> {
    Ok(enqueue_all(conn, [job])? == 1)
}

/// Adds many jobs in the caller's transaction, in one statement per 500 (those whose dedupe key
/// was taken are skipped); returns how many were added.
pub fn enqueue_all(conn: &mut DbConn, jobs: impl IntoIterator<Item = NewJob>) -> Result<usize, ApiError> {
    let now = db::now();
    let rows: Vec<JobRow> = jobs
        .into_iter()
        .map(|job| JobRow {
            id: db::new_id(),
            organization_id: job.organization_id.map(|o| o.to_string()),
            kind: job.kind,
            payload: job.payload.to_string(),
            dedupe_key: job.dedupe_key,
            status: QUEUED,
            run_at: job.run_at,
            attempts: 0,
            max_attempts: job.max_attempts,
            created_at: now,
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    db::on_commit(&WAKE);
    let mut added = 0;
    for chunk in rows.chunks(500) {
        added += crate::insert_new!(conn, jobs::table, chunk)?;
    }
    Ok(added)
}

/// A claimed job, leased to one worker.
#[derive(Debug, Clone, QueryableByName)]
pub struct Job {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub organization_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub dedupe_key: Option<String>,
    /// This run's number, from 1.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
}

/// The claim: due jobs and jobs whose lease ran out, in two index range scans (`jobs_due` on
/// (status, run_at)); an `OR` of the two would sort every queued job on each claim, which grows
/// with the backlog. On PostgreSQL the rows are locked (`SKIP LOCKED`: two workers take different
/// jobs); SQLite has one writer at a time (the caller holds the writer's turn), so it needs none.
/// `one_kind` adds `kind = $5`.
fn claim_sql(postgres: bool, one_kind: bool) -> String {
    let (p, lock) = if postgres {
        ('$', " FOR UPDATE SKIP LOCKED")
    } else {
        ('?', "")
    };
    let kind = if one_kind {
        format!(" AND kind = {p}5")
    } else {
        String::new()
    };
    format!(
        "WITH due AS (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= {p}3{kind} \
           ORDER BY run_at LIMIT {p}4{lock}), \
         stale AS (SELECT id FROM jobs WHERE status = 'running' AND locked_until < {p}3{kind} \
           LIMIT {p}4{lock}) \
         UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = {p}1, locked_until = {p}2 \
         WHERE id IN (SELECT id FROM due UNION ALL SELECT id FROM stale) \
         RETURNING id, organization_id, kind, payload, dedupe_key, attempts, max_attempts"
    )
}

/// [`claim_sql`] for each backend, with and without a kind.
static CLAIM_SQL: std::sync::LazyLock<[[String; 2]; 2]> = std::sync::LazyLock::new(|| {
    [false, true].map(|postgres| [false, true].map(|one_kind| claim_sql(postgres, one_kind)))
});

/// Leases up to `limit` due jobs (and jobs whose lease ran out) to `worker` until `now + lease`.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Job>, ApiError> {
    claim_where(conn, worker, now, lease, limit, None)
}

/// Leases up to `limit` due jobs of one kind to `worker`, like `claim`.
pub fn claim_kind(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
    kind: &str,
) -> Result<Vec<Job>, ApiError> {
    claim_where(conn, worker, now, lease, limit, Some(kind))
}

fn claim_where(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
    kind: Option<&str>,
) -> Result<Vec<Job>, ApiError> {
    let until = now + chrono::Duration::from_std(lease).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sql = &CLAIM_SQL[usize::from(matches!(conn, DbConn::Postgres(_)))][usize::from(kind.is_some())];
    // The same binds for either backend's connection.
    macro_rules! load {
        ($c:expr) => {{
            let query = diesel::sql_query(sql.as_str())
                .into_boxed()
                .bind::<Text, _>(worker)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit);
            match kind {
                Some(kind) => query.bind::<Text, _>(kind).load($c)?,
                None => query.load($c)?,
            }
        }};
    }
    let claimed = match conn {
        DbConn::Postgres(c) => load!(c),
        DbConn::Sqlite(c) => load!(c),
    };
    Ok(claimed)
}

/// Marks these jobs done, those that `worker` still holds, in one statement.
pub fn complete_all(conn: &mut DbConn, ids: &[&str], worker: &str) -> Result<usize, ApiError> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(
        jobs::table
            .filter(jobs::id.eq_any(ids))
            .filter(jobs::locked_by.eq(worker)),
    )
    .set((
        jobs::status.eq(DONE),
        jobs::finished_at.eq(db::now()),
        jobs::locked_by.eq(None::<String>),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::last_error.eq(None::<String>),
    ))
    .execute(conn)?)
}

/// Marks a job done, if `worker` still holds it.
pub fn complete(conn: &mut DbConn, job: &Job, worker: &str) -> Result<bool, ApiError> {
    let n = diesel::update(jobs::table.find(&job.id).filter(jobs::locked_by.eq(worker)))
        .set((
            jobs::status.eq(DONE),
            jobs::finished_at.eq(db::now()),
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed run: the job waits for its next try, or is parked as dead.
pub fn fail(
    conn: &mut DbConn,
    job: &Job,
    worker: &str,
    error: &str,
    policy: &RetryPolicy,
    now: NaiveDateTime,
    unit: f64,
) -> Result<AfterFailure, ApiError> {
    let policy = RetryPolicy {
        max_attempts: job.max_attempts.max(1) as u32,
        ..*policy
    };
    let outcome = policy.after_failure(job.attempts.max(1) as u32, unit);
    let error: String = error.chars().take(2000).collect();
    let target = jobs::table.find(&job.id).filter(jobs::locked_by.eq(worker));
    match outcome {
        AfterFailure::RetryIn(delay) => {
            let run_at = now + chrono::Duration::from_std(delay).map_err(|e| ApiError::Internal(e.to_string()))?;
            diesel::update(target)
                .set((
                    jobs::status.eq(QUEUED),
                    jobs::run_at.eq(run_at),
                    jobs::last_error.eq(error),
                    jobs::locked_by.eq(None::<String>),
                    jobs::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        AfterFailure::Dead => {
            diesel::update(target)
                .set((
                    jobs::status.eq(DEAD),
                    jobs::finished_at.eq(now),
                    jobs::last_error.eq(error),
                    jobs::locked_by.eq(None::<String>),
                    jobs::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
    }
    Ok(outcome)
}

/// How many jobs are in each status, for health checks and tests.
pub fn counts(conn: &mut DbConn) -> Result<Vec<(String, i64)>, ApiError> {
    Ok(jobs::table
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// A job parked as dead, as the dead-job list shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct DeadRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// The organisation's dead jobs, newest first: up to `limit` with an id below `before`.
pub fn list_dead(conn: &mut DbConn, org: Uuid, before: Option<&str>, limit: i64) -> Result<Vec<DeadRow>, ApiError> {
    let mut q = jobs::table
        .filter(jobs::organization_id.eq(org.to_string()))
        .filter(jobs::status.eq(DEAD))
        .select(DeadRow::as_select())
        .order(jobs::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(jobs::id.lt(before.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Queues one of the organisation's dead jobs again, due now, with all its attempts. Another
/// organisation's job, or one that is not dead, is not found.
pub fn retry_dead(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<DeadRow, ApiError> {
    let target = jobs::table
        .filter(jobs::id.eq(id.to_string()))
        .filter(jobs::organization_id.eq(org.to_string()))
        .filter(jobs::status.eq(DEAD));
    let n = diesel::update(target)
        .set((
            jobs::status.eq(QUEUED),
            jobs::attempts.eq(0),
            jobs::run_at.eq(db::now()),
            jobs::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    db::on_commit(&WAKE);
    Ok(jobs::table
        .find(id.to_string())
        .select(DeadRow::as_select())
        .first(conn)?)
}

/// Queues a job of `kind` now and every `every`, for as long as the process runs: periodic
/// work such as the purges. Several processes may each queue one; the jobs must be harmless
/// twice.
pub async fn queue_every(db: crate::db::Db, kind: &'static str, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let queued = db
            .write(move |conn| enqueue(conn, NewJob::now(kind, serde_json::Value::Null)))
            .await;
        if let Err(e) = queued {
            tracing::warn!(error = %e, kind, "could not queue a periodic job");
        }
    }
}
