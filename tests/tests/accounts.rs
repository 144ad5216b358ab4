//! How people get in: invitations to set a password, password resets and changes, and the
//! one-time links behind them; every link in every email is absolute and opens a page.

use std::time::Duration;

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{
    both_backends, fields, link_token, links_in, SmtpSink, Spawn, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

const PASSWORD: &str = "a long and rare passphrase";

/// Cohort with an SMTP sink and an apps directory whose pages say which app they are:
/// `DASHBOARD` (index.html) and `PARTICIPANT APP` (participant.html).
async fn app_with_mail(backend: cohort_tests::Backend, demo: bool, extra: &[(&str, &str)]) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let dashboard = std::env::temp_dir().join(format!("cohort-dashboard-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dashboard).unwrap();
    std::fs::write(dashboard.join("index.html"), "<!doctype html><title>DASHBOARD</title>").unwrap();
    std::fs::write(
        dashboard.join("participant.html"),
        "<!doctype html><title>PARTICIPANT APP</title>",
    )
    .unwrap();
    let mut extra_env = vec![
        ("COHORT_SMTP_URL".to_owned(), sink.url.clone()),
        ("COHORT_DASHBOARD_DIR".to_owned(), dashboard.display().to_string()),
    ];
    extra_env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let app = TestApp::spawn_with(
        backend,
        Spawn {
            demo_data: demo,
            extra_env,
        },
    )
    .await;
    (app, sink)
}

/// The token of a link to `path` in an email to `to` that is none of `known`, once it arrived
/// (the sink does not keep the order of messages that arrive within a second).
async fn new_token(sink: &SmtpSink, to: &str, path: &str, known: &[&str]) -> String {
    for _ in 0..150 {
        let found = sink
            .messages()
            .iter()
            .filter(|m| m.contains(&format!("To: {to}")))
            .flat_map(|m| links_in(m))
            .filter(|l| l.contains(path))
            .map(|l| link_token(&l))
            .find(|t| !known.contains(&t.as_str()));
        if let Some(token) = found {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no new email to {to} with a link to {path}: {:?}", sink.messages());
}

async fn new_person(app: &TestApp, admin: &str, email: &str) -> String {
    let (status, person) = app
        .post("/api/v1/people", admin, json!({"email": email, "name": "Amara N"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{person}");
    assert_eq!(person["can_log_in"], false);
    person["id"].as_str().unwrap().to_owned()
}

both_backends!(
    async fn an_invited_person_sets_a_password_once_and_is_logged_in(backend: Backend) {
        let (app, sink) = app_with_mail(backend, false, &[]).await;
        let admin = app.admin_token().await;
        let person = new_person(&app, &admin, "amara@example.org").await;
        let (status, preview) = app
            .post(
                "/api/v1/people/invite",
                &admin,
                json!({"person_ids": [person], "preview": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(
            (preview["invited"].as_u64(), preview["preview"].as_bool()),
            (Some(1), Some(true))
        );
        assert!(preview["email"]["text"].as_str().unwrap().contains("Set your password"));
        assert!(sink.messages().is_empty(), "a preview sends nothing");

        let (status, sent) = app
            .post(&format!("/api/v1/people/{person}/invite"), &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
        let link = sink
            .link_to("amara@example.org", "/welcome?token=")
            .await
            .expect("an email with the link");
        assert!(
            link.starts_with(&format!("{}/welcome?token=lt_", app.base)),
            "absolute: {link}"
        );
        // The link opens a page of the participant app, which exists.
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("PARTICIPANT APP"));
        let token = link_token(&link);

        // A weak password is refused, and the link still works.
        let accept = "/api/v1/auth/accept-invitation";
        let (status, problem) = app
            .call(
                cohort_tests::reqwest::Method::POST,
                accept,
                cohort_tests::Auth::None,
                Some(json!({"token": token, "password": "password1"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&problem), ["password"]);
        let (status, tokens) = public_post(&app, accept, json!({"token": token, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let (status, me) = app.get("/api/v1/me", tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(
            (status, me["person"]["email"].as_str()),
            (StatusCode::OK, Some("amara@example.org"))
        );
        assert_eq!(me["person"]["can_log_in"], true);
        app.login("amara@example.org", PASSWORD).await;

        // Used up.
        let (status, problem) = public_post(
            &app,
            accept,
            json!({"token": token, "password": "another rare passphrase"}),
        )
        .await;
        assert_eq!(status, StatusCode::GONE, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("used"));
        // Unknown.
        let (status, _) = public_post(&app, accept, json!({"token": "lt_nothing", "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Someone who can log in is not invited.
        let (status, _) = app
            .post(&format!("/api/v1/people/{person}/invite"), &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, listed) = app
            .post("/api/v1/people/invite", &admin, json!({"person_ids": [person]}))
            .await;
        assert_eq!(
            (listed["invited"].as_u64(), listed["skipped_with_password"].as_u64()),
            (Some(0), Some(1))
        );
        // The audit log says who was invited and who accepted.
        let (_, log) = app.get("/api/v1/audit-log?limit=50", &admin).await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"person.invited") && actions.contains(&"person.invitation_accepted"),
            "{actions:?}"
        );
    }
);

async fn public_post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        cohort_tests::reqwest::Method::POST,
        path,
        cohort_tests::Auth::None,
        Some(body),
    )
    .await
}

both_backends!(
    async fn invitation_links_expire_are_replaced_and_stay_in_their_organisation(backend: Backend) {
        let (app, sink) = app_with_mail(backend, false, &[]).await;
        let admin = app.admin_token().await;
        let accept = "/api/v1/auth/accept-invitation";
        // Expired after 7 days: move the expiry into the past, as time would.
        let late = new_person(&app, &admin, "late@example.org").await;
        app.post(&format!("/api/v1/people/{late}/invite"), &admin, json!(null))
            .await;
        let token = link_token(
            &sink
                .link_to("late@example.org", "/welcome")
                .await
                .expect("an email with the link"),
        );
        app.execute_sql("UPDATE link_tokens SET expires_at = '2000-01-01 00:00:00'");
        let (status, problem) = public_post(&app, accept, json!({"token": token, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(problem["detail"].as_str().unwrap().contains("expired"), "{problem}");

        // Inviting again replaces the link: the first stops working, the second works.
        let again = new_person(&app, &admin, "again@example.org").await;
        app.post(&format!("/api/v1/people/{again}/invite"), &admin, json!(null))
            .await;
        let first = link_token(
            &sink
                .link_to("again@example.org", "/welcome")
                .await
                .expect("an email with the link"),
        );
        app.post(&format!("/api/v1/people/{again}/invite"), &admin, json!(null))
            .await;
        let second = new_token(&sink, "again@example.org", "/welcome", &[&first]).await;
        let (status, _) = public_post(&app, accept, json!({"token": first, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = public_post(&app, accept, json!({"token": second, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK);

        // A reset link is no invitation.
        public_post(
            &app,
            "/api/v1/auth/password-reset",
            json!({"email": "late@example.org"}),
        )
        .await;
        let reset = link_token(
            &sink
                .link_to("late@example.org", "/reset-password")
                .await
                .expect("an email with the link"),
        );
        let (status, _) = public_post(&app, accept, json!({"token": reset, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Another organisation's person with the same email: their link sets their password only.
        let admin_b = app.create_organization("Other Org", "boss@other.test").await;
        let twin = new_person(&app, &admin_b, "shared@example.org").await;
        let here = new_person(&app, &admin, "shared@example.org").await;
        app.post(&format!("/api/v1/people/{twin}/invite"), &admin_b, json!(null))
            .await;
        let (status, _) = app
            .post(&format!("/api/v1/people/{twin}/invite"), &admin, json!(null))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "B's person does not exist for A");
        let token = link_token(
            &sink
                .link_to("shared@example.org", "/welcome")
                .await
                .expect("an email with the link"),
        );
        let (status, _) = public_post(&app, accept, json!({"token": token, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, mine) = app.get(&format!("/api/v1/people/{here}"), &admin).await;
        assert_eq!(mine["can_log_in"], false, "A's person still has no password");

        // A program's members without a password, previewed and invited in one go.
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Spring"})).await;
        let program = program["id"].as_str().unwrap();
        for person in [&late, &again] {
            app.post(
                &format!("/api/v1/programs/{program}/participants"),
                &admin,
                json!({"person_id": person, "role": "mentee"}),
            )
            .await;
        }
        let (status, preview) = app
            .post(
                "/api/v1/people/invite",
                &admin,
                json!({"program_id": program, "preview": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["invited"], 1, "only the one without a password: {preview}");
        let (status, sent) = app
            .post("/api/v1/people/invite", &admin, json!({"program_id": program}))
            .await;
        assert_eq!((status, sent["invited"].as_u64()), (StatusCode::ACCEPTED, Some(1)));
        // Neither or both of the two ways to choose is a 422.
        let (status, problem) = app.post("/api/v1/people/invite", &admin, json!({})).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["person_ids".to_owned()])
        );
    }
);

both_backends!(
    async fn a_reset_answers_alike_for_anyone_and_ends_every_session(backend: Backend) {
        let (app, sink) = app_with_mail(backend, false, &[("COHORT_LOGIN_LIMIT_PER_ACCOUNT", "4")]).await;
        let session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let reset = "/api/v1/auth/password-reset";
        let (known_status, known) = public_post(&app, reset, json!({"email": ADMIN_EMAIL})).await;
        let (unknown_status, unknown) = public_post(&app, reset, json!({"email": "nobody@example.org"})).await;
        assert_eq!(
            (known_status, unknown_status),
            (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
        );
        assert_eq!(known, unknown, "the same answer whether or not the account exists");
        let link = sink
            .link_to(ADMIN_EMAIL, "/reset-password?token=")
            .await
            .expect("an email with the link");
        assert!(link.starts_with(&app.base), "{link}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sink.messages().len(), 1, "nothing to the unknown address");

        let confirm = "/api/v1/auth/password-reset/confirm";
        let token = link_token(&link);
        let (status, tokens) = public_post(&app, confirm, json!({"token": token, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        // The earlier login ends; the old password no longer works; the new one does.
        let (status, _) = public_post(
            &app,
            "/api/v1/auth/refresh",
            json!({"refresh_token": session.refresh_token}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        app.login(ADMIN_EMAIL, PASSWORD).await;
        let (status, _) = public_post(
            &app,
            "/api/v1/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "the reset's own login works");
        // Used up.
        let (status, _) = public_post(
            &app,
            confirm,
            json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
        assert_eq!(status, StatusCode::GONE);

        // An hour later the link has expired.
        public_post(&app, reset, json!({"email": ADMIN_EMAIL})).await;
        let used = token;
        let token = new_token(&sink, ADMIN_EMAIL, "/reset-password", &[&used]).await;
        app.execute_sql("UPDATE link_tokens SET expires_at = '2000-01-01 00:00:00' WHERE used_at IS NULL");
        let (status, _) = public_post(
            &app,
            confirm,
            json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
        assert_eq!(status, StatusCode::GONE);

        // Asking again and again for one address is limited, known or not.
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(public_post(&app, reset, json!({"email": "nobody@example.org"})).await.0);
        }
        assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    }
);

both_backends!(
    async fn people_change_their_own_password_and_other_sessions_end(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, token) = app.person_with_login(&admin, "member@example.org", false).await;
        let other_device = app.login("member@example.org", "person-password-0123").await;
        let (status, problem) = app
            .post(
                "/api/v1/me/password",
                &token,
                json!({"current_password": "wrong", "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["current_password".to_owned()])
        );
        let (status, problem) = app
            .post(
                "/api/v1/me/password",
                &token,
                json!({"current_password": "person-password-0123", "new_password": "short"}),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["new_password".to_owned()])
        );
        let (status, tokens) = app
            .post(
                "/api/v1/me/password",
                &token,
                json!({"current_password": "person-password-0123", "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let (status, _) = public_post(
            &app,
            "/api/v1/auth/refresh",
            json!({"refresh_token": other_device.refresh_token}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the other device is logged out");
        let (status, _) = public_post(
            &app,
            "/api/v1/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "this device goes on");
        app.login("member@example.org", PASSWORD).await;
        // API keys have no password.
        let (_, key) = app.post("/api/v1/api-keys", &admin, json!({"name": "k"})).await;
        let (status, _) = app
            .call(
                cohort_tests::reqwest::Method::POST,
                "/api/v1/me/password",
                cohort_tests::Auth::ApiKey(key["secret"].as_str().unwrap()),
                Some(json!({"current_password": ADMIN_PASSWORD, "new_password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    async fn every_email_kind_links_to_a_page_that_exists(backend: Backend) {
        let (app, sink) = app_with_mail(backend, false, &[("COHORT_PUBLIC_URL", "http://cohort.invalid/")]).await;
        let admin = app.admin_token().await;
        let (_, kinds) = app.get("/api/v1/email-templates", &admin).await;
        let kinds: Vec<String> = kinds["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["key"].as_str().unwrap().to_owned())
            .collect();
        assert!(kinds.len() >= 12, "{kinds:?}");
        for key in &kinds {
            let (status, queued) = app
                .post(&format!("/api/v1/email-templates/{key}/test"), &admin, json!(null))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{key}: {queued}");
        }
        // The participants' own emails, from real flows: an invitation, a request to a mentor
        // and the pairing it becomes (to both).
        let person = new_person(&app, &admin, "amara@example.org").await;
        app.post(&format!("/api/v1/people/{person}/invite"), &admin, json!(null))
            .await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Spring"})).await;
        let program = program["id"].as_str().unwrap().to_owned();
        app.patch(
            &format!("/api/v1/programs/{program}/pairing"),
            &admin,
            json!({"enabled": true}),
        )
        .await;
        let mut members = Vec::new();
        for (email, role) in [("mentee@example.org", "mentee"), ("mentor@example.org", "mentor")] {
            let (id, token) = app.person_with_login(&admin, email, false).await;
            let (status, body) = app
                .post(
                    &format!("/api/v1/programs/{program}/participants"),
                    &admin,
                    json!({"person_id": id, "role": role}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            members.push((id, token));
        }
        let (status, made) = app
            .post(
                &format!("/api/v1/programs/{program}/requests"),
                &members[0].1,
                json!({"mentor_id": members[1].0, "note": "Hello"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let request = made["request"]["id"].as_str().unwrap();
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/requests/{request}/approve"),
                &members[1].1,
                json!(null),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let mail = sink.wait_for(kinds.len() + 4).await;
        let to_mentee = mail.iter().find(|m| m.contains("To: mentee@example.org")).unwrap();
        let expected = format!("http://cohort.invalid/me/programs/{program}");
        assert!(
            links_in(to_mentee).contains(&expected),
            "the participant's page of the program: {to_mentee}"
        );
        for message in &mail {
            let links = links_in(message);
            let ours: Vec<&String> = links
                .iter()
                .filter(|l| l.starts_with("http://cohort.invalid/"))
                .collect();
            // Only the delivery check ("Test email from …") has nothing to open.
            let test = message.contains("Subject: Test email from");
            assert!(
                test || !ours.is_empty(),
                "an email without a link under COHORT_PUBLIC_URL: {message}"
            );
            assert!(
                !message.contains("href=\"/") && !message.contains("href=3D\"/"),
                "a relative link: {message}"
            );
            for link in ours {
                // Fetched from the server itself: the public URL stands for it.
                let path = link.strip_prefix("http://cohort.invalid").unwrap();
                let page = app.client.get(app.url(path)).send().await.unwrap();
                assert_eq!(page.status(), StatusCode::OK, "{link} is not a page");
                // Served by the app that shows it: participants' links by their own app.
                let app_page = match cohort_api_types::links::app_of(path).0 {
                    cohort_api_types::links::WebApp::Dashboard => "DASHBOARD",
                    cohort_api_types::links::WebApp::Participant => "PARTICIPANT APP",
                };
                assert!(page.text().await.unwrap().contains(app_page), "{link}");
            }
        }
        // A path the dashboard does not know is a 404, still with the dashboard to say so.
        let missing = app.client.get(app.url("/no-such-page")).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
);

both_backends!(
    async fn a_participants_import_may_invite_the_people_it_creates(backend: Backend) {
        let (app, sink) = app_with_mail(backend, false, &[]).await;
        let admin = app.admin_token().await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Autumn"})).await;
        let program = program["id"].as_str().unwrap().to_owned();
        // Someone the organisation knows already is not invited again.
        new_person(&app, &admin, "known@example.org").await;
        let file = "email,name,role\nnew.one@example.org,New One,mentee\nnew.two@example.org,New Two,mentor\n\
                    known@example.org,Known,mentee\n";
        let upload = |query: &'static str| {
            app.request(
                cohort_tests::reqwest::Method::POST,
                &format!("/api/v1/imports/participants?program_id={program}{query}"),
            )
            .bearer_auth(&admin)
            .header("Content-Type", "text/csv")
            .body(file)
            .send()
        };
        // Only participants take the option.
        let services = app
            .request(
                cohort_tests::reqwest::Method::POST,
                "/api/v1/imports/services?invite=true",
            )
            .bearer_auth(&admin)
            .header("Content-Type", "text/csv")
            .body("name\n")
            .send()
            .await
            .unwrap();
        assert_eq!(services.status(), StatusCode::BAD_REQUEST);
        // A dry run invites nobody.
        let checked = upload("&dry_run=true&invite=true").await.unwrap();
        assert_eq!(checked.status(), StatusCode::OK);
        let applied = upload("&invite=true").await.unwrap();
        assert_eq!(applied.status(), StatusCode::OK, "{}", applied.text().await.unwrap());
        for to in ["new.one@example.org", "new.two@example.org"] {
            let link = sink
                .link_to(to, "/welcome?token=")
                .await
                .expect("an email with the link");
            assert!(link.starts_with(&app.base), "{link}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mail = sink.messages();
        assert_eq!(mail.len(), 2, "the two new people only");
        assert!(mail.iter().all(|m| m.contains("Autumn")), "the email names the program");
    }
);
