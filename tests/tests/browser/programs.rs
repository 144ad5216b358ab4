//! Programs and participants, and the organisation's settings.

use super::*;

async fn admin_journey(c: &Client, app: &TestApp) -> Outcome {
    // Logging in lands on the programs, which show the organisation's own word for providers.
    c.goto(&app.url("/programs")).await?;
    c.wait().at_most(WAIT).for_element(Locator::Css("#email")).await?;
    ensure(
        c.current_url().await?.path() == "/login",
        "an anonymous visit goes to the login page",
    )?;
    fill(c, "#email", ADMIN_EMAIL).await?;
    fill(c, "#password", "not the password").await?;
    click_button(c, "Log in").await?;
    text_appears(c, "The email or password is not correct.").await?;
    shot(c, "login-error").await?;
    fill(c, "#password", ADMIN_PASSWORD).await?;
    click_button(c, "Log in").await?;
    text_appears(c, "2027 Spring Cohort").await?;
    text_appears(c, "Peer Mentors").await?;
    shot(c, "programs").await?;

    // A validation error from the server's problem JSON shows next to its field.
    click_link(c, "New program").await?;
    fill(c, "#program-name", &"x".repeat(121)).await?;
    click_button(c, "Create program").await?;
    let error = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#program-name-error"))
        .await?;
    ensure(
        error.text().await?.contains("at most 120"),
        "the name's error is shown under the name",
    )?;
    shot(c, "new-program-error").await?;
    fill(c, "#program-name", "Browser Cohort").await?;
    click_button(c, "Create program").await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//h1[text()='Browser Cohort']"))
        .await?;
    let program_url = c.current_url().await?;
    ensure(
        program_url.path().starts_with("/programs/"),
        format!("landed on {program_url}"),
    )?;
    text_appears(c, "Nobody takes part yet").await?;

    // Add a participant through the people search.
    fill(c, "#person-search", "brenda").await?;
    click_button(c, "Find").await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".add-people input[type=checkbox]"))
        .await?
        .click()
        .await?;
    click_button(c, "Add 1 selected").await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//table//td[normalize-space(.)='Brenda Browser']"))
        .await?;

    shot(c, "program").await?;

    // A deep link survives a reload, and an expired access token is refreshed on the way.
    c.execute(
        "const s = JSON.parse(sessionStorage.getItem('cohort.session')); \
         s.access_token = 'expired'; sessionStorage.setItem('cohort.session', JSON.stringify(s));",
        vec![],
    )
    .await?;
    c.refresh().await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//h1[text()='Browser Cohort']"))
        .await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//table//td[normalize-space(.)='Brenda Browser']"))
        .await?;

    let session = c
        .execute("return sessionStorage.getItem('cohort.session')", vec![])
        .await?;
    ensure(
        !session.to_string().contains("expired"),
        "the access token was refreshed",
    )?;

    // Back and forward move through the app's history.
    c.back().await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//h1[text()='New program']"))
        .await?;
    c.forward().await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//h1[text()='Browser Cohort']"))
        .await?;

    // Removing asks first.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("button[aria-label='Remove Brenda Browser']"))
        .await?
        .click()
        .await?;
    c.accept_alert().await?;
    text_appears(c, "Nobody takes part yet").await?;

    // Logging out returns to the login page, and the session is gone.
    click_button(c, "Log out").await?;
    c.wait().at_most(WAIT).for_element(Locator::Css("#email")).await?;
    c.goto(program_url.as_ref()).await?;
    c.wait().at_most(WAIT).for_element(Locator::Css("#email")).await?;
    ensure(
        c.current_url().await?.path() == "/login",
        "after logging out, pages lead to the login",
    )?;
    Ok(())
}

#[tokio::test]
async fn an_admin_manages_programs_and_participants_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (status, _) = app
        .post(
            "/api/v1/people",
            &admin,
            json!({"email": "brenda@example.org", "name": "Brenda Browser"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201);
    let browser = Browser::start().await;
    let outcome = admin_journey(&browser.client, &app).await;
    browser.finish("admin_journey", outcome).await;
}

#[tokio::test]
async fn settings_show_field_errors_and_save() {
    dashboard_app_env();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, _) = app
        .post("/api/v1/programs", &app.admin_token().await, json!({"name": "Autumn"}))
        .await;
    assert_eq!(status.as_u16(), 201);
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        c.goto(&app.url("/settings")).await?;
        fill(c, "#label-provider-singular", " ").await?;
        fill(c, "#org-holidays", "2026-12-25\n2026-12-26").await?;
        click_button(c, "Save settings").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#label-provider-singular-error"))
            .await?;
        ensure(
            error.text().await?.contains("must not be empty"),
            "the empty label's error sits under it",
        )?;
        shot(c, "settings-error").await?;
        fill(c, "#label-provider-singular", "Coach").await?;
        fill(c, "#label-provider-plural", "Coaches").await?;
        click_button(c, "Save settings").await?;
        text_appears(c, "Saved.").await?;
        let (_, org) = app.get("/api/v1/organization", &app.admin_token().await).await;
        ensure(
            org["labels"]["provider_plural"] == "Coaches",
            format!("saved labels: {org}"),
        )?;
        ensure(
            org["holidays"] == json!(["2026-12-25", "2026-12-26"]),
            format!("saved holidays: {org}"),
        )?;
        // The new word is used across the UI at once.
        click_link(c, "Programs").await?;
        text_appears(c, "Coaches").await?;
        Ok(())
    }
    .await;
    browser.finish("settings", outcome).await;
}
