//! Bookings: made, cancelled, rescheduled and completed, each with its emails, calendar entries
//! and events; the waitlist; each person's calendar feed.
//!
//! No double booking, ever: a booking blocks its provider from its start minus the service's
//! buffer before to its end plus the buffer after. The booking transaction checks the requested
//! start against the provider's availability and bookings; on SQLite writers take turns, so the
//! check holds; on PostgreSQL concurrent transactions may both pass it, and the exclusion
//! constraint `bookings_no_overlap` refuses the second insert, which becomes a 409.

mod changes;
mod create;
mod feed;
mod read;
mod waitlist;

pub use changes::*;
pub use create::*;
pub use feed::*;
pub use read::*;
pub use waitlist::*;

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use cohort_api_types::{
    AppointmentFormat, Booking, BookingAnswer, BookingPage, BookingStatus, BookingsQuery, CalendarFeed, CancelBooking,
    CreateBooking, JoinWaitlist, MyBookingsQuery, Problem, RescheduleBooking,
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
    // A cancelled booking's student books another time ("Book another time"); everyone else
    // opens the booking.
    let link = |to: &Who| {
        if row.status == "cancelled" && to.email == student.email {
            cohort_api_types::links::book()
        } else {
            cohort_api_types::links::participant_booking(db::id(&row.id))
        }
    };
    let emails = [&student, &provider].map(|to| {
        let zone = cohort_domain::tenancy::zone(to.time_zone.as_deref().unwrap_or(&org.zone));
        let starts = db::utc(row.starts_at).with_timezone(&zone);
        let context = json!({
            "organization": {"name": org.name},
            "recipient": {"first_name": first_name(&to.name), "name": to.name, "email": to.email},
            "program": {"name": ""},
            "link": link(to),
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
