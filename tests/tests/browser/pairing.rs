//! Pairing: settings, invitations, requests, pairings and auto-pair.

use super::*;

/// Takes the demo's pairing state back to none: its pairing ended, its open request declined,
/// pairing off. These journeys start from a program nobody is paired in yet.
async fn without_demo_pairings(app: &TestApp, admin: &str, program: &str) {
    let (_, pairings) = app.get(&format!("/api/v1/programs/{program}/pairings"), admin).await;
    for pairing in pairings["items"].as_array().unwrap() {
        let end = format!(
            "/api/v1/programs/{program}/pairings/{}/end",
            pairing["id"].as_str().unwrap()
        );
        let (status, body) = app
            .post(&end, admin, json!({"reason": "A fresh start for the test"}))
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
    }
    let (_, requests) = app.get(&format!("/api/v1/programs/{program}/requests"), admin).await;
    for request in requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "open")
    {
        let decline = format!(
            "/api/v1/programs/{program}/requests/{}/decline",
            request["id"].as_str().unwrap()
        );
        let (status, body) = app.post(&decline, admin, json!({})).await;
        assert_eq!(status.as_u16(), 200, "{body}");
    }
    app.patch(
        &format!("/api/v1/programs/{program}/pairing"),
        admin,
        json!({"enabled": false}),
    )
    .await;
}

#[tokio::test]
async fn an_admin_turns_pairing_on_invites_all_and_ends_a_pairing_in_the_browser() {
    dashboard_app_env();
    let app = TestApp::spawn_with_demo(Backend::Sqlite).await;
    let admin = app.admin_token().await;
    let (_, programs) = app.get("/api/v1/programs", &admin).await;
    let program = programs["items"][0]["id"].as_str().unwrap().to_owned();
    without_demo_pairings(&app, &admin, &program).await;
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
        click_link(c, "2027 Spring Cohort").await?;
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
    without_demo_pairings(&app, &admin, &program).await;
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
        click_link(c, "2027 Spring Cohort").await?;
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
async fn a_mentor_logged_out_accepts_a_request_from_the_email_in_the_browser() {
    dashboard_app_env();
    let sink = cohort_tests::SmtpSink::start().await;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        cohort_tests::Spawn {
            demo_data: false,
            extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
        },
    )
    .await;
    let admin = app.admin_token().await;
    let (_, program) = app
        .post(
            "/api/v1/programs",
            &admin,
            json!({"name": "Mentoring", "time_zone": "UTC"}),
        )
        .await;
    let program = program["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/v1/programs/{program}/pairing"),
        &admin,
        json!({"enabled": true}),
    )
    .await;
    let mut tokens = Vec::new();
    for (email, name, role) in [
        ("amara@demo.test", "Amara N", "mentee"),
        ("talia@demo.test", "Talia K", "mentor"),
    ] {
        let (person, token) = app.person_with_login(&admin, email, false).await;
        app.patch(&format!("/api/v1/people/{person}"), &admin, json!({"name": name}))
            .await;
        let (status, body) = app
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                &admin,
                json!({"person_id": person, "role": role}),
            )
            .await;
        assert_eq!(status.as_u16(), 201, "{body}");
        tokens.push((person, token));
    }
    let (mentee_token, mentor) = (tokens[0].1.clone(), tokens[1].0.clone());
    let requests = format!("/api/v1/programs/{program}/requests");
    let pairings = format!("/api/v1/programs/{program}/pairings");
    let (status, made) = app
        .post(
            &requests,
            &mentee_token,
            json!({"mentor_id": mentor, "note": "Research careers?"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{made}");
    // The "Accept" link of the email.
    let accept = sink
        .link_to("talia@demo.test", "answer=accept")
        .await
        .expect("an Accept link in the email");
    assert!(accept.starts_with(&app.url("/answer-request?token=")), "{accept}");

    let browser = Browser::start().await;
    let outcome = async {
        let c = &browser.client;
        // Logged out: the link opens the request, and opening it changes nothing.
        c.goto(&accept).await?;
        text_appears(c, "Amara N asks you to be their mentor").await?;
        text_appears(c, "Research careers?").await?;
        shot(c, "answer-request").await?;
        let (_, listed) = app.get(&requests, &admin).await;
        ensure(listed["items"][0]["status"] == "open", format!("still open: {listed}"))?;
        let (_, active) = app.get(&pairings, &admin).await;
        ensure(active["items"] == json!([]), format!("no pairing yet: {active}"))?;

        click_button(c, "Confirm: accept Amara N").await?;
        text_appears(c, "You accepted. You and Amara N are now paired").await?;
        let (_, active) = app.get(&pairings, &admin).await;
        ensure(
            active["items"][0]["mentor_name"] == "Talia K" && active["items"][0]["mentee_name"] == "Amara N",
            format!("the pairing exists: {active}"),
        )?;
        Ok(())
    }
    .await;
    browser.finish("answer_request_accept", outcome).await;
}
