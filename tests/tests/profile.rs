//! A person's own profile (`PATCH /api/v1/me`): name, bio, photo, time zone, and the attributes
//! their programs let participants change; the photo through the admin's update too.

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, Auth, TestApp};

/// A program whose participants may change `editable`; returns its id.
async fn program(app: &TestApp, admin: &str, name: &str, editable: &[&str]) -> String {
    let (status, p) = app
        .post("/api/v1/programs", admin, json!({"name": name, "time_zone": "UTC"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap().to_owned();
    let (status, p) = app
        .patch(
            &format!("/api/v1/programs/{id}"),
            admin,
            json!({"participant_editable_attributes": editable}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["participant_editable_attributes"], json!(editable));
    id
}

async fn join(app: &TestApp, admin: &str, program: &str, person: &str) -> String {
    let (status, body) = app
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            admin,
            json!({"person_id": person, "role": "mentee"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn person(app: &TestApp, admin: &str, id: &str) -> Value {
    let (status, person) = app.get(&format!("/api/v1/people/{id}"), admin).await;
    assert_eq!(status, StatusCode::OK, "{person}");
    person
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both_backends!(
    async fn participants_change_their_own_name_bio_photo_and_zone(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (me, token) = app.person_with_login(&admin, "talia@demo.test", false).await;
        let (other, _) = app.person_with_login(&admin, "amara@demo.test", false).await;
        let other_before = person(&app, &admin, &other).await;

        let (status, updated) = app
            .patch(
                "/api/v1/me",
                &token,
                json!({"name": " Talia K ", "bio": "Fourth-year chemistry student.",
                       "photo_url": "https://cdn.example.org/talia.jpg", "time_zone": "America/Chicago"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(
            (
                &updated["id"],
                &updated["name"],
                &updated["bio"],
                &updated["photo_url"],
                &updated["time_zone"]
            ),
            (
                &json!(me),
                &json!("Talia K"),
                &json!("Fourth-year chemistry student."),
                &json!("https://cdn.example.org/talia.jpg"),
                &json!("America/Chicago")
            )
        );
        // The admin sees the change; GET /me shows it too.
        let seen = person(&app, &admin, &me).await;
        assert_eq!(seen, updated);
        let (_, mine) = app.get("/api/v1/me", &token).await;
        assert_eq!(mine["person"], updated);
        // Nobody else changed.
        assert_eq!(person(&app, &admin, &other).await, other_before);

        // Absent fields stay; null clears the photo and the zone (the organisation's applies).
        let (status, cleared) = app
            .patch("/api/v1/me", &token, json!({"photo_url": null, "time_zone": null}))
            .await;
        assert_eq!(status, StatusCode::OK, "{cleared}");
        assert_eq!(
            (
                &cleared["name"],
                &cleared["bio"],
                &cleared["photo_url"],
                &cleared["time_zone"]
            ),
            (
                &json!("Talia K"),
                &json!("Fourth-year chemistry student."),
                &Value::Null,
                &Value::Null
            )
        );

        // Audited as the person's own change.
        let log = app
            .all_pages(
                &format!("/api/v1/audit-log?object_id={me}&action=person.updated"),
                &admin,
            )
            .await;
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log.iter().all(|e| e["actor_person_id"] == me.as_str()), "{log:?}");
    }
);

both_backends!(
    async fn only_attributes_a_program_of_theirs_lets_them_edit_are_saved(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (me, token) = app.person_with_login(&admin, "talia@demo.test", false).await;
        let spring = program(&app, &admin, "Spring", &["languages", "pronouns"]).await;
        // Programs they are not in, or were removed from, grant nothing.
        program(&app, &admin, "Elsewhere", &["department"]).await;
        let left = program(&app, &admin, "Left", &["department"]).await;
        join(&app, &admin, &spring, &me).await;
        let membership = join(&app, &admin, &left, &me).await;
        let (status, _) = app
            .delete(&format!("/api/v1/programs/{left}/participants/{membership}"), &admin)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = app
            .patch(
                &format!("/api/v1/people/{me}"),
                &admin,
                json!({"attributes": {"department": "Chemistry", "pronouns": "she/her"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // An editable attribute is set, another removed with null; the rest stays.
        let (status, updated) = app
            .patch(
                "/api/v1/me",
                &token,
                json!({"attributes": {"languages": ["English", "Spanish"], "pronouns": null}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        let expected = json!({"department": "Chemistry", "languages": ["English", "Spanish"]});
        assert_eq!(updated["attributes"], expected);

        // One attribute they may not change refuses the whole request, naming it.
        let (status, problem) = app
            .patch(
                "/api/v1/me",
                &token,
                json!({"name": "Someone Else", "attributes": {"department": "Physics", "languages": ["French"]}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["attributes.department"]);
        let (status, problem) = app
            .patch("/api/v1/me", &token, json!({"attributes": {"year": null}}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["attributes.year"]);
        // Values follow the admin's rules.
        let (status, problem) = app
            .patch(
                "/api/v1/me",
                &token,
                json!({"attributes": {"pronouns": "x".repeat(501)}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["attributes.pronouns"]);
        let seen = person(&app, &admin, &me).await;
        assert_eq!((&seen["name"], &seen["attributes"]), (&json!("Pat Person"), &expected));

        // The admin narrows the program's list: the participant loses the right.
        program_list(&app, &admin, &spring, json!([])).await;
        let (status, problem) = app
            .patch("/api/v1/me", &token, json!({"attributes": {"languages": ["French"]}}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["attributes.languages"]);
        assert_eq!(person(&app, &admin, &me).await["attributes"], expected);
    }
);

async fn program_list(app: &TestApp, admin: &str, program: &str, list: Value) -> (StatusCode, Value) {
    let (status, body) = app
        .patch(
            &format!("/api/v1/programs/{program}"),
            admin,
            json!({"participant_editable_attributes": list}),
        )
        .await;
    if status == StatusCode::OK {
        let (_, fetched) = app.get(&format!("/api/v1/programs/{program}"), admin).await;
        assert_eq!(
            fetched["participant_editable_attributes"],
            body["participant_editable_attributes"]
        );
    }
    (status, body)
}

both_backends!(
    async fn programs_list_valid_attribute_names_each_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, created) = app
            .post(
                "/api/v1/programs",
                &admin,
                json!({"name": "Spring", "time_zone": "UTC"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["participant_editable_attributes"], json!([]));
        let id = created["id"].as_str().unwrap();
        let (status, updated) = program_list(&app, &admin, id, json!(["languages", "pronouns", "languages"])).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(
            updated["participant_editable_attributes"],
            json!(["languages", "pronouns"])
        );
        let (status, problem) = program_list(&app, &admin, id, json!(["languages", " pronouns"])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["participant_editable_attributes"]);
        let (_, program) = app.get(&format!("/api/v1/programs/{id}"), &admin).await;
        assert_eq!(
            program["participant_editable_attributes"],
            json!(["languages", "pronouns"])
        );
    }
);

both_backends!(
    async fn bad_values_are_all_named_and_nothing_is_written(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (me, token) = app.person_with_login(&admin, "talia@demo.test", false).await;
        let before = person(&app, &admin, &me).await;

        let (status, problem) = app
            .patch(
                "/api/v1/me",
                &token,
                json!({"name": " ", "bio": "A new bio", "photo_url": "javascript:alert(1)", "time_zone": "Mars/Olympus"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(sorted(fields(&problem)), ["name", "photo_url", "time_zone"]);
        for photo in [
            "ftp://cdn.example.org/a.jpg",
            "https://",
            &format!("https://cdn.example.org/{}", "a".repeat(2000)),
        ] {
            let (status, problem) = app.patch("/api/v1/me", &token, json!({"photo_url": photo})).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{photo}: {problem}");
            assert_eq!(fields(&problem), ["photo_url"]);
        }
        let (status, problem) = app.patch("/api/v1/me", &token, json!({"bio": "b".repeat(4001)})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["bio"]);
        // Only the caller's own profile fields: the email, the admin flag and passwords are not theirs to set here.
        for body in [json!({"email": "new@demo.test"}), json!({"is_admin": true})] {
            let (status, problem) = app.patch("/api/v1/me", &token, body.clone()).await;
            assert!(status.is_client_error(), "{body}: {status} {problem}");
        }
        assert_eq!(person(&app, &admin, &me).await, before);
    }
);

both_backends!(
    async fn api_keys_cannot_change_a_profile(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, key) = app.post("/api/v1/api-keys", &admin, json!({"name": "HR sync"})).await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        let secret = key["secret"].as_str().unwrap();
        let (_, me_before) = app.get("/api/v1/me", &admin).await;
        let (status, problem) = app
            .call(
                Method::PATCH,
                "/api/v1/me",
                Auth::ApiKey(secret),
                Some(json!({"name": "Renamed By Key"})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (_, me_after) = app.get("/api/v1/me", &admin).await;
        assert_eq!(me_after["person"], me_before["person"]);
    }
);

both_backends!(
    async fn admins_set_and_clear_a_persons_photo(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (id, _) = app.person_with_login(&admin, "talia@demo.test", false).await;
        assert_eq!(person(&app, &admin, &id).await["photo_url"], Value::Null);
        let path = format!("/api/v1/people/{id}");
        let (status, updated) = app
            .patch(&path, &admin, json!({"photo_url": " https://cdn.example.org/t.png "}))
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["photo_url"], "https://cdn.example.org/t.png");
        let (status, problem) = app
            .patch(&path, &admin, json!({"photo_url": "cdn.example.org/t.png", "name": ""}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(sorted(fields(&problem)), ["name", "photo_url"]);
        assert_eq!(
            person(&app, &admin, &id).await["photo_url"],
            "https://cdn.example.org/t.png"
        );
        // An empty string removes it, as an empty zone clears the zone.
        let (status, updated) = app.patch(&path, &admin, json!({"photo_url": ""})).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["photo_url"], Value::Null);
    }
);
