//! People: emails unique per organisation (trimmed, case-insensitive), validation, pagination, admins.

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::json;
use cohort_tests::{both_backends, check_response, fields, TestApp};

const UNKNOWN: &str = "/api/v1/people/01930000-0000-7000-8000-000000000000";

both_backends!(
    async fn emails_are_unique_trimmed_and_case_insensitive(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, person) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "  Talia.K@Example.ORG ", "name": " Talia K ", "time_zone": "America/Chicago",
                       "attributes": {"department": "Chemistry", "languages": ["English", "Spanish"], "year": 3}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{person}");
        assert_eq!(person["email"], "talia.k@example.org");
        assert_eq!(person["name"], "Talia K");
        assert_eq!(person["attributes"]["year"], 3);
        assert_eq!(person["attributes"]["languages"][1], "Spanish");
        let id = person["id"].as_str().unwrap();
        assert_eq!(app.get(&format!("/api/v1/people/{id}"), &admin).await.1, person);

        let (status, _) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "TALIA.k@example.org", "name": "Another"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        // Changing someone else's email to a taken one is a conflict too.
        let (_, other) = app
            .post("/api/v1/people", &admin, json!({"email": "o@example.org", "name": "O"}))
            .await;
        let other_id = other["id"].as_str().unwrap();
        let (status, _) = app
            .patch(
                &format!("/api/v1/people/{other_id}"),
                &admin,
                json!({"email": "Talia.K@example.org"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
);

both_backends!(
    async fn invalid_people_are_refused_field_by_field_and_nothing_is_written(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, problem) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "not-an-email", "name": "", "time_zone": "Mars/Olympus", "password": "short",
                       "attributes": {" padded": "x"}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut got = fields(&problem);
        got.sort();
        assert_eq!(got, ["attributes. padded", "email", "name", "password", "time_zone"]);
        let people = app.all_pages("/api/v1/people", &admin).await;
        assert_eq!(people.len(), 1, "only the admin exists");
    }
);

both_backends!(
    async fn pages_return_every_person_once_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        for i in 0..7 {
            let (status, _) = app
                .post(
                    "/api/v1/people",
                    &admin,
                    json!({"email": format!("p{i}@example.org"), "name": format!("P {i}")}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let all = app.all_pages("/api/v1/people?limit=3", &admin).await;
        let emails: Vec<&str> = all.iter().map(|p| p["email"].as_str().unwrap()).collect();
        let mut expected = vec!["admin@demo.test".to_owned()];
        expected.extend((0..7).map(|i| format!("p{i}@example.org")));
        assert_eq!(emails, expected);
        let (_, page) = app.get("/api/v1/people?limit=3", &admin).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        // Search matches name or email, case-insensitively; `_` and `%` are literal.
        let found = app.all_pages("/api/v1/people?q=P%205", &admin).await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["email"], "p5@example.org");
        assert!(app.all_pages("/api/v1/people?q=%25", &admin).await.is_empty());
        let admins = app.all_pages("/api/v1/people?is_admin=true", &admin).await;
        assert_eq!(admins.len(), 1);
    }
);

both_backends!(
    async fn people_are_edited_and_deleted_but_never_the_last_admin(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, me) = app.get("/api/v1/me", &admin).await;
        let admin_id = me["person"]["id"].as_str().unwrap();
        let (status, _) = app
            .patch(
                &format!("/api/v1/people/{admin_id}"),
                &admin,
                json!({"is_admin": false}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            app.delete(&format!("/api/v1/people/{admin_id}"), &admin).await.0,
            StatusCode::CONFLICT
        );

        let (_, person) = app
            .post("/api/v1/people", &admin, json!({"email": "e@example.org", "name": "E"}))
            .await;
        let path = format!("/api/v1/people/{}", person["id"].as_str().unwrap());
        let (status, changed) = app
            .patch(
                &path,
                &admin,
                json!({"bio": "Fourth year", "time_zone": "Europe/London", "attributes": {"year": 4}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(
            (changed["bio"].as_str(), changed["time_zone"].as_str()),
            (Some("Fourth year"), Some("Europe/London"))
        );
        assert_eq!(changed["attributes"], json!({"year": 4}));
        let (_, cleared) = app.patch(&path, &admin, json!({"time_zone": ""})).await;
        assert!(cleared["time_zone"].is_null());
        assert_eq!(app.delete(&path, &admin).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&path, &admin).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&path, &admin).await.0, StatusCode::NOT_FOUND);
    }
);

both_backends!(
    async fn a_new_person_has_a_location_and_unknown_people_are_404(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let response = app
            .client
            .post(app.url("/api/v1/people"))
            .bearer_auth(&admin)
            .json(&json!({"email": "loc@example.org", "name": "Lo Cation"}))
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let (status, person) = check_response(&Method::POST, "/api/v1/people", response).await;
        assert_eq!(status, StatusCode::CREATED, "{person}");
        let path = format!("/api/v1/people/{}", person["id"].as_str().unwrap());
        let location = location.expect("201 Created carries a Location header");
        assert!(location.ends_with(&path), "Location {location} is not {path}");
        assert_eq!(app.get(&path, &admin).await.1, person);

        assert_eq!(app.get(UNKNOWN, &admin).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.patch(UNKNOWN, &admin, json!({"name": "Nobody"})).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.delete(UNKNOWN, &admin).await.0, StatusCode::NOT_FOUND);
    }
);

both_backends!(
    async fn a_bad_email_is_named_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        for email in ["", "  ", "not-an-email", "a@", "@example.org", "a b@example.org"] {
            let (status, problem) = app
                .post("/api/v1/people", &admin, json!({"email": email, "name": "Bad Email"}))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email:?}: {problem}");
            assert_eq!(fields(&problem), ["email"], "{email:?}");
        }
        let (_, person) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "good@example.org", "name": "Good"}),
            )
            .await;
        let path = format!("/api/v1/people/{}", person["id"].as_str().unwrap());
        let (status, problem) = app
            .patch(&path, &admin, json!({"email": "bad", "name": "Renamed"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["email"]);
        assert_eq!(app.get(&path, &admin).await.1, person, "nothing was written");
        assert_eq!(app.all_pages("/api/v1/people", &admin).await.len(), 2);
    }
);

both_backends!(
    async fn page_sizes_go_from_1_to_200(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        app.post(
            "/api/v1/people",
            &admin,
            json!({"email": "two@example.org", "name": "Two"}),
        )
        .await;
        let (status, page) = app.get("/api/v1/people?limit=1", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert!(page["next_cursor"].is_string(), "{page}");
        let (status, page) = app.get("/api/v1/people?limit=200", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        assert!(
            page.get("next_cursor").is_none_or(|c| c.is_null()),
            "the last page: {page}"
        );
        let (status, page) = app.get("/api/v1/people", &admin).await;
        assert_eq!((status, page["items"].as_array().unwrap().len()), (StatusCode::OK, 2));
        for limit in ["201", "-1", "1.5"] {
            let path = format!("/api/v1/people?limit={limit}");
            assert_eq!(app.get(&path, &admin).await.0, StatusCode::BAD_REQUEST, "{path}");
        }
    }
);

both_backends!(
    async fn people_are_for_admins_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (me, member) = app.person_with_login(&admin, "member@example.org", false).await;
        let own = format!("/api/v1/people/{me}");
        let body = json!({"email": "new@example.org", "name": "New"});
        assert_eq!(app.get("/api/v1/people", &member).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.post("/api/v1/people", &member, body).await.0, StatusCode::FORBIDDEN);
        // Not even their own record, and not by making themselves an admin.
        assert_eq!(app.get(&own, &member).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            app.patch(&own, &member, json!({"is_admin": true})).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.delete(&own, &member).await.0, StatusCode::FORBIDDEN);
        // A 403 says nothing about whether the id exists.
        assert_eq!(app.get(UNKNOWN, &member).await.0, StatusCode::FORBIDDEN);
        let (_, person) = app.get(&own, &admin).await;
        assert_eq!(person["is_admin"], false);
        assert_eq!(app.all_pages("/api/v1/people", &admin).await.len(), 2);
    }
);
