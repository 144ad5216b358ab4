//! Program steps: who gets which step, and when (PRODUCT.md section 1). Each delivery rule runs
//! on both backends against the real binary; the job queue delivers.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, TestApp};

struct Program {
    id: String,
}

async fn program(app: &TestApp, admin: &str, time_zone: &str) -> Program {
    let (status, body) = app
        .post(
            "/api/v1/programs",
            admin,
            json!({"name": "Spring", "time_zone": time_zone}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Program {
        id: body["id"].as_str().unwrap().to_owned(),
    }
}

/// A person with a login who joins `program` in `role`; returns (participant id, token).
async fn join(app: &TestApp, admin: &str, program: &Program, email: &str, role: &str) -> (String, String) {
    let (person, token) = app.person_with_login(admin, email, false).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/programs/{}/participants", program.id),
            admin,
            json!({"person_id": person, "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (body["id"].as_str().unwrap().to_owned(), token)
}

async fn create(app: &TestApp, admin: &str, program: &Program, step: Value) -> Value {
    let (status, body) = app
        .post(&format!("/api/v1/programs/{}/steps", program.id), admin, step)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn instant(title: &str, viewer: &str) -> Value {
    json!({"title": title, "viewer_type": viewer, "action_type": "go_to_learning", "publish_type": "instant"})
}

fn triggered(title: &str, trigger: &str, delay: Value, include_existing: bool) -> Value {
    json!({"title": title, "viewer_type": "all", "action_type": "set_goal", "publish_type": "triggered",
           "trigger": trigger, "delay": delay, "include_existing": include_existing})
}

async fn my_titles(app: &TestApp, token: &str) -> Vec<String> {
    let items = app.all_pages("/api/v1/me/steps?limit=2", token).await;
    items.iter().map(|s| s["title"].as_str().unwrap().to_owned()).collect()
}

/// Waits until the person's feed holds `title` (the queue delivers within a second or so).
async fn wait_for_step(app: &TestApp, token: &str, title: &str) -> Vec<String> {
    for _ in 0..100 {
        let titles = my_titles(app, token).await;
        if titles.iter().any(|t| t == title) {
            return titles;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("\"{title}\" never arrived; feed: {:?}", my_titles(app, token).await);
}

async fn fire(app: &TestApp, admin: &str, program: &Program, participant: &str, body: Value) -> Value {
    let (status, fired) = app
        .post(
            &format!("/api/v1/programs/{}/participants/{participant}/triggers", program.id),
            admin,
            body,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{fired}");
    fired
}

both_backends!(
    async fn step_fields_are_validated_in_the_programs_time_zone(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "America/New_York").await;
        let path = format!("/api/v1/programs/{}/steps", p.id);
        let scheduled = |local: &str| {
            json!({"title": "Meet", "viewer_type": "all", "action_type": "schedule_meeting",
                   "publish_type": "scheduled", "scheduled_for": local})
        };
        // 02:30 on 14 March 2027 does not exist in New York: the clocks jump from 02:00 to 03:00.
        let (status, problem) = app.post(&path, &admin, scheduled("2027-03-14T02:30:00")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["scheduled_for"]);
        assert!(
            problem.to_string().contains("does not exist in America/New_York"),
            "{problem}"
        );
        // 01:30 on 7 November 2027 happens twice: the first (EDT, UTC-4) is meant.
        let step = create(&app, &admin, &p, scheduled("2027-11-07T01:30:00")).await;
        assert_eq!(step["publish_at"], "2027-11-07T05:30:00Z");
        assert_eq!(step["time_zone"], "America/New_York");

        let cases = [
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "set_goal", "publish_type": "scheduled"}),
                "scheduled_for",
            ),
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "set_goal", "publish_type": "triggered"}),
                "trigger",
            ),
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "open_link", "publish_type": "instant"}),
                "link_url",
            ),
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "open_link", "publish_type": "instant",
                    "link_url": "javascript:alert(1)"}),
                "link_url",
            ),
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "set_goal", "publish_type": "instant",
                    "link_url": "https://example.org"}),
                "link_url",
            ),
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "set_goal", "publish_type": "instant",
                    "trigger": "first_match"}),
                "trigger",
            ),
            (
                json!({"title": " ", "viewer_type": "all", "action_type": "set_goal", "publish_type": "instant"}),
                "title",
            ),
            (scheduled("2020-01-01T09:00:00"), "scheduled_for"),
            (
                triggered("x", "first_match", json!({"amount": 400, "unit": "days"}), false),
                "delay.amount",
            ),
            (
                json!({"title": "x", "viewer_type": "all", "action_type": "set_goal", "publish_type": "instant",
                    "colour": "red"}),
                "colour",
            ),
            (
                json!({"title": "x", "viewer_type": "everyone", "action_type": "set_goal", "publish_type": "instant"}),
                "viewer_type",
            ),
        ];
        for (body, field) in cases {
            let (status, problem) = app.post(&path, &admin, body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(fields(&problem).iter().any(|f| f == field), "{body} → {problem}");
        }
        let (_, list) = app.get(&path, &admin).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "nothing invalid was stored");

        let link = create(
            &app,
            &admin,
            &p,
            json!({"title": "Read the guide", "viewer_type": "mentee", "action_type": "open_link",
                   "link_url": "https://guide.example.org/start", "publish_type": "instant", "due_date": "2027-01-31"}),
        )
        .await;
        assert_eq!(link["link_url"], "https://guide.example.org/start");
        assert_eq!(link["due_date"], "2027-01-31");
    }
);

both_backends!(
    async fn instant_steps_reach_current_participants_of_the_viewer_type_and_later_joiners(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "Europe/London").await;
        let (_, mentee) = join(&app, &admin, &p, "mentee@demo.test", "mentee").await;
        let (_, mentor) = join(&app, &admin, &p, "mentor@demo.test", "mentor").await;
        create(&app, &admin, &p, instant("Complete your profile", "mentee")).await;
        create(&app, &admin, &p, instant("Welcome, everyone", "all")).await;

        wait_for_step(&app, &mentee, "Welcome, everyone").await;
        assert_eq!(
            my_titles(&app, &mentee).await,
            ["Complete your profile", "Welcome, everyone"]
        );
        wait_for_step(&app, &mentor, "Welcome, everyone").await;
        assert_eq!(
            my_titles(&app, &mentor).await,
            ["Welcome, everyone"],
            "mentee steps skip mentors"
        );

        // Someone who joins later gets the instant steps at once.
        let (_, late) = join(&app, &admin, &p, "late@demo.test", "mentee").await;
        assert_eq!(
            my_titles(&app, &late).await,
            ["Complete your profile", "Welcome, everyone"]
        );

        // Each delivery is a notification (what a phone shows as push).
        let (_, feed) = app.get("/api/v1/notifications", &late).await;
        let titles: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles.len(), 2);
        assert!(titles.contains(&"Complete your profile") && titles.contains(&"Welcome, everyone"));
        assert_eq!(feed["items"][0]["kind"], "step");

        let (_, steps) = app.get(&format!("/api/v1/programs/{}/steps", p.id), &admin).await;
        let counts: Vec<i64> = steps["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["counts"]["delivered"].as_i64().unwrap())
            .collect();
        assert_eq!(counts, [2, 3]);
    }
);

both_backends!(
    async fn scheduled_steps_reach_only_those_who_were_there_at_publish_time(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "UTC").await;
        let (_, early) = join(&app, &admin, &p, "early@demo.test", "mentee").await;
        let at = Utc::now() + chrono::Duration::seconds(2);
        let local = at.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
        let step = create(
            &app,
            &admin,
            &p,
            json!({"title": "Kick-off survey", "viewer_type": "all", "action_type": "take_survey",
                   "publish_type": "scheduled", "scheduled_for": local}),
        )
        .await;
        wait_for_step(&app, &early, "Kick-off survey").await;
        let publish_at = chrono::DateTime::parse_from_rfc3339(step["publish_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            publish_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            local,
            "UTC program: local is UTC"
        );
        let (_, feed) = app.get("/api/v1/me/steps", &early).await;
        let delivered =
            chrono::DateTime::parse_from_rfc3339(feed["items"][0]["delivered_at"].as_str().unwrap()).unwrap();
        assert!(
            delivered >= publish_at,
            "published at its time, not before: {delivered} < {publish_at}"
        );

        // Joining after the publish time: never this step, but instant steps and future scheduled ones.
        let (_, late) = join(&app, &admin, &p, "late@demo.test", "mentor").await;
        create(&app, &admin, &p, instant("Say hello", "all")).await;
        let next = Utc::now() + chrono::Duration::seconds(2);
        create(
            &app,
            &admin,
            &p,
            json!({"title": "Mid-term check-in", "viewer_type": "all", "action_type": "send_message",
                   "publish_type": "scheduled", "scheduled_for": next.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()}),
        )
        .await;
        wait_for_step(&app, &late, "Mid-term check-in").await;
        assert_eq!(my_titles(&app, &late).await, ["Say hello", "Mid-term check-in"]);
        assert_eq!(
            my_titles(&app, &early).await,
            ["Kick-off survey", "Say hello", "Mid-term check-in"]
        );
        let (_, read) = app
            .get(
                &format!("/api/v1/programs/{}/steps/{}", p.id, step["id"].as_str().unwrap()),
                &admin,
            )
            .await;
        assert_eq!(read["counts"]["delivered"], 1);
    }
);

both_backends!(
    async fn triggered_steps_reach_only_participants_who_joined_after_the_step(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "UTC").await;
        let (existing, existing_token) = join(&app, &admin, &p, "existing@demo.test", "mentee").await;
        let step = create(
            &app,
            &admin,
            &p,
            triggered("Plan your first meeting", "first_match", json!(null), false),
        )
        .await;
        assert_eq!(step["delay"], json!({"amount": 0, "unit": "minutes"}));
        assert_eq!(step["include_existing"], false);
        let (newcomer, newcomer_token) = join(&app, &admin, &p, "new@demo.test", "mentee").await;

        let fired = fire(&app, &admin, &p, &existing, json!({"trigger": "first_match"})).await;
        assert_eq!(fired["scheduled"], json!([]), "existing participants never receive it");
        let fired = fire(
            &app,
            &admin,
            &p,
            &newcomer,
            json!({"trigger": "first_session_completed"}),
        )
        .await;
        assert_eq!(fired["scheduled"], json!([]), "another trigger");
        let fired = fire(&app, &admin, &p, &newcomer, json!({"trigger": "first_match"})).await;
        assert_eq!(fired["scheduled"][0]["step_id"], step["id"]);
        wait_for_step(&app, &newcomer_token, "Plan your first meeting").await;

        // Fired again, or many times at once: still one delivery.
        let path = format!("/api/v1/programs/{}/participants/{newcomer}/triggers", p.id);
        let statuses = app
            .post_concurrently(8, &path, &admin, json!({"trigger": "first_match"}))
            .await;
        assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED), "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(my_titles(&app, &newcomer_token).await, ["Plan your first meeting"]);
        let (_, notes) = app.get("/api/v1/notifications", &newcomer_token).await;
        assert_eq!(notes["items"].as_array().unwrap().len(), 1);
        assert!(my_titles(&app, &existing_token).await.is_empty());

        // The explicit option reaches people who were there before the step existed.
        let reach_all = create(
            &app,
            &admin,
            &p,
            triggered("Share your goals", "first_match", json!(null), true),
        )
        .await;
        let fired = fire(&app, &admin, &p, &existing, json!({"trigger": "first_match"})).await;
        assert_eq!(fired["scheduled"][0]["step_id"], reach_all["id"]);
        wait_for_step(&app, &existing_token, "Share your goals").await;
    }
);

both_backends!(
    async fn triggered_steps_wait_their_delay_and_joining_is_a_trigger(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "Australia/Sydney").await;
        create(
            &app,
            &admin,
            &p,
            triggered(
                "Book a session",
                "first_session_completed",
                json!({"amount": 1, "unit": "hours"}),
                false,
            ),
        )
        .await;
        create(
            &app,
            &admin,
            &p,
            triggered(
                "Meet your cohort",
                "joined_program",
                json!({"amount": 0, "unit": "minutes"}),
                false,
            ),
        )
        .await;
        let (a, a_token) = join(&app, &admin, &p, "a@demo.test", "mentor").await;
        let (b, b_token) = join(&app, &admin, &p, "b@demo.test", "mentee").await;
        wait_for_step(&app, &a_token, "Meet your cohort").await;
        wait_for_step(&app, &b_token, "Meet your cohort").await;

        // One hour after the session: due in a minute for a, already due for b.
        let stamp =
            |minutes: i64| (Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let (a_at, b_at) = (stamp(59), stamp(61));
        let fired_a = fire(
            &app,
            &admin,
            &p,
            &a,
            json!({"trigger": "first_session_completed", "occurred_at": a_at}),
        )
        .await;
        let due = chrono::DateTime::parse_from_rfc3339(fired_a["scheduled"][0]["due_at"].as_str().unwrap()).unwrap();
        let occurred = chrono::DateTime::parse_from_rfc3339(&a_at).unwrap();
        assert_eq!(due - occurred, chrono::Duration::hours(1));
        fire(
            &app,
            &admin,
            &p,
            &b,
            json!({"trigger": "first_session_completed", "occurred_at": b_at}),
        )
        .await;
        wait_for_step(&app, &b_token, "Book a session").await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            my_titles(&app, &a_token).await,
            ["Meet your cohort"],
            "not before its delay"
        );

        let future = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let (status, problem) = app
            .post(
                &format!("/api/v1/programs/{}/participants/{a}/triggers", p.id),
                &admin,
                json!({"trigger": "first_match", "occurred_at": future}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["occurred_at"]);
    }
);

both_backends!(
    async fn editing_changes_what_participants_see_and_deleting_removes_it(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "UTC").await;
        let (_, token) = join(&app, &admin, &p, "m@demo.test", "mentee").await;
        let step = create(&app, &admin, &p, instant("Set a goal", "all")).await;
        let id = step["id"].as_str().unwrap();
        let path = format!("/api/v1/programs/{}/steps/{id}", p.id);
        wait_for_step(&app, &token, "Set a goal").await;

        // Open, then complete: the feed and the counts follow.
        let (status, opened) = app
            .post(&format!("/api/v1/me/steps/{id}/open"), &token, json!(null))
            .await;
        assert_eq!((status, opened["state"].as_str()), (StatusCode::OK, Some("opened")));
        let (_, done) = app
            .post(&format!("/api/v1/me/steps/{id}/complete"), &token, json!(null))
            .await;
        assert_eq!(done["state"], "completed");
        assert_eq!(done["opened_at"], opened["opened_at"], "the first opening counts");
        let (_, again) = app
            .post(&format!("/api/v1/me/steps/{id}/complete"), &token, json!(null))
            .await;
        assert_eq!(
            again["completed_at"], done["completed_at"],
            "completing twice changes nothing"
        );
        let (_, events) = app.get("/api/v1/events", &admin).await;
        let types: Vec<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["participant.joined", "step.completed"],
            "joining and completing, each once"
        );
        assert_eq!(events["items"][1]["payload"]["step_id"], step["id"]);
        let (status, problem) = app.get("/api/v1/events?event_type=step.exploded", &admin).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["event_type"]);

        // An edit that moves the due date into the past marks open deliveries as missed; this one is done.
        let mut edited = instant("Set two goals", "all");
        edited["due_date"] = json!("2020-01-01");
        let (status, body) = app.put(&path, &admin, edited).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["counts"],
            json!({"delivered": 1, "opened": 1, "completed": 1, "missed": 0})
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            my_titles(&app, &token).await,
            ["Set two goals"],
            "edited, not delivered again"
        );
        let (_, notes) = app.get("/api/v1/notifications", &token).await;
        assert_eq!(notes["items"].as_array().unwrap().len(), 1);

        let (status, _) = app.delete(&path, &admin).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(my_titles(&app, &token).await.is_empty(), "gone from the feed");
        let (_, notes) = app.get("/api/v1/notifications", &token).await;
        assert_eq!(notes["items"], json!([]), "and from the notifications");
        assert_eq!(app.get(&path, &admin).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.post(&format!("/api/v1/me/steps/{id}/open"), &token, json!(null))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
);

both_backends!(
    async fn a_passed_due_date_counts_as_missed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "UTC").await;
        let (_, token) = join(&app, &admin, &p, "m@demo.test", "mentee").await;
        let step = create(&app, &admin, &p, instant("Take the survey", "mentee")).await;
        wait_for_step(&app, &token, "Take the survey").await;
        let mut edited = instant("Take the survey", "mentee");
        edited["due_date"] = json!("2020-01-01");
        let path = format!("/api/v1/programs/{}/steps/{}", p.id, step["id"].as_str().unwrap());
        let (status, _) = app.put(&path, &admin, edited).await;
        assert_eq!(status, StatusCode::OK);
        for _ in 0..50 {
            let (_, page) = app.get("/api/v1/me/steps", &token).await;
            if page["items"][0]["missed"] == true {
                let (_, read) = app.get(&path, &admin).await;
                assert_eq!(read["counts"]["missed"], 1);
                // Stored as an event for automations, once.
                let (_, events) = app.get("/api/v1/events?event_type=step.missed", &admin).await;
                let items = events["items"].as_array().unwrap();
                assert_eq!(items.len(), 1, "{events}");
                assert_eq!(items[0]["payload"]["step_id"], step["id"]);
                assert_eq!(items[0]["payload"]["due_date"], "2020-01-01");
                assert_eq!(items[0]["program_id"].as_str(), Some(p.id.as_str()));
                // Someone who joins after the due date gets the step as missed already.
                let (_, late) = join(&app, &admin, &p, "late@demo.test", "mentee").await;
                let (_, page) = app.get("/api/v1/me/steps", &late).await;
                assert_eq!(
                    (page["items"][0]["title"].as_str(), &page["items"][0]["missed"]),
                    (Some("Take the survey"), &json!(true))
                );
                let (_, events) = app.get("/api/v1/events?event_type=step.missed", &admin).await;
                assert_eq!(events["items"].as_array().unwrap().len(), 2);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the step was never marked missed");
    }
);

both_backends!(
    async fn a_step_reaches_each_person_once_when_publication_and_joining_race(backend: Backend) {
        // On PostgreSQL two processes serve the requests and both run workers.
        let app = TestApp::spawn(backend).await;
        let peer = match backend {
            cohort_tests::Backend::Postgres => Some(app.sibling().await),
            cohort_tests::Backend::Sqlite => None,
        };
        let other = peer.as_ref().unwrap_or(&app);
        let admin = app.admin_token().await;
        let p = program(&app, &admin, "UTC").await;
        let mut people = Vec::new();
        for i in 0..60 {
            let (status, person) = app
                .post(
                    "/api/v1/people",
                    &admin,
                    json!({"email": format!("p{i}@demo.test"), "name": format!("P {i}")}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
            people.push(json!({"person_id": person["id"], "role": if i % 2 == 0 { "mentee" } else { "mentor" }}));
        }
        let bulk = format!("/api/v1/programs/{}/participants/bulk", p.id);
        let steps = format!("/api/v1/programs/{}/steps", p.id);
        // The step is submitted while people join: its publication and their joining both deliver it.
        let (created, a, b, c) = tokio::join!(
            app.post(&steps, &admin, instant("Welcome", "all")),
            other.post(&bulk, &admin, json!({"participants": people[..20]})),
            app.post(&bulk, &admin, json!({"participants": people[20..40]})),
            other.post(&bulk, &admin, json!({"participants": people[40..]})),
        );
        assert_eq!(created.0, StatusCode::CREATED);
        assert!([a.0, b.0, c.0].iter().all(|s| *s == StatusCode::CREATED));
        let step = format!("{steps}/{}", created.1["id"].as_str().unwrap());
        let mut delivered = 0;
        for _ in 0..100 {
            delivered = app.get(&step, &admin).await.1["counts"]["delivered"].as_i64().unwrap();
            if delivered == 60 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(delivered, 60, "everyone got it");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(app.get(&step, &admin).await.1["counts"]["delivered"], 60);
        let log = app.all_pages("/api/v1/notification-log?limit=200", &admin).await;
        let mut notified: Vec<&str> = log
            .iter()
            .filter(|n| n["notification"]["kind"] == "step")
            .map(|n| n["person_id"].as_str().unwrap())
            .collect();
        assert_eq!(notified.len(), 60, "one notification each");
        notified.sort();
        notified.dedup();
        assert_eq!(notified.len(), 60);
    }
);
