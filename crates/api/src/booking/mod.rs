//! Provider-first booking (PRODUCT.md section 4): services and their rules, the organisation's
//! booking flow, enrollments. Providers and their availability are in [`providers`], free times
//! in [`slots`], appointments in [`bookings`].

pub mod bookings;
pub mod bookings_repo;
pub mod providers;
pub mod providers_repo;
pub mod repo;
pub mod slots;
pub mod slots_repo;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use cohort_api_types::{
    BookingSettings, EnrollPeople, EnrollmentPage, MyClasses, PageQuery, Problem, Service, ServiceInput, ServicePage,
    ServicesQuery, UpdateBookingSettings,
};
use cohort_domain::booking as rules;
use uuid::Uuid;

use crate::audit;
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::AppState;

use repo::ServiceRow;

/// The organisation's services, by creation, with its labels. With `bookable=true` only those the
/// caller may book (enrollment, formats), with `format` only those bookable in that format.
#[utoipa::path(
    tag = "booking",
    params(ServicesQuery),
    responses(
        (status = 200, description = "One page of services", body = ServicePage),
        (status = 400, description = "Bad limit, cursor, `bookable` or `format`", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/services")]
pub async fn list_services(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ServicesQuery>,
) -> Result<web::Json<ServicePage>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let (org, me, admin) = (caller.org, caller.person, caller.is_admin);
    let bookable = query.bookable.unwrap_or(false);
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let rows = if bookable || query.format.is_some() {
                    let flow: Vec<_> = repo::settings(conn, org)?
                        .formats
                        .iter()
                        .map(|f| (f.format, f.enabled))
                        .collect();
                    bookable_page(conn, (org, me), &page, |service, enrollment| {
                        let (has_enrollments, enrolled) = enrollment;
                        (!bookable || rules::may_book(admin, has_enrollments, enrolled))
                            && rules::bookable_in(&flow, &service.formats(), query.format.as_ref())
                    })?
                } else {
                    repo::services_page(conn, org, &page)?
                };
                let (rows, next_cursor) = page.finish(rows, |r| db::id(&r.id));
                Ok(ServicePage {
                    items: repo::with_counts(conn, rows)?,
                    next_cursor,
                    labels: repo::labels(conn, org)?,
                })
            })
            .await?,
    ))
}

/// The services after the page's cursor that `keep` keeps (given whether each has enrolled
/// students and whether the caller is one), one more than a page if there are: read in batches,
/// since which to keep is decided here, not in the query.
fn bookable_page(
    conn: &mut db::DbConn,
    (org, me): (Uuid, Uuid),
    page: &PageRequest,
    keep: impl Fn(&ServiceRow, (bool, bool)) -> bool,
) -> Result<Vec<ServiceRow>, ApiError> {
    let (wanted, batch) = (page.fetch() as usize, page.fetch().max(100));
    let mut after = page.after.clone();
    let mut kept = Vec::new();
    loop {
        let rows = repo::services_after(conn, org, after.as_deref(), batch)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let enrollment = repo::enrollment_of(conn, &ids, me)?;
        let last_batch = rows.len() < batch as usize;
        for row in rows {
            let of_row = enrollment.get(&row.id).copied().unwrap_or((false, false));
            if keep(&row, of_row) {
                kept.push(row);
                if kept.len() == wanted {
                    return Ok(kept);
                }
            }
        }
        if last_batch {
            break;
        }
    }
    Ok(kept)
}

/// Creates a service; `name` and `course_number` together are unique.
#[utoipa::path(
    tag = "booking",
    request_body = ServiceInput,
    responses(
        (status = 201, description = "Created", body = Service),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "A service with this name and course number exists", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/services")]
pub async fn create_service(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<ServiceInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    if input.name.is_none() {
        return Err(ApiError::field("name", "is required"));
    }
    let (org, actor) = (caller.org, caller.actor());
    let service = state
        .db
        .write(move |conn| {
            let now = db::now();
            let mut row = ServiceRow::new(org, now);
            row.apply(&input)?;
            repo::insert_service(conn, &row)?;
            let service = repo::with_counts(conn, vec![row])?.remove(0);
            audit::record(
                conn,
                &actor,
                "service.created",
                ("service", service.id),
                audit::NONE,
                &service,
            )?;
            Ok(service)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/services/{}", service.id)))
        .json(service))
}

/// One service.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id")),
    responses(
        (status = 200, description = "The service", body = Service),
        (status = 404, description = "No such service in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/services/{id}")]
pub async fn get_service(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Service>, ApiError> {
    let (org, id) = (caller.org, id.into_inner());
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let row = repo::service(conn, org, id)?;
                Ok(repo::with_counts(conn, vec![row])?.remove(0))
            })
            .await?,
    ))
}

/// Changes a service. New rules apply to bookings made afterwards; existing bookings keep their
/// times.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id")),
    request_body = ServiceInput,
    responses(
        (status = 200, description = "The service after the change", body = Service),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
        (status = 409, description = "A service with this name and course number exists", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/services/{id}")]
pub async fn update_service(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<ServiceInput>,
) -> Result<web::Json<Service>, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                let mut row = repo::service(conn, org, id)?;
                let before = repo::with_counts(conn, vec![row.clone()])?.remove(0);
                row.apply(&input)?;
                row.updated_at = db::now();
                repo::update_service(conn, &row)?;
                let after = repo::with_counts(conn, vec![row])?.remove(0);
                audit::record(conn, &actor, "service.updated", ("service", id), &before, &after)?;
                repo::slots_changed(conn, org, repo::SlotsChange::Other)?;
                Ok(after)
            })
            .await?,
    ))
}

/// Deletes a service with its certifications and enrollments. A service with upcoming
/// confirmed bookings cannot be deleted: cancel them first.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
        (status = 409, description = "The service has upcoming bookings", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/services/{id}")]
pub async fn delete_service(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let row = repo::service(conn, org, id)?;
            let upcoming = repo::upcoming_bookings(conn, &row.id)?;
            if upcoming > 0 {
                return Err(ApiError::Conflict(format!(
                    "The service has {upcoming} upcoming bookings; cancel them first."
                )));
            }
            repo::delete_service(conn, &row.id)?;
            audit::record(
                conn,
                &actor,
                "service.deleted",
                ("service", id),
                audit::NONE,
                audit::NONE,
            )?;
            repo::slots_changed(conn, org, repo::SlotsChange::Other)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The students enrolled in a service, by name.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id"), PageQuery),
    responses(
        (status = 200, description = "One page of enrolled students", body = EnrollmentPage),
        (status = 400, description = "Malformed id, limit or cursor", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/services/{id}/enrollments")]
pub async fn list_enrollments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<EnrollmentPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let service = repo::service(conn, org, id)?;
                let rows = repo::enrolled_page(conn, &service.id, &page)?;
                let (rows, next_cursor) = page.finish(rows, |r| db::id(&r.0));
                Ok(EnrollmentPage {
                    items: rows.into_iter().map(repo::person).collect(),
                    next_cursor,
                })
            })
            .await?,
    ))
}

/// Enrolls people in a service (those already enrolled stay). From then on only enrolled
/// students may book it.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id")),
    request_body = EnrollPeople,
    responses(
        (status = 204, description = "Enrolled"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
        (status = 422, description = "A person is not of this organisation, or too many at once", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/services/{id}/enrollments")]
pub async fn enroll(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<EnrollPeople>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let service = repo::service(conn, org, id)?;
            let people = repo::people_of(conn, org, &input.person_ids, "person_ids")?;
            repo::enroll(conn, &[service.id], &people)?;
            audit::record(conn, &actor, "service.enrolled", ("service", id), audit::NONE, &input)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a student's enrollment.
#[utoipa::path(
    tag = "booking",
    params(
        ("id" = Uuid, Path, description = "The service's id"),
        ("person_id" = Uuid, Path, description = "The student's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such service or enrollment in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/services/{id}/enrollments/{person_id}")]
pub async fn unenroll(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, (id, person), actor) = (caller.org, path.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let service = repo::service(conn, org, id)?;
            let n = repo::unenroll(conn, &service.id, person)?;
            if n == 0 {
                return Err(ApiError::NotFound);
            }
            audit::record(
                conn,
                &actor,
                "service.unenrolled",
                ("service", id),
                serde_json::json!({"person_id": person}),
                audit::NONE,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The services the caller is enrolled in (their classes).
#[utoipa::path(
    tag = "booking",
    responses(
        (status = 200, description = "The caller's classes", body = MyClasses),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/classes")]
pub async fn my_classes(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<MyClasses>, ApiError> {
    let person = caller.person;
    Ok(web::Json(state.db.read(move |conn| classes_of(conn, person)).await?))
}

fn classes_of(conn: &mut crate::db::DbConn, person: Uuid) -> Result<MyClasses, ApiError> {
    let ids = repo::classes(conn, person)?;
    Ok(MyClasses {
        service_ids: ids.iter().map(|id| db::id(id)).collect(),
    })
}

/// Replaces the caller's classes, when the organisation lets students edit them.
#[utoipa::path(
    tag = "booking",
    request_body = MyClasses,
    responses(
        (status = 200, description = "The caller's classes after the change", body = MyClasses),
        (status = 403, description = "The organisation does not let students edit their classes", body = Problem),
        (status = 422, description = "A service is not of this organisation, or too many", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/me/classes")]
pub async fn set_my_classes(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<MyClasses>,
) -> Result<web::Json<MyClasses>, ApiError> {
    let (org, person, is_admin) = (caller.org, caller.person, caller.is_admin);
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                if !is_admin && !repo::settings(conn, org)?.students_edit_classes {
                    return Err(ApiError::Forbidden("Your organisation manages classes for you."));
                }
                let wanted = repo::services_of(conn, org, &input.service_ids, "service_ids")?;
                repo::clear_classes(conn, person)?;
                repo::enroll(conn, &wanted, &[person.to_string()])?;
                classes_of(conn, person)
            })
            .await?,
    ))
}

/// The booking flow: formats, their topic questions, whether students edit their classes, and
/// the organisation's labels.
#[utoipa::path(
    tag = "booking",
    responses(
        (status = 200, description = "The booking flow", body = BookingSettings),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/booking-settings")]
pub async fn get_settings(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<BookingSettings>, ApiError> {
    let org = caller.org;
    Ok(web::Json(state.db.read(move |conn| repo::settings(conn, org)).await?))
}

/// Changes the booking flow (admins only).
#[utoipa::path(
    tag = "booking",
    request_body = UpdateBookingSettings,
    responses(
        (status = 200, description = "The booking flow after the change", body = BookingSettings),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/booking-settings")]
pub async fn update_settings(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<UpdateBookingSettings>,
) -> Result<web::Json<BookingSettings>, ApiError> {
    caller.require_admin()?;
    if let Some(formats) = &input.formats {
        let mut p = Problems::default();
        repo::check_formats(&mut p, formats);
        p.finish()?;
    }
    let (org, actor) = (caller.org, caller.actor());
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                let mut settings = repo::settings(conn, org)?;
                let before = settings.clone();
                if let Some(edit) = input.students_edit_classes {
                    settings.students_edit_classes = edit;
                }
                if let Some(formats) = input.formats {
                    settings.formats = formats;
                }
                repo::save_settings(conn, org, &settings)?;
                audit::record(
                    conn,
                    &actor,
                    "booking_settings.updated",
                    ("organization", org),
                    &before,
                    &settings,
                )?;
                Ok(settings)
            })
            .await?,
    ))
}
