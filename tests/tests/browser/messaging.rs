//! Emails, webhooks and the notification log.

use super::*;

#[tokio::test]
async fn messaging_pages_edit_emails_and_watch_webhooks() {
    dashboard_app_env();
    let sink = cohort_tests::SmtpSink::start().await;
    let receiver = cohort_tests::WebhookReceiver::start().await;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        cohort_tests::Spawn {
            demo_data: false,
            extra_env: vec![
                ("COHORT_SMTP_URL".into(), sink.url.clone()),
                ("COHORT_WEBHOOKS_ALLOW_PRIVATE".into(), "true".into()),
                // A failing delivery gives up within seconds (eight attempts from 40 ms).
                ("COHORT_JOB_RETRY_BASE_MS".into(), "40".into()),
                ("COHORT_JOB_RETRY_SPAN_SECS".into(), "3".into()),
            ],
        },
    )
    .await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let me_id = me["person"]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/people/{me_id}/notifications"),
        &admin,
        json!({"title": "Logged notice"}),
    )
    .await;
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;

        // The email editor previews live, shows template errors under their field, saves, and sends a test.
        click_link(c, "Emails").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Invitation: submit your mentor preferences"))
            .await?
            .click()
            .await?;
        fill(c, "#email-subject", "Hi {{ nope }}").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#email-subject-error"))
            .await?;
        ensure(
            error.text().await?.contains("placeholder"),
            "an unknown placeholder is named under the subject",
        )?;
        fill(c, "#email-subject", "Hi {{ recipient.first_name }}!").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//span[@id='preview-subject'][text()='Hi Amara!']"))
            .await?;
        shot(c, "email-editor").await?;
        click_button(c, "Save").await?;
        text_appears(c, "Saved.").await?;
        click_button(c, "Send me a test").await?;
        text_appears(c, "A test email is on its way").await?;
        let mail = sink.wait_for(1).await;
        ensure(
            mail[0].contains("Subject: Hi Ada!"),
            format!("the test email uses the saved wording: {}", mail[0]),
        )?;

        // Webhooks: add an endpoint, see its secret once, send a test event, watch the log.
        click_link(c, "Webhooks").await?;
        fill(c, "#webhook-url", &receiver.url).await?;
        click_button(c, "Add endpoint").await?;
        let secret = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#webhook-secret"))
            .await?
            .text()
            .await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText(&receiver.url))
            .await?
            .click()
            .await?;
        click_button(c, "Send test event").await?;
        receiver.wait_for(1).await;
        let mut delivered = false;
        for _ in 0..30 {
            click_button(c, "Refresh").await?;
            if c.find(Locator::Css("td.delivery-status.succeeded")).await.is_ok() {
                delivered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ensure(delivered, "the delivery log shows the test event as succeeded")?;
        shot(c, "webhook").await?;
        ensure(
            receiver.verify(&secret).await == ["ok webhook.test"],
            "the secret shown verifies the delivery",
        )?;

        // A delivery the endpoint keeps refusing gives up; the notification log lists it with its
        // last error, and Retry queues it again.
        receiver.answer(500);
        click_button(c, "Send test event").await?;
        receiver.wait_for(9).await;
        let mut dead = false;
        for _ in 0..100 {
            let (_, page) = app.get("/api/v1/jobs/dead", &admin).await;
            if page["items"].as_array().is_some_and(|i| !i.is_empty()) {
                dead = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(dead, "the refused delivery gave up")?;

        // The notification log lists what people received.
        click_link(c, "Notifications").await?;
        text_appears(c, "Logged notice").await?;
        let row = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("tr.dead-job"))
            .await?
            .text()
            .await?;
        ensure(
            row.contains("Webhook delivery") && row.contains("500"),
            format!("the dead delivery shows what it was and its last error: {row}"),
        )?;
        shot(c, "notification-log").await?;
        receiver.answer(200);
        click_button(c, "Retry").await?;
        text_appears(c, "Queued again").await?;
        receiver.wait_for(10).await;
        ensure(
            receiver.verify(&secret).await.last().map(String::as_str) == Some("ok webhook.test"),
            "the retried delivery arrives",
        )?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//p[contains(text(), 'everything sent so far')]"))
            .await?;
        Ok(())
    }
    .await;
    browser.finish("messaging", outcome).await;
}
