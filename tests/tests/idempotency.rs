//! `Idempotency-Key` on creating POSTs: a retry gets the first answer back and
//! writes nothing; another body is a 422; identical requests racing create one
//! object; keys belong to their caller, expire, and outlive a crashed request.

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, check_response, fields, Backend, TestApp};

/// POSTs `body` with an `Idempotency-Key`; the status, the body and the response's headers.
async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value, cohort_tests::reqwest::header::HeaderMap) {
    let response = app
        .request(Method::POST, path)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let headers = response.headers().clone();
    let (status, body) = check_response(&Method::POST, path, response).await;
    (status, body, headers)
}

both_backends!(
    async fn a_retry_gets_the_first_answer_and_writes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let person = json!({"email": "retry@demo.test", "name": "Rita Retry"});
        let (status, first, headers) = post_with_key(&app, "/api/v1/people", &admin, "key-1", person.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert!(headers.get("idempotency-replayed").is_none());
        let location = headers["location"].clone();

        let (status, again, headers) = post_with_key(&app, "/api/v1/people", &admin, "key-1", person.clone()).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(again, first, "the stored answer, byte for byte");
        assert_eq!(headers["idempotency-replayed"], "true");
        assert_eq!(headers["location"], location);
        assert_eq!(app.count("people WHERE email = 'retry@demo.test'"), 1);

        // Without the key the same body is a second request (here: a duplicate email).
        let (status, _) = app.post("/api/v1/people", &admin, person).await;
        assert_eq!(status, StatusCode::CONFLICT);

        // The same key with another body, or on another path, is refused and writes nothing.
        let (status, problem, _) = post_with_key(
            &app,
            "/api/v1/people",
            &admin,
            "key-1",
            json!({"email": "other@demo.test", "name": "Otto Other"}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["Idempotency-Key"]);
        let (status, _, _) = post_with_key(&app, "/api/v1/programs", &admin, "key-1", json!({"name": "P"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("people WHERE email = 'other@demo.test'"), 0);
        assert_eq!(app.count("programs"), 0);

        // Refusals are answers too: a retry of an invalid request gets the same 422 back.
        let bad = json!({"email": "not an email", "name": "Bad"});
        let (status, refused, _) = post_with_key(&app, "/api/v1/people", &admin, "key-2", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, replayed, headers) = post_with_key(&app, "/api/v1/people", &admin, "key-2", bad).await;
        assert_eq!(
            (status, headers["idempotency-replayed"].to_str().unwrap()),
            (StatusCode::UNPROCESSABLE_ENTITY, "true")
        );
        assert_eq!(replayed["errors"], refused["errors"]);

        // The body limit holds with a key too.
        let huge = json!({"name": "x".repeat(1024 * 1024 + 1)});
        let (status, _, _) = post_with_key(&app, "/api/v1/programs", &admin, "key-3", huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        // A malformed key is a 400, before anything runs.
        let (status, _, _) =
            post_with_key(&app, "/api/v1/programs", &admin, &"k".repeat(256), json!({"name": "P"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(app.count("programs"), 0);
    }
);

both_backends!(
    async fn identical_requests_at_once_create_one_object(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let answers = app
            .post_concurrently_with_key(
                8,
                "/api/v1/programs",
                &admin,
                json!({"name": "Raced Program"}),
                "race-1",
            )
            .await;
        assert!(answers.iter().all(|(s, _)| *s == StatusCode::CREATED), "{answers:?}");
        let id = &answers[0].1["id"];
        assert!(answers.iter().all(|(_, body)| &body["id"] == id), "{answers:?}");
        assert_eq!(app.count("programs WHERE name = 'Raced Program'"), 1);
        assert_eq!(app.count("idempotency_keys"), 1);

        // The same through an API key, which keeps keys of its own.
        let (_, key) = app.post("/api/v1/api-keys", &admin, json!({"name": "Mobile"})).await;
        let secret = key["secret"].as_str().unwrap().to_owned();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let request = app
                .request(Method::POST, "/api/v1/programs")
                .header("X-Api-Key", &secret)
                .header("Idempotency-Key", "race-1")
                .json(&json!({"name": "Raced Program"}));
            set.spawn(async move { request.send().await.unwrap().status() });
        }
        while let Some(status) = set.join_next().await {
            assert_eq!(status.unwrap(), StatusCode::CREATED);
        }
        assert_eq!(app.count("programs WHERE name = 'Raced Program'"), 2, "one per caller");
    }
);

both_backends!(
    async fn keys_belong_to_their_caller_and_organisation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, other_admin) = app.person_with_login(&admin, "second.admin@demo.test", true).await;
        let other_org = app.create_organization("Other Org", "admin@other.test").await;
        let body = json!({"name": "Same Key Program"});
        for token in [&admin, &other_admin, &other_org] {
            let (status, _, headers) = post_with_key(&app, "/api/v1/programs", token, "shared-key", body.clone()).await;
            assert_eq!(status, StatusCode::CREATED);
            assert!(headers.get("idempotency-replayed").is_none());
        }
        assert_eq!(app.count("programs WHERE name = 'Same Key Program'"), 3);
        // Requests without credentials keep no key: logging in twice is two logins.
        for _ in 0..2 {
            let response = app
                .request(Method::POST, "/api/v1/auth/login")
                .header("Idempotency-Key", "login-key")
                .json(&json!({"email": cohort_tests::ADMIN_EMAIL, "password": cohort_tests::ADMIN_PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert!(response.headers().get("idempotency-replayed").is_none());
        }
        assert_eq!(app.count("idempotency_keys"), 3);
    }
);

both_backends!(
    async fn keys_expire_and_a_crashed_request_does_not_hold_its_key(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let body = json!({"name": "Crash Program"});
        let (status, first, _) = post_with_key(&app, "/api/v1/programs", &admin, "crash-key", body.clone()).await;
        assert_eq!(status, StatusCode::CREATED);

        // The process died after the write, before storing the answer, and the lease ran out:
        // the retry runs again (this window is the one case that can write twice).
        app.execute_sql(
            "UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, \
             locked_until = '2000-01-01 00:00:00'",
        );
        let (status, retried, headers) =
            post_with_key(&app, "/api/v1/programs", &admin, "crash-key", body.clone()).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(headers.get("idempotency-replayed").is_none());
        assert_ne!(retried["id"], first["id"]);
        // … and from then on the retry's answer is the stored one.
        let (_, replayed, headers) = post_with_key(&app, "/api/v1/programs", &admin, "crash-key", body.clone()).await;
        assert_eq!(
            (
                replayed["id"].clone(),
                headers["idempotency-replayed"].to_str().unwrap()
            ),
            (retried["id"].clone(), "true")
        );

        // After 24 hours a key is forgotten: the same key is a new request.
        app.execute_sql("UPDATE idempotency_keys SET expires_at = '2000-01-01 00:00:00'");
        let (status, _, headers) = post_with_key(&app, "/api/v1/programs", &admin, "crash-key", body).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(headers.get("idempotency-replayed").is_none());
        assert_eq!(app.count("programs WHERE name = 'Crash Program'"), 3);
        assert_eq!(app.count("idempotency_keys"), 1);
    }
);

both_backends!(
    async fn expired_keys_are_purged(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        for key in ["a", "b", "c"] {
            post_with_key(&app, "/api/v1/programs", &admin, key, json!({"name": key})).await;
        }
        assert_eq!(app.count("idempotency_keys"), 3);
        app.execute_sql("UPDATE idempotency_keys SET expires_at = '2000-01-01 00:00:00'");
        // A restarted process purges on its first claim.
        let mut app = app;
        app.kill_and_restart().await;
        let admin = app.admin_token().await;
        post_with_key(&app, "/api/v1/programs", &admin, "d", json!({"name": "d"})).await;
        assert_eq!(app.count("idempotency_keys"), 1);
    }
);

both_backends!(
    async fn answers_holding_a_secret_are_kept_without_it(backend: Backend) {
        let app = TestApp::spawn_with(
            backend,
            cohort_tests::Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_LOG".into(), "info".into())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        for (path, body, secret_at) in [
            ("/api/v1/api-keys", json!({"name": "HR sync"}), "/secret"),
            (
                "/api/v1/webhooks",
                json!({"url": "https://hooks.example.org/cohort", "event_types": ["pairing.created"]}),
                "/secret",
            ),
            ("/api/v1/me/calendar-feed", json!(null), "/url"),
        ] {
            let (status, first, _) = post_with_key(&app, path, &admin, path, body.clone()).await;
            assert_eq!(status, StatusCode::CREATED, "{path}: {first}");
            let secret = first.pointer(secret_at).and_then(Value::as_str).unwrap().to_owned();
            let (status, replay, headers) = post_with_key(&app, path, &admin, path, body).await;
            assert_eq!(status, StatusCode::CREATED, "{path}: {replay}");
            assert!(headers.contains_key("idempotency-replayed"), "{path}");
            assert_eq!(
                replay.pointer(secret_at).and_then(Value::as_str),
                Some("(shown once; not kept for replays)")
            );
            let mut without_secret = first.clone();
            *without_secret.pointer_mut(secret_at).unwrap() = replay.pointer(secret_at).unwrap().clone();
            assert_eq!(replay, without_secret, "{path}: the rest of the answer is kept");
            let body_text = match backend {
                Backend::Sqlite => "CAST(response_body AS TEXT)",
                Backend::Postgres => "convert_from(response_body, 'UTF8')",
            };
            let stored = app.strings(&format!("SELECT {body_text} AS s FROM idempotency_keys"));
            // The feed's secret is the last segment of its address; the others are the whole
            // value (base64, which may itself hold a `/`).
            let token = match secret.strip_prefix("http") {
                Some(_) => secret.rsplit('/').next().unwrap().trim_end_matches(".ics"),
                None => secret.as_str(),
            };
            assert!(
                stored.iter().flatten().all(|body| !body.contains(token)),
                "{path}: the secret is in {stored:?}"
            );
        }
        // The feed's address is its secret: the request log shows only the route.
        let (_, feed, _) = post_with_key(&app, "/api/v1/me/calendar-feed", &admin, "secret-2", json!(null)).await;
        let url = feed["url"].as_str().unwrap();
        let path = &url[url.find("/api/").unwrap()..];
        let response = app.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let token = path.rsplit('/').next().unwrap().trim_end_matches(".ics");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let log = app.output();
        assert!(log.contains("/api/v1/calendar"), "the request is logged: {log}");
        assert!(!log.contains(token), "the token is in the log");
    }
);
