//! CSV uploads checked, fixed and applied.

use super::*;

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
        click_link(c, "Import & export").await?;
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
