//! Booking's rows and the queries its handlers share.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use cohort_api_types::{
    AppointmentFormat, BookingPerson, BookingSettings, FormatSettings, Labels, Location, MinimumNotice, NoticeUnit,
    Service, ServiceInput, ServiceRef,
};
use cohort_domain::booking::{Notice, ServiceRules};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::paging::PageRequest;
use crate::schema::{booking_settings, bookings, certifications, enrollments, people, services, slot_revisions};

/// At most this many locations per service or provider, and questions per format.
const MAX_LOCATIONS: usize = 20;
const MAX_QUESTIONS: usize = 20;
/// At most this many people or services named in one request.
pub const MAX_IDS: usize = 1000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub course_number: String,
    pub description: String,
    pub duration_minutes: i32,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub notice_unit: String,
    pub notice_amount: i32,
    pub horizon_days: i32,
    pub interval_minutes: i32,
    pub late_cancel_hours: i32,
    pub waitlist: bool,
    pub formats: String,
    pub locations: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn unsigned(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn signed(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl ServiceRow {
    /// A service with the defaults, before the admin's input is applied.
    pub fn new(org: Uuid, now: NaiveDateTime) -> Self {
        Self {
            id: db::new_id(),
            organization_id: org.to_string(),
            name: String::new(),
            course_number: String::new(),
            description: String::new(),
            duration_minutes: 30,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            notice_unit: "hours".into(),
            notice_amount: 2,
            horizon_days: 28,
            interval_minutes: 30,
            late_cancel_hours: 24,
            waitlist: false,
            formats: r#"["in_person","virtual"]"#.into(),
            locations: "[]".into(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn notice(&self) -> MinimumNotice {
        MinimumNotice {
            amount: unsigned(self.notice_amount),
            unit: if self.notice_unit == "days" {
                NoticeUnit::Days
            } else {
                NoticeUnit::Hours
            },
        }
    }

    pub fn formats(&self) -> Vec<AppointmentFormat> {
        serde_json::from_str(&self.formats).unwrap_or_default()
    }

    pub fn locations(&self) -> Vec<Location> {
        serde_json::from_str(&self.locations).unwrap_or_default()
    }

    /// The checked rules the slot engine uses; rows are only written after [`ServiceRow::apply`]
    /// checked them.
    pub fn rules(&self) -> ServiceRules {
        rules_of(self).unwrap_or_else(|_| {
            ServiceRules::new(30, 0, 0, Notice::Hours(0), 28, 30).expect("the fallback rules are valid")
        })
    }

    /// Applies the admin's changes, checking the result as a whole: every invalid field is named.
    pub fn apply(&mut self, input: &ServiceInput) -> Result<(), ApiError> {
        let mut p = Problems::default();
        if let Some(name) = &input.name {
            if let Some(name) = p.check("name", cohort_domain::bounded_text(name, 1, 120)) {
                self.name = name;
            }
        }
        if let Some(number) = &input.course_number {
            if let Some(number) = p.check("course_number", cohort_domain::bounded_text(number, 0, 40)) {
                self.course_number = number;
            }
        }
        if let Some(description) = &input.description {
            if let Some(d) = p.check("description", cohort_domain::bounded_text(description, 0, 2000)) {
                self.description = d;
            }
        }
        let set = |target: &mut i32, value: Option<u32>| {
            if let Some(v) = value {
                *target = signed(v);
            }
        };
        set(&mut self.duration_minutes, input.duration_minutes);
        set(&mut self.buffer_before_minutes, input.buffer_before_minutes);
        set(&mut self.buffer_after_minutes, input.buffer_after_minutes);
        set(&mut self.horizon_days, input.horizon_days);
        set(&mut self.interval_minutes, input.interval_minutes);
        if let Some(hours) = input.late_cancel_hours {
            if hours > 720 {
                p.push("late_cancel_hours", "must be between 0 and 720 hours");
            }
            self.late_cancel_hours = signed(hours);
        }
        if let Some(notice) = input.minimum_notice {
            self.notice_amount = signed(notice.amount);
            self.notice_unit = match notice.unit {
                NoticeUnit::Hours => "hours",
                NoticeUnit::Days => "days",
            }
            .into();
        }
        if let Some(waitlist) = input.waitlist {
            self.waitlist = waitlist;
        }
        if let Err(problems) = rules_of(self) {
            for (field, invalid) in problems {
                let field = if field == "min_notice" { "minimum_notice" } else { field };
                p.push(field, invalid.0);
            }
        }
        if let Some(formats) = &input.formats {
            let distinct: BTreeSet<_> = formats.iter().collect();
            if distinct.is_empty() {
                p.push("formats", "must offer at least one format");
            }
            self.formats = serde_json::to_string(&distinct).expect("formats serialise");
        }
        if let Some(locations) = &input.locations {
            check_locations(&mut p, "locations", locations);
            self.locations = serde_json::to_string(locations).expect("locations serialise");
        }
        p.finish()
    }

    pub fn reference(&self) -> ServiceRef {
        ServiceRef {
            id: db::id(&self.id),
            name: self.name.clone(),
            course_number: self.course_number.clone(),
        }
    }

    fn into_api(self, provider_count: i64, enrollment_count: i64) -> Service {
        Service {
            id: db::id(&self.id),
            minimum_notice: self.notice(),
            formats: self.formats(),
            locations: self.locations(),
            name: self.name,
            course_number: self.course_number,
            description: self.description,
            duration_minutes: unsigned(self.duration_minutes),
            buffer_before_minutes: unsigned(self.buffer_before_minutes),
            buffer_after_minutes: unsigned(self.buffer_after_minutes),
            horizon_days: unsigned(self.horizon_days),
            interval_minutes: unsigned(self.interval_minutes),
            late_cancel_hours: unsigned(self.late_cancel_hours),
            waitlist: self.waitlist,
            provider_count,
            enrollment_count,
            created_at: db::utc(self.created_at),
            updated_at: db::utc(self.updated_at),
        }
    }
}

fn rules_of(row: &ServiceRow) -> Result<ServiceRules, Vec<(&'static str, cohort_domain::Invalid)>> {
    let amount = unsigned(row.notice_amount);
    let notice = if row.notice_unit == "days" {
        Notice::CalendarDays(amount)
    } else {
        Notice::Hours(amount)
    };
    ServiceRules::new(
        unsigned(row.duration_minutes),
        unsigned(row.buffer_before_minutes),
        unsigned(row.buffer_after_minutes),
        notice,
        unsigned(row.horizon_days),
        unsigned(row.interval_minutes),
    )
}

pub fn check_locations(p: &mut Problems, field: &str, locations: &[Location]) {
    if locations.len() > MAX_LOCATIONS {
        p.push(field, format!("at most {MAX_LOCATIONS} locations"));
    }
    let mut seen = BTreeSet::new();
    for (i, l) in locations.iter().enumerate() {
        if let Some(name) = p.check(
            &format!("{field}[{i}].name"),
            cohort_domain::bounded_text(&l.name, 1, 120),
        ) {
            if !seen.insert(name.to_lowercase()) {
                p.push(format!("{field}[{i}].name"), "is listed twice");
            }
        }
    }
}

pub fn check_formats(p: &mut Problems, formats: &[FormatSettings]) {
    let mut seen = BTreeSet::new();
    for (i, f) in formats.iter().enumerate() {
        if !seen.insert(f.format) {
            p.push(format!("formats[{i}].format"), "is listed twice");
        }
        if f.questions.len() > MAX_QUESTIONS {
            p.push(
                format!("formats[{i}].questions"),
                format!("at most {MAX_QUESTIONS} questions"),
            );
        }
        let mut ids = BTreeSet::new();
        for (j, q) in f.questions.iter().enumerate() {
            let field = format!("formats[{i}].questions[{j}]");
            let id_ok = !q.id.is_empty()
                && q.id.len() <= 40
                && q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !id_ok {
                p.push(format!("{field}.id"), "must be 1 to 40 letters, digits, _ or -");
            } else if !ids.insert(q.id.as_str()) {
                p.push(format!("{field}.id"), "is used twice in this format");
            }
            p.check(&format!("{field}.text"), cohort_domain::bounded_text(&q.text, 1, 500));
        }
    }
}

/// A service of the organisation, or 404.
pub fn service(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<ServiceRow, ApiError> {
    Ok(services::table
        .filter(services::organization_id.eq(org.to_string()))
        .filter(services::id.eq(id.to_string()))
        .select(ServiceRow::as_select())
        .first(conn)?)
}

/// Services with their provider and enrollment counts, in two grouped queries.
pub fn with_counts(conn: &mut DbConn, rows: Vec<ServiceRow>) -> Result<Vec<Service>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let providers: HashMap<String, i64> = certifications::table
        .filter(certifications::service_id.eq_any(&ids))
        .group_by(certifications::service_id)
        .select((certifications::service_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let enrolled: HashMap<String, i64> = enrollments::table
        .filter(enrollments::service_id.eq_any(&ids))
        .group_by(enrollments::service_id)
        .select((enrollments::service_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let (p, e) = (
                providers.get(&r.id).copied().unwrap_or(0),
                enrolled.get(&r.id).copied().unwrap_or(0),
            );
            r.into_api(p, e)
        })
        .collect())
}

/// The 409 for a name and course number in use.
pub fn name_clash(e: diesel::result::Error, row: &ServiceRow) -> ApiError {
    match ApiError::from(e) {
        ApiError::Conflict(_) if row.course_number.is_empty() => {
            ApiError::Conflict(format!("A service named \"{}\" exists.", row.name))
        }
        ApiError::Conflict(_) => ApiError::Conflict(format!(
            "A service named \"{}\" with course number \"{}\" exists.",
            row.name, row.course_number
        )),
        other => other,
    }
}

/// A page of the organisation's services, by creation.
pub fn services_page(conn: &mut DbConn, org: Uuid, page: &PageRequest) -> Result<Vec<ServiceRow>, ApiError> {
    let mut q = services::table
        .filter(services::organization_id.eq(org.to_string()))
        .order(services::id)
        .limit(page.fetch())
        .select(ServiceRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(services::id.gt(after.clone()));
    }
    Ok(q.load::<ServiceRow>(conn)?)
}

/// Up to `limit` of the organisation's services after the id `after`, by id.
pub fn services_after(
    conn: &mut DbConn,
    org: Uuid,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ServiceRow>, ApiError> {
    let mut q = services::table
        .filter(services::organization_id.eq(org.to_string()))
        .order(services::id)
        .limit(limit)
        .select(ServiceRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(services::id.gt(after.to_owned()));
    }
    Ok(q.load::<ServiceRow>(conn)?)
}

/// For each of these services: whether it has enrolled students, and whether `person` is one.
pub fn enrollment_of(
    conn: &mut DbConn,
    services: &[&str],
    person: Uuid,
) -> Result<HashMap<String, (bool, bool)>, ApiError> {
    let with_students: Vec<String> = enrollments::table
        .filter(enrollments::service_id.eq_any(services))
        .select(enrollments::service_id)
        .distinct()
        .load(conn)?;
    let mine: Vec<String> = enrollments::table
        .filter(enrollments::service_id.eq_any(services))
        .filter(enrollments::person_id.eq(person.to_string()))
        .select(enrollments::service_id)
        .load(conn)?;
    Ok(with_students
        .into_iter()
        .map(|service| {
            let enrolled = mine.contains(&service);
            (service, (true, enrolled))
        })
        .collect())
}

/// Stores a new service; returns nothing, or the 409 for a name and course number in use.
pub fn insert_service(conn: &mut DbConn, row: &ServiceRow) -> Result<(), ApiError> {
    diesel::insert_into(services::table)
        .values(row)
        .execute(conn)
        .map_err(|e| name_clash(e, row))?;
    Ok(())
}

/// Saves an edited service; returns nothing, or the 409 for a name and course number in use.
pub fn update_service(conn: &mut DbConn, row: &ServiceRow) -> Result<(), ApiError> {
    diesel::update(services::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map_err(|e| name_clash(e, row))?;
    Ok(())
}

/// How many confirmed bookings of the service have not ended yet.
pub fn upcoming_bookings(conn: &mut DbConn, service: &str) -> Result<i64, ApiError> {
    Ok(bookings::table
        .filter(bookings::service_id.eq(service))
        .filter(bookings::status.eq("confirmed"))
        .filter(bookings::ends_at.gt(db::now()))
        .count()
        .get_result(conn)?)
}

/// Deletes a service (its certifications and enrollments go with it); returns nothing.
pub fn delete_service(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::delete(services::table.find(id)).execute(conn)?;
    Ok(())
}

/// What changed free slots: a booking of one provider made, moved or cancelled, or anything
/// else (see [`slots_changed`]).
#[derive(Debug, Clone, Copy)]
pub enum SlotsChange<'a> {
    /// Bookings of this provider (a person id).
    Bookings(&'a str),
    Other,
}

/// Records, inside the caller's transaction, that free slots of `org` may have changed: every
/// process's cached answers ([`super::slots`]) that depend on it are stale from the commit on.
/// Called by each write that can change an answer: a booking made, moved or cancelled (the
/// revision of its provider's certifications, so that on PostgreSQL bookings of different
/// providers never wait on one row); a provider created, changed or deleted, their availability
/// or certifications; a service's rules; a person's name, bio or zone; the organisation's zone
/// (the organisation's revision). Bookings call it before they write the booking: it is what
/// makes concurrent bookings of one provider take turns.
pub fn slots_changed(conn: &mut DbConn, org: Uuid, change: SlotsChange<'_>) -> Result<(), ApiError> {
    use slot_revisions::{organization_id, revision};
    if let SlotsChange::Bookings(provider) = change {
        // The provider is the organisation's: the booking being written names them.
        diesel::update(certifications::table.filter(certifications::provider_id.eq(provider)))
            .set(certifications::slot_revision.eq(certifications::slot_revision + 1i64))
            .execute(conn)?;
        return Ok(());
    }
    let first = (organization_id.eq(org.to_string()), revision.eq(1i64));
    // An upsert: one of the places where the two backends need their own branch.
    match conn {
        DbConn::Sqlite(c) => diesel::insert_into(slot_revisions::table)
            .values(first)
            .on_conflict(organization_id)
            .do_update()
            .set(revision.eq(revision + 1i64))
            .execute(c)?,
        DbConn::Postgres(c) => diesel::insert_into(slot_revisions::table)
            .values(first)
            .on_conflict(organization_id)
            .do_update()
            .set(revision.eq(revision + 1i64))
            .execute(c)?,
    };
    Ok(())
}

pub fn labels(conn: &mut DbConn, org: Uuid) -> Result<Labels, ApiError> {
    Ok(crate::organization::repo::get(conn, org)?.into_api().labels)
}

pub fn person((id, name, email): (String, String, String)) -> BookingPerson {
    BookingPerson {
        id: db::id(&id),
        name,
        email,
    }
}

fn too_many(field: &str, n: usize) -> Result<(), ApiError> {
    if n > MAX_IDS {
        return Err(ApiError::field(field, format!("at most {MAX_IDS} at once")));
    }
    Ok(())
}

/// The ids of these people, all of the organisation, or a 422 naming the first stranger.
pub fn people_of(conn: &mut DbConn, org: Uuid, ids: &[Uuid], field: &str) -> Result<Vec<String>, ApiError> {
    too_many(field, ids.len())?;
    let wanted: BTreeSet<String> = ids.iter().map(Uuid::to_string).collect();
    let found: BTreeSet<String> = people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::id.eq_any(&wanted))
        .select(people::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    match ids.iter().position(|id| !found.contains(&id.to_string())) {
        Some(i) => Err(ApiError::field(
            format!("{field}[{i}]"),
            "is not a person of this organisation",
        )),
        None => Ok(wanted.into_iter().collect()),
    }
}

/// The ids of these services, all of the organisation, or a 422 naming the first stranger.
pub fn services_of(conn: &mut DbConn, org: Uuid, ids: &[Uuid], field: &str) -> Result<Vec<String>, ApiError> {
    too_many(field, ids.len())?;
    let wanted: BTreeSet<String> = ids.iter().map(Uuid::to_string).collect();
    let found: BTreeSet<String> = services::table
        .filter(services::organization_id.eq(org.to_string()))
        .filter(services::id.eq_any(&wanted))
        .select(services::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    match ids.iter().position(|id| !found.contains(&id.to_string())) {
        Some(i) => Err(ApiError::field(
            format!("{field}[{i}]"),
            "is not a service of this organisation",
        )),
        None => Ok(wanted.into_iter().collect()),
    }
}

/// Enrolls every person in every service; existing enrollments stay.
pub fn enroll(conn: &mut DbConn, services: &[String], people: &[String]) -> Result<(), ApiError> {
    let now = db::now();
    for service in services {
        let have: BTreeSet<String> = enrollments::table
            .filter(enrollments::service_id.eq(service))
            .filter(enrollments::person_id.eq_any(people))
            .select(enrollments::person_id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let rows: Vec<_> = people
            .iter()
            .filter(|p| !have.contains(*p))
            .map(|p| {
                (
                    enrollments::service_id.eq(service),
                    enrollments::person_id.eq(p),
                    enrollments::created_at.eq(now),
                )
            })
            .collect();
        for chunk in rows.chunks(500) {
            crate::insert_new!(conn, enrollments::table, chunk)?;
        }
    }
    Ok(())
}

/// A page of the students enrolled in a service, by id: (id, name, email).
pub fn enrolled_page(
    conn: &mut DbConn,
    service: &str,
    page: &PageRequest,
) -> Result<Vec<(String, String, String)>, ApiError> {
    let mut q = enrollments::table
        .inner_join(people::table)
        .filter(enrollments::service_id.eq(service))
        .order(people::id)
        .limit(page.fetch())
        .select((people::id, people::name, people::email))
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(people::id.gt(after.clone()));
    }
    Ok(q.load(conn)?)
}

/// Removes a person's enrollment in a service; returns how many rows went (0 or 1).
pub fn unenroll(conn: &mut DbConn, service: &str, person: Uuid) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        enrollments::table
            .filter(enrollments::service_id.eq(service))
            .filter(enrollments::person_id.eq(person.to_string())),
    )
    .execute(conn)?)
}

/// The ids of the services a person is enrolled in, in id order.
pub fn classes(conn: &mut DbConn, person: Uuid) -> Result<Vec<String>, ApiError> {
    Ok(enrollments::table
        .filter(enrollments::person_id.eq(person.to_string()))
        .order(enrollments::service_id)
        .select(enrollments::service_id)
        .load(conn)?)
}

/// Removes all of a person's enrollments; returns nothing.
pub fn clear_classes(conn: &mut DbConn, person: Uuid) -> Result<(), ApiError> {
    diesel::delete(enrollments::table.filter(enrollments::person_id.eq(person.to_string()))).execute(conn)?;
    Ok(())
}

fn default_formats() -> Vec<FormatSettings> {
    [AppointmentFormat::InPerson, AppointmentFormat::Virtual]
        .into_iter()
        .map(|format| FormatSettings {
            format,
            enabled: true,
            questions: Vec::new(),
        })
        .collect()
}

/// The organisation's booking flow (the defaults until an admin changes it).
pub fn settings(conn: &mut DbConn, org: Uuid) -> Result<BookingSettings, ApiError> {
    let row: Option<(bool, String)> = booking_settings::table
        .find(org.to_string())
        .select((booking_settings::students_edit_classes, booking_settings::formats))
        .first(conn)
        .optional()?;
    let (students_edit_classes, formats) = row.unzip();
    Ok(BookingSettings {
        students_edit_classes: students_edit_classes.unwrap_or(false),
        formats: formats_from(formats.as_deref()),
        labels: labels(conn, org)?,
    })
}

/// The flow's formats as stored in `booking_settings.formats` (none stored: the defaults).
pub fn formats_from(stored: Option<&str>) -> Vec<FormatSettings> {
    stored
        .and_then(|f| serde_json::from_str(f).ok())
        .unwrap_or_else(default_formats)
}

pub fn save_settings(conn: &mut DbConn, org: Uuid, settings: &BookingSettings) -> Result<(), ApiError> {
    let formats = serde_json::to_string(&settings.formats).expect("formats serialise");
    let now = db::now();
    diesel::delete(booking_settings::table.find(org.to_string())).execute(conn)?;
    diesel::insert_into(booking_settings::table)
        .values((
            booking_settings::organization_id.eq(org.to_string()),
            booking_settings::students_edit_classes.eq(settings.students_edit_classes),
            booking_settings::formats.eq(formats),
            booking_settings::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
