//! The participant's own views and actions: their programs, pairings, bookable services and
//! bookings, withdrawing a request, and editing their profile.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, TestApp};

async fn program(app: &TestApp, admin: &str, name: &str, settings: Value) -> String {
    let (_, p) = app
        .post("/api/v1/programs", admin, json!({"name": name, "time_zone": "UTC"}))
        .await;
    let id = p["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .patch(&format!("/api/v1/programs/{id}/pairing"), admin, settings)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

async fn join(app: &TestApp, admin: &str, program: &str, person: &str, role: &str) -> String {
    let (status, body) = app
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            admin,
            json!({"person_id": person, "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A person with a login and a name; returns (person id, token).
async fn person(app: &TestApp, admin: &str, email: &str, name: &str) -> (String, String) {
    let (id, token) = app.person_with_login(admin, email, false).await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/people/{id}"),
            admin,
            json!({"name": name, "bio": format!("{name}'s bio")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, token)
}

fn ids(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

both_backends!(
    async fn my_programs_list_each_role_and_membership_status(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (me, token) = person(&app, &admin, "amara@demo.test", "Amara N").await;
        let (other, _) = person(&app, &admin, "talia@demo.test", "Talia K").await;
        let spring = program(&app, &admin, "Spring", json!({"enabled": true})).await;
        let autumn = program(&app, &admin, "Autumn", json!({"enabled": true})).await;
        let elsewhere = program(&app, &admin, "Elsewhere", json!({"enabled": true})).await;
        let mentee_in_spring = join(&app, &admin, &spring, &me, "mentee").await;
        let mentor_in_spring = join(&app, &admin, &spring, &me, "mentor").await;
        let mentee_in_autumn = join(&app, &admin, &autumn, &me, "mentee").await;
        join(&app, &admin, &elsewhere, &other, "mentor").await;
        let (status, _) = app
            .delete(
                &format!("/api/v1/programs/{autumn}/participants/{mentee_in_autumn}"),
                &admin,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        let (status, page) = app.get("/api/v1/me/programs?limit=2", &token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            ids(&page, "participant_id"),
            [mentee_in_spring.clone(), mentor_in_spring.clone()]
        );
        assert_eq!(page["items"][0]["program_name"], "Spring");
        assert_eq!(page["items"][0]["role"], "mentee");
        assert_eq!(page["items"][1]["role"], "mentor");
        assert_eq!(page["items"][0]["status"], "active");
        assert_eq!(page["items"][0]["program_status"], "draft");
        assert_eq!(page["items"][0]["time_zone"], "UTC");
        let items = app.all_pages("/api/v1/me/programs?limit=2", &token).await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[2]["program_id"], autumn.as_str());
        assert_eq!(items[2]["status"], "removed");
        assert!(items[2]["removed_at"].is_string());
        // Nobody else's memberships; bad paging is a 400.
        assert!(items.iter().all(|i| i["program_id"] != elsewhere.as_str()));
        assert_eq!(
            app.get("/api/v1/me/programs?role=mentor", &token).await.0,
            StatusCode::BAD_REQUEST
        );
        // An admin who takes part in nothing has no programs of their own.
        let (_, page) = app.get("/api/v1/me/programs", &admin).await;
        assert_eq!(page["items"], json!([]));
    }
);

both_backends!(
    async fn my_pairings_show_the_other_person_and_the_conversation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (mentee, mentee_token) = person(&app, &admin, "amara@demo.test", "Amara N").await;
        let (mentee2, mentee2_token) = person(&app, &admin, "sam@demo.test", "Sam L").await;
        let (mentor, mentor_token) = person(&app, &admin, "talia@demo.test", "Talia K").await;
        let (_, outsider_token) = person(&app, &admin, "out@demo.test", "Out Sider").await;
        let program = program(&app, &admin, "Spring", json!({"enabled": true, "process": "user_led"})).await;
        for (who, role) in [(&mentee, "mentee"), (&mentee2, "mentee"), (&mentor, "mentor")] {
            join(&app, &admin, &program, who, role).await;
        }
        let requests = format!("/api/v1/programs/{program}/requests");
        for token in [&mentee_token, &mentee2_token] {
            let (status, made) = app.post(&requests, token, json!({"mentor_id": mentor})).await;
            assert_eq!(status, StatusCode::CREATED, "{made}");
        }

        let (status, mine) = app.get("/api/v1/me/pairings", &mentee_token).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        let items = mine["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{mine}");
        assert_eq!(items[0]["my_role"], "mentee");
        assert_eq!(items[0]["program_name"], "Spring");
        assert_eq!(
            items[0]["partner"],
            json!({"id": mentor, "name": "Talia K", "bio": "Talia K's bio", "role": "mentor"})
        );
        // The conversation is the pair's: the mentee writes in it.
        let conversation = items[0]["conversation_id"].as_str().expect("a conversation").to_owned();
        let (status, _) = app
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                &mentee_token,
                json!({"body": "Hello!"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);

        // The mentor sees both mentees, each with their own conversation.
        let items = app.all_pages("/api/v1/me/pairings?limit=1", &mentor_token).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items
            .iter()
            .all(|i| i["my_role"] == "mentor" && i["partner"]["role"] == "mentee"));
        let partners: Vec<&str> = items.iter().map(|i| i["partner"]["id"].as_str().unwrap()).collect();
        assert_eq!(partners, [mentee.as_str(), mentee2.as_str()]);
        assert_eq!(items[0]["conversation_id"], conversation.as_str());
        assert_ne!(items[1]["conversation_id"], items[0]["conversation_id"]);
        assert!(items[1]["conversation_id"].is_string());

        // An ended pairing is no longer listed; someone unpaired has none.
        let pairing = items[1]["pairing_id"].as_str().unwrap();
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/pairings/{pairing}/end"),
                &admin,
                json!({"reason": "Moved away"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.all_pages("/api/v1/me/pairings", &mentor_token).await.len(), 1);
        assert_eq!(
            app.get("/api/v1/me/pairings", &mentee2_token).await.1["items"],
            json!([])
        );
        assert_eq!(
            app.get("/api/v1/me/pairings", &outsider_token).await.1["items"],
            json!([])
        );
    }
);

both_backends!(
    async fn a_mentee_withdraws_their_open_request(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (mentee, mentee_token) = person(&app, &admin, "amara@demo.test", "Amara N").await;
        let (_, other_token) = person(&app, &admin, "sam@demo.test", "Sam L").await;
        let (mentor, mentor_token) = person(&app, &admin, "talia@demo.test", "Talia K").await;
        let (mentor2, _) = person(&app, &admin, "marcus@demo.test", "Marcus B").await;
        let program = program(&app, &admin, "Spring", json!({"enabled": true, "mentor_capacity": 1})).await;
        for (who, role) in [(&mentee, "mentee"), (&mentor, "mentor"), (&mentor2, "mentor")] {
            join(&app, &admin, &program, who, role).await;
        }
        let requests = format!("/api/v1/programs/{program}/requests");
        let (status, made) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let request = made["request"]["id"].as_str().unwrap().to_owned();
        let withdraw = format!("/api/v1/me/requests/{request}");

        // Not the mentee's: the mentor, another participant and an admin find nothing to withdraw.
        for token in [&mentor_token, &other_token, &admin] {
            let (status, problem) = app.delete(&withdraw, token).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
        }
        let unknown = "/api/v1/me/requests/01930000-0000-7000-8000-000000000000";
        assert_eq!(app.delete(unknown, &mentee_token).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.delete("/api/v1/me/requests/nope", &mentee_token).await.0,
            StatusCode::BAD_REQUEST
        );

        let (status, withdrawn) = app.delete(&withdraw, &mentee_token).await;
        assert_eq!(status, StatusCode::OK, "{withdrawn}");
        assert_eq!(withdrawn["status"], "withdrawn");
        assert!(withdrawn["decided_at"].is_string());
        // Once only; the mentor can no longer answer it.
        let (status, problem) = app.delete(&withdraw, &mentee_token).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (status, _) = app
            .post(&format!("{requests}/{request}/approve"), &mentor_token, json!(null))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, mine) = app.get("/api/v1/me/requests", &mentee_token).await;
        assert_eq!(mine["items"][0]["status"], "withdrawn", "{mine}");
        // Recorded like the other outcomes, and in the audit log.
        let (_, events) = app.get("/api/v1/events?event_type=request.withdrawn", &admin).await;
        let events = events["items"].as_array().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["person_id"], mentee.as_str());
        assert_eq!(events[0]["payload"]["request_id"], request.as_str());
        let (_, log) = app
            .get("/api/v1/audit-log?action=mentor_request.withdrawn", &admin)
            .await;
        assert_eq!(log["items"].as_array().map(Vec::len), Some(1), "{log}");

        // The mentee is free to ask again, the same mentor or another.
        let (status, again) = app.post(&requests, &mentee_token, json!({"mentor_id": mentor})).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        // An answered request cannot be withdrawn.
        let request = again["request"]["id"].as_str().unwrap();
        let (status, _) = app
            .post(&format!("{requests}/{request}/approve"), &mentor_token, json!(null))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, problem) = app
            .delete(&format!("/api/v1/me/requests/{request}"), &mentee_token)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("approved"), "{problem}");
        let _ = fields;
    }
);

fn all_day() -> Value {
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    json!(days
        .iter()
        .map(|d| json!({"weekday": d, "start": "00:00", "end": "24:00"}))
        .collect::<Vec<_>>())
}

async fn service(app: &TestApp, admin: &str, name: &str, formats: Value) -> String {
    let (status, created) = app
        .post(
            "/api/v1/services",
            admin,
            json!({"name": name, "formats": formats, "minimum_notice": {"amount": 0, "unit": "hours"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

both_backends!(
    async fn bookable_services_respect_enrollment_and_formats(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (student, token) = person(&app, &admin, "sam@demo.test", "Sam L").await;
        let (status, body) = app
            .put(
                "/api/v1/booking-settings",
                &admin,
                json!({"formats": [{"format": "in_person", "enabled": true, "questions": []},
                                   {"format": "virtual", "enabled": false, "questions": []}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        service(&app, &admin, "Open to all", json!(["in_person", "virtual"])).await;
        let mine = service(&app, &admin, "My class", json!(["in_person"])).await;
        let others = service(&app, &admin, "Someone else's class", json!(["in_person"])).await;
        service(&app, &admin, "Virtual only", json!(["virtual"])).await;
        let (other_student, _) = person(&app, &admin, "ada@demo.test", "Ada L").await;
        for (svc, who) in [(&mine, &student), (&others, &other_student)] {
            let (status, body) = app
                .post(
                    &format!("/api/v1/services/{svc}/enrollments"),
                    &admin,
                    json!({"person_ids": [who]}),
                )
                .await;
            assert!(status.is_success(), "{body}");
        }

        // Without the filters everyone sees every service, as before.
        let all = ["Open to all", "My class", "Someone else's class", "Virtual only"];
        assert_eq!(names(&app.get("/api/v1/services", &token).await.1), all);
        assert_eq!(names(&app.get("/api/v1/services", &admin).await.1), all);
        // Bookable: open or enrolled, and in a format the flow has turned on.
        let (status, page) = app.get("/api/v1/services?bookable=true", &token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(names(&page), ["Open to all", "My class"]);
        assert!(page["labels"].is_object());
        // Paged over what is kept.
        let items = app.all_pages("/api/v1/services?bookable=true&limit=1", &token).await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(
            names(
                &app.get("/api/v1/services?bookable=true&format=in_person", &token)
                    .await
                    .1
            ),
            ["Open to all", "My class"]
        );
        assert!(names(&app.get("/api/v1/services?bookable=true&format=virtual", &token).await.1).is_empty());
        // Admins book any service: enrollment does not narrow their list.
        assert_eq!(
            names(&app.get("/api/v1/services?bookable=true", &admin).await.1),
            ["Open to all", "My class", "Someone else's class"]
        );
        // Turning virtual on opens the virtual-only service.
        app.put(
            "/api/v1/booking-settings",
            &admin,
            json!({"formats": [{"format": "in_person", "enabled": true, "questions": []},
                               {"format": "virtual", "enabled": true, "questions": []}]}),
        )
        .await;
        assert_eq!(
            names(&app.get("/api/v1/services?bookable=true&format=virtual", &token).await.1),
            ["Open to all", "Virtual only"]
        );
        for bad in ["bookable=maybe", "format=carrier_pigeon", "colour=red"] {
            let (status, _) = app.get(&format!("/api/v1/services?{bad}"), &token).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
);

both_backends!(
    async fn my_bookings_come_soonest_first_as_student_and_provider(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (student, student_token) = person(&app, &admin, "sam@demo.test", "Sam L").await;
        let (provider, provider_token) = person(&app, &admin, "talia@demo.test", "Talia K").await;
        let (other, other_token) = person(&app, &admin, "ada@demo.test", "Ada L").await;
        let svc = service(&app, &admin, "Advising", json!(["in_person"])).await;
        let (status, body) = app
            .post(
                "/api/v1/providers",
                &admin,
                json!({"person_id": provider, "service_ids": [svc]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app
            .put(
                &format!("/api/v1/providers/{provider}/availability"),
                &admin,
                json!({"time_zone": "UTC", "weekly": all_day()}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, slots) = app
            .get(&format!("/api/v1/services/{svc}/slots?time_zone=UTC"), &student_token)
            .await;
        let starts: Vec<Value> = slots["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["starts_at"].clone())
            .collect();
        assert!(starts.len() > 10, "{slots}");
        // Booked latest first, so creation order is not start order.
        let mut booked = Vec::new();
        for (token, at) in [
            (&student_token, &starts[8]),
            (&student_token, &starts[4]),
            (&other_token, &starts[6]),
        ] {
            let (status, booking) = app
                .post(
                    "/api/v1/bookings",
                    token,
                    json!({"service_id": svc, "provider_id": provider, "starts_at": at, "format": "in_person"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{booking}");
            booked.push(booking["id"].as_str().unwrap().to_owned());
        }
        let (late, early, others) = (&booked[0], &booked[1], &booked[2]);

        let (status, page) = app.get("/api/v1/me/bookings", &student_token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(ids(&page, "id"), [early.clone(), late.clone()]);
        assert_eq!(page["items"][0]["student"]["id"], student.as_str());
        assert!(page["items"][0]["starts_at"].as_str().unwrap().ends_with('Z'));
        // The provider sees everyone's bookings with them, soonest first, a page at a time.
        let items = app.all_pages("/api/v1/me/bookings?limit=1", &provider_token).await;
        let order: Vec<&str> = items.iter().map(|b| b["id"].as_str().unwrap()).collect();
        assert_eq!(order, [early.as_str(), others.as_str(), late.as_str()]);
        // `from` skips the earlier ones; a booking moved into the past is no longer upcoming.
        let from = starts[5].as_str().unwrap().replace('+', "%2B");
        let (_, page) = app
            .get(&format!("/api/v1/me/bookings?from={from}"), &student_token)
            .await;
        assert_eq!(ids(&page, "id"), [late.as_str()]);
        let past = |minutes: i64| {
            (chrono::Utc::now() - chrono::Duration::days(30) + chrono::Duration::minutes(minutes))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        app.execute_sql(&format!(
            "UPDATE bookings SET starts_at = '{}', ends_at = '{}' WHERE id = '{early}'",
            past(0),
            past(30)
        ));
        let (_, page) = app.get("/api/v1/me/bookings", &student_token).await;
        assert_eq!(ids(&page, "id"), [late.as_str()]);
        let (_, page) = app
            .get(
                "/api/v1/me/bookings?from=2000-01-01T00:00:00Z&status=confirmed",
                &student_token,
            )
            .await;
        assert_eq!(ids(&page, "id"), [early.clone(), late.clone()]);
        // An admin sees only their own here; someone else's cursor or a bad one is a 400.
        assert_eq!(app.get("/api/v1/me/bookings", &admin).await.1["items"], json!([]));
        let (_, page) = app.get("/api/v1/me/bookings?limit=1", &provider_token).await;
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let (status, _) = app.get(&format!("/api/v1/me/bookings?cursor={cursor}"), &admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            app.get("/api/v1/me/bookings?provider_id=x", &other_token).await.0,
            StatusCode::BAD_REQUEST
        );

        // `GET /me` tells a provider their provider id; others have none.
        assert_eq!(
            app.get("/api/v1/me", &provider_token).await.1["provider_id"],
            provider.as_str()
        );
        assert_eq!(
            app.get("/api/v1/me", &student_token).await.1["provider_id"],
            Value::Null
        );

        // One booking as a calendar file: its student, its provider and admins; nobody else.
        let response = app
            .client
            .get(app.url(&format!("/api/v1/bookings/{late}/ics")))
            .bearer_auth(&student_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"));
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(
            disposition.starts_with("attachment") && disposition.contains(".ics"),
            "{disposition}"
        );
        let text = response.text().await.unwrap();
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1, "{text}");
        assert!(text.contains(&format!("UID:{late}@cohort")), "{text}");
        assert!(
            text.contains("STATUS:CONFIRMED") && text.contains("METHOD:PUBLISH"),
            "{text}"
        );
        for token in [&provider_token, &admin] {
            let (status, body) = app.get(&format!("/api/v1/bookings/{late}/ics"), token).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.as_str().unwrap().contains(&format!("UID:{late}@cohort")), "{body}");
        }
        let (status, _) = app.get(&format!("/api/v1/bookings/{late}/ics"), &other_token).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "another student's booking does not exist for them"
        );
        let (status, _) = app.get("/api/v1/bookings/not-an-id/ics", &student_token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // A cancelled booking comes as a cancellation, so importing it removes the entry.
        let (status, body) = app
            .post(&format!("/api/v1/bookings/{others}/cancel"), &admin, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, body) = app.get(&format!("/api/v1/bookings/{others}/ics"), &other_token).await;
        let text = body.as_str().unwrap();
        assert!(
            text.contains("STATUS:CANCELLED") && text.contains("METHOD:CANCEL"),
            "{text}"
        );
        let _ = other;
    }
);
