//! A person's bookings as an iCalendar feed at a secret address.

use super::*;

/// Creates (or replaces) the caller's calendar feed address. Calendar apps subscribe to it; it
/// lists the caller's bookings as student and as provider. A new address ends the old one.
#[utoipa::path(
    tag = "booking",
    responses(
        (status = 201, description = "The new address, shown once", body = CalendarFeed),
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

/// One booking as an iCalendar file, to add it to a calendar by hand (its student, its provider
/// and admins). A cancelled booking comes as a cancellation, so importing it removes the entry.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The booking's calendar entry, as a download", content_type = "text/calendar", body = String,
         example = json!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40@cohort\r\nSEQUENCE:0\r\nSUMMARY:All available Peer Mentoring with Talia K\r\nLOCATION:Zoom\r\nDTSTART:20270315T130000Z\r\nDTEND:20270315T133000Z\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")),
        (status = 404, description = "No such booking the caller may see", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/bookings/{id}/ics")]
pub async fn booking_ics(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = state
        .db
        .read(move |conn| {
            let row = visible(conn, &caller, id)?;
            let org_name = data::organization(conn, &row.organization_id)?.name;
            let b = to_api(conn, vec![row.clone()])?.remove(0);
            let entry = appointment(
                &row,
                &b.service.name,
                &(b.provider.name.clone(), b.provider.email.clone()),
                &(b.student.name.clone(), b.student.email.clone()),
                &b.provider.email,
            );
            let method = if row.status == "cancelled" {
                Method::Cancel
            } else {
                Method::Publish
            };
            Ok(ics(&org_name, method, &[entry]))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"booking-{id}.ics\""),
        ))
        .body(body))
}
