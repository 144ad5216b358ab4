//! In-app notifications: a person's feed, unread counts, read state.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::json;
use cohort_tests::{both_backends, fields, TestApp};

both_backends!(
    async fn the_program_team_reaches_a_persons_feed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (person, token) = app.person_with_login(&admin, "mentee@demo.test", false).await;
        let (_, other) = app.person_with_login(&admin, "other@demo.test", false).await;
        let send = |title: &str| json!({"title": title, "body": "See you on Tuesday.", "link": "/programs"});
        for title in ["Welcome", "Reminder", "Last call"] {
            let (status, created) = app
                .post(&format!("/api/v1/people/{person}/notifications"), &admin, send(title))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
        }
        let (status, problem) = app
            .post(
                &format!("/api/v1/people/{person}/notifications"),
                &admin,
                json!({"title": " "}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["title"]);

        let (_, page) = app.get("/api/v1/notifications?limit=2", &token).await;
        assert_eq!(page["unread_count"], 3);
        let titles: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Last call", "Reminder"], "newest first");
        let all = app.all_pages("/api/v1/notifications?limit=2", &token).await;
        assert_eq!(all.len(), 3);

        let newest = all[0]["id"].as_str().unwrap();
        assert_eq!(
            app.post(&format!("/api/v1/notifications/{newest}/read"), &other, json!(null))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post(&format!("/api/v1/notifications/{newest}/read"), &token, json!(null))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        let (_, page) = app.get("/api/v1/notifications?unread=true", &token).await;
        assert_eq!(
            (page["unread_count"].as_i64(), page["items"].as_array().unwrap().len()),
            (Some(2), 2)
        );
        assert_eq!(
            app.post("/api/v1/notifications/read-all", &token, json!(null)).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(app.get("/api/v1/notifications", &token).await.1["unread_count"], 0);
        assert_eq!(
            app.get("/api/v1/notifications", &other).await.1["items"],
            json!([]),
            "feeds are personal"
        );
    }
);
