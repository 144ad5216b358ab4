//! The mentoring side of the participant app: a mentee (on a phone-sized window) finds the
//! best-fitting mentor first and asks them; the mentor answers from the email, logged out; then
//! both see the pairing and chat, each seeing the other's message arrive without a reload.

use super::*;
use cohort_tests::{SmtpSink, Spawn};

const PASSWORD: &str = "a long and rare passphrase";

/// Logs a participant in through the login page; they land on their own page.
async fn log_in_as(c: &Client, app: &TestApp, email: &str, first_name: &str) -> Outcome {
    c.goto(&app.url("/login")).await?;
    fill(c, "#email", email).await?;
    fill(c, "#password", PASSWORD).await?;
    click_button(c, "Log in").await?;
    text_appears(c, &format!("Hi {first_name}")).await
}

cohort_tests::both_backends!(
    async fn a_mentee_asks_the_best_fit_the_mentor_accepts_from_the_email_and_they_chat(backend: Backend) {
        dashboard_app_env();
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
        let (_, program) = app
            .post(
                "/api/v1/programs",
                &admin,
                json!({"name": "Spring Mentoring", "time_zone": "UTC"}),
            )
            .await;
        let program = program["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .patch(
                &format!("/api/v1/programs/{program}/pairing"),
                &admin,
                json!({"process": "user_led_with_approval", "enabled": true}),
            )
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
        let (status, body) = app
            .put(
                &format!("/api/v1/programs/{program}/auto-pair/rules"),
                &admin,
                json!({"criteria": [{"key": "goals", "source": "answer", "rule": "similar", "weight": 60}]}),
            )
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
        // Marcus comes first by name and has as much room; Talia shares Amara's goal.
        let mut ids = std::collections::HashMap::new();
        for (email, name, role, goals, bio) in [
            ("amara@demo.test", "Amara N", "mentee", json!(["research"]), ""),
            (
                "marcus@demo.test",
                "Marcus B",
                "mentor",
                json!(["cooking"]),
                "Chef and food blogger.",
            ),
            (
                "talia@demo.test",
                "Talia K",
                "mentor",
                json!(["research", "teaching"]),
                "Third-year chemistry student.",
            ),
        ] {
            let (status, person) = app
                .post(
                    "/api/v1/people",
                    &admin,
                    json!({"email": email, "name": name, "password": PASSWORD, "bio": bio}),
                )
                .await;
            assert_eq!(status.as_u16(), 201, "{person}");
            let person = person["id"].as_str().unwrap().to_owned();
            let (status, participant) = app
                .post(
                    &format!("/api/v1/programs/{program}/participants"),
                    &admin,
                    json!({"person_id": person, "role": role}),
                )
                .await;
            assert_eq!(status.as_u16(), 201, "{participant}");
            let (status, body) = app
                .put(
                    &format!(
                        "/api/v1/programs/{program}/participants/{}/answers",
                        participant["id"].as_str().unwrap()
                    ),
                    &admin,
                    json!({"answers": {"goals": goals}}),
                )
                .await;
            assert_eq!(status.as_u16(), 200, "{body}");
            ids.insert(name, person);
        }

        let mentee = Browser::start().await;
        let mentor = Browser::start().await;
        let outcome = async {
            let (a, b) = (&mentee.client, &mentor.client);
            a.set_window_size(375, 812).await?;
            // The mentee finds a mentor from her home: Talia, who shares her goal, comes first.
            log_in_as(a, &app, "amara@demo.test", "Amara").await?;
            click_link(a, "Find a mentor").await?;
            text_appears(a, "Mentors with room").await?;
            text_appears(a, "Compatibility: 30").await?;
            let names = a.find_all(Locator::Css("li.mentor h3")).await?;
            let mut shown = Vec::new();
            for name in names {
                shown.push(name.text().await?);
            }
            ensure(shown == ["Talia K", "Marcus B"], format!("best fit first: {shown:?}"))?;
            text_appears(a, "goals (+30): research").await?;
            text_appears(a, "Third-year chemistry student.").await?;
            fits_the_width(a, "Find a mentor").await?;
            no_axe_violations(a, "Find a mentor").await?;
            shot(a, "participant-find-mentor").await?;
            click_button(a, "Request Talia K").await?;
            fill(
                a,
                &format!("#note-{}", ids["Talia K"]),
                "Could you help me with research careers?",
            )
            .await?;
            click_button(a, "Send my request to Talia K").await?;
            text_appears(a, "You asked Talia K.").await?;
            text_appears(a, "Waiting for an answer").await?;
            no_axe_violations(a, "Find a mentor, with an open request").await?;
            nav(a, "Mentoring").await?;
            text_appears(a, "Talia K — Waiting for an answer").await?;
            fits_the_width(a, "Requests").await?;
            no_axe_violations(a, "Requests (a mentee's)").await?;
            ensure(
                a.find_all(Locator::XPath("//button[normalize-space(.)='Request Marcus B']"))
                    .await?
                    .is_empty(),
                "one open request at a time: no more request buttons",
            )?;

            // The mentor, logged out, opens "Accept" from the email and confirms.
            let accept = sink
                .link_to("talia@demo.test", "answer=accept")
                .await
                .ok_or("no email with an Accept link")?;
            b.goto(&accept).await?;
            text_appears(b, "Amara N asks you to be their mentor").await?;
            text_appears(b, "Could you help me with research careers?").await?;
            click_button(b, "Confirm: accept Amara N").await?;
            text_appears(b, "You accepted. You and Amara N are now paired").await?;

            // The mentor logs in, sees the pairing and writes first.
            log_in_as(b, &app, "talia@demo.test", "Talia").await?;
            nav(b, "Mentoring").await?;
            text_appears(b, "Amara N — Accepted").await?;
            no_axe_violations(b, "Requests (a mentor's)").await?;
            nav(b, "Chat").await?;
            text_appears(b, "My pairings and chat").await?;
            text_appears(b, "your mentee").await?;
            click_link(b, "Chat with Amara N").await?;
            text_appears(b, "No messages yet.").await?;
            fill(b, "#message", "Welcome, Amara! When shall we meet?").await?;
            click_button(b, "Send").await?;
            text_appears(b, "Welcome, Amara! When shall we meet?").await?;

            // The mentee sees her mentor and the unread message, and answers.
            nav(a, "Chat").await?;
            text_appears(a, "Talia K").await?;
            text_appears(a, "1 unread").await?;
            fits_the_width(a, "My pairings and chat").await?;
            no_axe_violations(a, "My pairings and chat").await?;
            click_link(a, "Chat with Talia K").await?;
            text_appears(a, "Welcome, Amara! When shall we meet?").await?;
            fits_the_width(a, "a conversation").await?;
            no_axe_violations(a, "a conversation").await?;
            fill(a, "#message", "Thank you! Tuesday works for me.").await?;
            click_button(a, "Send").await?;
            text_appears(a, "Thank you! Tuesday works for me.").await?;
            shot(a, "participant-chat").await?;

            // The mentor's open conversation shows the answer without a reload.
            text_appears(b, "Thank you! Tuesday works for me.").await?;
            // And on the mentee's side, Find a mentor now names her mentor.
            a.goto(&app.url(&format!("/me/programs/{program}/mentors"))).await?;
            text_appears(a, "You are paired with Talia K.").await
        }
        .await;
        if outcome.is_err() {
            mentor.save_failure(&format!("mentoring-mentor-{backend:?}")).await;
        }
        mentor.finish("mentoring-mentor", Ok(())).await;
        mentee.finish(&format!("mentoring-{backend:?}"), outcome).await;
    }
);

cohort_tests::both_backends!(
    async fn a_mentor_declines_in_the_app_with_a_message_and_a_mentee_withdraws(backend: Backend) {
        dashboard_app_env();
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, program) = app
            .post("/api/v1/programs", &admin, json!({"name": "Autumn Mentoring"}))
            .await;
        let program = program["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .patch(
                &format!("/api/v1/programs/{program}/pairing"),
                &admin,
                json!({"process": "user_led_with_approval", "enabled": true}),
            )
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
        let mut people = Vec::new();
        for (email, name, role) in [
            ("amara@demo.test", "Amara N", "mentee"),
            ("talia@demo.test", "Talia K", "mentor"),
            ("marcus@demo.test", "Marcus B", "mentor"),
        ] {
            let (status, person) = app
                .post(
                    "/api/v1/people",
                    &admin,
                    json!({"email": email, "name": name, "password": PASSWORD}),
                )
                .await;
            assert_eq!(status.as_u16(), 201, "{person}");
            let person = person["id"].as_str().unwrap().to_owned();
            let (status, body) = app
                .post(
                    &format!("/api/v1/programs/{program}/participants"),
                    &admin,
                    json!({"person_id": person, "role": role}),
                )
                .await;
            assert_eq!(status.as_u16(), 201, "{body}");
            people.push(person);
        }
        let mentee = app.login("amara@demo.test", PASSWORD).await.access_token;
        let requests = format!("/api/v1/programs/{program}/requests");
        let (status, made) = app
            .post(&requests, &mentee, json!({"mentor_id": people[1], "note": "Hi Talia"}))
            .await;
        assert_eq!(status.as_u16(), 201, "{made}");

        let browser = Browser::start().await;
        let outcome = async {
            let c = &browser.client;
            c.set_window_size(375, 812).await?;
            // The mentor declines from her Requests page, with a message for the mentee.
            log_in_as(c, &app, "talia@demo.test", "Talia").await?;
            nav(c, "Mentoring").await?;
            text_appears(c, "Amara N — Waiting for an answer").await?;
            text_appears(c, "Hi Talia").await?;
            text_appears(c, "You have not asked anyone.").await?;
            fits_the_width(c, "Requests").await?;
            shot(c, "participant-requests").await?;
            click_button(c, "Decline…").await?;
            fill(
                c,
                &format!("#decline-{}", made["request"]["id"].as_str().unwrap()),
                "Marcus knows more about this.",
            )
            .await?;
            click_button(c, "Decline Amara N").await?;
            text_appears(c, "Amara N — Declined").await?;
            let (_, mine) = app.get("/api/v1/me/requests", &mentee).await;
            ensure(
                mine["items"][0]["status"] == "declined"
                    && mine["items"][0]["decline_message"] == "Marcus knows more about this.",
                format!("declined with the message: {mine}"),
            )?;
            open_menu(c).await?;
            click_button(c, "Log out").await?;

            // The mentee reads the message, asks Marcus, then withdraws.
            log_in_as(c, &app, "amara@demo.test", "Amara").await?;
            nav(c, "Mentoring").await?;
            text_appears(c, "Talia K — Declined").await?;
            text_appears(c, "Marcus knows more about this.").await?;
            click_link(c, "Find a mentor in Autumn Mentoring").await?;
            click_button(c, "Request Marcus B").await?;
            click_button(c, "Send my request to Marcus B").await?;
            text_appears(c, "You asked Marcus B.").await?;
            click_button(c, "Withdraw my request").await?;
            click_button(c, "Request Marcus B").await?;
            let (_, mine) = app.get("/api/v1/me/requests", &mentee).await;
            ensure(mine["items"][1]["status"] == "withdrawn", format!("withdrawn: {mine}"))
        }
        .await;
        browser.finish(&format!("mentoring-decline-{backend:?}"), outcome).await;
    }
);
