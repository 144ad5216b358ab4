//! Tenant isolation, proven over the whole API: every operation of the
//! OpenAPI document is called with another organisation's token on the first
//! organisation's objects, and with a non-admin's token.

use std::collections::BTreeSet;

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::json;
use cohort_tests::{both_backends, example_body, fields, operations, Auth, TestApp, ADMIN_EMAIL};

/// Organisation A's objects, and text that must never reach organisation B.
struct Victim {
    person: String,
    program: String,
    participant: String,
    api_key: String,
    notification: String,
    webhook: String,
    webhook_delivery: String,
    conversation: String,
    step: String,
    badge: String,
    automation: String,
    request: String,
    pairing: String,
    service: String,
    booking: String,
    /// The job of the webhook delivery, parked as dead.
    dead_job: String,
    markers: Vec<String>,
}

async fn victim(app: &TestApp, admin: &str) -> Victim {
    let (_, person) = app
        .post(
            "/api/v1/people",
            admin,
            json!({"email": "secret.person@orga.test", "name": "Orga Secret Person"}),
        )
        .await;
    let (_, program) = app
        .post("/api/v1/programs", admin, json!({"name": "Orga Secret Program"}))
        .await;
    let (person, program) = (
        person["id"].as_str().unwrap().to_owned(),
        program["id"].as_str().unwrap().to_owned(),
    );
    let (status, participant) = app
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            admin,
            json!({"person_id": person, "role": "mentor"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, key) = app
        .post("/api/v1/api-keys", admin, json!({"name": "Orga Secret Key"}))
        .await;
    let (_, me) = app.get("/api/v1/me", admin).await;
    let participant = participant["id"].as_str().unwrap().to_owned();
    let (status, notification) = app
        .post(
            &format!("/api/v1/people/{person}/notifications"),
            admin,
            json!({"title": "Orga Secret Notice"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let notification = notification["id"].as_str().unwrap().to_owned();
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            admin,
            json!({"url": "https://orga-secret.example.org/hook", "description": "Orga Secret Hook"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let webhook = hook["endpoint"]["id"].as_str().unwrap().to_owned();
    let (_, delivery) = app
        .post(&format!("/api/v1/webhooks/{webhook}/test"), admin, json!(null))
        .await;
    let webhook_delivery = delivery["id"].as_str().unwrap().to_owned();
    let dead_job = app
        .strings(&format!(
            "SELECT id AS s FROM jobs WHERE kind = 'webhook' AND payload LIKE '%{webhook_delivery}%'"
        ))
        .pop()
        .flatten()
        .expect("the test delivery's job");
    app.execute_sql(&format!(
        "UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL WHERE id = '{dead_job}'"
    ));
    let (status, conversation) = app
        .post(
            "/api/v1/conversations",
            admin,
            json!({"person_ids": [person], "subject": "Orga Secret Chat"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conversation}");
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        admin,
        json!({"body": "Orga Secret Message"}),
    )
    .await;
    let (status, step) = app
        .post(
            &format!("/api/v1/programs/{program}/steps"),
            admin,
            json!({"title": "Orga Secret Step", "viewer_type": "all", "action_type": "set_goal", "publish_type": "instant"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{step}");
    let step = step["id"].as_str().unwrap().to_owned();
    // A user-led pairing: the request is the pairing.
    let (_, mentee) = app
        .post(
            "/api/v1/people",
            admin,
            json!({"email": "secret.mentee@orga.test", "name": "Orga Secret Mentee"}),
        )
        .await;
    let mentee = mentee["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/programs/{program}/participants"),
        admin,
        json!({"person_id": mentee, "role": "mentee"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/programs/{program}/pairing"),
        admin,
        json!({"enabled": true, "process": "user_led"}),
    )
    .await;
    let (status, made) = app
        .post(
            &format!("/api/v1/programs/{program}/requests"),
            admin,
            json!({"mentor_id": person, "mentee_id": mentee}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let request = made["request"]["id"].as_str().unwrap().to_owned();
    let pairing = made["pairing"]["id"].as_str().unwrap().to_owned();
    let api_key = key["key"]["id"].as_str().unwrap().to_owned();
    let (status, badge) = app
        .post("/api/v1/badges", admin, json!({"name": "Orga Secret Badge"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{badge}");
    let badge = badge["id"].as_str().unwrap().to_owned();
    let (status, automation) = app
        .post(
            "/api/v1/automations",
            admin,
            json!({"name": "Orga Secret Automation", "trigger": "participant.joined", "frequency": "every_time",
                   "program_ids": [program], "actions": [{"type": "award_badge", "badge_id": badge}], "active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{automation}");
    let automation = automation["id"].as_str().unwrap().to_owned();
    // Booking: the person provides a service all day; the mentee has booked them.
    let (status, service) = app
        .post(
            "/api/v1/services",
            admin,
            json!({"name": "Orga Secret Service", "minimum_notice": {"amount": 0, "unit": "hours"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{service}");
    let service = service["id"].as_str().unwrap().to_owned();
    let (status, provider) = app
        .post(
            "/api/v1/providers",
            admin,
            json!({"person_id": person, "service_ids": [service]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{provider}");
    let all_day: Vec<_> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| json!({"weekday": d, "start": "00:00", "end": "24:00"}))
    .collect();
    let (status, availability) = app
        .put(
            &format!("/api/v1/providers/{person}/availability"),
            admin,
            json!({"time_zone": "UTC", "weekly": all_day}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{availability}");
    let (_, slots) = app
        .get(&format!("/api/v1/services/{service}/slots?time_zone=UTC"), admin)
        .await;
    let (status, booking) = app
        .post(
            "/api/v1/bookings",
            admin,
            json!({"service_id": service, "provider_id": person, "student_id": mentee,
                   "starts_at": slots["items"][0]["starts_at"], "format": "in_person"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    let booking = booking["id"].as_str().unwrap().to_owned();
    let markers = vec![
        service.clone(),
        booking.clone(),
        badge.clone(),
        automation.clone(),
        step.clone(),
        request.clone(),
        pairing.clone(),
        mentee.clone(),
        person.clone(),
        program.clone(),
        participant.clone(),
        api_key.clone(),
        notification.clone(),
        webhook.clone(),
        webhook_delivery.clone(),
        conversation.clone(),
        "orga-secret.example.org".into(),
        me["organization"]["id"].as_str().unwrap().to_owned(),
        me["person"]["id"].as_str().unwrap().to_owned(),
        "Peer Mentoring Demo".into(),
        "peer-mentoring-demo".into(),
        ADMIN_EMAIL.into(),
        "demo.cohort.test".into(),
        "secret.person@orga.test".into(),
        "Orga Secret".into(),
    ];
    Victim {
        person,
        program,
        participant,
        api_key,
        notification,
        webhook,
        webhook_delivery,
        conversation,
        step,
        badge,
        automation,
        request,
        pairing,
        service,
        booking,
        dead_job,
        markers,
    }
}

/// The path with its parameters replaced by organisation A's ids. A new parameter must be mapped here.
fn fill(template: &str, v: &Victim) -> String {
    let id = if template.starts_with("/api/v1/people/") {
        &v.person
    } else if template.starts_with("/api/v1/programs/") || template.starts_with("/api/v1/me/programs/") {
        &v.program
    } else if template.starts_with("/api/v1/api-keys/") {
        &v.api_key
    } else if template.starts_with("/api/v1/notifications/") {
        &v.notification
    } else if template.starts_with("/api/v1/webhooks/") {
        &v.webhook
    } else if template.starts_with("/api/v1/conversations/") {
        &v.conversation
    } else if template.starts_with("/api/v1/me/steps/") {
        &v.step
    } else if template.starts_with("/api/v1/badges/") {
        &v.badge
    } else if template.starts_with("/api/v1/automations/") {
        &v.automation
    } else if template.starts_with("/api/v1/services/") {
        &v.service
    } else if template.starts_with("/api/v1/providers/") {
        &v.person
    } else if template.starts_with("/api/v1/bookings/") {
        &v.booking
    } else if template.starts_with("/api/v1/jobs/") {
        &v.dead_job
    } else if template.starts_with("/api/v1/me/requests/") {
        &v.request
    } else {
        "unmapped"
    };
    // `{key}` names one of the product's emails, not an object: each organisation has its own wording.
    let path = template
        .replace("{id}", id)
        .replace("{participant_id}", &v.participant)
        .replace("{key}", "invitation")
        .replace("{delivery_id}", &v.webhook_delivery)
        .replace("{step_id}", &v.step)
        .replace("{request_id}", &v.request)
        .replace("{pairing_id}", &v.pairing)
        .replace("{person_id}", &v.person)
        .replace("{kind}", "participants");
    // CSV imports and exports name their program in the query.
    let path = if template.starts_with("/api/v1/imports/{kind}") || template.starts_with("/api/v1/exports/") {
        format!("{path}?program_id={}", v.program)
    } else {
        path
    };
    assert!(
        !path.contains('{') && !path.contains("unmapped"),
        "map the parameters of {template} in tenancy.rs"
    );
    path
}

both_backends!(
    async fn no_route_reaches_another_organisations_objects(backend: Backend) {
        let app = TestApp::spawn_with_demo(backend).await;
        let admin_a = app.admin_token().await;
        let v = victim(&app, &admin_a).await;
        let (_, member_a) = app.person_with_login(&admin_a, "member@orga.test", false).await;
        let admin_b = app.create_organization("Other Org", "boss@other.test").await;
        let doc = app.get_public("/api/v1/openapi.json").await;

        let operations = operations(&doc);
        let public: BTreeSet<String> = operations.iter().filter(|o| o.is_public()).map(|o| o.name()).collect();
        let expected_public = [
            "GET /healthz",
            "GET /readyz",
            "POST /api/v1/auth/login",
            "POST /api/v1/auth/logout",
            "POST /api/v1/auth/refresh",
            // A one-time link's token is its own authorisation; a reset request answers alike for anyone.
            "POST /api/v1/auth/accept-invitation",
            "POST /api/v1/auth/password-reset",
            "POST /api/v1/auth/password-reset/confirm",
            // A mentor's "Accept" / "Decline" link: its token answers that one request.
            "POST /api/v1/request-answers/preview",
            "POST /api/v1/request-answers/accept",
            "POST /api/v1/request-answers/decline",
            // The calendar feed's secret address is its own authorisation.
            "GET /api/v1/calendar/{token}",
        ];
        assert_eq!(public, expected_public.iter().map(|s| s.to_string()).collect());

        let mut walked = public.len();
        // A non-admin of organisation A: their own view, feed and the organisation's settings; nothing else.
        for o in operations.iter().filter(|o| !o.is_public()) {
            let expected = match (o.method.as_str(), o.template.as_str()) {
                (
                    "GET",
                    "/api/v1/me"
                    | "/api/v1/organization"
                    | "/api/v1/notifications"
                    | "/api/v1/conversations"
                    | "/api/v1/me/steps"
                    | "/api/v1/me/requests"
                    | "/api/v1/me/programs"
                    | "/api/v1/me/pairings"
                    | "/api/v1/me/bookings"
                    // Booking: students browse services, providers and slots, and see their own bookings.
                    | "/api/v1/services"
                    | "/api/v1/services/{id}"
                    | "/api/v1/services/{id}/slots"
                    | "/api/v1/providers"
                    | "/api/v1/providers/{id}"
                    | "/api/v1/providers/{id}/availability"
                    | "/api/v1/booking-settings"
                    | "/api/v1/bookings"
                    | "/api/v1/me/classes",
                ) => StatusCode::OK,
                ("POST", "/api/v1/me/calendar-feed") => StatusCode::CREATED,
                // The example names a service that does not exist.
                ("POST", "/api/v1/bookings") => StatusCode::UNPROCESSABLE_ENTITY,
                // The service keeps no waitlist.
                ("POST", "/api/v1/services/{id}/waitlist") => StatusCode::CONFLICT,
                // Bookings they are not part of do not exist for them.
                (_, "/api/v1/bookings/{id}" | "/api/v1/bookings/{id}/cancel" | "/api/v1/bookings/{id}/reschedule"
                    | "/api/v1/bookings/{id}/complete" | "/api/v1/bookings/{id}/ics") => StatusCode::NOT_FOUND,
                // Steps they were not given do not exist for them.
                ("POST", "/api/v1/me/steps/{step_id}/open" | "/api/v1/me/steps/{step_id}/complete") => {
                    StatusCode::NOT_FOUND
                }
                // Another mentee's request does not exist for them.
                ("DELETE", "/api/v1/me/requests/{id}") => StatusCode::NOT_FOUND,
                ("POST", "/api/v1/notifications/read-all") => StatusCode::NO_CONTENT,
                // Everyone may change their own profile; the example's attributes are editable in no
                // program of theirs (they take part in none), so it is refused, naming them.
                ("PATCH", "/api/v1/me") => StatusCode::UNPROCESSABLE_ENTITY,
                // Everyone may change their own password; the example's current password is not theirs.
                ("POST", "/api/v1/me/password") => StatusCode::UNPROCESSABLE_ENTITY,
                // Everyone may end their own logins.
                ("POST", "/api/v1/auth/logout-all") => StatusCode::NO_CONTENT,
                // Someone else's notification does not exist for them.
                ("POST", "/api/v1/notifications/{id}/read") => StatusCode::NOT_FOUND,
                // Conversations they are not in do not exist for them.
                (_, "/api/v1/conversations/{id}/messages" | "/api/v1/conversations/{id}/read") => StatusCode::NOT_FOUND,
                _ => StatusCode::FORBIDDEN,
            };
            let path = fill(&o.template, &v);
            let (status, body) = app
                .call(o.method.clone(), &path, Auth::Bearer(&member_a), example_body(&doc, o))
                .await;
            assert_eq!(status, expected, "non-admin {} {path}: {body}", o.method);
        }
        // Organisation B's admin, then an API key of organisation B, on organisation A's objects.
        let (status, key_b) = app.post("/api/v1/api-keys", &admin_b, json!({"name": "B's key"})).await;
        assert_eq!(status, StatusCode::CREATED, "{key_b}");
        let key_b = key_b["secret"].as_str().unwrap().to_owned();
        for o in operations.iter().filter(|o| !o.is_public()) {
            let path = fill(&o.template, &v);
            let method = &o.method;
            let key_may_not = o.template.starts_with("/api/v1/api-keys");
            for (caller, auth) in [("admin", Auth::Bearer(&admin_b)), ("API key", Auth::ApiKey(&key_b))] {
                let (status, body) = app.call(method.clone(), &path, auth, example_body(&doc, o)).await;
                let about_a_program = o.template == "/api/v1/imports/{kind}" || o.template == "/api/v1/exports/{kind}";
                if o.template.contains("{id}") || o.template.contains("{step_id}") || about_a_program {
                    // An API key may be refused key management outright: it learns nothing either way.
                    let refused = status == StatusCode::FORBIDDEN && caller == "API key" && key_may_not;
                    assert!(
                        status == StatusCode::NOT_FOUND || refused,
                        "B's {caller}: {method} {path} → {status}: {body}"
                    );
                }
                let text = body.to_string();
                for marker in &v.markers {
                    assert!(
                        !text.contains(marker.as_str()),
                        "B's {caller}: {method} {path} leaked {marker:?}: {text}"
                    );
                }
            }
            walked += 1;
        }
        assert_eq!(walked, operations.len());

        // Organisation A's objects are untouched.
        let (status, person) = app.get(&format!("/api/v1/people/{}", v.person), &admin_a).await;
        assert_eq!(
            (status, person["name"].as_str()),
            (StatusCode::OK, Some("Orga Secret Person"))
        );
        let (_, program) = app.get(&format!("/api/v1/programs/{}", v.program), &admin_a).await;
        assert_eq!(
            (program["name"].as_str(), program["mentor_count"].as_i64()),
            (Some("Orga Secret Program"), Some(1))
        );
        let (_, keys) = app.get("/api/v1/api-keys", &admin_a).await;
        assert!(keys["items"][0]["revoked_at"].is_null());
        let (_, org) = app.get("/api/v1/organization", &admin_a).await;
        assert_eq!(org["name"], "Peer Mentoring Demo");
    }
);

both_backends!(
    async fn another_organisations_people_cannot_be_referenced(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin_a = app.admin_token().await;
        let admin_b = app.create_organization("Other Org", "boss@other.test").await;
        let (status, outsider) = app
            .post(
                "/api/v1/people",
                &admin_b,
                json!({"email": "outsider@other.test", "name": "Out Sider"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let outsider = outsider["id"].as_str().unwrap();
        let (_, program) = app
            .post("/api/v1/programs", &admin_a, json!({"name": "A's program"}))
            .await;
        let participants = format!("/api/v1/programs/{}/participants", program["id"].as_str().unwrap());

        let (status, problem) = app
            .post(
                &participants,
                &admin_a,
                json!({"person_id": outsider, "role": "mentee"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["person_id"]);
        let (status, problem) = app
            .post(
                &format!("{participants}/bulk"),
                &admin_a,
                json!({"participants": [{"person_id": outsider, "role": "mentor"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["participants[0].person_id"]);
        assert!(!problem.to_string().contains("Out Sider") && !problem.to_string().contains("outsider@"));
        assert!(app.all_pages(&participants, &admin_a).await.is_empty());

        // The same email may exist once in each organisation.
        let (status, _) = app
            .post(
                "/api/v1/people",
                &admin_a,
                json!({"email": "outsider@other.test", "name": "Another Person"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        // Lists show only the caller's organisation.
        let people_b = app.all_pages("/api/v1/people", &admin_b).await;
        let names: BTreeSet<&str> = people_b.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert!(!names.contains("Another Person"), "{names:?}");
        assert!(app.all_pages("/api/v1/programs", &admin_b).await.is_empty());
    }
);

both_backends!(
    async fn csv_files_cannot_name_another_organisations_services_or_people(backend: Backend) {
        use cohort_tests::reqwest::Method;
        let app = TestApp::spawn(backend).await;
        let admin_a = app.admin_token().await;
        let admin_b = app.create_organization("Other Org", "boss@other.test").await;
        let upload = |token: String, path: &'static str, body: &'static str| {
            let request = app
                .request(Method::POST, path)
                .bearer_auth(token)
                .header("Content-Type", "text/csv")
                .body(body);
            async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (
                    status,
                    response.json::<cohort_tests::serde_json::Value>().await.unwrap(),
                )
            }
        };
        let (status, report) = upload(
            admin_a.clone(),
            "/api/v1/imports/services",
            "name,course number\nSecret Chemistry,CHEM 1\n",
        )
        .await;
        assert_eq!(
            (status, report["created"].as_u64()),
            (StatusCode::OK, Some(1)),
            "{report}"
        );
        let (status, _) = app
            .post(
                "/api/v1/people",
                &admin_a,
                json!({"email": "student@orga.test", "name": "A Student"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, report) = upload(
            admin_a.clone(),
            "/api/v1/imports/enrollments",
            "email,service\nstudent@orga.test,Secret Chemistry (CHEM 1)\n",
        )
        .await;
        assert_eq!(report["created"], 1, "{report}");
        let written = || {
            (
                app.count("people"),
                app.count("providers"),
                app.count("certifications"),
                app.count("enrollments"),
            )
        };
        let before = written();

        // B's files naming A's service and A's student: row errors on a dry run, 422 and nothing written.
        let tutors = "email,name,services\ntutor@other.test,B Tutor,Secret Chemistry (CHEM 1)\n";
        let enrollments = "email,service\nstudent@orga.test,Secret Chemistry (CHEM 1)\n";
        for (path, file, columns) in [
            ("/api/v1/imports/providers?dry_run=true", tutors, vec!["services"]),
            (
                "/api/v1/imports/enrollments?dry_run=true",
                enrollments,
                vec!["email", "service"],
            ),
        ] {
            let (status, report) = upload(admin_b.clone(), path, file).await;
            assert_eq!(
                (status, report["valid"].as_bool()),
                (StatusCode::OK, Some(false)),
                "{report}"
            );
            let named: Vec<&str> = report["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["column"].as_str().unwrap())
                .collect();
            assert_eq!(named, columns, "{report}");
            assert!(!report.to_string().contains("A Student"), "{report}");
        }
        for (path, file) in [
            ("/api/v1/imports/providers", tutors),
            ("/api/v1/imports/enrollments", enrollments),
        ] {
            let (status, problem) = upload(admin_b.clone(), path, file).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {problem}");
        }
        assert_eq!(written(), before, "B's refused files wrote nothing");
        // B's exports hold none of A's rows.
        for kind in ["providers", "enrollments", "services"] {
            let response = app
                .request(Method::GET, &format!("/api/v1/exports/{kind}"))
                .bearer_auth(&admin_b)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let text = response.text().await.unwrap();
            assert_eq!(text.lines().count(), 1, "{kind}: only the header: {text}");
        }
    }
);
