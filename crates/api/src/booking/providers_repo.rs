//! Providers' rows and their queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::{bookings, certifications, organizations, people, providers, services};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = providers)]
pub struct ProviderRow {
    pub person_id: String,
    pub organization_id: String,
    pub photo_url: Option<String>,
    pub availability: String,
    pub locations: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What the provider pages show of a provider's person.
#[derive(Debug, Clone, Queryable)]
pub struct ProviderPerson {
    pub name: String,
    pub email: String,
    pub bio: String,
    pub time_zone: Option<String>,
}

/// A provider of the organisation with their person, or 404.
pub fn get(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<(ProviderRow, ProviderPerson), ApiError> {
    Ok(providers::table
        .inner_join(people::table)
        .filter(providers::organization_id.eq(org.to_string()))
        .filter(providers::person_id.eq(id.to_string()))
        .select((
            ProviderRow::as_select(),
            (people::name, people::email, people::bio, people::time_zone),
        ))
        .first(conn)?)
}

/// Whether the person is one of the organisation's providers (their provider id is their person id).
pub fn is_provider(conn: &mut DbConn, org: Uuid, person: Uuid) -> Result<bool, ApiError> {
    let found: i64 = providers::table
        .filter(providers::organization_id.eq(org.to_string()))
        .filter(providers::person_id.eq(person.to_string()))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// A page of the organisation's providers with their person, by creation, optionally only
/// those certified in one service.
pub fn page(
    conn: &mut DbConn,
    org: Uuid,
    service: Option<Uuid>,
    page: &PageRequest,
) -> Result<Vec<(ProviderRow, ProviderPerson)>, ApiError> {
    let mut q = providers::table
        .inner_join(people::table)
        .filter(providers::organization_id.eq(org.to_string()))
        .order(providers::person_id)
        .limit(page.fetch())
        .select((
            ProviderRow::as_select(),
            (people::name, people::email, people::bio, people::time_zone),
        ))
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(providers::person_id.gt(after.clone()));
    }
    if let Some(service) = service {
        q = q.filter(
            providers::person_id.eq_any(
                certifications::table
                    .filter(certifications::service_id.eq(service.to_string()))
                    .select(certifications::provider_id),
            ),
        );
    }
    Ok(q.load::<(ProviderRow, ProviderPerson)>(conn)?)
}

/// The organisation's time zone.
pub fn org_zone(conn: &mut DbConn, org: Uuid) -> Result<String, ApiError> {
    Ok(organizations::table
        .find(org.to_string())
        .select(organizations::time_zone)
        .first(conn)?)
}

/// The services these providers are certified in, by name and course number:
/// (provider id, service id, name, course number).
pub fn certified(conn: &mut DbConn, providers: &[&str]) -> Result<Vec<(String, String, String, String)>, ApiError> {
    Ok(certifications::table
        .inner_join(services::table)
        .filter(certifications::provider_id.eq_any(providers))
        .order((services::name, services::course_number))
        .select((
            certifications::provider_id,
            services::id,
            services::name,
            services::course_number,
        ))
        .load(conn)?)
}

/// Replaces a provider's certifications with `service_ids` (all of the organisation).
pub fn certify(conn: &mut DbConn, org: Uuid, provider: &str, service_ids: &[Uuid]) -> Result<(), ApiError> {
    let services = super::repo::services_of(conn, org, service_ids, "service_ids")?;
    diesel::delete(certifications::table.filter(certifications::provider_id.eq(provider))).execute(conn)?;
    let now = db::now();
    let rows: Vec<_> = services
        .iter()
        .map(|s| {
            (
                certifications::service_id.eq(s),
                certifications::provider_id.eq(provider),
                certifications::created_at.eq(now),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        crate::insert_new!(conn, certifications::table, chunk)?;
    }
    Ok(())
}

/// Stores a new provider; returns nothing, or a 409 when the person is one already.
pub fn insert(conn: &mut DbConn, row: &ProviderRow) -> Result<(), ApiError> {
    diesel::insert_into(providers::table)
        .values(row)
        .execute(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::Conflict("This person is a provider already.".into()),
            other => other,
        })?;
    Ok(())
}

/// Saves a provider's photo and locations; returns nothing.
pub fn update(conn: &mut DbConn, row: &ProviderRow) -> Result<(), ApiError> {
    diesel::update(providers::table.find(&row.person_id))
        .set((
            providers::photo_url.eq(&row.photo_url),
            providers::locations.eq(&row.locations),
            providers::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Saves a provider's bio (on their person); returns nothing.
pub fn set_bio(conn: &mut DbConn, person: &str, bio: &str) -> Result<(), ApiError> {
    diesel::update(people::table.find(person))
        .set((people::bio.eq(bio), people::updated_at.eq(db::now())))
        .execute(conn)?;
    Ok(())
}

/// Saves a provider's time zone (their person's) and stored availability; returns nothing.
pub fn set_availability(
    conn: &mut DbConn,
    person: &str,
    zone: &str,
    availability: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::update(people::table.find(person))
        .set((people::time_zone.eq(Some(zone)), people::updated_at.eq(now)))
        .execute(conn)?;
    diesel::update(providers::table.find(person))
        .set((providers::availability.eq(availability), providers::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// How many confirmed bookings with the provider have not ended yet.
pub fn upcoming_bookings(conn: &mut DbConn, provider: &str) -> Result<i64, ApiError> {
    Ok(bookings::table
        .filter(bookings::provider_id.eq(provider))
        .filter(bookings::status.eq("confirmed"))
        .filter(bookings::ends_at.gt(db::now()))
        .count()
        .get_result(conn)?)
}

/// Stops a person being a provider; returns nothing.
pub fn delete(conn: &mut DbConn, person: &str) -> Result<(), ApiError> {
    diesel::delete(providers::table.find(person)).execute(conn)?;
    Ok(())
}
