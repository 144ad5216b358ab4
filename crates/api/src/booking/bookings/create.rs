//! Booking a slot: the checks that it is free, bookable and within the rules, then the booking.

use super::*;

/// Why a start was refused, as the client sees it: another booking is a conflict (409), the
/// rest is bad input naming `starts_at`.
pub(super) fn refused(reason: NotBookable) -> ApiError {
    match reason {
        NotBookable::Conflicts => ApiError::Conflict(format!("This slot was just taken: {reason}.")),
        other => ApiError::field("starts_at", other.to_string()),
    }
}

/// The interval a booking keeps its provider busy, buffers included.
pub(super) type Blocked = (DateTime<Utc>, DateTime<Utc>);

/// Checks that `provider` may take a booking of `service` from `starts_at` (an existing booking
/// `except` aside); returns its end and the interval it blocks.
pub(super) fn check_slot(
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
pub(super) fn around(
    conn: &mut DbConn,
    (service, org_zone): (&ServiceRow, &str),
    provider: Uuid,
    starts_at: DateTime<Utc>,
) -> Result<(Vec<rules::Availability<Uuid>>, Vec<crate::booking::slots::Certified>), ApiError> {
    let margin = chrono::Duration::days(1);
    let (from, to) = (starts_at - margin, starts_at + service.rules().duration() + margin);
    crate::booking::slots::availability(
        conn,
        service,
        Some(provider),
        org_zone,
        from.naive_utc(),
        to.naive_utc(),
    )
}

pub(super) fn not_certified() -> ApiError {
    ApiError::field("provider_id", "is not certified in this service")
}

/// Whether a booking of `service` from `starts_at` fits `availability`: its end and the
/// interval it blocks.
pub(super) fn fits(
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
            let flow: Vec<_> = formats.iter().map(|f| (f.format, f.enabled)).collect();
            if !rules::format_offered(&flow, &service.formats(), &input.format) {
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
