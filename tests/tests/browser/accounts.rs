//! Getting in from an email: an invitation's "Set your password", and "Forgot your password?".

use super::*;
use cohort_tests::{SmtpSink, Spawn};

async fn app_with_mail(backend: Backend) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(
        backend,
        Spawn {
            demo_data: false,
            extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
        },
    )
    .await;
    (app, sink)
}

cohort_tests::both_backends!(
    async fn an_invited_person_opens_the_link_sets_a_password_and_is_logged_in(backend: Backend) {
        dashboard_app_env();
        let (app, sink) = app_with_mail(backend).await;
        let admin = app.admin_token().await;
        let (_, person) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "amara@demo.test", "name": "Amara Nwosu"}),
            )
            .await;
        let id = person["id"].as_str().unwrap().to_owned();
        // A program she takes part in, with a step for her.
        let (_, program) = app
            .post("/api/v1/programs", &admin, json!({"name": "Spring Mentoring"}))
            .await;
        let program = program["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                &admin,
                json!({"person_id": id, "role": "mentee"}),
            )
            .await;
        assert_eq!(status.as_u16(), 201, "{body}");
        let (status, body) = app
            .post(
                &format!("/api/v1/programs/{program}/steps"),
                &admin,
                json!({"title": "Write your first goal", "viewer_type": "all", "action_type": "set_goal",
                   "publish_type": "instant"}),
            )
            .await;
        assert_eq!(status.as_u16(), 201, "{body}");
        let browser = Browser::start().await;
        let outcome = async {
            let c = &browser.client;
            log_in(c, &app).await?;
            c.goto(&app.url(&format!("/people/{id}"))).await?;
            text_appears(c, "Cannot log in yet").await?;
            click_button(c, "Send an invitation").await?;
            text_appears(c, "The invitation is on its way").await?;
            click_button(c, "Log out").await?;
            text_appears(c, "Log in").await?;

            let link = sink
                .link_to("amara@demo.test", "/welcome?token=")
                .await
                .ok_or("no email with the link")?;
            c.goto(&link).await?;
            text_appears(c, "Set your password").await?;
            fill(c, "#new-password", "a long and rare passphrase").await?;
            fill(c, "#repeat-password", "a long and rare passphrase").await?;
            shot(c, "welcome").await?;
            click_button(c, "Set password and log in").await?;
            // Logged in, on their own page: her program and her step, which she completes.
            text_appears(c, "Hi Amara").await?;
            text_appears(c, "Spring Mentoring").await?;
            text_appears(c, "Write your first goal").await?;
            shot(c, "participant-home").await?;
            click_labelled(c, "Mark done: Write your first goal").await?;
            text_appears(c, "Nothing to do right now.").await?;
            // Her steps page has it, completed.
            click_link(c, "Steps").await?;
            text_appears(c, "All your steps are done.").await?;
            text_appears(c, "Completed").await?;
            // The link is used up: opening it again says so, with a way to a new one.
            c.goto(&link).await?;
            fill(c, "#new-password", "another rare passphrase").await?;
            fill(c, "#repeat-password", "another rare passphrase").await?;
            click_button(c, "Set password and log in").await?;
            text_appears(c, "This link was used already").await?;
            click_link(c, "Send me a new link").await?;
            text_appears(c, "Forgot your password?").await
        }
        .await;
        browser.finish(&format!("invitation-{backend:?}"), outcome).await;
    }
);

#[tokio::test]
async fn forgot_password_sends_a_link_that_sets_a_new_one_and_ends_the_old_session() {
    dashboard_app_env();
    let (app, sink) = app_with_mail(Backend::Sqlite).await;
    let old_session = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        c.goto(&app.url("/login")).await?;
        click_link(c, "Forgot your password?").await?;
        fill(c, "#reset-email", ADMIN_EMAIL).await?;
        click_button(c, "Send me a link").await?;
        text_appears(c, "If an account uses this address").await?;

        let link = sink
            .link_to(ADMIN_EMAIL, "/reset-password?token=")
            .await
            .ok_or("no email with the link")?;
        c.goto(&link).await?;
        text_appears(c, "Choose a new password").await?;
        fill(c, "#new-password", "a brand new passphrase").await?;
        fill(c, "#repeat-password", "a different passphrase").await?;
        click_button(c, "Save password and log in").await?;
        text_appears(c, "The two passwords differ.").await?;
        fill(c, "#repeat-password", "a brand new passphrase").await?;
        click_button(c, "Save password and log in").await?;
        // An admin lands on the dashboard.
        text_appears(c, "Programs").await?;

        // The session from before the reset is refused.
        let (status, _) = app
            .call(
                cohort_tests::reqwest::Method::POST,
                "/api/v1/auth/refresh",
                cohort_tests::Auth::None,
                Some(json!({"refresh_token": old_session.refresh_token})),
            )
            .await;
        ensure(status.as_u16() == 401, format!("the old session answers {status}"))?;
        ensure(
            app.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await.0.as_u16() == 401,
            "the old password is refused",
        )
    }
    .await;
    browser.finish("password-reset", outcome).await;
}
