//! Booking: availability, settings, enrollments, the calendar and booking for students.

use super::*;

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
        click_labelled(c, &format!("Add window on {weekday}")).await?;
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
        let label = "12:00–12:30 Amara N with Bea Browser Browser Tutoring confirmed";
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
        let moved = "13:00–13:30 Amara N with Bea Browser Browser Tutoring confirmed";
        click_labelled(c, moved).await?;
        text_appears(c, "13:00–13:30 (UTC)").await?;

        // Cancel with a reason: the details and the week show it cancelled.
        fill(c, "#cancel-reason", "Room closed").await?;
        click_button(c, "Cancel booking").await?;
        click_labelled(c, "13:00–13:30 Amara N with Bea Browser Browser Tutoring cancelled").await?;
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
        click_labelled(c, "Add question to In person").await?;
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

        // The demo's first working day after today has three bookings, two of them Talia's (New
        // York), at her local times, and Leo's with Marcus; the calendar opens on its week.
        let (_, bookings) = app.get("/api/v1/bookings?limit=50", &admin).await;
        let first = bookings["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["student"]["name"] == "Amara N")
            .ok_or("Amara's demo booking")?;
        let day = &first["starts_at"].as_str().unwrap()[..10];
        click_link(c, "Calendar").await?;
        c.goto(&app.url(&format!("/calendar?week={day}&zone=America/New_York")))
            .await?;
        text_appears(c, "Leo M").await?;
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
            if shown == 2 && c.find(Locator::XPath("//*[text()='Leo M']")).await.is_err() {
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
        click_labelled(c, "Add window to override 2").await?;
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
    // The first working day after today (New York) has Amara's demo booking with Talia at 10:00
    // there; at 13:00 Talia (New York, from 13:00) and Marcus (Los Angeles, from 10:00) are both free.
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
