//! Programs and participants: status changes, adding one or many (all or nothing), removing, counts.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, TestApp};

async fn people(app: &TestApp, token: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (status, p) = app
            .post(
                "/api/v1/people",
                token,
                json!({"email": format!("person{i}@example.org"), "name": format!("Person {i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    ids
}

both_backends!(
    async fn programs_are_drafted_published_archived_and_never_redrafted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, program) = app
            .post(
                "/api/v1/programs",
                &admin,
                json!({"name": "2027 Spring Cohort", "time_zone": "America/Chicago"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{program}");
        assert_eq!(
            (program["status"].as_str(), program["time_zone"].as_str()),
            (Some("draft"), Some("America/Chicago"))
        );
        let path = format!("/api/v1/programs/{}", program["id"].as_str().unwrap());
        for (next, expected) in [
            ("published", StatusCode::OK),
            ("draft", StatusCode::UNPROCESSABLE_ENTITY),
            ("archived", StatusCode::OK),
            ("draft", StatusCode::UNPROCESSABLE_ENTITY),
            ("published", StatusCode::OK),
        ] {
            let (status, body) = app.patch(&path, &admin, json!({"status": next})).await;
            assert_eq!(status, expected, "→ {next}: {body}");
            if status != StatusCode::OK {
                assert_eq!(fields(&body), ["status"]);
            }
        }
        let (_, renamed) = app
            .patch(&path, &admin, json!({"name": "Spring", "description": "New"}))
            .await;
        assert_eq!(
            (renamed["name"].as_str(), renamed["status"].as_str()),
            (Some("Spring"), Some("published"))
        );
        let (status, problem) = app
            .post("/api/v1/programs", &admin, json!({"name": " ", "time_zone": "Nowhere"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["name", "time_zone"]);
        let published = app.all_pages("/api/v1/programs?status=published", &admin).await;
        assert_eq!(published.len(), 1);
        assert!(app.all_pages("/api/v1/programs?status=draft", &admin).await.is_empty());
    }
);

both_backends!(
    async fn participants_are_added_removed_and_counted(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let ids = people(&app, &admin, 3).await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "P"})).await;
        let base = format!("/api/v1/programs/{}", program["id"].as_str().unwrap());
        let participants = format!("{base}/participants");

        let (status, mentor) = app
            .post(&participants, &admin, json!({"person_id": ids[0], "role": "mentor"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{mentor}");
        assert_eq!(
            (mentor["role"].as_str(), mentor["status"].as_str()),
            (Some("mentor"), Some("active"))
        );
        assert_eq!(mentor["email"], "person0@example.org");
        let (status, _) = app
            .post(&participants, &admin, json!({"person_id": ids[0], "role": "mentor"}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "the same person and role twice");
        // One person may hold both roles.
        let (status, _) = app
            .post(&participants, &admin, json!({"person_id": ids[0], "role": "mentee"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, added) = app
            .post(
                &format!("{participants}/bulk"),
                &admin,
                json!({"participants": [{"person_id": ids[1], "role": "mentee"}, {"person_id": ids[2], "role": "mentee"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        assert_eq!(added["added"].as_array().unwrap().len(), 2);

        let (_, p) = app.get(&base, &admin).await;
        assert_eq!(
            (p["mentor_count"].as_i64(), p["mentee_count"].as_i64()),
            (Some(1), Some(3))
        );
        let mentees = app
            .all_pages(&format!("{participants}?role=mentee&limit=2"), &admin)
            .await;
        assert_eq!(mentees.len(), 3);
        let found = app.all_pages(&format!("{participants}?q=PERSON%202"), &admin).await;
        assert_eq!(found.len(), 1);

        // Removing keeps the membership as `removed`; adding again re-activates it with a new joined_at.
        let first = mentees.iter().find(|m| m["person_id"] == ids[1].as_str()).unwrap();
        let removed_path = format!("{participants}/{}", first["id"].as_str().unwrap());
        assert_eq!(app.delete(&removed_path, &admin).await.0, StatusCode::NO_CONTENT);
        let removed = app.all_pages(&format!("{participants}?status=removed"), &admin).await;
        assert_eq!(removed.len(), 1);
        assert!(removed[0]["removed_at"].is_string());
        let (_, p) = app.get(&base, &admin).await;
        assert_eq!(p["mentee_count"], 2);
        let (status, again) = app
            .post(&participants, &admin, json!({"person_id": ids[1], "role": "mentee"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(again["id"], first["id"]);
        assert!(
            again["joined_at"].as_str() > first["joined_at"].as_str(),
            "{again} vs {first}"
        );
        assert!(again["removed_at"].is_null());
        assert_eq!(
            app.delete(&format!("{participants}/{}", uuid_like()), &admin).await.0,
            StatusCode::NOT_FOUND
        );
    }
);

fn uuid_like() -> &'static str {
    "01930000-0000-7000-8000-000000000000"
}

both_backends!(
    async fn bulk_adds_all_or_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let ids = people(&app, &admin, 2).await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "P"})).await;
        let participants = format!("/api/v1/programs/{}/participants", program["id"].as_str().unwrap());
        let (status, problem) = app
            .post(
                &format!("{participants}/bulk"),
                &admin,
                json!({"participants": [
                    {"person_id": ids[0], "role": "mentee"},
                    {"person_id": uuid_like(), "role": "mentee"},
                    {"person_id": ids[1], "role": "mentor"},
                    {"person_id": ids[1], "role": "mentor"}
                ]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["participants[1].person_id", "participants[3]"]);
        assert!(
            app.all_pages(&participants, &admin).await.is_empty(),
            "nothing was added"
        );

        let too_many: Vec<Value> = (0..1001)
            .map(|_| json!({"person_id": ids[0], "role": "mentee"}))
            .collect();
        let (status, problem) = app
            .post(
                &format!("{participants}/bulk"),
                &admin,
                json!({"participants": too_many}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["participants"]);

        // People already taking part are left alone.
        let body = json!({"participants": [{"person_id": ids[0], "role": "mentee"}]});
        assert_eq!(
            app.post(&format!("{participants}/bulk"), &admin, body.clone()).await.0,
            StatusCode::CREATED
        );
        let (_, again) = app.post(&format!("{participants}/bulk"), &admin, body).await;
        assert_eq!(again["added"], json!([]));
        assert_eq!(app.all_pages(&participants, &admin).await.len(), 1);
    }
);

both_backends!(
    async fn archived_programs_take_no_new_participants(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let ids = people(&app, &admin, 1).await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "P"})).await;
        let base = format!("/api/v1/programs/{}", program["id"].as_str().unwrap());
        app.patch(&base, &admin, json!({"status": "archived"})).await;
        let (status, _) = app
            .post(
                &format!("{base}/participants"),
                &admin,
                json!({"person_id": ids[0], "role": "mentee"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
);

both_backends!(
    async fn every_allowed_status_change_and_every_refused_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, program) = app
            .post("/api/v1/programs", &admin, json!({"name": "Straight to the archive"}))
            .await;
        let path = format!("/api/v1/programs/{}", program["id"].as_str().unwrap());
        for (next, expected) in [
            ("archived", StatusCode::OK),
            ("draft", StatusCode::UNPROCESSABLE_ENTITY),
            ("published", StatusCode::OK),
            ("archived", StatusCode::OK),
        ] {
            let (status, body) = app.patch(&path, &admin, json!({"status": next})).await;
            assert_eq!(status, expected, "→ {next}: {body}");
            if status == StatusCode::OK {
                assert_eq!(body["status"], next);
            } else {
                assert_eq!(fields(&body), ["status"]);
            }
        }
        // A refused change writes nothing, not even the other fields of the same request.
        let (status, _) = app
            .patch(&path, &admin, json!({"name": "Renamed", "status": "draft"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, now) = app.get(&path, &admin).await;
        assert_eq!(
            (now["name"].as_str(), now["status"].as_str()),
            (Some("Straight to the archive"), Some("archived"))
        );
        let (status, problem) = app.patch(&path, &admin, json!({"status": "finished"})).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "an unknown status: {status} {problem}"
        );
    }
);

both_backends!(
    async fn unknown_programs_and_participants_are_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let ids = people(&app, &admin, 1).await;
        let unknown = format!("/api/v1/programs/{}", uuid_like());
        let one = json!({"person_id": ids[0], "role": "mentee"});
        assert_eq!(app.get(&unknown, &admin).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.patch(&unknown, &admin, json!({"name": "X"})).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&format!("{unknown}/participants"), &admin).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post(&format!("{unknown}/participants"), &admin, one.clone())
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post(
                &format!("{unknown}/participants/bulk"),
                &admin,
                json!({"participants": [one]})
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.delete(&format!("{unknown}/participants/{}", uuid_like()), &admin)
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // A participant of one program is not reachable through another.
        let (_, a) = app.post("/api/v1/programs", &admin, json!({"name": "A"})).await;
        let (_, b) = app.post("/api/v1/programs", &admin, json!({"name": "B"})).await;
        let a = format!("/api/v1/programs/{}", a["id"].as_str().unwrap());
        let b = format!("/api/v1/programs/{}", b["id"].as_str().unwrap());
        let (_, participant) = app
            .post(
                &format!("{a}/participants"),
                &admin,
                json!({"person_id": ids[0], "role": "mentee"}),
            )
            .await;
        let participant = participant["id"].as_str().unwrap();
        assert_eq!(
            app.delete(&format!("{b}/participants/{participant}"), &admin).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.all_pages(&format!("{a}/participants"), &admin).await.len(), 1);

        // An unknown person is an invalid reference, and nothing is written.
        let (status, problem) = app
            .post(
                &format!("{b}/participants"),
                &admin,
                json!({"person_id": uuid_like(), "role": "mentor"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["person_id"]);
        assert!(app.all_pages(&format!("{b}/participants"), &admin).await.is_empty());
    }
);

both_backends!(
    async fn pages_of_programs_and_participants_hold_each_once_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let mut names = Vec::new();
        for i in 0..5 {
            let name = format!("Program {i}");
            let (status, _) = app.post("/api/v1/programs", &admin, json!({"name": name})).await;
            assert_eq!(status, StatusCode::CREATED);
            names.push(name);
        }
        let programs = app.all_pages("/api/v1/programs?limit=2", &admin).await;
        let got: Vec<&str> = programs.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(got, names);

        let program = programs[0]["id"].as_str().unwrap();
        let participants = format!("/api/v1/programs/{program}/participants");
        let ids = people(&app, &admin, 5).await;
        for (i, id) in ids.iter().enumerate() {
            let role = if i % 2 == 0 { "mentee" } else { "mentor" };
            let (status, _) = app
                .post(&participants, &admin, json!({"person_id": id, "role": role}))
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let walked = app.all_pages(&format!("{participants}?limit=2"), &admin).await;
        let got: Vec<&str> = walked.iter().map(|p| p["person_id"].as_str().unwrap()).collect();
        assert_eq!(got, ids);
        let mentors = app
            .all_pages(&format!("{participants}?role=mentor&limit=1"), &admin)
            .await;
        let got: Vec<&str> = mentors.iter().map(|p| p["person_id"].as_str().unwrap()).collect();
        assert_eq!(got, [ids[1].as_str(), ids[3].as_str()]);
        let (_, listed) = app.get("/api/v1/programs?limit=1", &admin).await;
        assert_eq!(
            (
                listed["items"][0]["mentor_count"].as_i64(),
                listed["items"][0]["mentee_count"].as_i64()
            ),
            (Some(2), Some(3)),
            "counts in the list too: {listed}"
        );
    }
);

both_backends!(
    async fn a_removed_participant_leaves_the_list_and_their_memberships(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (person, token) = app.person_with_login(&admin, "mentor@example.org", false).await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Autumn"})).await;
        let program_id = program["id"].as_str().unwrap();
        let participants = format!("/api/v1/programs/{program_id}/participants");
        let (_, participant) = app
            .post(&participants, &admin, json!({"person_id": person, "role": "mentor"}))
            .await;
        let (_, me) = app.get("/api/v1/me", &token).await;
        assert_eq!(me["memberships"].as_array().unwrap().len(), 1, "{me}");
        assert_eq!(me["memberships"][0]["program_name"], "Autumn");
        assert_eq!(me["memberships"][0]["role"], "mentor");

        let path = format!("{participants}/{}", participant["id"].as_str().unwrap());
        assert_eq!(app.delete(&path, &admin).await.0, StatusCode::NO_CONTENT);
        assert!(app.all_pages(&participants, &admin).await.is_empty());
        assert!(app
            .all_pages(&format!("{participants}?status=active"), &admin)
            .await
            .is_empty());
        let (_, me) = app.get("/api/v1/me", &token).await;
        assert_eq!(
            me["memberships"],
            json!([]),
            "a removed participant is no longer a member"
        );
        let (_, p) = app.get(&format!("/api/v1/programs/{program_id}"), &admin).await;
        assert_eq!(p["mentor_count"], 0);
        // Removing twice: the participant is already gone from the active list.
        let (status, _) = app.delete(&path, &admin).await;
        assert!(
            status == StatusCode::NO_CONTENT || status == StatusCode::NOT_FOUND,
            "second removal: {status}"
        );
    }
);
