//! First start: the demo organisation, its admin and (optionally) a program
//! with mentors and mentees; and organisations created from the command line.

use cohort_api_types::{AttributeValue, Attributes};
use cohort_domain::tenancy::Labels;
use uuid::Uuid;

use crate::auth::tokens::{hash_password, random_token};
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::people::repo::PersonRow;
use crate::programs::repo::{ParticipantRow, ProgramRow};
use crate::{organization, people, programs};

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
}

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
        if with_program {
            seed_program(conn, &org.id)?;
        }
        Ok(Some(Seeded {
            generated_password: generated,
        }))
    })
}

fn seed_program(conn: &mut DbConn, org: &str) -> Result<(), ApiError> {
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
        rows.push((person(org, email, name, false, attributes, None), role));
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
    Ok(())
}
