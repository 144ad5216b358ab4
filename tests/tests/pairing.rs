//! Pairing: settings, mentor requests with approval, capacity under concurrency, pairings.

use std::time::Duration;

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, decoded, fields, link_token, links_in, Auth, SmtpSink, Spawn, TestApp};

async fn app_with_mail(backend: cohort_tests::Backend) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(
        backend,
        Spawn {
            demo_data: false,
            extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
        },
    )
    .await;
    (app, sink)
}

async fn program(app: &TestApp, admin: &str, settings: Value) -> String {
    let (_, p) = app
        .post(
            "/api/v1/programs",
            admin,
            json!({"name": "Mentoring", "time_zone": "UTC"}),
        )
        .await;
    let id = p["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .patch(&format!("/api/v1/programs/{id}/pairing"), admin, settings)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

/// A person with a login in `role`; returns (person id, token).
async fn member(app: &TestApp, admin: &str, program: &str, email: &str, name: &str, role: &str) -> (String, String) {
    let (person, token) = app.person_with_login(admin, email, false).await;
    app.patch(&format!("/api/v1/people/{person}"), admin, json!({"name": name}))
        .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            admin,
            json!({"person_id": person, "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (person, token)
}

both_backends!(
    async fn settings_start_off_and_are_validated(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, p) = app.post("/api/v1/programs", &admin, json!({"name": "P"})).await;
        let path = format!("/api/v1/programs/{}/pairing", p["id"].as_str().unwrap());
        let (status, settings) = app.get(&path, &admin).await;
        assert_eq!(status, StatusCode::OK);
        let checklist = settings["checklist"].as_array().unwrap().clone();
        assert_eq!(checklist.len(), 5);
        assert!(checklist
            .iter()
            .all(|item| item["done"] == false && item["label"].is_string()));
        let mut defaults = settings.clone();
        defaults.as_object_mut().unwrap().remove("checklist");
        assert_eq!(
            defaults,
            json!({"process": "user_led_with_approval", "mentor_capacity": 3, "request_expiry_days": 3,
                   "remind_before_expiry": true, "unresponsive_days": 30, "enabled": false})
        );
        // Admins tick the launch checklist; an unknown item is refused.
        let (status, problem) = app
            .patch(&path, &admin, json!({"checklist_done": ["launch_rockets"]}))
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["checklist_done".to_owned()])
        );
        let (_, ticked) = app
            .patch(
                &path,
                &admin,
                json!({"checklist_done": ["mentees_invited", "participants_added"]}),
            )
            .await;
        let done: Vec<&str> = ticked["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["done"] == true)
            .map(|i| i["key"].as_str().unwrap())
            .collect();
        assert_eq!(done, ["participants_added", "mentees_invited"]);
        let (status, problem) = app
            .patch(&path, &admin, json!({"mentor_capacity": 0, "request_expiry_days": 40}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["mentor_capacity", "request_expiry_days"]);
        let (_, settings) = app
            .patch(&path, &admin, json!({"enabled": true, "mentor_capacity": 2}))
            .await;
        assert_eq!(
            (settings["enabled"].as_bool(), settings["mentor_capacity"].as_u64()),
            (Some(true), Some(2))
        );
        assert_eq!(app.get(&path, &admin).await.1, settings);
    }
);

both_backends!(
    async fn a_request_is_approved_into_a_pairing_with_emails_events_and_first_match(backend: Backend) {
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true})).await;
        let (_, mentee_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (mentor, mentor_token) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        let (other_mentor, _) = member(&app, &admin, &program, "marcus@demo.test", "Marcus O", "mentor").await;
        // A step that waits for the first match.
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/steps"),
                &admin,
                json!({"title": "Plan your first meeting", "viewer_type": "all", "action_type": "schedule_meeting",
                       "publish_type": "triggered", "trigger": "first_match", "include_existing": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);

        // The mentee sees who has room.
        let (status, mentors) = app
            .get(&format!("/api/v1/programs/{program}/mentors"), &mentee_token)
            .await;
        assert_eq!(status, StatusCode::OK, "{mentors}");
        let names: Vec<&str> = mentors["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Marcus O", "Talia K"]);
        assert_eq!(mentors["items"][0]["capacity"], 3);
        let requests = format!("/api/v1/programs/{program}/requests");
        let (status, made) = app
            .post(
                &requests,
                &mentee_token,
                json!({"mentor_id": mentor, "note": "Research careers?"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["request"]["status"], "open");
        assert_eq!(made["pairing"], Value::Null);
        assert!(made["request"]["expires_at"].is_string());
        let request = made["request"]["id"].as_str().unwrap().to_owned();
        // One open request at a time.
        let (status, _) = app
            .post(&requests, &mentee_token, json!({"mentor_id": other_mentor}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        // The mentor is emailed.
        let mail = sink.wait_for(1).await;
        assert!(mail[0].contains("To: talia@demo.test"), "{}", mail[0]);
        assert!(mail[0].contains("Amara"), "{}", mail[0]);

        // The mentor finds it among their requests.
        let (_, mine) = app.get("/api/v1/me/requests", &mentor_token).await;
        assert_eq!(mine["items"][0]["id"].as_str(), Some(request.as_str()));
        assert_eq!(mine["items"][0]["note"], "Research careers?");
        // Only the request's mentor (or an admin) answers it.
        let approve = format!("{requests}/{request}/approve");
        assert_eq!(
            app.post(&approve, &mentee_token, json!(null)).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, decided) = app.post(&approve, &mentor_token, json!(null)).await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        assert_eq!(decided["request"]["status"], "approved");
        assert_eq!(decided["pairing"]["mentee_name"], "Amara N");
        assert_eq!(decided["pairing"]["mentor_name"], "Talia K");
        assert_eq!(
            app.post(&approve, &mentor_token, json!(null)).await.0,
            StatusCode::CONFLICT
        );

        // "Mentorship assignment" goes to both.
        let mail = sink.wait_for(3).await;
        let assigned: Vec<&String> = mail
            .iter()
            .filter(|m| m.contains("Subject: You have been paired"))
            .collect();
        assert_eq!(assigned.len(), 2, "{mail:?}");
        // The first match starts the triggered step for both of them.
        for token in [&mentee_token, &mentor_token] {
            let mut titles = Vec::new();
            for _ in 0..50 {
                let (_, feed) = app.get("/api/v1/me/steps", token).await;
                titles = feed["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["title"].clone())
                    .collect();
                if !titles.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(titles, [json!("Plan your first meeting")]);
        }
        let (_, events) = app.get("/api/v1/events?event_type=pairing.created", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 2, "{events}");
        // The pair has its own conversation.
        let (_, chats) = app.get("/api/v1/conversations", &mentee_token).await;
        assert_eq!(chats["items"][0]["kind"], "pairing", "{chats}");
        let conversation = chats["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                &mentee_token,
                json!({"body": "Hi Talia!"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, chats) = app.get("/api/v1/conversations", &mentor_token).await;
        assert_eq!(chats["items"][0]["unread_count"], 1);

        // Paired: no more requests; the pairing is listed, then ended with a reason.
        let (status, _) = app
            .post(&requests, &mentee_token, json!({"mentor_id": other_mentor}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, active) = app.get(&format!("/api/v1/programs/{program}/pairings"), &admin).await;
        let pairing = active["items"][0]["id"].as_str().unwrap().to_owned();
        let end = format!("/api/v1/programs/{program}/pairings/{pairing}/end");
        let (status, problem) = app.post(&end, &admin, json!({"reason": " "})).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_owned()])
        );
        let (status, ended) = app.post(&end, &admin, json!({"reason": "Graduated"})).await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        assert_eq!(ended["end_reason"], "Graduated");
        assert_eq!(
            app.post(&end, &admin, json!({"reason": "Again"})).await.0,
            StatusCode::CONFLICT
        );
        let (_, active) = app.get(&format!("/api/v1/programs/{program}/pairings"), &admin).await;
        assert_eq!(active["items"], json!([]));
        let (status, _) = app
            .post(&requests, &mentee_token, json!({"mentor_id": other_mentor}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "an ended pairing frees the mentee");
    }
);

both_backends!(
    async fn a_decline_carries_the_mentors_message_to_the_mentee(backend: Backend) {
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true})).await;
        let (_, mentee_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (mentor, mentor_token) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        let requests = format!("/api/v1/programs/{program}/requests");
        let (_, made) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        let request = made["request"]["id"].as_str().unwrap();
        let (status, declined) = app
            .post(
                &format!("{requests}/{request}/decline"),
                &mentor_token,
                json!({"message": "I'm full this term; try Marcus!"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{declined}");
        assert_eq!(declined["status"], "declined");
        assert_eq!(declined["decline_message"], "I'm full this term; try Marcus!");
        let mail = sink.wait_for(2).await;
        let to_mentee = mail
            .iter()
            .find(|m| m.contains("To: amara@demo.test"))
            .expect("an email to the mentee");
        assert!(to_mentee.contains("try Marcus!"), "{to_mentee}");
        let (_, events) = app.get("/api/v1/events?event_type=request.declined", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 1);
        // Declined: the mentee may ask again.
        let (status, _) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
);

both_backends!(
    async fn twenty_concurrent_approvals_fill_a_mentor_of_capacity_one_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let peer = match backend {
            cohort_tests::Backend::Postgres => Some(app.sibling().await),
            cohort_tests::Backend::Sqlite => None,
        };
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true, "mentor_capacity": 1})).await;
        let (mentor, _) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        // The program's capacity is 1; Talia's own was 5 and is set back to the program's.
        let capacity = format!("/api/v1/programs/{program}/mentors/{mentor}/capacity");
        let (status, set) = app.put(&capacity, &admin, json!({"capacity": 5})).await;
        assert_eq!((status, set["capacity"].as_u64()), (StatusCode::OK, Some(5)), "{set}");
        let (status, problem) = app.put(&capacity, &admin, json!({"capacity": 0})).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["capacity".to_owned()])
        );
        let (_, set) = app.put(&capacity, &admin, json!({"capacity": null})).await;
        assert_eq!(
            (set["own_capacity"].clone(), set["capacity"].as_u64()),
            (Value::Null, Some(1))
        );
        let requests = format!("/api/v1/programs/{program}/requests");
        let mut approvals = Vec::new();
        for i in 0..20 {
            let (mentee, _) = member(
                &app,
                &admin,
                &program,
                &format!("m{i}@demo.test"),
                &format!("Mentee {i}"),
                "mentee",
            )
            .await;
            let (status, made) = app
                .post(&requests, &admin, json!({"mentor_id": mentor, "mentee_id": mentee}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{made}");
            approvals.push(format!(
                "{requests}/{}/approve",
                made["request"]["id"].as_str().unwrap()
            ));
        }
        // All at once, through both processes on PostgreSQL.
        let mut set = tokio::task::JoinSet::new();
        for (i, path) in approvals.iter().enumerate() {
            let server = if i % 2 == 1 {
                peer.as_ref().unwrap_or(&app)
            } else {
                &app
            };
            let request = server.client.post(server.url(path)).bearer_auth(&admin);
            set.spawn(async move { request.send().await.map(|r| r.status()) });
        }
        let mut statuses = Vec::new();
        while let Some(done) = set.join_next().await {
            statuses.push(done.unwrap().unwrap());
        }
        let approved = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
        assert_eq!((approved, refused), (1, 19), "{statuses:?}");
        let (_, active) = app.get(&format!("/api/v1/programs/{program}/pairings"), &admin).await;
        assert_eq!(active["items"].as_array().unwrap().len(), 1);
    }
);

both_backends!(
    async fn the_process_decides_who_pairs(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"process": "user_led"})).await;
        let (_, mentee_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (mentor, mentor_token) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        let requests = format!("/api/v1/programs/{program}/requests");
        let (status, _) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "pairing is off until an admin turns it on"
        );
        app.patch(
            &format!("/api/v1/programs/{program}/pairing"),
            &admin,
            json!({"enabled": true}),
        )
        .await;
        // Mentors do not request mentors; mentees do not ask for someone else.
        let (status, _) = app.post(&requests, &mentor_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, problem) = app
            .post(&requests, &admin, json!({"mentor_id": mentor, "mentee_id": mentor}))
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["mentee_id".to_owned()])
        );
        // user_led: the request is the pairing.
        let (status, made) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["request"]["status"], "approved");
        assert_eq!(made["pairing"]["mentor_name"], "Talia K");
        // The export of active pairings: spreadsheet-safe cells, times in the organisation's zone.
        let (status, _) = app
            .patch(
                &format!("/api/v1/people/{mentor}"),
                &admin,
                json!({"name": "=HYPERLINK(\"x\")"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, csv) = app
            .get(&format!("/api/v1/programs/{program}/pairings/export"), &admin)
            .await;
        assert_eq!(status, StatusCode::OK);
        let lines: Vec<&str> = csv.as_str().unwrap().lines().collect();
        assert_eq!(lines[0], "mentee,mentee_email,mentor,mentor_email,paired_at");
        assert!(
            lines[1].starts_with("Amara N,amara@demo.test,\"'=HYPERLINK(\"\"x\"\")\",talia@demo.test,"),
            "{}",
            lines[1]
        );
        assert!(lines[1].ends_with("-05:00"), "New York time: {}", lines[1]);
        assert_eq!(lines.len(), 2);
        // admin_led: mentees do not request.
        app.patch(
            &format!("/api/v1/programs/{program}/pairing"),
            &admin,
            json!({"process": "admin_led"}),
        )
        .await;
        let (other, _) = member(&app, &admin, &program, "sam@demo.test", "Sam", "mentee").await;
        let (status, body) = app
            .post(&requests, &admin, json!({"mentor_id": mentor, "mentee_id": other}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
);

both_backends!(
    async fn an_unanswered_request_reminds_the_mentor_then_expires_with_suggestions(backend: Backend) {
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let (status, _) = app
            .patch("/api/v1/organization", &admin, json!({"time_zone": "UTC"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let program = program(&app, &admin, json!({"enabled": true})).await;
        let (mentee, mentee_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (mentor, _) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        member(&app, &admin, &program, "marcus@demo.test", "Marcus O", "mentor").await;
        // Zoe shares Amara's department: by the program's rules she fits best, so she is suggested
        // first although her name sorts last.
        let (zoe, _) = member(&app, &admin, &program, "zoe@demo.test", "Zoe Z", "mentor").await;
        for (person, department) in [(&mentee, "Chemistry"), (&zoe, "chemistry")] {
            let (status, _) = app
                .patch(
                    &format!("/api/v1/people/{person}"),
                    &admin,
                    json!({"attributes": {"department": department}}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = app
            .put(
                &format!("/api/v1/programs/{program}/auto-pair/rules"),
                &admin,
                json!({"criteria": [{"key": "department", "source": "attribute", "rule": "similar", "weight": 50}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let requests = format!("/api/v1/programs/{program}/requests");
        let (_, made) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        let created = chrono::DateTime::parse_from_rfc3339(made["request"]["created_at"].as_str().unwrap()).unwrap();
        let expires = chrono::DateTime::parse_from_rfc3339(made["request"]["expires_at"].as_str().unwrap()).unwrap();
        // Three business days in the organisation's zone, skipping weekends and its holidays.
        let (_, org) = app.get("/api/v1/organization", &admin).await;
        assert_eq!(org["time_zone"], "UTC", "the test organisation's days are UTC days");
        let holidays: Vec<chrono::NaiveDate> = cohort_tests::serde_json::from_value(org["holidays"].clone()).unwrap();
        let business = |d: chrono::NaiveDate| {
            !matches!(
                chrono::Datelike::weekday(&d),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            ) && !holidays.contains(&d)
        };
        let (first, last) = (created.date_naive(), expires.date_naive());
        let counted = first
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= last)
            .filter(|d| business(*d))
            .count();
        assert_eq!(
            counted,
            if business(first) { 3 } else { 4 },
            "{created} → {expires}, holidays {holidays:?}"
        );
        assert!(business(last));
        sink.wait_for(1).await; // the request to the mentor

        // Let the days pass: the reminder's and the expiry's due times move into the past.
        app.execute_sql("UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'request.remind'");
        // (The sink lists messages in no particular order.)
        let mail = sink.wait_for(2).await;
        let to_mentor = mail.iter().filter(|m| m.contains("To: talia@demo.test")).count();
        assert_eq!(to_mentor, 2, "the request and one reminder: {mail:?}");
        app.execute_sql("UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'request.expire'");
        let mail = sink.wait_for(3).await;
        let expired = mail
            .iter()
            .find(|m| m.contains("Subject: Your request to Talia has expired"))
            .expect("the expiry email");
        assert!(expired.contains("To: amara@demo.test"), "{expired}");
        assert!(
            expired.contains("Marcus O"),
            "the mentee is offered mentors with room: {expired}"
        );
        let (zoe_at, marcus_at) = (expired.find("Zoe Z").unwrap(), expired.find("Marcus O").unwrap());
        assert!(zoe_at < marcus_at, "the best-scoring mentor comes first: {expired}");
        let (_, list) = app.get(&requests, &admin).await;
        assert_eq!(list["items"][0]["status"], "expired");
        let (_, events) = app.get("/api/v1/events?event_type=request.expired", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 1);
        // Expired: the mentee picks someone else.
        let (status, _) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED);
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(sink.messages().len(), 4, "one email per cause, nothing repeated");
    }
);

both_backends!(
    async fn invite_all_previews_then_sends_once_per_cooldown(backend: Backend) {
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true})).await;
        let (mentor, _) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        let (amara, _) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (bo, _) = member(&app, &admin, &program, "bo@demo.test", "Bo L", "mentee").await;
        let (_, cy_token) = member(&app, &admin, &program, "cy@demo.test", "Cy P", "mentee").await;
        // Pairing is on (the program was created with it) and nobody was emailed for that.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(sink.messages().is_empty(), "turning pairing on sends nothing by itself");
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/requests"),
                &cy_token,
                json!({"mentor_id": mentor}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        sink.wait_for(1).await;
        let tab = |name: &str| format!("/api/v1/programs/{program}/unpaired?tab={name}");
        let names = |page: &Value| -> Vec<String> {
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let (_, not_invited) = app.get(&tab("not_invited"), &admin).await;
        let mut expected = vec!["Amara N".to_owned(), "Bo L".to_owned()];
        let mut got = names(&not_invited);
        got.sort();
        assert_eq!(got, expected);
        let (_, requested) = app.get(&tab("requested"), &admin).await;
        assert_eq!(names(&requested), ["Cy P"]);
        assert_eq!(requested["items"][0]["requested_mentor"], "Talia K");

        // Invite all: first the count and the email, then the sending.
        let preview = format!("/api/v1/programs/{program}/invitations/preview");
        let invite = format!("/api/v1/programs/{program}/invitations");
        let (status, shown) = app.post(&preview, &admin, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!(shown["would_send"], 2);
        assert_eq!(
            shown["email"]["subject"],
            "Submit your mentor preferences for Mentoring"
        );
        assert_eq!(sink.messages().len(), 1, "a preview sends nothing");
        let (status, sent) = app.post(&invite, &admin, json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        assert_eq!(sent, json!({"sent": 2, "skipped_recently_invited": 0}));
        let mail = sink.wait_for(3).await;
        for to in ["amara@demo.test", "bo@demo.test"] {
            assert!(mail
                .iter()
                .any(|m| m.contains(&format!("To: {to}")) && m.contains("Submit your mentor preferences")));
        }
        let (_, invited) = app.get(&tab("invited"), &admin).await;
        expected.sort();
        let mut got = names(&invited);
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(app.get(&tab("not_invited"), &admin).await.1["items"], json!([]));

        // Again at once: nobody left to invite all; a selection waits out the cooldown.
        let (_, again) = app.post(&preview, &admin, json!({})).await;
        assert_eq!((again["would_send"].as_u64(), &again["email"]), (Some(0), &Value::Null));
        let (_, again) = app.post(&invite, &admin, json!({"mentee_ids": [amara, bo]})).await;
        assert_eq!(again, json!({"sent": 0, "skipped_recently_invited": 2}));
        let (status, problem) = app.post(&invite, &admin, json!({"mentee_ids": [mentor]})).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["mentee_ids[0]".to_owned()])
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(sink.messages().len(), 3, "no second invitation");
    }
);

both_backends!(
    async fn a_quiet_pairing_needs_a_check_in_and_starts_the_unresponsive_steps(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true, "process": "user_led"})).await;
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/steps"),
                &admin,
                json!({"title": "Check in with your pair", "viewer_type": "mentee", "action_type": "send_message",
                       "publish_type": "triggered", "trigger": "first_unresponsive_match"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, mentee_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (mentor, _) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/requests"),
                &mentee_token,
                json!({"mentor_id": mentor}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let health = format!("/api/v1/programs/{program}/pairing/health");
        let (_, h) = app.get(&health, &admin).await;
        assert_eq!(
            (h["active_pairings"].as_u64(), h["too_early"].as_u64()),
            (Some(1), Some(1)),
            "{h}"
        );
        assert_eq!(h["mentors_at_capacity"], 0);
        let weekly = h["weekly"].as_array().unwrap();
        assert_eq!(weekly.len(), 12, "twelve weeks");
        assert_eq!(
            (
                weekly[11]["active_pairings"].as_u64(),
                weekly[11]["pairings_started"].as_u64()
            ),
            (Some(1), Some(1)),
            "this week: {h}"
        );
        assert_eq!(weekly[10]["active_pairings"], 0);
        assert_eq!(
            (
                weekly[11]["requests_made"].as_u64(),
                weekly[11]["requests_expired"].as_u64()
            ),
            (Some(1), Some(0)),
            "the request (user-led: it is the pairing) counts this week"
        );
        // A message is a sign of life.
        let (_, chats) = app.get("/api/v1/conversations", &mentee_token).await;
        let conversation = chats["items"][0]["id"].as_str().unwrap().to_owned();
        app.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            &mentee_token,
            json!({"body": "Hi!"}),
        )
        .await;
        let (_, h) = app.get(&health, &admin).await;
        assert_eq!(h["pairings"][0]["status"], "on_track", "{h}");
        assert!(h["pairings"][0]["last_activity_at"].is_string());

        // Forty quiet days later (the pairing and its message moved back in time)...
        app.execute_sql(
            "UPDATE pairings SET created_at = '2000-01-01 00:00:00'; \
             UPDATE chat_messages SET created_at = '2000-01-02 00:00:00';",
        );
        let (_, h) = app.get(&health, &admin).await;
        assert_eq!(
            (h["needs_check_in"].as_u64(), h["pairings"][0]["status"].as_str()),
            (Some(1), Some("needs_check_in"))
        );
        // ...the check that was queued for the end of the window finds it unresponsive.
        app.execute_sql("UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'pairing.check'");
        let mut events = Value::Null;
        for _ in 0..50 {
            events = app
                .get("/api/v1/events?event_type=pairing.unresponsive", &admin)
                .await
                .1;
            if events["items"].as_array().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            events["items"].as_array().unwrap().len(),
            2,
            "mentee and mentor: {events}"
        );
        let mut titles = Vec::new();
        for _ in 0..50 {
            let (_, feed) = app.get("/api/v1/me/steps", &mentee_token).await;
            titles = feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["title"].clone())
                .collect();
            if !titles.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(titles, [json!("Check in with your pair")]);
    }
);

/// The "Accept" and "Decline" links of a request email.
fn answer_links(mail: &str) -> (String, String) {
    let links = links_in(mail);
    let link = |answer: &str| {
        let found = links.iter().find(|l| l.ends_with(&format!("answer={answer}")));
        found.unwrap_or_else(|| panic!("no {answer} link: {mail}")).clone()
    };
    (link("accept"), link("decline"))
}

const PREVIEW: &str = "/api/v1/request-answers/preview";
const ACCEPT: &str = "/api/v1/request-answers/accept";
const DECLINE: &str = "/api/v1/request-answers/decline";

async fn answer(app: &TestApp, path: &str, auth: Auth<'_>, body: Value) -> (StatusCode, Value) {
    app.call(cohort_tests::reqwest::Method::POST, path, auth, Some(body))
        .await
}

both_backends!(
    async fn the_mentor_accepts_from_the_email_with_a_one_time_link(backend: Backend) {
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true})).await;
        let (mentee, mentee_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (mentor, _) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        for (person, profile) in [
            (
                &mentee,
                json!({"bio": "First-year chemist.", "attributes": {"department": "Chemistry"}}),
            ),
            (&mentor, json!({"attributes": {"department": "chemistry"}})),
        ] {
            let (status, body) = app.patch(&format!("/api/v1/people/{person}"), &admin, profile).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, _) = app
            .put(
                &format!("/api/v1/programs/{program}/auto-pair/rules"),
                &admin,
                json!({"criteria": [{"key": "department", "source": "attribute", "rule": "similar", "weight": 50}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let requests = format!("/api/v1/programs/{program}/requests");
        let pairings = format!("/api/v1/programs/{program}/pairings");
        let (status, made) = app
            .post(
                &requests,
                &mentee_token,
                json!({"mentor_id": mentor, "note": "Research careers?"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let request = made["request"]["id"].as_str().unwrap().to_owned();

        // Two absolute links in the email, one token behind both.
        let mail = sink.wait_for(1).await;
        assert!(mail[0].contains("To: talia@demo.test"), "{}", mail[0]);
        let (accept, decline) = answer_links(&mail[0]);
        let page = app.url("/answer-request?token=");
        assert!(
            accept.starts_with(&page) && accept.ends_with("&answer=accept"),
            "{accept}"
        );
        assert!(
            decline.starts_with(&page) && decline.ends_with("&answer=decline"),
            "{decline}"
        );
        let token = link_token(&accept);
        assert_eq!(token, link_token(&decline), "one link token serves both answers");
        let body = json!({"token": token});

        // Opening the link (as mail scanners do) and looking at the request change nothing.
        let opened = cohort_tests::reqwest::get(&accept).await.unwrap();
        assert!(!opened.status().is_server_error(), "{}", opened.status());
        for _ in 0..2 {
            let (status, shown) = answer(&app, PREVIEW, Auth::None, body.clone()).await;
            assert_eq!(status, StatusCode::OK, "{shown}");
            assert_eq!(shown["request"]["id"], request.as_str());
            assert_eq!(shown["request"]["status"], "open");
            assert_eq!(shown["request"]["mentee_name"], "Amara N");
            assert_eq!(shown["request"]["note"], "Research careers?");
            assert_eq!(shown["program_name"], "Mentoring");
            assert_eq!(shown["mentee_bio"], "First-year chemist.");
            assert_eq!(shown["mentee_attributes"], json!({"department": "Chemistry"}));
            assert_eq!(shown["score"], 50, "{shown}");
            assert_eq!(shown["reasons"][0]["key"], "department", "{shown}");
        }
        let (_, listed) = app.get(&requests, &admin).await;
        assert_eq!(listed["items"][0]["status"], "open");
        assert_eq!(app.get(&pairings, &admin).await.1["items"], json!([]));

        // Only the link's mentor: someone else logged in is refused; another organisation's login
        // learns nothing; an unknown token is a 404.
        let (status, problem) = answer(&app, ACCEPT, Auth::Bearer(&mentee_token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let admin_b = app.create_organization("Other Org", "boss@other.test").await;
        for path in [PREVIEW, ACCEPT, DECLINE] {
            let (status, problem) = answer(&app, path, Auth::Bearer(&admin_b), body.clone()).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
            let (status, _) = answer(&app, path, Auth::None, json!({"token": "lt_no-such-link"})).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (_, listed) = app.get(&requests, &admin).await;
        assert_eq!(listed["items"][0]["status"], "open", "refused answers change nothing");

        // The mentor confirms, logged out: the pairing exists and both are told.
        let (status, decided) = answer(&app, ACCEPT, Auth::None, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        assert_eq!(decided["request"]["status"], "approved");
        assert_eq!(decided["pairing"]["mentee_name"], "Amara N");
        assert_eq!(decided["pairing"]["mentor_name"], "Talia K");
        let (_, active) = app.get(&pairings, &admin).await;
        assert_eq!(active["items"].as_array().unwrap().len(), 1, "{active}");
        let mail = sink.wait_for(3).await;
        let assigned = mail
            .iter()
            .filter(|m| m.contains("Subject: You have been paired"))
            .count();
        assert_eq!(assigned, 2, "{mail:?}");
        let (_, events) = app.get("/api/v1/events?event_type=pairing.created", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 2, "{events}");
        let audit = app.all_pages("/api/v1/audit-log", &admin).await;
        let approved = audit
            .iter()
            .find(|e| e["action"] == "mentor_request.approved")
            .expect("the approval is audited");
        assert_eq!(approved["actor_person_id"], mentor.as_str(), "{approved}");

        // Single use: the link is spent, whichever answer it is asked for.
        for path in [PREVIEW, ACCEPT, DECLINE] {
            let (status, problem) = answer(&app, path, Auth::None, body.clone()).await;
            assert_eq!(status, StatusCode::GONE, "{path}: {problem}");
            assert!(
                problem["detail"].as_str().unwrap().contains("used already"),
                "{problem}"
            );
        }
    }
);

both_backends!(
    async fn declining_from_the_email_tells_the_mentee_and_spent_links_are_refused(backend: Backend) {
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, json!({"enabled": true})).await;
        let (_, amara_token) = member(&app, &admin, &program, "amara@demo.test", "Amara N", "mentee").await;
        let (_, ben_token) = member(&app, &admin, &program, "ben@demo.test", "Ben B", "mentee").await;
        let (mentor, mentor_token) = member(&app, &admin, &program, "talia@demo.test", "Talia K", "mentor").await;
        let requests = format!("/api/v1/programs/{program}/requests");
        let (status, _) = app.post(&requests, &amara_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED);
        let token = link_token(&answer_links(&sink.wait_for(1).await[0]).1);

        // Declining, logged in as the mentor: the message reaches the mentee.
        let long = json!({"token": token, "message": "x".repeat(2001)});
        let (status, problem) = answer(&app, DECLINE, Auth::Bearer(&mentor_token), long).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["message".to_owned()])
        );
        let body = json!({"token": token, "message": "I'm full this term; try Marcus!"});
        let (status, declined) = answer(&app, DECLINE, Auth::Bearer(&mentor_token), body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{declined}");
        assert_eq!(declined["status"], "declined");
        assert_eq!(declined["decline_message"], "I'm full this term; try Marcus!");
        let mail = sink.wait_for(2).await;
        let to_mentee = mail
            .iter()
            .find(|m| m.contains("To: amara@demo.test"))
            .expect("an email to the mentee");
        assert!(decoded(to_mentee).contains("try Marcus!"), "{to_mentee}");
        let (_, events) = app.get("/api/v1/events?event_type=request.declined", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 1);
        let (status, _) = answer(&app, ACCEPT, Auth::None, json!({"token": token})).await;
        assert_eq!(status, StatusCode::GONE, "the decline used the link up");

        // Ben asks; his link expires unused (time moves in the database).
        let (status, made) = app.post(&requests, &ben_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let ben_request = made["request"]["id"].as_str().unwrap().to_owned();
        let from_ben = |mail: &[String]| -> Vec<String> {
            mail.iter()
                .filter(|m| m.contains("Subject: Ben B would like you as their mentor"))
                .map(|m| link_token(&answer_links(m).0))
                .collect()
        };
        let first = from_ben(&sink.wait_for(3).await).pop().expect("Ben's request email");
        app.execute_sql("UPDATE link_tokens SET expires_at = '2000-01-01 00:00:00' WHERE used_at IS NULL");
        for path in [PREVIEW, ACCEPT] {
            let (status, problem) = answer(&app, path, Auth::None, json!({"token": first})).await;
            assert_eq!(status, StatusCode::GONE, "{path}: {problem}");
            assert!(problem["detail"].as_str().unwrap().contains("expired"), "{problem}");
        }
        let (_, listed) = app.get(&requests, &admin).await;
        let ben = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == ben_request.as_str())
            .cloned();
        assert_eq!(ben.unwrap()["status"], "open");

        // The reminder carries a link of its own.
        app.execute_sql("UPDATE jobs SET run_at = '2000-01-01 00:00:00' WHERE kind = 'request.remind'");
        let reminder = from_ben(&sink.wait_for(4).await)
            .into_iter()
            .find(|t| *t != first)
            .expect("the reminder's link");
        let (status, shown) = answer(&app, PREVIEW, Auth::None, json!({"token": reminder})).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!(shown["request"]["id"], ben_request.as_str());
        assert_eq!(shown["score"], Value::Null, "no auto-pair rules, no score");

        // Answered by other means: the mentor approves logged in; the link says so.
        let (status, _) = app
            .post(&format!("{requests}/{ben_request}/approve"), &mentor_token, json!(null))
            .await;
        assert_eq!(status, StatusCode::OK);
        for path in [PREVIEW, ACCEPT, DECLINE] {
            let (status, problem) = answer(&app, path, Auth::None, json!({"token": reminder})).await;
            assert_eq!(status, StatusCode::CONFLICT, "{path}: {problem}");
            assert!(
                problem["detail"].as_str().unwrap().contains("approved already"),
                "{problem}"
            );
        }
    }
);
