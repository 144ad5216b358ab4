//! Bookings' rows and their queries: bookings, the waitlist and calendar feeds.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use cohort_api_types::FormatSettings;
use diesel::prelude::*;
use uuid::Uuid;

use super::repo::ServiceRow;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::{
    booking_settings, booking_waitlist, bookings, calendar_feeds, certifications, enrollments, organizations,
    participants, people, programs, services,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bookings, treat_none_as_default_value = false)]
pub struct BookingRow {
    pub id: String,
    pub organization_id: String,
    pub service_id: String,
    pub provider_id: String,
    pub student_id: String,
    pub format: String,
    pub location: String,
    pub answers: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub blocked_from: NaiveDateTime,
    pub blocked_until: NaiveDateTime,
    pub status: String,
    pub sequence: i32,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub completed_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default)]
/// A person as a booking's emails show them.
pub struct Who {
    pub name: String,
    pub email: String,
    pub time_zone: Option<String>,
}

/// The organisation's name and zone, as a booking's emails show them.
pub struct Org {
    pub name: String,
    pub zone: String,
}

/// An organisation's name and zone.
pub fn organization(conn: &mut DbConn, id: &str) -> Result<Org, ApiError> {
    let (name, zone) = organizations::table
        .find(id)
        .select((organizations::name, organizations::time_zone))
        .first(conn)?;
    Ok(Org { name, zone })
}

/// What a booking reads before its provider's availability, in one statement: the service (the
/// organisation's, else `None`), the organisation, the student (if the organisation's), whether
/// they may book the service (enrolled students only, where it has enrollments) and the booking
/// flow's formats, and whether the student waits for the provider.
pub struct Opening {
    pub service: ServiceRow,
    pub org: Org,
    pub student: Option<Who>,
    pub may_book: bool,
    pub formats: Vec<FormatSettings>,
    pub waiting: bool,
}

/// What a booking reads first ([`Opening`]), or `None` when the service is not the organisation's.
pub fn opening(
    conn: &mut DbConn,
    org: Uuid,
    (service, student, provider): (Uuid, Uuid, Uuid),
) -> Result<Option<Opening>, ApiError> {
    use diesel::dsl::{exists, not};
    let (org_id, service_id, student_id) = (org.to_string(), service.to_string(), student.to_string());
    let enrollments = || enrollments::table.filter(enrollments::service_id.eq(&service_id));
    #[allow(clippy::type_complexity)]
    let row: Option<(
        ServiceRow,
        (String, String),
        Option<(String, String, Option<String>)>,
        bool,
        Option<String>,
        bool,
    )> = services::table
        .inner_join(organizations::table.on(organizations::id.eq(services::organization_id)))
        .left_join(
            people::table.on(people::id
                .eq(student_id.clone())
                .and(people::organization_id.eq(services::organization_id))),
        )
        .left_join(booking_settings::table.on(booking_settings::organization_id.eq(services::organization_id)))
        .filter(services::id.eq(&service_id))
        .filter(services::organization_id.eq(&org_id))
        .select((
            ServiceRow::as_select(),
            (organizations::name, organizations::time_zone),
            (people::name, people::email, people::time_zone).nullable(),
            not(exists(enrollments())).or(exists(enrollments().filter(enrollments::person_id.eq(&student_id)))),
            booking_settings::formats.nullable(),
            exists(
                booking_waitlist::table
                    .filter(booking_waitlist::student_id.eq(&student_id))
                    .filter(booking_waitlist::provider_id.eq(provider.to_string())),
            ),
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(service, (name, zone), student, may_book, formats, waiting)| Opening {
            service,
            org: Org { name, zone },
            student: student.map(|(name, email, time_zone)| Who { name, email, time_zone }),
            may_book,
            formats: super::repo::formats_from(formats.as_deref()),
            waiting,
        }),
    )
}

/// Insert or update failed: the exclusion constraint's refusal is the slot being taken.
pub fn taken(e: diesel::result::Error) -> ApiError {
    if let diesel::result::Error::DatabaseError(_, info) = &e {
        if info.constraint_name() == Some("bookings_no_overlap") || info.message().contains("bookings_no_overlap") {
            return ApiError::Conflict("This slot was just taken by another booking.".into());
        }
    }
    ApiError::from(e)
}

/// A booking of the organisation, or 404.
pub fn get(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<BookingRow, ApiError> {
    Ok(bookings::table
        .filter(bookings::organization_id.eq(org.to_string()))
        .filter(bookings::id.eq(id.to_string()))
        .select(BookingRow::as_select())
        .first(conn)?)
}

/// What a page of bookings is narrowed to besides the organisation.
pub struct Filter {
    /// Only the bookings this person is the student or the provider of.
    pub party: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub provider: Option<Uuid>,
    pub student: Option<Uuid>,
    pub status: Option<&'static str>,
}

/// A page of the organisation's bookings, by creation.
pub fn page(conn: &mut DbConn, org: Uuid, filter: &Filter, page: &PageRequest) -> Result<Vec<BookingRow>, ApiError> {
    let mut q = bookings::table
        .filter(bookings::organization_id.eq(org.to_string()))
        .order(bookings::id)
        .limit(page.fetch())
        .select(BookingRow::as_select())
        .into_boxed();
    if let Some(me) = &filter.party {
        q = q.filter(
            bookings::student_id
                .eq(me.clone())
                .or(bookings::provider_id.eq(me.clone())),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(bookings::id.gt(after.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(bookings::starts_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(bookings::starts_at.lt(to));
    }
    if let Some(p) = filter.provider {
        q = q.filter(bookings::provider_id.eq(p.to_string()));
    }
    if let Some(s) = filter.student {
        q = q.filter(bookings::student_id.eq(s.to_string()));
    }
    if let Some(status) = filter.status {
        q = q.filter(bookings::status.eq(status));
    }
    Ok(q.load::<BookingRow>(conn)?)
}

/// When the organisation's booking `id` starts, if it is `person`'s (student or provider).
pub fn start_of_party(conn: &mut DbConn, org: Uuid, person: &str, id: &str) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(bookings::table
        .filter(bookings::organization_id.eq(org.to_string()))
        .filter(bookings::id.eq(id))
        .filter(bookings::student_id.eq(person).or(bookings::provider_id.eq(person)))
        .select(bookings::starts_at)
        .first(conn)
        .optional()?)
}

/// Up to `limit` of `person`'s bookings (student or provider) starting at or after `from`, by
/// start then id, after the booking `after` (its start and id).
pub fn party_by_start(
    conn: &mut DbConn,
    org: Uuid,
    person: &str,
    (from, status): (NaiveDateTime, Option<&'static str>),
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<BookingRow>, ApiError> {
    let mut q = bookings::table
        .filter(bookings::organization_id.eq(org.to_string()))
        .filter(bookings::student_id.eq(person).or(bookings::provider_id.eq(person)))
        .filter(bookings::starts_at.ge(from))
        .order((bookings::starts_at, bookings::id))
        .limit(limit)
        .select(BookingRow::as_select())
        .into_boxed();
    if let Some((starts, id)) = after {
        q = q.filter(
            bookings::starts_at
                .gt(starts)
                .or(bookings::starts_at.eq(starts).and(bookings::id.gt(id))),
        );
    }
    if let Some(status) = status {
        q = q.filter(bookings::status.eq(status));
    }
    Ok(q.load::<BookingRow>(conn)?)
}

/// These services, by id.
pub fn services_by_id(conn: &mut DbConn, ids: &[&str]) -> Result<HashMap<String, ServiceRow>, ApiError> {
    Ok(services::table
        .filter(services::id.eq_any(ids))
        .select(ServiceRow::as_select())
        .load::<ServiceRow>(conn)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}

/// These people as bookings show them, by id.
pub fn people_by_id(conn: &mut DbConn, ids: &[&str]) -> Result<HashMap<String, Who>, ApiError> {
    Ok(people::table
        .filter(people::id.eq_any(ids))
        .select((people::id, people::name, people::email, people::time_zone))
        .load::<(String, String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, name, email, time_zone)| (id, Who { name, email, time_zone }))
        .collect())
}

/// A person's name and email.
pub fn name_and_email(conn: &mut DbConn, person: &str) -> Result<(String, String), ApiError> {
    Ok(people::table
        .find(person)
        .select((people::name, people::email))
        .first(conn)?)
}

/// A service by id alone (of a booking already found in the organisation).
pub fn service(conn: &mut DbConn, id: &str) -> Result<ServiceRow, ApiError> {
    Ok(services::table.find(id).select(ServiceRow::as_select()).first(conn)?)
}

/// A service's late-cancellation window, in hours.
pub fn late_cancel_hours(conn: &mut DbConn, service: &str) -> Result<i32, ApiError> {
    Ok(services::table
        .find(service)
        .select(services::late_cancel_hours)
        .first(conn)?)
}

/// Whether the provider is certified in the service.
pub fn is_certified(conn: &mut DbConn, service: &str, provider: Uuid) -> Result<bool, ApiError> {
    let certified: i64 = certifications::table
        .filter(certifications::service_id.eq(service))
        .filter(certifications::provider_id.eq(provider.to_string()))
        .count()
        .get_result(conn)?;
    Ok(certified != 0)
}

/// The interval an existing booking blocks, if it exists.
pub fn blocked(conn: &mut DbConn, id: &str) -> Result<Option<(NaiveDateTime, NaiveDateTime)>, ApiError> {
    Ok(bookings::table
        .find(id)
        .select((bookings::blocked_from, bookings::blocked_until))
        .first(conn)
        .optional()?)
}

/// Stores a new booking; returns nothing, or a 409 when the slot was just taken.
pub fn insert(conn: &mut DbConn, row: &BookingRow) -> Result<(), ApiError> {
    diesel::insert_into(bookings::table)
        .values(row)
        .execute(conn)
        .map_err(taken)?;
    Ok(())
}

/// Saves a booking's cancellation; returns nothing.
pub fn save_cancelled(conn: &mut DbConn, row: &BookingRow) -> Result<(), ApiError> {
    diesel::update(bookings::table.find(&row.id))
        .set((
            bookings::status.eq(&row.status),
            bookings::sequence.eq(row.sequence),
            bookings::cancelled_at.eq(row.cancelled_at),
            bookings::cancelled_by.eq(&row.cancelled_by),
            bookings::cancel_reason.eq(&row.cancel_reason),
            bookings::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Saves a booking's new time and provider; returns nothing, or a 409 when the slot was just
/// taken.
pub fn save_moved(conn: &mut DbConn, row: &BookingRow) -> Result<(), ApiError> {
    diesel::update(bookings::table.find(&row.id))
        .set((
            bookings::provider_id.eq(&row.provider_id),
            bookings::starts_at.eq(row.starts_at),
            bookings::ends_at.eq(row.ends_at),
            bookings::blocked_from.eq(row.blocked_from),
            bookings::blocked_until.eq(row.blocked_until),
            bookings::sequence.eq(row.sequence),
            bookings::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
        .map_err(taken)?;
    Ok(())
}

/// Saves a booking's completion; returns nothing.
pub fn save_completed(conn: &mut DbConn, row: &BookingRow) -> Result<(), ApiError> {
    diesel::update(bookings::table.find(&row.id))
        .set((
            bookings::status.eq(&row.status),
            bookings::completed_at.eq(row.completed_at),
            bookings::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many completed bookings a person has, as student or provider.
pub fn completed_count(conn: &mut DbConn, person: &str) -> Result<i64, ApiError> {
    Ok(bookings::table
        .filter(bookings::status.eq("completed"))
        .filter(bookings::student_id.eq(person).or(bookings::provider_id.eq(person)))
        .count()
        .get_result(conn)?)
}

/// The programs a person takes part in actively: (id, time zone).
pub fn active_programs(conn: &mut DbConn, person: &str) -> Result<Vec<(String, String)>, ApiError> {
    Ok(participants::table
        .inner_join(programs::table)
        .filter(participants::person_id.eq(person))
        .filter(participants::status.eq("active"))
        .select((programs::id, programs::time_zone))
        .distinct()
        .load(conn)?)
}

/// Puts a student on the waitlist for a provider on a day (once); returns nothing.
pub fn wait(
    conn: &mut DbConn,
    org: Uuid,
    service: &str,
    provider: Uuid,
    student: Uuid,
    day: NaiveDate,
) -> Result<(), ApiError> {
    crate::insert_new!(
        conn,
        booking_waitlist::table,
        &[(
            booking_waitlist::id.eq(db::new_id()),
            booking_waitlist::organization_id.eq(org.to_string()),
            booking_waitlist::service_id.eq(service),
            booking_waitlist::provider_id.eq(provider.to_string()),
            booking_waitlist::student_id.eq(student.to_string()),
            booking_waitlist::day.eq(day),
            booking_waitlist::created_at.eq(db::now()),
        )]
    )?;
    Ok(())
}

/// The first 1000 waitlist entries for a provider not offered a time yet, in order:
/// (entry id, student id, day, joined at).
pub fn waiting(conn: &mut DbConn, provider: &str) -> Result<Vec<(String, String, NaiveDate, NaiveDateTime)>, ApiError> {
    Ok(booking_waitlist::table
        .filter(booking_waitlist::provider_id.eq(provider))
        .filter(booking_waitlist::offered_at.is_null())
        .order(booking_waitlist::id)
        .limit(1000)
        .select((
            booking_waitlist::id,
            booking_waitlist::student_id,
            booking_waitlist::day,
            booking_waitlist::created_at,
        ))
        .load::<(String, String, NaiveDate, NaiveDateTime)>(conn)?)
}

/// Marks a waitlist entry as offered a time now; returns nothing.
pub fn mark_offered(conn: &mut DbConn, entry: &str) -> Result<(), ApiError> {
    diesel::update(booking_waitlist::table.find(entry))
        .set(booking_waitlist::offered_at.eq(db::now()))
        .execute(conn)?;
    Ok(())
}

/// Takes a student off the waitlist for a provider; returns nothing.
pub fn stop_waiting(conn: &mut DbConn, student: &str, provider: &str) -> Result<(), ApiError> {
    diesel::delete(
        booking_waitlist::table
            .filter(booking_waitlist::student_id.eq(student))
            .filter(booking_waitlist::provider_id.eq(provider)),
    )
    .execute(conn)?;
    Ok(())
}

/// Replaces a person's calendar feed with one under this token hash; returns nothing.
pub fn replace_feed(conn: &mut DbConn, person: Uuid, hash: String) -> Result<(), ApiError> {
    diesel::delete(calendar_feeds::table.find(person.to_string())).execute(conn)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::person_id.eq(person.to_string()),
            calendar_feeds::token_hash.eq(hash),
            calendar_feeds::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The person whose calendar feed has this token hash, or 404.
pub fn feed_owner(conn: &mut DbConn, hash: String) -> Result<String, ApiError> {
    Ok(calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(hash))
        .select(calendar_feeds::person_id)
        .first(conn)?)
}

/// A person's organisation: (id, name).
pub fn organization_of(conn: &mut DbConn, person: &str) -> Result<(String, String), ApiError> {
    Ok(people::table
        .inner_join(organizations::table)
        .filter(people::id.eq(person))
        .select((organizations::id, organizations::name))
        .first(conn)?)
}

/// A person's bookings (as student or provider) starting from `since`, by start, at most 1000.
pub fn feed(conn: &mut DbConn, org: &str, person: &str, since: NaiveDateTime) -> Result<Vec<BookingRow>, ApiError> {
    Ok(bookings::table
        .filter(bookings::organization_id.eq(org))
        .filter(bookings::student_id.eq(person).or(bookings::provider_id.eq(person)))
        .filter(bookings::starts_at.ge(since))
        .order(bookings::starts_at)
        .limit(1000)
        .select(BookingRow::as_select())
        .load(conn)?)
}
