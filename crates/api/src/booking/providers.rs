//! Providers: people who give appointments, their certifications, locations and availability.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::NaiveTime;
use chrono_tz::Tz;
use cohort_api_types::{
    self as api, Availability, Location, Problem, Provider, ProviderInput, ProviderPage, ProvidersQuery, ServiceRef,
};
use cohort_domain::booking as rules;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::AppState;

use super::providers_repo as data;
use super::repo;

pub use data::{ProviderPerson, ProviderRow};

/// At most this many periods of time off per provider.
const MAX_TIME_OFF: usize = 500;

/// Availability as stored: the API's shape without the zone, which is the person's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stored {
    pub weekly: Vec<api::WeeklyWindow>,
    #[serde(default)]
    pub overrides: Vec<api::DateOverride>,
    #[serde(default)]
    pub time_off: Vec<api::TimeOff>,
}

impl ProviderRow {
    pub fn stored(&self) -> Stored {
        serde_json::from_str(&self.availability).unwrap_or_default()
    }

    pub fn locations(&self) -> Vec<Location> {
        serde_json::from_str(&self.locations).unwrap_or_default()
    }

    /// The slot engine's view of this provider, with their bookings.
    pub fn availability(&self, zone: Tz, busy: Vec<rules::Busy>) -> rules::Availability<Uuid> {
        let stored = self.stored();
        // Stored availability passed `parse` when it was written.
        let (weekly, overrides, time_off) = parse(&stored, &mut Problems::default());
        rules::Availability {
            provider: db::id(&self.person_id),
            zone,
            weekly,
            overrides,
            time_off,
            busy,
        }
    }
}

fn weekday(d: api::Weekday) -> chrono::Weekday {
    use api::Weekday as W;
    match d {
        W::Monday => chrono::Weekday::Mon,
        W::Tuesday => chrono::Weekday::Tue,
        W::Wednesday => chrono::Weekday::Wed,
        W::Thursday => chrono::Weekday::Thu,
        W::Friday => chrono::Weekday::Fri,
        W::Saturday => chrono::Weekday::Sat,
        W::Sunday => chrono::Weekday::Sun,
    }
}

/// `HH:MM`; as an end, `24:00` is midnight at the end of the day (the domain's `00:00`).
fn time(text: &str, end: bool) -> Option<NaiveTime> {
    if end && text == "24:00" {
        return Some(NaiveTime::MIN);
    }
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

type Parsed = (Vec<rules::WeeklyWindow>, Vec<rules::DateOverride>, Vec<rules::TimeOff>);

/// Availability in the domain's terms; every problem goes to `p` with its field path.
fn parse(input: &Stored, p: &mut Problems) -> Parsed {
    let mut clock = |field: String, text: &str, end: bool| {
        let t = time(text, end);
        if t.is_none() {
            p.push(field, "must be a time HH:MM (24:00 for midnight as an end)");
        }
        t
    };
    let mut weekly = Vec::new();
    for (i, w) in input.weekly.iter().enumerate() {
        let start = clock(format!("weekly[{i}].start"), &w.start, false);
        let end = clock(format!("weekly[{i}].end"), &w.end, true);
        if let (Some(start), Some(end)) = (start, end) {
            weekly.push((
                i,
                rules::WeeklyWindow {
                    weekday: weekday(w.weekday),
                    start,
                    end,
                },
            ));
        }
    }
    let mut overrides = Vec::new();
    for (i, o) in input.overrides.iter().enumerate() {
        let mut windows = Vec::new();
        for (k, w) in o.windows.iter().enumerate() {
            let start = clock(format!("overrides[{i}].windows[{k}].start"), &w.start, false);
            let end = clock(format!("overrides[{i}].windows[{k}].end"), &w.end, true);
            windows.extend(start.zip(end));
        }
        overrides.push(rules::DateOverride { date: o.date, windows });
    }
    if input.time_off.len() > MAX_TIME_OFF {
        p.push("time_off", format!("at most {MAX_TIME_OFF} periods"));
    }
    let mut time_off = Vec::new();
    for (i, t) in input.time_off.iter().enumerate() {
        if let Some(t) = p.check(&format!("time_off[{i}]"), rules::TimeOff::new(t.starts_at, t.ends_at)) {
            time_off.push(t);
        }
        p.check(
            &format!("time_off[{i}].reason"),
            cohort_domain::bounded_text(&t.reason, 0, 200),
        );
    }
    let (indices, weekly): (Vec<usize>, Vec<_>) = weekly.into_iter().unzip();
    if let Err(problems) = rules::validate_weekly(&weekly) {
        for (i, invalid) in problems {
            let at = indices.get(i).copied().unwrap_or(i);
            p.push(format!("weekly[{at}]"), invalid.0);
        }
    }
    if let Err(problems) = rules::validate_overrides(&overrides) {
        for (i, invalid) in problems {
            p.push(format!("overrides[{i}]"), invalid.0);
        }
    }
    (weekly, overrides, time_off)
}

/// The zone a provider's weekly availability is in: theirs, else the organisation's.
pub fn zone_of(person: &ProviderPerson, org_zone: &str) -> Tz {
    cohort_domain::tenancy::zone(person.time_zone.as_deref().unwrap_or(org_zone))
}

/// Providers as the API shows them, with their services (one query for all of them).
fn to_api(conn: &mut DbConn, org: Uuid, rows: Vec<(ProviderRow, ProviderPerson)>) -> Result<Vec<Provider>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|(r, _)| r.person_id.as_str()).collect();
    let mut services_of: HashMap<String, Vec<ServiceRef>> = HashMap::new();
    for (provider, id, name, course_number) in data::certified(conn, &ids)? {
        services_of.entry(provider).or_default().push(ServiceRef {
            id: db::id(&id),
            name,
            course_number,
        });
    }
    let zone = data::org_zone(conn, org)?;
    Ok(rows
        .into_iter()
        .map(|(row, person)| Provider {
            id: db::id(&row.person_id),
            locations: row.locations(),
            services: services_of.remove(&row.person_id).unwrap_or_default(),
            time_zone: person.time_zone.clone().unwrap_or_else(|| zone.clone()),
            name: person.name,
            email: person.email,
            bio: person.bio,
            photo_url: row.photo_url,
            created_at: db::utc(row.created_at),
        })
        .collect())
}

fn check_photo(p: &mut Problems, url: &str) -> Option<String> {
    p.check("photo_url", cohort_domain::people::parse_photo_url(url))
        .flatten()
}

/// Applies the changes of `input` to a provider and their person.
fn apply(
    conn: &mut DbConn,
    org: Uuid,
    row: &mut ProviderRow,
    input: &ProviderInput,
    admin: bool,
) -> Result<(), ApiError> {
    let mut p = Problems::default();
    let bio = input
        .bio
        .as_deref()
        .and_then(|b| p.check("bio", cohort_domain::bounded_text(b, 0, 2000)));
    if let Some(url) = &input.photo_url {
        row.photo_url = check_photo(&mut p, url);
    }
    if let Some(locations) = &input.locations {
        repo::check_locations(&mut p, "locations", locations);
        row.locations = serde_json::to_string(locations).expect("locations serialise");
    }
    if input.service_ids.is_some() && !admin {
        p.push("service_ids", "only an admin certifies providers");
    }
    p.finish()?;
    if let Some(bio) = bio {
        data::set_bio(conn, &row.person_id, &bio)?;
    }
    if let Some(ids) = &input.service_ids {
        data::certify(conn, org, &row.person_id, ids)?;
    }
    Ok(())
}

/// Applies `input` to the provider `id` and returns them as the API shows them.
fn save(
    conn: &mut DbConn,
    actor: &audit::Actor,
    id: Uuid,
    input: &ProviderInput,
    admin: bool,
) -> Result<Provider, ApiError> {
    let org = actor.org;
    let (mut row, person) = data::get(conn, org, id)?;
    let before = to_api(conn, org, vec![(row.clone(), person)])?.remove(0);
    apply(conn, org, &mut row, input, admin)?;
    data::update(conn, &row)?;
    let found = data::get(conn, org, id)?;
    let after = to_api(conn, org, vec![found])?.remove(0);
    audit::record(conn, actor, "provider.updated", ("provider", id), &before, &after)?;
    repo::slots_changed(conn, org, repo::SlotsChange::Other)?;
    Ok(after)
}

/// The organisation's providers, by creation, with its labels.
#[utoipa::path(
    tag = "booking",
    params(ProvidersQuery),
    responses(
        (status = 200, description = "One page of providers", body = ProviderPage),
        (status = 400, description = "Bad limit, cursor or service id", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/providers")]
pub async fn list_providers(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ProvidersQuery>,
) -> Result<web::Json<ProviderPage>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let org = caller.org;
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let rows = data::page(conn, org, query.service_id, &page)?;
                let (rows, next_cursor) = page.finish(rows, |(r, _)| db::id(&r.person_id));
                Ok(ProviderPage {
                    items: to_api(conn, org, rows)?,
                    next_cursor,
                    labels: repo::labels(conn, org)?,
                })
            })
            .await?,
    ))
}

/// Makes a person of the organisation a provider, optionally certified in services.
#[utoipa::path(
    tag = "booking",
    request_body = ProviderInput,
    responses(
        (status = 201, description = "Created", body = Provider),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "The person is a provider already", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/providers")]
pub async fn create_provider(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<ProviderInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let Some(person) = input.person_id else {
        return Err(ApiError::field("person_id", "is required"));
    };
    let (org, actor) = (caller.org, caller.actor());
    let provider = state
        .db
        .write(move |conn| {
            crate::people::repo::get(conn, org, person)
                .map_err(|_| ApiError::field("person_id", "is not a person of this organisation"))?;
            let now = db::now();
            let row = ProviderRow {
                person_id: person.to_string(),
                organization_id: org.to_string(),
                photo_url: None,
                availability: serde_json::to_string(&Stored::default()).expect("availability serialises"),
                locations: "[]".into(),
                created_at: now,
                updated_at: now,
            };
            data::insert(conn, &row)?;
            audit::record(
                conn,
                &actor,
                "provider.created",
                ("provider", person),
                audit::NONE,
                audit::NONE,
            )?;
            save(conn, &actor, person, &input, true)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/providers/{}", provider.id)))
        .json(provider))
}

/// One provider.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The provider's (person's) id")),
    responses(
        (status = 200, description = "The provider", body = Provider),
        (status = 404, description = "No such provider in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/providers/{id}")]
pub async fn get_provider(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Provider>, ApiError> {
    let (org, id) = (caller.org, id.into_inner());
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let found = data::get(conn, org, id)?;
                Ok(to_api(conn, org, vec![found])?.remove(0))
            })
            .await?,
    ))
}

/// Changes a provider: admins change anything, providers their own bio, photo and locations.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The provider's (person's) id")),
    request_body = ProviderInput,
    responses(
        (status = 200, description = "The provider after the change", body = Provider),
        (status = 403, description = "Neither an admin nor this provider", body = Problem),
        (status = 404, description = "No such provider in this organisation", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/providers/{id}")]
pub async fn update_provider(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<ProviderInput>,
) -> Result<web::Json<Provider>, ApiError> {
    let id = id.into_inner();
    if !caller.is_admin && caller.person != id {
        return Err(ApiError::Forbidden("Only admins change other providers."));
    }
    let (org, admin, actor) = (caller.org, caller.is_admin, caller.actor());
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                data::get(conn, org, id)?;
                if input.person_id.is_some_and(|p| p != id) {
                    return Err(ApiError::field("person_id", "cannot change"));
                }
                save(conn, &actor, id, &input, admin)
            })
            .await?,
    ))
}

/// Stops a person being a provider. One with upcoming confirmed bookings cannot be removed:
/// cancel them first. The person stays.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The provider's (person's) id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such provider in this organisation", body = Problem),
        (status = 409, description = "The provider has upcoming bookings", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/providers/{id}")]
pub async fn delete_provider(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let (row, _) = data::get(conn, org, id)?;
            let upcoming = data::upcoming_bookings(conn, &row.person_id)?;
            if upcoming > 0 {
                return Err(ApiError::Conflict(format!(
                    "The provider has {upcoming} upcoming bookings; cancel them first."
                )));
            }
            data::delete(conn, &row.person_id)?;
            audit::record(
                conn,
                &actor,
                "provider.deleted",
                ("provider", id),
                audit::NONE,
                audit::NONE,
            )?;
            repo::slots_changed(conn, org, repo::SlotsChange::Other)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn availability_of(row: &ProviderRow, person: &ProviderPerson, org_zone: &str) -> Availability {
    let stored = row.stored();
    Availability {
        time_zone: person.time_zone.clone().unwrap_or_else(|| org_zone.to_owned()),
        weekly: stored.weekly,
        overrides: stored.overrides,
        time_off: stored.time_off,
    }
}

/// A provider's weekly windows (in their zone), date overrides and time off.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The provider's (person's) id")),
    responses(
        (status = 200, description = "The provider's availability", body = Availability),
        (status = 404, description = "No such provider in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/providers/{id}/availability")]
pub async fn get_availability(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Availability>, ApiError> {
    let (org, id) = (caller.org, id.into_inner());
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let (row, person) = data::get(conn, org, id)?;
                let zone = data::org_zone(conn, org)?;
                Ok(availability_of(&row, &person, &zone))
            })
            .await?,
    ))
}

/// Replaces a provider's availability (admins, and the provider). The time zone is the person's:
/// changing it here changes theirs. Existing bookings stay.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The provider's (person's) id")),
    request_body = Availability,
    responses(
        (status = 200, description = "The availability after the change", body = Availability),
        (status = 403, description = "Neither an admin nor this provider", body = Problem),
        (status = 404, description = "No such provider in this organisation", body = Problem),
        (status = 422, description = "A window, override or period is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/providers/{id}/availability")]
pub async fn set_availability(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<Availability>,
) -> Result<web::Json<Availability>, ApiError> {
    let id = id.into_inner();
    if !caller.is_admin && caller.person != id {
        return Err(ApiError::Forbidden("Only admins change other providers' availability."));
    }
    let mut p = Problems::default();
    p.check("time_zone", cohort_domain::tenancy::parse_time_zone(&input.time_zone));
    let stored = Stored {
        weekly: input.weekly,
        overrides: input.overrides,
        time_off: input.time_off,
    };
    parse(&stored, &mut p);
    p.finish()?;
    let (org, actor) = (caller.org, caller.actor());
    let zone = input.time_zone;
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                let (row, person) = data::get(conn, org, id)?;
                let before = availability_of(&row, &person, &data::org_zone(conn, org)?);
                let now = db::now();
                data::set_availability(
                    conn,
                    &row.person_id,
                    &zone,
                    &serde_json::to_string(&stored).expect("availability serialises"),
                    now,
                )?;
                let (row, person) = data::get(conn, org, id)?;
                let org_zone = data::org_zone(conn, org)?;
                let after = availability_of(&row, &person, &org_zone);
                audit::record(
                    conn,
                    &actor,
                    "provider.availability_set",
                    ("provider", id),
                    &before,
                    &after,
                )?;
                repo::slots_changed(conn, org, repo::SlotsChange::Other)?;
                Ok(after)
            })
            .await?,
    ))
}
