//! The organisation: time zone, holidays, labels.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::json;
use cohort_tests::{both_backends, fields, TestApp};

both_backends!(
    async fn settings_are_validated_and_saved(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, org) = app.get("/api/v1/organization", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(org["slug"], "peer-mentoring-demo");
        assert_eq!(org["labels"]["provider_singular"], "Peer Mentor");

        let (status, problem) = app
            .patch(
                "/api/v1/organization",
                &admin,
                json!({"time_zone": "Mars/Olympus",
                       "labels": {"provider_singular": " ", "provider_plural": "Coaches", "class_singular": "Programme", "class_plural": "Programmes"}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["time_zone", "labels.provider_singular"]);
        assert_eq!(
            app.get("/api/v1/organization", &admin).await.1,
            org,
            "nothing was written"
        );

        let (status, changed) = app
            .patch(
                "/api/v1/organization",
                &admin,
                json!({"time_zone": "Europe/London", "holidays": ["2026-12-28", "2026-12-25", "2026-12-28"],
                       "labels": {"provider_singular": "Coach", "provider_plural": "Coaches", "class_singular": "Programme", "class_plural": "Programmes"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["time_zone"], "Europe/London");
        assert_eq!(changed["holidays"], json!(["2026-12-25", "2026-12-28"]));
        assert_eq!(changed["labels"]["provider_plural"], "Coaches");
        assert_eq!(app.get("/api/v1/organization", &admin).await.1, changed);

        // A new program takes the organisation's zone unless given one.
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Autumn"})).await;
        assert_eq!(program["time_zone"], "Europe/London");
    }
);

both_backends!(
    async fn every_label_and_the_name_are_required(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, before) = app.get("/api/v1/organization", &admin).await;
        let (status, problem) = app
            .patch(
                "/api/v1/organization",
                &admin,
                json!({"name": "  ", "labels": {"provider_singular": "Coach", "provider_plural": "",
                       "class_singular": "\t", "class_plural": ""}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut got = fields(&problem);
        got.sort();
        assert_eq!(
            got,
            [
                "labels.class_plural",
                "labels.class_singular",
                "labels.provider_plural",
                "name"
            ]
        );
        let (status, problem) = app
            .patch("/api/v1/organization", &admin, json!({"holidays": ["2026-02-30"]}))
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "an impossible date: {status} {problem}"
        );
        assert_eq!(
            app.get("/api/v1/organization", &admin).await.1,
            before,
            "nothing was written"
        );

        // Absent fields stay as they are.
        let (status, renamed) = app
            .patch("/api/v1/organization", &admin, json!({"name": "Peer Mentoring"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{renamed}");
        assert_eq!(renamed["name"], "Peer Mentoring");
        assert_eq!(
            (&renamed["labels"], &renamed["time_zone"], &renamed["id"]),
            (&before["labels"], &before["time_zone"], &before["id"])
        );
        let (_, me) = app.get("/api/v1/me", &admin).await;
        assert_eq!(me["organization"], renamed);
    }
);
