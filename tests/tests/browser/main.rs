//! The dashboard in a real browser (headless Chromium through chromedriver) against the real
//! `cohort` binary, an admin's journeys one area per module. This file holds the browser and the
//! steps every journey uses (log in, fill, click, wait for a text). On failure the page's
//! screenshot and HTML are saved under `target/browser-failures/`.

mod accounts;
mod automations;
mod booking;
mod every_page;
mod imports;
mod messaging;
mod pairing;
mod participant_booking;
mod participant_mentoring;
mod people;
mod programs;
mod steps;

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

/// The WCAG 2.1 A and AA violations axe-core finds in the page, one line each. axe-core runs
/// inside the page, as its own test suite does; `cargo xtask test` installs it into `.tools`.
async fn axe_violations(c: &Client) -> Result<Vec<String>, Box<dyn Error>> {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let axe = AXE.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (cargo xtask test installs axe-core)", path.display()))
    });
    c.execute(axe, vec![]).await?;
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at '
                    + v.nodes.map(n => n.target.join(' ')).join(', '))))
                .catch(e => done(['axe did not run: ' + e]));",
            vec![],
        )
        .await?;
    Ok(cohort_tests::serde_json::from_value(found)?)
}

/// axe-core finds no WCAG 2.1 A or AA violation in the page.
async fn no_axe_violations(c: &Client, page: &str) -> Outcome {
    let found = axe_violations(c).await?;
    ensure(found.is_empty(), format!("{page}: {}", found.join("; ")))
}

/// How wide the page's content is, and the window: more content than window scrolls sideways.
async fn widths(c: &Client) -> Result<(i64, i64), Box<dyn Error>> {
    let widths = c
        .execute(
            "return [document.scrollingElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    Ok((widths[0].as_i64().unwrap_or(0), widths[1].as_i64().unwrap_or(0)))
}

/// Nothing wider than the window: no horizontal scrolling.
async fn fits_the_width(c: &Client, page: &str) -> Outcome {
    let (scroll, inner) = widths(c).await?;
    ensure(scroll <= inner, format!("{page} scrolls sideways: {scroll} > {inner}"))
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

/// Clicks the button with this text; one re-rendered between finding and clicking (a list that
/// just loaded) is found again.
async fn click_button(c: &Client, text: &str) -> Outcome {
    let xpath = format!("//button[normalize-space(.)={}]", xpath_literal(text));
    for _ in 0..5 {
        let button = c.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await?;
        match button.click().await {
            Err(e) if e.to_string().contains("stale element") => tokio::time::sleep(Duration::from_millis(100)).await,
            other => return Ok(other?),
        }
    }
    Err(format!("{text:?} kept going stale").into())
}

/// Waits until the page shows its heading and nothing on it is loading any more.
async fn settled(c: &Client) -> Outcome {
    for _ in 0..150 {
        let done = c
            .execute(
                "return !!document.querySelector('h1') && !document.querySelector('[aria-busy=\"true\"]');",
                vec![],
            )
            .await?;
        if done == json!(true) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the page kept loading".into())
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

/// Opens the participant app's menu where a phone folds it.
async fn open_menu(c: &Client) -> Outcome {
    if let Ok(menu) = c.find(Locator::Css(".menu-toggle")).await {
        if menu.is_displayed().await? && menu.attr("aria-expanded").await?.as_deref() != Some("true") {
            menu.click().await?;
        }
    }
    Ok(())
}

/// Follows a link of the participant app's navigation, opening the menu first on a phone.
async fn nav(c: &Client, text: &str) -> Outcome {
    open_menu(c).await?;
    click_link(c, text).await
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
