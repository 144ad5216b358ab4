//! Automations: building, activating and watching runs.

use super::*;

#[tokio::test]
async fn an_admin_builds_activates_and_watches_an_automation_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (_, programs) = app.get("/api/v1/programs", &admin).await;
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Automations"))
            .await?
            .click()
            .await?;
        text_appears(c, "No automations yet").await?;
        click_link(c, "New automation").await?;
        // When someone joins a program, if they are a mentee, then a notification.
        select(c, "#automation-trigger", "participant.joined").await?;
        select(c, "#automation-frequency", "once_per_contact").await?;
        click_button(c, "Add condition").await?;
        set_value(c, "#condition-0-field", "participant.role").await?;
        set_value(c, "#condition-0-value", "mentee").await?;
        set_value(c, "#action-0-title", "Welcome aboard").await?;
        set_value(c, "#action-0-body", "Your first step is waiting.").await?;
        c.find(Locator::Css("#automation-active")).await?.click().await?;
        click_button(c, "Save automation").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#automation-name-error"))
            .await?;
        ensure(!error.text().await?.is_empty(), "a name is required")?;
        set_value(c, "#automation-name", "Welcome mentees").await?;
        click_button(c, "Save automation").await?;
        text_appears(c, "Saved (version 1).").await?;
        shot(c, "automation-builder").await?;
        // Someone joins: the history shows the run with its action done.
        let (person, _) = app.person_with_login(&admin, "new.mentee@demo.test", false).await;
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                &admin,
                json!({"person_id": person, "role": "mentee"}),
            )
            .await;
        ensure(status.as_u16() == 201, "joined")?;
        text_appears(c, "ran").await?;
        text_appears(c, "1: done").await?;
        shot(c, "automation-history").await?;
        // A join whose run the database refuses: the event is left out, and the list says so.
        let (poisoned, _) = app.person_with_login(&admin, "poisoned@demo.test", false).await;
        app.execute_sql(&format!(
            "CREATE TRIGGER poison BEFORE INSERT ON automation_runs WHEN NEW.person_id = '{poisoned}' \
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;"
        ));
        app.post(
            &format!("/api/v1/programs/{program}/participants"),
            &admin,
            json!({"person_id": poisoned, "role": "mentee"}),
        )
        .await;
        for _ in 0..200 {
            if app.count("automation_queue WHERE attempts = 5") == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(app.count("automation_queue WHERE attempts = 5") == 1, "left out")?;
        click_link(c, "All automations").await?;
        text_appears(c, "1 event could not be matched").await?;
        text_appears(c, "refused for the test").await?;
        shot(c, "automations-left-out").await?;
        // Mended, then matched again: the run happens.
        app.execute_sql("DROP TRIGGER poison");
        click_button(c, "Match them again").await?;
        text_appears(c, "1 event meets the automations again.").await?;
        for _ in 0..100 {
            if app.count("automation_runs") == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(app.count("automation_runs") == 2, "the left-out event ran")?;
        let switch = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("input[aria-label='Welcome mentees active']"))
            .await?;
        ensure(switch.is_selected().await?, "it is on")?;
        switch.click().await?;
        for _ in 0..30 {
            if !c
                .find(Locator::Css("input[aria-label='Welcome mentees active']"))
                .await?
                .is_selected()
                .await?
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        shot(c, "automations").await?;
        Ok(())
    }
    .await;
    browser.finish("automation_history", outcome).await;
    let (_, list) = app.get("/api/v1/automations", &admin).await;
    let a = &list["items"][0];
    assert_eq!(
        (a["active"].as_bool(), a["counts"]["actions_done"].as_u64()),
        (Some(false), Some(2)),
        "{a}"
    );
}
