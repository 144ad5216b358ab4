//! Provider-first booking through the API: services, providers and their availability in their
//! own zones, slots in the client's zone, the booking flow with its emails and calendar entries,
//! cancel, reschedule, waitlist, enrollments, the calendar feed, and no double booking under a
//! race of 50 requests.

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, SmtpSink, Spawn, TestApp};

struct Setup {
    service: String,
    talia: String,
    ben: String,
}

fn every_day(start: &str, end: &str) -> Value {
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    json!(days
        .iter()
        .map(|d| json!({"weekday": d, "start": start, "end": end}))
        .collect::<Vec<_>>())
}

/// A generic service with two providers: Talia in New York, Ben in Sydney, each free every day
/// 09:00–17:00 in their own zone. Virtual bookings ask a required topic question.
async fn setup(app: &TestApp, admin: &str, service: Value) -> Setup {
    let (status, created) = app.post("/api/v1/services", admin, service).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let service = created["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .put(
            "/api/v1/booking-settings",
            admin,
            json!({"formats": [
                {"format": "in_person", "enabled": true, "questions": []},
                {"format": "virtual", "enabled": true,
                 "questions": [{"id": "topic", "text": "What would you like to talk about?", "required": true}]}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ids = Vec::new();
    for (email, zone) in [
        ("talia@demo.test", "America/New_York"),
        ("ben@demo.test", "Australia/Sydney"),
    ] {
        let (id, _) = app.person_with_login(admin, email, false).await;
        let (status, provider) = app
            .post(
                "/api/v1/providers",
                admin,
                json!({"person_id": id, "bio": format!("Bio of {email}"), "service_ids": [service]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{provider}");
        let (status, availability) = app
            .put(
                &format!("/api/v1/providers/{id}/availability"),
                admin,
                json!({"time_zone": zone, "weekly": every_day("09:00", "17:00")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{availability}");
        ids.push(id);
    }
    Setup {
        service,
        talia: ids[0].clone(),
        ben: ids[1].clone(),
    }
}

fn generic_service() -> Value {
    json!({"name": "All available Peer Mentoring", "duration_minutes": 30, "interval_minutes": 30,
           "buffer_after_minutes": 10, "minimum_notice": {"amount": 1, "unit": "hours"},
           "waitlist": true, "late_cancel_hours": 24,
           "locations": [{"name": "Zoom", "format": "virtual"}, {"name": "Library room 2", "format": "in_person"}]})
}

/// Slots of the service on the day after tomorrow, in London time.
async fn slots(app: &TestApp, token: &str, s: &Setup, extra: &str) -> (StatusCode, Value) {
    let day = chrono_day(2);
    app.get(
        &format!(
            "/api/v1/services/{}/slots?from={day}&to={day}&time_zone=Europe/London{extra}",
            s.service
        ),
        token,
    )
    .await
}

fn chrono_day(days_ahead: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days_ahead)).to_string()
}

/// The ids of the providers free at `slot`, one of `list`'s items: a slot names them by their
/// position in the list's `providers`, each of which appears there once, ascending.
fn free_at<'a>(list: &'a Value, slot: &Value) -> Vec<&'a str> {
    let positions: Vec<u64> = slot["providers"]
        .as_array()
        .unwrap_or_else(|| panic!("a slot lists its providers: {slot}"))
        .iter()
        .map(|p| p.as_u64().expect("positions"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "ascending: {slot}");
    positions
        .iter()
        .map(|&i| {
            list["providers"][i as usize]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("position {i} is in providers: {list}"))
        })
        .collect()
}

fn starts(slot: &Value) -> &str {
    slot["starts_at"].as_str().unwrap()
}

both_backends!(
    async fn students_book_cancel_and_reschedule_with_emails_calendar_entries_and_events(backend: Backend) {
        let sink = SmtpSink::start().await;
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let (sam, sam_token) = app.person_with_login(&admin, "sam@demo.test", false).await;
        let (_, kim_token) = app.person_with_login(&admin, "kim@demo.test", false).await;

        // Slots in London time list who is free, with bios once.
        let (status, list) = slots(&app, &sam_token, &s, "").await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["time_zone"], "Europe/London");
        assert_eq!(
            list["labels"]["provider_singular"].as_str().map(|l| !l.is_empty()),
            Some(true)
        );
        let items = list["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{list}");
        let talia_slots: Vec<&Value> = items
            .iter()
            .filter(|i| free_at(&list, i).contains(&s.talia.as_str()))
            .collect();
        // 09:00–17:00 in New York, 30-minute slots every 30 minutes: 16 a day (none crosses
        // midnight in London on the day asked, whatever the season).
        assert_eq!(talia_slots.len(), 16, "{list}");
        let offset = &starts(talia_slots[0])[19..];
        assert!(offset == "+00:00" || offset == "+01:00", "London offsets: {offset}");
        let named: Vec<&str> = list["providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert!(
            named.contains(&s.talia.as_str()) && named.contains(&s.ben.as_str()),
            "{list}"
        );
        assert!(list["providers"].to_string().contains("Bio of talia@demo.test"));

        // The required question is enforced; then the booking is made.
        let first = starts(talia_slots[0]).to_owned();
        let book = |topic: Option<&str>, at: &str| {
            let mut body =
                json!({"service_id": s.service, "provider_id": s.talia, "starts_at": at, "format": "virtual"});
            if let Some(t) = topic {
                body["answers"] = json!({"topic": t});
            }
            body
        };
        let (status, problem) = app.post("/api/v1/bookings", &sam_token, book(None, &first)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["answers.topic"]);
        let (status, booking) = app
            .post("/api/v1/bookings", &sam_token, book(Some("Electives"), &first))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        assert_eq!(booking["location"], "Zoom");
        assert_eq!(booking["status"], "confirmed");
        assert_eq!(booking["answers"][0]["answer"], "Electives");
        let id = booking["id"].as_str().unwrap().to_owned();

        // Both get a confirmation with a calendar invitation.
        let mails = sink.wait_for(2).await;
        for to in ["sam@demo.test", "talia@demo.test"] {
            let mail = mails
                .iter()
                .find(|m| m.contains(&format!("To: {to}")))
                .unwrap_or_else(|| panic!("no mail to {to}"));
            assert!(
                mail.contains("method=REQUEST") || mail.contains("method=\"REQUEST\""),
                "{mail}"
            );
            assert!(mail.contains("Confirmed: All available Peer Mentoring"), "{mail}");
        }

        // The slot is gone for Talia, and so is the next one (10 minutes of buffer after).
        let (_, after) = slots(&app, &kim_token, &s, &format!("&provider_id={}", s.talia)).await;
        let left: Vec<&str> = after["items"].as_array().unwrap().iter().map(starts).collect();
        assert!(!left.contains(&first.as_str()), "{after}");
        assert!(
            !left.contains(&starts(talia_slots[1])),
            "the buffer blocks the next slot: {after}"
        );
        assert_eq!(left.len(), 14);
        // Booking the same time again is a conflict.
        let (status, problem) = app
            .post("/api/v1/bookings", &kim_token, book(Some("Too"), &first))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(problem["status"], 409);
        // A time off the grid, or outside availability, names starts_at.
        let (status, problem) = app
            .post(
                "/api/v1/bookings",
                &kim_token,
                book(Some("x"), &first.replace(":00+", ":07+")),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["starts_at".to_owned()])
        );

        // Kim waits for Talia that day (her day in New York).
        let (status, body) = app
            .post(
                &format!("/api/v1/services/{}/waitlist", s.service),
                &kim_token,
                json!({"provider_id": s.talia, "day": chrono_day(2)}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        // Sam reschedules to a later slot, then cancels: updated and cancelled calendar entries.
        let later = starts(talia_slots[5]).to_owned();
        let (status, moved) = app
            .post(
                &format!("/api/v1/bookings/{id}/reschedule"),
                &sam_token,
                json!({"starts_at": later}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(
            chrono_utc(moved["starts_at"].as_str().unwrap()),
            chrono_utc(&later),
            "{moved}"
        );
        let (status, cancelled) = app
            .post(
                &format!("/api/v1/bookings/{id}/cancel"),
                &sam_token,
                json!({"reason": "Exam moved"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["cancel_reason"], "Exam moved");
        let (status, again) = app
            .post(&format!("/api/v1/bookings/{id}/cancel"), &sam_token, json!({}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        // 2 confirmations, 2 updates, 2 cancellations, and the waitlist offer to Kim.
        let mails = sink.wait_for(7).await;
        assert!(mails
            .iter()
            .any(|m| m.contains("method=CANCEL") || m.contains("method=\"CANCEL\"")));
        let offer = mails
            .iter()
            .find(|m| m.contains("To: kim@demo.test"))
            .expect("the waitlist offer");
        assert!(offer.contains("is free"), "{offer}");
        // "Book it" and the student's "Book another time" open the booking flow; the provider's
        // cancellation opens the booking.
        let links_to = |m: &str, path: &str| cohort_tests::links_in(m).iter().any(|l| l.ends_with(path));
        let book_link = |m: &str| links_to(m, "/me/book");
        assert!(book_link(offer), "{offer}");
        let cancelled_to = |to: &str| {
            mails
                .iter()
                .find(|m| {
                    m.contains(&format!("To: {to}")) && (m.contains("method=CANCEL") || m.contains("method=\"CANCEL\""))
                })
                .unwrap_or_else(|| panic!("no cancellation to {to}"))
        };
        assert!(book_link(cancelled_to("sam@demo.test")));
        let to_talia = cancelled_to("talia@demo.test");
        assert!(
            !book_link(to_talia) && cohort_tests::decoded(to_talia).contains(&format!("/me/bookings/{id}")),
            "{to_talia}"
        );

        // Completing a future booking is refused; events were recorded for both people.
        let (_, rebooked) = app
            .post("/api/v1/bookings", &sam_token, book(Some("Again"), &first))
            .await;
        let rebooked_id = rebooked["id"].as_str().unwrap();
        let (status, _) = app
            .post(&format!("/api/v1/bookings/{rebooked_id}/complete"), &admin, json!({}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, events) = app.get("/api/v1/events?event_type=booking.created", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 4, "{events}");
        let (_, events) = app.get("/api/v1/events?event_type=booking.cancelled", &admin).await;
        assert_eq!(events["items"].as_array().unwrap().len(), 2, "{events}");

        // Sam sees his bookings, Kim none of them; Kim cannot read Sam's.
        let (_, mine) = app.get("/api/v1/bookings", &sam_token).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 2);
        let (_, theirs) = app.get("/api/v1/bookings", &kim_token).await;
        assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
        let (status, _) = app.get(&format!("/api/v1/bookings/{rebooked_id}"), &kim_token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The calendar feed lists Sam's bookings to anyone with the secret address.
        let (status, feed) = app.post("/api/v1/me/calendar-feed", &sam_token, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{feed}");
        let url = feed["url"].as_str().unwrap();
        let path = &url[url.find("/api/v1/").unwrap()..];
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"));
        let text = response.text().await.unwrap();
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2, "{text}");
        assert!(text.contains("STATUS:CANCELLED"), "{text}");
        let response = app
            .client
            .get(app.url("/api/v1/calendar/not-a-feed.ics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let _ = sam;
    }
);

fn chrono_utc(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

both_backends!(
    async fn enrollments_late_cancellation_and_validation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let mut service = generic_service();
        service["late_cancel_hours"] = json!(720);
        let s = setup(&app, &admin, service).await;
        let (sam, sam_token) = app.person_with_login(&admin, "sam@demo.test", false).await;
        let (_, kim_token) = app.person_with_login(&admin, "kim@demo.test", false).await;

        // Once a service has enrollments, only enrolled students see and book it.
        let (status, body) = app
            .post(
                &format!("/api/v1/services/{}/enrollments", s.service),
                &admin,
                json!({"person_ids": [sam]}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = slots(&app, &kim_token, &s, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, list) = slots(&app, &sam_token, &s, "").await;
        assert_eq!(status, StatusCode::OK);
        let at = starts(&list["items"][0]).to_owned();
        let provider = free_at(&list, &list["items"][0])[0].to_owned();
        let body = json!({"service_id": s.service, "provider_id": provider, "starts_at": at, "format": "in_person"});
        let (status, _) = app.post("/api/v1/bookings", &kim_token, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, booking) = app.post("/api/v1/bookings", &sam_token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        assert_eq!(booking["location"], "Library room 2");
        // Students may not change their classes unless the organisation lets them.
        let (status, _) = app
            .put("/api/v1/me/classes", &kim_token, json!({"service_ids": [s.service]}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        app.put(
            "/api/v1/booking-settings",
            &admin,
            json!({"students_edit_classes": true}),
        )
        .await;
        let (status, classes) = app
            .put("/api/v1/me/classes", &kim_token, json!({"service_ids": [s.service]}))
            .await;
        assert_eq!(status, StatusCode::OK, "{classes}");
        let (status, _) = slots(&app, &kim_token, &s, "").await;
        assert_eq!(status, StatusCode::OK);

        // 720 hours of late-cancellation window: only an admin may cancel.
        let id = booking["id"].as_str().unwrap();
        let (status, problem) = app
            .post(&format!("/api/v1/bookings/{id}/cancel"), &sam_token, json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (status, _) = app
            .post(&format!("/api/v1/bookings/{id}/cancel"), &admin, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        // Admins' booking changes are in the audit log; the student's own booking is not.
        for (action, n) in [
            ("service.created", 1),
            ("provider.created", 2),
            ("service.enrolled", 1),
            ("provider.availability_set", 2),
            ("booking.cancelled", 1),
            ("booking.created", 0),
        ] {
            let (_, log) = app.get(&format!("/api/v1/audit-log?action={action}"), &admin).await;
            assert_eq!(log["items"].as_array().map(Vec::len), Some(n), "{action}: {log}");
        }

        // Bad input names its fields and writes nothing.
        let (status, problem) = app
            .post(
                "/api/v1/services",
                &admin,
                json!({"name": "", "duration_minutes": 2, "interval_minutes": 1000, "formats": []}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut f = fields(&problem);
        f.sort();
        assert_eq!(
            f,
            ["duration_minutes", "formats", "interval_minutes", "name"],
            "{problem}"
        );
        let (status, problem) = app
            .put(
                &format!("/api/v1/providers/{}/availability", s.ben),
                &admin,
                json!({"time_zone": "Mars/Olympus", "weekly": [
                    {"weekday": "monday", "start": "09:00", "end": "12:00"},
                    {"weekday": "monday", "start": "11:00", "end": "13:00"},
                    {"weekday": "tuesday", "start": "25:00", "end": "26:00"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut f = fields(&problem);
        f.sort();
        assert_eq!(
            f,
            ["time_zone", "weekly[1]", "weekly[2].end", "weekly[2].start"],
            "{problem}"
        );
        let (_, still) = app
            .get(&format!("/api/v1/providers/{}/availability", s.ben), &admin)
            .await;
        assert_eq!(still["time_zone"], "Australia/Sydney");
        assert_eq!(still["weekly"].as_array().unwrap().len(), 7);
        let (status, _) = app.post("/api/v1/services", &admin, generic_service()).await;
        assert_eq!(status, StatusCode::CONFLICT, "name clash");
        let (status, _) = app
            .post("/api/v1/providers", &admin, json!({"person_id": s.talia}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "a provider already");
        // A provider changes their own availability, not someone else's.
        let (status, _) = app
            .put(
                &format!("/api/v1/providers/{}/availability", s.ben),
                &sam_token,
                json!({"time_zone": "UTC", "weekly": []}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    async fn fifty_concurrent_requests_for_one_slot_make_exactly_one_booking(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let mut service = generic_service();
        service["buffer_before_minutes"] = json!(15);
        let s = setup(&app, &admin, service).await;
        let (_, sam_token) = app.person_with_login(&admin, "sam@demo.test", false).await;
        let (_, list) = slots(&app, &sam_token, &s, &format!("&provider_id={}", s.ben)).await;
        let at = starts(&list["items"][3]).to_owned();
        let body = json!({"service_id": s.service, "provider_id": s.ben, "starts_at": at, "format": "in_person"});
        let statuses = app.post_concurrently(50, "/api/v1/bookings", &sam_token, body).await;
        let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
        let conflicts = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
        assert_eq!((created, conflicts), (1, 49), "{statuses:?}");
        assert_eq!(app.count("bookings"), 1);
        // The neighbouring slots overlap the booking through the buffers: they are refused too.
        for neighbour in [2, 4] {
            let at = starts(&list["items"][neighbour]).to_owned();
            let body = json!({"service_id": s.service, "provider_id": s.ben, "starts_at": at, "format": "in_person"});
            let (status, problem) = app.post("/api/v1/bookings", &sam_token, body).await;
            assert_eq!(status, StatusCode::CONFLICT, "{problem}");
            assert_eq!(
                problem["type"].as_str().map(|t| t.ends_with("conflict")),
                Some(true),
                "{problem}"
            );
        }
    }
);

fn slots_log() -> Spawn {
    Spawn {
        demo_data: false,
        extra_env: vec![("COHORT_LOG".into(), "warn,cohort_api::booking::slots=debug".into())],
    }
}

/// Each slots request's statement count and whether its answer came from the cache, from the
/// server's log, in order.
fn slots_logged(app: &TestApp) -> Vec<(u32, bool)> {
    without_colours(&app.output())
        .lines()
        .filter(|l| l.contains("slots listed"))
        .map(|l| {
            let field = |name: &str| {
                l.split(&format!("{name}="))
                    .nth(1)
                    .and_then(|v| v.split_whitespace().next())
                    .unwrap_or_else(|| panic!("{name} in {l}"))
                    .to_owned()
            };
            (field("statements").parse().unwrap(), field("cached") == "true")
        })
        .collect()
}

both_backends!(
    async fn slots_cost_the_same_statements_whatever_the_number_of_providers(backend: Backend) {
        let app = TestApp::spawn_with(backend, slots_log()).await;
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let (_, few) = slots(&app, &admin, &s, "").await;
        let (_, again) = slots(&app, &admin, &s, "").await;
        assert_eq!(few, again, "the cached answer is the computed one");
        for i in 0..8 {
            let (id, _) = app
                .person_with_login(&admin, &format!("more{i}@demo.test"), false)
                .await;
            app.post(
                "/api/v1/providers",
                &admin,
                json!({"person_id": id, "service_ids": [s.service]}),
            )
            .await;
            let (status, _) = app
                .put(
                    &format!("/api/v1/providers/{id}/availability"),
                    &admin,
                    json!({"time_zone": "Asia/Tokyo", "weekly": every_day("08:00", "20:00")}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        let (_, many) = slots(&app, &admin, &s, "").await;
        let (_, many_again) = slots(&app, &admin, &s, "").await;
        assert_eq!(few["providers"].as_array().unwrap().len(), 2);
        assert_eq!(many["providers"].as_array().unwrap().len(), 10, "{many}");
        assert_eq!(many, many_again);
        let logged = slots_logged(&app);
        // Computed, cached; computed again after the new providers, cached.
        let cached: Vec<bool> = logged.iter().map(|l| l.1).collect();
        assert_eq!(cached, [false, true, false, true], "{logged:?}");
        let (cold, warm) = (logged[0].0, logged[1].0);
        assert_eq!(
            (logged[2].0, logged[3].0),
            (cold, warm),
            "statements with 2 and with 10 providers"
        );
        // Cold: the context (revisions, the caller's checks, zones, labels), the service, its
        // providers and their bookings. Warm: the context only.
        assert_eq!((cold, warm), (4, 1), "{logged:?}");
    }
);

both_backends!(
    async fn a_client_that_takes_gzip_gets_the_cached_answer_compressed_once(backend: Backend) {
        use std::io::Read;
        let app = TestApp::spawn_with(backend, slots_log()).await;
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let day = chrono_day(2);
        let url = app.url(&format!(
            "/api/v1/services/{}/slots?from={day}&to={day}&time_zone=Europe/London",
            s.service
        ));
        let fetch = |encoding: &'static str| {
            let request = app
                .client
                .get(&url)
                .bearer_auth(&admin)
                .header("accept-encoding", encoding);
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                assert_eq!(response.headers()["vary"], "accept-encoding");
                let gzipped = response
                    .headers()
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap().to_owned());
                (gzipped, response.bytes().await.unwrap())
            }
        };
        let (plain_encoding, plain) = fetch("identity").await;
        assert_eq!(plain_encoding, None);
        let plain: Value = serde_json::from_slice(&plain).unwrap();
        assert!(!plain["items"].as_array().unwrap().is_empty(), "{plain}");
        for _ in 0..2 {
            let (encoding, body) = fetch("br;q=1.0, gzip;q=0.8").await;
            assert_eq!(encoding.as_deref(), Some("gzip"));
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut json).unwrap();
            assert!(
                body.len() < json.len(),
                "compressed: {} of {} bytes",
                body.len(),
                json.len()
            );
            assert_eq!(serde_json::from_slice::<Value>(&json).unwrap(), plain);
        }
        // Computed once; then the cache answers, compressing once for the first gzip request.
        let cached: Vec<bool> = slots_logged(&app).iter().map(|l| l.1).collect();
        assert_eq!(cached, [false, true, true]);
    }
);

both_backends!(
    async fn requests_arriving_together_compute_an_answer_once(backend: Backend) {
        let app = TestApp::spawn_with(backend, slots_log()).await;
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let ask = || slots(&app, &admin, &s, "");
        let answers = tokio::join!(ask(), ask(), ask(), ask(), ask(), ask());
        let answers = [answers.0, answers.1, answers.2, answers.3, answers.4, answers.5];
        assert!(answers.iter().all(|a| a == &answers[0] && a.0 == StatusCode::OK));
        let computed = slots_logged(&app).iter().filter(|l| !l.1).count();
        assert_eq!(computed, 1, "{:?}", slots_logged(&app));
    }
);

both_backends!(
    async fn cached_slots_follow_bookings_availability_and_rules_written_by_either_process(backend: Backend) {
        let app = TestApp::spawn_with(backend, slots_log()).await;
        // On PostgreSQL a second process serves half the requests, with its own cache.
        let peer = match backend {
            cohort_tests::Backend::Postgres => Some(app.sibling().await),
            cohort_tests::Backend::Sqlite => None,
        };
        let other = peer.as_ref().unwrap_or(&app);
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let (sam, sam_token) = app.person_with_login(&admin, "sam@demo.test", false).await;
        let (_, kim_token) = app.person_with_login(&admin, "kim@demo.test", false).await;
        let talia_starts = |list: &Value| -> Vec<String> {
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| free_at(list, i).contains(&s.talia.as_str()))
                .map(|i| starts(i).to_owned())
                .collect()
        };
        // Both processes answer, then answer from their caches.
        let mut before = Value::Null;
        for process in [&app, other, &app, other] {
            let (status, list) = slots(process, &sam_token, &s, "").await;
            assert_eq!(status, StatusCode::OK, "{list}");
            if before.is_null() {
                before = list.clone();
            }
            assert_eq!(list, before);
        }
        assert_eq!(talia_starts(&before).len(), 16, "{before}");
        let hits = |p: &TestApp| slots_logged(p).iter().filter(|l| l.1).count();
        assert!(hits(&app) >= 1 && hits(other) >= 1, "cached in each process");

        // A booking through one process: the next answer of either leaves out the slot and the
        // next one (10 minutes of buffer after).
        let first = talia_starts(&before)[0].clone();
        let (status, booking) = app
            .post(
                "/api/v1/bookings",
                &sam_token,
                json!({"service_id": s.service, "provider_id": s.talia, "starts_at": first, "format": "in_person"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        for process in [other, &app] {
            let (_, list) = slots(process, &kim_token, &s, "").await;
            let left = talia_starts(&list);
            assert_eq!(left.len(), 14, "{list}");
            assert!(!left.contains(&first), "{list}");
        }
        // Cancelled through the other process: free again in both.
        let id = booking["id"].as_str().unwrap();
        let (status, _) = other
            .post(&format!("/api/v1/bookings/{id}/cancel"), &sam_token, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        for process in [&app, other] {
            let (_, list) = slots(process, &kim_token, &s, "").await;
            assert_eq!(talia_starts(&list).len(), 16, "{list}");
        }

        // Availability: Talia takes the day off; her bio changes through the other process.
        let (status, _) = other
            .put(
                &format!("/api/v1/providers/{}/availability", s.talia),
                &admin,
                json!({"time_zone": "America/New_York", "weekly": every_day("09:00", "12:00")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app
            .patch(
                &format!("/api/v1/providers/{}", s.ben),
                &admin,
                json!({"bio": "New bio"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for process in [&app, other] {
            let (_, list) = slots(process, &kim_token, &s, "").await;
            assert_eq!(talia_starts(&list).len(), 6, "09:00 to 12:00: {list}");
            assert!(list["providers"].to_string().contains("New bio"), "{list}");
        }
        // The service's rules: an hour between starts.
        let (status, _) = other
            .patch(
                &format!("/api/v1/services/{}", s.service),
                &admin,
                json!({"interval_minutes": 60}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for process in [&app, other] {
            let (_, list) = slots(process, &kim_token, &s, "").await;
            assert_eq!(talia_starts(&list).len(), 3, "09:00, 10:00, 11:00: {list}");
        }
        // The organisation's labels are part of the answer.
        let (status, _) = other
            .patch(
                "/api/v1/organization",
                &admin,
                json!({"labels": {"provider_singular": "Coach", "provider_plural": "Coaches", "class_singular": "Course", "class_plural": "Courses"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for process in [&app, other] {
            let (_, list) = slots(process, &kim_token, &s, "").await;
            assert_eq!(list["labels"]["provider_plural"], "Coaches", "{list}");
        }

        // The caller's checks stay per request: once the service takes enrolled students only,
        // Kim is refused the answer both processes hold.
        let (status, body) = app
            .post(
                &format!("/api/v1/services/{}/enrollments", s.service),
                &admin,
                json!({"person_ids": [sam]}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for process in [&app, other] {
            let (status, _) = slots(process, &kim_token, &s, "").await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, list) = slots(process, &sam_token, &s, "").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(talia_starts(&list).len(), 3);
        }
    }
);

both_backends!(
    async fn a_completed_session_feeds_the_pairing_health_the_first_session_steps_and_automations(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let (sam, sam_token) = app.person_with_login(&admin, "sam@demo.test", false).await;
        let (_, program) = app
            .post(
                "/api/v1/programs",
                &admin,
                json!({"name": "Mentoring", "time_zone": "UTC"}),
            )
            .await;
        let program = program["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .patch(
                &format!("/api/v1/programs/{program}/pairing"),
                &admin,
                json!({"enabled": true, "process": "user_led"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .post(
                &format!("/api/v1/programs/{program}/steps"),
                &admin,
                json!({"title": "Tell us how it went", "viewer_type": "mentee", "action_type": "send_message",
                       "publish_type": "triggered", "trigger": "first_session_completed"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        for (person, role) in [(&s.talia, "mentor"), (&sam, "mentee")] {
            let (status, body) = app
                .post(
                    &format!("/api/v1/programs/{program}/participants"),
                    &admin,
                    json!({"person_id": person, "role": role}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let (status, automation) = app
            .post(
                "/api/v1/automations",
                &admin,
                json!({"name": "Thanks for the session", "trigger": "booking.completed", "frequency": "every_time", "active": true,
                       "actions": [{"type": "send_notification", "title": "Thank you", "body": "How did it go?"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{automation}");
        // Sam asks Talia (user-led: the request is the pairing), then books her.
        let (status, body) = app
            .post(
                &format!("/api/v1/programs/{program}/requests"),
                &sam_token,
                json!({"mentor_id": s.talia}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, list) = slots(&app, &sam_token, &s, &format!("&provider_id={}", s.talia)).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let (status, booking) = app
            .post(
                "/api/v1/bookings",
                &sam_token,
                json!({"service_id": s.service, "provider_id": s.talia, "starts_at": starts(&list["items"][0]),
                       "format": "in_person"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        let id = booking["id"].as_str().unwrap();
        let health = format!("/api/v1/programs/{program}/pairing/health");
        let (_, h) = app.get(&health, &admin).await;
        assert_eq!(h["sessions_completed"], 0, "booked is not had: {h}");

        // The session took place an hour ago (the pairing is three days old), and Talia's
        // session is marked completed.
        let at = |ago: chrono::Duration| (chrono::Utc::now() - ago).format("%Y-%m-%d %H:%M:%S").to_string();
        let (began, paired) = (at(chrono::Duration::hours(1)), at(chrono::Duration::days(3)));
        let ended = at(chrono::Duration::minutes(30));
        app.execute_sql(&format!(
            "UPDATE pairings SET created_at = '{paired}'; \
             UPDATE bookings SET starts_at = '{began}', ends_at = '{ended}', blocked_from = '{began}', blocked_until = '{ended}' WHERE id = '{id}'"
        ));
        let (status, done) = app
            .post(&format!("/api/v1/bookings/{id}/complete"), &admin, json!({}))
            .await;
        assert_eq!(
            (status, done["status"].as_str()),
            (StatusCode::OK, Some("completed")),
            "{done}"
        );

        let (_, h) = app.get(&health, &admin).await;
        assert_eq!(h["sessions_completed"], 1, "{h}");
        assert_eq!(h["pairings"][0]["sessions_completed"], 1, "{h}");
        assert_eq!(
            h["pairings"][0]["status"], "on_track",
            "a session is a sign of life: {h}"
        );
        assert_eq!(
            chrono_utc(h["pairings"][0]["last_activity_at"].as_str().unwrap())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            began,
            "{h}"
        );
        let weekly: u64 = h["weekly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["sessions_completed"].as_u64().unwrap())
            .sum();
        assert_eq!(weekly, 1, "{h}");

        // Sam's first completed session starts the step that waits for it.
        let mut titles = Vec::new();
        for _ in 0..100 {
            titles = app.all_pages("/api/v1/me/steps", &sam_token).await;
            if !titles.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(titles.len(), 1, "{titles:?}");
        assert_eq!(titles[0]["title"], "Tell us how it went");

        // booking.completed reaches the automation, once for each of the two people.
        let runs_path = format!("/api/v1/automations/{}/runs", automation["id"].as_str().unwrap());
        let mut runs = Vec::new();
        for _ in 0..100 {
            runs = app.all_pages(&runs_path, &admin).await;
            if runs.len() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let mut people: Vec<&str> = runs.iter().map(|r| r["event"]["person_id"].as_str().unwrap()).collect();
        people.sort_unstable();
        let mut expected = vec![sam.as_str(), s.talia.as_str()];
        expected.sort_unstable();
        assert_eq!(people, expected, "{runs:?}");
    }
);

both_backends!(
    async fn a_booking_costs_a_fixed_number_of_statements(backend: Backend) {
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_LOG".into(), "warn,cohort_api::booking::bookings=debug".into())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let s = setup(&app, &admin, generic_service()).await;
        let (_, sam_token) = app.person_with_login(&admin, "sam@demo.test", false).await;
        let (status, list) = slots(&app, &sam_token, &s, &format!("&provider_id={}", s.ben)).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let items = list["items"].as_array().unwrap();
        for slot in [&items[0], &items[4]] {
            let (status, booking) = app
                .post(
                    "/api/v1/bookings",
                    &sam_token,
                    json!({"service_id": s.service, "provider_id": s.ben, "starts_at": starts(slot),
                           "format": "virtual", "answers": {"topic": "Essays"}}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{booking}");
        }
        let output = without_colours(&app.output());
        let counts: Vec<u32> = output
            .lines()
            .filter(|l| l.contains("booking created"))
            .filter_map(|l| l.split("statements=").nth(1)?.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(counts.len(), 2, "{output}");
        // The checks in one statement (service, organisation, student, enrollment, the flow's
        // formats, the waitlist), the provider with their availability and their bookings (2),
        // the provider's slot revision, the insert, both emails in one statement, the events
        // with the automations and webhooks that watch them (3): 9 (16 with one statement per
        // check, 22 before the emails were built from what the checks had loaded).
        assert!(counts.iter().all(|n| *n == 9), "{counts:?}");

        // Booking the provider one waits for ends the wait (a tenth statement, only then).
        let (status, body) = app
            .post(
                &format!("/api/v1/services/{}/waitlist", s.service),
                &sam_token,
                json!({"provider_id": s.ben, "day": chrono_day(2)}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(app.count("booking_waitlist"), 1);
        let (status, booking) = app
            .post(
                "/api/v1/bookings",
                &sam_token,
                json!({"service_id": s.service, "provider_id": s.ben, "starts_at": starts(&items[8]),
                       "format": "virtual", "answers": {"topic": "Essays"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        assert_eq!(app.count("booking_waitlist"), 0);
    }
);

/// The log without ANSI colour sequences (`ESC [ ... m`).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
