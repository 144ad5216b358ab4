//! Automations: definitions validated by field, events matched once, frequency limits exact at
//! the 24-hour boundary and under concurrency, delays, deactivation, edits, retries, history.

use std::time::Duration;

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, SmtpSink, Spawn, TestApp, WebhookReceiver};

async fn app(backend: cohort_tests::Backend, sink: Option<&SmtpSink>) -> TestApp {
    let mut extra_env = vec![
        ("COHORT_WEBHOOKS_ALLOW_PRIVATE".to_owned(), "true".to_owned()),
        ("COHORT_JOB_RETRY_BASE_MS".to_owned(), "40".to_owned()),
    ];
    if let Some(sink) = sink {
        extra_env.push(("COHORT_SMTP_URL".into(), sink.url.clone()));
    }
    TestApp::spawn_with(
        backend,
        Spawn {
            demo_data: false,
            extra_env,
        },
    )
    .await
}

async fn create(app: &TestApp, admin: &str, body: Value) -> String {
    let (status, a) = app.post("/api/v1/automations", admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    a["id"].as_str().unwrap().to_owned()
}

async fn event(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, e) = app.post("/api/v1/events", admin, body).await;
    assert!(
        status == StatusCode::CREATED || status == StatusCode::OK,
        "{status} {e}"
    );
    e
}

/// The automation's runs once at least `n` exist (10 s at most).
async fn runs_settled(app: &TestApp, admin: &str, automation: &str, n: usize) -> Vec<Value> {
    let mut runs = Vec::new();
    for _ in 0..100 {
        runs = app
            .all_pages(&format!("/api/v1/automations/{automation}/runs"), admin)
            .await;
        if runs.len() >= n {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {n} runs: {runs:?}");
}

fn states(run: &Value) -> Vec<String> {
    run["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap().to_owned())
        .collect()
}

both_backends!(
    async fn automations_are_validated_field_by_field(backend: Backend) {
        let app = app(backend, None).await;
        let admin = app.admin_token().await;
        let other = app.create_organization("Other", "boss@other.test").await;
        let (_, foreign) = app.post("/api/v1/programs", &other, json!({"name": "Theirs"})).await;
        let (status, problem) = app
            .post(
                "/api/v1/automations",
                &admin,
                json!({"name": "", "trigger": "sunrise", "frequency": "every_time",
                       "program_ids": [foreign["id"]],
                       "conditions": [{"field": "weather.today", "operator": "is", "value": "sunny"}],
                       "actions": [{"type": "send_email", "template": "no_such_template"},
                                   {"type": "award_badge", "badge_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f"},
                                   {"type": "call_webhook", "url": "ftp://x"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            fields(&problem),
            [
                "name",
                "trigger",
                "program_ids[0]",
                "conditions[0].field",
                "actions[0].template",
                "actions[1].badge_id",
                "actions[2].url"
            ]
        );
        let (_, page) = app.get("/api/v1/automations", &admin).await;
        assert_eq!(page["items"], json!([]), "nothing written");
        // Step triggers only take programs that have steps.
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "No steps"})).await;
        let (status, problem) = app
            .post(
                "/api/v1/automations",
                &admin,
                json!({"name": "Missed", "trigger": "step.missed", "frequency": "every_time", "program_ids": [program["id"]],
                       "actions": [{"type": "send_notification", "title": "Missed", "body": "A step"}]}),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["program_ids[0]".to_owned()])
        );
        // Names are unique in the organisation.
        let body = json!({"name": "Welcome", "trigger": "participant.joined", "frequency": "every_time",
                          "actions": [{"type": "send_notification", "title": "Hi", "body": "Welcome"}]});
        create(&app, &admin, body.clone()).await;
        let (status, _) = app.post("/api/v1/automations", &admin, body).await;
        assert_eq!(status, StatusCode::CONFLICT);
        // Integrations post payments and their own events, not Cohort's.
        let (status, problem) = app
            .post(
                "/api/v1/events",
                &admin,
                json!({"event_type": "pairing.created", "idempotency_key": "k"}),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["event_type".to_owned()])
        );
    }
);

both_backends!(
    async fn an_event_runs_each_action_once_in_order_with_history(backend: Backend) {
        let sink = SmtpSink::start().await;
        let app = app(backend, Some(&sink)).await;
        let admin = app.admin_token().await;
        let (person, token) = app.person_with_login(&admin, "payer@demo.test", false).await;
        let (_, badge) = app.post("/api/v1/badges", &admin, json!({"name": "Supporter"})).await;
        let automation = create(
            &app,
            &admin,
            json!({"name": "Thank gold payers", "trigger": "payment.paid", "frequency": "every_time",
                   "conditions": [{"field": "event.plan", "operator": "is", "value": "gold"},
                                  {"field": "event.amount", "operator": "greater_than", "value": 100}],
                   "actions": [{"type": "award_badge", "badge_id": badge["id"]},
                               {"type": "send_notification", "title": "Thank you", "body": "You are gold.",
                                "delay": {"amount": 2, "unit": "hours"}},
                               {"type": "send_email", "template": "step_published"}],
                   "active": true}),
        )
        .await;
        let paid = json!({"event_type": "payment.paid", "idempotency_key": "pay-1", "person_id": person,
                          "payload": {"plan": "Gold", "amount": 120}});
        let first = event(&app, &admin, paid.clone()).await;
        // The same key again is the same event, and runs nothing twice.
        let (status, again) = app.post("/api/v1/events", &admin, paid).await;
        assert_eq!((status, &again["id"]), (StatusCode::OK, &first["id"]));
        event(
            &app,
            &admin,
            json!({"event_type": "payment.paid", "idempotency_key": "pay-2", "person_id": person,
                                     "payload": {"plan": "silver", "amount": 500}}),
        )
        .await;

        // The badge comes at once; the notification waits two hours.
        let mut runs = Vec::new();
        for _ in 0..100 {
            runs = app
                .all_pages(&format!("/api/v1/automations/{automation}/runs"), &admin)
                .await;
            if runs.len() == 2 && runs.iter().any(|r| r["outcome"] == "ran" && states(r)[0] == "done") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ran = runs
            .iter()
            .find(|r| r["outcome"] == "ran")
            .expect("the gold payment ran");
        assert_eq!(states(ran), ["done", "scheduled", "waiting"]);
        assert_eq!(ran["event"]["id"], first["id"]);
        let silver = runs
            .iter()
            .find(|r| r["outcome"] == "conditions_not_met")
            .expect("silver did not");
        assert_eq!(
            silver["conditions"][0],
            json!({"field": "event.plan", "operator": "is", "holds": false})
        );
        assert_eq!(silver["conditions"][1]["holds"], true);
        assert!(silver["actions"].as_array().unwrap().is_empty());
        let (_, badges) = app.get(&format!("/api/v1/people/{person}/badges"), &token).await;
        assert_eq!(badges["items"][0]["badge"]["name"], "Supporter");

        // Two hours later (moved forward in the database) the rest runs, in order.
        app.execute_sql(
            "UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'automation.action' AND status = 'queued'",
        );
        let mut done = Vec::new();
        for _ in 0..100 {
            let runs = app
                .all_pages(&format!("/api/v1/automations/{automation}/runs"), &admin)
                .await;
            done = states(runs.iter().find(|r| r["outcome"] == "ran").unwrap());
            if done.iter().all(|s| s == "done") {
                break;
            }
            app.execute_sql(
                "UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'automation.action' AND status = 'queued'",
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(done, ["done", "done", "done"]);
        let (_, feed) = app.get("/api/v1/notifications", &token).await;
        let titles: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles.iter().filter(|t| **t == "Thank you").count(), 1, "{titles:?}");
        let mail = sink.wait_for(1).await;
        assert!(mail.iter().all(|m| m.contains("payer@demo.test")), "{mail:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sink.messages().len(), 1, "one email");
        let (_, a) = app.get(&format!("/api/v1/automations/{automation}"), &admin).await;
        assert_eq!(
            a["counts"],
            json!({"runs": 2, "actions_done": 3, "actions_failed": 0, "actions_pending": 0})
        );
    }
);

both_backends!(
    async fn the_24_hour_limit_holds_at_its_boundary_and_under_concurrency(backend: Backend) {
        let app = app(backend, None).await;
        let admin = app.admin_token().await;
        let (person, _) = app.person_with_login(&admin, "pinged@demo.test", false).await;
        let daily = create(
            &app,
            &admin,
            json!({"name": "Daily", "trigger": "custom.ping", "frequency": "once_per_contact_per_24h", "active": true,
                   "actions": [{"type": "send_notification", "title": "Ping", "body": "Pong"}]}),
        )
        .await;
        // 20 events at the same instant, at once: one runs.
        let bodies: Vec<Value> = (0..20)
            .map(|n| {
                json!({"event_type": "custom.ping", "idempotency_key": format!("burst-{n}"), "person_id": person,
                            "occurred_at": "2027-03-13T12:00:00Z"})
            })
            .collect();
        let statuses = app.post_each_concurrently("/api/v1/events", &admin, bodies).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
        runs_settled(&app, &admin, &daily, 20).await;
        // One second short of a day, then exactly a day.
        for (key, at) in [("early", "2027-03-14T11:59:59Z"), ("on-time", "2027-03-14T12:00:00Z")] {
            event(
                &app,
                &admin,
                json!({"event_type": "custom.ping", "idempotency_key": key, "person_id": person, "occurred_at": at}),
            )
            .await;
            // Each waits for the one before, so their order is the order they happened in.
            runs_settled(&app, &admin, &daily, 20 + usize::from(key == "on-time") + 1).await;
        }
        let runs = runs_settled(&app, &admin, &daily, 22).await;
        let ran: Vec<&str> = runs
            .iter()
            .filter(|r| r["outcome"] == "ran")
            .map(|r| r["event"]["occurred_at"].as_str().unwrap())
            .collect();
        assert_eq!(ran.len(), 2, "one of the burst and the one a full day later: {ran:?}");
        assert!(ran.iter().any(|t| t.starts_with("2027-03-14T12:00:00")), "{ran:?}");
        let limited = runs.iter().filter(|r| r["outcome"] == "frequency_limited").count();
        assert_eq!(limited, 20);
    }
);

both_backends!(
    async fn deactivating_cancels_pending_actions_and_edits_apply_to_later_events(backend: Backend) {
        let app = app(backend, None).await;
        let admin = app.admin_token().await;
        let (person, token) = app.person_with_login(&admin, "edited@demo.test", false).await;
        let body = |title: &str, delay: Value| {
            json!({"name": "Nudge", "trigger": "custom.nudge", "frequency": "every_time", "active": true,
                   "delay": delay, "actions": [{"type": "send_notification", "title": title, "body": "Nudge"}]})
        };
        let nudge = create(&app, &admin, body("Later", json!({"amount": 1, "unit": "days"}))).await;
        event(
            &app,
            &admin,
            json!({"event_type": "custom.nudge", "idempotency_key": "n1", "person_id": person}),
        )
        .await;
        let runs = runs_settled(&app, &admin, &nudge, 1).await;
        assert_eq!(states(&runs[0]), ["scheduled"]);
        let (_, off) = app
            .post(&format!("/api/v1/automations/{nudge}/deactivate"), &admin, json!(null))
            .await;
        assert_eq!(off["active"], false);
        let (_, runs) = app.get(&format!("/api/v1/automations/{nudge}/runs"), &admin).await;
        assert_eq!(runs["items"][0]["actions"][0]["state"], "skipped");
        assert_eq!(
            runs["items"][0]["actions"][0]["reason"],
            "the automation was turned off"
        );
        // Its job comes due and does nothing.
        app.execute_sql(
            "UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'automation.action' AND status = 'queued'",
        );
        tokio::time::sleep(Duration::from_millis(800)).await;
        let (_, feed) = app.get("/api/v1/notifications", &token).await;
        assert_eq!(feed["items"], json!([]));
        // An event while it is off is not matched, even after it is back on.
        event(
            &app,
            &admin,
            json!({"event_type": "custom.nudge", "idempotency_key": "n2", "person_id": person}),
        )
        .await;
        // Edited and on again: the new title and no delay, for new events only.
        let (status, edited) = app
            .put(
                &format!("/api/v1/automations/{nudge}"),
                &admin,
                body("Now", json!(null)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(
            (edited["version"].as_u64(), edited["active"].as_bool()),
            (Some(3), Some(true))
        );
        event(
            &app,
            &admin,
            json!({"event_type": "custom.nudge", "idempotency_key": "n3", "person_id": person}),
        )
        .await;
        let mut titles = Vec::new();
        for _ in 0..100 {
            let (_, feed) = app.get("/api/v1/notifications", &token).await;
            titles = feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["title"].as_str().unwrap().to_owned())
                .collect();
            if !titles.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(titles, ["Now"]);
        let runs = app
            .all_pages(&format!("/api/v1/automations/{nudge}/runs"), &admin)
            .await;
        assert_eq!(runs.len(), 2, "the event while off was not matched");
        let versions: Vec<u64> = runs.iter().map(|r| r["version"].as_u64().unwrap()).collect();
        assert!(versions.contains(&1) && versions.contains(&3), "{versions:?}");
    }
);

both_backends!(
    async fn a_failing_webhook_action_is_retried_and_shows_in_the_history(backend: Backend) {
        let receiver = WebhookReceiver::start().await;
        receiver.answer(500);
        let app = app(backend, None).await;
        let admin = app.admin_token().await;
        let hook = create(
            &app,
            &admin,
            json!({"name": "Tell the CRM", "trigger": "custom.signed", "frequency": "every_time", "active": true,
                   "actions": [{"type": "call_webhook", "url": receiver.url}]}),
        )
        .await;
        event(
            &app,
            &admin,
            json!({"event_type": "custom.signed", "idempotency_key": "s1", "payload": {"plan": "gold"}}),
        )
        .await;
        receiver.wait_for(2).await;
        let (_, runs) = app.get(&format!("/api/v1/automations/{hook}/runs"), &admin).await;
        let action = &runs["items"][0]["actions"][0];
        assert_eq!(action["state"], "scheduled");
        assert!(action["reason"].as_str().unwrap().contains("500"), "{action}");
        receiver.answer(200);
        let mut state = Value::Null;
        for _ in 0..100 {
            let (_, runs) = app.get(&format!("/api/v1/automations/{hook}/runs"), &admin).await;
            state = runs["items"][0]["actions"][0].clone();
            if state["state"] == "done" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(state["state"], "done", "{state}");
        assert!(state["attempts"].as_u64().unwrap() >= 3, "{state}");
        let requests = receiver.requests();
        let body: Value =
            cohort_tests::serde_json::from_str(requests.last().unwrap()["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["event"]["payload"]["plan"], "gold");
        let ids: std::collections::HashSet<String> = requests
            .iter()
            .map(|r| r["headers"]["webhook-id"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    }
);

both_backends!(
    async fn webhook_actions_are_signed_with_the_automations_secret(backend: Backend) {
        let receiver = WebhookReceiver::start().await;
        let app = app(backend, None).await;
        let admin = app.admin_token().await;
        let definition = json!({"name": "Tell the CRM", "trigger": "custom.signed", "frequency": "every_time",
                                "active": true, "actions": [{"type": "call_webhook", "url": receiver.url}]});
        let (status, created) = app.post("/api/v1/automations", &admin, definition.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["webhook_secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"), "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let (_, read) = app.get(&format!("/api/v1/automations/{id}"), &admin).await;
        let (_, list) = app.get("/api/v1/automations", &admin).await;
        let (_, audit) = app.get("/api/v1/audit-log", &admin).await;
        for shown in [read, list, audit] {
            assert!(!shown.to_string().contains(&secret), "shown only on saving: {shown}");
        }
        let (_, replaced) = app.put(&format!("/api/v1/automations/{id}"), &admin, definition).await;
        assert_eq!(
            replaced["webhook_secret"],
            secret.as_str(),
            "the same secret after an edit"
        );
        let (_, no_hook) = app
            .post(
                "/api/v1/automations",
                &admin,
                json!({"name": "Badge", "trigger": "custom.other", "frequency": "every_time",
                       "actions": [{"type": "send_notification", "title": "Hi", "body": "Hello"}]}),
            )
            .await;
        assert!(no_hook.get("webhook_secret").is_none(), "{no_hook}");

        event(
            &app,
            &admin,
            json!({"event_type": "custom.signed", "idempotency_key": "s1", "payload": {"plan": "gold"}}),
        )
        .await;
        let requests = receiver.wait_for(1).await;
        assert_eq!(
            requests[0]["headers"]["webhook-id"]
                .as_str()
                .map(|i| i.starts_with("automation:")),
            Some(true)
        );
        assert_eq!(receiver.verify(&secret).await, ["ok custom.signed"]);
        let wrong = "whsec_".to_owned() + &"A".repeat(32);
        assert!(
            receiver.verify(&wrong).await[0].starts_with("bad"),
            "another secret does not verify"
        );
    }
);

both_backends!(
    async fn racing_processes_run_each_action_once_and_frequency_holds(backend: Backend) {
        let app = app(backend, None).await;
        // On PostgreSQL a second process shares the database and the job queue.
        let sibling = match backend {
            cohort_tests::Backend::Postgres => Some(app.sibling().await),
            cohort_tests::Backend::Sqlite => None,
        };
        let admin = app.admin_token().await;
        let mut people = Vec::new();
        for n in 0..5 {
            people.push(
                app.person_with_login(&admin, &format!("racer{n}@demo.test"), false)
                    .await,
            );
        }
        let every = create(
            &app,
            &admin,
            json!({"name": "Every", "trigger": "custom.race", "frequency": "every_time", "active": true,
                   "actions": [{"type": "send_notification", "title": "Every", "body": "x"},
                               {"type": "send_notification", "title": "Then", "body": "y"}]}),
        )
        .await;
        let once = create(
            &app,
            &admin,
            json!({"name": "Once", "trigger": "custom.race", "frequency": "once_per_contact", "active": true,
                   "actions": [{"type": "send_notification", "title": "Once", "body": "z"}]}),
        )
        .await;
        // 100 events, 20 per person, half through each process, all at once.
        let bodies: Vec<Value> = (0..100)
            .map(|n| json!({"event_type": "custom.race", "idempotency_key": format!("race-{n}"), "person_id": people[n % 5].0}))
            .collect();
        let (a, b) = bodies.split_at(50);
        let other = sibling.as_ref().unwrap_or(&app);
        let (x, y) = tokio::join!(
            app.post_each_concurrently("/api/v1/events", &admin, a.to_vec()),
            other.post_each_concurrently("/api/v1/events", &admin, b.to_vec()),
        );
        assert!(x.iter().chain(&y).all(|s| *s == StatusCode::CREATED));
        let every_runs = runs_settled(&app, &admin, &every, 100).await;
        let once_runs = runs_settled(&app, &admin, &once, 100).await;
        assert_eq!(every_runs.len(), 100);
        assert_eq!(
            once_runs.iter().filter(|r| r["outcome"] == "ran").count(),
            5,
            "once per person"
        );
        // Every action done once: each person has 20 "Every", 20 "Then" and one "Once".
        for (_, token) in &people {
            let mut counts = (0, 0, 0);
            for _ in 0..100 {
                let feed = app.all_pages("/api/v1/notifications", token).await;
                let count = |t: &str| feed.iter().filter(|n| n["title"] == t).count();
                counts = (count("Every"), count("Then"), count("Once"));
                if counts == (20, 20, 1) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(counts, (20, 20, 1));
        }
        let (_, a) = app.get(&format!("/api/v1/automations/{every}"), &admin).await;
        assert_eq!(a["counts"]["actions_done"], 200);
    }
);

both_backends!(
    async fn an_event_that_always_fails_to_match_is_left_out_and_the_others_go_on(backend: Backend) {
        let app = app(backend, None).await;
        let admin = app.admin_token().await;
        let (good, _) = app.person_with_login(&admin, "good@demo.test", false).await;
        let (poison, _) = app.person_with_login(&admin, "poison@demo.test", false).await;
        let automation = create(
            &app,
            &admin,
            json!({"name": "Thank payers", "trigger": "payment.paid", "frequency": "every_time",
                   "actions": [{"type": "send_notification", "title": "Thank you", "body": "Paid."}],
                   "active": true}),
        )
        .await;
        // A write that fails for one person's events only, as bad data would make it fail.
        app.execute_sql(&match backend {
            cohort_tests::Backend::Sqlite => format!(
                "CREATE TRIGGER poison BEFORE INSERT ON automation_runs WHEN NEW.person_id = '{poison}' \
                 BEGIN SELECT RAISE(ABORT, 'poisoned for the test'); END;"
            ),
            cohort_tests::Backend::Postgres => format!(
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.person_id = '{poison}' THEN RAISE EXCEPTION 'poisoned for the test'; END IF; \
                 RETURN NEW; END $$; \
                 CREATE TRIGGER poison BEFORE INSERT ON automation_runs FOR EACH ROW EXECUTE FUNCTION poison();"
            ),
        });
        for (key, person) in [("a1", &good), ("p1", &poison), ("a2", &good)] {
            event(
                &app,
                &admin,
                json!({"event_type": "payment.paid", "idempotency_key": key, "person_id": person}),
            )
            .await;
        }
        // The good events run, in the same batch as the poisoned one or not.
        let runs = runs_settled(&app, &admin, &automation, 2).await;
        assert!(
            runs.iter()
                .all(|r| r["outcome"] == "ran" && r["event"]["person_id"] == good),
            "{runs:?}"
        );
        // The poisoned one is tried alone until the matchers leave it out, with the reason.
        let left_out = "automation_queue WHERE attempts = 5 AND last_error LIKE '%poisoned for the test%'";
        for _ in 0..200 {
            if app.count(left_out) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(app.count(left_out), 1, "{}", app.output());
        assert_eq!(app.count("automation_queue"), 1);
        // Matching goes on.
        event(
            &app,
            &admin,
            json!({"event_type": "payment.paid", "idempotency_key": "a3", "person_id": good}),
        )
        .await;
        let runs = runs_settled(&app, &admin, &automation, 3).await;
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert_eq!(app.count("automation_queue"), 1, "the poisoned event stays, left out");

        // Admins see it with the reason, and once the cause is mended give it back to the matchers.
        let (status, left_out) = app.get("/api/v1/events/left-out", &admin).await;
        assert_eq!(status, StatusCode::OK, "{left_out}");
        let items = left_out["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{left_out}");
        assert_eq!(items[0]["event"]["person_id"], poison);
        assert_eq!(items[0]["attempts"], 5);
        assert!(
            items[0]["last_error"]
                .as_str()
                .unwrap()
                .contains("poisoned for the test"),
            "{left_out}"
        );
        app.execute_sql(match backend {
            cohort_tests::Backend::Sqlite => "DROP TRIGGER poison",
            cohort_tests::Backend::Postgres => "DROP TRIGGER poison ON automation_runs",
        });
        let (status, requeued) = app.post("/api/v1/events/left-out/match-again", &admin, json!({})).await;
        assert_eq!(
            (status, requeued["requeued"].as_u64()),
            (StatusCode::OK, Some(1)),
            "{requeued}"
        );
        let runs = runs_settled(&app, &admin, &automation, 4).await;
        assert_eq!(runs.len(), 4, "{runs:?}");
        assert!(runs.iter().any(|r| r["event"]["person_id"] == poison), "{runs:?}");
        assert_eq!(app.count("automation_queue"), 0);
        let (_, left_out) = app.get("/api/v1/events/left-out", &admin).await;
        assert_eq!(left_out["items"], json!([]));
        let (_, again) = app.post("/api/v1/events/left-out/match-again", &admin, json!({})).await;
        assert_eq!(again["requeued"], 0);
    }
);
