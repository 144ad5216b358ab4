//! Free slots of a service: a fixed number of statements whatever the number of providers, then
//! the domain's slot engine.

use std::collections::HashMap;

use actix_web::{get, web};
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use cohort_api_types::{Problem, Slot, SlotList, SlotProvider, SlotsQuery};
use cohort_domain::booking as rules;
use cohort_domain::tenancy::{instant_at_or_after, parse_time_zone};
use diesel::prelude::*;
use uuid::Uuid;

use super::providers::{ProviderPerson, ProviderRow};
use super::repo::{self, ServiceRow};
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{bookings, certifications, enrollments, organizations, people, providers};
use crate::AppState;

/// At most this many days of slots per request.
pub const MAX_DAYS: u64 = 42;

/// Whether `person` may book `service`: a service with enrollments only takes enrolled students.
pub fn may_book(conn: &mut DbConn, service: &str, person: Uuid) -> Result<bool, ApiError> {
    use diesel::dsl::exists;
    let of_service = || enrollments::table.filter(enrollments::service_id.eq(service));
    let (any, mine): (bool, bool) = diesel::select((
        exists(of_service()),
        exists(of_service().filter(enrollments::person_id.eq(person.to_string()))),
    ))
    .get_result(conn)?;
    Ok(!any || mine)
}

/// A certified provider and their person.
pub type Certified = (ProviderRow, ProviderPerson);

/// The certified providers of a service (or the one asked for), as the engine sees them, with
/// their bookings that block time between `from` and `to`: two statements.
pub fn availability(
    conn: &mut DbConn,
    service: &ServiceRow,
    only: Option<Uuid>,
    org_zone: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<(Vec<rules::Availability<Uuid>>, Vec<Certified>), ApiError> {
    let mut q = providers::table
        .inner_join(people::table)
        .inner_join(certifications::table)
        .filter(certifications::service_id.eq(&service.id))
        .select((
            ProviderRow::as_select(),
            (people::name, people::email, people::bio, people::time_zone),
        ))
        .into_boxed();
    if let Some(one) = only {
        q = q.filter(providers::person_id.eq(one.to_string()));
    }
    let found: Vec<(ProviderRow, ProviderPerson)> = q.load(conn)?;
    let certified = certifications::table
        .filter(certifications::service_id.eq(&service.id))
        .select(certifications::provider_id);
    let mut busy_q = bookings::table
        .filter(bookings::provider_id.eq_any(certified))
        .filter(bookings::status.ne("cancelled"))
        .filter(bookings::blocked_from.lt(to))
        .filter(bookings::blocked_until.gt(from))
        .select((bookings::provider_id, bookings::blocked_from, bookings::blocked_until))
        .into_boxed();
    if let Some(one) = only {
        busy_q = busy_q.filter(bookings::provider_id.eq(one.to_string()));
    }
    let mut busy: HashMap<String, Vec<rules::Busy>> = HashMap::new();
    for (provider, blocked_from, blocked_until) in busy_q.load::<(String, NaiveDateTime, NaiveDateTime)>(conn)? {
        busy.entry(provider).or_default().push(rules::Busy {
            starts_at: db::utc(blocked_from),
            ends_at: db::utc(blocked_until),
            buffer_before: chrono::Duration::zero(),
            buffer_after: chrono::Duration::zero(),
        });
    }
    let engine = found
        .iter()
        .map(|(row, person)| {
            let zone = super::providers::zone_of(person, org_zone);
            row.availability(zone, busy.remove(&row.person_id).unwrap_or_default())
        })
        .collect();
    Ok((engine, found))
}

/// The free slots from `start` to `end` in `zone`, each naming its free providers by their
/// position in the providers returned with them: the providers free at one slot at least, by name.
fn compute(
    rules: &rules::ServiceRules,
    engine: Vec<rules::Availability<Uuid>>,
    found: &mut [Certified],
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<Slot>, Vec<SlotProvider>) {
    // The engine lists each slot's providers in ascending order of their key: ranks by name, so
    // positions in the answer's list (by name too) come out ascending without sorting again.
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| (&found[a].1.name, &found[a].0.person_id).cmp(&(&found[b].1.name, &found[b].0.person_id)));
    let mut rank = vec![0u32; found.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    let by_rank: Vec<rules::Availability<u32>> = engine
        .into_iter()
        .enumerate()
        .map(|(i, a)| rules::Availability {
            provider: rank[i],
            zone: a.zone,
            weekly: a.weekly,
            overrides: a.overrides,
            time_off: a.time_off,
            busy: a.busy,
        })
        .collect();
    let slots = rules::slots(rules, &by_rank, start, end, now);
    // Rank → position in the answer's list, for the ranks some slot names.
    let mut position: Vec<Option<u32>> = vec![None; found.len()];
    for s in &slots {
        for &r in &s.providers {
            position[r as usize] = Some(0);
        }
    }
    let mut providers = Vec::new();
    for (r, &i) in order.iter().enumerate() {
        if position[r].is_some() {
            position[r] = Some(providers.len() as u32);
            let (row, person) = &mut found[i];
            providers.push(SlotProvider {
                id: db::id(&row.person_id),
                name: std::mem::take(&mut person.name),
                bio: std::mem::take(&mut person.bio),
                photo_url: row.photo_url.take(),
            });
        }
    }
    let items = slots
        .into_iter()
        .map(|s| Slot {
            starts_at: s.starts_at.with_timezone(&zone).fixed_offset(),
            ends_at: s.ends_at.with_timezone(&zone).fixed_offset(),
            providers: s.providers.iter().filter_map(|&r| position[r as usize]).collect(),
        })
        .collect();
    (items, providers)
}

/// The zone times are shown in: asked for, else the caller's, else the organisation's.
fn zone(asked: Option<&str>, mine: Option<&str>, org: &str) -> Result<Tz, ApiError> {
    match asked {
        Some(name) => parse_time_zone(name).map_err(|e| ApiError::invalid("time_zone", e)),
        None => Ok(crate::steps::delivery::zone(mine.unwrap_or(org))),
    }
}

/// The free slots of a service over a range of days, in the zone the client asks for. For a
/// service with several certified providers each slot lists who is free; their names and bios
/// come once in `providers`.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id"), SlotsQuery),
    responses(
        (status = 200, description = "The free slots, by start", body = SlotList),
        (status = 400, description = "Malformed id or query", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "The service takes enrolled students only", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
        (status = 422, description = "Unknown time zone, or a range that is reversed or longer than 42 days", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/services/{id}/slots")]
pub async fn list_slots(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<SlotsQuery>,
) -> Result<web::Json<SlotList>, ApiError> {
    let query = query.into_inner();
    let (org, id) = (caller.org, id.into_inner());
    let (person, admin) = (caller.person, caller.is_admin);
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let statements = db::statements();
                let service = repo::service(conn, org, id)?;
                if !admin && !may_book(conn, &service.id, person)? {
                    return Err(ApiError::Forbidden("This service takes enrolled students only."));
                }
                let (org_zone, my_zone): (String, Option<String>) = organizations::table
                    .inner_join(people::table)
                    .filter(people::id.eq(person.to_string()))
                    .select((organizations::time_zone, people::time_zone))
                    .first(conn)?;
                let zone = zone(query.time_zone.as_deref(), my_zone.as_deref(), &org_zone)?;
                let now = Utc::now();
                let from = query.from.unwrap_or_else(|| now.with_timezone(&zone).date_naive());
                let to = query.to.unwrap_or(from + Days::new(6));
                if to < from {
                    return Err(ApiError::field("to", "must not be before from"));
                }
                if (to - from).num_days() >= MAX_DAYS as i64 {
                    return Err(ApiError::field("to", format!("at most {MAX_DAYS} days after from")));
                }
                let midnight = |d: NaiveDate| instant_at_or_after(zone, d.and_time(NaiveTime::MIN));
                let (start, end) = (midnight(from), midnight(to + Days::new(1)));
                let rules = service.rules();
                // Bookings reaching into the range through their buffers count too.
                let margin = chrono::Duration::days(1);
                let (engine, mut found) = availability(
                    conn,
                    &service,
                    query.provider_id,
                    &org_zone,
                    (start - margin).naive_utc(),
                    (end + margin).naive_utc(),
                )?;
                let (items, providers) = compute(&rules, engine, &mut found, zone, start, end, now);
                let labels = repo::labels(conn, org)?;
                tracing::debug!(
                    statements = db::statements() - statements,
                    slots = items.len(),
                    "slots listed"
                );
                Ok(SlotList {
                    service: service.reference(),
                    time_zone: zone.name().to_owned(),
                    from,
                    to,
                    items,
                    providers,
                    labels,
                })
            })
            .await?,
    ))
}
