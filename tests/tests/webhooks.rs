//! Webhooks: signed deliveries verified by the Standard Webhooks library, retries,
//! the delivery log, automatic disabling, redelivery, and refused destinations.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, Spawn, TestApp, WebhookReceiver};

async fn app_for_hooks(backend: cohort_tests::Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        Spawn {
            demo_data: false,
            extra_env: vec![
                ("COHORT_WEBHOOKS_ALLOW_PRIVATE".into(), "true".into()),
                ("COHORT_JOB_RETRY_BASE_MS".into(), "40".into()),
                // Eight attempts: 40 ms doubling, over 3 seconds at the least.
                ("COHORT_JOB_RETRY_SPAN_SECS".into(), "3".into()),
            ],
        },
    )
    .await
}

async fn deliveries(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    app.all_pages(&format!("/api/v1/webhooks/{endpoint}/deliveries"), token)
        .await
}

both_backends!(
    async fn signed_deliveries_verify_with_the_standard_webhooks_library(backend: Backend) {
        let receiver = WebhookReceiver::start().await;
        let app = app_for_hooks(backend).await;
        let admin = app.admin_token().await;
        let (status, created) = app
            .post(
                "/api/v1/webhooks",
                &admin,
                json!({"url": receiver.url, "event_types": ["pairing.created"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
        assert!(
            !app.get("/api/v1/webhooks", &admin)
                .await
                .1
                .to_string()
                .contains(&secret),
            "the secret is shown once"
        );

        let (status, queued) = app
            .post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        let requests = receiver.wait_for(1).await;
        assert_eq!(requests[0]["headers"]["webhook-id"], queued["webhook_id"]);
        assert_eq!(receiver.verify(&secret).await, ["ok webhook.test"]);
        let wrong = "whsec_".to_owned() + &"A".repeat(32);
        assert!(
            receiver.verify(&wrong).await[0].starts_with("bad"),
            "another secret does not verify"
        );

        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let log = deliveries(&app, &admin, &id).await;
        assert_eq!(log.len(), 1);
        assert_eq!(
            (log[0]["status"].as_str(), log[0]["last_status_code"].as_i64()),
            (Some("succeeded"), Some(200))
        );
        assert_eq!(log[0]["attempts"], 1);
        assert_eq!(receiver.requests().len(), 1, "delivered once");
    }
);

both_backends!(
    async fn failing_endpoints_are_retried_logged_disabled_and_redelivered(backend: Backend) {
        let receiver = WebhookReceiver::start().await;
        receiver.answer(500);
        let app = app_for_hooks(backend).await;
        let admin = app.admin_token().await;
        let (_, created) = app.post("/api/v1/webhooks", &admin, json!({"url": receiver.url})).await;
        let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
        for _ in 0..5 {
            assert_eq!(
                app.post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!(null))
                    .await
                    .0,
                StatusCode::ACCEPTED
            );
        }
        // Five deliveries, eight attempts each (backoff from 40 ms), all answered 500.
        receiver.wait_for(40).await;
        let mut endpoint = Value::Null;
        for _ in 0..50 {
            endpoint = app.get(&format!("/api/v1/webhooks/{id}"), &admin).await.1;
            if endpoint["enabled"] == false {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(endpoint["enabled"], false, "{endpoint}");
        assert!(endpoint["disabled_reason"].as_str().unwrap().contains("5 deliveries"));
        let log = deliveries(&app, &admin, &id).await;
        assert_eq!(log.len(), 5);
        for delivery in &log {
            assert_eq!(
                (delivery["status"].as_str(), delivery["attempts"].as_i64()),
                (Some("failed"), Some(8)),
                "{delivery}"
            );
            assert_eq!(delivery["last_status_code"], 500);
        }
        // Every attempt of a delivery carried the same webhook-id.
        let first_id = log[0]["webhook_id"].as_str().unwrap();
        let attempts = receiver
            .requests()
            .iter()
            .filter(|r| r["headers"]["webhook-id"] == first_id)
            .count();
        assert_eq!(attempts, 8);

        receiver.answer(200);
        let (status, enabled) = app
            .patch(&format!("/api/v1/webhooks/{id}"), &admin, json!({"enabled": true}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(enabled["disabled_reason"].is_null());
        let delivery = log[0]["id"].as_str().unwrap();
        let (status, _) = app
            .post(
                &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
                &admin,
                json!(null),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        receiver.wait_for(41).await;
        let last = receiver.requests().pop().unwrap();
        assert_eq!(
            last["headers"]["webhook-id"], first_id,
            "a redelivery keeps its webhook-id"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let log = deliveries(&app, &admin, &id).await;
        let again = log.iter().find(|d| d["id"] == delivery).unwrap();
        assert_eq!(again["status"], "succeeded", "{again}");
    }
);

both_backends!(
    async fn a_redirect_is_not_followed_and_fails_the_delivery_with_its_status(backend: Backend) {
        // Allowing private addresses lets the first hop reach this machine; the second would be
        // a request to wherever the receiver points, here another local server.
        let inside = WebhookReceiver::start().await;
        let receiver = WebhookReceiver::start().await;
        receiver.answer(302);
        receiver.redirect_to(&inside.url);
        let app = app_for_hooks(backend).await;
        let admin = app.admin_token().await;
        let (_, created) = app.post("/api/v1/webhooks", &admin, json!({"url": receiver.url})).await;
        let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!(null))
            .await;
        let mut log = Vec::new();
        for _ in 0..200 {
            log = deliveries(&app, &admin, &id).await;
            if log.first().is_some_and(|d| d["status"] == "failed") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            (log[0]["status"].as_str(), log[0]["last_status_code"].as_i64()),
            (Some("failed"), Some(302)),
            "{log:?}"
        );
        assert!(log[0]["last_error"].as_str().unwrap().contains("302"), "{log:?}");
        assert!(!receiver.requests().is_empty(), "the first hop was reached");
        assert!(inside.requests().is_empty(), "the redirect was never followed");
    }
);

#[tokio::test]
async fn private_destinations_and_unknown_events_are_refused() {
    let app = TestApp::spawn(cohort_tests::Backend::Sqlite).await;
    let admin = app.admin_token().await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://[::1]/x",
        // IPv6 forms of 127.0.0.1 (IPv4-compatible, NAT64, 6to4), benchmarking, reserved.
        "http://[::127.0.0.1]/x",
        "http://[64:ff9b::7f00:1]/x",
        "http://[2002:7f00:1::]/x",
        "http://198.18.0.1/x",
        "http://240.0.0.1/x",
        "ftp://example.org/x",
        "not a url",
    ] {
        let (status, problem) = app.post("/api/v1/webhooks", &admin, json!({"url": url})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(fields(&problem), ["url"], "{url}");
    }
    let (status, problem) = app
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "https://hooks.example.org/x", "event_types": ["pairing.exploded"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["event_types[0]"]);
    assert_eq!(
        app.get("/api/v1/webhooks", &admin).await.1["items"],
        json!([]),
        "nothing was saved"
    );
}

both_backends!(
    async fn a_killed_process_loses_no_webhook_and_no_email(backend: Backend) {
        const EVENTS: usize = 300;
        let receiver = WebhookReceiver::start().await;
        // Slow too: jobs run side by side, so a fast relay would take every email before the kill.
        let sink = cohort_tests::SmtpSink::slow(std::time::Duration::from_millis(50)).await;
        let mut app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![
                    ("COHORT_WEBHOOKS_ALLOW_PRIVATE".into(), "true".into()),
                    ("COHORT_JOB_LEASE_SECS".into(), "2".into()),
                    ("COHORT_SMTP_URL".into(), sink.url.clone()),
                ],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let (_, created) = app.post("/api/v1/webhooks", &admin, json!({"url": receiver.url})).await;
        let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
        // A slow receiver keeps deliveries going while the events are queued, however fast the
        // machine: the kill below then always lands mid-delivery.
        receiver.delay(100);
        for _ in 0..EVENTS {
            app.post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!(null))
                .await;
            app.post("/api/v1/email-templates/invitation/test", &admin, json!(null))
                .await;
        }
        // Kill it mid-delivery: some events are out, some leased, most still queued.
        receiver.wait_for(20).await;
        app.kill_and_restart().await;
        let delivered_before = receiver.requests().len();
        let emails_before = sink.messages().len();
        assert!(
            emails_before < EVENTS,
            "the kill came after every email ({emails_before})"
        );
        assert!(
            delivered_before < EVENTS,
            "the kill came too late to test anything ({delivered_before} delivered)"
        );

        let mut unique = std::collections::HashSet::new();
        for _ in 0..300 {
            unique = receiver
                .requests()
                .iter()
                .map(|r| r["headers"]["webhook-id"].to_string())
                .collect();
            if unique.len() >= EVENTS {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(unique.len(), EVENTS, "every event arrived after the restart");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let total = receiver.requests().len();
        // A delivery being sent at the moment of the kill may arrive twice, with the same webhook-id
        // (receivers drop it); nothing else repeats.
        assert!(total - EVENTS <= 10, "{total} requests for {EVENTS} events");
        // Emails: one per delivery key (the Message-ID), the same bound on repeats.
        let message_ids = || -> std::collections::HashSet<String> {
            sink.messages()
                .iter()
                .filter_map(|m| m.lines().find(|l| l.starts_with("Message-ID:")).map(str::to_owned))
                .collect()
        };
        for _ in 0..300 {
            if message_ids().len() >= EVENTS {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(message_ids().len(), EVENTS, "every email arrived after the restart");
        let emails = sink.messages().len();
        assert!(emails - EVENTS <= 10, "{emails} emails for {EVENTS} messages");

        let admin = app.admin_token().await;
        let log = deliveries(&app, &admin, &id).await;
        assert!(
            log.iter().all(|d| d["status"] == "succeeded"),
            "every delivery is logged as succeeded"
        );
    }
);

both_backends!(
    async fn notifications_are_forwarded_to_a_push_gateway(backend: Backend) {
        let gateway = WebhookReceiver::start().await;
        let app = app_for_hooks(backend).await;
        let admin = app.admin_token().await;
        let (_, created) = app
            .post(
                "/api/v1/webhooks",
                &admin,
                json!({"url": gateway.url, "event_types": ["notification.created"]}),
            )
            .await;
        let secret = created["secret"].as_str().unwrap().to_owned();
        let (person, _) = app.person_with_login(&admin, "pushed@demo.test", false).await;
        let (status, _) = app
            .post(
                &format!("/api/v1/people/{person}/notifications"),
                &admin,
                json!({"title": "Your mentor replied"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let requests = gateway.wait_for(1).await;
        let body: Value = cohort_tests::serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["type"], "notification.created");
        assert_eq!(body["data"]["person_id"], person.as_str());
        assert_eq!(body["data"]["notification"]["title"], "Your mentor replied");
        assert_eq!(gateway.verify(&secret).await, ["ok notification.created"]);
        // One notification, one delivery: nothing else was sent to this endpoint.
        let id = created["endpoint"]["id"].as_str().unwrap();
        assert_eq!(deliveries(&app, &admin, id).await.len(), 1);
    }
);

both_backends!(
    async fn recorded_events_reach_the_endpoints_that_subscribe_to_them(backend: Backend) {
        let receiver = WebhookReceiver::start().await;
        let app = app_for_hooks(backend).await;
        let admin = app.admin_token().await;
        let (status, created) = app
            .post(
                "/api/v1/webhooks",
                &admin,
                json!({"url": receiver.url, "event_types": ["participant.joined"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap().to_owned();
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Hooked"})).await;
        let program = program["id"].as_str().unwrap();
        let (_, person) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "joiner@demo.test", "name": "Jo Iner"}),
            )
            .await;
        let person = person["id"].as_str().unwrap();
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                &admin,
                json!({"person_id": person, "role": "mentee"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        // A payment is recorded too, but the endpoint did not subscribe to it.
        let (status, _) = app
            .post(
                "/api/v1/events",
                &admin,
                json!({"event_type": "payment.paid", "idempotency_key": "pay-1", "person_id": person, "program_id": program, "payload": {}}),
            )
            .await;
        assert!(status.is_success(), "{status}");
        let requests = receiver.wait_for(1).await;
        assert_eq!(receiver.verify(&secret).await, ["ok participant.joined"]);
        let body: Value = cohort_tests::serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["data"]["person_id"], person);
        assert_eq!(body["data"]["program_id"], program);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(receiver.requests().len(), 1, "only what the endpoint subscribed to");
    }
);

both_backends!(
    async fn dead_jobs_are_listed_and_retried_by_their_organisations_admin(backend: Backend) {
        let receiver = WebhookReceiver::start().await;
        receiver.answer(500);
        let app = app_for_hooks(backend).await;
        let admin = app.admin_token().await;
        let (_, created) = app.post("/api/v1/webhooks", &admin, json!({"url": receiver.url})).await;
        let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!(null))
            .await;
        receiver.wait_for(8).await;
        let mut dead = Value::Null;
        for _ in 0..50 {
            dead = app.get("/api/v1/jobs/dead", &admin).await.1;
            if dead["items"].as_array().is_some_and(|i| !i.is_empty()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let items = dead["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{dead}");
        assert_eq!(
            (
                items[0]["kind"].as_str(),
                items[0]["status"].as_str(),
                items[0]["attempts"].as_i64()
            ),
            (Some("webhook"), Some("dead"), Some(8))
        );
        assert!(items[0]["last_error"].as_str().unwrap().contains("500"), "{dead}");
        let job = items[0]["id"].as_str().unwrap().to_owned();

        // Another organisation sees none of it.
        let other = app.create_organization("Other Org", "boss@other.test").await;
        let (status, theirs) = app.get("/api/v1/jobs/dead", &other).await;
        assert_eq!((status, theirs["items"].as_array().unwrap().len()), (StatusCode::OK, 0));
        let (status, _) = app
            .post(&format!("/api/v1/jobs/{job}/retry"), &other, json!(null))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        receiver.answer(200);
        let (status, retried) = app
            .post(&format!("/api/v1/jobs/{job}/retry"), &admin, json!(null))
            .await;
        assert_eq!(
            (status, retried["status"].as_str()),
            (StatusCode::ACCEPTED, Some("queued")),
            "{retried}"
        );
        receiver.wait_for(9).await;
        let (status, _) = app
            .post(&format!("/api/v1/jobs/{job}/retry"), &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no longer dead");
        assert_eq!(app.get("/api/v1/jobs/dead", &admin).await.1["items"], json!([]));
        let (_, audit) = app.get("/api/v1/audit-log", &admin).await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "job.retried"),
            "{audit}"
        );
    }
);
