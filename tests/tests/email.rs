//! Email templates per organisation, previews, and delivery through the outbox to a real SMTP server.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::json;
use cohort_tests::{both_backends, fields, SmtpSink, Spawn, TestApp};

both_backends!(
    async fn templates_are_validated_previewed_saved_and_reset(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, list) = app.get("/api/v1/email-templates", &admin).await;
        assert_eq!(status, StatusCode::OK);
        let keys: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap())
            .collect();
        for key in [
            "invitation",
            "mentor_request",
            "request_declined",
            "request_expired",
            "mentorship_assignment",
            "step_published",
            "booking_confirmed",
            "booking_cancelled",
        ] {
            assert!(keys.contains(&key), "default for {key}");
        }
        assert_eq!(
            app.get("/api/v1/email-templates/no-such-email", &admin).await.0,
            StatusCode::NOT_FOUND
        );

        let path = "/api/v1/email-templates/invitation";
        let (status, problem) = app
            .call(
                cohort_tests::reqwest::Method::PUT,
                path,
                cohort_tests::Auth::Bearer(&admin),
                Some(json!({"subject": "Hi {{ mentor.name }}", "html": "<p>{% if %}</p>", "text": "ok"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["subject", "html"], "{problem}");
        assert_eq!(app.get(path, &admin).await.1["customized"], false, "nothing was saved");

        let (status, _) = app
            .patch("/api/v1/organization", &admin, json!({"name": "Peer & Co"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, preview) = app
            .post(
                &format!("{path}/preview"),
                &admin,
                json!({"html": "<p>{{ organization.name }} & {{ recipient.first_name }}</p>"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(
            preview["html"], "<p>Peer &amp; Co & Amara</p>",
            "placeholders are HTML-escaped, template text is not"
        );
        assert_eq!(
            preview["subject"],
            "Submit your mentor preferences for 2027 Spring Cohort"
        );

        let wording = json!({"subject": "Pick your mentor, {{ recipient.first_name }}!",
                             "html": "<p>{{ link }}</p>", "text": "{{ link }}"});
        let (status, saved) = app
            .call(
                cohort_tests::reqwest::Method::PUT,
                path,
                cohort_tests::Auth::Bearer(&admin),
                Some(wording),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["customized"], true);
        assert_eq!(
            app.get(path, &admin).await.1["subject"],
            "Pick your mentor, {{ recipient.first_name }}!"
        );
        assert_eq!(app.delete(path, &admin).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.get(path, &admin).await.1["customized"], false);
    }
);

both_backends!(
    async fn a_runaway_template_is_refused_quickly_while_other_requests_are_served(backend: Backend) {
        let app = TestApp::spawn_with_demo(backend).await;
        let admin = app.admin_token().await;
        let path = "/api/v1/email-templates/invitation";
        let runaway = json!({"subject": "Hi",
            "html": "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
            "text": "ok"});
        let save = async {
            let started = std::time::Instant::now();
            let (status, problem) = app
                .call(
                    cohort_tests::reqwest::Method::PUT,
                    path,
                    cohort_tests::Auth::Bearer(&admin),
                    Some(runaway.clone()),
                )
                .await;
            (status, problem, started.elapsed())
        };
        // Logins and writes of the same organisation go on while the template is checked.
        let others = async {
            let mut statuses = Vec::new();
            for n in 0..5 {
                statuses.push(app.get("/api/v1/me", &admin).await.0);
                let body = json!({"name": format!("Side program {n}"), "time_zone": "UTC"});
                statuses.push(app.post("/api/v1/programs", &admin, body).await.0);
            }
            statuses
        };
        let ((status, problem, took), others) = tokio::join!(save, others);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["html"], "{problem}");
        assert!(problem.to_string().contains("too much work"), "{problem}");
        assert!(took < std::time::Duration::from_secs(2), "refused after {took:?}");
        assert!(others.iter().all(|s| s.is_success()), "other requests: {others:?}");
        let (status, problem) = app.post(&format!("{path}/preview"), &admin, runaway).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(app.get(path, &admin).await.1["customized"], false, "nothing was saved");
    }
);

both_backends!(
    async fn test_emails_reach_a_real_smtp_server_in_the_organisations_words(backend: Backend) {
        let sink = SmtpSink::start().await;
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let wording = json!({"subject": "Pick your mentor, {{ recipient.first_name }}!",
                             "html": "<p>Hello from {{ organization.name }}</p>", "text": "Hello from {{ organization.name }}"});
        let (status, _) = app
            .call(
                cohort_tests::reqwest::Method::PUT,
                "/api/v1/email-templates/invitation",
                cohort_tests::Auth::Bearer(&admin),
                Some(wording),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, queued) = app
            .post("/api/v1/email-templates/invitation/test", &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        let messages = sink.wait_for(1).await;
        let message = &messages[0];
        assert!(message.contains("Subject: Pick your mentor, Ada!"), "{message}");
        assert!(message.contains("To: admin@demo.test"), "{message}");
        assert!(message.contains("Hello from Peer Mentoring Demo"), "{message}");
        let key = queued["delivery_key"].as_str().unwrap();
        assert!(
            message.contains(key),
            "the Message-ID carries the delivery key: {message}"
        );
        // Nothing else is sent: one message per delivery key.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(sink.messages().len(), 1);
    }
);

/// Booking emails carry their calendar entry: a confirmation asks the calendar to add it
/// (METHOD:REQUEST), a cancellation to remove it (METHOD:CANCEL, same UID).
#[tokio::test]
async fn booking_emails_carry_a_calendar_entry() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(
        cohort_tests::Backend::Sqlite,
        Spawn {
            demo_data: false,
            extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
        },
    )
    .await;
    let admin = app.admin_token().await;
    for key in ["booking_confirmed", "booking_cancelled", "invitation"] {
        let (status, queued) = app
            .post(&format!("/api/v1/email-templates/{key}/test"), &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    }
    let messages = sink.wait_for(3).await;
    let find = |subject: &str| {
        messages
            .iter()
            .find(|m| m.contains(subject))
            .unwrap_or_else(|| panic!("no email with {subject}"))
    };
    let confirmed = find("Subject: Confirmed:");
    assert!(
        confirmed.contains("Content-Type: text/calendar; method=REQUEST; charset=utf-8"),
        "{confirmed}"
    );
    assert!(confirmed.contains("filename=\"invite.ics\""), "{confirmed}");
    assert!(
        confirmed.contains("BEGIN:VCALENDAR") && confirmed.contains("METHOD:REQUEST"),
        "{confirmed}"
    );
    assert!(confirmed.contains("DTSTART:20270202T200000Z"), "{confirmed}");
    assert!(confirmed.contains("ATTENDEE:mailto:admin@demo.test"), "{confirmed}");
    assert!(confirmed.contains("UID:sample-booking_confirmed@cohort"), "{confirmed}");

    let cancelled = find("Subject: Cancelled:");
    assert!(
        cancelled.contains("Content-Type: text/calendar; method=CANCEL; charset=utf-8"),
        "{cancelled}"
    );
    assert!(cancelled.contains("filename=\"cancel.ics\""), "{cancelled}");
    assert!(cancelled.contains("STATUS:CANCELLED"), "{cancelled}");

    let invitation = find("Subject: Submit your mentor preferences");
    assert!(!invitation.contains("text/calendar"), "{invitation}");
}
