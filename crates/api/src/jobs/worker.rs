//! Workers: claim due jobs, run their handler, record the outcome.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use cohort_domain::jobs::RetryPolicy;
use rand::Rng;

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

impl Worker {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            id: format!("worker-{}", uuid::Uuid::now_v7()),
            handlers: HashMap::new(),
            policy: RetryPolicy::default(),
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
    /// not the CPU); returns how many jobs ran.
    pub async fn run_once(&self) -> Result<usize, ApiError> {
        let (worker, lease, batch) = (self.id.clone(), self.lease, self.batch);
        let jobs = self
            .db
            .write(move |conn| claim(conn, &worker, db::now(), lease, batch))
            .await?;
        let ran = jobs.len();
        let mut running = Vec::with_capacity(ran);
        for job in jobs {
            let work: JobFuture = match self.handlers.get(&job.kind) {
                Some(handler) => handler(job.clone()),
                None => {
                    let kind = job.kind.clone();
                    Box::pin(async move { Err(format!("no handler for jobs of kind \"{kind}\"")) })
                }
            };
            let (db, worker, policy) = (self.db.clone(), self.id.clone(), self.policy);
            running.push(actix_web::rt::spawn(async move {
                let outcome = work.await;
                record(&db, job, worker, policy, outcome).await
            }));
        }
        for task in running {
            task.await.map_err(|e| ApiError::Internal(e.to_string()))??;
        }
        Ok(ran)
    }

    /// Runs until the process stops: batches back to back while there is work, a short sleep when idle.
    pub async fn run(self) {
        loop {
            match self.run_once().await {
                Ok(0) => {
                    // Until a job is queued here, or the poll interval passes (jobs queued by other
                    // processes, and jobs that come due).
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
