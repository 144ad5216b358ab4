//! The waitlist of a fully booked day.

use super::*;

/// Joins the waitlist for a provider on a day: when a booking of that provider that day is
/// cancelled, the first student waiting is told by email.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id")),
    request_body = JoinWaitlist,
    responses(
        (status = 204, description = "On the waitlist"),
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
            if !crate::booking::slots_repo::may_book(conn, &service.id, me)? {
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
