//! The audit log and a person's data (export and erasure).

use super::*;

#[tokio::test]
async fn an_admin_filters_the_audit_log_after_a_change_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    app.post("/api/v1/programs", &admin, json!({"name": "Noise"})).await;
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        // A change made in the dashboard…
        c.goto(&app.url("/programs/new")).await?;
        fill(c, "#program-name", "Audited Spring").await?;
        click_button(c, "Create program").await?;
        text_appears(c, "Audited Spring").await?;
        // …is in the log, from the dashboard, and the filter narrows the log to it.
        click_link(c, "Audit log").await?;
        text_appears(c, "Audit log").await?;
        text_appears(c, "Noise").await?;
        fill(c, "#audit-action", "program.created").await?;
        select(c, "#audit-source", "dashboard").await?;
        click_button(c, "Filter").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//table[contains(@class,'audit')][count(.//tr[contains(@class,'audit-entry')])=1]",
            ))
            .await?;
        let rows = c.find_all(Locator::Css("tr.audit-entry")).await?;
        let text = rows[0].text().await?;
        ensure(
            text.contains("Audited Spring") && text.contains("Dashboard") && !text.contains("Noise"),
            format!("the filtered log shows the dashboard's change only: {text}"),
        )?;
        shot(c, "audit-log").await?;
        Ok(())
    }
    .await;
    browser.finish("audit-log", outcome).await;
}

#[tokio::test]
async fn an_admin_exports_and_erases_a_person_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (status, person) = app
        .post(
            "/api/v1/people",
            &admin,
            json!({"email": "ingrid.vance@demo.test", "name": "Ingrid Vance"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{person}");
    let id = person["id"].as_str().unwrap().to_owned();
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        click_link(c, "People").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Ingrid Vance"))
            .await?
            .click()
            .await?;
        text_appears(c, "ingrid.vance@demo.test").await?;
        ensure(
            c.current_url().await?.path() == format!("/people/{id}"),
            "a deep link per person",
        )?;
        click_button(c, "Export data").await?;
        text_appears(c, "The data export was downloaded.").await?;
        click_button(c, "Erase…").await?;
        let confirm = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#erase-confirm-button"))
            .await?;
        ensure(
            confirm.attr("disabled").await?.is_some(),
            "erasing waits for the email to be typed",
        )?;
        fill(c, "#erase-confirm", "ingrid.vance@demo.test").await?;
        shot(c, "erase-dialog").await?;
        click_button(c, "Erase this person").await?;
        text_appears(c, "The person was erased.").await?;
        text_appears(c, "Erased person").await?;
        let (_, after) = app.get(&format!("/api/v1/people/{id}"), &admin).await;
        ensure(
            after["name"] == "Erased person",
            format!("erased on the server: {after}"),
        )?;
        ensure(
            app.count("people WHERE email = 'ingrid.vance@demo.test'") == 0,
            "the email is gone",
        )?;
        Ok(())
    }
    .await;
    browser.finish("erase-person", outcome).await;
}
