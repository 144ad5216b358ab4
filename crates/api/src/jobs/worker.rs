//! Workers: claim due jobs, run their handler, record the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use std::sync::Arc;

use cohort_domain::jobs::{run_deadline, RetryPolicy};
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::{claim, complete, fail, Job};
use crate::db::{self, Db};
use crate::error::ApiError;

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>>>>;
pub type Handler = Rc<dyn Fn(Job) -> JobFuture>;

pub struct Worker {
    db: Db,
    /// Unique per process and start, so a restarted process never mistakes old leases for its own.
    pub id: String,
    handlers: HashMap<String, Handler>,
    pub policy: RetryPolicy,
    pub lease: Duration,
    /// How many jobs run at once: a slot that frees is filled by the next claim, whatever the
    /// other jobs are doing.
    pub batch: i64,
    pub idle_poll: Duration,
}

/// Records a job's outcome: done, or failed (retried with backoff, or parked as dead).
pub async fn record(
    db: &Db,
    job: Job,
    worker: String,
    policy: RetryPolicy,
    outcome: Result<(), String>,
) -> Result<(), ApiError> {
    let unit: f64 = rand::rng().random();
    db.write(move |conn| {
        match outcome {
            Ok(()) => {
                complete(conn, &job, &worker)?;
            }
            Err(error) => {
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed");
                fail(conn, &job, &worker, &error, &policy, db::now(), unit)?;
            }
        }
        Ok(())
    })
    .await
}

/// Runs one job's handler as a task of its own until `deadline` ([`run_deadline`] after the
/// claim): a handler that panics or overruns fails this run, to be retried by the schedule like
/// any other failure, instead of leaving its job running until the lease ends.
pub async fn run_guarded(work: JobFuture, deadline: Instant) -> Result<(), String> {
    let mut task = actix_web::rt::spawn(work);
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) if e.is_panic() => {
            let panic = e.into_panic();
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("the handler panicked: {message}"))
        }
        Ok(Err(e)) => Err(format!("the handler stopped: {e}")),
        Err(_) => {
            task.abort();
            Err("the handler did not finish within three quarters of the job's lease".to_owned())
        }
    }
}

impl Worker {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            id: format!("worker-{}", uuid::Uuid::now_v7()),
            handlers: HashMap::new(),
            policy: super::policy(),
            lease: Duration::from_secs(60),
            batch: 10,
            idle_poll: Duration::from_millis(500),
        }
    }

    pub fn handle<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Job) -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        self.handlers
            .insert(kind.to_owned(), Rc::new(move |job| Box::pin(handler(job))));
        self
    }

    /// Registers a handler that needs only the database (the worker's own).
    pub fn handle_with_db<F, Fut>(self, kind: &str, handler: F) -> Self
    where
        F: Fn(Db, Job) -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        let db = self.db.clone();
        self.handle(kind, move |job| handler(db.clone(), job))
    }

    /// Claims one batch and runs its jobs side by side (deliveries wait on the network,
    /// not the CPU) until all have finished; returns how many jobs ran.
    pub async fn run_once(&self) -> Result<usize, ApiError> {
        let slots = Arc::new(Semaphore::new(self.batch.max(1) as usize));
        let (_, running) = self.claim_and_start(&slots).await?;
        let ran = running.len();
        for task in running {
            task.await.map_err(|e| ApiError::Internal(e.to_string()))??;
        }
        Ok(ran)
    }

    /// Waits for a free slot, claims as many jobs as there are free slots, and starts each as a
    /// task of its own that frees its slot when done. Returns how many jobs it asked for, and
    /// the started tasks.
    async fn claim_and_start(
        &self,
        slots: &Arc<Semaphore>,
    ) -> Result<(usize, Vec<actix_web::rt::task::JoinHandle<Result<(), ApiError>>>), ApiError> {
        let first = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let mut permits = vec![first];
        while let Ok(permit) = slots.clone().try_acquire_owned() {
            permits.push(permit);
        }
        let asked = permits.len();
        let (worker, lease) = (self.id.clone(), self.lease);
        // The lease starts inside the claim, after this instant: the deadline falls before its end.
        let deadline = Instant::now() + run_deadline(lease);
        let jobs = self
            .db
            .write(move |conn| claim(conn, &worker, db::now(), lease, asked as i64))
            .await?;
        let started = jobs
            .into_iter()
            .zip(permits)
            .map(|(job, permit)| self.start(job, permit, deadline))
            .collect();
        Ok((asked, started))
    }

    fn start(
        &self,
        job: Job,
        slot: OwnedSemaphorePermit,
        deadline: Instant,
    ) -> actix_web::rt::task::JoinHandle<Result<(), ApiError>> {
        let work: JobFuture = match self.handlers.get(&job.kind) {
            Some(handler) => handler(job.clone()),
            None => {
                let kind = job.kind.clone();
                Box::pin(async move { Err(format!("no handler for jobs of kind \"{kind}\"")) })
            }
        };
        let (db, worker, policy) = (self.db.clone(), self.id.clone(), self.policy);
        actix_web::rt::spawn(async move {
            let outcome = run_guarded(work, deadline).await;
            let (id, recorded) = (job.id.clone(), record(&db, job, worker, policy, outcome).await);
            drop(slot);
            if let Err(e) = &recorded {
                tracing::error!(job = %id, error = %e, "could not record a job's outcome");
            }
            recorded
        })
    }

    /// Runs until the process stops: starts jobs as slots free, a short sleep when there is no
    /// due work.
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.batch.max(1) as usize));
        loop {
            match self.claim_and_start(&slots).await {
                Ok((asked, started)) if started.len() < asked => {
                    // No more due work: until a job is queued here, or the poll interval passes
                    // (jobs queued by other processes, and jobs that come due).
                    let _ = tokio::time::timeout(self.idle_poll, super::WAKE.notified()).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "job worker could not reach the database");
                    actix_web::rt::time::sleep(self.idle_poll * 4).await;
                }
            }
        }
    }
}
