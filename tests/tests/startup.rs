//! Start-up: configuration errors, demo data, health checks, docs and the dashboard.

use std::process::Command;

use cohort_tests::reqwest::StatusCode;
use cohort_tests::{binary, both_backends, Spawn, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    let dir = std::env::temp_dir().join(format!("cohort-config-{}", uuid::Uuid::now_v7()));
    for (var, value) in [
        ("COHORT_BIND", "not-an-address"),
        ("DATABASE_URL", "mysql://localhost/cohort"),
        ("COHORT_ADMIN_PASSWORD", "short"),
        ("COHORT_JWT_SECRET", "too-short"),
        // The placeholder docker-compose.yml once shipped, and secrets made of a repeated word.
        ("COHORT_JWT_SECRET", "change-me-change-me-change-me-change-me"),
        ("COHORT_JWT_SECRET", "test-secret-test-secret-test-secret-0123"),
        ("COHORT_DEMO_DATA", "perhaps"),
    ] {
        let out = Command::new(binary())
            .env("COHORT_DATA_DIR", &dir)
            .env("COHORT_BIND", "127.0.0.1:0")
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(var), "{var}={value}: {stderr}");
    }
    // Instances sharing a PostgreSQL database must share a secret: none is generated.
    let out = Command::new(binary())
        .env("COHORT_DATA_DIR", &dir)
        .env("COHORT_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        .env_remove("COHORT_JWT_SECRET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("COHORT_JWT_SECRET") && stderr.contains("PostgreSQL"),
        "{stderr}"
    );
    assert!(!dir.join("jwt-secret").exists());
    let _ = std::fs::remove_dir_all(dir);
}

both_backends!(
    async fn first_start_seeds_the_demo_organisation(backend: Backend) {
        let app = TestApp::spawn_with_demo(backend).await;
        assert!(
            app.output()
                .contains("Created the organisation \"Peer Mentoring Demo\""),
            "{}",
            app.output()
        );
        // A demo mentee and a demo mentor (also a peer mentor) can log in with the printed password.
        let password = app.demo_participant_password();
        let output = app.output();
        let line = output.lines().find(|l| l.starts_with("Participant logins")).unwrap();
        for email in ["amara.n@demo.cohort.test", "talia.k@demo.cohort.test"] {
            assert!(line.contains(email), "{line}");
            let tokens = app.login(email, &password).await;
            let (_, me) = app.get("/api/v1/me", &tokens.access_token).await;
            assert_eq!(me["person"]["is_admin"], false);
            assert_eq!(me["memberships"].as_array().map(Vec::len), Some(1), "{me}");
            // Their first visit is not empty: three steps, each with its notification, and the
            // program team's welcome.
            let (_, steps) = app.get("/api/v1/me/steps", &tokens.access_token).await;
            assert_eq!(steps["items"].as_array().map(Vec::len), Some(3), "{steps}");
            let (_, feed) = app.get("/api/v1/notifications", &tokens.access_token).await;
            // Three steps, the welcome, and the other one's message in their chat.
            assert_eq!(feed["unread_count"], 5, "{feed}");
            // The chat message's notification opens the conversation in the participant app.
            let chat = feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["kind"] == "chat_message")
                .unwrap();
            let link = chat["link"].as_str().unwrap();
            assert!(link.starts_with("/me/chat/"), "{chat}");
            assert_eq!(
                cohort_api_types::links::app_of(link),
                (cohort_api_types::links::WebApp::Participant, true)
            );
            // Amara and Talia are paired and have begun to talk; Leo's request waits for Talia.
            let (_, pairings) = app.get("/api/v1/me/pairings", &tokens.access_token).await;
            assert_eq!(pairings["items"].as_array().map(Vec::len), Some(1), "{pairings}");
            let (_, conversations) = app.get("/api/v1/conversations", &tokens.access_token).await;
            assert_eq!(conversations["items"][0]["kind"], "pairing", "{conversations}");
            let (_, requests) = app.get("/api/v1/me/requests", &tokens.access_token).await;
            let open = requests["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["status"] == "open")
                .count();
            assert_eq!(open, usize::from(email.starts_with("talia")), "{requests}");
            // Each has a booking still ahead, the mentee as student and the mentor as provider.
            let (_, bookings) = app.get("/api/v1/me/bookings", &tokens.access_token).await;
            let ahead = |b: &cohort_tests::serde_json::Value| {
                b["status"] == "confirmed"
                    && chrono::DateTime::parse_from_rfc3339(b["starts_at"].as_str().unwrap()).unwrap()
                        > chrono::Utc::now()
            };
            assert!(bookings["items"].as_array().unwrap().iter().any(ahead), "{bookings}");
        }
        let token = app.admin_token().await;
        let programs = app.all_pages("/api/v1/programs", &token).await;
        assert_eq!(programs.len(), 1);
        let program = &programs[0];
        assert_eq!(program["status"], "published");
        assert!(program["mentor_count"].as_i64() >= Some(2) && program["mentee_count"].as_i64() >= Some(2));
        let participants = app
            .all_pages(
                &format!("/api/v1/programs/{}/participants", program["id"].as_str().unwrap()),
                &token,
            )
            .await;
        assert!(
            participants.iter().any(|p| p["role"] == "mentor") && participants.iter().any(|p| p["role"] == "mentee")
        );
        let people = app.all_pages("/api/v1/people", &token).await;
        assert!(people
            .iter()
            .filter(|p| p["is_admin"] == false)
            .all(|p| p["attributes"]["department"].is_string()));

        // Booking: a generic service every peer mentor gives, in more than one time zone, with
        // free slots and bookings in the coming week.
        let services = app.all_pages("/api/v1/services", &token).await;
        let generic = services
            .iter()
            .find(|s| s["name"] == "All available Peer Mentoring")
            .expect("the generic service");
        let providers = app.all_pages("/api/v1/providers", &token).await;
        assert!(providers.len() >= 3, "{providers:?}");
        assert_eq!(generic["provider_count"].as_u64(), Some(providers.len() as u64));
        let zones: std::collections::BTreeSet<&str> =
            providers.iter().filter_map(|p| p["time_zone"].as_str()).collect();
        assert!(zones.len() >= 2, "{zones:?}");
        assert!(
            services.len() >= 3,
            "two services of one provider each besides the generic one"
        );
        let now = chrono::Utc::now();
        let week = |days: i64| (now + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let bookings = app
            .all_pages(&format!("/api/v1/bookings?from={}&to={}", week(0), week(15)), &token)
            .await;
        assert!(bookings.len() >= 3, "{bookings:?}");
        assert!(bookings.iter().all(|b| b["status"] == "confirmed"));
        let (from, to) = (
            now.date_naive() + chrono::Days::new(1),
            now.date_naive() + chrono::Days::new(14),
        );
        let (status, slots) = app
            .get(
                &format!(
                    "/api/v1/services/{}/slots?from={from}&to={to}&time_zone=UTC",
                    generic["id"].as_str().unwrap()
                ),
                &token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{slots}");
        assert!(!slots["items"].as_array().unwrap().is_empty(), "{slots}");
    }
);

#[tokio::test]
async fn a_generated_admin_password_is_printed_once_and_works() {
    let app = TestApp::spawn_with(
        cohort_tests::Backend::Sqlite,
        Spawn {
            demo_data: false,
            extra_env: vec![("COHORT_ADMIN_PASSWORD".into(), String::new())],
        },
    )
    .await;
    let output = app.output();
    let line = output
        .lines()
        .find(|l| l.contains("shown once"))
        .unwrap_or_else(|| panic!("{output}"));
    let password = line.split(" / ").nth(1).unwrap().split_whitespace().next().unwrap();
    app.login(ADMIN_EMAIL, password).await;
    assert_ne!(password, ADMIN_PASSWORD);
}

both_backends!(
    async fn health_docs_and_dashboard(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/healthz", "/readyz"] {
            let body = app.get_public(path).await;
            assert_eq!(body["status"], "ok", "{path}");
        }
        let doc = app.get_public("/api/v1/openapi.json").await;
        assert_eq!(doc["info"]["title"], "Cohort API");
        let docs = app.client.get(app.url("/api/v1/docs/")).send().await.unwrap();
        assert_eq!(docs.status(), StatusCode::OK);
        assert!(docs.text().await.unwrap().contains("swagger"));

        let dashboard = std::env::var("COHORT_DASHBOARD_DIR")
            .ok()
            .filter(|d| std::path::Path::new(d).join("index.html").is_file());
        if let Some(dir) = dashboard {
            let page = |file: &str| std::fs::read_to_string(std::path::Path::new(&dir).join(file)).unwrap();
            let (index, participant) = (page("index.html"), page("participant.html"));
            // Each app's routes are its pages; any other path gets an app's "Page not found" with
            // a 404 (the participant app's under /me).
            let route = "/programs/0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f/steps";
            for (path, status, app_page) in [
                ("/", StatusCode::OK, &index),
                (route, StatusCode::OK, &index),
                ("/programs/some/client/route", StatusCode::NOT_FOUND, &index),
                ("/login", StatusCode::OK, &participant),
                (
                    "/me/programs/0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f",
                    StatusCode::OK,
                    &participant,
                ),
                ("/me/no/such/page", StatusCode::NOT_FOUND, &participant),
            ] {
                let response = app.client.get(app.url(path)).send().await.unwrap();
                assert_eq!(response.status(), status, "{path}");
                assert_eq!(&response.text().await.unwrap(), app_page, "{path} serves its app");
            }
        } else {
            let home = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
            assert!(home.contains("cargo xtask run"), "{home}");
        }
        let missing = app.client.get(app.url("/api/v1/not-a-route")).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json"));
    }
);

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let mut app = TestApp::spawn(cohort_tests::Backend::Sqlite).await;
    assert_eq!(
        app.client.get(app.url("/healthz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert!(app.terminate().await, "exit status after SIGTERM: {}", app.output());
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn without_a_configured_secret_one_is_generated_and_kept() {
    let unset = || Spawn {
        demo_data: false,
        extra_env: vec![("COHORT_JWT_SECRET".into(), String::new())],
    };
    let app = TestApp::spawn_with(cohort_tests::Backend::Sqlite, unset()).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/me", &token).await.0, StatusCode::OK);
    let secret =
        std::fs::read_to_string(app.data_dir().join("jwt-secret")).expect("the secret is kept in the data folder");
    assert!(secret.len() >= 32);
    // Tokens signed with the test secret are not accepted by this server.
    let other = TestApp::spawn(cohort_tests::Backend::Sqlite).await;
    let foreign = other.admin_token().await;
    assert_eq!(app.get("/api/v1/me", &foreign).await.0, StatusCode::UNAUTHORIZED);
}
