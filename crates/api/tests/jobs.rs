//! The job queue on both backends: the outbox commits and rolls back with its
//! change, dedupe keys, leases, retries with backoff, dead jobs, crashed
//! workers, and concurrent claimers that never share a job.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use cohort_api::db;
use cohort_api::error::ApiError;
use cohort_api::jobs::worker::Worker;
use cohort_api::jobs::{self, claim, complete, enqueue, fail, NewJob};
use cohort_domain::jobs::{AfterFailure, RetryPolicy};
use cohort_tests::both_backends;
use common::TestDb;
use serde_json::json;

const LEASE: Duration = Duration::from_secs(30);

fn counts(t: &TestDb) -> Vec<(String, i64)> {
    let mut c = t.db.write_blocking(jobs::counts).unwrap();
    c.sort();
    c
}

fn status(name: &str, n: i64) -> (String, i64) {
    (name.to_owned(), n)
}

both_backends!(
    fn outbox_jobs_commit_and_roll_back_with_their_change(backend: Backend) {
        let t = TestDb::new(backend);
        let rolled_back = t.db.write_blocking(|conn| {
            enqueue(conn, NewJob::now("email", json!({"to": "a@example.org"})))?;
            Err::<(), _>(ApiError::Conflict("the change failed".into()))
        });
        assert!(rolled_back.is_err());
        assert_eq!(counts(&t), vec![], "a rolled-back change leaves no message");
        t.db.write_blocking(|conn| enqueue(conn, NewJob::now("email", json!({"to": "a@example.org"}))))
            .unwrap();
        assert_eq!(counts(&t), vec![status("queued", 1)]);
    }
);

both_backends!(
    fn a_dedupe_key_enqueues_once(backend: Backend) {
        let t = TestDb::new(backend);
        let job = NewJob {
            dedupe_key: Some("invite:program-1:person-9".into()),
            ..NewJob::now("email", json!({}))
        };
        assert!(t.db.write_blocking(|conn| enqueue(conn, job.clone())).unwrap());
        assert!(!t.db.write_blocking(|conn| enqueue(conn, job.clone())).unwrap());
        assert_eq!(counts(&t), vec![status("queued", 1)]);
    }
);

both_backends!(
    fn failed_jobs_back_off_then_die(backend: Backend) {
        let t = TestDb::new(backend);
        let job = NewJob {
            max_attempts: 2,
            ..NewJob::now("email", json!({"n": 1}))
        };
        t.db.write_blocking(|conn| enqueue(conn, job)).unwrap();
        let now = db::now();
        let policy = RetryPolicy {
            jitter: 0.0,
            ..Default::default()
        };

        let first = t.db.write_blocking(|conn| claim(conn, "w1", now, LEASE, 10)).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].attempts, 1);
        assert!(
            t.db.write_blocking(|conn| claim(conn, "w2", now, LEASE, 10))
                .unwrap()
                .is_empty(),
            "leased"
        );
        let outcome =
            t.db.write_blocking(|conn| fail(conn, &first[0], "w1", "smtp down", &policy, now, 0.0))
                .unwrap();
        assert_eq!(outcome, AfterFailure::RetryIn(policy.base));
        assert!(
            t.db.write_blocking(|conn| claim(conn, "w1", now, LEASE, 10))
                .unwrap()
                .is_empty(),
            "not due yet"
        );

        let later = now + chrono::Duration::seconds(6);
        let second = t.db.write_blocking(|conn| claim(conn, "w1", later, LEASE, 10)).unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].attempts, 2);
        let outcome =
            t.db.write_blocking(|conn| fail(conn, &second[0], "w1", "still down", &policy, later, 0.0))
                .unwrap();
        assert_eq!(outcome, AfterFailure::Dead);
        assert_eq!(counts(&t), vec![status("dead", 1)]);
        let much_later = now + chrono::Duration::days(1);
        assert!(t
            .db
            .write_blocking(|conn| claim(conn, "w1", much_later, LEASE, 10))
            .unwrap()
            .is_empty());
    }
);

both_backends!(
    fn a_crashed_workers_jobs_run_again_after_its_lease(backend: Backend) {
        let t = TestDb::new(backend);
        t.db.write_blocking(|conn| enqueue(conn, NewJob::now("email", json!({}))))
            .unwrap();
        let now = db::now();
        let lost =
            t.db.write_blocking(|conn| claim(conn, "crashed", now, LEASE, 10))
                .unwrap();
        assert_eq!(lost.len(), 1);
        let after_lease = now + chrono::Duration::seconds(31);
        let again =
            t.db.write_blocking(|conn| claim(conn, "w2", after_lease, LEASE, 10))
                .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 2);
        // The crashed worker's late report changes nothing; the new holder's does.
        assert!(!t.db.write_blocking(|conn| complete(conn, &lost[0], "crashed")).unwrap());
        assert!(t.db.write_blocking(|conn| complete(conn, &again[0], "w2")).unwrap());
        assert_eq!(counts(&t), vec![status("done", 1)]);
    }
);

both_backends!(
    fn concurrent_claimers_never_share_a_job(backend: Backend) {
        let t = Arc::new(TestDb::new(backend));
        const JOBS: usize = 300;
        t.db.write_blocking(|conn| {
            for n in 0..JOBS {
                enqueue(conn, NewJob::now("email", json!({ "n": n })))?;
            }
            Ok(())
        })
        .unwrap();
        let claimers: Vec<_> = (0..6)
            .map(|w| {
                let t = t.clone();
                std::thread::spawn(move || {
                    let worker = format!("w{w}");
                    let mut mine = Vec::new();
                    loop {
                        let batch =
                            t.db.write_blocking(|conn| claim(conn, &worker, db::now(), LEASE, 7))
                                .unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        for job in batch {
                            t.db.write_blocking(|conn| complete(conn, &job, &worker)).unwrap();
                            mine.push(job.id);
                        }
                    }
                })
            })
            .collect();
        let all: Vec<String> = claimers.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!((all.len(), unique.len()), (JOBS, JOBS), "every job ran exactly once");
        assert_eq!(counts(&t), vec![status("done", JOBS as i64)]);
    }
);

both_backends!(
    fn worker_runs_handlers(backend: Backend) {
        let t = TestDb::new(backend);
        t.db.write_blocking(|conn| {
            enqueue(conn, NewJob::now("greet", json!({"name": "Ada"})))?;
            enqueue(conn, NewJob::now("flaky", json!({})))?;
            enqueue(
                conn,
                NewJob {
                    max_attempts: 1,
                    ..NewJob::now("unknown-kind", json!({}))
                },
            )?;
            Ok(())
        })
        .unwrap();
        let greeted = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
        let sink = greeted.clone();
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let mut worker = Worker::new(t.db.clone())
                .handle("greet", move |job| {
                    let sink = sink.clone();
                    async move {
                        let payload: serde_json::Value =
                            serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
                        sink.borrow_mut()
                            .push(payload["name"].as_str().unwrap_or_default().to_owned());
                        Ok(())
                    }
                })
                .handle("flaky", |job| async move {
                    if job.attempts == 1 {
                        Err("first try fails".to_owned())
                    } else {
                        Ok(())
                    }
                });
            worker.policy = RetryPolicy {
                base: Duration::from_millis(1),
                jitter: 0.0,
                ..Default::default()
            };
            assert_eq!(worker.run_once().await.unwrap(), 3);
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(
                worker.run_once().await.unwrap(),
                1,
                "the flaky job runs again after its backoff"
            );
            assert_eq!(worker.run_once().await.unwrap(), 0);
            assert_eq!(counts(&t), vec![status("dead", 1), status("done", 2)]);
        });
        assert_eq!(*greeted.borrow(), vec!["Ada".to_owned()]);
    }
);

/// Each job's (status, attempts, last_error), by kind.
fn job_state(t: &TestDb, kind: &str) -> (String, i32, Option<String>) {
    use cohort_api::schema::jobs::dsl;
    use diesel::prelude::*;
    let kind = kind.to_owned();
    t.db.write_blocking(move |conn| {
        Ok(dsl::jobs
            .filter(dsl::kind.eq(kind))
            .select((dsl::status, dsl::attempts, dsl::last_error))
            .first(conn)?)
    })
    .unwrap()
}

both_backends!(
    fn a_slow_job_does_not_hold_up_the_jobs_after_it(backend: Backend) {
        let t = TestDb::new(backend);
        t.db.write_blocking(|conn| enqueue(conn, NewJob::now("slow", json!({}))))
            .unwrap();
        let slow_started = std::rc::Rc::new(std::cell::Cell::new(false));
        let (started, db) = (slow_started.clone(), t.db.clone());
        actix_web::rt::System::new().block_on(async move {
            let mut worker = Worker::new(db.clone())
                .handle("slow", move |_| {
                    started.set(true);
                    async {
                        tokio::time::sleep(Duration::from_secs(20)).await;
                        Ok(())
                    }
                })
                .handle("fast", |_| async { Ok(()) });
            worker.idle_poll = Duration::from_millis(20);
            actix_web::rt::spawn(worker.run());
            while !slow_started.get() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            db.write(|conn| enqueue(conn, NewJob::now("fast", json!({}))))
                .await
                .unwrap();
            let waited = std::time::Instant::now();
            while job_state(&t, "fast").0 != "done" {
                assert!(
                    waited.elapsed() < Duration::from_secs(5),
                    "the fast job waits for the slow one"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(job_state(&t, "slow").0, "running");
        });
    }
);

both_backends!(
    fn a_run_that_outlasts_its_lease_is_cut_off_and_retried(backend: Backend) {
        let t = TestDb::new(backend);
        t.db.write_blocking(|conn| enqueue(conn, NewJob::now("hang", json!({}))))
            .unwrap();
        actix_web::rt::System::new().block_on(async {
            let mut worker = Worker::new(t.db.clone()).handle("hang", |_| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            });
            worker.lease = Duration::from_secs(1);
            let started = std::time::Instant::now();
            let ran = tokio::time::timeout(Duration::from_secs(5), worker.run_once()).await;
            assert_eq!(ran.expect("the run outlasted its lease").unwrap(), 1);
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "cut off before the lease ends"
            );
        });
        let (status, attempts, error) = job_state(&t, "hang");
        assert_eq!((status.as_str(), attempts), ("queued", 1), "failed, for a retry");
        assert!(error.unwrap().contains("did not finish"));
    }
);

both_backends!(
    fn a_handler_that_panics_fails_its_job(backend: Backend) {
        let t = TestDb::new(backend);
        t.db.write_blocking(|conn| {
            enqueue(conn, NewJob::now("panics", json!({})))?;
            enqueue(
                conn,
                NewJob {
                    max_attempts: 1,
                    ..NewJob::now("panics-once", json!({}))
                },
            )
        })
        .unwrap();
        actix_web::rt::System::new().block_on(async {
            let worker = Worker::new(t.db.clone())
                .handle("panics", |_| async { panic!("a bug in the handler") })
                .handle("panics-once", |_| async { panic!("a bug in the handler") });
            assert_eq!(worker.run_once().await.unwrap(), 2);
        });
        let (status, attempts, error) = job_state(&t, "panics");
        assert_eq!((status.as_str(), attempts), ("queued", 1), "failed, for a retry");
        assert!(error.unwrap().contains("panicked: a bug in the handler"));
        assert_eq!(job_state(&t, "panics-once").0, "dead", "out of attempts");
    }
);
