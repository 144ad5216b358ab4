//! The audit log (who changed what, from where, in the change's own transaction; read-only;
//! retention) and personal data (export, erasure that leaves the name and email nowhere).

use std::time::Duration;

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, check_response, fields, Backend, SmtpSink, Spawn, TestApp};

async fn entries(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    app.all_pages(&format!("/api/v1/audit-log?{query}"), token).await
}

both_backends!(
    async fn admin_writes_are_logged_with_their_source_changes_and_request(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        // From the dashboard: the bearer token with the dashboard's header.
        let response = app
            .request(Method::POST, "/api/v1/programs")
            .bearer_auth(&admin)
            .header("X-Cohort-Client", "dashboard")
            .json(&json!({"name": "Spring", "description": "first", "time_zone": "UTC"}))
            .send()
            .await
            .unwrap();
        let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let (status, program) = check_response(&Method::POST, "/api/v1/programs", response).await;
        assert_eq!(status, StatusCode::CREATED, "{program}");
        let id = program["id"].as_str().unwrap().to_owned();
        // From an integration's API key.
        let (_, key) = app.post("/api/v1/api-keys", &admin, json!({"name": "HR sync"})).await;
        let (key_id, secret) = (key["key"]["id"].clone(), key["secret"].as_str().unwrap().to_owned());
        let (status, _) = app
            .call(
                Method::PATCH,
                &format!("/api/v1/programs/{id}"),
                cohort_tests::Auth::ApiKey(&secret),
                Some(json!({"name": "Autumn", "description": "first"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // A refused change writes nothing, to the log either.
        let before = app.count("audit_log");
        let (status, _) = app
            .patch(&format!("/api/v1/programs/{id}"), &admin, json!({"name": ""}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("audit_log"), before);

        let log = entries(&app, &admin, &format!("object_id={id}")).await;
        assert_eq!(log.len(), 2, "{log:?}");
        // Newest first.
        let (updated, created) = (&log[0], &log[1]);
        assert_eq!(created["action"], "program.created");
        assert_eq!(created["source"], "dashboard");
        assert_eq!(created["request_id"], request_id.as_str());
        assert_eq!(created["before"], Value::Null);
        assert_eq!(created["after"]["name"], "Spring");
        assert_eq!(updated["action"], "program.updated");
        assert_eq!(updated["source"], "api_key");
        assert_eq!(updated["actor_api_key_id"], key_id);
        // Only what changed.
        assert_eq!(updated["before"], json!({"name": "Spring"}));
        assert_eq!(updated["after"]["name"], "Autumn");
        assert!(updated["after"].get("description").is_none(), "{updated}");
        // A bearer token without the dashboard's header is another client.
        let (_, me) = app.get("/api/v1/me", &admin).await;
        let admin_id = me["person"]["id"].as_str().unwrap().to_owned();
        let key_entry = entries(&app, &admin, "action=api_key.created").await.remove(0);
        assert_eq!(key_entry["source"], "api_key");
        assert_eq!(key_entry["actor_person_id"], admin_id.as_str());
        assert_eq!(key_entry["actor_api_key_id"], Value::Null);

        // Secrets never reach the log.
        let (status, hook) = app
            .post(
                "/api/v1/webhooks",
                &admin,
                json!({"url": "https://hooks.example.org/cohort", "event_types": []}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        let hook_secret = hook["secret"].as_str().unwrap();
        let (_, person) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "p@demo.test", "name": "P", "password": "a-long-password-9876"}),
            )
            .await;
        let everything = entries(&app, &admin, "").await;
        let text = serde_json::to_string(&everything).unwrap();
        assert!(!text.contains(hook_secret), "the webhook secret was logged");
        assert!(!text.contains("argon2") && !text.contains("password"), "{text}");
        assert!(!text.contains(key["secret"].as_str().unwrap()));
        assert!(everything.iter().any(|e| e["action"] == "webhook.created"));
        assert!(everything
            .iter()
            .any(|e| e["action"] == "person.created" && e["object_id"] == person["id"]));

        // Filters: action prefix, actor, source, time window; pages of one.
        let programs = entries(&app, &admin, "action=program.").await;
        assert_eq!(programs.len(), 2);
        assert_eq!(entries(&app, &admin, "source=dashboard").await.len(), 1);
        assert_eq!(
            entries(&app, &admin, &format!("actor={admin_id}")).await.len(),
            everything.len()
        );
        let other = "01930000-0000-7000-8000-000000000000";
        assert!(entries(&app, &admin, &format!("actor={other}")).await.is_empty());
        assert!(entries(&app, &admin, "from=2999-01-01T00:00:00Z").await.is_empty());
        assert_eq!(
            entries(&app, &admin, "to=2999-01-01T00:00:00Z&object_type=program")
                .await
                .len(),
            2
        );
        let (status, page) = app.get("/api/v1/audit-log?limit=1", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert!(page["next_cursor"].is_string());
        let (status, problem) = app.get("/api/v1/audit-log?source=browser", &admin).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["source".to_owned()])
        );

        // The CSV export: a header and one line per entry.
        let response = app
            .request(Method::GET, "/api/v1/audit-log/export?object_type=program")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = response.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[0].starts_with("occurred_at,source,actor_person_id"));
        assert!(lines[1].contains("program.updated") && lines[2].contains("program.created"));

        // Admins only.
        let (_, member) = app.person_with_login(&admin, "member@demo.test", false).await;
        assert_eq!(app.get("/api/v1/audit-log", &member).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            app.get("/api/v1/audit-log/export", &member).await.0,
            StatusCode::FORBIDDEN
        );
        // The export ignores paging, but a paging parameter out of range is still refused.
        assert_eq!(
            app.get("/api/v1/audit-log/export?limit=0", &admin).await.0,
            StatusCode::BAD_REQUEST
        );
    }
);

both_backends!(
    async fn the_log_cannot_be_changed_through_the_api(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        app.post("/api/v1/programs", &admin, json!({"name": "P"})).await;
        let entry = entries(&app, &admin, "").await.remove(0);
        let id = entry["id"].as_str().unwrap();
        let before = app.count("audit_log");
        for path in ["/api/v1/audit-log".to_owned(), format!("/api/v1/audit-log/{id}")] {
            for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
                let (status, body) = app
                    .call(
                        method.clone(),
                        &path,
                        cohort_tests::Auth::Bearer(&admin),
                        Some(json!({})),
                    )
                    .await;
                assert!(
                    status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} → {status}: {body}"
                );
            }
        }
        assert_eq!(app.count("audit_log"), before);
        assert_eq!(entries(&app, &admin, "").await[0], entry);
    }
);

/// SQL for "this many days ago" in a TIMESTAMP column.
fn days_ago(backend: Backend, days: i64) -> String {
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%d %H:%M:%f', 'now', '-{days} days')"),
        Backend::Postgres => format!("(now() AT TIME ZONE 'UTC') - interval '{days} days'"),
    }
}

both_backends!(
    async fn entries_older_than_the_retention_period_are_purged(backend: Backend) {
        let mut app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, org) = app.get("/api/v1/organization", &admin).await;
        assert_eq!((status, &org["audit_retention_days"]), (StatusCode::OK, &json!(365)));
        for bad in [0, 29, 3651] {
            let (status, problem) = app
                .patch("/api/v1/organization", &admin, json!({"audit_retention_days": bad}))
                .await;
            assert_eq!(
                (status, fields(&problem)),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    vec!["audit_retention_days".to_owned()]
                )
            );
        }
        let (status, org) = app
            .patch("/api/v1/organization", &admin, json!({"audit_retention_days": 30}))
            .await;
        assert_eq!((status, &org["audit_retention_days"]), (StatusCode::OK, &json!(30)));
        let changed = entries(&app, &admin, "action=organization.updated").await;
        assert_eq!(changed[0]["before"], json!({"audit_retention_days": 365}));
        let org_id = org["id"].as_str().unwrap();
        for (id, days) in [
            ("01930000-0000-7000-8000-0000000000a1", 40),
            ("01930000-0000-7000-8000-0000000000a2", 20),
        ] {
            app.execute_sql(&format!(
                "INSERT INTO audit_log (id, organization_id, occurred_at, source, action, object_type, object_id) \
                 VALUES ('{id}', '{org_id}', {}, 'system', 'test.old', 'test', 'x')",
                days_ago(backend, days)
            ));
        }
        // A purge is queued at every start (and hourly).
        app.kill_and_restart().await;
        let admin = app.admin_token().await;
        let mut left = Vec::new();
        for _ in 0..100 {
            left = entries(&app, &admin, "action=test.old").await;
            if left.len() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0]["id"], "01930000-0000-7000-8000-0000000000a2");
        // Recent entries stay.
        assert!(!entries(&app, &admin, "action=organization.updated").await.is_empty());
    }
);

const NAME: &str = "Zelda Quintessa";
const EMAIL: &str = "zelda.quintessa@demo.test";

/// Every (table.column) whose text mentions `needle` (lower case), from the catalog, in one
/// query (a connection per column would outlast the server's keep-alive).
fn mentions(app: &TestApp, needle: &str) -> Vec<String> {
    let branches: Vec<String> = app
        .text_columns()
        .into_iter()
        .map(|(t, c, read)| format!("SELECT '{t}.{c}' AS s FROM {t} WHERE {read} LIKE '%{needle}%'"))
        .collect();
    let mut found: Vec<String> = app.strings(&branches.join(" UNION ")).into_iter().flatten().collect();
    found.sort();
    found
}

both_backends!(
    async fn a_persons_data_is_exported_then_erased_everywhere(backend: Backend) {
        let sink = SmtpSink::start().await;
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Mentoring"})).await;
        let program = program["id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .patch(
                &format!("/api/v1/programs/{program}/pairing"),
                &admin,
                json!({"enabled": true, "process": "user_led_with_approval"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // Zelda mentors; Marcus is her mentee.
        let password = "zelda-password-0123";
        let (_, zelda) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": EMAIL, "name": NAME, "password": password, "bio": "Zelda Quintessa, chemist",
                       "attributes": {"department": "Chemistry"}}),
            )
            .await;
        let zelda = zelda["id"].as_str().unwrap().to_owned();
        let zelda_token = app.login(EMAIL, password).await.access_token;
        let (marcus, marcus_token) = app.person_with_login(&admin, "marcus@demo.test", false).await;
        for (person, role) in [(&zelda, "mentor"), (&marcus, "mentee")] {
            let (status, body) = app
                .post(
                    &format!("/api/v1/programs/{program}/participants"),
                    &admin,
                    json!({"person_id": person, "role": role}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let requests = format!("/api/v1/programs/{program}/requests");
        let (status, made) = app
            .post(
                &requests,
                &marcus_token,
                json!({"mentor_id": zelda, "note": "Hi Zelda Quintessa"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let request = made["request"]["id"].as_str().unwrap();
        let (status, approved) = app
            .post(&format!("{requests}/{request}/approve"), &zelda_token, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{approved}");
        // Mail went out naming her (request, assignment to both).
        sink.wait_for(3).await;
        let (status, _) = app
            .post(
                &format!("/api/v1/people/{zelda}/notifications"),
                &admin,
                json!({"title": "Thanks Zelda Quintessa", "body": "for mentoring"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, conversation) = app
            .post(
                "/api/v1/conversations",
                &admin,
                json!({"person_ids": [zelda], "subject": "Hello"}),
            )
            .await;
        let messages = format!(
            "/api/v1/conversations/{}/messages",
            conversation["id"].as_str().unwrap()
        );
        app.post(&messages, &zelda_token, json!({"body": "I am Zelda Quintessa"}))
            .await;
        app.post(&messages, &admin, json!({"body": "Welcome, Zelda Quintessa!"}))
            .await;
        assert!(!mentions(&app, "zelda quintessa").is_empty());

        // The export holds her profile and what is about her, never a hash.
        // The mail above can take the server past its keep-alive: a pooled connection it
        // closed meanwhile fails to send, so this request may need a second try.
        let export = format!("/api/v1/people/{zelda}/export");
        let mut response = app.request(Method::GET, &export).bearer_auth(&admin).send().await;
        if response.is_err() {
            response = app.request(Method::GET, &export).bearer_auth(&admin).send().await;
        }
        let response = response.unwrap_or_else(|e| panic!("export: {e}\n{}", app.output()));
        let (status, archive) = check_response(&Method::GET, "export", response).await;
        assert_eq!(status, StatusCode::OK, "{archive}");
        assert_eq!(archive["format"], "cohort.personal-data.v1");
        assert_eq!(archive["person"]["email"], EMAIL);
        assert!(archive["person"].get("password_hash").is_none());
        let sections = &archive["sections"];
        let len = |s: &str| sections[s].as_array().unwrap_or_else(|| panic!("section {s}")).len();
        assert_eq!(len("memberships"), 1);
        assert_eq!(len("pairings"), 1);
        assert_eq!(len("mentor_requests"), 1);
        assert!(len("notifications") >= 1);
        assert_eq!(len("messages"), 1);
        // The pairing's conversation and the admin's.
        assert_eq!(len("conversations"), 2);
        assert!(len("emails_sent") >= 2, "{}", sections["emails_sent"]);
        assert!(len("audit_entries") >= 2);
        assert_eq!(len("bookings"), 0);
        assert!(!archive.to_string().contains("argon2"));
        assert_eq!(sections["memberships"][0]["role"], "mentor");

        // A wrong confirmation is refused and changes nothing.
        let erase = format!("/api/v1/people/{zelda}/erase");
        let log_before = app.count("audit_log");
        let (status, problem) = app.post(&erase, &admin, json!({"confirm": "someone@else.test"})).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["confirm".to_owned()])
        );
        assert_eq!(app.count("audit_log"), log_before);
        assert_eq!(
            app.get(&format!("/api/v1/people/{zelda}"), &admin).await.1["name"],
            NAME
        );

        let (status, erased) = app
            .post(&erase, &admin, json!({"confirm": "Zelda.Quintessa@demo.test"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{erased}");
        assert_eq!(erased["person_id"], zelda.as_str());

        // Her name and email are nowhere in the database: every text column of every table.
        for needle in ["zelda quintessa", "zelda.quintessa", "quintessa"] {
            assert_eq!(mentions(&app, needle), Vec::<String>::new(), "{needle} is still stored");
        }
        // What others need stays: the pairing, under "Erased person".
        let (_, pairings) = app.get(&format!("/api/v1/programs/{program}/pairings"), &admin).await;
        assert_eq!(pairings["items"].as_array().unwrap().len(), 1);
        assert_eq!(pairings["items"][0]["mentor_name"], "Erased person");
        let (_, person) = app.get(&format!("/api/v1/people/{zelda}"), &admin).await;
        assert_eq!(
            (person["name"].as_str(), person["bio"].as_str()),
            (Some("Erased person"), Some(""))
        );
        // She cannot log in; her sessions are gone.
        assert_eq!(app.try_login(EMAIL, password).await.0, StatusCode::UNAUTHORIZED);
        // The erasure is in the log, without the erased data.
        let log = entries(&app, &admin, &format!("object_id={zelda}")).await;
        assert_eq!(log[0]["action"], "person.erased");
        assert_eq!((&log[0]["before"], &log[0]["after"]), (&Value::Null, &Value::Null));
        let created = log.iter().find(|e| e["action"] == "person.created").unwrap();
        assert_eq!(created["after"]["name"], "Erased person");
        // Marcus keeps his own data.
        let (_, marcus_row) = app.get(&format!("/api/v1/people/{marcus}"), &admin).await;
        assert_eq!(marcus_row["email"], "marcus@demo.test");
    }
);

both_backends!(
    async fn erasure_is_refused_for_the_last_admin_and_unknown_people(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, me) = app.get("/api/v1/me", &admin).await;
        let id = me["person"]["id"].as_str().unwrap();
        let (status, _) = app
            .post(
                &format!("/api/v1/people/{id}/erase"),
                &admin,
                json!({"confirm": cohort_tests::ADMIN_EMAIL}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let unknown = "/api/v1/people/01930000-0000-7000-8000-000000000000";
        let (status, _) = app
            .post(&format!("{unknown}/erase"), &admin, json!({"confirm": "x@y.test"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.get(&format!("{unknown}/export"), &admin).await.0,
            StatusCode::NOT_FOUND
        );
        // A body without `confirm` is refused too.
        let (status, _) = app.post(&format!("/api/v1/people/{id}/erase"), &admin, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(
    async fn the_export_is_written_page_by_page_with_every_entry_in_order(backend: Backend) {
        const ENTRIES: usize = 2_500;
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, me) = app.get("/api/v1/me", &admin).await;
        let org = me["organization"]["id"].as_str().unwrap();
        // Entries 1..=2,500, the later ones newer, across three pages of the export.
        let at = match backend {
            Backend::Sqlite => "'2027-01-01 00:00:00'",
            Backend::Postgres => "TIMESTAMP '2027-01-01 00:00:00'",
        };
        app.execute_sql(&format!(
            "INSERT INTO audit_log (id, organization_id, occurred_at, source, action, object_type, object_id) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ENTRIES}) \
             SELECT 'zz-' || CAST(100000 + i AS TEXT), '{org}', {at}, 'api', 'bulk.made', 'bulk', CAST(i AS TEXT) FROM n"
        ));
        let response = app
            .request(Method::GET, "/api/v1/audit-log/export?object_type=bulk")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let csv = response.text().await.unwrap();
        let objects: Vec<usize> = csv
            .lines()
            .skip(1)
            .map(|line| line.split(',').nth(6).unwrap().parse().unwrap())
            .collect();
        assert!(csv.starts_with("occurred_at,"), "one header");
        assert_eq!(
            objects,
            (1..=ENTRIES).rev().collect::<Vec<_>>(),
            "every entry once, newest first"
        );
    }
);
