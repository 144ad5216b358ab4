//! A program's steps.

use super::*;

#[tokio::test]
async fn an_admin_creates_edits_and_deletes_steps_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (_, programs) = app.get("/api/v1/programs", &admin).await;
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();
    let steps_url = app.url(&format!("/programs/{program}/steps"));
    // The demo's own steps go first: the page starts from a program without steps.
    let (_, demo_steps) = app.get(&format!("/api/v1/programs/{program}/steps"), &admin).await;
    for step in demo_steps["items"].as_array().unwrap() {
        let path = format!("/api/v1/programs/{program}/steps/{}", step["id"].as_str().unwrap());
        assert_eq!(app.delete(&path, &admin).await.0.as_u16(), 204);
    }
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        click_link(c, "2027 Spring Cohort").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Steps"))
            .await?
            .click()
            .await?;
        text_appears(c, "No steps yet.").await?;

        // Create an instant step for mentees: the six demo mentees get it.
        fill(c, "#step-title", "Complete your profile").await?;
        select(c, "#step-viewer", "mentee").await?;
        click_button(c, "Create step").await?;
        text_appears(c, "Saved “Complete your profile”.").await?;
        let mut delivered = String::new();
        for _ in 0..30 {
            c.goto(&steps_url).await?;
            let cell = c
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css("table.list tbody tr td:nth-child(4)"))
                .await?;
            delivered = cell.text().await?;
            if delivered == "6" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ensure(
            delivered == "6",
            format!("six mentees got the step, the list says {delivered}"),
        )?;

        // The publish type switches the fields; a time the clocks skip is refused under its field.
        fill(c, "#step-title", "Kick-off").await?;
        select(c, "#step-publish", "scheduled").await?;
        ensure(
            c.find(Locator::Css("#step-trigger")).await.is_err(),
            "no trigger for a scheduled step",
        )?;
        text_appears(c, "In the program's time zone, America/New_York").await?;
        set_value(c, "#step-scheduled", "2027-03-14T02:30").await?;
        click_button(c, "Create step").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#step-scheduled-error"))
            .await?;
        ensure(
            error.text().await?.contains("does not exist in America/New_York"),
            "the skipped hour is named under the date-time field",
        )?;
        shot(c, "step-dst-error").await?;
        select(c, "#step-publish", "triggered").await?;
        ensure(
            c.find(Locator::Css("#step-scheduled")).await.is_err(),
            "no date-time for a triggered step",
        )?;
        select(c, "#step-trigger", "first_match").await?;
        fill(c, "#step-delay", "2").await?;
        select(c, "#step-delay-unit", "days").await?;
        click_button(c, "Create step").await?;
        text_appears(c, "Saved “Kick-off”.").await?;
        text_appears(c, "First match, after 2 days").await?;
        shot(c, "steps").await?;

        // Edit: the form fills with the step; saving changes the list.
        click_labelled(c, "Edit Complete your profile").await?;
        text_appears(c, "Edit step").await?;
        let title = c.find(Locator::Css("#step-title")).await?;
        ensure(
            title.prop("value").await?.as_deref() == Some("Complete your profile"),
            "the form holds the step",
        )?;
        fill(c, "#step-title", "Complete your profile today").await?;
        click_button(c, "Save step").await?;
        text_appears(c, "Saved “Complete your profile today”.").await?;

        // Delete asks first, then the step is gone.
        click_labelled(c, "Delete Kick-off").await?;
        text_appears(c, "Delete “Kick-off”?").await?;
        click_button(c, "Keep it").await?;
        click_labelled(c, "Delete Complete your profile today").await?;
        text_appears(c, "It leaves the feed of all 6 participants who have it.").await?;
        click_button(c, "Delete step").await?;
        text_appears(c, "Deleted “Complete your profile today”.").await?;
        let mut rows = 0;
        for _ in 0..50 {
            rows = c.find_all(Locator::Css("table.list tbody tr")).await?.len();
            if rows == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(rows == 1, format!("one step left, {rows} rows"))?;
        Ok(())
    }
    .await;
    browser.finish("steps_page", outcome).await;
    let (_, steps) = app.get(&format!("/api/v1/programs/{program}/steps"), &admin).await;
    assert_eq!(steps["items"].as_array().unwrap().len(), 1);
    assert_eq!(steps["items"][0]["title"], "Kick-off");
}
