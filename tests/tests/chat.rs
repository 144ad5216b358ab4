//! Chat: conversations from the program team, messages, read state, membership.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::json;
use cohort_tests::{both_backends, fields, TestApp};

both_backends!(
    async fn the_program_team_and_a_participant_chat(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (mentee, mentee_token) = app.person_with_login(&admin, "mentee@demo.test", false).await;
        let (_, outsider) = app.person_with_login(&admin, "outsider@demo.test", false).await;

        let (status, problem) = app
            .post(
                "/api/v1/conversations",
                &admin,
                json!({"person_ids": ["01930000-0000-7000-8000-000000000000"]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["person_ids[0]"]);
        let (status, conversation) = app
            .post(
                "/api/v1/conversations",
                &admin,
                json!({"person_ids": [mentee], "subject": "Welcome"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{conversation}");
        let id = conversation["id"].as_str().unwrap().to_owned();
        let messages = format!("/api/v1/conversations/{id}/messages");

        let (status, sent) = app
            .post(&messages, &admin, json!({"body": "Welcome to the program!"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        let (_, mine) = app.get("/api/v1/conversations", &mentee_token).await;
        assert_eq!(mine["items"][0]["unread_count"], 1);
        let (_, feed) = app.get("/api/v1/notifications", &mentee_token).await;
        assert_eq!(feed["items"][0]["kind"], "chat_message");
        assert_eq!(feed["items"][0]["body"], "Welcome to the program!");

        app.post(&messages, &mentee_token, json!({"body": "Thank you!"})).await;
        let (_, page) = app.get(&messages, &mentee_token).await;
        let bodies: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["Welcome to the program!", "Thank you!"], "oldest first");
        let (_, mine) = app.get("/api/v1/conversations", &mentee_token).await;
        assert_eq!(mine["items"][0]["unread_count"], 0, "replying reads the conversation");
        let (_, theirs) = app.get("/api/v1/conversations", &admin).await;
        assert_eq!(theirs["items"][0]["unread_count"], 1);
        assert_eq!(
            app.post(&format!("/api/v1/conversations/{id}/read"), &admin, json!(null))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.get("/api/v1/conversations", &admin).await.1["items"][0]["unread_count"],
            0
        );

        // People outside the conversation cannot see or post to it.
        assert_eq!(app.get(&messages, &outsider).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.post(&messages, &outsider, json!({"body": "hi"})).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.get("/api/v1/conversations", &outsider).await.1["items"], json!([]));
        let (status, problem) = app.post(&messages, &admin, json!({"body": "   "})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["body"]);
    }
);
