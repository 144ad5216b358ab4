//! Every page of both apps in the browser: each participant page on a phone (375 × 812) without
//! horizontal scrolling, and every page of both apps without a WCAG 2.1 A or AA violation that
//! axe-core finds (run inside the page, as its own test suite does).

use super::*;
use cohort_api_types::links::{WebApp, DASHBOARD_PAGES, PARTICIPANT_PAGES};
use cohort_tests::serde_json::Value;

/// Opens each page, lets it settle, and collects what is wrong with it: axe-core's violations,
/// and (with `phone`) horizontal scrolling.
async fn check_pages(c: &Client, app: &TestApp, paths: &[String], phone: bool, shots: &str) -> Outcome {
    let mut problems = Vec::new();
    for path in paths {
        c.goto(&app.url(path)).await?;
        settled(c).await.map_err(|e| format!("{path}: {e}"))?;
        if phone {
            let (scroll, inner) = widths(c).await?;
            ensure(inner <= 400, format!("the window is {inner} px wide, not a phone's"))?;
            if scroll > inner {
                problems.push(format!(
                    "{path}: scrolls sideways ({scroll} px of content in {inner} px)"
                ));
            }
        }
        let name = path.trim_matches('/').replace(['/', '?', '=', '&'], "-");
        shot(c, &format!("{shots}-{}", if name.is_empty() { "home" } else { &name })).await?;
        problems.extend(axe_violations(c).await?.into_iter().map(|v| format!("{path}: {v}")));
    }
    ensure(problems.is_empty(), problems.join("\n"))
}

/// The pages' patterns made into paths with real ids; a pattern this does not know fails the
/// test, so a new page is checked from the day it is added.
fn paths(patterns: &[&str], ids: &[(&str, String)]) -> Vec<String> {
    patterns
        .iter()
        .map(|pattern| {
            let mut path = (*pattern).to_owned();
            while let Some(at) = path.find(':') {
                let end = path[at..].find('/').map_or(path.len(), |e| at + e);
                let before = &path[..at];
                let id = ids
                    .iter()
                    .find(|(prefix, _)| before.ends_with(prefix))
                    .map(|(_, id)| id.clone())
                    .unwrap_or_else(|| panic!("no id for {pattern}: add one to this test"));
                path.replace_range(at..end, &id);
            }
            path
        })
        .collect()
}

fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

cohort_tests::both_backends!(
    async fn every_participant_page_fits_a_phone_and_passes_axe(backend: Backend) {
        dashboard_app_env();
        let app = TestApp::spawn_with_demo(backend).await;
        let password = app.demo_participant_password();
        let amara = app.login("amara.n@demo.cohort.test", &password).await.access_token;
        let (_, me) = app.get("/api/v1/me", &amara).await;
        let program = me["memberships"][0]["program_id"].as_str().unwrap().to_owned();
        let (_, bookings) = app.get("/api/v1/me/bookings", &amara).await;
        let booking = id(&bookings["items"][0]);
        let (_, conversations) = app.get("/api/v1/conversations", &amara).await;
        let conversation = id(&conversations["items"][0]);
        let ids = [
            ("/me/programs/", program),
            ("/me/bookings/", booking),
            ("/me/chat/", conversation),
        ];
        let pages = paths(PARTICIPANT_PAGES, &ids);

        let browser = Browser::start().await;
        let outcome = async {
            let c = &browser.client;
            c.set_window_size(375, 812).await?;
            // The pages before logging in first, then every page of a logged-in mentee.
            let (before, after): (Vec<String>, Vec<String>) = pages.into_iter().partition(|p| !p.starts_with("/me"));
            check_pages(c, &app, &before, true, "phone").await?;
            c.goto(&app.url("/login")).await?;
            fill(c, "#email", "amara.n@demo.cohort.test").await?;
            fill(c, "#password", &password).await?;
            click_button(c, "Log in").await?;
            text_appears(c, "Hi Amara").await?;
            // On a phone the links are behind the menu button, which tells the unread count.
            ensure(
                !c.find(Locator::Css("a[href='/me/profile']"))
                    .await?
                    .is_displayed()
                    .await?,
                "the menu starts folded",
            )?;
            let menu = c.find(Locator::Css(".menu-toggle")).await?;
            ensure(
                menu.text().await? == "Menu (5 new)",
                format!("the menu button says {:?}", menu.text().await?),
            )?;
            menu.click().await?;
            click_link(c, "Profile").await?;
            text_appears(c, "My profile").await?;
            check_pages(c, &app, &after, true, "phone").await?;
            // Her notifications: all read at once, and the menu stops counting them.
            c.goto(&app.url("/me/notifications")).await?;
            click_button(c, "Mark all read").await?;
            let (_, feed) = app.get("/api/v1/notifications", &amara).await;
            for _ in 0..50 {
                if c.find(Locator::XPath("//button[normalize-space(.)='Mark all read']"))
                    .await
                    .is_err()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let (_, read) = app.get("/api/v1/notifications", &amara).await;
            ensure(
                feed["items"].as_array().is_some_and(|i| i.len() == 5),
                format!("five notifications: {feed}"),
            )?;
            ensure(read["unread_count"] == 0, format!("all read: {read}"))?;
            c.refresh().await?;
            let menu = c.wait().at_most(WAIT).for_element(Locator::Css(".menu-toggle")).await?;
            ensure(
                menu.text().await? == "Menu",
                format!("the menu button says {:?}", menu.text().await?),
            )
        }
        .await;
        browser.finish(&format!("participant-pages-{backend:?}"), outcome).await;
    }
);

#[tokio::test]
async fn every_admin_page_passes_axe() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let first = |list: Value| id(&list["items"][0]);
    let program = first(app.get("/api/v1/programs", &admin).await.1);
    let service = first(app.get("/api/v1/services", &admin).await.1);
    let provider = first(app.get("/api/v1/providers", &admin).await.1);
    let person = first(app.get("/api/v1/people", &admin).await.1);
    let (_, templates) = app.get("/api/v1/email-templates", &admin).await;
    let template = templates["items"][0]["key"].as_str().unwrap().to_owned();
    let (status, automation) = app
        .post(
            "/api/v1/automations",
            &admin,
            json!({"name": "Welcome", "trigger": "participant.joined", "frequency": "every_time",
                   "actions": [{"type": "send_notification", "title": "Welcome", "body": "Glad you joined"}]}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{automation}");
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "https://hooks.example.org/cohort", "event_types": ["pairing.created"]}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{webhook}");
    let ids = [
        ("/programs/", program),
        ("/automations/", id(&automation)),
        ("/services/", service),
        ("/providers/", provider),
        ("/emails/", template),
        ("/webhooks/", id(&webhook["endpoint"])),
        ("/people/", person),
    ];
    let pages = paths(DASHBOARD_PAGES, &ids);
    assert_eq!(WebApp::Dashboard.pages().len(), pages.len());

    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        log_in(c, &app).await?;
        check_pages(c, &app, &pages, false, "admin").await
    }
    .await;
    browser.finish("admin-pages", outcome).await;
}
