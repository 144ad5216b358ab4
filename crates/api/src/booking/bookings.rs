//! Bookings: made, cancelled, rescheduled and completed, each with its emails, calendar entries
//! and events; the waitlist; each person's calendar feed.
//!
//! No double booking, ever: a booking blocks its provider from its start minus the service's
//! buffer before to its end plus the buffer after. The booking transaction checks the requested
//! start against the provider's availability and bookings; on SQLite writers take turns, so the
//! check holds; on PostgreSQL concurrent transactions may both pass it, and the exclusion
//! constraint `bookings_no_overlap` refuses the second insert, which becomes a 409.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use cohort_api_types::{
    AppointmentFormat, Booking, BookingAnswer, BookingPage, BookingStatus, BookingsQuery, CalendarFeed, CancelBooking,
    CreateBooking, JoinWaitlist, Problem, RescheduleBooking,
};
use cohort_domain::booking::{self as rules, NotBookable};
use cohort_domain::calendar::{ics, Appointment, Method};
use cohort_domain::events::{BOOKING_CANCELLED, BOOKING_COMPLETED, BOOKING_CREATED};
use serde_json::json;
use uuid::Uuid;

use super::bookings_repo::{self as data, BookingRow, Opening, Org, Who};
use super::providers_repo;
use super::repo::{self, ServiceRow, SlotsChange::Bookings};
use crate::audit;
use crate::auth::tokens::{random_token, token_hash};
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::events::EventRow;
use crate::extract::Body;
use crate::messaging::email::{email_job, queue_email_with, Attachment};
use crate::paging::PageRequest;
use crate::AppState;
use cohort_domain::people::first_name;

fn format_name(f: AppointmentFormat) -> &'static str {
    match f {
        AppointmentFormat::InPerson => "in_person",
        AppointmentFormat::Virtual => "virtual",
    }
}

fn status_of(text: &str) -> BookingStatus {
    match text {
        "cancelled" => BookingStatus::Cancelled,
        "completed" => BookingStatus::Completed,
        _ => BookingStatus::Confirmed,
    }
}

fn status_name(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Confirmed => "confirmed",
        BookingStatus::Cancelled => "cancelled",
        BookingStatus::Completed => "completed",
    }
}

/// A person as a booking's answer and emails show them.
/// What bookings show besides their own rows: their services and people.
#[derive(Default)]
struct Shown {
    services: HashMap<String, ServiceRow>,
    people: HashMap<String, Who>,
}

impl Shown {
    /// The services and people of `rows`: two statements.
    fn load(conn: &mut DbConn, rows: &[BookingRow]) -> Result<Self, ApiError> {
        let service_ids: Vec<&str> = rows.iter().map(|r| r.service_id.as_str()).collect();
        let services = data::services_by_id(conn, &service_ids)?;
        let person_ids: Vec<&str> = rows
            .iter()
            .flat_map(|r| [r.provider_id.as_str(), r.student_id.as_str()])
            .collect();
        let people = data::people_by_id(conn, &person_ids)?;
        Ok(Self { services, people })
    }

    fn who(&self, id: &str) -> Who {
        self.people.get(id).cloned().unwrap_or_default()
    }

    fn service_name(&self, id: &str) -> &str {
        self.services.get(id).map_or("", |s| s.name.as_str())
    }

    fn booking(&self, r: BookingRow) -> Booking {
        let person = |id: &str| {
            let who = self.who(id);
            repo::person((id.to_owned(), who.name, who.email))
        };
        Booking {
            id: db::id(&r.id),
            service: self
                .services
                .get(&r.service_id)
                .map(ServiceRow::reference)
                .unwrap_or_else(|| cohort_api_types::ServiceRef {
                    id: db::id(&r.service_id),
                    name: String::new(),
                    course_number: String::new(),
                }),
            provider: person(&r.provider_id),
            student: person(&r.student_id),
            format: serde_json::from_value(json!(r.format)).unwrap_or(AppointmentFormat::InPerson),
            location: r.location,
            answers: serde_json::from_str(&r.answers).unwrap_or_default(),
            starts_at: db::utc(r.starts_at),
            ends_at: db::utc(r.ends_at),
            status: status_of(&r.status),
            cancelled_at: r.cancelled_at.map(db::utc),
            cancel_reason: r.cancel_reason,
            completed_at: r.completed_at.map(db::utc),
            created_at: db::utc(r.created_at),
        }
    }
}

/// Bookings as the API shows them, with their services and people (two more statements).
fn to_api(conn: &mut DbConn, rows: Vec<BookingRow>) -> Result<Vec<Booking>, ApiError> {
    let shown = Shown::load(conn, &rows)?;
    Ok(rows.into_iter().map(|r| shown.booking(r)).collect())
}

/// A booking of the organisation the caller may see (admin, student or provider), or 404.
fn visible(conn: &mut DbConn, caller: &Caller, id: Uuid) -> Result<BookingRow, ApiError> {
    let row = data::get(conn, caller.org, id)?;
    let me = caller.person.to_string();
    if caller.is_admin || row.student_id == me || row.provider_id == me {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The calendar entry of a booking, as its emails and the feed carry it.
fn appointment(
    row: &BookingRow,
    service: &str,
    provider: &(String, String),
    student: &(String, String),
    organizer: &str,
) -> Appointment {
    Appointment {
        uid: format!("{}@cohort", row.id),
        sequence: u32::try_from(row.sequence).unwrap_or(0),
        summary: format!("{service} with {}", provider.0),
        description: format!("{} and {}", student.0, provider.0),
        location: (!row.location.is_empty()).then(|| row.location.clone()),
        starts_at: db::utc(row.starts_at),
        ends_at: db::utc(row.ends_at),
        organizer: organizer.to_owned(),
        attendees: vec![student.1.clone(), provider.1.clone()],
        cancelled: row.status == "cancelled",
        stamp: Utc::now(),
    }
}

/// Emails the student and the provider about `row` (`booking_confirmed` or `booking_cancelled`)
/// with its calendar entry, once per `cause`; each sees the time in their own zone. One statement.
fn notify(
    conn: &mut DbConn,
    org: &Org,
    shown: &Shown,
    row: &BookingRow,
    template: &str,
    cause: &str,
) -> Result<(), ApiError> {
    let (student, provider) = (shown.who(&row.student_id), shown.who(&row.provider_id));
    let service = shown.service_name(&row.service_id);
    let pair = |p: &Who| (p.name.clone(), p.email.clone());
    let entry = appointment(row, service, &pair(&provider), &pair(&student), &provider.email);
    let method = if row.status == "cancelled" {
        Method::Cancel
    } else {
        Method::Request
    };
    let attachment = Attachment::calendar(method, ics(&org.name, method, &[entry]));
    let emails = [&student, &provider].map(|to| {
        let zone = cohort_domain::tenancy::zone(to.time_zone.as_deref().unwrap_or(&org.zone));
        let starts = db::utc(row.starts_at).with_timezone(&zone);
        let context = json!({
            "organization": {"name": org.name},
            "recipient": {"first_name": first_name(&to.name), "name": to.name, "email": to.email},
            "program": {"name": ""},
            "link": format!("/bookings/{}", row.id),
            "booking": {
                "service": service,
                "provider": provider.name,
                "starts_at": format!("{} ({})", starts.format("%A %-d %B %Y, %H:%M"), zone.name()),
                "location": row.location,
            },
        });
        email_job(
            db::id(&row.organization_id),
            template,
            &to.email,
            context,
            &format!("booking:{cause}:{}:{}", row.id, to.email),
            std::slice::from_ref(&attachment),
        )
    });
    crate::jobs::enqueue_all(conn, emails)?;
    Ok(())
}

/// Records a booking event for the student and the provider.
fn record(conn: &mut DbConn, row: &BookingRow, event_type: &str, cause: &str) -> Result<(), ApiError> {
    let payload = json!({
        "booking_id": row.id, "service_id": row.service_id, "provider_id": row.provider_id,
        "student_id": row.student_id, "starts_at": db::utc(row.starts_at), "format": row.format,
    });
    let now = db::now();
    let events: Vec<EventRow> = [&row.student_id, &row.provider_id]
        .into_iter()
        .map(|person| EventRow {
            id: db::new_id(),
            organization_id: row.organization_id.clone(),
            event_type: event_type.to_owned(),
            program_id: None,
            person_id: Some(person.clone()),
            payload: payload.to_string(),
            dedupe_key: Some(format!("{event_type}:{}:{cause}:{person}", row.id)),
            occurred_at: now,
            created_at: now,
        })
        .collect();
    crate::events::record(conn, &events)?;
    Ok(())
}

/// An admin's change to a booking goes to the audit log; students' and providers' own do not
/// (they are in the booking's events).
fn audit_admin(
    conn: &mut DbConn,
    actor: &audit::Actor,
    admin: bool,
    action: &str,
    before: Option<&Booking>,
    after: &Booking,
) -> Result<(), ApiError> {
    if admin {
        audit::record(conn, actor, action, ("booking", after.id), before, after)?;
    }
    Ok(())
}

/// Why a start was refused, as the client sees it: another booking is a conflict (409), the
/// rest is bad input naming `starts_at`.
fn refused(reason: NotBookable) -> ApiError {
    match reason {
        NotBookable::Conflicts => ApiError::Conflict(format!("This slot was just taken: {reason}.")),
        other => ApiError::field("starts_at", other.to_string()),
    }
}

/// The interval a booking keeps its provider busy, buffers included.
type Blocked = (DateTime<Utc>, DateTime<Utc>);

/// Checks that `provider` may take a booking of `service` from `starts_at` (an existing booking
/// `except` aside); returns its end and the interval it blocks.
fn check_slot(
    conn: &mut DbConn,
    (service, org_zone): (&ServiceRow, &str),
    provider: Uuid,
    starts_at: DateTime<Utc>,
    except: Option<&str>,
) -> Result<(DateTime<Utc>, Blocked), ApiError> {
    let (mut engine, _) = around(conn, (service, org_zone), provider, starts_at)?;
    let Some(mut availability) = engine.pop() else {
        return Err(not_certified());
    };
    if let Some(except) = except {
        if let Some((a, b)) = data::blocked(conn, except)? {
            availability
                .busy
                .retain(|busy| (busy.starts_at, busy.ends_at) != (db::utc(a), db::utc(b)));
        }
    }
    fits(service, &availability, starts_at)
}

/// `provider`'s availability and bookings around `starts_at` if they are certified in `service`
/// (two statements).
fn around(
    conn: &mut DbConn,
    (service, org_zone): (&ServiceRow, &str),
    provider: Uuid,
    starts_at: DateTime<Utc>,
) -> Result<(Vec<rules::Availability<Uuid>>, Vec<super::slots::Certified>), ApiError> {
    let margin = chrono::Duration::days(1);
    let (from, to) = (starts_at - margin, starts_at + service.rules().duration() + margin);
    super::slots::availability(
        conn,
        service,
        Some(provider),
        org_zone,
        from.naive_utc(),
        to.naive_utc(),
    )
}

fn not_certified() -> ApiError {
    ApiError::field("provider_id", "is not certified in this service")
}

/// Whether a booking of `service` from `starts_at` fits `availability`: its end and the
/// interval it blocks.
fn fits(
    service: &ServiceRow,
    availability: &rules::Availability<Uuid>,
    starts_at: DateTime<Utc>,
) -> Result<(DateTime<Utc>, Blocked), ApiError> {
    let rules = service.rules();
    rules::is_bookable(&rules, availability, starts_at, Utc::now()).map_err(refused)?;
    let ends_at = starts_at + rules.duration();
    Ok((ends_at, rules::occupied(&rules, starts_at, ends_at)))
}

/// Books a slot. Students book for themselves; admins may book for `student_id`. The provider
/// must be certified in the service and free then, the format offered, the location one of
/// the format's, and the format's required questions answered. Both people get an email with a
/// calendar entry.
#[utoipa::path(
    tag = "booking",
    request_body = CreateBooking,
    responses(
        (status = 201, description = "Booked", body = Booking),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Booking for someone else without being an admin, or a service for enrolled students only", body = Problem),
        (status = 409, description = "The slot was just taken", body = Problem),
        (status = 422, description = "A field is invalid (named): not a free slot, unknown service or provider, a required answer missing", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/bookings")]
pub async fn create_booking(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreateBooking>,
) -> Result<HttpResponse, ApiError> {
    let student = match input.student_id {
        Some(id) if id != caller.person && !caller.is_admin => {
            return Err(ApiError::Forbidden("Only admins book for someone else."))
        }
        Some(id) => id,
        None => caller.person,
    };
    if student == input.provider_id {
        return Err(ApiError::field("provider_id", "cannot book themselves"));
    }
    let (org, me, admin, actor) = (caller.org, caller.person, caller.is_admin, caller.actor());
    let booking = state
        .db
        .write(move |conn| {
            let statements = db::statements();
            let Opening {
                service,
                org: company,
                student: student_who,
                may_book,
                formats,
                waiting,
            } = data::opening(conn, org, (input.service_id, student, input.provider_id))?
                .ok_or_else(|| ApiError::field("service_id", "is not a service of this organisation"))?;
            let student_who =
                student_who.ok_or_else(|| ApiError::field("student_id", "is not a person of this organisation"))?;
            if !admin && !may_book {
                return Err(ApiError::Forbidden("This service takes enrolled students only."));
            }
            let starts_at = input.starts_at.with_timezone(&Utc);
            let (mut engine, mut found) = around(conn, (&service, &company.zone), input.provider_id, starts_at)?;
            // Not certified: the provider is looked up only to tell which field is wrong, and
            // the rest is checked first, as for a certified one.
            let availability = engine.pop();
            let provider = match found.pop() {
                Some(certified) => certified,
                None => providers_repo::get(conn, org, input.provider_id)
                    .map_err(|_| ApiError::field("provider_id", "is not a provider of this organisation"))?,
            };
            let format = formats.iter().find(|f| f.format == input.format);
            if !format.is_some_and(|f| f.enabled) || !service.formats().contains(&input.format) {
                return Err(ApiError::field("format", "is not offered for this service"));
            }
            let questions = format.map(|f| f.questions.clone()).unwrap_or_default();
            let mut answers = Vec::new();
            let mut p = crate::error::Problems::default();
            for key in input.answers.keys() {
                if !questions.iter().any(|q| &q.id == key) {
                    p.push(format!("answers.{key}"), "is not a question of this format");
                }
            }
            for q in &questions {
                let answer = input.answers.get(&q.id).map(|a| a.trim()).unwrap_or("");
                if q.required && answer.is_empty() {
                    p.push(format!("answers.{}", q.id), "is required");
                } else if answer.chars().count() > 2000 {
                    p.push(format!("answers.{}", q.id), "must have at most 2000 characters");
                } else if !answer.is_empty() {
                    answers.push(BookingAnswer {
                        question_id: q.id.clone(),
                        question: q.text.clone(),
                        answer: answer.to_owned(),
                    });
                }
            }
            let places: Vec<String> = service
                .locations()
                .into_iter()
                .chain(provider.0.locations())
                .filter(|l| l.format == input.format)
                .map(|l| l.name)
                .collect();
            let location = match &input.location {
                Some(l) if places.contains(l) => l.clone(),
                Some(_) => {
                    p.push(
                        "location",
                        "is not a location of this format for this service or provider",
                    );
                    String::new()
                }
                None => places.first().cloned().unwrap_or_default(),
            };
            p.finish()?;
            let availability = availability.ok_or_else(not_certified)?;
            let (ends_at, (blocked_from, blocked_until)) = fits(&service, &availability, starts_at)?;
            let now = db::now();
            let row = BookingRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                service_id: service.id.clone(),
                provider_id: input.provider_id.to_string(),
                student_id: student.to_string(),
                format: format_name(input.format).to_owned(),
                location,
                answers: serde_json::to_string(&answers).expect("answers serialise"),
                starts_at: starts_at.naive_utc(),
                ends_at: ends_at.naive_utc(),
                blocked_from: blocked_from.naive_utc(),
                blocked_until: blocked_until.naive_utc(),
                status: "confirmed".into(),
                sequence: 0,
                cancelled_at: None,
                cancelled_by: None,
                cancel_reason: None,
                completed_at: None,
                created_by: me.to_string(),
                created_at: now,
                updated_at: now,
            };
            // Before the insert: a concurrent booking of this provider waits here for this one's
            // commit, then meets its row in the exclusion check as a plain conflict (a 409).
            // Without it, two overlapping inserts could each wait for the other inside the check,
            // a deadlock that PostgreSQL breaks after a second with an error.
            repo::slots_changed(conn, org, Bookings(&row.provider_id))?;
            data::insert(conn, &row)?;
            if waiting {
                data::stop_waiting(conn, &row.student_id, &row.provider_id)?;
            }
            let provider = provider.1;
            let shown = Shown {
                people: HashMap::from([
                    (row.student_id.clone(), student_who),
                    (
                        row.provider_id.clone(),
                        Who {
                            name: provider.name,
                            email: provider.email,
                            time_zone: provider.time_zone,
                        },
                    ),
                ]),
                services: HashMap::from([(service.id.clone(), service)]),
            };
            notify(conn, &company, &shown, &row, "booking_confirmed", "created")?;
            record(conn, &row, BOOKING_CREATED, "created")?;
            let booking = shown.booking(row);
            audit_admin(conn, &actor, admin, "booking.created", None, &booking)?;
            tracing::debug!(statements = db::statements() - statements, "booking created");
            Ok(booking)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/bookings/{}", booking.id)))
        .json(booking))
}

/// Bookings: admins see the organisation's, others the ones they are the student or provider of.
#[utoipa::path(
    tag = "booking",
    params(BookingsQuery),
    responses(
        (status = 200, description = "One page of bookings, by creation", body = BookingPage),
        (status = 400, description = "Bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/bookings")]
pub async fn list_bookings(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<BookingsQuery>,
) -> Result<web::Json<BookingPage>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let (org, me, admin) = (caller.org, caller.person.to_string(), caller.is_admin);
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let filter = data::Filter {
                    party: (!admin).then_some(me),
                    from: query.from.map(|t| t.naive_utc()),
                    to: query.to.map(|t| t.naive_utc()),
                    provider: query.provider_id,
                    student: query.student_id,
                    status: query.status.map(status_name),
                };
                let rows = data::page(conn, org, &filter, &page)?;
                let (rows, next_cursor) = page.finish(rows, |r| db::id(&r.id));
                Ok(BookingPage {
                    items: to_api(conn, rows)?,
                    next_cursor,
                })
            })
            .await?,
    ))
}

/// One booking (admins, its student and its provider).
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The booking", body = Booking),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such booking the caller may see", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/bookings/{id}")]
pub async fn get_booking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Booking>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                let row = visible(conn, &caller, id)?;
                Ok(to_api(conn, vec![row])?.remove(0))
            })
            .await?,
    ))
}

/// Tells the first student waiting for the provider on the freed day (in the provider's zone)
/// that a time is free, when the service keeps a waitlist.
fn offer_freed(conn: &mut DbConn, org: &Org, shown: &Shown, row: &BookingRow) -> Result<(), ApiError> {
    let Some(service) = shown.services.get(&row.service_id).filter(|s| s.waitlist) else {
        return Ok(());
    };
    let provider = shown.who(&row.provider_id);
    let zone = cohort_domain::tenancy::zone(provider.time_zone.as_deref().unwrap_or(&org.zone));
    let waiting: Vec<rules::Waiting<(), (String, String)>> = data::waiting(conn, &row.provider_id)?
        .into_iter()
        .map(|(id, student, date, joined)| rules::Waiting {
            provider: (),
            date,
            student: (id, student),
            joined_at: db::utc(joined),
        })
        .collect();
    let Some(first) = rules::first_waiting(&waiting, (), db::utc(row.starts_at), zone) else {
        return Ok(());
    };
    let (entry, student) = first.student.clone();
    let day = first.date;
    data::mark_offered(conn, &entry)?;
    let (name, email) = data::name_and_email(conn, &student)?;
    let starts = db::utc(row.starts_at).with_timezone(&zone);
    let context = json!({
        "organization": {"name": org.name},
        "recipient": {"first_name": first_name(&name), "name": name, "email": email},
        "program": {"name": ""},
        "link": format!("/services/{}/slots?from={day}&to={day}&provider_id={}", service.id, row.provider_id),
        "booking": {
            "service": service.name,
            "provider": provider.name,
            "starts_at": format!("{} ({})", starts.format("%A %-d %B %Y, %H:%M"), zone.name()),
            "location": row.location,
        },
    });
    queue_email_with(
        conn,
        db::id(&row.organization_id),
        "booking_slot_freed",
        &email,
        context,
        &format!("waitlist:{entry}:{}", row.id),
        &[],
    )?;
    Ok(())
}

/// Cancels a booking (its student, its provider or an admin). Inside the service's
/// late-cancellation window only an admin may cancel. Both people get an email with the
/// calendar cancellation; the first student on the waitlist for that provider and day is told.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The booking's id")),
    request_body = CancelBooking,
    responses(
        (status = 200, description = "The cancelled booking", body = Booking),
        (status = 400, description = "Malformed id or JSON", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Inside the late-cancellation window: an admin must cancel", body = Problem),
        (status = 404, description = "No such booking the caller may see", body = Problem),
        (status = 409, description = "The booking is cancelled or completed already", body = Problem),
        (status = 422, description = "The reason is too long", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/bookings/{id}/cancel")]
pub async fn cancel_booking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<CancelBooking>,
) -> Result<web::Json<Booking>, ApiError> {
    let reason = input
        .reason
        .as_deref()
        .map(|r| cohort_domain::bounded_text(r, 0, 500).map_err(|e| ApiError::invalid("reason", e)))
        .transpose()?;
    let (id, actor) = (id.into_inner(), caller.actor());
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                let mut row = visible(conn, &caller, id)?;
                if row.status != "confirmed" {
                    return Err(ApiError::Conflict(format!("The booking is {} already.", row.status)));
                }
                let hours = data::late_cancel_hours(conn, &row.service_id)?;
                let late =
                    rules::cancellation_is_late(u32::try_from(hours).unwrap_or(0), db::utc(row.starts_at), Utc::now());
                if late && !caller.is_admin {
                    return Err(ApiError::Forbidden(
                        "This is inside the late-cancellation window: ask an admin to cancel.",
                    ));
                }
                let now = db::now();
                row.status = "cancelled".into();
                row.sequence += 1;
                row.cancelled_at = Some(now);
                row.cancelled_by = Some(caller.person.to_string());
                row.cancel_reason = reason.filter(|r| !r.is_empty());
                row.updated_at = now;
                data::save_cancelled(conn, &row)?;
                let company = data::organization(conn, &row.organization_id)?;
                let shown = Shown::load(conn, std::slice::from_ref(&row))?;
                notify(conn, &company, &shown, &row, "booking_cancelled", "cancelled")?;
                record(conn, &row, BOOKING_CANCELLED, "cancelled")?;
                offer_freed(conn, &company, &shown, &row)?;
                let after = shown.booking(row);
                audit_admin(conn, &actor, caller.is_admin, "booking.cancelled", None, &after)?;
                repo::slots_changed(conn, caller.org, Bookings(&after.provider.id.to_string()))?;
                Ok(after)
            })
            .await?,
    ))
}

/// Moves a booking to another free slot of its service, optionally with another certified
/// provider (its student or an admin; inside the late-cancellation window, an admin). Both
/// people get the updated calendar entry; a freed day is offered to the waitlist.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The booking's id")),
    request_body = RescheduleBooking,
    responses(
        (status = 200, description = "The booking at its new time", body = Booking),
        (status = 400, description = "Malformed id or JSON", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not its student or an admin, or inside the late-cancellation window", body = Problem),
        (status = 404, description = "No such booking the caller may see", body = Problem),
        (status = 409, description = "The booking is cancelled or completed, or the new slot was just taken", body = Problem),
        (status = 422, description = "Not a free slot, or a provider not certified in the service", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/bookings/{id}/reschedule")]
pub async fn reschedule_booking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<RescheduleBooking>,
) -> Result<web::Json<Booking>, ApiError> {
    let (id, actor) = (id.into_inner(), caller.actor());
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                let before = visible(conn, &caller, id)?;
                if !caller.is_admin && before.student_id != caller.person.to_string() {
                    return Err(ApiError::Forbidden(
                        "Only the student or an admin reschedules a booking.",
                    ));
                }
                if before.status != "confirmed" {
                    return Err(ApiError::Conflict(format!("The booking is {} already.", before.status)));
                }
                let service = data::service(conn, &before.service_id)?;
                let late = rules::cancellation_is_late(
                    u32::try_from(service.late_cancel_hours).unwrap_or(0),
                    db::utc(before.starts_at),
                    Utc::now(),
                );
                if late && !caller.is_admin {
                    return Err(ApiError::Forbidden(
                        "This is inside the late-cancellation window: ask an admin to reschedule.",
                    ));
                }
                let provider = input.provider_id.unwrap_or_else(|| db::id(&before.provider_id));
                if provider.to_string() == before.student_id {
                    return Err(ApiError::field("provider_id", "cannot book themselves"));
                }
                if !data::is_certified(conn, &service.id, provider)? {
                    return Err(ApiError::field("provider_id", "is not certified in this service"));
                }
                let starts_at = input.starts_at.with_timezone(&Utc);
                let company = data::organization(conn, &service.organization_id)?;
                let (ends_at, (blocked_from, blocked_until)) =
                    check_slot(conn, (&service, &company.zone), provider, starts_at, Some(&before.id))?;
                let mut row = before.clone();
                row.provider_id = provider.to_string();
                row.starts_at = starts_at.naive_utc();
                row.ends_at = ends_at.naive_utc();
                row.blocked_from = blocked_from.naive_utc();
                row.blocked_until = blocked_until.naive_utc();
                row.sequence += 1;
                row.updated_at = db::now();
                // Before the update, for the reason `create_booking` gives; in one order, so that
                // two moves between the same providers cannot wait for each other.
                let mut moved = vec![before.provider_id.clone(), row.provider_id.clone()];
                moved.sort();
                moved.dedup();
                for provider in &moved {
                    repo::slots_changed(conn, caller.org, Bookings(provider))?;
                }
                data::save_moved(conn, &row)?;
                let cause = format!("rescheduled-{}", row.sequence);
                let shown = Shown::load(conn, &[before.clone(), row.clone()])?;
                if before.provider_id != row.provider_id {
                    // The first provider's calendar drops the appointment.
                    let mut gone = before.clone();
                    gone.status = "cancelled".into();
                    gone.sequence = row.sequence;
                    notify(conn, &company, &shown, &gone, "booking_cancelled", &cause)?;
                }
                notify(conn, &company, &shown, &row, "booking_confirmed", &cause)?;
                offer_freed(conn, &company, &shown, &before)?;
                let shown_before = shown.booking(before);
                let after = shown.booking(row);
                audit_admin(
                    conn,
                    &actor,
                    caller.is_admin,
                    "booking.rescheduled",
                    Some(&shown_before),
                    &after,
                )?;
                Ok(after)
            })
            .await?,
    ))
}

/// Marks a booking as held (its provider or an admin, once it has started). The session counts
/// as the people's first completed session where it is one: triggered steps react.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The completed booking", body = Booking),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not its provider or an admin", body = Problem),
        (status = 404, description = "No such booking the caller may see", body = Problem),
        (status = 409, description = "Not started yet, cancelled, or completed already", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/bookings/{id}/complete")]
pub async fn complete_booking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Booking>, ApiError> {
    let (id, actor) = (id.into_inner(), caller.actor());
    Ok(web::Json(
        state
            .db
            .write(move |conn| {
                let mut row = visible(conn, &caller, id)?;
                if !caller.is_admin && row.provider_id != caller.person.to_string() {
                    return Err(ApiError::Forbidden(
                        "Only the provider or an admin completes a booking.",
                    ));
                }
                if row.status != "confirmed" {
                    return Err(ApiError::Conflict(format!("The booking is {} already.", row.status)));
                }
                let now = db::now();
                if row.starts_at > now {
                    return Err(ApiError::Conflict("The booking has not started yet.".into()));
                }
                row.status = "completed".into();
                row.completed_at = Some(now);
                row.updated_at = now;
                data::save_completed(conn, &row)?;
                record(conn, &row, BOOKING_COMPLETED, "completed")?;
                first_session(conn, &row)?;
                let after = to_api(conn, vec![row])?.remove(0);
                audit_admin(conn, &actor, caller.is_admin, "booking.completed", None, &after)?;
                Ok(after)
            })
            .await?,
    ))
}

/// Fires `first_session_completed` for the student and the provider in every program they take
/// part in, when this is their first completed booking.
fn first_session(conn: &mut DbConn, row: &BookingRow) -> Result<(), ApiError> {
    for person in [&row.student_id, &row.provider_id] {
        if data::completed_count(conn, person)? != 1 {
            continue;
        }
        for (program, zone) in data::active_programs(conn, person)? {
            let memberships: Vec<_> =
                crate::programs::repo::memberships_of(conn, &program, std::slice::from_ref(person))?
                    .into_iter()
                    .filter(|m| m.status == "active")
                    .collect();
            crate::steps::delivery::fire(
                conn,
                &program,
                &zone,
                &memberships,
                cohort_domain::steps::Trigger::FirstSessionCompleted,
                row.completed_at.unwrap_or(row.updated_at),
            )?;
        }
    }
    Ok(())
}

/// Joins the waitlist for a provider on a day: when a booking of that provider that day is
/// cancelled, the first student waiting is told by email.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id")),
    request_body = JoinWaitlist,
    responses(
        (status = 204, description = "On the waitlist"),
        (status = 400, description = "Malformed id or JSON", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "The service takes enrolled students only", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
        (status = 409, description = "The service keeps no waitlist", body = Problem),
        (status = 422, description = "A provider not certified in the service, or a day in the past", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/services/{id}/waitlist")]
pub async fn join_waitlist(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<JoinWaitlist>,
) -> Result<HttpResponse, ApiError> {
    let (org, id, me) = (caller.org, id.into_inner(), caller.person);
    state
        .db
        .write(move |conn| {
            let service = repo::service(conn, org, id)?;
            if !service.waitlist {
                return Err(ApiError::Conflict("This service keeps no waitlist.".into()));
            }
            if !super::slots_repo::may_book(conn, &service.id, me)? {
                return Err(ApiError::Forbidden("This service takes enrolled students only."));
            }
            if !data::is_certified(conn, &service.id, input.provider_id)? {
                return Err(ApiError::field("provider_id", "is not certified in this service"));
            }
            if input.day < (Utc::now() - chrono::Duration::days(1)).date_naive() {
                return Err(ApiError::field("day", "is in the past"));
            }
            data::wait(conn, org, &service.id, input.provider_id, me, input.day)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates (or replaces) the caller's calendar feed address. Calendar apps subscribe to it; it
/// lists the caller's bookings as student and as provider. A new address ends the old one.
#[utoipa::path(
    tag = "booking",
    responses(
        (status = 201, description = "The new address, shown once", body = CalendarFeed),
        (status = 401, description = "Not authenticated", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/me/calendar-feed")]
pub async fn create_feed(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let token = random_token("cal_");
    let hash = token_hash(&token);
    let person = caller.person;
    state
        .db
        .write(move |conn| data::replace_feed(conn, person, hash))
        .await?;
    let info = request.connection_info();
    let url = format!("{}://{}/api/v1/calendar/{token}.ics", info.scheme(), info.host());
    Ok(crate::idempotency::secrets::holding_secrets(
        HttpResponse::Created().json(CalendarFeed { url }),
        &["url"],
    ))
}

/// A person's bookings as an iCalendar feed, for calendar apps; the address is the secret.
#[utoipa::path(
    tag = "booking",
    params(("token" = String, Path, description = "The secret of a feed address, with `.ics`")),
    responses(
        (status = 200, description = "The calendar", content_type = "text/calendar", body = String,
         example = json!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:0193b8a4@cohort\r\nSUMMARY:All available Peer Mentoring with Talia K\r\nDTSTART:20270315T130000Z\r\nDTEND:20270315T133000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")),
        (status = 404, description = "No such feed", body = Problem),
    ),
    security(())
)]
#[get("/calendar/{token}")]
pub async fn calendar_feed(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    if token.is_empty() || token.len() > 200 {
        return Err(ApiError::NotFound);
    }
    let hash = token_hash(token);
    let body = state
        .db
        .read(move |conn| {
            let person = data::feed_owner(conn, hash)?;
            let (org, org_name) = data::organization_of(conn, &person)?;
            let since = db::now() - chrono::Duration::days(90);
            let rows = data::feed(conn, &org, &person, since)?;
            let shown = to_api(conn, rows.clone())?;
            let entries: Vec<Appointment> = rows
                .iter()
                .zip(&shown)
                .map(|(row, b)| {
                    appointment(
                        row,
                        &b.service.name,
                        &(b.provider.name.clone(), b.provider.email.clone()),
                        &(b.student.name.clone(), b.student.email.clone()),
                        &b.provider.email,
                    )
                })
                .collect();
            Ok(ics(&org_name, Method::Publish, &entries))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(body))
}
