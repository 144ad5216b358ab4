//! First start: the demo organisation, its admin and (optionally) a program
//! with mentors and mentees; and organisations created from the command line.

use chrono::{Datelike, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use cohort_api_types::{
    AppointmentFormat, AttributeValue, Attributes, BookingAnswer, BookingSettings, FormatSettings, Location,
    ServiceInput, TopicQuestion, Weekday, WeeklyWindow,
};
use cohort_domain::tenancy::Labels;
use diesel::prelude::*;
use uuid::Uuid;

use crate::booking::bookings_repo::BookingRow;
use crate::booking::providers::{ProviderRow, Stored};
use crate::booking::repo::{self as booking_repo, ServiceRow};
use crate::schema::{bookings, certifications, enrollments, people as people_table, providers, services};

use crate::auth::tokens::{hash_password, random_token};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::messaging::notifications::notify_all;
use crate::messaging::notifications_repo::NewNotification;
use crate::people::repo::PersonRow;
use crate::programs::repo::{ParticipantRow, ProgramRow};
use crate::{organization, pairing, people, programs};

pub const DEMO_NAME: &str = "Peer Mentoring Demo";

pub struct Created {
    pub organization_id: Uuid,
    pub admin_id: Uuid,
}

fn person(
    org: &str,
    email: &str,
    name: &str,
    is_admin: bool,
    attributes: Attributes,
    password_hash: Option<String>,
) -> PersonRow {
    let now = db::now();
    PersonRow {
        id: db::new_id(),
        organization_id: org.to_owned(),
        email: email.to_owned(),
        name: name.to_owned(),
        bio: String::new(),
        time_zone: None,
        attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into()),
        is_admin,
        password_hash,
        created_at: now,
        updated_at: now,
        photo_url: None,
    }
}

/// An organisation with its first admin.
pub fn create_organization(
    conn: &mut DbConn,
    name: &str,
    time_zone: &str,
    labels: Labels,
    admin_email: &str,
    admin_password: &str,
) -> Result<Created, ApiError> {
    let org = organization::repo::create(conn, name, time_zone, labels)?;
    let admin = person(
        &org.id,
        admin_email,
        "Ada Admin",
        true,
        Attributes::new(),
        Some(hash_password(admin_password)),
    );
    people::repo::insert(conn, std::slice::from_ref(&admin))?;
    Ok(Created {
        organization_id: db::id(&org.id),
        admin_id: db::id(&admin.id),
    })
}

pub struct Seeded {
    /// The admin's password when it was generated here (shown once).
    pub generated_password: Option<String>,
    /// With the demo program: the people who take part and can log in, and their password
    /// (generated here, shown once).
    pub participant_logins: Option<(&'static [&'static str], String)>,
}

/// The demo participants who can log in: a mentee, and a mentor who is also a peer mentor.
pub const PARTICIPANT_LOGINS: &[&str] = &["amara.n@demo.cohort.test", "talia.k@demo.cohort.test"];

/// On an empty database: the demo organisation, its admin, and with `with_program` a
/// published program of mentors and mentees with profile attributes. Otherwise nothing.
pub fn seed_if_empty(
    db: &Db,
    admin_email: &str,
    admin_password: Option<&str>,
    with_program: bool,
) -> Result<Option<Seeded>, ApiError> {
    db.write_blocking(|conn| {
        if organization::repo::count(conn)? > 0 {
            return Ok(None);
        }
        let generated = admin_password.is_none().then(|| random_token("")[..20].to_owned());
        let password = admin_password.or(generated.as_deref()).unwrap_or_default();
        let labels = Labels {
            provider_singular: "Peer Mentor".into(),
            provider_plural: "Peer Mentors".into(),
            class_singular: "Course".into(),
            class_plural: "Courses".into(),
        };
        let created = create_organization(conn, DEMO_NAME, "America/New_York", labels, admin_email, password)?;
        let mut org = organization::repo::get(conn, created.organization_id)?;
        org.holidays = r#"["2026-11-26","2026-11-27","2026-12-25","2027-01-01","2027-01-18"]"#.into();
        organization::repo::save(conn, &org)?;
        let mut participant_logins = None;
        if with_program {
            let participant_password = random_token("")[..20].to_owned();
            let people = seed_program(conn, &org.id, &hash_password(&participant_password))?;
            seed_booking(conn, &org.id, &created.admin_id.to_string(), &people)?;
            participant_logins = Some((PARTICIPANT_LOGINS, participant_password));
        }
        Ok(Some(Seeded {
            generated_password: generated,
            participant_logins,
        }))
    })
}

/// The demo people's ids by email.
type DemoPeople = std::collections::HashMap<&'static str, String>;

/// The demo program; the people of [`PARTICIPANT_LOGINS`] get `password_hash`.
fn seed_program(conn: &mut DbConn, org: &str, password_hash: &str) -> Result<DemoPeople, ApiError> {
    let text = |s: &str| AttributeValue::Text(s.to_owned());
    let list = |items: &[&str]| AttributeValue::List(items.iter().map(|s| s.to_string()).collect());
    /// email, name, department, languages, interests, role
    type DemoPerson = (
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        &'static str,
    );
    let people_data: [DemoPerson; 10] = [
        (
            "talia.k@demo.cohort.test",
            "Talia K",
            "Chemistry",
            &["English", "Spanish"],
            &["research", "lab skills"],
            "mentor",
        ),
        (
            "marcus.o@demo.cohort.test",
            "Marcus O",
            "Computer Science",
            &["English"],
            &["internships", "coding"],
            "mentor",
        ),
        (
            "priya.s@demo.cohort.test",
            "Priya S",
            "Economics",
            &["English", "Hindi"],
            &["finance", "study habits"],
            "mentor",
        ),
        (
            "jonas.w@demo.cohort.test",
            "Jonas W",
            "History",
            &["English", "German"],
            &["writing", "study abroad"],
            "mentor",
        ),
        (
            "amara.n@demo.cohort.test",
            "Amara N",
            "Chemistry",
            &["English"],
            &["research"],
            "mentee",
        ),
        (
            "leo.m@demo.cohort.test",
            "Leo M",
            "Computer Science",
            &["English", "Spanish"],
            &["coding"],
            "mentee",
        ),
        (
            "sofia.r@demo.cohort.test",
            "Sofia R",
            "Economics",
            &["Spanish"],
            &["finance"],
            "mentee",
        ),
        (
            "kenji.t@demo.cohort.test",
            "Kenji T",
            "History",
            &["English", "Japanese"],
            &["writing"],
            "mentee",
        ),
        (
            "zoe.b@demo.cohort.test",
            "Zoe B",
            "Biology",
            &["English"],
            &["lab skills"],
            "mentee",
        ),
        (
            "omar.h@demo.cohort.test",
            "Omar H",
            "Computer Science",
            &["English", "Arabic"],
            &["internships"],
            "mentee",
        ),
    ];
    let mut rows = Vec::new();
    for (email, name, department, languages, interests, role) in people_data {
        let attributes = Attributes::from([
            ("department".to_owned(), text(department)),
            ("languages".to_owned(), list(languages)),
            ("interests".to_owned(), list(interests)),
            (
                "year".to_owned(),
                AttributeValue::Number(if role == "mentor" { 3 } else { 1 }.into()),
            ),
        ]);
        let login = PARTICIPANT_LOGINS.contains(&email).then(|| password_hash.to_owned());
        rows.push((person(org, email, name, false, attributes, login), role));
    }
    let person_rows: Vec<PersonRow> = rows.iter().map(|(p, _)| p.clone()).collect();
    people::repo::insert(conn, &person_rows)?;
    let now = db::now();
    let program = ProgramRow {
        id: db::new_id(),
        organization_id: org.to_owned(),
        name: "2027 Spring Cohort".into(),
        description: "Peer mentoring for first-year students: one upper-year mentor for every two or three mentees."
            .into(),
        status: "published".into(),
        time_zone: "America/New_York".into(),
        created_at: now,
        updated_at: now,
        participant_editable_attributes: "[]".into(),
    };
    programs::repo::insert(conn, &program)?;
    let participants: Vec<ParticipantRow> = rows
        .iter()
        .map(|(p, role)| ParticipantRow {
            id: db::new_id(),
            organization_id: org.to_owned(),
            program_id: program.id.clone(),
            person_id: p.id.clone(),
            role: (*role).to_owned(),
            status: "active".into(),
            joined_at: now,
            removed_at: None,
        })
        .collect();
    programs::repo::insert_participants(conn, &participants)?;
    let everyone: Vec<String> = participants.iter().map(|p| p.person_id.clone()).collect();
    seed_steps(conn, org, &program, &everyone)?;
    let id_of = |email: &str| {
        rows.iter()
            .find(|(p, _)| p.email == email)
            .map(|(p, _)| p.id.clone())
            .unwrap_or_default()
    };
    seed_pairing(
        conn,
        &program,
        &id_of("amara.n@demo.cohort.test"),
        &id_of("talia.k@demo.cohort.test"),
        &id_of("leo.m@demo.cohort.test"),
    )?;
    Ok(people_data
        .iter()
        .zip(&rows)
        .map(|((email, ..), (p, _))| (*email, p.id.clone()))
        .collect())
}

/// Three steps every participant has from the first visit (each with its notification), and a
/// welcome message from the program team in everyone's feed.
fn seed_steps(conn: &mut DbConn, org: &str, program: &ProgramRow, people: &[String]) -> Result<(), ApiError> {
    use cohort_api_types::{ActionType, PublishType, ViewerType};
    let now = db::now();
    let in_two_weeks = Utc::now().date_naive() + Days::new(14);
    let steps = [
        (
            "Meet your mentor",
            "Book a first 30-minute conversation: what you hope to get from the program.",
            ActionType::ScheduleMeeting,
            None,
            None,
        ),
        (
            "Set your first goal",
            "One goal for this term, specific enough that you will know when it is reached.",
            ActionType::SetGoal,
            None,
            Some(in_two_weeks),
        ),
        (
            "Take the welcome survey",
            "Five questions about what you expect; it takes two minutes.",
            ActionType::TakeSurvey,
            Some("https://example.org/cohort-welcome-survey"),
            None,
        ),
    ];
    let zone = cohort_domain::tenancy::zone(&program.time_zone);
    for (title, description, action, link, due_date) in steps {
        let row = crate::steps::repo::StepRow {
            id: db::new_id(),
            organization_id: org.to_owned(),
            program_id: program.id.clone(),
            title: title.into(),
            description: description.into(),
            viewer_type: crate::steps::repo::name_of(ViewerType::All),
            action_type: crate::steps::repo::name_of(action),
            link_url: link.map(str::to_owned),
            publish_type: crate::steps::repo::name_of(PublishType::Instant),
            publish_at: Some(now),
            due_date,
            created_at: now,
            updated_at: now,
            ..Default::default()
        };
        crate::steps::repo::insert(conn, &row)?;
        crate::steps::delivery::schedule(conn, &row, zone)?;
        crate::steps::delivery::deliver(conn, &row, people)?;
    }
    let welcome = format!(
        "Welcome to {}! Your steps are on your home page; your program team reads every reply.",
        program.name
    );
    let message = NewNotification {
        kind: "message",
        title: "From your program team",
        body: &welcome,
        link: None,
        dedupe_key: None,
    };
    notify_all(conn, db::id(org), people, &message, "demo-welcome:")?;
    Ok(())
}

/// Pairing on (mentees ask, mentors approve): Amara is paired with Talia, their conversation has
/// begun, and Leo's request to Talia waits for her answer (its email, with the links to accept
/// or decline, is in the outbox).
fn seed_pairing(conn: &mut DbConn, program: &ProgramRow, amara: &str, talia: &str, leo: &str) -> Result<(), ApiError> {
    let org = db::id(&program.organization_id);
    let settings = cohort_domain::pairing::Settings {
        enabled: true,
        ..Default::default()
    };
    pairing::repo::save_settings(conn, org, &program.id, &settings, &[])?;
    pairing::create_pairing(conn, program, amara, talia, None)?;
    let conversation = crate::messaging::chat_repo::conversations_of(conn, org, db::id(amara))?
        .into_iter()
        .find(|c| c.kind == "pairing")
        .ok_or_else(|| ApiError::Internal("the pairing opened no conversation".into()))?;
    for (from, body) in [
        (
            talia,
            "Hi Amara! I'm Talia, your mentor this term. What would you like to get out of it?",
        ),
        (
            amara,
            "Hi Talia! Mostly finding a research lab, and how to study for organic chemistry.",
        ),
    ] {
        crate::messaging::chat::post_message(conn, org, &conversation.id, Some(db::id(from)), body)?;
    }
    let request = pairing::repo::RequestRow {
        id: db::new_id(),
        organization_id: program.organization_id.clone(),
        program_id: program.id.clone(),
        mentee_id: leo.to_owned(),
        mentor_id: talia.to_owned(),
        status: "open".into(),
        note: "I'd like help choosing between chemistry and computer science.".into(),
        decline_message: None,
        created_at: db::now(),
        expires_at: None,
        decided_at: None,
    };
    pairing::wait_for_answer(conn, program, &settings, request)?;
    Ok(())
}

/// A demo provider: email, zone, bio, weekly windows (weekdays, start, end).
type DemoProvider = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static [Weekday], &'static str, &'static str)],
);

const WORKDAYS: &[Weekday] = &[
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

/// The four mentors as peer mentors in three time zones, a generic service every one of them
/// gives, two services of one mentor each, the booking flow's question, and bookings around the
/// next working day (in the organisation's zone) so the calendar's first view has something to show.
fn seed_booking(conn: &mut DbConn, org: &str, admin: &str, people_ids: &DemoPeople) -> Result<(), ApiError> {
    let org_id = db::id(org);
    let now = db::now();
    let id_of = |email: &str| people_ids.get(email).cloned().unwrap_or_default();
    let providers_data: [DemoProvider; 4] = [
        (
            "talia.k@demo.cohort.test",
            "America/New_York",
            "Third-year chemistry student; research labs, lab skills, and studying in Spanish or English.",
            &[(WORKDAYS, "09:00", "12:00"), (WORKDAYS, "13:00", "17:00")],
        ),
        (
            "marcus.o@demo.cohort.test",
            "America/Los_Angeles",
            "Computer science senior who interned twice; ask about internships and first programming courses.",
            &[(WORKDAYS, "10:00", "16:00")],
        ),
        (
            "priya.s@demo.cohort.test",
            "Europe/London",
            "Economics student on exchange in London; finance, study habits and time management.",
            &[(
                &[Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday],
                "09:00",
                "15:00",
            )],
        ),
        (
            "jonas.w@demo.cohort.test",
            "America/New_York",
            "History major and writing-centre tutor; essays, study abroad and German.",
            &[(
                &[
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                    Weekday::Saturday,
                ],
                "14:00",
                "19:00",
            )],
        ),
    ];
    let zoom = Location {
        name: "Zoom".into(),
        format: AppointmentFormat::Virtual,
    };
    let library = Location {
        name: "Library room 2".into(),
        format: AppointmentFormat::InPerson,
    };
    let service = |name: &str, course: &str, description: &str, minutes: u32, locations: Vec<Location>| {
        let mut row = ServiceRow::new(org_id, now);
        row.apply(&ServiceInput {
            name: Some(name.into()),
            course_number: Some(course.into()),
            description: Some(description.into()),
            duration_minutes: Some(minutes),
            buffer_after_minutes: Some(10),
            waitlist: Some(true),
            formats: Some(locations.iter().map(|l| l.format).collect()),
            locations: Some(locations),
            ..ServiceInput::default()
        })
        .map(|()| row)
    };
    let generic = service(
        "All available Peer Mentoring",
        "",
        "Meet any peer mentor who is free: pick a time, then the person.",
        30,
        vec![library.clone(), zoom.clone()],
    )?;
    let talia_only = service(
        "Peer Mentoring with Talia K",
        "",
        "Regular sessions with Talia: research, lab skills, first-year chemistry.",
        45,
        vec![zoom.clone()],
    )?;
    let marcus_only = service(
        "Peer Mentoring with Marcus O",
        "CS 101",
        "Help with CS 101 assignments and finding internships, with Marcus.",
        30,
        vec![
            Location {
                name: "CS lounge".into(),
                format: AppointmentFormat::InPerson,
            },
            zoom,
        ],
    )?;
    crate::insert_all!(
        conn,
        services::table,
        &[generic.clone(), talia_only.clone(), marcus_only.clone()]
    )?;

    let mut certified = Vec::new();
    for (email, zone, bio, windows) in providers_data {
        let person = id_of(email);
        diesel::update(people_table::table.find(&person))
            .set((people_table::bio.eq(bio), people_table::time_zone.eq(Some(zone))))
            .execute(conn)?;
        let weekly = windows
            .iter()
            .flat_map(|(days, start, end)| {
                days.iter().map(|d| WeeklyWindow {
                    weekday: *d,
                    start: (*start).into(),
                    end: (*end).into(),
                })
            })
            .collect();
        let stored = Stored {
            weekly,
            ..Stored::default()
        };
        diesel::insert_into(providers::table)
            .values(&ProviderRow {
                person_id: person.clone(),
                organization_id: org.to_owned(),
                photo_url: None,
                availability: serde_json::to_string(&stored).expect("availability serialises"),
                locations: "[]".into(),
                created_at: now,
                updated_at: now,
            })
            .execute(conn)?;
        certified.push((generic.id.clone(), person));
    }
    certified.push((talia_only.id.clone(), id_of("talia.k@demo.cohort.test")));
    certified.push((marcus_only.id.clone(), id_of("marcus.o@demo.cohort.test")));
    let certifications: Vec<_> = certified
        .iter()
        .map(|(service, provider)| {
            (
                certifications::service_id.eq(service),
                certifications::provider_id.eq(provider),
                certifications::created_at.eq(now),
            )
        })
        .collect();
    crate::insert_all!(conn, certifications::table, certifications)?;
    let enrolled: Vec<_> = ["leo.m@demo.cohort.test", "omar.h@demo.cohort.test"]
        .iter()
        .map(|email| {
            (
                enrollments::service_id.eq(marcus_only.id.clone()),
                enrollments::person_id.eq(id_of(email)),
                enrollments::created_at.eq(now),
            )
        })
        .collect();
    crate::insert_all!(conn, enrollments::table, enrolled)?;
    let topic = TopicQuestion {
        id: "topic".into(),
        text: "What would you like to talk about?".into(),
        required: true,
    };
    let labels = booking_repo::labels(conn, org_id)?;
    booking_repo::save_settings(
        conn,
        org_id,
        &BookingSettings {
            students_edit_classes: false,
            formats: vec![
                FormatSettings {
                    format: AppointmentFormat::InPerson,
                    enabled: true,
                    questions: Vec::new(),
                },
                FormatSettings {
                    format: AppointmentFormat::Virtual,
                    enabled: true,
                    questions: vec![topic.clone()],
                },
            ],
            labels,
        },
    )?;

    // Working days from this week's Monday in the organisation's zone. The bookings start on the
    // first working day after today (three of them that day, two of them Talia's) and one was
    // on the working day before it, so the calendar's first view (this week) always has some.
    // Each sits inside its provider's weekly windows (a provider who does not work that day has
    // it on their next day of work), at that provider's local time.
    let org_zone: Tz = "America/New_York".parse().expect("a valid zone");
    let today = Utc::now().with_timezone(&org_zone).date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let working_day = |n: u64| monday + Days::new(n / 5 * 7 + n % 5);
    let next = (0..10).find(|n| working_day(*n) > today).unwrap_or(5);
    let works = |provider: &str, n: u64| {
        let weekday = working_day(n).weekday().num_days_from_monday();
        providers_data
            .iter()
            .filter(|p| p.0 == provider)
            .flat_map(|p| p.3.iter())
            .any(|(days, ..)| days.iter().any(|d| *d as u32 == weekday))
    };
    let day_of_work = |provider: &str, from: u64| (from..from + 10).find(|n| works(provider, *n)).unwrap_or(from);
    // (student, provider, service, working day from Monday, local start, format, location, topic)
    let plan: [(&str, &str, &ServiceRow, u64, &str, &str, &str); 6] = [
        (
            "amara.n@demo.cohort.test",
            "talia.k@demo.cohort.test",
            &generic,
            next,
            "10:00",
            "Zoom",
            "Choosing a research lab",
        ),
        (
            "leo.m@demo.cohort.test",
            "marcus.o@demo.cohort.test",
            &marcus_only,
            next,
            "12:00",
            "CS lounge",
            "",
        ),
        (
            "sofia.r@demo.cohort.test",
            "priya.s@demo.cohort.test",
            &generic,
            day_of_work("priya.s@demo.cohort.test", next + 1),
            "10:00",
            "Library room 2",
            "",
        ),
        (
            "kenji.t@demo.cohort.test",
            "jonas.w@demo.cohort.test",
            &generic,
            day_of_work("jonas.w@demo.cohort.test", next + 1),
            "15:00",
            "Zoom",
            "Essay structure",
        ),
        (
            "zoe.b@demo.cohort.test",
            "talia.k@demo.cohort.test",
            &talia_only,
            next,
            "15:00",
            "Zoom",
            "Lab report feedback",
        ),
        (
            "omar.h@demo.cohort.test",
            "marcus.o@demo.cohort.test",
            &marcus_only,
            next.saturating_sub(1),
            "13:30",
            "Zoom",
            "Summer internships",
        ),
    ];
    let mut rows = Vec::new();
    for (student, provider, service, day, at, location, answer) in plan {
        let zone: Tz = providers_data
            .iter()
            .find(|p| p.0 == provider)
            .and_then(|p| p.1.parse().ok())
            .unwrap_or(org_zone);
        let local = working_day(day).and_time(NaiveTime::parse_from_str(at, "%H:%M").expect("a valid time"));
        let Some(starts_at) = zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
        else {
            continue;
        };
        let rules = service.rules();
        let ends_at = starts_at + rules.duration();
        let held = ends_at < Utc::now();
        let (blocked_from, blocked_until) = cohort_domain::booking::occupied(&rules, starts_at, ends_at);
        let virtual_ = location == "Zoom";
        let answers: Vec<BookingAnswer> = if answer.is_empty() {
            Vec::new()
        } else {
            vec![BookingAnswer {
                question_id: topic.id.clone(),
                question: topic.text.clone(),
                answer: answer.into(),
            }]
        };
        rows.push(BookingRow {
            id: db::new_id(),
            organization_id: org.to_owned(),
            service_id: service.id.clone(),
            provider_id: id_of(provider),
            student_id: id_of(student),
            format: if virtual_ { "virtual" } else { "in_person" }.into(),
            location: location.into(),
            answers: serde_json::to_string(&answers).expect("answers serialise"),
            starts_at: starts_at.naive_utc(),
            ends_at: ends_at.naive_utc(),
            blocked_from: blocked_from.naive_utc(),
            blocked_until: blocked_until.naive_utc(),
            status: if held { "completed" } else { "confirmed" }.into(),
            sequence: 0,
            cancelled_at: None,
            cancelled_by: None,
            cancel_reason: None,
            completed_at: held.then(|| ends_at.naive_utc()),
            created_by: admin.to_owned(),
            created_at: now,
            updated_at: now,
        });
    }
    crate::insert_all!(conn, bookings::table, &rows)?;
    Ok(())
}
