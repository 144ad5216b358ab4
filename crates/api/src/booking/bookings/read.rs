//! A caller's bookings: the list with its filters, and one booking.

use super::*;

/// Bookings: admins see the organisation's, others the ones they are the student or provider of.
#[utoipa::path(
    tag = "booking",
    params(BookingsQuery),
    responses(
        (status = 200, description = "One page of bookings, by creation", body = BookingPage),
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

/// The caller's own bookings, as student and as provider, soonest first: those starting from
/// `from` (default: now). Admins see only their own here; `GET /bookings` lists everyone's.
#[utoipa::path(
    tag = "booking",
    params(MyBookingsQuery),
    responses(
        (status = 200, description = "One page of the caller's bookings, by start", body = BookingPage),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/bookings")]
pub async fn my_bookings(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<MyBookingsQuery>,
) -> Result<web::Json<BookingPage>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let (org, me) = (caller.org, caller.person.to_string());
    let from = query.from.map_or_else(db::now, |t| t.naive_utc());
    let status = query.status.map(status_name);
    Ok(web::Json(
        state
            .db
            .read(move |conn| {
                // The cursor names the last booking of the previous page; the next page starts after it.
                let after = match &page.after {
                    Some(id) => Some((
                        data::start_of_party(conn, org, &me, id)?
                            .ok_or_else(|| ApiError::BadRequest("cursor is not one this API returned".into()))?,
                        id.clone(),
                    )),
                    None => None,
                };
                let rows = data::party_by_start(conn, org, &me, (from, status), after, page.fetch())?;
                let (rows, next_cursor) = page.finish(rows, |r| db::id(&r.id));
                Ok(BookingPage {
                    items: to_api(conn, rows)?,
                    next_cursor,
                })
            })
            .await?,
    ))
}
