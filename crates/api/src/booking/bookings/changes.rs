//! Changes to a booking: cancelling (which offers the freed slot to the waitlist), rescheduling and
//! completing (which may mark a first session).

use super::*;

/// Tells the first student waiting for the provider on the freed day (in the provider's zone)
/// that a time is free, when the service keeps a waitlist.
pub(super) fn offer_freed(conn: &mut DbConn, org: &Org, shown: &Shown, row: &BookingRow) -> Result<(), ApiError> {
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
    data::mark_offered(conn, &entry)?;
    let (name, email) = data::name_and_email(conn, &student)?;
    let starts = db::utc(row.starts_at).with_timezone(&zone);
    let context = json!({
        "organization": {"name": org.name},
        "recipient": {"first_name": first_name(&name), "name": name, "email": email},
        "program": {"name": ""},
        "link": cohort_api_types::links::book(),
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
pub(super) fn first_session(conn: &mut DbConn, row: &BookingRow) -> Result<(), ApiError> {
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
