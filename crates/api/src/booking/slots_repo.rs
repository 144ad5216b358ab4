//! The queries behind free slots: a fixed number of statements whatever the number of providers.

use chrono::NaiveDateTime;
use cohort_api_types::Labels;
use diesel::prelude::*;
use uuid::Uuid;

use super::providers_repo::{ProviderPerson, ProviderRow};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{
    bookings, certifications, enrollments, organizations, people, providers, services, slot_revisions,
};

/// Whether `person` may book `service`: a service with enrollments only takes enrolled students.
pub fn may_book(conn: &mut DbConn, service: &str, person: Uuid) -> Result<bool, ApiError> {
    use diesel::dsl::exists;
    let of_service = || enrollments::table.filter(enrollments::service_id.eq(service));
    let (any, mine): (bool, bool) = diesel::select((
        exists(of_service()),
        exists(of_service().filter(enrollments::person_id.eq(person.to_string()))),
    ))
    .get_result(conn)?;
    Ok(cohort_domain::booking::may_book(false, any, mine))
}

/// The providers certified in a service (or only the one asked for) with their person.
pub fn certified(
    conn: &mut DbConn,
    service: &str,
    only: Option<Uuid>,
) -> Result<Vec<(ProviderRow, ProviderPerson)>, ApiError> {
    let mut q = providers::table
        .inner_join(people::table)
        .inner_join(certifications::table)
        .filter(certifications::service_id.eq(service))
        .select((
            ProviderRow::as_select(),
            (people::name, people::email, people::bio, people::time_zone),
        ))
        .into_boxed();
    if let Some(one) = only {
        q = q.filter(providers::person_id.eq(one.to_string()));
    }
    Ok(q.load(conn)?)
}

/// The bookings of the service's certified providers (or only the one asked for) that block
/// time between `from` and `to`: (provider id, blocked from, blocked until).
pub fn busy(
    conn: &mut DbConn,
    service: &str,
    only: Option<Uuid>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, NaiveDateTime, NaiveDateTime)>, ApiError> {
    let certified = certifications::table
        .filter(certifications::service_id.eq(service))
        .select(certifications::provider_id);
    let mut q = bookings::table
        .filter(bookings::provider_id.eq_any(certified))
        .filter(bookings::status.ne("cancelled"))
        .filter(bookings::blocked_from.lt(to))
        .filter(bookings::blocked_until.gt(from))
        .select((bookings::provider_id, bookings::blocked_from, bookings::blocked_until))
        .into_boxed();
    if let Some(one) = only {
        q = q.filter(bookings::provider_id.eq(one.to_string()));
    }
    Ok(q.load::<(String, NaiveDateTime, NaiveDateTime)>(conn)?)
}

/// What a request for slots reads first, in one statement: the slot revision (before anything an
/// answer is computed from, see the module docs), whether the service is the organisation's and
/// the caller may book it, the zones and the labels.
pub struct Context {
    pub revision: (i64, i64),
    pub service_found: bool,
    pub may_book: bool,
    pub org_zone: String,
    pub my_zone: Option<String>,
    pub labels: Labels,
}

/// The slot revision, whether the service is the organisation's and the person may book it,
/// the zones and the labels ([`Context`]).
pub fn context(conn: &mut DbConn, org: Uuid, service: Uuid, person: Uuid) -> Result<Context, ApiError> {
    use diesel::dsl::{exists, not};
    let (org_id, service_id, person_id) = (org.to_string(), service.to_string(), person.to_string());
    let of_providers = certifications::table
        .filter(certifications::service_id.eq(&service_id))
        .select(db::SumBigInt(certifications::slot_revision));
    let enrollments = || enrollments::table.filter(enrollments::service_id.eq(&service_id));
    #[allow(clippy::type_complexity)]
    let row: (
        Option<i64>,
        Option<i64>,
        bool,
        bool,
        String,
        Option<String>,
        (String, String, String, String),
    ) = organizations::table
        .find(&org_id)
        .select((
            slot_revisions::table
                .find(&org_id)
                .select(slot_revisions::revision)
                .single_value(),
            of_providers.single_value(),
            exists(
                services::table
                    .filter(services::id.eq(&service_id))
                    .filter(services::organization_id.eq(&org_id)),
            ),
            not(exists(enrollments())).or(exists(enrollments().filter(enrollments::person_id.eq(&person_id)))),
            organizations::time_zone,
            people::table
                .filter(people::id.eq(&person_id))
                .filter(people::organization_id.eq(&org_id))
                .select(people::time_zone)
                .single_value(),
            (
                organizations::provider_singular,
                organizations::provider_plural,
                organizations::class_singular,
                organizations::class_plural,
            ),
        ))
        .first(conn)?;
    let (of_org, of_providers, service_found, may_book, org_zone, my_zone, labels) = row;
    Ok(Context {
        revision: (of_org.unwrap_or(0), of_providers.unwrap_or(0)),
        service_found,
        may_book,
        org_zone,
        my_zone,
        labels: Labels {
            provider_singular: labels.0,
            provider_plural: labels.1,
            class_singular: labels.2,
            class_plural: labels.3,
        },
    })
}
