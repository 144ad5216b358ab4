//! The dashboard in a real browser (headless Chromium through chromedriver)
//! against the real `cohort` binary: log in, create a program (after a
//! validation error), add and remove a participant, reload a deep link, go
//! back and forward, log out. On failure the page's screenshot and HTML are
//! saved under `target/browser-failures/`.

use std::error::Error;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use cohort_tests::serde_json::{json, Map};
use cohort_tests::{Backend, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

type Outcome = Result<(), Box<dyn Error>>;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(15);

struct Browser {
    client: Client,
    _driver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "browser tests need Debian's chromium and chromium-driver (cargo xtask test installs them)"
        );
        let port = cohort_tests::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!("cohort-chromium-{}", uuid::Uuid::now_v7()));
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let mut capabilities = Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({"binary": CHROMIUM, "args": args}));
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities);
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match builder.connect(&url).await {
                Ok(client) => {
                    return Self {
                        client,
                        _driver: driver,
                        profile,
                    }
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot reach chromedriver: {last:?}");
    }

    /// Saves what the browser shows, for a failed test to be read afterwards.
    async fn save_failure(&self, name: &str) -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        // target/debug/deps/browser-… → target/browser-failures
        let dir = exe.ancestors().nth(3).unwrap().join("browser-failures");
        std::fs::create_dir_all(&dir).unwrap();
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
        if let Ok(html) = self.client.source().await {
            std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
        }
        dir
    }

    async fn finish(self, name: &str, outcome: Outcome) {
        if let Err(e) = outcome {
            let dir = self.save_failure(name).await;
            let _ = self.client.close().await;
            let _ = std::fs::remove_dir_all(&self.profile);
            panic!("{name}: {e} (screenshot and HTML in {})", dir.display());
        }
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn dashboard_app_env() {
    let dir = std::env::var("COHORT_DASHBOARD_DIR").unwrap_or_default();
    assert!(
        std::path::Path::new(&dir).join("index.html").is_file(),
        "set COHORT_DASHBOARD_DIR to a built dashboard (cargo xtask dashboard; cargo xtask test does both)"
    );
}

/// With `COHORT_SCREENSHOTS=<dir>`, saves what the page looks like (for reviews and notes).
async fn shot(c: &Client, name: &str) -> Outcome {
    if let Some(dir) = std::env::var_os("COHORT_SCREENSHOTS") {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), c.screenshot().await?)?;
    }
    Ok(())
}

fn ensure(condition: bool, message: impl Into<String>) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}

async fn text_appears(c: &Client, text: &str) -> Outcome {
    let xpath = format!("//*[contains(normalize-space(text()), {})]", xpath_literal(text));
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&xpath))
        .await
        .map_err(|e| format!("waiting for {text:?}: {e}"))?;
    Ok(())
}

fn xpath_literal(text: &str) -> String {
    if text.contains('\'') {
        format!("\"{text}\"")
    } else {
        format!("'{text}'")
    }
}

async fn click_button(c: &Client, text: &str) -> Outcome {
    let xpath = format!("//button[normalize-space(.)={}]", xpath_literal(text));
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&xpath))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn fill(c: &Client, css: &str, text: &str) -> Outcome {
    let input = c.wait().at_most(WAIT).for_element(Locator::Css(css)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

/// Logs the demo admin in through the login page.
async fn log_in(c: &Client, app: &TestApp) -> Outcome {
    c.goto(&app.url("/login")).await?;
    fill(c, "#email", ADMIN_EMAIL).await?;
    fill(c, "#password", ADMIN_PASSWORD).await?;
    click_button(c, "Log in").await?;
    text_appears(c, "Programs").await
}

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
    c.find(Locator::LinkText("New program")).await?.click().await?;
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
        c.find(Locator::LinkText("Programs")).await?.click().await?;
        text_appears(c, "Coaches").await?;
        Ok(())
    }
    .await;
    browser.finish("settings", outcome).await;
}

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
        c.find(Locator::LinkText("Emails")).await?.click().await?;
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
        c.find(Locator::LinkText("Webhooks")).await?.click().await?;
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
        c.find(Locator::LinkText("Notifications")).await?.click().await?;
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

/// Sets an input the way typing would (date and time inputs do not take keystrokes portably).
async fn set_value(c: &Client, css: &str, value: &str) -> Outcome {
    c.wait().at_most(WAIT).for_element(Locator::Css(css)).await?;
    c.execute(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
         e.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(css), json!(value)],
    )
    .await?;
    Ok(())
}

async fn select(c: &Client, css: &str, value: &str) -> Outcome {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await?
        .select_by_value(value)
        .await?;
    Ok(())
}

/// Clicks the button with this accessible name; a button re-rendered between finding and
/// clicking (a list that just reloaded) is found again.
async fn click_labelled(c: &Client, label: &str) -> Outcome {
    let xpath = format!("//button[@aria-label={}]", xpath_literal(label));
    for _ in 0..5 {
        let button = c.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await?;
        match button.click().await {
            Err(e) if e.to_string().contains("stale element") => tokio::time::sleep(Duration::from_millis(100)).await,
            other => return Ok(other?),
        }
    }
    Err(format!("{label:?} kept going stale").into())
}

#[tokio::test]
async fn an_admin_creates_edits_and_deletes_steps_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (_, programs) = app.get("/api/v1/programs", &admin).await;
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();
    let steps_url = app.url(&format!("/programs/{program}/steps"));
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        c.find(Locator::LinkText("2027 Spring Cohort")).await?.click().await?;
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

#[tokio::test]
async fn an_admin_turns_pairing_on_invites_all_and_ends_a_pairing_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (_, programs) = app.get("/api/v1/programs", &admin).await;
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, people) = app
        .get(&format!("/api/v1/programs/{program}/participants?limit=50"), &admin)
        .await;
    let people = people["items"].as_array().unwrap().clone();
    let first = |role: &str| people.iter().find(|p| p["role"] == role).unwrap().clone();
    let (mentee, mentor) = (first("mentee"), first("mentor"));
    // One pairing made through the API (user-led), then pairing is switched off again.
    let settings = format!("/api/v1/programs/{program}/pairing");
    app.patch(&settings, &admin, json!({"enabled": true, "process": "user_led"}))
        .await;
    let (status, made) = app
        .post(
            &format!("/api/v1/programs/{program}/requests"),
            &admin,
            json!({"mentor_id": mentor["person_id"], "mentee_id": mentee["person_id"]}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{made}");
    app.patch(&settings, &admin, json!({"enabled": false})).await;
    let mentees = people.iter().filter(|p| p["role"] == "mentee").count();

    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        c.find(Locator::LinkText("2027 Spring Cohort")).await?.click().await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Pairing"))
            .await?
            .click()
            .await?;
        let switch = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#pairing-enabled"))
            .await?;
        ensure(!switch.is_selected().await?, "pairing starts off")?;
        switch.click().await?;
        c.find(Locator::Css("#checklist-participants_added"))
            .await?
            .click()
            .await?;
        click_button(c, "Save settings").await?;
        text_appears(c, "Saved. Pairing is on.").await?;
        // The one pairing is new and quiet.
        text_appears(c, "Too early to tell").await?;
        c.find(Locator::Css("svg[aria-label='Active pairings per week'] rect"))
            .await?;

        // Invite all: the count and the email first, then the sending.
        let unpaired = mentees - 1;
        click_button(c, "Invite all").await?;
        text_appears(c, &format!("{unpaired} invitations will go out.")).await?;
        text_appears(c, "Submit your mentor preferences for 2027 Spring Cohort").await?;
        shot(c, "pairing-invite-all").await?;
        click_button(c, "Send invitations").await?;
        text_appears(c, &format!("Sent {unpaired} invitations.")).await?;
        c.find(Locator::XPath("//button[@role='tab'][normalize-space(.)='Invited']"))
            .await?
            .click()
            .await?;
        let mut rows = 0;
        for _ in 0..30 {
            rows = c
                .find_all(Locator::Css("table[aria-label='Mentees'] tbody tr"))
                .await?
                .len();
            if rows == unpaired {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(
            rows == unpaired,
            format!("{unpaired} invited mentees listed, saw {rows}"),
        )?;

        // End the pairing with a reason.
        let label = format!(
            "End {} and {}",
            mentee["name"].as_str().unwrap(),
            mentor["name"].as_str().unwrap()
        );
        click_labelled(c, &label).await?;
        click_button(c, "End pairing").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#end-reason-error"))
            .await?;
        ensure(!error.text().await?.is_empty(), "a reason is required")?;
        fill(c, "#end-reason", "Graduated").await?;
        click_button(c, "End pairing").await?;
        text_appears(c, "No active pairings.").await?;

        // Bulk actions on a selection: reminding within the cooldown sends nothing; one mentee is
        // removed from the program.
        c.find(Locator::Css("input[aria-label='Select all']"))
            .await?
            .click()
            .await?;
        text_appears(c, &format!("{unpaired} selected")).await?;
        click_button(c, "Remind selected").await?;
        text_appears(
            c,
            &format!("Sent 0 invitations; {unpaired} were invited in the last day and are skipped."),
        )
        .await?;
        let last = c
            .find(Locator::Css(
                "table[aria-label='Mentees'] tbody tr:last-child input[type='checkbox']",
            ))
            .await?;
        last.click().await?;
        text_appears(c, "1 selected").await?;
        click_button(c, "Remove selected from program").await?;
        text_appears(c, "Removed 1 mentees from the program.").await?;

        // A mentor's own capacity.
        let capacity = format!("#capacity-{}", mentor["person_id"].as_str().unwrap());
        fill(c, &capacity, "5").await?;
        c.find(Locator::XPath(&format!(
            "//input[@id='{}']/ancestor::form//button",
            &capacity[1..]
        )))
        .await?
        .click()
        .await?;
        text_appears(
            c,
            &format!("{} takes up to 5 mentees.", mentor["name"].as_str().unwrap()),
        )
        .await?;
        shot(c, "pairing").await?;
        Ok(())
    }
    .await;
    browser.finish("pairing_page", outcome).await;
    let (_, settings) = app.get(&settings, &admin).await;
    assert_eq!(settings["enabled"], true);
    assert_eq!(settings["checklist"][0]["key"], "participants_added");
    assert_eq!(settings["checklist"][0]["done"], true, "ticked in the browser");
    let (_, active) = app.get(&format!("/api/v1/programs/{program}/pairings"), &admin).await;
    assert_eq!(active["items"], json!([]));
    let (_, invited) = app
        .get(&format!("/api/v1/programs/{program}/unpaired?tab=invited"), &admin)
        .await;
    assert_eq!(
        invited["items"].as_array().unwrap().len(),
        mentees - 2,
        "one was removed"
    );
    let (_, room) = app
        .get(&format!("/api/v1/programs/{program}/mentors?include_full=true"), &admin)
        .await;
    let own = room["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["person_id"] == mentor["person_id"])
        .unwrap()["own_capacity"]
        .clone();
    assert_eq!(own, 5);
}

#[tokio::test]
async fn an_admin_sets_rules_runs_adjusts_and_confirms_auto_pair_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (_, programs) = app.get("/api/v1/programs", &admin).await;
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/v1/programs/{program}/pairing"),
        &admin,
        json!({"process": "admin_led"}),
    )
    .await;

    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        c.find(Locator::LinkText("2027 Spring Cohort")).await?.click().await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Pairing"))
            .await?
            .click()
            .await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Auto-pair"))
            .await?
            .click()
            .await?;
        text_appears(c, "No criteria: every allowed pair scores 0.").await?;
        // Shared languages must exist; shared interests earn up to 60 points.
        click_button(c, "Add criterion").await?;
        set_value(c, "#criterion-0-key", "languages").await?;
        select(c, "#criterion-0-rule", "must_match").await?;
        click_button(c, "Add criterion").await?;
        set_value(c, "#criterion-1-key", "interests").await?;
        set_value(c, "#criterion-1-weight", "160").await?;
        click_button(c, "Save rules").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#criterion-1-weight-error"))
            .await?;
        ensure(!error.text().await?.is_empty(), "a weight over 100 is refused")?;
        set_value(c, "#criterion-1-weight", "60").await?;
        click_button(c, "Save rules").await?;
        text_appears(c, "Rules saved.").await?;

        click_button(c, "Run auto-pair").await?;
        text_appears(c, "Optimal (certificate verified)").await?;
        shot(c, "auto-pair-proposal").await?;
        let first = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("table[aria-label='Proposed pairs'] tbody tr td"))
            .await?
            .text()
            .await?;
        click_labelled(c, &format!("Lock {first}")).await?;
        click_labelled(c, &format!("Unlock {first}")).await?;
        let rows = c
            .find_all(Locator::Css("table[aria-label='Proposed pairs'] tbody tr"))
            .await?
            .len();
        ensure(rows > 1, format!("several pairs proposed, saw {rows}"))?;
        let remove = c
            .find(Locator::Css(
                "table[aria-label='Proposed pairs'] tbody tr:last-child button.danger",
            ))
            .await?;
        remove.click().await?;
        // After a removal the solver runs again and the page shows the new proposal.
        text_appears(c, "Optimal (certificate verified)").await?;
        let confirm = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//button[starts-with(normalize-space(.), 'Confirm ')]"))
            .await?;
        let label = confirm.text().await?;
        confirm.click().await?;
        text_appears(c, "pairings created").await?;
        ensure(label.starts_with("Confirm "), label.clone())?;
        shot(c, "auto-pair").await?;
        Ok(())
    }
    .await;
    browser.finish("auto_pair_page", outcome).await;
    let (_, active) = app
        .get(&format!("/api/v1/programs/{program}/pairings?limit=200"), &admin)
        .await;
    let (_, rules) = app
        .get(&format!("/api/v1/programs/{program}/auto-pair/rules"), &admin)
        .await;
    assert_eq!(rules["criteria"][1]["weight"], 60, "{rules}");
    assert!(
        !active["items"].as_array().unwrap().is_empty(),
        "the confirmed pairs exist"
    );
    // Every confirmed pair shares a language, as the rules demand.
    for pairing in active["items"].as_array().unwrap() {
        let mut languages = Vec::new();
        for side in ["mentee_id", "mentor_id"] {
            let (_, person) = app
                .get(&format!("/api/v1/people/{}", pairing[side].as_str().unwrap()), &admin)
                .await;
            languages.push(person["attributes"]["languages"].as_array().unwrap().clone());
        }
        assert!(languages[0].iter().any(|l| languages[1].contains(l)), "{pairing}");
    }
}

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
        c.find(Locator::LinkText("New automation")).await?.click().await?;
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
        c.find(Locator::LinkText("All automations")).await?.click().await?;
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
        c.find(Locator::LinkText("Audit log")).await?.click().await?;
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
        c.find(Locator::LinkText("People")).await?.click().await?;
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

async fn click_link(c: &Client, text: &str) -> Outcome {
    for _ in 0..5 {
        let link = c.wait().at_most(WAIT).for_element(Locator::LinkText(text)).await?;
        match link.click().await {
            Err(e) if e.to_string().contains("stale element") => tokio::time::sleep(Duration::from_millis(100)).await,
            other => return Ok(other?),
        }
    }
    Err(format!("{text:?} kept going stale").into())
}

/// Booking in the dashboard: a service made in its form (after field errors), a person made a
/// provider and certified, their weekly availability set in the editor (after an error shown at
/// the window), the slots in the booking flow, a booking for a student, the booking in the week
/// calendar (also after a reload), rescheduled, and cancelled.
#[tokio::test]
async fn an_admin_sets_availability_books_a_slot_and_cancels_it_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (status, _) = app
        .post(
            "/api/v1/people",
            &admin,
            json!({"email": "bea@example.org", "name": "Bea Browser", "bio": "Knows the library well."}),
        )
        .await;
    assert_eq!(status.as_u16(), 201);
    // Two days ahead in UTC: inside the horizon, past any notice, whatever the hour now.
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    let weekday = day.format("%A").to_string();
    let key = weekday.to_lowercase();
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;

        // The service form: a duration out of range is named under its field, then it is created.
        click_link(c, "Courses").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//h1[text()='Courses']"))
            .await?;
        text_appears(c, "All available Peer Mentoring").await?;
        fill(c, "#service-name", "Browser Tutoring").await?;
        fill(c, "#service-duration", "1").await?;
        fill(c, "#service-notice", "0").await?;
        c.find(Locator::Css("#service-format-virtual")).await?.click().await?;
        click_button(c, "Add location").await?;
        click_button(c, "Create course").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#service-duration-error"))
            .await?;
        // The unnamed location is named at its row.
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#service-locations-0-error"))
            .await?;
        fill(c, "#service-duration", "30").await?;
        fill(c, "#service-locations-0-name", "Library room 2").await?;
        click_button(c, "Create course").await?;
        text_appears(c, "Created “Browser Tutoring”.").await?;
        shot(c, "services").await?;

        // The providers page uses the organisation's word; Bea becomes one and is certified.
        click_link(c, "Peer Mentors").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//h1[text()='Peer Mentors']"))
            .await?;
        text_appears(c, "Talia K").await?;
        fill(c, "#new-provider", "Bea").await?;
        click_labelled(c, "Pick Bea Browser").await?;
        text_appears(c, "Bea Browser is now a peer mentor.").await?;
        click_link(c, "Bea Browser").await?;
        let certify = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//label[text()='Browser Tutoring']/preceding-sibling::input",
            ))
            .await?;
        certify.click().await?;
        click_button(c, "Save").await?;
        text_appears(c, "Saved.").await?;
        shot(c, "provider").await?;

        // Weekly availability in UTC: an end before the start is refused next to that window.
        click_link(c, "Weekly availability").await?;
        select(c, "#availability-zone", "UTC").await?;
        click_labelled(c, &format!("Add a window on {weekday}")).await?;
        fill(c, &format!("#weekly-{key}-0-start"), "12:00").await?;
        fill(c, &format!("#weekly-{key}-0-end"), "10:00").await?;
        click_button(c, "Save availability").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("#weekly-{key}-0-error")))
            .await?;
        shot(c, "availability-error").await?;
        fill(c, &format!("#weekly-{key}-0-end"), "14:00").await?;
        click_button(c, "Save availability").await?;
        text_appears(c, "Availability saved.").await?;
        shot(c, "availability").await?;

        // The booking flow: service, format, day, slots in UTC, the one free person, the student.
        click_link(c, "Calendar").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::LinkText("Book"))
            .await?
            .click()
            .await?;
        let option = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//select[@id='book-service']/option[text()='Browser Tutoring']",
            ))
            .await?;
        let service_id = option.attr("value").await?.unwrap_or_default();
        select(c, "#book-service", &service_id).await?;
        select(c, "#book-format", "in_person").await?;
        set_value(c, "#book-day", &day.to_string()).await?;
        select(c, "#book-zone", "UTC").await?;
        click_labelled(c, "Slot 13:30").await?;
        let slots = c.find_all(Locator::Css("#book-slots button.slot")).await?.len();
        ensure(slots == 4, format!("12:00 to 14:00 in 30-minute slots: {slots}"))?;
        click_labelled(c, "Slot 12:00").await?;
        text_appears(c, "Knows the library well.").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//select[@id='book-location']/option[text()='Library room 2']",
            ))
            .await?;
        fill(c, "#book-student", "Amara").await?;
        click_labelled(c, "Pick Amara N").await?;
        text_appears(c, "Student: Amara N").await?;
        shot(c, "book").await?;
        click_button(c, "Book").await?;

        // The calendar opens on that week with the booking's details; a reload keeps them.
        let status = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#booking-status"))
            .await?;
        ensure(status.text().await? == "confirmed", "the new booking is confirmed")?;
        text_appears(c, "Browser Tutoring with Bea Browser").await?;
        let label = "12:00–12:30 Browser Tutoring with Bea Browser for Amara N (confirmed)";
        click_labelled(c, label).await?;
        c.refresh().await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&format!(
                "//section[@id='day-{day}']//button[@aria-label={}]",
                xpath_literal(label)
            )))
            .await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#booking-details"))
            .await?;
        shot(c, "calendar").await?;

        // Reschedule to another free time of Bea's that day.
        c.find(Locator::XPath("//summary[text()='Reschedule']"))
            .await?
            .click()
            .await?;
        click_labelled(c, "Move to 13:00").await?;
        let moved = "13:00–13:30 Browser Tutoring with Bea Browser for Amara N (confirmed)";
        click_labelled(c, moved).await?;
        text_appears(c, "13:00–13:30 (UTC)").await?;

        // Cancel with a reason: the details and the week show it cancelled.
        fill(c, "#cancel-reason", "Room closed").await?;
        click_button(c, "Cancel booking").await?;
        click_labelled(
            c,
            "13:00–13:30 Browser Tutoring with Bea Browser for Amara N (cancelled)",
        )
        .await?;
        text_appears(c, "Room closed").await?;
        Ok(())
    }
    .await;
    browser.finish("booking", outcome).await;
    let (_, bookings) = app.get("/api/v1/bookings?status=cancelled", &admin).await;
    let items = bookings["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{bookings}");
    assert_eq!(items[0]["service"]["name"], "Browser Tutoring");
    assert_eq!(items[0]["provider"]["name"], "Bea Browser");
    assert_eq!(items[0]["student"]["name"], "Amara N");
    assert_eq!(items[0]["starts_at"], format!("{day}T13:00:00Z"));
    assert_eq!(items[0]["cancel_reason"], "Room closed");
    assert_eq!(items[0]["location"], "Library room 2");
}

/// The booking flow's settings (a question with a bad id refused next to it, then saved), a
/// service's enrollments (enroll by search, remove), the demo week in the calendar, filtered by
/// provider and shown in another time zone, a provider's overrides and time off in their zone,
/// and deletes that ask first (refused with the reason while bookings are upcoming).
#[tokio::test]
async fn an_admin_edits_booking_settings_enrollments_and_reads_the_calendar_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (status, _) = app
        .post("/api/v1/services", &admin, json!({"name": "Spare Course"}))
        .await;
    assert_eq!(status.as_u16(), 201);
    let talia_id = app
        .all_pages("/api/v1/providers", &admin)
        .await
        .into_iter()
        .find(|p| p["name"] == "Talia K")
        .and_then(|p| p["id"].as_str().map(str::to_owned))
        .unwrap();
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;

        click_link(c, "Booking settings").await?;
        text_appears(c, "Topic questions").await?;
        ensure(
            c.find(Locator::LinkText("organisation settings")).await.is_ok(),
            "the labels are edited on the organisation settings, linked from here",
        )?;
        click_labelled(c, "Add a question to In person").await?;
        fill(c, "#format-in_person-q0-id", "bad id!").await?;
        fill(c, "#format-in_person-q0-text", "What is your goal for this session?").await?;
        c.find(Locator::Css("#format-in_person-q0-required"))
            .await?
            .click()
            .await?;
        click_button(c, "Save booking settings").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#format-in_person-q0-error"))
            .await?;
        ensure(
            error.text().await?.contains("letters, digits"),
            "the question's bad id is named next to it",
        )?;
        fill(c, "#format-in_person-q0-id", "goal").await?;
        c.find(Locator::Css("#students-edit-classes")).await?.click().await?;
        click_button(c, "Save booking settings").await?;
        text_appears(c, "Booking settings saved.").await?;
        shot(c, "booking-settings").await?;
        let (_, settings) = app.get("/api/v1/booking-settings", &admin).await;
        ensure(
            settings["students_edit_classes"] == true
                && settings["formats"][0]["questions"]
                    == json!([{"id": "goal", "text": "What is your goal for this session?", "required": true}]),
            format!("saved settings: {settings}"),
        )?;

        // Enrollments: the demo's two, one more by search, one removed.
        click_link(c, "Courses").await?;
        click_link(c, "Peer Mentoring with Marcus O").await?;
        text_appears(c, "Leo M").await?;
        text_appears(c, "Omar H").await?;
        fill(c, "#enroll-person", "Zoe").await?;
        click_labelled(c, "Pick Zoe B").await?;
        text_appears(c, "Enrolled Zoe B.").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//table[@id='enrollments']//td[text()='Zoe B']"))
            .await?;
        click_labelled(c, "Remove Leo M").await?;
        text_appears(c, "Removed Leo M.").await?;
        let mut rows = 0;
        for _ in 0..50 {
            rows = c.find_all(Locator::Css("#enrollments tbody tr")).await?.len();
            if rows == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(rows == 2, format!("Omar and Zoe are enrolled: {rows} rows"))?;

        // The demo's bookings are next week; Talia (New York) has two, at her local times.
        click_link(c, "Calendar").await?;
        click_labelled(c, "Next week").await?;
        text_appears(c, "Sofia R").await?;
        let talia = app
            .all_pages("/api/v1/providers", &admin)
            .await
            .into_iter()
            .find(|p| p["name"] == "Talia K")
            .and_then(|p| p["id"].as_str().map(str::to_owned))
            .ok_or("Talia is a demo provider")?;
        select(c, "#calendar-provider", &talia).await?;
        let mut shown = 0;
        for _ in 0..50 {
            shown = c.find_all(Locator::Css("#week button.booking")).await?.len();
            if shown == 2 && c.find(Locator::XPath("//*[text()='Sofia R']")).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(shown == 2, format!("Talia's two bookings, {shown} shown"))?;
        text_appears(c, "10:00–10:30").await?;
        select(c, "#calendar-zone", "America/Los_Angeles").await?;
        text_appears(c, "07:00–07:30").await?;
        shot(c, "calendar-filtered").await?;
        // The address keeps the week, the provider and the zone.
        c.refresh().await?;
        text_appears(c, "07:00–07:30").await?;
        let count = c.find_all(Locator::Css("#week button.booking")).await?.len();
        ensure(count == 2, format!("after a reload, {count} bookings"))?;

        // Talia's date overrides and time off, written in her zone (New York): a bad override
        // window is named at its override; time off is stored as the UTC instants meant.
        click_link(c, "Peer Mentors").await?;
        click_link(c, "Availability of Talia K").await?;
        text_appears(c, "Availability of Talia K").await?;
        click_button(c, "Add date override").await?;
        set_value(c, "#override-0-date", "2027-01-04").await?;
        click_button(c, "Add date override").await?;
        set_value(c, "#override-1-date", "2027-01-06").await?;
        c.find(Locator::Css("#override-1-unavailable")).await?.click().await?;
        click_labelled(c, "Add a window to override 2").await?;
        fill(c, "#override-1-0-start", "12:00").await?;
        fill(c, "#override-1-0-end", "11:00").await?;
        click_button(c, "Add time off").await?;
        set_value(c, "#time-off-0-from", "2027-01-05T09:00").await?;
        set_value(c, "#time-off-0-to", "2027-01-05T17:00").await?;
        fill(c, "#time-off-0-reason", "Conference").await?;
        click_button(c, "Save availability").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#override-1-0-error"))
            .await?;
        shot(c, "availability-override-error").await?;
        fill(c, "#override-1-0-end", "15:00").await?;
        click_button(c, "Save availability").await?;
        text_appears(c, "Availability saved.").await?;
        let (_, availability) = app
            .get(&format!("/api/v1/providers/{talia}/availability"), &admin)
            .await;
        ensure(
            availability["time_zone"] == "America/New_York"
                && availability["overrides"]
                    == json!([{"date": "2027-01-04", "windows": []},
                              {"date": "2027-01-06", "windows": [{"start": "12:00", "end": "15:00"}]}])
                && availability["time_off"]
                    == json!([{"starts_at": "2027-01-05T14:00:00Z", "ends_at": "2027-01-05T22:00:00Z",
                               "reason": "Conference"}]),
            format!("saved availability: {availability}"),
        )?;

        // Deleting asks first; a course or a mentor with upcoming bookings stays, with the reason.
        click_link(c, "Courses").await?;
        click_link(c, "Spare Course").await?;
        click_button(c, "Delete course").await?;
        c.accept_alert().await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//h1[text()='Courses']"))
            .await?;
        text_appears(c, "Peer Mentoring with Talia K").await?;
        ensure(
            c.find(Locator::LinkText("Spare Course")).await.is_err(),
            "the spare course is gone",
        )?;
        click_link(c, "Peer Mentoring with Talia K").await?;
        click_button(c, "Delete course").await?;
        c.accept_alert().await?;
        text_appears(c, "upcoming bookings; cancel them first.").await?;
        click_link(c, "Peer Mentors").await?;
        click_link(c, "Talia K").await?;
        click_button(c, "Remove peer mentor").await?;
        c.accept_alert().await?;
        text_appears(c, "upcoming bookings; cancel them first.").await?;
        Ok(())
    }
    .await;
    browser.finish("booking_settings", outcome).await;
    let (_, services) = app.get("/api/v1/services", &admin).await;
    let names: Vec<&str> = services["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"Spare Course") && names.contains(&"Peer Mentoring with Talia K"),
        "{names:?}"
    );
    let (status, _) = app.get(&format!("/api/v1/providers/{talia_id}"), &admin).await;
    assert_eq!(status.as_u16(), 200, "Talia is still a peer mentor");
    let (_, services) = app.get("/api/v1/services", &admin).await;
    let marcus = services["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Peer Mentoring with Marcus O")
        .unwrap();
    let (_, enrolled) = app
        .get(
            &format!("/api/v1/services/{}/enrollments", marcus["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    let mut names: Vec<&str> = enrolled["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Omar H", "Zoe B"]);
}

/// The generic service in the booking flow: a slot where two peer mentors are free lists both
/// with their bios, the admin picks one, the format's required question is enforced next to
/// it, and the booking lands in that mentor's calendar.
#[tokio::test]
async fn an_admin_books_the_generic_service_choosing_among_free_mentors_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    // Next Monday (New York) is the day of Amara's demo booking with Talia at 10:00 there; at
    // 13:00 Talia (New York, from 13:00) and Marcus (Los Angeles, from 10:00) are both free.
    let bookings = app.all_pages("/api/v1/bookings", &admin).await;
    let amara = bookings
        .iter()
        .find(|b| b["student"]["name"] == "Amara N")
        .expect("Amara's demo booking");
    let monday = amara["starts_at"].as_str().unwrap()[..10].to_owned();
    let (_, services) = app.get("/api/v1/services", &admin).await;
    let generic = services["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "All available Peer Mentoring")
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_owned();
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        click_link(c, "Calendar").await?;
        click_link(c, "Book").await?;
        select(c, "#book-service", &generic).await?;
        select(c, "#book-format", "virtual").await?;
        set_value(c, "#book-day", &monday).await?;
        select(c, "#book-zone", "America/New_York").await?;
        click_labelled(c, "Slot 13:00").await?;
        text_appears(c, "Peer Mentors free at 13:00").await?;
        text_appears(c, "Third-year chemistry student").await?;
        text_appears(c, "Computer science senior").await?;
        click_labelled(c, "Choose Marcus O").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::XPath("//select[@id='book-location']/option[text()='Zoom']"))
            .await?;
        fill(c, "#book-student", "Kenji").await?;
        click_labelled(c, "Pick Kenji T").await?;
        text_appears(c, "Student: Kenji T").await?;
        click_button(c, "Book").await?;
        let error = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#book-answer-topic-error"))
            .await?;
        ensure(
            error.text().await?.contains("required"),
            "the required topic question is named",
        )?;
        shot(c, "book-generic-error").await?;
        fill(c, "#book-answer-topic", "Summer internships").await?;
        click_button(c, "Book").await?;
        text_appears(c, "All available Peer Mentoring with Marcus O").await?;
        text_appears(c, "Summer internships").await?;
        let status = c.find(Locator::Css("#booking-status")).await?;
        ensure(status.text().await? == "confirmed", "confirmed")?;
        shot(c, "calendar-generic").await?;
        click_button(c, "Close").await?;
        for _ in 0..50 {
            if c.find(Locator::Css("#booking-details")).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure(
            c.find(Locator::Css("#booking-details")).await.is_err(),
            "closing hides the details",
        )?;
        ensure(
            !c.current_url().await?.as_str().contains("booking="),
            "and takes the booking out of the address",
        )?;
        Ok(())
    }
    .await;
    browser.finish("booking_generic", outcome).await;
    let (_, booked) = app.get("/api/v1/bookings?status=confirmed&limit=200", &admin).await;
    let made = booked["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["student"]["name"] == "Kenji T" && b["provider"]["name"] == "Marcus O")
        .expect("Kenji's booking with Marcus");
    assert_eq!(made["location"], "Zoom");
    assert_eq!(made["format"], "virtual");
    assert_eq!(made["answers"][0]["answer"], "Summer internships");
}

#[tokio::test]
async fn an_admin_checks_fixes_and_applies_a_participants_file_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (status, program) = app
        .post("/api/v1/programs", &admin, json!({"name": "CSV Cohort"}))
        .await;
    assert_eq!(status.as_u16(), 201);
    let program = program["id"].as_str().unwrap().to_owned();
    let dir = std::env::temp_dir().join(format!("cohort-csv-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let good =
        "Email;Name;Role;Department\r\nada@example.org;Ada L;mentor;Maths\r\nbo@example.org;Bo K;mentee;Physics\r\n";
    let (bad_file, good_file) = (dir.join("bad.csv"), dir.join("good.csv"));
    std::fs::write(
        &bad_file,
        good.replace("bo@example.org;Bo K;mentee", "bo@example.org;Bo K;coach"),
    )
    .unwrap();
    std::fs::write(&good_file, good).unwrap();
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        c.find(Locator::LinkText("Import & export")).await?.click().await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#import-program"))
            .await?;
        text_appears(c, "Download template").await?;
        let input = c.find(Locator::Css("#import-file")).await?;
        input.send_keys(&bad_file.display().to_string()).await?;
        click_button(c, "Check file").await?;
        // The bad cell is listed by line and column, and the file cannot be applied.
        let problem = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(
                "#import-errors tr.error[data-line='3'][data-column='role']",
            ))
            .await?;
        ensure(
            problem.text().await?.contains("must be mentor or mentee"),
            "the problem says what is wrong",
        )?;
        text_appears(c, "1 problems").await?;
        let apply = c.find(Locator::Css("#apply-import")).await?;
        ensure(
            apply.attr("disabled").await?.is_some(),
            "a file with problems cannot be applied",
        )?;
        shot(c, "import-errors").await?;
        ensure(app.count("participants") == 0, "a check writes nothing")?;
        // The corrected file checks clean, previews two new rows, and applies.
        let input = c.find(Locator::Css("#import-file")).await?;
        input.send_keys(&good_file.display().to_string()).await?;
        click_button(c, "Check file").await?;
        text_appears(c, "2 to create").await?;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#import-preview tr.create"))
            .await?;
        shot(c, "import-preview").await?;
        click_button(c, "Apply 2 rows").await?;
        let applied = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#import-applied"))
            .await?;
        ensure(
            applied.text().await?.contains("2 created"),
            "the result counts what was created",
        )?;
        Ok(())
    }
    .await;
    browser.finish("csv_import", outcome).await;
    let participants = app
        .all_pages(&format!("/api/v1/programs/{program}/participants"), &admin)
        .await;
    let mut emails: Vec<&str> = participants.iter().map(|p| p["email"].as_str().unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["ada@example.org", "bo@example.org"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Tutors CSV in the dashboard: a file naming a service the organisation does not have is
/// refused at that cell's line and column; the corrected file applies, and the tutors are on the
/// providers page with their certifications.
#[tokio::test]
async fn an_admin_checks_fixes_and_applies_a_tutors_file_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let response = app
        .request(cohort_tests::reqwest::Method::POST, "/api/v1/imports/services")
        .bearer_auth(&admin)
        .header("Content-Type", "text/csv")
        .body("name,course number\nAll available Peer Mentoring,\nChemistry,CHEM 101\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let dir = std::env::temp_dir().join(format!("cohort-tutors-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = "email,name,bio,photo url,services\r\n\
        talia.k@example.org,Talia K,Chemistry tutor,,Chemistry (CHEM 101)\r\n\
        ben@example.org,Ben B,,,\"All available Peer Mentoring; Chemistry (CHEM 101)\"\r\n";
    let (bad_file, good_file) = (dir.join("bad.csv"), dir.join("good.csv"));
    std::fs::write(
        &bad_file,
        good.replace("\"All available Peer Mentoring;", "\"Physics (PHY 1);"),
    )
    .unwrap();
    std::fs::write(&good_file, good).unwrap();
    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        click_link(c, "Import & export").await?;
        select(c, "#import-kind", "providers").await?;
        text_appears(c, "certifications become exactly the services listed").await?;
        let input = c.find(Locator::Css("#import-file")).await?;
        input.send_keys(&bad_file.display().to_string()).await?;
        click_button(c, "Check file").await?;
        let problem = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(
                "#import-errors tr.error[data-line='3'][data-column='services']",
            ))
            .await?;
        let text = problem.text().await?;
        ensure(
            text.contains("Physics (PHY 1)") && text.contains("no service"),
            format!("the problem names the cell and says what is wrong: {text}"),
        )?;
        let apply = c.find(Locator::Css("#apply-import")).await?;
        ensure(
            apply.attr("disabled").await?.is_some(),
            "a file with problems cannot be applied",
        )?;
        shot(c, "tutors-import-errors").await?;
        ensure(app.count("providers") == 0, "a check writes nothing")?;
        let input = c.find(Locator::Css("#import-file")).await?;
        input.send_keys(&good_file.display().to_string()).await?;
        click_button(c, "Check file").await?;
        text_appears(c, "2 to create").await?;
        click_button(c, "Apply 2 rows").await?;
        let applied = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#import-applied"))
            .await?;
        ensure(
            applied.text().await?.contains("2 created"),
            "the result counts what was created",
        )?;
        // The tutors are providers now, on the page that uses the organisation's word.
        click_link(c, "Peer Mentors").await?;
        text_appears(c, "Ben B").await?;
        text_appears(c, "Talia K").await?;
        shot(c, "tutors-imported").await?;
        Ok(())
    }
    .await;
    browser.finish("tutors_import", outcome).await;
    let (_, providers) = app.get("/api/v1/providers", &admin).await;
    let mut certified: Vec<(String, usize)> = providers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["email"].as_str().unwrap().to_owned(),
                p["services"].as_array().unwrap().len(),
            )
        })
        .collect();
    certified.sort();
    assert_eq!(
        certified,
        [("ben@example.org".to_owned(), 2), ("talia.k@example.org".to_owned(), 1)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
