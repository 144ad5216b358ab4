//! The database restarts under load: PostgreSQL on a cluster of the test's own is stopped and
//! started again while clients keep reading and writing. Requests may fail while it is down (as
//! 503 problems), every request succeeds again soon after it is back, without restarting
//! `cohort`, and no write acknowledged before the restart is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{PgCluster, Spawn, TestApp};

/// How long after PostgreSQL accepts connections again every request must succeed.
const RECOVERY: Duration = Duration::from_secs(10);

/// One request of the load: when it was sent, what it was, and how it ended.
struct Outcome {
    sent: Instant,
    what: String,
    status: Option<StatusCode>,
    body: String,
}

#[derive(Default)]
struct Record {
    outcomes: Vec<Outcome>,
    /// Programs whose creation was acknowledged (201), with when the answer came.
    created: Vec<(String, Instant)>,
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Outcome {
    let sent = Instant::now();
    let mut request = app
        .request(method.clone(), path)
        .bearer_auth(token)
        .timeout(Duration::from_secs(30));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let what = format!("{method} {path}");
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let text = response.text().await.unwrap_or_default();
            Outcome {
                sent,
                what,
                status: Some(status),
                body: format!("{content_type} {text}"),
            }
        }
        Err(e) => Outcome {
            sent,
            what,
            status: None,
            body: e.to_string(),
        },
    }
}

/// Creates programs until `stop`, recording every answer and the acknowledged ids.
async fn writer(app: Arc<TestApp>, token: String, record: Arc<Mutex<Record>>, stop: Arc<AtomicBool>) {
    for i in 0.. {
        let body = json!({"name": format!("Program {i} {}", uuid::Uuid::now_v7()), "time_zone": "UTC"});
        let outcome = send(&app, Method::POST, "/api/v1/programs", &token, Some(body)).await;
        {
            let mut record = record.lock().unwrap();
            if outcome.status == Some(StatusCode::CREATED) {
                let id = outcome.body.split_once(' ').map(|(_, json)| json).unwrap_or("");
                let id = cohort_tests::serde_json::from_str::<Value>(id).unwrap()["id"]
                    .as_str()
                    .expect("a created program has an id")
                    .to_owned();
                record.created.push((id, Instant::now()));
            }
            record.outcomes.push(outcome);
        }
        if paused(&stop).await {
            return;
        }
    }
}

/// Reads the newest acknowledged program (or the list), and readiness, until `stop`.
async fn reader(app: Arc<TestApp>, token: String, record: Arc<Mutex<Record>>, stop: Arc<AtomicBool>) {
    for i in 0u64.. {
        let newest = record.lock().unwrap().created.last().map(|(id, _)| id.clone());
        let path = match (i % 3, newest) {
            (0, _) => "/readyz".to_owned(),
            (1, Some(id)) => format!("/api/v1/programs/{id}"),
            _ => "/api/v1/programs?limit=5".to_owned(),
        };
        let outcome = send(&app, Method::GET, &path, &token, None).await;
        record.lock().unwrap().outcomes.push(outcome);
        if paused(&stop).await {
            return;
        }
    }
}

/// A short pause between requests (a steady load, not a flood on two cores); true when told to stop.
async fn paused(stop: &AtomicBool) -> bool {
    tokio::time::sleep(Duration::from_millis(10)).await;
    stop.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_succeed_again_soon_after_postgres_restarts_and_no_acknowledged_write_is_lost() {
    let cluster = PgCluster::start().await;
    let app = Arc::new(
        TestApp::spawn_on_postgres(
            cluster.url(),
            Spawn {
                demo_data: false,
                // The default pool: more connections than the load uses at once, so some sit
                // idle through the restart.
                extra_env: vec![
                    ("COHORT_DB_POOL_SIZE".into(), "16".into()),
                    // One admin sends hundreds of requests a second.
                    ("COHORT_PERSON_LIMIT".into(), "1000000".into()),
                ],
            },
        )
        .await,
    );
    let token = app.admin_token().await;
    let record = Arc::new(Mutex::new(Record::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..2 {
        clients.spawn(writer(app.clone(), token.clone(), record.clone(), stop.clone()));
        clients.spawn(reader(app.clone(), token.clone(), record.clone(), stop.clone()));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = record.lock().unwrap().created.len();
    assert!(before > 0, "no program was created before the restart");
    let stopping = Instant::now();
    cluster.stop().await;
    // Down long enough for the load to find it down.
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.start_again().await;
    let back = Instant::now();
    let deadline = back + RECOVERY;
    // Load past the deadline, to see that every request then succeeds; with a burst that takes
    // every connection of the pool, also those that sat idle through the restart.
    tokio::time::sleep_until((deadline + Duration::from_secs(1)).into()).await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..24 {
        let (app, token) = (app.clone(), token.clone());
        burst.spawn(async move { send(&app, Method::GET, "/api/v1/programs?limit=5", &token, None).await });
    }
    while let Some(outcome) = burst.join_next().await {
        record.lock().unwrap().outcomes.push(outcome.expect("burst request"));
    }
    tokio::time::sleep_until((deadline + Duration::from_secs(3)).into()).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(done) = clients.join_next().await {
        done.expect("client task");
    }

    let record = Arc::into_inner(record).unwrap().into_inner().unwrap();
    let failures: Vec<&Outcome> = record
        .outcomes
        .iter()
        .filter(|o| !o.status.is_some_and(|s| s.is_success()))
        .collect();
    let offset = |t: Instant| {
        if t >= back {
            format!("+{} ms", (t - back).as_millis())
        } else {
            format!("-{} ms", (back - t).as_millis())
        }
    };
    eprintln!(
        "{} requests; stopped PostgreSQL at {}, back at +0 ms; {} failed, the last sent at {}",
        record.outcomes.len(),
        offset(stopping),
        failures.len(),
        failures.iter().map(|o| o.sent).max().map_or("-".into(), offset),
    );
    let describe = |o: &&Outcome| format!("{} at {}: {:?} {}", o.what, offset(o.sent), o.status, o.body);

    // Every request sent 10 s after PostgreSQL is back succeeds (and there were some).
    let late = record.outcomes.iter().filter(|o| o.sent >= deadline).count();
    let late_failures: Vec<String> = failures.iter().filter(|o| o.sent >= deadline).map(describe).collect();
    assert!(
        late_failures.is_empty(),
        "{} of {late} requests sent {} s or more after PostgreSQL came back failed, e.g.:\n{}",
        late_failures.len(),
        RECOVERY.as_secs(),
        late_failures[..late_failures.len().min(10)].join("\n")
    );
    assert!(late >= 20, "only {late} requests after the recovery deadline");

    // Requests that failed failed as "unavailable": a 503 problem, never a 500 or a hang.
    let not_503: Vec<String> = failures
        .iter()
        .filter(|o| {
            !(o.status == Some(StatusCode::SERVICE_UNAVAILABLE) && o.body.starts_with("application/problem+json"))
        })
        .map(describe)
        .collect();
    assert!(
        not_503.is_empty(),
        "{} failures were not 503 problems, e.g.:\n{}\nThe server's errors:\n{}",
        not_503.len(),
        not_503[..not_503.len().min(10)].join("\n"),
        app.output()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );

    // No acknowledged write is lost, those before the restart first.
    let mut lost = Vec::new();
    for (id, _) in &record.created {
        let (status, _) = app.get(&format!("/api/v1/programs/{id}"), &token).await;
        if status != StatusCode::OK {
            lost.push(format!("{id}: {status}"));
        }
    }
    let acknowledged_before = record.created.iter().filter(|(_, at)| *at < stopping).count();
    eprintln!(
        "{} programs acknowledged, {acknowledged_before} before the restart",
        record.created.len()
    );
    assert!(lost.is_empty(), "acknowledged programs missing: {lost:?}");
}
