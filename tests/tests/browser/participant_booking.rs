//! Booking in the participant app: a student in Tokyo books a generic service of a provider in New
//! York, sees it in My bookings at their own time, the provider sees it on their schedule at
//! theirs, and the student cancels it.

use super::*;
use chrono::{DateTime, Datelike, Days, FixedOffset};
use cohort_tests::serde_json::Value;

const PASSWORD: &str = "a long and rare passphrase";

/// Logs a participant in through the login page; they land on their home.
async fn log_in_as(c: &Client, app: &TestApp, email: &str) -> Outcome {
    c.goto(&app.url("/login")).await?;
    fill(c, "#email", email).await?;
    fill(c, "#password", PASSWORD).await?;
    click_button(c, "Log in").await?;
    text_appears(c, "Hi ").await
}

async fn log_out(c: &Client) -> Outcome {
    open_menu(c).await?;
    click_button(c, "Log out").await?;
    text_appears(c, "Log in").await
}

/// The text of the element `css`, once it is there.
async fn text_of(c: &Client, css: &str) -> Result<String, Box<dyn Error>> {
    Ok(c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await?
        .text()
        .await?)
}

fn at(slot: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(slot["starts_at"].as_str().unwrap()).unwrap()
}

cohort_tests::both_backends!(
    async fn a_student_books_sees_and_cancels_in_their_zone_and_the_provider_sees_it(backend: Backend) {
        dashboard_app_env();
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let mut ids = Vec::new();
        for (email, name, zone) in [
            ("tara@demo.test", "Tara Tutor", "America/New_York"),
            ("sam@demo.test", "Sam Student", "Asia/Tokyo"),
        ] {
            let (status, person) = app
                .post(
                    "/api/v1/people",
                    &admin,
                    json!({"email": email, "name": name, "password": PASSWORD, "time_zone": zone}),
                )
                .await;
            assert_eq!(status.as_u16(), 201, "{person}");
            ids.push(person["id"].as_str().unwrap().to_owned());
        }
        let tara = ids[0].clone();
        let (status, service) = app
            .post(
                "/api/v1/services",
                &admin,
                json!({"name": "All available Tutoring", "duration_minutes": 30, "late_cancel_hours": 1,
                       "formats": ["virtual"], "locations": [{"name": "Zoom", "format": "virtual"}]}),
            )
            .await;
        assert_eq!(status.as_u16(), 201, "{service}");
        let service = service["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .post(
                "/api/v1/providers",
                &admin,
                json!({"person_id": tara, "bio": "Maths tutor in New York.", "service_ids": [service]}),
            )
            .await;
        assert_eq!(status.as_u16(), 201, "{body}");
        let weekly: Vec<Value> = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
        let (status, body) = app
            .put(
                &format!("/api/v1/providers/{tara}/availability"),
                &admin,
                json!({"time_zone": "America/New_York", "weekly": weekly}),
            )
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
        let (status, body) = app
            .put(
                "/api/v1/booking-settings",
                &admin,
                json!({"formats": [
                    {"format": "in_person", "enabled": false},
                    {"format": "virtual", "enabled": true,
                     "questions": [{"id": "topic", "text": "What would you like to talk about?", "required": true}]}]}),
            )
            .await;
        assert_eq!(status.as_u16(), 200, "{body}");
        let labels = app.get("/api/v1/organization", &admin).await.1["labels"].clone();
        let providers = labels["provider_plural"].as_str().unwrap().to_lowercase();

        // The first free time as the page shows it in Tokyo, and the same moment in New York.
        let slots = |zone: &str| format!("/api/v1/services/{service}/slots?time_zone={zone}");
        let (_, tokyo) = app.get(&slots("Asia/Tokyo"), &admin).await;
        let first = at(&tokyo["items"][0]);
        let (_, new_york) = app.get(&slots("America/New_York"), &admin).await;
        let new_york = first.with_timezone(at(&new_york["items"][0]).offset());
        let (tokyo_time, new_york_time) = (first.format("%H:%M").to_string(), new_york.format("%H:%M").to_string());
        assert_ne!(tokyo_time, new_york_time);

        let browser = Browser::start().await;
        let outcome = async {
            let c = &browser.client;
            c.set_window_size(375, 812).await?;
            log_in_as(c, &app, "sam@demo.test").await?;
            // A student gives no appointments: no Schedule in the navigation.
            ensure(
                c.find(Locator::LinkText("Schedule")).await.is_err(),
                "a student has no schedule",
            )?;
            nav(c, "Book").await?;
            text_appears(c, "Book an appointment").await?;
            click_button(c, "Virtual").await?;
            click_button(c, "All available Tutoring").await?;
            click_button(c, &format!("All available {providers}")).await?;
            text_appears(c, "times in Asia/Tokyo").await?;
            click_labelled(c, &format!("{} {tokyo_time}", first.format("%A %-d %B"))).await?;
            click_labelled(c, "Choose Tara Tutor").await?;
            text_appears(c, "Maths tutor in New York.").await?;
            fill(c, "#book-answer-topic", "Calculus").await?;
            shot(c, "participant-book").await?;
            no_axe_violations(c, "book").await?;
            let wide: bool = c
                .execute("return document.scrollingElement.scrollWidth <= innerWidth;", vec![])
                .await?
                .as_bool()
                .unwrap_or(false);
            ensure(wide, "the booking flow fits a 375 px wide screen")?;
            click_button(c, "Confirm booking").await?;
            text_appears(c, "Your appointment is booked").await?;
            let when = text_of(c, "#booked-when").await?;
            ensure(
                when.contains(&tokyo_time) && when.contains("Asia/Tokyo") && !when.contains(&new_york_time),
                format!("booked at {when:?}, expected {tokyo_time} in Tokyo"),
            )?;

            // My bookings: upcoming, at the student's own time.
            click_link(c, "All my bookings").await?;
            text_appears(c, "Upcoming").await?;
            let item = text_of(c, "ul.bookings li").await?;
            ensure(
                item.contains("All available Tutoring") && item.contains(&tokyo_time) && item.contains("Tara Tutor"),
                format!("my bookings show {item:?}, expected {tokyo_time}"),
            )?;
            shot(c, "participant-my-bookings").await?;
            no_axe_violations(c, "my-bookings").await?;
            click_button(c, "Get my calendar address").await?;
            let feed = c
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css("#calendar-feed-url"))
                .await?;
            let url = feed.prop("value").await?.unwrap_or_default();
            ensure(
                url.contains("/api/v1/calendar/cal_") && url.ends_with(".ics"),
                format!("the feed's address: {url:?}"),
            )?;
            no_axe_violations(c, "feed").await?;
            log_out(c).await?;

            // The provider sees it on this week's schedule (or the next), at New York's time.
            log_in_as(c, &app, "tara@demo.test").await?;
            nav(c, "Schedule").await?;
            text_appears(c, "My availability").await?;
            let today_there = chrono::Utc::now().with_timezone(new_york.offset()).date_naive();
            let monday = today_there - Days::new(today_there.weekday().num_days_from_monday().into());
            if new_york.date_naive() >= monday + Days::new(7) {
                click_button(c, "Next week").await?;
            }
            text_appears(c, "All available Tutoring with Sam Student").await?;
            let row = text_of(c, "ul.bookings li").await?;
            ensure(
                row.contains(&new_york_time) && !row.contains(&tokyo_time),
                format!("the schedule shows {row:?}, expected {new_york_time} in New York"),
            )?;
            shot(c, "participant-schedule").await?;
            // Their availability, in their own zone: a day off as a date override.
            text_appears(c, "your own time zone (America/New_York)").await?;
            no_axe_violations(c, "schedule").await?;
            click_button(c, "Add date override").await?;
            set_value(
                c,
                "#override-0-date",
                &(new_york.date_naive() + Days::new(14)).to_string(),
            )
            .await?;
            click_button(c, "Save availability").await?;
            text_appears(c, "Availability saved.").await?;
            log_out(c).await?;

            // The student cancels it from the booking's page.
            log_in_as(c, &app, "sam@demo.test").await?;
            nav(c, "My bookings").await?;
            click_link(c, "All available Tutoring").await?;
            text_appears(c, "Change this booking").await?;
            no_axe_violations(c, "booking").await?;
            c.find(Locator::Css("details.reschedule summary"))
                .await?
                .click()
                .await?;
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::Css("#reschedule-day"))
                .await?;
            settled(c).await?;
            no_axe_violations(c, "reschedule").await?;
            fill(c, "#cancel-reason", "Exam moved").await?;
            click_button(c, "Cancel booking").await?;
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::XPath("//dd[@id='booking-status'][text()='Cancelled']"))
                .await?;
            text_appears(c, "Book another time").await?;
            Ok(())
        }
        .await;
        browser
            .finish(&format!("participant-booking-{backend:?}"), outcome)
            .await;
        // The cancellation reached the server.
        let (_, mine) = app.get("/api/v1/bookings", &admin).await;
        assert_eq!(mine["items"][0]["status"], "cancelled", "{mine}");
        assert_eq!(mine["items"][0]["cancel_reason"], "Exam moved", "{mine}");
        let (_, availability) = app.get(&format!("/api/v1/providers/{tara}/availability"), &admin).await;
        assert_eq!(availability["overrides"][0]["windows"], json!([]), "{availability}");
        assert_eq!(availability["time_zone"], "America/New_York", "{availability}");
    }
);
